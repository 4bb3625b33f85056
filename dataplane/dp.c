/* Dataplane set-up and the control plane's side of it: the port with only
 * the offloads it advertises, the pools, the two rings, the stream table,
 * and the worker's launch and stop.  Everything here runs on the main lcore.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "core/clock.h"
#include "core/log.h"
#include "dataplane/dp_priv.h"

#define DP_NB_RXD		512
#define DP_NB_TXD		1024
#define DP_POOL_CACHE		256u
#define DP_CALIBRATE_MS		200
#define DP_ARP_TIMEOUT_MS	1000	/* when the config gives none */
#define DP_UDP_RTP_LEN		(sizeof(struct rte_ipv4_hdr) + \
				 sizeof(struct rte_udp_hdr) + \
				 sizeof(struct dp_rtp_hdr))

static_assert(sizeof(struct dp_cmd) % 4 == 0, "ring element size");
static_assert(sizeof(struct dp_event) % 4 == 0, "ring element size");
static_assert(sizeof(struct dp_stats) % sizeof(uint64_t) == 0,
	      "dp_get_stats reads 64-bit words");
static_assert(sizeof(struct dp_stream) <= 256, "state per stream");
static_assert(DP_WHEEL_SLOTS < DP_LIST_WAIT, "slot numbers fit the list");
static_assert((DP_WHEEL_SLOTS & (DP_WHEEL_SLOTS - 1)) == 0,
	      "wheel slots by mask");

static struct dp_worker dp_w;
static int dp_running;

/* Only what the port advertises: asking for more makes configure fail. */
static int
dp_port_caps(struct dp_worker *w)
{
	struct rte_eth_dev_info info;
	const uint64_t want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
			      RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			      RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	int rc;

	rc = rte_eth_dev_info_get(w->cfg.port_id, &info);
	if (rc != 0) {
		LOG_AT(LOGL_ERR, "dp", "rte_eth_dev_info_get(%u) failed: %s",
		       w->cfg.port_id, rte_strerror(-rc));
		return rc;
	}
	w->tx_offloads = info.tx_offload_capa & want;
	w->zero_copy = (w->tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	return 0;
}

static struct rte_mempool *
dp_pool(const struct dp_worker *w, const char *what, unsigned int n,
	uint16_t room, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	unsigned int cache = RTE_MIN(DP_POOL_CACHE, n / 2);

	snprintf(name, sizeof(name), "dp_%s_%u", what, w->cfg.port_id);
	mp = rte_pktmbuf_pool_create(name, n, cache, 0, room, socket);
	if (mp == NULL)
		LOG_AT(LOGL_ERR, "dp", "rte_pktmbuf_pool_create(%s, %u) failed: %s",
		       name, n, rte_strerror(rte_errno));
	return mp;
}

/* Headers, copied payloads and received frames share one pool of full
 * buffers; extbuf attachments need mbufs without data room.
 */
static int
dp_pools(struct dp_worker *w, int socket)
{
	w->hdr_pool = dp_pool(w, "hdr", w->cfg.nb_mbufs,
			      RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (w->hdr_pool == NULL)
		return -ENOMEM;
	if (!w->zero_copy)
		return 0;
	w->pay_pool = dp_pool(w, "pay", w->cfg.nb_mbufs, 0, socket);
	return w->pay_pool == NULL ? -ENOMEM : 0;
}

/* Virtual devices such as net_ring and net_null have an all-zero MAC; frames
 * from it would be dropped by any peer, so the port gets a random locally
 * administered one, in the PMD if it takes it, else only in our frames.
 */
static void
dp_port_addr(struct dp_worker *w)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	rte_eth_macaddr_get(w->cfg.port_id, &w->mac);
	if (!rte_is_zero_ether_addr(&w->mac))
		return;
	rte_eth_random_addr(w->mac.addr_bytes);
	rte_eth_dev_default_mac_addr_set(w->cfg.port_id, &w->mac);
	rte_ether_format_addr(mac, sizeof(mac), &w->mac);
	LOG_AT(LOGL_WARN, "dp", "port %u has no MAC: sending from %s",
	       w->cfg.port_id, mac);
}

static int
dp_port_setup(struct dp_worker *w, int socket)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txc;
	uint16_t port = w->cfg.port_id, nrx = DP_NB_RXD, ntx = DP_NB_TXD;
	int rc;

	memset(&conf, 0, sizeof(conf));
	conf.txmode.offloads = w->tx_offloads;
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, nrx, (unsigned int)socket,
					    NULL, w->hdr_pool);
	if (rc == 0)
		rc = rte_eth_dev_info_get(port, &info);
	if (rc == 0) {
		txc = info.default_txconf;
		txc.offloads = w->tx_offloads;
		rc = rte_eth_tx_queue_setup(port, 0, ntx, (unsigned int)socket,
					    &txc);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		LOG_AT(LOGL_ERR, "dp", "port %u set-up failed: %s", port,
		       rte_strerror(-rc));
		return rc;
	}

	dp_port_addr(w);
	if (rte_eth_dev_get_mtu(port, &w->mtu) != 0)
		w->mtu = RTE_ETHER_MTU;
	return 0;
}

