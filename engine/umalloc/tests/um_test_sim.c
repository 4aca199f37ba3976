/*
 * um_test_sim.c — umalloc in the simulated world, on the fake back end.
 * Exact glibc numbers where glibc defines them (64-bit, 2.36).
 * Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "umalloc.h"
#include "um_fake.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef UM_GOLDEN_HASH
#define UM_GOLDEN_HASH 0x846185dea6412a83ULL  /* addresses of the 1e5-op run */
#endif

static int g_pass, g_fail;

#define CHECK(name, cond) do {                                                 \
	if (cond) g_pass++;                                                     \
	else { g_fail++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, name); } \
} while (0)
#define CHECK_EQ(name, a, b) do {                                              \
	unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
	if (a_ == b_) g_pass++;                                                 \
	else { g_fail++; fprintf(stderr, "FAIL %s:%d: %s: got %#llx, expected %#llx\n", \
	                         __FILE__, __LINE__, name, a_, b_); }            \
} while (0)
#define CHECK_STR(name, a, b) do {                                             \
	if (strcmp((a), (b)) == 0) g_pass++;                                   \
	else { g_fail++; fprintf(stderr, "FAIL %s:%d: %s:\n--- got\n%s--- expected\n%s---\n", \
	                         __FILE__, __LINE__, name, (a), (b)); }         \
} while (0)

struct env { struct um_os *os; struct um_state *S; struct um_thread *T; };

static struct env env_new(void)
{
	struct env e;
	e.os = fake_create();
	if (getenv("UMT_VERBOSE"))
		fake_set_verbose(e.os, 1);
	e.S = um_create(e.os);
	e.T = um_main_thread(e.S);
	return e;
}
static void env_free(struct env *e)
{
	CHECK_EQ("no bad accesses by umalloc", fake_bad_accesses(e->os), 0);
	um_destroy(e->S);
	fake_destroy(e->os);
}
static um_addr M(struct env *e, size_t n) { return um_malloc(e->S, e->T, n); }
static void F(struct env *e, um_addr p) { um_free(e->S, e->T, p); }
static uint64_t ld(struct env *e, um_addr a) { uint64_t v; fake_read(e->os, a, &v, 8); return v; }
static void st(struct env *e, um_addr a, uint64_t v) { fake_write(e->os, a, &v, 8); }
static char *stats_str(struct env *e, int info)
{
	static char buf[16384];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	if (info)
		um_info(e->S, 0, f);
	else
		um_stats(e->S, f);
	fclose(f);
	return buf;
}

#define H0 FAKE_BRK_START

/* ------------------------------------------------------------------------ */

