/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user message I/O and the one dispatcher (STYLE.md 2.8).
 *
 * Security model: the frontend is one step away from the guest, so every
 * byte and every fd of a message is hostile. Reads are non-blocking and
 * reassembled per connection, so a slow or half-written message never blocks
 * the control thread that serves every socket. Replies are sent with
 * MSG_DONTWAIT | MSG_NOSIGNAL: a peer that does not read them is disconnected
 * instead of stalling everyone else, and a closed peer never raises SIGPIPE.
 *
 * Only this file checks framing (version, size bound, MSG_CTRUNC, fd count),
 * looks up the handler row, checks the exact payload size and fd count,
 * bound-checks the vring index, refuses ring reconfiguration of a started
 * ring, and sends replies and REPLY_ACK acks. Handlers contain the semantics.
 * Framing errors close the connection; a refused request is nacked (when the
 * frontend asked for a reply) and the connection stays up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vhu_internal.h"

RTE_LOG_REGISTER(vhu_logtype, vhu.config, NOTICE);

#define VHU_SIZE_VAR UINT16_MAX /* the handler checks the payload size */
#define VHU_FDS_VAR UINT8_MAX   /* the handler checks the fd count */

#define VHU_F_VRING (1u << 0)   /* payload starts with a vring index: bound-checked here */
#define VHU_F_STOPPED (1u << 1) /* refused while the ring is started (Linux -EBUSY) */
#define VHU_F_REPLY (1u << 2)   /* always answered with a payload (GET_*) */
#define VHU_F_FATAL (1u << 3)   /* failure closes the connection: no reply can tell it */

/* Messages handled per wake-up of one connection, so one chatty peer cannot starve others. */
#define VHU_MSG_BUDGET 64

struct vhu_msg_spec {
	const char *name;
	int (*handle)(struct vhu_dev *dev, struct vhu_msg *msg); /* 0, VHU_MSG_REPLY or -errno */
	uint16_t payload_size;                                   /* exact; VHU_SIZE_VAR */
	uint8_t nb_fds;                                          /* exact; VHU_FDS_VAR */
	uint8_t flags;
	int8_t proto_bit; /* protocol feature that must be negotiated, -1 for none */
};

