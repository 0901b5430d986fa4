/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhostd: the vdev driver that turns one vhost-user socket (vhost/) into
 * one DPDK ethdev port. This file is the control side: devargs, probe and
 * remove, dev_ops (configure, info, start/stop/close, queues, link, stats,
 * xstats, MTU) and the vhost-user callbacks that drive link state and
 * queue-state events. The burst functions are in eth_vhostd_rxtx.c.
 *
 * Life cycle. The vhu_sock is created at probe (so a frontend may connect as
 * soon as the port exists, as with net_vhost) and destroyed at dev_close; its
 * virtqueues, and so the vrq pointers the queue structs cache, live exactly
 * that long. Link is up between the device_ready and device_stopped or
 * connection_closed callbacks, which run on the vhost control thread; they
 * are the only writers of dev_link, so an LSC event is raised exactly once per
 * change and link_update only reports.
 *
 * Stopping. rte_eth_dev_stop() points the port's fast-path ops at dummies
 * before it calls dev_stop, so no new burst enters our functions through
 * ethdev. A burst already inside them is covered twice: dev_stop clears the
 * queue's running flag (bursts that start after that return 0 without
 * touching the ring or the mempool), then takes and drops the queue's vrq
 * lock, which blocks until a burst that holds it (the whole ring walk and
 * every mempool access happen under it) has left. What is left is a caller
 * that read running=1 but had not yet try-locked the ring when dev_stop
 * finished; ethdev already forbids calling a burst concurrently with
 * dev_stop, and nothing is freed at dev_stop anyway: queue structs go at
 * queue release or dev_close, the vrqs at dev_close.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <bus_vdev_driver.h>

#include "vhu.h"
#include "vrq.h"
/* VRQ_FBIT() and the feature bit numbers, which VHU_FEATURES_DEFAULT uses. */
#include "vrq_ring.h"
#include "rte_pmd_vhostd.h"
#include "eth_vhostd_internal.h"

