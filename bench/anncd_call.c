/* anncd-call: the mail client's half of a streamed attachment (RFC 5616).
 * It gets a pawn-ticket URL for an audio part from the IMAP server, hands
 * it to a media server in an announcement INVITE (RFC 4240 section 3),
 * listens to the RTP that comes back and says how well it matched the part.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_param.h"
#include "bench/call.h"

double call_deadline;

static const char usage[] =
"usage: anncd-call [options] --server HOST:PORT\n"
"Gets a URLAUTH URL for the first audio or video part of a message, asks\n"
"a media server to play it (RFC 5616), records and checks what comes back.\n"
"\n"
"IMAP (RFC 3501, RFC 4467):\n"
"  --imap HOST:PORT     IMAP server; also the URL authority, so it must\n"
"                       match the server's own name (127.0.0.1:PORT)\n"
"  --user U             mailbox owner\n"
"  --pass-file FILE     file holding U's password (first line)\n"
"  --mailbox M          mailbox (default INBOX)\n"
"  --uid N              UID of the message\n"
"  --access A           URLAUTH access: anonymous (default), authuser,\n"
"                       or any other RFC 4467 access identifier\n"
"  --expire SECS        ;EXPIRE= this far ahead (default 3600)\n"
"or, without IMAP:\n"
"  --play-url URL       play this URL; the identical check is 'unknown'\n"
"  --content-type T     content-type parameter (also overrides IMAP's)\n"
"  --cte E              content-transfer-encoding (also overrides IMAP's;\n"
"                       empty leaves the parameter out)\n"
"URL in the INVITE:\n"
"  --escape pct|raw     %-escape the play URL as RFC 3261 requires\n"
"                       (default), or put it raw as the draft's examples\n"
"  --tamper-token       change the last hex digit of the URLAUTH token\n"
"SIP and RTP (RFC 3261, RFC 3550):\n"
"  --netns NAME         after IMAP, join /var/run/netns/NAME\n"
"  --server HOST:PORT   media server; repeat to try the next on a 404 or\n"
"                       no response (RFC 5616 section 2.3)\n"
"  --local IP           address for SIP and RTP (default 127.0.0.1)\n"
"  --sip-port P         local SIP port (default 5062)\n"
"  --rtp-port P         local RTP port, even (default 30000); RTCP on P+1\n"
"  --codecs LIST        offered codecs: PCMU,PCMA,GSM,G722,L16,MPA,G729\n"
"                       or numbers (default PCMU,PCMA)\n"
"  --offer KIND:FMT[|FMT...]\n"
"                       one m= line instead of --codecs' (repeat: more\n"
"                       lines, stream i on --rtp-port + 2 i); FMT is a\n"
"                       static type or PT=NAME/CLOCK[/CH][;FMTP], e.g.\n"
"                       audio:96=AMR/8000;octet-align=1 or video:32\n"
"  --ptime MS           a=ptime of the offer (default 20)\n"
"  --direction D        sendrecv (default), recvonly, sendonly or inactive\n"
"  --sdp-addr IP        address in the offer's c= line (default --local)\n"
"  --timeout SECS       bound on the whole run (default 60); at it the\n"
"                       call is hung up with our own BYE (bye=no)\n"
"  --linger MS          listen this long after the BYE (default 500)\n"
"  --ack-after N        hold the ACK until the Nth copy of the 2xx has come\n"
"                       (default 1), to see the server retransmit it\n"
"  --out FILE           write what was heard as a .au file\n"
"  --verbose            print SIP start lines on stderr\n"
"\n"
"The last line of output is:\n"
"  result=<code> reason=\"<phrase>\" setup_ms=<f> packets=<n> bytes=<n>\n"
"  lost=<n> seq_errors=<n> ts_errors=<n> ssrcs=<n> marker_first=<yes|no>\n"
"  jitter_ms=<f> spacing_ms=<f> bye=<yes|no> bye_after_last=<yes|no>\n"
"  rtp_after_bye=<n> identical=<yes|no|unknown> ok_copies=<n> rtcp=<n>\n"
"  rtcp_sr=<n> rtcp_bye=<n>\n"
"result is the final SIP status (0: none). Packets after the server's BYE\n"
"count only in rtp_after_bye. Exit: 0 answered, BYE received and payload\n"
"not different; 2 refused (>= 300 from the last server tried); 1 else.\n";

double
call_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
call_resolve(const char *hostport, uint16_t def_port,
	     struct sockaddr_in *sa)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	const char *colon = strrchr(hostport, ':');
	char host[256], port[8];
	size_t hn = colon ? (size_t)(colon - hostport) : strlen(hostport);

	if (hn == 0 || hn >= sizeof(host))
		return -EINVAL;
	memcpy(host, hostport, hn);
	host[hn] = '\0';
	snprintf(port, sizeof(port), "%s", colon ? colon + 1 : "");
	if (colon == NULL)
		snprintf(port, sizeof(port), "%u", def_port);
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "cannot resolve %s\n", hostport);
		return -EINVAL;
	}
	memcpy(sa, res->ai_addr, sizeof(*sa));
	freeaddrinfo(res);
	return 0;
}

static const struct {
	const char *name;
	unsigned int pt, clock;
} codecs[] = {
	/* RFC 3551 section 6, tables 4 and 5: the static types offered */
	{ "PCMU", 0, 8000 },
	{ "GSM", 3, 8000 },
	{ "PCMA", 8, 8000 },
	{ "G722", 9, 8000 },	/* 8000 despite 16 kHz sampling */
	{ "L16", 11, 44100 },	/* mono; 10 is stereo */
	{ "MPA", 14, 90000 },
	{ "G729", 18, 8000 },
	{ "MPV", 32, 90000 },
};

