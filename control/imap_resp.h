/* IMAP server responses (RFC 3501 section 7, RFC 4467 section 7): line
 * framing and the few response forms that a URLFETCH client reads.  Lines
 * are handed over without their CRLF.  A literal announced at the end of a
 * line ({n} or ~{n} of RFC 3516) is not part of the line: the caller
 * consumes its n bytes and then reads the rest of the response as the next
 * line.
 */
#ifndef ANNCD_CONTROL_IMAP_RESP_H
#define ANNCD_CONTROL_IMAP_RESP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/imap_url.h"

/* Finds the end of the line that starts buf.  Returns the length of the
 * line including its CRLF, 0 when more input is needed, or -1 when no CRLF
 * appears within max_line bytes.
 */
ssize_t
imap_line_end(const char *buf, size_t len, size_t max_line);

enum imap_status {
	IMAP_ST_NONE = 0,	/* an untagged response of another kind */
	IMAP_ST_OK,
	IMAP_ST_NO,
	IMAP_ST_BAD,
	IMAP_ST_BYE,
	IMAP_ST_PREAUTH,
	IMAP_ST_CONTINUE,	/* "+ ..." */
};

struct imap_resp {
	struct imap_str tag;	/* "*" for untagged, "+" for continuation */
	enum imap_status status;
	struct imap_str text;	/* what follows the status word */
};

/* Classifies one line (without CRLF).  Returns 0 or -1 when it is not a
 * response at all.
 */
int
imap_resp_parse(const char *line, size_t n, struct imap_resp *r);

enum imap_fetch_kind {
	IMAP_FETCH_NIL,		/* NIL, or nothing: refused */
	IMAP_FETCH_LITERAL,	/* {n}, {n+}, ~{n} ending the line */
};

struct imap_urlfetch {
	struct imap_str url;	/* unquoted view; quoted-specials not undone */
	enum imap_fetch_kind kind;
	uint64_t literal_len;
	int binary;		/* RFC 5524 BINARY: decoded by the server */
	size_t next;		/* where the rest of the line starts */
};

/* Parses an untagged URLFETCH line up to its first url-data pair, in the
 * RFC 4467 form (url SP nstring) or RFC 5524's (a list of metadata, its
 * BINARY or BODY item the data).  Returns 0, 1 when the line is not a
 * URLFETCH response, or -1 with *why on a malformed one; a literal length
 * above max_literal is malformed ("literal of 123456789 bytes over limit
 * 10000000"), checked without overflow before anything is allocated.
 * A literal ends the line: what follows it on the wire goes to
 * imap_parse_urlfetch_next as a line of its own; after NIL, the rest of
 * this line does, from uf->next.  *why may point to a per-thread buffer
 * that the next call reuses.
 */
int
imap_parse_urlfetch(const char *line, size_t n, uint64_t max_literal,
		    struct imap_urlfetch *uf, const char **why);

/* The rest of a URLFETCH response: closing parentheses, then maybe the
 * next url-data pair.  Returns 0 with one, 1 at the end, -1 as above.
 */
int
imap_parse_urlfetch_next(const char *line, size_t n, uint64_t max_literal,
			 struct imap_urlfetch *uf, const char **why);

/* Capabilities a URLFETCH client cares about (RFC 3501 7.2.1). */
#define IMAP_CAP_STARTTLS		(1u << 0)
#define IMAP_CAP_LOGINDISABLED		(1u << 1)
#define IMAP_CAP_AUTH_PLAIN		(1u << 2)
#define IMAP_CAP_AUTH_ANONYMOUS		(1u << 3)
#define IMAP_CAP_SASL_IR		(1u << 4)	/* RFC 4959 */
#define IMAP_CAP_URLAUTH		(1u << 5)	/* RFC 4467 */
#define IMAP_CAP_URLAUTH_BINARY		(1u << 6)	/* RFC 5524 */

/* Reads a capability list from a status text that opens with the
 * "[CAPABILITY ...]" code, or from the text of "* CAPABILITY ...".
 * Returns 0 with *caps set, 1 when there is none, -1 when malformed.
 */
int
imap_parse_capability(const char *text, size_t n, unsigned int *caps);

/* Writes s as an IMAP quoted string (RFC 3501 section 9, quoted) into out,
 * followed by a NUL that the length does not count.  Returns the length or
 * -1 when it does not fit or s holds CR, LF, NUL or an 8-bit byte.
 */
int
imap_quote(const char *s, size_t n, char *out, size_t cap);

#endif
