/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_port: opening and closing the daemon's ports (see vd_port.h). Only the
 * ethdev and EAL hot-plug APIs are used, so a net_vhostd port is driven the
 * same way as a VF or a TAP: the daemon does not reach into the driver.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "vd_port.h"

RTE_LOG_REGISTER(vd_port_logtype, vhostd.ctl, NOTICE);
#define VD_PORT_LOG(level, port, fmt, ...)                                                    \
	rte_log(RTE_LOG_##level, vd_port_logtype, "vhostd: port %s: " fmt "\n", (port)->name, \
		##__VA_ARGS__)

/* Per-lcore mempool cache: DPDK's largest (RTE_MEMPOOL_CACHE_MAX_SIZE is 512), half of it
 * keeps a burst of 32 in and out of the cache without touching the ring. */
#define VD_POOL_CACHE 256
/* A vhost-user queue holds no mbufs between bursts: count two bursts in flight. */
#define VD_VHOST_INFLIGHT 64
/* Slack for the software TSO output of vd_fwd and for mbufs held by PMD internals. */
#define VD_POOL_SLACK 2048

/* TX offloads vhostd uses when the egress port has them (else vd_fwd does them). */
#define VD_TX_OFFLOADS_WANTED                                                                     \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |                           \
	 RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_UDP_TSO | \
	 RTE_ETH_TX_OFFLOAD_MULTI_SEGS)

/*
 * TX offloads a driver advertises but does not deliver for what vhostd
 * forwards: they are left disabled and vd_fwd completes them in software.
 * - net_tap (DPDK 22.11): its TSO (rte_gso inside the driver) refuses, and
 *   counts as a tx error, any packet whose MSS plus L2, L3 and L4 headers
 *   exceeds the port MTU, so every full-sized TSO packet of a guest with the
 *   same MTU (MSS 1448 + 66 bytes of headers = 1514 > 1500). Guest-to-TAP TCP
 *   then crawled on retransmissions (3 MB in 12 s, against 0.15 s the other
 *   way). Its TSO is software segmentation anyway, so vd_fwd's costs the same.
 */
static const struct {
	const char *driver;
	uint64_t offloads;
	const char *why;
} vd_port_tx_quirks[] = {
    {"net_tap", RTE_ETH_TX_OFFLOAD_TCP_TSO,
     "refuses TSO packets whose segments are as large as the MTU allows"},
};

void
vd_port_devname(const struct vd_cfg_port *p, char *buf, size_t len)
{
	switch (p->type) {
	case VD_PORT_VHOST:
		snprintf(buf, len, "net_vhostd_%s", p->name);
		break;
	case VD_PORT_PCI:
		snprintf(buf, len, "%s", p->pci);
		break;
	case VD_PORT_VDEV:
		snprintf(buf, len, "%.*s", (int)strcspn(p->vdev, ","), p->vdev);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}

static int
vd_port_sysfs_numa(const char *pci)
{
	char path[128];
	FILE *f;
	int node = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node", pci);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%d", &node) != 1)
		node = -1;
	fclose(f);
	return node;
}

void
vd_port_numa_resolve(const struct vd_cfg *cfg, int *numa)
{
	unsigned int i;

	for (i = 0; i < cfg->nb_ports; i++) {
		const struct vd_cfg_port *p = &cfg->ports[i];
		int hw;

		numa[i] = p->numa;
		if (p->type != VD_PORT_PCI)
			continue;
		/* The device's own node wins: DMA goes where the root port is. */
		hw = vd_port_sysfs_numa(p->pci);
		if (hw >= 0 && p->numa >= 0 && hw != p->numa)
			VD_PORT_LOG(WARNING, p, "numa=%d but %s is on node %d: using %d", p->numa,
				    p->pci, hw, hw);
		if (hw >= 0)
			numa[i] = hw;
	}
	/* A guest or a vdev without numa= follows the port it is linked to. */
	for (i = 0; i < cfg->nb_ports; i++)
		if (numa[i] < 0 && cfg->ports[i].type != VD_PORT_PCI)
			numa[i] = numa[vd_cfg_peer(cfg, (uint16_t)i)];
}

int
vd_ports_find(const struct vd_ports *ports, uint16_t port_id)
{
	unsigned int i;

	for (i = 0; i < ports->nb; i++)
		if (ports->p[i].probed && ports->p[i].port_id == port_id)
			return (int)i;
	return -ENOENT;
}

