/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of vrq_offload_complete(): software L4/IPv4 checksums and
 * software TCP segmentation. Every checksum is verified with the test's own
 * byte-wise ones' complement sum (not DPDK's helpers, which the code under
 * test uses), over packets built in multi-segment mbufs with odd segment
 * boundaries. TSO output is checked segment by segment and reassembled.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vrq.h"
#include "vrq_guest.h"

#define T_POOL_N 512
#define T_ROOM 2048
#define T_MAXPKT 16384
#define T_ETH 14
#define T_IP4 20
#define T_IP6 40
#define T_TCP 20
#define T_UDP 8
#define T_PROTO_TCP 6
#define T_PROTO_UDP 17

static struct rte_mempool *t_mp;

static uint16_t
t_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
t_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
t_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
t_put32(uint8_t *p, uint32_t v)
{
	t_put16(p, (uint16_t)(v >> 16));
	t_put16(p + 2, (uint16_t)v);
}

/* Flatten an mbuf chain; checks pkt_len against the segments. */
static size_t
t_flatten(const struct rte_mbuf *m, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	uint32_t pkt_len = m->pkt_len;
	uint16_t segs = 0, nb_segs = m->nb_segs;

	for (; m != NULL; m = m->next) {
		assert_true(n + m->data_len <= cap);
		memcpy(buf + n, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		n += m->data_len;
		segs++;
	}
	assert_int_equal(n, pkt_len);
	assert_int_equal(segs, nb_segs);
	return n;
}

/* L4 checksum over the pseudo-header and the L4 bytes sums to 0xffff when valid. */
static bool
t_l4_ok(const uint8_t *pkt, bool v6, uint8_t proto, size_t l4_off, size_t l4_len)
{
	uint8_t ph[40];
	size_t phn;

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, pkt + T_ETH + 8, 32);
		t_put32(ph + 32, (uint32_t)l4_len);
		ph[39] = proto;
		phn = 40;
	} else {
		memcpy(ph, pkt + T_ETH + 12, 8);
		ph[9] = proto;
		t_put16(ph + 10, (uint16_t)l4_len);
		phn = 12;
	}
	return vrq_guest_csum_fold(vrq_guest_csum_sum(pkt + l4_off, l4_len,
						      vrq_guest_csum_sum(ph, phn, 0))) == 0xffff;
}

static bool
t_ip4_ok(const uint8_t *pkt)
{
	return vrq_guest_csum_fold(vrq_guest_csum_sum(pkt + T_ETH, T_IP4, 0)) == 0xffff;
}

/*
 * Build Ethernet + IPv4/IPv6 + TCP/UDP + payload with bad checksums, split
 * into mbufs of at most seg bytes each.
 */
static struct rte_mbuf *
t_build(bool v6, uint8_t proto, uint32_t payload, uint32_t seg, uint8_t *ref)
{
	uint32_t l3 = v6 ? T_IP6 : T_IP4, l4 = proto == T_PROTO_TCP ? T_TCP : T_UDP;
	uint32_t len = T_ETH + l3 + l4 + payload, i, off;
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	uint8_t *p = ref;

	memset(p, 0, T_ETH + l3 + l4);
	memset(p, 0x02, 12);
	t_put16(p + 12, v6 ? 0x86dd : 0x0800);
	p += T_ETH;
	if (v6) {
		p[0] = 0x60;
		t_put16(p + 4, (uint16_t)(l4 + payload));
		p[6] = proto;
		p[7] = 64;
		for (i = 0; i < 32; i++)
			p[8 + i] = (uint8_t)(0x20 + i * 3);
	} else {
		p[0] = 0x45;
		t_put16(p + 2, (uint16_t)(l3 + l4 + payload));
		t_put16(p + 4, 0x1234);
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = proto;
		t_put16(p + 10, 0xdead); /* wrong on purpose */
		t_put32(p + 12, 0x0a000001);
		t_put32(p + 16, 0xc0a80102);
	}
	p += l3;
	t_put16(p, 40000);
	t_put16(p + 2, 5201);
	if (proto == T_PROTO_TCP) {
		t_put32(p + 4, 0xfffff000); /* sequence wraps during TSO */
		t_put32(p + 8, 77);
		p[12] = 5 << 4;
		p[13] = 0x80 | 0x08 | 0x10 | 0x01; /* CWR PSH ACK FIN */
		t_put16(p + 14, 65535);
		t_put16(p + 16, 0xbeef);
	} else {
		t_put16(p + 4, (uint16_t)(l4 + payload));
		t_put16(p + 6, 0xbeef);
	}
	p += l4;
	for (i = 0; i < payload; i++)
		p[i] = (uint8_t)(i * 7 + 3 + (i >> 8));

	for (off = 0; off < len; off += seg) {
		uint32_t n = RTE_MIN(seg, len - off);

		m = rte_pktmbuf_alloc(t_mp);
		assert_non_null(m);
		assert_non_null(rte_pktmbuf_append(m, (uint16_t)n));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), ref + off, n);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
	}
	head->l2_len = T_ETH;
	head->l3_len = l3;
	head->l4_len = l4;
	head->ol_flags = v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4;
	return head;
}

