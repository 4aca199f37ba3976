/*
 * umalloc.c — a ptmalloc-like malloc for refalloc, written from scratch
 * after glibc 2.36's documented behaviour (malloc/malloc.c, arena.c).
 *
 * One source, two worlds (um_os.h): UM_SIM for the engine's simulated
 * tasks, UM_HOST for librefalloc_malloc.so.  This file is the single
 * translation unit: it includes um_reg.c (registry, validated accessors,
 * repair), um_check.c (validators) and um_print.c (malloc_stats/info).
 *
 * Layout of the code follows glibc's so the two can be read side by side:
 *   arenas and heaps      (arena.c: new_heap, grow/shrink/heap_trim,
 *                          arena_get2, reused_arena, free list)
 *   tcache                (tcache_init/put/get/thread_shutdown)
 *   system memory         (sysmalloc, systrim, munmap_chunk, mremap_chunk)
 *   the engine            (int_malloc, int_free, malloc_consolidate,
 *                          int_realloc, int_memalign, mtrim)
 *   public interface      (um_malloc ... um_mallopt, life cycle, threads)
 *
 * Locking (UM_HOST): as glibc, an arena is locked around int_malloc and
 * the non-tcache part of int_free; list_lock guards the arena list,
 * free_list_lock the free list and attach counts.  While the process is
 * single-threaded (glibc's __libc_single_threaded) no lock is taken, as
 * glibc's SINGLE_THREAD_P.  UM_SIM has no locks: one host thread drives
 * the simulated task.
 *
 * Misuse (UM_SIM): every API entry sets a jmp_buf; a validated read that
 * finds corrupted metadata reports and unwinds there; the entry then runs
 * um_fsck() and returns failure.  Double and invalid frees are caught from
 * the registry before any in-band byte is read.
 */
#include "um_internal.h"

#include <stdlib.h>

#ifdef UM_HOST
#include <sys/single_threaded.h>
#endif

#include "um_reg.c"

/* === Small helpers ====================================================== */

#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~(uint64_t)((a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~(uint64_t)((a) - 1))
#define powerof2(x)      ((((x) - 1) & (x)) == 0)
#define contiguous(av)   (((av)->flags & NONCONTIGUOUS_BIT) == 0)
#define NONMAIN(S, av)   ((av) != (S)->main ? NON_MAIN_ARENA : 0)

static const char MSG_MEMCORR[] = "malloc(): memory corruption";

#ifdef UM_SIM
#define CORRUPT(S, p, msg) sim_bad((S), (p), (msg))
#define MT(S) 0
#define LOCK(S, m)   ((void)0)
#define UNLOCK(S, m) ((void)0)
#define TRYLOCK(S, m) 0
#else
static UM_NORETURN UM_NOINLINE void host_bad(struct um_state *S, um_addr p, const char *msg)
{
	um_os_report(S->os, "heap-corruption", p + CHUNK_HDR_SZ, msg);
}
#define CORRUPT(S, p, msg) host_bad((S), (p), (msg))
#define MT(S) (!__libc_single_threaded)
#define LOCK(S, m)   do { if (MT(S)) pthread_mutex_lock(m); } while (0)
#define UNLOCK(S, m) do { if (MT(S)) pthread_mutex_unlock(m); } while (0)
#define TRYLOCK(S, m) (MT(S) ? pthread_mutex_trylock(m) : 0)
#endif

UM_INLINE void alloc_perturb(struct um_state *S, um_addr mem, size_t n)
{
	if (UM_UNLIKELY(S->perturb_byte))
		um_os_fill(S->os, mem, (S->perturb_byte ^ 0xff) & 0xff, n);
}
UM_INLINE void free_perturb(struct um_state *S, um_addr mem, size_t n)
{
	if (UM_UNLIKELY(S->perturb_byte))
		um_os_fill(S->os, mem, S->perturb_byte & 0xff, n);
}

static uint64_t top_size(struct um_state *S, struct um_arena *av, const char *msg)
{
	return av->top ? chunksize_of(rd_hdr(S, av->top, msg)) : 0;
}

/* set_inuse_bit_at_offset(p, s) */
static void set_inuse_at(struct um_state *S, struct um_arena *av, um_addr q, const char *msg)
{
	uint64_t h = rd_hdr(S, q, msg);
	wr_hdr(S, av, q, h | PREV_INUSE);
}

static void set_non_main(struct um_state *S, struct um_arena *av, um_addr p)
{
	if (av != S->main) {
		uint64_t h = rd_hdr(S, p, MSG_MEMCORR);
		wr_hdr(S, av, p, h | NON_MAIN_ARENA);
	}
}

/* === Arenas and heaps (glibc arena.c) =================================== */

static void arena_init_state(struct um_state *S, struct um_arena *av, int idx)
{
	av->st = S;
	av->os = S->os;
	av->idx = idx;
#ifdef UM_SIM
	av->binaddr0 = UM_SIM_BIN_BASE + (um_addr)idx * 0x1000 + 0x100;
#else
	av->binaddr0 = (um_addr)(uintptr_t)&av->bins[0];
	pthread_mutex_init(&av->mutex, NULL);
#endif
	for (unsigned i = 1; i < NBINS; i++)
		av->bins[2 * (i - 1)] = av->bins[2 * (i - 1) + 1] = bin_at(av, i);
	if (idx != 0)
		av->flags |= NONCONTIGUOUS_BIT;
	av->have_fastchunks = 0;
	av->top = 0;
}

static struct um_arena *arena_alloc(struct um_state *S)
{
	if (S->narenas == S->arenas_cap) {
		unsigned ncap = S->arenas_cap ? S->arenas_cap * 2 : 16;
		struct um_arena **na = um_os_meta_alloc(S->os, ncap * sizeof(*na));
		if (!na)
			return NULL;
		if (S->arenas) {
			memcpy(na, S->arenas, S->narenas * sizeof(*na));
			um_os_meta_free(S->os, S->arenas, S->arenas_cap * sizeof(*na));
		}
		S->arenas = na;
		S->arenas_cap = ncap;
	}
	struct um_arena *av = um_os_meta_alloc(S->os, sizeof(*av));
	if (!av)
		return NULL;
	arena_init_state(S, av, (int)S->narenas);
	S->arenas[S->narenas++] = av;
	return av;
}

static struct um_heap *heap_of(struct um_arena *av, um_addr p)
{
	for (struct um_heap *h = av->heap; h; h = h->prev)
		if (p >= h->base && p < h->base + HEAP_MAX_SIZE)
			return h;
	return NULL;
}

static void heap_write_info(struct um_state *S, struct um_arena *av, struct um_heap *h)
{
	/* heap_info in-band, as glibc (UM_SIM never reads it back). */
#ifdef UM_HOST
	STW(S, h->base + 0, (uint64_t)(uintptr_t)av);
#else
	STW(S, h->base + 0, bin_at(av, 1));
#endif
	STW(S, h->base + 8, h->prev ? h->prev->base : 0);
	STW(S, h->base + 16, h->size);
	STW(S, h->base + 24, h->mprotect_size);
	STW(S, h->base + 32, S->pagesize);
}

static struct um_heap *new_heap(struct um_state *S, uint64_t size, uint64_t top_pad)
{
	if (size + top_pad < HEAP_MIN_SIZE)
		size = HEAP_MIN_SIZE;
	else if (size + top_pad <= HEAP_MAX_SIZE)
		size += top_pad;
	else if (size > HEAP_MAX_SIZE)
		return NULL;
	else
		size = HEAP_MAX_SIZE;
	size = ALIGN_UP(size, S->pagesize);

	um_addr p2;
	um_addr p1 = um_os_mmap(S->os, (size_t)HEAP_MAX_SIZE << 1, UM_PROT_NONE, UM_MAP_NORESERVE);
	if (p1) {
		p2 = ALIGN_UP(p1, HEAP_MAX_SIZE);
		uint64_t ul = p2 - p1;
		if (ul)
			um_os_munmap(S->os, p1, ul);
		um_os_munmap(S->os, p2 + HEAP_MAX_SIZE, HEAP_MAX_SIZE - ul);
	} else {
		p2 = um_os_mmap(S->os, HEAP_MAX_SIZE, UM_PROT_NONE, UM_MAP_NORESERVE);
		if (!p2)
			return NULL;
		if (p2 & (HEAP_MAX_SIZE - 1)) {
			um_os_munmap(S->os, p2, HEAP_MAX_SIZE);
			return NULL;
		}
	}
	if (um_os_mprotect(S->os, p2, size, UM_PROT_RW) != 0) {
		um_os_munmap(S->os, p2, HEAP_MAX_SIZE);
		return NULL;
	}
	struct um_heap *h = um_os_meta_alloc(S->os, sizeof(*h));
	if (!h) {
		um_os_munmap(S->os, p2, HEAP_MAX_SIZE);
		return NULL;
	}
	h->base = p2;
	h->size = size;
	h->mprotect_size = size;
	return h;
}

static int grow_heap(struct um_state *S, struct um_arena *av, struct um_heap *h, int64_t diff)
{
	diff = (int64_t)ALIGN_UP((uint64_t)diff, S->pagesize);
	uint64_t new_size = h->size + (uint64_t)diff;
	if (new_size > HEAP_MAX_SIZE)
		return -1;
	if (new_size > h->mprotect_size) {
		if (um_os_mprotect(S->os, h->base + h->mprotect_size,
		                   new_size - h->mprotect_size, UM_PROT_RW) != 0)
			return -2;
		h->mprotect_size = new_size;
	}
	h->size = new_size;
	heap_write_info(S, av, h);
	return 0;
}

static int shrink_heap(struct um_state *S, struct um_arena *av, struct um_heap *h, int64_t diff)
{
	int64_t new_size = (int64_t)h->size - diff;
	if (new_size < (int64_t)HEAP_INFO_SZ)
		return -1;
	/* glibc re-maps PROT_NONE only under overcommit_memory=2; else madvise */
	um_os_release(S->os, h->base + (uint64_t)new_size, (size_t)diff);
	h->size = (uint64_t)new_size;
	heap_write_info(S, av, h);
	return 0;
}

static void delete_heap(struct um_state *S, struct um_heap *h)
{
	um_os_munmap(S->os, h->base, HEAP_MAX_SIZE);
	um_os_meta_free(S->os, h, sizeof(*h));
}

UM_HOT void unlink_chunk(struct um_state *S, struct um_arena *av, um_addr p);

static int heap_trim(struct um_state *S, struct um_arena *av, struct um_heap *heap, uint64_t pad)
{
	um_addr top_chunk = av->top, p;
	/* Can this heap go away completely? */
	while (top_chunk == heap->base + HEAP_INFO_SZ && heap->prev) {
		struct um_heap *prev_heap = heap->prev;
		uint64_t prev_size = prev_heap->size - (MINSIZE - 2 * SIZE_SZ);
		p = prev_heap->base + prev_size;
		uint64_t misalign = p & MALLOC_ALIGN_MASK;
		p = prev_heap->base + prev_size - misalign;
		uint64_t fh = rd_hdr(S, p, MSG_MEMCORR);
		if (fh != (0 | PREV_INUSE))
			CORRUPT(S, p, "heap_trim(): fencepost not found");
		um_addr fence2 = p;
		(void)fence2;
		p = p - rd_prevsize(S, p, MSG_MEMCORR);          /* prev_chunk */
		uint64_t ph = rd_hdr(S, p, MSG_MEMCORR);
		int64_t new_size = (int64_t)(chunksize_of(ph) + (MINSIZE - 2 * SIZE_SZ) + misalign);
		uint64_t pps = 0;
		if (!(ph & PREV_INUSE)) {
			pps = rd_prevsize(S, p, "corrupted size vs. prev_size");
			new_size += (int64_t)pps;
		}
		if ((uint64_t)new_size + (HEAP_MAX_SIZE - prev_heap->size) < pad + MINSIZE + S->pagesize)
			break;
		av->system_mem -= heap->size;
		RS_FORGET(S, top_chunk);
		RS_FORGET(S, fence2);
		um_addr fence1 = p;
		struct um_heap *dead = heap;
		heap = prev_heap;
		av->heap = heap;
		delete_heap(S, dead);
		if (!(ph & PREV_INUSE)) {
			p = p - pps;
			unlink_chunk(S, av, p);
		}
		wr_hdr(S, av, p, (uint64_t)new_size | PREV_INUSE);
		if (p != fence1)
			RS_FORGET(S, fence1);
		RS_SET(S, p, RS_TOP);
		av->top = top_chunk = p;
	}
	uint64_t tsz = chunksize_of(rd_hdr(S, top_chunk, "malloc(): corrupted top size"));
	if (tsz < S->mp.trim_threshold)
		return 0;
	int64_t top_area = (int64_t)tsz - MINSIZE - 1;
	if (top_area < 0 || (uint64_t)top_area <= pad)
		return 0;
	int64_t extra = (int64_t)ALIGN_DOWN((uint64_t)top_area - pad, S->pagesize);
	if (extra == 0)
		return 0;
	if (shrink_heap(S, av, heap, extra) != 0)
		return 0;
	av->system_mem -= (uint64_t)extra;
	wr_hdr(S, av, top_chunk, (tsz - (uint64_t)extra) | PREV_INUSE);
	return 1;
}

