/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost/vhu_dev.c: request handlers and the device lifecycle, driven by the
 * scripted frontend over a real unix socket: a QEMU-like golden handshake
 * with two queue pairs, QEMU 7.2's multiqueue sequence (one vhost_dev per
 * queue pair, each repeating the memory setup), then each hostile or
 * out-of-order request, asserting the nack, the state left behind and that
 * no fd leaked.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <cmocka.h>

#include "vhu_fixture.h"
#include "vhu_frontend.h"
#include "vhu_internal.h"

#define REGION_SIZE (2u << 20)
#define FEATURES                                                         \
	(VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES) | \
	 VRQ_FBIT(VRQ_F_NET_MRG_RXBUF) | VRQ_FBIT(VRQ_F_EVENT_IDX))
#define PROTO                                                             \
	(VRQ_FBIT(VHU_PROTO_F_MQ) | VRQ_FBIT(VHU_PROTO_F_REPLY_ACK) |     \
	 VRQ_FBIT(VHU_PROTO_F_LOG_SHMFD) | VRQ_FBIT(VHU_PROTO_F_CONFIG) | \
	 VRQ_FBIT(VHU_PROTO_F_NET_MTU) | VRQ_FBIT(VHU_PROTO_F_STATUS) |   \
	 VRQ_FBIT(VHU_PROTO_F_RARP))

static int
fx_setup(void **state)
{
	static struct vhu_fx f;

	if (vhu_fx_open(&f, "dev", 2, FEATURES, PROTO) != 0)
		return -1;
	if (vhu_fe_mem_add(&f.fe, 0, REGION_SIZE, false) < 0 ||
	    vhu_fe_mem_add(&f.fe, 0x100000000ull, REGION_SIZE, false) < 0)
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

/* Rings of queue pair @p qp: vq 2qp in region 0, vq 2qp+1 in region 1. */
static void
setup_pair(struct vhu_fx *f, uint32_t qp)
{
	assert_int_equal(vhu_fe_vring_setup(&f->fe, 2 * qp, 0, 0x10000 * (qp + 1), 256), 0);
	assert_int_equal(vhu_fe_vring_setup(&f->fe, 2 * qp + 1, 1, 0x10000 * (qp + 1), 256), 0);
}

/* Per-vhost_dev init of QEMU 7.2 (vhost_user_backend_init), sent again for every queue pair. */
static void
qemu72_init_dev(struct vhu_fx *f, uint64_t proto)
{
	uint64_t v;

	assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_FEATURES, &v), 0);
	assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_PROTOCOL_FEATURES, &v), 0);
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_PROTOCOL_FEATURES, proto), 0);
	if (proto & VRQ_FBIT(VHU_PROTO_F_CONFIGURE_MEM_SLOTS))
		assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_MAX_MEM_SLOTS, &v), 0);
}

/* ADD_MEM_REG of every region, as a vhost_dev with an empty shadow table sends it. */
static void
add_all_regions(struct vhu_fx *f)
{
	struct vhu_mem_reg_msg m = {0};
	uint32_t r;

	for (r = 0; r < f->fe.nb_regions; r++) {
		m.region = (struct vhu_mem_region_msg){.gpa = f->fe.regions[r].gpa,
						       .size = f->fe.regions[r].size,
						       .qva = vhu_fe_qva(&f->fe, r, 0)};
		assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m),
					     &f->fe.regions[r].memfd, 1),
				 0);
	}
}

/*
 * vhost_dev_start() of QEMU 7.2 for queue pair @p qp, then vhost_set_vring_enable():
 * the same features, the whole memory again (ADD_MEM_REG per region with
 * CONFIGURE_MEM_SLOTS, else SET_MEM_TABLE), then its own rings by absolute index.
 */
static void
qemu72_start_pair(struct vhu_fx *f, uint32_t qp, bool mem_slots)
{
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES), 0);
	if (mem_slots)
		add_all_regions(f);
	else
		assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, qp);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 2 * qp, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 2 * qp + 1, true), 0);
}

static void
test_vhu_dev_golden_handshake(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, 0);
	setup_pair(f, 1);
	/* PROTOCOL_FEATURES negotiated: rings wait for SET_VRING_ENABLE. */
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_int_equal(vhu_fe_ev(&f->ev, ready), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 1, true), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, ready), 1);
	assert_true(vhu_sock_is_ready(f->s));
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 2, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 3, true), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, started_mask), 0xf);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 3)));
	assert_int_equal(vhu_sock_features(f->s), FEATURES);

	/* GET_VRING_BASE stops the ring and the device. */
	assert_int_equal(vhu_fe_get_vring_base(&f->fe, 1), 0);
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 1)));
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
	assert_false(vhu_sock_is_ready(f->s));

	/* Disconnect: every ring stopped, closed callback, nothing left mapped. */
	close(f->fe.fd);
	f->fe.fd = -1;
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
	assert_int_equal(vhu_fe_ev(&f->ev, started_mask), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 3)));
	assert_null(f->s->dev.mem);
}

