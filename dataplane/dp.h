/* The dataplane: worker lcores that each own a TX queue of one DPDK port,
 * their streams and their pacer; the first also reads the port's one RX
 * queue (ARP, RTCP).  The control plane talks to each worker only through
 * two single-producer single-consumer rings: commands down, events up.
 */
#ifndef ANNCD_DATAPLANE_DP_H
#define ANNCD_DATAPLANE_DP_H

#include <stdint.h>

#include <rte_ether.h>

#include "core/content.h"
#include "core/media_plan.h"

/* Workers one dataplane runs at most. */
#define DP_MAX_WORKERS		32u

struct dp_config {
	uint16_t port_id;
	unsigned int lcore_id;		/* the first worker */
	unsigned int nb_workers;	/* 0 or 1: lcore_id alone; n: it and
					 * the n - 1 enabled lcores after it,
					 * the main one skipped */
	uint32_t media_ip;		/* RTP source and ARP target, net order */
	int has_nexthop;		/* send every stream to nexthop_mac */
	struct rte_ether_addr nexthop_mac;
	unsigned int max_streams;	/* streams each worker can hold */
	unsigned int nb_mbufs;		/* per pool */
	unsigned int arp_timeout_ms;	/* give up resolving a caller */
	uint16_t rtp_port_min;		/* our RTP ports, host order: RTCP */
	uint16_t rtp_port_max;		/* comes in on the odd ones (0-0: any) */
};

/* Sets up the port (only the offloads it advertises; a TX queue per
 * worker), the pools and the rings, and launches the workers.  Returns 0
 * or -errno, logging the cause.
 */
int
dp_start(const struct dp_config *cfg);

/* Stops the workers and the port.  Streams still running end without an
 * event; packets not yet sent are freed, so content references drop.  Any
 * mbuf the port handed to a consumer in this process (net_ring) must have
 * been freed before: the pools go too.
 */
void
dp_stop(void);

/* The port's MAC, for logs and tests. */
void
dp_port_mac(struct rte_ether_addr *mac);

/* A stream plays a packet plan (core/media_plan.h) repeat times, with
 * delay_ms of silence between play-throughs (RFC 4240 section 3.2:
 * repeat and delay), for at most duration_ms in all.  Packet i of
 * play-through k carries the timestamp ts0 + k * (span_ts + delay_ts) +
 * pkt.ts, plus any time the stream spent on hold, and is due when that
 * timestamp comes round on the media clock.
 */
struct dp_stream_params {
	uint32_t handle;		/* the caller's name for the stream */
	uint32_t dst_ip;		/* net order */
	uint32_t ssrc;
	uint32_t ts0;			/* first RTP timestamp */
	uint16_t dst_port;		/* host order */
	uint16_t src_port;		/* host order; RTCP from src_port + 1 */
	uint16_t dst_rtcp_port;		/* host order; 0 for dst_port + 1 */
	uint16_t seq0;			/* first RTP sequence number */
	uint8_t pt;
	uint32_t repeat;		/* play-throughs, >= 1 */
	const struct media_plan *plan;	/* held by the caller, with its
					 * content, until the stream's event
					 * came back */
	uint32_t delay_ms;		/* silence between play-throughs */
	uint32_t duration_ms;		/* the whole stream at most; 0: no cap */
};

/* Media clocks the pacer converts with 32 fractional bits of TSC ticks per
 * RTP tick: below the minimum that factor would overflow 64 bits on a
 * fast TSC; every RTP clock in use (RFC 3551) lies between the two.
 */
#define DP_CLOCK_RATE_MIN	1000u
#define DP_CLOCK_RATE_MAX	1000000u
/* delay_ms and duration_ms: a day at most; delay_ms also fits 2^32 RTP
 * ticks (13 hours at 90 kHz).
 */
#define DP_TIME_MS_MAX		86400000u

/* Queues a start on the worker with the fewest streams.  Returns 0,
 * -ENOBUFS when its command ring is full or too many streams are under
 * way, -EEXIST for a handle already under way,
 * -EINVAL for parameters the port cannot carry (a packet over the MTU, an
 * empty or out-of-range payload, a clock out of range, repeat 0),
 * -ENODEV before dp_start().
 */
int
dp_stream_start(const struct dp_stream_params *p);

/* Queues a stop (the stream ends at once; an event still comes back). */
int
dp_stream_stop(uint32_t handle);

/* Queues a re-INVITE's changes (RFC 3264 section 8): a new address and
 * ports (dst_rtcp_port 0 for dst_port + 1) and hold.  A held stream sends
 * no RTP but keeps its place in the plan; its RTP timestamp keeps running
 * in real time, so the first packet after it resumes carries the time
 * spent on hold, and the marker.  A new address is resolved by ARP again
 * (the stream waits as on hold meanwhile).  Same returns as a stop; an
 * update for no running stream is counted and ignored.
 */
