/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost/vhu_msg.c: framing, reassembly and the dispatcher. A message written
 * in pieces is reassembled without blocking other sockets; framing errors
 * (version, oversized payload, too many fds) close the connection; refused
 * requests (size, fd count, unknown request, feature not negotiated) are
 * nacked and the connection stays; every received fd that is not used is
 * closed; a peer that never reads replies is dropped while others are served;
 * and a flood of bad messages produces a bounded number of log lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <rte_log.h>

#include "vhu_fixture.h"
#include "vhu_frontend.h"
#include "vhu_internal.h"

#define FEATURES (VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES))
#define PROTO (VRQ_FBIT(VHU_PROTO_F_REPLY_ACK))

static int
fx_setup(void **state)
{
	static struct vhu_fx f;

	if (vhu_fx_open(&f, "msg", 1, FEATURES, PROTO) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int
fx_teardown(void **state)
{
	vhu_fx_close(*state);
	return 0;
}

static char *log_buf;
static size_t log_len;

static void
assert_alive(struct vhu_fx *f)
{
	uint64_t v = 0;

	assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_FEATURES, &v), 0);
	assert_int_equal(v, VHU_FEATURES_DEFAULT);
}

static void
assert_dropped(struct vhu_fx *f)
{
	assert_true(vhu_fe_wait_eof(&f->fe));
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
}

static void
test_vhu_msg_reassembles_pieces(void **state)
{
	struct vhu_fx *f = *state;
	uint8_t buf[20];
	struct vhu_msg_hdr hdr = {VHU_REQ_SET_FEATURES, VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY, 8};
	uint64_t v = FEATURES, ack = 1;
	struct vhu_fe other;
	unsigned int i;

	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), &v, sizeof(v));
	/* One byte at a time; meanwhile a second connection attempt is handled. */
	for (i = 0; i < sizeof(buf); i++) {
		assert_int_equal(vhu_fe_send_raw(&f->fe, buf + i, 1, NULL, 0), 0);
		if (i == 5) {
			vhu_fe_init(&other);
			assert_int_equal(vhu_fe_connect(&other, f->path), 0);
			assert_true(vhu_fe_wait_eof(&other)); /* refused: one frontend per socket */
			vhu_fe_close(&other);
		}
		usleep(1000);
	}
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &ack, sizeof(ack), 5000), 8);
	assert_int_equal(ack, 0);
	assert_alive(f);
}

static void
test_vhu_msg_bad_version_closes(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_GET_FEATURES, 0x2, NULL, 0, NULL, 0), 0);
	assert_dropped(f);
}

static void
test_vhu_msg_reply_flag_closes(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_GET_FEATURES,
				     VHU_FLAG_VERSION | VHU_FLAG_REPLY, NULL, 0, NULL, 0),
			 0);
	assert_dropped(f);
}

static void
test_vhu_msg_oversized_payload_closes(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_msg_hdr hdr = {VHU_REQ_SET_MEM_TABLE, VHU_FLAG_VERSION, 0x10000};

	assert_int_equal(vhu_fe_send_raw(&f->fe, &hdr, sizeof(hdr), NULL, 0), 0);
	assert_dropped(f);
}

static void
test_vhu_msg_size_disagrees_nacked(void **state)
{
	struct vhu_fx *f = *state;
	uint64_t v = FEATURES;
	struct vhu_stats st;

	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_FEATURES, &v, 4, NULL, 0), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_OWNER, &v, 8, NULL, 0), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &v, 4, NULL, 0), 0);
	vhu_sock_stats_get(f->s, &st);
	assert_int_equal(st.v[VHU_STAT_msg_errors], 3);
	assert_alive(f);
}

static void
test_vhu_msg_unknown_request_nacked_fd_closed(void **state)
{
	struct vhu_fx *f = *state;
	int efd = eventfd(0, EFD_CLOEXEC);
	int before = vhu_fe_count_fds();

	assert_int_not_equal(vhu_fe_call(&f->fe, 99, NULL, 0, &efd, 1), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_BACKEND_REQ_FD, NULL, 0, &efd, 1), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, UINT32_MAX, NULL, 0, NULL, 0), 0);
	assert_int_equal(vhu_fe_count_fds(), before);
	close(efd);
	assert_alive(f);
}

