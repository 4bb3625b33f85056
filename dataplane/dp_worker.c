/* The worker lcore's loop: commands from the control plane, the receive
 * side, the pacer and the TX burst, round after round.  Each packet of a
 * stream's plan is due when its RTP timestamp comes round on the media
 * clock, counted from the stream's start on the calibrated TSC, never
 * from when the previous packet left: a late round sends everything that
 * is due and the stream never drifts.  The
 * pacer is a timing wheel: a running stream sits in the slot of the tick
 * its next packet falls in, and a round only looks at the ticks that have
 * passed, never at every stream.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "core/clock.h"
#include "dataplane/dp_priv.h"

/* A busy round longer than this was most likely preempted: only a round
 * catching up after a stall of tens of milliseconds on a port that sends
 * through the kernel (af_packet) does that much work.
 */
#define DP_BUSY_LONG_NS		2000000

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
		if (t < w->txdue[i]) {
			__atomic_store_n(&ms->early, ms->early + 1,
					 __ATOMIC_RELAXED);
			continue;
		}
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

static void
dp_measure_stall_now(struct dp_worker *w)
{
	uint64_t d = __atomic_exchange_n(&w->stall_tsc, 0, __ATOMIC_ACQUIRE);
	uint64_t until = rte_rdtsc() + d;

	while (d != 0 && rte_rdtsc() < until)
		rte_pause();
}
#endif

