/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst, "Message
 * Specification"): a 12-byte header (request, flags, size) followed by
 * `size` bytes of payload, with file descriptors in SCM_RIGHTS ancillary data
 * of the first byte. Every field arrives from the frontend and is hostile:
 * this header only describes the layout; vhu_msg.c checks each message
 * against its row in the handler table before any handler sees it.
 */
#ifndef VHU_PROTO_H
#define VHU_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "vrq_ring.h"

/* Request codes (vhost-user.rst "Front-end message types"). */
enum vhu_req {
	VHU_REQ_NONE = 0,
	VHU_REQ_GET_FEATURES = 1,
	VHU_REQ_SET_FEATURES = 2,
	VHU_REQ_SET_OWNER = 3,
	VHU_REQ_RESET_OWNER = 4,
	VHU_REQ_SET_MEM_TABLE = 5,
	VHU_REQ_SET_LOG_BASE = 6,
	VHU_REQ_SET_LOG_FD = 7,
	VHU_REQ_SET_VRING_NUM = 8,
	VHU_REQ_SET_VRING_ADDR = 9,
	VHU_REQ_SET_VRING_BASE = 10,
	VHU_REQ_GET_VRING_BASE = 11,
	VHU_REQ_SET_VRING_KICK = 12,
	VHU_REQ_SET_VRING_CALL = 13,
	VHU_REQ_SET_VRING_ERR = 14,
	VHU_REQ_GET_PROTOCOL_FEATURES = 15,
	VHU_REQ_SET_PROTOCOL_FEATURES = 16,
	VHU_REQ_GET_QUEUE_NUM = 17,
	VHU_REQ_SET_VRING_ENABLE = 18,
	VHU_REQ_SEND_RARP = 19,
	VHU_REQ_NET_SET_MTU = 20,
	VHU_REQ_SET_BACKEND_REQ_FD = 21,
	VHU_REQ_IOTLB_MSG = 22,
	VHU_REQ_SET_VRING_ENDIAN = 23,
	VHU_REQ_GET_CONFIG = 24,
	VHU_REQ_SET_CONFIG = 25,
	VHU_REQ_RESET_DEVICE = 34,
	VHU_REQ_GET_MAX_MEM_SLOTS = 36,
	VHU_REQ_ADD_MEM_REG = 37,
	VHU_REQ_REM_MEM_REG = 38,
	VHU_REQ_SET_STATUS = 39,
	VHU_REQ_GET_STATUS = 40,
	VHU_REQ_MAX
};

/* Header flags: bits 0-1 version, bit 2 reply, bit 3 need-reply. */
#define VHU_FLAG_VERSION_MASK 0x3u
#define VHU_FLAG_VERSION 0x1u
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
#define VHU_FLAG_KNOWN (VHU_FLAG_VERSION_MASK | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY)

/* Protocol feature bits (vhost-user.rst "Protocol features"). */
#define VHU_PROTO_F_MQ 0
#define VHU_PROTO_F_LOG_SHMFD 1
#define VHU_PROTO_F_RARP 2
#define VHU_PROTO_F_REPLY_ACK 3
#define VHU_PROTO_F_NET_MTU 4
#define VHU_PROTO_F_BACKEND_REQ 5
#define VHU_PROTO_F_CONFIG 9
#define VHU_PROTO_F_RESET_DEVICE 13
#define VHU_PROTO_F_CONFIGURE_MEM_SLOTS 15
#define VHU_PROTO_F_STATUS 16

#define VHU_PROTO_FEATURES_OFFERED                                                \
	(uint64_t)(VRQ_FBIT(VHU_PROTO_F_MQ) | VRQ_FBIT(VHU_PROTO_F_LOG_SHMFD) |   \
		   VRQ_FBIT(VHU_PROTO_F_RARP) | VRQ_FBIT(VHU_PROTO_F_REPLY_ACK) | \
		   VRQ_FBIT(VHU_PROTO_F_NET_MTU) | VRQ_FBIT(VHU_PROTO_F_CONFIG) | \
		   VRQ_FBIT(VHU_PROTO_F_CONFIGURE_MEM_SLOTS) | VRQ_FBIT(VHU_PROTO_F_STATUS))

/* u64 payload of SET_VRING_KICK/CALL/ERR: bits 0-7 index, bit 8 "no fd" (polling). */
#define VHU_VRING_IDX_MASK 0xffu
#define VHU_VRING_NOFD_MASK 0x100u

/* SET_VRING_ADDR flags: bit 0 = log the used ring (VHOST_VRING_F_LOG). */
#define VHU_VRING_F_LOG 0x1u

