/*
 * um_bench.c — ns per malloc+free pair of whatever malloc the process
 * uses: run it plain (glibc) and with LD_PRELOAD=librefalloc_malloc.so.
 *   small   16..64 bytes,   malloc then free, 1e7 pairs
 *   medium  256..4096,      1e7 pairs
 *   large   64K..1M,        2e5 pairs
 *   churn   16..4096 mixed, ~1000 live blocks, 1e7 ops (an op is a free
 *           of a random slot followed by a malloc into it)
 * Sizes come from a fixed xorshift sequence, so both runs see the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t s = 88172645463325252ULL;
static inline uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

static double pairs(size_t lo, size_t hi, long n)
{
	enum { NS = 4096 };
	static size_t sz[NS];
	for (int i = 0; i < NS; i++)
		sz[i] = lo + rnd() % (hi - lo + 1);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		void *p = malloc(sz[i & (NS - 1)]);
		*(volatile char *)p = 1;
		free(p);
	}
	return (now() - t0) / (double)n;
}

static double churn(long n)
{
	enum { LIVE = 1000, NS = 1 << 16 };
	static void *slot[LIVE];
	static size_t sz[NS];
	static unsigned idx[NS];
	for (int i = 0; i < NS; i++) {
		sz[i] = 16 + rnd() % (4096 - 16 + 1);
		idx[i] = (unsigned)(rnd() % LIVE);
	}
	for (int i = 0; i < LIVE; i++)
		slot[i] = malloc(sz[i]);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		unsigned k = idx[i & (NS - 1)];
		free(slot[k]);
		slot[k] = malloc(sz[(i * 7) & (NS - 1)]);
		*(volatile char *)slot[k] = 1;
	}
	double t = (now() - t0) / (double)n;
	for (int i = 0; i < LIVE; i++)
		free(slot[i]);
	return t;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;
	const char *pre = getenv("LD_PRELOAD");
	printf("malloc: %s\n", pre && strstr(pre, "refalloc") ? "librefalloc_malloc.so" : "system (glibc)");
	printf("small  (16-64)     %7.2f ns/pair\n", pairs(16, 64, 10000000 / scale));
	printf("medium (256-4096)  %7.2f ns/pair\n", pairs(256, 4096, 10000000 / scale));
	printf("large  (64K-1M)    %7.2f ns/pair\n", pairs(65536, 1 << 20, 200000 / scale));
	printf("churn  (16-4096)   %7.2f ns/op\n", churn(10000000 / scale));
	return 0;
}
