/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_port: the daemon's ports. A config port becomes an ethdev port: a
 * vhost-user port is a net_vhostd vdev hot-plugged with its devargs, a vdev
 * port is hot-plugged from its vdev string, a PCI port (a VF on vfio-pci) is
 * probed by EAL from the allow-list vhostd builds (-a ADDR,devargs). Every
 * port gets the same number of rx and tx queues, rx mbufs from a pool on its
 * NUMA node, and the TX offloads the hardware can do enabled, less those a
 * driver is known to refuse in practice (vd_port.c); the rest are completed
 * in software by vd_fwd.
 */
#ifndef VD_PORT_H
#define VD_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_config.h>
#include <rte_mempool.h>

#include "vd_cfg.h"

struct vd_port {
	const struct vd_cfg_port *cfg;
	char devname[64]; /* EAL device name: hot-plug, lookup, removal */
	uint16_t port_id; /* ethdev port, valid when probed */
	bool probed;      /* we own the device and must remove it */
	bool configured;
	bool started;
	int numa;                 /* node the queues and mbufs live on, -1 = any */
	uint64_t tx_offloads;     /* RTE_ETH_TX_OFFLOAD_* enabled on this port */
	struct rte_mempool *pool; /* rx mbufs */
};

struct vd_ports {
	uint16_t nb;
	struct vd_port p[VD_CFG_PORTS_MAX];
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES + 1]; /* last: SOCKET_ID_ANY */
};

/**
 * NUMA node of each config port, without EAL: numa= when given; for pci the
 * node sysfs reports; otherwise the node of the linked port; -1 when unknown.
 */
void vd_port_numa_resolve(const struct vd_cfg *cfg, int *numa);

/** EAL device name of a config port ("net_vhostd_<name>", the vdev name, or the PCI address). */
void vd_port_devname(const struct vd_cfg_port *p, char *buf, size_t len);

/**
 * Probe or find every port, create the mbuf pools, configure and start the
 * ports. On failure everything already done is undone. @p numa as from
 * vd_port_numa_resolve(). @return 0 or -errno (logged with the port name).
 */
int vd_ports_open(struct vd_ports *ports, const struct vd_cfg *cfg, const int *numa,
		  unsigned int nb_lcores);

/** Stop, close and remove every port (vhost-user sockets are unlinked), free the pools. */
void vd_ports_close(struct vd_ports *ports);

/** Index of the config port that owns ethdev @p port_id, or -ENOENT. */
int vd_ports_find(const struct vd_ports *ports, uint16_t port_id);

#endif /* VD_PORT_H */
