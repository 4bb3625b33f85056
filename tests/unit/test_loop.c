/* The control loop's datagrams (control/loop.c): sends copied into the
 * fixed send pool up to its slot size and its slot count, to the heap
 * beyond either, every byte delivered, the slots back once sent; the
 * multishot receive taking more datagrams than it has buffers, each
 * whole and NUL-terminated, and one byte over its limit refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "control/loop.h"
#include "tests/unit/check.h"

#define SMALL	100

static int rx_fd = -1, tx_fd = -1;
static struct sockaddr_in rx_sa;

static int
sockets_open(void)
{
	socklen_t sl = sizeof(rx_sa);
	int big = 8 << 20;

	rx_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	tx_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx_fd < 0 || tx_fd < 0)
		return -errno;
	memset(&rx_sa, 0, sizeof(rx_sa));
	rx_sa.sin_family = AF_INET;
	rx_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(rx_fd, (struct sockaddr *)&rx_sa, sizeof(rx_sa)) < 0 ||
	    getsockname(rx_fd, (struct sockaddr *)&rx_sa, &sl) < 0)
		return -errno;
	/* Every datagram of the test waits in the receive queue at once. */
	if (setsockopt(rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big,
		       sizeof(big)) < 0)
		return -errno;
	return 0;
}

static void
send_one(size_t len, unsigned char fill)
{
	static char buf[LOOP_SEND_SLOT_BYTES + 64];

	memset(buf, fill, len);
	CHECK_INT(loop_sendto(tx_fd, &rx_sa, buf, len), 0);
}

/* Runs the loop until nothing completes within 100 ms. */
static void
drain(void)
{
	while (loop_run(100) > 0)
		;
}

/* Reads what arrived: the count, and each datagram's length and fill
 * against what send order says. */
static unsigned int
receive_all(const size_t *len, const unsigned char *fill, unsigned int n)
{
	static char buf[LOOP_SEND_SLOT_BYTES + 64];
	unsigned int got = 0, bad = 0;
	ssize_t r;

	while ((r = recv(rx_fd, buf, sizeof(buf), 0)) >= 0) {
		if (got < n && ((size_t)r != len[got] ||
				(unsigned char)buf[0] != fill[got] ||
				(unsigned char)buf[r - 1] != fill[got]))
			bad++;
		got++;
	}
	CHECK_INT(bad, 0);
	return got;
}

static void
test_pool_edges(void)
{
	static size_t len[LOOP_SEND_SLOTS + 2];
	static unsigned char fill[LOOP_SEND_SLOTS + 2];
	struct loop_send_stats st;
	unsigned int i, n = 0;

	/* exactly a slot: pooled; one byte more: the heap */
	len[n] = LOOP_SEND_SLOT_BYTES;
	len[n + 1] = LOOP_SEND_SLOT_BYTES + 1;
	for (i = 0; i < 2; i++, n++) {
		fill[n] = (unsigned char)(n + 1);
		send_one(len[n], fill[n]);
	}
	loop_send_stats(&st);
	CHECK_INT(st.pooled, 1);
	CHECK_INT(st.heap, 1);
	/* the other slots, then one more while all are in flight */
	for (; n < LOOP_SEND_SLOTS + 2; n++) {
		len[n] = SMALL;
		fill[n] = (unsigned char)(n * 7 + 3);
		send_one(len[n], fill[n]);
	}
	loop_send_stats(&st);
	CHECK_INT(st.pooled, LOOP_SEND_SLOTS);
	CHECK_INT(st.heap, 2);
	CHECK_INT(st.in_flight, LOOP_SEND_SLOTS);
	drain();
	loop_send_stats(&st);
	CHECK_INT(st.in_flight, 0);
	CHECK_INT(receive_all(len, fill, n), n);
}

/* Once sent, every slot is free again: a whole pool's worth more goes
 * without touching the heap. */
