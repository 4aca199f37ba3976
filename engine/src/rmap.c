/*
 * rmap.c — the anonymous side of the reverse map (the kernel's
 * mm/rmap.c), and the page-table half of swap: the swap-in fault
 * (do_swap_page of mm/memory.c), freeing swap entries with the ptes that
 * hold them, and swapoff's try_to_unuse (mm/swapfile.c).
 *
 * The reverse map. The kernel finds the ptes of an anon page through its
 * anon_vma and page->index; the model keeps, per anonymous page, the list
 * of (mm, address) pairs that map it: one inline entry, more in a host
 * array after a fork. An anon page is mapped at most once per mm, so an
 * entry is found by its mm. mm.c, fork.c and mremap (um_sim.c) keep the
 * list in step with every pte they set, move or clear; the validators
 * check it against the page tables.
 *
 * folio_referenced_anon(): tests and clears PTE_YOUNG in every mapping,
 * flushing that mm's TLB (the next access walks the table and sets it
 * again); returns the mappings that were young and whether one is in a
 * VM_LOCKED vma. try_to_unmap_anon(): each pte of a swap-cache page
 * becomes its swap entry (swap_map +1 per pte; the entry is exclusive when
 * the page had one mapper); a dirty pte dirties the page.
 *
 * Swap-in (do_swap_page). A swap-cache hit is a minor fault. A miss reads
 * the slot: a major fault (pgmajfault, pswpin; pgpgin for a disk). On a
 * zram device (synchronous I/O) with the entry held by this pte alone the
 * swap cache is bypassed and the slot freed at once; otherwise the page
 * joins the swap cache and keeps its slot unless should_try_to_free_swap()
 * says otherwise (swap more than half full, a locked vma, or a write fault
 * on a page nothing else maps). The page is PageAnonExclusive
 * (PGF_ANON_EXCLUSIVE) when the swap pte was (the page had one mapper when
 * unmapped; fork clears it) or nothing else holds it; a write fault then
 * maps it writable and dirty, anything else read-only. A later write
 * reuses an exclusive page at once (its slot stays), a shared one if its
 * slot can be let go (no other pte holds it), else copies it. The new page
 * goes on the inactive anon list (the model has no swap readahead: see
 * docs/kernel-model.md).
 *
 * swapoff (try_to_unuse): every tmpfs page swapped to the device comes
 * back into its file (shmem_unuse: pswpin, no fault), then every pte of
 * every task that holds an entry of
 * the device gets its page back through the swap cache (pswpin, pgpgin;
 * no fault is counted: unuse_pte is no fault), allocated with
 * __GFP_RETRY_MAYFAIL (the model's rule: swapoff fails with
 * ENOMEM instead of entering the OOM killer); then the swap-cache pages
 * of the device leave the cache. First, as the kernel does,
 * security_vm_enough_memory_mm() must accept the device's size with the
 * device already out of the swap totals.
 */
#include "mm.h"
#include "swapfile.h"
#include "san.h"
#include <inttypes.h>

struct rmap_ent { struct ra_mm *mm; uint64_t va; };
struct anon_rmap { struct rmap_ent e; struct rmap_ent *more; uint32_t n_more, cap_more; };

static struct anon_rmap *rmap_of(ra_machine *m, uint32_t pfn)
{
	struct ra_mm_world *w = m->mmw;
	if (!w->rmap) {
		w->rmap = calloc(m->nr_pages, sizeof(*w->rmap));
		RA_BUG_ON(m, !w->rmap);
	}
	return &w->rmap[pfn];
}

/* === The reverse map ===================================================== */

void rmap_add(ra_machine *m, uint32_t pfn, struct ra_mm *mm, uint64_t va)
{
	struct anon_rmap *r = rmap_of(m, pfn);
	va &= ~(uint64_t)(RA_PAGE_SIZE - 1);
	if (!r->e.mm) {
		r->e = (struct rmap_ent){ mm, va };
		return;
	}
	if (r->n_more == r->cap_more) {
		if (!r->cap_more)
			m->mmw->rmap_more++;
		r->cap_more = r->cap_more ? r->cap_more * 2 : 2;
		r->more = realloc(r->more, r->cap_more * sizeof(*r->more));
		RA_BUG_ON(m, !r->more);
	}
	r->more[r->n_more++] = (struct rmap_ent){ mm, va };
}

