/* Unit tests of SDP offer parsing, format choice and answer building,
 * each offer placed against a guard page; anncd's own offer and the
 * answer to it; the Warning of a refusal.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "control/sdp.h"
#include "check.h"
#include "guard.h"

static int
sdp_guarded(struct guard_buf *g, const char *body, struct sdp_session *s,
	    const char **why)
{
	size_t n = strlen(body);

	*why = "";
	return sdp_parse(guard_copy(g, body, n), n, s, why);
}

/* Formats as media_fmts() describes them (RFC 3551 tables 4 and 5). */
static const struct media_fmt f_pcmu = {
	MEDIA_CODEC_PCMU, MEDIA_KIND_AUDIO, "PCMU", 8000, 1, 0, 1, 150, 0, 0,
};
static const struct media_fmt f_pcma = {
	MEDIA_CODEC_PCMA, MEDIA_KIND_AUDIO, "PCMA", 8000, 1, 8, 1, 150, 0, 0,
};
static const struct media_fmt f_pcma_conv = {
	MEDIA_CODEC_PCMA, MEDIA_KIND_AUDIO, "PCMA", 8000, 1, 8, 1, 150, 0, 1,
};
static const struct media_fmt f_g729 = {
	MEDIA_CODEC_G729, MEDIA_KIND_AUDIO, "G729", 8000, 1, 18, 10, 200, 0, 0,
};
static const struct media_fmt f_amr = {
	MEDIA_CODEC_AMR, MEDIA_KIND_AUDIO, "AMR", 8000, 1, -1, 20, 100, 0, 0,
};
static const struct media_fmt f_l16s = {
	MEDIA_CODEC_L16, MEDIA_KIND_AUDIO, "L16", 44100, 2, 10, 1, 8, 0, 0,
};
static const struct media_fmt f_mpv = {
	MEDIA_CODEC_MPV, MEDIA_KIND_VIDEO, "MPV", 90000, 1, 32, 0, 0, 0, 0,
};

static uint32_t
ip(const char *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, a, &in) != 1)
		return 0xffffffffu;
	return in.s_addr;
}

/* The body of RFC 4475 section 3.1.1.1: an rtpmap without a clock rate
 * is tolerated.
 */
static const char wsinv_sdp[] =
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.3\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.4\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n";

static void
test_parse_wsinv(void)
{
	struct guard_buf g;
	struct sdp_session s;
	const char *why;
	int octet;

	CHECK_INT(sdp_guarded(&g, wsinv_sdp, &s, &why), 0);
	CHECK_INT(s.addr, ip("192.0.2.4"));
	CHECK_INT(s.n_media, 2);
	CHECK(strcmp(s.media[0].type, "audio") == 0);
	CHECK_INT(s.media[0].port, 49217);
	CHECK(strcmp(s.media[0].proto, "RTP/AVP") == 0);
	CHECK_INT(s.media[0].n_fmt, 2);
	CHECK_INT(s.media[0].fmt[0], 0);
	CHECK_INT(s.media[0].fmt[1], 12);
	CHECK_INT(s.media[0].addr, ip("192.0.2.4"));
	CHECK_INT(s.media[0].dir, SDP_SENDRECV);
	CHECK_INT(s.media[1].n_rtpmap, 0);
	CHECK_INT(s.media[1].fmt[0], 31);
	CHECK_INT(sdp_match(&s.media[0], &f_pcmu, &octet), 0);
	CHECK_INT(sdp_match(&s.media[0], &f_pcma, &octet), -1);
	CHECK_INT(sdp_match(&s.media[1], &f_mpv, &octet), -1);
	guard_free(&g);
}

/* A richer offer: media-level c=, session and media directions, dynamic
 * payload types, port counts, non-RTP formats, a=rtcp (RFC 3605), LF
 * line ends.
 */
static const char rich_sdp[] =
	"v=0\n"
	"o=- 1 1 IN IP4 198.51.100.9\n"
	"s=call\n"
	"c=IN IP4 198.51.100.9\n"
	"t=0 0\n"
	"a=recvonly\n"
	"m=audio 0 RTP/AVP 0 8\n"
	"m=video 5004 RTP/AVP 31 96\n"
	"a=rtpmap:96 H264/90000\n"
	"a=rtcp:bad\n"
	"m=audio 6000/2 RTP/AVP 97 101 0\n"
	"c=IN IP4 203.0.113.5/127\n"
	"a=rtpmap:97 pcma/8000\n"
	"a=rtpmap:101 telephone-event/8000\n"
	"a=ptime:30\n"
	"a=rtcp:6101 IN IP4 203.0.113.5\n"
	"a=sendrecv\n"
	"m=application 7000 UDP/DTLS/SCTP webrtc-datachannel\n"
	"m=audio 8000 RTP/SAVP 0\n";

