/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue datapath (virtio 1.2, 2.8): guest TX (dequeue into mbufs)
 * and guest RX (enqueue from mbufs, with and without MRG_RXBUF).
 *
 * The descriptor ring and every buffer are guest memory, written by an
 * untrusted guest concurrently with us. Hence: a descriptor's flags are
 * loaded with acquire before its id, len and addr, and the descriptor is
 * copied once into a local (vrq_packed_desc_read) from which every decision
 * is made; a slot is available only when its AVAIL bit equals our avail wrap
 * counter and its USED bit differs; every chain walk counts hops (ring size,
 * or the indirect table size); every (addr, len) goes through vrq_xlate().
 *
 * Faults that leave the ring position unknown stop the queue through
 * vrq_fail(): a buffer id out of range (err_head), a descriptor inside a
 * chain that is not available or a head with impossible flags (err_wrap), a
 * chain longer than the ring (err_loop). A chain that is well delimited but
 * has bad contents (zero length, wrong direction, address outside memory,
 * bad indirect table) is returned with len 0 and counted, as in vrq_split.c.
 *
 * Completions: id and len, then flags with release; within one flush the
 * first used descriptor is written last, so the driver sees the batch at
 * once. At most one interrupt per burst, only when the driver event asks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vrq_internal.h"

/*
 * Completions buffered per flush: room for one whole mergeable packet (at
 * most VRQ_IOV_MAX buffers) plus the rest of a burst, so that the buffers of
 * one packet are always published in the same flush.
 */
#define VRQ_PACKED_USED_MAX (2 * VRQ_IOV_MAX)

/* vhost-user GET/SET_VRING_BASE for packed rings: idx | wrap << 15. */
#define VRQ_PACKED_WRAP_BIT 15
#define VRQ_PACKED_IDX_MASK 0x7fff

/*
 * One chain taken off the ring. id and nb_desc are 32 bits wide though they
 * hold 16: as two adjacent u16 fields the compiler read them back with one
 * 32-bit load, which cannot be forwarded from two 16-bit stores and so
 * waited for every older store, the burst's guest RX copies included, to
 * reach the cache (84-95 % of a 64 B loopback's samples, perf annotate).
 */
struct vrq_packed_chain {
	uint64_t total;       /* bytes the chain describes */
	enum vrq_stat_id why; /* VRQ_STAT_MAX, or why the chain is refused */
	uint32_t id;          /* buffer id, from the last descriptor (2.8.13) */
	uint32_t nb_desc;     /* ring slots it occupies */
	uint16_t nb_iov;
};

/* A completion to write back: nb_desc slots starting at the next used slot. */
struct vrq_packed_used_ent {
	uint16_t id;
	uint16_t nb_desc;
	uint32_t len;
};

struct vrq_packed_used {
	uint16_t n;
	uint16_t wflag; /* VRQ_DESC_F_WRITE on guest RX completions */
	struct vrq_packed_used_ent e[VRQ_PACKED_USED_MAX];
};

static inline void
vrq_packed_advance(const struct vrq *q, uint16_t *idx, bool *wrap, uint16_t n)
{
	*idx = (uint16_t)(*idx + n);
	if (*idx >= q->size) {
		*idx = (uint16_t)(*idx - q->size);
		*wrap = !*wrap;
	}
}

/* 2.8.1: available in this lap when AVAIL == wrap counter and USED != it. */
static inline bool
vrq_packed_is_avail(uint16_t flags, bool wrap)
{
	/* Both bits in one compare: this runs for every slot. */
	return (flags & (VRQ_DESC_F_AVAIL | VRQ_DESC_F_USED)) ==
	       (wrap ? VRQ_DESC_F_AVAIL : VRQ_DESC_F_USED);
}

/*
 * Mark a host range of the rings dirty. The setup gives no gpa for the
 * descriptor ring or the event areas, so translate back through the region
 * table; only reached while the frontend migrates (q->log set).
 */
static void
vrq_packed_log_hva(struct vrq *q, const void *p, uint64_t len)
{
	const struct vrq_mem *mem = q->mem;
	uint64_t a = (uint64_t)(uintptr_t)p;
	uint32_t i;

	if (mem == NULL)
		return;
	for (i = 0; i < mem->nb_regions && i < VRQ_MEM_REGIONS_MAX; i++) {
		const struct vrq_mem_region *r = &mem->regions[i];

		if (a - r->hva < r->size) {
			vrq_log_write(q, r->gpa + (a - r->hva), len);
			return;
		}
	}
}

