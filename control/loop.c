/* io_uring event loop of the control plane.  Completions are dispatched
 * through the struct loop_op that each submission points to, so the loop
 * knows nothing about SIP or IMAP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "control/loop.h"
#include "core/log.h"

static struct io_uring ring;
static struct loop_dgram_rx *rx_list;
static uint16_t rx_groups;		/* buffer group ids given out */

/* A datagram in flight: the buffer must stay valid until completion.
 * data points into the slot's own buffer, or past the header of a heap
 * copy (slot < 0).
 */
struct loop_datagram {
	struct loop_op op;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_in to;
	int slot;
	char *data;
};

/* The send pool: one allocation at start-up instead of a malloc and a
 * free per datagram; a stack of free slots, so the slot taken next is the
 * one whose buffer is most likely still in cache. */
struct loop_send_slot {
	struct loop_datagram d;
	char buf[LOOP_SEND_SLOT_BYTES];
};

static struct loop_send_slot *send_slots;
static unsigned int send_free[LOOP_SEND_SLOTS];
static unsigned int n_send_free;
static struct loop_send_stats send_stats;

int
loop_init(unsigned int entries)
{
	int rc;
	unsigned int i;

	send_slots = calloc(LOOP_SEND_SLOTS, sizeof(*send_slots));
	if (send_slots == NULL)
		return -ENOMEM;
	for (i = 0; i < LOOP_SEND_SLOTS; i++)
		send_free[i] = LOOP_SEND_SLOTS - 1 - i;
	n_send_free = LOOP_SEND_SLOTS;
	memset(&send_stats, 0, sizeof(send_stats));
	/* Only this thread touches the ring, so the kernel may hold back
	 * completion work (a datagram arriving for the multishot receive)
	 * until the loop asks for completions, instead of interrupting the
	 * thread for each: kernels from 6.1.  Plain rings before. */
	rc = io_uring_queue_init(entries, &ring, IORING_SETUP_SINGLE_ISSUER |
				 IORING_SETUP_DEFER_TASKRUN);
	if (rc == -EINVAL)
		rc = io_uring_queue_init(entries, &ring, 0);
	if (rc < 0) {
		LOG_AT(LOGL_ERR, "loop", "io_uring_queue_init(%u) failed: %s",
		       entries, strerror(-rc));
		free(send_slots);
		send_slots = NULL;
	}
	return rc;
}

void
loop_fini(void)
{
	struct loop_dgram_rx *rx;

	io_uring_queue_exit(&ring);
	while ((rx = rx_list) != NULL) {
		rx_list = rx->next;
		free(rx->br);
		free(rx->bufs);
	}
	free(send_slots);
	send_slots = NULL;
}

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct io_uring_sqe *
loop_sqe(struct loop_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	while (sqe == NULL) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

int
loop_run(unsigned int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int rc;

	rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
	if (rc < 0 && rc != -ETIME && rc != -EINTR)
		return rc;
	/* Callbacks may queue new submissions; they go out on the next
	 * call, after every completion seen here has been handled. */
	io_uring_for_each_cqe(&ring, head, cqe) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		uint32_t flags = cqe->flags;

		io_uring_cqe_seen(&ring, cqe);
		n++;
		if (op != NULL) {
			op->cqe_flags = flags;
			op->cb(op, res);
		}
	}
	return (int)n;
}

static void
datagram_done(struct loop_op *op, int res)
{
	struct loop_datagram *d = (struct loop_datagram *)op;

	if (res < 0)
		LOG_AT(LOGL_WARN, "loop", "sendmsg(%zu bytes) failed: %s",
		       d->iov.iov_len, strerror(-res));
	if (d->slot >= 0) {
		send_free[n_send_free++] = (unsigned int)d->slot;
		send_stats.in_flight--;
	} else {
		free(d);
	}
}

/* A datagram of len bytes: a pool slot when one is free and large
 * enough, else the heap. */
static struct loop_datagram *
datagram_get(size_t len)
{
	struct loop_datagram *d;
	unsigned int s;

	if (len <= LOOP_SEND_SLOT_BYTES && n_send_free > 0) {
		s = send_free[--n_send_free];
		d = &send_slots[s].d;
		d->slot = (int)s;
		d->data = send_slots[s].buf;
		send_stats.pooled++;
		send_stats.in_flight++;
		return d;
	}
	d = malloc(sizeof(*d) + len);
	if (d == NULL)
		return NULL;
	d->slot = -1;
	d->data = (char *)(d + 1);
	send_stats.heap++;
	return d;
}

void
loop_send_stats(struct loop_send_stats *st)
{
	*st = send_stats;
}

int
loop_sendto(int fd, const struct sockaddr_in *to, const void *buf,
	    size_t len)
{
	struct loop_datagram *d = datagram_get(len);
	struct io_uring_sqe *sqe;

	if (d == NULL)
		return -ENOMEM;
	memcpy(d->data, buf, len);
	d->to = *to;
	d->iov.iov_base = d->data;
	d->iov.iov_len = len;
	memset(&d->msg, 0, sizeof(d->msg));
	d->msg.msg_name = &d->to;
	d->msg.msg_namelen = sizeof(d->to);
	d->msg.msg_iov = &d->iov;
	d->msg.msg_iovlen = 1;
	d->op.cb = datagram_done;
	sqe = loop_sqe(&d->op);
	io_uring_prep_sendmsg(sqe, fd, &d->msg, 0);
	return 0;
}

