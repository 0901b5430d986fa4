/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the split virtqueue datapath (virtio_ring/vrq_split.c) and
 * the queue core it runs under (vrq.c), against the synthetic guest of
 * tests/unit/lib/vrq_guest.h: guest RAM in several memfd regions, each mapped
 * twice, so that a backend that mixes gpa, guest view and backend view reads
 * the wrong bytes. Every hostile-guest rule has a negative test asserting the
 * counter, the used ring left as it was (or holding a len-0 entry for a
 * dropped chain), and no mbuf leak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "vrq.h"
#include "vrq_guest.h"
#include "vrq_internal.h"

#define NB_MBUFS 2047
#define RING 256
#define F_BASE (VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_INDIRECT_DESC))
#define HDR 12

static struct rte_mempool *mp;

struct fx {
	struct vrq_guest g;
	struct vrq_guest_split s;
	struct vrq *q;
	unsigned int avail0;
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || vrq_guest_init_default(&f->g) != 0)
		return -1;
	f->q = vrq_create("test", 1, SOCKET_ID_ANY);
	if (f->q == NULL)
		return -1;
	vrq_set_mem(f->q, vrq_guest_mem(&f->g));
	f->avail0 = rte_mempool_avail_count(mp);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	vrq_stop(f->q);
	vrq_free(f->q);
	vrq_guest_split_fini(&f->s);
	vrq_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Lay out a ring of @p size with @p features and start the queue on it. */
static void
fx_start(struct fx *f, uint16_t size, uint64_t features)
{
	struct vrq_setup su;

	assert_int_equal(vrq_guest_split_init(&f->s, &f->g, size, features), 0);
	vrq_guest_split_setup(&f->s, &su);
	assert_int_equal(vrq_start(f->q, &su), 0);
}

static uint64_t
stat(const struct fx *f, enum vrq_stat_id id)
{
	struct vrq_stats st;

	vrq_stats_get(f->q, &st);
	return st.v[id];
}

static void
assert_no_leak(const struct fx *f)
{
	assert_int_equal(rte_mempool_avail_count(mp), f->avail0);
}

/* Payload pattern: byte i of frame @p seed. */
static uint8_t
pat(uint32_t i, uint32_t seed)
{
	return (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* A TX frame: zeroed virtio-net header, then @p len payload bytes. */
static uint8_t *
tx_frame(uint32_t len, uint32_t seed)
{
	uint8_t *b = calloc(1, HDR + len);
	uint32_t i;

	for (i = 0; i < len; i++)
		b[HDR + i] = pat(i, seed);
	return b;
}

static void
assert_mbuf_payload(const struct rte_mbuf *m, uint32_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len);
	const uint8_t *p;
	uint32_t i;

	assert_int_equal(m->pkt_len, len);
	p = rte_pktmbuf_read(m, 0, len, buf);
	assert_non_null(p);
	for (i = 0; i < len; i++)
		if (p[i] != pat(i, seed))
			fail_msg("byte %u: %#x != %#x", i, p[i], pat(i, seed));
	free(buf);
}

/* Post a frame of @p len payload bytes as one descriptor. */
static int
post_tx_simple(struct fx *f, uint32_t len, uint32_t seed)
{
	uint8_t *fr = tx_frame(len, seed);
	uint32_t sl = HDR + len;
	int head = vrq_guest_split_post_tx(&f->s, fr, HDR + len, &sl, 1, 0);

	free(fr);
	return head;
}

static void post_raw(struct fx *f);

static uint16_t
deq(struct fx *f)
{
	return vrq_dequeue_burst(f->q, mp, f->pkts, VRQ_BURST_MAX);
}

static void
free_pkts(struct fx *f, uint16_t n)
{
	rte_pktmbuf_free_bulk(f->pkts, n);
}

/* ---- guest TX (dequeue) ---- */

static void
test_vrq_split_tx_single(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	int head;

	fx_start(f, RING, F_BASE);
	head = post_tx_simple(f, 64, 1);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 64, 1);
	assert_int_equal(f->pkts[0]->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0);
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(stat(f, VRQ_STAT_packets), 1);
	assert_int_equal(stat(f, VRQ_STAT_bytes), 64);
	assert_int_equal(vrq_guest_split_used_flags(&f->s) & VRQ_USED_F_NO_NOTIFY, 1);
	free_pkts(f, 1);
	assert_no_leak(f);
}

/*
 * A frame longer than one mbuf becomes a chain: 9216 B into 128 B mbufs
 * arrives whole in 72 segments. With too few mbufs left for the chain, the
 * frame is dropped (drop_nombuf), its descriptor returned, nothing leaked.
 */
static void
test_vrq_split_tx_chain_segments(void **state)
{
	struct fx *f = *state;
	struct rte_mempool *small;
	struct rte_mbuf *hog[NB_MBUFS];
	uint32_t sl[16] = {HDR + 4000, 5216}, n = 0;
	uint8_t *fr;

	small = rte_pktmbuf_pool_create("ut_small_mp", 255, 0, 0, 128 + RTE_PKTMBUF_HEADROOM,
					SOCKET_ID_ANY);
	assert_non_null(small);
	fx_start(f, RING, F_BASE);
	fr = tx_frame(9216, 7);
	assert_true(vrq_guest_split_post_tx(&f->s, fr, HDR + 9216, sl, 2, 0) >= 0);
	assert_int_equal(vrq_dequeue_burst(f->q, small, f->pkts, 1), 1);
	assert_int_equal(f->pkts[0]->nb_segs, 72);
	assert_mbuf_payload(f->pkts[0], 9216, 7);
	rte_pktmbuf_free(f->pkts[0]);
	assert_int_equal(rte_mempool_avail_count(small), 255);
	rte_mempool_free(small);
	/* Leave 3 mbufs: the head and 2 of the 4 more 2 KiB segments 9216 B need. */
	while (rte_mempool_avail_count(mp) > 3)
		hog[n++] = rte_pktmbuf_alloc(mp);
	assert_true(vrq_guest_split_post_tx(&f->s, fr, HDR + 9216, sl, 2, 0) >= 0);
	free(fr);
	assert_int_equal(deq(f), 0);
	assert_int_equal(stat(f, VRQ_STAT_drop_nombuf), 1);
	assert_int_equal(rte_mempool_avail_count(mp), 3);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 2); /* returned to the guest */
	rte_pktmbuf_free_bulk(hog, n);
	assert_no_leak(f);
}

/*
 * A new memory table takes effect at the next burst. The queue caches the
 * region that translated last; vrq_set_mem() must forget it, or the backend
 * keeps reading (and writing) a mapping the frontend has replaced.
 */
