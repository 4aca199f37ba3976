/*
 * swap.c — the LRU lists, named after the kernel's mm/swap.c (which
 * despite its name holds the LRU code): adding and removing pages,
 * folio_mark_accessed()'s two-touch rule, and deactivation. The kernel
 * batches these per cpu (PAGEVEC_SIZE 15) and applies them at drain time;
 * the model applies each at once, so the lists are always exact.
 *
 * A list is a struct ra_plist of pfns, head = most recently added;
 * reclaim (vmscan.c) takes pages from the tail. Each move keeps the
 * node counter (nr_inactive_file, nr_active_file) and the zone counter of
 * the page's zone (nr_zone_*_file) in step.
 */
#include "filemap.h"

/* The node and zone counters of each list (NR_LRU_BASE + lru and
 * NR_ZONE_LRU_BASE + lru in the kernel). */
static const enum ra_stat_item node_lru_stat[NR_LRU_LISTS] = {
	RA_STAT_NR_INACTIVE_ANON, RA_STAT_NR_ACTIVE_ANON, RA_STAT_NR_INACTIVE_FILE, RA_STAT_NR_ACTIVE_FILE,
	RA_STAT_NR_UNEVICTABLE,
};
static const enum ra_stat_item zone_lru_stat[NR_LRU_LISTS] = {
	RA_STAT_NR_ZONE_INACTIVE_ANON, RA_STAT_NR_ZONE_ACTIVE_ANON, RA_STAT_NR_ZONE_INACTIVE_FILE,
	RA_STAT_NR_ZONE_ACTIVE_FILE, RA_STAT_NR_ZONE_UNEVICTABLE,
};

static void count_lru(ra_machine *m, uint32_t pfn, int lru, int64_t d)
{
	ra_node_stat_mod(m, node_lru_stat[lru], d);
	pfn_zone(m, pfn)->vm_stat[zone_lru_stat[lru]] += (uint64_t)d;
	if (lru == LRU_UNEVICTABLE && pfn_page(m, pfn)->owner == PO_FILE &&
	    !(pfn_page(m, pfn)->flags & PGF_SWAPBACKED))
		m->fm->nr_file_unevictable += (uint64_t)d;   /* disk files' pages: tmpfs pages count as anon */
	else if (lru != LRU_UNEVICTABLE && is_file_lru(lru) && pfn_page(m, pfn)->owner == PO_USER)
		m->fm->nr_lazyfree += (uint64_t)d;           /* lazily freed anonymous pages */
}

struct ra_filemap *filemap_state(ra_machine *m)
{
	if (unlikely(!m->fm)) {
		m->fm = calloc(1, sizeof(*m->fm));
		if (!m->fm)
			abort();
		for (int l = 0; l < NR_LRU_LISTS; l++)
			m->fm->lru[l].head = m->fm->lru[l].tail = RA_NOPFN;
	}
	return m->fm;
}

void lru_add(ra_machine *m, uint32_t pfn, int lru)
{
	struct ra_plist *l = &filemap_state(m)->lru[lru];
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, (p->owner != PO_FILE && p->owner != PO_USER) || (p->flags & PGF_LRU));
	RA_BUG_ON(m, lru != LRU_UNEVICTABLE && !(p->flags & PGF_SWAPBACKED) != is_file_lru(lru));
	plist_add_head(m, l, pfn);
	p->flags |= PGF_LRU;
	p->flags &= (uint16_t)~(PGF_ACTIVE | PGF_UNEVICTABLE);
	if (is_active_lru(lru))
		p->flags |= PGF_ACTIVE;
	else if (lru == LRU_UNEVICTABLE)
		p->flags |= PGF_UNEVICTABLE;
	count_lru(m, pfn, lru, 1);
}

void lru_del(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, (p->owner != PO_FILE && p->owner != PO_USER) || !(p->flags & PGF_LRU));
	int lru = page_lru(p);
	plist_del(m, &m->fm->lru[lru], pfn);
	p->flags &= (uint16_t)~PGF_LRU;
	count_lru(m, pfn, lru, -1);
}

void folio_mark_accessed(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_REFERENCED)) {
		p->flags |= PGF_REFERENCED;
		return;
	}
	if (!(p->flags & (PGF_ACTIVE | PGF_UNEVICTABLE)) && (p->flags & PGF_LRU)) {
		/* folio_activate(): to the active list's head */
		int lru = page_lru(p);
		lru_del(m, pfn);
		lru_add(m, pfn, lru + LRU_ACTIVE);
		count_vm_event(m, PGACTIVATE);
		p->flags &= (uint16_t)~PGF_REFERENCED;
		workingset_activation(m);
	}
}

void lru_deactivate_file(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_LRU) || (p->flags & PGF_UNEVICTABLE))
		return;
	bool active = p->flags & PGF_ACTIVE;
	int lru = page_lru(p) & ~LRU_ACTIVE;
	lru_del(m, pfn);
	p->flags &= (uint16_t)~PGF_REFERENCED;
	lru_add(m, pfn, lru);
	if (active)
		count_vm_event(m, PGDEACTIVATE);
}

uint64_t zone_lru_pages(const struct ra_zone *z, int lru)
{
	return z->vm_stat[zone_lru_stat[lru]];
}

const char *lru_name(int lru)
{
	static const char *const names[NR_LRU_LISTS] = {
		"inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
	};
	return (unsigned)lru < NR_LRU_LISTS ? names[lru] : "?";
}

uint64_t lru_size(ra_machine *m, int lru, int zidx)
{
	uint64_t n = 0;
	for (int z = 0; z <= zidx && z < RA_NR_REAL_ZONES; z++)
		n += m->zones[z].vm_stat[zone_lru_stat[lru]];
	return n;
}