static struct rmap_ent *rmap_find(struct anon_rmap *r, struct ra_mm *mm)
{
	if (r->e.mm == mm)
		return &r->e;
	for (uint32_t i = 0; i < r->n_more; i++)
		if (r->more[i].mm == mm)
			return &r->more[i];
	return NULL;
}

void rmap_del(ra_machine *m, uint32_t pfn, struct ra_mm *mm)
{
	struct anon_rmap *r = rmap_of(m, pfn);
	struct rmap_ent *e = rmap_find(r, mm);
	RA_BUG_ON(m, !e);
	if (r->n_more) {
		*e = r->more[--r->n_more];
		if (!r->n_more) {
			free(r->more);
			r->more = NULL;
			r->cap_more = 0;
			m->mmw->rmap_more--;
		}
	} else {
		r->e.mm = NULL;
		r->e.va = 0;
	}
}

void rmap_move(ra_machine *m, uint32_t pfn, struct ra_mm *mm, uint64_t va)
{
	struct rmap_ent *e = rmap_find(rmap_of(m, pfn), mm);
	RA_BUG_ON(m, !e);
	e->va = va & ~(uint64_t)(RA_PAGE_SIZE - 1);
}

uint32_t rmap_count(ra_machine *m, uint32_t pfn)
{
	struct anon_rmap *r = rmap_of(m, pfn);
	return (r->e.mm != NULL) + r->n_more;
}

bool rmap_has(ra_machine *m, uint32_t pfn, struct ra_mm *mm, uint64_t va)
{
	struct rmap_ent *e = rmap_find(rmap_of(m, pfn), mm);
	return e && e->va == va;
}

void rmap_fini(ra_machine *m)
{
	struct ra_mm_world *w = m->mmw;
	if (!w || !w->rmap)
		return;
	/* every page was unmapped before: no array is left, and the walk of a
	 * large machine's table is skipped */
	for (uint32_t pfn = 0; w->rmap_more && pfn < m->nr_pages; pfn++)
		if (w->rmap[pfn].more) {
			free(w->rmap[pfn].more);
			w->rmap_more--;
		}
	free(w->rmap);
	w->rmap = NULL;
}

/* The i-th mapping of the page (0 .. rmap_count - 1). */
static struct rmap_ent *rmap_nth(struct anon_rmap *r, uint32_t i)
{
	return i ? &r->more[i - 1] : &r->e;
}

int folio_referenced_anon(ra_machine *m, uint32_t pfn, bool *vm_locked)
{
	struct anon_rmap *r = rmap_of(m, pfn);
	uint32_t n = (r->e.mm != NULL) + r->n_more;
	int refs = 0;
	*vm_locked = false;
	for (uint32_t i = 0; i < n; i++) {
		struct rmap_ent *e = rmap_nth(r, i);
		struct ra_vma *v = mm_find_vma(e->mm, e->va);
		if (v && (v->flags & VM_LOCKED))
			*vm_locked = true;
		uint64_t *pte = mm_pte_lookup(e->mm, e->va);
		RA_BUG_ON(m, !pte || !(*pte & PTE_PRESENT) || PTE_PFN(*pte) != pfn);
		if (*pte & PTE_YOUNG) {
			*pte &= ~PTE_YOUNG;
			mm_tlb_flush(e->mm);
			refs++;
		}
	}
	return refs;
}

bool try_to_unmap_anon(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, !(p->flags & PGF_SWAPCACHE));
	swp_entry_t e = page_swp_entry(p);
	struct anon_rmap *r = rmap_of(m, pfn);
	/* the swap pte is exclusive when the page was (the flag goes:
	 * page_try_share_anon_rmap()) */
	bool exclusive = p->flags & PGF_ANON_EXCLUSIVE;
	p->flags &= (uint16_t)~PGF_ANON_EXCLUSIVE;
	while (r->e.mm) {
		struct rmap_ent ent = r->n_more ? r->more[r->n_more - 1] : r->e;
		uint64_t *pte = mm_pte_lookup(ent.mm, ent.va);
		RA_BUG_ON(m, !pte || PTE_PFN(*pte) != pfn);
		if (*pte & PTE_DIRTY)
			p->flags |= PGF_DIRTY;
		swap_duplicate(m, e);
		*pte = swp_pte(e, exclusive);
		mm_tlb_flush(ent.mm);
		ent.mm->rss--;
		ent.mm->swapents++;
		rmap_del(m, pfn, ent.mm);
		mm_page_unmapped(m, pfn);
	}
	return true;
}

