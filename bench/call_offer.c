/* The media lines of anncd-call's SDP offer when --offer names them: any
 * number of m= lines (RFC 4566 section 5.14), audio or video, each with
 * its payload types, rtpmap and fmtp attributes (section 6), so that a
 * test can offer dynamic payload types (AMR, L16 at any rate) and the two
 * streams of an MPEG program.  Stream i receives on --rtp-port + 2 i.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/call.h"

/* One format: "96=AMR/8000;octet-align=1", "0", "PCMU", "97=L16/8000/2". */
static int
offer_fmt(char *s, struct call_fmt *f)
{
	char *eq = strchr(s, '='), *semi, *end;
	unsigned int clock = 0;
	const char *name;
	unsigned long pt;

	if (eq == NULL) {
		/* a static type by number or name, as --codecs takes it */
		pt = strtoul(s, &end, 10);
		if (*end != '\0' && call_codec_pt(s, &pt) < 0)
			return -EINVAL;
		name = call_codec_name((unsigned int)pt, &clock);
		if (name == NULL)
			return -EINVAL;
		f->pt = (uint8_t)pt;
		snprintf(f->rtpmap, sizeof(f->rtpmap), "%s/%u", name, clock);
		f->fmtp[0] = '\0';
		return 0;
	}
	*eq = '\0';
	pt = strtoul(s, &end, 10);
	if (*end != '\0' || end == s || pt > 127)
		return -EINVAL;
	f->pt = (uint8_t)pt;
	semi = strchr(eq + 1, ';');
	if (semi != NULL)
		*semi = '\0';
	if (strchr(eq + 1, '/') == NULL ||
	    snprintf(f->rtpmap, sizeof(f->rtpmap), "%s", eq + 1) >=
	    (int)sizeof(f->rtpmap))
		return -EINVAL;
	snprintf(f->fmtp, sizeof(f->fmtp), "%s", semi ? semi + 1 : "");
	return strlen(semi ? semi + 1 : "") < sizeof(f->fmtp) ? 0 : -EINVAL;
}

int
call_offer_parse(const char *spec, struct call_opts *o)
{
	struct call_offer *m;
	char buf[512], *colon, *tok, *save = NULL;

	if (o->n_offers == CALL_MAX_MEDIA ||
	    snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return -EINVAL;
	m = &o->offers[o->n_offers];
	colon = strchr(buf, ':');
	if (colon == NULL)
		return -EINVAL;
	*colon = '\0';
	if (strcmp(buf, "audio") != 0 && strcmp(buf, "video") != 0)
		return -EINVAL;
	memcpy(m->kind, buf, strlen(buf) + 1);	/* "audio" or "video" */
	m->n_fmts = 0;
	for (tok = strtok_r(colon + 1, "|", &save); tok != NULL;
	     tok = strtok_r(NULL, "|", &save)) {
		if (m->n_fmts == CALL_MAX_CODECS ||
		    offer_fmt(tok, &m->fmts[m->n_fmts]) < 0)
			return -EINVAL;
		m->n_fmts++;
	}
	if (m->n_fmts == 0)
		return -EINVAL;
	o->n_offers++;
	return 0;
}

/* Appends printf output at *n within cap; false once it no longer fits. */
static int
put(char *out, size_t cap, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
put(char *out, size_t cap, int *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n < 0 || (size_t)*n >= cap)
		return 0;
	va_start(ap, fmt);
	k = vsnprintf(out + *n, cap - (size_t)*n, fmt, ap);
	va_end(ap);
	*n = k < 0 ? -1 : *n + k;
	return *n >= 0 && (size_t)*n < cap;
}

int
call_offer_media(const struct call_opts *o, char *out, size_t cap)
{
	const struct call_offer *m;
	unsigned int i, j;
	int n = 0;

	for (i = 0; i < o->n_offers; i++) {
		m = &o->offers[i];
		put(out, cap, &n, "m=%s %u RTP/AVP", m->kind,
		    o->rtp_port + 2 * i);
		for (j = 0; j < m->n_fmts; j++)
			put(out, cap, &n, " %u", m->fmts[j].pt);
		put(out, cap, &n, "\r\n");
		for (j = 0; j < m->n_fmts; j++) {
			put(out, cap, &n, "a=rtpmap:%u %s\r\n", m->fmts[j].pt,
			    m->fmts[j].rtpmap);
			if (m->fmts[j].fmtp[0] != '\0')
				put(out, cap, &n, "a=fmtp:%u %s\r\n",
				    m->fmts[j].pt, m->fmts[j].fmtp);
		}
		if (!put(out, cap, &n, "a=ptime:%u\r\na=%s\r\n", o->ptime,
			 o->direction))
			return -EMSGSIZE;
	}
	return n;
}
