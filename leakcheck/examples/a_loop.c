/*
 * a_loop.c — the seeds' leak-example in C: a loop that leaks a 12 KiB
 * block per iteration (argv[1] iterations, default 10).
 * expect: definite 122880/10 indirect 0/0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

static __attribute__((noinline)) void work(int i)
{
	char *buf = malloc(12 * 1024);
	if (!buf)
		exit(1);
	memset(buf, 'a' + i % 26, 12 * 1024);
	keep(buf);
	/* ... uses buf, forgets to free it */
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	for (int i = 0; i < n; i++)
		work(i);
	printf("a_loop: %d iterations\n", n);
	return 0;
}
