/*
 * mm.c — address spaces: VMAs, page tables, demand paging and copy-on-write.
 *
 * Address spaces. A task's mm is a sorted array of VMAs and a four-level
 * page table. The tables' entries live on the host (a radix tree of
 * 512-entry nodes), but every table page below the PGD is also a real
 * order-0 frame taken from the buddy allocator (GFP_KERNEL_ACCOUNT |
 * __GFP_ZERO, owner PO_PGTABLE), so page tables cost memory, can fail and
 * show in PageTables/VmPTE exactly as the kernel counts them; the PGD is a
 * frame too (PageTables, not VmPTE). Each VMA owns a vm_area_struct object,
 * so creating mappings moves Slab the way it does on a real machine.
 *
 * Paging. Nothing is mapped at mmap/brk time. A read of an untouched page
 * maps the shared zero page (a minor fault, no RSS); the first write maps a
 * zeroed page from the buddy allocator with GFP_HIGHUSER_MOVABLE (a minor
 * fault, RSS + 1). fork() copies VMAs and page tables and write-protects
 * every private page in both tasks; a write then copies the page unless its
 * mapcount (ra_page.count) has dropped to 1. VM_LOCKED mappings (mlock,
 * mlockall, MCL_FUTURE) are populated with write faults when writable.
 *
 * A small per-mm TLB caches translations for the accessors umalloc uses;
 * any change to a present PTE flushes it.
 */
#include "mm.h"
#include "san.h"
#include <inttypes.h>
#include <limits.h>

static const uint8_t zero_page[4096];

/* === Page tables ========================================================= */

uint32_t mm_pt_page(ra_machine *m)
{
	return ra_alloc_pages_pfn(m, RA_GFP_KERNEL_ACCOUNT | RA___GFP_ZERO, 0, PO_PGTABLE);
}

void mm_tlb_flush(struct ra_mm *mm)
{ memset(mm->tlb, 0xff, sizeof(mm->tlb)); }

/* The leaf covering va; with alloc, missing levels are allocated (each can
 * fail or even OOM-kill the task: the caller re-checks the task). */
struct pt_leaf *mm_pt_walk(ra_machine *m, struct ra_task *t, struct ra_mm *mm, uint64_t va, bool alloc)
{
	struct pt_node *n = mm->pgd;
	for (int level = 3; level >= 1; level--) {
		unsigned idx = level == 3 ? PGD_IDX(va) : level == 2 ? PUD_IDX(va) : PMD_IDX(va);
		void *next = n->e[idx];
		if (!next) {
			if (!alloc)
				return NULL;
			uint32_t pfn = mm_pt_page(m);
			if (pfn == RA_NOPFN)
				return NULL;
			if (!ra_task_alive(t)) {  /* the allocation OOM-killed the task: mm is gone */
				ra_free_pages_pfn(m, pfn, 0);
				return NULL;
			}
			{
				if (level == 1) {
					struct pt_leaf *l = calloc(1, sizeof(*l));
					RA_BUG_ON(m, !l);
					l->pfn = pfn;
					next = l;
				} else {
					struct pt_node *c = calloc(1, sizeof(*c));
					RA_BUG_ON(m, !c);
					c->pfn = pfn;
					next = c;
				}
				n->e[idx] = next;
				n->used++;
				mm->nr_pt++;
			}
			next = n->e[idx];
		}
		if (level == 1)
			return next;
		n = next;
	}
	return NULL;
}

uint64_t *mm_pte_lookup(struct ra_mm *mm, uint64_t va)
{
	struct pt_node *n = mm->pgd;
	if (!n) return NULL;
	n = n->e[PGD_IDX(va)];
	if (!n) return NULL;
	n = n->e[PUD_IDX(va)];
	if (!n) return NULL;
	struct pt_leaf *l = n->e[PMD_IDX(va)];
	return l ? &l->pte[PTE_IDX(va)] : NULL;
}

uint32_t ra_user_pfn(const struct ra_task *t, uint64_t va)
{
	uint64_t *pte = t->mm ? mm_pte_lookup(t->mm, va) : NULL;
	if (!pte || !(*pte & PTE_PRESENT) || (*pte & PTE_ZERO))
		return RA_NOPFN;
	return (uint32_t)PTE_PFN(*pte);
}

/* The swap state's count of anonymous pages no pte maps. */
static void unmapped_mod(ra_machine *m, int64_t d)
{
	RA_BUG_ON(m, !m->swp);
	m->swp->unmapped_cache += (uint64_t)d;
}

