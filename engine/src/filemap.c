/*
 * filemap.c — files on a simulated disk and their page cache: read(2)
 * with the kernel's readahead (mm/readahead.c's ondemand_readahead),
 * write(2) that dirties pages, fsync, truncate, unlink and
 * invalidate_mapping_pages (fadvise DONTNEED, drop_caches).
 *
 * Deterministic rules where the kernel leaves freedom or depends on
 * hardware (docs/kernel-model.md, "Files and the page cache"):
 *   - the device's io_pages equals ra_pages (32): no read widens the
 *     readahead window beyond 32 pages;
 *   - readahead I/O completes at once; a page the read itself needs and
 *     readahead could not allocate is then read alone with the mapping's
 *     full gfp (the kernel's filemap_create_folio);
 *   - a hole (a page never written back) reads as zeros without I/O;
 *     every page read from a block counts 4 KiB of pgpgin, every page
 *     written back 4 KiB of pgpgout;
 *   - truncating inside a page zeroes the rest of that page, in the cache
 *     and on the disk, and leaves its dirty state alone;
 *   - walks over a file (truncate, fsync, invalidation) go in index order;
 *   - a block whose bytes are all one value is kept as that value.
 * One read or write moves at most MAX_RW_COUNT bytes (INT_MAX rounded
 * down to a page, as rw_verify_area() cuts them).
 * Page-cache pages come from the buddy allocator as GFP_HIGHUSER_MOVABLE
 * (readahead adds __GFP_NORETRY | __GFP_NOWARN, writes __GFP_WRITE): their
 * allocation may enter direct reclaim, which may evict pages of the very
 * file being read, so every step looks its page up again. A tmpfs file
 * (filemap.h) skips the disk, the LRU and readahead.
 */
#include "filemap.h"
#include <inttypes.h>

/* === pc_map ============================================================= */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q)
		abort();    /* host out of memory */
	return q;
}

static inline uint32_t pcm_home(uint64_t key, uint32_t cap)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

uint64_t *pcm_find(const struct pc_map *h, uint64_t key)
{
	if (!h->cap)
		return NULL;
	for (uint32_t i = pcm_home(key, h->cap);; i = (i + 1) & (h->cap - 1)) {
		if (h->keys[i] == 0)
			return NULL;
		if (h->keys[i] == key + 1)
			return &h->vals[i];
	}
}


static void pcm_grow(struct pc_map *h)
{
	struct pc_map old = *h;
	h->cap = old.cap ? old.cap * 2 : 16;
	h->keys = calloc(h->cap, sizeof(*h->keys));
	h->vals = calloc(h->cap, sizeof(*h->vals));
	if (!h->keys || !h->vals)
		abort();
	h->n = 0;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			pcm_put(h, old.keys[i] - 1, old.vals[i]);
	free(old.keys);
	free(old.vals);
}

void pcm_put(struct pc_map *h, uint64_t key, uint64_t val)
{
	if ((h->n + 1) * 4 > h->cap * 3)
		pcm_grow(h);
	uint32_t i = pcm_home(key, h->cap);
	while (h->keys[i] && h->keys[i] != key + 1)
		i = (i + 1) & (h->cap - 1);
	if (!h->keys[i])
		h->n++;
	h->keys[i] = key + 1;
	h->vals[i] = val;
}

/* Linear probing's deletion by backward shift: no tombstones. */
bool pcm_del(struct pc_map *h, uint64_t key)
{
	uint64_t *v = pcm_find(h, key);
	if (!v)
		return false;
	uint32_t mask = h->cap - 1, i = (uint32_t)(v - h->vals), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!h->keys[j])
			break;
		uint32_t k = pcm_home(h->keys[j] - 1, h->cap);
		/* the entry at j may move to i when its home is not in (i, j] */
		bool stay = i <= j ? (k > i && k <= j) : (k > i || k <= j);
		if (!stay) {
			h->keys[i] = h->keys[j];
			h->vals[i] = h->vals[j];
			i = j;
		}
	}
	h->keys[i] = 0;
	h->n--;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t *pcm_sorted_keys(const struct pc_map *h, uint32_t *n)
{
	*n = 0;
	if (!h->n)
		return NULL;
	uint64_t *k = xrealloc(NULL, h->n * sizeof(*k));
	for (uint32_t i = 0; i < h->cap; i++)
		if (h->keys[i])
			k[(*n)++] = h->keys[i] - 1;
	qsort(k, *n, sizeof(*k), cmp_u64);
	return k;
}

