/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue datapath (virtio 1.2, 2.7): guest TX (dequeue into mbufs)
 * and guest RX (enqueue from mbufs, with and without MRG_RXBUF).
 *
 * Everything reached through q->desc, q->avail, q->used and the buffers is
 * guest memory written by an untrusted guest, concurrently with us. Hence:
 * avail->idx is loaded once per burst with acquire and may run at most one
 * ring ahead; every head is checked against the ring size before use; every
 * descriptor is copied once into a local (vrq_desc_read) and all decisions
 * come from that copy; every walk counts hops; every (addr, len) goes
 * through vrq_xlate(), which checks the memory table and overflow.
 *
 * A chain we refuse is still returned on the used ring with len 0, so a
 * buggy guest does not leak descriptors. Only faults that make the ring
 * itself unusable (avail->idx too far ahead, head out of range) stop the
 * queue through vrq_fail().
 *
 * Per burst: one release store of used->idx, at most one eventfd write.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_atomic.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vrq_internal.h"

/* Where a walk found a chain bad: the counter to raise. */
struct vrq_walk {
	uint64_t total;       /* bytes described by the chain */
	enum vrq_stat_id why; /* set when the walk fails */
};

/*
 * Read descriptor idx of an indirect table that is not mapped contiguously
 * (it crosses a region boundary): copy the 16 bytes piecewise, then decode.
 */
static int
vrq_split_desc_read_gpa(struct vrq *q, uint64_t gpa, struct vrq_desc *out)
{
	struct vrq_desc raw;

	if (vrq_read_gpa(q, gpa, &raw, sizeof(raw)) != 0)
		return -EFAULT;
	vrq_desc_read(&raw, out);
	return 0;
}

/*
 * Translate the buffer [gpa, gpa + len) into iov entries from nb_iov on, one
 * per contiguous host chunk. Returns the new count, or -1 with w->why set.
 */
static int
vrq_split_iov_add(struct vrq *q, uint64_t gpa, uint64_t len, struct vrq_iov *iov, int nb_iov,
		  int nb_iov_max, struct vrq_walk *w)
{
	if (unlikely(gpa + len < gpa)) {
		w->why = VRQ_STAT_err_addr;
		return -1;
	}
	while (len > 0) {
		uint64_t n = len;
		void *hva = vrq_xlate(q, gpa, &n);

		if (unlikely(hva == NULL)) {
			w->why = VRQ_STAT_err_addr;
			return -1;
		}
		if (unlikely(nb_iov == nb_iov_max)) {
			w->why = VRQ_STAT_drop_oversize;
			return -1;
		}
		iov[nb_iov].hva = hva;
		iov[nb_iov].len = (uint32_t)n;
		iov[nb_iov].gpa = gpa;
		nb_iov++;
		gpa += n;
		len -= n;
	}
	return nb_iov;
}

/* A data descriptor's own rules: not empty, and the chain's one direction. */
static inline bool
vrq_split_buf_ok(const struct vrq_desc *d, uint16_t want_write, struct vrq_walk *w)
{
	if (unlikely(d->len == 0)) {
		w->why = VRQ_STAT_err_zero_len;
		return false;
	}
	/* TX chains are all device-readable, RX chains all device-writable. */
	if (unlikely((d->flags & VRQ_DESC_F_WRITE) != want_write)) {
		w->why = VRQ_STAT_err_order;
		return false;
	}
	return true;
}

/*
 * Walk the rest of a chain whose first descriptor (*first, read once from
 * the ring by the caller, its index checked) needs more than the one-buffer
 * fast path of vrq_split_walk_head(). Returns the number of iov entries, or
 * -1 with w->why set. The rules are the ones of STYLE.md 2.6: hop counter
 * capped at the table size, no nested indirect, indirect length a non-zero
 * multiple of 16 and inside memory, no zero-length buffer, one direction per
 * chain, every range translated.
 */
static int
vrq_split_walk(struct vrq *q, const struct vrq_desc *first, uint16_t want_write,
	       struct vrq_iov *iov, uint16_t nb_iov_max, struct vrq_walk *w)
{
	const struct vrq_desc *tbl = q->desc;
	uint64_t tbl_gpa = 0; /* indirect table that needs piecewise reads */
	uint32_t tbl_size = q->size;
	uint32_t idx, hops = 1;
	bool in_indirect = false;
	int nb_iov = 0;
	struct vrq_desc d = *first;

