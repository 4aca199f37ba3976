/*
 * cmd_bench.c — refalloc bench: allocator comparisons and knob sweeps (in progress).
 */
#include "tool.h"
#include <stdio.h>

int cmd_bench(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "refalloc bench: not available in this build\n");
	return 64;
}