int
vrq_packed_start(struct vrq *q, uint16_t base)
{
	uint16_t idx = base & VRQ_PACKED_IDX_MASK;

	if (idx >= q->size)
		return -EINVAL;
	/* Nothing is in flight across a restart: used position = avail position. */
	q->last_avail_idx = idx;
	q->last_used_idx = idx;
	q->avail_wrap = (base >> VRQ_PACKED_WRAP_BIT) != 0;
	q->used_wrap = q->avail_wrap;
	/* We poll: the driver need not kick us (2.8.10). */
	vrq_packed_event_write(q->device_event, VRQ_EVENT_F_DISABLE);
	if (unlikely(q->log != NULL))
		vrq_packed_log_hva(q, q->device_event, sizeof(*q->device_event));
	return 0;
}

/* Read one indirect table entry (16 bytes, possibly straddling two regions) once. */
static int
vrq_packed_ind_read(struct vrq *q, uint64_t gpa, struct vrq_packed_desc *out)
{
	struct vrq_packed_desc raw;

	if (vrq_read_gpa(q, gpa, &raw, sizeof(raw)) != 0)
		return -EFAULT;
	out->addr = rte_le_to_cpu_64(raw.addr);
	out->len = rte_le_to_cpu_32(raw.len);
	out->id = rte_le_to_cpu_16(raw.id);
	out->flags = rte_le_to_cpu_16(raw.flags);
	return 0;
}

/* One data buffer: checks (2.8.x, STYLE.md 2.6) and translation into iov. */
static enum vrq_stat_id
vrq_packed_buf(struct vrq *q, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t want_write,
	       struct vrq_iov *iov, uint16_t nb_iov_max, struct vrq_packed_chain *c)
{
	uint64_t left = len;

	if (unlikely(len == 0))
		return VRQ_STAT_err_zero_len;
	/* TX chains are all device-readable, RX chains all device-writable. */
	if (unlikely((flags & VRQ_DESC_F_WRITE) != want_write))
		return VRQ_STAT_err_order;
	if (unlikely(gpa + left < gpa))
		return VRQ_STAT_err_addr;
	while (left > 0) {
		uint64_t n = left;
		void *hva = vrq_xlate(q, gpa, &n);

		if (unlikely(hva == NULL))
			return VRQ_STAT_err_addr;
		if (unlikely(c->nb_iov == nb_iov_max))
			return VRQ_STAT_drop_oversize;
		iov[c->nb_iov].hva = hva;
		iov[c->nb_iov].len = (uint32_t)n;
		iov[c->nb_iov].gpa = gpa;
		c->nb_iov++;
		gpa += n;
		left -= n;
	}
	c->total += len;
	return VRQ_STAT_MAX;
}

/*
 * An indirect descriptor (2.8.19): a table of len / 16 descriptors used in
 * order; only their WRITE flag counts. Not nested, no NEXT with INDIRECT.
 *
 * On a device-readable chain (guest TX) the WRITE flag of a table entry is
 * ignored rather than refused: DPDK 22.11's virtio PMD presets every entry
 * of its packed TX indirect tables to WRITE (vring_desc_init_indirect_packed)
 * and never rewrites the first one, its virtio-net header, so every
 * multi-segment frame it sends this way would be dropped (err_order). We only
 * read those buffers, so honouring the flag protects nothing; DPDK's own
 * vhost library ignores the flags of packed indirect entries altogether.
 * On guest RX the flag is still required: we never write into a buffer the
 * driver marked device-readable.
 */
static enum vrq_stat_id
vrq_packed_indirect(struct vrq *q, const struct vrq_packed_desc *d, uint16_t want_write,
		    struct vrq_iov *iov, uint16_t nb_iov_max, struct vrq_packed_chain *c)
{
	uint32_t nb = d->len / sizeof(struct vrq_packed_desc), i;
	uint16_t ignore = want_write ? 0 : VRQ_DESC_F_WRITE;
	struct vrq_packed_desc e;
	enum vrq_stat_id why;

	if (unlikely(!q->indirect || (d->flags & VRQ_DESC_F_NEXT) || d->len == 0 ||
		     d->len % sizeof(struct vrq_packed_desc) != 0))
		return VRQ_STAT_err_indirect;
	/* Hop counter: the table's own size bounds the walk. */
	for (i = 0; i < nb; i++) {
		if (unlikely(vrq_packed_ind_read(q, d->addr + (uint64_t)i * sizeof(e), &e) != 0))
			return VRQ_STAT_err_indirect;
		if (unlikely(e.flags & VRQ_DESC_F_INDIRECT))
			return VRQ_STAT_err_indirect;
		why = vrq_packed_buf(q, e.addr, e.len, (uint16_t)(e.flags & ~ignore), want_write,
				     iov, nb_iov_max, c);
		if (unlikely(why != VRQ_STAT_MAX))
			return why;
	}
	return VRQ_STAT_MAX;
}

/*
 * The head slot is not available. A slot not yet rewritten in this lap holds
 * last lap's AVAIL bit (!wrap), whatever its USED bit: the ring is empty.
 * AVAIL == USED == wrap is something no driver writes: stop the queue.
 * @return 0 (empty) or -1 (stopped).
 */
