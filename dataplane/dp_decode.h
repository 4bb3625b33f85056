/* Base64 decoding of a fetched attachment on the dataplane: the control
 * plane hands the worker the literal's text (a complete content) and an
 * empty content whose chunks are all allocated already; the worker
 * decodes a slice of the text per loop round, between pacing rounds, and
 * posts a DP_EV_DECODED event when it is done.  The control plane thread
 * never spends the decode's time, and the worker never allocates.
 */
#ifndef ANNCD_DATAPLANE_DP_DECODE_H
#define ANNCD_DATAPLANE_DP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/b64.h"
#include "core/content.h"

/* Text bytes the worker decodes per loop round.  The default is the one
 * bench-dataplane --decode found to leave the send error of 200,000
 * streams as it was (docs/PERFORMANCE.md); a slice costs well under a
 * wheel tick with the vector decoder.
 */
#define DP_DECODE_SLICE_MIN	1u
#define DP_DECODE_SLICE_MAX	(1u << 20)
#define DP_DECODE_SLICE_DEFAULT	16384u

struct dp_decode_job {
	/* The control plane's, set before dp_decode_submit() and left alone
	 * until the job's event has come back.
	 */
	struct content *text;		/* base64, complete; only read */
	struct content *out;		/* content_new_reserved(
					 * dp_decode_out_max(text->len)) */
	uint32_t slice;			/* text bytes per round */

	/* The outcome, once the event has come. */
	int status;			/* 0; -EILSEQ: err_byte at text offset
					 * err_offset is not base64; -EBADMSG:
					 * the text ends inside a quantum;
					 * -ECANCELED */
	uint64_t err_offset;
	uint8_t err_byte;
	uint64_t rounds;		/* slices it took */
	uint64_t busy_tsc;		/* TSC ticks spent decoding them */

	unsigned int worker;		/* dp_decode_submit() sent it there */

	/* The worker's while it holds the job. */
	int over;			/* decoded, or failed: event due */
	size_t text_off;
	struct b64_dec dec;
	struct dp_decode_job *next;
};

/* The most bytes text_len bytes of base64 decode to: three per four
 * characters, padding counted, white space not.
 */
static inline size_t
dp_decode_out_max(size_t text_len)
{
	return text_len / 4 * 3;
}

/* Queues the job to the worker with the fewest streams.  0; -EINVAL for a slice outside
 * DP_DECODE_SLICE_MIN..MAX or an output content too small or not
 * reserved; -ENOBUFS when the command ring is full; -ENODEV before
 * dp_start().
 */
int
dp_decode_submit(struct dp_decode_job *j);

/* Asks the worker to drop the job.  0 or -ENOBUFS: its event still comes
 * (-ECANCELED, or the outcome it reached first), and the job's memory is
 * the worker's until then.  -ENODEV: the dataplane has stopped, nothing
 * touches the job any more and no event will come.
 */
int
dp_decode_cancel(struct dp_decode_job *j);

/* Decodes up to budget more bytes of the job's text into its output.
 * Returns 1 when the job is over (status says how), 0 when text remains.
 * The worker's step; tests drive it directly.
 */
int
dp_decode_step(struct dp_decode_job *j, size_t budget);

#endif
