/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio_ring: the virtqueue datapath. A struct vrq is one virtqueue of one
 * virtio-net device: the guest's TX queues are dequeued into mbufs, the
 * guest's RX queues are filled from mbufs. This layer knows nothing about
 * sockets or ports: vhost/ hands it translated ring pointers, the guest
 * memory table and the call fd, and the PMD calls the burst functions.
 *
 * Threading: the burst functions run on one datapath lcore per queue and
 * never block: they try-lock the queue and return 0 when the control thread
 * holds it. The control thread calls every other function with the queue
 * locked (vrq_lock()), which guarantees no lcore still reads the old state.
 */
#ifndef VRQ_H
#define VRQ_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

struct vrq;

/* Upper bound of memory regions in one table (GET_MAX_MEM_SLOTS answers this). */
#define VRQ_MEM_REGIONS_MAX 64

/* Burst size of the datapath (DESIGN.md performance rules). */
#define VRQ_BURST_MAX 32

/*
 * One guest memory region as the datapath sees it: guest-physical range
 * [gpa, gpa + size), mapped in this process at hva, and known to the frontend
 * at qva (ring addresses come as frontend virtual addresses).
 */
struct vrq_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t qva;
	uint64_t hva; /* host virtual address of gpa, as an integer */
};

/* An immutable table: replaced whole, never edited while published. */
struct vrq_mem {
	uint32_t nb_regions;
	struct vrq_mem_region regions[VRQ_MEM_REGIONS_MAX];
};

/* Dirty-page log shared with the frontend (SET_LOG_BASE): one bit per 4 KiB guest page. */
#define VRQ_LOG_PAGE 4096
struct vrq_log {
	uint8_t *bitmap;
	uint64_t size; /* bytes of bitmap */
};

/* Everything vrq_start() needs; built by vhost/ from the SET_VRING_* messages. */
struct vrq_setup {
	uint16_t size;     /* power of two, 1..32768 (split) or 1..32768 (packed) */
	uint64_t features; /* negotiated virtio feature bits */
	void *desc_hva;    /* descriptor area */
	void *avail_hva;   /* driver area: avail ring (split) or driver event (packed) */
	void *used_hva;    /* device area: used ring (split) or device event (packed) */
	uint64_t used_gpa; /* log_guest_addr of the used ring, when log_used */
	bool log_used;     /* VHOST_VRING_F_LOG was set in SET_VRING_ADDR */
	uint16_t base;     /* SET_VRING_BASE: split last_avail_idx; packed idx | wrap << 15 */
	int call_fd;       /* eventfd to interrupt the guest, -1 for none */
	int err_fd;        /* eventfd to report a broken ring, -1 for none */
};

/*
 * Per-queue counters, generated from one list so that names, the enum and the
 * struct cannot drift. X(name, description).
 */
#define VRQ_STATS_LIST(X)                                                                          \
	X(packets, "packets moved between the guest and mbufs")                                    \
	X(bytes, "payload bytes moved")                                                            \
	X(drop_no_buf, "guest RX: no guest buffer was available")                                  \
	X(drop_nombuf, "guest TX: mbuf pool exhausted")                                            \
	X(drop_oversize, "frame larger than the guest buffers or the mbuf chain allows")           \
	X(drop_bad_desc, "chains dropped for a malformed descriptor")                              \
	X(drop_bad_hdr, "chains dropped for a malformed virtio-net header")                        \
	X(err_addr, "guest address outside the memory table or overflowing")                       \
	X(err_loop, "chain longer than the ring, or a loop")                                       \
	X(err_indirect, "bad indirect table: nested, bad length, outside memory")                  \
	X(err_zero_len, "zero-length descriptor")                                                  \
	X(err_order, "device-readable descriptor after a device-writable one, or wrong direction") \
	X(err_avail_idx, "avail index ran more than a ring ahead (queue stopped)")                 \
	X(err_head, "descriptor id out of range (queue stopped)")                                  \
	X(err_wrap, "packed ring wrap counter or flags inconsistent")                              \
	X(err_csum, "csum_start/csum_offset beyond the packet")                                    \
	X(err_gso, "bad GSO type or gso_size")                                                     \
	X(sw_csum, "checksums completed in software")                                              \
	X(sw_gso, "GSO packets segmented in software")                                             \
	X(guest_notify, "interrupts sent to the guest (callfd writes)")                            \
	X(guest_notify_err, "callfd writes that failed")                                           \
	X(lock_busy, "bursts skipped because the control thread held the queue")                   \
	X(broken, "times the queue was stopped for a guest fault")