static int
vrq_packed_not_avail(struct vrq *q, uint16_t flags)
{
	if (unlikely(!!(flags & VRQ_DESC_F_AVAIL) == q->avail_wrap)) {
		vrq_fail(q, VRQ_STAT_err_wrap);
		return -1;
	}
	return 0;
}

/*
 * Walk the chain whose head (at last_avail_idx, flags already loaded with
 * acquire and found available) needs more than the one-buffer fast path of
 * vrq_packed_walk(). Same contract as vrq_packed_walk().
 */
static int
vrq_packed_walk_chain(struct vrq *q, uint16_t flags, uint16_t want_write, struct vrq_iov *iov,
		      uint16_t nb_iov_max, struct vrq_packed_chain *c)
{
	uint16_t idx = q->last_avail_idx;
	bool wrap = q->avail_wrap;
	struct vrq_packed_desc d;
	uint32_t hops = 0;

	c->total = 0;
	c->why = VRQ_STAT_MAX;
	c->nb_desc = 0;
	c->nb_iov = 0;
	for (;;) {
		vrq_packed_desc_read(&q->desc_packed[idx], flags, &d);
		hops++;
		c->nb_desc++;
		vrq_packed_advance(q, &idx, &wrap, 1);
		/* After a refusal keep walking only to find where the chain ends. */
		if (c->why == VRQ_STAT_MAX) {
			if (d.flags & VRQ_DESC_F_INDIRECT)
				c->why = vrq_packed_indirect(q, &d, want_write, iov, nb_iov_max, c);
			else
				c->why = vrq_packed_buf(q, d.addr, d.len, d.flags, want_write, iov,
							nb_iov_max, c);
		}
		if (!(d.flags & VRQ_DESC_F_NEXT))
			break;
		/* 2.8.13: a chain is at most the ring; one asking for more loops. */
		if (unlikely(hops >= q->size)) {
			vrq_fail(q, VRQ_STAT_err_loop);
			return -1;
		}
		/* 2.8.6: the driver makes the head available last, so the rest must be. */
		flags = vrq_packed_flags_acquire(&q->desc_packed[idx]);
		if (unlikely(!vrq_packed_is_avail(flags, wrap))) {
			vrq_fail(q, VRQ_STAT_err_wrap);
			return -1;
		}
	}
	if (unlikely(d.id >= q->size)) {
		vrq_fail(q, VRQ_STAT_err_head);
		return -1;
	}
	c->id = d.id;
	q->last_avail_idx = idx;
	q->avail_wrap = wrap;
	return 1;
}

/*
 * Take the chain at last_avail_idx. @return 1 with *c filled (c->why says
 * whether it is usable) and the avail position advanced past it; 0 when the
 * ring is empty; -1 when the queue was stopped for a fault.
 *
 * A head with neither NEXT nor INDIRECT whose buffer maps in one piece
 * (every frame virtio-user or Linux sends in one buffer, every guest RX
 * buffer) is taken here: one flags load, one read of the rest, one
 * translation, no loop. Anything else goes on in vrq_packed_walk_chain()
 * with the flags already loaded, so the head is still read once.
 */
static inline int
vrq_packed_walk(struct vrq *q, uint16_t want_write, struct vrq_iov *iov, uint16_t nb_iov_max,
		struct vrq_packed_chain *c)
{
	uint16_t idx = q->last_avail_idx, flags;
	struct vrq_packed_desc d;
	void *hva;

	flags = vrq_packed_flags_acquire(&q->desc_packed[idx]);
	if (!vrq_packed_is_avail(flags, q->avail_wrap))
		return vrq_packed_not_avail(q, flags);
	if (unlikely(flags & (VRQ_DESC_F_NEXT | VRQ_DESC_F_INDIRECT)))
		return vrq_packed_walk_chain(q, flags, want_write, iov, nb_iov_max, c);
	vrq_packed_desc_read(&q->desc_packed[idx], flags, &d);
	if (unlikely(d.id >= q->size)) {
		vrq_fail(q, VRQ_STAT_err_head);
		return -1;
	}
	c->id = d.id;
	c->nb_desc = 1;
	c->why = VRQ_STAT_MAX;
	hva = vrq_xlate_whole(q, d.addr, d.len);
	if (likely(hva != NULL && d.len != 0 && (flags & VRQ_DESC_F_WRITE) == want_write &&
		   nb_iov_max > 0)) {
		iov[0].hva = hva;
		iov[0].len = d.len;
		iov[0].gpa = d.addr;
		c->nb_iov = 1;
		c->total = d.len;
	} else {
		/* Spans regions, or faults: the general checks say which. */
		c->nb_iov = 0;
		c->total = 0;
		c->why = vrq_packed_buf(q, d.addr, d.len, flags, want_write, iov, nb_iov_max, c);
	}
	vrq_packed_advance(q, &q->last_avail_idx, &q->avail_wrap, 1);
	return 1;
}

