/* Dataplane set-up: the port with only the offloads it advertises and a
 * TX queue per worker, the pools, each worker's rings and stream table,
 * and the workers' launch and stop.  Everything here runs on the main
 * lcore; dp_ctl.c serves the control plane once they run.
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

static_assert(sizeof(struct dp_cmd) % 4 == 0, "ring element size");
static_assert(sizeof(struct dp_event) % 4 == 0, "ring element size");
static_assert(sizeof(struct dp_stats) % sizeof(uint64_t) == 0,
	      "dp_get_stats reads 64-bit words");
static_assert(sizeof(struct dp_stream) <= 256, "state per stream");
static_assert(DP_WHEEL_SLOTS < DP_LIST_WAIT, "slot numbers fit the list");
static_assert((DP_WHEEL_SLOTS & (DP_WHEEL_SLOTS - 1)) == 0,
	      "wheel slots by mask");
static_assert(sizeof(struct dp_arp_entry) % 4 == 0, "ring element size");

struct dp_plane dp_plane;

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

/* One RX queue, read by the first worker; a TX queue per worker. */
static int
dp_port_queues(struct dp_worker *w, int socket, unsigned int n)
{
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txc;
	uint16_t port = w->cfg.port_id, nrx = DP_NB_RXD, ntx = DP_NB_TXD, q;
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, nrx, (unsigned int)socket,
					    NULL, w->hdr_pool);
	if (rc == 0)
		rc = rte_eth_dev_info_get(port, &info);
	for (q = 0; rc == 0 && q < n; q++) {
		txc = info.default_txconf;
		txc.offloads = w->tx_offloads;
		rc = rte_eth_tx_queue_setup(port, q, ntx, (unsigned int)socket,
					    &txc);
	}
	return rc;
}

static int
dp_port_setup(struct dp_worker *w, int socket, unsigned int n)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port = w->cfg.port_id;
	int rc;

	rc = rte_eth_dev_info_get(port, &info);
	if (rc == 0 && info.max_tx_queues < n) {
		LOG_AT(LOGL_ERR, "dp", "port %u has %u TX queues for %u "
		       "workers: give fewer lcores or a port with more queues",
		       port, info.max_tx_queues, n);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	conf.txmode.offloads = w->tx_offloads;
	if (rc == 0)
		rc = rte_eth_dev_configure(port, 1, (uint16_t)n, &conf);
	if (rc == 0)
		rc = dp_port_queues(w, socket, n);
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

static struct rte_ring *
dp_ring(const struct dp_worker *w, const char *what, unsigned int esize,
	unsigned int n, int socket)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ |
				   RING_F_EXACT_SZ;
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "dp_%s_%u", what, w->idx);
	r = rte_ring_create_elem(name, esize, n, socket, flags);
	if (r == NULL)
		LOG_AT(LOGL_ERR, "dp", "rte_ring_create_elem(%s, %u) failed: %s",
		       name, n, rte_strerror(rte_errno));
	return r;
}

static int
dp_rings(struct dp_worker *w, int socket)
{
	unsigned int n = RTE_MAX(w->cfg.max_streams * 2, 64u);

	w->cmd_ring = dp_ring(w, "cmd", sizeof(struct dp_cmd), n, socket);
	w->ev_ring = dp_ring(w, "ev", sizeof(struct dp_event), n, socket);
	if (w->cmd_ring == NULL || w->ev_ring == NULL)
		return -ENOMEM;
	if (w->idx == 0)
		return 0;
	w->arp_in = dp_ring(w, "arp", sizeof(struct dp_arp_entry),
			    DP_ARP_SHARE_RING, socket);
	return w->arp_in == NULL ? -ENOMEM : 0;
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

/* The pools belong to the first worker; the others hold copies. */
static void
dp_release(struct dp_worker *w)
{
	rte_free(w->streams);
	rte_free(w->hash);
	rte_free(w->wheel.slot);
	rte_ring_free(w->cmd_ring);
	rte_ring_free(w->ev_ring);
	rte_ring_free(w->arp_in);
	if (w->idx == 0) {
		rte_mempool_free(w->pay_pool);
		rte_mempool_free(w->hdr_pool);
	}
	/* The counters stay readable until the next dp_start(). */
	w->streams = NULL;
	w->hash = NULL;
	w->wheel.slot = NULL;
	w->cmd_ring = NULL;
	w->ev_ring = NULL;
	w->arp_in = NULL;
	w->pay_pool = NULL;
	w->hdr_pool = NULL;
}

static void
dp_release_all(void)
{
	unsigned int i;

	for (i = dp_plane.n; i-- > 0;)
		dp_release(dp_plane.w[i]);
	dp_owner_fini();
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
	       "port %u %s mac %s mtu %u: %u workers from lcore %u, "
	       "tx offloads%s%s%s%s, %s",
	       w->cfg.port_id, name, mac, w->mtu, dp_plane.n, w->lcore_id,
	       o & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM ? " ipv4-cksum" : "",
	       o & RTE_ETH_TX_OFFLOAD_UDP_CKSUM ? " udp-cksum" : "",
	       o & RTE_ETH_TX_OFFLOAD_MULTI_SEGS ? " multi-segs" : "",
	       o == 0 ? " none" : "",
	       w->zero_copy ? "zero-copy payload" :
			      "payload copied (no multi-segs)");
}

