/* State shared by the dataplane's own files: dp.c sets it up and serves the
 * control plane, dp_worker.c runs the loop, dp_rtp.c builds RTP packets,
 * dp_rtcp.c RTCP ones and dp_arp.c owns the receive side.  Each worker
 * has its own struct dp_worker, and only that worker's lcore writes it
 * once dp_start() has launched the loop, except for the rings and the
 * quit flag; the port, the pools and the set-up fields are copies of the
 * first worker's.
 */
#ifndef ANNCD_DATAPLANE_DP_PRIV_H
#define ANNCD_DATAPLANE_DP_PRIV_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/dp.h"

#define DP_TXBUF		256	/* packets built, not yet taken */
#define DP_RX_BURST		32u
/* Pacing stops filling the TX buffer here so that ARP replies find room. */
#define DP_TX_PACE_LIMIT	(DP_TXBUF - DP_RX_BURST)
#define DP_STREAM_BURST		8	/* packets one stream sends per visit */
#define DP_TX_BURST		32u	/* the pacer hands the port this many */
#define DP_PACE_BUDGET		256	/* stream visits per round */
#define DP_CMD_BURST		32	/* commands taken per round */
#define DP_ARP_SLOTS		64
#define DP_ARP_RETRY_MS		200
#define DP_ARP_TTL_S		60	/* an older entry is asked for again */
#define DP_ARP_SHARE_RING	256	/* MACs on their way to each worker */
/* RTCP (RFC 3550 section 6): an SR, an SDES with our CNAME and a BYE. */
#define DP_RTCP_SR_LEN		28
#define DP_RTCP_SDES_MAX	40	/* "anncd@255.255.255.255" fits */
#define DP_RTCP_BYE_MAX		32

/* The timing wheel: a slot is the largest power of two of TSC ticks not
 * over DP_WHEEL_TICK_NS, and DP_WHEEL_SLOTS of them span 130 to 260 ms, more
 * than any usual ptime; a longer period only costs a stream an extra visit
 * per turn of the wheel.
 */
#define DP_WHEEL_TICK_NS	16000
#define DP_WHEEL_SLOTS		(1u << 14)
#define DP_NONE			UINT32_MAX	/* no stream */
#define DP_LIST_NONE		UINT16_MAX	/* a stream on no list */
#define DP_LIST_WAIT		(UINT16_MAX - 1)	/* on the waiting list */

/* RFC 3550 section 5.1, without CSRCs or extension. */
struct dp_rtp_hdr {
	uint8_t vpxcc;			/* V=2, P=0, X=0, CC=0 */
	uint8_t mpt;			/* marker bit, payload type */
	rte_be16_t seq;
	rte_be32_t ts;
	rte_be32_t ssrc;
} __rte_packed;

/* Every RTP packet's headers, contiguous in the header mbuf. */
struct dp_rtp_frame {
	struct rte_ether_hdr eth;
	struct rte_ipv4_hdr ip;
	struct rte_udp_hdr udp;
	struct dp_rtp_hdr rtp;
} __rte_packed __rte_aligned(2);

enum dp_cmd_type {
	DP_CMD_START = 1,
	DP_CMD_STOP,
	DP_CMD_UPDATE,
	DP_CMD_DECODE,			/* dp_decode.c */
	DP_CMD_DECODE_CANCEL,
};

struct dp_cmd {
	uint32_t type;
	uint32_t handle;		/* for a stop or an update */
	union {
		struct dp_stream_params p;	/* for a start; an update's
						 * address */
		struct dp_decode_job *job;	/* for a decode */
	};
	uint32_t paused;		/* for an update */
};

enum dp_stream_state {
	DP_SS_FREE = 0,
	DP_SS_ARP,			/* waiting for the caller's MAC */
	DP_SS_RUN,
	DP_SS_BYE,			/* over; its RTCP BYE waits for room */
	DP_SS_DONE,			/* over; its event waits for room */
};

#define DP_SF_PAUSED		0x1	/* on hold: nothing sent */
#define DP_SF_MARK		0x2	/* the next packet carries the marker */
#define DP_OFF_NONE		UINT64_MAX	/* no duration cap */

