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
#include <unistd.h>

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

int main(int argc, char **argv)
{
	FuzzerInitialize(&argc, &argv);
	int passed = 0, failed = 0;
	for (int i = 1; i < argc; i++) {
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
	FuzzerCleanup();
	printf("%s-test: %d passed, %d failed\n", ra_fuzz_target, passed, failed);
	return failed ? 1 : 0;
}