/* An anonymous page goes: off its list and the swap cache, freed. */
void mm_free_anon_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (p->flags & PGF_MLOCKED)
		mod_zone_page_state(pfn_zone(m, pfn), NR_MLOCK, -1);
	if (p->flags & PGF_SWAPCACHE)
		delete_from_swap_cache(m, pfn);
	if (p->flags & PGF_LRU)
		lru_del(m, pfn);
	p->flags = 0;
	ra_free_pages_pfn(m, pfn, 0);
}

/* A pte of mm let go of the page: the last one frees it, unless the swap
 * cache keeps it for a slot that another pte still holds. */
static void put_user_page(ra_machine *m, uint32_t pfn, struct ra_mm *mm)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, p->owner != PO_USER || !p->count);
	rmap_del(m, pfn, mm);
	if (--p->count)
		return;
	if ((p->flags & PGF_SWAPCACHE) && swap_count(m, page_swp_entry(p))) {
		mod_node_page_state(m, NR_ANON_PAGES, -1);
		unmapped_mod(m, 1);
		return;
	}
	mm_free_anon_page(m, pfn);
}

void mm_page_unmapped(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, !p->count);
	if (--p->count)
		return;
	mod_node_page_state(m, NR_ANON_PAGES, -1);
	unmapped_mod(m, 1);
}

void mm_page_mapped(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (p->count++)
		return;
	mod_node_page_state(m, NR_ANON_PAGES, 1);
	unmapped_mod(m, -1);
}

void mm_free_unmapped_anon(ra_machine *m, uint32_t pfn)
{
	RA_BUG_ON(m, pfn_page(m, pfn)->count);
	mod_node_page_state(m, NR_ANON_PAGES, 1);     /* the free takes it off again */
	unmapped_mod(m, -1);
	mm_free_anon_page(m, pfn);
}

/* Free the tables below node n (level: 3 PGD's children are PUDs ...). */
void mm_pt_free_tree(ra_machine *m, struct ra_mm *mm, void *node, int level)
{
	if (level == 0) {
		struct pt_leaf *l = node;
		for (unsigned i = 0; i < PTRS; i++) {
			uint64_t e = l->pte[i];
			if ((e & PTE_PRESENT) && !(e & PTE_ZERO)) {
				if (mm_pfn_is_file(m, PTE_PFN(e))) {
					mm_file_pte_zap(m, mm, e);
					continue;
				}
				put_user_page(m, PTE_PFN(e), mm);
				mm->rss--;
			} else if (e & PTE_SWAP) {
				free_swap_and_cache(m, pte_swp(e));
				mm->swapents--;
			}
		}
		ra_free_pages_pfn(m, l->pfn, 0);
		free(l);
		mm->nr_pt--;
		return;
	}
	struct pt_node *n = node;
	for (unsigned i = 0; i < PTRS; i++)
		if (n->e[i])
			mm_pt_free_tree(m, mm, n->e[i], level - 1);
	ra_free_pages_pfn(m, n->pfn, 0);
	free(n);
	if (level < 3)
		mm->nr_pt--;
}

/* === VMAs ================================================================ */

