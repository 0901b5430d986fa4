/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layout-independent datapath pieces shared by the split and packed rings:
 * copying a validated scatter list (struct vrq_iov) of guest buffers into an
 * mbuf chain and back, and translating between the virtio-net header (5.1.6)
 * and mbuf offload flags.
 *
 * The iov entries were translated and bounded by the ring walker, but their
 * bytes are still guest memory the guest may rewrite while we copy. So the
 * header is copied once into a local and the packet headers are parsed from
 * our own mbuf copy, never from guest memory; every offset the guest gives
 * (csum_start, csum_offset) is checked against the packet length.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "vrq_internal.h"

/*
 * Largest frame a guest may hand us: a 64 KiB GSO packet plus an Ethernet
 * header with two VLAN tags (Linux's GSO_MAX_SIZE; well above 9216 jumbo).
 */
#define VRQ_FRAME_MAX (65536 + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN)

/*
 * Guest TX chains: while one buffer is copied, the next one's lines are
 * prefetched, up to this many bytes (a 4 KiB page; a guest's jumbo frame
 * comes in buffers of 2-4 KiB). The copy loop otherwise waits on the first
 * load of every source line (bench/README.md, session 4: 9000 B guest TX,
 * in-launch A/B 1.18-1.29 split, 1.00-1.10 packed).
 */
#define VRQ_TX_PREFETCH_MAX 4096

/* Headers we parse for offloads: Ethernet + 2 VLAN tags + IPv6 with extensions + TCP. */
#define VRQ_PARSE_MAX 256
/* IPv6 extension headers we skip before giving up on finding L4. */
#define VRQ_IPV6_EXT_MAX 4

/* Where the offload-relevant headers are, from our copy of the packet. */
struct vrq_pkt_info {
	uint32_t l2, l3, l4; /* lengths; l4 = 0 when not TCP/UDP */
	uint8_t ip;          /* 4, 6 or 0 */
	uint8_t proto;       /* IPPROTO_* of L4, 0 when unknown */
};

static void
vrq_mbuf_reset(struct rte_mbuf *m)
{
	if (m->next != NULL)
		rte_pktmbuf_free(m->next);
	m->next = NULL;
	rte_pktmbuf_reset(m);
}

/* Parse Ethernet / VLAN / IPv4 / IPv6 (+ a few extension headers) / TCP / UDP. */
static void
vrq_pkt_parse(const struct rte_mbuf *m, struct vrq_pkt_info *pi)
{
	uint8_t buf[VRQ_PARSE_MAX];
	uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)sizeof(buf));
	const uint8_t *p = rte_pktmbuf_read(m, 0, len, buf);
	uint32_t off = RTE_ETHER_HDR_LEN, i;
	uint16_t type;

	memset(pi, 0, sizeof(*pi));
	if (p == NULL || len < RTE_ETHER_HDR_LEN)
		return;
	type = (uint16_t)(p[12] << 8 | p[13]);
	for (i = 0; i < 2 && (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ); i++) {
		if (off + RTE_VLAN_HLEN > len)
			return;
		type = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += RTE_VLAN_HLEN;
	}
	pi->l2 = off;
	if (type == RTE_ETHER_TYPE_IPV4) {
		uint32_t ihl;

		if (off + sizeof(struct rte_ipv4_hdr) > len)
			return;
		ihl = (uint32_t)(p[off] & 0xf) * 4;
		if ((p[off] >> 4) != 4 || ihl < sizeof(struct rte_ipv4_hdr) || off + ihl > len)
			return;
		pi->ip = 4;
		pi->l3 = ihl;
		pi->proto = p[off + 9];
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		uint32_t l3 = sizeof(struct rte_ipv6_hdr);
		uint8_t nh;

		if (off + l3 > len || (p[off] >> 4) != 6)
			return;
		nh = p[off + 6];
		for (i = 0; i < VRQ_IPV6_EXT_MAX; i++) {
			uint32_t ext;

			if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS)
				break;
			if (off + l3 + 2 > len)
				return;
			ext = ((uint32_t)p[off + l3 + 1] + 1) * 8;
			nh = p[off + l3];
			l3 += ext;
		}
		if (off + l3 > len)
			return;
		pi->ip = 6;
		pi->l3 = l3;
		pi->proto = nh;
	} else {
		return;
	}
	off += pi->l3;
	if (pi->proto == IPPROTO_TCP && off + sizeof(struct rte_tcp_hdr) <= len) {
		uint32_t doff = (uint32_t)(p[off + 12] >> 4) * 4;

		if (doff >= sizeof(struct rte_tcp_hdr) && off + doff <= m->pkt_len)
			pi->l4 = doff;
	} else if (pi->proto == IPPROTO_UDP && off + 8 <= m->pkt_len) {
		pi->l4 = 8;
	}
}

