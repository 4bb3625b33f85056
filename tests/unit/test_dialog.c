/* The dialog of control/dialog.c on parsed INVITEs: remote target and
 * route set (RFC 3261 section 12.1.1), loose and strict routing of the
 * requests anncd sends (section 12.2.1.1, its examples and those of
 * section 16.12.1.2), the next hop's address and transport, target
 * refresh, and the requests built.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/dialog.h"
#include "control/sip_msg.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define HEAD	"INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" \
		"Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKdl\r\n" \
		"From: \"A\" <sip:a@192.0.2.5>;tag=f1\r\n" \
		"To: <sip:annc@192.0.2.1>\r\n" \
		"Call-ID: dl-1\r\nCSeq: 7 INVITE\r\n"

static struct guard_buf g;
static struct sip_msg m;

/* A dialog from an INVITE with hdrs (Contact, Record-Route). */
static int
dialog_from(const char *hdrs, struct dialog *d)
{
	static char msg[2048];
	const char *why = "";
	int n = snprintf(msg, sizeof(msg), HEAD "%sContent-Length: 0\r\n\r\n",
			 hdrs);

	if (g.map != NULL)
		guard_free(&g);
	CHECK_INT(sip_parse(guard_copy(&g, msg, (size_t)n), (size_t)n, &m,
			    &why), 0);
	memset(d, 0, sizeof(*d));
	return dialog_init(d, &m, "ourtag", &why);
}

static int
hop(const char *uri, struct sip_peer *p)
{
	const char *why = "";

	return dialog_hop_addr((struct sip_str){ uri, strlen(uri) }, p, &why);
}

static void
check_hop(const char *uri, enum sip_tp tp, const char *ip, unsigned port)
{
	struct sip_peer p;
	char a[INET_ADDRSTRLEN] = "";

	CHECK_INT(hop(uri, &p), 0);
	inet_ntop(AF_INET, &p.addr.sin_addr, a, sizeof(a));
	if (strcmp(a, ip) != 0 || ntohs(p.addr.sin_port) != port ||
	    p.tp != tp) {
		fprintf(stderr, "%s: %s:%u tp %d, want %s:%u tp %d\n", uri, a,
			ntohs(p.addr.sin_port), p.tp, ip, port, tp);
		check_failures++;
	}
	CHECK_INT(p.conn, 0);
}

static void
test_no_route(void)
{
	char out[4];
	struct dialog d;
	struct dialog_route r;

	CHECK_INT(dialog_from("Contact: <sip:a@198.18.0.9:5072>\r\n", &d), 0);
	CHECK_INT(d.remote_cseq, 7);
	CHECK_INT(d.n_route, 0);
	/* No Record-Route: nothing to copy, an empty string. */
	out[0] = 'x';
	CHECK_INT(dialog_rr_lines(&m, out, 1), 0);
	CHECK_INT(out[0], '\0');
	dialog_route(&d, &r);
	CHECK_STRN(r.ruri.p, r.ruri.n, "sip:a@198.18.0.9:5072");
	CHECK_STRN(r.hop.p, r.hop.n, "sip:a@198.18.0.9:5072");
	CHECK_INT(r.strict, 0);
	/* No Contact: no dialog anncd could send in. */
	CHECK_INT(dialog_from("", &d), -EINVAL);
}

/* The Record-Route lines the 2xx copies (section 12.1.1) of the INVITE
 * parsed last, exactly as long as dialog_rr_size says.
 */
static void
test_rr_lines(void)
{
	const char *want = "Record-Route: <sip:p2.domain.com;lr>\r\n"
			   "Record-Route: <sip:p1.example.com;lr>\r\n";
	size_t n = strlen(want);
	char out[256];

	CHECK_INT(dialog_rr_size(&m), n);
	CHECK_INT(dialog_rr_lines(&m, out, sizeof(out)), n);
	CHECK_STRN(out, strlen(out), want);
	CHECK_INT(dialog_rr_lines(&m, out, n), -1);
	CHECK_INT(dialog_rr_lines(&m, out, n + 1), n);
}

/* Section 16.12.1.2: a route set of loose routers keeps the remote
 * target as Request-URI; the next hop is the first route.
 */
static void
test_loose(void)
{
	struct dialog d;
	struct dialog_route r;

	CHECK_INT(dialog_from("Contact: <sip:callee@u2.domain.com>\r\n"
			      "Record-Route: <sip:p2.domain.com;lr>\r\n"
			      "Record-Route: <sip:p1.example.com;lr>\r\n",
			      &d), 0);
	CHECK_INT(d.n_route, 2);
	dialog_route(&d, &r);
	CHECK_STRN(r.ruri.p, r.ruri.n, "sip:callee@u2.domain.com");
	CHECK_STRN(r.hop.p, r.hop.n, "sip:p2.domain.com;lr");
	CHECK_INT(r.first, 0);
	CHECK_INT(r.strict, 0);
	test_rr_lines();
	/* One Record-Route header with both values: the same order. */
	CHECK_INT(dialog_from("Contact: <sip:c@198.18.0.9>\r\n"
			      "Record-Route: <sip:198.18.0.7;lr>, "
			      "<sip:198.18.0.8;lr>\r\n", &d), 0);
	CHECK_INT(d.n_route, 2);
	CHECK_STRN(d.route[1].p, d.route[1].n, "<sip:198.18.0.8;lr>");
}