#define ROW(req, fn, size, fds, fl, pb) [VHU_REQ_##req] = {#req, fn, size, fds, fl, pb}
static const struct vhu_msg_spec vhu_msg_specs[VHU_REQ_MAX] = {
    ROW(GET_FEATURES, vhu_get_features, 0, 0, VHU_F_REPLY, -1),
    ROW(SET_FEATURES, vhu_set_features, VHU_SIZE_U64, 0, 0, -1),
    ROW(SET_OWNER, vhu_set_owner, 0, 0, 0, -1),
    ROW(RESET_OWNER, vhu_reset_owner, 0, 0, 0, -1),
    ROW(SET_MEM_TABLE, vhu_set_mem_table, VHU_SIZE_VAR, VHU_FDS_VAR, 0, -1),
    /* QEMU takes any reply as success: a log we cannot map must end the connection. */
    ROW(SET_LOG_BASE, vhu_set_log_base, VHU_SIZE_LOG, 1, VHU_F_FATAL, VHU_PROTO_F_LOG_SHMFD),
    ROW(SET_LOG_FD, vhu_set_log_fd, VHU_SIZE_VAR, 1, 0, -1),
    ROW(SET_VRING_NUM, vhu_set_vring_num, VHU_SIZE_STATE, 0, VHU_F_VRING | VHU_F_STOPPED, -1),
    ROW(SET_VRING_ADDR, vhu_set_vring_addr, VHU_SIZE_ADDR, 0, VHU_F_VRING, -1),
    ROW(SET_VRING_BASE, vhu_set_vring_base, VHU_SIZE_STATE, 0, VHU_F_VRING | VHU_F_STOPPED, -1),
    ROW(GET_VRING_BASE, vhu_get_vring_base, VHU_SIZE_STATE, 0, VHU_F_VRING | VHU_F_REPLY, -1),
    ROW(SET_VRING_KICK, vhu_set_vring_kick, VHU_SIZE_U64, VHU_FDS_VAR, VHU_F_VRING, -1),
    ROW(SET_VRING_CALL, vhu_set_vring_call, VHU_SIZE_U64, VHU_FDS_VAR, VHU_F_VRING, -1),
    ROW(SET_VRING_ERR, vhu_set_vring_err, VHU_SIZE_U64, VHU_FDS_VAR, VHU_F_VRING, -1),
    ROW(GET_PROTOCOL_FEATURES, vhu_get_protocol_features, 0, 0, VHU_F_REPLY, -1),
    ROW(SET_PROTOCOL_FEATURES, vhu_set_protocol_features, VHU_SIZE_U64, 0, 0, -1),
    ROW(GET_QUEUE_NUM, vhu_get_queue_num, 0, 0, VHU_F_REPLY, VHU_PROTO_F_MQ),
    ROW(SET_VRING_ENABLE, vhu_set_vring_enable, VHU_SIZE_STATE, 0, VHU_F_VRING, -1),
    ROW(SEND_RARP, vhu_send_rarp, VHU_SIZE_U64, 0, 0, VHU_PROTO_F_RARP),
    ROW(NET_SET_MTU, vhu_net_set_mtu, VHU_SIZE_U64, 0, 0, VHU_PROTO_F_NET_MTU),
    ROW(GET_CONFIG, vhu_get_config, VHU_SIZE_VAR, 0, VHU_F_REPLY, VHU_PROTO_F_CONFIG),
    ROW(SET_CONFIG, vhu_set_config, VHU_SIZE_VAR, 0, 0, VHU_PROTO_F_CONFIG),
    ROW(RESET_DEVICE, vhu_reset_device, 0, 0, 0, -1),
    ROW(GET_MAX_MEM_SLOTS, vhu_get_max_mem_slots, 0, 0, VHU_F_REPLY,
	VHU_PROTO_F_CONFIGURE_MEM_SLOTS),
    ROW(ADD_MEM_REG, vhu_add_mem_reg, VHU_SIZE_MEM_REG, 1, 0, VHU_PROTO_F_CONFIGURE_MEM_SLOTS),
    /* QEMU up to 8.x also passes the region's fd with REM_MEM_REG: accept 0 or 1. */
    ROW(REM_MEM_REG, vhu_rem_mem_reg, VHU_SIZE_MEM_REG, VHU_FDS_VAR, 0,
	VHU_PROTO_F_CONFIGURE_MEM_SLOTS),
    ROW(SET_STATUS, vhu_set_status, VHU_SIZE_U64, 0, 0, VHU_PROTO_F_STATUS),
    ROW(GET_STATUS, vhu_get_status, 0, 0, VHU_F_REPLY, VHU_PROTO_F_STATUS),
};
#undef ROW

const char *
vhu_req_name(uint32_t request)
{
	if (request < VHU_REQ_MAX && vhu_msg_specs[request].name != NULL)
		return vhu_msg_specs[request].name;
	return "UNKNOWN";
}

/*
 * One line per error, at most VHU_PEER_LOG_BURST per second per connection:
 * a hostile frontend must not be able to flood the host log.
 */
void
vhu_peer_log(struct vhu_dev *dev, const char *fmt, ...)
{
	struct timespec ts;
	char line[256];
	va_list ap;

	dev->peer_log_calls++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((uint64_t)ts.tv_sec != dev->peer_log_sec) {
		if (dev->peer_log_suppressed != 0)
			VHU_LOG(WARNING, dev->s, "%u similar lines suppressed",
				dev->peer_log_suppressed);
		dev->peer_log_sec = (uint64_t)ts.tv_sec;
		dev->peer_log_count = 0;
		dev->peer_log_suppressed = 0;
	}
	if (dev->peer_log_count >= VHU_PEER_LOG_BURST) {
		dev->peer_log_suppressed++;
		return;
	}
	dev->peer_log_count++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	VHU_LOG(ERR, dev->s, "%s", line);
}

