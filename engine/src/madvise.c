/*
 * madvise.c — madvise(2) of the kernel's mm/madvise.c for the advice the
 * model knows: MADV_DONTNEED, MADV_FREE, MADV_COLD, MADV_PAGEOUT and
 * MADV_WILLNEED (docs/kernel-model.md, "madvise").
 *
 * It stands above reclaim (MADV_PAGEOUT reclaims the pages it collects
 * through vmscan.c's reclaim_pages) and works on the mm layer's page
 * tables and reverse maps. The walk is the kernel's madvise_walk_vmas():
 * each VMA part of the range gets the advice; a hole makes the result
 * ENOMEM once the rest is done; an advice that refuses a VMA (EINVAL)
 * stops the walk there, the VMAs before it advised.
 *
 * Per advice:
 *   dontneed  zap the range: anonymous pages go (the range reads zeros),
 *             file pages are unmapped and stay cached; a locked VMA: EINVAL.
 *   free      anonymous private VMAs only (else EINVAL): swap entries of
 *             the range are freed; each present page that only this pte
 *             maps (or that is neither dirty nor in the swap cache) gets a
 *             clean, old pte, loses PG_dirty and, when on an anon list,
 *             outside the swap cache, goes lazyfree: PG_swapbacked,
 *             PG_active and PG_referenced cleared, to the inactive file
 *             list's head (pglazyfree). Reclaim discards it unless it was
 *             written again.
 *   cold      each present page that one pte maps: pte old, PG_referenced
 *             cleared, and an active page moves to its inactive list
 *             (pgdeactivate). Locked VMAs: EINVAL.
 *   pageout   as cold, but the pages are taken off their lists and
 *             reclaimed at once, whatever their references.
 *   willneed  file VMAs: readahead of the range (force_page_cache_ra);
 *             anonymous VMAs: each swapped page is read into the swap
 *             cache, not mapped; tmpfs VMAs: nothing (no shmem swap).
 */
#include "vmscan.h"
#include "refalloc/trace.h"

static struct ra_file *vma_file(ra_machine *m, const struct ra_vma *v) { return filemap_file(m, v->file - 1); }

/* The mapcount of a present page (file or anonymous). */
static uint32_t mapcount(ra_machine *m, uint32_t pfn)
{
	return mm_pfn_is_file(m, pfn) ? page_mapcount(m, pfn) : pfn_page(m, pfn)->count;
}

/* Clear a pte to none (a swap entry freed). */
static void pte_clear(uint64_t *pte, uint64_t va)
{
	struct pt_leaf *l = (struct pt_leaf *)((char *)(pte - PTE_IDX(va)) - offsetof(struct pt_leaf, pte));
	*pte = 0;
	l->used--;
}

/* === MADV_FREE ============================================================ */

/* folio_mark_lazyfree() -> lru_lazyfree_fn() */
static void mark_lazyfree(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if ((p->flags & (PGF_LRU | PGF_SWAPBACKED | PGF_SWAPCACHE | PGF_UNEVICTABLE)) != (PGF_LRU | PGF_SWAPBACKED))
		return;
	lru_del(m, pfn);
	p->flags &= (uint16_t)~(PGF_ACTIVE | PGF_REFERENCED | PGF_SWAPBACKED);
	lru_add(m, pfn, LRU_INACTIVE_FILE);
	count_vm_event(m, PGLAZYFREE);
}

/* madvise_free_pte_range() */
static void madv_free_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end; va += RA_PAGE_SIZE) {
		uint64_t *pte = mm_pte_lookup(mm, va);
		if (!pte || !*pte)
			continue;
		if (*pte & PTE_SWAP) {
			/* cheaper than a swap-in later: the entry goes */
			free_swap_and_cache(m, pte_swp(*pte));
			mm->swapents--;
			pte_clear(pte, va);
			continue;
		}
		if (!(*pte & PTE_PRESENT) || (*pte & PTE_ZERO))
			continue;
		uint32_t pfn = PTE_PFN(*pte);
		struct ra_page *p = pfn_page(m, pfn);
		if (p->flags & (PGF_SWAPCACHE | PGF_DIRTY)) {
			/* a page others map keeps its dirty flag */
			if (p->count != 1)
				continue;
			if (p->flags & PGF_SWAPCACHE) {
				if (swap_count(m, page_swp_entry(p)))
					continue;      /* folio_free_swap() fails */
				delete_from_swap_cache(m, pfn);
			}
			p->flags &= (uint16_t)~PGF_DIRTY;
		}
		if (*pte & (PTE_YOUNG | PTE_DIRTY)) {
			*pte &= ~(PTE_YOUNG | PTE_DIRTY);
			mm_tlb_flush(mm);
		}
		mark_lazyfree(m, pfn);
	}
}

/* === MADV_COLD and MADV_PAGEOUT ========================================== */

/* deactivate_page() -> lru_deactivate_fn(): an active page to its
 * inactive list's head. */
