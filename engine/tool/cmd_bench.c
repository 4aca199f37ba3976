/*
 * cmd_bench.c — `refalloc bench`: allocator comparisons, kernel-side
 * metrics, knob sweeps, the suite behind `make bench`, and the figures of
 * the regression gate.  The work is done by the bench library (the C files in bench/,
 * bench/bench.h); this file parses command lines, runs child processes
 * (the replay driver and the conformance pass under LD_PRELOAD, one
 * process per allocator), and prints tables.
 *
 *   refalloc bench list
 *   refalloc bench gen WORKLOAD [--seed N] [--scale X] [-o FILE]
 *   refalloc bench replay TRACE|WORKLOAD [--alloc=A,B,...] [--runs N] [--out DIR] [--set K=V]...
 *   refalloc bench conform [--alloc=A,B,...] [--out DIR]
 *   refalloc bench sweep --workload W --knob NAME=v1,v2,... [--knob ...] [--seed N] [--scale X] [--out DIR]
 *   refalloc bench run [--quick] [--out DIR] [--runs N]
 *   refalloc bench prog TRACE -o FILE
 *   refalloc bench fit TRACE...
 *   refalloc bench figures [--quick]
 *
 * Exit codes: 0 ok; 1 a conformance failure or a failed run; 2 a trace
 * could not be read (FILE:LINE:COL: error: ...); 64 bad command line; 70
 * host failure; 130 interrupted (finished results are kept).
 */
#include "tool.h"
#include "bench.h"
#include "knobs.h"
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* snprintf without gcc's truncation guesses about PATH_MAX buffers:
 * truncation is fine for messages */
static int sfmt(char *b, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sfmt(char *b, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(b, n, fmt, ap);
	va_end(ap);
	return r;
}

/* === allocators ========================================================== */

struct alloc {
	const char *name;
	const char *soname;        /* NULL: glibc (no preload); "" the engine; "@" librefalloc_malloc.so */
	char lib[PATH_MAX];        /* resolved preload path */
	int available;
	int conform;               /* -1 not run, 1 ok, 0 failed */
	char conform_msg[512], repro[PATH_MAX + 256];
};

static struct alloc ALLOCS[] = {
	{ .name = "engine", .soname = "" },
	{ .name = "refalloc", .soname = "@" },
	{ .name = "glibc", .soname = NULL },
	{ .name = "jemalloc", .soname = "libjemalloc.so.2" },
	{ .name = "mimalloc", .soname = "libmimalloc.so.2" },
	{ .name = "tcmalloc", .soname = "libtcmalloc.so.4" },
};
#define NALLOCS ((int)(sizeof(ALLOCS) / sizeof(ALLOCS[0])))

static char BDIR[PATH_MAX];                 /* the build directory this tool lives in */
static volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void catch_sigint(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void find_bdir(void)
{
	ssize_t n = readlink("/proc/self/exe", BDIR, sizeof(BDIR) - 1);
	if (n <= 0) {
		sfmt(BDIR, sizeof(BDIR), "build/release");
		return;
	}
	BDIR[n] = 0;
	char *s = strrchr(BDIR, '/');
	if (s)
		*s = 0;
}

static int exists(const char *p) { return access(p, R_OK) == 0; }

static void resolve_allocs(void)
{
	static const char *dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
	                              "/usr/lib", "/usr/local/lib", NULL };
	for (int i = 0; i < NALLOCS; i++) {
		struct alloc *a = &ALLOCS[i];
		a->conform = -1;
		a->lib[0] = 0;
		if (!a->soname || !a->soname[0]) {
			a->available = 1;
			continue;
		}
		if (!strcmp(a->soname, "@"))
			sfmt(a->lib, sizeof(a->lib), "%s/librefalloc_malloc.so", BDIR);
		else
			for (int d = 0; dirs[d]; d++) {
				sfmt(a->lib, sizeof(a->lib), "%s/%s", dirs[d], a->soname);
				if (exists(a->lib))
					break;
			}
		a->available = exists(a->lib);
	}
}

static struct alloc *alloc_find(const char *name)
{
	for (int i = 0; i < NALLOCS; i++)
		if (!strcmp(ALLOCS[i].name, name))
			return &ALLOCS[i];
	return NULL;
}

/* "engine,glibc" -> selection mask; -1 on an unknown name. */
static int parse_allocs(const char *list, int *sel)
{
	memset(sel, 0, NALLOCS * sizeof(int));
	char buf[256];
	sfmt(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (int i = 0; i < NALLOCS; i++)
				sel[i] = 1;
			continue;
		}
		struct alloc *a = alloc_find(tok);
		if (!a) {
			fprintf(stderr, "refalloc bench: unknown allocator '%s' (engine, refalloc, glibc, jemalloc, mimalloc, "
			        "tcmalloc, all)\n", tok);
			return -1;
		}
		sel[a - ALLOCS] = 1;
	}
	return 0;
}

/* === child processes ===================================================== */

/* Run argv with LD_PRELOAD=preload (NULL: none), stdout/stderr to files.
 * Returns the exit status, or 128+signal. */
static int run_child(const char *preload, char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666);
			if (fd >= 0) {
				dup2(fd, 1);
				close(fd);
			}
		}
		int fd = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		if (preload)
			setenv("LD_PRELOAD", preload, 1);
		else
			unsetenv("LD_PRELOAD");
		signal(SIGINT, SIG_DFL);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	size_t k;
	while (b && (k = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (n + 1 == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	if (b)
		b[n] = 0;
	if (len)
		*len = n;
	return b;
}

/* === conformance ========================================================= */

static void conform_one(struct alloc *a, const char *outdir)
{
	if (a->conform >= 0 || !a->available)
		return;
	if (!strcmp(a->name, "engine")) {
		a->conform = !bench_engine_conform(a->conform_msg, sizeof(a->conform_msg));
		sfmt(a->repro, sizeof(a->repro), "refalloc bench conform --alloc=engine");
		return;
	}
	char exe[PATH_MAX + 32], out[PATH_MAX + 64], err[PATH_MAX + 64];
	sfmt(exe, sizeof(exe), "%s/bench/conform", BDIR);
	sfmt(out, sizeof(out), "%s/conform-%s.txt", outdir, a->name);
	sfmt(err, sizeof(err), "%s/conform-%s.err", outdir, a->name);
	char *argv[] = { exe, NULL };
	int rc = run_child(a->soname ? a->lib : NULL, argv, out, err);
	if (g_stop || rc == 128 + SIGINT || rc == 128 + SIGTERM) {
		a->conform = -1;                 /* interrupted: not a verdict */
		sfmt(a->conform_msg, sizeof(a->conform_msg), "interrupted");
		return;
	}
	char *text = slurp(out, NULL);
	char check[64] = "", last[64] = "";
	a->conform = rc == 0;
	a->conform_msg[0] = 0;
	for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "... ", 4))
			sfmt(last, sizeof(last), "%s", l + 4);
		if (!strncmp(l, "FAIL ", 5) && !a->conform_msg[0]) {
			sfmt(a->conform_msg, sizeof(a->conform_msg), "%s", l + 5);
			sfmt(check, sizeof(check), "%s", last);
		}
	}
	if (rc && !a->conform_msg[0]) {
		if (rc == 127)
			sfmt(a->conform_msg, sizeof(a->conform_msg), "%s could not be run", exe);
		else if (rc > 128)
			sfmt(a->conform_msg, sizeof(a->conform_msg), "crashed with signal %d during check %s", rc - 128,
			         last[0] ? last : "(start-up)");
		else
			sfmt(a->conform_msg, sizeof(a->conform_msg), "exit %d during check %s", rc, last);
		sfmt(check, sizeof(check), "%s", last);
	}
	/* the one command that shows the failure: the failing check alone */
	sfmt(a->repro, sizeof(a->repro), "%s%s%s%s%s%s", a->soname ? "LD_PRELOAD=" : "", a->soname ? a->lib : "",
	     a->soname ? " " : "", exe, !a->conform && check[0] ? " --only " : "", !a->conform ? check : "");
	free(text);
}

