/* Unit test of the content cache: hits, misses and joins, one fetch for
 * many waiters, a waiter cancelled before the fetch ends, and each limit
 * at its edge (negative TTL, ;EXPIRE=, the byte budget, the entry count),
 * and the packet plans an entry keeps (shared, counted, freed with it).
 * Contents are real (content_new on an EAL without hugepages), so the
 * test also sees each reference released.  Exit 77 when the EAL cannot
 * start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "core/cache.h"
#include "core/content.h"
#include "tests/unit/check.h"
#include "tests/unit/eal_rig.h"

/* Pawn-ticket URLs: URL_A2 differs from URL_A in the token's last digit. */
#define TOKEN	"0123456789abcdef0123456789abcde"
#define URL_OF(uid, last) \
	"imap://h:143/INBOX/;UID=" uid "/;SECTION=2;" \
	"URLAUTH=anonymous:internal:" TOKEN last
#define URL_A	URL_OF("1", "f")
#define URL_A2	URL_OF("1", "e")
#define URL_B	URL_OF("2", "f")
#define URL_C	URL_OF("3", "f")
#define URL_D	URL_OF("4", "f")
#define NEG_TTL	5000
#define T0_MS	1000
#define WALL	1700000000		/* any wall-clock second */
#define WAITERS	100

static void *abandoned_fetch;
static unsigned int n_abandoned;

static void
on_abandon(void *fetch)
{
	abandoned_fetch = fetch;
	n_abandoned++;
}

static unsigned int n_plans_freed;

/* What media_plan_free does: the plan's content reference goes too. */
static void
on_plan_free(struct media_plan *pl)
{
	content_put(pl->content);
	free((void *)pl->pkt);
	free(pl);
	n_plans_freed++;
}

static void
setup(size_t max_bytes, unsigned int max_entries)
{
	struct cache_config cfg = {
		.max_bytes = max_bytes,
		.max_entries = max_entries,
		.neg_ttl_ms = NEG_TTL,
		.abandon = on_abandon,
		.plan_free = on_plan_free,
	};

	n_abandoned = 0;
	abandoned_fetch = NULL;
	CHECK_INT(cache_init(&cfg), 0);
}

/* Ends a test: every content the cache held must be released. */
static void
teardown(void)
{
	cache_fini();
	content_reap();
	CHECK_INT(content_live(), 0);
}

static int
get(const char *url, uint64_t now_ms, struct cache_entry **e)
{
	return cache_get(url, strlen(url), 0, now_ms, WALL, e);
}

/* The cache counts the bytes it is told, never looks inside: an empty
 * content is enough to follow its references.
 */
static struct content *
make_content(size_t len)
{
	struct content *c = content_new(len);

	CHECK(c != NULL);
	return c;
}

/* Fetches url into the cache (as its one caller) and lets go of it. */
static void
fill(const char *url, size_t bytes)
{
	struct cache_entry *e;

	CHECK_INT(get(url, T0_MS, &e), 1);
	cache_complete(e, make_content(bytes), bytes);
	cache_put(e);
}

static void
test_hit_miss(void)
{
	struct cache_entry *e, *e2;
	struct cache_stats st;

	setup(1 << 20, 16);
	CHECK_INT(get(URL_A, T0_MS, &e), 1);
	CHECK_INT(e->state, CACHE_FETCHING);
	cache_complete(e, make_content(100), 100);
	CHECK_INT(e->state, CACHE_READY);
	cache_put(e);

	CHECK_INT(get(URL_A, T0_MS, &e2), 0);
	CHECK(e2 == e);
	CHECK_INT(e2->state, CACHE_READY);
	cache_put(e2);
	/* One digit of the token differs: another key, another fetch. */
	CHECK_INT(get(URL_A2, T0_MS, &e2), 1);
	CHECK(e2 != e);
	cache_put(e2);

	cache_get_stats(&st);
	CHECK_INT(st.lookups, 3);
	CHECK_INT(st.misses, 2);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.joins, 0);
	CHECK_INT(st.bytes, 100);
	CHECK_INT(st.entries, 1);
	CHECK_INT(st.abandoned, 1);
	CHECK_INT(n_abandoned, 1);
	teardown();
}

struct waiter {
	struct cache_waiter w;
	struct cache_entry *e;
	unsigned int runs;
	int state;
	struct waiter *victim;		/* cancelled from this one's callback */
};

