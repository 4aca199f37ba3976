/*
 * trace.h — traces, the lingua franca: the text format of
 * docs/trace-format.md parsed into an array of operations (the IR every
 * front end produces: the text parser, the binary fuzz decoder, importers),
 * and the replay of that array against a fresh machine.
 */
#ifndef REFALLOC_TRACE_H
#define REFALLOC_TRACE_H

#include "refalloc/refalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(code, "name", side) — side: K kernel, U user (needs a task), C control */
#define RA_OP_LIST(X) \
	X(MACHINE, "machine", 'C') X(SYSCTL, "sysctl", 'C') X(SLUB_DEBUG, "slub_debug", 'C') \
	X(ALLOC_PAGES, "alloc_pages", 'K') X(FREE_PAGES, "free_pages", 'K') \
	X(KMALLOC, "kmalloc", 'K') X(KZALLOC, "kzalloc", 'K') X(KREALLOC, "krealloc", 'K') X(KFREE, "kfree", 'K') \
	X(CACHE_CREATE, "kmem_cache_create", 'K') X(CACHE_ALLOC, "kmem_cache_alloc", 'K') \
	X(CACHE_FREE, "kmem_cache_free", 'K') X(CACHE_SHRINK, "kmem_cache_shrink", 'K') \
	X(CACHE_DESTROY, "kmem_cache_destroy", 'K') \
	X(VMALLOC, "vmalloc", 'K') X(VZALLOC, "vzalloc", 'K') X(VFREE, "vfree", 'K') \
	X(IOREMAP, "ioremap", 'K') X(IOUNMAP, "iounmap", 'K') \
	X(POKE, "poke", 'K') X(PEEK, "peek", 'K') X(CPU, "cpu", 'C') \
	X(TASK, "task", 'C') X(SWITCH, "@", 'C') X(FORK, "fork", 'U') X(EXIT, "exit", 'U') \
	X(MALLOC, "malloc", 'U') X(CALLOC, "calloc", 'U') X(REALLOC, "realloc", 'U') \
	X(MEMALIGN, "memalign", 'U') X(FREE, "free", 'U') X(MALLOPT, "mallopt", 'U') \
	X(MALLOC_TRIM, "malloc_trim", 'U') X(MMAP, "mmap", 'U') X(MUNMAP, "munmap", 'U') X(BRK, "brk", 'U') \
	X(MLOCKALL, "mlockall", 'U') X(TOUCH, "touch", 'U') X(READ, "read", 'U') \
	X(OOM_SCORE_ADJ, "oom_score_adj", 'U') X(OOM_ADJ, "oom_adj", 'U') \
	X(FAIL, "fail", 'C') X(BALLOON, "balloon", 'K') X(UNBALLOON, "unballoon", 'K') \
	X(CHECK, "check", 'C') X(DUMP, "dump", 'C') X(EXPECT, "expect", 'C') \
	X(FILE, "file", 'K') X(FREAD, "fread", 'K') X(FWRITE, "fwrite", 'K') X(FSYNC, "fsync", 'K') \
	X(FTRUNCATE, "ftruncate", 'K') X(FUNLINK, "funlink", 'K') X(FADVISE, "fadvise", 'K') \
	X(SLEEP, "sleep", 'C') X(MSYNC, "msync", 'U') X(SWAPON, "swapon", 'K') X(SWAPOFF, "swapoff", 'K') \
	X(MADVISE, "madvise", 'U')

enum ra_opcode {
#define RA_OP_ENUM(code, name, side) RA_OP_##code,
	RA_OP_LIST(RA_OP_ENUM)
#undef RA_OP_ENUM
	RA_OP_NR
};

extern const char *const ra_op_names[RA_OP_NR];
extern const char ra_op_side[RA_OP_NR];

#define RA_NONAME UINT32_MAX
#define RA_SLEEP_MAX_MS (1ll << 40)   /* one sleep: about 35 years of simulated time */
#define RA_OP_NARGS 6

/* Flags of an op (op.flags) */
#define RA_OPF_POPULATE   0x01   /* mmap populate */
#define RA_OPF_LOCKED     0x02   /* mmap locked */
#define RA_OPF_CURRENT    0x04   /* mlockall current */
#define RA_OPF_FUTURE     0x08   /* mlockall future */
#define RA_OPF_FULL       0x10   /* check full */
#define RA_OPF_HAS_OFF    0x20   /* touch/read with OFFSET */
#define RA_OPF_HAS_LEN    0x40   /* touch/read with LEN */
#define RA_OPF_HAS_ALIGN  0x80
#define RA_OPF_HAS_ADJ    0x100  /* task oom_score_adj= */
#define RA_OPF_HAS_BYTE   0x200  /* poke byte=, fwrite byte= */
#define RA_OPF_TMPFS      0x400  /* file ... tmpfs */
#define RA_OPF_FILEMAP    0x800  /* mmap file=F (h[0]; offset= in a[2]) */
#define RA_OPF_SHARED     0x1000 /* mmap ... shared (MAP_SHARED) */
#define RA_OPF_ZRAM       0x2000 /* swapon ... zram */
#define RA_OPF_HAS_PRIO   0x4000 /* swapon prio= */

