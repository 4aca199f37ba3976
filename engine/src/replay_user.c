/*
 * replay_user.c — the user-side operations of a trace: tasks and threads,
 * the malloc family through each task's umalloc, mappings, brk, mlockall,
 * touch/read, oom_score_adj.
 *
 * User handles belong to their task: each task has its own handle table,
 * and fork copies the parent's (same addresses, copy-on-write memory).
 * Operations on a dead task (exited or OOM-killed) or its handles have
 * outcome fail, as a trace cannot know whether a kill happens.
 *
 * While umalloc runs on behalf of a task, the task is pinned: should that
 * very call end in the OOM killer choosing the task, its pages go at once
 * but its mm and umalloc's host-side state wait until the call returns.
 */
#include "replay.h"
#include "mm.h"
#include "umalloc.h"
#include <inttypes.h>

struct utask { struct ra_task *t; struct rhandle *uh; bool twins_gone; };
struct ustate { struct utask *v; uint32_t n, cap; bool null_cur; };

static struct ustate *us(struct replay *rp)
{
	if (!rp->user) {
		rp->user = calloc(1, sizeof(struct ustate));
		RA_BUG_ON(rp->m, !rp->user);
	}
	return rp->user;
}

static struct rhandle *table_of(struct replay *rp, struct ra_task *t)
{
	struct ustate *u = us(rp);
	for (uint32_t i = 0; i < u->n; i++)
		if (u->v[i].t == t)
			return u->v[i].uh;
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8;
		u->v = realloc(u->v, u->cap * sizeof(*u->v));
		RA_BUG_ON(rp->m, !u->v);
	}
	u->v[u->n].t = t;
	u->v[u->n].twins_gone = false;
	u->v[u->n].uh = calloc(rp->t->nnames + 1, sizeof(struct rhandle));
	RA_BUG_ON(rp->m, !u->v[u->n].uh);
	return u->v[u->n++].uh;
}

struct rhandle *rp_user_table(struct replay *rp, struct ra_task *t) { return table_of(rp, t); }
#define UMEM_MASK ((1u << HK_UCHUNK) | (1u << HK_UMMAP))

struct rhandle *rp_user_handle(struct replay *rp, uint32_t name, struct ra_task **tp)
{
	struct ra_mm_world *w = ra_mm_world(rp->m);
	struct ra_task *t = w ? w->cur : NULL;
	if (!t)
		return NULL;
	struct rhandle *h = &table_of(rp, t)[name];
	if (h->state == HS_UNBOUND || !(UMEM_MASK & (1u << h->kind)))
		return NULL;
	*tp = t;
	return h;
}

bool rp_null_current(struct replay *rp) { return rp->user && ((struct ustate *)rp->user)->null_cur; }

void rp_user_fini(struct replay *rp)
{
	struct ustate *u = rp->user;
	if (!u)
		return;
	for (uint32_t i = 0; i < u->n; i++)
		free(u->v[i].uh);
	free(u->v);
	free(u);
	rp->user = NULL;
}

/* A task that died took its memory with it: so go its blocks' twins. */
void rp_twins_of_dead_tasks(struct replay *rp)
{
	struct ustate *u = rp->user;
	for (uint32_t i = 0; u && i < u->n; i++) {
		struct utask *ut = &u->v[i];
		if (ut->twins_gone || ra_task_alive(ut->t))
			continue;
		for (uint32_t k = 0; k <= rp->t->nnames; k++)
			rp_twin_gone(rp, &ut->uh[k]);
		ut->twins_gone = true;
	}
}

/* A forked child's blocks are copies: each gets a twin of its own. */
void rp_twins_fork(struct replay *rp, struct rhandle *table, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		table[k].twin = 0;
		rp_twin_bound(rp, &table[k]);
	}
}

bool rp_was_oom_killed(struct replay *rp, const char *name, uint64_t since)
{
	struct ra_mm_world *w = ra_mm_world(rp->m);
	for (uint32_t i = 0; w && i < w->nr_kills; i++)
		if (w->kills[i].op_seq >= since && !strcmp(w->kills[i].comm, name))
			return true;
	return false;
}

static int fail_bind(struct replay *rp, struct ra_task *t, const struct ra_op *op);

