/*
 * d_apis.c — leaks through every allocation entry: realloc (grown, and
 * from NULL), calloc, posix_memalign, aligned_alloc, memalign, strdup.
 * A failed realloc keeps its block (leaked under its old size); realloc
 * to a new home leaks under the new size.
 * expect: definite 8578/8 indirect 0/0
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

void *g_keep[8];

static __attribute__((noinline)) void leak_all(void)
{
	char *r = malloc(100);                 /* grown to 3000 and leaked */
	r = realloc(r, 3000);
	memset(r, 1, 3000);
	char *n = realloc(NULL, 200);          /* realloc as malloc, leaked */
	memset(n, 2, 200);
	int *c = calloc(25, sizeof(int));       /* 100 bytes leaked */
	void *pm = NULL;
	if (posix_memalign(&pm, 64, 1000) != 0) /* 1000 bytes leaked */
		exit(1);
	memset(pm, 3, 1000);
	void *aa = aligned_alloc(256, 512);     /* 512 bytes leaked */
	memset(aa, 4, 512);
	void *ma = memalign(4096, 3700);        /* 3700 bytes leaked */
	memset(ma, 5, 3700);
	char *s = strdup("a string leaked by strdup");  /* 26 bytes */
	char *k = malloc(40);                   /* a failed realloc keeps it: 40 leaked */
	memset(k, 6, 40);
	if (realloc(k, (size_t)-1 / 4) != NULL)
		exit(1);
	keep(k);
	keep(r);
	keep(n);
	keep(c);
	keep(pm);
	keep(aa);
	keep(ma);
	keep(s);
	/* freed ones, for contrast */
	char *f = malloc(5000);
	f = realloc(f, 6000);
	keep(f);
	free(f);
	void *pf = NULL;
	if (posix_memalign(&pf, 128, 77) == 0)
		free(pf);
	g_keep[0] = calloc(3, 3);               /* reachable */
}

int main(void)
{
	leak_all();
	printf("d_apis: done\n");
	return 0;
}
