/* libFuzzer target for the dialog of control/dialog.c: an INVITE that
 * parses gives a dialog whose Request-URI and next hop lie in its remote
 * target or its Record-Route, a next hop that is an address or a named
 * refusal, and requests and Record-Route lines that fit exactly the room
 * they report and are refused one byte short of it.
 */
#include "control/dialog.h"
#include "tests/fuzz/fuzz.h"

static int
in_dialog(const struct dialog *d, struct sip_str v, const char *s, size_t n)
{
	return fuzz_within(v.p, v.n, d->target, strlen(d->target)) ||
	       fuzz_within(v.p, v.n, s, n);
}

static void
check_build(const struct dialog *d)
{
	static char out[SIP_MAX_RR * (DIALOG_MAX_URI + 64) + 1024];
	struct dialog_req rq = { "BYE", 2, "SIP/2.0/UDP 192.0.2.1:5060", "f1",
				 NULL, "v=0\r\n", 5 };
	int n = dialog_build(d, &rq, out, sizeof(out));

	if (n < 0)
		return;
	FUZZ_CHECK((size_t)n < sizeof(out) && out[n] == '\0');
	FUZZ_CHECK(dialog_build(d, &rq, out, (size_t)n) == -1);
}

/* The Record-Route lines of a 2xx: as long as dialog_rr_size says,
 * refused one byte short of their NUL.
 */
static void
check_rr(const struct sip_msg *m)
{
	size_t n = dialog_rr_size(m);
	char *out = malloc(n + 1);

	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(dialog_rr_lines(m, out, n + 1) == (int)n);
	FUZZ_CHECK(out[n] == '\0');
	FUZZ_CHECK(dialog_rr_lines(m, out, n) == -1);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size);
	struct sip_msg m;
	struct dialog d;
	struct dialog_route r;
	struct sip_peer hop;
	const char *why = NULL;
	int rc;

	memset(&d, 0, sizeof(d));
	if (sip_parse(s, size, &m, &why) != 0)
		goto out;
	check_rr(&m);
	if (dialog_init(&d, &m, "t1", &why) != 0)
		goto out;
	dialog_route(&d, &r);
	FUZZ_CHECK(in_dialog(&d, r.ruri, s, size));
	FUZZ_CHECK(in_dialog(&d, r.hop, s, size));
	FUZZ_CHECK(r.first <= d.n_route);
	rc = dialog_hop_addr(r.hop, &hop, &why);
	FUZZ_CHECK(rc == 0 || why != NULL);
	if (rc == 0)
		FUZZ_CHECK(hop.addr.sin_port != 0 && hop.tp <= SIP_TP_TLS);
	check_build(&d);
out:
	free(s);
	return 0;
}
