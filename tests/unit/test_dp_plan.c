/* The dataplane playing packet plans, on a net_ring port whose frames the
 * test reads back: explicit plans of varying lengths, timestamps and
 * marker flags, a uniform plan with a short last packet, play-throughs
 * with silence between them (RFC 4240 repeat and delay), a duration cap
 * that cuts a plan, hold and resume, and a redirect that needs ARP.
 * Every RTP packet is checked: sequence number, timestamp, marker,
 * addresses and payload bytes against the content.  Times are checked
 * only from below (no packet may leave before its media time), which no
 * slow machine can break.  Exit 77 only when the EAL cannot start.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/clock.h"
#include "core/content.h"
#include "dataplane/dp.h"
#include "tests/unit/check.h"
#include "tests/unit/dp_rig.h"
#include "tests/unit/bytes.h"

#define IP4(a, b, c, d)	rte_cpu_to_be_32((uint32_t)(a) << 24 | (b) << 16 | \
				 (c) << 8 | (d))
#define MEDIA_IP	IP4(198, 18, 0, 1)
#define CALLER_IP	IP4(198, 18, 0, 2)
#define MOVED_IP	IP4(198, 18, 0, 4)	/* where a redirect goes */
#define HDR_LEN		54
#define RATE		8000
#define PKT_TS		80			/* 10 ms at 8 kHz */
#define PKT_LEN		80
#define CONTENT_LEN	(CONTENT_CHUNK_SIZE + 8192)	/* two chunks */
#define MAX_CAP		512
#define WAIT_MS		10000
#define HOLD_MS		150
/* Streams that must still run when the test's update comes: long enough
 * that no stall of the test's own process lets them end before.
 */
#define LONG_PKTS	100

static const struct rte_ether_addr caller_mac = {
	.addr_bytes = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 } };
static const struct rte_ether_addr moved_mac = {
	.addr_bytes = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x04 } };

/* One frame as the port sent it, flattened, and when the test took it. */
struct cap {
	uint8_t f[1600];
	uint16_t len;
	uint16_t nb_segs;
	uint64_t tsc;
};

static struct cap caps[MAX_CAP];	/* RTP of the stream under test */
static unsigned int ncaps;
static unsigned int nrtcp, nbye;	/* its RTCP */
static struct rte_ring *ring_in, *ring_out;
static struct rte_mempool *test_pool;
static struct rte_ether_addr dp_mac;
static struct content *content;
static struct dp_event last_ev;

static void
uniform_plan(struct media_plan *pl, size_t off, size_t total)
{
	memset(pl, 0, sizeof(*pl));
	pl->content = content;
	pl->clock_rate = RATE;
	pl->uni_off = off;
	pl->uni_total = total;
	pl->uni_len = PKT_LEN;
	pl->uni_ts = PKT_TS;
	pl->npkts = (uint32_t)((total + PKT_LEN - 1) / PKT_LEN);
	pl->span_ts = pl->npkts * PKT_TS;
}

static void
base_params(struct dp_stream_params *p, uint32_t handle,
	    const struct media_plan *pl)
{
	memset(p, 0, sizeof(*p));
	p->handle = handle;
	p->dst_ip = CALLER_IP;
	p->dst_port = (uint16_t)(50000 + handle * 2);
	p->src_port = (uint16_t)(40000 + handle * 2);
	p->pt = 8;
	p->ssrc = 0x5a5a0000u + handle;
	p->seq0 = 65530;			/* wraps */
	p->ts0 = 0xfffffe00u;			/* wraps */
	p->plan = pl;
	p->repeat = 1;
}

/* An ARP reply from mac for ip, to the worker. */
static void
inject_reply(const struct rte_ether_addr *mac, uint32_t ip)
{
	const struct dp_rig_arp a = {
		.op = RTE_ARP_OP_REPLY, .sha = mac, .sip = ip,
		.dp_mac = &dp_mac, .tip = MEDIA_IP,
	};

	CHECK_INT(dp_rig_inject_arp(test_pool, ring_in, &a), 0);
}

