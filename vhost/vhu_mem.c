/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: SET_MEM_TABLE, ADD_MEM_REG / REM_MEM_REG, GET_MAX_MEM_SLOTS,
 * qva -> hva translation of ring addresses, and the dirty log of
 * SET_LOG_BASE.
 *
 * Security model: region descriptions and fds come from the frontend and are
 * hostile. A table is validated as a whole (count, non-zero sizes, no
 * overflow of gpa/qva/offset + size, no gpa overlap, a file at least
 * offset + size long) before anything is mapped. New mappings are made
 * outside any queue lock, published to each queue under its lock (which
 * waits for the datapath to leave the queue), and only then are the old
 * mappings unmapped (VPP's order, STYLE.md 2.6 rule 7).
 *
 * A frontend can still shrink a file after we mapped it (guest memory or
 * the dirty log): the next access raises SIGBUS. Our SIGBUS handler looks
 * the address up in a lock-free table of those mappings, maps a zero page
 * over the faulting page so the access completes, and flags the owning
 * socket; the control thread then drops that device. Faults outside our
 * mappings go to the previous handler. The teardown unmaps only after taking
 * every queue lock, and the datapath touches guest memory only inside a burst
 * under its queue lock, so the faulting access always completes on the zero
 * page before the unmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <rte_common.h>

#include "vhu_internal.h"

/* Guest mappings of all sockets: 64 sockets x 64 regions. */
#define VHU_SIGBUS_RANGES_MAX 4096

enum { VHU_RANGE_FREE, VHU_RANGE_BUSY, VHU_RANGE_LIVE };

struct vhu_sigbus_range {
	uintptr_t start;
	uintptr_t end;
	uintptr_t pgsz;
	uint32_t slot; /* owning socket */
	int state;
	int hit;
};

static struct vhu_sigbus_range vhu_ranges[VHU_SIGBUS_RANGES_MAX];
static struct sigaction vhu_sigbus_prev; /* SIG_DFL until installed */

static void
vhu_sigbus_handler(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr, page;
	int saved_errno = errno;
	unsigned int i;

	for (i = 0; i < VHU_SIGBUS_RANGES_MAX; i++) {
		struct vhu_sigbus_range *r = &vhu_ranges[i];

		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != VHU_RANGE_LIVE)
			continue;
		if (a < r->start || a >= r->end)
			continue;
		page = r->start + ((a - r->start) & ~(r->pgsz - 1));
		/* mmap is async-signal-safe in practice on Linux (a raw syscall). */
		if (mmap((void *)page, r->pgsz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		__atomic_store_n(&r->hit, 1, __ATOMIC_RELEASE);
		vhu_ctl_wake_async();
		errno = saved_errno;
		return;
	}
	errno = saved_errno;
	if (vhu_sigbus_prev.sa_flags & SA_SIGINFO) {
		vhu_sigbus_prev.sa_sigaction(sig, si, uctx);
	} else if (vhu_sigbus_prev.sa_handler != SIG_DFL && vhu_sigbus_prev.sa_handler != SIG_IGN) {
		vhu_sigbus_prev.sa_handler(sig);
	} else {
		/* Not ours: let the faulting access run again under the default action. */
		signal(SIGBUS, SIG_DFL);
	}
}

/*
 * Called for every new socket (API mutex held). Re-installs the handler when
 * someone replaced it since (a library, a test framework), chaining to the
 * replacement for faults that are not ours.
 */
int
vhu_mem_sigbus_init(void)
{
	struct sigaction sa, cur;

	if (sigaction(SIGBUS, NULL, &cur) < 0)
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == vhu_sigbus_handler)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vhu_sigbus_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	/* Our own handler restored without SA_SIGINFO must not become the one we chain to. */
	if (cur.sa_sigaction != vhu_sigbus_handler)
		vhu_sigbus_prev = cur;
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int
vhu_sigbus_add(uint32_t slot, void *addr, size_t len, size_t pgsz)
{
	unsigned int i;
	int expect;

	for (i = 0; i < VHU_SIGBUS_RANGES_MAX; i++) {
		struct vhu_sigbus_range *r = &vhu_ranges[i];

		expect = VHU_RANGE_FREE;
		if (!__atomic_compare_exchange_n(&r->state, &expect, VHU_RANGE_BUSY, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		r->start = (uintptr_t)addr;
		r->end = (uintptr_t)addr + len;
		r->pgsz = pgsz;
		r->slot = slot;
		r->hit = 0;
		__atomic_store_n(&r->state, VHU_RANGE_LIVE, __ATOMIC_RELEASE);
		return (int)i;
	}
	return -ENOSPC;
}

static void
vhu_sigbus_del(int i)
{
	if (i >= 0)
		__atomic_store_n(&vhu_ranges[i].state, VHU_RANGE_FREE, __ATOMIC_RELEASE);
}

int
vhu_mem_sigbus_next(void)
{
	unsigned int i;

	for (i = 0; i < VHU_SIGBUS_RANGES_MAX; i++) {
		struct vhu_sigbus_range *r = &vhu_ranges[i];

		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != VHU_RANGE_LIVE)
			continue;
		if (__atomic_exchange_n(&r->hit, 0, __ATOMIC_ACQ_REL) != 0)
			return (int)r->slot;
	}
	return -1;
}

void *
vhu_mem_qva_to_hva(const struct vrq_mem *mem, uint64_t qva, uint64_t len)
{
	const struct vrq_mem_region *r;
	uint32_t i;

	if (mem == NULL || len == 0)
		return NULL;
	for (i = 0; i < mem->nb_regions; i++) {
		r = &mem->regions[i];
		/* Unsigned differences: no overflow whatever qva and len are. */
		if (qva - r->qva < r->size && len <= r->size - (qva - r->qva))
			return (void *)(uintptr_t)(r->hva + (qva - r->qva));
	}
	return NULL;
}

static void
vhu_map_release(struct vhu_map *m)
{
	vhu_sigbus_del(m->range);
	m->range = -1;
	if (m->addr != NULL)
		munmap(m->addr, m->len);
	m->addr = NULL;
}

/* Page size of the file's mapping: hugetlbfs needs huge-page aligned offsets and lengths. */
static uint64_t
vhu_fd_page_size(int fd)
{
	struct statfs sfs;
	long pg = sysconf(_SC_PAGESIZE);

	if (fstatfs(fd, &sfs) == 0 && (uint32_t)sfs.f_type == HUGETLBFS_MAGIC && sfs.f_bsize > 0)
		return (uint64_t)sfs.f_bsize;
	return pg > 0 ? (uint64_t)pg : 4096;
}

/*
 * Map [offset, offset + size) of @p fd (guest memory or the dirty log, named
 * by @p what) after checking the file is long enough, guarded against the
 * frontend shrinking the file under the datapath: sealed where the file
 * allows it (needs MFD_ALLOW_SEALING), and in the SIGBUS range table (*range).
 */
static int
vhu_mmap_file(struct vhu_dev *dev, int fd, uint64_t offset, uint64_t size, const char *what,
	      void **addr, size_t *map_len, uint64_t *delta, struct stat *st, int *range)
{
	uint64_t pgsz, map_off, len;
	void *p;
	int rc;

	*range = -1;
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode)) {
		vhu_peer_log(dev, "memory fd is not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st->st_size < offset + size) {
		vhu_peer_log(dev, "memory file of %" PRIu64 " bytes is shorter than %" PRIu64,
			     (uint64_t)st->st_size, offset + size);
		return -EINVAL;
	}
	pgsz = vhu_fd_page_size(fd);
	map_off = offset & ~(pgsz - 1);
	*delta = offset - map_off;
	len = RTE_ALIGN_CEIL(size + *delta, pgsz);
	if (len < size || len > SIZE_MAX)
		return -EINVAL;
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map_off);
	if (p == MAP_FAILED) {
		vhu_peer_log(dev, "mmap of %" PRIu64 " bytes failed: %s", len, strerror(errno));
		return -ENOMEM;
	}
	/* Guest RAM has no place in our core dumps. */
	madvise(p, (size_t)len, MADV_DONTDUMP);
	rc = vhu_sigbus_add(dev->s->slot, p, (size_t)len, (size_t)pgsz);
	if (rc < 0) {
		VHU_LOG(ERR, dev->s, "no room left to watch %s for SIGBUS", what);
		munmap(p, (size_t)len);
		return rc;
	}
	*range = rc;
	*addr = p;
	*map_len = (size_t)len;
	return 0;
}

static int
vhu_map_region(struct vhu_dev *dev, const struct vhu_mem_region_msg *r, int fd, struct vhu_map *m)
{
	struct stat st;
	uint64_t delta = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	m->range = -1;
	rc = vhu_mmap_file(dev, fd, r->mmap_offset, r->size, "guest memory", &m->addr, &m->len,
			   &delta, &st, &m->range);
	if (rc < 0)
		return rc;
	m->gpa = r->gpa;
	m->size = r->size;
	m->qva = r->qva;
	m->offset = r->mmap_offset;
	m->hva = (uint64_t)(uintptr_t)m->addr + delta;
	m->st_dev = st.st_dev;
	m->st_ino = st.st_ino;
	return 0;
}

static bool
vhu_region_overflows(const struct vhu_mem_region_msg *r)
{
	return r->size == 0 || r->gpa + r->size < r->gpa || r->qva + r->size < r->qva ||
	       r->mmap_offset + r->size < r->mmap_offset;
}

static bool
vhu_ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	/* Lengths are non-zero and the ends do not overflow (checked before). */
	return a < b + b_len && b < a + a_len;
}