enum vrq_stat_id {
#define VRQ_STAT_ENUM(n, d) VRQ_STAT_##n,
	VRQ_STATS_LIST(VRQ_STAT_ENUM)
#undef VRQ_STAT_ENUM
	    VRQ_STAT_MAX
};

struct vrq_stats {
	uint64_t v[VRQ_STAT_MAX];
};

/** Name of counter @p id ("packets", "drop_no_buf", ...), NULL if out of range. */
const char *vrq_stat_name(unsigned int id);

/**
 * Allocate a stopped queue on NUMA node @p socket_id.
 * @param name  prefix for log lines (socket path), copied.
 * @param vq_idx  virtqueue index; even = guest RX (enqueue), odd = guest TX (dequeue).
 * @return the queue, or NULL with rte_errno set (ENOMEM).
 */
struct vrq *vrq_create(const char *name, uint16_t vq_idx, int socket_id);

/** Free a queue; it must be stopped. NULL is a no-op. */
void vrq_free(struct vrq *q);

/** Block until no lcore is inside a burst on @p q; the control thread then owns it. */
void vrq_lock(struct vrq *q);
void vrq_unlock(struct vrq *q);

/**
 * Start the queue (caller holds the lock). Validates the setup (size a power
 * of two, ring areas inside guest memory as given by vrq_set_mem()), selects
 * the burst functions for the negotiated features, and for split rings
 * resyncs to used->idx when it disagrees with the base (backend restart).
 * @return 0, or -EINVAL (bad size, no memory table), -EFAULT (ring outside memory).
 */
int vrq_start(struct vrq *q, const struct vrq_setup *s);

/**
 * Stop the queue (caller holds the lock). Clears the broken flag.
 * @return the ring position for GET_VRING_BASE (split: last_avail_idx; packed:
 * last_avail_idx | avail_wrap << 15).
 */
uint16_t vrq_stop(struct vrq *q);

/** True between vrq_start() and vrq_stop(). */
bool vrq_is_started(const struct vrq *q);

/** True once a guest fault stopped the queue (cleared by vrq_stop()). */
bool vrq_is_broken(const struct vrq *q);

/** Publish a memory table (caller holds the lock; NULL detaches). */
void vrq_set_mem(struct vrq *q, const struct vrq_mem *mem);

/** Set or clear the dirty log (caller holds the lock; NULL disables). */
void vrq_set_log(struct vrq *q, const struct vrq_log *log);

/** Replace the call fd (caller holds the lock); the queue does not own it. */
void vrq_set_call_fd(struct vrq *q, int call_fd);

/**
 * Guest TX: take up to @p nb_pkts chains from the ring into mbufs from @p mp.
 * Offloads requested in the virtio-net header become TX offload flags on the
 * mbuf (l2_len, l3_len, l4_len, RTE_MBUF_F_TX_*_CKSUM, RTE_MBUF_F_TX_TCP_SEG).
 * @return number of mbufs written to @p pkts.
 */
uint16_t vrq_dequeue_burst(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts,
			   uint16_t nb_pkts);

/**
 * Guest RX: copy up to @p nb_pkts mbufs into guest buffers. The mbufs are not
 * freed. TX offload flags become virtio-net header fields when the guest
 * negotiated them, and are completed in software otherwise.
 * @return number of mbufs copied (the first ones of @p pkts).
 */
uint16_t vrq_enqueue_burst(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);

/** Read or clear the counters; safe from any thread (relaxed reads). */
void vrq_stats_get(const struct vrq *q, struct vrq_stats *st);
void vrq_stats_reset(struct vrq *q);

/**
 * Complete in software the offloads that @p pkt requests and that @p tx_capa
 * (RTE_ETH_TX_OFFLOAD_* bits of the receiver) cannot do. GSO segments go to
 * @p out (at most @p nb_out; the original is consumed), otherwise *out = pkt.
 * @return number of packets in @p out, or -errno (the packet is left to the caller).
 */
int vrq_offload_complete(struct rte_mbuf *pkt, uint64_t tx_capa, struct rte_mbuf **out,
			 uint16_t nb_out);

#endif /* VRQ_H */
