/* The fetch path: the content's cache entry, its URLFETCH (RFC 5616
 * section 2.4), the dataplane's base64 decode and the ingest into
 * packet plans, then the calls that waited on it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/call.h"

/* The one fetch of a cache entry, whichever call started it: what the
 * content is to be probed as once it is here, and the IMAP client's
 * handle, to cancel it when no call waits any more.  A base64 literal is
 * then decoded by the dataplane (job.text set until its event comes);
 * entry goes NULL when every call has gone meanwhile.
 */
struct annc_fetch {
	struct cache_entry *entry;
	struct imap_fetch *imap;
	struct media_ctype mt;
	char ctype[64];
	struct dp_decode_job job;
};

/* Calls share an entry only when they ask for the same decoding and the
 * same probe of the part.
 */
static uint32_t
req_form(const struct media_ctype *mt, int base64)
{
	return media_ctype_form(mt) | (uint32_t)(base64 != 0) << 31;
}

/* What the server said about the URL or the part (NIL, NO, a bad
 * literal) stays true for a while and is remembered; a connection that
 * could not be made or was lost says nothing about the next attempt.
 */
static int
fetch_failure_transient(int status)
{
	return status != -ENOENT && status != -EPROTO && status != -EINVAL;
}

/* Once per entry, at ingest: every call that plays the content uses the
 * media_info found here.  0, or -1 with the status and reason to refuse
 * every waiting call with.
 */
static int
fetched_probe(const struct annc_fetch *f, struct content *ct, int *code,
	      char *reason, size_t cap)
{
	const char *why = "unplayable";

	if (content_probe(ct, &f->mt, &why) < 0) {
		snprintf(reason, cap, "Unplayable %s: %s", f->ctype, why);
		*code = 415;
		return -1;
	}
	if (ct->mi.data_len == 0) {
		snprintf(reason, cap, "Attachment holds no audio");
		*code = 404;
		return -1;
	}
	return 0;
}

/* RFC 5616 section 2.4: any failed URLFETCH is a 404 with its reason; a
 * part that cannot be played is refused as well.  Both are one cache_fail
 * for every call waiting.
 */
static void
fetch_ingest(struct annc_fetch *f, int status, const char *reason,
	     struct content *ct)
{
	struct cache_entry *e = f->entry;
	char res[128];
	int code = 404;

	e->fetch = NULL;
	if (status != 0) {
		free(f);
		cache_fail(e, 404, reason, loop_now_ms(),
			   fetch_failure_transient(status));
		return;
	}
	if (fetched_probe(f, ct, &code, res, sizeof(res)) < 0) {
		free(f);
		content_put(ct);
		/* Unplayable as this content-type, perhaps not as another:
		 * not remembered, so a call naming the right type fetches
		 * anew. */
		cache_fail(e, code, res, loop_now_ms(), 1);
		return;
	}
	free(f);
	cache_complete(e, ct, ct->len);
}

/* The base64 text goes to the dataplane, which decodes it in slices into
 * chunks allocated here; the entry stays FETCHING until its event.
 */
static int
fetch_decode(struct annc_fetch *f, struct content *text)
{
	struct content *out;
	int rc;

	out = content_new_reserved(dp_decode_out_max(text->len));
	if (out == NULL)
		return -ENOMEM;
	memset(&f->job, 0, sizeof(f->job));
	f->job.text = text;
	f->job.out = out;
	f->job.slice = annc_cfg->decode_slice;
	rc = dp_decode_submit(&f->job);
	if (rc != 0) {
		content_put(out);
		f->job.text = NULL;
	}
	return rc;
}

static void
on_fetched(void *arg, int status, const char *reason, struct content *ct,
	   int base64)
{
	struct annc_fetch *f = arg;

	f->imap = NULL;
	if (status == 0 && base64) {
		if (fetch_decode(f, ct) == 0)
			return;
		content_put(ct);
		ct = NULL;
		status = -ENOBUFS;
		reason = "Cannot decode the attachment now";
	}
	fetch_ingest(f, status, reason, ct);
}

static void
decode_free(struct annc_fetch *f)
{
	content_put(f->job.text);
	content_put(f->job.out);
	free(f);
}

/* The dataplane's decode is over; the text goes.  An invalid byte is
 * named by its offset in the literal, as the server sent it.
 */
void
annc_on_decoded(struct dp_decode_job *j)
{
	struct annc_fetch *f = container_of(j, struct annc_fetch, job);
	struct content *out = j->out;
	char reason[96];

	if (f->entry == NULL || j->status == -ECANCELED) {
		decode_free(f);
		return;
	}
	content_put(j->text);
	if (j->status == 0) {
		content_trim(out);
		fetch_ingest(f, 0, "OK", out);
		return;
	}
	content_put(out);
	if (j->status == -EILSEQ)
		snprintf(reason, sizeof(reason), "attachment is not base64: "
			 "byte 0x%02x at offset %" PRIu64, j->err_byte,
			 j->err_offset);
	else
		snprintf(reason, sizeof(reason), "attachment base64 is %s",
			 j->status == -EBADMSG ? "truncated" : "undecodable");
	fetch_ingest(f, -EPROTO, reason, NULL);
}

