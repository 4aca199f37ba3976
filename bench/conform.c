/*
 * conform.c — the conformance pass an allocator must pass before the bench
 * times it, run through the same loading path as the timing (the bench
 * starts it with the same LD_PRELOAD as the replay driver):
 *
 *   conform [--only CHECK]      one line per check: "ok CHECK" or "FAIL CHECK: ..."
 *
 * Checks: every malloc block aligned (16 bytes; a block smaller than 16
 * only to the largest power of two not above its size, which is what C11
 * asks and what jemalloc and mimalloc give for tiny sizes; whether every
 * block is 16-aligned is reported as information), memalign /
 * posix_memalign / aligned_alloc for every power-of-two alignment up to a
 * page including alignment == size, calloc zeroing (of reused memory too)
 * and its overflow check, realloc keeping contents up and down, usable
 * size >= request with the whole usable size writable, frees from another
 * thread, and contents intact under a multi-threaded churn that passes
 * blocks between threads.  Exit 0 when all pass, 1 otherwise.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static const char *only;
static size_t (*usable)(void *);
static int not16;

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t logu(uint64_t *s, size_t lo, size_t hi)
{
	unsigned a = 63 - (unsigned)__builtin_clzll(lo), b = 63 - (unsigned)__builtin_clzll(hi);
	unsigned k = a + (unsigned)(rnd(s) % (b - a + 1));
	size_t base = (size_t)1 << k, v = base + (size_t)(rnd(s) % base);
	return v < lo ? lo : v > hi ? hi : v;
}

#define FAIL(name, ...) do { printf("FAIL %s: ", name); printf(__VA_ARGS__); printf("\n"); failures++; return; } while (0)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static int same(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7 + (i >> 8)))
			return 0;
	return 1;
}

static int aligned_enough(const void *p, size_t size)
{
	uintptr_t a = 16;
	while (a > 1 && a > size)
		a >>= 1;
	if ((uintptr_t)p & 15)
		not16 = 1;
	return ((uintptr_t)p & (a - 1)) == 0;
}

static void c_malloc_align(const char *name)
{
	uint64_t s = 1;
	for (size_t n = 0; n < 70000; n = n < 4200 ? n + 1 : n * 2) {
		void *p = malloc(n);
		if (!p && n)
			FAIL(name, "malloc(%zu) returned NULL", n);
		if (p && !aligned_enough(p, n))
			FAIL(name, "malloc(%zu) = %p is not aligned", n, p);
		if (p)
			memset(p, 0xab, n);
		free(p);
	}
	void *keep[4096];
	for (int i = 0; i < 4096; i++) {
		size_t n = logu(&s, 1, 1 << 22);
		keep[i] = malloc(n);
		if (!keep[i] || !aligned_enough(keep[i], n))
			FAIL(name, "malloc(%zu) = %p is not aligned", n, keep[i]);
		memset(keep[i], 1, n < 64 ? n : 64);
	}
	for (int i = 0; i < 4096; i++)
		free(keep[i]);
	printf("ok %s%s\n", name, not16 ? " (info: some blocks under 16 bytes are not 16-byte aligned)" : "");
}

static void c_memalign(const char *name)
{
	for (size_t a = 1; a <= 4096; a *= 2) {
		size_t sizes[] = { 1, a > 1 ? a - 1 : 1, a, a + 1, 3 * a, 100000 };
		for (int i = 0; i < 6; i++) {
			size_t n = sizes[i];
			void *p = memalign(a, n);
			if (!p || ((uintptr_t)p & (a - 1)))
				FAIL(name, "memalign(%zu, %zu) = %p", a, n, p);
			memset(p, 0x5a, n);
			free(p);
			if (a >= sizeof(void *)) {
				p = NULL;
				int rc = posix_memalign(&p, a, n);
				if (rc || !p || ((uintptr_t)p & (a - 1)))
					FAIL(name, "posix_memalign(%zu, %zu) = %d, %p", a, n, rc, p);
				memset(p, 0x5a, n);
				free(p);
			}
			if (n % a == 0) {         /* C11 aligned_alloc: size a multiple of the alignment */
				p = aligned_alloc(a, n);
				if (!p || ((uintptr_t)p & (a - 1)))
					FAIL(name, "aligned_alloc(%zu, %zu) = %p", a, n, p);
				memset(p, 0x5a, n);
				free(p);
			}
		}
	}
	void *p = (void *)1;
	if (posix_memalign(&p, 24, 64) == 0)
		FAIL(name, "posix_memalign(24, 64) accepted a non-power-of-two alignment");
	printf("ok %s\n", name);
}