int
dp_stream_update(uint32_t handle, uint32_t dst_ip, uint16_t dst_port,
		 uint16_t dst_rtcp_port, int paused);

/* A stream that sent RTP has its RTCP BYE queued to the port before its
 * event goes up, so the control plane's SIP BYE follows it on the wire.
 */
enum dp_event_type {
	DP_EV_ENDED,		/* every packet sent, or duration_ms */
	DP_EV_STOPPED,		/* stopped on command */
	DP_EV_FAILED,		/* could not start: table full, no ARP answer
				 * (also after a redirect) */
	DP_EV_DECODED,		/* a decode job is over (dataplane/dp_decode.h) */
};

struct dp_decode_job;

struct dp_event {
	uint32_t handle;
	enum dp_event_type type;
	uint32_t packets;
	uint32_t lcore;			/* the worker that played it */
	uint64_t bytes;			/* payload bytes; decoded bytes */
	union {
		struct {
			uint64_t first_tx_tsc;
			uint64_t last_tx_tsc;
		};
		struct dp_decode_job *job;	/* DP_EV_DECODED */
	};
};

/* Takes up to max events.  Control plane only. */
unsigned int
dp_poll_events(struct dp_event *ev, unsigned int max);

/* Counters of every worker summed, read without locking (values may
 * lag); the RX ones are the first worker's alone.
 */
struct dp_stats {
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_retry;		/* packets the port did not take at once */
	uint64_t rx_arp_request;
	uint64_t rx_arp_reply;
	uint64_t rx_dropped;		/* anything else received */
	uint64_t arp_fail;
	uint64_t no_mbuf;
	uint64_t cmd_table_full;
	uint64_t rx_own;		/* our own frames seen on RX */
	uint64_t tx_copied;		/* payload copied: no MULTI_SEGS */
	uint64_t tx_dropped;		/* freed unsent when the worker quit */
	uint64_t cmd_unknown;		/* stops and updates for no running
					 * stream */
	uint64_t tx_split;		/* payload across two content chunks */
	uint64_t tx_rtcp_sr;		/* compound SR + SDES sent */
	uint64_t tx_rtcp_bye;		/* compound SR + SDES + BYE sent */
	uint64_t tx_rtcp_deferred;	/* put off: no TX room or no mbuf */
	uint64_t rx_rtcp;		/* RTCP to us, counted and dropped */
	uint64_t rx_rtcp_bad;		/* to an RTCP port, but not RTCP */
	uint64_t arp_shared;		/* MACs the first worker passed on */
	uint64_t arp_share_full;	/* not passed on: the ring was full */
	/* The worker polls without pause, so its CPU time says nothing of
	 * its load: these TSC ticks do.  busy_tsc sums the rounds that
	 * took a command or a frame or handed packets to the port;
	 * tx_burst_tsc the part of them spent inside the port's
	 * tx_burst (with net_af_packet, the kernel's send).  The TSC runs
	 * on while the thread is preempted, so busy_long_tsc sums the busy
	 * rounds longer than DP_BUSY_LONG_NS: mostly such preemptions.
	 */
	uint64_t busy_tsc;
	uint64_t tx_burst_tsc;
	uint64_t busy_long_tsc;
};

void
dp_get_stats(struct dp_stats *st);

/* The workers running (or that ran until dp_stop()), and one's counters
 * and lcore.  -EINVAL for i out of range.
 */
unsigned int
dp_workers(void);
int
dp_get_worker_stats(unsigned int i, struct dp_stats *st,
		    unsigned int *lcore);

#ifdef DP_MEASURE
/* Built only into the benchmark's copy of the dataplane (-DDP_MEASURE): how
 * late each RTP packet reached the port.  A packet's send error is the TSC
 * read just before the tx_burst that took it, minus its ideal time (its
 * timestamp offset on the media clock from the start).  The histogram is
 * log-linear in TSC ticks: errors below 2^DP_MEASURE_SUB ticks have a bin
 * each, and every power of two above is cut into 2^DP_MEASURE_SUB bins,
 * so a bin is within 0.1 % of its value and the bins reach any 64-bit
 * error.
 */
#define DP_MEASURE_SUB		10
#define DP_MEASURE_BINS		((64 - DP_MEASURE_SUB + 1) << DP_MEASURE_SUB)

struct dp_measure {
	uint64_t started;		/* streams started */
	uint64_t early;			/* RTP packets sent before their time */
	uint64_t err_max;		/* ticks */
	uint64_t state_bytes;		/* per-stream tables and pacer */
	uint64_t ring_bytes;		/* the two rings */
	uint64_t err_hist[DP_MEASURE_BINS];
};

/* The workers' figures summed (err_max: the largest), read word by word
 * (values may lag).
 */
void
dp_measure_read(struct dp_measure *m);

/* Makes every worker spin for ns at the start of its next round, as when
 * the VM it runs in is not scheduled (tests of the pacer's catch-up).
 */
void
dp_measure_stall(uint64_t ns);
#endif

#endif
