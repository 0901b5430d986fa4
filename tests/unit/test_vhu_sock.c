/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost/vhu_sock.c: socket lifecycle. Configuration checks, socket file
 * permissions, a live path refused and a stale one reclaimed, one frontend
 * per socket, a rapid connect/disconnect loop without fd leaks, client mode
 * dialing before the frontend listens and re-dialing after it goes away, a
 * restarted backend re-attaching to a frontend that re-sends its setup, and a
 * frontend reconnecting before its hang-up was seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <rte_errno.h>

#include "vhu_frontend.h"
#include "vhu_internal.h"

#define REGION_SIZE (2u << 20)
#define FEATURES (VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES))
#define PROTO (VRQ_FBIT(VHU_PROTO_F_REPLY_ACK) | VRQ_FBIT(VHU_PROTO_F_MQ))

static char path[64];
static int nb_fds;

static int
fx_setup(void **state)
{
	static int n;

	snprintf(path, sizeof(path), "/tmp/vhu-sock-%d-%d.sock", getpid(), n++);
	unlink(path);
	nb_fds = vhu_fe_count_fds();
	*state = path;
	return 0;
}

static int
fx_teardown(void **state)
{
	(void)state;
	unlink(path);
	assert_int_equal(vhu_fe_count_fds(), nb_fds);
	return 0;
}

static void
test_vhu_sock_bad_conf(void **state)
{
	struct vhu_sock_conf conf = {.path = path, .max_queue_pairs = 0};
	char longp[200];

	(void)state;
	assert_null(vhu_sock_create(&conf, NULL, NULL));
	assert_int_equal(rte_errno, EINVAL);
	conf.max_queue_pairs = VHU_QUEUE_PAIRS_MAX + 1;
	assert_null(vhu_sock_create(&conf, NULL, NULL));
	conf.max_queue_pairs = 1;
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	conf.path = longp;
	assert_null(vhu_sock_create(&conf, NULL, NULL));
	conf.path = "";
	assert_null(vhu_sock_create(&conf, NULL, NULL));
	assert_null(vhu_sock_create(NULL, NULL, NULL));
}

static void
test_vhu_sock_server_permissions(void **state)
{
	struct vhu_sock_conf conf = {.path = path,
				     .max_queue_pairs = 2,
				     .owner = (uid_t)-1,
				     .group = (gid_t)-1,
				     .numa_node = -1};
	struct vhu_sock *s;
	struct stat st;

	(void)state;
	s = vhu_sock_create(&conf, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vhu_sock_nb_vrqs(s), 4);
	assert_non_null(vhu_sock_vrq(s, 3));
	assert_null(vhu_sock_vrq(s, 4));
	assert_string_equal(vhu_sock_path(s), path);
	vhu_sock_destroy(s);
	assert_int_not_equal(access(path, F_OK), 0); /* unlinked */
	conf.mode = 0660;
	if (geteuid() == 0) {
		conf.owner = 1;
		conf.group = 2;
	}
	s = vhu_sock_create(&conf, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1);
		assert_int_equal(st.st_gid, 2);
	}
	vhu_sock_destroy(s);
}

static void
test_vhu_sock_live_path_refused_stale_reclaimed(void **state)
{
	struct vhu_fe_events ev;
	struct vhu_sock *s, *s2;
	int fd, lfd;

	(void)state;
	s = vhu_fe_backend(path, false, 1, &ev);
	assert_non_null(s);
	assert_null(vhu_fe_backend(path, false, 1, &ev));
	assert_int_equal(rte_errno, EADDRINUSE);
	vhu_sock_destroy(s);
	/* A socket file nobody listens on is stale: reclaimed. */
	lfd = vhu_fe_listen(path);
	assert_true(lfd >= 0);
	close(lfd);
	s2 = vhu_fe_backend(path, false, 1, &ev);
	assert_non_null(s2);
	vhu_sock_destroy(s2);
	/* A regular file is never removed. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(vhu_fe_backend(path, false, 1, &ev));
	assert_int_equal(access(path, F_OK), 0);
}

static void
test_vhu_sock_second_connection_refused(void **state)
{
	struct vhu_fe_events ev;
	struct vhu_fe a, b;
	struct vhu_sock *s;
	uint64_t v;

	(void)state;
	s = vhu_fe_backend(path, false, 1, &ev);
	vhu_fe_init(&a);
	vhu_fe_init(&b);
	assert_int_equal(vhu_fe_connect(&a, path), 0);
	assert_int_equal(vhu_fe_get_u64(&a, VHU_REQ_GET_FEATURES, &v), 0);
	assert_int_equal(vhu_fe_connect(&b, path), 0);
	assert_true(vhu_fe_wait_eof(&b));
	assert_int_equal(vhu_fe_get_u64(&a, VHU_REQ_GET_FEATURES, &v), 0);
	assert_int_equal(vhu_fe_ev(&ev, closed), 0);
	vhu_fe_close(&a);
	vhu_fe_close(&b);
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&ev, closed) == 1));
	/* The socket takes a new frontend after the first one left. */
	assert_int_equal(vhu_fe_connect(&a, path), 0);
	assert_int_equal(vhu_fe_get_u64(&a, VHU_REQ_GET_FEATURES, &v), 0);
	vhu_fe_close(&a);
	vhu_sock_destroy(s);
	assert_int_equal(vhu_fe_ev(&ev, closed), 2);
}

