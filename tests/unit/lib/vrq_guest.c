/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic guest for the virtio_ring tests (see vrq_guest.h): memfd guest
 * RAM mapped twice, and a split-ring driver the tests drive by hand. This is
 * test code: it trusts itself and checks only what a test could get wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "vrq_guest.h"

/*
 * Gaps between regions 0, 1 and 2 (VRQ_GUEST_GAP_GPA sits in one); region 3
 * starts where region 2 ends, so a buffer can straddle two mappings.
 */
static const struct vrq_guest_region_spec vrq_guest_default_layout[] = {
    {0x100000, 0x200000},  /* 1 MiB .. 3 MiB */
    {0x800000, 0x400000},  /* 8 MiB .. 12 MiB */
    {0x1000000, 0x400000}, /* 16 MiB .. 20 MiB */
    {0x1400000, 0x100000}, /* 20 MiB .. 21 MiB, touches region 2 */
};

static void
vrq_guest_region_unmap(struct vrq_guest_region *r)
{
	if (r->gva != NULL && r->gva != MAP_FAILED)
		munmap(r->gva, r->size);
	if (r->hva != NULL && r->hva != MAP_FAILED)
		munmap(r->hva, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->gva = r->hva = NULL;
	r->fd = -1;
}

int
vrq_guest_init(struct vrq_guest *g, const struct vrq_guest_region_spec *spec, uint32_t nb)
{
	uint32_t i;

	memset(g, 0, sizeof(*g));
	if (nb == 0 || nb > VRQ_GUEST_REGIONS_MAX)
		return -EINVAL;
	for (i = 0; i < nb; i++) {
		struct vrq_guest_region *r = &g->regions[i];

		r->fd = memfd_create("vrq_guest", MFD_CLOEXEC);
		r->gpa = spec[i].gpa;
		r->size = spec[i].size;
		g->nb_regions = i + 1;
		if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size) != 0)
			goto err;
		r->gva = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		r->hva = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (r->gva == MAP_FAILED || r->hva == MAP_FAILED)
			goto err;
		g->mem.regions[i].gpa = r->gpa;
		g->mem.regions[i].size = r->size;
		g->mem.regions[i].qva = 0x7f0000000000ULL + r->gpa; /* anything but hva */
		g->mem.regions[i].hva = (uint64_t)(uintptr_t)r->hva;
	}
	g->mem.nb_regions = nb;
	return 0;
err:
	vrq_guest_fini(g);
	return -errno;
}

int
vrq_guest_init_default(struct vrq_guest *g)
{
	return vrq_guest_init(g, vrq_guest_default_layout, RTE_DIM(vrq_guest_default_layout));
}

void
vrq_guest_fini(struct vrq_guest *g)
{
	uint32_t i;

	for (i = 0; i < g->nb_regions; i++)
		vrq_guest_region_unmap(&g->regions[i]);
	g->nb_regions = 0;
	g->mem.nb_regions = 0;
}

const struct vrq_mem *
vrq_guest_mem(const struct vrq_guest *g)
{
	return &g->mem;
}

