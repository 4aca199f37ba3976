/*
 * fuzz_common.c — what every binary-trace target does with one input.
 *
 * A finding is anything the harness exists to catch: an invariant broken
 * (the engine inconsistent with itself), the oracle contradicted (overlap,
 * lost contents, an undetected double or invalid free, unzeroed memory,
 * misalignment, a cache count off), a decoded trace the replay calls
 * unreadable (the decoder promised a valid one), a host failure, or a
 * sanitizer report. A panic (vm.panic_on_oom) and misuse reports are
 * modelled outcomes, not findings.
 *
 * Two policy properties sit here, outside the engine, because they judge
 * decisions rather than structures (the engine stays consistent whatever
 * victim or watermark it picks):
 *
 *   oom-victim   every "Out of memory: Killed process" picks a task that no
 *                other candidate dominates: none in the OOM dump has more
 *                pages (rss + page tables) with an oom_score_adj at least as
 *                high, and the victim's oom_score_adj is not -1000. Read
 *                from the engine's own kernel-format OOM report.
 *   spurious-fail  a kernel-only trace that never asks for more than an
 *                eighth of the machine (counted generously: every request
 *                kept, slabs and page arrays included), injects no faults,
 *                takes no memory away and turns no knob, has no allocation
 *                failure: with that much room, a failure means the page
 *                allocator refused memory it had (a watermark or free-area
 *                test gone wrong).
 *
 * On a finding the decoded trace is printed with the command that replays
 * it, then the target aborts.
 */
#include "fuzzer.h"
#include "refalloc/trace.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static FILE *devnull;

static void finding(const struct ra_trace *t, int rc, const struct ra_replay_stats *st, const char *why)
{
	if (why)
		fprintf(stderr, "BUG: refalloc: harness: %s\n", why);
	fprintf(stderr, "refalloc fuzz: %s: finding: replay exit %d (%llu oracle failures, %llu invariant problems)%s%s\n",
	        ra_fuzz_target, rc, (unsigned long long)st->oracle_failures, (unsigned long long)st->invariant_problems,
	        why ? ", harness: " : "", why ? why : "");
	fprintf(stderr, "refalloc fuzz: the decoded trace follows; save it as crash.trace and run\n"
	        "refalloc fuzz:   refalloc replay --fuzz crash.trace\n");
	ra_trace_print(t, stderr);
	/* once more with the reports shown, for the log */
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	ra_replay_opts_fuzz(&o);
	o.out = devnull;
	o.err = stderr;
	ra_replay(t, &o);
	abort();
}

/* === oom-victim ========================================================== */

struct cand { unsigned pid; unsigned long long pages; int adj; };

/* Check every kill in the OOM reports of err[0..len). Returns NULL or a
 * description of the first bad choice (in buf). */
static const char *check_oom_victims(const char *err, size_t len, char *buf, size_t bufsz)
{
	struct cand c[256];
	unsigned nc = 0;
	const char *p = err, *end = err + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = 0;
		p = nl ? nl + 1 : end;
		unsigned pid, tgid;
		int uid, swap, adj;
		unsigned long long vm, rss, pgt;
		if (!strncmp(line, "Tasks state", 11)) {
			nc = 0;
		} else if (line[0] == '[' && sscanf(line, "[%u] %d %u %llu %llu %llu %d %d", &pid, &uid, &tgid, &vm, &rss,
		                                    &pgt, &swap, &adj) == 8) {
			if (nc < 256 && pid != 1)
				c[nc++] = (struct cand){ pid, rss + pgt / 4096, adj };
		} else if (!strncmp(line, "Out of memory: Killed process ", 30)) {
			unsigned victim = (unsigned)strtoul(line + 30, NULL, 10);
			const struct cand *v = NULL;
			for (unsigned i = 0; i < nc; i++)
				if (c[i].pid == victim)
					v = &c[i];
			if (!v)
				continue;
			if (v->adj == -1000) {
				snprintf(buf, bufsz, "oom-victim: killed pid %u although its oom_score_adj is -1000", victim);
				return buf;
			}
			for (unsigned i = 0; i < nc; i++)
				if (c[i].adj != -1000 && c[i].pages > v->pages && c[i].adj >= v->adj) {
					snprintf(buf, bufsz, "oom-victim: killed pid %u (%llu pages, oom_score_adj %d) but pid %u has "
					         "more (%llu pages, oom_score_adj %d)", victim, v->pages, v->adj, c[i].pid, c[i].pages,
					         c[i].adj);
					return buf;
				}
			nc = 0;
		}
	}
	return NULL;
}

/* === spurious-fail ======================================================= */

static uint64_t pow2_up(uint64_t x)
{
	uint64_t p = 8;
	while (p < x)
		p <<= 1;
	return p;
}

/* The most the trace can ever hold, counted generously; 0 if the trace does
 * something after which an allocation may fail for a good reason. */
