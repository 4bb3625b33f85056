/* The dataplane with two worker lcores on a net_ring port with a TX ring
 * per worker: streams are spread over both, the first worker answers the
 * test's ARP and passes the caller's MAC to the second, a stop and a hold
 * reach the worker that owns the stream.  Every packet of every stream is
 * checked (sequence, timestamp, marker, payload, order within its
 * stream), and each worker's counters against the frames on its own ring.
 * Exit 77 only when the EAL cannot start.
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
#define HDR_LEN		54
#define NWORKERS	2
#define NSTREAMS	12
#define STOPPED		5		/* stopped midway (second worker) */
#define HELD		7		/* held, resumed, stopped (second one) */
#define RATE		8000
#define PKT_TS		16		/* 2 ms */
#define CONTENT_LEN	20000
#define WAIT_MS		15000

static const struct rte_ether_addr caller_mac = {
	.addr_bytes = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 } };

/* What the test knows of one stream, and what it has seen of it. */
struct stream {
	struct dp_stream_params p;
	struct media_plan plan;
	uint32_t got;			/* RTP packets, in order */
	int ring;			/* the TX ring they came on, or -1 */
	uint64_t skew;			/* ticks of hold seen */
	struct dp_event ev;
	int ended;
};

static struct stream st[NSTREAMS];
static struct rte_ring *ring_in, *ring_out[NWORKERS];
static struct rte_mempool *test_pool;
static struct rte_ether_addr dp_mac;
static struct content *content;
static uint64_t frames[NWORKERS];	/* everything each ring carried */

/* Stream i: 20 to 42 packets of 40 to 95 bytes from its own offset, the
 * last one short, played twice with 10 ms between.
 */
static void
stream_init(uint32_t i)
{
	struct stream *s = &st[i];
	struct media_plan *pl = &s->plan;
	uint32_t len = 40 + i * 5;

	memset(s, 0, sizeof(*s));
	s->ring = -1;
	pl->content = content;
	pl->clock_rate = RATE;
	pl->uni_off = 100 * i;
	pl->uni_len = len;
	pl->uni_ts = PKT_TS;
	pl->npkts = 20 + 2 * i;
	pl->uni_total = (size_t)(pl->npkts - 1) * len + 7;
	pl->span_ts = pl->npkts * PKT_TS;
	s->p.handle = 100 + i;
	s->p.dst_ip = CALLER_IP;
	s->p.dst_port = (uint16_t)(50000 + 2 * i);
	s->p.src_port = (uint16_t)(40000 + 2 * i);
	s->p.ssrc = 0x7e570000u + i;
	s->p.seq0 = (uint16_t)(65500 + 3 * i);
	s->p.ts0 = 0xfffff000u + 1000 * i;
	s->p.plan = pl;
	s->p.repeat = 2;
	s->p.delay_ms = 10;
}

static void
answer_arp(const uint8_t *f)
{
	const struct dp_rig_arp a = {
		.op = RTE_ARP_OP_REPLY, .sha = &caller_mac, .sip = CALLER_IP,
		.dp_mac = &dp_mac, .tip = MEDIA_IP,
	};

	CHECK(memcmp(f + 38, &(uint32_t){ CALLER_IP }, 4) == 0);
	CHECK_INT(dp_rig_inject_arp(test_pool, ring_in, &a), 0);
}

/* The next packet of its stream: j = got, play-through j / npkts. */
static void
check_rtp(struct stream *s, const uint8_t *f, uint32_t len)
{
	const struct media_plan *pl = &s->plan;
	uint32_t j = s->got, i = j % pl->npkts, k = j / pl->npkts;
	uint32_t plen, ts, flags, n, obs;
	uint64_t want_ts = k * (pl->span_ts + s->p.delay_ms * RATE / 1000) +
			   (uint64_t)i * PKT_TS;
	size_t off;
	int marker;

	media_plan_packet(pl, i, &off, &plen, &ts, &flags);
	CHECK_INT(len, HDR_LEN + plen);
	if (len != HDR_LEN + plen)
		return;
	CHECK(memcmp(f, &caller_mac, 6) == 0);
	CHECK_INT(be16(f + 36), s->p.dst_port);
	CHECK_INT(be16(f + 44), (uint16_t)(s->p.seq0 + j));
	/* The marker comes at each play-through's start (there is a
	 * silence before it) and after a hold, whose time shows as a jump
	 * of the timestamp that stays.
	 */
	obs = be32(f + 46) - s->p.ts0;
	marker = (f[43] & 0x80) != 0;
	if (marker && j > 0) {
		CHECK(obs - want_ts >= s->skew);
		CHECK(i == 0 || obs - want_ts > s->skew);
		s->skew = obs - want_ts;
	}
	CHECK(marker || (j != 0 && i != 0));
	CHECK_INT(obs, want_ts + s->skew);
	for (n = 0; n < plen && f[HDR_LEN + n] == dp_rig_pattern(off + n); n++)
		;
	CHECK_INT(n, plen);
	s->got++;
}

