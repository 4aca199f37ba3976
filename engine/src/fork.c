/*
 * fork.c — tasks: creation (a new process with its stack and C library),
 * fork(), threads, exit, and pinning a task for the length of an operation.
 * The kernel's kernel/fork.c and kernel/exit.c in one.
 *
 * Each task owns a task_struct, an mm_struct and a 16 KiB vmalloc'd kernel
 * stack per thread, so creating tasks moves Slab, KernelStack and
 * vmallocinfo the way it does on a real machine. The task's C library
 * (umalloc) is above the kernel: it is reached through m->user_rt (mm.h).
 */
#include "mm.h"
#include <inttypes.h>

/* === The world ========================================================= */

struct ra_mm_world *ra_mm_world(ra_machine *m) { return m->mmw; }
bool ra_panicked(ra_machine *m) { return m->mmw && m->mmw->panicked; }

struct ra_mm_world *mm_world(ra_machine *m)
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
	struct ra_mm_world *w = mm_world(m);
	if (w->task_cache)
		return true;
	w->task_cache = ra_kmem_cache_create(m, "task_struct", 5888, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT);
	w->mm_cache = ra_kmem_cache_create(m, "mm_struct", 1600, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT);
	w->vma_cache = ra_kmem_cache_create(m, "vm_area_struct", 192, 0, RA_SLAB_ACCOUNT);
	return w->task_cache && w->mm_cache && w->vma_cache;
}

/* === Tasks ============================================================== */

static struct ra_mm *mm_alloc(ra_machine *m)
{
	struct ra_mm *mm = calloc(1, sizeof(*mm));
	RA_BUG_ON(m, !mm);
	mm_tlb_flush(mm);
	mm->mm_obj = ra_kmem_cache_alloc_internal(m, m->mmw->mm_cache, RA_GFP_KERNEL);
	uint32_t pgd = mm->mm_obj ? mm_pt_page(m) : RA_NOPFN;
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
		mm_vma_obj_free(m, mm->vma[i].obj);
	struct pt_node *pgd = mm->pgd;
	mm->pgd = NULL;
	if (pgd) {
		for (unsigned i = 0; i < PTRS; i++)
			if (pgd->e[i])
				mm_pt_free_tree(m, mm, pgd->e[i], 2);
		ra_free_pages_pfn(m, pgd->pfn, 0);
		free(pgd);
	}
	/* the files go after their pages (an unlinked file with them) */
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		if (mm->vma[i].file)
			mm_vma_file_ref(m, mm->vma[i].file, -1);
	mm_unaccount_commit(m, mm, mm->committed);
	free(mm->tmaps);
	if (mm->mm_obj)
		ra_kmem_cache_free_internal(m, m->mmw->mm_cache, mm->mm_obj);
	free(mm->vma);
	free(mm);
}

