/* SIP messages (RFC 3261 section 7): parsing a datagram into views of its
 * parts, and building responses to requests.  The parser does not copy:
 * every sip_str points into the buffer it was given, which must outlive
 * the sip_msg.
 */
#ifndef ANNCD_CONTROL_SIP_MSG_H
#define ANNCD_CONTROL_SIP_MSG_H

#include <stddef.h>
#include <stdint.h>

struct sip_str {
	const char *p;
	size_t n;
};

/* Via values kept; more gives 400.  Each proxy adds one and Max-Forwards
 * starts at 70 (RFC 3261 section 8.1.1.6), so a legal request has at
 * most 71. */
#define SIP_MAX_VIA	71
#define SIP_MAX_RR	16	/* Record-Route values kept */
#define SIP_MAX_LIST	8	/* Require, Accept, Allow headers kept */

struct sip_msg {
	int is_request;
	/* request line */
	struct sip_str method;
	struct sip_str ruri;
	/* status line */
	int status;
	struct sip_str reason;

	/* Each Via value on its own, top first; a header holding several
	 * comma-separated values gives several entries. */
	struct sip_str via[SIP_MAX_VIA];
	unsigned int n_via;
	struct sip_str branch;		/* branch parameter of the top Via */
	struct sip_str via_host;	/* sent-by host of the top Via */
	uint16_t via_port;		/* sent-by port, 0 if absent */
	struct sip_str via_received;	/* received= of the top Via */
	uint16_t via_rport;		/* rport= value of the top Via, 0 if none */

	struct sip_str from;		/* whole header values */
	struct sip_str to;
	struct sip_str from_tag;
	struct sip_str to_tag;
	struct sip_str call_id;
	uint32_t cseq;
	struct sip_str cseq_method;
	struct sip_str cseq_value;	/* the whole header value */
	struct sip_str contact_uri;	/* the URI inside Contact, no <> */
	struct sip_str record_route[SIP_MAX_RR];  /* each value, in order */
	unsigned int n_rr;
	struct sip_str require[SIP_MAX_LIST];	/* each header's value */
	unsigned int n_require;
	struct sip_str accept[SIP_MAX_LIST];
	unsigned int n_accept;
	struct sip_str supported[SIP_MAX_LIST];
	unsigned int n_supported;
	struct sip_str allow[SIP_MAX_LIST];	/* the methods a peer takes */
	unsigned int n_allow;
	/* RFC 4028 sections 4 and 5: 0 when absent. */
	int has_session_expires;	/* given, be it 0 */
	uint32_t session_expires;	/* delta-seconds */
	struct sip_str se_refresher;	/* "uac", "uas" or empty */
	uint32_t min_se;
	struct sip_str content_type;
	int max_forwards;		/* -1 when absent */
	long content_length;		/* -1 when absent */
	struct sip_str body;
	int fail_code;			/* after a failed parse: what a UAS
					 * answers (400, or 505 for another
					 * SIP version) */
};

/* How much of a header section is read (--sip-max-headers and
 * --sip-max-line-bytes): a message with more header fields than
 * max_headers, or one field longer than max_line bytes (its continuation
 * lines in, its CRLF out), is refused with a rule naming the option.
 */
#define SIP_MAX_HEADERS_DEFAULT		256
#define SIP_MAX_LINE_BYTES_DEFAULT	8192
struct sip_limits {
	unsigned int max_headers;
	size_t max_line;
};

/* Sets the limits for every later sip_parse; until then the defaults. */
void
sip_set_limits(const struct sip_limits *l);

/* Parses one message of len bytes.  Returns 0, or -1 with *why naming the
 * first rule that failed ("missing Call-ID", "bad CSeq") and m->fail_code;
 * a failed request is still read to its end, so that whatever headers are
 * sound can be copied into the answer.  Compact header forms (RFC 3261
 * section 7.3.3) and case-insensitive names are understood.
 */
int
sip_parse(const char *buf, size_t len, struct sip_msg *m, const char **why);

/* Whether one of list's comma-separated items (Supported, Require) is
 * tag, case-insensitively. */
int
sip_list_has(const struct sip_str *list, unsigned int n, const char *tag);

/* Compares a sip_str with a C string, case-sensitively or not. */
int
sip_str_eq(struct sip_str s, const char *c);
int
sip_str_caseeq(struct sip_str s, const char *c);

/* Builds a response to req into out (RFC 3261 section 8.2.6): Via values,
 * From, Call-ID and CSeq copied, To copied with ";tag=to_tag" added when
 * to_tag is non-NULL and req's To has no tag.  extra holds further header
 * lines, each ending in CRLF, or is NULL.  body_type and body may be NULL.
 * Returns the length written, or -1 when cap is too small.
 */
int
sip_build_response(char *out, size_t cap, const struct sip_msg *req,
		   int code, const char *reason, const char *to_tag,
		   const char *extra, const char *body_type,
		   const char *body, size_t body_len);

#endif
