/* The content cache between the IMAP fetches and the calls: one entry per
 * pawn-ticket URL, keyed by the XXH3-128 of the URL exactly as received
 * (RFC 4467 section 3: the token is part of the URL, so two tokens for one
 * part are two keys).  An entry is fetched once however many calls ask for
 * it at the same time (single flight), then shared by reference; a failed
 * fetch is remembered briefly so that a burst of bad URLs costs the IMAP
 * server one URLFETCH.  Control plane only: one thread, no locks.
 */
#ifndef ANNCD_CORE_CACHE_H
#define ANNCD_CORE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <xxhash.h>

#include "core/content.h"
#include "core/media_plan.h"

#define CACHE_REASON_MAX	96
#define CACHE_MAX_PLANS		8	/* (format, ptime) plans per entry */

enum cache_state {
	CACHE_FETCHING = 1,	/* one URLFETCH in flight, calls wait */
	CACHE_READY,		/* content decoded and probed */
	CACHE_FAILED,		/* negative: status and reason */
};

/* Why an entry left the table (index into cache_stats.evictions). */
enum cache_evict {
	CACHE_EVICT_BUDGET = 0,	/* LRU, to stay within max_bytes */
	CACHE_EVICT_ENTRIES,	/* LRU, to make room under max_entries */
	CACHE_EVICT_EXPIRED,	/* the URL's ;EXPIRE= has passed */
	CACHE_EVICT_NEGATIVE,	/* a negative entry's time is up */
	CACHE_EVICT_TRANSIENT,	/* a failure not worth remembering */
	CACHE_EVICT_REASONS,
};

struct cache_entry;
struct cache_waiter;

/* A packet plan of the entry's content for one payload format and packet
 * time, built once and shared by every call that sends it so.
 */
struct cache_plan {
	struct media_fmt fmt;
	unsigned int ptime_ms;
	struct media_plan *plan;
	size_t bytes;			/* counted against max_bytes */
};

/* Runs once when the fetch a waiter joined has completed; e is READY or
 * FAILED and the waiter's use on it is still held.
 */
typedef void (*cache_wait_cb)(struct cache_waiter *w, struct cache_entry *e);

/* Embedded in whoever waits (a call); linked while waiting only. */
struct cache_waiter {
	struct cache_waiter *next;
	struct cache_waiter *prev;
	struct cache_entry *entry;	/* NULL when not waiting */
	cache_wait_cb cb;
};

struct cache_entry {
	XXH128_hash_t key;
	enum cache_state state;
	unsigned int users;		/* calls waiting on or playing it */
	time_t expire;			/* the URL's ;EXPIRE=, 0: none */
	uint64_t neg_until_ms;		/* FAILED: forgotten from then on */
	uint32_t form;			/* how the first caller asked for it */
	int status;			/* FAILED: the status to refuse with */
	char reason[CACHE_REASON_MAX];
	struct content *content;	/* READY: the cache's reference */
	size_t bytes;			/* counted against max_bytes */
	void *fetch;			/* FETCHING: the owner's fetch handle */
	struct cache_plan plans[CACHE_MAX_PLANS];
	unsigned int n_plans;		/* READY: plans built so far */

	/* Private to core/cache.c. */
	int linked;			/* in the table; else freed at last put */
	struct cache_waiter *w_head, *w_tail;
	struct cache_entry *hnext;
	struct cache_entry *lru_prev, *lru_next;
	int in_lru;
};

struct cache_config {
	size_t max_bytes;		/* budget of READY contents */
	unsigned int max_entries;	/* every state counts */
	unsigned int neg_ttl_ms;	/* how long a failure is remembered */
	/* Called when the last caller waiting on a fetch has gone, with
	 * the entry's fetch handle (possibly NULL): cancel it.
	 */
	void (*abandon)(void *fetch);
	/* Frees a plan of an entry leaving the cache (media_plan_free). */
	void (*plan_free)(struct media_plan *plan);
};

struct cache_stats {
	uint64_t lookups;
	uint64_t hits;			/* READY found */
	uint64_t misses;		/* entries created: fetches started */
	uint64_t joins;			/* FETCHING found: waited on it */
	uint64_t negative_hits;		/* FAILED found and still valid */
	uint64_t evictions[CACHE_EVICT_REASONS];
	uint64_t abandoned;		/* fetches nobody waited for any more */
	size_t bytes;			/* held by entries, in use or not */
	unsigned int entries;
};

/* Sizes the table.  Returns 0 or -errno. */
int
cache_init(const struct cache_config *cfg);

/* Drops every entry and its content (fetches in flight are abandoned). */
void
cache_fini(void);

/* The entry for url, with one use taken for the caller (drop it with
 * cache_put).  Returns 0 when found (READY, FETCHING or a valid FAILED:
 * *out says which), 1 when created FETCHING (the caller starts the one
 * fetch, sets fetch, and ends it with cache_complete or cache_fail),
 * -ETIME when expire (the URL's, 0: none) is not after now, -ENOSPC when
 * every entry is in use.
 */
int
cache_get(const char *url, size_t len, time_t expire, uint64_t now_ms,
	  time_t now, struct cache_entry **out);

/* Waits on a FETCHING entry the caller holds a use on: cb runs once, when
 * the fetch completes.
 */
void
cache_wait(struct cache_entry *e, struct cache_waiter *w, cache_wait_cb cb);

/* Stops waiting (a cancelled call); no-op when not waiting.  The use is
 * still the caller's to drop.
 */
void
cache_unwait(struct cache_waiter *w);

/* Drops a use.  The last use of a FETCHING entry abandons its fetch; an
 * unused READY entry becomes the most recently used candidate for
 * eviction.
 */
void
cache_put(struct cache_entry *e);

/* The fetch succeeded: the entry takes the content reference (bytes
 * count against the budget) and every waiter runs.
 */
void
cache_complete(struct cache_entry *e, struct content *c, size_t bytes);

/* The fetch failed: every waiter runs with status and reason; then the
 * entry stays negative for neg_ttl_ms from now_ms, or, when transient,
 * leaves the table at once.
 */
void
cache_fail(struct cache_entry *e, int status, const char *reason,
	   uint64_t now_ms, int transient);

/* The plan of READY entry e for fmt and ptime_ms, or NULL. */
struct media_plan *
cache_plan_find(const struct cache_entry *e, const struct media_fmt *fmt,
		unsigned int ptime_ms);

/* Keeps plan with e, which frees it with the entry (plan_free); its
 * packet table and any content of its own (a conversion) count against
 * max_bytes.  Returns 0, or -ENOSPC when e holds CACHE_MAX_PLANS already:
 * the caller keeps the plan.
 */
int
cache_plan_add(struct cache_entry *e, const struct media_fmt *fmt,
	       unsigned int ptime_ms, struct media_plan *plan);

/* Drops expired and negative entries nobody uses; call about once a
 * second (;EXPIRE= has a resolution of one second).
 */
void
cache_tick(uint64_t now_ms, time_t now);

void
cache_get_stats(struct cache_stats *st);

#endif