static void
test_vrq_split_tx_mem_replaced(void **state)
{
	struct fx *f = *state;
	struct vrq_mem *m2 = malloc(sizeof(*m2));
	uint8_t *copy[VRQ_GUEST_REGIONS_MAX] = {0}, *fr;
	uint64_t gpa;
	uint32_t r;
	int head;

	assert_non_null(m2);
	fx_start(f, RING, F_BASE);
	assert_true(post_tx_simple(f, 64, 1) >= 0);
	assert_int_equal(deq(f), 1); /* the buffer's region is now the cached one */
	assert_mbuf_payload(f->pkts[0], 64, 1);
	free_pkts(f, 1);
	/* The same guest addresses, each region now backed by a private copy. */
	*m2 = *vrq_guest_mem(&f->g);
	for (r = 0; r < m2->nb_regions; r++) {
		copy[r] = malloc(m2->regions[r].size);
		assert_non_null(copy[r]);
		memcpy(copy[r], (const void *)(uintptr_t)m2->regions[r].hva, m2->regions[r].size);
		m2->regions[r].hva = (uint64_t)(uintptr_t)copy[r];
	}
	head = post_tx_simple(f, 64, 2); /* into the guest's memory, not the copies */
	assert_true(head >= 0);
	gpa = f->s.desc[head].addr;
	fr = tx_frame(64, 3);
	for (r = 0; r < m2->nb_regions; r++)
		if (fr != NULL && copy[r] != NULL && gpa - m2->regions[r].gpa < m2->regions[r].size)
			memcpy(copy[r] + (gpa - m2->regions[r].gpa), fr, HDR + 64);
	free(fr);
	vrq_lock(f->q);
	vrq_set_mem(f->q, m2);
	vrq_unlock(f->q);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 64, 3); /* read through the new table */
	free_pkts(f, 1);
	vrq_lock(f->q);
	vrq_set_mem(f->q, vrq_guest_mem(&f->g));
	vrq_unlock(f->q);
	for (r = 0; r < m2->nb_regions; r++)
		free(copy[r]);
	free(m2);
	assert_no_leak(f);
}

/* 64 B to 9216 B, header split 4 + 8 over two descriptors, payload in 1000 B pieces. */
static void
test_vrq_split_tx_sizes_multiseg(void **state)
{
	static const uint32_t sizes[] = {64, 1500, 2048, 4000, 9216};
	struct fx *f = *state;
	uint32_t i, j;

	fx_start(f, RING, F_BASE);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		uint32_t sl[16] = {4, 8}, n = 2, left = sizes[i];
		uint8_t *fr = tx_frame(sizes[i], i);

		for (; left > 0; n++) {
			sl[n] = RTE_MIN(left, 1000u);
			left -= sl[n];
		}
		assert_true(vrq_guest_split_post_tx(&f->s, fr, HDR + sizes[i], sl, n, 0) >= 0);
		free(fr);
	}
	assert_int_equal(deq(f), RTE_DIM(sizes));
	for (j = 0; j < RTE_DIM(sizes); j++)
		assert_mbuf_payload(f->pkts[j], sizes[j], j);
	assert_true(f->pkts[4]->nb_segs > 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), RTE_DIM(sizes));
	free_pkts(f, RTE_DIM(sizes));
	assert_no_leak(f);
}

static void
test_vrq_split_tx_indirect(void **state)
{
	struct fx *f = *state;
	uint32_t sl[] = {5, 7, 30, 1000 - 30};
	uint8_t *fr = tx_frame(1000, 3);
	uint32_t id, len;
	int head;

	fx_start(f, RING, F_BASE);
	head = vrq_guest_split_post_tx(&f->s, fr, HDR + 1000, sl, 4, VRQ_GUEST_INDIRECT);
	free(fr);
	assert_true(head >= 0);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 1000, 3);
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
	assert_int_equal(id, head);
	free_pkts(f, 1);
	assert_no_leak(f);
}

/* A buffer that crosses from region 2 into the touching region 3 (two host mappings). */
static void
test_vrq_split_tx_cross_region(void **state)
{
	struct fx *f = *state;
	uint8_t *fr = tx_frame(300, 4);
	uint64_t gpa = f->g.regions[3].gpa - 100;
	struct vrq_guest_seg seg = {gpa, HDR + 300, 0};

	fx_start(f, RING, F_BASE);
	assert_int_equal(vrq_guest_write(&f->g, gpa, fr, HDR + 300), 0);
	free(fr);
	assert_true(vrq_guest_split_add(&f->s, &seg, 1, 0) >= 0);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 300, 4);
	free_pkts(f, 1);
	assert_no_leak(f);
}

/* An indirect table that itself crosses the region 2/3 boundary. */
static void
test_vrq_split_tx_indirect_cross_region(void **state)
{
	struct fx *f = *state;
	uint64_t tbl = f->g.regions[3].gpa - 24; /* descriptor 1 straddles the boundary */
	uint64_t b0 = vrq_guest_alloc(&f->g, HDR, 8), b1 = vrq_guest_alloc(&f->g, 100, 8);
	uint8_t *fr = tx_frame(100, 5);
	struct vrq_desc d[2];

	fx_start(f, RING, F_BASE);
	vrq_guest_write(&f->g, b0, fr, HDR);
	vrq_guest_write(&f->g, b1, fr + HDR, 100);
	free(fr);
	d[0] = (struct vrq_desc){rte_cpu_to_le_64(b0), rte_cpu_to_le_32(HDR),
				 rte_cpu_to_le_16(VRQ_DESC_F_NEXT), rte_cpu_to_le_16(1)};
	d[1] = (struct vrq_desc){rte_cpu_to_le_64(b1), rte_cpu_to_le_32(100), 0, 0};
	vrq_guest_write(&f->g, tbl, d, sizeof(d));
	vrq_guest_split_desc_set(&f->s, 0, tbl, sizeof(d), VRQ_DESC_F_INDIRECT, 0);
	vrq_guest_split_avail_push(&f->s, 0);
	vrq_guest_split_publish(&f->s);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 100, 5);
	free_pkts(f, 1);
	assert_no_leak(f);
}

/* An indirect table at an address that is only 4-byte aligned (the spec sets none). */
static void
test_vrq_split_tx_indirect_misaligned(void **state)
{
	struct fx *f = *state;
	uint64_t tbl = vrq_guest_alloc(&f->g, 64, 16) + 4;
	uint64_t b0 = vrq_guest_alloc(&f->g, HDR + 80, 8);
	uint8_t *fr = tx_frame(80, 6);
	struct vrq_desc d = {rte_cpu_to_le_64(b0), rte_cpu_to_le_32(HDR + 80), 0, 0};

	fx_start(f, RING, F_BASE);
	vrq_guest_write(&f->g, b0, fr, HDR + 80);
	free(fr);
	vrq_guest_write(&f->g, tbl, &d, sizeof(d));
	vrq_guest_split_desc_set(&f->s, 0, tbl, sizeof(d), VRQ_DESC_F_INDIRECT, 0);
	post_raw(f);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 80, 6);
	free_pkts(f, 1);
	assert_no_leak(f);
}

static void
test_vrq_split_tx_burst_limit(void **state)
{
	struct fx *f = *state;
	int i;

	fx_start(f, RING, F_BASE);
	for (i = 0; i < 40; i++)
		assert_true(post_tx_simple(f, 60 + i, i) >= 0);
	assert_int_equal(deq(f), VRQ_BURST_MAX);
	for (i = 0; i < VRQ_BURST_MAX; i++)
		assert_mbuf_payload(f->pkts[i], 60 + i, i);
	free_pkts(f, VRQ_BURST_MAX);
	assert_int_equal(deq(f), 8);
	assert_mbuf_payload(f->pkts[7], 60 + 39, 39);
	free_pkts(f, 8);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 40);
	assert_no_leak(f);
}

