/* Decoded attachment content shared by every stream that plays it.  The
 * bytes live in fixed-size chunks of DMA-able memory (rte_malloc), filled
 * in order as the IMAP literal arrives, so that packets can carry them by
 * reference (rte_pktmbuf_attach_extbuf).  Each chunk has its own
 * shared-info refcount: the owner's reference plus one per mbuf in flight
 * that points into it.  When the owner has let go and the last mbuf on a
 * chunk is freed, on whichever lcore that happens, the free callback posts
 * the chunk to a multi-producer ring and the control plane releases it:
 * no lcore frees heap memory.  The content goes with its last chunk.
 */
#ifndef ANNCD_CORE_CONTENT_H
#define ANNCD_CORE_CONTENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mbuf.h>

#include "core/b64.h"
#include "core/media.h"

/* A power of two, so that a logical offset splits into a chunk index and
 * an offset within it by shift and mask.  Packets attach slices of at most
 * one MTU, never a whole chunk, so the 16-bit buf_len of an extbuf does not
 * bound the chunk; a slice spans at most two chunks since an MTU is
 * smaller than one.
 */
#define CONTENT_CHUNK_SHIFT	16
#define CONTENT_CHUNK_SIZE	((size_t)1 << CONTENT_CHUNK_SHIFT)
#define CONTENT_CHUNK_MASK	(CONTENT_CHUNK_SIZE - 1)

struct content;

struct content_chunk {
	uint8_t *data;			/* CONTENT_CHUNK_SIZE bytes */
	rte_iova_t iova;		/* of data, or RTE_BAD_IOVA */
	struct content *owner;
	struct rte_mbuf_ext_shared_info shinfo;
};

/* Every chunk but the last is full: byte off of the content is at
 * chunks[off >> CONTENT_CHUNK_SHIFT]->data[off & CONTENT_CHUNK_MASK].  The
 * chunks and len change only while the content is being filled, on the
 * control plane, before any stream reads them.
 */
struct content {
	struct content_chunk **chunks;
	uint32_t nchunks;		/* allocated, in chunks[] */
	uint32_t chunks_cap;		/* slots in chunks[] */
	uint32_t nheld;			/* chunks not yet released */
	size_t len;			/* bytes written so far */
	int reserved;			/* every chunk allocated up front */
	struct media_info mi;		/* payload, as logical offsets */
};

/* Creates the ring that carries released chunks back (once, at start).
 * At most max_contents contents exist at once, each of at most max_bytes
 * decoded bytes; chunk allocations beyond what that needs fail.
 */
int
content_sys_init(unsigned int max_contents, size_t max_bytes);

/* Allocates an empty content; size_hint (0 when unknown) only sizes the
 * table of chunks, no chunk is allocated before data comes.  NULL on
 * failure or when max_contents already exist.
 */
struct content *
content_new(size_t size_hint);

/* Allocates a content and, up front, every chunk that max_bytes need, for
 * a writer that must not allocate (the dataplane decoding into it): the
 * appends below then only fill those chunks, and fail with -ENOSPC past
 * them.  NULL on failure or when max_contents already exist.
 */
struct content *
content_new_reserved(size_t max_bytes);

/* Releases the reserved chunks past c->len, which nothing else can hold
 * yet, and lets the content grow again.  Control plane only.
 */
void
content_trim(struct content *c);

/* Appends n raw bytes, across chunk boundaries.  0, -ENOMEM, or -ENOSPC
 * past a reserved content's chunks; after a failure the content holds a
 * prefix of the bytes and is only fit to put.
 */
int
content_append(struct content *c, const void *bytes, size_t n);

/* Feeds n bytes of base64 through d and appends what they decode to.  0,
 * -ENOMEM, -ENOSPC (as content_append), or -EILSEQ for a byte that is not
 * base64 (d says which).  On a reserved content it allocates nothing, so
 * any lcore may run it.
 */
int
content_append_b64(struct content *c, struct b64_dec *d, const char *in,
		   size_t n);

/* Copies up to n bytes from logical offset off into buf.  Returns the
 * bytes copied, fewer than n only at the end of the content.
 */
size_t
content_peek(const struct content *c, size_t off, void *buf, size_t n);

/* The contiguous run of bytes at logical offset off: *ptr and *len, up to
 * the end of its chunk or of the content.  0, or -ERANGE past the end.
 */
int
content_span(const struct content *c, size_t off, const uint8_t **ptr,
	     size_t *len);

/* The chunk holding logical offset off (which the caller has checked). */
static inline struct content_chunk *
content_chunk_at(const struct content *c, size_t off)
{
	return c->chunks[off >> CONTENT_CHUNK_SHIFT];
}

/* Examines the content as the given type and fills c->mi (media_probe());
 * the container header is read from the first chunk and checked against
 * the whole length.  0, or -1 with *why.
 */
int
content_probe(struct content *c, const struct media_ctype *mt,
	      const char **why);

/* Takes one more reference on every chunk, for a second holder (a packet
 * plan cut from the content); each holder lets go with content_put().
 */
void
content_get(struct content *c);

/* Drops the owner's reference on every chunk.  Chunks no mbuf holds are
 * released now, the others by content_reap() after their last mbuf is
 * freed; the content itself goes with its last chunk.
 */
void
content_put(struct content *c);

/* Releases chunks whose last mbuf has been freed, and contents whose last
 * chunk that was.  Control plane only.  Returns how many chunks went.
 */
unsigned int
content_reap(void);

/* Contents and chunks allocated and not yet released (tests, shutdown). */
unsigned int
content_live(void);
unsigned int
content_chunks_live(void);

#endif
