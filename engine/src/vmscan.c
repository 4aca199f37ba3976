/*
 * vmscan.c — reclaim of the LRU lists, as mm/vmscan.c does it for the
 * classic two-list LRU (docs/kernel-model.md, "Reclaim", "Anon reclaim"
 * and "get_scan_count"), and drop_caches.
 *
 * Direct reclaim (try_to_free_pages): SWAP_CLUSTER_MAX (32) pages wanted,
 * priority 12 down to 0, one node. Each pass (shrink_node) asks
 * get_scan_count() how much of each list to scan: list size >> priority,
 * balanced between anon and file by vm.swappiness and the cost model
 * (SCAN_FILE without free swap, SCAN_EQUAL at priority 0, SCAN_ANON when
 * file is tiny, SCAN_FILE in cache-trim mode, else SCAN_FRACT), exactly
 * as 6.1 computes it; then shrink_lruvec() scans the lists in batches of
 * 32 (inactive anon, active anon, inactive file, active file), an active
 * list only when its type may be deactivated (recent refaults or
 * inactive_is_low()), or on a second run with force_deactivate when a
 * whole run reclaimed nothing because of that. At priority 12 direct
 * reclaim scans its whole target (proportional reclaim); otherwise, once
 * 32 pages are freed, the smaller type stops and the other is cut to the
 * same share of its target. Afterwards the active anon list is aged when
 * swap exists and inactive anon is low.
 *
 * shrink_folio_list: an unmapped file page: PG_referenced is tested and
 * cleared; a clean page is freed whatever it said; a dirty page that was
 * referenced is kept (FOLIOREF_RECLAIM_CLEAN), as is a dirty page when the
 * allocation may not enter the filesystem (no __GFP_FS). An anonymous
 * page: folio_check_references() with the young bits of its ptes (rmap.c)
 * and PG_referenced (activate when referenced twice or by two mappings,
 * keep when referenced once); then add_to_swap (a slot, the swap cache,
 * dirty: a failure activates it), try_to_unmap (its ptes become swap
 * entries), pageout (the write to the device) and the free. A tmpfs page
 * on the anon lists: the same reference test with its file ptes, then
 * try_to_unmap and pageout, which is shmem_writepage (shmem.c): a slot,
 * the write, the page cache holding the entry, the free; without a slot
 * the page is activated.
 *
 * The model's deterministic rule for writes: its I/O is synchronous, so a
 * dirty page reclaim may write (a file page, as the flusher would, or an
 * anonymous page to a disk swap device) is written at once and freed in
 * the same pass (nr_vmscan_write, nr_written, pgpgout). The kernel would
 * free it in a later pass, once writeback ended and moved it to the
 * inactive tail (pgrotated); zram writes are synchronous in the kernel
 * too. A write that fails (the swap_write fault site, zram without
 * memory) leaves the page dirty in the swap cache, on the inactive list,
 * as end_swap_bio_write() redirties it; the kernel's fallback bio still
 * counts pswpout and pgpgout.
 *
 * The cost model (lru_note_cost of 6.1): each batch adds the pages it
 * wrote out to anon_cost or file_cost; when the two exceed a quarter of
 * the LRU pages, both halve.
 *
 * kswapd: an allocation that enters the slow path with
 * __GFP_KSWAPD_RECLAIM records a wake-up (the highest order and zone
 * asked); the model's deterministic rule is that kswapd then runs once,
 * when the operation that woke it has finished (the replay calls
 * ra_kswapd_run between operations), as balance_pgdat(): reclaim at
 * priority 12 down to 1 until a zone up to the highest one asked meets
 * its high watermark for the order asked. A kswapd that found nothing
 * to reclaim 16 times in a row is not woken again until any reclaim
 * succeeds (kswapd_failures), and with nothing reclaimable (on the lists,
 * or for a shrinker) it does not run at all (so a machine without page
 * cache, swap or files sees no kswapd).
 *
 * Mapped file pages (see "Mapped file pages" below): the young bits of
 * their ptes decide with PG_referenced whether a page is activated, kept
 * or reclaimed, and a page that goes is unmapped first. An evicted file
 * page leaves a workingset shadow entry (workingset.c).
 *
 * Slab shrinkers (the superblock's, dcache.c) run in every shrink_node
 * after the LRU lists, and in drop_caches (drop_slab), with
 * do_shrink_slab's arithmetic.
 *
 * Reclaim runs with PF_MEMALLOC (m->pf_memalloc): zram's allocations
 * inside it may use every free page and never recurse into reclaim.
 *
 * Not modelled yet: reclaim throttling, swap readahead, shadow entries
 * of anonymous pages.
 */
#include "vmscan.h"
#include "slab.h"

enum scan_balance { SCAN_EQUAL, SCAN_FRACT, SCAN_ANON, SCAN_FILE };
#define DEACTIVATE_ANON 1
#define DEACTIVATE_FILE 2

struct scan_control {
	ra_gfp_t gfp;
	bool     kswapd;
	bool     may_writepage;
	bool     may_swap;
	int      reclaim_idx;
	int      priority;
	unsigned may_deactivate;
	bool     force_deactivate;
	bool     skipped_deactivate;
	bool     cache_trim_mode, file_is_tiny;
	uint64_t anon_cost, file_cost;
	uint64_t nr_to_reclaim, nr_reclaimed, nr_scanned;
};

