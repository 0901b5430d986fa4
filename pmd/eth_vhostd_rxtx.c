/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhostd burst functions: rx queue q dequeues the guest's TX virtqueue
 * 2q+1 into mbufs, tx queue q copies mbufs into the guest's RX virtqueue 2q.
 * Everything about rings, guest memory, offloads and interrupts is done by
 * virtio_ring/; this file only adapts the ethdev calling convention.
 *
 * Safe while the guest is absent: the vrq wrappers return 0 for a queue that
 * is not started (no frontend, or a ring the frontend stopped), and they
 * try-lock the queue, so a burst never waits for the vhost control thread.
 *
 * After a live migration the frontend may ask us to announce the guest's MAC
 * (SEND_RARP): rx queue 0 returns that RARP frame first in its next burst.
 *
 * Queues the guest did not enable. A Linux guest enables one queue pair per
 * vCPU, which may be fewer than the port has. An rx queue whose ring is not
 * started has nothing to read: the burst returns 0. A tx queue whose ring is
 * not started fills another started ring (txq->target, kept by
 * eth_vhostd.c), so traffic that a peer spreads over all our tx queues still
 * reaches the guest; when two lcores then share a ring the loser of the
 * try-lock sends 0 and keeps its mbufs, as on a full ring.
 * The queue structs and the vrq pointers they hold are freed only by
 * dev_close, after dev_stop has waited out every burst (see eth_vhostd.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "eth_vhostd_internal.h"

/* RFC 903: an Ethernet ARP packet with the reverse-request opcode. */
#define EVD_RARP_OP_REQUEST_REVERSE 3

int
eth_vhostd_rarp_fill(struct rte_mbuf *m, uint64_t mac48)
{
	struct rte_ether_addr mac;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	unsigned int i;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, EVD_RARP_LEN);
	if (eth == NULL)
		return -ENOSPC;
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac.addr_bytes[i] = (uint8_t)(mac48 >> (8 * i));
	memset(eth, 0, EVD_RARP_LEN);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_RARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(EVD_RARP_OP_REQUEST_REVERSE);
	/* Sender and target hardware address are both the guest's; the IPs stay 0. */
	rte_ether_addr_copy(&mac, &arp->arp_data.arp_sha);
	rte_ether_addr_copy(&mac, &arp->arp_data.arp_tha);
	return 0;
}

/* Queue 0: the pending RARP frame, if any, into pkts[0]. Returns 0 or 1. */
static uint16_t
evd_rarp_take(struct eth_vhostd_rxq *rxq, struct rte_mbuf **pkts)
{
	struct eth_vhostd_rarp *r = rxq->rarp;
	struct rte_mbuf *m;
	uint64_t mac;

	/* The mbuf first: on an empty pool the request waits for a later burst. */
	m = rte_pktmbuf_alloc(rxq->mp);
	if (m == NULL)
		return 0;
	mac = __atomic_exchange_n(&r->pending, 0, __ATOMIC_ACQUIRE);
	if (!(mac & EVD_RARP_PENDING) || eth_vhostd_rarp_fill(m, mac & ~EVD_RARP_PENDING) != 0) {
		/* Nothing pending, or mbufs under 60 bytes: nothing to announce with. */
		rte_pktmbuf_free(m);
		return 0;
	}
	m->port = rxq->port_id;
	pkts[0] = m;
	__atomic_store_n(&r->injected, r->injected + 1, __ATOMIC_RELAXED);
	return 1;
}

uint16_t
eth_vhostd_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct eth_vhostd_rxq *rxq = queue;
	uint16_t nb_rx = 0, want, n, i;

	if (unlikely(!__atomic_load_n(&rxq->running, __ATOMIC_ACQUIRE)))
		return 0;
	/* A plain load first: the exchange happens only when a request is there. */
	if (unlikely(rxq->rarp != NULL && nb_pkts > 0 &&
		     __atomic_load_n(&rxq->rarp->pending, __ATOMIC_RELAXED) != 0))
		nb_rx = evd_rarp_take(rxq, pkts);
	/* The ring layer caps one call at VRQ_BURST_MAX; honour larger requests. */
	while (nb_rx < nb_pkts) {
		want = RTE_MIN(nb_pkts - nb_rx, VRQ_BURST_MAX);
		n = vrq_dequeue_burst(rxq->vrq, rxq->mp, pkts + nb_rx, want);
		nb_rx += n;
		if (n < want)
			break;
	}
	/* The ring layer knows no ports. */
	for (i = 0; i < nb_rx; i++)
		pkts[i]->port = rxq->port_id;
	return nb_rx;
}

/*
 * rte_pktmbuf_free_bulk() for the burst a forwarding loop sends: every
 * mbuf direct, one segment, referenced once, from one pool. Those need
 * nothing from the per-segment free but their return to the pool, one
 * mempool call for all (the library call cost about 40 instructions per
 * mbuf, bench/README.md). Anything else takes the library call.
 */
static inline void
evd_free_sent(struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mempool *mp = pkts[0]->pool;
	uint16_t i;

	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];

		if (unlikely(m->pool != mp || m->nb_segs != 1 || m->next != NULL ||
			     !RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1)) {
			rte_pktmbuf_free_bulk(pkts, n);
			return;
		}
	}
	rte_mempool_put_bulk(mp, (void **)pkts, n);
}

uint16_t
eth_vhostd_tx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct eth_vhostd_txq *txq = queue;
	uint16_t nb_tx = 0, want, n;
	struct vrq *vrq;

	if (unlikely(!__atomic_load_n(&txq->running, __ATOMIC_ACQUIRE)))
		return 0;
	/* One read per burst: the control thread may repoint it at any time. */
	vrq = __atomic_load_n(&txq->target, __ATOMIC_ACQUIRE);
	while (nb_tx < nb_pkts) {
		want = RTE_MIN(nb_pkts - nb_tx, VRQ_BURST_MAX);
		n = vrq_enqueue_burst(vrq, pkts + nb_tx, want);
		nb_tx += n;
		if (n < want)
			break;
	}
	/*
	 * vrq_enqueue_burst() copied the first nb_tx and leaves ownership with
	 * us: free them in one call. The rest stay with the caller (ethdev rule).
	 */
	if (nb_tx != 0)
		evd_free_sent(pkts, nb_tx);
	return nb_tx;
}
