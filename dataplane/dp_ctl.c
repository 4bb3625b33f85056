/* The control plane's side of the dataplane: streams are started on the
 * worker that has the fewest, and a table kept here (by the control plane
 * alone, no locks) names each running stream's worker, so that its stop
 * or update reaches the same command ring; the entry goes when the
 * stream's event is polled.  Counters and measurements are read here,
 * summed over the workers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>

#include "core/clock.h"
#include "core/log.h"
#include "dataplane/dp_priv.h"

#define DP_UDP_RTP_LEN		(sizeof(struct rte_ipv4_hdr) + \
				 sizeof(struct rte_udp_hdr) + \
				 sizeof(struct dp_rtp_hdr))
#define DP_OWNER_FREE		UINT32_MAX

/* Open addressing with linear probing, at most half full. */
struct dp_owner {
	uint32_t handle;
	uint32_t widx;			/* DP_OWNER_FREE: an empty slot */
};

static struct dp_owner *dp_own;
static uint32_t dp_own_mask;
static uint32_t dp_own_count;
static uint32_t dp_own_max;
static uint32_t dp_load[DP_MAX_WORKERS];	/* streams under way */
static unsigned int dp_ev_next;			/* the first ring polled */

/* Streams under way at most: each worker's table, and as many again
 * queued behind it (they fail at once when the table is full).
 */
int
dp_owner_init(unsigned int max)
{
	uint32_t i, size = rte_align32pow2(2 * max);

	free(dp_own);
	dp_own = malloc((size_t)size * sizeof(*dp_own));
	if (dp_own == NULL)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		dp_own[i].widx = DP_OWNER_FREE;
	dp_own_mask = size - 1;
	dp_own_count = 0;
	dp_own_max = max;
	memset(dp_load, 0, sizeof(dp_load));
	dp_ev_next = 0;
	return 0;
}

void
dp_owner_fini(void)
{
	free(dp_own);
	dp_own = NULL;
}

static uint32_t
dp_owner_home(uint32_t handle)
{
	uint32_t h = handle * 0x9e3779b1u;

	return (h ^ h >> 16) & dp_own_mask;
}

/* The slot of handle, or of the empty slot where it would go. */
static uint32_t
dp_owner_slot(uint32_t handle)
{
	uint32_t i = dp_owner_home(handle);

	while (dp_own[i].widx != DP_OWNER_FREE && dp_own[i].handle != handle)
		i = (i + 1) & dp_own_mask;
	return i;
}

/* Knuth's deletion for linear probing (TAOCP 6.4, algorithm R): every
 * later entry of the run that may not skip the hole moves into it.
 */
static void
dp_owner_del(uint32_t i)
{
	uint32_t j = i, k;

	for (;;) {
		j = (j + 1) & dp_own_mask;
		if (dp_own[j].widx == DP_OWNER_FREE)
			break;
		k = dp_owner_home(dp_own[j].handle);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		dp_own[i] = dp_own[j];
		i = j;
	}
	dp_own[i].widx = DP_OWNER_FREE;
	dp_own_count--;
}

/* The worker a command for handle goes to: its stream's, or the first
 * one, which counts a command for no stream.
 */
static struct dp_worker *
dp_owner_worker(uint32_t handle)
{
	uint32_t i = dp_owner_slot(handle);

	if (dp_own[i].widx == DP_OWNER_FREE)
		return dp_plane.w[0];
	return dp_plane.w[dp_own[i].widx];
}

static unsigned int
dp_least_loaded(void)
{
	unsigned int i, best = 0;

	for (i = 1; i < dp_plane.n; i++)
		if (dp_load[i] < dp_load[best])
			best = i;
	return best;
}

/* Checked here, once, so that the worker never meets a packet it cannot
 * build: every payload fits a 16-bit buf_len and the MTU, and lies in the
 * chunks the content has.  An explicit plan costs a pass over its packets.
 * Returns NULL or what is wrong, naming the field; *v gets its value.
 */
