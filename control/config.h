/* anncd's own options, the part of the command line after the EAL's "--".
 * Every limit the server enforces is named here, with its default.
 */
#ifndef ANNCD_CONTROL_CONFIG_H
#define ANNCD_CONTROL_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "control/imap_client.h"
#include "control/sdp.h"

#define CONFIG_MAX_IMAP_SERVERS	32
#define CONFIG_MAX_CREDS	32

/* One entry of the IMAP allow list: the host:port text as URLs write it,
 * resolved once at start-up so that no lookup blocks the event loop, and
 * how to reach it: "/imaps", "/starttls" or "/plain" (the default).
 */
struct config_imap_server {
	char host[256];
	uint16_t port;
	struct sockaddr_in addr;
	enum imap_security security;
	int plaintext_ok;		/* on --imap-plaintext-ok */
};

/* Credentials for URLs that need an authorized user (authuser, user+,
 * submit+), per server.  Read from a file, never from the command line.
 */
struct config_cred {
	char hostport[270];
	char user[128];
	char pass[128];
};

struct anncd_config {
	struct sockaddr_in sip_addr;	/* --sip */
	struct sockaddr_in sip_tcp_addr;	/* --sip-tcp; port 0: off */
	struct sockaddr_in sip_tls_addr;	/* --sip-tls; port 0: off */
	const char *sip_tls_cert;	/* --sip-tls-cert FILE */
	const char *sip_tls_key;	/* --sip-tls-key FILE */
	unsigned int sip_max_conns;	/* --sip-max-connections */
	size_t sip_max_msg;		/* --sip-max-message-bytes */
	unsigned int sip_idle_ms;	/* --sip-idle-ms */
	unsigned int sip_connect_ms;	/* --sip-connect-timeout-ms */
	const char *sip_tls_verify;	/* --sip-tls-verify; NULL: none */
	unsigned int sip_max_headers;	/* --sip-max-headers */
	size_t sip_max_line;		/* --sip-max-line-bytes */
	uint32_t media_ip;		/* --media-ip, network order */
	uint16_t rtp_port_min;		/* --rtp-ports */
	uint16_t rtp_port_max;
	uint16_t port_id;		/* --port: DPDK port for media */
	int has_nexthop;		/* --nexthop-mac */
	struct rte_ether_addr nexthop_mac;

	struct config_imap_server imap[CONFIG_MAX_IMAP_SERVERS];
	unsigned int n_imap;		/* --imap-allow */
	struct config_cred creds[CONFIG_MAX_CREDS];
	unsigned int n_creds;		/* --imap-credentials FILE */

	unsigned int max_calls;		/* --max-calls */
	size_t max_content;		/* --max-content-bytes: literal limit */
	unsigned int imap_timeout_ms;	/* --imap-timeout-ms: whole fetch */
	unsigned int decode_slice;	/* --decode-slice-bytes: per round */
	const char *imap_ca;		/* --imap-ca FILE; NULL: system */
	unsigned int imap_idle_ms;	/* --imap-idle-ms: pooled, unused */
	unsigned int imap_max_conns;	/* --imap-max-conns per server */
	char *imap_plaintext_ok;	/* --imap-plaintext-ok HOST:PORT,... */
	unsigned int t1_ms;		/* --sip-t1-ms (RFC 3261 T1) */
	unsigned int t2_ms;		/* --sip-t2-ms (RFC 3261 T2) */
	unsigned int t4_ms;		/* --sip-t4-ms (RFC 3261 T4) */
	unsigned int sip_transactions;	/* --sip-transactions */
	unsigned int arp_timeout_ms;	/* --arp-timeout-ms */
	size_t cache_bytes;		/* --cache-bytes: READY contents */
	unsigned int cache_entries;	/* --cache-entries */
	unsigned int cache_negative_ms;	/* --cache-negative-ms */
	int log_level;			/* --log-level */
	enum sdp_dir answer_dir;	/* --answer-direction, to sendrecv */
	uint32_t max_repeat;		/* --max-repeat: plays per call */
	uint32_t max_call_ms;		/* --max-call-ms: a call's length */
	uint32_t min_se_s;		/* --min-se-s: RFC 4028 Min-SE */
};

/* Parses argv (anncd's options only).  Returns 0, 1 when --help was
 * printed, or -1 after printing what is wrong.
 */
int
config_parse(int argc, char **argv, struct anncd_config *cfg);

/* Looks a URL's host and port up in the allow list (host compared
 * case-insensitively).  NULL when not allowed.
 */
const struct config_imap_server *
config_imap_allowed(const struct anncd_config *cfg, const char *host,
		    size_t host_len, uint16_t port);

/* Credentials for host:port, or NULL. */
const struct config_cred *
config_cred_find(const struct anncd_config *cfg, const char *host,
		 size_t host_len, uint16_t port);

void
config_usage(const char *prog);

#endif
