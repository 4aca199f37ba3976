/*
 * driver_test.c — <target>-test: replay corpus files without a fuzzer.
 *
 *   fuzz_engine-test FILE|DIR...
 *
 * Every file (directories are read, sorted by name) is one input. Prints a
 * line per failing input and closes with "N passed, M failed". A finding
 * aborts the target, so each input runs in a child process: one bad input
 * does not hide the others.
 *
 * A binary target also takes text reproducers: a file named *.trace is
 * parsed and checked exactly as a decoded input would be (the oracle, the
 * invariants and the harness's own properties), so a finding's text form
 * replays with `fuzz_engine-test crash.trace`.
 *
 *   fuzz_engine-test --speed ROUNDS FILE|DIR...
 *
 * measures instead: every input runs ROUNDS times in this process, as a
 * fuzzer runs them (no fork, machines made one after another), and the
 * closing line is the harness's own execs/s, the ceiling of any fuzzer's
 * rate on the same build.
 */
#include "fuzzer.h"
#include "refalloc/trace.h"
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long speed_rounds;      /* --speed: in-process rounds, 0 = test mode */
static unsigned char **sp_buf;
static size_t *sp_len, sp_n;

static int run_one(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0, n;
	unsigned char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return 1;
	if (speed_rounds) {        /* keep it for the timed rounds */
		sp_buf = realloc(sp_buf, (sp_n + 1) * sizeof(*sp_buf));
		sp_len = realloc(sp_len, (sp_n + 1) * sizeof(*sp_len));
		if (!sp_buf || !sp_len)
			return 1;
		sp_buf[sp_n] = buf;
		sp_len[sp_n++] = len;
		return 0;
	}
	fflush(stdout);
	size_t pl = strlen(path);
	bool text = ra_fuzz_profile && pl > 6 && !strcmp(path + pl - 6, ".trace");
	pid_t pid = fork();
	if (pid == 0) {
		if (text) {
			struct ra_trace *t;
			struct ra_trace_error e;
			if (ra_trace_parse(path, (const char *)buf, len, &t, &e)) {
				fprintf(stderr, "%s:%u:%u: error: %s\n", path, e.line, e.col, e.msg);
				_exit(2);
			}
			ra_fuzz_check(t);
			_exit(0);
		}
		FuzzerTestOneInput(buf, len);
		_exit(0);
	}
	free(buf);
	int st = 0;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	printf("FAIL %s: %s %d\n", path, WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return 1;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int speed_report(void)
{
	double t0 = now_s();
	for (long r = 0; r < speed_rounds; r++)
		for (size_t k = 0; k < sp_n; k++)
			FuzzerTestOneInput(sp_buf[k], sp_len[k]);
	double t = now_s() - t0;
	size_t execs = sp_n * (size_t)speed_rounds;
	printf("%s-test --speed: %zu inputs x %ld rounds in %.2f s: %.0f execs/s\n", ra_fuzz_target, sp_n,
	       speed_rounds, t, t > 0 ? (double)execs / t : 0.0);
	for (size_t k = 0; k < sp_n; k++)
		free(sp_buf[k]);
	free(sp_buf);
	free(sp_len);
	return 0;
}

int main(int argc, char **argv)
{
	FuzzerInitialize(&argc, &argv);
	int passed = 0, failed = 0;
	int first = 1;
	if (argc > 2 && !strcmp(argv[1], "--speed")) {
		speed_rounds = atol(argv[2]);
		if (speed_rounds < 1) {
			fprintf(stderr, "%s-test: --speed takes a number of rounds >= 1\n", ra_fuzz_target);
			return 2;
		}
		first = 3;
	}
	for (int i = first; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb)) {
			perror(argv[i]);
			failed++;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			run_one(argv[i]) ? failed++ : passed++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		char **names = NULL;
		size_t nn = 0;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			names = realloc(names, (nn + 1) * sizeof(*names));
			size_t l = strlen(argv[i]) + strlen(de->d_name) + 2;
			names[nn] = malloc(l);
			snprintf(names[nn++], l, "%s/%s", argv[i], de->d_name);
		}
		if (d)
			closedir(d);
		qsort(names, nn, sizeof(*names), cmp);
		for (size_t k = 0; k < nn; k++) {
			run_one(names[k]) ? failed++ : passed++;
			free(names[k]);
		}
		free(names);
	}
	if (speed_rounds) {
		int rc = failed ? 1 : speed_report();
		FuzzerCleanup();
		return rc;
	}
	FuzzerCleanup();
	printf("%s-test: %d passed, %d failed\n", ra_fuzz_target, passed, failed);
	return failed ? 1 : 0;
}
