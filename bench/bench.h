/*
 * bench.h — the benchmark library (libbench.a, linked into the refalloc
 * tool by bench/bench.mk): workload generators, the samplers that measure
 * the engine through ra_replay's hook, the conversion of user traces into programs
 * for the replay driver, the reading of the driver's results, the metrics
 * every allocator is judged by, and the writers of JSON/CSV/plot data.
 *
 * Declarations are grouped under the file that owns them.  Everything that
 * measures is C; bench/report.py only turns the files written here into
 * report.md and pictures.
 */
#ifndef RA_BENCH_H
#define RA_BENCH_H

#include "refalloc/refalloc.h"
#include "refalloc/trace.h"
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

/* === rng.c: a seeded PRNG and libm-free distributions =================== */

/* xoshiro256**; the distributions use only +, *, / and frexp, so a
 * workload is the same on every machine and libm. */
struct bench_rng { uint64_t s[4]; };
void     bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);
uint64_t bench_rng_below(struct bench_rng *r, uint64_t n);          /* [0, n) */
uint64_t bench_rng_range(struct bench_rng *r, uint64_t lo, uint64_t hi); /* [lo, hi] */
double   bench_rng_unit(struct bench_rng *r);                       /* (0, 1) */
double   bench_rng_exp(struct bench_rng *r, double mean);
uint64_t bench_rng_pareto(struct bench_rng *r, double xmin, double alpha, uint64_t cap);
uint64_t bench_rng_logu(struct bench_rng *r, uint64_t lo, uint64_t hi); /* log-uniform */
double   bench_log(double x);
double   bench_exp(double x);

/* === gen.c: workload generators ========================================= */

struct bench_gen_opts {
	uint64_t seed;        /* default 1 */
	double   scale;       /* operations relative to the default size; default 1 */
};

struct bench_workload {
	const char *name;
	char side;            /* 'U' a user malloc trace (replayable on real allocators), 'K' kernel side */
	const char *help;
	void (*gen)(void *g);
};

/* NULL-terminated table of every workload. */
extern const struct bench_workload bench_workloads[];
const struct bench_workload *bench_workload_find(const char *name);
/* Generate a workload as a trace (named "<name>-s<seed>"); NULL on bad name. */
struct ra_trace *bench_generate(const struct bench_workload *w, const struct bench_gen_opts *o);
/* Print a generated trace with a header comment saying how to make it again. */
void bench_trace_write(const struct ra_trace *t, FILE *f, const char *comment);

/* === metrics.c: what every allocator is measured by ====================== */

/* One point of the memory timeline: after operation `op`, `live` bytes were
 * requested and not freed, the allocator held `foot` bytes. */
struct bench_sample { uint32_t op, pad; uint64_t live, foot; };

/* Johnstone & Wilson's four measures of fragmentation, as fractions
 * ((allocator memory - live memory) / live memory):
 *   avg   #1 over time (time-averaged memory over time-averaged live memory,
 *         time being the operation count)
 *   at_live  #2 at the peak of live memory
 *   at_foot  #3 at the peak of allocator memory
 *   peak  #4 peak allocator memory vs peak live memory */
struct bench_jw {
	double avg, at_live, at_foot, peak;
	uint64_t peak_live, peak_foot, foot_at_peak_live, live_at_peak_foot;
};
void bench_jw_from_samples(const struct bench_sample *s, uint32_t n, struct bench_jw *jw);

struct bench_lat {
	double p50, p90, p99, p999, max, mean;   /* ns, timer overhead subtracted */
};
/* Sorts lat in place. */
void bench_lat_summary(uint32_t *lat, uint64_t n, struct bench_lat *out);
/* CDF points (ns, fraction) of sorted latencies: at most npts rows. */
void bench_lat_cdf_write(const uint32_t *sorted, uint64_t n, FILE *f, unsigned npts);

/* Per kernel-side sample: the page allocator, slab, vmalloc, pressure. */
struct bench_ksample {
	uint32_t op;
	uint64_t nr_free[RA_MAX_ORDER + 1];      /* blocks per order, all zones */
	int16_t  unusable[RA_MAX_ORDER + 1];     /* x1000, largest zone */
	int16_t  fragidx[RA_MAX_ORDER + 1];      /* x1000, largest zone (-1000: a block exists) */
	uint64_t free_pages, used_pages, user_pages, pcp_pages;
	uint64_t slab_pages, slab_slot_bytes, slab_req_bytes, partial_slabs;
	uint64_t vmalloc_areas, vmalloc_pages;
	uint64_t wmark_fail, kswapd_wake, zones_below_low, oom_kills, alloc_fail;
};

/* The machine information every result carries. */
struct bench_host { char arch[65], cpu[128]; long nproc; char date[32]; };
void bench_host_get(struct bench_host *h);
void bench_host_json(FILE *f, const struct bench_host *h);

