/*
 * filemap.h — files and the page cache (filemap.c, the kernel's
 * mm/filemap.c, mm/readahead.c, mm/truncate.c and the writeback of
 * mm/page-writeback.c), and the file LRU lists (swap.c, the kernel's
 * mm/swap.c). It sits above the page allocator and beside vmalloc; the
 * reclaim that shrinks these lists is vmscan.c's, a layer above mm.
 *
 * A file lives on a simulated disk whose bytes are kept on the host,
 * sparsely: a page-sized block per page index ever written back, holes
 * read as zeros (and, as a hole needs no I/O, count no pgpgin). Its page
 * cache maps page indexes to frames of simulated RAM (owner PO_FILE,
 * priv = file id, count = index). Every page-cache page is on exactly one
 * of the node's two file LRU lists (inactive, active; head = most recent),
 * linked through its ra_page next/prev: the model applies the kernel's
 * per-cpu LRU batches at once. A file is kernel-side and global, named by
 * an id that is never reused.
 *
 * Writeback is synchronous: fsync (and reclaim, see vmscan.c) copy a dirty
 * page to the disk at once, so nr_writeback is 0 between operations.
 *
 * A tmpfs file (shmem) has no disk: its pages are its only copy. They
 * count in nr_file_pages and nr_shmem, never in nr_dirty, and sit on the
 * anon LRU lists as the kernel keeps them (PG_swapbacked): reclaim swaps
 * them out (shmem_writepage, swapfile.h's shmem.c), and the slot of the
 * page cache then holds the swap entry instead of the page (the map
 * `swapped`, whose size is shmem's info->swapped). A read, a write or a
 * fault of such an index swaps the page back in (shmem_swapin_folio) and
 * frees the slot; truncate and unlink free the slots with the pages;
 * fadvise and drop_caches leave both pages and entries (the kernel's
 * invalidate_exceptional_entry leaves shmem's entries to shmem). A read
 * of a hole allocates nothing (shmem's SGP_READ); there is no readahead.
 */
#ifndef RA_FILEMAP_H
#define RA_FILEMAP_H

#include "vmalloc.h"

/* page index -> value (a pfn, or a host block), open addressing */
struct pc_map {
	uint64_t *keys;     /* index + 1; 0 = empty */
	uint64_t *vals;
	uint32_t cap, n;    /* cap: a power of two, or 0 */
};

#define RA_RA_PAGES 32      /* VM_READAHEAD_PAGES: 128 KiB of readahead */
#define RA_MAX_RW_COUNT 0x7ffff000u   /* MAX_RW_COUNT: the most one read(2)/write(2) moves */

struct ra_file {
	uint32_t id;
	uint32_t dentry_id, inode_id;   /* its dentry and inode in the dcache pools (dcache.c); UINT32_MAX: none */
	char    *name;
	uint64_t size;              /* i_size, bytes */
	struct pc_map cache;        /* page index -> pfn */
	struct pc_map disk;         /* page index -> host block of RA_PAGE_SIZE bytes */
	uint64_t nrpages, nrdirty;
	uint64_t dirtied_when;      /* ms: when the file went from clean to dirty (inode->dirtied_when) */
	/* writeback errors (mapping_set_error): wb_err counts them, as the
	 * mapping's errseq_t does; f_wb_err is what the file's one open
	 * description has seen (file->f_wb_err); as_eio is AS_EIO. wb_stale
	 * holds the page indexes whose last writeback failed: their disk
	 * block is older than what was written (index -> the value of
	 * wb_err that failure made). */
	uint32_t wb_err, f_wb_err;
	bool     as_eio;
	struct pc_map wb_stale;
	bool     shmem;             /* tmpfs: no disk, pages only in the cache (see filemap.c) */
	struct pc_map swapped;      /* tmpfs: page index -> swap entry of a page swapped out */
	/* struct file_ra_state */
	uint64_t ra_start;
	uint32_t ra_size, ra_async;
	int64_t  prev_pos;          /* end of the last read (-1: none) */
	uint32_t mmap_miss;         /* ra->mmap_miss: faults that missed, less hits (read-around off above 100) */
	/* mappings: the VMAs that map the file (i_mmap's count, kept by
	 * the mm layer); an unlinked file lives on while any maps it */
	uint32_t nr_mmaps;
	bool     unlinked;
	/* workingset shadow entries (workingset.c): index -> shadow, only
	 * in slots that hold no page; shadow_nodes counts, per 64-slot
	 * chunk, ... (see workingset.c) */
	struct pc_map shadows;
};

