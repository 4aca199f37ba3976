/*
 * allocs.c — the allocators `refalloc bench` compares, and the processes it
 * runs them in: the registry (the engine in this process, the others as
 * LD_PRELOAD libraries found on the host), child processes with a preload
 * and redirected output, and the conformance pass each allocator gets
 * before it is timed.
 */
#include "tool.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* === allocators ========================================================== */

struct alloc ALLOCS[] = {
	{ .name = "engine", .soname = "" },
	{ .name = "refalloc", .soname = "@" },
	{ .name = "glibc", .soname = NULL },
	{ .name = "jemalloc", .soname = "libjemalloc.so.2" },
	{ .name = "mimalloc", .soname = "libmimalloc.so.2" },
	{ .name = "tcmalloc", .soname = "libtcmalloc.so.4" },
};
_Static_assert(sizeof(ALLOCS) / sizeof(ALLOCS[0]) == NALLOCS, "tool.h counts the allocators");

char BDIR[PATH_MAX];

void find_bdir(void)
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

void resolve_allocs(void)
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
int parse_allocs(const char *list, int *sel)
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
int run_child(const char *preload, char *const argv[], const char *out, const char *err)
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

char *slurp(const char *path, size_t *len)
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

void conform_one(struct alloc *a, const char *outdir)
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

void conform_json(FILE *f)
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
