/* The worker lcore's loop: commands from the control plane, the receive
 * side, the pacer and the TX burst, round after round.  Each stream's
 * packet n is due at start + n * ptime on the calibrated TSC, so a late
 * round sends everything that is due and the stream never drifts.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "core/clock.h"
#include "dataplane/dp_priv.h"

/* Rounds the worker spends handing its last packets to the port at exit. */
#define DP_EXIT_TX_TRIES	10000

#ifdef DP_MEASURE
static uint64_t
dp_measure_bin(uint64_t err)
{
	unsigned int e;

	if (err < 1u << DP_MEASURE_SUB)
		return err;
	e = 63 - (unsigned int)__builtin_clzll(err);
	return (uint64_t)(e - DP_MEASURE_SUB + 1) << DP_MEASURE_SUB |
	       ((err >> (e - DP_MEASURE_SUB)) &
		((1u << DP_MEASURE_SUB) - 1));
}

/* The send error of each RTP packet the port took; t was read just before
 * the burst.  Relaxed stores: the benchmark reads from another lcore.
 */
static void
dp_measure_burst(struct dp_worker *w, uint16_t sent, uint64_t t)
{
	struct dp_measure *ms = &w->measure;
	uint64_t err, bin;
	uint16_t i;

	for (i = 0; i < sent; i++) {
		if (w->txdue[i] == 0)
			continue;
		err = t - w->txdue[i];
		bin = dp_measure_bin(err);
		__atomic_store_n(&ms->err_hist[bin], ms->err_hist[bin] + 1,
				 __ATOMIC_RELAXED);
		if (err > ms->err_max)
			__atomic_store_n(&ms->err_max, err, __ATOMIC_RELAXED);
	}
	memmove(w->txdue, w->txdue + sent,
		(w->ntx - sent) * sizeof(w->txdue[0]));
}
#endif

static void
dp_tx_flush(struct dp_worker *w)
{
	uint16_t i, sent;
	uint64_t bytes = 0;

	if (w->ntx == 0)
		return;
#ifdef DP_MEASURE
	uint64_t t = rte_rdtsc();
#endif
	sent = rte_eth_tx_burst(w->cfg.port_id, 0, w->txbuf, w->ntx);
#ifdef DP_MEASURE
	dp_measure_burst(w, sent, t);
#endif
	for (i = 0; i < sent; i++)
		bytes += w->txlen[i];
	DP_STAT_ADD(w, tx_packets, sent);
	DP_STAT_ADD(w, tx_bytes, bytes);
	if (sent == w->ntx) {
		w->ntx = 0;
		return;
	}

	/* Kept in order for the next round: nothing is dropped. */
	w->ntx -= sent;
	DP_STAT_ADD(w, tx_retry, w->ntx);
	memmove(w->txbuf, w->txbuf + sent, w->ntx * sizeof(w->txbuf[0]));
	memmove(w->txlen, w->txlen + sent, w->ntx * sizeof(w->txlen[0]));
}

/* The slot stays taken until its event is on the ring: the control plane
 * holds the content until that event, so it must never be lost.
 */
static void
dp_stream_post(struct dp_worker *w, struct dp_stream *s)
{
	if (rte_ring_sp_enqueue_elem(w->ev_ring, &s->ev, sizeof(s->ev)) != 0)
		return;
	s->state = DP_SS_FREE;
	w->nended++;
}

static void
dp_stream_end(struct dp_worker *w, struct dp_stream *s,
	      enum dp_event_type type)
{
	s->ev.type = type;
	s->ev.packets = s->n;
	s->state = DP_SS_DONE;
	dp_stream_post(w, s);
}

static void
dp_stream_go(struct dp_worker *w, struct dp_stream *s,
	     const struct rte_ether_addr *dst, uint64_t now)
{
	dp_rtp_prepare(w, s, dst);
	s->state = DP_SS_RUN;
	s->start_tsc = now;
	s->next_tsc = now;
}

/* Sends what is due, at most DP_STREAM_BURST packets, so that one stream
 * catching up after a stall cannot fill the TX buffer for all others.
 */
static void
dp_stream_send(struct dp_worker *w, struct dp_stream *s, uint64_t now)
{
	struct rte_mbuf *m;
	uint32_t len;
	unsigned int k;

	for (k = 0; k < DP_STREAM_BURST && now >= s->next_tsc; k++) {
		if (dp_tx_room(w, DP_TX_PACE_LIMIT) == 0)
			return;
		m = dp_rtp_build(w, s, &len);
		if (m == NULL) {
			DP_STAT_ADD(w, no_mbuf, 1);
			return;
		}
		dp_tx_push(w, m);
		dp_tx_due(w, s->next_tsc);
		if (s->n == 0)
			s->ev.first_tx_tsc = now;
		s->ev.last_tx_tsc = now;
		s->ev.bytes += len;
		if (++s->n == s->npkts) {
			dp_stream_end(w, s, DP_EV_ENDED);
			return;
		}
		s->next_tsc = s->start_tsc +
			clock_ns_to_tsc((uint64_t)s->n * s->p.period_ns);
	}
}

static void
dp_stream_resolve(struct dp_worker *w, struct dp_stream *s, uint64_t now)
{
	struct rte_ether_addr mac;

	if (dp_arp_lookup(w, s->p.dst_ip, now, &mac) == 0) {
		dp_stream_go(w, s, &mac, now);
		return;
	}
	if (now >= s->arp_deadline) {
		DP_STAT_ADD(w, arp_fail, 1);
		dp_stream_end(w, s, DP_EV_FAILED);
		return;
	}
	if (now >= s->arp_next && dp_tx_room(w, DP_TX_PACE_LIMIT) > 0 &&
	    dp_arp_request(w, s->p.dst_ip) == 0)
		s->arp_next = now + w->arp_retry_tsc;
}

