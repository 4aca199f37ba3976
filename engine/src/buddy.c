/*
 * buddy.c — the page allocator: zones, free_area[order][migratetype],
 * pageblock migratetypes with fallback and stealing, watermarks and lowmem
 * reserves, per-cpu page lists, the fast and slow allocation paths.
 *
 * It follows mm/page_alloc.c closely; where a function here mirrors one
 * there it carries the kernel's name with two underscores dropped, so the
 * source can be read side by side:
 *
 *   free_one_page()      __free_one_page(): merge with free buddies while the
 *                        buddy (pfn ^ (1 << order)) is free, of the same order
 *                        and zone; at or above pageblock_order only between
 *                        mergeable types. The result goes to the list head,
 *                        or the tail when the next-order buddy is free too.
 *   expand()             hand the upper halves back, orders high-1 .. low.
 *   rmqueue_smallest()   scan orders upward, take the list head.
 *   rmqueue_fallback()   largest block of a fallback type first; steal the
 *                        whole pageblock when allowed; smallest for Movable
 *                        requests that cannot steal.
 *   pcp_alloc/pcp_free   per-cpu lists for orders 0..3, refilled and drained
 *                        in batches, drained round-robin from list tails.
 *
 * Accounting: a zone's free_pages are the pages on its buddy lists only
 * (pages on per-cpu lists are not free in that count, as in the kernel).
 */
#include "buddy.h"
#include "san.h"

static inline void clear_head(struct ra_page *p) { memset(p, 0, sizeof(*p)); }

/* === Free lists ========================================================= */

static inline void account_free(struct ra_zone *z, int mt, int64_t pages)
{
	z->vm_stat[RA_STAT_NR_FREE_PAGES] += (uint64_t)pages;
	if (mt == MT_CMA)
		z->vm_stat[RA_STAT_NR_FREE_CMA] += (uint64_t)pages;
}

static void add_to_free_list(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned order, int mt, bool tail)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_free_area *a = &z->area[order];
	p->owner = PO_BUDDY;
	p->order = (uint8_t)order;
	p->mt = (uint8_t)mt;
	p->flags = 0;
	p->priv = 0;
	p->count = 0;
	if (tail)
		plist_add_tail(m, &a->list[mt], pfn);
	else
		plist_add_head(m, &a->list[mt], pfn);
	a->nr_free++;
	a->nr_type[mt]++;
	account_free(z, mt, 1 << order);
}

static void del_from_free_list(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned order)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_free_area *a = &z->area[order];
	int mt = p->mt;
	RA_DEBUG_ON(m, p->owner != PO_BUDDY || p->order != order);
	plist_del(m, &a->list[mt], pfn);
	a->nr_free--;
	a->nr_type[mt]--;
	account_free(z, mt, -(1 << order));
	p->owner = PO_NONE;
}

static void move_to_free_list(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned order, int mt)
{
	del_from_free_list(m, z, pfn, order);
	add_to_free_list(m, z, pfn, order, mt, false);
}

static inline bool mt_mergeable(int mt) { return mt < MT_PCPTYPES; }

/* page_is_buddy(): the buddy is a free head of the same order in the same zone. */
static inline bool is_buddy(ra_machine *m, struct ra_zone *z, uint32_t buddy, unsigned order)
{
	if (buddy < z->start_pfn || buddy >= z->end_pfn)
		return false;
	const struct ra_page *b = pfn_page(m, buddy);
	return b->owner == PO_BUDDY && b->order == order;
}

/* __free_one_page() */
static void free_one_page(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned order, int mt, bool to_tail)
{
	uint32_t buddy = 0;
	bool merge_stopped = false;
	clear_head(pfn_page(m, pfn));
	while (order < RA_MAX_ORDER) {
#if RA_MUTANT == 1 /* mutant 1: wrong buddy (pfn ^ 2<<order) */
		buddy = pfn ^ (2u << order);
#else
		buddy = pfn ^ (1u << order);
#endif
		if (!is_buddy(m, z, buddy, order)) {
			merge_stopped = true;
			break;
		}
		if (order >= RA_PAGEBLOCK_ORDER) {
			int bmt = pageblock_mt(m, buddy);
			if (mt != bmt && (!mt_mergeable(mt) || !mt_mergeable(bmt))) {
				merge_stopped = true;
				break;
			}
		}
		del_from_free_list(m, z, buddy, order);
#if RA_MUTANT == 3 /* mutant 3: lost page on merge (an order-0 buddy leaves the list but is not merged) */
		if (order == 0) {
			merge_stopped = true;
			break;
		}
#endif
		clear_head(pfn_page(m, buddy));
		clear_head(pfn_page(m, pfn));
		pfn &= buddy;
		order++;
	}
	if (!to_tail && merge_stopped && order < RA_MAX_ORDER - 1) {
		/* buddy_merge_likely(): is the buddy of the next order free? */
		uint32_t higher = buddy & pfn;
		uint32_t hbuddy = higher ^ (1u << (order + 1));
		to_tail = is_buddy(m, z, hbuddy, order + 1);
	}
	add_to_free_list(m, z, pfn, order, mt, to_tail);
#if RA_MUTANT == 4 /* mutant 4: free-list double insert (an unmerged order-2 block goes on the list twice) */
	if (merge_stopped && order == 2)
		add_to_free_list(m, z, pfn, order, mt, !to_tail);
#endif
}

