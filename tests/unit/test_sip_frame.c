/* The stream framer (control/sip_frame.c): a message split at every byte
 * boundary, several in one buffer, keep-alives between them, a missing,
 * bad or conflicting Content-Length with the value it quotes, and the
 * message limit at its edge for the header section and for the body.
 * Inputs end at a guard page.
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_frame.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define MAX	1024

static const char opts[] =
	"OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 192.0.2.5;branch=z9hG4bK1\r\n"
	"Content-Length : 5\r\n"
	"\r\n"
	"hello";

static int
frame(const char *s, size_t len, size_t max, struct sip_frame *f,
      const char **why)
{
	struct guard_buf g;
	int rc = sip_frame_next(guard_copy(&g, s, len), len, max, f, why);

	guard_free(&g);
	return rc;
}

/* Every prefix needs more; the whole message is one frame. */
static void
test_every_split(void)
{
	size_t n = strlen(opts), i;
	struct sip_frame f;
	const char *why = NULL;

	for (i = 1; i < n; i++)
		CHECK_INT(frame(opts, i, MAX, &f, &why), 0);
	CHECK_INT(frame(opts, n, MAX, &f, &why), 1);
	CHECK_INT(f.skip, 0);
	CHECK_INT(f.len, n);
}

/* Two messages and keep-alives in one buffer, consumed in turn. */
static void
test_back_to_back(void)
{
	char buf[1024];
	const char *p = buf, *why = NULL;
	struct sip_frame f;
	size_t left;

	left = (size_t)snprintf(buf, sizeof(buf), "\r\n\r\n%s\r\n%s\r\n\r\n",
				opts, opts);
	CHECK_INT(frame(p, left, MAX, &f, &why), 1);
	CHECK_INT(f.skip, 4);
	CHECK_INT(f.pings, 1);
	CHECK_INT(f.len, strlen(opts));
	p += f.skip + f.len;
	left = strlen(p);
	/* A lone CRLF is ignored, no ping. */
	CHECK_INT(frame(p, left, MAX, &f, &why), 1);
	CHECK_INT(f.skip, 2);
	CHECK_INT(f.pings, 0);
	CHECK_INT(f.len, strlen(opts));
	p += f.skip + f.len;
	left = strlen(p);
	CHECK_INT(frame(p, left, MAX, &f, &why), 0);
	CHECK_INT(f.skip, 4);
	CHECK_INT(f.pings, 1);
	/* Half a ping waits for the rest. */
	CHECK_INT(frame("\r\n\r", 3, MAX, &f, &why), 0);
	CHECK_INT(f.skip, 0);
	CHECK_INT(f.pings, 0);
}

/* A fault: its rule, the value it quotes, and whether the header
 * section is given for a 400 (its length, up to the empty line). */
static void
expect_fault(const char *s, size_t max, const char *want,
	     const char *detail, int answerable)
{
	const char *eoh = strstr(s, "\r\n\r\n");
	struct sip_frame f;
	const char *why = NULL;

	CHECK_INT(frame(s, strlen(s), max, &f, &why), -1);
	CHECK(why != NULL && strcmp(why, want) == 0);
	if (why != NULL && strcmp(why, want) != 0)
		fprintf(stderr, "  why \"%s\", want \"%s\"\n", why, want);
	CHECK(strcmp(f.detail, detail) == 0);
	if (strcmp(f.detail, detail) != 0)
		fprintf(stderr, "  detail \"%s\", want \"%s\"\n", f.detail,
			detail);
	CHECK_INT(f.hlen, answerable ? (size_t)(eoh + 4 - s) : 0);
}

static void
expect_bad(const char *s, size_t max, const char *want)
{
	expect_fault(s, max, want, "", 0);
}

