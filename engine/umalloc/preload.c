/*
 * preload.c — librefalloc_malloc.so: umalloc (UM_HOST) as the process's
 * malloc, for LD_PRELOAD.  Built as one translation unit with umalloc.c and
 * um_host.c so the tcache fast path inlines into malloc/free; everything
 * but the malloc family is hidden (-fvisibility=hidden).
 *
 * Start-up: nothing runs before the first call but a constructor that
 * reads REFALLOC_LEAKS (below); the first call to any entry point
 * initialises the state in static storage and mmap'd memory (never
 * calling malloc), so dlsym/pthread calling calloc early is fine.
 * Threads: one struct um_thread per thread in initial-exec TLS; a pthread
 * key destructor flushes the tcache at thread exit (glibc's
 * tcache_thread_shutdown + arena_thread_freeres).  fork: pthread_atfork
 * handlers lock every arena before fork, unlock in the parent and
 * re-initialise the locks in the child (glibc's __malloc_fork_*).
 *
 * Leak report (leaks.c): REFALLOC_LEAKS=1 turns on the side table of live
 * blocks and the report at exit.  Its whole cost when off is one
 * predictable branch on g_leaks in each allocation, realloc and free
 * path, and the constructor's getenv.  The allocating
 * entries pass their return address, so frame #1 of a report is always
 * the caller even where the unwinder cannot see it.
 */
#define UM_HOST 1
#include "umalloc.c"
#include "um_host.c"
#include "leaks.c"

#include <malloc.h>
#include <stdlib.h>

#define EXPORT __attribute__((visibility("default")))

static struct um_os g_os;
static struct um_state *g_st;
static int g_init;                 /* 0 none, 1 running, 2 done */
static pthread_key_t g_key;
static int g_key_ok;
static __thread struct um_thread g_th __attribute__((tls_model("initial-exec")));
static int g_leaks;                /* REFALLOC_LEAKS: record blocks for the report */

static void at_prepare(void) { lk_fork_prepare(); um_fork_prepare(g_st); }
static void at_parent(void) { um_fork_parent(g_st); lk_fork_parent(); }
static void at_child(void) { um_fork_child(g_st, &g_th); lk_fork_child(); }

/* Allocator memory the leak scan must never take for roots. */
static size_t lk_heaps(struct lk_range *out, size_t max)
{
	size_t k = 0;
	if (g_os.brk_base && k < max)
		out[k++] = (struct lk_range){ g_os.brk_base, g_os.brk_end };
	unsigned na = g_st ? __atomic_load_n(&g_st->narenas, __ATOMIC_ACQUIRE) : 0;
	for (unsigned i = 0; i < na; i++)
		for (struct um_heap *h = g_st->arenas[i]->heap; h && k < max; h = h->prev)
			out[k++] = (struct lk_range){ h->base, h->base + HEAP_MAX_SIZE };
	return k;
}

static void leaks_setup(void)
{
	struct lk_host h = {
		.self = &g_leaks,
		.entry = {
			[LK_MALLOC] = (const void *)&malloc, [LK_CALLOC] = (const void *)&calloc,
			[LK_REALLOC] = (const void *)&realloc, [LK_REALLOCARRAY] = (const void *)&reallocarray,
			[LK_MEMALIGN] = (const void *)&memalign, [LK_ALIGNED_ALLOC] = (const void *)&aligned_alloc,
			[LK_POSIX_MEMALIGN] = (const void *)&posix_memalign, [LK_VALLOC] = (const void *)&valloc,
			[LK_PVALLOC] = (const void *)&pvalloc,
		},
		.heaps = lk_heaps,
	};
	if (lk_init(&h))
		__atomic_store_n(&g_leaks, 1, __ATOMIC_RELEASE);
}

static void thread_dtor(void *arg)
{
	(void)arg;
	if (g_th.inited)
		um_thread_exit(g_st, &g_th);
}

