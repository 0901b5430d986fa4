/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal state of the vhost-user control plane, shared by vhu_sock.c
 * (sockets, control thread), vhu_msg.c (framing, dispatcher), vhu_dev.c
 * (request handlers, ring lifecycle) and vhu_mem.c (guest memory). Not
 * visible outside vhost/ except to the unit tests.
 *
 * Everything in a struct vhu_msg and everything behind a guest mapping comes
 * from the frontend or the guest and is hostile. All of this state is owned
 * by the control thread: it is only touched with vhu_ctl_mutex held.
 */
#ifndef VHU_INTERNAL_H
#define VHU_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vhu.h"
#include "vhu_proto.h"
#include "vrq.h"

extern int vhu_logtype;
#define VHU_LOG(level, s, fmt, ...) \
	rte_log(RTE_LOG_##level, vhu_logtype, "vhu: %s: " fmt "\n", (s)->path, ##__VA_ARGS__)

#define VHU_NB_VQS_MAX (2 * VHU_QUEUE_PAIRS_MAX)

/* Log lines a frontend may cause per second before repeats are suppressed. */
#define VHU_PEER_LOG_BURST 10

/* Handler results besides 0 / -errno: the payload of msg holds a reply. */
#define VHU_MSG_REPLY 1

/* One virtqueue as the frontend configured it (values as received, unchecked qva). */
struct vhu_vq {
	struct vrq *q;
	struct vhu_vring_addr addr; /* raw SET_VRING_ADDR payload */
	uint16_t num;
	uint16_t base;  /* SET_VRING_BASE, or where vrq_stop() left the ring */
	bool base_used; /* packed: the frontend sent the used position in bits 16-31 of the base */
	bool num_set;
	bool addr_set;
	bool kicked;  /* SET_VRING_KICK received (fd or NOFD) since the last stop */
	bool enabled; /* SET_VRING_ENABLE, or implied by the kick without PROTOCOL_FEATURES */
	bool started; /* vrq_start() succeeded and no vrq_stop() since */
	int kick_fd;
	int call_fd;
	int err_fd;
};

/* One mmap of guest memory. */
struct vhu_map {
	void *addr;   /* mmap result */
	size_t len;   /* mmap length (page aligned) */
	uint64_t gpa; /* region as the frontend described it */
	uint64_t size;
	uint64_t qva;
	uint64_t offset;
	uint64_t hva; /* our address of gpa */
	dev_t st_dev; /* identity of the backing file, to spot a re-sent table */
	ino_t st_ino;
	int range; /* slot in the SIGBUS range table, -1 if none */
};

/* A region REM_MEM_REG removed, as the frontend named it (gpa, size, qva). */
struct vhu_mem_gone {
	uint64_t gpa;
	uint64_t size;
	uint64_t qva;
};

/* The frontend connection and everything it configured. Reset on disconnect. */
struct vhu_dev {
	struct vhu_sock *s;
	int fd; /* -1 when not connected */

	/* Reassembly of one message: a slow or partial peer never blocks the thread. */
	uint8_t rx_buf[sizeof(struct vhu_msg_hdr) + sizeof(union vhu_payload)];
	uint32_t rx_len;
	int rx_fds[VHU_MSG_FDS_MAX];
	uint8_t rx_nb_fds;

	uint64_t features;
	uint64_t proto_features;
	bool features_set;
	bool ready;
	uint8_t status;
	uint16_t mtu;
	struct vhu_vq vqs[VHU_NB_VQS_MAX];

	/* Guest memory: the published table and the mappings behind it. */
	struct vhu_map maps[VRQ_MEM_REGIONS_MAX];
	uint32_t nb_maps;
	struct vrq_mem *mem;
	/* Last regions removed, so a repeated REM_MEM_REG (QEMU 7.2, per queue pair) is acked. */
	struct vhu_mem_gone gone[VRQ_MEM_REGIONS_MAX];
	uint32_t nb_gone;
	uint32_t gone_next;

	/* Dirty log (SET_LOG_BASE). */
	void *log_map;
	size_t log_map_len;
	int log_range; /* log_map's slot in the SIGBUS range table, -1 if none */
	struct vrq_log *log;
	int log_fd; /* SET_LOG_FD */

	/* Rate limit of peer-triggered log lines. */
	uint64_t peer_log_sec;
	uint32_t peer_log_count;
	uint32_t peer_log_suppressed;
	uint64_t peer_log_calls; /* lets the dispatcher log a refusal exactly once */
};

struct vhu_sock {
	char path[108];
	struct vhu_sock_conf conf;
	struct vhu_ops ops;
	void *ctx;
	uint64_t features_offered;

	uint32_t slot; /* index in the control thread's socket table */
	uint32_t listen_token;
	uint32_t conn_token;
	uint32_t timer_token;
	int listen_fd;
	int timer_fd;
	uint32_t redial_ms; /* client: next back-off delay */
	bool doomed;        /* destroy requested from a callback: freed by the control thread */

	uint16_t nb_vrqs;
	struct vhu_dev dev;

	/* Read from any thread: relaxed atomics. */
	bool ready_pub;
	uint64_t features_pub;
	uint64_t stats[VHU_STAT_MAX];
};

static inline void
vhu_stat_inc(struct vhu_sock *s, enum vhu_stat_id id)
{
	__atomic_fetch_add(&s->stats[id], 1, __ATOMIC_RELAXED);
}

/* vhu_sock.c */
void vhu_conn_close(struct vhu_sock *s, const char *why);
void vhu_ctl_wake_async(void); /* async-signal-safe */

/* vhu_msg.c */
int vhu_msg_on_readable(struct vhu_dev *dev);
void vhu_msg_drop_rx(struct vhu_dev *dev);
void vhu_peer_log(struct vhu_dev *dev, const char *fmt, ...) __rte_format_printf(2, 3);
const char *vhu_req_name(uint32_t request);

/* vhu_dev.c: lifecycle */
void vhu_dev_init(struct vhu_dev *dev, struct vhu_sock *s);
void vhu_dev_teardown(struct vhu_dev *dev);
int vhu_vq_try_start(struct vhu_dev *dev, uint16_t vq_idx);
int vhu_vq_restart_locked(struct vhu_dev *dev, uint16_t vq_idx);
void vhu_vq_stopped(struct vhu_dev *dev, uint16_t vq_idx, bool device_stop);
void vhu_dev_apply_log(struct vhu_dev *dev);
int vhu_fd_is_eventfd(int fd);

/* vhu_mem.c */
void *vhu_mem_qva_to_hva(const struct vrq_mem *mem, uint64_t qva, uint64_t len);
void vhu_mem_teardown(struct vhu_dev *dev);
int vhu_mem_sigbus_init(void);
/* Consume SIGBUS hits; returns a socket slot hit, or -1 when none is left. */
int vhu_mem_sigbus_next(void);

/* Request handlers (vhu_dev.c and vhu_mem.c), named after their message. */
int vhu_get_features(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_features(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_get_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_owner(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_reset_owner(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_reset_device(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_num(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_addr(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_base(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_get_vring_base(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_kick(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_call(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_err(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_vring_enable(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_get_queue_num(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_net_set_mtu(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_send_rarp(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_status(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_get_status(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_get_config(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_config(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_log_fd(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_mem_table(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_get_max_mem_slots(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_add_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_rem_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg);
int vhu_set_log_base(struct vhu_dev *dev, struct vhu_msg *msg);

/* vq index extracted by the dispatcher for VHU_F_VRING requests. */
static inline uint16_t
vhu_msg_vq_idx(const struct vhu_msg *msg)
{
	switch (msg->hdr.request) {
	case VHU_REQ_SET_VRING_KICK:
	case VHU_REQ_SET_VRING_CALL:
	case VHU_REQ_SET_VRING_ERR:
		return (uint16_t)(msg->payload.u64 & VHU_VRING_IDX_MASK);
	case VHU_REQ_SET_VRING_ADDR:
		return (uint16_t)msg->payload.addr.index;
	default:
		return (uint16_t)msg->payload.state.index;
	}
}

/* Take ownership of received fd @p i (the dispatcher closes the ones left). */
static inline int
vhu_msg_take_fd(struct vhu_msg *msg, unsigned int i)
{
	int fd = msg->fds[i];

	msg->fds[i] = -1;
	return fd;
}

#endif /* VHU_INTERNAL_H */