	w->total = 0;
	for (;;) {
		if (unlikely(d.flags & VRQ_DESC_F_INDIRECT)) {
			uint64_t len = d.len, got = len, done;

			/* 2.7.5.3.1: no nesting, no NEXT with INDIRECT, whole descriptors. */
			if (in_indirect || !q->indirect || (d.flags & VRQ_DESC_F_NEXT) ||
			    len == 0 || len % sizeof(struct vrq_desc) != 0) {
				w->why = VRQ_STAT_err_indirect;
				return -1;
			}
			tbl = vrq_xlate(q, d.addr, &got);
			if (tbl == NULL) {
				w->why = VRQ_STAT_err_indirect;
				return -1;
			}
			if (got < len || ((uintptr_t)tbl & (alignof(struct vrq_desc) - 1)) != 0) {
				/*
				 * Crosses a region boundary, or misaligned (the spec sets
				 * no alignment for indirect tables and an atomic load
				 * needs one): check the rest maps, read piecewise.
				 */
				for (done = got; done < len; done += got) {
					got = len - done;
					if (vrq_xlate(q, d.addr + done, &got) == NULL) {
						w->why = VRQ_STAT_err_indirect;
						return -1;
					}
				}
				tbl = NULL;
				tbl_gpa = d.addr;
			}
			tbl_size = (uint32_t)(len / sizeof(struct vrq_desc));
			in_indirect = true;
			idx = 0;
			hops = 0;
		} else {
			if (unlikely(!vrq_split_buf_ok(&d, want_write, w)))
				return -1;
			nb_iov = vrq_split_iov_add(q, d.addr, d.len, iov, nb_iov, nb_iov_max, w);
			if (unlikely(nb_iov < 0))
				return -1;
			w->total += d.len;
			if (!(d.flags & VRQ_DESC_F_NEXT))
				return nb_iov;
			idx = d.next;
		}
		if (unlikely(idx >= tbl_size)) {
			w->why = in_indirect ? VRQ_STAT_err_indirect : VRQ_STAT_err_head;
			return -1;
		}
		if (unlikely(++hops > tbl_size)) {
			w->why = VRQ_STAT_err_loop;
			return -1;
		}
		if (tbl != NULL) {
			vrq_desc_read(&tbl[idx], &d);
		} else if (vrq_split_desc_read_gpa(q, tbl_gpa + (uint64_t)idx * sizeof(d), &d) !=
			   0) {
			w->why = VRQ_STAT_err_indirect;
			return -1;
		}
	}
}

/*
 * Walk the chain at head (already checked < size) into iov; same result as
 * vrq_split_walk(). A head with neither NEXT nor INDIRECT whose buffer maps
 * in one piece (what virtio-user and Linux post for a frame that fits one
 * buffer) is handled here: one descriptor read, one translation through the
 * last-hit region, no loop. Anything else continues in vrq_split_walk()
 * from the same local copy, so the head is still read once.
 */
static inline int
vrq_split_walk_head(struct vrq *q, uint16_t head, uint16_t want_write, struct vrq_iov *iov,
		    uint16_t nb_iov_max, struct vrq_walk *w)
{
	struct vrq_desc d;
	void *hva;

	vrq_desc_read(&q->desc[head], &d);
	if (unlikely(d.flags & (VRQ_DESC_F_NEXT | VRQ_DESC_F_INDIRECT)))
		return vrq_split_walk(q, &d, want_write, iov, nb_iov_max, w);
	if (unlikely(!vrq_split_buf_ok(&d, want_write, w)))
		return -1;
	w->total = d.len;
	hva = vrq_xlate_whole(q, d.addr, d.len);
	if (likely(hva != NULL && nb_iov_max > 0)) {
		iov[0].hva = hva;
		iov[0].len = d.len;
		iov[0].gpa = d.addr;
		return 1;
	}
	/* Spans regions, or faults: the general translation loop sorts it out. */
	return vrq_split_iov_add(q, d.addr, d.len, iov, 0, nb_iov_max, w);
}

