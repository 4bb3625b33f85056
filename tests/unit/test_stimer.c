/* The session timer decisions of control/stimer.c (RFC 4028 sections 9
 * and 10) on parsed requests: 422 under Min-SE, who refreshes, what the
 * 2xx says, and when an unrefreshed session gets its BYE.
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_msg.h"
#include "control/stimer.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define HEAD	"INVITE sip:annc@192.0.2.1 SIP/2.0\r\n" \
		"Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKst\r\n" \
		"From: <sip:a@192.0.2.5>;tag=f1\r\n" \
		"To: <sip:annc@192.0.2.1>\r\n" \
		"Call-ID: st-1\r\nCSeq: 1 INVITE\r\n"

static struct guard_buf g;

static int
answer(const char *hdrs, uint32_t our_min, struct stimer *t)
{
	static char msg[1024];
	struct sip_msg m;
	const char *why = "";
	int n = snprintf(msg, sizeof(msg), HEAD "%sContent-Length: 0\r\n\r\n",
			 hdrs);

	if (g.map != NULL)
		guard_free(&g);
	CHECK_INT(sip_parse(guard_copy(&g, msg, (size_t)n), (size_t)n, &m,
			    &why), 0);
	return stimer_answer(&m, our_min, t);
}

static void
test_answer(void)
{
	struct stimer t;

	/* Nothing asked: no timer, whatever the caller supports. */
	CHECK_INT(answer("Supported: timer\r\n", 90, &t), 0);
	CHECK_INT(t.use, STIMER_NONE);
	/* The caller refreshes when it says nothing else. */
	CHECK_INT(answer("Supported: timer\r\nSession-Expires: 1800\r\n", 90,
			 &t), 0);
	CHECK_INT(t.use, STIMER_UAC);
	CHECK_INT(t.interval_s, 1800);
	/* Its choice of refresher is kept (section 9). */
	CHECK_INT(answer("Supported: timer\r\nSession-Expires: 600;"
			 "refresher=uas\r\n", 90, &t), 0);
	CHECK_INT(t.use, STIMER_UAS);
	/* Require: timer counts as support. */
	CHECK_INT(answer("Require: timer\r\nSession-Expires: 600\r\n", 90,
			 &t), 0);
	CHECK_INT(t.use, STIMER_UAC);
	/* Without timer support anncd would have to refresh: no timer. */
	CHECK_INT(answer("Session-Expires: 1800\r\n", 90, &t), 0);
	CHECK_INT(t.use, STIMER_NONE);
	/* At the edge of Min-SE, and under it: 422 with the larger of the
	 * two Min-SE values. */
	CHECK_INT(answer("Supported: timer\r\nSession-Expires: 120\r\n", 120,
			 &t), 0);
	CHECK_INT(t.interval_s, 120);
	CHECK_INT(answer("Supported: timer\r\nSession-Expires: 119\r\n", 120,
			 &t), 422);
	CHECK_INT(t.min_se_s, 120);
	CHECK_INT(answer("Session-Expires: 100\r\nMin-SE: 100\r\n", 150, &t),
		  422);
	CHECK_INT(t.min_se_s, 150);
	CHECK_INT(answer("Session-Expires: 100\r\nMin-SE: 200\r\n", 150, &t),
		  422);
	CHECK_INT(t.min_se_s, 200);
	/* Under the request's own Min-SE though above ours: 422 naming the
	 * request's, not an answer below it. */
	CHECK_INT(answer("Supported: timer\r\nSession-Expires: 100\r\n"
			 "Min-SE: 4294967295\r\n", 90, &t), 422);
	CHECK_INT(t.min_se_s, 4294967295u);
	/* Session-Expires 0: under any Min-SE. */
	CHECK_INT(answer("Supported: timer\r\nSession-Expires: 0\r\n", 90,
			 &t), 422);
	CHECK_INT(t.min_se_s, 90);
}

static void
test_bye_time(void)
{
	/* A third of the interval before it ends, 32 s at most. */
	CHECK_INT(stimer_bye_ms(1000, 90), 1000 + 60000);
	CHECK_INT(stimer_bye_ms(0, 96), 64000);
	CHECK_INT(stimer_bye_ms(0, 97), 65000);
	CHECK_INT(stimer_bye_ms(0, 1800), 1768000);
	CHECK_INT(stimer_bye_ms(0, 4294967295u),
		  (4294967295ull - 32) * 1000);
}

static void
test_headers(void)
{
	struct stimer t = { STIMER_UAC, 1800, 90 };
	char out[96];

	CHECK_INT(stimer_headers(&t, out, sizeof(out)),
		  (long long)strlen(out));
	CHECK(strcmp(out, "Session-Expires: 1800;refresher=uac\r\n"
		     "Require: timer\r\n") == 0);
	t.use = STIMER_UAS;
	CHECK(stimer_headers(&t, out, sizeof(out)) > 0);
	CHECK(strcmp(out, "Session-Expires: 1800;refresher=uas\r\n") == 0);
	t.use = STIMER_NONE;
	CHECK_INT(stimer_headers(&t, out, sizeof(out)), 0);
	CHECK(out[0] == '\0');
	t.use = STIMER_UAC;
	CHECK_INT(stimer_headers(&t, out, 20), -1);
}

