/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user request handlers (everything but guest memory) and the device
 * lifecycle: rings are started once they have memory, a size, addresses and
 * a kick and are enabled; the device is ready while its first queue pair is
 * started; disconnect or reset tears everything down.
 *
 * Security model: the frontend is one step away from the guest. Every field
 * of a message is hostile; the dispatcher (vhu_msg.c) has already checked
 * the payload size, the fd count and the vring index, so handlers check the
 * values. Ring addresses are frontend virtual addresses (qva) and are only
 * used after translation against the memory table with the whole ring
 * contiguous in one region.
 *
 * Ring state changes the datapath reads happen under vrq_lock(), which waits
 * for any lcore inside a burst on that queue. Owner callbacks are never
 * called with a queue lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>

#include "vhu_internal.h"
#include "vrq_ring.h"

void
vhu_dev_init(struct vhu_dev *dev, struct vhu_sock *s)
{
	uint16_t i;

	memset(dev, 0, sizeof(*dev));
	dev->s = s;
	dev->fd = -1;
	dev->log_fd = -1;
	dev->log_range = -1;
	dev->mtu = s->conf.mtu;
	for (i = 0; i < VHU_NB_VQS_MAX; i++) {
		dev->vqs[i].kick_fd = -1;
		dev->vqs[i].call_fd = -1;
		dev->vqs[i].err_fd = -1;
	}
	for (i = 0; i < VHU_MSG_FDS_MAX; i++)
		dev->rx_fds[i] = -1;
}

int
vhu_fd_is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0 ? 0 : -EBADF;
}

static void
vhu_fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static bool
vhu_dev_packed(const struct vhu_dev *dev)
{
	return (dev->features & VRQ_FBIT(VRQ_F_RING_PACKED)) != 0;
}

/*
 * Translate the ring of @p vq against @p mem. Each area must lie whole inside
 * one region (DPDK's contiguity rule) and be aligned as virtio 1.2 2.7 / 2.8
 * requires, so that the datapath's atomic accesses are aligned.
 */
static int
vhu_vq_translate(const struct vhu_dev *dev, const struct vhu_vq *vq, const struct vrq_mem *mem,
		 uint16_t num, struct vrq_setup *st)
{
	const struct vhu_vring_addr *a = &vq->addr;
	size_t desc_len, avail_len, used_len;
	uint64_t used_align;

	if (mem == NULL)
		return -EINVAL;
	if (vhu_dev_packed(dev)) {
		desc_len = vrq_packed_desc_bytes(num);
		avail_len = sizeof(struct vrq_packed_event);
		used_len = sizeof(struct vrq_packed_event);
		used_align = 4;
	} else {
		desc_len = vrq_split_desc_bytes(num);
		avail_len = vrq_split_avail_bytes(num);
		used_len = vrq_split_used_bytes(num);
		used_align = 4;
	}
	if ((a->desc_qva & 15) != 0 || (a->avail_qva & 1) != 0 || (a->used_qva & (used_align - 1)))
		return -EINVAL;
	if (vhu_dev_packed(dev) && (a->avail_qva & 3) != 0)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->desc_hva = vhu_mem_qva_to_hva(mem, a->desc_qva, desc_len);
	st->avail_hva = vhu_mem_qva_to_hva(mem, a->avail_qva, avail_len);
	st->used_hva = vhu_mem_qva_to_hva(mem, a->used_qva, used_len);
	if (st->desc_hva == NULL || st->avail_hva == NULL || st->used_hva == NULL)
		return -EFAULT;
	st->size = num;
	st->features = dev->features;
	st->used_gpa = a->log_gpa;
	st->log_used = (a->flags & VHU_VRING_F_LOG) != 0;
	st->base = vq->base;
	st->call_fd = vq->call_fd;
	st->err_fd = vq->err_fd;
	return 0;
}

static void
vhu_dev_set_ready(struct vhu_dev *dev, bool ready)
{
	struct vhu_sock *s = dev->s;

	if (dev->ready == ready)
		return;
	dev->ready = ready;
	__atomic_store_n(&s->ready_pub, ready, __ATOMIC_RELEASE);
	if (ready) {
		VHU_LOG(INFO, s, "device ready");
		if (s->ops.device_ready != NULL)
			s->ops.device_ready(s, s->ctx);
	} else {
		VHU_LOG(INFO, s, "device stopped");
		if (s->ops.device_stopped != NULL)
			s->ops.device_stopped(s, s->ctx);
	}
}

