/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtqueue core: lifecycle (create, start, stop, free), the per-queue lock
 * the control thread uses to fence the datapath, the burst wrappers the PMD
 * calls, counters, and the two side effects a guest can cause on a queue:
 * being stopped for a fault (vrq_fail) and being interrupted (vrq_notify_guest).
 *
 * Trust: everything behind the ring pointers is guest memory and hostile. The
 * setup itself comes from vhost/, which validated the frontend's messages, but
 * vrq_start() still checks that each ring lies inside the memory table so a
 * translation bug upstream cannot turn into a wild pointer here.
 *
 * The datapath function pointers are chosen once in vrq_start() from the ring
 * layout and MRG_RXBUF, so no burst branches on a feature negotiated once.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>
#include <rte_string_fns.h>

#include "vrq_internal.h"

RTE_LOG_REGISTER(vrq_logtype, vrq.data, NOTICE);

static const char *const vrq_stat_names[VRQ_STAT_MAX] = {
#define VRQ_STAT_NAME(n, d) [VRQ_STAT_##n] = #n,
    VRQ_STATS_LIST(VRQ_STAT_NAME)
#undef VRQ_STAT_NAME
};

static const char *const vrq_stat_descs[VRQ_STAT_MAX] = {
#define VRQ_STAT_DESC(n, d) [VRQ_STAT_##n] = d,
    VRQ_STATS_LIST(VRQ_STAT_DESC)
#undef VRQ_STAT_DESC
};

const char *
vrq_stat_name(unsigned int id)
{
	return id < VRQ_STAT_MAX ? vrq_stat_names[id] : NULL;
}

struct vrq *
vrq_create(const char *name, uint16_t vq_idx, int socket_id)
{
	struct vrq *q;

	q = rte_zmalloc_socket("vrq", sizeof(*q), RTE_CACHE_LINE_SIZE, socket_id);
	if (q == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rte_spinlock_init(&q->lock);
	rte_strlcpy(q->name, name != NULL ? name : "", sizeof(q->name));
	q->vq_idx = vq_idx;
	q->socket_id = socket_id;
	q->call_fd = -1;
	q->err_fd = -1;
	if (vrq_wd_register(q) != 0) {
		rte_free(q);
		rte_errno = ENOMEM;
		return NULL;
	}
	return q;
}

void
vrq_free(struct vrq *q)
{
	if (q == NULL)
		return;
	RTE_ASSERT(!q->started);
	vrq_wd_unregister(q);
	rte_free(q);
}

/* Forget the cached region (a new table, or none). */
static void
vrq_xlate_reset(struct vrq *q)
{
	q->xl_gpa = 0;
	q->xl_size = 0;
	q->xl_delta = 0;
}

void
vrq_lock(struct vrq *q)
{
	rte_spinlock_lock(&q->lock);
}

void
vrq_unlock(struct vrq *q)
{
	rte_spinlock_unlock(&q->lock);
}

/* True when [hva, hva + len) lies inside one region's mapping (rings must map contiguously). */
static bool
vrq_hva_in_mem(const struct vrq_mem *mem, const void *hva, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)hva;
	uint32_t i;

	for (i = 0; i < mem->nb_regions && i < VRQ_MEM_REGIONS_MAX; i++) {
		const struct vrq_mem_region *r = &mem->regions[i];

		if (a - r->hva < r->size && len <= r->size - (a - r->hva))
			return true;
	}
	return false;
}

static int
vrq_check_ring(const struct vrq_mem *mem, const void *hva, size_t len, size_t align)
{
	if (hva == NULL || ((uintptr_t)hva & (align - 1)) != 0)
		return -EINVAL;
	return vrq_hva_in_mem(mem, hva, len) ? 0 : -EFAULT;
}

/*
 * mbuf TX offload requests a guest with these features cannot take in the
 * virtio-net header (5.1.6.4): the enqueue slow path completes them. The
 * header has no IPv4 header checksum and we do not offer UFO, so those two
 * always go to software; TSO of one IP version only is sorted out per packet.
 */
static uint64_t
vrq_sw_ol_mask(uint64_t features)
{
	uint64_t mask = RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_SEG;

	if (!(features & VRQ_FBIT(VRQ_F_NET_GUEST_CSUM)))
		mask |= RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG;
	if (!(features & VRQ_FBIT(VRQ_F_NET_GUEST_TSO4)) ||
	    !(features & VRQ_FBIT(VRQ_F_NET_GUEST_TSO6)))
		mask |= RTE_MBUF_F_TX_TCP_SEG;
	return mask;
}

