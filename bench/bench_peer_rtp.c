/* bench-peer-rtp: the two ends of the peer benchmark that must cost little
 * themselves.  "recv" is the callers: one UDP socket that takes every
 * stream, tells them apart by SSRC and measures, over a window, the packet
 * rate, the losses by sequence number and each stream's inter-arrival
 * times (kernel receive timestamps), while it samples a sender's CPU time
 * at the window's edges.  "send" is the kernel-socket floor: the same
 * 20 ms G.711 packets of the same announcement sent with sendmmsg().
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define PEER_PTIME_NS		20000000ull	/* 20 ms G.711 */
#define PEER_PAYLOAD		160u		/* bytes per 20 ms at 8 kHz */
#define PEER_MAX_STREAMS	16384u
#define PEER_BATCH		1024u		/* messages per system call */
#define PEER_RCVBUF		(32 << 20)
#define PEER_HDR		12u		/* RTP header, RFC 3550 5.1 */

static const char usage[] =
"usage: bench-peer-rtp recv --port P --streams N --seconds W\n"
"                      [--pid PID [--usr1]] [--settle S] [--wait S]\n"
"       bench-peer-rtp send --src IP --dst IP:PORT --streams N\n"
"                      --seconds T --au FILE [--tick-us U]\n"
"recv waits up to --wait s (default 30) for N streams, --settle s more\n"
"(default 1), then measures for W s; with --pid it reads that process's\n"
"CPU time at both edges of the window, and with --usr1 signals it there.\n"
"send plays FILE's audio to N streams of 20 ms packets, their first packets\n"
"spread over 20 ms, waking every U us (default 1000) to send what is due.\n"
"Each prints a last line of key=value figures.\n";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long
arg_ul(const char *name, const char *v, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > max) {
		fprintf(stderr, "bench-peer-rtp: %s: bad value '%s' (0 to %lu)\n",
			name, v, max);
		exit(2);
	}
	return n;
}

static void
addr_parse(const char *s, uint16_t def_port, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(def_port);
	if (colon != NULL)
		sa->sin_port = htons((uint16_t)arg_ul("port", colon + 1,
						     65535));
	if (n >= sizeof(host) ||
	    (memcpy(host, s, n), host[n] = '\0',
	     inet_pton(AF_INET, host, &sa->sin_addr) != 1)) {
		fprintf(stderr, "bench-peer-rtp: bad address '%s'\n", s);
		exit(2);
	}
}

/* utime + stime of a process, in seconds, from /proc/PID/stat (fields 14
 * and 15, after the parenthesised command name); -1 when it is gone.
 */
static double
proc_cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- recv ---- */

struct rstream {
	uint32_t ssrc;
	int used;
	int in_window;			/* a packet came inside the window */
	uint64_t first_seq, last_seq;	/* extended (RFC 3550 A.1) */
	uint64_t packets;
	double first_t, last_t;
	float *gaps;			/* inter-arrival times, ms */
	size_t ngaps, gcap;
};

struct recv_opts {
	uint16_t port;
	unsigned int streams;
	double seconds, settle, wait;
	long pid;
	int usr1;
};

struct recv_state {
	struct rstream *tab;		/* open addressing by SSRC */
	unsigned int mask, seen;
	double t0, t1;			/* the window, in kernel time */
	uint64_t packets, bad;
	size_t gcap;
};

static struct rstream *
rs_find(struct recv_state *r, uint32_t ssrc)
{
	uint32_t i = (ssrc * 0x9e3779b1u) & r->mask;

	while (r->tab[i].used && r->tab[i].ssrc != ssrc)
		i = (i + 1) & r->mask;
	if (!r->tab[i].used) {
		if (r->seen >= PEER_MAX_STREAMS)
			return NULL;
		r->tab[i].used = 1;
		r->tab[i].ssrc = ssrc;
		r->seen++;
	}
	return &r->tab[i];
}

