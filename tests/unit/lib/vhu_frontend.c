/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted vhost-user frontend for the unit tests (see vhu_frontend.h). It
 * trusts nothing the backend sends: every wait is bounded, and replies are
 * checked for the reply flag and size.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include "vhu_frontend.h"

void
vhu_fe_init(struct vhu_fe *fe)
{
	memset(fe, 0, sizeof(*fe));
	fe->fd = -1;
}

static int
vhu_fe_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -EINVAL;
	strcpy(sun->sun_path, path);
	return 0;
}

int
vhu_fe_connect(struct vhu_fe *fe, const char *path)
{
	struct sockaddr_un sun;
	int i, fd;

	if (vhu_fe_addr(path, &sun) < 0)
		return -EINVAL;
	for (i = 0; i < 2000; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			fe->fd = fd;
			return 0;
		}
		close(fd);
		usleep(1000);
	}
	return -ETIMEDOUT;
}

int
vhu_fe_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (vhu_fe_addr(path, &sun) < 0)
		return -EINVAL;
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

int
vhu_fe_accept(struct vhu_fe *fe, int listen_fd, int timeout_ms)
{
	struct pollfd p = {.fd = listen_fd, .events = POLLIN};
	int fd;

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	fe->fd = fd;
	return 0;
}

void
vhu_fe_close(struct vhu_fe *fe)
{
	uint32_t i;

	if (fe->fd >= 0)
		close(fe->fd);
	fe->fd = -1;
	for (i = 0; i < fe->nb_regions; i++) {
		munmap(fe->regions[i].addr, fe->regions[i].size);
		close(fe->regions[i].memfd);
	}
	fe->nb_regions = 0;
}

