/* SIP URIs (RFC 3261 section 19.1) and the parameters of the announcement
 * service (RFC 4240 section 3) with the content-type and
 * content-transfer-encoding parameters of the streaming profile for
 * messaging attachments.
 */
#ifndef ANNCD_CONTROL_SIP_URI_H
#define ANNCD_CONTROL_SIP_URI_H

#include <stddef.h>
#include <stdint.h>

#include "control/sip_msg.h"

struct sip_uri {
	struct sip_str scheme;		/* "sip" or "sips" */
	struct sip_str user;		/* still escaped */
	struct sip_str host;		/* without [] for IPv6 */
	uint16_t port;			/* 0 when absent */
	struct sip_str params;		/* after the first ';', up to '?' */
	struct sip_str headers;		/* after '?' */
};

/* Parses a SIP URI (no surrounding <>).  Returns 0 or -1 with *why. */
int
sip_uri_parse(const char *s, size_t n, struct sip_uri *u, const char **why);

/* Finds parameter name (case-insensitive) in a ";a=b;c" list.  Returns 1
 * and its raw value (empty for a flag), or 0 when absent.
 */
int
sip_param_find(struct sip_str params, const char *name, struct sip_str *val);

/* Decodes %HH escapes exactly once into out (cap bytes, NUL-terminated).
 * Returns the decoded length, or -1 on a malformed escape, an escaped NUL,
 * or no room.
 */
int
sip_unescape(struct sip_str in, char *out, size_t cap);

struct annc_params {
	/* The play URL, unescaped once, NUL-terminated, in the caller's
	 * buffer.  Written %-escaped as RFC 3261 requires inside a parameter
	 * (imap%3A%2F%2F...%3Burlauth%3D...), or raw as the profile's
	 * examples write it: then the ;uidvalidity= ;uid= ;section=
	 * ;partial= ;expire= ;urlauth= parts that follow belong to the URL,
	 * up to and including ;urlauth=.  */
	char *play;
	size_t play_len;
	struct sip_str content_type;	/* raw; empty when absent */
	struct sip_str cte;		/* content-transfer-encoding */
	struct sip_str repeat, delay, duration, locale;	/* raw, RFC 4240 */
};

/* Reads the RFC 4240 parameters of u.  The unescaped play URL goes to buf
 * (cap bytes).  Returns 0, or -1 with *why ("missing play parameter",
 * "bad escape in play").
 */
int
annc_params_parse(const struct sip_uri *u, char *buf, size_t cap,
		  struct annc_params *ap, const char **why);

#endif
