/*
 * fuzz_common.c — what every binary-trace target does with one input.
 *
 * A finding is anything the harness exists to catch: an invariant broken
 * (the engine inconsistent with itself), the oracle contradicted (overlap,
 * lost contents, an undetected double or invalid free, unzeroed memory,
 * misalignment, a cache count off), a decoded trace the replay calls
 * unreadable (the decoder promised a valid one), a host failure, or a
 * sanitizer report. A panic (vm.panic_on_oom) and misuse reports are
 * modelled outcomes, not findings. On a finding the decoded trace is
 * printed with the command that replays it, then the target aborts.
 */
#include "fuzzer.h"
#include "refalloc/trace.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *devnull;

static void finding(const struct ra_trace *t, int rc, const struct ra_replay_stats *st)
{
	fprintf(stderr, "refalloc fuzz: %s: finding: replay exit %d (%llu oracle failures, %llu invariant problems)\n",
	        ra_fuzz_target, rc, (unsigned long long)st->oracle_failures, (unsigned long long)st->invariant_problems);
	fprintf(stderr, "refalloc fuzz: the decoded trace follows; save it as crash.trace and run\n"
	        "refalloc fuzz:   refalloc replay --fuzz crash.trace\n");
	ra_trace_print(t, stderr);
	/* once more with the reports shown, for the log */
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	o.check = RA_CHECK_OP;
	o.oracle = 1;
	o.allow_reports = 1;
	o.out = devnull;
	o.err = stderr;
	ra_replay(t, &o);
	abort();
}

int ra_fuzz_replay(const uint8_t *buf, size_t len, const char *profile)
{
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	struct ra_trace *t;
	if (ra_trace_decode(buf, len, ra_trace_profile(profile), &t))
		abort();
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	o.check = RA_CHECK_OP;
	o.oracle = 1;
	o.allow_reports = 1;
	o.quiet_errors = 1;
	o.out = devnull;
	o.err = devnull;
	struct ra_replay_stats st;
	int rc = ra_replay_ex(t, &o, &st);
	if (rc != RA_EXIT_OK && rc != RA_EXIT_PANIC)
		finding(t, rc, &st);
	ra_trace_free(t);
	return 0;
}