/* expand(): split a block of order high, keep [pfn, pfn + 2^low). */
static void expand(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned low, unsigned high, int mt)
{
#if RA_MUTANT == 2 /* mutant 2: off-by-one split (the last half is never put back) */
	while (high > low + 1) {
#else
	while (high > low) {
#endif
		high--;
		add_to_free_list(m, z, pfn + (1u << high), high, mt, false);
	}
}

/* __rmqueue_smallest(): returns the head pfn (off the lists) or RA_NOPFN. */
static uint32_t rmqueue_smallest(ra_machine *m, struct ra_zone *z, unsigned order, int mt)
{
	for (unsigned o = order; o < RA_NR_ORDERS; o++) {
		uint32_t pfn = z->area[o].list[mt].head;
		if (pfn == RA_NOPFN)
			continue;
		del_from_free_list(m, z, pfn, o);
		expand(m, z, pfn, order, o, mt);
		pfn_page(m, pfn)->mt = (uint8_t)mt;
		return pfn;
	}
	return RA_NOPFN;
}

static const int fallbacks[MT_PCPTYPES][2] = {
	[MT_UNMOVABLE]   = { MT_RECLAIMABLE, MT_MOVABLE },
	[MT_MOVABLE]     = { MT_RECLAIMABLE, MT_UNMOVABLE },
	[MT_RECLAIMABLE] = { MT_UNMOVABLE, MT_MOVABLE },
};

/* can_steal_fallback() */
static bool can_steal_fallback(unsigned order, int start_mt)
{
	if (order >= RA_PAGEBLOCK_ORDER)
		return true;
	return order >= RA_PAGEBLOCK_ORDER / 2 || start_mt == MT_RECLAIMABLE || start_mt == MT_UNMOVABLE;
}

/* find_suitable_fallback() */
static int find_suitable_fallback(struct ra_free_area *a, unsigned order, int start_mt, bool *can_steal)
{
	*can_steal = false;
	if (a->nr_free == 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fmt = fallbacks[start_mt][i];
		if (a->list[fmt].head == RA_NOPFN)
			continue;
		*can_steal = can_steal_fallback(order, start_mt);
		return fmt;
	}
	return -1;
}

/* move_freepages_block(): move every free block inside the pageblock of pfn
 * to the lists of type mt; counts free pages and allocated movable pages. */
static uint64_t move_freepages_block(ra_machine *m, struct ra_zone *z, uint32_t pfn, int mt, uint64_t *movable)
{
	uint32_t start = pfn & ~(RA_PAGEBLOCK_PAGES - 1);
	uint32_t end = start + RA_PAGEBLOCK_PAGES;
	uint64_t moved = 0;
	if (movable)
		*movable = 0;
	if (start < z->start_pfn || end > z->end_pfn)
		return 0;
	for (uint32_t p = start; p < end;) {
		struct ra_page *pg = pfn_page(m, p);
		if (pg->owner == PO_BUDDY) {
			unsigned o = pg->order;
			if (pg->mt != mt)
				move_to_free_list(m, z, p, o, mt);
			moved += 1u << o;
			p += 1u << o;
			continue;
		}
		if (pg->owner != PO_NONE) {
			if (movable && pg->owner != PO_PCP && pg->mt == MT_MOVABLE)
				*movable += 1u << pg->order;
			p += 1u << pg->order;
			continue;
		}
		p++;
	}
	return moved;
}

static uint64_t mult_frac(uint64_t x, uint64_t n, uint64_t d) { return (x / d) * n + ((x % d) * n) / d; }

/* boost_watermark(): a fallback steal raises the zone's watermarks by a
 * pageblock, up to watermark_boost_factor / 10000 of the high watermark
 * (at least a pageblock); not in a zone under 4 pageblocks, nor with the
 * factor 0 or a high watermark that gives no boost. */
static bool boost_watermark(ra_machine *m, struct ra_zone *z)
{
	uint64_t factor = (uint64_t)KNOB(m, VM_WATERMARK_BOOST_FACTOR);
	if (!factor || (uint64_t)RA_PAGEBLOCK_PAGES * 4 > z->managed)
		return false;
	uint64_t max_boost = mult_frac(z->wmark[2], factor, 10000);
	if (!max_boost)
		return false;
	max_boost = RA_MAX((uint64_t)RA_PAGEBLOCK_PAGES, max_boost);
	z->watermark_boost = RA_MIN(z->watermark_boost + RA_PAGEBLOCK_PAGES, max_boost);
	return true;
}

/* steal_suitable_fallback() */
static void steal_suitable_fallback(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned cur_order,
                                    int start_mt, bool whole_block, unsigned alloc_flags)
{
	int old_mt = pageblock_mt(m, pfn);
	z->vm_stat[RA_STAT_STEAL]++;
	/* "This can happen due to races and we want to prevent broken
	 * highatomic accounting": a free page of a HighAtomic pageblock found
	 * on another type's list (moved there with a neighbour's block) is
	 * taken alone, the pageblock keeps its type */
	if (old_mt == MT_HIGHATOMIC) {
		move_to_free_list(m, z, pfn, cur_order, start_mt);
		return;
	}
	if (cur_order >= RA_PAGEBLOCK_ORDER) {
		/* change_pageblock_range(). A buddy this large may span a
		 * pageblock still typed HighAtomic whose free pages an unreserve
		 * moved off its list with the first block's: it leaves the
		 * reserve here, and its count with it, so that
		 * nr_reserved_highatomic stays a pageblock per HighAtomic
		 * pageblock (check.c) */
		for (uint32_t p = pfn; p < pfn + (1u << cur_order); p += RA_PAGEBLOCK_PAGES) {
			if (pageblock_mt(m, p) == MT_HIGHATOMIC)
				z->nr_reserved_highatomic -= RA_MIN((uint64_t)RA_PAGEBLOCK_PAGES, z->nr_reserved_highatomic);
			set_pageblock_mt(m, p, start_mt);
		}
		move_to_free_list(m, z, pfn, cur_order, start_mt);
		return;
	}
	/* boost the watermarks so that kswapd reclaims before the next
	 * fallback; wake it now (rmqueue), the node may look balanced */
	if (boost_watermark(m, z) && (alloc_flags & ALLOC_KSWAPD))
		z->boosted_wakeup = true;
	if (whole_block) {
		uint64_t movable, alike;
		uint64_t free_pages = move_freepages_block(m, z, pfn, start_mt, &movable);
		if (start_mt == MT_MOVABLE)
			alike = movable;
		else if (old_mt == MT_MOVABLE)
			alike = RA_PAGEBLOCK_PAGES - (free_pages + movable);
		else
			alike = 0;
		if (free_pages) {
			if (free_pages + alike >= (RA_PAGEBLOCK_PAGES >> 1))
				set_pageblock_mt(m, pfn, start_mt);
			return;
		}
	}
	move_to_free_list(m, z, pfn, cur_order, start_mt);
}

/* __rmqueue_fallback(): steal from another type; true when it moved a block. */
static bool rmqueue_fallback(ra_machine *m, struct ra_zone *z, unsigned order, int start_mt, unsigned alloc_flags)
{
	unsigned min_order = order;
	bool can_steal;
	int fmt;
	int cur;
	if (alloc_flags & ALLOC_NOFRAGMENT)
		min_order = RA_PAGEBLOCK_ORDER;
	for (cur = RA_MAX_ORDER; cur >= (int)min_order; cur--) {
		fmt = find_suitable_fallback(&z->area[cur], (unsigned)cur, start_mt, &can_steal);
		if (fmt < 0)
			continue;
		if (!can_steal && start_mt == MT_MOVABLE && (unsigned)cur > order)
			goto find_smallest;
		goto do_steal;
	}
	return false;
find_smallest:
	for (cur = (int)order; cur < RA_NR_ORDERS; cur++) {
		fmt = find_suitable_fallback(&z->area[cur], (unsigned)cur, start_mt, &can_steal);
		if (fmt >= 0)
			break;
	}
	RA_BUG_ON(m, cur >= RA_NR_ORDERS);
do_steal:
	z->vm_stat[RA_STAT_FALLBACK]++;
	steal_suitable_fallback(m, z, z->area[cur].list[fmt].head, (unsigned)cur, start_mt, can_steal, alloc_flags);
	return true;
}

/* __rmqueue() */
static uint32_t rmqueue_one(ra_machine *m, struct ra_zone *z, unsigned order, int mt, unsigned alloc_flags)
{
	uint32_t pfn;
	if ((alloc_flags & ALLOC_CMA) && z->vm_stat[RA_STAT_NR_FREE_CMA] > z->vm_stat[RA_STAT_NR_FREE_PAGES] / 2) {
		pfn = rmqueue_smallest(m, z, order, MT_CMA);
		if (pfn != RA_NOPFN)
			return pfn;
	}
retry:
	pfn = rmqueue_smallest(m, z, order, mt);
	if (pfn == RA_NOPFN) {
		if (alloc_flags & ALLOC_CMA) {
			pfn = rmqueue_smallest(m, z, order, MT_CMA);
			if (pfn != RA_NOPFN)
				return pfn;
		}
		if (rmqueue_fallback(m, z, order, mt, alloc_flags))
			goto retry;
	}
	return pfn;
}

/* === Accounting ========================================================== */

static inline void account(ra_machine *m, enum ra_owner owner, int mt, int64_t pages)
{
	switch (owner) {
	case PO_PAGES:   mod_node_page_state(m, PAGES_ALLOC_PAGES, pages); break;
	case PO_KMALLOC: mod_node_page_state(m, KMALLOC_LARGE_PAGES, pages); break;
	case PO_SLAB:
		if (mt == MT_RECLAIMABLE)
			mod_node_page_state(m, NR_SLAB_RECLAIMABLE, pages);
		else
			mod_node_page_state(m, NR_SLAB_UNRECLAIMABLE, pages);
		break;
	case PO_VMALLOC: mod_node_page_state(m, VMALLOC_PAGES, pages); break;
	case PO_BALLOON: mod_node_page_state(m, BALLOON_PAGES, pages); break;
	case PO_USER:    mod_node_page_state(m, NR_ANON_PAGES, pages); break;
	case PO_PGTABLE: mod_node_page_state(m, NR_PAGE_TABLE_PAGES, pages); break;
	case PO_PCP:     mod_node_page_state(m, PCP_PAGES, pages); break;
	case PO_FILE:    mod_node_page_state(m, NR_FILE_PAGES, pages); break;
	default: break;
	}
}

void ra_account(ra_machine *m, enum ra_owner owner, int mt, int64_t pages) { account(m, owner, mt, pages); }

/* === Per-cpu lists ====================================================== */

static inline unsigned pindex(unsigned order, int mt) { return order * MT_PCPTYPES + (unsigned)mt; }

/* free_pcppages_bulk(): drain count pages, the requested list first, then
 * round-robin, each list from its tail (the coldest pages). */
static void free_pcppages_bulk(ra_machine *m, struct ra_zone *z, struct ra_pcp *pcp, int64_t count, unsigned pidx)
{
	count = RA_MIN(count, (int64_t)pcp->count);
	int idx = (int)pidx - 1;
	while (count > 0) {
		struct ra_plist *l;
		do {
			if (++idx > RA_NR_PCP_LISTS - 1)
				idx = 0;
			l = &pcp->lists[idx];
		} while (l->head == RA_NOPFN);
		unsigned order = (unsigned)idx / MT_PCPTYPES;
		do {
			uint32_t pfn = l->tail;
			struct ra_page *p = pfn_page(m, pfn);
			int mt = p->mt;
			plist_del(m, l, pfn);
			pcp->nr_blocks[idx]--;
			pcp->count -= 1u << order;
			count -= 1 << order;
			account(m, PO_PCP, 0, -(1 << order));
			free_one_page(m, z, pfn, order, mt, false);
		} while (count > 0 && l->head != RA_NOPFN);
	}
}

void ra_drain_pcp_zone_cpu(ra_machine *m, struct ra_zone *z, unsigned cpu)
{
	struct ra_pcp *pcp = &z->pcp[cpu];
	if (pcp->count)
		free_pcppages_bulk(m, z, pcp, pcp->count, 0);
}

void ra_drain_pcp_all(ra_machine *m)
{
	count_vm_event(m, PCP_DRAIN_ALL);
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++)
		if (m->populated[zi])
			for (unsigned c = 0; c < m->ncpus; c++)
				ra_drain_pcp_zone_cpu(m, &m->zones[zi], c);
}