static void
take(const struct rte_mbuf *m, int ring)
{
	static uint8_t f[2048];
	const struct rte_mbuf *seg;
	uint32_t len = 0, i;

	for (seg = m; seg != NULL && len + seg->data_len <= sizeof(f);
	     seg = seg->next) {
		memcpy(f + len, rte_pktmbuf_mtod(seg, const uint8_t *),
		       seg->data_len);
		len += seg->data_len;
	}
	frames[ring]++;
	if (len >= 42 && be16(f + 12) == RTE_ETHER_TYPE_ARP) {
		if (be16(f + 20) == RTE_ARP_OP_REQUEST)
			answer_arp(f);
		return;
	}
	if (len < HDR_LEN || (be16(f + 36) & 1))
		return;				/* RTCP */
	i = be32(f + 50) - 0x7e570000u;
	CHECK(i < NSTREAMS);
	if (i >= NSTREAMS)
		return;
	CHECK(st[i].ring == -1 || st[i].ring == ring);	/* one worker */
	st[i].ring = ring;
	check_rtp(&st[i], f, len);
}

static void
pump(void)
{
	struct rte_mbuf *m;
	int r;

	for (r = 0; r < NWORKERS; r++)
		while (rte_ring_dequeue(ring_out[r], (void **)&m) == 0) {
			take(m, r);
			rte_pktmbuf_free(m);
		}
}

static unsigned int
take_events(void)
{
	struct dp_event ev[16];
	unsigned int i, n, got = 0;
	uint32_t k;

	while ((n = dp_poll_events(ev, RTE_DIM(ev))) > 0) {
		for (i = 0; i < n; i++) {
			k = ev[i].handle - 100;
			CHECK(k < NSTREAMS);
			if (k >= NSTREAMS)
				continue;
			CHECK(!st[k].ended);
			st[k].ended = 1;
			st[k].ev = ev[i];
		}
		got += n;
	}
	return got;
}

static void
sleep_pumping(unsigned int ms)
{
	for (; ms > 0; ms--) {
		pump();
		rte_delay_us_sleep(1000);
	}
}

/* Pumps until stream i has sent at least n packets.  Bounded. */
static void
wait_got(unsigned int i, uint32_t n)
{
	unsigned int ms;

	for (ms = 0; ms < WAIT_MS && st[i].got < n; ms++) {
		pump();
		rte_delay_us_sleep(1000);
	}
	CHECK(st[i].got >= n);
}

/* Streams go to the least loaded worker: alternately, from the first.
 * The stopped and the held one play on and on (no stall of the test may
 * let them end before their commands); the held one is stopped too once
 * it has resumed.
 */
static void
run_streams(void)
{
	unsigned int i, ms, ended = 0;
	uint32_t resumed;

	for (i = 0; i < NSTREAMS; i++) {
		stream_init(i);
		if (i == STOPPED || i == HELD)
			st[i].p.repeat = 1000;
		CHECK_INT(dp_stream_start(&st[i].p), 0);
	}
	CHECK_INT(dp_stream_start(&st[0].p), -EEXIST);
	wait_got(STOPPED, 5);
	CHECK_INT(dp_stream_stop(st[STOPPED].p.handle), 0);
	wait_got(HELD, 5);
	CHECK_INT(dp_stream_update(st[HELD].p.handle, CALLER_IP,
				   st[HELD].p.dst_port, 0, 1), 0);
	sleep_pumping(60);
	resumed = st[HELD].got;
	CHECK_INT(dp_stream_update(st[HELD].p.handle, CALLER_IP,
				   st[HELD].p.dst_port, 0, 0), 0);
	wait_got(HELD, resumed + 5);
	CHECK_INT(dp_stream_stop(st[HELD].p.handle), 0);
	for (ms = 0; ms < WAIT_MS && ended < NSTREAMS; ms++) {
		pump();
		ended += take_events();
		rte_delay_us_sleep(1000);
	}
	CHECK_INT(ended, NSTREAMS);
	sleep_pumping(20);
}