static void conform_json(FILE *f)
{
	fputs("{", f);
	int first = 1;
	for (int i = 0; i < NALLOCS; i++) {
		struct alloc *a = &ALLOCS[i];
		fprintf(f, "%s\n    ", first ? "" : ",");
		first = 0;
		bench_json_str(f, a->name);
		fprintf(f, ": {\"available\": %s, \"ok\": %s, \"msg\": ", a->available ? "true" : "false",
		        a->conform < 0 ? "null" : a->conform ? "true" : "false");
		bench_json_str(f, a->conform_msg);
		fputs(", \"repro\": ", f);
		bench_json_str(f, a->repro);
		fputs(", \"lib\": ", f);
		bench_json_str(f, a->lib);
		fputs("}", f);
	}
	fputs("}", f);
}

/* === traces ============================================================== */

/* A file, or a workload name ("server", "server:7" for seed 7). */
static struct ra_trace *load_trace(const char *arg, uint64_t seed, double scale, int *exitcode)
{
	char name[128];
	sfmt(name, sizeof(name), "%s", arg);
	char *colon = strchr(name, ':');
	if (colon) {
		*colon = 0;
		seed = strtoull(colon + 1, NULL, 10);
	}
	const struct bench_workload *w = bench_workload_find(name);
	if (w && access(arg, R_OK) != 0) {
		struct bench_gen_opts go = { .seed = seed, .scale = scale };
		return bench_generate(w, &go);
	}
	struct ra_trace *t;
	struct ra_trace_error e;
	if (ra_trace_load(arg, &t, &e)) {
		if (e.line)
			fprintf(stderr, "%s:%u:%u: error: %s\n", arg, e.line, e.col, e.msg);
		else
			fprintf(stderr, "%s: error: %s (not a file, and not a workload: see `refalloc bench list`)\n", arg, e.msg);
		*exitcode = RA_EXIT_TRACE;
		return NULL;
	}
	return t;
}

static void stem_of(const char *file, char *out, size_t len)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	sfmt(out, len, "%s", b);
	char *dot = strstr(out, ".trace");
	if (dot)
		*dot = 0;
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			*p = '_';
}

/* === replay ============================================================== */

struct replay_cfg {
	int sel[8];
	int runs;
	const char *outroot;          /* results go to OUTROOT/<stem>/ */
	const char *const *sets;
	unsigned nsets;
	int quiet;
};

/* Progress weights, in estimated milliseconds on the 2-core machine this
 * was written on: the estimate only needs the proportions right. */
#define W_CONFORM 2000
static uint64_t trace_weight(const struct ra_trace *t, int engine, int runs)
{
	if (engine)   /* the stepped runs, then ra_replay twice */
		return (uint64_t)runs * (t->nops / 2000 + 5) + t->nops / 1000;
	return (uint64_t)runs * (t->nops / 5000 + 30);
}

static int cmp_wall(const void *a, const void *b)
{
	const struct bench_result *x = a, *y = b;
	return x->wall_ns < y->wall_ns ? -1 : x->wall_ns > y->wall_ns;
}

/* Median of runs by wall time; the others are freed. */
static void keep_median(struct bench_result *rs, int n, struct bench_result *out)
{
	qsort(rs, (size_t)n, sizeof(*rs), cmp_wall);
	*out = rs[n / 2];
	for (int i = 0; i < n; i++)
		if (i != n / 2)
			bench_result_free(&rs[i]);
}

static int run_engine(const struct ra_trace *t, const struct replay_cfg *c, struct bench_result *out, char *err,
                      size_t errlen)
{
	struct bench_run_opts o;
	bench_run_opts_default(&o);
	o.sets = c->sets;
	o.nsets = c->nsets;
	o.stop = &g_stop;
	struct bench_result rs[9];
	int n = 0, rc = 0;
	for (; n < c->runs && !rc; n++) {
		rc = bench_engine_run(t, &o, &rs[n], err, errlen);
		if (rc)
			bench_result_free(&rs[n]);
	}
	if (rc)
		return rc;
	keep_median(rs, n, out);
	/* and the whole trace through ra_replay: its time with checks off, its
	 * exit code with per-operation invariant checks */
	struct ra_replay_opts ro;
	ra_replay_opts_default(&ro);
	ro.out = NULL;
	ro.quiet_errors = 1;
	ro.sets = c->sets;
	ro.nsets = c->nsets;
	double t0 = bench_now();
	ra_replay(t, &ro);
	out->replay_ns = (uint64_t)((bench_now() - t0) * 1e9);
	ro.check = RA_CHECK_OP;
	out->replay_exit = ra_replay(t, &ro);
	return 0;
}

static int run_real(struct alloc *a, const char *prog, const char *dir, const struct replay_cfg *c,
                    struct bench_result *out, char *err, size_t errlen)
{
	char exe[PATH_MAX + 32], res[PATH_MAX + 64], log[PATH_MAX + 64];
	sfmt(exe, sizeof(exe), "%s/bench/driver", BDIR);
	sfmt(res, sizeof(res), "%s/%s.result", dir, a->name);
	sfmt(log, sizeof(log), "%s/%s.driver.err", dir, a->name);
	struct bench_result rs[9];
	int n = 0;
	for (; n < c->runs; n++) {
		char *argv[] = { exe, (char *)prog, res, NULL };
		int rc = run_child(a->soname ? a->lib : NULL, argv, NULL, log);
		memset(&rs[n], 0, sizeof(rs[n]));
		if (rc) {
			char *why = slurp(log, NULL);
			if (why)
				why[strcspn(why, "\n")] = 0;
			if (rc > 128)
				sfmt(err, errlen, "the replay driver was killed by signal %d%s%s", rc - 128, why && *why ? ": " : "",
				         why ? why : "");
			else
				sfmt(err, errlen, "the replay driver exited %d%s%s", rc, why && *why ? ": " : "", why ? why : "");
			free(why);
			for (int i = 0; i < n; i++)
				bench_result_free(&rs[i]);
			return rc > 128 && g_stop ? -2 : -1;
		}
		if (bench_result_read(res, &rs[n], err, errlen)) {
			bench_result_free(&rs[n]);
			for (int i = 0; i < n; i++)
				bench_result_free(&rs[i]);
			return -1;
		}
	}
	unlink(res);
	keep_median(rs, n, out);
	return 0;
}

static double fmt_mib(uint64_t b) { return (double)b / 1048576.0; }

static void print_row(const struct bench_result *r, int conform)
{
	struct bench_lat l;
	uint32_t *copy = malloc((r->ntimed + 1) * sizeof(uint32_t));
	if (!copy)
		return;
	memcpy(copy, r->lat, r->ntimed * sizeof(uint32_t));
	bench_lat_summary(copy, r->ntimed, &l);
	free(copy);
	printf("  %-9s %-5s %9.1f %8.1f %6.0f %6.0f %7.0f %8.0f %9.0f %9.1f %8.1f %9" PRIu64 " %6.3f %6.3f %6.3f %6.3f\n",
	       r->alloc, conform < 0 ? "-" : conform ? "ok" : "FAIL", r->wall_ns / 1e6, r->op_ns_sum / 1e6, l.p50, l.p90, l.p99, l.p999, l.max,
	       fmt_mib(r->jw.peak_foot), fmt_mib(r->end_foot), r->minflt, r->jw.avg, r->jw.at_live, r->jw.at_foot,
	       r->jw.peak);
}

static void print_header(void)
{
	printf("  %-9s %-5s %9s %8s %6s %6s %7s %8s %9s %9s %8s %9s %6s %6s %6s %6s\n", "alloc", "conf", "wall ms",
	       "op ms", "p50", "p90", "p99", "p99.9", "max ns", "peak MiB", "end MiB", "minflt", "frag1", "frag2",
	       "frag3", "frag4");
}

/* Replay one trace against the selected allocators; results under
 * outroot/<stem>/.  Returns 0, 1 when an allocator failed, -2 when
 * interrupted, 2 on a bad trace. */
