/*
 * oom.h — the OOM killer (oom_kill.c): oom_badness() and the scores shown
 * in /proc, and out_of_memory(), which the page allocator's slow path
 * reaches through the hook of buddy.h.
 */
#ifndef RA_OOM_H
#define RA_OOM_H

#include "vmscan.h"

long ra_oom_badness(ra_machine *m, struct ra_task *t, uint64_t totalpages);   /* LONG_MIN: unkillable */
long ra_oom_badness_of(uint64_t rss, uint64_t swapents, uint64_t pgtables_bytes, int oom_score_adj, uint64_t totalpages);
unsigned long ra_oom_score_of(long badness, uint64_t totalpages);
uint64_t ra_oom_totalpages(ra_machine *m);
unsigned long ra_oom_score(ra_machine *m, struct ra_task *t);
int  ra_oom_adj_from_score_adj(int score_adj);
int  ra_oom_score_adj_from_adj(int adj);
/* out_of_memory(): struct ra_slowpath_ops.out_of_memory (buddy.h). */
bool ra_out_of_memory(ra_machine *m, ra_gfp_t gfp, unsigned order);

#endif /* RA_OOM_H */
