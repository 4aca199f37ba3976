/*
 * um_sim.c — umalloc's simulated world: the OS primitives of um_os.h
 * served by a task of the engine (its mm, page faults and mappings), and
 * the user runtime table (mm.h) through which tasks start, fork and end
 * their malloc.
 */
#include "user.h"
#include "san.h"
#include "umalloc.h"
#include <inttypes.h>

/* === umalloc's back end (um_sim.h) ====================================== */

/* Callers of umalloc pin the task around each call (ra_task_get), so the
 * mm stays valid here even if a fault below runs the OOM killer on it.
 *
 * A fault malloc itself takes and the kernel cannot serve ends the task:
 * no memory (mm_translate() kills it, SIGBUS), or no mapping, when a trace
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
	return mm_translate(os->m, t, a, write, &err, true);
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
static void move_pte(ra_machine *m, struct ra_mm *mm, struct pt_leaf *l, uint64_t va, uint64_t *from, uint64_t fva)
{
	uint64_t e = *from;
	if ((e & PTE_PRESENT) && !(e & PTE_ZERO))
		rmap_move(m, PTE_PFN(e), mm, va);    /* the anon page's address changes with it */
	l->pte[PTE_IDX(va)] = e;
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
	struct ra_vma *v = mm_find_vma(mm, addr);
	if (!v || v->start > addr || v->end < addr + oldlen)
		return 0;
	if (newlen <= oldlen) {
		if (newlen < oldlen && mm_unmap_range(m, mm, addr + newlen, addr + oldlen))
			return 0;
		return addr;
	}
	uint32_t flags = v->flags;
	uint64_t grow = (newlen - oldlen) >> RA_PAGE_SHIFT;
	uint32_t i = mm_vma_index(mm, addr + oldlen);
	bool room = v->end == addr + oldlen && (i >= mm->nr_vma || mm->vma[i].start >= addr + newlen);
	if ((flags & VM_ACCOUNT) && !mm_vm_enough_memory(m, t, grow))
		return 0;
	if (room) {
		if (!mm_vma_insert(m, mm, addr + oldlen, addr + newlen, flags)) {
			if (flags & VM_ACCOUNT)
				mm_unaccount_commit(m, mm, grow);
			return 0;
		}
		return addr;
	}
	uint64_t na = mm_get_unmapped_area(mm, newlen);
	if (!na || !mm_vma_insert(m, mm, na, na + newlen, flags)) {
		if (flags & VM_ACCOUNT)
			mm_unaccount_commit(m, mm, grow);
		return 0;
	}
	uint64_t moved = 0;
	bool failed = false;
	for (uint64_t off = 0; off < oldlen; off += RA_PAGE_SIZE) {
		uint64_t *pe = mm_pte_lookup(mm, addr + off);
		if (!pe || !(*pe & (PTE_PRESENT | PTE_SWAP)))
			continue;
		struct pt_leaf *l = mm_pt_walk(m, t, mm, na + off, true);
		if (!ra_task_alive(t))
			return 0;
		pe = mm_pte_lookup(mm, addr + off);
		if (!l || !pe) {
			failed = true;      /* no page table for it */
			break;
		}
		move_pte(m, mm, l, na + off, pe, addr + off);
		moved = off + RA_PAGE_SIZE;
	}
	mm_tlb_flush(mm);
	if (failed) {
		/* move_vma(): the entries moved so far go back (their old tables
		 * are still there), the new area is unmapped and mremap fails
		 * with ENOMEM: the old mapping is as it was */
		for (uint64_t off = 0; off < moved; off += RA_PAGE_SIZE) {
			uint64_t *np = mm_pte_lookup(mm, na + off), *op = mm_pte_lookup(mm, addr + off);
			if (!np || !(*np & (PTE_PRESENT | PTE_SWAP)))
				continue;
			RA_BUG_ON(m, !op);
			move_pte(m, mm, leaf_of(op, addr + off), addr + off, np, na + off);
		}
		mm_tlb_flush(mm);
		mm_unmap_range(m, mm, na, na + newlen);
		if (flags & VM_ACCOUNT) {       /* unmap_range uncharged newlen; the old range keeps its charge */
			mm->committed += oldlen >> RA_PAGE_SHIFT;
			m->mmw->committed_as += oldlen >> RA_PAGE_SHIFT;
		}
		return 0;
	}
	/* the old range's charge moves with the mapping (move_vma()) */
	mm_unmap_range(m, mm, addr, addr + oldlen);
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


/* === The user runtime table (mm.h) ===================================== */

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

static struct um_state *rt_exec(ra_machine *m, struct ra_task *t)
{
	struct um_state *s = um_create(&t->os);
	if (s) {
		t->um = s;
		apply_mallopt_knobs(m, t);
	}
	return s;
}

static struct um_state *rt_fork(ra_machine *m, struct ra_task *child, struct ra_task *parent, struct um_thread *th)
{
	(void)m;
	return um_clone(parent->um, &child->os, th);
}

const struct ra_user_runtime um_sim_runtime = {
	.exec = rt_exec,
	.fork = rt_fork,
	.destroy = um_destroy,
	.main_thread = um_main_thread,
	.thread_new = um_thread_create,
};
