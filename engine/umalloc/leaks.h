/*
 * leaks.h — REFALLOC_LEAKS: the leak report of librefalloc_malloc.so.
 *
 * With REFALLOC_LEAKS=1 the preloaded malloc records every live block
 * (request size and the allocation's call stack) in a side table, and at
 * process exit classifies the blocks the way Valgrind's memcheck does
 * (definitely lost, indirectly lost, possibly lost, still reachable) and
 * prints an LSan-style report grouped by stack.  leaks.c explains how;
 * leakcheck/examples/README.md explains the options and the trade-offs.
 *
 * The recording half is called by preload.c (which includes leaks.c in
 * its single translation unit); the classifier half is plain data in,
 * totals out, so tests drive it with hand-made blocks and roots.
 */
#ifndef UM_LEAKS_H
#define UM_LEAKS_H

#include <stddef.h>
#include <stdint.h>

/* Which entry point allocated a block: frame #0 of its stack. */
enum lk_kind {
	LK_MALLOC, LK_CALLOC, LK_REALLOC, LK_REALLOCARRAY, LK_MEMALIGN,
	LK_ALIGNED_ALLOC, LK_POSIX_MEMALIGN, LK_VALLOC, LK_PVALLOC, LK_NKINDS
};

struct lk_range {
	uintptr_t lo, hi;               /* [lo, hi) */
};

/* What the preloaded library tells the report about itself. */
struct lk_host {
	const void *self;               /* an address in its data: its segments are no roots */
	const void *entry[LK_NKINDS];   /* its malloc, calloc, ...: frame #0 */
	/* Memory the allocator owns (heaps): never scanned as a root, even if
	 * the kernel merged it into a mapping that holds a root. */
	size_t (*heaps)(struct lk_range *out, size_t max);
};

/* === Recording (preload.c) ============================================== */

/* Read REFALLOC_LEAKS* from the environment; 1 if the report is on.  Safe
 * to call again (a call made before the environment was visible is
 * retried).  Never calls malloc. */
int  lk_init(const struct lk_host *host);
/* Register the report as the last exit handler (once). */
void lk_arm(void);
/* A block p of n requested bytes was just handed out; ra is the return
 * address of the exported entry (the first frame of the stack). */
void lk_alloc(void *p, size_t n, enum lk_kind kind, void *ra);
/* p is about to be freed (before the allocator may hand it out again). */
void lk_free(void *p);
/* realloc: take p's record out (1 if it was there) and put it back if the
 * reallocation fails and p stays valid. */
struct lk_saved {
	uint64_t size;
	uint32_t stack;
};
int  lk_take(void *p, struct lk_saved *out);
void lk_restore(void *p, const struct lk_saved *s);
/* pthread_atfork: the side table's locks around fork. */
void lk_fork_prepare(void);
void lk_fork_parent(void);
void lk_fork_child(void);
/* The exit handler (registered by lk_arm; exposed for tests). */
void lk_atexit(void *unused);

/* === The classifier ===================================================== */

/* Valgrind's states, in its order of precedence. */
enum { LK_UNREACHED = 0, LK_INDIRECT, LK_POSSIBLE, LK_REACHABLE, LK_NSTATES };
#define LK_F_ROOT 1u                   /* treated as reachable (allocated by ld.so) */

struct lk_blk {
	uintptr_t p;                    /* user pointer */
	uint64_t  size;                 /* requested bytes */
	uint32_t  stack;                /* stack depot id, 0 = none */
	uint8_t   state;                /* LK_UNREACHED ... after lk_classify */
	uint8_t   pending;              /* on the mark stack */
	uint8_t   flags;                /* LK_F_ROOT */
	uint8_t   pad;
};

struct lk_totals {
	uint64_t bytes[LK_NSTATES];
	uint64_t blocks[LK_NSTATES];
};

/*
 * lk_classify - Valgrind memcheck's leak classification.
 * @b:      blocks sorted by address, non-overlapping; state is set
 * @n:      number of blocks
 * @stk:    scratch, n entries (the mark stack)
 * @roots:  root ranges, scanned word by word (aligned words only)
 * @excl:   ranges never scanned as roots (the allocator's heaps); live
 *          blocks are never roots either
 * @t:      totals per state (bytes are requested sizes)
 *
 * A word that points to a block's first byte (or into it: interior
 * pointer) marks it.  From the roots and from LK_F_ROOT blocks: reached
 * by a start pointer through start pointers -> LK_REACHABLE, reached
 * otherwise -> LK_POSSIBLE.  The rest are lost; in address order, each
 * block still unreached leads a clique and every unreached block it
 * reaches (start or interior pointer) becomes LK_INDIRECT, leaders
 * included; the leaders left are definitely lost.
 */
void lk_classify(struct lk_blk *b, size_t n, uint32_t *stk,
                 const struct lk_range *roots, size_t nroots,
                 const struct lk_range *excl, size_t nexcl, struct lk_totals *t);

#endif /* UM_LEAKS_H */
