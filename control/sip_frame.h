/* Framing of SIP messages on a stream (RFC 3261 section 18.3): messages
 * come back to back, each header section ends at the first empty line and
 * its Content-Length, mandatory on a stream, says where the body ends.
 * CRLFs between messages are keep-alives (RFC 5626 section 3.5.1).  Pure
 * code over a byte buffer, so that the transport and the tests share it.
 */
#ifndef ANNCD_CONTROL_SIP_FRAME_H
#define ANNCD_CONTROL_SIP_FRAME_H

#include <stddef.h>

#define SIP_FRAME_DETAIL	48	/* room for the value at fault */

struct sip_frame {
	size_t skip;		/* keep-alive bytes before the message */
	unsigned int pings;	/* double-CRLF pings among them */
	size_t len;		/* the message after skip, when whole */
	/* After a Content-Length fault: the header section after skip,
	 * whole, which may still be answered (0 when the fault lies
	 * elsewhere), and the value at fault as printable text. */
	size_t hlen;
	char detail[SIP_FRAME_DETAIL];
};

/* Looks for one message at the start of buf[0..len), no longer than max
 * bytes (header section and body).  Returns 1 with f filled when a whole
 * message follows f->skip bytes of keep-alives; 0 when more bytes are
 * needed (f->skip and f->pings still count what can be consumed now);
 * -1 with *why naming the broken rule when the stream cannot be read on:
 * "missing Content-Length", "bad Content-Length" (not a number, or
 * negative), "conflicting Content-Length" (two different values),
 * "Content-Length over the message limit", each with f->hlen set, or
 * "header section over the message limit", "garbage where a start-line
 * should be".
 */
int
sip_frame_next(const char *buf, size_t len, size_t max, struct sip_frame *f,
	       const char **why);

#endif