/*
 * virtio-net header -> mbuf TX offload flags (5.1.6.2). What a NIC can do
 * (TCP/UDP checksum over IPv4/IPv6 with csum_start at the L4 header, TCP
 * segmentation) becomes flags; any other checksum request is completed here
 * the way the guest's stack expects (the field holds the pseudo-header sum).
 * Returns VRQ_STAT_MAX, or the counter that says why the header is refused.
 */
static enum vrq_stat_id
vrq_hdr_to_mbuf(struct vrq *q, const struct vrq_net_hdr *hdr, struct rte_mbuf *m)
{
	uint16_t csum_start = rte_le_to_cpu_16(hdr->csum_start);
	uint16_t csum_offset = rte_le_to_cpu_16(hdr->csum_offset);
	uint16_t gso_size = rte_le_to_cpu_16(hdr->gso_size);
	uint8_t gso = hdr->gso_type & (uint8_t)~VRQ_NET_HDR_GSO_ECN;
	bool hw = false;
	struct vrq_pkt_info pi;
	uint64_t ol = 0;

	if (gso != VRQ_NET_HDR_GSO_NONE &&
	    ((gso != VRQ_NET_HDR_GSO_TCPV4 && gso != VRQ_NET_HDR_GSO_TCPV6) || gso_size == 0))
		return VRQ_STAT_err_gso;
	if (hdr->gso_type == VRQ_NET_HDR_GSO_ECN)
		return VRQ_STAT_err_gso; /* ECN alone means nothing */
	if (!(hdr->flags & VRQ_NET_HDR_F_NEEDS_CSUM)) {
		if (gso != VRQ_NET_HDR_GSO_NONE)
			return VRQ_STAT_err_gso; /* 5.1.6.2: GSO needs NEEDS_CSUM */
		return VRQ_STAT_MAX;
	}
	if ((uint32_t)csum_start + csum_offset + sizeof(uint16_t) > m->pkt_len)
		return VRQ_STAT_err_csum;
	vrq_pkt_parse(m, &pi);
	if (pi.ip != 0 && pi.l4 != 0 && csum_start == pi.l2 + pi.l3) {
		if (pi.proto == IPPROTO_TCP && csum_offset == offsetof(struct rte_tcp_hdr, cksum)) {
			ol = RTE_MBUF_F_TX_TCP_CKSUM;
			hw = true;
		} else if (pi.proto == IPPROTO_UDP && csum_offset == 6) {
			ol = RTE_MBUF_F_TX_UDP_CKSUM;
			hw = true;
		}
	}
	if (gso != VRQ_NET_HDR_GSO_NONE) {
		/* TSO needs a TCP header where csum_start says, in the IP version of gso_type. */
		if (!hw || pi.proto != IPPROTO_TCP ||
		    pi.ip != (gso == VRQ_NET_HDR_GSO_TCPV4 ? 4 : 6))
			return VRQ_STAT_err_gso;
		ol |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = gso_size;
	}
	if (hw) {
		m->l2_len = pi.l2;
		m->l3_len = pi.l3;
		m->l4_len = pi.l4;
		ol |= pi.ip == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
		m->ol_flags |= ol;
		return VRQ_STAT_MAX;
	}
	/*
	 * Not expressible as an mbuf flag (e.g. no IP, or odd offsets): finish
	 * it now. The range was checked above, so neither call can fail.
	 */
	{
		uint16_t sum, csum;

		if (vrq_mbuf_sum(m, csum_start, m->pkt_len - csum_start, &sum) != 0)
			return VRQ_STAT_err_csum;
		csum = (uint16_t)~sum;
		if (csum == 0)
			csum = 0xffff; /* 0 means "no checksum" for UDP; same sum for others */
		if (vrq_mbuf_write(m, (uint32_t)csum_start + csum_offset, &csum, sizeof(csum)) != 0)
			return VRQ_STAT_err_csum;
		vrq_stat_add(q, VRQ_STAT_sw_csum, 1);
	}
	return VRQ_STAT_MAX;
}