static void
vhu_close_fds(int *fds, uint8_t nb)
{
	uint8_t i;

	for (i = 0; i < nb; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* Forget a partially received message (disconnect): close the fds it carried. */
void
vhu_msg_drop_rx(struct vhu_dev *dev)
{
	vhu_close_fds(dev->rx_fds, dev->rx_nb_fds);
	dev->rx_nb_fds = 0;
	dev->rx_len = 0;
}

/*
 * Send one reply. Anything but a complete send (EAGAIN from a peer that does
 * not read, a partial write, EPIPE) desynchronises the stream: the caller
 * closes the connection.
 */
static int
vhu_msg_send_reply(struct vhu_dev *dev, const struct vhu_msg *msg, uint32_t size)
{
	uint8_t buf[sizeof(struct vhu_msg_hdr) + sizeof(union vhu_payload)];
	struct vhu_msg_hdr hdr = {
	    .request = msg->hdr.request,
	    .flags = VHU_FLAG_VERSION | VHU_FLAG_REPLY,
	    .size = size,
	};
	size_t len = sizeof(hdr) + size;
	ssize_t n;

	RTE_ASSERT(size <= sizeof(union vhu_payload));
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), &msg->payload, size);
	n = send(dev->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0)
		return -errno;
	return -EAGAIN;
}

static int
vhu_msg_send_ack(struct vhu_dev *dev, struct vhu_msg *msg, int rc)
{
	/* REPLY_ACK: u64 0 for success, non-zero for failure. */
	msg->payload.u64 = rc < 0 ? (uint64_t)-rc : 0;
	return vhu_msg_send_reply(dev, msg, sizeof(uint64_t));
}

static int
vhu_msg_check(struct vhu_dev *dev, const struct vhu_msg_spec *spec, const struct vhu_msg *msg)
{
	uint32_t idx;

	if (spec->payload_size != VHU_SIZE_VAR && msg->hdr.size != spec->payload_size) {
		vhu_peer_log(dev, "%s: payload of %u bytes, expected %u", spec->name, msg->hdr.size,
			     spec->payload_size);
		return -EINVAL;
	}
	if (spec->nb_fds != VHU_FDS_VAR && msg->nb_fds != spec->nb_fds) {
		vhu_peer_log(dev, "%s: %u fds, expected %u", spec->name, msg->nb_fds, spec->nb_fds);
		return -EINVAL;
	}
	if (spec->proto_bit >= 0 && !(dev->proto_features & VRQ_FBIT(spec->proto_bit))) {
		vhu_peer_log(dev, "%s: protocol feature %d not negotiated", spec->name,
			     spec->proto_bit);
		return -ENOTSUP;
	}
	if (!(spec->flags & VHU_F_VRING))
		return 0;
	switch (msg->hdr.request) {
	case VHU_REQ_SET_VRING_KICK:
	case VHU_REQ_SET_VRING_CALL:
	case VHU_REQ_SET_VRING_ERR:
		if (msg->payload.u64 & ~(uint64_t)(VHU_VRING_IDX_MASK | VHU_VRING_NOFD_MASK)) {
			vhu_peer_log(dev, "%s: unknown bits in 0x%" PRIx64, spec->name,
				     msg->payload.u64);
			return -EINVAL;
		}
		idx = (uint32_t)(msg->payload.u64 & VHU_VRING_IDX_MASK);
		break;
	case VHU_REQ_SET_VRING_ADDR:
		idx = msg->payload.addr.index;
		break;
	default:
		idx = msg->payload.state.index;
		break;
	}
	if (idx >= dev->s->nb_vrqs) {
		vhu_peer_log(dev, "%s: vring %u out of range (%u vrings)", spec->name, idx,
			     dev->s->nb_vrqs);
		return -ERANGE;
	}
	if ((spec->flags & VHU_F_STOPPED) && dev->vqs[idx].started) {
		vhu_peer_log(dev, "%s: vring %u is started", spec->name, idx);
		return -EBUSY;
	}
	return 0;
}

/*
 * One debug line per message received, with the fields that explain a
 * frontend's setup (ring addresses, memory regions, u64 payloads), so a
 * session with QEMU can be followed from the log alone.
 */
