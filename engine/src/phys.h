/*
 * phys.h — the bottom layer: page frames, zones as the kernel's mmzone.h
 * describes them, the host memory behind simulated RAM, and the services
 * every layer uses (assertions, call sites, the seeded PRNG, the error
 * funnel, fault injection, knobs and counters). phys.c, report.c, fail.c
 * and gfp.c implement it.
 *
 * Layering (engine/src/layers.txt is the one statement of the order,
 * checked in make test): phys <- buddy <- slab <- vmalloc <- filemap <- swap <- mm
 * <- vmscan <- oom <- user runtime <- the machine, the views, the checkers
 * and the replay. A file includes only the headers of its own layer and the
 * ones below; where the kernel calls upward (the page allocator's slow path
 * entering reclaim and the OOM killer, a new task starting its C library),
 * the lower layer calls a hook the upper one registers at machine creation
 * (buddy.h, mm.h).
 *
 * Page frames: one struct ra_page per 4 KiB frame, in an array reserved
 * lazily from the host (MAP_NORESERVE), so untouched frames of a large
 * machine cost nothing. The all-zero ra_page is meaningful: it is a "tail"
 * frame, i.e. a frame that is not the head of any block. Only block heads
 * carry state (owner, order, migratetype); a block of order k covers its head
 * and the 2^k - 1 zero frames after it. Booting a 64 GiB machine therefore
 * writes one ra_page per 4 MiB.
 *
 * struct ra_machine holds every layer's state. Fields of the layers above
 * are pointers to types this header does not define: only their owners
 * (and the views and checkers) look inside.
 */
#ifndef RA_PHYS_H
#define RA_PHYS_H

#include "refalloc/refalloc.h"
#include "refalloc/stats.h"
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>

/* === Assertions in tiers ================================================ */