static void c_calloc(const char *name)
{
	for (size_t n = 8; n <= (8u << 20); n *= 2) {
		for (int round = 0; round < 3; round++) {
			unsigned char *d = malloc(n);
			if (!d)
				FAIL(name, "malloc(%zu) returned NULL", n);
			memset(d, 0xff, n);
			free(d);
			unsigned char *p = calloc(1, n);
			if (!p)
				FAIL(name, "calloc(1, %zu) returned NULL", n);
			for (size_t i = 0; i < n; i++)
				if (p[i])
					FAIL(name, "calloc(1, %zu): byte %zu is %#x", n, i, p[i]);
			memset(p, 0xee, n);
			free(p);
		}
	}
	/* through a volatile, so the compiler cannot see the overflow coming */
	volatile size_t half = SIZE_MAX / 2;
	errno = 0;
	void *o = calloc(half, 3);
	if (o)
		FAIL(name, "calloc(SIZE_MAX/2, 3) did not detect the overflow");
	printf("ok %s\n", name);
}

static void c_realloc(const char *name)
{
	uint64_t s = 7;
	for (int chain = 0; chain < 40; chain++) {
		size_t n = logu(&s, 1, 64);
		unsigned char *p = malloc(n);
		fill(p, n, (unsigned)chain);
		for (int step = 0; step < 24; step++) {
			size_t m = step < 16 ? logu(&s, n, n * 3 + 64) : logu(&s, 1, n);
			if (m > (16u << 20))
				m = 16u << 20;
			unsigned char *q = realloc(p, m);
			if (!q)
				FAIL(name, "realloc(%zu -> %zu) returned NULL", n, m);
			size_t keep = n < m ? n : m;
			if (!same(q, keep, (unsigned)chain))
				FAIL(name, "realloc(%zu -> %zu) lost the contents", n, m);
			if (!aligned_enough(q, m))
				FAIL(name, "realloc returned a misaligned %p", q);
			fill(q, m, (unsigned)chain);
			p = q;
			n = m;
		}
		free(p);
	}
	printf("ok %s\n", name);
}

static void c_usable(const char *name)
{
	if (!usable) {
		printf("ok %s (malloc_usable_size is not provided by this allocator; not checked)\n", name);
		return;
	}
	uint64_t s = 3;
	for (int i = 0; i < 20000; i++) {
		size_t n = logu(&s, 1, 1 << 20);
		unsigned char *p = malloc(n);
		size_t u = usable(p);
		if (u < n)
			FAIL(name, "malloc_usable_size(malloc(%zu)) = %zu", n, u);
		memset(p, 0x11, u);              /* all of it is ours */
		free(p);
	}
	printf("ok %s\n", name);
}

/* --- another thread frees --- */

#define RF_N 20000
static unsigned char *rf_blocks[RF_N];
static size_t rf_sizes[RF_N];
static int rf_bad;

static void *rf_freer(void *arg)
{
	(void)arg;
	for (int i = 0; i < RF_N; i++) {
		if (!same(rf_blocks[i], rf_sizes[i], (unsigned)i))
			rf_bad = i + 1;
		free(rf_blocks[i]);
	}
	return NULL;
}

