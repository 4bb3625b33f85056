/* The dialog state of a call and the requests anncd sends in it (RFC
 * 3261 sections 12.1.1, 12.2.1.1 and 12.2.2): see dialog.h.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/dialog.h"
#include "control/sip_uri.h"
#include "core/strbuf.h"

#define DIALOG_FIRST_CSEQ	1	/* any value under 2^31 (8.1.1.5) */

/* The '<' of a name-addr, past a quoted display name, which may hold
 * one ("a<b" <sip:p1>, RFC 3261 section 25.1: quoted-pair escapes).
 */
static const char *
laquot(const char *p, const char *end)
{
	int quoted = 0;

	for (; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			return p;
	}
	return NULL;
}

struct sip_str
dialog_uri_of(struct sip_str na)
{
	const char *end = na.p + na.n, *p;
	const char *lt = laquot(na.p, end), *gt;

	if (lt != NULL) {
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt != NULL)
			return (struct sip_str){ lt + 1, (size_t)(gt - lt - 1) };
	}
	/* A bare addr-spec: up to white space. */
	for (p = na.p; p < end && *p != ' ' && *p != '\t'; p++)
		;
	return (struct sip_str){ na.p, (size_t)(p - na.p) };
}

int
dialog_set_target(struct dialog *d, struct sip_str contact)
{
	struct sip_uri u;
	const char *why;

	if (contact.n == 0 || contact.n >= sizeof(d->target) ||
	    sip_uri_parse(contact.p, contact.n, &u, &why) < 0)
		return -EINVAL;
	memcpy(d->target, contact.p, contact.n);
	d->target[contact.n] = '\0';
	return 0;
}

int
dialog_init(struct dialog *d, const struct sip_msg *m, const char *local_tag,
	    const char **why)
{
	uint32_t remote_cseq = d->remote_cseq;

	memset(d, 0, sizeof(*d));
	d->local = m->to;
	d->remote = m->from;
	d->call_id = m->call_id;
	d->local_tag = local_tag;
	/* Section 12.1.1: the UAS keeps the Record-Route order. */
	for (unsigned int i = 0; i < m->n_rr && i < SIP_MAX_RR; i++)
		d->route[d->n_route++] = m->record_route[i];
	d->local_cseq = DIALOG_FIRST_CSEQ - 1;
	d->remote_cseq = remote_cseq > m->cseq ? remote_cseq : m->cseq;
	if (dialog_set_target(d, m->contact_uri) < 0) {
		*why = "no usable Contact URI";
		return -EINVAL;
	}
	return 0;
}

/* Header lines "name value" for each of values, copied byte for byte. */
static void
put_lines(struct strbuf *o, const char *name, const struct sip_str *v,
	  unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		strbuf_puts(o, name);
		strbuf_put(o, v[i].p, v[i].n);
		strbuf_puts(o, "\r\n");
	}
}

int
dialog_rr_lines(const struct sip_msg *m, char *out, size_t cap)
{
	struct strbuf o;

	strbuf_init(&o, out, cap);
	if (cap > 0)
		out[0] = '\0';	/* no Record-Route: an empty string */
	put_lines(&o, "Record-Route: ", m->record_route, m->n_rr);
	return strbuf_result(&o);
}

size_t
dialog_rr_size(const struct sip_msg *m)
{
	size_t len = 0;

	for (unsigned int i = 0; i < m->n_rr; i++)
		len += sizeof("Record-Route: \r\n") - 1 + m->record_route[i].n;
	return len;
}

static int
uri_is_loose(struct sip_str uri)
{
	struct sip_uri u;
	struct sip_str v;
	const char *why;

	return sip_uri_parse(uri.p, uri.n, &u, &why) == 0 &&
	       sip_param_find(u.params, "lr", &v);
}

void
dialog_route(const struct dialog *d, struct dialog_route *r)
{
	struct sip_str target = { d->target, strlen(d->target) };
	struct sip_str first;

	memset(r, 0, sizeof(*r));
	r->ruri = r->hop = target;
	if (d->n_route == 0)
		return;
	first = dialog_uri_of(d->route[0]);
	r->hop = first;
	if (uri_is_loose(first))
		return;
	/* Strict routing: the first route is the Request-URI and leaves
	 * the Route header, the remote target is appended last. */
	r->ruri = first;
	r->first = 1;
	r->strict = 1;
}

/* Transport of a next hop (RFC 3263 section 4.1 without NAPTR): the
 * transport parameter when given, else TLS for sips and UDP for sip.
 */
