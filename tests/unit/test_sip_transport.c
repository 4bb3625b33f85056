/* Connections anncd opens itself (control/sip_transport.c), on a real
 * io_uring loop against listeners of this test on 127.0.0.1: messages
 * wait for the connect and go out in order, a second send reuses the
 * connection, a response whose request's connection has gone goes to the
 * port of its Via (RFC 3261 section 18.2.2), a refused connect and a TLS
 * handshake never answered report each tracked message lost with its
 * cause, and --sip-max-connections holds for them too.  A second process
 * listens: the answer to a message followed by garbage goes out before
 * the close, --sip-max-send-queue-bytes holds to the byte,
 * --sip-max-connections-per-ip refuses one address and serves another,
 * and anncd's own connects in flight take half the table at most.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/loop.h"
#include "control/sip_transport.h"
#include "tests/unit/check.h"

#define MAX_CONNS	2
#define CONNECT_MS	300
#define WAIT_MS		5000	/* what the loop is given at most */
#define L_MAX_CONNS	4	/* the listening process's limits */
#define L_MAX_QUEUE	2048
#define L_PER_IP	2

static const char opts[] =
	"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKu1\r\n"
	"Content-Length: 0\r\n\r\n";

static unsigned int n_lost;
static uint64_t lost_cookie;
static int lost_err;
static unsigned int n_delivered;
static struct sip_peer delivered_from;
static int answering;		/* on_deliver answers with ans */

static const char ans[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

static void
on_lost(uint64_t cookie, const struct sip_peer *to, int err)
{
	(void)to;
	n_lost++;
	lost_cookie = cookie;
	lost_err = err;
}

static void
on_deliver(const char *buf, size_t len, const struct sip_peer *from)
{
	(void)buf;
	(void)len;
	n_delivered++;
	delivered_from = *from;
	if (answering)
		CHECK_INT(sip_tp_send(from, ans, strlen(ans)), 0);
}

/* A non-blocking listener on 127.0.0.1 and an ephemeral port. */
static int
listener(struct sockaddr_in *a)
{
	socklen_t n = sizeof(*a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)a, sizeof(*a)) == 0 &&
	      listen(fd, 4) == 0 &&
	      getsockname(fd, (struct sockaddr *)a, &n) == 0);
	return fd;
}

/* Runs the loop, and the transport's timers, until *done or WAIT_MS. */
static void
run_until(int (*done)(void *), void *arg)
{
	uint64_t end = loop_now_ms() + WAIT_MS;

	while (!done(arg) && loop_now_ms() < end) {
		loop_run(10);
		sip_tp_tick(loop_now_ms());
	}
}

struct reader {
	int lfd, fd;
	unsigned int accepted;
	char buf[1024];
	size_t len, want;
};

static int
reader_done(void *arg)
{
	struct reader *r = arg;
	ssize_t n;
	int fd;

	while ((fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		r->accepted++;
		if (r->fd < 0)
			r->fd = fd;
		else
			close(fd);
	}
	if (r->fd >= 0 && r->len < sizeof(r->buf) &&
	    (n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len)) > 0)
		r->len += (size_t)n;
	return r->len >= r->want;
}

static int
lost_done(void *arg)
{
	return n_lost >= *(unsigned int *)arg;
}

static int
delivered_done(void *arg)
{
	return n_delivered >= *(unsigned int *)arg;
}

static int
conns_done(void *arg)
{
	return sip_tp_open_conns() == *(unsigned int *)arg;
}

/* Two sends to an address with no connection: one connect, both
 * messages in order; an answer on it comes up with its connection id,
 * which reaches the same connection. */
static void
test_connect_and_reuse(struct reader *r, struct sip_peer *out)
{
	struct sip_peer to = { .tp = SIP_TP_TCP };
	unsigned int want = 1;
	char both[2 * sizeof(opts)];

	r->lfd = listener(&to.addr);
	r->fd = -1;
	r->want = 2 * strlen(opts);
	CHECK_INT(sip_tp_send(&to, opts, strlen(opts)), 0);
	CHECK_INT(sip_tp_send(&to, opts, strlen(opts)), 0);
	CHECK_INT(sip_tp_open_conns(), 1);
	run_until(reader_done, r);
	snprintf(both, sizeof(both), "%s%s", opts, opts);
	CHECK_STRN(r->buf, r->len, both);
	CHECK_INT(r->accepted, 1);
	CHECK_INT(write(r->fd, opts, strlen(opts)), (long long)strlen(opts));
	run_until(delivered_done, &want);
	CHECK_INT(n_delivered, 1);
	CHECK(delivered_from.conn != 0);
	CHECK_INT(delivered_from.addr.sin_port, to.addr.sin_port);
	r->len = 0;
	r->want = strlen(opts);
	CHECK_INT(sip_tp_send(&delivered_from, opts, strlen(opts)), 0);
	run_until(reader_done, r);
	CHECK_INT(r->len, strlen(opts));
	CHECK_INT(r->accepted, 1);
	*out = delivered_from;
}

