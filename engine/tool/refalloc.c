/*
 * refalloc — the command-line tool.
 *
 *   refalloc replay FILE... [--check=off|op|full] [--set NAME=VALUE]... [--dump VIEW]...
 *                   [--leaks=report|error] [--slub-debug[=LETTERS[,cache...]]] ...
 *   refalloc knobs            the knob table
 *   refalloc views            the views `dump` and --dump know
 *   refalloc --help | --version
 *
 * Exit codes (see README.md): 0 ok, 1 an expect, check or invariant failed or
 * misuse was reported, 2 a trace could not be read, 3 the simulated kernel
 * panicked, 64 bad command line, 70 host failure.
 */
#include "refalloc/refalloc.h"
#include "refalloc/trace.h"
#include "tool.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REFALLOC_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: refalloc COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  replay FILE... [options]   replay text traces, each on a fresh machine ('-' reads stdin)\n"
	      "      --check=off|op|full    invariant checks after every operation (default: off in release\n"
	      "                             builds, op in debug builds); a full check ends every trace unless off\n"
	      "      --set NAME=VALUE       set a knob when the machine is created, before it boots (repeatable;\n"
	      "                             see `refalloc knobs`)\n"
	      "      --dump VIEW            print a view at the end (repeatable; see `refalloc views`)\n"
	      "      --leaks=report|error   report what is still allocated at the end; error: exit 1 if anything is\n"
	      "      --slub-debug[=SPEC]    the kernel's slub_debug boot parameter, SPEC [FZPU-][,cache...]: as a\n"
	      "                             `slub_debug SPEC` line before the first operation (bare: all flags)\n"
	      "      --fail-nth=N           the Nth allocation of any kind fails (allocation-failure replay)\n"
	      "      --quiet                do not print BUG reports (the exit code still tells)\n"
	      "      --twins                give every object a host-heap twin freed with it (for LeakSanitizer)\n"
	      "      --oracle               check every operation against a shadow model of the live objects\n"
	      "      --fuzz                 as the fuzz targets run: --oracle, --check=op, misuse reports allowed\n"
	      "  trace SUBCOMMAND           encode, decode, import-mtrace (see refalloc trace --help)\n"
	      "  bench SUBCOMMAND           replay, sweep, ... (see refalloc bench --help; the program\n"
	      "                             refalloc-bench next to this one, built by make bench)\n"
	      "  knobs                      list every knob: name, default, range, where, help\n"
	      "  views                      list the views\n"
	      "  --help, --version\n"
	      "\n"
	      "exit codes: 0 ok; 1 an expect/check/invariant failed or misuse was reported; 2 a trace could not be\n"
	      "read (FILE:LINE:COL: error: ...); 3 the simulated kernel panicked; 64 bad command line; 70 host failure\n",
	      f);
}

