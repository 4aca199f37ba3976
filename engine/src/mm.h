/*
 * mm.h — the user side: tasks and their threads, address spaces (VMAs and
 * page tables), demand paging and copy-on-write, overcommit accounting,
 * the OOM killer, and the simulated-task back end of umalloc.
 *
 * Shared by mm.c (the engine) and replay_user.c (the trace executor).
 */
#ifndef RA_MM_H
#define RA_MM_H

#include "internal.h"

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
#define PTE_PFN(e)    ((uint32_t)((e) >> 12))

struct ra_vma { uint64_t start, end; uint32_t flags; ra_addr_t obj; /* its vm_area_struct */ };

struct pt_node;     /* PGD, PUD, PMD levels */
struct pt_leaf;     /* PTE level */

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
	uint64_t min_flt;
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
	uint64_t mlocked;           /* NR_MLOCK */
	ra_cache *task_cache, *mm_cache, *vma_cache;
	struct ra_kill *kills;
	uint32_t nr_kills, cap_kills;
	bool     panicked;
	int      in_oom;            /* recursion guard */
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

/* === OOM ================================================================ */

long ra_oom_badness(ra_machine *m, struct ra_task *t, uint64_t totalpages);   /* LONG_MIN: unkillable */
long ra_oom_badness_of(uint64_t rss, uint64_t swapents, uint64_t pgtables_bytes, int oom_score_adj, uint64_t totalpages);
unsigned long ra_oom_score_of(long badness, uint64_t totalpages);
uint64_t ra_oom_totalpages(ra_machine *m);
unsigned long ra_oom_score(ra_machine *m, struct ra_task *t);
/* The current task's views (status, maps, ...): views.c calls it. */
int  ra_mm_view(ra_machine *m, const char *name);
int  ra_oom_adj_from_score_adj(int score_adj);
int  ra_oom_score_adj_from_adj(int adj);

#endif /* RA_MM_H */