static void
vhu_msg_trace(struct vhu_sock *s, const struct vhu_msg *msg)
{
	const union vhu_payload *p = &msg->payload;
	const char *name = vhu_req_name(msg->hdr.request);
	uint32_t size = msg->hdr.size, i;

	switch (msg->hdr.request) {
	case VHU_REQ_SET_VRING_ADDR:
		if (size < sizeof(p->addr))
			break;
		VHU_LOG(DEBUG, s,
			"%s: vring %u flags 0x%x desc 0x%" PRIx64 " avail 0x%" PRIx64
			" used 0x%" PRIx64 " log 0x%" PRIx64,
			name, p->addr.index, p->addr.flags, p->addr.desc_qva, p->addr.avail_qva,
			p->addr.used_qva, p->addr.log_gpa);
		return;
	case VHU_REQ_ADD_MEM_REG:
	case VHU_REQ_REM_MEM_REG:
		if (size < sizeof(p->mem_reg))
			break;
		VHU_LOG(DEBUG, s,
			"%s: gpa 0x%" PRIx64 " size 0x%" PRIx64 " qva 0x%" PRIx64
			" offset 0x%" PRIx64 ", %u fds",
			name, p->mem_reg.region.gpa, p->mem_reg.region.size, p->mem_reg.region.qva,
			p->mem_reg.region.mmap_offset, msg->nb_fds);
		return;
	case VHU_REQ_SET_MEM_TABLE:
		if (size < offsetof(struct vhu_mem_table_msg, regions))
			break;
		VHU_LOG(DEBUG, s, "%s: %u regions, %u fds", name, p->mem.nb_regions, msg->nb_fds);
		for (i = 0; i < p->mem.nb_regions && i < VHU_MEM_REGIONS_MSG_MAX; i++)
			VHU_LOG(DEBUG, s,
				"  region %u: gpa 0x%" PRIx64 " size 0x%" PRIx64 " qva 0x%" PRIx64
				" offset 0x%" PRIx64,
				i, p->mem.regions[i].gpa, p->mem.regions[i].size,
				p->mem.regions[i].qva, p->mem.regions[i].mmap_offset);
		return;
	default:
		break;
	}
	if (size == sizeof(uint64_t))
		VHU_LOG(DEBUG, s, "%s: 0x%" PRIx64 ", %u fds", name, p->u64, msg->nb_fds);
	else
		VHU_LOG(DEBUG, s, "%s: %u bytes, %u fds", name, size, msg->nb_fds);
}

/* Handle one complete message. Returns 0, or -errno when the connection must close. */
static int
vhu_msg_dispatch(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_msg_spec *spec = NULL;
	uint64_t logged = dev->peer_log_calls;
	struct vhu_sock *s = dev->s;
	int rc;

	vhu_stat_inc(s, VHU_STAT_messages);
	if (rte_log_can_log(vhu_logtype, RTE_LOG_DEBUG))
		vhu_msg_trace(s, msg);
	if (msg->hdr.request < VHU_REQ_MAX && vhu_msg_specs[msg->hdr.request].handle != NULL)
		spec = &vhu_msg_specs[msg->hdr.request];
	if (spec == NULL) {
		vhu_peer_log(dev, "request %u: not supported", msg->hdr.request);
		rc = -ENOTSUP;
	} else {
		rc = vhu_msg_check(dev, spec, msg);
		if (rc == 0)
			rc = spec->handle(dev, msg);
	}
	/* Fds the handler did not take (or a refused message carried) are closed here. */
	vhu_close_fds(msg->fds, msg->nb_fds);
	if (dev->fd < 0)
		return -ECONNRESET; /* the handler's callback closed the connection */
	if (rc < 0) {
		vhu_stat_inc(s, VHU_STAT_msg_errors);
		/* One line per refusal: the reason if the check or handler gave one. */
		if (spec != NULL && dev->peer_log_calls == logged)
			vhu_peer_log(dev, "%s: refused: %s", spec->name, strerror(-rc));
		else if (spec != NULL)
			VHU_LOG(DEBUG, s, "%s: refused: %s", spec->name, strerror(-rc));
		if (spec != NULL && (spec->flags & VHU_F_FATAL))
			return -EPROTO;
	}
	if (spec != NULL && (spec->flags & VHU_F_REPLY)) {
		/*
		 * The frontend blocks on the answer: a failed GET gets a reply
		 * with an empty payload, which every frontend rejects as an error.
		 */
		return vhu_msg_send_reply(dev, msg, rc == VHU_MSG_REPLY ? msg->hdr.size : 0);
	}
	if (rc == VHU_MSG_REPLY)
		return vhu_msg_send_reply(dev, msg, msg->hdr.size);
	if (msg->hdr.flags & VHU_FLAG_NEED_REPLY)
		return vhu_msg_send_ack(dev, msg, rc);
	return 0;
}

