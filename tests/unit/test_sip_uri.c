/* Unit tests of SIP URI parsing and of the announcement parameters: the
 * play URL escaped and raw, the streaming profile's content parameters,
 * and the refusals, each input placed against a guard page.
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_uri.h"
#include "check.h"
#include "guard.h"

static int
uri_guarded(struct guard_buf *g, const char *s, struct sip_uri *u,
	    const char **why)
{
	size_t n = strlen(s);

	*why = "";
	return sip_uri_parse(guard_copy(g, s, n), n, u, why);
}

static void
test_uri_good(void)
{
	struct guard_buf g;
	struct sip_uri u;
	const char *why;

	CHECK_INT(uri_guarded(&g, "sip:annc@ms.example.net:5080;a=b;lr?x=y",
			      &u, &why), 0);
	CHECK_STRN(u.scheme.p, u.scheme.n, "sip");
	CHECK_STRN(u.user.p, u.user.n, "annc");
	CHECK_STRN(u.host.p, u.host.n, "ms.example.net");
	CHECK_INT(u.port, 5080);
	CHECK_STRN(u.params.p, u.params.n, "a=b;lr");
	CHECK_STRN(u.headers.p, u.headers.n, "x=y");
	guard_free(&g);

	CHECK_INT(uri_guarded(&g, "SIPS:[2001:db8::5]:65535", &u, &why), 0);
	CHECK_STRN(u.scheme.p, u.scheme.n, "SIPS");
	CHECK_INT(u.user.n, 0);
	CHECK_STRN(u.host.p, u.host.n, "2001:db8::5");
	CHECK_INT(u.port, 65535);
	CHECK_INT(u.params.n, 0);
	guard_free(&g);

	/* RFC 4475 section 3.1.1.3: the user part stays escaped. */
	CHECK_INT(uri_guarded(&g, "sip:sips%3Auser%40example.com@example.net",
			      &u, &why), 0);
	CHECK_STRN(u.user.p, u.user.n, "sips%3Auser%40example.com");
	CHECK_STRN(u.host.p, u.host.n, "example.net");
	guard_free(&g);

	/* RFC 4475 section 3.1.1.9: ';' belongs to the user part. */
	CHECK_INT(uri_guarded(&g, "sip:user;par=u%40example.net@example.com",
			      &u, &why), 0);
	CHECK_STRN(u.user.p, u.user.n, "user;par=u%40example.net");
	CHECK_STRN(u.host.p, u.host.n, "example.com");
	guard_free(&g);

	/* A password is not part of the user. */
	CHECK_INT(uri_guarded(&g, "sip:bob:secret@192.0.2.4;transport=tcp",
			      &u, &why), 0);
	CHECK_STRN(u.user.p, u.user.n, "bob");
	CHECK_STRN(u.host.p, u.host.n, "192.0.2.4");
	CHECK_STRN(u.params.p, u.params.n, "transport=tcp");
	guard_free(&g);

	/* No user part, and a raw play URL whose '@' must not be taken
	 * for the end of one.
	 */
	CHECK_INT(uri_guarded(&g, "sip:ms.example.net;play=imap://a@b/INBOX",
			      &u, &why), 0);
	CHECK_INT(u.user.n, 0);
	CHECK_STRN(u.host.p, u.host.n, "ms.example.net");
	CHECK_STRN(u.params.p, u.params.n, "play=imap://a@b/INBOX");
	guard_free(&g);
}

struct bad_uri {
	const char *uri;
	const char *why;
};