uint32_t mm_vma_index(struct ra_mm *mm, uint64_t addr)
{
	/* first vma with end > addr */
	uint32_t lo = 0, hi = mm->nr_vma;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (mm->vma[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct ra_vma *mm_find_vma(struct ra_mm *mm, uint64_t addr)
{
	uint32_t i = mm_vma_index(mm, addr);
	if (i < mm->nr_vma && mm->vma[i].start <= addr)
		return &mm->vma[i];
	return NULL;
}

bool mm_is_data(uint32_t f)
{ return (f & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE; }

/* vm_stat_account() and friends, for npages entering (+) or leaving (-). */
void mm_vma_account(struct ra_mm *mm, uint32_t flags, int64_t npages)
{
	mm->total_vm += (uint64_t)npages;
	if (mm_is_data(flags))
		mm->data_vm += (uint64_t)npages;
	if (flags & VM_GROWSDOWN)
		mm->stack_vm += (uint64_t)npages;
	if (flags & VM_LOCKED)
		mm->locked_vm += (uint64_t)npages;
	if (mm->total_vm > mm->hiwater_vm)
		mm->hiwater_vm = mm->total_vm;
}

void mm_unaccount_commit(ra_machine *m, struct ra_mm *mm, uint64_t pages)
{
	mm->committed -= pages;
	m->mmw->committed_as -= pages;
}

/* __vm_enough_memory(): charge pages to Committed_AS or refuse. */
bool mm_vm_enough_memory(ra_machine *m, struct ra_task *t, uint64_t pages)
{
	struct ra_mm_world *w = m->mmw;
	uint64_t no_world = 0, *committed_as = w ? &w->committed_as : &no_world;
	uint64_t swap_pages = m->swp ? m->swp->total_swap_pages : 0;
	*committed_as += pages;
	int64_t mode = KNOB(m, VM_OVERCOMMIT_MEMORY);
	if (mode == 1)
		goto ok;
	if (mode == 0) {
		if (pages > m->totalram + swap_pages)
			goto refuse;
		goto ok;
	}
	{
		int64_t kbytes = KNOB(m, VM_OVERCOMMIT_KBYTES);
		int64_t allowed = kbytes ? kbytes >> (RA_PAGE_SHIFT - 10)
		                         : (int64_t)(m->totalram * (uint64_t)KNOB(m, VM_OVERCOMMIT_RATIO) / 100);
		allowed += (int64_t)swap_pages;
		allowed -= KNOB(m, VM_ADMIN_RESERVE_KBYTES) >> (RA_PAGE_SHIFT - 10);
		if (t && t->mm)
			allowed -= RA_MIN((int64_t)(t->mm->total_vm / 32), KNOB(m, VM_USER_RESERVE_KBYTES) >> (RA_PAGE_SHIFT - 10));
		if ((int64_t)*committed_as < allowed)
			goto ok;
	}
refuse:
	*committed_as -= pages;
	ra_log(m, "__vm_enough_memory: pid: %u, comm: %s, not enough memory for the allocation",
	       t ? t->pid : 0, t ? t->comm : "?");
	return false;
ok:
	if (t && t->mm)
		t->mm->committed += pages;
	return true;
}

/* Open n free slots at index i of the vma array. */
void mm_vma_slot(ra_machine *m, struct ra_mm *mm, uint32_t i, uint32_t n)
{
	if (mm->nr_vma + n > mm->cap_vma) {
		uint32_t cap = RA_MAX(mm->cap_vma * 2, mm->nr_vma + n + 8);
		struct ra_vma *nv = realloc(mm->vma, cap * sizeof(*nv));
		RA_BUG_ON(m, !nv);
		mm->vma = nv;
		mm->cap_vma = cap;
	}
	memmove(&mm->vma[i + n], &mm->vma[i], (mm->nr_vma - i) * sizeof(*mm->vma));
	mm->nr_vma += n;
}


/* Drop slot i, freeing its vm_area_struct. */
static void vma_remove(ra_machine *m, struct ra_mm *mm, uint32_t i)
{
	uint32_t file = mm->vma[i].file;
	mm_vma_obj_free(m, mm->vma[i].obj);
	memmove(&mm->vma[i], &mm->vma[i + 1], (mm->nr_vma - i - 1) * sizeof(*mm->vma));
	mm->nr_vma--;
	if (file)
		mm_vma_file_ref(m, file, -1);
}

/* is_mergeable_vma(): the same flags and, for a file, the same file with
 * the pages following on. */
bool mm_vma_mergeable(const struct ra_vma *a, const struct ra_vma *b)
{
	return a->end == b->start && a->flags == b->flags && a->file == b->file &&
	       (!a->file || a->pgoff + ((a->end - a->start) >> RA_PAGE_SHIFT) == b->pgoff);
}

/* After flags changed (mprotect_fixup(), mlock_fixup()): merge neighbours
 * that have become alike, as vma_merge() does. */
void mm_vma_merge_all(ra_machine *m, struct ra_mm *mm)
{
	for (uint32_t k = 0; k + 1 < mm->nr_vma;) {
		if (mm_vma_mergeable(&mm->vma[k], &mm->vma[k + 1])) {
			mm->vma[k].end = mm->vma[k + 1].end;
			vma_remove(m, mm, k + 1);
		} else
			k++;
	}
}

void mm_vma_obj_free(ra_machine *m, ra_addr_t obj)
{
	if (obj)
		ra_kmem_cache_free_internal(m, m->mmw->vma_cache, obj);
}

/* Insert [start, end) with flags; merges with neighbours like vma_merge().
 * The caller has checked that the range is free. false when the
 * vm_area_struct cannot be allocated. */
bool mm_vma_insert(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end, uint32_t flags)
{
	return mm_vma_insert_file(m, mm, start, end, flags, 0, 0);
}

bool mm_vma_insert_file(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
                        uint32_t file, uint64_t pgoff)
{
	uint32_t i = mm_vma_index(mm, start);
	struct ra_vma v = { start, end, flags, 0, file, pgoff };
	bool merge_prev = i > 0 && mm_vma_mergeable(&mm->vma[i - 1], &v);
	bool merge_next = i < mm->nr_vma && mm_vma_mergeable(&v, &mm->vma[i]);
	if (merge_prev && merge_next) {
		mm->vma[i - 1].end = mm->vma[i].end;
		vma_remove(m, mm, i);
	} else if (merge_prev) {
		mm->vma[i - 1].end = end;
	} else if (merge_next) {
		mm->vma[i].start = start;
		mm->vma[i].pgoff = pgoff;
	} else {
		v.obj = ra_kmem_cache_alloc_internal(m, m->mmw->vma_cache, RA_GFP_KERNEL);
		if (!v.obj)
			return false;
		mm_vma_slot(m, mm, i, 1);
		mm->vma[i] = v;
		if (file)
			mm_vma_file_ref(m, file, 1);
	}
	mm_vma_account(mm, flags, (int64_t)((end - start) >> RA_PAGE_SHIFT));
	return true;
}

/* Zap the PTEs of [start, end) (pages freed, tables kept). */
void mm_zap_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end;) {
		uint64_t *pte = mm_pte_lookup(mm, va);
		if (!pte) {
			va = (va | ((1ULL << 21) - 1)) + 1;   /* no leaf: skip its 2 MiB */
			continue;
		}
		struct pt_leaf *l = (struct pt_leaf *)((char *)(pte - PTE_IDX(va)) - offsetof(struct pt_leaf, pte));
		uint64_t lend = RA_MIN(end, (va | ((1ULL << 21) - 1)) + 1);
		for (; va < lend; va += RA_PAGE_SIZE) {
			uint64_t e = l->pte[PTE_IDX(va)];
			if (e & PTE_SWAP) {
				free_swap_and_cache(m, pte_swp(e));
				mm->swapents--;
			} else if (!(e & PTE_PRESENT)) {
				continue;
			} else if (!(e & PTE_ZERO)) {
				if (mm_pfn_is_file(m, PTE_PFN(e))) {
					mm_file_pte_zap(m, mm, e);
				} else {
					put_user_page(m, PTE_PFN(e), mm);
					mm->rss--;
				}
			}
			l->pte[PTE_IDX(va)] = 0;
			l->used--;
		}
	}
	mm_tlb_flush(mm);
}

static bool range_has_vma(struct ra_mm *mm, uint64_t start, uint64_t end)
{
	uint32_t i = mm_vma_index(mm, start);
	return i < mm->nr_vma && mm->vma[i].start < end;
}

/* free_pgtables(): free table pages whose whole range no VMA touches. */
static void free_pgtables(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end)
{
	struct pt_node *pgd = mm->pgd;
	for (uint64_t va = start & ~((1ULL << 21) - 1); va < end; va += 1ULL << 21) {
		struct pt_node *pud = pgd->e[PGD_IDX(va)];
		if (!pud) continue;
		struct pt_node *pmd = pud->e[PUD_IDX(va)];
		if (!pmd) continue;
		struct pt_leaf *l = pmd->e[PMD_IDX(va)];
		if (l && !l->used && !range_has_vma(mm, va, va + (1ULL << 21))) {
			ra_free_pages_pfn(m, l->pfn, 0);
			free(l);
			pmd->e[PMD_IDX(va)] = NULL;
			pmd->used--;
			mm->nr_pt--;
		}
		if (!pmd->used && !range_has_vma(mm, va & ~((1ULL << 30) - 1), (va & ~((1ULL << 30) - 1)) + (1ULL << 30))) {
			ra_free_pages_pfn(m, pmd->pfn, 0);
			free(pmd);
			pud->e[PUD_IDX(va)] = NULL;
			pud->used--;
			mm->nr_pt--;
		}
		uint64_t pud_base = va & ~((1ULL << 39) - 1);
		if (!pud->used && !range_has_vma(mm, pud_base, pud_base + (1ULL << 39))) {
			ra_free_pages_pfn(m, pud->pfn, 0);
			free(pud);
			pgd->e[PGD_IDX(va)] = NULL;
			pgd->used--;
			mm->nr_pt--;
		}
	}
}

/* Trace mappings leave the record when any part of them is unmapped. */
static void tmap_unmap(struct ra_mm *mm, uint64_t start, uint64_t end)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < mm->nr_tmaps; i++) {
		struct ra_tmap *t = &mm->tmaps[i];
		if (t->start < end && start < t->start + t->len)
			continue;
		mm->tmaps[k++] = *t;
	}
	mm->nr_tmaps = k;
}

