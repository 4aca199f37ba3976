/*
 * swapfile.h — swap: devices and their slots (swapfile.c, the kernel's
 * mm/swapfile.c and mm/swap_slots.c), the swap cache and swap I/O
 * (swap_state.c: mm/swap_state.c, mm/page_io.c), and zram, a swap device
 * whose pages stay in RAM compressed (zram.c: drivers/block/zram and
 * mm/zsmalloc.c). It sits above the page cache (it keeps its pages on the
 * anon LRU lists of filemap.h) and below mm, whose page tables hold the
 * swap entries; reclaim (vmscan.c) and the page-fault path (mm.c) call
 * down into it. docs/kernel-model.md, "Swap" and "zram", tells the rules.
 *
 * A swap entry is (type, offset): type = the device's index in the
 * machine's table (reused after swapoff, as the kernel's swap_info[]),
 * offset = the slot; slot 0 is the header page and never used. In a
 * non-present pte it is stored as PTE_SWAP | entry << 12 (mm.h).
 *
 * A swap-cache page is an anonymous page (PO_USER) with PG_swapcache; its
 * entry is ra_page.priv (type << 27 | offset). swap_map[offset] counts the
 * ptes that hold the entry (1..SWAP_MAP_MAX) plus SWAP_HAS_CACHE while a
 * page of the swap cache, or a per-cpu slot cache, holds the slot.
 */
#ifndef RA_SWAPFILE_H
#define RA_SWAPFILE_H

#include "filemap.h"

#define MAX_SWAPFILES     32
#define SWAP_HAS_CACHE    0x40
#define SWAP_MAP_MAX      0x3e
#define SWAP_BATCH        64     /* SWAP_SLOTS_CACHE_SIZE */
#define SWP_OFFSET_BITS   27     /* in ra_page.priv: 512 GiB of slots per device */
#define SWP_MAX_PAGES     ((1u << SWP_OFFSET_BITS) - 1)

typedef uint64_t swp_entry_t;    /* type << 32 | offset; 0 = none (slot 0 of type 0 is a header) */
static inline swp_entry_t swp_entry(unsigned type, uint32_t off) { return (uint64_t)type << 32 | off; }
static inline unsigned swp_type(swp_entry_t e) { return (unsigned)(e >> 32); }
static inline uint32_t swp_offset(swp_entry_t e) { return (uint32_t)e; }
static inline swp_entry_t page_swp_entry(const struct ra_page *p)
{
	return swp_entry(p->priv >> SWP_OFFSET_BITS, p->priv & SWP_MAX_PAGES);
}

struct ra_zram;

struct ra_swap_info {
	uint32_t id;              /* the handle's device number, never reused */
	unsigned type;            /* index in swap_info[] */
	int      prio;
	bool     auto_prio;       /* prio came from --least_priority */
	bool     writeok;         /* on the avail list (swapoff takes it off) */
	char     name[40];        /* /proc/swaps path */
	uint32_t pages;           /* usable slots: 1 .. pages (slot 0: header) */
	uint32_t inuse;           /* inuse_pages */
	uint32_t next;            /* where the next slot search starts */
	uint8_t *map;             /* swap_map[pages + 1] */
	uint32_t *cache;          /* [pages + 1]: pfn + 1 of the slot's swap-cache page, 0: none */
	uint8_t **data;           /* [pages + 1]: the host copy of a disk slot's page (calloc'd
	                             lazily by the host: a large device costs what it holds) */
	uint64_t avail_seq;       /* order among equal priorities (plist requeue) */
	struct ra_zram *zram;     /* NULL: a disk */
	/* workingset shadow entries of pages reclaim evicted from the swap
	 * cache (slot -> shadow, workingset.c's format): only on a slot in
	 * use that holds no swap-cache page; they go with the slot */
	struct pc_map shadows;
};

/* A cpu's swap slot cache (mm/swap_slots.c). */
struct swap_slots_cache {
	swp_entry_t slots[SWAP_BATCH];
	uint32_t nr, cur;
	swp_entry_t slots_ret[SWAP_BATCH];
	uint32_t n_ret;
};

struct ra_swap {
	struct ra_swap_info *si[MAX_SWAPFILES];
	unsigned nr_types;
	int      least_priority;
	uint64_t total_swap_pages, nr_swap_pages;
	uint64_t avail_seq;
	uint32_t next_id;         /* device numbers: 0, 1, ... */
	uint32_t zram_next;       /* /dev/zramN */
	bool     slots_active;    /* swap_slot_cache_active */
	struct swap_slots_cache *cpu;   /* [ncpus] */
	uint64_t unmapped_cache;  /* anonymous pages that no pte maps (not in AnonPages) */
	uint8_t  peek[RA_PAGE_SIZE];   /* swap_peek_page()'s copy of a slot */
};

/* === swapfile.c: devices and slots ===================================== */

/* === shmem.c: tmpfs pages to swap and back ============================= */

/* shmem_writepage() for reclaim: the tmpfs page pfn (unmapped, isolated)
 * gets a slot and its bytes are written there; the page cache then holds
 * the entry and the page is freed. */
enum shmem_wp { SHMEM_WP_DONE, SHMEM_WP_ACTIVATE, SHMEM_WP_ERROR };
enum shmem_wp shmem_writepage(ra_machine *m, uint32_t pfn);
/* The page cache's hooks (filemap.h's ra_filemap_ops). */
void shmem_swapin_page(ra_machine *m, uint32_t pfn, uint64_t entry);
void shmem_swap_free(ra_machine *m, uint64_t entry);
void shmem_swap_peek(ra_machine *m, uint64_t entry, uint8_t *buf);

