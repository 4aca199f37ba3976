/*
 * um_leaks_cost.c — what REFALLOC_LEAKS costs per allocation: ns per
 * malloc/free pair (64 bytes, the tcache path) called five frames below
 * main, the way a real program's allocations sit.  Run it under
 * LD_PRELOAD=librefalloc_malloc.so with and without REFALLOC_LEAKS=1
 * (and REFALLOC_LEAKS_DEPTH=1 for the cost without the unwinder).
 * Prints "pair_ns N" (best of 5 rounds) and frees everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PAIRS 200000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static __attribute__((noinline)) void *level3(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}
static __attribute__((noinline)) void *level2(size_t n) { void *p = level3(n); __asm__ volatile(""); return p; }
static __attribute__((noinline)) void *level1(size_t n) { void *p = level2(n); __asm__ volatile(""); return p; }

static __attribute__((noinline)) double round_ns(void)
{
	double t0 = now();
	for (int i = 0; i < PAIRS; i++)
		free(level1(64));
	return (now() - t0) / PAIRS;
}

int main(void)
{
	double best = 1e18;
	for (int r = 0; r < 5; r++) {
		double ns = round_ns();
		if (ns < best)
			best = ns;
	}
	printf("pair_ns %.1f\n", best);
	return 0;
}