/* SET_MEM_TABLE carries at most this many regions (and fds). */
#define VHU_MEM_REGIONS_MSG_MAX 8

/* Largest number of fds any message may carry. */
#define VHU_MSG_FDS_MAX VHU_MEM_REGIONS_MSG_MAX

/* GET_CONFIG / SET_CONFIG: largest config space a message may carry. */
#define VHU_CONFIG_SIZE_MAX 256

struct vhu_msg_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* bytes of payload that follow */
} __rte_packed;
static_assert(sizeof(struct vhu_msg_hdr) == 12, "vhost-user header is 12 bytes");

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
} __rte_packed;
static_assert(sizeof(struct vhu_vring_state) == 8, "vring state payload");

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_qva;
	uint64_t used_qva;
	uint64_t avail_qva;
	uint64_t log_gpa; /* guest-physical address of the used ring, for the log */
} __rte_packed;
static_assert(sizeof(struct vhu_vring_addr) == 40, "vring address payload");
static_assert(offsetof(struct vhu_vring_addr, used_qva) == 16, "vring address layout");

struct vhu_mem_region_msg {
	uint64_t gpa;
	uint64_t size;
	uint64_t qva;
	uint64_t mmap_offset;
} __rte_packed;
static_assert(sizeof(struct vhu_mem_region_msg) == 32, "memory region");

struct vhu_mem_table_msg {
	uint32_t nb_regions;
	uint32_t padding;
	struct vhu_mem_region_msg regions[VHU_MEM_REGIONS_MSG_MAX];
} __rte_packed;
static_assert(sizeof(struct vhu_mem_table_msg) == 8 + 8 * 32, "memory table payload");

/* ADD_MEM_REG / REM_MEM_REG */
struct vhu_mem_reg_msg {
	uint64_t padding;
	struct vhu_mem_region_msg region;
} __rte_packed;
static_assert(sizeof(struct vhu_mem_reg_msg) == 40, "single memory region payload");

struct vhu_log_msg {
	uint64_t mmap_size;
	uint64_t mmap_offset;
} __rte_packed;
static_assert(sizeof(struct vhu_log_msg) == 16, "log payload");

/* GET_CONFIG / SET_CONFIG: header, then `size` bytes of config space. */
struct vhu_config_msg {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHU_CONFIG_SIZE_MAX];
} __rte_packed;
#define VHU_CONFIG_HDR_SIZE offsetof(struct vhu_config_msg, region)
static_assert(VHU_CONFIG_HDR_SIZE == 12, "config payload header");

union vhu_payload {
	uint64_t u64;
	struct vhu_vring_state state;
	struct vhu_vring_addr addr;
	struct vhu_mem_table_msg mem;
	struct vhu_mem_reg_msg mem_reg;
	struct vhu_log_msg log;
	struct vhu_config_msg config;
};
static_assert(sizeof(struct vhu_config_msg) == 268, "config payload");
/* The union is padded to 8 bytes; the largest legal payload is a full config message. */
#define VHU_PAYLOAD_MAX ((uint32_t)sizeof(struct vhu_config_msg))
static_assert(sizeof(union vhu_payload) >= VHU_PAYLOAD_MAX, "payload union holds every payload");

/* Payload sizes of fixed-size requests, for the handler table. */
#define VHU_SIZE_U64 ((uint16_t)sizeof(uint64_t))
#define VHU_SIZE_STATE ((uint16_t)sizeof(struct vhu_vring_state))
#define VHU_SIZE_ADDR ((uint16_t)sizeof(struct vhu_vring_addr))
#define VHU_SIZE_MEM_REG ((uint16_t)sizeof(struct vhu_mem_reg_msg))
#define VHU_SIZE_LOG ((uint16_t)sizeof(struct vhu_log_msg))

/* One message as received: header, payload copy, fds received with it. */
struct vhu_msg {
	struct vhu_msg_hdr hdr;
	union vhu_payload payload;
	int fds[VHU_MSG_FDS_MAX];
	uint8_t nb_fds;
};

/* virtio-net config space (virtio 1.2, 5.1.4), as GET_CONFIG returns it. */
struct vhu_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
	uint32_t speed;
	uint8_t duplex;
	uint8_t rss_max_key_size;
	uint16_t rss_max_indirection_table_length;
	uint32_t supported_hash_types;
} __rte_packed;
static_assert(sizeof(struct vhu_net_config) == 24, "virtio-net config space");

#define VHU_NET_S_LINK_UP 1

#endif /* VHU_PROTO_H */
