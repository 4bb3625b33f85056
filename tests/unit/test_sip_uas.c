/* The request screening of a user agent server (control/sip_uas.c) and the
 * parser's reading past a broken request line or header, which the
 * screening and the 400 rely on: RFC 3261 section 8.2 and the RFC 4475
 * cases about it (sections 3.1.2.16, 3.3.2, 3.3.3, 3.3.5, 3.3.6, 3.3.15).
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_msg.h"
#include "control/sip_uas.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define TAIL	"Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKuas\r\n" \
		"From: <sip:a@192.0.2.5>;tag=f1\r\n" \
		"To: <sip:annc@192.0.2.1>\r\n" \
		"Call-ID: uas-1\r\n"

static struct guard_buf g;

/* Parses msg from a guarded copy; the views stay valid until the next. */
static int
parse(const char *msg, struct sip_msg *m, const char **why)
{
	size_t len = strlen(msg);

	if (g.map != NULL)
		guard_free(&g);
	return sip_parse(guard_copy(&g, msg, len), len, m, why);
}

/* msg parsed, which must succeed, for a check of the server to look at. */
static const struct sip_msg *
parsed(const char *msg)
{
	static struct sip_msg m;
	const char *why = NULL;

	CHECK_INT(parse(msg, &m, &why), 0);
	return &m;
}

static int
screen(const char *msg, const char **reason, char *extra, size_t cap)
{
	return sip_uas_screen(parsed(msg), reason, extra, cap);
}

static void
test_scheme(void)
{
	char extra[128];
	const char *reason = NULL;

	CHECK_INT(screen("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "CSeq: 1 OPTIONS\r\n\r\n", &reason, extra,
			 sizeof(extra)), 0);
	CHECK_INT(screen("OPTIONS SIPS:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "CSeq: 1 OPTIONS\r\n\r\n", &reason, extra,
			 sizeof(extra)), 0);
	CHECK_INT(screen("OPTIONS nobodyKnowsThisScheme:opaque SIP/2.0\r\n"
			 TAIL "CSeq: 1 OPTIONS\r\n\r\n", &reason, extra,
			 sizeof(extra)), 416);
	CHECK(strcmp(reason, "Unsupported URI Scheme") == 0);
	CHECK_INT(screen("INVITE tel:+15551234567 SIP/2.0\r\n" TAIL
			 "CSeq: 1 INVITE\r\n\r\n", &reason, extra,
			 sizeof(extra)), 416);
	/* "sip:" alone names nobody: not a SIP URI either. */
	CHECK_INT(screen("OPTIONS sip: SIP/2.0\r\n" TAIL
			 "CSeq: 1 OPTIONS\r\n\r\n", &reason, extra,
			 sizeof(extra)), 416);
}

static void
test_require(void)
{
	char extra[128], tiny[24];
	const char *reason = NULL;

	CHECK_INT(screen("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: foo, bar\r\nRequire:  baz \r\n"
			 "Proxy-Require: notours\r\n"
			 "CSeq: 1 OPTIONS\r\n\r\n", &reason, extra,
			 sizeof(extra)), 420);
	CHECK(strcmp(reason, "Bad Extension") == 0);
	CHECK(strcmp(extra, "Unsupported: foo, bar, baz\r\n") == 0);
	/* A list too long for the buffer is cut, the 420 stays. */
	CHECK_INT(screen("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: abcdefgh, ijklmnop, qrstuvwx\r\n"
			 "CSeq: 1 OPTIONS\r\n\r\n", &reason, tiny,
			 sizeof(tiny)), 420);
	CHECK(strcmp(tiny, "Unsupported: abcdefgh\r\n") == 0);
	/* ACK and CANCEL are never refused for Require (section 8.2.2.3). */
	CHECK_INT(screen("CANCEL sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: foo\r\nCSeq: 1 CANCEL\r\n\r\n", &reason,
			 extra, sizeof(extra)), 0);
	CHECK_INT(screen("ACK sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: foo\r\nCSeq: 1 ACK\r\n\r\n", &reason,
			 extra, sizeof(extra)), 0);
	CHECK_INT(screen("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: \r\nCSeq: 1 OPTIONS\r\n\r\n", &reason,
			 extra, sizeof(extra)), 0);
	/* timer is ours (RFC 4028 section 7.1), the rest still refused. */
	CHECK_INT(screen("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: Timer\r\nCSeq: 1 INVITE\r\n\r\n", &reason,
			 extra, sizeof(extra)), 0);
	CHECK_INT(screen("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			 "Require: timer, 100rel\r\nCSeq: 1 INVITE\r\n\r\n",
			 &reason, extra, sizeof(extra)), 420);
	CHECK(strcmp(extra, "Unsupported: 100rel\r\n") == 0);
}

