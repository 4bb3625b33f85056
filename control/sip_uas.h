/* The checks RFC 3261 section 8.2 asks of a user agent server before it
 * looks at what a request is for: the Request-URI's scheme, the option
 * tags the request requires, and whether its body and the answer it wants
 * are in a format anncd speaks.  Each returns 0 or the status code to
 * refuse with, the reason phrase, and the header lines that go with it.
 */
#ifndef ANNCD_CONTROL_SIP_UAS_H
#define ANNCD_CONTROL_SIP_UAS_H

#include <stddef.h>

#include "control/sip_msg.h"

/* Option tags anncd supports, for Supported headers (RFC 3261 20.37). */
#define SIP_UAS_SUPPORTED	"timer"

/* The body anncd takes and gives, for Accept headers. */
#define SIP_UAS_ACCEPT		"application/sdp"

/* Section 8.2.2.1 (416 for a scheme other than sip or sips) and section
 * 8.2.2.3 (420 with Unsupported for an option tag in Require; ACK and
 * CANCEL are never refused for it).  extra (cap bytes) receives header
 * lines ending in CRLF.
 */
int
sip_uas_screen(const struct sip_msg *m, const char **reason, char *extra,
	       size_t cap);

/* Section 8.2.3: a body that is not SDP gets 415 with Accept, and an
 * Accept that rules out SDP in the answer gets 406 (RFC 3261 21.4.7).
 */
int
sip_uas_check_body(const struct sip_msg *m, const char **reason,
		   char *extra, size_t cap);

#endif
