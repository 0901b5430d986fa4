/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_lcore: the lcore plan. Every (port, rx queue) is polled by exactly one
 * forwarding lcore, either pinned in the config ([lcore N] ports=) or spread
 * round-robin (least-loaded first) over the forwarding lcores of the port's
 * NUMA node. Rx queue i of a port transmits on tx queue (i mod queues) of the
 * linked port; tx queues are not thread-safe, so all rx queues that share a
 * tx queue go to the same lcore, and pins that would split them are refused.
 *
 * The plan is a pure function of the config, the NUMA node of each port and
 * the forwarding lcores: `vhostd --check` runs it before EAL, and vhostd
 * runs it again after EAL init, before any device is probed.
 */
#ifndef VD_LCORE_H
#define VD_LCORE_H

#include <stddef.h>
#include <stdint.h>

#include "vd_cfg.h"
#include "vd_fwd.h"

/** A forwarding lcore as the plan sees it. */
struct vd_lcore_worker {
	unsigned int lcore_id;
	int numa; /* node of its CPU, -1 if unknown */
};

/**
 * Build the plan. @p out has one entry per worker, in the order of
 * @p workers; queues are filled with config port indexes (cfg_rx, rx_queue,
 * cfg_tx, tx_queue), the ethdev ids are left to the caller. Warnings (a link
 * or a queue crossing NUMA nodes) are logged; errors are appended to @p err as
 * "file:line: key: reason" lines.
 * @return 0, or -EINVAL (a pin names a lcore that is not forwarding, pins
 * split a shared tx queue, or no forwarding lcore), -E2BIG (too many queues
 * for one lcore).
 */
int vd_lcore_plan(const struct vd_cfg *cfg, const int *port_numa,
		  const struct vd_lcore_worker *workers, unsigned int nb_workers,
		  struct vd_fwd_lcore *out, char *err, size_t errlen);

/** NUMA node of the CPU @p cpu (libnuma), -1 when unknown. */
int vd_lcore_cpu_numa(unsigned int cpu);

/**
 * Forwarding lcores from the config alone (before EAL: lcore id = CPU id as
 * with EAL -l), for --check. @return how many were written to @p w (at most @p max).
 */
unsigned int vd_lcore_workers_from_cfg(const struct vd_cfg *cfg, struct vd_lcore_worker *w,
				       unsigned int max);

/** Forwarding lcores of the running EAL (every enabled worker lcore). */
unsigned int vd_lcore_workers_from_eal(struct vd_lcore_worker *w, unsigned int max);

#endif /* VD_LCORE_H */