/* One datagram at kernel time t: counted only inside the window. */
static void
rs_packet(struct recv_state *r, const uint8_t *d, size_t n, double t)
{
	struct rstream *s;
	uint16_t seq;
	uint64_t ext;

	if (n < PEER_HDR || (d[0] >> 6) != 2) {
		r->bad++;
		return;
	}
	s = rs_find(r, (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 |
		       (uint32_t)d[10] << 8 | d[11]);
	if (s == NULL || t < r->t0 || t >= r->t1)
		return;
	seq = (uint16_t)(d[2] << 8 | d[3]);
	r->packets++;
	if (!s->in_window) {
		s->in_window = 1;
		s->first_seq = s->last_seq = 65536u + seq;
		s->packets = 1;
		s->first_t = s->last_t = t;
		return;
	}
	/* the extended sequence number nearest the last one */
	ext = (s->last_seq & ~0xffffull) | seq;
	if (ext + 32768 < s->last_seq)
		ext += 65536;
	else if (ext > s->last_seq + 32768)
		ext -= 65536;
	if (ext > s->last_seq)
		s->last_seq = ext;
	s->packets++;
	if (s->gaps != NULL && s->ngaps < r->gcap)	/* NULL: came late */
		s->gaps[s->ngaps++] = (float)((t - s->last_t) * 1e3);
	s->last_t = t;
}

static int
recv_socket(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, sz = PEER_RCVBUF;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bench-peer-rtp: bind port %u: %s\n", port,
			strerror(errno));
		exit(1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	return fd;
}

static double
cmsg_time(struct msghdr *mh, double fallback)
{
	struct cmsghdr *c;
	struct timespec ts;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (double)ts.tv_sec + ts.tv_nsec / 1e9;
		}
	}
	return fallback;
}

/* Drains the socket for up to ms milliseconds.  Kernel timestamps are
 * CLOCK_REALTIME, as is the window.
 */
static void
recv_drain(int fd, struct recv_state *r, int ms)
{
	static uint8_t buf[64][2048];
	static char ctl[64][64];
	struct mmsghdr mm[64];
	struct iovec iov[64];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int i, n;

	if (poll(&pfd, 1, ms) <= 0)
		return;
	for (i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
			.msg_iovlen = 1, .msg_control = ctl[i],
			.msg_controllen = sizeof(ctl[i]) };
	}
	n = recvmmsg(fd, mm, 64, MSG_DONTWAIT, NULL);
	for (i = 0; i < n; i++)
		rs_packet(r, buf[i], mm[i].msg_len,
			  cmsg_time(&mm[i].msg_hdr, real_s()));
}

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static double
pct(float *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)ceil(p * (double)n) - 1;
	return v[i < n ? i : n - 1];
}

/* Pooled and per-stream figures of the window, as the last line.  The
 * rate is each stream's packets over the time between its first and last
 * in the window, summed: a sender that falls behind shows, the window's
 * edges do not.
 */
static void
recv_report(struct recv_state *r, const struct recv_opts *o, double cpu)
{
	float *all = malloc(sizeof(float) * (r->gcap * r->seen + 1));
	float worst = 0, gmax = 0;
	uint64_t expect = 0, got = 0;
	double rate = 0;
	size_t nall = 0, i;
	unsigned int active = 0;

	for (i = 0; i <= r->mask; i++) {
		struct rstream *s = &r->tab[i];

		if (!s->in_window)
			continue;
		active++;
		expect += s->last_seq - s->first_seq + 1;
		got += s->packets;
		/* packets over the time they took, free of the window's edges */
		if (s->packets > 1 && s->last_t > s->first_t)
			rate += (double)(s->packets - 1) / (s->last_t - s->first_t);
		qsort(s->gaps, s->ngaps, sizeof(float), cmp_float);
		if (s->ngaps > 0) {
			worst = fmaxf(worst, (float)pct(s->gaps, s->ngaps,
							0.99));
			gmax = fmaxf(gmax, s->gaps[s->ngaps - 1]);
		}
		memcpy(all + nall, s->gaps, s->ngaps * sizeof(float));
		nall += s->ngaps;
	}
	qsort(all, nall, sizeof(float), cmp_float);
	printf("streams=%u seen=%u active=%u packets=%" PRIu64 " window_s=%.3f "
	       "pps=%.1f expected_pps=%u lost=%" PRIu64 " gap_p50_ms=%.3f "
	       "gap_p99_ms=%.3f worst_stream_p99_ms=%.3f gap_max_ms=%.3f "
	       "cpu_s=%.2f bad=%" PRIu64 "\n", o->streams, r->seen, active,
	       r->packets, o->seconds, rate,
	       o->streams * 50, expect > got ? expect - got : 0,
	       pct(all, nall, 0.5), pct(all, nall, 0.99), worst, gmax, cpu,
	       r->bad);
	free(all);
}