static int
hop_transport(const struct sip_uri *u, enum sip_tp *tp, const char **why)
{
	int sips = sip_str_caseeq(u->scheme, "sips");
	struct sip_str v;

	*tp = sips ? SIP_TP_TLS : SIP_TP_UDP;
	if (!sip_param_find(u->params, "transport", &v))
		return 0;
	if (sip_str_caseeq(v, "tcp"))
		*tp = sips ? SIP_TP_TLS : SIP_TP_TCP;
	else if (sip_str_caseeq(v, "tls"))
		*tp = SIP_TP_TLS;
	else if (!sip_str_caseeq(v, "udp") || sips) {
		*why = "transport parameter anncd cannot send on";
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* Whether a is an address a caller's URI may send our requests to: not
 * 0.0.0.0/8 ("this host", RFC 1122 section 3.2.1.3), not loopback, which
 * from a remote caller names anncd's own host and the services on it
 * (its IMAP server, its own SIP port: a loop), and not multicast,
 * reserved or broadcast (RFC 3261 section 18.1.1 lets maddr name a
 * group, but one caller must not make anncd speak to a whole network).
 */
static int
hop_unicast(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) != 0 && (h >> 24) != 127 && (h >> 28) < 0xe;
}

int
dialog_hop_addr(struct sip_str uri, struct sip_peer *to, const char **why)
{
	struct sip_uri u;
	struct sip_str host;
	char h[64];
	int rc;

	memset(to, 0, sizeof(*to));
	if (sip_uri_parse(uri.p, uri.n, &u, why) < 0)
		return -EINVAL;
	rc = hop_transport(&u, &to->tp, why);
	if (rc < 0)
		return rc;
	/* Section 19.1.1: maddr overrides the host as the address. */
	if (!sip_param_find(u.params, "maddr", &host) || host.n == 0)
		host = u.host;
	if (memchr(host.p, ':', host.n) != NULL || (host.n && *host.p == '[')) {
		*why = "IPv6 host";
		return -EAFNOSUPPORT;
	}
	if (host.n >= sizeof(h)) {
		*why = "host name";
		return -ENOENT;
	}
	memcpy(h, host.p, host.n);
	h[host.n] = '\0';
	if (inet_pton(AF_INET, h, &to->addr.sin_addr) != 1) {
		*why = "host name";
		return -ENOENT;
	}
	if (!hop_unicast(to->addr.sin_addr)) {
		*why = "not a unicast host";
		return -EADDRNOTAVAIL;
	}
	to->addr.sin_family = AF_INET;
	to->addr.sin_port = htons(u.port ? u.port :
				  to->tp == SIP_TP_TLS ? DIALOG_SIPS_PORT :
							 DIALOG_SIP_PORT);
	return 0;
}

int
dialog_build(const struct dialog *d, const struct dialog_req *rq, char *out,
	     size_t cap)
{
	struct dialog_route r;
	struct strbuf o;

	dialog_route(d, &r);
	strbuf_init(&o, out, cap);
	strbuf_putf(&o, "%s ", rq->method);
	strbuf_put(&o, r.ruri.p, r.ruri.n);
	strbuf_putf(&o, " SIP/2.0\r\nVia: %s;branch=z9hG4bK%s;rport\r\n"
		    "Max-Forwards: 70\r\n", rq->via, rq->branch);
	put_lines(&o, "Route: ", d->route + r.first, d->n_route - r.first);
	if (r.strict)
		strbuf_putf(&o, "Route: <%s>\r\n", d->target);
	strbuf_puts(&o, "From: ");
	strbuf_put(&o, d->local.p, d->local.n);
	strbuf_putf(&o, ";tag=%s\r\n", d->local_tag);
	put_lines(&o, "To: ", &d->remote, 1);
	put_lines(&o, "Call-ID: ", &d->call_id, 1);
	strbuf_putf(&o, "CSeq: %" PRIu32 " %s\r\n%s", rq->cseq, rq->method,
		    rq->extra ? rq->extra : "");
	if (rq->body != NULL)
		strbuf_puts(&o, "Content-Type: application/sdp\r\n");
	strbuf_putf(&o, "Content-Length: %zu\r\n\r\n",
		    rq->body ? rq->body_len : 0);
	if (rq->body != NULL)
		strbuf_put(&o, rq->body, rq->body_len);
	return strbuf_result(&o);
}
