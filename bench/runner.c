/*
 * runner.c — replaying one trace against the selected allocators: the
 * trace from a file or a workload name, the engine's runs (the samplers of
 * esim.c, then ra_replay for its time and its exit code with per-operation
 * checks), the real allocators' runs through the replay driver, the
 * median of the runs, the table row and the result files.  `refalloc
 * bench replay` and `conform`.
 */
#include "tool.h"
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* === traces ============================================================== */

/* A file, or a workload name ("server", "server:7" for seed 7). */
struct ra_trace *load_trace(const char *arg, uint64_t seed, double scale, int *exitcode)
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

void stem_of(const char *file, char *out, size_t len)
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

/* Progress weights, in estimated milliseconds on the 2-core machine this
 * was written on: the estimate only needs the proportions right. */
uint64_t trace_weight(const struct ra_trace *t, int engine, int runs)
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
int replay_trace(const struct ra_trace *t, const char *stem, const struct replay_cfg *c,
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

int sub_replay(struct opts *o)
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

int sub_conform(struct opts *o)
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
