/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the net_vhostd ethdev driver (pmd/), driven only through the
 * ethdev and rte_pmd_vhostd APIs as an application would: vdev probe with
 * good and bad devargs (each refusal must name the key in the log), the
 * public API, xstats names and values, bursts while no guest is there, and
 * one packet each way through rte_eth_rx_burst/rte_eth_tx_burst against the
 * synthetic guest of tests/unit/lib (memfd RAM mapped twice, split driver).
 * EAL runs with --no-huge --no-shconf (--in-memory conflicts with --no-huge).
 *
 * For the datapath tests the guest rings are attached to the port's
 * virtqueues directly (vrq_set_mem + vrq_start under vrq_lock, what vhost/
 * does after SET_VRING_KICK), reached through the queue the burst function
 * receives; no frontend is connected, so vhost/ does not touch them. The
 * link-state and queue-event tests connect the scripted vhost-user frontend
 * of tests/unit/lib (vhu_frontend) to the port's socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rte_pmd_vhostd.h"
#include "eth_vhostd_internal.h"
#include "vrq.h"
#include "vrq_ring.h"
#include "vhu.h"
#include "vrq_guest.h"
#include "vhu_frontend.h"

#define UT_RING 256
#define UT_FRAME 60
#define UT_HDR 12 /* virtio_net_hdr_mrg_rxbuf: VERSION_1 */

static struct rte_mempool *ut_mp;
static FILE *ut_log;
static unsigned int ut_seq;
static char ut_log_buf[65536];

/* ---- helpers ---- */

static void
ut_sock_path(char *buf, size_t len, unsigned int n)
{
	snprintf(buf, len, "/tmp/evd-ut-%d-%u.sock", (int)getpid(), n);
}

/* Probe net_vhostd_ut<n> with "iface=<fresh path>" + extra; port id or -errno. */
static int
ut_probe(const char *extra, char *path, size_t path_len, char *name, size_t name_len)
{
	char args[512];
	uint16_t port;
	int ret;

	ut_seq++;
	ut_sock_path(path, path_len, ut_seq);
	snprintf(name, name_len, "net_vhostd_ut%u", ut_seq);
	snprintf(args, sizeof(args), "iface=%s%s%s", path, extra[0] ? "," : "", extra);
	ret = rte_vdev_init(name, args);
	if (ret != 0)
		return ret < 0 ? ret : -ret;
	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return -ENODEV;
	return port;
}

static void
ut_log_clear(void)
{
	fflush(ut_log);
	assert_int_equal(ftruncate(fileno(ut_log), 0), 0);
	rewind(ut_log);
}

static const char *
ut_log_text(void)
{
	size_t n;

	fflush(ut_log);
	rewind(ut_log);
	n = fread(ut_log_buf, 1, sizeof(ut_log_buf) - 1, ut_log);
	ut_log_buf[n] = '\0';
	fseek(ut_log, 0, SEEK_END);
	return ut_log_buf;
}

static int
ut_port_setup(uint16_t port, uint16_t nb_q)
{
	struct rte_eth_conf conf;
	uint16_t q;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, nb_q, nb_q, &conf);
	for (q = 0; ret == 0 && q < nb_q; q++) {
		ret = rte_eth_rx_queue_setup(port, q, 256, SOCKET_ID_ANY, NULL, ut_mp);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, 256, SOCKET_ID_ANY, NULL);
	}
	return ret;
}

static uint64_t
ut_xstat(uint16_t port, const char *name)
{
	uint64_t id, v = UINT64_MAX;

	if (rte_eth_xstats_get_id_by_name(port, name, &id) != 0)
		return UINT64_MAX;
	if (rte_eth_xstats_get_by_id(port, &id, &v, 1) != 1)
		return UINT64_MAX;
	return v;
}

/* ---- probe and devargs ---- */