/* inactive_is_low() for one type of the node's lists. */
static bool inactive_is_low(ra_machine *m, int inactive_lru)
{
	uint64_t inactive = lru_size(m, inactive_lru, RA_NR_REAL_ZONES - 1);
	uint64_t active = lru_size(m, inactive_lru + LRU_ACTIVE, RA_NR_REAL_ZONES - 1);
	uint64_t gb = (inactive + active) >> (30 - RA_PAGE_SHIFT);
	uint64_t ratio = gb ? ra_int_sqrt(10 * gb) : 1;
	return inactive * ratio < active;
}

/* can_reclaim_anon_pages(): free swap; can_age_anon_pages(): any swap. */
static bool can_reclaim_anon(ra_machine *m) { return swap_available(m); }
static bool can_age_anon(ra_machine *m) { return m->swp && m->swp->total_swap_pages; }

/* lru_note_cost() */
static void lru_note_cost(ra_machine *m, bool file, uint64_t nr)
{
	if (file)
		m->lruvec.file_cost += nr;
	else
		m->lruvec.anon_cost += nr;
	uint64_t lrusize = 0;
	for (int l = 0; l < LRU_UNEVICTABLE; l++)
		lrusize += lru_size(m, l, RA_NR_REAL_ZONES - 1);
	if (m->lruvec.file_cost + m->lruvec.anon_cost > lrusize / 4) {
		m->lruvec.file_cost /= 2;
		m->lruvec.anon_cost /= 2;
	}
}

/* isolate_lru_folios(): up to nr pages from the tail of list lru, skipping
 * pages of zones above reclaim_idx (pgskip_<zone>), which go back to the
 * head. Fills taken[]; returns the pages looked at (total_scan). */
static uint64_t isolate(ra_machine *m, struct scan_control *sc, int lru, uint64_t nr, uint32_t *taken,
                        uint64_t *nr_taken)
{
	struct ra_plist *l = &m->fm->lru[lru];
	uint32_t *skipped = NULL;
	uint64_t nskipped = 0, cap = 0, total = 0, scan = 0;
	*nr_taken = 0;
	while (scan < nr && *nr_taken < nr && l->tail != RA_NOPFN) {
		uint32_t pfn = l->tail;
		struct ra_zone *z = pfn_zone(m, pfn);
		lru_del(m, pfn);
		total++;
		if (z->idx > sc->reclaim_idx) {
			count_zone_vm_events(z, PGSKIP, 1);
			if (nskipped == cap) {
				cap = cap ? cap * 2 : 64;
				skipped = realloc(skipped, cap * sizeof(*skipped));
				RA_BUG_ON(m, !skipped);
			}
			skipped[nskipped++] = pfn;
			continue;
		}
		scan++;
		taken[(*nr_taken)++] = pfn;
	}
	for (uint64_t i = 0; i < nskipped; i++)
		lru_add(m, skipped[i], lru);
	free(skipped);
	return total;
}

/* === Mapped file pages ==================================================
 *
 * folio_check_references() for a page of the inactive file list: the young
 * ptes that map it (folio_referenced_file: tested and cleared, each VMA
 * with one counts) and PG_referenced (tested and cleared) decide:
 *   young ptes, and PG_referenced or more than one VMA, or a VM_EXEC VMA
 *       -> PAGEREF_ACTIVATE (PG_referenced set again);
 *   young ptes otherwise -> PAGEREF_KEEP (PG_referenced set: a second
 *       young scan activates it);
 *   no young pte, PG_referenced -> PAGEREF_RECLAIM_CLEAN (a dirty page is
 *       kept);
 *   neither -> PAGEREF_RECLAIM.
 * A mapped page that goes is unmapped first (try_to_unmap_file; a dirty pte
 * dirties it), then written back or freed as any page. */
enum pageref { PAGEREF_RECLAIM, PAGEREF_RECLAIM_CLEAN, PAGEREF_KEEP, PAGEREF_ACTIVATE };

static enum pageref folio_check_references_file(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct rmap_refs r;
	folio_referenced_file(m, pfn, &r);
	bool referenced_folio = p->flags & PGF_REFERENCED;
	p->flags &= (uint16_t)~PGF_REFERENCED;
	if (r.refs) {
		p->flags |= PGF_REFERENCED;
		if (referenced_folio || r.refs > 1 || (r.vm_flags & VM_EXEC))
			return PAGEREF_ACTIVATE;
		return PAGEREF_KEEP;
	}
	return referenced_folio ? PAGEREF_RECLAIM_CLEAN : PAGEREF_RECLAIM;
}

/* shrink_active_list()'s verdict on a file page: true when it stays
 * active (young ptes in a VM_EXEC mapping); every other page goes to the
 * inactive list with PG_workingset. The young bits are cleared either way. */
static bool file_page_stays_active(ra_machine *m, uint32_t pfn)
{
	struct rmap_refs r;
	folio_referenced_file(m, pfn, &r);
	if (r.refs && (r.vm_flags & VM_EXEC))
		return true;
	pfn_page(m, pfn)->flags |= PGF_WORKINGSET;
	return false;
}

/* Put a page back on its type's list: activated (pgactivate) or kept. */
static void putback(ra_machine *m, uint32_t pfn, bool activate)
{
	struct ra_page *p = pfn_page(m, pfn);
	int lru = (p->flags & PGF_SWAPBACKED) ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
	if (p->flags & PGF_MLOCKED) {
		lru_add(m, pfn, LRU_UNEVICTABLE);
		return;
	}
	if (activate) {
		lru_add(m, pfn, lru + LRU_ACTIVE);
		count_vm_event(m, PGACTIVATE);
		workingset_age_nonresident(m, 1);         /* move_folios_to_lru() */
		return;
	}
	lru_add(m, pfn, lru);
}

