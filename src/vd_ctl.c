/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_ctl: stats printing, link monitoring and the /vhostd/ telemetry
 * commands (see vd_ctl.h). DPDK 22.11 telemetry callbacks take no context
 * pointer, hence the one static state; telemetry cannot unregister a
 * command, hence the live flag checked under the mutex.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include "rte_pmd_vhostd.h"
#include "vd_ctl.h"

RTE_LOG_REGISTER(vd_ctl_logtype, vhostd.ctl, NOTICE);
#define VD_CTL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, vd_ctl_logtype, "vhostd: " fmt "\n", ##__VA_ARGS__)

/* Cap of xstats per telemetry answer: a dict holds RTE_TEL_MAX_DICT_ENTRIES, minus ours. */
#define VD_CTL_XSTATS_MAX (RTE_TEL_MAX_DICT_ENTRIES - 32)

struct vd_ctl_snap {
	uint64_t ipackets, opackets, ibytes, obytes;
};

static struct {
	pthread_mutex_t lock;
	bool live;
	const struct vd_cfg *cfg;
	struct vd_ports *ports;
	struct vd_fwd_lcore *lcores;
	unsigned int nb_lcores;
	int link[VD_CFG_PORTS_MAX]; /* last link status logged, -1 = not yet */
	struct vd_ctl_snap last[VD_CFG_PORTS_MAX];
	struct timespec last_ts;
	struct timespec start_ts;
} vd_ctl = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* rte_eth_link_to_str() is still experimental in 22.11: our own, shorter form. */
static void
vd_ctl_link_str(char *buf, size_t len, const struct rte_eth_link *link)
{
	if (!link->link_status)
		snprintf(buf, len, "down");
	else if (link->link_speed == RTE_ETH_SPEED_NUM_NONE ||
		 link->link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
		snprintf(buf, len, "up");
	else
		snprintf(buf, len, "up %u Mbps %s-duplex", link->link_speed,
			 link->link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
}

/* Sum of the forwarding counters of every queue that receives on config port @p idx. */
static void
vd_ctl_fwd_sum(uint16_t idx, struct vd_fwd_stats *sum)
{
	struct vd_fwd_stats st;
	unsigned int l, q, i;

	memset(sum, 0, sizeof(*sum));
	for (l = 0; l < vd_ctl.nb_lcores; l++) {
		for (q = 0; q < vd_ctl.lcores[l].nb_queues; q++) {
			const struct vd_fwd_queue *fq = &vd_ctl.lcores[l].queues[q];

			if (fq->cfg_rx != idx)
				continue;
			vd_fwd_stats_read(fq, &st);
			for (i = 0; i < VD_FWD_STAT_MAX; i++)
				sum->v[i] += st.v[i];
		}
	}
}

static double
vd_ctl_elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void
vd_ctl_print(FILE *out)
{
	struct timespec now;
	struct rte_eth_stats st;
	struct rte_eth_link link;
	struct vd_fwd_stats fs;
	double dt;
	unsigned int i, l, q;

	pthread_mutex_lock(&vd_ctl.lock);
	if (!vd_ctl.live) {
		pthread_mutex_unlock(&vd_ctl.lock);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = vd_ctl_elapsed(&vd_ctl.last_ts, &now);
	if (dt <= 0)
		dt = 1;
	fprintf(out, "--- vhostd stats, up %.0f s ---\n", vd_ctl_elapsed(&vd_ctl.start_ts, &now));
	fprintf(out, "%-12s %-10s %-4s %12s %12s %14s %14s %10s %10s %9s %9s %8s %8s\n", "port",
		"type", "link", "rx-packets", "tx-packets", "rx-bytes", "tx-bytes", "rx-pps",
		"tx-pps", "rx-missed", "tx-errors", "no-mbuf", "fwd-drop");
	for (i = 0; i < vd_ctl.ports->nb; i++) {
		const struct vd_port *vp = &vd_ctl.ports->p[i];

		if (!vp->probed || rte_eth_stats_get(vp->port_id, &st) != 0)
			continue;
		if (rte_eth_link_get_nowait(vp->port_id, &link) != 0)
			link.link_status = RTE_ETH_LINK_DOWN;
		vd_ctl_fwd_sum((uint16_t)i, &fs);
		fprintf(out,
			"%-12s %-10s %-4s %12" PRIu64 " %12" PRIu64 " %14" PRIu64 " %14" PRIu64
			" %10.0f %10.0f %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
			vp->cfg->name, vd_cfg_port_type_name(vp->cfg->type),
			link.link_status ? "up" : "down", st.ipackets, st.opackets, st.ibytes,
			st.obytes, (double)(st.ipackets - vd_ctl.last[i].ipackets) / dt,
			(double)(st.opackets - vd_ctl.last[i].opackets) / dt, st.imissed,
			st.oerrors, st.rx_nombuf,
			fs.v[VD_FWD_STAT_drop_tx] + fs.v[VD_FWD_STAT_drop_offload]);
		vd_ctl.last[i].ipackets = st.ipackets;
		vd_ctl.last[i].opackets = st.opackets;
	}
	for (l = 0; l < vd_ctl.nb_lcores; l++) {
		const struct vd_fwd_lcore *lc = &vd_ctl.lcores[l];

		for (q = 0; q < lc->nb_queues; q++) {
			const struct vd_fwd_queue *fq = &lc->queues[q];

			vd_fwd_stats_read(fq, &fs);
			fprintf(out,
				"lcore %-3u %s:%u -> %s:%u  rx %" PRIu64 " tx %" PRIu64
				" drop-tx %" PRIu64 " drop-offload %" PRIu64 " sw-offload %" PRIu64
				" retries %" PRIu64 "\n",
				lc->lcore_id, vd_ctl.cfg->ports[fq->cfg_rx].name, fq->rx_queue,
				vd_ctl.cfg->ports[fq->cfg_tx].name, fq->tx_queue,
				fs.v[VD_FWD_STAT_rx_packets], fs.v[VD_FWD_STAT_tx_packets],
				fs.v[VD_FWD_STAT_drop_tx], fs.v[VD_FWD_STAT_drop_offload],
				fs.v[VD_FWD_STAT_sw_offload], fs.v[VD_FWD_STAT_tx_retries]);
		}
	}
	fflush(out);
	vd_ctl.last_ts = now;
	pthread_mutex_unlock(&vd_ctl.lock);
}

/*
 * Once a guest is connected its queues live where its memory is: warn when
 * that is not the node of the port it is linked to (every packet would cross
 * the interconnect), which the config alone could not tell.
 */
static void
vd_ctl_check_guest_numa(uint16_t idx)
{
	const struct vd_port *vp = &vd_ctl.ports->p[idx];
	const struct vd_port *peer = &vd_ctl.ports->p[vd_cfg_peer(vd_ctl.cfg, idx)];
	struct rte_pmd_vhostd_info info;

	if (rte_pmd_vhostd_get_info(vp->port_id, &info) != 0 || info.numa_node < 0)
		return;
	if (peer->numa >= 0 && info.numa_node != peer->numa)
		VD_CTL_LOG(
		    WARNING,
		    "port %s: the guest's queues are on NUMA node %d, its peer %s on node %d",
		    vp->cfg->name, info.numa_node, peer->cfg->name, peer->numa);
}

void
vd_ctl_poll_links(void)
{
	struct rte_eth_link link;
	char text[64];
	unsigned int i;

	pthread_mutex_lock(&vd_ctl.lock);
	for (i = 0; vd_ctl.live && i < vd_ctl.ports->nb; i++) {
		const struct vd_port *vp = &vd_ctl.ports->p[i];

		if (!vp->probed || rte_eth_link_get_nowait(vp->port_id, &link) != 0)
			continue;
		if (vd_ctl.link[i] == link.link_status)
			continue;
		vd_ctl.link[i] = link.link_status;
		vd_ctl_link_str(text, sizeof(text), &link);
		VD_CTL_LOG(NOTICE, "port %s: %s", vp->cfg->name, text);
		if (link.link_status && vp->cfg->type == VD_PORT_VHOST)
			vd_ctl_check_guest_numa((uint16_t)i);
	}
	pthread_mutex_unlock(&vd_ctl.lock);
}

/* ---- telemetry ---- */

/*
 * Telemetry refuses dict keys with characters other than [A-Za-z0-9_/]
 * (DPDK 22.11), and port names may contain '-' and '.': format the key, then
 * map anything else to '_'.
 */
static void __rte_format_printf(3, 4) vd_ctl_key(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	char *c;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	for (c = buf; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '/')
			*c = '_';
}

/* "<port id>" or "<name>" -> config index, -1 if none. */
static int
vd_ctl_port_param(const char *params)
{
	char *end;
	unsigned long id;
	int idx;

	if (params == NULL || *params == '\0')
		return -1;
	idx = vd_cfg_port_find(vd_ctl.cfg, params);
	if (idx >= 0)
		return idx;
	id = strtoul(params, &end, 10);
	if (*end != '\0' || end == params || id >= RTE_MAX_ETHPORTS)
		return -1;
	return vd_ports_find(vd_ctl.ports, (uint16_t)id);
}

/* Telemetry runs on its own thread: each command holds the lock while the ports are live. */
static int
vd_tel_enter(void)
{
	pthread_mutex_lock(&vd_ctl.lock);
	if (!vd_ctl.live) {
		pthread_mutex_unlock(&vd_ctl.lock);
		return -ENODEV;
	}
	return 0;
}

static int
vd_tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char key[RTE_TEL_MAX_STRING_LEN];
	unsigned int i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (vd_tel_enter() != 0)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (i = 0; i < vd_ctl.ports->nb; i++) {
		if (!vd_ctl.ports->p[i].probed)
			continue;
		vd_ctl_key(key, sizeof(key), "%s", vd_ctl.cfg->ports[i].name);
		rte_tel_data_add_dict_int(d, key, vd_ctl.ports->p[i].port_id);
	}
	pthread_mutex_unlock(&vd_ctl.lock);
	return 0;
}

static int
vd_tel_port_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct vd_port *vp;
	struct rte_eth_link link;
	char text[64];
	int idx, ret = 0;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&vd_ctl.lock);
	idx = vd_ctl.live ? vd_ctl_port_param(params) : -1;
	if (idx < 0 || !vd_ctl.ports->p[idx].probed) {
		ret = -EINVAL;
		goto out;
	}
	vp = &vd_ctl.ports->p[idx];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", vp->cfg->name);
	rte_tel_data_add_dict_int(d, "port_id", vp->port_id);
	rte_tel_data_add_dict_string(d, "type", vd_cfg_port_type_name(vp->cfg->type));
	rte_tel_data_add_dict_string(d, "device", vp->devname);
	if (vp->cfg->type == VD_PORT_VHOST) {
		struct rte_pmd_vhostd_info info;

		rte_tel_data_add_dict_string(d, "path", vp->cfg->path);
		rte_tel_data_add_dict_string(d, "mode", vp->cfg->client ? "client" : "server");
		if (rte_pmd_vhostd_get_info(vp->port_id, &info) == 0) {
			rte_tel_data_add_dict_u64(d, "features_offered", info.features_offered);
			rte_tel_data_add_dict_u64(d, "features", info.features);
			rte_tel_data_add_dict_int(d, "guest_numa", info.numa_node);
		}
	}
	rte_tel_data_add_dict_int(d, "numa", vp->numa);
	rte_tel_data_add_dict_int(d, "queues", vp->cfg->queues);
	rte_tel_data_add_dict_u64(d, "tx_offloads", vp->tx_offloads);
	rte_tel_data_add_dict_string(
	    d, "peer", vd_ctl.cfg->ports[vd_cfg_peer(vd_ctl.cfg, (uint16_t)idx)].name);
	if (rte_eth_link_get_nowait(vp->port_id, &link) == 0) {
		vd_ctl_link_str(text, sizeof(text), &link);
		rte_tel_data_add_dict_string(d, "link", text);
	}
out:
	pthread_mutex_unlock(&vd_ctl.lock);
	return ret;
}