void mm_tmap_add(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t len)
{
	if (mm->nr_tmaps == mm->cap_tmaps) {
		mm->cap_tmaps = mm->cap_tmaps ? mm->cap_tmaps * 2 : 8;
		mm->tmaps = realloc(mm->tmaps, mm->cap_tmaps * sizeof(*mm->tmaps));
		RA_BUG_ON(m, !mm->tmaps);
	}
	mm->tmaps[mm->nr_tmaps++] = (struct ra_tmap){ start, len, ra_site32(m) };
}

/* Remove [start, end) from the VMAs, splitting at the edges. -1 when a
 * split needs a vm_area_struct that cannot be allocated (nothing done). */
int mm_unmap_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end)
{
	tmap_unmap(mm, start, end);
	/* a split in the middle of one vma needs one more object: get it first */
	uint32_t i = mm_vma_index(mm, start);
	if (i < mm->nr_vma && mm->vma[i].start < start && mm->vma[i].end > end) {
		struct ra_vma v = mm->vma[i];
		ra_addr_t obj = ra_kmem_cache_alloc_internal(m, m->mmw->vma_cache, RA_GFP_KERNEL);
		if (!obj)
			return -1;
		mm_vma_slot(m, mm, i + 1, 1);
		mm->vma[i].end = start;
		mm->vma[i + 1] = v;
		mm->vma[i + 1].start = end;
		mm->vma[i + 1].obj = obj;
		if (v.file) {
			mm->vma[i + 1].pgoff += (end - v.start) >> RA_PAGE_SHIFT;
			mm_vma_file_ref(m, v.file, 1);
		}
		uint64_t pages = (end - start) >> RA_PAGE_SHIFT;
		mm_vma_account(mm, v.flags, -(int64_t)pages);
		if (v.flags & VM_ACCOUNT)
			mm_unaccount_commit(m, mm, pages);
		mm_zap_range(m, mm, start, end);
		free_pgtables(m, mm, start, end);
		return 0;
	}
	while (i < mm->nr_vma && mm->vma[i].start < end) {
		struct ra_vma *v = &mm->vma[i];
		uint64_t s = RA_MAX(v->start, start), e = RA_MIN(v->end, end);
		uint64_t pages = (e - s) >> RA_PAGE_SHIFT;
		mm_vma_account(mm, v->flags, -(int64_t)pages);
		if (v->flags & VM_ACCOUNT)
			mm_unaccount_commit(m, mm, pages);
		mm_zap_range(m, mm, s, e);
		if (s == v->start && e == v->end) {
			vma_remove(m, mm, i);
			continue;
		}
		if (s == v->start) {
			if (v->file)
				v->pgoff += (e - v->start) >> RA_PAGE_SHIFT;
			v->start = e;
		} else
			v->end = s;
		i++;
	}
	free_pgtables(m, mm, start, end);
	return 0;
}

