/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of virtio_ring/vrq_copy.c: guest TX scatter lists -> mbuf chain
 * with the virtio-net header mapped to TX offload flags (checksum, TSO4/6,
 * ECN), the guest RX direction (offload flags -> header bytes, compared byte
 * for byte), the header and packet copied into scattered guest buffers with
 * the dirty log, and every malformed header (bad csum_start, gso_size 0,
 * unknown gso_type) dropped with its counter and no mbuf leak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "vrq.h"
#include "vrq_guest.h"
#include "vrq_internal.h"

#define HDR 12

static struct rte_mempool *mp;

struct fx {
	struct vrq *q;
	unsigned int avail0;
	uint8_t frame[HDR + 9216];
	uint32_t len; /* header + packet */
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->q = vrq_create("copy", 1, SOCKET_ID_ANY);
	if (f->q == NULL) {
		free(f);
		return -1;
	}
	f->q->hdr_len = HDR;
	/* Host offloads negotiated: guest TX headers are read (vrq_start() sets tx_hdr_used). */
	f->q->features = VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_NET_CSUM) |
			 VRQ_FBIT(VRQ_F_NET_HOST_TSO4) | VRQ_FBIT(VRQ_F_NET_HOST_TSO6) |
			 VRQ_FBIT(VRQ_F_NET_HOST_ECN);
	f->q->tx_hdr_used = true;
	f->avail0 = rte_mempool_avail_count(mp);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	vrq_free(f->q);
	free(f);
	return 0;
}

static uint64_t
stat(const struct fx *f, enum vrq_stat_id id)
{
	struct vrq_stats st;

	vrq_stats_get(f->q, &st);
	return st.v[id];
}

/*
 * Build header + Ethernet [+ VLAN] + IPv4/IPv6 + TCP/UDP + payload in
 * f->frame. @p ip 4 or 6, @p proto IPPROTO_TCP/UDP.
 */
static void
build(struct fx *f, int ip, uint8_t proto, bool vlan, uint32_t payload)
{
	uint8_t *p = f->frame + HDR;
	uint32_t l2 = vlan ? 18 : 14, l3 = ip == 4 ? 20 : 40, l4 = proto == IPPROTO_TCP ? 20 : 8;
	uint32_t i, off = l2 + l3;

	memset(f->frame, 0, sizeof(f->frame));
	if (vlan) {
		p[12] = 0x81;
		p[16] = ip == 4 ? 0x08 : 0x86;
		p[17] = ip == 4 ? 0x00 : 0xdd;
	} else {
		p[12] = ip == 4 ? 0x08 : 0x86;
		p[13] = ip == 4 ? 0x00 : 0xdd;
	}
	if (ip == 4) {
		p[l2] = 0x45;
		p[l2 + 9] = proto;
	} else {
		p[l2] = 0x60;
		p[l2 + 6] = proto;
	}
	if (proto == IPPROTO_TCP)
		p[off + 12] = 5 << 4;
	for (i = 0; i < payload; i++)
		p[off + l4 + i] = (uint8_t)(i * 3 + 1);
	f->len = HDR + off + l4 + payload;
}

static void
set_hdr(struct fx *f, uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t csum_start,
	uint16_t csum_offset)
{
	struct vrq_net_hdr h = {flags,
				gso_type,
				0,
				rte_cpu_to_le_16(gso_size),
				rte_cpu_to_le_16(csum_start),
				rte_cpu_to_le_16(csum_offset),
				0};

	memcpy(f->frame, &h, HDR);
}

/* Run vrq_copy_to_mbuf over f->frame cut in pieces of @p piece bytes. */
static int
to_mbuf(struct fx *f, uint32_t piece, struct rte_mbuf **out)
{
	struct vrq_iov iov[VRQ_IOV_MAX];
	uint16_t n = 0;
	uint32_t off;
	int ret;

	/* Small pieces first (the header split), then at most VRQ_IOV_MAX in all. */
	if ((f->len + piece - 1) / piece > VRQ_IOV_MAX)
		piece = (f->len + VRQ_IOV_MAX - 1) / VRQ_IOV_MAX;
	for (off = 0; off < f->len; off += piece, n++) {
		iov[n].hva = f->frame + off;
		iov[n].len = RTE_MIN(piece, f->len - off);
		iov[n].gpa = 0;
	}
	*out = rte_pktmbuf_alloc(mp);
	assert_non_null(*out);
	ret = vrq_copy_to_mbuf(f->q, iov, n, mp, *out);
	if (ret == 0) {
		uint8_t *buf = malloc(f->len);
		const uint8_t *p = rte_pktmbuf_read(*out, 0, f->len - HDR, buf);

		assert_int_equal((*out)->pkt_len, f->len - HDR);
		assert_memory_equal(p, f->frame + HDR, f->len - HDR);
		free(buf);
	}
	return ret;
}

