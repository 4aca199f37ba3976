/*
 * vmscan.c — reclaim of the page cache, as mm/vmscan.c does it for the
 * classic two-list LRU (docs/kernel-model.md, "Reclaim"), and drop_caches.
 *
 * Direct reclaim (try_to_free_pages): SWAP_CLUSTER_MAX (32) pages wanted,
 * priority 12 down to 0, one node. Each pass (shrink_node) scans the file
 * lists only, as the kernel does without swap (get_scan_count's
 * SCAN_FILE): list size >> priority of each list, in batches of 32,
 * inactive before active; the active list is aged only while
 * inactive_is_low() says the inactive list is too small (or, when a whole
 * run reclaimed nothing because of that, on a second run with
 * force_deactivate). At priority 12 direct reclaim scans its whole target
 * (proportional reclaim); below, a pass stops once 32 pages are freed.
 *
 * shrink_folio_list for an unmapped file page: PG_referenced is tested and
 * cleared; a clean page is freed whatever it said; a dirty page that was
 * referenced is kept (FOLIOREF_RECLAIM_CLEAN), as is a dirty page when the
 * allocation may not enter the filesystem (no __GFP_FS).
 *
 * The model's deterministic rule for dirty pages: it has no flusher
 * threads yet, so reclaim stands in for them: a dirty page reclaim may
 * write is written back at once (pageout with synchronous completion:
 * nr_vmscan_write, nr_written, pgpgout) and freed in the same pass. The
 * kernel's direct reclaim would instead tag it PG_reclaim, activate it and
 * wake the flusher, whose write completion rotates it to the inactive
 * tail for the next pass; the pages freed are the same, sooner. So no
 * amount of written data can fill memory past reclaim and reach the OOM
 * killer.
 *
 * kswapd: an allocation that enters the slow path with
 * __GFP_KSWAPD_RECLAIM records a wake-up (the highest order and zone
 * asked); the model's deterministic rule is that kswapd then runs once,
 * when the operation that woke it has finished (the replay calls
 * ra_kswapd_run between operations), as balance_pgdat(): reclaim at
 * priority 12 down to 1 until a zone up to the highest one asked meets
 * its high watermark for the order asked. A kswapd that found nothing
 * to reclaim 16 times in a row is not woken again until any reclaim
 * succeeds (kswapd_failures), and with nothing on the file lists it does
 * not run at all (so a machine without page cache sees no kswapd).
 *
 * Mapped file pages (see "Mapped file pages" below): the young bits of
 * their ptes decide with PG_referenced whether a page is activated, kept
 * or reclaimed, and a page that goes is unmapped first. An evicted page
 * leaves a workingset shadow entry (workingset.c).
 *
 * Not modelled yet: slab shrinkers during reclaim, reclaim throttling.
 */
#include "vmscan.h"
#include "slab.h"

struct scan_control {
	ra_gfp_t gfp;
	bool     kswapd;
	int      reclaim_idx;
	int      priority;
	bool     may_deactivate;
	bool     force_deactivate;
	bool     skipped_deactivate;
	uint64_t nr_to_reclaim, nr_reclaimed, nr_scanned;
};