static void
test_eth_vhostd_probe_defaults(void **state)
{
	char path[108], name[64];
	struct rte_pmd_vhostd_info info;
	struct rte_eth_dev_info di;
	struct rte_eth_link link;
	struct stat st;
	int port;

	(void)state;
	port = ut_probe("", path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(rte_eth_dev_info_get(port, &di), 0);
	assert_string_equal(di.driver_name, RTE_PMD_VHOSTD_DRIVER_NAME);
	assert_int_equal(di.max_rx_queues, 1);
	assert_true(di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO);
	assert_int_equal(rte_pmd_vhostd_is_port(port), 1);
	assert_int_equal(rte_pmd_vhostd_get_info(port, &info), 0);
	assert_string_equal(info.iface, path);
	assert_false(info.client);
	assert_false(info.link_up);
	assert_int_equal(info.mtu, 1500);
	assert_int_equal(info.features_offered, VHU_FEATURES_DEFAULT);
	assert_int_equal(info.features, 0);
	assert_int_equal(rte_eth_link_get_nowait(port, &link), 0);
	assert_int_equal(link.link_status, RTE_ETH_LINK_DOWN);
	/* Listening, with the restrictive default mode. */
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(rte_vdev_uninit(name), 0);
	assert_int_equal(stat(path, &st), -1);
}

static void
test_eth_vhostd_probe_applies_options(void **state)
{
	const char *extra = "queues=4,tso=0,packed=0,mrg-rxbuf=0,mtu=9000,mac=02:11:22:33:44:55,"
			    "mode=0660,owner=0,group=0,reconnect-ms=50,client=0,"
			    "dequeue-zero-copy=1,linear-buffer=1,ext-buffer=0,legacy-ol-flags=1,"
			    "iommu-support=0,postcopy-support=0";
	const uint64_t gone = VRQ_FBIT(VRQ_F_NET_HOST_TSO4) | VRQ_FBIT(VRQ_F_NET_HOST_TSO6) |
			      VRQ_FBIT(VRQ_F_NET_GUEST_TSO4) | VRQ_FBIT(VRQ_F_NET_GUEST_TSO6) |
			      VRQ_FBIT(VRQ_F_RING_PACKED) | VRQ_FBIT(VRQ_F_NET_MRG_RXBUF);
	struct rte_ether_addr mac, want = {{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
	char path[108], name[64];
	struct rte_pmd_vhostd_info info;
	struct rte_eth_dev_info di;
	struct stat st;
	int port;

	(void)state;
	port = ut_probe(extra, path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(rte_pmd_vhostd_get_info(port, &info), 0);
	assert_int_equal(info.features_offered & gone, 0);
	assert_int_equal(info.features_offered, VHU_FEATURES_DEFAULT & ~gone &
						    ~VRQ_FBIT(VRQ_F_NET_GUEST_ECN) &
						    ~VRQ_FBIT(VRQ_F_NET_HOST_ECN));
	assert_int_equal(info.mtu, 9000);
	assert_int_equal(info.max_queue_pairs, 4);
	assert_int_equal(rte_eth_dev_info_get(port, &di), 0);
	assert_int_equal(di.max_rx_queues, 4);
	assert_int_equal(di.max_tx_queues, 4);
	assert_int_equal(rte_eth_macaddr_get(port, &mac), 0);
	assert_true(rte_is_same_ether_addr(&mac, &want));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(rte_vdev_uninit(name), 0);
}

/* Each bad devarg refuses the probe, names the key, leaves no port and no socket. */
static void
test_eth_vhostd_probe_refuses_bad_devargs(void **state)
{
	static const struct {
		const char *extra;
		const char *key;
	} bad[] = {
	    {"queues=0", "'queues"},
	    {"queues=17", "'queues"},
	    {"queues=1x", "'queues"},
	    {"client=2", "'client"},
	    {"tso=yes", "'tso"},
	    {"iommu-support=1", "'iommu-support"},
	    {"postcopy-support=1", "'postcopy-support"},
	    {"dequeue-zero-copy=2", "'dequeue-zero-copy"},
	    {"linear-buffer=-1", "'linear-buffer"},
	    {"ext-buffer=", "'ext-buffer"},
	    {"legacy-ol-flags=on", "'legacy-ol-flags"},
	    {"owner=no-such-user-evd", "'owner"},
	    {"group=no-such-group-evd", "'group"},
	    {"mode=0999", "'mode"},
	    {"mode=01777", "'mode"},
	    {"reconnect-ms=0", "'reconnect-ms"},
	    {"mac=01:00:5e:00:00:01", "'mac"},
	    {"mac=00:00:00:00:00:00", "'mac"},
	    {"mac=zz:11:22:33:44:55", "'mac"},
	    {"mtu=67", "'mtu"},
	    {"mtu=65518", "'mtu"},
	    {"packed=2", "'packed"},
	    {"mrg-rxbuf=true", "'mrg-rxbuf"},
	    {"vhost-frobnicate=1", "'vhost-frobnicate"},
	    {"queues=1,queues=2", "'queues"},
	    {"iface=/tmp/evd-ut-other.sock", "'iface"}, /* given twice */
	};
	char path[108], name[64];
	struct stat st;
	unsigned int i;
	uint16_t nb_ports = rte_eth_dev_count_total();

	(void)state;
	for (i = 0; i < RTE_DIM(bad); i++) {
		ut_log_clear();
		assert_true(ut_probe(bad[i].extra, path, sizeof(path), name, sizeof(name)) < 0);
		if (strstr(ut_log_text(), bad[i].key) == NULL)
			fail_msg("'%s': log does not name %s: %s", bad[i].extra, bad[i].key,
				 ut_log_buf);
		assert_int_equal(stat(path, &st), -1);
		assert_int_equal(rte_eth_dev_count_total(), nb_ports);
	}
}

static void
test_eth_vhostd_probe_refuses_missing_iface(void **state)
{
	static const char *const args[] = {"", "queues=2", "iface="};
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(args); i++) {
		ut_log_clear();
		assert_int_not_equal(rte_vdev_init("net_vhostd_noiface", args[i]), 0);
		assert_non_null(strstr(ut_log_text(), "'iface"));
	}
	/* Longer than sun_path. */
	{
		char longargs[300] = "iface=/tmp/";

		memset(longargs + 11, 'a', 200);
		longargs[211] = '\0';
		ut_log_clear();
		assert_int_not_equal(rte_vdev_init("net_vhostd_noiface", longargs), 0);
		assert_non_null(strstr(ut_log_text(), "'iface"));
	}
}

static void
test_eth_vhostd_api_refuses_other_ports(void **state)
{
	struct rte_pmd_vhostd_info info;
	struct rte_pmd_vhostd_queue_event ev;
	struct vrq_stats st;
	struct vhu_stats vs;
	uint16_t null_port;

	(void)state;
	assert_int_equal(rte_pmd_vhostd_is_port(RTE_MAX_ETHPORTS - 1), -ENODEV);
	assert_int_equal(rte_pmd_vhostd_get_info(RTE_MAX_ETHPORTS - 1, &info), -ENODEV);
	if (rte_vdev_init("net_null_evd", NULL) != 0)
		skip(); /* net_null is a plugin of the DPDK package */
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null_evd", &null_port), 0);
	assert_int_equal(rte_pmd_vhostd_is_port(null_port), 0);
	assert_int_equal(rte_pmd_vhostd_get_info(null_port, &info), -EINVAL);
	assert_int_equal(rte_pmd_vhostd_get_queue_stats(null_port, true, 0, &st), -EINVAL);
	assert_int_equal(rte_pmd_vhostd_get_sock_stats(null_port, &vs), -EINVAL);
	assert_int_equal(rte_pmd_vhostd_get_queue_event(null_port, &ev), -EINVAL);
	assert_int_equal(rte_vdev_uninit("net_null_evd"), 0);
}

/* ---- xstats ---- */

static void
test_eth_vhostd_xstats_names(void **state)
{
	char path[108], name[64], want[RTE_ETH_XSTATS_NAME_SIZE];
	struct rte_eth_xstat_name *names;
	unsigned int id, q;
	int port, n, i, found;

	(void)state;
	port = ut_probe("queues=2", path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(ut_port_setup(port, 2), 0);
	n = rte_eth_xstats_get_names(port, NULL, 0);
	assert_true(n >= (int)(4 * VRQ_STAT_MAX + VHU_STAT_MAX));
	names = calloc(n, sizeof(*names));
	assert_non_null(names);
	assert_int_equal(rte_eth_xstats_get_names(port, names, n), n);
	/* Every VRQ_STATS_LIST counter per queue and direction, and every socket counter. */
	for (q = 0; q < 4; q++) {
		for (id = 0; id < VRQ_STAT_MAX; id++) {
			snprintf(want, sizeof(want), "%s_q%u_%s", q < 2 ? "rx" : "tx", q % 2,
				 vrq_stat_name(id));
			for (i = 0, found = 0; i < n; i++)
				found += strcmp(names[i].name, want) == 0;
			if (found != 1)
				fail_msg("xstat %s found %d times", want, found);
		}
	}
	for (id = 0; id < VHU_STAT_MAX; id++) {
		snprintf(want, sizeof(want), "vhu_%s", vhu_stat_name(id));
		for (i = 0, found = 0; i < n; i++)
			found += strcmp(names[i].name, want) == 0;
		assert_int_equal(found, 1);
	}
	assert_int_equal(ut_xstat(port, "rx_q1_packets"), 0);
	free(names);
	assert_int_equal(rte_vdev_uninit(name), 0);
}

/* ---- link state with the scripted frontend ---- */

struct ut_events {
	int lsc;
	int queue_state;
};

static int
ut_event_cb(uint16_t port, enum rte_eth_event_type type, void *arg, void *param)
{
	struct ut_events *ev = arg;

	(void)port;
	(void)param;
	if (type == RTE_ETH_EVENT_INTR_LSC)
		__atomic_fetch_add(&ev->lsc, 1, __ATOMIC_RELEASE);
	else if (type == RTE_ETH_EVENT_QUEUE_STATE)
		__atomic_fetch_add(&ev->queue_state, 1, __ATOMIC_RELEASE);
	return 0;
}

static bool
ut_link_up(uint16_t port)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

/* Connect, set up both rings of pair 0 and enable them: the device becomes ready. */
static void
ut_fe_configure(struct vhu_fe *fe, uint64_t features)
{
	assert_int_equal(vhu_fe_handshake(fe, features, VRQ_FBIT(VHU_PROTO_F_REPLY_ACK)), 0);
	assert_int_equal(vhu_fe_mem_add(fe, 0, 1 << 20, false), 0);
	assert_int_equal(vhu_fe_set_mem_table(fe), 0);
	assert_int_equal(vhu_fe_vring_setup(fe, 0, 0, 0, UT_RING), 0);
	assert_int_equal(vhu_fe_vring_setup(fe, 1, 0, 0x10000, UT_RING), 0);
	assert_int_equal(vhu_fe_vring_enable(fe, 0, true), 0);
	assert_int_equal(vhu_fe_vring_enable(fe, 1, true), 0);
}

static void
ut_fe_bring_up(struct vhu_fe *fe, const char *path, uint64_t features)
{
	vhu_fe_init(fe);
	assert_int_equal(vhu_fe_connect(fe, path), 0);
	ut_fe_configure(fe, features);
}

/* One LSC event per change: up when the frontend is ready, down when it leaves. */
static void
test_eth_vhostd_link_follows_frontend(void **state)
{
	const uint64_t features = VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES);
	struct ut_events ev = {0, 0};
	struct rte_pmd_vhostd_info info;
	char path[108], name[64];
	struct vhu_fe fe;
	int port;

	(void)state;
	port = ut_probe("", path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(
	    rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, ut_event_cb, &ev), 0);
	assert_int_equal(ut_port_setup(port, 1), 0);
	assert_int_equal(rte_eth_dev_start(port), 0);
	assert_false(ut_link_up(port));

	ut_fe_bring_up(&fe, path, features);
	assert_true(VHU_FE_WAIT(__atomic_load_n(&ev.lsc, __ATOMIC_ACQUIRE) == 1));
	assert_true(ut_link_up(port));
	assert_int_equal(rte_pmd_vhostd_get_info(port, &info), 0);
	assert_true(info.link_up);
	assert_int_equal(info.features, features);
	assert_int_equal(ut_xstat(port, "vhu_connections"), 1);

	vhu_fe_close(&fe);
	assert_true(VHU_FE_WAIT(__atomic_load_n(&ev.lsc, __ATOMIC_ACQUIRE) == 2));
	assert_false(ut_link_up(port));
	assert_true(VHU_FE_WAIT(ut_xstat(port, "vhu_disconnects") == 1));
	usleep(20000);
	assert_int_equal(__atomic_load_n(&ev.lsc, __ATOMIC_ACQUIRE), 2);
	assert_int_equal(
	    rte_eth_dev_callback_unregister(port, RTE_ETH_EVENT_INTR_LSC, ut_event_cb, &ev), 0);
	assert_int_equal(rte_eth_dev_stop(port), 0);
	assert_int_equal(rte_vdev_uninit(name), 0);
}

/* client=1: the port dials a listening frontend, and the link comes up the same way. */
static void
test_eth_vhostd_client_mode_dials(void **state)
{
	const uint64_t features = VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES);
	char path[108], name[64];
	struct rte_pmd_vhostd_info info;
	struct vhu_fe fe;
	int lfd, port;

	(void)state;
	ut_sock_path(path, sizeof(path), ut_seq + 1); /* the path ut_probe() will use */
	lfd = vhu_fe_listen(path);
	assert_true(lfd >= 0);
	port = ut_probe("client=1,reconnect-ms=10", path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(rte_pmd_vhostd_get_info(port, &info), 0);
	assert_true(info.client);
	vhu_fe_init(&fe);
	assert_int_equal(vhu_fe_accept(&fe, lfd, 3000), 0);
	ut_fe_configure(&fe, features);
	assert_true(VHU_FE_WAIT(ut_link_up(port)));
	vhu_fe_close(&fe);
	assert_true(VHU_FE_WAIT(!ut_link_up(port)));
	assert_int_equal(rte_vdev_uninit(name), 0);
	close(lfd);
	unlink(path);
}

/* Enabling a ring raises RTE_ETH_EVENT_QUEUE_STATE and queues an event to read. */
static void
test_eth_vhostd_queue_state_events(void **state)
{
	const uint64_t features = VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES);
	struct rte_pmd_vhostd_queue_event qe;
	struct ut_events ev = {0, 0};
	char path[108], name[64];
	bool rx_on = false, tx_on = false;
	struct vhu_fe fe;
	int port;

	(void)state;
	port = ut_probe("", path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(rte_pmd_vhostd_get_queue_event(port, &qe), -EAGAIN);
	assert_int_equal(
	    rte_eth_dev_callback_register(port, RTE_ETH_EVENT_QUEUE_STATE, ut_event_cb, &ev), 0);
	ut_fe_bring_up(&fe, path, features);
	assert_true(VHU_FE_WAIT(__atomic_load_n(&ev.queue_state, __ATOMIC_ACQUIRE) >= 2));
	while (rte_pmd_vhostd_get_queue_event(port, &qe) == 0) {
		assert_int_equal(qe.queue_id, 0);
		if (qe.enable && qe.rx)
			rx_on = true; /* virtqueue 1 */
		if (qe.enable && !qe.rx)
			tx_on = true; /* virtqueue 0 */
	}
	assert_true(rx_on);
	assert_true(tx_on);
	vhu_fe_close(&fe);
	assert_int_equal(
	    rte_eth_dev_callback_unregister(port, RTE_ETH_EVENT_QUEUE_STATE, ut_event_cb, &ev), 0);
	assert_int_equal(rte_vdev_uninit(name), 0);
}

/* ---- datapath ---- */

struct ut_dp {
	char path[108];
	char name[64];
	uint16_t port;
	struct vrq_guest g;
	struct vrq_guest_split gtx; /* guest TX ring: virtqueue 1, our rx queue 0 */
	struct vrq_guest_split grx; /* guest RX ring: virtqueue 0, our tx queue 0 */
	struct eth_vhostd_rxq *rxq; /* what the burst functions get (rte_eth_fp_ops) */
	struct eth_vhostd_txq *txq;
	struct vrq *vq_rx; /* the port's virtqueues, from its queue structs */
	struct vrq *vq_tx;
};

static void
ut_attach(struct vrq *q, struct vrq_guest *g, struct vrq_guest_split *s)
{
	struct vrq_setup setup;

	vrq_guest_split_setup(s, &setup);
	vrq_lock(q);
	vrq_set_mem(q, vrq_guest_mem(g));
	assert_int_equal(vrq_start(q, &setup), 0);
	vrq_unlock(q);
}

static void
ut_detach(struct vrq *q)
{
	vrq_lock(q);
	if (vrq_is_started(q))
		vrq_stop(q);
	vrq_set_mem(q, NULL);
	vrq_unlock(q);
}

static int
ut_dp_setup(void **state)
{
	const uint64_t features = VRQ_FBIT(VRQ_F_VERSION_1);
	struct ut_dp *dp = calloc(1, sizeof(*dp));
	int port;

	if (dp == NULL)
		return -1;
	port = ut_probe("", dp->path, sizeof(dp->path), dp->name, sizeof(dp->name));
	if (port < 0 || ut_port_setup(port, 1) != 0 || rte_eth_dev_start(port) != 0)
		return -1;
	dp->port = port;
	/* The queue structs the burst functions get (set up by rte_eth_dev_start). */
	dp->rxq = rte_eth_fp_ops[port].rxq.data[0];
	dp->txq = rte_eth_fp_ops[port].txq.data[0];
	dp->vq_rx = dp->rxq->vrq;
	dp->vq_tx = dp->txq->vrq;
	if (vrq_guest_init_default(&dp->g) != 0 ||
	    vrq_guest_split_init(&dp->gtx, &dp->g, UT_RING, features) != 0 ||
	    vrq_guest_split_init(&dp->grx, &dp->g, UT_RING, features) != 0)
		return -1;
	*state = dp;
	return 0;
}

static int
ut_dp_teardown(void **state)
{
	struct ut_dp *dp = *state;

	rte_eth_dev_stop(dp->port);
	ut_detach(dp->vq_rx);
	ut_detach(dp->vq_tx);
	rte_vdev_uninit(dp->name);
	vrq_guest_split_fini(&dp->gtx);
	vrq_guest_split_fini(&dp->grx);
	vrq_guest_fini(&dp->g);
	free(dp);
	return 0;
}

static void
ut_frame(uint8_t *f, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	memset(f, 0xff, 6); /* broadcast dst, then a locally administered src */
	f[6] = 0x02;
}

/* Nothing attached: bursts return 0, take nothing, free nothing. */
static void
test_eth_vhostd_bursts_without_guest(void **state)
{
	struct ut_dp *dp = *state;
	struct rte_mbuf *pkts[4];
	unsigned int in_use;

	assert_int_equal(rte_pktmbuf_alloc_bulk(ut_mp, pkts, 4), 0);
	in_use = rte_mempool_in_use_count(ut_mp);
	assert_int_equal(rte_eth_tx_burst(dp->port, 0, pkts, 4), 0);
	assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use);
	rte_pktmbuf_free_bulk(pkts, 4);
	assert_int_equal(rte_eth_rx_burst(dp->port, 0, pkts, 4), 0);
	assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use - 4);
}

static void
test_eth_vhostd_rx_one_packet(void **state)
{
	struct ut_dp *dp = *state;
	uint8_t frame[UT_HDR + UT_FRAME] = {0};
	const uint32_t seg = sizeof(frame);
	struct rte_mbuf *pkts[8];
	struct rte_eth_stats st;

	ut_attach(dp->vq_rx, &dp->g, &dp->gtx);
	ut_frame(frame + UT_HDR, UT_FRAME, 1);
	assert_true(vrq_guest_split_post_tx(&dp->gtx, frame, sizeof(frame), &seg, 1, 0) >= 0);
	assert_int_equal(rte_eth_rx_burst(dp->port, 0, pkts, 8), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(pkts[0]), UT_FRAME);
	assert_int_equal(pkts[0]->port, dp->port);
	assert_memory_equal(rte_pktmbuf_mtod(pkts[0], void *), frame + UT_HDR, UT_FRAME);
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(vrq_guest_split_used_idx(&dp->gtx), 1);
	assert_int_equal(rte_eth_stats_get(dp->port, &st), 0);
	assert_int_equal(st.ipackets, 1);
	assert_int_equal(st.q_ipackets[0], 1);
	assert_int_equal(ut_xstat(dp->port, "rx_q0_packets"), 1);
	assert_int_equal(rte_eth_rx_burst(dp->port, 0, pkts, 8), 0);
}

static void
test_eth_vhostd_tx_one_packet(void **state)
{
	struct ut_dp *dp = *state;
	const uint32_t seg = 2048;
	uint8_t frame[UT_FRAME], got[UT_HDR + UT_FRAME];
	struct rte_eth_stats st;
	struct rte_mbuf *m;
	unsigned int in_use;
	uint32_t id, len;
	int head;

	ut_attach(dp->vq_tx, &dp->g, &dp->grx);
	head = vrq_guest_split_post_rx(&dp->grx, &seg, 1, 0);
	assert_true(head >= 0);
	ut_frame(frame, sizeof(frame), 9);
	m = rte_pktmbuf_alloc(ut_mp);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, sizeof(frame)), frame, sizeof(frame));
	in_use = rte_mempool_in_use_count(ut_mp);
	assert_int_equal(rte_eth_tx_burst(dp->port, 0, &m, 1), 1);
	/* The PMD freed what it sent. */
	assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use - 1);
	assert_int_equal(vrq_guest_split_used_get(&dp->grx, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, UT_HDR + UT_FRAME);
	assert_int_equal(vrq_guest_split_chain_read(&dp->grx, head, got, sizeof(got)),
			 (int)sizeof(got));
	assert_memory_equal(got + UT_HDR, frame, UT_FRAME);
	assert_int_equal(rte_eth_stats_get(dp->port, &st), 0);
	assert_int_equal(st.opackets, 1);
	assert_int_equal(ut_xstat(dp->port, "tx_q0_packets"), 1);
	assert_int_equal(rte_eth_xstats_reset(dp->port), 0);
	assert_int_equal(ut_xstat(dp->port, "tx_q0_packets"), 0);
}

