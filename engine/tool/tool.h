/*
 * tool.h — the refalloc tool's subcommands, one file each:
 *   cmd_trace.c   refalloc trace encode|decode|import-mtrace ...
 * Each returns an exit code as refalloc.c documents (64 for bad usage).
 * `refalloc bench ...` is bench/'s own program, refalloc-bench, which
 * refalloc.c runs in its place.
 */
#ifndef RA_TOOL_H
#define RA_TOOL_H

int cmd_trace(int argc, char **argv);
/* cmd_import.c: refalloc trace import-mtrace (called by cmd_trace) */
int cmd_import_mtrace(int argc, char **argv);

#endif
