/* Unit test of IMAP response reading: line framing limits, status lines,
 * URLFETCH data in the forms Cyrus and other servers send (quoted or atom
 * URL, literal, literal8, non-synchronizing, NIL), RFC 5524's BINARY
 * form as Cyrus 3.6 sends it, several URLs on one line, capabilities,
 * literal length limits and overflow, and quoting.  Every parsed line ends at a guard page.
 */
#include <stdint.h>

#include "control/imap_resp.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define URL "imap://alice@127.0.0.1:14300/INBOX;UIDVALIDITY=1733330000/;" \
	"UID=1/;SECTION=2;URLAUTH=anonymous:internal:" \
	"f3a1c0de5b9e4a7780c2d1e3f4a5b6c7"
#define LIMIT 10000000

/* Views point into the copy, so it lives until the next call. */
static struct guard_buf cur;

static const char *
guarded(const char *s, size_t n)
{
	if (cur.map)
		guard_free(&cur);
	return guard_copy(&cur, s, n);
}

static ssize_t
line_end(const char *s, size_t max)
{
	return imap_line_end(guarded(s, strlen(s)), strlen(s), max);
}

static int
resp(const char *s, struct imap_resp *r)
{
	return imap_resp_parse(guarded(s, strlen(s)), strlen(s), r);
}

static int
fetch(const char *s, uint64_t max, struct imap_urlfetch *uf,
      const char **why)
{
	*why = "";
	return imap_parse_urlfetch(guarded(s, strlen(s)), strlen(s), max, uf,
				   why);
}

static void
check_fetch_bad(const char *s, uint64_t max, const char *want)
{
	struct imap_urlfetch uf;
	const char *why;

	if (fetch(s, max, &uf, &why) != -1) {
		fprintf(stderr, "accepted: %s\n", s);
		check_failures++;
	} else if (strcmp(why, want) != 0) {
		fprintf(stderr, "%s: why \"%s\", want \"%s\"\n", s, why, want);
		check_failures++;
	}
}

static void
test_line_end(void)
{
	CHECK_INT(line_end("a1 OK done\r\n", 100), 12);
	CHECK_INT(line_end("a1 OK\r\n* 2 EXISTS\r\n", 100), 7);
	CHECK_INT(line_end("a1 OK\r", 100), 0);
	CHECK_INT(line_end("a1 OK", 100), 0);
	CHECK_INT(line_end("", 100), 0);
	CHECK_INT(line_end("a\nb\r\n", 100), 5);	/* bare LF is data */
	CHECK_INT(line_end("\r\n", 100), 2);
	/* max_line counts the CRLF: exactly at the limit passes. */
	CHECK_INT(line_end("a1 OK\r\n", 7), 7);
	CHECK_INT(line_end("a1 OK\r\n", 6), -1);
	CHECK_INT(line_end("a1 OK\r", 6), -1);
	CHECK_INT(line_end("a1 OK", 6), 0);
}

static void
test_resp(void)
{
	struct imap_resp r;

	CHECK_INT(resp("* OK [CAPABILITY IMAP4rev1] ready", &r), 0);
	CHECK_STRN(r.tag.p, r.tag.n, "*");
	CHECK_INT(r.status, IMAP_ST_OK);
	CHECK_STRN(r.text.p, r.text.n, "[CAPABILITY IMAP4rev1] ready");

	CHECK_INT(resp("a001 ok URLFETCH completed", &r), 0);
	CHECK_STRN(r.tag.p, r.tag.n, "a001");
	CHECK_INT(r.status, IMAP_ST_OK);
	CHECK_STRN(r.text.p, r.text.n, "URLFETCH completed");

	CHECK_INT(resp("A2 NO [AUTHENTICATIONFAILED] no", &r), 0);
	CHECK_INT(r.status, IMAP_ST_NO);
	CHECK_INT(resp("a3 Bad Please login first", &r), 0);
	CHECK_INT(r.status, IMAP_ST_BAD);
	CHECK_STRN(r.text.p, r.text.n, "Please login first");
	CHECK_INT(resp("* BYE autologout", &r), 0);
	CHECK_INT(r.status, IMAP_ST_BYE);
	CHECK_INT(resp("* preauth hi", &r), 0);
	CHECK_INT(r.status, IMAP_ST_PREAUTH);
	CHECK_INT(resp("a4 OK", &r), 0);
	CHECK_INT(r.text.n, 0);

	CHECK_INT(resp("+ Ready for literal", &r), 0);
	CHECK_INT(r.status, IMAP_ST_CONTINUE);
	CHECK_STRN(r.tag.p, r.tag.n, "+");
	CHECK_STRN(r.text.p, r.text.n, "Ready for literal");
	CHECK_INT(resp("+", &r), 0);
	CHECK_INT(r.status, IMAP_ST_CONTINUE);
	CHECK_INT(r.text.n, 0);

	/* Other untagged data: the text is all after "* ". */
	CHECK_INT(resp("* 3 EXISTS", &r), 0);
	CHECK_INT(r.status, IMAP_ST_NONE);
	CHECK_STRN(r.text.p, r.text.n, "3 EXISTS");
	CHECK_INT(resp("* URLFETCH \"x\" NIL", &r), 0);
	CHECK_INT(r.status, IMAP_ST_NONE);
	CHECK_STRN(r.text.p, r.text.n, "URLFETCH \"x\" NIL");
}