/*
 * What tx_burst sent goes back to its own pool, whatever the burst holds:
 * plain mbufs, one still referenced elsewhere, a two-segment chain, and an
 * mbuf of another pool (the PMD's one-call return to the pool is only for a
 * burst of plain mbufs of one pool).
 */
static void
test_eth_vhostd_tx_frees_what_it_sent(void **state)
{
	struct ut_dp *dp = *state;
	const uint32_t seg = 2048;
	struct rte_mempool *mp2;
	struct rte_mbuf *pkts[5];
	unsigned int in_use, in_use2, i;

	mp2 = rte_pktmbuf_pool_create("ut_free_mp2", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				      SOCKET_ID_ANY);
	assert_non_null(mp2);
	ut_attach(dp->vq_tx, &dp->g, &dp->grx);
	for (i = 0; i < 5; i++)
		assert_true(vrq_guest_split_post_rx(&dp->grx, &seg, 1, 0) >= 0);
	in_use = rte_mempool_in_use_count(ut_mp);
	in_use2 = rte_mempool_in_use_count(mp2);
	assert_int_equal(rte_pktmbuf_alloc_bulk(ut_mp, pkts, 4), 0);
	pkts[4] = rte_pktmbuf_alloc(mp2);
	assert_non_null(pkts[4]);
	for (i = 0; i < 5; i++)
		assert_non_null(rte_pktmbuf_append(pkts[i], UT_FRAME));
	rte_mbuf_refcnt_update(pkts[1], 1); /* the caller keeps a reference */
	{
		struct rte_mbuf *tail = rte_pktmbuf_alloc(ut_mp);

		assert_non_null(tail);
		assert_non_null(rte_pktmbuf_append(tail, 10));
		assert_int_equal(rte_pktmbuf_chain(pkts[2], tail), 0);
	}
	{
		struct rte_mbuf *keep = pkts[1];

		assert_int_equal(rte_eth_tx_burst(dp->port, 0, pkts, 5), 5);
		assert_int_equal(rte_mbuf_refcnt_read(keep), 1);
		assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use + 1);
		assert_int_equal(rte_mempool_in_use_count(mp2), in_use2);
		rte_pktmbuf_free(keep);
	}
	assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use);
	assert_int_equal(vrq_guest_split_used_idx(&dp->grx), 5);
	rte_mempool_free(mp2);
}

