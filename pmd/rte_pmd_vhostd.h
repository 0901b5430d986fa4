/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhostd: a vhost-user virtio-net device as a DPDK ethdev port. This is
 * the driver's public API for what an application (the vhostd daemon, or any
 * DPDK program that loads librte_net_vhostd.so) needs beyond ethdev: the
 * socket behind a port, negotiated features, per-virtqueue and per-socket
 * counters, and the virtqueue enable/disable events that accompany
 * RTE_ETH_EVENT_QUEUE_STATE. After a live migration the frontend may send
 * SEND_RARP: the next burst of rx queue 0 then returns a RARP frame announcing
 * the guest's MAC, as if the guest had sent it (counted in ipackets and in
 * the xstat rx_rarp_injected).
 *
 * Devargs (net_vhost's names are accepted so a setup switches driver by
 * changing only the name):
 *   iface=<path>          vhost-user socket path (required, < 108 bytes)
 *   queues=<1..16>        queue pairs (default 1)
 *   client=<0|1>          connect to the frontend instead of listening (default 0)
 *   tso=<0|1>             0 withdraws HOST/GUEST TSO4/TSO6 (and ECN) from the offer
 *   iommu-support=0       1 is refused: VIRTIO_F_IOMMU_PLATFORM is not supported
 *   postcopy-support=0    1 is refused: postcopy live migration is not supported
 *   dequeue-zero-copy, linear-buffer, ext-buffer, legacy-ol-flags = <0|1>
 *                         accepted for compatibility, no effect: the dequeue path
 *                         always copies into mbufs from the rx queue's pool,
 *                         chains mbufs for large frames and reports guest offload
 *                         requests as RTE_MBUF_F_TX_* flags (net_vhost's legacy
 *                         form), whatever the value.
 *   owner=<user|uid>, group=<group|gid>, mode=<octal>   server socket permissions
 *   reconnect-ms=<n>      client: first re-dial delay (ms)
 *   mac=<xx:xx:xx:xx:xx:xx>  port MAC (default: derived from the path, locally administered)
 *   mtu=<68..65517>       MTU announced to the guest (VIRTIO_NET_F_MTU) and of the port
 *   packed=<0|1>          0 withdraws VIRTIO_F_RING_PACKED from the offer
 *   mrg-rxbuf=<0|1>       0 withdraws VIRTIO_NET_F_MRG_RXBUF from the offer
 */
#ifndef RTE_PMD_VHOSTD_H
#define RTE_PMD_VHOSTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrq.h"
#include "vhu.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Driver name, as in --vdev net_vhostd0,iface=... and rte_eth_dev_info.driver_name. */
#define RTE_PMD_VHOSTD_DRIVER_NAME "net_vhostd"

/** Longest socket path (sun_path of struct sockaddr_un, with its NUL). */
#define RTE_PMD_VHOSTD_PATH_MAX 108

/** What a port is and what its frontend negotiated. */
struct rte_pmd_vhostd_info {
	char iface[RTE_PMD_VHOSTD_PATH_MAX]; /**< socket path */
	bool client;                         /**< we dial the frontend */
	bool link_up;                        /**< device ready (vhu device_ready seen) */
	uint16_t max_queue_pairs;            /**< queues= devarg */
	uint16_t mtu;                        /**< MTU offered to the guest */
	int numa_node;                       /**< node of the queues, SOCKET_ID_ANY if unknown */
	uint64_t features_offered;           /**< virtio feature bits offered */
	uint64_t features;                   /**< negotiated, 0 while no frontend */
};

/**
 * Whether @p port_id is a net_vhostd port.
 * @return 1 if so, 0 if it is another driver's port, -ENODEV if there is no such port.
 */
int rte_pmd_vhostd_is_port(uint16_t port_id);

/**
 * Fill @p info for a net_vhostd port.
 * @return 0, -ENODEV (no such port), -EINVAL (not a net_vhostd port or @p info NULL).
 */
int rte_pmd_vhostd_get_info(uint16_t port_id, struct rte_pmd_vhostd_info *info);

/**
 * Counters of one ethdev queue's virtqueue: rx queue q is guest virtqueue 2q+1
 * (guest TX), tx queue q is virtqueue 2q (guest RX). Any q below the queues=
 * devarg may be read, configured or not; names come from vrq_stat_name().
 * A tx queue whose virtqueue the guest has not enabled (it enabled fewer
 * queue pairs than queues=) sends on an enabled one, tx queue q on enabled
 * queue q % nb_enabled; those packets count on that virtqueue.
 * @return 0, -ENODEV, -EINVAL (not net_vhostd, @p st NULL, q out of range).
 */
int rte_pmd_vhostd_get_queue_stats(uint16_t port_id, bool rx, uint16_t queue_id,
				   struct vrq_stats *st);

/**
 * Control-plane counters of the port's socket (names from vhu_stat_name()),
 * as counted since probe: rte_eth_xstats_reset() does not change them.
 * @return 0, -ENODEV, -EINVAL.
 */
int rte_pmd_vhostd_get_sock_stats(uint16_t port_id, struct vhu_stats *st);

/** One virtqueue state change, in ethdev terms. */
struct rte_pmd_vhostd_queue_event {
	uint16_t queue_id; /**< ethdev queue number (virtqueue / 2) */
	bool rx;           /**< true: rx queue (guest TX virtqueue) */
	bool enable;       /**< enabled or disabled by the frontend */
};

/**
 * Pop the oldest virtqueue state change. One is queued, and
 * RTE_ETH_EVENT_QUEUE_STATE raised, each time the frontend enables or disables
 * a virtqueue; the oldest are dropped when more than 256 are pending.
 * @return 0 with @p ev filled, -EAGAIN if none is pending, -ENODEV, -EINVAL.
 */
int rte_pmd_vhostd_get_queue_event(uint16_t port_id, struct rte_pmd_vhostd_queue_event *ev);

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_VHOSTD_H */