/*
 * Mark the written-back descriptors dirty, after the writes: a log bit set
 * before the write could be synced and cleared by the frontend before the
 * data lands (live migration would then miss it).
 */
static __rte_noinline void
vrq_packed_log_used(struct vrq *q, const struct vrq_packed_used *u, uint16_t idx)
{
	bool wrap = false; /* only the slot matters here */
	uint16_t i;

	for (i = 0; i < u->n; i++) {
		vrq_packed_log_hva(q, &q->desc_packed[idx], sizeof(struct vrq_packed_desc));
		vrq_packed_advance(q, &idx, &wrap, u->e[i].nb_desc);
	}
}

/* Flags of a used descriptor written in the lap of used wrap counter @p wrap (2.8.6). */
static inline uint16_t
vrq_packed_used_flags(bool wrap)
{
	return wrap ? (uint16_t)(VRQ_DESC_F_AVAIL | VRQ_DESC_F_USED) : 0;
}

/*
 * Write the buffered completions: id and len, then flags with release,
 * the first descriptor last so the driver sees the whole batch at once.
 */
static void
vrq_packed_flush(struct vrq *q, struct vrq_packed_used *u)
{
	uint16_t idx = q->last_used_idx, first_idx = idx, flags, first_flags = 0, base, i;
	bool wrap = q->used_wrap;

	if (u->n == 0)
		return;
	/* 2.8.6: a used descriptor has AVAIL == USED == the used wrap counter. */
	base = vrq_packed_used_flags(wrap);
	for (i = 0; i < u->n; i++) {
		flags = (uint16_t)(base | (u->e[i].len != 0 ? u->wflag : 0));
		if (i == 0)
			first_flags = flags;
		else
			vrq_packed_desc_complete(&q->desc_packed[idx], u->e[i].id, u->e[i].len,
						 flags);
		idx = (uint16_t)(idx + u->e[i].nb_desc);
		if (unlikely(idx >= q->size)) {
			idx = (uint16_t)(idx - q->size);
			wrap = !wrap;
			base = vrq_packed_used_flags(wrap);
		}
	}
	vrq_packed_desc_complete(&q->desc_packed[first_idx], u->e[0].id, u->e[0].len, first_flags);
	if (unlikely(q->log != NULL))
		vrq_packed_log_used(q, u, first_idx);
	q->last_used_idx = idx;
	q->used_wrap = wrap;
	u->n = 0;
}

static inline void
vrq_packed_used_add(struct vrq *q, struct vrq_packed_used *u, uint16_t id, uint16_t nb_desc,
		    uint32_t len)
{
	if (unlikely(u->n == VRQ_PACKED_USED_MAX))
		vrq_packed_flush(q, u);
	u->e[u->n].id = id;
	u->e[u->n].nb_desc = nb_desc;
	u->e[u->n].len = len;
	u->n++;
}

/*
 * 2.8.10: interrupt unless the driver disabled it, or, with EVENT_IDX and
 * F_DESC, unless the slot it named was not passed in this burst. Positions
 * are linearised over two laps (wrap 1 first), so one compare covers a
 * burst that wrapped.
 */
