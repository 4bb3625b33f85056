/* Decoded attachment content in chunks, and their release path.  The IMAP
 * client fills a content as the literal arrives (raw or through the base64
 * decoder); the dataplane attaches packets to its chunks.  A chunk's free
 * callback may run on any lcore, so it only posts the chunk to a ring that
 * the control plane drains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "core/content.h"

#define CONTENT_REAP_BURST	32
/* Below this much room in the last chunk, base64 is decoded into a small
 * buffer and copied across the boundary, so that every chunk but the last
 * ends full.
 */
#define CONTENT_B64_BOUNCE	256
/* The chunk header sits in front of its bytes, in the same block. */
#define CONTENT_CHUNK_HDR	RTE_ALIGN_CEIL(sizeof(struct content_chunk), \
					       RTE_CACHE_LINE_SIZE)

static struct rte_ring *content_free_ring;
static unsigned int content_max;
static unsigned int content_chunk_max;
static unsigned int content_nlive;	/* control plane only */
static unsigned int content_nchunks;	/* control plane only */

static int content_chunk_release(struct content_chunk *k);

static unsigned int
content_chunks_for(size_t bytes)
{
	return (unsigned int)((bytes + CONTENT_CHUNK_SIZE - 1) >>
			      CONTENT_CHUNK_SHIFT);
}

/* Every content may end in a part-filled chunk, hence one more each.  The
 * EAL's memory bounds the chunks that can exist at all, which keeps the
 * ring small when max_bytes is generous.
 */
static unsigned int
content_chunk_budget(unsigned int max_contents, size_t max_bytes)
{
	uint64_t per = content_chunks_for(max_bytes) + 1;
	uint64_t n = per * max_contents;
	uint64_t mem = rte_eal_get_physmem_size() >> CONTENT_CHUNK_SHIFT;

	if (mem != 0 && n > mem + max_contents)
		n = mem + max_contents;
	return n > RTE_RING_SZ_MASK ? RTE_RING_SZ_MASK : (unsigned int)n;
}