static void
t_check_csum(bool v6, uint8_t proto, uint32_t payload, uint32_t seg)
{
	static uint8_t ref[T_MAXPKT], got[T_MAXPKT];
	unsigned int in_use = rte_mempool_in_use_count(t_mp);
	struct rte_mbuf *m, *out[4];
	size_t n, l4_off = T_ETH + (v6 ? T_IP6 : T_IP4);
	size_t csum_at = l4_off + (proto == T_PROTO_TCP ? 16 : 6);

	m = t_build(v6, proto, payload, seg, ref);
	m->ol_flags |= (proto == T_PROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
	if (!v6)
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	assert_int_equal(vrq_offload_complete(m, 0, out, 4), 1);
	assert_ptr_equal(out[0], m);
	assert_int_equal(m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM), 0);
	n = t_flatten(m, got, sizeof(got));
	assert_true(t_l4_ok(got, v6, proto, l4_off, n - l4_off));
	if (!v6)
		assert_true(t_ip4_ok(got));
	/* Nothing but the checksum fields changed. */
	memcpy(ref + csum_at, got + csum_at, 2);
	if (!v6)
		memcpy(ref + T_ETH + 10, got + T_ETH + 10, 2);
	assert_memory_equal(ref, got, n);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_in_use_count(t_mp), in_use);
}

static void
test_vrq_offload_csum_tcp4(void **state)
{
	(void)state;
	t_check_csum(false, T_PROTO_TCP, 1000, 2048);
	t_check_csum(false, T_PROTO_TCP, 1001, 333); /* odd split points */
	t_check_csum(false, T_PROTO_TCP, 0, 2048);
}

static void
test_vrq_offload_csum_udp4(void **state)
{
	(void)state;
	t_check_csum(false, T_PROTO_UDP, 1473, 2048);
	t_check_csum(false, T_PROTO_UDP, 9000, 777);
	t_check_csum(false, T_PROTO_UDP, 1, 41); /* headers split over mbufs */
}

static void
test_vrq_offload_csum_tcp6(void **state)
{
	(void)state;
	t_check_csum(true, T_PROTO_TCP, 1440, 2048);
	t_check_csum(true, T_PROTO_TCP, 8999, 1001);
}

static void
test_vrq_offload_csum_udp6(void **state)
{
	(void)state;
	t_check_csum(true, T_PROTO_UDP, 100, 2048);
	t_check_csum(true, T_PROTO_UDP, 4097, 513);
}