static int replay_trace(const struct ra_trace *t, const char *stem, const struct replay_cfg *c,
                        struct bench_progress *pg, FILE *index_entries)
{
	char dir[PATH_MAX], prog[PATH_MAX + 16], err[1024];
	sfmt(dir, sizeof(dir), "%s/%s", c->outroot, stem);
	if (bench_mkdirs(dir)) {
		fprintf(stderr, "refalloc bench: cannot create %s: %s\n", dir, strerror(errno));
		return RA_EXIT_INTERNAL;
	}
	/* replayable on real allocators: a single task's malloc trace */
	int ntasks = 0;
	for (uint32_t i = 0; i < t->nops; i++)
		ntasks += t->ops[i].code == RA_OP_TASK;
	int user = bench_trace_is_user(t) && ntasks <= 1, status = 0;
	int sel[8];
	memcpy(sel, c->sel, sizeof(sel));
	int want_real = 0;
	for (int i = 1; i < NALLOCS; i++)
		want_real |= sel[i] && ALLOCS[i].available;
	sfmt(prog, sizeof(prog), "%s/prog.bin", dir);
	char progerr[512] = "";
	if (want_real && (!user || bench_prog_write(t, prog, progerr, sizeof(progerr)))) {
		if (!user)
			sfmt(progerr, sizeof(progerr), "%s: %s: only the engine runs it", t->file,
			     ntasks > 1 ? "several tasks" : "a kernel-side trace");
		for (int i = 1; i < NALLOCS; i++)
			sel[i] = 0;
		if (user) {
			fprintf(stderr, "refalloc bench: %s\n", progerr);
			status = RA_EXIT_TRACE;
		}
	}
	char tmp[PATH_MAX + 32], sp[PATH_MAX + 16];
	sfmt(sp, sizeof(sp), "%s/summary.json", dir);
	FILE *sum = bench_fopen_atomic(sp, tmp, sizeof(tmp));
	if (!sum)
		return RA_EXIT_INTERNAL;
	struct bench_host h;
	bench_host_get(&h);
	fputs("{\"trace\": ", sum);
	bench_json_str(sum, t->file);
	fputs(", \"name\": ", sum);
	bench_json_str(sum, stem);
	fprintf(sum, ", \"kind\": \"%s\", \"trace_ops\": %u, \"runs\": %d, \"host\": ", user ? "user" : "kernel", t->nops, c->runs);
	bench_host_json(sum, &h);
	fputs(", \"note\": ", sum);
	bench_json_str(sum, progerr);
	fputs(", \"allocs\": [", sum);
	if (!c->quiet) {
		printf("%s: %u operations (%s side)\n", t->file, t->nops, user ? "user" : "kernel");
		print_header();
	}
	int nres = 0;
	for (int i = 0; i < NALLOCS && !g_stop; i++) {
		struct alloc *a = &ALLOCS[i];
		if (!sel[i])
			continue;
		if (!a->available) {
			if (!c->quiet)
				printf("  %-9s not available (%s not found)\n", a->name, a->lib[0] ? a->lib : a->soname);
			continue;
		}
		char label[256];
		sfmt(label, sizeof(label), "%s / %s", stem, a->name);
		if (pg)
			bench_progress_step(pg, 0, label);
		conform_one(a, c->outroot);
		if (g_stop)
			break;
		struct bench_result r;
		memset(&r, 0, sizeof(r));
		int rc = i == 0 ? run_engine(t, c, &r, err, sizeof(err)) : run_real(a, prog, dir, c, &r, err, sizeof(err));
		if (pg)
			pg->done += trace_weight(t, i == 0, c->runs);
		if (rc == -2)
			break;
		sfmt(r.alloc, sizeof(r.alloc), "%s", a->name);
		if (rc) {
			/* no numbers: the failure is the result */
			fprintf(stderr, "refalloc bench: %s on %s: %s\n", a->name, t->file, err);
			memset(&r, 0, sizeof(r));
			sfmt(r.alloc, sizeof(r.alloc), "%s", a->name);
			r.conform_ok = 0;
			sfmt(r.conform_msg, sizeof(r.conform_msg), "%s", err);
			status = status ? status : 1;
		} else {
			int replay_bad = r.bad_align || r.bad_contents || r.bad_usable;
			if (!r.conform_msg[0] && replay_bad)
				sfmt(r.conform_msg, sizeof(r.conform_msg), "bad blocks during the replay");
			r.conform_ok = a->conform > 0 && !replay_bad && (i != 0 || r.replay_exit == 0);
			if (i == 0 && r.replay_exit && !r.conform_msg[0])
				sfmt(r.conform_msg, sizeof(r.conform_msg), "refalloc replay --check=op exits %d", r.replay_exit);
			if (a->conform == 0)
				sfmt(r.conform_msg, sizeof(r.conform_msg), "conformance: %s", a->conform_msg);
			if (!r.conform_ok)
				status = status ? status : 1;
		}
		if (!rc && !c->quiet)
			print_row(&r, r.conform_ok);
		else if (rc && !c->quiet)
			printf("  %-9s FAILED: %s\n", a->name, err);
		sfmt(r.note, sizeof(r.note), "%s", r.conform_ok ? "" : (a->conform == 0 ? a->repro : ""));
		if (!r.conform_ok && a->conform != 0)
			sfmt(r.note, sizeof(r.note), "refalloc bench replay %s --alloc=%s --runs 1", t->file, a->name);
		if (bench_result_files(dir, &r, t->file) == 0) {
			fprintf(sum, "%s\"%s\"", nres++ ? ", " : "", a->name);
		}
		bench_result_free(&r);
	}
	fputs("], \"conform\": ", sum);
	conform_json(sum);
	fputs("}\n", sum);
	bench_fclose_atomic(sum, tmp, sp);
	if (index_entries) {
		fputs(index_entries == stdout ? "" : "", index_entries);
	}
	if (!c->quiet)
		printf("  results: %s/\n", dir);
	return g_stop ? -2 : status;
}

/* === option helpers ====================================================== */

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

static int parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->scale = 1;
	o->sets = calloc((size_t)argc + 1, sizeof(char *));
	o->knobs = calloc((size_t)argc + 1, sizeof(char *));
	o->pos = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->sets || !o->knobs || !o->pos)
		return RA_EXIT_INTERNAL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
#define OPT(name) ((!strcmp(a, name) && i + 1 < argc && (v = argv[++i])) || \
                   (!strncmp(a, name "=", strlen(name) + 1) && (v = a + strlen(name) + 1)))
		if (OPT("--alloc")) o->alloc = v;
		else if (OPT("--out")) o->out = v;
		else if (OPT("-o")) o->output = v;
		else if (OPT("--workload")) o->workload = v;
		else if (OPT("--set")) o->sets[o->nsets++] = v;
		else if (OPT("--knob")) o->knobs[o->nknobs++] = v;
		else if (OPT("--seed")) {
			char *e;
			o->seed = strtoull(v, &e, 0);
			if (*e || !o->seed) { fprintf(stderr, "refalloc bench: --seed takes a number >= 1\n"); return RA_EXIT_USAGE; }
		} else if (OPT("--scale")) {
			char *e;
			o->scale = strtod(v, &e);
			if (*e || !(o->scale > 0) || o->scale > 100) { fprintf(stderr, "refalloc bench: --scale takes 0 < X <= 100\n"); return RA_EXIT_USAGE; }
		} else if (OPT("--runs")) {
			char *e;
			o->runs = (int)strtol(v, &e, 10);
			if (*e || o->runs < 1 || o->runs > 9) { fprintf(stderr, "refalloc bench: --runs takes 1 .. 9\n"); return RA_EXIT_USAGE; }
		} else if (!strcmp(a, "--quick")) o->quick = 1;
		else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "refalloc bench: unknown or incomplete option %s (see refalloc bench --help)\n", a);
			return RA_EXIT_USAGE;
		} else
			o->pos[o->npos++] = a;
#undef OPT
	}
	return 0;
}