/* No guest buffer: the packet stays with the caller and is counted as no_buf. */
static void
test_eth_vhostd_tx_keeps_unsent(void **state)
{
	struct ut_dp *dp = *state;
	struct rte_mbuf *m;
	unsigned int in_use;

	ut_attach(dp->vq_tx, &dp->g, &dp->grx);
	m = rte_pktmbuf_alloc(ut_mp);
	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, UT_FRAME));
	in_use = rte_mempool_in_use_count(ut_mp);
	assert_int_equal(rte_eth_tx_burst(dp->port, 0, &m, 1), 0);
	assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use);
	assert_int_equal(vrq_guest_split_used_idx(&dp->grx), 0);
	rte_pktmbuf_free(m);
}

/*
 * After dev_stop our burst functions leave a loaded ring alone even when
 * called directly, as a caller that fetched the fast-path pointers before the
 * stop would (ethdev itself switches to dummies first).
 */
static void
test_eth_vhostd_stopped_port_is_idle(void **state)
{
	struct ut_dp *dp = *state;
	uint8_t frame[UT_HDR + UT_FRAME] = {0};
	const uint32_t seg = sizeof(frame);
	struct rte_mbuf *pkts[8];
	unsigned int in_use;

	ut_attach(dp->vq_rx, &dp->g, &dp->gtx);
	ut_attach(dp->vq_tx, &dp->g, &dp->grx);
	assert_true(vrq_guest_split_post_tx(&dp->gtx, frame, sizeof(frame), &seg, 1, 0) >= 0);
	assert_true(vrq_guest_split_post_rx(&dp->grx, (const uint32_t[]){2048}, 1, 0) >= 0);
	assert_int_equal(rte_eth_dev_stop(dp->port), 0);
	assert_int_equal(eth_vhostd_rx_burst(dp->rxq, pkts, 8), 0);
	assert_int_equal(vrq_guest_split_used_idx(&dp->gtx), 0);
	assert_int_equal(rte_pktmbuf_alloc_bulk(ut_mp, pkts, 1), 0);
	in_use = rte_mempool_in_use_count(ut_mp);
	assert_int_equal(eth_vhostd_tx_burst(dp->txq, pkts, 1), 0);
	assert_int_equal(rte_mempool_in_use_count(ut_mp), in_use);
	assert_int_equal(vrq_guest_split_used_idx(&dp->grx), 0);
	rte_pktmbuf_free(pkts[0]);
	/* And a restart resumes where the ring was. */
	assert_int_equal(rte_eth_dev_start(dp->port), 0);
	assert_int_equal(rte_eth_rx_burst(dp->port, 0, pkts, 8), 1);
	rte_pktmbuf_free(pkts[0]);
}