static void
test_vhu_dev_no_protocol_features_starts_on_kick(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, VRQ_FBIT(VRQ_F_VERSION_1)),
			 0);
	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, 0);
	assert_int_equal(vhu_fe_ev(&f->ev, ready), 1);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 2)));
}

static void
test_vhu_dev_disable_stops_ring(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_state st = {.index = 1};

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 1, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 1, false), 0);
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 1)));
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 1, true), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, ready), 2);
	st.num = 7;
	assert_int_not_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0), 0);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 1)));
}

static void
test_vhu_dev_features_not_offered(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_not_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, VRQ_FBIT(63)), 0);
	assert_int_equal(vhu_sock_features(f->s), FEATURES);
	assert_int_not_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_PROTOCOL_FEATURES,
					     PROTO | VRQ_FBIT(VHU_PROTO_F_BACKEND_REQ)),
			     0);
	assert_int_equal(f->s->dev.proto_features, PROTO);
}

static void
test_vhu_dev_features_locked_while_started(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	assert_int_not_equal(
	    vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES & ~VRQ_FBIT(VRQ_F_EVENT_IDX)),
	    0);
	/* LOG_ALL alone may change under running rings (migration). */
	assert_int_equal(
	    vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES | VRQ_FBIT(VRQ_F_LOG_ALL)), 0);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
}

static void
test_vhu_dev_bad_ring_sizes(void **state)
{
	struct vhu_fx *f = *state;
	static const uint32_t bad[] = {0, 3, 100, 65536, 1u << 31};
	struct vhu_vring_state st = {.index = 0};
	unsigned int i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		st.num = bad[i];
		assert_int_not_equal(
		    vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	}
	assert_false(f->s->dev.vqs[0].num_set);
	st.num = 32768;
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	assert_int_equal(f->s->dev.vqs[0].num, 32768);
}

static void
test_vhu_dev_num_refused_while_started(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_state st = {.index = 0, .num = 128};

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0),
			     0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_BASE, &st, sizeof(st), NULL, 0),
			     0);
	assert_int_equal(f->s->dev.vqs[0].num, 256);
}

static void
test_vhu_dev_num_changed_after_addr(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_state st = {.index = 0, .num = 256};
	struct vhu_vring_addr a;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	/* Ring placed 8 KiB before the end of region 0: 256 entries fit, 32768 do not. */
	vhu_fe_ring_addr(&f->fe, 0, 0, REGION_SIZE - 0x2000 + 0x1000 - 0x1000 - 0x2000, 256, &a);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	st.num = 32768;
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	/* Re-validated at start: the kick that would start it is refused. */
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	{
		uint64_t v = 0;
		int efd = eventfd(0, EFD_CLOEXEC);

		assert_int_not_equal(
		    vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_KICK, &v, sizeof(v), &efd, 1), 0);
		close(efd);
	}
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 0)));
}

static void
test_vhu_dev_out_of_order(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_addr a;
	uint64_t v = 0;
	int efd = eventfd(0, EFD_CLOEXEC);

	/* SET_VRING_ADDR before SET_MEM_TABLE */
	vhu_fe_ring_addr(&f->fe, 0, 0, 0x10000, 256, &a);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			     0);
	assert_false(f->s->dev.vqs[0].addr_set);
	/* SET_VRING_KICK before SET_VRING_NUM: refused and its fd closed */
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_KICK, &v, sizeof(v), &efd, 1),
			     0);
	assert_false(f->s->dev.vqs[0].kicked);
	assert_int_equal(f->s->dev.vqs[0].kick_fd, -1);
	close(efd);
	/* GET_VRING_BASE of a ring never started answers its base */
	assert_int_equal(vhu_fe_get_vring_base(&f->fe, 0), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 0);
}

