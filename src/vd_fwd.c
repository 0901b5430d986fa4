/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_fwd: the forwarding loop of one lcore (see vd_fwd.h). The loop shape
 * follows STYLE.md 2.7: at most one burst per queue per pass so that no
 * queue starves the others, the stop flag read once per pass, no syscalls,
 * no locks, no logging. A packet that cannot be sent is freed and counted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "vrq.h"
#include "vd_fwd.h"

/* Burst size: DESIGN.md performance rules (VRQ_BURST_MAX). */
#define VD_FWD_BURST VRQ_BURST_MAX
/*
 * Output buffer. Software TSO turns one packet into many: 64 KiB at an MSS of
 * 536 is 123 segments, so a packet that needs it is only processed with at
 * least VD_FWD_SEG_ROOM free slots (the buffer is flushed first otherwise).
 */
#define VD_FWD_SEG_ROOM 128
#define VD_FWD_OUT_MAX (VD_FWD_BURST + 2 * VD_FWD_SEG_ROOM)

/* Offload requests vrq_offload_complete() may have to finish. */
#define VD_FWD_OL_MASK                                                            \
	(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | \
	 RTE_MBUF_F_TX_UDP_SEG)

static bool vd_fwd_stop_flag;

static const char *const vd_fwd_stat_names[] = {
#define VD_FWD_STAT_NAME(n, d) #n,
    VD_FWD_STATS_LIST(VD_FWD_STAT_NAME)
#undef VD_FWD_STAT_NAME
};

const char *
vd_fwd_stat_name(unsigned int id)
{
	return id < VD_FWD_STAT_MAX ? vd_fwd_stat_names[id] : NULL;
}

void
vd_fwd_stop(void)
{
	__atomic_store_n(&vd_fwd_stop_flag, true, __ATOMIC_RELEASE);
}

bool
vd_fwd_stopping(void)
{
	return __atomic_load_n(&vd_fwd_stop_flag, __ATOMIC_ACQUIRE);
}

void
vd_fwd_stats_read(const struct vd_fwd_queue *q, struct vd_fwd_stats *st)
{
	unsigned int i;

	for (i = 0; i < VD_FWD_STAT_MAX; i++)
		st->v[i] = __atomic_load_n(&q->stats.v[i], __ATOMIC_RELAXED);
}

/* Only the owning lcore writes: a relaxed load-add-store is enough and costs no lock prefix. */
static inline void
vd_fwd_count(struct vd_fwd_queue *q, enum vd_fwd_stat_id id, uint64_t n)
{
	__atomic_store_n(&q->stats.v[id], q->stats.v[id] + n, __ATOMIC_RELAXED);
}

/* Send out[0..nb), retrying a full ring a few times; free and count what is left. */
static void
vd_fwd_flush(struct vd_fwd_queue *q, uint16_t tx_retries, struct rte_mbuf **out, uint16_t nb)
{
	uint16_t sent, retries = 0;

	if (nb == 0)
		return;
	sent = rte_eth_tx_burst(q->tx_port, q->tx_queue, out, nb);
	while (unlikely(sent < nb) && retries < tx_retries) {
		rte_pause();
		retries++;
		sent +=
		    rte_eth_tx_burst(q->tx_port, q->tx_queue, out + sent, (uint16_t)(nb - sent));
	}
	if (retries > 0)
		vd_fwd_count(q, VD_FWD_STAT_tx_retries, retries);
	vd_fwd_count(q, VD_FWD_STAT_tx_packets, sent);
	if (unlikely(sent < nb)) {
		rte_pktmbuf_free_bulk(out + sent, (unsigned int)(nb - sent));
		vd_fwd_count(q, VD_FWD_STAT_drop_tx, (uint64_t)(nb - sent));
	}
}

/* The slow path: some packets ask for offloads the egress port lacks. */
static void
vd_fwd_sw_offload(struct vd_fwd_queue *q, uint16_t tx_retries, struct rte_mbuf **pkts, uint16_t nb)
{
	struct rte_mbuf *out[VD_FWD_OUT_MAX];
	uint16_t i, nb_out = 0;
	int n;

	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];

		/* A chain the port cannot send: one segment if it fits, else dropped. */
		if (unlikely(m->nb_segs > 1) && !(q->tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
		    rte_pktmbuf_linearize(m) != 0) {
			rte_pktmbuf_free(m);
			vd_fwd_count(q, VD_FWD_STAT_drop_offload, 1);
			continue;
		}
		if (!(m->ol_flags & VD_FWD_OL_MASK)) {
			out[nb_out++] = m;
			continue;
		}
		if (VD_FWD_OUT_MAX - nb_out < VD_FWD_SEG_ROOM) {
			vd_fwd_flush(q, tx_retries, out, nb_out);
			nb_out = 0;
		}
		n = vrq_offload_complete(m, q->tx_offloads, out + nb_out,
					 (uint16_t)(VD_FWD_OUT_MAX - nb_out));
		if (unlikely(n < 0)) {
			rte_pktmbuf_free(m);
			vd_fwd_count(q, VD_FWD_STAT_drop_offload, 1);
			continue;
		}
		vd_fwd_count(q, VD_FWD_STAT_sw_offload, 1);
		nb_out = (uint16_t)(nb_out + n);
	}
	vd_fwd_flush(q, tx_retries, out, nb_out);
}

unsigned int
vd_fwd_poll(struct vd_fwd_lcore *lc)
{
	struct rte_mbuf *pkts[VD_FWD_BURST];
	const uint16_t nb_queues = lc->nb_queues;
	const uint16_t tx_retries = lc->tx_retries;
	unsigned int total = 0;
	uint16_t i, nb;

	for (i = 0; i < nb_queues; i++) {
		struct vd_fwd_queue *q = &lc->queues[i];

		nb = rte_eth_rx_burst(q->rx_port, q->rx_queue, pkts, VD_FWD_BURST);
		if (nb == 0)
			continue;
		total += nb;
		vd_fwd_count(q, VD_FWD_STAT_bursts, 1);
		vd_fwd_count(q, VD_FWD_STAT_rx_packets, nb);
		/* Decided once at setup from the egress port's capabilities. */
		if (q->sw_offload)
			vd_fwd_sw_offload(q, tx_retries, pkts, nb);
		else
			vd_fwd_flush(q, tx_retries, pkts, nb);
	}
	return total;
}

int
vd_fwd_main(void *arg)
{
	struct vd_fwd_lcore *lc = arg;

	while (!__atomic_load_n(&vd_fwd_stop_flag, __ATOMIC_RELAXED))
		vd_fwd_poll(lc);
	return 0;
}