static void
test_parse_rich(void)
{
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	struct sdp_refusal why_not;
	const char *why;

	CHECK_INT(sdp_guarded(&g, rich_sdp, &s, &why), 0);
	CHECK_INT(s.n_media, 5);
	CHECK_INT(s.media[0].port, 0);
	CHECK_INT(s.media[0].dir, SDP_RECVONLY);
	CHECK_INT(s.media[1].dir, SDP_RECVONLY);
	CHECK_INT(s.media[1].n_rtpmap, 1);
	CHECK_INT(s.media[1].rtpmap[0].pt, 96);
	CHECK(strcmp(s.media[1].rtpmap[0].name, "H264") == 0);
	CHECK_INT(s.media[1].rtpmap[0].clock, 90000);
	CHECK_INT(s.media[2].port, 6000);
	CHECK_INT(s.media[2].addr, ip("203.0.113.5"));
	CHECK_INT(s.media[2].ptime, 30);
	CHECK_INT(s.media[2].rtcp_port, 6101);		/* RFC 3605 */
	CHECK_INT(s.media[1].rtcp_port, 0);		/* unreadable: none */
	CHECK_INT(s.media[2].dir, SDP_SENDRECV);
	CHECK_INT(s.media[2].n_fmt, 3);
	CHECK_INT(s.media[2].n_rtpmap, 2);
	CHECK(strcmp(s.media[3].proto, "UDP/DTLS/SCTP") == 0);
	CHECK_INT(s.media[3].n_fmt, 0);
	CHECK_INT(s.media[3].addr, ip("198.51.100.9"));

	CHECK_INT(s.media[2].rtpmap[0].channels, 1);

	/* PCMA arrives as dynamic PT 97; port 0 m-line is skipped. */
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, &f_pcma, 1, SDP_SENDONLY,
			     &st, &why_not), 0);
	CHECK_INT(st.media_index, 2);
	CHECK_INT(st.pt, 97);
	CHECK_INT(st.ptime, 30);
	CHECK_INT(st.dir, SDP_SENDONLY);
	/* PCMU: static 0 on the third m-line (the first has port 0, the
	 * RTP/SAVP one is not RTP/AVP).
	 */
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, &f_pcmu, 1, SDP_SENDONLY,
			     &st, &why_not), 0);
	CHECK_INT(st.media_index, 2);
	CHECK_INT(st.pt, 0);
	guard_free(&g);
}

/* A static PT redefined by rtpmap is what the rtpmap says; names match
 * case-insensitively, clock rates and channels exactly.
 */
