/*
 * check.c — validators in tiers. Each returns the number of problems it
 * found and reports every one through the funnel (ra_problem).
 *
 *   op    after every operation in debug and fuzz builds or --check=op:
 *         the counters that must agree (zone free pages vs. free-area
 *         counts, pcp counts vs. their lists' blocks, meminfo's sum).
 *   full  `check full` / --check=full / the end of every fuzz input: walks
 *         every frame, free list, per-cpu list, slab, vmap area and task.
 */
#include "views.h"
#include "oom.h"
#include "umalloc.h"
#include "san.h"
#include <inttypes.h>

static long check_user_side(ra_machine *m, bool full);
static long check_lru_counters(ra_machine *m);
static long check_page_cache(ra_machine *m);
static long check_file_maps(ra_machine *m);
static long check_file_mapcounts(ra_machine *m, const uint32_t *mapcount, uint64_t *mlocked);
static long check_swap(ra_machine *m, bool full);
static long check_lazyfree(ra_machine *m);

static long check_counters(ra_machine *m)
{
	long problems = 0;
	uint64_t pcp_total = 0;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		uint64_t pages = 0, cma = 0;
		for (unsigned o = 0; o < RA_NR_ORDERS; o++) {
			uint64_t sum = 0;
			for (int t = 0; t < MT_NR; t++)
				sum += z->area[o].nr_type[t];
			if (sum != z->area[o].nr_free)
				ra_problem(m, &problems, "zone %s order %u: nr_free %" PRIu64 " but per-type counts sum to %"
				           PRIu64, z->name, o, z->area[o].nr_free, sum);
			pages += z->area[o].nr_free << o;
			cma += z->area[o].nr_type[MT_CMA] << o;
		}
		if (pages != z->vm_stat[RA_STAT_NR_FREE_PAGES])
			ra_problem(m, &problems, "zone %s: free pages %" PRIu64 " but the free areas hold %" PRIu64,
			           z->name, z->vm_stat[RA_STAT_NR_FREE_PAGES], pages);
		if (cma != z->vm_stat[RA_STAT_NR_FREE_CMA])
			ra_problem(m, &problems, "zone %s: free CMA pages %" PRIu64 " but the CMA lists hold %" PRIu64,
			           z->name, z->vm_stat[RA_STAT_NR_FREE_CMA], cma);
		for (unsigned c = 0; c < m->ncpus; c++) {
			struct ra_pcp *pcp = &z->pcp[c];
			uint64_t n = 0;
			for (int l = 0; l < RA_NR_PCP_LISTS; l++)
				n += (uint64_t)pcp->nr_blocks[l] << (l / MT_PCPTYPES);
			if (n != pcp->count)
				ra_problem(m, &problems, "zone %s cpu %u: pcp count %u but its lists hold %" PRIu64 " pages",
				           z->name, c, pcp->count, n);
			pcp_total += pcp->count;
		}
	}
	if (pcp_total != node_page_state(m, PCP_PAGES))
		ra_problem(m, &problems, "per-cpu lists hold %" PRIu64 " pages, counted %" PRIu64, pcp_total,
		           node_page_state(m, PCP_PAGES));
	return problems + ra_check_meminfo(m);
}

long ra_check_meminfo(ra_machine *m)
{
	long problems = 0;
	struct ra_meminfo mi;
	ra_meminfo_compute(m, &mi);
	/* swap: the swap cache is in no field but SwapCached (its mapped
	 * pages are in AnonPages too), zsmalloc's pages in none at all */
	uint64_t unmapped = m->swp ? m->swp->unmapped_cache : 0, zs = ra_stat(m, RA_STAT_NR_ZSPAGES);
	uint64_t held = mi.free + mi.pcp + mi.slab_rcl + mi.slab_unrcl + mi.vmalloc + mi.pagetables + mi.anon +
	                mi.other_kernel + mi.file + unmapped + zs;
	if (held != mi.total)
		ra_problem(m, &problems, "meminfo: MemTotal %" PRIu64 " kB but free %" PRIu64 " + per-cpu %" PRIu64
		           " + slab %" PRIu64 " + vmalloc %" PRIu64 " + page tables %" PRIu64 " + anon %" PRIu64
		           " + alloc_pages %" PRIu64 " + page cache %" PRIu64 " + unmapped swap cache %" PRIu64
		           " + zsmalloc %" PRIu64 " = %" PRIu64 " kB",
		           mi.total * 4, mi.free * 4, mi.pcp * 4, (mi.slab_rcl + mi.slab_unrcl) * 4, mi.vmalloc * 4,
		           mi.pagetables * 4, mi.anon * 4, mi.other_kernel * 4, mi.file * 4, unmapped * 4, zs * 4, held * 4);
	return problems + check_lru_counters(m);
}

/* === The page cache and the file LRU lists =============================== */

/* The per-operation tier: every page-cache page is on one file LRU list
 * (the model applies LRU batches at once), the zone counters sum to the
 * node's, and the dirty pages are what is pending write in the zones. */