static void
test_vhu_dev_vring_index_out_of_range(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_state st = {.index = 4, .num = 256};
	uint64_t v = 200 | VHU_VRING_NOFD_MASK;

	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0),
			     0);
	st.index = UINT32_MAX;
	assert_int_not_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), NULL, 0),
			     0);
	/* GET_VRING_BASE out of range: an empty reply, the connection stays. */
	{
		struct vhu_msg_hdr hdr;
		char buf[16];

		assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_GET_VRING_BASE, VHU_FLAG_VERSION, &st,
					     sizeof(st), NULL, 0),
				 0);
		assert_int_equal(vhu_fe_recv(&f->fe, &hdr, buf, sizeof(buf), 5000), 0);
	}
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_OWNER, NULL, 0, NULL, 0), 0);
}

static void
test_vhu_dev_kick_call_must_be_eventfds(void **state)
{
	struct vhu_fx *f = *state;
	int p[2];
	uint64_t v = 1;

	assert_int_equal(pipe(p), 0);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), &p[0], 1),
			     0);
	assert_int_equal(f->s->dev.vqs[1].call_fd, -1);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ERR, &v, sizeof(v), &p[1], 1),
			     0);
	/* NOFD with an fd attached, and no fd without NOFD */
	v = 1 | VHU_VRING_NOFD_MASK;
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), &p[0], 1),
			     0);
	v = 1;
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), NULL, 0),
			     0);
	close(p[0]);
	close(p[1]);
}

static void
test_vhu_dev_call_fd_replaced(void **state)
{
	struct vhu_fx *f = *state;
	uint64_t v = 0;
	int efd = eventfd(0, EFD_CLOEXEC), first, nb;

	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), &efd, 1), 0);
	first = f->s->dev.vqs[0].call_fd;
	assert_true(first >= 0);
	assert_true(fcntl(first, F_GETFL) & O_NONBLOCK);
	nb = vhu_fe_count_fds();
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), &efd, 1), 0);
	/* The old one was closed (its number may be reused by the new one). */
	assert_int_equal(vhu_fe_count_fds(), nb);
	v = VHU_VRING_NOFD_MASK;
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_CALL, &v, sizeof(v), NULL, 0), 0);
	assert_int_equal(f->s->dev.vqs[0].call_fd, -1);
	close(efd);
}

static void
test_vhu_dev_queue_num_config_mtu_status(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_config_msg c = {.offset = 0, .size = sizeof(struct vhu_net_config)};
	struct vhu_net_config *nc = (struct vhu_net_config *)c.region;
	struct vhu_msg_hdr hdr;
	uint64_t v;

	assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_QUEUE_NUM, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_NET_SET_MTU, 1400), 0);
	assert_int_not_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_NET_SET_MTU, 9000), 0);
	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_GET_CONFIG, VHU_FLAG_VERSION, &c,
				     VHU_CONFIG_HDR_SIZE + c.size, NULL, 0),
			 0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &c, sizeof(c), 5000),
			 VHU_CONFIG_HDR_SIZE + sizeof(*nc));
	assert_int_equal(nc->mtu, 1400);
	assert_int_equal(nc->max_virtqueue_pairs, 2);
	assert_int_equal(nc->mac[5], 0x56);
	c.size = 300;
	assert_int_equal(vhu_fe_send(&f->fe, VHU_REQ_GET_CONFIG, VHU_FLAG_VERSION, &c,
				     VHU_CONFIG_HDR_SIZE + 8, NULL, 0),
			 0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &c, sizeof(c), 5000), 0);
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_STATUS, 0xf), 0);
	assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_STATUS, &v), 0);
	assert_int_equal(v, 0xf);
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SEND_RARP, 0x563412005452ull), 0);
}

static void
test_vhu_dev_reset_device(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	setup_pair(f, 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 1, true), 0);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_RESET_OWNER, NULL, 0, NULL, 0), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_int_equal(vhu_sock_features(f->s), 0);
	assert_int_equal(f->s->dev.vqs[0].kick_fd, -1);
	assert_non_null(f->s->dev.mem);
}

/* GET_VRING_BASE answered with the whole 32-bit num (vhu_fe_get_vring_base() returns an int). */
static uint32_t
get_base_u32(struct vhu_fx *f, uint32_t vq_idx)
{
	struct vhu_vring_state st = {.index = vq_idx};
	struct vhu_msg_hdr hdr;

	assert_int_equal(
	    vhu_fe_send(&f->fe, VHU_REQ_GET_VRING_BASE, VHU_FLAG_VERSION, &st, sizeof(st), NULL, 0),
	    0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, &st, sizeof(st), 5000), sizeof(st));
	assert_int_equal(st.index, vq_idx);
	return st.num;
}

