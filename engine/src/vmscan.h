/*
 * vmscan.h — reclaim (vmscan.c, the kernel's mm/vmscan.c and
 * fs/drop_caches.c): direct reclaim of the LRU lists and the slab
 * shrinkers, which the page allocator's slow path enters through
 * buddy.h's hook, kswapd, and drop_caches.
 * It is policy above mm; the lists themselves are filemap.h's.
 */
#ifndef RA_VMSCAN_H
#define RA_VMSCAN_H

#include "mm.h"

#define SWAP_CLUSTER_MAX 32
#define DEF_PRIORITY     12

/* try_to_free_pages(): struct ra_slowpath_ops.try_to_free_pages (buddy.h). */
uint64_t ra_try_to_free_pages(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone);
/* wakeup_kswapd(): struct ra_slowpath_ops.wakeup_kswapd (buddy.h). */
void ra_wakeup_kswapd(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone);
/* kswapd's turn: balance_pgdat() if a wake-up is pending. The replay
 * calls it once the operation that woke kswapd has finished. */
void ra_kswapd_run(ra_machine *m);
#define MAX_RECLAIM_RETRIES 16
/* shrink_slab(): every shrinker once at this priority (do_shrink_slab's
 * arithmetic, deferred work carried over); returns the objects freed. */
uint64_t ra_shrink_slab(ra_machine *m, ra_gfp_t gfp, int priority);
/* get_scan_count()'s SCAN_FRACT weights: anon ap and file fp from
 * vm.swappiness and the lruvec's anon_cost and file_cost (pure
 * arithmetic, for unit tests). */
void vmscan_fraction(uint64_t swappiness, uint64_t anon_cost, uint64_t file_cost, uint64_t *ap, uint64_t *fp);

/* reclaim_pages(): shrink_folio_list() ignoring references over n pages
 * the caller took off their LRU lists (MADV_PAGEOUT); pages kept go back
 * on their lists. Returns the pages freed. */
uint64_t vmscan_reclaim_pages(ra_machine *m, const uint32_t *pfns, uint64_t n);

/* madvise(2) on [addr, addr + len) of t (madvise.c): advice is an
 * RA_MADV_* of refalloc/trace.h. 0, or -1 for EINVAL (addr not page
 * aligned, MADV_FREE of a file or locked range, MADV_DONTNEED of a locked
 * one) or ENOMEM (the range leaves the mappings). */
int  ra_madvise(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, int advice);

/* echo mode > /proc/sys/vm/drop_caches (mode 1 .. 4): bit 1 drops the
 * clean page cache, bit 2 shrinks the slab caches, bit 4 only silences
 * the kernel's log line. */
void ra_drop_caches(ra_machine *m, int mode);

#endif /* RA_VMSCAN_H */
