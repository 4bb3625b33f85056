/* The control plane's event loop: one io_uring over kernel sockets (SIP,
 * IMAP) on the main lcore.  Each submission carries a struct loop_op whose
 * callback runs with the completion's result.
 */
#ifndef ANNCD_CONTROL_LOOP_H
#define ANNCD_CONTROL_LOOP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

struct loop_op;
typedef void (*loop_cb)(struct loop_op *op, int res);

struct loop_op {
	loop_cb cb;
	uint32_t cqe_flags;	/* of the completion cb runs for */
};

int
loop_init(unsigned int entries);
void
loop_fini(void);

/* A free submission entry tagged with op; submits first if the queue is
 * full.  Never NULL once loop_init succeeded.
 */
struct io_uring_sqe *
loop_sqe(struct loop_op *op);

/* Submits what is queued, waits up to timeout_ms for completions and runs
 * their callbacks.  Returns the number handled or -errno.
 */
int
loop_run(unsigned int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t
loop_now_ms(void);

/* Datagrams in flight at once from the fixed pool of send buffers, and
 * the size of one: a 200 OK with its SDP answer fits.  A larger datagram,
 * or one more while all are in flight (a burst of retransmissions, a
 * shutdown's BYEs), is copied to the heap instead.
 */
#define LOOP_SEND_SLOTS		1024
#define LOOP_SEND_SLOT_BYTES	2048

/* Sends a copy of buf as one datagram to *to; the copy lives until the
 * kernel is done with it.  Returns 0 or -ENOMEM.
 */
int
loop_sendto(int fd, const struct sockaddr_in *to, const void *buf,
	    size_t len);

/* Where loop_sendto's copies went, since loop_init. */
struct loop_send_stats {
	uint64_t pooled;	/* into a send slot */
	uint64_t heap;		/* too large, or every slot in flight */
	unsigned int in_flight;	/* slots taken now */
};

void
loop_send_stats(struct loop_send_stats *st);

/* Datagrams of one socket, taken by a multishot recvmsg into a ring of
 * LOOP_RX_BUFS provided buffers: one loop round hands every datagram that
 * is waiting to the callback, with no system call per datagram and no
 * receive to post again after each.  Each buffer holds one datagram of
 * up to max_len bytes (its memory: LOOP_RX_BUFS times that).
 */
#define LOOP_RX_BUFS		64	/* power of two, the ring's size */

struct loop_dgram_rx;
/* buf is NUL-terminated at len and valid during the call only.  len < 0
 * says what went wrong instead: -EMSGSIZE for a datagram over max_len
 * (dropped), another -errno for a failed receive.
 */
typedef void (*loop_dgram_cb)(struct loop_dgram_rx *rx, char *buf,
			      long len, const struct sockaddr_in *src);

struct loop_dgram_rx {
	struct loop_op op;
	loop_dgram_cb cb;
	int fd;
	uint16_t group;			/* provided buffer group id */
	size_t len;			/* of a buffer, as registered */
	size_t stride;			/* bytes between buffers */
	size_t max_len;
	char *bufs;
	struct io_uring_buf_ring *br;
	struct msghdr msg;		/* layout of each buffer */
	struct loop_dgram_rx *next;	/* receivers to free in loop_fini */
};

/* Starts receiving datagrams of up to max_len bytes from fd; they go to
 * cb until loop_fini.  Returns 0, -ENOMEM, or -errno of the buffer
 * ring's registration (a kernel before 6.0 has no multishot recvmsg).
 */
int
loop_dgram_rx_start(struct loop_dgram_rx *rx, int fd, size_t max_len,
		    loop_dgram_cb cb);

#endif