static void pcm_free(struct pc_map *h)
{
	free(h->keys);
	free(h->vals);
	memset(h, 0, sizeof(*h));
}

/* === Files ============================================================== */

static struct ra_filemap *filemap(ra_machine *m) { return filemap_state(m); }

static void file_free(struct ra_file *f);

int ra_file_create(ra_machine *m, const char *name, uint64_t size, bool shmem, uint32_t *id)
{
	struct ra_filemap *fm = filemap(m);
	if (fm->nr_files == fm->cap) {
		fm->cap = fm->cap ? fm->cap * 2 : 8;
		fm->files = xrealloc(fm->files, fm->cap * sizeof(*fm->files));
	}
	struct ra_file *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->id = fm->nr_files;
	f->name = strdup(name);
	if (!f->name)
		abort();
	f->size = size;
	f->shmem = shmem;
	f->prev_pos = -1;
	f->dentry_id = f->inode_id = UINT32_MAX;
	fm->files[fm->nr_files++] = f;
	*id = f->id;
	/* creat() and close(): a dentry and an inode, unused from now on */
	if (dcache_file_open(m, f)) {
		fm->files[f->id] = NULL;
		file_free(f);
		return RA_ENOMEM;
	}
	dcache_file_close(m, f);
	return RA_OK;
}

struct ra_file *ra_file_get(ra_machine *m, uint32_t id)
{
	struct ra_file *f = filemap_file(m, id);
	return f && !f->unlinked ? f : NULL;
}

struct ra_file *filemap_file(ra_machine *m, uint32_t id)
{
	return m->fm && id < m->fm->nr_files ? m->fm->files[id] : NULL;
}

static uint32_t cache_lookup(struct ra_file *f, uint64_t index)
{
	uint64_t *v = pcm_find(&f->cache, index);
	return v ? (uint32_t)*v : RA_NOPFN;
}

/* === The disk =========================================================== */

/* A block is a host buffer of RA_PAGE_SIZE bytes, or, when its bytes are
 * all one value (what fwrite makes), just that value: tagged odd, so a
 * file of any size written by whole pages costs its map entries only. */
#define BLK_UNIFORM(b)   (((uint64_t)(b) << 8) | 1)
static inline bool blk_is_uniform(uint64_t v) { return v & 1; }

static void blk_read(uint64_t v, size_t in, uint8_t *dst, size_t n)
{
	if (blk_is_uniform(v))
		memset(dst, (int)(v >> 8), n);
	else
		memcpy(dst, (const uint8_t *)(uintptr_t)v + in, n);
}

static void blk_put(struct ra_file *f, uint64_t index, const uint8_t *src)
{
	uint64_t *v = pcm_find(&f->disk, index);
	bool uniform = !memcmp(src, src + 1, RA_PAGE_SIZE - 1);
	if (uniform) {
		if (v && !blk_is_uniform(*v))
			free((void *)(uintptr_t)*v);
		pcm_put(&f->disk, index, BLK_UNIFORM(src[0]));
		return;
	}
	if (v && !blk_is_uniform(*v)) {
		memcpy((void *)(uintptr_t)*v, src, RA_PAGE_SIZE);
		return;
	}
	void *b = xrealloc(NULL, RA_PAGE_SIZE);
	memcpy(b, src, RA_PAGE_SIZE);
	pcm_put(&f->disk, index, (uint64_t)(uintptr_t)b);
}

static void blk_drop(struct ra_file *f, uint64_t index)
{
	uint64_t *v = pcm_find(&f->disk, index);
	if (!v)
		return;
	if (!blk_is_uniform(*v))
		free((void *)(uintptr_t)*v);
	pcm_del(&f->disk, index);
}

/* Fill a new page from the disk: the block's bytes, or zeros for a hole. */
static void read_block(ra_machine *m, struct ra_file *f, uint64_t index, uint32_t pfn)
{
	uint64_t *blk = pcm_find(&f->disk, index);
	uint8_t *host = pfn_host(m, pfn);
	if (blk) {
		blk_read(*blk, 0, host, RA_PAGE_SIZE);
		count_vm_events(m, PGPGIN, RA_PAGE_SIZE >> 10);
	} else {
		memset(host, 0, RA_PAGE_SIZE);
	}
}

uint32_t filemap_get_page(struct ra_file *f, uint64_t index) { return cache_lookup(f, index); }

/* filemap_add_folio(): a new page of f at index, on the inactive list, or
 * on the active one when the shadow entry it replaces says it refaulted
 * within the workingset (workingset_refault; not for a write's page,
 * allocated with __GFP_WRITE). */
