/*
 * dcache.c — dentries and inodes of the model's files, and the superblock
 * shrinker that frees the unused ones (the kernel's fs/dcache.c, fs/inode.c
 * and fs/super.c's super_cache_count/super_cache_scan), docs/kernel-model.md
 * "Slab shrinkers".
 *
 * Each file has a dentry (cache "dentry", 192 bytes) and an inode (cache
 * "inode_cache", 600 bytes), both SLAB_RECLAIM_ACCOUNT and, like the
 * kernel's (a constructor, a usercopy region), never merged with another
 * cache. The caches are created with the first file (the kernel's exist
 * from boot: a machine without files then shows no caches it does not
 * use). The objects are the engine's own (slab.h's internal objects).
 *
 * The deterministic rules:
 *   - a file is opened by every operation that names it (fread, fwrite,
 *     fsync, ftruncate, fadvise; `file` creates it) and closed when the
 *     operation ends: no file stays open between operations. Opening is
 *     a path walk: it allocates the dentry and the inode again if the
 *     shrinker freed them (GFP_KERNEL; when that fails the operation
 *     fails, ENOMEM, as open(2) would). While open the dentry is in use; closing it
 *     (dput) puts it on the superblock's dentry LRU, or, when it is on the
 *     LRU already, sets DCACHE_REFERENCED. `peek` reads without opening.
 *   - the dentry pins its inode. Freeing the dentry drops the inode's last
 *     reference: the inode goes on the inode LRU only if its page cache is
 *     empty (mapping_shrinkable() on 64-bit: an inode with pages stays off
 *     the LRU), else when its last page leaves the cache.
 *   - funlink: the inode is evicted (nlink 0) and freed; the dentry turns
 *     negative and stays on the LRU until the shrinker frees it.
 *   - tmpfs files: their dentries and inodes are pinned (shmem keeps an
 *     extra reference), never on an LRU; unlink frees both.
 *   - one superblock shrinker, for the disk (tmpfs has nothing to free):
 *     seeks DEFAULT_SEEKS (2), batch 1024 (sb->s_shrink.batch). Lists are
 *     walked oldest first; a referenced dentry loses the flag and goes to
 *     the newest end (LRU_ROTATE), and a walk can meet it again.
 */
#include "filemap.h"
#include <inttypes.h>

#define DC_NONE UINT32_MAX
enum { DC_LRU = 1, DC_REFERENCED = 2, DC_BUSY = 4, DC_NEGATIVE = 8, DC_PINNED = 16 };

/* === Pools and lists ==================================================== */

static uint32_t obj_new(struct dc_pool *p)
{
	if (p->free != DC_NONE) {
		uint32_t i = p->free;
		p->free = p->v[i].next;
		return i;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (!p->v)
			abort();
	}
	return p->n++;
}

static void obj_put(struct dc_pool *p, uint32_t i)
{
	p->v[i].addr = 0;
	p->v[i].next = p->free;
	p->free = i;
}

/* The LRU: head the oldest, tail the newest (list_lru adds at the tail
 * and walks from the head). */
static void lru_link(struct dc_pool *p, uint32_t i)
{
	struct dc_obj *o = &p->v[i];
	o->prev = p->tail;
	o->next = DC_NONE;
	if (p->tail != DC_NONE)
		p->v[p->tail].next = i;
	else
		p->head = i;
	p->tail = i;
	o->flags |= DC_LRU;
	p->nr_lru++;
}

static void lru_unlink(struct dc_pool *p, uint32_t i)
{
	struct dc_obj *o = &p->v[i];
	if (o->prev != DC_NONE) p->v[o->prev].next = o->next; else p->head = o->next;
	if (o->next != DC_NONE) p->v[o->next].prev = o->prev; else p->tail = o->prev;
	o->flags &= (uint8_t)~(DC_LRU | DC_REFERENCED);
	p->nr_lru--;
}