static void
test_resp_bad(void)
{
	struct imap_resp r;

	CHECK_INT(resp("", &r), -1);
	CHECK_INT(resp("a1", &r), -1);
	CHECK_INT(resp("a1 ", &r), -1);
	CHECK_INT(resp("a1 FOO bar", &r), -1);
	CHECK_INT(resp("a1 BYE tagged", &r), -1);
	CHECK_INT(resp("a1 PREAUTH tagged", &r), -1);
	CHECK_INT(resp("*OK", &r), -1);
	CHECK_INT(resp(" a1 OK", &r), -1);
	CHECK_INT(resp("a{1 OK", &r), -1);
	CHECK_INT(resp("a+1 OK", &r), -1);
	CHECK_INT(resp("+Ready", &r), -1);
}

static void
test_fetch(void)
{
	struct imap_urlfetch uf;
	const char *why;

	/* Cyrus: quoted URL, then the literal. */
	CHECK_INT(fetch("* URLFETCH \"" URL "\" {552}", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_LITERAL);
	CHECK_INT(uf.literal_len, 552);
	CHECK_STRN(uf.url.p, uf.url.n, URL);

	CHECK_INT(fetch("* URLFETCH \"" URL "\" NIL", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);
	CHECK_STRN(uf.url.p, uf.url.n, URL);

	/* An atom URL, '%' escapes and all; lower-case keywords. */
	CHECK_INT(fetch("* urlfetch imap://h/A%20B/;UID=1 nil", LIMIT, &uf,
			&why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);
	CHECK_STRN(uf.url.p, uf.url.n, "imap://h/A%20B/;UID=1");

	CHECK_INT(fetch("* URLFETCH " URL " ~{0}", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_LITERAL);
	CHECK_INT(uf.literal_len, 0);

	/* Escapes stay in the view. */
	CHECK_INT(fetch("* URLFETCH \"a\\\"b\\\\c\" {1}", LIMIT, &uf, &why), 0);
	CHECK_STRN(uf.url.p, uf.url.n, "a\\\"b\\\\c");
	CHECK_INT(fetch("* URLFETCH \"\" NIL", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.url.n, 0);

	CHECK_INT(fetch("* OK done", LIMIT, &uf, &why), 1);
	CHECK_INT(fetch("a1 OK URLFETCH completed", LIMIT, &uf, &why), 1);
	CHECK_INT(fetch("* URLFETCHX \"u\" NIL", LIMIT, &uf, &why), 1);
	CHECK_INT(fetch("", LIMIT, &uf, &why), 1);
}

static void
test_fetch_limits(void)
{
	struct imap_urlfetch uf;
	const char *why;

	CHECK_INT(fetch("* URLFETCH \"u\" {10000000}", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.literal_len, LIMIT);
	check_fetch_bad("* URLFETCH \"u\" {10000001}", LIMIT,
			"literal of 10000001 bytes over limit 10000000");
	check_fetch_bad("* URLFETCH \"u\" ~{123456789}", LIMIT,
			"literal of 123456789 bytes over limit 10000000");
	check_fetch_bad("* URLFETCH \"u\" {123456789012345678901234567890}",
			LIMIT, "URLFETCH: literal length overflows");
	check_fetch_bad("* URLFETCH \"u\" {18446744073709551616}", UINT64_MAX,
			"URLFETCH: literal length overflows");
	CHECK_INT(fetch("* URLFETCH \"u\" {18446744073709551615}", UINT64_MAX,
			&uf, &why), 0);
	CHECK_INT(uf.literal_len == UINT64_MAX, 1);
	CHECK_INT(fetch("* URLFETCH \"u\" {0000000000000000000000000001}", 1,
			&uf, &why), 0);
	CHECK_INT(uf.literal_len, 1);
}

static void
test_fetch_bad(void)
{
	check_fetch_bad("* URLFETCH", LIMIT, "URLFETCH: bad url");
	check_fetch_bad("* URLFETCH ", LIMIT, "URLFETCH: bad url");
	check_fetch_bad("* URLFETCH \"abc", LIMIT, "URLFETCH: bad url");
	check_fetch_bad("* URLFETCH \"abc\\", LIMIT, "URLFETCH: bad url");
	check_fetch_bad("* URLFETCH \"a\\x\" NIL", LIMIT, "URLFETCH: bad url");
	check_fetch_bad("* URLFETCH \"a\xc3\xa9\" NIL", LIMIT,
			"URLFETCH: bad url");
	check_fetch_bad("* URLFETCH x) NIL", LIMIT,
			"URLFETCH: missing data after url");
	check_fetch_bad("* URLFETCH (", LIMIT, "URLFETCH: bad url");
	check_fetch_bad("* URLFETCH u", LIMIT,
			"URLFETCH: missing data after url");
	check_fetch_bad("* URLFETCH \"u\"NIL", LIMIT,
			"URLFETCH: missing data after url");
	check_fetch_bad("* URLFETCH \"u\" ", LIMIT, "URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" {12", LIMIT, "URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" {}", LIMIT, "URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" ~{}", LIMIT, "URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" {5} x", LIMIT,
			"URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" {1a}", LIMIT,
			"URLFETCH: bad literal length");
	check_fetch_bad("* URLFETCH \"u\" {+}", LIMIT,
			"URLFETCH: bad literal length");
	check_fetch_bad("* URLFETCH \"u\" {5++}", LIMIT,
			"URLFETCH: bad literal length");
	check_fetch_bad("* URLFETCH \"u\" (BINARY \"Zm9v\")", LIMIT,
			"URLFETCH: data as quoted string not supported");
	check_fetch_bad("* URLFETCH \"u\" (BODYPARTSTRUCTURE (\"a) {5}", LIMIT,
			"URLFETCH: bad metadata");
	check_fetch_bad("* URLFETCH \"u\" (BODYPARTSTRUCTURE ({5}", LIMIT,
			"URLFETCH: bad metadata");
	check_fetch_bad("* URLFETCH \"u\" (BINARY {20000000})", LIMIT,
			"URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" (BINARY ~{20000000}", LIMIT,
			"literal of 20000000 bytes over limit 10000000");
	check_fetch_bad("* URLFETCH \"u\" {-5}", LIMIT,
			"URLFETCH: bad literal length");
	check_fetch_bad("* URLFETCH \"u\" NILL", LIMIT,
			"URLFETCH: bad literal");
	check_fetch_bad("* URLFETCH \"u\" \"Zm9v\"", LIMIT,
			"URLFETCH: data as quoted string not supported");
}

/* Cyrus 3.6 to URLFETCH ("url" BINARY): not RFC 5524's parenthesized
 * url, but the url, then the metadata list; a refusal is the url alone.
 */
static void
test_fetch_binary(void)
{
	struct imap_urlfetch uf;
	const char *why;

	CHECK_INT(fetch("* URLFETCH \"" URL "\" (BINARY ~{65427}", LIMIT, &uf,
			&why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_LITERAL);
	CHECK_INT(uf.binary, 1);
	CHECK_INT(uf.literal_len, 65427);
	CHECK_STRN(uf.url.p, uf.url.n, URL);

	CHECK_INT(fetch("* URLFETCH \"u\" (BODYPARTSTRUCTURE (\"AUDIO\" \"BASIC\" "
			"(\"NAME\" \"a)b.au\") NIL NIL \"BINARY\" 65427 NIL)) "
			"(BINARY ~{65427}", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_LITERAL);
	CHECK_INT(uf.binary, 1);

	/* RFC 5524 section 3 as written. */
	CHECK_INT(fetch("* URLFETCH (\"u\" (BINARY {28}", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_LITERAL);
	CHECK_INT(uf.binary, 1);
	CHECK_STRN(uf.url.p, uf.url.n, "u");
	CHECK_INT(fetch("* URLFETCH (\"u\" BODY {28}", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.binary, 0);
	CHECK_INT(uf.literal_len, 28);
	CHECK_INT(fetch("* URLFETCH (\"u\" (BINARY NIL))", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);
	CHECK_INT(fetch("* URLFETCH (\"u\" NIL)", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);

	/* Refused: the URL alone, quoted, nothing after it. */
	CHECK_INT(fetch("* URLFETCH \"u\"", LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);
	CHECK_INT(uf.next, 14);
}

/* Several url-data pairs: on one line after NIL, on the line after a
 * literal otherwise; non-synchronizing literals.
 */
static void
test_fetch_several(void)
{
	struct imap_urlfetch uf;
	const char *why, *line = "* URLFETCH \"u\" NIL v {5+}";

	CHECK_INT(fetch(line, LIMIT, &uf, &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);
	CHECK_INT(uf.next, 18);
	CHECK_INT(imap_parse_urlfetch_next(line + uf.next,
					   strlen(line) - uf.next, LIMIT, &uf,
					   &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_LITERAL);
	CHECK_INT(uf.literal_len, 5);
	CHECK_STRN(uf.url.p, uf.url.n, "v");

	CHECK_INT(imap_parse_urlfetch_next(") \"w\" NIL", 9, LIMIT, &uf,
					   &why), 0);
	CHECK_INT(uf.kind, IMAP_FETCH_NIL);
	CHECK_STRN(uf.url.p, uf.url.n, "w");
	CHECK_INT(imap_parse_urlfetch_next("))", 2, LIMIT, &uf, &why), 1);
	CHECK_INT(imap_parse_urlfetch_next("", 0, LIMIT, &uf, &why), 1);
	CHECK_INT(imap_parse_urlfetch_next(") \"w", 4, LIMIT, &uf, &why), -1);
}

static void
test_capability(void)
{
	unsigned int caps = 0;
	const char *s = "[CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready";

	CHECK_INT(imap_parse_capability(s, strlen(s), &caps), 0);
	CHECK_INT(caps, IMAP_CAP_STARTTLS | IMAP_CAP_AUTH_PLAIN);
	s = "CAPABILITY IMAP4rev1 urlauth URLAUTH=BINARY LOGINDISABLED "
	    "SASL-IR AUTH=ANONYMOUS AUTH=PLAINX";
	CHECK_INT(imap_parse_capability(s, strlen(s), &caps), 0);
	CHECK_INT(caps, IMAP_CAP_URLAUTH | IMAP_CAP_URLAUTH_BINARY |
		  IMAP_CAP_LOGINDISABLED | IMAP_CAP_SASL_IR |
		  IMAP_CAP_AUTH_ANONYMOUS);
	s = "[ALERT] hi";
	CHECK_INT(imap_parse_capability(s, strlen(s), &caps), 1);
	s = "[CAPABILITY IMAP4rev1";
	CHECK_INT(imap_parse_capability(s, strlen(s), &caps), -1);
}

static void
test_quote(void)
{
	char out[64];

	CHECK_INT(imap_quote(URL, strlen(URL), out, sizeof(out)), -1);
	CHECK_INT(imap_quote("abc", 3, out, sizeof(out)), 5);
	CHECK_STRN(out, 5, "\"abc\"");
	CHECK_INT(out[5], '\0');
	CHECK_INT(imap_quote("a\"b\\c", 5, out, sizeof(out)), 9);
	CHECK_STRN(out, 9, "\"a\\\"b\\\\c\"");
	CHECK_INT(imap_quote("", 0, out, sizeof(out)), 2);
	CHECK_STRN(out, 2, "\"\"");

	/* Room for the text, the quotes and the NUL, and not one less. */
	CHECK_INT(imap_quote("abc", 3, out, 6), 5);
	CHECK_INT(imap_quote("abc", 3, out, 5), -1);
	CHECK_INT(imap_quote("ab\"", 3, out, 7), 6);
	CHECK_INT(imap_quote("ab\"", 3, out, 6), -1);
	CHECK_INT(imap_quote("", 0, out, 3), 2);
	CHECK_INT(imap_quote("", 0, out, 2), -1);

	CHECK_INT(imap_quote("a\rb", 3, out, sizeof(out)), -1);
	CHECK_INT(imap_quote("a\nb", 3, out, sizeof(out)), -1);
	CHECK_INT(imap_quote("a\0b", 3, out, sizeof(out)), -1);
	CHECK_INT(imap_quote("caf\xc3\xa9", 5, out, sizeof(out)), -1);
}

int
main(void)
{
	test_line_end();
	test_resp();
	test_resp_bad();
	test_fetch();
	test_fetch_limits();
	test_fetch_bad();
	test_fetch_binary();
	test_fetch_several();
	test_capability();
	test_quote();
	if (cur.map)
		guard_free(&cur);
	return CHECK_DONE();
}
