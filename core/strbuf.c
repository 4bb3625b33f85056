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