/* The kernel's enum lru_list: the LRU lists of the node, in its order.
 * A page is on the anon lists when PG_swapbacked (anonymous and shmem
 * pages), on the file lists otherwise, on the unevictable list when
 * PG_unevictable; PG_active picks the active list of the pair. */
enum lru_list {
	LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE, LRU_UNEVICTABLE,
	NR_LRU_LISTS
};
#define LRU_ACTIVE 1    /* added to an inactive list: its active partner */
static inline bool is_file_lru(int lru) { return lru == LRU_INACTIVE_FILE || lru == LRU_ACTIVE_FILE; }
static inline bool is_active_lru(int lru) { return lru == LRU_ACTIVE_ANON || lru == LRU_ACTIVE_FILE; }

/* The calls the page cache makes into the reverse map of the layer above
 * (the mm layer registers them with its first file mapping; NULL before,
 * when no page can be mapped):
 * mkclean     — folio_mkclean() before a mapped page is written back: every
 *               pte mapping pfn is write-protected and cleaned, so the next
 *               write through a mapping faults and dirties the page again.
 * unmap_range — unmap_mapping_range(..., even_cows) when f is truncated:
 *               every pte of a mapping of f at a page index >= from goes,
 *               the COW copies of private mappings too. */
/* The page cache's way up to the swap layer, registered in machine.c:
 * swap_available — get_nr_swap_pages() > 0, which decides whether a file
 *                  refault's workingset counts the anon lists.
 * shmem_swapin   — a tmpfs page comes back: fill page pfn from the slot of
 *                  entry (pswpin; pgpgin for a disk) and let the slot go
 *                  (shmem_swapin_folio's swap_readpage and swap_free).
 * shmem_swap_free — a swapped tmpfs page is truncated: its slot goes
 *                  (shmem_free_swap).
 * shmem_swap_peek — the bytes the slot of entry holds, without I/O. */
/* pc_map (filemap.c): find returns a pointer to the value or NULL. */
uint64_t *pcm_find(const struct pc_map *h, uint64_t key);

struct ra_filemap_ops {
	bool (*swap_available)(ra_machine *m);
	void (*shmem_swapin)(ra_machine *m, uint32_t pfn, uint64_t entry);
	void (*shmem_swap_free)(ra_machine *m, uint64_t entry);
	void (*shmem_swap_peek)(ra_machine *m, uint64_t entry, uint8_t *buf);
};

struct filemap_rmap_ops {
	void (*mkclean)(ra_machine *m, uint32_t pfn);
	void (*unmap_range)(ra_machine *m, struct ra_file *f, uint64_t from);
};

/* dcache.c: dentries and inodes (slab objects) on their LRU lists */
struct dc_obj {
	ra_addr_t addr;             /* the slab object; 0 when the slot is free */
	uint32_t  file;             /* the file's id; UINT32_MAX for a negative dentry */
	uint32_t  prev, next;       /* on the LRU (head oldest), or the free-slot chain */
	uint8_t   flags;
};
struct dc_pool {
	struct dc_obj *v;
	uint32_t n, cap, free;
	uint32_t head, tail;
	uint64_t nr_lru;
};
struct ra_dcache {
	ra_cache *dentry_cachep, *inode_cachep;   /* NULL until the first file */
	struct dc_pool d, i;
	uint64_t nr_deferred;       /* the superblock shrinker's deferred work */
};

struct ra_filemap {
	struct ra_file **files;     /* by id; NULL once unlinked and unmapped */
	uint32_t nr_files, cap;
	struct ra_plist lru[NR_LRU_LISTS];
	uint64_t nr_file_unevictable;   /* page-cache pages on the unevictable list (mlocked) */
	uint64_t nr_lazyfree;           /* anonymous pages on the file lists (MADV_FREE: no PG_swapbacked) */
	uint32_t *mapcount;         /* [nr_pages]: ptes mapping each page-cache page (the folio's
	                               mapcount), NULL until the first file mapping */
	const struct filemap_rmap_ops *rmap;
	uint64_t nonresident_age;   /* the lruvec's nonresident_age (workingset.c) */
	struct ra_dcache dc;
};

