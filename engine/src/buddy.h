/*
 * buddy.h — the page allocator (buddy.c, the kernel's page_alloc.c): free
 * lists per order and migratetype, per-cpu lists, watermarks, fallback and
 * the highatomic reserve; the allocation flags it works with; and the hook
 * through which its slow path reaches the policies above it.
 */
#ifndef RA_BUDDY_H
#define RA_BUDDY_H

#include "phys.h"

/* === GFP -> allocation context ========================================== */

/* alloc_flags, named as in the kernel (ALLOC_HIGH is 6.x's ALLOC_MIN_RESERVE,
 * ALLOC_HARDER is ALLOC_NON_BLOCK). */
#define ALLOC_WMARK_MIN       0x00
#define ALLOC_WMARK_LOW       0x01
#define ALLOC_WMARK_HIGH      0x02
#define ALLOC_NO_WATERMARKS   0x04
#define ALLOC_WMARK_MASK      (ALLOC_NO_WATERMARKS - 1)
#define ALLOC_OOM             0x08
#define ALLOC_HARDER          0x10
#define ALLOC_HIGH            0x20
#define ALLOC_CPUSET          0x40
#define ALLOC_CMA             0x80
#define ALLOC_NOFRAGMENT      0x100
#define ALLOC_HIGHATOMIC      0x200
#define ALLOC_KSWAPD          0x800
#define ALLOC_RESERVES        (ALLOC_HARDER | ALLOC_HIGH | ALLOC_HIGHATOMIC | ALLOC_OOM)

/* === buddy.c ============================================================ */

void ra_buddy_init(ra_machine *m);
/* The page allocator proper: returns the head pfn or RA_NOPFN. */
uint32_t ra_alloc_pages_pfn(ra_machine *m, ra_gfp_t gfp, unsigned order, enum ra_owner owner);
/* Free a block whose head is pfn (owner already validated). */
void ra_free_pages_pfn(ra_machine *m, uint32_t pfn, unsigned order);
void ra_drain_pcp_all(ra_machine *m);
void ra_drain_pcp_zone_cpu(ra_machine *m, struct ra_zone *z, unsigned cpu);
int  ra_gfp_zone(ra_gfp_t gfp);
int  ra_gfp_migratetype(ra_gfp_t gfp);
bool ra_zone_watermark_ok(ra_machine *m, struct ra_zone *z, unsigned order, uint64_t mark,
                          int classzone, unsigned alloc_flags, int64_t free_pages);
uint64_t ra_wmark_pages(struct ra_zone *z, unsigned alloc_flags);
/* Adjust accounting counters for a block changing hands (owner category). */
void ra_account(ra_machine *m, enum ra_owner owner, int mt, int64_t pages);
void ra_recompute_zone_params(ra_machine *m);   /* watermarks, reserves, pcp high/batch */

/*
 * The policies above the page allocator that its slow path enters, as
 * __alloc_pages_slowpath() does: one table, registered at machine creation
 * (machine.c), read through m->slowpath. A NULL table or entry means the
 * policy is absent and the slow path goes on without it.
 *
 * out_of_memory — __alloc_pages_may_oom(): called only for an allocation
 *   that may enter the OOM killer (__GFP_FS, order <= PAGE_ALLOC_COSTLY_ORDER,
 *   not __GFP_RETRY_MAYFAIL or __GFP_THISNODE, a zone of Normal or above),
 *   after reclaim made no progress. Pre: no page allocator list is being
 *   walked (the callee allocates and frees). Post: true when a victim's
 *   memory was freed (the caller retries at the high watermark, then the
 *   whole slow path); false when nothing could be killed. It may panic the
 *   machine (vm.panic_on_oom, no killable task): the caller then fails the
 *   allocation and the replay stops.
 */
/*
 * try_to_free_pages — __alloc_pages_direct_reclaim(): called once per
 *   slow-path round of an allocation that may direct-reclaim
 *   (__GFP_DIRECT_RECLAIM), before the per-cpu lists are drained, with the
 *   allocation's highest zone (classzone: reclaim_idx, pages of higher
 *   zones are skipped). Pre: as for out_of_memory. Post: returns the pages
 *   it freed to the page allocator (0: no progress); a positive return
 *   means the caller retries the allocation and, failing again, goes
 *   round the slow path once more (progress resets the OOM decision), so
 *   each round must free at least one page of a finite supply (the page
 *   cache) or return 0. It never enters the OOM killer.
 */
/*
 * wakeup_kswapd — wake_all_kswapds(): called once per slow-path entry of
 *   an allocation with __GFP_KSWAPD_RECLAIM, with its order and highest
 *   zone. Pre: as for out_of_memory. Post: nothing is reclaimed now; the
 *   callee only records the request (kswapd runs later, at a point its
 *   layer documents).
 */
struct ra_slowpath_ops {
	bool (*out_of_memory)(ra_machine *m, ra_gfp_t gfp, unsigned order);
	uint64_t (*try_to_free_pages)(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone);
	void (*wakeup_kswapd)(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone);
};

#endif /* RA_BUDDY_H */
