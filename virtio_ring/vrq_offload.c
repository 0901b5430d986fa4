/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software completion of TX offloads. A packet that reaches a guest may carry
 * TX offload requests (RTE_MBUF_F_TX_*: L4 checksum, IPv4 header checksum,
 * TCP segmentation) that the receiving side did not negotiate (no GUEST_CSUM,
 * no GUEST_TSO4/6). This file finishes that work on the CPU: it fills the
 * checksums in place, and splits a TSO packet into MSS-sized TCP segments,
 * each a fresh mbuf chain with its own IPv4/IPv6 and TCP header (lengths,
 * IPv4 id, sequence number, FIN/PSH on the last segment only, CWR on the
 * first only, checksums).
 *
 * The packet comes from a peer port or from a guest (through the virtio-net
 * header), so l2_len/l3_len/l4_len and the headers themselves are checked
 * against the packet before use; a packet that does not parse is returned to
 * the caller with -EINVAL, never half-modified.
 *
 * This is a slow path (a guest that negotiates no offloads, or a peer that
 * hands TSO to a port that cannot do it); it copies rather than reference the
 * payload so that segments own their data and can be freed in any order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vrq_internal.h"

/* l2_len (7 bits) + l3_len (9 bits) + a TCP header (at most 60 bytes) fits. */
#define VRQ_OL_HDR_MAX 1024
/* Upper bound of mbufs in one output segment: bounds the stack array. */
#define VRQ_OL_SEG_MBUFS_MAX 64

#define VRQ_OL_TCP_FIN 0x01
#define VRQ_OL_TCP_PSH 0x08
#define VRQ_OL_TCP_CWR 0x80

/* The headers of one packet, copied out of the (possibly segmented) mbuf. */
struct vrq_ol_hdrs {
	uint8_t buf[VRQ_OL_HDR_MAX];
	uint32_t l2, l3, l4; /* lengths; l4 is the L4 header length */
	uint32_t l4_bytes;   /* L4 header + payload, as the IP header says (no padding) */
	bool v4;
	uint8_t proto;     /* IPPROTO_TCP or IPPROTO_UDP, 0 for none */
	uint16_t csum_off; /* offset of the L4 checksum inside the L4 header */
};

static uint16_t
vrq_ol_fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

/*
 * Pseudo-header sum (RFC 793 / RFC 8200 8.1), in the same memory-order
 * representation that rte_raw_cksum() returns, not complemented.
 */
static uint32_t
vrq_ol_phdr_sum(const struct vrq_ol_hdrs *h, uint32_t l4_bytes)
{
	const uint8_t *ip = h->buf + h->l2;
	uint32_t sum;

	if (h->v4)
		sum = rte_raw_cksum(ip + offsetof(struct rte_ipv4_hdr, src_addr), 8);
	else
		sum = rte_raw_cksum(ip + offsetof(struct rte_ipv6_hdr, src_addr), 32);
	sum += rte_cpu_to_be_16((uint16_t)(l4_bytes >> 16));
	sum += rte_cpu_to_be_16((uint16_t)l4_bytes);
	sum += rte_cpu_to_be_16(h->proto);
	return sum;
}

/*
 * Non-complemented sum of len packet bytes from off, across segments (also
 * vrq_copy.c's software checksum on guest TX). Not rte_raw_cksum_mbuf():
 * DPDK 22.11's truncates the partial sum of a segment to 16 bits before
 * byte-swapping it after an odd-length segment, losing the carries
 * (test_vrq_offload's odd split points catch it).
 */
int
vrq_mbuf_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *out)
{
	uint32_t sum = 0, done = 0, n;
	uint16_t part;

	if (off + len > m->pkt_len || off + len < off)
		return -EINVAL;
	for (; m != NULL && done < len; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		n = RTE_MIN(len - done, (uint32_t)m->data_len - off);
		part = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		/* After an odd number of bytes, this part's words straddle: swap. */
		sum += (done & 1) ? rte_bswap16(part) : part;
		done += n;
		off = 0;
	}
	if (done != len)
		return -EINVAL;
	*out = vrq_ol_fold(sum);
	return 0;
}

/* Copy len bytes from src into the packet at off, across segments. */
int
vrq_mbuf_write(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	uint32_t n;

	if (off + len > m->pkt_len || off + len < off)
		return -EINVAL;
	for (; m != NULL && len > 0; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		n = RTE_MIN(len, (uint32_t)m->data_len - off);
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, off), s, n);
		s += n;
		len -= n;
		off = 0;
	}
	return len == 0 ? 0 : -EINVAL;
}

/* Copy len bytes of the packet at off into dst. */
static int
vrq_ol_read(const struct rte_mbuf *m, uint32_t off, void *dst, uint32_t len)
{
	const void *p;

	if (len == 0)
		return 0;
	p = rte_pktmbuf_read(m, off, len, dst);
	if (p == NULL)
		return -EINVAL;
	if (p != dst)
		memcpy(dst, p, len);
	return 0;
}