static long check_lru_counters(ra_machine *m)
{
	long problems = 0;
	uint64_t zin = 0, zact = 0, zwp = 0;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		zin += zone_page_state(&m->zones[zi], NR_ZONE_INACTIVE_FILE);
		zact += zone_page_state(&m->zones[zi], NR_ZONE_ACTIVE_FILE);
		zwp += zone_page_state(&m->zones[zi], NR_ZONE_WRITE_PENDING);
	}
	uint64_t in = node_page_state(m, NR_INACTIVE_FILE), act = node_page_state(m, NR_ACTIVE_FILE);
	if (zin != in || zact != act)
		ra_problem(m, &problems, "file LRU: the zones count %" PRIu64 " inactive and %" PRIu64 " active pages, the node %"
		           PRIu64 " and %" PRIu64, zin, zact, in, act);
	uint64_t unevictable = m->fm ? m->fm->nr_file_unevictable : 0;
	/* lazily freed anonymous pages are on the file lists, in AnonPages */
	uint64_t lazy = m->fm ? m->fm->nr_lazyfree : 0;
	if (in + act - lazy + unevictable + node_page_state(m, NR_SHMEM) + node_page_state(m, NR_SWAPCACHE) !=
	    node_page_state(m, NR_FILE_PAGES) || lazy > in + act)
		ra_problem(m, &problems, "file LRU: %" PRIu64 " pages on the lists (%" PRIu64 " lazyfree), %" PRIu64
		           " unevictable, %" PRIu64 " shmem and %" PRIu64 " swap-cache pages but %" PRIu64 " page-cache pages",
		           in + act, lazy, unevictable, node_page_state(m, NR_SHMEM), node_page_state(m, NR_SWAPCACHE),
		           node_page_state(m, NR_FILE_PAGES));
	/* every anonymous and tmpfs page is on an anon list or the unevictable
	 * one, where the disk files' mlocked pages are too */
	uint64_t zanon = 0, anon = node_page_state(m, NR_INACTIVE_ANON) + node_page_state(m, NR_ACTIVE_ANON) +
	                          node_page_state(m, NR_UNEVICTABLE);
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++)
		zanon += zone_page_state(&m->zones[zi], NR_ZONE_INACTIVE_ANON) +
		         zone_page_state(&m->zones[zi], NR_ZONE_ACTIVE_ANON) + zone_page_state(&m->zones[zi], NR_ZONE_UNEVICTABLE);
	uint64_t owners = node_page_state(m, NR_ANON_PAGES) + (m->swp ? m->swp->unmapped_cache : 0) +
	                  node_page_state(m, NR_SHMEM) + unevictable - lazy;
	if (zanon != anon || anon != owners)
		ra_problem(m, &problems, "anon LRU: the zones count %" PRIu64 " pages, the node %" PRIu64 ", for %" PRIu64
		           " anonymous and tmpfs pages and %" PRIu64 " unevictable file pages", zanon, anon, owners - unevictable,
		           unevictable);
	if (zwp != node_page_state(m, NR_FILE_DIRTY) + node_page_state(m, NR_WRITEBACK))
		ra_problem(m, &problems, "write pending: the zones count %" PRIu64 " pages, dirty + writeback %" PRIu64, zwp,
		           node_page_state(m, NR_FILE_DIRTY) + node_page_state(m, NR_WRITEBACK));
	return problems;
}

/* The full tier: walk the LRU lists and every file's cache. A list holds
 * pages whose PG_lru/PG_active/PG_swapbacked/PG_unevictable agree with it,
 * their number is the counters'; each file's cache maps an index to a page that says it
 * is that file's page at that index; the dirty pages are the counters'. */
