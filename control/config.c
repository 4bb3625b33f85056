/* Command-line options of anncd (after the EAL's "--"), checked at start-up
 * so that a bad value stops the server with a message naming it instead of
 * surfacing in the middle of a call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/config.h"
#include "control/sip_msg.h"
#include "core/log.h"
#include "dataplane/dp_decode.h"

#define CFG_ERR(...) LOG_AT(LOGL_ERR, "cfg", __VA_ARGS__)

enum {
	OPT_SIP = 256,
	OPT_MEDIA_IP,
	OPT_RTP_PORTS,
	OPT_PORT,
	OPT_NEXTHOP,
	OPT_IMAP_ALLOW,
	OPT_CREDS,
	OPT_MAX_CALLS,
	OPT_MAX_CONTENT,
	OPT_IMAP_TIMEOUT,
	OPT_T1,
	OPT_T2,
	OPT_T4,
	OPT_SIP_TXNS,
	OPT_ARP_TIMEOUT,
	OPT_LOG_LEVEL,
	OPT_CACHE_BYTES,
	OPT_CACHE_ENTRIES,
	OPT_CACHE_NEG,
	OPT_IMAP_CA,
	OPT_IMAP_IDLE,
	OPT_IMAP_MAX_CONNS,
	OPT_IMAP_PLAIN_OK,
	OPT_ANSWER_DIR,
	OPT_MAX_REPEAT,
	OPT_MAX_CALL_MS,
	OPT_MIN_SE,
	OPT_DECODE_SLICE,
	OPT_SIP_TCP,
	OPT_SIP_TLS,
	OPT_SIP_TLS_CERT,
	OPT_SIP_TLS_KEY,
	OPT_SIP_MAX_CONNS,
	OPT_SIP_MAX_MSG,
	OPT_SIP_IDLE,
	OPT_SIP_MAX_HDRS,
	OPT_SIP_MAX_LINE,
	OPT_SIP_CONNECT,
	OPT_SIP_TLS_VERIFY,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "sip", required_argument, NULL, OPT_SIP },
	{ "media-ip", required_argument, NULL, OPT_MEDIA_IP },
	{ "rtp-ports", required_argument, NULL, OPT_RTP_PORTS },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "nexthop-mac", required_argument, NULL, OPT_NEXTHOP },
	{ "imap-allow", required_argument, NULL, OPT_IMAP_ALLOW },
	{ "imap-credentials", required_argument, NULL, OPT_CREDS },
	{ "max-calls", required_argument, NULL, OPT_MAX_CALLS },
	{ "max-content-bytes", required_argument, NULL, OPT_MAX_CONTENT },
	{ "imap-timeout-ms", required_argument, NULL, OPT_IMAP_TIMEOUT },
	{ "sip-t1-ms", required_argument, NULL, OPT_T1 },
	{ "sip-t2-ms", required_argument, NULL, OPT_T2 },
	{ "sip-t4-ms", required_argument, NULL, OPT_T4 },
	{ "sip-transactions", required_argument, NULL, OPT_SIP_TXNS },
	{ "arp-timeout-ms", required_argument, NULL, OPT_ARP_TIMEOUT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "cache-bytes", required_argument, NULL, OPT_CACHE_BYTES },
	{ "cache-entries", required_argument, NULL, OPT_CACHE_ENTRIES },
	{ "cache-negative-ms", required_argument, NULL, OPT_CACHE_NEG },
	{ "imap-ca", required_argument, NULL, OPT_IMAP_CA },
	{ "imap-idle-ms", required_argument, NULL, OPT_IMAP_IDLE },
	{ "imap-max-conns", required_argument, NULL, OPT_IMAP_MAX_CONNS },
	{ "imap-plaintext-ok", required_argument, NULL, OPT_IMAP_PLAIN_OK },
	{ "answer-direction", required_argument, NULL, OPT_ANSWER_DIR },
	{ "max-repeat", required_argument, NULL, OPT_MAX_REPEAT },
	{ "max-call-ms", required_argument, NULL, OPT_MAX_CALL_MS },
	{ "min-se-s", required_argument, NULL, OPT_MIN_SE },
	{ "decode-slice-bytes", required_argument, NULL, OPT_DECODE_SLICE },
	{ "sip-tcp", required_argument, NULL, OPT_SIP_TCP },
	{ "sip-tls", required_argument, NULL, OPT_SIP_TLS },
	{ "sip-tls-cert", required_argument, NULL, OPT_SIP_TLS_CERT },
	{ "sip-tls-key", required_argument, NULL, OPT_SIP_TLS_KEY },
	{ "sip-max-connections", required_argument, NULL, OPT_SIP_MAX_CONNS },
	{ "sip-max-message-bytes", required_argument, NULL, OPT_SIP_MAX_MSG },
	{ "sip-idle-ms", required_argument, NULL, OPT_SIP_IDLE },
	{ "sip-max-headers", required_argument, NULL, OPT_SIP_MAX_HDRS },
	{ "sip-max-line-bytes", required_argument, NULL, OPT_SIP_MAX_LINE },
	{ "sip-connect-timeout-ms", required_argument, NULL, OPT_SIP_CONNECT },
	{ "sip-tls-verify", required_argument, NULL, OPT_SIP_TLS_VERIFY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* The text of --help; its one %s is the program's name. */
