/* libFuzzer target for SDP offers and answers (control/sdp.c): an offer
 * either parses within the session's fixed arrays or is refused; for each
 * codec it offers, the answer built as control/annc.c builds it must be
 * whole CRLF lines, parse back with the same m= lines, and fit a buffer of
 * exactly its length.
 */
#include "control/sdp.h"
#include "tests/fuzz/fuzz.h"

#define ANSWER_MAX	2048	/* control/annc.c's answer buffer */

static void
check_session(const struct sdp_session *s)
{
	FUZZ_CHECK(s->n_media <= SDP_MAX_MEDIA);
	for (unsigned int i = 0; i < s->n_media; i++) {
		const struct sdp_media *md = &s->media[i];

		FUZZ_CHECK(memchr(md->type, '\0', sizeof(md->type)) != NULL);
		FUZZ_CHECK(memchr(md->proto, '\0', sizeof(md->proto)) != NULL);
		FUZZ_CHECK(md->n_fmt <= SDP_MAX_FMT);
		FUZZ_CHECK(md->n_rtpmap <= SDP_MAX_FMT);
		FUZZ_CHECK(md->dir <= SDP_INACTIVE);
		for (unsigned int j = 0; j < md->n_rtpmap; j++)
			FUZZ_CHECK(memchr(md->rtpmap[j].name, '\0',
					  sizeof(md->rtpmap[j].name)) != NULL);
	}
}

/* Every line of the answer ends in CRLF and holds no other CR or LF. */
static void
check_lines(const char *s, size_t n)
{
	FUZZ_CHECK(n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			FUZZ_CHECK(i + 1 < n && s[i + 1] == '\n');
		else if (s[i] == '\n')
			FUZZ_CHECK(i > 0 && s[i - 1] == '\r');
	}
}

static void
check_reparse(const struct sdp_answer *a, const char *out, size_t n)
{
	char *copy = fuzz_copy(out, n);
	struct sdp_session s;
	const char *why = NULL;
	const struct sdp_media *md;
	uint8_t pt;

	if (sdp_parse(copy, n, &s, &why) != 0) {
		fprintf(stderr, "answer does not parse: %s\n", why);
		abort();
	}
	FUZZ_CHECK(s.n_media == a->offer->n_media);
	md = &s.media[a->media_index];
	FUZZ_CHECK(md->port == a->port && md->n_fmt == 1);
	FUZZ_CHECK(md->fmt[0] == a->pt && md->dir == a->dir);
	/* the declined lines have port 0: the streamed one is picked again */
	FUZZ_CHECK(sdp_pick(&s, a->codec, &pt) == a->media_index);
	FUZZ_CHECK(pt == a->pt);
	free(copy);
}

static void
check_answer(const struct sdp_session *s, enum media_codec codec)
{
	struct sdp_answer a;
	char *out;
	int idx, n;

	memset(&a, 0, sizeof(a));
	idx = sdp_pick(s, codec, &a.pt);
	if (idx < 0)
		return;
	FUZZ_CHECK((unsigned int)idx < s->n_media && a.pt < 128);
	a.offer = s;
	a.media_index = idx;
	a.codec = codec;
	a.ptime = s->media[idx].ptime ? s->media[idx].ptime : 20;
	a.addr = 0x0a0012c6;	/* 198.18.0.10 in network order */
	a.port = 40000;
	a.sess_id = UINT64_MAX;
	a.sess_version = 1;
	a.dir = SDP_SENDONLY;
	out = malloc(ANSWER_MAX);
	FUZZ_CHECK(out != NULL);
	n = sdp_build_answer(out, ANSWER_MAX, &a);
	if (n >= 0) {
		FUZZ_CHECK(n < ANSWER_MAX && out[n] == '\0');
		check_lines(out, (size_t)n);
		check_reparse(&a, out, (size_t)n);
		/* exactly the text and its NUL, then one byte less */
		FUZZ_CHECK(sdp_build_answer(out, (size_t)n + 1, &a) == n);
		FUZZ_CHECK(sdp_build_answer(out, (size_t)n, &a) == -1);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size);
	struct sdp_session s;
	const char *why = NULL;

	if (sdp_parse(body, size, &s, &why) == 0) {
		check_session(&s);
		check_answer(&s, MEDIA_CODEC_PCMU);
		check_answer(&s, MEDIA_CODEC_PCMA);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	free(body);
	return 0;
}
