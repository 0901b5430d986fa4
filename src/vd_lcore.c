/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_lcore: the lcore plan (see vd_lcore.h). A "group" is the set of rx
 * queues that transmit on one tx queue of the linked port; groups are the
 * unit of assignment, so that no tx queue is ever used by two lcores and the
 * datapath needs no lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <numa.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "vd_lcore.h"

RTE_LOG_REGISTER(vd_lcore_logtype, vhostd.ctl, NOTICE);
#define VD_LCORE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, vd_lcore_logtype, "vhostd: lcore plan: " fmt "\n", ##__VA_ARGS__)

#define VD_LCORE_ITEMS_MAX (VD_CFG_PORTS_MAX * VD_CFG_QUEUES_MAX)

struct vd_lcore_item {
	uint16_t port;  /* config index of the rx port */
	uint16_t queue; /* rx queue */
	uint16_t peer;  /* config index of the tx port */
	uint16_t txq;   /* tx queue on the peer */
	int worker;     /* index in workers[], -1 = not yet assigned */
	unsigned int pin_line;
};

static void __rte_format_printf(3, 4) vd_lcore_err(char **err, size_t *errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*errlen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(*err, *errlen, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= *errlen)
		n = (int)*errlen - 1;
	*err += n;
	*errlen -= (size_t)n;
}

int
vd_lcore_cpu_numa(unsigned int cpu)
{
	if (numa_available() < 0)
		return -1;
	return numa_node_of_cpu((int)cpu);
}

unsigned int
vd_lcore_workers_from_cfg(const struct vd_cfg *cfg, struct vd_lcore_worker *w, unsigned int max)
{
	int main_lcore = vd_cfg_main_lcore(cfg);
	unsigned int i, n = 0;

	for (i = 0; i < RTE_MAX_LCORE && n < max; i++) {
		if (!cfg->lcore_set[i] || (int)i == main_lcore)
			continue;
		w[n].lcore_id = i;
		w[n].numa = vd_lcore_cpu_numa(i);
		n++;
	}
	return n;
}

unsigned int
vd_lcore_workers_from_eal(struct vd_lcore_worker *w, unsigned int max)
{
	unsigned int lcore, n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n >= max)
			break;
		w[n].lcore_id = lcore;
		/* libnuma knows the CPU's node even when EAL was given a remapped lcore. */
		w[n].numa = vd_lcore_cpu_numa(rte_lcore_to_cpu_id((int)lcore));
		if (w[n].numa < 0)
			w[n].numa = (int)rte_lcore_to_socket_id(lcore);
		n++;
	}
	return n;
}

/* Least-loaded worker, preferring node @p numa; *same_node says whether it is on it. */
static int
vd_lcore_pick(const struct vd_lcore_worker *workers, unsigned int nb_workers,
	      const unsigned int *load, int numa, bool *same_node)
{
	int best = -1, best_any = -1;
	unsigned int w;

	for (w = 0; w < nb_workers; w++) {
		if (best_any < 0 || load[w] < load[best_any])
			best_any = (int)w;
		if (numa >= 0 && workers[w].numa == numa && (best < 0 || load[w] < load[best]))
			best = (int)w;
	}
	*same_node = best >= 0 || numa < 0;
	return best >= 0 ? best : best_any;
}

static int
vd_lcore_worker_index(const struct vd_lcore_worker *workers, unsigned int nb_workers,
		      unsigned int lcore_id)
{
	unsigned int w;

	for (w = 0; w < nb_workers; w++)
		if (workers[w].lcore_id == lcore_id)
			return (int)w;
	return -1;
}