int
vrq_start(struct vrq *q, const struct vrq_setup *s)
{
	bool packed = (s->features & VRQ_FBIT(VRQ_F_RING_PACKED)) != 0;
	bool mrg = (s->features & VRQ_FBIT(VRQ_F_NET_MRG_RXBUF)) != 0;
	int ret;

	/* 2.7: queue size is a power of two no larger than 32768. */
	if (s->size == 0 || s->size > VRQ_SIZE_MAX || !rte_is_power_of_2(s->size))
		return -EINVAL;
	if (q->mem == NULL || q->mem->nb_regions == 0)
		return -EINVAL;
	if (packed) {
		/* 2.8.10.1: descriptors 16-byte aligned, event structures 4-byte aligned. */
		ret = vrq_check_ring(q->mem, s->desc_hva, vrq_packed_desc_bytes(s->size), 16);
		if (ret == 0)
			ret = vrq_check_ring(q->mem, s->avail_hva, sizeof(struct vrq_packed_event),
					     4);
		if (ret == 0)
			ret =
			    vrq_check_ring(q->mem, s->used_hva, sizeof(struct vrq_packed_event), 4);
	} else {
		/* 2.7 table: desc 16, avail 2, used 4 bytes alignment. */
		ret = vrq_check_ring(q->mem, s->desc_hva, vrq_split_desc_bytes(s->size), 16);
		if (ret == 0)
			ret =
			    vrq_check_ring(q->mem, s->avail_hva, vrq_split_avail_bytes(s->size), 2);
		if (ret == 0)
			ret = vrq_check_ring(q->mem, s->used_hva, vrq_split_used_bytes(s->size), 4);
	}
	if (ret != 0)
		return ret;

	q->desc = s->desc_hva;
	q->avail = s->avail_hva;
	q->used = s->used_hva;
	q->size = s->size;
	q->mask = s->size - 1;
	q->features = s->features;
	q->used_gpa = s->used_gpa;
	q->log_used = s->log_used;
	q->call_fd = s->call_fd;
	q->err_fd = s->err_fd;
	q->event_idx = (s->features & VRQ_FBIT(VRQ_F_EVENT_IDX)) != 0;
	q->mrg_rxbuf = mrg;
	q->in_order = (s->features & VRQ_FBIT(VRQ_F_IN_ORDER)) != 0;
	q->indirect = (s->features & VRQ_FBIT(VRQ_F_INDIRECT_DESC)) != 0;
	q->tx_hdr_used =
	    (s->features & (VRQ_FBIT(VRQ_F_NET_CSUM) | VRQ_FBIT(VRQ_F_NET_HOST_TSO4) |
			    VRQ_FBIT(VRQ_F_NET_HOST_TSO6) | VRQ_FBIT(VRQ_F_NET_HOST_ECN) |
			    VRQ_FBIT(VRQ_F_NET_HOST_UFO))) != 0;
	/* 5.1.6: num_buffers is part of the header with VERSION_1 or MRG_RXBUF. */
	q->hdr_len = (s->features & VRQ_FBIT(VRQ_F_VERSION_1)) || mrg ? sizeof(struct vrq_net_hdr)
								      : VRQ_NET_HDR_LEN_LEGACY;
	q->sw_ol_mask = vrq_sw_ol_mask(s->features);
	q->broken = false;
	q->fail_logged = false;
	q->drop_logged = 0;
	q->notify_dead = false;
	vrq_xlate_reset(q);
	if (packed) {
		q->dequeue = vrq_packed_dequeue;
		q->enqueue = mrg ? vrq_packed_enqueue_mrg : vrq_packed_enqueue;
		ret = vrq_packed_start(q, s->base);
	} else {
		q->dequeue = vrq_split_dequeue;
		q->enqueue = mrg ? vrq_split_enqueue_mrg : vrq_split_enqueue;
		ret = vrq_split_start(q, s->base);
	}
	if (ret != 0)
		return ret;
	q->started = true;
	return 0;
}

uint16_t
vrq_stop(struct vrq *q)
{
	bool packed = (q->features & VRQ_FBIT(VRQ_F_RING_PACKED)) != 0;

	q->started = false;
	q->broken = false;
	q->fail_logged = false;
	q->drop_logged = 0;
	q->notify_dead = false;
	if (packed)
		return (uint16_t)(q->last_avail_idx | ((uint16_t)q->avail_wrap << 15));
	return q->last_avail_idx;
}

bool
vrq_is_started(const struct vrq *q)
{
	return q->started;
}

bool
vrq_is_broken(const struct vrq *q)
{
	return __atomic_load_n(&q->broken, __ATOMIC_RELAXED);
}

void
vrq_set_mem(struct vrq *q, const struct vrq_mem *mem)
{
	q->mem = mem;
	vrq_xlate_reset(q);
}

/*
 * vrq_xlate() outside the cached region: find the region, cache it, clamp
 * *len to its end. The table's regions do not overflow (vhost/ checks
 * them), so the cached one never wraps.
 */