/* === filemap.c: files ==================================================== */

/* Create an empty sparse file of size bytes (shmem: on tmpfs): RA_OK
 * (id set), or RA_ENOMEM when its dentry or inode cannot be allocated
 * (the id is used up, the file does not exist). */
int  ra_file_create(ra_machine *m, const char *name, uint64_t size, bool shmem, uint32_t *id);
/* The live file of that id, or NULL (unlinked, never created). */
struct ra_file *ra_file_get(ra_machine *m, uint32_t id);
/* read(2) of [off, off + len) clipped at i_size (and len at
 * RA_MAX_RW_COUNT), through the page cache
 * with readahead and the two-touch rule: 0, or RA_ENOMEM when a page the
 * read needs could not be allocated (pages read before stay cached). */
int  ra_file_read(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len);
/* write(2) of len bytes (at most RA_MAX_RW_COUNT) of value byte at off
 * (the file grows): pages are
 * dirtied, not marked accessed: 0 or RA_ENOMEM as for reads. */
int  ra_file_write(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len, int byte);
/* Write every dirty page back now; returns the pages written (a page
 * whose write failed counts: its I/O was submitted). */
uint64_t ra_file_fsync(ra_machine *m, struct ra_file *f);
/* fsync(2): ra_file_fsync, then file_check_and_advance_wb_err(): RA_EIO
 * once for the writeback errors since the last fsync saw one (AS_EIO
 * cleared), else 0. */
int  ra_file_fsync_check(ra_machine *m, struct ra_file *f);
/* The bytes of [off, off + len) on the disk alone (holes: zeros). */
void ra_file_peek_disk(struct ra_file *f, uint64_t off, uint64_t len, uint8_t *buf);
void ra_file_truncate(ra_machine *m, struct ra_file *f, uint64_t size);
/* The name goes and, as nothing maps it, every page and block with it. */
void ra_file_unlink(ra_machine *m, struct ra_file *f);
/* invalidate_mapping_pages(): drop the clean pages, deactivate the others;
 * returns the pages dropped (fadvise DONTNEED, drop_caches). */
uint64_t ra_file_invalidate(ra_machine *m, struct ra_file *f);
/* The bytes a read would return, without touching the page cache. */
void ra_file_peek(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len, uint8_t *buf);
void ra_filemap_fini(ra_machine *m);

/* For reclaim (vmscan.c): write a dirty page-cache page back now (false:
 * the write failed, the fail site `writeback`: the page is clean, the
 * disk keeps its old block, the mapping has the error); take a page out
 * of its file's cache and off the LRU, and free it. */
bool filemap_writeback_page(ra_machine *m, uint32_t pfn);
void filemap_remove_page(ra_machine *m, uint32_t pfn);
/* __remove_mapping() by reclaim: as filemap_remove_page, leaving a
 * workingset shadow entry in the page's slot (workingset_eviction). */
void filemap_evict_page(ra_machine *m, uint32_t pfn);

/* === filemap.c: tmpfs pages and swap ==================================== */

/* shmem_delete_from_page_cache() by shmem_writepage(): the tmpfs page pfn,
 * unmapped and written to the slot of entry, leaves the page cache and the
 * LRU and is freed; its index holds entry from now on (info->swapped + 1,
 * nr_shmem - 1). */
void shmem_swapped_out(ra_machine *m, uint32_t pfn, uint64_t entry);
/* The swap entries of f's pages in [first, end) (shmem_partial_swap_usage). */
uint64_t shmem_swap_usage(const struct ra_file *f, uint64_t first, uint64_t end);
/* shmem_unuse(): every tmpfs page swapped to device type comes back
 * (allocated with gfp): 0, or RA_ENOMEM when a page cannot be had. The
 * device type is the entry's upper half (swapfile.h's swp_type). */
int  shmem_unuse(ra_machine *m, unsigned type, ra_gfp_t gfp);
/* Is index of f swapped out? */
static inline bool shmem_is_swapped(const struct ra_file *f, uint64_t index)
{
	return f->swapped.n && pcm_find(&f->swapped, index);
}