static const struct bad_uri bad_uris[] = {
	{ "annc@ms.example.net", "no URI scheme" },
	{ "", "no URI scheme" },
	{ "tel:+15551234", "unsupported URI scheme" },
	{ "http://ms.example.net/", "unsupported URI scheme" },
	{ "sip:", "bad host or port in URI" },
	{ "sip:annc@", "bad host or port in URI" },
	{ "sip:@ms", "bad user part in URI" },
	{ "sip:a%4@ms", "bad user part in URI" },
	{ "sip:a%G0@ms", "bad user part in URI" },
	{ "sip:ms:0", "bad host or port in URI" },
	{ "sip:ms:65536", "bad host or port in URI" },
	{ "sip:ms:99999999999999999999", "bad host or port in URI" },
	{ "sip:ms:", "bad host or port in URI" },
	{ "sip:[2001:db8::1", "bad host or port in URI" },
	{ "sip:[]", "bad host or port in URI" },
	{ "sip:[192.0.2.1]", "bad host or port in URI" },
	{ "sip:ms/x", "bad character after host in URI" },
	{ "sip:ms;a=b c", "bad character in URI" },
	{ "sip:ms;a=<b>", "bad character in URI" },
	{ "sip:ms;a=\"b\"", "bad character in URI" },
	{ "sip:ms?h=\x7f", "bad character in URI" },
};

static void
test_uri_bad(void)
{
	size_t n = sizeof(bad_uris) / sizeof(bad_uris[0]);
	struct guard_buf g;
	struct sip_uri u;
	const char *why;

	for (size_t i = 0; i < n; i++) {
		int rc = uri_guarded(&g, bad_uris[i].uri, &u, &why);

		if (rc != -1 || strcmp(why, bad_uris[i].why) != 0) {
			fprintf(stderr, "\"%s\": rc %d why \"%s\", want \"%s\"\n",
				bad_uris[i].uri, rc, why, bad_uris[i].why);
			check_failures++;
		}
		guard_free(&g);
	}
}

static void
test_param_find(void)
{
	struct sip_str params = { "lr;Transport=TCP;;maddr=x;ttl=", 30 };
	struct sip_str v;

	CHECK_INT(sip_param_find(params, "transport", &v), 1);
	CHECK_STRN(v.p, v.n, "TCP");
	CHECK_INT(sip_param_find(params, "LR", &v), 1);
	CHECK_INT(v.n, 0);
	CHECK_INT(sip_param_find(params, "ttl", &v), 1);
	CHECK_INT(v.n, 0);
	CHECK_INT(sip_param_find(params, "maddr", &v), 1);
	CHECK_STRN(v.p, v.n, "x");
	CHECK_INT(sip_param_find(params, "l", &v), 0);
	CHECK_INT(sip_param_find(params, "trans", &v), 0);
	CHECK_INT(sip_param_find((struct sip_str){ "", 0 }, "lr", &v), 0);
	/* what sip_uri_parse leaves for a URI without parameters */
	CHECK_INT(sip_param_find((struct sip_str){ NULL, 0 }, "lr", &v), 0);
}

static int
unescape_guarded(const char *s, char *out, size_t cap)
{
	struct guard_buf g;
	struct sip_str in = { NULL, strlen(s) };
	int n;

	in.p = guard_copy(&g, s, in.n);
	n = sip_unescape(in, out, cap);
	guard_free(&g);
	return n;
}

/* Escapes are decoded exactly once (RFC 4475 section 3.1.1.3). */
static void
test_unescape(void)
{
	char out[32];

	CHECK_INT(unescape_guarded("value%25%34%31", out, sizeof(out)), 8);
	CHECK(strcmp(out, "value%41") == 0);
	CHECK_INT(unescape_guarded("%2541", out, sizeof(out)), 3);
	CHECK(strcmp(out, "%41") == 0);
	CHECK_INT(unescape_guarded("a%3ab%3A", out, sizeof(out)), 4);
	CHECK(strcmp(out, "a:b:") == 0);
	CHECK_INT(unescape_guarded("", out, sizeof(out)), 0);
	CHECK_INT(unescape_guarded("%00", out, sizeof(out)), -1);
	CHECK_INT(unescape_guarded("%", out, sizeof(out)), -1);
	CHECK_INT(unescape_guarded("ab%4", out, sizeof(out)), -1);
	CHECK_INT(unescape_guarded("%g1", out, sizeof(out)), -1);
	CHECK_INT(unescape_guarded("abcd", out, 4), -1);
	CHECK_INT(unescape_guarded("abcd", out, 5), 4);
	CHECK_INT(unescape_guarded("abc", out, 0), -1);
}