static const char *
dp_plan_invalid(const struct dp_worker *w, const struct media_plan *pl,
		uint64_t *v)
{
	const struct content *c = pl->content;
	size_t room = w->mtu - DP_UDP_RTP_LEN, off;
	uint32_t i, len, ts, flags;

	if (!w->zero_copy)
		room = RTE_MIN(room, (size_t)RTE_MBUF_DEFAULT_DATAROOM -
				     sizeof(struct dp_rtp_frame));
	*v = pl->clock_rate;
	if (pl->clock_rate < DP_CLOCK_RATE_MIN ||
	    pl->clock_rate > DP_CLOCK_RATE_MAX)
		return "clock_rate";
	*v = pl->npkts;
	if (pl->npkts == 0 || (pl->pkt == NULL && (pl->uni_len == 0 ||
	    (pl->uni_total + pl->uni_len - 1) / pl->uni_len != pl->npkts)))
		return "npkts";
	*v = pl->span_ts;
	if (pl->span_ts == 0)
		return "span_ts";
	/* A uniform plan's packets are alike but for the last one. */
	for (i = 0; i < pl->npkts; i++) {
		if (pl->pkt == NULL && i == 1)
			i = pl->npkts - 1;
		media_plan_packet(pl, i, &off, &len, &ts, &flags);
		*v = len;
		if (len == 0 || len > room)
			return "packet length";
		*v = off;
		if (off > c->len || len > c->len - off)
			return "packet offset";
	}
	return NULL;
}

static const char *
dp_params_invalid(const struct dp_worker *w,
		  const struct dp_stream_params *p, uint64_t *v)
{
	*v = 0;
	if (p->plan == NULL)
		return "plan";
	if (p->plan->content == NULL)
		return "plan content";
	*v = p->repeat;
	if (p->repeat == 0)
		return "repeat";
	/* The silence in RTP ticks must fit the stream's 32 bits. */
	*v = p->delay_ms;
	if (p->delay_ms > DP_TIME_MS_MAX ||
	    (uint64_t)p->delay_ms * p->plan->clock_rate / 1000 > UINT32_MAX)
		return "delay_ms";
	*v = p->duration_ms;
	if (p->duration_ms > DP_TIME_MS_MAX)
		return "duration_ms";
	return dp_plan_invalid(w, p->plan, v);
}

int
dp_stream_start(const struct dp_stream_params *p)
{
	struct dp_cmd cmd = { .type = DP_CMD_START };
	unsigned int wi;
	const char *bad;
	uint32_t slot;
	uint64_t v;

	if (!dp_plane.running)
		return -ENODEV;
	bad = dp_params_invalid(dp_plane.w[0], p, &v);
	if (bad != NULL) {
		LOG_AT(LOGL_ERR, "dp", "stream %u refused: %s %" PRIu64,
		       p->handle, bad, v);
		return -EINVAL;
	}
	slot = dp_owner_slot(p->handle);
	if (dp_own[slot].widx != DP_OWNER_FREE)
		return -EEXIST;
	if (dp_own_count >= dp_own_max)
		return -ENOBUFS;
	wi = dp_least_loaded();
	cmd.handle = p->handle;
	cmd.p = *p;
	if (rte_ring_sp_enqueue_elem(dp_plane.w[wi]->cmd_ring, &cmd,
				     sizeof(cmd)) != 0)
		return -ENOBUFS;
	dp_own[slot].handle = p->handle;
	dp_own[slot].widx = wi;
	dp_own_count++;
	dp_load[wi]++;
	return 0;
}

int
dp_stream_update(uint32_t handle, uint32_t dst_ip, uint16_t dst_port,
		 uint16_t dst_rtcp_port, int paused)
{
	struct dp_cmd cmd = { .type = DP_CMD_UPDATE, .handle = handle };

	if (!dp_plane.running)
		return -ENODEV;
	cmd.p.dst_ip = dst_ip;
	cmd.p.dst_port = dst_port;
	cmd.p.dst_rtcp_port = dst_rtcp_port;
	cmd.paused = paused != 0;
	if (rte_ring_sp_enqueue_elem(dp_owner_worker(handle)->cmd_ring, &cmd,
				     sizeof(cmd)) != 0)
		return -ENOBUFS;
	return 0;
}

