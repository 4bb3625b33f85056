/* What the dataplane unit tests share besides the EAL: a net_ring port
 * whose frames the test reads back, content built from bytes the test can
 * recompute, and two byte patterns with no short period.
 */
#ifndef ANNCD_TESTS_DP_RIG_H
#define ANNCD_TESTS_DP_RIG_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/content.h"
#include "tests/unit/eal_rig.h"

/* A byte at offset x (Knuth's multiplicative hash): a payload from the
 * wrong offset never matches.
 */
static inline uint8_t
dp_rig_pattern(size_t x)
{
	return (uint8_t)(((uint32_t)x * 2654435761u) >> 24);
}

/* n bytes of xorshift from seed: no period that lines up with a chunk or
 * a base64 quantum.
 */
static inline void
dp_rig_xorshift(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t x = seed;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

/* Content of a header of off bytes 0xee, then len payload bytes byte(i)
 * for payload offset i; NULL when the content pool refuses.
 */
static inline struct content *
dp_rig_content(size_t off, size_t len, uint8_t (*byte)(size_t))
{
	struct content *c = content_new(off + len);
	uint8_t buf[4096];
	size_t i, j, k;

	if (c == NULL)
		return NULL;
	memset(buf, 0xee, sizeof(buf));
	if (off > sizeof(buf) || content_append(c, buf, off) != 0)
		goto fail;
	for (i = 0; i < len; i += k) {
		k = RTE_MIN(len - i, sizeof(buf));
		for (j = 0; j < k; j++)
			buf[j] = byte(i + j);
		if (content_append(c, buf, k) != 0)
			goto fail;
	}
	c->mi.data_offset = off;
	c->mi.data_len = len;
	return c;

fail:
	content_put(c);
	return NULL;
}

/* A net_ring port named name: one RX ring the test fills, nout TX rings
 * of out_size the test drains, and, when pool is not NULL, a pool for the
 * frames the test sends.  The port id, or -1.
 */
static inline int
dp_rig_ring_port(const char *name, struct rte_ring **in,
		 struct rte_ring **out, unsigned int nout,
		 unsigned int out_size, struct rte_mempool **pool)
{
	const int sock = (int)rte_socket_id();
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
	char rname[RTE_RING_NAMESIZE];
	unsigned int r;

	snprintf(rname, sizeof(rname), "%s_in", name);
	*in = rte_ring_create(rname, 1024, sock, flags);
	if (*in == NULL)
		return -1;
	for (r = 0; r < nout; r++) {
		snprintf(rname, sizeof(rname), "%s_out%u", name, r);
		out[r] = rte_ring_create(rname, out_size, sock, flags);
		if (out[r] == NULL)
			return -1;
	}
	if (pool != NULL) {
		snprintf(rname, sizeof(rname), "%s_pool", name);
		*pool = rte_pktmbuf_pool_create(rname, 255, 0, 0,
						RTE_MBUF_DEFAULT_BUF_SIZE,
						sock);
		if (*pool == NULL)
			return -1;
	}
	return rte_eth_from_rings(name, in, 1, out, (unsigned int)nout,
				  (unsigned int)sock);
}

#endif