/* A backend restarted while the guest ran: base 0 but used->idx 5 in the ring. */
static void
test_vrq_split_start_resyncs_to_used_idx(void **state)
{
	struct fx *f = *state;
	struct vrq_setup su;
	int i;

	assert_int_equal(vrq_guest_split_init(&f->s, &f->g, RING, F_BASE), 0);
	for (i = 0; i < 6; i++)
		post_tx_simple(f, 64, i);
	f->s.used->idx = rte_cpu_to_le_16(5);
	f->s.used_idx = 5;
	vrq_guest_split_setup(&f->s, &su);
	assert_int_equal(vrq_start(f->q, &su), 0);
	assert_int_equal(deq(f), 1);
	assert_mbuf_payload(f->pkts[0], 64, 5);
	assert_int_equal(vrq_stop(f->q), 6);
	free_pkts(f, 1);
	assert_no_leak(f);
}

static void
test_vrq_split_start_validates(void **state)
{
	struct fx *f = *state;
	struct vrq_setup su;

	assert_int_equal(vrq_guest_split_init(&f->s, &f->g, RING, F_BASE), 0);
	vrq_guest_split_setup(&f->s, &su);
	su.size = 100;
	assert_int_equal(vrq_start(f->q, &su), -EINVAL);
	vrq_guest_split_setup(&f->s, &su);
	su.used_hva = &su; /* not guest memory */
	assert_int_equal(vrq_start(f->q, &su), -EFAULT);
	vrq_guest_split_setup(&f->s, &su);
	su.desc_hva = (uint8_t *)su.desc_hva + 8; /* misaligned */
	assert_int_equal(vrq_start(f->q, &su), -EINVAL);
	vrq_set_mem(f->q, NULL);
	vrq_guest_split_setup(&f->s, &su);
	assert_int_equal(vrq_start(f->q, &su), -EINVAL);
	assert_false(vrq_is_started(f->q));
}

static void
test_vrq_split_burst_skips_when_locked(void **state)
{
	struct fx *f = *state;

	fx_start(f, RING, F_BASE);
	post_tx_simple(f, 64, 0);
	vrq_lock(f->q);
	assert_int_equal(deq(f), 0);
	assert_int_equal(vrq_enqueue_burst(f->q, f->pkts, 0), 0);
	vrq_unlock(f->q);
	assert_int_equal(stat(f, VRQ_STAT_lock_busy), 2);
	assert_int_equal(deq(f), 1);
	free_pkts(f, 1);
	assert_no_leak(f);
}

static void
test_vrq_split_stat_names(void **state)
{
	(void)state;
	assert_string_equal(vrq_stat_name(VRQ_STAT_packets), "packets");
	assert_string_equal(vrq_stat_name(VRQ_STAT_err_avail_idx), "err_avail_idx");
	assert_null(vrq_stat_name(VRQ_STAT_MAX));
}

/* ---- hostile guest, TX ---- */

/* The queue stops: counter, broken flag, err eventfd, used ring untouched, no leak. */
static void
assert_fatal(struct fx *f, enum vrq_stat_id why)
{
	assert_int_equal(deq(f), 0);
	assert_true(vrq_is_broken(f->q));
	assert_int_equal(stat(f, why), 1);
	assert_int_equal(stat(f, VRQ_STAT_broken), 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 0);
	assert_int_equal(f->s.used->ring[0].id, 0);
	assert_int_equal(deq(f), 0); /* stays stopped */
	assert_no_leak(f);
}

static void
test_vrq_split_rejects_avail_idx_ahead(void **state)
{
	struct fx *f = *state;
	struct vrq_setup su;
	uint64_t v = 0;
	int efd = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(vrq_guest_split_init(&f->s, &f->g, RING, F_BASE), 0);
	vrq_guest_split_setup(&f->s, &su);
	su.err_fd = efd;
	assert_int_equal(vrq_start(f->q, &su), 0);
	post_tx_simple(f, 64, 0);
	vrq_guest_split_avail_idx_set(&f->s, RING + 1);
	assert_fatal(f, VRQ_STAT_err_avail_idx);
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	close(efd);
	vrq_stop(f->q);
	assert_false(vrq_is_broken(f->q));
}

static void
test_vrq_split_rejects_head_out_of_range(void **state)
{
	struct fx *f = *state;

	fx_start(f, RING, F_BASE);
	vrq_guest_split_avail_push(&f->s, RING);
	vrq_guest_split_publish(&f->s);
	assert_fatal(f, VRQ_STAT_err_head);
}

/*
 * A dropped chain: counter, queue still running, the chain returned with
 * len 0 on the used ring, no packet, no leak.
 */
static void
assert_chain_dropped(struct fx *f, uint16_t head, enum vrq_stat_id why)
{
	uint32_t id, len;

	assert_int_equal(deq(f), 0);
	assert_false(vrq_is_broken(f->q));
	assert_int_equal(stat(f, why), 1);
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 0);
	assert_no_leak(f);
}

/* Post raw descriptors 0..n-1 as one chain headed by 0. */
static void
post_raw(struct fx *f)
{
	vrq_guest_split_avail_push(&f->s, 0);
	vrq_guest_split_publish(&f->s);
}

static void
test_vrq_split_rejects_chain_loop(void **state)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 64, 8);

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, b, 64, VRQ_DESC_F_NEXT, 7);
	vrq_guest_split_desc_set(&f->s, 7, b, 64, VRQ_DESC_F_NEXT, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_loop);
	assert_int_equal(stat(f, VRQ_STAT_drop_bad_desc), 1);
}

static void
test_vrq_split_rejects_next_out_of_range(void **state)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 64, 8);

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, b, 64, VRQ_DESC_F_NEXT, RING + 3);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_head);
}

static void
test_vrq_split_rejects_indirect_loop(void **state)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 64, 8), tbl = vrq_guest_alloc(&f->g, 32, 16);
	struct vrq_desc d[2] = {
	    {rte_cpu_to_le_64(b), rte_cpu_to_le_32(64), rte_cpu_to_le_16(VRQ_DESC_F_NEXT),
	     rte_cpu_to_le_16(1)},
	    {rte_cpu_to_le_64(b), rte_cpu_to_le_32(64), rte_cpu_to_le_16(VRQ_DESC_F_NEXT),
	     rte_cpu_to_le_16(0)},
	};

	fx_start(f, RING, F_BASE);
	vrq_guest_write(&f->g, tbl, d, sizeof(d));
	vrq_guest_split_desc_set(&f->s, 0, tbl, sizeof(d), VRQ_DESC_F_INDIRECT, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_loop);
}

/* Indirect table posted at descriptor 0 with @p len bytes at @p tbl, flags @p flags. */
static void
indirect_case(void **state, uint64_t tbl_gpa, uint32_t len, uint16_t extra_flags, bool nest)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 64, 8);
	uint64_t tbl = tbl_gpa != 0 ? tbl_gpa : vrq_guest_alloc(&f->g, 64, 16);
	struct vrq_desc d = {rte_cpu_to_le_64(nest ? tbl : b), rte_cpu_to_le_32(64),
			     rte_cpu_to_le_16(nest ? VRQ_DESC_F_INDIRECT : 0), 0};

	fx_start(f, RING, F_BASE);
	if (tbl_gpa == 0)
		vrq_guest_write(&f->g, tbl, &d, sizeof(d));
	vrq_guest_split_desc_set(&f->s, 0, tbl, len, VRQ_DESC_F_INDIRECT | extra_flags, 1);
	vrq_guest_split_desc_set(&f->s, 1, b, 64, 0, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_indirect);
}