static void
on_done(struct cache_waiter *cw, struct cache_entry *e)
{
	struct waiter *w = (struct waiter *)cw;

	w->runs++;
	w->state = e->state;
	CHECK(cw->entry == NULL);
	if (w->victim != NULL) {
		cache_unwait(&w->victim->w);
		cache_put(w->victim->e);
		w->victim->e = NULL;
	}
	cache_put(e);
	w->e = NULL;
}

static void
join(struct waiter *w, const char *url, int want)
{
	memset(w, 0, sizeof(*w));
	CHECK_INT(get(url, T0_MS, &w->e), want);
	cache_wait(w->e, &w->w, on_done);
}

/* Every call for a URL in flight waits on the one fetch; completion runs
 * each waiter once, even one cancelled by another's callback.
 */
static void
test_single_flight(void)
{
	static struct waiter w[WAITERS];
	struct cache_stats st;
	unsigned int i;

	setup(1 << 20, 16);
	join(&w[0], URL_A, 1);
	for (i = 1; i < WAITERS; i++)
		join(&w[i], URL_A, 0);
	CHECK_INT(w[0].e->users, WAITERS);
	w[1].victim = &w[WAITERS - 1];
	cache_complete(w[0].e, make_content(64), 64);

	for (i = 0; i < WAITERS - 1; i++) {
		CHECK_INT(w[i].runs, 1);
		CHECK_INT(w[i].state, CACHE_READY);
	}
	CHECK_INT(w[WAITERS - 1].runs, 0);
	cache_get_stats(&st);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.joins, WAITERS - 1);
	CHECK_INT(st.entries, 1);
	CHECK_INT(n_abandoned, 0);
	teardown();
}

/* A call cancelled while waiting leaves the fetch to the others; the last
 * one to go abandons it, and the next call starts afresh.
 */
static void
test_waiter_removal(void)
{
	struct waiter a, b;
	struct cache_entry *e;
	int handle;

	setup(1 << 20, 16);
	join(&a, URL_A, 1);
	a.e->fetch = &handle;
	join(&b, URL_A, 0);

	cache_unwait(&a.w);
	cache_unwait(&a.w);		/* twice: harmless */
	cache_put(a.e);
	CHECK_INT(n_abandoned, 0);
	cache_unwait(&b.w);
	cache_put(b.e);
	CHECK_INT(n_abandoned, 1);
	CHECK(abandoned_fetch == &handle);
	CHECK_INT(a.runs + b.runs, 0);

	CHECK_INT(get(URL_A, T0_MS, &e), 1);
	cache_put(e);
	CHECK_INT(n_abandoned, 2);
	teardown();
}

static void
fail_once(const char *url, int transient)
{
	struct waiter w;

	join(&w, url, 1);
	cache_fail(w.e, 404, "URLFETCH returned NIL", T0_MS, transient);
	CHECK_INT(w.runs, 1);
	CHECK_INT(w.state, CACHE_FAILED);
}

/* A failure is remembered for exactly neg_ttl_ms; a transient one not. */
static void
test_negative(void)
{
	struct cache_entry *e;
	struct cache_stats st;

	setup(1 << 20, 16);
	fail_once(URL_A, 0);
	CHECK_INT(get(URL_A, T0_MS + NEG_TTL - 1, &e), 0);
	CHECK_INT(e->state, CACHE_FAILED);
	CHECK_INT(e->status, 404);
	CHECK_STRN(e->reason, strlen(e->reason), "URLFETCH returned NIL");
	cache_put(e);
	CHECK_INT(get(URL_A, T0_MS + NEG_TTL, &e), 1);
	cache_put(e);

	fail_once(URL_B, 1);
	CHECK_INT(get(URL_B, T0_MS, &e), 1);
	cache_put(e);

	cache_get_stats(&st);
	CHECK_INT(st.negative_hits, 1);
	CHECK_INT(st.misses, 4);
	CHECK_INT(st.evictions[CACHE_EVICT_NEGATIVE], 1);
	CHECK_INT(st.evictions[CACHE_EVICT_TRANSIENT], 1);
	teardown();
}

/* Valid up to the second before ;EXPIRE=, never at it (RFC 4467
 * section 3); an entry in use when its URL expires leaves the table but
 * keeps its content for the calls that have it.
 */
