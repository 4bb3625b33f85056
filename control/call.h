/* The private parts of the announcement service that its files share:
 * struct call, the call table and the functions one part calls in another.
 */
#ifndef ANNCD_CONTROL_CALL_H
#define ANNCD_CONTROL_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "control/annc.h"
#include "control/dialog.h"
#include "control/imap_client.h"
#include "control/imap_url.h"
#include "control/loop.h"
#include "control/sdp.h"
#include "control/sip_msg.h"
#include "control/sip_transport.h"
#include "control/sip_txn.h"
#include "control/sip_uas.h"
#include "control/sip_uri.h"
#include "control/stimer.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/media.h"
#include "dataplane/dp.h"
#include "dataplane/dp_decode.h"

#define SIP_MAX_DATAGRAM	65535	/* largest SIP message over UDP */
/* Largest message anncd builds: a response copies the request's Via,
 * From, To and Call-ID, and the BYE the INVITE's route set, each as long
 * as a whole message may be, plus our own lines and SDP. */
#define SIP_OUT_MAX		(SIP_MAX_DATAGRAM + 8192)
#define CALL_DEFAULT_PTIME	20	/* ms, RFC 3551 section 4.5 */
#define CALL_MAX_PTIME		150	/* keeps a G.711 packet under 1,500 */
#define CALL_END_GRACE_MS	2000	/* the dataplane's end, then ours */
#define CALL_REFRESH_RETRIES	8	/* 422s and 491s to our refresh in a
					 * row before the session is left to
					 * expire */
#define CALL_STREAM_BIT		0x80000000u	/* a handle's stream index */
/* A tracked message's cookie: the call's handle, never 0. */
#define CALL_COOKIE(c)		((uint64_t)1 << 32 | (c)->handle)
#define CALL_ALLOW \
	"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO\r\n"
#define CALL_SUPPORTED	"Supported: " SIP_UAS_SUPPORTED "\r\n"