static int
vd_tel_port_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *xs = NULL;
	const struct vd_port *vp;
	struct rte_eth_stats st;
	struct vd_fwd_stats fs;
	char key[RTE_TEL_MAX_STRING_LEN];
	int idx, n, i, ret = 0;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&vd_ctl.lock);
	idx = vd_ctl.live ? vd_ctl_port_param(params) : -1;
	if (idx < 0 || !vd_ctl.ports->p[idx].probed) {
		ret = -EINVAL;
		goto out;
	}
	vp = &vd_ctl.ports->p[idx];
	ret = rte_eth_stats_get(vp->port_id, &st);
	if (ret != 0)
		goto out;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "ipackets", st.ipackets);
	rte_tel_data_add_dict_u64(d, "opackets", st.opackets);
	rte_tel_data_add_dict_u64(d, "ibytes", st.ibytes);
	rte_tel_data_add_dict_u64(d, "obytes", st.obytes);
	rte_tel_data_add_dict_u64(d, "imissed", st.imissed);
	rte_tel_data_add_dict_u64(d, "ierrors", st.ierrors);
	rte_tel_data_add_dict_u64(d, "oerrors", st.oerrors);
	rte_tel_data_add_dict_u64(d, "rx_nombuf", st.rx_nombuf);
	vd_ctl_fwd_sum((uint16_t)idx, &fs);
	for (i = 0; i < VD_FWD_STAT_MAX; i++) {
		snprintf(key, sizeof(key), "fwd_%s", vd_fwd_stat_name((unsigned int)i));
		rte_tel_data_add_dict_u64(d, key, fs.v[i]);
	}
	/* The driver's own counters; for net_vhostd these include every virtqueue's. */
	n = rte_eth_xstats_get_names(vp->port_id, NULL, 0);
	if (n <= 0)
		goto out;
	names = calloc((size_t)n, sizeof(*names));
	xs = calloc((size_t)n, sizeof(*xs));
	if (names == NULL || xs == NULL)
		goto out;
	if (rte_eth_xstats_get_names(vp->port_id, names, (unsigned int)n) != n ||
	    rte_eth_xstats_get(vp->port_id, xs, (unsigned int)n) != n)
		goto out;
	for (i = 0; i < n && i < VD_CTL_XSTATS_MAX; i++) {
		vd_ctl_key(key, sizeof(key), "x_%s", names[xs[i].id].name);
		rte_tel_data_add_dict_u64(d, key, xs[i].value);
	}
