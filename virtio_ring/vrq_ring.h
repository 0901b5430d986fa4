/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtqueue layouts as the virtio 1.2 specification defines them (2.7 split,
 * 2.8 packed), and the virtio-net header (5.1.6). Everything here lives in
 * guest memory and is written by an untrusted guest: shared fields are read
 * and written only through the accessors below, which do the little-endian
 * conversion and the memory ordering the spec requires.
 *
 * Split ring (2.7):
 *
 *   desc[size]      { addr le64, len le32, flags le16, next le16 }   16-byte aligned
 *   avail           { flags le16, idx le16, ring[size] le16, used_event le16 }
 *   used            { flags le16, idx le16, ring[size] {id le32, len le32}, avail_event le16 }
 *
 * Packed ring (2.8):
 *
 *   desc[size]      { addr le64, len le32, id le16, flags le16 }
 *   driver event    { off_wrap le16, flags le16 }   (driver -> device suppression)
 *   device event    { off_wrap le16, flags le16 }   (device -> driver suppression)
 */
#ifndef VRQ_RING_H
#define VRQ_RING_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

/* Descriptor flags (2.7.5, 2.8.?) */
#define VRQ_DESC_F_NEXT 1
#define VRQ_DESC_F_WRITE 2
#define VRQ_DESC_F_INDIRECT 4
#define VRQ_DESC_F_AVAIL (1u << 7)
#define VRQ_DESC_F_USED (1u << 15)

/* Split ring suppression flags (2.7.7, 2.7.10) */
#define VRQ_AVAIL_F_NO_INTERRUPT 1
#define VRQ_USED_F_NO_NOTIFY 1

/* Packed ring event suppression (2.8.10) */
#define VRQ_EVENT_F_ENABLE 0x0
#define VRQ_EVENT_F_DISABLE 0x1
#define VRQ_EVENT_F_DESC 0x2

/* 2.7: "Queue Size ... maximum 32768" */
#define VRQ_SIZE_MAX 32768

/* Feature bits that the ring layer interprets (6, 5.1.3). */
#define VRQ_F_NET_CSUM 0
#define VRQ_F_NET_GUEST_CSUM 1
#define VRQ_F_NET_MTU 3
#define VRQ_F_NET_MAC 5
#define VRQ_F_NET_GUEST_TSO4 7
#define VRQ_F_NET_GUEST_TSO6 8
#define VRQ_F_NET_GUEST_ECN 9
#define VRQ_F_NET_GUEST_UFO 10
#define VRQ_F_NET_HOST_TSO4 11
#define VRQ_F_NET_HOST_TSO6 12
#define VRQ_F_NET_HOST_ECN 13
#define VRQ_F_NET_HOST_UFO 14
#define VRQ_F_NET_MRG_RXBUF 15
#define VRQ_F_NET_STATUS 16
#define VRQ_F_NET_CTRL_VQ 17
#define VRQ_F_NET_CTRL_RX 18
#define VRQ_F_NET_GUEST_ANNOUNCE 21
#define VRQ_F_NET_MQ 22
#define VRQ_F_NOTIFY_ON_EMPTY 24
#define VRQ_F_ANY_LAYOUT 27
#define VRQ_F_INDIRECT_DESC 28
#define VRQ_F_EVENT_IDX 29
#define VRQ_F_LOG_ALL 26 /* VHOST_F_LOG_ALL, vhost-user.rst */
#define VRQ_F_PROTOCOL_FEATURES 30
#define VRQ_F_VERSION_1 32
#define VRQ_F_ACCESS_PLATFORM 33
#define VRQ_F_RING_PACKED 34
#define VRQ_F_IN_ORDER 35

#define VRQ_FBIT(b) (1ULL << (b))

struct vrq_desc {
	rte_le64_t addr; /* guest-physical address of the buffer */
	rte_le32_t len;
	rte_le16_t flags;
	rte_le16_t next;
};
static_assert(sizeof(struct vrq_desc) == 16, "split descriptor is 16 bytes");

struct vrq_avail {
	rte_le16_t flags;
	rte_le16_t idx;
	rte_le16_t ring[]; /* size entries, then used_event */
};
static_assert(offsetof(struct vrq_avail, ring) == 4, "avail ring layout");

