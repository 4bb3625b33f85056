/* libFuzzer target for the SIP message parser and the response builder
 * (control/sip_msg.c): a datagram either parses into views that stay
 * inside it, or is refused with a reason.  A response to what parsed must
 * carry only the builder's own header lines, however the peer folded its
 * values, must parse back, and must fit a buffer of exactly its length.
 */
#include "control/sip_msg.h"
#include "tests/fuzz/fuzz.h"

#define OUT_MAX	8192	/* the largest message control/annc.c builds */

static const char extra[] = "Contact: <sip:annc@192.0.2.1>\r\n";
static const char body[] = "v=0\r\n";

static void
check_views(const struct sip_msg *m, const char *buf, size_t len)
{
	const struct sip_str *v[] = {
		&m->method, &m->ruri, &m->reason, &m->branch, &m->via_host,
		&m->via_received, &m->from, &m->to, &m->from_tag, &m->to_tag,
		&m->call_id, &m->cseq_method, &m->contact_uri,
		&m->content_type, &m->body,
	};
	size_t i;

	FUZZ_CHECK(m->n_via >= 1 && m->n_via <= SIP_MAX_VIA);
	FUZZ_CHECK(m->n_rr <= SIP_MAX_RR);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		FUZZ_CHECK(fuzz_within(v[i]->p, v[i]->n, buf, len));
	for (i = 0; i < m->n_via; i++)
		FUZZ_CHECK(fuzz_within(m->via[i].p, m->via[i].n, buf, len));
	for (i = 0; i < m->n_rr; i++)
		FUZZ_CHECK(fuzz_within(m->record_route[i].p,
				       m->record_route[i].n, buf, len));
	if (m->content_length >= 0)
		FUZZ_CHECK(m->body.n == (size_t)m->content_length);
}

/* Counts the lines of a response head (each ending in CRLF, none empty,
 * none a continuation).  Returns the count, or -1 when a CR or LF stands
 * anywhere else: the peer's line breaks would have got through.
 */
static long
head_lines(const char *s, size_t n)
{
	long lines = 0;
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			if (i == start || s[start] == ' ' || s[start] == '\t')
				return -1;
			lines++;
			start = i + 2;
			i++;
		} else if (s[i] == '\r' || s[i] == '\n') {
			return -1;
		}
	}
	return start == n ? lines : -1;
}

/* The response parses back with the request's Via values and CSeq. */
static void
check_reparse(const struct sip_msg *req, const char *out, size_t n, int code)
{
	char *copy = fuzz_copy(out, n);
	struct sip_msg r;
	const char *why = NULL;

	if (sip_parse(copy, n, &r, &why) != 0) {
		fprintf(stderr, "response does not parse: %s\n", why);
		abort();
	}
	FUZZ_CHECK(!r.is_request && r.status == code);
	FUZZ_CHECK(r.n_via == req->n_via && r.cseq == req->cseq);
	FUZZ_CHECK(r.body.n == sizeof(body) - 1);
	free(copy);
}

/* Builds into exactly n + 1 bytes (the text and its NUL), which must give
 * the same text, and into n bytes, which must be refused.
 */
static void
check_exact(const struct sip_msg *m, const char *want, int n)
{
	char *out = malloc((size_t)n + 1);

	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(sip_build_response(out, (size_t)n + 1, m, 200, "OK", "ms1",
				      extra, "application/sdp", body,
				      sizeof(body) - 1) == n);
	FUZZ_CHECK(memcmp(out, want, (size_t)n + 1) == 0);
	FUZZ_CHECK(sip_build_response(out, (size_t)n, m, 200, "OK", "ms1",
				      extra, "application/sdp", body,
				      sizeof(body) - 1) == -1);
	free(out);
}

static void
check_response(const struct sip_msg *m)
{
	char *out = malloc(OUT_MAX);
	size_t head;
	int n;

	FUZZ_CHECK(out != NULL);
	n = sip_build_response(out, OUT_MAX, m, 200, "OK", "ms1", extra,
			       "application/sdp", body, sizeof(body) - 1);
	if (n < 0)
		goto out;
	FUZZ_CHECK(n < OUT_MAX && out[n] == '\0');
	/* head, the empty line, the body */
	head = (size_t)n - (sizeof(body) - 1) - 2;
	FUZZ_CHECK(memcmp(out + head, "\r\n", 2) == 0);
	/* status, Via values, From, To, Call-ID, CSeq, extra, Content-Type,
	 * Content-Length */
	FUZZ_CHECK(head_lines(out, head) == (long)m->n_via + 8);
	check_reparse(m, out, (size_t)n, 200);
	check_exact(m, out, n);

out:
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct sip_msg m;
	const char *why = NULL;

	if (sip_parse(buf, size, &m, &why) == 0) {
		check_views(&m, buf, size);
		check_response(&m);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	free(buf);
	return 0;
}
