/* Decoded attachment content and its release path.  A content and its bytes
 * are one rte_malloc block; the mbuf free callback may run on any lcore, so
 * it only posts the content to a ring that the control plane drains.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "core/content.h"

#define CONTENT_REAP_BURST	32

static struct rte_ring *content_free_ring;
static unsigned int content_max;
static unsigned int content_nlive;	/* control plane only */

int
content_sys_init(unsigned int max_contents)
{
	if (content_free_ring != NULL)
		return -EALREADY;
	if (max_contents == 0)
		return -EINVAL;

	/* Producers are whichever lcores free the last mbuf; the consumer is
	 * the control plane.  Exact size: content_new() never lets more than
	 * max_contents exist, so every enqueue finds room.
	 */
	content_free_ring = rte_ring_create("anncd_content_free", max_contents,
					    (int)rte_socket_id(),
					    RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (content_free_ring == NULL)
		return -rte_errno;
	content_max = max_contents;
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
content_new(size_t cap)
{
	struct content *c;
	size_t hdr;

	if (content_free_ring == NULL || content_nlive >= content_max)
		return NULL;

	hdr = RTE_ALIGN_CEIL(sizeof(*c), RTE_CACHE_LINE_SIZE);
	c = rte_malloc("content", hdr + cap, RTE_CACHE_LINE_SIZE);
	if (c == NULL)
		return NULL;

	memset(c, 0, sizeof(*c));
	c->data = (uint8_t *)c + hdr;
	c->cap = cap;
	/* virt2iova wants the block's own address.  Offsets carry over in
	 * IOVA-as-VA mode; in PA mode a block spanning pages need not be
	 * IOVA-contiguous, which only matters to a NIC that DMAs by IOVA.
	 */
	c->iova = rte_malloc_virt2iova(c);
	if (c->iova != RTE_BAD_IOVA)
		c->iova += hdr;
	c->shinfo.free_cb = content_free_cb;
	c->shinfo.fcb_opaque = c;
	rte_mbuf_ext_refcnt_set(&c->shinfo, 1);	/* the owner's */
	content_nlive++;
	return c;
}

static void
content_release(struct content *c)
{
	rte_free(c);
	content_nlive--;
}

void
content_put(struct content *c)
{
	if (c == NULL)
		return;

	/* Reaching 0 here means no mbuf holds the bytes: the callback will
	 * not run, so the memory goes now.
	 */
	if (rte_mbuf_ext_refcnt_update(&c->shinfo, -1) == 0)
		content_release(c);
}

unsigned int
content_reap(void)
{
	void *burst[CONTENT_REAP_BURST];
	unsigned int i, n, total = 0;

	if (content_free_ring == NULL)
		return 0;

	/* Bounded by the ring's size: at most content_max entries exist. */
	do {
		n = rte_ring_sc_dequeue_burst(content_free_ring, burst,
					      CONTENT_REAP_BURST, NULL);
		for (i = 0; i < n; i++)
			content_release(burst[i]);
		total += n;
	} while (n == CONTENT_REAP_BURST && total < content_max);

	return total;
}

unsigned int
content_live(void)
{
	return content_nlive;
}
