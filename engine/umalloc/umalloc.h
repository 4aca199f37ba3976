/*
 * umalloc.h — a ptmalloc-like malloc written for refalloc.
 *
 * One struct um_state is one process's malloc (arenas, the mp_ parameters,
 * statistics, the registry of chunks); one struct um_thread is one thread's
 * view of it (tcache, attached arena).  Behaviour and numbers follow glibc
 * 2.36 on 64-bit (see README.md).  Memory is reached only through
 * um_os.h, so the same code runs in the simulated world (UM_SIM) and as the
 * real process's malloc (UM_HOST, librefalloc_malloc.so).
 *
 * Failure and misuse: allocation functions return 0 on failure and set the
 * error returned by um_errno() (ENOMEM/EINVAL).  Misuse and corruption are
 * reported through um_os_report() with glibc's message; in UM_SIM the
 * operation is then refused (0 / -1 returned, error UM_EREFUSED) and the
 * allocator stays consistent and usable; in UM_HOST the report aborts.
 *
 * Threads: in UM_HOST each real thread passes its own um_thread and the
 * arenas are locked as in glibc.  In UM_SIM calls are made by one host
 * thread; um_thread objects model the simulated task's threads.
 */
#ifndef UMALLOC_H
#define UMALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "um_os.h"