/* Section 12.2.1.1's example: a strict first route becomes the
 * Request-URI, the remote target the last Route.
 */
static void
test_strict(void)
{
	static char out[4096];
	struct dialog d;
	struct dialog_route r;
	struct dialog_req rq = { "BYE", 2, "SIP/2.0/UDP 192.0.2.1:5060", "b1",
				 NULL, NULL, 0 };
	int n;

	CHECK_INT(dialog_from("Contact: <sip:user@remoteua>\r\n"
			      "Record-Route: <sip:proxy1>, <sip:proxy2>, "
			      "<sip:proxy3;lr>, <sip:proxy4>\r\n", &d), 0);
	dialog_route(&d, &r);
	CHECK_STRN(r.ruri.p, r.ruri.n, "sip:proxy1");
	CHECK_STRN(r.hop.p, r.hop.n, "sip:proxy1");
	CHECK_INT(r.strict, 1);
	n = dialog_build(&d, &rq, out, sizeof(out));
	CHECK(n > 0);
	CHECK(strstr(out, "BYE sip:proxy1 SIP/2.0\r\n") == out);
	CHECK(strstr(out, "Route: <sip:proxy2>\r\nRoute: <sip:proxy3;lr>\r\n"
		      "Route: <sip:proxy4>\r\nRoute: <sip:user@remoteua>\r\n")
	      != NULL);
	CHECK(strstr(out, "Route: <sip:proxy1>") == NULL);
}

static void
test_build(void)
{
	static char out[4096];
	struct dialog d;
	struct dialog_req rq = { "UPDATE", 3, "SIP/2.0/UDP 192.0.2.1:5060",
				 "b2", "Session-Expires: 90;refresher=uac\r\n",
				 NULL, 0 };
	const char *want =
		"UPDATE sip:a@198.18.0.9:5072 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb2;rport\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:198.18.0.7;lr>\r\n"
		"From: <sip:annc@192.0.2.1>;tag=ourtag\r\n"
		"To: \"A\" <sip:a@192.0.2.5>;tag=f1\r\n"
		"Call-ID: dl-1\r\n"
		"CSeq: 3 UPDATE\r\n"
		"Session-Expires: 90;refresher=uac\r\n"
		"Content-Length: 0\r\n\r\n";

	CHECK_INT(dialog_from("Contact: <sip:a@198.18.0.9:5072>\r\n"
			      "Record-Route: <sip:198.18.0.7;lr>\r\n", &d), 0);
	CHECK_INT(dialog_build(&d, &rq, out, sizeof(out)), (int)strlen(want));
	CHECK_STRN(out, strlen(out), want);
	/* One byte short of the message and its NUL: refused. */
	CHECK_INT(dialog_build(&d, &rq, out, strlen(want)), -1);
	rq.body = "v=0\r\n";
	rq.body_len = 5;
	CHECK(dialog_build(&d, &rq, out, sizeof(out)) > 0);
	CHECK(strstr(out, "Content-Type: application/sdp\r\n"
		      "Content-Length: 5\r\n\r\nv=0\r\n") != NULL);
}

/* Section 12.2.2: an accepted target refresh replaces the target; a
 * Contact that is no SIP URI leaves it as it was.
 */
