/*
 * mm.h — the user side of the kernel: address spaces (VMAs and page tables,
 * demand paging and copy-on-write: mm.c), the mapping calls (mmap, munmap,
 * mprotect, brk, mlockall, overcommit: mmap.c), tasks and their threads
 * (fork.c), and the hook through which a new task starts its C library.
 */
#ifndef RA_MM_H
#define RA_MM_H

#include "swapfile.h"

/* x86-64 without ASLR: the layout a program sees under `setarch -R`. */
#define USER_HEAP_START   0x555555559000ULL
#define USER_MMAP_BASE    0x7ffff7fff000ULL   /* TASK_SIZE - 128 MiB gap */
#define USER_STACK_TOP    0x7ffffffff000ULL   /* TASK_SIZE */
#define USER_STACK_SIZE   (132ULL << 10)
#define USER_MMAP_MIN     0x10000ULL          /* vm.mmap_min_addr */
#define THREAD_SIZE       (16ULL << 10)       /* kernel stack */
#define PTHREAD_STACK     (8ULL << 20)        /* glibc's default thread stack */

/* vm_flags, with the kernel's values */
#define VM_READ       0x00000001u
#define VM_WRITE      0x00000002u
#define VM_EXEC       0x00000004u
#define VM_SHARED     0x00000008u
#define VM_GROWSDOWN  0x00000100u
#define VM_LOCKED     0x00002000u
#define VM_ACCOUNT    0x00100000u
#define VM_NORESERVE  0x00200000u

/* page table entries (host side; see mm.c's essay) */
#define PTE_PRESENT   0x1ULL
#define PTE_WRITE     0x2ULL          /* writable now (clear when COW-shared) */
#define PTE_ZERO      0x4ULL          /* maps the shared zero page */
#define PTE_YOUNG     0x8ULL          /* accessed: set when the CPU walks to it (TLB fill) */
#define PTE_DIRTY     0x10ULL         /* written: set when a write walks to it */
#define PTE_PFN(e)    ((uint32_t)((e) >> 12))
/* A non-present pte that holds a swap entry (rmap.c): PTE_SWAP, the entry
 * above bit 12, PTE_SWP_EXCL when the page had one mapper when it was
 * unmapped (the kernel's pte_swp_exclusive). */
#define PTE_SWAP      0x40ULL
#define PTE_SWP_EXCL  0x80ULL
static inline uint64_t swp_pte(swp_entry_t e, bool excl) { return (e << 12) | PTE_SWAP | (excl ? PTE_SWP_EXCL : 0); }
static inline swp_entry_t pte_swp(uint64_t pte) { return pte >> 12; }

/* A file mapping names its file (file: id + 1; 0 for anonymous memory)
 * and the file page its start maps (pgoff, the kernel's vm_pgoff). */
struct ra_vma { uint64_t start, end; uint32_t flags; ra_addr_t obj; /* its vm_area_struct */
                uint32_t file; uint64_t pgoff; };

/* Page tables: a radix tree of 512-entry nodes on the host (see mm.c's
 * essay); each node stands for one real frame (pfn). */
struct pt_node { uint32_t pfn; uint32_t used; void *e[512]; };    /* PGD, PUD, PMD levels */
struct pt_leaf { uint32_t pfn; uint32_t used; uint64_t pte[512]; }; /* PTE level */
#define PTRS 512
#define PGD_IDX(a) (((a) >> 39) & 511)
#define PUD_IDX(a) (((a) >> 30) & 511)
#define PMD_IDX(a) (((a) >> 21) & 511)
#define PTE_IDX(a) (((a) >> 12) & 511)
#define K(pages) ((uint64_t)(pages) << (RA_PAGE_SHIFT - 10))
#define PAGE_ALIGN(x) RA_ALIGN((uint64_t)(x), RA_PAGE_SIZE)

struct ra_tlb { uint64_t vpn; uint8_t *host; uint8_t writable; };
#define RA_TLB_SIZE 256

/* A mapping a trace made (mmap ... -> h): what a leak report lists. */
struct ra_tmap { uint64_t start, len; uint32_t site; };

