/*
 * um_internal.h — umalloc's internal types, constants and the in-band
 * accessor layer.  Only umalloc.c (and the files it includes: um_reg.c,
 * um_check.c, um_print.c) and preload.c see this.
 *
 * In-band layout (glibc, 64-bit):  a chunk at address p has
 *   p+0   prev_size   size of the previous chunk if it is free (its footer),
 *                     for mmapped chunks the offset from the mapping start
 *   p+8   size        chunk size | PREV_INUSE | IS_MMAPPED | NON_MAIN_ARENA
 *   p+16  fd / user memory starts here (mem = p + 16)
 *   p+24  bk                          (tcache: key)
 *   p+32  fd_nextsize                 (large free chunks only)
 *   p+40  bk_nextsize
 * Fastbin and tcache next pointers are safe-linked: (pos >> 12) ^ ptr.
 *
 * Accessor discipline: every in-band metadata word is read with rd_*() and
 * written with wr_*().  In UM_HOST these are plain loads and stores.  In
 * UM_SIM each write also records the expected word in the registry (a
 * host-side hash of every chunk: its header, footer, links and state), and
 * each read is compared with it: a mismatch means the user (a trace writing
 * out of bounds or after free) changed allocator metadata.  The read site
 * names glibc's message for that check; sim_bad() reports it, unwinds to
 * the API entry (longjmp) and um_fsck() rebuilds every in-band word and list
 * from the registry, so the refused operation leaves a consistent heap.
 * Values that pass the check are the registry's own, so the algorithm only
 * ever follows pointers it wrote itself.
 */
#ifndef UM_INTERNAL_H
#define UM_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "umalloc.h"

#ifdef UM_HOST
#include <pthread.h>
#endif

#define UM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define UM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define UM_NORETURN    __attribute__((noreturn))
#define UM_INLINE      static inline __attribute__((always_inline))
#define UM_NOINLINE    __attribute__((noinline))
/* Hot helpers of malloc and free: inlined in UM_HOST, where a call costs as
 * much as their work; out of line in UM_SIM, where the registry checks
 * dominate. */
#ifdef UM_HOST
#define UM_HOT         UM_INLINE
#else
#define UM_HOT         static
#endif

/* === glibc's constants (64-bit) ======================================== */

#define SIZE_SZ            8u
#define MALLOC_ALIGNMENT   16u
#define MALLOC_ALIGN_MASK  15u
#define CHUNK_HDR_SZ       16u
#define MINSIZE            32u
#define PREV_INUSE         0x1u
#define IS_MMAPPED         0x2u
#define NON_MAIN_ARENA     0x4u
#define SIZE_BITS          0x7u

#define NBINS              128
#define NSMALLBINS         64
#define MIN_LARGE_SIZE     1024u
#define NFASTBINS          10
#define MAX_FAST_SIZE      160u                  /* 80 * SIZE_SZ / 4 */
#define DEFAULT_MXFAST     128u                  /* 64 * SIZE_SZ / 4 */
#define BINMAPSIZE         4
#define TCACHE_MAX_BINS    64
#define TCACHE_FILL_COUNT  7
#define MAX_TCACHE_SIZE    1032u                 /* tidx2usize(63) */
#define FASTBIN_CONSOLIDATION_THRESHOLD 65536u
#define MAX_ITERS          10000

#define DEFAULT_MMAP_THRESHOLD      (128u * 1024)
#define DEFAULT_MMAP_THRESHOLD_MAX  (32u * 1024 * 1024)
#define DEFAULT_TRIM_THRESHOLD      (128u * 1024)
#define DEFAULT_TOP_PAD             (128u * 1024)   /* glibc pads brk by this */
#define DEFAULT_MMAP_MAX            65536
#define MMAP_AS_MORECORE_SIZE       (1024u * 1024)
#define HEAP_MIN_SIZE               (32u * 1024)
#define HEAP_MAX_SIZE               (64u * 1024 * 1024)
#define HEAP_INFO_SZ                48u     /* sizeof(heap_info), glibc >= 2.35 */
#define MSTATE_SZ                   2200u   /* sizeof(struct malloc_state) */
#define TCACHE_STRUCT_SZ            640u    /* sizeof(tcache_perthread_struct) */
#define NARENAS_FROM_NCORES(n)      ((size_t)(n) * 8)
#define NONCONTIGUOUS_BIT           2

