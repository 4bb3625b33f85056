/* A dialog as anncd holds it once its 2xx has gone (RFC 3261 section
 * 12.1.1): remote target, route set and the two CSeq counters, and where
 * each request anncd sends in it goes (section 12.2.1.1).  No I/O: annc.c
 * sends what this builds to the hop it names.
 */
#ifndef ANNCD_CONTROL_DIALOG_H
#define ANNCD_CONTROL_DIALOG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "control/sip_msg.h"
#include "control/sip_transport.h"

#define DIALOG_MAX_URI		512	/* a remote target or route URI */
#define DIALOG_SIP_PORT		5060	/* RFC 3261 section 19.1.2 */
#define DIALOG_SIPS_PORT	5061

struct dialog {
	/* Views into the INVITE, which outlives the dialog. */
	struct sip_str local;		/* our URI: the INVITE's To */
	struct sip_str remote;		/* the INVITE's From, with its tag */
	struct sip_str call_id;
	const char *local_tag;
	struct sip_str route[SIP_MAX_RR];	/* Record-Route, in order */
	unsigned int n_route;
	char target[DIALOG_MAX_URI];	/* remote target: the last Contact */
	uint32_t local_cseq;		/* of our last request */
	uint32_t remote_cseq;		/* the caller's highest */
};

/* The UAS side of section 12.1.1 from INVITE m and our To tag.  Returns
 * 0, or -EINVAL with *why when m has no usable Contact.
 */
int
dialog_init(struct dialog *d, const struct sip_msg *m, const char *local_tag,
	    const char **why);

/* Target refresh (section 12.2.2): an accepted re-INVITE or UPDATE's
 * Contact becomes the remote target.  0 or -EINVAL (target kept).
 */
int
dialog_set_target(struct dialog *d, struct sip_str contact);

/* The Record-Route lines a dialog-creating 2xx copies from request m,
 * values and order as they came (section 12.1.1).  Returns the length,
 * or -1 when cap is too small.
 */
int
dialog_rr_lines(const struct sip_msg *m, char *out, size_t cap);

/* The length of those lines. */
size_t
dialog_rr_size(const struct sip_msg *m);

/* Where a request goes (section 12.2.1.1). */
struct dialog_route {
	struct sip_str ruri;		/* Request-URI */
	struct sip_str hop;		/* URI of the next hop */
	unsigned int first;		/* route[first..] become Route lines */
	int strict;			/* the remote target goes last */
};

/* Loose routing when the first route has ;lr, strict routing when it
 * does not, straight to the remote target with no route set.
 */
void
dialog_route(const struct dialog *d, struct dialog_route *r);

/* The URI inside a name-addr ("<sip:p1;lr>;x" gives "sip:p1;lr"), or a
 * bare URI up to its header parameters.
 */
struct sip_str
dialog_uri_of(struct sip_str name_addr);

/* The address and transport of a next hop's URI, as RFC 3263 section 4
 * picks them without DNS: maddr, else host; the port given, else 5060
 * (5061 for sips); transport= else TLS for sips, UDP for sip.  Returns
 * 0; -ENOENT for a host name (resolving it would block the loop),
 * -EAFNOSUPPORT for an IPv6 literal (anncd's SIP sockets are IPv4),
 * -EPROTONOSUPPORT for another transport (sctp), -EADDRNOTAVAIL for
 * 0.0.0.0/8, loopback, multicast, reserved or broadcast, -EINVAL for a
 * URI that does not parse.  *why names the field.
 */
int
dialog_hop_addr(struct sip_str uri, struct sip_peer *to, const char **why);

/* A request in the dialog. */
struct dialog_req {
	const char *method;
	uint32_t cseq;
	const char *via;		/* "SIP/2.0/UDP host:port" */
	const char *branch;		/* without the magic cookie */
	const char *extra;		/* header lines ending in CRLF, or NULL */
	const char *body;		/* application/sdp, or NULL */
	size_t body_len;
};

/* Builds rq into out (section 12.2.1.1): Request-URI and Route lines as
 * dialog_route says, From our URI and tag, To the caller's with its tag.
 * Returns the length, or -1 when cap is too small.
 */
int
dialog_build(const struct dialog *d, const struct dialog_req *rq, char *out,
	     size_t cap);

#endif