/* KernelStack counts the kernel stacks of living tasks' threads. */
static void account_kernel_stacks(ra_machine *m, int64_t threads)
{
	mod_node_page_state(m, NR_KERNEL_STACK, threads * (int64_t)(THREAD_SIZE >> 10));
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
	if (ra_task_alive(t))
		account_kernel_stacks(m, 1);
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

/* t stops living (exit, a fatal signal, a task that could not start). */
static void task_set_dead(ra_machine *m, struct ra_task *t, uint8_t state)
{
	if (ra_task_alive(t))
		account_kernel_stacks(m, -(int64_t)t->nr_threads);
	t->state = state;
}

/* Undo a half-built task. */
static void task_teardown(ra_machine *m, struct ra_task *t)
{
	task_set_dead(m, t, TASK_EXITED);
	if (t->um) {
		m->user_rt->destroy(t->um);
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
	account_kernel_stacks(m, t->nr_threads);
	return t;
}

struct ra_task *ra_task_create(ra_machine *m, const char *comm, int oom_score_adj)
{
	mm_world(m);
	struct ra_task *t = task_new(m, comm, oom_score_adj);
	if (!t)
		return NULL;
	ra_task_get(t);
	t->mm = mm_alloc(m);
	/* exec: a 132 KiB stack whose top page holds argv and envp */
	bool ok = t->mm && mm_vm_enough_memory(m, t, USER_STACK_SIZE >> RA_PAGE_SHIFT);
	if (ok && !mm_vma_insert(m, t->mm, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP,
	                      VM_READ | VM_WRITE | VM_GROWSDOWN | VM_ACCOUNT)) {
		mm_unaccount_commit(m, t->mm, USER_STACK_SIZE >> RA_PAGE_SHIFT);
		ok = false;
	}
	if (ok) {
		t->um = m->user_rt->exec(m, t);
		ok = t->um != NULL;
	}
	if (ok) {
		t->threads[0].umt = m->user_rt->main_thread(t->um);
		t->pid = m->mmw->next_pid++;
		t->ppid = 1;
		task_list_add(m, t);
		int r = mm_handle_fault(m, t, USER_STACK_TOP - RA_PAGE_SIZE, true);
		if (r && ra_task_alive(t))
			task_set_dead(m, t, TASK_EXITED);    /* could not start; stays in the list, dead */
		ra_task_put(m, t);
		return ra_task_alive(t) ? t : NULL;
	}
	t->busy = 0;
	task_teardown(m, t);
	free(t->threads);
	free(t);
	return NULL;
}

/* vma_needs_copy(): the page tables of a file mapping are copied only
 * when it holds anonymous pages (COW copies: an anon_vma); the child
 * faults the file's pages in itself. */
static bool vma_needs_copy(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v)
{
	if (!v->file)
		return true;
	if (v->flags & VM_SHARED)
		return false;
	for (uint64_t va = v->start; va < v->end; va += RA_PAGE_SIZE) {
		uint64_t *pe = mm_pte_lookup(mm, va);
		if (!pe) {
			va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
			continue;
		}
		if (*pe && !(*pe & PTE_PRESENT))
			return true;    /* a swap entry: an anonymous copy swapped out */
		if ((*pe & PTE_PRESENT) && !(*pe & PTE_ZERO) && !mm_pfn_is_file(m, PTE_PFN(*pe)))
			return true;
	}
	return false;
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
		mm_tmap_add(m, mm, old->tmaps[i].start, old->tmaps[i].len);
		mm->tmaps[mm->nr_tmaps - 1].site = old->tmaps[i].site;
	}
	for (uint32_t i = 0; i < old->nr_vma; i++) {
		if (!ra_task_alive(parent))
			return false;
		struct ra_vma v = old->vma[i];
		v.flags &= ~VM_LOCKED;
		v.obj = 0;
		uint64_t pages = (v.end - v.start) >> RA_PAGE_SHIFT;
		if ((v.flags & VM_ACCOUNT) && !mm_vm_enough_memory(m, child, pages))
			return false;
		if (!mm_vma_insert_file(m, mm, v.start, v.end, v.flags, v.file, v.pgoff)) {
			if (v.flags & VM_ACCOUNT)
				mm_unaccount_commit(m, mm, pages);
			return false;
		}
		bool copy = vma_needs_copy(m, old, &v);
		for (uint64_t va = v.start; copy && va < v.end; va += RA_PAGE_SIZE) {
			uint64_t *pe = mm_pte_lookup(old, va);
			if (!pe || !(*pe & (PTE_PRESENT | PTE_SWAP))) {
				if (!pe)
					va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
				continue;
			}
			struct pt_leaf *l = mm_pt_walk(m, child, mm, va, true);
			if (!l || !ra_task_alive(parent))
				return false;
			pe = mm_pte_lookup(old, va);    /* tables may have moved? no: host nodes are stable */
			uint64_t e = *pe;
			if (e & PTE_SWAP) {
				/* copy_nonpresent_pte(): the entry is shared, exclusive no more
				 * (reclaim may have swapped the page out meanwhile) */
				swap_duplicate(m, pte_swp(e));
				*pe = e &= ~PTE_SWP_EXCL;
				mm->swapents++;
			} else if (!(e & PTE_PRESENT)) {
				continue;
			} else if (!(e & PTE_ZERO) && mm_pfn_is_file(m, PTE_PFN(e))) {
				m->fm->mapcount[PTE_PFN(e)]++;   /* page_dup_file_rmap() */
				mm->rss_file++;
			} else if (!(e & PTE_ZERO)) {
				if (v.flags & VM_WRITE)
					*pe = e &= ~PTE_WRITE;
				mm_page_mapped(m, PTE_PFN(e));
				pfn_page(m, PTE_PFN(e))->flags &= (uint16_t)~PGF_ANON_EXCLUSIVE;   /* page_try_dup_anon_rmap() */
				rmap_add(m, PTE_PFN(e), mm, va);
				mm_rss_inc(mm);
			}
			l->pte[PTE_IDX(va)] = e;
			l->used++;
		}
	}
	mm_tlb_flush(old);
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
		t->um = m->user_rt->fork(m, t, parent, pth ? pth->umt : NULL);
		ok = t->um != NULL;
	}
	if (!ok) {
		task_teardown(m, t);
		free(t->threads);
		free(t);
		ra_task_put(m, parent);
		return NULL;
	}
	t->threads[0].umt = m->user_rt->main_thread(t->um);
	t->pid = m->mmw->next_pid++;
	t->ppid = parent->pid;
	t->mm->hiwater_rss = t->mm->rss + t->mm->rss_file;
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
		mm_zap_range(m, mm, mm->vma[i].start, mm->vma[i].end);
}

static void task_free_memory(ra_machine *m, struct ra_task *t)
{
	if (t->um) {
		m->user_rt->destroy(t->um);
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

void ra_task_kill(ra_machine *m, struct ra_task *t)
{
	task_set_dead(m, t, TASK_KILLED);
	if (t->busy)
		reap(m, t);
	else
		task_free_memory(m, t);
}

void ra_task_exit(ra_machine *m, struct ra_task *t)
{
	if (!ra_task_alive(t))
		return;
	task_set_dead(m, t, TASK_EXITED);
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
	th->umt = m->user_rt->thread_new(t->um);
	if (!th->umt) {
		ra_vfree_internal(m, th->kstack);
		t->nr_threads--;
		account_kernel_stacks(m, -1);
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
	struct ra_mm_world *w = mm_world(m);
	w->cur = t;
	w->cur_tid = tid;
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
			m->user_rt->destroy(t->um);
		free(t->threads);
		free(t);
	}
	free(w->tasks);
	free(w->kills);
	rmap_fini(m);
	free(w);
	m->mmw = NULL;
}

