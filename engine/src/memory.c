/*
 * memory.c — file mappings: mmap of a file, the faults on it and msync,
 * as the kernel's mm/memory.c (do_read_fault, do_cow_fault,
 * do_shared_fault, do_fault_around, wp_page_shared, wp_page_copy),
 * mm/filemap.c (filemap_map_pages), mm/mmap.c and mm/msync.c do them.
 * Anonymous memory stays mm.c's.
 *
 * A file VMA names its file and the file page its start maps (vm_pgoff);
 * a present pte of it maps either the page-cache page itself (owner
 * PO_FILE) or, in a private mapping, the page's anonymous COW copy. A
 * page-cache page's mapcount (the ptes mapping it) lives in the filemap
 * layer's array; nr_mapped counts the pages whose mapcount is not 0. Every
 * pte made by a fault is young, as x86's protections carry the accessed
 * bit.
 *
 *   read fault      fault-around first (16 pages, fault_around_bytes 64
 *                   KiB, inside the aligned window, the VMA and the page
 *                   table): the pages already cached, not PG_readahead,
 *                   inside i_size, whose ptes are empty, are mapped without
 *                   I/O (one less mmap_miss each); when that maps the
 *                   faulting page the fault is done (minor). Otherwise
 *                   filemap_fault: a cached page is a minor fault, a miss a
 *                   major one (pgmajfault) that reads around it.
 *   write, private  do_cow_fault: a new anonymous page (mm.c's) gets a copy
 *                   of the file page; the file page is not mapped. A write
 *                   to a page mapped read-only (wp_page_copy) does the same
 *                   and unmaps the file page.
 *   write, shared   do_shared_fault / wp_page_shared: page_mkwrite dirties
 *                   the page (nr_dirty; tmpfs does not count dirty pages),
 *                   the pte is writable and dirty, and the writer goes
 *                   through balance_dirty_pages as a write(2) of one page.
 *                   Read faults of a shared disk-file mapping map read-only
 *                   (the kernel's writenotify), so that writeback, which
 *                   write-protects the ptes again (folio_mkclean), sees the
 *                   next write.
 *   past i_size     SIGBUS: the task dies.
 *
 * Pages of VM_LOCKED mappings are mlocked as they are mapped and move to
 * the unevictable list; the deterministic rule for munlock: a page leaves
 * it when its mapcount drops to 0 (the kernel's mlock_count would let it
 * go as soon as no locked VMA maps it).
 *
 * Overcommit: only a private writable file mapping is charged to
 * Committed_AS (accountable_mapping()); shared ones are not.
 */
#include "mm.h"
#include "san.h"
#include <inttypes.h>

#define FAULT_AROUND_PAGES 16   /* fault_around_bytes / PAGE_SIZE */

static struct ra_file *vma_file(ra_machine *m, const struct ra_vma *v) { return filemap_file(m, v->file - 1); }

static inline uint64_t vma_index(const struct ra_vma *v, uint64_t va)
{
	return v->pgoff + ((va - v->start) >> RA_PAGE_SHIFT);
}

/* === Mapping and unmapping page-cache pages ============================ */

/* munlock_folio() of a page-cache page (mm_mlock_page is mlock_folio). */
static void munlock_file_page(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	if (!(p->flags & PGF_MLOCKED))
		return;
	p->flags &= (uint16_t)~PGF_MLOCKED;
	mod_zone_page_state(pfn_zone(m, pfn), NR_MLOCK, -1);
	if (p->flags & PGF_LRU) {
		lru_del(m, pfn);
		p->flags &= (uint16_t)~(PGF_UNEVICTABLE | PGF_ACTIVE);
		lru_add(m, pfn, page_lru(p));
	}
}

/* page_add_file_rmap() */
static void add_file_rmap(ra_machine *m, uint32_t pfn, const struct ra_vma *v)
{
	if (!m->fm->mapcount[pfn]++)
		mod_node_page_state(m, NR_FILE_MAPPED, 1);
	if (v->flags & VM_LOCKED)
		mm_mlock_page(m, pfn);
}

/* page_remove_rmap() */
static void remove_file_rmap(ra_machine *m, uint32_t pfn)
{
	RA_BUG_ON(m, !m->fm->mapcount[pfn]);
	if (--m->fm->mapcount[pfn])
		return;
	mod_node_page_state(m, NR_FILE_MAPPED, -1);
	munlock_file_page(m, pfn);
}

void mm_file_pte_zap(ra_machine *m, struct ra_mm *mm, uint64_t pte)
{
	uint32_t pfn = PTE_PFN(pte);
	/* zap_pte_range(): the pte's dirty and accessed bits go to the page */
	if (pte & PTE_DIRTY)
		filemap_dirty_page(m, pfn);
	if (pte & PTE_YOUNG)
		folio_mark_accessed(m, pfn);
	mm->rss_file--;
	remove_file_rmap(m, pfn);
}

