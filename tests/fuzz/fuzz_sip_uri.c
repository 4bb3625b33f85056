/* libFuzzer target for SIP URIs and the announcement parameters
 * (control/sip_uri.c): a Request-URI either parses into views that stay
 * inside it or is refused; the play URL of one that parses is unescaped
 * into a buffer of exactly the room it may need, then into one byte too
 * little, which must be refused rather than overrun.
 */
#include "control/sip_uri.h"
#include "tests/fuzz/fuzz.h"

static void
check_uri(const struct sip_uri *u, const char *s, size_t n)
{
	FUZZ_CHECK(fuzz_within(u->scheme.p, u->scheme.n, s, n));
	FUZZ_CHECK(fuzz_within(u->user.p, u->user.n, s, n));
	FUZZ_CHECK(fuzz_within(u->host.p, u->host.n, s, n));
	FUZZ_CHECK(fuzz_within(u->params.p, u->params.n, s, n));
	FUZZ_CHECK(fuzz_within(u->headers.p, u->headers.n, s, n));
}

/* Unescapes v into exactly its own length plus the NUL, the most it can
 * take, and when that works, into one byte less than the result needs.
 */
static void
check_unescape(struct sip_str v)
{
	char *out = malloc(v.n + 1);
	int n;

	FUZZ_CHECK(out != NULL);
	n = sip_unescape(v, out, v.n + 1);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n <= v.n && out[n] == '\0');
		FUZZ_CHECK(sip_unescape(v, out, (size_t)n) == -1);
	}
	free(out);
}

/* repeat, delay and duration read within their limits, or a reason that
 * names the parameter.
 */
static void
check_play(const struct annc_params *ap)
{
	struct annc_play pl;
	char reason[96];

	if (annc_play_parse(ap, 100, &pl, reason, sizeof(reason)) == 0) {
		FUZZ_CHECK(pl.plays >= 1 && pl.plays <= 100);
		FUZZ_CHECK(pl.delay_ms <= ANNC_MAX_DELAY_MS);
		FUZZ_CHECK(pl.duration_ms <= ANNC_MAX_DURATION_MS);
	} else {
		FUZZ_CHECK(strncmp(reason, "Bad ", 4) == 0);
	}
}

static void
check_annc(const struct sip_uri *u, const char *s, size_t n)
{
	const struct sip_str *v[6];
	struct annc_params ap;
	const char *why = NULL;
	char *buf = malloc(n + 1);

	FUZZ_CHECK(buf != NULL);
	if (annc_params_parse(u, buf, n + 1, &ap, &why) != 0) {
		FUZZ_CHECK(why != NULL);
		goto out;
	}
	FUZZ_CHECK(ap.play == buf && ap.play_len > 0 && ap.play_len <= n);
	FUZZ_CHECK(buf[ap.play_len] == '\0');
	v[0] = &ap.content_type;
	v[1] = &ap.cte;
	v[2] = &ap.repeat;
	v[3] = &ap.delay;
	v[4] = &ap.duration;
	v[5] = &ap.locale;
	for (size_t i = 0; i < 6; i++)
		FUZZ_CHECK(fuzz_within(v[i]->p, v[i]->n, s, n));
	for (size_t i = 0; i < ANNC_NPARAMS; i++)
		FUZZ_CHECK(fuzz_within(ap.param[i].p, ap.param[i].n, s, n));
	check_play(&ap);
	/* the same URI with no room for the URL's last byte */
	FUZZ_CHECK(annc_params_parse(u, buf, ap.play_len, &ap, &why) == -1);

out:
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size);
	struct sip_uri u;
	struct sip_str val;
	const char *why = NULL;

	if (sip_uri_parse(s, size, &u, &why) == 0) {
		check_uri(&u, s, size);
		check_unescape(u.user);
		if (sip_param_find(u.params, "transport", &val))
			FUZZ_CHECK(fuzz_within(val.p, val.n, s, size));
		check_annc(&u, s, size);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	free(s);
	return 0;
}