static void free_opts(struct opts *o)
{
	free(o->sets);
	free(o->knobs);
	free(o->pos);
}

static int check_sets(const char *const *sets, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const char *eq = strchr(sets[i], '=');
		if (!eq || ra_knob_lookup(sets[i], (size_t)(eq - sets[i])) < 0) {
			fprintf(stderr, "refalloc bench: --set %s: not NAME=VALUE of a knob (see `refalloc knobs`)\n", sets[i]);
			return RA_EXIT_USAGE;
		}
	}
	return 0;
}

/* === subcommands ========================================================= */

static void usage(FILE *f)
{
	fputs("usage: refalloc bench SUBCOMMAND [ARGS]\n"
	      "\n"
	      "  list                                  the workloads\n"
	      "  gen WORKLOAD [--seed N] [--scale X] [-o FILE]\n"
	      "                                        print a generated workload as a trace\n"
	      "  replay TRACE|WORKLOAD [--alloc=LIST] [--runs N] [--out DIR] [--set K=V]... [--seed N] [--scale X]\n"
	      "                                        replay against allocators: engine, refalloc (librefalloc_malloc.so),\n"
	      "                                        glibc, jemalloc, mimalloc, tcmalloc, all (default: all for a user\n"
	      "                                        trace, engine for a kernel one); latency, RSS, faults,\n"
	      "                                        fragmentation; a conformance pass first (default out: out/bench/replay)\n"
	      "  conform [--alloc=LIST] [--out DIR]    only the conformance pass\n"
	      "  sweep --workload W --knob NAME=v1,v2,... [--knob ...] [--seed N] [--scale X] [--out DIR]\n"
	      "                                        the engine over a grid of knob values (any knob of\n"
	      "                                        `refalloc knobs`, and slub_debug=LETTERS); CSV and JSON.\n"
	      "                                        Vector values: separate alternatives with '/' instead of ','\n"
	      "  run [--quick] [--out DIR] [--runs N]  the suite behind `make bench` (then bench/report.py)\n"
	      "  prog TRACE -o FILE                    the replay driver's program for a user trace\n"
	      "  fit TRACE...                          print bench/fitted.h fitted to recorded traces\n"
	      "  figures [--quick]                     deterministic engine figures for the regression gate (JSON)\n"
	      "\n"
	      "exit codes: 0 ok; 1 an allocator failed conformance or a run failed (replay, conform, sweep; `run`\n"
	      "reports such failures in its results and exits 0); 2 a trace could not be read;\n"
	      "64 bad command line; 70 host failure; 130 interrupted (finished results are kept)\n", f);
}

static int sub_list(void)
{
	for (const struct bench_workload *w = bench_workloads; w->name; w++)
		printf("%-20s %s  %s\n", w->name, w->side == 'U' ? "user  " : "kernel", w->help);
	return 0;
}

static int sub_gen(struct opts *o)
{
	if (o->npos != 1) {
		fprintf(stderr, "refalloc bench gen: name one workload (see refalloc bench list)\n");
		return RA_EXIT_USAGE;
	}
	const struct bench_workload *w = bench_workload_find(o->pos[0]);
	if (!w) {
		fprintf(stderr, "refalloc bench gen: unknown workload '%s' (see refalloc bench list)\n", o->pos[0]);
		return RA_EXIT_USAGE;
	}
	struct bench_gen_opts go = { .seed = o->seed, .scale = o->scale };
	struct ra_trace *t = bench_generate(w, &go);
	if (!t)
		return RA_EXIT_INTERNAL;
	FILE *f = o->output ? fopen(o->output, "w") : stdout;
	if (!f) {
		fprintf(stderr, "refalloc bench gen: %s: %s\n", o->output, strerror(errno));
		ra_trace_free(t);
		return RA_EXIT_INTERNAL;
	}
	char c[256];
	sfmt(c, sizeof(c), "workload %s: %s; made by: refalloc bench gen %s --seed %" PRIu64 " --scale %g", w->name,
	         w->help, w->name, o->seed, o->scale);
	bench_trace_write(t, f, c);
	int bad = f != stdout ? fclose(f) : fflush(f);
	ra_trace_free(t);
	return bad ? RA_EXIT_INTERNAL : 0;
}

static int sub_replay(struct opts *o)
{
	if (o->npos != 1) {
		fprintf(stderr, "refalloc bench replay: name one trace file or workload\n");
		return RA_EXIT_USAGE;
	}
	int rc = check_sets(o->sets, o->nsets);
	if (rc)
		return rc;
	struct replay_cfg c = { .runs = o->runs ? o->runs : 3, .outroot = o->out ? o->out : "out/bench/replay",
	                        .sets = o->sets, .nsets = o->nsets };
	struct ra_trace *t = load_trace(o->pos[0], o->seed, o->scale, &rc);
	if (!t)
		return rc ? rc : RA_EXIT_INTERNAL;
	int ntasks = 0;
	for (uint32_t i = 0; i < t->nops; i++)
		ntasks += t->ops[i].code == RA_OP_TASK;
	if (parse_allocs(o->alloc ? o->alloc : bench_trace_is_user(t) && ntasks <= 1 ? "all" : "engine", c.sel)) {
		ra_trace_free(t);
		return RA_EXIT_USAGE;
	}
	if (bench_mkdirs(c.outroot)) {
		fprintf(stderr, "refalloc bench: cannot create %s\n", c.outroot);
		ra_trace_free(t);
		return RA_EXIT_INTERNAL;
	}
	catch_sigint();
	char stem[128];
	stem_of(t->file, stem, sizeof(stem));
	rc = replay_trace(t, stem, &c, NULL, NULL);
	for (int i = 0; i < NALLOCS; i++)
		if (c.sel[i] && ALLOCS[i].conform == 0)
			printf("  %s FAILED conformance: %s\n    reproduce: %s\n", ALLOCS[i].name, ALLOCS[i].conform_msg,
			       ALLOCS[i].repro);
	ra_trace_free(t);
	return rc == -2 ? 130 : rc;
}

static int sub_conform(struct opts *o)
{
	int sel[8];
	if (parse_allocs(o->alloc ? o->alloc : "all", sel))
		return RA_EXIT_USAGE;
	const char *dir = o->out ? o->out : "out/bench/replay";
	if (bench_mkdirs(dir))
		return RA_EXIT_INTERNAL;
	int bad = 0;
	for (int i = 0; i < NALLOCS; i++) {
		if (!sel[i])
			continue;
		struct alloc *a = &ALLOCS[i];
		if (!a->available) {
			printf("%-9s not available (%s)\n", a->name, a->lib);
			continue;
		}
		conform_one(a, dir);
		printf("%-9s %s%s%s\n", a->name, a->conform ? "ok" : "FAILED: ", a->conform ? "" : a->conform_msg,
		       a->conform ? "" : "");
		if (!a->conform) {
			printf("          reproduce: %s\n", a->repro);
			bad = 1;
		}
	}
	return bad;
}

/* --- sweeps --- */

struct knobaxis { char name[64]; char vals[16][64]; int n; };

static int parse_axis(const char *spec, struct knobaxis *ax)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(ax->name)) {
		fprintf(stderr, "refalloc bench sweep: --knob %s: expected NAME=v1,v2,...\n", spec);
		return RA_EXIT_USAGE;
	}
	memcpy(ax->name, spec, (size_t)(eq - spec));
	ax->name[eq - spec] = 0;
	if (strcmp(ax->name, "slub_debug") && ra_knob_lookup(ax->name, strlen(ax->name)) < 0) {
		fprintf(stderr, "refalloc bench sweep: --knob %s: unknown knob (see `refalloc knobs`; also slub_debug)\n",
		        ax->name);
		return RA_EXIT_USAGE;
	}
	char sep = strchr(eq + 1, '/') ? '/' : ',';
	ax->n = 0;
	for (const char *p = eq + 1; *p;) {
		const char *e = strchr(p, sep);
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (!len || len >= sizeof(ax->vals[0]) || ax->n == 16) {
			fprintf(stderr, "refalloc bench sweep: --knob %s: empty, too long or more than 16 values\n", spec);
			return RA_EXIT_USAGE;
		}
		memcpy(ax->vals[ax->n], p, len);
		ax->vals[ax->n++][len] = 0;
		p = e ? e + 1 : p + len;
	}
	if (!ax->n) {
		fprintf(stderr, "refalloc bench sweep: --knob %s: no values\n", spec);
		return RA_EXIT_USAGE;
	}
	return 0;
}