static void
vhu_msg_take_cmsg(struct vhu_dev *dev, struct msghdr *mh, bool *overflow)
{
	struct cmsghdr *cm;
	size_t i, n;
	int *fds;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)(void *)CMSG_DATA(cm);
		for (i = 0; i < n; i++) {
			if (dev->rx_nb_fds < VHU_MSG_FDS_MAX) {
				dev->rx_fds[dev->rx_nb_fds++] = fds[i];
			} else {
				close(fds[i]);
				*overflow = true;
			}
		}
	}
}

/*
 * Read what is available of the current message. Returns 1 when a message is
 * complete, 0 when more bytes are needed, -errno to close the connection.
 */
static int
vhu_msg_recv(struct vhu_dev *dev)
{
	union {
		char buf[CMSG_SPACE(VHU_MSG_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	const size_t hdr_len = sizeof(struct vhu_msg_hdr);
	struct vhu_msg_hdr hdr;
	struct msghdr mh;
	struct iovec iov;
	bool overflow = false;
	size_t want;
	ssize_t n;

	if (dev->rx_len < hdr_len) {
		want = hdr_len - dev->rx_len;
	} else {
		memcpy(&hdr, dev->rx_buf, hdr_len);
		want = hdr_len + hdr.size - dev->rx_len;
	}
	/* Never read past the current message: the next one's fds must not mix in. */
	iov.iov_base = dev->rx_buf + dev->rx_len;
	iov.iov_len = want;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(dev->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	vhu_msg_take_cmsg(dev, &mh, &overflow);
	if (mh.msg_flags & MSG_CTRUNC || overflow) {
		vhu_peer_log(dev, "message carries more than %u fds", VHU_MSG_FDS_MAX);
		return -EPROTO;
	}
	dev->rx_len += (uint32_t)n;
	if (dev->rx_len < hdr_len)
		return 0;
	memcpy(&hdr, dev->rx_buf, hdr_len);
	if (dev->rx_len == hdr_len) {
		if ((hdr.flags & VHU_FLAG_VERSION_MASK) != VHU_FLAG_VERSION ||
		    (hdr.flags & ~VHU_FLAG_KNOWN) != 0 || (hdr.flags & VHU_FLAG_REPLY)) {
			vhu_peer_log(dev, "request %u: bad flags 0x%x", hdr.request, hdr.flags);
			return -EPROTO;
		}
		if (hdr.size > VHU_PAYLOAD_MAX) {
			vhu_peer_log(dev, "request %u: payload of %u bytes is too large",
				     hdr.request, hdr.size);
			return -EPROTO;
		}
	}
	return dev->rx_len == hdr_len + hdr.size ? 1 : 0;
}

/*
 * The connection socket is readable: handle complete messages, up to a
 * budget. Returns 0, or -errno once the connection must be closed (the
 * caller closes it).
 */
int
vhu_msg_on_readable(struct vhu_dev *dev)
{
	const size_t hdr_len = sizeof(struct vhu_msg_hdr);
	struct vhu_msg msg;
	unsigned int budget;
	int rc;

	for (budget = 0; budget < VHU_MSG_BUDGET; budget++) {
		rc = vhu_msg_recv(dev);
		if (rc == -EPROTO)
			vhu_stat_inc(dev->s,
				     VHU_STAT_msg_errors); /* framing: the connection goes */
		if (rc <= 0)
			return rc;
		memset(&msg, 0, sizeof(msg));
		memcpy(&msg.hdr, dev->rx_buf, hdr_len);
		memcpy(&msg.payload, dev->rx_buf + hdr_len, msg.hdr.size);
		memcpy(msg.fds, dev->rx_fds, sizeof(msg.fds));
		msg.nb_fds = dev->rx_nb_fds;
		dev->rx_nb_fds = 0;
		dev->rx_len = 0;
		rc = vhu_msg_dispatch(dev, &msg);
		if (rc < 0)
			return rc;
	}
	return 0;
}