struct ra_mm {
	struct ra_tmap *tmaps;
	uint32_t nr_tmaps, cap_tmaps;
	struct ra_vma *vma;
	uint32_t nr_vma, cap_vma;
	uint64_t start_brk, brk;
	uint64_t malloc_brk;        /* the break as malloc's own sbrk left it (0: never used);
	                             * a trace's brk may not go below it (replay_user.c) */
	uint64_t total_vm, locked_vm, data_vm, stack_vm;   /* pages */
	uint64_t hiwater_vm, hiwater_rss;
	uint64_t rss;               /* MM_ANONPAGES */
	uint64_t rss_file;          /* MM_FILEPAGES and MM_SHMEMPAGES: page-cache pages mapped */
	uint64_t swapents;          /* MM_SWAPENTS: swap entries in its ptes */
	uint64_t nr_pt;             /* page-table pages below the PGD */
	uint64_t committed;         /* pages this mm holds in Committed_AS */
	uint64_t mlocked;           /* pages mapped in VM_LOCKED vmas (first mapper) */
	uint32_t def_flags;         /* VM_LOCKED after mlockall(MCL_FUTURE) */
	uint32_t pgd_pfn;
	struct pt_node *pgd;
	ra_addr_t mm_obj;           /* its mm_struct in the mm_struct cache */
	struct ra_tlb tlb[RA_TLB_SIZE];
};

struct ra_thread {
	uint32_t tid;
	uint8_t  alive;
	ra_addr_t kstack;           /* vmalloc'd kernel stack */
	uint64_t ustack;            /* its user stack mapping (thread N > 0) */
	struct um_thread *umt;
};

enum { TASK_ALIVE = 1, TASK_EXITED, TASK_KILLED };

/* The sim back end's handle for umalloc: one per task. */
struct um_os { ra_machine *m; struct ra_task *t; };

struct ra_task {
	uint32_t pid, ppid;
	char     comm[16];
	int      oom_score_adj;
	uint8_t  state;
	struct ra_mm *mm;
	struct ra_thread *threads;
	uint32_t nr_threads, cap_threads;
	uint64_t min_flt, maj_flt;
	struct um_state *um;
	struct um_os os;
	ra_addr_t task_obj;         /* its task_struct */
	uint32_t busy;              /* operations in progress on it (ra_task_get) */
	uint32_t index;             /* in the world's task list */
};

struct ra_kill { uint32_t pid; char comm[16]; uint64_t op_seq; };

struct ra_mm_world {
	struct ra_task **tasks;     /* creation order: for_each_process() */
	uint32_t nr_tasks, cap_tasks;
	uint32_t next_pid;
	struct ra_task *cur;
	uint32_t cur_tid;
	uint64_t committed_as;      /* vm_committed_as, pages */
	ra_cache *task_cache, *mm_cache, *vma_cache;
	struct ra_kill *kills;
	uint32_t nr_kills, cap_kills;
	bool     panicked;
	int      in_oom;            /* recursion guard */
	struct anon_rmap *rmap;     /* [nr_pages]: who maps each anonymous page (rmap.c) */
	uint64_t rmap_more;         /* pages whose reverse map has a host array (more than one mapper) */
};

/* === Tasks (mm.c) ======================================================= */

struct ra_task *ra_task_create(ra_machine *m, const char *comm, int oom_score_adj);
struct ra_task *ra_task_fork(ra_machine *m, struct ra_task *parent, uint32_t tid);
void ra_task_exit(ra_machine *m, struct ra_task *t);
/* Make thread tid of t current, creating it if needed; false if that fails. */
bool ra_task_thread(ra_machine *m, struct ra_task *t, uint32_t tid);
/* The frame user address va of t maps (no fault taken), RA_NOPFN for none
 * or the shared zero page. */
uint32_t ra_user_pfn(const struct ra_task *t, uint64_t va);
void ra_set_current(ra_machine *m, struct ra_task *t, uint32_t tid);
static inline bool ra_task_alive(const struct ra_task *t) { return t && t->state == TASK_ALIVE; }
struct um_thread *ra_task_umthread(struct ra_task *t, uint32_t tid);
/* Pin a task for the length of an operation on it. If the OOM killer picks
 * a pinned task, its pages are reaped at once (as the OOM reaper does) but
 * its mm, umalloc state and task structures stay until the last unpin,
 * when the task has, in the kernel's terms, left the kernel. */