RTE_LOG_REGISTER(eth_vhostd_logtype, pmd.net.vhostd, NOTICE);
#define EVD_LOG(level, name, fmt, ...)                                                    \
	rte_log(RTE_LOG_##level, eth_vhostd_logtype, "net_vhostd: %s: " fmt "\n", (name), \
		##__VA_ARGS__)

/* The largest frame: a 64 KiB GSO packet (virtio-net header gso_size limits). */
#define EVD_MAX_PKT_LEN 65535u
#define EVD_MAX_MTU (EVD_MAX_PKT_LEN - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN)
/* Pending queue-state events kept for rte_pmd_vhostd_get_queue_event(). */
#define EVD_QEV_MAX 256

/* Offer masks of the tso=, packed= and mrg-rxbuf= devargs. ECN needs TSO (virtio 1.2 5.1.3.1). */
#define EVD_TSO_FEATURES                                                   \
	(VRQ_FBIT(VRQ_F_NET_GUEST_TSO4) | VRQ_FBIT(VRQ_F_NET_GUEST_TSO6) | \
	 VRQ_FBIT(VRQ_F_NET_GUEST_ECN) | VRQ_FBIT(VRQ_F_NET_HOST_TSO4) |   \
	 VRQ_FBIT(VRQ_F_NET_HOST_TSO6) | VRQ_FBIT(VRQ_F_NET_HOST_ECN))

/* Devargs after validation. */
struct eth_vhostd_args {
	char iface[RTE_PMD_VHOSTD_PATH_MAX];
	bool client;
	uint16_t queues;
	uint32_t reconnect_ms;
	mode_t mode;
	uid_t owner;
	gid_t group;
	uint16_t mtu;
	bool mac_set;
	struct rte_ether_addr mac;
	uint64_t features;
};

struct eth_vhostd_priv {
	struct rte_eth_dev *eth_dev;
	struct vhu_sock *sock;
	struct eth_vhostd_args args;
	uint8_t closing; /* set before vhu_sock_destroy(): callbacks raise no more events */
	/* Baseline of the socket counters at the last xstats reset (vhu cannot reset them). */
	struct vhu_stats sock_base;
	/*
	 * Which guest RX virtqueues (tx queue q = virtqueue 2q) are started, and
	 * the tx queues set up, to point each txq->target at a started ring. The
	 * vhost control thread and the application's queue setup both write.
	 */
	rte_spinlock_t txmap_lock;
	uint32_t tx_started; /* bit q: virtqueue 2q started */
	struct eth_vhostd_txq *txqs[VHU_QUEUE_PAIRS_MAX];
	/* SEND_RARP: pending frame for rx queue 0, and the count at the last stats reset. */
	struct eth_vhostd_rarp rarp;
	uint64_t rarp_base;
	rte_spinlock_t qev_lock; /* the vhost control thread pushes, the application pops */
	uint32_t qev_head;       /* free-running; entries [tail, head) are pending */
	uint32_t qev_tail;
	struct rte_pmd_vhostd_queue_event qev[EVD_QEV_MAX];
};

static const struct eth_dev_ops eth_vhostd_ops;

/* ---- devargs ---- */

static int
evd_parse_u32(const char *val, uint32_t min, uint32_t max, int base, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (val == NULL || val[0] < '0' || val[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(val, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int
evd_parse_bool(const char *val, bool *out)
{
	uint32_t v;
	int ret = evd_parse_u32(val, 0, 1, 10, &v);

	if (ret == 0)
		*out = v != 0;
	return ret;
}

static int
evd_kv_iface(const char *val, struct eth_vhostd_args *a)
{
	if (val == NULL || val[0] == '\0' || strlen(val) >= sizeof(a->iface))
		return -EINVAL;
	strcpy(a->iface, val);
	return 0;
}

static int
evd_kv_queues(const char *val, struct eth_vhostd_args *a)
{
	uint32_t v;
	int ret = evd_parse_u32(val, 1, VHU_QUEUE_PAIRS_MAX, 10, &v);

	if (ret == 0)
		a->queues = (uint16_t)v;
	return ret;
}

static int
evd_kv_client(const char *val, struct eth_vhostd_args *a)
{
	return evd_parse_bool(val, &a->client);
}

/* Accepted for net_vhost compatibility; the value is checked but changes nothing. */
static int
evd_kv_noop(const char *val, struct eth_vhostd_args *a)
{
	bool v;

	RTE_SET_USED(a);
	return evd_parse_bool(val, &v);
}

/* Only 0 is possible: we neither translate IOVAs (IOTLB) nor support postcopy. */
static int
evd_kv_only_zero(const char *val, struct eth_vhostd_args *a)
{
	bool v;
	int ret = evd_parse_bool(val, &v);

	RTE_SET_USED(a);
	if (ret == 0 && v)
		return -ENOTSUP;
	return ret;
}

static int
evd_feature_switch(const char *val, struct eth_vhostd_args *a, uint64_t mask)
{
	bool v;
	int ret = evd_parse_bool(val, &v);

	if (ret == 0 && !v)
		a->features &= ~mask;
	return ret;
}

static int
evd_kv_tso(const char *val, struct eth_vhostd_args *a)
{
	return evd_feature_switch(val, a, EVD_TSO_FEATURES);
}

static int
evd_kv_packed(const char *val, struct eth_vhostd_args *a)
{
	return evd_feature_switch(val, a, VRQ_FBIT(VRQ_F_RING_PACKED));
}

static int
evd_kv_mrg_rxbuf(const char *val, struct eth_vhostd_args *a)
{
	return evd_feature_switch(val, a, VRQ_FBIT(VRQ_F_NET_MRG_RXBUF));
}

static int
evd_kv_owner(const char *val, struct eth_vhostd_args *a)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	uint32_t v;

	if (val == NULL || val[0] == '\0')
		return -EINVAL;
	/* uid_t -1 means "unchanged" to vhu: refuse it as a number. */
	if (evd_parse_u32(val, 0, UINT32_MAX - 1, 10, &v) == 0) {
		a->owner = (uid_t)v;
		return 0;
	}
	if (getpwnam_r(val, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	a->owner = pw.pw_uid;
	return 0;
}

static int
evd_kv_group(const char *val, struct eth_vhostd_args *a)
{
	struct group gr, *res = NULL;
	char buf[4096];
	uint32_t v;

	if (val == NULL || val[0] == '\0')
		return -EINVAL;
	if (evd_parse_u32(val, 0, UINT32_MAX - 1, 10, &v) == 0) {
		a->group = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(val, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	a->group = gr.gr_gid;
	return 0;
}

static int
evd_kv_mode(const char *val, struct eth_vhostd_args *a)
{
	uint32_t v;
	int ret = evd_parse_u32(val, 1, 0777, 8, &v);

	if (ret == 0)
		a->mode = (mode_t)v;
	return ret;
}

static int
evd_kv_reconnect_ms(const char *val, struct eth_vhostd_args *a)
{
	/* One hour: beyond that a typo is likelier than intent. */
	return evd_parse_u32(val, 1, 3600 * 1000, 10, &a->reconnect_ms);
}

static int
evd_kv_mac(const char *val, struct eth_vhostd_args *a)
{
	if (val == NULL || rte_ether_unformat_addr(val, &a->mac) != 0 ||
	    !rte_is_valid_assigned_ether_addr(&a->mac))
		return -EINVAL;
	a->mac_set = true;
	return 0;
}

static int
evd_kv_mtu(const char *val, struct eth_vhostd_args *a)
{
	uint32_t v;
	int ret = evd_parse_u32(val, RTE_ETHER_MIN_MTU, EVD_MAX_MTU, 10, &v);

	if (ret == 0)
		a->mtu = (uint16_t)v;
	return ret;
}

struct eth_vhostd_kv {
	const char *key;
	int (*parse)(const char *val, struct eth_vhostd_args *a);
	const char *expect; /* for the refusal log line */
};

static const struct eth_vhostd_kv eth_vhostd_kvs[] = {
    {"iface", evd_kv_iface, "a socket path of 1..107 bytes"},
    {"queues", evd_kv_queues, "1..16"},
    {"client", evd_kv_client, "0 or 1"},
    {"tso", evd_kv_tso, "0 or 1"},
    {"iommu-support", evd_kv_only_zero, "0 (IOMMU platform support is not implemented)"},
    {"postcopy-support", evd_kv_only_zero, "0 (postcopy migration is not implemented)"},
    {"dequeue-zero-copy", evd_kv_noop, "0 or 1 (accepted, no effect)"},
    {"linear-buffer", evd_kv_noop, "0 or 1 (accepted, no effect)"},
    {"ext-buffer", evd_kv_noop, "0 or 1 (accepted, no effect)"},
    {"legacy-ol-flags", evd_kv_noop, "0 or 1 (accepted, no effect)"},
    {"owner", evd_kv_owner, "an existing user name or a uid"},
    {"group", evd_kv_group, "an existing group name or a gid"},
    {"mode", evd_kv_mode, "octal permissions 1..0777"},
    {"reconnect-ms", evd_kv_reconnect_ms, "1..3600000"},
    {"mac", evd_kv_mac, "a unicast, non-zero xx:xx:xx:xx:xx:xx"},
    {"mtu", evd_kv_mtu, "68..65517"},
    {"packed", evd_kv_packed, "0 or 1"},
    {"mrg-rxbuf", evd_kv_mrg_rxbuf, "0 or 1"},
};

/* The devargs string for RTE_PMD_REGISTER_PARAM_STRING and `dpdk-pmdinfo`. */
#define EVD_PARAMS                                                                         \
	"iface=<path> queues=<1-16> client=<0|1> tso=<0|1> iommu-support=0 "               \
	"postcopy-support=0 dequeue-zero-copy=<0|1> linear-buffer=<0|1> ext-buffer=<0|1> " \
	"legacy-ol-flags=<0|1> owner=<user|uid> group=<group|gid> mode=<octal> "           \
	"reconnect-ms=<ms> mac=<xx:xx:xx:xx:xx:xx> mtu=<68-65517> packed=<0|1> mrg-rxbuf=<0|1>"

/* A stable, locally administered unicast MAC from the socket path (FNV-1a). */
static void
evd_default_mac(const char *path, struct rte_ether_addr *mac)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int i;

	for (; *path != '\0'; path++)
		h = (h ^ (uint8_t)*path) * 0x100000001b3ULL;
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(h >> (8 * i));
	mac->addr_bytes[0] = (mac->addr_bytes[0] & 0xfc) | 0x02;
}

static int
evd_args_parse(const char *name, const char *params, struct eth_vhostd_args *a)
{
	bool seen[RTE_DIM(eth_vhostd_kvs)] = {false};
	struct rte_kvargs *kvl;
	unsigned int i, k;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->queues = 1;
	a->owner = (uid_t)-1;
	a->group = (gid_t)-1;
	a->mtu = RTE_ETHER_MTU;
	a->features = VHU_FEATURES_DEFAULT;

	if (params == NULL || params[0] == '\0') {
		EVD_LOG(ERR, name, "missing devarg 'iface' (the vhost-user socket path)");
		return -EINVAL;
	}
	/* No key list here: rte_kvargs would refuse an unknown key without naming it. */
	kvl = rte_kvargs_parse(params, NULL);
	if (kvl == NULL) {
		EVD_LOG(ERR, name, "cannot parse devargs '%s'", params);
		return -EINVAL;
	}
	for (i = 0; i < kvl->count && ret == 0; i++) {
		const char *key = kvl->pairs[i].key, *val = kvl->pairs[i].value;

		for (k = 0; k < RTE_DIM(eth_vhostd_kvs); k++)
			if (strcmp(key, eth_vhostd_kvs[k].key) == 0)
				break;
		if (k == RTE_DIM(eth_vhostd_kvs)) {
			EVD_LOG(ERR, name, "unknown devarg '%s'", key);
			ret = -EINVAL;
		} else if (seen[k]) {
			EVD_LOG(ERR, name, "devarg '%s' given twice", key);
			ret = -EINVAL;
		} else {
			seen[k] = true;
			ret = eth_vhostd_kvs[k].parse(val, a);
			if (ret != 0)
				EVD_LOG(ERR, name, "bad devarg '%s=%s': expected %s", key,
					val != NULL ? val : "", eth_vhostd_kvs[k].expect);
		}
	}
	rte_kvargs_free(kvl);
	if (ret == 0 && a->iface[0] == '\0') {
		EVD_LOG(ERR, name, "missing devarg 'iface' (the vhost-user socket path)");
		ret = -EINVAL;
	}
	if (ret == 0 && !a->mac_set)
		evd_default_mac(a->iface, &a->mac);
	return ret;
}

/* ---- vhost-user callbacks (vhost control thread) ---- */

static void
evd_link_set(struct eth_vhostd_priv *priv, bool up)
{
	struct rte_eth_link link = {
	    .link_speed = up ? RTE_ETH_SPEED_NUM_10G : RTE_ETH_SPEED_NUM_NONE,
	    .link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
	    .link_autoneg = RTE_ETH_LINK_FIXED,
	    .link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN,
	};

	/* rte_eth_linkstatus_set() swaps atomically and says whether the status changed. */
	if (rte_eth_linkstatus_set(priv->eth_dev, &link) == 0 &&
	    !__atomic_load_n(&priv->closing, __ATOMIC_ACQUIRE)) {
		EVD_LOG(INFO, priv->args.iface, "link %s", up ? "up" : "down");
		rte_eth_dev_callback_process(priv->eth_dev, RTE_ETH_EVENT_INTR_LSC, NULL);
	}
}

static void
evd_device_ready(struct vhu_sock *s, void *ctx)
{
	RTE_SET_USED(s);
	evd_link_set(ctx, true);
}

static void
evd_device_stopped(struct vhu_sock *s, void *ctx)
{
	RTE_SET_USED(s);
	evd_link_set(ctx, false);
}

static void
evd_connection_closed(struct vhu_sock *s, void *ctx)
{
	RTE_SET_USED(s);
	evd_link_set(ctx, false);
}

/*
 * Point every tx queue at the virtqueue its bursts fill (caller holds
 * txmap_lock): its own while started; else, so that host-to-guest traffic a
 * peer spreads over all our tx queues still arrives, started queue
 * q % nb_started of the started set; its own (bursts return 0) when none is.
 * Several lcores may then share one virtqueue: vrq_enqueue_burst() try-locks
 * it, so a contended burst sends 0 and the caller retries, as on a full ring.
 */
static void
evd_txmap_update(struct eth_vhostd_priv *priv)
{
	uint16_t on[VHU_QUEUE_PAIRS_MAX], nb_on = 0, q;

	for (q = 0; q < priv->args.queues; q++)
		if (priv->tx_started & (1u << q))
			on[nb_on++] = q;
	for (q = 0; q < priv->args.queues; q++) {
		struct eth_vhostd_txq *txq = priv->txqs[q];
		struct vrq *target;

		if (txq == NULL)
			continue;
		if (nb_on == 0 || (priv->tx_started & (1u << q)))
			target = txq->vrq;
		else
			target = vhu_sock_vrq(priv->sock, (uint16_t)(2 * on[q % nb_on]));
		__atomic_store_n(&txq->target, target, __ATOMIC_RELEASE);
	}
}

static void
evd_vring_state_changed(struct vhu_sock *s, uint16_t vq_idx, bool enabled, void *ctx)
{
	struct eth_vhostd_priv *priv = ctx;
	struct rte_pmd_vhostd_queue_event ev = {
	    .queue_id = vq_idx / 2,
	    .rx = (vq_idx & 1) != 0, /* odd virtqueue = guest TX = our rx queue */
	    .enable = enabled,
	};

	RTE_SET_USED(s);
	if (!ev.rx && ev.queue_id < VHU_QUEUE_PAIRS_MAX) {
		rte_spinlock_lock(&priv->txmap_lock);
		if (enabled)
			priv->tx_started |= 1u << ev.queue_id;
		else
			priv->tx_started &= ~(1u << ev.queue_id);
		/* At dev_close the vrqs are being freed and no burst can run. */
		if (!__atomic_load_n(&priv->closing, __ATOMIC_ACQUIRE))
			evd_txmap_update(priv);
		rte_spinlock_unlock(&priv->txmap_lock);
	}
	rte_spinlock_lock(&priv->qev_lock);
	if (priv->qev_head - priv->qev_tail == EVD_QEV_MAX)
		priv->qev_tail++; /* nobody reads them: keep the newest */
	priv->qev[priv->qev_head++ % EVD_QEV_MAX] = ev;
	rte_spinlock_unlock(&priv->qev_lock);
	EVD_LOG(INFO, priv->args.iface, "%s queue %u %s", ev.rx ? "rx" : "tx", ev.queue_id,
		enabled ? "enabled" : "disabled");
	if (!__atomic_load_n(&priv->closing, __ATOMIC_ACQUIRE))
		rte_eth_dev_callback_process(priv->eth_dev, RTE_ETH_EVENT_QUEUE_STATE, NULL);
}

/*
 * SEND_RARP after a live migration: queue a RARP frame announcing @p mac for
 * rx queue 0 (eth_vhostd_rxtx.c), so the application forwards it to the
 * physical network as if the guest had sent it and switches learn where the
 * guest now is. The frontend picks the MAC: only a unicast one is announced.
 */
static void
evd_send_rarp(struct vhu_sock *s, const uint8_t mac[6], void *ctx)
{
	struct eth_vhostd_priv *priv = ctx;
	struct rte_ether_addr ea;
	uint64_t v = 0;
	unsigned int i;

	RTE_SET_USED(s);
	memcpy(ea.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	if (!rte_is_valid_assigned_ether_addr(&ea)) {
		EVD_LOG(WARNING, priv->args.iface, "SEND_RARP: not a unicast MAC, nothing sent");
		return;
	}
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v |= (uint64_t)mac[i] << (8 * i);
	__atomic_store_n(&priv->rarp.pending, v | EVD_RARP_PENDING, __ATOMIC_RELEASE);
	EVD_LOG(INFO, priv->args.iface, "RARP for the guest queued on rx queue 0");
}

static const struct vhu_ops eth_vhostd_vhu_ops = {
    .device_ready = evd_device_ready,
    .device_stopped = evd_device_stopped,
    .vring_state_changed = evd_vring_state_changed,
    .connection_closed = evd_connection_closed,
    .send_rarp = evd_send_rarp,
};

/* ---- dev_ops ---- */

static int
eth_vhostd_configure(struct rte_eth_dev *dev)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;

	/* Completion is polled: virtqueue kicks are never turned into rx interrupts. */
	if (dev->data->dev_conf.intr_conf.rxq) {
		EVD_LOG(ERR, priv->args.iface, "rx queue interrupts are not supported");
		return -ENOTSUP;
	}
	return 0;
}

static int
eth_vhostd_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;

	info->max_mac_addrs = 1;
	info->max_rx_pktlen = EVD_MAX_PKT_LEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = EVD_MAX_MTU;
	info->max_rx_queues = priv->args.queues;
	info->max_tx_queues = priv->args.queues;
	/* A frame that does not fit one mbuf comes as a chain: that is scatter. */
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	/*
	 * vrq_enqueue_burst() turns these into virtio-net header fields when the
	 * guest negotiated the matching feature, and completes them in software
	 * (checksum, segmentation) when it did not, so they hold for any guest.
	 */
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
				RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO;
	info->rx_queue_offload_capa = 0;
	info->tx_queue_offload_capa = 0;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G;
	info->default_rxportconf.burst_size = VRQ_BURST_MAX;
	info->default_txportconf.burst_size = VRQ_BURST_MAX;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	return 0;
}

static void
evd_queues_set_running(struct rte_eth_dev *dev, uint8_t running)
{
	uint16_t i;

	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		struct eth_vhostd_rxq *rxq = dev->data->rx_queues[i];

		if (rxq != NULL)
			__atomic_store_n(&rxq->running, running, __ATOMIC_RELEASE);
		dev->data->rx_queue_state[i] =
		    running ? RTE_ETH_QUEUE_STATE_STARTED : RTE_ETH_QUEUE_STATE_STOPPED;
	}
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		struct eth_vhostd_txq *txq = dev->data->tx_queues[i];

		if (txq != NULL)
			__atomic_store_n(&txq->running, running, __ATOMIC_RELEASE);
		dev->data->tx_queue_state[i] =
		    running ? RTE_ETH_QUEUE_STATE_STARTED : RTE_ETH_QUEUE_STATE_STOPPED;
	}
}

static int
eth_vhostd_start(struct rte_eth_dev *dev)
{
	evd_queues_set_running(dev, 1);
	return 0;
}

static int
eth_vhostd_stop(struct rte_eth_dev *dev)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	uint16_t i, nb = priv->sock != NULL ? vhu_sock_nb_vrqs(priv->sock) : 0;

	/*
	 * Reasoning in the comment at the top of this file. Every virtqueue, not
	 * only those of the set-up queues: a tx burst may fill another queue's
	 * ring (evd_txmap_update()).
	 */
	evd_queues_set_running(dev, 0);
	for (i = 0; i < nb; i++) {
		struct vrq *q = vhu_sock_vrq(priv->sock, i);

		vrq_lock(q);
		vrq_unlock(q);
	}
	return 0;
}

static void
eth_vhostd_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	rte_free(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = NULL;
}

static void
eth_vhostd_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;

	rte_spinlock_lock(&priv->txmap_lock);
	if (qid < VHU_QUEUE_PAIRS_MAX && priv->txqs[qid] == dev->data->tx_queues[qid])
		priv->txqs[qid] = NULL;
	rte_spinlock_unlock(&priv->txmap_lock);
	rte_free(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
}

static int
eth_vhostd_close(struct rte_eth_dev *dev)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	uint16_t i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || priv == NULL)
		return 0;
	/* No events from the teardown: the application is closing the port. */
	__atomic_store_n(&priv->closing, 1, __ATOMIC_RELEASE);
	vhu_sock_destroy(priv->sock);
	priv->sock = NULL;
	for (i = 0; i < dev->data->nb_rx_queues; i++)
		eth_vhostd_rx_queue_release(dev, i);
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		eth_vhostd_tx_queue_release(dev, i);
	return 0;
}

static int
eth_vhostd_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  unsigned int socket_id, const struct rte_eth_rxconf *conf,
			  struct rte_mempool *mp)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	struct eth_vhostd_rxq *rxq;

	/* The ring size is the guest's choice; nb_desc and the thresholds do not apply. */
	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	rxq =
	    rte_zmalloc_socket("eth_vhostd_rxq", sizeof(*rxq), RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (rxq == NULL)
		return -ENOMEM;
	rxq->vrq = vhu_sock_vrq(priv->sock, 2 * qid + 1);
	rxq->mp = mp;
	rxq->rarp = qid == 0 ? &priv->rarp : NULL;
	rxq->port_id = dev->data->port_id;
	rxq->queue_id = qid;
	dev->data->rx_queues[qid] = rxq;
	return 0;
}

