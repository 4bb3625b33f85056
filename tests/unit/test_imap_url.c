/* Unit test of the IMAP URL parser: URLAUTH URLs as Cyrus GENURLAUTH
 * produces them and in the other RFC 5092 forms, and each way a URL can be
 * wrong.  Every input ends at a guard page.
 */
#include <stdint.h>

#include "control/imap_url.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define TOKEN "f3a1c0de5b9e4a7780c2d1e3f4a5b6c7"

/* The views of u point into the copy, so it lives until the next parse. */
static struct guard_buf cur;

static int
parse(const char *s, struct imap_url *u, const char **why)
{
	size_t n = strlen(s);

	if (cur.map)
		guard_free(&cur);
	*why = "";
	return imap_url_parse(guard_copy(&cur, s, n), n, u, why);
}

static void
check_bad(const char *s, const char *want)
{
	struct imap_url u;
	const char *why;

	if (parse(s, &u, &why) != -1) {
		fprintf(stderr, "accepted: %s\n", s);
		check_failures++;
		return;
	}
	if (strcmp(why, want) != 0) {
		fprintf(stderr, "%s: why \"%s\", want \"%s\"\n", s, why, want);
		check_failures++;
	}
}

static void
test_cyrus(void)
{
	struct imap_url u;
	const char *why;

	CHECK_INT(parse("imap://alice@127.0.0.1:14300/INBOX;UIDVALIDITY="
			"1733330000/;UID=1/;SECTION=2;EXPIRE=2026-12-04T18:00"
			":00Z;URLAUTH=anonymous:internal:" TOKEN, &u, &why), 0);
	CHECK_STRN(u.user.p, u.user.n, "alice");
	CHECK_INT(u.auth.n, 0);
	CHECK_STRN(u.host.p, u.host.n, "127.0.0.1");
	CHECK_INT(u.port, 14300);
	CHECK_INT(u.has_port, 1);
	CHECK_STRN(u.mailbox.p, u.mailbox.n, "INBOX");
	CHECK_STRN(u.uidvalidity.p, u.uidvalidity.n, "1733330000");
	CHECK_STRN(u.uid.p, u.uid.n, "1");
	CHECK_STRN(u.section.p, u.section.n, "2");
	CHECK_INT(u.partial.n, 0);
	CHECK_INT(u.has_expire, 1);
	CHECK_INT(u.expire, 1796407200);
	CHECK_INT(u.access, IMAP_ACCESS_ANONYMOUS);
	CHECK_INT(u.access_name.n, 0);
	CHECK_STRN(u.mech.p, u.mech.n, "internal");
	CHECK_STRN(u.token.p, u.token.n, TOKEN);

	/* UIDVALIDITY after a '/', as some clients compose the rump URL. */
	CHECK_INT(parse("imap://alice@127.0.0.1:14300/INBOX/;UIDVALIDITY="
			"1733330000/;UID=1/;SECTION=2;EXPIRE=2026-12-04T18:00"
			":00Z;URLAUTH=anonymous:internal:" TOKEN, &u, &why), 0);
	CHECK_STRN(u.mailbox.p, u.mailbox.n, "INBOX");
	CHECK_STRN(u.uidvalidity.p, u.uidvalidity.n, "1733330000");
	CHECK_STRN(u.section.p, u.section.n, "2");
}