static void
assert_dropped(struct fx *f, enum vrq_stat_id why)
{
	struct rte_mbuf *m;

	assert_true(to_mbuf(f, 5, &m) < 0);
	assert_int_equal(stat(f, why), 1);
	assert_int_equal(stat(f, VRQ_STAT_drop_bad_hdr), 1);
	/* The mbuf is left reusable: one segment, empty. */
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->pkt_len, 0);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(mp), f->avail0);
}

static void
test_vrq_copy_tx_no_offload_9216_multiseg(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;

	build(f, 4, IPPROTO_TCP, false, 9216 - 54);
	assert_int_equal(to_mbuf(f, 1000, &m), 0);
	assert_true(m->nb_segs >= 5);
	assert_int_equal(m->ol_flags, 0);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(mp), f->avail0);
}

static void
test_vrq_copy_tx_csum_tcp4(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;

	build(f, 4, IPPROTO_TCP, false, 100);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(to_mbuf(f, 3, &m), 0); /* header in 3-byte pieces */
	assert_int_equal(m->ol_flags, RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 20);
	assert_int_equal(m->l4_len, 20);
	rte_pktmbuf_free(m);
}

static void
test_vrq_copy_tx_csum_udp6_vlan(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;

	build(f, 6, IPPROTO_UDP, true, 100);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0, 0, 58, 6);
	assert_int_equal(to_mbuf(f, 64, &m), 0);
	assert_int_equal(m->ol_flags, RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV6);
	assert_int_equal(m->l2_len, 18);
	assert_int_equal(m->l3_len, 40);
	assert_int_equal(m->l4_len, 8);
	rte_pktmbuf_free(m);
}

static void
test_vrq_copy_tx_tso4(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;

	build(f, 4, IPPROTO_TCP, false, 8000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, VRQ_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	assert_int_equal(to_mbuf(f, 1500, &m), 0);
	assert_int_equal(m->ol_flags,
			 RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4);
	assert_int_equal(m->tso_segsz, 1448);
	assert_int_equal(m->l4_len, 20);
	rte_pktmbuf_free(m);
}

/*
 * No host offload negotiated (neither CSUM nor a HOST_* GSO feature): the
 * header must be zero (5.1.6.2) and is not read, so whatever a driver puts
 * there is ignored and the frame goes out as sent, with no offload flags.
 */
static void
test_vrq_copy_tx_hdr_ignored_without_host_offloads(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;

	f->q->features = VRQ_FBIT(VRQ_F_VERSION_1);
	f->q->tx_hdr_used = false;
	/* Chain path (several buffers, several mbufs), then the one-buffer inline path. */
	build(f, 4, IPPROTO_TCP, false, 8000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0x77, 0, 60000, 60000); /* garbage */
	assert_int_equal(to_mbuf(f, 1500, &m), 0);
	assert_int_equal(m->ol_flags, 0);
	assert_int_equal(m->pkt_len, f->len - HDR);
	rte_pktmbuf_free(m);
	build(f, 4, IPPROTO_TCP, false, 1000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0x77, 0, 60000, 60000);
	assert_int_equal(to_mbuf(f, 4096, &m), 0);
	assert_int_equal(m->ol_flags, 0);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->pkt_len, f->len - HDR);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), f->frame + HDR, f->len - HDR);
	rte_pktmbuf_free(m);
}

static void
test_vrq_copy_tx_tso6_ecn(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;

	build(f, 6, IPPROTO_TCP, false, 5000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, VRQ_NET_HDR_GSO_TCPV6 | VRQ_NET_HDR_GSO_ECN, 1428, 54,
		16);
	assert_int_equal(to_mbuf(f, 4096, &m), 0);
	assert_int_equal(m->ol_flags,
			 RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV6);
	assert_int_equal(m->tso_segsz, 1428);
	assert_int_equal(m->l3_len, 40);
	rte_pktmbuf_free(m);
}

