/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost/vhu_mem.c: memory tables. Each hostile table is refused as a whole
 * with nothing mapped and no fd kept; a valid table is mapped at addresses
 * different from the frontend's; a re-sent identical table keeps the
 * mappings; a new table under running rings re-translates them; ADD/REM_MEM_REG;
 * and a file shrunk after setup (guest memory or the dirty log) raises SIGBUS
 * that drops the device but not the process.
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
#include <sys/mman.h>

#include <cmocka.h>

#include "vhu_fixture.h"
#include "vhu_frontend.h"
#include "vhu_internal.h"
#include "vrq_internal.h"

#define REGION_SIZE (2u << 20)
#define FEATURES (VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_PROTOCOL_FEATURES))
#define PROTO                                                         \
	(VRQ_FBIT(VHU_PROTO_F_MQ) | VRQ_FBIT(VHU_PROTO_F_REPLY_ACK) | \
	 VRQ_FBIT(VHU_PROTO_F_LOG_SHMFD) | VRQ_FBIT(VHU_PROTO_F_CONFIGURE_MEM_SLOTS))

static int
fx_setup(void **state)
{
	static struct vhu_fx f;

	if (vhu_fx_open(&f, "mem", 1, FEATURES, PROTO) != 0)
		return -1;
	if (vhu_fe_mem_add(&f.fe, 0, REGION_SIZE, false) < 0 ||
	    vhu_fe_mem_add(&f.fe, REGION_SIZE, REGION_SIZE, true) < 0)
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

/* A table message of fe's regions, to be corrupted by the test. */
static uint32_t
table_of(const struct vhu_fx *f, struct vhu_mem_table_msg *t, int *fds)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->nb_regions = f->fe.nb_regions;
	for (i = 0; i < f->fe.nb_regions; i++) {
		t->regions[i].gpa = f->fe.regions[i].gpa;
		t->regions[i].size = f->fe.regions[i].size;
		t->regions[i].qva = vhu_fe_qva(&f->fe, i, 0);
		fds[i] = f->fe.regions[i].memfd;
	}
	return 8 + t->nb_regions * (uint32_t)sizeof(struct vhu_mem_region_msg);
}

static void
assert_refused(struct vhu_fx *f, const void *t, uint32_t size, int *fds, int nb_fds)
{
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_MEM_TABLE, t, size, fds, nb_fds), 0);
	assert_null(f->s->dev.mem);
	assert_int_equal(f->s->dev.nb_maps, 0);
}

static void
test_vhu_mem_table_mapped_elsewhere(void **state)
{
	struct vhu_fx *f = *state;
	uint8_t *hva;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	assert_non_null(f->s->dev.mem);
	assert_int_equal(f->s->dev.mem->nb_regions, 2);
	hva = vhu_mem_qva_to_hva(f->s->dev.mem, vhu_fe_qva(&f->fe, 1, 100), 8);
	assert_non_null(hva);
	assert_ptr_not_equal(hva, f->fe.regions[1].addr + 100);
	f->fe.regions[1].addr[100] = 0x5a;
	assert_int_equal(hva[0], 0x5a);
	/* The sealable memfd got F_SEAL_SHRINK. */
	assert_true(fcntl(f->fe.regions[1].memfd, F_GET_SEALS) & F_SEAL_SHRINK);
	assert_int_not_equal(ftruncate(f->fe.regions[1].memfd, 4096), 0);
	/* Ranges straddling the end of a region do not translate. */
	assert_null(vhu_mem_qva_to_hva(f->s->dev.mem, vhu_fe_qva(&f->fe, 0, REGION_SIZE - 4), 8));
	assert_null(vhu_mem_qva_to_hva(f->s->dev.mem, UINT64_MAX - 2, 8));
}