static void
test_expire(void)
{
	const time_t exp = WALL + 60;
	struct cache_entry *e, *held;
	struct cache_stats st;

	setup(1 << 20, 16);
	CHECK_INT(cache_get(URL_A, strlen(URL_A), exp, T0_MS, exp - 1, &e), 1);
	cache_complete(e, make_content(10), 10);
	cache_put(e);
	CHECK_INT(cache_get(URL_A, strlen(URL_A), exp, T0_MS, exp - 1, &held),
		  0);
	CHECK_INT(held->state, CACHE_READY);
	CHECK_INT(cache_get(URL_A, strlen(URL_A), exp, T0_MS, exp, &e),
		  -ETIME);

	cache_tick(T0_MS, exp);
	cache_get_stats(&st);
	CHECK_INT(st.evictions[CACHE_EVICT_EXPIRED], 1);
	CHECK_INT(st.entries, 1);
	CHECK_INT(content_live(), 1);
	CHECK(held->content != NULL);
	cache_put(held);
	cache_get_stats(&st);
	CHECK_INT(st.entries, 0);
	CHECK_INT(st.bytes, 0);
	CHECK_INT(content_live(), 0);
	teardown();
}

/* Exactly at the budget everything stays; one byte over evicts the least
 * recently used entry nobody uses, never one in use.
 */
static void
test_budget(void)
{
	struct cache_entry *e, *hold_b, *hold_c;
	struct cache_stats st;

	setup(300, 16);
	fill(URL_A, 100);
	fill(URL_B, 100);
	fill(URL_C, 100);
	cache_get_stats(&st);
	CHECK_INT(st.bytes, 300);
	CHECK_INT(st.entries, 3);

	/* A is touched, so B becomes the least recently used. */
	CHECK_INT(get(URL_A, T0_MS, &e), 0);
	cache_put(e);
	fill(URL_D, 1);
	cache_get_stats(&st);
	CHECK_INT(st.bytes, 301 - 100);
	CHECK_INT(st.evictions[CACHE_EVICT_BUDGET], 1);
	CHECK_INT(get(URL_B, T0_MS, &e), 1);
	cache_complete(e, make_content(100), 100);
	hold_b = e;			/* evicts C, the oldest unused */
	CHECK_INT(get(URL_C, T0_MS, &hold_c), 1);
	cache_complete(hold_c, make_content(250), 250);

	/* B and C in use: A and D go, and still 350 > 300 is held. */
	cache_get_stats(&st);
	CHECK_INT(st.bytes, 350);
	CHECK_INT(st.entries, 2);
	CHECK_INT(st.evictions[CACHE_EVICT_BUDGET], 4);
	cache_put(hold_b);		/* now B may go */
	cache_get_stats(&st);
	CHECK_INT(st.bytes, 250);
	cache_put(hold_c);
	cache_get_stats(&st);
	CHECK_INT(st.bytes, 250);
	CHECK_INT(st.evictions[CACHE_EVICT_BUDGET], 5);
	teardown();
}

/* At max_entries a new URL takes the least recently used unused slot;
 * with every entry in use there is no room.
 */
static void
test_max_entries(void)
{
	struct cache_entry *e, *held[3];
	struct cache_stats st;
	unsigned int i;

	setup(1 << 20, 3);
	fill(URL_A, 1);
	fill(URL_B, 1);
	fill(URL_C, 1);
	fill(URL_D, 1);
	cache_get_stats(&st);
	CHECK_INT(st.entries, 3);
	CHECK_INT(st.evictions[CACHE_EVICT_ENTRIES], 1);
	CHECK_INT(get(URL_A, T0_MS, &e), 1);	/* A was the one to go */
	cache_complete(e, make_content(1), 1);
	cache_put(e);			/* and B made room for it */
	cache_get_stats(&st);
	CHECK_INT(st.evictions[CACHE_EVICT_ENTRIES], 2);

	CHECK_INT(get(URL_C, T0_MS, &held[0]), 0);
	CHECK_INT(get(URL_D, T0_MS, &held[1]), 0);
	CHECK_INT(get(URL_A, T0_MS, &held[2]), 0);
	CHECK_INT(get(URL_B, T0_MS, &e), -ENOSPC);
	for (i = 0; i < 3; i++)
		cache_put(held[i]);
	CHECK_INT(get(URL_B, T0_MS, &e), 1);
	cache_put(e);
	cache_get_stats(&st);
	CHECK_INT(st.evictions[CACHE_EVICT_ENTRIES], 3);
	CHECK_INT(st.entries, 2);
	teardown();
}

