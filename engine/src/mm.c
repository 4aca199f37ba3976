/*
 * mm.c — tasks, address spaces, demand paging, overcommit, the OOM killer.
 *
 * Address spaces. A task's mm is a sorted array of VMAs and a four-level
 * page table. The tables' entries live on the host (a radix tree of
 * 512-entry nodes), but every table page below the PGD is also a real
 * order-0 frame taken from the buddy allocator (GFP_KERNEL_ACCOUNT |
 * __GFP_ZERO, owner PO_PGTABLE), so page tables cost memory, can fail and
 * show in PageTables/VmPTE exactly as the kernel counts them; the PGD is a
 * frame too (PageTables, not VmPTE). Each VMA owns a vm_area_struct object
 * and each task a task_struct, an mm_struct and a 16 KiB vmalloc'd kernel
 * stack per thread, so creating tasks and mappings moves Slab, KernelStack
 * and vmallocinfo the way it does on a real machine.
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
 *
 * Overcommit is __vm_enough_memory(): private writable mappings and brk are
 * charged to Committed_AS. When a page allocation for a fault or for the
 * kernel fails after reclaim, the page allocator calls ra_oom_hook(), which
 * is out_of_memory(): panic_on_oom, oom_kill_allocating_task, then the task
 * with the highest oom_badness() (the later one on a tie), whose memory is
 * freed at once (the OOM reaper's work, done synchronously). Tasks run as
 * UID 0 without RLIMIT_MEMLOCK; overcommit mode 2 still keeps the admin
 * reserve from them, as SPEC.md's formula does. A machine on which no task
 * was ever created has no user space: its failed allocations simply fail.
 */
#include "mm.h"
#include "san.h"
#include "umalloc.h"
#include <inttypes.h>
#include <limits.h>

struct pt_node { uint32_t pfn; uint32_t used; void *e[512]; };
struct pt_leaf { uint32_t pfn; uint32_t used; uint64_t pte[512]; };

static const uint8_t zero_page[4096];

#define PTRS 512
#define PGD_IDX(a) (((a) >> 39) & 511)
#define PUD_IDX(a) (((a) >> 30) & 511)
#define PMD_IDX(a) (((a) >> 21) & 511)
#define PTE_IDX(a) (((a) >> 12) & 511)
#define K(pages) ((uint64_t)(pages) << (RA_PAGE_SHIFT - 10))
#define PAGE_ALIGN(x) RA_ALIGN((uint64_t)(x), RA_PAGE_SIZE)

/* === The world ========================================================= */

struct ra_mm_world *ra_mm_world(ra_machine *m) { return m->mmw; }
bool ra_panicked(ra_machine *m) { return m->mmw && m->mmw->panicked; }

static struct ra_mm_world *world(ra_machine *m)
{
	if (!m->mmw) {
		m->mmw = calloc(1, sizeof(*m->mmw));
		RA_BUG_ON(m, !m->mmw);
		m->mmw->next_pid = 2;   /* pid 1 is init: unkillable, owns nothing */
	}
	return m->mmw;
}

/* The kernel's task-related caches, created when the first task appears. */
static bool world_caches(ra_machine *m)
{
	struct ra_mm_world *w = world(m);
	if (w->task_cache)
		return true;
	w->task_cache = ra_kmem_cache_create(m, "task_struct", 5888, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT);
	w->mm_cache = ra_kmem_cache_create(m, "mm_struct", 1600, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT);
	w->vma_cache = ra_kmem_cache_create(m, "vm_area_struct", 192, 0, RA_SLAB_ACCOUNT);
	return w->task_cache && w->mm_cache && w->vma_cache;
}

/* === Page tables ========================================================= */

static uint32_t pt_page(ra_machine *m)
{
	return ra_alloc_pages_pfn(m, RA_GFP_KERNEL_ACCOUNT | RA___GFP_ZERO, 0, PO_PGTABLE);
}

static void tlb_flush(struct ra_mm *mm) { memset(mm->tlb, 0xff, sizeof(mm->tlb)); }

/* The leaf covering va; with alloc, missing levels are allocated (each can
 * fail or even OOM-kill the task: the caller re-checks the task). */
static struct pt_leaf *pt_walk(ra_machine *m, struct ra_task *t, struct ra_mm *mm, uint64_t va, bool alloc)
{
	struct pt_node *n = mm->pgd;
	for (int level = 3; level >= 1; level--) {
		unsigned idx = level == 3 ? PGD_IDX(va) : level == 2 ? PUD_IDX(va) : PMD_IDX(va);
		void *next = n->e[idx];
		if (!next) {
			if (!alloc)
				return NULL;
			uint32_t pfn = pt_page(m);
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

static uint64_t *pte_lookup(struct ra_mm *mm, uint64_t va)
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
	uint64_t *pte = t->mm ? pte_lookup(t->mm, va) : NULL;
	if (!pte || !(*pte & PTE_PRESENT) || (*pte & PTE_ZERO))
		return RA_NOPFN;
	return (uint32_t)PTE_PFN(*pte);
}

static void put_user_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, p->owner != PO_USER || !p->count);
	if (--p->count)
		return;
	if (p->flags & PGF_MLOCKED)
		m->mmw->mlocked--;
	p->flags = 0;
	ra_free_pages_pfn(m, pfn, 0);
}