static void test_sizes(void)
{
	struct env e = env_new();
	static const struct { size_t n, usable; int mmapped; } t[] = {
		{ 0, 24, 0 }, { 1, 24, 0 }, { 24, 24, 0 }, { 25, 40, 0 }, { 40, 40, 0 },
		{ 100, 104, 0 }, { 1000, 1000, 0 }, { 1032, 1032, 0 }, { 1033, 1048, 0 },
		{ 128 * 1024 - 1, 135152, 1 }, { 128 * 1024, 135152, 1 },
		{ 128 * 1024 - 24, 131048, 0 }, { 128 * 1024 - 25, 131048, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		um_addr p = M(&e, t[i].n);
		char name[64];
		snprintf(name, sizeof(name), "usable_size(malloc(%zu))", t[i].n);
		CHECK_EQ(name, um_usable_size(e.S, p), t[i].usable);
		snprintf(name, sizeof(name), "malloc(%zu) mmapped", t[i].n);
		CHECK_EQ(name, p >= 0x700000000000ULL, t[i].mmapped);
		CHECK_EQ("16-byte aligned", p & 15, 0);
	}
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_first_addresses(void)
{
	struct env e = env_new();
	um_addr a = M(&e, 1), b = M(&e, 1), c = M(&e, 100);
	CHECK_EQ("first malloc after the tcache chunk", a, H0 + 0x2a0);
	CHECK_EQ("second", b, H0 + 0x2c0);
	CHECK_EQ("third (100 bytes)", c, H0 + 0x2e0);
	CHECK_EQ("tcache chunk header", ld(&e, H0 + 8), 0x291);
	CHECK_EQ("first chunk header", ld(&e, a - 8), 0x21);
	CHECK_EQ("top header", ld(&e, H0 + 0x340 + 8), (0x21000 - 0x340) | 1);
	CHECK_EQ("break", fake_brk_now(e.os), H0 + 0x21000);
	CHECK_STR("malloc_stats", stats_str(&e, 0),
	          "Arena 0:\n"
	          "system bytes     =     135168\n"
	          "in use bytes     =        832\n"
	          "Total (incl. mmap):\n"
	          "system bytes     =     135168\n"
	          "in use bytes     =        832\n"
	          "max mmap regions =          0\n"
	          "max mmap bytes   =          0\n");
	env_free(&e);
}

static void test_tcache(void)
{
	struct env e = env_new();
	um_addr p[9];
	for (int i = 0; i < 9; i++)
		p[i] = M(&e, 24);
	um_addr guard = M(&e, 24);
	for (int i = 0; i < 9; i++)
		F(&e, p[i]);
	struct um_mallinfo mi = um_mallinfo(e.S);
	CHECK_EQ("2 chunks in fastbins after 7 filled the tcache", mi.smblks, 2);
	/* tcache is LIFO: p6..p0, then the fastbin top p8 (p7 stashed) */
	for (int i = 6; i >= 0; i--)
		CHECK_EQ("tcache drain order", M(&e, 24), p[i]);
	CHECK_EQ("fastbin after tcache", M(&e, 24), p[8]);
	CHECK_EQ("stashed into tcache", M(&e, 24), p[7]);
	CHECK_EQ("then the top", M(&e, 24), guard + 0x20);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_fastbin_consolidate(void)
{
	struct env e = env_new();
	um_addr p[9];
	for (int i = 0; i < 9; i++)
		p[i] = M(&e, 100);
	M(&e, 100);
	for (int i = 0; i < 9; i++)
		F(&e, p[i]);
	CHECK_EQ("two fastbin chunks", um_mallinfo(e.S).smblks, 2);
	CHECK("info shows the fastbin",
	      strstr(stats_str(&e, 1), "<size from=\"97\" to=\"112\" total=\"224\" count=\"2\"/>") != NULL);
	um_addr big = M(&e, 2000);       /* large request: malloc_consolidate */
	CHECK_EQ("fastbins emptied", um_mallinfo(e.S).smblks, 0);
	CHECK("merged 224-byte chunk now in its small bin",
	      strstr(stats_str(&e, 1), "<size from=\"225\" to=\"225\" total=\"225\" count=\"1\"/>") != NULL);
	CHECK("large request from the top", big > p[8]);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_split_coalesce(void)
{
	struct env e = env_new();
	um_addr a = M(&e, 2000), b = M(&e, 2000), c = M(&e, 2000);
	M(&e, 16);
	F(&e, a);
	F(&e, b);
	/* a and b coalesced: 2 * 2016 bytes, footer in c's prev_size */
	CHECK_EQ("coalesced size", ld(&e, a - 8), 4032 | 1);
	CHECK_EQ("boundary tag", ld(&e, c - 16), 4032);
	CHECK_EQ("c PREV_INUSE clear", ld(&e, c - 8) & 1, 0);
	um_addr d = M(&e, 1100);
	CHECK_EQ("split from the front", d, a);
	CHECK_EQ("remainder header", ld(&e, a - 16 + 1120 + 8), (4032 - 1120) | 1);
	CHECK_EQ("remainder footer", ld(&e, c - 16), 4032 - 1120);
	F(&e, d);
	CHECK_EQ("re-coalesced", ld(&e, a - 8), 4032 | 1);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_unsorted_and_large_bins(void)
{
	struct env e = env_new();
	um_addr x1 = M(&e, 4100); M(&e, 16);
	um_addr x2 = M(&e, 4300); M(&e, 16);
	um_addr x3 = M(&e, 4200); M(&e, 16);
	F(&e, x1); F(&e, x2); F(&e, x3);
	CHECK("three chunks in the unsorted bin",
	      strstr(stats_str(&e, 1), "<unsorted from=\"4113\" to=\"4321\" total=\"12643\" count=\"3\"/>") != NULL);
	um_addr y = M(&e, 5000);          /* no fit: all three go to large bin 99 */
	CHECK("sorted into the large bin",
	      strstr(stats_str(&e, 1), "<size from=\"4113\" to=\"4321\" total=\"12643\" count=\"3\"/>") != NULL);
	CHECK("5000 from the top", y > x3);
	CHECK_EQ("um_check (sorted large bin)", um_check(e.S, UM_CHECK_FULL), 0);
	CHECK_EQ("best fit for 4150 is the 4208 chunk", M(&e, 4150), x3);
	CHECK_EQ("best fit for 4000 is the 4112 chunk", M(&e, 4000), x1);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_mmap_threshold(void)
{
	struct env e = env_new();
	/* a fresh top (134512 bytes after the tcache) would still serve 128K,
	 * as in glibc: shrink it first */
	M(&e, 4000);
	um_addr a = M(&e, 128 * 1024);
	CHECK("128K is mmapped", a >= 0x700000000000ULL);
	CHECK_EQ("mmapped header", ld(&e, a - 8), 135168 | 2);
	CHECK_EQ("mmapped prev_size (offset)", ld(&e, a - 16), 0);
	um_addr m = M(&e, 1 << 20);
	CHECK("1M is mmapped", m >= 0x700000000000ULL);
	F(&e, m);                          /* threshold -> 1052672 */
	um_addr h = M(&e, 512 * 1024);
	CHECK("512K now comes from the heap", h > H0 && h < H0 + (64ull << 20));
	um_addr g = M(&e, 1 << 20);
	CHECK("1M (chunk 1048592) is below the raised threshold: heap", g > H0 && g < 0x700000000000ULL);
	um_mallopt(e.S, UM_M_MMAP_THRESHOLD, 128 * 1024);
	um_addr k = M(&e, 256 * 1024);
	CHECK("mallopt restores a fixed threshold", k >= 0x700000000000ULL);
	F(&e, k);
	um_addr k2 = M(&e, 256 * 1024);
	CHECK("no dynamic change once set", k2 >= 0x700000000000ULL);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	F(&e, a); F(&e, h); F(&e, g); F(&e, k2);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);

	e = env_new();
	CHECK_EQ("mallopt M_MMAP_THRESHOLD > 32M rejected", um_mallopt(e.S, UM_M_MMAP_THRESHOLD, 33 << 20), 0);
	CHECK_EQ("mallopt M_MXFAST 161 rejected", um_mallopt(e.S, UM_M_MXFAST, 161), 0);
	CHECK_EQ("mallopt M_MXFAST 0", um_mallopt(e.S, UM_M_MXFAST, 0), 1);
	um_addr p[9];
	for (int i = 0; i < 9; i++)
		p[i] = M(&e, 24);
	for (int i = 0; i < 9; i++)
		F(&e, p[i]);
	CHECK_EQ("M_MXFAST 0 disables fastbins", um_mallinfo(e.S).smblks, 0);
	CHECK_EQ("unknown parameter returns 1", um_mallopt(e.S, 12345, 1), 1);
	env_free(&e);
}

static void test_rt_example(void)
{
	struct env e = env_new();
	CHECK_EQ("M_TRIM_THRESHOLD -1", um_mallopt(e.S, UM_M_TRIM_THRESHOLD, -1), 1);
	CHECK_EQ("M_MMAP_MAX 0", um_mallopt(e.S, UM_M_MMAP_MAX, 0), 1);
	M(&e, 16);
	uint64_t before = fake_pages_faulted(e.os);
	um_addr p = M(&e, 100u << 20);
	uint64_t touched = fake_pages_faulted(e.os) - before;
	CHECK("100M from brk", p > H0 && p < H0 + (200ull << 20));
	CHECK("only header pages touched by malloc", touched <= 2);
	um_addr brk = fake_brk_now(e.os);
	F(&e, p);
	CHECK_EQ("free gives nothing back", fake_brk_now(e.os), brk);
	um_trim(e.S, 0);
	CHECK("malloc_trim does give it back", fake_brk_now(e.os) < brk);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_trim(void)
{
	struct env e = env_new();
	um_addr a = M(&e, 100000), b = M(&e, 100000), c = M(&e, 100000);
	um_addr end = fake_brk_now(e.os);
	F(&e, c);
	F(&e, b);
	F(&e, a);
	um_addr nend = fake_brk_now(e.os);
	CHECK("trimmed", nend < end);
	struct um_mallinfo mi = um_mallinfo(e.S);
	CHECK("top keeps top_pad", mi.keepcost >= 128 * 1024 && mi.keepcost < 128 * 1024 + 4096 + 33);
	CHECK_EQ("system bytes = heap extent", mi.arena, nend - H0);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_realloc(void)
{
	struct env e = env_new();
	um_addr a = M(&e, 2000);
	fake_write(e.os, a, "abcdefgh", 8);
	um_addr a2 = um_realloc(e.S, e.T, a, 4000);
	CHECK_EQ("grow into top in place", a2, a);
	um_addr b = M(&e, 2000);
	um_addr c = M(&e, 2000);
	M(&e, 16);
	F(&e, c);
	um_addr b2 = um_realloc(e.S, e.T, b, 3500);
	CHECK_EQ("grow into the free next chunk in place", b2, b);
	um_addr b3 = um_realloc(e.S, e.T, b2, 100);
	CHECK_EQ("shrink in place", b3, b);
	CHECK_EQ("shrunk usable", um_usable_size(e.S, b3), 104);
	um_addr a3 = um_realloc(e.S, e.T, a2, 20000);
	CHECK("blocked: moves", a3 != a2);
	char buf[9] = { 0 };
	fake_read(e.os, a3, buf, 8);
	CHECK_STR("contents moved", buf, "abcdefgh");
	CHECK_EQ("realloc(p, 0) frees", um_realloc(e.S, e.T, a3, 0), 0);
	um_addr m = M(&e, 300000);
	um_addr m2 = um_realloc(e.S, e.T, m, 600000);
	CHECK("mremap of an mmapped chunk", m2 >= 0x700000000000ULL);
	CHECK_EQ("mremapped usable", um_usable_size(e.S, m2), 602112 - 16);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_memalign(void)
{
	struct env e = env_new();
	um_addr keep[64];
	int n = 0;
	for (size_t al = 1; al <= 65536; al <<= 1) {
		size_t sizes[] = { 1, 100, al, 3 * al + 5 };
		for (int k = 0; k < 4; k++) {
			um_addr p = um_memalign(e.S, e.T, al, sizes[k]);
			CHECK("memalign non-null", p != 0);
			CHECK_EQ("aligned", p % (al < 16 ? 16 : al), 0);
			CHECK("usable >= size", um_usable_size(e.S, p) >= sizes[k]);
			if (k & 1)
				F(&e, p);
			else if (n < 64)
				keep[n++] = p;
		}
	}
	CHECK_EQ("um_check after memalign", um_check(e.S, UM_CHECK_FULL), 0);
	um_addr out = 0;
	CHECK_EQ("posix_memalign 24 -> EINVAL", um_posix_memalign(e.S, e.T, &out, 24, 10), 22);
	CHECK_EQ("posix_memalign 4 -> EINVAL", um_posix_memalign(e.S, e.T, &out, 4, 10), 22);
	CHECK_EQ("posix_memalign 64 ok", um_posix_memalign(e.S, e.T, &out, 64, 10), 0);
	CHECK_EQ("aligned 64", out % 64, 0);
	um_addr odd = um_memalign(e.S, e.T, 48, 10);
	CHECK_EQ("memalign 48 rounds to 64", odd % 64, 0);
	um_addr v = um_valloc(e.S, e.T, 10);
	CHECK_EQ("valloc page aligned", v % 4096, 0);
	for (int i = 0; i < n; i++)
		F(&e, keep[i]);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_calloc(void)
{
	struct env e = env_new();
	/* glibc's calloc bypasses the tcache: use a chunk that gets binned */
	um_addr a = M(&e, 2000);
	um_os_fill(e.os, a, 0xaa, 2000);
	M(&e, 16);
	F(&e, a);
	um_addr c = um_calloc(e.S, e.T, 1, 2000);
	CHECK_EQ("calloc reuses the chunk", c, a);
	CHECK_EQ("calloc zeroes reused memory", um_os_cmpbyte(e.os, c, 0, 2000), 2000);
	uint64_t before = fake_pages_faulted(e.os);
	um_addr m = um_calloc(e.S, e.T, 1, 1 << 20);
	CHECK("mmapped calloc", m >= 0x700000000000ULL);
	CHECK("no memset of a fresh mmapped chunk", fake_pages_faulted(e.os) - before <= 1);
	CHECK_EQ("reads zero", um_os_cmpbyte(e.os, m, 0, 1 << 20), 1 << 20);
	/* fresh from the top: only the part that was top before is cleared */
	um_mallopt(e.S, UM_M_MMAP_MAX, 0);
	before = fake_pages_faulted(e.os);
	um_addr t = um_calloc(e.S, e.T, 1, 8 << 20);
	CHECK("big calloc from brk", t > H0 && t < 0x700000000000ULL);
	CHECK("fresh sbrk memory not memset", fake_pages_faulted(e.os) - before < 64);
	CHECK_EQ("overflow -> 0", um_calloc(e.S, e.T, SIZE_MAX / 2, 3), 0);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

static void test_perturb(void)
{
	struct env e = env_new();
	um_mallopt(e.S, UM_M_PERTURB, 0x5a);
	um_addr a = M(&e, 2000);
	CHECK_EQ("alloc_perturb fills with perturb ^ 0xff", um_os_cmpbyte(e.os, a, 0xa5, 2000), 2000);
	M(&e, 16);
	F(&e, a);
	CHECK_EQ("free_perturb fills with perturb", um_os_cmpbyte(e.os, a + 32, 0x5a, 2016 - 16 - 32), 2016 - 48);
	um_addr c = um_calloc(e.S, e.T, 1, 100);
	CHECK_EQ("calloc still zeroes", um_os_cmpbyte(e.os, c, 0, 100), 100);
	env_free(&e);
}

static void test_stats_info_golden(void)
{
	struct env e = env_new();
	um_addr p[9];
	for (int i = 0; i < 9; i++)
		p[i] = M(&e, 40);
	um_addr big = M(&e, 3000);
	M(&e, 16);
	um_addr mm = M(&e, 200000);
	for (int i = 0; i < 9; i++)
		F(&e, p[i]);
	F(&e, big);
	(void)mm;
	CHECK_STR("malloc_info", stats_str(&e, 1),
	          "<malloc version=\"1\">\n"
	          "<heap nr=\"0\">\n"
	          "<sizes>\n"
	          "  <size from=\"33\" to=\"48\" total=\"96\" count=\"2\"/>\n"
	          "  <unsorted from=\"3009\" to=\"3009\" total=\"3009\" count=\"1\"/>\n"
	          "</sizes>\n"
	          "<total type=\"fast\" count=\"2\" size=\"96\"/>\n"
	          "<total type=\"rest\" count=\"2\" size=\"134049\"/>\n"
	          "<system type=\"current\" size=\"135168\"/>\n"
	          "<system type=\"max\" size=\"135168\"/>\n"
	          "<aspace type=\"total\" size=\"135168\"/>\n"
	          "<aspace type=\"mprotect\" size=\"135168\"/>\n"
	          "</heap>\n"
	          "<total type=\"fast\" count=\"2\" size=\"96\"/>\n"
	          "<total type=\"rest\" count=\"2\" size=\"134049\"/>\n"
	          "<total type=\"mmap\" count=\"1\" size=\"200704\"/>\n"
	          "<system type=\"current\" size=\"135168\"/>\n"
	          "<system type=\"max\" size=\"135168\"/>\n"
	          "<aspace type=\"total\" size=\"135168\"/>\n"
	          "<aspace type=\"mprotect\" size=\"135168\"/>\n"
	          "</malloc>\n");
	CHECK_STR("malloc_stats", stats_str(&e, 0),
	          "Arena 0:\n"
	          "system bytes     =     135168\n"
	          "in use bytes     =       1024\n"
	          "Total (incl. mmap):\n"
	          "system bytes     =     335872\n"
	          "in use bytes     =     201728\n"
	          "max mmap regions =          1\n"
	          "max mmap bytes   =     200704\n");
	env_free(&e);
}

static int last_report_is(struct env *e, const char *cls, const char *msg)
{
	unsigned n = fake_nreports(e->os);
	return n == 1 && strcmp(fake_report_cls(e->os, 0), cls) == 0
	       && strcmp(fake_report_msg(e->os, 0), msg) == 0;
}

static void test_misuse(void)
{
	struct env e = env_new();
	/* tcache double free */
	um_addr a = M(&e, 24);
	F(&e, a);
	CHECK_EQ("double free refused", um_free(e.S, e.T, a), -1);
	CHECK("tcache double free message", last_report_is(&e, "double-free", "free(): double free detected in tcache 2"));
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	fake_clear_reports(e.os);
	/* fastbin double free (tcache full), not at the top of the bin */
	um_addr p[10];
	for (int i = 0; i < 10; i++)
		p[i] = M(&e, 24);
	for (int i = 0; i < 10; i++)
		F(&e, p[i]);
	CHECK_EQ("fastbin (fasttop) double free refused", um_free(e.S, e.T, p[9]), -1);
	CHECK("fasttop message", last_report_is(&e, "double-free", "double free or corruption (fasttop)"));
	fake_clear_reports(e.os);
	CHECK_EQ("fastbin double free below the top (glibc misses it)", um_free(e.S, e.T, p[7]), -1);
	CHECK_EQ("reported", fake_nreports(e.os), 1);
	fake_clear_reports(e.os);
	CHECK_EQ("no bad accesses", fake_bad_accesses(e.os), 0);
	env_free(&e);
	e = env_new();
	/* smallbin double free */
	um_addr s = M(&e, 300);
	M(&e, 16);
	F(&e, s);                         /* tcache */
	um_addr f[7];
	for (int i = 0; i < 7; i++)
		f[i] = M(&e, 300);
	(void)f;
	um_addr big = M(&e, 5000);        /* nothing to sort; ok */
	(void)big;
	um_addr s2 = M(&e, 1200);
	M(&e, 16);
	F(&e, s2);
	M(&e, 3000);                      /* sorts s2 (1216) into its bin */
	CHECK_EQ("binned double free refused", um_free(e.S, e.T, s2), -1);
	CHECK("!prev message", last_report_is(&e, "double-free", "double free or corruption (!prev)"));
	fake_clear_reports(e.os);
	/* invalid pointers */
	CHECK_EQ("interior pointer", um_free(e.S, e.T, p[0] + 16), -1);
	CHECK("invalid pointer message", last_report_is(&e, "invalid-free", "free(): invalid pointer"));
	fake_clear_reports(e.os);
	CHECK_EQ("misaligned pointer", um_free(e.S, e.T, H0 + 0x1003), -1);
	CHECK("invalid pointer message 2", last_report_is(&e, "invalid-free", "free(): invalid pointer"));
	fake_clear_reports(e.os);
	CHECK_EQ("foreign pointer", um_free(e.S, e.T, 0x1234560), -1);
	fake_clear_reports(e.os);
	a = M(&e, 24);
	F(&e, a);
	CHECK_EQ("realloc of a freed pointer", um_realloc(e.S, e.T, a, 100), 0);
	CHECK("realloc message", last_report_is(&e, "double-free", "realloc(): invalid pointer"));
	fake_clear_reports(e.os);
	CHECK_EQ("um_check after refusals", um_check(e.S, UM_CHECK_FULL), 0);

	CHECK_EQ("no bad accesses", fake_bad_accesses(e.os), 0);
	env_free(&e);
	e = env_new();
	/* header overwritten by an out-of-bounds write from the block before */
	um_addr x = M(&e, 24), y = M(&e, 24);
	CHECK_EQ("adjacent", y, x + 32);
	st(&e, x + 24, 0x4141414141414141ULL);
	CHECK_EQ("free of the damaged chunk refused", um_free(e.S, e.T, y), -1);
	CHECK("header overwrite message", last_report_is(&e, "heap-corruption", "double free or corruption (out)"));
	fake_clear_reports(e.os);
	CHECK_EQ("um_check after repair", um_check(e.S, UM_CHECK_FULL), 0);
	CHECK_EQ("reported exactly once: the block frees now", um_free(e.S, e.T, y), 0);
	CHECK_EQ("no further reports", fake_nreports(e.os), 0);
	CHECK("still usable", M(&e, 5000) != 0);

	/* top size overwritten (house of force) */
	um_addr last = M(&e, 40000);
	um_addr topc = last - 16 + 40016;
	st(&e, topc + 8, 0xffffffffffffff01ULL);
	CHECK_EQ("malloc from a corrupted top refused", M(&e, 50000), 0);
	CHECK("corrupted top size message", last_report_is(&e, "heap-corruption", "malloc(): corrupted top size"));
	fake_clear_reports(e.os);
	CHECK_EQ("um_check after repair", um_check(e.S, UM_CHECK_FULL), 0);
	CHECK("usable afterwards", M(&e, 50000) != 0);
	CHECK_EQ("no further reports", fake_nreports(e.os), 0);

	env_free(&e);
	e = env_new();
	/* unsorted chunk's bk overwritten after free (use after free) */
	um_addr u1 = M(&e, 2000);
	M(&e, 16);
	F(&e, u1);
	st(&e, u1 + 8, 0x4242424242424240ULL);
	CHECK_EQ("malloc refused", M(&e, 3000), 0);
	CHECK("unsorted corruption message", last_report_is(&e, "heap-corruption", "malloc(): unsorted double linked list corrupted"));
	fake_clear_reports(e.os);
	CHECK_EQ("um_check after repair", um_check(e.S, UM_CHECK_FULL), 0);
	CHECK("usable", M(&e, 3000) != 0);

	/* tcache next poisoned */
	um_addr t1 = M(&e, 72), t2 = M(&e, 72);
	F(&e, t1);
	F(&e, t2);
	st(&e, t2, 0x4141414141414141ULL);
	CHECK_EQ("poisoned tcache: malloc refused", M(&e, 72), 0);
	CHECK("tcache message", last_report_is(&e, "heap-corruption", "malloc(): unaligned tcache chunk detected"));
	fake_clear_reports(e.os);
	CHECK_EQ("um_check after repair", um_check(e.S, UM_CHECK_FULL), 0);
	um_addr r1 = M(&e, 72), r2 = M(&e, 72);
	CHECK("both cached chunks handed out", (r1 == t2 || r1 == t1) && (r2 == t1 || r2 == t2) && r1 != r2);
	CHECK_EQ("no further reports", fake_nreports(e.os), 0);
	env_free(&e);
}

static void test_check_counts(void)
{
	struct env e = env_new();
	um_addr a = M(&e, 24), b = M(&e, 24), c = M(&e, 2000), d = M(&e, 24);
	M(&e, 16);
	um_addr t = M(&e, 48);
	F(&e, c);
	F(&e, t);
	CHECK_EQ("clean", um_check(e.S, UM_CHECK_FULL), 0);
	uint64_t o1 = ld(&e, b - 8), o2 = ld(&e, c), o3 = ld(&e, t);
	st(&e, b - 8, 0x4141);                 /* live chunk header */
	st(&e, c, 0x4242424242424240ULL);      /* free chunk fd */
	st(&e, t, 0x4343434343434340ULL);      /* tcache next */
	fake_clear_reports(e.os);
	CHECK_EQ("three corruptions, three problems", um_check(e.S, UM_CHECK_FULL), 3);
	CHECK_EQ("each reported", fake_nreports(e.os), 3);
	st(&e, b - 8, o1);
	st(&e, c, o2);
	st(&e, t, o3);
	CHECK_EQ("restored", um_check(e.S, UM_CHECK_FULL), 0);
	(void)a; (void)d;
	env_free(&e);
}

/* --- randomized run ------------------------------------------------------ */

static uint64_t rng_s = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
	rng_s ^= rng_s << 13;
	rng_s ^= rng_s >> 7;
	rng_s ^= rng_s << 17;
	return rng_s;
}

struct blk { um_addr p; size_t n; uint32_t id; };

static void fill_blk(struct env *e, struct blk *b)
{
	unsigned char buf[256];
	size_t n = b->n < sizeof(buf) ? b->n : sizeof(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(b->id * 31 + i * 7);
	fake_write(e->os, b->p, buf, n);
	if (b->n >= sizeof(buf) + 8) {
		uint64_t tail = b->id;
		fake_write(e->os, b->p + b->n - 8, &tail, 8);
	}
}
static int verify_blk(struct env *e, struct blk *b, size_t upto)
{
	unsigned char buf[256];
	size_t lim = upto < b->n ? upto : b->n;
	size_t n = lim < sizeof(buf) ? lim : sizeof(buf);
	fake_read(e->os, b->p, buf, n);
	for (size_t i = 0; i < n; i++)
		if (buf[i] != (unsigned char)(b->id * 31 + i * 7))
			return 0;
	if (b->n >= sizeof(buf) + 8 && lim == b->n) {
		uint64_t tail;
		fake_read(e->os, b->p + b->n - 8, &tail, 8);
		if (tail != b->id)
			return 0;
	}
	return 1;
}

static const char *g_lastop = "";
static uint64_t random_run(int nops, int with_threads, int *bad_out)
{
	struct env e = env_new();
	enum { NB = 1500 };
	static struct blk blks[NB];
	memset(blks, 0, sizeof(blks));
	struct um_thread *ths[3] = { e.T, NULL, NULL };
	if (with_threads) {
		ths[1] = um_thread_create(e.S);
		ths[2] = um_thread_create(e.S);
	}
	uint64_t hash = 1469598103934665603ULL;
	int bad = 0;
	uint32_t id = 1;
	rng_s = 0x9e3779b97f4a7c15ULL;
	for (int op = 0; op < nops; op++) {
		struct um_thread *T = ths[with_threads ? rng() % 3 : 0];
		struct blk *b = &blks[rng() % NB];
		uint64_t r = rng();
		size_t n;
		switch (r % 16) {
		case 0: n = (size_t)(rng() % 300000); break;
		case 1: case 2: n = (size_t)(rng() % 8192); break;
		default: n = (size_t)(rng() % 600); break;
		}
		if (b->p) {
			if (!verify_blk(&e, b, b->n)) {
				bad++;
				fprintf(stderr, "content mismatch at op %d block %#llx\n", op, (unsigned long long)b->p);
			}
			if ((r >> 8) % 3 == 0) {
				g_lastop = "realloc";
				um_addr q = um_realloc(e.S, T, b->p, n ? n : 1);
				if (q) {
					size_t keep = b->n < (n ? n : 1) ? b->n : (n ? n : 1);
					b->p = q;
					if (!verify_blk(&e, b, keep)) {
						bad++;
						fprintf(stderr, "realloc lost contents at op %d\n", op);
					}
					b->n = n ? n : 1;
					b->id = id++;
					fill_blk(&e, b);
				}
			} else {
				g_lastop = "free";
				if (um_free(e.S, T, b->p) != 0)
					bad++;
				b->p = 0;
			}
		} else {
			um_addr q;
			switch ((r >> 8) % 8) {
			case 0: g_lastop = "calloc"; q = um_calloc(e.S, T, 1, n);
				if (q && um_os_cmpbyte(e.os, q, 0, n) != n) {
					bad++;
					fprintf(stderr, "calloc not zero at op %d\n", op);
				}
				break;
			case 1: g_lastop = "memalign"; q = um_memalign(e.S, T, (size_t)1 << (rng() % 13), n);
				break;
			default: g_lastop = "malloc"; q = um_malloc(e.S, T, n);
			}
			if (q) {
				b->p = q;
				b->n = n;
				b->id = id++;
				if (um_usable_size(e.S, q) < n)
					bad++;
				fill_blk(&e, b);
			}
		}
		hash = (hash ^ (b->p & 0xffffffffffffULL)) * 1099511628211ULL;
		if (op % 100 == 99 || getenv("UMT_CHECK_EVERY")) {
			if (getenv("UMT_CHECK_EVERY"))
				fprintf(stderr, "op %d: %s n=%zu b=%#llx\n", op, g_lastop, n, (unsigned long long)b->p);
			long pr = um_check(e.S, UM_CHECK_FULL);
			if (pr) {
				bad++;
				fprintf(stderr, "um_check %ld at op %d\n", pr, op);
				break;
			}
		}
		if (op == nops / 2 && !with_threads)
			um_trim(e.S, 0);
	}
	for (int i = 0; i < NB; i++)
		if (blks[i].p)
			um_free(e.S, ths[0], blks[i].p);
	if (with_threads) {
		um_thread_exit(e.S, ths[1]);
		um_thread_exit(e.S, ths[2]);
	}
	if (um_check(e.S, UM_CHECK_FULL))
		bad++;
	struct um_stat s;
	um_get_stat(e.S, &s);
	if (s.live_chunks != 0)
		bad++;
	if (fake_nreports(e.os))
		bad++;
	env_free(&e);
	*bad_out = bad;
	return hash;
}

static void test_random(void)
{
	int bad;
	uint64_t h1 = random_run(100000, 0, &bad);
	CHECK_EQ("1e5 random ops, checked every 100", bad, 0);
	uint64_t h2 = random_run(100000, 0, &bad);
	CHECK_EQ("deterministic (same run twice)", h1, h2);
	fprintf(stderr, "random run address hash: %#llx\n", (unsigned long long)h1);
	CHECK_EQ("golden address hash (same on every build)", h1, UM_GOLDEN_HASH);
	random_run(30000, 1, &bad);
	CHECK_EQ("3 threads, remote frees", bad, 0);
}

static void test_threads(void)
{
	struct env e = env_new();
	M(&e, 10);
	struct um_thread *t1 = um_thread_create(e.S);
	um_addr a = um_malloc(e.S, t1, 10);
	um_addr heap = a & ~((64ULL << 20) - 1);
	CHECK_EQ("thread arena heap aligned to HEAP_MAX_SIZE", heap & ((64ULL << 20) - 1), 0);
	CHECK_EQ("first chunk after heap_info + malloc_state + tcache", a - heap, 0xb70);
	CHECK_EQ("NON_MAIN_ARENA set", ld(&e, a - 8), 0x21 | 4);
	CHECK("two arenas in malloc_stats", strstr(stats_str(&e, 0), "Arena 1:\nsystem bytes     =     135168\n") != NULL);
	CHECK("subheaps in malloc_info", strstr(stats_str(&e, 1), "<aspace type=\"subheaps\" size=\"1\"/>") != NULL);
	um_free(e.S, e.T, a);                  /* remote free: into main thread's tcache */
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	/* grow the thread heap past one heap: new heap + fenceposts */
	um_mallopt(e.S, UM_M_MMAP_MAX, 0);
	um_addr big[5];
	for (int i = 0; i < 5; i++)
		big[i] = um_malloc(e.S, t1, 20 << 20);
	CHECK("second heap", (big[4] & ~((64ULL << 20) - 1)) != heap);
	CHECK_EQ("um_check with two heaps", um_check(e.S, UM_CHECK_FULL), 0);
	for (int i = 4; i >= 0; i--)
		um_free(e.S, t1, big[i]);
	CHECK_EQ("um_check after heap_trim", um_check(e.S, UM_CHECK_FULL), 0);
	um_thread_exit(e.S, t1);
	struct um_thread *t2 = um_thread_create(e.S);
	um_addr b = um_malloc(e.S, t2, 10);
	CHECK_EQ("a new thread reuses the free arena", b & ~((64ULL << 20) - 1), heap);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	um_free(e.S, t2, b);
	env_free(&e);
}

static void test_clone(void)
{
	struct env e = env_new();
	um_addr a = M(&e, 100);
	fake_write(e.os, a, "parent", 7);
	struct um_os *cos = fake_clone(e.os);
	struct um_state *C = um_clone(e.S, cos, e.T);
	struct um_thread *CT = um_thread_by_id(C, um_thread_id(e.T));
	CHECK("child thread", CT != NULL);
	um_addr p1 = M(&e, 200), c1 = um_malloc(C, CT, 200);
	CHECK_EQ("same addresses after fork", p1, c1);
	fake_write(cos, a, "child!", 7);
	char buf[8];
	fake_read(e.os, a, buf, 7);
	CHECK_STR("parent memory independent", buf, "parent");
	um_free(C, CT, a);
	CHECK_EQ("child freed its copy", um_usable_size(C, a), 0);
	CHECK_EQ("parent's still live", um_usable_size(e.S, a), 104);
	CHECK_EQ("child um_check", um_check(C, UM_CHECK_FULL), 0);
	CHECK_EQ("parent um_check", um_check(e.S, UM_CHECK_FULL), 0);
	CHECK_EQ("child double free detected", um_free(C, CT, a), -1);
	CHECK_EQ("child bad accesses", fake_bad_accesses(cos), 0);
	um_destroy(C);
	fake_destroy(cos);
	env_free(&e);
}

static void test_brk_failure(void)
{
	struct env e = env_new();
	M(&e, 10);
	fake_fail_brk(e.os, 1);
	um_addr p = M(&e, 200000 - 50000);   /* needs more than the top */
	CHECK("brk failed: mmap as morecore", p >= 0x700000000000ULL);
	CHECK_EQ("um_check non-contiguous", um_check(e.S, UM_CHECK_FULL), 0);
	um_free(e.S, e.T, p);
	CHECK_EQ("um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

/* A foreign sbrk may leave the break at any byte. The new top is aligned
 * (glibc's front_misalign correction) and a second sbrk page-aligns the
 * end; so too in a non-contiguous arena (after the mmap fallback), where
 * glibc itself trusts MORECORE's alignment and would hand out misaligned
 * chunks (fuzz finding 652c9b08ebf4). */
static void test_foreign_sbrk(void)
{
	struct env e = env_new();
	um_os_brk(e.os, 1);                              /* the program's sbrk(1) */
	um_addr p = M(&e, 10);
	/* top at START + 0x10; the tcache chunk (0x290) first */
	CHECK_EQ("contiguous: aligned after a foreign sbrk(1)", p, FAKE_BRK_START + 0x10 + 0x290 + 0x10);
	CHECK_EQ("contiguous: break page-aligned again", fake_brk_now(e.os) & 0xfff, 0);
	CHECK_EQ("contiguous: um_check", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);

	e = env_new();
	um_os_brk(e.os, 1);
	fake_fail_brk(e.os, 1);
	p = M(&e, 10);                                   /* mmap as morecore: 1 MiB */
	CHECK("non-contiguous: mmap as morecore", p >= 0x700000000000ULL);
	fake_fail_brk(e.os, 0);
	um_addr big = M(&e, 1000000);                    /* from that top */
	CHECK("non-contiguous: from the morecore top", big > p && big < p + (1u << 20));
	um_addr q = M(&e, 65536);                        /* top too small: sbrk at START + 1 */
	CHECK_EQ("non-contiguous: sbrk'd top aligned", q, FAKE_BRK_START + 0x20);
	CHECK_EQ("non-contiguous: break page-aligned again", fake_brk_now(e.os) & 0xfff, 0);
	CHECK("non-contiguous: usable size", um_usable_size(e.S, q) >= 65536);
	CHECK_EQ("non-contiguous: um_check", um_check(e.S, UM_CHECK_FULL), 0);
	F(&e, q);
	F(&e, big);
	CHECK_EQ("non-contiguous: um_check after frees", um_check(e.S, UM_CHECK_FULL), 0);
	env_free(&e);
}

int main(void)
{
	test_sizes();
	test_first_addresses();
	test_tcache();
	test_fastbin_consolidate();
	test_split_coalesce();
	test_unsorted_and_large_bins();
	test_mmap_threshold();
	test_rt_example();
	test_trim();
	test_realloc();
	test_memalign();
	test_calloc();
	test_perturb();
	test_stats_info_golden();
	test_misuse();
	test_check_counts();
	test_threads();
	test_clone();
	test_brk_failure();
	test_foreign_sbrk();
	test_random();
	printf("um_test_sim: %d passed, %d failed\n", g_pass, g_fail);
	return g_fail ? 1 : 0;
}