static int
dp_rings(struct dp_worker *w, int socket)
{
	unsigned int n = RTE_MAX(w->cfg.max_streams * 2, 64u);
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ |
				   RING_F_EXACT_SZ;

	w->cmd_ring = rte_ring_create_elem("dp_cmd", sizeof(struct dp_cmd), n,
					   socket, flags);
	w->ev_ring = rte_ring_create_elem("dp_ev", sizeof(struct dp_event), n,
					  socket, flags);
	if (w->cmd_ring == NULL || w->ev_ring == NULL) {
		LOG_AT(LOGL_ERR, "dp", "rte_ring_create_elem(%u) failed: %s",
		       n, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* The stream records, the handle hash (a bucket per stream, rounded up to
 * a power of two) and the wheel's slots: all of the pacer's state.
 */
static int
dp_tables(struct dp_worker *w, int socket)
{
	uint32_t i, n = w->cfg.max_streams, nb = rte_align32pow2(n);

	w->streams = rte_zmalloc_socket("dp_streams",
					(size_t)n * sizeof(w->streams[0]),
					RTE_CACHE_LINE_SIZE, socket);
	w->hash = rte_malloc_socket("dp_hash", (size_t)nb * sizeof(uint32_t),
				    RTE_CACHE_LINE_SIZE, socket);
	w->wheel.slot = rte_malloc_socket("dp_wheel",
					  DP_WHEEL_SLOTS * sizeof(uint32_t),
					  RTE_CACHE_LINE_SIZE, socket);
	if (w->streams == NULL || w->hash == NULL || w->wheel.slot == NULL) {
		LOG_AT(LOGL_ERR, "dp", "rte_malloc(%u streams) failed", n);
		return -ENOMEM;
	}

	/* Slot 0 is handed out first. */
	for (i = 0; i < n; i++) {
		w->streams[i].wnext = i + 1 < n ? i + 1 : DP_NONE;
		w->streams[i].list = DP_LIST_NONE;
	}
	w->free = 0;
	w->waiting = DP_NONE;
	for (i = 0; i < nb; i++)
		w->hash[i] = DP_NONE;
	w->hash_mask = nb - 1;
	for (i = 0; i < DP_WHEEL_SLOTS; i++)
		w->wheel.slot[i] = DP_NONE;
#ifdef DP_MEASURE
	w->measure.state_bytes = (uint64_t)n * sizeof(w->streams[0]) +
		(uint64_t)(nb + DP_WHEEL_SLOTS) * sizeof(uint32_t);
	w->measure.ring_bytes = rte_ring_get_memsize_elem(sizeof(struct dp_cmd),
		rte_ring_get_size(w->cmd_ring)) + rte_ring_get_memsize_elem(
		sizeof(struct dp_event), rte_ring_get_size(w->ev_ring));
#endif
	return 0;
}

static void
dp_release(struct dp_worker *w)
{
	rte_free(w->streams);
	rte_free(w->hash);
	rte_free(w->wheel.slot);
	rte_ring_free(w->cmd_ring);
	rte_ring_free(w->ev_ring);
	rte_mempool_free(w->pay_pool);
	rte_mempool_free(w->hdr_pool);
	/* The counters stay readable until the next dp_start(). */
	w->streams = NULL;
	w->hash = NULL;
	w->wheel.slot = NULL;
	w->cmd_ring = NULL;
	w->ev_ring = NULL;
	w->pay_pool = NULL;
	w->hdr_pool = NULL;
}

static void
dp_log_port(const struct dp_worker *w)
{
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t o = w->tx_offloads;

	rte_eth_dev_get_name_by_port(w->cfg.port_id, name);
	rte_ether_format_addr(mac, sizeof(mac), &w->mac);
	LOG_AT(LOGL_INFO, "dp",
	       "port %u %s mac %s mtu %u lcore %u: tx offloads%s%s%s%s, %s",
	       w->cfg.port_id, name, mac, w->mtu, w->cfg.lcore_id,
	       o & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM ? " ipv4-cksum" : "",
	       o & RTE_ETH_TX_OFFLOAD_UDP_CKSUM ? " udp-cksum" : "",
	       o & RTE_ETH_TX_OFFLOAD_MULTI_SEGS ? " multi-segs" : "",
	       o == 0 ? " none" : "",
	       w->zero_copy ? "zero-copy payload" :
			      "payload copied (no multi-segs)");
}

/* Every payload mbuf may point into one chunk, whose 16-bit shared
 * refcount also carries the owner's reference: the pools stay below it.
 */
static int
dp_check_config(const struct dp_config *cfg)
{
	if (dp_running)
		return -EALREADY;
	if (!rte_eth_dev_is_valid_port(cfg->port_id) ||
	    cfg->max_streams == 0 || cfg->max_streams > 1u << 31 ||
	    cfg->nb_mbufs == 0 ||
	    cfg->nb_mbufs >= UINT16_MAX ||
	    cfg->lcore_id == rte_get_main_lcore() ||
	    !rte_lcore_is_enabled(cfg->lcore_id))
		return -EINVAL;
	return 0;
}

static void
dp_timing(struct dp_worker *w)
{
	unsigned int ms = w->cfg.arp_timeout_ms;
	uint64_t tick;

	if (clock_tsc_hz() == 0)
		clock_calibrate(DP_CALIBRATE_MS);
	tick = clock_ns_to_tsc(DP_WHEEL_TICK_NS);
	w->wheel.shift = 63 - (unsigned int)__builtin_clzll(tick | 1);
	w->arp_retry_tsc = clock_ns_to_tsc(DP_ARP_RETRY_MS * 1000000ull);
	w->arp_timeout_tsc = clock_ns_to_tsc((ms ? ms : DP_ARP_TIMEOUT_MS) *
					     1000000ull);
	w->arp_ttl_tsc = clock_ns_to_tsc(DP_ARP_TTL_S * 1000000000ull);
}

int
dp_start(const struct dp_config *cfg)
{
	struct dp_worker *w = &dp_w;
	int socket, rc;

	rc = dp_check_config(cfg);
	if (rc != 0) {
		LOG_AT(LOGL_ERR, "dp", "dp_start(port %u, lcore %u): %s",
		       cfg->port_id, cfg->lcore_id, rte_strerror(-rc));
		return rc;
	}
	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	socket = (int)rte_lcore_to_socket_id(cfg->lcore_id);
	dp_timing(w);

	rc = dp_port_caps(w);
	if (rc == 0)
		rc = dp_pools(w, socket);
	if (rc == 0)
		rc = dp_rings(w, socket);
	if (rc == 0)
		rc = dp_tables(w, socket);
	if (rc == 0)
		rc = dp_port_setup(w, socket);
	if (rc != 0)
		goto fail;

	dp_rtcp_setup(w);
	dp_log_port(w);
	rc = rte_eal_remote_launch(dp_worker_main, w, cfg->lcore_id);
	if (rc != 0) {
		LOG_AT(LOGL_ERR, "dp", "rte_eal_remote_launch(lcore %u) failed: %s",
		       cfg->lcore_id, rte_strerror(-rc));
		rte_eth_dev_stop(cfg->port_id);
		goto fail;
	}
	dp_running = 1;
	return 0;

fail:
	dp_release(w);
	return rc;
}

void
dp_stop(void)
{
	struct dp_worker *w = &dp_w;
	struct dp_stats st;

	if (!dp_running)
		return;

	__atomic_store_n(&w->quit, 1, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(w->cfg.lcore_id);
	rte_eth_dev_stop(w->cfg.port_id);
	rte_eth_dev_close(w->cfg.port_id);

	dp_get_stats(&st);
	LOG_AT(LOGL_INFO, "dp",
	       "port %u stopped: tx %" PRIu64 " packets %" PRIu64 " bytes, "
	       "%" PRIu64 " retried, %" PRIu64 " dropped at stop, "
	       "%" PRIu64 " no mbuf, rtcp %" PRIu64 " sr %" PRIu64 " bye "
	       "%" PRIu64 " deferred, rx %" PRIu64 " dropped, rx rtcp "
	       "%" PRIu64 " %" PRIu64 " bad",
	       w->cfg.port_id, st.tx_packets, st.tx_bytes, st.tx_retry,
	       st.tx_dropped, st.no_mbuf, st.tx_rtcp_sr, st.tx_rtcp_bye,
	       st.tx_rtcp_deferred, st.rx_dropped, st.rx_rtcp, st.rx_rtcp_bad);
	dp_running = 0;
	dp_release(w);
}

void
dp_port_mac(struct rte_ether_addr *mac)
{
	rte_ether_addr_copy(&dp_w.mac, mac);
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
	*v = p->delay_ms;
	if (p->delay_ms > DP_TIME_MS_MAX)
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
	const char *bad;
	uint64_t v;

	if (!dp_running)
		return -ENODEV;
	bad = dp_params_invalid(&dp_w, p, &v);
	if (bad != NULL) {
		LOG_AT(LOGL_ERR, "dp", "stream %u refused: %s %" PRIu64,
		       p->handle, bad, v);
		return -EINVAL;
	}
	cmd.handle = p->handle;
	cmd.p = *p;
	if (rte_ring_sp_enqueue_elem(dp_w.cmd_ring, &cmd, sizeof(cmd)) != 0)
		return -ENOBUFS;
	return 0;
}

int
dp_stream_update(uint32_t handle, uint32_t dst_ip, uint16_t dst_port,
		 uint16_t dst_rtcp_port, int paused)
{
	struct dp_cmd cmd = { .type = DP_CMD_UPDATE, .handle = handle };

	if (!dp_running)
		return -ENODEV;
	cmd.p.dst_ip = dst_ip;
	cmd.p.dst_port = dst_port;
	cmd.p.dst_rtcp_port = dst_rtcp_port;
	cmd.paused = paused != 0;
	if (rte_ring_sp_enqueue_elem(dp_w.cmd_ring, &cmd, sizeof(cmd)) != 0)
		return -ENOBUFS;
	return 0;
}

int
dp_stream_stop(uint32_t handle)
{
	struct dp_cmd cmd = { .type = DP_CMD_STOP, .handle = handle };

	if (!dp_running)
		return -ENODEV;
	if (rte_ring_sp_enqueue_elem(dp_w.cmd_ring, &cmd, sizeof(cmd)) != 0)
		return -ENOBUFS;
	return 0;
}

int
dp_cmd_post(struct dp_cmd *cmd)
{
	if (!dp_running)
		return -ENODEV;
	if (rte_ring_sp_enqueue_elem(dp_w.cmd_ring, cmd, sizeof(*cmd)) != 0)
		return -ENOBUFS;
	return 0;
}

unsigned int
dp_poll_events(struct dp_event *ev, unsigned int max)
{
	if (!dp_running)
		return 0;
	return rte_ring_sc_dequeue_burst_elem(dp_w.ev_ring, ev, sizeof(*ev),
					      max, NULL);
}

void
dp_get_stats(struct dp_stats *st)
{
	const uint64_t *src = (const uint64_t *)&dp_w.stats;
	uint64_t *dst = (uint64_t *)st;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

#ifdef DP_MEASURE
void
dp_measure_read(struct dp_measure *m)
{
	const uint64_t *src = (const uint64_t *)&dp_w.measure;
	uint64_t *dst = (uint64_t *)m;
	size_t i;

	for (i = 0; i < sizeof(*m) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void
dp_measure_stall(uint64_t ns)
{
	__atomic_store_n(&dp_w.stall_tsc, clock_ns_to_tsc(ns),
			 __ATOMIC_RELEASE);
}
#endif
