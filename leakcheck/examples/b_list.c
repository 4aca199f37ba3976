/*
 * b_list.c — a linked list whose head pointer is dropped: the head is
 * definitely lost, the nodes behind it are indirectly lost.
 * expect: definite 32/1 indirect 320/10
 */
#include <stdio.h>
#include <stdlib.h>

#include "examples.h"

struct node {
	struct node *next;
	long value;
	char pad[16];
};

struct node *g_list;

static __attribute__((noinline)) struct node *build(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = calloc(1, sizeof(*x));
		if (!x)
			exit(1);
		x->next = head;
		x->value = i;
		head = x;
		keep(x);
	}
	return head;
}

static __attribute__((noinline)) long sum(const struct node *x)
{
	long s = 0;
	for (; x; x = x->next)
		s += x->value;
	return s;
}

int main(void)
{
	g_list = build(11);
	printf("b_list: sum %ld\n", sum(g_list));
	g_list = NULL;          /* the whole list is now unreachable */
	return 0;
}
