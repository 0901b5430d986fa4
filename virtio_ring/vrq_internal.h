/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal state of a virtqueue, shared by vrq.c (control: create/start/stop),
 * vrq_split.c, vrq_packed.c and vrq_copy.c (datapath). Not installed and not
 * visible outside virtio_ring/.
 *
 * Everything reachable through the ring pointers is guest memory: hostile.
 */
#ifndef VRQ_INTERNAL_H
#define VRQ_INTERNAL_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_spinlock.h>

#include "vrq.h"
#include "vrq_ring.h"

extern int vrq_logtype;
#define VRQ_LOG(level, q, fmt, ...)                                                                \
	rte_log(RTE_LOG_##level, vrq_logtype, "vrq: %s: vq %u: " fmt "\n", (q)->name, (q)->vq_idx, \
		##__VA_ARGS__)

/* Longest scatter list one chain may produce (DPDK's BUF_VECTOR_MAX). */
#define VRQ_IOV_MAX 256

typedef uint16_t (*vrq_dequeue_fn)(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts,
				   uint16_t nb_pkts);
typedef uint16_t (*vrq_enqueue_fn)(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);

struct vrq {
	/* Hot: read on every burst. */
	union {
		struct vrq_desc *desc;
		struct vrq_packed_desc *desc_packed;
	};
	union {
		struct vrq_avail *avail;
		struct vrq_packed_event *driver_event;
	};
	union {
		struct vrq_used *used;
		struct vrq_packed_event *device_event;
	};
	const struct vrq_mem *mem;
	const struct vrq_log *log; /* NULL unless VHOST_F_LOG_ALL and a log base */
	vrq_dequeue_fn dequeue;    /* chosen at vrq_start() for the features */
	vrq_enqueue_fn enqueue;
	uint16_t size;
	uint16_t mask;
	uint16_t last_avail_idx; /* packed: slot index 0..size-1 */
	uint16_t last_used_idx;  /* split: free-running; packed: slot index */
	uint16_t signalled_used; /* split EVENT_IDX: used idx at the last interrupt */
	bool avail_wrap;         /* packed wrap counters */
	bool used_wrap;
	bool started;
	bool broken;
	bool event_idx;
	bool mrg_rxbuf;
	bool in_order;
	bool indirect;
	/*
	 * Guest TX: the driver may ask for offloads in the virtio-net header
	 * (CSUM or a HOST_* GSO feature negotiated). Without any, the header
	 * must be zero (5.1.6.2) and is not read: its line is one more miss on
	 * a line the driver's core owns, per packet.
	 */
	bool tx_hdr_used;
	uint8_t hdr_len; /* 12, or 10 for a legacy device without MRG_RXBUF */
	/*
	 * The region that translated last, copied out of the table (per queue:
	 * no shared writes): gpa - xl_gpa < xl_size is inside it, at hva
	 * gpa + xl_delta. xl_size 0 when none. Three loads on the burst's hot
	 * line instead of the table walk (vrq_xlate()).
	 */
	uint64_t xl_gpa;
	uint64_t xl_size;
	uint64_t xl_delta;
	int call_fd;
	uint64_t features;
	uint64_t used_gpa;
	bool log_used;
	bool fail_logged; /* vrq_fail() logged once since the last vrq_start() */
	/* Bit per enum vrq_stat_id: a per-chain drop for that reason was logged. */
	uint64_t drop_logged;
	bool notify_dead; /* a call/err eventfd write was stuck: never write again */
	/* vrq_notify.c: when (tsc | 1) the datapath entered an eventfd write, 0 outside. */
	uint64_t wd_since;
	pthread_t wd_thread;
	/*
	 * Guest RX: mbuf TX offload flags the guest did not negotiate (set by
	 * vrq_start()); a packet with any of them takes the software slow path.
	 */
	uint64_t sw_ol_mask;

	/* Control: touched by the control thread under the lock. */
	rte_spinlock_t lock __rte_cache_aligned;
	int err_fd;
	uint16_t vq_idx;
	int socket_id;
	char name[108];

	/* Counters on their own line: written by one lcore, read by anyone. */
	struct vrq_stats stats __rte_cache_aligned;
} __rte_cache_aligned;

static inline void
vrq_stat_add(struct vrq *q, enum vrq_stat_id id, uint64_t n)
{
	q->stats.v[id] += n;
}

/*
 * Translate guest-physical [gpa, gpa + *len) to a host pointer. On return *len
 * is the contiguous length available from the result (<= the request); the
 * caller loops over chunks. NULL when gpa is in no region or the range
 * overflows. The last region that translated is tried first.
 */
void *vrq_xlate_slow(struct vrq *q, uint64_t gpa, uint64_t *len);

static inline void *
vrq_xlate(struct vrq *q, uint64_t gpa, uint64_t *len)
{
	uint64_t off = gpa - q->xl_gpa;

	/* Inside the cached region whole (its end does not wrap: vrq_xlate_slow()). */
	if (likely(off < q->xl_size && *len <= q->xl_size - off))
		return (void *)(uintptr_t)(gpa + q->xl_delta);
	return vrq_xlate_slow(q, gpa, len);
}

/* [gpa, gpa + len) as one host range, or NULL when it is not mapped in one piece. */
static inline void *
vrq_xlate_whole(struct vrq *q, uint64_t gpa, uint32_t len)
{
	uint64_t n = len;
	void *hva = vrq_xlate(q, gpa, &n); /* NULL on overflow or outside memory */

	return n == len ? hva : NULL;
}

/*
 * Ask for the cache line at p in a writable state: we are about to store to
 * it (guest RX buffers, last written by the guest's core).
 */
static inline void
vrq_prefetch_write(const void *p)
{
#if defined(RTE_ARCH_X86)
	/*
	 * PREFETCHW without -mprfchw (DPDK builds for corei7): the opcode is a
	 * hint, executed as a NOP by x86-64 CPUs that lack it.
	 */
	asm volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
#else
	rte_prefetch0_write(p);
#endif
}

/*
 * Warm the first bytes of a guest buffer: the line where the frame starts
 * (after the virtio-net header), for write on guest RX; the header's line
 * only when it will be read (guest TX with host offloads, and guest RX,
 * where vrq_hdr_store() compares before it stores: that line is read, not
 * taken exclusive). A hint from a descriptor read that decides nothing: an
 * address that does not translate is simply not prefetched.
 */
static inline void
vrq_prefetch_buf(struct vrq *q, uint64_t gpa, bool write)
{
	uint64_t len = 2 * RTE_CACHE_LINE_SIZE;
	const char *p = vrq_xlate(q, gpa, &len);

	if (p == NULL || len <= q->hdr_len)
		return;
	if (write) {
		rte_prefetch0(p);
		vrq_prefetch_write(p + q->hdr_len);
	} else {
		if (q->tx_hdr_used)
			rte_prefetch0(p);
		rte_prefetch0(p + q->hdr_len);
	}
}

/*
 * Copy len bytes of guest memory at gpa into dst, across region boundaries
 * (an indirect table entry may straddle two regions): the caller then
 * decodes its private copy, so each shared byte is read once.
 * @return 0, or -EFAULT when part of the range is in no region.
 */
static inline int
vrq_read_gpa(struct vrq *q, uint64_t gpa, void *dst, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done;
		const void *src = vrq_xlate(q, gpa + done, &n);

		if (src == NULL)
			return -EFAULT;
		memcpy((uint8_t *)dst + done, src, n);
		done += n;
	}
	return 0;
}