/* ARP requests are answered for the two addresses the test plays; RTP of
 * ssrc is captured, its RTCP counted (a BYE is the long one).
 */
static void
take_frame(const struct rte_mbuf *m, uint32_t ssrc)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct cap *c;
	uint32_t tip;

	if (m->data_len >= 42 && be16(f + 12) == RTE_ETHER_TYPE_ARP) {
		memcpy(&tip, f + 38, 4);
		if (tip == CALLER_IP)
			inject_reply(&caller_mac, tip);
		else if (tip == MOVED_IP)
			inject_reply(&moved_mac, tip);
		return;
	}
	if (m->data_len < HDR_LEN || be32(f + 50) != ssrc) {
		if (m->data_len >= 42 && (be16(f + 36) & 1)) {
			nrtcp++;
			nbye += m->pkt_len > 42 + 28 + 28;
		}
		return;
	}
	CHECK(ncaps < MAX_CAP);
	if (ncaps >= MAX_CAP)
		return;
	c = &caps[ncaps++];
	c->tsc = rte_rdtsc();
	c->nb_segs = m->nb_segs;
	c->len = 0;
	for (; m != NULL; m = m->next) {
		memcpy(c->f + c->len, rte_pktmbuf_mtod(m, const uint8_t *),
		       m->data_len);
		c->len = (uint16_t)(c->len + m->data_len);
	}
}

static void
pump(uint32_t ssrc)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ring_out, (void **)&m) == 0) {
		take_frame(m, ssrc);
		rte_pktmbuf_free(m);
	}
}

/* Pumps until the stream's event comes (kept in last_ev) or until it has
 * sent upto packets.  Returns 1 when the event came.  Bounded.
 */
static int
run_until(const struct dp_stream_params *p, unsigned int upto)
{
	unsigned int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		pump(p->ssrc);
		if (ncaps >= upto)
			return 0;
		if (dp_poll_events(&last_ev, 1) == 1) {
			CHECK_INT(last_ev.handle, p->handle);
			pump(p->ssrc);		/* the BYE went before */
			return 1;
		}
		rte_delay_us_sleep(1000);
	}
	CHECK(!"stream timed out");
	return 0;
}

static void
begin(const struct dp_stream_params *p)
{
	ncaps = nrtcp = nbye = 0;
	CHECK_INT(dp_stream_start(p), 0);
}

/* Where packet j of the stream comes from in the plan, and its nominal
 * timestamp offset (without hold).
 */
struct want {
	size_t off;
	uint32_t len;
	uint64_t ts;
	int marker;
};

static void
want_packet(const struct dp_stream_params *p, uint32_t j, struct want *w)
{
	const struct media_plan *pl = p->plan;
	uint32_t i = j % pl->npkts, k = j / pl->npkts, ts, flags;
	uint64_t delay_ts = (uint64_t)p->delay_ms * pl->clock_rate / 1000;

	media_plan_packet(pl, i, &w->off, &w->len, &ts, &flags);
	w->ts = k * (pl->span_ts + delay_ts) + ts;
	w->marker = j == 0 || (i == 0 && delay_ts > 0) ||
		    (flags & MEDIA_PKT_MARKER);
}

/* Capture c is packet j of the stream, shifted by skew ticks of hold,
 * sent to ip and port from mac with the marker as given.
 */
static void
check_packet(const struct cap *c, const struct dp_stream_params *p,
	     uint32_t j, uint64_t skew, int marker)
{
	const uint8_t *f = c->f, *rtp = f + 42;
	struct want w;
	uint32_t i;

	want_packet(p, j, &w);
	CHECK_INT(c->len, HDR_LEN + w.len);
	if (c->len != HDR_LEN + w.len)
		return;
	CHECK(memcmp(f, p->dst_ip == MOVED_IP ? &moved_mac : &caller_mac,
		     6) == 0);
	CHECK(memcmp(f + 6, &dp_mac, 6) == 0);
	CHECK(memcmp(f + 30, &p->dst_ip, 4) == 0);
	CHECK_INT(be16(f + 36), p->dst_port);
	CHECK_INT(rtp[0], 0x80);
	CHECK_INT(rtp[1], (marker ? 0x80 : 0) | p->pt);
	CHECK_INT(be16(rtp + 2), (uint16_t)(p->seq0 + j));
	CHECK_INT(be32(rtp + 4), (uint32_t)(p->ts0 + w.ts + skew));
	for (i = 0; i < w.len; i++)
		if (rtp[12 + i] != dp_rig_pattern(w.off + i))
			break;
	CHECK_INT(i, w.len);
}

