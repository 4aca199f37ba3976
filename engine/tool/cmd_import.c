/*
 * cmd_import.c — `refalloc trace import-mtrace FILE [-o OUT] [--task NAME]`:
 * glibc's mtrace() output (MALLOC_TRACE=file, with libc_malloc_debug.so
 * preloaded since glibc 2.34) converted to a text trace through the trace
 * API, so the engine and the bench can replay it.
 *
 * mtrace lines (glibc malloc/mtrace-impl.c), each optionally prefixed by
 * "@ CALLER " where CALLER names the call site:
 *   = Start | = End            tracing switched on / off
 *   + ADDR SIZE                malloc, calloc, memalign (ADDR (nil): failed)
 *   - ADDR                     free
 *   < OLD  then  > NEW SIZE    realloc that moved or not
 *   ! OLD SIZE                 realloc that failed (OLD stays)
 * Sizes are hex.  mtrace records no threads: everything runs on thread 0
 * of one task.  Frees of addresses the trace never saw allocated (from
 * before tracing started) are dropped and counted in a comment.  Anything
 * else is an error naming FILE:LINE (exit 2).
 */
#include "tool.h"
#include "refalloc/trace.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct amap { uint64_t *key; uint32_t *id; uint32_t cap, n; };

static uint32_t *amap_slot(struct amap *m, uint64_t a, int insert)
{
	if (insert && (m->n + 1) * 2 > m->cap) {
		struct amap o = *m;
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->key = calloc(m->cap, sizeof(uint64_t));
		m->id = calloc(m->cap, sizeof(uint32_t));
		if (!m->key || !m->id)
			exit(RA_EXIT_INTERNAL);
		m->n = 0;
		for (uint32_t i = 0; i < o.cap; i++)
			if (o.key[i] && o.id[i] != UINT32_MAX)
				*amap_slot(m, o.key[i], 1) = o.id[i];
		free(o.key);
		free(o.id);
	}
	if (!m->cap)
		return NULL;
	uint32_t h = (uint32_t)((a * 0x9e3779b97f4a7c15ULL) >> 40) & (m->cap - 1);
	for (;; h = (h + 1) & (m->cap - 1)) {
		if (m->key[h] == a)
			return &m->id[h];
		if (!m->key[h]) {
			if (!insert)
				return NULL;
			m->key[h] = a;
			m->id[h] = UINT32_MAX;
			m->n++;
			return &m->id[h];
		}
	}
}

struct imp {
	struct ra_trace *t;
	struct amap map;
	uint32_t *freeids, nfree, nextid, capfree;
	uint32_t *names;           /* id -> name id */
	uint32_t capnames;
	uint64_t dropped, stale;
};

static uint32_t name_of(struct imp *im, uint32_t id)
{
	if (id >= im->capnames) {
		uint32_t n = im->capnames ? im->capnames * 2 : 1024;
		while (n <= id)
			n *= 2;
		im->names = realloc(im->names, n * sizeof(uint32_t));
		if (!im->names)
			exit(RA_EXIT_INTERNAL);
		for (uint32_t i = im->capnames; i < n; i++)
			im->names[i] = RA_NONAME;
		im->capnames = n;
	}
	if (im->names[id] == RA_NONAME) {
		char b[24];
		int len = snprintf(b, sizeof(b), "m%u", id);
		im->names[id] = ra_trace_name(im->t, b, (size_t)len);
	}
	return im->names[id];
}

static uint32_t id_new(struct imp *im)
{
	return im->nfree ? im->freeids[--im->nfree] : im->nextid++;
}

static void id_put(struct imp *im, uint32_t id)
{
	if (im->nfree == im->capfree) {
		im->capfree = im->capfree ? im->capfree * 2 : 1024;
		im->freeids = realloc(im->freeids, im->capfree * sizeof(uint32_t));
		if (!im->freeids)
			exit(RA_EXIT_INTERNAL);
	}
	im->freeids[im->nfree++] = id;
}

static int parse_hex(const char *s, uint64_t *v)
{
	if (!strcmp(s, "(nil)")) {
		*v = 0;
		return 0;
	}
	char *e;
	errno = 0;
	*v = strtoull(s, &e, 16);
	return (*e || e == s || errno) ? -1 : 0;
}