/* 248 bytes: the only per-stream state besides a hash bucket.  The pacer
 * works in RTP ticks from ts0 (64 bits: no wrap) and turns them into TSC
 * ticks with a per-stream factor, so a stream's packets are due at exact
 * media times however long it plays.  RTCP needs one time more, which
 * shares the ARP deadline's place: a stream waiting for ARP sends no RTP,
 * and a fresh report interval starts when it runs again; its sender's
 * packet and octet counts are n and ev.bytes.  A stream is on at most one
 * list: a wheel slot while it runs, the waiting list while it waits for
 * ARP or for room for its event, the free list (wnext only) while FREE.
 */
struct dp_stream {
	uint32_t wnext;			/* circular list links, stream ids */
	uint32_t wprev;
	uint32_t hnext;			/* handle hash chain */
	uint16_t list;			/* wheel slot, DP_LIST_WAIT or _NONE */
	uint8_t state;			/* enum dp_stream_state */
	uint8_t flags;			/* DP_SF_* */
	uint32_t n;			/* packets sent: the next one's seq is
					 * seq0 + n */
	uint32_t pi;			/* the next packet in the plan */
	uint32_t k;			/* its play-through */
	uint32_t delay_ts;		/* delay_ms in RTP ticks */
	uint64_t start_tsc;		/* RTP tick 0; 0 until the first run */
	uint64_t next_tsc;		/* the next packet is due */
	uint64_t next_off;		/* its RTP ticks from ts0 */
	uint64_t skew;			/* RTP ticks spent on hold or moving */
	uint64_t end_off;		/* duration_ms in RTP ticks, or
					 * DP_OFF_NONE */
	uint64_t tsc_per_tick;		/* 32 fractional bits */
	union {
		uint64_t arp_deadline;	/* ARP: give up on the caller */
		uint64_t rtcp_next;	/* RUN: the next sender report */
	};
	uint64_t arp_next;
	struct content_chunk *const *chunks;	/* the plan content's */
	struct dp_stream_params p;
	struct dp_event ev;		/* filled as packets go out */
	struct dp_rtp_frame tmpl;	/* headers without per-packet fields */
};

/* RTP ticks from a stream's tick 0 to TSC: a 64 x 64-bit product, exact to
 * a TSC tick over any duration a stream can have.
 */
static inline uint64_t
dp_off_tsc(const struct dp_stream *s, uint64_t off)
{
	return s->start_tsc +
	       (uint64_t)((unsigned __int128)off * s->tsc_per_tick >> 32);
}

/* And back, for the rare readers (hold, redirect, sender reports). */
static inline uint64_t
dp_tsc_off(const struct dp_stream *s, uint64_t now)
{
	if (now <= s->start_tsc)
		return 0;
	return (uint64_t)(((unsigned __int128)(now - s->start_tsc) << 32) /
			  s->tsc_per_tick);
}

/* Slot i holds the streams whose next packet falls in a tick that maps to
 * i; cur is the next tick to run, counted from the TSC's zero.  A tick is
 * run only once it is wholly past, so that no packet leaves early.
 */
struct dp_wheel {
	uint32_t *slot;			/* DP_WHEEL_SLOTS list heads */
	uint64_t cur;
	unsigned int shift;		/* a tick is 2^shift TSC ticks */
};

struct dp_arp_entry {
	uint32_t ip;			/* net order, 0 for an empty slot */
	struct rte_ether_addr mac;
	uint64_t tsc;			/* learned or refreshed */
};

struct dp_worker {
	struct dp_config cfg;
	unsigned int idx;		/* 0: the one that reads RX */
	unsigned int lcore_id;
	uint16_t txq;
	struct rte_ether_addr mac;
	uint64_t tx_offloads;		/* the ones requested from the port */
	int zero_copy;			/* payload chained by reference */
	uint16_t mtu;
	int quit;			/* set by dp_stop, read by the worker */

	struct rte_mempool *hdr_pool;	/* headers, copies, RX */
	struct rte_mempool *pay_pool;	/* data-less mbufs for extbufs */
	struct rte_ring *cmd_ring;
	struct rte_ring *ev_ring;
	/* ARP answers reach the first worker: it passes each MAC it learns
	 * to the others, one SPSC ring each (theirs to read: arp_in).
	 */
	struct rte_ring *arp_in;
	struct rte_ring *arp_out[DP_MAX_WORKERS];
	unsigned int narp_out;

	struct dp_stream *streams;	/* cfg.max_streams slots */
	uint32_t free;			/* FREE slots, linked by wnext */
	uint32_t waiting;		/* ARP or DONE, circular */
	uint32_t nwaiting;
	uint32_t *hash;			/* handle to stream, chained */
	uint32_t hash_mask;
	struct dp_wheel wheel;