static int
eth_vhostd_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  unsigned int socket_id, const struct rte_eth_txconf *conf)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	struct eth_vhostd_txq *txq;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	txq =
	    rte_zmalloc_socket("eth_vhostd_txq", sizeof(*txq), RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (txq == NULL)
		return -ENOMEM;
	txq->vrq = vhu_sock_vrq(priv->sock, 2 * qid);
	txq->target = txq->vrq;
	txq->port_id = dev->data->port_id;
	txq->queue_id = qid;
	rte_spinlock_lock(&priv->txmap_lock);
	priv->txqs[qid] = txq;
	evd_txmap_update(priv);
	rte_spinlock_unlock(&priv->txmap_lock);
	dev->data->tx_queues[qid] = txq;
	return 0;
}

static int
eth_vhostd_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	/* dev_link is kept current by the vhu callbacks; see the top of the file. */
	RTE_SET_USED(dev);
	RTE_SET_USED(wait_to_complete);
	return 0;
}

/* RARP frames rx queue 0 returned since the last stats reset. */
static uint64_t
evd_rarp_count(const struct eth_vhostd_priv *priv)
{
	return __atomic_load_n(&priv->rarp.injected, __ATOMIC_RELAXED) - priv->rarp_base;
}

static int
eth_vhostd_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	uint64_t rarp = evd_rarp_count(priv);
	struct vrq_stats st;
	uint16_t i;

	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		struct eth_vhostd_rxq *rxq = dev->data->rx_queues[i];
		uint64_t err;

		if (rxq == NULL)
			continue;
		vrq_stats_get(rxq->vrq, &st);
		err = st.v[VRQ_STAT_drop_oversize] + st.v[VRQ_STAT_drop_bad_desc] +
		      st.v[VRQ_STAT_drop_bad_hdr];
		stats->ipackets += st.v[VRQ_STAT_packets];
		stats->ibytes += st.v[VRQ_STAT_bytes];
		stats->ierrors += err;
		stats->rx_nombuf += st.v[VRQ_STAT_drop_nombuf];
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_ipackets[i] = st.v[VRQ_STAT_packets];
			stats->q_ibytes[i] = st.v[VRQ_STAT_bytes];
			stats->q_errors[i] = err;
		}
	}
	/* Injected RARP frames are received packets too (rx queue 0). */
	if (dev->data->nb_rx_queues > 0) {
		stats->ipackets += rarp;
		stats->ibytes += rarp * EVD_RARP_LEN;
		stats->q_ipackets[0] += rarp;
		stats->q_ibytes[0] += rarp * EVD_RARP_LEN;
	}
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		struct eth_vhostd_txq *txq = dev->data->tx_queues[i];

		if (txq == NULL)
			continue;
		vrq_stats_get(txq->vrq, &st);
		stats->opackets += st.v[VRQ_STAT_packets];
		stats->obytes += st.v[VRQ_STAT_bytes];
		/*
		 * Only what the ring layer discarded; packets refused for lack of
		 * guest buffers went back to the caller (tx_q*_drop_no_buf counts them).
		 */
		stats->oerrors += st.v[VRQ_STAT_drop_oversize] + st.v[VRQ_STAT_drop_bad_desc] +
				  st.v[VRQ_STAT_drop_bad_hdr];
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_opackets[i] = st.v[VRQ_STAT_packets];
			stats->q_obytes[i] = st.v[VRQ_STAT_bytes];
		}
	}
	return 0;
}