/* The kernel checks each pte in turn and may discard the page from the
 * first mappings before it finds a dirty pte in a later one; the model
 * looks at every pte first, so a lazyfree page is discarded from all its
 * mappings or kept in all (docs/kernel-model.md, "madvise"). */
bool try_to_unmap_lazyfree(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, (p->flags & (PGF_SWAPBACKED | PGF_SWAPCACHE)) || p->owner != PO_USER);
	struct anon_rmap *r = rmap_of(m, pfn);
	uint32_t n = (r->e.mm != NULL) + r->n_more;
	for (uint32_t i = 0; i < n; i++) {
		struct rmap_ent *e = rmap_nth(r, i);
		uint64_t *pte = mm_pte_lookup(e->mm, e->va);
		RA_BUG_ON(m, !pte || PTE_PFN(*pte) != pfn);
		if (*pte & PTE_DIRTY)
			p->flags |= PGF_DIRTY;     /* folio_mark_dirty() */
	}
	if (p->flags & PGF_DIRTY) {
		p->flags |= PGF_SWAPBACKED;    /* redirtied: not discarded */
		return false;
	}
	while (r->e.mm) {
		struct rmap_ent ent = r->n_more ? r->more[r->n_more - 1] : r->e;
		uint64_t *pte = mm_pte_lookup(ent.mm, ent.va);
		struct pt_leaf *l = (struct pt_leaf *)((char *)(pte - PTE_IDX(ent.va)) - offsetof(struct pt_leaf, pte));
		*pte = 0;
		l->used--;
		mm_tlb_flush(ent.mm);
		ent.mm->rss--;
		rmap_del(m, pfn, ent.mm);
		p->count--;      /* still in AnonPages: the caller frees it now */
	}
	return true;
}

/* === Swap entries in page tables ========================================= */

/* free_swap_and_cache(): a pte let go of e; when nothing else holds the
 * slot and its swap-cache page is mapped nowhere, the page goes too. */
void free_swap_and_cache(ra_machine *m, swp_entry_t e)
{
	swap_free(m, e);
	struct ra_swap_info *si = swp_info(m, e);
	if (si->map[swp_offset(e)] != SWAP_HAS_CACHE)
		return;
	uint32_t pfn = swap_cache_lookup(m, e);
	if (pfn == RA_NOPFN || pfn_page(m, pfn)->count)
		return;
	mm_free_unmapped_anon(m, pfn);
}

/* should_try_to_free_swap() + folio_free_swap() after a swap-in. */
static void try_free_swap(ra_machine *m, uint32_t pfn, bool locked, bool write_unshared)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_SWAPCACHE))
		return;
	if (!vm_swap_full(m) && !locked && !write_unshared)
		return;
	if (swap_count(m, page_swp_entry(p)))
		return;     /* folio_swapped(): another pte still holds it */
	delete_from_swap_cache(m, pfn);
}

/* Map pfn for mm at va in place of the swap entry at *pte. */
static void map_swapped(ra_machine *m, struct ra_mm *mm, uint64_t va, uint64_t *pte, uint32_t pfn, bool writable)
{
	mm_page_mapped(m, pfn);
	*pte = ((uint64_t)pfn << 12) | PTE_PRESENT | (writable ? PTE_WRITE | PTE_DIRTY : 0);
	rmap_add(m, pfn, mm, va);
	mm->swapents--;
	mm_rss_inc(mm);
	mm_tlb_flush(mm);
}

/* Read slot e into a new page: the page, or RA_NOPFN (no memory, or the
 * allocation killed the task). bypass: zram and a single reference, when
 * may_bypass (a fault; read_swap_cache_async() always uses the cache). */
