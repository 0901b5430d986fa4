/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packed virtqueue datapath (virtio_ring/vrq_packed.c)
 * through the public burst API, with the test playing the guest driver
 * (tests/unit/lib/vrq_guest_packed.h) on memfd memory mapped twice.
 *
 * Covered: guest TX and RX, chained and indirect, header spread over
 * descriptors, mergeable RX with num_buffers and rollback, 64 B .. 9216 B
 * frames in multi-segment mbufs compared byte for byte, several laps of
 * small rings, event suppression (eventfd writes counted), dirty logging,
 * ring base save/restore, and every hostile descriptor rule with its counter,
 * the ring state it leaves and no mbuf leak.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vrq.h"
#include "vrq_guest.h"
#include "vrq_guest_packed.h"
#include "vrq_ring.h"

#define T_HDR 12 /* VERSION_1: header with num_buffers */
#define T_FEATURES \
	(VRQ_FBIT(VRQ_F_VERSION_1) | VRQ_FBIT(VRQ_F_INDIRECT_DESC) | VRQ_FBIT(VRQ_F_EVENT_IDX))
#define T_MRG VRQ_FBIT(VRQ_F_NET_MRG_RXBUF)
#define T_MAXF 9216
#define T_VQ_TX 1 /* odd: guest TX, we dequeue */
#define T_VQ_RX 0
#define T_LOG_BYTES 1024 /* 8192 pages of 4 KiB: covers the default layout (21 MiB) */

struct t_ctx {
	struct vrq_guest g;
	struct vrq_guest_packed p;
	struct vrq *q;
	uint8_t logmap[T_LOG_BYTES];
	struct vrq_log log;
	unsigned int in_use; /* mbufs in use before the test */
};

static struct rte_mempool *t_mp;

static int
t_setup(void **state)
{
	struct t_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL || vrq_guest_init_default(&c->g) != 0)
		return -1;
	c->in_use = rte_mempool_in_use_count(t_mp);
	*state = c;
	return 0;
}

static int
t_teardown(void **state)
{
	struct t_ctx *c = *state;

	if (c->q != NULL) {
		vrq_lock(c->q);
		vrq_stop(c->q);
		vrq_unlock(c->q);
		vrq_free(c->q);
	}
	vrq_guest_packed_fini(&c->p);
	vrq_guest_fini(&c->g);
	/* Every test: no mbuf leaked. */
	assert_int_equal(rte_mempool_in_use_count(t_mp), c->in_use);
	free(c);
	return 0;
}

static void
t_start(struct t_ctx *c, uint16_t size, uint64_t features, uint16_t vq_idx)
{
	struct vrq_setup s;

	assert_int_equal(vrq_guest_packed_init(&c->p, &c->g, size, features), 0);
	c->q = vrq_create("test_vrq_packed", vq_idx, SOCKET_ID_ANY);
	assert_non_null(c->q);
	vrq_lock(c->q);
	vrq_set_mem(c->q, vrq_guest_mem(&c->g));
	vrq_guest_packed_setup(&c->p, &s);
	assert_int_equal(vrq_start(c->q, &s), 0);
	vrq_unlock(c->q);
}

static uint64_t
t_stat(const struct t_ctx *c, enum vrq_stat_id id)
{
	struct vrq_stats st;

	vrq_stats_get(c->q, &st);
	return st.v[id];
}

/* Header (zero: no offload) then a payload pattern unique to seed. */
static void
t_frame(uint8_t *buf, uint32_t payload, uint32_t seed)
{
	uint32_t i;

	memset(buf, 0, T_HDR);
	for (i = 0; i < payload; i++)
		buf[T_HDR + i] = (uint8_t)(i * 13 + seed * 7 + (i >> 9));
}

static void
t_mbuf_expect(const struct rte_mbuf *m, const uint8_t *want, uint32_t len)
{
	uint32_t off = 0;

	assert_int_equal(m->pkt_len, len);
	for (; m != NULL; m = m->next) {
		assert_true(off + m->data_len <= len);
		assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), want + off, m->data_len);
		off += m->data_len;
	}
	assert_int_equal(off, len);
}

/* A multi-segment mbuf of len bytes (segments of seg bytes) carrying the pattern. */
static struct rte_mbuf *
t_mbuf(uint32_t len, uint32_t seg, uint32_t seed)
{
	static uint8_t buf[T_HDR + T_MAXF];
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	uint32_t off;

	t_frame(buf, len, seed);
	for (off = 0; off < len; off += seg) {
		uint32_t n = RTE_MIN(seg, len - off);

		m = rte_pktmbuf_alloc(t_mp);
		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), buf + T_HDR + off, n);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
	}
	return head;
}

/* Post one TX frame of payload bytes cut as seg_lens (lengths of the whole frame). */
static int
t_post_tx(struct t_ctx *c, uint32_t payload, uint32_t seed, const uint32_t *seg_lens, uint16_t nb,
	  unsigned int opts)
{
	static uint8_t buf[T_HDR + T_MAXF];

	t_frame(buf, payload, seed);
	return vrq_guest_packed_post_tx(&c->p, buf, T_HDR + payload, seg_lens, nb, opts);
}

/* Dequeue exactly one packet and check it against the pattern, and its completion. */
static void
t_rx_one_check(struct t_ctx *c, int id, uint32_t payload, uint32_t seed)
{
	static uint8_t want[T_HDR + T_MAXF];
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	uint16_t got_id;
	uint32_t len;

	t_frame(want, payload, seed);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 1);
	t_mbuf_expect(pkts[0], want + T_HDR, payload);
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &got_id, &len), 1);
	assert_int_equal(got_id, id);
	assert_int_equal(len, 0);
}

/* Cut a frame into pieces: shape 0 one piece, 1 header alone, 2 header over two, 3 small pieces. */
static uint16_t
t_shape(uint32_t total, int shape, uint32_t *lens)
{
	uint16_t n = 0;
	uint32_t off = 0, piece;

	switch (shape) {
	case 0:
		lens[n++] = total;
		return n;
	case 1:
		lens[n++] = T_HDR;
		off = T_HDR;
		piece = 4096;
		break;
	case 2:
		lens[n++] = 5;
		lens[n++] = 7 + 3; /* header ends inside the second piece */
		off = 15;
		piece = 1000;
		break;
	default:
		piece = 97;
		break;
	}
	while (off < total) {
		lens[n] = RTE_MIN(piece, total - off);
		off += lens[n++];
	}
	return n;
}

