/* anncd-bench: the load generator.  Places announcement calls to anncd at
 * a given rate, or at a rising series of rates to find the highest one
 * held without a failed call, and reports setup latencies and what the
 * RTP streams looked like.  One thread, one io_uring (anncd_bench_uac.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "bench/anncd_bench.h"

#define POLL_MAX_NS	1000000		/* longest wait between call starts */
#define STARTS_PER_ROUND 256		/* calls started before a poll */

static const char usage[] =
"usage: anncd-bench --server IP:PORT --local IP --play-url URL [options]\n"
"  --server IP:PORT     anncd's SIP address\n"
"  --local IP           our address: SIP, RTP, the SDP offer's c=\n"
"  --sip-port N         our SIP port (5070)\n"
"  --rtp-port N         first RTP port; RTCP on each one + 1 (30000)\n"
"  --rtp-sockets N      RTP sockets the calls take in turn (4, max 64)\n"
"  --play-url URL       the pawn-ticket URL every call plays\n"
"  --content-type T     (audio/basic)\n"
"  --cte ENC            content-transfer-encoding (base64; '' for none)\n"
"  --ptime MS           offered (20)\n"
"  --cps N              a fixed call rate ...\n"
"  --calls N            ... for N calls, or\n"
"  --seconds S          ... for S seconds (5)\n"
"  --ramp A,B,STEP,S    rates A to B by STEP, S seconds each; stops after\n"
"                       the first step with a failed call\n"
"  --hold-ms N          our BYE N ms after the 200 (0: with the ACK)\n"
"  --full-every N       every Nth call plays to anncd's BYE and has its\n"
"                       stream checked (1: all; 0: none)\n"
"  --expect-packets N   packets of a whole stream, for the check\n"
"  --max-active N       calls open at once (16384)\n"
"  --timeout-ms N       INVITE to final response, BYE to its answer (4000)\n"
"  --call-ms-max N      a whole call, from the 200 (60000)\n"
"  --json FILE          the results as JSON\n"
"  --plot DIR           data files and gnuplot scripts for the plots\n"
"  --server-cpu FILE    /proc/PID/task/TID/schedstat of anncd's control\n"
"                       thread: its CPU time per call set up, each step\n"
"  --verbose            each failure on stderr\n"
"Progress each second on stderr; a table and a last key=value line on\n"
"stdout.  Exit status 0 when no call failed, 1 otherwise, 2 for usage.\n";

enum {
	O_SERVER = 256, O_LOCAL, O_SIP_PORT, O_RTP_PORT, O_RTP_SOCKS,
	O_PLAY, O_CTYPE, O_CTE, O_PTIME, O_CPS, O_CALLS, O_SECONDS, O_RAMP,
	O_HOLD, O_FULL, O_EXPECT, O_MAX_ACTIVE, O_TIMEOUT, O_CALL_MAX,
	O_JSON, O_PLOT, O_SERVER_CPU, O_VERBOSE, O_HELP,
};

static const struct option long_opts[] = {
	{ "server", required_argument, NULL, O_SERVER },
	{ "local", required_argument, NULL, O_LOCAL },
	{ "sip-port", required_argument, NULL, O_SIP_PORT },
	{ "rtp-port", required_argument, NULL, O_RTP_PORT },
	{ "rtp-sockets", required_argument, NULL, O_RTP_SOCKS },
	{ "play-url", required_argument, NULL, O_PLAY },
	{ "content-type", required_argument, NULL, O_CTYPE },
	{ "cte", required_argument, NULL, O_CTE },
	{ "ptime", required_argument, NULL, O_PTIME },
	{ "cps", required_argument, NULL, O_CPS },
	{ "calls", required_argument, NULL, O_CALLS },
	{ "seconds", required_argument, NULL, O_SECONDS },
	{ "ramp", required_argument, NULL, O_RAMP },
	{ "hold-ms", required_argument, NULL, O_HOLD },
	{ "full-every", required_argument, NULL, O_FULL },
	{ "expect-packets", required_argument, NULL, O_EXPECT },
	{ "max-active", required_argument, NULL, O_MAX_ACTIVE },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "call-ms-max", required_argument, NULL, O_CALL_MAX },
	{ "json", required_argument, NULL, O_JSON },
	{ "plot", required_argument, NULL, O_PLOT },
	{ "server-cpu", required_argument, NULL, O_SERVER_CPU },
	{ "verbose", no_argument, NULL, O_VERBOSE },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_asked;