static int cmd_replay(int argc, char **argv)
{
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
#ifdef RA_DEBUG
	o.check = RA_CHECK_OP;
#endif
	const char **files = calloc((size_t)argc + 1, sizeof(char *));
	const char **sets = calloc((size_t)argc + 1, sizeof(char *));
	const char **dumps = calloc((size_t)argc + 1, sizeof(char *));
	if (!files || !sets || !dumps)
		return RA_EXIT_INTERNAL;
	int nfiles = 0, rc = RA_EXIT_OK;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		if (!strncmp(a, "--check=", 8)) {
			v = a + 8;
			if (!strcmp(v, "off")) o.check = RA_CHECK_OFF;
			else if (!strcmp(v, "op")) o.check = RA_CHECK_OP;
			else if (!strcmp(v, "full")) o.check = RA_CHECK_FULL;
			else { fprintf(stderr, "refalloc: --check takes off, op or full\n"); rc = RA_EXIT_USAGE; goto out; }
		} else if (!strcmp(a, "--set") || !strcmp(a, "--dump")) {
			if (i + 1 >= argc) { fprintf(stderr, "refalloc: %s needs a value\n", a); rc = RA_EXIT_USAGE; goto out; }
			if (a[2] == 's') sets[o.nsets++] = argv[++i]; else dumps[o.ndumps++] = argv[++i];
		} else if (!strncmp(a, "--set=", 6)) {
			sets[o.nsets++] = a + 6;
		} else if (!strncmp(a, "--dump=", 7)) {
			dumps[o.ndumps++] = a + 7;
		} else if (!strncmp(a, "--leaks=", 8)) {
			v = a + 8;
			if (!strcmp(v, "report")) o.leaks = 1;
			else if (!strcmp(v, "error")) o.leaks = 2;
			else { fprintf(stderr, "refalloc: --leaks takes report or error\n"); rc = RA_EXIT_USAGE; goto out; }
		} else if (!strncmp(a, "--slub-debug=", 13)) {
			o.slub_debug = a + 13;
		} else if (!strcmp(a, "--slub-debug")) {
			o.slub_debug = "";      /* bare, as the boot parameter: every debug flag on every cache */
		} else if (!strncmp(a, "--fail-nth=", 11)) {
			char *end;
			o.fail_nth = strtoull(a + 11, &end, 10);
			if (*end || !o.fail_nth) { fprintf(stderr, "refalloc: --fail-nth takes a number >= 1\n"); rc = RA_EXIT_USAGE; goto out; }
		} else if (!strcmp(a, "--quiet")) {
			o.quiet_errors = 1;
		} else if (!strcmp(a, "--twins")) {
			o.twins = 2;    /* a host-heap twin per object: LeakSanitizer counts the trace's leaks */
		} else if (!strcmp(a, "--oracle")) {
			o.oracle = 1;
		} else if (!strcmp(a, "--fuzz")) {
			ra_replay_opts_fuzz(&o);
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "refalloc: unknown option %s (see refalloc --help)\n", a);
			rc = RA_EXIT_USAGE;
			goto out;
		} else
			files[nfiles++] = a;
	}
	if (!nfiles) {
		fprintf(stderr, "refalloc: replay needs at least one trace file\n");
		rc = RA_EXIT_USAGE;
		goto out;
	}
	const char *const *vn = ra_view_names();
	for (unsigned d = 0; d < o.ndumps; d++) {
		int ok = 0;
		for (int k = 0; vn[k]; k++)
			ok |= !strcmp(vn[k], dumps[d]);
		if (!ok) { fprintf(stderr, "refalloc: --dump %s: unknown view (see refalloc views)\n", dumps[d]); rc = RA_EXIT_USAGE; goto out; }
	}
	o.sets = sets;
	o.dumps = dumps;
	for (int f = 0; f < nfiles; f++) {
		struct ra_trace *t;
		struct ra_trace_error e;
		int r;
		if (nfiles > 1)
			printf("==> %s <==\n", files[f]);
		if (ra_trace_load(files[f], &t, &e)) {
			if (e.line)
				fprintf(stderr, "%s:%u:%u: error: %s\n", files[f], e.line, e.col, e.msg);
			else
				fprintf(stderr, "%s: error: %s\n", files[f], e.msg);
			r = RA_EXIT_TRACE;
		} else {
			r = ra_replay(t, &o);
			ra_trace_free(t);
		}
		fflush(stdout);
		if (r > rc)
			rc = r;
	}
out:
	free(files);
	free(sets);
	free(dumps);
	return rc;
}

/* A subcommand that is a program of its own, next to this one in the
 * build directory (refalloc-bench: bench/, built by `make bench`): run it
 * in this process's place with the arguments after the subcommand's name. */
static int run_sibling(const char *prog, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		n = 0;
	dir[n] = 0;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	snprintf(path, sizeof(path), "%s/%s", dir, prog);
	argv[0] = path;
	execv(path, argv);
	fprintf(stderr, "refalloc: %s: %s (it is built by `make bench`)\n", path, strerror(errno));
	return RA_EXIT_INTERNAL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RA_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("refalloc %s\n", REFALLOC_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 2, argv + 2);
	if (!strcmp(cmd, "trace"))
		return cmd_trace(argc - 2, argv + 2);
	if (!strcmp(cmd, "bench"))
		return run_sibling("refalloc-bench", argv + 1);
	if (!strcmp(cmd, "knobs")) {
		ra_knobs_print(stdout);
		return 0;
	}
	if (!strcmp(cmd, "views")) {
		for (const char *const *v = ra_view_names(); *v; v++)
			puts(*v);
		return 0;
	}
	fprintf(stderr, "refalloc: unknown command '%s' (see refalloc --help)\n", cmd);
	return RA_EXIT_USAGE;
}