static void
test_vrq_packed_tx_sizes_and_shapes(void **state)
{
	static const uint32_t sizes[] = {64, 1500, 4000, T_MAXF};
	struct t_ctx *c = *state;
	uint32_t lens[128], i, seed = 1;
	int shape, id;
	uint16_t nb;

	t_start(c, 256, T_FEATURES, T_VQ_TX);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		for (shape = 0; shape < 4; shape++) {
			nb = t_shape(T_HDR + sizes[i], shape, lens);
			id = t_post_tx(c, sizes[i], seed, lens, nb, 0);
			assert_true(id >= 0);
			t_rx_one_check(c, id, sizes[i], seed++);
		}
	}
	assert_int_equal(t_stat(c, VRQ_STAT_packets), RTE_DIM(sizes) * 4);
	assert_false(vrq_is_broken(c->q));
}

static void
test_vrq_packed_tx_indirect(void **state)
{
	static const uint32_t sizes[] = {64, 1500, T_MAXF};
	struct t_ctx *c = *state;
	uint32_t lens[128], i, seed = 3;
	int shape, id;
	uint16_t nb;

	t_start(c, 64, T_FEATURES, T_VQ_TX);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		for (shape = 0; shape < 4; shape++) {
			nb = t_shape(T_HDR + sizes[i], shape, lens);
			id = t_post_tx(c, sizes[i], seed, lens, nb, VRQ_GUEST_INDIRECT);
			assert_true(id >= 0);
			t_rx_one_check(c, id, sizes[i], seed++);
		}
	}
	/* A table straddling the boundary of two touching regions (2 and 3). */
	c->p.ind_gpa = 0x1400000 - 3 * sizeof(struct vrq_packed_desc);
	nb = t_shape(T_HDR + 1500, 2, lens);
	id = t_post_tx(c, 1500, 99, lens, nb, VRQ_GUEST_INDIRECT);
	assert_true(id >= 0);
	t_rx_one_check(c, id, 1500, 99);
	assert_false(vrq_is_broken(c->q));
}

/*
 * Guest TX through indirect tables laid out as DPDK 22.11's virtio PMD does
 * (VRQ_GUEST_PMD_TABLE: the header entry keeps a preset WRITE flag, the
 * others carry NEXT and wrap bits): every frame arrives intact, nothing is
 * counted as a bad chain. Before the fix each one was refused (err_order).
 */
static void
test_vrq_packed_tx_indirect_virtio_pmd(void **state)
{
	static const uint32_t sizes[] = {60, 1500, 2990, T_MAXF};
	struct t_ctx *c = *state;
	uint32_t lens[8], i, r, seed = 11;
	uint16_t nb;
	int id;

	t_start(c, 8, T_FEATURES, T_VQ_TX);
	/* Three laps of an 8-slot ring: both AVAIL/USED encodings in the tables. */
	for (r = 0; r < 3 * 8 / RTE_DIM(sizes); r++) {
		for (i = 0; i < RTE_DIM(sizes); i++) {
			/* Header alone, then 2048-byte mbuf segments, as the PMD cuts them. */
			lens[0] = T_HDR;
			for (nb = 1; (nb - 1) * 2048u < sizes[i]; nb++)
				lens[nb] = RTE_MIN(2048u, sizes[i] - (nb - 1) * 2048u);
			id = t_post_tx(c, sizes[i], seed, lens, nb,
				       VRQ_GUEST_INDIRECT | VRQ_GUEST_PMD_TABLE);
			assert_true(id >= 0);
			t_rx_one_check(c, id, sizes[i], seed++);
		}
	}
	assert_int_equal(t_stat(c, VRQ_STAT_err_order), 0);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_bad_desc), 0);
	assert_int_equal(t_stat(c, VRQ_STAT_packets), 3 * 8 / RTE_DIM(sizes) * RTE_DIM(sizes));
	assert_false(vrq_is_broken(c->q));
}

/* A burst takes at most VRQ_BURST_MAX and interrupts once. */
static void
test_vrq_packed_tx_burst_one_call(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint32_t lens[1] = {T_HDR + 100};
	int i;

	t_start(c, 256, T_FEATURES, T_VQ_TX);
	for (i = 0; i < 40; i++)
		assert_true(t_post_tx(c, 100, (uint32_t)i, lens, 1, 0) >= 0);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), VRQ_BURST_MAX);
	rte_pktmbuf_free_bulk(pkts, VRQ_BURST_MAX);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 1);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 8);
	rte_pktmbuf_free_bulk(pkts, 8);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 2);
	/* Empty ring: nothing, no call. */
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 2);
	/* We poll: the device event asks the driver not to kick. */
	assert_int_equal(vrq_guest_packed_dev_event_flags(&c->p), VRQ_EVENT_F_DISABLE);
}

/*
 * IN_ORDER: one used descriptor, in the batch's first slot and with the
 * last chain's buffer id, stands for the whole batch; the other slots keep
 * the driver's avail flags. The next batch starts past the skipped slots.
 */
static void
test_vrq_packed_tx_in_order_batch(void **state)
{
	static uint8_t want[T_HDR + T_MAXF];
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint32_t one[1] = {T_HDR + 64}, two[2] = {T_HDR, 64};
	const uint16_t used = VRQ_DESC_F_AVAIL | VRQ_DESC_F_USED;
	struct vrq_packed_desc d;
	int ids[4], k, slot;

	t_start(c, 256, T_FEATURES | VRQ_FBIT(VRQ_F_IN_ORDER), T_VQ_TX);
	ids[0] = t_post_tx(c, 64, 0, one, 1, 0); /* slot 0 */
	ids[1] = t_post_tx(c, 64, 1, two, 2, 0); /* slots 1-2 */
	ids[2] = t_post_tx(c, 64, 2, one, 1, 0); /* slot 3 */
	for (k = 0; k < 3; k++)
		assert_true(ids[k] >= 0);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 3);
	for (k = 0; k < 3; k++) {
		t_frame(want, 64, (uint32_t)k);
		t_mbuf_expect(pkts[k], want + T_HDR, 64);
	}
	rte_pktmbuf_free_bulk(pkts, 3);
	vrq_guest_packed_desc_get(&c->p, 0, &d);
	assert_int_equal(d.flags & used, used);
	assert_int_equal(d.id, ids[2]);
	assert_int_equal(d.len, 0);
	for (slot = 1; slot <= 3; slot++) {
		vrq_guest_packed_desc_get(&c->p, (uint16_t)slot, &d);
		assert_int_equal(d.flags & used, VRQ_DESC_F_AVAIL);
	}
	ids[3] = t_post_tx(c, 64, 3, one, 1, 0); /* slot 4 */
	assert_true(ids[3] >= 0);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 1);
	t_frame(want, 64, 3);
	t_mbuf_expect(pkts[0], want + T_HDR, 64);
	rte_pktmbuf_free(pkts[0]);
	vrq_guest_packed_desc_get(&c->p, 4, &d);
	assert_int_equal(d.flags & used, used);
	assert_int_equal(d.id, ids[3]);
	assert_int_equal(t_stat(c, VRQ_STAT_packets), 4);
	assert_false(vrq_is_broken(c->q));
}