static UM_NOINLINE void global_init(void)
{
	int expect = 0;
	if (__atomic_compare_exchange_n(&g_init, &expect, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		um_host_os_init(&g_os);
		g_st = um_create(&g_os);
		if (!g_st) {
			static const char m[] = "librefalloc_malloc: cannot initialise\n";
			ssize_t w = write(2, m, sizeof(m) - 1);
			(void)w;
			abort();
		}
		leaks_setup();
		__atomic_store_n(&g_init, 2, __ATOMIC_RELEASE);
		/* these may call malloc: the state is ready */
		pthread_atfork(at_prepare, at_parent, at_child);
		if (pthread_key_create(&g_key, thread_dtor) == 0)
			g_key_ok = 1;
		return;
	}
	while (__atomic_load_n(&g_init, __ATOMIC_ACQUIRE) != 2) {
		if (expect == 1 && g_th.inited)
			return;        /* re-entered from our own init on this thread */
		__builtin_ia32_pause();
		expect = __atomic_load_n(&g_init, __ATOMIC_ACQUIRE);
	}
}

static UM_NOINLINE struct um_thread *thread_setup(void)
{
	if (__atomic_load_n(&g_init, __ATOMIC_ACQUIRE) != 2)
		global_init();
	um_thread_init(g_st, &g_th);
	if (g_key_ok)
		pthread_setspecific(g_key, &g_th);
	return &g_th;
}

UM_INLINE struct um_thread *TH(void)
{
	struct um_thread *th = &g_th;
	if (UM_UNLIKELY(!th->inited))
		th = thread_setup();
	return th;
}

#define RA() __builtin_return_address(0)

EXPORT void *malloc(size_t n)
{
	struct um_thread *th = TH();
	void *p = (void *)(uintptr_t)um_malloc(g_st, th, n);
	if (UM_UNLIKELY(!p))
		errno = ENOMEM;
	else if (UM_UNLIKELY(g_leaks))
		lk_alloc(p, n, LK_MALLOC, RA());
	return p;
}

EXPORT void free(void *p)
{
	if (!p)
		return;
	struct um_thread *th = TH();
	if (UM_UNLIKELY(g_leaks))
		lk_free(p);
	int e = errno;
	um_free(g_st, th, (um_addr)(uintptr_t)p);
	errno = e;
}

EXPORT void cfree(void *p);
EXPORT void cfree(void *p) { free(p); }

EXPORT void *calloc(size_t n, size_t size)
{
	struct um_thread *th = TH();
	void *p = (void *)(uintptr_t)um_calloc(g_st, th, n, size);
	if (!p)
		errno = ENOMEM;
	else if (UM_UNLIKELY(g_leaks))
		lk_alloc(p, n * size, LK_CALLOC, RA());
	return p;
}

/* realloc with the leak report on: the old block's record leaves before
 * the allocator may reuse it, and comes back if the call fails. */
static UM_NOINLINE void *realloc_leaks(struct um_thread *th, void *old, size_t n, enum lk_kind kind, void *ra)
{
	struct lk_saved saved;
	int had = old ? lk_take(old, &saved) : 0;
	void *p = (void *)(uintptr_t)um_realloc(g_st, th, (um_addr)(uintptr_t)old, n);
	if (!p && (n || !old))
		errno = ENOMEM;
	if (p)
		lk_alloc(p, n, kind, ra);
	else if (had && n)
		lk_restore(old, &saved);
	return p;
}

static inline __attribute__((always_inline)) void *realloc_common(void *old, size_t n, enum lk_kind kind, void *ra)
{
	struct um_thread *th = TH();
	if (UM_UNLIKELY(g_leaks))
		return realloc_leaks(th, old, n, kind, ra);
	void *p = (void *)(uintptr_t)um_realloc(g_st, th, (um_addr)(uintptr_t)old, n);
	if (!p && (n || !old))
		errno = ENOMEM;
	return p;
}

EXPORT void *realloc(void *old, size_t n) { return realloc_common(old, n, LK_REALLOC, RA()); }

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc_common(old, bytes, LK_REALLOCARRAY, RA());
}