/* Dirty-log len bytes at offset off of the used ring, after the write (live migration). */
static inline void
vrq_split_log_used(struct vrq *q, uint64_t off, uint64_t len)
{
	if (unlikely(q->log != NULL) && q->log_used)
		vrq_log_write(q, q->used_gpa + off, len);
}

static inline void
vrq_split_used_put(struct vrq *q, uint16_t used_idx, uint32_t id, uint32_t len)
{
	uint16_t slot = used_idx & q->mask;

	vrq_used_elem_write(q->used, slot, id, len);
	vrq_split_log_used(
	    q, offsetof(struct vrq_used, ring) + (uint64_t)slot * sizeof(struct vrq_used_elem),
	    sizeof(struct vrq_used_elem));
}

/*
 * Publish the entries written since the last burst (one release store) and
 * interrupt the guest at most once, only if it asked (2.7.7.2, 2.7.10).
 * avail_event stays where vrq_split_start() put it.
 */
static void
vrq_split_publish(struct vrq *q, uint16_t used_idx)
{
	uint16_t old = q->signalled_used;
	bool notify;

	if (used_idx == q->last_used_idx)
		return;
	vrq_used_idx_release(q->used, used_idx);
	q->last_used_idx = used_idx;
	vrq_split_log_used(q, offsetof(struct vrq_used, idx), sizeof(uint16_t));
	/* Our used->idx store must be visible before we read the guest's wish. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		q->signalled_used = used_idx;
		notify = vrq_need_event(vrq_used_event(q->avail, q->size), used_idx, old);
	} else {
		notify = !(vrq_avail_flags(q->avail) & VRQ_AVAIL_F_NO_INTERRUPT);
	}
	if (notify)
		vrq_notify_guest(q);
}

/*
 * Before a burst of n chains: warm their descriptors, then the first lines
 * of their buffers. The guest's core wrote all of these last, so each is a
 * miss served by another core; asked for together, the misses overlap
 * instead of stalling the burst one chain at a time (in a loopback at 64 B
 * the RX copy's first store was 60-80 % of the backend's samples without
 * this). Hints only: the avail slots and descriptors read here decide
 * nothing; the burst reads each once more and checks that copy.
 */
static inline void
vrq_split_prefetch(struct vrq *q, uint16_t n, bool write)
{
	uint16_t heads[VRQ_BURST_MAX], j, slot;
	uint64_t addr;

	n = RTE_MIN(n, (uint16_t)VRQ_BURST_MAX);
	for (j = 0; j < n; j++) {
		slot = (uint16_t)(q->last_avail_idx + j) & q->mask;
		heads[j] = vrq_avail_ring(q->avail, slot) & q->mask;
		rte_prefetch0(&q->desc[heads[j]]);
	}
	for (j = 0; j < n; j++) {
		addr = __atomic_load_n(&q->desc[heads[j]].addr, __ATOMIC_RELAXED);
		vrq_prefetch_buf(q, rte_le_to_cpu_64(addr), write);
	}
}

/* The one read of avail->idx per burst; more than a ring ahead is a broken guest (2.7.6). */
static inline int
vrq_split_avail_count(struct vrq *q, uint16_t *nb_avail)
{
	uint16_t avail_idx = vrq_avail_idx_acquire(q->avail);

	*nb_avail = (uint16_t)(avail_idx - q->last_avail_idx);
	if (unlikely(*nb_avail > q->size)) {
		vrq_fail(q, VRQ_STAT_err_avail_idx);
		return -1;
	}
	return 0;
}

int
vrq_split_start(struct vrq *q, uint16_t base)
{
	uint16_t used_idx = vrq_used_idx_read(q->used);

	/*
	 * The backend restarted while the guest ran: the ring's own used->idx
	 * is the truth, since we never leave consumed chains unpublished.
	 */
	if (used_idx != base) {
		VRQ_LOG(NOTICE, q, "base %u != used idx %u, resyncing to the ring", base, used_idx);
		base = used_idx;
	}
	q->last_avail_idx = base;
	q->last_used_idx = base;
	q->signalled_used = base;
	/*
	 * We poll: kicks are useless (2.7.10). With EVENT_IDX the flag is
	 * ignored and the guest kicks when its avail->idx steps over
	 * avail_event; one behind the ring's position is the farthest place,
	 * so a guest kicks once per 65536 buffers instead of at every burst
	 * that finds us caught up (each kick is a trap out of the guest).
	 */
	vrq_used_flags_write(q->used, VRQ_USED_F_NO_NOTIFY);
	vrq_split_log_used(q, offsetof(struct vrq_used, flags), sizeof(uint16_t));
	if (q->event_idx) {
		vrq_avail_event_write(q->used, q->size, (uint16_t)(base - 1));
		vrq_split_log_used(q,
				   offsetof(struct vrq_used, ring) +
				       (uint64_t)q->size * sizeof(struct vrq_used_elem),
				   sizeof(uint16_t));
	}
	return 0;
}

/*
 * Guest TX fast path: the chain is one descriptor that vrq_tx_fast_copy()
 * takes. False, having changed nothing, otherwise.
 */
static inline bool
vrq_split_tx_fast(struct vrq *q, uint16_t head, struct rte_mbuf *m)
{
	struct vrq_desc d;

	vrq_desc_read(&q->desc[head], &d);
	return vrq_tx_fast_copy(q, d.flags, d.addr, d.len, m);
}

uint16_t
vrq_split_dequeue(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct vrq_iov iov[VRQ_IOV_MAX];
	uint16_t nb_avail, used_idx, head, next_head = 0, i, j, k = 0, done[VRQ_BURST_MAX];
	uint64_t bytes = 0;
	bool fast = !q->tx_hdr_used;
	struct vrq_walk w;
	int n;

	if (unlikely(q->broken))
		return 0;
	if (unlikely(vrq_split_avail_count(q, &nb_avail) != 0))
		return 0;
	nb_pkts = RTE_MIN(nb_pkts, RTE_MIN(nb_avail, (uint16_t)VRQ_BURST_MAX));
	if (nb_pkts == 0)
		return 0;
	if (unlikely(rte_pktmbuf_alloc_bulk(mp, pkts, nb_pkts) != 0)) {
		vrq_stat_add(q, VRQ_STAT_drop_nombuf, 1);
		return 0;
	}
	vrq_split_prefetch(q, nb_pkts, false);
	used_idx = q->last_used_idx;
	head = vrq_avail_ring(q->avail, q->last_avail_idx & q->mask);
	for (i = 0; i < nb_pkts; i++) {
		if (i + 1 < nb_pkts)
			next_head = vrq_avail_ring(q->avail, (q->last_avail_idx + 1) & q->mask);
		if (unlikely(head >= q->size)) {
			vrq_fail(q, VRQ_STAT_err_head);
			break;
		}
		q->last_avail_idx++;
		if (likely(fast && vrq_split_tx_fast(q, head, pkts[k]))) {
			bytes += pkts[k++]->pkt_len;
		} else {
			n = vrq_split_walk_head(q, head, 0, iov, VRQ_IOV_MAX, &w);
			if (unlikely(n < 0))
				vrq_chain_bad(q, w.why);
			else if (likely(vrq_copy_to_mbuf(q, iov, (uint16_t)n, mp, pkts[k]) == 0))
				bytes += pkts[k++]->pkt_len;
		}
		done[i] = head;
		head = next_head;
	}
	/*
	 * Completions after the copies, together: the used ring's lines are
	 * the driver's to read, so their stores go last and back to back
	 * instead of one among each packet's copy (in-launch A/B, guest TX
	 * 64 B with IN_ORDER: +3.4 %, +3.9 %). Device-readable only: nothing
	 * written, len 0 (2.7.8). With IN_ORDER one entry, the last chain's,
	 * stands for the whole batch (2.7.9): the driver frees everything up
	 * to used->idx without reading the others.
	 */
	if (q->in_order) {
		if (i > 0) {
			used_idx = (uint16_t)(used_idx + i);
			vrq_split_used_put(q, (uint16_t)(used_idx - 1), done[i - 1], 0);
		}
	} else {
		for (j = 0; j < i; j++)
			vrq_split_used_put(q, used_idx++, done[j], 0);
	}
	if (k < nb_pkts)
		rte_pktmbuf_free_bulk(&pkts[k], nb_pkts - k);
	vrq_stat_add(q, VRQ_STAT_packets, k);
	vrq_stat_add(q, VRQ_STAT_bytes, bytes);
	vrq_split_publish(q, used_idx);
	return k;
}

/* One guest buffer (chain) reserved for the packet being enqueued. */
struct vrq_split_buf {
	uint16_t head;
	uint32_t cap;
};

/*
 * Place one packet in guest buffers. With mrg, buffers are reserved until
 * they hold header + packet; if the ring runs dry first, the reservation is
 * undone (nothing written to the used ring for this packet). Without mrg, a
 * single chain must hold it all. A bad chain met on the way is returned with
 * len 0, together with the buffers reserved before it for this packet, so
 * that the used ring stays in avail order (IN_ORDER guests rely on it).
 */
static inline int
vrq_split_rx_one(struct vrq *q, struct rte_mbuf *m, uint16_t avail_end, uint16_t *used_idx,
		 bool mrg)
{
	struct vrq_iov iov[VRQ_IOV_MAX];
	struct vrq_split_buf bufs[VRQ_IOV_MAX];
	uint32_t need = q->hdr_len + m->pkt_len;
	uint16_t start = q->last_avail_idx, nb_bufs = 0, nb_iov = 0, b, head;
	uint64_t cap = 0;
	struct vrq_net_hdr hdr;
	struct vrq_walk w;
	int n, written;

	/* At least one buffer: need >= hdr_len > 0 (and the compiler sees iov filled). */
	do {
		if (q->last_avail_idx == avail_end) {
			q->last_avail_idx = start; /* roll back this packet's reservations */
			return VRQ_RX_NO_BUF;
		}
		if (unlikely(nb_bufs == VRQ_IOV_MAX || nb_iov == VRQ_IOV_MAX)) {
			q->last_avail_idx = start;
			vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
			return VRQ_RX_DONE;
		}
		head = vrq_avail_ring(q->avail, q->last_avail_idx & q->mask);
		if (unlikely(head >= q->size)) {
			q->last_avail_idx = start;
			vrq_fail(q, VRQ_STAT_err_head);
			return VRQ_RX_STOP;
		}
		rte_prefetch0(&q->avail->ring[(q->last_avail_idx + 1) & q->mask]);
		q->last_avail_idx++;
		n = vrq_split_walk_head(q, head, VRQ_DESC_F_WRITE, iov + nb_iov,
					(uint16_t)(VRQ_IOV_MAX - nb_iov), &w);
		if (unlikely(n < 0 || w.total < q->hdr_len)) {
			/* 5.1.6.3.1: every buffer holds at least the header. */
			vrq_chain_bad(q, n < 0 ? w.why : VRQ_STAT_drop_bad_desc);
			for (b = 0; b < nb_bufs; b++)
				vrq_split_used_put(q, (*used_idx)++, bufs[b].head, 0);
			vrq_split_used_put(q, (*used_idx)++, head, 0);
			nb_bufs = nb_iov = 0;
			cap = 0;
			start = q->last_avail_idx;
			continue;
		}
		bufs[nb_bufs].head = head;
		bufs[nb_bufs].cap = (uint32_t)RTE_MIN(w.total, (uint64_t)UINT32_MAX);
		nb_bufs++;
		nb_iov += (uint16_t)n;
		cap += w.total;
		if (!mrg && cap < need) {
			/* One chain per packet: this one is too small, give it back empty. */
			vrq_split_used_put(q, (*used_idx)++, head, 0);
			vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
			return VRQ_RX_DONE;
		}
	} while (cap < need);
	written = vrq_copy_from_mbuf(q, vrq_hdr_from_mbuf(q, m, &hdr), nb_bufs, m, iov, nb_iov);
	if (unlikely(written < 0)) {
		/* Cannot happen with cap >= need; return the buffers empty rather than trust it. */
		for (b = 0; b < nb_bufs; b++)
			vrq_split_used_put(q, (*used_idx)++, bufs[b].head, 0);
		vrq_stat_add(q, VRQ_STAT_drop_oversize, 1);
		return VRQ_RX_DONE;
	}
	for (b = 0; b < nb_bufs; b++) {
		uint32_t len = RTE_MIN((uint32_t)written, bufs[b].cap);

		vrq_split_used_put(q, (*used_idx)++, bufs[b].head, len);
		written -= (int)len;
	}
	vrq_stat_add(q, VRQ_STAT_packets, 1);
	vrq_stat_add(q, VRQ_STAT_bytes, m->pkt_len);
	return VRQ_RX_DONE;
}

/*
 * Guest RX fast path, as vrq_packed_rx_fast(): a one-segment frame without
 * header offloads into the one-descriptor chain at the head of the avail
 * ring, whose buffer maps in one piece and holds header + frame. Returns
 * false, having changed nothing, for anything else: vrq_split_rx_one() then
 * reads the slot and the descriptor again and decides on its own copy. Few
 * stores per packet (no iov, no reservation list, counters summed by the
 * caller): at 64 B the guest RX copies wait for lines the guest's core owns
 * and every extra store takes a slot in the store buffer.
 */
static inline bool
vrq_split_rx_fast(struct vrq *q, const struct rte_mbuf *m, uint16_t avail_end, uint16_t *used_idx,
		  uint64_t *bytes)
{
	struct vrq_desc d;
	uint16_t head;
	uint32_t len;

	if (unlikely(q->last_avail_idx == avail_end || !vrq_rx_fast_ok(q, m)))
		return false;
	head = vrq_avail_ring(q->avail, q->last_avail_idx & q->mask);
	if (unlikely(head >= q->size))
		return false;
	vrq_desc_read(&q->desc[head], &d);
	len = vrq_rx_fast_copy(q, d.flags, d.addr, d.len, m);
	if (unlikely(len == 0))
		return false;
	vrq_split_used_put(q, (*used_idx)++, head, len);
	q->last_avail_idx++;
	*bytes += m->pkt_len;
	return true;
}

/* Burst state of vrq_split_enqueue_common() for the slow path's vrq_rx_sw(). */
struct vrq_split_rx_ctx {
	uint16_t avail_end;
	uint16_t *used_idx;
	bool mrg;
};

static int
vrq_split_rx_place(struct vrq *q, struct rte_mbuf *m, void *arg)
{
	struct vrq_split_rx_ctx *ctx = arg;

	return vrq_split_rx_one(q, m, ctx->avail_end, ctx->used_idx, ctx->mrg);
}

static inline uint16_t
vrq_split_enqueue_common(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts, bool mrg)
{
	uint16_t nb_avail, avail_end, used_idx, i, nb_fast = 0;
	uint64_t fast_bytes = 0;
	int ret = VRQ_RX_DONE;

	if (unlikely(q->broken))
		return 0;
	if (unlikely(vrq_split_avail_count(q, &nb_avail) != 0))
		return 0;
	avail_end = (uint16_t)(q->last_avail_idx + nb_avail);
	vrq_split_prefetch(q, RTE_MIN(nb_pkts, nb_avail), true);
	used_idx = q->last_used_idx;
	for (i = 0; i < nb_pkts; i++) {
		if (i + 1 < nb_pkts)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (likely(vrq_split_rx_fast(q, pkts[i], avail_end, &used_idx, &fast_bytes))) {
			nb_fast++;
			continue;
		}
		if (unlikely(pkts[i]->ol_flags & q->sw_ol_mask)) {
			struct vrq_split_rx_ctx ctx = {avail_end, &used_idx, mrg};

			ret = vrq_rx_sw(q, pkts[i], vrq_split_rx_place, &ctx);
		} else {
			ret = vrq_split_rx_one(q, pkts[i], avail_end, &used_idx, mrg);
		}
		if (unlikely(ret != VRQ_RX_DONE))
			break;
	}
	if (unlikely(ret == VRQ_RX_NO_BUF))
		vrq_stat_add(q, VRQ_STAT_drop_no_buf, nb_pkts - i);
	vrq_stat_add(q, VRQ_STAT_packets, nb_fast);
	vrq_stat_add(q, VRQ_STAT_bytes, fast_bytes);
	vrq_split_publish(q, used_idx);
	return i;
}

uint16_t
vrq_split_enqueue(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vrq_split_enqueue_common(q, pkts, nb_pkts, false);
}

uint16_t
vrq_split_enqueue_mrg(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vrq_split_enqueue_common(q, pkts, nb_pkts, true);
}