static void emit_free(struct imp *im, uint32_t *slot, uint32_t line)
{
	struct ra_op *op = ra_trace_add(im->t, RA_OP_FREE);
	op->line = line;
	op->h[0] = name_of(im, *slot);
	id_put(im, *slot);
	*slot = UINT32_MAX;
}

/* Bind a fresh handle to address a (a live stale binding is freed first). */
static uint32_t bind_addr(struct imp *im, uint64_t a, uint32_t line)
{
	uint32_t *s = amap_slot(&im->map, a, 1);
	if (*s != UINT32_MAX) {
		im->stale++;
		emit_free(im, s, line);
	}
	*s = id_new(im);
	return name_of(im, *s);
}

static int import(const char *file, FILE *in, struct imp *im, const char *task)
{
	char line[4096];
	uint32_t ln = 0, pending_line = 0;
	uint64_t pending_old = 0;
	int have_pending = 0;
	struct ra_op *op = ra_trace_add(im->t, RA_OP_TASK);
	op->str = ra_trace_str(im->t, task, strlen(task));
	op->out = ra_trace_name(im->t, "t", 1);
	while (fgets(line, sizeof(line), in)) {
		ln++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			fprintf(stderr, "%s:%u: error: line longer than %zu bytes\n", file, ln, sizeof(line) - 2);
			return RA_EXIT_TRACE;
		}
		if (memchr(line, 0, len)) {
			fprintf(stderr, "%s:%u: error: a NUL byte\n", file, ln);
			return RA_EXIT_TRACE;
		}
		char *tok[8];
		int nt = 0;
		for (char *save = NULL, *p = strtok_r(line, " \t\r\n", &save); p && nt < 8; p = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = p;
		if (!nt)
			continue;
		int k = 0;
		if (!strcmp(tok[0], "=")) {
			if (nt == 2 && (!strcmp(tok[1], "Start") || !strcmp(tok[1], "End")))
				continue;
			fprintf(stderr, "%s:%u: error: expected '= Start' or '= End'\n", file, ln);
			return RA_EXIT_TRACE;
		}
		if (!strcmp(tok[0], "@")) {
			/* "@ CALLER op ...": the caller has no spaces in glibc's forms */
			for (k = 1; k < nt; k++)
				if (strlen(tok[k]) == 1 && strchr("+-<>!", tok[k][0]))
					break;
			if (k >= nt) {
				fprintf(stderr, "%s:%u: error: '@' line without an operation (+ - < > !)\n", file, ln);
				return RA_EXIT_TRACE;
			}
		}
		char c = tok[k][0];
		int args = nt - k - 1;
		uint64_t a = 0, size = 0;
		if (strlen(tok[k]) != 1 || !strchr("+-<>!", c)) {
			fprintf(stderr, "%s:%u: error: unrecognised mtrace line (expected + - < > ! or =)\n", file, ln);
			return RA_EXIT_TRACE;
		}
		int need = (c == '-' || c == '<') ? 1 : 2;
		if (args != need || parse_hex(tok[k + 1], &a) || (need == 2 && parse_hex(tok[k + 2], &size))) {
			fprintf(stderr, "%s:%u: error: '%c' takes %s\n", file, ln, c,
			        need == 1 ? "one hex address" : "a hex address and a hex size");
			return RA_EXIT_TRACE;
		}
		if (have_pending && c != '>') {
			fprintf(stderr, "%s:%u: error: '<' at line %u is not followed by '>'\n", file, ln, pending_line);
			return RA_EXIT_TRACE;
		}
		if (size > (1ULL << 40) && a && c != '!') {
			fprintf(stderr, "%s:%u: error: size %#" PRIx64 " above 1 TiB\n", file, ln, size);
			return RA_EXIT_TRACE;
		}
		switch (c) {
		case '+':
			if (!a)
				break;                           /* a failed allocation */
			op = ra_trace_add(im->t, RA_OP_MALLOC);
			op->line = ln;
			op->a[0] = (int64_t)size;
			op->out = bind_addr(im, a, ln);
			break;
		case '-': {
			uint32_t *s = a ? amap_slot(&im->map, a, 0) : NULL;
			if (!s || *s == UINT32_MAX) {
				im->dropped += a != 0;
				break;
			}
			emit_free(im, s, ln);
			break;
		}
		case '<':
			pending_old = a;
			pending_line = ln;
			have_pending = 1;
			break;
		case '>': {
			if (!have_pending) {
				fprintf(stderr, "%s:%u: error: '>' without a '<' before it\n", file, ln);
				return RA_EXIT_TRACE;
			}
			have_pending = 0;
			uint32_t *s = amap_slot(&im->map, pending_old, 0);
			if (!s || *s == UINT32_MAX) {
				/* the old block predates tracing: a fresh allocation */
				im->dropped++;
				op = ra_trace_add(im->t, RA_OP_MALLOC);
				op->line = ln;
				op->a[0] = (int64_t)size;
				op->out = bind_addr(im, a, ln);
				break;
			}
			uint32_t id = *s;
			*s = UINT32_MAX;
			uint32_t *d = amap_slot(&im->map, a, 1);
			if (*d != UINT32_MAX) {
				im->stale++;
				emit_free(im, d, ln);
			}
			*d = id;
			op = ra_trace_add(im->t, RA_OP_REALLOC);
			op->line = ln;
			op->h[0] = op->out = name_of(im, id);
			op->a[0] = (int64_t)size;
			break;
		}
		case '!':
			break;                               /* realloc failed: the block stays */
		}
	}
	if (have_pending) {
		fprintf(stderr, "%s:%u: error: '<' is not followed by '>'\n", file, pending_line);
		return RA_EXIT_TRACE;
	}
	if (ferror(in)) {
		fprintf(stderr, "%s: read error\n", file);
		return RA_EXIT_INTERNAL;
	}
	return 0;
}