/* Enqueue one mbuf of len bytes and check the guest sees header + payload. */
static void
t_enqueue_check(struct t_ctx *c, uint32_t len, uint32_t mseg, uint32_t seed, int id,
		uint16_t nb_bufs)
{
	static uint8_t got[T_HDR + T_MAXF + 64], want[T_HDR + T_MAXF];
	struct rte_mbuf *m = t_mbuf(len, mseg, seed);
	uint32_t done = 0, ulen;
	uint16_t uid, b;

	t_frame(want, len, seed);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1);
	rte_pktmbuf_free(m);
	for (b = 0; b < nb_bufs; b++) {
		assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
		assert_int_equal(uid, (uint16_t)(id + b) % c->p.size);
		assert_true(done + ulen <= sizeof(got));
		assert_int_equal(vrq_guest_packed_chain_read(&c->p, uid, got + done, ulen),
				 (int)ulen);
		done += ulen;
	}
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 0);
	assert_int_equal(done, T_HDR + len);
	/* Header: no offload, num_buffers = buffers used (5.1.6.4). */
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], VRQ_NET_HDR_GSO_NONE);
	assert_int_equal(got[10] | got[11] << 8, nb_bufs);
	assert_memory_equal(got + T_HDR, want + T_HDR, len);
}

static void
test_vrq_packed_rx_sizes(void **state)
{
	static const uint32_t sizes[] = {64, 1500, 2049, T_MAXF};
	struct t_ctx *c = *state;
	uint32_t lens3[3] = {4096, 4096, 2048}, lens_split[3] = {5, 7, 9300};
	uint32_t i;
	int id;

	t_start(c, 128, T_FEATURES, T_VQ_RX);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		id = vrq_guest_packed_post_rx(&c->p, lens3, 3, 0);
		t_enqueue_check(c, sizes[i], 1000, i, id, 1);
		/* Header spread over two descriptors. */
		id = vrq_guest_packed_post_rx(&c->p, lens_split, 3, 0);
		t_enqueue_check(c, sizes[i], 2048, i + 10, id, 1);
		/* Indirect. */
		id = vrq_guest_packed_post_rx(&c->p, lens3, 3, VRQ_GUEST_INDIRECT);
		t_enqueue_check(c, sizes[i], 333, i + 20, id, 1);
	}
	assert_int_equal(t_stat(c, VRQ_STAT_packets), 3 * RTE_DIM(sizes));
}

static void
test_vrq_packed_rx_mrg(void **state)
{
	struct t_ctx *c = *state;
	uint32_t lens[1] = {1024};
	int i, first = -1, id;

	t_start(c, 64, T_FEATURES | T_MRG, T_VQ_RX);
	for (i = 0; i < 10; i++) {
		id = vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
		first = first < 0 ? id : first;
	}
	/* 12 + 9216 bytes over 1024-byte buffers: 10 buffers. */
	t_enqueue_check(c, T_MAXF, 1500, 5, first, 10);
	/* Small frame: one buffer. */
	id = vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
	t_enqueue_check(c, 64, 2048, 6, id, 1);
}

/*
 * One burst mixing frames the fast path takes (one buffer) with frames that
 * need several buffers (the general path, mrg): every completion in ring
 * order, each frame whole, with its num_buffers; the burst's first frame
 * on either path.
 */
static void
test_vrq_packed_rx_mixed_burst(void **state)
{
	static const uint32_t a[] = {64, 3000, 64, 2000, 64}, b[] = {3000, 64, 64, 1500, 60};
	static const uint32_t *const bursts[] = {a, b};
	static uint8_t got[T_HDR + 3000], want[T_HDR + 3000];
	struct t_ctx *c = *state;
	uint32_t lens[1] = {1024}, ulen, done, k, j;
	struct rte_mbuf *m[5];
	uint16_t uid, nb, n;
	int id, next = -1;

	t_start(c, 64, T_FEATURES | T_MRG, T_VQ_RX);
	for (k = 0; k < RTE_DIM(bursts); k++) {
		/* 8 buffers per burst; 4 of each burst's are left over for the next. */
		for (j = 0; j < 12; j++) {
			id = vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
			next = next < 0 ? id : next;
		}
		for (j = 0; j < 5; j++)
			m[j] = t_mbuf(bursts[k][j], 1000, k * 10 + j);
		assert_int_equal(vrq_enqueue_burst(c->q, m, 5), 5);
		for (j = 0; j < 5; j++)
			rte_pktmbuf_free(m[j]);
		for (j = 0; j < 5; j++) {
			nb = (uint16_t)((T_HDR + bursts[k][j] + 1023) / 1024);
			for (n = 0, done = 0; n < nb; n++) {
				assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
				assert_int_equal(uid, (uint16_t)(next++ % c->p.size));
				assert_int_equal(
				    vrq_guest_packed_chain_read(&c->p, uid, got + done, ulen),
				    (int)ulen);
				done += ulen;
			}
			assert_int_equal(done, T_HDR + bursts[k][j]);
			assert_int_equal(got[10] | got[11] << 8, nb);
			t_frame(want, bursts[k][j], k * 10 + j);
			assert_memory_equal(got + T_HDR, want + T_HDR, bursts[k][j]);
		}
		assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 0);
	}
}