/* Packed ring 0 of 256 entries set up with SET_VRING_BASE @p base: the nack or ack. */
static int
packed_ring_setup(struct vhu_fx *f, uint32_t base)
{
	struct vhu_vring_state st = {.index = 0, .num = 256};
	struct vhu_vring_addr a = {.index = 0};
	uint64_t v = 0;
	int efd = eventfd(0, EFD_CLOEXEC), rc;

	assert_int_equal(
	    vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES | VRQ_FBIT(VRQ_F_RING_PACKED)),
	    0);
	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	st.num = base;
	rc = vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_BASE, &st, sizeof(st), NULL, 0);
	/* Packed event areas are 4 bytes: right at the end of region 0 is fine. */
	a.desc_qva = vhu_fe_qva(&f->fe, 0, 0x4000);
	a.avail_qva = vhu_fe_qva(&f->fe, 0, REGION_SIZE - 8);
	a.used_qva = vhu_fe_qva(&f->fe, 0, REGION_SIZE - 4);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_KICK, &v, sizeof(v), &efd, 1), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	close(efd);
	return rc;
}

static void
test_vhu_dev_packed_ring_base_round_trip(void **state)
{
	struct vhu_fx *f = *state;

	/* avail wrap counter 1, next slot 5; no used half (DPDK virtio-user's layout) */
	assert_int_equal(packed_ring_setup(f, 0x8000 | 5), 0);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_int_equal(get_base_u32(f, 0), 0x8000 | 5);
}

/* QEMU 7.2 packed=on: bits 16-31 carry the used position, 0x80008000 for a new ring. */
static void
test_vhu_dev_packed_ring_base_qemu_layout(void **state)
{
	struct vhu_fx *f = *state;

	assert_int_equal(packed_ring_setup(f, 0x80008000u), 0);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_false(vrq_is_broken(vhu_sock_vrq(f->s, 0)));
	/* vrq started at slot 0 with wrap 1, and the answer has the used half again. */
	assert_int_equal(get_base_u32(f, 0), 0x80008000u);
	assert_int_equal(f->s->dev.vqs[0].base, 0x8000);
}

/* A split ring's base is a 16-bit index: anything above is refused. */
static void
test_vhu_dev_split_ring_base_high_bits(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_state st = {.index = 0, .num = 0x80008000u};

	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_BASE, &st, sizeof(st), NULL, 0),
			     0);
	st.num = 0x10000;
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_BASE, &st, sizeof(st), NULL, 0),
			     0);
	st.num = 0xffff;
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_BASE, &st, sizeof(st), NULL, 0), 0);
	assert_int_equal(f->s->dev.vqs[0].base, 0xffff);
	assert_false(f->s->dev.vqs[0].base_used);
}

/* SEND_RARP after migration: the owner's callback gets the MAC, on the control thread. */
static void
test_vhu_dev_send_rarp_callback(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	struct vhu_fx *f = *state;
	struct vhu_stats st;
	uint64_t v = 0;

	memcpy(&v, mac, sizeof(mac)); /* first 6 bytes of the u64 payload */
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SEND_RARP, v), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, rarp), 1);
	assert_memory_equal(f->ev.rarp_mac, mac, sizeof(mac));
	assert_string_equal(f->ev.rarp_thread, "vhu-ctl");
	vhu_sock_stats_get(f->s, &st);
	assert_int_equal(st.v[VHU_STAT_rarp], 1);
	/* Without PROTOCOL_F_RARP negotiated: refused, no callback. */
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_PROTOCOL_FEATURES,
					 PROTO & ~VRQ_FBIT(VHU_PROTO_F_RARP)),
			 0);
	assert_int_not_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SEND_RARP, v), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, rarp), 1);
}

/* An owner without send_rarp (older vhu_ops users): the request is counted and acked. */
static void
test_vhu_dev_send_rarp_without_callback(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_ops ops = vhu_fe_ops;
	struct vhu_fe_events ev = {0};
	struct vhu_sock_conf conf = {.owner = (uid_t)-1, .group = (gid_t)-1, .max_queue_pairs = 1};
	struct vhu_stats st;
	struct vhu_sock *s;
	struct vhu_fe fe;
	char path[80];

	snprintf(path, sizeof(path), "%s.norarp", f->path);
	conf.path = path;
	ops.send_rarp = NULL;
	s = vhu_sock_create(&conf, &ops, &ev);
	assert_non_null(s);
	vhu_fe_init(&fe);
	assert_int_equal(vhu_fe_connect(&fe, path), 0);
	assert_int_equal(vhu_fe_handshake(&fe, FEATURES, PROTO), 0);
	assert_int_equal(vhu_fe_call_u64(&fe, VHU_REQ_SEND_RARP, 0x563412005452ull), 0);
	vhu_sock_stats_get(s, &st);
	assert_int_equal(st.v[VHU_STAT_rarp], 1);
	assert_int_equal(vhu_fe_ev(&ev, rarp), 0);
	vhu_fe_close(&fe);
	vhu_sock_destroy(s);
}