static void
vrq_packed_notify(struct vrq *q, uint16_t old_idx, bool old_wrap)
{
	uint32_t two = 2u * q->size, o, n, e;
	uint16_t off_wrap, flags;

	if (old_idx == q->last_used_idx && old_wrap == q->used_wrap)
		return;
	/* Our flag stores must be visible before we read the driver's wish. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = vrq_packed_event_read(q->driver_event, &off_wrap);
	if (flags == VRQ_EVENT_F_DISABLE)
		return;
	if (flags == VRQ_EVENT_F_DESC && q->event_idx) {
		o = old_idx + (old_wrap ? 0 : q->size);
		n = q->last_used_idx + (q->used_wrap ? 0 : q->size);
		e = (off_wrap & VRQ_PACKED_IDX_MASK) +
		    ((off_wrap >> VRQ_PACKED_WRAP_BIT) ? 0 : q->size);
		if ((e + two - o) % two >= (n + two - o) % two)
			return;
	}
	vrq_notify_guest(q);
}

/*
 * Chains ready at the head, up to max: only a sizing hint for the mbuf
 * allocation (the walk re-reads and re-checks every descriptor). A driver
 * makes slots available in ring order, so when the slot max - 1 ahead is
 * available the whole burst very likely is: one load instead of a scan of
 * max slots (a saturated ring; the scan cost about 45 Ir/packet on guest
 * TX, bench/README.md "Performance work"). Otherwise scans at most
 * 2 * VRQ_BURST_MAX slots; if all of them are available, assumes max.
 */
static inline uint16_t
vrq_packed_count_ready(const struct vrq *q, uint16_t max)
{
	uint16_t idx = q->last_avail_idx, n = 0, i, flags;
	bool wrap = q->avail_wrap;

	if (likely(max <= q->size)) {
		uint16_t last = (uint16_t)(idx + max - 1);
		bool last_wrap = wrap;

		if (last >= q->size) {
			last = (uint16_t)(last - q->size);
			last_wrap = !wrap;
		}
		if (vrq_packed_is_avail(vrq_packed_flags_acquire(&q->desc_packed[last]), last_wrap))
			return max;
	}
	for (i = 0; i < 2 * VRQ_BURST_MAX; i++) {
		flags = vrq_packed_flags_acquire(&q->desc_packed[idx]);
		if (!vrq_packed_is_avail(flags, wrap))
			return RTE_MAX(n, (uint16_t)1);
		if (!(flags & VRQ_DESC_F_NEXT) && ++n == max)
			return n;
		vrq_packed_advance(q, &idx, &wrap, 1);
	}
	return max;
}

/* 1 when the head slot holds an available descriptor, else as vrq_packed_not_avail(). */
static inline int
vrq_packed_peek(struct vrq *q)
{
	uint16_t flags = vrq_packed_flags_acquire(&q->desc_packed[q->last_avail_idx]);

	if (vrq_packed_is_avail(flags, q->avail_wrap))
		return 1;
	return vrq_packed_not_avail(q, flags);
}

/*
 * Guest TX fast path: the head slot holds a one-descriptor chain that
 * vrq_tx_fast_copy() takes. Reads the slot once; false,
 * having changed nothing, for anything else, an empty ring included.
 */
static inline bool
vrq_packed_tx_fast(struct vrq *q, struct rte_mbuf *m, uint32_t *id)
{
	const struct vrq_packed_desc *slot = &q->desc_packed[q->last_avail_idx];
	uint16_t flags = vrq_packed_flags_acquire(slot);
	struct vrq_packed_desc d;

	if (unlikely(!vrq_packed_is_avail(flags, q->avail_wrap)))
		return false;
	vrq_packed_desc_read(slot, flags, &d);
	if (unlikely(d.id >= q->size || !vrq_tx_fast_copy(q, flags, d.addr, d.len, m)))
		return false;
	*id = d.id;
	vrq_packed_advance(q, &q->last_avail_idx, &q->avail_wrap, 1);
	return true;
}

/* Dirty-log nb slots of the descriptor ring from slot idx on (live migration only). */
static __rte_noinline void
vrq_packed_log_slots(struct vrq *q, uint16_t idx, uint32_t nb)
{
	uint32_t n;

	while (nb > 0) {
		n = RTE_MIN(nb, (uint32_t)(q->size - idx));
		vrq_packed_log_hva(q, &q->desc_packed[idx],
				   (uint64_t)n * sizeof(struct vrq_packed_desc));
		nb -= n;
		idx = 0;
	}
}

uint16_t
vrq_packed_dequeue(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct vrq_iov iov[VRQ_IOV_MAX];
	struct vrq_packed_chain c;
	uint16_t old_idx = q->last_used_idx, used_idx = old_idx, first_id = 0, i, k = 0, s1;
	bool old_wrap = q->used_wrap, used_wrap = old_wrap, fast = !q->tx_hdr_used;
	uint32_t nb_used_desc = 0;
	uint64_t bytes = 0;

	if (unlikely(q->broken))
		return 0;
	nb_pkts = RTE_MIN(nb_pkts, (uint16_t)VRQ_BURST_MAX);
	/* Peek first: an idle ring costs one load, not an mbuf round trip. */
	if (nb_pkts == 0 || vrq_packed_peek(q) <= 0)
		return 0;
	nb_pkts = vrq_packed_count_ready(q, nb_pkts);
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, nb_pkts) != 0)) {
		vrq_stat_add(q, VRQ_STAT_drop_nombuf, 1);
		return 0;
	}
	for (i = 0; i < nb_pkts; i++) {
		/*
		 * The next slot's descriptor, and the buffer two chains ahead from
		 * its slot's address (hints: they decide nothing, the slots are
		 * read again). A pass over the whole burst first cost 30
		 * Ir/packet and lost; this gained 4-5 % in a 64 B loopback
		 * (in-launch A/B).
		 */
		s1 = (uint16_t)(q->last_avail_idx + 1);
		if (s1 >= q->size)
			s1 = (uint16_t)(s1 - q->size);
		rte_prefetch0(&q->desc_packed[s1]);
		if (i + 2 < nb_pkts) {
			uint16_t s2 = (uint16_t)(s1 + 1);

			if (s2 >= q->size)
				s2 = (uint16_t)(s2 - q->size);
			vrq_prefetch_buf(q,
					 rte_le_to_cpu_64(__atomic_load_n(&q->desc_packed[s2].addr,
									  __ATOMIC_RELAXED)),
					 false);
		}
		if (likely(fast && vrq_packed_tx_fast(q, pkts[k], &c.id))) {
			c.nb_desc = 1;
			bytes += pkts[k++]->pkt_len;
		} else {
			if (vrq_packed_walk(q, 0, iov, VRQ_IOV_MAX, &c) <= 0)
				break;
			if (unlikely(c.why != VRQ_STAT_MAX))
				vrq_chain_bad(q, c.why);
			else if (likely(vrq_copy_to_mbuf(q, iov, c.nb_iov, mp, pkts[k]) == 0))
				bytes += pkts[k++]->pkt_len;
		}
		/*
		 * Device-readable only: nothing written, len 0. Completions go
		 * straight to the ring (at most a burst of them, no buffering as
		 * on guest RX), except the first one's flags, stored last so the
		 * driver sees the burst at once (as vrq_packed_flush()). With
		 * IN_ORDER only that one is written, with the last chain's
		 * buffer id: it stands for the whole batch (in-order use of
		 * descriptors, packed layout), and the driver skips ahead.
		 */
		if (i == 0 || q->in_order)
			first_id = c.id;
		else
			vrq_packed_desc_complete(&q->desc_packed[used_idx], c.id, 0,
						 vrq_packed_used_flags(used_wrap));
		vrq_packed_advance(q, &used_idx, &used_wrap, c.nb_desc);
		nb_used_desc += c.nb_desc;
	}
	if (k < nb_pkts)
		rte_pktmbuf_free_bulk(&pkts[k], nb_pkts - k);
	vrq_stat_add(q, VRQ_STAT_packets, k);
	vrq_stat_add(q, VRQ_STAT_bytes, bytes);
	if (i > 0) {
		vrq_packed_desc_complete(&q->desc_packed[old_idx], first_id, 0,
					 vrq_packed_used_flags(old_wrap));
		/* After the writes (see vrq_packed_log_used()). */
		if (unlikely(q->log != NULL))
			vrq_packed_log_slots(q, old_idx, nb_used_desc);
		q->last_used_idx = used_idx;
		q->used_wrap = used_wrap;
	}
	vrq_packed_notify(q, old_idx, old_wrap);
	return k;
}