/* Out of buffers in the middle of a packet: nothing written, then it fits. */
static void
test_vrq_packed_rx_mrg_rollback(void **state)
{
	struct t_ctx *c = *state;
	uint32_t lens[1] = {1024}, ulen;
	struct rte_mbuf *m;
	uint16_t uid;
	int i, first = -1, id;

	t_start(c, 32, T_FEATURES | T_MRG, T_VQ_RX);
	for (i = 0; i < 3; i++) {
		id = vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
		first = first < 0 ? id : first;
	}
	m = t_mbuf(9000, 2048, 1);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 0);
	rte_pktmbuf_free(m);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_no_buf), 1);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 0);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 0);
	assert_false(vrq_is_broken(c->q));
	for (i = 0; i < 6; i++)
		vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
	/* 9012 bytes: 9 buffers, starting from the first one posted. */
	t_enqueue_check(c, 9000, 2048, 2, first, 9);
}

/* Non-mergeable: a buffer too small for the frame goes back empty. */
static void
test_vrq_packed_rx_too_small(void **state)
{
	struct t_ctx *c = *state;
	uint32_t small[1] = {100}, ulen;
	struct rte_mbuf *m;
	uint16_t uid;
	int id;

	t_start(c, 16, T_FEATURES, T_VQ_RX);
	id = vrq_guest_packed_post_rx(&c->p, small, 1, 0);
	m = t_mbuf(1500, 2048, 1);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1); /* consumed: dropped, counted */
	rte_pktmbuf_free(m);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_oversize), 1);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
	assert_int_equal(uid, id);
	assert_int_equal(ulen, 0);
	assert_false(vrq_is_broken(c->q));
}

/* A buffer smaller than the header is refused; the packet lands in the next one. */
static void
test_vrq_packed_rx_buf_smaller_than_header(void **state)
{
	struct t_ctx *c = *state;
	uint32_t tiny[1] = {8}, ok[1] = {2048}, ulen;
	uint16_t uid;
	int id_bad, id_ok;

	t_start(c, 16, T_FEATURES | T_MRG, T_VQ_RX);
	id_bad = vrq_guest_packed_post_rx(&c->p, tiny, 1, 0);
	id_ok = vrq_guest_packed_post_rx(&c->p, ok, 1, 0);
	(void)id_ok;
	{
		static uint8_t want[T_HDR + 100], got[T_HDR + 100];
		struct rte_mbuf *m = t_mbuf(100, 2048, 4);

		t_frame(want, 100, 4);
		assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1);
		rte_pktmbuf_free(m);
		assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
		assert_int_equal(uid, id_bad);
		assert_int_equal(ulen, 0);
		assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
		assert_int_equal(uid, id_ok);
		assert_int_equal(ulen, T_HDR + 100);
		vrq_guest_packed_chain_read(&c->p, uid, got, ulen);
		assert_memory_equal(got + T_HDR, want + T_HDR, 100);
	}
	assert_int_equal(t_stat(c, VRQ_STAT_drop_bad_desc), 1);
	assert_false(vrq_is_broken(c->q));
}

static void
test_vrq_packed_rx_no_buffers(void **state)
{
	struct rte_mbuf *m[3];
	struct t_ctx *c = *state;
	int i;

	t_start(c, 16, T_FEATURES, T_VQ_RX);
	for (i = 0; i < 3; i++)
		m[i] = t_mbuf(64, 2048, (uint32_t)i);
	assert_int_equal(vrq_enqueue_burst(c->q, m, 3), 0);
	rte_pktmbuf_free_bulk(m, 3);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_no_buf), 3);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 0);
}

/* Several laps of a ring of 8, mixing chain lengths and indirect; TX side. */
static void
test_vrq_packed_wrap_laps_tx(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	static uint8_t want[T_HDR + 2048];
	struct t_ctx *c = *state;
	uint32_t round, lens[3], seed = 0, ulen;
	int ids[8], nb_posted, k, flips = 0;
	bool wrap0 = true;
	uint16_t uid, n;

	t_start(c, 8, T_FEATURES, T_VQ_TX);
	for (round = 0; round < 60; round++) {
		nb_posted = 0;
		/* Chains of 1..3 descriptors (or indirect), as many as fit. */
		for (k = 0; k < 3; k++) {
			uint16_t nd = (uint16_t)(1 + (round + k) % 3);
			unsigned int opts = ((round + k) % 4 == 3) ? VRQ_GUEST_INDIRECT : 0;
			uint32_t payload = 60 + (round * 37 + k * 11) % 1400;

			if (nd > c->p.nb_free)
				break;
			lens[0] = T_HDR + 1;
			lens[1] = payload / 2;
			lens[2] = payload - 1 - lens[1];
			if (nd == 1)
				lens[0] = T_HDR + payload;
			else if (nd == 2)
				lens[1] = payload - 1;
			ids[nb_posted++] =
			    t_post_tx(c, payload, seed + (uint32_t)k, lens, nd, opts);
		}
		n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
		assert_int_equal(n, nb_posted);
		for (k = 0; k < nb_posted; k++) {
			t_frame(want, pkts[k]->pkt_len, seed + (uint32_t)k);
			t_mbuf_expect(pkts[k], want + T_HDR, pkts[k]->pkt_len);
			assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
			assert_int_equal(uid, ids[k]);
		}
		rte_pktmbuf_free_bulk(pkts, n);
		seed += 3;
		if (c->p.used_wrap != wrap0) {
			flips++;
			wrap0 = c->p.used_wrap;
		}
	}
	assert_true(flips >= 6);
	assert_false(vrq_is_broken(c->q));
}

/* Several laps of a ring of 16, mergeable RX with odd frame sizes. */
static void
test_vrq_packed_wrap_laps_rx(void **state)
{
	static uint8_t got[T_HDR + 4096], want[T_HDR + 4096];
	struct t_ctx *c = *state;
	uint32_t round, lens[2] = {300, 400}, len, ulen, done;
	uint16_t uid, b, nbuf;
	struct rte_mbuf *m;
	int flips = 0;
	bool wrap0 = true;

	t_start(c, 16, T_FEATURES | T_MRG, T_VQ_RX);
	for (round = 0; round < 80; round++) {
		/* Refill: buffers are 2-descriptor chains of 700 bytes. */
		while (c->p.nb_free >= 2)
			assert_true(vrq_guest_packed_post_rx(&c->p, lens, 2, 0) >= 0);
		len = 64 + (round * 389) % 3000;
		nbuf = (uint16_t)((T_HDR + len + 699) / 700);
		m = t_mbuf(len, 512, round);
		assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1);
		rte_pktmbuf_free(m);
		done = 0;
		for (b = 0; b < nbuf; b++) {
			assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
			vrq_guest_packed_chain_read(&c->p, uid, got + done, ulen);
			done += ulen;
		}
		assert_int_equal(done, T_HDR + len);
		assert_int_equal(got[10] | got[11] << 8, nbuf);
		t_frame(want, len, round);
		assert_memory_equal(got + T_HDR, want + T_HDR, len);
		if (c->p.used_wrap != wrap0) {
			flips++;
			wrap0 = c->p.used_wrap;
		}
	}
	assert_true(flips >= 6);
	assert_int_equal(t_stat(c, VRQ_STAT_packets), 80);
}