/* The current task or a trace error. */
static int current(struct replay *rp, const struct ra_op *op, struct ra_task **out, uint32_t *tid)
{
	struct ra_mm_world *w = ra_mm_world(rp->m);
	if ((!w || !w->cur) && rp_null_current(rp))
		return OUT_FAIL;    /* the current task never came to be */
	if (!w || !w->cur)
		return rp_trace_error(rp, op, 0, "'%s' needs a current task (create one with `task NAME -> t`)",
		                      ra_op_names[op->code]);
	*out = w->cur;
	*tid = w->cur_tid;
	return OUT_OK;
}

/* A user handle of the current task, of a kind in mask. */
static int uwant(struct replay *rp, const struct ra_op *op, struct ra_task *t, int which, unsigned mask,
                 struct rhandle **out)
{
	struct rhandle *h = &table_of(rp, t)[op->h[which]];
	if (h->state == HS_UNBOUND)
		return rp_trace_error(rp, op, op->hcol[which], "handle '%s' is not bound in task %s (pid %u)",
		                      rp->t->names[op->h[which]], t->comm, t->pid);
	if (!(mask & (1u << h->kind)))
		return rp_trace_error(rp, op, op->hcol[which], "handle '%s' is a %s; %s wants user memory",
		                      rp->t->names[op->h[which]], ra_hkind_names[h->kind], ra_op_names[op->code]);
	*out = h;
	return OUT_OK;
}

static int ubind(struct replay *rp, struct ra_task *t, const struct ra_op *op, uint32_t consumed, int kind,
                 uint64_t val, uint64_t size)
{
	if (!ra_task_alive(t))
		val = 0;     /* the task died inside the call: it never returned */
	int r = rp_bind(rp, table_of(rp, t), op, consumed, kind, val, size, 0, NULL);
	if (r != OUT_OK)
		return r;
	if (val && kind == HK_UCHUNK)
		ra_user_poison(rp->m, t, val, size, false);
	rp->st.allocations++;
	if (!val)
		rp->st.alloc_failures++;
	return val ? OUT_OK : OUT_FAIL;
}

/* Run one umalloc call with the task pinned (see the essay). */
#define UM_CALL(rp, t, expr) ({ ra_task_get(t); __typeof__(expr) _r = (expr); ra_task_put((rp)->m, t); _r; })