/* Mark [gpa, gpa + len) dirty in the frontend's log (live migration). */
static inline void
vrq_log_write(struct vrq *q, uint64_t gpa, uint64_t len)
{
	const struct vrq_log *log = q->log;
	uint64_t page, last;

	if (likely(log == NULL) || len == 0)
		return;
	page = gpa / VRQ_LOG_PAGE;
	last = (gpa + len - 1) / VRQ_LOG_PAGE;
	for (; page <= last; page++) {
		if (unlikely(page / 8 >= log->size))
			return;
		__atomic_fetch_or(&log->bitmap[page / 8], (uint8_t)(1u << (page % 8)),
				  __ATOMIC_RELAXED);
	}
}

/*
 * A guest fault that stops the queue: sticky broken flag (cleared by
 * vrq_stop()), counter, one log line per queue, err eventfd.
 */
uint16_t vrq_fail(struct vrq *q, enum vrq_stat_id why);

static_assert(VRQ_STAT_MAX <= 64, "drop_logged has one bit per counter");

/* Cold: the one log line for per-chain drops of reason @p why on @p q (vrq.c). */
void vrq_drop_log(struct vrq *q, enum vrq_stat_id why);

/*
 * A guest fault that costs one chain but leaves the ring usable (the chain
 * goes back with len 0): count the reason and the drop class, and log once
 * per queue per reason until the ring is reset (STYLE.md 2.9: a guest must
 * not be able to flood the host log, but an operator must see why frames
 * vanish). The datapath pays one predicted-untaken branch.
 */
