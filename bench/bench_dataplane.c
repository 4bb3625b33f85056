/* bench-dataplane: how many G.711 streams one worker lcore (or --workers
 * of them) paces, and how close to each packet's ideal time, on net_null
 * (every packet is built in full and freed by the PMD; nothing reaches a
 * wire).  In one run it first measures the port's ceiling with a raw
 * build-and-send loop on the first worker lcore alone, then plays one
 * shared content to N streams through the project's
 * dataplane, built with its send-error histogram (-DDP_MEASURE), and reads
 * the paced rate and the errors over a window after the ramp-up.  With
 * --decode, it then measures the same streams in windows side by side:
 * without a decode job, and with the worker decoding a base64 attachment
 * of each size over and over in slices (dataplane/dp_decode.c), and the
 * decode's throughput on the worker.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "core/clock.h"
#include "core/content.h"
#include "core/log.h"
#include "dataplane/dp.h"
#include "dataplane/dp_decode.h"
#include "dataplane/dp_priv.h"

#define BENCH_PTIME_NS		20000000ull	/* G.711 at 20 ms */
#define BENCH_PAYLOAD		160u		/* bytes and ticks a packet */
#define BENCH_BURST		32u
#define BENCH_NB_MBUFS		16383u		/* freed at once by net_null */
#define BENCH_TAIL_S		10		/* content beyond the run */
#define BENCH_DECODE_MAX	4		/* attachment sizes in a run */
#define BENCH_SLICES_MAX	4		/* slice sizes in a run */
#define BENCH_MIME_LINE		57		/* bytes a 76-column line */

struct bench_opts {
	unsigned int streams;
	unsigned int workers;		/* dataplane lcores */
	double raw_s;			/* raw loop */
	double settle_s;		/* after the last stream started */
	double window_s;		/* measured */
	double ramp_timeout_s;
	unsigned int mem_mb;
	const char *json;
	unsigned int decode_mib[BENCH_DECODE_MAX];	/* --decode */
	unsigned int ndecode;
	uint32_t slices[BENCH_SLICES_MAX];		/* --slices */
	unsigned int nslices;
};

/* An attachment the decode windows have the worker decode: its MIME
 * base64 text, the reserved output, and the bytes it must give.
 */
struct bench_text {
	unsigned int mib;
	struct content *text;
	struct content *out;
	uint8_t *ref;
	size_t ref_len;
};

/* One window of the decode comparison; mib 0: no decode. */
struct bench_dec_result {
	unsigned int mib;
	uint32_t slice;
	double paced_mpps, p50_us, p99_us, max_us;
	uint64_t late_1ms;
	uint64_t jobs, bad, text_bytes, rounds, busy_tsc, wall_tsc;
};

static struct bench_text bench_texts[BENCH_DECODE_MAX];

struct bench_result {
	unsigned int streams;
	unsigned int workers;
	uint64_t started;
	double offered_mpps;
	double paced_mpps;		/* RTP only */
	double rtcp_kpps;		/* sender reports and BYEs */
	double raw_mpps;
	double ratio;
	double p50_us, p99_us, max_us;
	double window_s;
	double ramp_s;
	uint64_t state_bytes;		/* per-stream tables and pacer */
	uint64_t ring_bytes;
	uint64_t tx_retry, no_mbuf, late_1ms;
};

/* The raw loop's state, shared with the lcore that runs it. */
struct bench_raw {
	uint16_t port;
	struct rte_mempool *pool;
	struct dp_rtp_frame tmpl;
	const uint8_t *payload;		/* BENCH_PAYLOAD bytes */
	uint64_t until;			/* TSC */
	uint64_t packets;
	uint64_t tsc;			/* how long it ran */
};

static void
bench_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--streams N | N] [--window S] [--settle S] [--raw S]\n"
		"       [--ramp-timeout S] [--mem MB] [--json FILE] "
		"[--workers N]\n"
		"       [--decode MIB[,MIB...]] [--slices BYTES[,BYTES...]]\n",
		prog);
}

/* "4,16" into v[]: the count, or UINT32_MAX for a bad list. */
static unsigned int
bench_list(const char *arg, uint32_t *v, unsigned int max, unsigned long lo,
	   unsigned long hi)
{
	unsigned int n = 0;
	unsigned long x;
	char *end;

	do {
		x = strtoul(arg, &end, 10);
		if (end == arg || x < lo || x > hi || n == max)
			return UINT32_MAX;
		v[n++] = (uint32_t)x;
		arg = end + 1;
	} while (*end == ',');
	return *end == '\0' ? n : UINT32_MAX;
}

