/* The server transaction table (control/sip_txn.c): a retransmitted
 * request answered again from the table, timer G doubling to T2 until the
 * ACK, timer I absorbing the ACK's copies for T4 over UDP only, timers H
 * and J forgetting, and the table's size limit at its edge.
 * Time is passed in, so every timer is exact here.
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_msg.h"
#include "control/sip_txn.h"
#include "tests/unit/check.h"

#define T1	100
#define T2	400
#define T4	1000
#define NOW	0	/* what absorbing does not look at but for an ACK */

static unsigned int sent;
static char last[256];

static void
record_send(const struct sip_peer *to, const char *msg, size_t len)
{
	(void)to;
	sent++;
	snprintf(last, sizeof(last), "%.*s", (int)len, msg);
}

static char bufs[8][512];

/* A request from a fixed client; the message text lives in bufs[slot]. */
static struct sip_msg
req(int slot, const char *method, const char *branch)
{
	struct sip_msg m;
	const char *why = NULL;
	int n;

	n = snprintf(bufs[slot], sizeof(bufs[slot]),
		     "%s sip:annc@192.0.2.1 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.5;branch=%s\r\n"
		     "From: <sip:a@192.0.2.5>;tag=f\r\nTo: <sip:annc@x>\r\n"
		     "Call-ID: t\r\nCSeq: 1 %s\r\n\r\n", method, branch,
		     method);
	CHECK_INT(sip_parse(bufs[slot], (size_t)n, &m, &why), 0);
	return m;
}

static struct sip_peer
peer(uint16_t port)
{
	struct sip_peer p = { .tp = SIP_TP_UDP };
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0xc0000205);
	a.sin_port = htons(port);
	p.addr = a;
	return p;
}

static void
test_non_invite(void)
{
	struct sip_msg m = req(0, "OPTIONS", "z9hG4bKo1");
	struct sip_peer a = peer(5060), b = peer(5062);
	struct sip_txn_stats st;

	sent = 0;
	CHECK_INT(sip_txn_absorb(&m, &a, NOW), 0);
	sip_txn_record(&m, &a, "SIP/2.0 200 OK", 14, 1000);
	CHECK_INT(sip_txn_absorb(&m, &a, NOW), 1);
	CHECK_INT(sent, 1);
	CHECK(strcmp(last, "SIP/2.0 200 OK") == 0);
	/* The same branch from elsewhere is another transaction. */
	CHECK_INT(sip_txn_absorb(&m, &b, NOW), 0);
	/* Timer J: kept until 64*T1 after the answer, not a tick longer. */
	sip_txn_tick(1000 + 64 * T1 - 1);
	CHECK_INT(sip_txn_absorb(&m, &a, NOW), 1);
	sip_txn_tick(1000 + 64 * T1);
	CHECK_INT(sip_txn_absorb(&m, &a, NOW), 0);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 0);
	CHECK_INT(st.absorbed, 2);
	CHECK_INT(st.timed_out, 0);
}

/* Timer G: T1, 2T1, 4T1, then T2 apart; the ACK stops it. */
static void
test_invite_refusal(void)
{
	struct sip_msg inv = req(1, "INVITE", "z9hG4bKi1");
	struct sip_msg ack = req(2, "ACK", "z9hG4bKi1");
	struct sip_peer a = peer(5060);
	static const uint64_t due[] = { 100, 300, 700, 1100, 1500 };
	struct sip_txn_stats st;
	unsigned int i;

	sent = 0;
	sip_txn_record(&inv, &a, "SIP/2.0 404 No", 14, 0);
	for (i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
		sip_txn_tick(due[i] - 1);
		CHECK_INT(sent, i);
		sip_txn_tick(due[i]);
		CHECK_INT(sent, i + 1);
	}
	CHECK_INT(sip_txn_absorb(&ack, &a, 1600), 1);
	sip_txn_tick(1600 + T4 - 1);
	CHECK_INT(sent, 5);
	sip_txn_get_stats(&st);
	CHECK_INT(st.acked, 1);
	/* Timer I: copies of the ACK, and of the INVITE, are absorbed
	 * without an answer until T4 after the ACK, not a tick longer. */
	CHECK_INT(sip_txn_absorb(&ack, &a, 1600 + T4 - 1), 1);
	CHECK_INT(sip_txn_absorb(&inv, &a, 1600 + T4 - 1), 1);
	CHECK_INT(sent, 5);
	sip_txn_tick(1600 + T4 - 1);
	CHECK_INT(sip_txn_absorb(&ack, &a, 1600 + T4 - 1), 1);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 1);
	CHECK_INT(st.confirmed_absorbed, 3);
	sip_txn_tick(1600 + T4);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 0);
	CHECK_INT(sip_txn_absorb(&ack, &a, 1600 + T4), 0);
	CHECK_INT(st.acked, 1);
	CHECK_INT(st.timed_out, 0);
}

/* Timer I ends before timer H would have: a refusal acknowledged late
 * is kept T4 after its ACK, and one acknowledged early leaves the queue
 * of ends from its middle. */