static void
test_slots_return(void)
{
	struct loop_send_stats st0, st;
	unsigned int i;

	loop_send_stats(&st0);
	for (i = 0; i < LOOP_SEND_SLOTS; i++)
		send_one(SMALL, 0x5a);
	loop_send_stats(&st);
	CHECK_INT(st.pooled - st0.pooled, LOOP_SEND_SLOTS);
	CHECK_INT(st.heap - st0.heap, 0);
	drain();
	CHECK_INT(receive_all(NULL, NULL, 0), LOOP_SEND_SLOTS);
}

#define RX_MAX		300	/* the receiver's max_len */
#define RX_COUNT	(3 * LOOP_RX_BUFS + 5)

struct rx_seen {
	unsigned int n, bad, too_big, errors;
	long last_len;
};

static struct rx_seen seen;

/* Each datagram i carries i in its first two bytes and is 20 + i % 200
 * bytes long, filled with (i & 0xff). */
static void
on_dgram(struct loop_dgram_rx *rx, char *buf, long len,
	 const struct sockaddr_in *src)
{
	unsigned int i;

	(void)rx;
	if (len == -EMSGSIZE) {
		seen.too_big++;
		return;
	}
	if (len < 0) {
		seen.errors++;
		return;
	}
	seen.last_len = len;
	if (len == RX_MAX) {	/* the edge datagram, all 'e' */
		seen.n++;
		seen.bad += buf[0] != 'e' || buf[RX_MAX - 1] != 'e' ||
			    buf[RX_MAX] != '\0';
		return;
	}
	i = (unsigned char)buf[0] | (unsigned char)buf[1] << 8;
	seen.bad += len != (long)(20 + i % 200) ||
		    (unsigned char)buf[len - 1] != (i & 0xff) ||
		    buf[len] != '\0' || src->sin_family != AF_INET ||
		    src->sin_addr.s_addr != htonl(INADDR_LOOPBACK) || i != seen.n;
	seen.n++;
}

static void
send_plain(const char *buf, size_t len)
{
	CHECK_INT(sendto(tx_fd, buf, len, 0, (struct sockaddr *)&rx_sa,
			 sizeof(rx_sa)), (long)len);
}

static void
test_multishot(void)
{
	static struct loop_dgram_rx rx;
	char buf[RX_MAX + 2];
	unsigned int i, rounds;
	size_t len;

	CHECK_INT(loop_dgram_rx_start(&rx, rx_fd, RX_MAX, on_dgram), 0);
	/* all queued before the loop runs: more than the ring holds */
	for (i = 0; i < RX_COUNT; i++) {
		len = 20 + i % 200;
		memset(buf, (int)(i & 0xff), len);
		buf[0] = (char)(i & 0xff);
		buf[1] = (char)(i >> 8);
		send_plain(buf, len);
	}
	for (rounds = 0; seen.n < RX_COUNT && rounds < 1000; rounds++)
		loop_run(100);
	CHECK_INT(seen.n, RX_COUNT);
	CHECK_INT(seen.bad, 0);
	/* many a round, not one each */
	CHECK(rounds < RX_COUNT / 4);
	memset(buf, 'e', sizeof(buf));
	send_plain(buf, RX_MAX);
	send_plain(buf, RX_MAX + 1);
	for (rounds = 0; seen.n + seen.too_big < RX_COUNT + 2 &&
	     rounds < 100; rounds++)
		loop_run(100);
	CHECK_INT(seen.n, RX_COUNT + 1);
	CHECK_INT(seen.last_len, RX_MAX);
	CHECK_INT(seen.too_big, 1);
	CHECK_INT(seen.bad, 0);
	CHECK_INT(seen.errors, 0);
}

int
main(void)
{
	int rc = sockets_open();

	if (rc < 0) {
		fprintf(stderr, "test_loop: sockets: %s\n", strerror(-rc));
		return rc == -EPERM ? 77 : 1;
	}
	/* a small ring: the sends fill it and are submitted on the way */
	if (loop_init(64) < 0)
		return 1;
	test_pool_edges();
	test_slots_return();
	test_multishot();
	loop_fini();
	close(rx_fd);
	close(tx_fd);
	return CHECK_DONE();
}
