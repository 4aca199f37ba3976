/*
 * rmap_file.c — the reverse map of page-cache pages: from a page to the
 * ptes that map it, as the kernel's mm/rmap.c walks a file's i_mmap tree
 * (rmap_walk_file): every VMA of every task that maps the page's file at
 * the page's index. The model keeps no interval tree: it walks the tasks
 * in creation order and each task's VMAs in address order, which is also
 * the deterministic order of the walk.
 *
 * Users: reclaim (folio_referenced_file, try_to_unmap_file), writeback
 * (folio_mkclean, through the filemap layer's registered call) and
 * truncation (unmap_mapping_range, likewise).
 */
#include "mm.h"

/* Call fn for every present pte that maps page-cache page pfn. */
static void rmap_walk_file(ra_machine *m, uint32_t pfn,
                           void (*fn)(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v, uint64_t va, uint64_t *pte,
                                     void *arg),
                           void *arg)
{
	struct ra_mm_world *w = m->mmw;
	struct ra_page *p = pfn_page(m, pfn);
	uint32_t file = p->priv + 1;
	uint64_t index = p->count;
	for (uint32_t ti = 0; w && ti < w->nr_tasks; ti++) {
		struct ra_mm *mm = w->tasks[ti]->mm;
		if (!mm || !mm->pgd)
			continue;
		for (uint32_t i = 0; i < mm->nr_vma; i++) {
			const struct ra_vma *v = &mm->vma[i];
			if (v->file != file || index < v->pgoff || index - v->pgoff >= (v->end - v->start) >> RA_PAGE_SHIFT)
				continue;
			uint64_t va = v->start + ((index - v->pgoff) << RA_PAGE_SHIFT);
			uint64_t *pte = mm_pte_lookup(mm, va);
			if (pte && (*pte & PTE_PRESENT) && !(*pte & PTE_ZERO) && PTE_PFN(*pte) == pfn)
				fn(m, mm, v, va, pte, arg);
		}
	}
}

/* folio_referenced_one() */
static void referenced_one(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v, uint64_t va, uint64_t *pte, void *arg)
{
	(void)m;
	(void)va;
	struct rmap_refs *r = arg;
	r->mapcount++;
	if (!(*pte & PTE_YOUNG))
		return;
	*pte &= ~PTE_YOUNG;          /* ptep_clear_flush_young_notify() */
	mm_tlb_flush(mm);
	r->refs++;
	r->vm_flags |= v->flags;
}

void folio_referenced_file(ra_machine *m, uint32_t pfn, struct rmap_refs *r)
{
	memset(r, 0, sizeof(*r));
	if (!page_mapcount(m, pfn))
		return;
	rmap_walk_file(m, pfn, referenced_one, r);
}

/* try_to_unmap_one() */
static void unmap_one(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v, uint64_t va, uint64_t *pte, void *arg)
{
	(void)v;
	uint64_t e = *pte;
	struct pt_leaf *l = mm_pt_walk(m, NULL, mm, va, false);
	*pte = 0;
	l->used--;
	mm_tlb_flush(mm);
	/* the dirty bit moves to the page; the access bit is dropped (reclaim
	 * decided already) */
	mm_file_pte_zap(m, mm, e & ~PTE_YOUNG);
	(*(uint32_t *)arg)++;
}

uint32_t try_to_unmap_file(ra_machine *m, uint32_t pfn)
{
	uint32_t n = 0;
	if (page_mapcount(m, pfn))
		rmap_walk_file(m, pfn, unmap_one, &n);
	return n;
}

/* page_mkclean_one() */
static void mkclean_one(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v, uint64_t va, uint64_t *pte, void *arg)
{
	(void)v;
	(void)va;
	(void)arg;
	if (*pte & PTE_DIRTY)
		filemap_dirty_page(m, PTE_PFN(*pte));
	if (*pte & (PTE_WRITE | PTE_DIRTY)) {
		*pte &= ~(PTE_WRITE | PTE_DIRTY);
		mm_tlb_flush(mm);
	}
}

static void rmap_mkclean(ra_machine *m, uint32_t pfn)
{
	rmap_walk_file(m, pfn, mkclean_one, NULL);
}

/* unmap_mapping_range(mapping, from, 0, even_cows = 1) */
static void rmap_unmap_range(ra_machine *m, struct ra_file *f, uint64_t from)
{
	struct ra_mm_world *w = m->mmw;
	for (uint32_t ti = 0; w && ti < w->nr_tasks; ti++) {
		struct ra_mm *mm = w->tasks[ti]->mm;
		if (!mm || !mm->pgd)
			continue;
		for (uint32_t i = 0; i < mm->nr_vma; i++) {
			const struct ra_vma *v = &mm->vma[i];
			uint64_t pages = (v->end - v->start) >> RA_PAGE_SHIFT;
			if (v->file != f->id + 1 || v->pgoff + pages <= from)
				continue;
			uint64_t s = from > v->pgoff ? v->start + ((from - v->pgoff) << RA_PAGE_SHIFT) : v->start;
			mm_zap_range(m, mm, s, v->end);
		}
	}
}

static const struct filemap_rmap_ops file_rmap_ops = {
	.mkclean = rmap_mkclean,
	.unmap_range = rmap_unmap_range,
};

void mm_file_rmap_register(ra_machine *m)
{
	m->fm->rmap = &file_rmap_ops;
}