static uint32_t add_page(ra_machine *m, struct ra_file *f, uint64_t index, ra_gfp_t gfp, bool fill)
{
	uint32_t pfn = ra_alloc_pages_pfn(m, gfp, 0, PO_FILE);
	if (pfn == RA_NOPFN)
		return pfn;
	/* the allocation may have reclaimed: index is still not cached, as
	 * reclaim only takes pages out */
	struct ra_page *p = pfn_page(m, pfn);
	p->priv = f->id;
	p->count = (uint32_t)index;
	if (fill)
		read_block(m, f, index, pfn);
	uint64_t shadow = 0;
	bool refault = f->shadows.n && shadow_take(m, f, index, &shadow);
	bool node = f->shadows.n && shadow_node_state(f, index);
	pcm_put(&f->cache, index, pfn);
	f->nrpages++;
	if (node)
		shadow_node_update(m, f, index, node);
	if (f->shmem) {
		/* shmem_add_to_page_cache() + folio_add_lru(): a tmpfs page is
		 * swap-backed, on the anon lists */
		mod_node_page_state(m, NR_SHMEM, 1);
		p->flags |= PGF_SWAPBACKED;
		lru_add(m, pfn, page_lru(p));
		return pfn;
	}
	if (refault && !(gfp & RA___GFP_WRITE))
		workingset_refault(m, pfn, shadow, true, m->filemap_ops->swap_available(m));
	lru_add(m, pfn, page_lru(p));
	return pfn;
}

#define GFP_PAGECACHE   RA_GFP_HIGHUSER_MOVABLE
#define GFP_READAHEAD   (RA_GFP_HIGHUSER_MOVABLE | RA___GFP_NORETRY | RA___GFP_NOWARN)

/* shmem_swapin_folio(): the tmpfs page of index, swapped out, comes back
 * into the page cache (inactive anon list) with the bytes of its slot,
 * and the slot is freed; RA_NOPFN when no page can be had (the entry
 * stays). The caller counts the fault, if any. */
static uint32_t shmem_swapin(ra_machine *m, struct ra_file *f, uint64_t index, ra_gfp_t gfp)
{
	uint64_t e = *pcm_find(&f->swapped, index);
	/* reclaim inside the allocation leaves index alone: only resident
	 * pages are swapped out */
	uint32_t pfn = add_page(m, f, index, gfp, false);
	if (pfn == RA_NOPFN)
		return pfn;
	pcm_del(&f->swapped, index);
	m->filemap_ops->shmem_swapin(m, pfn, e);
	return pfn;
}

void shmem_swapped_out(ra_machine *m, uint32_t pfn, uint64_t entry)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_file *f = m->fm->files[p->priv];
	RA_BUG_ON(m, !f->shmem || shmem_is_swapped(f, p->count));
	uint64_t index = p->count;
	if (!(p->flags & PGF_LRU))
		lru_add(m, pfn, page_lru(p));   /* reclaim took it off; the removal takes it off again */
	filemap_remove_page(m, pfn);
	pcm_put(&f->swapped, index, entry);
}

uint64_t shmem_swap_usage(const struct ra_file *f, uint64_t first, uint64_t end)
{
	if (!f->swapped.n)
		return 0;
	uint64_t n = 0;
	if (end - first > f->swapped.n) {
		for (uint32_t i = 0; i < f->swapped.cap; i++)
			n += f->swapped.keys[i] && f->swapped.keys[i] - 1 >= first && f->swapped.keys[i] - 1 < end;
		return n;
	}
	for (uint64_t i = first; i < end; i++)
		n += pcm_find(&f->swapped, i) != NULL;
	return n;
}

int shmem_unuse(ra_machine *m, unsigned type, ra_gfp_t gfp)
{
	struct ra_filemap *fm = m->fm;
	for (uint32_t id = 0; fm && id < fm->nr_files; id++) {
		struct ra_file *f = fm->files[id];
		if (!f || !f->swapped.n)
			continue;
		uint32_t n;
		uint64_t *keys = pcm_sorted_keys(&f->swapped, &n);
		for (uint32_t i = 0; i < n; i++) {
			if ((*pcm_find(&f->swapped, keys[i]) >> 32) != type)
				continue;
			if (shmem_swapin(m, f, keys[i], gfp) == RA_NOPFN) {
				free(keys);
				return RA_ENOMEM;
			}
		}
		free(keys);
	}
	return 0;
}

/* do_page_cache_ra(): read nr pages from start, clipped at the end of the
 * file, skipping cached ones; the page lookahead pages before the end
 * gets PG_readahead. Stops at the first allocation failure. */
