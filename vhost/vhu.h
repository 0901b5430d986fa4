/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost: the vhost-user protocol (QEMU docs/interop/vhost-user.rst) for a
 * virtio-net device. One struct vhu_sock is one vhost-user socket path, in
 * server mode (we listen) or client mode (we connect and re-dial with
 * backoff). At most one frontend connection is served per socket at a time.
 *
 * The virtqueues (struct vrq) belong to the socket and live as long as it
 * does, so the datapath may cache the pointers from vhu_sock_vrq(). Messages
 * are handled on one control thread (epoll) that this module starts; the
 * owner's callbacks run on that thread and must not block for long.
 */
#ifndef VHU_H
#define VHU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vrq.h"
#include "vrq_ring.h"

struct vhu_sock;

/* Queue pairs one socket can serve (virtqueues = 2 x this). */
#define VHU_QUEUE_PAIRS_MAX 16

/* Virtio features offered by default (VRQ_F_* bits of vrq_ring.h). */
#define VHU_FEATURES_DEFAULT                                                                   \
	(VRQ_FBIT(VRQ_F_NET_CSUM) | VRQ_FBIT(VRQ_F_NET_GUEST_CSUM) | VRQ_FBIT(VRQ_F_NET_MTU) | \
	 VRQ_FBIT(VRQ_F_NET_GUEST_TSO4) | VRQ_FBIT(VRQ_F_NET_GUEST_TSO6) |                     \
	 VRQ_FBIT(VRQ_F_NET_GUEST_ECN) | VRQ_FBIT(VRQ_F_NET_HOST_TSO4) |                       \
	 VRQ_FBIT(VRQ_F_NET_HOST_TSO6) | VRQ_FBIT(VRQ_F_NET_HOST_ECN) |                        \
	 VRQ_FBIT(VRQ_F_NET_MRG_RXBUF) | VRQ_FBIT(VRQ_F_NET_CTRL_VQ) |                         \
	 VRQ_FBIT(VRQ_F_NET_GUEST_ANNOUNCE) | VRQ_FBIT(VRQ_F_NET_MQ) |                         \
	 VRQ_FBIT(VRQ_F_NOTIFY_ON_EMPTY) | VRQ_FBIT(VRQ_F_ANY_LAYOUT) |                        \
	 VRQ_FBIT(VRQ_F_INDIRECT_DESC) | VRQ_FBIT(VRQ_F_EVENT_IDX) | VRQ_FBIT(VRQ_F_LOG_ALL) | \
	 VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES) | VRQ_FBIT(VRQ_F_VERSION_1) |                       \
	 VRQ_FBIT(VRQ_F_RING_PACKED) | VRQ_FBIT(VRQ_F_IN_ORDER))

/* Socket events reported to the owner, on the control thread. */
struct vhu_ops {
	/** The frontend finished setup: every enabled queue has memory, addresses, kick and
	 *  call, and the first queue pair is enabled. The owner may start polling. */
	void (*device_ready)(struct vhu_sock *s, void *ctx);
	/** The device stopped (disconnect, reset, GET_VRING_BASE of a started queue pair):
	 *  the owner sees link down. Queues are already stopped. */
	void (*device_stopped)(struct vhu_sock *s, void *ctx);
	/** A virtqueue was enabled or disabled (SET_VRING_ENABLE, or started/stopped). */
	void (*vring_state_changed)(struct vhu_sock *s, uint16_t vq_idx, bool enabled, void *ctx);
	/** The connection is gone and its state freed (server: waiting for the next
	 *  connection; client: re-dialing). */
	void (*connection_closed)(struct vhu_sock *s, void *ctx);
	/** SEND_RARP (vhost-user PROTOCOL_F_RARP): after a live migration the frontend asks
	 *  the backend to announce the guest's @p mac on its behalf (QEMU sends it when the
	 *  guest did not negotiate VIRTIO_NET_F_GUEST_ANNOUNCE). The owner builds and sends
	 *  the RARP frame. Runs on the control thread, no queue lock held; @p mac is only valid
	 *  during the call and comes from the frontend. Optional: NULL means the request is
	 *  only counted (stat rarp). Added last, so owners that initialise the struct by
	 *  member name need no change (source compatible; rebuild against this header). */
	void (*send_rarp)(struct vhu_sock *s, const uint8_t mac[6], void *ctx);
};

struct vhu_sock_conf {
	const char *path;         /* unix socket path, < 108 bytes */
	bool client;              /* connect to the frontend instead of listening */
	uint32_t reconnect_ms;    /* client: first retry delay, doubled up to 1 s; 0 = 1000 */
	mode_t mode;              /* server: socket file mode; 0 = 0600 */
	uid_t owner;              /* server: (uid_t)-1 = unchanged */
	gid_t group;              /* server: (gid_t)-1 = unchanged */
	uint16_t max_queue_pairs; /* 1..VHU_QUEUE_PAIRS_MAX */
	uint64_t features;        /* virtio features to offer; 0 = VHU_FEATURES_DEFAULT */
	uint16_t mtu;             /* answered in GET_CONFIG and checked in NET_SET_MTU; 0 = 1500 */
	uint8_t mac[6];           /* for GET_CONFIG and SEND_RARP logging */
	int numa_node;            /* for the queues; SOCKET_ID_ANY if unknown */
};

/**
 * Create a socket and start serving it (bind+listen, or start dialing).
 * @return the socket, or NULL with rte_errno set: EINVAL (bad conf), EADDRINUSE
 * (path exists and is live), ENOMEM, or the errno of socket/bind/listen.
 */
struct vhu_sock *vhu_sock_create(const struct vhu_sock_conf *conf, const struct vhu_ops *ops,
				 void *ctx);

/** Close the connection, stop and free the queues, unlink a server socket path, free. */
void vhu_sock_destroy(struct vhu_sock *s);

/** Virtqueue @p vq_idx (< 2 x max_queue_pairs), valid until vhu_sock_destroy(). */
struct vrq *vhu_sock_vrq(struct vhu_sock *s, uint16_t vq_idx);

/** Number of virtqueues the socket has (2 x max_queue_pairs). */
uint16_t vhu_sock_nb_vrqs(const struct vhu_sock *s);

/** True while a connected device is ready (between device_ready and device_stopped). */
bool vhu_sock_is_ready(const struct vhu_sock *s);

/** Negotiated virtio features of the current connection, 0 if none. */
uint64_t vhu_sock_features(const struct vhu_sock *s);

/** Socket path as configured. */
const char *vhu_sock_path(const struct vhu_sock *s);

/* Control-plane counters per socket, X(name, description). */
#define VHU_STATS_LIST(X)                                                \
	X(connections, "frontend connections accepted or dialed")        \
	X(disconnects, "connections closed")                             \
	X(messages, "messages handled")                                  \
	X(msg_errors, "messages refused (nack or disconnect)")           \
	X(mem_tables, "memory tables installed")                         \
	X(sigbus, "guest memory accesses caught past the end of a file") \
	X(rarp, "SEND_RARP requests")

enum vhu_stat_id {
#define VHU_STAT_ENUM(n, d) VHU_STAT_##n,
	VHU_STATS_LIST(VHU_STAT_ENUM)
#undef VHU_STAT_ENUM
	    VHU_STAT_MAX
};

struct vhu_stats {
	uint64_t v[VHU_STAT_MAX];
};

void vhu_sock_stats_get(const struct vhu_sock *s, struct vhu_stats *st);
const char *vhu_stat_name(unsigned int id);

#endif /* VHU_H */