/* A checksum an mbuf flag cannot express (no IP header) is completed in software. */
static void
test_vrq_copy_tx_csum_sw_fallback(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m;
	uint32_t i;
	uint16_t c;
	uint8_t *p;

	memset(f->frame, 0, sizeof(f->frame));
	p = f->frame + HDR;
	p[12] = 0x88;
	p[13] = 0xb5; /* local experimental ethertype */
	for (i = 14; i < 14 + 61; i++)
		p[i] = (uint8_t)(i * 11);
	p[20] = p[21] = 0; /* the checksum field, at csum_start 16 + offset 4 */
	f->len = HDR + 14 + 61;
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0, 0, 16, 4);
	{
		struct vrq_iov iov = {f->frame, f->len, 0};

		m = rte_pktmbuf_alloc(mp);
		assert_int_equal(vrq_copy_to_mbuf(f->q, &iov, 1, mp, m), 0);
	}
	assert_int_equal(m->ol_flags, 0);
	assert_int_equal(stat(f, VRQ_STAT_sw_csum), 1);
	/* The sum over [csum_start, end) including the stored checksum folds to 0xffff. */
	c = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, void *, 16), m->pkt_len - 16);
	assert_int_equal(c, 0xffff);
	rte_pktmbuf_free(m);
}

static void
test_vrq_copy_tx_rejects_csum_beyond_packet(void **state)
{
	struct fx *f = *state;

	build(f, 4, IPPROTO_TCP, false, 10);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0, 0, 60, 16); /* 60 + 16 + 2 > 64 */
	assert_dropped(f, VRQ_STAT_err_csum);
}

static void
test_vrq_copy_tx_rejects_csum_offset_huge(void **state)
{
	struct fx *f = *state;

	build(f, 4, IPPROTO_TCP, false, 2000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 0xffff);
	assert_dropped(f, VRQ_STAT_err_csum);
}

static void
test_vrq_copy_tx_rejects_gso_size_zero(void **state)
{
	struct fx *f = *state;

	build(f, 4, IPPROTO_TCP, false, 3000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, VRQ_NET_HDR_GSO_TCPV4, 0, 34, 16);
	assert_dropped(f, VRQ_STAT_err_gso);
}

static void
test_vrq_copy_tx_rejects_gso_udp(void **state)
{
	struct fx *f = *state;

	build(f, 4, IPPROTO_UDP, false, 3000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, VRQ_NET_HDR_GSO_UDP, 1400, 34, 6);
	assert_dropped(f, VRQ_STAT_err_gso);
}

static void
test_vrq_copy_tx_rejects_gso_unknown(void **state)
{
	struct fx *f = *state;

	build(f, 4, IPPROTO_TCP, false, 3000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, 0x17, 1400, 34, 16);
	assert_dropped(f, VRQ_STAT_err_gso);
}

/* gso_type TCPV4 on an IPv6 packet. */
static void
test_vrq_copy_tx_rejects_gso_wrong_ip(void **state)
{
	struct fx *f = *state;

	build(f, 6, IPPROTO_TCP, false, 3000);
	set_hdr(f, VRQ_NET_HDR_F_NEEDS_CSUM, VRQ_NET_HDR_GSO_TCPV4, 1400, 54, 16);
	assert_dropped(f, VRQ_STAT_err_gso);
}

static void
test_vrq_copy_tx_rejects_gso_without_csum(void **state)
{
	struct fx *f = *state;

	build(f, 4, IPPROTO_TCP, false, 3000);
	set_hdr(f, 0, VRQ_NET_HDR_GSO_TCPV4, 1400, 34, 16);
	assert_dropped(f, VRQ_STAT_err_gso);
}

static void
test_vrq_copy_tx_rejects_header_only(void **state)
{
	struct fx *f = *state;
	struct vrq_iov iov = {f->frame, HDR, 0};
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	assert_int_equal(vrq_copy_to_mbuf(f->q, &iov, 1, mp, m), -EINVAL);
	assert_int_equal(stat(f, VRQ_STAT_drop_bad_hdr), 1);
	rte_pktmbuf_free(m);
}

/* ---- guest RX: mbuf flags -> header bytes ---- */

static struct rte_mbuf *
rx_mbuf(uint64_t ol, uint16_t l2, uint16_t l3, uint16_t l4, uint16_t mss, uint8_t tcp_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 200);

	memset(p, 0, 200);
	p[l2 + l3 + 13] = tcp_flags;
	m->ol_flags = ol;
	m->l2_len = l2;
	m->l3_len = l3;
	m->l4_len = l4;
	m->tso_segsz = mss;
	return m;
}

static void
assert_hdr_bytes(struct fx *f, uint64_t features, struct rte_mbuf *m, const uint8_t want[HDR])
{
	struct vrq_net_hdr h;

	f->q->features = features;
	memset(&h, 0x5a, sizeof(h));
	if (vrq_hdr_from_mbuf(f->q, m, &h) == NULL)
		memset(&h, 0, sizeof(h)); /* no offload: the zero header */
	assert_memory_equal(&h, want, HDR);
	rte_pktmbuf_free(m);
}