static const char config_usage_text[] =
	"usage: %s [EAL options] -- [anncd options]\n"
	"\n"
	"anncd options:\n"
	"  --sip IP:PORT              SIP UDP listen address (default 0.0.0.0:5060)\n"
	"  --sip-tcp IP:PORT          SIP over TCP listen address (default: none)\n"
	"  --sip-tls IP:PORT          SIP over TLS listen address (default: none);\n"
	"                             needs --sip-tls-cert and --sip-tls-key\n"
	"  --sip-tls-cert FILE        PEM certificate chain for --sip-tls\n"
	"  --sip-tls-key FILE         PEM private key for --sip-tls\n"
	"  --sip-max-connections N    TCP and TLS connections open at once; more are\n"
	"                             closed on accept (default 1024)\n"
	"  --sip-max-message-bytes N  largest SIP message, any transport\n"
	"                             (default 65535, 1024..65535)\n"
	"  --sip-idle-ms N            close a connection silent this long, or whose\n"
	"                             message is not whole this long (default 120000)\n"
	"  --sip-max-headers N        header fields in one SIP message; more get 400\n"
	"                             (default 256, 8..65535)\n"
	"  --sip-max-line-bytes N     bytes of one SIP header field; more get 400\n"
	"                             (default 8192, 64..65535)\n"
	"  --sip-connect-timeout-ms N give up a TCP or TLS connection anncd opens\n"
	"                             (handshake included) after this long, dropping\n"
	"                             what waits on it (default 10000, 100..120000)\n"
	"  --sip-tls-verify none|system|FILE\n"
	"                             check the certificate of a TLS peer anncd\n"
	"                             connects to: not at all (default: phones'\n"
	"                             are mostly self-signed), against the system\n"
	"                             store, or against the CAs in FILE\n"
	"  --media-ip IP              RTP source address, put in the SDP answer (required)\n"
	"  --rtp-ports MIN-MAX        RTP source ports, one even port per call\n"
	"                             (default 40000-49999)\n"
	"  --port N                   DPDK port that sends the media (default 0)\n"
	"  --nexthop-mac MAC          send all media to this MAC instead of using ARP\n"
	"  --imap-allow HOST:PORT[/imaps|/starttls|/plain],...\n"
	"                             IMAP servers anncd may fetch from, and how: TLS\n"
	"                             from the start, STARTTLS, or none (default); a\n"
	"                             URL for any other server is refused unconnected\n"
	"  --imap-plaintext-ok HOST:PORT,...\n"
	"                             allowed servers that may get credentials without\n"
	"                             TLS (a loopback test server, say)\n"
	"  --imap-ca FILE             CA certificates for IMAP TLS (default: the\n"
	"                             system store)\n"
	"  --imap-idle-ms N           close a pooled IMAP connection unused this long\n"
	"                             (default 30000; NOOP at half of it)\n"
	"  --imap-max-conns N         IMAP connections per server and identity; more\n"
	"                             fetches are pipelined on them (default 4)\n"
	"  --imap-credentials FILE    lines 'HOST:PORT USER PASSWORD' used for\n"
	"                             authuser, user+ and submit+ URLs\n"
	"  --max-calls N              concurrent calls before 503 (default 1024)\n"
	"  --max-content-bytes N      largest URLFETCH literal accepted\n"
	"                             (default 16777216)\n"
	"  --imap-timeout-ms N        whole fetch, connect to tagged OK (default 10000)\n"
	"  --decode-slice-bytes N     base64 the dataplane decodes between two pacing\n"
	"                             rounds (default 16384, 1..1048576)\n"
	"  --sip-t1-ms N              RFC 3261 T1 (default 500)\n"
	"  --sip-t2-ms N              RFC 3261 T2 (default 4000)\n"
	"  --sip-t4-ms N              RFC 3261 T4: how long a refusal's ACK copies\n"
	"                             are absorbed over UDP, timer I (default 5000,\n"
	"                             0..60000)\n"
	"  --sip-transactions N       answers kept for retransmitted\n"
	"                             requests (default 16384)\n"
	"  --arp-timeout-ms N         give up resolving a caller's MAC (default 3000)\n"
	"  --log-level LEVEL          error, warn, info or debug (default info)\n"
	"  --cache-bytes N            decoded contents kept for later calls\n"
	"                             (default 268435456)\n"
	"  --cache-entries N          URLs remembered, fetching, held or failed\n"
	"                             (default 4096)\n"
	"  --cache-negative-ms N      how long a failed fetch is answered from memory\n"
	"                             (default 5000; 0: never)\n"
	"  --answer-direction DIR     answer a sendrecv offer sendonly (default) or\n"
	"                             sendrecv, for phones that play nothing\n"
	"                             answered sendonly; recvonly gets sendonly\n"
	"  --max-repeat N             plays of one call at most; repeat=forever\n"
	"                             means this many (default 100)\n"
	"  --max-call-ms N            longest call, whatever duration= says\n"
	"                             (default 3600000)\n"
	"  --min-se-s N               shortest session interval taken, RFC\n"
	"                             4028 Min-SE (default 90)\n"
	"  --help                     this text\n"
	"\n"
	"EAL options are DPDK's (see its EAL parameters guide); anncd needs\n"
	"two lcores.  Without a NIC or hugepages, for example:\n"
	"  --no-huge -m 512 --no-shconf --no-pci -l 0,1 \\\n"
	"  --vdev=net_af_packet0,iface=IFACE\n";