/* virtio-net-pci,mq=on with queues=2 on QEMU 7.2: one vhost_dev per pair, one connection. */
static void
test_vhu_dev_qemu72_mq_mem_slots(void **state)
{
	struct vhu_fx *f = *state;
	const struct vrq_mem *mem;
	uint16_t q;

	qemu72_init_dev(f, PROTO | VRQ_FBIT(VHU_PROTO_F_CONFIGURE_MEM_SLOTS));
	qemu72_init_dev(f, PROTO | VRQ_FBIT(VHU_PROTO_F_CONFIGURE_MEM_SLOTS));
	qemu72_start_pair(f, 0, true);
	assert_int_equal(vhu_fe_ev(&f->ev, ready), 1);
	mem = f->s->dev.mem;
	/* Pair 1 re-adds both regions and re-sets the features under running rings. */
	qemu72_start_pair(f, 1, true);
	assert_ptr_equal(f->s->dev.mem, mem);
	assert_int_equal(f->s->dev.nb_maps, 2);
	assert_int_equal(vhu_fe_ev(&f->ev, started_mask), 0xf);
	assert_int_equal(vhu_fe_ev(&f->ev, vring_off), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 0);
	/* vhost_net_stop: GET_VRING_BASE of each ring, pair by pair; one device stop. */
	for (q = 0; q < 4; q++)
		assert_int_equal(vhu_fe_get_vring_base(&f->fe, q), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, started_mask), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
	assert_non_null(f->s->dev.mem);
}

/* Without CONFIGURE_MEM_SLOTS: a SET_MEM_TABLE per pair, then a grown table, rings running. */
static void
test_vhu_dev_mq_mem_table_under_running_rings(void **state)
{
	struct vhu_fx *f = *state;
	const struct vrq_mem *mem;

	qemu72_init_dev(f, PROTO);
	qemu72_start_pair(f, 0, false);
	mem = f->s->dev.mem;
	qemu72_start_pair(f, 1, false);
	assert_ptr_equal(f->s->dev.mem, mem); /* identical table: the live one is kept */
	/* Memory hot-plug: a third region; every started ring is re-translated, none stops. */
	assert_true(vhu_fe_mem_add(&f->fe, 0x200000000ull, REGION_SIZE, false) >= 0);
	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	assert_ptr_not_equal(f->s->dev.mem, mem);
	assert_int_equal(f->s->dev.mem->nb_regions, 3);
	assert_int_equal(vhu_fe_ev(&f->ev, started_mask), 0xf);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 3)));
	assert_int_equal(vhu_fe_ev(&f->ev, vring_off), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 0);
	assert_true(vhu_sock_is_ready(f->s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(test_vhu_dev_golden_handshake),
	    T(test_vhu_dev_no_protocol_features_starts_on_kick),
	    T(test_vhu_dev_disable_stops_ring),
	    T(test_vhu_dev_features_not_offered),
	    T(test_vhu_dev_features_locked_while_started),
	    T(test_vhu_dev_bad_ring_sizes),
	    T(test_vhu_dev_num_refused_while_started),
	    T(test_vhu_dev_num_changed_after_addr),
	    T(test_vhu_dev_out_of_order),
	    T(test_vhu_dev_vring_index_out_of_range),
	    T(test_vhu_dev_kick_call_must_be_eventfds),
	    T(test_vhu_dev_call_fd_replaced),
	    T(test_vhu_dev_queue_num_config_mtu_status),
	    T(test_vhu_dev_reset_device),
	    T(test_vhu_dev_packed_ring_base_round_trip),
	    T(test_vhu_dev_packed_ring_base_qemu_layout),
	    T(test_vhu_dev_split_ring_base_high_bits),
	    T(test_vhu_dev_send_rarp_callback),
	    T(test_vhu_dev_send_rarp_without_callback),
	    T(test_vhu_dev_qemu72_mq_mem_slots),
	    T(test_vhu_dev_mq_mem_table_under_running_rings),
#undef T
	};

	if (vhu_fe_eal_init("vhu_dev") < 0)
		return 77;
	return cmocka_run_group_tests_name("vhu_dev", tests, NULL, NULL);
}