static void do_page_cache_ra(ra_machine *m, struct ra_file *f, uint64_t start, uint64_t nr, uint64_t lookahead)
{
	uint64_t end = file_pages(f);
	if (start >= end)
		return;
	if (start + nr > end)
		nr = end - start;
	for (uint64_t i = 0; i < nr; i++) {
		if (cache_lookup(f, start + i) != RA_NOPFN)
			continue;
		uint32_t pfn = add_page(m, f, start + i, GFP_READAHEAD, true);
		if (pfn == RA_NOPFN)
			break;
		if (lookahead && i == nr - lookahead)
			pfn_page(m, pfn)->flags |= PGF_READAHEAD;
	}
}

void force_page_cache_ra(ra_machine *m, struct ra_file *f, uint64_t index, uint64_t nr)
{
	/* tmpfs has no readahead; the window is at most max(io_pages,
	 * ra_pages), the model's disk having no io_pages above ra_pages */
	if (f->shmem)
		return;
	do_page_cache_ra(m, f, index, RA_MIN(nr, (uint64_t)RA_RA_PAGES), 0);
}

static uint64_t roundup_pow2(uint64_t x)
{
	return x <= 1 ? 1 : 1ULL << ra_fls(x - 1);
}

static uint32_t get_init_ra_size(uint64_t size, uint32_t max)
{
	uint64_t n = roundup_pow2(size);
	if (n <= max / 32)
		return (uint32_t)(n * 4);
	if (n <= max / 4)
		return (uint32_t)(n * 2);
	return max;
}

static uint32_t get_next_ra_size(uint32_t cur, uint32_t max)
{
	if (cur < max / 16)
		return 4 * cur;
	if (cur <= max / 2)
		return 2 * cur;
	return max;
}

/* ondemand_readahead() for a cache miss (marked false) or a hit on a page
 * with PG_readahead (marked true) at index; req pages remain to be read. */
static void ondemand_readahead(ra_machine *m, struct ra_file *f, bool marked, uint64_t index, uint64_t req)
{
	const uint32_t max = RA_RA_PAGES;
	if (!index)
		goto initial;
	if (index == f->ra_start + f->ra_size - f->ra_async || index == f->ra_start + f->ra_size) {
		f->ra_start += f->ra_size;
		f->ra_size = get_next_ra_size(f->ra_size, max);
		f->ra_async = f->ra_size;
		goto readit;
	}
	if (marked) {
		/* a marked page without valid readahead state: the cached run
		 * after it stands for the old window */
		uint64_t start = index + 1;
		while (start - index <= max && cache_lookup(f, start) != RA_NOPFN)
			start++;
		if (start - index > max)
			return;
		f->ra_start = start;
		f->ra_size = get_next_ra_size((uint32_t)RA_MIN(start - index + req, 2ULL * max), max);
		f->ra_async = f->ra_size;
		goto readit;
	}
	if (req > max)
		goto initial;
	/* sequential cache miss: the read continues the last one */
	if (f->prev_pos >= 0 && index - ((uint64_t)f->prev_pos >> RA_PAGE_SHIFT) <= 1)
		goto initial;
	/* try_context_readahead(): cached history before index */
	uint64_t hist = 0;
	while (hist < max && hist < index && cache_lookup(f, index - 1 - hist) != RA_NOPFN)
		hist++;
	if (hist) {
		if (hist >= index)
			hist *= 2;
		f->ra_start = index;
		f->ra_size = (uint32_t)RA_MIN(hist + req, (uint64_t)max);
		f->ra_async = 1;
		goto readit;
	}
	/* a standalone small random read: as is, the state untouched */
	do_page_cache_ra(m, f, index, req, 0);
	return;
initial:
	f->ra_start = index;
	f->ra_size = get_init_ra_size(req, max);
	f->ra_async = f->ra_size > req ? f->ra_size - (uint32_t)req : f->ra_size;
readit:
	if (index == f->ra_start && f->ra_size == f->ra_async) {
		uint32_t add = get_next_ra_size(f->ra_size, max);
		if (f->ra_size + add <= max) {
			f->ra_async = add;
			f->ra_size += add;
		} else {
			f->ra_size = max;
			f->ra_async = max >> 1;
		}
	}
	do_page_cache_ra(m, f, f->ra_start, f->ra_size, f->ra_async);
}