/*
 * Make @p maps the guest memory: publish a new table to every queue under its
 * lock (re-translating started rings), then unmap what is no longer used.
 * Takes ownership of @p maps entries on success.
 */
static int
vhu_mem_install(struct vhu_dev *dev, const struct vhu_map *maps, uint32_t nb)
{
	struct vhu_map old_maps[VRQ_MEM_REGIONS_MAX];
	struct vrq_mem *mem, *old_mem = dev->mem;
	uint32_t old_nb = dev->nb_maps, i, j;
	bool failed[VHU_NB_VQS_MAX] = {false};
	struct vhu_vq *vq;
	uint16_t q;

	mem = calloc(1, sizeof(*mem));
	if (mem == NULL)
		return -ENOMEM;
	mem->nb_regions = nb;
	for (i = 0; i < nb; i++) {
		mem->regions[i].gpa = maps[i].gpa;
		mem->regions[i].size = maps[i].size;
		mem->regions[i].qva = maps[i].qva;
		mem->regions[i].hva = maps[i].hva;
	}
	memcpy(old_maps, dev->maps, sizeof(old_maps[0]) * old_nb);
	memcpy(dev->maps, maps, sizeof(maps[0]) * nb);
	dev->nb_maps = nb;
	dev->mem = mem;
	for (q = 0; q < dev->s->nb_vrqs; q++) {
		vq = &dev->vqs[q];
		vrq_lock(vq->q);
		vrq_set_mem(vq->q, mem);
		if (vq->started)
			failed[q] = vhu_vq_restart_locked(dev, q) < 0;
		vrq_unlock(vq->q);
	}
	for (q = 0; q < dev->s->nb_vrqs; q++) {
		if (failed[q]) {
			vhu_peer_log(dev, "vring %u: not inside the new memory table, stopped", q);
			vhu_vq_stopped(dev, q, true);
		}
	}
	/* No queue can see the old table any more. */
	for (i = 0; i < old_nb; i++) {
		for (j = 0; j < nb; j++)
			if (maps[j].addr == old_maps[i].addr)
				break;
		if (j == nb)
			vhu_map_release(&old_maps[i]);
	}
	free(old_mem);
	vhu_stat_inc(dev->s, VHU_STAT_mem_tables);
	return 0;
}

