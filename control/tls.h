/* TLS for the control plane's connections (IMAPS and STARTTLS as a client,
 * SIP over TLS as a server and as a client): OpenSSL runs over memory BIOs, so that the
 * io_uring loop keeps doing the socket I/O and the connection moves
 * ciphertext between the two.
 */
#ifndef ANNCD_CONTROL_TLS_H
#define ANNCD_CONTROL_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_conn;

/* The client context: TLS 1.2 at least, peers verified against ca_file,
 * or the system's store when ca_file is NULL.  Returns 0 or -errno.
 */
int
tls_init(const char *ca_file);

void
tls_fini(void);

/* A client session for host (a name: SNI and name check; an IP address:
 * address check).  NULL when out of memory or before tls_init.
 */
struct tls_conn *
tls_conn_new(const char *host);

/* The server context: TLS 1.2 at least, the certificate chain and key
 * from PEM files, no client certificate asked for.  Returns 0 or -errno
 * after logging which file failed.
 */
int
tls_server_init(const char *cert_file, const char *key_file);

void
tls_server_fini(void);

/* The context for SIP connections anncd opens (RFC 3261 section 26.3.1):
 * TLS 1.2 at least; verify NULL: the peer's certificate is not checked
 * (a phone's is mostly self-signed), "system": it must chain to the
 * system's store, else a PEM file of the CA certificates it must chain
 * to; checked, it must also name the address connected to.  Returns 0 or
 * -errno after logging which file failed.
 */
int
tls_sip_client_init(const char *verify);

void
tls_sip_client_fini(void);

/* A client session of that context to the IPv4 address ip (text). */
struct tls_conn *
tls_conn_new_sip(const char *ip);

/* A server session; NULL when out of memory or before tls_server_init. */
struct tls_conn *
tls_conn_new_server(void);

void
tls_conn_free(struct tls_conn *t);

/* Hands over ciphertext received from the peer.  Returns 0 or -ENOMEM. */
int
tls_feed(struct tls_conn *t, const void *buf, size_t n);

/* Drives the handshake.  Returns 1 when done, 0 when it needs more input
 * (and maybe has output to send), -1 with why filled on failure: the
 * certificate verification error when there is one.
 */
int
tls_handshake(struct tls_conn *t, char *why, size_t cap);

/* Plaintext from the peer: bytes read, 0 when more input is needed, -1
 * when the peer closed the session or it failed.
 */
ssize_t
tls_read(struct tls_conn *t, void *buf, size_t cap);

/* Whether ciphertext from the peer is held that is not yet a whole
 * record (or not yet read): a record under way.  Returns 1 or 0. */
int
tls_record_pending(struct tls_conn *t);

/* Whether OpenSSL has written ciphertext for the peer not yet taken:
 * 1 or 0. */
int
tls_output_pending(struct tls_conn *t);

/* Encrypts plaintext for the peer.  Returns 0 or -1. */
int
tls_write(struct tls_conn *t, const void *buf, size_t n);

/* Takes up to cap bytes of ciphertext to send; returns how many. */
size_t
tls_take(struct tls_conn *t, void *buf, size_t cap);

#endif
