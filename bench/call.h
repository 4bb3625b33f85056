/* anncd-call, the mail client's half of a streamed attachment (RFC 5616):
 * the pieces shared by its IMAP, SIP and RTP files.  Everything here is a
 * test tool: blocking sockets, one call at a time, bounded by one deadline.
 */
#ifndef ANNCD_BENCH_CALL_H
#define ANNCD_BENCH_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define CALL_MAX_SERVERS	8
#define CALL_MAX_CODECS		8
#define CALL_URL_MAX		4096
#define CALL_MAX_MEDIA		4	/* m= lines of an --offer */

/* One payload format of an offered m= line (RFC 4566 section 6). */
struct call_fmt {
	uint8_t pt;
	char rtpmap[48];		/* "AMR/8000", "L16/8000/2" */
	char fmtp[160];			/* "octet-align=1", or empty */
};

struct call_offer {
	char kind[8];			/* "audio" or "video" */
	struct call_fmt fmts[CALL_MAX_CODECS];
	unsigned int n_fmts;
};

struct call_opts {
	/* IMAP side: where the attachment lives */
	const char *imap;		/* HOST:PORT, also the URL authority */
	const char *user;
	const char *pass_file;
	const char *mailbox;
	unsigned long uid;
	const char *access;		/* "anonymous" or "authuser" */
	unsigned long expire_s;

	/* or a ready URL, no IMAP at all */
	const char *play_url;
	const char *content_type;
	const char *cte;

	const char *netns;
	int escape_raw;
	int tamper_token;

	/* SIP and RTP side */
	const char *servers[CALL_MAX_SERVERS];
	unsigned int n_servers;
	const char *local;
	uint16_t sip_port;
	uint16_t rtp_port;
	uint8_t pts[CALL_MAX_CODECS];	/* offered payload types, in order */
	unsigned int n_pts;
	struct call_offer offers[CALL_MAX_MEDIA];	/* --offer: these m=
							 * lines instead */
	unsigned int n_offers;
	unsigned int ptime;
	const char *direction;		/* a= direction of the offer */
	const char *sdp_addr;		/* c= of the offer, NULL: local */
	unsigned int linger_ms;
	unsigned int ack_after;		/* ACK the Nth copy of the 2xx */
	double timeout_s;
	const char *out;
	int verbose;
};

/* What the IMAP session found out about the attachment. */
struct call_media {
	char url[CALL_URL_MAX];		/* the pawn-ticket URL */
	char ctype[128];		/* "audio/basic", lowercase */
	char cte[64];			/* "base64", lowercase, may be empty */
	char section[64];
	uint8_t *decoded;		/* the part, transfer-decoded */
	size_t decoded_len;
	size_t ref_off;			/* the playable payload in decoded */
	size_t ref_len;
	int have_ref;			/* 0: identical check is "unknown" */
	char error[200];		/* why the IMAP part failed */
};

/* Monotonic time in seconds, and the deadline that bounds the whole run. */
double
call_now(void);
extern double call_deadline;

/* Runs the IMAP part: login, find the first audio or video part of the
 * message, GENURLAUTH for it, fetch and decode it.  Returns 0 or -errno
 * after printing why.
 */
int
call_imap_run(const struct call_opts *o, struct call_media *m);

/* A body structure item (RFC 3501 section 7.4.2) reduced to what the
 * caller needs: the first audio or video part.
 */
struct bs_found {
	char section[64];
	char type[64];
	char subtype[64];
	char encoding[64];
};

/* Parses the FETCH response data (from the '(' after FETCH, literals
 * inline as {n}CRLF and n bytes) and finds the first audio or video
 * part.  Returns 0, -ENOENT when there is none, -ENODATA when the data
 * holds no BODYSTRUCTURE item, -EBADMSG when malformed.
 */
int
bs_find_media(const char *p, size_t n, struct bs_found *f);

/* Finds the value of the FETCH item whose name starts with prefix
 * ("BODY[") in the same FETCH response data: sets *v and *vn to the
 * string, literal or atom.  Returns 0, -ENOENT, or -EBADMSG.
 */
int
bs_find_item(const char *p, size_t n, const char *prefix,
	     const char **v, size_t *vn);

/* One RTP packet as it arrived (RFC 3550 section 5.1). */
struct rtp_rec {
	double t;			/* CLOCK_MONOTONIC seconds */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t marker;
	uint8_t pt;
	size_t off;			/* payload in the store's byte buffer */
	size_t len;
};

struct rtp_store {
	struct rtp_rec *pkt;
	size_t n, cap;
	uint8_t *bytes;
	size_t nbytes, bytes_cap;
	unsigned long after_bye;	/* packets that came after the BYE */
	unsigned long rtcp;		/* RTCP packets seen on port + 1 */
	unsigned long rtcp_sr;		/* of them, starting with an SR */
	unsigned long rtcp_bye;		/* of them, holding a BYE */
	unsigned long bad;		/* datagrams that were not RTP */
};

int
rtp_store_add(struct rtp_store *s, const uint8_t *d, size_t n, double t);
void
rtp_store_free(struct rtp_store *s);

/* The call as the SIP side saw it. */
struct call_result {
	int status;			/* final response code, 0 if none */
	char reason[256];
	double setup_ms;		/* INVITE sent to 200 received */
	int bye;			/* the server sent the BYE */
	double bye_t;
	int timed_out;			/* the run's deadline ended the call */
	double invite_t;		/* when the answered INVITE went out */
	char server[128];		/* the server that gave the result */
	char remote_media[64];		/* c= and m= port of the answer */
	int answer_pt;			/* first payload type of the answer */
	unsigned int ok_copies;		/* copies of the 2xx received */
};

/* Places the call to each server in turn until one does not refuse it
 * (RFC 5616 section 2.3), receiving RTP into s.  Returns 0 or -errno for
 * a local failure (sockets, options).
 */
int
call_sip_run(const struct call_opts *o, const char *ruri_params,
	     struct rtp_store *s, struct call_result *r);

/* Prints the human summary and the result= line, writes the .au file.
 * Returns the exit code of the program.
 */
int
call_report(const struct call_opts *o, const struct call_media *m,
	    const struct rtp_store *s, const struct call_result *r);

/* Encoding name and RTP clock rate of a static payload type that the
 * offer may carry (RFC 3551 section 6), or NULL.
 */
const char *
call_codec_name(unsigned int pt, unsigned int *clock);

/* The static payload type of an encoding name that --codecs knows. */
int
call_codec_pt(const char *name, unsigned long *pt);

/* Adds the m= line of one --offer SPEC, "KIND:FMT[|FMT...]" with FMT a
 * static type ("0", "PCMU") or "PT=NAME/CLOCK[/CH][;FMTP]".  Returns 0 or
 * -EINVAL.
 */
int
call_offer_parse(const char *spec, struct call_opts *o);

/* Writes the offered m= lines and their attributes, stream i on
 * o->rtp_port + 2 i.  Returns the length or -EMSGSIZE.
 */
int
call_offer_media(const struct call_opts *o, char *out, size_t cap);

/* Splits "host:port" (IPv4 or name) into a sockaddr.  Returns 0 or
 * -EINVAL.
 */
int
call_resolve(const char *hostport, uint16_t def_port,
	     struct sockaddr_in *sa);

#endif
