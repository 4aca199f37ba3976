/*
 * inspect.h — read-outs of a machine's state for tools: the bench's
 * samplers (attached to ra_replay's hook, trace.h), front ends, tests.
 * Each call fills a plain struct from the engine's structures; none
 * changes anything or takes a fault, so a tool may call them between any
 * two operations without changing what the trace does.
 *
 * Counters (the vmstat-like events and levels: pages per owner, watermark
 * failures, kswapd wakeups, OOM kills, ...) are not here: they are read
 * through refalloc/stats.h. This header covers what is not a counter: the
 * shape of the zones' free lists, the slab caches, the tasks and their
 * malloc.
 *
 * Errors: RA_EINVAL for an index out of range, RA_ENOENT for an object
 * that does not exist (a cache id freed by kmem_cache_destroy, a pid no
 * task has).
 */
#ifndef REFALLOC_INSPECT_H
#define REFALLOC_INSPECT_H

#include "refalloc/refalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* === The machine ======================================================== */

#define RA_ZONES 4   /* zone indices 0..3: DMA, DMA32, Normal, Movable (an empty zone is not populated) */

struct ra_machine_info {
	uint64_t totalram_pages;    /* managed pages of all zones (MemTotal) */
	unsigned ncpus;
	unsigned nr_cache_ids;      /* slab cache ids are 0 .. nr_cache_ids-1 (some may be free) */
	uint64_t vmalloc_areas;     /* live vmap areas, the kernel's own (kernel stacks) included */
	unsigned nr_tasks;          /* tasks created so far, dead ones included */
};
int ra_machine_info(ra_machine *m, struct ra_machine_info *mi);

/* === Zones ============================================================== */

struct ra_zone_info {
	const char *name;           /* "DMA", "DMA32", "Normal", "Movable" */
	int      populated;         /* 0: the zone is empty, the rest is zero */
	uint64_t start_pfn, end_pfn;
	uint64_t managed;           /* pages */
	uint64_t free_pages;        /* on the buddy lists (NR_FREE_PAGES) */
	uint64_t wmark_min, wmark_low, wmark_high;
	uint64_t nr_free[RA_MAX_ORDER + 1];   /* free blocks per order, every migratetype (buddyinfo) */
	uint64_t pcp_pages;         /* pages on the per-cpu lists of every cpu */
	/* the kernel's indices for each order, x1000 (debugfs unusable_index
	 * and extfrag_index): unusable free space; external fragmentation,
	 * -1000 when a free block of the order exists */
	int16_t  unusable[RA_MAX_ORDER + 1];
	int16_t  fragidx[RA_MAX_ORDER + 1];
};
/* zone: 0 .. RA_ZONES-1; RA_EINVAL otherwise. */
int ra_zone_info(ra_machine *m, int zone, struct ra_zone_info *zi);

/* === Slab caches ======================================================== */

struct ra_slab_cache_info {
	unsigned id;
	const char *name;           /* valid while the cache exists */
	int      alias;             /* merged into another cache (slab merging): alias_of holds its objects */
	unsigned alias_of;
	int      kmalloc;           /* one of the kmalloc caches */
	uint32_t object_size;       /* what its users asked for */
	uint32_t size;              /* slot size: object, alignment, debug metadata */
	uint32_t order, objects_per_slab;
	uint64_t nr_slabs, total_objects;
	uint64_t partial_slabs;     /* slabs on the partial list */
	uint64_t slab_pages;        /* pages its slabs hold */
};
/* id: 0 .. nr_cache_ids-1; RA_ENOENT when no cache has it (destroyed). */
int ra_slab_cache_info(ra_machine *m, unsigned id, struct ra_slab_cache_info *ci);
/* The cache whose slab holds kernel address addr: its id (for an object of
 * an alias, the real cache), or -1 when addr is no slab object's (a large
 * kmalloc, pages, vmalloc, ZERO_SIZE_PTR). */
int ra_slab_cache_of(ra_machine *m, ra_addr_t addr);

/* === Tasks and their malloc ============================================= */

struct ra_task_info {
	uint32_t pid, ppid;
	char     comm[16];
	int      alive;             /* not exited, not OOM-killed */
	int      oom_score_adj;
	uint32_t nr_threads;
	/* pages; 0 once the task's memory is gone (exit, kill) */
	uint64_t rss, hiwater_rss;  /* MM_ANONPAGES now, and its peak */
	uint64_t total_vm;
	uint64_t min_flt;           /* minor faults over its life */
};
/* RA_ENOENT: no task has pid. */
int ra_task_info(ra_machine *m, uint32_t pid, struct ra_task_info *ti);

/* The task's malloc (umalloc) as its own statistics see it: what
 * malloc_stats() prints, with the peaks. */
struct ra_malloc_info {
	uint64_t system_bytes, max_system_bytes;   /* arenas' memory from brk and mmap */
	uint64_t mmapped_regions, mmapped_bytes;   /* chunks served by mmap */
	uint64_t max_mmapped_regions, max_mmapped_bytes;
	uint64_t inuse_bytes;
	uint64_t live_chunks, live_bytes;          /* blocks handed out and not freed */
	uint64_t narenas;
};
/* RA_ENOENT: no task has pid, or its memory is gone (exit, kill). */
int ra_malloc_info(ra_machine *m, uint32_t pid, struct ra_malloc_info *mi);
/* malloc_usable_size(addr) in task pid; 0 when addr is no live block of it. */
size_t ra_malloc_usable_size(ra_machine *m, uint32_t pid, uint64_t addr);

#ifdef __cplusplus
}
#endif
#endif /* REFALLOC_INSPECT_H */