static inline __attribute__((always_inline)) void *memalign_common(size_t align, size_t n, enum lk_kind kind, void *ra)
{
	struct um_thread *th = TH();
	g_st->err = 0;
	void *p = (void *)(uintptr_t)um_memalign(g_st, th, align, n);
	if (!p)
		errno = g_st->err == EINVAL ? EINVAL : ENOMEM;
	else if (UM_UNLIKELY(g_leaks))
		lk_alloc(p, n, kind, ra);
	return p;
}

EXPORT void *memalign(size_t align, size_t n) { return memalign_common(align, n, LK_MEMALIGN, RA()); }
EXPORT void *aligned_alloc(size_t align, size_t n) { return memalign_common(align, n, LK_ALIGNED_ALLOC, RA()); }
EXPORT void *valloc(size_t n) { TH(); return memalign_common(g_st->pagesize, n, LK_VALLOC, RA()); }

EXPORT void *pvalloc(size_t n)
{
	struct um_thread *th = TH();
	void *p = (void *)(uintptr_t)um_pvalloc(g_st, th, n);
	if (!p)
		errno = ENOMEM;
	else if (UM_UNLIKELY(g_leaks))      /* recorded page-rounded, as Valgrind does */
		lk_alloc(p, (n + g_st->pagesize - 1) & ~(g_st->pagesize - 1), LK_PVALLOC, RA());
	return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	struct um_thread *th = TH();
	um_addr m = 0;
	int e = errno;
	int rc = um_posix_memalign(g_st, th, &m, align, n);
	errno = e;
	if (rc == 0) {
		*out = (void *)(uintptr_t)m;
		if (UM_UNLIKELY(g_leaks))
			lk_alloc(*out, n, LK_POSIX_MEMALIGN, RA());
	}
	return rc == 0 ? 0 : rc == EINVAL ? EINVAL : ENOMEM;
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	TH();
	return um_usable_size(g_st, (um_addr)(uintptr_t)p);
}

EXPORT int mallopt(int param, int value)
{
	TH();
	return um_mallopt(g_st, param, value);
}

EXPORT int malloc_trim(size_t pad)
{
	TH();
	return um_trim(g_st, pad);
}

EXPORT void malloc_stats(void)
{
	TH();
	um_stats(g_st, stderr);
}

EXPORT int malloc_info(int options, FILE *fp)
{
	TH();
	return um_info(g_st, options, fp);
}

EXPORT struct mallinfo2 mallinfo2(void)
{
	TH();
	struct um_mallinfo u = um_mallinfo(g_st);
	struct mallinfo2 m;
	m.arena = u.arena; m.ordblks = u.ordblks; m.smblks = u.smblks; m.hblks = u.hblks;
	m.hblkhd = u.hblkhd; m.usmblks = u.usmblks; m.fsmblks = u.fsmblks;
	m.uordblks = u.uordblks; m.fordblks = u.fordblks; m.keepcost = u.keepcost;
	return m;
}

EXPORT struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo m;
	m.arena = (int)m2.arena; m.ordblks = (int)m2.ordblks; m.smblks = (int)m2.smblks;
	m.hblks = (int)m2.hblks; m.hblkhd = (int)m2.hblkhd; m.usmblks = (int)m2.usmblks;
	m.fsmblks = (int)m2.fsmblks; m.uordblks = (int)m2.uordblks;
	m.fordblks = (int)m2.fordblks; m.keepcost = (int)m2.keepcost;
	return m;
}

/* Runs after libc's initialisation, before the program's: the environment
 * is visible for certain here, and an exit handler registered now runs
 * after the program's and after every destructor (see leaks.c). */
__attribute__((constructor)) static void preload_ctor(void)
{
	if (!getenv("REFALLOC_LEAKS"))
		return;
	TH();
	if (!__atomic_load_n(&g_leaks, __ATOMIC_ACQUIRE))
		leaks_setup();
	if (g_leaks)
		lk_arm();
}