static void
test_vhu_sock_rapid_connect_disconnect(void **state)
{
	struct vhu_fe_events ev;
	struct vhu_stats st;
	struct vhu_sock *s;
	struct vhu_fe fe;
	int i, base;

	(void)state;
	s = vhu_fe_backend(path, false, 1, &ev);
	base = vhu_fe_count_fds();
	for (i = 0; i < 200; i++) {
		vhu_fe_init(&fe);
		assert_int_equal(vhu_fe_connect(&fe, path), 0);
		if (i % 2 == 0) {
			assert_int_equal(vhu_fe_handshake(&fe, FEATURES, PROTO), 0);
			assert_true(vhu_fe_mem_add(&fe, 0, REGION_SIZE, false) >= 0);
			assert_int_equal(vhu_fe_set_mem_table(&fe), 0);
		}
		vhu_fe_close(&fe);
		assert_true(VHU_FE_WAIT(vhu_fe_ev(&ev, closed) == i + 1));
	}
	assert_int_equal(vhu_fe_count_fds(), base);
	vhu_sock_stats_get(s, &st);
	assert_int_equal(st.v[VHU_STAT_connections], 200);
	assert_int_equal(st.v[VHU_STAT_disconnects], 200);
	assert_int_equal(st.v[VHU_STAT_mem_tables], 100);
	vhu_sock_destroy(s);
}

/* Full setup of one queue pair as QEMU does it after (re)connecting. */
static void
qemu_like_setup(struct vhu_fe *fe)
{
	assert_int_equal(vhu_fe_handshake(fe, FEATURES, PROTO), 0);
	assert_int_equal(vhu_fe_set_mem_table(fe), 0);
	assert_int_equal(vhu_fe_vring_setup(fe, 0, 0, 0x1000, 256), 0);
	assert_int_equal(vhu_fe_vring_setup(fe, 1, 0, 0x20000, 256), 0);
	assert_int_equal(vhu_fe_vring_enable(fe, 0, true), 0);
	assert_int_equal(vhu_fe_vring_enable(fe, 1, true), 0);
}

static void
test_vhu_sock_client_dials_and_redials(void **state)
{
	struct vhu_fe_events ev;
	struct vhu_sock *s;
	struct vhu_fe fe;
	int lfd;

	(void)state;
	/* The backend starts first: it keeps dialing with back-off. */
	s = vhu_fe_backend(path, true, 1, &ev);
	assert_non_null(s);
	usleep(50000);
	lfd = vhu_fe_listen(path);
	assert_true(lfd >= 0);
	vhu_fe_init(&fe);
	assert_int_equal(vhu_fe_accept(&fe, lfd, 3000), 0);
	assert_true(vhu_fe_mem_add(&fe, 0, REGION_SIZE, false) >= 0);
	qemu_like_setup(&fe);
	assert_int_equal(vhu_fe_ev(&ev, ready), 1);
	/* The frontend restarts: the backend drops the device and dials again. */
	vhu_fe_close(&fe);
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&ev, closed) == 1));
	assert_int_equal(vhu_fe_ev(&ev, stopped), 1);
	vhu_fe_init(&fe);
	assert_int_equal(vhu_fe_accept(&fe, lfd, 3000), 0);
	assert_true(vhu_fe_mem_add(&fe, 0, REGION_SIZE, false) >= 0);
	qemu_like_setup(&fe);
	assert_int_equal(vhu_fe_ev(&ev, ready), 2);
	vhu_sock_destroy(s);
	assert_true(vhu_fe_wait_eof(&fe));
	vhu_fe_close(&fe);
	close(lfd);
}

static void
test_vhu_sock_restarted_backend_reattaches(void **state)
{
	struct vhu_fe_events ev;
	struct vhu_sock *s;
	struct vhu_fe fe;
	int lfd;

	(void)state;
	lfd = vhu_fe_listen(path);
	vhu_fe_init(&fe);
	assert_true(vhu_fe_mem_add(&fe, 0, REGION_SIZE, false) >= 0);
	s = vhu_fe_backend(path, true, 1, &ev);
	assert_int_equal(vhu_fe_accept(&fe, lfd, 3000), 0);
	qemu_like_setup(&fe);
	/* The backend process "restarts"; the frontend keeps its guest memory. */
	vhu_sock_destroy(s);
	assert_true(vhu_fe_wait_eof(&fe));
	close(fe.fd);
	s = vhu_fe_backend(path, true, 1, &ev);
	assert_int_equal(vhu_fe_accept(&fe, lfd, 3000), 0);
	qemu_like_setup(&fe);
	assert_int_equal(vhu_fe_ev(&ev, ready), 1);
	assert_true(vrq_is_started(vhu_sock_vrq(s, 1)));
	vhu_sock_destroy(s);
	vhu_fe_close(&fe);
	close(lfd);
}