int ra_file_read(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len)
{
	len = RA_MIN(len, (uint64_t)RA_MAX_RW_COUNT);
	if (off >= f->size || !len)
		return 0;
	len = RA_MIN(len, f->size - off);
	uint64_t first = off >> RA_PAGE_SHIFT, end = (off + len + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT;
	/* filemap_read(): the first page is not marked again when the last
	 * read ended in it (repeated small reads count once) */
	bool exempt = f->prev_pos > 0 && first == (uint64_t)(f->prev_pos - 1) >> RA_PAGE_SHIFT;
	if (f->shmem) {
		/* shmem_file_read_iter(): holes read as zeros, nothing allocated;
		 * a swapped page comes back (SGP_READ: no fault is counted) */
		for (uint64_t i = first; i < end; i++) {
			uint32_t pfn = cache_lookup(f, i);
			if (pfn == RA_NOPFN && shmem_is_swapped(f, i) &&
			    (pfn = shmem_swapin(m, f, i, GFP_PAGECACHE)) == RA_NOPFN)
				return RA_ENOMEM;
			if (pfn != RA_NOPFN && !(i == first && exempt))
				folio_mark_accessed(m, pfn);
		}
		f->prev_pos = (int64_t)(off + len);
		return 0;
	}
	for (uint64_t i = first; i < end; i++) {
		uint32_t pfn = cache_lookup(f, i);
		if (pfn == RA_NOPFN) {
			ondemand_readahead(m, f, false, i, end - i);
			pfn = cache_lookup(f, i);
			if (pfn == RA_NOPFN)
				pfn = add_page(m, f, i, GFP_PAGECACHE, true);
			if (pfn == RA_NOPFN)
				return RA_ENOMEM;
		} else if (pfn_page(m, pfn)->flags & PGF_READAHEAD) {
			pfn_page(m, pfn)->flags &= (uint16_t)~PGF_READAHEAD;
			ondemand_readahead(m, f, true, i, end - i);
			pfn = cache_lookup(f, i);
			if (pfn == RA_NOPFN && (pfn = add_page(m, f, i, GFP_PAGECACHE, true)) == RA_NOPFN)
				return RA_ENOMEM;
		}
		if (!(i == first && exempt))
			folio_mark_accessed(m, pfn);
		f->prev_pos = (int64_t)RA_MIN(off + len, (i + 1) << RA_PAGE_SHIFT);
	}
	return 0;
}

/* filemap_fault(): a page-cache hit runs do_async_mmap_readahead (one hit
 * less in mmap_miss, the next window when the page has PG_readahead); a
 * miss counts the major fault's read-around (do_sync_mmap_readahead:
 * ra_pages from index - ra_pages / 2, the last quarter asynchronous,
 * unless the file missed more than MMAP_LOTSAMISS times more than it hit)
 * and reads the page itself alone when readahead could not. A tmpfs page
 * (shmem_fault) is found or made, zeroed, without I/O, or swapped back in
 * (a major fault). */
#define MMAP_LOTSAMISS 100
uint32_t filemap_fault(ra_machine *m, struct ra_file *f, uint64_t index, bool *major)
{
	uint32_t pfn = cache_lookup(f, index);
	*major = false;
	if (f->shmem) {
		if (pfn == RA_NOPFN && shmem_is_swapped(f, index)) {
			*major = true;
			return shmem_swapin(m, f, index, GFP_PAGECACHE);
		}
		if (pfn == RA_NOPFN) {
			pfn = add_page(m, f, index, GFP_PAGECACHE, false);
			if (pfn != RA_NOPFN)
				memset(pfn_host(m, pfn), 0, RA_PAGE_SIZE);
		}
		return pfn;
	}
	if (pfn != RA_NOPFN) {
		if (f->mmap_miss)
			f->mmap_miss--;
		if (pfn_page(m, pfn)->flags & PGF_READAHEAD) {
			pfn_page(m, pfn)->flags &= (uint16_t)~PGF_READAHEAD;
			ondemand_readahead(m, f, true, index, RA_RA_PAGES);
			pfn = cache_lookup(f, index);   /* readahead's allocations may have reclaimed it */
		}
		if (pfn != RA_NOPFN)
			return pfn;
	}
	*major = true;
	if (f->mmap_miss < MMAP_LOTSAMISS * 10)
		f->mmap_miss++;
	if (f->mmap_miss <= MMAP_LOTSAMISS) {
		f->ra_start = index > RA_RA_PAGES / 2 ? index - RA_RA_PAGES / 2 : 0;
		f->ra_size = RA_RA_PAGES;
		f->ra_async = RA_RA_PAGES / 4;
		do_page_cache_ra(m, f, f->ra_start, f->ra_size, f->ra_async);
	}
	pfn = cache_lookup(f, index);
	if (pfn == RA_NOPFN)
		pfn = add_page(m, f, index, GFP_PAGECACHE, true);
	return pfn;
}

static void set_dirty(ra_machine *m, struct ra_file *f, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (p->flags & PGF_DIRTY)
		return;
	p->flags |= PGF_DIRTY;
	if (!f->nrdirty++)
		f->dirtied_when = m->now_ms;   /* __mark_inode_dirty: a clean inode goes dirty now */
	mod_node_page_state(m, NR_FILE_DIRTY, 1);
	mod_zone_page_state(pfn_zone(m, pfn), NR_ZONE_WRITE_PENDING, 1);
	mod_node_page_state(m, NR_DIRTIED, 1);
}

void filemap_dirty_page(ra_machine *m, uint32_t pfn)
{
	struct ra_file *f = m->fm->files[pfn_page(m, pfn)->priv];
	if (!f->shmem)
		set_dirty(m, f, pfn);
}

static void clear_dirty(ra_machine *m, struct ra_file *f, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_DIRTY))
		return;
	p->flags &= (uint16_t)~PGF_DIRTY;
	f->nrdirty--;
	mod_node_page_state(m, NR_FILE_DIRTY, -1);
	mod_zone_page_state(pfn_zone(m, pfn), NR_ZONE_WRITE_PENDING, -1);
}