/* Hint only: a prefetch never faults, and hva..hva+len is mapped guest memory. */
static inline void
vrq_prefetch_lines(const void *hva, uint32_t len)
{
	const uint8_t *p = hva;
	uint32_t off;

	for (off = 0; off < len; off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p + off);
}

int
vrq_copy_to_mbuf_chain(struct vrq *q, const struct vrq_iov *iov, uint16_t nb_iov,
		       struct rte_mempool *mp, struct rte_mbuf *m)
{
	struct vrq_net_hdr hdr;
	struct rte_mbuf *cur = m;
	uint32_t hlen = q->hdr_len, got = 0, off = 0, n;
	uint64_t total = 0;
	uint16_t i;

	for (i = 0; i < nb_iov; i++)
		total += iov[i].len;
	/* A frame needs at least one byte after the header (and the header whole). */
	if (unlikely(total <= hlen)) {
		vrq_drop(q, VRQ_STAT_drop_bad_hdr, VRQ_STAT_drop_bad_hdr);
		return -EINVAL;
	}
	if (unlikely(total - hlen > VRQ_FRAME_MAX)) {
		vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
		return -E2BIG;
	}
	/* The header may be spread over several descriptors: copy it piecewise, once. */
	i = 0;
	if (likely(iov[0].len >= hlen)) {
		vrq_hdr_load(&hdr, iov[0].hva, hlen);
		got = hlen;
		off = hlen;
		if (off == iov[0].len) {
			i = 1;
			off = 0;
		}
	} else {
		memset(&hdr, 0, sizeof(hdr));
	}
	while (got < hlen) {
		n = RTE_MIN(hlen - got, iov[i].len - off);
		memcpy((uint8_t *)&hdr + got, (const uint8_t *)iov[i].hva + off, n);
		got += n;
		off += n;
		if (off == iov[i].len) {
			i++;
			off = 0;
		}
	}
	for (; i < nb_iov; i++, off = 0) {
		const uint8_t *src = (const uint8_t *)iov[i].hva + off;
		uint32_t left = iov[i].len - off;

		if (i + 1 < nb_iov)
			vrq_prefetch_lines(iov[i + 1].hva,
					   RTE_MIN(iov[i + 1].len, (uint32_t)VRQ_TX_PREFETCH_MAX));

		while (left > 0) {
			uint16_t room = rte_pktmbuf_tailroom(cur);

			if (room == 0) {
				struct rte_mbuf *seg = rte_pktmbuf_alloc(mp);

				if (unlikely(seg == NULL)) {
					vrq_stat_add(q, VRQ_STAT_drop_nombuf, 1);
					vrq_mbuf_reset(m);
					return -ENOMEM;
				}
				cur->next = seg;
				cur = seg;
				m->nb_segs++;
				continue;
			}
			n = RTE_MIN(left, (uint32_t)room);
			rte_memcpy(rte_pktmbuf_mtod_offset(cur, uint8_t *, cur->data_len), src, n);
			cur->data_len = (uint16_t)(cur->data_len + n);
			m->pkt_len += n;
			src += n;
			left -= n;
		}
	}
	if (q->tx_hdr_used && (hdr.flags != 0 || hdr.gso_type != VRQ_NET_HDR_GSO_NONE))
		return vrq_copy_hdr_apply(q, &hdr, m);
	return 0;
}

