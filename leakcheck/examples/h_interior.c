/*
 * h_interior.c — blocks known only through interior pointers are
 * "possibly lost", not definitely lost (Valgrind's rule, which the report
 * follows); one plain leak next to them.
 * expect: definite 48/1 indirect 0/0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

char *g_mid;             /* points into the middle of a block */
long *g_tail;            /* points at a block's last word */

int main(void)
{
	char *a = malloc(256);
	long *b = malloc(10 * sizeof(long));
	char *c = malloc(48);
	if (!a || !b || !c)
		return 1;
	memset(a, 1, 256);
	memset(b, 0, 10 * sizeof(long));
	memset(c, 2, 48);
	keep(a);
	keep(b);
	keep(c);
	g_mid = a + 100;
	g_tail = b + 9;
	c = NULL;
	a = NULL;
	b = NULL;
	printf("h_interior: %d %ld\n", g_mid[0], g_tail[0]);
	return 0;
}