/* _int_new_arena: returns the arena locked and attached to th. */
static struct um_arena *int_new_arena(struct um_state *S, struct um_thread *th, size_t size)
{
	struct um_heap *h = new_heap(S, size + (HEAP_INFO_SZ + MSTATE_SZ + MALLOC_ALIGNMENT), S->mp.top_pad);
	if (!h) {
		h = new_heap(S, HEAP_INFO_SZ + MSTATE_SZ + MALLOC_ALIGNMENT, 0);
		if (!h)
			return NULL;
	}
	LOCK(S, &S->list_lock);
	struct um_arena *a = arena_alloc(S);
	if (!a) {
		UNLOCK(S, &S->list_lock);
		delete_heap(S, h);
		return NULL;
	}
	a->heap = h;
	heap_write_info(S, a, h);
	a->system_mem = a->max_system_mem = h->size;
	um_addr ptr = h->base + HEAP_INFO_SZ + MSTATE_SZ;
	uint64_t misalign = (ptr + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
	if (misalign)
		ptr += MALLOC_ALIGNMENT - misalign;
	a->top = ptr;
	wr_hdr(S, a, ptr, (h->base + h->size - ptr) | PREV_INUSE);
	RS_SET(S, ptr, RS_TOP);
	a->attached_threads = 1;
	struct um_arena *replaced = th ? th->arena : NULL;
	if (th)
		th->arena = a;
	a->next = S->main->next;
	S->main->next = a;
	UNLOCK(S, &S->list_lock);
	LOCK(S, &S->free_list_lock);
	if (replaced)
		replaced->attached_threads--;
	UNLOCK(S, &S->free_list_lock);
	LOCK(S, &a->mutex);
	return a;
}

static struct um_arena *get_free_list(struct um_state *S, struct um_thread *th)
{
	struct um_arena *replaced = th ? th->arena : NULL;
	struct um_arena *result = S->free_list;
	if (result) {
		LOCK(S, &S->free_list_lock);
		result = S->free_list;
		if (result) {
			S->free_list = result->next_free;
			result->attached_threads = 1;
			if (replaced)
				replaced->attached_threads--;
		}
		UNLOCK(S, &S->free_list_lock);
		if (result) {
			LOCK(S, &result->mutex);
			if (th)
				th->arena = result;
		}
	}
	return result;
}

static void remove_from_free_list(struct um_state *S, struct um_arena *a)
{
	for (struct um_arena **pp = &S->free_list; *pp; pp = &(*pp)->next_free)
		if (*pp == a) {
			*pp = a->next_free;
			break;
		}
}

static struct um_arena *reused_arena(struct um_state *S, struct um_thread *th, struct um_arena *avoid)
{
	struct um_arena *result;
	if (!S->next_to_use)
		S->next_to_use = S->main;
	result = S->next_to_use;
	do {
		if (TRYLOCK(S, &result->mutex) == 0)
			goto out;
		result = result->next;
	} while (result != S->next_to_use);
	if (result == avoid)
		result = result->next;
	LOCK(S, &result->mutex);
out:
	LOCK(S, &S->free_list_lock);
	if (th && th->arena)
		th->arena->attached_threads--;
	remove_from_free_list(S, result);
	result->attached_threads++;
	UNLOCK(S, &S->free_list_lock);
	if (th)
		th->arena = result;
	S->next_to_use = result->next;
	return result;
}

static struct um_arena *arena_get2(struct um_state *S, struct um_thread *th, size_t size,
                                   struct um_arena *avoid)
{
	struct um_arena *a = get_free_list(S, th);
	if (a)
		return a;
	if (S->narenas_limit == 0) {
		if (S->mp.arena_max != 0)
			S->narenas_limit = S->mp.arena_max;
		else if (S->narenas > S->mp.arena_test)
			S->narenas_limit = NARENAS_FROM_NCORES(S->ncpus ? S->ncpus : 2);
	}
	if (S->narenas <= S->narenas_limit - 1) {   /* 0 - 1 wraps: always */
		a = int_new_arena(S, th, size);
		if (a)
			return a;
	}
	return reused_arena(S, th, avoid);
}

/* arena_get: the thread's arena, locked. */
UM_INLINE struct um_arena *arena_get(struct um_state *S, struct um_thread *th, size_t size)
{
	struct um_arena *av = th ? th->arena : S->main;
	if (UM_LIKELY(av != NULL)) {
		LOCK(S, &av->mutex);
		return av;
	}
	return arena_get2(S, th, size, NULL);
}

static struct um_arena *arena_get_retry(struct um_state *S, struct um_thread *th,
                                        struct um_arena *av, size_t bytes)
{
	if (av != S->main) {
		UNLOCK(S, &av->mutex);
		av = S->main;
		LOCK(S, &av->mutex);
	} else {
		UNLOCK(S, &av->mutex);
		av = arena_get2(S, th, bytes, av);
	}
	return av;
}

/* arena_for_chunk: main unless NON_MAIN_ARENA; then the heap's arena. */
UM_INLINE struct um_arena *arena_for_chunk(struct um_state *S, um_addr p, uint64_t hdr)
{
	if (!(hdr & NON_MAIN_ARENA))
		return S->main;
#ifdef UM_SIM
	struct um_rent *e = reg_find(S, p);
	if (!e || e->arena == UM_NO_ARENA || e->arena >= S->narenas)
		CORRUPT(S, p, "free(): invalid pointer");
	return S->arenas[e->arena];
#else
	return (struct um_arena *)(uintptr_t)LD(S, p & ~(uint64_t)(HEAP_MAX_SIZE - 1));
#endif
}

/* === Tcache ============================================================= */

static um_addr int_malloc_nb(struct um_state *S, struct um_arena *av, struct um_thread *th,
                             size_t bytes, uint64_t nb, bool retry);
UM_INLINE um_addr int_malloc(struct um_state *S, struct um_arena *av, struct um_thread *th,
                             size_t bytes);
#ifdef UM_HOST
static um_addr malloc_retry(struct um_state *S, struct um_thread *th, struct um_arena *av, size_t n);
#endif
static void int_free(struct um_state *S, struct um_arena *av, struct um_thread *th,
                     um_addr p, bool have_lock);

UM_INLINE void tcache_put(struct um_state *S, struct um_thread *th, um_addr chunk, size_t tc_idx)
{
	struct um_tcache *tc = th->tc;
	um_addr mem = chunk + CHUNK_HDR_SZ;
	RS_SET(S, chunk, RS_TCACHE);
	RS_OWNER(S, chunk, th->id);
	wr_link(S, chunk, 1, S->tcache_key);                      /* e->key */
	wr_link(S, chunk, 0, PROTECT_PTR(mem, tc->entries[tc_idx])); /* e->next */
	tc->entries[tc_idx] = mem;
	++tc->counts[tc_idx];
}

UM_INLINE um_addr tcache_get(struct um_state *S, struct um_thread *th, size_t tc_idx)
{
	struct um_tcache *tc = th->tc;
	um_addr e = tc->entries[tc_idx];
	if (UM_UNLIKELY(e & MALLOC_ALIGN_MASK))
		CORRUPT(S, e - CHUNK_HDR_SZ, "malloc(): unaligned tcache chunk detected");
	uint64_t nx = rd_link(S, e - CHUNK_HDR_SZ, 0, "malloc(): unaligned tcache chunk detected");
	tc->entries[tc_idx] = PROTECT_PTR(e, nx);
	--tc->counts[tc_idx];
	STW(S, e + SIZE_SZ, 0);                                    /* e->key = NULL */
	RS_SET(S, e - CHUNK_HDR_SZ, RS_TAKEN);
	return e;
}

static void tcache_init(struct um_state *S, struct um_thread *th)
{
	if (th->shutting_down)
		return;
	struct um_arena *av = arena_get(S, th, TCACHE_STRUCT_SZ);
	um_addr victim = av ? int_malloc(S, av, NULL, TCACHE_STRUCT_SZ) : 0;
	if (!victim && av) {
		av = arena_get_retry(S, th, av, TCACHE_STRUCT_SZ);
		if (av)
			victim = int_malloc(S, av, NULL, TCACHE_STRUCT_SZ);
	}
	if (av)
		UNLOCK(S, &av->mutex);
	if (victim) {
		th->tc_mem = victim;
		RS_SET(S, victim - CHUNK_HDR_SZ, RS_INTERNAL);
		um_os_fill(S->os, victim, 0, TCACHE_STRUCT_SZ);          /* glibc's memset */
#ifdef UM_SIM
		memset(&th->tc_store, 0, sizeof(th->tc_store));
		th->tc = &th->tc_store;
#else
		th->tc = (struct um_tcache *)(uintptr_t)victim;
#endif
	}
}

/* free() without the tcache: for tcache shutdown. */
static void free_no_tcache(struct um_state *S, um_addr mem)
{
	um_addr p = mem - CHUNK_HDR_SZ;
	uint64_t h = rd_hdr(S, p, "free(): invalid pointer");
	RS_SET(S, p, RS_TAKEN);
	struct um_arena *av = arena_for_chunk(S, p, h);
	int_free(S, av, NULL, p, false);
}

static void tcache_thread_shutdown(struct um_state *S, struct um_thread *th)
{
	struct um_tcache *tc = th->tc;
	if (!tc)
		return;
	th->tc = NULL;
	th->shutting_down = 1;
	for (size_t i = 0; i < TCACHE_MAX_BINS; i++) {
		while (tc->entries[i]) {
			um_addr e = tc->entries[i];
			if (e & MALLOC_ALIGN_MASK)
				CORRUPT(S, e - CHUNK_HDR_SZ, "tcache_thread_shutdown(): unaligned tcache chunk detected");
			tc->entries[i] = PROTECT_PTR(e, rd_link(S, e - CHUNK_HDR_SZ, 0,
			                   "tcache_thread_shutdown(): unaligned tcache chunk detected"));
			tc->counts[i]--;
			free_no_tcache(S, e);
		}
	}
	free_no_tcache(S, th->tc_mem);
	th->tc_mem = 0;
}

/* === System memory (sysmalloc, systrim, mmapped chunks) ================= */

static um_addr sysmalloc(struct um_state *S, uint64_t nb, struct um_arena *av, struct um_thread *th)
{
	size_t ps = S->pagesize;
	bool tried_mmap = false;
	um_addr old_top, old_end, brk, snd_brk, aligned_brk, p, remainder;
	uint64_t old_size, size, correction, front_misalign, end_misalign;

	if (!av || (nb >= S->mp.mmap_threshold && S->mp.n_mmaps < S->mp.n_mmaps_max)) {
try_mmap:
		size = ALIGN_UP(nb + SIZE_SZ, ps);
		tried_mmap = true;
		if (size > nb) {
			um_addr mm = um_os_mmap(S->os, size, UM_PROT_RW, 0);
			if (mm) {
				wr_prevsize(S, mm, 0);
				wr_hdr(S, NULL, mm, size | IS_MMAPPED);
				RS_SET(S, mm, RS_TAKEN);
				int nw = __atomic_add_fetch(&S->mp.n_mmaps, 1, __ATOMIC_RELAXED);
				if (nw > S->mp.max_n_mmaps)
					S->mp.max_n_mmaps = nw;
				uint64_t sum = __atomic_add_fetch(&S->mp.mmapped_mem, size, __ATOMIC_RELAXED);
				if (sum > S->mp.max_mmapped_mem)
					S->mp.max_mmapped_mem = sum;
				return mm + CHUNK_HDR_SZ;
			}
		}
	}
	if (!av)
		return 0;

	old_top = av->top;
	old_size = top_size(S, av, "malloc(): corrupted top size");
	old_end = old_top + old_size;
	brk = snd_brk = UM_BRK_FAIL;

	if (av != S->main) {
		struct um_heap *old_heap = av->heap, *heap;
		uint64_t old_heap_size = old_heap->size;
		if ((int64_t)(MINSIZE + nb - old_size) > 0
		    && grow_heap(S, av, old_heap, (int64_t)(MINSIZE + nb - old_size)) == 0) {
			av->system_mem += old_heap->size - old_heap_size;
			wr_hdr(S, av, old_top, (old_heap->base + old_heap->size - old_top) | PREV_INUSE);
		} else if ((heap = new_heap(S, nb + (MINSIZE + HEAP_INFO_SZ), S->mp.top_pad))) {
			heap->prev = old_heap;
			av->heap = heap;
			heap_write_info(S, av, heap);
			av->system_mem += heap->size;
			av->top = heap->base + HEAP_INFO_SZ;
			wr_hdr(S, av, av->top, (heap->size - HEAP_INFO_SZ) | PREV_INUSE);
			RS_SET(S, av->top, RS_TOP);
			/* fenceposts; free the rest of the old top */
			old_size = (old_size - MINSIZE) & ~(uint64_t)MALLOC_ALIGN_MASK;
			wr_hdr(S, av, old_top + old_size + CHUNK_HDR_SZ, 0 | PREV_INUSE);
			RS_SET(S, old_top + old_size + CHUNK_HDR_SZ, RS_FENCE);
			if (old_size >= MINSIZE) {
				wr_hdr(S, av, old_top + old_size, CHUNK_HDR_SZ | PREV_INUSE);
				RS_SET(S, old_top + old_size, RS_FENCE);
				wr_prevsize(S, old_top + old_size + CHUNK_HDR_SZ, CHUNK_HDR_SZ);
				uint64_t h = old_size | PREV_INUSE | NON_MAIN_ARENA;
				wr_hdr(S, av, old_top, h);
				RS_SET(S, old_top, RS_TAKEN);
				int_free(S, av, th, old_top, true);
			} else {
				wr_hdr(S, av, old_top, (old_size + CHUNK_HDR_SZ) | PREV_INUSE);
				RS_SET(S, old_top, RS_FENCE);
				wr_prevsize(S, old_top + old_size + CHUNK_HDR_SZ, old_size + CHUNK_HDR_SZ);
			}
		} else if (!tried_mmap) {
			goto try_mmap;
		}
	} else {
		size = nb + S->mp.top_pad + MINSIZE;
		if (contiguous(av))
			size -= old_size;
		size = ALIGN_UP(size, ps);
		if ((int64_t)size > 0)
			brk = um_os_brk(S->os, (int64_t)size);
		if (brk == UM_BRK_FAIL) {
			if (contiguous(av))
				size = ALIGN_UP(size + old_size, ps);
			if (size < MMAP_AS_MORECORE_SIZE)
				size = MMAP_AS_MORECORE_SIZE;
			if (size > nb) {
				um_addr mbrk = um_os_mmap(S->os, size, UM_PROT_RW, 0);
				if (mbrk) {
					brk = mbrk;
					snd_brk = brk + size;
					av->flags |= NONCONTIGUOUS_BIT;
				}
			}
		}
		if (brk != UM_BRK_FAIL) {
			if (S->mp.sbrk_base == 0)
				S->mp.sbrk_base = brk;
			av->system_mem += size;
			if (brk == old_end && snd_brk == UM_BRK_FAIL && old_top) {
				wr_hdr(S, av, old_top, (size + old_size) | PREV_INUSE);
			} else if (contiguous(av) && old_size && brk < old_end) {
				av->system_mem -= size;
				CORRUPT(S, old_top, "break adjusted to free malloc space");
			} else {
				front_misalign = 0;
				end_misalign = 0;
				correction = 0;
				aligned_brk = brk;
				/* The break came from sbrk (contiguous, or a non-contiguous
				 * arena after the mmap fallback: snd_brk unset), and someone
				 * else may have moved it to any byte (a foreign sbrk(1)):
				 * align the front, and ask for what page-aligns the end.
				 * glibc does this for contiguous arenas only and asserts
				 * (assertions off: trusts) MORECORE's alignment for the
				 * others, which would hand out misaligned chunks here. */
				if (contiguous(av) || snd_brk == UM_BRK_FAIL) {
					if (contiguous(av) && old_size)
						av->system_mem += brk - old_end;
					front_misalign = (brk + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
					if (front_misalign > 0) {
						correction = MALLOC_ALIGNMENT - front_misalign;
						aligned_brk += correction;
					}
					if (contiguous(av))
						correction += old_size;
					end_misalign = brk + size + correction;
					correction += ALIGN_UP(end_misalign, ps) - end_misalign;
					snd_brk = um_os_brk(S->os, (int64_t)correction);
					if (snd_brk == UM_BRK_FAIL) {
						correction = 0;
						snd_brk = um_os_brk(S->os, 0);
					}
				}
				if (snd_brk != UM_BRK_FAIL) {
					av->top = aligned_brk;
					/* rounded down: without the correction the end is where
					 * the misaligned break left it */
					wr_hdr(S, av, av->top, ((snd_brk - aligned_brk + correction) & ~(uint64_t)MALLOC_ALIGN_MASK)
					       | PREV_INUSE);
					RS_SET(S, av->top, RS_TOP);
					av->system_mem += correction;
					if (old_size != 0) {
						old_size = (old_size - 2 * CHUNK_HDR_SZ) & ~(uint64_t)MALLOC_ALIGN_MASK;
						wr_hdr(S, av, old_top, old_size | PREV_INUSE);
						wr_hdr(S, av, old_top + old_size, CHUNK_HDR_SZ | PREV_INUSE);
						RS_SET(S, old_top + old_size, RS_FENCE);
						wr_hdr(S, av, old_top + old_size + CHUNK_HDR_SZ, CHUNK_HDR_SZ | PREV_INUSE);
						RS_SET(S, old_top + old_size + CHUNK_HDR_SZ, RS_FENCE);
						if (old_size >= MINSIZE) {
							RS_SET(S, old_top, RS_TAKEN);
							int_free(S, av, th, old_top, true);
						} else if (old_size) {
							RS_SET(S, old_top, RS_FENCE);
						}
					}
				}
			}
		}
	}
	if (av->system_mem > av->max_system_mem)
		av->max_system_mem = av->system_mem;

	p = av->top;
	size = top_size(S, av, "malloc(): corrupted top size");
	if (p && size >= nb + MINSIZE) {
		remainder = p + nb;
		av->top = remainder;
		wr_hdr(S, av, p, nb | PREV_INUSE | NONMAIN(S, av));
		wr_hdr(S, av, remainder, (size - nb) | PREV_INUSE);
		RS_SET(S, remainder, RS_TOP);
		RS_SET(S, p, RS_TAKEN);
		return p + CHUNK_HDR_SZ;
	}
	S->err = ENOMEM;
	return 0;
}

static int systrim(struct um_state *S, uint64_t pad, struct um_arena *av)
{
	size_t ps = S->pagesize;
	uint64_t tsz = top_size(S, av, "malloc(): corrupted top size");
	int64_t top_area = (int64_t)tsz - MINSIZE - 1;
	if (top_area <= 0 || (uint64_t)top_area <= pad)
		return 0;
	uint64_t extra = ALIGN_DOWN((uint64_t)top_area - pad, ps);
	if (extra == 0)
		return 0;
	um_addr current_brk = um_os_brk(S->os, 0);
	if (current_brk == av->top + tsz) {
		um_os_brk(S->os, -(int64_t)extra);
		um_addr new_brk = um_os_brk(S->os, 0);
		if (new_brk != UM_BRK_FAIL) {
			uint64_t released = current_brk - new_brk;
			if (released != 0) {
				av->system_mem -= released;
				wr_hdr(S, av, av->top, (tsz - released) | PREV_INUSE);
				return 1;
			}
		}
	}
	return 0;
}

static void munmap_chunk(struct um_state *S, um_addr p, uint64_t hdr)
{
	size_t ps = S->pagesize;
	uint64_t size = chunksize_of(hdr);
	uint64_t off = rd_prevsize(S, p, "munmap_chunk(): invalid pointer");
	um_addr block = p - off, mem = p + CHUNK_HDR_SZ;
	uint64_t total = off + size;
	if (((block | total) & (ps - 1)) != 0 || !powerof2(mem & (ps - 1)))
		CORRUPT(S, p, "munmap_chunk(): invalid pointer");
	__atomic_sub_fetch(&S->mp.n_mmaps, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&S->mp.mmapped_mem, total, __ATOMIC_RELAXED);
	RS_FORGET(S, p);
	um_os_munmap(S->os, block, total);
}

static um_addr mremap_chunk(struct um_state *S, um_addr p, uint64_t hdr, uint64_t new_size)
{
	size_t ps = S->pagesize;
	uint64_t off = rd_prevsize(S, p, "mremap_chunk(): invalid pointer");
	uint64_t size = chunksize_of(hdr);
	um_addr block = p - off, mem = p + CHUNK_HDR_SZ;
	uint64_t total = off + size;
	if (((block | total) & (ps - 1)) != 0 || !powerof2(mem & (ps - 1)))
		CORRUPT(S, p, "mremap_chunk(): invalid pointer");
	new_size = ALIGN_UP(new_size + off + SIZE_SZ, ps);
	if (total == new_size)
		return p;
	um_addr cp = um_os_mremap(S->os, block, total, new_size);
	if (!cp)
		return 0;
	um_addr np = cp + off;
#ifdef UM_SIM
	if (np != p) {
		struct um_rent *old = reg_find(S, p);
		uint64_t req = old ? old->req : 0, tag = old ? old->tag : 0;
		RS_FORGET(S, p);
		struct um_rent *e = reg_get(S, np);
		e->foot = off;
		e->wmask |= WM_FOOT;
		e->req = req;
		e->tag = tag;
	}
#endif
	wr_hdr(S, NULL, np, (new_size - off) | IS_MMAPPED);
	RS_SET(S, np, RS_TAKEN);
	uint64_t nw = __atomic_add_fetch(&S->mp.mmapped_mem, new_size - total, __ATOMIC_RELAXED);
	if (nw > S->mp.max_mmapped_mem)
		S->mp.max_mmapped_mem = nw;
	return np;
}

/* === The engine: unlink, malloc, free, consolidate ====================== */

UM_HOT void unlink_chunk(struct um_state *S, struct um_arena *av, um_addr p)
{
	uint64_t h = rd_hdr(S, p, "corrupted size vs. prev_size");
	uint64_t sz = chunksize_of(h);
	if (sz != rd_prevsize(S, p + sz, "corrupted size vs. prev_size"))
		CORRUPT(S, p, "corrupted size vs. prev_size");
	um_addr fd = rd_link(S, p, 0, "corrupted double-linked list");
	um_addr bk = rd_link(S, p, 1, "corrupted double-linked list");
	if (rd_link(S, fd, 1, "corrupted double-linked list") != p
	    || rd_link(S, bk, 0, "corrupted double-linked list") != p)
		CORRUPT(S, p, "corrupted double-linked list");
	um_addr fdn = 0, bkn = 0;
	bool large = !in_smallbin_range(h);
	if (large) {
		fdn = rd_link(S, p, 2, "corrupted double-linked list (not small)");
		if (fdn) {
			bkn = rd_link(S, p, 3, "corrupted double-linked list (not small)");
			if (rd_link(S, fdn, 3, "corrupted double-linked list (not small)") != p
			    || rd_link(S, bkn, 2, "corrupted double-linked list (not small)") != p)
				CORRUPT(S, p, "corrupted double-linked list (not small)");
		}
	}
	wr_link(S, fd, 1, bk);
	wr_link(S, bk, 0, fd);
	if (large && fdn) {
#ifdef UM_HOST
		/* as glibc, no is_bin test: a bin's fd_nextsize word is the
		 * next bin's fd, which is never 0 (UM_SIM's bins are not in-band) */
		(void)av;
		if (rd_link(S, fd, 2, "corrupted double-linked list (not small)") == 0) {
#else
		if (!is_bin(av, fd) && rd_link(S, fd, 2, "corrupted double-linked list (not small)") == 0) {
#endif
			if (fdn == p) {
				wr_link(S, fd, 2, fd);
				wr_link(S, fd, 3, fd);
			} else {
				wr_link(S, fd, 2, fdn);
				wr_link(S, fd, 3, bkn);
				wr_link(S, fdn, 3, fd);
				wr_link(S, bkn, 2, fd);
			}
		} else {
			wr_link(S, fdn, 3, bkn);
			wr_link(S, bkn, 2, fdn);
		}
	}
	RS_SET(S, p, RS_TAKEN);
}

static void malloc_consolidate(struct um_state *S, struct um_arena *av)
{
	av->have_fastchunks = 0;
	um_addr unsorted_bin = unsorted_chunks(av);
	for (unsigned i = 0; i < NFASTBINS; i++) {
		um_addr p = av->fastbins[i];
		av->fastbins[i] = 0;
		while (p) {
			if (misaligned_chunk(p))
				CORRUPT(S, p, "malloc_consolidate(): unaligned fastbin chunk detected");
			uint64_t h = rd_hdr(S, p, "malloc_consolidate(): invalid chunk size");
			if (fastbin_index(chunksize_of(h)) != i)
				CORRUPT(S, p, "malloc_consolidate(): invalid chunk size");
			um_addr nextp = PROTECT_PTR(p + 16, rd_link(S, p, 0,
			                "malloc_consolidate(): unaligned fastbin chunk detected"));
			uint64_t size = chunksize_of(h);
			um_addr orig = p, nextchunk = p + size, absorbed = 0;
			uint64_t nh = rd_hdr(S, nextchunk, "malloc_consolidate(): invalid chunk size");
			uint64_t nextsize = chunksize_of(nh);
			RS_SET(S, p, RS_TAKEN);
			if (!(h & PREV_INUSE)) {
				uint64_t prevsize = rd_prevsize(S, p, "corrupted size vs. prev_size in fastbins");
				size += prevsize;
				p = p - prevsize;
				if (chunksize_of(rd_hdr(S, p, "corrupted size vs. prev_size in fastbins")) != prevsize)
					CORRUPT(S, p, "corrupted size vs. prev_size in fastbins");
				unlink_chunk(S, av, p);
			}
			if (nextchunk != av->top) {
				uint64_t nnh = rd_hdr(S, nextchunk + nextsize, MSG_MEMCORR);
				if (!(nnh & PREV_INUSE)) {
					size += nextsize;
					unlink_chunk(S, av, nextchunk);
					absorbed = nextchunk;
				} else {
					wr_hdr(S, av, nextchunk, nh & ~(uint64_t)PREV_INUSE);
				}
				um_addr first_unsorted = rd_link(S, unsorted_bin, 0, MSG_MEMCORR);
				wr_hdr(S, av, p, size | PREV_INUSE);
				if (p != orig)
					RS_FORGET(S, orig);
				if (absorbed)
					RS_FORGET(S, absorbed);
				RS_SET(S, p, RS_FREE);
				wr_link(S, unsorted_bin, 0, p);
				wr_link(S, first_unsorted, 1, p);
				if (!in_smallbin_range(size)) {
					wr_link(S, p, 2, 0);
					wr_link(S, p, 3, 0);
				}
				wr_link(S, p, 1, unsorted_bin);
				wr_link(S, p, 0, first_unsorted);
				wr_prevsize(S, p + size, size);
			} else {
				size += nextsize;
				wr_hdr(S, av, p, size | PREV_INUSE);
				if (p != orig)
					RS_FORGET(S, orig);
				RS_FORGET(S, nextchunk);
				RS_SET(S, p, RS_TOP);
				av->top = p;
			}
			p = nextp;
		}
	}
}

/* _int_malloc in arena av (not NULL) for a request of bytes (<=
 * PTRDIFF_MAX), nb its chunk size (int_malloc computes it; malloc's fast
 * path has it already).  retry
 * (malloc's single-threaded path only): when the arena cannot grow, go on
 * with malloc's retry in another arena, so that malloc's call needs no
 * check after it.  The tcache is reached through th where it is used (th
 * is NULL when tcache_init allocates the tcache itself). */
static um_addr int_malloc_nb(struct um_state *S, struct um_arena *av, struct um_thread *th,
                             size_t bytes, uint64_t nb, bool retry)
{
	uint64_t size, remainder_size;
	unsigned idx;
	um_addr bin, victim, remainder, fwd, bck;

	if (nb <= S->global_max_fast) {
		idx = fastbin_index(nb);
		victim = av->fastbins[idx];
		if (victim) {
			if (misaligned_chunk(victim))
				CORRUPT(S, victim, "malloc(): unaligned fastbin chunk detected 2");
			um_addr nx = PROTECT_PTR(victim + 16, rd_link(S, victim, 0,
			             "malloc(): unaligned fastbin chunk detected 2"));
			uint64_t vh = rd_hdr(S, victim, "malloc(): memory corruption (fast)");
			if (nx && misaligned_chunk(nx))
				CORRUPT(S, victim, "malloc(): unaligned fastbin chunk detected");
			av->fastbins[idx] = nx;
			if (fastbin_index(chunksize_of(vh)) != idx)
				CORRUPT(S, victim, "malloc(): memory corruption (fast)");
			RS_SET(S, victim, RS_TAKEN);
			size_t tc_idx = csize2tidx(nb);
			if (th && th->tc && tc_idx < S->mp.tcache_bins) {
				struct um_tcache *tc = th->tc;
				um_addr tcv;
				while (tc->counts[tc_idx] < S->mp.tcache_count && (tcv = av->fastbins[idx]) != 0) {
					if (misaligned_chunk(tcv))
						CORRUPT(S, tcv, "malloc(): unaligned fastbin chunk detected 3");
					av->fastbins[idx] = PROTECT_PTR(tcv + 16, rd_link(S, tcv, 0,
					                    "malloc(): unaligned fastbin chunk detected 3"));
					tcache_put(S, th, tcv, tc_idx);
				}
			}
			um_addr p = victim + CHUNK_HDR_SZ;
			alloc_perturb(S, p, bytes);
			return p;
		}
	}

	if (in_smallbin_range(nb)) {
		idx = smallbin_index(nb);
		bin = bin_at(av, idx);
		if ((victim = rd_link(S, bin, 1, MSG_MEMCORR)) != bin) {
			bck = rd_link(S, victim, 1, "malloc(): smallbin double linked list corrupted");
			if (rd_link(S, bck, 0, "malloc(): smallbin double linked list corrupted") != victim)
				CORRUPT(S, victim, "malloc(): smallbin double linked list corrupted");
			set_inuse_at(S, av, victim + nb, MSG_MEMCORR);
			wr_link(S, bin, 1, bck);
			wr_link(S, bck, 0, bin);
			RS_SET(S, victim, RS_TAKEN);
			set_non_main(S, av, victim);
			size_t tc_idx = csize2tidx(nb);
			if (th && th->tc && tc_idx < S->mp.tcache_bins) {
				struct um_tcache *tc = th->tc;
				um_addr tcv;
				while (tc->counts[tc_idx] < S->mp.tcache_count
				       && (tcv = rd_link(S, bin, 1, MSG_MEMCORR)) != bin) {
					bck = rd_link(S, tcv, 1, "malloc(): smallbin double linked list corrupted");
					set_inuse_at(S, av, tcv + nb, MSG_MEMCORR);
					RS_SET(S, tcv, RS_TAKEN);
					set_non_main(S, av, tcv);
					wr_link(S, bin, 1, bck);
					wr_link(S, bck, 0, bin);
					tcache_put(S, th, tcv, tc_idx);
				}
			}
			um_addr p = victim + CHUNK_HDR_SZ;
			alloc_perturb(S, p, bytes);
			return p;
		}
	} else {
		idx = largebin_index(nb);
		if (av->have_fastchunks)
			malloc_consolidate(S, av);
	}

	/* glibc's tcache_nb and tc_idx are recomputed where they are used (an
	 * exact fit, return_cached): cheaper than keeping them live */
	int return_cached = 0;
	uint64_t tcache_unsorted_count = 0;

	for (;;) {
		int iters = 0;
		while ((victim = rd_link(S, unsorted_chunks(av), 1, MSG_MEMCORR)) != unsorted_chunks(av)) {
			bck = rd_link(S, victim, 1, "malloc(): unsorted double linked list corrupted");
			uint64_t vh = rd_hdr(S, victim, "malloc(): invalid size (unsorted)");
			size = chunksize_of(vh);
			um_addr next = victim + size;
			if (size <= CHUNK_HDR_SZ || size > av->system_mem)
				CORRUPT(S, victim, "malloc(): invalid size (unsorted)");
			uint64_t nh = rd_hdr(S, next, "malloc(): invalid next size (unsorted)");
			if (nh < CHUNK_HDR_SZ || nh > av->system_mem)
				CORRUPT(S, victim, "malloc(): invalid next size (unsorted)");
			if ((rd_prevsize(S, next, "malloc(): mismatching next->prev_size (unsorted)")
			     & ~(uint64_t)SIZE_BITS) != size)
				CORRUPT(S, victim, "malloc(): mismatching next->prev_size (unsorted)");
			if (rd_link(S, bck, 0, "malloc(): unsorted double linked list corrupted") != victim
			    || rd_link(S, victim, 0, "malloc(): unsorted double linked list corrupted")
			       != unsorted_chunks(av))
				CORRUPT(S, victim, "malloc(): unsorted double linked list corrupted");
			if (nh & PREV_INUSE)
				CORRUPT(S, victim, "malloc(): invalid next->prev_inuse (unsorted)");

			if (in_smallbin_range(nb) && bck == unsorted_chunks(av)
			    && victim == av->last_remainder && size > nb + MINSIZE) {
				remainder_size = size - nb;
				remainder = victim + nb;
				wr_link(S, unsorted_chunks(av), 1, remainder);
				wr_link(S, unsorted_chunks(av), 0, remainder);
				av->last_remainder = remainder;
				wr_hdr(S, av, victim, nb | PREV_INUSE | NONMAIN(S, av));
				RS_SET(S, victim, RS_TAKEN);
				wr_hdr(S, av, remainder, remainder_size | PREV_INUSE);
				RS_SET(S, remainder, RS_FREE);
				wr_link(S, remainder, 1, unsorted_chunks(av));
				wr_link(S, remainder, 0, unsorted_chunks(av));
				if (!in_smallbin_range(remainder_size)) {
					wr_link(S, remainder, 2, 0);
					wr_link(S, remainder, 3, 0);
				}
				wr_prevsize(S, remainder + remainder_size, remainder_size);
				um_addr p = victim + CHUNK_HDR_SZ;
				alloc_perturb(S, p, bytes);
				return p;
			}

			/* remove from unsorted list */
			wr_link(S, unsorted_chunks(av), 1, bck);
			wr_link(S, bck, 0, unsorted_chunks(av));

			if (size == nb) {
				wr_hdr(S, av, next, nh | PREV_INUSE);
				RS_SET(S, victim, RS_TAKEN);
				set_non_main(S, av, victim);
				size_t tc_idx = csize2tidx(nb);
				if (th && th->tc && tc_idx < S->mp.tcache_bins
				    && th->tc->counts[tc_idx] < S->mp.tcache_count) {
					tcache_put(S, th, victim, tc_idx);
					return_cached = 1;
					continue;
				}
				um_addr p = victim + CHUNK_HDR_SZ;
				alloc_perturb(S, p, bytes);
				return p;
			}

			/* place chunk in bin */
			unsigned victim_index;
			if (in_smallbin_range(size)) {
				victim_index = smallbin_index(size);
				bck = bin_at(av, victim_index);
				fwd = rd_link(S, bck, 0, MSG_MEMCORR);
			} else {
				victim_index = largebin_index(size);
				bck = bin_at(av, victim_index);
				fwd = rd_link(S, bck, 0, MSG_MEMCORR);
				if (fwd != bck) {
					uint64_t sz1 = size | PREV_INUSE;
					um_addr last = rd_link(S, bck, 1, MSG_MEMCORR);
					if (sz1 < rd_hdr(S, last, MSG_MEMCORR)) {
						fwd = bck;
						bck = last;
						um_addr ffd = rd_link(S, fwd, 0, MSG_MEMCORR);
						um_addr fbkn = rd_link(S, ffd, 3, MSG_MEMCORR);
						wr_link(S, victim, 2, ffd);
						wr_link(S, victim, 3, fbkn);
						wr_link(S, ffd, 3, victim);
						wr_link(S, fbkn, 2, victim);
					} else {
						unsigned guard = 0;
						while (sz1 < rd_hdr(S, fwd, MSG_MEMCORR)) {
							fwd = rd_link(S, fwd, 2, MSG_MEMCORR);
#ifdef UM_SIM
							if (++guard > S->reg.count)
								CORRUPT(S, victim, "malloc(): largebin double linked list corrupted (nextsize)");
#endif
						}
						(void)guard;
						if (sz1 == rd_hdr(S, fwd, MSG_MEMCORR)) {
							fwd = rd_link(S, fwd, 0, MSG_MEMCORR);
						} else {
							um_addr fbkn = rd_link(S, fwd, 3, MSG_MEMCORR);
							if (rd_link(S, fbkn, 2, "malloc(): largebin double linked list corrupted (nextsize)") != fwd)
								CORRUPT(S, victim, "malloc(): largebin double linked list corrupted (nextsize)");
							wr_link(S, victim, 2, fwd);
							wr_link(S, victim, 3, fbkn);
							wr_link(S, fwd, 3, victim);
							wr_link(S, fbkn, 2, victim);
						}
						bck = rd_link(S, fwd, 1, MSG_MEMCORR);
						if (rd_link(S, bck, 0, "malloc(): largebin double linked list corrupted (bk)") != fwd)
							CORRUPT(S, victim, "malloc(): largebin double linked list corrupted (bk)");
					}
				} else {
					wr_link(S, victim, 2, victim);
					wr_link(S, victim, 3, victim);
				}
			}
			mark_bin(av, victim_index);
			RS_SET(S, victim, RS_FREE);
			wr_link(S, victim, 1, bck);
			wr_link(S, victim, 0, fwd);
			wr_link(S, fwd, 1, victim);
			wr_link(S, bck, 0, victim);

			++tcache_unsorted_count;
			if (return_cached && S->mp.tcache_unsorted_limit > 0
			    && tcache_unsorted_count > S->mp.tcache_unsorted_limit)
				return tcache_get(S, th, csize2tidx(nb));
			if (++iters >= MAX_ITERS)
				break;
		}

		if (return_cached)
			return tcache_get(S, th, csize2tidx(nb));

		if (!in_smallbin_range(nb)) {
			bin = bin_at(av, idx);
			victim = rd_link(S, bin, 0, MSG_MEMCORR);     /* first(bin) */
			/* the raw size word, flags and all, as glibc: with nb a
			 * multiple of 16 it is >= nb exactly when the size is */
			if (victim != bin && rd_hdr(S, victim, MSG_MEMCORR) >= nb) {
				victim = rd_link(S, victim, 3, MSG_MEMCORR);
				unsigned guard = 0;
				while ((size = chunksize_of(rd_hdr(S, victim, MSG_MEMCORR))) < nb) {
					victim = rd_link(S, victim, 3, MSG_MEMCORR);
#ifdef UM_SIM
					if (++guard > S->reg.count)
						CORRUPT(S, victim, "corrupted double-linked list (not small)");
#endif
				}
				(void)guard;
				if (victim != rd_link(S, bin, 1, MSG_MEMCORR)
				    && rd_hdr(S, victim, MSG_MEMCORR)
				       == rd_hdr(S, rd_link(S, victim, 0, MSG_MEMCORR), MSG_MEMCORR))
					victim = rd_link(S, victim, 0, MSG_MEMCORR);
				remainder_size = size - nb;
				unlink_chunk(S, av, victim);
				if (remainder_size < MINSIZE) {
					set_inuse_at(S, av, victim + size, MSG_MEMCORR);
					set_non_main(S, av, victim);
				} else {
					remainder = victim + nb;
					bck = unsorted_chunks(av);
					fwd = rd_link(S, bck, 0, "malloc(): corrupted unsorted chunks");
					if (rd_link(S, fwd, 1, "malloc(): corrupted unsorted chunks") != bck)
						CORRUPT(S, victim, "malloc(): corrupted unsorted chunks");
					wr_hdr(S, av, victim, nb | PREV_INUSE | NONMAIN(S, av));
					wr_hdr(S, av, remainder, remainder_size | PREV_INUSE);
					RS_SET(S, remainder, RS_FREE);
					wr_link(S, remainder, 1, bck);
					wr_link(S, remainder, 0, fwd);
					wr_link(S, bck, 0, remainder);
					wr_link(S, fwd, 1, remainder);
					if (!in_smallbin_range(remainder_size)) {
						wr_link(S, remainder, 2, 0);
						wr_link(S, remainder, 3, 0);
					}
					wr_prevsize(S, remainder + remainder_size, remainder_size);
				}
				um_addr p = victim + CHUNK_HDR_SZ;
				alloc_perturb(S, p, bytes);
				return p;
			}
		}

		/* binmap search, strictly best fit */
		++idx;
		bin = bin_at(av, idx);
		unsigned block = idx2block(idx);
		uint32_t map = av->binmap[block];
		uint32_t bit = idx2bit(idx);
		for (;;) {
			if (bit > map || bit == 0) {
				do {
					if (++block >= BINMAPSIZE)
						goto use_top;
				} while ((map = av->binmap[block]) == 0);
				bin = bin_at(av, block << 5);
				bit = 1;
			}
			while ((bit & map) == 0) {
				bin += 16;
				bit <<= 1;
			}
			victim = rd_link(S, bin, 1, MSG_MEMCORR);
			if (victim == bin) {
				av->binmap[block] = map &= ~bit;
				bin += 16;
				bit <<= 1;
			} else {
				size = chunksize_of(rd_hdr(S, victim, MSG_MEMCORR));
				if (size < nb)
					CORRUPT(S, victim, MSG_MEMCORR);
				remainder_size = size - nb;
				unlink_chunk(S, av, victim);
				if (remainder_size < MINSIZE) {
					set_inuse_at(S, av, victim + size, MSG_MEMCORR);
					set_non_main(S, av, victim);
				} else {
					remainder = victim + nb;
					bck = unsorted_chunks(av);
					fwd = rd_link(S, bck, 0, "malloc(): corrupted unsorted chunks 2");
					if (rd_link(S, fwd, 1, "malloc(): corrupted unsorted chunks 2") != bck)
						CORRUPT(S, victim, "malloc(): corrupted unsorted chunks 2");
					if (in_smallbin_range(nb))
						av->last_remainder = remainder;
					wr_hdr(S, av, victim, nb | PREV_INUSE | NONMAIN(S, av));
					wr_hdr(S, av, remainder, remainder_size | PREV_INUSE);
					RS_SET(S, remainder, RS_FREE);
					wr_link(S, remainder, 1, bck);
					wr_link(S, remainder, 0, fwd);
					wr_link(S, bck, 0, remainder);
					wr_link(S, fwd, 1, remainder);
					if (!in_smallbin_range(remainder_size)) {
						wr_link(S, remainder, 2, 0);
						wr_link(S, remainder, 3, 0);
					}
					wr_prevsize(S, remainder + remainder_size, remainder_size);
				}
				um_addr p = victim + CHUNK_HDR_SZ;
				alloc_perturb(S, p, bytes);
				return p;
			}
		}

use_top:
		victim = av->top;
		size = top_size(S, av, "malloc(): corrupted top size");
		if (size > av->system_mem)
			CORRUPT(S, victim, "malloc(): corrupted top size");
		if (victim && size >= nb + MINSIZE) {
			remainder_size = size - nb;
			remainder = victim + nb;
			av->top = remainder;
#if RA_MUTANT == 13 /* mutant 13: chunk size header off by 16 (a chunk cut from top is 16 bytes short) */
			wr_hdr(S, av, victim, (nb - 16) | PREV_INUSE | NONMAIN(S, av));
#else
			wr_hdr(S, av, victim, nb | PREV_INUSE | NONMAIN(S, av));
#endif
			wr_hdr(S, av, remainder, remainder_size | PREV_INUSE);
			RS_SET(S, remainder, RS_TOP);
			RS_SET(S, victim, RS_TAKEN);
			um_addr p = victim + CHUNK_HDR_SZ;
			alloc_perturb(S, p, bytes);
			return p;
		} else if (av->have_fastchunks) {
			malloc_consolidate(S, av);
			idx = in_smallbin_range(nb) ? smallbin_index(nb) : largebin_index(nb);
		} else {
			um_addr p = sysmalloc(S, nb, av, th);
			if (p)
				alloc_perturb(S, p, bytes);
#ifdef UM_HOST
			else if (retry)
				return malloc_retry(S, th, av, bytes);
#else
			(void)retry;
#endif
			return p;
		}
	}
}

UM_INLINE um_addr int_malloc(struct um_state *S, struct um_arena *av, struct um_thread *th,
                             size_t bytes)
{
	uint64_t nb;
	if (!checked_request2size(bytes, &nb)) {
		S->err = ENOMEM;
		return 0;
	}
	if (UM_UNLIKELY(!av)) {         /* no usable arena: mmap */
		um_addr p = sysmalloc(S, nb, NULL, th);
		if (p)
			alloc_perturb(S, p, bytes);
		return p;
	}
	return int_malloc_nb(S, av, th, bytes, nb, false);
}

#ifndef UM_SIM
/* glibc's tcache key check: the chunk carries the key, so it may already be
 * in the tcache; walk the bin to be sure (UM_SIM caught double frees in the
 * registry).  Out of line: it runs only on a double free or when a user
 * word happens to equal the key. */
static UM_NOINLINE void tcache_key_check(struct um_state *S, struct um_tcache *tc,
                                         um_addr p, size_t tc_idx)
{
	size_t cnt = 0;
	for (um_addr tmp = tc->entries[tc_idx]; tmp; tmp = PROTECT_PTR(tmp, LD(S, tmp)), ++cnt) {
		if (cnt >= S->mp.tcache_count)
			CORRUPT(S, p, "free(): too many chunks detected in tcache");
		if (tmp & MALLOC_ALIGN_MASK)
			CORRUPT(S, p, "free(): unaligned chunk detected in tcache 2");
		if (tmp == p + CHUNK_HDR_SZ)
			CORRUPT(S, p, "free(): double free detected in tcache 2");
	}
}
#endif

/* _int_free, first part: glibc's pointer and size checks on hdr (the size
 * word of p, just read) and the tcache.  Returns true when the chunk went
 * to the tcache; otherwise int_free_chunk takes it. */
UM_INLINE bool int_free_tcache(struct um_state *S, struct um_thread *th, um_addr p, uint64_t hdr)
{
	uint64_t size = chunksize_of(hdr);
	struct um_tcache *tc = th ? th->tc : NULL;

	if (UM_UNLIKELY(p > (um_addr)0 - size) || UM_UNLIKELY(misaligned_chunk(p)))
		CORRUPT(S, p, "free(): invalid pointer");
	if (UM_UNLIKELY(size < MINSIZE || (size & MALLOC_ALIGN_MASK)))
		CORRUPT(S, p, "free(): invalid size");

	size_t tc_idx = csize2tidx(size);
	if (tc && tc_idx < S->mp.tcache_bins) {
#ifndef UM_SIM
		if (UM_UNLIKELY(LD(S, p + CHUNK_HDR_SZ + SIZE_SZ) == S->tcache_key))
			tcache_key_check(S, tc, p, tc_idx);
#endif
		if (tc->counts[tc_idx] < S->mp.tcache_count) {
			tcache_put(S, th, p, tc_idx);
			return true;
		}
	}
	return false;
}

UM_HOT void int_free_chunk(struct um_state *S, struct um_arena *av, um_addr p,
                           uint64_t hdr, bool have_lock);

/* _int_free.  int_free_chunk is inlined here in UM_HOST (free() has its
 * own copy, see um_free): this is the copy for the internal callers. */
static void int_free(struct um_state *S, struct um_arena *av, struct um_thread *th,
                     um_addr p, bool have_lock)
{
	/* read the header here: a caller's copy may be stale (int_malloc may
	 * have consolidated the chunk before p meanwhile) */
	uint64_t hdr = rd_hdr(S, p, "free(): invalid pointer");
	if (!int_free_tcache(S, th, p, hdr))
		int_free_chunk(S, av, p, hdr, have_lock);
}

/* _int_free, second part: fastbins, consolidation, unsorted bin, top,
 * trimming, munmap.  hdr is the size word int_free_tcache checked. */
UM_HOT void int_free_chunk(struct um_state *S, struct um_arena *av, um_addr p,
                           uint64_t hdr, bool have_lock)
{
	uint64_t size = chunksize_of(hdr);
	bool locked = false;
	if (!have_lock && MT(S)) {
		LOCK(S, &av->mutex);
		locked = true;
		/* another thread may have changed our PREV_INUSE bit meanwhile
		 * (freeing the chunk before p): glibc reads it under the lock */
		hdr = rd_hdr(S, p, "free(): invalid pointer");
	}

	if (size <= S->global_max_fast) {
		uint64_t nh = rd_hdr(S, p + size, "free(): invalid next size (fast)");
		if (nh <= CHUNK_HDR_SZ || chunksize_of(nh) >= av->system_mem)
			CORRUPT(S, p, "free(): invalid next size (fast)");
		free_perturb(S, p + CHUNK_HDR_SZ, size - CHUNK_HDR_SZ);
		av->have_fastchunks = 1;
		unsigned idx = fastbin_index(size);
		um_addr old = av->fastbins[idx];
		if (UM_UNLIKELY(old == p))
			CORRUPT(S, p, "double free or corruption (fasttop)");
		RS_SET(S, p, RS_FAST);
		wr_link(S, p, 0, PROTECT_PTR(p + 16, old));
		av->fastbins[idx] = p;
		if (have_lock && old && fastbin_index(chunksize_of(rd_hdr(S, old, "invalid fastbin entry (free)"))) != idx)
			CORRUPT(S, old, "invalid fastbin entry (free)");
	} else if (!(hdr & IS_MMAPPED)) {
		um_addr nextchunk = p + size, orig = p, absorbed = 0;
		if (UM_UNLIKELY(p == av->top))
			CORRUPT(S, p, "double free or corruption (top)");
		if (contiguous(av) && nextchunk >= av->top + top_size(S, av, "malloc(): corrupted top size"))
			CORRUPT(S, p, "double free or corruption (out)");
		uint64_t nh = rd_hdr(S, nextchunk, "double free or corruption (!prev)");
		if (UM_UNLIKELY(!(nh & PREV_INUSE)))
			CORRUPT(S, p, "double free or corruption (!prev)");
		uint64_t nextsize = chunksize_of(nh);
		if (nh <= CHUNK_HDR_SZ || nextsize >= av->system_mem)
			CORRUPT(S, p, "free(): invalid next size (normal)");
		free_perturb(S, p + CHUNK_HDR_SZ, size - CHUNK_HDR_SZ);
		if (!(hdr & PREV_INUSE)) {
			uint64_t prevsize = rd_prevsize(S, p, "corrupted size vs. prev_size while consolidating");
			size += prevsize;
			p = p - prevsize;
			if (chunksize_of(rd_hdr(S, p, "corrupted size vs. prev_size while consolidating")) != prevsize)
				CORRUPT(S, p, "corrupted size vs. prev_size while consolidating");
			unlink_chunk(S, av, p);
		}
		if (nextchunk != av->top) {
			uint64_t nnh = rd_hdr(S, nextchunk + nextsize, "free(): invalid next size (normal)");
			if (!(nnh & PREV_INUSE)) {
				unlink_chunk(S, av, nextchunk);
				size += nextsize;
				absorbed = nextchunk;
			} else {
				wr_hdr(S, av, nextchunk, nh & ~(uint64_t)PREV_INUSE);
			}
			um_addr bck = unsorted_chunks(av);
			um_addr fwd = rd_link(S, bck, 0, "free(): corrupted unsorted chunks");
			if (rd_link(S, fwd, 1, "free(): corrupted unsorted chunks") != bck)
				CORRUPT(S, p, "free(): corrupted unsorted chunks");
			wr_hdr(S, av, p, size | PREV_INUSE);
			if (p != orig)
				RS_FORGET(S, orig);
			if (absorbed)
				RS_FORGET(S, absorbed);
			RS_SET(S, p, RS_FREE);
			wr_link(S, p, 0, fwd);
			wr_link(S, p, 1, bck);
			if (!in_smallbin_range(size)) {
				wr_link(S, p, 2, 0);
				wr_link(S, p, 3, 0);
			}
			wr_link(S, bck, 0, p);
			wr_link(S, fwd, 1, p);
			wr_prevsize(S, p + size, size);
		} else {
			size += nextsize;
			wr_hdr(S, av, p, size | PREV_INUSE);
			if (p != orig)
				RS_FORGET(S, orig);
			RS_FORGET(S, nextchunk);
			RS_SET(S, p, RS_TOP);
			av->top = p;
		}
		if (size >= FASTBIN_CONSOLIDATION_THRESHOLD) {
			if (av->have_fastchunks)
				malloc_consolidate(S, av);
			if (av == S->main) {
				if (top_size(S, av, "malloc(): corrupted top size") >= S->mp.trim_threshold)
					systrim(S, S->mp.top_pad, av);
			} else {
				struct um_heap *heap = heap_of(av, av->top);
				if (heap)
					heap_trim(S, av, heap, S->mp.top_pad);
			}
		}
	} else {
		munmap_chunk(S, p, hdr);
	}
	if (locked)
		UNLOCK(S, &av->mutex);
}

/* === realloc, memalign, trim ============================================ */

static um_addr int_realloc(struct um_state *S, struct um_arena *av, struct um_thread *th,
                           um_addr oldp, uint64_t oldhdr, uint64_t nb)
{
	uint64_t oldsize = chunksize_of(oldhdr), newsize, nextsize;
	um_addr newp, next, absorbed = 0;
	uint64_t nm = NONMAIN(S, av);

	oldhdr = rd_hdr(S, oldp, "realloc(): invalid old size");   /* under the lock */
	if (oldhdr <= CHUNK_HDR_SZ || oldsize >= av->system_mem)
		CORRUPT(S, oldp, "realloc(): invalid old size");
	next = oldp + oldsize;
	uint64_t nh = rd_hdr(S, next, "realloc(): invalid next size");
	nextsize = chunksize_of(nh);
	if (nh <= CHUNK_HDR_SZ || nextsize >= av->system_mem)
		CORRUPT(S, oldp, "realloc(): invalid next size");

	if (oldsize >= nb) {
		newp = oldp;
		newsize = oldsize;
	} else if (next == av->top && (newsize = oldsize + nextsize) >= nb + MINSIZE) {
		wr_hdr(S, av, oldp, (oldhdr & SIZE_BITS) | nb | nm);
		av->top = oldp + nb;
		wr_hdr(S, av, av->top, (newsize - nb) | PREV_INUSE);
		RS_FORGET(S, next);
		RS_SET(S, av->top, RS_TOP);
		return oldp + CHUNK_HDR_SZ;
	} else if (next != av->top
	           && !(rd_hdr(S, next + nextsize, "realloc(): invalid next size") & PREV_INUSE)
	           && (newsize = oldsize + nextsize) >= nb) {
		newp = oldp;
		unlink_chunk(S, av, next);
		absorbed = next;
	} else {
		um_addr newmem = int_malloc(S, av, th, nb - MALLOC_ALIGN_MASK);
		if (!newmem)
			return 0;
		newp = newmem - CHUNK_HDR_SZ;
		newsize = chunksize_of(rd_hdr(S, newp, MSG_MEMCORR));
		if (newp == next) {
			newsize += oldsize;
			newp = oldp;
			absorbed = next;
		} else {
			um_os_copy(S->os, newmem, oldp + CHUNK_HDR_SZ, oldsize - SIZE_SZ);
			/* oldp stays RS_LIVE until int_free commits: if it unwinds,
			 * the refused realloc leaves the caller's block alone */
			int_free(S, av, th, oldp, true);
			return newmem;
		}
	}

	uint64_t remainder_size = newsize - nb;
	/* set_head_size keeps the current flag bits: re-read them, int_malloc
	 * may have consolidated the chunk before oldp meanwhile */
	oldhdr = rd_hdr(S, newp, MSG_MEMCORR);
	if (remainder_size < MINSIZE) {
		wr_hdr(S, av, newp, (oldhdr & SIZE_BITS) | newsize | nm);
		if (absorbed)
			RS_FORGET(S, absorbed);
		set_inuse_at(S, av, newp + newsize, MSG_MEMCORR);
	} else {
		um_addr remainder = newp + nb;
		wr_hdr(S, av, newp, (oldhdr & SIZE_BITS) | nb | nm);
		if (absorbed)
			RS_FORGET(S, absorbed);
		uint64_t rh = remainder_size | PREV_INUSE | nm;
		wr_hdr(S, av, remainder, rh);
		RS_SET(S, remainder, RS_TAKEN);
		set_inuse_at(S, av, remainder + remainder_size, MSG_MEMCORR);
		int_free(S, av, th, remainder, true);
	}
	return newp + CHUNK_HDR_SZ;
}

static um_addr int_memalign(struct um_state *S, struct um_arena *av, struct um_thread *th,
                            size_t alignment, size_t bytes)
{
	uint64_t nb;
	if (!checked_request2size(bytes, &nb) || alignment > (size_t)PTRDIFF_MAX) {
		S->err = ENOMEM;
		return 0;
	}
	um_addr m = int_malloc(S, av, th, nb + alignment + MINSIZE);
	if (!m)
		return 0;
	um_addr p = m - CHUNK_HDR_SZ;
	uint64_t ph = rd_hdr(S, p, MSG_MEMCORR);
	uint64_t nm = av ? NONMAIN(S, av) : 0;
	if (m % alignment != 0) {
		um_addr brk = ((m + alignment - 1) & -(uint64_t)alignment) - CHUNK_HDR_SZ;
		if (brk - p < MINSIZE)
			brk += alignment;
		um_addr newp = brk;
		uint64_t leadsize = brk - p;
		uint64_t newsize = chunksize_of(ph) - leadsize;
		if (ph & IS_MMAPPED) {
			uint64_t off = rd_prevsize(S, p, "munmap_chunk(): invalid pointer");
			RS_FORGET(S, p);
			wr_prevsize(S, newp, off + leadsize);
			wr_hdr(S, NULL, newp, newsize | IS_MMAPPED);
			RS_SET(S, newp, RS_TAKEN);
			return newp + CHUNK_HDR_SZ;
		}
		uint64_t nh = newsize | PREV_INUSE | nm;
		wr_hdr(S, av, newp, nh);
		RS_SET(S, newp, RS_TAKEN);
		set_inuse_at(S, av, newp + newsize, MSG_MEMCORR);
		uint64_t lh = (ph & SIZE_BITS) | leadsize | nm;
		wr_hdr(S, av, p, lh);
		int_free(S, av, th, p, true);
		p = newp;
		ph = rd_hdr(S, p, MSG_MEMCORR);      /* freeing the leader cleared PREV_INUSE */
	}
	if (!(ph & IS_MMAPPED)) {
		uint64_t size = chunksize_of(ph);
		if (size > nb + MINSIZE) {
			uint64_t remainder_size = size - nb;
			um_addr remainder = p + nb;
			uint64_t rh = remainder_size | PREV_INUSE | nm;
			wr_hdr(S, av, remainder, rh);
			RS_SET(S, remainder, RS_TAKEN);
			wr_hdr(S, av, p, (ph & SIZE_BITS) | nb);
			int_free(S, av, th, remainder, true);
		}
	}
	return p + CHUNK_HDR_SZ;
}

static int mtrim(struct um_state *S, struct um_arena *av, size_t pad)
{
	malloc_consolidate(S, av);
	const size_t ps = S->pagesize;
	unsigned psindex = bin_index(ps);
	const size_t psm1 = ps - 1;
	int result = 0;
	for (unsigned i = 1; i < NBINS; i++) {
		if (!(i == 1 || i >= psindex))
			continue;
		um_addr bin = bin_at(av, i);
		for (um_addr p = rd_link(S, bin, 1, MSG_MEMCORR); p != bin; p = rd_link(S, p, 1, MSG_MEMCORR)) {
			uint64_t size = chunksize_of(rd_hdr(S, p, MSG_MEMCORR));
			if (size > psm1 + 48) {
				um_addr paligned = (p + 48 + psm1) & ~(uint64_t)psm1;
				size -= paligned - p;
				if (size > psm1) {
					um_os_release(S->os, paligned, size & ~(uint64_t)psm1);
					result = 1;
				}
			}
		}
	}
	return result | (av == S->main ? systrim(S, pad, av) : 0);
}

/* === Registry at the API boundary ======================================= */

#ifdef UM_HOST
static void host_reg_insert(struct um_state *S, um_addr p, size_t req)
{
	pthread_mutex_lock(&S->reg_lock);
	struct um_rent *e = reg_get(S, p);
	e->state = RS_LIVE;
	e->hdr = LD(S, p + SIZE_SZ);
	e->req = req;
	e->tag = S->tag;
	pthread_mutex_unlock(&S->reg_lock);
}
static void host_reg_remove(struct um_state *S, um_addr p)
{
	pthread_mutex_lock(&S->reg_lock);
	reg_del(S, p);
	pthread_mutex_unlock(&S->reg_lock);
}
#endif

UM_INLINE void reg_live(struct um_state *S, um_addr mem, size_t req)
{
#ifdef UM_SIM
	um_addr p = mem - CHUNK_HDR_SZ;
	rs_set(S, p, RS_LIVE);
	struct um_rent *e = reg_find(S, p);
	e->req = req;
	e->tag = S->tag;
#else
	if (UM_UNLIKELY(S->reg_on))
		host_reg_insert(S, mem - CHUNK_HDR_SZ, req);
#endif
}

#ifdef UM_SIM
static void sim_recover(struct um_state *S)
{
	S->jb = NULL;
	um_fsck(S);
	S->err = UM_EREFUSED;
}

#define SIM_GUARD(S, failret)                          \
	jmp_buf jb_;                                   \
	if (setjmp(jb_)) {                             \
		sim_recover(S);                        \
		return failret;                        \
	}                                              \
	(S)->jb = &jb_
#define SIM_DONE(S) ((S)->jb = NULL)

static void misuse(struct um_state *S, const char *cls, um_addr mem, const char *msg)
{
	S->nreports++;
	S->err = UM_EREFUSED;
	um_os_report(S->os, cls, mem, msg);
}

/* What glibc would say about a chunk whose size word reads v (corrupted):
 * its free() checks replayed on the bad value, reading nothing outside
 * the arena's memory. */
static const char *free_diag(struct um_state *S, um_addr p, uint64_t v, bool rea)
{
	uint64_t size = chunksize_of(v);
	if (p > (um_addr)0 - size || misaligned_chunk(p))
		return rea ? "realloc(): invalid pointer" : "free(): invalid pointer";
	if (v & IS_MMAPPED)
		return rea ? "mremap_chunk(): invalid pointer" : "munmap_chunk(): invalid pointer";
	if (size < MINSIZE || (size & MALLOC_ALIGN_MASK))
		return rea ? "realloc(): invalid old size" : "free(): invalid size";
	struct um_arena *av = S->main;
	struct um_rent *e = reg_find(S, p);
	if (e && e->arena < S->narenas)
		av = S->arenas[e->arena];
	if (rea && size >= av->system_mem)
		return "realloc(): invalid old size";
	if (!rea && size <= S->global_max_fast)
		return "free(): invalid next size (fast)";
	/* the diagnosis reads the top's size as it is: the refusal it words
	 * runs before the operation's guard, where a second finding (the top
	 * damaged too) must not abort */
	um_addr end = av->top ? av->top + chunksize_of(LD(S, av->top + SIZE_SZ)) : 0;
	if (contiguous(av) && p + size >= end)
		return rea ? "realloc(): invalid next size" : "double free or corruption (out)";
	struct um_rent *ne = reg_find(S, p + size);
	if (!ne || ne->state == RS_DEAD)
		return rea ? "realloc(): invalid next size" : "free(): invalid next size (normal)";
	if (!rea && !(ne->hdr & PREV_INUSE))
		return "double free or corruption (!prev)";
	return rea ? "realloc(): invalid next size" : "free(): invalid next size (normal)";
}

/* free()/realloc() of mem: is it a live chunk with an intact header?
 * Reports and returns true when the call must be refused. */
static bool sim_refuse(struct um_state *S, um_addr mem, bool rea)
{
	const char *inval = rea ? "realloc(): invalid pointer" : "free(): invalid pointer";
	um_addr p = mem - CHUNK_HDR_SZ;
	struct um_rent *e = (mem & MALLOC_ALIGN_MASK) ? NULL : reg_find(S, p);
	if (!e) {
		misuse(S, "invalid-free", mem, inval);
		return true;
	}
	switch (e->state) {
	case RS_LIVE:
		break;
	case RS_TCACHE:
		misuse(S, "double-free", mem, rea ? inval : "free(): double free detected in tcache 2");
		return true;
	case RS_FAST:
		misuse(S, "double-free", mem, rea ? inval : "double free or corruption (fasttop)");
		return true;
	case RS_FREE:
		misuse(S, "double-free", mem, rea ? inval : "double free or corruption (!prev)");
		return true;
	case RS_TOP:
		misuse(S, "double-free", mem, rea ? inval : "double free or corruption (top)");
		return true;
	case RS_DEAD:
		misuse(S, "double-free", mem, rea ? inval
		       : (e->hdr & IS_MMAPPED) ? "munmap_chunk(): invalid pointer"
		       : "double free or corruption (!prev)");
		return true;
	default:
		misuse(S, "invalid-free", mem, inval);
		return true;
	}
	uint64_t v = LD(S, p + SIZE_SZ);
	if (v != e->hdr) {
		const char *msg = free_diag(S, p, v, rea);
		S->nreports++;
		S->err = UM_EREFUSED;
		um_os_report(S->os, "heap-corruption", mem, msg);
		STW(S, p + SIZE_SZ, e->hdr);          /* repair: reported once */
		return true;
	}
	return false;
}
#else
#define SIM_GUARD(S, failret) ((void)0)
#define SIM_DONE(S) ((void)0)
#endif

/* === Public interface: the malloc family ================================ */

/* UM_HOST: um_malloc and um_free are inlined into preload.c's malloc and
 * free, as glibc's tcache paths are part of malloc/free themselves; what
 * they call is out of line (int_malloc_nb, malloc_slow, free_slow) but for
 * int_free_chunk, inlined into free too.  The definitions stay external
 * (umalloc.h declares them non-inline). */
#if defined(UM_HOST) && defined(__clang__)
#define UM_API_HOT __attribute__((always_inline))
#elif defined(UM_HOST)          /* gcc wants "inline" with always_inline */
#define UM_API_HOT inline __attribute__((always_inline))
#else
#define UM_API_HOT
#endif

void um_set_tag(struct um_state *S, uint64_t tag) { S->tag = tag; }
int um_errno(const struct um_state *S) { return S->err; }
unsigned long um_reports(const struct um_state *S) { return S->nreports; }

static um_addr do_malloc(struct um_state *S, struct um_thread *th, size_t bytes)
{
	uint64_t tbytes;
	if (!checked_request2size(bytes, &tbytes)) {
		S->err = ENOMEM;
		return 0;
	}
	size_t tc_idx = csize2tidx(tbytes);
	if (UM_UNLIKELY(!th->tc) && !th->shutting_down)
		tcache_init(S, th);
	if (tc_idx < S->mp.tcache_bins && th->tc && th->tc->counts[tc_idx])
		return tcache_get(S, th, tc_idx);
	struct um_arena *av = arena_get(S, th, bytes);
	um_addr victim = int_malloc(S, av, th, bytes);
	if (!victim && av) {
		av = arena_get_retry(S, th, av, bytes);
		if (av)
			victim = int_malloc(S, av, th, bytes);
	}
	if (av)
		UNLOCK(S, &av->mutex);
	return victim;
}

static UM_NOINLINE um_addr malloc_slow(struct um_state *S, struct um_thread *th, size_t n)
{
	SIM_GUARD(S, 0);
	um_addr r = do_malloc(S, th, n);
	SIM_DONE(S);
	if (r)
		reg_live(S, r, n);
	else if (!S->err)
		S->err = ENOMEM;
	return r;
}

#ifdef UM_HOST
/* int_malloc in the thread's arena failed: do_malloc's retry in another */
static UM_NOINLINE um_addr malloc_retry(struct um_state *S, struct um_thread *th,
                                        struct um_arena *av, size_t n)
{
	um_addr r = 0;
	av = arena_get_retry(S, th, av, n);
	if (av) {
		r = int_malloc(S, av, th, n);
		UNLOCK(S, &av->mutex);
	}
	if (!r && !S->err)
		S->err = ENOMEM;
	return r;
}
#endif

UM_API_HOT um_addr um_malloc(struct um_state *S, struct um_thread *th, size_t n)
{
#ifdef UM_HOST
	/* __libc_malloc: the tcache, then (single-threaded, as glibc's
	 * SINGLE_THREAD_P) int_malloc in the thread's arena without locks or
	 * the generic layers.  The thread's first call, the leak registry
	 * and multi-threaded processes take malloc_slow. */
	struct um_tcache *tc = th->tc;
	if (UM_LIKELY(n <= (size_t)PTRDIFF_MAX && tc != NULL && !S->reg_on)) {
		uint64_t nb = request2size(n);
		size_t idx = csize2tidx(nb);
		if (idx < S->mp.tcache_bins && tc->counts[idx])
			return tcache_get(S, th, idx);
		struct um_arena *av = th->arena;
		if (UM_LIKELY(!MT(S) && av != NULL))
			return int_malloc_nb(S, av, th, n, nb, true);
	}
#endif
	return malloc_slow(S, th, n);
}

static void do_free(struct um_state *S, struct um_thread *th, um_addr mem)
{
	um_addr p = mem - CHUNK_HDR_SZ;
	uint64_t h = rd_hdr(S, p, "free(): invalid pointer");
#ifdef UM_HOST
	if (UM_UNLIKELY(S->reg_on))
		host_reg_remove(S, p);
#endif
	if (h & IS_MMAPPED) {
		if (!S->mp.no_dyn_threshold && h > S->mp.mmap_threshold
		    && h <= DEFAULT_MMAP_THRESHOLD_MAX) {
			S->mp.mmap_threshold = chunksize_of(h);
			S->mp.trim_threshold = 2 * S->mp.mmap_threshold;
		}
		munmap_chunk(S, p, h);
		return;
	}
	if (UM_UNLIKELY(!th->tc) && !th->shutting_down)
		tcache_init(S, th);
	struct um_arena *av = arena_for_chunk(S, p, h);
	int_free(S, av, th, p, false);
}

static UM_NOINLINE int free_slow(struct um_state *S, struct um_thread *th, um_addr mem)
{
#ifdef UM_SIM
	if (sim_refuse(S, mem, false))
		return -1;
#endif
	SIM_GUARD(S, -1);
	do_free(S, th, mem);
	SIM_DONE(S);
	return 0;
}

UM_API_HOT int um_free(struct um_state *S, struct um_thread *th, um_addr mem)
{
	if (!mem)
		return 0;
#ifdef UM_HOST
	/* __libc_free: a chunk of an arena goes through int_free, inlined
	 * here whole (the tcache, then int_free_chunk); mmapped chunks, the
	 * thread's first call and the leak registry take free_slow. */
	um_addr p = mem - CHUNK_HDR_SZ;
	uint64_t h = LD(S, p + SIZE_SZ);
	if (UM_LIKELY(!(h & IS_MMAPPED) && th->tc != NULL && !S->reg_on)) {
		if (!int_free_tcache(S, th, p, h))
			int_free_chunk(S, arena_for_chunk(S, p, h), p, h, false);
		return 0;
	}
#endif
	return free_slow(S, th, mem);
}

static um_addr do_calloc(struct um_state *S, struct um_thread *th, size_t n, size_t elem)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, elem, &bytes) || bytes > (size_t)PTRDIFF_MAX) {
		S->err = ENOMEM;
		return 0;
	}
	size_t sz = bytes;
	if (UM_UNLIKELY(!th->tc) && !th->shutting_down)
		tcache_init(S, th);
	struct um_arena *av = arena_get(S, th, sz);
	um_addr oldtop = 0;
	uint64_t oldtopsize = 0;
	if (av) {
		oldtop = av->top;
		oldtopsize = top_size(S, av, "malloc(): corrupted top size");
		if (av == S->main) {
			if (oldtop && oldtopsize < S->mp.sbrk_base + av->max_system_mem - oldtop
			    && S->mp.sbrk_base + av->max_system_mem > oldtop)
				oldtopsize = S->mp.sbrk_base + av->max_system_mem - oldtop;
		} else {
			struct um_heap *h = heap_of(av, oldtop);
			if (h && oldtopsize < h->base + h->mprotect_size - oldtop)
				oldtopsize = h->base + h->mprotect_size - oldtop;
		}
	}
	um_addr mem = int_malloc(S, av, th, sz);
	if (!mem && av) {
		av = arena_get_retry(S, th, av, sz);
		if (av)
			mem = int_malloc(S, av, th, sz);
	}
	if (av)
		UNLOCK(S, &av->mutex);
	if (!mem)
		return 0;
	um_addr p = mem - CHUNK_HDR_SZ;
	uint64_t ph = rd_hdr(S, p, MSG_MEMCORR);
	uint64_t csz = chunksize_of(ph);
	if (ph & IS_MMAPPED) {
		if (UM_UNLIKELY(S->perturb_byte))
			um_os_fill(S->os, mem, 0, sz);
		return mem;
	}
	if (S->perturb_byte == 0 && p == oldtop && csz > oldtopsize)
		csz = oldtopsize;       /* only the bytes that were not fresh from the system */
	um_os_fill(S->os, mem, 0, csz - SIZE_SZ);
	return mem;
}