static inline void
vrq_drop(struct vrq *q, enum vrq_stat_id why, enum vrq_stat_id class)
{
	if (why != class)
		vrq_stat_add(q, why, 1);
	vrq_stat_add(q, class, 1);
	if (unlikely(!(q->drop_logged & (UINT64_C(1) << why))))
		vrq_drop_log(q, why);
}

/*
 * A chain refused by a ring walker (either layout). Descriptor faults
 * (err_addr and later) are drop_bad_desc; the other reasons (drop_oversize,
 * drop_bad_desc itself) are their own class.
 */
static inline void
vrq_chain_bad(struct vrq *q, enum vrq_stat_id why)
{
	vrq_drop(q, why, why >= VRQ_STAT_err_addr ? VRQ_STAT_drop_bad_desc : why);
}

/*
 * vrq_notify.c: bounded writes to the frontend's eventfds. A queue is
 * registered with the watchdog for its whole life.
 */
int vrq_wd_register(struct vrq *q);
void vrq_wd_unregister(struct vrq *q);
int vrq_eventfd_write(struct vrq *q, int fd);

/* Write the call eventfd (bounded; counted). */
void vrq_notify_guest(struct vrq *q);

/* Datapath entry points selected by vrq_start(). */
uint16_t vrq_split_dequeue(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts,
			   uint16_t nb_pkts);