/* === Faults ============================================================== */

void mm_mlock_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_MLOCKED)) {
		p->flags |= PGF_MLOCKED;
		mod_zone_page_state(pfn_zone(m, pfn), NR_MLOCK, 1);
		/* mlock_folio(): a page on an evictable list moves to the
		 * unevictable one */
		if ((p->flags & PGF_LRU) && !(p->flags & PGF_UNEVICTABLE)) {
			lru_del(m, pfn);
			lru_add(m, pfn, LRU_UNEVICTABLE);
		}
	}
}

/* A new zeroed user page, or RA_NOPFN (the OOM killer may have run). */
uint32_t mm_alloc_user_page(ra_machine *m)
{
	if (ra_should_fail(m, FAIL_FAULT, RA_GFP_HIGHUSER_MOVABLE))
		return RA_NOPFN;
	uint32_t pfn = ra_alloc_pages_pfn(m, RA_GFP_HIGHUSER_MOVABLE | RA___GFP_ZERO, 0, PO_USER);
	if (pfn != RA_NOPFN) {
		/* lru_cache_add_inactive_or_unevictable(): a new anonymous page
		 * goes on the inactive anon list (a locked vma's moves on to the
		 * unevictable list when mm_mlock_page marks it) */
		struct ra_page *p = pfn_page(m, pfn);
		p->count = 1;
		p->flags |= PGF_SWAPBACKED | PGF_ANON_EXCLUSIVE;    /* page_add_new_anon_rmap() */
		lru_add(m, pfn, LRU_INACTIVE_ANON);
	}
	return pfn;
}