static void
test_vhu_msg_surplus_and_missing_fds(void **state)
{
	struct vhu_fx *f = *state;
	int fds[3] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	int before = vhu_fe_count_fds();
	uint64_t v = FEATURES;

	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_FEATURES, &v, 8, fds, 3), 0);
	v = 0; /* SET_VRING_KICK for vq 0 with two fds */
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_KICK, &v, 8, fds, 2), 0);
	assert_int_equal(vhu_fe_count_fds(), before);
	assert_int_equal(vhu_sock_features(f->s), FEATURES);
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	assert_alive(f);
}

static void
test_vhu_msg_too_many_fds_closes(void **state)
{
	struct vhu_fx *f = *state;
	int fds[12], i, before;

	for (i = 0; i < 12; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	before = vhu_fe_count_fds();
	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_SET_OWNER, VHU_FLAG_VERSION, NULL, 0, fds, 12),
			 0);
	assert_dropped(f);
	/* The backend's copies are gone (only its connection fd went too). */
	assert_true(VHU_FE_WAIT(vhu_fe_count_fds() == before - 1));
	for (i = 0; i < 12; i++)
		close(fds[i]);
}

static void
test_vhu_msg_truncated_then_eof(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_msg_hdr hdr = {VHU_REQ_SET_MEM_TABLE, VHU_FLAG_VERSION, 8 + 2 * 32};
	uint8_t buf[12 + 20] = {0};
	int efd = eventfd(0, EFD_CLOEXEC), before = vhu_fe_count_fds();

	/* Half a SET_MEM_TABLE with its fds, then the frontend goes away. */
	memcpy(buf, &hdr, sizeof(hdr));
	assert_int_equal(vhu_fe_send_raw(&f->fe, buf, sizeof(buf), (int[]){efd, efd}, 2), 0);
	usleep(20000);
	close(f->fe.fd);
	f->fe.fd = -1;
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
	/* Our connection end and the backend's: its two received fds went too. */
	assert_true(VHU_FE_WAIT(vhu_fe_count_fds() == before - 2));
	close(efd);
}

static void
test_vhu_msg_need_reply_semantics(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_msg_hdr hdr;
	uint64_t v = 0;

	/* Without NEED_REPLY a SET gets no answer at all. */
	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_SET_OWNER, VHU_FLAG_VERSION, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &v, sizeof(v), 100), -ETIMEDOUT);
	/* A GET with NEED_REPLY gets its reply only, not an extra ack. */
	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_GET_FEATURES,
				     VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &v, sizeof(v), 5000), 8);
	assert_int_equal(v, VHU_FEATURES_DEFAULT);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &v, sizeof(v), 100), -ETIMEDOUT);
	/* A request whose protocol feature was not negotiated: empty reply. */
	assert_int_equal(
	    vhu_fe_send(&f->fe, VHU_REQ_GET_QUEUE_NUM, VHU_FLAG_VERSION, NULL, 0, NULL, 0), 0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &v, sizeof(v), 5000), 0);
	assert_int_equal(hdr.request, VHU_REQ_GET_QUEUE_NUM);
	assert_true(hdr.flags & VHU_FLAG_REPLY);
}