/* === filemap.c: what file mappings need ================================ */

/* The file of id, unlinked or not (NULL once it is gone for good). */
struct ra_file *filemap_file(ra_machine *m, uint32_t id);
/* Pages of the file (i_size rounded up to a page). */
static inline uint64_t file_pages(const struct ra_file *f)
{
	return (f->size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT;
}
/* The page cached at index, or RA_NOPFN. */
uint32_t filemap_get_page(struct ra_file *f, uint64_t index);
/* filemap_fault() (shmem_fault() for tmpfs) for page index (< the file's
 * pages): the page, read in with the mmap read-around readahead when it
 * is not cached (*major set: a major fault), or RA_NOPFN for no memory. */
uint32_t filemap_fault(ra_machine *m, struct ra_file *f, uint64_t index, bool *major);
/* force_page_cache_ra() as fadvise(POSIX_FADV_WILLNEED) and
 * MADV_WILLNEED call it: up to RA_RA_PAGES pages from index (clipped at
 * the end of the file) read into the cache, not marked accessed; cached
 * pages are skipped. tmpfs: nothing. */
void force_page_cache_ra(ra_machine *m, struct ra_file *f, uint64_t index, uint64_t nr);
/* folio_mark_dirty() for a page-cache page (shmem: not accounted). */
void filemap_dirty_page(ra_machine *m, uint32_t pfn);
/* Write back the dirty pages of [first, last] (vfs_fsync_range); returns
 * the pages written. */
uint64_t ra_file_fsync_range(ra_machine *m, struct ra_file *f, uint64_t first, uint64_t last);
/* The mapcount array exists (the first file mapping). */
void filemap_mapcount_init(ra_machine *m);
static inline uint32_t page_mapcount(const ra_machine *m, uint32_t pfn)
{
	return m->fm && m->fm->mapcount ? m->fm->mapcount[pfn] : 0;
}
/* The last mapping of f went: an unlinked file goes now. */
void filemap_file_unmapped(ra_machine *m, struct ra_file *f);

/* === workingset.c: shadow entries and refault detection ================ */

/* workingset_age_nonresident(): the clock of evictions and activations. */
static inline void workingset_age_nonresident(ra_machine *m, uint64_t nr) { m->fm->nonresident_age += nr; }
/* workingset_activation(): a page was activated by an access. */
static inline void workingset_activation(ra_machine *m) { workingset_age_nonresident(m, 1); }
/* workingset_eviction(): the shadow entry of a page reclaim evicts now
 * (of either type: file true for the file LRU); ages the clock. */
uint64_t workingset_eviction(ra_machine *m, uint32_t pfn);
/* workingset_refault(): a page comes back where shadow was: counts the
 * refault and, when the refault distance is within the workingset, sets
 * PG_active (and PG_workingset with a restore) on the page, which is not
 * on an LRU list yet. swap_avail: swap space is free (the anon lists then
 * count in the workingset size). */
void workingset_refault(ra_machine *m, uint32_t pfn, uint64_t shadow, bool file, bool swap_avail);
/* The shadow slots of a file: store one where reclaim evicted a page,
 * take (and remove) the one of index, drop those at index >= from. Each
 * keeps workingset_nodes (see workingset.c). */
void shadow_store(ra_machine *m, struct ra_file *f, uint64_t index, uint64_t shadow);
bool shadow_take(ra_machine *m, struct ra_file *f, uint64_t index, uint64_t *shadow);
void shadow_drop_from(ra_machine *m, struct ra_file *f, uint64_t from);
/* A page enters or leaves slot index of f: call before with the chunk's
 * state, after to update workingset_nodes. */
bool shadow_node_state(const struct ra_file *f, uint64_t index);
void shadow_node_update(ra_machine *m, const struct ra_file *f, uint64_t index, bool before);
/* Is a 64-slot chunk a shadow node (shadows and no page)? For the
 * validator. */
bool shadow_chunk_is_node(const struct ra_file *f, uint64_t chunk);

/* === dcache.c: dentries, inodes and the superblock shrinker ============ */

#define SHRINK_EMPTY (~0ULL - 1)    /* count_objects(): nothing to shrink at all */
/* A trace operation naming f opens it (path walk: the dentry and inode are
 * allocated again if the shrinker freed them) and closes it at its end
 * (dput: on the dentry LRU, or DCACHE_REFERENCED). */
int  dcache_file_open(ra_machine *m, struct ra_file *f);    /* 0 or RA_ENOMEM */
void dcache_file_close(ra_machine *m, struct ra_file *f);
/* unlink: the inode is freed, the dentry left negative on the LRU (tmpfs:
 * both freed). */
void dcache_file_unlink(ra_machine *m, struct ra_file *f);
/* The file's last page left the cache: an unreferenced inode joins the
 * inode LRU. */
void dcache_mapping_empty(ra_machine *m, struct ra_file *f);
/* super_cache_count(): unused dentries + inodes scaled by
 * vm.vfs_cache_pressure; 0 without caches, SHRINK_EMPTY with none. */
uint64_t super_cache_count(ra_machine *m);
/* super_cache_scan(): split nr_to_scan between the two lists; returns the
 * objects isolated (freed or taken off the LRU). */
uint64_t super_cache_scan(ra_machine *m, uint64_t nr_to_scan);
void dcache_fini(ra_machine *m);
long dcache_validate(ra_machine *m);

/* === page_writeback.c: the clock and the flusher ====================== */

/* Advance the clock by ms, doing the flusher's work due on the way in
 * deadline order (see page_writeback.c). */
void ra_sleep(ra_machine *m, uint64_t ms);
/* wb_check_background_flush(): while nr_dirty > the background threshold,
 * write back whole files, the longest dirty first; returns pages written. */
uint64_t wb_background_flush(ra_machine *m);
/* wb_check_old_data_flush() at time now: write back every file dirty for
 * at least dirty_expire_centisecs; returns pages written. */
uint64_t wb_old_data_flush(ra_machine *m);

/* balance_dirty_pages() after a write(2) that dirtied pages (see
 * page_writeback.c): counts the writer's throttling, never writes. */
void balance_dirty_pages(ra_machine *m, uint64_t pages);

void pcm_put(struct pc_map *h, uint64_t key, uint64_t val);
bool pcm_del(struct pc_map *h, uint64_t key);
/* The keys in increasing order (malloc'd, *n set); NULL when empty. */
uint64_t *pcm_sorted_keys(const struct pc_map *h, uint32_t *n);

/* === swap.c: the LRU lists ============================================== */

/* The page cache's and the LRU lists' state, made with the first page on
 * any list or the first file (an anonymous page may come before any file). */
struct ra_filemap *filemap_state(ra_machine *m);

/* On the list's head (PG_lru set; PG_active for an active list,
 * PG_unevictable for the unevictable one). The page's PG_swapbacked must
 * agree with the list (anon lists: set; file lists: clear). */
void lru_add(ra_machine *m, uint32_t pfn, int lru);
void lru_del(ra_machine *m, uint32_t pfn);
/* folio_lru_list(): the list the page's flags say it belongs on. */
static inline int page_lru(const struct ra_page *p)
{
	if (p->flags & PGF_UNEVICTABLE)
		return LRU_UNEVICTABLE;
	int lru = (p->flags & PGF_SWAPBACKED) ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
	return (p->flags & PGF_ACTIVE) ? lru + LRU_ACTIVE : lru;
}
/* folio_mark_accessed(): the first touch sets PG_referenced, the second
 * moves an inactive page to the active list (pgactivate). */
void folio_mark_accessed(ra_machine *m, uint32_t pfn);
/* deactivate_file_folio() as invalidation does it to a page it cannot
 * drop (dirty): PG_active and PG_referenced cleared, to the inactive head
 * (pgdeactivate if it was active). */
void lru_deactivate_file(ra_machine *m, uint32_t pfn);
/* Pages on a list in the zones 0 .. zidx (lruvec_lru_size). */
uint64_t lru_size(ra_machine *m, int lru, int zidx);
/* Pages of zone z on a list, as the zone's counter says. */
uint64_t zone_lru_pages(const struct ra_zone *z, int lru);
/* The list's name as the kernel spells it ("inactive_anon", ...). */
const char *lru_name(int lru);

#endif /* RA_FILEMAP_H */