#define CALL_LOG(lvl, c, fmt, ...) \
	LOG_AT(lvl, "call", "%s: " fmt, (c)->log_id, ##__VA_ARGS__)

enum call_state {
	CALL_FREE = 0,
	CALL_FETCHING,		/* waiting on the cache entry, 100 sent */
	CALL_ANSWERED,		/* 200 sent, waiting for the ACK */
	CALL_REJECTED,		/* final error sent, waiting for the ACK */
	CALL_STREAMING,		/* ACK came, the dataplane plays */
	CALL_BYE_SENT,		/* our BYE sent, waiting for its response */
	CALL_CLOSING,		/* over; waits for the stream to let go */
};

/* A retransmitted message: a final response of the INVITE server
 * transaction (timers G and H, RFC 3261 section 17.2.1; the 2xx per
 * section 13.3.1.4) or our BYE (timers E and F, section 17.1.2.2). */
struct call_rtx {
	char *msg;
	size_t len;
	uint64_t next_ms;
	uint64_t interval_ms;
	uint64_t max_interval_ms;	/* T2, or none for timer A */
	uint64_t give_up_ms;
};

/* One stream of a call: its m= line and what the dataplane plays on it. */
struct call_stream {
	struct sdp_stream st;		/* media_index -1: declined; dir
					 * inactive: nothing is sent */
	struct dp_stream_params sp;
	struct media_plan *own_plan;	/* when the entry had no room for it */
	uint64_t play_pkts;		/* packets of every play */
	uint64_t play_ms;		/* the plays and the delays between */
	uint32_t sent;			/* packets, from its event */
	int active;			/* the dataplane holds it */
	int started;			/* it was, once: never again */
};

struct call {
	enum call_state state;
	uint32_t handle;		/* slot index | generation << 20; its
					 * stream k is handle | k << 31 */
	struct call *hnext;		/* Call-ID hash chain */
	struct sip_peer peer;		/* where the INVITE came from */

	char *invite_buf;		/* the INVITE, kept for responses */
	struct sip_msg invite;
	char to_tag[20];
	char log_id[48];
	int last_code;			/* last response sent to the INVITE */
	struct call_rtx resp;		/* final response to the INVITE */
	struct call_rtx bye;		/* our BYE */
	char bye_branch[20];

	/* One use on the entry while waiting or playing: the entry holds
	 * the only owner's reference on the content, content borrows it.
	 */
	struct cache_entry *entry;
	struct cache_waiter waiter;
	struct content *content;
	enum media_type type;
	char ctype[64];
	int base64;
	/* What is sent (RFC 4240 section 3.3 and the SDP agreed on): a
	 * video content's audio goes as a second stream.
	 */
	struct call_stream str[SDP_MAX_STREAMS];
	unsigned int n_str;		/* m= lines of ours */
	unsigned int stream_active;	/* streams the dataplane holds */
	struct annc_play play;
	char play_log[160];		/* the RFC 4240 values, for the log */
	struct sdp_offer *offer;	/* late offer: ours, in the 200 */
	uint64_t end_ms;		/* the call ends by then at the latest */
	/* The dialog once established (RFC 3261 section 12.2.2). */
	struct dialog dlg;
	struct sip_peer hop;		/* where our requests go */
	struct sip_peer hop_uri;	/* the hop's own address (conn 0),
					 * when hop is the caller's
					 * connection; sin_family 0: none */
	uint64_t sess_version;		/* o= version of our last SDP */
	char *sdp;			/* our last SDP, for a re-INVITE */
	size_t sdp_len;
	struct call_rtx reresp;		/* 2xx to a re-INVITE, until its ACK */
	uint32_t reinvite_cseq;
	struct sdp_offer *reoffer;	/* ours in that 2xx: no offer came */
	struct stimer stimer;		/* RFC 4028, as last agreed */
	char se_line[80];		/* its header lines for a 2xx */
	uint64_t se_bye_ms;		/* no refresh by then: BYE; 0 none */
	/* anncd as refresher (RFC 4028 section 10): our UPDATE or
	 * re-INVITE, its client transaction and the ACK of its 2xx. */
	uint64_t ref_due_ms;		/* next refresh; 0 none */
	uint64_t se_end_ms;		/* the session expires then */
	struct call_rtx ref;		/* the refresh until its answer */
	char ref_branch[20];
	uint32_t ref_cseq;
	int ref_invite;			/* a re-INVITE, not an UPDATE */
	unsigned int ref_retries;	/* 422s and 491s since the last 2xx */
	int caller_update;		/* the caller's Allow has UPDATE */
	char *ref_ack;			/* the ACK of its 2xx */
	size_t ref_ack_len;
	uint64_t t_invite_ms;
	uint64_t t_answer_ms;
	uint32_t packets;
	uint64_t bytes;
	char result[96];
};


/* The parameters of the service URI (RFC 4240 section 3, RFC 5616
 * section 2.3) that decide what is fetched and how it is decoded. */
struct invite_req {
	struct annc_params ap;
	char ctype[64];			/* content-type, unescaped */
	char extra[64];			/* header lines for a refusal */
	struct annc_play opts;		/* repeat, delay, duration */
	struct sdp_refusal refusal;	/* a 488's Warning */
	struct stimer stimer;		/* RFC 4028 */
	char play[SIP_MAX_DATAGRAM];
	struct imap_url url;
	enum media_type type;
	struct media_ctype mt;		/* type with its parameters */
	int base64;
	const struct config_imap_server *server;
	const struct config_cred *cred;
};


/* annc.c: the configuration, our names per transport, the call table
 * and SIP output. */
extern const struct anncd_config *annc_cfg;
extern char annc_local_hostport[3][32];
extern char annc_contact_line[3][112];

struct call *
call_find(const struct sip_msg *m);
struct call *
call_by_handle(uint32_t handle);
void
call_drop_entry(struct call *c);
void
call_free(struct call *c);
void
call_close(struct call *c);
void
call_result(struct call *c, const char *fmt, const char *detail);
uint16_t
call_port_take(void);
void
annc_sip_send(const struct sip_peer *to, const char *msg, size_t len);
void
annc_sip_respond(const struct sip_msg *req, const struct sip_peer *to,
		 int code, const char *reason, const char *extra);
void
call_rtx_arm(struct call_rtx *r, char *msg, size_t len, uint64_t give_up_after);
void
call_rtx_stop(struct call_rtx *r);
int
call_rtx_due(struct call_rtx *r, uint64_t now);
void
call_keep_sdp(struct call *c, const char *sdp, size_t len);
void
call_final(struct call *c, int code, const char *reason, const char *extra,
	   const char *sdp, size_t sdp_len);
void
call_reject(struct call *c, int code, const char *reason);
int
call_to_tag_is_ours(const struct call *c, const struct sip_msg *m);
void
call_stimer_set(struct call *c, const struct stimer *t);
void
call_end_now(struct call *c, const char *why);

/* annc_refresh.c: anncd's own requests in the dialog. */
void
call_hop_set(struct call *c);
void
call_dialog_start(struct call *c);
int
call_hop_send(struct call *c, const char *msg, size_t len);
void
call_refresh_stop(struct call *c);
void
call_send_bye(struct call *c, const char *why);
void
annc_on_refresh_response(struct call *c, const struct sip_msg *m);
int
call_refresh_timers(struct call *c, uint64_t now);
void
annc_on_request_lost(uint64_t cookie, const struct sip_peer *to, int err);

/* annc_invite.c: the checks of an INVITE before its fetch. */
int
annc_offer_line_fault(const struct sdp_media *md);
extern const char *const annc_offer_fault_text[];
int
annc_invite_check(const struct sip_msg *m, struct invite_req *r, char *reason,
		  size_t cap);

/* annc_answer.c: negotiation, plans and the 200 OK. */
uint32_t
call_cap_ms(const struct call *c);
int
call_plan_stream(struct call *c, unsigned int k, const struct sdp_media *md,
		 struct sdp_refusal *why);
void
call_answer(struct call *c);

/* annc_fetch.c: the fetch of a content and its ingest. */
void
annc_on_decoded(struct dp_decode_job *j);
void
annc_fetch_abandon(void *arg);
void
call_fetch(struct call *c, const struct invite_req *r);

/* annc_reoffer.c: offers from the caller within the dialog. */
void
call_take_reanswer(struct call *c, const struct sip_msg *m);
void
annc_on_reinvite(struct call *c, const struct sip_msg *m,
		 const struct sip_peer *src);
void
annc_on_update_info(const struct sip_msg *m, const struct sip_peer *src);

/* annc_stream.c: the streams of a call on the dataplane. */
void
call_stop_streams(struct call *c);
void
call_begin(struct call *c);
void
call_time_up(struct call *c);
void
annc_on_dp_event(const struct dp_event *ev);

#endif
