/*
 * um_stress.c — multi-threaded malloc stress with cookies, meant to run
 * under LD_PRELOAD=librefalloc_malloc.so (and plain, for comparison).
 *
 * Each thread mallocs/reallocs/frees random sizes, fills every block with
 * a cookie derived from its address and size, and verifies it before
 * every realloc and free; a shared mailbox carries blocks to other threads
 * so a good share of frees are remote (cross-thread, cross-arena).  A fork
 * in the middle checks the child can still allocate.  Deterministic per
 * thread (seeded xorshift).  Exit status 1 on any mismatch.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 8
#define OPS      400000
#define SLOTS    256
#define MAILBOX  1024

static pthread_mutex_t mb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { unsigned char *p; size_t n; } mailbox[MAILBOX];
static long errors;

static uint64_t cookie(const void *p, size_t n) { return ((uintptr_t)p * 0x9E3779B97F4A7C15ULL) ^ n; }

static void fill(unsigned char *p, size_t n)
{
	uint64_t c = cookie(p, n);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(c >> ((i & 7) * 8)) ^ (unsigned char)i;
}
static int verify(const unsigned char *p, size_t n, size_t upto, uint64_t c)
{
	for (size_t i = 0; i < upto && i < n; i++)
		if (p[i] != ((unsigned char)(c >> ((i & 7) * 8)) ^ (unsigned char)i))
			return 0;
	return 1;
}

static size_t rsize(uint64_t *s)
{
	*s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
	uint64_t r = *s;
	switch (r % 20) {
	case 0: return (r >> 8) % 300000;
	case 1: case 2: return (r >> 8) % 16384;
	default: return (r >> 8) % 512;
	}
}

static void *worker(void *arg)
{
	uint64_t s = 0x1234567ULL * ((uintptr_t)arg + 1);
	unsigned char *blk[SLOTS] = { 0 };
	size_t len[SLOTS] = { 0 };
	for (int op = 0; op < OPS; op++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		unsigned k = (unsigned)(s % SLOTS);
		unsigned what = (unsigned)((s >> 20) % 10);
		if (!blk[k]) {
			size_t n = rsize(&s);
			if (what == 0) {
				pthread_mutex_lock(&mb_lock);
				unsigned m = (unsigned)((s >> 32) % MAILBOX);
				blk[k] = mailbox[m].p;
				len[k] = mailbox[m].n;
				mailbox[m].p = NULL;
				pthread_mutex_unlock(&mb_lock);
				if (blk[k])
					continue;
			}
			blk[k] = what == 1 ? calloc(1, n) : malloc(n);
			if (!blk[k] && n) {
				__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			if (what == 1)
				for (size_t i = 0; i < n; i++)
					if (blk[k][i])
						__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
			len[k] = n;
			fill(blk[k], n);
			continue;
		}
		if (!verify(blk[k], len[k], len[k], cookie(blk[k], len[k]))) {
			fprintf(stderr, "cookie mismatch: %p size %zu\n", (void *)blk[k], len[k]);
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
		}
		if (what < 3) {
			size_t n = rsize(&s) + 1;
			uint64_t c = cookie(blk[k], len[k]);
			unsigned char *q = realloc(blk[k], n);
			if (!q) {
				__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			if (!verify(q, len[k], n < len[k] ? n : len[k], c)) {
				fprintf(stderr, "realloc lost data\n");
				__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
			}
			blk[k] = q;
			len[k] = n;
			fill(q, n);
		} else if (what < 5) {
			pthread_mutex_lock(&mb_lock);
			unsigned m = (unsigned)((s >> 32) % MAILBOX);
			unsigned char *old = mailbox[m].p;
			size_t oldn = mailbox[m].n;
			mailbox[m].p = blk[k];
			mailbox[m].n = len[k];
			pthread_mutex_unlock(&mb_lock);
			if (old) {
				if (!verify(old, oldn, oldn, cookie(old, oldn)))
					__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
				free(old);           /* remote free */
			}
			blk[k] = NULL;
		} else {
			free(blk[k]);
			blk[k] = NULL;
		}
	}
	for (int k = 0; k < SLOTS; k++)
		free(blk[k]);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	usleep(20000);
	pid_t pid = fork();
	if (pid == 0) {
		void *p[1000];
		for (int i = 0; i < 1000; i++)
			p[i] = malloc((size_t)i * 17);
		for (int i = 0; i < 1000; i++)
			free(p[i]);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "forked child failed\n");
		errors++;
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int m = 0; m < MAILBOX; m++)
		if (mailbox[m].p) {
			if (!verify(mailbox[m].p, mailbox[m].n, mailbox[m].n, cookie(mailbox[m].p, mailbox[m].n)))
				errors++;
			free(mailbox[m].p);
		}
	printf("um_stress: %d threads x %d ops, %ld errors\n", NTHREADS, OPS, errors);
	return errors ? 1 : 0;
}
