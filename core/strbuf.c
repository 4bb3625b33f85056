/* Appending to a struct strbuf; see strbuf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"

void
strbuf_put(struct strbuf *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

void
strbuf_puts(struct strbuf *o, const char *s)
{
	strbuf_put(o, s, strlen(s));
}

void
strbuf_putu(struct strbuf *o, uint64_t v)
{
	char d[20];	/* UINT64_MAX has 20 digits */
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	strbuf_put(o, d + i, sizeof(d) - i);
}

void
strbuf_putf(struct strbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

/* A peer's bytes in a log line or a reason phrase (RFC 3261 section
 * 25.1 allows UTF-8 there, but not control characters): only printable
 * ASCII passes, the rest, the quote and the backslash as \xNN; at most
 * STRBUF_QUOTE_MAX bytes of s, then "...". */
void
strbuf_put_quoted(struct strbuf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, k = n > STRBUF_QUOTE_MAX ? STRBUF_QUOTE_MAX : n;
	unsigned char c;
	char esc[4];

	strbuf_putl(o, "\"");
	for (i = 0; i < k; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			strbuf_put(o, s + i, 1);
			continue;
		}
		esc[0] = '\\';
		esc[1] = 'x';
		esc[2] = hex[c >> 4];
		esc[3] = hex[c & 15];
		strbuf_put(o, esc, sizeof(esc));
	}
	strbuf_putl(o, "\"");
	if (k < n)
		strbuf_putl(o, "...");
}