static void
test_match_rules(void)
{
	static const char remap[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4000 RTP/AVP 0 120 10\r\n"
		"a=rtpmap:0 G729/8000\r\n"
		"a=rtpmap:120 PCMU/16000\r\n"
		"m=audio 4002 RTP/AVP 121 122 123 11\r\n"
		"a=rtpmap:121 pcmu/8000/1\r\n"
		"a=rtpmap:122 L16/44100/2\r\n"
		"a=rtpmap:123 L16/44100\r\n";
	struct guard_buf g;
	struct sdp_session s;
	const char *why;
	int octet = -1;

	CHECK_INT(sdp_guarded(&g, remap, &s, &why), 0);
	CHECK_INT(sdp_match(&s.media[0], &f_pcmu, &octet), -1);
	CHECK_INT(sdp_match(&s.media[0], &f_g729, &octet), 0);
	CHECK_INT(octet, 0);
	CHECK_INT(sdp_match(&s.media[1], &f_pcmu, &octet), 121);
	/* Static 10 is L16/44100/2 (RFC 3551 table 4) */
	CHECK_INT(sdp_match(&s.media[0], &f_l16s, &octet), 10);
	CHECK_INT(sdp_match(&s.media[1], &f_l16s, &octet), 122);
	CHECK_INT(s.media[1].rtpmap[1].channels, 2);
	guard_free(&g);
}

struct bad_sdp {
	const char *body;
	const char *why;
};

static const struct bad_sdp bad_sdps[] = {
	{ "", "empty SDP" },
	{ "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n", "no v= line" },
	{ "v=1\r\n", "bad v= line" },
	{ "v=0\r\nbogus\r\n", "bad SDP line" },
	{ "v=0\r\nm =audio 1 RTP/AVP 0\r\n", "bad SDP line" },
	{ "v=0\r\nc=IN IP6 2001:db8::1\r\n", "c= line not IN IP4" },
	{ "v=0\r\nc=ATM NSAP 1\r\n", "c= line not IN IP4" },
	{ "v=0\r\nc=IN IP4\r\n", "bad c= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.256\r\n", "bad address in c= line" },
	{ "v=0\r\nc=IN IP4 192.0.2\r\n", "bad address in c= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1.5\r\n", "bad address in c= line" },
	{ "v=0\r\nc=IN IP4 0192.0.2.1\r\n", "bad address in c= line" },
	{ "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "no c= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 70000 RTP/AVP 0\r\n",
	  "bad port in m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000/0 RTP/AVP 0\r\n",
	  "bad port in m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 128\r\n",
	  "bad format in m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP PCMU\r\n",
	  "bad format in m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP\r\n",
	  "bad format in m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000\r\n", "bad m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\n"
	  "m=averyveryverylongmediatype 4000 RTP/AVP 0\r\n", "bad m= line" },
	{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=a 1 RTP/AVP 0\r\nm=a 1 RTP/AVP 0\r\n"
	  "m=a 1 RTP/AVP 0\r\nm=a 1 RTP/AVP 0\r\nm=a 1 RTP/AVP 0\r\n"
	  "m=a 1 RTP/AVP 0\r\nm=a 1 RTP/AVP 0\r\nm=a 1 RTP/AVP 0\r\n"
	  "m=a 1 RTP/AVP 0\r\n", "too many m= lines" },
};

static void
test_parse_bad(void)
{
	size_t n = sizeof(bad_sdps) / sizeof(bad_sdps[0]);
	struct guard_buf g;
	struct sdp_session s;
	const char *why;

	for (size_t i = 0; i < n; i++) {
		int rc = sdp_guarded(&g, bad_sdps[i].body, &s, &why);

		if (rc != -1 || strcmp(why, bad_sdps[i].why) != 0) {
			fprintf(stderr, "case %zu: rc %d why \"%s\", want \"%s\"\n",
				i, rc, why, bad_sdps[i].why);
			check_failures++;
		}
		guard_free(&g);
	}
}

/* Builds the answer to offer for the first of fmts it accepts. */
static int
answer_for(const struct sdp_session *s, const struct media_fmt *fmts,
	   unsigned int n, enum sdp_dir wanted, char *out, size_t cap,
	   struct sdp_stream *st)
{
	struct sdp_answer a;
	struct sdp_refusal why;

	if (sdp_choose(s, fmts[0].kind, fmts, n, wanted, st, &why) < 0)
		return -2;
	st->port = 40000;
	memset(&a, 0, sizeof(a));
	a.offer = s;
	a.streams = st;
	a.n_streams = 1;
	a.addr = ip("192.0.2.50");
	a.sess_id = 1234567890123ULL;
	a.sess_version = 2;
	return sdp_build_answer(out, cap, &a);
}

/* RFC 3264 section 6: one m= line per offered one, in order, the
 * declined ones with port 0 and their formats.
 */
static void
test_answer(void)
{
	static const char want[] =
		"v=0\r\n"
		"o=anncd 1234567890123 2 IN IP4 192.0.2.50\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.50\r\n"
		"t=0 0\r\n"
		"m=audio 0 RTP/AVP 0 8\r\n"
		"m=video 0 RTP/AVP 31 96\r\n"
		"m=audio 40000 RTP/AVP 97\r\n"
		"a=rtpmap:97 PCMA/8000\r\n"
		"a=ptime:30\r\n"
		"a=sendonly\r\n"
		"m=application 0 UDP/DTLS/SCTP *\r\n"
		"m=audio 0 RTP/SAVP 0\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	struct sdp_answer a;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(sdp_guarded(&g, rich_sdp, &s, &why), 0);
	n = answer_for(&s, &f_pcma, 1, SDP_SENDONLY, out, sizeof(out), &st);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	memset(&a, 0, sizeof(a));
	a.offer = &s;
	a.streams = &st;
	a.n_streams = 1;
	a.addr = ip("192.0.2.50");
	a.sess_id = 1234567890123ULL;
	a.sess_version = 2;
	for (size_t cap = 0; cap <= sizeof(want) - 1; cap++)
		CHECK_INT(sdp_build_answer(out, cap, &a), -1);
	st.media_index = 5;
	CHECK_INT(sdp_build_answer(out, sizeof(out), &a), -1);
	st.media_index = 2;
	st.fmt.name = NULL;
	CHECK_INT(sdp_build_answer(out, sizeof(out), &a), -1);
	guard_free(&g);
}

/* RFC 3264 section 8.2: an offer within the dialog that sets a stream's
 * port to 0 removes it; the answer has port 0 on that line as well, even
 * for a stream the call keeps (held).
 */
static void
test_answer_port0(void)
{
	static const char offer[] =
		"v=0\r\no=uac 1 3 IN IP4 192.0.2.4\r\ns=-\r\n"
		"c=IN IP4 192.0.2.4\r\nt=0 0\r\n"
		"m=audio 0 RTP/AVP 0\r\na=sendrecv\r\n";
	static const char want[] =
		"v=0\r\n"
		"o=anncd 7 2 IN IP4 192.0.2.50\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.50\r\n"
		"t=0 0\r\n"
		"m=audio 0 RTP/AVP 0\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	struct sdp_answer a;
	const char *why;
	char out[512];
	int n;

	CHECK_INT(sdp_guarded(&g, offer, &s, &why), 0);
	memset(&st, 0, sizeof(st));
	st.media_index = 0;
	st.fmt = f_pcmu;
	st.pt = 0;
	st.port = 40000;
	st.dir = SDP_INACTIVE;
	memset(&a, 0, sizeof(a));
	a.offer = &s;
	a.streams = &st;
	a.n_streams = 1;
	a.addr = ip("192.0.2.50");
	a.sess_id = 7;
	a.sess_version = 2;
	n = sdp_build_answer(out, sizeof(out), &a);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	guard_free(&g);
}

static void
test_answer_pcmu_no_ptime(void)
{
	static const char want[] =
		"v=0\r\n"
		"o=anncd 1234567890123 2 IN IP4 192.0.2.50\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.50\r\n"
		"t=0 0\r\n"
		"m=audio 40000 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n"
		"m=video 0 RTP/AVP 31\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	const char *why;
	char out[512];
	int n;

	CHECK_INT(sdp_guarded(&g, wsinv_sdp, &s, &why), 0);
	n = answer_for(&s, &f_pcmu, 1, SDP_SENDRECV, out, sizeof(out), &st);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	guard_free(&g);
}

/* The content's own codec on a later m= line beats a conversion on the
 * first; a conversion is used only when the own codec is not offered;
 * port 0 and RTP/SAVP lines are never chosen.
 */
static void
test_choice_order(void)
{
	static const char offer[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 0 RTP/AVP 0\r\n"
		"m=audio 4000 RTP/AVP 8\r\n"
		"m=audio 4002 RTP/SAVP 0\r\n"
		"m=audio 4004 RTP/AVP 18 0\r\n";
	const struct media_fmt own_first[] = { f_pcmu, f_pcma_conv };
	const struct media_fmt g729_first[] = { f_g729, f_pcmu };
	const struct media_fmt none[] = { f_amr, f_l16s };
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	struct sdp_refusal why_not;
	const char *why;

	CHECK_INT(sdp_guarded(&g, offer, &s, &why), 0);
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, own_first, 2, SDP_SENDONLY,
			     &st, &why_not), 0);
	CHECK_INT(st.media_index, 3);
	CHECK_INT(st.pt, 0);
	CHECK_INT(st.fmt.conversion, 0);
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, own_first + 1, 1,
			     SDP_SENDONLY, &st, &why_not), 0);
	CHECK_INT(st.media_index, 1);
	CHECK_INT(st.fmt.conversion, 1);
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, g729_first, 2, SDP_SENDONLY,
			     &st, &why_not), 0);
	CHECK_INT(st.media_index, 3);
	CHECK_INT(st.pt, 18);
	CHECK_INT(st.ptime, 20);
	/* Nothing fits: 305 names every format the content had. */
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, none, 2, SDP_SENDONLY,
			     &st, &why_not), -1);
	CHECK_INT(why_not.warn_code, 305);
	CHECK(strcmp(why_not.text, "offer has none of AMR/8000, L16/44100") == 0);
	/* No video line at all: 304. */
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_VIDEO, &f_mpv, 1, SDP_SENDONLY,
			     &st, &why_not), -1);
	CHECK_INT(why_not.warn_code, 304);
	CHECK(strcmp(why_not.text, "no usable video m= line for MPV/90000") == 0);
	guard_free(&g);
}