enum folioref { FOLIOREF_RECLAIM, FOLIOREF_RECLAIM_CLEAN, FOLIOREF_KEEP, FOLIOREF_ACTIVATE };

/* folio_check_references() for an anonymous page. */
static enum folioref check_references_anon(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	bool locked = false;
	int refs = p->count ? folio_referenced_anon(m, pfn, &locked) : 0;
	bool ref_flag = p->flags & PGF_REFERENCED;
	p->flags &= (uint16_t)~PGF_REFERENCED;
	if (locked)
		return FOLIOREF_ACTIVATE;
	if (refs > 0) {
		p->flags |= PGF_REFERENCED;
		if (ref_flag || refs > 1)
			return FOLIOREF_ACTIVATE;
		return FOLIOREF_KEEP;
	}
	return FOLIOREF_RECLAIM;
}

/* shrink_folio_list() for one tmpfs page (swap-backed, not anonymous: no
 * add_to_swap; shmem_writepage takes the slot): folio_check_references()
 * with its ptes' young bits, try_to_unmap when mapped, then pageout()
 * when the allocation may enter the filesystem. True when it was freed. */
static bool shrink_shmem_folio(ra_machine *m, struct scan_control *sc, uint32_t pfn, bool ignore_refs,
                               bool *pageout)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct rmap_refs r = { 0, 0, 0 };
	if (page_mapcount(m, pfn) && !ignore_refs)
		folio_referenced_file(m, pfn, &r);
	bool ref_flag = p->flags & PGF_REFERENCED;
	p->flags &= (uint16_t)~PGF_REFERENCED;
	if (r.vm_flags & VM_LOCKED) {
		putback(m, pfn, true);
		return false;
	}
	if (r.refs) {
		p->flags |= PGF_REFERENCED;
		putback(m, pfn, ref_flag || r.refs > 1);
		return false;
	}
	if (page_mapcount(m, pfn) && (try_to_unmap_file(m, pfn), page_mapcount(m, pfn))) {
		putback(m, pfn, false);
		return false;
	}
	if (!(sc->gfp & RA___GFP_FS) || !sc->may_writepage) {
		putback(m, pfn, false);
		return false;
	}
	switch (shmem_writepage(m, pfn)) {
	case SHMEM_WP_ACTIVATE:
		putback(m, pfn, true);
		return false;
	case SHMEM_WP_ERROR:
		mod_node_page_state(m, NR_VMSCAN_WRITE, 1);
		*pageout = true;
		putback(m, pfn, false);
		return false;
	case SHMEM_WP_DONE:
		break;
	}
	mod_node_page_state(m, NR_VMSCAN_WRITE, 1);
	*pageout = true;
	return true;
}

/* shrink_folio_list() for one anonymous page: true when it was freed;
 * *pageout when it was written. ignore_refs: reclaim_pages() (MADV_PAGEOUT)
 * takes the page whatever its references. A lazily freed page (MADV_FREE:
 * no PG_swapbacked, on the file lists) is discarded when no pte of it was
 * written since; a written one is swap-backed again and activated. */
static bool shrink_anon_folio(ra_machine *m, struct scan_control *sc, uint32_t pfn, bool ignore_refs, bool *pageout)
{
	struct ra_page *p = pfn_page(m, pfn);
	*pageout = false;
	if (p->owner != PO_USER)
		return shrink_shmem_folio(m, sc, pfn, ignore_refs, pageout);
	enum folioref ref = ignore_refs ? FOLIOREF_RECLAIM : check_references_anon(m, pfn);
	if (ref == FOLIOREF_ACTIVATE || ref == FOLIOREF_KEEP)
		goto keep;
	if (!(p->flags & PGF_SWAPBACKED)) {
		/* try_to_unmap_one() on a lazyfree page, then the discard */
		if (p->count && !try_to_unmap_lazyfree(m, pfn)) {
			ref = FOLIOREF_ACTIVATE;
			goto keep;
		}
		count_vm_event(m, PGLAZYFREED);
		lru_add(m, pfn, LRU_INACTIVE_FILE);     /* the free takes it off again */
		mm_free_anon_page(m, pfn);
		return true;
	}
	if (!(p->flags & PGF_SWAPCACHE)) {
		if (!(sc->gfp & RA___GFP_IO))
			goto keep;
		/* add_to_swap() */
		swp_entry_t e = swap_alloc_slot(m);
		if (!e) {
			ref = FOLIOREF_ACTIVATE;
			goto keep;
		}
		add_to_swap_cache(m, pfn, e);
		p->flags |= PGF_DIRTY;
	}
	if (p->count)
		try_to_unmap_anon(m, pfn);
	if (p->flags & PGF_DIRTY) {
		if (!(sc->gfp & RA___GFP_IO) || !sc->may_writepage)
			goto keep;
		/* pageout() */
		mod_node_page_state(m, NR_VMSCAN_WRITE, 1);
		*pageout = true;
		if (swap_writepage(m, pfn)) {
			/* the kernel's fallback bio is counted, then fails:
			 * end_swap_bio_write() redirties the page */
			struct ra_swap_info *si = swp_info(m, page_swp_entry(p));
			count_vm_event(m, PSWPOUT);
			count_vm_events(m, PGPGOUT, RA_PAGE_SIZE >> 10);
			ra_log(m, "Write-error on swap-device (%u:%u:%u)", si->zram ? 252u : 0u,
			       si->zram ? zram_devno(si->zram) : si->type, swp_offset(page_swp_entry(p)) << 3);
			putback(m, pfn, false);
			return false;
		}
		p->flags &= (uint16_t)~PGF_DIRTY;
	}
	/* __remove_mapping(): out of the swap cache with a shadow entry left
	 * in the slot, and freed */
	swp_entry_t e = page_swp_entry(p);
	uint64_t shadow = workingset_eviction(m, pfn);
	lru_add(m, pfn, LRU_INACTIVE_ANON);     /* the free takes it off again */
	mm_free_unmapped_anon(m, pfn);
	swap_store_shadow(m, e, shadow);
	return true;
keep:
	if (ref == FOLIOREF_ACTIVATE && (p->flags & PGF_SWAPCACHE) && vm_swap_full(m) &&
	    !swap_count(m, page_swp_entry(p)) && p->count)
		delete_from_swap_cache(m, pfn);     /* folio_free_swap() */
	putback(m, pfn, ref == FOLIOREF_ACTIVATE);
	return false;
}