static void
recv_edge(const struct recv_opts *o, double *cpu)
{
	if (o->pid <= 0)
		return;
	*cpu = proc_cpu_s(o->pid);
	if (o->usr1)
		kill((pid_t)o->pid, SIGUSR1);
}

static int
recv_run(const struct recv_opts *o)
{
	struct recv_state r = { .mask = 2 * PEER_MAX_STREAMS - 1, .t0 = 1e18,
				.t1 = 1e18 };
	int fd = recv_socket(o->port), rtcp = recv_socket(o->port + 1);
	double t, all_seen = 0, cpu0 = 0, cpu1 = 0;
	size_t i;

	r.tab = calloc(r.mask + 1, sizeof(*r.tab));
	r.gcap = (size_t)(o->seconds * 50 * 2) + 16;
	for (t = now_s() + o->wait; now_s() < t; ) {
		recv_drain(fd, &r, 50);
		if (r.seen >= o->streams && all_seen == 0)
			all_seen = now_s();
		if (all_seen != 0 && now_s() >= all_seen + o->settle)
			break;
	}
	for (i = 0; i <= r.mask; i++)
		if (r.tab[i].used)
			r.tab[i].gaps = malloc(r.gcap * sizeof(float));
	fprintf(stderr, "bench-peer-rtp: %u streams seen, measuring %.1f s\n",
		r.seen, o->seconds);
	/* The window is the packets stamped between the edges, read even
	 * if this process runs late: it drains 200 ms past the end.
	 */
	recv_edge(o, &cpu0);
	r.t0 = real_s();
	r.t1 = r.t0 + o->seconds;
	for (t = now_s() + o->seconds; now_s() < t; )
		recv_drain(fd, &r, 20);
	recv_edge(o, &cpu1);
	for (t = now_s() + 0.2; now_s() < t; )
		recv_drain(fd, &r, 20);
	recv_report(&r, o, o->pid > 0 ? cpu1 - cpu0 : 0);
	for (i = 0; i <= r.mask; i++)
		free(r.tab[i].gaps);
	free(r.tab);
	close(fd);
	close(rtcp);
	return r.seen >= o->streams ? 0 : 1;
}

/* ---- send ---- */

struct send_opts {
	struct sockaddr_in src, dst;
	unsigned int streams;
	double seconds;
	const char *au;
	unsigned int tick_us;
};

/* The audio of a Sun .au file: its header says where the data starts. */
static uint8_t *
au_load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[8], *d;
	uint32_t off;
	long size;

	if (f == NULL || fread(hdr, 1, 8, f) != 8 || memcmp(hdr, ".snd", 4)) {
		fprintf(stderr, "bench-peer-rtp: %s is not a .au file\n", path);
		exit(1);
	}
	off = (uint32_t)hdr[4] << 24 | hdr[5] << 16 | hdr[6] << 8 | hdr[7];
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	if (size < 0 || (uint64_t)size < off + PEER_PAYLOAD) {
		fprintf(stderr, "bench-peer-rtp: %s: no audio\n", path);
		exit(1);
	}
	*len = (size_t)size - off;
	d = malloc(*len);
	fseek(f, (long)off, SEEK_SET);
	if (fread(d, 1, *len, f) != *len)
		exit(1);
	fclose(f);
	return d;
}