void mm_vma_file_ref(ra_machine *m, uint32_t file, int delta)
{
	struct ra_file *f = filemap_file(m, file - 1);
	RA_BUG_ON(m, !f || (delta < 0 && f->nr_mmaps < (uint32_t)-delta));
	f->nr_mmaps += (uint32_t)delta;
	if (!f->nr_mmaps) {
		dcache_file_close(m, f);     /* the last mapping's fput() */
		filemap_file_unmapped(m, f);
	}
}

/* do_set_pte(): pfn at va, young; writable (and dirty) for a write. A
 * read fault of a shared tmpfs mapping maps it writable (no writenotify:
 * shmem does no dirty accounting). */
static void set_file_pte(ra_machine *m, struct ra_mm *mm, struct pt_leaf *l, uint64_t va, uint32_t pfn,
                         const struct ra_vma *v, struct ra_file *f, bool write)
{
	uint64_t e = ((uint64_t)pfn << 12) | PTE_PRESENT | PTE_YOUNG;
	if (write)
		e |= PTE_WRITE | PTE_DIRTY;
	else if ((v->flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE) && f->shmem)
		e |= PTE_WRITE;
	l->pte[PTE_IDX(va)] = e;
	l->used++;
	if (++mm->rss_file + mm->rss > mm->hiwater_rss)   /* get_mm_rss()'s high-water mark */
		mm->hiwater_rss = mm->rss_file + mm->rss;
	add_file_rmap(m, pfn, v);
}

/* === Faults ============================================================= */

/* do_fault_around() + filemap_map_pages(): true when the faulting page
 * was among those mapped. */
static bool fault_around(ra_machine *m, struct ra_mm *mm, struct pt_leaf *l, const struct ra_vma *v,
                         struct ra_file *f, uint64_t va)
{
	uint64_t nr = FAULT_AROUND_PAGES, index = vma_index(v, va);
	uint64_t addr = RA_MAX(va & ~(nr * RA_PAGE_SIZE - 1), v->start);
	uint64_t start = index - (((va - addr) >> RA_PAGE_SHIFT) & (PTRS - 1));
	uint64_t end = start - ((addr >> RA_PAGE_SHIFT) & (PTRS - 1)) + PTRS - 1;
	end = RA_MIN(RA_MIN(end, ((v->end - v->start) >> RA_PAGE_SHIFT) + v->pgoff - 1), start + nr - 1);
	uint64_t max_idx = file_pages(f);
	bool mapped = false;
	for (uint64_t i = start; i <= end && i < max_idx; i++) {
		uint32_t pfn = filemap_get_page(f, i);
		if (pfn == RA_NOPFN || (pfn_page(m, pfn)->flags & PGF_READAHEAD))
			continue;
		uint64_t a = addr + ((i - start) << RA_PAGE_SHIFT);
		if (l->pte[PTE_IDX(a)])
			continue;
		if (f->mmap_miss)
			f->mmap_miss--;
		set_file_pte(m, mm, l, a, pfn, v, f, false);
		mapped |= a == (va & ~(uint64_t)(RA_PAGE_SIZE - 1));
	}
	return mapped;
}

static void count_fault(ra_machine *m, struct ra_task *t, bool major)
{
	if (major) {
		count_vm_event(m, PGMAJFAULT);
		t->maj_flt++;
	} else {
		t->min_flt++;
	}
}

/* The anonymous copy of a private file page (do_cow_fault, wp_page_copy):
 * the new page, or RA_NOPFN. */
static uint32_t cow_page(ra_machine *m, uint32_t src)
{
	uint32_t pfn = mm_alloc_user_page(m);
	if (pfn != RA_NOPFN && src != RA_NOPFN)
		ra_raw_copy(pfn_host(m, pfn), pfn_host(m, src), RA_PAGE_SIZE);
	return pfn;
}

static void map_anon(ra_machine *m, struct ra_mm *mm, uint64_t *pte, uint64_t va, uint32_t pfn,
                     const struct ra_vma *v)
{
	*pte = ((uint64_t)pfn << 12) | PTE_PRESENT | PTE_WRITE | PTE_YOUNG | PTE_DIRTY;
	rmap_add(m, pfn, mm, va);
	mm_rss_inc(mm);
	if (v->flags & VM_LOCKED)
		mm_mlock_page(m, pfn);
}