#ifdef __cplusplus
extern "C" {
#endif

struct um_state;
struct um_thread;

/* mallopt parameter numbers, as glibc's <malloc.h>. */
#define UM_M_MXFAST          1
#define UM_M_TRIM_THRESHOLD (-1)
#define UM_M_TOP_PAD        (-2)
#define UM_M_MMAP_THRESHOLD (-3)
#define UM_M_MMAP_MAX       (-4)
#define UM_M_CHECK_ACTION   (-5)
#define UM_M_PERTURB        (-6)
#define UM_M_ARENA_TEST     (-7)
#define UM_M_ARENA_MAX      (-8)

/* um_errno() values besides ENOMEM / EINVAL. */
#define UM_EREFUSED 1000     /* misuse or corruption reported, op refused */

/* === Life cycle ========================================================= */

/* A fresh malloc for the process behind os (nothing mapped until the first
 * allocation, as glibc).  The state owns a main thread (um_main_thread),
 * attached to the main arena.  NULL if bookkeeping memory is short. */
struct um_state *um_create(struct um_os *os);
/* Free the host-side state.  Does not unmap the process's memory (the
 * process is going away with it). */
void um_destroy(struct um_state *st);
/* fork() in the simulated world: the child's memory is a copy-on-write
 * copy at identical addresses, so in-band data is already there; this
 * copies the host-side state.  Only the forking thread survives in the
 * child; arenas are handed to it as glibc's fork handler does.  Returns
 * the child's state (its um_thread for the forker: um_thread_by_id). */
struct um_state *um_clone(const struct um_state *st, struct um_os *child_os,
                          const struct um_thread *forker);

/* === Threads ============================================================ */

struct um_thread *um_main_thread(struct um_state *st);
/* A new thread (tcache and arena chosen lazily on its first call, as
 * glibc).  UM_SIM only; UM_HOST callers embed um_thread in TLS and use
 * um_thread_init. */
struct um_thread *um_thread_create(struct um_state *st);
/* Thread exit: flush the tcache into the arenas, detach from the arena
 * (it goes on the free list when no thread is left), free the tcache. */
void um_thread_exit(struct um_state *st, struct um_thread *th);
struct um_thread *um_thread_by_id(struct um_state *st, uint32_t id);
uint32_t um_thread_id(const struct um_thread *th);
/* UM_HOST: size of struct um_thread and in-place initialisation. */
size_t um_thread_size(void);
void um_thread_init(struct um_state *st, struct um_thread *th);

/* === The malloc family ================================================== */

/* Caller tag stored with every following allocation (leak reports). */
void um_set_tag(struct um_state *st, uint64_t tag);

um_addr um_malloc(struct um_state *st, struct um_thread *th, size_t n);
/* 0: done (also for p == 0); -1: refused after a report. */
int     um_free(struct um_state *st, struct um_thread *th, um_addr p);
um_addr um_calloc(struct um_state *st, struct um_thread *th, size_t n, size_t size);
um_addr um_realloc(struct um_state *st, struct um_thread *th, um_addr p, size_t n);
/* glibc 2.36 memalign/aligned_alloc: any alignment, non powers of two
 * rounded up, <= 16 relays to malloc. */
um_addr um_memalign(struct um_state *st, struct um_thread *th, size_t align, size_t n);
/* 0, EINVAL (alignment not a power-of-two multiple of sizeof(void *)) or
 * ENOMEM, as posix_memalign. */
int     um_posix_memalign(struct um_state *st, struct um_thread *th, um_addr *out,
                          size_t align, size_t n);
um_addr um_valloc(struct um_state *st, struct um_thread *th, size_t n);
um_addr um_pvalloc(struct um_state *st, struct um_thread *th, size_t n);
size_t  um_usable_size(struct um_state *st, um_addr p);
/* glibc's return values: 1 on success, 0 when the value is rejected. */
int     um_mallopt(struct um_state *st, int param, int value);
/* 1 if memory was given back (top trimmed or free pages released). */
int     um_trim(struct um_state *st, size_t pad);
void    um_stats(struct um_state *st, FILE *f);
int     um_info(struct um_state *st, int options, FILE *f);

int     um_errno(const struct um_state *st);
unsigned long um_reports(const struct um_state *st);

/* === Statistics ========================================================= */

struct um_mallinfo {            /* glibc's struct mallinfo2 */
	size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks,
	       uordblks, fordblks, keepcost;
};
struct um_mallinfo um_mallinfo(struct um_state *st);

struct um_stat {
	uint64_t system_bytes;      /* sum of arenas' system_mem */
	uint64_t max_system_bytes;  /* sum of arenas' max_system_mem */
	uint64_t inuse_bytes;       /* system - free (incl. tcache/fastbins) + mmapped */
	uint64_t mmapped_regions, mmapped_bytes;
	uint64_t max_mmapped_regions, max_mmapped_bytes;
	uint64_t live_chunks, live_bytes;       /* registry: user-live chunks */
	uint64_t narenas;
};
void um_get_stat(struct um_state *st, struct um_stat *out);

/* === Checks and walks =================================================== */

enum { UM_CHECK_OFF = 0, UM_CHECK_OP = 1, UM_CHECK_FULL = 2 };
/* Validate the whole state (glibc's do_check_* plus, in UM_SIM, every
 * in-band metadata word against the host-side registry).  Returns the
 * number of problems; each is reported once through um_os_report (UM_SIM)
 * or printed to stderr (UM_HOST).  Changes nothing. */
long um_check(struct um_state *st, int level);

/* The registry of live chunks: always on in UM_SIM; in UM_HOST off unless
 * enabled before the first allocation (the REFALLOC_LEAKS report of the
 * preloaded library keeps its own table: leaks.c). */
int  um_registry_enable(struct um_state *st, int on);

struct um_chunk_info {
	um_addr  mem;          /* user pointer */
	uint64_t chunk_size;   /* chunk size (header included) */
	uint64_t usable;       /* malloc_usable_size */
	uint64_t req;          /* requested bytes */
	uint64_t tag;          /* caller tag at allocation */
	int      arena;        /* arena index, -1 for mmapped chunks */
	int      mmapped;
};
/* Call fn for every live user chunk in address order; stops when fn
 * returns nonzero (that value is returned).  Needs the registry. */
int um_walk(struct um_state *st, int (*fn)(void *arg, const struct um_chunk_info *ci),
            void *arg);

/* UM_HOST fork handlers (pthread_atfork): lock everything, unlock in the
 * parent, re-initialise locks and hand arenas over in the child. */
void um_fork_prepare(struct um_state *st);
void um_fork_parent(struct um_state *st);
void um_fork_child(struct um_state *st, struct um_thread *th);

#ifdef __cplusplus
}
#endif
#endif /* UMALLOC_H */
