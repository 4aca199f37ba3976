/*
 * micro.c — ns per operation of the engine's hot paths, checks off.
 *
 * Each figure is the median of RUNS runs of ITERS iterations (a pair is one
 * allocation and its free). The machine is created once per benchmark and
 * warmed up first, so per-cpu lists and cpu slabs are in their steady state,
 * which is what the kernel's own fast-path numbers measure.
 *
 * usage: micro [--quick] [--json FILE]
 */
#include "refalloc/refalloc.h"
#include "refalloc/trace.h"
#include "refalloc/stats.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static ra_machine *machine(const char *what, uint64_t mem)
{
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = mem;
	ra_machine *m;
	if (ra_machine_create(&m, &cfg, NULL, stderr) != RA_OK) {
		fprintf(stderr, "micro: %s: cannot create machine\n", what);
		exit(70);
	}
	ra_set_check_level(m, RA_CHECK_OFF);
	return m;
}

struct bench { const char *name; const char *target; double (*run)(ra_machine *m, ra_cache *c, long iters); };

static volatile ra_addr_t sink;

static double b_order0(ra_machine *m, ra_cache *c, long n)
{
	(void)c;
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ra_addr_t a = ra_alloc_pages(m, RA_GFP_KERNEL, 0);
		ra_free_pages(m, a, 0);
		sink = a;
	}
	return (now_ns() - t0) / (double)n;
}

static double b_order3(ra_machine *m, ra_cache *c, long n)
{
	(void)c;
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ra_addr_t a = ra_alloc_pages(m, RA_GFP_KERNEL, 3);
		ra_free_pages(m, a, 3);
		sink = a;
	}
	return (now_ns() - t0) / (double)n;
}

static double b_kmalloc64(ra_machine *m, ra_cache *c, long n)
{
	(void)c;
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ra_addr_t a = ra_kmalloc(m, 64, RA_GFP_KERNEL);
		ra_kfree(m, a);
		sink = a;
	}
	return (now_ns() - t0) / (double)n;
}

static double b_cache(ra_machine *m, ra_cache *c, long n)
{
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ra_addr_t a = ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL);
		ra_kmem_cache_free(m, c, a);
		sink = a;
	}
	return (now_ns() - t0) / (double)n;
}

static double b_vmalloc64k(ra_machine *m, ra_cache *c, long n)
{
	(void)c;
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ra_addr_t a = ra_vmalloc(m, 64 << 10);
		ra_vfree(m, a);
		sink = a;
	}
	return (now_ns() - t0) / (double)n;
}

/* A full invariant walk of a 1 GiB machine with some of everything in it. */
static double b_fullcheck(ra_machine *m, ra_cache *c, long n)
{
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (ra_check(m, RA_CHECK_FULL)) {
			fprintf(stderr, "micro: the full check found problems\n");
			exit(1);
		}
	(void)c;
	return (now_ns() - t0) / (double)n;
}

/* === Through a trace ====================================================
 * The page cache and kswapd have no call of their own in the public API:
 * they are driven by a trace, and the time of the operations marked is
 * taken on the replay's hook, from BEFORE to AFTER (what kswapd does
 * after an operation is charged to it). */

struct timing { uint32_t from; int only; double total; long n; };

static int time_hook(ra_machine *m, const struct ra_replay_event *ev, void *arg)
{
	(void)m;
	struct timing *tm = arg;
	static double t0;
	if (tm->only >= 0 && ev->op && ev->op->code != tm->only)
		return 0;
	if (ev->point == RA_REPLAY_BEFORE && ev->index >= tm->from)
		t0 = now_ns();
	else if (ev->point == RA_REPLAY_AFTER && ev->index >= tm->from) {
		tm->total += now_ns() - t0;
		tm->n++;
	}
	return 0;
}

/* Replay text, timing the operations from index `from` on (only those of
 * code `only` when it is not -1): ns per op. */