/* The 2xx to anncd's own refresh (RFC 4028 section 7.4). */
static void
from_2xx(const char *hdrs, struct stimer *t)
{
	static char msg[1024];
	struct sip_msg m;
	const char *why = "";
	int n = snprintf(msg, sizeof(msg),
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr1\r\n"
			 "From: <sip:annc@192.0.2.1>;tag=a1\r\n"
			 "To: <sip:a@192.0.2.5>;tag=f1\r\n"
			 "Call-ID: st-2\r\nCSeq: 2 UPDATE\r\n"
			 "%sContent-Length: 0\r\n\r\n", hdrs);

	if (g.map != NULL)
		guard_free(&g);
	CHECK_INT(sip_parse(guard_copy(&g, msg, (size_t)n), (size_t)n, &m,
			    &why), 0);
	stimer_from_2xx(&m, t);
}

static void
test_refresh(void)
{
	struct stimer t;

	/* Half the interval on (section 10). */
	CHECK_INT(stimer_refresh_ms(1000, 90), 46000);
	CHECK_INT(stimer_refresh_ms(0, 86400), 43200000);
	/* refresher=uac names anncd, the client of its refresh. */
	from_2xx("Session-Expires: 120;refresher=uac\r\n", &t);
	CHECK_INT(t.use, STIMER_UAS);
	CHECK_INT(t.interval_s, 120);
	from_2xx("Session-Expires: 100;refresher=uas\r\n", &t);
	CHECK_INT(t.use, STIMER_UAC);
	CHECK_INT(t.interval_s, 100);
	from_2xx("Session-Expires: 95\r\n", &t);
	CHECK_INT(t.use, STIMER_UAS);
	/* No Session-Expires: no timer any more. */
	from_2xx("", &t);
	CHECK_INT(t.use, STIMER_NONE);
	/* A caller answering under any Min-SE, or past STIMER_MAX_S, is
	 * held to them: no refresh storm, no timer that never comes. */
	from_2xx("Session-Expires: 1\r\n", &t);
	CHECK_INT(t.use, STIMER_UAS);
	CHECK_INT(t.interval_s, STIMER_MIN_S);
	from_2xx("Session-Expires: 89;refresher=uac\r\n", &t);
	CHECK_INT(t.interval_s, STIMER_MIN_S);
	from_2xx("Session-Expires: 90\r\n", &t);
	CHECK_INT(t.interval_s, 90);
	from_2xx("Session-Expires: 86400\r\n", &t);
	CHECK_INT(t.interval_s, 86400);
	from_2xx("Session-Expires: 86401\r\n", &t);
	CHECK_INT(t.interval_s, STIMER_MAX_S);
	from_2xx("Session-Expires: 4294967295;refresher=uas\r\n", &t);
	CHECK_INT(t.use, STIMER_UAC);
	CHECK_INT(t.interval_s, STIMER_MAX_S);
	/* Session-Expires 0: no timer, as without the header. */
	from_2xx("Session-Expires: 0\r\n", &t);
	CHECK_INT(t.use, STIMER_NONE);
}

/* The answer table of RFC 4028 section 10 for anncd's refresh. */
static void
test_on_answer(void)
{
	uint32_t iv = 90;

	CHECK_INT(stimer_on_answer(200, 0, &iv), STIMER_RESTART);
	CHECK_INT(stimer_on_answer(491, 0, &iv), STIMER_RETRY_LATER);
	CHECK_INT(stimer_on_answer(408, 0, &iv), STIMER_END);
	CHECK_INT(stimer_on_answer(481, 0, &iv), STIMER_END);
	CHECK_INT(stimer_on_answer(500, 0, &iv), STIMER_RUN_OUT);
	CHECK_INT(stimer_on_answer(405, 0, &iv), STIMER_RUN_OUT);
	CHECK_INT(iv, 90);
	/* 422 asks again with its Min-SE, when that is a step up and
	 * within STIMER_MAX_S. */
	CHECK_INT(stimer_on_answer(422, 120, &iv), STIMER_RETRY_NOW);
	CHECK_INT(iv, 120);
	CHECK_INT(stimer_on_answer(422, 120, &iv), STIMER_RUN_OUT);
	CHECK_INT(stimer_on_answer(422, 0, &iv), STIMER_RUN_OUT);
	CHECK_INT(stimer_on_answer(422, STIMER_MAX_S + 1, &iv),
		  STIMER_RUN_OUT);
	CHECK_INT(stimer_on_answer(422, STIMER_MAX_S, &iv), STIMER_RETRY_NOW);
	CHECK_INT(iv, STIMER_MAX_S);
}

int
main(void)
{
	test_answer();
	test_bye_time();
	test_headers();
	test_refresh();
	test_on_answer();
	return CHECK_DONE();
}