static void
test_forms(void)
{
	struct imap_url u;
	const char *why;

	/* RFC 4467 section 3 example, keywords in other cases. */
	CHECK_INT(parse("IMAP://joe@example.com/INBOX/;uid=20/;section=1.2;"
			"urlauth=Submit+Fred:INTERNAL:91354a473744909de610943"
			"775f92038", &u, &why), 0);
	CHECK_INT(u.port, 143);
	CHECK_INT(u.has_port, 0);
	CHECK_INT(u.has_expire, 0);
	CHECK_STRN(u.section.p, u.section.n, "1.2");
	CHECK_INT(u.access, IMAP_ACCESS_SUBMIT);
	CHECK_STRN(u.access_name.p, u.access_name.n, "Fred");
	CHECK_STRN(u.mech.p, u.mech.n, "INTERNAL");

	CHECK_INT(parse("imap://[2001:db8::1]:993/Shared%20Folders/Audio/;"
			"UID=3/;PARTIAL=0.1024;URLAUTH=user+bob%40x:internal:"
			"00ff", &u, &why), 0);
	CHECK_STRN(u.host.p, u.host.n, "2001:db8::1");
	CHECK_INT(u.port, 993);
	CHECK_STRN(u.mailbox.p, u.mailbox.n, "Shared%20Folders/Audio");
	CHECK_STRN(u.partial.p, u.partial.n, "0.1024");
	CHECK_INT(u.access, IMAP_ACCESS_USER);
	CHECK_STRN(u.access_name.p, u.access_name.n, "bob%40x");

	CHECK_INT(parse("imap://[::1]/INBOX/;UID=7;URLAUTH=AuthUser:x-sha.2:"
			"a-b_c.d~e", &u, &why), 0);
	CHECK_STRN(u.host.p, u.host.n, "::1");
	CHECK_INT(u.port, 143);
	CHECK_INT(u.access, IMAP_ACCESS_AUTHUSER);
	CHECK_STRN(u.token.p, u.token.n, "a-b_c.d~e");

	CHECK_INT(parse("imap://bob;AUTH=*@mail.example/INBOX/;UID=1", &u,
			&why), 0);
	CHECK_STRN(u.user.p, u.user.n, "bob");
	CHECK_STRN(u.auth.p, u.auth.n, "*");
	CHECK_INT(u.access, IMAP_ACCESS_NONE);

	CHECK_INT(parse("imap://;auth=GSSAPI@h/INBOX/;UID=1/;PARTIAL=5", &u,
			&why), 0);
	CHECK_INT(u.user.n, 0);
	CHECK_STRN(u.auth.p, u.auth.n, "GSSAPI");
	CHECK_STRN(u.partial.p, u.partial.n, "5");
}

/* RFC 3339 offsets and fractions all land on the same UTC second. */
static void
test_expire(void)
{
	static const char *const same[] = {
		"2026-12-04T18:00:00Z",
		"2026-12-04t18:00:00z",
		"2026-12-04T20:00:00+02:00",
		"2026-12-04T12:30:00.999-05:30",
		"2026-12-04T18:00:00.5Z",
	};
	char buf[160];
	struct imap_url u;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		snprintf(buf, sizeof(buf), "imap://h/INBOX/;UID=1;EXPIRE=%s;"
			 "URLAUTH=anonymous:internal:" TOKEN, same[i]);
		CHECK_INT(parse(buf, &u, &why), 0);
		CHECK_INT(u.expire, 1796407200);
	}
	CHECK_INT(parse("imap://h/INBOX/;UID=1;EXPIRE=2028-02-29T23:59:59Z;"
			"URLAUTH=anonymous:internal:ab", &u, &why), 0);
	CHECK_INT(u.expire, 1835481599);
}

static void
test_bad_expire(void)
{
	static const char *const bad[] = {
		"2026-12-04T18:00:00",
		"2026-12-04 18:00:00Z",
		"2026-13-04T18:00:00Z",
		"2026-02-29T18:00:00Z",
		"2026-12-00T18:00:00Z",
		"2026-12-04T24:00:00Z",
		"2026-12-04T18:60:00Z",
		"2026-12-04T18:00:61Z",
		"2026-12-04T18:00:00.Z",
		"2026-12-04T18:00:00+24:00",
		"2026-12-04T18:00:00+0200",
		"2026-12-04T18:00:00Zjunk",
		"26-12-04T18:00:00Z",
		"",
	};
	char buf[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "imap://h/INBOX/;UID=1;EXPIRE=%s;"
			 "URLAUTH=anonymous:internal:" TOKEN, bad[i]);
		check_bad(buf, "bad expire");
	}
	check_bad("imap://h/INBOX/;UID=1;EXPIRE=2026-12-04T18:00:00Z",
		  "expire without urlauth");
}

