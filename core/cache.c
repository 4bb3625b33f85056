/* The content cache: a fixed pool of entries, a hash table on the URL's
 * XXH3-128, and one LRU list of the entries nobody uses, which are the
 * only ones eviction may take.  An entry leaving the table while calls
 * still use it (its URL expired under a playing call) is only unlinked;
 * the last cache_put frees it.  Single thread: no locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"

static struct cache_config cache_cfg;
static struct cache_entry *pool;	/* max_entries slots */
static struct cache_entry *free_list;	/* through hnext */
static struct cache_entry **buckets;
static uint64_t bucket_mask;
static struct cache_entry *lru_head;	/* least recently used */
static struct cache_entry *lru_tail;
static struct cache_stats stats;

/* ---- table and LRU list ---- */

static struct cache_entry **
bucket_of(XXH128_hash_t key)
{
	return &buckets[key.low64 & bucket_mask];
}

static struct cache_entry *
hash_find(XXH128_hash_t key)
{
	struct cache_entry *e;

	for (e = *bucket_of(key); e != NULL; e = e->hnext)
		if (XXH128_isEqual(e->key, key))
			return e;
	return NULL;
}

static void
hash_unlink(struct cache_entry *e)
{
	struct cache_entry **pp = bucket_of(e->key);

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	e->hnext = NULL;
}

static void
lru_remove(struct cache_entry *e)
{
	if (!e->in_lru)
		return;
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
	e->in_lru = 0;
}

static void
lru_append(struct cache_entry *e)
{
	e->lru_prev = lru_tail;
	e->lru_next = NULL;
	if (lru_tail != NULL)
		lru_tail->lru_next = e;
	else
		lru_head = e;
	lru_tail = e;
	e->in_lru = 1;
}

/* ---- entry life ---- */

static struct cache_entry *
entry_alloc(void)
{
	struct cache_entry *e = free_list;

	if (e == NULL)
		return NULL;
	free_list = e->hnext;
	memset(e, 0, sizeof(*e));
	stats.entries++;
	return e;
}

static void
plans_free(struct cache_entry *e)
{
	for (unsigned int i = 0; i < e->n_plans; i++) {
		stats.bytes -= e->plans[i].bytes;
		e->bytes -= e->plans[i].bytes;
		if (cache_cfg.plan_free != NULL)
			cache_cfg.plan_free(e->plans[i].plan);
	}
	e->n_plans = 0;
}

/* Drops the cache's content reference: mbufs still in flight keep the
 * bytes alive until the dataplane frees them (core/content.c).
 */
static void
entry_release(struct cache_entry *e)
{
	plans_free(e);
	content_put(e->content);
	stats.bytes -= e->bytes;
	stats.entries--;
	e->state = 0;
	e->hnext = free_list;
	free_list = e;
}

/* Takes e out of the table so that no new call finds it; the calls that
 * hold it keep it until their last cache_put.
 */
static void
entry_drop(struct cache_entry *e, enum cache_evict why)
{
	if (!e->linked)
		return;
	hash_unlink(e);
	lru_remove(e);
	e->linked = 0;
	stats.evictions[why]++;
	if (e->users == 0)
		entry_release(e);
}

/* Whether e may still be given to a call: -1 if so, else why not. */
static int
entry_stale(const struct cache_entry *e, uint64_t now_ms, time_t now)
{
	/* RFC 4467 section 3: the URL is not valid at or after EXPIRE. */
	if (e->expire != 0 && now >= e->expire)
		return CACHE_EVICT_EXPIRED;
	if (e->state == CACHE_FAILED && now_ms >= e->neg_until_ms)
		return CACHE_EVICT_NEGATIVE;
	return -1;
}

static void
use_take(struct cache_entry *e)
{
	if (e->users++ == 0)
		lru_remove(e);
}

/* Evicts unused READY entries, least recently used first, until the
 * bytes held fit the budget again; entries in use are never on the list.
 */
static void
budget_enforce(void)
{
	struct cache_entry *e = lru_head, *next;

	while (e != NULL && stats.bytes > cache_cfg.max_bytes) {
		next = e->lru_next;
		if (e->state == CACHE_READY)
			entry_drop(e, CACHE_EVICT_BUDGET);
		e = next;
	}
}