/* Free the tables below node n (level: 3 PGD's children are PUDs ...). */
static void pt_free_tree(ra_machine *m, struct ra_mm *mm, void *node, int level)
{
	if (level == 0) {
		struct pt_leaf *l = node;
		for (unsigned i = 0; i < PTRS; i++) {
			uint64_t e = l->pte[i];
			if ((e & PTE_PRESENT) && !(e & PTE_ZERO)) {
				put_user_page(m, PTE_PFN(e));
				mm->rss--;
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
			pt_free_tree(m, mm, n->e[i], level - 1);
	ra_free_pages_pfn(m, n->pfn, 0);
	free(n);
	if (level < 3)
		mm->nr_pt--;
}

/* === VMAs ================================================================ */

static uint32_t vma_index(struct ra_mm *mm, uint64_t addr)
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

static struct ra_vma *find_vma(struct ra_mm *mm, uint64_t addr)
{
	uint32_t i = vma_index(mm, addr);
	if (i < mm->nr_vma && mm->vma[i].start <= addr)
		return &mm->vma[i];
	return NULL;
}

static bool is_data(uint32_t f) { return (f & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE; }

/* vm_stat_account() and friends, for npages entering (+) or leaving (-). */
static void vma_account(struct ra_mm *mm, uint32_t flags, int64_t npages)
{
	mm->total_vm += (uint64_t)npages;
	if (is_data(flags))
		mm->data_vm += (uint64_t)npages;
	if (flags & VM_GROWSDOWN)
		mm->stack_vm += (uint64_t)npages;
	if (flags & VM_LOCKED)
		mm->locked_vm += (uint64_t)npages;
	if (mm->total_vm > mm->hiwater_vm)
		mm->hiwater_vm = mm->total_vm;
}

static void unaccount_commit(ra_machine *m, struct ra_mm *mm, uint64_t pages)
{
	mm->committed -= pages;
	m->mmw->committed_as -= pages;
}

/* __vm_enough_memory(): charge pages to Committed_AS or refuse. */
static bool vm_enough_memory(ra_machine *m, struct ra_task *t, uint64_t pages)
{
	struct ra_mm_world *w = m->mmw;
	w->committed_as += pages;
	int64_t mode = KNOB(m, VM_OVERCOMMIT_MEMORY);
	if (mode == 1)
		goto ok;
	if (mode == 0) {
		if (pages > m->totalram)
			goto refuse;
		goto ok;
	}
	{
		int64_t kbytes = KNOB(m, VM_OVERCOMMIT_KBYTES);
		int64_t allowed = kbytes ? kbytes >> (RA_PAGE_SHIFT - 10)
		                         : (int64_t)(m->totalram * (uint64_t)KNOB(m, VM_OVERCOMMIT_RATIO) / 100);
		allowed -= KNOB(m, VM_ADMIN_RESERVE_KBYTES) >> (RA_PAGE_SHIFT - 10);
		if (t && t->mm)
			allowed -= RA_MIN((int64_t)(t->mm->total_vm / 32), KNOB(m, VM_USER_RESERVE_KBYTES) >> (RA_PAGE_SHIFT - 10));
		if ((int64_t)w->committed_as < allowed)
			goto ok;
	}
refuse:
	w->committed_as -= pages;
	ra_log(m, "__vm_enough_memory: pid: %u, comm: %s, not enough memory for the allocation",
	       t ? t->pid : 0, t ? t->comm : "?");
	return false;
ok:
	if (t && t->mm)
		t->mm->committed += pages;
	return true;
}

/* Open n free slots at index i of the vma array. */
static void vma_slot(ra_machine *m, struct ra_mm *mm, uint32_t i, uint32_t n)
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

static void vma_obj_free(ra_machine *m, ra_addr_t obj);

/* Drop slot i, freeing its vm_area_struct. */
static void vma_remove(ra_machine *m, struct ra_mm *mm, uint32_t i)
{
	vma_obj_free(m, mm->vma[i].obj);
	memmove(&mm->vma[i], &mm->vma[i + 1], (mm->nr_vma - i - 1) * sizeof(*mm->vma));
	mm->nr_vma--;
}

static bool vma_mergeable(const struct ra_vma *a, const struct ra_vma *b)
{
	return a->end == b->start && a->flags == b->flags;
}

/* After flags changed (mprotect_fixup(), mlock_fixup()): merge neighbours
 * that have become alike, as vma_merge() does. */
static void vma_merge_all(ra_machine *m, struct ra_mm *mm)
{
	for (uint32_t k = 0; k + 1 < mm->nr_vma;) {
		if (vma_mergeable(&mm->vma[k], &mm->vma[k + 1])) {
			mm->vma[k].end = mm->vma[k + 1].end;
			vma_remove(m, mm, k + 1);
		} else
			k++;
	}
}

static void vma_obj_free(ra_machine *m, ra_addr_t obj)
{
	if (obj)
		ra_kmem_cache_free_internal(m, m->mmw->vma_cache, obj);
}

/* Insert [start, end) with flags; merges with neighbours like vma_merge().
 * The caller has checked that the range is free. false when the
 * vm_area_struct cannot be allocated. */
static bool vma_insert(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end, uint32_t flags)
{
	uint32_t i = vma_index(mm, start);
	struct ra_vma v = { start, end, flags, 0 };
	bool merge_prev = i > 0 && vma_mergeable(&mm->vma[i - 1], &v);
	bool merge_next = i < mm->nr_vma && vma_mergeable(&v, &mm->vma[i]);
	if (merge_prev && merge_next) {
		mm->vma[i - 1].end = mm->vma[i].end;
		vma_remove(m, mm, i);
	} else if (merge_prev) {
		mm->vma[i - 1].end = end;
	} else if (merge_next) {
		mm->vma[i].start = start;
	} else {
		v.obj = ra_kmem_cache_alloc_internal(m, m->mmw->vma_cache, RA_GFP_KERNEL);
		if (!v.obj)
			return false;
		vma_slot(m, mm, i, 1);
		mm->vma[i] = v;
	}
	vma_account(mm, flags, (int64_t)((end - start) >> RA_PAGE_SHIFT));
	return true;
}

/* Zap the PTEs of [start, end) (pages freed, tables kept). */
static void zap_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end;) {
		uint64_t *pte = pte_lookup(mm, va);
		if (!pte) {
			va = (va | ((1ULL << 21) - 1)) + 1;   /* no leaf: skip its 2 MiB */
			continue;
		}
		struct pt_leaf *l = (struct pt_leaf *)((char *)(pte - PTE_IDX(va)) - offsetof(struct pt_leaf, pte));
		uint64_t lend = RA_MIN(end, (va | ((1ULL << 21) - 1)) + 1);
		for (; va < lend; va += RA_PAGE_SIZE) {
			uint64_t e = l->pte[PTE_IDX(va)];
			if (!(e & PTE_PRESENT))
				continue;
			if (!(e & PTE_ZERO)) {
				put_user_page(m, PTE_PFN(e));
				mm->rss--;
			}
			l->pte[PTE_IDX(va)] = 0;
			l->used--;
		}
	}
	tlb_flush(mm);
}

static bool range_has_vma(struct ra_mm *mm, uint64_t start, uint64_t end)
{
	uint32_t i = vma_index(mm, start);
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

static void tmap_add(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t len)
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
static int unmap_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end)
{
	tmap_unmap(mm, start, end);
	/* a split in the middle of one vma needs one more object: get it first */
	uint32_t i = vma_index(mm, start);
	if (i < mm->nr_vma && mm->vma[i].start < start && mm->vma[i].end > end) {
		struct ra_vma v = mm->vma[i];
		ra_addr_t obj = ra_kmem_cache_alloc_internal(m, m->mmw->vma_cache, RA_GFP_KERNEL);
		if (!obj)
			return -1;
		vma_slot(m, mm, i + 1, 1);
		mm->vma[i].end = start;
		mm->vma[i + 1] = v;
		mm->vma[i + 1].start = end;
		mm->vma[i + 1].obj = obj;
		uint64_t pages = (end - start) >> RA_PAGE_SHIFT;
		vma_account(mm, v.flags, -(int64_t)pages);
		if (v.flags & VM_ACCOUNT)
			unaccount_commit(m, mm, pages);
		zap_range(m, mm, start, end);
		free_pgtables(m, mm, start, end);
		return 0;
	}
	while (i < mm->nr_vma && mm->vma[i].start < end) {
		struct ra_vma *v = &mm->vma[i];
		uint64_t s = RA_MAX(v->start, start), e = RA_MIN(v->end, end);
		uint64_t pages = (e - s) >> RA_PAGE_SHIFT;
		vma_account(mm, v->flags, -(int64_t)pages);
		if (v->flags & VM_ACCOUNT)
			unaccount_commit(m, mm, pages);
		zap_range(m, mm, s, e);
		if (s == v->start && e == v->end) {
			vma_remove(m, mm, i);
			continue;
		}
		if (s == v->start)
			v->start = e;
		else
			v->end = s;
		i++;
	}
	free_pgtables(m, mm, start, end);
	return 0;
}

/* === Faults ============================================================== */

static void mlock_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_MLOCKED)) {
		p->flags |= PGF_MLOCKED;
		m->mmw->mlocked++;
	}
}

/* A new zeroed user page, or RA_NOPFN (the OOM killer may have run). */
static uint32_t alloc_user_page(ra_machine *m)
{
	if (ra_should_fail(m, FAIL_FAULT, RA_GFP_HIGHUSER_MOVABLE))
		return RA_NOPFN;
	uint32_t pfn = ra_alloc_pages_pfn(m, RA_GFP_HIGHUSER_MOVABLE | RA___GFP_ZERO, 0, PO_USER);
	if (pfn != RA_NOPFN)
		pfn_page(m, pfn)->count = 1;
	return pfn;
}

static void rss_inc(struct ra_mm *mm)
{
	if (++mm->rss > mm->hiwater_rss)
		mm->hiwater_rss = mm->rss;
}

static int segv(ra_machine *m, struct ra_task *t, uint64_t va, bool write, const char *why)
{
	return ra_report(m, RC_USER_FAULT, t->comm, "%s[%u]: segfault at %" PRIx64 " error %d: %s", t->comm, t->pid,
	                 va, write ? 6 : 4, why), -1;
}

/* handle_mm_fault() for one page. 0 served, -1 segfault (reported),
 * -2 not served (no memory, injected, or the task died meanwhile). */
static int handle_fault(ra_machine *m, struct ra_task *t, uint64_t va, bool write)
{
	struct ra_mm *mm = t->mm;
	struct ra_vma *v = find_vma(mm, va);
	if (!v)
		return segv(m, t, va, write, "no mapping");
	if (write ? !(v->flags & VM_WRITE) : !(v->flags & VM_READ))
		return segv(m, t, va, write, write ? "mapping not writable" : "mapping not readable");
	bool locked = v->flags & VM_LOCKED;
	struct pt_leaf *l = pt_walk(m, t, mm, va, true);
	if (!ra_task_alive(t))
		return -2;
	if (!l)
		return -2;
	uint64_t *pte = &l->pte[PTE_IDX(va)];
	uint64_t e = *pte;
	if (!(e & PTE_PRESENT)) {
		if (!write) {
			*pte = PTE_PRESENT | PTE_ZERO;
			l->used++;
			t->min_flt++;
			return 0;
		}
		uint32_t pfn = alloc_user_page(m);
		if (!ra_task_alive(t)) {
			if (pfn != RA_NOPFN)
				put_user_page(m, pfn);
			return -2;
		}
		if (pfn == RA_NOPFN)
			return -2;
		*pte = ((uint64_t)pfn << 12) | PTE_PRESENT | PTE_WRITE;
		l->used++;
		rss_inc(mm);
		if (locked)
			mlock_page(m, pfn);
		t->min_flt++;
		return 0;
	}
	if (!write || (e & PTE_WRITE))
		return 0;
	/* write to the zero page or to a write-protected (COW) page */
	if (!(e & PTE_ZERO)) {
		uint32_t old = PTE_PFN(e);
		if (pfn_page(m, old)->count == 1) {      /* wp_page_reuse() */
			*pte |= PTE_WRITE;
			t->min_flt++;
			tlb_flush(mm);
			return 0;
		}
	}
	uint32_t pfn = alloc_user_page(m);
	if (!ra_task_alive(t)) {
		if (pfn != RA_NOPFN)
			put_user_page(m, pfn);
		return -2;
	}
	if (pfn == RA_NOPFN)
		return -2;
	e = *pte;     /* re-read: the allocation may have run the OOM killer */
	if (!(e & PTE_ZERO)) {
		uint32_t old = PTE_PFN(e);
		ra_raw_copy(pfn_host(m, pfn), pfn_host(m, old), RA_PAGE_SIZE);
		put_user_page(m, old);
	} else {
		rss_inc(mm);
	}
	*pte = ((uint64_t)pfn << 12) | PTE_PRESENT | PTE_WRITE;
	if (locked)
		mlock_page(m, pfn);
	t->min_flt++;
	tlb_flush(mm);
	return 0;
}

static void kill_task(ra_machine *m, struct ra_task *t, const char *why);