int
content_sys_init(unsigned int max_contents, size_t max_bytes)
{
	unsigned int n;

	if (content_free_ring != NULL)
		return -EALREADY;
	if (max_contents == 0)
		return -EINVAL;

	/* Producers are whichever lcores free the last mbuf of a chunk; the
	 * consumer is the control plane.  Exact size: no more than n chunks
	 * ever exist at once, so every enqueue finds room.
	 */
	n = content_chunk_budget(max_contents, max_bytes);
	content_free_ring = rte_ring_create("anncd_content_free", n,
					    (int)rte_socket_id(),
					    RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (content_free_ring == NULL)
		return -rte_errno;
	content_max = max_contents;
	content_chunk_max = n;
	return 0;
}

/* Runs on the lcore that dropped the last reference, possibly a worker in
 * the middle of its TX path: no free, no lock, no log.  The ring cannot be
 * full (see content_sys_init), so the enqueue cannot fail.
 */
static void
content_free_cb(void *addr, void *opaque)
{
	RTE_SET_USED(addr);
	rte_ring_mp_enqueue(content_free_ring, opaque);
}

struct content *
content_new(size_t size_hint)
{
	struct content *c;
	uint32_t cap = content_chunks_for(size_hint);

	if (content_free_ring == NULL || content_nlive >= content_max)
		return NULL;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->chunks_cap = RTE_MAX(cap, 1u);
	c->chunks = calloc(c->chunks_cap, sizeof(c->chunks[0]));
	if (c->chunks == NULL) {
		free(c);
		return NULL;
	}
	content_nlive++;
	return c;
}

/* A hint that fell short doubles the table; the dataplane never sees it
 * move, as no stream starts before the content is complete.
 */
static int
content_grow(struct content *c)
{
	struct content_chunk **t;
	uint32_t cap = c->chunks_cap * 2;

	if (cap <= c->chunks_cap)
		return -ENOMEM;
	t = realloc(c->chunks, cap * sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	c->chunks = t;
	c->chunks_cap = cap;
	return 0;
}

static int
content_add_chunk(struct content *c)
{
	struct content_chunk *k;

	if (c->reserved)
		return -ENOSPC;
	if (content_nchunks >= content_chunk_max)
		return -ENOMEM;
	if (c->nchunks == c->chunks_cap && content_grow(c) != 0)
		return -ENOMEM;
	k = rte_malloc("content", CONTENT_CHUNK_HDR + CONTENT_CHUNK_SIZE,
		       RTE_CACHE_LINE_SIZE);
	if (k == NULL)
		return -ENOMEM;

	memset(k, 0, sizeof(*k));
	k->data = (uint8_t *)k + CONTENT_CHUNK_HDR;
	k->owner = c;
	/* virt2iova wants the block's own address.  Offsets carry over in
	 * IOVA-as-VA mode; in PA mode a block spanning pages need not be
	 * IOVA-contiguous, which only matters to a NIC that DMAs by IOVA.
	 */
	k->iova = rte_malloc_virt2iova(k);
	if (k->iova != RTE_BAD_IOVA)
		k->iova += CONTENT_CHUNK_HDR;
	k->shinfo.free_cb = content_free_cb;
	k->shinfo.fcb_opaque = k;
	rte_mbuf_ext_refcnt_set(&k->shinfo, 1);	/* the owner's */
	c->chunks[c->nchunks++] = k;
	c->nheld++;
	content_nchunks++;
	return 0;
}

struct content *
content_new_reserved(size_t max_bytes)
{
	struct content *c = content_new(max_bytes);
	uint32_t i, n = content_chunks_for(max_bytes);

	if (c == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (content_add_chunk(c) != 0) {
			content_put(c);
			return NULL;
		}
	}
	c->reserved = 1;
	return c;
}

/* The chunks past len were never written to a packet: the owner's is
 * their only reference, so they go now.  An empty content keeps no chunk
 * and is still the caller's to put.
 */
void
content_trim(struct content *c)
{
	uint32_t keep = content_chunks_for(c->len);

	while (c->nchunks > keep)
		content_chunk_release(c->chunks[--c->nchunks]);
	c->reserved = 0;
}

/* Room left in the chunk that len falls in; 0 when every chunk is full.
 * A reserved content has chunks past that one, which are not counted: a
 * write must not run off the end of its chunk.
 */
static size_t
content_room(const struct content *c)
{
	size_t end = (size_t)c->nchunks << CONTENT_CHUNK_SHIFT;

	if (c->len == end)
		return 0;
	return CONTENT_CHUNK_SIZE - (c->len & CONTENT_CHUNK_MASK);
}

static uint8_t *
content_tail(const struct content *c)
{
	return content_chunk_at(c, c->len)->data +
	       (c->len & CONTENT_CHUNK_MASK);
}

int
content_append(struct content *c, const void *bytes, size_t n)
{
	const uint8_t *p = bytes;
	size_t k;
	int rc;

	while (n > 0) {
		if (content_room(c) == 0 && (rc = content_add_chunk(c)) != 0)
			return rc;
		k = RTE_MIN(n, content_room(c));
		memcpy(content_tail(c), p, k);
		c->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* Encoded bytes that b64_decode() may take when it has room bytes to
 * write: it asks for b64_decoded_max(len) = (len + 3) / 4 * 3 + 3.
 */
static size_t
content_b64_fit(size_t room)
{
	return room < 6 ? 0 : (room - 3) / 3 * 4;
}

/* Decodes straight into the last chunk while it has room to spare; near
 * its end, through a small buffer that content_append() splits.
 */
int
content_append_b64(struct content *c, struct b64_dec *d, const char *in,
		   size_t n)
{
	uint8_t bounce[CONTENT_B64_BOUNCE];
	size_t room, take;
	ssize_t out;
	int rc;

	while (n > 0) {
		room = content_room(c);
		if (room >= CONTENT_B64_BOUNCE) {
			take = RTE_MIN(n, content_b64_fit(room));
			out = b64_decode(d, in, take, content_tail(c));
			if (out >= 0)
				c->len += (size_t)out;
		} else {
			take = RTE_MIN(n, content_b64_fit(sizeof(bounce)));
			out = b64_decode(d, in, take, bounce);
			rc = out > 0 ? content_append(c, bounce, (size_t)out) : 0;
			if (rc != 0)
				return rc;
		}
		if (out < 0)
			return -EILSEQ;
		in += take;
		n -= take;
	}
	return 0;
}

int
content_span(const struct content *c, size_t off, const uint8_t **ptr,
	     size_t *len)
{
	size_t in = off & CONTENT_CHUNK_MASK;

	if (off >= c->len)
		return -ERANGE;
	*ptr = content_chunk_at(c, off)->data + in;
	*len = RTE_MIN(CONTENT_CHUNK_SIZE - in, c->len - off);
	return 0;
}

size_t
content_peek(const struct content *c, size_t off, void *buf, size_t n)
{
	const uint8_t *p;
	size_t k, done = 0;

	while (done < n && content_span(c, off + done, &p, &k) == 0) {
		k = RTE_MIN(k, n - done);
		memcpy((uint8_t *)buf + done, p, k);
		done += k;
	}
	return done;
}

/* The first chunk is contiguous and holds any container header we read
 * (.au headers are 24 bytes plus a short annotation), so it is probed in
 * place; the extent the header claims is checked against the whole.
 */
int
content_probe(struct content *c, const struct media_ctype *mt,
	      const char **why)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc;

	if (c->len > 0)
		content_span(c, 0, &p, &n);
	rc = media_probe_prefix(mt, p, n, c->len, &c->mi, why);
	if (rc == 0 && (c->mi.data_offset > c->len ||
			c->mi.data_len > c->len - c->mi.data_offset)) {
		*why = "payload extends past the content";
		return -1;
	}
	return rc;
}

static void
content_free(struct content *c)
{
	free(c->chunks);
	free(c);
	content_nlive--;
}

/* Returns 1 when that was the content's last chunk. */
static int
content_chunk_release(struct content_chunk *k)
{
	struct content *c = k->owner;

	rte_free(k);
	content_nchunks--;
	return --c->nheld == 0;
}

void
content_get(struct content *c)
{
	uint32_t i;

	for (i = 0; i < c->nchunks; i++)
		rte_mbuf_ext_refcnt_update(&c->chunks[i]->shinfo, 1);
}

void
content_put(struct content *c)
{
	uint32_t i;

	if (c == NULL)
		return;

	/* Reaching 0 here means no mbuf holds the chunk: its callback will
	 * not run, so it goes now.  Chunks still held by mbufs keep nheld
	 * above 0, so the content outlives the loop either way.
	 */
	for (i = 0; i < c->nchunks; i++) {
		if (rte_mbuf_ext_refcnt_update(&c->chunks[i]->shinfo, -1) == 0)
			content_chunk_release(c->chunks[i]);
	}
	if (c->nheld == 0)
		content_free(c);
}

unsigned int
content_reap(void)
{
	void *burst[CONTENT_REAP_BURST];
	struct content_chunk *k;
	struct content *c;
	unsigned int i, n, total = 0;

	if (content_free_ring == NULL)
		return 0;

	/* Bounded by the ring's size: at most content_chunk_max exist. */
	do {
		n = rte_ring_sc_dequeue_burst(content_free_ring, burst,
					      CONTENT_REAP_BURST, NULL);
		for (i = 0; i < n; i++) {
			k = burst[i];
			c = k->owner;
			if (content_chunk_release(k))
				content_free(c);
		}
		total += n;
	} while (n == CONTENT_REAP_BURST && total < content_chunk_max);

	return total;
}

unsigned int
content_live(void)
{
	return content_nlive;
}

unsigned int
content_chunks_live(void)
{
	return content_nchunks;
}