/* ---- set-up ---- */

int
cache_init(const struct cache_config *cfg)
{
	uint64_t nb = 1;
	unsigned int i;

	if (pool != NULL)
		return -EALREADY;
	if (cfg->max_entries == 0)
		return -EINVAL;

	while (nb < 2ull * cfg->max_entries)
		nb <<= 1;
	pool = calloc(cfg->max_entries, sizeof(*pool));
	buckets = calloc(nb, sizeof(*buckets));
	if (pool == NULL || buckets == NULL) {
		free(pool);
		free(buckets);
		pool = NULL;
		buckets = NULL;
		return -ENOMEM;
	}

	cache_cfg = *cfg;
	bucket_mask = nb - 1;
	memset(&stats, 0, sizeof(stats));
	lru_head = lru_tail = NULL;
	free_list = NULL;
	for (i = cfg->max_entries; i-- > 0;) {
		pool[i].hnext = free_list;
		free_list = &pool[i];
	}
	return 0;
}

void
cache_fini(void)
{
	struct cache_entry *e;
	unsigned int i;

	if (pool == NULL)
		return;

	for (i = 0; i < cache_cfg.max_entries; i++) {
		e = &pool[i];
		if (e->state == CACHE_FETCHING && cache_cfg.abandon != NULL)
			cache_cfg.abandon(e->fetch);
		if (e->state != 0) {
			plans_free(e);
			content_put(e->content);
		}
	}
	free(pool);
	free(buckets);
	pool = NULL;
	buckets = NULL;
}

/* ---- lookups ---- */

/* A new FETCHING entry; at max_entries the least recently used entry
 * nobody uses makes room, or there is none.
 */
static int
entry_create(XXH128_hash_t key, time_t expire, struct cache_entry **out)
{
	struct cache_entry **b, *e;

	if (free_list == NULL && lru_head != NULL)
		entry_drop(lru_head, CACHE_EVICT_ENTRIES);
	e = entry_alloc();
	if (e == NULL)
		return -ENOSPC;

	e->key = key;
	e->state = CACHE_FETCHING;
	e->expire = expire;
	e->users = 1;
	e->linked = 1;
	b = bucket_of(key);
	e->hnext = *b;
	*b = e;
	stats.misses++;
	*out = e;
	return 1;
}

int
cache_get(const char *url, size_t len, time_t expire, uint64_t now_ms,
	  time_t now, struct cache_entry **out)
{
	XXH128_hash_t key = XXH3_128bits(url, len);
	struct cache_entry *e;
	int why;

	stats.lookups++;
	if (expire != 0 && now >= expire)
		return -ETIME;

	e = hash_find(key);
	if (e != NULL && (why = entry_stale(e, now_ms, now)) >= 0) {
		entry_drop(e, (enum cache_evict)why);
		e = NULL;
	}
	if (e == NULL)
		return entry_create(key, expire, out);

	use_take(e);
	if (e->state == CACHE_READY)
		stats.hits++;
	else if (e->state == CACHE_FETCHING)
		stats.joins++;
	else
		stats.negative_hits++;
	*out = e;
	return 0;
}

/* ---- waiting ---- */

void
cache_wait(struct cache_entry *e, struct cache_waiter *w, cache_wait_cb cb)
{
	w->cb = cb;
	w->entry = e;
	w->next = NULL;
	w->prev = e->w_tail;
	if (e->w_tail != NULL)
		e->w_tail->next = w;
	else
		e->w_head = w;
	e->w_tail = w;
}