/* A UDP payload whose sum is zero gets 0xffff, not "no checksum" (RFC 768). */
static void
test_vrq_offload_csum_udp_zero_is_ffff(void **state)
{
	static uint8_t ref[256], got[256];
	struct rte_mbuf *m, *out[1];
	uint16_t c, want;
	uint32_t acc;

	(void)state;
	m = t_build(false, T_PROTO_UDP, 2, 2048, ref);
	m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	/* Choose the 2 payload bytes so the full sum folds to 0xffff: checksum 0. */
	ref[T_ETH + T_IP4 + 6] = 0;
	ref[T_ETH + T_IP4 + 7] = 0;
	ref[T_ETH + T_IP4 + 8] = 0;
	ref[T_ETH + T_IP4 + 9] = 0;
	acc = vrq_guest_csum_sum(ref + T_ETH + 12, 8, 0) + T_PROTO_UDP + 10 +
	      vrq_guest_csum_sum(ref + T_ETH + T_IP4, 10, 0);
	want = (uint16_t)(0xffff - vrq_guest_csum_fold(acc));
	t_put16(ref + T_ETH + T_IP4 + 8, want);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), ref, m->pkt_len);
	assert_int_equal(vrq_offload_complete(m, 0, out, 1), 1);
	t_flatten(m, got, sizeof(got));
	c = t_get16(got + T_ETH + T_IP4 + 6);
	assert_int_equal(c, 0xffff);
	assert_true(t_l4_ok(got, false, T_PROTO_UDP, T_ETH + T_IP4, 10));
	rte_pktmbuf_free(m);
}

/* The receiver can do it: packet and flags untouched. */
static void
test_vrq_offload_csum_capable_untouched(void **state)
{
	static uint8_t ref[4096], got[4096];
	struct rte_mbuf *m, *out[1];
	uint64_t ol;

	(void)state;
	m = t_build(false, T_PROTO_TCP, 500, 2048, ref);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IP_CKSUM;
	ol = m->ol_flags;
	assert_int_equal(
	    vrq_offload_complete(m, RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
				 out, 1),
	    1);
	assert_ptr_equal(out[0], m);
	assert_int_equal(m->ol_flags, ol);
	t_flatten(m, got, sizeof(got));
	assert_memory_equal(ref, got, m->pkt_len);
	rte_pktmbuf_free(m);
}

/* Only the IPv4 header checksum asked: L4 checksum request kept for the receiver. */
static void
test_vrq_offload_ip_csum_only(void **state)
{
	static uint8_t ref[4096], got[4096];
	struct rte_mbuf *m, *out[1];

	(void)state;
	m = t_build(false, T_PROTO_UDP, 64, 2048, ref);
	m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
	assert_int_equal(vrq_offload_complete(m, RTE_ETH_TX_OFFLOAD_UDP_CKSUM, out, 1), 1);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM, 0);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
	t_flatten(m, got, sizeof(got));
	assert_true(t_ip4_ok(got));
	assert_int_equal(t_get16(got + T_ETH + T_IP4 + 6), 0xbeef);
	rte_pktmbuf_free(m);
}

/*
 * Segment a TSO packet and check every segment: lengths, IPv4 id and header
 * checksum, sequence number, flags, L4 checksum; the payload reassembles.
 */
