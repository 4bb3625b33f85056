/* SIP over streams (RFC 3261 section 18, TCP and TLS per RFC 5630): the
 * listeners, the connections callers open and those anncd opens itself,
 * on the control plane's io_uring loop.  Whole messages go up through a
 * callback with the peer they came from; answers go back over the same
 * connection, or a new one when it has gone (section 18.2.2).  UDP stays
 * in control/annc.c; struct sip_peer names either.
 */
#ifndef ANNCD_CONTROL_SIP_TRANSPORT_H
#define ANNCD_CONTROL_SIP_TRANSPORT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

enum sip_tp {
	SIP_TP_UDP = 0,
	SIP_TP_TCP,
	SIP_TP_TLS,
};

/* Where a message came from and where its answer goes. */
struct sip_peer {
	enum sip_tp tp;
	struct sockaddr_in addr;
	uint32_t conn;			/* stream connection id; 0 for UDP */
};

struct sip_tp_config {
	struct sockaddr_in tcp_addr;	/* port 0: no TCP listener */
	struct sockaddr_in tls_addr;	/* port 0: no TLS listener */
	const char *tls_cert;		/* PEM files for the TLS listener */
	const char *tls_key;
	unsigned int max_conns;		/* open at once, accepted or ours */
	size_t max_msg;			/* header section and body */
	unsigned int idle_ms;		/* silence, or one message's arrival */
	unsigned int connect_ms;	/* our connect and TLS handshake */
	size_t max_queue;		/* bytes queued for sending on one
					 * connection; 0: 2 * max_msg */
	unsigned int max_per_ip;	/* accepted from one address; 0: no
					 * limit but max_conns */
	const char *tls_verify;		/* ours: NULL no check, "system" or
					 * a CA file (tls_sip_client_init) */
};

/* Called with each whole message, NUL-terminated at buf[len]. */
typedef void (*sip_tp_deliver_fn)(const char *buf, size_t len,
				  const struct sip_peer *from);

/* Opens the listeners c asks for.  Returns 0 or -errno (logged). */
int
sip_tp_init(const struct sip_tp_config *c, sip_tp_deliver_fn deliver);

/* Queues msg on the connection to->conn; with to->conn 0, on the one
 * open to to->addr over to->tp, else on a new one (RFC 3261 section
 * 18.1.1), where it waits until connected (TLS: handshaken).  Returns 0,
 * -ENOTCONN when to->conn has gone, -EMFILE when max_conns are open,
 * -EAGAIN when half of max_conns are our own connects still in flight,
 * -ENOBUFS when the peer reads too little (a connected connection is
 * then closed) or too much waits on a connecting one.
 */
int
sip_tp_send(const struct sip_peer *to, const char *msg, size_t len);

/* A message sent tracked that never went out: the connection anncd
 * opened for it failed (err -ECONNREFUSED, -ETIMEDOUT after connect_ms,
 * -EPROTO for TLS, ...) and the message was dropped.  Once connected, a
 * stream delivers or loses the connection: nothing more is reported.
 */
typedef void (*sip_tp_lost_fn)(uint64_t cookie, const struct sip_peer *to,
			       int err);

void
sip_tp_on_lost(sip_tp_lost_fn fn);

/* sip_tp_send, and a nonzero cookie is reported to the sip_tp_on_lost
 * function should the message be dropped unsent; a caller's BYE, say, so
 * that the call does not wait for an answer that cannot come.
 */
int
sip_tp_send_tracked(const struct sip_peer *to, const char *msg, size_t len,
		    uint64_t cookie);

/* A response to a request that came from to (RFC 3261 section 18.2.2):
 * on its connection while open; once gone, over a connection to the
 * address the request came from (its received=) and the port of the
 * response's top Via sent-by, else 5060 for TCP and 5061 for TLS.
 * Returns as sip_tp_send.
 */
int
sip_tp_reply(const struct sip_peer *to, const char *msg, size_t len);

/* A dialog lives on connection id: while held, silence does not close
 * it, so that anncd's BYE can still go out on it (a caller listening to a
 * long announcement has nothing to say).  Holds are counted; releasing a
 * connection that has gone does nothing.
 */
void
sip_tp_hold(uint32_t id);
void
sip_tp_release(uint32_t id);

/* Closes connections silent or stalled past idle_ms, and fails our
 * connects not made within connect_ms. */
void
sip_tp_tick(uint64_t now_ms);

/* "UDP", "TCP" or "TLS", as a Via's sent-protocol names it. */
const char *
sip_tp_name(enum sip_tp tp);

/* Connections open now. */
unsigned int
sip_tp_open_conns(void);

/* Messages dropped because the connection anncd opened for them failed;
 * the failures are logged once per address every ten seconds. */
uint64_t
sip_tp_lost_msgs(void);

/* Closes every connection and listener at once. */
void
sip_tp_fini(void);

#endif