static void
test_vhu_mem_table_bad_counts(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_mem_table_msg t;
	int fds[8];
	uint32_t size = table_of(f, &t, fds);

	assert_refused(f, &t, size, fds, 1); /* fewer fds than regions */
	assert_refused(f, &t, size, (int[]){fds[0], fds[1], fds[0]}, 3); /* surplus fd */
	assert_refused(f, &t, size - 32, fds, 2); /* size disagrees with count */
	t.nb_regions = 0;
	assert_refused(f, &t, 8, NULL, 0);
	{
		/* nine regions: one more than a message may carry */
		uint8_t big[8 + 9 * 32] = {9};

		assert_refused(f, (struct vhu_mem_table_msg *)big, sizeof(big), fds, 2);
	}
}

static void
test_vhu_mem_table_overflow_and_overlap(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_mem_table_msg t;
	int fds[8];
	uint32_t size;

	size = table_of(f, &t, fds);
	t.regions[1].size = 0;
	assert_refused(f, &t, size, fds, 2);
	size = table_of(f, &t, fds);
	t.regions[1].gpa = UINT64_MAX - 4096;
	assert_refused(f, &t, size, fds, 2);
	size = table_of(f, &t, fds);
	t.regions[1].qva = UINT64_MAX - 4096;
	assert_refused(f, &t, size, fds, 2);
	size = table_of(f, &t, fds);
	t.regions[1].mmap_offset = UINT64_MAX - 4096;
	assert_refused(f, &t, size, fds, 2);
	size = table_of(f, &t, fds);
	t.regions[1].gpa = REGION_SIZE - 4096; /* overlaps region 0 by a page */
	assert_refused(f, &t, size, fds, 2);
}

static void
test_vhu_mem_file_shorter_than_claimed(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_mem_table_msg t;
	int fds[8], p[2];
	uint32_t size;

	size = table_of(f, &t, fds);
	t.regions[1].size = 2 * REGION_SIZE;
	assert_refused(f, &t, size, fds, 2);
	size = table_of(f, &t, fds);
	t.regions[1].mmap_offset = 4096;
	assert_refused(f, &t, size, fds, 2);
	/* Not a file at all */
	assert_int_equal(pipe(p), 0);
	size = table_of(f, &t, fds);
	fds[1] = p[0];
	assert_refused(f, &t, size, fds, 2);
	close(p[0]);
	close(p[1]);
}

static void
test_vhu_mem_ring_outside_memory(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_vring_state st = {.index = 0, .num = 256};
	struct vhu_vring_addr a;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_NUM, &st, sizeof(st), NULL, 0), 0);
	/* Descriptors straddle the end of region 1 (regions are not contiguous in qva). */
	vhu_fe_ring_addr(&f->fe, 0, 1, REGION_SIZE - 2048, 256, &a);
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			     0);
	vhu_fe_ring_addr(&f->fe, 0, 0, 0, 256, &a);
	a.used_qva = 0x1000; /* not a frontend address */
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			     0);
	vhu_fe_ring_addr(&f->fe, 0, 0, 8, 256, &a); /* misaligned descriptors */
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			     0);
	assert_false(f->s->dev.vqs[0].addr_set);
}

static void
start_pair(struct vhu_fx *f)
{
	assert_int_equal(vhu_fe_vring_setup(&f->fe, 0, 0, 0x1000, 256), 0);
	assert_int_equal(vhu_fe_vring_setup(&f->fe, 1, 1, 0x1000, 256), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 0, true), 0);
	assert_int_equal(vhu_fe_vring_enable(&f->fe, 1, true), 0);
	assert_int_equal(vhu_fe_ev(&f->ev, ready), 1);
}

static void
test_vhu_mem_same_table_keeps_mappings(void **state)
{
	struct vhu_fx *f = *state;
	struct vrq_mem *mem;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	start_pair(f);
	mem = f->s->dev.mem;
	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	assert_ptr_equal(f->s->dev.mem, mem);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 0);
}