/* The cache's abandon hook: the last call waiting on a fetch has gone. */
void
annc_fetch_abandon(void *arg)
{
	struct annc_fetch *f = arg;

	if (f == NULL)
		return;
	if (f->imap != NULL) {
		imap_fetch_cancel(f->imap);
	} else if (f->job.text != NULL) {
		/* The worker holds the job: annc_on_decoded() frees it. */
		f->entry = NULL;
		if (dp_decode_cancel(&f->job) != -ENODEV)
			return;
		decode_free(f);
		return;
	}
	free(f);
}

/* The log names a fetch by server, message and a short hash of the
 * pawn-ticket token, never the token itself. */
static void
fetch_log_id(const struct call *c, const struct imap_url *u, char *out,
	     size_t cap)
{
	uint32_t h = (uint32_t)XXH3_64bits(u->token.p, u->token.n);

	snprintf(out, cap, "%s %.*s:%u uid %.*s section %.*s token#%08" PRIx32,
		 c->log_id, (int)(u->host.n > 32 ? 32 : u->host.n), u->host.p,
		 u->port, (int)(u->uid.n > 12 ? 12 : u->uid.n), u->uid.p,
		 (int)(u->section.n > 12 ? 12 : u->section.n), u->section.p, h);
}

/* Starts the one URLFETCH of a new entry (RFC 4467 section 7). */
static int
entry_fetch(struct call *c, struct cache_entry *e, const struct invite_req *r)
{
	struct imap_fetch_req fr;
	struct annc_fetch *f;
	char log_id[160];

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->entry = e;
	f->mt = r->mt;
	memcpy(f->ctype, r->ctype, sizeof(f->ctype));
	fetch_log_id(c, &r->url, log_id, sizeof(log_id));
	memset(&fr, 0, sizeof(fr));
	fr.url = r->ap.play;
	fr.url_len = r->ap.play_len;
	fr.server = r->server->addr;
	fr.user = r->cred ? r->cred->user : NULL;
	fr.pass = r->cred ? r->cred->pass : NULL;
	fr.base64 = r->base64;
	fr.max_literal = annc_cfg->max_content;
	fr.timeout_ms = annc_cfg->imap_timeout_ms;
	fr.host = r->server->host;
	fr.security = r->server->security;
	fr.plaintext_ok = r->server->plaintext_ok;
	fr.log_id = log_id;
	f->imap = imap_fetch_start(&fr, on_fetched, f);
	if (f->imap == NULL) {
		free(f);
		return -EAGAIN;
	}
	e->fetch = f;
	CALL_LOG(LOGL_DEBUG, c, "fetching %s", log_id);
	return 0;
}

/* The entry is READY or FAILED: answer, or refuse as the fetch was
 * refused, without asking the server again.
 */
static void
call_proceed(struct call *c, struct cache_entry *e)
{
	if (e->state == CACHE_FAILED) {
		call_reject(c, e->status, e->reason);
		return;
	}
	c->content = e->content;
	call_answer(c);
}

static void
on_entry_done(struct cache_waiter *w, struct cache_entry *e)
{
	call_proceed(container_of(w, struct call, waiter), e);
}

/* The content for the play URL: from the cache, from the fetch another
 * call has started, or from a fetch of its own; exactly one URLFETCH per
 * URL and form in flight, keyed by the URL exactly as received and by
 * the content-type and encoding the call names: a caller who names them
 * wrong gets its own entry, and cannot have the URL held as what it
 * said for every caller after it.
 */
void
call_fetch(struct call *c, const struct invite_req *r)
{
	static char key[sizeof(r->play) + 16];
	uint32_t form = req_form(&r->mt, r->base64);
	struct cache_entry *e;
	int rc, n;

	n = snprintf(key, sizeof(key), "%08" PRIx32 " %s", form, r->ap.play);
	rc = n < 0 || (size_t)n >= sizeof(key) ? -ENOSPC :
	     cache_get(key, (size_t)n, r->url.has_expire ? r->url.expire : 0,
		       loop_now_ms(), time(NULL), &e);
	if (rc < 0) {
		call_reject(c, rc == -ETIME ? 404 : 503, rc == -ETIME ?
			    "URL expired" : "Content cache full");
		return;
	}
	c->entry = e;
	if (rc == 1) {
		e->form = form;
		if (entry_fetch(c, e, r) < 0) {
			call_reject(c, 503, "Cannot reach IMAP server now");
			return;
		}
	} else if (e->state != CACHE_FAILED && e->form != form) {
		call_reject(c, 415, "Part held as another content-type");
		return;
	}
	if (e->state == CACHE_FETCHING)
		cache_wait(e, &c->waiter, on_entry_done);
	else
		call_proceed(c, e);
}