static const struct vrq_guest_region *
vrq_guest_region_find(const struct vrq_guest *g, uint64_t gpa, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < g->nb_regions; i++) {
		const struct vrq_guest_region *r = &g->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

void *
vrq_guest_gva(const struct vrq_guest *g, uint64_t gpa, uint64_t len)
{
	const struct vrq_guest_region *r = vrq_guest_region_find(g, gpa, len);

	return r == NULL ? NULL : r->gva + (gpa - r->gpa);
}

void *
vrq_guest_hva(const struct vrq_guest *g, uint64_t gpa, uint64_t len)
{
	const struct vrq_guest_region *r = vrq_guest_region_find(g, gpa, len);

	return r == NULL ? NULL : r->hva + (gpa - r->gpa);
}

uint64_t
vrq_guest_alloc_in(struct vrq_guest *g, uint32_t region, uint64_t size, uint64_t align)
{
	struct vrq_guest_region *r;
	uint64_t off;

	if (region >= g->nb_regions || size == 0)
		return 0;
	r = &g->regions[region];
	if (align == 0)
		align = 1;
	off = RTE_ALIGN_CEIL(r->alloc_off, align);
	if (off > r->size || size > r->size - off)
		return 0;
	r->alloc_off = off + size;
	return r->gpa + off;
}

uint64_t
vrq_guest_alloc(struct vrq_guest *g, uint64_t size, uint64_t align)
{
	uint32_t tries;

	for (tries = 0; tries < g->nb_regions; tries++) {
		uint64_t gpa = vrq_guest_alloc_in(g, g->alloc_region, size, align);

		if (gpa != 0)
			return gpa;
		g->alloc_region = (g->alloc_region + 1) % g->nb_regions;
	}
	return 0;
}

void
vrq_guest_alloc_reset(struct vrq_guest *g)
{
	uint32_t i;

	for (i = 0; i < g->nb_regions; i++)
		g->regions[i].alloc_off = 0;
	g->alloc_region = 0;
}

/* Walk [gpa, gpa + len) across touching regions, one guest-view chunk at a time. */
static int
vrq_guest_walk(const struct vrq_guest *g, uint64_t gpa, size_t len,
	       void (*fn)(uint8_t *gva, size_t n, void *arg, size_t done), void *arg)
{
	size_t done = 0;

	while (done < len) {
		const struct vrq_guest_region *r = vrq_guest_region_find(g, gpa + done, 1);
		size_t n;

		if (r == NULL)
			return -EFAULT;
		n = RTE_MIN(len - done, (size_t)(r->size - (gpa + done - r->gpa)));
		fn(r->gva + (gpa + done - r->gpa), n, arg, done);
		done += n;
	}
	return 0;
}

static void
vrq_guest_write_fn(uint8_t *gva, size_t n, void *arg, size_t done)
{
	memcpy(gva, (const uint8_t *)arg + done, n);
}

static void
vrq_guest_read_fn(uint8_t *gva, size_t n, void *arg, size_t done)
{
	memcpy((uint8_t *)arg + done, gva, n);
}

static void
vrq_guest_fill_fn(uint8_t *gva, size_t n, void *arg, size_t done)
{
	RTE_SET_USED(done);
	memset(gva, *(const uint8_t *)arg, n);
}

int
vrq_guest_write(struct vrq_guest *g, uint64_t gpa, const void *src, size_t len)
{
	return vrq_guest_walk(g, gpa, len, vrq_guest_write_fn, (void *)(uintptr_t)src);
}

int
vrq_guest_read(const struct vrq_guest *g, uint64_t gpa, void *dst, size_t len)
{
	return vrq_guest_walk(g, gpa, len, vrq_guest_read_fn, dst);
}

int
vrq_guest_fill(struct vrq_guest *g, uint64_t gpa, uint8_t byte, size_t len)
{
	return vrq_guest_walk(g, gpa, len, vrq_guest_fill_fn, &byte);
}

/* ---- Split-ring driver ---- */

int
vrq_guest_split_init(struct vrq_guest_split *s, struct vrq_guest *g, uint16_t size,
		     uint64_t features)
{
	uint32_t r_avail = g->nb_regions > 1 ? 1 : 0;
	uint32_t r_used = g->nb_regions > 2 ? 2 : 0;

	memset(s, 0, sizeof(*s));
	s->g = g;
	s->size = size;
	s->features = features;
	s->call_fd = -1;
	s->desc_gpa = vrq_guest_alloc_in(g, 0, vrq_split_desc_bytes(size), 16);
	s->avail_gpa = vrq_guest_alloc_in(g, r_avail, vrq_split_avail_bytes(size), 2);
	s->used_gpa = vrq_guest_alloc_in(g, r_used, vrq_split_used_bytes(size), 4);
	if (s->desc_gpa == 0 || s->avail_gpa == 0 || s->used_gpa == 0)
		return -ENOMEM;
	s->desc = vrq_guest_gva(g, s->desc_gpa, vrq_split_desc_bytes(size));
	s->avail = vrq_guest_gva(g, s->avail_gpa, vrq_split_avail_bytes(size));
	s->used = vrq_guest_gva(g, s->used_gpa, vrq_split_used_bytes(size));
	memset(s->desc, 0, vrq_split_desc_bytes(size));
	memset(s->avail, 0, vrq_split_avail_bytes(size));
	memset(s->used, 0, vrq_split_used_bytes(size));
	s->chains = calloc(size, sizeof(*s->chains));
	if (s->chains == NULL)
		return -ENOMEM;
	s->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->call_fd < 0) {
		free(s->chains);
		s->chains = NULL;
		return -errno;
	}
	return 0;
}