static int
bench_parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "streams", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "settle", required_argument, NULL, 's' },
		{ "raw", required_argument, NULL, 'r' },
		{ "ramp-timeout", required_argument, NULL, 't' },
		{ "mem", required_argument, NULL, 'm' },
		{ "json", required_argument, NULL, 'j' },
		{ "decode", required_argument, NULL, 'd' },
		{ "slices", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct bench_opts){ .streams = 10000, .raw_s = 2, .settle_s = 1,
				  .window_s = 3, .ramp_timeout_s = 60,
				  .mem_mb = 512, .workers = 1 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o->streams = (unsigned int)atoi(optarg); break;
		case 'w': o->window_s = atof(optarg); break;
		case 's': o->settle_s = atof(optarg); break;
		case 'r': o->raw_s = atof(optarg); break;
		case 't': o->ramp_timeout_s = atof(optarg); break;
		case 'm': o->mem_mb = (unsigned int)atoi(optarg); break;
		case 'j': o->json = optarg; break;
		case 'k': o->workers = (unsigned int)atoi(optarg); break;
		case 'd': o->ndecode = bench_list(optarg, o->decode_mib,
						  BENCH_DECODE_MAX, 1, 256);
			  break;
		case 'l': o->nslices = bench_list(optarg, o->slices,
						  BENCH_SLICES_MAX,
						  DP_DECODE_SLICE_MIN,
						  DP_DECODE_SLICE_MAX);
			  break;
		default: return -1;
		}
	}
	if (optind < argc)
		o->streams = (unsigned int)atoi(argv[optind++]);
	if (o->ndecode > 0 && o->nslices == 0)
		o->slices[o->nslices++] = DP_DECODE_SLICE_DEFAULT;
	if (optind < argc || o->streams == 0 || o->window_s <= 0 ||
	    o->ndecode == UINT32_MAX || o->nslices == UINT32_MAX ||
	    o->raw_s <= 0 || o->window_s > 60 || o->raw_s > 60 ||
	    o->workers == 0 || o->workers > DP_MAX_WORKERS)
		return -1;
	return 0;
}