int ra_file_write(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len, int byte)
{
	len = RA_MIN(len, (uint64_t)RA_MAX_RW_COUNT);
	uint64_t done = 0, pages = 0;
	while (done < len) {
		uint64_t pos = off + done, index = pos >> RA_PAGE_SHIFT;
		size_t in = (size_t)(pos & (RA_PAGE_SIZE - 1));
		size_t n = (size_t)RA_MIN((uint64_t)(RA_PAGE_SIZE - in), len - done);
		uint32_t pfn = cache_lookup(f, index);
		if (pfn == RA_NOPFN && f->shmem && shmem_is_swapped(f, index)) {
			/* shmem_write_begin(): SGP_WRITE swaps the page in and
			 * marks it accessed */
			pfn = shmem_swapin(m, f, index, GFP_PAGECACHE);
			if (pfn == RA_NOPFN)
				return RA_ENOMEM;
			folio_mark_accessed(m, pfn);
		}
		if (pfn == RA_NOPFN) {
			/* write_begin: a page not wholly overwritten is read first */
			bool whole = in == 0 && n == RA_PAGE_SIZE;
			pfn = add_page(m, f, index, GFP_PAGECACHE | RA___GFP_WRITE, !whole);
			if (pfn == RA_NOPFN)
				return RA_ENOMEM;
		}
		memset(pfn_host(m, pfn) + in, byte, n);
		if (!f->shmem) {
			set_dirty(m, f, pfn);     /* shmem's dirtying is not accounted */
			pages++;
		}
		done += n;
		if (pos + n > f->size)
			f->size = pos + n;
	}
	balance_dirty_pages(m, pages);
	return 0;
}

/* folio_clear_dirty_for_io() .. folio_end_writeback(), at once. The write
 * is submitted (pgpgout) and completes (nr_written) either way; when the
 * fail site `writeback` fails it, the I/O error is the kernel's: the end_io
 * handler calls mapping_set_error(-EIO) (the mapping's errseq_t and
 * AS_EIO), the page stays in the cache, clean and uptodate, with the bytes
 * that were written (nothing redirties it), and the disk keeps its old
 * block. Evicted later, the page reads back those old bytes. */
bool filemap_writeback_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_file *f = m->fm->files[p->priv];
	if (page_mapcount(m, pfn))
		m->fm->rmap->mkclean(m, pfn);     /* folio_clear_dirty_for_io(): folio_mkclean() */
	bool ok = !ra_should_fail(m, FAIL_WRITEBACK, RA_GFP_NOFS);
	if (ok) {
		blk_put(f, p->count, m->ram + ((size_t)pfn << RA_PAGE_SHIFT));
		if (f->wb_stale.n)
			pcm_del(&f->wb_stale, p->count);
	} else {
		f->wb_err++;
		f->as_eio = true;
		pcm_put(&f->wb_stale, p->count, f->wb_err);
	}
	clear_dirty(m, f, pfn);
	mod_node_page_state(m, NR_WRITTEN, 1);
	count_vm_events(m, PGPGOUT, RA_PAGE_SIZE >> 10);
	return ok;
}

/* One open file description per file, opened when the file is made
 * (f_wb_err sampled then: 0): file_check_and_advance_wb_err() reports each
 * run of errors once, to the first fsync after them. */