static void dc_init(ra_machine *m)
{
	struct ra_dcache *dc = &m->fm->dc;
	if (dc->dentry_cachep)
		return;
	dc->d.head = dc->d.tail = dc->d.free = DC_NONE;
	dc->i.head = dc->i.tail = dc->i.free = DC_NONE;
	dc->dentry_cachep = ra_kmem_cache_create(m, "dentry", 192, 8,
	                                         RA_SLAB_RECLAIM_ACCOUNT | RA_SLAB_ACCOUNT | SLAB_NO_MERGE);
	dc->inode_cachep = ra_kmem_cache_create(m, "inode_cache", 600, 8,
	                                        RA_SLAB_RECLAIM_ACCOUNT | RA_SLAB_ACCOUNT | SLAB_NO_MERGE);
	RA_BUG_ON(m, !dc->dentry_cachep || !dc->inode_cachep);
}

#define GFP_DCACHE RA_GFP_KERNEL

/* === Files' lifecycle =================================================== */

/* iput() of the last reference: on the inode LRU if the page cache is
 * empty (__inode_add_lru), else nowhere until its last page goes. */
static void inode_unpinned(ra_machine *m, struct ra_file *f)
{
	struct dc_pool *ip = &m->fm->dc.i;
	if (f->inode_id != DC_NONE && !f->nrpages && !(ip->v[f->inode_id].flags & DC_LRU))
		lru_link(ip, f->inode_id);
}

int dcache_file_open(ra_machine *m, struct ra_file *f)
{
	dc_init(m);
	struct ra_dcache *dc = &m->fm->dc;
	bool new_inode = false;
	if (f->inode_id == DC_NONE) {
		ra_addr_t a = ra_kmem_cache_alloc_internal(m, dc->inode_cachep, GFP_DCACHE);
		if (!a)
			return RA_ENOMEM;
		f->inode_id = obj_new(&dc->i);
		dc->i.v[f->inode_id] = (struct dc_obj){ .addr = a, .file = f->id, .prev = DC_NONE, .next = DC_NONE };
		new_inode = true;
	} else if (dc->i.v[f->inode_id].flags & DC_LRU) {
		lru_unlink(&dc->i, f->inode_id);    /* igrab: referenced again */
	}
	if (f->dentry_id == DC_NONE) {
		ra_addr_t a = ra_kmem_cache_alloc_internal(m, dc->dentry_cachep, GFP_DCACHE);
		if (!a) {
			/* d_alloc failed: the inode's reference goes again */
			if (new_inode && !f->nrpages) {
				ra_kmem_cache_free_internal(m, dc->inode_cachep, dc->i.v[f->inode_id].addr);
				obj_put(&dc->i, f->inode_id);
				f->inode_id = DC_NONE;
			} else {
				inode_unpinned(m, f);
			}
			return RA_ENOMEM;
		}
		f->dentry_id = obj_new(&dc->d);
		dc->d.v[f->dentry_id] = (struct dc_obj){ .addr = a, .file = f->id, .prev = DC_NONE, .next = DC_NONE };
		if (f->shmem)
			dc->d.v[f->dentry_id].flags |= DC_PINNED;
	}
	dc->d.v[f->dentry_id].flags |= DC_BUSY;
	return 0;
}

void dcache_file_close(ra_machine *m, struct ra_file *f)
{
	struct dc_pool *dp = &m->fm->dc.d;
	if (f->dentry_id == DC_NONE || f->nr_mmaps)
		return;     /* a mapping still holds the file open */
	struct dc_obj *d = &dp->v[f->dentry_id];
	d->flags &= (uint8_t)~DC_BUSY;
	if (d->flags & DC_PINNED)
		return;
	/* dput() -> retain_dentry() */
	if (!(d->flags & DC_LRU))
		lru_link(dp, f->dentry_id);
	else
		d->flags |= DC_REFERENCED;
}

