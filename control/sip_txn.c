/* The server transaction table of control/sip_txn.h: a fixed array of
 * transactions, a hash of their keys, two queues in the order they end
 * and a list of INVITE refusals still waiting for their ACK.  Every
 * answer is kept 64*T1 (timers H and J) and every Confirmed transaction
 * T4 (timer I), so in each queue the order of entry is the order of
 * expiry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "control/sip_txn.h"

#define TXN_NONE	UINT32_MAX
#define TXN_COOKIE	"z9hG4bK"	/* RFC 3261 section 8.1.1.7 */

struct txn {
	uint64_t key;
	struct sip_peer to;
	char *msg;			/* the answer, NULL when free */
	size_t len;
	uint64_t end_ms;		/* timer H or J */
	uint64_t next_ms;		/* timer G; 0: not retransmitting */
	uint32_t interval_ms;
	uint32_t hnext;			/* hash chain, or the free list */
	uint32_t qnext, qprev;		/* its queue of ends */
	uint32_t rnext, rprev;		/* waiting for an ACK */
	int confirmed;			/* ACK came: on the timer I queue */
};

/* A queue of transactions in the order they end. */
struct txn_queue {
	uint32_t head, tail;
};

static struct txn *txns;
static uint32_t *buckets;
static uint32_t bucket_mask;
static uint32_t free_head = TXN_NONE;
static struct txn_queue q_ends = { TXN_NONE, TXN_NONE };	/* H, J */
static struct txn_queue q_confirmed = { TXN_NONE, TXN_NONE };	/* I */
static uint32_t r_head = TXN_NONE;
static struct sip_txn_config conf;
static sip_txn_send_fn send_fn;
static struct sip_txn_stats stats;

int
sip_txn_init(const struct sip_txn_config *c, sip_txn_send_fn send)
{
	uint32_t i, nb = 1;

	conf = *c;
	send_fn = send;
	while (nb < 2 * conf.max)
		nb <<= 1;
	txns = calloc(conf.max, sizeof(*txns));
	buckets = malloc(nb * sizeof(*buckets));
	if (txns == NULL || buckets == NULL) {
		sip_txn_fini();
		return -ENOMEM;
	}
	bucket_mask = nb - 1;
	memset(buckets, 0xff, nb * sizeof(*buckets));
	for (i = conf.max; i-- > 0;) {
		txns[i].hnext = free_head;
		free_head = i;
	}
	return 0;
}

/* Branch, sent-by and method (RFC 3261 section 17.2.3); an ACK belongs to
 * the INVITE it acknowledges.  The source address is part of the key as
 * well: a retransmission comes from where the request came, and two
 * clients that reuse a branch (RFC 2543 stacks, or a sent-by behind NAT)
 * stay apart, and so do two connections from one address.
 */
static uint64_t
txn_key(const struct sip_msg *m, const struct sip_peer *src)
{
	struct sip_str meth = m->method;
	uint64_t h, a;

	if (sip_str_eq(meth, "ACK"))
		meth = (struct sip_str){ "INVITE", 6 };
	a = (uint64_t)src->addr.sin_addr.s_addr << 16 | src->addr.sin_port;
	h = XXH3_64bits_withSeed(&src->conn, sizeof(src->conn), a);
	h = XXH3_64bits_withSeed(m->branch.p, m->branch.n, h);
	h = XXH3_64bits_withSeed(m->via_host.p, m->via_host.n, h);
	h = XXH3_64bits_withSeed(meth.p, meth.n, h ^ m->via_port);
	return h;
}

static int
txn_matchable(const struct sip_msg *m)
{
	size_t n = sizeof(TXN_COOKIE) - 1;

	return m->branch.n > n && memcmp(m->branch.p, TXN_COOKIE, n) == 0;
}

static uint32_t
txn_find(uint64_t key)
{
	uint32_t i = buckets[key & bucket_mask];

	while (i != TXN_NONE && txns[i].key != key)
		i = txns[i].hnext;
	return i;
}

static void
txn_rtx_unlink(uint32_t i)
{
	struct txn *t = &txns[i];

	if (t->rprev != TXN_NONE)
		txns[t->rprev].rnext = t->rnext;
	else
		r_head = t->rnext;
	if (t->rnext != TXN_NONE)
		txns[t->rnext].rprev = t->rprev;
	t->next_ms = 0;
}

static void
txn_enqueue(struct txn_queue *q, uint32_t i)
{
	txns[i].qnext = TXN_NONE;
	txns[i].qprev = q->tail;
	if (q->tail != TXN_NONE)
		txns[q->tail].qnext = i;
	else
		q->head = i;
	q->tail = i;
}

static void
txn_dequeue(struct txn_queue *q, uint32_t i)
{
	struct txn *t = &txns[i];

	if (t->qprev != TXN_NONE)
		txns[t->qprev].qnext = t->qnext;
	else
		q->head = t->qnext;
	if (t->qnext != TXN_NONE)
		txns[t->qnext].qprev = t->qprev;
	else
		q->tail = t->qprev;
}