int ra_file_fsync_check(ra_machine *m, struct ra_file *f)
{
	ra_file_fsync(m, f);
	bool err = f->wb_err != f->f_wb_err;
	f->f_wb_err = f->wb_err;
	f->as_eio = false;
	return err ? RA_EIO : 0;
}

uint64_t ra_file_fsync(ra_machine *m, struct ra_file *f)
{
	return ra_file_fsync_range(m, f, 0, UINT64_MAX);
}

uint64_t ra_file_fsync_range(ra_machine *m, struct ra_file *f, uint64_t first, uint64_t last)
{
	uint32_t n;
	uint64_t *keys = pcm_sorted_keys(&f->cache, &n), written = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (keys[i] < first || keys[i] > last)
			continue;
		uint32_t pfn = cache_lookup(f, keys[i]);
		if (pfn_page(m, pfn)->flags & PGF_DIRTY) {
			filemap_writeback_page(m, pfn);
			written++;
		}
	}
	free(keys);
	return written;
}

void filemap_remove_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_file *f = m->fm->files[p->priv];
	clear_dirty(m, f, pfn);
	if (p->flags & PGF_LRU)
		lru_del(m, pfn);
	if (f->shmem)
		mod_node_page_state(m, NR_SHMEM, -1);
	RA_BUG_ON(m, page_mapcount(m, pfn));
	bool node = f->shadows.n && shadow_node_state(f, p->count);
	bool had = pcm_del(&f->cache, p->count);
	RA_BUG_ON(m, !had);
	if (!--f->nrpages)
		dcache_mapping_empty(m, f);
	if (f->shadows.n)
		shadow_node_update(m, f, p->count, node);
	p->flags = 0;
	p->priv = 0;
	p->count = 0;
	ra_free_pages_pfn(m, pfn, 0);
}

void filemap_evict_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_file *f = m->fm->files[p->priv];
	uint64_t index = p->count;
	uint64_t shadow = workingset_eviction(m, pfn);
	filemap_remove_page(m, pfn);
	shadow_store(m, f, index, shadow);
}

void ra_file_truncate(ra_machine *m, struct ra_file *f, uint64_t size)
{
	uint64_t keep = (size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT;
	if (size < f->size) {
		/* truncate_pagecache(): the mappings of what goes first */
		if (f->nr_mmaps && m->fm->rmap)
			m->fm->rmap->unmap_range(m, f, keep);
		shadow_drop_from(m, f, keep);
		uint32_t n;
		uint64_t *keys = pcm_sorted_keys(&f->swapped, &n);
		for (uint32_t i = 0; i < n; i++)
			if (keys[i] >= keep) {     /* shmem_free_swap() */
				m->filemap_ops->shmem_swap_free(m, *pcm_find(&f->swapped, keys[i]));
				pcm_del(&f->swapped, keys[i]);
			}
		free(keys);
		keys = pcm_sorted_keys(&f->cache, &n);
		for (uint32_t i = 0; i < n; i++)
			if (keys[i] >= keep)
				filemap_remove_page(m, cache_lookup(f, keys[i]));
		free(keys);
		keys = pcm_sorted_keys(&f->disk, &n);
		for (uint32_t i = 0; i < n; i++)
			if (keys[i] >= keep)
				blk_drop(f, keys[i]);
		free(keys);
		keys = pcm_sorted_keys(&f->wb_stale, &n);
		for (uint32_t i = 0; i < n; i++)
			if (keys[i] >= keep)
				pcm_del(&f->wb_stale, keys[i]);
		free(keys);
		size_t in = (size_t)(size & (RA_PAGE_SIZE - 1));
		if (in) {
			uint64_t last = size >> RA_PAGE_SHIFT;
			uint32_t pfn = cache_lookup(f, last);
			/* shmem_get_partial_folio(): a swapped page comes back to be
			 * cut (without memory it stays as it is, as the kernel skips it) */
			if (pfn == RA_NOPFN && shmem_is_swapped(f, last))
				pfn = shmem_swapin(m, f, last, GFP_PAGECACHE);
			if (pfn != RA_NOPFN)
				memset(pfn_host(m, pfn) + in, 0, RA_PAGE_SIZE - in);
			uint64_t *blk = pcm_find(&f->disk, last);
#if RA_MUTANT == 16 /* mutant 16: ftruncate leaves the disk block's tail past the new end */
			blk = NULL;
#endif
			if (blk) {
				uint8_t page[RA_PAGE_SIZE];
				blk_read(*blk, 0, page, RA_PAGE_SIZE);
				memset(page + in, 0, RA_PAGE_SIZE - in);
				blk_put(f, last, page);
			}
		}
	}
	f->size = size;
}

static void file_free(struct ra_file *f)
{
	pcm_free(&f->shadows);
	pcm_free(&f->swapped);
	for (uint32_t i = 0; i < f->disk.cap; i++)
		if (f->disk.keys[i] && !blk_is_uniform(f->disk.vals[i]))
			free((void *)(uintptr_t)f->disk.vals[i]);
	pcm_free(&f->disk);
	pcm_free(&f->cache);
	pcm_free(&f->wb_stale);
	free(f->name);
	free(f);
}

void ra_file_unlink(ra_machine *m, struct ra_file *f)
{
	f->unlinked = true;
	if (!f->nr_mmaps)
		filemap_file_unmapped(m, f);
}

void filemap_file_unmapped(ra_machine *m, struct ra_file *f)
{
	if (!f->unlinked || f->nr_mmaps)
		return;
	/* iput() of the last reference: the pages and blocks go */
	ra_file_truncate(m, f, 0);
	dcache_file_unlink(m, f);
	m->fm->files[f->id] = NULL;
	file_free(f);
}

void filemap_mapcount_init(ra_machine *m)
{
	struct ra_filemap *fm = filemap(m);
	if (!fm->mapcount) {
		fm->mapcount = calloc(m->nr_pages, sizeof(*fm->mapcount));
		if (!fm->mapcount)
			abort();
	}
}

uint64_t ra_file_invalidate(ra_machine *m, struct ra_file *f)
{
	if (f->shmem)
		return 0;     /* its pages are its only copy */
	uint32_t n;
	shadow_drop_from(m, f, 0);      /* invalidate_exceptional_entry() */
	uint64_t *keys = pcm_sorted_keys(&f->cache, &n), dropped = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pfn = cache_lookup(f, keys[i]);
		if ((pfn_page(m, pfn)->flags & PGF_DIRTY) || page_mapcount(m, pfn)) {
			lru_deactivate_file(m, pfn);
		} else {
			filemap_remove_page(m, pfn);
			dropped++;
		}
	}
	free(keys);
	return dropped;
}