static int
eth_vhostd_stats_reset(struct rte_eth_dev *dev)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	uint16_t i;

	priv->rarp_base = __atomic_load_n(&priv->rarp.injected, __ATOMIC_RELAXED);
	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		struct eth_vhostd_rxq *rxq = dev->data->rx_queues[i];

		if (rxq != NULL)
			vrq_stats_reset(rxq->vrq);
	}
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		struct eth_vhostd_txq *txq = dev->data->tx_queues[i];

		if (txq != NULL)
			vrq_stats_reset(txq->vrq);
	}
	return 0;
}

/* xstats: VRQ_STATS_LIST per rx queue, then per tx queue, then VHU_STATS_LIST, then rarp. */
static unsigned int
evd_xstats_count(const struct rte_eth_dev *dev)
{
	return (dev->data->nb_rx_queues + dev->data->nb_tx_queues) * VRQ_STAT_MAX + VHU_STAT_MAX +
	       1;
}

static int
eth_vhostd_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
			    unsigned int size)
{
	unsigned int n = evd_xstats_count(dev), k = 0, i, id;

	if (names == NULL || size < n)
		return (int)n;
	for (i = 0; i < dev->data->nb_rx_queues; i++)
		for (id = 0; id < VRQ_STAT_MAX; id++)
			snprintf(names[k++].name, sizeof(names[0].name), "rx_q%u_%s", i,
				 vrq_stat_name(id));
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		for (id = 0; id < VRQ_STAT_MAX; id++)
			snprintf(names[k++].name, sizeof(names[0].name), "tx_q%u_%s", i,
				 vrq_stat_name(id));
	for (id = 0; id < VHU_STAT_MAX; id++)
		snprintf(names[k++].name, sizeof(names[0].name), "vhu_%s", vhu_stat_name(id));
	snprintf(names[k++].name, sizeof(names[0].name), "rx_rarp_injected");
	return (int)k;
}

