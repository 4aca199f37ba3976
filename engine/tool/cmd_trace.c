/*
 * cmd_trace.c — refalloc trace: converting between the text and binary forms.
 *
 *   refalloc trace encode [--profile=P] IN.trace [OUT.bin]    text -> binary (stdout if no OUT)
 *   refalloc trace decode [--profile=P] IN.bin [OUT.trace]    binary -> text
 *   refalloc trace print IN.trace                             the canonical text of a trace
 *   refalloc trace import-mtrace ...                          glibc mtrace() output -> trace
 *
 * Profiles (engine, buddy, slab, vmalloc, umalloc) are the fuzz targets'
 * operation mixes; a binary input means what its profile says.
 */
#include "refalloc/trace.h"
#include "tool.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: refalloc trace encode [--profile=P] IN.trace [OUT.bin]\n"
	      "       refalloc trace decode [--profile=P] IN.bin [OUT.trace]\n"
	      "       refalloc trace print IN.trace\n"
	      "       refalloc trace import-mtrace MTRACE_FILE [OUT.trace]\n"
	      "profiles: engine (default), buddy, slab, vmalloc, umalloc, pressure\n", f);
}

static int read_all(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0, r;
	uint8_t *b = malloc(cap);
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) { free(b); b = NULL; break; }
			b = nb;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!b) {
		fprintf(stderr, "%s: error: out of memory\n", path);
		return -1;
	}
	*buf = b;
	*len = n;
	return 0;
}

static FILE *open_out(const char *path)
{
	if (!path || !strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "wb");
	if (!f)
		fprintf(stderr, "%s: error: cannot write: %s\n", path, strerror(errno));
	return f;
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "--help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? RA_EXIT_USAGE : 0;
	}
	const char *sub = argv[0];
	if (!strcmp(sub, "import-mtrace"))
		return cmd_import_mtrace(argc - 1, argv + 1);
	int profile = ra_trace_profile("engine");
	const char *files[2] = { NULL, NULL };
	int nf = 0;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--profile=", 10)) {
			profile = ra_trace_profile(argv[i] + 10);
			if (profile < 0) {
				fprintf(stderr, "refalloc trace: unknown profile '%s'\n", argv[i] + 10);
				return RA_EXIT_USAGE;
			}
		} else if (nf < 2) {
			files[nf++] = argv[i];
		} else {
			usage(stderr);
			return RA_EXIT_USAGE;
		}
	}
	if (!nf) {
		usage(stderr);
		return RA_EXIT_USAGE;
	}
	if (!strcmp(sub, "encode") || !strcmp(sub, "print")) {
		struct ra_trace *t;
		struct ra_trace_error e;
		if (ra_trace_load(files[0], &t, &e)) {
			if (e.line)
				fprintf(stderr, "%s:%u:%u: error: %s\n", files[0], e.line, e.col, e.msg);
			else
				fprintf(stderr, "%s: error: %s\n", files[0], e.msg);
			return RA_EXIT_TRACE;
		}
		if (!strcmp(sub, "print")) {
			ra_trace_print(t, stdout);
			ra_trace_free(t);
			return 0;
		}
		uint8_t *bin;
		size_t len;
		int rc = ra_trace_encode(t, profile, &bin, &len, &e);
		ra_trace_free(t);
		if (rc) {
			fprintf(stderr, "%s:%u:%u: error: %s\n", files[0], e.line, e.col, e.msg);
			return RA_EXIT_TRACE;
		}
		FILE *f = open_out(files[1]);
		if (!f) {
			free(bin);
			return RA_EXIT_INTERNAL;
		}
		fwrite(bin, 1, len, f);
		free(bin);
		if (f != stdout)
			fclose(f);
		return 0;
	}
	if (!strcmp(sub, "decode")) {
		uint8_t *buf;
		size_t len;
		if (read_all(files[0], &buf, &len))
			return RA_EXIT_INTERNAL;
		struct ra_trace *t;
		int rc = ra_trace_decode(buf, len, profile, &t);
		free(buf);
		if (rc) {
			fprintf(stderr, "%s: error: out of memory\n", files[0]);
			return RA_EXIT_INTERNAL;
		}
		FILE *f = open_out(files[1]);
		if (!f) {
			ra_trace_free(t);
			return RA_EXIT_INTERNAL;
		}
		ra_trace_print(t, f);
		ra_trace_free(t);
		if (f != stdout)
			fclose(f);
		return 0;
	}
	fprintf(stderr, "refalloc trace: unknown subcommand '%s'\n", sub);
	usage(stderr);
	return RA_EXIT_USAGE;
}