void ra_task_get(struct ra_task *t);
void ra_task_put(ra_machine *m, struct ra_task *t);
struct ra_mm_world *ra_mm_world(ra_machine *m);
bool ra_panicked(ra_machine *m);
/* The task with this pid, dead ones included; NULL for none (user_api.c). */
struct ra_task *ra_task_find(ra_machine *m, uint32_t pid);

/* === Address space ====================================================== */

#define RA_MMAP_POPULATE 0x1
#define RA_MMAP_LOCKED   0x2
#define RA_MMAP_NORESERVE 0x4
#define RA_MMAP_TRACE    0x8      /* made by the trace: listed by leak reports */

/* 0 on failure (ENOMEM, overcommit refused, injected), else the address. */
uint64_t ra_mmap(ra_machine *m, struct ra_task *t, uint64_t len, int prot, unsigned flags);
int  ra_munmap(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len);
int  ra_mprotect(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, int prot);
/* sbrk(delta): the old break, or (uint64_t)-1 when refused. */
uint64_t ra_sbrk(ra_machine *m, struct ra_task *t, int64_t delta);
int  ra_mlockall(ra_machine *m, struct ra_task *t, bool current, bool future);
/* MADV_DONTNEED */
int  ra_madv_dontneed(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len);
/* User access by the task (touch/read): page faults as the CPU would take
 * them. buf: data to write / room to read (NULL: write the bytes back
 * unchanged, or read and discard). 0, or -1 after a segfault report, or -2
 * when a fault could not be served (the task may have been OOM-killed). */
int  ra_uaccess(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool write, void *buf);

/* ASan builds: poison (freed block) or unpoison (new block) the bytes of
 * [addr, addr+len) that are mapped to pages now; no faults are taken. */
void ra_user_poison(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool poison);

/* === The C library a task runs (fork.c calls it) ======================= */

/*
 * A task's user-space runtime (umalloc, in um_sim.c) is above the kernel:
 * fork.c reaches it only through this table, registered at machine creation
 * (machine.c) in m->user_rt. The states are opaque here.
 *
 * exec        — a new task's runtime (its malloc with the machine's mallopt
 *               knobs applied). Pre: t has its mm, stack and main thread.
 *               Post: the state, or NULL when it cannot be had (the task
 *               then never starts).
 * fork        — the child's copy of the parent's runtime, as fork() leaves
 *               it for the thread `th` of the parent that forked (NULL: the
 *               main thread). Post: the state or NULL (the fork fails).
 * destroy     — the runtime goes with the task's memory (exit, kill,
 *               machine destruction). Pre: no call into it is in progress
 *               (the task is unpinned).
 * main_thread — the runtime's thread state of the task's first thread.
 * thread_new  — a new thread's state (pthread_create); NULL when it cannot
 *               be had (the thread is not created).
 */
struct um_state;
struct um_thread;
struct ra_user_runtime {
	struct um_state *(*exec)(ra_machine *m, struct ra_task *t);
	struct um_state *(*fork)(ra_machine *m, struct ra_task *child, struct ra_task *parent, struct um_thread *th);
	void (*destroy)(struct um_state *s);
	struct um_thread *(*main_thread)(struct um_state *s);
	struct um_thread *(*thread_new)(struct um_state *s);
};

/* === Inside the mm layer: what mm.c, mmap.c and fork.c share =========== */