/* Driver event: DISABLE, ENABLE, and DESC at a chosen used position (2.8.10). */
static void
test_vrq_packed_event_suppression(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint32_t lens[1] = {T_HDR + 64}, ulen;
	uint16_t uid, n, i;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	/* DISABLE: no call. */
	vrq_guest_packed_event_set(&c->p, VRQ_EVENT_F_DISABLE, 0);
	for (i = 0; i < 3; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	assert_int_equal(n, 3);
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 0);
	while (vrq_guest_packed_used_get(&c->p, &uid, &ulen) == 1)
		;
	/* DESC at slot 10 of this lap (wrap 1): bursts over 3..5 and 6..8 do not pass it. */
	vrq_guest_packed_event_set(&c->p, VRQ_EVENT_F_DESC, 10 | 0x8000);
	for (i = 0; i < 3; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	rte_pktmbuf_free_bulk(pkts, n);
	for (i = 0; i < 3; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 0);
	/* 9..11 passes slot 10: one call. */
	for (i = 0; i < 3; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 1);
	while (vrq_guest_packed_used_get(&c->p, &uid, &ulen) == 1)
		;
	/* DESC at slot 2 of the next lap (wrap 0): 12..15 no; 0..3 of the next lap yes. */
	vrq_guest_packed_event_set(&c->p, VRQ_EVENT_F_DESC, 2);
	for (i = 0; i < 4; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 1);
	while (vrq_guest_packed_used_get(&c->p, &uid, &ulen) == 1)
		;
	for (i = 0; i < 4; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	assert_int_equal(n, 4);
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 2);
	/* ENABLE: one call per burst, however many packets. */
	vrq_guest_packed_event_set(&c->p, VRQ_EVENT_F_ENABLE, 0);
	while (vrq_guest_packed_used_get(&c->p, &uid, &ulen) == 1)
		;
	for (i = 0; i < 5; i++)
		t_post_tx(c, 64, i, lens, 1, 0);
	n = vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX);
	assert_int_equal(n, 5);
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(vrq_guest_packed_calls(&c->p), 3);
	assert_int_equal(t_stat(c, VRQ_STAT_guest_notify), 3);
}

static bool
t_dirty(const struct t_ctx *c, uint64_t gpa)
{
	uint64_t page = gpa / VRQ_LOG_PAGE;

	return (c->logmap[page / 8] >> (page % 8)) & 1;
}

static void
t_log_on(struct t_ctx *c)
{
	memset(c->logmap, 0, sizeof(c->logmap));
	c->log.bitmap = c->logmap;
	c->log.size = sizeof(c->logmap);
	vrq_lock(c->q);
	vrq_set_log(c->q, &c->log);
	vrq_unlock(c->q);
}

/* Dirty log: RX buffers and written-back descriptors are marked; TX buffers are not. */
static void
test_vrq_packed_dirty_log_rx(void **state)
{
	struct t_ctx *c = *state;
	uint32_t lens[1] = {3000};
	struct rte_mbuf *m;
	uint64_t buf_gpa;
	int id;

	t_start(c, 16, T_FEATURES, T_VQ_RX);
	t_log_on(c);
	id = vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
	buf_gpa = c->p.bufs[id].chain.gpa[0];
	assert_false(t_dirty(c, buf_gpa));
	m = t_mbuf(1500, 2048, 1);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1);
	rte_pktmbuf_free(m);
	assert_true(t_dirty(c, buf_gpa));
	assert_true(t_dirty(c, buf_gpa + T_HDR + 1500 - 1));
	assert_true(t_dirty(c, c->p.desc_gpa));
	/* Far from anything written. */
	assert_false(t_dirty(c, c->p.drv_event_gpa));
	assert_false(t_dirty(c, 0x1300000));
}

static void
test_vrq_packed_dirty_log_tx(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint32_t lens[1] = {T_HDR + 1000};
	uint64_t buf_gpa;
	int id;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_log_on(c);
	id = t_post_tx(c, 1000, 1, lens, 1, 0);
	buf_gpa = c->p.bufs[id].chain.gpa[0];
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 1);
	rte_pktmbuf_free(pkts[0]);
	assert_true(t_dirty(c, c->p.desc_gpa));
	/* Read only: a TX buffer page is not dirtied (unless it shares the ring's page). */
	if (buf_gpa / VRQ_LOG_PAGE != c->p.desc_gpa / VRQ_LOG_PAGE)
		assert_false(t_dirty(c, buf_gpa));
}

/* GET/SET_VRING_BASE: idx | wrap << 15 is honoured and given back. */
static void
test_vrq_packed_base_restore(void **state)
{
	struct t_ctx *c = *state;
	uint32_t lens[1] = {T_HDR + 200};
	struct vrq_setup s;
	int id;

	/* The driver is at slot 5 of a wrap-0 lap with nothing in flight. */
	assert_int_equal(vrq_guest_packed_init(&c->p, &c->g, 8, T_FEATURES), 0);
	c->p.avail_idx = c->p.used_idx = 5;
	c->p.avail_wrap = c->p.used_wrap = false;
	/* History: slots 0..4 were used in the wrap-0 lap, 5..7 still hold wrap-1 completions. */
	for (id = 5; id < 8; id++)
		vrq_guest_packed_desc_set(&c->p, (uint16_t)id, 0, 0, 0,
					  VRQ_DESC_F_AVAIL | VRQ_DESC_F_USED);
	c->q = vrq_create("test_vrq_packed", T_VQ_TX, SOCKET_ID_ANY);
	vrq_lock(c->q);
	vrq_set_mem(c->q, vrq_guest_mem(&c->g));
	vrq_guest_packed_setup(&c->p, &s);
	assert_int_equal(s.base, 5);
	assert_int_equal(vrq_start(c->q, &s), 0);
	vrq_unlock(c->q);
	id = t_post_tx(c, 200, 7, lens, 1, 0);
	t_rx_one_check(c, id, 200, 7);
	id = t_post_tx(c, 200, 8, lens, 1, 0);
	t_rx_one_check(c, id, 200, 8);
	id = t_post_tx(c, 200, 9, lens, 1, 0);
	t_rx_one_check(c, id, 200, 9);
	/* Slot 0 of a wrap-1 lap now. */
	vrq_lock(c->q);
	assert_int_equal(vrq_stop(c->q), 0x8000);
	s.base = 0x8000 | 20; /* beyond the ring */
	assert_int_equal(vrq_start(c->q, &s), -EINVAL);
	vrq_unlock(c->q);
}