/* One guest buffer (chain) reserved for the packet being enqueued. */
struct vrq_packed_buf {
	uint16_t id;
	uint16_t nb_desc;
	uint32_t cap;
};

/*
 * Place one packet. With mrg, chains are reserved until they hold header +
 * packet; if the ring runs dry first the reservation is undone (nothing is
 * written for this packet). Without mrg one chain must hold it all. A bad
 * chain met on the way is returned with len 0 together with the buffers
 * reserved before it, which keeps completions in ring order.
 *
 * iov is the caller's scatter array. When first is not NULL the caller has
 * already walked the first chain into iov[0..first->nb_iov) from
 * (start_idx, start_wrap), the avail position before that walk.
 */
static int
vrq_packed_rx_one(struct vrq *q, struct rte_mbuf *m, struct vrq_packed_used *u, bool mrg,
		  struct vrq_iov *iov, const struct vrq_packed_chain *first, uint16_t start_idx,
		  bool start_wrap)
{
	struct vrq_packed_buf bufs[VRQ_IOV_MAX];
	uint32_t need = q->hdr_len + m->pkt_len;
	uint16_t nb_bufs = 0, nb_iov = 0, b;
	struct vrq_packed_chain c;
	struct vrq_net_hdr hdr;
	uint64_t cap = 0;
	int rc, written;

	while (cap < need) {
		if (first != NULL) {
			/* Walked by the caller into iov[0..), from start_idx. */
			c = *first;
			first = NULL;
		} else {
			if (unlikely(nb_bufs == VRQ_IOV_MAX || nb_iov == VRQ_IOV_MAX)) {
				q->last_avail_idx = start_idx;
				q->avail_wrap = start_wrap;
				vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
				return VRQ_RX_DONE;
			}
			rc = vrq_packed_walk(q, VRQ_DESC_F_WRITE, iov + nb_iov,
					     (uint16_t)(VRQ_IOV_MAX - nb_iov), &c);
			if (unlikely(rc <= 0)) {
				/* Roll back this packet's reservations. */
				q->last_avail_idx = start_idx;
				q->avail_wrap = start_wrap;
				return rc == 0 ? VRQ_RX_NO_BUF : VRQ_RX_STOP;
			}
		}
		if (unlikely(c.why != VRQ_STAT_MAX || c.total < q->hdr_len)) {
			/* 5.1.6.3.1: every buffer holds at least the header. */
			vrq_chain_bad(q, c.why != VRQ_STAT_MAX ? c.why : VRQ_STAT_drop_bad_desc);
			for (b = 0; b < nb_bufs; b++)
				vrq_packed_used_add(q, u, bufs[b].id, bufs[b].nb_desc, 0);
			vrq_packed_used_add(q, u, c.id, c.nb_desc, 0);
			nb_bufs = nb_iov = 0;
			cap = 0;
			start_idx = q->last_avail_idx;
			start_wrap = q->avail_wrap;
			continue;
		}
		bufs[nb_bufs].id = c.id;
		bufs[nb_bufs].nb_desc = c.nb_desc;
		bufs[nb_bufs].cap = (uint32_t)RTE_MIN(c.total, (uint64_t)UINT32_MAX);
		nb_bufs++;
		nb_iov = (uint16_t)(nb_iov + c.nb_iov);
		cap += c.total;
		if (!mrg && cap < need) {
			/* One chain per packet: too small, give it back empty. */
			vrq_packed_used_add(q, u, c.id, c.nb_desc, 0);
			vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
			return VRQ_RX_DONE;
		}
	}
	written = vrq_copy_from_mbuf(q, vrq_hdr_from_mbuf(q, m, &hdr), nb_bufs, m, iov, nb_iov);
	/* The whole packet's completions go out in one flush (see VRQ_PACKED_USED_MAX). */
	if (u->n + nb_bufs > VRQ_PACKED_USED_MAX)
		vrq_packed_flush(q, u);
	if (unlikely(written < 0)) {
		/* Cannot happen with cap >= need; return the buffers empty rather than trust it. */
		for (b = 0; b < nb_bufs; b++)
			vrq_packed_used_add(q, u, bufs[b].id, bufs[b].nb_desc, 0);
		vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
		return VRQ_RX_DONE;
	}
	for (b = 0; b < nb_bufs; b++) {
		uint32_t len = RTE_MIN((uint32_t)written, bufs[b].cap);

		vrq_packed_used_add(q, u, bufs[b].id, bufs[b].nb_desc, len);
		written -= (int)len;
	}
	vrq_stat_add(q, VRQ_STAT_packets, 1);
	vrq_stat_add(q, VRQ_STAT_bytes, m->pkt_len);
	return VRQ_RX_DONE;
}