static uint32_t swapin_page(ra_machine *m, struct ra_task *t, swp_entry_t e, bool *bypass, ra_gfp_t gfp,
                            bool may_bypass)
{
	struct ra_swap_info *si = swp_info(m, e);
	*bypass = may_bypass && swap_synchronous(si) && swap_count(m, e) == 1;
	uint32_t pfn = mm_alloc_anon_page(m, gfp);
	if (t && !ra_task_alive(t)) {
		if (pfn != RA_NOPFN)
			mm_free_unmapped_anon(m, pfn);
		return RA_NOPFN;
	}
	if (pfn == RA_NOPFN)
		return RA_NOPFN;
	if (!*bypass) {
		/* swapcache_prepare(), then add_to_swap_cache() */
		RA_BUG_ON(m, si->map[swp_offset(e)] & SWAP_HAS_CACHE);
		si->map[swp_offset(e)] |= SWAP_HAS_CACHE;
		add_to_swap_cache(m, pfn, e);
	}
	swap_readpage(m, pfn, e);
	return pfn;
}

uint32_t read_swap_cache_async(ra_machine *m, struct ra_task *t, swp_entry_t e)
{
	uint32_t pfn = swap_cache_lookup(m, e);
	if (pfn != RA_NOPFN)
		return pfn;
	bool bypass;
	return swapin_page(m, t, e, &bypass, RA_GFP_HIGHUSER_MOVABLE, false);
}

int do_swap_page(ra_machine *m, struct ra_task *t, struct ra_vma *v, uint64_t va, uint64_t *pte, bool write)
{
	struct ra_mm *mm = t->mm;
	swp_entry_t e = pte_swp(*pte);
	bool exclusive = (*pte & PTE_SWP_EXCL) != 0;
	bool locked = v->flags & VM_LOCKED;
	uint32_t pfn = swap_cache_lookup(m, e);
	bool bypass = false;
	if (pfn == RA_NOPFN) {
		pfn = swapin_page(m, t, e, &bypass, RA_GFP_HIGHUSER_MOVABLE, true);
		if (pfn == RA_NOPFN)
			return -2;
		/* the allocation may have reclaimed: the pte is the same (this
		 * task's ptes are not reclaim's to change while it faults) */
		RA_BUG_ON(m, pte_swp(*mm_pte_lookup(mm, va)) != e);
		count_vm_event(m, PGMAJFAULT);
		t->maj_flt++;
	} else {
		t->min_flt++;
	}
	pte = mm_pte_lookup(mm, va);
	struct ra_page *p = pfn_page(m, pfn);
	/* swap_free(), then should_try_to_free_swap(): swap full, a locked
	 * vma, or a write fault on a page no one else maps (refcount 2: the
	 * fault's and the cache's); the bypassed page is in no cache and goes
	 * with its slot */
	bool unshared = !p->count;
	swap_free(m, e);
	try_free_swap(m, pfn, locked, write && unshared);
	/* exclusive when the swap pte said so or nothing else holds the page
	 * (refcount 1: out of the swap cache, unmapped) */
	if (exclusive || (unshared && !(p->flags & PGF_SWAPCACHE)))
		p->flags |= PGF_ANON_EXCLUSIVE;
	bool writable = write && (p->flags & PGF_ANON_EXCLUSIVE);
	map_swapped(m, mm, va, pte, pfn, writable);
	if (locked)
		mm_mlock_page(m, pfn);
	return 0;
}

/* A write to a read-only anon page with one mapper (do_wp_page): it may be
 * reused unless its swap slot is still held by another pte. */
bool wp_can_reuse_anon(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if ((p->flags & PGF_ANON_EXCLUSIVE) || !(p->flags & PGF_SWAPCACHE))
		return true;     /* PageAnonExclusive: reused, the slot kept */
	if (swap_count(m, page_swp_entry(p)))
		return false;
	delete_from_swap_cache(m, pfn);     /* folio_free_swap() */
	return true;
}

/* === swapoff ============================================================== */

