/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed-ring driver of the synthetic guest (virtio 1.2, 2.8): the test plays
 * the virtio driver on memory from vrq_guest.h. It lays out the descriptor
 * ring and the two event areas in three different regions, posts TX chains
 * and RX buffers (chained or through an indirect table) with the right
 * AVAIL/USED bits for its wrap counter (head flags written last, with
 * release), reads used descriptors back in ring order, sets the driver event
 * (interrupt suppression) and counts call-eventfd signals. Raw setters let
 * hostile tests write any descriptor.
 */
#ifndef VRQ_GUEST_PACKED_H
#define VRQ_GUEST_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrq.h"
#include "vrq_guest.h"
#include "vrq_ring.h"

/* Per buffer id: what the driver posted, to free slots and read RX data back. */
struct vrq_guest_packed_buf {
	bool in_use;
	uint16_t nb_desc; /* ring slots the chain takes */
	struct vrq_guest_chain chain;
};

struct vrq_guest_packed {
	struct vrq_guest *g;
	uint16_t size;
	uint64_t features;
	uint64_t desc_gpa, drv_event_gpa, dev_event_gpa;
	struct vrq_packed_desc *desc; /* guest views */
	struct vrq_packed_event *drv_event;
	struct vrq_packed_event *dev_event;
	uint16_t avail_idx; /* next slot the driver fills */
	bool avail_wrap;
	uint16_t used_idx; /* next slot the driver reads a completion from */
	bool used_wrap;
	uint16_t nb_free; /* free ring slots */
	uint16_t next_id; /* buffer id search cursor */
	uint64_t ind_gpa; /* when set, the next indirect table goes here (then cleared) */
	int call_fd;      /* eventfd the backend signals (non-blocking) */
	uint64_t nb_calls;
	struct vrq_guest_packed_buf *bufs; /* [size] */
};

/*
 * Option of vrq_guest_packed_add() with VRQ_GUEST_INDIRECT: write the table
 * the way DPDK 22.11's virtio PMD (virtio-user, packed_vq=1) writes its TX
 * indirect tables: every entry was preset to WRITE and the first one (the
 * virtio-net header) keeps it; the others carry NEXT (all but the last) and
 * the AVAIL/USED bits of the current lap; the buffer id is in the last entry
 * as well as in the ring slot. Only the first entry's WRITE matters to a
 * device that follows 2.8.19; the rest must be ignored.
 */
#define VRQ_GUEST_PMD_TABLE 4u

/** Lay out a packed ring of @p size entries (desc, driver event, device event in three regions). */
int vrq_guest_packed_init(struct vrq_guest_packed *p, struct vrq_guest *g, uint16_t size,
			  uint64_t features);
void vrq_guest_packed_fini(struct vrq_guest_packed *p);
/** Fill a vrq_setup (base: slot 0, wrap 1 as for a fresh ring; call fd; no err fd). */
void vrq_guest_packed_setup(const struct vrq_guest_packed *p, struct vrq_setup *out);

/**
 * Post a chain (segment flags: WRITE, and INDIRECT passed through raw for
 * hostile tests; VRQ_GUEST_INDIRECT: one ring slot pointing at a table;
 * VRQ_GUEST_NO_PUBLISH: write everything but the head's flags, see
 * vrq_guest_packed_publish()). @return the buffer id, or -errno.
 */
int vrq_guest_packed_add(struct vrq_guest_packed *p, const struct vrq_guest_seg *segs, uint16_t nb,
			 unsigned int opts);
/** TX: post @p frame (virtio-net header included) cut into @p nb pieces of @p seg_lens. */
int vrq_guest_packed_post_tx(struct vrq_guest_packed *p, const void *frame, size_t len,
			     const uint32_t *seg_lens, uint16_t nb, unsigned int opts);
/** RX: post @p nb writable buffers of @p seg_lens bytes as one chain (poisoned with 0xa5). */
int vrq_guest_packed_post_rx(struct vrq_guest_packed *p, const uint32_t *seg_lens, uint16_t nb,
			     unsigned int opts);
/** Write the head flags held back by VRQ_GUEST_NO_PUBLISH for a chain at @p slot. */
void vrq_guest_packed_publish(struct vrq_guest_packed *p, uint16_t slot, uint16_t flags);

/** Flags a driver writes for a descriptor made available in lap @p wrap. */
uint16_t vrq_guest_packed_avail_flags(bool wrap);

/*
 * Hostile tests: write slot @p slot raw (flags last, with release) and move
 * the driver's cursor; the caller owns consistency.
 */
void vrq_guest_packed_desc_set(struct vrq_guest_packed *p, uint16_t slot, uint64_t addr,
			       uint32_t len, uint16_t id, uint16_t flags);
/** Raw read of slot @p slot as the guest sees it (for "untouched" assertions). */
void vrq_guest_packed_desc_get(const struct vrq_guest_packed *p, uint16_t slot,
			       struct vrq_packed_desc *out);

/** Pop the next completion: 1 with *id and *len; 0 when none is pending. */
int vrq_guest_packed_used_get(struct vrq_guest_packed *p, uint16_t *id, uint32_t *len);
/** Read up to @p len bytes of buffer @p id's chain (in order); bytes read or -errno. */
int vrq_guest_packed_chain_read(const struct vrq_guest_packed *p, uint16_t id, void *buf,
				size_t len);

/** Driver event suppression (2.8.10): flags VRQ_EVENT_F_*, off_wrap for F_DESC. */
void vrq_guest_packed_event_set(struct vrq_guest_packed *p, uint16_t flags, uint16_t off_wrap);
/** Device event flags as the backend left them. */
uint16_t vrq_guest_packed_dev_event_flags(const struct vrq_guest_packed *p);
/** Drain the call eventfd; @return the cumulative number of signals seen. */
uint64_t vrq_guest_packed_calls(struct vrq_guest_packed *p);

#endif /* VRQ_GUEST_PACKED_H */