/* Drops finished slots from active[]; order does not matter there. */
static void
dp_stream_compact(struct dp_worker *w)
{
	uint32_t i = 0, id;

	while (i < w->nactive && w->nended > 0) {
		id = w->active[i];
		if (w->streams[id].state != DP_SS_FREE) {
			i++;
			continue;
		}
		w->active[i] = w->active[--w->nactive];
		w->free_ids[w->nfree++] = id;
		w->nended--;
	}
}

/* One pass over the streams, starting one further each round so that a
 * full TX buffer does not always leave the same streams waiting.
 */
static void
dp_pace(struct dp_worker *w, uint64_t now)
{
	uint32_t k, i, n = w->nactive;
	struct dp_stream *s;

	if (n == 0)
		return;
	i = w->rr++ % n;
	for (k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		s = &w->streams[w->active[i]];
		if (s->state == DP_SS_RUN)
			dp_stream_send(w, s, now);
		else if (s->state == DP_SS_ARP)
			dp_stream_resolve(w, s, now);
		else if (s->state == DP_SS_DONE)
			dp_stream_post(w, s);
	}
	if (w->nended > 0)
		dp_stream_compact(w);
}

static void
dp_cmd_fail(struct dp_worker *w, uint32_t handle)
{
	struct dp_event ev = { .handle = handle, .type = DP_EV_FAILED };

	/* dp_cmds() only takes a command when the event ring has room. */
	rte_ring_sp_enqueue_elem(w->ev_ring, &ev, sizeof(ev));
}

static void
dp_cmd_start(struct dp_worker *w, const struct dp_stream_params *p,
	     uint64_t now)
{
	struct dp_stream *s;
	struct rte_ether_addr mac;
	uint32_t id;

	if (w->nfree == 0) {
		DP_STAT_ADD(w, cmd_table_full, 1);
		dp_cmd_fail(w, p->handle);
		return;
	}
	id = w->free_ids[--w->nfree];
	w->active[w->nactive++] = id;
	s = &w->streams[id];
	memset(s, 0, sizeof(*s));
	s->p = *p;
	s->ev.handle = p->handle;
#ifdef DP_MEASURE
	__atomic_store_n(&w->measure.started, w->measure.started + 1,
			 __ATOMIC_RELAXED);
#endif
	s->chunks = p->content->chunks;
	s->payload_off = p->content->mi.data_offset;
	s->payload_len = p->content->mi.data_len;
	s->npkts = (uint32_t)((s->payload_len + p->bytes_per_packet - 1) /
			      p->bytes_per_packet);

	if (w->cfg.has_nexthop) {
		dp_stream_go(w, s, &w->cfg.nexthop_mac, now);
	} else if (dp_arp_lookup(w, p->dst_ip, now, &mac) == 0) {
		dp_stream_go(w, s, &mac, now);
	} else {
		s->state = DP_SS_ARP;
		s->arp_next = now;
		s->arp_deadline = now + w->arp_timeout_tsc;
	}
}

static void
dp_cmd_stop(struct dp_worker *w, uint32_t handle)
{
	struct dp_stream *s;
	uint32_t i;

	/* Linear: stops are rare next to packets.  A stream that already
	 * ended has posted its event, and a second would confuse the caller.
	 */
	for (i = 0; i < w->nactive; i++) {
		s = &w->streams[w->active[i]];
		if (s->p.handle == handle &&
		    (s->state == DP_SS_RUN || s->state == DP_SS_ARP)) {
			dp_stream_end(w, s, DP_EV_STOPPED);
			return;
		}
	}
	DP_STAT_ADD(w, cmd_unknown, 1);
}

/* A command is taken only while the event ring has room for the event it
 * may cause; otherwise it waits on its own ring (backpressure).
 */
static void
dp_cmds(struct dp_worker *w, uint64_t now)
{
	struct dp_cmd cmd;
	unsigned int k;

	for (k = 0; k < DP_CMD_BURST; k++) {
		if (rte_ring_free_count(w->ev_ring) == 0)
			return;
		if (rte_ring_sc_dequeue_elem(w->cmd_ring, &cmd,
					     sizeof(cmd)) != 0)
			return;
		if (cmd.type == DP_CMD_START)
			dp_cmd_start(w, &cmd.p, now);
		else if (cmd.type == DP_CMD_STOP)
			dp_cmd_stop(w, cmd.handle);
	}
}

/* Gives the port a bounded number of chances to take the last packets,
 * then frees the rest so that their content references drop.
 */
static void
dp_tx_drain(struct dp_worker *w)
{
	unsigned int k;
	uint16_t i;

	for (k = 0; k < DP_EXIT_TX_TRIES && w->ntx > 0; k++)
		dp_tx_flush(w);
	for (i = 0; i < w->ntx; i++)
		rte_pktmbuf_free(w->txbuf[i]);
	DP_STAT_ADD(w, tx_dropped, w->ntx);
	w->ntx = 0;
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	uint64_t now;

	while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
		now = rte_rdtsc();
		dp_cmds(w, now);
		dp_rx_poll(w, now);
		dp_pace(w, now);
		dp_tx_flush(w);
	}
	dp_tx_drain(w);
	return 0;
}