/* Burst state of vrq_packed_enqueue_common() for the slow path's vrq_rx_sw(). */
struct vrq_packed_rx_ctx {
	struct vrq_packed_used *u;
	struct vrq_iov *iov;
	bool mrg;
};

static int
vrq_packed_rx_place(struct vrq *q, struct rte_mbuf *m, void *arg)
{
	struct vrq_packed_rx_ctx *ctx = arg;

	return vrq_packed_rx_one(q, m, ctx->u, ctx->mrg, ctx->iov, NULL, q->last_avail_idx,
				 q->avail_wrap);
}

/*
 * A guest RX burst's first completion, held back and stored after all the
 * others so the driver sees the burst at once (as vrq_packed_flush() does
 * with its first entry). slot is NULL when nothing is held.
 */
struct vrq_packed_held {
	struct vrq_packed_desc *slot;
	uint16_t id;
	uint16_t flags;
	uint32_t len;
};

/*
 * Guest RX fast path: a one-segment frame without header offloads into the
 * one-descriptor chain at the head, whose buffer maps in one piece and holds
 * header + frame (every standard frame into a 2 KiB guest buffer). Returns
 * false, having changed nothing, for anything else: the general path then
 * reads the slot again and decides on its own copy. Kept lean in stores:
 * at 64 B the guest RX copies wait for cache lines the guest's core owns, the
 * store buffer fills, and each extra store per packet (stack bookkeeping,
 * per-packet counters) leaves fewer packets in flight. Counters are summed
 * by the caller. The completion, one 8-byte store, goes straight to the
 * ring, after the general path's buffered ones in u, or to *held when it
 * is the burst's first (*first).
 */
static inline bool
vrq_packed_rx_fast(struct vrq *q, const struct rte_mbuf *m, struct vrq_packed_used *u,
		   struct vrq_packed_held *held, bool *first, uint64_t *bytes)
{
	const struct vrq_packed_desc *d = &q->desc_packed[q->last_avail_idx];
	struct vrq_packed_desc rd;
	uint16_t flags;
	uint32_t len;

	if (unlikely(!vrq_rx_fast_ok(q, m)))
		return false;
	flags = vrq_packed_flags_acquire(d);
	if (unlikely(!vrq_packed_is_avail(flags, q->avail_wrap)))
		return false;
	vrq_packed_desc_read(d, flags, &rd);
	if (unlikely(rd.id >= q->size))
		return false;
	len = vrq_rx_fast_copy(q, flags, rd.addr, rd.len, m);
	if (unlikely(len == 0))
		return false;
	/* Completions stay in ring order: the general path's buffered ones first. */
	if (unlikely(u->n != 0))
		vrq_packed_flush(q, u);
	flags = (uint16_t)(vrq_packed_used_flags(q->used_wrap) | VRQ_DESC_F_WRITE);
	if (*first) {
		*held =
		    (struct vrq_packed_held){&q->desc_packed[q->last_used_idx], rd.id, flags, len};
		*first = false;
	} else {
		vrq_packed_desc_complete(&q->desc_packed[q->last_used_idx], rd.id, len, flags);
	}
	vrq_packed_advance(q, &q->last_used_idx, &q->used_wrap, 1);
	*bytes += m->pkt_len;
	vrq_packed_advance(q, &q->last_avail_idx, &q->avail_wrap, 1);
	return true;
}

