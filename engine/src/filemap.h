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
 * anon LRU lists as the kernel keeps them (PG_swapbacked): reclaim, which
 * scans those lists only to swap, keeps them (the model does not swap
 * tmpfs pages), and fadvise and drop_caches leave them; truncate and
 * unlink free them. A read of a hole
 * allocates nothing (shmem's SGP_READ); there is no readahead.
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
	char    *name;
	uint64_t size;              /* i_size, bytes */
	struct pc_map cache;        /* page index -> pfn */
	struct pc_map disk;         /* page index -> host block of RA_PAGE_SIZE bytes */
	uint64_t nrpages, nrdirty;
	uint64_t dirtied_when;      /* ms: when the file went from clean to dirty (inode->dirtied_when) */
	bool     shmem;             /* tmpfs: no disk, pages only in the cache (see filemap.c) */
	/* struct file_ra_state */
	uint64_t ra_start;
	uint32_t ra_size, ra_async;
	int64_t  prev_pos;          /* end of the last read (-1: none) */
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

struct ra_filemap {
	struct ra_file **files;     /* by id; NULL once unlinked */
	uint32_t nr_files, cap;
	struct ra_plist lru[NR_LRU_LISTS];
};

/* === filemap.c: files ==================================================== */

/* Create an empty sparse file of size bytes (shmem: on tmpfs): RA_OK
 * (id set). */
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
/* Write every dirty page back now; returns the pages written. */
uint64_t ra_file_fsync(ra_machine *m, struct ra_file *f);
void ra_file_truncate(ra_machine *m, struct ra_file *f, uint64_t size);
/* The name goes and, as nothing maps it, every page and block with it. */
void ra_file_unlink(ra_machine *m, struct ra_file *f);
/* invalidate_mapping_pages(): drop the clean pages, deactivate the others;
 * returns the pages dropped (fadvise DONTNEED, drop_caches). */
uint64_t ra_file_invalidate(ra_machine *m, struct ra_file *f);
/* The bytes a read would return, without touching the page cache. */
void ra_file_peek(ra_machine *m, struct ra_file *f, uint64_t off, uint64_t len, uint8_t *buf);
void ra_filemap_fini(ra_machine *m);

/* For reclaim (vmscan.c): write a dirty page-cache page back now; take a
 * page out of its file's cache and off the LRU, and free it. */
void filemap_writeback_page(ra_machine *m, uint32_t pfn);
void filemap_remove_page(ra_machine *m, uint32_t pfn);

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

/* pc_map (filemap.c): find returns a pointer to the value or NULL. */
uint64_t *pcm_find(const struct pc_map *h, uint64_t key);
/* The keys in increasing order (malloc'd, *n set); NULL when empty. */
uint64_t *pcm_sorted_keys(const struct pc_map *h, uint32_t *n);

/* === swap.c: the LRU lists ============================================== */

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
