/*
 * main.c — refalloc-bench, the program behind `refalloc bench` (the
 * refalloc tool runs it in its place, from the same build directory):
 * allocator comparisons, kernel-side metrics, knob sweeps, the suite
 * behind `make bench`, and the figures of the regression gate.  It is a
 * client of the engine's public headers: the engine runs traces through
 * ra_replay, the samplers of esim.c ride on its hook.  This file parses
 * the command line and dispatches; the subcommands live in allocs.c
 * (the allocators and their processes), runner.c (replay, conform),
 * sweep.c, suite.c (run, figures) and fit.c.
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
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* snprintf without gcc's truncation guesses about PATH_MAX buffers:
 * truncation is fine for messages */
int sfmt(char *b, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(b, n, fmt, ap);
	va_end(ap);
	return r;
}

volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
	(void)sig;
	g_stop = 1;
}

void catch_sigint(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* === option helpers ====================================================== */

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

int check_sets(const char *const *sets, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const char *eq = strchr(sets[i], '=');
		if (!eq || ra_knob_find(sets[i], (size_t)(eq - sets[i])) < 0) {
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

int main(int argc, char **argv)
{
	argc--;
	argv++;
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

