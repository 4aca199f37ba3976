/*
 * tool.h — the refalloc-bench program's shared declarations (`refalloc
 * bench ...`), grouped under the file that owns them.  The measuring is
 * the bench library's (bench.h); these files parse command lines, run
 * child processes and write tables and files.
 */
#ifndef RA_BENCH_TOOL_H
#define RA_BENCH_TOOL_H

#include "bench.h"
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* === main.c ============================================================== */

/* snprintf without gcc's truncation guesses about PATH_MAX buffers:
 * truncation is fine for messages */
int sfmt(char *b, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Set by SIGINT/SIGTERM once catch_sigint ran: work stops at the next
 * step, finished results are kept. */
extern volatile sig_atomic_t g_stop;
void catch_sigint(void);

struct opts {
	const char *alloc, *out, *output, *workload;
	uint64_t seed;
	double scale;
	int runs, quick;
	const char **sets;
	unsigned nsets;
	const char **knobs;
	unsigned nknobs;
	const char **pos;
	int npos;
};
/* Every --set is NAME=VALUE of a knob: 0, or 64 after a message. */
int check_sets(const char *const *sets, unsigned n);

static inline double fmt_mib(uint64_t b) { return (double)b / 1048576.0; }

/* === allocs.c ============================================================ */

struct alloc {
	const char *name;
	const char *soname;        /* NULL: glibc (no preload); "" the engine; "@" librefalloc_malloc.so */
	char lib[PATH_MAX];        /* resolved preload path */
	int available;
	int conform;               /* -1 not run, 1 ok, 0 failed */
	char conform_msg[512], repro[PATH_MAX + 256];
};
#define NALLOCS 6
extern struct alloc ALLOCS[NALLOCS];      /* ALLOCS[0] is the engine */
extern char BDIR[PATH_MAX];               /* the build directory this program lives in */

void find_bdir(void);
void resolve_allocs(void);
/* "engine,glibc" -> selection mask; -1 on an unknown name. */
int  parse_allocs(const char *list, int *sel);
/* Run argv with LD_PRELOAD=preload (NULL: none), stdout/stderr to files.
 * Returns the exit status, or 128+signal. */
int  run_child(const char *preload, char *const argv[], const char *out, const char *err);
char *slurp(const char *path, size_t *len);
/* The conformance pass of a, once (results under outdir). */
void conform_one(struct alloc *a, const char *outdir);
void conform_json(FILE *f);

/* === runner.c ============================================================ */

/* A file, or a workload name ("server", "server:7" for seed 7). */
struct ra_trace *load_trace(const char *arg, uint64_t seed, double scale, int *exitcode);
void stem_of(const char *file, char *out, size_t len);

struct replay_cfg {
	int sel[8];
	int runs;
	const char *outroot;          /* results go to OUTROOT/<stem>/ */
	const char *const *sets;
	unsigned nsets;
	int quiet;
};
#define W_CONFORM 2000                /* progress weight of a conformance pass */
uint64_t trace_weight(const struct ra_trace *t, int engine, int runs);
/* Replay one trace against the selected allocators; results under
 * outroot/<stem>/.  Returns 0, 1 when an allocator failed, -2 when
 * interrupted, 2 on a bad trace. */
int  replay_trace(const struct ra_trace *t, const char *stem, const struct replay_cfg *c,
                  struct bench_progress *pg, FILE *index_entries);
int  sub_replay(struct opts *o);
int  sub_conform(struct opts *o);

/* === sweep.c ============================================================= */

extern const char *const SWEEP_METRICS[];   /* NULL-terminated */
void sweep_metrics(struct bench_result *r, double *v);
int  do_sweep(const char *workload, uint64_t seed, double scale, const char *const *knobs, unsigned nknobs,
              const char *outdir, struct bench_progress *outer, int quiet);
int  sub_sweep(struct opts *o);

/* === suite.c ============================================================= */

int  sub_run(struct opts *o);
int  sub_figures(struct opts *o);

/* === fit.c =============================================================== */

int  sub_fit(struct opts *o);

#endif /* RA_BENCH_TOOL_H */