static void
bench_sleep(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static uint64_t
bench_s_to_tsc(double s)
{
	return clock_ns_to_tsc((uint64_t)(s * 1e9));
}

/* G.711 mu-law of a slow ramp: any bytes do, none are decoded. */
static struct content *
bench_content(size_t len)
{
	struct content *c = content_new(len);
	uint8_t buf[4096];
	size_t i, k;

	if (c == NULL)
		return NULL;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	for (i = 0; i < len; i += k) {
		k = RTE_MIN(len - i, sizeof(buf));
		if (content_append(c, buf, k) != 0) {
			content_put(c);
			return NULL;
		}
	}
	c->mi.data_offset = 0;
	c->mi.data_len = len;
	return c;
}

/* The same headers the dataplane builds, with the port's own MAC. */
static void
bench_raw_template(struct bench_raw *r)
{
	struct dp_rtp_frame *f = &r->tmpl;
	uint16_t udp_len = sizeof(f->udp) + sizeof(f->rtp) + BENCH_PAYLOAD;

	memset(f, 0, sizeof(*f));
	rte_eth_macaddr_get(r->port, &f->eth.src_addr);
	memset(&f->eth.dst_addr, 0x02, sizeof(f->eth.dst_addr));
	f->eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	f->ip.version_ihl = RTE_IPV4_VHL_DEF;
	f->ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	f->ip.time_to_live = 64;
	f->ip.next_proto_id = IPPROTO_UDP;
	f->ip.src_addr = rte_cpu_to_be_32(0xc6120001);	/* 198.18.0.1 */
	f->ip.dst_addr = rte_cpu_to_be_32(0xc6120002);
	f->ip.total_length = rte_cpu_to_be_16(sizeof(f->ip) + udp_len);
	f->udp.src_port = rte_cpu_to_be_16(40000);
	f->udp.dst_port = rte_cpu_to_be_16(50000);
	f->udp.dgram_len = rte_cpu_to_be_16(udp_len);
	f->rtp.vpxcc = 0x80;
}

/* What any sender on this port must do per packet: headers from the
 * template, the payload copied (net_null takes no chains), sequence and
 * timestamp, and both checksums in software (net_null offers neither).
 */
static void
bench_raw_build(const struct bench_raw *r, struct rte_mbuf *m, uint32_t n)
{
	struct dp_rtp_frame *f;
	uint8_t *pay;

	f = (struct dp_rtp_frame *)rte_pktmbuf_append(m, sizeof(*f) +
						      BENCH_PAYLOAD);
	rte_memcpy(f, &r->tmpl, sizeof(*f));
	pay = (uint8_t *)(f + 1);
	rte_memcpy(pay, r->payload, BENCH_PAYLOAD);
	f->rtp.seq = rte_cpu_to_be_16((uint16_t)n);
	f->rtp.ts = rte_cpu_to_be_32(n * BENCH_PAYLOAD);
	f->ip.hdr_checksum = rte_ipv4_cksum(&f->ip);
	f->udp.dgram_cksum = rte_ipv4_udptcp_cksum(&f->ip, &f->udp);
}

static int
bench_raw_main(void *arg)
{
	struct bench_raw *r = arg;
	struct rte_mbuf *m[BENCH_BURST];
	uint64_t t0 = rte_rdtsc(), n = 0;
	uint16_t i, sent;

	while (rte_rdtsc() < r->until) {
		if (rte_pktmbuf_alloc_bulk(r->pool, m, BENCH_BURST) != 0)
			continue;
		for (i = 0; i < BENCH_BURST; i++)
			bench_raw_build(r, m[i], (uint32_t)(n + i));
		sent = rte_eth_tx_burst(r->port, 0, m, BENCH_BURST);
		for (i = sent; i < BENCH_BURST; i++)
			rte_pktmbuf_free(m[i]);
		n += sent;
	}
	r->tsc = rte_rdtsc() - t0;
	r->packets = n;
	return 0;
}

static int
bench_raw_port(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL,
					    pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	return rc;
}

/* The ceiling: the raw loop on the worker lcore for raw_s seconds, on the
 * port that the dataplane takes over afterwards.  Returns Mpps or -1.
 */
static double
bench_raw(uint16_t port, unsigned int lcore, const struct content *c,
	  double raw_s)
{
	static struct bench_raw r;
	double mpps = -1;

	r.port = port;
	r.pool = rte_pktmbuf_pool_create("bench_raw", BENCH_NB_MBUFS, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	if (r.pool == NULL || bench_raw_port(port, r.pool) != 0) {
		fprintf(stderr, "raw: port %u set-up failed\n", port);
		goto out;
	}
	bench_raw_template(&r);
	r.payload = c->chunks[0]->data;
	r.until = rte_rdtsc() + bench_s_to_tsc(raw_s);
	if (rte_eal_remote_launch(bench_raw_main, &r, lcore) != 0)
		goto out;
	/* Asleep, not spinning in the wait: the main lcore's vCPU is the one
	 * the rest of the machine runs on, as in the paced phase.
	 */
	bench_sleep(raw_s);
	rte_eal_wait_lcore(lcore);
	mpps = (double)r.packets / ((double)clock_tsc_to_ns(r.tsc) / 1e9) / 1e6;
	rte_eth_dev_stop(port);
out:
	/* The port's RX queue still names the pool until dp_start() sets it
	 * up again; net_null never fills it, so it goes at exit.
	 */
	return mpps;
}

/* Every stream plays the same uniform plan over the shared content. */
static void
bench_plan(struct media_plan *pl, struct content *c)
{
	memset(pl, 0, sizeof(*pl));
	pl->content = c;
	pl->clock_rate = 8000;
	pl->uni_off = c->mi.data_offset;
	pl->uni_total = c->mi.data_len;
	pl->uni_len = BENCH_PAYLOAD;
	pl->uni_ts = BENCH_PAYLOAD;
	pl->npkts = (uint32_t)((pl->uni_total + BENCH_PAYLOAD - 1) /
			       BENCH_PAYLOAD);
	pl->span_ts = (uint32_t)pl->uni_total;
}

static void
bench_params(struct dp_stream_params *p, uint32_t i,
	     const struct media_plan *pl)
{
	memset(p, 0, sizeof(*p));
	p->handle = i;
	/* A destination address in 198.19.0.0/16 and a port: unique pairs. */
	p->dst_ip = rte_cpu_to_be_32(0xc6130000 | (i & 0xffff));
	p->dst_port = (uint16_t)(10000 + (i >> 16) * 2);
	p->src_port = (uint16_t)(40000 + (i & 0x3ff) * 2);
	p->pt = 0;
	p->ssrc = 0x5eed0000u ^ i;
	p->seq0 = (uint16_t)(i * 7);
	p->ts0 = i * 1000;
	p->plan = pl;
	p->repeat = 1;
}

/* Stream i is queued at i/N of the first ptime, so the worker starts them
 * evenly over one period and every slot of the period carries the same
 * load.  Returns seconds until the worker had started them all, or -1.
 */
static double
bench_ramp(const struct bench_opts *o, struct content *c,
	   struct dp_measure *ms)
{
	static struct media_plan pl;
	struct dp_stream_params p;
	uint64_t period = clock_ns_to_tsc(BENCH_PTIME_NS);
	uint64_t t0 = rte_rdtsc(), deadline = t0 +
		bench_s_to_tsc(o->ramp_timeout_s);
	uint32_t i;
	int rc;

	bench_plan(&pl, c);
	for (i = 0; i < o->streams; i++) {
		while (rte_rdtsc() < t0 + period * i / o->streams)
			rte_pause();
		bench_params(&p, i, &pl);
		while ((rc = dp_stream_start(&p)) == -ENOBUFS &&
		       rte_rdtsc() < deadline)
			rte_pause();
		if (rc != 0)
			return -1;
	}
	do {
		bench_sleep(0.001);
		dp_measure_read(ms);
	} while (ms->started < o->streams && rte_rdtsc() < deadline);
	if (ms->started < o->streams)
		return -1;	/* the window is measured all the same */
	return (double)clock_tsc_to_ns(rte_rdtsc() - t0) / 1e9;
}

/* The upper edge of histogram bin b, in TSC ticks (see dp.h). */
static uint64_t
bench_bin_top(unsigned int b)
{
	unsigned int k = b >> DP_MEASURE_SUB;
	uint64_t mant = b & ((1u << DP_MEASURE_SUB) - 1);

	if (k == 0)
		return b + 1ull;
	return ((1ull << DP_MEASURE_SUB | mant) + 1) << (k - 1);
}

static double
bench_tsc_us(uint64_t tsc)
{
	return (double)clock_tsc_to_ns(tsc) / 1e3;
}

/* Errors of the window: the difference of two copies of the histogram.
 * Each percentile is its bin's upper edge, never flattering.
 */
static void
bench_errors(const struct dp_measure *a, const struct dp_measure *b,
	     struct bench_result *res)
{
	uint64_t total = 0, cum = 0, d, ms = clock_ns_to_tsc(1000000);
	unsigned int i, last = 0;

	for (i = 0; i < DP_MEASURE_BINS; i++)
		total += b->err_hist[i] - a->err_hist[i];
	res->p50_us = res->p99_us = -1;
	for (i = 0; i < DP_MEASURE_BINS && total > 0; i++) {
		d = b->err_hist[i] - a->err_hist[i];
		if (d == 0)
			continue;
		cum += d;
		last = i;
		if (res->p50_us < 0 && cum * 2 >= total)
			res->p50_us = bench_tsc_us(bench_bin_top(i));
		if (res->p99_us < 0 && cum * 100 >= total * 99)
			res->p99_us = bench_tsc_us(bench_bin_top(i));
		if (bench_bin_top(i) > ms)
			res->late_1ms += d;
	}
	res->max_us = bench_tsc_us(RTE_MIN(bench_bin_top(last), b->err_max));
}

static void
bench_window(const struct bench_opts *o, struct bench_result *res,
	     struct dp_measure *m0, struct dp_measure *m1)
{
	struct dp_stats s0, s1;
	struct dp_event ev[64];
	uint64_t t0, t1, until, rtcp;

	bench_sleep(o->settle_s);
	dp_get_stats(&s0);
	dp_measure_read(m0);
	t0 = rte_rdtsc();
	until = t0 + bench_s_to_tsc(o->window_s);
	/* Events only for streams that ended early; keep the ring empty. */
	while (rte_rdtsc() < until) {
		dp_poll_events(ev, RTE_DIM(ev));
		bench_sleep(0.01);
	}
	dp_get_stats(&s1);
	dp_measure_read(m1);
	t1 = rte_rdtsc();

	res->window_s = (double)clock_tsc_to_ns(t1 - t0) / 1e9;
	rtcp = s1.tx_rtcp_sr + s1.tx_rtcp_bye - s0.tx_rtcp_sr - s0.tx_rtcp_bye;
	res->paced_mpps = (double)(s1.tx_packets - s0.tx_packets - rtcp) /
			  res->window_s / 1e6;
	res->rtcp_kpps = (double)rtcp / res->window_s / 1e3;
	res->tx_retry = s1.tx_retry - s0.tx_retry;
	res->no_mbuf = s1.no_mbuf - s0.no_mbuf;
	bench_errors(m0, m1, res);
}

/* ---- decode windows ---- */

static const char bench_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* One MIME line: up to 57 bytes as 76 characters, then CRLF. */
static size_t
bench_mime_line(const uint8_t *in, size_t n, char *o)
{
	size_t i, len = 0;
	uint32_t q;

	for (i = 0; i < n; i += 3) {
		q = (uint32_t)in[i] << 16;
		q |= i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0;
		q |= i + 2 < n ? in[i + 2] : 0;
		o[len++] = bench_b64[q >> 18 & 63];
		o[len++] = bench_b64[q >> 12 & 63];
		o[len++] = i + 1 < n ? bench_b64[q >> 6 & 63] : '=';
		o[len++] = i + 2 < n ? bench_b64[q & 63] : '=';
	}
	o[len++] = '\r';
	o[len++] = '\n';
	return len;
}

/* mib MiB of random bytes, their MIME base64 text in a content, and an
 * output content reserved for it.
 */
static int
bench_text_make(struct bench_text *t, unsigned int mib)
{
	static char buf[CONTENT_CHUNK_SIZE];
	size_t i, k, n = 0, len = (size_t)mib << 20;
	uint32_t x = 0x9e3779b9u;

	t->mib = mib;
	t->ref_len = len;
	t->ref = malloc(len);
	t->text = content_new(len / 3 * 4 + len / 57 * 2 + 8);
	if (t->ref == NULL || t->text == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		t->ref[i] = (uint8_t)x;
	}
	for (i = 0; i < len; i += k) {
		k = RTE_MIN((size_t)BENCH_MIME_LINE, len - i);
		n += bench_mime_line(t->ref + i, k, buf + n);
		if (n + 80 > sizeof(buf) || i + k == len) {
			if (content_append(t->text, buf, n) != 0)
				return -1;
			n = 0;
		}
	}
	t->out = content_new_reserved(dp_decode_out_max(t->text->len));
	return t->out == NULL ? -1 : 0;
}

static void
bench_text_free(struct bench_text *t)
{
	free(t->ref);
	content_put(t->text);
	content_put(t->out);
	memset(t, 0, sizeof(*t));
}

/* The job's event: counted, its first output checked, and the job sent
 * again at once so that the worker always has one.
 */
static int
bench_job_done(struct dp_decode_job *j, struct bench_text *t,
	       struct bench_dec_result *r, uint64_t submitted)
{
	r->wall_tsc += rte_rdtsc() - submitted;
	r->busy_tsc += j->busy_tsc;
	r->rounds += j->rounds;
	r->text_bytes += t->text->len;
	if (j->status != 0 || j->out->len != t->ref_len ||
	    (r->jobs == 0 && memcmp(j->out->chunks[0]->data, t->ref,
				    CONTENT_CHUNK_SIZE) != 0))
		r->bad++;
	r->jobs++;
	t->out->len = 0;
	return dp_decode_submit(j);
}

/* Takes the events there are: 1 when the job's was among them. */
static int
bench_dec_event(const struct dp_decode_job *j)
{
	struct dp_event ev[64];
	unsigned int i, n;
	int found = 0;

	do {
		n = dp_poll_events(ev, RTE_DIM(ev));
		for (i = 0; i < n; i++)
			found |= ev[i].type == DP_EV_DECODED && ev[i].job == j;
	} while (n == RTE_DIM(ev));
	return found;
}

/* Polls every millisecond until the window ends, resubmitting the job;
 * then waits for the one in flight, uncounted, so that its output may be
 * reused.
 */
static void
bench_dec_poll(struct dp_decode_job *j, struct bench_text *t,
	       struct bench_dec_result *r, uint64_t until)
{
	uint64_t submitted = rte_rdtsc(), give_up;
	int busy;

	if (t != NULL)
		t->out->len = 0;
	busy = t != NULL && dp_decode_submit(j) == 0;

	while (rte_rdtsc() < until) {
		if (busy && bench_dec_event(j)) {
			busy = bench_job_done(j, t, r, submitted) == 0;
			submitted = rte_rdtsc();
		}
		bench_sleep(0.001);
	}
	give_up = rte_rdtsc() + bench_s_to_tsc(30);
	while (busy && !bench_dec_event(j) && rte_rdtsc() < give_up)
		bench_sleep(0.001);
}

/* One window of window_s: the send errors, and the decode's figures when
 * t is not NULL.
 */
static void
bench_dec_window(const struct bench_opts *o, struct bench_text *t,
		 uint32_t slice, struct bench_dec_result *r,
		 struct dp_measure *m0, struct dp_measure *m1)
{
	struct dp_decode_job job = { 0 };
	struct bench_result br = { 0 };
	struct dp_stats s0, s1;
	uint64_t t0, t1;

	memset(r, 0, sizeof(*r));
	r->mib = t != NULL ? t->mib : 0;
	r->slice = slice;
	if (t != NULL) {
		job.text = t->text;
		job.out = t->out;
		job.slice = slice;
	}
	dp_get_stats(&s0);
	dp_measure_read(m0);
	t0 = rte_rdtsc();
	bench_dec_poll(&job, t, r, t0 + bench_s_to_tsc(o->window_s));
	t1 = rte_rdtsc();
	dp_get_stats(&s1);
	dp_measure_read(m1);
	bench_errors(m0, m1, &br);
	r->paced_mpps = (double)(s1.tx_packets - s0.tx_packets) /
			((double)clock_tsc_to_ns(t1 - t0) / 1e9) / 1e6;
	r->p50_us = br.p50_us;
	r->p99_us = br.p99_us;
	r->max_us = br.max_us;
	r->late_1ms = br.late_1ms;
}

static double
bench_gbps(uint64_t bytes, uint64_t tsc)
{
	return tsc == 0 ? 0 : (double)bytes * 8 / (double)clock_tsc_to_ns(tsc);
}

static void
bench_dec_print(const struct bench_dec_result *r, unsigned int n)
{
	unsigned int i;

	printf("\n%-8s %7s %8s %9s %9s %9s %8s %5s %4s %8s %8s %7s\n",
	       "decode", "slice", "paced", "p50 us", "p99 us", "max us",
	       ">1 ms", "jobs", "bad", "busy", "wall", "rounds");
	for (i = 0; i < n; i++, r++)
		printf("%4u MiB %7u %8.3f %9.1f %9.1f %9.1f %8" PRIu64
		       " %5" PRIu64 " %4" PRIu64 " %8.2f %8.2f %7.0f\n",
		       r->mib, r->slice, r->paced_mpps, r->p50_us, r->p99_us,
		       r->max_us, r->late_1ms, r->jobs, r->bad,
		       bench_gbps(r->text_bytes, r->busy_tsc),
		       bench_gbps(r->text_bytes, r->wall_tsc),
		       r->jobs ? (double)r->rounds / r->jobs : 0);
	printf("(paced: Mpps with RTCP; busy and wall: Gbit/s of base64 "
	       "text, over the worker's decode time and submit to event)\n");
	for (i = 0, r -= n; i < n; i++, r++)
		printf("decode_mib=%u slice=%u paced_mpps=%.3f p50_err_us=%.1f "
		       "p99_err_us=%.1f max_err_us=%.1f jobs=%" PRIu64
		       " bad=%" PRIu64 " busy_gbps=%.2f wall_gbps=%.2f\n",
		       r->mib, r->slice, r->paced_mpps, r->p50_us, r->p99_us,
		       r->max_us, r->jobs, r->bad,
		       bench_gbps(r->text_bytes, r->busy_tsc),
		       bench_gbps(r->text_bytes, r->wall_tsc));
}

static double
bench_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The decode's own cost, the worker's steps run here on the main lcore
 * in slices, in thread CPU time: time slices the VM gives to others do
 * not count, as they do in the worker's TSC figures.  The best of three.
 */
static double
bench_step_gbps(struct bench_text *t, uint32_t slice)
{
	struct dp_decode_job j;
	double best = 0, s0, s;
	int k;

	for (k = 0; k < 3; k++) {
		memset(&j, 0, sizeof(j));
		j.text = t->text;
		j.out = t->out;
		t->out->len = 0;
		b64_init(&j.dec);
		s0 = bench_cpu_s();
		while (dp_decode_step(&j, slice) == 0)
			;
		s = bench_cpu_s() - s0;
		if (j.status != 0 || t->out->len != t->ref_len)
			return -1;
		if (s > 0 && (double)t->text->len * 8 / s / 1e9 > best)
			best = (double)t->text->len * 8 / s / 1e9;
	}
	t->out->len = 0;
	return best;
}

static void
bench_step_print(const struct bench_opts *o)
{
	unsigned int i, k;

	printf("\ndecode steps on the main lcore, thread CPU time (Gbit/s of "
	       "base64 text):\n");
	for (k = 0; k < o->ndecode; k++)
		for (i = 0; i < o->nslices; i++)
			printf("step_mib=%u slice=%u cpu_gbps=%.2f\n",
			       bench_texts[k].mib, o->slices[i],
			       bench_step_gbps(&bench_texts[k], o->slices[i]));
}

/* For each slice: a window without a decode, then one per size, in turn,
 * so that every figure has its baseline next to it.
 */
static void
bench_decode_all(const struct bench_opts *o, struct dp_measure *m0,
		 struct dp_measure *m1)
{
	struct bench_dec_result r[BENCH_SLICES_MAX * (BENCH_DECODE_MAX + 1)];
	unsigned int i, k, n = 0;

	for (i = 0; i < o->nslices; i++) {
		bench_dec_window(o, NULL, o->slices[i], &r[n++], m0, m1);
		for (k = 0; k < o->ndecode; k++)
			bench_dec_window(o, &bench_texts[k], o->slices[i],
					 &r[n++], m0, m1);
	}
	bench_dec_print(r, n);
	bench_step_print(o);
}

static int
bench_paced(const struct bench_opts *o, uint16_t port, unsigned int lcore,
	    struct content *c, struct bench_result *res)
{
	struct dp_config cfg = {
		.port_id = port, .lcore_id = lcore, .nb_workers = o->workers,
		.media_ip = rte_cpu_to_be_32(0xc6120001),
		.has_nexthop = 1,
		.nexthop_mac = { .addr_bytes = { 2, 0, 0x5e, 0, 0, 2 } },
		/* The streams go evenly to the workers, fewest first. */
		.max_streams = (o->streams + o->workers - 1) / o->workers,
		.nb_mbufs = BENCH_NB_MBUFS,
	};
	struct dp_measure *m0 = calloc(1, sizeof(*m0));
	struct dp_measure *m1 = calloc(1, sizeof(*m1));
	int rc = -1;

	if (m0 == NULL || m1 == NULL || dp_start(&cfg) != 0)
		goto out;
	res->ramp_s = bench_ramp(o, c, m0);
	res->started = m0->started;
	res->state_bytes = m0->state_bytes;
	res->ring_bytes = m0->ring_bytes;
	/* Measured all the same: a worker too slow to start its streams is
	 * a result too.
	 */
	if (res->ramp_s < 0)
		printf("ramp-up: only %" PRIu64 " of %u streams started in "
		       "%.0f s\n", m0->started, o->streams, o->ramp_timeout_s);
	bench_window(o, res, m0, m1);
	if (o->ndecode > 0)
		bench_decode_all(o, m0, m1);
	rc = 0;
	dp_stop();
out:
	free(m0);
	free(m1);
	return rc;
}

static void
bench_print(const struct bench_result *r)
{
	double n = r->streams;

	printf("%-24s %12u\n", "streams", r->streams);
	printf("%-24s %12" PRIu64 "\n", "started", r->started);
	printf("%-24s %12.3f s\n", "ramp-up", r->ramp_s);
	printf("%-24s %12.3f Mpps\n", "offered (N / ptime)", r->offered_mpps);
	printf("%-24s %12.3f Mpps over %.2f s\n", "paced", r->paced_mpps,
	       r->window_s);
	printf("%-24s %12.1f kpps\n", "rtcp", r->rtcp_kpps);
	printf("%-24s %12.3f Mpps\n", "raw ceiling", r->raw_mpps);
	printf("%-24s %12.3f\n", "paced / raw", r->ratio);
	printf("%-24s %12.1f us\n", "send error p50", r->p50_us);
	printf("%-24s %12.1f us\n", "send error p99", r->p99_us);
	printf("%-24s %12.1f us\n", "send error max", r->max_us);
	printf("%-24s %12" PRIu64 "\n", "packets late > 1 ms", r->late_1ms);
	printf("%-24s %12" PRIu64 "\n", "tx retried", r->tx_retry);
	printf("%-24s %12" PRIu64 "\n", "no mbuf", r->no_mbuf);
	printf("%-24s %12.1f B\n", "state per stream", r->state_bytes / n);
	printf("%-24s %12.1f B\n", "rings per stream", r->ring_bytes / n);
	printf("streams=%u paced_mpps=%.3f raw_mpps=%.3f ratio=%.3f "
	       "p50_err_us=%.1f p99_err_us=%.1f max_err_us=%.1f "
	       "bytes_per_stream=%.1f rtcp_kpps=%.1f workers=%u\n", r->streams,
	       r->paced_mpps, r->raw_mpps, r->ratio, r->p50_us, r->p99_us,
	       r->max_us, r->state_bytes / n, r->rtcp_kpps, r->workers);
}

static int
bench_json(const char *path, const struct bench_result *r)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "{\"streams\": %u, \"started\": %" PRIu64 ", "
		"\"ramp_s\": %.3f, \"window_s\": %.3f, \"offered_mpps\": %.4f, "
		"\"paced_mpps\": %.4f, \"raw_mpps\": %.4f, \"ratio\": %.4f, "
		"\"p50_err_us\": %.2f, \"p99_err_us\": %.2f, "
		"\"max_err_us\": %.2f, \"late_1ms\": %" PRIu64 ", "
		"\"tx_retry\": %" PRIu64 ", \"no_mbuf\": %" PRIu64 ", "
		"\"bytes_per_stream\": %.1f, \"ring_bytes_per_stream\": %.1f}\n",
		r->streams, r->started, r->ramp_s, r->window_s,
		r->offered_mpps, r->paced_mpps, r->raw_mpps, r->ratio,
		r->p50_us, r->p99_us, r->max_us, r->late_1ms, r->tx_retry,
		r->no_mbuf, (double)r->state_bytes / r->streams,
		(double)r->ring_bytes / r->streams);
	return fclose(f) == 0 ? 0 : -1;
}