#define ESCAPED_PLAY							\
	"sip:annc@ms.example.net;play=imap%3A%2F%2Falice%40127.0.0.1%3A1430" \
	"%2FINBOX%2F%3Buid%3D1%2F%3Bsection%3D2%3Burlauth%3Danonymous%3A"  \
	"internal%3A0123abcd;content-type=audio/basic;"			\
	"content-transfer-encoding=base64"

#define RAW_PLAY							\
	"sip:annc@ms.example.net;play=imap://alice@127.0.0.1:1430/INBOX/;" \
	"uid=1/;section=2;expire=2026-12-04T18:00:00Z;"			\
	"urlauth=anonymous:internal:0123abcd;content-type=audio/basic;"	\
	"content-transfer-encoding=base64"

static int
annc_guarded(const char *uri, char *buf, size_t cap, struct annc_params *ap,
	     const char **why)
{
	struct guard_buf g;
	struct sip_uri u;
	int rc;

	*why = "";
	rc = uri_guarded(&g, uri, &u, why);
	if (rc == 0)
		rc = annc_params_parse(&u, buf, cap, ap, why);
	/* The raw views point into the guarded copy: check them here. */
	if (rc == 0 && ap->content_type.n)
		CHECK_STRN(ap->content_type.p, ap->content_type.n, "audio/basic");
	if (rc == 0 && ap->cte.n)
		CHECK_STRN(ap->cte.p, ap->cte.n, "base64");
	guard_free(&g);
	return rc;
}

static void
test_annc_play_forms(void)
{
	struct annc_params ap;
	const char *why;
	char buf[256];

	CHECK_INT(annc_guarded(ESCAPED_PLAY, buf, sizeof(buf), &ap, &why), 0);
	CHECK(ap.play == buf);
	CHECK(strcmp(buf, "imap://alice@127.0.0.1:1430/INBOX/;uid=1/;"
		     "section=2;urlauth=anonymous:internal:0123abcd") == 0);
	CHECK_INT(ap.play_len, strlen(buf));
	CHECK_INT(ap.cte.n, 6);
	CHECK_INT(ap.content_type.n, 11);

	CHECK_INT(annc_guarded(RAW_PLAY, buf, sizeof(buf), &ap, &why), 0);
	CHECK(strcmp(buf, "imap://alice@127.0.0.1:1430/INBOX/;uid=1/;"
		     "section=2;expire=2026-12-04T18:00:00Z;"
		     "urlauth=anonymous:internal:0123abcd") == 0);
	CHECK_INT(ap.play_len, strlen(buf));
	CHECK_INT(ap.cte.n, 6);
	CHECK_INT(ap.content_type.n, 11);

	/* Names of the IMAP parts are case-insensitive; parameters before
	 * play are found too, and nothing after ;urlauth= is joined.
	 */
	CHECK_INT(annc_guarded("sip:annc@ms;content-type=audio/basic;"
			       "PLAY=imap://h/INBOX;UIDVALIDITY=9/;UID=3/;"
			       "SECTION=1.2;PARTIAL=0.100;URLAUTH=anonymous:"
			       "internal:ab;uid=7;repeat=forever",
			       buf, sizeof(buf), &ap, &why), 0);
	CHECK(strcmp(buf, "imap://h/INBOX;UIDVALIDITY=9/;UID=3/;SECTION=1.2;"
		     "PARTIAL=0.100;URLAUTH=anonymous:internal:ab") == 0);
	CHECK_INT(ap.repeat.n, 7);

	/* Escaped once only: %2541 is %41 in the play URL. */
	CHECK_INT(annc_guarded("sip:annc@ms;play=imap%3A%2F%2Fh%2FA%2541",
			       buf, sizeof(buf), &ap, &why), 0);
	CHECK(strcmp(buf, "imap://h/A%41") == 0);

	/* The raw form is unescaped once too: an IMAP URL's own escape
	 * travels as %25XX. */
	CHECK_INT(annc_guarded("sip:annc@ms;play=imap://h/my%2520box/;uid=1",
			       buf, sizeof(buf), &ap, &why), 0);
	CHECK(strcmp(buf, "imap://h/my%20box/;uid=1") == 0);

	/* Escaped except for ':' and '/', which RFC 3261 lets a parameter
	 * carry as they are: it is the escaped form, not the raw one. */
	CHECK_INT(annc_guarded("sip:annc@ms;play=imap://alice%40127.0.0.1:1430"
			       "/INBOX/%3BUID%3D1/%3BSECTION%3D2%3BURLAUTH%3D"
			       "anonymous:internal:ab;content-type=audio/basic",
			       buf, sizeof(buf), &ap, &why), 0);
	CHECK(strcmp(buf, "imap://alice@127.0.0.1:1430/INBOX/;UID=1/;"
		     "SECTION=2;URLAUTH=anonymous:internal:ab") == 0);
}