static void deactivate(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if ((p->flags & (PGF_LRU | PGF_UNEVICTABLE | PGF_ACTIVE)) != (PGF_LRU | PGF_ACTIVE))
		return;
	int lru = page_lru(p) - LRU_ACTIVE;
	lru_del(m, pfn);
	p->flags &= (uint16_t)~PGF_REFERENCED;
	lru_add(m, pfn, lru);
	count_vm_event(m, PGDEACTIVATE);
}

struct pfn_list { uint32_t *pfn; uint64_t n, cap; };

/* madvise_cold_or_pageout_pte_range(): pages mapped by one pte are made
 * old; cold deactivates them, pageout collects them in *out, off their
 * lists. */
static void cold_or_pageout_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end,
                                  struct pfn_list *out)
{
	for (uint64_t va = start; va < end; va += RA_PAGE_SIZE) {
		uint64_t *pte = mm_pte_lookup(mm, va);
		if (!pte || !(*pte & PTE_PRESENT) || (*pte & PTE_ZERO))
			continue;
		uint32_t pfn = PTE_PFN(*pte);
		struct ra_page *p = pfn_page(m, pfn);
		if (!(p->flags & PGF_LRU) || mapcount(m, pfn) != 1)
			continue;
		if (*pte & PTE_YOUNG) {
			*pte &= ~PTE_YOUNG;
			mm_tlb_flush(mm);
		}
		p->flags &= (uint16_t)~PGF_REFERENCED;
		if (!out) {
			deactivate(m, pfn);
			continue;
		}
		if (p->flags & PGF_UNEVICTABLE)
			continue;       /* isolated and put back at once */
		lru_del(m, pfn);
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 64;
			out->pfn = realloc(out->pfn, out->cap * sizeof(*out->pfn));
			RA_BUG_ON(m, !out->pfn);
		}
		out->pfn[out->n++] = pfn;
	}
}

/* === MADV_WILLNEED ======================================================= */

/* swapin_walk_pmd_entry(): every swap entry of the range read into the
 * swap cache; the first page that cannot be had ends the walk. */
static void willneed_anon(ra_machine *m, struct ra_task *t, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end && ra_task_alive(t); va += RA_PAGE_SIZE) {
		uint64_t *pte = mm_pte_lookup(t->mm, va);
		if (!pte || !(*pte & PTE_SWAP))
			continue;
		if (read_swap_cache_async(m, t, pte_swp(*pte)) == RA_NOPFN)
			break;
	}
}

/* === The walk ============================================================ */

/* One VMA part [s, e) of the range: 0 or -1 (EINVAL). */
static int madvise_vma(ra_machine *m, struct ra_task *t, const struct ra_vma *v, uint64_t s, uint64_t e, int advice)
{
	struct ra_mm *mm = t->mm;
	switch (advice) {
	case RA_MADV_DONTNEED:
		if (v->flags & VM_LOCKED)
			return -1;
		mm_zap_range(m, mm, s, e);
		return 0;
	case RA_MADV_FREE:
		if ((v->flags & VM_LOCKED) || v->file)
			return -1;
		madv_free_range(m, mm, s, e);
		return 0;
	case RA_MADV_COLD:
		if (v->flags & VM_LOCKED)
			return -1;
		cold_or_pageout_range(m, mm, s, e, NULL);
		return 0;
	case RA_MADV_PAGEOUT: {
		if (v->flags & VM_LOCKED)
			return -1;
		struct pfn_list l = { 0 };
		cold_or_pageout_range(m, mm, s, e, &l);
		if (l.n)
			vmscan_reclaim_pages(m, l.pfn, l.n);
		free(l.pfn);
		return 0;
	}
	case RA_MADV_WILLNEED:
		if (!v->file) {
			willneed_anon(m, t, s, e);
			return 0;
		}
		/* vfs_fadvise(POSIX_FADV_WILLNEED) of the file range */
		force_page_cache_ra(m, vma_file(m, v), v->pgoff + ((s - v->start) >> RA_PAGE_SHIFT),
		                    (e - s) >> RA_PAGE_SHIFT);
		return 0;
	default:
		return -1;
	}
}

static int do_madvise(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len_in, int advice)
{
	if (addr & (RA_PAGE_SIZE - 1))
		return -1;
	uint64_t len = PAGE_ALIGN(len_in);
	if ((len_in && !len) || addr + len < addr)
		return -1;
	uint64_t end = addr + len;
	if (end == addr)
		return 0;
	struct ra_mm *mm = t->mm;
	int unmapped = 0;
	for (uint64_t va = addr; va < end && ra_task_alive(t);) {
		uint32_t i = mm_vma_index(mm, va);
		if (i >= mm->nr_vma || mm->vma[i].start >= end)
			return -1;     /* ENOMEM: nothing mapped from here on */
		struct ra_vma v = mm->vma[i];
		if (v.start > va)
			unmapped = -1;
		uint64_t s = RA_MAX(va, v.start), e = RA_MIN(end, v.end);
		if (madvise_vma(m, t, &v, s, e, advice))
			return -1;
		va = e;
	}
	return ra_task_alive(t) ? unmapped : -1;
}

int ra_madvise(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, int advice)
{
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	int r = do_madvise(m, t, addr, len, advice);
	ra_task_put(m, t);
	return r;
}