static void
destroy_on_close(struct vhu_sock *s, void *ctx)
{
	(void)ctx;
	vhu_sock_destroy(s); /* from the control thread: deferred, then freed */
}

static void
test_vhu_sock_destroy_from_callback(void **state)
{
	const struct vhu_ops ops = {.connection_closed = destroy_on_close};
	struct vhu_sock_conf conf = {.path = path,
				     .max_queue_pairs = 1,
				     .owner = (uid_t)-1,
				     .group = (gid_t)-1,
				     .numa_node = -1};
	struct vhu_fe fe;
	uint64_t v;

	(void)state;
	assert_non_null(vhu_sock_create(&conf, &ops, NULL));
	vhu_fe_init(&fe);
	assert_int_equal(vhu_fe_connect(&fe, path), 0);
	assert_int_equal(vhu_fe_get_u64(&fe, VHU_REQ_GET_FEATURES, &v), 0);
	vhu_fe_close(&fe);
	/* The socket file goes with the socket; the idle control thread stops too. */
	assert_true(VHU_FE_WAIT(access(path, F_OK) != 0));
	assert_true(VHU_FE_WAIT(vhu_fe_count_fds() == nb_fds));
}

/* Holds the control thread inside a SEND_RARP callback until the test lets go. */
static int gate_held, gate_open;

static void
gate_rarp(struct vhu_sock *s, const uint8_t mac[6], void *ctx)
{
	int i;

	(void)s;
	(void)mac;
	(void)ctx;
	__atomic_store_n(&gate_held, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 5000 && !__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
}

/*
 * A frontend reconnects while the control thread is busy: the new connection
 * is queued on the listening socket before the old one's hang-up, so the
 * accept sees the old connection still open. It has hung up: serve the new one.
 */
static void
test_vhu_sock_reconnect_before_hangup_seen(void **state)
{
	const struct vhu_ops ops = {.send_rarp = gate_rarp};
	struct vhu_sock_conf conf = {.max_queue_pairs = 1, .owner = (uid_t)-1, .group = (gid_t)-1};
	struct vhu_fe_events ev;
	struct vhu_sock *s, *busy;
	struct vhu_fe a, b, x;
	char busy_path[80];
	uint64_t v = 0x563412005452ull;

	(void)state;
	snprintf(busy_path, sizeof(busy_path), "%s.busy", path);
	conf.path = busy_path;
	busy = vhu_sock_create(&conf, &ops, NULL);
	s = vhu_fe_backend(path, false, 1, &ev);
	vhu_fe_init(&a);
	vhu_fe_init(&b);
	vhu_fe_init(&x);
	assert_int_equal(vhu_fe_connect(&a, path), 0);
	assert_int_equal(vhu_fe_handshake(&a, FEATURES, PROTO), 0);
	assert_int_equal(vhu_fe_connect(&x, busy_path), 0);
	assert_int_equal(vhu_fe_handshake(&x, FEATURES, VRQ_FBIT(VHU_PROTO_F_RARP)), 0);
	assert_int_equal(vhu_fe_send(&x, VHU_REQ_SEND_RARP, VHU_FLAG_VERSION, &v, 8, NULL, 0), 0);
	assert_true(VHU_FE_WAIT(__atomic_load_n(&gate_held, __ATOMIC_ACQUIRE)));
	assert_int_equal(vhu_fe_connect(&b, path), 0); /* queued: the listener is ready first */
	vhu_fe_close(&a);                              /* then a's hang-up */
	__atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
	assert_int_equal(vhu_fe_handshake(&b, FEATURES, PROTO), 0);
	assert_int_equal(vhu_fe_ev(&ev, closed), 1);
	vhu_fe_close(&b);
	vhu_fe_close(&x);
	vhu_sock_destroy(s);
	vhu_sock_destroy(busy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(test_vhu_sock_bad_conf),
	    T(test_vhu_sock_server_permissions),
	    T(test_vhu_sock_live_path_refused_stale_reclaimed),
	    T(test_vhu_sock_second_connection_refused),
	    T(test_vhu_sock_rapid_connect_disconnect),
	    T(test_vhu_sock_client_dials_and_redials),
	    T(test_vhu_sock_restarted_backend_reattaches),
	    T(test_vhu_sock_destroy_from_callback),
	    T(test_vhu_sock_reconnect_before_hangup_seen),
#undef T
	};

	if (vhu_fe_eal_init("vhu_sock") < 0)
		return 77;
	return cmocka_run_group_tests_name("vhu_sock", tests, NULL, NULL);
}