static uint64_t kernel_budget(const struct ra_trace *t)
{
	const uint32_t zone_bits = RA___GFP_DMA | RA___GFP_DMA32 | RA___GFP_THISNODE;
	uint64_t need = 0, slab_mult = 1;
	unsigned caches = 0;
	uint64_t cpus = t->cfg.cpus ? t->cfg.cpus : 1;
	for (uint32_t i = 0; i < t->nops; i++) {
		const struct ra_op *op = &t->ops[i];
		uint64_t s = (uint64_t)op->a[0];
		if (op->gfp & zone_bits)
			return 0;
		switch (op->code) {
		case RA_OP_MACHINE: case RA_OP_CPU: case RA_OP_CHECK: case RA_OP_DUMP: case RA_OP_PEEK:
		case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_CACHE_FREE: case RA_OP_CACHE_SHRINK:
		case RA_OP_CACHE_DESTROY:
			break;
		case RA_OP_SLUB_DEBUG:
			slab_mult = 4;
			break;
		case RA_OP_ALLOC_PAGES:
			need += 4096ULL << s;
			break;
		case RA_OP_KMALLOC: case RA_OP_KZALLOC: case RA_OP_KREALLOC:
			if (op->code == RA_OP_KREALLOC)
				s = (uint64_t)op->a[0];
			if ((op->code == RA_OP_KREALLOC && !s) || s > (2ULL << 20))
				return 0;
			need += s <= 8192 ? 2 * pow2_up(s) * slab_mult + 32768 * cpus : 2 * pow2_up(s);
			break;
		case RA_OP_CACHE_CREATE:
			if (s > (64 << 10))
				return 0;
			caches++;
			need += (65536 + 8 * pow2_up(s + (uint64_t)op->a[1])) * cpus * slab_mult;
			break;
		case RA_OP_CACHE_ALLOC:
			need += 4 * 65536 * slab_mult;   /* the cache's size is not at hand: a generous bound */
			break;
		case RA_OP_VMALLOC: case RA_OP_VZALLOC:
			if (!s || s > (8ULL << 20))
				return 0;
			need += ((s + 4095) & ~4095ULL) + 16384;
			break;
		default:
			return 0;   /* user side, knobs, faults, balloons, ioremap, pokes, expects (misuse) */
		}
	}
	(void)caches;
	return need ? need : 1;
}

/* === The engine's messages ============================================== */

/* They go to memory (the oom-victim property reads them), except an engine
 * assertion (`refalloc: engine bug at ...`), which is passed straight on to
 * stderr: the engine aborts right after printing it. */
struct capture { char *buf; size_t len, cap; };

static ssize_t capture_write(void *c, const char *data, size_t n)
{
	struct capture *cp = c;
	const char *b = memmem(data, n, "refalloc: engine bug", 20);
	if (b) {
		const char *e = memchr(b, '\n', n - (size_t)(b - data));
		fwrite(b, 1, e ? (size_t)(e - b) + 1 : n - (size_t)(b - data), stderr);
		fflush(stderr);
	}
	if (cp->len + n + 1 > cp->cap) {
		size_t nc = (cp->len + n + 1) * 2;
		char *nb = realloc(cp->buf, nc);
		if (!nb)
			return (ssize_t)n;     /* keep what fits: a property may miss a kill, nothing worse */
		cp->buf = nb;
		cp->cap = nc;
	}
	memcpy(cp->buf + cp->len, data, n);
	cp->len += n;
	cp->buf[cp->len] = 0;
	return (ssize_t)n;
}

/* === One input =========================================================== */

int ra_fuzz_replay(const uint8_t *buf, size_t len, const char *profile)
{
	struct ra_trace *t;
	if (ra_trace_decode(buf, len, ra_trace_profile(profile), &t))
		abort();
	return ra_fuzz_check(t);
}

int ra_fuzz_check(struct ra_trace *t)
{
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	/* the engine's messages (OOM reports among them) go to memory: the
	 * oom-victim property reads them */
	struct capture cap = { 0 };
	FILE *ef = fopencookie(&cap, "w", (cookie_io_functions_t){ .write = capture_write });
	/* misuse reports are only counted (formatting them costs a tenth of
	 * the time); the OOM killer's report is printed regardless */
	static const char *const sets[] = { "engine.report_limit=0" };
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	o.sets = sets;
	o.nsets = 1;
	ra_replay_opts_fuzz(&o);
	o.quiet_errors = ef ? 0 : 1;
	o.out = devnull;
	o.err = ef ? ef : devnull;
	struct ra_replay_stats st;
	int rc = ra_replay_ex(t, &o, &st);
	if (ef)
		fclose(ef);
	char why[256];
	const char *bad = NULL;
	if (cap.len && strstr(cap.buf, "Killed process"))
		bad = check_oom_victims(cap.buf, cap.len, why, sizeof(why));
	if (!bad && st.alloc_failures && !st.injected) {
		uint64_t need = kernel_budget(t);
		uint64_t usable = t->cfg.mem - t->cfg.cma;
		if (need && need <= usable / 8) {
			snprintf(why, sizeof(why), "spurious-fail: %llu allocation%s failed although the trace never asks for "
			         "more than %llu of the machine's %llu bytes", (unsigned long long)st.alloc_failures,
			         st.alloc_failures == 1 ? "" : "s", (unsigned long long)need, (unsigned long long)usable);
			bad = why;
		}
	}
	free(cap.buf);
	if ((rc != RA_EXIT_OK && rc != RA_EXIT_PANIC) || bad)
		finding(t, rc, &st, bad);
	ra_trace_free(t);
	return 0;
}