/* The devargs of a net_vhostd port: the names are those of rte_pmd_vhostd.h. */
static int
vd_port_vhost_args(const struct vd_cfg_port *p, const char *devname, char *buf, size_t len)
{
	size_t n;

#define VD_APPEND(...)                                            \
	do {                                                      \
		int r_ = snprintf(buf + n, len - n, __VA_ARGS__); \
		if (r_ < 0 || (size_t)r_ >= len - n)              \
			return -ENAMETOOLONG;                     \
		n += (size_t)r_;                                  \
	} while (0)

	n = 0;
	VD_APPEND("%s,iface=%s,queues=%u", devname, p->path, p->queues);
	if (p->client)
		VD_APPEND(",client=1");
	if (p->reconnect_ms != 0)
		VD_APPEND(",reconnect-ms=%u", p->reconnect_ms);
	if (p->owner >= 0)
		VD_APPEND(",owner=%lld", (long long)p->owner);
	if (p->group >= 0)
		VD_APPEND(",group=%lld", (long long)p->group);
	if (p->perm != 0)
		VD_APPEND(",mode=0%o", p->perm);
	if (p->has_mac)
		VD_APPEND(",mac=%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1], p->mac[2],
			  p->mac[3], p->mac[4], p->mac[5]);
	if (p->mtu != 0)
		VD_APPEND(",mtu=%u", p->mtu);
	if (p->packed != VD_CFG_DEFAULT)
		VD_APPEND(",packed=%d", p->packed);
	if (p->mrg_rxbuf != VD_CFG_DEFAULT)
		VD_APPEND(",mrg-rxbuf=%d", p->mrg_rxbuf);
	if (p->tso != VD_CFG_DEFAULT)
		VD_APPEND(",tso=%d", p->tso);
#undef VD_APPEND
	return 0;
}

/* Find the ethdev of a device by name; some drivers name the port differently. */
static int
vd_port_lookup(const char *devname, uint16_t *port_id)
{
	struct rte_eth_dev_info info;
	uint16_t pid;

	if (rte_eth_dev_get_port_by_name(devname, port_id) == 0)
		return 0;
	RTE_ETH_FOREACH_DEV(pid) {
		if (rte_eth_dev_info_get(pid, &info) == 0 && info.device != NULL &&
		    strcmp(rte_dev_name(info.device), devname) == 0) {
			*port_id = pid;
			return 0;
		}
	}
	return -ENODEV;
}

static int
vd_port_probe(struct vd_port *vp)
{
	const struct vd_cfg_port *p = vp->cfg;
	char args[VD_CFG_ARGS_MAX + 256];
	int ret;

	vd_port_devname(p, vp->devname, sizeof(vp->devname));
	if (p->type == VD_PORT_PCI) {
		/* EAL probed it at init from the -a allow-list vhostd built. */
		if (vd_port_lookup(vp->devname, &vp->port_id) < 0) {
			VD_PORT_LOG(ERR, p,
				    "no ethdev for %s: is it bound to vfio-pci (dpdk-devbind.py "
				    "--status) and does its driver support it?",
				    p->pci);
			return -ENODEV;
		}
		vp->probed = true;
		return 0;
	}
	if (p->type == VD_PORT_VHOST)
		ret = vd_port_vhost_args(p, vp->devname, args, sizeof(args));
	else
		ret = snprintf(args, sizeof(args), "%s", p->vdev) >= (int)sizeof(args)
			  ? -ENAMETOOLONG
			  : 0;
	if (ret < 0) {
		VD_PORT_LOG(ERR, p, "device arguments too long");
		return ret;
	}
	VD_PORT_LOG(INFO, p, "probing %s", args);
	ret = rte_dev_probe(args);
	if (ret < 0) {
		VD_PORT_LOG(ERR, p, "cannot probe '%s': %s", args, rte_strerror(-ret));
		return ret;
	}
	if (vd_port_lookup(vp->devname, &vp->port_id) < 0) {
		VD_PORT_LOG(ERR, p, "'%s' probed but no ethdev port appeared", args);
		rte_eal_hotplug_remove("vdev", vp->devname);
		return -ENODEV;
	}
	vp->probed = true;
	return 0;
}

/* Is @p node a NUMA node EAL has memory on? */
static bool
vd_port_eal_node(int node)
{
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_socket_id_by_idx(i) == node)
			return true;
	return false;
}