/* shrink_folio_list() for one isolated page of any list: true when it
 * was freed, *pageout when it was written. An anonymous page (on the anon
 * lists, or lazily freed on the file lists) takes shrink_anon_folio; a
 * page-cache page is checked for references (unless ignore_refs),
 * unmapped, written back when dirty and evicted. A page kept goes back
 * on its list. */
static bool shrink_folio(ra_machine *m, struct scan_control *sc, uint32_t pfn, bool ignore_refs, bool *pageout)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (p->owner == PO_USER || (p->flags & PGF_SWAPBACKED))
		return shrink_anon_folio(m, sc, pfn, ignore_refs, pageout);
	*pageout = false;
	enum pageref ref = ignore_refs ? PAGEREF_RECLAIM : folio_check_references_file(m, pfn);
	if (ref == PAGEREF_ACTIVATE) {
		lru_add(m, pfn, LRU_ACTIVE_FILE);         /* activate_locked */
		count_vm_event(m, PGACTIVATE);
		workingset_age_nonresident(m, 1);         /* move_folios_to_lru() */
		return false;
	}
	if (ref == PAGEREF_KEEP) {
		lru_add(m, pfn, LRU_INACTIVE_FILE);
		return false;
	}
	if (page_mapcount(m, pfn))
		try_to_unmap_file(m, pfn);
	if (p->flags & PGF_DIRTY) {
		if (ref == PAGEREF_RECLAIM_CLEAN || !(sc->gfp & RA___GFP_FS) || !sc->may_writepage) {
			lru_add(m, pfn, LRU_INACTIVE_FILE);    /* keep */
			return false;
		}
		filemap_writeback_page(m, pfn);            /* pageout(), completed at once */
		mod_node_page_state(m, NR_VMSCAN_WRITE, 1);
		*pageout = true;
	}
	/* __remove_mapping(): out of the cache with a shadow entry left,
	 * freed; the page is off the LRU already, filemap_remove_page puts it
	 * back first */
	lru_add(m, pfn, LRU_INACTIVE_FILE);
	filemap_evict_page(m, pfn);
	return true;
}

/* reclaim_pages() -> reclaim_folio_list(): shrink_folio_list() with
 * ignore_references over pages the caller isolated (MADV_PAGEOUT): a
 * scan_control of GFP_KERNEL that may write, unmap and swap. No
 * pgscan/pgsteal event is counted (neither kswapd nor direct reclaim),
 * and no cost is noted; pages kept go back on their lists. */
uint64_t vmscan_reclaim_pages(ra_machine *m, const uint32_t *pfns, uint64_t n)
{
	struct scan_control sc = { .gfp = RA_GFP_KERNEL, .may_writepage = true, .may_swap = true,
	                           .reclaim_idx = RA_NR_REAL_ZONES - 1 };
	uint64_t reclaimed = 0;
	bool saved = m->pf_memalloc;
	m->pf_memalloc = true;
	for (uint64_t i = 0; i < n; i++) {
		bool wrote;
		reclaimed += shrink_folio(m, &sc, pfns[i], true, &wrote);
	}
	m->pf_memalloc = saved;
	return reclaimed;
}

/* shrink_inactive_list() + shrink_folio_list(). */
static uint64_t shrink_inactive_list(ra_machine *m, struct scan_control *sc, int lru, uint64_t nr)
{
	uint32_t taken[SWAP_CLUSTER_MAX];
	uint64_t nr_taken, reclaimed = 0, nr_pageout = 0;
	bool file = is_file_lru(lru);
	uint64_t scanned = isolate(m, sc, lru, nr, taken, &nr_taken);
	sc->nr_scanned += scanned;
	if (sc->kswapd)
		count_vm_events(m, PGSCAN_KSWAPD, scanned);
	else
		count_vm_events(m, PGSCAN_DIRECT, scanned);
	if (file)
		count_vm_events(m, PGSCAN_FILE, scanned);
	else
		count_vm_events(m, PGSCAN_ANON, scanned);
	bool saved = m->pf_memalloc;
	m->pf_memalloc = true;
	for (uint64_t i = 0; i < nr_taken; i++) {
		bool wrote;
		reclaimed += shrink_folio(m, sc, taken[i], false, &wrote);
		nr_pageout += wrote;
	}
	m->pf_memalloc = saved;
	lru_note_cost(m, file, nr_pageout);
	if (sc->kswapd)
		count_vm_events(m, PGSTEAL_KSWAPD, reclaimed);
	else
		count_vm_events(m, PGSTEAL_DIRECT, reclaimed);
	if (file)
		count_vm_events(m, PGSTEAL_FILE, reclaimed);
	else
		count_vm_events(m, PGSTEAL_ANON, reclaimed);
	return reclaimed;
}