static void
check_streams(const unsigned int *lcores)
{
	unsigned int i, on[NWORKERS] = { 0 };
	struct stream *s;

	for (i = 0; i < NSTREAMS; i++) {
		s = &st[i];
		CHECK(s->ring >= 0);
		if (s->ring < 0)
			continue;
		on[s->ring]++;
		CHECK_INT(s->ev.lcore, lcores[s->ring]);
		CHECK_INT(s->ev.lcore, lcores[i % NWORKERS]);
		CHECK_INT(s->ev.packets, s->got);
		CHECK(i == HELD ? s->skew > 0 : s->skew == 0);
		if (i == STOPPED || i == HELD) {
			CHECK_INT(s->ev.type, DP_EV_STOPPED);
			CHECK(s->got >= 5);
			continue;
		}
		CHECK_INT(s->ev.type, DP_EV_ENDED);
		CHECK_INT(s->got, 2 * s->plan.npkts);
	}
	CHECK_INT(on[0], NSTREAMS / 2);
	CHECK_INT(on[1], NSTREAMS / 2);
}

/* Each worker counts what went out on its own queue; the RX side is the
 * first one's alone, and it passed the caller's MAC to the second.
 */
static void
check_stats(const unsigned int *lcores)
{
	struct dp_stats w[NWORKERS], all;
	unsigned int i, lc;

	for (i = 0; i < NWORKERS; i++) {
		CHECK_INT(dp_get_worker_stats(i, &w[i], &lc), 0);
		CHECK_INT(lc, lcores[i]);
		CHECK_INT(w[i].tx_packets, frames[i]);
		CHECK_INT(w[i].tx_rtcp_bye, NSTREAMS / 2);
		CHECK_INT(w[i].tx_dropped, 0);
		CHECK_INT(w[i].cmd_unknown, 0);
		printf("worker %u on lcore %u: %" PRIu64 " frames\n", i, lc,
		       w[i].tx_packets);
	}
	CHECK_INT(dp_get_worker_stats(NWORKERS, &all, &lc), -EINVAL);
	CHECK(w[0].rx_arp_reply >= 1);
	CHECK(w[0].arp_shared >= 1);
	CHECK_INT(w[0].arp_share_full, 0);
	CHECK_INT(w[1].rx_arp_reply + w[1].rx_arp_request + w[1].rx_dropped +
		  w[1].arp_shared, 0);
	dp_get_stats(&all);
	CHECK_INT(all.tx_packets, w[0].tx_packets + w[1].tx_packets);
	CHECK_INT(all.tx_rtcp_bye, NSTREAMS);
}

static int
ring_port(void)
{
	return dp_rig_ring_port("net_ring_w", &ring_in, ring_out, NWORKERS,
				4096, &test_pool);
}

/* A port with one TX queue cannot serve two workers, and no dataplane
 * takes more than DP_MAX_WORKERS: both refused before anything runs.
 */
