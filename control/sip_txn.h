/* Server transactions for the answers anncd sends outside a call's own
 * state (RFC 3261 section 17.2): the refusal of an INVITE, and the final
 * answer to every other request.  A retransmitted request gets the same
 * answer again instead of being handled twice; a non-2xx final answer to
 * an INVITE is retransmitted (timer G, over UDP only) until its ACK comes
 * or timer H fires; the answer to a non-INVITE request is kept for timer
 * J.  H and J are both 64*T1.  Once an INVITE refusal is acknowledged the
 * transaction is Confirmed: it absorbs copies of the ACK (and of the
 * INVITE) for timer I, T4 over UDP and none over a stream.  Control plane
 * only.
 */
#ifndef ANNCD_CONTROL_SIP_TXN_H
#define ANNCD_CONTROL_SIP_TXN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "control/sip_msg.h"
#include "control/sip_transport.h"

struct sip_txn_config {
	unsigned int max;		/* transactions held at once */
	unsigned int t1_ms;		/* RFC 3261 timer values */
	unsigned int t2_ms;
	unsigned int t4_ms;		/* timer I over UDP */
};

typedef void (*sip_txn_send_fn)(const struct sip_peer *to,
				const char *msg, size_t len);

/* 0 or -ENOMEM. */
int
sip_txn_init(const struct sip_txn_config *c, sip_txn_send_fn send);

void
sip_txn_fini(void);

/* Returns 1 when request m, from src at now_ms, belongs to a transaction
 * that has answered: the answer went out again (or, for an ACK, the
 * INVITE's retransmission stopped and timer I started; in Confirmed,
 * nothing is sent) and m needs nothing more; 0 for a new request.
 * Requests without an RFC 3261 branch are never matched.
 */
int
sip_txn_absorb(const struct sip_msg *m, const struct sip_peer *src,
	       uint64_t now_ms);

/* Keeps the final answer msg (len bytes, copied) sent to request m, which
 * came from to.  When the table is full the answer stays stateless
 * (counted).
 */
void
sip_txn_record(const struct sip_msg *m, const struct sip_peer *to,
	       const char *msg, size_t len, uint64_t now_ms);

/* Retransmits what timer G says and forgets what timers H, I and J end. */
void
sip_txn_tick(uint64_t now_ms);

struct sip_txn_stats {
	unsigned int live;		/* transactions held */
	uint64_t absorbed;		/* retransmitted requests answered */
	uint64_t acked;			/* INVITE refusals acknowledged */
	uint64_t confirmed_absorbed;	/* copies absorbed after the ACK */
	uint64_t timed_out;		/* INVITE refusals never acknowledged */
	uint64_t full;			/* answers left stateless */
};

void
sip_txn_get_stats(struct sip_txn_stats *st);

#endif