/* @p m already maps region @p r: same ranges, and @p fd is the same file at the same offset. */
static bool
vhu_map_is(const struct vhu_map *m, const struct vhu_mem_region_msg *r, int fd)
{
	struct stat st;

	if (r->gpa != m->gpa || r->size != m->size || r->qva != m->qva ||
	    r->mmap_offset != m->offset)
		return false;
	return fstat(fd, &st) == 0 && st.st_dev == m->st_dev && st.st_ino == m->st_ino;
}

static bool
vhu_mem_same_table(const struct vhu_dev *dev, const struct vhu_mem_table_msg *t, const int *fds)
{
	uint32_t i;

	if (dev->mem == NULL || t->nb_regions != dev->nb_maps)
		return false;
	for (i = 0; i < t->nb_regions; i++)
		if (!vhu_map_is(&dev->maps[i], &t->regions[i], fds[i]))
			return false;
	return true;
}

int
vhu_set_mem_table(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_mem_table_msg *t = &msg->payload.mem;
	struct vhu_map maps[VHU_MEM_REGIONS_MSG_MAX];
	uint32_t n, i, j;
	int rc;

	if (msg->hdr.size < offsetof(struct vhu_mem_table_msg, regions)) {
		vhu_peer_log(dev, "SET_MEM_TABLE: payload of %u bytes", msg->hdr.size);
		return -EINVAL;
	}
	n = t->nb_regions;
	if (n == 0 || n > VHU_MEM_REGIONS_MSG_MAX || n != msg->nb_fds ||
	    msg->hdr.size != offsetof(struct vhu_mem_table_msg, regions) +
				 n * sizeof(struct vhu_mem_region_msg)) {
		vhu_peer_log(dev, "SET_MEM_TABLE: %u regions, %u fds, %u bytes", n, msg->nb_fds,
			     msg->hdr.size);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (vhu_region_overflows(&t->regions[i])) {
			vhu_peer_log(dev, "SET_MEM_TABLE: region %u is empty or overflows", i);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (vhu_ranges_overlap(t->regions[i].gpa, t->regions[i].size,
					       t->regions[j].gpa, t->regions[j].size)) {
				vhu_peer_log(dev, "SET_MEM_TABLE: regions %u and %u overlap", j, i);
				return -EINVAL;
			}
		}
	}
	/* QEMU sends the same table once per queue pair: keep the live mappings. */
	if (vhu_mem_same_table(dev, t, msg->fds))
		return 0;
	for (i = 0; i < n; i++) {
		rc = vhu_map_region(dev, &t->regions[i], msg->fds[i], &maps[i]);
		if (rc < 0)
			goto err_unmap;
	}
	rc = vhu_mem_install(dev, maps, n);
	if (rc < 0)
		goto err_unmap;
	VHU_LOG(INFO, dev->s, "memory table of %u regions installed", n);
	return 0;
err_unmap:
	while (i-- > 0)
		vhu_map_release(&maps[i]);
	return rc;
}

