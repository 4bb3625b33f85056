/* An output cursor over a caller's buffer for building protocol text (SIP
 * responses, SDP answers): the first write that does not fit marks it
 * full, so a builder checks once at the end.  The text stays
 * NUL-terminated while it fits.
 */
#ifndef ANNCD_CORE_STRBUF_H
#define ANNCD_CORE_STRBUF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *p;
	size_t cap;
	size_t len;
	int full;
};

static inline void
strbuf_init(struct strbuf *o, char *p, size_t cap)
{
	o->p = p;
	o->cap = cap;
	o->len = 0;
	o->full = cap == 0 || cap > INT_MAX;
}

void
strbuf_put(struct strbuf *o, const char *s, size_t n);

void
strbuf_puts(struct strbuf *o, const char *s);

/* A string literal, its length known at compile time. */
#define strbuf_putl(o, lit) strbuf_put((o), "" lit, sizeof(lit) - 1)

/* v in decimal: what "%u" would write, without parsing a format. */
void
strbuf_putu(struct strbuf *o, uint64_t v);

void
strbuf_putf(struct strbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The length written, or -1 when something did not fit. */
static inline int
strbuf_result(const struct strbuf *o)
{
	return o->full ? -1 : (int)o->len;
}

#endif