/* ---- Hostile guests ---- */

/* The queue is stopped, nothing was written back, nothing leaked (teardown). */
static void
t_assert_stopped(struct t_ctx *c, enum vrq_stat_id why, uint16_t slot, uint16_t flags_before)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct vrq_packed_desc d;

	assert_true(vrq_is_broken(c->q));
	assert_int_equal(t_stat(c, why), 1);
	assert_int_equal(t_stat(c, VRQ_STAT_broken), 1);
	vrq_guest_packed_desc_get(&c->p, slot, &d);
	assert_int_equal(d.flags, flags_before);
	/* Stays stopped. */
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
}

static void
test_vrq_packed_rejects_bad_id(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint64_t gpa;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	gpa = vrq_guest_alloc(&c->g, 256, 8);
	vrq_guest_packed_desc_set(&c->p, 0, gpa, 256, 16, VRQ_DESC_F_AVAIL);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
	t_assert_stopped(c, VRQ_STAT_err_head, 0, VRQ_DESC_F_AVAIL);
}

/* AVAIL == USED == our wrap at the head: no driver writes that. */
static void
test_vrq_packed_rejects_bad_wrap_head(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint64_t gpa;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	gpa = vrq_guest_alloc(&c->g, 256, 8);
	vrq_guest_packed_desc_set(&c->p, 0, gpa, 256, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_USED);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
	t_assert_stopped(c, VRQ_STAT_err_wrap, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_USED);
}

/* A chain whose next descriptor is not available in this lap. */
static void
test_vrq_packed_rejects_bad_wrap_chain(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint64_t gpa;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	gpa = vrq_guest_alloc(&c->g, 256, 8);
	vrq_guest_packed_desc_set(&c->p, 1, gpa, 128, 0, VRQ_DESC_F_USED); /* last lap's */
	vrq_guest_packed_desc_set(&c->p, 0, gpa, 128, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_NEXT);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
	t_assert_stopped(c, VRQ_STAT_err_wrap, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_NEXT);
}

/* Every slot available and chained: a chain longer than the ring. */
static void
test_vrq_packed_rejects_loop(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	struct t_ctx *c = *state;
	uint64_t gpa;
	uint16_t i;

	t_start(c, 8, T_FEATURES, T_VQ_TX);
	gpa = vrq_guest_alloc(&c->g, 64, 8);
	for (i = 1; i < 8; i++)
		vrq_guest_packed_desc_set(&c->p, i, gpa, 64, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_NEXT);
	vrq_guest_packed_desc_set(&c->p, 0, gpa, 64, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_NEXT);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
	t_assert_stopped(c, VRQ_STAT_err_loop, 0, VRQ_DESC_F_AVAIL | VRQ_DESC_F_NEXT);
}

/*
 * A chain refused for its contents: returned with len 0, counted, queue
 * running; the good chain posted after it is delivered intact.
 */
static void
t_assert_refused(struct t_ctx *c, int bad_id, enum vrq_stat_id why)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	static uint8_t want[T_HDR + 300];
	uint32_t lens[1] = {T_HDR + 300}, ulen;
	uint16_t uid;
	int good;

	good = t_post_tx(c, 300, 42, lens, 1, 0);
	assert_true(good >= 0);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 1);
	t_frame(want, 300, 42);
	t_mbuf_expect(pkts[0], want + T_HDR, 300);
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
	assert_int_equal(uid, bad_id);
	assert_int_equal(ulen, 0);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
	assert_int_equal(uid, good);
	assert_false(vrq_is_broken(c->q));
	assert_int_equal(t_stat(c, why), 1);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_bad_desc), 1);
	assert_int_equal(t_stat(c, VRQ_STAT_packets), 1);
}

static void
test_vrq_packed_rejects_zero_len(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {0, 0, 0}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	segs[1].gpa = vrq_guest_alloc(&c->g, 64, 8);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, 0), VRQ_STAT_err_zero_len);
}

static void
test_vrq_packed_rejects_writable_in_tx(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {0, 100, VRQ_DESC_F_WRITE}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, 0), VRQ_STAT_err_order);
}

static void
test_vrq_packed_rejects_addr_gap(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {VRQ_GUEST_GAP_GPA, 100, 0}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, 0), VRQ_STAT_err_addr);
}

static void
test_vrq_packed_rejects_addr_overflow(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {UINT64_MAX - 15, 64, 0}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, 0), VRQ_STAT_err_addr);
}

/* A buffer running from the end of region 0 into the gap after it. */
static void
test_vrq_packed_rejects_addr_past_region(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {0x300000 - 32, 64, 0}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, 0), VRQ_STAT_err_addr);
}

static void
test_vrq_packed_rejects_indirect_nested(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {0, 64, VRQ_DESC_F_INDIRECT}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, VRQ_GUEST_INDIRECT),
			 VRQ_STAT_err_indirect);
}

/* Post an indirect chain held back, rewrite its head as given, publish. */
static int
t_post_indirect_raw(struct t_ctx *c, uint64_t addr, uint32_t len, uint16_t extra_flags)
{
	struct vrq_guest_seg segs[2] = {{0, T_HDR, 0}, {0, 64, 0}};
	struct vrq_packed_desc d;
	int id;

	id = vrq_guest_packed_add(&c->p, segs, 2, VRQ_GUEST_INDIRECT | VRQ_GUEST_NO_PUBLISH);
	assert_true(id >= 0);
	vrq_guest_packed_desc_get(&c->p, 0, &d);
	vrq_guest_packed_desc_set(&c->p, 0, addr != 0 ? addr : d.addr, len != 0 ? len : d.len,
				  (uint16_t)id,
				  VRQ_DESC_F_INDIRECT | VRQ_DESC_F_AVAIL | extra_flags);
	return id;
}