int
vhu_get_max_mem_slots(struct vhu_dev *dev, struct vhu_msg *msg)
{
	RTE_SET_USED(dev);
	msg->payload.u64 = VRQ_MEM_REGIONS_MAX;
	msg->hdr.size = sizeof(uint64_t);
	return VHU_MSG_REPLY;
}

int
vhu_add_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_mem_region_msg *r = &msg->payload.mem_reg.region;
	struct vhu_map maps[VRQ_MEM_REGIONS_MAX];
	uint32_t i, nb = dev->nb_maps;
	int rc;

	if (vhu_region_overflows(r)) {
		vhu_peer_log(dev, "ADD_MEM_REG: region is empty or overflows");
		return -EINVAL;
	}
	/*
	 * QEMU 7.2 keeps one shadow region table per vhost_dev, i.e. per queue
	 * pair, and sends ADD_MEM_REG from each of them over the same
	 * connection (its per-device request list did not yet include
	 * ADD/REM_MEM_REG): the second pair re-adds every region while the
	 * first pair's rings run. The same file at the same place is a no-op.
	 */
	for (i = 0; i < nb; i++) {
		if (vhu_map_is(&dev->maps[i], r, msg->fds[0])) {
			VHU_LOG(DEBUG, dev->s, "ADD_MEM_REG: region %u already mapped", i);
			return 0;
		}
	}
	if (nb >= VRQ_MEM_REGIONS_MAX) {
		vhu_peer_log(dev, "ADD_MEM_REG: all %u slots used", VRQ_MEM_REGIONS_MAX);
		return -ENOSPC;
	}
	for (i = 0; i < nb; i++) {
		if (vhu_ranges_overlap(r->gpa, r->size, dev->maps[i].gpa, dev->maps[i].size)) {
			vhu_peer_log(dev, "ADD_MEM_REG: overlaps region %u", i);
			return -EINVAL;
		}
	}
	memcpy(maps, dev->maps, sizeof(maps[0]) * nb);
	rc = vhu_map_region(dev, r, msg->fds[0], &maps[nb]);
	if (rc < 0)
		return rc;
	rc = vhu_mem_install(dev, maps, nb + 1);
	if (rc < 0)
		vhu_map_release(&maps[nb]);
	return rc;
}

static void
vhu_mem_gone_add(struct vhu_dev *dev, const struct vhu_map *m)
{
	struct vhu_mem_gone *g = &dev->gone[dev->gone_next];

	g->gpa = m->gpa;
	g->size = m->size;
	g->qva = m->qva;
	dev->gone_next = (dev->gone_next + 1) % VRQ_MEM_REGIONS_MAX;
	if (dev->nb_gone < VRQ_MEM_REGIONS_MAX)
		dev->nb_gone++;
}

