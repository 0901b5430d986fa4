/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed-ring driver of the synthetic guest (see vrq_guest_packed.h). Test
 * code: it trusts itself and checks only what a test could get wrong (ring
 * full, out of guest memory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>

#include "vrq_guest_packed.h"

int
vrq_guest_packed_init(struct vrq_guest_packed *p, struct vrq_guest *g, uint16_t size,
		      uint64_t features)
{
	uint32_t r_drv = g->nb_regions > 1 ? 1 : 0;
	uint32_t r_dev = g->nb_regions > 2 ? 2 : 0;
	size_t ev = sizeof(struct vrq_packed_event);

	memset(p, 0, sizeof(*p));
	p->g = g;
	p->size = size;
	p->features = features;
	p->call_fd = -1;
	p->avail_wrap = true; /* 2.8.1: both wrap counters start at 1 */
	p->used_wrap = true;
	p->nb_free = size;
	p->desc_gpa = vrq_guest_alloc_in(g, 0, vrq_packed_desc_bytes(size), 16);
	p->drv_event_gpa = vrq_guest_alloc_in(g, r_drv, ev, 4);
	p->dev_event_gpa = vrq_guest_alloc_in(g, r_dev, ev, 4);
	if (p->desc_gpa == 0 || p->drv_event_gpa == 0 || p->dev_event_gpa == 0)
		return -ENOMEM;
	p->desc = vrq_guest_gva(g, p->desc_gpa, vrq_packed_desc_bytes(size));
	p->drv_event = vrq_guest_gva(g, p->drv_event_gpa, ev);
	p->dev_event = vrq_guest_gva(g, p->dev_event_gpa, ev);
	memset(p->desc, 0, vrq_packed_desc_bytes(size));
	memset(p->drv_event, 0, ev);
	memset(p->dev_event, 0, ev);
	p->bufs = calloc(size, sizeof(*p->bufs));
	if (p->bufs == NULL)
		return -ENOMEM;
	p->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->call_fd < 0) {
		free(p->bufs);
		p->bufs = NULL;
		return -errno;
	}
	return 0;
}

void
vrq_guest_packed_fini(struct vrq_guest_packed *p)
{
	free(p->bufs);
	p->bufs = NULL;
	if (p->call_fd >= 0)
		close(p->call_fd);
	p->call_fd = -1;
}

void
vrq_guest_packed_setup(const struct vrq_guest_packed *p, struct vrq_setup *out)
{
	size_t ev = sizeof(struct vrq_packed_event);

	memset(out, 0, sizeof(*out));
	out->size = p->size;
	out->features = p->features | VRQ_FBIT(VRQ_F_RING_PACKED);
	out->desc_hva = vrq_guest_hva(p->g, p->desc_gpa, vrq_packed_desc_bytes(p->size));
	out->avail_hva = vrq_guest_hva(p->g, p->drv_event_gpa, ev);
	out->used_hva = vrq_guest_hva(p->g, p->dev_event_gpa, ev);
	out->used_gpa = p->dev_event_gpa;
	out->log_used = false;
	out->base = (uint16_t)(p->avail_idx | (p->avail_wrap ? 0x8000 : 0));
	out->call_fd = p->call_fd;
	out->err_fd = -1;
}

uint16_t
vrq_guest_packed_avail_flags(bool wrap)
{
	return wrap ? VRQ_DESC_F_AVAIL : VRQ_DESC_F_USED;
}

static void
vrq_guest_packed_write(struct vrq_packed_desc *d, uint64_t addr, uint32_t len, uint16_t id,
		       uint16_t flags)
{
	d->addr = rte_cpu_to_le_64(addr);
	d->len = rte_cpu_to_le_32(len);
	d->id = rte_cpu_to_le_16(id);
	/* 2.8.6: flags last, so the device never sees a half-written descriptor. */
	__atomic_store_n(&d->flags, rte_cpu_to_le_16(flags), __ATOMIC_RELEASE);
}

void
vrq_guest_packed_desc_set(struct vrq_guest_packed *p, uint16_t slot, uint64_t addr, uint32_t len,
			  uint16_t id, uint16_t flags)
{
	vrq_guest_packed_write(&p->desc[slot % p->size], addr, len, id, flags);
}

void
vrq_guest_packed_desc_get(const struct vrq_guest_packed *p, uint16_t slot,
			  struct vrq_packed_desc *out)
{
	const struct vrq_packed_desc *d = &p->desc[slot % p->size];

	out->flags = rte_le_to_cpu_16(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));
	out->addr = rte_le_to_cpu_64(d->addr);
	out->len = rte_le_to_cpu_32(d->len);
	out->id = rte_le_to_cpu_16(d->id);
}

