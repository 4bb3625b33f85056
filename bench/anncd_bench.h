/* anncd-bench, the caller side of anncd at scale: many SIP user agent
 * clients over one UDP socket on io_uring, the RTP of each call received
 * and checked, setup latencies collected per call-rate step.  The pieces
 * shared by its loop, SIP, RTP and report files.
 */
#ifndef ANNCD_BENCH_ANNCD_BENCH_H
#define ANNCD_BENCH_ANNCD_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define BENCH_MAX_STEPS		64	/* call-rate steps of one ramp */
#define BENCH_MAX_RTP_SOCKS	64	/* RTP sockets the calls share */
#define BENCH_HIST_BINS		1000	/* inter-arrival bins of 0.1 ms */
#define BENCH_HIST_BIN_NS	100000
#define BENCH_MSG_MAX		4096	/* largest SIP message we build */

struct bench_opts {
	const char *server;		/* anncd's SIP IP:PORT */
	struct sockaddr_in server_sa;
	const char *local;		/* our address, in Via, From, c= */
	uint16_t sip_port;
	uint16_t rtp_port;		/* first RTP socket's port */
	unsigned int rtp_socks;		/* sockets, 2 ports apart */
	const char *play_url;
	const char *content_type;
	const char *cte;
	unsigned int ptime;		/* ms, offered */
	unsigned int cps;		/* fixed rate, or the ramp below */
	unsigned int ramp_from, ramp_to, ramp_step;
	double step_s;			/* seconds per rate step */
	unsigned long calls;		/* fixed rate: calls in all, 0: step_s */
	unsigned int hold_ms;		/* our BYE this long after the 200 */
	unsigned int full_every;	/* every Nth call plays to the end */
	unsigned int max_active;	/* calls open at once */
	unsigned int timeout_ms;	/* INVITE to final response */
	unsigned int call_ms_max;	/* whole call, 200 to its end */
	long expect_packets;		/* of a whole stream, -1: unknown */
	const char *server_cpu;		/* anncd thread's schedstat file */
	const char *json;
	const char *plot_dir;
	int verbose;
};

/* Receiver state of one RTP stream (RFC 3550 appendix A.1 and A.8). */
struct bench_stream {
	uint32_t ssrc;
	uint32_t received;
	uint32_t base_seq;
	uint32_t max_ext;		/* highest extended sequence number */
	uint32_t seq_errors;		/* steps other than +1 */
	uint32_t ts_errors;		/* timestamp step not seq step * spp */
	uint32_t foreign;		/* packets of another SSRC, or not RTP */
	uint32_t first_ts, last_ts;
	uint16_t last_seq;
	uint8_t have;
	uint8_t marker_first;
	int64_t first_ns, last_ns;	/* arrival times */
	double transit;			/* last relative transit, RTP units */
	double jitter;			/* RFC 3550 A.8, RTP units */
};

/* Inter-arrival times of consecutive packets, all streams together. */
struct bench_hist {
	uint64_t bin[BENCH_HIST_BINS];
	uint64_t over;
	uint64_t n;
};

/* Adds one datagram that arrived at t_ns to s; clock_hz and spp are the
 * RTP clock rate and the samples per packet of the stream.  Consecutive
 * packets add their spacing to h (may be NULL).
 */
void
bench_stream_add(struct bench_stream *s, const uint8_t *d, size_t n,
		 int64_t t_ns, unsigned int clock_hz, unsigned int spp,
		 struct bench_hist *h);

/* Packets expected from the sequence numbers seen, and lost of them
 * (RFC 3550 appendix A.3; negative when duplicates came).
 */
uint32_t
bench_stream_expected(const struct bench_stream *s);
long
bench_stream_lost(const struct bench_stream *s);

/* A sorted sample of values: percentile p (0 to 100) by nearest rank. */
struct bench_sample {
	double *v;
	size_t n, cap;
};

int
bench_sample_add(struct bench_sample *s, double v);
void
bench_sample_sort(struct bench_sample *s);
double
bench_sample_pct(const struct bench_sample *s, double p);
void
bench_sample_free(struct bench_sample *s);

/* One call-rate step: what was asked, what came of its calls. */
struct bench_step {
	unsigned int rate;		/* calls per second asked */
	double t0, t1;			/* run time of the step, seconds */
	unsigned long started, answered, ended, failed;
	unsigned long refused;		/* of failed: a final >= 300 */
	unsigned long timed_out;	/* of failed: no final, or no end */
	unsigned long skipped;		/* no free call slot in the bench */
	unsigned long full, complete;	/* whole streams, and complete ones */
	unsigned long lost, seq_errors, ts_errors;
	unsigned int max_active;	/* streams open at once, at most */
	/* --server-cpu: the thread's CPU time over the step and the 200s
	 * that arrived in it, whichever step their call was started in. */
	double cpu_ms;			/* < 0: not measured */
	unsigned long answers_in;
	struct bench_sample setup_ms;	/* INVITE to 200 */
	struct bench_sample first_rtp_ms;	/* INVITE to first RTP */
	struct bench_sample jitter_ms;	/* each whole stream's last */
};

struct bench_run {
	const struct bench_opts *o;
	struct bench_step step[BENCH_MAX_STEPS];
	unsigned int n_steps;
	unsigned int held;		/* index + 1 of the highest step held */
	struct bench_hist hist;
	uint64_t rtp_packets, rtcp_packets, stray_rtp;
	uint64_t answers;		/* 200s to INVITEs, as they arrive */
	double elapsed_s;
};

/* The user agent clients (anncd_bench_uac.c).  Times are CLOCK_REALTIME
 * nanoseconds, the clock of the kernel's receive timestamps.
 */
int64_t
bench_now_ns(void);

/* Opens the sockets and the ring, and the table of max_active calls. */
int
bench_uac_init(struct bench_run *r);
void
bench_uac_fini(void);

/* Sends the INVITE of a new call counted in step.  Returns 0, or -EBUSY
 * when every call slot is taken (the call is counted as skipped).
 */
int
bench_uac_start(unsigned int step);

/* Submits what is queued, waits up to wait_ns for completions, handles
 * them and runs the timers that are due.  Returns 0 or -errno.
 */
int
bench_uac_poll(int64_t wait_ns);

/* Sends what is still queued and waits for it to leave. */
void
bench_uac_flush(void);

/* Calls open, and calls with media flowing (answered, not yet over). */
unsigned int
bench_uac_open(void);
unsigned int
bench_uac_streams(void);

/* Prints the table for a person and the last key=value line; writes
 * --json and the --plot data files and gnuplot scripts.  Returns 0 or
 * -errno of a file that could not be written.
 */
int
bench_report(struct bench_run *r);

#endif