um_addr um_calloc(struct um_state *S, struct um_thread *th, size_t n, size_t size)
{
	SIM_GUARD(S, 0);
	um_addr r = do_calloc(S, th, n, size);
	SIM_DONE(S);
	if (r)
		reg_live(S, r, n * size);
	else if (!S->err)
		S->err = ENOMEM;
	return r;
}

static um_addr do_realloc(struct um_state *S, struct um_thread *th, um_addr oldmem, size_t bytes)
{
	um_addr oldp = oldmem - CHUNK_HDR_SZ;
	uint64_t oldhdr = rd_hdr(S, oldp, "realloc(): invalid pointer");
	uint64_t oldsize = chunksize_of(oldhdr), nb;
	struct um_arena *ar_ptr = NULL;
	if (!(oldhdr & IS_MMAPPED)) {
		if (UM_UNLIKELY(!th->tc) && !th->shutting_down)
			tcache_init(S, th);
		ar_ptr = arena_for_chunk(S, oldp, oldhdr);
	}
	if (oldp > (um_addr)0 - oldsize || misaligned_chunk(oldp))
		CORRUPT(S, oldp, "realloc(): invalid pointer");
	if (!checked_request2size(bytes, &nb)) {
		S->err = ENOMEM;
		return 0;
	}
#ifdef UM_HOST
	if (UM_UNLIKELY(S->reg_on))
		host_reg_remove(S, oldp);
#endif
	if (oldhdr & IS_MMAPPED) {
		um_addr np = mremap_chunk(S, oldp, oldhdr, nb);
		if (np)
			return np + CHUNK_HDR_SZ;
		if (oldsize - SIZE_SZ >= nb)
			return oldmem;
		um_addr newmem = do_malloc(S, th, bytes);
		if (!newmem)
			return 0;
		um_os_copy(S->os, newmem, oldmem, oldsize - CHUNK_HDR_SZ);
		munmap_chunk(S, oldp, oldhdr);
		return newmem;
	}
	LOCK(S, &ar_ptr->mutex);
	um_addr newp = int_realloc(S, ar_ptr, th, oldp, oldhdr, nb);
	UNLOCK(S, &ar_ptr->mutex);
#ifdef UM_HOST
	if (!newp && MT(S)) {
		newp = do_malloc(S, th, bytes);
		if (newp) {
			um_os_copy(S->os, newp, oldmem, oldsize - SIZE_SZ);
			int_free(S, ar_ptr, th, oldp, false);
		}
	}
#endif
	return newp;
}