/* Minimal JSON helpers: a string with escapes, a finite double or null. */
void bench_json_str(FILE *f, const char *s);
void bench_json_num(FILE *f, double v);
/* "FILE:LINE: message" of trace t's op into err[errlen]; returns -1. */
int bench_op_verror(char *err, size_t errlen, const struct ra_trace *t, const struct ra_op *op, const char *fmt,
                    va_list ap) __attribute__((format(printf, 5, 0)));
int bench_op_error(char *err, size_t errlen, const struct ra_trace *t, const struct ra_op *op, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* === esim.c: the engine under the samplers (ra_replay's hook) =========== */

struct bench_run_opts {
	const char *const *sets;       /* knob NAME=VALUE, given to the machine when it is created (before boot) */
	unsigned nsets;
	const char *slub_debug;        /* slub_debug letters for the whole machine, NULL none */
	uint32_t sample_every;         /* 0: about 2000 samples over the trace */
	int      touch;                /* write a cookie and one byte per page of each block (default 1) */
	int      verify_full;          /* fill whole blocks with a pattern, verify it at free/realloc, check calloc zeroes */
	int      time_ops;             /* per-operation latency (default 1) */
	volatile sig_atomic_t *stop;   /* set asynchronously: the run stops early, returns -2 */
};
void bench_run_opts_default(struct bench_run_opts *o);

#define BENCH_HIGH_ORDER_MIN 4      /* orders above PAGE_ALLOC_COSTLY_ORDER */

struct bench_result {
	char     alloc[32];
	int      conform_ok;            /* 1 passed, 0 failed, -1 not run */
	char     conform_msg[512];      /* what failed */
	uint64_t nops, ntimed;
	uint32_t *lat;                  /* ns per timed operation */
	double   timer_overhead_ns;     /* measured, already subtracted */
	double   timer_resolution_ns;   /* the smallest step of the clock */
	const char *timer;              /* "rdtsc" or "clock_gettime" */
	uint64_t wall_ns, op_ns_sum;
	struct bench_sample *samples;
	uint32_t nsamples;
	int      exact_jw;              /* jw computed at every operation (the engine) */
	struct bench_jw jw;
	uint64_t peak_rss;              /* bytes: process maxrss (real) or task hiwater (engine) */
	uint64_t end_foot;              /* allocator memory after the last operation */
	uint64_t mapped_peak;           /* engine: umalloc's peak system+mmapped bytes */
	uint64_t minflt, majflt;
	uint64_t alloc_fail, bad_align, bad_contents, bad_usable;
	const char *foot_kind;          /* what "allocator memory" is */
	/* kernel side (engine only) */
	struct bench_ksample *ks;
	uint32_t nks;
	uint64_t ho_attempts[RA_MAX_ORDER + 1], ho_success[RA_MAX_ORDER + 1];
	uint64_t replay_ns;             /* engine: ra_replay of the whole trace, checks off */
	int      replay_exit;           /* engine: exit code of ra_replay with per-op checks */
	char     note[256];
};
void bench_result_free(struct bench_result *r);

/* Replay t on a fresh machine with the samplers attached.  Returns 0; -1
 * with err filled when the machine could not be made (a bad knob or
 * slub_debug value) or the replay stopped short (FILE:LINE:COL: error: ...
 * for a trace error, FILE:LINE: for a kernel panic); -2 when stopped. */
int bench_engine_run(const struct ra_trace *t, const struct bench_run_opts *o, struct bench_result *r,
                     char *err, size_t errlen);
/* The conformance pass of the engine's malloc (the same checks as
 * bench/conform.c, on simulated tasks): 0 passed, else failures, described
 * in msg. */
int bench_engine_conform(char *msg, size_t len);
/* Does the trace have user-side malloc operations? */
int bench_trace_is_user(const struct ra_trace *t);

/* === prog.c: user traces as programs for the replay driver =============== */

/* Convert a user trace into the driver's program (bench/prog.h) at path.
 * -1 with err "FILE:LINE: ..." when it is not a single-task malloc trace. */
int bench_prog_write(const struct ra_trace *t, const char *path, char *err, size_t errlen);
/* Read a driver result file into r.  -1 with err on a bad file. */
int bench_result_read(const char *path, struct bench_result *r, char *err, size_t errlen);

/* === output.c: results as JSON and plot data ============================= */

void bench_result_json(FILE *f, const struct bench_result *r, const char *trace);
int  bench_result_files(const char *dir, const struct bench_result *r, const char *trace);
void bench_kseries_write(const char *dir, const struct bench_result *r);
int  bench_mkdirs(const char *path);
/* Write the file through a temporary and rename, so an interrupted run
 * never leaves half a file. */
FILE *bench_fopen_atomic(const char *path, char *tmp, size_t tmplen);
int   bench_fclose_atomic(FILE *f, const char *tmp, const char *path);

/* === progress.c ========================================================== */

struct bench_progress { uint64_t done, total; double t0; const char *what; int tty; double last; };
void bench_progress_start(struct bench_progress *p, uint64_t total, const char *what);
void bench_progress_step(struct bench_progress *p, uint64_t weight, const char *label);
void bench_progress_end(struct bench_progress *p);
double bench_now(void);

#endif /* RA_BENCH_H */