static void
dp_tx_flush(struct dp_worker *w)
{
	uint16_t i, sent;
	uint64_t bytes = 0, t;

	if (w->ntx == 0)
		return;
	t = rte_rdtsc();
	sent = rte_eth_tx_burst(w->cfg.port_id, w->txq, w->txbuf, w->ntx);
	DP_STAT_ADD(w, tx_burst_tsc, rte_rdtsc() - t);
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

static uint32_t *
dp_list_head(struct dp_worker *w, uint16_t list)
{
	return list == DP_LIST_WAIT ? &w->waiting : &w->wheel.slot[list];
}

/* Circular doubly linked lists of stream ids, threaded through the streams
 * themselves: adding at the tail and taking out anywhere are O(1), and a
 * list costs nothing but its head.
 */
static void
dp_list_add(struct dp_worker *w, uint32_t id, uint16_t list)
{
	uint32_t *head = dp_list_head(w, list);
	struct dp_stream *s = &w->streams[id], *h;

	s->list = list;
	w->nwaiting += list == DP_LIST_WAIT;
	if (*head == DP_NONE) {
		s->wnext = s->wprev = id;
		*head = id;
		return;
	}
	h = &w->streams[*head];
	s->wnext = *head;
	s->wprev = h->wprev;
	w->streams[h->wprev].wnext = id;
	h->wprev = id;
}

static void
dp_list_del(struct dp_worker *w, uint32_t id)
{
	struct dp_stream *s = &w->streams[id];
	uint32_t *head;

	if (s->list == DP_LIST_NONE)
		return;
	head = dp_list_head(w, s->list);
	w->nwaiting -= s->list == DP_LIST_WAIT;
	if (s->wnext == id) {
		*head = DP_NONE;
	} else {
		w->streams[s->wprev].wnext = s->wnext;
		w->streams[s->wnext].wprev = s->wprev;
		if (*head == id)
			*head = s->wnext;
	}
	s->list = DP_LIST_NONE;
}

/* Files a running stream under the tick of its next packet: the current
 * tick when that one is already past, so that it is sent in this pass, and
 * at most one turn of the wheel ahead, so that a long period never lands
 * in the slot being run.
 */
static void
dp_wheel_add(struct dp_worker *w, uint32_t id)
{
	const struct dp_wheel *wh = &w->wheel;
	uint64_t t = w->streams[id].next_tsc >> wh->shift;

	t = RTE_MAX(t, wh->cur);
	t = RTE_MIN(t, wh->cur + DP_WHEEL_SLOTS - 1);
	dp_list_add(w, id, (uint16_t)(t & (DP_WHEEL_SLOTS - 1)));
}

/* Handles come from the control plane (a call slot and a generation): a
 * multiplicative mix spreads them over the buckets.
 */
static uint32_t *
dp_hash_bucket(struct dp_worker *w, uint32_t handle)
{
	uint32_t h = handle * 0x9e3779b1u;

	return &w->hash[(h ^ h >> 16) & w->hash_mask];
}

static void
dp_hash_add(struct dp_worker *w, uint32_t id)
{
	uint32_t *b = dp_hash_bucket(w, w->streams[id].p.handle);

	w->streams[id].hnext = *b;
	*b = id;
}

static void
dp_hash_del(struct dp_worker *w, uint32_t id)
{
	uint32_t *b = dp_hash_bucket(w, w->streams[id].p.handle);

	while (*b != DP_NONE && *b != id)
		b = &w->streams[*b].hnext;
	if (*b == id)
		*b = w->streams[id].hnext;
}

/* Only streams that can still be stopped (RUN or ARP) are in the hash. */
static uint32_t
dp_hash_find(struct dp_worker *w, uint32_t handle)
{
	uint32_t id = *dp_hash_bucket(w, handle);

	while (id != DP_NONE && w->streams[id].p.handle != handle)
		id = w->streams[id].hnext;
	return id;
}

static int
dp_stream_post(struct dp_worker *w, uint32_t id)
{
	struct dp_stream *s = &w->streams[id];

	if (rte_ring_sp_enqueue_elem(w->ev_ring, &s->ev, sizeof(s->ev)) != 0)
		return -ENOBUFS;
	dp_list_del(w, id);
	s->state = DP_SS_FREE;
	s->wnext = w->free;
	w->free = id;
	return 0;
}

/* The RTCP BYE first (RFC 3550 section 6.6), then the event, so that the
 * control plane's SIP BYE comes after it.  Returns 0 once both are done;
 * otherwise the stream waits for TX room, an mbuf or room on the ring.
 */
static int
dp_stream_finish(struct dp_worker *w, uint32_t id, uint64_t now)
{
	struct dp_stream *s = &w->streams[id];

	if (s->state == DP_SS_BYE) {
		if (dp_tx_room(w, DP_TXBUF) == 0 ||
		    dp_rtcp_send(w, s, now, 1) != 0) {
			DP_STAT_ADD(w, tx_rtcp_deferred, 1);
			return -ENOBUFS;
		}
		s->state = DP_SS_DONE;
	}
	return dp_stream_post(w, id);
}

/* Out of the wheel and the hash at once, so that no later stop finds it;
 * the slot stays taken until its event is on the ring: the control plane
 * holds the content until that event, so it must never be lost.  Section
 * 6.3.7: a stream that never sent a packet sends no BYE either.
 */
static void
dp_stream_end(struct dp_worker *w, uint32_t id, enum dp_event_type type,
	      uint64_t now)
{
	struct dp_stream *s = &w->streams[id];

	s->ev.type = type;
	s->ev.packets = s->n;
	s->state = s->state == DP_SS_RUN && s->n > 0 ? DP_SS_BYE : DP_SS_DONE;
	dp_list_del(w, id);
	dp_hash_del(w, id);
	if (dp_stream_finish(w, id, now) != 0)
		dp_list_add(w, id, DP_LIST_WAIT);
}

/* When the stream wants its next visit: its next packet's time, or the
 * duration cap's if that comes first; on hold, only the cap (the wheel
 * brings it round once a turn anyway, for its reports).
 */
static void
dp_stream_schedule(struct dp_stream *s)
{
	uint64_t off = RTE_MIN(s->next_off, s->end_off);

	if (s->flags & DP_SF_PAUSED)
		off = s->end_off;
	s->next_tsc = off == DP_OFF_NONE ? UINT64_MAX : dp_off_tsc(s, off);
}

/* Back from hold or from a new address: the media time went on meanwhile
 * (RFC 3550 section 5.1), so the next packet's timestamp jumps to now and
 * carries the marker, as the first of a new talkspurt.
 */
static void
dp_stream_resync(struct dp_stream *s, uint64_t now)
{
	uint64_t off = dp_tsc_off(s, now);

	if (off > s->next_off) {
		s->skew += off - s->next_off;
		s->next_off = off;
	}
	s->flags |= DP_SF_MARK;
}

static void
dp_stream_go(struct dp_worker *w, uint32_t id,
	     const struct rte_ether_addr *dst, uint64_t now)
{
	struct dp_stream *s = &w->streams[id];
	int first = s->start_tsc == 0;

	dp_rtp_prepare(w, s, dst);
	dp_list_del(w, id);
	s->state = DP_SS_RUN;
	if (first)
		s->start_tsc = now;
	else if (!(s->flags & DP_SF_PAUSED))
		dp_stream_resync(s, now);
	dp_stream_schedule(s);
	s->rtcp_next = now + dp_rtcp_interval(w, s, first);
	dp_wheel_add(w, id);
}

/* A sender report once its time has come (RFC 3550 section 6.3), sent
 * only when the stream is not behind, so that its RTP timestamp lies
 * between the last packet's and the next one's.  Without room it is put
 * off to the next visit, a packet time later.
 */
static void
dp_stream_report(struct dp_worker *w, struct dp_stream *s, uint64_t now)
{
	if (dp_tx_room(w, DP_TX_PACE_LIMIT) == 0 ||
	    dp_rtcp_send(w, s, now, 0) != 0) {
		DP_STAT_ADD(w, tx_rtcp_deferred, 1);
		return;
	}
	s->rtcp_next = now + dp_rtcp_interval(w, s, 0);
}

/* Steps to the next packet of the plan, and into the next play-through
 * after the last, behind delay_ts of silence that ends with a marker.
 */
static void
dp_stream_advance(struct dp_stream *s)
{
	const struct media_plan *pl = s->p.plan;
	uint32_t ts;

	if (++s->pi == pl->npkts) {
		s->pi = 0;
		s->k++;
		if (s->delay_ts > 0)
			s->flags |= DP_SF_MARK;
	}
	ts = pl->pkt != NULL ? pl->pkt[s->pi].ts : s->pi * pl->uni_ts;
	s->next_off = s->k * ((uint64_t)pl->span_ts + s->delay_ts) + ts +
		      s->skew;
	dp_stream_schedule(s);
}

/* Packet pi of the plan, built and queued; 0, or -ENOMEM for no mbuf. */
static int
dp_stream_packet(struct dp_worker *w, struct dp_stream *s, uint64_t now)
{
	struct rte_mbuf *m;
	size_t off;
	uint32_t len, ts, flags;

	media_plan_packet(s->p.plan, s->pi, &off, &len, &ts, &flags);
	m = dp_rtp_build(w, s, off, len, (s->flags & DP_SF_MARK) ||
					 (flags & MEDIA_PKT_MARKER));
	if (m == NULL) {
		DP_STAT_ADD(w, no_mbuf, 1);
		return -ENOMEM;
	}
	dp_tx_push(w, m);
	dp_tx_due(w, s->next_tsc);
	if (s->n == 0)
		s->ev.first_tx_tsc = now;
	s->ev.last_tx_tsc = now;
	s->ev.bytes += len;
	s->n++;
	s->flags &= (uint8_t)~DP_SF_MARK;
	return 0;
}

/* Sends what is due, at most DP_STREAM_BURST packets, so that one stream
 * catching up after a stall cannot fill the TX buffer for all others, and
 * then the sender report if one is due: RTCP rides on the RTP visits.  A
 * stream ends after its last play-through's last packet, or when its
 * duration cap comes round, on hold or not.
 */
static void
dp_stream_send(struct dp_worker *w, uint32_t id, uint64_t now)
{
	struct dp_stream *s = &w->streams[id];
	unsigned int b;

	for (b = 0; b < DP_STREAM_BURST && now >= s->next_tsc; b++) {
		if (s->next_off >= s->end_off || (s->flags & DP_SF_PAUSED)) {
			dp_stream_end(w, id, DP_EV_ENDED, now);
			return;
		}
		if (dp_tx_room(w, DP_TX_PACE_LIMIT) == 0 ||
		    dp_stream_packet(w, s, now) != 0)
			return;
		dp_stream_advance(s);
		if (s->k == s->p.repeat) {
			dp_stream_end(w, id, DP_EV_ENDED, now);
			return;
		}
	}
	if (unlikely(now >= s->rtcp_next) && now < s->next_tsc)
		dp_stream_report(w, s, now);
}

static void
dp_stream_resolve(struct dp_worker *w, uint32_t id, uint64_t now)
{
	struct dp_stream *s = &w->streams[id];
	struct rte_ether_addr mac;

	if (dp_arp_lookup(w, s->p.dst_ip, now, &mac) == 0) {
		dp_stream_go(w, id, &mac, now);
		return;
	}
	if (now >= s->arp_deadline) {
		DP_STAT_ADD(w, arp_fail, 1);
		dp_stream_end(w, id, DP_EV_FAILED, now);
		return;
	}
	if (now >= s->arp_next && dp_tx_room(w, DP_TX_PACE_LIMIT) > 0 &&
	    dp_arp_request(w, s->p.dst_ip) == 0)
		s->arp_next = now + w->arp_retry_tsc;
}

/* Streams waiting for a caller's MAC, or for room for their RTCP BYE or
 * their event: few, and visited every round.  A visit may move the stream
 * (to the wheel, to the free list, to the tail), so the next one is read
 * first and the count taken before: each is visited once.
 */
static void
dp_wait_visit(struct dp_worker *w, uint64_t now)
{
	uint32_t id = w->waiting, next, k, n = w->nwaiting;

	for (k = 0; k < n && id != DP_NONE; k++, id = next) {
		next = w->streams[id].wnext;
		if (w->streams[id].state == DP_SS_ARP)
			dp_stream_resolve(w, id, now);
		else
			dp_stream_finish(w, id, now);
	}
}

/* Runs every tick that is wholly past, oldest first, so that no packet
 * leaves before its time; a late round (the VM stalled) runs all the ticks
 * it missed.  A stream still due after its visit goes back to the tail of
 * the current slot, behind the others.  The budget of visits per round
 * keeps commands and ARP served during a catch-up, and the TX burst goes
 * out as soon as it is full.
 */
static void
dp_pace(struct dp_worker *w, uint64_t now)
{
	struct dp_wheel *wh = &w->wheel;
	uint64_t end = now >> wh->shift;
	unsigned int budget = DP_PACE_BUDGET;
	uint32_t id;

	if (w->nwaiting > 0)
		dp_wait_visit(w, now);
	while (wh->cur < end && budget > 0) {
		id = wh->slot[wh->cur & (DP_WHEEL_SLOTS - 1)];
		if (id == DP_NONE) {
			wh->cur++;
			continue;
		}
		if (w->ntx >= DP_TX_BURST)
			dp_tx_flush(w);
		if (dp_tx_room(w, DP_TX_PACE_LIMIT) == 0)
			return;
		budget--;
		dp_list_del(w, id);
		dp_stream_send(w, id, now);
		if (w->streams[id].state == DP_SS_RUN)
			dp_wheel_add(w, id);
	}
}

static void
dp_cmd_fail(struct dp_worker *w, uint32_t handle)
{
	struct dp_event ev = { .handle = handle, .type = DP_EV_FAILED,
			       .lcore = w->lcore_id };

	/* dp_cmds() only takes a command when the event ring has room. */
	rte_ring_sp_enqueue_elem(w->ev_ring, &ev, sizeof(ev));
}

/* The pacer's constants: TSC ticks per RTP tick with 32 fractional bits
 * (dp_stream_start() checked the clock's range, so it fits), the delay
 * and the cap in RTP ticks.
 */
static void
dp_stream_init(struct dp_stream *s, const struct dp_stream_params *p)
{
	const struct media_plan *pl = p->plan;
	uint64_t rate = pl->clock_rate;

	s->chunks = pl->content->chunks;
	s->tsc_per_tick = (uint64_t)(((unsigned __int128)clock_tsc_hz() << 32) /
				     rate);
	s->delay_ts = (uint32_t)((uint64_t)p->delay_ms * rate / 1000);
	s->end_off = p->duration_ms == 0 ? DP_OFF_NONE :
		     (uint64_t)p->duration_ms * rate / 1000;
	s->next_off = pl->pkt != NULL ? pl->pkt[0].ts : 0;
	s->flags = DP_SF_MARK;
}

static void
dp_cmd_start(struct dp_worker *w, const struct dp_stream_params *p,
	     uint64_t now)
{
	struct dp_stream *s;
	struct rte_ether_addr mac;
	uint32_t id = w->free;

	if (id == DP_NONE) {
		DP_STAT_ADD(w, cmd_table_full, 1);
		dp_cmd_fail(w, p->handle);
		return;
	}
	s = &w->streams[id];
	w->free = s->wnext;
	memset(s, 0, sizeof(*s));
	s->list = DP_LIST_NONE;
	s->p = *p;
	s->ev.handle = p->handle;
	s->ev.lcore = w->lcore_id;
#ifdef DP_MEASURE
	__atomic_store_n(&w->measure.started, w->measure.started + 1,
			 __ATOMIC_RELAXED);
#endif
	dp_stream_init(s, p);
	dp_hash_add(w, id);

	if (w->cfg.has_nexthop) {
		dp_stream_go(w, id, &w->cfg.nexthop_mac, now);
	} else if (dp_arp_lookup(w, p->dst_ip, now, &mac) == 0) {
		dp_stream_go(w, id, &mac, now);
	} else {
		s->state = DP_SS_ARP;
		s->arp_next = now;
		s->arp_deadline = now + w->arp_timeout_tsc;
		dp_list_add(w, id, DP_LIST_WAIT);
	}
}

/* A stream that already ended has left the hash and posted its event: a
 * second event would confuse the caller, so its stop counts as unknown.
 */
static void
dp_cmd_stop(struct dp_worker *w, uint32_t handle, uint64_t now)
{
	uint32_t id = dp_hash_find(w, handle);

	if (id == DP_NONE) {
		DP_STAT_ADD(w, cmd_unknown, 1);
		return;
	}
	dp_stream_end(w, id, DP_EV_STOPPED, now);
}

/* Hold and resume (RFC 3264 section 8.4); the stream stays in its list,
 * filed anew under its next visit's tick.
 */
static void
dp_stream_hold(struct dp_worker *w, uint32_t id, int paused, uint64_t now)
{
	struct dp_stream *s = &w->streams[id];

	if (paused)
		s->flags |= DP_SF_PAUSED;
	else if (s->flags & DP_SF_PAUSED) {
		s->flags &= (uint8_t)~DP_SF_PAUSED;
		if (s->state == DP_SS_RUN)
			dp_stream_resync(s, now);
	}
	if (s->state != DP_SS_RUN)
		return;
	dp_stream_schedule(s);
	dp_list_del(w, id);
	dp_wheel_add(w, id);
}

/* A running stream sent to a new address waits for its MAC as a new one
 * would, its media time running on.
 */
static void
dp_stream_rearp(struct dp_worker *w, uint32_t id, uint64_t now)
{
	struct dp_stream *s = &w->streams[id];

	dp_list_del(w, id);
	s->state = DP_SS_ARP;
	s->arp_next = now;
	s->arp_deadline = now + w->arp_timeout_tsc;
	dp_list_add(w, id, DP_LIST_WAIT);
}

/* A re-INVITE's new address (RFC 3264 section 8.3.1) and direction.  now
 * is read after the command was taken, not at the start of the round: a
 * resumed stream's timestamp must cover the whole hold.
 */
static void
dp_cmd_update(struct dp_worker *w, const struct dp_cmd *c, uint64_t now)
{
	uint32_t id = dp_hash_find(w, c->handle);
	struct rte_ether_addr mac;
	struct dp_stream *s;
	int moved;

	if (id == DP_NONE) {
		DP_STAT_ADD(w, cmd_unknown, 1);
		return;
	}
	s = &w->streams[id];
	moved = s->p.dst_ip != c->p.dst_ip;
	s->p.dst_ip = c->p.dst_ip;
	s->p.dst_port = c->p.dst_port;
	s->p.dst_rtcp_port = c->p.dst_rtcp_port;
	if (s->state == DP_SS_RUN) {
		rte_ether_addr_copy(&s->tmpl.eth.dst_addr, &mac);
		if (moved && !w->cfg.has_nexthop &&
		    dp_arp_lookup(w, s->p.dst_ip, now, &mac) != 0) {
			dp_stream_rearp(w, id, now);
		} else {
			dp_rtp_prepare(w, s, &mac);
			if (moved && !(s->flags & DP_SF_PAUSED))
				dp_stream_resync(s, now);
		}
	} else if (moved) {
		s->arp_next = now;	/* ask for the new one at once */
	}
	dp_stream_hold(w, id, (int)c->paused, now);
}

/* A command is taken only while the event ring has room for the event it
 * may cause; otherwise it waits on its own ring (backpressure).  Returns
 * the commands taken.
 */
static unsigned int
dp_cmds(struct dp_worker *w, uint64_t now)
{
	struct dp_cmd cmd;
	unsigned int k;

	for (k = 0; k < DP_CMD_BURST; k++) {
		if (rte_ring_free_count(w->ev_ring) == 0)
			break;
		if (rte_ring_sc_dequeue_elem(w->cmd_ring, &cmd,
					     sizeof(cmd)) != 0)
			break;
		if (cmd.type == DP_CMD_START)
			dp_cmd_start(w, &cmd.p, now);
		else if (cmd.type == DP_CMD_STOP)
			dp_cmd_stop(w, cmd.handle, now);
		else if (cmd.type == DP_CMD_UPDATE)
			dp_cmd_update(w, &cmd, rte_rdtsc());
		else
			dp_decode_cmd(w, &cmd);
	}
	return k;
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
	const uint64_t long_round = clock_ns_to_tsc(DP_BUSY_LONG_NS);
	uint64_t now, d;
	unsigned int work;

	w->wheel.cur = rte_rdtsc() >> w->wheel.shift;
	while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
#ifdef DP_MEASURE
		dp_measure_stall_now(w);
#endif
		now = rte_rdtsc();
		work = dp_cmds(w, now);
		if (w->idx == 0)
			work += dp_rx_poll(w, now);
		else
			dp_arp_shared_poll(w);
		dp_pace(w, now);
		work += w->ntx;
		dp_tx_flush(w);
		work += dp_decode_run(w);
		/* Idle rounds cost a poll each and are left out. */
		if (work == 0)
			continue;
		d = rte_rdtsc() - now;
		DP_STAT_ADD(w, busy_tsc, d);
		if (d > long_round)
			DP_STAT_ADD(w, busy_long_tsc, d);
	}
	dp_tx_drain(w);
	return 0;
}
