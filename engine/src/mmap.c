/*
 * mmap.c — the mapping calls: mmap, munmap, mprotect, mremap's pieces, brk,
 * mlockall, MADV_DONTNEED, and overcommit accounting.
 *
 * Overcommit is __vm_enough_memory(): private writable mappings and brk are
 * charged to Committed_AS. Tasks run as UID 0 without RLIMIT_MEMLOCK, yet
 * overcommit mode 2 keeps the admin reserve from them, where the kernel
 * would let CAP_SYS_ADMIN use it: a simplification of the model
 * (docs/kernel-model.md, Overcommit).
 */
#include "mm.h"
#include "san.h"
#include <inttypes.h>
#include <limits.h>

/* === mmap, munmap, mprotect, brk, mlockall ============================== */

uint64_t mm_get_unmapped_area(struct ra_mm *mm, uint64_t len)
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
	uint64_t addr = mm_get_unmapped_area(mm, len);
	if (!addr)
		return 0;
	uint64_t pages = len >> RA_PAGE_SHIFT;
	if ((vf & VM_ACCOUNT) && !mm_vm_enough_memory(m, t, pages))
		return 0;
	if (!mm_vma_insert(m, mm, addr, addr + len, vf)) {
		if (vf & VM_ACCOUNT)
			mm_unaccount_commit(m, mm, pages);
		return 0;
	}
	if (flags & RA_MMAP_TRACE)
		mm_tmap_add(m, mm, addr, len);
	if ((vf & VM_LOCKED) || (flags & RA_MMAP_POPULATE))
		mm_populate(m, t, addr, addr + len);
	return addr;
}

static int do_munmap(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len)
{
	if (!ra_task_alive(t) || (addr & (RA_PAGE_SIZE - 1)) || !len || addr + len < addr)
		return -1;
	return mm_unmap_range(m, t->mm, addr, addr + PAGE_ALIGN(len));
}

/* mprotect() of a whole VMA or the part of one (splits like munmap). */
static int do_mprotect(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, int prot)
{
	if (!ra_task_alive(t) || (addr & (RA_PAGE_SIZE - 1)))
		return -1;
	struct ra_mm *mm = t->mm;
	uint64_t end = addr + PAGE_ALIGN(len);
	struct ra_vma *v = mm_find_vma(mm, addr);
	if (!v || v->start > addr || v->end < end)
		return -1;      /* only within one VMA: what umalloc's heaps need */
	uint32_t old = v->flags;
	uint32_t nf = (old & ~(VM_READ | VM_WRITE)) | prot_flags(prot);
	uint64_t pages = (end - addr) >> RA_PAGE_SHIFT;
	if ((nf & VM_WRITE) && !(old & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) {
		if (!mm_vm_enough_memory(m, t, pages))
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
				mm_vma_obj_free(m, extra[j]);
			if ((nf & VM_ACCOUNT) && !(old & VM_ACCOUNT))
				mm_unaccount_commit(m, mm, pages);
			return -1;
		}
	}
	mm_vma_account(mm, old, -(int64_t)pages);
	mm_vma_account(mm, nf, (int64_t)pages);
	struct ra_vma parts[3];
	unsigned p = 0;
	uint32_t file = v->file;
	uint64_t pgoff = v->pgoff;
	if (vstart < addr) parts[p++] = (struct ra_vma){ vstart, addr, old, 0, file, pgoff };
	parts[p++] = (struct ra_vma){ addr, end, nf, 0, file, pgoff + ((addr - vstart) >> RA_PAGE_SHIFT) };
	if (end < vend) parts[p++] = (struct ra_vma){ end, vend, old, 0, file, pgoff + ((end - vstart) >> RA_PAGE_SHIFT) };
	if (file)
		mm_vma_file_ref(m, file, (int)n - 1);
	parts[0].obj = vobj;
	for (unsigned k = 1; k < n; k++)
		parts[k].obj = extra[k - 1];
	mm_vma_slot(m, mm, i + 1, n - 1);
	for (unsigned k = 0; k < n; k++)
		mm->vma[i + k] = parts[k];
	/* write permission removed: drop PTE_WRITE so later writes fault */
	if (!(nf & VM_WRITE))
		for (uint64_t va = addr; va < end; va += RA_PAGE_SIZE) {
			uint64_t *pte = mm_pte_lookup(mm, va);
			if (pte)
				*pte &= ~PTE_WRITE;
		}
	mm_vma_merge_all(m, mm);
	/* mprotect to read-only keeps the charge (and VM_ACCOUNT), as the kernel does */
	mm_tlb_flush(mm);
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
		if (mm_unmap_range(m, mm, newp, oldp))
			return UINT64_MAX;
		mm->brk = nb;
		return old;
	}
	struct ra_vma *next = NULL;
	uint32_t i = mm_vma_index(mm, oldp);
	if (i < mm->nr_vma)
		next = &mm->vma[i];
	if (next && newp + RA_PAGE_SIZE > next->start)
		return UINT64_MAX;
	uint32_t vf = VM_READ | VM_WRITE | VM_ACCOUNT | mm->def_flags;
	uint64_t pages = (newp - oldp) >> RA_PAGE_SHIFT;
	if (!mm_vm_enough_memory(m, t, pages))
		return UINT64_MAX;
	if (!mm_vma_insert(m, mm, oldp, newp, vf)) {
		mm_unaccount_commit(m, mm, pages);
		return UINT64_MAX;
	}
	mm->brk = nb;
	if (vf & VM_LOCKED)
		mm_populate(m, t, oldp, newp);
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
	mm_vma_merge_all(m, mm);
	for (uint32_t i = 0; ra_task_alive(t) && i < mm->nr_vma; i++) {
		struct ra_vma v = mm->vma[i];
		mm_populate(m, t, v.start, v.end);
		/* pages already present become mlocked too */
		for (uint64_t va = v.start; va < v.end && ra_task_alive(t); va += RA_PAGE_SIZE) {
			uint64_t *pte = mm_pte_lookup(mm, va);
			if (!pte) {
				va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;   /* no leaf: skip its 2 MiB */
				continue;
			}
			if ((*pte & PTE_PRESENT) && !(*pte & PTE_ZERO))
				mm_mlock_page(m, PTE_PFN(*pte));
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
		struct ra_vma *v = mm_find_vma(mm, va);
		if (!v || v->start > va || (v->flags & VM_LOCKED))
			return -1;     /* EINVAL for locked, ENOMEM for holes */
	}
	mm_zap_range(m, mm, addr, end);
	return 0;
}

/* Every operation on a task pins it (see ra_task_get). */
int ra_uaccess(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool write, void *buf)
{
	if (!ra_task_alive(t))
		return -2;
	ra_task_get(t);
	int r = mm_do_uaccess(m, t, addr, len, write, buf);
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