/* ---- tx queues of rings the guest did not enable ---- */

/* Guest RX buffers of 2048 bytes at this gpa, one per virtqueue (vq_idx * 2048 above it). */
#define UT_MQ_BUF_GPA 0x40000

/* Frontend view of the split ring of @p vq_idx, as ut_mq_vring() laid it out. */
struct ut_fe_ring {
	struct vrq_desc *desc;
	struct vrq_avail *avail;
	struct vrq_used *used;
};

static void
ut_fe_ring(const struct vhu_fe *fe, uint32_t vq_idx, struct ut_fe_ring *r)
{
	struct vhu_vring_addr a;

	/* Ring vq_idx lives at 0x10000 * vq_idx of region 0 (ut_mq_vring()). */
	vhu_fe_ring_addr(fe, vq_idx, 0, 0x10000ull * vq_idx, UT_RING, &a);
	r->desc = (struct vrq_desc *)(uintptr_t)a.desc_qva;
	r->avail = (struct vrq_avail *)(uintptr_t)a.avail_qva;
	r->used = (struct vrq_used *)(uintptr_t)a.used_qva;
}

static void
ut_mq_vring(struct vhu_fe *fe, uint32_t vq_idx)
{
	assert_int_equal(vhu_fe_vring_setup(fe, vq_idx, 0, 0x10000ull * vq_idx, UT_RING), 0);
	assert_int_equal(vhu_fe_vring_enable(fe, vq_idx, true), 0);
}