static void
test_vrq_split_rejects_indirect_nested(void **state)
{
	indirect_case(state, 0, 16, 0, true);
}

static void
test_vrq_split_rejects_indirect_len_not_16(void **state)
{
	indirect_case(state, 0, 24, 0, false);
}

static void
test_vrq_split_rejects_indirect_len_zero(void **state)
{
	indirect_case(state, 0, 0, 0, false);
}

static void
test_vrq_split_rejects_indirect_outside_memory(void **state)
{
	indirect_case(state, VRQ_GUEST_GAP_GPA, 16, 0, false);
}

static void
test_vrq_split_rejects_indirect_with_next(void **state)
{
	indirect_case(state, 0, 16, VRQ_DESC_F_NEXT, false);
}

static void
test_vrq_split_rejects_zero_len(void **state)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 64, 8);

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, b, 64, VRQ_DESC_F_NEXT, 1);
	vrq_guest_split_desc_set(&f->s, 1, b, 0, 0, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_zero_len);
}

static void
test_vrq_split_rejects_writable_in_tx(void **state)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 64, 8);

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, b, 64, VRQ_DESC_F_NEXT | VRQ_DESC_F_WRITE, 1);
	vrq_guest_split_desc_set(&f->s, 1, b, 64, 0, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_order);
}

static void
test_vrq_split_rejects_addr_outside_memory(void **state)
{
	struct fx *f = *state;

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, VRQ_GUEST_GAP_GPA, 64, 0, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_addr);
}

/* A buffer running off the end of the last region, into nothing. */
static void
test_vrq_split_rejects_addr_past_region_end(void **state)
{
	struct fx *f = *state;
	const struct vrq_guest_region *r = &f->g.regions[1];

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, r->gpa + r->size - 32, 64, 0, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_addr);
}

static void
test_vrq_split_rejects_addr_overflow(void **state)
{
	struct fx *f = *state;

	fx_start(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, UINT64_MAX - 10, 64, 0, 0);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_err_addr);
}

/* 257 one-byte descriptors: more than VRQ_IOV_MAX pieces. */
static void
test_vrq_split_drops_iov_overflow(void **state)
{
	struct fx *f = *state;
	uint64_t b = vrq_guest_alloc(&f->g, 512, 8);
	uint16_t i;

	fx_start(f, 512, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, b, HDR, VRQ_DESC_F_NEXT, 1);
	for (i = 1; i <= VRQ_IOV_MAX; i++)
		vrq_guest_split_desc_set(&f->s, i, b + HDR + i, 1,
					 i < VRQ_IOV_MAX ? VRQ_DESC_F_NEXT : 0, i + 1);
	post_raw(f);
	assert_chain_dropped(f, 0, VRQ_STAT_drop_oversize);
}

/* A chain that is only the virtio-net header carries no frame. */
static void
test_vrq_split_drops_header_only_chain(void **state)
{
	struct fx *f = *state;
	uint8_t hdr[HDR] = {0};
	uint32_t sl[] = {4, 8};
	int head;

	fx_start(f, RING, F_BASE);
	head = vrq_guest_split_post_tx(&f->s, hdr, HDR, sl, 2, 0);
	assert_chain_dropped(f, (uint16_t)head, VRQ_STAT_drop_bad_hdr);
}

/* A bad chain between two good ones costs only itself. */
static void
test_vrq_split_bad_chain_does_not_stop_queue(void **state)
{
	struct fx *f = *state;

	fx_start(f, RING, F_BASE);
	post_tx_simple(f, 100, 1);
	vrq_guest_split_desc_set(&f->s, 1, VRQ_GUEST_GAP_GPA, 64, 0, 0);
	vrq_guest_split_avail_push(&f->s, 1);
	f->s.next_desc = 2;
	post_tx_simple(f, 200, 2);
	assert_int_equal(deq(f), 2);
	assert_mbuf_payload(f->pkts[0], 100, 1);
	assert_mbuf_payload(f->pkts[1], 200, 2);
	assert_int_equal(stat(f, VRQ_STAT_err_addr), 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 3);
	free_pkts(f, 2);
	assert_no_leak(f);
}

/*
 * Per-chain drops (STYLE.md 2.9): one WARNING line per queue per reason,
 * naming the queue and the reason; repeats are only counted; a ring reset
 * re-arms the line.
 */
static void
test_vrq_split_drop_logged_once_per_reason(void **state)
{
	struct fx *f = *state;
	uint8_t hdr[HDR] = {0}, *fr = tx_frame(100, 1);
	uint32_t sl[] = {4, 8}, sl1 = HDR + 100;
	struct vrq_setup su;
	char *text;

	/* CSUM: the header is read (without a host offload feature it is ignored). */
	fx_start(f, RING, F_BASE | VRQ_FBIT(VRQ_F_NET_CSUM));
	vrq_guest_split_desc_set(&f->s, 0, VRQ_GUEST_GAP_GPA, 64, 0, 0);
	vrq_guest_split_desc_set(&f->s, 1, VRQ_GUEST_GAP_GPA, 64, 0, 0);
	vrq_guest_split_avail_push(&f->s, 0);
	vrq_guest_split_avail_push(&f->s, 1);
	f->s.next_desc = 2;
	vrq_guest_split_post_tx(&f->s, hdr, HDR, sl, 2, 0); /* header only */
	fr[1] = 2;                                          /* gso_type 2: no such type */
	vrq_guest_split_post_tx(&f->s, fr, HDR + 100, &sl1, 1, 0);
	free(fr);
	assert_int_equal(vrq_guest_log_begin("vrq.data", RTE_LOG_WARNING), 0);
	assert_int_equal(deq(f), 0);
	assert_int_equal(vrq_guest_log_end(&text), 3);
	assert_non_null(strstr(text, "test: vq 1: guest chain dropped: err_addr"));
	assert_non_null(strstr(text, "test: vq 1: guest chain dropped: drop_bad_hdr"));
	assert_non_null(strstr(text, "test: vq 1: guest chain dropped: err_gso"));
	free(text);
	assert_int_equal(stat(f, VRQ_STAT_err_addr), 2);
	assert_int_equal(stat(f, VRQ_STAT_drop_bad_desc), 2);
	assert_int_equal(stat(f, VRQ_STAT_drop_bad_hdr), 2);
	/* The frontend resets the ring: the next drop is logged again. */
	vrq_stop(f->q);
	vrq_guest_split_setup(&f->s, &su);
	assert_int_equal(vrq_start(f->q, &su), 0);
	vrq_guest_split_desc_set(&f->s, 10, VRQ_GUEST_GAP_GPA, 64, 0, 0);
	vrq_guest_split_avail_push(&f->s, 10);
	vrq_guest_split_publish(&f->s);
	assert_int_equal(vrq_guest_log_begin("vrq.data", RTE_LOG_WARNING), 0);
	assert_int_equal(deq(f), 0);
	assert_int_equal(vrq_guest_log_end(NULL), 1);
	assert_no_leak(f);
}

