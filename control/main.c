/* anncd: the announcement media server for messaging attachments.  The
 * EAL takes the options before "--"; anncd's own follow.  The main lcore
 * runs the control plane's event loop, one worker lcore the dataplane.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "control/annc.h"
#include "control/config.h"
#include "control/imap_client.h"
#include "control/loop.h"
#include "core/clock.h"
#include "core/content.h"
#include "core/log.h"
#include "dataplane/dp.h"

#define MAIN_TICK_MS		10	/* timers and dataplane events */
#define MAIN_DRAIN_MS		2000	/* streams may take this to stop */
#define MAIN_CLOCK_CAL_MS	200	/* < 1 ppm on the machines measured */
#define MAIN_RING_ENTRIES	1024

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t counters_wanted;	/* SIGUSR1 */

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Logging is not async-signal-safe: the loop logs on its next turn. */
static void
on_usr1(int sig)
{
	(void)sig;
	counters_wanted = 1;
}

/* Index of "--" in argv, or argc when there is none. */
static int
split_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

static int
wants_help(int argc, char **argv, int from)
{
	int i;

	for (i = from; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int
dataplane_start(const struct anncd_config *cfg)
{
	struct dp_config dc;
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);

	if (worker >= RTE_MAX_LCORE) {
		LOG_AT(LOGL_ERR, "main",
		       "no worker lcore: give the EAL two cores (-l 0,1)");
		return -1;
	}
	if (!rte_eth_dev_is_valid_port(cfg->port_id)) {
		LOG_AT(LOGL_ERR, "main",
		       "no DPDK port %u: give one with --vdev or a NIC",
		       cfg->port_id);
		return -1;
	}
	memset(&dc, 0, sizeof(dc));
	dc.port_id = cfg->port_id;
	dc.lcore_id = worker;
	/* Every lcore of the EAL's list but the main one plays streams. */
	dc.nb_workers = rte_lcore_count() - 1;
	dc.media_ip = cfg->media_ip;
	dc.has_nexthop = cfg->has_nexthop;
	dc.nexthop_mac = cfg->nexthop_mac;
	dc.max_streams = cfg->max_calls;
	dc.nb_mbufs = 8192;
	dc.arp_timeout_ms = cfg->arp_timeout_ms;
	dc.rtp_port_min = cfg->rtp_port_min;
	dc.rtp_port_max = cfg->rtp_port_max;
	return dp_start(&dc) < 0 ? -1 : 0;
}

static const char *const security_names[] = {
	[IMAP_SEC_PLAIN] = "plain",
	[IMAP_SEC_IMAPS] = "imaps",
	[IMAP_SEC_STARTTLS] = "starttls",
};

static void
log_startup(const struct anncd_config *cfg)
{
	char media[INET_ADDRSTRLEN];
	unsigned int i;

	inet_ntop(AF_INET, &cfg->media_ip, media, sizeof(media));
	LOG_AT(LOGL_INFO, "main",
	       "media %s rtp ports %u-%u tsc %lu Hz max calls %u "
	       "max content %zu bytes imap timeout %u ms decode slice %u bytes",
	       media, cfg->rtp_port_min, cfg->rtp_port_max,
	       (unsigned long)clock_tsc_hz(), cfg->max_calls,
	       cfg->max_content, cfg->imap_timeout_ms, cfg->decode_slice);
	LOG_AT(LOGL_INFO, "main", "sendrecv offers answered %s",
	       cfg->answer_dir == SDP_SENDRECV ? "sendrecv" : "sendonly");
	for (i = 0; i < cfg->n_imap; i++) {
		const struct config_imap_server *s = &cfg->imap[i];

		LOG_AT(LOGL_INFO, "main", "imap server allowed: %s:%u %s%s%s",
		       s->host, s->port, security_names[s->security],
		       config_cred_find(cfg, s->host, strlen(s->host),
					s->port) ? " with credentials" : "",
		       s->plaintext_ok ? " (credentials in clear allowed)"
				       : "");
	}
}

/* The workers' counters, summed, on SIGUSR1 beside the cache's: packets
 * sent and the TSC ticks their busy rounds took, from which a benchmark
 * reads the dataplane's cost per packet between two such lines.
 */
static void
log_dp_counters(void)
{
	struct dp_stats st;

	dp_get_stats(&st);
	LOG_AT(LOGL_INFO, "dp", "counters tx_packets=%" PRIu64
	       " rtcp_sr=%" PRIu64 " rtcp_bye=%" PRIu64 " busy_tsc=%" PRIu64
	       " tx_burst_tsc=%" PRIu64 " busy_long_tsc=%" PRIu64
	       " tsc_hz=%" PRIu64, st.tx_packets, st.tx_rtcp_sr,
	       st.tx_rtcp_bye, st.busy_tsc, st.tx_burst_tsc, st.busy_long_tsc,
	       clock_tsc_hz());
}

static void
run(void)
{
	uint64_t next_tick = loop_now_ms(), now, drain_until = 0;

	for (;;) {
		loop_run(MAIN_TICK_MS);
		now = loop_now_ms();
		if (now >= next_tick) {
			annc_tick(now);
			next_tick = now + MAIN_TICK_MS;
		}
		if (counters_wanted) {
			counters_wanted = 0;
			annc_log_counters();
			log_dp_counters();
		}
		if (stopping && drain_until == 0) {
			LOG_AT(LOGL_INFO, "main", "stopping: %u calls open",
			       annc_shutdown());
			drain_until = now + MAIN_DRAIN_MS;
		}
		if (drain_until != 0 &&
		    (annc_active_calls() == 0 || now >= drain_until))
			return;
	}
}

/* The EAL leaves its runtime folder (/var/run/dpdk/PREFIX: telemetry
 * socket, config) behind even with --no-shconf.  It is this process's
 * own, named by its --file-prefix: remove its files and the folder, and
 * nothing below them. */
static void
runtime_dir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (strstr(dir, "/dpdk/") == NULL)
		return;
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_type != DT_DIR)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (rmdir(dir) < 0)
		LOG_AT(LOGL_WARN, "main", "rmdir(%s) failed: %s", dir,
		       strerror(errno));
}