/* madvise advice (a[0]); OFFSET in a[1] and LEN in a[2] with
 * RA_OPF_HAS_OFF / RA_OPF_HAS_LEN */
enum { RA_MADV_DONTNEED, RA_MADV_FREE, RA_MADV_COLD, RA_MADV_PAGEOUT, RA_MADV_WILLNEED, RA_MADV_NR };
extern const char *const ra_madv_names[RA_MADV_NR];

/* expect kinds (a[0]) */
/* expect any (extension): the previous operation is deliberate misuse; a
 * report is acknowledged but not required, the outcome is not checked. */
enum { RA_EXPECT_OK, RA_EXPECT_FAIL, RA_EXPECT_OOM_KILL, RA_EXPECT_ANY };

/* One operation. Numeric arguments in a[], handle arguments as name ids in
 * h[] (into the trace's name table), the bound name in out, a string
 * argument (cache/task/view name, knob assignment, slub_debug spec) as an
 * offset into the string pool (str, RA_NONAME if none). */
struct ra_op {
	uint16_t code;
	uint16_t col;                 /* column of the operation's first token */
	uint32_t line;
	uint32_t flags;
	uint32_t gfp;
	int64_t  a[RA_OP_NARGS];
	uint32_t h[2];
	uint32_t out;
	uint32_t str;
	uint16_t hcol[2];             /* columns of h[0], h[1] (for errors) */
};

struct ra_trace {
	char     *file;
	struct ra_op *ops;
	uint32_t  nops, cap;
	char    **names;              /* handle names by id */
	uint32_t  nnames, names_cap;
	uint32_t *hash;               /* open addressing over names, ids+1 */
	uint32_t  hash_cap;
	char     *pool;               /* strings, NUL-terminated */
	size_t    pool_len, pool_cap;
	int       has_machine;
	struct ra_config cfg;
};

struct ra_trace_error {
	uint32_t line, col;
	char     msg[256];
};

/* Parse text (len bytes, may hold anything) as a trace named file.
 * 0 on success; -1 with err filled ("FILE:LINE:COL: error: MSG"). */
int  ra_trace_parse(const char *file, const char *text, size_t len, struct ra_trace **out, struct ra_trace_error *err);
int  ra_trace_load(const char *path, struct ra_trace **out, struct ra_trace_error *err);
void ra_trace_free(struct ra_trace *t);
/* Building traces programmatically (decoders, importers, tests). */
struct ra_trace *ra_trace_new(const char *file);
struct ra_op *ra_trace_add(struct ra_trace *t, enum ra_opcode code);
uint32_t ra_trace_name(struct ra_trace *t, const char *name, size_t len);
uint32_t ra_trace_str(struct ra_trace *t, const char *s, size_t len);
static inline const char *ra_trace_strp(const struct ra_trace *t, uint32_t off) { return t->pool + off; }
/* Print one op / a whole trace in the text format (round-trips with parse). */
void ra_op_print(const struct ra_trace *t, const struct ra_op *op, FILE *f);
void ra_trace_print(const struct ra_trace *t, FILE *f);

/* Binary traces (trace_bin.c): profiles restrict the operation classes a
 * fuzz target draws ("engine", "buddy", "slab", "vmalloc", "umalloc"). */
int  ra_trace_profile(const char *name);
int  ra_trace_decode(const uint8_t *data, size_t len, int profile, struct ra_trace **out);
int  ra_trace_encode(const struct ra_trace *t, int profile, uint8_t **out, size_t *len, struct ra_trace_error *err);

/* Exit codes of a replay (and of `refalloc replay`). */
enum ra_exit {
	RA_EXIT_OK = 0,        /* every check and expect held */
	RA_EXIT_FAIL = 1,      /* an expect or invariant failed, or corruption was reported */
	RA_EXIT_TRACE = 2,     /* the trace could not be read */
	RA_EXIT_PANIC = 3,     /* the simulated kernel panicked (vm.panic_on_oom) */
	RA_EXIT_USAGE = 64,    /* bad command line */
	RA_EXIT_INTERNAL = 70, /* host failure (out of host memory, I/O) */
};

/* === The per-operation hook ============================================
 *
 * ra_replay is the one executor of trace operations. A tool that needs to
 * look at the machine between operations (the bench's samplers, timers,
 * content checks) gives a hook; the replay calls it at these points: */
enum ra_replay_point {
	RA_REPLAY_START,    /* the machine is up (knobs, slub_debug, check level applied); no operation ran */
	RA_REPLAY_BEFORE,   /* op is about to run (the site is set: what the hook does is charged to op) */
	RA_REPLAY_AFTER,    /* op ran: its outcome and what it bound */
	RA_REPLAY_END,      /* the replay is over, the end-of-trace checks done; the machine still exists */
};

