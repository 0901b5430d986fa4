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
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "eth_vhostd_internal.h"

uint16_t
eth_vhostd_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct eth_vhostd_rxq *rxq = queue;
	uint16_t nb_rx = 0, want, n, i;

	if (unlikely(!__atomic_load_n(&rxq->running, __ATOMIC_ACQUIRE)))
		return 0;
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
		rte_pktmbuf_free_bulk(pkts, nb_tx);
	return nb_tx;
}