static void
test_vhu_mem_new_table_retranslates_rings(void **state)
{
	struct vhu_fx *f = *state;
	void *old_hva;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	start_pair(f);
	old_hva = f->s->dev.maps[0].addr;
	/* A third region: the rings must follow the remapped regions 0 and 1. */
	assert_true(vhu_fe_mem_add(&f->fe, 4 * REGION_SIZE, REGION_SIZE, false) >= 0);
	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	assert_int_equal(f->s->dev.mem->nb_regions, 3);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 1)));
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 0);
	(void)old_hva;
	/* A table that no longer holds region 1 stops ring 1, and the device. */
	assert_int_equal(
	    vhu_fe_call(
		&f->fe, VHU_REQ_SET_MEM_TABLE,
		&(struct vhu_mem_table_msg){
		    .nb_regions = 1,
		    .regions[0] = {.gpa = 0, .size = REGION_SIZE, .qva = vhu_fe_qva(&f->fe, 0, 0)}},
		8 + 32, &f->fe.regions[0].memfd, 1),
	    0);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 1)));
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
}

static void
test_vhu_mem_add_rem_reg(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_mem_reg_msg m = {0};
	uint64_t slots;

	assert_int_equal(vhu_fe_get_u64(&f->fe, VHU_REQ_GET_MAX_MEM_SLOTS, &slots), 0);
	assert_int_equal(slots, VRQ_MEM_REGIONS_MAX);
	m.region = (struct vhu_mem_region_msg){
	    .gpa = 0, .size = REGION_SIZE, .qva = vhu_fe_qva(&f->fe, 0, 0)};
	assert_int_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[0].memfd, 1), 0);
	/* Overlapping, and without its fd: refused */
	m.region.gpa = 4096;
	assert_int_not_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[1].memfd, 1), 0);
	m.region = (struct vhu_mem_region_msg){
	    .gpa = REGION_SIZE, .size = REGION_SIZE, .qva = vhu_fe_qva(&f->fe, 1, 0)};
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), NULL, 0), 0);
	assert_int_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[1].memfd, 1), 0);
	assert_int_equal(f->s->dev.mem->nb_regions, 2);
	start_pair(f);
	/* Removing region 1 stops the ring that lives there. */
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_REM_MEM_REG, &m, sizeof(m), NULL, 0), 0);
	assert_int_equal(f->s->dev.mem->nb_regions, 1);
	assert_false(vrq_is_started(vhu_sock_vrq(f->s, 1)));
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	/* Removed again (QEMU 7.2: once per queue pair): acked, nothing else changes. */
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_REM_MEM_REG, &m, sizeof(m), NULL, 0), 0);
	assert_int_equal(f->s->dev.mem->nb_regions, 1);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	/* A region that was never mapped: refused. */
	m.region.gpa = 8 * REGION_SIZE;
	assert_int_not_equal(vhu_fe_call(&f->fe, VHU_REQ_REM_MEM_REG, &m, sizeof(m), NULL, 0), 0);
	assert_int_equal(f->s->dev.mem->nb_regions, 1);
}

/* QEMU 7.2 re-adds every region once per queue pair: the same file again is a no-op. */
static void
test_vhu_mem_add_reg_twice(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_mem_reg_msg m = {0};
	const struct vrq_mem *mem;

	m.region = (struct vhu_mem_region_msg){
	    .gpa = 0, .size = REGION_SIZE, .qva = vhu_fe_qva(&f->fe, 0, 0)};
	assert_int_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[0].memfd, 1), 0);
	m.region = (struct vhu_mem_region_msg){
	    .gpa = REGION_SIZE, .size = REGION_SIZE, .qva = vhu_fe_qva(&f->fe, 1, 0)};
	assert_int_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[1].memfd, 1), 0);
	start_pair(f);
	mem = f->s->dev.mem;
	assert_int_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[1].memfd, 1), 0);
	assert_ptr_equal(f->s->dev.mem, mem);
	assert_int_equal(f->s->dev.nb_maps, 2);
	/* Same ranges backed by another file: an overlap, refused. */
	assert_int_not_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[0].memfd, 1), 0);
	/* Same file at another offset: refused too. */
	m.region.mmap_offset = 4096;
	m.region.size -= 4096;
	assert_int_not_equal(
	    vhu_fe_call(&f->fe, VHU_REQ_ADD_MEM_REG, &m, sizeof(m), &f->fe.regions[1].memfd, 1), 0);
	assert_ptr_equal(f->s->dev.mem, mem);
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 0)));
	assert_true(vrq_is_started(vhu_sock_vrq(f->s, 1)));
}