static int
eth_vhostd_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats, unsigned int n)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;
	unsigned int total = evd_xstats_count(dev), k = 0, i, id;
	struct vrq_stats st;
	struct vhu_stats vs;

	if (xstats == NULL || n < total)
		return (int)total;
	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		struct eth_vhostd_rxq *rxq = dev->data->rx_queues[i];

		memset(&st, 0, sizeof(st));
		if (rxq != NULL)
			vrq_stats_get(rxq->vrq, &st);
		for (id = 0; id < VRQ_STAT_MAX; id++, k++) {
			xstats[k].id = k;
			xstats[k].value = st.v[id];
		}
	}
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		struct eth_vhostd_txq *txq = dev->data->tx_queues[i];

		memset(&st, 0, sizeof(st));
		if (txq != NULL)
			vrq_stats_get(txq->vrq, &st);
		for (id = 0; id < VRQ_STAT_MAX; id++, k++) {
			xstats[k].id = k;
			xstats[k].value = st.v[id];
		}
	}
	vhu_sock_stats_get(priv->sock, &vs);
	for (id = 0; id < VHU_STAT_MAX; id++, k++) {
		xstats[k].id = k;
		xstats[k].value = vs.v[id] - priv->sock_base.v[id];
	}
	xstats[k].id = k;
	xstats[k].value = evd_rarp_count(priv);
	k++;
	return (int)k;
}