/* The main lcore and a worker per lcore after it: on CPUs of their own
 * while there are enough, else floating over all of them (timings then
 * say more about the scheduler than about the dataplane).
 */
static int
bench_eal(const char *prog, unsigned int mem_mb, unsigned int workers)
{
	char mem[16], prefix[64], lc[64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *eal[] = { (char *)(uintptr_t)prog, "--no-huge", "-m", mem,
			"--no-shconf", "--no-pci", "--no-telemetry", "-l", lc,
			prefix, "--vdev=net_null0,no-rx=1",
			"--log-level=*:warning", NULL };

	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(prefix, sizeof(prefix), "--file-prefix=anncd-bench-dp-%d",
		 (int)getpid());
	if (workers < ncpu) {
		snprintf(lc, sizeof(lc), "0-%u", workers);
	} else {
		eal[7] = "--lcores";
		snprintf(lc, sizeof(lc), "(0-%u)@(0-%ld)", workers, ncpu - 1);
		printf("%u workers on %ld CPUs: lcores share them\n", workers,
		       ncpu);
	}
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* The whole run, between EAL start and clean-up. */
static int
bench_run(const struct bench_opts *o, struct bench_result *res)
{
	unsigned int lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	double run_s = o->ramp_timeout_s + o->settle_s + o->window_s +
		       BENCH_TAIL_S + o->nslices * (o->ndecode + 1) *
		       (o->window_s + 1);
	size_t len = (size_t)(run_s * 1e9 / BENCH_PTIME_NS) * BENCH_PAYLOAD;
	struct content *c;
	unsigned int i;
	uint16_t port;
	int rc = -1;

	clock_calibrate(200);
	/* The stream's content, and a text and an output per attachment;
	 * a text of 256 MiB decoded is at most 350 MiB.
	 */
	if (rte_eth_dev_get_port_by_name("net_null0", &port) != 0 ||
	    lcore >= RTE_MAX_LCORE ||
	    content_sys_init(1 + 2 * o->ndecode, RTE_MAX(len, 350u << 20)) != 0)
		return -1;
	c = bench_content(len);
	if (c == NULL)
		return -1;
	for (i = 0; i < o->ndecode; i++)
		if (bench_text_make(&bench_texts[i], o->decode_mib[i]) != 0) {
			fprintf(stderr, "no memory for %u MiB to decode\n",
				o->decode_mib[i]);
			goto out;
		}
	res->streams = o->streams;
	res->workers = o->workers;
	res->offered_mpps = o->streams * (1e9 / BENCH_PTIME_NS) / 1e6;
	res->raw_mpps = bench_raw(port, lcore, c, o->raw_s);
	if (res->raw_mpps > 0 && bench_paced(o, port, lcore, c, res) == 0) {
		res->ratio = res->paced_mpps / res->raw_mpps;
		rc = 0;
	}
out:
	for (i = 0; i < o->ndecode; i++)
		bench_text_free(&bench_texts[i]);
	content_put(c);
	content_reap();
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_result res;
	char run_dir[256];
	int rc;

	if (bench_parse(argc, argv, &o) != 0) {
		bench_usage(argv[0]);
		return 2;
	}
	if (bench_eal(argv[0], o.mem_mb, o.workers) != 0)
		return 1;
	log_max_level = LOGL_WARN;
	memset(&res, 0, sizeof(res));
	rc = bench_run(&o, &res);
	if (rc == 0) {
		bench_print(&res);
		if (o.json != NULL && bench_json(o.json, &res) != 0)
			fprintf(stderr, "cannot write %s\n", o.json);
	}
	/* The EAL leaves its empty runtime directory behind: one per run. */
	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(run_dir);
	return rc == 0 ? 0 : 1;
}