/* No packet left before its media time: the test took it after the stream
 * could have started (t0, before dp_stream_start) plus its offset.
 */
static void
check_not_early(const struct cap *c, uint64_t t0, uint64_t off)
{
	uint64_t due = t0 + clock_ns_to_tsc(off * 1000000000ull / RATE);

	CHECK(c->tsc >= due);
}

/* The whole stream as planned, with no hold. */
static void
check_all(const struct dp_stream_params *p, uint64_t t0, uint32_t n)
{
	struct want w;
	uint32_t j;

	CHECK_INT(ncaps, n);
	for (j = 0; j < ncaps && j < n; j++) {
		want_packet(p, j, &w);
		check_packet(&caps[j], p, j, 0, w.marker);
		check_not_early(&caps[j], t0, w.ts);
	}
	CHECK_INT(last_ev.type, DP_EV_ENDED);
	CHECK_INT(last_ev.packets, n);
	CHECK_INT(nbye, 1);
}

/* Lengths from 1 byte to near the MTU, timestamps that are not a multiple
 * of anything, offsets out of order and one across the chunk boundary,
 * a marker flag on the fourth; played twice without delay, so that the
 * second play-through's first packet has no marker of its own.
 */
static const struct media_pkt explicit_pkts[] = {
	{ .off = 1000, .len = 160, .ts = 0 },
	{ .off = 7, .len = 1, .ts = 160 },
	{ .off = CONTENT_CHUNK_SIZE - 100, .len = 1200, .ts = 163 },
	{ .off = 50000, .len = 37, .ts = 500, .flags = MEDIA_PKT_MARKER },
	{ .off = CONTENT_LEN - 1460, .len = 1460, .ts = 501 },
};

static void
test_explicit(void)
{
	struct media_plan pl = {
		.content = content, .npkts = RTE_DIM(explicit_pkts),
		.clock_rate = RATE, .span_ts = 560, .pkt = explicit_pkts,
	};
	struct dp_stream_params p;
	uint64_t t0 = rte_rdtsc();
	struct dp_stats st;

	base_params(&p, 1, &pl);
	p.repeat = 2;
	begin(&p);
	CHECK(run_until(&p, MAX_CAP));
	check_all(&p, t0, 2 * RTE_DIM(explicit_pkts));
	CHECK_INT(caps[2].nb_segs, 3);		/* across the boundary */
	CHECK_INT(caps[RTE_DIM(explicit_pkts)].f[43] & 0x80, 0);
	dp_get_stats(&st);
	CHECK_INT(st.tx_split, 2);
	printf("explicit: %u packets, %u RTCP\n", ncaps, nrtcp);
}

/* Nine packets, the last of 17 bytes, three times with 120 ms between:
 * the timestamps jump by the silence, the first after it has the marker.
 */
static void
test_repeat(void)
{
	struct media_plan pl;
	struct dp_stream_params p;
	uint64_t t0 = rte_rdtsc();
	uint64_t gap;

	uniform_plan(&pl, 333, 8 * PKT_LEN + 17);
	pl.span_ts = 8 * PKT_TS + 17;
	base_params(&p, 2, &pl);
	p.repeat = 3;
	p.delay_ms = 120;
	begin(&p);
	CHECK(run_until(&p, MAX_CAP));
	check_all(&p, t0, 27);
	CHECK_INT(caps[8].len, HDR_LEN + 17);
	CHECK_INT(caps[26].len, HDR_LEN + 17);
	/* Sent no sooner than the silence after the previous packet's due
	 * time: the previous packet was not sent before its own.
	 */
	gap = be32(caps[9].f + 46) - be32(caps[8].f + 46);
	CHECK_INT(gap, 17 + 120 * RATE / 1000);
	printf("repeat: 27 packets, %.1f ms from the 9th to the 10th\n",
	       (double)clock_tsc_to_ns(caps[9].tsc - caps[8].tsc) / 1e6);
}

