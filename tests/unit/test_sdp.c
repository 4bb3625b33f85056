/* Unit tests of SDP offer parsing, codec choice and answer building, each
 * offer placed against a guard page.
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
	uint8_t pt = 99;

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
	CHECK_INT(sdp_pick(&s, MEDIA_CODEC_PCMU, &pt), 0);
	CHECK_INT(pt, 0);
	CHECK_INT(sdp_pick(&s, MEDIA_CODEC_PCMA, &pt), -1);
	CHECK_INT(sdp_pick(&s, MEDIA_CODEC_NONE, &pt), -1);
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
	const char *why;
	uint8_t pt = 0;

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

	/* PCMA arrives as dynamic PT 97; port 0 m-line is skipped. */
	CHECK_INT(sdp_pick(&s, MEDIA_CODEC_PCMA, &pt), 2);
	CHECK_INT(pt, 97);
	/* PCMU: static 0 on the third m-line (the first has port 0, the
	 * RTP/SAVP one is not RTP/AVP).
	 */
	CHECK_INT(sdp_pick(&s, MEDIA_CODEC_PCMU, &pt), 2);
	CHECK_INT(pt, 0);
	guard_free(&g);
}

/* A static PT redefined by rtpmap is what the rtpmap says. */
static void
test_pick_rules(void)
{
	static const char remap[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4000 RTP/AVP 0 120\r\n"
		"a=rtpmap:0 G729/8000\r\n"
		"a=rtpmap:120 PCMU/16000\r\n"
		"m=audio 4002 RTP/AVP 121\r\n"
		"a=rtpmap:121 PCMU/8000/1\r\n";
	struct guard_buf g;
	struct sdp_session s;
	const char *why;
	uint8_t pt = 0;

	CHECK_INT(sdp_guarded(&g, remap, &s, &why), 0);
	CHECK_INT(sdp_pick(&s, MEDIA_CODEC_PCMU, &pt), 1);
	CHECK_INT(pt, 121);
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
		"a=ptime:20\r\n"
		"a=sendonly\r\n"
		"m=application 0 UDP/DTLS/SCTP *\r\n"
		"m=audio 0 RTP/SAVP 0\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_answer a;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(sdp_guarded(&g, rich_sdp, &s, &why), 0);
	memset(&a, 0, sizeof(a));
	a.offer = &s;
	a.codec = MEDIA_CODEC_PCMA;
	a.media_index = sdp_pick(&s, a.codec, &a.pt);
	a.ptime = 20;
	a.addr = ip("192.0.2.50");
	a.port = 40000;
	a.sess_id = 1234567890123ULL;
	a.sess_version = 2;
	a.dir = SDP_SENDONLY;
	n = sdp_build_answer(out, sizeof(out), &a);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	for (size_t cap = 0; cap <= sizeof(want) - 1; cap++)
		CHECK_INT(sdp_build_answer(out, cap, &a), -1);
	a.media_index = 5;
	CHECK_INT(sdp_build_answer(out, sizeof(out), &a), -1);
	a.media_index = 2;
	a.codec = MEDIA_CODEC_NONE;
	CHECK_INT(sdp_build_answer(out, sizeof(out), &a), -1);
	guard_free(&g);
}

static void
test_answer_pcmu_no_ptime(void)
{
	static const char want[] =
		"v=0\r\n"
		"o=anncd 7 7 IN IP4 10.0.0.1\r\n"
		"s=-\r\n"
		"c=IN IP4 10.0.0.1\r\n"
		"t=0 0\r\n"
		"m=audio 30000 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=sendrecv\r\n"
		"m=video 0 RTP/AVP 31\r\n";
	struct guard_buf g;
	struct sdp_session s;
	struct sdp_answer a = { 0 };
	const char *why;
	char out[512];
	int n;

	CHECK_INT(sdp_guarded(&g, wsinv_sdp, &s, &why), 0);
	a.offer = &s;
	a.codec = MEDIA_CODEC_PCMU;
	a.media_index = sdp_pick(&s, a.codec, &a.pt);
	a.addr = ip("10.0.0.1");
	a.port = 30000;
	a.sess_id = 7;
	a.sess_version = 7;
	a.dir = SDP_SENDRECV;
	n = sdp_build_answer(out, sizeof(out), &a);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	guard_free(&g);
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
	test_pick_rules();
	test_parse_bad();
	test_answer();
	test_answer_pcmu_no_ptime();
	test_answer_dir();
	test_m_line_tokens();
	test_prefixes(wsinv_sdp);
	test_prefixes(rich_sdp);
	return CHECK_DONE();
}