/* fault_dirty_shared_page(): dirtied, then the writer is balanced. */
static void dirty_shared(ra_machine *m, struct ra_file *f, uint32_t pfn)
{
	filemap_dirty_page(m, pfn);
	if (!f->shmem)
		balance_dirty_pages(m, 1);
}

int mm_file_fault(ra_machine *m, struct ra_task *t, struct ra_vma *v, uint64_t va, bool write)
{
	struct ra_mm *mm = t->mm;
	struct ra_file *f = vma_file(m, v);
	uint64_t index = vma_index(v, va);
	const struct ra_vma vv = *v;     /* the vma array may move while the fault allocates */
	struct pt_leaf *l = mm_pt_walk(m, t, mm, va, true);
	if (!ra_task_alive(t) || !l)
		return -2;
	uint64_t *pte = &l->pte[PTE_IDX(va)];
	uint64_t e = *pte;
	if (e && !(e & PTE_PRESENT))
		return 1;      /* a swap entry: an anonymous copy swapped out, do_swap_page's */
	if (e & PTE_PRESENT) {
		uint32_t old = PTE_PFN(e);
		if ((e & PTE_ZERO) || !mm_pfn_is_file(m, old))
			return 1;                       /* an anonymous page: mm.c's */
		if (!write || (e & PTE_WRITE))
			return 0;
		if (vv.flags & VM_SHARED) {
			/* wp_page_shared(): page_mkwrite, reuse the page writable */
			*pte = e | PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
			mm_tlb_flush(mm);
			t->min_flt++;
			dirty_shared(m, f, old);
			return 0;
		}
		/* wp_page_copy() */
		uint32_t pfn = cow_page(m, old);
		if (!ra_task_alive(t)) {
			if (pfn != RA_NOPFN)
				mm_free_anon_page(m, pfn);
			return -2;
		}
		if (pfn == RA_NOPFN)
			return -2;
		e = *pte;                           /* reclaim may have unmapped the file page meanwhile */
		if ((e & PTE_PRESENT) && mm_pfn_is_file(m, PTE_PFN(e))) {
			mm->rss_file--;
			remove_file_rmap(m, PTE_PFN(e));
			if (PTE_PFN(e) != old)
				ra_raw_copy(pfn_host(m, pfn), pfn_host(m, PTE_PFN(e)), RA_PAGE_SIZE);
		} else if (!(e & PTE_PRESENT)) {
			mm_free_anon_page(m, pfn);   /* the file page went: the access faults again */
			return 0;
		}
		map_anon(m, mm, pte, va, pfn, &vv);
		if (!(e & PTE_PRESENT))
			l->used++;
		t->min_flt++;
		mm_tlb_flush(mm);
		return 0;
	}
	if (index >= file_pages(f)) {
		ra_log(m, "%s[%u]: SIGBUS: access at 0x%" PRIx64 " maps page %" PRIu64 " of %s, past its end (%" PRIu64
		       " bytes)", t->comm, t->pid, va, index, f->name, f->size);
		return -2;
	}
	bool major = false;
	if (!write) {
		/* do_read_fault() */
		if (fault_around(m, mm, l, &vv, f, va)) {
			t->min_flt++;
			return 0;
		}
		uint32_t pfn = filemap_fault(m, f, index, &major);
		if (!ra_task_alive(t) || pfn == RA_NOPFN)
			return -2;
		if (!*pte)
			set_file_pte(m, mm, l, va, pfn, &vv, f, false);
		count_fault(m, t, major);
		return 0;
	}
	if (!(vv.flags & VM_SHARED)) {
		/* do_cow_fault(): the anonymous page first, then the file's */
		uint32_t pfn = mm_alloc_user_page(m);
		if (!ra_task_alive(t)) {
			if (pfn != RA_NOPFN)
				mm_free_anon_page(m, pfn);
			return -2;
		}
		if (pfn == RA_NOPFN)
			return -2;
		uint32_t src = filemap_fault(m, f, index, &major);
		if (!ra_task_alive(t) || src == RA_NOPFN) {
			mm_free_anon_page(m, pfn);
			return -2;
		}
		ra_raw_copy(pfn_host(m, pfn), pfn_host(m, src), RA_PAGE_SIZE);
		if (*pte) {
			mm_free_anon_page(m, pfn);   /* mapped meanwhile: the fault is retried */
			return 0;
		}
		map_anon(m, mm, pte, va, pfn, &vv);
		l->used++;
		count_fault(m, t, major);
		return 0;
	}
	/* do_shared_fault() */
	uint32_t pfn = filemap_fault(m, f, index, &major);
	if (!ra_task_alive(t) || pfn == RA_NOPFN)
		return -2;
	if (!*pte)
		set_file_pte(m, mm, l, va, pfn, &vv, f, true);
	count_fault(m, t, major);
	dirty_shared(m, f, pfn);
	return 0;
}