/* A video content in the video m= line, one picture a packet (no ptime
 * in the answer); a multicast line is passed over.
 */
static void
test_choice_video(void)
{
	static const char offer[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4000 RTP/AVP 0 14\r\n"
		"m=video 4002 RTP/AVP 32\r\n"
		"c=IN IP4 233.252.0.1/3\r\n"
		"m=video 4004 RTP/AVP 31 32\r\n";
	static const char want_tail[] =
		"m=audio 0 RTP/AVP 0 14\r\n"
		"m=video 0 RTP/AVP 32\r\n"
		"m=video 40000 RTP/AVP 32\r\n"
		"a=rtpmap:32 MPV/90000\r\n"
		"a=sendonly\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(sdp_guarded(&g, offer, &s, &why), 0);
	n = answer_for(&s, &f_mpv, 1, SDP_SENDONLY, out, sizeof(out), &st);
	CHECK_INT(st.media_index, 2);
	CHECK_INT(st.ptime, 0);
	CHECK(n > (int)strlen(want_tail) &&
	      strcmp(out + n - strlen(want_tail), want_tail) == 0);
	guard_free(&g);
}

/* A video content with its audio: MPV in the video m= line, MPA in the
 * audio one, both in one answer (RFC 2250: a session each); the lines
 * anncd does not use keep their place with port 0.
 */
static void
test_two_streams(void)
{
	static const char offer[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4000 RTP/AVP 0 14\r\n"
		"m=application 4100 UDP/BFCP *\r\n"
		"m=video 4002 RTP/AVP 31 32\r\n";
	static const char want[] =
		"v=0\r\n"
		"o=anncd 9 1 IN IP4 192.0.2.50\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.50\r\n"
		"t=0 0\r\n"
		"m=audio 40002 RTP/AVP 14\r\n"
		"a=rtpmap:14 MPA/90000\r\n"
		"a=sendonly\r\n"
		"m=application 0 UDP/BFCP *\r\n"
		"m=video 40000 RTP/AVP 32\r\n"
		"a=rtpmap:32 MPV/90000\r\n"
		"a=sendonly\r\n";
	const struct media_fmt f_mpa = {
		MEDIA_CODEC_MPA, MEDIA_KIND_AUDIO, "MPA", 90000, 1, 14, 0, 0,
		0, 0,
	};
	struct sdp_stream st[2];
	struct sdp_refusal why_not;
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_answer a;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(sdp_guarded(&g, offer, &s, &why), 0);
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_VIDEO, &f_mpv, 1, SDP_SENDONLY,
			     &st[0], &why_not), 0);
	CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, &f_mpa, 1, SDP_SENDONLY,
			     &st[1], &why_not), 0);
	st[0].port = 40000;
	st[1].port = 40002;
	memset(&a, 0, sizeof(a));
	a.offer = &s;
	a.streams = st;
	a.n_streams = 2;
	a.addr = ip("192.0.2.50");
	a.sess_id = 9;
	a.sess_version = 1;
	n = sdp_build_answer(out, sizeof(out), &a);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	a.n_streams = 3;
	CHECK_INT(sdp_build_answer(out, sizeof(out), &a), -1);
	guard_free(&g);
}