static const char *const SWEEP_METRICS[] = {
	"wall_ms", "p50_ns", "p99_ns", "peak_foot_mib", "end_foot_mib", "frag_avg", "frag_at_peak_live",
	"frag_at_peak_foot", "frag_peak_vs_peak", "alloc_fail", "highorder_success", "unusable9_end",
	"fragindex9_end", "slab_internal_frag", "slab_pages_max", "partial_slabs_max", "vmalloc_areas_max",
	"wmark_fail", "kswapd_wake", "samples_below_low", "oom_kills", "pcp_pages_max", "free_pages_min", NULL,
};

static void sweep_metrics(struct bench_result *r, double *v)
{
	struct bench_lat l;
	bench_lat_summary(r->lat, r->ntimed, &l);
	const struct bench_ksample *k = r->nks ? &r->ks[r->nks - 1] : NULL;
	uint64_t att = 0, suc = 0, slabmax = 0, pmax = 0, vmax = 0, below = 0, pcpmax = 0, freemin = UINT64_MAX;
	for (int o = 0; o <= RA_MAX_ORDER; o++) {
		att += r->ho_attempts[o];
		suc += r->ho_success[o];
	}
	for (uint32_t i = 0; i < r->nks; i++) {
		slabmax = r->ks[i].slab_pages > slabmax ? r->ks[i].slab_pages : slabmax;
		pmax = r->ks[i].partial_slabs > pmax ? r->ks[i].partial_slabs : pmax;
		vmax = r->ks[i].vmalloc_areas > vmax ? r->ks[i].vmalloc_areas : vmax;
		below += r->ks[i].zones_below_low != 0;
		pcpmax = r->ks[i].pcp_pages > pcpmax ? r->ks[i].pcp_pages : pcpmax;
		freemin = r->ks[i].free_pages < freemin ? r->ks[i].free_pages : freemin;
	}
	int i = 0;
	v[i++] = r->wall_ns / 1e6;
	v[i++] = l.p50;
	v[i++] = l.p99;
	v[i++] = fmt_mib(r->jw.peak_foot);
	v[i++] = fmt_mib(r->end_foot);
	v[i++] = r->jw.avg;
	v[i++] = r->jw.at_live;
	v[i++] = r->jw.at_foot;
	v[i++] = r->jw.peak;
	v[i++] = (double)r->alloc_fail;
	v[i++] = att ? (double)suc / (double)att : NAN;
	v[i++] = k ? k->unusable[9] / 1000.0 : NAN;
	v[i++] = k ? k->fragidx[9] / 1000.0 : NAN;
	v[i++] = k && k->slab_req_bytes ? ((double)k->slab_slot_bytes - (double)k->slab_req_bytes) / (double)k->slab_req_bytes : NAN;
	v[i++] = (double)slabmax;
	v[i++] = (double)pmax;
	v[i++] = (double)vmax;
	v[i++] = k ? (double)k->wmark_fail : NAN;
	v[i++] = k ? (double)k->kswapd_wake : NAN;
	v[i++] = (double)below;
	v[i++] = k ? (double)k->oom_kills : NAN;
	v[i++] = (double)pcpmax;
	v[i++] = r->nks ? (double)freemin : NAN;
}

static void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
}