static void
on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
}

/* A whole number in [lo, hi], or an error naming the option. */
static int
num(const char *name, const char *s, unsigned long lo, unsigned long hi,
    unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] == '-' || *v < lo ||
	    *v > hi) {
		fprintf(stderr, "anncd-bench: --%s %s: not a number in "
			"%lu..%lu\n", name, s, lo, hi);
		return -EINVAL;
	}
	return 0;
}

static int
parse_ramp(struct bench_opts *o, const char *s)
{
	double secs;
	int used = 0;

	if (sscanf(s, "%u,%u,%u,%lf%n", &o->ramp_from, &o->ramp_to,
		   &o->ramp_step, &secs, &used) != 4 || s[used] != '\0' ||
	    o->ramp_from == 0 || o->ramp_step == 0 ||
	    o->ramp_to < o->ramp_from || secs <= 0 || secs > 3600 ||
	    (o->ramp_to - o->ramp_from) / o->ramp_step >= BENCH_MAX_STEPS) {
		fprintf(stderr, "anncd-bench: --ramp %s: want FROM,TO,STEP,"
			"SECONDS with FROM <= TO and at most %d steps\n", s,
			BENCH_MAX_STEPS);
		return -EINVAL;
	}
	o->step_s = secs;
	return 0;
}

static int
parse_seconds(struct bench_opts *o, const char *s)
{
	char *end;

	o->step_s = strtod(s, &end);
	if (end == s || *end != '\0' || !(o->step_s > 0 && o->step_s <= 3600)) {
		fprintf(stderr, "anncd-bench: --seconds %s: want 0 to 3600\n",
			s);
		return -EINVAL;
	}
	return 0;
}

static void
opts_default(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sip_port = 5070;
	o->rtp_port = 30000;
	o->rtp_socks = 4;
	o->content_type = "audio/basic";
	o->cte = "base64";
	o->ptime = 20;
	o->step_s = 5;
	o->full_every = 1;
	o->max_active = 16384;
	o->timeout_ms = 4000;
	o->call_ms_max = 60000;
	o->expect_packets = -1;
}

/* The numeric options, each checked against its range. */
static int
opt_number(struct bench_opts *o, int c, const char *arg)
{
	static const struct { int id; const char *name; unsigned long lo, hi; }
	rng[] = {
		{ O_SIP_PORT, "sip-port", 1, 65535 },
		{ O_RTP_PORT, "rtp-port", 2, 65534 - 2 * BENCH_MAX_RTP_SOCKS },
		{ O_RTP_SOCKS, "rtp-sockets", 1, BENCH_MAX_RTP_SOCKS },
		{ O_PTIME, "ptime", 10, 150 },
		{ O_CPS, "cps", 1, 1000000 },
		{ O_CALLS, "calls", 1, 100000000 },
		{ O_HOLD, "hold-ms", 0, 3600000 },
		{ O_FULL, "full-every", 0, 1000000 },
		{ O_EXPECT, "expect-packets", 1, 100000000 },
		{ O_MAX_ACTIVE, "max-active", 1, 1 << 20 },
		{ O_TIMEOUT, "timeout-ms", 1, 600000 },
		{ O_CALL_MAX, "call-ms-max", 1, 3600000 },
	};
	unsigned long v;
	unsigned int i;

	for (i = 0; i < sizeof(rng) / sizeof(rng[0]) && rng[i].id != c; i++)
		;
	if (i == sizeof(rng) / sizeof(rng[0]))
		return -ENOENT;
	if (num(rng[i].name, arg, rng[i].lo, rng[i].hi, &v) < 0)
		return -EINVAL;
	switch (c) {
	case O_SIP_PORT: o->sip_port = (uint16_t)v; break;
	case O_RTP_PORT: o->rtp_port = (uint16_t)v; break;
	case O_RTP_SOCKS: o->rtp_socks = (unsigned int)v; break;
	case O_PTIME: o->ptime = (unsigned int)v; break;
	case O_CPS: o->cps = (unsigned int)v; break;
	case O_CALLS: o->calls = v; break;
	case O_HOLD: o->hold_ms = (unsigned int)v; break;
	case O_FULL: o->full_every = (unsigned int)v; break;
	case O_EXPECT: o->expect_packets = (long)v; break;
	case O_MAX_ACTIVE: o->max_active = (unsigned int)v; break;
	case O_TIMEOUT: o->timeout_ms = (unsigned int)v; break;
	default: o->call_ms_max = (unsigned int)v; break;
	}
	return 0;
}