static bool
vhu_mem_gone_has(const struct vhu_dev *dev, const struct vhu_mem_region_msg *r)
{
	uint32_t i;

	for (i = 0; i < dev->nb_gone; i++)
		if (dev->gone[i].gpa == r->gpa && dev->gone[i].size == r->size &&
		    dev->gone[i].qva == r->qva)
			return true;
	return false;
}

int
vhu_rem_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_mem_region_msg *r = &msg->payload.mem_reg.region;
	struct vhu_map maps[VRQ_MEM_REGIONS_MAX], gone;
	uint32_t i, nb = 0, found = UINT32_MAX;
	int rc;

	if (msg->nb_fds > 1) {
		vhu_peer_log(dev, "REM_MEM_REG: %u fds", msg->nb_fds);
		return -EINVAL;
	}
	/* vhost-user.rst: identified by guest address, user address and size. */
	for (i = 0; i < dev->nb_maps; i++) {
		if (found == UINT32_MAX && dev->maps[i].gpa == r->gpa &&
		    dev->maps[i].qva == r->qva && dev->maps[i].size == r->size)
			found = i;
		else
			maps[nb++] = dev->maps[i];
	}
	/*
	 * Already removed: with QEMU 7.2 every queue pair's vhost_dev removes the
	 * region (see vhu_add_mem_reg()) and the first one already did. A
	 * refusal would make QEMU give up vhost for that pair. A region that
	 * was never mapped is still an error.
	 */
	if (found == UINT32_MAX && vhu_mem_gone_has(dev, r)) {
		VHU_LOG(DEBUG, dev->s, "REM_MEM_REG: region at gpa 0x%" PRIx64 " already removed",
			r->gpa);
		return 0;
	}
	if (found == UINT32_MAX) {
		vhu_peer_log(dev, "REM_MEM_REG: no region at gpa 0x%" PRIx64, r->gpa);
		return -ENOENT;
	}
	gone = dev->maps[found];
	rc = vhu_mem_install(dev, maps, nb);
	if (rc == 0)
		vhu_mem_gone_add(dev, &gone);
	return rc;
}

int
vhu_set_log_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_log_msg *l = &msg->payload.log;
	struct vrq_log *log, *old_log = dev->log;
	void *old_map = dev->log_map;
	size_t old_len = dev->log_map_len;
	int old_range = dev->log_range;
	struct stat st;
	uint64_t delta = 0;
	size_t len = 0;
	void *p = NULL;
	int rc, range;

	if (l->mmap_size == 0 || l->mmap_offset + l->mmap_size < l->mmap_offset) {
		vhu_peer_log(dev, "SET_LOG_BASE: bad log range");
		return -EINVAL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return -ENOMEM;
	rc = vhu_mmap_file(dev, msg->fds[0], l->mmap_offset, l->mmap_size, "the dirty log", &p,
			   &len, &delta, &st, &range);
	if (rc < 0) {
		free(log);
		return rc;
	}
	log->bitmap = (uint8_t *)p + delta;
	log->size = l->mmap_size;
	dev->log = log;
	dev->log_map = p;
	dev->log_map_len = len;
	dev->log_range = range;
	vhu_dev_apply_log(dev);
	/* No queue uses the old log any more (vhu_dev_apply_log() took every queue lock). */
	vhu_sigbus_del(old_range);
	if (old_map != NULL)
		munmap(old_map, old_len);
	free(old_log);
	/* With LOG_SHMFD the frontend waits for an empty reply (QEMU vhost_user_set_log_base). */
	msg->hdr.size = 0;
	return VHU_MSG_REPLY;
}

void
vhu_mem_teardown(struct vhu_dev *dev)
{
	uint32_t i;
	uint16_t q;

	for (q = 0; q < dev->s->nb_vrqs; q++) {
		vrq_lock(dev->vqs[q].q);
		vrq_set_mem(dev->vqs[q].q, NULL);
		vrq_set_log(dev->vqs[q].q, NULL);
		vrq_unlock(dev->vqs[q].q);
	}
	for (i = 0; i < dev->nb_maps; i++)
		vhu_map_release(&dev->maps[i]);
	dev->nb_maps = 0;
	dev->nb_gone = 0;
	dev->gone_next = 0;
	free(dev->mem);
	dev->mem = NULL;
	vhu_sigbus_del(dev->log_range);
	dev->log_range = -1;
	if (dev->log_map != NULL)
		munmap(dev->log_map, dev->log_map_len);
	dev->log_map = NULL;
	dev->log_map_len = 0;
	free(dev->log);
	dev->log = NULL;
}