int
vhu_fe_send_raw(struct vhu_fe *fe, const void *buf, size_t len, const int *fds, int nb_fds)
{
	union {
		char buf[CMSG_SPACE(64 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	if (nb_fds > 64)
		return -EINVAL;
	if (nb_fds > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(nb_fds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nb_fds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nb_fds * sizeof(int));
	}
	n = sendmsg(fe->fd, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int
vhu_fe_send(struct vhu_fe *fe, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
	    const int *fds, int nb_fds)
{
	uint8_t buf[sizeof(struct vhu_msg_hdr) + 1024];
	struct vhu_msg_hdr hdr = {.request = req, .flags = flags, .size = size};

	if (size > 1024)
		return -EINVAL;
	memcpy(buf, &hdr, sizeof(hdr));
	if (size > 0)
		memcpy(buf + sizeof(hdr), payload, size);
	return vhu_fe_send_raw(fe, buf, sizeof(hdr) + size, fds, nb_fds);
}

static int
vhu_fe_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&p, 1, timeout_ms) != 1)
			return -ETIMEDOUT;
		n = recv(fd, (uint8_t *)buf + got, len - got, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		got += (size_t)n;
	}
	return 0;
}

int
vhu_fe_recv(struct vhu_fe *fe, struct vhu_msg_hdr *hdr, void *payload, size_t max, int timeout_ms)
{
	uint8_t junk[512];
	int rc;

	rc = vhu_fe_read_full(fe->fd, hdr, sizeof(*hdr), timeout_ms);
	if (rc < 0)
		return rc;
	if (hdr->size > sizeof(junk))
		return -EPROTO;
	rc = vhu_fe_read_full(fe->fd, junk, hdr->size, timeout_ms);
	if (rc < 0)
		return rc;
	memcpy(payload, junk, hdr->size < max ? hdr->size : max);
	return (int)hdr->size;
}

int
vhu_fe_call(struct vhu_fe *fe, uint32_t req, const void *payload, uint32_t size, const int *fds,
	    int nb_fds)
{
	struct vhu_msg_hdr hdr;
	uint64_t ack = 0;
	int rc;

	rc = vhu_fe_send(fe, req, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY, payload, size, fds,
			 nb_fds);
	if (rc < 0)
		return rc;
	rc = vhu_fe_recv(fe, &hdr, &ack, sizeof(ack), 5000);
	if (rc < 0)
		return rc;
	if (rc != sizeof(ack) || hdr.request != req || !(hdr.flags & VHU_FLAG_REPLY))
		return -EPROTO;
	return ack == 0 ? 0 : (ack > 0x7fffffff ? 0x7fffffff : (int)ack);
}

int
vhu_fe_call_u64(struct vhu_fe *fe, uint32_t req, uint64_t v)
{
	return vhu_fe_call(fe, req, &v, sizeof(v), NULL, 0);
}

int
vhu_fe_get_u64(struct vhu_fe *fe, uint32_t req, uint64_t *out)
{
	struct vhu_msg_hdr hdr;
	int rc;

	rc = vhu_fe_send(fe, req, VHU_FLAG_VERSION, NULL, 0, NULL, 0);
	if (rc < 0)
		return rc;
	rc = vhu_fe_recv(fe, &hdr, out, sizeof(*out), 5000);
	if (rc < 0)
		return rc;
	if (rc != sizeof(*out) || hdr.request != req || !(hdr.flags & VHU_FLAG_REPLY))
		return -EPROTO;
	return 0;
}

bool
vhu_fe_wait_eof(struct vhu_fe *fe)
{
	struct pollfd p = {.fd = fe->fd, .events = POLLIN};
	uint8_t buf[4096];
	ssize_t n;
	int i;

	for (i = 0; i < 5000; i++) {
		if (poll(&p, 1, 1) < 0)
			return false;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = recv(fe->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
	return false;
}

int
vhu_fe_handshake(struct vhu_fe *fe, uint64_t features, uint64_t proto_features)
{
	uint64_t v;
	int rc;

	rc = vhu_fe_get_u64(fe, VHU_REQ_GET_FEATURES, &v);
	if (rc < 0)
		return rc;
	rc = vhu_fe_get_u64(fe, VHU_REQ_GET_PROTOCOL_FEATURES, &v);
	if (rc < 0)
		return rc;
	/* Without REPLY_ACK there is no ack to wait for: send it plainly first. */
	rc = vhu_fe_send(fe, VHU_REQ_SET_PROTOCOL_FEATURES, VHU_FLAG_VERSION, &proto_features,
			 sizeof(proto_features), NULL, 0);
	if (rc < 0)
		return rc;
	rc = vhu_fe_call(fe, VHU_REQ_SET_OWNER, NULL, 0, NULL, 0);
	if (rc != 0)
		return rc;
	return vhu_fe_call_u64(fe, VHU_REQ_SET_FEATURES, features);
}

int
vhu_fe_mem_add(struct vhu_fe *fe, uint64_t gpa, uint64_t size, bool allow_sealing)
{
	struct vhu_fe_region *r;
	int fd;
	void *p;

	if (fe->nb_regions >= VHU_FE_REGIONS_MAX)
		return -ENOSPC;
	fd = memfd_create("vhu-fe-guest", MFD_CLOEXEC | (allow_sealing ? MFD_ALLOW_SEALING : 0));
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -errno;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	r = &fe->regions[fe->nb_regions];
	r->memfd = fd;
	r->addr = p;
	r->gpa = gpa;
	r->size = size;
	return (int)fe->nb_regions++;
}

uint64_t
vhu_fe_qva(const struct vhu_fe *fe, uint32_t r, uint64_t off)
{
	return (uint64_t)(uintptr_t)fe->regions[r].addr + off;
}

int
vhu_fe_set_mem_table(struct vhu_fe *fe)
{
	struct vhu_mem_table_msg t;
	int fds[VHU_FE_REGIONS_MAX];
	uint32_t i;

	memset(&t, 0, sizeof(t));
	t.nb_regions = fe->nb_regions;
	for (i = 0; i < fe->nb_regions; i++) {
		t.regions[i].gpa = fe->regions[i].gpa;
		t.regions[i].size = fe->regions[i].size;
		t.regions[i].qva = vhu_fe_qva(fe, i, 0);
		t.regions[i].mmap_offset = 0;
		fds[i] = fe->regions[i].memfd;
	}
	return vhu_fe_call(fe, VHU_REQ_SET_MEM_TABLE, &t,
			   (uint32_t)(8 + fe->nb_regions * sizeof(struct vhu_mem_region_msg)), fds,
			   (int)fe->nb_regions);
}

void
vhu_fe_ring_addr(const struct vhu_fe *fe, uint32_t vq_idx, uint32_t r, uint64_t off, uint16_t num,
		 struct vhu_vring_addr *a)
{
	uint64_t avail = off + 16ull * num;
	uint64_t used = (avail + 6 + 2ull * num + 63) & ~63ull;

	memset(a, 0, sizeof(*a));
	a->index = vq_idx;
	a->desc_qva = vhu_fe_qva(fe, r, off);
	a->avail_qva = vhu_fe_qva(fe, r, avail);
	a->used_qva = vhu_fe_qva(fe, r, used);
	a->log_gpa = fe->regions[r].gpa + used;
}

static int
vhu_fe_send_eventfd(struct vhu_fe *fe, uint32_t req, uint32_t vq_idx)
{
	uint64_t v = vq_idx;
	int fd, rc;

	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = vhu_fe_call(fe, req, &v, sizeof(v), &fd, 1);
	close(fd);
	return rc;
}

int
vhu_fe_vring_setup(struct vhu_fe *fe, uint32_t vq_idx, uint32_t r, uint64_t off, uint16_t num)
{
	struct vhu_vring_state st = {.index = vq_idx, .num = num};
	struct vhu_vring_addr a;
	int rc;

	rc = vhu_fe_call(fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0);
	if (rc != 0)
		return rc;
	st.num = 0;
	rc = vhu_fe_call(fe, VHU_REQ_SET_VRING_BASE, &st, sizeof(st), NULL, 0);
	if (rc != 0)
		return rc;
	vhu_fe_ring_addr(fe, vq_idx, r, off, num, &a);
	rc = vhu_fe_call(fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	if (rc != 0)
		return rc;
	rc = vhu_fe_send_eventfd(fe, VHU_REQ_SET_VRING_KICK, vq_idx);
	if (rc != 0)
		return rc;
	return vhu_fe_send_eventfd(fe, VHU_REQ_SET_VRING_CALL, vq_idx);
}

int
vhu_fe_vring_enable(struct vhu_fe *fe, uint32_t vq_idx, bool enable)
{
	struct vhu_vring_state st = {.index = vq_idx, .num = enable ? 1 : 0};

	return vhu_fe_call(fe, VHU_REQ_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0);
}

int
vhu_fe_get_vring_base(struct vhu_fe *fe, uint32_t vq_idx)
{
	struct vhu_vring_state st = {.index = vq_idx};
	struct vhu_msg_hdr hdr;
	int rc;

	rc = vhu_fe_send(fe, VHU_REQ_GET_VRING_BASE, VHU_FLAG_VERSION, &st, sizeof(st), NULL, 0);
	if (rc < 0)
		return rc;
	rc = vhu_fe_recv(fe, &hdr, &st, sizeof(st), 5000);
	if (rc < 0)
		return rc;
	if (rc != sizeof(st) || st.index != vq_idx)
		return -EPROTO;
	return (int)st.num;
}

int
vhu_fe_count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static void
vhu_fe_on_ready(struct vhu_sock *s, void *ctx)
{
	struct vhu_fe_events *ev = ctx;

	(void)s;
	__atomic_fetch_add(&ev->ready, 1, __ATOMIC_RELEASE);
}

static void
vhu_fe_on_stopped(struct vhu_sock *s, void *ctx)
{
	struct vhu_fe_events *ev = ctx;

	(void)s;
	__atomic_fetch_add(&ev->stopped, 1, __ATOMIC_RELEASE);
}

static void
vhu_fe_on_vring(struct vhu_sock *s, uint16_t vq_idx, bool enabled, void *ctx)
{
	struct vhu_fe_events *ev = ctx;

	(void)s;
	if (enabled) {
		__atomic_fetch_or(&ev->started_mask, 1u << vq_idx, __ATOMIC_RELEASE);
		__atomic_fetch_add(&ev->vring_on, 1, __ATOMIC_RELEASE);
	} else {
		__atomic_fetch_and(&ev->started_mask, ~(1u << vq_idx), __ATOMIC_RELEASE);
		__atomic_fetch_add(&ev->vring_off, 1, __ATOMIC_RELEASE);
	}
}

static void
vhu_fe_on_closed(struct vhu_sock *s, void *ctx)
{
	struct vhu_fe_events *ev = ctx;

	(void)s;
	__atomic_fetch_add(&ev->closed, 1, __ATOMIC_RELEASE);
}

static void
vhu_fe_on_rarp(struct vhu_sock *s, const uint8_t mac[6], void *ctx)
{
	struct vhu_fe_events *ev = ctx;

	(void)s;
	memcpy(ev->rarp_mac, mac, sizeof(ev->rarp_mac));
	pthread_getname_np(pthread_self(), ev->rarp_thread, sizeof(ev->rarp_thread));
	__atomic_fetch_add(&ev->rarp, 1, __ATOMIC_RELEASE);
}

const struct vhu_ops vhu_fe_ops = {
    .device_ready = vhu_fe_on_ready,
    .device_stopped = vhu_fe_on_stopped,
    .vring_state_changed = vhu_fe_on_vring,
    .connection_closed = vhu_fe_on_closed,
    .send_rarp = vhu_fe_on_rarp,
};

int
vhu_fe_eal_init(const char *prefix)
{
	char a[12][32];
	char *argv[13];
	const char *src[12] = {"test",        "--no-huge", "--no-pci",      "--no-shconf",
			       "-m",          "64",        "--file-prefix", prefix,
			       "--log-level", "*:error",   "--log-level",   "vhu.config:notice"};
	int i;

	for (i = 0; i < 12; i++) {
		snprintf(a[i], sizeof(a[i]), "%s", src[i]);
		argv[i] = a[i];
	}
	argv[12] = NULL;
	return rte_eal_init(12, argv) < 0 ? -1 : 0;
}

struct vhu_sock *
vhu_fe_backend(const char *path, bool client, uint16_t queue_pairs, struct vhu_fe_events *ev)
{
	struct vhu_sock_conf conf = {
	    .path = path,
	    .client = client,
	    .reconnect_ms = 10,
	    .owner = (uid_t)-1,
	    .group = (gid_t)-1,
	    .max_queue_pairs = queue_pairs,
	    .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
	    .numa_node = SOCKET_ID_ANY,
	};

	memset(ev, 0, sizeof(*ev));
	return vhu_sock_create(&conf, &vhu_fe_ops, ev);
}