static void
test_target_refresh(void)
{
	struct dialog d;
	struct dialog_route r;
	const char *bad = "http://198.18.0.9/";
	char big[DIALOG_MAX_URI + 8];

	CHECK_INT(dialog_from("Contact: <sip:a@198.18.0.9:5072>\r\n", &d), 0);
	CHECK_INT(dialog_set_target(&d, (struct sip_str){ "sip:a@198.18.0.9:5074",
							  21 }), 0);
	dialog_route(&d, &r);
	CHECK_STRN(r.ruri.p, r.ruri.n, "sip:a@198.18.0.9:5074");
	CHECK_INT(dialog_set_target(&d, (struct sip_str){ bad, strlen(bad) }),
		  -EINVAL);
	/* DIALOG_MAX_URI at its edge: one byte is the NUL's. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "sip:", 4);
	CHECK_INT(dialog_set_target(&d, (struct sip_str){ big,
							  DIALOG_MAX_URI }),
		  -EINVAL);
	CHECK_INT(dialog_set_target(&d, (struct sip_str){ big,
							  DIALOG_MAX_URI - 1 }),
		  0);
	CHECK_INT(strlen(d.target), DIALOG_MAX_URI - 1);
	CHECK_INT(dialog_set_target(&d, (struct sip_str){ "sip:a@198.18.0.9:5074",
							  21 }), 0);
	CHECK_STRN(d.target, strlen(d.target), "sip:a@198.18.0.9:5074");
}

static void
test_hop_addr(void)
{
	struct sip_peer p;

	check_hop("sip:a@198.18.0.9", SIP_TP_UDP, "198.18.0.9", 5060);
	check_hop("sip:a@198.18.0.9:5072", SIP_TP_UDP, "198.18.0.9", 5072);
	check_hop("sip:198.18.0.7;lr", SIP_TP_UDP, "198.18.0.7", 5060);
	check_hop("sip:a@198.18.0.9;transport=tcp", SIP_TP_TCP, "198.18.0.9",
		  5060);
	check_hop("sip:a@198.18.0.9;transport=TLS", SIP_TP_TLS, "198.18.0.9",
		  5061);
	check_hop("sips:a@198.18.0.9", SIP_TP_TLS, "198.18.0.9", 5061);
	check_hop("sips:a@198.18.0.9:5071;transport=tcp", SIP_TP_TLS,
		  "198.18.0.9", 5071);
	/* Section 19.1.1: maddr before the host. */
	check_hop("sip:a@proxy.example.com;maddr=198.18.0.4;lr", SIP_TP_UDP,
		  "198.18.0.4", 5060);
	/* What anncd will not resolve or cannot send on. */
	CHECK_INT(hop("sip:a@proxy.example.com", &p), -ENOENT);
	CHECK_INT(hop("sip:a@[2001:db8::9]:5060", &p), -EAFNOSUPPORT);
	CHECK_INT(hop("sip:a@198.18.0.9;transport=sctp", &p),
		  -EPROTONOSUPPORT);
	CHECK_INT(hop("sips:a@198.18.0.9;transport=udp", &p),
		  -EPROTONOSUPPORT);
	CHECK_INT(hop("mailto:a@198.18.0.9", &p), -EINVAL);
	/* A hostile Contact or Record-Route: anncd's own host and its
	 * services, a group or a whole network, directly or by maddr. */
	CHECK_INT(hop("sip:a@127.0.0.1:143;transport=tcp", &p),
		  -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@127.255.0.1", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@0.0.0.0:5060", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@0.1.2.3", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@224.0.0.1", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@239.255.255.250;ttl=16", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@240.0.0.1", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@255.255.255.255", &p), -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@198.18.0.9;maddr=224.0.1.75;ttl=1", &p),
		  -EADDRNOTAVAIL);
	CHECK_INT(hop("sip:a@198.18.0.9;maddr=127.0.0.1", &p),
		  -EADDRNOTAVAIL);
	/* The edges of those ranges are callers like any other. */
	check_hop("sip:a@1.0.0.0", SIP_TP_UDP, "1.0.0.0", 5060);
	check_hop("sip:a@126.255.255.255", SIP_TP_UDP, "126.255.255.255", 5060);
	check_hop("sip:a@128.0.0.0", SIP_TP_UDP, "128.0.0.0", 5060);
	check_hop("sip:a@223.255.255.255", SIP_TP_UDP, "223.255.255.255",
		  5060);
	/* Port 0 and 65536 are no ports (RFC 3261 section 25.1). */
	CHECK_INT(hop("sip:a@198.18.0.9:0", &p), -EINVAL);
	CHECK_INT(hop("sip:a@198.18.0.9:65536", &p), -EINVAL);
	check_hop("sip:a@198.18.0.9:65535", SIP_TP_UDP, "198.18.0.9", 65535);
	/* lr with a value is still loose; a user part with escapes. */
	check_hop("sip:%61%40b@198.18.0.9;lr=garbage", SIP_TP_UDP,
		  "198.18.0.9", 5060);
}

static void
test_uri_of(void)
{
	struct sip_str s = { "\"P\" <sip:p1;lr>;x=1", 19 };
	struct sip_str u = dialog_uri_of(s);

	CHECK_STRN(u.p, u.n, "sip:p1;lr");
	s = (struct sip_str){ "sip:p1;lr", 9 };
	u = dialog_uri_of(s);
	CHECK_STRN(u.p, u.n, "sip:p1;lr");
	/* A quoted display name may hold '<', '>' and escaped quotes. */
	s.p = "\"a<b>\\\"<c\" <sip:p2;lr>";
	s.n = strlen(s.p);
	u = dialog_uri_of(s);
	CHECK_STRN(u.p, u.n, "sip:p2;lr");
}

int
main(void)
{
	test_no_route();
	test_loose();
	test_strict();
	test_build();
	test_target_refresh();
	test_hop_addr();
	test_uri_of();
	if (g.map != NULL)
		guard_free(&g);
	return CHECK_DONE();
}