/* mm.c: VMAs, page tables, faults, user access */
void mm_vma_obj_free(ra_machine *m, ra_addr_t obj);
void mm_vma_merge_all(ra_machine *m, struct ra_mm *mm);
bool mm_vma_insert(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end, uint32_t flags);
uint32_t mm_vma_index(struct ra_mm *mm, uint64_t addr);
void mm_vma_account(struct ra_mm *mm, uint32_t flags, int64_t npages);
bool mm_vm_enough_memory(ra_machine *m, struct ra_task *t, uint64_t pages);
int mm_unmap_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end);
void mm_unaccount_commit(ra_machine *m, struct ra_mm *mm, uint64_t pages);
uint8_t *mm_translate(ra_machine *m, struct ra_task *t, uint64_t va, bool write, int *err, bool by_malloc);
void mm_tmap_add(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t len);
uint64_t *mm_pte_lookup(struct ra_mm *mm, uint64_t va);
struct pt_leaf *mm_pt_walk(ra_machine *m, struct ra_task *t, struct ra_mm *mm, uint64_t va, bool alloc);
void mm_pt_free_tree(ra_machine *m, struct ra_mm *mm, void *node, int level);
void mm_populate(ra_machine *m, struct ra_task *t, uint64_t start, uint64_t end);
int mm_handle_fault(ra_machine *m, struct ra_task *t, uint64_t va, bool write);
struct ra_vma *mm_find_vma(struct ra_mm *mm, uint64_t addr);
int mm_do_uaccess(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, bool write, void *buf);
void mm_zap_range(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end);
void mm_vma_slot(ra_machine *m, struct ra_mm *mm, uint32_t i, uint32_t n);
void mm_tlb_flush(struct ra_mm *mm);
void mm_mlock_page(ra_machine *m, uint32_t pfn);
void mm_rss_inc(struct ra_mm *mm);
uint32_t mm_pt_page(ra_machine *m);
bool mm_vma_mergeable(const struct ra_vma *a, const struct ra_vma *b);
bool mm_is_data(uint32_t f);
/* mmap.c */
uint64_t mm_get_unmapped_area(struct ra_mm *mm, uint64_t len);
/* mm.c: a new anonymous page as the anonymous fault path makes it (COW of
 * a private file page uses it too): mapcount 1, on the inactive anon
 * list, not yet in the reverse map (the caller's rmap_add); a page it
 * cannot map after all goes back with mm_free_anon_page (which frees
 * any anonymous page: off its list and the swap cache). */
uint32_t mm_alloc_user_page(ra_machine *m);
void mm_free_anon_page(ra_machine *m, uint32_t pfn);
bool mm_vma_insert_file(ra_machine *m, struct ra_mm *mm, uint64_t start, uint64_t end, uint32_t flags,
                        uint32_t file, uint64_t pgoff);

/* === File mappings (memory.c, rmap_file.c) ============================= */

/* mmap(len, prot, MAP_PRIVATE or MAP_SHARED, file, offset): the address,
 * or 0 when refused (offset not page aligned, overcommit, no memory). */
uint64_t ra_mmap_file(ra_machine *m, struct ra_task *t, uint64_t len, int prot, unsigned flags, uint32_t file,
                      uint64_t offset, bool shared);
/* msync(addr, len, MS_SYNC) of the mapping at addr: 0, or -1 (ENOMEM: no
 * mapping there). */
int  ra_msync(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len);
/* The fault of a file VMA (mm_handle_fault calls it): 0 served, -2 not
 * served or SIGBUS (past the end of the file), 1 when the pte maps an
 * anonymous page (a COW copy) or holds a swap entry: the anonymous path
 * takes it from there. */
int  mm_file_fault(ra_machine *m, struct ra_task *t, struct ra_vma *v, uint64_t va, bool write);
/* A present pte mapping page-cache page pfn goes (zap, exit): mapcount,
 * nr_mapped, a dirty pte dirties the page, a young one marks it accessed. */
void mm_file_pte_zap(ra_machine *m, struct ra_mm *mm, uint64_t pte);
/* A VMA of file id + 1 comes (+1) or goes (-1): the file's mapping count
 * (a file unlinked while mapped goes with its last mapping). */
void mm_vma_file_ref(ra_machine *m, uint32_t file, int delta);
/* Is the frame a page-cache page (else an anonymous one)? */
static inline bool mm_pfn_is_file(ra_machine *m, uint32_t pfn) { return pfn_page(m, pfn)->owner == PO_FILE; }

/* rmap_file.c: the reverse map of page-cache pages, walking every task's
 * VMAs of the page's file (the kernel's i_mmap walk). */
struct rmap_refs { uint32_t refs; uint32_t vm_flags; uint32_t mapcount; };
/* folio_referenced() for a page-cache page: every pte mapping it has its
 * young bit tested and cleared (the TLB of its mm flushed); refs counts
 * the VMAs that had a young pte, vm_flags ORs their flags. */
void folio_referenced_file(ra_machine *m, uint32_t pfn, struct rmap_refs *r);
/* try_to_unmap() of a page-cache page: every pte goes; a dirty pte dirties
 * the page first. Returns the ptes removed. */