/* A fault that cannot be served (no memory even after the OOM killer ran,
 * or an injected failure) ends the task, as VM_FAULT_SIGBUS/OOM would:
 * the program cannot go on past the faulting access. */
static void fault_kill(ra_machine *m, struct ra_task *t, uint64_t va)
{
	if (!ra_task_alive(t))
		return;
	ra_log(m, "%s[%u]: page fault at 0x%" PRIx64 " could not be served: killed by SIGBUS", t->comm, t->pid, va);
	kill_task(m, t, NULL);
}

/* malloc's own access segfaulted (see um_xlate): SIGSEGV ends the task.
 * Only within a call (the task pinned): the validators' and the oracle's
 * reads of malloc's memory are no access by the program. */
static void malloc_segv(ra_machine *m, struct ra_task *t, uint64_t va)
{
	if (!t->busy || !ra_task_alive(t))
		return;
	ra_log(m, "%s[%u]: malloc's access to 0x%" PRIx64 " faulted: killed by SIGSEGV", t->comm, t->pid, va);
	kill_task(m, t, NULL);
}

/* Host bytes of user address va for an access; faults as needed. NULL with
 * *err -1 (segfault reported; by_malloc: the task is then dead) or -2 (not
 * served: the task is then dead). */
static uint8_t *translate(ra_machine *m, struct ra_task *t, uint64_t va, bool write, int *err, bool by_malloc)
{
	struct ra_mm *mm = t->mm;
	uint64_t vpn = va >> RA_PAGE_SHIFT;
	struct ra_tlb *tl = &mm->tlb[vpn & (RA_TLB_SIZE - 1)];
	if (tl->vpn == vpn && (!write || tl->writable))
		return tl->host + (va & (RA_PAGE_SIZE - 1));
	for (int tries = 0; tries < 3; tries++) {
		uint64_t *pte = pte_lookup(mm, va);
		uint64_t e = pte ? *pte : 0;
		if ((e & PTE_PRESENT) && (!write || (e & PTE_WRITE))) {
			tl->vpn = vpn;
			tl->writable = (e & PTE_WRITE) != 0;
			tl->host = (e & PTE_ZERO) ? (uint8_t *)zero_page : pfn_host(m, PTE_PFN(e));
			return tl->host + (va & (RA_PAGE_SIZE - 1));
		}
		int r = handle_fault(m, t, va, write);
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

static int do_uaccess(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool write, void *buf)
{
	if (!ra_task_alive(t))
		return -2;
	uint8_t *b = buf;
	while (len) {
		size_t chunk = (size_t)RA_MIN(len, RA_PAGE_SIZE - (addr & (RA_PAGE_SIZE - 1)));
		int err = 0;
		uint8_t *h = translate(m, t, addr, write, &err, false);
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
		uint64_t *pte = pte_lookup(t->mm, va);
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
static void populate(ra_machine *m, struct ra_task *t, uint64_t start, uint64_t end)
{
	struct ra_mm *mm = t->mm;
	for (uint64_t va = start; va < end && ra_task_alive(t);) {
		uint32_t i = vma_index(mm, va);
		if (i >= mm->nr_vma || mm->vma[i].start >= end)
			return;
		struct ra_vma *v = &mm->vma[i];
		if (va < v->start)
			va = v->start;
		if (!(v->flags & (VM_READ | VM_WRITE))) {
			va = v->end;
			continue;
		}
		if (handle_fault(m, t, va, (v->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE) == -2)
			return;
		va += RA_PAGE_SIZE;
	}
}

/* === mmap, munmap, mprotect, brk, mlockall ============================== */

static uint64_t get_unmapped_area(struct ra_mm *mm, uint64_t len)
{
	uint64_t hi = USER_MMAP_BASE;
	for (uint32_t i = mm->nr_vma; i-- > 0;) {
		struct ra_vma *v = &mm->vma[i];
		if (v->start >= hi)
			continue;
		if (v->end <= hi && hi - v->end >= len)
#if RA_MUTANT == 12 /* mutant 12: VMA overlap (the new mapping's last page overlaps the VMA above) */
			return hi - len + (hi < USER_MMAP_BASE ? RA_PAGE_SIZE : 0);
#else
			return hi - len;
#endif
		hi = RA_MIN(hi, v->start);
	}
	if (hi >= USER_MMAP_MIN + len)
		return hi - len;
	return 0;
}

static uint32_t prot_flags(int prot) { return (prot & 1 ? VM_READ : 0) | (prot & 2 ? VM_WRITE : 0); }

static uint64_t do_mmap(ra_machine *m, struct ra_task *t, uint64_t len, int prot, unsigned flags)
{
	if (!ra_task_alive(t) || !len || len > USER_STACK_TOP)
		return 0;
	len = PAGE_ALIGN(len);
	if (ra_should_fail(m, FAIL_MMAP, RA_GFP_KERNEL))
		return 0;
	struct ra_mm *mm = t->mm;
	uint32_t vf = prot_flags(prot) | mm->def_flags | ((flags & RA_MMAP_LOCKED) ? VM_LOCKED : 0);
	if ((vf & VM_WRITE) && (!(flags & RA_MMAP_NORESERVE) || KNOB(m, VM_OVERCOMMIT_MEMORY) == 2))
		vf |= VM_ACCOUNT;
	uint64_t addr = get_unmapped_area(mm, len);
	if (!addr)
		return 0;
	uint64_t pages = len >> RA_PAGE_SHIFT;
	if ((vf & VM_ACCOUNT) && !vm_enough_memory(m, t, pages))
		return 0;
	if (!vma_insert(m, mm, addr, addr + len, vf)) {
		if (vf & VM_ACCOUNT)
			unaccount_commit(m, mm, pages);
		return 0;
	}
	if (flags & RA_MMAP_TRACE)
		tmap_add(m, mm, addr, len);
	if ((vf & VM_LOCKED) || (flags & RA_MMAP_POPULATE))
		populate(m, t, addr, addr + len);
	return addr;
}

static int do_munmap(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	if (!ra_task_alive(t) || (addr & (RA_PAGE_SIZE - 1)) || !len || addr + len < addr)
		return -1;
	return unmap_range(m, t->mm, addr, addr + PAGE_ALIGN(len));
}

/* mprotect() of a whole VMA or the part of one (splits like munmap). */
static int do_mprotect(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, int prot)
{
	if (!ra_task_alive(t) || (addr & (RA_PAGE_SIZE - 1)))
		return -1;
	struct ra_mm *mm = t->mm;
	uint64_t end = addr + PAGE_ALIGN(len);
	struct ra_vma *v = find_vma(mm, addr);
	if (!v || v->start > addr || v->end < end)
		return -1;      /* only within one VMA: what umalloc's heaps need */
	uint32_t old = v->flags;
	uint32_t nf = (old & ~(VM_READ | VM_WRITE)) | prot_flags(prot);
	uint64_t pages = (end - addr) >> RA_PAGE_SHIFT;
	if ((nf & VM_WRITE) && !(old & VM_ACCOUNT) && !(old & VM_NORESERVE)) {
		if (!vm_enough_memory(m, t, pages))
			return -1;
		nf |= VM_ACCOUNT;
	}
	if (nf == old)
		return 0;
	/* split off the parts before and after, then change the flags */
	uint64_t vstart = v->start, vend = v->end;
	ra_addr_t vobj = v->obj;
	uint32_t i = (uint32_t)(v - mm->vma);
	unsigned n = (vstart < addr) + 1 + (end < vend);
	ra_addr_t extra[2] = { 0, 0 };
	for (unsigned k = 0; k + 1 < n; k++) {
		extra[k] = ra_kmem_cache_alloc_internal(m, m->mmw->vma_cache, RA_GFP_KERNEL);
		if (!extra[k]) {
			for (unsigned j = 0; j < k; j++)
				vma_obj_free(m, extra[j]);
			if ((nf & VM_ACCOUNT) && !(old & VM_ACCOUNT))
				unaccount_commit(m, mm, pages);
			return -1;
		}
	}
	vma_account(mm, old, -(int64_t)pages);
	vma_account(mm, nf, (int64_t)pages);
	struct ra_vma parts[3];
	unsigned p = 0;
	if (vstart < addr) parts[p++] = (struct ra_vma){ vstart, addr, old, 0 };
	parts[p++] = (struct ra_vma){ addr, end, nf, 0 };
	if (end < vend) parts[p++] = (struct ra_vma){ end, vend, old, 0 };
	parts[0].obj = vobj;
	for (unsigned k = 1; k < n; k++)
		parts[k].obj = extra[k - 1];
	vma_slot(m, mm, i + 1, n - 1);
	for (unsigned k = 0; k < n; k++)
		mm->vma[i + k] = parts[k];
	/* write permission removed: drop PTE_WRITE so later writes fault */
	if (!(nf & VM_WRITE))
		for (uint64_t va = addr; va < end; va += RA_PAGE_SIZE) {
			uint64_t *pte = pte_lookup(mm, va);
			if (pte)
				*pte &= ~PTE_WRITE;
		}
	vma_merge_all(m, mm);
	/* mprotect to read-only keeps the charge (and VM_ACCOUNT), as the kernel does */
	tlb_flush(mm);
	return 0;
}

static uint64_t do_sbrk(ra_machine *m, struct ra_task *t, int64_t delta)
{
	if (!ra_task_alive(t))
		return UINT64_MAX;
	struct ra_mm *mm = t->mm;
	uint64_t old = mm->brk;
	if (!delta)
		return old;
	uint64_t nb = old + (uint64_t)delta;
	if ((delta > 0 && nb < old) || (delta < 0 && nb > old) || nb < mm->start_brk || nb > USER_MMAP_BASE)
		return UINT64_MAX;
	if (ra_should_fail(m, FAIL_BRK, RA_GFP_KERNEL))
		return UINT64_MAX;
	uint64_t oldp = PAGE_ALIGN(old), newp = PAGE_ALIGN(nb);
	if (oldp == newp) {
		mm->brk = nb;
		return old;
	}
	if (nb < old) {
		if (unmap_range(m, mm, newp, oldp))
			return UINT64_MAX;
		mm->brk = nb;
		return old;
	}
	struct ra_vma *next = NULL;
	uint32_t i = vma_index(mm, oldp);
	if (i < mm->nr_vma)
		next = &mm->vma[i];
	if (next && newp + RA_PAGE_SIZE > next->start)
		return UINT64_MAX;
	uint32_t vf = VM_READ | VM_WRITE | VM_ACCOUNT | mm->def_flags;
	uint64_t pages = (newp - oldp) >> RA_PAGE_SHIFT;
	if (!vm_enough_memory(m, t, pages))
		return UINT64_MAX;
	if (!vma_insert(m, mm, oldp, newp, vf)) {
		unaccount_commit(m, mm, pages);
		return UINT64_MAX;
	}
	mm->brk = nb;
	if (vf & VM_LOCKED)
		populate(m, t, oldp, newp);
	return old;
}

static int do_mlockall(ra_machine *m, struct ra_task *t, bool current, bool future)
{
	if (!ra_task_alive(t))
		return -1;
	struct ra_mm *mm = t->mm;
	if (future)
		mm->def_flags |= VM_LOCKED;
	if (!current)
		return 0;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		struct ra_vma *v = &mm->vma[i];
		if (v->flags & VM_LOCKED)
			continue;
		mm->locked_vm += (v->end - v->start) >> RA_PAGE_SHIFT;
		v->flags |= VM_LOCKED;
	}
	vma_merge_all(m, mm);
	for (uint32_t i = 0; ra_task_alive(t) && i < mm->nr_vma; i++) {
		struct ra_vma v = mm->vma[i];
		populate(m, t, v.start, v.end);
		/* pages already present become mlocked too */
		for (uint64_t va = v.start; va < v.end && ra_task_alive(t); va += RA_PAGE_SIZE) {
			uint64_t *pte = pte_lookup(mm, va);
			if (!pte) {
				va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;   /* no leaf: skip its 2 MiB */
				continue;
			}
			if ((*pte & PTE_PRESENT) && !(*pte & PTE_ZERO))
				mlock_page(m, PTE_PFN(*pte));
		}
	}
	return 0;
}

static int do_madv_dontneed(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	if (!ra_task_alive(t) || (addr & (RA_PAGE_SIZE - 1)))
		return -1;
	struct ra_mm *mm = t->mm;
	uint64_t end = addr + PAGE_ALIGN(len);
	for (uint64_t va = addr; va < end; va += RA_PAGE_SIZE) {
		struct ra_vma *v = find_vma(mm, va);
		if (!v || v->start > va || (v->flags & VM_LOCKED))
			return -1;     /* EINVAL for locked, ENOMEM for holes */
	}
	zap_range(m, mm, addr, end);
	return 0;
}

/* Every operation on a task pins it (see ra_task_get). */
int ra_uaccess(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool write, void *buf)
{
	if (!ra_task_alive(t))
		return -2;
	ra_task_get(t);
	int r = do_uaccess(m, t, addr, len, write, buf);
	ra_task_put(m, t);
	return r;
}

uint64_t ra_mmap(ra_machine *m, struct ra_task *t, uint64_t len, int prot, unsigned flags)
{
	if (!ra_task_alive(t))
		return 0;
	ra_task_get(t);
	uint64_t r = do_mmap(m, t, len, prot, flags);
	ra_task_put(m, t);
	return r;
}

int ra_munmap(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	int r = do_munmap(m, t, addr, len);
	ra_task_put(m, t);
	return r;
}

int ra_mprotect(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, int prot)
{
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	int r = do_mprotect(m, t, addr, len, prot);
	ra_task_put(m, t);
	return r;
}

uint64_t ra_sbrk(ra_machine *m, struct ra_task *t, int64_t delta)
{
	if (!ra_task_alive(t))
		return UINT64_MAX;
	ra_task_get(t);
	uint64_t r = do_sbrk(m, t, delta);
	ra_task_put(m, t);
	return r;
}

int ra_mlockall(ra_machine *m, struct ra_task *t, bool current, bool future)
{
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	int r = do_mlockall(m, t, current, future);
	ra_task_put(m, t);
	return r;
}

int ra_madv_dontneed(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	int r = do_madv_dontneed(m, t, addr, len);
	ra_task_put(m, t);
	return r;
}


/* === Tasks ============================================================== */

static struct ra_mm *mm_alloc(ra_machine *m)
{
	struct ra_mm *mm = calloc(1, sizeof(*mm));
	RA_BUG_ON(m, !mm);
	tlb_flush(mm);
	mm->mm_obj = ra_kmem_cache_alloc_internal(m, m->mmw->mm_cache, RA_GFP_KERNEL);
	uint32_t pgd = mm->mm_obj ? pt_page(m) : RA_NOPFN;
	if (pgd == RA_NOPFN) {
		if (mm->mm_obj)
			ra_kmem_cache_free_internal(m, m->mmw->mm_cache, mm->mm_obj);
		free(mm);
		return NULL;
	}
	mm->pgd_pfn = pgd;
	mm->pgd = calloc(1, sizeof(*mm->pgd));
	RA_BUG_ON(m, !mm->pgd);
	mm->pgd->pfn = pgd;
	mm->start_brk = mm->brk = USER_HEAP_START;
	return mm;
}

/* exit_mmap(): every page, table, VMA and charge goes. */
static void mm_release(ra_machine *m, struct ra_mm *mm)
{
	if (!mm)
		return;
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		vma_obj_free(m, mm->vma[i].obj);
	struct pt_node *pgd = mm->pgd;
	mm->pgd = NULL;
	if (pgd) {
		for (unsigned i = 0; i < PTRS; i++)
			if (pgd->e[i])
				pt_free_tree(m, mm, pgd->e[i], 2);
		ra_free_pages_pfn(m, pgd->pfn, 0);
		free(pgd);
	}
	unaccount_commit(m, mm, mm->committed);
	free(mm->tmaps);
	if (mm->mm_obj)
		ra_kmem_cache_free_internal(m, m->mmw->mm_cache, mm->mm_obj);
	free(mm->vma);
	free(mm);
}

static bool thread_add(ra_machine *m, struct ra_task *t, uint32_t tid)
{
	if (t->nr_threads == t->cap_threads) {
		t->cap_threads = t->cap_threads ? t->cap_threads * 2 : 4;
		t->threads = realloc(t->threads, t->cap_threads * sizeof(*t->threads));
		RA_BUG_ON(m, !t->threads);
	}
	ra_addr_t ks = ra_vmalloc_internal(m, THREAD_SIZE);
	if (!ks)
		return false;
	struct ra_thread *th = &t->threads[t->nr_threads++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	th->alive = 1;
	th->kstack = ks;
	return true;
}

static struct ra_thread *find_thread(struct ra_task *t, uint32_t tid)
{
	for (uint32_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	return NULL;
}

static void task_list_add(ra_machine *m, struct ra_task *t)
{
	struct ra_mm_world *w = m->mmw;
	if (w->nr_tasks == w->cap_tasks) {
		w->cap_tasks = w->cap_tasks ? w->cap_tasks * 2 : 16;
		w->tasks = realloc(w->tasks, w->cap_tasks * sizeof(*w->tasks));
		RA_BUG_ON(m, !w->tasks);
	}
	t->index = w->nr_tasks;
	w->tasks[w->nr_tasks++] = t;
}

/* Undo a half-built task. */
static void task_teardown(ra_machine *m, struct ra_task *t)
{
	if (t->um) {
		um_destroy(t->um);
		t->um = NULL;
	}
	for (uint32_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].kstack) {
			ra_vfree_internal(m, t->threads[i].kstack);
			t->threads[i].kstack = 0;
		}
	mm_release(m, t->mm);
	t->mm = NULL;
	if (t->task_obj) {
		ra_kmem_cache_free_internal(m, m->mmw->task_cache, t->task_obj);
		t->task_obj = 0;
	}
}

static struct ra_task *task_new(ra_machine *m, const char *comm, int adj)
{
	if (!world_caches(m))
		return NULL;
	struct ra_task *t = calloc(1, sizeof(*t));
	RA_BUG_ON(m, !t);
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	t->oom_score_adj = adj;
	t->os.m = m;
	t->os.t = t;
	t->task_obj = ra_kmem_cache_alloc_internal(m, m->mmw->task_cache, RA_GFP_KERNEL);
	if (!t->task_obj || !thread_add(m, t, 0)) {
		task_teardown(m, t);
		free(t->threads);
		free(t);
		return NULL;
	}
	t->state = TASK_ALIVE;
	return t;
}

/* The malloc knobs (KF_MALLOPT) set explicitly (--set, the environment,
 * sysctl) are each new process's starting mallopt values, as glibc's
 * MALLOC_*_ tunables are read at startup. Only explicit ones: a mallopt
 * call of the default M_MMAP_THRESHOLD would still turn off the dynamic
 * threshold. A fork inherits its parent's state instead. */
static void apply_mallopt_knobs(ra_machine *m, struct ra_task *t)
{
	static const struct { int id, param; } map[] = {
		{ K_M_MXFAST, UM_M_MXFAST }, { K_M_TRIM_THRESHOLD, UM_M_TRIM_THRESHOLD }, { K_M_TOP_PAD, UM_M_TOP_PAD },
		{ K_M_MMAP_THRESHOLD, UM_M_MMAP_THRESHOLD }, { K_M_MMAP_MAX, UM_M_MMAP_MAX },
		{ K_M_ARENA_MAX, UM_M_ARENA_MAX }, { K_M_ARENA_TEST, UM_M_ARENA_TEST }, { K_M_PERTURB, UM_M_PERTURB },
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(map); i++)
		if (m->knobs.set[map[i].id])
			um_mallopt(t->um, map[i].param, (int)m->knobs.v[map[i].id][0]);
}

struct ra_task *ra_task_create(ra_machine *m, const char *comm, int oom_score_adj)
{
	world(m);
	struct ra_task *t = task_new(m, comm, oom_score_adj);
	if (!t)
		return NULL;
	ra_task_get(t);
	t->mm = mm_alloc(m);
	/* exec: a 132 KiB stack whose top page holds argv and envp */
	bool ok = t->mm && vm_enough_memory(m, t, USER_STACK_SIZE >> RA_PAGE_SHIFT);
	if (ok && !vma_insert(m, t->mm, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP,
	                      VM_READ | VM_WRITE | VM_GROWSDOWN | VM_ACCOUNT)) {
		unaccount_commit(m, t->mm, USER_STACK_SIZE >> RA_PAGE_SHIFT);
		ok = false;
	}
	if (ok) {
		t->um = um_create(&t->os);
		ok = t->um != NULL;
	}
	if (ok)
		apply_mallopt_knobs(m, t);
	if (ok) {
		t->threads[0].umt = um_main_thread(t->um);
		t->pid = m->mmw->next_pid++;
		t->ppid = 1;
		task_list_add(m, t);
		int r = handle_fault(m, t, USER_STACK_TOP - RA_PAGE_SIZE, true);
		if (r && ra_task_alive(t))
			t->state = TASK_EXITED;    /* could not start; stays in the list, dead */
		ra_task_put(m, t);
		return ra_task_alive(t) ? t : NULL;
	}
	t->busy = 0;
	task_teardown(m, t);
	free(t->threads);
	free(t);
	return NULL;
}

/* dup_mmap(): VMAs (VM_LOCKED not inherited), charges, page tables with
 * every private writable page write-protected in both. */
static bool dup_mmap(ra_machine *m, struct ra_task *parent, struct ra_task *child)
{
	struct ra_mm *old = parent->mm, *mm = child->mm;
	mm->start_brk = old->start_brk;
	mm->brk = old->brk;
	mm->malloc_brk = old->malloc_brk;
	for (uint32_t i = 0; i < old->nr_tmaps; i++) {
		tmap_add(m, mm, old->tmaps[i].start, old->tmaps[i].len);
		mm->tmaps[mm->nr_tmaps - 1].site = old->tmaps[i].site;
	}
	for (uint32_t i = 0; i < old->nr_vma; i++) {
		if (!ra_task_alive(parent))
			return false;
		struct ra_vma v = old->vma[i];
		v.flags &= ~VM_LOCKED;
		v.obj = 0;
		uint64_t pages = (v.end - v.start) >> RA_PAGE_SHIFT;
		if ((v.flags & VM_ACCOUNT) && !vm_enough_memory(m, child, pages))
			return false;
		if (!vma_insert(m, mm, v.start, v.end, v.flags)) {
			if (v.flags & VM_ACCOUNT)
				unaccount_commit(m, mm, pages);
			return false;
		}
		for (uint64_t va = v.start; va < v.end; va += RA_PAGE_SIZE) {
			uint64_t *pe = pte_lookup(old, va);
			if (!pe || !(*pe & PTE_PRESENT)) {
				if (!pe)
					va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
				continue;
			}
			struct pt_leaf *l = pt_walk(m, child, mm, va, true);
			if (!l || !ra_task_alive(parent))
				return false;
			pe = pte_lookup(old, va);    /* tables may have moved? no: host nodes are stable */
			uint64_t e = *pe;
			if (!(e & PTE_ZERO)) {
				if (v.flags & VM_WRITE)
					*pe = e &= ~PTE_WRITE;
				pfn_page(m, PTE_PFN(e))->count++;
				rss_inc(mm);
			}
			l->pte[PTE_IDX(va)] = e;
			l->used++;
		}
	}
	tlb_flush(old);
	return true;
}

struct ra_task *ra_task_fork(ra_machine *m, struct ra_task *parent, uint32_t tid)
{
	if (!ra_task_alive(parent))
		return NULL;
	ra_task_get(parent);
	struct ra_task *t = task_new(m, parent->comm, parent->oom_score_adj);
	if (!t) {
		ra_task_put(m, parent);
		return NULL;
	}
	t->mm = mm_alloc(m);
	bool ok = t->mm && dup_mmap(m, parent, t) && ra_task_alive(parent);
	if (ok) {
		struct ra_thread *pth = find_thread(parent, tid);
		t->um = um_clone(parent->um, &t->os, pth ? pth->umt : NULL);
		ok = t->um != NULL;
	}
	if (!ok) {
		task_teardown(m, t);
		free(t->threads);
		free(t);
		ra_task_put(m, parent);
		return NULL;
	}
	t->threads[0].umt = um_main_thread(t->um);
	t->pid = m->mmw->next_pid++;
	t->ppid = parent->pid;
	t->mm->hiwater_rss = t->mm->rss;
	task_list_add(m, t);
	ra_task_put(m, parent);
	return t;
}

/* The OOM reaper's part: the pages go, the mm's structures stay. */
static void reap(ra_machine *m, struct ra_task *t)
{
	struct ra_mm *mm = t->mm;
	if (!mm)
		return;
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		zap_range(m, mm, mm->vma[i].start, mm->vma[i].end);
}

static void task_free_memory(ra_machine *m, struct ra_task *t)
{
	if (t->um) {
		um_destroy(t->um);
		t->um = NULL;
	}
	for (uint32_t i = 0; i < t->nr_threads; i++) {
		if (t->threads[i].kstack)
			ra_vfree_internal(m, t->threads[i].kstack);
		t->threads[i].kstack = 0;
		t->threads[i].alive = 0;
	}
	mm_release(m, t->mm);
	t->mm = NULL;
	if (t->task_obj)
		ra_kmem_cache_free_internal(m, m->mmw->task_cache, t->task_obj);
	t->task_obj = 0;
}

void ra_task_exit(ra_machine *m, struct ra_task *t)
{
	if (!ra_task_alive(t))
		return;
	t->state = TASK_EXITED;
	if (t->busy)
		reap(m, t);
	else
		task_free_memory(m, t);
}

void ra_task_get(struct ra_task *t) { t->busy++; }

void ra_task_put(ra_machine *m, struct ra_task *t)
{
	RA_BUG_ON(m, !t->busy);
	if (--t->busy == 0 && !ra_task_alive(t) && (t->mm || t->um))
		task_free_memory(m, t);
}

static bool do_task_thread(ra_machine *m, struct ra_task *t, uint32_t tid)
{
	if (!ra_task_alive(t))
		return false;
	if (find_thread(t, tid))
		return true;
	/* pthread_create(): a user stack (guard page + 8 MiB) and a kernel stack */
	uint64_t stk = ra_mmap(m, t, PTHREAD_STACK + RA_PAGE_SIZE, 0, 0);
	if (!stk)
		return false;
	if (ra_mprotect(m, t, stk + RA_PAGE_SIZE, PTHREAD_STACK, 3) || !thread_add(m, t, tid)) {
		ra_munmap(m, t, stk, PTHREAD_STACK + RA_PAGE_SIZE);
		return false;
	}
	struct ra_thread *th = &t->threads[t->nr_threads - 1];
	th->ustack = stk;
	th->umt = um_thread_create(t->um);
	if (!th->umt) {
		ra_vfree_internal(m, th->kstack);
		t->nr_threads--;
		ra_munmap(m, t, stk, PTHREAD_STACK + RA_PAGE_SIZE);
		return false;
	}
	return true;
}

bool ra_task_thread(ra_machine *m, struct ra_task *t, uint32_t tid)
{
	if (!ra_task_alive(t))
		return false;
	ra_task_get(t);
	bool r = do_task_thread(m, t, tid);
	ra_task_put(m, t);
	return r;
}

struct um_thread *ra_task_umthread(struct ra_task *t, uint32_t tid)
{
	struct ra_thread *th = find_thread(t, tid);
	return th ? th->umt : NULL;
}

void ra_set_current(ra_machine *m, struct ra_task *t, uint32_t tid)
{
	struct ra_mm_world *w = world(m);
	w->cur = t;
	w->cur_tid = tid;
}

/* === OOM ================================================================= */

uint64_t ra_oom_totalpages(ra_machine *m) { return m->totalram; }   /* + swap: none */

/* oom_badness() from the counters it reads. */
long ra_oom_badness_of(uint64_t rss, uint64_t swapents, uint64_t pgtables_bytes, int oom_score_adj, uint64_t totalpages)
{
	long adj = oom_score_adj;
#if RA_MUTANT != 15 /* mutant 15: oom_score_adj -1000 (OOM_SCORE_ADJ_MIN) no longer exempts a task */
	if (adj == -1000)
		return LONG_MIN;
#endif
	long points = (long)(rss + swapents + pgtables_bytes / RA_PAGE_SIZE);
	adj *= (long)(totalpages / 1000);    /* normalized to oom_score_adj units */
	return points + adj;
}

/* proc_oom_score(): badness scaled to [0, 2000] as the modern kernel shows it */
unsigned long ra_oom_score_of(long badness, uint64_t totalpages)
{
	if (badness == LONG_MIN)
		return 0;
	return (unsigned long)((1000 + badness * 1000 / (long)totalpages) * 2 / 3);
}

long ra_oom_badness(ra_machine *m, struct ra_task *t, uint64_t totalpages)
{
	(void)m;
	if (!ra_task_alive(t) || t->pid == 1 || !t->mm)
		return LONG_MIN;
	return ra_oom_badness_of(t->mm->rss, 0, t->mm->nr_pt * RA_PAGE_SIZE, t->oom_score_adj, totalpages);
}

unsigned long ra_oom_score(ra_machine *m, struct ra_task *t)
{
	uint64_t total = ra_oom_totalpages(m);
	return ra_oom_score_of(ra_oom_badness(m, t, total), total);
}

int ra_oom_adj_from_score_adj(int score_adj)
{
	if (score_adj == 1000)
		return 15;
	return score_adj * 17 / 1000;
}

int ra_oom_score_adj_from_adj(int adj)
{
	if (adj == 15)
		return 1000;
	return adj * 1000 / 17;
}

static void oom_dump(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	struct ra_mm_world *w = m->mmw;
	if (!m->err)
		return;
	char names[256];
	ra_gfp_format(gfp, names, sizeof(names));
	struct ra_task *cur = w->cur;
	fprintf(m->err, "%s invoked oom-killer: gfp_mask=%#x(%s), order=%u, oom_score_adj=%d\n",
	        cur ? cur->comm : "kworker", gfp, names, order, cur ? cur->oom_score_adj : 0);
	fprintf(m->err, "Tasks state (memory values in pages):\n");
	fprintf(m->err, "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
	        "oom_score_adj name\n");
	for (uint32_t i = 0; i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		if (!ra_task_alive(t))
			continue;
		struct ra_mm *mm = t->mm;
		fprintf(m->err, "[%7u] %5d %5u %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8d %9d %8" PRIu64 " %8d         %5d %s\n",
		        t->pid, 0, t->pid, mm->total_vm, mm->rss, mm->rss, 0, 0, (uint64_t)(mm->nr_pt * RA_PAGE_SIZE), 0,
		        t->oom_score_adj, t->comm);
	}
}

/* Kill t: the OOM killer (why = its message) or a fatal fault (why NULL). */
static void kill_task(ra_machine *m, struct ra_task *t, const char *why)
{
	struct ra_mm_world *w = m->mmw;
	struct ra_mm *mm = t->mm;
	if (!why) {
		t->state = TASK_KILLED;
		if (t->busy)
			reap(m, t);
		else
			task_free_memory(m, t);
		return;
	}
	if (m->err) {
		fprintf(m->err, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
		        "task_memcg=/,task=%s,pid=%u,uid=0\n", t->comm, t->pid);
		fprintf(m->err, "%s: Killed process %u (%s) total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64 "kB, file-rss:0kB, "
		        "shmem-rss:0kB, UID:0 pgtables:%" PRIu64 "kB oom_score_adj:%d\n", why, t->pid, t->comm,
		        K(mm->total_vm), K(mm->rss), K(mm->nr_pt), t->oom_score_adj);
	}
	if (w->nr_kills == w->cap_kills) {
		w->cap_kills = w->cap_kills ? w->cap_kills * 2 : 8;
		w->kills = realloc(w->kills, w->cap_kills * sizeof(*w->kills));
		RA_BUG_ON(m, !w->kills);
	}
	struct ra_kill *k = &w->kills[w->nr_kills++];
	k->pid = t->pid;
	memcpy(k->comm, t->comm, sizeof(k->comm));
	k->op_seq = m->op_seq;
	t->state = TASK_KILLED;
	if (t->busy)
		reap(m, t);
	else
		task_free_memory(m, t);
}

static void panic(ra_machine *m, const char *msg)
{
	m->mmw->panicked = true;
	if (m->err)
		fprintf(m->err, "Kernel panic - not syncing: %s\n", msg);
}

/* out_of_memory(): true when a task was killed (memory was freed). */
bool ra_oom_hook(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	struct ra_mm_world *w = m->mmw;
	if (!w || !w->nr_tasks || w->panicked || w->in_oom)
		return false;
	w->in_oom++;
	bool killed = false;
	uint64_t total = ra_oom_totalpages(m);
	int64_t panic_on_oom = KNOB(m, VM_PANIC_ON_OOM);
	if (panic_on_oom) {
		oom_dump(m, gfp, order);
		panic(m, panic_on_oom == 2 ? "Out of memory: compulsory panic_on_oom is enabled"
		                           : "Out of memory: system-wide panic_on_oom is enabled");
		goto out;
	}
	struct ra_task *cur = w->cur;
	if (KNOB(m, VM_OOM_KILL_ALLOCATING_TASK) && ra_task_alive(cur) && cur->oom_score_adj != -1000) {
		oom_dump(m, gfp, order);
		kill_task(m, cur, "Out of memory (oom_kill_allocating_task)");
		killed = true;
		goto out;
	}
	struct ra_task *chosen = NULL;
	long chosen_points = LONG_MIN;
	for (uint32_t i = 0; i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		long points = ra_oom_badness(m, t, total);
#if RA_MUTANT == 14 /* mutant 14: wrong OOM victim (the lowest badness instead of the highest) */
		if (points == LONG_MIN || (chosen && points > chosen_points))
#else
		if (points == LONG_MIN || points < chosen_points)
#endif
			continue;
		chosen = t;
		chosen_points = points;
	}
	oom_dump(m, gfp, order);
	if (!chosen) {
		if (m->err)
			fprintf(m->err, "Out of memory and no killable processes...\n");
		panic(m, "System is deadlocked on memory");
		goto out;
	}
	kill_task(m, chosen, "Out of memory");
	killed = true;
out:
	w->in_oom--;
	return killed;
}

/* === Views =============================================================== */

static const char *vma_name(struct ra_mm *mm, const struct ra_vma *v)
{
	if (v->flags & VM_GROWSDOWN)
		return "[stack]";
	if (v->start <= mm->brk && v->end >= mm->start_brk)
		return "[heap]";
	return NULL;
}

struct smaps { uint64_t rss, pss, shared_dirty, private_dirty, anon, locked; };

static void smaps_range(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v, struct smaps *s)
{
	for (uint64_t va = v->start; va < v->end; va += RA_PAGE_SIZE) {
		uint64_t *pte = pte_lookup(mm, va);
		if (!pte) {
			va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
			continue;
		}
		uint64_t e = *pte;
		if (!(e & PTE_PRESENT) || (e & PTE_ZERO))
			continue;
		uint32_t mapcount = pfn_page(m, PTE_PFN(e))->count;
		s->rss += RA_PAGE_SIZE;
		s->anon += RA_PAGE_SIZE;
		s->pss += (RA_PAGE_SIZE << 12) / mapcount;
		if (mapcount >= 2)
			s->shared_dirty += RA_PAGE_SIZE;
		else
			s->private_dirty += RA_PAGE_SIZE;
		if (v->flags & VM_LOCKED)
			s->locked += (RA_PAGE_SIZE << 12) / mapcount;
	}
}

static void put_kb(FILE *f, const char *label, uint64_t bytes)
{
	fprintf(f, "%-16s%8" PRIu64 " kB\n", label, bytes >> 10);
}

static void view_status(ra_machine *m, struct ra_task *t)
{
	FILE *f = m->out;
	struct ra_mm *mm = t->mm;
	fprintf(f, "Name:\t%s\n", t->comm);
	fprintf(f, "State:\t%s\n", ra_task_alive(t) ? "R (running)" : "X (dead)");
	fprintf(f, "Tgid:\t%u\nPid:\t%u\nPPid:\t%u\n", t->pid, t->pid, t->ppid);
	if (mm) {
		fprintf(f, "VmPeak:\t%8" PRIu64 " kB\n", K(mm->hiwater_vm));
		fprintf(f, "VmSize:\t%8" PRIu64 " kB\n", K(mm->total_vm));
		fprintf(f, "VmLck:\t%8" PRIu64 " kB\n", K(mm->locked_vm));
		fprintf(f, "VmPin:\t%8d kB\n", 0);
		fprintf(f, "VmHWM:\t%8" PRIu64 " kB\n", K(RA_MAX(mm->hiwater_rss, mm->rss)));
		fprintf(f, "VmRSS:\t%8" PRIu64 " kB\n", K(mm->rss));
		fprintf(f, "RssAnon:\t%8" PRIu64 " kB\n", K(mm->rss));
		fprintf(f, "RssFile:\t%8d kB\n", 0);
		fprintf(f, "RssShmem:\t%8d kB\n", 0);
		fprintf(f, "VmData:\t%8" PRIu64 " kB\n", K(mm->data_vm));
		fprintf(f, "VmStk:\t%8" PRIu64 " kB\n", K(mm->stack_vm));
		fprintf(f, "VmExe:\t%8d kB\n", 0);
		fprintf(f, "VmLib:\t%8d kB\n", 0);
		fprintf(f, "VmPTE:\t%8" PRIu64 " kB\n", K(mm->nr_pt));
		fprintf(f, "VmSwap:\t%8d kB\n", 0);
		fprintf(f, "HugetlbPages:\t%8d kB\n", 0);
	}
	fprintf(f, "Threads:\t%u\n", t->nr_threads);
	fprintf(f, "min_flt:\t%" PRIu64 "\n", t->min_flt);
}

static void view_maps(ra_machine *m, struct ra_task *t)
{
	struct ra_mm *mm = t->mm;
	if (!mm)
		return;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		struct ra_vma *v = &mm->vma[i];
		char line[160];
		int n = snprintf(line, sizeof(line), "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08x %02x:%02x %lu ", v->start,
		                 v->end, v->flags & VM_READ ? 'r' : '-', v->flags & VM_WRITE ? 'w' : '-',
		                 v->flags & VM_EXEC ? 'x' : '-', v->flags & VM_SHARED ? 's' : 'p', 0, 0, 0, 0UL);
		const char *name = vma_name(mm, v);
		if (name)
			fprintf(m->out, "%-73s%s\n", line, name);
		else
			fprintf(m->out, "%.*s\n", n, line);
	}
}

static void view_smaps_rollup(ra_machine *m, struct ra_task *t)
{
	struct ra_mm *mm = t->mm;
	if (!mm || !mm->nr_vma)
		return;
	struct smaps s = { 0 };
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		smaps_range(m, mm, &mm->vma[i], &s);
	char line[160];
	snprintf(line, sizeof(line), "%08" PRIx64 "-%08" PRIx64 " ---p %08x %02x:%02x %lu ", mm->vma[0].start,
	         mm->vma[mm->nr_vma - 1].end, 0, 0, 0, 0UL);
	FILE *f = m->out;
	fprintf(f, "%-73s[rollup]\n", line);
	put_kb(f, "Rss:", s.rss);
	put_kb(f, "Pss:", s.pss >> 12);
	put_kb(f, "Pss_Dirty:", s.pss >> 12);
	put_kb(f, "Pss_Anon:", s.pss >> 12);
	put_kb(f, "Pss_File:", 0);
	put_kb(f, "Pss_Shmem:", 0);
	put_kb(f, "Shared_Clean:", 0);
	put_kb(f, "Shared_Dirty:", s.shared_dirty);
	put_kb(f, "Private_Clean:", 0);
	put_kb(f, "Private_Dirty:", s.private_dirty);
	put_kb(f, "Referenced:", s.rss);
	put_kb(f, "Anonymous:", s.anon);
	put_kb(f, "KSM:", 0);
	put_kb(f, "LazyFree:", 0);
	put_kb(f, "AnonHugePages:", 0);
	put_kb(f, "ShmemPmdMapped:", 0);
	put_kb(f, "FilePmdMapped:", 0);
	put_kb(f, "Shared_Hugetlb:", 0);
	put_kb(f, "Private_Hugetlb:", 0);
	put_kb(f, "Swap:", 0);
	put_kb(f, "SwapPss:", 0);
	put_kb(f, "Locked:", s.locked >> 12);
}

/* Strong definition of views.c's weak hook: the current task's views. */
int ra_mm_view(ra_machine *m, const char *name)
{
	struct ra_mm_world *w = m->mmw;
	struct ra_task *t = w ? w->cur : NULL;
	if (!t)
		return 1;
	if (!m->out)
		return 0;
	if (!strcmp(name, "status")) view_status(m, t);
	else if (!strcmp(name, "maps")) view_maps(m, t);
	else if (!strcmp(name, "smaps_rollup")) view_smaps_rollup(m, t);
	else if (!strcmp(name, "oom_score")) fprintf(m->out, "%lu\n", ra_oom_score(m, t));
	else if (!strcmp(name, "oom_score_adj")) fprintf(m->out, "%d\n", t->oom_score_adj);
	else if (!strcmp(name, "oom_adj")) fprintf(m->out, "%d\n", ra_oom_adj_from_score_adj(t->oom_score_adj));
	else if (!strcmp(name, "malloc_stats")) { if (t->um) um_stats(t->um, m->out); }
	else if (!strcmp(name, "malloc_info")) { if (t->um) um_info(t->um, 0, m->out); }
	else return RA_ENOENT;
	return 0;
}

void ra_mm_meminfo(ra_machine *m, struct ra_meminfo *mi)
{
	struct ra_mm_world *w = m->mmw;
	if (!w)
		return;
	mi->committed_as = w->committed_as;
	mi->mlocked = w->mlocked;
	uint64_t threads = 0;
	for (uint32_t i = 0; i < w->nr_tasks; i++)
		if (ra_task_alive(w->tasks[i]))
			threads += w->tasks[i]->nr_threads;
	mi->kernel_stack = threads * (THREAD_SIZE >> 10);    /* kB */
}

/* === Validation ========================================================== */

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
		if (i && vma_mergeable(&mm->vma[i - 1], v))
			ra_problem(m, &problems, "task %s[%u]: vmas at %" PRIx64 " and %" PRIx64 " should have merged",
			           t->comm, t->pid, mm->vma[i - 1].start, v->start);
		uint64_t pages = (v->end - v->start) >> RA_PAGE_SHIFT;
		total += pages;
		if (is_data(v->flags)) data += pages;
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
	uint64_t rss = 0, tables = 0;
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
					if (!(e & PTE_PRESENT))
						continue;
					used++;
					uint64_t va = ((uint64_t)a << 39) | ((uint64_t)b << 30) | ((uint64_t)c << 21) | ((uint64_t)d << 12);
					struct ra_vma *v = find_vma(mm, va);
					if (!v || v->start > va)
						ra_problem(m, &problems, "task %s[%u]: page %" PRIx64 " mapped outside any vma", t->comm,
						           t->pid, va);
					if (e & PTE_ZERO)
						continue;
					uint32_t pfn = PTE_PFN(e);
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

long ra_mm_validate(ra_machine *m, bool full)
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
	if (committed != w->committed_as)
		ra_problem(m, &problems, "Committed_AS %" PRIu64 " pages but the tasks hold %" PRIu64, w->committed_as,
		           committed);
	if (pgtables != m->st.pgtable_pages)
		ra_problem(m, &problems, "page-table pages: tasks hold %" PRIu64 ", frames counted %" PRIu64, pgtables,
		           m->st.pgtable_pages);
	if (full) {
		uint64_t user = 0, mlocked = 0;
		for (uint32_t pfn = 0; pfn < m->nr_pages; pfn++) {
			struct ra_page *p = &m->pages[pfn];
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
		if (user != m->st.user_pages)
			ra_problem(m, &problems, "user pages: %" PRIu64 " frames, %" PRIu64 " counted", user, m->st.user_pages);
		if (mlocked != w->mlocked)
			ra_problem(m, &problems, "mlocked pages: %" PRIu64 " flagged, %" PRIu64 " counted", mlocked, w->mlocked);
		free(mapcount);
	}
	return problems;
}

void ra_mm_fini(ra_machine *m)
{
	struct ra_mm_world *w = m->mmw;
	if (!w)
		return;
	for (uint32_t i = 0; i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		if (ra_task_alive(t))
			task_free_memory(m, t);
		if (t->um)
			um_destroy(t->um);
		free(t->threads);
		free(t);
	}
	free(w->tasks);
	free(w->kills);
	free(w);
	m->mmw = NULL;
}

/* === umalloc's back end (um_sim.h) ====================================== */

/* Callers of umalloc pin the task around each call (ra_task_get), so the
 * mm stays valid here even if a fault below runs the OOM killer on it.
 *
 * A fault malloc itself takes and the kernel cannot serve ends the task:
 * no memory (translate() kills it, SIGBUS), or no mapping, when a trace
 * unmapped malloc's memory behind its back (SIGSEGV, here). The program
 * would die at that access; umalloc cannot stop halfway, so it finishes
 * the call against the dead task (loads read 0, stores are dropped, its
 * reports are silenced: um_os_report) and the call fails. Only within a
 * call (the task pinned: malloc_segv). */
static uint8_t *um_xlate(struct um_os *os, um_addr a, bool write)
{
	struct ra_task *t = os->t;
	if (!ra_task_alive(t))
		return NULL;
	int err = 0;
	return translate(os->m, t, a, write, &err, true);
}

uint64_t um_os_load64(struct um_os *os, um_addr addr)
{
	uint8_t *h = um_xlate(os, addr, false);
	return h ? ra_raw_ld64(h) : 0;
}

void um_os_store64(struct um_os *os, um_addr addr, uint64_t val)
{
	uint8_t *h = um_xlate(os, addr, true);
	if (h)
		ra_raw_st64(h, val);
}

void um_os_fill(struct um_os *os, um_addr addr, int byte, size_t len)
{
	while (len) {
		size_t chunk = (size_t)RA_MIN(len, RA_PAGE_SIZE - (addr & (RA_PAGE_SIZE - 1)));
		uint8_t *h = um_xlate(os, addr, true);
		if (!h)
			return;
		ra_raw_fill(h, byte, chunk);
		addr += chunk;
		len -= chunk;
	}
}

void um_os_copy(struct um_os *os, um_addr dst, um_addr src, size_t len)
{
	uint8_t buf[RA_PAGE_SIZE];
	/* through a bounce buffer, page-sized pieces, backwards when overlapping */
	bool back = dst > src && dst < src + len;
	while (len) {
		size_t chunk = RA_MIN(len, sizeof(buf));
		um_addr s = back ? src + len - chunk : src, d = back ? dst + len - chunk : dst;
		for (size_t o = 0; o < chunk;) {
			size_t c = (size_t)RA_MIN(chunk - o, RA_PAGE_SIZE - ((s + o) & (RA_PAGE_SIZE - 1)));
			uint8_t *h = um_xlate(os, s + o, false);
			if (!h)
				return;
			ra_raw_copy(buf + o, h, c);
			o += c;
		}
		for (size_t o = 0; o < chunk;) {
			size_t c = (size_t)RA_MIN(chunk - o, RA_PAGE_SIZE - ((d + o) & (RA_PAGE_SIZE - 1)));
			uint8_t *h = um_xlate(os, d + o, true);
			if (!h)
				return;
			ra_raw_copy(h, buf + o, c);
			o += c;
		}
		if (!back) {
			src += chunk;
			dst += chunk;
		}
		len -= chunk;
	}
}

size_t um_os_cmpbyte(struct um_os *os, um_addr addr, int byte, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t chunk = (size_t)RA_MIN(len - done, RA_PAGE_SIZE - ((addr + done) & (RA_PAGE_SIZE - 1)));
		uint8_t *h = um_xlate(os, addr + done, false);
		if (!h)
			return done;
		size_t k = ra_raw_find_not(h, byte, chunk);
		done += k;
		if (k < chunk)
			break;
	}
	return done;
}

um_addr um_os_brk(struct um_os *os, int64_t delta)
{
	uint64_t r = ra_sbrk(os->m, os->t, delta);
	if (r == UINT64_MAX)
		return UM_BRK_FAIL;
	if (delta && os->t->mm)
		os->t->mm->malloc_brk = os->t->mm->brk;
	return r;
}

um_addr um_os_mmap(struct um_os *os, size_t len, int prot, unsigned flags)
{
	return ra_mmap(os->m, os->t, len, prot, (flags & UM_MAP_NORESERVE) ? RA_MMAP_NORESERVE : 0);
}

int um_os_munmap(struct um_os *os, um_addr addr, size_t len) { return ra_munmap(os->m, os->t, addr, len); }
int um_os_mprotect(struct um_os *os, um_addr addr, size_t len, int prot) { return ra_mprotect(os->m, os->t, addr, len, prot); }

/* MREMAP_MAYMOVE: grow in place when the next VMA leaves room, else move
 * the page table entries (the pages themselves do not move). */
/* The leaf table that holds pte slot pe (of address va). */
static struct pt_leaf *leaf_of(uint64_t *pe, uint64_t va)
{
	return (struct pt_leaf *)((char *)(pe - PTE_IDX(va)) - offsetof(struct pt_leaf, pte));
}

/* Move the entry at from (of address fva) to leaf l's slot for va; the
 * source leaf loses the entry without freeing the page. */
static void move_pte(struct pt_leaf *l, uint64_t va, uint64_t *from, uint64_t fva)
{
	l->pte[PTE_IDX(va)] = *from;
	l->used++;
	*from = 0;
	leaf_of(from, fva)->used--;
}

um_addr um_os_mremap(struct um_os *os, um_addr addr, size_t oldlen, size_t newlen)
{
	ra_machine *m = os->m;
	struct ra_task *t = os->t;
	if (!ra_task_alive(t) || (addr & (RA_PAGE_SIZE - 1)))
		return 0;
	struct ra_mm *mm = t->mm;
	oldlen = PAGE_ALIGN(oldlen);
	newlen = PAGE_ALIGN(newlen);
	struct ra_vma *v = find_vma(mm, addr);
	if (!v || v->start > addr || v->end < addr + oldlen)
		return 0;
	if (newlen <= oldlen) {
		if (newlen < oldlen && unmap_range(m, mm, addr + newlen, addr + oldlen))
			return 0;
		return addr;
	}
	uint32_t flags = v->flags;
	uint64_t grow = (newlen - oldlen) >> RA_PAGE_SHIFT;
	uint32_t i = vma_index(mm, addr + oldlen);
	bool room = v->end == addr + oldlen && (i >= mm->nr_vma || mm->vma[i].start >= addr + newlen);
	if ((flags & VM_ACCOUNT) && !vm_enough_memory(m, t, grow))
		return 0;
	if (room) {
		if (!vma_insert(m, mm, addr + oldlen, addr + newlen, flags)) {
			if (flags & VM_ACCOUNT)
				unaccount_commit(m, mm, grow);
			return 0;
		}
		return addr;
	}
	uint64_t na = get_unmapped_area(mm, newlen);
	if (!na || !vma_insert(m, mm, na, na + newlen, flags)) {
		if (flags & VM_ACCOUNT)
			unaccount_commit(m, mm, grow);
		return 0;
	}
	uint64_t moved = 0;
	bool failed = false;
	for (uint64_t off = 0; off < oldlen; off += RA_PAGE_SIZE) {
		uint64_t *pe = pte_lookup(mm, addr + off);
		if (!pe || !(*pe & PTE_PRESENT))
			continue;
		struct pt_leaf *l = pt_walk(m, t, mm, na + off, true);
		if (!ra_task_alive(t))
			return 0;
		pe = pte_lookup(mm, addr + off);
		if (!l || !pe) {
			failed = true;      /* no page table for it */
			break;
		}
		move_pte(l, na + off, pe, addr + off);
		moved = off + RA_PAGE_SIZE;
	}
	tlb_flush(mm);
	if (failed) {
		/* move_vma(): the entries moved so far go back (their old tables
		 * are still there), the new area is unmapped and mremap fails
		 * with ENOMEM: the old mapping is as it was */
		for (uint64_t off = 0; off < moved; off += RA_PAGE_SIZE) {
			uint64_t *np = pte_lookup(mm, na + off), *op = pte_lookup(mm, addr + off);
			if (!np || !(*np & PTE_PRESENT))
				continue;
			RA_BUG_ON(m, !op);
			move_pte(leaf_of(op, addr + off), addr + off, np, na + off);
		}
		tlb_flush(mm);
		unmap_range(m, mm, na, na + newlen);
		if (flags & VM_ACCOUNT) {       /* unmap_range uncharged newlen; the old range keeps its charge */
			mm->committed += oldlen >> RA_PAGE_SHIFT;
			m->mmw->committed_as += oldlen >> RA_PAGE_SHIFT;
		}
		return 0;
	}
	/* the old range's charge moves with the mapping (move_vma()) */
	unmap_range(m, mm, addr, addr + oldlen);
	if (flags & VM_ACCOUNT) {
		mm->committed += oldlen >> RA_PAGE_SHIFT;
		m->mmw->committed_as += oldlen >> RA_PAGE_SHIFT;
	}
	return na;
}

int um_os_release(struct um_os *os, um_addr addr, size_t len) { return ra_madv_dontneed(os->m, os->t, addr, len); }
size_t um_os_pagesize(const struct um_os *os) { (void)os; return RA_PAGE_SIZE; }
unsigned um_os_ncpus(const struct um_os *os) { return os->m->ncpus; }

void um_os_report(struct um_os *os, const char *cls, um_addr addr, const char *msg)
{
	/* a task killed inside the call (see um_xlate) reads zeros where its
	 * heap was: what umalloc then finds is no misuse of the program's */
	if (!ra_task_alive(os->t))
		return;
	int c = !strcmp(cls, "double-free") ? RC_DOUBLE_FREE : !strcmp(cls, "invalid-free") ? RC_INVALID_FREE
	                                                                                        : RC_HEAP_CORRUPTION;
	ra_report(os->m, c, "malloc", "%s[%u]: %s at 0x%" PRIx64, os->t->comm, os->t->pid, msg, addr);
}

void *um_os_meta_alloc(struct um_os *os, size_t len) { (void)os; return calloc(1, len); }
void um_os_meta_free(struct um_os *os, void *p, size_t len) { (void)os; (void)len; free(p); }
