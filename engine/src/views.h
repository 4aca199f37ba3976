/*
 * views.h — what reads every layer and changes nothing: the /proc views
 * (views.c), the validators (check.c), the leak report (leak.c).
 */
#ifndef RA_VIEWS_H
#define RA_VIEWS_H

#include "vmscan.h"

/* === views.c, check.c =================================================== */

/* The kernel's unusable_free_index() and __fragmentation_index() of zone z
 * for an allocation of the given order, in thousandths (views.c). */
void ra_zone_frag_index(struct ra_zone *z, unsigned order, int *unusable, int *extfrag);

long ra_check_buddy(ra_machine *m, bool full);
long ra_check_meminfo(ra_machine *m);
long ra_check_op(ra_machine *m);
/* Every full structure walk, but nothing read from simulated RAM (what a
 * trace may corrupt in band): the per-operation tier of --check=full. */
long ra_check_structures(ra_machine *m);

/* meminfo numbers in pages, shared by the view and the checker */
struct ra_meminfo {
	uint64_t total, free, available, slab_rcl, slab_unrcl, vmalloc, pagetables,
	         anon, mlocked, kernel_stack, percpu, commit_limit, committed_as,
	         balloon, cma_total, cma_free, other_kernel, pcp,
	         file, active_file, inactive_file, dirty, writeback, shmem;
	uint64_t active_anon, inactive_anon, unevictable, swapcached, swap_total, swap_free;
};
void ra_meminfo_compute(ra_machine *m, struct ra_meminfo *mi);
/* task_mmu.c: a VMA's maps line; smaps and smaps_rollup of a task;
 * procrank over every task */
void ra_show_map_vma(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v);
void ra_view_smaps(ra_machine *m, struct ra_task *t);
void ra_view_smaps_rollup(ra_machine *m, struct ra_task *t);
void ra_view_procrank(ra_machine *m);
/* leak.c: the `leaks` view */
int ra_leak_view(ra_machine *m);

#endif /* RA_VIEWS_H */