/* Start the ring if everything it needs has arrived. 0 also means "not yet". */
int
vhu_vq_try_start(struct vhu_dev *dev, uint16_t vq_idx)
{
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	struct vhu_sock *s = dev->s;
	struct vrq_setup st;
	int rc;

	if (vq->started || dev->mem == NULL || !vq->num_set || !vq->addr_set || !vq->kicked ||
	    !vq->enabled)
		return 0;
	rc = vhu_vq_translate(dev, vq, dev->mem, vq->num, &st);
	if (rc < 0) {
		vhu_peer_log(dev, "vring %u: ring of %u entries is not inside guest memory", vq_idx,
			     vq->num);
		return rc;
	}
	vrq_lock(vq->q);
	vrq_set_mem(vq->q, dev->mem);
	rc = vrq_start(vq->q, &st);
	vrq_unlock(vq->q);
	if (rc < 0) {
		vhu_peer_log(dev, "vring %u: start refused: %s", vq_idx, strerror(-rc));
		return rc;
	}
	vq->started = true;
	VHU_LOG(DEBUG, s, "vring %u started, %u entries, base %u", vq_idx, vq->num, vq->base);
	if (s->ops.vring_state_changed != NULL)
		s->ops.vring_state_changed(s, vq_idx, true, s->ctx);
	if (!dev->ready && dev->vqs[0].started && dev->vqs[1].started)
		vhu_dev_set_ready(dev, true);
	return 0;
}

/*
 * Re-apply the ring setup of a started queue (new memory table, new log
 * flag, new err fd). Caller holds the queue lock. On failure the ring is left
 * stopped and the caller reports it with vhu_vq_stopped() once unlocked.
 */
int
vhu_vq_restart_locked(struct vhu_dev *dev, uint16_t vq_idx)
{
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	struct vrq_setup st;
	int rc;

	vq->base = vrq_stop(vq->q);
	rc = vhu_vq_translate(dev, vq, dev->mem, vq->num, &st);
	if (rc == 0)
		rc = vrq_start(vq->q, &st);
	if (rc < 0)
		vq->started = false;
	return rc;
}

/* Bookkeeping after a started ring stopped; no queue lock held. */
void
vhu_vq_stopped(struct vhu_dev *dev, uint16_t vq_idx, bool device_stop)
{
	struct vhu_sock *s = dev->s;

	dev->vqs[vq_idx].started = false;
	if (s->ops.vring_state_changed != NULL)
		s->ops.vring_state_changed(s, vq_idx, false, s->ctx);
	if (device_stop || vq_idx < 2)
		vhu_dev_set_ready(dev, false);
}

static void
vhu_vq_stop(struct vhu_dev *dev, uint16_t vq_idx, bool device_stop)
{
	struct vhu_vq *vq = &dev->vqs[vq_idx];

	if (!vq->started)
		return;
	vrq_lock(vq->q);
	vq->base = vrq_stop(vq->q);
	vrq_unlock(vq->q);
	vhu_vq_stopped(dev, vq_idx, device_stop);
}

/* Attach or detach the dirty log on every queue, as LOG_ALL and SET_LOG_BASE say. */
void
vhu_dev_apply_log(struct vhu_dev *dev)
{
	const struct vrq_log *log = NULL;
	uint16_t i;

	if (dev->features & VRQ_FBIT(VRQ_F_LOG_ALL))
		log = dev->log;
	for (i = 0; i < dev->s->nb_vrqs; i++) {
		vrq_lock(dev->vqs[i].q);
		vrq_set_log(dev->vqs[i].q, log);
		vrq_unlock(dev->vqs[i].q);
	}
}

/* Stop every ring and forget the ring configuration (reset, disconnect). */
static void
vhu_dev_reset_rings(struct vhu_dev *dev)
{
	struct vhu_vq *vq;
	uint16_t i;

	for (i = 0; i < dev->s->nb_vrqs; i++)
		vhu_vq_stop(dev, i, true);
	for (i = 0; i < dev->s->nb_vrqs; i++) {
		vq = &dev->vqs[i];
		vrq_lock(vq->q);
		vrq_set_call_fd(vq->q, -1);
		vrq_set_log(vq->q, NULL);
		vrq_unlock(vq->q);
		vhu_fd_close(&vq->kick_fd);
		vhu_fd_close(&vq->call_fd);
		vhu_fd_close(&vq->err_fd);
		vq->num = 0;
		vq->base = 0;
		vq->base_used = false;
		vq->num_set = false;
		vq->addr_set = false;
		vq->kicked = false;
		vq->enabled = false;
		memset(&vq->addr, 0, sizeof(vq->addr));
	}
	vhu_dev_set_ready(dev, false);
}