static int
body(const char *msg, const char **reason, char *extra, size_t cap)
{
	return sip_uas_check_body(parsed(msg), reason, extra, cap);
}

static void
test_body(void)
{
	char extra[128];
	const char *reason = NULL;

	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\nContent-Type: Application/SDP\r\n"
		       "Content-Length: 4\r\n\r\nv=0\n", &reason, extra,
		       sizeof(extra)), 0);
	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\n"
		       "Content-Type: application/unknownformat\r\n"
		       "Content-Length: 7\r\n\r\n<audio>", &reason, extra,
		       sizeof(extra)), 415);
	CHECK(strcmp(extra, "Accept: application/sdp\r\n") == 0);
	/* No body: nothing to refuse (a late offer). */
	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		       &reason, extra, sizeof(extra)), 0);
	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\nAccept: text/nobodyKnowsThis\r\n"
		       "Content-Length: 0\r\n\r\n", &reason, extra,
		       sizeof(extra)), 406);
	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\nAccept: text/plain\r\n"
		       "Accept: application/*;q=0.5\r\n"
		       "Content-Length: 0\r\n\r\n", &reason, extra,
		       sizeof(extra)), 0);
	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\nAccept: */*\r\n"
		       "Content-Length: 0\r\n\r\n", &reason, extra,
		       sizeof(extra)), 0);
	/* An empty Accept admits nothing (RFC 3261 section 20.1). */
	CHECK_INT(body("INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
		       "CSeq: 1 INVITE\r\nAccept:\r\n"
		       "Content-Length: 0\r\n\r\n", &reason, extra,
		       sizeof(extra)), 406);
}

/* What a 400 or 505 needs is read even when the start line or a header
 * before it is broken; the first rule broken is the one reported.
 */
static void
test_read_past_errors(void)
{
	struct sip_msg m;
	const char *why = NULL;

	CHECK_INT(parse("OPTIONS sip:annc@192.0.2.1 SIP/7.0\r\n" TAIL
			"CSeq: 1 OPTIONS\r\n\r\n", &m, &why), -1);
	CHECK_INT(m.fail_code, 505);
	CHECK(strcmp(why, "unsupported SIP version") == 0);
	CHECK_STRN(m.call_id.p, m.call_id.n, "uas-1");
	CHECK_INT(m.n_via, 1);

	CHECK_INT(parse("INVITE  sip:annc@192.0.2.1 SIP/2.0\r\n" TAIL
			"CSeq: 1 INVITE\r\n\r\n", &m, &why), -1);
	CHECK_INT(m.fail_code, 400);
	CHECK(strcmp(why, "bad request line") == 0);
	CHECK_STRN(m.cseq_value.p, m.cseq_value.n, "1 INVITE");

	/* RFC 4475 section 3.1.2.4: a CSeq over 2^32 - 1 is a 400 that
	 * still copies it. */
	CHECK_INT(parse("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n"
			"CSeq: 36893488147419103232 OPTIONS\r\n" TAIL "\r\n",
			&m, &why), -1);
	CHECK(strcmp(why, "bad CSeq") == 0);
	CHECK_STRN(m.cseq_value.p, m.cseq_value.n,
		   "36893488147419103232 OPTIONS");
	CHECK_STRN(m.call_id.p, m.call_id.n, "uas-1");

	/* RFC 4475 section 3.1.2.15: a display name with a comma. */
	CHECK_INT(parse("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKuas\r\n"
			"From: Bell, Alexander <sip:a@192.0.2.5>;tag=f1\r\n"
			"To: <sip:annc@192.0.2.1>\r\nCall-ID: uas-1\r\n"
			"CSeq: 1 OPTIONS\r\n\r\n", &m, &why), -1);
	CHECK(strcmp(why, "bad From") == 0);
	CHECK_INT(parse("OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKuas\r\n"
			"From: Bell Alexander <sip:a@192.0.2.5>;tag=f1\r\n"
			"To: <sip:annc@192.0.2.1>\r\nCall-ID: uas-1\r\n"
			"CSeq: 1 OPTIONS\r\n\r\n", &m, &why), 0);
}

int
main(void)
{
	test_scheme();
	test_require();
	test_body();
	test_read_past_errors();
	if (g.map != NULL)
		guard_free(&g);
	return CHECK_DONE();
}