void
vrq_guest_split_fini(struct vrq_guest_split *s)
{
	free(s->chains);
	s->chains = NULL;
	if (s->call_fd >= 0)
		close(s->call_fd);
	s->call_fd = -1;
}

void
vrq_guest_split_setup(const struct vrq_guest_split *s, struct vrq_setup *out)
{
	memset(out, 0, sizeof(*out));
	out->size = s->size;
	out->features = s->features;
	out->desc_hva = vrq_guest_hva(s->g, s->desc_gpa, vrq_split_desc_bytes(s->size));
	out->avail_hva = vrq_guest_hva(s->g, s->avail_gpa, vrq_split_avail_bytes(s->size));
	out->used_hva = vrq_guest_hva(s->g, s->used_gpa, vrq_split_used_bytes(s->size));
	out->used_gpa = s->used_gpa;
	out->log_used = false;
	out->base = 0;
	out->call_fd = s->call_fd;
	out->err_fd = -1;
}

static void
vrq_guest_desc_write(struct vrq_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = rte_cpu_to_le_64(addr);
	d->len = rte_cpu_to_le_32(len);
	d->flags = rte_cpu_to_le_16(flags);
	d->next = rte_cpu_to_le_16(next);
}

void
vrq_guest_split_desc_set(struct vrq_guest_split *s, uint16_t i, uint64_t addr, uint32_t len,
			 uint16_t flags, uint16_t next)
{
	vrq_guest_desc_write(&s->desc[i % s->size], addr, len, flags, next);
}

void
vrq_guest_split_avail_push(struct vrq_guest_split *s, uint16_t head)
{
	s->avail->ring[s->avail_idx & (s->size - 1)] = rte_cpu_to_le_16(head);
	s->avail_idx++;
}

void
vrq_guest_split_publish(struct vrq_guest_split *s)
{
	__atomic_store_n(&s->avail->idx, rte_cpu_to_le_16(s->avail_idx), __ATOMIC_RELEASE);
}

void
vrq_guest_split_avail_idx_set(struct vrq_guest_split *s, uint16_t idx)
{
	__atomic_store_n(&s->avail->idx, rte_cpu_to_le_16(idx), __ATOMIC_RELEASE);
}

int
vrq_guest_split_add(struct vrq_guest_split *s, const struct vrq_guest_seg *segs, uint16_t nb,
		    unsigned int opts)
{
	struct vrq_guest_chain chain;
	uint16_t head, i;

	if (nb == 0 || nb > VRQ_GUEST_CHAIN_MAX)
		return -EINVAL;
	if (!(opts & VRQ_GUEST_INDIRECT) && nb > s->size)
		return -ENOSPC;
	chain.nb = nb;
	for (i = 0; i < nb; i++) {
		chain.len[i] = segs[i].len;
		chain.gpa[i] =
		    segs[i].gpa != 0 ? segs[i].gpa : vrq_guest_alloc(s->g, segs[i].len, 8);
		if (chain.gpa[i] == 0)
			return -ENOMEM;
	}
	head = s->next_desc;
	if (opts & VRQ_GUEST_INDIRECT) {
		uint64_t tbl_gpa =
		    vrq_guest_alloc(s->g, (uint64_t)nb * sizeof(struct vrq_desc), 16);
		struct vrq_desc *tbl;

		if (tbl_gpa == 0)
			return -ENOMEM;
		tbl = vrq_guest_gva(s->g, tbl_gpa, (uint64_t)nb * sizeof(struct vrq_desc));
		for (i = 0; i < nb; i++)
			vrq_guest_desc_write(&tbl[i], chain.gpa[i], chain.len[i],
					     segs[i].flags | (i + 1 < nb ? VRQ_DESC_F_NEXT : 0),
					     i + 1 < nb ? i + 1 : 0);
		vrq_guest_split_desc_set(s, head, tbl_gpa, nb * sizeof(struct vrq_desc),
					 VRQ_DESC_F_INDIRECT, 0);
		s->next_desc = (uint16_t)((head + 1) % s->size);
	} else {
		for (i = 0; i < nb; i++) {
			uint16_t id = (uint16_t)((head + i) % s->size);
			uint16_t next = (uint16_t)((id + 1) % s->size);

			vrq_guest_split_desc_set(s, id, chain.gpa[i], chain.len[i],
						 segs[i].flags | (i + 1 < nb ? VRQ_DESC_F_NEXT : 0),
						 i + 1 < nb ? next : 0);
		}
		s->next_desc = (uint16_t)((head + nb) % s->size);
	}
	s->chains[head] = chain;
	vrq_guest_split_avail_push(s, head);
	if (!(opts & VRQ_GUEST_NO_PUBLISH))
		vrq_guest_split_publish(s);
	return head;
}

