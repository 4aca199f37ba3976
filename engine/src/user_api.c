/*
 * user_api.c — the user side's public calls (refalloc.h, "User side"):
 * tasks named by pid, and their memory accessed as their own loads and
 * stores. Thin on purpose: the work is mm.c's (ra_uaccess), so a tool that
 * writes into a block takes exactly the faults a trace's touch would.
 */
#include "views.h"
#include "mm.h"

struct ra_task *ra_task_find(ra_machine *m, uint32_t pid)
{
	struct ra_mm_world *w = ra_mm_world(m);
	if (!w || !w->nr_tasks || pid < 2)
		return NULL;
	/* pids are handed out in creation order: look where it would be first */
	uint32_t guess = pid - w->tasks[0]->pid;
	if (pid >= w->tasks[0]->pid && guess < w->nr_tasks && w->tasks[guess]->pid == pid)
		return w->tasks[guess];
	for (uint32_t i = 0; i < w->nr_tasks; i++)
		if (w->tasks[i]->pid == pid)
			return w->tasks[i];
	return NULL;
}

int ra_user_write(ra_machine *m, uint32_t pid, uint64_t addr, const void *src, size_t len)
{
	struct ra_task *t = ra_task_find(m, pid);
	/* ra_uaccess only reads a write's buffer */
	return t ? ra_uaccess(m, t, addr, len, true, (void *)(uintptr_t)src) : -2;
}

int ra_user_read(ra_machine *m, uint32_t pid, uint64_t addr, void *dst, size_t len)
{
	struct ra_task *t = ra_task_find(m, pid);
	return t ? ra_uaccess(m, t, addr, len, false, dst) : -2;
}
