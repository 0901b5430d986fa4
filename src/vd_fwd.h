/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_fwd: the forwarding loops. Each forwarding lcore owns a list of
 * (rx port, rx queue) -> (tx port, tx queue) entries built by the lcore plan
 * (vd_lcore) and polls them round-robin: a burst in, offloads the egress
 * port cannot do completed in software, a burst out, a full TX ring retried a
 * few times, then the rest dropped and counted. No syscalls, locks or logs in
 * the loop; the counters are written only by the owning lcore and read by the
 * control thread with relaxed atomic loads.
 */
#ifndef VD_FWD_H
#define VD_FWD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

/* Most (port, queue) entries one lcore polls: 16 queue pairs x 2 directions x 4 ports. */
#define VD_FWD_QUEUES_MAX 128

/* Counters of one entry, X(name, description). */
#define VD_FWD_STATS_LIST(X)                                                                     \
	X(rx_packets, "packets received on the rx queue")                                        \
	X(tx_packets, "packets sent on the linked tx queue")                                     \
	X(tx_retries, "tx_burst calls repeated because the TX ring was full")                    \
	X(drop_tx,                                                                               \
	  "packets dropped: not taken by the tx queue after the retries (ring full, link down)") \
	X(drop_offload,                                                                          \
	  "packets dropped: offload not completed in software, or a chain the port cannot send") \
	X(sw_offload, "packets whose offloads were completed in software")                       \
	X(bursts, "non-empty rx bursts")

enum vd_fwd_stat_id {
#define VD_FWD_STAT_ENUM(n, d) VD_FWD_STAT_##n,
	VD_FWD_STATS_LIST(VD_FWD_STAT_ENUM)
#undef VD_FWD_STAT_ENUM
	    VD_FWD_STAT_MAX
};

struct vd_fwd_stats {
	uint64_t v[VD_FWD_STAT_MAX];
};

struct vd_fwd_queue {
	uint16_t rx_port; /* ethdev port ids */
	uint16_t rx_queue;
	uint16_t tx_port;
	uint16_t tx_queue;
	uint16_t cfg_rx; /* config port indexes, for names in stats */
	uint16_t cfg_tx;
	bool sw_offload;           /* the egress port lacks some offload: check each packet */
	uint64_t tx_offloads;      /* RTE_ETH_TX_OFFLOAD_* the egress port does itself */
	struct vd_fwd_stats stats; /* written by the owning lcore only */
};

struct vd_fwd_lcore {
	unsigned int lcore_id;
	int numa; /* node of the lcore's CPU, -1 if unknown */
	uint16_t tx_retries;
	uint16_t nb_queues;
	struct vd_fwd_queue queues[VD_FWD_QUEUES_MAX];
} __rte_cache_aligned;

/** Counter name ("rx_packets", ...), NULL when out of range. */
const char *vd_fwd_stat_name(unsigned int id);

/** Ask every forwarding loop to return; safe from a signal handler. */
void vd_fwd_stop(void);

/** Whether vd_fwd_stop() was called. */
bool vd_fwd_stopping(void);

/**
 * One pass: at most one burst from each queue of @p lc, forwarded.
 * @return packets received in this pass.
 */
unsigned int vd_fwd_poll(struct vd_fwd_lcore *lc);

/** The forwarding loop (vd_fwd_poll() until vd_fwd_stop()): lcore_function_t for rte_eal_remote_launch(), @p arg a vd_fwd_lcore. */
int vd_fwd_main(void *arg);

/** Relaxed snapshot of an entry's counters, from any thread. */
void vd_fwd_stats_read(const struct vd_fwd_queue *q, struct vd_fwd_stats *st);

#endif /* VD_FWD_H */
