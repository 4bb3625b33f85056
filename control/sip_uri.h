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

#define ANNC_NPARAMS	9		/* param1 to param9 (RFC 4240 3.3) */

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
	struct sip_str param[ANNC_NPARAMS];	/* param1 to param9, raw */
	const char *repeated;		/* the first of the parameters above
					 * (play too) given twice, or NULL */
};

/* Reads the RFC 4240 parameters of u.  The unescaped play URL goes to buf
 * (cap bytes).  Returns 0, or -1 with *why ("missing play parameter",
 * "bad escape in play").  The other values are kept raw, for
 * annc_play_parse.
 */
int
annc_params_parse(const struct sip_uri *u, char *buf, size_t cap,
		  struct annc_params *ap, const char **why);

#define ANNC_MAX_DELAY_MS	3600000u	/* delay=: an hour of silence */
#define ANNC_MAX_DURATION_MS	999999999u	/* duration=: nine digits */
#define ANNC_MAX_COUNT		999999999u	/* repeat=: nine digits */

/* How the announcement is played (RFC 4240 section 3.3). */
struct annc_play {
	uint32_t plays;			/* times the content is played, >= 1 */
	int forever;			/* repeat=forever, plays = max_repeat */
	uint32_t delay_ms;		/* silence between two plays */
	uint32_t duration_ms;		/* cap on the stream, 0: none */
};

/* Checks repeat, delay and duration: a count of at least 1 or "forever"
 * (both capped at max_repeat), milliseconds within the limits above, each
 * given once.  Returns 0, or -1 with reason ("Bad repeat parameter:
 * often").
 */
int
annc_play_parse(const struct annc_params *ap, uint32_t max_repeat,
		struct annc_play *pl, char *reason, size_t cap);

#endif