void
vrq_guest_packed_publish(struct vrq_guest_packed *p, uint16_t slot, uint16_t flags)
{
	__atomic_store_n(&p->desc[slot % p->size].flags, rte_cpu_to_le_16(flags), __ATOMIC_RELEASE);
}

static int
vrq_guest_packed_id_alloc(struct vrq_guest_packed *p)
{
	uint16_t i;

	for (i = 0; i < p->size; i++) {
		uint16_t id = (uint16_t)((p->next_id + i) % p->size);

		if (!p->bufs[id].in_use) {
			p->next_id = (uint16_t)((id + 1) % p->size);
			return id;
		}
	}
	return -ENOSPC;
}

int
vrq_guest_packed_add(struct vrq_guest_packed *p, const struct vrq_guest_seg *segs, uint16_t nb,
		     unsigned int opts)
{
	struct vrq_guest_packed_buf *b;
	uint16_t i, nb_desc, slot, head_slot, head_flags = 0;
	bool wrap;
	int id;

	if (nb == 0 || nb > VRQ_GUEST_CHAIN_MAX)
		return -EINVAL;
	nb_desc = (opts & VRQ_GUEST_INDIRECT) ? 1 : nb;
	if (nb_desc > p->nb_free)
		return -ENOSPC;
	id = vrq_guest_packed_id_alloc(p);
	if (id < 0)
		return id;
	b = &p->bufs[id];
	b->chain.nb = nb;
	for (i = 0; i < nb; i++) {
		b->chain.len[i] = segs[i].len;
		b->chain.gpa[i] =
		    segs[i].gpa != 0 ? segs[i].gpa : vrq_guest_alloc(p->g, segs[i].len, 8);
		if (b->chain.gpa[i] == 0)
			return -ENOMEM;
	}
	head_slot = slot = p->avail_idx;
	wrap = p->avail_wrap;
	if (opts & VRQ_GUEST_INDIRECT) {
		uint64_t bytes = (uint64_t)nb * sizeof(struct vrq_packed_desc);
		uint64_t tbl_gpa = p->ind_gpa != 0 ? p->ind_gpa : vrq_guest_alloc(p->g, bytes, 16);
		struct vrq_packed_desc e;

		if (tbl_gpa == 0)
			return -ENOMEM;
		/* Through vrq_guest_write: the table may straddle touching regions. */
		for (i = 0; i < nb; i++) {
			uint16_t f = segs[i].flags & (VRQ_DESC_F_WRITE | VRQ_DESC_F_INDIRECT);

			/* INDIRECT passes through: hostile tests nest tables. */
			if ((opts & VRQ_GUEST_PMD_TABLE) && i == 0)
				f = VRQ_DESC_F_WRITE;
			else if (opts & VRQ_GUEST_PMD_TABLE)
				f = (uint16_t)((i + 1 < nb ? VRQ_DESC_F_NEXT : 0) |
					       vrq_guest_packed_avail_flags(wrap));
			e.addr = rte_cpu_to_le_64(b->chain.gpa[i]);
			e.len = rte_cpu_to_le_32(b->chain.len[i]);
			e.id = rte_cpu_to_le_16(
			    (opts & VRQ_GUEST_PMD_TABLE) && i + 1 == nb ? (uint16_t)id : 0);
			e.flags = rte_cpu_to_le_16(f);
			if (vrq_guest_write(p->g, tbl_gpa + (uint64_t)i * sizeof(e), &e,
					    sizeof(e)) != 0)
				return -EFAULT;
		}
		p->ind_gpa = 0;
		head_flags = VRQ_DESC_F_INDIRECT | vrq_guest_packed_avail_flags(wrap);
		p->desc[slot].addr = rte_cpu_to_le_64(tbl_gpa);
		p->desc[slot].len = rte_cpu_to_le_32((uint32_t)bytes);
		p->desc[slot].id = rte_cpu_to_le_16((uint16_t)id);
	} else {
		for (i = 0; i < nb; i++) {
			uint16_t f =
			    (uint16_t)((segs[i].flags & (VRQ_DESC_F_WRITE | VRQ_DESC_F_INDIRECT)) |
				       (i + 1 < nb ? VRQ_DESC_F_NEXT : 0) |
				       vrq_guest_packed_avail_flags(wrap));

			if (i == 0) {
				/* The head's flags go last (below). */
				head_flags = f;
				p->desc[slot].addr = rte_cpu_to_le_64(b->chain.gpa[i]);
				p->desc[slot].len = rte_cpu_to_le_32(b->chain.len[i]);
				p->desc[slot].id = rte_cpu_to_le_16((uint16_t)id);
			} else {
				vrq_guest_packed_write(&p->desc[slot], b->chain.gpa[i],
						       b->chain.len[i], (uint16_t)id, f);
			}
			if (++slot == p->size) {
				slot = 0;
				wrap = !wrap;
			}
		}
	}
	b->in_use = true;
	b->nb_desc = nb_desc;
	p->nb_free = (uint16_t)(p->nb_free - nb_desc);
	p->avail_idx = (uint16_t)(p->avail_idx + nb_desc);
	if (p->avail_idx >= p->size) {
		p->avail_idx = (uint16_t)(p->avail_idx - p->size);
		p->avail_wrap = !p->avail_wrap;
	}
	if (!(opts & VRQ_GUEST_NO_PUBLISH))
		vrq_guest_packed_publish(p, head_slot, head_flags);
	return id;
}