/* Disconnect: rings stopped, callbacks, memory unmapped, fds closed. */
void
vhu_dev_teardown(struct vhu_dev *dev)
{
	vhu_dev_reset_rings(dev);
	vhu_mem_teardown(dev);
	vhu_fd_close(&dev->log_fd);
	vhu_msg_drop_rx(dev);
	dev->features = 0;
	dev->features_set = false;
	dev->proto_features = 0;
	dev->status = 0;
	dev->mtu = dev->s->conf.mtu;
	__atomic_store_n(&dev->s->features_pub, 0, __ATOMIC_RELAXED);
}

int
vhu_get_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	msg->payload.u64 = dev->s->features_offered;
	msg->hdr.size = sizeof(uint64_t);
	return VHU_MSG_REPLY;
}

int
vhu_set_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint64_t features = msg->payload.u64;
	uint64_t changed = features ^ dev->features;
	uint16_t i;

	if (features & ~dev->s->features_offered) {
		vhu_peer_log(dev, "SET_FEATURES: 0x%" PRIx64 " not offered",
			     features & ~dev->s->features_offered);
		return -EINVAL;
	}
	/* Only LOG_ALL may change under running rings (migration start and end). */
	if (changed & ~VRQ_FBIT(VRQ_F_LOG_ALL)) {
		for (i = 0; i < dev->s->nb_vrqs; i++) {
			if (dev->vqs[i].started) {
				vhu_peer_log(dev, "SET_FEATURES: vring %u is started", i);
				return -EBUSY;
			}
		}
	}
	dev->features = features;
	dev->features_set = true;
	__atomic_store_n(&dev->s->features_pub, features, __ATOMIC_RELAXED);
	if (changed & VRQ_FBIT(VRQ_F_LOG_ALL))
		vhu_dev_apply_log(dev);
	return 0;
}

int
vhu_get_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	RTE_SET_USED(dev);
	msg->payload.u64 = VHU_PROTO_FEATURES_OFFERED;
	msg->hdr.size = sizeof(uint64_t);
	return VHU_MSG_REPLY;
}

int
vhu_set_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	if (msg->payload.u64 & ~VHU_PROTO_FEATURES_OFFERED) {
		vhu_peer_log(dev, "SET_PROTOCOL_FEATURES: 0x%" PRIx64 " not offered",
			     msg->payload.u64 & ~VHU_PROTO_FEATURES_OFFERED);
		return -EINVAL;
	}
	dev->proto_features = msg->payload.u64;
	return 0;
}

int
vhu_set_owner(struct vhu_dev *dev, struct vhu_msg *msg)
{
	/* QEMU sends one per queue pair with MQ: nothing to do but accept. */
	RTE_SET_USED(dev);
	RTE_SET_USED(msg);
	return 0;
}

/* Keeps the memory table and protocol features: they belong to the connection. */
int
vhu_reset_device(struct vhu_dev *dev, struct vhu_msg *msg)
{
	RTE_SET_USED(msg);
	vhu_dev_reset_rings(dev);
	dev->features = 0;
	dev->features_set = false;
	dev->status = 0;
	__atomic_store_n(&dev->s->features_pub, 0, __ATOMIC_RELAXED);
	return 0;
}

int
vhu_reset_owner(struct vhu_dev *dev, struct vhu_msg *msg)
{
	return vhu_reset_device(dev, msg);
}

int
vhu_set_vring_num(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_vq *vq = &dev->vqs[vhu_msg_vq_idx(msg)];
	uint32_t num = msg->payload.state.num;

	/* virtio 1.2 2.7: a power of two, at most 32768 (packed rings: we keep the same bound). */
	if (num == 0 || num > VRQ_SIZE_MAX || (num & (num - 1)) != 0) {
		vhu_peer_log(dev, "SET_VRING_NUM: bad size %u", num);
		return -EINVAL;
	}
	vq->num = (uint16_t)num;
	vq->num_set = true;
	return 0;
}

