/*
 * g_cycle.c — structures that only point at each other: a ring of three
 * nodes (one of them counts as definitely lost, the others indirectly)
 * and a lost binary tree of depth 3 (root definite, 6 nodes indirect).
 * expect: definite 64/2 indirect 256/8
 */
#include <stdio.h>
#include <stdlib.h>

#include "examples.h"

struct node {
	struct node *a, *b;
	long v[2];
};

static __attribute__((noinline)) struct node *mk(struct node *a, struct node *b)
{
	struct node *x = malloc(sizeof(*x));
	if (!x)
		exit(1);
	x->a = a;
	x->b = b;
	x->v[0] = x->v[1] = 7;
	keep(x);
	return x;
}

static __attribute__((noinline)) struct node *tree(int depth)
{
	if (depth == 0)
		return NULL;
	struct node *l = tree(depth - 1), *r = tree(depth - 1);
	return mk(l, r);
}

static __attribute__((noinline)) void lose(void)
{
	struct node *x = mk(NULL, NULL), *y = mk(x, NULL), *z = mk(y, NULL);
	x->a = z;               /* x -> z -> y -> x */
	keep(x);
	tree(3);
}

int main(void)
{
	lose();
	printf("g_cycle: done\n");
	return 0;
}