/* A plan as a converting format would build it: a content of its own
 * (conv_bytes, 0: none) and a packet table of npkts entries.
 */
static struct media_plan *
make_plan(size_t conv_bytes, uint32_t npkts)
{
	struct media_plan *pl = calloc(1, sizeof(*pl));

	static const uint8_t zeros[512];

	CHECK(pl != NULL && conv_bytes <= sizeof(zeros));
	pl->content = conv_bytes ? make_content(conv_bytes) : NULL;
	if (pl->content != NULL)
		CHECK_INT(content_append(pl->content, zeros, conv_bytes), 0);
	pl->npkts = npkts;
	pl->pkt = calloc(npkts, sizeof(struct media_pkt));
	return pl;
}

static const struct media_fmt fmt_pcmu = {
	.codec = MEDIA_CODEC_PCMU, .name = "PCMU", .clock_rate = 8000,
	.channels = 1, .static_pt = 0, .frame_ms = 1, .max_frame_ms = 150,
};

/* Plans are found by format and ptime, count against the budget with the
 * bytes they add, and go with their entry; an entry holds at most
 * CACHE_MAX_PLANS.
 */
static void
test_plans(void)
{
	struct media_fmt alaw = fmt_pcmu;
	struct cache_entry *e, *e2;
	struct media_plan *pl[CACHE_MAX_PLANS + 1];
	struct cache_stats st;
	size_t per_plan = sizeof(struct media_plan) + 10 * 16;

	alaw.codec = MEDIA_CODEC_PCMA;
	alaw.conversion = 1;
	n_plans_freed = 0;
	setup(10000, 16);
	CHECK_INT(get(URL_A, T0_MS, &e), 1);
	cache_complete(e, make_content(1000), 1000);
	CHECK(cache_plan_find(e, &fmt_pcmu, 20) == NULL);
	pl[0] = make_plan(0, 10);	/* the entry's content: no bytes */
	CHECK_INT(cache_plan_add(e, &fmt_pcmu, 20, pl[0]), 0);
	pl[1] = make_plan(500, 10);
	CHECK_INT(cache_plan_add(e, &alaw, 20, pl[1]), 0);
	CHECK(cache_plan_find(e, &fmt_pcmu, 20) == pl[0]);
	CHECK(cache_plan_find(e, &fmt_pcmu, 30) == NULL);
	CHECK(cache_plan_find(e, &alaw, 20) == pl[1]);
	cache_get_stats(&st);
	CHECK_INT(st.bytes, 1000 + 2 * per_plan + 500);

	/* A second caller shares them. */
	CHECK_INT(get(URL_A, T0_MS, &e2), 0);
	CHECK(cache_plan_find(e2, &alaw, 20) == pl[1]);
	cache_put(e2);
	for (unsigned int i = 2; i <= CACHE_MAX_PLANS; i++) {
		pl[i] = make_plan(0, 10);
	}
	for (unsigned int i = 2; i < CACHE_MAX_PLANS; i++)
		CHECK_INT(cache_plan_add(e, &fmt_pcmu, 10 + i, pl[i]), 0);
	CHECK_INT(cache_plan_add(e, &fmt_pcmu, 99, pl[CACHE_MAX_PLANS]),
		  -ENOSPC);
	on_plan_free(pl[CACHE_MAX_PLANS]);
	CHECK_INT(n_plans_freed, 1);
	cache_put(e);

	/* Over the budget by its plans: the unused entry goes with them. */
	fill(URL_B, 10000 - 1000 - 500 - CACHE_MAX_PLANS * per_plan + 1);
	cache_get_stats(&st);
	CHECK_INT(st.evictions[CACHE_EVICT_BUDGET], 1);
	CHECK_INT(n_plans_freed, 1 + CACHE_MAX_PLANS);
	CHECK_INT(get(URL_A, T0_MS, &e), 1);
	cache_put(e);
	teardown();
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (eal_rig_init(argv[0], "cache", "256", "-l", "0", NULL) != 0)
		return 77;
	CHECK_INT(content_sys_init(64, 1 << 20), 0);

	test_hit_miss();
	test_single_flight();
	test_waiter_removal();
	test_negative();
	test_expire();
	test_budget();
	test_max_entries();
	test_plans();

	eal_rig_done();
	return CHECK_DONE();
}