static int
eth_vhostd_xstats_reset(struct rte_eth_dev *dev)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;

	vhu_sock_stats_get(priv->sock, &priv->sock_base);
	return eth_vhostd_stats_reset(dev);
}

/* There is no filter to program: the guest sees every frame we send it. */
static int
eth_vhostd_filter_noop(struct rte_eth_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static int
eth_vhostd_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct eth_vhostd_priv *priv = dev->data->dev_private;

	/*
	 * ethdev checked min_mtu..max_mtu. The guest learned its MTU at
	 * negotiation (VIRTIO_NET_F_MTU, from mtu=) and has no way to hear of a
	 * change; frames are never cut to the MTU on either path, so this only
	 * sets what the application reads back.
	 */
	if (mtu != priv->args.mtu)
		EVD_LOG(INFO, priv->args.iface, "port MTU %u; the guest was offered %u", mtu,
			priv->args.mtu);
	return 0;
}

static const struct eth_dev_ops eth_vhostd_ops = {
    .dev_configure = eth_vhostd_configure,
    .dev_infos_get = eth_vhostd_infos_get,
    .dev_start = eth_vhostd_start,
    .dev_stop = eth_vhostd_stop,
    .dev_close = eth_vhostd_close,
    .rx_queue_setup = eth_vhostd_rx_queue_setup,
    .tx_queue_setup = eth_vhostd_tx_queue_setup,
    .rx_queue_release = eth_vhostd_rx_queue_release,
    .tx_queue_release = eth_vhostd_tx_queue_release,
    .link_update = eth_vhostd_link_update,
    .stats_get = eth_vhostd_stats_get,
    .stats_reset = eth_vhostd_stats_reset,
    .xstats_get = eth_vhostd_xstats_get,
    .xstats_get_names = eth_vhostd_xstats_get_names,
    .xstats_reset = eth_vhostd_xstats_reset,
    .promiscuous_enable = eth_vhostd_filter_noop,
    .promiscuous_disable = eth_vhostd_filter_noop,
    .allmulticast_enable = eth_vhostd_filter_noop,
    .allmulticast_disable = eth_vhostd_filter_noop,
    .mtu_set = eth_vhostd_mtu_set,
};