static double replay_timed_only(const char *text, uint32_t from, int only, long *nops)
{
	struct ra_trace *t;
	struct ra_trace_error err;
	if (ra_trace_parse("micro", text, strlen(text), &t, &err)) {
		fprintf(stderr, "micro: %s\n", err.msg);
		exit(70);
	}
	struct timing tm = { .from = from, .only = only };
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	o.check = RA_CHECK_OFF;
	o.hook = time_hook;
	o.hook_arg = &tm;
	if (ra_replay(t, &o) != RA_EXIT_OK) {
		fprintf(stderr, "micro: the timed trace failed\n");
		exit(1);
	}
	ra_trace_free(t);
	if (nops)
		*nops = tm.n;
	return tm.n ? tm.total / (double)tm.n : 0;
}

static double replay_timed(const char *text, uint32_t from, long *nops)
{
	return replay_timed_only(text, from, -1, nops);
}

/* A minor fault on a file mapping: a 64 MiB file, all in the page cache,
 * mapped private and read one byte per 64 KiB: each read is one read
 * fault on a cached page, with the kernel's fault-around on (it maps the
 * 16 cached pages of the 64 KiB window, so the next 15 pages would not
 * fault). The mapping is unmapped and mapped again every round; only the
 * reads are timed: ns per fault. rounds x 1024 faults. */
static double b_file_minor_fault(long rounds)
{
	size_t cap = (size_t)rounds * 1024 * 24 + 256, len = 0;
	char *text = malloc(cap);
	if (!text)
		exit(70);
	len += (size_t)snprintf(text + len, cap - len,
	                        "machine mem=1G cpus=1\nfile data 64M -> f\nfread f\ntask a -> t\n");
	for (long r = 0; r < rounds; r++) {
		len += (size_t)snprintf(text + len, cap - len, "mmap 64M file=f -> m\n");
		for (long i = 0; i < 1024; i++)
			len += (size_t)snprintf(text + len, cap - len, "read m %ld 1\n", i * 65536);
		len += (size_t)snprintf(text + len, cap - len, "munmap m\n");
	}
	double v = replay_timed_only(text, 4, RA_OP_READ, NULL);
	free(text);
	return v;
}

/* A page-cache read hit: fread of one cached 4 KiB page, the pages of a
 * 1 MiB file in turn (all cached by a first read; each read marks its
 * page accessed). n reads. */
static double b_fread_hit(long n)
{
	size_t cap = (size_t)n * 40 + 256, len = 0;
	char *text = malloc(cap);
	if (!text)
		exit(70);
	len += (size_t)snprintf(text + len, cap - len, "machine mem=1G cpus=1\nfile data 1M -> f\nfread f\n");
	for (long i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "fread f %ld 4096\n", (i % 256) * 4096);
	double v = replay_timed(text, 3, NULL);
	free(text);
	return v;
}

/* One kswapd balance_pgdat pass over 1 GiB of clean file LRU: a 2 GiB
 * machine without a DMA zone (whose free pages would keep the node
 * balanced) reads a 1 GiB file (262144 inactive pages), balloons leave
 * 2145 pages free in DMA32 (low 1972, high 2496), and one order-8
 * GFP_KERNEL allocation passes min but not low: the slow path wakes
 * kswapd, whose balance_pgdat, after the operation, scans the inactive
 * list from priority 12 down (64, 128, ... pages) until the zone is
 * balanced again: one pageoutrun, about 4000 pages reclaimed. The time
 * of that operation, kswapd included; ns. */
static double b_kswapd_pass(void)
{
	static const char text[] =
		"machine mem=2G cpus=1 dma=0\n"
		"file data 1G -> f\n"
		"fread f\n"
		"balloon 1000M -> b\n"
		"balloon 15M -> b2\n"
		"alloc_pages GFP_KERNEL 8 -> p\n";
	return replay_timed(text, 5, NULL);
}