static int do_sweep(const char *workload, uint64_t seed, double scale, const char *const *knobs, unsigned nknobs,
                    const char *outdir, struct bench_progress *outer, int quiet)
{
	const struct bench_workload *w = bench_workload_find(workload);
	if (!w) {
		fprintf(stderr, "refalloc bench sweep: unknown workload '%s' (see refalloc bench list)\n", workload);
		return RA_EXIT_USAGE;
	}
	if (!nknobs || nknobs > 4) {
		fprintf(stderr, "refalloc bench sweep: give 1 to 4 --knob NAME=v1,v2,...\n");
		return RA_EXIT_USAGE;
	}
	struct knobaxis ax[4];
	int npoints = 1;
	for (unsigned k = 0; k < nknobs; k++) {
		int rc = parse_axis(knobs[k], &ax[k]);
		if (rc)
			return rc;
		npoints *= ax[k].n;
	}
	/* every value must be accepted by its knob before hours are spent */
	ra_machine *probe;
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = 64 << 20;
	if (ra_machine_create(&probe, &cfg, NULL, NULL) != RA_OK)
		return RA_EXIT_INTERNAL;
	for (unsigned k = 0; k < nknobs; k++)
		for (int v = 0; v < ax[k].n; v++) {
			if (!strcmp(ax[k].name, "slub_debug"))
				continue;
			if (ra_knob_set(probe, ax[k].name, ax[k].vals[v]) != RA_OK) {
				fprintf(stderr, "refalloc bench sweep: %s=%s: %s\n", ax[k].name, ax[k].vals[v], ra_last_error(probe));
				ra_machine_destroy(probe);
				return RA_EXIT_USAGE;
			}
		}
	ra_machine_destroy(probe);
	struct bench_gen_opts go = { .seed = seed, .scale = scale };
	struct ra_trace *t = bench_generate(w, &go);
	if (!t)
		return RA_EXIT_INTERNAL;
	if (bench_mkdirs(outdir)) {
		fprintf(stderr, "refalloc bench sweep: cannot create %s\n", outdir);
		ra_trace_free(t);
		return RA_EXIT_INTERNAL;
	}
	struct bench_host h;
	bench_host_get(&h);
	char csvp[PATH_MAX], jsonp[PATH_MAX], tmp[PATH_MAX + 32];
	sfmt(csvp, sizeof(csvp), "%s/results.csv", outdir);
	sfmt(jsonp, sizeof(jsonp), "%s/results.json", outdir);
	FILE *csv = fopen(csvp, "w");
	if (!csv) {
		ra_trace_free(t);
		return RA_EXIT_INTERNAL;
	}
	fputs("workload,seed,scale,arch,cpu,nproc", csv);
	for (unsigned k = 0; k < nknobs; k++) {
		fputc(',', csv);
		csv_field(csv, ax[k].name);
	}
	for (int m = 0; SWEEP_METRICS[m]; m++)
		fprintf(csv, ",%s", SWEEP_METRICS[m]);
	fputc('\n', csv);
	fflush(csv);
	/* rows kept for the JSON, rewritten whole after every point */
	size_t nm = 0;
	while (SWEEP_METRICS[nm])
		nm++;
	double *vals = calloc((size_t)npoints * nm, sizeof(double));
	int *idx = calloc((size_t)npoints * 4, sizeof(int));
	if (!vals || !idx)
		return RA_EXIT_INTERNAL;
	struct bench_progress own, *pg = outer;
	if (!pg) {
		pg = &own;
		bench_progress_start(pg, (uint64_t)npoints, "sweep");
	}
	int done = 0, rc = 0;
	for (int p = 0; p < npoints && !g_stop; p++) {
		int rem = p, *ix = &idx[p * 4];
		const char *sets[4];
		char setbuf[4][160];
		unsigned nsets = 0;
		const char *slub = NULL;
		char label[512] = "";
		size_t ll = 0;
		for (int k = (int)nknobs - 1; k >= 0; k--) {
			ix[k] = rem % ax[k].n;
			rem /= ax[k].n;
		}
		for (unsigned k = 0; k < nknobs; k++) {
			ll += (size_t)sfmt(label + ll, sizeof(label) - ll, "%s%s=%s", k ? " " : "", ax[k].name, ax[k].vals[ix[k]]);
			if (ll >= sizeof(label))
				ll = sizeof(label) - 1;
			if (!strcmp(ax[k].name, "slub_debug"))
				slub = ax[k].vals[ix[k]];
			else {
				sfmt(setbuf[nsets], sizeof(setbuf[nsets]), "%s=%s", ax[k].name, ax[k].vals[ix[k]]);
				sets[nsets] = setbuf[nsets];
				nsets++;
			}
		}
		bench_progress_step(pg, outer ? 0 : 1, label);
		struct bench_run_opts ro;
		bench_run_opts_default(&ro);
		ro.sets = sets;
		ro.nsets = nsets;
		ro.slub_debug = slub;
		ro.stop = &g_stop;
		struct bench_result r;
		char err[512];
		int x = bench_engine_run(t, &ro, &r, err, sizeof(err));
		if (outer)
			outer->done += (uint64_t)t->nops / 2000 + 5;
		if (x == -2) {
			bench_result_free(&r);
			break;
		}
		double *v = &vals[(size_t)done * nm];
		if (x) {
			fprintf(stderr, "refalloc bench sweep: %s: %s\n", label, err);
			for (size_t m = 0; m < nm; m++)
				v[m] = NAN;
			rc = 1;
		} else
			sweep_metrics(&r, v);
		bench_result_free(&r);
		if (done != p)
			memcpy(&idx[done * 4], ix, 4 * sizeof(int));
		done++;
		/* CSV: one row per point as it finishes */
		fprintf(csv, "%s,%" PRIu64 ",%g,", w->name, seed, scale);
		csv_field(csv, h.arch);
		fputc(',', csv);
		csv_field(csv, h.cpu);
		fprintf(csv, ",%ld", h.nproc);
		for (unsigned k = 0; k < nknobs; k++) {
			fputc(',', csv);
			csv_field(csv, ax[k].vals[ix[k]]);
		}
		for (size_t m = 0; m < nm; m++) {
			if (isfinite(v[m]))
				fprintf(csv, ",%.6g", v[m]);
			else
				fputs(",", csv);
		}
		fputc('\n', csv);
		fflush(csv);
		/* JSON: rewritten whole, atomically */
		FILE *j = bench_fopen_atomic(jsonp, tmp, sizeof(tmp));
		if (!j)
			continue;
		fputs("{\"workload\": ", j);
		bench_json_str(j, w->name);
		fprintf(j, ", \"seed\": %" PRIu64 ", \"scale\": %g, \"trace_ops\": %u, \"points_planned\": %d, \"points_done\": %d, "
		        "\"complete\": %s, \"machine\": ", seed, scale, t->nops, npoints, done, done == npoints ? "true" : "false");
		bench_host_json(j, &h);
		fputs(",\n \"knobs\": [", j);
		for (unsigned k = 0; k < nknobs; k++) {
			fprintf(j, "%s{\"name\": ", k ? ", " : "");
			bench_json_str(j, ax[k].name);
			fputs(", \"values\": [", j);
			for (int q = 0; q < ax[k].n; q++) {
				fputs(q ? ", " : "", j);
				bench_json_str(j, ax[k].vals[q]);
			}
			fputs("]}", j);
		}
		fputs("],\n \"metrics\": [", j);
		for (size_t m = 0; m < nm; m++) {
			fputs(m ? ", " : "", j);
			bench_json_str(j, SWEEP_METRICS[m]);
		}
		fputs("],\n \"points\": [", j);
		for (int q = 0; q < done; q++) {
			fprintf(j, "%s\n  {\"knobs\": {", q ? "," : "");
			for (unsigned k = 0; k < nknobs; k++) {
				fputs(k ? ", " : "", j);
				bench_json_str(j, ax[k].name);
				fputs(": ", j);
				bench_json_str(j, ax[k].vals[idx[q * 4 + (int)k]]);
			}
			fputs("}, \"metrics\": {", j);
			for (size_t m = 0; m < nm; m++) {
				fputs(m ? ", " : "", j);
				bench_json_str(j, SWEEP_METRICS[m]);
				fputs(": ", j);
				bench_json_num(j, vals[(size_t)q * nm + m]);
			}
			fputs("}}", j);
		}
		fputs("\n ]}\n", j);
		bench_fclose_atomic(j, tmp, jsonp);
	}
	fclose(csv);
	if (!outer)
		bench_progress_end(pg);
	if (!quiet)
		printf("sweep %s: %d of %d points -> %s, %s\n", w->name, done, npoints, csvp, jsonp);
	free(vals);
	free(idx);
	ra_trace_free(t);
	return g_stop ? -2 : rc;
}

static int sub_sweep(struct opts *o)
{
	if (!o->workload) {
		fprintf(stderr, "refalloc bench sweep: --workload W is required (see refalloc bench list)\n");
		return RA_EXIT_USAGE;
	}
	char dir[PATH_MAX];
	if (o->out)
		sfmt(dir, sizeof(dir), "%s", o->out);
	else {
		size_t n = (size_t)sfmt(dir, sizeof(dir), "out/bench/sweep/%s", o->workload);
		for (unsigned k = 0; k < o->nknobs && n < sizeof(dir); k++) {
			const char *eq = strchr(o->knobs[k], '=');
			n += (size_t)sfmt(dir + n, sizeof(dir) - n, "-%.*s", eq ? (int)(eq - o->knobs[k]) : 0, o->knobs[k]);
		}
	}
	catch_sigint();
	int rc = do_sweep(o->workload, o->seed, o->scale, o->knobs, o->nknobs, dir, NULL, 0);
	return rc == -2 ? 130 : rc;
}

/* --- the suite --- */

struct sweep_def { const char *workload; double scale; const char *k1, *k2; };

static const struct sweep_def SWEEPS[] = {
	{ "highalloc", 1, "vm.min_free_kbytes=1024,4096,16384,65536",
	  "vm.watermark_scale_factor=10,100,500,1000" },
	{ "server", 1, "M_MMAP_THRESHOLD=16384,131072,1048576,8388608", "M_TRIM_THRESHOLD=-1,131072,1048576,16777216" },
	{ "trim", 1, "M_TRIM_THRESHOLD=-1,131072,1048576,16777216", "M_MMAP_MAX=0,1,65536" },
	{ "slabchurn", 1, "slub_max_order=0,1,2,3", "slub_debug=-,F,Z,FZPU" },
	{ "kmalloc", 1, "vm.percpu_pagelist_high_fraction=0,8,64,512", "engine.slub_cpu_slab=0,1" },
};

static const char *const USER_WORKLOADS[] = {
	"uniform", "pow2", "pareto", "fitted", "ramp", "peak", "plateau", "prodcons", "server", "trim", "trim-keep", NULL,
};
static const char *const KERNEL_WORKLOADS[] = {
	"slabchurn", "kmalloc", "vmalloc", "highalloc", "highalloc-untagged", "oom", NULL,
};

static void index_write(const char *out, const struct bench_host *h, int quick, int runs, char **done, int ndone,
                        char **sweeps, int nsweeps, int finished)
{
	char p[PATH_MAX], tmp[PATH_MAX + 32];
	sfmt(p, sizeof(p), "%s/index.json", out);
	FILE *f = bench_fopen_atomic(p, tmp, sizeof(tmp));
	if (!f)
		return;
	fputs("{\"host\": ", f);
	bench_host_json(f, h);
	fprintf(f, ", \"quick\": %s, \"runs\": %d, \"finished\": %s, \"interrupted\": %s,\n \"replays\": [",
	        quick ? "true" : "false", runs, finished ? "true" : "false", g_stop ? "true" : "false");
	for (int i = 0; i < ndone; i++) {
		fputs(i ? ", " : "", f);
		bench_json_str(f, done[i]);
	}
	fputs("],\n \"sweeps\": [", f);
	for (int i = 0; i < nsweeps; i++) {
		fputs(i ? ", " : "", f);
		bench_json_str(f, sweeps[i]);
	}
	fputs("],\n \"conform\": ", f);
	conform_json(f);
	fputs("}\n", f);
	bench_fclose_atomic(f, tmp, p);
}