/* RFC 4867: AMR by rtpmap name at any dynamic PT, bandwidth-efficient
 * and octet-aligned told apart by the fmtp, octet-align repeated in the
 * answer; mode-set read.
 */
static void
test_amr_fmtp(void)
{
	static const char offer[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4000 RTP/AVP 97 98 99\r\n"
		"a=rtpmap:97 AMR-WB/16000\r\n"
		"a=rtpmap:98 amr/8000/1\r\n"
		"a=fmtp:98 mode-set=0,2,5,7; octet-align=1\r\n"
		"a=rtpmap:99 AMR/8000\r\n"
		"a=maxptime:40\r\n"
		"a=ptime:60\r\n";
	static const char want_tail[] =
		"m=audio 40000 RTP/AVP 98\r\n"
		"a=rtpmap:98 AMR/8000\r\n"
		"a=fmtp:98 octet-align=1\r\n"
		"a=ptime:40\r\n"
		"a=sendonly\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	const char *why;
	struct media_fmt amr_oct = f_amr;
	char out[1024];
	int n, octet = -1;

	amr_oct.flags = MEDIA_FMT_AMR_OCTET;
	CHECK_INT(sdp_guarded(&g, offer, &s, &why), 0);
	CHECK_INT(s.media[0].n_fmtp, 1);
	CHECK_INT(s.media[0].fmtp[0].pt, 98);
	CHECK_INT(s.media[0].fmtp[0].octet_align, 1);
	CHECK_INT(s.media[0].fmtp[0].mode_set, 0xa5);
	CHECK_INT(s.media[0].maxptime, 40);
	/* Bandwidth-efficient is 99; octet-aligned 98 (RFC 4867 8.3). */
	CHECK_INT(sdp_match(&s.media[0], &f_amr, &octet), 99);
	CHECK_INT(octet, 0);
	CHECK_INT(sdp_match(&s.media[0], &amr_oct, &octet), 98);
	CHECK_INT(octet, 1);
	n = answer_for(&s, &amr_oct, 1, SDP_SENDONLY, out, sizeof(out), &st);
	CHECK_INT(st.fmt.flags, MEDIA_FMT_AMR_OCTET);
	CHECK_INT(st.ptime, 40);
	CHECK_INT(st.maxptime, 40);
	CHECK(n > (int)strlen(want_tail) &&
	      strcmp(out + n - strlen(want_tail), want_tail) == 0);
	guard_free(&g);
}

/* ptime in whole frames, within the format's largest packet and the
 * offered maxptime; one frame when maxptime allows no more, refused when
 * it allows less.
 */
static void
test_ptime(void)
{
	struct sdp_media md;

	memset(&md, 0, sizeof(md));
	CHECK_INT(sdp_ptime(&md, &f_pcmu), 20);
	CHECK_INT(sdp_ptime(&md, &f_mpv), 0);
	md.ptime = 25;
	CHECK_INT(sdp_ptime(&md, &f_pcmu), 25);
	CHECK_INT(sdp_ptime(&md, &f_g729), 20);
	CHECK_INT(sdp_ptime(&md, &f_amr), 20);
	md.ptime = 500;
	CHECK_INT(sdp_ptime(&md, &f_pcmu), 150);
	CHECK_INT(sdp_ptime(&md, &f_l16s), 8);
	md.maxptime = 30;
	CHECK_INT(sdp_ptime(&md, &f_g729), 30);
	CHECK_INT(sdp_ptime(&md, &f_amr), 20);
	md.maxptime = 10;
	CHECK_INT(sdp_ptime(&md, &f_g729), 10);
	CHECK_INT(sdp_ptime(&md, &f_amr), -1);
	md.ptime = 5;
	md.maxptime = 0;
	CHECK_INT(sdp_ptime(&md, &f_g729), 10);
	CHECK_INT(sdp_ptime(&md, &f_pcmu), 5);
}

/* sendonly and inactive offers are answered inactive: the call is set up
 * and nothing is sent; recvonly gets sendonly whatever anncd wants.
 */
static void
test_choice_dirs(void)
{
	static const char *const dirs[] = {
		"sendrecv", "sendonly", "recvonly", "inactive",
	};
	static const enum sdp_dir want_so[] = {
		SDP_SENDONLY, SDP_INACTIVE, SDP_SENDONLY, SDP_INACTIVE,
	};
	static const enum sdp_dir want_sr[] = {
		SDP_SENDRECV, SDP_INACTIVE, SDP_SENDONLY, SDP_INACTIVE,
	};
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_stream st;
	struct sdp_refusal why_not;
	const char *why;
	char offer[256];

	for (int d = 0; d < 4; d++) {
		snprintf(offer, sizeof(offer), "v=0\r\nc=IN IP4 192.0.2.1\r\n"
			 "m=audio 4000 RTP/AVP 0\r\na=%s\r\n", dirs[d]);
		CHECK_INT(sdp_guarded(&g, offer, &s, &why), 0);
		CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, &f_pcmu, 1,
				     SDP_SENDONLY, &st, &why_not), 0);
		CHECK_INT(st.dir, want_so[d]);
		CHECK_INT(sdp_choose(&s, MEDIA_KIND_AUDIO, &f_pcmu, 1,
				     SDP_SENDRECV, &st, &why_not), 0);
		CHECK_INT(st.dir, want_sr[d]);
		guard_free(&g);
	}
}