static void
test_timer_i_order(void)
{
	struct sip_msg i1 = req(1, "INVITE", "z9hG4bKo1i");
	struct sip_msg i2 = req(3, "INVITE", "z9hG4bKo2i");
	struct sip_msg a2 = req(2, "ACK", "z9hG4bKo2i");
	struct sip_peer a = peer(5064);
	struct sip_txn_stats st;

	sip_txn_record(&i1, &a, "SIP/2.0 486 Busy", 16, 100000);
	sip_txn_record(&i2, &a, "SIP/2.0 486 Busy", 16, 100010);
	CHECK_INT(sip_txn_absorb(&a2, &a, 100020), 1);
	sip_txn_tick(100020 + T4);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 1);
	CHECK_INT(sip_txn_absorb(&a2, &a, 100020 + T4), 0);
	sip_txn_tick(100000 + 64 * T1);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 0);
}

/* Timer H: an INVITE refusal never acknowledged is given up. */
static void
test_timer_h(void)
{
	struct sip_msg inv = req(3, "INVITE", "z9hG4bKh1");
	struct sip_peer a = peer(5060);
	struct sip_txn_stats before, after;

	sip_txn_get_stats(&before);
	sip_txn_record(&inv, &a, "SIP/2.0 404 No", 14, 10000);
	sip_txn_tick(10000 + 64 * T1);
	sip_txn_get_stats(&after);
	CHECK_INT(after.timed_out - before.timed_out, 1);
	CHECK_INT(after.live, 0);
}

/* Over a stream no timer G (RFC 3261 section 17.2.1), timer H still;
 * two connections from one address are two transactions. */
static void
test_stream(void)
{
	struct sip_msg inv = req(1, "INVITE", "z9hG4bKs1");
	struct sip_peer a = peer(5060), b = peer(5060);
	struct sip_txn_stats st;

	a.tp = b.tp = SIP_TP_TCP;
	a.conn = 1 << 20;
	b.conn = 1 | 1 << 20;
	sent = 0;
	sip_txn_record(&inv, &a, "SIP/2.0 404 No", 14, 40000);
	sip_txn_tick(40000 + 64 * T1 - 1);
	CHECK_INT(sent, 0);
	CHECK_INT(sip_txn_absorb(&inv, &b, NOW), 0);
	CHECK_INT(sip_txn_absorb(&inv, &a, NOW), 1);
	CHECK_INT(sent, 1);
	sip_txn_tick(40000 + 64 * T1);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 0);
}

/* Over a stream timer I is zero: the ACK ends the transaction at once,
 * and a copy of it is not matched any more. */
static void
test_stream_timer_i(void)
{
	struct sip_msg inv = req(1, "INVITE", "z9hG4bKs2");
	struct sip_msg ack = req(2, "ACK", "z9hG4bKs2");
	struct sip_peer a = peer(5060);
	struct sip_txn_stats st;

	a.tp = SIP_TP_TLS;
	a.conn = 2 | 1 << 20;
	sip_txn_record(&inv, &a, "SIP/2.0 404 No", 14, 50000);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 1);
	CHECK_INT(sip_txn_absorb(&ack, &a, 50001), 1);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 0);
	CHECK_INT(sip_txn_absorb(&ack, &a, 50001), 0);
}

/* --sip-transactions 2: the third answer at once stays stateless. */
static void
test_limit(void)
{
	struct sip_msg m1 = req(4, "OPTIONS", "z9hG4bKl1");
	struct sip_msg m2 = req(5, "OPTIONS", "z9hG4bKl2");
	struct sip_msg m3 = req(6, "OPTIONS", "z9hG4bKl3");
	struct sip_msg old = req(7, "OPTIONS", "l4-without-cookie");
	struct sip_peer a = peer(5060);
	struct sip_txn_stats st;

	sip_txn_record(&m1, &a, "A", 1, 20000);
	sip_txn_record(&m2, &a, "B", 1, 20000);
	sip_txn_record(&m3, &a, "C", 1, 20000);
	sip_txn_record(&old, &a, "D", 1, 20000);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 2);
	CHECK_INT(st.full, 1);
	CHECK_INT(sip_txn_absorb(&m2, &a, NOW), 1);
	CHECK_INT(sip_txn_absorb(&m3, &a, NOW), 0);
	/* RFC 2543 branches are not matched at all. */
	CHECK_INT(sip_txn_absorb(&old, &a, NOW), 0);
	sip_txn_tick(20000 + 64 * T1);
	sip_txn_record(&m3, &a, "C", 1, 30000);
	CHECK_INT(sip_txn_absorb(&m3, &a, NOW), 1);
}

int
main(void)
{
	struct sip_txn_config c = {
		.max = 2, .t1_ms = T1, .t2_ms = T2, .t4_ms = T4,
	};

	CHECK_INT(sip_txn_init(&c, record_send), 0);
	test_non_invite();
	test_invite_refusal();
	test_timer_h();
	test_limit();
	test_stream();
	test_stream_timer_i();
	test_timer_i_order();
	sip_txn_fini();
	return CHECK_DONE();
}