int
dp_stream_stop(uint32_t handle)
{
	struct dp_cmd cmd = { .type = DP_CMD_STOP, .handle = handle };

	if (!dp_plane.running)
		return -ENODEV;
	if (rte_ring_sp_enqueue_elem(dp_owner_worker(handle)->cmd_ring, &cmd,
				     sizeof(cmd)) != 0)
		return -ENOBUFS;
	return 0;
}

/* A decode job goes where the fewest streams are, its cancel where the
 * job went: the job names no stream and takes no entry here.
 */
int
dp_cmd_post(struct dp_cmd *cmd, int widx)
{
	unsigned int wi;

	if (!dp_plane.running)
		return -ENODEV;
	wi = widx < 0 ? dp_least_loaded() : (unsigned int)widx % dp_plane.n;
	if (rte_ring_sp_enqueue_elem(dp_plane.w[wi]->cmd_ring, cmd,
				     sizeof(*cmd)) != 0)
		return -ENOBUFS;
	return (int)wi;
}

/* Each stream's event ends it: its entry and its share of the load go.
 * A decode job's event is not a stream's.
 */
static void
dp_owner_ended(const struct dp_event *ev, unsigned int n, unsigned int wi)
{
	uint32_t slot;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (ev[i].type == DP_EV_DECODED)
			continue;
		slot = dp_owner_slot(ev[i].handle);
		if (dp_own[slot].widx == DP_OWNER_FREE)
			continue;
		dp_owner_del(slot);
		dp_load[wi]--;
	}
}

/* The rings in turn, starting one further each call, so that no worker's
 * events wait behind another's.
 */
unsigned int
dp_poll_events(struct dp_event *ev, unsigned int max)
{
	unsigned int k, wi, n, got = 0;

	if (!dp_plane.running)
		return 0;
	for (k = 0; k < dp_plane.n && got < max; k++) {
		wi = (dp_ev_next + k) % dp_plane.n;
		n = rte_ring_sc_dequeue_burst_elem(dp_plane.w[wi]->ev_ring,
						   ev + got, sizeof(*ev),
						   max - got, NULL);
		dp_owner_ended(ev + got, n, wi);
		got += n;
	}
	dp_ev_next = (dp_ev_next + 1) % dp_plane.n;
	return got;
}

/* 64-bit words, each read as one relaxed load: the worker stores them so. */
static void
dp_words_add(uint64_t *dst, const uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

unsigned int
dp_workers(void)
{
	return dp_plane.n;
}

int
dp_get_worker_stats(unsigned int i, struct dp_stats *st,
		    unsigned int *lcore)
{
	if (i >= dp_plane.n)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	dp_words_add((uint64_t *)st, (const uint64_t *)&dp_plane.w[i]->stats,
		     sizeof(*st) / sizeof(uint64_t));
	if (lcore != NULL)
		*lcore = dp_plane.w[i]->lcore_id;
	return 0;
}

void
dp_get_stats(struct dp_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < dp_plane.n; i++)
		dp_words_add((uint64_t *)st,
			     (const uint64_t *)&dp_plane.w[i]->stats,
			     sizeof(*st) / sizeof(uint64_t));
}

#ifdef DP_MEASURE
void
dp_measure_read(struct dp_measure *m)
{
	const struct dp_measure *ms;
	uint64_t mx = 0;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < dp_plane.n; i++) {
		ms = &dp_plane.w[i]->measure;
		mx = RTE_MAX(mx, __atomic_load_n(&ms->err_max,
						 __ATOMIC_RELAXED));
		dp_words_add((uint64_t *)m, (const uint64_t *)ms,
			     sizeof(*m) / sizeof(uint64_t));
	}
	m->err_max = mx;	/* the largest, not the sum */
}

void
dp_measure_stall(uint64_t ns)
{
	unsigned int i;

	for (i = 0; i < dp_plane.n; i++)
		__atomic_store_n(&dp_plane.w[i]->stall_tsc,
				 clock_ns_to_tsc(ns), __ATOMIC_RELEASE);
}
#endif