/* shrink_active_list(): every page goes to the inactive list with
 * PG_workingset whatever its references, except a file page with young
 * ptes in a VM_EXEC mapping (file_page_stays_active). The young bits of
 * anonymous pages are tested (and so cleared) all the same. */
static void shrink_active_list(ra_machine *m, struct scan_control *sc, int lru, uint64_t nr)
{
	uint32_t taken[SWAP_CLUSTER_MAX];
	uint64_t nr_taken;
	uint64_t scanned = isolate(m, sc, lru, nr, taken, &nr_taken), deactivated = 0;
	count_vm_events(m, PGREFILL, scanned);
	for (uint64_t i = 0; i < nr_taken; i++) {
		struct ra_page *p = pfn_page(m, taken[i]);
		if (is_file_lru(lru) && p->owner == PO_FILE) {
			if (file_page_stays_active(m, taken[i])) {
				lru_add(m, taken[i], lru);
				workingset_age_nonresident(m, 1);      /* move_folios_to_lru() */
				continue;
			}
		} else {
			if (p->owner == PO_USER && p->count) {
				bool locked;
				folio_referenced_anon(m, taken[i], &locked);
			}
			p->flags |= PGF_WORKINGSET;
		}
		lru_add(m, taken[i], lru - LRU_ACTIVE);
		deactivated++;
	}
	count_vm_events(m, PGDEACTIVATE, deactivated);
}

/* === Slab shrinkers ======================================================
 * The registry: the kernel's shrinker_list, in registration order. The
 * model has one shrinker, the disk superblock's (dcache.c): its objects are
 * the unused dentries and inodes. Per-node and per-memcg deferred counts
 * collapse into one (one node, memcg-unaware superblock shrinking). */

struct shrinker {
	uint64_t (*count_objects)(ra_machine *m);
	uint64_t (*scan_objects)(ra_machine *m, uint64_t nr_to_scan);
	uint64_t *(*nr_deferred)(ra_machine *m);
	int      seeks;
	uint64_t batch;             /* 0: SHRINK_BATCH */
	bool     needs_fs;          /* returns SHRINK_STOP without __GFP_FS (super_cache_scan) */
};

#define SHRINK_BATCH   128
#define DEFAULT_SEEKS  2

static uint64_t *super_nr_deferred(ra_machine *m) { return &m->fm->dc.nr_deferred; }

static const struct shrinker shrinkers[] = {
	{ super_cache_count, super_cache_scan, super_nr_deferred, DEFAULT_SEEKS, 1024, true },
};

/* do_shrink_slab(): the kernel's arithmetic, exactly (docs/kernel-model.md,
 * "Slab shrinkers"). */
static uint64_t do_shrink_slab(ra_machine *m, const struct shrinker *s, ra_gfp_t gfp, int priority)
{
	uint64_t freeable = s->count_objects(m);
	if (freeable == 0 || freeable == SHRINK_EMPTY)
		return 0;
	uint64_t *deferred = s->nr_deferred(m);
	uint64_t nr = *deferred, freed = 0, scanned = 0;
	*deferred = 0;
	uint64_t batch = s->batch ? s->batch : SHRINK_BATCH;
	uint64_t delta = s->seeks ? (freeable >> priority) * 4 / (uint64_t)s->seeks : freeable / 2;
	uint64_t total_scan = RA_MIN((nr >> priority) + delta, 2 * freeable);
	while (total_scan >= batch || total_scan >= freeable) {
		uint64_t nr_to_scan = RA_MIN(batch, total_scan);
		if (s->needs_fs && !(gfp & RA___GFP_FS))
			break;    /* SHRINK_STOP */
		freed += s->scan_objects(m, nr_to_scan);
		count_vm_events(m, SLABS_SCANNED, nr_to_scan);
		total_scan -= nr_to_scan;
		scanned += nr_to_scan;
	}
	int64_t next = (int64_t)(nr + delta) - (int64_t)scanned;
	*deferred = RA_MIN((uint64_t)RA_MAX(next, (int64_t)0), 2 * freeable);
	return freed;
}

/* shrink_slab(): every shrinker at this priority; returns the objects
 * freed. Slab pages the frees give back go to *pages_freed (the kernel's
 * reclaim_state->reclaimed_slab). */
static uint64_t shrink_slab(ra_machine *m, ra_gfp_t gfp, int priority, uint64_t *pages_freed)
{
	if (!m->fm)
		return 0;
	uint64_t before = node_page_state(m, NR_SLAB_RECLAIMABLE) + node_page_state(m, NR_SLAB_UNRECLAIMABLE);
	uint64_t freed = 0;
	for (size_t i = 0; i < RA_ARRAY_SIZE(shrinkers); i++)
		freed += do_shrink_slab(m, &shrinkers[i], gfp, priority);
	uint64_t after = node_page_state(m, NR_SLAB_RECLAIMABLE) + node_page_state(m, NR_SLAB_UNRECLAIMABLE);
	if (pages_freed)
		*pages_freed += before > after ? before - after : 0;
	return freed;
}