static int sub_run(struct opts *o)
{
	const char *out = o->out ? o->out : "out/bench";
	int runs = o->runs ? o->runs : (o->quick ? 1 : 5);
	char rdir[PATH_MAX];
	sfmt(rdir, sizeof(rdir), "%s/replay", out);
	if (bench_mkdirs(rdir) || bench_mkdirs(out)) {
		fprintf(stderr, "refalloc bench run: cannot create %s\n", rdir);
		return RA_EXIT_INTERNAL;
	}
	catch_sigint();
	struct replay_cfg c = { .runs = runs, .outroot = rdir, .quiet = 1 };
	if (parse_allocs(o->alloc ? o->alloc : "all", c.sel))
		return RA_EXIT_USAGE;
	/* the traces: recorded ones, then the generated workloads */
	struct ra_trace *traces[64];
	char *names[64];
	int nt = 0;
	glob_t g;
	memset(&g, 0, sizeof(g));
	glob("corpus/real/*.trace", 0, NULL, &g);
	for (size_t i = 0; i < g.gl_pathc && nt < 64; i++) {
		if (o->quick && nt >= 1)
			break;
		int rc = 0;
		struct ra_trace *t = load_trace(g.gl_pathv[i], 1, 1, &rc);
		if (!t)
			continue;
		traces[nt] = t;
		char stem[128];
		stem_of(g.gl_pathv[i], stem, sizeof(stem));
		names[nt++] = strdup(stem);
	}
	globfree(&g);
	const char *const *uw = USER_WORKLOADS, *const *kw = KERNEL_WORKLOADS;
	static const char *const quick_user[] = { "server", "trim-keep", NULL }, *const quick_kernel[] = { "highalloc", NULL };
	if (o->quick) {
		uw = quick_user;
		kw = quick_kernel;
	}
	double scale = o->quick ? 0.25 : 1;
	for (int pass = 0; pass < 2; pass++)
		for (const char *const *w = pass ? kw : uw; *w && nt < 64; w++) {
			struct bench_gen_opts go = { .seed = 1, .scale = scale };
			traces[nt] = bench_generate(bench_workload_find(*w), &go);
			names[nt] = strdup(traces[nt]->file);
			nt++;
		}
	/* generated traces are kept, to be replayed by hand */
	char tdir[PATH_MAX];
	sfmt(tdir, sizeof(tdir), "%s/traces", out);
	bench_mkdirs(tdir);
	uint64_t total = 0;
	for (int a = 0; a < NALLOCS; a++)
		total += c.sel[a] && ALLOCS[a].available ? W_CONFORM : 0;
	for (int i = 0; i < nt; i++) {
		int user = bench_trace_is_user(traces[i]) && strncmp(names[i], "oom", 3);
		for (int a = 0; a < NALLOCS; a++)
			if (c.sel[a] && ALLOCS[a].available && (a == 0 || user))
				total += trace_weight(traces[i], a == 0, runs);
		if (strncmp(traces[i]->file, "corpus/", 7)) {
			char p[PATH_MAX + 160];
			sfmt(p, sizeof(p), "%s/%s.trace", tdir, names[i]);
			FILE *f = fopen(p, "w");
			if (f) {
				bench_trace_write(traces[i], f, "generated by refalloc bench run");
				fclose(f);
			}
		}
	}
	int nsw = o->quick ? 0 : (int)(sizeof(SWEEPS) / sizeof(SWEEPS[0]));
	uint64_t sweep_pts = 0;
	for (int s = 0; s < nsw; s++) {
		struct bench_gen_opts go = { .seed = 1, .scale = SWEEPS[s].scale };
		struct ra_trace *t = bench_generate(bench_workload_find(SWEEPS[s].workload), &go);
		sweep_pts += 16 * ((uint64_t)t->nops / 2000 + 5);
		ra_trace_free(t);
	}
	total += sweep_pts;
	struct bench_host h;
	bench_host_get(&h);
	struct bench_progress pg;
	bench_progress_start(&pg, total, "bench");
	char *done[64], *sweeps[16];
	int ndone = 0, nsdone = 0, status = 0;
	index_write(out, &h, o->quick, runs, done, 0, sweeps, 0, 0);
	/* the conformance passes first, each its own step */
	for (int a = 0; a < NALLOCS && !g_stop; a++) {
		if (!c.sel[a] || !ALLOCS[a].available)
			continue;
		char label[64];
		sfmt(label, sizeof(label), "conformance / %s", ALLOCS[a].name);
		bench_progress_step(&pg, W_CONFORM, label);
		conform_one(&ALLOCS[a], rdir);
	}
	for (int i = 0; i < nt && !g_stop; i++) {
		int rc = replay_trace(traces[i], names[i], &c, &pg, NULL);
		if (rc == -2)
			break;
		/* an allocator failing conformance is a finding of the run (it is
		 * in the report), not a failure of it */
		if (rc > 1)
			status = rc;
		done[ndone++] = names[i];
		index_write(out, &h, o->quick, runs, done, ndone, sweeps, nsdone, 0);
	}
	for (int s = 0; s < nsw && !g_stop; s++) {
		char dir[PATH_MAX];
		const char *k[2] = { SWEEPS[s].k1, SWEEPS[s].k2 };
		char n1[64], n2[64];
		sfmt(n1, sizeof(n1), "%.*s", (int)(strchr(k[0], '=') - k[0]), k[0]);
		sfmt(n2, sizeof(n2), "%.*s", (int)(strchr(k[1], '=') - k[1]), k[1]);
		sfmt(dir, sizeof(dir), "%s/sweep/%s-%s-%s", out, SWEEPS[s].workload, n1, n2);
		int rc = do_sweep(SWEEPS[s].workload, 1, SWEEPS[s].scale, k, 2, dir, &pg, 1);
		if (rc == -2)
			break;
		sweeps[nsdone++] = strdup(dir + strlen(out) + 1);
		index_write(out, &h, o->quick, runs, done, ndone, sweeps, nsdone, 0);
	}
	index_write(out, &h, o->quick, runs, done, ndone, sweeps, nsdone, !g_stop);
	bench_progress_end(&pg);
	for (int a = 0; a < NALLOCS; a++)
		if (c.sel[a] && ALLOCS[a].conform == 0)
			fprintf(stderr, "bench: %s FAILED conformance: %s\n  reproduce: %s\n", ALLOCS[a].name,
			        ALLOCS[a].conform_msg, ALLOCS[a].repro);
	if (g_stop)
		fprintf(stderr, "bench: interrupted; %d replays and %d sweeps finished are in %s\n", ndone, nsdone, out);
	for (int i = 0; i < nt; i++) {
		ra_trace_free(traces[i]);
		free(names[i]);
	}
	for (int s = 0; s < nsdone; s++)
		free(sweeps[s]);
	return g_stop ? 130 : status;
}

static int sub_prog(struct opts *o)
{
	if (o->npos != 1 || !o->output) {
		fprintf(stderr, "refalloc bench prog: TRACE -o FILE\n");
		return RA_EXIT_USAGE;
	}
	int rc = 0;
	struct ra_trace *t = load_trace(o->pos[0], o->seed, o->scale, &rc);
	if (!t)
		return rc;
	char err[512];
	rc = bench_prog_write(t, o->output, err, sizeof(err));
	if (rc)
		fprintf(stderr, "refalloc bench prog: %s\n", err);
	ra_trace_free(t);
	return rc ? RA_EXIT_TRACE : 0;
}

/* --- fit: the fitted workload's mix from recorded traces --- */

#define FIT_SB 40
#define FIT_LB 33             /* lifetime classes 0..31, 32 = never freed */

