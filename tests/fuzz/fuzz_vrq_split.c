/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the split virtqueue datapath (virtio_ring/vrq_split.c,
 * vrq_copy.c). The input plays a hostile guest. A 2-byte header picks the
 * direction (guest TX: dequeue, guest RX: enqueue) and the features
 * (VERSION_1, MRG_RXBUF, INDIRECT_DESC, EVENT_IDX, guest offloads). Then
 * fixed-size 12-byte records (QEMU's virtio-net fuzz style) write raw
 * descriptors, indirect-table entries, avail ring entries, avail->idx and
 * the suppression fields, and run bursts. Addresses land in a data window
 * that straddles two touching regions, in an indirect-table area, in a gap
 * between regions, in the ring itself, or near UINT64_MAX.
 *
 * Invariants checked after every burst (a violation traps): no more packets
 * than asked for; every returned mbuf passes rte_mbuf_check(); used->idx
 * equals the device's avail position (every chain taken in a burst is
 * completed in that burst; a rolled-back reservation is not taken); every
 * published used id is < size; no mbuf leaked once the returned ones are
 * freed. The sanitizers catch the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vrq.h"
#include "vrq_guest.h"
#include "vrq_internal.h"
#include "vrq_ring.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define F_RING 64
#define F_DATA_GPA (0x1400000ULL - 0x8000) /* 64 KiB window over regions 2 and 3 */
#define F_TBL_ENTRIES 32
#define F_CHECK(x)                        \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

struct f_rec {
	uint8_t op;
	uint8_t slot;
	uint16_t flags;
	uint16_t len;
	uint16_t next;
	uint32_t addr;
};

static struct vrq_guest f_g;
static struct vrq_guest_split f_s;
static struct rte_mempool *f_mp;
static struct vrq *f_q;
static uint64_t f_tbl_gpa;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	f_mp = vrq_guest_eal_init_log("fuzz", "fuzz_vrq_split", "128", "*:crit", 4095,
				      RTE_MBUF_DEFAULT_BUF_SIZE);
	if (f_mp == NULL || vrq_guest_init_default(&f_g) != 0 ||
	    vrq_guest_split_init(&f_s, &f_g, F_RING, 0) != 0)
		abort();
	f_tbl_gpa = vrq_guest_alloc_in(&f_g, 1, F_TBL_ENTRIES * sizeof(struct vrq_desc), 16);
	if (f_tbl_gpa == 0)
		abort();
	return 0;
}

/* Map a record's address selector to a guest address: mostly valid, some hostile. */
static uint64_t
f_addr(uint32_t a)
{
	switch (a >> 29) {
	case 0:
	case 1:
	case 2:
		return F_DATA_GPA + (a & 0xffff);
	case 3:
		return f_tbl_gpa + (a & 0x1ff);
	case 4:
		return f_s.desc_gpa + (a & 0x3ff);
	case 5:
		return VRQ_GUEST_GAP_GPA + (a & 0xfff);
	case 6:
		return UINT64_MAX - (a & 0xffff);
	default:
		return (uint64_t)a << 12;
	}
}

static void
f_desc_write(struct vrq_desc *d, const struct f_rec *r)
{
	d->addr = rte_cpu_to_le_64(f_addr(r->addr));
	d->len = rte_cpu_to_le_32(r->len);
	d->flags = rte_cpu_to_le_16(r->flags);
	d->next = rte_cpu_to_le_16(r->next);
}

static void
f_check_used(uint16_t old_used)
{
	uint16_t used = vrq_guest_split_used_idx(&f_s), i;

	F_CHECK(vrq_is_broken(f_q) || used == f_q->last_avail_idx);
	F_CHECK((uint16_t)(used - old_used) <= F_RING);
	for (i = old_used; i != used; i++)
		F_CHECK(rte_le_to_cpu_32(f_s.used->ring[i & (F_RING - 1)].id) < F_RING);
}

static void
f_dequeue(uint16_t nb)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	uint16_t old_used = vrq_guest_split_used_idx(&f_s), n, i;
	const char *reason;

	n = vrq_dequeue_burst(f_q, f_mp, pkts, nb);
	F_CHECK(n <= nb);
	for (i = 0; i < n; i++)
		F_CHECK(rte_mbuf_check(pkts[i], 1, &reason) == 0);
	f_check_used(old_used);
	rte_pktmbuf_free_bulk(pkts, n);
	F_CHECK(rte_mempool_in_use_count(f_mp) == 0);
}

