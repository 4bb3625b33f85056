/* The server transaction table (control/sip_txn.c): a retransmitted
 * request answered again from the table, timer G doubling to T2 until the
 * ACK, timers H and J forgetting, and the table's size limit at its edge.
 * Time is passed in, so every timer is exact here.
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_msg.h"
#include "control/sip_txn.h"
#include "tests/unit/check.h"

#define T1	100
#define T2	400

static unsigned int sent;
static char last[256];

static void
record_send(const struct sockaddr_in *to, const char *msg, size_t len)
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

static struct sockaddr_in
peer(uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0xc0000205);
	a.sin_port = htons(port);
	return a;
}

static void
test_non_invite(void)
{
	struct sip_msg m = req(0, "OPTIONS", "z9hG4bKo1");
	struct sockaddr_in a = peer(5060), b = peer(5062);
	struct sip_txn_stats st;

	sent = 0;
	CHECK_INT(sip_txn_absorb(&m, &a), 0);
	sip_txn_record(&m, &a, "SIP/2.0 200 OK", 14, 1000);
	CHECK_INT(sip_txn_absorb(&m, &a), 1);
	CHECK_INT(sent, 1);
	CHECK(strcmp(last, "SIP/2.0 200 OK") == 0);
	/* The same branch from elsewhere is another transaction. */
	CHECK_INT(sip_txn_absorb(&m, &b), 0);
	/* Timer J: kept until 64*T1 after the answer, not a tick longer. */
	sip_txn_tick(1000 + 64 * T1 - 1);
	CHECK_INT(sip_txn_absorb(&m, &a), 1);
	sip_txn_tick(1000 + 64 * T1);
	CHECK_INT(sip_txn_absorb(&m, &a), 0);
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
	struct sockaddr_in a = peer(5060);
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
	CHECK_INT(sip_txn_absorb(&ack, &a), 1);
	sip_txn_tick(5000);
	CHECK_INT(sent, 5);
	/* A copy of the ACK is absorbed too (timer I). */
	CHECK_INT(sip_txn_absorb(&ack, &a), 1);
	sip_txn_get_stats(&st);
	CHECK_INT(st.acked, 1);
	sip_txn_tick(64 * T1);
	sip_txn_get_stats(&st);
	CHECK_INT(st.timed_out, 0);
	CHECK_INT(st.live, 0);
}

/* Timer H: an INVITE refusal never acknowledged is given up. */
static void
test_timer_h(void)
{
	struct sip_msg inv = req(3, "INVITE", "z9hG4bKh1");
	struct sockaddr_in a = peer(5060);
	struct sip_txn_stats before, after;

	sip_txn_get_stats(&before);
	sip_txn_record(&inv, &a, "SIP/2.0 404 No", 14, 10000);
	sip_txn_tick(10000 + 64 * T1);
	sip_txn_get_stats(&after);
	CHECK_INT(after.timed_out - before.timed_out, 1);
	CHECK_INT(after.live, 0);
}

/* --sip-transactions 2: the third answer at once stays stateless. */
static void
test_limit(void)
{
	struct sip_msg m1 = req(4, "OPTIONS", "z9hG4bKl1");
	struct sip_msg m2 = req(5, "OPTIONS", "z9hG4bKl2");
	struct sip_msg m3 = req(6, "OPTIONS", "z9hG4bKl3");
	struct sip_msg old = req(7, "OPTIONS", "l4-without-cookie");
	struct sockaddr_in a = peer(5060);
	struct sip_txn_stats st;

	sip_txn_record(&m1, &a, "A", 1, 20000);
	sip_txn_record(&m2, &a, "B", 1, 20000);
	sip_txn_record(&m3, &a, "C", 1, 20000);
	sip_txn_record(&old, &a, "D", 1, 20000);
	sip_txn_get_stats(&st);
	CHECK_INT(st.live, 2);
	CHECK_INT(st.full, 1);
	CHECK_INT(sip_txn_absorb(&m2, &a), 1);
	CHECK_INT(sip_txn_absorb(&m3, &a), 0);
	/* RFC 2543 branches are not matched at all. */
	CHECK_INT(sip_txn_absorb(&old, &a), 0);
	sip_txn_tick(20000 + 64 * T1);
	sip_txn_record(&m3, &a, "C", 1, 30000);
	CHECK_INT(sip_txn_absorb(&m3, &a), 1);
}

int
main(void)
{
	struct sip_txn_config c = { .max = 2, .t1_ms = T1, .t2_ms = T2 };

	CHECK_INT(sip_txn_init(&c, record_send), 0);
	test_non_invite();
	test_invite_refusal();
	test_timer_h();
	test_limit();
	sip_txn_fini();
	return CHECK_DONE();
}
