/*
 * um_bench.c — ns per malloc+free pair of whatever malloc the process uses:
 * run it plain (glibc), with LD_PRELOAD=librefalloc_malloc.so, or with
 * jemalloc/mimalloc/tcmalloc preloaded (engine/umalloc/tests/compare.sh does
 * all of them). The workloads are in um_work.h.
 *
 * usage: um_bench [SCALE]     SCALE divides the iteration counts
 * output: one "<workload> <ns>" line per workload
 */
#include <stdio.h>
#include <stdlib.h>

#define WORK_PTR        void *
#define WORK_MALLOC(n)  malloc(n)
#define WORK_FREE(p)    free(p)
#define WORK_TOUCH(p)   (*(volatile char *)(p) = 1)
#include "um_work.h"

int main(int argc, char **argv)
{
	work_all(work_scale(argc, argv));
	return 0;
}