uint32_t mm_alloc_anon_page(ra_machine *m, ra_gfp_t gfp)
{
	uint32_t pfn = ra_alloc_pages_pfn(m, gfp, 0, PO_USER);
	if (pfn != RA_NOPFN) {
		pfn_page(m, pfn)->flags |= PGF_SWAPBACKED;
		lru_add(m, pfn, LRU_INACTIVE_ANON);
		mod_node_page_state(m, NR_ANON_PAGES, -1);   /* mapped by no pte yet */
		unmapped_mod(m, 1);
	}
	return pfn;
}

void mm_rss_inc(struct ra_mm *mm)
{
	if (++mm->rss + mm->rss_file > mm->hiwater_rss)
		mm->hiwater_rss = mm->rss + mm->rss_file;
}

static int segv(ra_machine *m, struct ra_task *t, uint64_t va, bool write, const char *why)
{
	return ra_report(m, RC_USER_FAULT, t->comm, "%s[%u]: segfault at %" PRIx64 " error %d: %s", t->comm, t->pid,
	                 va, write ? 6 : 4, why), -1;
}

/* handle_mm_fault() for one page. 0 served, -1 segfault (reported),
 * -2 not served (no memory, injected, or the task died meanwhile). */
int mm_handle_fault(ra_machine *m, struct ra_task *t, uint64_t va, bool write)
{
	struct ra_mm *mm = t->mm;
	struct ra_vma *v = mm_find_vma(mm, va);
	if (!v)
		return segv(m, t, va, write, "no mapping");
	if (write ? !(v->flags & VM_WRITE) : !(v->flags & VM_READ))
		return segv(m, t, va, write, write ? "mapping not writable" : "mapping not readable");
	count_vm_event(m, PGFAULT);      /* handle_mm_fault(): every fault that reaches a VMA */
	if (v->file) {
		int r = mm_file_fault(m, t, v, va, write);   /* memory.c */
		if (r <= 0)
			return r;
	}
	bool locked = v->flags & VM_LOCKED;
	struct pt_leaf *l = mm_pt_walk(m, t, mm, va, true);
	if (!ra_task_alive(t))
		return -2;
	if (!l)
		return -2;
	uint64_t *pte = &l->pte[PTE_IDX(va)];
	uint64_t e = *pte;
	if (e & PTE_SWAP)
		return do_swap_page(m, t, v, va, pte, write);
	if (!(e & PTE_PRESENT)) {
		if (!write) {
			*pte = PTE_PRESENT | PTE_ZERO | PTE_YOUNG;
			l->used++;
			t->min_flt++;
			return 0;
		}
		uint32_t pfn = mm_alloc_user_page(m);
		if (!ra_task_alive(t)) {
			if (pfn != RA_NOPFN)
				mm_free_anon_page(m, pfn);
			return -2;
		}
		if (pfn == RA_NOPFN)
			return -2;
		*pte = ((uint64_t)pfn << 12) | PTE_PRESENT | PTE_WRITE | PTE_YOUNG | PTE_DIRTY;
		rmap_add(m, pfn, mm, va);
		l->used++;
		mm_rss_inc(mm);
		if (locked)
			mm_mlock_page(m, pfn);
		t->min_flt++;
		return 0;
	}
	if (!write || (e & PTE_WRITE))
		return 0;
	/* write to the zero page or to a write-protected (COW) page */
	if (!(e & PTE_ZERO)) {
		uint32_t old = PTE_PFN(e);
		if (pfn_page(m, old)->count == 1 && wp_can_reuse_anon(m, old)) {      /* wp_page_reuse() */
			pfn_page(m, old)->flags |= PGF_ANON_EXCLUSIVE;
			*pte |= PTE_WRITE | PTE_YOUNG | PTE_DIRTY;
			t->min_flt++;
			mm_tlb_flush(mm);
			return 0;
		}
	}
	uint32_t pfn = mm_alloc_user_page(m);
	if (!ra_task_alive(t)) {
		if (pfn != RA_NOPFN)
			mm_free_anon_page(m, pfn);
		return -2;
	}
	if (pfn == RA_NOPFN)
		return -2;
	/* re-read: the allocation may have run the OOM killer, or reclaim
	 * may have swapped the old page out: then the fault starts again */
	if ((*pte ^ e) & ~(PTE_YOUNG | PTE_DIRTY)) {
		mm_free_anon_page(m, pfn);
		return 0;
	}
	e = *pte;
	if (!(e & PTE_ZERO)) {
		uint32_t old = PTE_PFN(e);
		ra_raw_copy(pfn_host(m, pfn), pfn_host(m, old), RA_PAGE_SIZE);
		put_user_page(m, old, mm);
	} else {
		mm_rss_inc(mm);
	}
	*pte = ((uint64_t)pfn << 12) | PTE_PRESENT | PTE_WRITE | PTE_YOUNG | PTE_DIRTY;
	rmap_add(m, pfn, mm, va);
	if (locked)
		mm_mlock_page(m, pfn);
	t->min_flt++;
	mm_tlb_flush(mm);
	return 0;
}

