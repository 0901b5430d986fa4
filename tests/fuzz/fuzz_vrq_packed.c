/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packed virtqueue datapath (virtio_ring/vrq_packed.c).
 * The input plays a hostile guest: a 2-byte header picks the ring size, the
 * direction and the features (MRG_RXBUF, INDIRECT_DESC, EVENT_IDX), then
 * fixed-size 8-byte action records (QEMU's virtio-net fuzz style) write raw
 * descriptors anywhere in the ring or in an indirect-table area, post
 * well-formed chains at the driver's position, set the driver event, and run
 * dequeue or enqueue bursts. Buffers live in a window that straddles two
 * touching regions; some addresses fall in a gap or overflow.
 *
 * Invariants checked after every burst (a violation traps): no more packets
 * than asked for; every returned mbuf chain consistent; the device's used
 * position equal to its avail position (every chain taken in a burst is
 * completed in that burst, a rolled-back reservation is not taken); no mbuf
 * leaked once the returned ones are freed. Sanitizers catch the rest.
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

#define F_DATA_GPA (0x1400000ULL - 0x8000) /* 64 KiB window over regions 2 and 3 */
#define F_DATA_LEN 0x10000
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
	uint8_t id;
	uint8_t addr;
};

static struct vrq_guest f_g;
static struct rte_mempool *f_mp;
static struct vrq *f_q[2]; /* [0] guest RX (enqueue), [1] guest TX (dequeue) */
static uint64_t f_desc_gpa, f_drv_gpa, f_dev_gpa, f_tbl_gpa;

/* State of the well-behaved part of the driver (op 7). */
static uint16_t f_avail_idx;
static bool f_avail_wrap;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	f_mp = vrq_guest_eal_init_log("fuzz", "fuzz_vrq_packed", "128", "*:crit", 4095,
				      2048 + RTE_PKTMBUF_HEADROOM);
	if (f_mp == NULL || vrq_guest_init_default(&f_g) != 0)
		abort();
	f_desc_gpa = vrq_guest_alloc_in(&f_g, 0, vrq_packed_desc_bytes(256), 16);
	f_drv_gpa = vrq_guest_alloc_in(&f_g, 1, sizeof(struct vrq_packed_event), 4);
	f_dev_gpa = vrq_guest_alloc_in(&f_g, 2, sizeof(struct vrq_packed_event), 4);
	f_tbl_gpa = vrq_guest_alloc_in(&f_g, 1, F_TBL_ENTRIES * sizeof(struct vrq_packed_desc), 16);
	for (i = 0; i < 2; i++) {
		f_q[i] = vrq_create("fuzz", (uint16_t)i, SOCKET_ID_ANY);
		if (f_q[i] == NULL)
			abort();
		vrq_set_mem(f_q[i], vrq_guest_mem(&f_g));
	}
	return 0;
}

static uint64_t
f_addr(uint8_t sel)
{
	if (sel < 240)
		return F_DATA_GPA + (uint64_t)sel * (F_DATA_LEN / 240);
	if (sel < 244)
		return VRQ_GUEST_GAP_GPA + sel;
	if (sel < 248)
		return UINT64_MAX - 64 * (sel - 243);
	return f_tbl_gpa + (uint64_t)(sel - 248) * 16;
}

static void
f_desc_write(struct vrq_packed_desc *d, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	d->addr = rte_cpu_to_le_64(addr);
	d->len = rte_cpu_to_le_32(len);
	d->id = rte_cpu_to_le_16(id);
	__atomic_store_n(&d->flags, rte_cpu_to_le_16(flags), __ATOMIC_RELEASE);
}

/* A well-formed chain of nb descriptors at the driver's position, head flags last. */
static void
f_post(struct vrq_packed_desc *ring, uint16_t size, const struct f_rec *r, bool rx)
{
	uint16_t nb = (uint16_t)(1 + r->slot % 4), i, slot = f_avail_idx, head_flags = 0;
	uint16_t wflag = rx ? VRQ_DESC_F_WRITE : 0;
	bool wrap = f_avail_wrap;

	for (i = 0; i < nb; i++) {
		uint16_t fl = (uint16_t)(wflag | (i + 1 < nb ? VRQ_DESC_F_NEXT : 0) |
					 (wrap ? VRQ_DESC_F_AVAIL : VRQ_DESC_F_USED));
		uint32_t len = 1 + (uint32_t)(r->len % 3000);
		uint64_t addr =
		    F_DATA_GPA + ((uint64_t)r->addr * 97 + i * 1031) % (F_DATA_LEN - len);

		if (i == 0) {
			head_flags = fl;
			ring[slot].addr = rte_cpu_to_le_64(addr);
			ring[slot].len = rte_cpu_to_le_32(len);
			ring[slot].id = rte_cpu_to_le_16((uint16_t)(r->id % size));
		} else {
			f_desc_write(&ring[slot], addr, len, (uint16_t)(r->id % size), fl);
		}
		if (++slot == size) {
			slot = 0;
			wrap = !wrap;
		}
	}
	__atomic_store_n(&ring[f_avail_idx].flags, rte_cpu_to_le_16(head_flags), __ATOMIC_RELEASE);
	f_avail_idx = slot;
	f_avail_wrap = wrap;
}

static struct rte_mbuf *
f_pkt(uint32_t len, uint32_t seg)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	uint32_t off;

	for (off = 0; off < len; off += seg) {
		uint16_t n = (uint16_t)RTE_MIN(seg, len - off);

		m = rte_pktmbuf_alloc(f_mp);
		if (m == NULL)
			break;
		memset(rte_pktmbuf_append(m, n), (int)(off & 0xff), n);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
	}
	return head;
}