/* RFC 4240 section 3: the remaining parameters are read as they are,
 * unknown ones ignored.
 */
static void
test_annc_rfc4240(void)
{
	struct guard_buf g;
	struct annc_params ap;
	struct sip_uri u;
	const char *why;
	char buf[64];
	const char *uri = "sip:annc@ms;play=file%3A%2F%2Fa.au;repeat=3;"
			  "delay=500;duration=20000;locale=en_US;x-foo=bar";

	CHECK_INT(uri_guarded(&g, uri, &u, &why), 0);
	CHECK_INT(annc_params_parse(&u, buf, sizeof(buf), &ap, &why), 0);
	CHECK(strcmp(buf, "file://a.au") == 0);
	CHECK_STRN(ap.repeat.p, ap.repeat.n, "3");
	CHECK_STRN(ap.delay.p, ap.delay.n, "500");
	CHECK_STRN(ap.duration.p, ap.duration.n, "20000");
	CHECK_STRN(ap.locale.p, ap.locale.n, "en_US");
	CHECK_INT(ap.content_type.n, 0);
	CHECK_INT(ap.cte.n, 0);
	guard_free(&g);
}

/* RFC 4240 section 3.3 values at their edges: counts from 1 and
 * "forever" capped by max_repeat (here 50), milliseconds within their
 * limits, each parameter once.
 */
struct play_case {
	const char *params;
	int rc;
	uint32_t plays, delay_ms, duration_ms;
	int forever;
	const char *why;
};

