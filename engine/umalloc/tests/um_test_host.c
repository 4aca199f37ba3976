/*
 * um_test_host.c — umalloc's UM_HOST world in-process (real mmap, the brk
 * emulation), next to glibc's own malloc: sizes, alignment, realloc, and
 * glibc's fatal messages (checked in forked children).
 * Prints "N passed, M failed".
 */
#include "umalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_pass, g_fail;
#define CHECK(name, cond) do {                                                 \
	if (cond) g_pass++;                                                     \
	else { g_fail++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, name); } \
} while (0)

static struct um_os os;
static struct um_state *S;
static struct um_thread *T;

/* Run fn in a child; expect SIGABRT and msg on its stderr. */
static int dies_with(void (*fn)(void), const char *msg)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		fn();
		_exit(0);
	}
	close(pfd[1]);
	char buf[512] = { 0 };
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	(void)n;
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, msg) != NULL;
}

static void tcache_double_free(void)
{
	um_addr a = um_malloc(S, T, 40);
	um_free(S, T, a);
	um_free(S, T, a);
}
static void fasttop_double_free(void)
{
	um_addr p[9];
	for (int i = 0; i < 9; i++)
		p[i] = um_malloc(S, T, 40);
	for (int i = 0; i < 9; i++)
		um_free(S, T, p[i]);
	um_free(S, T, p[8]);
}
static void invalid_pointer(void)
{
	um_addr a = um_malloc(S, T, 40);
	um_free(S, T, a + 8);
}

int main(void)
{
	um_host_os_init(&os);
	S = um_create(&os);
	T = malloc(um_thread_size());
	um_thread_init(S, T);
	static const size_t n[] = { 0, 1, 24, 25, 40, 100, 1000, 1032, 1033 };
	static const size_t u[] = { 24, 24, 24, 40, 40, 104, 1000, 1032, 1048 };
	for (int i = 0; i < 9; i++) {
		um_addr p = um_malloc(S, T, n[i]);
		CHECK("usable size", um_usable_size(S, p) == u[i]);
		CHECK("aligned", (p & 15) == 0);
	}
	for (size_t al = 1; al <= 65536; al <<= 1) {
		um_addr p = um_memalign(S, T, al, al);
		CHECK("memalign", p && p % (al < 16 ? 16 : al) == 0);
		memset((void *)(uintptr_t)p, 0x11, al);
		um_free(S, T, p);
	}
	um_addr a = um_malloc(S, T, 100);
	memcpy((void *)(uintptr_t)a, "hello", 6);
	um_addr b = um_realloc(S, T, a, 100000);
	CHECK("realloc keeps contents", strcmp((char *)(uintptr_t)b, "hello") == 0);
	um_addr m = um_malloc(S, T, 1 << 20);
	memset((void *)(uintptr_t)m, 1, 1 << 20);
	um_addr m2 = um_realloc(S, T, m, 3 << 20);
	CHECK("mremap realloc", ((char *)(uintptr_t)m2)[(1 << 20) - 1] == 1);
	um_free(S, T, m2);
	um_free(S, T, b);
	/* churn, checked */
	um_addr live[512] = { 0 };
	unsigned x = 1;
	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245 + 12345;
		unsigned k = (x >> 8) % 512;
		if (live[k]) {
			um_free(S, T, live[k]);
			live[k] = 0;
		} else {
			live[k] = um_malloc(S, T, (x >> 16) % 5000);
		}
	}
	for (int k = 0; k < 512; k++)
		um_free(S, T, live[k]);
	CHECK("um_check host", um_check(S, UM_CHECK_FULL) == 0);
	CHECK("um_trim", um_trim(S, 0) >= 0);
	CHECK("tcache double free aborts with glibc's message",
	      dies_with(tcache_double_free, "free(): double free detected in tcache 2"));
	CHECK("fasttop double free aborts", dies_with(fasttop_double_free, "double free or corruption (fasttop)"));
	CHECK("invalid pointer aborts", dies_with(invalid_pointer, "free(): invalid"));
	um_destroy(S);
	um_host_os_fini(&os);
	free(T);
	printf("um_test_host: %d passed, %d failed\n", g_pass, g_fail);
	return g_fail ? 1 : 0;
}