/* The guest posts one writable 2048-byte buffer on guest RX virtqueue @p vq_idx. */
static void
ut_fe_post_rx(const struct vhu_fe *fe, uint32_t vq_idx)
{
	struct ut_fe_ring r;

	ut_fe_ring(fe, vq_idx, &r);
	r.desc[0].addr = UT_MQ_BUF_GPA + 2048ull * vq_idx;
	r.desc[0].len = 2048;
	r.desc[0].flags = VRQ_DESC_F_WRITE;
	r.avail->ring[0] = 0;
	__atomic_store_n(&r.avail->idx, 1, __ATOMIC_RELEASE);
}

/* Entries the backend published on @p vq_idx's used ring; the first one's frame in @p frame. */
static uint16_t
ut_fe_used(const struct vhu_fe *fe, uint32_t vq_idx, uint8_t *frame)
{
	struct ut_fe_ring r;
	uint16_t n;

	ut_fe_ring(fe, vq_idx, &r);
	n = __atomic_load_n(&r.used->idx, __ATOMIC_ACQUIRE);
	if (n > 0)
		memcpy(frame, fe->regions[0].addr + UT_MQ_BUF_GPA + 2048ull * vq_idx + UT_HDR,
		       UT_FRAME);
	return n;
}

static struct rte_mbuf *
ut_mbuf_frame(const uint8_t *frame)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ut_mp);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, UT_FRAME), frame, UT_FRAME);
	return m;
}