int
vd_lcore_plan(const struct vd_cfg *cfg, const int *port_numa, const struct vd_lcore_worker *workers,
	      unsigned int nb_workers, struct vd_fwd_lcore *out, char *err, size_t errlen)
{
	struct vd_lcore_item items[VD_LCORE_ITEMS_MAX];
	unsigned int load[RTE_MAX_LCORE] = {0};
	unsigned int nb_items = 0, i, j, k;
	int ret = 0, w;
	bool same;

	if (errlen > 0)
		err[0] = '\0';
	if (nb_workers == 0 || nb_workers > RTE_MAX_LCORE) {
		vd_lcore_err(&err, &errlen,
			     "%s: lcores: no forwarding lcore (give at least 2 lcores: "
			     "the main one and one to forward)\n",
			     cfg->file);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nb_ports; i++) {
		uint16_t peer = vd_cfg_peer(cfg, (uint16_t)i);

		for (j = 0; j < cfg->ports[i].queues; j++) {
			items[nb_items].port = (uint16_t)i;
			items[nb_items].queue = (uint16_t)j;
			items[nb_items].peer = peer;
			items[nb_items].txq = (uint16_t)(j % cfg->ports[peer].queues);
			items[nb_items].worker = -1;
			items[nb_items].pin_line = 0;
			nb_items++;
		}
	}
	/* Pins first, each checked against its group (same peer and tx queue). */
	for (k = 0; k < cfg->nb_pins; k++) {
		const struct vd_cfg_pin *pin = &cfg->pins[k];

		w = vd_lcore_worker_index(workers, nb_workers, pin->lcore);
		if (w < 0) {
			vd_lcore_err(
			    &err, &errlen,
			    "%s:%u: ports: lcore %u is not a forwarding lcore of this EAL\n",
			    cfg->file, pin->line, pin->lcore);
			ret = -EINVAL;
			continue;
		}
		for (i = 0; i < nb_items; i++)
			if (items[i].port == pin->port && items[i].queue == pin->queue)
				break;
		if (i == nb_items)
			continue; /* vd_cfg checked the queue exists */
		items[i].worker = w;
		items[i].pin_line = pin->line;
	}
	for (i = 0; i < nb_items; i++) {
		for (j = 0; j < i; j++) {
			if (items[j].peer != items[i].peer || items[j].txq != items[i].txq ||
			    items[i].pin_line == 0 || items[j].pin_line == 0 ||
			    items[i].worker == items[j].worker)
				continue;
			vd_lcore_err(
			    &err, &errlen,
			    "%s:%u: ports: %s:%u and %s:%u both send on tx queue %u of port "
			    "%s, so one lcore must poll both (lcore %u has %s:%u, line %u)\n",
			    cfg->file, items[i].pin_line, cfg->ports[items[i].port].name,
			    items[i].queue, cfg->ports[items[j].port].name, items[j].queue,
			    items[i].txq, cfg->ports[items[i].peer].name,
			    workers[items[j].worker].lcore_id, cfg->ports[items[j].port].name,
			    items[j].queue, items[j].pin_line);
			ret = -EINVAL;
		}
	}
	if (ret < 0)
		return ret;
	/* An unpinned member of a group follows its pinned members. */
	for (i = 0; i < nb_items; i++) {
		if (items[i].worker >= 0)
			continue;
		for (j = 0; j < nb_items; j++) {
			if (items[j].pin_line != 0 && items[j].peer == items[i].peer &&
			    items[j].txq == items[i].txq) {
				items[i].worker = items[j].worker;
				break;
			}
		}
	}
	for (i = 0; i < nb_items; i++)
		if (items[i].worker >= 0)
			load[items[i].worker]++;
	for (i = 0; i < nb_items; i++) {
		int numa = port_numa[items[i].port];

		if (items[i].worker >= 0)
			continue;
		w = vd_lcore_pick(workers, nb_workers, load, numa, &same);
		if (!same)
			VD_LCORE_LOG(WARNING,
				     "no forwarding lcore on NUMA node %d for %s:%u: polled by "
				     "lcore %u on node %d",
				     numa, cfg->ports[items[i].port].name, items[i].queue,
				     workers[w].lcore_id, workers[w].numa);
		/* The whole group goes along, so that it stays on one lcore. */
		for (j = i; j < nb_items; j++) {
			if (items[j].worker < 0 && items[j].peer == items[i].peer &&
			    items[j].txq == items[i].txq) {
				items[j].worker = w;
				load[w]++;
			}
		}
	}
	for (i = 0; i < cfg->nb_links; i++) {
		const struct vd_cfg_link *l = &cfg->links[i];

		if (port_numa[l->a] >= 0 && port_numa[l->b] >= 0 &&
		    port_numa[l->a] != port_numa[l->b])
			VD_LCORE_LOG(WARNING,
				     "link %s: port %s is on NUMA node %d and port %s on node %d: "
				     "every packet crosses the interconnect",
				     l->name, cfg->ports[l->a].name, port_numa[l->a],
				     cfg->ports[l->b].name, port_numa[l->b]);
	}
	memset(out, 0, sizeof(*out) * nb_workers);
	for (w = 0; w < (int)nb_workers; w++) {
		out[w].lcore_id = workers[w].lcore_id;
		out[w].numa = workers[w].numa;
		out[w].tx_retries = cfg->tx_retries;
	}
	for (i = 0; i < nb_items; i++) {
		struct vd_fwd_lcore *lc = &out[items[i].worker];
		struct vd_fwd_queue *q;
		int numa = port_numa[items[i].port];

		if (lc->nb_queues >= VD_FWD_QUEUES_MAX) {
			vd_lcore_err(&err, &errlen, "%s: lcores: more than %d queues on lcore %u\n",
				     cfg->file, VD_FWD_QUEUES_MAX, lc->lcore_id);
			return -E2BIG;
		}
		if (items[i].pin_line != 0 && numa >= 0 && lc->numa >= 0 && numa != lc->numa)
			VD_LCORE_LOG(
			    WARNING,
			    "%s:%u: %s:%u is on NUMA node %d, pinned to lcore %u on node %d",
			    cfg->file, items[i].pin_line, cfg->ports[items[i].port].name,
			    items[i].queue, numa, lc->lcore_id, lc->numa);
		q = &lc->queues[lc->nb_queues++];
		q->cfg_rx = items[i].port;
		q->rx_queue = items[i].queue;
		q->cfg_tx = items[i].peer;
		q->tx_queue = items[i].txq;
	}
	return 0;
}
