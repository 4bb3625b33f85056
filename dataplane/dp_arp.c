/* The receive side, on the first worker, and ARP (RFC 826): it answers
 * requests for the media address, learns callers' MACs into a small table
 * per worker for the streams waiting on them (the first worker passes
 * them on to the others), hands IPv4 to dp_rtcp.c to be told apart, and
 * counts and drops every other frame.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>

#include "dataplane/dp_priv.h"

#define DP_ARP_FRAME_LEN	(sizeof(struct rte_ether_hdr) + \
				 sizeof(struct rte_arp_hdr))
/* Shortest Ethernet frame without its FCS: requests are padded to it. */
#define DP_ETH_MIN_LEN		(RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)

static struct dp_arp_entry *
dp_arp_find(const struct dp_worker *w, uint32_t ip)
{
	unsigned int i;

	for (i = 0; i < DP_ARP_SLOTS; i++)
		if (w->arp[i].ip == ip)
			return (struct dp_arp_entry *)&w->arp[i];
	return NULL;
}

int
dp_arp_lookup(const struct dp_worker *w, uint32_t ip, uint64_t now,
	      struct rte_ether_addr *mac)
{
	const struct dp_arp_entry *e = dp_arp_find(w, ip);

	if (e == NULL || now - e->tsc > w->arp_ttl_tsc)
		return -ENOENT;
	rte_ether_addr_copy(&e->mac, mac);
	return 0;
}

/* An empty slot, else the one learned longest ago. */
static struct dp_arp_entry *
dp_arp_victim(struct dp_worker *w)
{
	struct dp_arp_entry *v = &w->arp[0];
	unsigned int i;

	for (i = 0; i < DP_ARP_SLOTS; i++) {
		if (w->arp[i].ip == 0)
			return &w->arp[i];
		if (w->arp[i].tsc < v->tsc)
			v = &w->arp[i];
	}
	return v;
}

static void
dp_arp_store(struct dp_arp_entry *e, uint32_t ip,
	     const struct rte_ether_addr *mac, uint64_t tsc)
{
	e->ip = ip;
	rte_ether_addr_copy(mac, &e->mac);
	e->tsc = tsc;
}

/* The other workers send their own requests but the answers come to the
 * first one's RX queue: it passes on every entry it learns or refreshes.
 * A full ring loses the entry; the worker that waits asks again.
 */
static void
dp_arp_share(struct dp_worker *w, struct dp_arp_entry *e)
{
	unsigned int i;

	for (i = 0; i < w->narp_out; i++) {
		if (rte_ring_sp_enqueue_elem(w->arp_out[i], e, sizeof(*e)) == 0)
			DP_STAT_ADD(w, arp_shared, 1);
		else
			DP_STAT_ADD(w, arp_share_full, 1);
	}
}

/* RFC 826, "Packet Reception": the sender's pair updates an entry that
 * exists; it is added only when the packet was addressed to us.
 */
static void
dp_arp_learn(struct dp_worker *w, uint32_t ip,
	     const struct rte_ether_addr *mac, int add, uint64_t now)
{
	struct dp_arp_entry *e;

	if (ip == 0 || ip == w->cfg.media_ip || !rte_is_unicast_ether_addr(mac))
		return;
	e = dp_arp_find(w, ip);
	if (e == NULL) {
		if (!add)
			return;
		e = dp_arp_victim(w);
	}
	dp_arp_store(e, ip, mac, now);
	dp_arp_share(w, e);
}

/* What the first worker learned, into this one's table (no RX here). */
void
dp_arp_shared_poll(struct dp_worker *w)
{
	struct dp_arp_entry in[8], *e;
	unsigned int i, n;

	n = rte_ring_sc_dequeue_burst_elem(w->arp_in, in, sizeof(in[0]),
					   RTE_DIM(in), NULL);
	for (i = 0; i < n; i++) {
		e = dp_arp_find(w, in[i].ip);
		if (e == NULL)
			e = dp_arp_victim(w);
		dp_arp_store(e, in[i].ip, &in[i].mac, in[i].tsc);
	}
}

/* A broadcast request for ip from the media address.  The caller has
 * checked that the TX buffer has room.
 */
