/*
 * um_icount.c — one um_work.h workload in a function of its own, so that
 * callgrind counts the instructions of exactly that loop (setup, exit and
 * the dynamic loader excluded): glibc's malloc run plain, umalloc's under
 * LD_PRELOAD.  Instruction counts do not depend on the machine's load,
 * unlike um_bench's nanoseconds; engine/umalloc/tests/icount.sh runs it.
 *
 * usage: valgrind --tool=callgrind --toggle-collect=um_icount_measure \
 *            um_icount WORKLOAD [N]      (small, medium, large or churn)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK_PTR        void *
#define WORK_MALLOC(n)  malloc(n)
#define WORK_FREE(p)    free(p)
#define WORK_TOUCH(p)   (*(volatile char *)(p) = 1)
#include "um_work.h"

__attribute__((noinline)) double um_icount_measure(const char *w, long n);
__attribute__((noinline)) double um_icount_measure(const char *w, long n)
{
	if (!strcmp(w, "small"))
		return work_pairs(16, 64, n);
	if (!strcmp(w, "medium"))
		return work_pairs(256, 4096, n);
	if (!strcmp(w, "large"))
		return work_pairs(65536, 1 << 20, n);
	return work_churn(n);
}

int main(int argc, char **argv)
{
	const char *w = argc > 1 ? argv[1] : "churn";
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	if (strcmp(w, "small") && strcmp(w, "medium") && strcmp(w, "large") && strcmp(w, "churn")) {
		fprintf(stderr, "usage: um_icount small|medium|large|churn [N]\n");
		return 2;
	}
	(void)work_all;                 /* um_bench's driver; one workload here */
	free(malloc(1));                /* the allocator's start-up is not measured */
	printf("%s %ld %.2f\n", w, n, um_icount_measure(w, n));
	return 0;
}