int
vhu_set_vring_addr(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint16_t vq_idx = vhu_msg_vq_idx(msg);
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	const struct vhu_vring_addr *a = &msg->payload.addr;
	struct vhu_vring_addr old = vq->addr;
	struct vrq_setup st;
	int rc;

	if (a->flags & ~VHU_VRING_F_LOG) {
		vhu_peer_log(dev, "SET_VRING_ADDR: unknown flags 0x%x", a->flags);
		return -EINVAL;
	}
	if (dev->mem == NULL) {
		vhu_peer_log(dev, "SET_VRING_ADDR: no memory table yet");
		return -EINVAL;
	}
	if (vq->started) {
		/* QEMU re-sends the addresses to toggle used-ring logging for migration. */
		if (a->desc_qva != old.desc_qva || a->avail_qva != old.avail_qva ||
		    a->used_qva != old.used_qva) {
			vhu_peer_log(dev, "SET_VRING_ADDR: vring %u is started", vq_idx);
			return -EBUSY;
		}
		vrq_lock(vq->q);
		vq->addr = *a;
		rc = vhu_vq_restart_locked(dev, vq_idx);
		vrq_unlock(vq->q);
		if (rc < 0)
			vhu_vq_stopped(dev, vq_idx, true);
		return rc;
	}
	vq->addr = *a;
	rc = vhu_vq_translate(dev, vq, dev->mem, vq->num_set ? vq->num : 1, &st);
	if (rc < 0) {
		vq->addr = old;
		vhu_peer_log(dev, "SET_VRING_ADDR: vring %u outside guest memory or misaligned",
			     vq_idx);
		return rc;
	}
	vq->addr_set = true;
	return 0;
}

int
vhu_set_vring_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint16_t vq_idx = vhu_msg_vq_idx(msg);
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	uint32_t num = msg->payload.state.num;
	uint16_t used = (uint16_t)(num >> 16);

	/*
	 * Split: last_avail_idx. Packed: last_avail_idx | avail wrap << 15 in bits
	 * 0-15, and QEMU (virtio_queue_packed_get_last_avail_idx(), 7.2 sends
	 * 0x80008000 for a fresh ring) puts the used position the same way in
	 * bits 16-31; older frontends leave them 0. vrq restarts with the used
	 * position equal to the avail one (nothing is in flight across a stop,
	 * as in DPDK), so the used half only selects the layout of the reply
	 * to GET_VRING_BASE.
	 */
	if (used != 0 && !vhu_dev_packed(dev)) {
		vhu_peer_log(dev, "SET_VRING_BASE: bad base %u", num);
		return -EINVAL;
	}
	if (used != 0 && used != (uint16_t)num)
		VHU_LOG(DEBUG, dev->s, "vring %u: used position 0x%x differs from avail 0x%x",
			vq_idx, used, num & 0xffff);
	vq->base = (uint16_t)num;
	vq->base_used = used != 0;
	return 0;
}

int
vhu_get_vring_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint16_t vq_idx = vhu_msg_vq_idx(msg);
	struct vhu_vq *vq = &dev->vqs[vq_idx];

	vhu_vq_stop(dev, vq_idx, true);
	/* The ring is stopped: it restarts only after a new SET_VRING_KICK. */
	vq->kicked = false;
	vhu_fd_close(&vq->kick_fd);
	msg->payload.state.index = vq_idx;
	msg->payload.state.num = vq->base;
	/* Answer in the layout the frontend used: QEMU reads its used position from bits 16-31. */
	if (vq->base_used && vhu_dev_packed(dev))
		msg->payload.state.num |= (uint32_t)vq->base << 16;
	msg->hdr.size = sizeof(struct vhu_vring_state);
	return VHU_MSG_REPLY;
}

/* The fd of a SET_VRING_KICK/CALL/ERR: -1 with NOFD, else an eventfd. */
static int
vhu_msg_vring_fd(struct vhu_dev *dev, struct vhu_msg *msg, int *fd)
{
	const char *name = vhu_req_name(msg->hdr.request);
	bool nofd = (msg->payload.u64 & VHU_VRING_NOFD_MASK) != 0;
	int rc;

	if (msg->nb_fds != (nofd ? 0 : 1)) {
		vhu_peer_log(dev, "%s: %u fds with NOFD %s", name, msg->nb_fds,
			     nofd ? "set" : "clear");
		return -EINVAL;
	}
	*fd = -1;
	if (nofd)
		return 0;
	rc = vhu_fd_is_eventfd(msg->fds[0]);
	if (rc < 0) {
		vhu_peer_log(dev, "%s: fd is not an eventfd", name);
		return rc;
	}
	*fd = vhu_msg_take_fd(msg, 0);
	return 0;
}