/* ---- probe / remove ---- */

static int
eth_vhostd_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct eth_vhostd_priv *priv;
	struct vhu_sock_conf conf;
	struct rte_eth_dev *eth_dev;
	struct eth_vhostd_args a;
	int ret;

	/* The guest memory maps and the control thread live in the primary only. */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		EVD_LOG(ERR, name, "secondary processes are not supported");
		return -ENOTSUP;
	}
	ret = evd_args_parse(name, rte_vdev_device_args(vdev), &a);
	if (ret != 0)
		return ret;

	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*priv));
	if (eth_dev == NULL) {
		EVD_LOG(ERR, name, "cannot allocate the port");
		return -ENOMEM;
	}
	priv = eth_dev->data->dev_private;
	priv->eth_dev = eth_dev;
	priv->args = a;
	rte_spinlock_init(&priv->qev_lock);
	rte_spinlock_init(&priv->txmap_lock);
	eth_dev->data->mac_addrs =
	    rte_zmalloc_socket(name, sizeof(struct rte_ether_addr), 0, eth_dev->data->numa_node);
	if (eth_dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto err_release;
	}
	rte_ether_addr_copy(&a.mac, eth_dev->data->mac_addrs);
	eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	eth_dev->data->mtu = a.mtu;
	eth_dev->data->dev_link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	eth_dev->data->dev_link.link_autoneg = RTE_ETH_LINK_FIXED;
	eth_dev->data->dev_link.link_status = RTE_ETH_LINK_DOWN;
	eth_dev->dev_ops = &eth_vhostd_ops;
	eth_dev->rx_pkt_burst = eth_vhostd_rx_burst;
	eth_dev->tx_pkt_burst = eth_vhostd_tx_burst;

	memset(&conf, 0, sizeof(conf));
	conf.path = priv->args.iface;
	conf.client = a.client;
	conf.reconnect_ms = a.reconnect_ms;
	conf.mode = a.mode;
	conf.owner = a.owner;
	conf.group = a.group;
	conf.max_queue_pairs = a.queues;
	conf.features = a.features;
	conf.mtu = a.mtu;
	memcpy(conf.mac, a.mac.addr_bytes, sizeof(conf.mac));
	conf.numa_node = eth_dev->data->numa_node;
	priv->sock = vhu_sock_create(&conf, &eth_vhostd_vhu_ops, priv);
	if (priv->sock == NULL) {
		ret = rte_errno > 0 ? -rte_errno : -EINVAL;
		EVD_LOG(ERR, name, "cannot create vhost-user socket %s: %s", a.iface,
			strerror(-ret));
		goto err_release;
	}
	rte_eth_dev_probing_finish(eth_dev);
	EVD_LOG(INFO, name, "%s %s, %u queue pair(s), features 0x%" PRIx64,
		a.client ? "dialing" : "listening on", a.iface, a.queues, a.features);
	return 0;