/* Every chain taken in a burst is completed in it: used position == avail position. */
static void
f_check_positions(const struct vrq *q)
{
	F_CHECK(q->last_used_idx == q->last_avail_idx);
	F_CHECK(q->used_wrap == q->avail_wrap);
	F_CHECK(q->last_avail_idx < q->size);
}

static void
f_burst(struct vrq *q, const struct f_rec *r, bool rx)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	uint16_t nb, n, i;

	if (rx) {
		nb = (uint16_t)(1 + r->len % 4);
		for (i = 0; i < nb; i++) {
			pkts[i] = f_pkt(1 + ((uint32_t)r->flags * 7 + i * 1500u) % 9216,
					64 + (uint32_t)r->addr * 7);
			if (pkts[i] == NULL)
				break;
		}
		nb = i;
		n = vrq_enqueue_burst(q, pkts, nb);
		F_CHECK(n <= nb);
		rte_pktmbuf_free_bulk(pkts, nb);
	} else {
		nb = (uint16_t)(r->len % (VRQ_BURST_MAX + 1));
		n = vrq_dequeue_burst(q, f_mp, pkts, nb);
		F_CHECK(n <= nb);
		for (i = 0; i < n; i++) {
			const struct rte_mbuf *s;
			uint32_t sum = 0;
			uint16_t segs = 0;

			for (s = pkts[i]; s != NULL; s = s->next) {
				sum += s->data_len;
				segs++;
			}
			F_CHECK(sum == pkts[i]->pkt_len && segs == pkts[i]->nb_segs);
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
	f_check_positions(q);
	F_CHECK(rte_mempool_in_use_count(f_mp) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t sizes[] = {8, 16, 64, 256};
	struct vrq_packed_desc *ring;
	struct vrq_packed_event *drv;
	struct vrq_setup s;
	struct vrq *q;
	uint16_t qsize;
	size_t off;
	bool rx;

	if (size < 2)
		return 0;
	qsize = sizes[data[0] & 3];
	rx = (data[0] & 4) != 0;
	q = f_q[rx ? 0 : 1];
	ring = vrq_guest_gva(&f_g, f_desc_gpa, vrq_packed_desc_bytes(qsize));
	drv = vrq_guest_gva(&f_g, f_drv_gpa, sizeof(*drv));
	memset(ring, 0, vrq_packed_desc_bytes(qsize));
	memset(drv, 0, sizeof(*drv));
	memset(vrq_guest_gva(&f_g, f_tbl_gpa, F_TBL_ENTRIES * 16), 0, F_TBL_ENTRIES * 16);
	f_avail_idx = 0;
	f_avail_wrap = true;

	memset(&s, 0, sizeof(s));
	s.size = qsize;
	s.features = VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_RING_PACKED);
	if (data[1] & 1)
		s.features |= VRQ_FBIT(VRQ_F_NET_MRG_RXBUF);
	if (data[1] & 2)
		s.features |= VRQ_FBIT(VRQ_F_INDIRECT_DESC);
	if (data[1] & 4)
		s.features |= VRQ_FBIT(VRQ_F_EVENT_IDX);
	if (data[1] & 8)
		s.features |= VRQ_FBIT(VRQ_F_NET_GUEST_CSUM);
	s.desc_hva = vrq_guest_hva(&f_g, f_desc_gpa, vrq_packed_desc_bytes(qsize));
	s.avail_hva = vrq_guest_hva(&f_g, f_drv_gpa, sizeof(struct vrq_packed_event));
	s.used_hva = vrq_guest_hva(&f_g, f_dev_gpa, sizeof(struct vrq_packed_event));
	s.base = 0x8000;
	s.call_fd = -1;
	s.err_fd = -1;
	vrq_lock(q);
	if (vrq_start(q, &s) != 0)
		abort();
	vrq_unlock(q);

	for (off = 2; off + sizeof(struct f_rec) <= size; off += sizeof(struct f_rec)) {
		struct f_rec r;

		memcpy(&r, data + off, sizeof(r));
		switch (r.op & 7) {
		case 0:
		case 1:
		case 2:
			f_desc_write(&ring[r.slot % qsize], f_addr(r.addr), r.len, r.id, r.flags);
			break;
		case 3: {
			struct vrq_packed_desc e;
			uint64_t gpa = f_tbl_gpa + (uint64_t)(r.slot % F_TBL_ENTRIES) * 16;

			e.addr = rte_cpu_to_le_64(f_addr(r.addr));
			e.len = rte_cpu_to_le_32(r.len);
			e.id = rte_cpu_to_le_16(r.id);
			e.flags = rte_cpu_to_le_16(r.flags);
			vrq_guest_write(&f_g, gpa, &e, sizeof(e));
			break;
		}
		case 4:
		case 5:
			f_burst(q, &r, rx);
			break;
		case 6:
			drv->off_wrap = rte_cpu_to_le_16(r.len);
			__atomic_store_n(&drv->flags, rte_cpu_to_le_16(r.flags & 3),
					 __ATOMIC_RELEASE);
			break;
		default:
			f_post(ring, qsize, &r, rx);
			break;
		}
	}
	/* A final burst so that every input exercises the datapath once. */
	{
		struct f_rec last = {4, 0, 0, VRQ_BURST_MAX, 0, 0};

		f_burst(q, &last, rx);
	}
	vrq_lock(q);
	vrq_stop(q);
	vrq_unlock(q);
	return 0;
}