/* A header with offload requests, for the frame already in m (see vrq_copy_to_mbuf()). */
int
vrq_copy_hdr_apply(struct vrq *q, const struct vrq_net_hdr *hdr, struct rte_mbuf *m)
{
	enum vrq_stat_id why = vrq_hdr_to_mbuf(q, hdr, m);

	if (unlikely(why != VRQ_STAT_MAX)) {
		vrq_drop(q, why, VRQ_STAT_drop_bad_hdr);
		vrq_mbuf_reset(m);
		return -EINVAL;
	}
	return 0;
}

void
vrq_hdr_from_mbuf_ol(struct vrq *q, const struct rte_mbuf *m, struct vrq_net_hdr *hdr)
{
	uint64_t ol = m->ol_flags, l4 = ol & RTE_MBUF_F_TX_L4_MASK;
	uint64_t f = q->features;

	memset(hdr, 0, sizeof(*hdr));
	if (!(f & VRQ_FBIT(VRQ_F_NET_GUEST_CSUM)))
		return;
	if (ol & RTE_MBUF_F_TX_TCP_SEG) {
		bool v4 = (ol & RTE_MBUF_F_TX_IPV4) != 0;

		if (!(f & VRQ_FBIT(v4 ? VRQ_F_NET_GUEST_TSO4 : VRQ_F_NET_GUEST_TSO6)))
			return; /* the slow path completed it; a flag left here is not ours to trust */
		hdr->gso_type = v4 ? VRQ_NET_HDR_GSO_TCPV4 : VRQ_NET_HDR_GSO_TCPV6;
		if (f & VRQ_FBIT(VRQ_F_NET_GUEST_ECN)) {
			uint8_t tcp_flags, buf;
			const uint8_t *p = rte_pktmbuf_read(
			    m, m->l2_len + m->l3_len + offsetof(struct rte_tcp_hdr, tcp_flags), 1,
			    &buf);

			tcp_flags = p != NULL ? *p : 0;
			if (tcp_flags & RTE_TCP_CWR_FLAG)
				hdr->gso_type |= VRQ_NET_HDR_GSO_ECN;
		}
		hdr->gso_size = rte_cpu_to_le_16(m->tso_segsz);
		hdr->hdr_len = rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len + m->l4_len));
		l4 = RTE_MBUF_F_TX_TCP_CKSUM; /* TSO implies the TCP checksum */
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM || l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
		hdr->flags = VRQ_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len));
		hdr->csum_offset = rte_cpu_to_le_16(
		    l4 == RTE_MBUF_F_TX_TCP_CKSUM ? offsetof(struct rte_tcp_hdr, cksum) : 6);
	} else if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		/* A NIC already verified it: spare the guest the work (5.1.6.4). */
		hdr->flags = VRQ_NET_HDR_F_DATA_VALID;
	}
}