int cmd_import_mtrace(int argc, char **argv)
{
	const char *file = NULL, *out = NULL, *task = "mtrace";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--task") && i + 1 < argc)
			task = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: refalloc trace import-mtrace FILE [OUT | -o OUT] [--task NAME]\n"
			       "  converts glibc mtrace() output (MALLOC_TRACE) to a refalloc trace ('-' reads stdin)\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "refalloc trace import-mtrace: unknown option %s\n", argv[i]);
			return RA_EXIT_USAGE;
		} else if (file && !out)
			out = argv[i];
		else if (file) {
			fprintf(stderr, "refalloc trace import-mtrace: one input file and one output\n");
			return RA_EXIT_USAGE;
		} else
			file = argv[i];
	}
	if (!file) {
		fprintf(stderr, "usage: refalloc trace import-mtrace FILE [OUT | -o OUT] [--task NAME]\n");
		return RA_EXIT_USAGE;
	}
	if (!*task || strlen(task) > 15 || strpbrk(task, " \t\n#")) {
		fprintf(stderr, "refalloc trace import-mtrace: --task takes 1 to 15 printable characters\n");
		return RA_EXIT_USAGE;
	}
	FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!in) {
		fprintf(stderr, "%s: error: %s\n", file, strerror(errno));
		return RA_EXIT_TRACE;
	}
	struct imp im = { .t = ra_trace_new(file) };
	if (!im.t)
		return RA_EXIT_INTERNAL;
	int rc = import(file, in, &im, task);
	if (in != stdin)
		fclose(in);
	if (!rc) {
		FILE *f = out ? fopen(out, "w") : stdout;
		if (!f) {
			fprintf(stderr, "%s: error: %s\n", out, strerror(errno));
			rc = RA_EXIT_INTERNAL;
		} else {
			fprintf(f, "refalloc-trace 1\n# imported from glibc mtrace output %s by refalloc trace import-mtrace\n"
			        "# %" PRIu64 " frees or reallocs of blocks allocated before tracing dropped, %" PRIu64
			        " addresses reused without a traced free\n", file, im.dropped, im.stale);
			for (uint32_t i = 0; i < im.t->nops; i++)
				ra_op_print(im.t, &im.t->ops[i], f);
			if ((f != stdout ? fclose(f) : fflush(f)) != 0)
				rc = RA_EXIT_INTERNAL;
		}
	}
	free(im.map.key);
	free(im.map.id);
	free(im.freeids);
	free(im.names);
	ra_trace_free(im.t);
	return rc;
}