void ra_file_peek(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len, uint8_t *buf)
{
	memset(buf, 0, (size_t)len);
	for (uint64_t done = 0; done < len;) {
		uint64_t pos = off + done, index = pos >> RA_PAGE_SHIFT;
		size_t in = (size_t)(pos & (RA_PAGE_SIZE - 1));
		size_t n = (size_t)RA_MIN((uint64_t)(RA_PAGE_SIZE - in), len - done);
		if (pos >= f->size)
			break;
		n = (size_t)RA_MIN((uint64_t)n, f->size - pos);
		uint32_t pfn = cache_lookup(f, index);
		uint64_t *blk = pcm_find(&f->disk, index);
		uint64_t *ent = pfn == RA_NOPFN && f->swapped.n ? pcm_find(&f->swapped, index) : NULL;
		if (pfn != RA_NOPFN) {
			memcpy(buf + done, m->ram + ((size_t)pfn << RA_PAGE_SHIFT) + in, n);
		} else if (ent) {
			uint8_t page[RA_PAGE_SIZE];
			m->filemap_ops->shmem_swap_peek(m, *ent, page);
			memcpy(buf + done, page + in, n);
		} else if (blk)
			blk_read(*blk, in, buf + done, n);
		done += n;
	}
}

void ra_file_peek_disk(struct ra_file *f, uint64_t off, uint64_t len, uint8_t *buf)
{
	memset(buf, 0, (size_t)len);
	for (uint64_t done = 0; done < len;) {
		uint64_t pos = off + done, index = pos >> RA_PAGE_SHIFT;
		size_t in = (size_t)(pos & (RA_PAGE_SIZE - 1));
		size_t n = (size_t)RA_MIN((uint64_t)(RA_PAGE_SIZE - in), len - done);
		uint64_t *blk = pcm_find(&f->disk, index);
		if (blk)
			blk_read(*blk, in, buf + done, n);
		done += n;
	}
}

void ra_filemap_fini(ra_machine *m)
{
	struct ra_filemap *fm = m->fm;
	if (!fm)
		return;
	for (uint32_t i = 0; i < fm->nr_files; i++)
		if (fm->files[i])
			file_free(fm->files[i]);
	dcache_fini(m);
	free(fm->files);
	free(fm->mapcount);
	free(fm);
	m->fm = NULL;
}
