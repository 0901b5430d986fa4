/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhostd internals shared by the control part (eth_vhostd.c: probe,
 * dev_ops, vhost-user callbacks) and the burst functions (eth_vhostd_rxtx.c).
 * Not installed; the public API is rte_pmd_vhostd.h.
 *
 * Threads: dev_ops run on the application's control thread, the vhu
 * callbacks on the vhost control thread, the bursts on datapath lcores. The
 * queue structs hold only what a burst reads; the virtqueue pointers they
 * cache stay valid until vhu_sock_destroy(), which only dev_close calls.
 */
#ifndef ETH_VHOSTD_INTERNAL_H
#define ETH_VHOSTD_INTERNAL_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vrq.h"

/*
 * A RARP frame to announce the guest's MAC after a live migration (vhost-user
 * SEND_RARP): the vhost control thread stores the MAC in @pending
 * (EVD_RARP_PENDING | 48-bit MAC), and the next rx burst of queue 0 swaps it
 * out and returns the frame before the guest's own packets, as if the guest
 * had sent it. A newer request overwrites one not yet sent.
 */
#define EVD_RARP_PENDING (1ULL << 63)
#define EVD_RARP_LEN 60 /* RFC 903 frame padded to the Ethernet minimum */
struct eth_vhostd_rarp {
	uint64_t pending;
	uint64_t injected; /* frames returned by rx bursts; written by the rx lcore only */
};

/* One rx queue = the guest's TX virtqueue 2q+1, dequeued into mbufs of mp. */
struct eth_vhostd_rxq {
	struct vrq *vrq;
	struct rte_mempool *mp;
	struct eth_vhostd_rarp *rarp; /* queue 0 only, NULL on the others */
	uint16_t port_id;
	uint16_t queue_id;
	/* 1 between dev_start and dev_stop; read once per burst (acquire). */
	uint8_t running;
} __rte_cache_aligned;

/*
 * One tx queue = the guest's RX virtqueue 2q, filled from the caller's mbufs.
 * A guest may enable fewer queue pairs than the port has (Linux enables one
 * per vCPU): while virtqueue 2q is not started, the burst fills another
 * started RX virtqueue instead, the one @target points at. The vhost control
 * thread (vring_state_changed) and queue setup rewrite @target under the
 * priv's txmap_lock; the burst reads it once (acquire). Every vrq it may
 * point at lives until dev_close, so a burst holding a stale value is safe:
 * the vrq try-locks itself and does nothing while stopped.
 */
struct eth_vhostd_txq {
	struct vrq *vrq;    /* this queue's own virtqueue 2q: stats, stop */
	struct vrq *target; /* the virtqueue a burst fills */
	uint16_t port_id;
	uint16_t queue_id;
	uint8_t running;
} __rte_cache_aligned;

uint16_t eth_vhostd_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts);
/* Append the 60-byte RARP request (RFC 903) announcing @p mac48 to empty @p m. 0 or -ENOSPC. */
int eth_vhostd_rarp_fill(struct rte_mbuf *m, uint64_t mac48);
uint16_t eth_vhostd_tx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts);

#endif /* ETH_VHOSTD_INTERNAL_H */
