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
	if (jf) {
		fputs("}\n", jf);
		fclose(jf);
	}
	return 0;
}