void dcache_file_unlink(ra_machine *m, struct ra_file *f)
{
	struct ra_dcache *dc = &m->fm->dc;
	if (f->inode_id != DC_NONE) {
		if (dc->i.v[f->inode_id].flags & DC_LRU)
			lru_unlink(&dc->i, f->inode_id);
		ra_kmem_cache_free_internal(m, dc->inode_cachep, dc->i.v[f->inode_id].addr);
		obj_put(&dc->i, f->inode_id);
		f->inode_id = DC_NONE;
	}
	if (f->dentry_id == DC_NONE)
		return;
	struct dc_obj *d = &dc->d.v[f->dentry_id];
	if (d->flags & DC_PINNED) {
		/* tmpfs: always_delete_dentry */
		if (d->flags & DC_LRU)
			lru_unlink(&dc->d, f->dentry_id);
		ra_kmem_cache_free_internal(m, dc->dentry_cachep, d->addr);
		obj_put(&dc->d, f->dentry_id);
	} else {
		/* d_delete() of the only reference: a negative dentry, kept */
		d->flags = (uint8_t)((d->flags & ~(DC_BUSY)) | DC_NEGATIVE);
		d->file = DC_NONE;
		if (!(d->flags & DC_LRU))
			lru_link(&dc->d, f->dentry_id);
		else
			d->flags |= DC_REFERENCED;
	}
	f->dentry_id = DC_NONE;
}

void dcache_mapping_empty(ra_machine *m, struct ra_file *f)
{
	if (f->dentry_id == DC_NONE)
		inode_unpinned(m, f);
}

/* === The superblock shrinker ============================================ */

static uint64_t mult_frac(uint64_t x, uint64_t n, uint64_t d)
{
	return (x / d) * n + ((x % d) * n) / d;
}

uint64_t super_cache_count(ra_machine *m)
{
	if (!m->fm || !m->fm->dc.dentry_cachep)
		return 0;
	uint64_t total = m->fm->dc.d.nr_lru + m->fm->dc.i.nr_lru;
	if (!total)
		return SHRINK_EMPTY;
	/* vfs_pressure_ratio() */
	return mult_frac(total, (uint64_t)KNOB(m, VM_VFS_CACHE_PRESSURE), 100);
}

/* prune_dcache_sb(): walk up to nr dentries of the LRU (list_lru_walk);
 * returns those isolated (freed, or taken off the LRU while in use). */
static uint64_t prune_dcache_sb(ra_machine *m, uint64_t nr)
{
	struct ra_dcache *dc = &m->fm->dc;
	uint64_t isolated = 0;
	for (uint32_t i = dc->d.head, next; i != DC_NONE && nr; i = next) {
		next = dc->d.v[i].next;
		nr--;
		struct dc_obj *d = &dc->d.v[i];
		if (d->flags & DC_BUSY) {
			lru_unlink(&dc->d, i);       /* in use: d_lru_isolate, LRU_REMOVED */
			isolated++;
			continue;
		}
		if (d->flags & DC_REFERENCED) {
			lru_unlink(&dc->d, i);       /* LRU_ROTATE: one more pass */
			lru_link(&dc->d, i);
			continue;
		}
		lru_unlink(&dc->d, i);
		isolated++;
		/* shrink_dentry_list(): the dentry goes, then its inode's last
		 * reference */
		uint32_t file = d->file;
		ra_kmem_cache_free_internal(m, dc->dentry_cachep, d->addr);
		obj_put(&dc->d, i);
		if (file != DC_NONE) {
			struct ra_file *f = m->fm->files[file];
			f->dentry_id = DC_NONE;
			inode_unpinned(m, f);
		}
	}
	return isolated;
}

/* prune_icache_sb(): an inode on the LRU has no references, no dirty
 * state and no pages (the model keeps it so): evicted and freed. */
static uint64_t prune_icache_sb(ra_machine *m, uint64_t nr)
{
	struct ra_dcache *dc = &m->fm->dc;
	uint64_t isolated = 0;
	while (dc->i.head != DC_NONE && nr) {
		uint32_t i = dc->i.head;
		nr--;
		lru_unlink(&dc->i, i);
		isolated++;
		struct ra_file *f = m->fm->files[dc->i.v[i].file];
		ra_kmem_cache_free_internal(m, dc->inode_cachep, dc->i.v[i].addr);
		obj_put(&dc->i, i);
		f->inode_id = DC_NONE;
	}
	return isolated;
}