/*
 * Place one packet (no software offload needed). The head chain is walked
 * here, once; the common case, a one-segment packet that fits the one
 * buffer of that chain (every standard frame in a 2 KiB guest buffer),
 * is placed inline: header, copy, one completion. Anything else (several
 * buffers with mrg, a bad or short chain) goes on in vrq_packed_rx_one()
 * from the chain already walked.
 */
static inline int
vrq_packed_rx_head(struct vrq *q, struct rte_mbuf *m, struct vrq_packed_used *u, bool mrg,
		   struct vrq_iov *iov)
{
	uint16_t start_idx = q->last_avail_idx;
	bool start_wrap = q->avail_wrap;
	struct vrq_packed_chain c;
	struct vrq_net_hdr hdr;
	int rc, written;

	rc = vrq_packed_walk(q, VRQ_DESC_F_WRITE, iov, VRQ_IOV_MAX, &c);
	if (unlikely(rc <= 0))
		return rc == 0 ? VRQ_RX_NO_BUF : VRQ_RX_STOP; /* nothing reserved */
	if (unlikely(c.why != VRQ_STAT_MAX || c.nb_iov != 1 || m->next != NULL ||
		     c.total < (uint64_t)q->hdr_len + m->pkt_len))
		return vrq_packed_rx_one(q, m, u, mrg, iov, &c, start_idx, start_wrap);
	written = vrq_copy_from_mbuf(q, vrq_hdr_from_mbuf(q, m, &hdr), 1, m, iov, 1);
	if (unlikely(written < 0)) {
		/* Cannot happen with total >= need; return the buffer empty rather than trust it. */
		vrq_packed_used_add(q, u, c.id, c.nb_desc, 0);
		vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
		return VRQ_RX_DONE;
	}
	vrq_packed_used_add(q, u, c.id, c.nb_desc, (uint32_t)written);
	vrq_stat_add(q, VRQ_STAT_packets, 1);
	vrq_stat_add(q, VRQ_STAT_bytes, m->pkt_len);
	return VRQ_RX_DONE;
}

static inline uint16_t
vrq_packed_enqueue_common(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts, bool mrg)
{
	struct vrq_iov iov[VRQ_IOV_MAX];
	struct vrq_packed_used u;
	struct vrq_packed_held held = {NULL, 0, 0, 0};
	uint16_t old_idx = q->last_used_idx, i, nb_fast = 0;
	bool old_wrap = q->used_wrap, first = true;
	uint64_t fast_bytes = 0;
	int ret = VRQ_RX_DONE;

	if (unlikely(q->broken))
		return 0;
	u.n = 0;
	u.wflag = VRQ_DESC_F_WRITE;
	for (i = 0; i < nb_pkts; i++) {
		if (i + 1 < nb_pkts)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (likely(vrq_packed_rx_fast(q, pkts[i], &u, &held, &first, &fast_bytes))) {
			nb_fast++;
			continue;
		}
		first = false;
		if (unlikely(pkts[i]->ol_flags & q->sw_ol_mask)) {
			struct vrq_packed_rx_ctx ctx = {&u, iov, mrg};

			ret = vrq_rx_sw(q, pkts[i], vrq_packed_rx_place, &ctx);
		} else {
			ret = vrq_packed_rx_head(q, pkts[i], &u, mrg, iov);
		}
		if (unlikely(ret != VRQ_RX_DONE))
			break;
	}
	if (unlikely(ret == VRQ_RX_NO_BUF))
		vrq_stat_add(q, VRQ_STAT_drop_no_buf, nb_pkts - i);
	vrq_stat_add(q, VRQ_STAT_packets, nb_fast);
	vrq_stat_add(q, VRQ_STAT_bytes, fast_bytes);
	vrq_packed_flush(q, &u);
	if (held.slot != NULL)
		vrq_packed_desc_complete(held.slot, held.id, held.len, held.flags);
	vrq_packed_notify(q, old_idx, old_wrap);
	return i;
}

uint16_t
vrq_packed_enqueue(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vrq_packed_enqueue_common(q, pkts, nb_pkts, false);
}

uint16_t
vrq_packed_enqueue_mrg(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vrq_packed_enqueue_common(q, pkts, nb_pkts, true);
}