void *
vrq_xlate_slow(struct vrq *q, uint64_t gpa, uint64_t *len)
{
	const struct vrq_mem *mem = q->mem;
	const struct vrq_mem_region *r;
	uint32_t i;

	if (unlikely(mem == NULL || gpa + *len < gpa))
		return NULL;
	for (i = 0; i < mem->nb_regions; i++) {
		r = &mem->regions[i];
		if (gpa - r->gpa < r->size) {
			q->xl_gpa = r->gpa;
			q->xl_size = r->size;
			q->xl_delta = r->hva - r->gpa;
			if (*len > r->size - (gpa - r->gpa))
				*len = r->size - (gpa - r->gpa);
			return (void *)(uintptr_t)(r->hva + (gpa - r->gpa));
		}
	}
	return NULL;
}

void
vrq_set_log(struct vrq *q, const struct vrq_log *log)
{
	q->log = log;
}

void
vrq_set_call_fd(struct vrq *q, int call_fd)
{
	q->call_fd = call_fd;
	q->notify_dead = false;
}

uint16_t
vrq_dequeue_burst(struct vrq *q, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	uint16_t n = 0;

	if (unlikely(!rte_spinlock_trylock(&q->lock))) {
		vrq_stat_add(q, VRQ_STAT_lock_busy, 1);
		return 0;
	}
	if (likely(q->started && !q->broken))
		n = q->dequeue(q, mp, pkts, nb_pkts);
	rte_spinlock_unlock(&q->lock);
	return n;
}

uint16_t
vrq_enqueue_burst(struct vrq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	uint16_t n = 0;

	if (unlikely(!rte_spinlock_trylock(&q->lock))) {
		vrq_stat_add(q, VRQ_STAT_lock_busy, 1);
		return 0;
	}
	if (likely(q->started && !q->broken))
		n = q->enqueue(q, pkts, nb_pkts);
	rte_spinlock_unlock(&q->lock);
	return n;
}

void
vrq_stats_get(const struct vrq *q, struct vrq_stats *st)
{
	unsigned int i;

	for (i = 0; i < VRQ_STAT_MAX; i++)
		st->v[i] = __atomic_load_n(&q->stats.v[i], __ATOMIC_RELAXED);
}

void
vrq_stats_reset(struct vrq *q)
{
	unsigned int i;

	for (i = 0; i < VRQ_STAT_MAX; i++)
		__atomic_store_n(&q->stats.v[i], 0, __ATOMIC_RELAXED);
}

/*
 * Only guest faults come here, so the log line is once per queue (until the
 * frontend resets the ring): a guest must not be able to flood the host log.
 */
uint16_t
vrq_fail(struct vrq *q, enum vrq_stat_id why)
{
	vrq_stat_add(q, why, 1);
	if (q->broken)
		return 0;
	__atomic_store_n(&q->broken, true, __ATOMIC_RELAXED);
	vrq_stat_add(q, VRQ_STAT_broken, 1);
	if (!q->fail_logged) {
		q->fail_logged = true;
		VRQ_LOG(ERR, q, "guest fault (%s), queue stopped until reset", vrq_stat_name(why));
	}
	/* Like Linux's vq_err: tell the frontend. Best effort; the counter is the record. */
	if (q->err_fd >= 0 && !q->notify_dead) {
		int ret = vrq_eventfd_write(q, q->err_fd);

		if (ret != 0) {
			vrq_stat_add(q, VRQ_STAT_guest_notify_err, 1);
			if (ret == -EINTR || ret == -EAGAIN)
				q->notify_dead = true;
		}
	}
	return 0;
}

/*
 * Reached at most once per queue per reason between two ring resets, so a
 * guest can produce at most VRQ_STAT_MAX lines per reset (see vrq_drop()).
 * WARNING, not ERR: the queue keeps running.
 */
__rte_cold void
vrq_drop_log(struct vrq *q, enum vrq_stat_id why)
{
	if ((unsigned int)why >= VRQ_STAT_MAX)
		return;
	q->drop_logged |= UINT64_C(1) << why;
	VRQ_LOG(WARNING, q,
		"guest chain dropped: %s (%s); more are only counted until a ring reset",
		vrq_stat_names[why], vrq_stat_descs[why]);
}

/*
 * The one syscall of the datapath. An eventfd write blocks only when the
 * counter would pass 2^64 - 2, which a frontend can arrange on purpose (and
 * clear O_NONBLOCK on the description it shares with us): vrq_eventfd_write()
 * bounds that, and a queue whose frontend did it is stopped for good.
 */
void
vrq_notify_guest(struct vrq *q)
{
	int ret;

	if (q->call_fd < 0 || unlikely(q->notify_dead))
		return;
	ret = vrq_eventfd_write(q, q->call_fd);
	if (likely(ret == 0)) {
		vrq_stat_add(q, VRQ_STAT_guest_notify, 1);
		return;
	}
	if (ret == -EINTR || ret == -EAGAIN) {
		q->notify_dead = true;
		vrq_fail(q, VRQ_STAT_guest_notify_err); /* counts it */
	} else {
		vrq_stat_add(q, VRQ_STAT_guest_notify_err, 1);
	}
}