/* rmqueue_bulk() into the list's tail */
static unsigned rmqueue_bulk(ra_machine *m, struct ra_zone *z, unsigned order, unsigned count, struct ra_pcp *pcp,
                             unsigned pidx, int mt, unsigned alloc_flags)
{
	unsigned got = 0;
	for (; got < count; got++) {
		uint32_t pfn = rmqueue_one(m, z, order, mt, alloc_flags);
		if (pfn == RA_NOPFN)
			break;
		struct ra_page *p = pfn_page(m, pfn);
		p->owner = PO_PCP;
		p->order = (uint8_t)order;
		p->priv = m->cpu;
		plist_add_tail(m, &pcp->lists[pidx], pfn);
		pcp->nr_blocks[pidx]++;
	}
	pcp->count += got << order;
	account(m, PO_PCP, 0, (int64_t)got << order);
	return got;
}

static uint32_t pcp_alloc(ra_machine *m, struct ra_zone *z, unsigned order, int mt, unsigned alloc_flags)
{
	struct ra_pcp *pcp = &z->pcp[m->cpu];
	unsigned idx = pindex(order, mt);
	struct ra_plist *l = &pcp->lists[idx];
	if (l->head == RA_NOPFN) {
		/* __rmqueue_pcplist(): the batch is scaled by order only when it
		 * is above 1; a batch of 1 (a small zone: the 16 MiB DMA zone)
		 * refills one block whatever the order */
		unsigned batch = pcp->batch > 1 ? RA_MAX(pcp->batch >> order, 2u) : pcp->batch;
		if (!rmqueue_bulk(m, z, order, batch, pcp, idx, mt, alloc_flags))
			return RA_NOPFN;
	}
	uint32_t pfn = l->head;
	plist_del(m, l, pfn);
	pcp->nr_blocks[idx]--;
#if RA_MUTANT == 5 /* mutant 5: pcp count drift (an order>0 allocation counts as one page) */
	pcp->count -= 1u;
#else
	pcp->count -= 1u << order;
#endif
	account(m, PO_PCP, 0, -(1 << order));
	return pfn;
}