/* A fault that cannot be served (no memory even after the OOM killer ran,
 * or an injected failure) ends the task, as VM_FAULT_SIGBUS/OOM would:
 * the program cannot go on past the faulting access. */
static void fault_kill(ra_machine *m, struct ra_task *t, uint64_t va)
{
	if (!ra_task_alive(t))
		return;
	ra_log(m, "%s[%u]: page fault at 0x%" PRIx64 " could not be served: killed by SIGBUS", t->comm, t->pid, va);
	ra_task_kill(m, t);
}

/* malloc's own access segfaulted (see um_xlate): SIGSEGV ends the task.
 * Only within a call (the task pinned): the validators' and the oracle's
 * reads of malloc's memory are no access by the program. */
static void malloc_segv(ra_machine *m, struct ra_task *t, uint64_t va)
{
	if (!t->busy || !ra_task_alive(t))
		return;
	ra_log(m, "%s[%u]: malloc's access to 0x%" PRIx64 " faulted: killed by SIGSEGV", t->comm, t->pid, va);
	ra_task_kill(m, t);
}

/* Host bytes of user address va for an access; faults as needed. NULL with
 * *err -1 (segfault reported; by_malloc: the task is then dead) or -2 (not
 * served: the task is then dead). */
uint8_t *mm_translate(ra_machine *m, struct ra_task *t, uint64_t va, bool write, int *err, bool by_malloc)
{
	struct ra_mm *mm = t->mm;
	uint64_t vpn = va >> RA_PAGE_SHIFT;
	struct ra_tlb *tl = &mm->tlb[vpn & (RA_TLB_SIZE - 1)];
	if (tl->vpn == vpn && (!write || tl->writable))
		return tl->host + (va & (RA_PAGE_SIZE - 1));
	if (by_malloc && !t->busy && !write) {
		/* a validator reads malloc's memory: no access by the program,
		 * so no accessed bit, no TLB fill and no swap-in (a swapped page
		 * is read from its swap cache page or its slot) */
		uint64_t *pte = mm_pte_lookup(mm, va);
		uint64_t e = pte ? *pte : 0;
		if (e & PTE_PRESENT)
			return ((e & PTE_ZERO) ? (uint8_t *)zero_page : pfn_host(m, PTE_PFN(e))) + (va & (RA_PAGE_SIZE - 1));
		if (e & PTE_SWAP)
			return swap_peek_page(m, pte_swp(e)) + (va & (RA_PAGE_SIZE - 1));
	}
	for (int tries = 0; tries < 3; tries++) {
		uint64_t *pte = mm_pte_lookup(mm, va);
		uint64_t e = pte ? *pte : 0;
		if ((e & PTE_PRESENT) && (!write || (e & PTE_WRITE))) {
			/* the hardware's accessed and dirty bits: set by the walk;
			 * a TLB entry allows writes only once the pte is dirty, so
			 * the first write through a read-filled entry walks again */
			*pte = e |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
			tl->vpn = vpn;
			tl->writable = (e & PTE_WRITE) && (e & PTE_DIRTY);
			tl->host = (e & PTE_ZERO) ? (uint8_t *)zero_page : pfn_host(m, PTE_PFN(e));
			return tl->host + (va & (RA_PAGE_SIZE - 1));
		}
		int r = mm_handle_fault(m, t, va, write);
		if (r) {
			if (r == -2)
				fault_kill(m, t, va);
			else if (by_malloc)
				malloc_segv(m, t, va);
			*err = r;
			return NULL;
		}
		if (!ra_task_alive(t)) {
			*err = -2;
			return NULL;
		}
	}
	*err = -2;
	return NULL;
}