const char *
call_codec_name(unsigned int pt, unsigned int *clock)
{
	size_t i;

	for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (codecs[i].pt == pt) {
			*clock = codecs[i].clock;
			return codecs[i].name;
		}
	}
	return NULL;
}

int
call_codec_pt(const char *name, unsigned long *pt)
{
	size_t i;

	for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (strcasecmp(name, codecs[i].name) == 0 ||
		    (isdigit((unsigned char)name[0]) &&
		     strtoul(name, NULL, 10) == codecs[i].pt)) {
			*pt = codecs[i].pt;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_codecs(const char *list, struct call_opts *o)
{
	char buf[256], *tok, *save = NULL;
	unsigned long pt;

	snprintf(buf, sizeof(buf), "%s", list);
	o->n_pts = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (call_codec_pt(tok, &pt) < 0 || o->n_pts == CALL_MAX_CODECS)
			return -EINVAL;
		o->pts[o->n_pts++] = (uint8_t)pt;
	}
	return o->n_pts > 0 ? 0 : -EINVAL;
}

/* ";play=...;content-type=...;content-transfer-encoding=..." */
static int
ruri_params(const struct call_opts *o, const struct call_media *m,
	    char *out, size_t cap)
{
	char url[CALL_URL_MAX * 3], ct[400], cte[200];
	int n;

	if (bench_param_escape(url, sizeof(url), m->url, o->escape_raw) < 0 ||
	    bench_param_escape(ct, sizeof(ct), m->ctype, 0) < 0 ||
	    bench_param_escape(cte, sizeof(cte), m->cte, 0) < 0)
		return -ENAMETOOLONG;
	n = snprintf(out, cap, ";play=%s%s%s%s%s", url,
		     ct[0] ? ";content-type=" : "", ct,
		     cte[0] ? ";content-transfer-encoding=" : "", cte);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The pawn ticket ends the URL: ":internal:" and the token in hex. */
static void
tamper_token(char *url)
{
	size_t n = strlen(url);

	if (n == 0)
		return;
	url[n - 1] = url[n - 1] == '0' ? '1' : '0';
}

static int
join_netns(const char *name)
{
	char path[300];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		rc = -errno;
		fprintf(stderr, "netns %s: %s\n", path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

enum {
	OPT_IMAP = 256, OPT_USER, OPT_PASS, OPT_MAILBOX, OPT_UID, OPT_ACCESS,
	OPT_EXPIRE, OPT_PLAY, OPT_CT, OPT_CTE, OPT_ESCAPE, OPT_TAMPER,
	OPT_NETNS, OPT_SERVER, OPT_LOCAL, OPT_SIP_PORT, OPT_RTP_PORT,
	OPT_CODECS, OPT_PTIME, OPT_DIR, OPT_TIMEOUT, OPT_LINGER, OPT_ACK_AFTER,
	OPT_SDP_ADDR, OPT_OUT, OPT_OFFER,
	OPT_VERBOSE, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "imap", required_argument, NULL, OPT_IMAP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "pass-file", required_argument, NULL, OPT_PASS },
	{ "mailbox", required_argument, NULL, OPT_MAILBOX },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "access", required_argument, NULL, OPT_ACCESS },
	{ "expire", required_argument, NULL, OPT_EXPIRE },
	{ "play-url", required_argument, NULL, OPT_PLAY },
	{ "content-type", required_argument, NULL, OPT_CT },
	{ "cte", required_argument, NULL, OPT_CTE },
	{ "escape", required_argument, NULL, OPT_ESCAPE },
	{ "tamper-token", no_argument, NULL, OPT_TAMPER },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "sip-port", required_argument, NULL, OPT_SIP_PORT },
	{ "rtp-port", required_argument, NULL, OPT_RTP_PORT },
	{ "codecs", required_argument, NULL, OPT_CODECS },
	{ "offer", required_argument, NULL, OPT_OFFER },
	{ "ptime", required_argument, NULL, OPT_PTIME },
	{ "direction", required_argument, NULL, OPT_DIR },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "ack-after", required_argument, NULL, OPT_ACK_AFTER },
	{ "sdp-addr", required_argument, NULL, OPT_SDP_ADDR },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* A number option within [lo, hi], or -EINVAL. */
static int
opt_num(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || *v < lo || *v > hi)
		return -EINVAL;
	return 0;
}