/* The workers' lcores: lcore_id and the enabled ones after it, the main
 * one skipped.  Returns how many, or 0 when there are not enough.
 */
static unsigned int
dp_lcores(const struct dp_config *cfg, unsigned int *lc)
{
	unsigned int i, n = RTE_MAX(cfg->nb_workers, 1u);

	if (cfg->lcore_id == rte_get_main_lcore() ||
	    cfg->lcore_id >= RTE_MAX_LCORE ||
	    !rte_lcore_is_enabled(cfg->lcore_id))
		return 0;
	lc[0] = cfg->lcore_id;
	for (i = 1; i < n; i++) {
		lc[i] = rte_get_next_lcore(lc[i - 1], 1, 0);
		if (lc[i] >= RTE_MAX_LCORE)
			return 0;
	}
	return n;
}

/* Every payload mbuf may point into one chunk, whose 16-bit shared
 * refcount also carries the owner's reference: the pools stay below it.
 * Returns NULL or the field that is wrong; *v gets its value.
 */
static const char *
dp_config_invalid(const struct dp_config *cfg, unsigned int *v)
{
	*v = cfg->port_id;
	if (!rte_eth_dev_is_valid_port(cfg->port_id))
		return "port_id";
	*v = cfg->max_streams;
	if (cfg->max_streams == 0 || cfg->max_streams > 1u << 31)
		return "max_streams";
	*v = cfg->nb_mbufs;
	if (cfg->nb_mbufs == 0 || cfg->nb_mbufs >= UINT16_MAX)
		return "nb_mbufs";
	*v = cfg->nb_workers;
	if (cfg->nb_workers > DP_MAX_WORKERS)
		return "nb_workers";
	return NULL;
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

/* A worker record per lcore, each on its lcore's socket; the last run's
 * go first (they were kept for their counters).
 */
static int
dp_alloc(const struct dp_config *cfg, const unsigned int *lc, unsigned int n)
{
	struct dp_worker *w;
	unsigned int i;

	for (i = 0; i < dp_plane.n; i++)
		rte_free(dp_plane.w[i]);
	dp_plane.n = 0;
	for (i = 0; i < n; i++) {
		w = rte_zmalloc_socket("dp_worker", sizeof(*w),
				       RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lc[i]));
		if (w == NULL) {
			LOG_AT(LOGL_ERR, "dp", "rte_zmalloc(worker %u) failed",
			       i);
			return -ENOMEM;
		}
		w->cfg = *cfg;
		w->idx = i;
		w->lcore_id = lc[i];
		w->txq = (uint16_t)i;
		dp_plane.w[dp_plane.n++] = w;
		dp_timing(w);
	}
	return 0;
}

/* What the first worker set up for the port, and the ARP rings it feeds. */
static void
dp_share(struct dp_worker *w)
{
	struct dp_worker *w0 = dp_plane.w[0];

	w->tx_offloads = w0->tx_offloads;
	w->zero_copy = w0->zero_copy;
	w->hdr_pool = w0->hdr_pool;
	w->pay_pool = w0->pay_pool;
	w->mac = w0->mac;
	w->mtu = w0->mtu;
	if (w->idx > 0)
		w0->arp_out[w0->narp_out++] = w->arp_in;
	dp_rtcp_setup(w);
}