static int sub_fit(struct opts *o)
{
	if (!o->npos) {
		fprintf(stderr, "refalloc bench fit: name recorded traces\n");
		return RA_EXIT_USAGE;
	}
	static double w[FIT_SB][FIT_LB];
	double allocs = 0, callocs = 0, memaligns = 0, reallocs = 0;
	for (int f = 0; f < o->npos; f++) {
		int rc = 0;
		struct ra_trace *t = load_trace(o->pos[f], 1, 1, &rc);
		if (!t)
			return rc;
		static double cnt[FIT_SB][FIT_LB];
		memset(cnt, 0, sizeof(cnt));
		uint64_t *born = calloc(t->nnames + 1, sizeof(uint64_t));
		uint64_t *size = calloc(t->nnames + 1, sizeof(uint64_t));
		uint8_t *live = calloc(t->nnames + 1, 1);
		if (!born || !size || !live)
			return RA_EXIT_INTERNAL;
		uint64_t clock = 0, n = 0;
		for (uint32_t i = 0; i < t->nops; i++) {
			const struct ra_op *op = &t->ops[i];
			uint64_t sz = 0;
			switch (op->code) {
			case RA_OP_MALLOC: sz = (uint64_t)op->a[0]; break;
			case RA_OP_CALLOC: sz = (uint64_t)op->a[0] * (uint64_t)op->a[1]; callocs++; break;
			case RA_OP_MEMALIGN: sz = (uint64_t)op->a[1]; memaligns++; break;
			case RA_OP_REALLOC: reallocs++; continue;
			case RA_OP_FREE:
				clock++;
				if (live[op->h[0]]) {
					uint64_t life = clock - born[op->h[0]];
					unsigned sb = size[op->h[0]] ? 63 - (unsigned)__builtin_clzll(size[op->h[0]]) : 0;
					unsigned lb = life ? 63 - (unsigned)__builtin_clzll(life) : 0;
					cnt[sb < FIT_SB ? sb : FIT_SB - 1][lb < 32 ? lb : 31]++;
					live[op->h[0]] = 0;
				}
				continue;
			default:
				continue;
			}
			clock++;
			n++;
			if (op->out != RA_NONAME) {
				born[op->out] = clock;
				size[op->out] = sz ? sz : 1;
				live[op->out] = 1;
			}
		}
		for (uint32_t i = 0; i <= t->nnames; i++)
			if (live[i]) {
				unsigned sb = 63 - (unsigned)__builtin_clzll(size[i]);
				cnt[sb < FIT_SB ? sb : FIT_SB - 1][32]++;
			}
		allocs += (double)n;
		/* each trace weighs the same */
		double tot = 0;
		for (int s = 0; s < FIT_SB; s++)
			for (int l = 0; l < FIT_LB; l++)
				tot += cnt[s][l];
		for (int s = 0; s < FIT_SB && tot > 0; s++)
			for (int l = 0; l < FIT_LB; l++)
				w[s][l] += cnt[s][l] * 1e6 / tot / o->npos;
		free(born);
		free(size);
		free(live);
		ra_trace_free(t);
	}
	printf("/*\n * fitted.h — the size x lifetime mix of the `fitted` workload, fitted to\n"
	       " * recorded traces (each weighs the same) by:\n *   refalloc bench fit");
	for (int f = 0; f < o->npos; f++)
		printf(" %s", o->pos[f]);
	printf("\n * Size classes are powers of two, lifetimes are in malloc-family\n"
	       " * operations (powers of two); life_hi 0 means never freed.\n */\n"
	       "#ifndef RA_BENCH_FITTED_H\n#define RA_BENCH_FITTED_H\n#include <stdint.h>\n"
	       "struct fit_bucket { uint64_t lo, hi; uint32_t weight; uint64_t life_lo, life_hi; };\n"
	       "static const struct fit_bucket fit_buckets[] = {\n");
	for (int s = 0; s < FIT_SB; s++)
		for (int l = 0; l < FIT_LB; l++) {
			uint32_t wt = (uint32_t)(w[s][l] + 0.5);
			if (!wt)
				continue;
			uint64_t lo = (uint64_t)1 << s, hi = ((uint64_t)1 << (s + 1)) - 1;
			if (l == 32)
				printf("\t{ %" PRIu64 ", %" PRIu64 ", %u, 0, 0 },\n", lo, hi, wt);
			else
				printf("\t{ %" PRIu64 ", %" PRIu64 ", %u, %" PRIu64 ", %" PRIu64 " },\n", lo, hi, wt, (uint64_t)1 << l,
				       ((uint64_t)1 << (l + 1)) - 1);
		}
	printf("};\nstatic const uint32_t fit_calloc_pm = %u, fit_memalign_pm = %u, fit_realloc_pm = %u;\n#endif\n",
	       (unsigned)(allocs > 0 ? callocs * 1000 / allocs + 0.5 : 0),
	       (unsigned)(allocs > 0 ? memaligns * 1000 / allocs + 0.5 : 0),
	       (unsigned)(allocs > 0 ? reallocs * 1000 / allocs + 0.5 : 0));
	return 0;
}

/* --- figures for the regression gate --- */

struct fig_def { const char *workload; double quick, full; };

static const struct fig_def FIGS[] = {
	{ "pareto", 0.25, 1 }, { "server", 0.2, 1 }, { "peak", 0.2, 1 }, { "prodcons", 0.2, 1 },
	{ "trim-keep", 0.25, 1 }, { "fitted", 0.0, 1 }, { "plateau", 0.0, 1 },
	{ "highalloc", 0.3, 1 }, { "highalloc-untagged", 0.0, 1 }, { "slabchurn", 0.2, 1 }, { "kmalloc", 0.0, 1 },
	{ "vmalloc", 0.0, 1 }, { "oom", 1, 1 },
};

static int sub_figures(struct opts *o)
{
	printf("{\n");
	int first = 1;
	for (size_t i = 0; i < sizeof(FIGS) / sizeof(FIGS[0]); i++) {
		double scale = o->quick ? FIGS[i].quick : FIGS[i].full;
		if (!(scale > 0))
			continue;
		struct bench_gen_opts go = { .seed = 1, .scale = scale };
		struct ra_trace *t = bench_generate(bench_workload_find(FIGS[i].workload), &go);
		struct bench_run_opts ro;
		bench_run_opts_default(&ro);
		ro.time_ops = 0;
		struct bench_result r;
		char err[512];
		if (bench_engine_run(t, &ro, &r, err, sizeof(err))) {
			fprintf(stderr, "refalloc bench figures: %s\n", err);
			return 1;
		}
		double v[32];
		sweep_metrics(&r, v);
		printf("%s  ", first ? "" : ",\n");
		first = 0;
		bench_json_str(stdout, t->file);
		printf(": {\"ops\": %u", t->nops);
		/* what is deterministic: memory figures, not times */
		for (int m = 3; SWEEP_METRICS[m]; m++) {
			if (!strcmp(SWEEP_METRICS[m], "wall_ms"))
				continue;
			if (!isfinite(v[m]))
				continue;
			printf(", \"%s\": ", SWEEP_METRICS[m]);
			bench_json_num(stdout, v[m]);
		}
		printf("}");
		bench_result_free(&r);
		ra_trace_free(t);
	}
	printf("\n}\n");
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? RA_EXIT_USAGE : 0;
	}
	find_bdir();
	resolve_allocs();
	const char *sub = argv[0];
	struct opts o;
	int rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc) {
		free_opts(&o);
		return rc;
	}
	if (!strcmp(sub, "list")) rc = sub_list();
	else if (!strcmp(sub, "gen")) rc = sub_gen(&o);
	else if (!strcmp(sub, "replay")) rc = sub_replay(&o);
	else if (!strcmp(sub, "conform")) rc = sub_conform(&o);
	else if (!strcmp(sub, "sweep")) rc = sub_sweep(&o);
	else if (!strcmp(sub, "run")) rc = sub_run(&o);
	else if (!strcmp(sub, "prog")) rc = sub_prog(&o);
	else if (!strcmp(sub, "fit")) rc = sub_fit(&o);
	else if (!strcmp(sub, "figures")) rc = sub_figures(&o);
	else {
		fprintf(stderr, "refalloc bench: unknown subcommand '%s' (see refalloc bench --help)\n", sub);
		rc = RA_EXIT_USAGE;
	}
	free_opts(&o);
	return rc;
}