static void
test_vrq_packed_rejects_indirect_len(void **state)
{
	struct t_ctx *c = *state;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, t_post_indirect_raw(c, 0, 24, 0), VRQ_STAT_err_indirect);
}

static void
test_vrq_packed_rejects_indirect_outside(void **state)
{
	struct t_ctx *c = *state;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, t_post_indirect_raw(c, VRQ_GUEST_GAP_GPA, 0, 0), VRQ_STAT_err_indirect);
}

/* INDIRECT and NEXT together (2.8.19): refused; the NEXT still delimits the chain. */
static void
test_vrq_packed_rejects_indirect_with_next(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, 64, VRQ_DESC_F_INDIRECT}, {0, T_HDR + 64, 0}};

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	t_assert_refused(c, vrq_guest_packed_add(&c->p, segs, 2, 0), VRQ_STAT_err_indirect);
}

static void
test_vrq_packed_rejects_indirect_not_negotiated(void **state)
{
	struct t_ctx *c = *state;
	uint32_t lens[2] = {T_HDR, 100};

	t_start(c, 16, T_FEATURES & ~VRQ_FBIT(VRQ_F_INDIRECT_DESC), T_VQ_TX);
	t_assert_refused(c, t_post_tx(c, 100, 1, lens, 2, VRQ_GUEST_INDIRECT),
			 VRQ_STAT_err_indirect);
}

/* RX: a device-readable buffer in a guest RX chain (opts: in the ring or in a table). */
static void
t_rejects_readable_in_rx(void **state, unsigned int opts)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg segs[2] = {{0, 1000, VRQ_DESC_F_WRITE}, {0, 1000, 0}};
	uint32_t ok[1] = {2048}, ulen;
	struct rte_mbuf *m;
	uint16_t uid;
	int bad, good;

	t_start(c, 16, T_FEATURES, T_VQ_RX);
	bad = vrq_guest_packed_add(&c->p, segs, 2, opts);
	good = vrq_guest_packed_post_rx(&c->p, ok, 1, 0);
	m = t_mbuf(500, 2048, 1);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1);
	rte_pktmbuf_free(m);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
	assert_int_equal(uid, bad);
	assert_int_equal(ulen, 0);
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
	assert_int_equal(uid, good);
	assert_int_equal(ulen, T_HDR + 500);
	assert_int_equal(t_stat(c, VRQ_STAT_err_order), 1);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_bad_desc), 1);
	assert_false(vrq_is_broken(c->q));
}

static void
test_vrq_packed_rejects_readable_in_rx(void **state)
{
	t_rejects_readable_in_rx(state, 0);
}

/* Only guest TX ignores WRITE in indirect entries: RX still refuses a readable one. */
static void
test_vrq_packed_rejects_readable_in_rx_indirect(void **state)
{
	t_rejects_readable_in_rx(state, VRQ_GUEST_INDIRECT);
}

/* Per-chain drops: one WARNING line per queue per reason (STYLE.md 2.9), repeats only counted. */
static void
test_vrq_packed_drop_logged_once_per_reason(void **state)
{
	struct t_ctx *c = *state;
	struct vrq_guest_seg bad[2] = {{0, T_HDR, 0}, {VRQ_GUEST_GAP_GPA, 100, 0}};
	static uint8_t frame[T_HDR + 100];
	uint32_t hdr_only[2] = {4, 8}, one = T_HDR + 100;
	struct rte_mbuf *pkts[VRQ_BURST_MAX];
	char *text;

	/* CSUM: the header is read (without a host offload feature it is ignored). */
	t_start(c, 16, T_FEATURES | VRQ_FBIT(VRQ_F_NET_CSUM), T_VQ_TX);
	assert_true(vrq_guest_packed_add(&c->p, bad, 2, 0) >= 0);
	assert_true(vrq_guest_packed_add(&c->p, bad, 2, VRQ_GUEST_INDIRECT) >= 0);
	assert_true(vrq_guest_packed_post_tx(&c->p, frame, T_HDR, hdr_only, 2, 0) >= 0);
	t_frame(frame, 100, 1);
	frame[1] = 2; /* gso_type 2: no such type */
	assert_true(vrq_guest_packed_post_tx(&c->p, frame, sizeof(frame), &one, 1, 0) >= 0);
	assert_int_equal(vrq_guest_log_begin("vrq.data", RTE_LOG_WARNING), 0);
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, VRQ_BURST_MAX), 0);
	assert_int_equal(vrq_guest_log_end(&text), 3);
	assert_non_null(strstr(text, "test_vrq_packed: vq 1: guest chain dropped: err_addr"));
	assert_non_null(strstr(text, "test_vrq_packed: vq 1: guest chain dropped: drop_bad_hdr"));
	assert_non_null(strstr(text, "test_vrq_packed: vq 1: guest chain dropped: err_gso"));
	free(text);
	assert_int_equal(t_stat(c, VRQ_STAT_err_addr), 2);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_bad_desc), 2);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_bad_hdr), 2);
	assert_false(vrq_is_broken(c->q));
}

/* RX: bad id stops the queue and writes nothing. */
static void
test_vrq_packed_rejects_bad_id_rx(void **state)
{
	struct t_ctx *c = *state;
	struct rte_mbuf *m;
	uint64_t gpa;

	t_start(c, 16, T_FEATURES | T_MRG, T_VQ_RX);
	gpa = vrq_guest_alloc(&c->g, 2048, 8);
	vrq_guest_packed_desc_set(&c->p, 0, gpa, 2048, 0xffff, VRQ_DESC_F_AVAIL | VRQ_DESC_F_WRITE);
	m = t_mbuf(500, 2048, 1);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 0);
	rte_pktmbuf_free(m);
	assert_true(vrq_is_broken(c->q));
	assert_int_equal(t_stat(c, VRQ_STAT_err_head), 1);
	assert_int_equal(t_stat(c, VRQ_STAT_packets), 0);
}