	uint64_t arp_retry_tsc;
	uint64_t arp_timeout_tsc;
	uint64_t arp_ttl_tsc;
	struct dp_arp_entry arp[DP_ARP_SLOTS];

	/* The compound RTCP packet's SDES and BYE, but for the SSRC: the same
	 * for every stream of the worker (dp_rtcp_setup).
	 */
	uint8_t rtcp_sdes[DP_RTCP_SDES_MAX];
	uint8_t rtcp_bye[DP_RTCP_BYE_MAX];
	uint16_t rtcp_sdes_len;
	uint16_t rtcp_bye_len;

	struct dp_decode_job *dec_head, *dec_tail;	/* dp_decode.c */

	uint16_t ntx;
	struct rte_mbuf *txbuf[DP_TXBUF];
	uint16_t txlen[DP_TXBUF];	/* frame bytes: the mbuf is not ours
					 * to read once the port took it */

	struct dp_stats stats __rte_cache_aligned;
#ifdef DP_MEASURE
	uint64_t txdue[DP_TXBUF];	/* ideal times, 0 for no RTP */
	uint64_t stall_tsc;		/* set by dp_measure_stall() */
	struct dp_measure measure;
#endif
};

/* The workers of the one dataplane (dp.c); n and w[] change only while
 * none runs.
 */
struct dp_plane {
	struct dp_worker *w[DP_MAX_WORKERS];
	unsigned int n;
	int running;
};

extern struct dp_plane dp_plane;

/* Counters have one writer, the worker; dp_get_stats() reads them from
 * another lcore, so each store is a relaxed atomic one (a plain store on
 * x86 and arm64).
 */
#define DP_STAT_ADD(w, f, v) \
	__atomic_store_n(&(w)->stats.f, (w)->stats.f + (v), __ATOMIC_RELAXED)

static inline unsigned int
dp_tx_room(const struct dp_worker *w, unsigned int limit)
{
	return w->ntx < limit ? limit - w->ntx : 0;
}

/* The caller has checked dp_tx_room(). */
static inline void
dp_tx_push(struct dp_worker *w, struct rte_mbuf *m)
{
#ifdef DP_MEASURE
	w->txdue[w->ntx] = 0;
#endif
	w->txlen[w->ntx] = (uint16_t)m->pkt_len;
	w->txbuf[w->ntx++] = m;
}

/* The ideal time of the packet just pushed, for the measurement build. */
static inline void
dp_tx_due(struct dp_worker *w, uint64_t due)
{
#ifdef DP_MEASURE
	w->txdue[w->ntx - 1] = due;
#else
	RTE_SET_USED(w);
	RTE_SET_USED(due);
#endif
}

/* dp_ctl.c */
int
dp_owner_init(unsigned int max);
void
dp_owner_fini(void);
/* Queues a command to worker widx, or to the one with the fewest streams
 * when widx is negative.  The worker's index, or -ENOBUFS, -ENODEV.
 */
int
dp_cmd_post(struct dp_cmd *cmd, int widx);

/* dp_worker.c */
int
dp_worker_main(void *arg);

/* dp_decode.c */
void
dp_decode_cmd(struct dp_worker *w, const struct dp_cmd *cmd);
unsigned int
dp_decode_run(struct dp_worker *w);

/* dp_rtp.c */
void
dp_rtp_prepare(const struct dp_worker *w, struct dp_stream *s,
	       const struct rte_ether_addr *dst);
struct rte_mbuf *
dp_rtp_build(struct dp_worker *w, const struct dp_stream *s, size_t off,
	     uint32_t len, int marker);

/* dp_rtcp.c */
void
dp_rtcp_setup(struct dp_worker *w);
uint64_t
dp_rtcp_interval(const struct dp_worker *w, const struct dp_stream *s,
		 int initial);
int
dp_rtcp_send(struct dp_worker *w, struct dp_stream *s, uint64_t now, int bye);
void
dp_rtcp_input(struct dp_worker *w, const struct rte_mbuf *m);

/* dp_arp.c */
int
dp_arp_lookup(const struct dp_worker *w, uint32_t ip, uint64_t now,
	      struct rte_ether_addr *mac);
int
dp_arp_request(struct dp_worker *w, uint32_t ip);
unsigned int
dp_rx_poll(struct dp_worker *w, uint64_t now);
void
dp_arp_shared_poll(struct dp_worker *w);

#endif