int
vrq_guest_segs_tx(struct vrq_guest *g, const void *frame, size_t len, const uint32_t *seg_lens,
		  uint16_t nb, struct vrq_guest_seg *segs)
{
	size_t off = 0;
	uint16_t i;

	if (nb == 0 || nb > VRQ_GUEST_CHAIN_MAX)
		return -EINVAL;
	for (i = 0; i < nb; i++) {
		segs[i].len = seg_lens[i];
		segs[i].flags = 0;
		segs[i].gpa = vrq_guest_alloc(g, seg_lens[i], 8);
		if (segs[i].gpa == 0)
			return -ENOMEM;
		if (off < len) {
			size_t n = RTE_MIN((size_t)seg_lens[i], len - off);

			if (vrq_guest_write(g, segs[i].gpa, (const uint8_t *)frame + off, n) != 0)
				return -EFAULT;
			off += n;
		}
	}
	return off == len ? 0 : -EINVAL;
}

int
vrq_guest_segs_rx(struct vrq_guest *g, const uint32_t *seg_lens, uint16_t nb,
		  struct vrq_guest_seg *segs)
{
	uint16_t i;

	if (nb == 0 || nb > VRQ_GUEST_CHAIN_MAX)
		return -EINVAL;
	for (i = 0; i < nb; i++) {
		segs[i].len = seg_lens[i];
		segs[i].flags = VRQ_DESC_F_WRITE;
		segs[i].gpa = vrq_guest_alloc(g, seg_lens[i], 8);
		if (segs[i].gpa == 0)
			return -ENOMEM;
		/* Poison, so that bytes the backend did not write are visible. */
		vrq_guest_fill(g, segs[i].gpa, 0xa5, seg_lens[i]);
	}
	return 0;
}

int
vrq_guest_split_post_tx(struct vrq_guest_split *s, const void *frame, size_t len,
			const uint32_t *seg_lens, uint16_t nb, unsigned int opts)
{
	struct vrq_guest_seg segs[VRQ_GUEST_CHAIN_MAX];
	int ret = vrq_guest_segs_tx(s->g, frame, len, seg_lens, nb, segs);

	return ret < 0 ? ret : vrq_guest_split_add(s, segs, nb, opts);
}

int
vrq_guest_split_post_rx(struct vrq_guest_split *s, const uint32_t *seg_lens, uint16_t nb,
			unsigned int opts)
{
	struct vrq_guest_seg segs[VRQ_GUEST_CHAIN_MAX];
	int ret = vrq_guest_segs_rx(s->g, seg_lens, nb, segs);

	return ret < 0 ? ret : vrq_guest_split_add(s, segs, nb, opts);
}

uint16_t
vrq_guest_split_used_idx(const struct vrq_guest_split *s)
{
	return rte_le_to_cpu_16(__atomic_load_n(&s->used->idx, __ATOMIC_ACQUIRE));
}

int
vrq_guest_split_used_get(struct vrq_guest_split *s, uint32_t *id, uint32_t *len)
{
	uint16_t slot;

	if (vrq_guest_split_used_idx(s) == s->used_idx)
		return 0;
	slot = s->used_idx & (s->size - 1);
	*id = rte_le_to_cpu_32(s->used->ring[slot].id);
	*len = rte_le_to_cpu_32(s->used->ring[slot].len);
	s->used_idx++;
	return 1;
}