err_release:
	/* Frees dev_private and mac_addrs too. */
	rte_eth_dev_release_port(eth_dev);
	return ret;
}

static int
eth_vhostd_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	if (eth_dev == NULL)
		return 0;
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return rte_eth_dev_release_port(eth_dev);
	if (eth_dev->data->dev_started)
		rte_eth_dev_stop(eth_dev->data->port_id);
	/* Calls eth_vhostd_close() and releases the port. */
	return rte_eth_dev_close(eth_dev->data->port_id);
}

static struct rte_vdev_driver eth_vhostd_drv = {
    .probe = eth_vhostd_probe,
    .remove = eth_vhostd_remove,
};

RTE_PMD_REGISTER_VDEV(net_vhostd, eth_vhostd_drv);
RTE_PMD_REGISTER_PARAM_STRING(net_vhostd, EVD_PARAMS);

/* ---- rte_pmd_vhostd.h ---- */

static struct eth_vhostd_priv *
evd_priv_of(uint16_t port_id, int *err)
{
	struct rte_eth_dev *dev;

	if (!rte_eth_dev_is_valid_port(port_id)) {
		*err = -ENODEV;
		return NULL;
	}
	dev = &rte_eth_devices[port_id];
	if (dev->dev_ops != &eth_vhostd_ops || dev->data->dev_private == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	*err = 0;
	return dev->data->dev_private;
}

int
rte_pmd_vhostd_is_port(uint16_t port_id)
{
	int err;

	if (evd_priv_of(port_id, &err) != NULL)
		return 1;
	return err == -ENODEV ? -ENODEV : 0;
}

int
rte_pmd_vhostd_get_info(uint16_t port_id, struct rte_pmd_vhostd_info *info)
{
	struct eth_vhostd_priv *priv;
	int err;

	priv = evd_priv_of(port_id, &err);
	if (priv == NULL)
		return err;
	if (info == NULL || priv->sock == NULL)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	memcpy(info->iface, priv->args.iface, sizeof(info->iface));
	info->client = priv->args.client;
	/* One bit of a word the callbacks store atomically: a plain read is enough here. */
	info->link_up = priv->eth_dev->data->dev_link.link_status == RTE_ETH_LINK_UP;
	info->max_queue_pairs = priv->args.queues;
	info->mtu = priv->args.mtu;
	info->numa_node = priv->eth_dev->data->numa_node;
	info->features_offered = priv->args.features;
	info->features = vhu_sock_features(priv->sock);
	return 0;
}

int
rte_pmd_vhostd_get_queue_stats(uint16_t port_id, bool rx, uint16_t queue_id, struct vrq_stats *st)
{
	struct eth_vhostd_priv *priv;
	int err;

	priv = evd_priv_of(port_id, &err);
	if (priv == NULL)
		return err;
	if (st == NULL || priv->sock == NULL || queue_id >= priv->args.queues)
		return -EINVAL;
	vrq_stats_get(vhu_sock_vrq(priv->sock, 2 * queue_id + (rx ? 1 : 0)), st);
	return 0;
}

int
rte_pmd_vhostd_get_sock_stats(uint16_t port_id, struct vhu_stats *st)
{
	struct eth_vhostd_priv *priv;
	int err;

	priv = evd_priv_of(port_id, &err);
	if (priv == NULL)
		return err;
	if (st == NULL || priv->sock == NULL)
		return -EINVAL;
	vhu_sock_stats_get(priv->sock, st);
	return 0;
}

int
rte_pmd_vhostd_get_queue_event(uint16_t port_id, struct rte_pmd_vhostd_queue_event *ev)
{
	struct eth_vhostd_priv *priv;
	int err;

	priv = evd_priv_of(port_id, &err);
	if (priv == NULL)
		return err;
	if (ev == NULL)
		return -EINVAL;
	rte_spinlock_lock(&priv->qev_lock);
	if (priv->qev_head == priv->qev_tail) {
		err = -EAGAIN;
	} else {
		*ev = priv->qev[priv->qev_tail++ % EVD_QEV_MAX];
		err = 0;
	}
	rte_spinlock_unlock(&priv->qev_lock);
	return err;
}
