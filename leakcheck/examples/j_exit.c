/*
 * j_exit.c — exit() called from deep inside the program: what the frames
 * still live at that call hold is reachable (both tools scan the stack of
 * the exiting thread above the call), what only dead frames held is lost.
 * expect: definite 77/1 indirect 0/0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

static __attribute__((noinline)) void lose(void)
{
	char *lost = malloc(77);        /* its frame is gone before exit() */
	if (!lost)
		exit(1);
	memset(lost, 1, 77);
	keep(lost);
}

static __attribute__((noinline, noreturn)) void finish(int code)
{
	struct {
		char *held;             /* in a live frame at exit(): reachable */
		long pad;
	} s = { malloc(200), 0 };
	if (!s.held)
		exit(1);
	memset(s.held, 2, 200);
	keep(&s);
	printf("j_exit: exiting from finish()\n");
	exit(code);
}

int main(void)
{
	lose();
	finish(0);
}