static void
test_bad_server(void)
{
	check_bad("http://h/INBOX/;UID=1", "not an imap URL");
	check_bad("imap:/h/INBOX/;UID=1", "not an imap URL");
	check_bad("imap:", "not an imap URL");
	check_bad("imap://h:0/INBOX/;UID=1", "bad port");
	check_bad("imap://h:65536/INBOX/;UID=1", "bad port");
	check_bad("imap://h:99999999999999999999/INBOX/;UID=1", "bad port");
	check_bad("imap://h:/INBOX/;UID=1", "bad port");
	check_bad("imap://h:14x/INBOX/;UID=1", "bad port");
	check_bad("imap://h:-1/INBOX/;UID=1", "bad port");
	check_bad("imap:///INBOX/;UID=1", "bad host: \"\"");
	check_bad("imap://a b/INBOX/;UID=1", "bad host: \"a b\"");
	check_bad("imap://a\x01\x7f/INBOX/;UID=1", "bad host: \"a\\x01\\x7f\"");
	check_bad("imap://[::1/INBOX/;UID=1", "bad IPv6 host");
	check_bad("imap://[::g]/INBOX/;UID=1", "bad IPv6 host");
	check_bad("imap://[]/INBOX/;UID=1", "bad IPv6 host");
	check_bad("imap://[::1]x/INBOX/;UID=1", "bad host: \"::1]x\"");
	check_bad("imap://@h/INBOX/;UID=1", "bad user");
	check_bad("imap://a b@h/INBOX/;UID=1", "bad user");
	check_bad("imap://a;X=1@h/INBOX/;UID=1", "bad ;AUTH= in user");
	check_bad("imap://a;AUTH=@h/INBOX/;UID=1", "bad ;AUTH= mechanism");
	check_bad("imap://h", "missing mailbox");
}

static void
test_bad_path(void)
{
	check_bad("imap://h/", "missing mailbox");
	check_bad("imap://h/;UID=1", "missing mailbox");
	check_bad("imap://h/IN BOX/;UID=1", "bad mailbox");
	check_bad("imap://h/INBOX%2/;UID=1", "bad mailbox");
	check_bad("imap://h/INBOX", "missing uid");
	check_bad("imap://h/INBOX/", "missing uid");
	check_bad("imap://h/INBOX;UIDVALIDITY=5", "missing uid");
	check_bad("imap://h/INBOX;UID=1", "parameter with a misplaced '/'");
	check_bad("imap://h/INBOX/;UID=0", "bad uid");
	check_bad("imap://h/INBOX/;UID=01", "bad uid");
	check_bad("imap://h/INBOX/;UID=4294967296", "bad uid");
	check_bad("imap://h/INBOX/;UID=1/", "bad uid");
	check_bad("imap://h/INBOX;UIDVALIDITY=x/;UID=1", "bad uidvalidity");
	check_bad("imap://h/INBOX/;UID=1/;SECTION=", "bad section");
	check_bad("imap://h/INBOX/;UID=1/;PARTIAL=1.0", "bad partial");
	check_bad("imap://h/INBOX/;UID=1/;PARTIAL=.5", "bad partial");
	check_bad("imap://h/INBOX/;UID=1/;FOO=1", "unknown parameter");
	check_bad("imap://h/INBOX/;UID=1/;UID=2",
		  "parameter repeated or out of order");
	check_bad("imap://h/INBOX/;SECTION=1/;UID=2",
		  "parameter repeated or out of order");
	check_bad("imap://h/INBOX/;UID=1/;URLAUTH=anonymous:internal:ab",
		  "parameter with a misplaced '/'");
}

static void
test_bad_urlauth(void)
{
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous",
		  "urlauth without mechanism and token");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal",
		  "urlauth without mechanism and token");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal:",
		  "bad urlauth token");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous::ab",
		  "bad urlauth mechanism: \"\"");
	/* The mechanism named, never the token after it. */
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:in_t:ab",
		  "bad urlauth mechanism: \"in_t\"");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal:ab:cd",
		  "bad urlauth token");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal:ab%20",
		  "bad urlauth token");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=everyone:internal:ab",
		  "bad urlauth access");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymousx:internal:ab",
		  "bad urlauth access");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=user+:internal:ab",
		  "bad urlauth access");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=submit:internal:ab",
		  "bad urlauth access");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal:ab;X=1",
		  "unknown parameter");
	check_bad("imap://h/INBOX/;UID=1;URLAUTH=anonymous:internal:ab;UID=2",
		  "parameter repeated or out of order");
}

int
main(void)
{
	test_cyrus();
	test_forms();
	test_expire();
	test_bad_expire();
	test_bad_server();
	test_bad_path();
	test_bad_urlauth();
	guard_free(&cur);
	return CHECK_DONE();
}