#define F_CSUM (VRQ_FBIT(VRQ_F_NET_GUEST_CSUM))
#define F_TSO (F_CSUM | VRQ_FBIT(VRQ_F_NET_GUEST_TSO4) | VRQ_FBIT(VRQ_F_NET_GUEST_TSO6))

static void
test_vrq_copy_rx_hdr_tcp_csum(void **state)
{
	static const uint8_t want[HDR] = {1, 0, 0, 0, 0, 0, 34, 0, 16, 0, 0, 0};

	assert_hdr_bytes(*state, F_CSUM,
			 rx_mbuf(RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4, 14, 20, 20, 0, 0),
			 want);
}

static void
test_vrq_copy_rx_hdr_udp6_csum(void **state)
{
	static const uint8_t want[HDR] = {1, 0, 0, 0, 0, 0, 58, 0, 6, 0, 0, 0};

	assert_hdr_bytes(*state, F_CSUM,
			 rx_mbuf(RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV6, 18, 40, 8, 0, 0),
			 want);
}

static void
test_vrq_copy_rx_hdr_tso4(void **state)
{
	/* flags, gso TCPV4, hdr_len 54, gso_size 1448 (0x5a8), csum_start 34, offset 16 */
	static const uint8_t want[HDR] = {1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0};

	assert_hdr_bytes(*state, F_TSO,
			 rx_mbuf(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4, 14, 20, 20, 1448, 0),
			 want);
}

static void
test_vrq_copy_rx_hdr_tso6_ecn(void **state)
{
	static const uint8_t want[HDR] = {1, 0x84, 94, 0, 0x94, 0x05, 54, 0, 16, 0, 0, 0};

	assert_hdr_bytes(*state, F_TSO | VRQ_FBIT(VRQ_F_NET_GUEST_ECN),
			 rx_mbuf(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV6, 14, 40, 40, 1428,
				 RTE_TCP_CWR_FLAG | RTE_TCP_ACK_FLAG),
			 want);
}

/* CWR set but GUEST_ECN not negotiated: no ECN bit. */
static void
test_vrq_copy_rx_hdr_tso6_cwr_without_ecn(void **state)
{
	static const uint8_t want[HDR] = {1, 4, 74, 0, 0x94, 0x05, 54, 0, 16, 0, 0, 0};

	assert_hdr_bytes(
	    *state, F_TSO,
	    rx_mbuf(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV6, 14, 40, 20, 1428, RTE_TCP_CWR_FLAG),
	    want);
}

static void
test_vrq_copy_rx_hdr_without_guest_csum_is_zero(void **state)
{
	static const uint8_t want[HDR] = {0};

	assert_hdr_bytes(*state, VRQ_FBIT(VRQ_F_VERSION_1),
			 rx_mbuf(RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4, 14, 20, 20, 0, 0),
			 want);
}