static const struct play_case play_cases[] = {
	{ "", 0, 1, 0, 0, 0, NULL },
	{ ";repeat=1", 0, 1, 0, 0, 0, NULL },
	{ ";repeat=3;delay=500", 0, 3, 500, 0, 0, NULL },
	{ ";REPEAT=50", 0, 50, 0, 0, 0, NULL },
	{ ";repeat=51", 0, 50, 0, 0, 0, NULL },
	{ ";repeat=999999999", 0, 50, 0, 0, 0, NULL },
	{ ";repeat=Forever", 0, 50, 0, 0, 1, NULL },
	{ ";delay=0;duration=1", 0, 1, 0, 1, 0, NULL },
	{ ";delay=3600000;duration=999999999", 0, 1, 3600000, 999999999, 0,
	  NULL },
	{ ";repeat=0", -1, 0, 0, 0, 0, "Bad repeat parameter: 0" },
	{ ";repeat=often", -1, 0, 0, 0, 0, "Bad repeat parameter: often" },
	{ ";repeat", -1, 0, 0, 0, 0, "Bad repeat parameter: " },
	{ ";repeat=1000000000", -1, 0, 0, 0, 0,
	  "Bad repeat parameter: 1000000000" },
	{ ";repeat=-1", -1, 0, 0, 0, 0, "Bad repeat parameter: -1" },
	{ ";delay=-1", -1, 0, 0, 0, 0, "Bad delay parameter: -1" },
	{ ";delay=3600001", -1, 0, 0, 0, 0, "Bad delay parameter: 3600001" },
	{ ";duration=1s", -1, 0, 0, 0, 0, "Bad duration parameter: 1s" },
	{ ";duration=0", -1, 0, 0, 0, 0, "Bad duration parameter: 0" },
	{ ";duration=1000000000", -1, 0, 0, 0, 0,
	  "Bad duration parameter: 1000000000" },
	{ ";repeat=2;repeat=2", -1, 0, 0, 0, 0,
	  "Bad repeat parameter: given twice" },
	{ ";delay=1;Delay=2", -1, 0, 0, 0, 0, "Bad delay parameter: given twice" },
	{ ";locale=en;locale=fr", -1, 0, 0, 0, 0,
	  "Bad locale parameter: given twice" },
	{ ";param9=a;param9=b", -1, 0, 0, 0, 0,
	  "Bad param9 parameter: given twice" },
	{ ";repeat=x;repeat=y", -1, 0, 0, 0, 0,
	  "Bad repeat parameter: given twice" },
	{ ";Play=b", -1, 0, 0, 0, 0, "Bad play parameter: given twice" },
	{ ";content-type=a;content-type=b", -1, 0, 0, 0, 0,
	  "Bad content-type parameter: given twice" },
	{ ";content-transfer-encoding=a;content-transfer-encoding=a", -1, 0,
	  0, 0, 0, "Bad content-transfer-encoding parameter: given twice" },
	{ ";repeat=12345678901234567890123456789012345678901234567890", -1, 0,
	  0, 0, 0, "Bad repeat parameter: 12345678901234567890123456789012" },
};

static void
test_annc_play(void)
{
	size_t n = sizeof(play_cases) / sizeof(play_cases[0]);
	struct annc_params ap;
	struct annc_play pl;
	struct guard_buf g;
	struct sip_uri u;
	const char *why;
	char buf[64], uri[160], reason[64];

	for (size_t i = 0; i < n; i++) {
		const struct play_case *pc = &play_cases[i];
		int rc;

		snprintf(uri, sizeof(uri), "sip:annc@ms;play=a%s", pc->params);
		CHECK_INT(uri_guarded(&g, uri, &u, &why), 0);
		CHECK_INT(annc_params_parse(&u, buf, sizeof(buf), &ap, &why), 0);
		reason[0] = '\0';
		rc = annc_play_parse(&ap, 50, &pl, reason, sizeof(reason));
		guard_free(&g);
		if (rc != pc->rc || (rc == 0 && (pl.plays != pc->plays ||
		    pl.delay_ms != pc->delay_ms ||
		    pl.duration_ms != pc->duration_ms ||
		    pl.forever != pc->forever)) ||
		    (rc < 0 && strcmp(reason, pc->why) != 0)) {
			fprintf(stderr, "\"%s\": rc %d plays %u delay %u "
				"duration %u reason \"%s\"\n", pc->params, rc,
				pl.plays, pl.delay_ms, pl.duration_ms, reason);
			check_failures++;
		}
	}
}

/* locale and param1 to param9 are kept raw for the call's log line. */
static void
test_annc_locale_params(void)
{
	struct annc_params ap;
	const char *why;
	char buf[64];
	struct guard_buf g;
	struct sip_uri u;
	const char *uri = "sip:annc@ms;play=a;param1=x;PARAM9=nine;"
			  "param10=no;locale=fr_CA";

	CHECK_INT(uri_guarded(&g, uri, &u, &why), 0);
	CHECK_INT(annc_params_parse(&u, buf, sizeof(buf), &ap, &why), 0);
	CHECK_STRN(ap.param[0].p, ap.param[0].n, "x");
	CHECK_STRN(ap.param[8].p, ap.param[8].n, "nine");
	CHECK(ap.param[1].p == NULL);
	CHECK_STRN(ap.locale.p, ap.locale.n, "fr_CA");
	CHECK(ap.repeated == NULL);
	guard_free(&g);
}