/* A 125 ms cap cuts 50 packets of 10 ms after the 13th (offsets 0 to 960
 * ticks are under 1000): an ordinary end, BYE and event, no sooner than
 * the cap.  A second stream's cap falls in a long silence.
 */
static void
test_duration(void)
{
	struct media_plan pl;
	struct dp_stream_params p;
	uint64_t t0 = rte_rdtsc();

	uniform_plan(&pl, 0, 50 * PKT_LEN);
	base_params(&p, 3, &pl);
	p.duration_ms = 125;
	begin(&p);
	CHECK(run_until(&p, MAX_CAP));
	check_all(&p, t0, 13);
	CHECK_INT(last_ev.bytes, 13 * PKT_LEN);
	CHECK(rte_rdtsc() >= t0 + clock_ns_to_tsc(125000000));

	t0 = rte_rdtsc();
	uniform_plan(&pl, 0, 5 * PKT_LEN);
	base_params(&p, 4, &pl);
	p.repeat = 4;
	p.delay_ms = 2000;
	p.duration_ms = 200;
	begin(&p);
	CHECK(run_until(&p, MAX_CAP));
	check_all(&p, t0, 5);
	CHECK(rte_rdtsc() >= t0 + clock_ns_to_tsc(200000000));
}

static void
sleep_pumping(unsigned int ms, uint32_t ssrc)
{
	for (; ms > 0; ms--) {
		pump(ssrc);
		rte_delay_us_sleep(1000);
	}
}

/* Checks captures from..to-1 as packets from..to-1 shifted by one skew,
 * the first with the marker when mark is set.  Returns the skew found.
 */
static uint64_t
check_segment(const struct dp_stream_params *p, uint32_t from, uint32_t to,
	      int mark)
{
	struct want w;
	uint64_t skew = 0;
	uint32_t j;

	if (from >= to || to > ncaps)
		return 0;
	want_packet(p, from, &w);
	skew = (uint32_t)(be32(caps[from].f + 46) - p->ts0) - w.ts;
	for (j = from; j < to; j++) {
		want_packet(p, j, &w);
		check_packet(&caps[j], p, j, skew,
			     w.marker || (mark && j == from));
	}
	return skew;
}

/* Hold after ten packets: nothing comes for HOLD_MS, then the plan goes
 * on from where it was, its timestamps ahead by at least the time between
 * the last packet before the hold and the resume.
 */
static void
test_hold(void)
{
	struct media_plan pl;
	struct dp_stream_params p;
	uint64_t t_resume, skew, min_ticks;
	uint32_t held;

	uniform_plan(&pl, 4321, LONG_PKTS * PKT_LEN);
	base_params(&p, 5, &pl);
	begin(&p);
	CHECK(!run_until(&p, 10));
	CHECK_INT(dp_stream_update(p.handle, p.dst_ip, p.dst_port, 0, 1), 0);
	sleep_pumping(20, p.ssrc);	/* what was under way */
	held = ncaps;
	sleep_pumping(HOLD_MS, p.ssrc);
	CHECK_INT(ncaps, held);
	t_resume = rte_rdtsc();
	CHECK_INT(dp_stream_update(p.handle, p.dst_ip, p.dst_port, 0, 0), 0);
	CHECK(run_until(&p, MAX_CAP));
	CHECK_INT(ncaps, LONG_PKTS);
	CHECK_INT(last_ev.packets, LONG_PKTS);
	CHECK_INT(check_segment(&p, 0, held, 0), 0);
	skew = check_segment(&p, held, ncaps, 1);
	min_ticks = clock_tsc_to_ns(t_resume - caps[held - 1].tsc) * RATE /
		    1000000000u;
	/* The jump from the last packet before to the first after. */
	CHECK(skew + PKT_TS + 1 >= min_ticks);
	printf("hold: %u packets before, %" PRIu64 " ticks of hold\n", held,
	       skew);
}