/* Outcome of one operation, as `expect` sees it. */
enum ra_op_outcome {
	RA_OUTCOME_OK = 0,
	RA_OUTCOME_FAIL = 1,         /* a modelled failure or a refused misuse */
	RA_OUTCOME_TRACE_ERROR = 2,  /* the trace is wrong here: the replay stops, exit 2 */
	RA_OUTCOME_PANIC = 3,        /* the simulated kernel panicked: the replay stops, exit 3 */
	RA_OUTCOME_HOST_ERROR = 4,   /* the host failed: the replay stops, exit 70 */
};

struct ra_replay_event {
	enum ra_replay_point point;
	const struct ra_trace *t;
	const struct ra_op *op;       /* BEFORE, AFTER; NULL at START and END */
	uint32_t index;               /* op's index in t->ops; END: the operations run (expect lines included) */
	int      outcome;             /* AFTER: enum ra_op_outcome; END: the replay's enum ra_exit code */
	/* AFTER an operation that yields a value (the allocations, realloc and
	 * krealloc, kmem_cache_create, mmap, balloon, task, fork) and binds it
	 * to op->out when the operation names one: */
	int      bound;               /* 1: val and size below are that value */
	uint64_t val;                 /* the address (0: NULL, the operation failed); task and fork: the new
	                                 task's pid (0: none); kmem_cache_create, balloon: 1 done, 0 failed */
	uint64_t size;                /* the bytes it stands for: the request (calloc: n * size, memalign: the
	                                 size), alloc_pages: PAGE_SIZE << order, kmem_cache_alloc: the cache's
	                                 object size */
	/* the current task (0: none) and thread: before op at BEFORE, after it
	 * at AFTER (task, @ and exit change it), at START and END */
	uint32_t pid, tid;
	int      task_alive;          /* the current task is alive (not exited, not OOM-killed) */
};

/* Called at each point with the machine; returning non-zero stops the
 * replay there: from BEFORE, op does not run; no further operation runs,
 * the end-of-trace checks, dumps and leak report are skipped, the END call
 * is still made and ra_replay_stats.stopped is set. What the hook may do:
 * read the machine (refalloc/inspect.h, refalloc/stats.h) and access
 * memory the trace holds (ra_kread, ra_user_read, ra_user_write: page
 * faults and reports it causes are the operation's). It must not execute
 * operations of its own, and should not write user memory when the
 * oracle runs. With no hook the replay costs what it did before. */
typedef int (*ra_replay_hook_fn)(ra_machine *m, const struct ra_replay_event *ev, void *arg);

struct ra_replay_opts {
	enum ra_check_level check;    /* after each operation; the end always gets a full check unless OFF */
	const char *const *sets;      /* "NAME=VALUE" knob assignments: the machine of the `machine` line
	                                 is created with them (ra_machine_create_ex: before it boots) */
	unsigned nsets;
	const char *const *dumps;     /* views printed at the end */
	unsigned ndumps;
	int  leaks;                   /* 0 off, 1 report at the end, 2 report and fail if any */
	const char *slub_debug;       /* slub_debug letters[,cache...] applied before the first operation,
	                                 as the boot parameter would be (NULL: none) */
	int  twins;                   /* host-heap twin per object: 0 off, 2 all (LSan); under Valgrind
	                                 the objects not contiguous on the host always get one */
	uint64_t fail_nth;            /* >0: the nth allocation of any kind fails (allocation-failure replay) */
	int  quiet_errors;            /* do not print reports (fuzzing) */
	int  oracle;                  /* shadow model of every live object checked after every operation */
	int  allow_reports;           /* misuse reports do not fail the replay (fuzzing: what counts is
	                                 invariants, the oracle and the sanitizers) */
	FILE *out, *err;
	ra_replay_hook_fn hook;       /* per-operation hook (above), NULL none */
	void *hook_arg;
};

void ra_replay_opts_default(struct ra_replay_opts *o);
/* What every fuzz target (and `refalloc replay --fuzz`) runs: the oracle,
 * misuse reports allowed, per-operation invariants (raised to at least
 * RA_CHECK_OP), a full walk at the end. Applied over o's current values. */
void ra_replay_opts_fuzz(struct ra_replay_opts *o);
/* Replay t on a fresh machine. Returns an enum ra_exit code. */
int  ra_replay(const struct ra_trace *t, const struct ra_replay_opts *o);
/* Statistics of the last ra_replay in this thread's caller-provided struct. */
struct ra_replay_stats {
	uint64_t ops, allocations, alloc_failures, reports, injected;
	uint64_t oracle_failures, invariant_problems;
	int      panicked;
	int      stopped;             /* the hook stopped the replay */
};
int  ra_replay_ex(const struct ra_trace *t, const struct ra_replay_opts *o, struct ra_replay_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* REFALLOC_TRACE_H */