/* Send SET_LOG_BASE for the first page of @p fd and take its empty reply. */
static void
set_log_base(struct vhu_fx *f, int fd)
{
	struct vhu_log_msg l = {.mmap_size = 4096, .mmap_offset = 0};
	struct vhu_msg_hdr hdr;
	char buf[16];

	assert_int_equal(
	    vhu_fe_send(&f->fe, VHU_REQ_SET_LOG_BASE, VHU_FLAG_VERSION, &l, sizeof(l), &fd, 1), 0);
	assert_int_equal(vhu_fe_recv(&f->fe, &hdr, buf, sizeof(buf), 5000), 0);
	assert_int_equal(hdr.request, VHU_REQ_SET_LOG_BASE);
}

static void
test_vhu_mem_log_base(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_log_msg l = {.mmap_size = 4096, .mmap_offset = 0};
	int fd = f->fe.regions[0].memfd;

	set_log_base(f, fd);
	assert_non_null(f->s->dev.log);
	assert_int_equal(f->s->dev.log->size, 4096);
	/* The log reaches the queues only while LOG_ALL is negotiated. */
	assert_null(vhu_sock_vrq(f->s, 0)->log);
	assert_int_equal(
	    vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES | VRQ_FBIT(VRQ_F_LOG_ALL)), 0);
	assert_ptr_equal(vhu_sock_vrq(f->s, 0)->log, f->s->dev.log);
	assert_ptr_equal(vhu_sock_vrq(f->s, 1)->log, f->s->dev.log);
	f->fe.regions[0].addr[0] = 0;
	vrq_log_write(vhu_sock_vrq(f->s, 0), 3 * VRQ_LOG_PAGE, 1);
	assert_int_equal(f->fe.regions[0].addr[0], 1u << 3); /* the frontend sees the bit */
	assert_int_equal(vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES), 0);
	assert_null(vhu_sock_vrq(f->s, 0)->log);
	/* A log larger than its file cannot be mapped: the connection is closed. */
	l.mmap_size = 4 * REGION_SIZE;
	assert_int_equal(
	    vhu_fe_send(&f->fe, VHU_REQ_SET_LOG_BASE, VHU_FLAG_VERSION, &l, sizeof(l), &fd, 1), 0);
	assert_true(vhu_fe_wait_eof(&f->fe));
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
}

static void
test_vhu_mem_shrunk_file_sigbus(void **state)
{
	struct vhu_fx *f = *state;
	struct vhu_stats st;
	volatile uint8_t *hva;
	uint8_t v;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	start_pair(f);
	/* cmocka installs its own SIGBUS handler around each test: put ours back on top. */
	assert_int_equal(vhu_mem_sigbus_init(), 0);
	/* Region 0 cannot be sealed: the frontend shrinks it under the backend. */
	assert_int_equal(ftruncate(f->fe.regions[0].memfd, 4096), 0);
	hva = vhu_mem_qva_to_hva(f->s->dev.mem, vhu_fe_qva(&f->fe, 0, REGION_SIZE / 2), 1);
	assert_non_null(hva);
	/*
	 * What a datapath lcore does inside a burst, under the queue lock (the
	 * control thread cannot unmap before the burst ends): the access
	 * completes on a zero page, no crash.
	 */
	vrq_lock(vhu_sock_vrq(f->s, 0));
	v = hva[0];
	vrq_unlock(vhu_sock_vrq(f->s, 0));
	assert_int_equal(v, 0);
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
	assert_int_equal(vhu_fe_ev(&f->ev, stopped), 1);
	assert_true(vhu_fe_wait_eof(&f->fe));
	vhu_sock_stats_get(f->s, &st);
	assert_int_equal(st.v[VHU_STAT_sigbus], 1);
	assert_null(f->s->dev.mem);
}