static void
test_vrq_split_tx_mbuf_pool_empty(void **state)
{
	struct fx *f = *state;
	struct rte_mempool *small =
	    rte_pktmbuf_pool_create("small", 3, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);

	assert_non_null(small);
	fx_start(f, RING, F_BASE);
	post_tx_simple(f, 9000, 1); /* needs 5 mbufs, the pool has 3 */
	assert_int_equal(vrq_dequeue_burst(f->q, small, f->pkts, VRQ_BURST_MAX), 0);
	assert_int_equal(stat(f, VRQ_STAT_drop_nombuf), 1);
	assert_int_equal(rte_mempool_avail_count(small), 3);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 1);
	rte_mempool_free(small);
}

/* ---- guest RX (enqueue) ---- */

/* An mbuf of @p len pattern bytes in segments of at most @p seg bytes. */
static struct rte_mbuf *
rx_mbuf(uint32_t len, uint32_t seed, uint32_t seg)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *cur = m;
	uint32_t i;

	assert_non_null(m);
	for (i = 0; i < len; i++) {
		if (cur->data_len == seg) {
			struct rte_mbuf *s = rte_pktmbuf_alloc(mp);

			assert_non_null(s);
			cur->next = s;
			cur = s;
			m->nb_segs++;
		}
		*rte_pktmbuf_mtod_offset(cur, uint8_t *, cur->data_len) = pat(i, seed);
		cur->data_len++;
		m->pkt_len++;
	}
	return m;
}

static void
fx_start_rx(struct fx *f, uint16_t size, uint64_t features)
{
	vrq_free(f->q);
	f->q = vrq_create("test", 0, SOCKET_ID_ANY);
	vrq_set_mem(f->q, vrq_guest_mem(&f->g));
	fx_start(f, size, features);
}

/* Read used entry + chain and check header (num_buffers @p nbuf) and payload. */
static void
assert_rx_chain(struct fx *f, uint32_t len, uint32_t seed, uint16_t hdr_len)
{
	uint8_t *buf = malloc(hdr_len + len);
	uint32_t id, ulen, i;

	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &ulen), 1);
	assert_int_equal(ulen, hdr_len + len);
	assert_int_equal(vrq_guest_split_chain_read(&f->s, id, buf, hdr_len + len), hdr_len + len);
	for (i = 0; i < 10; i++)
		assert_int_equal(buf[i], 0);
	if (hdr_len == HDR)
		assert_int_equal(buf[10] | buf[11] << 8, 1);
	for (i = 0; i < len; i++)
		if (buf[hdr_len + i] != pat(i, seed))
			fail_msg("byte %u: %#x != %#x", i, buf[hdr_len + i], pat(i, seed));
	free(buf);
}

static void
test_vrq_split_rx_sizes(void **state)
{
	static const uint32_t sizes[] = {64, 1000, 1500, 2000};
	struct fx *f = *state;
	struct rte_mbuf *m[RTE_DIM(sizes)];
	uint32_t sl = 2048, i;

	fx_start_rx(f, RING, F_BASE);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		m[i] = rx_mbuf(sizes[i], i, 700);
		assert_true(vrq_guest_split_post_rx(&f->s, &sl, 1, 0) >= 0);
	}
	assert_int_equal(vrq_enqueue_burst(f->q, m, RTE_DIM(sizes)), RTE_DIM(sizes));
	for (i = 0; i < RTE_DIM(sizes); i++)
		assert_rx_chain(f, sizes[i], i, HDR);
	rte_pktmbuf_free_bulk(m, RTE_DIM(sizes));
	assert_int_equal(stat(f, VRQ_STAT_packets), RTE_DIM(sizes));
	assert_no_leak(f);
}

/* Non-mergeable: one multi-descriptor chain (header split too, indirect) per packet. */
static void
test_vrq_split_rx_chain_9216(void **state)
{
	struct fx *f = *state;
	uint32_t sl[] = {5, 7, 100, 4000, 6000};
	struct rte_mbuf *m[2];

	fx_start_rx(f, RING, F_BASE);
	m[0] = rx_mbuf(9216, 1, 2000);
	m[1] = rx_mbuf(9216, 2, 1000);
	assert_true(vrq_guest_split_post_rx(&f->s, sl, RTE_DIM(sl), 0) >= 0);
	assert_true(vrq_guest_split_post_rx(&f->s, sl, RTE_DIM(sl), VRQ_GUEST_INDIRECT) >= 0);
	assert_int_equal(vrq_enqueue_burst(f->q, m, 2), 2);
	assert_rx_chain(f, 9216, 1, HDR);
	assert_rx_chain(f, 9216, 2, HDR);
	rte_pktmbuf_free_bulk(m, 2);
	assert_no_leak(f);
}