int
dp_arp_request(struct dp_worker *w, uint32_t ip)
{
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	m = rte_pktmbuf_alloc(w->hdr_pool);
	if (m == NULL) {
		DP_STAT_ADD(w, no_mbuf, 1);
		return -ENOMEM;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, DP_ETH_MIN_LEN);
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return -ENOMEM;
	}
	memset(eth, 0, DP_ETH_MIN_LEN);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&w->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);

	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&w->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = w->cfg.media_ip;
	arp->arp_data.arp_tip = ip;

	dp_tx_push(w, m);
	return 0;
}

/* RFC 826: swap the sender into the target fields, put our addresses in
 * the sender fields, set the opcode to reply and send it back to the
 * requester, all in the buffer the request arrived in.
 */
static void
dp_arp_answer(struct dp_worker *w, struct rte_mbuf *m,
	      struct rte_ether_hdr *eth, struct rte_arp_hdr *arp)
{
	struct rte_arp_ipv4 *a = &arp->arp_data;

	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	a->arp_tip = a->arp_sip;
	rte_ether_addr_copy(&w->mac, &a->arp_sha);
	a->arp_sip = w->cfg.media_ip;

	rte_ether_addr_copy(&a->arp_tha, &eth->dst_addr);
	rte_ether_addr_copy(&w->mac, &eth->src_addr);
	m->ol_flags = 0;
	dp_tx_push(w, m);
}

static int
dp_arp_valid(const struct rte_mbuf *m, const struct rte_arp_hdr *arp)
{
	return m->data_len >= DP_ARP_FRAME_LEN &&
	       arp->arp_hardware == rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) &&
	       arp->arp_protocol == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
	       arp->arp_hlen == RTE_ETHER_ADDR_LEN &&
	       arp->arp_plen == sizeof(uint32_t);
}

/* Consumes m.  The RX poll reserved TX room for the answer. */
static void
dp_arp_input(struct dp_worker *w, struct rte_mbuf *m,
	     struct rte_ether_hdr *eth, uint64_t now)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	uint16_t op;
	int for_us;

	if (!dp_arp_valid(m, arp)) {
		DP_STAT_ADD(w, rx_dropped, 1);
		rte_pktmbuf_free(m);
		return;
	}
	op = rte_be_to_cpu_16(arp->arp_opcode);
	for_us = arp->arp_data.arp_tip == w->cfg.media_ip;
	dp_arp_learn(w, arp->arp_data.arp_sip, &arp->arp_data.arp_sha,
		     for_us, now);

	if (op == RTE_ARP_OP_REQUEST) {
		DP_STAT_ADD(w, rx_arp_request, 1);
		if (for_us) {
			dp_arp_answer(w, m, eth, arp);
			return;
		}
	} else if (op == RTE_ARP_OP_REPLY) {
		DP_STAT_ADD(w, rx_arp_reply, 1);
	} else {
		DP_STAT_ADD(w, rx_dropped, 1);
	}
	rte_pktmbuf_free(m);
}

/* af_packet and a shared veth show the port its own transmissions: those
 * are dropped first, before they can teach the ARP table our own MAC.
 */
static void
dp_rx_one(struct dp_worker *w, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (m->data_len < sizeof(*eth)) {
		DP_STAT_ADD(w, rx_dropped, 1);
	} else if (rte_is_same_ether_addr(&eth->src_addr, &w->mac)) {
		DP_STAT_ADD(w, rx_own, 1);
	} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		dp_arp_input(w, m, eth, now);
		return;
	} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		dp_rtcp_input(w, m);
	} else {
		DP_STAT_ADD(w, rx_dropped, 1);
	}
	rte_pktmbuf_free(m);
}

/* Receives no more frames than the TX buffer can answer, so that an ARP
 * reply never has to be dropped; what is not received waits in the queue.
 */
unsigned int
dp_rx_poll(struct dp_worker *w, uint64_t now)
{
	struct rte_mbuf *pkts[DP_RX_BURST];
	unsigned int room = RTE_MIN(dp_tx_room(w, DP_TXBUF), DP_RX_BURST);
	uint16_t i, n;

	if (room == 0)
		return 0;
	n = rte_eth_rx_burst(w->cfg.port_id, 0, pkts, (uint16_t)room);
	for (i = 0; i < n; i++)
		dp_rx_one(w, pkts[i], now);
	return n;
}