/* free_unref_page() + free_unref_page_commit() */
static void pcp_free(ra_machine *m, struct ra_zone *z, uint32_t pfn, unsigned order)
{
	int mt = pageblock_mt(m, pfn);
	if (mt == MT_ISOLATE) {
		free_one_page(m, z, pfn, order, mt, false);
		return;
	}
	int list_mt = mt >= MT_PCPTYPES ? MT_MOVABLE : mt;
	struct ra_pcp *pcp = &z->pcp[m->cpu];
	unsigned idx = pindex(order, list_mt);
	struct ra_page *p = pfn_page(m, pfn);
	p->owner = PO_PCP;
	p->order = (uint8_t)order;
	p->mt = (uint8_t)mt;          /* the pageblock's type: where it returns to */
	p->flags = 0;
	p->priv = m->cpu;
	p->count = 0;
	plist_add_head(m, &pcp->lists[idx], pfn);
	pcp->nr_blocks[idx]++;
	pcp->count += 1u << order;
	account(m, PO_PCP, 0, 1 << order);
	if (pcp->count >= pcp->high)
		free_pcppages_bulk(m, z, pcp, pcp->batch, idx);
}

/* === Watermarks ========================================================= */

uint64_t ra_wmark_pages(struct ra_zone *z, unsigned alloc_flags)
{
	return z->wmark[alloc_flags & ALLOC_WMARK_MASK] + z->watermark_boost;
}

