/*
 * cmd_import.c — refalloc trace import-mtrace (in progress).
 */
#include "tool.h"
#include <stdio.h>

int cmd_import_mtrace(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "refalloc trace import-mtrace: not available in this build\n");
	return 64;
}
