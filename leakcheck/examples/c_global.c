/*
 * c_global.c — blocks still reachable from a global, a static in a
 * function and a table of pointers: not leaks ("still reachable").
 * expect: definite 0/0 indirect 0/0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

char *g_config;
char **g_table;

static __attribute__((noinline)) const char *cached_name(void)
{
	static char *name;
	if (!name) {
		name = malloc(64);
		if (!name)
			exit(1);
		strcpy(name, "refalloc");
		keep(&name);
	}
	return name;
}

int main(void)
{
	g_config = malloc(4096);
	g_table = calloc(8, sizeof(*g_table));
	if (!g_config || !g_table)
		return 1;
	for (int i = 0; i < 8; i++) {
		g_table[i] = malloc(100 + i);
		if (!g_table[i])
			return 1;
		memset(g_table[i], i, 100 + i);
		keep(g_table[i]);
	}
	snprintf(g_config, 4096, "name=%s", cached_name());
	printf("c_global: %s\n", g_config);
	return 0;
}
