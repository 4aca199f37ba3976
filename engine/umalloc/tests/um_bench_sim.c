/*
 * um_bench_sim.c — the same workloads as um_bench (um_work.h) on umalloc in
 * the engine's simulated world: a 1 GiB machine, one task, its main thread,
 * checks off. Each call is what a trace's malloc/free costs without the
 * trace executor: umalloc's own work plus the simulated brk/mmap, page
 * faults on first touch of new heap pages and page-table updates. No byte
 * store per block (the host benchmark's WORK_TOUCH) — a store into the
 * simulated address space is a page-table walk, not a cache hit.
 *
 * usage: um_bench_sim [SCALE]   output as um_bench's
 */
#include "refalloc/refalloc.h"
#include "mm.h"
#include "umalloc.h"
#include <stdio.h>
#include <stdlib.h>

static struct um_state *bst;
static struct um_thread *bth;

#define WORK_PTR        um_addr
#define WORK_MALLOC(n)  um_malloc(bst, bth, (n))
#define WORK_FREE(p)    um_free(bst, bth, (p))
#define WORK_TOUCH(p)   ((void)(p))
#include "um_work.h"

int main(int argc, char **argv)
{
	long scale = work_scale(argc, argv);
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = 1ull << 30;
	ra_machine *m;
	if (ra_machine_create(&m, &cfg, NULL, stderr) != RA_OK) {
		fprintf(stderr, "um_bench_sim: cannot create the machine\n");
		return 70;
	}
	ra_set_check_level(m, RA_CHECK_OFF);
	struct ra_task *t = ra_task_create(m, "bench", 0);
	if (!t || !t->um || !(bth = ra_task_umthread(t, 0))) {
		fprintf(stderr, "um_bench_sim: cannot create the task\n");
		return 70;
	}
	ra_set_current(m, t, 0);
	bst = t->um;
	ra_task_get(t);
	work_all(scale);
	ra_task_put(m, t);
	ra_machine_destroy(m);
	return 0;
}