um_addr um_realloc(struct um_state *S, struct um_thread *th, um_addr oldmem, size_t bytes)
{
	if (bytes == 0 && oldmem) {
		um_free(S, th, oldmem);
		return 0;
	}
	if (!oldmem)
		return um_malloc(S, th, bytes);
#ifdef UM_SIM
	if (sim_refuse(S, oldmem, true))
		return 0;
#endif
	SIM_GUARD(S, 0);
	um_addr r = do_realloc(S, th, oldmem, bytes);
	SIM_DONE(S);
	if (r)
		reg_live(S, r, bytes);
	else if (!S->err)
		S->err = ENOMEM;
	return r;
}

static um_addr mid_memalign(struct um_state *S, struct um_thread *th, size_t alignment, size_t bytes)
{
	if (alignment <= MALLOC_ALIGNMENT)
		return do_malloc(S, th, bytes);
	if (alignment < MINSIZE)
		alignment = MINSIZE;
	if (alignment > SIZE_MAX / 2 + 1) {
		S->err = EINVAL;
		return 0;
	}
	if (!powerof2(alignment)) {
		size_t a = MALLOC_ALIGNMENT * 2;
		while (a < alignment)
			a <<= 1;
		alignment = a;
	}
	struct um_arena *av = arena_get(S, th, bytes + alignment + MINSIZE);
	struct um_thread *tth = th->tc ? th : NULL;
	um_addr p = int_memalign(S, av, tth, alignment, bytes);
	if (!p && av) {
		av = arena_get_retry(S, th, av, bytes);
		if (av)
			p = int_memalign(S, av, tth, alignment, bytes);
	}
	if (av)
		UNLOCK(S, &av->mutex);
	return p;
}