static unsigned int
vd_port_pool_slot(int numa)
{
	return numa < 0 ? RTE_MAX_NUMA_NODES : (unsigned int)numa;
}

static int
vd_ports_pools(struct vd_ports *ports, const struct vd_cfg *cfg, unsigned int nb_lcores)
{
	uint32_t need[RTE_MAX_NUMA_NODES + 1] = {0};
	uint16_t room = cfg->mbuf_size != 0 ? cfg->mbuf_size : RTE_MBUF_DEFAULT_BUF_SIZE;
	unsigned int i, slot;
	char name[RTE_MEMPOOL_NAMESIZE];

	for (i = 0; i < ports->nb; i++) {
		const struct vd_cfg_port *p = ports->p[i].cfg;
		const struct vd_cfg_port *peer = &cfg->ports[vd_cfg_peer(cfg, (uint16_t)i)];
		uint32_t rx = p->type == VD_PORT_VHOST ? VD_VHOST_INFLIGHT : p->rxd;
		uint32_t tx = peer->type == VD_PORT_VHOST ? VD_VHOST_INFLIGHT : peer->txd;

		/* Rx rings are filled from this pool, and its mbufs wait in the peer's tx ring. */
		need[vd_port_pool_slot(ports->p[i].numa)] += p->queues * (rx + tx);
	}
	for (slot = 0; slot <= RTE_MAX_NUMA_NODES; slot++) {
		uint32_t n = need[slot];
		int socket = slot == RTE_MAX_NUMA_NODES ? SOCKET_ID_ANY : (int)slot;
		struct rte_mempool *mp;

		if (n == 0)
			continue;
		if (cfg->mbufs != 0)
			n = cfg->mbufs;
		else
			n = rte_align32pow2(n + nb_lcores * VD_POOL_CACHE * 3 / 2 + VD_POOL_SLACK) -
			    1;
		snprintf(name, sizeof(name), "vd_mbuf_%s%d", socket < 0 ? "any" : "n",
			 socket < 0 ? 0 : socket);
		mp = rte_pktmbuf_pool_create(name, n, VD_POOL_CACHE, 0, room, socket);
		if (mp == NULL && socket >= 0) {
			rte_log(RTE_LOG_WARNING, vd_port_logtype,
				"vhostd: no memory for %u mbufs on NUMA node %d (%s): using any "
				"node\n",
				n, socket, rte_strerror(rte_errno));
			mp =
			    rte_pktmbuf_pool_create(name, n, VD_POOL_CACHE, 0, room, SOCKET_ID_ANY);
		}
		if (mp == NULL) {
			rte_log(RTE_LOG_ERR, vd_port_logtype,
				"vhostd: cannot create a pool of %u mbufs of %u bytes: %s (raise "
				"[eal] memory or lower [datapath] mbufs)\n",
				n, room, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		rte_log(RTE_LOG_INFO, vd_port_logtype, "vhostd: pool %s: %u mbufs of %u bytes\n",
			name, n, room);
		ports->pools[slot] = mp;
	}
	for (i = 0; i < ports->nb; i++)
		ports->p[i].pool = ports->pools[vd_port_pool_slot(ports->p[i].numa)];
	return 0;
}

/* The TX offloads to enable: what the port can do, of what vd_fwd would otherwise do itself. */
static uint64_t
vd_port_tx_offloads(const struct vd_port *vp, const struct rte_eth_dev_info *info)
{
	uint64_t ol = info->tx_offload_capa & VD_TX_OFFLOADS_WANTED;
	unsigned int i;

	for (i = 0; i < RTE_DIM(vd_port_tx_quirks); i++) {
		if (info->driver_name == NULL ||
		    strcmp(info->driver_name, vd_port_tx_quirks[i].driver) != 0 ||
		    !(ol & vd_port_tx_quirks[i].offloads))
			continue;
		VD_PORT_LOG(NOTICE, vp->cfg, "%s %s: tx offloads 0x%" PRIx64 " done in software",
			    info->driver_name, vd_port_tx_quirks[i].why,
			    ol & vd_port_tx_quirks[i].offloads);
		ol &= ~vd_port_tx_quirks[i].offloads;
	}
	return ol;
}

/*
 * The largest MTU rte_eth_dev_configure() accepts: max_mtu, and the largest
 * frame (max_rx_pktlen) less the L2 overhead ethdev assumes. Some drivers
 * leave max_mtu at its default of 65535 and cap only the frame (net_tap in
 * DPDK 22.11: 1522 bytes, so MTU 1504).
 */
static uint32_t
vd_port_max_mtu(const struct rte_eth_dev_info *info)
{
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		overhead = info->max_rx_pktlen - info->max_mtu;
	if (info->max_rx_pktlen <= overhead)
		return 0;
	return RTE_MIN((uint32_t)info->max_mtu, info->max_rx_pktlen - overhead);
}

static int
vd_port_configure(struct vd_port *vp)
{
	const struct vd_cfg_port *p = vp->cfg;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = p->rxd, txd = p->txd, q;
	int ret;

	ret = rte_eth_dev_info_get(vp->port_id, &info);
	if (ret < 0) {
		VD_PORT_LOG(ERR, p, "cannot get device info: %s", rte_strerror(-ret));
		return ret;
	}
	if (p->queues > info.max_rx_queues || p->queues > info.max_tx_queues) {
		VD_PORT_LOG(ERR, p, "queues=%u but %s allows %u rx and %u tx queues", p->queues,
			    info.driver_name, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (p->queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
		    info.flow_type_rss_offloads &
		    (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* ethdev performs only the offloads enabled here; vd_fwd is told the same set. */
	vp->tx_offloads = vd_port_tx_offloads(vp, &info);
	conf.txmode.offloads = vp->tx_offloads;
	/* net_vhostd takes its MTU from the mtu= devarg; the others through ethdev. */
	if (p->mtu != 0 && p->type != VD_PORT_VHOST) {
		uint32_t max_mtu = vd_port_max_mtu(&info);

		if (p->mtu > max_mtu || p->mtu < info.min_mtu) {
			VD_PORT_LOG(ERR, p,
				    "mtu=%u is not supported by %s (%s): its MTU range is %u..%u "
				    "(largest frame %u bytes)",
				    p->mtu, vp->devname, info.driver_name, info.min_mtu, max_mtu,
				    info.max_rx_pktlen);
			return -EINVAL;
		}
		conf.rxmode.mtu = p->mtu;
		if ((uint32_t)p->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN >
		    (uint32_t)(rte_pktmbuf_data_room_size(vp->pool) - RTE_PKTMBUF_HEADROOM)) {
			if (!(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
				VD_PORT_LOG(ERR, p,
					    "mtu=%u needs bigger mbufs ([datapath] mbuf-size) or "
					    "scattered rx, which %s lacks",
					    p->mtu, info.driver_name);
				return -EINVAL;
			}
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		}
	}
	ret = rte_eth_dev_configure(vp->port_id, p->queues, p->queues, &conf);
	if (ret < 0) {
		VD_PORT_LOG(ERR, p, "cannot configure %u queue pairs: %s", p->queues,
			    rte_strerror(-ret));
		return ret;
	}
	vp->configured = true;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(vp->port_id, &rxd, &txd);
	if (ret < 0) {
		VD_PORT_LOG(ERR, p, "descriptor counts %u/%u refused: %s", rxd, txd,
			    rte_strerror(-ret));
		return ret;
	}
	for (q = 0; q < p->queues; q++) {
		ret = rte_eth_rx_queue_setup(vp->port_id, q, rxd,
					     vp->numa < 0 ? (unsigned int)SOCKET_ID_ANY
							  : (unsigned int)vp->numa,
					     NULL, vp->pool);
		if (ret < 0) {
			VD_PORT_LOG(ERR, p, "rx queue %u: %s", q, rte_strerror(-ret));
			return ret;
		}
		ret = rte_eth_tx_queue_setup(
		    vp->port_id, q, txd,
		    vp->numa < 0 ? (unsigned int)SOCKET_ID_ANY : (unsigned int)vp->numa, NULL);
		if (ret < 0) {
			VD_PORT_LOG(ERR, p, "tx queue %u: %s", q, rte_strerror(-ret));
			return ret;
		}
	}
	if (p->has_mac && p->type != VD_PORT_VHOST) {
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, p->mac, sizeof(p->mac));
		ret = rte_eth_dev_default_mac_addr_set(vp->port_id, &mac);
		if (ret < 0) {
			VD_PORT_LOG(ERR, p, "cannot set the MAC address: %s", rte_strerror(-ret));
			return ret;
		}
	}
	/* A bridge forwards every frame, not only those for the port's own MAC. */
	ret = rte_eth_promiscuous_enable(vp->port_id);
	if (ret < 0 && ret != -ENOTSUP)
		VD_PORT_LOG(WARNING, p, "cannot enable promiscuous mode: %s", rte_strerror(-ret));
	ret = rte_eth_dev_start(vp->port_id);
	if (ret < 0) {
		VD_PORT_LOG(ERR, p, "cannot start: %s", rte_strerror(-ret));
		return ret;
	}
	vp->started = true;
	VD_PORT_LOG(NOTICE, p,
		    "%s port %u (%s), %u queue pair(s), NUMA node %d, tx offloads 0x%" PRIx64,
		    vd_cfg_port_type_name(p->type), vp->port_id, vp->devname, p->queues, vp->numa,
		    vp->tx_offloads);
	return 0;
}

int
vd_ports_open(struct vd_ports *ports, const struct vd_cfg *cfg, const int *numa,
	      unsigned int nb_lcores)
{
	unsigned int i;
	int ret;

	memset(ports, 0, sizeof(*ports));
	ports->nb = cfg->nb_ports;
	for (i = 0; i < cfg->nb_ports; i++)
		ports->p[i].cfg = &cfg->ports[i];
	for (i = 0; i < cfg->nb_ports; i++) {
		struct vd_port *vp = &ports->p[i];
		int socket;

		ret = vd_port_probe(vp);
		if (ret < 0)
			goto err;
		socket = rte_eth_dev_socket_id(vp->port_id);
		vp->numa = numa[i];
		if (cfg->ports[i].type == VD_PORT_PCI && socket >= 0)
			vp->numa = socket;
		/* One node only: nothing to choose, and the pools get a real node id. */
		if (vp->numa < 0 && rte_socket_count() == 1)
			vp->numa = rte_socket_id_by_idx(0);
		if (vp->numa >= 0 && !vd_port_eal_node(vp->numa)) {
			VD_PORT_LOG(WARNING, vp->cfg,
				    "NUMA node %d has no EAL memory: queues and mbufs on any node",
				    vp->numa);
			vp->numa = -1;
		}
	}
	ret = vd_ports_pools(ports, cfg, nb_lcores);
	if (ret < 0)
		goto err;
	for (i = 0; i < cfg->nb_ports; i++) {
		ret = vd_port_configure(&ports->p[i]);
		if (ret < 0)
			goto err;
	}
	return 0;
err:
	vd_ports_close(ports);
	return ret;
}

void
vd_ports_close(struct vd_ports *ports)
{
	unsigned int i;
	int ret;

	for (i = ports->nb; i-- > 0;) {
		struct vd_port *vp = &ports->p[i];
		struct rte_eth_dev_info info;
		struct rte_device *dev = NULL;
		struct stat st;

		if (!vp->probed)
			continue;
		if (rte_eth_dev_info_get(vp->port_id, &info) == 0)
			dev = info.device;
		if (vp->started) {
			ret = rte_eth_dev_stop(vp->port_id);
			if (ret < 0)
				VD_PORT_LOG(WARNING, vp->cfg, "stop: %s", rte_strerror(-ret));
			vp->started = false;
		}
		ret = rte_eth_dev_close(vp->port_id);
		if (ret < 0)
			VD_PORT_LOG(WARNING, vp->cfg, "close: %s", rte_strerror(-ret));
		/* Detach the device too, so its driver frees everything (sockets, TAP fds). */
		if (dev != NULL) {
			ret = rte_dev_remove(dev);
			if (ret < 0 && ret != -ENOENT)
				VD_PORT_LOG(WARNING, vp->cfg, "remove: %s", rte_strerror(-ret));
		}
		vp->probed = false;
		vp->configured = false;
		/* A server socket is ours: never leave a stale one for the next start. */
		if (vp->cfg->type == VD_PORT_VHOST && !vp->cfg->client &&
		    lstat(vp->cfg->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
			VD_PORT_LOG(WARNING, vp->cfg, "driver left %s behind: removing it",
				    vp->cfg->path);
			unlink(vp->cfg->path);
		}
		VD_PORT_LOG(INFO, vp->cfg, "closed");
	}
	for (i = 0; i <= RTE_MAX_NUMA_NODES; i++) {
		rte_mempool_free(ports->pools[i]);
		ports->pools[i] = NULL;
	}
}