static int
opt_other(struct bench_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_SERVER: o->server = arg; return 0;
	case O_LOCAL: o->local = arg; return 0;
	case O_PLAY: o->play_url = arg; return 0;
	case O_CTYPE: o->content_type = arg; return 0;
	case O_CTE: o->cte = arg; return 0;
	case O_SECONDS: return parse_seconds(o, arg);
	case O_RAMP: return parse_ramp(o, arg);
	case O_JSON: o->json = arg; return 0;
	case O_PLOT: o->plot_dir = arg; return 0;
	case O_SERVER_CPU: o->server_cpu = arg; return 0;
	case O_VERBOSE: o->verbose = 1; return 0;
	default: return -EINVAL;
	}
}

static int
server_addr(struct bench_opts *o)
{
	char ip[64];
	unsigned int port;
	int used = 0;

	if (sscanf(o->server, "%63[0-9.]:%u%n", ip, &port, &used) != 2 ||
	    o->server[used] != '\0' || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, ip, &o->server_sa.sin_addr) != 1) {
		fprintf(stderr, "anncd-bench: --server %s: want IPv4:PORT\n",
			o->server);
		return -EINVAL;
	}
	o->server_sa.sin_family = AF_INET;
	o->server_sa.sin_port = htons((uint16_t)port);
	return 0;
}

/* The CPU time anncd's control thread has run, in ms: the first field of
 * its schedstat, in ns (the scheduler's own account, finer than the clock
 * ticks of /proc/PID/stat).  -1 when not asked for or not readable.
 */
static double
server_cpu_ms(const struct bench_opts *o)
{
	unsigned long long ns;
	FILE *f;
	int n;

	if (o->server_cpu == NULL)
		return -1;
	f = fopen(o->server_cpu, "r");
	if (f == NULL)
		return -1;
	n = fscanf(f, "%llu", &ns);
	fclose(f);
	return n == 1 ? (double)ns / 1e6 : -1;
}

static int
opts_parse(struct bench_opts *o, int argc, char **argv)
{
	int c, rc;

	opts_default(o);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == O_HELP) {
			fputs(usage, stdout);
			exit(0);
		}
		rc = opt_number(o, c, optarg);
		if (rc == -ENOENT)
			rc = opt_other(o, c, optarg);
		if (rc < 0)
			return rc;
	}
	if (o->server_cpu != NULL && server_cpu_ms(o) < 0) {
		fprintf(stderr, "anncd-bench: --server-cpu %s: not a readable "
			"schedstat file\n", o->server_cpu);
		return -EINVAL;
	}
	if (optind != argc || !o->server || !o->local || !o->play_url ||
	    (o->cps == 0 && o->ramp_from == 0) || (o->cps && o->ramp_from)) {
		fputs("anncd-bench: --server, --local, --play-url and one of "
		      "--cps or --ramp are needed\n", stderr);
		return -EINVAL;
	}
	return server_addr(o);
}

/* ---- the run ---- */

static double
secs_since(int64_t t0)
{
	return (double)(bench_now_ns() - t0) / 1e9;
}

static void
progress(struct bench_run *r, int64_t t0, unsigned long *last_started)
{
	unsigned long started = 0, answered = 0, failed = 0;
	unsigned int i;

	for (i = 0; i < r->n_steps; i++) {
		started += r->step[i].started;
		answered += r->step[i].answered;
		failed += r->step[i].failed + r->step[i].skipped;
	}
	fprintf(stderr, "%7.1fs started=%lu answered=%lu failed=%lu cps=%lu "
		"open=%u streams=%u rtp=%llu\n", secs_since(t0), started,
		answered, failed, started - *last_started, bench_uac_open(),
		bench_uac_streams(), (unsigned long long)r->rtp_packets);
	*last_started = started;
}

struct pacer {
	int64_t t0;			/* of the whole run */
	int64_t next_progress;
	unsigned long last_started;
};

