/* The IMAP client of the media server (RFC 3501, RFC 4467 section 7):
 * pooled connections per server and identity, over TLS (implicit or
 * STARTTLS) or plaintext, LOGIN or SASL, URLFETCH of the URL exactly as
 * received, pipelined.  The literal is stored as it arrives, in content
 * chunks: decoded already (BINARY, RFC 5524) or as its base64 text, which
 * the caller has the dataplane decode, off this thread.
 */
#ifndef ANNCD_CONTROL_IMAP_CLIENT_H
#define ANNCD_CONTROL_IMAP_CLIENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/content.h"

struct imap_fetch;

/* How a server is reached (RFC 3501 section 6.2.1, RFC 8314). */
enum imap_security {
	IMAP_SEC_PLAIN = 0,	/* no TLS */
	IMAP_SEC_IMAPS,		/* TLS from the first byte */
	IMAP_SEC_STARTTLS,	/* STARTTLS, never falling back */
};

struct imap_client_opts {
	const char *ca_file;		/* NULL: the system store */
	unsigned int idle_ms;		/* pooled connection closed after */
	unsigned int max_conns;		/* per server and identity */
};

/* Sets up TLS and the pool.  Returns 0 or -errno. */
int
imap_client_init(const struct imap_client_opts *o);

/* Closes pooled connections (without waiting) and frees TLS state. */
void
imap_client_fini(void);

/* Outcome of a fetch.  On success status is 0 and content holds the
 * literal (the callee now owns the reference): its base64 text when
 * base64 is set, not yet decoded nor checked, else the part's own bytes.
 * Otherwise status is -errno and reason says why, in words fit for a SIP
 * reason phrase.
 */
typedef void (*imap_fetch_done)(void *arg, int status, const char *reason,
				struct content *content, int base64);

struct imap_fetch_req {
	const char *url;		/* sent exactly as received */
	size_t url_len;
	struct sockaddr_in server;
	const char *user;		/* NULL: LOGIN anonymous */
	const char *pass;
	int base64;			/* the part is base64 on the server */
	size_t max_literal;		/* refuse larger literals up front */
	unsigned int timeout_ms;	/* connect to tagged OK */
	const char *log_id;		/* names the fetch in logs */
	/* Zero for the plaintext of old: */
	const char *host;		/* the URL's host: TLS name check */
	enum imap_security security;
	int plaintext_ok;		/* credentials may go in clear */
};

/* Starts a fetch.  done runs exactly once, later, from the event loop,
 * unless the fetch is cancelled first.  NULL when out of memory or
 * sockets (done is not called).
 */
struct imap_fetch *
imap_fetch_start(const struct imap_fetch_req *req, imap_fetch_done done,
		 void *arg);

/* Abandons a fetch: done will not run, the connection is closed. */
void
imap_fetch_cancel(struct imap_fetch *f);

/* Checks every fetch against its deadline; call from the loop's tick. */
void
imap_fetch_tick(uint64_t now_ms);

/* Connections opened since start (for logs and tests); a pooled
 * connection is counted once however many fetches it carries. */
uint64_t
imap_connections_opened(void);

#endif