void
config_usage(const char *prog)
{
	printf(config_usage_text, prog);
}

static int
parse_u32(const char *opt, const char *s, unsigned long min, unsigned long max,
	  unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max) {
		CFG_ERR("--%s: '%s' is not a number in %lu..%lu", opt, s,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Splits "host:port" (the host may be an IPv4 address or a name). */
static int
split_hostport(const char *opt, const char *s, char *host, size_t cap,
	       uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned long p;
	size_t n;

	if (colon == NULL || colon == s) {
		CFG_ERR("--%s: '%s' is not HOST:PORT", opt, s);
		return -1;
	}
	n = (size_t)(colon - s);
	if (n >= cap) {
		CFG_ERR("--%s: host in '%s' is too long", opt, s);
		return -1;
	}
	if (parse_u32(opt, colon + 1, 1, 65535, &p) < 0)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static int
resolve4(const char *opt, const char *host, uint16_t port,
	 struct sockaddr_in *sa)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		CFG_ERR("--%s: cannot resolve '%s': %s", opt, host,
			gai_strerror(rc));
		return -1;
	}
	memcpy(sa, res->ai_addr, sizeof(*sa));
	sa->sin_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

/* --sip, --sip-tcp and --sip-tls: an IPv4 address and a port. */
static int
parse_sip(const char *opt, const char *s, struct sockaddr_in *sa)
{
	char host[64];
	uint16_t port;

	if (split_hostport(opt, s, host, sizeof(host), &port) < 0)
		return -1;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		CFG_ERR("--%s: '%s' is not an IPv4 address", opt, host);
		return -1;
	}
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	return 0;
}

/* "none", "system" or a readable CA file. */
static int
parse_tls_verify(const char *arg, struct anncd_config *cfg)
{
	if (strcmp(arg, "none") == 0) {
		cfg->sip_tls_verify = NULL;
		return 0;
	}
	if (strcmp(arg, "system") != 0 && access(arg, R_OK) != 0) {
		CFG_ERR("--sip-tls-verify: '%s' is not none or system, and "
			"cannot be read: %s", arg, strerror(errno));
		return -1;
	}
	cfg->sip_tls_verify = arg;
	return 0;
}

/* What an operator sets for SIP over streams, and the parser limits. */
static int
parse_sip_stream(int opt, char *arg, struct anncd_config *cfg)
{
	unsigned long v;

	switch (opt) {
	case OPT_SIP_TCP:
		return parse_sip("sip-tcp", arg, &cfg->sip_tcp_addr);
	case OPT_SIP_TLS:
		return parse_sip("sip-tls", arg, &cfg->sip_tls_addr);
	case OPT_SIP_TLS_CERT:
	case OPT_SIP_TLS_KEY:
		if (access(arg, R_OK) != 0) {
			CFG_ERR("--sip-tls-%s: cannot read %s: %s",
				opt == OPT_SIP_TLS_CERT ? "cert" : "key", arg,
				strerror(errno));
			return -1;
		}
		*(opt == OPT_SIP_TLS_CERT ? &cfg->sip_tls_cert :
					    &cfg->sip_tls_key) = arg;
		return 0;
	case OPT_SIP_MAX_CONNS:
		if (parse_u32("sip-max-connections", arg, 1, 1u << 20, &v) < 0)
			return -1;
		cfg->sip_max_conns = (unsigned int)v;
		return 0;
	case OPT_SIP_MAX_MSG:
		if (parse_u32("sip-max-message-bytes", arg, 1024, 65535,
			      &v) < 0)
			return -1;
		cfg->sip_max_msg = v;
		return 0;
	case OPT_SIP_MAX_HDRS:
		if (parse_u32("sip-max-headers", arg, 8, 65535, &v) < 0)
			return -1;
		cfg->sip_max_headers = (unsigned int)v;
		return 0;
	case OPT_SIP_MAX_LINE:
		if (parse_u32("sip-max-line-bytes", arg, 64, 65535, &v) < 0)
			return -1;
		cfg->sip_max_line = v;
		return 0;
	case OPT_SIP_CONNECT:
		if (parse_u32("sip-connect-timeout-ms", arg, 100, 120000,
			      &v) < 0)
			return -1;
		cfg->sip_connect_ms = (unsigned int)v;
		return 0;
	case OPT_SIP_TLS_VERIFY:
		return parse_tls_verify(arg, cfg);
	}
	if (parse_u32("sip-idle-ms", arg, 1, 3600000, &v) < 0)
		return -1;
	cfg->sip_idle_ms = (unsigned int)v;
	return 0;
}

static int
parse_rtp_ports(const char *s, struct anncd_config *cfg)
{
	unsigned int lo, hi;
	char extra;

	if (sscanf(s, "%u-%u%c", &lo, &hi, &extra) != 2 || lo < 1024 ||
	    hi > 65535 || lo > hi || hi - lo < 1) {
		CFG_ERR("--rtp-ports: '%s' is not MIN-MAX within 1024-65535",
			s);
		return -1;
	}
	/* RTP takes the even port, RTCP the odd one above (RFC 3550 11). */
	cfg->rtp_port_min = (uint16_t)((lo + 1) & ~1u);
	cfg->rtp_port_max = (uint16_t)hi;
	return 0;
}

/* "HOST:PORT/MODE": the mode is cut off the item, which stays
 * HOST:PORT.
 */
static int
parse_security(char *item, enum imap_security *sec)
{
	char *slash = strrchr(item, '/');

	*sec = IMAP_SEC_PLAIN;
	if (slash == NULL)
		return 0;
	if (strcasecmp(slash + 1, "imaps") == 0)
		*sec = IMAP_SEC_IMAPS;
	else if (strcasecmp(slash + 1, "starttls") == 0)
		*sec = IMAP_SEC_STARTTLS;
	else if (strcasecmp(slash + 1, "plain") != 0) {
		CFG_ERR("--imap-allow: '%s' is not imaps, starttls or plain",
			slash + 1);
		return -1;
	}
	*slash = '\0';
	return 0;
}

static int
parse_imap_allow(char *s, struct anncd_config *cfg)
{
	char *save = NULL, *item;
	struct config_imap_server *srv;

	for (item = strtok_r(s, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (cfg->n_imap == CONFIG_MAX_IMAP_SERVERS) {
			CFG_ERR("--imap-allow: more than %d servers",
				CONFIG_MAX_IMAP_SERVERS);
			return -1;
		}
		srv = &cfg->imap[cfg->n_imap];
		if (parse_security(item, &srv->security) < 0 ||
		    split_hostport("imap-allow", item, srv->host,
				   sizeof(srv->host), &srv->port) < 0 ||
		    resolve4("imap-allow", srv->host, srv->port,
			     &srv->addr) < 0)
			return -1;
		cfg->n_imap++;
	}
	return 0;
}

static int
parse_cred_line(const char *path, int lineno, char *line,
		struct anncd_config *cfg)
{
	struct config_cred *cr = &cfg->creds[cfg->n_creds];
	char extra[2];

	if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
		return 0;
	if (cfg->n_creds == CONFIG_MAX_CREDS) {
		CFG_ERR("%s:%d: more than %d credentials", path, lineno,
			CONFIG_MAX_CREDS);
		return -1;
	}
	if (sscanf(line, "%269s %127s %127s %1s", cr->hostport, cr->user,
		   cr->pass, extra) != 3) {
		CFG_ERR("%s:%d: expected 'HOST:PORT USER PASSWORD'", path,
			lineno);
		return -1;
	}
	cfg->n_creds++;
	return 0;
}

static int
load_creds(const char *path, struct anncd_config *cfg)
{
	char line[600];
	struct stat st;
	int lineno = 0, rc = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		CFG_ERR("--imap-credentials: open(%s) failed: %s", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077) != 0)
		LOG_AT(LOGL_WARN, "cfg", "%s is readable by group or others",
		       path);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = parse_cred_line(path, ++lineno, line, cfg);
	fclose(f);
	return rc;
}

static void
config_defaults(struct anncd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sip_addr.sin_family = AF_INET;
	cfg->sip_addr.sin_port = htons(5060);
	cfg->rtp_port_min = 40000;
	cfg->rtp_port_max = 49999;
	cfg->max_calls = 1024;
	cfg->max_content = 16u << 20;
	cfg->imap_timeout_ms = 10000;
	cfg->decode_slice = DP_DECODE_SLICE_DEFAULT;
	cfg->imap_idle_ms = 30000;
	cfg->imap_max_conns = 4;
	cfg->t1_ms = 500;
	cfg->t2_ms = 4000;
	cfg->t4_ms = 5000;
	cfg->sip_transactions = 16384;
	cfg->sip_max_conns = 1024;
	cfg->sip_max_msg = 65535;
	cfg->sip_idle_ms = 120000;
	cfg->sip_connect_ms = 10000;
	cfg->sip_max_headers = SIP_MAX_HEADERS_DEFAULT;
	cfg->sip_max_line = SIP_MAX_LINE_BYTES_DEFAULT;
	cfg->arp_timeout_ms = 3000;
	cfg->log_level = LOGL_INFO;
	cfg->cache_bytes = 256u << 20;
	cfg->cache_entries = 4096;
	cfg->cache_negative_ms = 5000;
	cfg->answer_dir = SDP_SENDONLY;
	cfg->max_repeat = 100;
	cfg->max_call_ms = 3600000;
	cfg->min_se_s = 90;
}

static int
parse_cache(int opt, const char *arg, struct anncd_config *cfg)
{
	unsigned long v;

	switch (opt) {
	case OPT_CACHE_BYTES:
		if (parse_u32("cache-bytes", arg, 0, ULONG_MAX, &v) < 0)
			return -1;
		cfg->cache_bytes = v;
		return 0;
	case OPT_CACHE_ENTRIES:
		if (parse_u32("cache-entries", arg, 1, 1u << 24, &v) < 0)
			return -1;
		cfg->cache_entries = (unsigned int)v;
		return 0;
	case OPT_CACHE_NEG:
		if (parse_u32("cache-negative-ms", arg, 0, 3600000, &v) < 0)
			return -1;
		cfg->cache_negative_ms = (unsigned int)v;
		return 0;
	case OPT_MAX_REPEAT:
		if (parse_u32("max-repeat", arg, 1, 1000000, &v) < 0)
			return -1;
		cfg->max_repeat = (uint32_t)v;
		return 0;
	case OPT_MAX_CALL_MS:
		/* A day: the RTP timestamp of a 90 kHz clock wraps in 13. */
		if (parse_u32("max-call-ms", arg, 1000, 86400000, &v) < 0)
			return -1;
		cfg->max_call_ms = (uint32_t)v;
		return 0;
	case OPT_MIN_SE:
		/* RFC 4028 section 5: never under 90 s. */
		if (parse_u32("min-se-s", arg, 90, 86400, &v) < 0)
			return -1;
		cfg->min_se_s = (uint32_t)v;
		return 0;
	}
	return -1;
}

/* RFC 3261 timer values (section 17.1.1.1, table 4). */
static int
parse_sip_timer(int opt, const char *arg, struct anncd_config *cfg)
{
	unsigned long v;

	switch (opt) {
	case OPT_T1:
		if (parse_u32("sip-t1-ms", arg, 1, 60000, &v) < 0)
			return -1;
		cfg->t1_ms = (unsigned int)v;
		return 0;
	case OPT_T2:
		if (parse_u32("sip-t2-ms", arg, 1, 600000, &v) < 0)
			return -1;
		cfg->t2_ms = (unsigned int)v;
		return 0;
	}
	/* 0: a copy of the ACK that comes after it is dropped unmatched. */
	if (parse_u32("sip-t4-ms", arg, 0, 60000, &v) < 0)
		return -1;
	cfg->t4_ms = (unsigned int)v;
	return 0;
}

static int
parse_limit(int opt, const char *arg, struct anncd_config *cfg)
{
	unsigned long v;

	switch (opt) {
	case OPT_PORT:
		if (parse_u32("port", arg, 0, RTE_MAX_ETHPORTS - 1, &v) < 0)
			return -1;
		cfg->port_id = (uint16_t)v;
		return 0;
	case OPT_MAX_CALLS:
		if (parse_u32("max-calls", arg, 1, 1u << 20, &v) < 0)
			return -1;
		cfg->max_calls = (unsigned int)v;
		return 0;
	case OPT_MAX_CONTENT:
		if (parse_u32("max-content-bytes", arg, 1, 1ul << 30, &v) < 0)
			return -1;
		cfg->max_content = v;
		return 0;
	case OPT_IMAP_IDLE:
		if (parse_u32("imap-idle-ms", arg, 0, 3600000, &v) < 0)
			return -1;
		cfg->imap_idle_ms = (unsigned int)v;
		return 0;
	case OPT_IMAP_MAX_CONNS:
		if (parse_u32("imap-max-conns", arg, 1, 64, &v) < 0)
			return -1;
		cfg->imap_max_conns = (unsigned int)v;
		return 0;
	case OPT_IMAP_TIMEOUT:
		if (parse_u32("imap-timeout-ms", arg, 1, 3600000, &v) < 0)
			return -1;
		cfg->imap_timeout_ms = (unsigned int)v;
		return 0;
	case OPT_T1:
	case OPT_T2:
	case OPT_T4:
		return parse_sip_timer(opt, arg, cfg);
	case OPT_SIP_TXNS:
		if (parse_u32("sip-transactions", arg, 1, 1u << 20, &v) < 0)
			return -1;
		cfg->sip_transactions = (unsigned int)v;
		return 0;
	case OPT_ARP_TIMEOUT:
		if (parse_u32("arp-timeout-ms", arg, 1, 60000, &v) < 0)
			return -1;
		cfg->arp_timeout_ms = (unsigned int)v;
		return 0;
	}
	return parse_cache(opt, arg, cfg);
}

/* The dataplane decodes base64 in slices between pacing rounds: a slice
 * too large delays every stream's next packet by its decode time.
 */
static int
parse_decode_slice(const char *arg, struct anncd_config *cfg)
{
	unsigned long v;

	if (parse_u32("decode-slice-bytes", arg, DP_DECODE_SLICE_MIN,
		      DP_DECODE_SLICE_MAX, &v) < 0)
		return -1;
	cfg->decode_slice = (unsigned int)v;
	return 0;
}

/* RFC 3264 section 6.1 lets a sendrecv offer be answered sendonly or
 * sendrecv; anncd never receives, so nothing else is offered here. */
static int
parse_answer_dir(const char *arg, struct anncd_config *cfg)
{
	if (strcmp(arg, "sendonly") == 0)
		cfg->answer_dir = SDP_SENDONLY;
	else if (strcmp(arg, "sendrecv") == 0)
		cfg->answer_dir = SDP_SENDRECV;
	else {
		CFG_ERR("--answer-direction: '%s' is not sendonly or sendrecv",
			arg);
		return -1;
	}
	return 0;
}

static int
parse_one(int opt, char *arg, struct anncd_config *cfg)
{
	int lvl;

	/* The stream options are one run of the enum. */
	if (opt >= OPT_SIP_TCP && opt <= OPT_SIP_TLS_VERIFY)
		return parse_sip_stream(opt, arg, cfg);
	switch (opt) {
	case OPT_SIP:
		return parse_sip("sip", arg, &cfg->sip_addr);
	case OPT_MEDIA_IP:
		if (inet_pton(AF_INET, arg, &cfg->media_ip) == 1)
			return 0;
		CFG_ERR("--media-ip: '%s' is not an IPv4 address", arg);
		return -1;
	case OPT_RTP_PORTS:
		return parse_rtp_ports(arg, cfg);
	case OPT_NEXTHOP:
		if (rte_ether_unformat_addr(arg, &cfg->nexthop_mac) == 0) {
			cfg->has_nexthop = 1;
			return 0;
		}
		CFG_ERR("--nexthop-mac: '%s' is not a MAC address", arg);
		return -1;
	case OPT_IMAP_ALLOW:
		return parse_imap_allow(arg, cfg);
	case OPT_CREDS:
		return load_creds(arg, cfg);
	case OPT_IMAP_CA:
		if (access(arg, R_OK) == 0) {
			cfg->imap_ca = arg;
			return 0;
		}
		CFG_ERR("--imap-ca: cannot read %s: %s", arg, strerror(errno));
		return -1;
	case OPT_IMAP_PLAIN_OK:
		cfg->imap_plaintext_ok = arg;
		return 0;
	case OPT_ANSWER_DIR:
		return parse_answer_dir(arg, cfg);
	case OPT_DECODE_SLICE:
		return parse_decode_slice(arg, cfg);
	case OPT_LOG_LEVEL:
		lvl = log_level_parse(arg);
		if (lvl >= 0) {
			cfg->log_level = lvl;
			return 0;
		}
		CFG_ERR("--log-level: '%s' is not error, warn, info or debug",
			arg);
		return -1;
	}
	return parse_limit(opt, arg, cfg);
}

/* After all options: each --imap-plaintext-ok entry must name an entry of
 * the allow list, whatever the order on the command line. */
static int
mark_plaintext_ok(char *s, struct anncd_config *cfg)
{
	char *save = NULL, *item, host[256];
	struct config_imap_server *srv;
	uint16_t port;

	for (item = strtok_r(s, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (split_hostport("imap-plaintext-ok", item, host,
				   sizeof(host), &port) < 0)
			return -1;
		srv = (struct config_imap_server *)config_imap_allowed(
			cfg, host, strlen(host), port);
		if (srv == NULL) {
			CFG_ERR("--imap-plaintext-ok: %s is not on --imap-allow",
				item);
			return -1;
		}
		srv->plaintext_ok = 1;
	}
	return 0;
}

int
config_parse(int argc, char **argv, struct anncd_config *cfg)
{
	int opt;

	config_defaults(cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (opt == OPT_HELP || opt == 'h') {
			config_usage(argv[0]);
			return 1;
		}
		if (opt == '?' || parse_one(opt, optarg, cfg) < 0)
			return -1;
	}
	if (optind < argc) {
		CFG_ERR("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (cfg->imap_plaintext_ok != NULL &&
	    mark_plaintext_ok(cfg->imap_plaintext_ok, cfg) < 0)
		return -1;
	if (cfg->media_ip == 0) {
		CFG_ERR("--media-ip is required");
		return -1;
	}
	if (cfg->sip_tls_addr.sin_port != 0 &&
	    (cfg->sip_tls_cert == NULL || cfg->sip_tls_key == NULL)) {
		CFG_ERR("--sip-tls needs --sip-tls-cert and --sip-tls-key");
		return -1;
	}
	if (ntohs(cfg->sip_addr.sin_port) >= cfg->rtp_port_min &&
	    ntohs(cfg->sip_addr.sin_port) <= cfg->rtp_port_max) {
		CFG_ERR("--sip port lies inside --rtp-ports");
		return -1;
	}
	return 0;
}

const struct config_imap_server *
config_imap_allowed(const struct anncd_config *cfg, const char *host,
		    size_t host_len, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < cfg->n_imap; i++) {
		const struct config_imap_server *s = &cfg->imap[i];

		if (s->port == port && strlen(s->host) == host_len &&
		    strncasecmp(s->host, host, host_len) == 0)
			return s;
	}
	return NULL;
}

const struct config_cred *
config_cred_find(const struct anncd_config *cfg, const char *host,
		 size_t host_len, uint16_t port)
{
	char key[sizeof(cfg->creds[0].hostport)];
	unsigned int i;
	int n;

	n = snprintf(key, sizeof(key), "%.*s:%u", (int)host_len, host, port);
	if (n < 0 || (size_t)n >= sizeof(key))
		return NULL;
	for (i = 0; i < cfg->n_creds; i++)
		if (strcasecmp(cfg->creds[i].hostport, key) == 0)
			return &cfg->creds[i];
	return NULL;
}