/*
 * Call and err fds are written by datapath lcores, which must never block: a
 * frontend can saturate an eventfd counter so that a blocking write would hang.
 */
static int
vhu_fd_set_nonblock(struct vhu_dev *dev, int *fd)
{
	int fl, rc;

	if (*fd < 0)
		return 0;
	fl = fcntl(*fd, F_GETFL);
	if (fl >= 0 && fcntl(*fd, F_SETFL, fl | O_NONBLOCK) == 0)
		return 0;
	rc = -errno;
	vhu_peer_log(dev, "cannot make eventfd non-blocking: %s", strerror(-rc));
	vhu_fd_close(fd);
	return rc;
}

int
vhu_set_vring_kick(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint16_t vq_idx = vhu_msg_vq_idx(msg);
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	int fd, rc;

	rc = vhu_msg_vring_fd(dev, msg, &fd);
	if (rc < 0)
		return rc;
	if (!vq->num_set || !vq->addr_set) {
		vhu_peer_log(dev, "SET_VRING_KICK: vring %u has no %s yet", vq_idx,
			     vq->num_set ? "address" : "size");
		vhu_fd_close(&fd);
		return -EINVAL;
	}
	/* Kept only to be closed: the datapath polls and never reads kicks. */
	vhu_fd_close(&vq->kick_fd);
	vq->kick_fd = fd;
	vq->kicked = true;
	/* vhost-user.rst "Ring states": without PROTOCOL_FEATURES a kick enables the ring. */
	if (!(dev->features & VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES)))
		vq->enabled = true;
	return vhu_vq_try_start(dev, vq_idx);
}

int
vhu_set_vring_call(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_vq *vq = &dev->vqs[vhu_msg_vq_idx(msg)];
	int fd, rc;

	rc = vhu_msg_vring_fd(dev, msg, &fd);
	if (rc == 0)
		rc = vhu_fd_set_nonblock(dev, &fd);
	if (rc < 0)
		return rc;
	vrq_lock(vq->q);
	vrq_set_call_fd(vq->q, fd);
	vrq_unlock(vq->q);
	vhu_fd_close(&vq->call_fd);
	vq->call_fd = fd;
	return 0;
}

int
vhu_set_vring_err(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint16_t vq_idx = vhu_msg_vq_idx(msg);
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	int fd, old, rc;

	rc = vhu_msg_vring_fd(dev, msg, &fd);
	if (rc == 0)
		rc = vhu_fd_set_nonblock(dev, &fd);
	if (rc < 0)
		return rc;
	old = vq->err_fd;
	vq->err_fd = fd;
	if (vq->started) {
		/* vrq takes the err fd only at start: restart so it never holds a closed fd. */
		vrq_lock(vq->q);
		rc = vhu_vq_restart_locked(dev, vq_idx);
		vrq_unlock(vq->q);
		if (rc < 0)
			vhu_vq_stopped(dev, vq_idx, true);
	}
	vhu_fd_close(&old);
	return rc;
}

int
vhu_set_vring_enable(struct vhu_dev *dev, struct vhu_msg *msg)
{
	uint16_t vq_idx = vhu_msg_vq_idx(msg);
	struct vhu_vq *vq = &dev->vqs[vq_idx];
	uint32_t enable = msg->payload.state.num;

	if (enable > 1) {
		vhu_peer_log(dev, "SET_VRING_ENABLE: bad value %u", enable);
		return -EINVAL;
	}
	vq->enabled = enable != 0;
	if (vq->enabled)
		return vhu_vq_try_start(dev, vq_idx);
	vhu_vq_stop(dev, vq_idx, false);
	return 0;
}

int
vhu_get_queue_num(struct vhu_dev *dev, struct vhu_msg *msg)
{
	msg->payload.u64 = dev->s->conf.max_queue_pairs;
	msg->hdr.size = sizeof(uint64_t);
	return VHU_MSG_REPLY;
}