/* inactive_is_low() for the file lists of the node. */
static bool inactive_is_low(ra_machine *m)
{
	uint64_t inactive = node_page_state(m, NR_INACTIVE_FILE), active = node_page_state(m, NR_ACTIVE_FILE);
	uint64_t gb = (inactive + active) >> (30 - RA_PAGE_SHIFT);
	uint64_t ratio = gb ? ra_int_sqrt(10 * gb) : 1;
	return inactive * ratio < active;
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

/* shrink_inactive_list() + shrink_folio_list() for file pages. */
static uint64_t shrink_inactive_list(ra_machine *m, struct scan_control *sc, uint64_t nr)
{
	uint32_t taken[SWAP_CLUSTER_MAX];
	uint64_t nr_taken, reclaimed = 0;
	uint64_t scanned = isolate(m, sc, LRU_INACTIVE_FILE, nr, taken, &nr_taken);
	sc->nr_scanned += scanned;
	if (sc->kswapd)
		count_vm_events(m, PGSCAN_KSWAPD, scanned);
	else
		count_vm_events(m, PGSCAN_DIRECT, scanned);
	count_vm_events(m, PGSCAN_FILE, scanned);
	for (uint64_t i = 0; i < nr_taken; i++) {
		uint32_t pfn = taken[i];
		struct ra_page *p = pfn_page(m, pfn);
		enum pageref ref = folio_check_references_file(m, pfn);
		if (ref == PAGEREF_ACTIVATE) {
			lru_add(m, pfn, LRU_ACTIVE_FILE);         /* activate_locked */
			count_vm_event(m, PGACTIVATE);
			workingset_age_nonresident(m, 1);         /* move_folios_to_lru() */
			continue;
		}
		if (ref == PAGEREF_KEEP) {
			lru_add(m, pfn, LRU_INACTIVE_FILE);
			continue;
		}
		if (page_mapcount(m, pfn))
			try_to_unmap_file(m, pfn);
		if (p->flags & PGF_DIRTY) {
			if (ref == PAGEREF_RECLAIM_CLEAN || !(sc->gfp & RA___GFP_FS)) {
				lru_add(m, pfn, LRU_INACTIVE_FILE);    /* keep */
				continue;
			}
			filemap_writeback_page(m, pfn);            /* pageout(), completed at once */
			mod_node_page_state(m, NR_VMSCAN_WRITE, 1);
		}
		/* __remove_mapping(): out of the cache with a shadow entry left,
		 * freed; the page is off the LRU already, filemap_remove_page
		 * puts it back first */
		lru_add(m, pfn, LRU_INACTIVE_FILE);
		filemap_evict_page(m, pfn);
		reclaimed++;
	}
	if (sc->kswapd)
		count_vm_events(m, PGSTEAL_KSWAPD, reclaimed);
	else
		count_vm_events(m, PGSTEAL_DIRECT, reclaimed);
	count_vm_events(m, PGSTEAL_FILE, reclaimed);
	return reclaimed;
}

/* shrink_active_list(): a page is deactivated whatever its references,
 * to the inactive head with PG_workingset (file_page_stays_active). */
static void shrink_active_list(ra_machine *m, struct scan_control *sc, uint64_t nr)
{
	uint32_t taken[SWAP_CLUSTER_MAX];
	uint64_t nr_taken;
	uint64_t scanned = isolate(m, sc, LRU_ACTIVE_FILE, nr, taken, &nr_taken), deactivated = 0;
	count_vm_events(m, PGREFILL, scanned);
	for (uint64_t i = 0; i < nr_taken; i++) {
		if (file_page_stays_active(m, taken[i])) {
			lru_add(m, taken[i], LRU_ACTIVE_FILE);
			workingset_age_nonresident(m, 1);      /* move_folios_to_lru() */
			continue;
		}
		lru_add(m, taken[i], LRU_INACTIVE_FILE);
		deactivated++;
	}
	count_vm_events(m, PGDEACTIVATE, deactivated);
}

/* shrink_node() -> shrink_lruvec() with get_scan_count()'s SCAN_FILE. */
static void shrink_node(ra_machine *m, struct scan_control *sc)
{
	sc->may_deactivate = sc->force_deactivate || inactive_is_low(m);
	uint64_t nr[NR_LRU_LISTS] = { 0 };
	for (int l = LRU_INACTIVE_FILE; l <= LRU_ACTIVE_FILE; l++)
		nr[l] = lru_size(m, l, sc->reclaim_idx) >> sc->priority;
	bool proportional = !sc->kswapd && sc->priority == DEF_PRIORITY;
	uint64_t reclaimed = 0;    /* shrink_lruvec()'s own count decides when it stops */
	while (nr[LRU_INACTIVE_FILE] || nr[LRU_ACTIVE_FILE]) {
		for (int l = LRU_INACTIVE_FILE; l <= LRU_ACTIVE_FILE; l++) {
			if (!nr[l])
				continue;
			uint64_t n = RA_MIN(nr[l], (uint64_t)SWAP_CLUSTER_MAX);
			nr[l] -= n;
			if (l == LRU_ACTIVE_FILE) {
				if (sc->may_deactivate)
					shrink_active_list(m, sc, n);
				else
					sc->skipped_deactivate = true;
			} else {
				reclaimed += shrink_inactive_list(m, sc, n);
			}
		}
		if (reclaimed < sc->nr_to_reclaim || proportional)
			continue;
		break;    /* no anon to balance against: stop at the target */
	}
	sc->nr_reclaimed += reclaimed;
}

uint64_t ra_try_to_free_pages(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone)
{
	(void)order;
	if (!m->fm || !(node_page_state(m, NR_INACTIVE_FILE) + node_page_state(m, NR_ACTIVE_FILE)))
		return 0;
	struct scan_control sc = {
		.gfp = gfp, .reclaim_idx = classzone, .nr_to_reclaim = SWAP_CLUSTER_MAX,
	};
retry:
	for (sc.priority = DEF_PRIORITY; sc.priority >= 0; sc.priority--) {
		shrink_node(m, &sc);
		if (sc.nr_reclaimed >= sc.nr_to_reclaim)
			break;
	}
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

void ra_wakeup_kswapd(ra_machine *m, ra_gfp_t gfp, unsigned order, int classzone)
{
	(void)gfp;
	if (!m->kswapd.pending) {
		m->kswapd.order = order;
		m->kswapd.classzone = classzone;
	} else {
		m->kswapd.order = RA_MAX(m->kswapd.order, order);
		m->kswapd.classzone = RA_MAX(m->kswapd.classzone, classzone);
	}
	if (m->kswapd.failures >= MAX_RECLAIM_RETRIES)
		return;     /* hopeless: kswapd stays asleep */
	m->kswapd.pending = true;
}

/* pgdat_balanced(): any populated zone up to classzone meets its high
 * watermark for order (zone_watermark_ok_safe: no reserve access). */
static bool pgdat_balanced(ra_machine *m, unsigned order, int classzone)
{
	for (int zi = 0; zi <= classzone && zi < RA_NR_REAL_ZONES; zi++) {
		struct ra_zone *z = &m->zones[zi];
		if (!m->populated[zi])
			continue;
		if (ra_zone_watermark_ok(m, z, order, z->wmark[2], classzone, 0,
		                         (int64_t)zone_page_state(z, NR_FREE_PAGES)))
			return true;
	}
	return false;
}

/* balance_pgdat() */
static void balance_pgdat(ra_machine *m, unsigned order, int classzone)
{
	count_vm_event(m, PAGEOUTRUN);
	struct scan_control sc = {
		.gfp = RA_GFP_KERNEL, .kswapd = true, .reclaim_idx = classzone, .priority = DEF_PRIORITY,
	};
	uint64_t total = 0;
	do {
		if (pgdat_balanced(m, order, classzone))
			break;
		/* kswapd_shrink_node() */
		sc.nr_to_reclaim = 0;
		for (int zi = 0; zi <= classzone && zi < RA_NR_REAL_ZONES; zi++)
			if (m->populated[zi])
				sc.nr_to_reclaim += RA_MAX(m->zones[zi].wmark[2], (uint64_t)SWAP_CLUSTER_MAX);
		sc.nr_reclaimed = sc.nr_scanned = 0;
		shrink_node(m, &sc);
		bool raise_priority = sc.nr_scanned < sc.nr_to_reclaim;
		total += sc.nr_reclaimed;
		if (order && total >= 2ULL << order)
			order = 0;
		if (raise_priority || !sc.nr_reclaimed)
			sc.priority--;
	} while (sc.priority >= 1);
	if (total)
		m->kswapd.failures = 0;
	else
		m->kswapd.failures++;
}

void ra_kswapd_run(ra_machine *m)
{
	if (!m->kswapd.pending)
		return;
	m->kswapd.pending = false;
	if (!m->fm || !(node_page_state(m, NR_INACTIVE_FILE) + node_page_state(m, NR_ACTIVE_FILE)))
		return;
	balance_pgdat(m, m->kswapd.order, m->kswapd.classzone);
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
		/* drop_slab(): the model's shrinkers are kmem_cache_shrink of
		 * every cache, the oldest first */
		for (uint32_t i = 0; i < m->nr_caches; i++) {
			struct ra_cache *s = m->caches[i];
			if (s && s->alive && !s->merged_into_valid)
				ra_kmem_cache_shrink(m, s);
		}
		count_vm_event(m, DROP_SLAB);
	}
}