/* swapon: a device of size bytes (pages = size/4096 - 1); prio < 0 for an
 * automatic priority; zram with its compression ratio. RA_OK and *id, or
 * RA_EINVAL (too small, too many devices) / RA_ENOMEM (zram's table). */
int  ra_swapon(ra_machine *m, uint64_t size, int prio, bool zram, unsigned ratio, uint32_t *id);
struct ra_swap_info *swap_info_by_id(ra_machine *m, uint32_t id);
static inline struct ra_swap_info *swp_info(ra_machine *m, swp_entry_t e)
{
	struct ra_swap *sw = m->swp;
	return sw && swp_type(e) < MAX_SWAPFILES ? sw->si[swp_type(e)] : NULL;
}
/* get_swap_page(): a slot for one page, with SWAP_HAS_CACHE set; 0 when
 * no device has room (or the swap_slot fault is injected). */
swp_entry_t swap_alloc_slot(ra_machine *m);
/* swap_duplicate(): one more pte holds e. */
void swap_duplicate(ra_machine *m, swp_entry_t e);
/* swap_free(): a pte dropped e (the slot goes when nothing holds it). */
void swap_free(ra_machine *m, swp_entry_t e);
/* put_swap_folio(): the swap cache let go of e. */
void swap_put_cache(ra_machine *m, swp_entry_t e);
/* __swap_count(): the ptes that hold e. */
unsigned swap_count(ra_machine *m, swp_entry_t e);
/* vm_swap_full() */
bool vm_swap_full(ra_machine *m);
bool swap_available(ra_machine *m);   /* get_nr_swap_pages() > 0 */
void swap_fini(ra_machine *m);
/* swapoff's steps (the mm layer brings the pages back in between):
 * take the device off the avail list and out of the totals, put it back
 * (swapoff failed), drop it for good (every slot free). */
void swap_info_disable(ra_machine *m, struct ra_swap_info *si);
void swap_info_reinsert(ra_machine *m, struct ra_swap_info *si);
void swap_info_remove(ra_machine *m, struct ra_swap_info *si);
/* swapcache_free_entries() of every per-cpu cache (drain_slots_cache). */
void swap_drain_slots(ra_machine *m);
/* /proc/swaps */
void swap_show(ra_machine *m, FILE *f);

/* === swap_state.c: the swap cache and swap I/O ========================= */

/* The swap-cache page of e, or RA_NOPFN. */
uint32_t swap_cache_lookup(ra_machine *m, swp_entry_t e);
/* add_to_swap_cache(): the page joins the cache for slot e (whose
 * SWAP_HAS_CACHE is already set): SwapCached, nr_file_pages + 1. */
void add_to_swap_cache(ra_machine *m, uint32_t pfn, swp_entry_t e);
/* delete_from_swap_cache() + put_swap_folio(). */
void delete_from_swap_cache(ra_machine *m, uint32_t pfn);
/* swap_writepage(): copy the page to its slot. 0; -1 when the write
 * fails (swap_write fault, or zram finds no memory). */
int  swap_writepage(ra_machine *m, uint32_t pfn);
/* The same write for page pfn to the slot of e, whatever the page is. */
int  swap_writepage_entry(ra_machine *m, uint32_t pfn, swp_entry_t e);
/* swap_readpage(): fill the page from slot e (pswpin, pgpgin for a disk);
 * a shadow entry in the slot makes it a refault (workingset_refault, anon:
 * the page may go to the active list). */
void swap_readpage(ra_machine *m, uint32_t pfn, swp_entry_t e);
/* __remove_mapping() of a swap-cache page by reclaim: the shadow entry
 * (workingset_eviction, taken before the page went) stays in the slot of e
 * while the slot is in use. */
void swap_store_shadow(ra_machine *m, swp_entry_t e, uint64_t shadow);
/* The bytes slot e holds (a copy), for the oracle and the validators. */
void swap_peek(ra_machine *m, swp_entry_t e, uint8_t *buf);
/* The bytes of the page swapped to e, to read without swapping it in
 * (the validators' reads of a task's memory): its swap-cache page, or a
 * copy of the slot valid until the next call. */
uint8_t *swap_peek_page(ra_machine *m, swp_entry_t e);
/* Drop the data of slot e (the slot is being freed). */
void swap_slot_discard(ra_machine *m, struct ra_swap_info *si, uint32_t off);
/* The device is synchronous (zram: SWP_SYNCHRONOUS_IO). */
static inline bool swap_synchronous(const struct ra_swap_info *si) { return si->zram != NULL; }

/* === zram.c ============================================================ */

struct ra_zram *zram_create(ra_machine *m, uint64_t disksize, unsigned ratio, uint32_t *devno);
void zram_destroy(ra_machine *m, struct ra_zram *z);
/* A write of one page to slot off: 0, or -1 when no zsmalloc page can be
 * had (the page is not stored). */
int  zram_write(ra_machine *m, struct ra_zram *z, uint32_t off, const uint8_t *page);
void zram_read(ra_machine *m, struct ra_zram *z, uint32_t off, uint8_t *page);
/* zram_slot_free_notify() */
void zram_free(ra_machine *m, struct ra_zram *z, uint32_t off);
bool zram_stored(const struct ra_zram *z, uint32_t off);
/* /sys/block/zramN/mm_stat */
void zram_mm_stat(ra_machine *m, struct ra_zram *z, FILE *f);
uint32_t zram_devno(const struct ra_zram *z);
/* The pages of the zsmalloc pool, and of each object kind (validators). */
uint64_t zram_pool_pages(const struct ra_zram *z);
long zram_validate(ra_machine *m, struct ra_zram *z, const struct ra_swap_info *si);

#endif /* RA_SWAPFILE_H */