static void
test_vrq_split_rx_legacy_header(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(100, 9, 2000);
	uint32_t sl = 512;

	fx_start_rx(f, RING, VRQ_FBIT(VRQ_F_INDIRECT_DESC));
	assert_true(vrq_guest_split_post_rx(&f->s, &sl, 1, 0) >= 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_rx_chain(f, 100, 9, VRQ_NET_HDR_LEN_LEGACY);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* Non-mergeable, chain too small: the packet is dropped, the chain returned empty. */
static void
test_vrq_split_rx_drops_oversize(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(2000, 1, 2000);
	uint32_t sl = 1024, id, len;

	fx_start_rx(f, RING, F_BASE);
	assert_true(vrq_guest_split_post_rx(&f->s, &sl, 1, 0) >= 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_int_equal(stat(f, VRQ_STAT_drop_oversize), 1);
	assert_int_equal(stat(f, VRQ_STAT_packets), 0);
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
	assert_int_equal(len, 0);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* A buffer smaller than the header is returned empty; the packet takes the next one. */
static void
test_vrq_split_rx_skips_buffer_smaller_than_header(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(100, 4, 2000);
	uint32_t small = 8, big = 512, id, len;
	int h0;

	fx_start_rx(f, RING, F_BASE);
	h0 = vrq_guest_split_post_rx(&f->s, &small, 1, 0);
	assert_true(vrq_guest_split_post_rx(&f->s, &big, 1, 0) >= 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
	assert_int_equal(id, h0);
	assert_int_equal(len, 0);
	assert_rx_chain(f, 100, 4, HDR);
	assert_int_equal(stat(f, VRQ_STAT_drop_bad_desc), 1);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

static void
test_vrq_split_rx_rejects_readable(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(100, 4, 2000);
	uint64_t b = vrq_guest_alloc(&f->g, 512, 8);

	fx_start_rx(f, RING, F_BASE);
	vrq_guest_split_desc_set(&f->s, 0, b, 512, VRQ_DESC_F_WRITE | VRQ_DESC_F_NEXT, 1);
	vrq_guest_split_desc_set(&f->s, 1, b, 512, 0, 0); /* readable after writable */
	post_raw(f);
	/* The only chain is bad: it is returned, then the ring is empty. */
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 0);
	assert_int_equal(stat(f, VRQ_STAT_err_order), 1);
	assert_int_equal(stat(f, VRQ_STAT_drop_no_buf), 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 1);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

static void
test_vrq_split_rx_empty_ring(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m[2] = {rx_mbuf(60, 0, 2000), rx_mbuf(60, 1, 2000)};

	fx_start_rx(f, RING, F_BASE);
	assert_int_equal(vrq_enqueue_burst(f->q, m, 2), 0);
	assert_int_equal(stat(f, VRQ_STAT_drop_no_buf), 2);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 0);
	assert_int_equal(vrq_guest_split_calls(&f->s), 0);
	rte_pktmbuf_free_bulk(m, 2);
	assert_no_leak(f);
}

/* Mergeable: a 9216-byte frame over 1536-byte buffers, num_buffers = 7. */
static void
test_vrq_split_rx_mrg_9216(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(9216, 6, 1500);
	uint8_t *buf = malloc(HDR + 9216), *p = buf;
	uint32_t sl = 1536, id, len, total = 0, i;

	fx_start_rx(f, RING, F_BASE | VRQ_FBIT(VRQ_F_NET_MRG_RXBUF));
	for (i = 0; i < 8; i++)
		assert_true(vrq_guest_split_post_rx(&f->s, &sl, 1, 0) >= 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	for (i = 0; i < 7; i++) {
		assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
		assert_int_equal(len, i < 6 ? 1536 : HDR + 9216 - 6 * 1536);
		vrq_guest_split_chain_read(&f->s, id, p, len);
		p += len;
		total += len;
	}
	assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 0);
	assert_int_equal(total, HDR + 9216);
	assert_int_equal(buf[10] | buf[11] << 8, 7);
	for (i = 0; i < 9216; i++)
		if (buf[HDR + i] != pat(i, 6))
			fail_msg("byte %u", i);
	free(buf);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* The ring runs out mid-packet: nothing published, the buffers used next time. */
static void
test_vrq_split_rx_mrg_rollback(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(4000, 8, 2000);
	uint32_t sl = 1536, i, id, len;

	fx_start_rx(f, RING, F_BASE | VRQ_FBIT(VRQ_F_NET_MRG_RXBUF));
	for (i = 0; i < 2; i++)
		vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 0);
	assert_int_equal(stat(f, VRQ_STAT_drop_no_buf), 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 0);
	assert_int_equal(vrq_guest_split_calls(&f->s), 0);
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
		assert_int_equal(id, i); /* avail order: the first buffers first */
	}
	assert_int_equal(vrq_stop(f->q), 3);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* A bad head in the middle of a mergeable reservation: queue stops, nothing published. */
static void
test_vrq_split_rx_mrg_head_out_of_range(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(4000, 8, 2000);
	uint32_t sl = 1536;

	fx_start_rx(f, RING, F_BASE | VRQ_FBIT(VRQ_F_NET_MRG_RXBUF));
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	vrq_guest_split_avail_push(&f->s, RING + 1);
	vrq_guest_split_publish(&f->s);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 0);
	assert_true(vrq_is_broken(f->q));
	assert_int_equal(stat(f, VRQ_STAT_err_head), 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 0);
	assert_int_equal(vrq_guest_split_calls(&f->s), 0);
	assert_int_equal(vrq_stop(f->q), 0); /* the reservation was rolled back */
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

static void
test_vrq_split_rx_rejects_avail_idx_ahead(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = rx_mbuf(100, 1, 2000);

	fx_start_rx(f, RING, F_BASE);
	vrq_guest_split_avail_idx_set(&f->s, 0x8000);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 0);
	assert_true(vrq_is_broken(f->q));
	assert_int_equal(stat(f, VRQ_STAT_err_avail_idx), 1);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 0);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* ---- notifications ---- */

static void
rx_burst_n(struct fx *f, unsigned int n)
{
	struct rte_mbuf *m[VRQ_BURST_MAX];
	uint32_t sl = 256;
	unsigned int i;

	for (i = 0; i < n; i++) {
		m[i] = rx_mbuf(60, i, 2000);
		vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	}
	assert_int_equal(vrq_enqueue_burst(f->q, m, n), n);
	rte_pktmbuf_free_bulk(m, n);
}

static void
test_vrq_split_notify_once_per_burst(void **state)
{
	struct fx *f = *state;

	fx_start_rx(f, RING, F_BASE);
	rx_burst_n(f, 10);
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	rx_burst_n(f, 3);
	assert_int_equal(vrq_guest_split_calls(&f->s), 2);
	assert_int_equal(stat(f, VRQ_STAT_guest_notify), 2);
	assert_no_leak(f);
}

static void
test_vrq_split_notify_no_interrupt(void **state)
{
	struct fx *f = *state;

	fx_start_rx(f, RING, F_BASE);
	vrq_guest_split_no_interrupt(&f->s, true);
	rx_burst_n(f, 4);
	assert_int_equal(vrq_guest_split_calls(&f->s), 0);
	vrq_guest_split_no_interrupt(&f->s, false);
	rx_burst_n(f, 1);
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	assert_no_leak(f);
}

static void
test_vrq_split_notify_event_idx(void **state)
{
	struct fx *f = *state;

	fx_start_rx(f, RING, F_BASE | VRQ_FBIT(VRQ_F_EVENT_IDX));
	vrq_guest_split_no_interrupt(&f->s, true); /* ignored with EVENT_IDX */
	vrq_guest_split_used_event_set(&f->s, 5);  /* interrupt when used passes 5 */
	rx_burst_n(f, 4);                          /* used 0 -> 4 */
	assert_int_equal(vrq_guest_split_calls(&f->s), 0);
	/* We poll: avail_event stays one behind the start, where no kick is due for 65535 buffers. */
	assert_int_equal(vrq_guest_split_avail_event(&f->s), 0xffff);
	rx_burst_n(f, 4); /* used 4 -> 8 crosses 5 */
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	rx_burst_n(f, 4); /* 8 -> 12, event still 5 */
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	vrq_guest_split_used_event_set(&f->s, 12);
	rx_burst_n(f, 20); /* 12 -> 32: exactly one interrupt for the burst */
	assert_int_equal(vrq_guest_split_calls(&f->s), 2);
	assert_int_equal(vrq_guest_split_avail_event(&f->s), 0xffff);
	assert_no_leak(f);
}

static void
test_vrq_split_notify_tx_event_idx(void **state)
{
	struct fx *f = *state;
	int i;

	fx_start(f, RING, F_BASE | VRQ_FBIT(VRQ_F_EVENT_IDX));
	vrq_guest_split_used_event_set(&f->s, 0);
	for (i = 0; i < 3; i++)
		post_tx_simple(f, 64, i);
	assert_int_equal(deq(f), 3);
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	free_pkts(f, 3);
	assert_int_equal(deq(f), 0); /* nothing published: no interrupt */
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	assert_no_leak(f);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A frontend saturates the call eventfd (counter 2^64 - 2) and leaves it
 * blocking: the interrupt write would block the lcore for ever. The
 * watchdog (vrq_notify.c) cuts it short: the burst returns well within a
 * second, the queue is stopped and counted, and later bursts never write
 * to that fd again (so they do not block either).
 */
static void
test_vrq_split_notify_saturated_call_fd_bounded(void **state)
{
	struct fx *f = *state;
	uint64_t full = 0xfffffffffffffffeULL, t0, v;
	int efd = eventfd(0, EFD_CLOEXEC); /* blocking, as a frontend can make it */
	struct rte_mbuf *m;
	uint32_t sl = 256;

	assert_true(efd >= 0);
	assert_int_equal(write(efd, &full, sizeof(full)), sizeof(full));
	fx_start_rx(f, RING, F_BASE); /* no NO_INTERRUPT: the guest wants interrupts */
	vrq_set_call_fd(f->q, efd);
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	m = rx_mbuf(60, 1, 2000);
	t0 = now_ms();
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1); /* copied before the interrupt */
	assert_true(now_ms() - t0 < 1000);
	assert_true(vrq_is_broken(f->q));
	assert_int_equal(stat(f, VRQ_STAT_guest_notify_err), 1);
	assert_int_equal(stat(f, VRQ_STAT_guest_notify), 0);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 1);
	/* A second burst: refused at once, no write attempted. */
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	t0 = now_ms();
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 0);
	assert_true(now_ms() - t0 < 100);
	assert_int_equal(stat(f, VRQ_STAT_guest_notify_err), 1);
	/* The counter is as the frontend left it: nothing was added. */
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	assert_true(v == full);
	rte_pktmbuf_free(m);
	close(efd);
	assert_no_leak(f);
}

/* ---- dirty log ---- */

static bool
log_bit(const uint8_t *bm, uint64_t gpa)
{
	uint64_t page = gpa / VRQ_LOG_PAGE;

	return (bm[page / 8] >> (page % 8)) & 1;
}

static void
test_vrq_split_dirty_log_rx(void **state)
{
	struct fx *f = *state;
	static uint8_t bm[0x1600000 / VRQ_LOG_PAGE / 8];
	struct vrq_log log = {bm, sizeof(bm)};
	struct rte_mbuf *m = rx_mbuf(6000, 1, 2000);
	struct vrq_setup su;
	uint64_t gpa;
	uint32_t sl = 8192, n = 0, i;

	memset(bm, 0, sizeof(bm));
	vrq_free(f->q);
	f->q = vrq_create("test", 0, SOCKET_ID_ANY);
	vrq_set_mem(f->q, vrq_guest_mem(&f->g));
	assert_int_equal(vrq_guest_split_init(&f->s, &f->g, RING, F_BASE), 0);
	vrq_guest_split_setup(&f->s, &su);
	su.log_used = true;
	assert_int_equal(vrq_start(f->q, &su), 0);
	vrq_set_log(f->q, &log);
	vrq_guest_alloc(&f->g, 4096 * 3, 4096); /* skip pages, so unwritten ones exist */
	assert_true(vrq_guest_split_post_rx(&f->s, &sl, 1, 0) >= 0);
	gpa = f->s.chains[0].gpa[0];
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	for (i = 0; i < sizeof(bm) * 8; i++)
		n += log_bit(bm, (uint64_t)i * VRQ_LOG_PAGE);
	assert_true(log_bit(bm, gpa));
	assert_true(log_bit(bm, gpa + HDR + 6000 - 1));
	assert_false(log_bit(bm, gpa + 8191 + VRQ_LOG_PAGE)); /* not written */
	assert_true(log_bit(bm, f->s.used_gpa));              /* used->idx and entry 0 */
	/* Written: buffer (6012 bytes, 2 or 3 pages) + used ring page(s); nothing else. */
	assert_true(n >= 3 && n <= 5);
	assert_false(log_bit(bm, f->s.desc_gpa));
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* ---- enqueue offloads completed in software ---- */

/* Ethernet + IPv4 + TCP with @p payload bytes, TX_TCP_CKSUM requested. */
static struct rte_mbuf *
tcp4_mbuf(uint32_t payload, uint64_t ol, uint16_t mss)
{
	uint32_t len = 14 + 20 + 20 + payload;
	struct rte_mbuf *m = rx_mbuf(len, 0, 2000);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + 34);

	p[12] = 0x08;
	p[13] = 0x00;
	memset(ip, 0, 40);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - 14));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = mss;
	m->ol_flags = ol | RTE_MBUF_F_TX_IPV4;
	th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	return m;
}