/* unuse_pte_range() over one mm: 0, or -1 when a page cannot be had. */
static int unuse_mm(ra_machine *m, struct ra_task *t, struct ra_swap_info *si)
{
	struct ra_mm *mm = t->mm;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		struct ra_vma *v = &mm->vma[i];
		for (uint64_t va = v->start; va < v->end; va += RA_PAGE_SIZE) {
			uint64_t *pte = mm_pte_lookup(mm, va);
			if (!pte) {
				va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
				continue;
			}
			if (!(*pte & PTE_SWAP) || swp_type(pte_swp(*pte)) != si->type)
				continue;
			swp_entry_t e = pte_swp(*pte);
			uint32_t pfn = swap_cache_lookup(m, e);
			bool bypass;
			if (pfn == RA_NOPFN) {
				/* read_swap_cache_async(): into the swap cache (swapoff
				 * never bypasses it) */
				pfn = swapin_page(m, NULL, e, &bypass, RA_GFP_HIGHUSER_MOVABLE | RA___GFP_RETRY_MAYFAIL, true);
				if (pfn == RA_NOPFN)
					return -1;
				if (bypass) {
					/* swapoff reads through the cache even on zram */
					si->map[swp_offset(e)] |= SWAP_HAS_CACHE;
					add_to_swap_cache(m, pfn, e);
				}
			}
			v = &mm->vma[i];
			pte = mm_pte_lookup(mm, va);
			map_swapped(m, mm, va, pte, pfn, false);
			if (v->flags & VM_LOCKED)
				mm_mlock_page(m, pfn);
			swap_free(m, e);
		}
	}
	return 0;
}

int ra_swapoff(ra_machine *m, uint32_t id)
{
	struct ra_swap_info *si = swap_info_by_id(m, id);
	if (!si)
		return RA_ENOENT;
	swap_info_disable(m, si);
	/* security_vm_enough_memory_mm(current->mm, p->pages) */
	struct ra_task *cur = m->mmw ? m->mmw->cur : NULL;
	if (!ra_task_alive(cur))
		cur = NULL;
	if (!mm_vm_enough_memory(m, cur, si->pages)) {
		swap_info_reinsert(m, si);
		return RA_ENOMEM;
	}
	/* vm_unacct_memory(p->pages) */
	if (cur && cur->mm)
		cur->mm->committed -= si->pages;
	if (m->mmw)
		m->mmw->committed_as -= si->pages;
	swap_drain_slots(m);
	struct ra_mm_world *w = m->mmw;
	/* shmem_unuse(): the tmpfs pages first, as try_to_unuse() does */
	int err = shmem_unuse(m, si->type, RA_GFP_HIGHUSER_MOVABLE | RA___GFP_RETRY_MAYFAIL);
	for (uint32_t i = 0; w && i < w->nr_tasks && !err; i++) {
		struct ra_task *t = w->tasks[i];
		if (!ra_task_alive(t) || !t->mm)
			continue;
		ra_task_get(t);
		err = unuse_mm(m, t, si);
		ra_task_put(m, t);
	}
	/* the swap-cache pages of the device leave the cache (unmapped ones
	 * are freed: nothing holds them any more) */
	for (uint32_t off = 1; off <= si->pages && !err; off++) {
		uint32_t pfn = si->cache[off] - 1;
		if (!si->cache[off] || swap_count(m, swp_entry(si->type, off)))
			continue;
		if (pfn_page(m, pfn)->count)
			delete_from_swap_cache(m, pfn);
		else
			mm_free_unmapped_anon(m, pfn);
	}
	swap_drain_slots(m);
	if (err || si->inuse) {
		swap_info_reinsert(m, si);
		return RA_ENOMEM;
	}
	swap_info_remove(m, si);
	return RA_OK;
}

/* === Reading a task's memory without touching it ======================== */

int mm_peek_user(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, uint8_t *buf)
{
	if (!ra_task_alive(t) || !t->mm)
		return -1;
	while (len) {
		uint64_t chunk = RA_MIN(len, RA_PAGE_SIZE - (addr & (RA_PAGE_SIZE - 1)));
		if (!mm_find_vma(t->mm, addr))
			return -1;
		uint64_t *pte = mm_pte_lookup(t->mm, addr);
		uint64_t e = pte ? *pte : 0;
		const uint8_t *src = NULL;
		if ((e & PTE_PRESENT) && !(e & PTE_ZERO))
			src = m->ram + ((size_t)PTE_PFN(e) << RA_PAGE_SHIFT);
		else if (e & PTE_SWAP)
			src = swap_peek_page(m, pte_swp(e));
		if (src)     /* RAM may be poisoned for the sanitizers: raw reads */
			ra_raw_copy(buf, src + (addr & (RA_PAGE_SIZE - 1)), (size_t)chunk);
		else
			memset(buf, 0, (size_t)chunk);     /* never written: reads as zeros */
		buf += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}
