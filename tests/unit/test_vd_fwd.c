/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/vd_fwd.c, the forwarding pass, on two net_ring ports
 * whose rings the test fills and drains: packets go from A's rx ring to B's
 * tx ring, a full TX ring is retried then the rest dropped and counted,
 * checksums and TCP segmentation the egress port cannot do are completed
 * in software, and no mbuf leaks. EAL with --no-huge, no forwarding lcore (the test calls
 * vd_fwd_poll() itself).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vd_fwd.h"

#define RING_SIZE 64 /* B's tx ring holds 63 */

static struct rte_mempool *mp;
static struct rte_ring *a_rx, *a_tx, *b_rx, *b_tx;
static uint16_t port_a, port_b;
static struct vd_fwd_lcore lc;

static int
make_port(const char *name, struct rte_ring *rx, struct rte_ring *tx, uint16_t *port)
{
	struct rte_eth_conf conf;
	int id = rte_eth_from_rings(name, &rx, 1, &tx, 1, SOCKET_ID_ANY);

	if (id < 0)
		return -1;
	*port = (uint16_t)id;
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(*port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(*port, 0, RING_SIZE, SOCKET_ID_ANY, NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(*port, 0, RING_SIZE, SOCKET_ID_ANY, NULL) != 0)
		return -1;
	return rte_eth_dev_start(*port);
}

static int
group_setup(void **state)
{
	/* -Wwrite-strings: EAL wants char *, so the arguments live in writable arrays. */
	static char a0[] = "test", a1[] = "--no-huge", a2[] = "--no-pci", a3[] = "--no-shconf",
		    a4[] = "-m", a5[] = "64", a6[] = "-l", a7[] = "0", a8[] = "--file-prefix",
		    a9[] = "test_vd_fwd", a10[] = "--log-level", a11[] = "*:error";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};

	(void)state;
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return -1;
	mp = rte_pktmbuf_pool_create("t_fwd", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	a_rx = rte_ring_create("t_a_rx", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	a_tx = rte_ring_create("t_a_tx", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	b_rx = rte_ring_create("t_b_rx", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	b_tx = rte_ring_create("t_b_tx", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (mp == NULL || a_rx == NULL || a_tx == NULL || b_rx == NULL || b_tx == NULL)
		return -1;
	if (make_port("t_a", a_rx, a_tx, &port_a) != 0 ||
	    make_port("t_b", b_rx, b_tx, &port_b) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_eth_dev_stop(port_a);
	rte_eth_dev_stop(port_b);
	rte_eth_dev_close(port_a);
	rte_eth_dev_close(port_b);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}

/* One A:0 -> B:0 entry, counters cleared. */
static int
setup(void **state)
{
	(void)state;
	memset(&lc, 0, sizeof(lc));
	lc.nb_queues = 1;
	lc.tx_retries = 2;
	lc.queues[0].rx_port = port_a;
	lc.queues[0].tx_port = port_b;
	return 0;
}

static void
drain(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static int
teardown(void **state)
{
	(void)state;
	drain(a_rx);
	drain(b_tx);
	return 0;
}

/* An IPv4/UDP frame of @p len bytes with zero checksums and @p ol offload requests. */
static struct rte_mbuf *
udp_packet(uint16_t len, uint64_t ol)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, len);
	assert_non_null(p);
	memset(p, 0x5a, len);
	eth = (struct rte_ether_hdr *)p;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(1000);
	udp->dst_port = rte_cpu_to_be_16(2000);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth) - sizeof(*ip)));
	udp->dgram_cksum = 0;
	m->l2_len = sizeof(*eth);
	m->l3_len = sizeof(*ip);
	m->ol_flags = ol;
	return m;
}

static void
inject(unsigned int n, uint64_t ol)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		assert_int_equal(rte_ring_enqueue(a_rx, udp_packet(128, ol)), 0);
}

static void
test_vd_fwd_forwards_all(void **state)
{
	struct vd_fwd_stats st;

	(void)state;
	inject(40, 0);
	while (vd_fwd_poll(&lc) > 0)
		;
	vd_fwd_stats_read(&lc.queues[0], &st);
	assert_int_equal(st.v[VD_FWD_STAT_rx_packets], 40);
	assert_int_equal(st.v[VD_FWD_STAT_tx_packets], 40);
	assert_int_equal(st.v[VD_FWD_STAT_drop_tx], 0);
	assert_int_equal(st.v[VD_FWD_STAT_bursts], 2);
	assert_int_equal(rte_ring_count(b_tx), 40);
	assert_int_equal(rte_ring_count(a_rx), 0);
}

static void
test_vd_fwd_full_ring_dropped_and_counted(void **state)
{
	struct vd_fwd_stats st;

	(void)state;
	inject(63, 0);
	while (vd_fwd_poll(&lc) > 0) /* fills B's tx ring: 63 */
		;
	inject(10, 0);
	assert_int_equal(vd_fwd_poll(&lc), 10);
	vd_fwd_stats_read(&lc.queues[0], &st);
	assert_int_equal(st.v[VD_FWD_STAT_tx_packets], 63);
	assert_int_equal(st.v[VD_FWD_STAT_drop_tx], 10);
	assert_int_equal(st.v[VD_FWD_STAT_tx_retries], 2); /* retried, then gave up */
	/* The dropped ones went back to the pool: only B's ring holds mbufs. */
	assert_int_equal(rte_mempool_in_use_count(mp), 63);
}

static void
test_vd_fwd_completes_checksums_in_software(void **state)
{
	struct vd_fwd_stats st;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	unsigned int n = 0;
	uint16_t sum;

	(void)state;
	lc.queues[0].sw_offload = true;
	lc.queues[0].tx_offloads = 0; /* the egress port does no checksum */
	inject(8, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	while (vd_fwd_poll(&lc) > 0)
		;
	vd_fwd_stats_read(&lc.queues[0], &st);
	assert_int_equal(st.v[VD_FWD_STAT_sw_offload], 8);
	assert_int_equal(st.v[VD_FWD_STAT_tx_packets], 8);
	while (rte_ring_dequeue(b_tx, (void **)&m) == 0) {
		ip =
		    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
		assert_int_equal(rte_ipv4_cksum(ip), 0); /* a correct header sums to 0 */
		udp = (struct rte_udp_hdr *)(ip + 1);
		sum = udp->dgram_cksum;
		assert_int_not_equal(sum, 0);
		udp->dgram_cksum = 0; /* recompute independently and compare */
		assert_int_equal(rte_ipv4_udptcp_cksum(ip, udp), sum);
		rte_pktmbuf_free(m);
		n++;
	}
	assert_int_equal(n, 8);
}

static void
test_vd_fwd_hw_offload_left_to_port(void **state)
{
	struct rte_mbuf *m = NULL;
	struct rte_ipv4_hdr *ip;

	(void)state;
	/* The egress port does both checksums: the packet leaves untouched. */
	lc.queues[0].sw_offload = false;
	lc.queues[0].tx_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	inject(1, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	assert_int_equal(vd_fwd_poll(&lc), 1);
	assert_int_equal(rte_ring_dequeue(b_tx, (void **)&m), 0);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	assert_int_equal(ip->hdr_checksum, 0);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	rte_pktmbuf_free(m);
}

static void
test_vd_fwd_bad_offload_dropped(void **state)
{
	struct vd_fwd_stats st;
	struct rte_mbuf *m;

	(void)state;
	lc.queues[0].sw_offload = true;
	lc.queues[0].tx_offloads = 0;
	/* SCTP checksums are not done in software: dropped and counted, not sent wrong. */
	m = udp_packet(128, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_SCTP_CKSUM);
	assert_int_equal(rte_ring_enqueue(a_rx, m), 0);
	assert_int_equal(vd_fwd_poll(&lc), 1);
	vd_fwd_stats_read(&lc.queues[0], &st);
	assert_int_equal(st.v[VD_FWD_STAT_drop_offload], 1);
	assert_int_equal(st.v[VD_FWD_STAT_tx_packets], 0);
	assert_int_equal(rte_ring_count(b_tx), 0);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
}

/* A chain of @p nb segments of @p len bytes each. */
static struct rte_mbuf *
chain(unsigned int nb, uint16_t len)
{
	struct rte_mbuf *head = udp_packet(len, 0), *m;
	unsigned int i;

	for (i = 1; i < nb; i++) {
		m = rte_pktmbuf_alloc(mp);
		assert_non_null(m);
		assert_non_null(rte_pktmbuf_append(m, len));
		assert_int_equal(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

static void
test_vd_fwd_chain_without_multi_segs(void **state)
{
	struct vd_fwd_stats st;
	struct rte_mbuf *m = NULL;

	(void)state;
	lc.queues[0].sw_offload = true;
	lc.queues[0].tx_offloads = 0; /* no RTE_ETH_TX_OFFLOAD_MULTI_SEGS */
	assert_int_equal(rte_ring_enqueue(a_rx, chain(2, 100)), 0);  /* fits one mbuf */
	assert_int_equal(rte_ring_enqueue(a_rx, chain(3, 1500)), 0); /* does not */
	assert_int_equal(vd_fwd_poll(&lc), 2);
	vd_fwd_stats_read(&lc.queues[0], &st);
	assert_int_equal(st.v[VD_FWD_STAT_tx_packets], 1);
	assert_int_equal(st.v[VD_FWD_STAT_drop_offload], 1);
	assert_int_equal(rte_ring_dequeue(b_tx, (void **)&m), 0);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 200);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
}

/* An IPv4/TCP TSO packet as a guest sends it: @p payload bytes, MSS @p mss, checksums to do. */
static struct rte_mbuf *
tso_packet(uint16_t payload, uint16_t mss)
{
	const uint16_t hdrs =
	    sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr);
	struct rte_mbuf *m = udp_packet((uint16_t)(hdrs + payload), 0);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t *data;
	uint16_t i;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	ip->next_proto_id = IPPROTO_TCP;
	th = (struct rte_tcp_hdr *)(ip + 1);
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(1000);
	th->dst_port = rte_cpu_to_be_16(2000);
	th->sent_seq = rte_cpu_to_be_32(7000);
	th->data_off = (sizeof(*th) / 4) << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	data = (uint8_t *)(th + 1);
	for (i = 0; i < payload; i++)
		data[i] = (uint8_t)(i * 13);
	m->l4_len = sizeof(*th);
	m->tso_segsz = mss;
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM |
		      RTE_MBUF_F_TX_TCP_SEG;
	return m;
}

/* An egress port without TSO or checksums gets MSS-sized segments with valid checksums. */
static void
test_vd_fwd_tso_segmented_in_software(void **state)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint32_t off = 0;
	unsigned int n = 0;
	uint16_t plen, sum;

	(void)state;
	lc.queues[0].sw_offload = true;
	lc.queues[0].tx_offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS; /* no TSO, no checksum */
	assert_int_equal(rte_ring_enqueue(a_rx, tso_packet(1900, 700)), 0);
	assert_int_equal(vd_fwd_poll(&lc), 1);
	while (rte_ring_dequeue(b_tx, (void **)&m) == 0) {
		ip =
		    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
		th = (struct rte_tcp_hdr *)(ip + 1);
		plen = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - sizeof(*ip) - sizeof(*th));
		assert_int_equal(plen, n < 2 ? 700 : 500);
		assert_int_equal(rte_pktmbuf_pkt_len(m),
				 sizeof(struct rte_ether_hdr) + sizeof(*ip) + sizeof(*th) + plen);
		assert_int_equal(rte_be_to_cpu_32(th->sent_seq), 7000 + off);
		assert_int_equal(rte_ipv4_cksum(ip), 0);
		sum = th->cksum;
		th->cksum = 0; /* recompute independently and compare */
		assert_int_equal(rte_ipv4_udptcp_cksum(ip, th), sum);
		assert_int_equal(((uint8_t *)(th + 1))[0], (uint8_t)(off * 13));
		assert_false(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK));
		off += plen;
		n++;
		rte_pktmbuf_free(m);
	}
	assert_int_equal(n, 3);
	assert_int_equal(off, 1900);
	assert_int_equal(lc.queues[0].stats.v[VD_FWD_STAT_tx_packets], 3);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
}

static void
test_vd_fwd_stop_flag(void **state)
{
	(void)state;
	assert_false(vd_fwd_stopping());
	vd_fwd_stop();
	assert_true(vd_fwd_stopping());
	/* The loop checks the flag before polling: it returns at once. */
	assert_int_equal(vd_fwd_main(&lc), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_vd_fwd_forwards_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_full_ring_dropped_and_counted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_completes_checksums_in_software, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_hw_offload_left_to_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_bad_offload_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_chain_without_multi_segs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_tso_segmented_in_software, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vd_fwd_stop_flag, setup, teardown),
	};

	return cmocka_run_group_tests_name("vd_fwd", tests, group_setup, group_teardown);
}