static void
vrq_ol_ipv4_csum(struct vrq_ol_hdrs *h)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h->buf + h->l2);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, h->l3);
}

/*
 * Copy the headers out and check them against the mbuf metadata: the IP
 * version, the lengths, the L4 protocol. @p proto is what the flags ask for.
 */
static int
vrq_ol_parse(const struct rte_mbuf *m, uint8_t proto, bool tso, struct vrq_ol_hdrs *h)
{
	uint64_t ol = m->ol_flags;
	const struct rte_tcp_hdr *th;
	uint32_t want;
	uint8_t ver;

	h->l2 = m->l2_len;
	h->l3 = m->l3_len;
	h->proto = proto;
	want = h->l2 + h->l3 + (proto == IPPROTO_UDP ? sizeof(struct rte_udp_hdr) : 0) +
	       (proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) : 0);
	if (h->l3 == 0 || want > m->pkt_len || vrq_ol_read(m, 0, h->buf, want) < 0)
		return -EINVAL;
	ver = h->buf[h->l2] >> 4;
	if (ol & RTE_MBUF_F_TX_IPV4)
		h->v4 = true;
	else if (ol & RTE_MBUF_F_TX_IPV6)
		h->v4 = false;
	else
		h->v4 = ver == 4;
	if (h->v4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(h->buf + h->l2);
		uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;

		if (ver != 4 || ihl < sizeof(*ip) || ihl != h->l3)
			return -EINVAL;
		if (proto != 0 && ip->next_proto_id != proto)
			return -EINVAL;
		h->l4_bytes = rte_be_to_cpu_16(ip->total_length) - h->l3;
		if (rte_be_to_cpu_16(ip->total_length) < h->l3)
			return -EINVAL;
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(h->buf + h->l2);

		if (ver != 6 || h->l3 < sizeof(*ip))
			return -EINVAL;
		/* Extension headers are the caller's business; without them, check. */
		if (h->l3 == sizeof(*ip) && proto != 0 && ip->proto != proto)
			return -EINVAL;
		h->l4_bytes = rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip) - h->l3;
		if (rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip) < h->l3)
			return -EINVAL;
	}
	/*
	 * A TSO packet's IP length may be stale or zero (it is rewritten per
	 * segment); otherwise trust the IP length, which excludes Ethernet padding.
	 */
	if (tso)
		h->l4_bytes = m->pkt_len - h->l2 - h->l3;
	else if (h->l2 + h->l3 + h->l4_bytes > m->pkt_len)
		return -EINVAL;
	h->l4 = 0;
	if (proto == IPPROTO_UDP) {
		h->l4 = sizeof(struct rte_udp_hdr);
		h->csum_off = offsetof(struct rte_udp_hdr, dgram_cksum);
		if (h->l4 > h->l4_bytes)
			return -EINVAL;
	} else if (proto == IPPROTO_TCP) {
		th = (const struct rte_tcp_hdr *)(h->buf + h->l2 + h->l3);
		h->l4 = (uint32_t)(th->data_off >> 4) * 4;
		h->csum_off = offsetof(struct rte_tcp_hdr, cksum);
		if (h->l4 < sizeof(*th) || h->l4 > h->l4_bytes)
			return -EINVAL;
		if (vrq_ol_read(m, want, h->buf + want, h->l2 + h->l3 + h->l4 - want) < 0)
			return -EINVAL;
	}
	return 0;
}

/* Store the 16-bit L4 checksum field in h->buf. */
static void
vrq_ol_set_l4_csum(struct vrq_ol_hdrs *h, uint16_t v)
{
	memcpy(h->buf + h->l2 + h->l3 + h->csum_off, &v, sizeof(v));
}

/* Full L4 checksum of m (its headers equal h->buf, checksum field zero). */
static int
vrq_ol_l4_csum(const struct rte_mbuf *m, const struct vrq_ol_hdrs *h, uint16_t *csum)
{
	uint32_t off = h->l2 + h->l3;
	uint16_t raw;
	uint16_t v;

	if (vrq_mbuf_sum(m, off, h->l4_bytes, &raw) != 0)
		return -EINVAL;
	v = (uint16_t)~vrq_ol_fold(vrq_ol_phdr_sum(h, h->l4_bytes) + raw);
	/* RFC 768: a computed zero is sent as all ones (zero means "no checksum"). */
	if (v == 0 && h->proto == IPPROTO_UDP)
		v = 0xffff;
	*csum = v;
	return 0;
}

