/*
 * um_probe.c — run under LD_PRELOAD: shows that the malloc family and
 * glibc's extensions (malloc_usable_size, mallopt, malloc_stats,
 * malloc_info) resolve to librefalloc_malloc.so.  The fingerprint: our
 * M_ARENA_TEST/M_CHECK_ACTION return 1 like glibc, but only umalloc
 * registers the stats in the shape checked by run.sh and makes
 * malloc_usable_size(malloc(1)) == 24 with a fresh first chunk at the
 * brk emulation's reservation (not near the real program break).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	void *p = malloc(1);
	void *brk_now = sbrk(0);
	uintptr_t d = (uintptr_t)p > (uintptr_t)brk_now ? (uintptr_t)p - (uintptr_t)brk_now
	                                                 : (uintptr_t)brk_now - (uintptr_t)p;
	printf("usable %zu\n", malloc_usable_size(p));
	printf("mallopt %d %d\n", mallopt(M_MXFAST, 64), mallopt(M_MMAP_THRESHOLD, 64 << 20));
	printf("far_from_brk %d\n", d > (1u << 30));
	void *q = aligned_alloc(4096, 100);
	void *r = NULL;
	int rc = posix_memalign(&r, 24, 10);
	printf("aligned %d posix_einval %d\n", ((uintptr_t)q & 4095) == 0, rc == 22);
	free(q);
	free(p);
	fflush(stdout);
	malloc_stats();
	malloc_info(0, stdout);
	return 0;
}
