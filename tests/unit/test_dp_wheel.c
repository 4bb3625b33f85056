/* The dataplane's timing wheel, through the measuring build of the
 * dataplane (-DDP_MEASURE) on a net_ring port that hands the test the very
 * mbufs the worker sent.  Streams of many packet times, from below one
 * tick of the wheel to beyond its span, run at once; some are stopped in
 * the middle; the worker is made to stall twice.  Every stream's packets
 * must come in order with no sequence number or timestamp missing, each
 * stream must send exactly what its event says, and no packet may reach
 * the port before its ideal time.  Nothing asserts on how late.  Exit 77
 * only when the EAL cannot start.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define NSTREAMS	200
#define NSTOP		20		/* every tenth stream is stopped */
#define PAYLOAD_LEN	(64 * 160)
#define HDR_LEN		54
#define WAIT_MS		20000
#define STALL_NS	5000000ull	/* longer than the VM's own stalls */

/* Packet times in µs: one under a tick, ordinary ones, odd ones, and one
 * longer than the wheel's span (130 to 260 ms).
 */
static const uint32_t ptimes_us[] = { 10, 1000, 2500, 3000, 7000, 20000,
				      30000, 400000 };

struct seen {
	struct dp_stream_params p;
	struct media_plan plan;		/* p.plan: a tick a microsecond */
	uint32_t us;			/* packet time */
	uint32_t packets;		/* received, in order */
	uint32_t npkts;			/* in the whole content */
	int bad;			/* out of order or malformed */
	int ended;
	struct dp_event ev;
};

static struct seen seen[NSTREAMS];
static unsigned int nrtcp;		/* RTCP frames, not checked here */
static struct rte_ring *ring_in, *ring_out;

/* Payload bytes: this test checks order and timing, not content. */
static uint8_t
fill_byte(size_t x)
{
	(void)x;
	return 0x55;
}

/* Stream i: a packet time from the table and a packet size that gives
 * the long-period streams only a few packets, so that the test stays short.
 */
static void
stream_params(uint32_t i, struct content *c)
{
	struct seen *s = &seen[i];
	uint32_t us = ptimes_us[i % RTE_DIM(ptimes_us)];
	uint32_t bytes = us >= 30000 ? 4096 : 160 + (i % 3) * 80;

	memset(s, 0, sizeof(*s));
	s->p.handle = 1000 + i;
	s->p.dst_ip = rte_cpu_to_be_32(0xc6120002);
	s->p.dst_port = (uint16_t)(50000 + i * 2);
	s->p.src_port = (uint16_t)(40000 + i * 2);
	s->p.ssrc = 0xa0000000u + i;
	s->p.seq0 = (uint16_t)(65500 + i);	/* some wrap */
	s->p.ts0 = 0xfffff000u + i * 77;
	s->p.plan = &s->plan;
	s->p.repeat = 1;
	s->us = us;
	s->plan.content = c;
	s->plan.clock_rate = 1000000;
	s->plan.uni_total = PAYLOAD_LEN;
	s->plan.uni_len = bytes > 1400 ? 1400 : bytes;
	s->plan.uni_ts = us;
	s->npkts = (PAYLOAD_LEN + s->plan.uni_len - 1) / s->plan.uni_len;
	s->plan.npkts = s->npkts;
	s->plan.span_ts = s->npkts * us;
}

/* One frame: its stream by SSRC, then the next sequence number and
 * timestamp of that stream, nothing skipped or repeated.
 */
static void
check_frame(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t i, ssrc;
	struct seen *s;

	CHECK(m->data_len >= HDR_LEN);
	if (m->data_len < HDR_LEN)
		return;
	if (be16(f + 36) & 1) {		/* RTCP, to an odd port */
		nrtcp++;
		return;
	}
	ssrc = be32(f + 50);
	i = ssrc - 0xa0000000u;
	CHECK(i < NSTREAMS);
	if (i >= NSTREAMS)
		return;
	s = &seen[i];
	if (be16(f + 44) != (uint16_t)(s->p.seq0 + s->packets) ||
	    be32(f + 46) != s->p.ts0 + s->packets * s->plan.uni_ts)
		s->bad++;
	s->packets++;
}