static void
t_check_tso(bool v6, uint32_t payload, uint16_t mss, uint32_t seg, uint64_t capa)
{
	static uint8_t ref[T_MAXPKT], got[T_MAXPKT], re[T_MAXPKT];
	unsigned int in_use = rte_mempool_in_use_count(t_mp);
	uint32_t l3 = v6 ? T_IP6 : T_IP4, hdrs = T_ETH + l3 + T_TCP, done = 0;
	struct rte_mbuf *m, *out[64];
	int nb, i, want_nb = (int)((payload + mss - 1) / mss);
	size_t n;

	m = t_build(v6, T_PROTO_TCP, payload, seg, ref);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	if (!v6)
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	m->tso_segsz = mss;
	nb = vrq_offload_complete(m, capa, out, 64);
	assert_int_equal(nb, want_nb);
	for (i = 0; i < nb; i++) {
		uint32_t plen = RTE_MIN((uint32_t)mss, payload - done);
		const uint8_t *th;

		n = t_flatten(out[i], got, sizeof(got));
		assert_int_equal(n, hdrs + plen);
		assert_int_equal(out[i]->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0);
		assert_int_equal(out[i]->l2_len, T_ETH);
		assert_int_equal(out[i]->l3_len, l3);
		assert_int_equal(out[i]->l4_len, T_TCP);
		/* Ethernet header and addresses as in the original. */
		assert_memory_equal(got, ref, T_ETH);
		if (v6) {
			assert_int_equal(t_get16(got + T_ETH + 4), T_TCP + plen);
			assert_memory_equal(got + T_ETH + 6, ref + T_ETH + 6, 34);
		} else {
			assert_int_equal(t_get16(got + T_ETH + 2), T_IP4 + T_TCP + plen);
			assert_int_equal(t_get16(got + T_ETH + 4), (uint16_t)(0x1234 + i));
			assert_true(t_ip4_ok(got));
			assert_memory_equal(got + T_ETH + 12, ref + T_ETH + 12, 8);
		}
		th = got + T_ETH + l3;
		assert_int_equal(t_get32(th + 4), (uint32_t)(0xfffff000u + done));
		assert_int_equal(t_get32(th + 8), 77);
		assert_int_equal(th[13] & 0x10, 0x10);            /* ACK everywhere */
		assert_int_equal(!!(th[13] & 0x80), i == 0);      /* CWR first only */
		assert_int_equal(!!(th[13] & 0x09), i == nb - 1); /* FIN PSH last only */
		if (capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
			/* Left to the receiver: field holds the pseudo-header sum. */
			uint8_t ph[40] = {0};
			uint32_t acc;

			assert_int_equal(out[i]->ol_flags & RTE_MBUF_F_TX_L4_MASK,
					 RTE_MBUF_F_TX_TCP_CKSUM);
			if (v6) {
				memcpy(ph, got + T_ETH + 8, 32);
				acc = vrq_guest_csum_sum(ph, 32, 0) + T_TCP + plen + T_PROTO_TCP;
			} else {
				memcpy(ph, got + T_ETH + 12, 8);
				acc = vrq_guest_csum_sum(ph, 8, 0) + T_TCP + plen + T_PROTO_TCP;
			}
			assert_int_equal(t_get16(th + 16), vrq_guest_csum_fold(acc));
		} else {
			assert_int_equal(out[i]->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0);
			assert_true(t_l4_ok(got, v6, T_PROTO_TCP, T_ETH + l3, T_TCP + plen));
		}
		memcpy(re + done, got + hdrs, plen);
		done += plen;
	}
	assert_int_equal(done, payload);
	assert_memory_equal(re, ref + hdrs, payload);
	for (i = 0; i < nb; i++)
		rte_pktmbuf_free(out[i]);
	/* The original was consumed. */
	assert_int_equal(rte_mempool_in_use_count(t_mp), in_use);
}

static void
test_vrq_offload_tso_ipv4_9000(void **state)
{
	(void)state;
	t_check_tso(false, 9000, 1448, 2048, 0);
	t_check_tso(false, 9000, 1460, 1000, 0); /* multi-segment source */
}

static void
test_vrq_offload_tso_ipv6_9000(void **state)
{
	(void)state;
	t_check_tso(true, 9000, 1440, 2048, 0);
	t_check_tso(true, 9000, 1428, 999, 0);
}

/* Segments larger than one mbuf come out as chains. */
static void
test_vrq_offload_tso_big_mss_chains(void **state)
{
	(void)state;
	t_check_tso(false, 9000, 4000, 2048, 0);
	t_check_tso(true, 9001, 8960, 2048, 0);
}