uint64_t ra_shrink_slab(ra_machine *m, ra_gfp_t gfp, int priority)
{
	return shrink_slab(m, gfp, priority, NULL);
}

/* Anything reclaim could take: the file lists, the anon lists while free
 * swap exists, or objects a shrinker may free. */
static bool reclaimable(ra_machine *m)
{
	if (!m->fm)
		return false;
	if (node_page_state(m, NR_INACTIVE_FILE) + node_page_state(m, NR_ACTIVE_FILE))
		return true;
	if (can_reclaim_anon(m) && node_page_state(m, NR_INACTIVE_ANON) + node_page_state(m, NR_ACTIVE_ANON))
		return true;
	uint64_t n = super_cache_count(m);
	return n && n != SHRINK_EMPTY;
}

void vmscan_fraction(uint64_t swappiness, uint64_t anon_cost, uint64_t file_cost, uint64_t *ap, uint64_t *fp)
{
	uint64_t total_cost = anon_cost + file_cost;
	uint64_t a = total_cost + anon_cost, f = total_cost + file_cost;
	total_cost = a + f;
	*ap = swappiness * (total_cost + 1) / (a + 1);
	*fp = (200 - swappiness) * (total_cost + 1) / (f + 1);
}

/* prepare_scan_count() + get_scan_count(): the pages to scan per list. */
static void get_scan_count(ra_machine *m, struct scan_control *sc, uint64_t nr[NR_LRU_LISTS])
{
	/* prepare_scan_count() */
	sc->anon_cost = m->lruvec.anon_cost;
	sc->file_cost = m->lruvec.file_cost;
	if (sc->force_deactivate) {
		sc->may_deactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
	} else {
		sc->may_deactivate = 0;
		if (vm_event(m, WORKINGSET_ACTIVATE_ANON) != m->lruvec.refaults_anon ||
		    inactive_is_low(m, LRU_INACTIVE_ANON))
			sc->may_deactivate |= DEACTIVATE_ANON;
		if (vm_event(m, WORKINGSET_ACTIVATE_FILE) != m->lruvec.refaults_file ||
		    inactive_is_low(m, LRU_INACTIVE_FILE))
			sc->may_deactivate |= DEACTIVATE_FILE;
	}
	sc->cache_trim_mode = (node_page_state(m, NR_INACTIVE_FILE) >> sc->priority) &&
	                      !(sc->may_deactivate & DEACTIVATE_FILE);
	uint64_t free = 0, high = 0;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++)
		if (m->populated[zi]) {
			free += zone_page_state(&m->zones[zi], NR_FREE_PAGES);
			high += m->zones[zi].wmark[2];
		}
	uint64_t filepages = node_page_state(m, NR_ACTIVE_FILE) + node_page_state(m, NR_INACTIVE_FILE);
	sc->file_is_tiny = filepages + free <= high && !(sc->may_deactivate & DEACTIVATE_ANON) &&
	                   (node_page_state(m, NR_INACTIVE_ANON) >> sc->priority);

	/* get_scan_count() */
	uint64_t swappiness = (uint64_t)KNOB(m, VM_SWAPPINESS);
	uint64_t fraction[2] = { 0, 0 }, denominator = 1;
	enum scan_balance balance;
	if (!sc->may_swap || !can_reclaim_anon(m))
		balance = SCAN_FILE;
	else if (!sc->priority && swappiness)
		balance = SCAN_EQUAL;
	else if (sc->file_is_tiny)
		balance = SCAN_ANON;
	else if (sc->cache_trim_mode)
		balance = SCAN_FILE;
	else {
		balance = SCAN_FRACT;
		vmscan_fraction(swappiness, sc->anon_cost, sc->file_cost, &fraction[0], &fraction[1]);
		denominator = fraction[0] + fraction[1];
	}
	for (int l = 0; l < LRU_UNEVICTABLE; l++) {
		bool file = is_file_lru(l);
		uint64_t scan = lru_size(m, l, sc->reclaim_idx) >> sc->priority;
		switch (balance) {
		case SCAN_EQUAL:
			break;
		case SCAN_FRACT:
			scan = scan * fraction[file] / denominator;
			break;
		case SCAN_FILE:
		case SCAN_ANON:
			if ((balance == SCAN_FILE) != file)
				scan = 0;
			break;
		}
		nr[l] = scan;
	}
}

static uint64_t shrink_list(ra_machine *m, struct scan_control *sc, int lru, uint64_t n)
{
	if (is_active_lru(lru)) {
		if (sc->may_deactivate & (is_file_lru(lru) ? DEACTIVATE_FILE : DEACTIVATE_ANON))
			shrink_active_list(m, sc, lru, n);
		else
			sc->skipped_deactivate = true;
		return 0;
	}
	return shrink_inactive_list(m, sc, lru, n);
}