/* No mbufs in the pool: nothing taken off the ring, counted. */
static void
test_vrq_packed_tx_pool_empty(void **state)
{
	struct rte_mbuf *pkts[VRQ_BURST_MAX], *hog[4096];
	struct t_ctx *c = *state;
	uint32_t lens[1] = {T_HDR + 100}, n = 0;
	int id;

	t_start(c, 16, T_FEATURES, T_VQ_TX);
	id = t_post_tx(c, 100, 1, lens, 1, 0);
	while (n < RTE_DIM(hog) && (hog[n] = rte_pktmbuf_alloc(t_mp)) != NULL)
		n++;
	assert_int_equal(vrq_dequeue_burst(c->q, t_mp, pkts, 1), 0);
	assert_int_equal(t_stat(c, VRQ_STAT_drop_nombuf), 1);
	rte_pktmbuf_free_bulk(hog, n);
	t_rx_one_check(c, id, 100, 1);
}

/* ---- Offloads the guest did not negotiate: completed in software ---- */

/* Ethernet + IPv4 + TCP + payload, TSO requested with an MSS of 1000. */
static struct rte_mbuf *
t_tso_pkt(uint32_t payload)
{
	struct rte_mbuf *m = t_mbuf(14 + 20 + 20 + payload, 1024, 9);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	memset(p, 0, 54);
	p[12] = 0x08;
	p[14] = 0x45;
	p[16] = (uint8_t)((40 + payload) >> 8);
	p[17] = (uint8_t)(40 + payload);
	p[22] = 64;
	p[23] = 6;
	p[26] = 10;
	p[29] = 1;
	p[30] = 10;
	p[33] = 2;
	p[46] = 5 << 4;
	p[47] = 0x18; /* PSH ACK */
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = 1000;
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM |
		      RTE_MBUF_F_TX_TCP_SEG;
	return m;
}

/* No GUEST_CSUM/TSO: a TSO packet reaches the guest as valid, checksummed segments. */
static void
test_vrq_packed_rx_sw_tso(void **state)
{
	static uint8_t got[T_HDR + 2048];
	struct t_ctx *c = *state;
	uint32_t lens[1] = {2048}, ulen, seq = 0, plen;
	struct rte_mbuf *m;
	uint16_t uid, i;
	uint8_t ph[12];

	t_start(c, 16, T_FEATURES, T_VQ_RX);
	for (i = 0; i < 6; i++)
		vrq_guest_packed_post_rx(&c->p, lens, 1, 0);
	m = t_tso_pkt(3500);
	assert_int_equal(vrq_enqueue_burst(c->q, &m, 1), 1);
	rte_pktmbuf_free(m); /* still the caller's */
	assert_int_equal(t_stat(c, VRQ_STAT_sw_gso), 1);
	for (i = 0; i < 4; i++) {
		const uint8_t *ip = got + T_HDR + 14, *th = ip + 20;

		assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 1);
		vrq_guest_packed_chain_read(&c->p, uid, got, ulen);
		plen = i < 3 ? 1000 : 500;
		assert_int_equal(ulen, T_HDR + 54 + plen);
		assert_int_equal(got[0], 0); /* nothing left for the guest to do */
		assert_int_equal(ip[2] << 8 | ip[3], 40 + plen);
		assert_int_equal(vrq_guest_csum_fold(vrq_guest_csum_sum(ip, 20, 0)), 0xffff);
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)((20 + plen) >> 8);
		ph[11] = (uint8_t)(20 + plen);
		assert_int_equal(vrq_guest_csum_fold(vrq_guest_csum_sum(
				     th, 20 + plen, vrq_guest_csum_sum(ph, 12, 0))),
				 0xffff);
		assert_int_equal((uint32_t)(th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7]), seq);
		assert_int_equal(th[13] & 0x08, i == 3 ? 0x08 : 0); /* PSH on the last only */
		seq += plen;
	}
	assert_int_equal(vrq_guest_packed_used_get(&c->p, &uid, &ulen), 0);
}

static int
t_eal_setup(void **state)
{
	(void)state;
	t_mp = vrq_guest_eal_init("vrq_packed_ut", "128", 2047, 2048 + RTE_PKTMBUF_HEADROOM);
	return t_mp == NULL ? -1 : 0;
}

static int
t_eal_teardown(void **state)
{
	(void)state;
	vrq_guest_eal_fini(t_mp);
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, t_setup, t_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_vrq_packed_tx_sizes_and_shapes),
	    T(test_vrq_packed_tx_indirect),
	    T(test_vrq_packed_tx_indirect_virtio_pmd),
	    T(test_vrq_packed_tx_burst_one_call),
	    T(test_vrq_packed_tx_in_order_batch),
	    T(test_vrq_packed_rx_sizes),
	    T(test_vrq_packed_rx_mrg),
	    T(test_vrq_packed_rx_mixed_burst),
	    T(test_vrq_packed_rx_mrg_rollback),
	    T(test_vrq_packed_rx_too_small),
	    T(test_vrq_packed_rx_buf_smaller_than_header),
	    T(test_vrq_packed_rx_no_buffers),
	    T(test_vrq_packed_wrap_laps_tx),
	    T(test_vrq_packed_wrap_laps_rx),
	    T(test_vrq_packed_event_suppression),
	    T(test_vrq_packed_dirty_log_rx),
	    T(test_vrq_packed_dirty_log_tx),
	    T(test_vrq_packed_base_restore),
	    T(test_vrq_packed_rejects_bad_id),
	    T(test_vrq_packed_rejects_bad_wrap_head),
	    T(test_vrq_packed_rejects_bad_wrap_chain),
	    T(test_vrq_packed_rejects_loop),
	    T(test_vrq_packed_rejects_zero_len),
	    T(test_vrq_packed_rejects_writable_in_tx),
	    T(test_vrq_packed_rejects_addr_gap),
	    T(test_vrq_packed_rejects_addr_overflow),
	    T(test_vrq_packed_rejects_addr_past_region),
	    T(test_vrq_packed_rejects_indirect_nested),
	    T(test_vrq_packed_rejects_indirect_len),
	    T(test_vrq_packed_rejects_indirect_outside),
	    T(test_vrq_packed_rejects_indirect_with_next),
	    T(test_vrq_packed_rejects_indirect_not_negotiated),
	    T(test_vrq_packed_rejects_readable_in_rx),
	    T(test_vrq_packed_rejects_readable_in_rx_indirect),
	    T(test_vrq_packed_drop_logged_once_per_reason),
	    T(test_vrq_packed_rejects_bad_id_rx),
	    T(test_vrq_packed_tx_pool_empty),
	    T(test_vrq_packed_rx_sw_tso),
	};

	return cmocka_run_group_tests_name("vrq_packed", tests, t_eal_setup, t_eal_teardown);
}
