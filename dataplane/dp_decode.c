/* The worker's decode jobs: a FIFO of base64 attachments, the head one
 * decoded one slice per loop round after the pacer and the TX burst, so
 * that a round never takes more than a slice's decode longer than it
 * would.  The decoder's state lives in the job, so a quantum split across
 * slices or text chunks carries over.  The output's chunks were allocated
 * by the control plane; nothing here allocates, locks or logs.
 */
#include <errno.h>

#include <rte_cycles.h>

#include "dataplane/dp_decode.h"
#include "dataplane/dp_priv.h"

int
dp_decode_step(struct dp_decode_job *j, size_t budget)
{
	const uint8_t *p;
	size_t n;
	int rc;

	while (budget > 0 && content_span(j->text, j->text_off, &p, &n) == 0) {
		n = RTE_MIN(n, budget);
		rc = content_append_b64(j->out, &j->dec, (const char *)p, n);
		if (rc != 0) {
			/* -ENOSPC cannot happen with dp_decode_out_max()
			 * reserved; it is reported as it is all the same. */
			j->status = rc;
			j->err_offset = j->dec.err_offset;
			j->err_byte = j->dec.err_byte;
			return 1;
		}
		j->text_off += n;
		budget -= n;
	}
	if (j->text_off < j->text->len)
		return 0;
	/* RFC 2045 section 6.8: the text ends on a whole quantum, padded. */
	j->status = b64_finish(&j->dec) == 0 ? 0 : -EBADMSG;
	return 1;
}

static int
dp_decode_valid(const struct dp_decode_job *j)
{
	const struct content *o = j->out;

	return j->text != NULL && o != NULL && o->reserved && o->len == 0 &&
	       j->slice >= DP_DECODE_SLICE_MIN &&
	       j->slice <= DP_DECODE_SLICE_MAX &&
	       ((size_t)o->nchunks << CONTENT_CHUNK_SHIFT) >=
	       dp_decode_out_max(j->text->len);
}

int
dp_decode_submit(struct dp_decode_job *j)
{
	struct dp_cmd cmd = { .type = DP_CMD_DECODE, .job = j };
	int rc;

	if (!dp_decode_valid(j))
		return -EINVAL;
	j->status = 0;
	j->err_offset = 0;
	j->err_byte = 0;
	j->rounds = 0;
	j->busy_tsc = 0;
	j->over = 0;
	j->text_off = 0;
	j->next = NULL;
	b64_init(&j->dec);
	/* The ring's enqueue orders these stores before the worker's loads. */
	rc = dp_cmd_post(&cmd, -1);
	if (rc < 0)
		return rc;
	j->worker = (unsigned int)rc;
	return 0;
}

int
dp_decode_cancel(struct dp_decode_job *j)
{
	struct dp_cmd cmd = { .type = DP_CMD_DECODE_CANCEL, .job = j };
	int rc = dp_cmd_post(&cmd, (int)j->worker);

	return rc < 0 ? rc : 0;
}

static int
dp_decode_post(struct dp_worker *w, struct dp_decode_job *j)
{
	struct dp_event ev = { .type = DP_EV_DECODED, .job = j,
			       .bytes = j->out->len };

	return rte_ring_sp_enqueue_elem(w->ev_ring, &ev, sizeof(ev));
}

/* A cancel may name a job whose event is already on its way (the control
 * plane had not read it yet): then it is not in the queue, and the
 * pointer is only compared, never followed.  Commands come in order, so
 * a later job at the same address cannot be queued before the cancel.
 */
static void
dp_decode_drop(struct dp_worker *w, struct dp_decode_job *j)
{
	struct dp_decode_job **pp = &w->dec_head, *prev = NULL;

	while (*pp != NULL && *pp != j) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = j->next;
	if (w->dec_tail == j)
		w->dec_tail = prev;
	if (!j->over)
		j->status = -ECANCELED;
	/* dp_cmds() takes a command only when the event ring has room. */
	dp_decode_post(w, j);
}

void
dp_decode_cmd(struct dp_worker *w, const struct dp_cmd *cmd)
{
	struct dp_decode_job *j = cmd->job;

	if (cmd->type == DP_CMD_DECODE_CANCEL) {
		dp_decode_drop(w, j);
		return;
	}
	j->next = NULL;
	if (w->dec_tail != NULL)
		w->dec_tail->next = j;
	else
		w->dec_head = j;
	w->dec_tail = j;
}

/* One slice of the head job, then its event once it is over; an event
 * that finds the ring full is posted on a later round, and the jobs
 * behind wait for it.  Returns 1 when there was a job: a busy round.
 */
unsigned int
dp_decode_run(struct dp_worker *w)
{
	struct dp_decode_job *j = w->dec_head;
	uint64_t t0;

	if (likely(j == NULL))
		return 0;
	if (!j->over) {
		t0 = rte_rdtsc();
		j->over = dp_decode_step(j, j->slice);
		j->busy_tsc += rte_rdtsc() - t0;
		j->rounds++;
	}
	if (!j->over || dp_decode_post(w, j) != 0)
		return 1;
	w->dec_head = j->next;
	if (w->dec_head == NULL)
		w->dec_tail = NULL;
	return 1;
}