static int exec_malloc_family(struct replay *rp, const struct ra_op *op, struct ra_task *t, uint32_t tid)
{
	struct um_state *um = t->um;
	struct um_thread *th = ra_task_umthread(t, tid);
	struct rhandle *h;
	int r;
	if (!um || !th)
		return fail_bind(rp, t, op);   /* a thread that could not be created */
	um_set_tag(um, ((uint64_t)rp->m->site.file << 32) | op->line);
	unsigned long before = ra_reports(rp->m);
	switch (op->code) {
	case RA_OP_MALLOC:
		return ubind(rp, t, op, RA_NONAME, HK_UCHUNK, UM_CALL(rp, t, um_malloc(um, th, (size_t)op->a[0])),
		             (uint64_t)op->a[0]);
	case RA_OP_CALLOC: {
		uint64_t n = (uint64_t)op->a[0], sz = (uint64_t)op->a[1];
		return ubind(rp, t, op, RA_NONAME, HK_UCHUNK, UM_CALL(rp, t, um_calloc(um, th, (size_t)n, (size_t)sz)), n * sz);
	}
	case RA_OP_MEMALIGN:
		return ubind(rp, t, op, RA_NONAME, HK_UCHUNK,
		             UM_CALL(rp, t, um_memalign(um, th, (size_t)op->a[0], (size_t)op->a[1])), (uint64_t)op->a[1]);
	case RA_OP_REALLOC: {
		if ((r = uwant(rp, op, t, 0, UMEM_MASK, &h)) != OUT_OK)
			return r;
		struct rhandle *out = op->out != RA_NONAME ? &table_of(rp, t)[op->out] : NULL;
		if (out && op->out != op->h[0] && out->state == HS_LIVE)
			return rp_bind(rp, table_of(rp, t), op, RA_NONAME, 0, 0, 0, 0, NULL);
		uint64_t old = h->state == HS_NULL ? 0 : h->val;
		um_addr n = UM_CALL(rp, t, um_realloc(um, th, old, (size_t)op->a[0]));
		if (ra_reports(rp->m) != before && !n) {
			/* refused: the old block stays, the result is NULL */
			if (op->out != RA_NONAME && op->out != op->h[0] &&
			    rp_bind(rp, table_of(rp, t), op, RA_NONAME, HK_UCHUNK, 0, 0, 0, NULL) != OUT_OK)
				return OUT_TRACE_ERROR;
			return OUT_FAIL;
		}
		if (!op->a[0] && old) {
			/* realloc(p, 0) frees p and returns NULL: a success */
			h->state = HS_FREED;
			rp_twin_gone(rp, h);
			if (op->out != RA_NONAME)
				rp_bind(rp, table_of(rp, t), op, op->h[0], HK_UCHUNK, 0, 0, 0, NULL);
			return OUT_OK;
		}
		if (n && h->state != HS_NULL)
			rp_freed(rp, table_of(rp, t), h);
		return ubind(rp, t, op, op->h[0], HK_UCHUNK, n, (uint64_t)op->a[0]);
	}
	case RA_OP_FREE:
		if ((r = uwant(rp, op, t, 0, UMEM_MASK, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL)
			return OUT_OK;
		if (UM_CALL(rp, t, um_free(um, th, h->val)))
			return OUT_FAIL;
		rp_freed(rp, table_of(rp, t), h);
		ra_user_poison(rp->m, t, h->val, h->size, true);
		return OUT_OK;
	case RA_OP_MALLOPT:
		return UM_CALL(rp, t, um_mallopt(um, (int)op->a[0], (int)op->a[1])) == 1 ? OUT_OK : OUT_FAIL;
	case RA_OP_MALLOC_TRIM:
		UM_CALL(rp, t, um_trim(um, (size_t)op->a[0]));
		return OUT_OK;
	default:
		return rp_trace_error(rp, op, 0, "internal: no executor for '%s'", ra_op_names[op->code]);
	}
}

/* An operation that fails before it starts (dead task, missing thread)
 * still binds what it would have created, to NULL, as C would. */
static int fail_bind(struct replay *rp, struct ra_task *t, const struct ra_op *op)
{
	if (op->out == RA_NONAME)
		return OUT_FAIL;
	int r;
	if (op->code == RA_OP_FORK)
		r = rp_bind(rp, rp->kh, op, RA_NONAME, HK_TASK, 0, 0, 0, NULL);
	else
		r = rp_bind(rp, table_of(rp, t), op, op->code == RA_OP_REALLOC ? op->h[0] : RA_NONAME,
		            op->code == RA_OP_MMAP ? HK_UMMAP : HK_UCHUNK, 0, 0, 0, NULL);
	return r == OUT_OK ? OUT_FAIL : r;
}

int rp_exec_user(struct replay *rp, const struct ra_op *op)
{
	ra_machine *m = rp->m;
	struct ra_task *t = NULL;
	uint32_t tid = 0;
	struct rhandle *h;
	int r;
	switch (op->code) {
	case RA_OP_TASK: {
		const char *comm = ra_trace_strp(rp->t, op->str);
		int adj = (op->flags & RA_OPF_HAS_ADJ) ? (int)op->a[0] : 0;
		struct ra_task *nt = ra_task_create(m, comm, adj);
		ra_set_current(m, nt, 0);
		us(rp)->null_cur = !nt;
		if (nt)
			table_of(rp, nt);
		return rp_bind(rp, rp->kh, op, RA_NONAME, HK_TASK, nt ? nt->pid : 0, 0, 0, nt) == OUT_OK
		       ? (nt ? OUT_OK : OUT_FAIL) : OUT_TRACE_ERROR;
	}
	case RA_OP_SWITCH: {
		struct rhandle *th = &rp->kh[op->h[0]];
		if (th->state == HS_UNBOUND || th->kind != HK_TASK)
			return rp_trace_error(rp, op, op->hcol[0], "handle '%s' is %s, not a task", rp->t->names[op->h[0]],
			                      th->state == HS_UNBOUND ? "not bound yet" : ra_hkind_names[th->kind]);
		if (th->state == HS_NULL) {
			ra_set_current(m, NULL, 0);
			us(rp)->null_cur = true;
			return OUT_FAIL;
		}
		t = th->ptr;
		/* the task is current even if its thread N cannot be created: the
		 * malloc family then fails for want of the thread */
		ra_set_current(m, t, (uint32_t)op->a[0]);
		us(rp)->null_cur = false;
		if (ra_task_alive(t) && !ra_task_thread(m, t, (uint32_t)op->a[0]))
			return OUT_FAIL;
		return ra_task_alive(t) ? OUT_OK : OUT_FAIL;
	}
	default:
		break;
	}
	if ((r = current(rp, op, &t, &tid)) != OUT_OK) {
		/* no task to act for: a fork still binds its name, to NULL */
		if (r == OUT_FAIL && op->code == RA_OP_FORK && op->out != RA_NONAME &&
		    rp_bind(rp, rp->kh, op, RA_NONAME, HK_TASK, 0, 0, 0, NULL) != OUT_OK)
			return OUT_TRACE_ERROR;
		return r;
	}
	if (!ra_task_alive(t)) {
		/* still a trace error to name a handle the task never had */
		if ((op->code == RA_OP_FREE || op->code == RA_OP_REALLOC || op->code == RA_OP_TOUCH ||
		     op->code == RA_OP_READ || op->code == RA_OP_MUNMAP || op->code == RA_OP_MSYNC ||
		     op->code == RA_OP_MADVISE) &&
		    (r = uwant(rp, op, t, 0, UMEM_MASK, &h)) != OUT_OK)
			return r;
		return fail_bind(rp, t, op);
	}
	switch (op->code) {
	case RA_OP_FORK: {
		struct ra_task *c = ra_task_fork(m, t, tid);
		if (c) {
			struct rhandle *pt = table_of(rp, t), *ct = table_of(rp, c);
			memcpy(ct, pt, (rp->t->nnames + 1) * sizeof(*ct));
			rp_twins_fork(rp, ct, rp->t->nnames + 1);
		}
		return rp_bind(rp, rp->kh, op, RA_NONAME, HK_TASK, c ? c->pid : 0, 0, 0, c) == OUT_OK
		       ? (c ? OUT_OK : OUT_FAIL) : OUT_TRACE_ERROR;
	}
	case RA_OP_EXIT:
		ra_task_exit(m, t);
		return OUT_OK;
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_REALLOC: case RA_OP_MEMALIGN: case RA_OP_FREE:
	case RA_OP_MALLOPT: case RA_OP_MALLOC_TRIM:
		r = exec_malloc_family(rp, op, t, tid);
		/* killed inside the call (a fault malloc took that could not be
		 * served, or one on memory unmapped behind its back; see mm.c's
		 * um_xlate): the program never got past it */
		return r == OUT_OK && !ra_task_alive(t) ? OUT_FAIL : r;
	case RA_OP_MMAP: {
		unsigned f = ((op->flags & RA_OPF_POPULATE) ? RA_MMAP_POPULATE : 0) |
		             ((op->flags & RA_OPF_LOCKED) ? RA_MMAP_LOCKED : 0) | RA_MMAP_TRACE;
		uint64_t a;
		if (op->flags & RA_OPF_FILEMAP) {
			/* the file is a kernel-side handle; a file that is gone
			 * (unlinked, or never made) cannot be mapped: EBADF */
			struct rhandle *fh = &rp->kh[op->h[0]];
			if (fh->state == HS_UNBOUND)
				return rp_trace_error(rp, op, op->hcol[0], "handle '%s' names nothing (its binding did not run)",
				                      rp->t->names[op->h[0]]);
			if (fh->kind != HK_FILE)
				return rp_trace_error(rp, op, op->hcol[0], "handle '%s' is a %s; mmap file= wants a file",
				                      rp->t->names[op->h[0]], ra_hkind_names[fh->kind]);
			a = fh->state == HS_LIVE && ra_file_get(m, fh->aux)
			    ? ra_mmap_file(m, t, (uint64_t)op->a[0], (int)op->a[1], f, fh->aux, (uint64_t)op->a[2],
			                   (op->flags & RA_OPF_SHARED) != 0)
			    : 0;
		} else {
			a = ra_mmap(m, t, (uint64_t)op->a[0], (int)op->a[1], f);
		}
		return ubind(rp, t, op, RA_NONAME, HK_UMMAP, a, (uint64_t)op->a[0]);
	}
	case RA_OP_MSYNC:
		if ((r = uwant(rp, op, t, 0, UMEM_MASK, &h)) != OUT_OK)
			return r;
		if (h->state != HS_LIVE)
			return OUT_FAIL;
		return ra_msync(m, t, h->val, h->size) ? OUT_FAIL : OUT_OK;
	case RA_OP_MADVISE: {
		/* OFFSET and LEN within the mapping, page-aligned OFFSET
		 * (EINVAL otherwise), default the rest of it; a mapping, not a
		 * malloc block */
		if ((r = uwant(rp, op, t, 0, 1u << HK_UMMAP, &h)) != OUT_OK)
			return r;
		if (h->state != HS_LIVE)
			return OUT_FAIL;
		uint64_t off = (op->flags & RA_OPF_HAS_OFF) ? (uint64_t)op->a[1] : 0;
		if (off > h->size)
			return OUT_FAIL;
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[2] : h->size - off;
		if (len > h->size - off)
			return OUT_FAIL;
		return ra_madvise(m, t, h->val + off, len, (int)op->a[0]) ? OUT_FAIL : OUT_OK;
	}
	case RA_OP_MUNMAP:
		if ((r = uwant(rp, op, t, 0, UMEM_MASK, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL)
			return OUT_OK;
		if (ra_munmap(m, t, h->val, h->size))
			return OUT_FAIL;
		h->state = HS_FREED;
		rp_twin_gone(rp, h);
		return OUT_OK;
	case RA_OP_BRK: {
		/* A break moved below where malloc's own sbrk left it takes memory
		 * malloc holds. The kernel would grant it (only a break below
		 * start_brk is refused) and the program crash later: a segfault
		 * in malloc, or glibc's "break adjusted to free malloc space" at
		 * the next sbrk. As with any misuse libc catches: reported, and
		 * refused, so the heap stays whole. */
		struct ra_mm *mm = t->mm;
		uint64_t nb = mm->brk + (uint64_t)op->a[0];
		if (op->a[0] < 0 && nb < mm->brk && nb >= mm->start_brk && nb < mm->malloc_brk) {
			ra_report(m, RC_HEAP_CORRUPTION, "malloc", "%s[%u]: break adjusted to free malloc space: sbrk(%" PRId64
			          ") would move the break from 0x%" PRIx64 " to 0x%" PRIx64 ", below the heap's end at 0x%" PRIx64
			          "; refused", t->comm, t->pid, op->a[0], mm->brk, nb, mm->malloc_brk);
			return OUT_FAIL;
		}
		return ra_sbrk(m, t, op->a[0]) == UINT64_MAX ? OUT_FAIL : OUT_OK;
	}
	case RA_OP_MLOCKALL:
		return ra_mlockall(m, t, op->flags & RA_OPF_CURRENT, op->flags & RA_OPF_FUTURE) ? OUT_FAIL : OUT_OK;
	case RA_OP_TOUCH: case RA_OP_READ: {
		if ((r = uwant(rp, op, t, 0, UMEM_MASK, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL)
			return OUT_FAIL;
		int64_t off = (op->flags & RA_OPF_HAS_OFF) ? op->a[0] : 0;
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1]
		               : (off >= 0 && (uint64_t)off < h->size ? h->size - (uint64_t)off : 0);
		if (!len)
			return OUT_OK;
		int rc = ra_uaccess(m, t, h->val + (uint64_t)off, len, op->code == RA_OP_TOUCH, NULL);
		return rc ? OUT_FAIL : OUT_OK;
	}
	case RA_OP_OOM_SCORE_ADJ:
		t->oom_score_adj = (int)op->a[0];
		return OUT_OK;
	case RA_OP_OOM_ADJ:
		t->oom_score_adj = ra_oom_score_adj_from_adj((int)op->a[0]);
		return OUT_OK;
	default:
		return rp_trace_error(rp, op, 0, "internal: no executor for '%s'", ra_op_names[op->code]);
	}
}
