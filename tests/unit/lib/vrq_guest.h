/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic guest for the virtio_ring tests: the test plays the virtio
 * driver. Guest RAM is a set of memfd regions laid out at guest-physical
 * addresses with gaps between some of them and two regions that touch (so a
 * buffer can cross a region boundary). Each region is mapped TWICE: the
 * "guest view" (gva) that the test reads and writes, and a second mapping
 * whose address goes into the vrq_mem table (hva) that the backend uses. A
 * backend that confuses gpa, gva and hva, or picks the wrong region, reads
 * or writes the wrong bytes and the test sees it (Linux's vringh_test trick).
 *
 * The memory part (vrq_guest_*) is layout independent and is shared with the
 * packed-ring driver (vrq_guest_packed.h). The split-ring driver
 * (vrq_guest_split_*) lays out desc/avail/used, posts TX and RX chains
 * (direct or indirect, any segment shape), reads used entries, and drives
 * notification suppression while counting call-eventfd signals.
 */
#ifndef VRQ_GUEST_H
#define VRQ_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrq.h"
#include "vrq_ring.h"

#define VRQ_GUEST_REGIONS_MAX 8

/* Where one region sits in guest-physical space; size is a page multiple. */
struct vrq_guest_region_spec {
	uint64_t gpa;
	uint64_t size;
};

struct vrq_guest_region {
	int fd;
	uint64_t gpa;
	uint64_t size;
	uint8_t *gva;       /* the test's (guest's) mapping */
	uint8_t *hva;       /* second mapping of the same memfd: the backend's */
	uint64_t alloc_off; /* bump allocator */
};

struct vrq_guest {
	uint32_t nb_regions;
	struct vrq_guest_region regions[VRQ_GUEST_REGIONS_MAX];
	struct vrq_mem mem; /* table for vrq_set_mem(): hva = second mapping */
	uint32_t alloc_region;
};

/*
 * Default layout (see vrq_guest.c): four regions, gaps between the first
 * three, the fourth adjacent to the third. VRQ_GUEST_GAP_GPA is a guest
 * address inside no region.
 */
#define VRQ_GUEST_GAP_GPA 0x600000ULL

/** Map the regions of @p spec; 0 or -errno. */
int vrq_guest_init(struct vrq_guest *g, const struct vrq_guest_region_spec *spec, uint32_t nb);
/** The default layout. */
int vrq_guest_init_default(struct vrq_guest *g);
void vrq_guest_fini(struct vrq_guest *g);

/** The memory table to pass to vrq_set_mem(). */
const struct vrq_mem *vrq_guest_mem(const struct vrq_guest *g);

/** Guest view of [gpa, gpa + len), NULL unless it lies inside one region. */
void *vrq_guest_gva(const struct vrq_guest *g, uint64_t gpa, uint64_t len);
/** Backend view of [gpa, gpa + len) (for vrq_setup ring pointers), NULL likewise. */
void *vrq_guest_hva(const struct vrq_guest *g, uint64_t gpa, uint64_t len);

/**
 * Allocate guest memory (bump allocator, regions in order, never crossing a
 * region). @return the gpa, or 0 when full (gpa 0 is in no region).
 */
uint64_t vrq_guest_alloc(struct vrq_guest *g, uint64_t size, uint64_t align);
/** Allocate in region @p region only; 0 when it is full. */
uint64_t vrq_guest_alloc_in(struct vrq_guest *g, uint32_t region, uint64_t size, uint64_t align);
/** Rewind every allocator (the test knows nothing is in flight). */
void vrq_guest_alloc_reset(struct vrq_guest *g);

/** Copy through the guest view; may cross touching regions. 0 or -EFAULT. */
int vrq_guest_write(struct vrq_guest *g, uint64_t gpa, const void *src, size_t len);
int vrq_guest_read(const struct vrq_guest *g, uint64_t gpa, void *dst, size_t len);
int vrq_guest_fill(struct vrq_guest *g, uint64_t gpa, uint8_t byte, size_t len);

/* ---- Split-ring driver ---- */

/* One buffer of a chain. gpa 0 = allocate len bytes. */
struct vrq_guest_seg {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags; /* VRQ_DESC_F_WRITE for RX buffers; NEXT is added by the driver */
};

/* Options of vrq_guest_split_add(). */
#define VRQ_GUEST_INDIRECT 1u   /* put the chain in an indirect table */
#define VRQ_GUEST_NO_PUBLISH 2u /* add to avail ring but do not store avail->idx */

#define VRQ_GUEST_CHAIN_MAX 1024

/*
 * Segments for a chain of @p nb buffers of @p seg_lens bytes (layout-free):
 * TX: device-readable, holding @p frame in order (len must fit exactly);
 * RX: device-writable, poisoned with 0xa5. @return 0 or -errno.
 */
int vrq_guest_segs_tx(struct vrq_guest *g, const void *frame, size_t len, const uint32_t *seg_lens,
		      uint16_t nb, struct vrq_guest_seg *segs);
int vrq_guest_segs_rx(struct vrq_guest *g, const uint32_t *seg_lens, uint16_t nb,
		      struct vrq_guest_seg *segs);

/* What the driver remembers of a posted chain, to read RX data back. */
struct vrq_guest_chain {
	uint16_t nb;
	uint64_t gpa[VRQ_GUEST_CHAIN_MAX];
	uint32_t len[VRQ_GUEST_CHAIN_MAX];
};

struct vrq_guest_split {
	struct vrq_guest *g;
	uint16_t size;
	uint64_t features;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vrq_desc *desc; /* guest views */
	struct vrq_avail *avail;
	struct vrq_used *used;
	uint16_t avail_idx; /* driver's next avail index */
	uint16_t used_idx;  /* driver's last consumed used index */
	uint16_t next_desc; /* descriptor allocation cursor */
	int call_fd;        /* eventfd the backend signals (non-blocking) */
	uint64_t nb_calls;
	struct vrq_guest_chain *chains; /* per head */
};

/** Lay out a split ring of @p size entries (desc, avail, used in three different regions). */
int vrq_guest_split_init(struct vrq_guest_split *s, struct vrq_guest *g, uint16_t size,
			 uint64_t features);
void vrq_guest_split_fini(struct vrq_guest_split *s);
/** Fill a vrq_setup for this ring (base 0, call fd, no err fd, no log). */
void vrq_guest_split_setup(const struct vrq_guest_split *s, struct vrq_setup *out);

/**
 * Post a chain of @p nb segments (and publish avail->idx unless
 * VRQ_GUEST_NO_PUBLISH). @return the head descriptor id, or -errno.
 */
int vrq_guest_split_add(struct vrq_guest_split *s, const struct vrq_guest_seg *segs, uint16_t nb,
			unsigned int opts);
/** TX: post @p frame (virtio-net header included) cut into @p nb pieces of @p seg_lens. */
int vrq_guest_split_post_tx(struct vrq_guest_split *s, const void *frame, size_t len,
			    const uint32_t *seg_lens, uint16_t nb, unsigned int opts);
/** RX: post @p nb writable buffers of @p seg_lens bytes as one chain. */
int vrq_guest_split_post_rx(struct vrq_guest_split *s, const uint32_t *seg_lens, uint16_t nb,
			    unsigned int opts);

/* Raw access for hostile tests. */
void vrq_guest_split_desc_set(struct vrq_guest_split *s, uint16_t i, uint64_t addr, uint32_t len,
			      uint16_t flags, uint16_t next);
/** Put @p head in the next avail slot (not published). */
void vrq_guest_split_avail_push(struct vrq_guest_split *s, uint16_t head);
/** Store avail->idx = s->avail_idx with release. */
void vrq_guest_split_publish(struct vrq_guest_split *s);
/** Store an arbitrary avail->idx (release), leaving the driver's shadow alone. */
void vrq_guest_split_avail_idx_set(struct vrq_guest_split *s, uint16_t idx);

/** Used index as the device published it. */
uint16_t vrq_guest_split_used_idx(const struct vrq_guest_split *s);
/** Pop the next used entry: 1 and *id, *len; 0 when none is pending. */
int vrq_guest_split_used_get(struct vrq_guest_split *s, uint32_t *id, uint32_t *len);
/** Read up to @p len bytes written to chain @p head (in chain order); bytes read or -errno. */
int vrq_guest_split_chain_read(const struct vrq_guest_split *s, uint16_t head, void *buf,
			       size_t len);

/* Notification suppression (2.7.7, 2.7.10). */
void vrq_guest_split_no_interrupt(struct vrq_guest_split *s, bool on);
void vrq_guest_split_used_event_set(struct vrq_guest_split *s, uint16_t idx);
uint16_t vrq_guest_split_avail_event(const struct vrq_guest_split *s);
uint16_t vrq_guest_split_used_flags(const struct vrq_guest_split *s);
/** Drain the call eventfd; @return the cumulative number of eventfd writes seen (counter sum). */
uint64_t vrq_guest_split_calls(struct vrq_guest_split *s);

/* ---- Reference Internet checksum (RFC 1071), independent of the code under test ---- */

/** Add @p n bytes at @p p to @p acc as big-endian 16-bit words (odd tail padded). */
uint32_t vrq_guest_csum_sum(const uint8_t *p, size_t n, uint32_t acc);
/** Fold the carries of @p acc into 16 bits (not complemented). */
uint16_t vrq_guest_csum_fold(uint32_t acc);

/* ---- EAL for a virtio_ring test group ---- */

/**
 * rte_eal_init() without hugepages, PCI or a shared config (--no-shconf:
 * DPDK 22.11 refuses --in-memory together with --no-huge), errors-only logs,
 * @p mem_mb MiB, file prefix @p prefix; then a pktmbuf pool named @p prefix
 * of @p nb_mbufs mbufs of @p buf_size bytes (headroom included).
 * @return the pool, or NULL on failure.
 */
struct rte_mempool *vrq_guest_eal_init(const char *prefix, const char *mem_mb,
				       unsigned int nb_mbufs, uint16_t buf_size);
/**
 * vrq_guest_eal_init() with EAL argv[0] @p name and log level @p log_level
 * (the fuzzers use "*:crit": their hostile guests would flood error logs).
 * @return the pool, or NULL on failure.
 */
struct rte_mempool *vrq_guest_eal_init_log(const char *name, const char *prefix, const char *mem_mb,
					   const char *log_level, unsigned int nb_mbufs,
					   uint16_t buf_size);
/** Free the pool and clean up EAL. */
void vrq_guest_eal_fini(struct rte_mempool *mp);

/* ---- Log capture: bounded log line counts (STYLE.md 2.10); one capture at a time ---- */

/** Send DPDK log output to memory; log type @p type_name logs up to @p level meanwhile. */
int vrq_guest_log_begin(const char *type_name, uint32_t level);
/**
 * Stop capturing and restore the stream and the level. @return the number of
 * lines captured; the text in *text (caller frees) when @p text is not NULL.
 */
unsigned int vrq_guest_log_end(char **text);

#endif /* VRQ_GUEST_H */