/* RFC 3261 section 25.1: the warn-text is a quoted-string. */
static void
test_warning(void)
{
	struct sdp_refusal r = { 305, "offer has none of \"A\\B\"\x01" };
	char out[128];
	int n;

	n = sdp_warning_header(out, sizeof(out), "anncd", &r);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n,
		   "Warning: 305 anncd \"offer has none of \\\"A\\\\B\\\"\"\r\n");
	r.warn_code = 304;
	snprintf(r.text, sizeof(r.text), "no usable video m= line for MPV/90000");
	n = sdp_warning_header(out, sizeof(out), "anncd", &r);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, "Warning: 304 anncd "
		   "\"no usable video m= line for MPV/90000\"\r\n");
	CHECK_INT(sdp_warning_header(out, (size_t)n, "anncd", &r), -1);
}

/* RFC 3264 section 5: anncd's offer lists every format, static types
 * where RFC 3551 has one, dynamic ones from 96, sendonly.
 */
static void
test_late_offer(void)
{
	static const char want[] =
		"v=0\r\n"
		"o=anncd 5 1 IN IP4 192.0.2.50\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.50\r\n"
		"t=0 0\r\n"
		"m=audio 40000 RTP/AVP 97 0 8 96\r\n"
		"a=rtpmap:97 AMR/8000\r\n"
		"a=fmtp:97 octet-align=1\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:96 PCMU/8000\r\n"
		"a=ptime:20\r\n"
		"a=sendonly\r\n";
	struct media_fmt fmts[4] = { f_amr, f_pcmu, f_pcma_conv, f_pcmu };
	struct sdp_offer o;
	char out[512];
	int n;

	/* AMR first takes 96... unless a later static type would clash:
	 * a second PCMU cannot have 0 again and gets the next free one.
	 */
	fmts[0].flags = MEDIA_FMT_AMR_OCTET;
	memset(&o, 0, sizeof(o));
	o.addr = ip("192.0.2.50");
	o.sess_id = 5;
	o.sess_version = 1;
	CHECK_INT(sdp_offer_add(&o, MEDIA_KIND_AUDIO, 40000, fmts, 4), 0);
	CHECK_INT(o.media[0].pt[0], 96);
	CHECK_INT(o.media[0].pt[3], 97);
	/* Swap so that the text is deterministic and reads in order. */
	o.media[0].pt[0] = 97;
	o.media[0].pt[3] = 96;
	n = sdp_build_offer(out, sizeof(out), &o);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	CHECK_INT(sdp_offer_add(&o, MEDIA_KIND_VIDEO, 40002, fmts, 0), -1);
	CHECK_INT(sdp_offer_add(&o, MEDIA_KIND_VIDEO, 40002, &f_mpv, 1), 0);
	CHECK_INT(sdp_offer_add(&o, MEDIA_KIND_AUDIO, 40004, &f_pcmu, 1), -1);
	CHECK_INT(o.media[1].pt[0], 32);
}