static void
test_vhu_msg_peer_not_reading_is_dropped(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_fe_events ev2;
	struct vhu_sock *s2;
	struct vhu_fe fe2;
	char path[80];
	uint8_t req[12 * 64];
	struct vhu_msg_hdr hdr = {VHU_REQ_GET_FEATURES, VHU_FLAG_VERSION, 0};
	unsigned int i, sent = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s.2", f->path);
	s2 = vhu_fe_backend(path, false, 1, &ev2);
	assert_non_null(s2);
	vhu_fe_init(&fe2);
	assert_int_equal(vhu_fe_connect(&fe2, path), 0);
	for (i = 0; i < 64; i++)
		memcpy(req + 12 * i, &hdr, sizeof(hdr));
	/* Requests keep coming, replies are never read. */
	while (vhu_fe_ev(&f->ev, closed) == 0 && sent < 200000) {
		n = send(f->fe.fd, req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			sent += (unsigned int)n / 12;
		else
			usleep(1000);
		if (sent % 6400 == 0) {
			uint64_t v;

			/* The other socket is served all along. */
			assert_int_equal(vhu_fe_get_u64(&fe2, VHU_REQ_GET_FEATURES, &v), 0);
		}
	}
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
	{
		uint64_t v;

		assert_int_equal(vhu_fe_get_u64(&fe2, VHU_REQ_GET_FEATURES, &v), 0);
	}
	vhu_fe_close(&fe2);
	vhu_sock_destroy(s2);
}

static void
test_vhu_msg_error_flood_rate_limited(void **state)
{
	struct vhu_fx *f = *state;
	FILE *old = rte_log_get_stream(), *mem = open_memstream(&log_buf, &log_len);
	uint64_t v = 0;
	unsigned int i, lines = 0;
	char *p;

	assert_non_null(mem);
	rte_openlog_stream(mem);
	for (i = 0; i < 200; i++)
		assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_FEATURES, &v, 4, NULL, 0), 0);
	rte_openlog_stream(old);
	fclose(mem);
	assert_non_null(log_buf);
	for (p = log_buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	free(log_buf);
	/* 200 errors, one line each; at most VHU_PEER_LOG_BURST per second (+1 "suppressed"). */
	assert_true(lines >= VHU_PEER_LOG_BURST);
	assert_true(lines <= 3 * (VHU_PEER_LOG_BURST + 1));
	assert_alive(f);
}

static void
test_vhu_msg_one_log_line_per_error(void **state)
{
	struct vhu_fx *f = *state;
	FILE *old = rte_log_get_stream(), *mem = open_memstream(&log_buf, &log_len);
	uint64_t v = VRQ_FBIT(62);
	unsigned int lines = 0;
	char *p;

	assert_non_null(mem);
	rte_openlog_stream(mem);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_FEATURES, &v, 8, NULL, 0), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_CONFIG, NULL, 0, NULL, 0), 0);
	rte_openlog_stream(old);
	fclose(mem);
	assert_non_null(log_buf);
	for (p = log_buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_non_null(strstr(log_buf, f->path)); /* prefixed with the socket path */
	free(log_buf);
	assert_int_equal(lines, 2);
}

static void
test_vhu_msg_peer_gone_before_reply_no_sigpipe(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_stats st;
	int i;

	/* Replies to a closed peer must fail with EPIPE, not kill us with SIGPIPE. */
	for (i = 0; i < 50; i++)
		assert_int_equal(
		    vhu_fe_send(&f->fe, VHU_REQ_GET_FEATURES, VHU_FLAG_VERSION, NULL, 0, NULL, 0),
		    0);
	shutdown(f->fe.fd, SHUT_RD);
	close(f->fe.fd);
	f->fe.fd = -1;
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
	vhu_sock_stats_get(f->s, &st);
	assert_int_equal(st.v[VHU_STAT_disconnects], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(test_vhu_msg_reassembles_pieces),
	    T(test_vhu_msg_bad_version_closes),
	    T(test_vhu_msg_reply_flag_closes),
	    T(test_vhu_msg_oversized_payload_closes),
	    T(test_vhu_msg_size_disagrees_nacked),
	    T(test_vhu_msg_unknown_request_nacked_fd_closed),
	    T(test_vhu_msg_surplus_and_missing_fds),
	    T(test_vhu_msg_too_many_fds_closes),
	    T(test_vhu_msg_truncated_then_eof),
	    T(test_vhu_msg_need_reply_semantics),
	    T(test_vhu_msg_peer_not_reading_is_dropped),
	    T(test_vhu_msg_error_flood_rate_limited),
	    T(test_vhu_msg_one_log_line_per_error),
	    T(test_vhu_msg_peer_gone_before_reply_no_sigpipe),
#undef T
	};

	if (vhu_fe_eal_init("vhu_msg") < 0)
		return 77;
	return cmocka_run_group_tests_name("vhu_msg", tests, NULL, NULL);
}
