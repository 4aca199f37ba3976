/*
 * swap.c — the file LRU lists, named after the kernel's mm/swap.c (which
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

static void count_lru(ra_machine *m, uint32_t pfn, int lru, int64_t d)
{
	struct ra_zone *z = pfn_zone(m, pfn);
	if (lru == LRU_ACTIVE_FILE) {
		mod_node_page_state(m, NR_ACTIVE_FILE, d);
		mod_zone_page_state(z, NR_ZONE_ACTIVE_FILE, d);
	} else {
		mod_node_page_state(m, NR_INACTIVE_FILE, d);
		mod_zone_page_state(z, NR_ZONE_INACTIVE_FILE, d);
	}
}

void lru_add(ra_machine *m, uint32_t pfn, int lru)
{
	struct ra_plist *l = &m->fm->lru[lru];
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, p->owner != PO_FILE || (p->flags & PGF_LRU));
	plist_add_head(m, l, pfn);
	p->flags |= PGF_LRU;
	if (lru == LRU_ACTIVE_FILE)
		p->flags |= PGF_ACTIVE;
	else
		p->flags &= (uint8_t)~PGF_ACTIVE;
	count_lru(m, pfn, lru, 1);
}

void lru_del(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, p->owner != PO_FILE || !(p->flags & PGF_LRU));
	int lru = page_lru(p);
	plist_del(m, &m->fm->lru[lru], pfn);
	p->flags &= (uint8_t)~PGF_LRU;
	count_lru(m, pfn, lru, -1);
}

void folio_mark_accessed(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_REFERENCED)) {
		p->flags |= PGF_REFERENCED;
		return;
	}
	if (!(p->flags & PGF_ACTIVE) && (p->flags & PGF_LRU)) {    /* shmem pages: on no file list */
		/* folio_activate(): to the active list's head */
		lru_del(m, pfn);
		lru_add(m, pfn, LRU_ACTIVE_FILE);
		count_vm_event(m, PGACTIVATE);
		p->flags &= (uint8_t)~PGF_REFERENCED;
	}
}

void lru_deactivate_file(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_LRU))
		return;
	bool active = p->flags & PGF_ACTIVE;
	lru_del(m, pfn);
	p->flags &= (uint8_t)~PGF_REFERENCED;
	lru_add(m, pfn, LRU_INACTIVE_FILE);
	if (active)
		count_vm_event(m, PGDEACTIVATE);
}

uint64_t lru_size(ra_machine *m, int lru, int zidx)
{
	uint64_t n = 0;
	for (int z = 0; z <= zidx && z < RA_NR_REAL_ZONES; z++)
		n += lru == LRU_ACTIVE_FILE ? zone_page_state(&m->zones[z], NR_ZONE_ACTIVE_FILE)
		                            : zone_page_state(&m->zones[z], NR_ZONE_INACTIVE_FILE);
	return n;
}
