/* anncd-call's SIP over TCP or TLS (RFC 3261 section 18): one connection
 * to the media server, opened before the INVITE and kept for the dialog,
 * so that the server's BYE comes back on it.  Messages are framed by
 * anncd's own stream framer; TLS runs over anncd's memory-BIO wrapper,
 * the server's certificate checked against --tls-ca and its address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/call.h"
#include "control/sip_frame.h"
#include "control/tls.h"

#define STREAM_BUF	(2 * 65536)
#define HANDSHAKE_MS	5000

static int fd = -1;
static struct tls_conn *tls;
static char in[STREAM_BUF + 1];
static size_t in_len;

/* Writes all of buf, blocking. */
static int
stream_write_raw(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
stream_flush_tls(void)
{
	char buf[16384];
	size_t n;

	while ((n = tls_take(tls, buf, sizeof(buf))) > 0)
		if (stream_write_raw(buf, n) < 0)
			return -1;
	return 0;
}

int
call_stream_send(const char *buf, size_t len)
{
	if (fd < 0)
		return -1;
	if (tls == NULL)
		return stream_write_raw(buf, len);
	if (tls_write(tls, buf, len) < 0)
		return -1;
	return stream_flush_tls();
}

/* Ciphertext in; returns plaintext bytes added to in, or -1. */
static ssize_t
stream_recv_into(char *to, size_t cap)
{
	char buf[16384];
	ssize_t got, n = recv(fd, tls ? buf : to, tls ? sizeof(buf) : cap,
			      MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n < 0)
		return 0;
	if (tls == NULL)
		return n;
	if (tls_feed(tls, buf, (size_t)n) < 0)
		return -1;
	/* One record at a time comes out of SSL_read. */
	for (got = 0; (size_t)got < cap; got += n) {
		n = tls_read(tls, to + got, cap - (size_t)got);
		if (n <= 0)
			return n < 0 ? -1 : got;
	}
	return got;
}

static int
stream_handshake(const char *ca, const char *host)
{
	char why[160], buf[16384];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if (tls_init(ca) < 0 || (tls = tls_conn_new(host)) == NULL)
		return -1;
	while ((rc = tls_handshake(tls, why, sizeof(why))) == 0) {
		if (stream_flush_tls() < 0 || poll(&p, 1, HANDSHAKE_MS) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || tls_feed(tls, buf, (size_t)n) < 0)
			break;
	}
	if (rc != 1) {
		fprintf(stderr, "sip: TLS handshake with %s: %s\n", host,
			rc < 0 ? why : "connection lost");
		return -1;
	}
	return stream_flush_tls();
}

int
call_stream_open(const struct call_opts *o, const struct sockaddr_in *to)
{
	struct sockaddr_in local = { .sin_family = AF_INET };
	char host[INET_ADDRSTRLEN];

	call_stream_close();
	inet_pton(AF_INET, o->local, &local.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		fprintf(stderr, "sip: connect %s:%u: %s\n",
			inet_ntoa(to->sin_addr), ntohs(to->sin_port),
			strerror(errno));
		return -1;
	}
	inet_ntop(AF_INET, &to->sin_addr, host, sizeof(host));
	if (o->tls && stream_handshake(o->tls_ca, host) < 0)
		return -1;
	return fd;
}

int
call_stream_read(void (*fn)(void *arg, char *msg, size_t len), void *arg)
{
	struct sip_frame f;
	const char *why;
	size_t off = 0;
	ssize_t n;
	int rc;

	n = stream_recv_into(in + in_len, STREAM_BUF - in_len);
	if (n < 0)
		return -1;
	in_len += (size_t)n;
	while ((rc = sip_frame_next(in + off, in_len - off, STREAM_BUF, &f,
				    &why)) == 1) {
		off += f.skip;
		fn(arg, in + off, f.len);
		off += f.len;
	}
	if (rc < 0) {
		fprintf(stderr, "sip: stream from the server: %s\n", why);
		return -1;
	}
	off += f.skip;
	memmove(in, in + off, in_len - off);
	in_len -= off;
	return 0;
}

void
call_stream_close(void)
{
	tls_conn_free(tls);
	tls = NULL;
	if (fd >= 0)
		close(fd);
	fd = -1;
	in_len = 0;
}