int
vrq_guest_split_chain_read(const struct vrq_guest_split *s, uint16_t head, void *buf, size_t len)
{
	const struct vrq_guest_chain *c;
	size_t off = 0;
	uint16_t i;

	if (head >= s->size)
		return -EINVAL;
	c = &s->chains[head];
	for (i = 0; i < c->nb && off < len; i++) {
		size_t n = RTE_MIN((size_t)c->len[i], len - off);

		if (vrq_guest_read(s->g, c->gpa[i], (uint8_t *)buf + off, n) != 0)
			return -EFAULT;
		off += n;
	}
	return (int)off;
}

void
vrq_guest_split_no_interrupt(struct vrq_guest_split *s, bool on)
{
	s->avail->flags = rte_cpu_to_le_16(on ? VRQ_AVAIL_F_NO_INTERRUPT : 0);
}

void
vrq_guest_split_used_event_set(struct vrq_guest_split *s, uint16_t idx)
{
	__atomic_store_n(&s->avail->ring[s->size], rte_cpu_to_le_16(idx), __ATOMIC_SEQ_CST);
}

uint16_t
vrq_guest_split_avail_event(const struct vrq_guest_split *s)
{
	const rte_le16_t *ev = (const rte_le16_t *)&s->used->ring[s->size];

	return rte_le_to_cpu_16(__atomic_load_n(ev, __ATOMIC_RELAXED));
}

uint16_t
vrq_guest_split_used_flags(const struct vrq_guest_split *s)
{
	return rte_le_to_cpu_16(__atomic_load_n(&s->used->flags, __ATOMIC_RELAXED));
}

uint64_t
vrq_guest_split_calls(struct vrq_guest_split *s)
{
	uint64_t v;

	if (read(s->call_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		s->nb_calls += v;
	return s->nb_calls;
}

uint32_t
vrq_guest_csum_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

uint16_t
vrq_guest_csum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

struct rte_mempool *
vrq_guest_eal_init_log(const char *name, const char *prefix, const char *mem_mb,
		       const char *log_level, unsigned int nb_mbufs, uint16_t buf_size)
{
	const char *argv[] = {name,   "--no-huge",     "--no-pci", "--no-shconf", "-m",
			      mem_mb, "--file-prefix", prefix,     "--log-level", log_level};

	if (rte_eal_init((int)RTE_DIM(argv), (char **)(uintptr_t)argv) < 0)
		return NULL;
	return rte_pktmbuf_pool_create(prefix, nb_mbufs, 0, 0, buf_size, SOCKET_ID_ANY);
}

struct rte_mempool *
vrq_guest_eal_init(const char *prefix, const char *mem_mb, unsigned int nb_mbufs, uint16_t buf_size)
{
	return vrq_guest_eal_init_log("test", prefix, mem_mb, "*:error", nb_mbufs, buf_size);
}

void
vrq_guest_eal_fini(struct rte_mempool *mp)
{
	rte_mempool_free(mp);
	rte_eal_cleanup();
}

static FILE *vrq_guest_log_old, *vrq_guest_log_mem;
static char *vrq_guest_log_buf;
static size_t vrq_guest_log_len;
static int vrq_guest_log_type = -1, vrq_guest_log_level;

int
vrq_guest_log_begin(const char *type_name, uint32_t level)
{
	/* Registering an existing name returns its id. */
	vrq_guest_log_type = rte_log_register(type_name);
	if (vrq_guest_log_type < 0)
		return vrq_guest_log_type;
	vrq_guest_log_level = rte_log_get_level((uint32_t)vrq_guest_log_type);
	vrq_guest_log_mem = open_memstream(&vrq_guest_log_buf, &vrq_guest_log_len);
	if (vrq_guest_log_mem == NULL)
		return -errno;
	vrq_guest_log_old = rte_log_get_stream();
	rte_openlog_stream(vrq_guest_log_mem);
	rte_log_set_level((uint32_t)vrq_guest_log_type, level);
	return 0;
}

unsigned int
vrq_guest_log_end(char **text)
{
	unsigned int lines = 0;
	const char *p;

	rte_log_set_level((uint32_t)vrq_guest_log_type, (uint32_t)vrq_guest_log_level);
	rte_openlog_stream(vrq_guest_log_old);
	fclose(vrq_guest_log_mem);
	for (p = vrq_guest_log_buf; p != NULL && (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	if (text != NULL)
		*text = vrq_guest_log_buf;
	else
		free(vrq_guest_log_buf);
	vrq_guest_log_buf = NULL;
	return lines;
}