static void
check_refusals(void)
{
	static struct rte_ring *in1, *out1;
	struct dp_config cfg;
	int port;

	in1 = rte_ring_create("t_1q_in", 64, (int)rte_socket_id(),
			      RING_F_SP_ENQ | RING_F_SC_DEQ);
	out1 = rte_ring_create("t_1q_out", 64, (int)rte_socket_id(),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	CHECK(in1 != NULL && out1 != NULL);
	if (in1 == NULL || out1 == NULL)
		return;
	port = rte_eth_from_rings("net_ring_1q", &in1, 1, &out1, 1,
				  rte_socket_id());
	CHECK(port >= 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.port_id = (uint16_t)port;
	cfg.lcore_id = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	cfg.nb_workers = NWORKERS;
	cfg.media_ip = MEDIA_IP;
	cfg.max_streams = 4;
	cfg.nb_mbufs = 255;
	CHECK_INT(dp_start(&cfg), -EINVAL);
	cfg.nb_workers = DP_MAX_WORKERS + 1;
	CHECK_INT(dp_start(&cfg), -EINVAL);
	CHECK_INT(dp_stream_stop(1), -ENODEV);
}

static void
run(int port)
{
	struct dp_config cfg;
	unsigned int lcores[NWORKERS];

	memset(&cfg, 0, sizeof(cfg));
	cfg.port_id = (uint16_t)port;
	cfg.lcore_id = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	cfg.nb_workers = NWORKERS + 1;	/* one more than there are */
	cfg.media_ip = MEDIA_IP;
	cfg.max_streams = NSTREAMS;
	cfg.nb_mbufs = 2047;
	cfg.arp_timeout_ms = 3000;
	CHECK_INT(dp_start(&cfg), -EINVAL);
	cfg.nb_workers = NWORKERS;
	CHECK_INT(dp_start(&cfg), 0);
	CHECK_INT(dp_workers(), NWORKERS);
	dp_port_mac(&dp_mac);
	lcores[0] = cfg.lcore_id;
	lcores[1] = rte_get_next_lcore(lcores[0], 1, 0);

	run_streams();		/* every mbuf back before the pools go */
	dp_stop();
	check_streams(lcores);
	check_stats(lcores);
}

/* The owner table under churn: a small one (four streams a worker, so
 * 32 slots), handles that collide in it, and stops in a scrambled order,
 * so that deletions move entries along their runs.  Every stop must find
 * its stream's worker: a STOPPED event each, no command for no stream.
 */
#define CHURN_LIVE	6
#define CHURN_ROUNDS	300

static struct rte_ring *churn_in, *churn_out[NWORKERS];

static void
churn_drain(void)
{
	struct rte_mbuf *m;
	int r;

	for (r = 0; r < NWORKERS; r++)
		while (rte_ring_dequeue(churn_out[r], (void **)&m) == 0)
			rte_pktmbuf_free(m);
}

static int
churn_port(void)
{
	return dp_rig_ring_port("net_ring_c", &churn_in, churn_out, NWORKERS,
				1024, NULL);
}

/* Stops handle and waits for its event, which must say so.  Bounded. */
static void
churn_stop(uint32_t handle)
{
	struct dp_event ev;
	unsigned int ms;

	CHECK_INT(dp_stream_stop(handle), 0);
	for (ms = 0; ms < WAIT_MS; ms++) {
		churn_drain();
		if (dp_poll_events(&ev, 1) == 1) {
			CHECK_INT(ev.handle, handle);
			CHECK_INT(ev.type, DP_EV_STOPPED);
			return;
		}
		rte_delay_us_sleep(200);
	}
	CHECK(!"no event for a stop");
}

static void
churn_run(void)
{
	uint32_t live[CHURN_LIVE], x = 12345, it, k, n = 0, next = 0;
	struct stream s;

	stream_init(0);
	s = st[0];
	s.p.plan = &s.plan;
	s.p.repeat = 1000;
	for (it = 0; it < CHURN_ROUNDS; it++) {
		while (n < CHURN_LIVE) {
			s.p.handle = 1000 + next++ * 7919u;
			CHECK_INT(dp_stream_start(&s.p), 0);
			live[n++] = s.p.handle;
		}
		x = x * 1103515245u + 12345u;
		k = (x >> 16) % n;
		churn_stop(live[k]);
		live[k] = live[--n];
	}
	while (n > 0)
		churn_stop(live[--n]);
}

static void
owner_churn(void)
{
	struct dp_config cfg;
	struct dp_stats w;
	unsigned int i;
	int port = churn_port();

	CHECK(port >= 0);
	if (port < 0)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.port_id = (uint16_t)port;
	cfg.lcore_id = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	cfg.nb_workers = NWORKERS;
	cfg.media_ip = MEDIA_IP;
	cfg.has_nexthop = 1;
	cfg.nexthop_mac = caller_mac;
	cfg.max_streams = 4;
	cfg.nb_mbufs = 1023;
	CHECK_INT(dp_start(&cfg), 0);
	churn_run();
	rte_delay_us_sleep(10000);
	churn_drain();
	dp_stop();
	for (i = 0; i < NWORKERS; i++) {
		CHECK_INT(dp_get_worker_stats(i, &w, NULL), 0);
		CHECK_INT(w.cmd_unknown, 0);
		CHECK_INT(w.cmd_table_full, 0);
	}
}

int
main(int argc, char **argv)
{
	int port;

	(void)argc;
	if (eal_rig_init(argv[0], "dpw", "256", "--lcores", "(0-2)@(0-1)",
			 NULL) != 0)
		return 77;
	clock_calibrate(200);
	CHECK_INT(content_sys_init(2, CONTENT_LEN), 0);
	content = dp_rig_content(0, CONTENT_LEN, dp_rig_pattern);
	port = ring_port();
	CHECK(content != NULL && port >= 0);
	check_refusals();
	if (content != NULL && port >= 0) {
		run(port);
		owner_churn();
	}
	CHECK_INT(dp_rig_release(content), 0);

	eal_rig_done();
	return CHECK_DONE();
}
