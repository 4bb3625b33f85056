/* libFuzzer target for SDP offers and answers (control/sdp.c): an offer
 * either parses within the session's fixed arrays or is refused; for the
 * format chosen from a few content's lists, the answer built as
 * control/annc_answer.c builds it must be whole CRLF lines, parse back
 * with the same m= lines, and fit a buffer of exactly its length; read as
 * the answer to anncd's late offer, it is taken or refused with a reason.
 */
#include "control/sdp.h"
#include "tests/fuzz/fuzz.h"

#define ANSWER_MAX	2048	/* control/annc_answer.c's answer buffer */

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

/* The formats a content could have, as media_fmts() lists them. */
static const struct media_fmt fuzz_fmts[] = {
	{ MEDIA_CODEC_PCMU, MEDIA_KIND_AUDIO, "PCMU", 8000, 1, 0, 1, 150, 0, 0 },
	{ MEDIA_CODEC_PCMA, MEDIA_KIND_AUDIO, "PCMA", 8000, 1, 8, 1, 150, 0, 1 },
	{ MEDIA_CODEC_AMR, MEDIA_KIND_AUDIO, "AMR", 8000, 1, -1, 20, 100, 0, 0 },
	{ MEDIA_CODEC_G729, MEDIA_KIND_AUDIO, "G729", 8000, 1, 18, 10, 200, 0,
	  0 },
	{ MEDIA_CODEC_MPV, MEDIA_KIND_VIDEO, "MPV", 90000, 1, 32, 0, 0, 0, 0 },
};

static void
check_reparse(const struct sdp_answer *a, const char *out, size_t n)
{
	const struct sdp_stream *st = &a->streams[0];
	char *copy = fuzz_copy(out, n);
	struct sdp_refusal why_not;
	struct sdp_stream again;
	struct sdp_session s;
	const char *why = NULL;
	const struct sdp_media *md;

	if (sdp_parse(copy, n, &s, &why) != 0) {
		fprintf(stderr, "answer does not parse: %s\n", why);
		abort();
	}
	FUZZ_CHECK(s.n_media == a->offer->n_media);
	md = &s.media[st->media_index];
	FUZZ_CHECK(md->port == st->port && md->n_fmt == 1);
	FUZZ_CHECK(md->fmt[0] == st->pt && md->dir == st->dir);
	/* the declined lines have port 0: the streamed one is chosen again */
	if (st->dir != SDP_INACTIVE) {
		FUZZ_CHECK(sdp_choose(&s, st->fmt.kind, &st->fmt, 1, st->dir,
				      &again, &why_not) == 0);
		FUZZ_CHECK(again.media_index == st->media_index);
		FUZZ_CHECK(again.pt == st->pt && again.ptime == st->ptime);
	}
	free(copy);
}

static void
check_answer(const struct sdp_session *s, const struct media_fmt *fmts,
	     unsigned int nf)
{
	struct sdp_refusal why_not;
	struct sdp_stream st;
	struct sdp_answer a;
	char *out;
	int n;

	if (sdp_choose(s, fmts[0].kind, fmts, nf, SDP_SENDONLY, &st,
		       &why_not) < 0) {
		FUZZ_CHECK(why_not.warn_code == 304 || why_not.warn_code == 305);
		FUZZ_CHECK(memchr(why_not.text, '\0', sizeof(why_not.text)));
		return;
	}
	FUZZ_CHECK((unsigned int)st.media_index < s->n_media && st.pt < 128);
	FUZZ_CHECK(st.ptime <= (st.fmt.max_frame_ms ? st.fmt.max_frame_ms
						    : SDP_MAX_PTIME));
	FUZZ_CHECK(st.fmt.frame_ms == 0 || st.ptime % st.fmt.frame_ms == 0);
	st.port = 40000;
	memset(&a, 0, sizeof(a));
	a.offer = s;
	a.streams = &st;
	a.n_streams = 1;
	a.addr = 0x0a0012c6;	/* 198.18.0.10 in network order */
	a.sess_id = UINT64_MAX;
	a.sess_version = 1;
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

/* The same bytes as the answer in an ACK to anncd's late offer. */
static void
check_late_answer(const struct sdp_session *s)
{
	struct sdp_stream st[SDP_MAX_STREAMS];
	struct sdp_refusal why_not;
	struct sdp_offer o;
	unsigned int sent;

	memset(&o, 0, sizeof(o));
	FUZZ_CHECK(sdp_offer_add(&o, MEDIA_KIND_AUDIO, 40000, fuzz_fmts, 4) == 0);
	if (sdp_take_answer(&o, s, st, &sent, &why_not) < 0) {
		FUZZ_CHECK(memchr(why_not.text, '\0', sizeof(why_not.text)));
		return;
	}
	FUZZ_CHECK(sent <= 1 && st[0].media_index == 0);
	FUZZ_CHECK(st[0].fmt.name != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_copy(data, size);
	struct sdp_session s;
	const char *why = NULL;

	if (sdp_parse(body, size, &s, &why) == 0) {
		check_session(&s);
		check_answer(&s, fuzz_fmts, 1);
		check_answer(&s, fuzz_fmts + 1, 3);
		check_answer(&s, fuzz_fmts + 4, 1);
		check_late_answer(&s);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	free(body);
	return 0;
}