out:
	free(names);
	free(xs);
	pthread_mutex_unlock(&vd_ctl.lock);
	return ret;
}

static int
vd_tel_links(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char key[RTE_TEL_MAX_STRING_LEN];
	struct vd_fwd_stats ab, ba;
	unsigned int i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (vd_tel_enter() != 0)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (i = 0; i < vd_ctl.cfg->nb_links; i++) {
		const struct vd_cfg_link *l = &vd_ctl.cfg->links[i];
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			break;
		vd_ctl_fwd_sum(l->a, &ab);
		vd_ctl_fwd_sum(l->b, &ba);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "a", vd_ctl.cfg->ports[l->a].name);
		rte_tel_data_add_dict_string(c, "b", vd_ctl.cfg->ports[l->b].name);
		rte_tel_data_add_dict_u64(c, "a_to_b_packets", ab.v[VD_FWD_STAT_tx_packets]);
		rte_tel_data_add_dict_u64(c, "b_to_a_packets", ba.v[VD_FWD_STAT_tx_packets]);
		rte_tel_data_add_dict_u64(
		    c, "a_to_b_drops", ab.v[VD_FWD_STAT_drop_tx] + ab.v[VD_FWD_STAT_drop_offload]);
		rte_tel_data_add_dict_u64(
		    c, "b_to_a_drops", ba.v[VD_FWD_STAT_drop_tx] + ba.v[VD_FWD_STAT_drop_offload]);
		vd_ctl_key(key, sizeof(key), "%s", l->name);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0)
			rte_tel_data_free(c);
	}
	pthread_mutex_unlock(&vd_ctl.lock);
	return 0;
}

