/*
 * replay.h — the replay executor's state, shared by replay.c (kernel side,
 * control operations, the loop) and replay_user.c (tasks and user memory).
 */
#ifndef RA_REPLAY_H
#define RA_REPLAY_H

#include "refalloc/trace.h"
#include "views.h"
#include "oom.h"

/* Outcome of one operation (trace.h's enum ra_op_outcome). */
enum {
	OUT_OK = RA_OUTCOME_OK,
	OUT_FAIL = RA_OUTCOME_FAIL,                /* a modelled failure or a refused misuse */
	OUT_TRACE_ERROR = RA_OUTCOME_TRACE_ERROR,  /* the trace is wrong here: exit 2 */
	OUT_PANIC = RA_OUTCOME_PANIC,              /* kernel panic: exit 3 */
	OUT_HOST_ERROR = RA_OUTCOME_HOST_ERROR,
};

enum hkind {
	HK_NONE, HK_PAGES, HK_KMALLOC, HK_CACHE, HK_CACHE_OBJ, HK_VMALLOC, HK_IOREMAP, HK_BALLOON,
	HK_TASK, HK_UCHUNK, HK_UMMAP, HK_FILE, HK_SWAP, HK_NR
};
enum hstate { HS_UNBOUND = 0, HS_NULL, HS_LIVE, HS_FREED };

extern const char *const ra_hkind_names[HK_NR];

struct rhandle {
	uint8_t  kind, state;
	uint32_t line;             /* where it was bound */
	uint32_t aux;              /* order, balloon id, cache name id, task id, file id */
	uint64_t val;              /* address (0 = NULL) */
	uint64_t size;             /* requested size */
	void    *ptr;              /* cache, task */
	uintptr_t twin;            /* host-heap twin (leak cross-checks), freed with the object; stored
	                              masked (replay.c), 0 for none */
};

struct replay {
	const struct ra_trace *t;
	const struct ra_replay_opts *o;
	ra_machine *m;
	FILE *out, *err;
	struct rhandle *kh;        /* kernel-side handles by name id */
	struct ra_replay_stats st;
	const struct ra_op *last_op;
	int last_outcome;
	uint64_t last_op_seq;
	uint64_t pending_reports;  /* reports of the last op, not yet acknowledged */
	uint64_t unexpected_reports, failures, invariant_problems;
	bool stopped;
	void *user;                /* replay_user.c's state */
	struct oracle *oracle;     /* oracle.c, with opts.oracle */
	int twins;                 /* 0 none, 1 objects not contiguous on the host, 2 all */
	uint64_t leaked;
	uint64_t oracle_failures;
	struct ra_replay_event ev; /* the hook's view of the current operation (rp_bind fills in
	                              what it bound) */
};

int  rp_trace_error(struct replay *rp, const struct ra_op *op, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rp_failure(struct replay *rp, const struct ra_op *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int  rp_bind(struct replay *rp, struct rhandle *table, const struct ra_op *op, uint32_t consumed, int kind,
             uint64_t val, uint64_t size, uint32_t aux, void *ptr);

/* replay_user.c: tasks and user memory */
int  rp_exec_user(struct replay *rp, const struct ra_op *op);
void rp_user_fini(struct replay *rp);
bool rp_was_oom_killed(struct replay *rp, const char *name, uint64_t since);
/* The current task failed to come into being (task/@t on NULL): user
 * operations then fail instead of being trace errors. */
bool rp_null_current(struct replay *rp);
/* A task's user handle table (created on first use). */
struct ra_task;
struct rhandle *rp_user_table(struct replay *rp, struct ra_task *t);
/* The current task's user handle `name` (a malloc block or mapping), or
 * NULL when there is no current task or the name is not one there. */
struct rhandle *rp_user_handle(struct replay *rp, uint32_t name, struct ra_task **tp);

/* oracle.c */
void or_init(struct replay *rp);
void or_fini(struct replay *rp);
void or_before(struct replay *rp, const struct ra_op *op);
void or_after(struct replay *rp, const struct ra_op *op, int outcome, unsigned long new_reports);
void or_end(struct replay *rp);

/* Twins: a host-heap block per simulated object of the trace, allocated and
 * freed with it, so that LeakSanitizer (and Valgrind, for what it cannot
 * see as blocks) count the trace's leaks independently of the engine. */
void rp_twin_bound(struct replay *rp, struct rhandle *h);
void rp_twin_gone(struct replay *rp, struct rhandle *h);
/* h's object was freed (by the engine's verdict): h and, when h was a stale
 * name, any live name of table at the same address (see replay.c). */
void rp_freed(struct replay *rp, struct rhandle *table, struct rhandle *h);
void rp_twins_of_dead_tasks(struct replay *rp);
void rp_twins_fork(struct replay *rp, struct rhandle *table, uint32_t n);

/* leak.c: returns the number of leaked objects */
int  rp_leak_report(struct replay *rp, int mode);

#endif
