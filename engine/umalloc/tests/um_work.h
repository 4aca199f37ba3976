/*
 * um_work.h — the malloc micro-workloads, written once for every world.
 *
 * The includer defines WORK_PTR (the pointer type), WORK_MALLOC(n),
 * WORK_FREE(p) and WORK_TOUCH(p) (a one-byte store, or nothing where a store
 * costs a simulated fault), then includes this file. Sizes come from a fixed
 * xorshift sequence, so every allocator sees the same requests:
 *   small   16..64 bytes,   malloc then free
 *   medium  256..4096
 *   large   64K..1M
 *   churn   16..4096 mixed, 1000 live blocks; an op frees a random slot and
 *           mallocs into it
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t work_seed = 88172645463325252ULL;
static inline uint64_t work_rnd(void)
{
	work_seed ^= work_seed << 13;
	work_seed ^= work_seed >> 7;
	work_seed ^= work_seed << 17;
	return work_seed;
}

static double work_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ns per malloc+free pair of sizes in [lo, hi] */
static double work_pairs(size_t lo, size_t hi, long n)
{
	enum { NS = 4096 };
	static size_t sz[NS];
	work_seed = 88172645463325252ULL;
	for (int i = 0; i < NS; i++)
		sz[i] = lo + work_rnd() % (hi - lo + 1);
	double t0 = work_now();
	for (long i = 0; i < n; i++) {
		WORK_PTR p = WORK_MALLOC(sz[i & (NS - 1)]);
		WORK_TOUCH(p);
		WORK_FREE(p);
	}
	return (work_now() - t0) / (double)n;
}

/* ns per churn op (a free and a malloc) with 1000 blocks live */
static double work_churn(long n)
{
	enum { LIVE = 1000, NS = 1 << 16 };
	static WORK_PTR slot[LIVE];
	static size_t sz[NS];
	static unsigned idx[NS];
	work_seed = 88172645463325252ULL;
	for (int i = 0; i < NS; i++) {
		sz[i] = 16 + work_rnd() % (4096 - 16 + 1);
		idx[i] = (unsigned)(work_rnd() % LIVE);
	}
	for (int i = 0; i < LIVE; i++)
		slot[i] = WORK_MALLOC(sz[i]);
	double t0 = work_now();
	for (long i = 0; i < n; i++) {
		unsigned k = idx[i & (NS - 1)];
		WORK_FREE(slot[k]);
		slot[k] = WORK_MALLOC(sz[(i * 7) & (NS - 1)]);
		WORK_TOUCH(slot[k]);
	}
	double t = (work_now() - t0) / (double)n;
	for (int i = 0; i < LIVE; i++)
		WORK_FREE(slot[i]);
	return t;
}

static inline void work_emit(const char *name, double ns)
{
	printf("%s %.2f\n", name, ns);
	fflush(stdout);
}

/* The command line's SCALE (default 1): it divides the iteration counts. */
static inline long work_scale(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;
	return scale < 1 ? 1 : scale;
}

/* One run of the four workloads, one parseable line each: <workload> <ns> */
static inline void work_all(long scale)
{
	work_emit("small", work_pairs(16, 64, 10000000 / scale));
	work_emit("medium", work_pairs(256, 4096, 10000000 / scale));
	work_emit("large", work_pairs(65536, 1 << 20, 200000 / scale));
	work_emit("churn", work_churn(10000000 / scale));
}