/* __zone_watermark_ok() */
bool ra_zone_watermark_ok(ra_machine *m, struct ra_zone *z, unsigned order, uint64_t mark,
                          int classzone, unsigned alloc_flags, int64_t free_pages)
{
	(void)m;
	int64_t min = (int64_t)mark;
	/* __zone_watermark_unusable_free() */
	int64_t unusable = (1 << order) - 1;
	if (!(alloc_flags & ALLOC_RESERVES))
		unusable += (int64_t)z->nr_reserved_highatomic;
	if (!(alloc_flags & ALLOC_CMA))
		unusable += (int64_t)z->vm_stat[RA_STAT_NR_FREE_CMA];
	free_pages -= unusable;
	if (alloc_flags & ALLOC_RESERVES) {
		if (alloc_flags & ALLOC_HIGH) {
			min -= min / 2;
			if (alloc_flags & ALLOC_HARDER)
				min -= min / 4;
		}
		if (alloc_flags & ALLOC_OOM)
			min -= min / 2;
	}
#if RA_MUTANT == 6 /* mutant 6: watermark compared the wrong way */
	if (free_pages > min + (int64_t)z->lowmem_reserve[classzone])
#else
	if (free_pages <= min + (int64_t)z->lowmem_reserve[classzone])
#endif
		return false;
	if (!order)
		return true;
	for (unsigned o = order; o < RA_NR_ORDERS; o++) {
		struct ra_free_area *a = &z->area[o];
		if (!a->nr_free)
			continue;
		for (int t = 0; t < MT_PCPTYPES; t++)
			if (a->list[t].head != RA_NOPFN)
				return true;
		if ((alloc_flags & ALLOC_CMA) && a->list[MT_CMA].head != RA_NOPFN)
			return true;
		if ((alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && a->list[MT_HIGHATOMIC].head != RA_NOPFN)
			return true;
	}
	return false;
}

/* zone_watermark_fast(): the common order-0 case without the reserves'
 * arithmetic, then the full check. */
static inline bool zone_watermark_fast(ra_machine *m, struct ra_zone *z, unsigned order, uint64_t mark,
                                       int classzone, unsigned alloc_flags)
{
	if (!order) {
		uint64_t reserved = (alloc_flags & ALLOC_CMA) ? 0 : z->vm_stat[RA_STAT_NR_FREE_CMA];
		if (!(alloc_flags & ALLOC_RESERVES))
			reserved += z->nr_reserved_highatomic;
		uint64_t usable = z->vm_stat[RA_STAT_NR_FREE_PAGES] - RA_MIN(z->vm_stat[RA_STAT_NR_FREE_PAGES], reserved);
		if (usable > mark + z->lowmem_reserve[classzone])
			return true;
	}
	return ra_zone_watermark_ok(m, z, order, mark, classzone, alloc_flags, (int64_t)z->vm_stat[RA_STAT_NR_FREE_PAGES]);
}

/* === GFP mapping ======================================================== */

int ra_gfp_zone(ra_gfp_t gfp)
{
	if (gfp & RA___GFP_DMA)
		return ZONE_DMA;
	if (gfp & RA___GFP_DMA32)
		return ZONE_DMA32;
	return ZONE_NORMAL;
}

int ra_gfp_migratetype(ra_gfp_t gfp)
{
	if (gfp & RA___GFP_MOVABLE)
		return MT_MOVABLE;
	if (gfp & RA___GFP_RECLAIMABLE)
		return MT_RECLAIMABLE;
	return MT_UNMOVABLE;
}

/* gfp_to_alloc_flags() for the slow path, as 6.1.y has it since 6.1.119
 * backported the reserve rework: __GFP_HIGH and "cannot sleep" (no
 * __GFP_DIRECT_RECLAIM) decide reserve access; __GFP_ATOMIC (0x200, part of
 * GFP_ATOMIC = 0xa20) is not looked at. */
static unsigned gfp_to_alloc_flags(ra_gfp_t gfp, unsigned order)
{
	unsigned f = ALLOC_WMARK_MIN | ALLOC_CPUSET;
	if (gfp & RA___GFP_HIGH)
		f |= ALLOC_HIGH;
	if (gfp & RA___GFP_KSWAPD_RECLAIM)
		f |= ALLOC_KSWAPD;
	if (!(gfp & RA___GFP_DIRECT_RECLAIM)) {
		if (!(gfp & RA___GFP_NOMEMALLOC)) {
			f |= ALLOC_HARDER;
			if (order > 0)
				f |= ALLOC_HIGHATOMIC;
		}
		if (f & ALLOC_HIGH)
			f &= ~ALLOC_CPUSET;
	}
	if (ra_gfp_migratetype(gfp) == MT_MOVABLE)
		f |= ALLOC_CMA;
	return f;
}

/* === Highatomic reserve ================================================== */

/* reserve_highatomic_pageblock() */
static void reserve_highatomic_pageblock(ra_machine *m, struct ra_zone *z, uint32_t pfn)
{
	uint64_t max_managed = z->managed / 100 + RA_PAGEBLOCK_PAGES;
	if (z->nr_reserved_highatomic >= max_managed)
		return;
	int mt = pageblock_mt(m, pfn);
	if (!mt_mergeable(mt))
		return;
	uint32_t start = pfn & ~(RA_PAGEBLOCK_PAGES - 1);
	if (start < z->start_pfn || start + RA_PAGEBLOCK_PAGES > z->end_pfn)
		return;
	z->nr_reserved_highatomic += RA_PAGEBLOCK_PAGES;
	set_pageblock_mt(m, pfn, MT_HIGHATOMIC);
	move_freepages_block(m, z, pfn, MT_HIGHATOMIC, NULL);
}

/* unreserve_highatomic_pageblock(): give reserved blocks back before OOM. */
/* The freed block takes the migratetype of the allocation that needs it
 * (ac->migratetype), as the kernel converts it, not a fixed type. */
static bool unreserve_highatomic_pageblock(ra_machine *m, int classzone, bool force, int newmt)
{
	for (int zi = classzone; zi >= 0; zi--) {
		struct ra_zone *z = &m->zones[zi];
		if (!m->populated[zi])
			continue;
		if (!force && z->nr_reserved_highatomic <= RA_PAGEBLOCK_PAGES)
			continue;
		for (unsigned o = 0; o < RA_NR_ORDERS; o++) {
			uint32_t pfn = z->area[o].list[MT_HIGHATOMIC].head;
			if (pfn == RA_NOPFN)
				continue;
			if (pageblock_mt(m, pfn) == MT_HIGHATOMIC) {
				z->nr_reserved_highatomic -= RA_MIN((uint64_t)RA_PAGEBLOCK_PAGES, z->nr_reserved_highatomic);
			}
			set_pageblock_mt(m, pfn, newmt);
			/* its free blocks change lists but do not merge: an order >=
			 * pageblock_order one may now sit beside a free buddy */
			m->pageblock_retyped[pfn >> RA_PAGEBLOCK_ORDER] = 1;
			move_freepages_block(m, z, pfn, newmt, NULL);
			return true;
		}
	}
	return false;
}

/* === The allocation paths ============================================== */

/* rmqueue()'s end: a boost with ALLOC_KSWAPD wakes kswapd for the zone
 * (wakeup_kswapd(zone, 0, 0, zone_idx)). */
static inline void boosted_wakeup(ra_machine *m, struct ra_zone *z)
{
	if (unlikely(z->boosted_wakeup)) {
		z->boosted_wakeup = false;
		if (m->slowpath && m->slowpath->wakeup_kswapd)
			m->slowpath->wakeup_kswapd(m, 0, 0, z->idx);
	}
}

/* rmqueue(): pcp for orders up to costly, else the buddy lists. */
static uint32_t rmqueue(ra_machine *m, struct ra_zone *z, unsigned order, int mt, unsigned alloc_flags)
{
	uint32_t pfn;
	if (order <= RA_COSTLY_ORDER) {
		pfn = pcp_alloc(m, z, order, mt, alloc_flags);
		if (pfn != RA_NOPFN) {
			boosted_wakeup(m, z);
			return pfn;
		}
	}
	pfn = RA_NOPFN;
	if (alloc_flags & ALLOC_HIGHATOMIC)
		pfn = rmqueue_smallest(m, z, order, MT_HIGHATOMIC);
	if (pfn == RA_NOPFN) {
		pfn = rmqueue_one(m, z, order, mt, alloc_flags);
		if (pfn == RA_NOPFN && (alloc_flags & (ALLOC_OOM | ALLOC_HARDER)))
			pfn = rmqueue_smallest(m, z, order, MT_HIGHATOMIC);
	}
	boosted_wakeup(m, z);
	return pfn;
}

/* alloc_flags_nofragment(): a Normal-zone request avoids fragmenting by
 * preferring whole-pageblock steals, then lower zones, before falling back. */
static unsigned alloc_flags_nofragment(ra_machine *m, int preferred)
{
	if (preferred != ZONE_NORMAL || !m->populated[ZONE_NORMAL] || !m->populated[ZONE_DMA32])
		return 0;
	return ALLOC_NOFRAGMENT;
}

/* get_page_from_freelist(): walk the zonelist from the highest allowed zone. */
static uint32_t get_page_from_freelist(ra_machine *m, ra_gfp_t gfp, unsigned order, unsigned alloc_flags,
                                       int classzone, int mt)
{
retry:
	for (int zi = classzone; zi >= 0; zi--) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		if (!(alloc_flags & ALLOC_NO_WATERMARKS)) {
			uint64_t mark = ra_wmark_pages(z, alloc_flags);
			if (!zone_watermark_fast(m, z, order, mark, classzone, alloc_flags)) {
				z->vm_stat[RA_STAT_WMARK_FAIL]++;
				continue;
			}
		}
		uint32_t pfn = rmqueue(m, z, order, mt, alloc_flags);
		if (pfn != RA_NOPFN) {
			if (order && (alloc_flags & ALLOC_HIGHATOMIC))
				reserve_highatomic_pageblock(m, z, pfn);
			count_zone_vm_events(z, PGALLOC, 1u << order);
			return pfn;
		}
	}
	if (alloc_flags & ALLOC_NOFRAGMENT) {
		alloc_flags &= ~ALLOC_NOFRAGMENT;
		goto retry;
	}
	(void)gfp;
	return RA_NOPFN;
}

