/* Decoded attachment content shared by every stream that plays it.  The
 * bytes live in DMA-able memory (rte_malloc) so that packets can carry
 * them by reference (rte_pktmbuf_attach_extbuf); one shared-info refcount
 * counts the owner's reference plus one per mbuf in flight.  When the
 * owner has let go and the last mbuf is freed, on whichever lcore that
 * happens, the free callback posts the content to a multi-producer ring
 * and the control plane releases the memory: no lcore frees heap memory.
 */
#ifndef ANNCD_CORE_CONTENT_H
#define ANNCD_CORE_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "core/media.h"

struct content {
	uint8_t *data;			/* decoded bytes */
	size_t len;			/* bytes written so far */
	size_t cap;
	rte_iova_t iova;		/* of data */
	struct media_info mi;		/* payload within data */
	struct rte_mbuf_ext_shared_info shinfo;
};

/* Creates the ring that carries released contents back (once, at start). */
int
content_sys_init(unsigned int max_contents);

/* Allocates a content able to hold cap decoded bytes.  NULL on failure. */
struct content *
content_new(size_t cap);

/* Drops the owner's reference.  The memory is released now if no mbuf
 * holds it, else by content_reap() after the last one is freed.
 */
void
content_put(struct content *c);

/* Releases contents whose last mbuf has been freed.  Control plane only.
 * Returns how many were released.
 */
unsigned int
content_reap(void);

/* Contents allocated and not yet released (for tests and shutdown). */
unsigned int
content_live(void);

#endif
