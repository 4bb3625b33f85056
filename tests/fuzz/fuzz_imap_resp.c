/* libFuzzer target for IMAP response reading (control/imap_resp.c): the
 * input is what a server sends, framed into lines as control/imap_client.c
 * frames them; each line, copied to a block of exactly its length, is
 * classified, read as URLFETCH data, and quoted back.
 */
#include "control/imap_resp.h"
#include "tests/fuzz/fuzz.h"

#define MAX_LINE	1024		/* small, so the limit is reached */
#define MAX_LITERAL	10000000	/* anncd's default content limit */

static void
check_line(const char *line, size_t n)
{
	struct imap_resp r;
	struct imap_urlfetch uf;
	const char *why = NULL;
	char *q;
	int rc;

	if (imap_resp_parse(line, n, &r) == 0) {
		FUZZ_CHECK(fuzz_within(r.tag.p, r.tag.n, line, n));
		FUZZ_CHECK(fuzz_within(r.text.p, r.text.n, line, n));
	}
	rc = imap_parse_urlfetch(line, n, MAX_LITERAL, &uf, &why);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc == 0) {
		FUZZ_CHECK(fuzz_within(uf.url.p, uf.url.n, line, n));
		FUZZ_CHECK(uf.kind == IMAP_FETCH_NIL ||
			   uf.literal_len <= MAX_LITERAL);
	} else if (rc < 0) {
		FUZZ_CHECK(why != NULL);
	}

	/* quotes and backslashes double at most, plus two quotes and NUL */
	q = malloc(2 * n + 3);
	FUZZ_CHECK(q != NULL);
	rc = imap_quote(line, n, q, 2 * n + 3);
	if (rc >= 0) {
		FUZZ_CHECK((size_t)rc >= n + 2 && (size_t)rc <= 2 * n + 2);
		FUZZ_CHECK(q[0] == '"' && q[rc - 1] == '"' && q[rc] == '\0');
		FUZZ_CHECK(imap_quote(line, n, q, (size_t)rc) == -1);
	}
	free(q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size), *line;
	size_t off = 0;
	ssize_t end;

	while (off < size) {
		end = imap_line_end(buf + off, size - off, MAX_LINE);
		if (end <= 0) {
			FUZZ_CHECK(end == 0 ? size - off < MAX_LINE
					    : size - off >= MAX_LINE);
			break;
		}
		FUZZ_CHECK(end >= 2 && (size_t)end <= size - off &&
			   (size_t)end <= MAX_LINE);
		FUZZ_CHECK(memcmp(buf + off + end - 2, "\r\n", 2) == 0);
		line = fuzz_copy(buf + off, (size_t)end - 2);
		check_line(line, (size_t)end - 2);
		free(line);
		off += (size_t)end;
	}
	free(buf);
	return 0;
}