/* Checksums only: completed in place, the packet stays one packet. */
static int
vrq_ol_csum(struct rte_mbuf *m, bool ip_csum, uint8_t proto)
{
	struct vrq_ol_hdrs h;
	uint16_t csum;
	int rc;

	rc = vrq_ol_parse(m, proto, false, &h);
	if (rc < 0)
		return rc;
	if (ip_csum && !h.v4)
		return -EINVAL;
	if (ip_csum)
		vrq_ol_ipv4_csum(&h);
	if (proto != 0) {
		vrq_ol_set_l4_csum(&h, 0);
		/* Write the zeroed field first: the sum runs over the packet itself. */
		rc = vrq_mbuf_write(m, 0, h.buf, h.l2 + h.l3 + h.l4);
		if (rc < 0)
			return rc;
		rc = vrq_ol_l4_csum(m, &h, &csum);
		if (rc < 0)
			return rc;
		vrq_ol_set_l4_csum(&h, csum);
	}
	rc = vrq_mbuf_write(m, 0, h.buf, h.l2 + h.l3 + h.l4);
	if (rc < 0)
		return rc;
	if (ip_csum)
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	if (proto != 0)
		m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	return 0;
}

/*
 * Lay hdr (hdr_len bytes) then plen payload bytes of src at src_off into the
 * chain segs[0..nb), each mbuf filled up to its tailroom.
 */
static int
vrq_ol_fill(struct rte_mbuf **segs, uint16_t nb, const uint8_t *hdr, uint32_t hdr_len,
	    const struct rte_mbuf *src, uint32_t src_off, uint32_t plen)
{
	uint32_t hdr_done = 0, pay_done = 0, room, n;
	uint16_t i;
	uint8_t *dst;

	/* Link first, so that freeing segs[0] frees everything on any error. */
	for (i = 1; i < nb; i++)
		segs[i - 1]->next = segs[i];
	segs[0]->nb_segs = nb;
	segs[0]->pkt_len = hdr_len + plen;
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *s = segs[i];

		room = rte_pktmbuf_tailroom(s);
		dst = rte_pktmbuf_mtod(s, uint8_t *);
		s->data_len = 0;
		n = RTE_MIN(room, hdr_len - hdr_done);
		memcpy(dst, hdr + hdr_done, n);
		hdr_done += n;
		room -= n;
		s->data_len = (uint16_t)n;
		n = RTE_MIN(room, plen - pay_done);
		if (vrq_ol_read(src, src_off + pay_done, dst + s->data_len, n) < 0)
			return -EINVAL;
		pay_done += n;
		s->data_len = (uint16_t)(s->data_len + n);
	}
	return hdr_done == hdr_len && pay_done == plen ? 0 : -EINVAL;
}

/*
 * TCP segmentation (RFC 9293 rules that a NIC's TSO follows): every segment
 * gets the original headers with the length fields, IPv4 id and sequence
 * number advanced; FIN and PSH stay on the last segment, CWR on the first.
 */
