/* The stream framer of control/sip_frame.h: keep-alives first, then the
 * header section up to its empty line, then Content-Length bytes of body.
 */
#include <string.h>
#include <strings.h>

#include "control/sip_frame.h"

/* RFC 3261 section 7.3.1 allows LWS before the colon; "l" is the compact
 * form (section 7.3.3). */
static int
frame_is_clen(const char *p, const char *end, const char **val)
{
	static const char name[] = "content-length";
	const char *q = p;

	while (q < end && *q != ':' && *q != ' ' && *q != '\t')
		q++;
	if (!((size_t)(q - p) == sizeof(name) - 1 &&
	      strncasecmp(p, name, sizeof(name) - 1) == 0) &&
	    !(q - p == 1 && (*p == 'l' || *p == 'L')))
		return 0;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == end || *q != ':')
		return 0;
	*val = q + 1;
	return 1;
}

/* The value: digits between optional white space.  Returns it, capped
 * at max + 1 (too long, not malformed), or -1. */
static long
frame_clen_value(const char *p, const char *end, size_t max)
{
	unsigned long v = 0;
	int digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		if (v <= max)
			v = v * 10 + (unsigned long)(*p - '0');
	if (v > max)
		v = max + 1;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return digits == 0 || p != end ? -1 : (long)v;
}

/* The value as a 400's reason phrase may quote it: trimmed, bytes that
 * are not printable ASCII as '?', cut with "..." past the room. */
static void
frame_detail(struct sip_frame *f, const char *p, const char *end)
{
	size_t n = 0, cap = sizeof(f->detail);

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r'))
		end--;
	for (; p < end && n + 1 < cap; p++)
		f->detail[n++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
	if (p < end) {
		memcpy(f->detail + cap - 4, "...", 3);
		n = cap - 1;
	}
	f->detail[n] = '\0';
}

/* Content-Length of the header section hdr[0..n), which ends in the
 * empty line.  Returns it, -1 when absent, -2 when bad, -3 when repeated
 * with another value; f->detail quotes the value at fault. */
static long
frame_clen(const char *hdr, size_t n, size_t max, struct sip_frame *f)
{
	const char *p = hdr, *end = hdr + n, *eol, *val;
	long v = -1, w;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (frame_is_clen(p, eol, &val)) {
			w = frame_clen_value(val, eol, max);
			frame_detail(f, val, eol);
			if (w < 0 || (v >= 0 && w != v))
				return w < 0 ? -2 : -3;
			v = w;
		}
		p = eol + 1;
	}
	return v;
}

/* Leading CRLFs: a double one is a ping, a lone one is ignored as
 * section 7.5 of RFC 3261 asks.  Returns the bytes consumed; *more is set
 * when what remains may still grow into a ping. */
static size_t
frame_keepalives(const char *buf, size_t len, unsigned int *pings, int *more)
{
	size_t i = 0;

	*more = 0;
	for (;;) {
		if (len - i >= 4 && memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			(*pings)++;
			i += 4;
		} else if (len - i >= 3 && memcmp(buf + i, "\r\n", 2) == 0 &&
			   buf[i + 2] != '\r') {
			i += 2;
		} else if (len - i > 0 && len - i < 4 &&
			   memcmp(buf + i, "\r\n\r\n", len - i) == 0) {
			*more = 1;
			return i;
		} else {
			return i;
		}
	}
}

/* A start-line begins with a method token or "SIP/" (section 7.1, 7.2):
 * a letter, whatever the case. */
static int
frame_starts_line(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int
sip_frame_next(const char *buf, size_t len, size_t max, struct sip_frame *f,
	       const char **why)
{
	const char *p, *eoh;
	size_t avail, hlen;
	long clen;
	int more;

	f->pings = 0;
	f->len = 0;
	f->hlen = 0;
	f->detail[0] = '\0';
	f->skip = frame_keepalives(buf, len, &f->pings, &more);
	p = buf + f->skip;
	avail = len - f->skip;
	if (more || avail == 0)
		return 0;
	if (!frame_starts_line(*p)) {
		*why = "garbage where a start-line should be";
		return -1;
	}
	eoh = memmem(p, avail < max ? avail : max, "\r\n\r\n", 4);
	if (eoh == NULL) {
		*why = "header section over the message limit";
		return avail >= max ? -1 : 0;
	}
	hlen = (size_t)(eoh - p) + 4;
	clen = frame_clen(p, hlen, max, f);
	if (clen < 0 || hlen + (size_t)clen > max) {
		f->hlen = hlen;
		*why = clen == -1 ? "missing Content-Length" :
		       clen == -2 ? "bad Content-Length" :
		       clen == -3 ? "conflicting Content-Length" :
				    "Content-Length over the message limit";
		return -1;
	}
	if (avail < hlen + (size_t)clen)
		return 0;
	f->len = hlen + (size_t)clen;
	return 1;
}