static int
dp_setup(void)
{
	struct dp_worker *w0 = dp_plane.w[0], *w;
	int rc, socket = (int)rte_lcore_to_socket_id(w0->lcore_id);
	unsigned int i;

	rc = dp_port_caps(w0);
	if (rc == 0)
		rc = dp_pools(w0, socket);
	for (i = 0; rc == 0 && i < dp_plane.n; i++) {
		w = dp_plane.w[i];
		socket = (int)rte_lcore_to_socket_id(w->lcore_id);
		rc = dp_rings(w, socket);
		if (rc == 0)
			rc = dp_tables(w, socket);
	}
	if (rc == 0)
		rc = dp_owner_init(2 * dp_plane.n * w0->cfg.max_streams);
	if (rc == 0)
		rc = dp_port_setup(w0, (int)rte_lcore_to_socket_id(
					   w0->lcore_id), dp_plane.n);
	if (rc != 0)
		return rc;
	for (i = 0; i < dp_plane.n; i++)
		dp_share(dp_plane.w[i]);
	return 0;
}

static void
dp_quit(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		__atomic_store_n(&dp_plane.w[i]->quit, 1, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++)
		rte_eal_wait_lcore(dp_plane.w[i]->lcore_id);
}

static int
dp_launch(void)
{
	struct dp_worker *w;
	unsigned int i;
	int rc;

	for (i = 0; i < dp_plane.n; i++) {
		w = dp_plane.w[i];
		rc = rte_eal_remote_launch(dp_worker_main, w, w->lcore_id);
		if (rc != 0) {
			LOG_AT(LOGL_ERR, "dp", "rte_eal_remote_launch(lcore %u) "
			       "failed: %s", w->lcore_id, rte_strerror(-rc));
			dp_quit(i);
			return rc;
		}
	}
	return 0;
}

int
dp_start(const struct dp_config *cfg)
{
	unsigned int lc[DP_MAX_WORKERS], n = 0, v;
	const char *bad;
	int rc;

	if (dp_plane.running)
		return -EALREADY;
	bad = dp_config_invalid(cfg, &v);
	if (bad == NULL && (n = dp_lcores(cfg, lc)) == 0) {
		LOG_AT(LOGL_ERR, "dp", "dp_start(port %u): lcore_id %u and "
		       "nb_workers %u: not that many worker lcores from it",
		       cfg->port_id, cfg->lcore_id, cfg->nb_workers);
		return -EINVAL;
	}
	if (bad != NULL) {
		LOG_AT(LOGL_ERR, "dp", "dp_start(port %u): bad %s %u",
		       cfg->port_id, bad, v);
		return -EINVAL;
	}
	rc = dp_alloc(cfg, lc, n);
	if (rc == 0)
		rc = dp_setup();
	if (rc != 0)
		goto fail;

	dp_log_port(dp_plane.w[0]);
	rc = dp_launch();
	if (rc == 0) {
		dp_plane.running = 1;
		return 0;
	}
	rte_eth_dev_stop(cfg->port_id);
fail:
	dp_release_all();
	return rc;
}

void
dp_stop(void)
{
	struct dp_stats st;
	uint16_t port;

	if (!dp_plane.running)
		return;

	port = dp_plane.w[0]->cfg.port_id;
	dp_quit(dp_plane.n);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);

	dp_get_stats(&st);
	LOG_AT(LOGL_INFO, "dp",
	       "port %u stopped: tx %" PRIu64 " packets %" PRIu64 " bytes, "
	       "%" PRIu64 " retried, %" PRIu64 " dropped at stop, "
	       "%" PRIu64 " no mbuf, rtcp %" PRIu64 " sr %" PRIu64 " bye "
	       "%" PRIu64 " deferred, rx %" PRIu64 " dropped, rx rtcp "
	       "%" PRIu64 " %" PRIu64 " bad",
	       port, st.tx_packets, st.tx_bytes, st.tx_retry,
	       st.tx_dropped, st.no_mbuf, st.tx_rtcp_sr, st.tx_rtcp_bye,
	       st.tx_rtcp_deferred, st.rx_dropped, st.rx_rtcp, st.rx_rtcp_bad);
	dp_plane.running = 0;
	dp_release_all();
}

void
dp_port_mac(struct rte_ether_addr *mac)
{
	rte_ether_addr_copy(&dp_plane.w[0]->mac, mac);
}