static void warn_alloc(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	if (gfp & RA___GFP_NOWARN)
		return;
	char names[256];
	ra_gfp_format(gfp, names, sizeof(names));
	ra_log(m, "page allocation failure: order:%u, mode:%#x(%s)", order, gfp, names);
}

/* __alloc_pages(): fast path at the low watermark, then the slow path. */
static uint32_t alloc_pages_nodemask(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	int classzone = ra_gfp_zone(gfp);
	int mt = ra_gfp_migratetype(gfp);
	unsigned alloc_flags = ALLOC_WMARK_LOW | alloc_flags_nofragment(m, classzone) |
	                       ((gfp & RA___GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0);
	if (mt == MT_MOVABLE)
		alloc_flags |= ALLOC_CMA;
	uint32_t pfn = get_page_from_freelist(m, gfp, order, alloc_flags, classzone, mt);
	if (likely(pfn != RA_NOPFN))
		return pfn;

	/* __alloc_pages_slowpath(). A caller that may sleep asking for atomic
	 * reserves: the kernel warns once and clears __GFP_ATOMIC (the warning
	 * itself is not printed; the cleared bit shows in later messages). */
	if ((gfp & (RA___GFP_ATOMIC | RA___GFP_DIRECT_RECLAIM)) == (RA___GFP_ATOMIC | RA___GFP_DIRECT_RECLAIM))
		gfp &= ~RA___GFP_ATOMIC;
	alloc_flags = gfp_to_alloc_flags(gfp, order);
	if (alloc_flags & ALLOC_KSWAPD) {
		count_vm_event(m, KSWAPD_WAKE);
		if (m->slowpath && m->slowpath->wakeup_kswapd)
			m->slowpath->wakeup_kswapd(m, gfp, order, classzone);
	}
	bool drained = false;
	int oom_rounds = 0;
	uint64_t progress = 0;
retry:
	pfn = get_page_from_freelist(m, gfp, order, alloc_flags, classzone, mt);
	if (pfn != RA_NOPFN)
		return pfn;
	/* __gfp_pfmemalloc_flags(): reclaim's own allocations (PF_MEMALLOC)
	 * may take every free page; and never reclaim again ("avoid
	 * recursion of direct reclaim") */
	if (unlikely(m->pf_memalloc) && !(gfp & RA___GFP_NOMEMALLOC)) {
		pfn = get_page_from_freelist(m, gfp, order, ALLOC_NO_WATERMARKS, classzone, mt);
		if (pfn != RA_NOPFN)
			return pfn;
		goto nopage;
	}
	if (!(gfp & RA___GFP_DIRECT_RECLAIM))
		goto nopage;
	/* __alloc_pages_direct_reclaim(): reclaim (the page cache, through the
	 * hook), a retry, then once the highatomic reserve and the per-cpu
	 * lists. Without page cache nothing is reclaimed and the rest goes
	 * as it always did. */
	count_zone_vm_events(&m->zones[classzone], ALLOCSTALL, 1);
	progress = 0;
	if (m->slowpath && m->slowpath->try_to_free_pages)
		progress = m->slowpath->try_to_free_pages(m, gfp, order, classzone);
	if (progress) {
		pfn = get_page_from_freelist(m, gfp, order, alloc_flags, classzone, mt);
		if (pfn != RA_NOPFN)
			return pfn;
	}
	if (!drained) {
		unreserve_highatomic_pageblock(m, classzone, false, mt);
		ra_drain_pcp_all(m);
		drained = true;
		goto retry;
	}
	if (gfp & RA___GFP_NORETRY)
		goto nopage;
	if (order > RA_COSTLY_ORDER && !(gfp & RA___GFP_RETRY_MAYFAIL) && !(gfp & RA___GFP_NOFAIL))
		goto nopage;
	/* should_reclaim_retry(): reclaim progress means another round */
	if (progress)
		goto retry;
	/* should_reclaim_retry(): without reclaim progress, "before OOM,
	 * exhaust highatomic_reserve" — one pageblock per round, and every
	 * block given back means another try before anybody is killed */
	if (unreserve_highatomic_pageblock(m, classzone, true, mt))
		goto retry;
	/* __alloc_pages_may_oom() */
	if ((gfp & RA___GFP_FS) && classzone >= ZONE_NORMAL && order <= RA_COSTLY_ORDER &&
	    !(gfp & (RA___GFP_RETRY_MAYFAIL | RA___GFP_THISNODE)) && oom_rounds < 4096) {
		oom_rounds++;
		if (m->slowpath && m->slowpath->out_of_memory && m->slowpath->out_of_memory(m, gfp, order)) {
			pfn = get_page_from_freelist(m, gfp, order, ALLOC_WMARK_HIGH | ALLOC_CPUSET, classzone, mt);
			if (pfn != RA_NOPFN)
				return pfn;
			goto retry;
		}
	}
nopage:
	if (gfp & RA___GFP_NOFAIL) {
		/* __alloc_pages_cpuset_fallback(): some access to reserves, never
		 * ALLOC_NO_WATERMARKS. A kernel would loop forever past this point. */
		pfn = get_page_from_freelist(m, gfp, order, ALLOC_WMARK_MIN | ALLOC_HIGH | ALLOC_HARDER, classzone, mt);
		if (pfn != RA_NOPFN)
			return pfn;
		count_vm_event(m, NOFAIL_FAILED);
		ra_log(m, "__GFP_NOFAIL allocation of order %u cannot be satisfied: a kernel would loop here forever", order);
	}
	count_vm_event(m, ALLOC_FAIL);
	warn_alloc(m, gfp, order);
	return RA_NOPFN;
}

/* prep_new_page(): set the owner, zero if asked, tell the sanitizers. */
uint32_t ra_alloc_pages_pfn(ra_machine *m, ra_gfp_t gfp, unsigned order, enum ra_owner owner)
{
	if (order > RA_MAX_ORDER)
		return RA_NOPFN;
	if (ra_should_fail(m, FAIL_PAGE_ALLOC, gfp))
		return RA_NOPFN;
	uint32_t pfn = alloc_pages_nodemask(m, gfp, order);
	if (pfn == RA_NOPFN)
		return pfn;
	struct ra_page *p = pfn_page(m, pfn);
	p->owner = (uint8_t)owner;
	p->order = (uint8_t)order;
	p->mt = (uint8_t)ra_gfp_migratetype(gfp);
	p->flags = 0;
	p->priv = ra_site32(m);     /* the allocating site, until the owner says otherwise */
	p->count = 0;
	p->next = p->prev = 0;
	account(m, owner, p->mt, 1 << order);
	/* not pfn_host(): handing a page out writes nothing; what writes it
	 * later marks it (ram_written) */
	uint8_t *host = m->ram + ((size_t)pfn << RA_PAGE_SHIFT);
	size_t len = (size_t)RA_PAGE_SIZE << order;
	ra_san_unpoison(host, len);
	if (unlikely(m->valgrind)) {
		/* Valgrind: the memory is undefined until written, and the mapping
		 * is never kept (machine.c), so nothing to skip or mark */
		RA_VG_UNDEFINED(host, len);
		if (gfp & RA___GFP_ZERO)
			memset(host, 0, len);
		return pfn;
	}
	if (gfp & RA___GFP_ZERO) {
		/* a page this machine never wrote still holds the zeros it began
		 * with (machine.c: a kept mapping is cleaned) */
		for (uint32_t i = 0; i < 1u << order; i++)
			if (ram_page_written(m, pfn + i))
				memset(host + ((size_t)i << RA_PAGE_SHIFT), 0, RA_PAGE_SIZE);
	}
	return pfn;
}

/* __free_pages(): orders up to costly through the per-cpu lists. */
void ra_free_pages_pfn(ra_machine *m, uint32_t pfn, unsigned order)
{
	struct ra_page *p = pfn_page(m, pfn);
	struct ra_zone *z = pfn_zone(m, pfn);
	RA_BUG_ON(m, !z);
	account(m, (enum ra_owner)p->owner, p->mt, -(1 << order));
	count_vm_events(m, PGFREE, 1u << order);
	ra_san_poison(pfn_host(m, pfn), (size_t)RA_PAGE_SIZE << order);
	if (unlikely(m->valgrind))
		RA_VG_NOACCESS(pfn_host(m, pfn), (size_t)RA_PAGE_SIZE << order);
	if (order <= RA_COSTLY_ORDER)
		pcp_free(m, z, pfn, order);
	else
		free_one_page(m, z, pfn, order, pageblock_mt(m, pfn), false);
}

/* === Public page interface ============================================== */

ra_addr_t ra_alloc_pages(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	uint32_t pfn = ra_alloc_pages_pfn(m, gfp, order, PO_PAGES);
	if (pfn == RA_NOPFN)
		return 0;
	ra_vg_alloc(m, pfn_host(m, pfn), (size_t)RA_PAGE_SIZE << order, gfp & RA___GFP_ZERO);
	return pfn_to_kaddr(pfn);
}

int ra_free_pages(ra_machine *m, ra_addr_t addr, unsigned order)
{
	if (!addr)
		return 0;
	if (!kaddr_valid(m, addr) || (addr & (RA_PAGE_SIZE - 1)))
		return ra_report(m, RC_INVALID_FREE, "free_pages", "%#llx is not a page address",
		                 (unsigned long long)addr);
	uint32_t pfn = kaddr_pfn(addr);
	struct ra_page *p = pfn_page(m, pfn);
	if (p->owner == PO_BUDDY || p->owner == PO_PCP)
		return ra_report(m, RC_DOUBLE_FREE, "free_pages", "pfn %#x (order %u) is already free",
		                 pfn, p->order);
	if (p->owner != PO_PAGES) {
		uint32_t head = ra_block_head(m, pfn);
		if (p->owner == PO_NONE && head != RA_NOPFN &&
		    (pfn_page(m, head)->owner == PO_BUDDY || pfn_page(m, head)->owner == PO_PCP))
			return ra_report(m, RC_DOUBLE_FREE, "free_pages", "pfn %#x lies in a free block", pfn);
		return ra_report(m, RC_INVALID_FREE, "free_pages", "pfn %#x was not allocated by alloc_pages", pfn);
	}
	if (p->order != order)
		return ra_report(m, RC_BAD_ORDER, "free_pages", "pfn %#x allocated with order %u, freed with order %u",
		                 pfn, p->order, order);
	ra_vg_free(m, pfn_host(m, pfn), 0, 0);
	ra_free_pages_pfn(m, pfn, order);
	return 0;
}

/* === Boot and zone parameters =========================================== */

void ra_buddy_init(ra_machine *m)
{
	/* memblock_free_all(): free each zone in the largest aligned blocks,
	 * to the list tails (FPI_TO_TAIL), so the lowest blocks are used first. */
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		uint32_t pfn = z->start_pfn;
		while (pfn < z->end_pfn) {
			unsigned o = RA_MAX_ORDER;
			while (o > 0 && ((pfn & ((1u << o) - 1)) || pfn + (1u << o) > z->end_pfn ||
			                 (pfn < m->cma_start && pfn + (1u << o) > m->cma_start)))
				o--;
			free_one_page(m, z, pfn, o, pageblock_mt(m, pfn), true);
			count_vm_events(m, PGFREE, 1u << o);   /* __free_pages_ok() counts boot memory too */
			pfn += 1u << o;
		}
		z->cma_pages = 0;
		if (m->cma_start < z->end_pfn && m->cma_end > z->start_pfn)
			z->cma_pages = RA_MIN(z->end_pfn, m->cma_end) - RA_MAX(z->start_pfn, m->cma_start);
	}
	/* RAM never allocated stays unpoisoned: poisoning a 64 GiB machine would
	 * write 8 GiB of shadow. Pages are poisoned when they are freed, which
	 * is what catches a trace's use after free. */
}