/* === mmap and msync ===================================================== */

static uint32_t prot_flags(int prot) { return (prot & 1 ? VM_READ : 0) | (prot & 2 ? VM_WRITE : 0); }

static uint64_t do_mmap_file(ra_machine *m, struct ra_task *t, uint64_t len, int prot, unsigned flags, uint32_t id,
                             uint64_t offset, bool shared)
{
	struct ra_file *f = filemap_file(m, id);
	if (!ra_task_alive(t) || !f || !len || len > USER_STACK_TOP || (offset & (RA_PAGE_SIZE - 1)))
		return 0;
	len = PAGE_ALIGN(len);
	uint64_t pages = len >> RA_PAGE_SHIFT, pgoff = offset >> RA_PAGE_SHIFT;
	if (pgoff + pages > ((uint64_t)RA_FILE_MAX >> RA_PAGE_SHIFT))
		return 0;     /* EOVERFLOW: the model's page indexes are 32 bits */
	if (ra_should_fail(m, FAIL_MMAP, RA_GFP_KERNEL))
		return 0;
	struct ra_mm *mm = t->mm;
	uint32_t vf = prot_flags(prot) | mm->def_flags | ((flags & RA_MMAP_LOCKED) ? VM_LOCKED : 0) |
	              (shared ? VM_SHARED : 0);
	if ((vf & (VM_SHARED | VM_WRITE)) == VM_WRITE)
		vf |= VM_ACCOUNT;
	uint64_t addr = mm_get_unmapped_area(mm, len);
	if (!addr)
		return 0;
	if ((vf & VM_ACCOUNT) && !mm_vm_enough_memory(m, t, pages))
		return 0;
	/* the mapping's struct file: its dentry and inode are held (busy,
	 * off the shrinker's lists) for as long as a VMA maps the file */
	if (dcache_file_open(m, f)) {
		if (vf & VM_ACCOUNT)
			mm_unaccount_commit(m, mm, pages);
		return 0;
	}
	filemap_mapcount_init(m);
	mm_file_rmap_register(m);
	if (!mm_vma_insert_file(m, mm, addr, addr + len, vf, id + 1, pgoff)) {
		if (vf & VM_ACCOUNT)
			mm_unaccount_commit(m, mm, pages);
		if (!f->nr_mmaps)
			dcache_file_close(m, f);
		return 0;
	}
	if (flags & RA_MMAP_TRACE)
		mm_tmap_add(m, mm, addr, len);
	if ((vf & VM_LOCKED) || (flags & RA_MMAP_POPULATE))
		mm_populate(m, t, addr, addr + len);
	return addr;
}

uint64_t ra_mmap_file(ra_machine *m, struct ra_task *t, uint64_t len, int prot, unsigned flags, uint32_t file,
                      uint64_t offset, bool shared)
{
	if (!ra_task_alive(t))
		return 0;
	ra_task_get(t);
	uint64_t r = do_mmap_file(m, t, len, prot, flags, file, offset, shared);
	ra_task_put(m, t);
	return r;
}

/* msync(MS_SYNC): for each shared file VMA of the range, the dirty ptes
 * dirty their pages, then the file's range is written back
 * (vfs_fsync_range); private mappings have nothing to write. */
static int do_msync(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	struct ra_mm *mm = t->mm;
	uint64_t end = addr + PAGE_ALIGN(len);
	if (addr & (RA_PAGE_SIZE - 1))
		return -1;
	int r = 0;
	for (uint64_t va = addr; va < end;) {
		uint32_t i = mm_vma_index(mm, va);
		if (i >= mm->nr_vma || mm->vma[i].start >= end)
			return -1;
		struct ra_vma v = mm->vma[i];
		if (v.start > va)
			r = -1;     /* a hole: ENOMEM, after the rest is done */
		uint64_t s = RA_MAX(va, v.start), e = RA_MIN(end, v.end);
		if (v.file && (v.flags & VM_SHARED)) {
			struct ra_file *f = vma_file(m, &v);
			for (uint64_t a = s; a < e; a += RA_PAGE_SIZE) {
				uint64_t *pte = mm_pte_lookup(mm, a);
				if (pte && (*pte & PTE_PRESENT) && (*pte & PTE_DIRTY) && mm_pfn_is_file(m, PTE_PFN(*pte)))
					filemap_dirty_page(m, PTE_PFN(*pte));
			}
			ra_file_fsync_range(m, f, vma_index(&v, s), vma_index(&v, e) - 1);
		}
		va = e;
	}
	return r;
}

int ra_msync(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	int r = do_msync(m, t, addr, len);
	ra_task_put(m, t);
	return r;
}