int main(int argc, char **argv)
{
	bool quick = false;
	const char *json = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) quick = true;
		else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
		else { fprintf(stderr, "usage: micro [--quick] [--json FILE]\n"); return 64; }
	}
	const int runs = quick ? 3 : 11;
	const long iters = quick ? 200000 : 2000000;
	static const struct bench benches[] = {
		{ "order-0 alloc+free (pcp)", "<= 40 ns", b_order0 },
		{ "order-3 alloc+free (pcp)", "", b_order3 },
		{ "kmalloc-64 alloc+free", "<= 20 ns", b_kmalloc64 },
		{ "kmem_cache alloc+free (192 B)", "", b_cache },
		{ "vmalloc 64K + vfree", "", b_vmalloc64k },
		{ "full invariant walk, 1 GiB", "", b_fullcheck },
	};
	FILE *jf = json ? fopen(json, "w") : NULL;
	if (jf)
		fputs("{\n", jf);
	printf("%-32s %12s %12s %12s  %s\n", "benchmark", "median", "min", "max", "target");
	for (size_t b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
		ra_machine *m = machine(benches[b].name, 1ULL << 30);
		ra_cache *c = ra_kmem_cache_create(m, "bench", 192, 0, 0);
		long n = iters;
		if (benches[b].run == b_vmalloc64k) n = iters / 20;
		if (benches[b].run == b_fullcheck) {
			/* populate: 10000 pages, 50000 kmallocs, 200 vmallocs */
			for (int i = 0; i < 10000; i++) ra_alloc_pages(m, RA_GFP_KERNEL, (unsigned)(i % 4));
			for (int i = 0; i < 50000; i++) ra_kmalloc(m, (size_t)(8 + i % 4000), RA_GFP_KERNEL);
			for (int i = 0; i < 200; i++) ra_vmalloc(m, (size_t)(4096 * (1 + i % 16)));
			n = quick ? 3 : 10;
		}
		benches[b].run(m, c, n / 10 + 1);   /* warm up */
		double v[16];
		for (int r = 0; r < runs; r++)
			v[r] = benches[b].run(m, c, n);
		qsort(v, (size_t)runs, sizeof(double), cmp_d);
		double med = v[runs / 2];
		if (benches[b].run == b_fullcheck)
			printf("%-32s %9.2f ms %9.2f ms %9.2f ms  %s\n", benches[b].name, med / 1e6, v[0] / 1e6,
			       v[runs - 1] / 1e6, benches[b].target);
		else
			printf("%-32s %9.1f ns %9.1f ns %9.1f ns  %s\n", benches[b].name, med, v[0], v[runs - 1],
			       benches[b].target);
		if (jf)
			fprintf(jf, "  \"%s\": %.3f%s\n", benches[b].name, med, b + 1 < sizeof(benches) / sizeof(benches[0]) ? "," : "");
		ra_machine_destroy(m);
	}
	/* through traces: each run a fresh replay */
	{
		double v[16];
		long n = quick ? 20000 : 200000;
		b_fread_hit(n / 10 + 1);
		for (int r = 0; r < runs; r++)
			v[r] = b_fread_hit(n);
		qsort(v, (size_t)runs, sizeof(double), cmp_d);
		printf("%-32s %9.1f ns %9.1f ns %9.1f ns  %s\n", "page-cache read hit (4K fread)", v[runs / 2], v[0],
		       v[runs - 1], "");
		if (jf)
			fprintf(jf, "  ,\"page-cache read hit (4K fread)\": %.3f\n", v[runs / 2]);
		long fr = quick ? 4 : 40;
		b_file_minor_fault(1);
		for (int r = 0; r < runs; r++)
			v[r] = b_file_minor_fault(fr);
		qsort(v, (size_t)runs, sizeof(double), cmp_d);
		printf("%-32s %9.1f ns %9.1f ns %9.1f ns  %s\n", "minor fault, file mapping", v[runs / 2], v[0],
		       v[runs - 1], "");
		if (jf)
			fprintf(jf, "  ,\"minor fault, file mapping\": %.3f\n", v[runs / 2]);
		int kr = quick ? 3 : 5;
		for (int r = 0; r < kr; r++)
			v[r] = b_kswapd_pass();
		qsort(v, (size_t)kr, sizeof(double), cmp_d);
		printf("%-32s %9.2f ms %9.2f ms %9.2f ms  %s\n", "kswapd pass, 1 GiB file LRU", v[kr / 2] / 1e6, v[0] / 1e6,
		       v[kr - 1] / 1e6, "");
		if (jf)
			fprintf(jf, "  ,\"kswapd pass, 1 GiB file LRU\": %.3f\n", v[kr / 2]);
	}
	if (jf) {
		fputs("}\n", jf);
		fclose(jf);
	}
	return 0;
}