/* Receiver does checksums but not TSO: segments keep the L4 checksum request. */
static void
test_vrq_offload_tso_keeps_hw_csum(void **state)
{
	(void)state;
	t_check_tso(false, 9000, 1448, 2048, RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
	t_check_tso(true, 3000, 1000, 2048, RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
}

/* Receiver does TSO: nothing to do. */
static void
test_vrq_offload_tso_capable_untouched(void **state)
{
	static uint8_t ref[T_MAXPKT];
	struct rte_mbuf *m, *out[4];

	(void)state;
	m = t_build(false, T_PROTO_TCP, 9000, 2048, ref);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	m->tso_segsz = 1448;
	assert_int_equal(vrq_offload_complete(
			     m, RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM, out, 4),
			 1);
	assert_ptr_equal(out[0], m);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	rte_pktmbuf_free(m);
}

/* Errors leave the packet to the caller, intact, with no mbuf leaked. */
static void
test_vrq_offload_rejects_bad_packets(void **state)
{
	static uint8_t ref[T_MAXPKT], got[T_MAXPKT];
	unsigned int in_use = rte_mempool_in_use_count(t_mp);
	struct rte_mbuf *m, *out[4];

	(void)state;
	/* Too many segments for out[]. */
	m = t_build(false, T_PROTO_TCP, 9000, 2048, ref);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
	m->tso_segsz = 1448;
	assert_int_equal(vrq_offload_complete(m, 0, out, 4), -ENOSPC);
	/* No MSS. */
	m->tso_segsz = 0;
	assert_int_equal(vrq_offload_complete(m, 0, out, 4), -EINVAL);
	/* l3_len disagrees with the IPv4 IHL. */
	m->tso_segsz = 1448;
	m->l3_len = 24;
	assert_int_equal(vrq_offload_complete(m, 0, out, 64), -EINVAL);
	m->l3_len = T_IP4;
	/* Headers claimed past the end. */
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = 127;
	m->l3_len = 500;
	assert_int_equal(vrq_offload_complete(m, 0, out, 1), -EINVAL);
	m->l2_len = T_ETH;
	m->l3_len = T_IP4;
	/* IPv6 flag on an IPv4 packet. */
	m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM;
	assert_int_equal(vrq_offload_complete(m, 0, out, 1), -EINVAL);
	/* UDP checksum asked for a TCP packet. */
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	assert_int_equal(vrq_offload_complete(m, 0, out, 1), -EINVAL);
	/* Nothing changed by the failures. */
	t_flatten(m, got, sizeof(got));
	assert_memory_equal(got, ref, m->pkt_len);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_in_use_count(t_mp), in_use);
}

/* Pool exhausted half way: -ENOMEM, the segments made so far are freed. */
static void
test_vrq_offload_tso_nomem_no_leak(void **state)
{
	static uint8_t ref[T_MAXPKT];
	struct rte_mbuf *hog[T_POOL_N], *m, *out[16];
	unsigned int nb_hog = 0, avail;

	(void)state;
	m = t_build(false, T_PROTO_TCP, 9000, 2048, ref);
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
	m->tso_segsz = 1000;
	/* Leave 3 mbufs: 9 segments are needed. */
	avail = rte_mempool_avail_count(t_mp);
	while (avail - nb_hog > 3)
		hog[nb_hog++] = rte_pktmbuf_alloc(t_mp);
	assert_int_equal(vrq_offload_complete(m, 0, out, 16), -ENOMEM);
	assert_int_equal(rte_mempool_avail_count(t_mp), 3);
	rte_pktmbuf_free_bulk(hog, nb_hog);
	assert_int_equal(vrq_offload_complete(m, 0, out, 16), 9);
	rte_pktmbuf_free_bulk(out, 9);
	assert_int_equal(rte_mempool_avail_count(t_mp), avail + 5);
}

static int
t_eal_setup(void **state)
{
	(void)state;
	t_mp = vrq_guest_eal_init("vrq_offload_ut", "64", T_POOL_N, T_ROOM + RTE_PKTMBUF_HEADROOM);
	return t_mp == NULL ? -1 : 0;
}

static int
t_eal_teardown(void **state)
{
	(void)state;
	vrq_guest_eal_fini(t_mp);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vrq_offload_csum_tcp4),
	    cmocka_unit_test(test_vrq_offload_csum_udp4),
	    cmocka_unit_test(test_vrq_offload_csum_tcp6),
	    cmocka_unit_test(test_vrq_offload_csum_udp6),
	    cmocka_unit_test(test_vrq_offload_csum_udp_zero_is_ffff),
	    cmocka_unit_test(test_vrq_offload_csum_capable_untouched),
	    cmocka_unit_test(test_vrq_offload_ip_csum_only),
	    cmocka_unit_test(test_vrq_offload_tso_ipv4_9000),
	    cmocka_unit_test(test_vrq_offload_tso_ipv6_9000),
	    cmocka_unit_test(test_vrq_offload_tso_big_mss_chains),
	    cmocka_unit_test(test_vrq_offload_tso_keeps_hw_csum),
	    cmocka_unit_test(test_vrq_offload_tso_capable_untouched),
	    cmocka_unit_test(test_vrq_offload_rejects_bad_packets),
	    cmocka_unit_test(test_vrq_offload_tso_nomem_no_leak),
	};

	return cmocka_run_group_tests_name("vrq_offload", tests, t_eal_setup, t_eal_teardown);
}