int
vhu_net_set_mtu(struct vhu_dev *dev, struct vhu_msg *msg)
{
	/* 68: the IPv4 minimum (RFC 791); the maximum is what the port was configured with. */
	if (msg->payload.u64 < 68 || msg->payload.u64 > dev->s->conf.mtu) {
		vhu_peer_log(dev, "NET_SET_MTU: %" PRIu64 " outside 68..%u", msg->payload.u64,
			     dev->s->conf.mtu);
		return -EINVAL;
	}
	dev->mtu = (uint16_t)msg->payload.u64;
	return 0;
}

int
vhu_send_rarp(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_sock *s = dev->s;
	uint8_t mac[8];

	/* vhost-user.rst: the MAC is in the first 6 bytes of the u64 payload. */
	memcpy(mac, &msg->payload.u64, sizeof(mac));
	vhu_stat_inc(s, VHU_STAT_rarp);
	VHU_LOG(INFO, s, "SEND_RARP for %02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		mac[3], mac[4], mac[5]);
	/* The frontend chooses the MAC: the owner sends a frame for it, nothing else trusts it. */
	if (s->ops.send_rarp != NULL)
		s->ops.send_rarp(s, mac, s->ctx);
	return 0;
}

int
vhu_set_status(struct vhu_dev *dev, struct vhu_msg *msg)
{
	/*
	 * Recorded only: QEMU sends status 0 before GET_VRING_BASE when it
	 * stops, so treating 0 as a reset would lose the ring positions.
	 */
	if (msg->payload.u64 > UINT8_MAX) {
		vhu_peer_log(dev, "SET_STATUS: bad status 0x%" PRIx64, msg->payload.u64);
		return -EINVAL;
	}
	dev->status = (uint8_t)msg->payload.u64;
	return 0;
}

int
vhu_get_status(struct vhu_dev *dev, struct vhu_msg *msg)
{
	msg->payload.u64 = dev->status;
	msg->hdr.size = sizeof(uint64_t);
	return VHU_MSG_REPLY;
}

static int
vhu_config_check(struct vhu_dev *dev, const struct vhu_msg *msg)
{
	const struct vhu_config_msg *c = &msg->payload.config;

	if (msg->hdr.size < VHU_CONFIG_HDR_SIZE || c->size > VHU_CONFIG_SIZE_MAX ||
	    msg->hdr.size != VHU_CONFIG_HDR_SIZE + c->size || c->offset > VHU_CONFIG_SIZE_MAX ||
	    c->size > VHU_CONFIG_SIZE_MAX - c->offset) {
		vhu_peer_log(dev, "%s: bad config range", vhu_req_name(msg->hdr.request));
		return -EINVAL;
	}
	return 0;
}

int
vhu_get_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_config_msg *c = &msg->payload.config;
	uint8_t space[VHU_CONFIG_SIZE_MAX] = {0};
	struct vhu_net_config cfg = {0};
	int rc;

	rc = vhu_config_check(dev, msg);
	if (rc < 0)
		return rc;
	memcpy(cfg.mac, dev->s->conf.mac, sizeof(cfg.mac));
	cfg.status = rte_cpu_to_le_16(VHU_NET_S_LINK_UP);
	cfg.max_virtqueue_pairs = rte_cpu_to_le_16(dev->s->conf.max_queue_pairs);
	cfg.mtu = rte_cpu_to_le_16(dev->mtu);
	cfg.speed = rte_cpu_to_le_32(UINT32_MAX); /* virtio 1.2 5.1.4: unknown */
	cfg.duplex = 0xff;
	memcpy(space, &cfg, sizeof(cfg));
	memcpy(c->region, space + c->offset, c->size);
	return VHU_MSG_REPLY;
}

int
vhu_set_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
	int rc = vhu_config_check(dev, msg);

	/* virtio-net 1.x config space is read-only for the driver. */
	return rc < 0 ? rc : -EPERM;
}

int
vhu_set_log_fd(struct vhu_dev *dev, struct vhu_msg *msg)
{
	if (msg->hdr.size != 0 && msg->hdr.size != sizeof(uint64_t)) {
		vhu_peer_log(dev, "SET_LOG_FD: payload of %u bytes", msg->hdr.size);
		return -EINVAL;
	}
	/* Only kept to be closed: we never signal log changes. */
	vhu_fd_close(&dev->log_fd);
	dev->log_fd = vhu_msg_take_fd(msg, 0);
	return 0;
}