static long check_page_cache(ra_machine *m)
{
	long problems = 0;
	struct ra_filemap *fm = m->fm;
	if (!fm)
		return 0;
	uint64_t zone_n[NR_LRU_LISTS][RA_NR_REAL_ZONES] = { { 0 } };
	for (int l = 0; l < NR_LRU_LISTS; l++) {
		const char *name = lru_name(l);
		uint64_t n = 0;
		uint32_t prev = RA_NOPFN;
		for (uint32_t pfn = fm->lru[l].head; pfn != RA_NOPFN; pfn = pfn_page(m, pfn)->next) {
			if (pfn >= m->nr_pages || ++n > m->nr_pages) {
				ra_problem(m, &problems, "%s list broken at pfn %#x (cycle or pfn out of range)", name, pfn);
				break;
			}
			struct ra_page *p = pfn_page(m, pfn);
			if ((p->owner != PO_FILE && p->owner != PO_USER) || !(p->flags & PGF_LRU) || page_lru(p) != l)
				ra_problem(m, &problems, "%s list: pfn %#x is not a page of that list (owner %u flags %#x)", name, pfn,
				           p->owner, p->flags);
			if (p->prev != prev)
				ra_problem(m, &problems, "%s list: pfn %#x links back to %#x, not %#x", name, pfn, p->prev, prev);
			struct ra_zone *z = pfn_zone(m, pfn);
			if (z)
				zone_n[l][z->idx]++;
			prev = pfn;
		}
		if (fm->lru[l].tail != prev)
			ra_problem(m, &problems, "%s list: tail %#x but the last entry is %#x", name, fm->lru[l].tail, prev);
		for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
			uint64_t counted = zone_lru_pages(&m->zones[zi], l);
			if (zone_n[l][zi] != counted)
				ra_problem(m, &problems, "%s list: %" PRIu64 " pages of zone %s, counted %" PRIu64, name,
				           zone_n[l][zi], m->zones[zi].name, counted);
		}
	}
	uint64_t cached = 0, dirty = 0, shmem = 0;
	for (uint32_t id = 0; id < fm->nr_files; id++) {
		struct ra_file *f = fm->files[id];
		if (!f)
			continue;
		uint64_t fdirty = 0;
		for (uint32_t i = 0; i < f->cache.cap; i++) {
			if (!f->cache.keys[i])
				continue;
			uint64_t index = f->cache.keys[i] - 1;
			uint32_t pfn = (uint32_t)f->cache.vals[i];
			struct ra_page *p = pfn < m->nr_pages ? pfn_page(m, pfn) : NULL;
			if (!p || p->owner != PO_FILE || p->priv != id || p->count != index) {
				ra_problem(m, &problems, "file %s: index %" PRIu64 " maps pfn %#x, which is not that page", f->name,
				           index, pfn);
				continue;
			}
			if (index >= (f->size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT)
				ra_problem(m, &problems, "file %s: page %" PRIu64 " cached past the end (%" PRIu64 " bytes)", f->name,
				           index, f->size);
			fdirty += (p->flags & PGF_DIRTY) != 0;
			if (f->shmem && ((p->flags & (PGF_LRU | PGF_SWAPBACKED | PGF_DIRTY)) != (PGF_LRU | PGF_SWAPBACKED)))
				ra_problem(m, &problems, "file %s: tmpfs page %" PRIu64 " is off the anon lists or accounted dirty",
				           f->name, index);
			else if (!f->shmem && (p->flags & PGF_SWAPBACKED))
				ra_problem(m, &problems, "file %s: page %" PRIu64 " is swap-backed", f->name, index);
		}
		/* the disk past i_size: no block past the last page, and the
		 * last block's bytes past the end are zeros (truncate zeroes
		 * them, writeback writes a page whose tail is zero) */
		if (!f->shmem && f->disk.n) {
			uint64_t pages = (f->size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT;
			for (uint32_t i = 0; i < f->disk.cap; i++)
				if (f->disk.keys[i] && f->disk.keys[i] - 1 >= pages)
					ra_problem(m, &problems, "file %s: disk block %" PRIu64 " past the end (%" PRIu64 " bytes)",
					           f->name, f->disk.keys[i] - 1, f->size);
			size_t in = (size_t)(f->size & (RA_PAGE_SIZE - 1));
			if (in) {
				uint8_t tail[RA_PAGE_SIZE];
				ra_file_peek_disk(f, f->size, RA_PAGE_SIZE - in, tail);
				for (size_t k = 0; k < RA_PAGE_SIZE - in; k++)
					if (tail[k]) {
						ra_problem(m, &problems, "file %s: the disk holds 0x%02x at %" PRIu64 ", past the end (%"
						           PRIu64 " bytes)", f->name, tail[k], f->size + k, f->size);
						break;
					}
			}
		}
		/* writeback errors: AS_EIO stands exactly for errors the open
		 * description has not seen; a page whose writeback failed is
		 * one of the file's pages */
		if (f->as_eio != (f->wb_err != f->f_wb_err))
			ra_problem(m, &problems, "file %s: AS_EIO %s with %u writeback errors, %u seen by fsync", f->name,
			           f->as_eio ? "set" : "clear", f->wb_err, f->f_wb_err);
		for (uint32_t i = 0; i < f->wb_stale.cap; i++)
			if (f->wb_stale.keys[i] && f->wb_stale.keys[i] - 1 >= (f->size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT)
				ra_problem(m, &problems, "file %s: page %" PRIu64 " past the end (%" PRIu64 " bytes) has a failed "
				           "writeback", f->name, f->wb_stale.keys[i] - 1, f->size);
		if (f->cache.n != f->nrpages || fdirty != f->nrdirty)
			ra_problem(m, &problems, "file %s: %u pages cached, %" PRIu64 " dirty; counted %" PRIu64 " and %" PRIu64,
			           f->name, f->cache.n, fdirty, f->nrpages, f->nrdirty);
		/* a swapped tmpfs page: a slot of the page cache holds its entry
		 * or its page, never both; only tmpfs swaps, within i_size */
		for (uint32_t i = 0; i < f->swapped.cap; i++) {
			if (!f->swapped.keys[i])
				continue;
			uint64_t index = f->swapped.keys[i] - 1;
			if (!f->shmem || pcm_find(&f->cache, index) || index >= (f->size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT ||
			    !f->swapped.vals[i])
				ra_problem(m, &problems, "file %s: index %" PRIu64 " holds swap entry %#" PRIx64 " but is %s",
				           f->name, index, f->swapped.vals[i],
				           !f->shmem ? "not tmpfs" : pcm_find(&f->cache, index) ? "cached too" : "past the end or no entry");
		}
		cached += f->cache.n;
		dirty += fdirty;
		if (f->shmem)
			shmem += f->cache.n;
	}
	problems += dcache_validate(m);
	if (cached + node_page_state(m, NR_SWAPCACHE) != node_page_state(m, NR_FILE_PAGES))
		ra_problem(m, &problems, "page cache: the files hold %" PRIu64 " pages and the swap cache %" PRIu64
		           ", nr_file_pages %" PRIu64, cached, node_page_state(m, NR_SWAPCACHE),
		           node_page_state(m, NR_FILE_PAGES));
	if (shmem != node_page_state(m, NR_SHMEM))
		ra_problem(m, &problems, "page cache: %" PRIu64 " tmpfs pages, nr_shmem %" PRIu64, shmem,
		           node_page_state(m, NR_SHMEM));
	if (dirty != node_page_state(m, NR_FILE_DIRTY))
		ra_problem(m, &problems, "page cache: %" PRIu64 " dirty pages, nr_dirty %" PRIu64, dirty,
		           node_page_state(m, NR_FILE_DIRTY));
	return problems;
}

/* Walk one list of frames; every entry must satisfy want(). Returns the
 * number of entries, stopping (with a report) at a cycle or a bad entry. */
static uint64_t walk_list(ra_machine *m, const struct ra_plist *l, uint64_t limit, long *problems,
                          const char *what, unsigned order, int mt, uint8_t owner, struct ra_zone *z)
{
	uint64_t n = 0;
	uint32_t prev = RA_NOPFN;
	for (uint32_t pfn = l->head; pfn != RA_NOPFN; pfn = pfn_page(m, pfn)->next) {
		if (pfn >= m->nr_pages || ++n > limit) {
			ra_problem(m, problems, "%s: list broken at pfn %#x (cycle or pfn out of range)", what, pfn);
			return n;
		}
		struct ra_page *p = pfn_page(m, pfn);
		if (p->owner != owner || p->order != order || (mt >= 0 && p->mt != mt) ||
		    pfn < z->start_pfn || pfn + (1u << order) > z->end_pfn || (pfn & ((1u << order) - 1)) ||
		    p->prev != prev) {
			ra_problem(m, problems, "%s: pfn %#x has owner %u order %u type %u (want owner %u order %u%s), "
			           "in zone %s [%#x,%#x), prev %#x", what, pfn, p->owner, p->order, p->mt, owner, order,
			           mt >= 0 ? "" : " any type", z->name, z->start_pfn, z->end_pfn, p->prev);
			return n;
		}
		prev = pfn;
	}
	if (prev != l->tail)
		ra_problem(m, problems, "%s: tail %#x but the last entry is %#x", what, l->tail, prev);
	return n;
}

static const struct ra_page zero_tails[(1u << RA_MAX_ORDER) - 1];

long ra_check_buddy(ra_machine *m, bool full)
{
	long problems = check_counters(m);
	if (!full)
		return problems;
	uint64_t owners[PO_NR] = { 0 };
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		char what[64];
		uint64_t limit = z->end_pfn - z->start_pfn;
		for (unsigned o = 0; o < RA_NR_ORDERS; o++)
			for (int t = 0; t < MT_NR; t++) {
				snprintf(what, sizeof(what), "zone %s free_area[%u] %s", z->name, o, t < MT_NR ? "list" : "");
				uint64_t n = walk_list(m, &z->area[o].list[t], limit, &problems, what, o, t, PO_BUDDY, z);
				if (n != z->area[o].nr_type[t])
					ra_problem(m, &problems, "zone %s order %u type %d: %" PRIu64 " blocks on the list, counted %"
					           PRIu64, z->name, o, t, n, z->area[o].nr_type[t]);
			}
		for (unsigned c = 0; c < m->ncpus; c++)
			for (int l = 0; l < RA_NR_PCP_LISTS; l++) {
				snprintf(what, sizeof(what), "zone %s cpu %u pcp list %d", z->name, c, l);
				uint64_t n = walk_list(m, &z->pcp[c].lists[l], limit, &problems, what, (unsigned)l / MT_PCPTYPES,
				                       -1, PO_PCP, z);
				if (n != z->pcp[c].nr_blocks[l])
					ra_problem(m, &problems, "%s: %" PRIu64 " blocks, counted %u", what, n, z->pcp[c].nr_blocks[l]);
			}
		/* Every frame belongs to exactly one block: heads tile the zone. */
		uint32_t pfn = z->start_pfn;
		while (pfn < z->end_pfn) {
			struct ra_page *p = pfn_page(m, pfn);
			if (p->owner == PO_NONE || p->owner >= PO_NR) {
				ra_problem(m, &problems, "zone %s: pfn %#x belongs to no block (owner %u)", z->name, pfn, p->owner);
				pfn++;
				continue;
			}
			unsigned o = p->order;
			if (o > RA_MAX_ORDER || (pfn & ((1u << o) - 1)) || pfn + (1u << o) > z->end_pfn) {
				ra_problem(m, &problems, "zone %s: block at pfn %#x of order %u is misaligned or crosses the zone",
				           z->name, pfn, o);
				pfn++;
				continue;
			}
			owners[p->owner] += 1u << o;
			/* tails hold no state: compare them against zeros in one go */
			if (o && memcmp(pfn_page(m, pfn + 1), zero_tails, ((1u << o) - 1) * sizeof(struct ra_page))) {
				for (uint32_t t = 1; t < (1u << o); t++) {
					struct ra_page *tp = pfn_page(m, pfn + t);
					if (tp->owner != PO_NONE || tp->order || tp->flags || tp->priv) {
						ra_problem(m, &problems, "zone %s: pfn %#x inside the order-%u block at %#x has state "
						           "(owner %u order %u)", z->name, pfn + t, o, pfn, tp->owner, tp->order);
						break;
					}
				}
			}
			/* No two free buddies left unmerged where merging was allowed.
			 * Allowed but not done: a pageblock that left the highatomic
			 * reserve keeps its free blocks as they were (the kernel's
			 * unreserve_highatomic_pageblock moves them without merging). */
			if (p->owner == PO_BUDDY && o < RA_MAX_ORDER) {
				uint32_t b = pfn ^ (1u << o);
				if (b >= z->start_pfn && b < z->end_pfn && b > pfn) {
					struct ra_page *bp = pfn_page(m, b);
					bool mergeable = o < RA_PAGEBLOCK_ORDER ||
					                 ((pageblock_mt(m, pfn) == pageblock_mt(m, b) ||
					                   (pageblock_mt(m, pfn) < MT_PCPTYPES && pageblock_mt(m, b) < MT_PCPTYPES)) &&
					                  !m->pageblock_retyped[pfn >> RA_PAGEBLOCK_ORDER] &&
					                  !m->pageblock_retyped[b >> RA_PAGEBLOCK_ORDER]);
					if (bp->owner == PO_BUDDY && bp->order == o && mergeable)
						ra_problem(m, &problems, "zone %s: free buddies %#x and %#x of order %u are not merged",
						           z->name, pfn, b, o);
				}
			}
			pfn += 1u << o;
		}
		uint64_t ha = 0;
		for (uint32_t b = z->start_pfn; b < z->end_pfn; b += RA_PAGEBLOCK_PAGES)
			ha += pageblock_mt(m, b) == MT_HIGHATOMIC;
		if (ha * RA_PAGEBLOCK_PAGES != z->nr_reserved_highatomic)
			ra_problem(m, &problems, "zone %s: %" PRIu64 " highatomic pageblocks but %" PRIu64 " pages reserved",
			           z->name, ha, z->nr_reserved_highatomic);
	}
	const struct { int owner; uint64_t counted; const char *name; } acct[] = {
		{ PO_PAGES, node_page_state(m, PAGES_ALLOC_PAGES), "alloc_pages" },
		{ PO_KMALLOC, node_page_state(m, KMALLOC_LARGE_PAGES), "large kmalloc" },
		{ PO_SLAB, node_page_state(m, NR_SLAB_RECLAIMABLE) + node_page_state(m, NR_SLAB_UNRECLAIMABLE), "slab" },
		{ PO_VMALLOC, node_page_state(m, VMALLOC_PAGES), "vmalloc" },
		{ PO_BALLOON, node_page_state(m, BALLOON_PAGES), "balloon" },
		{ PO_USER, node_page_state(m, NR_ANON_PAGES) + (m->swp ? m->swp->unmapped_cache : 0), "user" },
		{ PO_PGTABLE, node_page_state(m, NR_PAGE_TABLE_PAGES), "page table" },
		{ PO_PCP, node_page_state(m, PCP_PAGES), "per-cpu list" },
		{ PO_ZEROPAGE, 0, "zero page" },   /* the shared zero page is no frame of the machine (mm.c) */
		{ PO_FILE, node_page_state(m, NR_FILE_PAGES) - node_page_state(m, NR_SWAPCACHE), "page cache" },
		{ PO_ZSPAGE, ra_stat(m, RA_STAT_NR_ZSPAGES), "zsmalloc" },
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(acct); i++)
		if (owners[acct[i].owner] != acct[i].counted)
			ra_problem(m, &problems, "%s pages: %" PRIu64 " frames owned, %" PRIu64 " counted", acct[i].name,
			           owners[acct[i].owner], acct[i].counted);
	return problems;
}

long ra_check(ra_machine *m, enum ra_check_level lvl)
{
	if (lvl == RA_CHECK_OFF)
		return 0;
	bool full = lvl == RA_CHECK_FULL;
	long n = ra_check_buddy(m, full);
	n += ra_slab_validate(m, full);
	n += ra_vmalloc_validate(m, full);
	n += check_user_side(m, full);
	n += check_swap(m, full);
	if (full)
		n += check_page_cache(m) + check_file_maps(m) + check_lazyfree(m);
	return n;
}

long ra_check_structures(ra_machine *m)
{
	long n = ra_check_buddy(m, true);
	n += ra_slab_validate_structures(m);
	n += ra_vmalloc_validate(m, true);
	n += check_user_side(m, true);
	n += check_swap(m, true);
	n += check_page_cache(m);
	n += check_file_maps(m);
	n += check_lazyfree(m);
	return n;
}

/* The per-operation tier: counters only, O(zones x orders x cpus). */
long ra_check_op(ra_machine *m) { return check_counters(m); }

/* === The user side: tasks, address spaces, umalloc's heaps ============== */

static long validate_mm(ra_machine *m, struct ra_task *t, uint32_t *mapcount, bool full)
{
	long problems = 0;
	struct ra_mm *mm = t->mm;
	uint64_t total = 0, data = 0, stack = 0, locked = 0, committed = 0;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		struct ra_vma *v = &mm->vma[i];
		if (v->start >= v->end || ((v->start | v->end) & (RA_PAGE_SIZE - 1)) || v->end > USER_STACK_TOP)
			ra_problem(m, &problems, "task %s[%u]: bad vma %" PRIx64 "-%" PRIx64, t->comm, t->pid, v->start, v->end);
		if (i && mm->vma[i - 1].end > v->start)
			ra_problem(m, &problems, "task %s[%u]: vmas %" PRIx64 "-%" PRIx64 " and %" PRIx64 "-%" PRIx64 " overlap",
			           t->comm, t->pid, mm->vma[i - 1].start, mm->vma[i - 1].end, v->start, v->end);
		if (i && mm_vma_mergeable(&mm->vma[i - 1], v))
			ra_problem(m, &problems, "task %s[%u]: vmas at %" PRIx64 " and %" PRIx64 " should have merged",
			           t->comm, t->pid, mm->vma[i - 1].start, v->start);
		uint64_t pages = (v->end - v->start) >> RA_PAGE_SHIFT;
		total += pages;
		if (mm_is_data(v->flags)) data += pages;
		if (v->flags & VM_GROWSDOWN) stack += pages;
		if (v->flags & VM_LOCKED) locked += pages;
		if (v->flags & VM_ACCOUNT) committed += pages;
	}
	if (total != mm->total_vm || data != mm->data_vm || stack != mm->stack_vm || locked != mm->locked_vm)
		ra_problem(m, &problems, "task %s[%u]: vm counters total/data/stack/locked %" PRIu64 "/%" PRIu64 "/%" PRIu64
		           "/%" PRIu64 " but the vmas give %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64, t->comm, t->pid,
		           mm->total_vm, mm->data_vm, mm->stack_vm, mm->locked_vm, total, data, stack, locked);
	if (committed != mm->committed)
		ra_problem(m, &problems, "task %s[%u]: accounted vmas hold %" PRIu64 " pages, charged %" PRIu64, t->comm,
		           t->pid, committed, mm->committed);
	if (!full)
		return problems;
	/* every present pte inside a vma; rss and table counts from a walk */
	uint64_t rss = 0, rss_file = 0, tables = 0;
	struct pt_node *pgd = mm->pgd;
	for (unsigned a = 0; a < PTRS; a++) {
		struct pt_node *pud = pgd->e[a];
		if (!pud) continue;
		tables++;
		for (unsigned b = 0; b < PTRS; b++) {
			struct pt_node *pmd = pud->e[b];
			if (!pmd) continue;
			tables++;
			for (unsigned c = 0; c < PTRS; c++) {
				struct pt_leaf *l = pmd->e[c];
				if (!l) continue;
				tables++;
				unsigned used = 0;
				if (pfn_page(m, l->pfn)->owner != PO_PGTABLE)
					ra_problem(m, &problems, "task %s[%u]: page-table frame %#x not owned as a page table",
					           t->comm, t->pid, l->pfn);
				for (unsigned d = 0; d < PTRS; d++) {
					uint64_t e = l->pte[d];
					if (e & PTE_SWAP) {
						used++;
						continue;   /* check_swap() counts them */
					}
					if (!(e & PTE_PRESENT))
						continue;
					used++;
					uint64_t va = ((uint64_t)a << 39) | ((uint64_t)b << 30) | ((uint64_t)c << 21) | ((uint64_t)d << 12);
					struct ra_vma *v = mm_find_vma(mm, va);
					if (!v || v->start > va)
						ra_problem(m, &problems, "task %s[%u]: page %" PRIx64 " mapped outside any vma", t->comm,
						           t->pid, va);
					if (e & PTE_ZERO)
						continue;
					uint32_t pfn = PTE_PFN(e);
					if (pfn < m->nr_pages && pfn_page(m, pfn)->owner == PO_FILE) {
						struct ra_page *p = pfn_page(m, pfn);
						if (!v || !v->file || v->file != p->priv + 1 ||
						    p->count != v->pgoff + ((va - v->start) >> RA_PAGE_SHIFT))
							ra_problem(m, &problems, "task %s[%u]: page %" PRIx64 " maps page %u of file %u, not "
							           "what its vma maps there", t->comm, t->pid, va, p->count, p->priv);
						if (e & PTE_WRITE && v && !(v->flags & VM_SHARED))
							ra_problem(m, &problems, "task %s[%u]: page %" PRIx64 " maps a page-cache page "
							           "writable in a private mapping", t->comm, t->pid, va);
						mapcount[pfn]++;
						rss_file++;
						continue;
					}
					if (pfn >= m->nr_pages || pfn_page(m, pfn)->owner != PO_USER) {
						ra_problem(m, &problems, "task %s[%u]: page %" PRIx64 " maps frame %#x that is not a user page",
						           t->comm, t->pid, va, pfn);
						continue;
					}
					mapcount[pfn]++;
					rss++;
				}
				if (used != l->used)
					ra_problem(m, &problems, "task %s[%u]: leaf table counts %u entries, holds %u", t->comm,
					           t->pid, l->used, used);
			}
		}
	}
	if (rss != mm->rss)
		ra_problem(m, &problems, "task %s[%u]: rss %" PRIu64 " but %" PRIu64 " pages are mapped", t->comm, t->pid,
		           mm->rss, rss);
	if (rss_file != mm->rss_file)
		ra_problem(m, &problems, "task %s[%u]: file rss %" PRIu64 " but %" PRIu64 " page-cache pages are mapped",
		           t->comm, t->pid, mm->rss_file, rss_file);
	if (tables != mm->nr_pt)
		ra_problem(m, &problems, "task %s[%u]: %" PRIu64 " page-table pages counted, %" PRIu64 " found", t->comm,
		           t->pid, mm->nr_pt, tables);
	if (t->um) {
		/* After a trace corrupted memory on purpose (a write through a stale
		 * or out-of-bounds kernel pointer, the heap shrunk under malloc), what
		 * umalloc's walk finds in in-band data is reported as heap corruption,
		 * the trace's doing, not as an engine problem. */
		long p = um_check(t->um, UM_CHECK_FULL);
		if (!m->inband_tainted)
			problems += p;
	}
	return problems;
}

/* === Page-cache pages and their mappings ================================ */

/* Full tier: each page-cache page's mapcount is the number of ptes that map
 * it (mapcount[]: counted by validate_mm); nr_mapped is the number of pages
 * mapped at least once; the mlocked page-cache pages are added to
 * *mlocked, and each is on the unevictable list or on none (tmpfs). */
static long check_file_mapcounts(ra_machine *m, const uint32_t *mapcount, uint64_t *mlocked)
{
	long problems = 0;
	uint64_t mapped = 0;
	const uint32_t *have = m->fm ? m->fm->mapcount : NULL;
	for (uint32_t pfn = 0; pfn < m->nr_pages; pfn++) {
		struct ra_page *p = &m->pages[pfn];
		uint32_t c = have ? have[pfn] : 0;
		if (p->owner != PO_FILE) {
			if (c)
				ra_problem(m, &problems, "frame %#x: mapcount %u but it is no page-cache page", pfn, c);
			continue;
		}
		if (c != mapcount[pfn])
			ra_problem(m, &problems, "page-cache page %#x (file %u, index %u): mapcount %u but %u ptes map it", pfn,
			           p->priv, p->count, c, mapcount[pfn]);
		mapped += c != 0;
		if (p->flags & PGF_MLOCKED) {
			(*mlocked)++;
			if ((p->flags & PGF_LRU) && !(p->flags & PGF_UNEVICTABLE))
				ra_problem(m, &problems, "page-cache page %#x is mlocked but on an evictable list", pfn);
		}
	}
	if (mapped != node_page_state(m, NR_FILE_MAPPED))
		ra_problem(m, &problems, "nr_mapped %" PRIu64 " but %" PRIu64 " page-cache pages are mapped",
		           node_page_state(m, NR_FILE_MAPPED), mapped);
	return problems;
}

/* Full tier: each file's mapping count is the number of VMAs (of every
 * task that still has an address space) that name it, and only a mapped
 * file lives on unlinked; shadow entries sit only in slots that hold no
 * page, inside the file, and workingset_nodes counts the 64-slot chunks
 * that hold shadows and no page. */
static long check_file_maps(ra_machine *m)
{
	long problems = 0;
	struct ra_filemap *fm = m->fm;
	if (!fm)
		return 0;
	uint32_t *vmas = calloc(fm->nr_files + 1, sizeof(uint32_t));
	RA_BUG_ON(m, !vmas);
	struct ra_mm_world *w = m->mmw;
	for (uint32_t i = 0; w && i < w->nr_tasks; i++) {
		struct ra_mm *mm = w->tasks[i]->mm;
		for (uint32_t k = 0; mm && k < mm->nr_vma; k++) {
			uint32_t file = mm->vma[k].file;
			if (!file)
				continue;
			if (file > fm->nr_files || !fm->files[file - 1])
				ra_problem(m, &problems, "task %s[%u]: vma %" PRIx64 " maps file %u, which is gone",
				           w->tasks[i]->comm, w->tasks[i]->pid, mm->vma[k].start, file - 1);
			else
				vmas[file - 1]++;
		}
	}
	uint64_t nodes = 0;
	for (uint32_t id = 0; id < fm->nr_files; id++) {
		struct ra_file *f = fm->files[id];
		if (!f)
			continue;
		if (f->nr_mmaps != vmas[id])
			ra_problem(m, &problems, "file %s: %u mappings counted, %u vmas map it", f->name, f->nr_mmaps, vmas[id]);
		if (f->unlinked && !f->nr_mmaps)
			ra_problem(m, &problems, "file %s: unlinked and unmapped, yet still there", f->name);
		uint32_t n;
		uint64_t *keys = pcm_sorted_keys(&f->shadows, &n), last = UINT64_MAX;
		for (uint32_t i = 0; i < n; i++) {
			if (pcm_find(&f->cache, keys[i]))
				ra_problem(m, &problems, "file %s: index %" PRIu64 " holds a page and a shadow entry", f->name, keys[i]);
			if (keys[i] >= file_pages(f))
				ra_problem(m, &problems, "file %s: shadow entry at %" PRIu64 ", past the end", f->name, keys[i]);
			if (keys[i] / 64 != last) {
				last = keys[i] / 64;
				nodes += shadow_chunk_is_node(f, last);
			}
		}
		free(keys);
	}
	free(vmas);
	if (nodes != node_page_state(m, WORKINGSET_NODES))
		ra_problem(m, &problems, "workingset_nodes %" PRIu64 " but %" PRIu64 " chunks hold only shadow entries",
		           node_page_state(m, WORKINGSET_NODES), nodes);
	return problems;
}

static long check_user_side(ra_machine *m, bool full)
{
	struct ra_mm_world *w = m->mmw;
	if (!w)
		return 0;
	long problems = 0;
	uint32_t *mapcount = full ? calloc(m->nr_pages, sizeof(uint32_t)) : NULL;
	RA_BUG_ON(m, full && !mapcount);
	uint64_t committed = 0, pgtables = 0;
	for (uint32_t i = 0; i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		if (!ra_task_alive(t))
			continue;
		problems += validate_mm(m, t, mapcount, full);
		committed += t->mm->committed;
		pgtables += t->mm->nr_pt + 1;
	}
	uint64_t threads = 0;
	for (uint32_t i = 0; i < w->nr_tasks; i++)
		if (ra_task_alive(w->tasks[i]))
			threads += w->tasks[i]->nr_threads;
	if (threads * (THREAD_SIZE >> 10) != node_page_state(m, NR_KERNEL_STACK))
		ra_problem(m, &problems, "KernelStack: %" PRIu64 " threads alive but %" PRIu64 " kB counted", threads,
		           node_page_state(m, NR_KERNEL_STACK));
	if (committed != w->committed_as)
		ra_problem(m, &problems, "Committed_AS %" PRIu64 " pages but the tasks hold %" PRIu64, w->committed_as,
		           committed);
	if (pgtables != node_page_state(m, NR_PAGE_TABLE_PAGES))
		ra_problem(m, &problems, "page-table pages: tasks hold %" PRIu64 ", frames counted %" PRIu64, pgtables,
		           node_page_state(m, NR_PAGE_TABLE_PAGES));
	if (full) {
		uint64_t user = 0, mlocked = 0;
		problems += check_file_mapcounts(m, mapcount, &mlocked);
		for (uint32_t pfn = 0; pfn < m->nr_pages; pfn++) {
			struct ra_page *p = &m->pages[pfn];
			if (p->owner == PO_FILE)
				continue;
			if (p->owner != PO_USER) {
				if (mapcount[pfn])
					ra_problem(m, &problems, "frame %#x mapped by tasks but not a user page", pfn);
				continue;
			}
			user++;
			mlocked += (p->flags & PGF_MLOCKED) != 0;
			if (p->count != mapcount[pfn])
				ra_problem(m, &problems, "user page %#x: mapcount %u but %u ptes map it", pfn, p->count,
				           mapcount[pfn]);
		}
		uint64_t unmapped = m->swp ? m->swp->unmapped_cache : 0;
		if (user != node_page_state(m, NR_ANON_PAGES) + unmapped)
			ra_problem(m, &problems, "user pages: %" PRIu64 " frames, %" PRIu64 " counted (%" PRIu64 " mapped, %" PRIu64
			           " unmapped)", user, node_page_state(m, NR_ANON_PAGES) + unmapped,
			           node_page_state(m, NR_ANON_PAGES), unmapped);
		if (mlocked != ra_stat(m, RA_STAT_NR_MLOCK))
			ra_problem(m, &problems, "mlocked pages: %" PRIu64 " flagged, %" PRIu64 " counted", mlocked,
			           ra_stat(m, RA_STAT_NR_MLOCK));
		free(mapcount);
	}
	return problems;
}


/* === Lazily freed anonymous pages (MADV_FREE) =========================== */

/* Every anonymous page without PG_swapbacked is a lazyfree page: mapped,
 * clean (PG_dirty cleared; a written pte is seen by reclaim), outside
 * the swap cache, on a file list (or the unevictable one when mlocked);
 * those on the file lists are the lists' count of them. */
static long check_lazyfree(ra_machine *m)
{
	long problems = 0;
	uint64_t on_lists = 0;
	for (uint32_t pfn = 0; pfn < m->nr_pages; pfn++) {
		struct ra_page *p = &m->pages[pfn];
		if (p->owner != PO_USER || (p->flags & PGF_SWAPBACKED))
			continue;
		int lru = page_lru(p);
		bool listed = (p->flags & PGF_LRU) && (is_file_lru(lru) || lru == LRU_UNEVICTABLE);
		if (!listed || (p->flags & (PGF_SWAPCACHE | PGF_DIRTY)) || !p->count)
			ra_problem(m, &problems, "lazyfree page %#x: flags %#x, mapcount %u: not a clean mapped page on a "
			           "file list", pfn, p->flags, p->count);
		on_lists += listed && lru != LRU_UNEVICTABLE;
	}
	uint64_t counted = m->fm ? m->fm->nr_lazyfree : 0;
	if (on_lists != counted)
		ra_problem(m, &problems, "lazyfree pages: %" PRIu64 " on the file lists, %" PRIu64 " counted", on_lists,
		           counted);
	return problems;
}

/* === Swap: slots, ptes, the swap cache, the anon lists, zram ============ */

/* The op tier: the totals against the devices. The full tier: every
 * slot's swap_map against the ptes that hold its entry, the swap-cache
 * page and the per-cpu slot caches; every swap-cache page against its
 * slot (a clean one holds the slot's bytes); each task's MM_SWAPENTS;
 * every anonymous page on an anon list (or the unevictable one when
 * mlocked), its reverse map against the ptes that map it; and zram's
 * pool against its objects. */
static long check_swap(ra_machine *m, bool full)
{
	struct ra_swap *sw = m->swp;
	long problems = 0;
	if (!sw)
		return 0;
	uint64_t total = 0, avail = 0;
	for (unsigned t = 0; t < sw->nr_types; t++) {
		struct ra_swap_info *si = sw->si[t];
		if (!si || !si->writeok)
			continue;
		total += si->pages;
		avail += si->pages - si->inuse;
	}
	if (total != sw->total_swap_pages || avail != sw->nr_swap_pages)
		ra_problem(m, &problems, "swap: SwapTotal %" PRIu64 " SwapFree %" PRIu64 " pages but the devices have %" PRIu64
		           " and %" PRIu64, sw->total_swap_pages, sw->nr_swap_pages, total, avail);
	if (!full)
		return problems;
	/* references per slot: ptes (refs) and cache holders (cache) */
	uint32_t *refs[MAX_SWAPFILES] = { NULL };
	uint8_t *cache[MAX_SWAPFILES] = { NULL };
	for (unsigned t = 0; t < sw->nr_types; t++)
		if (sw->si[t]) {
			refs[t] = calloc((size_t)sw->si[t]->pages + 1, sizeof(uint32_t));
			cache[t] = calloc((size_t)sw->si[t]->pages + 1, 1);
			RA_BUG_ON(m, !refs[t] || !cache[t]);
		}
	struct ra_mm_world *w = m->mmw;
	for (uint32_t i = 0; w && i < w->nr_tasks; i++) {
		struct ra_task *tk = w->tasks[i];
		if (!ra_task_alive(tk))
			continue;
		struct ra_mm *mm = tk->mm;
		uint64_t swapents = 0;
		for (uint32_t k = 0; k < mm->nr_vma; k++) {
			for (uint64_t va = mm->vma[k].start; va < mm->vma[k].end; va += RA_PAGE_SIZE) {
				uint64_t *pte = mm_pte_lookup(mm, va);
				if (!pte) {
					va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
					continue;
				}
				uint64_t e = *pte;
				if ((e & PTE_PRESENT) && !(e & PTE_ZERO)) {
					uint32_t pfn = PTE_PFN(e);
					if (pfn < m->nr_pages && pfn_page(m, pfn)->owner == PO_USER && !rmap_has(m, pfn, mm, va))
						ra_problem(m, &problems, "task %s[%u]: page %#x at %" PRIx64 " is missing from its reverse map",
						           tk->comm, tk->pid, pfn, va);
					continue;
				}
				if (!(e & PTE_SWAP))
					continue;
				swapents++;
				swp_entry_t se = pte_swp(e);
				struct ra_swap_info *si = swp_info(m, se);
				if (!si || !swp_offset(se) || swp_offset(se) > si->pages) {
					ra_problem(m, &problems, "task %s[%u]: pte at %" PRIx64 " holds swap entry %u:%u of no slot",
					           tk->comm, tk->pid, va, swp_type(se), swp_offset(se));
					continue;
				}
				refs[si->type][swp_offset(se)]++;
			}
		}
		if (swapents != mm->swapents)
			ra_problem(m, &problems, "task %s[%u]: %" PRIu64 " swap entries in its ptes, MM_SWAPENTS %" PRIu64, tk->comm,
			           tk->pid, swapents, mm->swapents);
	}
	/* tmpfs files hold the entries of their swapped pages */
	for (uint32_t id = 0; m->fm && id < m->fm->nr_files; id++) {
		struct ra_file *f = m->fm->files[id];
		if (!f || !f->swapped.n)
			continue;
		uint32_t n;
		uint64_t *keys = pcm_sorted_keys(&f->swapped, &n);
		for (uint32_t k = 0; k < n; k++) {
			swp_entry_t se = *pcm_find(&f->swapped, keys[k]);
			struct ra_swap_info *si = swp_info(m, se);
			if (!si || !swp_offset(se) || swp_offset(se) > si->pages) {
				ra_problem(m, &problems, "tmpfs file %s: page %" PRIu64 " holds swap entry %u:%u of no slot", f->name,
				           keys[k], swp_type(se), swp_offset(se));
				continue;
			}
			refs[si->type][swp_offset(se)]++;
		}
		free(keys);
	}
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct swap_slots_cache *sc = &sw->cpu[c];
		for (uint32_t k = 0; k < sc->nr + sc->n_ret; k++) {
			swp_entry_t se = k < sc->nr ? sc->slots[sc->cur + k] : sc->slots_ret[k - sc->nr];
			struct ra_swap_info *si = swp_info(m, se);
			if (!si || !swp_offset(se) || swp_offset(se) > si->pages || cache[si->type][swp_offset(se)]++)
				ra_problem(m, &problems, "swap: cpu %u caches slot %u:%u twice or of no device", c, swp_type(se),
				           swp_offset(se));
		}
	}
	uint64_t nr_cache = 0, unmapped = 0;
	uint8_t *buf = malloc(2 * RA_PAGE_SIZE);
	RA_BUG_ON(m, !buf);
	for (uint32_t pfn = 0; pfn < m->nr_pages; pfn++) {
		struct ra_page *p = &m->pages[pfn];
		if (p->owner == PO_USER) {
			unmapped += !p->count;
			int want = (p->flags & PGF_MLOCKED) ? LRU_UNEVICTABLE : -1;
			if (!(p->flags & PGF_SWAPBACKED) && !(p->flags & PGF_SWAPCACHE))
				;     /* lazily freed: check_lazyfree() */
			else if (!(p->flags & PGF_LRU) || !(p->flags & PGF_SWAPBACKED) || (want >= 0 && page_lru(p) != want) ||
			    (want < 0 && page_lru(p) != LRU_INACTIVE_ANON && page_lru(p) != LRU_ACTIVE_ANON))
				ra_problem(m, &problems, "anon page %#x is not on an anon list (flags %#x)", pfn, p->flags);
			if (m->mmw && rmap_count(m, pfn) != p->count)
				ra_problem(m, &problems, "anon page %#x: mapcount %u, reverse map %u", pfn, p->count,
				           rmap_count(m, pfn));
		}
		if (!(p->flags & PGF_SWAPCACHE))
			continue;
		nr_cache++;
		swp_entry_t se = page_swp_entry(p);
		struct ra_swap_info *si = swp_info(m, se);
		if (p->owner != PO_USER || !si || !swp_offset(se) || swp_offset(se) > si->pages ||
		    si->cache[swp_offset(se)] != pfn + 1) {
			ra_problem(m, &problems, "swap cache: page %#x claims slot %u:%u, which does not name it", pfn,
			           swp_type(se), swp_offset(se));
			continue;
		}
		if (cache[si->type][swp_offset(se)]++)
			ra_problem(m, &problems, "swap cache: slot %u:%u is cached by a cpu and a page", swp_type(se),
			           swp_offset(se));
		/* a clean page is what the slot holds */
		if (!(p->flags & PGF_DIRTY) && p->count == 0) {
			swap_peek(m, se, buf);
			uint8_t *page = buf + RA_PAGE_SIZE;
			ra_raw_copy(page, m->ram + ((size_t)pfn << RA_PAGE_SHIFT), RA_PAGE_SIZE);
			if (memcmp(buf, page, RA_PAGE_SIZE))
				ra_problem(m, &problems, "swap cache: clean page %#x differs from slot %u:%u", pfn, swp_type(se),
				           swp_offset(se));
		}
	}
	free(buf);
	if (nr_cache != node_page_state(m, NR_SWAPCACHE))
		ra_problem(m, &problems, "swap cache: %" PRIu64 " pages, nr_swapcached %" PRIu64, nr_cache,
		           node_page_state(m, NR_SWAPCACHE));
	if (unmapped != sw->unmapped_cache)
		ra_problem(m, &problems, "swap: %" PRIu64 " anon pages mapped by no pte, counted %" PRIu64, unmapped,
		           sw->unmapped_cache);
	for (unsigned t = 0; t < sw->nr_types; t++) {
		struct ra_swap_info *si = sw->si[t];
		if (!si)
			continue;
		uint32_t inuse = 0;
		for (uint32_t off = 1; off <= si->pages; off++) {
			uint8_t v = si->map[off];
			inuse += v != 0;
			if ((v & ~SWAP_HAS_CACHE) != refs[t][off] || !!(v & SWAP_HAS_CACHE) != !!cache[t][off])
				ra_problem(m, &problems, "%s: slot %u has swap_map %#x but %u ptes and %s cache", si->name, off, v,
				           refs[t][off], cache[t][off] ? "a" : "no");
			if (si->cache[off] && !(v & SWAP_HAS_CACHE))
				ra_problem(m, &problems, "%s: slot %u names a cache page but is not reserved", si->name, off);
		}
		if (si->map[0])
			ra_problem(m, &problems, "%s: the header slot is in use", si->name);
		/* a shadow entry sits only in a slot in use without a cache page */
		for (uint32_t i = 0; i < si->shadows.cap; i++) {
			uint64_t off = si->shadows.keys[i] ? si->shadows.keys[i] - 1 : 0;
			if (si->shadows.keys[i] && (off == 0 || off > si->pages || !si->map[off] || si->cache[off]))
				ra_problem(m, &problems, "%s: slot %" PRIu64 " holds a shadow entry but is %s", si->name, off,
				           off == 0 || off > si->pages ? "no slot" : !si->map[off] ? "free" : "cached");
		}
		if (inuse != si->inuse)
			ra_problem(m, &problems, "%s: %u slots in use, counted %u", si->name, inuse, si->inuse);
		if (si->zram)
			problems += zram_validate(m, si->zram, si);
		free(refs[t]);
		free(cache[t]);
	}
	return problems;
}