/* ---- multishot datagram receive ---- */

static void
dgram_arm(struct loop_dgram_rx *rx)
{
	struct io_uring_sqe *sqe = loop_sqe(&rx->op);

	io_uring_prep_recvmsg_multishot(sqe, rx->fd, &rx->msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = rx->group;
}

/* What the kernel wrote to one buffer (a struct io_uring_recvmsg_out,
 * the source address, the payload) to the callback. */
static void
dgram_deliver(struct loop_dgram_rx *rx, char *buf, int res)
{
	struct io_uring_recvmsg_out *o;
	char *payload;
	unsigned int len;

	o = io_uring_recvmsg_validate(buf, res, &rx->msg);
	if (o == NULL)
		return;
	if (o->flags & MSG_TRUNC) {
		rx->cb(rx, NULL, -EMSGSIZE, NULL);
		return;
	}
	payload = io_uring_recvmsg_payload(o, &rx->msg);
	len = io_uring_recvmsg_payload_length(o, res, &rx->msg);
	payload[len] = '\0';	/* the buffer has one byte past max_len */
	rx->cb(rx, payload, (long)len,
	       (const struct sockaddr_in *)io_uring_recvmsg_name(o));
}

static void
dgram_done(struct loop_op *op, int res)
{
	struct loop_dgram_rx *rx = (struct loop_dgram_rx *)op;
	uint32_t flags = op->cqe_flags;
	unsigned int bid;
	char *buf;

	if (flags & IORING_CQE_F_BUFFER) {
		bid = flags >> IORING_CQE_BUFFER_SHIFT;
		buf = rx->bufs + (size_t)bid * rx->stride;
		if (res >= 0)
			dgram_deliver(rx, buf, res);
		io_uring_buf_ring_add(rx->br, buf, (unsigned int)rx->len,
				      (unsigned short)bid,
				      io_uring_buf_ring_mask(LOOP_RX_BUFS), 0);
		io_uring_buf_ring_advance(rx->br, 1);
	}
	/* -ENOBUFS: every buffer was full; they are back now. */
	if (res < 0 && res != -ENOBUFS)
		rx->cb(rx, NULL, res, NULL);
	if (!(flags & IORING_CQE_F_MORE))
		dgram_arm(rx);
}

/* The ring of buffers the kernel picks from, registered as group. */
static int
dgram_ring(struct loop_dgram_rx *rx)
{
	struct io_uring_buf_reg reg = { 0 };
	void *br = NULL;
	unsigned int i;
	int rc;

	if (posix_memalign(&br, 4096,
			   LOOP_RX_BUFS * sizeof(struct io_uring_buf)) != 0)
		return -ENOMEM;
	rx->br = br;
	io_uring_buf_ring_init(rx->br);
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = LOOP_RX_BUFS;
	reg.bgid = rx->group;
	rc = io_uring_register_buf_ring(&ring, &reg, 0);
	if (rc < 0) {
		LOG_AT(LOGL_ERR, "loop", "io_uring_register_buf_ring(%u "
		       "buffers) failed: %s", LOOP_RX_BUFS, strerror(-rc));
		return rc;
	}
	for (i = 0; i < LOOP_RX_BUFS; i++)
		io_uring_buf_ring_add(rx->br, rx->bufs + i * rx->stride,
				      (unsigned int)rx->len,
				      (unsigned short)i,
				      io_uring_buf_ring_mask(LOOP_RX_BUFS),
				      (int)i);
	io_uring_buf_ring_advance(rx->br, LOOP_RX_BUFS);
	return 0;
}

int
loop_dgram_rx_start(struct loop_dgram_rx *rx, int fd, size_t max_len,
		    loop_dgram_cb cb)
{
	int rc;

	memset(rx, 0, sizeof(*rx));
	rx->op.cb = dgram_done;
	rx->cb = cb;
	rx->fd = fd;
	rx->max_len = max_len;
	rx->group = rx_groups++;
	rx->msg.msg_namelen = sizeof(struct sockaddr_in);
	/* header, name, payload, and room for a NUL after it */
	rx->len = sizeof(struct io_uring_recvmsg_out) +
		  sizeof(struct sockaddr_in) + max_len;
	rx->stride = (rx->len + 1 + 63) & ~(size_t)63;
	rx->bufs = malloc(LOOP_RX_BUFS * rx->stride);
	if (rx->bufs == NULL)
		return -ENOMEM;
	rc = dgram_ring(rx);
	if (rc < 0) {
		free(rx->br);
		free(rx->bufs);
		return rc;
	}
	rx->next = rx_list;
	rx_list = rx;
	dgram_arm(rx);
	return 0;
}
