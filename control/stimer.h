/* Session timers (RFC 4028) for anncd as UAS: what to answer a
 * request's Session-Expires and Min-SE with, when a session left without
 * refresh is ended, and when anncd, named refresher, refreshes it and
 * what the 2xx to its refresh leaves.  No I/O: annc.c applies the
 * decisions.
 */
#ifndef ANNCD_CONTROL_STIMER_H
#define ANNCD_CONTROL_STIMER_H

#include <stddef.h>
#include <stdint.h>

#include "control/sip_msg.h"

#define STIMER_BYE_MARGIN_S	32	/* RFC 4028 section 10 */
#define STIMER_MAX_S		86400	/* longest interval or Min-SE taken */
#define STIMER_MIN_S		90	/* no Min-SE is shorter (section 4) */

enum stimer_use {
	STIMER_NONE = 0,	/* no Session-Expires in the answer */
	STIMER_UAC,		/* the caller refreshes; anncd enforces */
	STIMER_UAS,		/* the caller named anncd refresher */
};

struct stimer {
	enum stimer_use use;
	uint32_t interval_s;	/* the session interval answered */
	uint32_t min_se_s;	/* for a 422: the Min-SE to send */
};

/* RFC 4028 section 9 for request m and our Min-SE: 0 and *t, or 422 with
 * t->min_se_s when the interval asked is under ours.  A caller without
 * timer support gets no session timer, since refresher=uas is all it
 * would leave (section 9), and anncd sends no refreshes.
 */
int
stimer_answer(const struct sip_msg *m, uint32_t our_min_se,
	      struct stimer *t);

/* When the session refreshed at now_ms ends unless refreshed again:
 * min(32 s, a third of the interval) before it expires (section 10).
 */
uint64_t
stimer_bye_ms(uint64_t now_ms, uint32_t interval_s);

/* When the refresher refreshes a session refreshed at now_ms: half the
 * interval on (section 10).
 */
uint64_t
stimer_refresh_ms(uint64_t now_ms, uint32_t interval_s);

/* The session timer the 2xx m to anncd's own refresh leaves (section
 * 7.4): none without Session-Expires; refresher=uac names anncd, the
 * client of that request (STIMER_UAS in the call's terms), as does a
 * 2xx that names no refresher; refresher=uas names the caller.  Its
 * interval is taken within STIMER_MIN_S and STIMER_MAX_S.
 */
void
stimer_from_2xx(const struct sip_msg *m, struct stimer *t);

/* What a final answer to anncd's refresh asks for (RFC 4028 section
 * 10). */
enum stimer_next {
	STIMER_RESTART,		/* 2xx: the timer as stimer_from_2xx says */
	STIMER_RETRY_NOW,	/* 422: again with *interval_s (7.4) */
	STIMER_RETRY_LATER,	/* 491: again in 2.1 to 4 s (RFC 3261 14.1) */
	STIMER_END,		/* 408, 481: BYE (RFC 3261 12.2.1.2) */
	STIMER_RUN_OUT,		/* other: the session runs to its expiry */
};

/* For answer status with its Min-SE: a 422 whose Min-SE is above
 * *interval_s and no more than STIMER_MAX_S sets *interval_s to it; one
 * that does not is another failure.
 */
enum stimer_next
stimer_on_answer(int status, uint32_t min_se, uint32_t *interval_s);

/* The header lines of a 2xx for t: Session-Expires with refresher, and
 * Require: timer when the caller refreshes (section 9).  Returns the
 * length, or -1 when cap is too small; "" for STIMER_NONE.
 */
int
stimer_headers(const struct stimer *t, char *out, size_t cap);

#endif