/* Options of the IMAP side and of the URL: 1 when c is not one of them. */
static int
opt_url(struct call_opts *o, int c, const char *arg)
{
	double v;

	switch (c) {
	case OPT_IMAP: o->imap = arg; return 0;
	case OPT_USER: o->user = arg; return 0;
	case OPT_PASS: o->pass_file = arg; return 0;
	case OPT_MAILBOX: o->mailbox = arg; return 0;
	case OPT_ACCESS: o->access = arg; return 0;
	case OPT_PLAY: o->play_url = arg; return 0;
	case OPT_CT: o->content_type = arg; return 0;
	case OPT_CTE: o->cte = arg; return 0;
	case OPT_TAMPER: o->tamper_token = 1; return 0;
	case OPT_NETNS: o->netns = arg; return 0;
	case OPT_UID:
		if (opt_num(arg, 1, 4294967295.0, &v) < 0)
			return -EINVAL;
		o->uid = (unsigned long)v;
		return 0;
	case OPT_EXPIRE:
		if (opt_num(arg, 1, 1e9, &v) < 0)
			return -EINVAL;
		o->expire_s = (unsigned long)v;
		return 0;
	case OPT_ESCAPE:
		o->escape_raw = strcmp(arg, "raw") == 0;
		return o->escape_raw || strcmp(arg, "pct") == 0 ? 0 : -EINVAL;
	}
	return 1;
}

static int
opt_call(struct call_opts *o, int c, const char *arg)
{
	double v;

	switch (c) {
	case OPT_SERVER:
		if (o->n_servers == CALL_MAX_SERVERS)
			return -E2BIG;
		o->servers[o->n_servers++] = arg;
		return 0;
	case OPT_LOCAL: o->local = arg; return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_VERBOSE: o->verbose = 1; return 0;
	case OPT_CODECS: return parse_codecs(arg, o);
	case OPT_OFFER: return call_offer_parse(arg, o);
	case OPT_SIP_PORT:
	case OPT_RTP_PORT:
		if (opt_num(arg, 1, 65534, &v) < 0)
			return -EINVAL;
		if (c == OPT_SIP_PORT)
			o->sip_port = (uint16_t)v;
		else
			o->rtp_port = (uint16_t)v;
		return c == OPT_RTP_PORT && o->rtp_port % 2 ? -EINVAL : 0;
	case OPT_PTIME:
		if (opt_num(arg, 1, 1000, &v) < 0)
			return -EINVAL;
		o->ptime = (unsigned int)v;
		return 0;
	case OPT_DIR:
		if (strcmp(arg, "sendrecv") != 0 && strcmp(arg, "recvonly") != 0 &&
		    strcmp(arg, "sendonly") != 0 && strcmp(arg, "inactive") != 0)
			return -EINVAL;
		o->direction = arg;
		return 0;
	case OPT_SDP_ADDR:
		o->sdp_addr = arg;
		return 0;
	case OPT_TIMEOUT:
		return opt_num(arg, 0.1, 86400, &o->timeout_s);
	case OPT_LINGER:
		if (opt_num(arg, 0, 60000, &v) < 0)
			return -EINVAL;
		o->linger_ms = (unsigned int)v;
		return 0;
	case OPT_ACK_AFTER:
		if (opt_num(arg, 1, 10, &v) < 0)
			return -EINVAL;
		o->ack_after = (unsigned int)v;
		return 0;
	}
	return 1;
}