static const struct bad_uri bad_annc[] = {
	{ "sip:annc@ms;content-type=audio/basic", "missing play parameter" },
	{ "sip:annc@ms", "missing play parameter" },
	{ "sip:annc@ms;player=x", "missing play parameter" },
	{ "sip:annc@ms;play=", "empty play parameter" },
	{ "sip:annc@ms;play", "empty play parameter" },
	{ "sip:annc@ms;play=imap%3A%2F%2Fh%2F%00x",
	  "escaped NUL in play parameter" },
	{ "sip:annc@ms;play=imap://h/%00x", "escaped NUL in play parameter" },
	{ "sip:annc@ms;play=imap%3A%2F%2Fh%2F%2x", "bad escape in play parameter" },
	{ "sip:annc@ms;play=imap%3A%2F%2Fh%2F%2", "bad escape in play parameter" },
	{ "sip:annc@ms;play=imap://h/%x1", "bad escape in play parameter" },
	{ "sip:annc@ms;play=imap%3A%2F%2Fexample.com%2Ftoo-long-for-sixteen",
	  "play parameter too long" },
	{ "sip:annc@ms;play=imap://example.com/too-long-for-sixteen",
	  "play parameter too long" },
};

static void
test_annc_bad(void)
{
	size_t n = sizeof(bad_annc) / sizeof(bad_annc[0]);
	struct annc_params ap;
	const char *why;
	char buf[16];

	for (size_t i = 0; i < n; i++) {
		int rc = annc_guarded(bad_annc[i].uri, buf, sizeof(buf), &ap,
				      &why);

		if (rc != -1 || strcmp(why, bad_annc[i].why) != 0) {
			fprintf(stderr, "\"%s\": rc %d why \"%s\", want \"%s\"\n",
				bad_annc[i].uri, rc, why, bad_annc[i].why);
			check_failures++;
		}
	}
}

/* Every prefix of both play forms parses cleanly or fails cleanly. */
static void
test_prefixes(const char *uri)
{
	size_t len = strlen(uri);
	struct guard_buf g;
	struct annc_params ap;
	struct sip_uri u;
	const char *why;
	char buf[256];

	for (size_t n = 0; n <= len; n++) {
		const char *p = guard_copy(&g, uri, n);

		if (sip_uri_parse(p, n, &u, &why) == 0)
			(void)annc_params_parse(&u, buf, sizeof(buf), &ap, &why);
		guard_free(&g);
	}
}

/* The fuzz target's first find: a URI without parameters has a NULL
 * params view, and looking for play= in it computed NULL + 0, undefined
 * behaviour that clang's UBSan stops on.
 */
static void
test_annc_no_params(void)
{
	static const char uri[] = "SIPS:[2001:db8::5]:65535";
	struct guard_buf g;
	struct annc_params ap;
	struct sip_uri u;
	const char *why = "";
	char buf[64];

	CHECK_INT(sip_uri_parse(guard_copy(&g, uri, sizeof(uri) - 1),
				sizeof(uri) - 1, &u, &why), 0);
	CHECK_INT(annc_params_parse(&u, buf, sizeof(buf), &ap, &why), -1);
	CHECK(strcmp(why, "missing play parameter") == 0);
	guard_free(&g);
}

int
main(void)
{
	test_uri_good();
	test_uri_bad();
	test_param_find();
	test_unescape();
	test_annc_play_forms();
	test_annc_rfc4240();
	test_annc_bad();
	test_annc_play();
	test_annc_locale_params();
	test_annc_no_params();
	test_prefixes(ESCAPED_PLAY);
	test_prefixes(RAW_PLAY);
	return CHECK_DONE();
}