static int
vd_tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vd_fwd_stats fs;
	char key[RTE_TEL_MAX_STRING_LEN];
	unsigned int l, q, i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (vd_tel_enter() != 0)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (l = 0; l < vd_ctl.nb_lcores; l++) {
		const struct vd_fwd_lcore *lc = &vd_ctl.lcores[l];
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_int(c, "numa", lc->numa);
		for (q = 0; q < lc->nb_queues; q++) {
			const struct vd_fwd_queue *fq = &lc->queues[q];
			const char *rx = vd_ctl.cfg->ports[fq->cfg_rx].name;

			vd_fwd_stats_read(fq, &fs);
			vd_ctl_key(key, sizeof(key), "%s_q%u_to", rx, fq->rx_queue);
			rte_tel_data_add_dict_string(c, key, vd_ctl.cfg->ports[fq->cfg_tx].name);
			for (i = 0; i < VD_FWD_STAT_MAX; i++) {
				vd_ctl_key(key, sizeof(key), "%s_q%u_%s", rx, fq->rx_queue,
					   vd_fwd_stat_name(i));
				rte_tel_data_add_dict_u64(c, key, fs.v[i]);
			}
		}
		snprintf(key, sizeof(key), "%u", lc->lcore_id);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0)
			rte_tel_data_free(c);
	}
	pthread_mutex_unlock(&vd_ctl.lock);
	return 0;
}