int
vrq_guest_packed_post_tx(struct vrq_guest_packed *p, const void *frame, size_t len,
			 const uint32_t *seg_lens, uint16_t nb, unsigned int opts)
{
	static struct vrq_guest_seg segs[VRQ_GUEST_CHAIN_MAX];
	int ret = vrq_guest_segs_tx(p->g, frame, len, seg_lens, nb, segs);

	return ret < 0 ? ret : vrq_guest_packed_add(p, segs, nb, opts);
}

int
vrq_guest_packed_post_rx(struct vrq_guest_packed *p, const uint32_t *seg_lens, uint16_t nb,
			 unsigned int opts)
{
	static struct vrq_guest_seg segs[VRQ_GUEST_CHAIN_MAX];
	int ret = vrq_guest_segs_rx(p->g, seg_lens, nb, segs);

	return ret < 0 ? ret : vrq_guest_packed_add(p, segs, nb, opts);
}

int
vrq_guest_packed_used_get(struct vrq_guest_packed *p, uint16_t *id, uint32_t *len)
{
	struct vrq_packed_desc *d = &p->desc[p->used_idx];
	uint16_t flags = rte_le_to_cpu_16(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));
	bool a = !!(flags & VRQ_DESC_F_AVAIL), u = !!(flags & VRQ_DESC_F_USED);
	uint16_t n = 1;

	/* 2.8.7: used in this lap when AVAIL == USED == the used wrap counter. */
	if (a != u || u != p->used_wrap)
		return 0;
	*id = rte_le_to_cpu_16(d->id);
	*len = rte_le_to_cpu_32(d->len);
	if (*id < p->size && p->bufs[*id].in_use) {
		n = p->bufs[*id].nb_desc;
		p->bufs[*id].in_use = false;
	}
	p->nb_free = (uint16_t)(p->nb_free + n);
	p->used_idx = (uint16_t)(p->used_idx + n);
	if (p->used_idx >= p->size) {
		p->used_idx = (uint16_t)(p->used_idx - p->size);
		p->used_wrap = !p->used_wrap;
	}
	return 1;
}

int
vrq_guest_packed_chain_read(const struct vrq_guest_packed *p, uint16_t id, void *buf, size_t len)
{
	const struct vrq_guest_chain *c;
	size_t off = 0;
	uint16_t i;

	if (id >= p->size)
		return -EINVAL;
	c = &p->bufs[id].chain;
	for (i = 0; i < c->nb && off < len; i++) {
		size_t n = RTE_MIN((size_t)c->len[i], len - off);

		if (vrq_guest_read(p->g, c->gpa[i], (uint8_t *)buf + off, n) != 0)
			return -EFAULT;
		off += n;
	}
	return (int)off;
}

void
vrq_guest_packed_event_set(struct vrq_guest_packed *p, uint16_t flags, uint16_t off_wrap)
{
	__atomic_store_n(&p->drv_event->off_wrap, rte_cpu_to_le_16(off_wrap), __ATOMIC_RELAXED);
	__atomic_store_n(&p->drv_event->flags, rte_cpu_to_le_16(flags), __ATOMIC_SEQ_CST);
}

uint16_t
vrq_guest_packed_dev_event_flags(const struct vrq_guest_packed *p)
{
	return rte_le_to_cpu_16(__atomic_load_n(&p->dev_event->flags, __ATOMIC_ACQUIRE));
}

uint64_t
vrq_guest_packed_calls(struct vrq_guest_packed *p)
{
	uint64_t v;

	if (read(p->call_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		p->nb_calls += v;
	return p->nb_calls;
}
