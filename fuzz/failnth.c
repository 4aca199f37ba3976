/*
 * failnth.c — allocation-failure replay of text traces (`make test`).
 *
 *   failnth [--all] [--max=N] [--verbose] FILE.trace|DIR...
 *
 * Property: whatever allocation fails, the engine fails cleanly. Each trace
 * is replayed once per allocation site with the Nth allocation of any kind
 * failing (refalloc replay --fail-nth=N, like the kernel's failslab and
 * fail_page_alloc), for N = 1, 2, ... up to the trace's number of
 * allocations (the operations that allocate, as counted by the replay's
 * statistics); with --all, until the Nth allocation of any kind (page
 * faults and the engine's own allocations count too) is never reached —
 * exhaustive, and quadratic in a trace's size. Each run is
 * a `--fuzz` replay: the oracle on, invariants after every operation and a
 * full walk at the end, misuse reports allowed. The trace's own `expect`
 * lines no longer hold once an allocation fails, so a run fails only on an
 * oracle failure, an invariant problem, an exit other than 0, 1 or 3
 * (panic), or a crash — each trace runs in a child process so a crash is
 * counted, not fatal.
 *
 * Traces that do not parse (the corpus keeps syntax-error examples) are
 * skipped. Prints one line per trace and a total; exit 1 on any failure.
 */
#include "refalloc/trace.h"
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RA_MIN_U64(a, b) ((a) < (b) ? (a) : (b))

struct result { uint64_t allocations, runs, injected, failures, first_bad_n; char first_line[400]; };

static uint64_t max_n = 100000;
static int verbose, all;

/* One run; 0 clean, 1 a failure (first BUG line in line[]). */
static int run(const struct ra_trace *t, uint64_t n, struct ra_replay_stats *st, char *line, size_t linesz)
{
	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	char *err = NULL;
	size_t errlen = 0;
	FILE *ef = open_memstream(&err, &errlen);
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	ra_replay_opts_fuzz(&o);
	o.fail_nth = n;
	o.out = devnull;
	o.err = ef ? ef : devnull;
	int rc = ra_replay_ex(t, &o, st);
	if (ef)
		fclose(ef);
	int bad = st->oracle_failures || st->invariant_problems || (rc != 0 && rc != 1 && rc != 3);
	if (bad && line) {
		const char *p = err ? strstr(err, "BUG: refalloc: oracle:") : NULL;
		const char *q = err ? strstr(err, "BUG: refalloc: invariant:") : NULL;
		if (!p || (q && q < p))
			p = q;
		if (!p)
			p = err && errlen ? err : "";
		size_t l = strcspn(p, "\n");
		snprintf(line, linesz, "exit %d: %.*s", rc, (int)(l < 300 ? l : 300), p);
	}
	free(err);
	return bad;
}

/* 0 done; -1 the trace does not replay even without failures (exit 2: a
 * knob value or a binding the replay refuses), so it is skipped */
static int one_trace(const struct ra_trace *t, struct result *r)
{
	struct ra_replay_stats st;
	if (run(t, 0, &st, NULL, 0) && !st.oracle_failures && !st.invariant_problems)
		return -1;
	r->allocations = st.allocations;
	uint64_t last = all ? max_n : RA_MIN_U64(st.allocations, max_n);
	for (uint64_t n = 1; n <= last; n++) {
		char line[400] = "";
		int bad = run(t, n, &st, line, sizeof(line));
		if (!st.injected && !bad)
			break;     /* the nth allocation never came: every site has failed once */
		r->runs++;
		r->injected += st.injected;
		if (bad) {
			if (!r->failures++) {
				r->first_bad_n = n;
				snprintf(r->first_line, sizeof(r->first_line), "%s", line);
			}
			if (verbose)
				fprintf(stderr, "  --fail-nth=%" PRIu64 ": %s\n", n, line);
		}
		if (!st.injected)
			break;
	}
	return 0;
}

static int totals_failed;
static uint64_t tot_traces, tot_runs, tot_failures, tot_skipped, tot_allocs;

static void do_file(const char *path)
{
	struct ra_trace *t;
	struct ra_trace_error e;
	if (ra_trace_load(path, &t, &e)) {
		tot_skipped++;
		if (verbose)
			printf("fail-nth: %s: skipped (does not parse: %u:%u: %s)\n", path, e.line, e.col, e.msg);
		return;
	}
	/* the child reports through a shared page, so a crash is counted */
	struct result *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		perror("mmap");
		exit(70);
	}
	memset(r, 0, sizeof(*r));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(one_trace(t, r) ? 2 : 0);
	int ws = 0;
	waitpid(pid, &ws, 0);
	ra_trace_free(t);
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 2) {
		tot_skipped++;
		if (verbose)
			printf("fail-nth: %s: skipped (the replay refuses it without any failure)\n", path);
		munmap(r, sizeof(*r));
		return;
	}
	tot_traces++;
	tot_runs += r->runs;
	tot_allocs += r->allocations;
	if (!WIFEXITED(ws) || WEXITSTATUS(ws)) {
		printf("fail-nth: %s: CRASH (%s %d) after %" PRIu64 " runs\n", path, WIFSIGNALED(ws) ? "signal" : "exit",
		       WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws), r->runs);
		tot_failures++;
		totals_failed = 1;
	} else if (r->failures) {
		printf("fail-nth: %s: %" PRIu64 " of %" PRIu64 " runs FAILED; first --fail-nth=%" PRIu64 ": %s\n", path,
		       r->failures, r->runs, r->first_bad_n, r->first_line);
		tot_failures += r->failures;
		totals_failed = 1;
	} else if (verbose) {
		printf("fail-nth: %s: %" PRIu64 " allocations, %" PRIu64 " runs (one per allocation site), %" PRIu64
		       " injected, all clean\n", path, r->allocations, r->runs, r->injected);
	}
	munmap(r, sizeof(*r));
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "--max=", 6)) {
			max_n = strtoull(a + 6, NULL, 10);
			continue;
		}
		if (!strcmp(a, "--all")) {
			all = 1;
			continue;
		}
		if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			verbose = 1;
			continue;
		}
		struct stat sb;
		if (stat(a, &sb)) {
			perror(a);
			return 64;
		}
		if (!S_ISDIR(sb.st_mode)) {
			do_file(a);
			continue;
		}
		DIR *d = opendir(a);
		char **names = NULL;
		size_t nn = 0;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (l < 7 || strcmp(de->d_name + l - 6, ".trace"))
				continue;
			char **nv = realloc(names, (nn + 1) * sizeof(*names));
			if (!nv)
				return 70;
			names = nv;
			size_t pl = strlen(a) + l + 2;
			names[nn] = malloc(pl);
			if (!names[nn])
				return 70;
			snprintf(names[nn++], pl, "%s/%s", a, de->d_name);
		}
		if (d)
			closedir(d);
		if (nn)
			qsort(names, nn, sizeof(*names), cmp);
		for (size_t k = 0; k < nn; k++) {
			do_file(names[k]);
			free(names[k]);
		}
		free(names);
	}
	printf("fail-nth: %" PRIu64 " traces (%" PRIu64 " skipped: do not replay), %" PRIu64 " allocations, %" PRIu64
	       " runs with one allocation failing, %" PRIu64 " failed\n", tot_traces, tot_skipped, tot_allocs, tot_runs,
	       tot_failures);
	return totals_failed;
}
