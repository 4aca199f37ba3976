/*
 * fuzz_trace_text — the text trace parser.
 *
 * Property: any byte string either parses or yields one error with a line
 * inside the input and a column inside that line; a parsed trace prints to
 * text that parses back to the same print (the text form round-trips); and
 * a small parsed trace replays to one of the documented exit codes without
 * crashing.
 */
#include "fuzzer.h"
#include "refalloc/trace.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ra_fuzz_target = "fuzz_trace_text";
const char *ra_fuzz_profile = NULL;
static FILE *devnull;

int FuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	devnull = fopen("/dev/null", "w");
	return 0;
}

static char *print(const struct ra_trace *t, size_t *len)
{
	char *s = NULL;
	FILE *f = open_memstream(&s, len);
	ra_trace_print(t, f);
	fclose(f);
	return s;
}

int FuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct ra_trace *t;
	struct ra_trace_error e;
	if (ra_trace_parse("fuzz.trace", (const char *)buf, len, &t, &e)) {
		/* the error names a real place: a line of the input, a column in it */
		uint32_t lines = 1;
		size_t start = 0, linelen = 0;
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n') {
				if (lines == e.line)
					break;
				lines++;
				start = i + 1;
			}
		for (size_t i = start; i < len && buf[i] != '\n'; i++)
			linelen++;
		if (e.line < 1 || e.line > lines || e.col < 1 || e.col > linelen + 1 || !e.msg[0]) {
			fprintf(stderr, "fuzz_trace_text: error at %u:%u outside the input (%u lines, line length %zu): %s\n",
			        e.line, e.col, lines, linelen, e.msg);
			abort();
		}
		return 0;
	}
	size_t l1, l2;
	char *p1 = print(t, &l1);
	struct ra_trace *t2;
	if (ra_trace_parse("fuzz.trace", p1, l1, &t2, &e)) {
		fprintf(stderr, "fuzz_trace_text: printed trace does not parse: %u:%u: %s\n%s", e.line, e.col, e.msg, p1);
		abort();
	}
	char *p2 = print(t2, &l2);
	if (l1 != l2 || memcmp(p1, p2, l1)) {
		fprintf(stderr, "fuzz_trace_text: print does not round-trip:\n%s---\n%s", p1, p2);
		abort();
	}
	/* replay small traces on small machines: any outcome but a crash */
	if (t->nops <= 64 && t->cfg.mem <= (256ULL << 20)) {
		struct ra_replay_opts o;
		ra_replay_opts_default(&o);
		o.check = RA_CHECK_OP;
		o.allow_reports = 1;    /* misuse is reported, and ASan watches the engine, not the trace's access */
		o.quiet_errors = 1;
		o.out = devnull;
		o.err = devnull;
		int rc = ra_replay(t, &o);
		if (rc != 0 && rc != 1 && rc != 2 && rc != 3) {
			fprintf(stderr, "fuzz_trace_text: replay exit %d\n%s", rc, p1);
			abort();
		}
	}
	free(p1);
	free(p2);
	ra_trace_free(t);
	ra_trace_free(t2);
	return 0;
}

void FuzzerCleanup(void) {}