uint64_t super_cache_scan(ra_machine *m, uint64_t nr_to_scan)
{
	struct ra_dcache *dc = &m->fm->dc;
	uint64_t dentries = dc->d.nr_lru, inodes = dc->i.nr_lru;
	uint64_t total = dentries + inodes + 1;    /* + fs objects (none) + 1 */
	dentries = mult_frac(nr_to_scan, dentries, total);
	inodes = mult_frac(nr_to_scan, inodes, total);
	uint64_t freed = prune_dcache_sb(m, dentries + 1);
	freed += prune_icache_sb(m, inodes + 1);
	return freed;
}

/* === Teardown and validation ============================================ */

void dcache_fini(ra_machine *m)
{
	free(m->fm->dc.d.v);
	free(m->fm->dc.i.v);
	memset(&m->fm->dc, 0, sizeof(m->fm->dc));
}

long dcache_validate(ra_machine *m)
{
	long problems = 0;
	struct ra_filemap *fm = m->fm;
	if (!fm || !fm->dc.dentry_cachep)
		return 0;
	struct ra_dcache *dc = &fm->dc;
	/* each file's objects are its own; a file with pages has its inode;
	 * the inode is on the LRU exactly when it has neither a dentry nor
	 * pages */
	for (uint32_t id = 0; id < fm->nr_files; id++) {
		struct ra_file *f = fm->files[id];
		if (!f)
			continue;
		if (f->dentry_id != DC_NONE && (f->dentry_id >= dc->d.n || dc->d.v[f->dentry_id].file != id ||
		                                (dc->d.v[f->dentry_id].flags & DC_NEGATIVE)))
			ra_problem(m, &problems, "file %s: its dentry is not its own", f->name);
		if (f->inode_id != DC_NONE && (f->inode_id >= dc->i.n || dc->i.v[f->inode_id].file != id))
			ra_problem(m, &problems, "file %s: its inode is not its own", f->name);
		if (f->nrpages && f->inode_id == DC_NONE)
			ra_problem(m, &problems, "file %s: %" PRIu64 " pages cached without an inode", f->name, f->nrpages);
		if (f->inode_id != DC_NONE) {
			bool on = dc->i.v[f->inode_id].flags & DC_LRU;
			bool want = f->dentry_id == DC_NONE && !f->nrpages;
			if (on != want)
				ra_problem(m, &problems, "file %s: inode %s the LRU with %s and %" PRIu64 " pages", f->name,
				           on ? "on" : "off", f->dentry_id == DC_NONE ? "no dentry" : "a dentry", f->nrpages);
		}
		if (f->dentry_id != DC_NONE && !f->shmem && !(dc->d.v[f->dentry_id].flags & (DC_LRU | DC_BUSY)))
			ra_problem(m, &problems, "file %s: unused dentry off the LRU", f->name);
	}
	/* the lists: linked both ways, counted, every entry a live object */
	const struct dc_pool *pools[2] = { &dc->d, &dc->i };
	for (int k = 0; k < 2; k++) {
		const struct dc_pool *p = pools[k];
		uint64_t n = 0;
		uint32_t prev = DC_NONE;
		for (uint32_t i = p->head; i != DC_NONE && n <= p->n; i = p->v[i].next, n++) {
			if (i >= p->n || p->v[i].prev != prev || !(p->v[i].flags & DC_LRU) || !p->v[i].addr) {
				ra_problem(m, &problems, "%s LRU: broken at entry %" PRIu64, k ? "inode" : "dentry", n);
				break;
			}
			prev = i;
		}
		if (n != p->nr_lru || p->tail != prev)
			ra_problem(m, &problems, "%s LRU: %" PRIu64 " entries walked, %" PRIu64 " counted", k ? "inode" : "dentry",
			           n, p->nr_lru);
	}
	return problems;
}
