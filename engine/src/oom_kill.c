/*
 * oom_kill.c — the OOM killer: oom_badness(), the /proc scores, and
 * out_of_memory().
 *
 * When a page allocation for a fault or for the kernel fails after
 * reclaim, the page allocator's slow path calls out_of_memory() through
 * m->slowpath (buddy.h): panic_on_oom, oom_kill_allocating_task, then the
 * task with the highest oom_badness() (the later one on a tie), whose memory
 * is freed at once (the OOM reaper's work, done synchronously). A machine
 * on which no task was ever created has no user space: its failed
 * allocations simply fail.
 */
#include "oom.h"
#include <inttypes.h>
#include <limits.h>

/* === OOM ================================================================= */

/* constrained_alloc(): an unconstrained OOM weighs against RAM and swap */
uint64_t ra_oom_totalpages(ra_machine *m) { return m->totalram + (m->swp ? m->swp->total_swap_pages : 0); }

/* oom_badness() from the counters it reads. */
long ra_oom_badness_of(uint64_t rss, uint64_t swapents, uint64_t pgtables_bytes, int oom_score_adj, uint64_t totalpages)
{
	long adj = oom_score_adj;
#if RA_MUTANT != 15 /* mutant 15: oom_score_adj -1000 (OOM_SCORE_ADJ_MIN) no longer exempts a task */
	if (adj == -1000)
		return LONG_MIN;
#endif
	long points = (long)(rss + swapents + pgtables_bytes / RA_PAGE_SIZE);
	adj *= (long)(totalpages / 1000);    /* normalized to oom_score_adj units */
	return points + adj;
}

/* proc_oom_score(): badness scaled to [0, 2000] as the modern kernel shows it */
unsigned long ra_oom_score_of(long badness, uint64_t totalpages)
{
	if (badness == LONG_MIN)
		return 0;
	return (unsigned long)((1000 + badness * 1000 / (long)totalpages) * 2 / 3);
}

long ra_oom_badness(ra_machine *m, struct ra_task *t, uint64_t totalpages)
{
	(void)m;
	if (!ra_task_alive(t) || t->pid == 1 || !t->mm)
		return LONG_MIN;
	/* get_mm_rss(): anonymous and file pages mapped; swap entries */
	return ra_oom_badness_of(t->mm->rss + t->mm->rss_file, t->mm->swapents, t->mm->nr_pt * RA_PAGE_SIZE,
	                         t->oom_score_adj, totalpages);
}

unsigned long ra_oom_score(ra_machine *m, struct ra_task *t)
{
	uint64_t total = ra_oom_totalpages(m);
	return ra_oom_score_of(ra_oom_badness(m, t, total), total);
}

int ra_oom_adj_from_score_adj(int score_adj)
{
	if (score_adj == 1000)
		return 15;
	return score_adj * 17 / 1000;
}

int ra_oom_score_adj_from_adj(int adj)
{
	if (adj == 15)
		return 1000;
	return adj * 1000 / 17;
}

static void oom_dump(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	struct ra_mm_world *w = m->mmw;
	if (!m->err)
		return;
	char names[256];
	ra_gfp_format(gfp, names, sizeof(names));
	struct ra_task *cur = w->cur;
	fprintf(m->err, "%s invoked oom-killer: gfp_mask=%#x(%s), order=%u, oom_score_adj=%d\n",
	        cur ? cur->comm : "kworker", gfp, names, order, cur ? cur->oom_score_adj : 0);
	fprintf(m->err, "Tasks state (memory values in pages):\n");
	/* dump_tasks()/dump_task() as 6.1 prints them (the rss_anon, rss_file
	 * and rss_shmem columns came later) */
	fprintf(m->err, "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n");
	for (uint32_t i = 0; i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		if (!ra_task_alive(t) || !t->mm)
			continue;
		struct ra_mm *mm = t->mm;
		fprintf(m->err, "[%7u] %5d %5u %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "         %5d %s\n",
		        t->pid, 0, t->pid, mm->total_vm, mm->rss + mm->rss_file, (uint64_t)(mm->nr_pt * RA_PAGE_SIZE),
		        mm->swapents,
		        t->oom_score_adj, t->comm);
	}
}

/* The OOM killer kills t: its message, the kill recorded, SIGKILL. */
static void kill_task(ra_machine *m, struct ra_task *t, const char *why)
{
	struct ra_mm_world *w = m->mmw;
	struct ra_mm *mm = t->mm;
	if (m->err) {
		fprintf(m->err, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
		        "task_memcg=/,task=%s,pid=%u,uid=0\n", t->comm, t->pid);
		fprintf(m->err, "%s: Killed process %u (%s) total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64 "kB, file-rss:%" PRIu64 "kB, "
		        "shmem-rss:0kB, UID:0 pgtables:%" PRIu64 "kB oom_score_adj:%d\n", why, t->pid, t->comm,
		        K(mm->total_vm), K(mm->rss), K(mm->rss_file), K(mm->nr_pt), t->oom_score_adj);
	}
	if (w->nr_kills == w->cap_kills) {
		w->cap_kills = w->cap_kills ? w->cap_kills * 2 : 8;
		w->kills = realloc(w->kills, w->cap_kills * sizeof(*w->kills));
		RA_BUG_ON(m, !w->kills);
	}
	struct ra_kill *k = &w->kills[w->nr_kills++];
	k->pid = t->pid;
	memcpy(k->comm, t->comm, sizeof(k->comm));
	k->op_seq = m->op_seq;
	count_vm_event(m, OOM_KILL);
	ra_task_kill(m, t);
}

static void panic(ra_machine *m, const char *msg)
{
	m->mmw->panicked = true;
	if (m->err)
		fprintf(m->err, "Kernel panic - not syncing: %s\n", msg);
}

/* out_of_memory(): true when a task was killed (memory was freed). */
bool ra_out_of_memory(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	struct ra_mm_world *w = m->mmw;
	if (!w || !w->nr_tasks || w->panicked || w->in_oom)
		return false;
	w->in_oom++;
	bool killed = false;
	uint64_t total = ra_oom_totalpages(m);
	int64_t panic_on_oom = KNOB(m, VM_PANIC_ON_OOM);
	if (panic_on_oom) {
		oom_dump(m, gfp, order);
		panic(m, panic_on_oom == 2 ? "Out of memory: compulsory panic_on_oom is enabled"
		                           : "Out of memory: system-wide panic_on_oom is enabled");
		goto out;
	}
	struct ra_task *cur = w->cur;
	if (KNOB(m, VM_OOM_KILL_ALLOCATING_TASK) && ra_task_alive(cur) && cur->oom_score_adj != -1000) {
		oom_dump(m, gfp, order);
		kill_task(m, cur, "Out of memory (oom_kill_allocating_task)");
		killed = true;
		goto out;
	}
	struct ra_task *chosen = NULL;
	long chosen_points = LONG_MIN;
	for (uint32_t i = 0; i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		long points = ra_oom_badness(m, t, total);
#if RA_MUTANT == 14 /* mutant 14: wrong OOM victim (the lowest badness instead of the highest) */
		if (points == LONG_MIN || (chosen && points > chosen_points))
#else
		if (points == LONG_MIN || points < chosen_points)
#endif
			continue;
		chosen = t;
		chosen_points = points;
	}
	oom_dump(m, gfp, order);
	if (!chosen) {
		if (m->err)
			fprintf(m->err, "Out of memory and no killable processes...\n");
		panic(m, "System is deadlocked on memory");
		goto out;
	}
	kill_task(m, chosen, "Out of memory");
	killed = true;
out:
	w->in_oom--;
	return killed;
}

