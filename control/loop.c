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
	io_uring_queue_exit(&ring);
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

		io_uring_cqe_seen(&ring, cqe);
		n++;
		if (op != NULL)
			op->cb(op, res);
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