/* A port of 2 queue pairs whose frontend set up and enabled only pair 0. */
struct ut_mq {
	char path[108];
	char name[64];
	uint16_t port;
	struct vhu_fe fe;
};

static int
ut_mq_setup(void **state)
{
	const uint64_t features =
	    VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES) | VRQ_FBIT(VRQ_F_NET_MQ);
	struct ut_mq *mq = calloc(1, sizeof(*mq));
	int port;

	if (mq == NULL)
		return -1;
	*state = mq;
	vhu_fe_init(&mq->fe);
	port = ut_probe("queues=2", mq->path, sizeof(mq->path), mq->name, sizeof(mq->name));
	if (port < 0 || ut_port_setup(port, 2) != 0 || rte_eth_dev_start(port) != 0)
		return -1;
	mq->port = port;
	if (vhu_fe_connect(&mq->fe, mq->path) != 0 ||
	    vhu_fe_handshake(&mq->fe, features, VRQ_FBIT(VHU_PROTO_F_REPLY_ACK)) != 0 ||
	    vhu_fe_mem_add(&mq->fe, 0, 1 << 20, false) < 0 || vhu_fe_set_mem_table(&mq->fe) != 0)
		return -1;
	ut_mq_vring(&mq->fe, 0);
	ut_mq_vring(&mq->fe, 1);
	return VHU_FE_WAIT(ut_link_up(port)) ? 0 : -1;
}

static int
ut_mq_teardown(void **state)
{
	struct ut_mq *mq = *state;

	vhu_fe_close(&mq->fe);
	rte_eth_dev_stop(mq->port);
	rte_vdev_uninit(mq->name);
	free(mq);
	return 0;
}

/* Tx queue 1's ring (virtqueue 2) was never enabled: its burst fills virtqueue 0. */
static void
test_eth_vhostd_tx_disabled_queue_uses_enabled_ring(void **state)
{
	struct ut_mq *mq = *state;
	struct vhu_fe *fe = &mq->fe;
	uint8_t frame[UT_FRAME], got[UT_FRAME];
	struct rte_mbuf *m;

	ut_frame(frame, sizeof(frame), 3);
	ut_fe_post_rx(fe, 0);
	m = ut_mbuf_frame(frame);
	assert_int_equal(rte_eth_tx_burst(mq->port, 1, &m, 1), 1);
	assert_int_equal(ut_fe_used(fe, 0, got), 1);
	assert_memory_equal(got, frame, UT_FRAME);
	assert_int_equal(ut_xstat(mq->port, "tx_q0_packets"), 1);
	/* Nothing to read on rx queue 1 (virtqueue 3 is not enabled either). */
	assert_int_equal(rte_eth_rx_burst(mq->port, 1, &m, 1), 0);
}

/* Once the guest enables virtqueue 2, tx queue 1 uses it; with none enabled, nothing is sent. */
static void
test_eth_vhostd_tx_queue_follows_enable(void **state)
{
	struct ut_mq *mq = *state;
	struct vhu_fe *fe = &mq->fe;
	uint8_t frame[UT_FRAME], got[UT_FRAME];
	struct rte_mbuf *m;

	ut_frame(frame, sizeof(frame), 5);
	ut_mq_vring(fe, 2);
	ut_fe_post_rx(fe, 0);
	ut_fe_post_rx(fe, 2);
	m = ut_mbuf_frame(frame);
	assert_int_equal(rte_eth_tx_burst(mq->port, 1, &m, 1), 1);
	assert_int_equal(ut_fe_used(fe, 2, got), 1);
	assert_memory_equal(got, frame, UT_FRAME);
	assert_int_equal(ut_fe_used(fe, 0, got), 0);
	/* Both guest RX rings disabled: the mbuf stays with the caller. */
	assert_int_equal(vhu_fe_vring_enable(fe, 2, false), 0);
	assert_int_equal(vhu_fe_vring_enable(fe, 0, false), 0);
	m = ut_mbuf_frame(frame);
	assert_int_equal(rte_eth_tx_burst(mq->port, 1, &m, 1), 0);
	assert_int_equal(rte_eth_tx_burst(mq->port, 0, &m, 1), 0);
	rte_pktmbuf_free(m);
	assert_int_equal(ut_fe_used(fe, 0, got), 0);
}

/* ---- SEND_RARP ---- */