uint16_t vrq_split_enqueue(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t vrq_split_enqueue_mrg(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t vrq_packed_dequeue(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts,
			    uint16_t nb_pkts);
uint16_t vrq_packed_enqueue(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t vrq_packed_enqueue_mrg(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);

/* Ring-start hooks: suppress kicks, resync indexes. */
int vrq_split_start(struct vrq *q, uint16_t base);
int vrq_packed_start(struct vrq *q, uint16_t base);

/*
 * vrq_copy.c: layout-independent pieces. A chain is first walked into an
 * iovec of host pointers (validated), then copied.
 */
struct vrq_iov {
	void *hva;
	uint32_t len;
	uint64_t gpa; /* for the dirty log */
};

/*
 * Guest TX, one buffer of header + frame at src: the frame into m when it
 * fits m's tailroom (and is not empty); false, m untouched, otherwise.
 * Always inline: the compiler left it out of line once rte_memcpy() was
 * in it, and the call cost the fast paths 18 Ir/packet (callgrind).
 */
static __rte_always_inline bool
vrq_frame_to_mbuf(const struct vrq *q, const void *src, uint32_t len, struct rte_mbuf *m)
{
	uint32_t hlen = q->hdr_len;

	if (unlikely(len <= hlen || len - hlen > rte_pktmbuf_tailroom(m)))
		return false;
	rte_memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), (const uint8_t *)src + hlen,
		   len - hlen);
	m->data_len = (uint16_t)(m->data_len + len - hlen);
	m->pkt_len += len - hlen;
	return true;
}

/*
 * vrq_copy.c, out of line: the general cases of the three inline helpers
 * below (several buffers, several segments, a header with offload requests).
 */
int vrq_copy_to_mbuf_chain(struct vrq *q, const struct vrq_iov *iov, uint16_t nb_iov,
			   struct rte_mempool *mp, struct rte_mbuf *m);
int vrq_copy_hdr_apply(struct vrq *q, const struct vrq_net_hdr *hdr, struct rte_mbuf *m);
void vrq_hdr_from_mbuf_ol(struct vrq *q, const struct rte_mbuf *m, struct vrq_net_hdr *hdr);
int vrq_copy_from_mbuf_chain(struct vrq *q, const struct vrq_net_hdr *hdr, uint16_t num_buffers,
			     const struct rte_mbuf *m, const struct vrq_iov *iov, uint16_t nb_iov);

/*
 * Load the virtio-net header (hlen = 12, or 10 for a legacy device) from one
 * guest buffer that holds it whole, once. Both sizes are constants, so the
 * compiler emits plain loads instead of a libc call per packet.
 */
static inline void
vrq_hdr_load(struct vrq_net_hdr *hdr, const void *src, uint32_t hlen)
{
	if (likely(hlen == sizeof(*hdr))) {
		memcpy(hdr, src, sizeof(*hdr));
	} else {
		memcpy(hdr, src, VRQ_NET_HDR_LEN_LEGACY);
		hdr->num_buffers = 0;
	}
}

/*
 * Store the guest RX header into one guest buffer that holds it whole: the
 * offload fields of hdr (NULL: none, all zero), then num_buffers when the
 * header has it (hlen 12).
 *
 * Each word is compared with what the buffer already holds and stored only
 * when it differs. A recycled guest buffer usually holds this very header
 * (zero offloads, num_buffers 1 from its previous trip), and the header sits
 * in the cache line before the frame's: leaving it untouched saves a store
 * to a line the guest's core owns, i.e. one ownership transfer per packet
 * (in-launch A/B, packed loopback 64 B: +14 % to +37 % in fast windows).
 *
 * The words are built in registers, never loaded back from a struct just
 * written field by field: such a load cannot be forwarded from the narrower
 * stores and waits until every older store of the burst reaches the cache
 * (that stall was 60-90 % of a 64 B loopback's samples).
 */
static inline void
vrq_hdr_store(void *dst, const struct vrq_net_hdr *hdr, uint16_t num_buffers, uint32_t hlen)
{
	uint8_t *d = (uint8_t *)dst;
	uint64_t lo = 0, cur_lo;
	uint16_t csum_offset = 0, cur16;
	uint32_t hi, cur_hi;

	if (unlikely(hdr != NULL)) {
		memcpy(&lo, hdr, sizeof(lo));
		csum_offset = rte_le_to_cpu_16(hdr->csum_offset);
	}
	memcpy(&cur_lo, d, sizeof(cur_lo));
	if (cur_lo != lo)
		memcpy(d, &lo, sizeof(lo));
	if (likely(hlen == sizeof(struct vrq_net_hdr))) {
		hi = rte_cpu_to_le_32((uint32_t)csum_offset | (uint32_t)num_buffers << 16);
		memcpy(&cur_hi, d + sizeof(lo), sizeof(cur_hi));
		if (cur_hi != hi)
			memcpy(d + sizeof(lo), &hi, sizeof(hi));
	} else {
		csum_offset = rte_cpu_to_le_16(csum_offset);
		memcpy(&cur16, d + sizeof(lo), sizeof(cur16));
		if (cur16 != csum_offset)
			memcpy(d + sizeof(lo), &csum_offset, sizeof(csum_offset));
	}
}

/*
 * Guest TX: build an mbuf chain from iov (header first), apply header
 * offloads. 0, or -errno with the drop counted and m reset.
 *
 * Inline fast path: header and frame in one buffer, frame within one mbuf
 * (what virtio-user and a Linux guest post for any frame up to the mbuf
 * size), header without offload requests: one bounds check, one copy,
 * the header loaded only when host offloads were negotiated, no call
 * (bench/README.md, "Performance work").
 */
static inline int
vrq_copy_to_mbuf(struct vrq *q, const struct vrq_iov *iov, uint16_t nb_iov, struct rte_mempool *mp,
		 struct rte_mbuf *m)
{
	uint32_t hlen = q->hdr_len;
	struct vrq_net_hdr hdr;
	const uint8_t *src;

	if (unlikely(nb_iov != 1 || !vrq_frame_to_mbuf(q, iov[0].hva, iov[0].len, m)))
		return vrq_copy_to_mbuf_chain(q, iov, nb_iov, mp, m);
	src = (const uint8_t *)iov[0].hva;
	if (likely(!q->tx_hdr_used))
		return 0;
	vrq_hdr_load(&hdr, src, hlen);
	if (likely(hdr.flags == 0 && hdr.gso_type == VRQ_NET_HDR_GSO_NONE))
		return 0;
	return vrq_copy_hdr_apply(q, &hdr, m);
}

/*
 * Guest TX fast path of both layouts (vrq_split_tx_fast(),
 * vrq_packed_tx_fast()), its descriptor side: one device-readable
 * descriptor (flags: no NEXT, no INDIRECT, no WRITE) whose buffer of header
 * + frame maps in one piece, a frame that fits the fresh mbuf m, a header
 * not to be read (the caller checked !q->tx_hdr_used). Copies the frame;
 * false, having changed nothing, for anything else (the general path then
 * reads the descriptor again and decides on its own copy).
 */
static inline bool
vrq_tx_fast_copy(struct vrq *q, uint16_t flags, uint64_t gpa, uint32_t len, struct rte_mbuf *m)
{
	const void *src;

	if (unlikely((flags & (VRQ_DESC_F_NEXT | VRQ_DESC_F_INDIRECT | VRQ_DESC_F_WRITE)) != 0))
		return false;
	src = vrq_xlate_whole(q, gpa, len);
	return src != NULL && vrq_frame_to_mbuf(q, src, len, m);
}

/* mbuf flags that show in the guest RX header (see vrq_hdr_from_mbuf_ol()). */
#define VRQ_RX_HDR_OL_FLAGS \
	(RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_RX_L4_CKSUM_MASK)

/*
 * Guest RX: the virtio-net header's offload fields for m. NULL for a packet
 * with no offload flag that could show in the header (the common frame:
 * a zero header, stored without touching hdr); else hdr, filled.
 */
static inline const struct vrq_net_hdr *
vrq_hdr_from_mbuf(struct vrq *q, const struct rte_mbuf *m, struct vrq_net_hdr *hdr)
{
	if (likely(!(m->ol_flags & VRQ_RX_HDR_OL_FLAGS)))
		return NULL;
	vrq_hdr_from_mbuf_ol(q, m, hdr);
	return hdr;
}

/*
 * Guest RX: write the first q->hdr_len bytes of the header (offload fields
 * from hdr, NULL for none, and num_buffers), then the data of m, into the
 * writable buffers of iov, in order, and mark every written range in the
 * dirty log. Returns the bytes written (header included), or -ENOSPC when
 * the buffers are too small (some bytes may have been written: the caller
 * does not publish them).
 *
 * Inline fast path: a one-segment packet whose header and data fit the
 * first buffer (any guest RX buffer of 2 KiB or more for a standard frame).
 */
static inline int
vrq_copy_from_mbuf(struct vrq *q, const struct vrq_net_hdr *hdr, uint16_t num_buffers,
		   const struct rte_mbuf *m, const struct vrq_iov *iov, uint16_t nb_iov)
{
	uint32_t hlen = q->hdr_len, total;
	uint8_t *dst;

	if (unlikely(m->next != NULL || nb_iov == 0 || iov[0].len < hlen + m->data_len))
		return vrq_copy_from_mbuf_chain(q, hdr, num_buffers, m, iov, nb_iov);
	dst = (uint8_t *)iov[0].hva;
	vrq_hdr_store(dst, hdr, num_buffers, hlen);
	rte_memcpy(dst + hlen, rte_pktmbuf_mtod(m, const void *), m->data_len);
	total = hlen + m->data_len;
	if (unlikely(q->log != NULL))
		vrq_log_write(q, iov[0].gpa, total);
	return (int)total;
}

/*
 * Guest RX fast path of both layouts (vrq_split_rx_fast(),
 * vrq_packed_rx_fast()), its packet side: a one-segment frame that needs
 * neither header offload fields nor software offloads, and no dirty log.
 */
static inline bool
vrq_rx_fast_ok(const struct vrq *q, const struct rte_mbuf *m)
{
	return m->next == NULL && q->log == NULL &&
	       !(m->ol_flags & (q->sw_ol_mask | VRQ_RX_HDR_OL_FLAGS));
}

/*
 * Guest RX fast path of both layouts, its descriptor side: one
 * device-writable descriptor (flags: WRITE, no NEXT, no INDIRECT) whose
 * buffer maps in one piece and holds header + frame. Stores the header
 * (num_buffers 1) and the frame and returns the bytes written (the used
 * length: computed before the stores, which the compiler must assume
 * alias m and q); 0, having written nothing, otherwise.
 */
static inline uint32_t
vrq_rx_fast_copy(struct vrq *q, uint16_t flags, uint64_t gpa, uint32_t len,
		 const struct rte_mbuf *m)
{
	uint32_t hlen = q->hdr_len, need = hlen + m->data_len;
	uint8_t *dst;

	if (unlikely((flags & (VRQ_DESC_F_NEXT | VRQ_DESC_F_INDIRECT | VRQ_DESC_F_WRITE)) !=
			 VRQ_DESC_F_WRITE ||
		     len < need))
		return 0;
	dst = vrq_xlate_whole(q, gpa, len);
	if (unlikely(dst == NULL))
		return 0;
	vrq_hdr_store(dst, NULL, 1, hlen);
	rte_memcpy(dst + hlen, rte_pktmbuf_mtod(m, const void *), need - hlen);
	return need;
}

/* Outcome of placing one packet in guest RX buffers (both layouts). */
#define VRQ_RX_DONE 0   /* copied, or dropped and counted: consumed */
#define VRQ_RX_NO_BUF 1 /* ring empty: not consumed, stop the burst */
#define VRQ_RX_STOP 2   /* queue broken: stop the burst */

/* A layout's "place one packet" step, with its burst state in ctx. */
typedef int (*vrq_rx_place_fn)(struct vrq *q, struct rte_mbuf *m, void *ctx);

/*
 * Guest RX slow path shared by both layouts, for a packet with a flag in
 * q->sw_ol_mask: complete the offloads in software (vrq_offload_sw()), place
 * each resulting packet with place(), free the new segments. The original
 * counts as one packet for the caller, who frees it. Returns VRQ_RX_*: a
 * GSO train cut short by a full ring is VRQ_RX_DONE (the rest is counted in
 * drop_no_buf; TCP resends it).
 */
int vrq_rx_sw(struct vrq *q, struct rte_mbuf *m, vrq_rx_place_fn place, void *ctx);

/*
 * vrq_offload.c, shared with vrq_copy.c: the non-complemented Internet sum
 * of [off, off + len) of an mbuf chain, folded (0 or -EINVAL when the range
 * is not inside the packet); and a copy of len bytes into the packet at off
 * across segments (0 or -EINVAL).
 */
int vrq_mbuf_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *out);
int vrq_mbuf_write(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len);

/*
 * Guest RX slow path, for a packet with a flag in q->sw_ol_mask: completes in
 * software what the guest cannot take (vrq_offload_complete()). On success
 * out[0..n) are the packets to enqueue; out[0] may be m itself, any other
 * entry is a new mbuf the caller frees after copying. Returns n or -errno
 * (counted; the packet is to be dropped).
 */
int vrq_offload_sw(struct vrq *q, struct rte_mbuf *m, struct rte_mbuf **out, uint16_t nb_out);

#endif /* VRQ_INTERNAL_H */