static void
test_vrq_copy_rx_hdr_data_valid(void **state)
{
	static const uint8_t want[HDR] = {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	assert_hdr_bytes(*state, F_CSUM, rx_mbuf(RTE_MBUF_F_RX_L4_CKSUM_GOOD, 14, 20, 20, 0, 0),
			 want);
}

/* Header + 3-segment mbuf into 7-byte guest buffers, each range dirty-logged. */
/* Guest RX header: right bytes whatever the buffer held, nothing past the header. */
static void
test_vrq_hdr_store_any_prior_content(void **state)
{
	struct vrq_net_hdr want = {0}, h = {1,
					    4,
					    rte_cpu_to_le_16(54),
					    rte_cpu_to_le_16(1448),
					    rte_cpu_to_le_16(34),
					    rte_cpu_to_le_16(16),
					    0};
	uint8_t buf[16];

	(void)state;
	want.num_buffers = rte_cpu_to_le_16(3);
	memset(buf, 0xee, sizeof(buf));
	vrq_hdr_store(buf, NULL, 3, HDR);
	assert_memory_equal(buf, &want, HDR);
	assert_int_equal(buf[HDR], 0xee);
	vrq_hdr_store(buf, NULL, 3, HDR); /* already right: left as is */
	assert_memory_equal(buf, &want, HDR);
	vrq_hdr_store(buf, NULL, 1, HDR); /* only num_buffers differs */
	want.num_buffers = rte_cpu_to_le_16(1);
	assert_memory_equal(buf, &want, HDR);
	vrq_hdr_store(buf, &h, 2, HDR); /* offload fields */
	h.num_buffers = rte_cpu_to_le_16(2);
	assert_memory_equal(buf, &h, HDR);
	memset(buf, 0xee, sizeof(buf));
	vrq_hdr_store(buf, NULL, 1, VRQ_NET_HDR_LEN_LEGACY); /* legacy: no num_buffers */
	memset(&want, 0, sizeof(want));
	assert_memory_equal(buf, &want, VRQ_NET_HDR_LEN_LEGACY);
	assert_int_equal(buf[VRQ_NET_HDR_LEN_LEGACY], 0xee);
}

static void
test_vrq_copy_from_mbuf_scattered_and_logged(void **state)
{
	struct fx *f = *state;
	static uint8_t guest[1024], bm[8];
	struct vrq_log log = {bm, sizeof(bm)};
	struct vrq_iov iov[VRQ_IOV_MAX];
	struct vrq_net_hdr h = {1, 2, 0, 0, 0, 0, rte_cpu_to_le_16(3)};
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *s1 = rte_pktmbuf_alloc(mp);
	uint32_t i;

	memset(rte_pktmbuf_append(m, 50), 0x11, 50);
	memset(rte_pktmbuf_append(s1, 13), 0x22, 13);
	rte_pktmbuf_chain(m, s1);
	for (i = 0; i < 20; i++) {
		iov[i].hva = guest + i * 7;
		iov[i].len = 7;
		iov[i].gpa = (uint64_t)i * VRQ_LOG_PAGE; /* one page per piece */
	}
	memset(bm, 0, sizeof(bm));
	memset(guest, 0xee, sizeof(guest));
	f->q->log = &log;
	assert_int_equal(vrq_copy_from_mbuf(f->q, &h, 3, m, iov, 20), HDR + 63);
	assert_memory_equal(guest, &h, HDR);
	for (i = 0; i < 63; i++)
		assert_int_equal(guest[HDR + i], i < 50 ? 0x11 : 0x22);
	assert_int_equal(guest[HDR + 63], 0xee);
	/* 75 bytes touch pieces 0..10: pages 0..10 */
	assert_int_equal(bm[0], 0xff);
	assert_int_equal(bm[1], 0x07);
	assert_int_equal(bm[2], 0);
	assert_int_equal(vrq_copy_from_mbuf(f->q, &h, 3, m, iov, 10), -ENOSPC);
	f->q->log = NULL;
	rte_pktmbuf_free(m);
}

static int
eal_setup(void **state)
{
	(void)state;
	mp = vrq_guest_eal_init("vrq_copy_test", "64", 511, RTE_MBUF_DEFAULT_BUF_SIZE);
	return mp == NULL ? -1 : 0;
}

static int
eal_teardown(void **state)
{
	(void)state;
	vrq_guest_eal_fini(mp);
	return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_vrq_copy_tx_no_offload_9216_multiseg),
	    T(test_vrq_copy_tx_csum_tcp4),
	    T(test_vrq_copy_tx_csum_udp6_vlan),
	    T(test_vrq_copy_tx_tso4),
	    T(test_vrq_copy_tx_tso6_ecn),
	    T(test_vrq_copy_tx_hdr_ignored_without_host_offloads),
	    T(test_vrq_hdr_store_any_prior_content),
	    T(test_vrq_copy_tx_csum_sw_fallback),
	    T(test_vrq_copy_tx_rejects_csum_beyond_packet),
	    T(test_vrq_copy_tx_rejects_csum_offset_huge),
	    T(test_vrq_copy_tx_rejects_gso_size_zero),
	    T(test_vrq_copy_tx_rejects_gso_udp),
	    T(test_vrq_copy_tx_rejects_gso_unknown),
	    T(test_vrq_copy_tx_rejects_gso_wrong_ip),
	    T(test_vrq_copy_tx_rejects_gso_without_csum),
	    T(test_vrq_copy_tx_rejects_header_only),
	    T(test_vrq_copy_rx_hdr_tcp_csum),
	    T(test_vrq_copy_rx_hdr_udp6_csum),
	    T(test_vrq_copy_rx_hdr_tso4),
	    T(test_vrq_copy_rx_hdr_tso6_ecn),
	    T(test_vrq_copy_rx_hdr_tso6_cwr_without_ecn),
	    T(test_vrq_copy_rx_hdr_without_guest_csum_is_zero),
	    T(test_vrq_copy_rx_hdr_data_valid),
	    T(test_vrq_copy_from_mbuf_scattered_and_logged),
	};

	return cmocka_run_group_tests_name("vrq_copy", tests, eal_setup, eal_teardown);
}
