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
	IMAP_FETCH_NIL,		/* "* URLFETCH url NIL": refused */
	IMAP_FETCH_LITERAL,	/* "* URLFETCH url {n}" or ~{n} */
};

struct imap_urlfetch {
	struct imap_str url;	/* unquoted view; quoted-specials not undone */
	enum imap_fetch_kind kind;
	uint64_t literal_len;
};

/* Parses an untagged URLFETCH line.  Returns 0, 1 when the line is not a
 * URLFETCH response, or -1 with *why on a malformed one; a literal length
 * above max_literal is malformed ("literal of 123456789 bytes over limit
 * 10000000"), checked without overflow before anything is allocated.
 * *why may point to a per-thread buffer that the next call reuses.
 */
int
imap_parse_urlfetch(const char *line, size_t n, uint64_t max_literal,
		    struct imap_urlfetch *uf, const char **why);

/* Writes s as an IMAP quoted string (RFC 3501 section 9, quoted) into out,
 * followed by a NUL that the length does not count.  Returns the length or
 * -1 when it does not fit or s holds CR, LF, NUL or an 8-bit byte.
 */
int
imap_quote(const char *s, size_t n, char *out, size_t cap);

#endif
