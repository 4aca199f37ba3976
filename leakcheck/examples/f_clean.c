/*
 * f_clean.c — a clean program: everything allocated is freed.
 * expect: definite 0/0 indirect 0/0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

int main(void)
{
	char *v[100];
	for (int i = 0; i < 100; i++) {
		v[i] = malloc((size_t)(i * 13 + 1));
		if (!v[i])
			return 1;
		memset(v[i], i, (size_t)(i * 13 + 1));
		keep(v[i]);
	}
	for (int i = 0; i < 100; i += 2)
		free(v[i]);
	for (int i = 1; i < 100; i += 2)
		v[i] = realloc(v[i], 5000);
	for (int i = 1; i < 100; i += 2)
		free(v[i]);
	printf("f_clean: ok\n");
	return 0;
}