/* shrink_node() -> shrink_lruvec(). */
static void shrink_node(ra_machine *m, struct scan_control *sc)
{
	uint64_t nr[NR_LRU_LISTS] = { 0 }, targets[NR_LRU_LISTS];
	get_scan_count(m, sc, nr);
	memcpy(targets, nr, sizeof(targets));
	bool proportional = !sc->kswapd && sc->priority == DEF_PRIORITY;
	uint64_t reclaimed = 0;    /* shrink_lruvec()'s own count decides when it stops */
	while (nr[LRU_INACTIVE_ANON] || nr[LRU_INACTIVE_FILE] || nr[LRU_ACTIVE_FILE]) {
		for (int l = 0; l < LRU_UNEVICTABLE; l++) {
			if (!nr[l])
				continue;
			uint64_t n = RA_MIN(nr[l], (uint64_t)SWAP_CLUSTER_MAX);
			nr[l] -= n;
			reclaimed += shrink_list(m, sc, l, n);
		}
		if (reclaimed < sc->nr_to_reclaim || proportional)
			continue;
		uint64_t nr_file = nr[LRU_INACTIVE_FILE] + nr[LRU_ACTIVE_FILE];
		uint64_t nr_anon = nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON];
		if (!nr_file || !nr_anon)
			break;
		int lru;
		uint64_t percentage;
		if (nr_file > nr_anon) {
			percentage = nr_anon * 100 / (targets[LRU_INACTIVE_ANON] + targets[LRU_ACTIVE_ANON] + 1);
			lru = LRU_INACTIVE_ANON;
		} else {
			percentage = nr_file * 100 / (targets[LRU_INACTIVE_FILE] + targets[LRU_ACTIVE_FILE] + 1);
			lru = LRU_INACTIVE_FILE;
		}
		/* stop the smaller type; cut the other to the same share */
		nr[lru] = nr[lru + LRU_ACTIVE] = 0;
		lru = lru == LRU_INACTIVE_FILE ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
		for (int k = 0; k < 2; k++, lru += LRU_ACTIVE) {
			uint64_t scanned = targets[lru] - nr[lru];
			nr[lru] = targets[lru] * (100 - percentage) / 100;
			nr[lru] -= RA_MIN(nr[lru], scanned);
		}
	}
	sc->nr_reclaimed += reclaimed;
	/* shrink_lruvec()'s last step: even when no anon page was evicted,
	 * the anon lists' active/inactive balance is kept */
	if (can_age_anon(m) && inactive_is_low(m, LRU_INACTIVE_ANON))
		shrink_active_list(m, sc, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
	/* shrink_slab() after the LRU lists; the slab pages freed count as
	 * reclaimed (reclaim_state) */
	shrink_slab(m, sc->gfp, sc->priority, &sc->nr_reclaimed);
}

/* snapshot_refaults() */
static void snapshot_refaults(ra_machine *m)
{
	m->lruvec.refaults_anon = vm_event(m, WORKINGSET_ACTIVATE_ANON);
	m->lruvec.refaults_file = vm_event(m, WORKINGSET_ACTIVATE_FILE);
}

uint64_t ra_try_to_free_pages(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone)
{
	(void)order;
	if (!reclaimable(m))
		return 0;
	struct scan_control sc = {
		.gfp = gfp, .reclaim_idx = classzone, .nr_to_reclaim = SWAP_CLUSTER_MAX, .may_swap = true,
		.may_writepage = true,    /* !laptop_mode */
	};
retry:
	for (sc.priority = DEF_PRIORITY; sc.priority >= 0; sc.priority--) {
		shrink_node(m, &sc);
		if (sc.nr_reclaimed >= sc.nr_to_reclaim)
			break;
	}
	snapshot_refaults(m);
	if (sc.nr_reclaimed) {
		m->kswapd.failures = 0;   /* a successful shrink_node by anyone */
		return sc.nr_reclaimed;
	}
	if (sc.skipped_deactivate && !sc.force_deactivate) {
		sc.force_deactivate = true;
		sc.skipped_deactivate = false;
		goto retry;
	}
	return 0;
}

/* pgdat_balanced(): any populated zone up to classzone meets its high
 * watermark (with the boost) for order (zone_watermark_ok_safe: no
 * reserve access). */
static bool pgdat_balanced(ra_machine *m, unsigned order, int classzone)
{
	for (int zi = 0; zi <= classzone && zi < RA_NR_REAL_ZONES; zi++) {
		struct ra_zone *z = &m->zones[zi];
		if (!m->populated[zi])
			continue;
		if (ra_zone_watermark_ok(m, z, order, wmark_pages(z, 2), classzone, 0,
		                         (int64_t)zone_page_state(z, NR_FREE_PAGES)))
			return true;
	}
	return false;
}

/* pgdat_watermark_boosted() */
static bool pgdat_watermark_boosted(ra_machine *m, int classzone)
{
	for (int zi = classzone; zi >= 0; zi--)
		if (zi < RA_NR_REAL_ZONES && m->populated[zi] && m->zones[zi].watermark_boost)
			return true;
	return false;
}

void ra_wakeup_kswapd(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone)
{
	(void)gfp;
	if (!m->kswapd.pending) {
		m->kswapd.order = order;
		m->kswapd.classzone = classzone;
	} else {
		m->kswapd.order = RA_MAX(m->kswapd.order, order);
		m->kswapd.classzone = RA_MAX(m->kswapd.classzone, classzone);
		return;     /* awake already: the wait queue is empty */
	}
	/* hopeless, or balanced and not boosted: kswapd stays asleep */
	if (m->kswapd.failures >= MAX_RECLAIM_RETRIES ||
	    (pgdat_balanced(m, order, classzone) && !pgdat_watermark_boosted(m, classzone)))
		return;
	/* woken during kswapd_try_to_sleep's short nap: the low watermark
	 * was hit again quickly */
	if (m->kswapd.short_sleep && m->now_ms < m->kswapd.short_until)
		count_vm_event(m, KSWAPD_LOW_WMARK_HIT_QUICKLY);
	m->kswapd.short_sleep = false;
	m->kswapd.pending = true;
}