struct late_case {
	const char *answer;
	int rc;
	int pt;			/* the one sent, -1: declined */
	enum sdp_dir dir;
	unsigned int ptime;
	const char *why;
};

static const struct late_case late_cases[] = {
	{ "m=audio 5000 RTP/AVP 8 0\r\na=recvonly\r\na=ptime:30\r\n",
	  0, 8, SDP_SENDONLY, 30, NULL },
	{ "m=audio 5000 RTP/AVP 0\r\n", 0, 0, SDP_SENDONLY, 20, NULL },
	{ "m=audio 5000 RTP/AVP 0\r\na=inactive\r\n",
	  0, 0, SDP_INACTIVE, 20, NULL },
	{ "m=audio 0 RTP/AVP 0\r\n", -1, -1, SDP_INACTIVE, 0,
	  "answer declines every stream" },
	{ "m=audio 5000 RTP/AVP 18\r\n", -1, -1, SDP_INACTIVE, 0,
	  "answer keeps none of our formats (m= line 1)" },
	{ "m=video 5000 RTP/AVP 0\r\n", -1, -1, SDP_INACTIVE, 0,
	  "answer changes the media type (m= line 1)" },
	{ "m=audio 5000 RTP/AVP 0\r\nm=video 0 RTP/AVP 32\r\n", -1, -1,
	  SDP_INACTIVE, 0, "answer has 2 m= lines, the offer 1" },
};

/* RFC 3264 section 7: the answer in the ACK, each case against the offer
 * of PCMU and PCMA.
 */
static void
test_late_answer(void)
{
	const struct media_fmt fmts[2] = { f_pcmu, f_pcma_conv };
	size_t n = sizeof(late_cases) / sizeof(late_cases[0]);
	struct sdp_stream st[SDP_MAX_STREAMS];
	struct sdp_refusal why_not;
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_offer o;
	unsigned int sent;
	const char *why;
	char body[512];

	memset(&o, 0, sizeof(o));
	CHECK_INT(sdp_offer_add(&o, MEDIA_KIND_AUDIO, 40000, fmts, 2), 0);
	for (size_t i = 0; i < n; i++) {
		const struct late_case *lc = &late_cases[i];
		int rc;

		snprintf(body, sizeof(body), "v=0\r\nc=IN IP4 192.0.2.9\r\n%s",
			 lc->answer);
		CHECK_INT(sdp_guarded(&g, body, &s, &why), 0);
		why_not.text[0] = '\0';
		rc = sdp_take_answer(&o, &s, st, &sent, &why_not);
		CHECK_INT(rc, lc->rc);
		if (rc == 0) {
			CHECK_INT(st[0].pt, lc->pt);
			CHECK_INT(st[0].dir, lc->dir);
			CHECK_INT(st[0].ptime, lc->ptime);
			CHECK_INT(st[0].port, 40000);
			CHECK_INT(sent, lc->dir == SDP_INACTIVE ? 0 : 1);
		} else if (strcmp(why_not.text, lc->why) != 0) {
			fprintf(stderr, "late case %zu: why \"%s\"\n", i,
				why_not.text);
			check_failures++;
		}
		guard_free(&g);
	}
}