static int
vrq_ol_tso(struct rte_mbuf *pkt, uint64_t tx_capa, struct rte_mbuf **out, uint16_t nb_out)
{
	struct rte_mbuf *segs[VRQ_OL_SEG_MBUFS_MAX];
	struct vrq_ol_hdrs h;
	struct rte_ipv4_hdr *ip4;
	struct rte_ipv6_hdr *ip6;
	struct rte_tcp_hdr *th;
	uint32_t hdrs, payload, mss, room, plen, off, seq0, i, nb;
	bool ip_hw, l4_hw;
	uint16_t id0, ipv6_ext, need, csum;
	uint8_t flags0;
	uint64_t ol;
	int rc;

	mss = pkt->tso_segsz;
	if (mss == 0 || pkt->pool == NULL)
		return -EINVAL;
	rc = vrq_ol_parse(pkt, IPPROTO_TCP, true, &h);
	if (rc < 0)
		return rc;
	hdrs = h.l2 + h.l3 + h.l4;
	payload = pkt->pkt_len - hdrs;
	nb = payload == 0 ? 1 : (payload + mss - 1) / mss;
	if (nb > nb_out)
		return -ENOSPC;
	room = rte_pktmbuf_data_room_size(pkt->pool);
	if (room <= RTE_PKTMBUF_HEADROOM + hdrs)
		return -ENOTSUP; /* each segment's headers must be contiguous */
	room -= RTE_PKTMBUF_HEADROOM;

	ol = pkt->ol_flags;
	ip_hw = h.v4 && (ol & RTE_MBUF_F_TX_IP_CKSUM) && (tx_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	l4_hw = (tx_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	ip4 = (struct rte_ipv4_hdr *)(h.buf + h.l2);
	ip6 = (struct rte_ipv6_hdr *)(h.buf + h.l2);
	th = (struct rte_tcp_hdr *)(h.buf + h.l2 + h.l3);
	id0 = rte_be_to_cpu_16(ip4->packet_id);
	ipv6_ext = (uint16_t)(h.l3 - sizeof(struct rte_ipv6_hdr));
	seq0 = rte_be_to_cpu_32(th->sent_seq);
	flags0 = th->tcp_flags;

	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m;

		off = i * mss;
		plen = RTE_MIN(mss, payload - off);
		if (h.v4) {
			ip4->total_length = rte_cpu_to_be_16((uint16_t)(h.l3 + h.l4 + plen));
			ip4->packet_id = rte_cpu_to_be_16((uint16_t)(id0 + i));
			if (ip_hw)
				ip4->hdr_checksum = 0;
			else
				vrq_ol_ipv4_csum(&h);
		} else {
			ip6->payload_len = rte_cpu_to_be_16((uint16_t)(ipv6_ext + h.l4 + plen));
		}
		h.l4_bytes = h.l4 + plen;
		th->sent_seq = rte_cpu_to_be_32(seq0 + off);
		th->tcp_flags = flags0;
		if (i + 1 < nb)
			th->tcp_flags &= (uint8_t) ~(VRQ_OL_TCP_FIN | VRQ_OL_TCP_PSH);
		if (i > 0)
			th->tcp_flags &= (uint8_t)~VRQ_OL_TCP_CWR;
		/* The receiver completes it from the pseudo-header sum (DPDK and virtio rule). */
		vrq_ol_set_l4_csum(&h, l4_hw ? vrq_ol_fold(vrq_ol_phdr_sum(&h, h.l4_bytes)) : 0);

		need = (uint16_t)((hdrs + plen + room - 1) / room);
		if (need == 0 || need > VRQ_OL_SEG_MBUFS_MAX) {
			rc = -ENOTSUP;
			goto err;
		}
		if (rte_pktmbuf_alloc_bulk(pkt->pool, segs, need) != 0) {
			rc = -ENOMEM;
			goto err;
		}
		m = segs[0];
		out[i] = m;
		rc = vrq_ol_fill(segs, need, h.buf, hdrs, pkt, hdrs + off, plen);
		if (rc < 0) {
			i++;
			goto err;
		}
		if (!l4_hw) {
			rc = vrq_ol_l4_csum(m, &h, &csum);
			if (rc < 0) {
				i++;
				goto err;
			}
			*rte_pktmbuf_mtod_offset(m, rte_be16_t *, h.l2 + h.l3 + h.csum_off) = csum;
		}
		m->port = pkt->port;
		m->packet_type = pkt->packet_type;
		m->vlan_tci = pkt->vlan_tci;
		m->vlan_tci_outer = pkt->vlan_tci_outer;
		m->hash = pkt->hash;
		m->tx_offload = pkt->tx_offload;
		m->l4_len = h.l4;
		m->tso_segsz = 0;
		m->ol_flags =
		    ol & ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM);
		if (ip_hw)
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		if (l4_hw)
			m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	}
	rte_pktmbuf_free(pkt);
	return (int)nb;
err:
	while (i-- > 0)
		rte_pktmbuf_free(out[i]);
	return rc;
}

int
vrq_offload_complete(struct rte_mbuf *pkt, uint64_t tx_capa, struct rte_mbuf **out, uint16_t nb_out)
{
	uint64_t ol, l4;
	uint8_t proto = 0;
	bool ip_csum;

	if (pkt == NULL || out == NULL || nb_out == 0)
		return -EINVAL;
	ol = pkt->ol_flags;
	if ((ol & RTE_MBUF_F_TX_TCP_SEG) && !(tx_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO)) {
		if (ol & RTE_MBUF_F_TX_TUNNEL_MASK)
			return -ENOTSUP;
		return vrq_ol_tso(pkt, tx_capa, out, nb_out);
	}
	if ((ol & RTE_MBUF_F_TX_UDP_SEG) && !(tx_capa & RTE_ETH_TX_OFFLOAD_UDP_TSO))
		return -ENOTSUP;

	l4 = ol & RTE_MBUF_F_TX_L4_MASK;
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM && !(tx_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM))
		proto = IPPROTO_TCP;
	else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM && !(tx_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
		proto = IPPROTO_UDP;
	else if (l4 == RTE_MBUF_F_TX_SCTP_CKSUM && !(tx_capa & RTE_ETH_TX_OFFLOAD_SCTP_CKSUM))
		return -ENOTSUP;
	ip_csum = (ol & RTE_MBUF_F_TX_IP_CKSUM) && !(tx_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	if (proto != 0 || ip_csum) {
		int rc;

		if (ol & RTE_MBUF_F_TX_TUNNEL_MASK)
			return -ENOTSUP;
		rc = vrq_ol_csum(pkt, ip_csum, proto);
		if (rc < 0)
			return rc;
	}
	out[0] = pkt;
	return 1;
}