/* RA_BUG_ON: cheap, always on; an engine bug, never a trace's fault. */
#define RA_BUG_ON(m, cond) \
	do { if (__builtin_expect(!!(cond), 0)) ra_engine_bug((m), __FILE__, __LINE__, #cond); } while (0)
/* RA_DEBUG_ON: evaluated only in debug builds; type-checked always. */
#ifdef RA_DEBUG
#define RA_DEBUG_ON(m, cond) RA_BUG_ON(m, cond)
#else
#define RA_DEBUG_ON(m, cond) do { if (0 && (cond)) {} } while (0)
#endif

#define RA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RA_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RA_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RA_ALIGN(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define RA_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define RA_UNUSED __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* === Constants as on x86-64 ============================================== */

#define RA_NR_ORDERS          (RA_MAX_ORDER + 1)
#define RA_PAGEBLOCK_ORDER    9
#define RA_PAGEBLOCK_PAGES    (1u << RA_PAGEBLOCK_ORDER)
#define RA_COSTLY_ORDER       3                     /* PAGE_ALLOC_COSTLY_ORDER */
#define RA_DIRECT_MAP_BASE    0xffff888000000000ULL /* page_offset_base */
#define RA_VMALLOC_START      0xffffc90000000000ULL
#define RA_VMALLOC_SIZE       (32ULL << 40)
#define RA_VMALLOC_END        (RA_VMALLOC_START + RA_VMALLOC_SIZE)
#define RA_NOPFN              UINT32_MAX

enum ra_mt {
	MT_UNMOVABLE, MT_MOVABLE, MT_RECLAIMABLE, MT_HIGHATOMIC, MT_CMA, MT_ISOLATE, MT_NR
};
#define MT_PCPTYPES 3
#define RA_NR_PCP_LISTS (MT_PCPTYPES * (RA_COSTLY_ORDER + 1))

enum ra_zone_idx { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, RA_NR_ZONES };
#define RA_NR_REAL_ZONES 3   /* Movable exists in tables only: it is never populated */

/* Who holds a block (set on its head frame). PO_NONE = tail or never used. */
enum ra_owner {
	PO_NONE = 0,
	PO_BUDDY,       /* free, on a buddy free list */
	PO_PCP,         /* free, on a per-cpu list */
	PO_PAGES,       /* alloc_pages by a trace or caller */
	PO_KMALLOC,     /* kmalloc larger than the biggest cache */
	PO_SLAB,        /* a slab of a kmem cache; priv = slab id */
	PO_VMALLOC,     /* backs a vmalloc area; priv = area id */
	PO_BALLOON,     /* taken by the balloon; priv = balloon id */
	PO_USER,        /* anonymous user page; count = mapcount */
	PO_PGTABLE,     /* page-table page of a task */
	PO_ZEROPAGE,    /* the shared zero page */
	PO_FILE,        /* a page-cache page (filemap.h); priv = file id, count = index in the file,
	                   next/prev = links on a file LRU list */
	PO_ZSPAGE,      /* a page of zram's zsmalloc pool (swapfile.h); priv = zram device */
	PO_NR
};

/* ra_page.flags */
#define PGF_ZEROED   0x01   /* contents known to be zero (fresh from the host) */
#define PGF_MLOCKED  0x02
#define PGF_DIRTY    0x04
/* page-cache pages (filemap.h), as the kernel's folio flags */
#define PGF_REFERENCED 0x08 /* PG_referenced: one access seen (folio_mark_accessed) */
#define PGF_ACTIVE     0x10 /* PG_active: on the active file list */
#define PGF_LRU        0x20 /* PG_lru: on a file LRU list */
#define PGF_READAHEAD  0x40 /* PG_readahead: reading it starts the next readahead window */
/* LRU pages in general (anon, shmem and file), swap and the workingset */
#define PGF_SWAPBACKED  0x080 /* PG_swapbacked: anon or shmem; on the anon lists */
#define PGF_SWAPCACHE   0x100 /* PG_swapcache: in the swap cache (a slot holds a copy) */
#define PGF_WORKINGSET  0x200 /* PG_workingset: was active before it was evicted */
#define PGF_UNEVICTABLE 0x400 /* PG_unevictable: on the unevictable list (mlocked) */
#define PGF_RECLAIM     0x800 /* PG_reclaim: under writeback for reclaim */
#define PGF_ANON_EXCLUSIVE 0x1000 /* PageAnonExclusive: an anon page only one mm may use (rmap.c) */

struct ra_page {
	uint32_t next, prev;  /* list links (free list, pcp list), RA_NOPFN at the ends */
	uint8_t  owner;       /* enum ra_owner */
	uint8_t  order;
	uint8_t  mt;          /* migratetype: of the list it is on, or of the allocation */
	uint16_t flags;       /* PGF_* */
	uint32_t priv;        /* owner's id (slab, vm area, balloon, pcp cpu, file) */
	uint32_t count;       /* mapcount of user pages; index in the file of page-cache pages */
};

/* A doubly linked list of frames by pfn. */
struct ra_plist { uint32_t head, tail; };

/* === Zones, free areas, per-cpu lists (the page allocator's state) ======= */

struct ra_free_area {
	struct ra_plist list[MT_NR];
	uint64_t nr_free;            /* blocks, all types */
	uint64_t nr_type[MT_NR];     /* blocks per type (pagetypeinfo) */
};

struct ra_pcp {
	uint32_t count;              /* pages on all lists */
	uint32_t high, batch;
	struct ra_plist lists[RA_NR_PCP_LISTS];
	uint32_t nr_blocks[RA_NR_PCP_LISTS];
};

struct ra_zone {
	int      idx;
	const char *name;
	uint32_t start_pfn, end_pfn;           /* spanned [start, end) */
	uint64_t present, managed;
	uint64_t cma_pages;                    /* pages in CMA pageblocks */
	uint64_t nr_reserved_highatomic;
	uint64_t wmark[3];                     /* min, low, high (_watermark: without the boost) */
	uint64_t watermark_boost;              /* added to every watermark (boost_watermark) */
	bool     boosted_wakeup;               /* ZONE_BOOSTED_WATERMARK: rmqueue wakes kswapd */
	uint64_t lowmem_reserve[RA_NR_ZONES];
	struct ra_free_area area[RA_NR_ORDERS];
	struct ra_pcp *pcp;                    /* [ncpus] */
	/* counters */
	uint64_t vm_stat[RA_NR_STATS];         /* the zone items (NR_FREE_PAGES: on buddy lists) and
	                                          per-zone events of refalloc/stats.h; the rest unused */
};

/* min/low/high_wmark_pages(): the watermark with the zone's boost (i: 0
 * min, 1 low, 2 high); every user of a watermark adds the boost. */
static inline uint64_t wmark_pages(const struct ra_zone *z, int i) { return z->wmark[i] + z->watermark_boost; }

/* === Knobs (knobs.c) ==================================================== */

#include "knobs.h"

/* === Sites: "FILE:LINE" of the operation being executed ================== */

struct ra_site { uint32_t file, line; };

/* === The machine ======================================================== */

struct ra_fail_attr {
	int64_t  nth;        /* fail the nth call from now (1-based); 0 = unused */
	int64_t  times;      /* failures left; -1 unlimited */
	int64_t  every;      /* fail every Nth call; 0 = unused */
	uint32_t prob;       /* percent 0..100 */
	uint64_t calls;      /* calls seen since armed */
	uint64_t injected;
	uint8_t  armed;
};

enum ra_fail_site { FAIL_PAGE_ALLOC, FAIL_SLAB, FAIL_VMALLOC, FAIL_MMAP, FAIL_BRK, FAIL_FAULT, FAIL_WRITEBACK,
                    FAIL_SWAP_SLOT, FAIL_SWAP_WRITE, FAIL_NR };

struct ra_machine {
	struct ra_config cfg;
	uint32_t nr_pages;            /* frames 0 .. nr_pages-1 */
	unsigned ncpus, cpu;
	struct ra_page *pages;        /* [nr_pages], lazily reserved */
	size_t   pages_map_len;
	uint8_t *ram;                 /* simulated RAM, lazily reserved */
	size_t   ram_map_len;
	uint8_t *pageblock_mt;        /* [nr_pages >> 9] */
	uint8_t *pageblock_retyped;   /* [nr_pages >> 9]: left the highatomic reserve while holding free
	                                 blocks, which (as in the kernel) stay unmerged with their buddies */
	uint8_t *ram_dirty;           /* [nr_pageblocks + 2]: pageblocks whose RAM the machine may have
	                                 written (every host pointer into RAM is taken through pfn_host
	                                 or kaddr_host, which mark them): what is cleaned or unpoisoned
	                                 at the end */
	uint64_t *ram_written;        /* [nr_pages / 64 + 1] bits: pages the machine may have written (a
	                                 host pointer taken into them: pfn_host, kaddr_host, marked
	                                 ranges for writes that span pages); the others still hold the
	                                 zeros the machine began with: what a __GFP_ZERO allocation need
	                                 not clear, and what is not cleaned at the end */
	uint8_t *san_guard;           /* ASan builds: one poisoned host page standing for every vmalloc guard
	                                 page, so a trace's access to a guard page is ASan's to report */
	struct ra_zone zones[RA_NR_ZONES];
	int      nr_zones;            /* populated zones are 0..nr_zones-1 (with gaps skipped) */
	bool     populated[RA_NR_ZONES];
	uint64_t totalram;            /* managed pages, all zones */
	uint64_t totalreserve;
	uint32_t cma_start, cma_end;  /* pfns */

	struct ra_knobs knobs;

	/* slab */
	struct ra_cache **caches;     /* by id; creation order */
	uint32_t nr_caches, caches_cap;
	struct ra_cache *kmalloc_caches[3][14];  /* [type][index] */
	struct ra_slab *slabs;        /* by id */
	uint32_t nr_slabs_cap, slab_free_id;   /* free ids chained through .next */
	uint32_t slab_ids_used;
	uint32_t slub_debug_flags;    /* global slub_debug letters */
	char     slub_debug_only[8][48]; /* cache names the global flags apply to; empty = all */
	int      slub_debug_nr_only;

	/* vmalloc */
	struct ra_vmarea **vmareas;   /* sorted by address, live only */
	uint32_t nr_vmareas, vmareas_cap;
	uint32_t vm_next_id;
	uint64_t vmalloc_used_pages;
	struct vm_recent *vm_recent;  /* recently freed area starts: tells double from invalid vfree */

	/* balloon */
	struct ra_balloon *balloons;
	uint32_t nr_balloons, balloons_cap;

	/* fault injection, seeded PRNG */
	struct ra_fail_attr fail[FAIL_NR];
	uint64_t fail_any_nth, fail_any_calls, fail_any_injected;
	uint64_t rng;

	/* sites */
	char   **files;               /* interned file names */
	uint32_t nr_files;
	struct ra_site site;

	/* checking and reporting */
	enum ra_check_level check;
	FILE    *out, *err;
	char     errmsg[256];
	uint64_t nr_reports;          /* funnel count: misuse and in-band corruption */
	uint64_t nr_problems;         /* validator findings: engine inconsistencies */
	int      last_report_class;
	uint64_t op_seq;              /* operations executed: "when" in tracks */
	uint32_t report_cap;          /* stop printing after this many */
	bool     slab_tainted;        /* a slab BUG was printed: later ones say Tainted */
	bool     inband_tainted;      /* a trace wrote where it had no object (stale or out-of-bounds
	                                 kernel pointer, heap shrunk under malloc): in-band metadata
	                                 may be garbage, the validators' findings there are misuse */
	bool     valgrind;            /* running under Valgrind: client requests are made */
	bool     raw_trace_access;    /* a trace's poke/touch bypass the sanitizers (fuzzing: the
	                                 sanitizers are there to catch the engine, not the trace) */

	/* Counters (refalloc/stats.h): node levels and events; peaks of the
	 * RA_SF_PEAK levels. Zone items live in each zone's vm_stat. Changed
	 * through the helpers below, read through ra_stat_read. */
	uint64_t vm_stat[RA_NR_STATS];
	uint64_t vm_peak[RA_NR_STATS];

	/* user side (mm.h), opaque here */
	struct ra_mm_world *mmw;
	/* files and the page cache with its LRU lists (filemap.h), opaque
	 * here; NULL until the first file */
	struct ra_filemap *fm;
	/* swap devices, the swap cache, zram (swapfile.h), opaque here;
	 * NULL until the first swapon. pf_memalloc: reclaim is running
	 * (current->flags & PF_MEMALLOC): its allocations (zram's) may use
	 * every free page and never reclaim again. */
	struct ra_swap *swp;
	bool     pf_memalloc;
	/* reclaim's cost model (vmscan.c): the root lruvec's anon_cost and
	 * file_cost, and the workingset_activate_anon/_file counts at the last
	 * snapshot_refaults() */
	struct { uint64_t anon_cost, file_cost, refaults_anon, refaults_file; } lruvec;
	/* The simulated clock, in ms since boot: only `sleep` moves it
	 * (operations cost no time). wb_last_flush: when the flusher's
	 * periodic (kupdate) writeback last ran (page_writeback.c). */
	uint64_t now_ms, wb_last_flush;
	/* kswapd's wake-up state (vmscan.c): pgdat->kswapd_order,
	 * kswapd_highest_zoneidx, kswapd_failures */
	struct { bool pending; unsigned order; int classzone; unsigned failures;
	         bool short_sleep; uint64_t short_until; } kswapd;    /* short_*: kswapd_try_to_sleep's HZ/10 nap */

	/* Hooks into the layers above, registered at creation (machine.c):
	 * the page allocator's slow path (buddy.h), the page cache's question
	 * to the swap layer (filemap.h) and the C library a new task starts
	 * (mm.h). */
	const struct ra_slowpath_ops *slowpath;
	const struct ra_filemap_ops *filemap_ops;
	const struct ra_user_runtime *user_rt;
};


/* === Counters (vmstat.c reads them out) ================================ */

/* Items are named without the RA_STAT_ prefix, as the kernel names its own:
 * node_page_state(m, NR_ANON_PAGES), count_vm_event(m, PGFAULT). */
#define RA_STAT_PEAK_CASE(item, name, kind, flags) case RA_STAT_##item: return ((flags) & RA_SF_PEAK) != 0;
static inline bool ra_stat_has_peak(enum ra_stat_item i)
{
	switch (i) {
	RA_STAT_LIST(RA_STAT_PEAK_CASE)
	default: return false;
	}
}
#undef RA_STAT_PEAK_CASE
static inline void ra_node_stat_mod(ra_machine *m, enum ra_stat_item i, int64_t delta)
{
	uint64_t v = m->vm_stat[i] += (uint64_t)delta;
	if (ra_stat_has_peak(i) && v > m->vm_peak[i])
		m->vm_peak[i] = v;
}
#define mod_node_page_state(m, item, delta) ra_node_stat_mod((m), RA_STAT_##item, (int64_t)(delta))
#define node_page_state(m, item)            ((m)->vm_stat[RA_STAT_##item])
#define count_vm_events(m, item, n)         ((m)->vm_stat[RA_STAT_##item] += (uint64_t)(n))
#define count_vm_event(m, item)             count_vm_events((m), item, 1)
#define vm_event(m, item)                   ((m)->vm_stat[RA_STAT_##item])
/* zone items and per-zone events */
#define zone_page_state(z, item)            ((z)->vm_stat[RA_STAT_##item])
#define mod_zone_page_state(z, item, delta) ((z)->vm_stat[RA_STAT_##item] += (uint64_t)(int64_t)(delta))
#define count_zone_vm_events(z, item, n)    ((z)->vm_stat[RA_STAT_##item] += (uint64_t)(n))

/* === Dirty limits (vmstat.c; mm/page-writeback.c's arithmetic) ========== */

/* domain_dirty_limits() for the global domain, a task that is not RT:
 * avail dirtyable pages; ratios in percent, bytes 0 when the ratio
 * applies. Sets *thresh (the throttling threshold) and *bg_thresh (the
 * background threshold), in pages. Pure arithmetic, for unit tests. */
void domain_dirty_limits(uint64_t avail, uint64_t ratio, uint64_t bytes, uint64_t bg_ratio, uint64_t bg_bytes,
                         uint64_t *thresh, uint64_t *bg_thresh);
/* global_dirtyable_memory(): free pages above totalreserve plus the file
 * LRU lists, plus 1. */
uint64_t global_dirtyable_memory(const ra_machine *m);
/* global_dirty_limits(): the machine's thresholds now, from its knobs. */
void global_dirty_limits(const ra_machine *m, uint64_t *bg_thresh, uint64_t *thresh);

/* === Valgrind blocks (the macros are in san.h) ========================== */

void ra_vg_alloc_(ra_machine *m, void *p, size_t n, bool zeroed);
void ra_vg_free_(ra_machine *m, void *p, size_t keep_off, size_t keep_len);
void ra_vg_forget_(ra_machine *m, void *p, size_t n);
/* A trace-visible object appears / goes / turns out to be the kernel's own. */
#define ra_vg_alloc(m, p, n, z) do { if (unlikely((m)->valgrind)) ra_vg_alloc_((m), (p), (n), (z)); } while (0)
#define ra_vg_free(m, p, off, len) do { if (unlikely((m)->valgrind)) ra_vg_free_((m), (p), (off), (len)); } while (0)
#define ra_vg_forget(m, p, n) do { if (unlikely((m)->valgrind)) ra_vg_forget_((m), (p), (n)); } while (0)

/* === phys.c: frames, host RAM, block heads, sites, the PRNG ============== */

static inline struct ra_page *pfn_page(ra_machine *m, uint32_t pfn) { return &m->pages[pfn]; }
static inline uint32_t page_pfn(ra_machine *m, const struct ra_page *p) { return (uint32_t)(p - m->pages); }
static inline ra_addr_t pfn_to_kaddr(uint32_t pfn) { return RA_DIRECT_MAP_BASE + ((ra_addr_t)pfn << RA_PAGE_SHIFT); }
/* Lists of frames (struct ra_plist): the buddy and per-cpu lists, the LRU. */
static inline void plist_add_head(ra_machine *m, struct ra_plist *l, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	p->prev = RA_NOPFN;
	p->next = l->head;
	if (l->head != RA_NOPFN)
		pfn_page(m, l->head)->prev = pfn;
	else
		l->tail = pfn;
	l->head = pfn;
}

static inline void plist_add_tail(ra_machine *m, struct ra_plist *l, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	p->next = RA_NOPFN;
	p->prev = l->tail;
	if (l->tail != RA_NOPFN)
		pfn_page(m, l->tail)->next = pfn;
	else
		l->head = pfn;
	l->tail = pfn;
}

static inline void plist_del(ra_machine *m, struct ra_plist *l, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (p->prev != RA_NOPFN)
		pfn_page(m, p->prev)->next = p->next;
	else
		l->head = p->next;
	if (p->next != RA_NOPFN)
		pfn_page(m, p->next)->prev = p->prev;
	else
		l->tail = p->prev;
	p->next = p->prev = 0;
}

/* Pageblocks of the machine (the last one may be partial). */
static inline size_t ra_nr_pageblocks(const ra_machine *m)
{
	return ((size_t)m->nr_pages + RA_PAGEBLOCK_PAGES - 1) / RA_PAGEBLOCK_PAGES;
}

/* Host addresses of simulated RAM. Both mark the page written, and the
 * pageblock and the next one dirty: a pointer taken here may be used for a
 * range that ends at the end of the next pageblock (an order-10 page is two
 * pageblocks; ASan's poisoning of it is undone per dirty pageblock). */
static inline void ram_mark(ra_machine *m, size_t off)
{
	size_t b = off >> (RA_PAGEBLOCK_ORDER + RA_PAGE_SHIFT), pfn = off >> RA_PAGE_SHIFT;
	m->ram_dirty[b] = 1;
	m->ram_dirty[b + 1] = 1;      /* the array has spare entries at the end */
	m->ram_written[pfn >> 6] |= 1ULL << (pfn & 63);
}
static inline bool ram_page_written(const ra_machine *m, uint32_t pfn)
{
	return (m->ram_written[pfn >> 6] >> (pfn & 63)) & 1;
}
/* Reserve (phys_init: RA_OK or RA_ENOMEM) and give back (phys_fini) the
 * host memory of a machine's frames: the frame array, simulated RAM, the
 * per-pageblock arrays; m->nr_pages is set before. */
int  phys_init(ra_machine *m);
void phys_fini(ra_machine *m);
/* Pages [pfn, pfn + n) are about to be written through one host pointer
 * (a slab, a copy or an access that spans pages): marked as written. */
void ra_ram_mark_range(ra_machine *m, uint32_t pfn, uint32_t n);
static inline uint8_t *pfn_host(ra_machine *m, uint32_t pfn)
{
	ram_mark(m, (size_t)pfn << RA_PAGE_SHIFT);
	return m->ram + ((size_t)pfn << RA_PAGE_SHIFT);
}
/* Is addr inside the direct map of this machine's RAM? */
static inline bool kaddr_valid(ra_machine *m, ra_addr_t a)
{
	return a >= RA_DIRECT_MAP_BASE && a < RA_DIRECT_MAP_BASE + ((ra_addr_t)m->nr_pages << RA_PAGE_SHIFT);
}
static inline uint32_t kaddr_pfn(ra_addr_t a) { return (uint32_t)((a - RA_DIRECT_MAP_BASE) >> RA_PAGE_SHIFT); }
static inline uint8_t *kaddr_host(ra_machine *m, ra_addr_t a)
{
	ram_mark(m, (size_t)(a - RA_DIRECT_MAP_BASE));
	return m->ram + (a - RA_DIRECT_MAP_BASE);
}
static inline int pageblock_mt(ra_machine *m, uint32_t pfn) { return m->pageblock_mt[pfn >> RA_PAGEBLOCK_ORDER]; }
static inline void set_pageblock_mt(ra_machine *m, uint32_t pfn, int mt) { m->pageblock_mt[pfn >> RA_PAGEBLOCK_ORDER] = (uint8_t)mt; }
/* Head frame of the block containing pfn (the frame itself when it is a head). */
uint32_t ra_block_head(ra_machine *m, uint32_t pfn);
uint32_t ra_intern_file(ra_machine *m, const char *file);
/* The current site packed in 32 bits: file index << 24 | line. */
static inline uint32_t ra_site32(const ra_machine *m) { return (m->site.file << 24) | (m->site.line & 0xffffffu); }
const char *ra_site_file(ra_machine *m, uint32_t file);
uint64_t ra_rand(ra_machine *m);
void ra_engine_bug(ra_machine *m, const char *file, int line, const char *cond) __attribute__((noreturn));
void ra_set_error(ra_machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline unsigned ra_fls(uint64_t x) { return x ? 64 - (unsigned)__builtin_clzll(x) : 0; }
static inline unsigned ra_get_order(uint64_t size)
{
	if (size <= RA_PAGE_SIZE) return 0;
	return ra_fls((size - 1) >> RA_PAGE_SHIFT);
}
static inline uint64_t ra_rounddown_pow2(uint64_t x) { return x ? 1ULL << (ra_fls(x) - 1) : 0; }
uint64_t ra_int_sqrt(uint64_t x);

static inline struct ra_zone *pfn_zone(ra_machine *m, uint32_t pfn)
{
	for (int z = 0; z < RA_NR_REAL_ZONES; z++)
		if (pfn < m->zones[z].end_pfn && pfn >= m->zones[z].start_pfn)
			return &m->zones[z];
	return NULL;
}

/* === fail.c ============================================================= */

bool ra_should_fail_slow(ra_machine *m, enum ra_fail_site site, ra_gfp_t gfp);
#define ra_should_fail(m, site, gfp) (unlikely((m)->fail[(site)].armed) && ra_should_fail_slow((m), (site), (gfp)))
void ra_fail_nth(ra_machine *m, uint64_t nth);
void ra_fail_arm(ra_machine *m, int site, const int64_t a[5]);   /* a: site, nth, times, every, prob */
uint64_t ra_fail_injected(const ra_machine *m);
int  ra_fail_site_parse(const char *name, size_t len);
const char *ra_fail_site_name(int site);

/* === report.c: the error funnel ========================================= */

enum ra_report_class {
	RC_NONE = 0,
	RC_DOUBLE_FREE,
	RC_INVALID_FREE,       /* pointer not from this allocator / not an object start */
	RC_WRONG_CACHE,        /* kmem_cache_free to another cache */
	RC_REDZONE,            /* red zone overwritten */
	RC_POISON,             /* poison overwritten (use after free) */
	RC_PADDING,
	RC_FREEPTR,            /* free pointer / freelist corrupt */
	RC_SLAB_STATE,         /* slab counts wrong */
	RC_CACHE_BUSY,         /* kmem_cache_destroy with objects */
	RC_BAD_ORDER,          /* free_pages with the wrong order */
	RC_PAGE_FAULT,         /* access to an unmapped kernel address / guard page */
	RC_HEAP_CORRUPTION,    /* user heap metadata */
	RC_USER_FAULT,         /* user access outside any VMA (SIGSEGV) */
	RC_INVARIANT,          /* a validator found an engine inconsistency */
	RC_OOM,                /* out of memory (informational) */
	RC_PANIC,
	RC_NR
};

const char *ra_report_class_name(int cls);
/* First line "BUG: refalloc: <class> in <where>: <msg> (FILE:LINE)" on err;
 * returns -1 so callers can `return ra_report(...)`. */
int  ra_report(ra_machine *m, int cls, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Continuation lines of the current report (kernel-style detail). */
void ra_report_more(ra_machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ra_hexdump(ra_machine *m, const char *text, ra_addr_t addr, const uint8_t *p, size_t len);
/* Informational kernel log line to err (page allocation failure, ...). */
void ra_log(ra_machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Validators report here: counts one problem. */
void ra_problem(ra_machine *m, long *count, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* RA_PHYS_H */