/* balance_pgdat(); returns the order kswapd stopped at (sc.order). */
static unsigned balance_pgdat(ra_machine *m, unsigned order, int classzone)
{
	count_vm_event(m, PAGEOUTRUN);
	/* the boosts of the zones it may reclaim from, as they are now */
	uint64_t zone_boosts[RA_NR_REAL_ZONES] = { 0 }, nr_boost_reclaim = 0;
	for (int zi = 0; zi <= classzone && zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		nr_boost_reclaim += m->zones[zi].watermark_boost;
		zone_boosts[zi] = m->zones[zi].watermark_boost;
	}
	bool boosted = nr_boost_reclaim != 0;
	struct scan_control sc = { .gfp = RA_GFP_KERNEL, .kswapd = true, .reclaim_idx = classzone, .may_swap = true };
	uint64_t total = 0;
restart:
	sc.priority = DEF_PRIORITY;
	do {
		bool raise_priority = true;
		bool balanced = pgdat_balanced(m, order, classzone);
		/* unbalanced: the boost is forgotten for this run, reclaim for
		 * the watermarks themselves */
		if (!balanced && nr_boost_reclaim) {
			nr_boost_reclaim = 0;
			goto restart;
		}
		if (!nr_boost_reclaim && balanced)
			goto out;
		/* boosted reclaim: no writeback, and no deeper than priority 10 */
		if (nr_boost_reclaim && sc.priority == DEF_PRIORITY - 2)
			raise_priority = false;
		sc.may_writepage = !nr_boost_reclaim;
		sc.may_swap = !nr_boost_reclaim;
		/* kswapd_age_node(): age the anon lists when swap exists */
		if (can_age_anon(m) && inactive_is_low(m, LRU_INACTIVE_ANON))
			shrink_active_list(m, &sc, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
		if (sc.priority < DEF_PRIORITY - 2)
			sc.may_writepage = true;
		/* kswapd_shrink_node() */
		sc.nr_to_reclaim = 0;
		for (int zi = 0; zi <= classzone && zi < RA_NR_REAL_ZONES; zi++)
			if (m->populated[zi])
				sc.nr_to_reclaim += RA_MAX(wmark_pages(&m->zones[zi], 2), (uint64_t)SWAP_CLUSTER_MAX);
		sc.nr_reclaimed = sc.nr_scanned = 0;
		shrink_node(m, &sc);
		total += sc.nr_reclaimed;
		if (order && total >= 2ULL << order)
			order = 0;
		if (sc.nr_scanned >= sc.nr_to_reclaim)
			raise_priority = false;
		nr_boost_reclaim -= RA_MIN(nr_boost_reclaim, sc.nr_reclaimed);
		/* a boost that reclaims nothing stops: it may not write */
		if (nr_boost_reclaim && !sc.nr_reclaimed)
			break;
		if (raise_priority || !sc.nr_reclaimed)
			sc.priority--;
	} while (sc.priority >= 1);
	if (total)
		m->kswapd.failures = 0;
	else
		m->kswapd.failures++;
out:
	/* the boost this run saw is reclaimed, or given up */
	if (boosted)
		for (int zi = 0; zi <= classzone && zi < RA_NR_REAL_ZONES; zi++)
			m->zones[zi].watermark_boost -= RA_MIN(m->zones[zi].watermark_boost, zone_boosts[zi]);
	snapshot_refaults(m);
	return order;
}

void ra_kswapd_run(ra_machine *m)
{
	if (!m->kswapd.pending)
		return;
	m->kswapd.pending = false;
	int classzone = m->kswapd.classzone;
	if (!reclaimable(m) && !pgdat_watermark_boosted(m, classzone))
		return;
	unsigned order = balance_pgdat(m, m->kswapd.order, classzone);
	/* kswapd_try_to_sleep(): balanced (or hopeless): a short nap of
	 * HZ/10 on the clock; else it cannot sleep at all */
	if (m->kswapd.failures >= MAX_RECLAIM_RETRIES || pgdat_balanced(m, order, classzone)) {
		m->kswapd.short_sleep = true;
		m->kswapd.short_until = m->now_ms + 100;
	} else {
		count_vm_event(m, KSWAPD_HIGH_WMARK_HIT_QUICKLY);
	}
}

void ra_drop_caches(ra_machine *m, int mode)
{
	if (mode & 1) {
		/* iterate_supers() -> every inode, the newest first (an
		 * s_inodes list grows at its head) */
		if (m->fm)
			for (uint32_t i = m->fm->nr_files; i-- > 0;)
				if (m->fm->files[i])
					ra_file_invalidate(m, m->fm->files[i]);
		count_vm_event(m, DROP_PAGECACHE);
	}
	if (mode & 2) {
		/* drop_slab(): every shrinker at priority 0, again while the
		 * objects freed, shifted right one more bit each round, exceed 1.
		 * It calls no kmem_cache_shrink: empty slabs SLUB keeps stay. */
		uint64_t freed;
		unsigned shift = 0;
		do {
			freed = shrink_slab(m, RA_GFP_KERNEL, 0, NULL);
		} while ((freed >> shift++) > 1);
		count_vm_event(m, DROP_SLAB);
	}
}