um_addr um_memalign(struct um_state *S, struct um_thread *th, size_t align, size_t n)
{
	S->err = 0;
	SIM_GUARD(S, 0);
	um_addr r = mid_memalign(S, th, align, n);
	SIM_DONE(S);
	if (r)
		reg_live(S, r, n);
	else if (!S->err)
		S->err = ENOMEM;
	return r;
}

int um_posix_memalign(struct um_state *S, struct um_thread *th, um_addr *out, size_t align, size_t n)
{
	if (align % sizeof(void *) != 0 || !powerof2(align / sizeof(void *)) || align == 0)
		return EINVAL;
	um_addr m = um_memalign(S, th, align, n);
	if (m) {
		*out = m;
		return 0;
	}
	return S->err == UM_EREFUSED ? UM_EREFUSED : ENOMEM;
}

um_addr um_valloc(struct um_state *S, struct um_thread *th, size_t n)
{
	return um_memalign(S, th, S->pagesize, n);
}

um_addr um_pvalloc(struct um_state *S, struct um_thread *th, size_t n)
{
	size_t rounded;
	size_t ps = S->pagesize;
	if (__builtin_add_overflow(n, ps - 1, &rounded)) {
		S->err = ENOMEM;
		return 0;
	}
	rounded = rounded & -(ps - 1);      /* sic: glibc 2.36 */
	return um_memalign(S, th, ps, rounded);
}