/* Forgets transaction i, wherever it is queued. */
static void
txn_drop(uint32_t i)
{
	struct txn *t = &txns[i];
	uint32_t *pp;

	if (t->next_ms != 0)
		txn_rtx_unlink(i);
	for (pp = &buckets[t->key & bucket_mask]; *pp != i;
	     pp = &txns[*pp].hnext)
		;
	*pp = t->hnext;
	txn_dequeue(t->confirmed ? &q_confirmed : &q_ends, i);
	free(t->msg);
	t->msg = NULL;
	t->hnext = free_head;
	free_head = i;
	stats.live--;
}

/* RFC 3261 section 17.2.1: the ACK of a refusal ends timers G and H and
 * starts timer I, T4 over UDP and zero over a stream, where the ACK is
 * not resent. */
static void
txn_confirm(uint32_t i, uint64_t now_ms)
{
	struct txn *t = &txns[i];

	if (t->next_ms != 0)
		txn_rtx_unlink(i);
	stats.acked++;
	if (t->to.tp != SIP_TP_UDP || conf.t4_ms == 0) {
		txn_drop(i);
		return;
	}
	txn_dequeue(&q_ends, i);
	t->confirmed = 1;
	t->end_ms = now_ms + conf.t4_ms;
	txn_enqueue(&q_confirmed, i);
}

int
sip_txn_absorb(const struct sip_msg *m, const struct sip_peer *src,
	       uint64_t now_ms)
{
	uint32_t i;

	if (!txn_matchable(m) || (i = txn_find(txn_key(m, src))) == TXN_NONE)
		return 0;
	if (txns[i].confirmed) {
		/* The caller has the answer: its ACK said so. */
		stats.confirmed_absorbed++;
		return 1;
	}
	if (sip_str_eq(m->method, "ACK")) {
		/* Its key is its INVITE's: this is that refusal's ACK. */
		txn_confirm(i, now_ms);
		return 1;
	}
	send_fn(&txns[i].to, txns[i].msg, txns[i].len);
	stats.absorbed++;
	return 1;
}

static void
txn_link(uint32_t i, int invite, uint64_t now_ms)
{
	struct txn *t = &txns[i];

	t->hnext = buckets[t->key & bucket_mask];
	buckets[t->key & bucket_mask] = i;
	t->confirmed = 0;
	txn_enqueue(&q_ends, i);
	t->end_ms = now_ms + 64ull * conf.t1_ms;
	t->next_ms = 0;
	if (invite) {
		t->interval_ms = conf.t1_ms;
		t->next_ms = now_ms + conf.t1_ms;
		t->rprev = TXN_NONE;
		t->rnext = r_head;
		if (r_head != TXN_NONE)
			txns[r_head].rprev = i;
		r_head = i;
	}
	stats.live++;
}

void
sip_txn_record(const struct sip_msg *m, const struct sip_peer *to,
	       const char *msg, size_t len, uint64_t now_ms)
{
	uint64_t key;
	uint32_t i;
	char *copy;

	if (!txn_matchable(m) || sip_str_eq(m->method, "ACK"))
		return;
	key = txn_key(m, to);
	if (txn_find(key) != TXN_NONE)
		return;
	if (free_head == TXN_NONE || (copy = malloc(len)) == NULL) {
		stats.full++;
		return;
	}
	memcpy(copy, msg, len);
	i = free_head;
	free_head = txns[i].hnext;
	txns[i].key = key;
	txns[i].to = *to;
	txns[i].msg = copy;
	txns[i].len = len;
	/* RFC 3261 section 17.2.1: timer G only over UDP; a stream
	 * delivers the answer or loses the connection. */
	txn_link(i, sip_str_eq(m->method, "INVITE") && to->tp == SIP_TP_UDP,
		 now_ms);
}

void
sip_txn_tick(uint64_t now_ms)
{
	uint32_t i;
	struct txn *t;

	while (q_ends.head != TXN_NONE && txns[q_ends.head].end_ms <= now_ms) {
		if (txns[q_ends.head].next_ms != 0)
			stats.timed_out++;	/* timer H */
		txn_drop(q_ends.head);
	}
	while (q_confirmed.head != TXN_NONE &&
	       txns[q_confirmed.head].end_ms <= now_ms)
		txn_drop(q_confirmed.head);		/* timer I */
	for (i = r_head; i != TXN_NONE; i = t->rnext) {
		t = &txns[i];
		if (t->next_ms > now_ms)
			continue;
		send_fn(&t->to, t->msg, t->len);	/* timer G */
		t->interval_ms *= 2;
		if (t->interval_ms > conf.t2_ms)
			t->interval_ms = conf.t2_ms;
		t->next_ms = now_ms + t->interval_ms;
	}
}

void
sip_txn_get_stats(struct sip_txn_stats *st)
{
	*st = stats;
}

void
sip_txn_fini(void)
{
	while (q_ends.head != TXN_NONE)
		txn_drop(q_ends.head);
	while (q_confirmed.head != TXN_NONE)
		txn_drop(q_confirmed.head);
	free(txns);
	free(buckets);
	txns = NULL;
	buckets = NULL;
	free_head = TXN_NONE;
	r_head = TXN_NONE;
}