/* RFC 3261 section 18.2.2: the request's connection gone, the response
 * goes to the address it came from and the port of the Via's sent-by. */
static void
test_reply(void)
{
	static const char fmt[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/TCP 127.0.0.1:%u;branch=z9hG4bKu2\r\n"
		"From: <sip:a@127.0.0.1>;tag=1\r\n"
		"To: <sip:b@127.0.0.1>;tag=2\r\n"
		"Call-ID: u2\r\nCSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_peer gone = { .tp = SIP_TP_TCP, .conn = 7 | 9 << 20 };
	struct reader r = { .fd = -1 };
	unsigned int one = 1;
	struct sockaddr_in via;
	char resp[256];

	r.lfd = listener(&via);
	snprintf(resp, sizeof(resp), fmt, ntohs(via.sin_port));
	gone.addr = via;
	gone.addr.sin_port = htons(1);	/* the request's source port */
	CHECK_INT(sip_tp_send(&gone, opts, strlen(opts)), -ENOTCONN);
	CHECK_INT(sip_tp_reply(&gone, resp, strlen(resp)), 0);
	r.want = strlen(resp);
	run_until(reader_done, &r);
	CHECK_STRN(r.buf, r.len, resp);
	CHECK_INT(r.accepted, 1);
	/* Our close ends anncd's connection: one left, the first. */
	close(r.fd);
	close(r.lfd);
	run_until(conns_done, &one);
	CHECK_INT(sip_tp_open_conns(), 1);
}

/* Lines in the log file fd that contain what. */
static unsigned int
count_lines(int fd, const char *what)
{
	char buf[8192], *p;
	unsigned int n = 0;
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);

	buf[got > 0 ? got : 0] = '\0';
	for (p = buf; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* A retransmitted answer whose connect fails each time: every message
 * is counted and reported, the failure logged once. */
static void
test_refused_logged_once(const struct sip_peer *to)
{
	char path[] = "/tmp/test_sip_transport.XXXXXX", what[64];
	int log = mkstemp(path), saved = dup(STDERR_FILENO), i;
	uint64_t lost = sip_tp_lost_msgs();
	unsigned int want;

	CHECK(log >= 0 && saved >= 0);
	unlink(path);
	dup2(log, STDERR_FILENO);
	for (i = 0; i < 3; i++) {
		want = n_lost + 1;
		CHECK_INT(sip_tp_send_tracked(to, opts, strlen(opts), 44), 0);
		run_until(lost_done, &want);
		CHECK_INT(n_lost, want);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	CHECK_INT(sip_tp_lost_msgs(), lost + 3);
	snprintf(what, sizeof(what), "cannot connect to TCP 127.0.0.1:%u",
		 ntohs(to->addr.sin_port));
	/* The first failure, just before, was the one line. */
	CHECK_INT(count_lines(log, what), 0);
	close(log);
}

/* A port nobody listens on: the tracked message is reported lost. */
static void
test_refused(void)
{
	struct sip_peer to = { .tp = SIP_TP_TCP };
	unsigned int want = n_lost + 1, before = sip_tp_open_conns();
	int fd = listener(&to.addr);

	close(fd);
	CHECK_INT(sip_tp_send_tracked(&to, opts, strlen(opts), 42), 0);
	run_until(lost_done, &want);
	CHECK_INT(n_lost, want);
	CHECK_INT(lost_cookie, 42);
	CHECK_INT(lost_err, -ECONNREFUSED);
	CHECK_INT(sip_tp_open_conns(), before);
	test_refused_logged_once(&to);
}

/* TLS to a listener that takes the connection and never answers the
 * handshake: given up after CONNECT_MS; while it is pending the table
 * (MAX_CONNS) is full and a third address gets -EMFILE at once. */
static void
test_timeout_and_limit(void)
{
	struct sip_peer to = { .tp = SIP_TP_TLS }, third = { .tp = SIP_TP_TCP };
	unsigned int want = n_lost + 1;
	int lfd = listener(&to.addr), fd3 = listener(&third.addr);

	CHECK_INT(sip_tp_send_tracked(&to, opts, strlen(opts), 43), 0);
	CHECK_INT(sip_tp_open_conns(), MAX_CONNS);
	CHECK_INT(sip_tp_send(&third, opts, strlen(opts)), -EMFILE);
	run_until(lost_done, &want);
	CHECK_INT(n_lost, want);
	CHECK_INT(lost_cookie, 43);
	CHECK_INT(lost_err, -ETIMEDOUT);
	close(lfd);
	close(fd3);
}

/* A client of the listening process on addr, from the source src
 * (network order), non-blocking. */
static int
client(const struct sockaddr_in *addr, uint32_t src)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	from.sin_addr.s_addr = src;
	CHECK(fd >= 0 &&
	      bind(fd, (struct sockaddr *)&from, sizeof(from)) == 0 &&
	      connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0);
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	return fd;
}

struct drain {
	int fd, eof;
	char buf[512];
	size_t len;
};

/* Reads what the server sends until it closes. */
static int
drain_done(void *arg)
{
	struct drain *d = arg;
	ssize_t n;

	while (!d->eof && d->len < sizeof(d->buf) &&
	       (n = read(d->fd, d->buf + d->len, sizeof(d->buf) - d->len)) >= 0) {
		if (n == 0)
			d->eof = 1;
		d->len += (size_t)n;
	}
	return d->eof;
}

/* An OPTIONS and garbage in one write: the framing fault closes the
 * connection, but only after the OPTIONS's answer has gone. */
static void
test_answer_before_close(const struct sockaddr_in *srv)
{
	static const char in[] =
		"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKu3\r\n"
		"Content-Length: 0\r\n\r\n\x00\x01\x02garbage";
	struct drain d = { .fd = client(srv, htonl(INADDR_LOOPBACK)) };

	answering = 1;
	CHECK_INT(write(d.fd, in, sizeof(in) - 1), (long long)sizeof(in) - 1);
	run_until(drain_done, &d);
	CHECK_INT(d.eof, 1);
	CHECK_STRN(d.buf, d.len, ans);
	answering = 0;
	close(d.fd);
}

/* Nothing is sent while the loop does not run: exactly L_MAX_QUEUE bytes
 * are taken, one more is refused and closes the connection. */
static void
test_send_queue_edge(const struct sockaddr_in *srv)
{
	unsigned int want = n_delivered + 1, zero = 0;
	int fd = client(srv, htonl(INADDR_LOOPBACK));
	char big[L_MAX_QUEUE];
	struct sip_peer to;

	CHECK_INT(write(fd, opts, strlen(opts)), (long long)strlen(opts));
	run_until(delivered_done, &want);
	to = delivered_from;
	memset(big, 'x', sizeof(big));
	CHECK_INT(sip_tp_send(&to, big, sizeof(big) - 100), 0);
	CHECK_INT(sip_tp_send(&to, big, 100), 0);
	CHECK_INT(sip_tp_send(&to, big, 1), -ENOBUFS);
	CHECK_INT(sip_tp_send(&to, big, 1), -ENOTCONN);
	close(fd);
	run_until(conns_done, &zero);
	CHECK_INT(sip_tp_open_conns(), 0);
}

/* L_PER_IP connections from 127.0.0.1 are held; the next from there is
 * closed on accept, while 127.0.0.2 is still served. */
static void
test_per_ip(const struct sockaddr_in *srv)
{
	unsigned int held = L_PER_IP, want;
	struct drain d = { 0 };
	int fds[L_PER_IP], i, other;

	for (i = 0; i < L_PER_IP; i++)
		fds[i] = client(srv, htonl(INADDR_LOOPBACK));
	run_until(conns_done, &held);
	CHECK_INT(sip_tp_open_conns(), L_PER_IP);
	d.fd = client(srv, htonl(INADDR_LOOPBACK));
	run_until(drain_done, &d);
	CHECK_INT(d.eof, 1);
	CHECK_INT(d.len, 0);
	other = client(srv, htonl(INADDR_LOOPBACK + 1));
	want = n_delivered + 1;
	CHECK_INT(write(other, opts, strlen(opts)), (long long)strlen(opts));
	run_until(delivered_done, &want);
	CHECK_INT(n_delivered, want);
	CHECK_INT(ntohl(delivered_from.addr.sin_addr.s_addr),
		  INADDR_LOOPBACK + 1);
	CHECK_INT(sip_tp_open_conns(), L_PER_IP + 1);
	for (i = 0; i < L_PER_IP; i++)
		close(fds[i]);
	close(d.fd);
	close(other);
}

/* Callers' Contacts at ports that take the connection and never answer
 * the TLS handshake: L_MAX_CONNS / 2 connects are in flight, the next
 * gets -EAGAIN with slots still free, and a caller's own connection is
 * still accepted on one; once the connects time out, one goes again. */
static void
test_connect_share(const struct sockaddr_in *srv)
{
	struct sip_peer to[L_MAX_CONNS / 2 + 1];
	unsigned int zero = 0, want = n_lost + L_MAX_CONNS / 2, n;
	int lfd[L_MAX_CONNS / 2 + 1], fd, i;

	run_until(conns_done, &zero);
	CHECK_INT(sip_tp_open_conns(), 0);
	for (i = 0; i <= L_MAX_CONNS / 2; i++) {
		memset(&to[i], 0, sizeof(to[i]));
		to[i].tp = SIP_TP_TLS;
		lfd[i] = listener(&to[i].addr);
	}
	for (i = 0; i < L_MAX_CONNS / 2; i++)
		CHECK_INT(sip_tp_send_tracked(&to[i], opts, strlen(opts),
					      (uint64_t)i + 1), 0);
	CHECK_INT(sip_tp_send_tracked(&to[i], opts, strlen(opts), 9),
		  -EAGAIN);
	CHECK_INT(sip_tp_open_conns(), L_MAX_CONNS / 2);
	fd = client(srv, htonl(INADDR_LOOPBACK));
	n = L_MAX_CONNS / 2 + 1;
	run_until(conns_done, &n);
	CHECK_INT(sip_tp_open_conns(), L_MAX_CONNS / 2 + 1);
	run_until(lost_done, &want);
	CHECK_INT(n_lost, want);
	CHECK_INT(lost_err, -ETIMEDOUT);
	n = 1;		/* the caller's; the timed-out slots come back */
	run_until(conns_done, &n);
	CHECK_INT(sip_tp_open_conns(), 1);
	CHECK_INT(sip_tp_send_tracked(&to[i], opts, strlen(opts), 9), 0);
	close(fd);
	for (i = 0; i <= L_MAX_CONNS / 2; i++)
		close(lfd[i]);
}

/* The listening side, in a process of its own: the transport is set up
 * once per process. */
static int
listening_tests(void)
{
	struct sip_tp_config c = {
		.max_conns = L_MAX_CONNS, .max_msg = 1024, .idle_ms = 60000,
		.connect_ms = CONNECT_MS, .max_queue = L_MAX_QUEUE,
		.max_per_ip = L_PER_IP,
	};
	int fd = listener(&c.tcp_addr);

	/* A free port, released for the transport to bind. */
	close(fd);
	if (loop_init(64) < 0)
		return 77;
	CHECK_INT(sip_tp_init(&c, on_deliver), 0);
	test_answer_before_close(&c.tcp_addr);
	test_send_queue_edge(&c.tcp_addr);
	test_per_ip(&c.tcp_addr);
	sip_tp_on_lost(on_lost);
	test_connect_share(&c.tcp_addr);
	sip_tp_fini();
	loop_fini();
	return CHECK_DONE();
}

int
main(void)
{
	struct sip_tp_config c = {
		.max_conns = MAX_CONNS, .max_msg = 4096, .idle_ms = 60000,
		.connect_ms = CONNECT_MS,
	};
	struct reader r = { 0 };
	struct sip_peer kept;
	int status = -1;		/* no child, or no wait: not an exit */
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(listening_tests());
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		return 77;
	CHECK_INT(WEXITSTATUS(status), 0);
	if (loop_init(64) < 0) {
		fprintf(stderr, "io_uring not available: skipped\n");
		return 77;
	}
	CHECK_INT(sip_tp_init(&c, on_deliver), 0);
	sip_tp_on_lost(on_lost);
	test_connect_and_reuse(&r, &kept);
	test_reply();
	test_refused();
	test_timeout_and_limit();
	/* The first connection is still there, untouched by the others. */
	CHECK_INT(sip_tp_send(&kept, opts, strlen(opts)), 0);
	sip_tp_fini();
	close(r.fd);
	close(r.lfd);
	loop_fini();
	return CHECK_DONE();
}