int
vd_ctl_init(const struct vd_cfg *cfg, struct vd_ports *ports, struct vd_fwd_lcore *lcores,
	    unsigned int nb_lcores)
{
	static bool registered;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&vd_ctl.lock);
	vd_ctl.cfg = cfg;
	vd_ctl.ports = ports;
	vd_ctl.lcores = lcores;
	vd_ctl.nb_lcores = nb_lcores;
	for (i = 0; i < VD_CFG_PORTS_MAX; i++)
		vd_ctl.link[i] = -1;
	memset(vd_ctl.last, 0, sizeof(vd_ctl.last));
	clock_gettime(CLOCK_MONOTONIC, &vd_ctl.start_ts);
	vd_ctl.last_ts = vd_ctl.start_ts;
	vd_ctl.live = true;
	pthread_mutex_unlock(&vd_ctl.lock);
	if (registered)
		return 0;
	registered = true;
	ret |= rte_telemetry_register_cmd("/vhostd/ports", vd_tel_ports,
					  "vhostd ports: name -> ethdev port id. No parameters");
	ret |= rte_telemetry_register_cmd("/vhostd/port_info", vd_tel_port_info,
					  "vhostd port type, device, NUMA node, link, peer. "
					  "Parameter: port id or name");
	ret |= rte_telemetry_register_cmd("/vhostd/port_stats", vd_tel_port_stats,
					  "ethdev stats, xstats and forwarding counters of a port. "
					  "Parameter: port id or name");
	ret |= rte_telemetry_register_cmd("/vhostd/links", vd_tel_links,
					  "vhostd links and their packet counts. No parameters");
	ret |= rte_telemetry_register_cmd(
	    "/vhostd/lcores", vd_tel_lcores,
	    "forwarding lcores, their queues and counters. No parameters");
	if (ret != 0)
		VD_CTL_LOG(WARNING, "some /vhostd/ telemetry commands could not be registered");
	return ret != 0 ? -EINVAL : 0;
}

void
vd_ctl_fini(void)
{
	pthread_mutex_lock(&vd_ctl.lock);
	vd_ctl.live = false;
	pthread_mutex_unlock(&vd_ctl.lock);
}
