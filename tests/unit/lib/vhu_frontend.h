/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A scripted vhost-user frontend for the unit tests (QEMU's fake-peer
 * pattern): it speaks the wire protocol over a unix socket, shares
 * memfd-backed guest memory, and can send anything, including malformed
 * messages, surplus or missing fds, and partial writes.
 *
 * Guest memory is mapped by the frontend at its own address (the qva the
 * backend is told) and separately by the backend, so a qva/hva mix-up in the
 * backend reads the wrong memory instead of passing by luck.
 */
#ifndef VHU_FRONTEND_H
#define VHU_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "vhu.h"
#include "vhu_proto.h"

#define VHU_FE_REGIONS_MAX 8

struct vhu_fe_region {
	int memfd;
	uint8_t *addr; /* frontend mapping: its address is the qva */
	uint64_t gpa;
	uint64_t size;
};

struct vhu_fe {
	int fd;
	struct vhu_fe_region regions[VHU_FE_REGIONS_MAX];
	uint32_t nb_regions;
};

/* Poll @p cond every millisecond for up to 5 s; evaluates to the final value. */
#define VHU_FE_WAIT(cond)                                                     \
	({                                                                    \
		int vhu_fe_i_;                                                \
		for (vhu_fe_i_ = 0; vhu_fe_i_ < 5000 && !(cond); vhu_fe_i_++) \
			usleep(1000);                                         \
		(cond);                                                       \
	})

void vhu_fe_init(struct vhu_fe *fe);
/* Connect to a listening backend, retrying for up to 2 s. 0 or -errno. */
int vhu_fe_connect(struct vhu_fe *fe, const char *path);
/* Listen on @p path for a client-mode backend. Returns the listening fd or -errno. */
int vhu_fe_listen(const char *path);
/* Accept the backend's connection within @p timeout_ms. 0 or -errno. */
int vhu_fe_accept(struct vhu_fe *fe, int listen_fd, int timeout_ms);
/* Close the connection and unmap and close the guest memory. */
void vhu_fe_close(struct vhu_fe *fe);

/* Raw bytes with optional fds on the first byte. 0 or -errno. */
int vhu_fe_send_raw(struct vhu_fe *fe, const void *buf, size_t len, const int *fds, int nb_fds);
int vhu_fe_send(struct vhu_fe *fe, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		const int *fds, int nb_fds);
/* Receive one message. Payload size, or -ETIMEDOUT, -ECONNRESET (EOF), -EPROTO. */
int vhu_fe_recv(struct vhu_fe *fe, struct vhu_msg_hdr *hdr, void *payload, size_t max,
		int timeout_ms);
/* Send with NEED_REPLY and wait for the ack: 0 = ack, >0 = nack value, <0 = -errno. */
int vhu_fe_call(struct vhu_fe *fe, uint32_t req, const void *payload, uint32_t size, const int *fds,
		int nb_fds);
int vhu_fe_call_u64(struct vhu_fe *fe, uint32_t req, uint64_t v);
/* A GET_* request answered by a u64. 0 or -errno. */
int vhu_fe_get_u64(struct vhu_fe *fe, uint32_t req, uint64_t *out);
/* True once the backend closed the connection (within 5 s). */
bool vhu_fe_wait_eof(struct vhu_fe *fe);

/* Features, protocol features (with REPLY_ACK), SET_OWNER. 0 or -errno/nack. */
int vhu_fe_handshake(struct vhu_fe *fe, uint64_t features, uint64_t proto_features);

/* Guest memory: a memfd of @p size at @p gpa. Returns the region index or -errno. */
int vhu_fe_mem_add(struct vhu_fe *fe, uint64_t gpa, uint64_t size, bool allow_sealing);
/* SET_MEM_TABLE with every region added so far. */
int vhu_fe_set_mem_table(struct vhu_fe *fe);
/* qva of byte @p off of region @p r */
uint64_t vhu_fe_qva(const struct vhu_fe *fe, uint32_t r, uint64_t off);

/* Split ring layout of @p num entries at byte @p off of region @p r. */
void vhu_fe_ring_addr(const struct vhu_fe *fe, uint32_t vq_idx, uint32_t r, uint64_t off,
		      uint16_t num, struct vhu_vring_addr *a);
/* NUM, BASE 0, ADDR, KICK and CALL (fresh eventfds, closed after sending). */
int vhu_fe_vring_setup(struct vhu_fe *fe, uint32_t vq_idx, uint32_t r, uint64_t off, uint16_t num);
int vhu_fe_vring_enable(struct vhu_fe *fe, uint32_t vq_idx, bool enable);
/* GET_VRING_BASE: the base, or -errno. */
int vhu_fe_get_vring_base(struct vhu_fe *fe, uint32_t vq_idx);

/* Number of open fds of this process (/proc/self/fd entries). */
int vhu_fe_count_fds(void);

/*
 * Backend side of a test: callbacks that count events (read them with
 * vhu_fe_ev()), a socket created with them, and EAL set up without hugepages.
 */
struct vhu_fe_events {
	int ready;
	int stopped;
	int closed;
	int vring_on;
	int vring_off;
	uint32_t started_mask; /* bit per vq, from vring_state_changed */
	int rarp;              /* send_rarp calls */
	uint8_t rarp_mac[6];   /* MAC of the last send_rarp */
	char rarp_thread[16];  /* name of the thread that called send_rarp */
};
extern const struct vhu_ops vhu_fe_ops;
#define vhu_fe_ev(ev, field) __atomic_load_n(&(ev)->field, __ATOMIC_ACQUIRE)

/* rte_eal_init once, --no-huge --in-memory; 0 or -1 (the caller skips with 77). */
int vhu_fe_eal_init(const char *prefix);
/* A backend socket at @p path with vhu_fe_ops and @p ev as context. */
struct vhu_sock *vhu_fe_backend(const char *path, bool client, uint16_t queue_pairs,
				struct vhu_fe_events *ev);

#endif /* VHU_FRONTEND_H */
