/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_ctl: what an operator sees of a running vhostd. Per-port counters
 * (rte_eth_stats and xstats, so a net_vhostd port shows its per-virtqueue
 * counters too), per-lcore forwarding counters, link changes, printed on
 * SIGUSR1, every [stats] interval seconds and at exit, and the same data as
 * DPDK telemetry commands under /vhostd/ for /usr/bin/dpdk-telemetry.py:
 *   /vhostd/ports                name -> ethdev port id
 *   /vhostd/port_info,<id|name>  type, device, NUMA node, queues, link, peer
 *   /vhostd/port_stats,<id|name> ethdev stats, xstats and forwarding counters
 *   /vhostd/links                each link with its two ports and packet counts
 *   /vhostd/lcores               each forwarding lcore, its queues and counters
 * Everything here runs on the main lcore or the telemetry thread, never on a
 * forwarding lcore; one mutex keeps telemetry away from ports being closed.
 */
#ifndef VD_CTL_H
#define VD_CTL_H

#include <stdio.h>

#include "vd_cfg.h"
#include "vd_fwd.h"
#include "vd_port.h"

/** Publish the running state to telemetry. Call once, after the ports are open. */
int vd_ctl_init(const struct vd_cfg *cfg, struct vd_ports *ports, struct vd_fwd_lcore *lcores,
		unsigned int nb_lcores);

/** Print port and lcore counters, with rates since the previous print. */
void vd_ctl_print(FILE *out);

/** Log link up/down changes since the last call (main loop, every few hundred ms). */
void vd_ctl_poll_links(void);

/** Withdraw the state from telemetry (commands answer an error); call before closing ports. */
void vd_ctl_fini(void);

#endif /* VD_CTL_H */