int
vrq_copy_from_mbuf_chain(struct vrq *q, const struct vrq_net_hdr *hdr, uint16_t num_buffers,
			 const struct rte_mbuf *m, const struct vrq_iov *iov, uint16_t nb_iov)
{
	struct vrq_net_hdr full = {0};
	const uint8_t *src = (const uint8_t *)&full;
	uint32_t left = q->hdr_len, off = 0, total = 0, n;
	uint16_t i = 0;

	if (hdr != NULL)
		full = *hdr;
	full.num_buffers = rte_cpu_to_le_16(num_buffers);
	for (;;) {
		while (left > 0) {
			if (i == nb_iov)
				return -ENOSPC;
			n = RTE_MIN(left, iov[i].len - off);
			rte_memcpy((uint8_t *)iov[i].hva + off, src, n);
			if (unlikely(q->log != NULL))
				vrq_log_write(q, iov[i].gpa + off, n);
			src += n;
			left -= n;
			off += n;
			total += n;
			if (off == iov[i].len) {
				i++;
				off = 0;
			}
		}
		if (m == NULL)
			break;
		src = rte_pktmbuf_mtod(m, const uint8_t *);
		left = m->data_len;
		m = m->next;
	}
	return (int)total;
}

/* Packets a software GSO may produce from one mbuf (64 KiB / a 536-byte MSS, rounded up). */
#define VRQ_RX_SW_SEGS 128

__rte_noinline int
vrq_rx_sw(struct vrq *q, struct rte_mbuf *m, vrq_rx_place_fn place, void *ctx)
{
	struct rte_mbuf *out[VRQ_RX_SW_SEGS];
	int n, j, ret = VRQ_RX_DONE;

	n = vrq_offload_sw(q, m, out, RTE_DIM(out));
	if (n < 0)
		return VRQ_RX_DONE; /* dropped and counted */
	for (j = 0; j < n; j++) {
		ret = place(q, out[j], ctx);
		if (ret != VRQ_RX_DONE)
			break;
	}
	if (ret == VRQ_RX_NO_BUF && j > 0) {
		/* Part of a GSO train went out; the rest is dropped, TCP resends it. */
		vrq_stat_add(q, VRQ_STAT_drop_no_buf, (uint64_t)(n - j));
		ret = VRQ_RX_DONE;
	}
	for (j = 0; j < n; j++)
		if (out[j] != m)
			rte_pktmbuf_free(out[j]);
	return ret;
}

int
vrq_offload_sw(struct vrq *q, struct rte_mbuf *m, struct rte_mbuf **out, uint16_t nb_out)
{
	uint64_t f = q->features, ol = m->ol_flags, capa = 0;
	bool gso_sw = false, csum_sw;
	struct rte_mbuf *s;
	int n;

	if (f & VRQ_FBIT(VRQ_F_NET_GUEST_CSUM)) {
		capa |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		if ((ol & RTE_MBUF_F_TX_IPV4) ? (f & VRQ_FBIT(VRQ_F_NET_GUEST_TSO4))
					      : (f & VRQ_FBIT(VRQ_F_NET_GUEST_TSO6)))
			capa |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	}
	if ((ol & RTE_MBUF_F_TX_TCP_SEG) && !(capa & RTE_ETH_TX_OFFLOAD_TCP_TSO))
		gso_sw = true;
	/* Only count work actually done: TSO of one IP version may need none. */
	csum_sw = (ol & RTE_MBUF_F_TX_IP_CKSUM) ||
		  ((ol & RTE_MBUF_F_TX_L4_MASK) && !(capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM));
	/*
	 * vrq_offload_complete() consumes the original when it segments; our
	 * caller frees what the burst reports as sent. An extra reference per
	 * segment keeps both rules true.
	 */
	for (s = m; s != NULL; s = s->next)
		rte_mbuf_refcnt_update(s, 1);
	n = vrq_offload_complete(m, capa, out, nb_out);
	if (n < 0 || out[0] == m)
		for (s = m; s != NULL; s = s->next)
			rte_mbuf_refcnt_update(s, -1);
	if (n <= 0) {
		vrq_stat_add(q, gso_sw ? VRQ_STAT_err_gso : VRQ_STAT_err_csum, 1);
		return n < 0 ? n : -EINVAL;
	}
	if (gso_sw)
		vrq_stat_add(q, VRQ_STAT_sw_gso, 1);
	else if (csum_sw)
		vrq_stat_add(q, VRQ_STAT_sw_csum, 1);
	return n;
}