static void
f_enqueue(uint16_t nb, uint32_t len, uint16_t flags)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	uint16_t old_used = vrq_guest_split_used_idx(&f_s), n, i;

	for (i = 0; i < nb; i++) {
		uint32_t left = len, seg;
		struct rte_mbuf *m = rte_pktmbuf_alloc(f_mp);

		if (m == NULL)
			abort();
		for (seg = 0; left > 0; seg++) {
			struct rte_mbuf *cur = m;
			uint16_t n_app;
			char *p;

			if (seg > 0) {
				cur = rte_pktmbuf_alloc(f_mp);
				if (cur == NULL)
					abort();
			}
			n_app = (uint16_t)RTE_MIN(left, 1500u);
			p = rte_pktmbuf_append(cur, n_app);
			memset(p, (int)(seg + i), n_app);
			left -= n_app;
			if (seg > 0 && rte_pktmbuf_chain(m, cur) != 0)
				abort();
		}
		/* Offload requests with hostile lengths, for the header mapping and sw path. */
		m->ol_flags = (uint64_t)(flags & 0x3) << 52; /* TX_L4 field */
		if (flags & 0x4)
			m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
		m->ol_flags |= (flags & 0x8) ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4;
		if (flags & 0x10)
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		m->l2_len = 14;
		m->l3_len = (flags & 0x8) ? 40 : 20;
		m->l4_len = (flags & 0x20) ? 8 : 20;
		m->tso_segsz = (uint16_t)((flags >> 6) * 16);
		pkts[i] = m;
	}
	n = vrq_enqueue_burst(f_q, pkts, nb);
	F_CHECK(n <= nb);
	f_check_used(old_used);
	rte_pktmbuf_free_bulk(pkts, nb);
	F_CHECK(rte_mempool_in_use_count(f_mp) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t feat_bits[] = {
	    VRQ_FBIT(VRQ_F_VERSION_1),      VRQ_FBIT(VRQ_F_NET_MRG_RXBUF),
	    VRQ_FBIT(VRQ_F_INDIRECT_DESC),  VRQ_FBIT(VRQ_F_EVENT_IDX),
	    VRQ_FBIT(VRQ_F_NET_GUEST_CSUM), VRQ_FBIT(VRQ_F_NET_GUEST_TSO4),
	    VRQ_FBIT(VRQ_F_NET_GUEST_TSO6), VRQ_FBIT(VRQ_F_IN_ORDER),
	};
	struct vrq_desc *tbl;
	struct vrq_setup su;
	uint64_t features = 0;
	unsigned int i;
	bool tx;

	if (size < 2)
		return 0;
	for (i = 0; i < RTE_DIM(feat_bits); i++)
		if (data[0] & (1u << i))
			features |= feat_bits[i];
	tx = data[1] & 1;
	data += 2;
	size -= 2;

	memset(f_s.desc, 0, vrq_split_desc_bytes(F_RING));
	memset(f_s.avail, 0, vrq_split_avail_bytes(F_RING));
	memset(f_s.used, 0, vrq_split_used_bytes(F_RING));
	tbl = vrq_guest_gva(&f_g, f_tbl_gpa, F_TBL_ENTRIES * sizeof(*tbl));
	memset(tbl, 0, F_TBL_ENTRIES * sizeof(*tbl));
	f_s.features = features;
	f_q = vrq_create("fuzz", tx ? 1 : 0, SOCKET_ID_ANY);
	if (f_q == NULL)
		abort();
	vrq_set_mem(f_q, vrq_guest_mem(&f_g));
	vrq_guest_split_setup(&f_s, &su);
	su.call_fd = -1;
	if (vrq_start(f_q, &su) != 0)
		abort();

	for (; size >= sizeof(struct f_rec);
	     data += sizeof(struct f_rec), size -= sizeof(struct f_rec)) {
		struct f_rec r;

		memcpy(&r, data, sizeof(r));
		switch (r.op % 8) {
		case 0:
			f_desc_write(&f_s.desc[r.slot % F_RING], &r);
			break;
		case 1:
			f_desc_write(&tbl[r.slot % F_TBL_ENTRIES], &r);
			break;
		case 2:
			f_s.avail->ring[r.slot % F_RING] = rte_cpu_to_le_16(r.next);
			break;
		case 3:
			vrq_guest_split_avail_idx_set(&f_s, r.next);
			break;
		case 4: /* a well-formed chain of one buffer, posted in driver order */
			f_s.avail->ring[f_s.avail_idx % F_RING] = rte_cpu_to_le_16(r.slot % F_RING);
			f_s.avail_idx = (uint16_t)(f_q->last_avail_idx + (r.next % (F_RING + 1)));
			vrq_guest_split_publish(&f_s);
			break;
		case 5:
			vrq_guest_split_used_event_set(&f_s, r.next);
			vrq_guest_split_no_interrupt(&f_s, r.flags & 1);
			break;
		case 6:
			if (tx)
				f_dequeue((uint16_t)(r.slot % (VRQ_BURST_MAX + 1)));
			else
				f_enqueue((uint16_t)(r.slot % 9), r.len % 9300u, r.flags);
			break;
		default: /* guest payload bytes, so headers vary */
			vrq_guest_fill(&f_g, F_DATA_GPA + (r.addr & 0xffff), (uint8_t)r.flags,
				       r.len % 64);
			break;
		}
	}
	vrq_stop(f_q);
	vrq_free(f_q);
	f_q = NULL;
	return 0;
}