size_t um_usable_size(struct um_state *S, um_addr mem)
{
	if (!mem)
		return 0;
	um_addr p = mem - CHUNK_HDR_SZ;
#ifdef UM_SIM
	struct um_rent *e = (mem & MALLOC_ALIGN_MASK) ? NULL : reg_find(S, p);
	if (!e || e->state != RS_LIVE)
		return 0;
	uint64_t h = e->hdr;
	return (h & IS_MMAPPED) ? chunksize_of(h) - CHUNK_HDR_SZ : chunksize_of(h) - SIZE_SZ;
#else
	uint64_t h = LD(S, p + SIZE_SZ);
	if (h & IS_MMAPPED)
		return chunksize_of(h) - CHUNK_HDR_SZ;
	if (LD(S, p + chunksize_of(h) + SIZE_SZ) & PREV_INUSE)
		return chunksize_of(h) - SIZE_SZ;
	return 0;
#endif
}

static void set_max_fast(struct um_state *S, uint64_t s)
{
	S->global_max_fast = (s <= MALLOC_ALIGN_MASK - SIZE_SZ) ? MINSIZE / 2
	                     : ((s + SIZE_SZ) & ~(uint64_t)MALLOC_ALIGN_MASK);
}

static int do_mallopt(struct um_state *S, int param, int value)
{
	int res = 1;
	LOCK(S, &S->main->mutex);
	malloc_consolidate(S, S->main);
	switch (param) {
	case UM_M_MXFAST:
		if ((size_t)value <= MAX_FAST_SIZE)
			set_max_fast(S, (size_t)value);
		else
			res = 0;
		break;
	case UM_M_TRIM_THRESHOLD:
		S->mp.trim_threshold = (size_t)value;
		S->mp.no_dyn_threshold = 1;
		break;
	case UM_M_TOP_PAD:
		S->mp.top_pad = (size_t)value;
		S->mp.no_dyn_threshold = 1;
		break;
	case UM_M_MMAP_THRESHOLD:
		if ((size_t)value <= HEAP_MAX_SIZE / 2) {
			S->mp.mmap_threshold = (size_t)value;
			S->mp.no_dyn_threshold = 1;
		} else {
			res = 0;
		}
		break;
	case UM_M_MMAP_MAX:
		S->mp.n_mmaps_max = value;
		S->mp.no_dyn_threshold = 1;
		break;
	case UM_M_CHECK_ACTION:
		break;
	case UM_M_PERTURB:
		S->perturb_byte = value;
		break;
	case UM_M_ARENA_TEST:
		if (value > 0)
			S->mp.arena_test = (size_t)value;
		break;
	case UM_M_ARENA_MAX:
		if (value > 0)
			S->mp.arena_max = (size_t)value;
		break;
	}
	UNLOCK(S, &S->main->mutex);
	return res;
}