void
cache_unwait(struct cache_waiter *w)
{
	struct cache_entry *e = w->entry;

	if (e == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		e->w_head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		e->w_tail = w->prev;
	w->next = w->prev = NULL;
	w->entry = NULL;
}

void
cache_put(struct cache_entry *e)
{
	void *fetch;

	if (--e->users > 0)
		return;
	if (!e->linked) {
		entry_release(e);
		return;
	}
	if (e->state == CACHE_FETCHING) {
		/* Nobody waits any more: the fetch is not worth finishing. */
		fetch = e->fetch;
		hash_unlink(e);
		e->linked = 0;
		stats.abandoned++;
		entry_release(e);
		if (cache_cfg.abandon != NULL)
			cache_cfg.abandon(fetch);
		return;
	}
	lru_append(e);
	budget_enforce();
}

/* Runs every waiter once, in arrival order.  A callback may end its call
 * (and so drop its use) or cancel another waiter: the entry is pinned by
 * a use of its own meanwhile, and the list is re-read at each step.
 */
static void
run_waiters(struct cache_entry *e)
{
	struct cache_waiter *w;

	use_take(e);
	while ((w = e->w_head) != NULL) {
		cache_unwait(w);
		w->cb(w, e);
	}
	cache_put(e);
}

void
cache_complete(struct cache_entry *e, struct content *c, size_t bytes)
{
	e->state = CACHE_READY;
	e->content = c;
	e->bytes = bytes;
	e->fetch = NULL;
	stats.bytes += bytes;
	budget_enforce();
	run_waiters(e);
}

void
cache_fail(struct cache_entry *e, int status, const char *reason,
	   uint64_t now_ms, int transient)
{
	e->state = CACHE_FAILED;
	e->status = status;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	e->neg_until_ms = now_ms + cache_cfg.neg_ttl_ms;
	e->fetch = NULL;
	if (transient || cache_cfg.neg_ttl_ms == 0)
		entry_drop(e, CACHE_EVICT_TRANSIENT);
	run_waiters(e);
}

/* ---- packet plans ---- */

static int
fmt_same(const struct media_fmt *a, const struct media_fmt *b)
{
	return a->codec == b->codec && a->kind == b->kind &&
	       a->clock_rate == b->clock_rate && a->channels == b->channels &&
	       a->flags == b->flags && a->conversion == b->conversion;
}

struct media_plan *
cache_plan_find(const struct cache_entry *e, const struct media_fmt *fmt,
		unsigned int ptime_ms)
{
	for (unsigned int i = 0; i < e->n_plans; i++) {
		const struct cache_plan *p = &e->plans[i];

		if (p->ptime_ms == ptime_ms && fmt_same(&p->fmt, fmt))
			return p->plan;
	}
	return NULL;
}

/* What a plan holds beyond the entry's content: its packet table, and
 * the bytes of a content it was converted into.
 */
static size_t
plan_bytes(const struct cache_entry *e, const struct media_plan *pl)
{
	size_t n = sizeof(*pl);

	if (pl->pkt != NULL)
		n += (size_t)pl->npkts * sizeof(pl->pkt[0]);
	if (pl->content != NULL && pl->content != e->content)
		n += pl->content->len;
	return n;
}

int
cache_plan_add(struct cache_entry *e, const struct media_fmt *fmt,
	       unsigned int ptime_ms, struct media_plan *plan)
{
	struct cache_plan *p;

	if (e->n_plans == CACHE_MAX_PLANS)
		return -ENOSPC;
	p = &e->plans[e->n_plans++];
	p->fmt = *fmt;
	p->ptime_ms = ptime_ms;
	p->plan = plan;
	p->bytes = plan_bytes(e, plan);
	e->bytes += p->bytes;
	stats.bytes += p->bytes;
	/* Other unused entries make room; e is in use and stays. */
	budget_enforce();
	return 0;
}

/* ---- housekeeping ---- */

void
cache_tick(uint64_t now_ms, time_t now)
{
	struct cache_entry *e;
	unsigned int i;
	int why;

	if (pool == NULL)
		return;

	/* A scan of the pool: a few thousand entries once a second costs
	 * less than keeping them ordered by deadline on every lookup.
	 */
	for (i = 0; i < cache_cfg.max_entries; i++) {
		e = &pool[i];
		if (e->state != 0 && e->linked &&
		    (why = entry_stale(e, now_ms, now)) >= 0)
			entry_drop(e, (enum cache_evict)why);
	}
}

void
cache_get_stats(struct cache_stats *st)
{
	*st = stats;
}