static void c_remote_free(const char *name)
{
	uint64_t s = 11;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < RF_N; i++) {
			rf_sizes[i] = logu(&s, 1, 20000);
			rf_blocks[i] = malloc(rf_sizes[i]);
			if (!rf_blocks[i])
				FAIL(name, "malloc returned NULL");
			fill(rf_blocks[i], rf_sizes[i], (unsigned)i);
		}
		pthread_t t;
		pthread_create(&t, NULL, rf_freer, NULL);
		pthread_join(t, NULL);
		if (rf_bad)
			FAIL(name, "block %d was changed before the other thread freed it", rf_bad - 1);
		/* the freed memory is usable again by the first thread */
		for (int i = 0; i < RF_N; i++) {
			rf_blocks[i] = malloc(rf_sizes[i]);
			fill(rf_blocks[i], rf_sizes[i], (unsigned)i + 1);
		}
		for (int i = 0; i < RF_N; i++) {
			if (!same(rf_blocks[i], rf_sizes[i], (unsigned)i + 1))
				FAIL(name, "block %d changed after reuse", i);
			free(rf_blocks[i]);
		}
	}
	printf("ok %s\n", name);
}

/* --- multi-threaded churn with blocks passed between threads --- */

#define MT_THREADS 4
#define MT_SLOTS 4096
#define MT_OPS 40000
static _Atomic(uintptr_t) mt_slot[MT_SLOTS];
static _Atomic int mt_bad;

struct hdr { size_t size; unsigned seed; };

static int mt_check_free(uintptr_t v)
{
	if (!v)
		return 1;
	struct hdr *h = (struct hdr *)v;
	int ok = same((unsigned char *)(h + 1), h->size, h->seed);
	free(h);
	return ok;
}

static void *mt_worker(void *arg)
{
	uint64_t s = (uintptr_t)arg * 977 + 5;
	for (int i = 0; i < MT_OPS; i++) {
		size_t n = logu(&s, 8, 16384);
		struct hdr *h = malloc(sizeof(*h) + n);
		if (!h) {
			atomic_store(&mt_bad, 2);
			return NULL;
		}
		h->size = n;
		h->seed = (unsigned)rnd(&s);
		fill((unsigned char *)(h + 1), n, h->seed);
		uintptr_t old = atomic_exchange(&mt_slot[rnd(&s) % MT_SLOTS], (uintptr_t)h);
		if (!mt_check_free(old))
			atomic_store(&mt_bad, 1);
		if (rnd(&s) % 3 == 0 && !mt_check_free(atomic_exchange(&mt_slot[rnd(&s) % MT_SLOTS], 0)))
			atomic_store(&mt_bad, 1);
	}
	return NULL;
}

static void c_mt_churn(const char *name)
{
	pthread_t t[MT_THREADS];
	for (uintptr_t i = 0; i < MT_THREADS; i++)
		pthread_create(&t[i], NULL, mt_worker, (void *)i);
	for (int i = 0; i < MT_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < MT_SLOTS; i++)
		if (!mt_check_free(atomic_exchange(&mt_slot[i], 0)))
			atomic_store(&mt_bad, 1);
	if (atomic_load(&mt_bad) == 2)
		FAIL(name, "malloc returned NULL under the churn");
	if (atomic_load(&mt_bad))
		FAIL(name, "a block's contents changed while it was passed between %d threads", MT_THREADS);
	printf("ok %s\n", name);
}

static const struct { const char *name; void (*fn)(const char *); } checks[] = {
	{ "malloc-align", c_malloc_align },
	{ "memalign", c_memalign },
	{ "calloc-zero", c_calloc },
	{ "realloc-keeps", c_realloc },
	{ "usable-size", c_usable },
	{ "remote-free", c_remote_free },
	{ "mt-churn", c_mt_churn },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: conform [--only CHECK]\n");
			return 2;
		}
	}
	/* malloc_usable_size only if it comes from the same object as malloc:
	 * glibc's, asked about another allocator's block, would read garbage */
	void *m = dlsym(RTLD_DEFAULT, "malloc"), *u = dlsym(RTLD_DEFAULT, "malloc_usable_size");
	Dl_info im, iu;
	if (m && u && dladdr(m, &im) && dladdr(u, &iu) && im.dli_fbase == iu.dli_fbase)
		usable = (size_t (*)(void *))u;
	int ran = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (only && strcmp(only, checks[i].name))
			continue;
		printf("... %s\n", checks[i].name);
		checks[i].fn(checks[i].name);
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "conform: no check named %s\n", only);
		return 2;
	}
	return failures ? 1 : 0;
}