/* The dirty log gets guest memory's guard: sealed when it can be, else SIGBUS-watched. */
static void
test_vhu_mem_shrunk_log_sigbus(void **state)
{
	struct vhu_fx *f = *state;
	struct vrq *q0 = vhu_sock_vrq(f->s, 0);
	struct vhu_stats st;
	int fd;

	assert_int_equal(vhu_fe_set_mem_table(&f->fe), 0);
	start_pair(f);
	fd = memfd_create("vhu-log-sealable", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	set_log_base(f, fd);
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EPERM);
	close(fd);

	fd = memfd_create("vhu-log", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	set_log_base(f, fd);
	assert_int_equal(
	    vhu_fe_call_u64(&f->fe, VHU_REQ_SET_FEATURES, FEATURES | VRQ_FBIT(VRQ_F_LOG_ALL)), 0);
	assert_ptr_equal(q0->log, f->s->dev.log);
	assert_int_equal(vhu_mem_sigbus_init(), 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	/* A datapath burst logging a write: completes on a zero page, no crash. */
	vrq_lock(q0);
	vrq_log_write(q0, 3 * VRQ_LOG_PAGE, 1);
	vrq_unlock(q0);
	assert_true(VHU_FE_WAIT(vhu_fe_ev(&f->ev, closed) == 1));
	assert_true(vhu_fe_wait_eof(&f->fe));
	vhu_sock_stats_get(f->s, &st);
	assert_int_equal(st.v[VHU_STAT_sigbus], 1);
	assert_null(f->s->dev.log);
	close(fd);
}

static void
test_vhu_mem_hugetlb_unaligned_offset(void **state)
{
	struct vhu_fx *f = *state;
	const uint64_t huge = 2u << 20;
	struct vhu_mem_table_msg t = {.nb_regions = 1};
	volatile uint8_t *hva;
	uint8_t *fe_view;
	int fd;

	fd = memfd_create("vhu-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0 || ftruncate(fd, 2 * huge) < 0) {
		if (fd >= 0)
			close(fd);
		skip();
	}
	fe_view = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(fe_view != MAP_FAILED);
	/* The region starts one 4 KiB page into the second huge page. */
	t.regions[0] =
	    (struct vhu_mem_region_msg){.gpa = 0,
					.size = 0x10000,
					.qva = (uint64_t)(uintptr_t)fe_view + huge + 4096,
					.mmap_offset = huge + 4096};
	assert_int_equal(vhu_fe_call(&f->fe, VHU_REQ_SET_MEM_TABLE, &t, 8 + 32, &fd, 1), 0);
	assert_int_equal(f->s->dev.maps[0].len % huge, 0);
	fe_view[huge + 4096 + 10] = 0xa5;
	hva = vhu_mem_qva_to_hva(f->s->dev.mem, t.regions[0].qva + 10, 1);
	assert_non_null(hva);
	assert_int_equal(hva[0], 0xa5);
	munmap(fe_view, 2 * huge);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(test_vhu_mem_table_mapped_elsewhere),
	    T(test_vhu_mem_table_bad_counts),
	    T(test_vhu_mem_table_overflow_and_overlap),
	    T(test_vhu_mem_file_shorter_than_claimed),
	    T(test_vhu_mem_ring_outside_memory),
	    T(test_vhu_mem_same_table_keeps_mappings),
	    T(test_vhu_mem_new_table_retranslates_rings),
	    T(test_vhu_mem_add_rem_reg),
	    T(test_vhu_mem_add_reg_twice),
	    T(test_vhu_mem_log_base),
	    T(test_vhu_mem_shrunk_file_sigbus),
	    T(test_vhu_mem_shrunk_log_sigbus),
	    T(test_vhu_mem_hugetlb_unaligned_offset),
#undef T
	};

	if (vhu_fe_eal_init("vhu_mem") < 0)
		return 77;
	return cmocka_run_group_tests_name("vhu_mem", tests, NULL, NULL);
}