static unsigned int
drain(void)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while (rte_ring_dequeue(ring_out, (void **)&m) == 0) {
		check_frame(m);
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static unsigned int
take_events(void)
{
	struct dp_event ev[64];
	unsigned int i, k, got = 0;
	uint32_t idx;

	while ((k = dp_poll_events(ev, RTE_DIM(ev))) > 0) {
		for (i = 0; i < k; i++) {
			idx = ev[i].handle - 1000;
			CHECK(idx < NSTREAMS);
			if (idx >= NSTREAMS)
				continue;
			CHECK(!seen[idx].ended);	/* one event each */
			seen[idx].ended = 1;
			seen[idx].ev = ev[i];
		}
		got += k;
	}
	return got;
}

/* Every tenth stream is stopped, unless its packet time is under a tick:
 * those are over within a millisecond.
 */
static int
to_stop(unsigned int i)
{
	return i % 10 == 0 && seen[i].us >= 1000;
}

static void
stop_some(void)
{
	unsigned int i;

	for (i = 0; i < NSTREAMS; i++)
		if (to_stop(i))
			CHECK_INT(dp_stream_stop(seen[i].p.handle), 0);
}

/* Runs until every stream has its event, stopping some in flight and
 * stalling the worker twice.
 */
static void
run_streams(void)
{
	unsigned int ms, nev = 0;

	for (ms = 0; ms < WAIT_MS && nev < NSTREAMS; ms++) {
		if (ms == 5 || ms == 40)
			dp_measure_stall(STALL_NS);
		if (ms == 30)
			stop_some();
		drain();
		nev += take_events();
		rte_delay_us_sleep(1000);
	}
	rte_delay_us_sleep(10000);
	drain();
	CHECK_INT(nev, NSTREAMS);
}

/* Returns how many streams meant to be stopped had ended before. */
static unsigned int
check_streams(void)
{
	unsigned int i, nstopped = 0, npart = 0, nlate = 0;
	struct seen *s;

	for (i = 0; i < NSTREAMS; i++) {
		s = &seen[i];
		CHECK_INT(s->bad, 0);
		CHECK_INT(s->packets, s->ev.packets);
		if (s->ev.type == DP_EV_STOPPED) {
			CHECK(to_stop(i));
			CHECK(s->packets < s->npkts);
			nstopped++;
			npart += s->packets > 0;
			continue;
		}
		CHECK_INT(s->ev.type, DP_EV_ENDED);
		CHECK_INT(s->packets, s->npkts);
		nlate += to_stop(i);
	}
	CHECK(nstopped > 0);
	printf("wheel: %u streams, %u stopped in flight (%u after sending)\n",
	       NSTREAMS, nstopped, npart);
	return nlate;
}

static unsigned int
streams_sent(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < NSTREAMS; i++)
		n += seen[i].ev.packets > 0;
	return n;
}

static int
ring_port(void)
{
	return dp_rig_ring_port("net_ring_w", &ring_in, &ring_out, 1, 4096,
				NULL);
}

static void
test_wheel(void)
{
	struct dp_config cfg = {
		.media_ip = rte_cpu_to_be_32(0xc6120001), .has_nexthop = 1,
		.nexthop_mac = { .addr_bytes = { 2, 0, 0x5e, 0, 0, 2 } },
		.max_streams = NSTREAMS, .nb_mbufs = 8191,
	};
	static struct dp_measure ms;
	struct content *c = dp_rig_content(0, PAYLOAD_LEN, fill_byte);
	struct dp_stats st;
	int port = ring_port();
	unsigned int i;

	CHECK(c != NULL && port >= 0);
	if (c == NULL || port < 0)
		return;
	cfg.port_id = (uint16_t)port;
	cfg.lcore_id = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	CHECK_INT(dp_start(&cfg), 0);
	for (i = 0; i < NSTREAMS; i++) {
		stream_params(i, c);
		CHECK_INT(dp_stream_start(&seen[i].p), 0);
	}
	run_streams();
	CHECK_INT(dp_stream_stop(1000), 0);	/* over already */

	/* The pools go with dp_stop(): hand back every mbuf first. */
	rte_delay_us_sleep(10000);
	drain();
	dp_measure_read(&ms);
	dp_stop();
	dp_get_stats(&st);
	CHECK_INT(st.cmd_unknown, 1 + check_streams());
	/* test_dp checks RTCP itself; here, one BYE for every stream that
	 * sent, and every RTCP packet came out between the RTP.
	 */
	CHECK_INT(st.tx_rtcp_bye, streams_sent());
	CHECK_INT(nrtcp, st.tx_rtcp_bye + st.tx_rtcp_sr);
	CHECK_INT(ms.started, NSTREAMS);
	CHECK_INT(ms.early, 0);
	CHECK_INT(st.tx_dropped, 0);
	CHECK_INT(st.no_mbuf, 0);
	printf("wheel: %" PRIu64 " packets, %" PRIu64 " retried, none early, "
	       "worst %.3f ms late\n", st.tx_packets, st.tx_retry,
	       (double)clock_tsc_to_ns(ms.err_max) / 1e6);
	CHECK_INT(dp_rig_release(c), 0);
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (eal_rig_init(argv[0], "wheel", "256", "-l", "0,1", NULL) != 0)
		return 77;
	clock_calibrate(200);
	CHECK_INT(content_sys_init(4, PAYLOAD_LEN), 0);
	test_wheel();

	eal_rig_done();
	return CHECK_DONE();
}