static int
pace(struct bench_run *r, struct pacer *p, int64_t wait_ns)
{
	int64_t now = bench_now_ns();

	if (now >= p->next_progress) {
		progress(r, p->t0, &p->last_started);
		p->next_progress += 1000000000;
	}
	if (wait_ns > POLL_MAX_NS)
		wait_ns = POLL_MAX_NS;
	return bench_uac_poll(wait_ns > 0 ? wait_ns : 1);
}

/* Starts calls of step s at its rate, due times on the clock from the
 * step's start, so that a late round catches up without drift.
 */
static int
run_step(struct bench_run *r, struct pacer *p, unsigned int s)
{
	struct bench_step *st = &r->step[s];
	const struct bench_opts *o = r->o;
	unsigned long target, done = 0, due, k;
	int64_t t0 = bench_now_ns(), now;
	double cpu0 = server_cpu_ms(o), cpu1;
	uint64_t answers0 = r->answers;
	int rc = 0;

	target = o->calls && o->cps ? o->calls
				    : (unsigned long)(st->rate * o->step_s);
	st->t0 = (double)(t0 - p->t0) / 1e9;
	while (done < target && !stop_asked && rc == 0) {
		now = bench_now_ns();
		due = (unsigned long)((double)(now - t0) * st->rate / 1e9) + 1;
		if (due > target)
			due = target;
		for (k = 0; done < due && k < STARTS_PER_ROUND; k++, done++)
			bench_uac_start(s);
		rc = pace(r, p, t0 + (int64_t)((double)done * 1e9 / st->rate)
				- bench_now_ns());
	}
	st->t1 = secs_since(p->t0);
	cpu1 = server_cpu_ms(o);
	st->cpu_ms = cpu0 >= 0 && cpu1 >= cpu0 ? cpu1 - cpu0 : -1;
	st->answers_in = (unsigned long)(r->answers - answers0);
	return rc;
}

/* Waits for the calls still open; the timers end every one in time. */
static int
drain(struct bench_run *r, struct pacer *p)
{
	const struct bench_opts *o = r->o;
	int64_t until = bench_now_ns() + ((int64_t)o->call_ms_max +
					  3 * (int64_t)o->timeout_ms) * 1000000;
	int rc = 0;

	while (bench_uac_open() > 0 && bench_now_ns() < until && rc == 0)
		rc = pace(r, p, POLL_MAX_NS);
	bench_uac_flush();
	return rc;
}

static int
step_failed(const struct bench_step *st)
{
	return st->failed > 0 || st->skipped > 0;
}

static int
run_all(struct bench_run *r)
{
	const struct bench_opts *o = r->o;
	struct pacer p = { .t0 = bench_now_ns() };
	unsigned int s, n = o->cps ? 1 : (o->ramp_to - o->ramp_from) /
					  o->ramp_step + 1;
	int rc = 0, failed = 0;

	p.next_progress = p.t0 + 1000000000;
	for (s = 0; s < n && !failed && !stop_asked && rc == 0; s++) {
		r->step[s].rate = o->cps ? o->cps
					 : o->ramp_from + s * o->ramp_step;
		r->n_steps = s + 1;
		rc = run_step(r, &p, s);
		/* a failure shows up to --timeout-ms late: any step so far */
		for (unsigned int i = 0; i <= s; i++)
			failed |= step_failed(&r->step[i]);
	}
	if (rc == 0)
		rc = drain(r, &p);
	progress(r, p.t0, &p.last_started);
	r->elapsed_s = secs_since(p.t0);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct bench_opts o;
	static struct bench_run r;
	unsigned int i;
	int rc, failed = 0;

	if (opts_parse(&o, argc, argv) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	r.o = &o;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = bench_uac_init(&r);
	if (rc < 0) {
		fprintf(stderr, "anncd-bench: set-up failed: %s\n",
			strerror(-rc));
		return 1;
	}
	rc = run_all(&r);
	if (rc < 0)
		fprintf(stderr, "anncd-bench: io_uring: %s\n", strerror(-rc));
	bench_uac_fini();
	if (bench_report(&r) < 0)
		rc = -EIO;
	for (i = 0; i < r.n_steps; i++)
		failed |= step_failed(&r.step[i]);
	return rc < 0 || failed || bench_uac_open() > 0 ? 1 : 0;
}
