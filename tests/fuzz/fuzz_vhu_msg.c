/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the vhost-user reader, validator and dispatcher
 * (STYLE.md 2.11). The input is a list of records, each written to one end
 * of a socketpair whose other end the backend reads:
 *
 *   u8 ctl | u16 len (LE) | len bytes
 *
 * ctl bits 0-3: how many fds ride on the record's first byte (0..15);
 * bits 4-5: their kind (0 memfd of 64 KiB, 1 eventfd, 2 pipe end, 3 mixed).
 * The backend state is the real one (vhu_dev with its vrqs) driven without
 * the control thread, so each input is deterministic. Invariants checked
 * after each input: no sanitizer report, no fd left open, nothing mapped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "vhu_internal.h"

#define FUZZ_FDS_MAX 15
#define FUZZ_MEMFD_SIZE 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vhu_sock *fuzz_sock;

static int
fuzz_count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
fuzz_init(void)
{
	static char a0[] = "fuzz", a1[] = "--no-huge", a2[] = "--no-pci", a3[] = "--no-shconf",
		    a4[] = "-m", a5[] = "64", a6[] = "--file-prefix", a7[] = "fuzz_vhu_msg",
		    a8[] = "--log-level", a9[] = "*:emergency";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, NULL};
	uint16_t i;

	if (rte_eal_init(10, argv) < 0)
		abort();
	fuzz_sock = calloc(1, sizeof(*fuzz_sock));
	if (fuzz_sock == NULL)
		abort();
	strcpy(fuzz_sock->path, "fuzz");
	fuzz_sock->conf.path = fuzz_sock->path;
	fuzz_sock->conf.max_queue_pairs = 2;
	fuzz_sock->conf.mtu = 1500;
	fuzz_sock->features_offered = VHU_FEATURES_DEFAULT;
	fuzz_sock->listen_fd = -1;
	fuzz_sock->timer_fd = -1;
	fuzz_sock->nb_vrqs = 4;
	vhu_dev_init(&fuzz_sock->dev, fuzz_sock);
	for (i = 0; i < fuzz_sock->nb_vrqs; i++) {
		fuzz_sock->dev.vqs[i].q = vrq_create("fuzz", i, -1);
		if (fuzz_sock->dev.vqs[i].q == NULL)
			abort();
	}
}

static int
fuzz_make_fd(unsigned int kind, unsigned int i, int *extra)
{
	int p[2], fd;

	*extra = -1;
	if (kind == 3)
		kind = i % 3;
	switch (kind) {
	case 0:
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, FUZZ_MEMFD_SIZE) < 0)
			abort();
		return fd;
	case 1:
		return eventfd(0, EFD_CLOEXEC);
	default:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		*extra = p[1];
		return p[0];
	}
}

/* Write one record with its fds; they are closed on our side right after. */
static void
fuzz_send(int fd, uint8_t ctl, const uint8_t *buf, size_t len)
{
	union {
		char b[CMSG_SPACE(FUZZ_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[FUZZ_FDS_MAX], extra[FUZZ_FDS_MAX];
	unsigned int n = ctl & 0xf, i, got = 0;
	struct cmsghdr *cm;

	for (i = 0; i < n; i++) {
		fds[got] = fuzz_make_fd((ctl >> 4) & 3, i, &extra[got]);
		if (fds[got] >= 0)
			got++;
	}
	if (got > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(got * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(got * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, got * sizeof(int));
	}
	(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (i = 0; i < got; i++) {
		close(fds[i]);
		if (extra[i] >= 0)
			close(extra[i]);
	}
}

static void
fuzz_drain(int fd)
{
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_dev *dev;
	int sp[2], base, rc = 0, rounds;
	size_t off = 0, len;
	uint8_t ctl;

	if (fuzz_sock == NULL)
		fuzz_init();
	dev = &fuzz_sock->dev;
	base = fuzz_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	dev->fd = sp[0];
	while (off + 3 <= size && rc >= 0) {
		ctl = data[off];
		len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		if (len == 0)
			continue;
		fuzz_send(sp[1], ctl, data + off, len);
		off += len;
		/* Bounded: each call handles at most one budget of messages. */
		for (rounds = 0; rounds < 64 && rc >= 0; rounds++) {
			rc = vhu_msg_on_readable(dev);
			fuzz_drain(sp[1]);
			if (rc == 0 && dev->rx_len == 0)
				break;
		}
		if (rc == 0 && rounds == 64)
			break;
	}
	/* What vhu_conn_close() does, minus epoll and callbacks. */
	vhu_dev_teardown(dev);
	close(sp[0]);
	close(sp[1]);
	dev->fd = -1;
	if (fuzz_count_fds() != base || dev->mem != NULL || dev->nb_maps != 0 || dev->log != NULL)
		abort();
	return 0;
}