int um_mallopt(struct um_state *S, int param, int value)
{
	SIM_GUARD(S, 0);
	int r = do_mallopt(S, param, value);
	SIM_DONE(S);
	return r;
}

static int do_trim(struct um_state *S, size_t pad)
{
	int result = 0;
	struct um_arena *av = S->main;
	do {
		LOCK(S, &av->mutex);
		result |= mtrim(S, av, pad);
		UNLOCK(S, &av->mutex);
		av = av->next;
	} while (av != S->main);
	return result;
}

int um_trim(struct um_state *S, size_t pad)
{
	SIM_GUARD(S, 0);
	int r = do_trim(S, pad);
	SIM_DONE(S);
	return r;
}

/* === Life cycle and threads ============================================= */

static uint64_t host_key(void)
{
#ifdef UM_SIM
	return UM_SIM_TCACHE_KEY;
#else
	uint64_t k = 0;
	FILE *f = NULL;
	(void)f;
	/* glibc uses getrandom; avoid libc calls that may allocate */
	uint64_t t;
	__asm__ volatile("rdtsc; shlq $32, %%rdx; orq %%rdx, %%rax" : "=a"(t) : : "rdx");
	k = t * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&k;
	return k ? k : UM_SIM_TCACHE_KEY;
#endif
}