int
main(int argc, char **argv)
{
	static struct anncd_config cfg;
	static char runtime_dir[PATH_MAX];
	int split = split_args(argc, argv), rc;

	/* "anncd --help" and "anncd [EAL] -- --help" both mean anncd's. */
	if (wants_help(argc, argv, split == argc ? 1 : split)) {
		config_usage(argv[0]);
		return 0;
	}
	rc = rte_eal_init(split, argv);
	if (rc < 0) {
		LOG_AT(LOGL_ERR, "main", "rte_eal_init failed: %s",
		       rte_strerror(rte_errno));
		return 1;
	}
	/* anncd's options start after "--", which stands in for argv[0]. */
	if (split == argc)
		split = argc - 1;
	argv[split] = argv[0];
	rc = config_parse(argc - split, argv + split, &cfg);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	log_max_level = (enum log_level)cfg.log_level;
	clock_calibrate(MAIN_CLOCK_CAL_MS);
	log_startup(&cfg);
	/* Each call may hold a content being fetched (and, while the
	 * dataplane decodes its base64 text, the output too) or one evicted
	 * from the cache while its last packets are in flight; the cache
	 * holds at most one per entry.
	 */
	if (content_sys_init(cfg.max_calls * 3 + cfg.cache_entries,
			     cfg.max_content) < 0 ||
	    loop_init(MAIN_RING_ENTRIES) < 0 ||
	    imap_client_init(&(struct imap_client_opts){ cfg.imap_ca,
	    cfg.imap_idle_ms, cfg.imap_max_conns }) < 0 ||
	    dataplane_start(&cfg) < 0 || annc_init(&cfg) < 0)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_usr1);
	run();
	loop_run(0);	/* what the last round queued goes out */
	dp_stop();
	annc_log_counters();
	imap_client_fini();
	annc_fini();
	content_reap();
	LOG_AT(LOGL_INFO, "main", "stopped: %u contents still held",
	       content_live());
	loop_fini();
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	runtime_dir_remove(runtime_dir);
	return 0;
}