/* The frontend asks for a RARP after migration: rx queue 0 returns it once, counted. */
static void
test_eth_vhostd_send_rarp_injects_frame(void **state)
{
	const uint64_t features = VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES);
	const uint8_t mac[8] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0};
	const uint8_t mcast[8] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0, 0};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t rarp_type[2] = {0x80, 0x35}, rev_request[2] = {0x00, 0x03};
	const uint8_t *f;
	char path[108], name[64];
	struct rte_eth_stats st;
	struct rte_mbuf *pkts[4];
	struct vhu_fe fe;
	uint64_t v;
	int port;

	(void)state;
	port = ut_probe("", path, sizeof(path), name, sizeof(name));
	assert_true(port >= 0);
	assert_int_equal(ut_port_setup(port, 1), 0);
	assert_int_equal(rte_eth_dev_start(port), 0);
	vhu_fe_init(&fe);
	assert_int_equal(vhu_fe_connect(&fe, path), 0);
	assert_int_equal(
	    vhu_fe_handshake(&fe, features,
			     VRQ_FBIT(VHU_PROTO_F_REPLY_ACK) | VRQ_FBIT(VHU_PROTO_F_RARP)),
	    0);
	memcpy(&v, mcast, sizeof(v));
	assert_int_equal(vhu_fe_call_u64(&fe, VHU_REQ_SEND_RARP, v), 0);
	assert_int_equal(rte_eth_rx_burst(port, 0, pkts, 4), 0); /* multicast: not announced */
	memcpy(&v, mac, sizeof(v));
	assert_int_equal(vhu_fe_call_u64(&fe, VHU_REQ_SEND_RARP, v), 0);
	assert_int_equal(rte_eth_rx_burst(port, 0, pkts, 4), 1);
	f = rte_pktmbuf_mtod(pkts[0], const uint8_t *);
	assert_int_equal(rte_pktmbuf_pkt_len(pkts[0]), 60);
	assert_memory_equal(f, bcast, 6);
	assert_memory_equal(f + 6, mac, 6);          /* source */
	assert_memory_equal(f + 12, rarp_type, 2);   /* RARP */
	assert_memory_equal(f + 20, rev_request, 2); /* reverse request */
	assert_memory_equal(f + 22, mac, 6);         /* sender */
	assert_memory_equal(f + 32, mac, 6);         /* target */
	assert_int_equal(pkts[0]->port, port);
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(rte_eth_rx_burst(port, 0, pkts, 4), 0); /* once */
	assert_int_equal(ut_xstat(port, "rx_rarp_injected"), 1);
	assert_int_equal(rte_eth_stats_get(port, &st), 0);
	assert_int_equal(st.ipackets, 1);
	vhu_fe_close(&fe);
	assert_int_equal(rte_eth_dev_stop(port), 0);
	assert_int_equal(rte_vdev_uninit(name), 0);
}

/* ---- main ---- */

static int
ut_eal_setup(void **state)
{
	/* rte_eal_init() wants writable strings, and may permute argv. */
	static char args[][32] = {"test_eth_vhostd",
				  "--no-huge",
				  "--no-pci",
				  "--no-shconf",
				  "-m",
				  "64",
				  "--file-prefix",
				  "",
				  "--log-level",
				  "*:error",
				  "--no-telemetry"};
	static char *argv[RTE_DIM(args)];
	unsigned int i;

	(void)state;
	snprintf(args[7], sizeof(args[7]), "evd_ut_%d", (int)getpid());
	for (i = 0; i < RTE_DIM(args); i++)
		argv[i] = args[i];
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return -1;
	ut_log = tmpfile();
	if (ut_log == NULL || rte_openlog_stream(ut_log) != 0)
		return -1;
	ut_mp =
	    rte_pktmbuf_pool_create("evd_ut", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return ut_mp == NULL ? -1 : 0;
}

static int
ut_eal_teardown(void **state)
{
	(void)state;
	char rundir[PATH_MAX];

	rte_mempool_free(ut_mp);
	rte_openlog_stream(NULL);
	if (ut_log != NULL)
		fclose(ut_log);
	/* EAL leaves its (empty) runtime directory behind even with --no-shconf. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_vhostd_probe_defaults),
	    cmocka_unit_test(test_eth_vhostd_probe_applies_options),
	    cmocka_unit_test(test_eth_vhostd_probe_refuses_bad_devargs),
	    cmocka_unit_test(test_eth_vhostd_probe_refuses_missing_iface),
	    cmocka_unit_test(test_eth_vhostd_api_refuses_other_ports),
	    cmocka_unit_test(test_eth_vhostd_xstats_names),
	    cmocka_unit_test(test_eth_vhostd_link_follows_frontend),
	    cmocka_unit_test(test_eth_vhostd_queue_state_events),
	    cmocka_unit_test(test_eth_vhostd_client_mode_dials),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_bursts_without_guest, ut_dp_setup,
					    ut_dp_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_rx_one_packet, ut_dp_setup,
					    ut_dp_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_tx_one_packet, ut_dp_setup,
					    ut_dp_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_tx_frees_what_it_sent, ut_dp_setup,
					    ut_dp_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_tx_keeps_unsent, ut_dp_setup,
					    ut_dp_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_stopped_port_is_idle, ut_dp_setup,
					    ut_dp_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_tx_disabled_queue_uses_enabled_ring,
					    ut_mq_setup, ut_mq_teardown),
	    cmocka_unit_test_setup_teardown(test_eth_vhostd_tx_queue_follows_enable, ut_mq_setup,
					    ut_mq_teardown),
	    cmocka_unit_test(test_eth_vhostd_send_rarp_injects_frame),
	};

	return cmocka_run_group_tests_name("eth_vhostd", tests, ut_eal_setup, ut_eal_teardown);
}