/* zone_batchsize() */
static uint32_t zone_batchsize(struct ra_zone *z)
{
	uint64_t batch = RA_MIN(z->managed >> 10, 256u);
	batch /= 4;
	if (batch < 1)
		batch = 1;
	batch = ra_rounddown_pow2(batch + batch / 2) - 1;
	return (uint32_t)RA_MAX(batch, 1u);
}

/* zone_highsize() */
static uint32_t zone_highsize(ra_machine *m, struct ra_zone *z, uint32_t batch)
{
	int64_t fraction = KNOB(m, VM_PERCPU_PAGELIST_HIGH_FRACTION);
	uint64_t total = fraction ? z->managed / (uint64_t)fraction : z->wmark[1];
	uint64_t high = total / m->ncpus;
	return (uint32_t)RA_MAX(high, (uint64_t)batch << 2);
}

/* setup_per_zone_wmarks(), setup_per_zone_lowmem_reserve(),
 * calculate_totalreserve_pages() and the pcp limits that follow them. */
void ra_recompute_zone_params(ra_machine *m)
{
	uint64_t pages_min = (uint64_t)KNOB(m, VM_MIN_FREE_KBYTES) >> (RA_PAGE_SHIFT - 10);
	uint64_t lowmem = 0;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++)
		lowmem += m->zones[zi].managed;
	uint64_t wsf = (uint64_t)KNOB(m, VM_WATERMARK_SCALE_FACTOR);
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		struct ra_zone *z = &m->zones[zi];
		if (!m->populated[zi])
			continue;
		uint64_t tmp = lowmem ? pages_min * z->managed / lowmem : 0;
		z->watermark_boost = 0;
		z->wmark[0] = tmp;
		tmp = RA_MAX(tmp >> 2, mult_frac(z->managed, wsf, 10000));
		z->wmark[1] = z->wmark[0] + tmp;
		z->wmark[2] = z->wmark[1] + tmp;
	}
	const int64_t *ratio = m->knobs.v[K_VM_LOWMEM_RESERVE_RATIO];
	for (int i = 0; i < RA_NR_ZONES; i++) {
		struct ra_zone *z = &m->zones[i];
		uint64_t managed = 0;
		bool clear = ratio[i] < 1 || !z->managed;
		memset(z->lowmem_reserve, 0, sizeof(z->lowmem_reserve));
		for (int j = i + 1; j < RA_NR_ZONES; j++) {
			managed += m->zones[j].managed;
			z->lowmem_reserve[j] = clear ? 0 : managed / (uint64_t)ratio[i];
		}
	}
	m->totalreserve = 0;
	for (int i = 0; i < RA_NR_REAL_ZONES; i++) {
		struct ra_zone *z = &m->zones[i];
		if (!m->populated[i])
			continue;
		uint64_t max = 0;
		for (int j = i; j < RA_NR_ZONES; j++)
			max = RA_MAX(max, z->lowmem_reserve[j]);
		max += z->wmark[2];
		if (max > z->managed)
			max = z->managed;
		m->totalreserve += max;
	}
	for (int i = 0; i < RA_NR_REAL_ZONES; i++) {
		struct ra_zone *z = &m->zones[i];
		if (!m->populated[i])
			continue;
		uint32_t batch = zone_batchsize(z);
		uint32_t high = zone_highsize(m, z, batch);
		for (unsigned c = 0; c < m->ncpus; c++) {
			z->pcp[c].batch = batch;
			z->pcp[c].high = high;
		}
	}
}
