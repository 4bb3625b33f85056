/* Session timers (RFC 4028) for anncd as UAS: see stimer.h. */
#include <stdio.h>

#include "control/stimer.h"

int
stimer_answer(const struct sip_msg *m, uint32_t our_min_se,
	      struct stimer *t)
{
	uint32_t min = m->min_se > our_min_se ? m->min_se : our_min_se;

	t->use = STIMER_NONE;
	t->interval_s = 0;
	t->min_se_s = min;
	if (!m->has_session_expires)
		return 0;	/* not asked for; anncd imposes none */
	/* Section 9: an interval under our Min-SE gets 422, and so does one
	 * under the request's own, which anncd may not answer below
	 * (section 9 again: never less than the Min-SE of the request). */
	if (m->session_expires < min)
		return 422;
	if (!sip_list_has(m->supported, m->n_supported, "timer") &&
	    !sip_list_has(m->require, m->n_require, "timer"))
		return 0;
	t->interval_s = m->session_expires;
	/* Section 9: the UAS keeps a refresher the request set. */
	t->use = sip_str_caseeq(m->se_refresher, "uas") ? STIMER_UAS :
							  STIMER_UAC;
	return 0;
}

uint64_t
stimer_bye_ms(uint64_t now_ms, uint32_t interval_s)
{
	uint32_t margin = interval_s / 3;

	if (margin > STIMER_BYE_MARGIN_S)
		margin = STIMER_BYE_MARGIN_S;
	return now_ms + (uint64_t)(interval_s - margin) * 1000;
}

uint64_t
stimer_refresh_ms(uint64_t now_ms, uint32_t interval_s)
{
	return now_ms + (uint64_t)interval_s * 500;
}

void
stimer_from_2xx(const struct sip_msg *m, struct stimer *t)
{
	t->min_se_s = m->min_se;
	t->interval_s = m->session_expires;
	/* Section 9 forbids the answerer an interval under our Min-SE,
	 * never under STIMER_MIN_S (section 4); a caller that answers 1 s
	 * anyway must not have anncd refresh every half second. */
	if (t->interval_s < STIMER_MIN_S)
		t->interval_s = STIMER_MIN_S;
	if (t->interval_s > STIMER_MAX_S)
		t->interval_s = STIMER_MAX_S;
	if (!m->has_session_expires || m->session_expires == 0)
		t->use = STIMER_NONE;
	else if (sip_str_caseeq(m->se_refresher, "uas"))
		t->use = STIMER_UAC;	/* the caller, server of our refresh */
	else
		t->use = STIMER_UAS;
}

enum stimer_next
stimer_on_answer(int status, uint32_t min_se, uint32_t *interval_s)
{
	if (status < 300)
		return STIMER_RESTART;
	if (status == 422 && min_se > *interval_s && min_se <= STIMER_MAX_S) {
		*interval_s = min_se;
		return STIMER_RETRY_NOW;
	}
	if (status == 491)
		return STIMER_RETRY_LATER;
	if (status == 408 || status == 481)
		return STIMER_END;
	return STIMER_RUN_OUT;
}

int
stimer_headers(const struct stimer *t, char *out, size_t cap)
{
	int n;

	if (t->use == STIMER_NONE) {
		n = snprintf(out, cap, "%s", "");
		return n < 0 || (size_t)n >= cap ? -1 : n;
	}
	n = snprintf(out, cap, "Session-Expires: %u;refresher=%s\r\n%s",
		     t->interval_s, t->use == STIMER_UAC ? "uac" : "uas",
		     t->use == STIMER_UAC ? "Require: timer\r\n" : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