int mm_do_uaccess(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool write, void *buf)
{
	if (!ra_task_alive(t))
		return -2;
	uint8_t *b = buf;
	while (len) {
		size_t chunk = (size_t)RA_MIN(len, RA_PAGE_SIZE - (addr & (RA_PAGE_SIZE - 1)));
		int err = 0;
		uint8_t *h = mm_translate(m, t, addr, write, &err, false);
		if (!h)
			return err;
		/* Instrumented on purpose: ASan and Valgrind see the trace's access
		 * (unless fuzzing: then the sanitizers watch the engine only). */
		if (m->raw_trace_access) {
			/* Valgrind is one of those sanitizers: quiet meanwhile */
			if (unlikely(m->valgrind))
				RA_VG_QUIET_BEGIN();
			if (write && b)
				ra_raw_copy(h, b, chunk);
			else if (!write && b)
				ra_raw_copy(b, h, chunk);
			if (unlikely(m->valgrind))
				RA_VG_QUIET_END();
		} else if (b) {
			if (write)
				memcpy(h, b, chunk);
			else
				memcpy(b, h, chunk);
		} else {
#if defined(RA_ASAN) || defined(__SANITIZE_ADDRESS__)
			/* touch/read: each byte accessed for real, so ASan checks it
			 * (a plain self-copy is optimised away) */
			volatile uint8_t *v = h;
			for (size_t o = 0; o < chunk; o++) {
				uint8_t x = v[o];
				if (write)
					v[o] = x;
			}
#endif
			/* elsewhere the page faults above are the whole effect */
		}
		if (b)
			b += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

void ra_user_poison(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool poison)
{
#if defined(RA_ASAN) || defined(__SANITIZE_ADDRESS__)
	if (!ra_task_alive(t) || len > (1ULL << 40))
		return;
	for (uint64_t va = addr; va < addr + len;) {
		uint64_t chunk = RA_MIN(addr + len - va, RA_PAGE_SIZE - (va & (RA_PAGE_SIZE - 1)));
		uint64_t *pte = mm_pte_lookup(t->mm, va);
		if (pte && (*pte & PTE_PRESENT) && !(*pte & PTE_ZERO)) {
			uint8_t *h = pfn_host(m, PTE_PFN(*pte)) + (va & (RA_PAGE_SIZE - 1));
			if (poison)
				ra_san_poison(h, chunk);
			else
				ra_san_unpoison(h, chunk);
		}
		va += chunk;
	}
#else
	(void)m; (void)t; (void)addr; (void)len; (void)poison;
#endif
}

/* populate_vma_page_range(): write faults for private writable, else reads.
 * Holes and PROT_NONE mappings are stepped over whole (a locked PROT_NONE
 * reservation may span terabytes). */
void mm_populate(ra_machine *m, struct ra_task *t, uint64_t start, uint64_t end)
{
	struct ra_mm *mm = t->mm;
	for (uint64_t va = start; va < end && ra_task_alive(t);) {
		uint32_t i = mm_vma_index(mm, va);
		if (i >= mm->nr_vma || mm->vma[i].start >= end)
			return;
		struct ra_vma *v = &mm->vma[i];
		if (va < v->start)
			va = v->start;
		if (!(v->flags & (VM_READ | VM_WRITE))) {
			va = v->end;
			continue;
		}
		bool write = (v->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
		/* follow_page_mask(): a page already mapped as needed takes no
		 * fault (fault-around maps ahead of a file VMA's populate) */
		uint64_t *pte = v->file ? mm_pte_lookup(mm, va) : NULL;
		if (pte && (*pte & PTE_PRESENT) && (!write || (*pte & PTE_WRITE))) {
			va += RA_PAGE_SIZE;
			continue;
		}
		if (mm_handle_fault(m, t, va, write) == -2)
			return;
		va += RA_PAGE_SIZE;
	}
}