struct sstream {
	uint8_t hdr[PEER_HDR];
	uint16_t seq;
	uint32_t ts, ssrc;
};

static int
send_socket(const struct send_opts *o)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sz = 4 << 20;

	if (fd < 0 || bind(fd, (const struct sockaddr *)&o->src,
			   sizeof(o->src)) < 0) {
		fprintf(stderr, "bench-peer-rtp: socket: %s\n", strerror(errno));
		exit(1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

/* Packet k of stream i: header in the stream's slot, payload by pointer
 * into the audio (looped), both gathered by the kernel's copy.
 */
static void
send_fill(struct sstream *s, uint64_t k, const uint8_t *au, size_t aulen,
	  struct iovec *iov)
{
	uint8_t *h = s->hdr;
	size_t off = (size_t)(k * PEER_PAYLOAD % (aulen - aulen % PEER_PAYLOAD));
	uint16_t seq = (uint16_t)(s->seq + k);
	uint32_t ts = s->ts + (uint32_t)(k * PEER_PAYLOAD);

	h[0] = 0x80;
	h[1] = (uint8_t)(k == 0 ? 0x80 : 0x00);	/* marker, PT 0 (PCMU) */
	h[2] = (uint8_t)(seq >> 8);
	h[3] = (uint8_t)seq;
	h[4] = (uint8_t)(ts >> 24);
	h[5] = (uint8_t)(ts >> 16);
	h[6] = (uint8_t)(ts >> 8);
	h[7] = (uint8_t)ts;
	memcpy(h + 8, &(uint32_t){ htonl(s->ssrc) }, 4);
	iov[0] = (struct iovec){ h, PEER_HDR };
	iov[1] = (struct iovec){ (void *)(au + off), PEER_PAYLOAD };
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct send_state {
	struct sstream *st;
	struct mmsghdr mm[PEER_BATCH];
	struct iovec iov[PEER_BATCH][2];
	uint64_t sent, calls;
};

/* Hands the batch to the kernel; a full socket buffer is waited out. */
static void
send_flush(int fd, struct send_state *s, unsigned int n)
{
	unsigned int done = 0;
	int k;

	while (done < n) {
		k = sendmmsg(fd, s->mm + done, n - done, 0);
		s->calls++;
		if (k < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			fprintf(stderr, "bench-peer-rtp: sendmmsg: %s\n",
				strerror(errno));
			exit(1);
		}
		done += (unsigned int)k;
	}
	s->sent += n;
}

/* Stream i's packet k is due at start + k * 20 ms + i * 20 ms / N: the
 * streams in index order, round after round, so one cursor walks them.
 */
static void
send_loop(int fd, struct send_state *s, const struct send_opts *o,
	  const uint8_t *au, size_t aulen)
{
	uint64_t start = mono_ns() + 1000000, end, now, due, k = 0;
	uint64_t tick = (uint64_t)o->tick_us * 1000;
	unsigned int i = 0, n;
	struct timespec ts;

	end = start + (uint64_t)(o->seconds * 1e9);
	for (now = mono_ns(); now < end; now = mono_ns()) {
		n = 0;
		for (;;) {
			due = start + k * PEER_PTIME_NS +
			      i * PEER_PTIME_NS / o->streams;
			if (due > now)
				break;
			/* Unconnected: an ICMP error from a receiver not
			 * yet listening fails no later send. */
			s->mm[n].msg_hdr = (struct msghdr){
				.msg_name = (void *)&o->dst,
				.msg_namelen = sizeof(o->dst),
				.msg_iov = s->iov[n], .msg_iovlen = 2 };
			send_fill(&s->st[i], k, au, aulen, s->iov[n]);
			if (++n == PEER_BATCH) {
				send_flush(fd, s, n);
				n = 0;
			}
			if (++i == o->streams) {
				i = 0;
				k++;
			}
		}
		if (n > 0)
			send_flush(fd, s, n);
		/* the next tick of the grid from start, or the next packet */
		now = start + ((now - start) / tick + 1) * tick;
		due = due > now ? due : now;
		ts = (struct timespec){ (time_t)(due / 1000000000ull),
					(long)(due % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static int
send_run(const struct send_opts *o)
{
	static struct send_state s;
	struct rusage ru;
	size_t aulen;
	uint8_t *au = au_load(o->au, &aulen);
	int fd = send_socket(o);
	unsigned int i;

	s.st = calloc(o->streams, sizeof(*s.st));
	for (i = 0; i < o->streams; i++) {
		if (getrandom(&s.st[i].ssrc, 4, 0) != 4 ||
		    getrandom(&s.st[i].seq, 2, 0) != 2 ||
		    getrandom(&s.st[i].ts, 4, 0) != 4)
			return 1;
	}
	send_loop(fd, &s, o, au, aulen);
	getrusage(RUSAGE_SELF, &ru);
	printf("sent=%" PRIu64 " syscalls=%" PRIu64 " cpu_s=%.2f\n", s.sent,
	       s.calls, (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	close(fd);
	free(au);
	return 0;
}

/* ---- options ---- */

static int
parse_common(const char *k, const char *v, unsigned int *streams,
	     double *seconds)
{
	if (strcmp(k, "--streams") == 0)
		*streams = (unsigned int)arg_ul(k, v, PEER_MAX_STREAMS);
	else if (strcmp(k, "--seconds") == 0)
		*seconds = (double)arg_ul(k, v, 3600);
	else
		return 0;
	return 1;
}

static int
main_recv(int argc, char **argv)
{
	struct recv_opts o = { .settle = 1, .wait = 30 };
	int i;

	for (i = 0; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(k, "--usr1") == 0) {
			o.usr1 = 1;
			continue;
		}
		i++;
		if (parse_common(k, v, &o.streams, &o.seconds))
			continue;
		if (strcmp(k, "--port") == 0)
			o.port = (uint16_t)arg_ul(k, v, 65534);
		else if (strcmp(k, "--pid") == 0)
			o.pid = (long)arg_ul(k, v, 1ul << 30);
		else if (strcmp(k, "--settle") == 0)
			o.settle = (double)arg_ul(k, v, 600);
		else if (strcmp(k, "--wait") == 0)
			o.wait = (double)arg_ul(k, v, 600);
		else
			return fputs(usage, stderr), 2;
	}
	if (o.port == 0 || o.streams == 0 || o.seconds == 0)
		return fputs(usage, stderr), 2;
	return recv_run(&o);
}

static int
main_send(int argc, char **argv)
{
	struct send_opts o = { .tick_us = 1000 };
	int i, have = 0;

	for (i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (parse_common(k, v, &o.streams, &o.seconds))
			continue;
		if (strcmp(k, "--src") == 0)
			addr_parse(v, 0, &o.src), have |= 1;
		else if (strcmp(k, "--dst") == 0)
			addr_parse(v, 0, &o.dst), have |= 2;
		else if (strcmp(k, "--au") == 0)
			o.au = v;
		else if (strcmp(k, "--tick-us") == 0)
			o.tick_us = (unsigned int)arg_ul(k, v, 1000000);
		else
			return fputs(usage, stderr), 2;
	}
	if (i != argc || have != 3 || o.au == NULL || o.streams == 0 ||
	    o.seconds == 0 || o.dst.sin_port == 0)
		return fputs(usage, stderr), 2;
	return send_run(&o);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "recv") == 0)
		return main_recv(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "send") == 0)
		return main_send(argc - 2, argv + 2);
	fputs(usage, stderr);
	return 2;
}