/* A re-INVITE moves the stream to another address and port: the worker
 * asks ARP for it, and the rest of the plan goes there, with the marker;
 * the BYE goes to the new RTCP port.  An update for no stream is counted.
 */
static void
test_redirect(void)
{
	struct media_plan pl;
	struct dp_stream_params p, moved;
	struct dp_stats st;
	uint32_t before;

	uniform_plan(&pl, 100, LONG_PKTS * PKT_LEN);
	base_params(&p, 6, &pl);
	begin(&p);
	CHECK(!run_until(&p, 10));
	moved = p;
	moved.dst_ip = MOVED_IP;
	moved.dst_port = 52000;
	CHECK_INT(dp_stream_update(p.handle, MOVED_IP, 52000, 0, 0), 0);
	CHECK_INT(dp_stream_update(999, MOVED_IP, 52000, 0, 0), 0);
	CHECK(run_until(&p, MAX_CAP));
	CHECK_INT(ncaps, LONG_PKTS);
	for (before = 0; before < ncaps; before++)
		if (memcmp(caps[before].f + 30, &moved.dst_ip, 4) == 0)
			break;
	CHECK(before >= 10 && before < LONG_PKTS);
	check_segment(&p, 0, before, 0);
	check_segment(&moved, before, ncaps, 1);
	if (before < ncaps)
		CHECK(memcmp(caps[before].f, &moved_mac, 6) == 0);
	CHECK_INT(nbye, 1);
	dp_get_stats(&st);
	CHECK_INT(st.cmd_unknown, 1);
	printf("redirect: %u packets before, %u after\n", before,
	       ncaps - before);
}

/* Put on hold with a cap: the stream ends at the cap, on hold. */
static void
test_hold_cap(void)
{
	struct media_plan pl;
	struct dp_stream_params p;
	uint64_t t0 = rte_rdtsc();

	uniform_plan(&pl, 0, 2 * LONG_PKTS * PKT_LEN);
	base_params(&p, 7, &pl);
	p.duration_ms = LONG_PKTS * 10;
	begin(&p);
	CHECK(!run_until(&p, 3));
	CHECK_INT(dp_stream_update(p.handle, p.dst_ip, p.dst_port, 0, 1), 0);
	CHECK(run_until(&p, MAX_CAP));
	CHECK_INT(last_ev.type, DP_EV_ENDED);
	CHECK(last_ev.packets >= 3 && last_ev.packets < LONG_PKTS);
	CHECK_INT(ncaps, last_ev.packets);
	check_segment(&p, 0, ncaps, 0);
	CHECK(rte_rdtsc() >= t0 + clock_ns_to_tsc(LONG_PKTS * 10000000ull));
}

static int
ring_port(void)
{
	return dp_rig_ring_port("net_ring_p", &ring_in, &ring_out, 1, 1024,
				&test_pool);
}

static void
run_tests(int port)
{
	struct dp_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.port_id = (uint16_t)port;
	cfg.lcore_id = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	cfg.media_ip = MEDIA_IP;
	cfg.max_streams = 8;
	cfg.nb_mbufs = 1023;
	cfg.arp_timeout_ms = 2000;
	CHECK_INT(dp_start(&cfg), 0);
	dp_port_mac(&dp_mac);

	test_explicit();
	test_repeat();
	test_duration();
	test_hold();
	test_redirect();
	test_hold_cap();

	rte_delay_us_sleep(20000);
	pump(0);
	dp_stop();
}

int
main(int argc, char **argv)
{
	int port;

	(void)argc;
	if (eal_rig_init(argv[0], "dpp", "256", "-l", "0,1", NULL) != 0)
		return 77;
	clock_calibrate(200);
	CHECK_INT(content_sys_init(4, CONTENT_LEN), 0);
	content = dp_rig_content(0, CONTENT_LEN, dp_rig_pattern);
	port = ring_port();
	CHECK(content != NULL && port >= 0);
	if (content != NULL && port >= 0)
		run_tests(port);
	CHECK_INT(dp_rig_release(content), 0);

	eal_rig_done();
	return CHECK_DONE();
}