uint32_t try_to_unmap_file(ra_machine *m, uint32_t pfn);
/* Register the filemap layer's calls into the rmap (writeback's
 * folio_mkclean, truncation's unmap_mapping_range): once per machine. */
void mm_file_rmap_register(ra_machine *m);

/* mm.c: anonymous pages that swap (rmap.c) works with. An anon page is in
 * AnonPages while a pte maps it; a swap-cache page may stay unmapped
 * (count 0), counted in the swap state's unmapped_cache instead. */
uint32_t mm_alloc_anon_page(ra_machine *m, ra_gfp_t gfp);   /* unmapped, on the inactive anon list */
void mm_free_unmapped_anon(ra_machine *m, uint32_t pfn);      /* count 0: out of the swap cache, freed */
void mm_page_unmapped(ra_machine *m, uint32_t pfn);           /* one pte less (the page stays) */
void mm_page_mapped(ra_machine *m, uint32_t pfn);             /* one pte more */

/* === rmap.c: the anon reverse map, swap entries in page tables ========= */

void rmap_add(ra_machine *m, uint32_t pfn, struct ra_mm *mm, uint64_t va);
void rmap_del(ra_machine *m, uint32_t pfn, struct ra_mm *mm);
void rmap_move(ra_machine *m, uint32_t pfn, struct ra_mm *mm, uint64_t va);
uint32_t rmap_count(ra_machine *m, uint32_t pfn);
bool rmap_has(ra_machine *m, uint32_t pfn, struct ra_mm *mm, uint64_t va);
void rmap_fini(ra_machine *m);
/* folio_referenced() for an anon page: the mappings whose pte was young
 * (each cleared, its mm's TLB flushed); *vm_locked when a vma is locked. */
int  folio_referenced_anon(ra_machine *m, uint32_t pfn, bool *vm_locked);
/* try_to_unmap() of a swap-cache page: every pte becomes its swap entry. */
bool try_to_unmap_anon(ra_machine *m, uint32_t pfn);
/* try_to_unmap() of a lazily freed page (MADV_FREE): when neither the page
 * nor any pte of it is dirty, every pte is cleared (the range reads zeros
 * again) and true returned: the page, still counted in AnonPages, is the
 * caller's to free at once (mm_free_anon_page). Else the page is dirty
 * and swap-backed again and stays mapped (false). */
bool try_to_unmap_lazyfree(ra_machine *m, uint32_t pfn);
/* read_swap_cache_async(): the swap-cache page of e, read in from its
 * slot when not cached (pswpin, pgpgin for a disk; unmapped, on the
 * inactive anon list); RA_NOPFN when no page can be had or t died in
 * the allocation. */
uint32_t read_swap_cache_async(ra_machine *m, struct ra_task *t, swp_entry_t e);
/* The swap-in fault on the swap entry at *pte: 0, or -2 (no memory). */
int  do_swap_page(ra_machine *m, struct ra_task *t, struct ra_vma *v, uint64_t va, uint64_t *pte, bool write);
/* do_wp_page() on a swap-cache page: false when it must be copied. */
bool wp_can_reuse_anon(ra_machine *m, uint32_t pfn);
/* zap, exit, munmap of a swap pte */
void free_swap_and_cache(ra_machine *m, swp_entry_t e);
/* swapoff: 0, RA_ENOENT, RA_ENOMEM */
int  ra_swapoff(ra_machine *m, uint32_t id);
/* The bytes of [addr, addr + len) of t as they are, resident or swapped
 * (untouched pages read as zeros), with no fault, no accessed bit and no
 * swap-in: 0, or -1 when the range leaves its mappings or t is dead. */
int  mm_peek_user(ra_machine *m, struct ra_task *t, uint64_t addr, uint64_t len, uint8_t *buf);
/* fork.c: the task world, created with the first task */
struct ra_mm_world *mm_world(ra_machine *m);
/* A fatal signal (the OOM killer's SIGKILL, the SIGBUS or SIGSEGV of a fault
 * that cannot be served): t is dead; its memory goes now, or its pages now
 * and the rest at the last unpin when an operation is in progress on it. */
void ra_task_kill(ra_machine *m, struct ra_task *t);
void ra_mm_fini(ra_machine *m);

#endif /* RA_MM_H */