static struct um_thread *thread_new(struct um_state *S)
{
#ifdef UM_SIM
	if (S->nthreads == S->threads_cap) {
		unsigned ncap = S->threads_cap ? S->threads_cap * 2 : 8;
		struct um_thread **nt = um_os_meta_alloc(S->os, ncap * sizeof(*nt));
		if (!nt)
			return NULL;
		if (S->threads) {
			memcpy(nt, S->threads, S->nthreads * sizeof(*nt));
			um_os_meta_free(S->os, S->threads, S->threads_cap * sizeof(*nt));
		}
		S->threads = nt;
		S->threads_cap = ncap;
	}
	struct um_thread *th = um_os_meta_alloc(S->os, sizeof(*th));
	if (!th)
		return NULL;
	th->st = S;
	th->id = S->nthreads;
	S->threads[S->nthreads++] = th;
	return th;
#else
	(void)S;
	return NULL;
#endif
}

struct um_state *um_create(struct um_os *os)
{
	struct um_state *S = um_os_meta_alloc(os, sizeof(*S));
	if (!S)
		return NULL;
	S->os = os;
	S->pagesize = um_os_pagesize(os);
	S->ncpus = um_os_ncpus(os);
	S->mp.top_pad = DEFAULT_TOP_PAD;
	S->mp.n_mmaps_max = DEFAULT_MMAP_MAX;
	S->mp.mmap_threshold = DEFAULT_MMAP_THRESHOLD;
	S->mp.trim_threshold = DEFAULT_TRIM_THRESHOLD;
	S->mp.arena_test = NARENAS_FROM_NCORES(1);
	S->mp.tcache_count = TCACHE_FILL_COUNT;
	S->mp.tcache_bins = TCACHE_MAX_BINS;
	S->mp.tcache_max_bytes = MAX_TCACHE_SIZE;
	set_max_fast(S, DEFAULT_MXFAST);
	S->tcache_key = host_key();
#ifdef UM_HOST
	pthread_mutex_init(&S->list_lock, NULL);
	pthread_mutex_init(&S->free_list_lock, NULL);
	pthread_mutex_init(&S->reg_lock, NULL);
#endif
	struct um_arena *m = arena_alloc(S);
	if (!m) {
		um_os_meta_free(os, S, sizeof(*S));
		return NULL;
	}
	S->main = m;
	m->next = m;
	m->attached_threads = 1;
#ifdef UM_SIM
	S->reg_on = 1;
	S->main_thread = thread_new(S);
	if (!S->main_thread) {
		um_destroy(S);
		return NULL;
	}
	S->main_thread->arena = m;
	S->main_claimed = 1;
#endif
	return S;
}

void um_destroy(struct um_state *S)
{
	if (!S)
		return;
	for (unsigned i = 0; i < S->narenas; i++) {
		struct um_arena *av = S->arenas[i];
		for (struct um_heap *h = av->heap, *n; h; h = n) {
			n = h->prev;
			um_os_meta_free(S->os, h, sizeof(*h));
		}
		um_os_meta_free(S->os, av, sizeof(*av));
	}
	if (S->arenas)
		um_os_meta_free(S->os, S->arenas, S->arenas_cap * sizeof(*S->arenas));
#ifdef UM_SIM
	for (unsigned i = 0; i < S->nthreads; i++)
		um_os_meta_free(S->os, S->threads[i], sizeof(struct um_thread));
	if (S->threads)
		um_os_meta_free(S->os, S->threads, S->threads_cap * sizeof(*S->threads));
#endif
	reg_free_all(S);
	um_os_meta_free(S->os, S, sizeof(*S));
}

struct um_thread *um_main_thread(struct um_state *S) { return S->main_thread; }
uint32_t um_thread_id(const struct um_thread *th) { return th->id; }
size_t um_thread_size(void) { return sizeof(struct um_thread); }

void um_thread_init(struct um_state *S, struct um_thread *th)
{
	memset(th, 0, sizeof(*th));
	th->st = S;
	th->id = __atomic_fetch_add(&S->next_tid, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&S->main_claimed, 1, __ATOMIC_ACQ_REL))
		th->arena = S->main;            /* ptmalloc_init: thread_arena = &main_arena */
	th->inited = 1;
}

struct um_thread *um_thread_create(struct um_state *S)
{
	return thread_new(S);
}

struct um_thread *um_thread_by_id(struct um_state *S, uint32_t id)
{
#ifdef UM_SIM
	if (id >= S->nthreads || S->threads[id]->ghost || S->threads[id]->exited)
		return NULL;
	return S->threads[id];
#else
	(void)S; (void)id;
	return NULL;
#endif
}

void um_thread_exit(struct um_state *S, struct um_thread *th)
{
	if (!th || th->exited)
		return;
	SIM_GUARD(S, );
	tcache_thread_shutdown(S, th);
	SIM_DONE(S);
	struct um_arena *a = th->arena;
	th->arena = NULL;
	if (a) {
		LOCK(S, &S->free_list_lock);
		if (a->attached_threads > 0 && --a->attached_threads == 0) {
			a->next_free = S->free_list;
			S->free_list = a;
		}
		UNLOCK(S, &S->free_list_lock);
	}
	th->exited = 1;
}

/* glibc's __malloc_fork_unlock_child: every arena but the forker's goes
 * on the free list, unattached. */
static void fork_handover(struct um_state *S, struct um_arena *ta)
{
	if (ta)
		ta->attached_threads = 1;
	S->free_list = NULL;
	struct um_arena *ar = S->main;
	do {
		if (ar != ta) {
			ar->attached_threads = 0;
			ar->next_free = S->free_list;
			S->free_list = ar;
		}
		ar = ar->next;
	} while (ar != S->main);
}

struct um_state *um_clone(const struct um_state *P, struct um_os *os, const struct um_thread *forker)
{
	struct um_state *C = um_os_meta_alloc(os, sizeof(*C));
	if (!C)
		return NULL;
	*C = *P;
	C->os = os;
	C->arenas = um_os_meta_alloc(os, P->arenas_cap * sizeof(*C->arenas));
	C->reg.tab = NULL;
#ifdef UM_SIM
	C->threads = NULL;
	C->jb = NULL;
#endif
	if (!C->arenas)
		goto fail;
	for (unsigned i = 0; i < P->narenas; i++) {
		struct um_arena *pa = P->arenas[i], *ca = um_os_meta_alloc(os, sizeof(*ca));
		if (!ca)
			goto fail;
		*ca = *pa;
		ca->st = C;
		ca->os = os;
#ifdef UM_HOST
		ca->binaddr0 = (um_addr)(uintptr_t)&ca->bins[0];
		pthread_mutex_init(&ca->mutex, NULL);
#endif
		ca->heap = NULL;
		struct um_heap **tail = &ca->heap;
		for (struct um_heap *h = pa->heap; h; h = h->prev) {
			struct um_heap *nh = um_os_meta_alloc(os, sizeof(*nh));
			if (!nh)
				goto fail;
			*nh = *h;
			nh->prev = NULL;
			*tail = nh;
			tail = &nh->prev;
		}
		C->arenas[i] = ca;
	}
#define REMAP(pa) ((pa) ? C->arenas[(pa)->idx] : NULL)
	for (unsigned i = 0; i < P->narenas; i++) {
		C->arenas[i]->next = REMAP(P->arenas[i]->next);
		C->arenas[i]->next_free = REMAP(P->arenas[i]->next_free);
	}
	C->main = C->arenas[0];
	C->free_list = REMAP(P->free_list);
	C->next_to_use = REMAP(P->next_to_use);
	if (P->reg.tab) {
		C->reg.tab = um_os_meta_alloc(os, P->reg.cap * sizeof(*C->reg.tab));
		if (!C->reg.tab)
			goto fail;
		memcpy(C->reg.tab, P->reg.tab, P->reg.cap * sizeof(*C->reg.tab));
	}
	struct um_arena *ta = NULL;
#ifdef UM_SIM
	C->threads = um_os_meta_alloc(os, P->threads_cap * sizeof(*C->threads));
	C->nthreads = 0;
	if (!C->threads)
		goto fail;
	for (unsigned i = 0; i < P->nthreads; i++) {
		struct um_thread *t = um_os_meta_alloc(os, sizeof(*t));
		if (!t)
			goto fail;
		*t = *P->threads[i];
		t->st = C;
		if (t->tc)
			t->tc = &t->tc_store;
		t->arena = REMAP(P->threads[i]->arena);
		if (!forker || t->id != forker->id)
			t->ghost = 1;
		else
			ta = t->arena;
		C->threads[C->nthreads++] = t;
	}
	C->main_thread = forker ? C->threads[forker->id] : NULL;
#else
	ta = forker ? REMAP(forker->arena) : NULL;
#endif
#undef REMAP
	fork_handover(C, ta);
	return C;
fail:
	um_destroy(C);
	return NULL;
}

void um_fork_prepare(struct um_state *S)
{
#ifdef UM_HOST
	pthread_mutex_lock(&S->list_lock);
	struct um_arena *ar = S->main;
	do {
		pthread_mutex_lock(&ar->mutex);
		ar = ar->next;
	} while (ar != S->main);
	pthread_mutex_lock(&S->reg_lock);
#else
	(void)S;
#endif
}

void um_fork_parent(struct um_state *S)
{
#ifdef UM_HOST
	pthread_mutex_unlock(&S->reg_lock);
	struct um_arena *ar = S->main;
	do {
		pthread_mutex_unlock(&ar->mutex);
		ar = ar->next;
	} while (ar != S->main);
	pthread_mutex_unlock(&S->list_lock);
#else
	(void)S;
#endif
}

void um_fork_child(struct um_state *S, struct um_thread *th)
{
#ifdef UM_HOST
	pthread_mutex_init(&S->reg_lock, NULL);
	pthread_mutex_init(&S->free_list_lock, NULL);
	struct um_arena *ar = S->main;
	do {
		pthread_mutex_init(&ar->mutex, NULL);
		ar = ar->next;
	} while (ar != S->main);
	fork_handover(S, th ? th->arena : NULL);
	pthread_mutex_init(&S->list_lock, NULL);
#else
	fork_handover(S, th ? th->arena : NULL);
#endif
}

int um_registry_enable(struct um_state *S, int on)
{
#ifdef UM_SIM
	(void)S; (void)on;
	return 1;
#else
	int old = S->reg_on;
	S->reg_on = on ? 1 : 0;
	return old;
#endif
}

#include "um_check.c"
#include "um_print.c"