struct vrq_used_elem {
	rte_le32_t id;
	rte_le32_t len;
};
static_assert(sizeof(struct vrq_used_elem) == 8, "used element is 8 bytes");

struct vrq_used {
	rte_le16_t flags;
	rte_le16_t idx;
	struct vrq_used_elem ring[]; /* size entries, then avail_event */
};
static_assert(offsetof(struct vrq_used, ring) == 4, "used ring layout");

struct vrq_packed_desc {
	rte_le64_t addr;
	rte_le32_t len;
	rte_le16_t id;
	rte_le16_t flags;
};
static_assert(sizeof(struct vrq_packed_desc) == 16, "packed descriptor is 16 bytes");
static_assert(offsetof(struct vrq_packed_desc, flags) == 14, "packed descriptor layout");

struct vrq_packed_event {
	rte_le16_t off_wrap;
	rte_le16_t flags;
};
static_assert(sizeof(struct vrq_packed_event) == 4, "packed event is 4 bytes");

/* virtio-net header (5.1.6); num_buffers is present with VERSION_1 or MRG_RXBUF. */
#define VRQ_NET_HDR_F_NEEDS_CSUM 1
#define VRQ_NET_HDR_F_DATA_VALID 2
#define VRQ_NET_HDR_GSO_NONE 0
#define VRQ_NET_HDR_GSO_TCPV4 1
#define VRQ_NET_HDR_GSO_UDP 3
#define VRQ_NET_HDR_GSO_TCPV6 4
#define VRQ_NET_HDR_GSO_ECN 0x80

struct vrq_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	rte_le16_t hdr_len;
	rte_le16_t gso_size;
	rte_le16_t csum_start;
	rte_le16_t csum_offset;
	rte_le16_t num_buffers;
};
static_assert(sizeof(struct vrq_net_hdr) == 12, "virtio-net header with num_buffers");
#define VRQ_NET_HDR_LEN_LEGACY 10

/* Ring sizes in bytes, for the contiguity check at setup (2.7 table). */
static inline size_t
vrq_split_desc_bytes(uint16_t size)
{
	return (size_t)size * sizeof(struct vrq_desc);
}

static inline size_t
vrq_split_avail_bytes(uint16_t size)
{
	return sizeof(struct vrq_avail) + (size_t)size * 2 + 2;
}

static inline size_t
vrq_split_used_bytes(uint16_t size)
{
	return sizeof(struct vrq_used) + (size_t)size * sizeof(struct vrq_used_elem) + 2;
}

static inline size_t
vrq_packed_desc_bytes(uint16_t size)
{
	return (size_t)size * sizeof(struct vrq_packed_desc);
}

/*
 * Shared-field accessors. The guest may change any field at any time; callers
 * load each field once into a local and decide from the local.
 */
static inline uint16_t
vrq_avail_idx_acquire(const struct vrq_avail *avail)
{
	return rte_le_to_cpu_16(__atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE));
}

static inline uint16_t
vrq_avail_flags(const struct vrq_avail *avail)
{
	return rte_le_to_cpu_16(__atomic_load_n(&avail->flags, __ATOMIC_RELAXED));
}

static inline uint16_t
vrq_avail_ring(const struct vrq_avail *avail, uint16_t slot)
{
	return rte_le_to_cpu_16(__atomic_load_n(&avail->ring[slot], __ATOMIC_RELAXED));
}

/* used_event lives after avail->ring[size] (2.7.10). */
static inline uint16_t
vrq_used_event(const struct vrq_avail *avail, uint16_t size)
{
	return rte_le_to_cpu_16(__atomic_load_n(&avail->ring[size], __ATOMIC_RELAXED));
}

static inline void
vrq_desc_read(const struct vrq_desc *d, struct vrq_desc *out)
{
	/* One copy: every decision is made on *out, never on the shared slot. */
	out->addr = rte_le_to_cpu_64(__atomic_load_n(&d->addr, __ATOMIC_RELAXED));
	out->len = rte_le_to_cpu_32(__atomic_load_n(&d->len, __ATOMIC_RELAXED));
	out->flags = rte_le_to_cpu_16(__atomic_load_n(&d->flags, __ATOMIC_RELAXED));
	out->next = rte_le_to_cpu_16(__atomic_load_n(&d->next, __ATOMIC_RELAXED));
}