/* Simulated addresses of bin headers: never a user mapping, never
 * dereferenced (bins live host-side); one 4 KiB slot per arena. */
#define UM_SIM_BIN_BASE   0xfffffe0000000000ULL
#define UM_SIM_TCACHE_KEY 0x5f3d6c1b8a2e9047ULL   /* glibc's is random */

#define UM_NO_ARENA 0xffffu

/* === Types ============================================================== */

struct um_tcache {                      /* glibc's tcache_perthread_struct */
	uint16_t counts[TCACHE_MAX_BINS];
	um_addr  entries[TCACHE_MAX_BINS];  /* user pointers (mem) */
};

struct um_heap {                        /* host-side twin of heap_info */
	um_addr  base;
	uint64_t size;
	uint64_t mprotect_size;
	struct um_heap *prev;
};

struct um_arena {
#ifdef UM_HOST
	pthread_mutex_t mutex;
#endif
	struct um_state *st;
	struct um_os *os;
	int      idx;
	int      flags;
	int      have_fastchunks;
	um_addr  fastbins[NFASTBINS];       /* chunk addresses */
	um_addr  top;                       /* 0 = glibc's initial_top */
	um_addr  last_remainder;
	um_addr  bins[NBINS * 2 - 2];
	uint32_t binmap[BINMAPSIZE];
	struct um_arena *next;
	struct um_arena *next_free;
	uint64_t attached_threads;
	uint64_t system_mem;
	uint64_t max_system_mem;
	um_addr  binaddr0;                  /* address of bins[0] */
	struct um_heap *heap;               /* newest heap (non-main arenas) */
};

struct um_thread {
	struct um_tcache *tc;       /* NULL until tcache_init */
	struct um_arena *arena;     /* glibc's thread_arena */
	um_addr  tc_mem;            /* the chunk holding the tcache struct */
	struct um_state *st;
	uint32_t id;
	uint8_t  shutting_down;
	uint8_t  ghost;             /* UM_SIM: a thread that did not survive fork */
	uint8_t  exited;
	uint8_t  inited;
#ifdef UM_SIM
	struct um_tcache tc_store;  /* sim: tcache data is host-side */
#endif
};

struct um_params {                      /* glibc's malloc_par mp_ */
	uint64_t trim_threshold;
	uint64_t top_pad;
	uint64_t mmap_threshold;
	uint64_t arena_test;
	uint64_t arena_max;
	int      n_mmaps;
	int      n_mmaps_max;
	int      max_n_mmaps;
	int      no_dyn_threshold;
	uint64_t mmapped_mem;
	uint64_t max_mmapped_mem;
	um_addr  sbrk_base;
	uint64_t tcache_bins;
	uint64_t tcache_max_bytes;
	uint64_t tcache_count;
	uint64_t tcache_unsorted_limit;
};

/* Registry entry: one per chunk (UM_SIM), or per live chunk (UM_HOST with
 * the registry on).  Keyed by chunk address. */
enum {
	RS_EMPTY = 0, RS_LIVE, RS_INTERNAL, RS_TCACHE, RS_FAST, RS_FREE,
	RS_TAKEN, RS_TOP, RS_FENCE, RS_DEAD
};
struct um_rent {
	um_addr  addr;       /* chunk address, 0 = empty slot */
	uint64_t hdr;        /* expected size word */
	uint64_t foot;       /* expected prev_size word (valid if !PREV_INUSE or mmapped) */
	uint64_t w[4];       /* expected fd, bk, fd_nextsize, bk_nextsize */
	uint64_t req;        /* requested bytes (live chunks) */
	uint64_t tag;        /* caller tag (live chunks) */
	uint32_t owner;      /* tcache owner thread id */
	uint16_t arena;      /* arena index or UM_NO_ARENA (mmapped) */
	uint8_t  state;
	uint8_t  wmask;      /* which of w[] are metadata now; WM_FOOT: foot */
};
#define WM_FOOT 0x80u
struct um_reg {
	struct um_rent *tab;
	size_t cap;          /* power of two */
	size_t count;        /* used slots, dead included */
	size_t dead;
};

struct um_state {
	struct um_os *os;
	struct um_params mp;
	uint64_t global_max_fast;
	int      perturb_byte;
	uint64_t tcache_key;
	size_t   pagesize;
	unsigned ncpus;