/* Recompute the TCP checksum of an Ethernet/IPv4/TCP frame and compare. */
static int
tcp4_csum_ok(uint8_t *frame)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + 14);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(frame + 34);
	uint16_t got = th->cksum, want;

	th->cksum = 0;
	want = rte_ipv4_udptcp_cksum(ip, th);
	th->cksum = got;
	return got == want;
}

static void
test_vrq_split_rx_sw_csum_for_guest_without_csum(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = tcp4_mbuf(100, RTE_MBUF_F_TX_TCP_CKSUM, 0);
	uint8_t buf[HDR + 154];
	uint32_t sl = 512;

	fx_start_rx(f, RING, F_BASE);
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_int_equal(stat(f, VRQ_STAT_sw_csum), 1);
	assert_int_equal(vrq_guest_split_chain_read(&f->s, 0, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(buf[0], 0); /* no NEEDS_CSUM: done */
	assert_int_equal(tcp4_csum_ok(buf + HDR), 1);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

static void
test_vrq_split_rx_sw_gso_for_guest_without_tso(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = tcp4_mbuf(4000, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM, 1000);
	uint32_t sl = 2048, id, len, i;

	fx_start_rx(f, RING, F_BASE);
	for (i = 0; i < 6; i++)
		vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_int_equal(stat(f, VRQ_STAT_sw_gso), 1);
	assert_int_equal(stat(f, VRQ_STAT_packets), 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(vrq_guest_split_used_get(&f->s, &id, &len), 1);
		assert_int_equal(len, HDR + 54 + 1000);
	}
	assert_int_equal(vrq_guest_split_calls(&f->s), 1);
	rte_pktmbuf_free(m); /* the caller still owns the original */
	assert_no_leak(f);
}

/* A guest with GUEST_CSUM + TSO4 gets the header fields instead. */
static void
test_vrq_split_rx_tso_to_guest_with_tso(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = tcp4_mbuf(4000, RTE_MBUF_F_TX_TCP_SEG, 1000);
	uint64_t feat = F_BASE | VRQ_FBIT(VRQ_F_NET_GUEST_CSUM) | VRQ_FBIT(VRQ_F_NET_GUEST_TSO4) |
			VRQ_FBIT(VRQ_F_NET_GUEST_TSO6) | VRQ_FBIT(VRQ_F_NET_MRG_RXBUF);
	struct vrq_net_hdr h;
	uint32_t sl = 8192;

	fx_start_rx(f, RING, feat);
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_int_equal(stat(f, VRQ_STAT_sw_gso), 0);
	vrq_guest_split_chain_read(&f->s, 0, &h, sizeof(h));
	assert_int_equal(h.flags, VRQ_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, VRQ_NET_HDR_GSO_TCPV4);
	assert_int_equal(rte_le_to_cpu_16(h.gso_size), 1000);
	assert_int_equal(rte_le_to_cpu_16(h.csum_start), 34);
	assert_int_equal(rte_le_to_cpu_16(h.csum_offset), 16);
	assert_int_equal(rte_le_to_cpu_16(h.num_buffers), 1);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/* TSO4 but not TSO6: an IPv4 TSO packet still goes out as one GSO frame, no sw work. */
static void
test_vrq_split_rx_tso4_only_guest(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m = tcp4_mbuf(4000, RTE_MBUF_F_TX_TCP_SEG, 1000);
	uint64_t feat = F_BASE | VRQ_FBIT(VRQ_F_NET_GUEST_CSUM) | VRQ_FBIT(VRQ_F_NET_GUEST_TSO4);
	struct vrq_net_hdr h;
	uint32_t sl = 8192;

	fx_start_rx(f, RING, feat);
	vrq_guest_split_post_rx(&f->s, &sl, 1, 0);
	assert_int_equal(vrq_enqueue_burst(f->q, &m, 1), 1);
	assert_int_equal(stat(f, VRQ_STAT_sw_gso), 0);
	assert_int_equal(stat(f, VRQ_STAT_sw_csum), 0);
	vrq_guest_split_chain_read(&f->s, 0, &h, sizeof(h));
	assert_int_equal(h.gso_type, VRQ_NET_HDR_GSO_TCPV4);
	assert_int_equal(rte_le_to_cpu_16(h.gso_size), 1000);
	rte_pktmbuf_free(m);
	assert_no_leak(f);
}

/*
 * IN_ORDER: one used entry, the batch's last chain, stands for the whole
 * batch (2.7.9); the entries before it are not written. The driver frees
 * every chain up to used->idx.
 */
static void
test_vrq_split_in_order_batch(void **state)
{
	const uint32_t stale = 0xdeadu;
	struct fx *f = *state;
	int heads[5], k;

	fx_start(f, RING, F_BASE | VRQ_FBIT(VRQ_F_IN_ORDER));
	for (k = 0; k < 5; k++)
		f->s.used->ring[k].id = rte_cpu_to_le_32(stale);
	for (k = 0; k < 3; k++)
		heads[k] = post_tx_simple(f, 64, (uint32_t)k);
	assert_int_equal(deq(f), 3);
	for (k = 0; k < 3; k++)
		assert_mbuf_payload(f->pkts[k], 64, (uint32_t)k);
	free_pkts(f, 3);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 3);
	assert_int_equal(rte_le_to_cpu_32(f->s.used->ring[2].id), heads[2]);
	assert_int_equal(rte_le_to_cpu_32(f->s.used->ring[2].len), 0);
	assert_int_equal(rte_le_to_cpu_32(f->s.used->ring[0].id), stale);
	assert_int_equal(rte_le_to_cpu_32(f->s.used->ring[1].id), stale);
	/* The next batch continues after it. */
	for (k = 3; k < 5; k++)
		heads[k] = post_tx_simple(f, 64, (uint32_t)k);
	assert_int_equal(deq(f), 2);
	assert_mbuf_payload(f->pkts[0], 64, 3);
	assert_mbuf_payload(f->pkts[1], 64, 4);
	free_pkts(f, 2);
	assert_int_equal(vrq_guest_split_used_idx(&f->s), 5);
	assert_int_equal(rte_le_to_cpu_32(f->s.used->ring[4].id), heads[4]);
	assert_int_equal(rte_le_to_cpu_32(f->s.used->ring[3].id), stale);
	assert_int_equal(stat(f, VRQ_STAT_packets), 5);
	assert_no_leak(f);
}

static int
eal_setup(void **state)
{
	(void)state;
	mp = vrq_guest_eal_init("vrq_split_test", "128", NB_MBUFS, RTE_MBUF_DEFAULT_BUF_SIZE);
	return mp == NULL ? -1 : 0;
}

static int
eal_teardown(void **state)
{
	(void)state;
	vrq_guest_eal_fini(mp);
	return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_vrq_split_tx_single),
	    T(test_vrq_split_tx_mem_replaced),
	    T(test_vrq_split_tx_sizes_multiseg),
	    T(test_vrq_split_tx_chain_segments),
	    T(test_vrq_split_tx_indirect),
	    T(test_vrq_split_tx_cross_region),
	    T(test_vrq_split_tx_indirect_cross_region),
	    T(test_vrq_split_tx_indirect_misaligned),
	    T(test_vrq_split_tx_burst_limit),
	    T(test_vrq_split_start_resyncs_to_used_idx),
	    T(test_vrq_split_start_validates),
	    T(test_vrq_split_burst_skips_when_locked),
	    T(test_vrq_split_stat_names),
	    T(test_vrq_split_rejects_avail_idx_ahead),
	    T(test_vrq_split_rejects_head_out_of_range),
	    T(test_vrq_split_rejects_chain_loop),
	    T(test_vrq_split_rejects_next_out_of_range),
	    T(test_vrq_split_rejects_indirect_loop),
	    T(test_vrq_split_rejects_indirect_nested),
	    T(test_vrq_split_rejects_indirect_len_not_16),
	    T(test_vrq_split_rejects_indirect_len_zero),
	    T(test_vrq_split_rejects_indirect_outside_memory),
	    T(test_vrq_split_rejects_indirect_with_next),
	    T(test_vrq_split_rejects_zero_len),
	    T(test_vrq_split_rejects_writable_in_tx),
	    T(test_vrq_split_rejects_addr_outside_memory),
	    T(test_vrq_split_rejects_addr_past_region_end),
	    T(test_vrq_split_rejects_addr_overflow),
	    T(test_vrq_split_drops_iov_overflow),
	    T(test_vrq_split_drops_header_only_chain),
	    T(test_vrq_split_bad_chain_does_not_stop_queue),
	    T(test_vrq_split_drop_logged_once_per_reason),
	    T(test_vrq_split_tx_mbuf_pool_empty),
	    T(test_vrq_split_rx_sizes),
	    T(test_vrq_split_rx_chain_9216),
	    T(test_vrq_split_rx_legacy_header),
	    T(test_vrq_split_rx_drops_oversize),
	    T(test_vrq_split_rx_skips_buffer_smaller_than_header),
	    T(test_vrq_split_rx_rejects_readable),
	    T(test_vrq_split_rx_empty_ring),
	    T(test_vrq_split_rx_mrg_9216),
	    T(test_vrq_split_rx_mrg_rollback),
	    T(test_vrq_split_rx_mrg_head_out_of_range),
	    T(test_vrq_split_rx_rejects_avail_idx_ahead),
	    T(test_vrq_split_notify_once_per_burst),
	    T(test_vrq_split_notify_no_interrupt),
	    T(test_vrq_split_notify_event_idx),
	    T(test_vrq_split_notify_tx_event_idx),
	    T(test_vrq_split_notify_saturated_call_fd_bounded),
	    T(test_vrq_split_dirty_log_rx),
	    T(test_vrq_split_rx_sw_csum_for_guest_without_csum),
	    T(test_vrq_split_rx_sw_gso_for_guest_without_tso),
	    T(test_vrq_split_rx_tso_to_guest_with_tso),
	    T(test_vrq_split_rx_tso4_only_guest),
	    T(test_vrq_split_in_order_batch),
	};

	return cmocka_run_group_tests_name("vrq_split", tests, eal_setup, eal_teardown);
}