static inline void
vrq_used_elem_write(struct vrq_used *used, uint16_t slot, uint32_t id, uint32_t len)
{
	used->ring[slot].id = rte_cpu_to_le_32(id);
	used->ring[slot].len = rte_cpu_to_le_32(len);
}

static inline uint16_t
vrq_used_idx_read(const struct vrq_used *used)
{
	return rte_le_to_cpu_16(__atomic_load_n(&used->idx, __ATOMIC_RELAXED));
}

/* Entries first, then the index: the release store orders them (2.7.8). */
static inline void
vrq_used_idx_release(struct vrq_used *used, uint16_t idx)
{
	__atomic_store_n(&used->idx, rte_cpu_to_le_16(idx), __ATOMIC_RELEASE);
}

static inline void
vrq_used_flags_write(struct vrq_used *used, uint16_t flags)
{
	__atomic_store_n(&used->flags, rte_cpu_to_le_16(flags), __ATOMIC_RELAXED);
}

/* avail_event lives after used->ring[size] (2.7.10). */
static inline void
vrq_avail_event_write(struct vrq_used *used, uint16_t size, uint16_t idx)
{
	rte_le16_t *ev = (rte_le16_t *)&used->ring[size];

	__atomic_store_n(ev, rte_cpu_to_le_16(idx), __ATOMIC_RELAXED);
}

/* Packed: flags are loaded with acquire before id, len and addr (2.8.6). */
static inline uint16_t
vrq_packed_flags_acquire(const struct vrq_packed_desc *d)
{
	return rte_le_to_cpu_16(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));
}

static inline void
vrq_packed_desc_read(const struct vrq_packed_desc *d, uint16_t flags, struct vrq_packed_desc *out)
{
	out->addr = rte_le_to_cpu_64(__atomic_load_n(&d->addr, __ATOMIC_RELAXED));
	out->len = rte_le_to_cpu_32(__atomic_load_n(&d->len, __ATOMIC_RELAXED));
	out->id = rte_le_to_cpu_16(__atomic_load_n(&d->id, __ATOMIC_RELAXED));
	out->flags = flags;
}

/*
 * Packed: write a used descriptor (2.8.6: the driver must not see flags
 * before id and len). len, id and flags are the descriptor's second eight
 * bytes (8-aligned: rings are checked 16-aligned at setup), so one release
 * store publishes the three together: the order holds trivially, and the
 * store buffer gets one entry per completion instead of three (at 64 B the
 * completions wait for lines the driver's core owns).
 */
static inline void
vrq_packed_desc_complete(struct vrq_packed_desc *d, uint16_t id, uint32_t len, uint16_t flags)
{
	uint64_t w = (uint64_t)len | (uint64_t)id << 32 | (uint64_t)flags << 48;
	static_assert(offsetof(struct vrq_packed_desc, len) == 8, "len, id, flags: bytes 8-15");
	__atomic_store_n((uint64_t *)(void *)&d->len, rte_cpu_to_le_64(w), __ATOMIC_RELEASE);
}

static inline uint16_t
vrq_packed_event_read(const struct vrq_packed_event *ev, uint16_t *off_wrap)
{
	uint16_t flags = rte_le_to_cpu_16(__atomic_load_n(&ev->flags, __ATOMIC_ACQUIRE));

	*off_wrap = rte_le_to_cpu_16(__atomic_load_n(&ev->off_wrap, __ATOMIC_RELAXED));
	return flags;
}

static inline void
vrq_packed_event_write(struct vrq_packed_event *ev, uint16_t flags)
{
	__atomic_store_n(&ev->flags, rte_cpu_to_le_16(flags), __ATOMIC_RELEASE);
}

/*
 * 2.7.10: the driver wants an interrupt when the device moves used idx past
 * event_idx, i.e. event_idx lies in [old, new).
 */
static inline int
vrq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#endif /* VRQ_RING_H */