	struct um_arena *main;
	struct um_arena **arenas;   /* by index */
	unsigned narenas;           /* created (glibc's narenas) */
	unsigned arenas_cap;
	uint64_t narenas_limit;
	struct um_arena *free_list;
	struct um_arena *next_to_use;

	struct um_thread **threads; /* UM_SIM: owned threads, by id */
	unsigned nthreads, threads_cap;
	struct um_thread *main_thread;
	uint32_t next_tid;

	struct um_reg reg;
	int      reg_on;
	int      main_claimed;      /* a thread was attached to the main arena */

	uint64_t tag;
	int      err;
	unsigned long nreports;
#ifdef UM_SIM
	jmp_buf *jb;                /* where sim_bad() unwinds to */
	int      in_op;
#endif
#ifdef UM_HOST
	pthread_mutex_t list_lock;
	pthread_mutex_t free_list_lock;
	pthread_mutex_t reg_lock;
	int      multi;             /* arenas must be locked */
#endif
};

/* === Size and bin arithmetic =========================================== */

UM_INLINE uint64_t request2size(uint64_t req)
{
	return req + SIZE_SZ + MALLOC_ALIGN_MASK < MINSIZE
	       ? MINSIZE : (req + SIZE_SZ + MALLOC_ALIGN_MASK) & ~(uint64_t)MALLOC_ALIGN_MASK;
}
UM_INLINE bool checked_request2size(uint64_t req, uint64_t *nb)
{
	if (UM_UNLIKELY(req > (uint64_t)PTRDIFF_MAX))
		return false;
	*nb = request2size(req);
	return true;
}
#define chunksize_of(h)      ((h) & ~(uint64_t)SIZE_BITS)
#define csize2tidx(x)        (((x) - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT)
#define fastbin_index(sz)    ((unsigned)((((unsigned)(sz)) >> 4) - 2))
#define in_smallbin_range(sz) ((uint64_t)(sz) < MIN_LARGE_SIZE)
#define smallbin_index(sz)   ((unsigned)((sz) >> 4))
UM_INLINE unsigned largebin_index(uint64_t sz)
{
	return ((sz >> 6) <= 48) ? 48 + (unsigned)(sz >> 6)
	     : ((sz >> 9) <= 20) ? 91 + (unsigned)(sz >> 9)
	     : ((sz >> 12) <= 10) ? 110 + (unsigned)(sz >> 12)
	     : ((sz >> 15) <= 4) ? 119 + (unsigned)(sz >> 15)
	     : ((sz >> 18) <= 2) ? 124 + (unsigned)(sz >> 18)
	     : 126;
}
UM_INLINE unsigned bin_index(uint64_t sz)
{
	return in_smallbin_range(sz) ? smallbin_index(sz) : largebin_index(sz);
}
#define idx2block(i)   ((i) >> 5)
#define idx2bit(i)     (1u << ((i) & 31))
#define mark_bin(m, i)   ((m)->binmap[idx2block(i)] |= idx2bit(i))
#define unmark_bin(m, i) ((m)->binmap[idx2block(i)] &= ~(idx2bit(i)))
#define get_binmap(m, i) ((m)->binmap[idx2block(i)] & idx2bit(i))

/* bin_at(av, i): the fake chunk whose fd/bk are bins[2i-2], bins[2i-1]. */
UM_INLINE um_addr bin_at(const struct um_arena *av, unsigned i)
{
#ifdef UM_HOST
	/* binaddr0 is &bins[0] itself: index from av, as glibc's bin_at does,
	 * rather than load (or keep) a base address */
	return (um_addr)(uintptr_t)&av->bins[2 * (i - 1)] - 16;
#else
	return av->binaddr0 + (um_addr)(i - 1) * 16 - 16;
#endif
}
UM_INLINE bool is_bin(const struct um_arena *av, um_addr p)
{
	return p - (av->binaddr0 - 16) < (um_addr)(NBINS - 1) * 16;
}
#define unsorted_chunks(av) bin_at(av, 1)
#define misaligned_chunk(p) (((p) + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK)
#define PROTECT_PTR(pos, ptr) ((((um_addr)(pos)) >> 12) ^ (um_addr)(ptr))

#endif /* UM_INTERNAL_H */