static int
parse_opts(int argc, char **argv, struct call_opts *o)
{
	int c, rc;

	*o = (struct call_opts){ .mailbox = "INBOX", .access = "anonymous",
				 .expire_s = 3600, .local = "127.0.0.1",
				 .sip_port = 5062, .rtp_port = 30000,
				 .ptime = 20, .timeout_s = 60,
				 .linger_ms = 500, .ack_after = 1,
				 .direction = "sendrecv" };
	parse_codecs("PCMU,PCMA", o);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage, stdout);
			exit(0);
		}
		rc = opt_url(o, c, optarg);
		if (rc == 1)
			rc = opt_call(o, c, optarg);
		if (rc != 0) {
			fprintf(stderr, "anncd-call: bad option %s\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind != argc || o->n_servers == 0 || (o->play_url == NULL &&
	    (!o->imap || !o->user || !o->pass_file || !o->uid))) {
		fputs(usage, stderr);
		return -EINVAL;
	}
	return 0;
}

/* Where the URL and its type come from: IMAP, or the command line. */
static int
get_media(const struct call_opts *o, struct call_media *m)
{
	int rc = 0;

	if (o->play_url != NULL)
		snprintf(m->url, sizeof(m->url), "%s", o->play_url);
	else
		rc = call_imap_run(o, m);
	if (o->content_type != NULL)
		snprintf(m->ctype, sizeof(m->ctype), "%s", o->content_type);
	if (o->cte != NULL)
		snprintf(m->cte, sizeof(m->cte), "%s", o->cte);
	if (rc == 0 && o->tamper_token)
		tamper_token(m->url);
	return rc;
}

/* The pawn-ticket token is a bearer secret: shown only with --verbose,
 * else cut after its first 4 characters. */
static void
print_play_url(const char *url, int verbose)
{
	const char *tok = strcasestr(url, ";urlauth=");
	const char *last = tok ? strrchr(tok, ':') : NULL;

	if (verbose || last == NULL || strlen(last + 1) <= 4)
		printf("play_url=%s\n", url);
	else
		printf("play_url=%.*s...\n", (int)(last + 5 - url), url);
}

int
main(int argc, char **argv)
{
	static struct call_media media;
	static char params[CALL_URL_MAX * 3 + 1024];
	struct call_result res = { .answer_pt = -1 };
	struct rtp_store store = { 0 };
	struct call_opts o;
	int rc, code;

	if (parse_opts(argc, argv, &o) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	call_deadline = call_now() + o.timeout_s;
	rc = get_media(&o, &media);
	if (rc == 0) {
		print_play_url(media.url, o.verbose);
		rc = ruri_params(&o, &media, params, sizeof(params));
	}
	if (rc == 0 && o.netns != NULL)
		rc = join_netns(o.netns);
	if (rc == 0)
		rc = call_sip_run(&o, params, &store, &res);
	if (rc < 0 && media.error[0] != '\0')
		snprintf(res.reason, sizeof(res.reason), "%s", media.error);
	else if (rc < 0 && res.reason[0] == '\0')
		snprintf(res.reason, sizeof(res.reason), "local failure: %s",
			 strerror(-rc));
	code = call_report(&o, &media, &store, &res);
	rtp_store_free(&store);
	free(media.decoded);
	return rc < 0 ? 1 : code;
}