/* RFC 3264 section 6.1: the answer sends only what the offer receives
 * and receives only what it sends; anncd's wish narrows it further.
 */
static void
test_answer_dir(void)
{
	CHECK_INT(sdp_answer_dir(SDP_SENDRECV, SDP_SENDONLY), SDP_SENDONLY);
	CHECK_INT(sdp_answer_dir(SDP_SENDRECV, SDP_SENDRECV), SDP_SENDRECV);
	CHECK_INT(sdp_answer_dir(SDP_RECVONLY, SDP_SENDRECV), SDP_SENDONLY);
	CHECK_INT(sdp_answer_dir(SDP_RECVONLY, SDP_SENDONLY), SDP_SENDONLY);
	CHECK_INT(sdp_answer_dir(SDP_SENDONLY, SDP_SENDRECV), SDP_RECVONLY);
	CHECK_INT(sdp_answer_dir(SDP_SENDONLY, SDP_SENDONLY), SDP_INACTIVE);
	CHECK_INT(sdp_answer_dir(SDP_INACTIVE, SDP_SENDRECV), SDP_INACTIVE);
	CHECK_INT(sdp_answer_dir(SDP_SENDRECV, SDP_INACTIVE), SDP_INACTIVE);
	CHECK_INT(sdp_answer_dir((enum sdp_dir)9, SDP_SENDRECV), SDP_INACTIVE);
}

/* Every prefix of an offer parses or fails cleanly inside its bytes. */
static void
test_prefixes(const char *body)
{
	size_t len = strlen(body);
	struct guard_buf g;
	struct sdp_session s;
	const char *why;

	for (size_t n = 0; n <= len; n++) {
		(void)sdp_parse(guard_copy(&g, body, n), n, &s, &why);
		guard_free(&g);
	}
}

/* The answer repeats each m= line's media type and proto, so both must be
 * tokens (RFC 4566 section 9).  The first offer is what the fuzz target
 * found: a proto starting with NUL was kept as an empty C string, and the
 * answer's "m=audio 0  121" did not parse.
 */
static void
test_m_line_tokens(void)
{
	static const char nul_proto[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4002 \0\0TP/AVP 121\r\n";
	static const char nul_type[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio\0x 4000 RTP/AVP 0\r\n";
	static const char cr_type[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=au\rdio 4000 RTP/AVP 0\r\n";
	const char *const offers[] = { nul_proto, nul_type, cr_type };
	const size_t lens[] = {
		sizeof(nul_proto) - 1, sizeof(nul_type) - 1, sizeof(cr_type) - 1,
	};
	struct guard_buf g;
	struct sdp_session s;
	const char *why;

	for (size_t i = 0; i < 3; i++) {
		why = "";
		CHECK_INT(sdp_parse(guard_copy(&g, offers[i], lens[i]), lens[i],
				    &s, &why), -1);
		CHECK(strcmp(why, "bad m= line") == 0);
		guard_free(&g);
	}
	CHECK_INT(sdp_guarded(&g, "v=0\r\nc=IN IP4 192.0.2.1\r\n"
			      "m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n", &s, &why),
		  0);
	guard_free(&g);
}

int
main(void)
{
	test_parse_wsinv();
	test_parse_rich();
	test_match_rules();
	test_parse_bad();
	test_answer();
	test_answer_port0();
	test_answer_pcmu_no_ptime();
	test_choice_order();
	test_choice_video();
	test_two_streams();
	test_amr_fmtp();
	test_ptime();
	test_choice_dirs();
	test_warning();
	test_late_offer();
	test_late_answer();
	test_answer_dir();
	test_m_line_tokens();
	test_prefixes(wsinv_sdp);
	test_prefixes(rich_sdp);
	return CHECK_DONE();
}