static void
test_bad_length(void)
{
	expect_fault("BYE sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n", MAX,
		     "missing Content-Length", "", 1);
	expect_fault("BYE sip:a SIP/2.0\r\nContent-Length: x1\r\n\r\n", MAX,
		     "bad Content-Length", "x1", 1);
	expect_fault("BYE sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n", MAX,
		     "bad Content-Length", "-1", 1);
	expect_fault("BYE sip:a SIP/2.0\r\nContent-Length:  1 2 \r\n\r\n",
		     MAX, "bad Content-Length", "1 2", 1);
	expect_fault("BYE sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n",
		     MAX, "conflicting Content-Length", "2", 1);
	/* Bytes a reason phrase cannot carry are masked, a long value
	 * cut to the room. */
	expect_fault("BYE sip:a SIP/2.0\r\nContent-Length: 1\x01\xff\r\n\r\n",
		     MAX, "bad Content-Length", "1??", 1);
	expect_fault("BYE sip:a SIP/2.0\r\nContent-Length: "
		     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		     "\r\n\r\n", MAX, "bad Content-Length",
		     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr...", 1);
	expect_bad("\x16\x03\x01 a TLS hello on the TCP port", MAX,
		   "garbage where a start-line should be");
	expect_bad("\r\n\n", MAX, "garbage where a start-line should be");
}

/* The compact form and a repeat with the same value are fine. */
static void
test_compact(void)
{
	static const char s[] =
		"SIP/2.0 200 OK\r\nl: 2\r\ncontent-length:2\r\n\r\nab";
	struct sip_frame f;
	const char *why = NULL;

	CHECK_INT(frame(s, strlen(s), MAX, &f, &why), 1);
	CHECK_INT(f.len, strlen(s));
}

/* A message of exactly max bytes passes, one more fails; a header
 * section without its empty line fails once max bytes are in. */
static void
test_limit_edge(void)
{
	static char s[MAX + 64];
	size_t hlen, body;
	struct sip_frame f;
	const char *why = NULL;
	int n;

	n = snprintf(s, sizeof(s), "INVITE sip:a SIP/2.0\r\n"
		     "Content-Length: %4u\r\n\r\n", 0u);
	hlen = (size_t)n;
	body = MAX - hlen;
	snprintf(s, sizeof(s), "INVITE sip:a SIP/2.0\r\n"
		 "Content-Length: %4zu\r\n\r\n", body);
	memset(s + hlen, 'b', body);
	CHECK_INT(frame(s, MAX, MAX, &f, &why), 1);
	CHECK_INT(f.len, MAX);
	CHECK_INT(frame(s, MAX - 1, MAX, &f, &why), 0);
	snprintf(s, sizeof(s), "INVITE sip:a SIP/2.0\r\n"
		 "Content-Length: %4zu\r\n\r\n", body + 1);
	CHECK_INT(frame(s, hlen, MAX, &f, &why), -1);
	CHECK(strcmp(why, "Content-Length over the message limit") == 0);
	CHECK_INT(f.hlen, hlen);
	/* A huge value is too long, not malformed. */
	expect_fault("INVITE sip:a SIP/2.0\r\nContent-Length: "
		     "99999999999999999999999\r\n\r\n", MAX,
		     "Content-Length over the message limit",
		     "99999999999999999999999", 1);

	memset(s, 'X', sizeof(s));
	memcpy(s, "INVITE sip:a SIP/2.0\r\nX: ", 25);
	CHECK_INT(frame(s, MAX - 1, MAX, &f, &why), 0);
	CHECK_INT(frame(s, MAX, MAX, &f, &why), -1);
	CHECK(strcmp(why, "header section over the message limit") == 0);
	/* The empty line as the last bytes of max still counts. */
	memcpy(s + MAX - 4, "\r\n\r\n", 4);
	memcpy(s + 22, "l:0\r\n", 5);
	CHECK_INT(frame(s, MAX, MAX, &f, &why), 1);
	CHECK_INT(f.len, MAX);
}

int
main(void)
{
	test_every_split();
	test_back_to_back();
	test_bad_length();
	test_compact();
	test_limit_edge();
	return CHECK_DONE();
}
