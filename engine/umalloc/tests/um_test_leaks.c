/*
 * um_test_leaks.c — unit tests of REFALLOC_LEAKS (engine/umalloc/leaks.c):
 * the classifier against Valgrind's rules on hand-made heaps, the side
 * table and stack depot, the fast unwinder against libgcc's, the sort and
 * the symbolizer.  leaks.c is included so its internals can be reached;
 * nothing here goes through a preloaded malloc.  Prints "N passed, M failed".
 */
#include "leaks.c"

#include <stdio.h>

static int g_pass, g_fail;
#define CHECK(name, cond) do {                                                 \
	if (cond) g_pass++;                                                     \
	else { g_fail++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, name); } \
} while (0)

/* === A hand-made heap =================================================== */

/* Blocks are carved from one aligned arena; roots are a separate array. */
static uintptr_t heap[512] __attribute__((aligned(64)));
static uintptr_t roots_mem[16];
static struct lk_blk blk[32];
static uint32_t stk[32];
static size_t nblk;

static uintptr_t *at(size_t word) { return &heap[word]; }

static void reset(void)
{
	memset(heap, 0, sizeof(heap));
	memset(roots_mem, 0, sizeof(roots_mem));
	memset(blk, 0, sizeof(blk));
	nblk = 0;
}

/* block at heap word w, size bytes; returns its index (blocks added in address order) */
static size_t mk(size_t w, uint64_t size)
{
	blk[nblk] = (struct lk_blk){ (uintptr_t)at(w), size, 0, 0, 0, 0, 0 };
	return nblk++;
}

static void run(struct lk_totals *t)
{
	struct lk_range r = { (uintptr_t)roots_mem, (uintptr_t)(roots_mem + 16) };
	lk_classify(blk, nblk, stk, &r, 1, NULL, 0, t);
}

static void test_basic_states(void)
{
	struct lk_totals t;
	reset();
	size_t a = mk(0, 32), b = mk(8, 16), c = mk(16, 64), d = mk(32, 8), e = mk(40, 24), f = mk(48, 40);
	roots_mem[0] = blk[a].p;                /* a: start pointer from a root */
	roots_mem[1] = blk[c].p + 8;            /* c: interior pointer from a root */
	*at(16) = blk[d].p;                     /* c -> d (start), but c is only possible */
	*at(0) = blk[e].p + 16;                 /* a -> interior of e */
	*at(1) = blk[f].p;                      /* a -> f (start) */
	run(&t);
	CHECK("root start pointer: reachable", blk[a].state == LK_REACHABLE);
	CHECK("unreferenced: definitely lost", blk[b].state == LK_UNREACHED);
	CHECK("interior pointer from a root: possibly lost", blk[c].state == LK_POSSIBLE);
	CHECK("start pointer from a possible block: possible", blk[d].state == LK_POSSIBLE);
	CHECK("interior pointer from a reachable block: possible", blk[e].state == LK_POSSIBLE);
	CHECK("start pointer from a reachable block: reachable", blk[f].state == LK_REACHABLE);
	CHECK("totals: definite", t.blocks[LK_UNREACHED] == 1 && t.bytes[LK_UNREACHED] == 16);
	CHECK("totals: possible", t.blocks[LK_POSSIBLE] == 3 && t.bytes[LK_POSSIBLE] == 64 + 8 + 24);
	CHECK("totals: reachable", t.blocks[LK_REACHABLE] == 2 && t.bytes[LK_REACHABLE] == 72);
	CHECK("totals: indirect", t.blocks[LK_INDIRECT] == 0);
}

static void test_possible_upgrades(void)
{
	struct lk_totals t;
	reset();
	/* x is first reached through an interior pointer, later by its start */
	size_t x = mk(0, 32), y = mk(8, 32);
	roots_mem[0] = blk[x].p + 8;
	roots_mem[5] = blk[x].p;
	*at(0) = blk[y].p;                      /* x -> y */
	run(&t);
	CHECK("possible upgraded to reachable by a later start pointer", blk[x].state == LK_REACHABLE);
	CHECK("... and what it points to follows", blk[y].state == LK_REACHABLE);
}

static void test_lost_list(void)
{
	struct lk_totals t;
	reset();
	size_t h = mk(0, 16);
	size_t prev = h;
	for (int i = 1; i <= 4; i++) {
		size_t n = mk((size_t)i * 4, 24);
		*(uintptr_t *)blk[prev].p = blk[n].p;
		prev = n;
	}
	run(&t);
	CHECK("list head definitely lost", blk[h].state == LK_UNREACHED);
	int ind = 1;
	for (size_t i = 1; i < nblk; i++)
		ind &= blk[i].state == LK_INDIRECT;
	CHECK("list nodes indirectly lost", ind);
	CHECK("list totals", t.blocks[LK_UNREACHED] == 1 && t.bytes[LK_UNREACHED] == 16
	      && t.blocks[LK_INDIRECT] == 4 && t.bytes[LK_INDIRECT] == 96);
}

static void test_cycle_and_leaders(void)
{
	struct lk_totals t;
	reset();
	/* a ring x -> y -> z -> x: the lowest address leads */
	size_t x = mk(0, 16), y = mk(4, 16), z = mk(8, 16);
	*at(0) = blk[y].p;
	*at(4) = blk[z].p;
	*at(8) = blk[x].p;
	run(&t);
	CHECK("ring: lowest block definitely lost", blk[x].state == LK_UNREACHED);
	CHECK("ring: the others indirectly lost", blk[y].state == LK_INDIRECT && blk[z].state == LK_INDIRECT);

	reset();
	/* a later leader takes over an earlier one: q (higher) -> p (lower) */
	size_t p = mk(0, 16), q = mk(8, 16);
	*at(8) = blk[p].p + 4;                  /* interior pointers count between lost blocks */
	run(&t);
	CHECK("earlier leader demoted to indirect", blk[p].state == LK_INDIRECT);
	CHECK("later block definitely lost", blk[q].state == LK_UNREACHED);
	CHECK("leader totals", t.blocks[LK_UNREACHED] == 1 && t.blocks[LK_INDIRECT] == 1);
}

static void test_edges(void)
{
	struct lk_totals t;
	reset();
	size_t z0 = mk(0, 0), z1 = mk(2, 0), a = mk(4, 16), b = mk(8, 12), c = mk(12, 16), d = mk(16, 8);
	roots_mem[0] = blk[z0].p;               /* zero-size block: start pointer */
	roots_mem[1] = blk[z1].p + 1;           /* ... not its next byte */
	roots_mem[2] = blk[a].p + 16;           /* one past the end is not a pointer into a */
	roots_mem[3] = blk[b].p;
	/* b is 12 bytes: its second word is only half inside, so not scanned */
	*at(9) = blk[c].p;
	/* an unaligned copy of d's address inside b's first word is not seen either */
	memcpy((char *)at(8) + 1, &blk[d].p, 7);
	run(&t);
	CHECK("zero-size block reached by its start", blk[z0].state == LK_REACHABLE);
	CHECK("zero-size block: p+1 does not point to it", blk[z1].state == LK_UNREACHED);
	CHECK("one past the end does not count", blk[a].state == LK_UNREACHED);
	CHECK("b reachable", blk[b].state == LK_REACHABLE);
	CHECK("a 12-byte block's partial last word is not scanned", blk[c].state == LK_UNREACHED);
	CHECK("unaligned words are not scanned", blk[d].state == LK_UNREACHED);
}

static void test_flags_and_exclusions(void)
{
	struct lk_totals t;
	reset();
	size_t a = mk(0, 16), b = mk(4, 16), c = mk(8, 16), d = mk(12, 16);
	blk[a].flags = LK_F_ROOT;               /* allocated by ld.so */
	*at(0) = blk[b].p;
	run(&t);
	CHECK("ld.so block counts as reachable", blk[a].state == LK_REACHABLE);
	CHECK("... and so does what it points to", blk[b].state == LK_REACHABLE);

	/* roots that overlap the allocator's heap or live blocks skip them */
	reset();
	a = mk(0, 16);
	b = mk(4, 16);
	c = mk(8, 16);
	d = mk(12, 32);
	*at(4) = blk[a].p;                      /* inside block b: not a root word */
	heap[100] = blk[c].p;                   /* inside the excluded range */
	heap[200] = blk[d].p;                   /* a real root word */
	struct lk_range r = { (uintptr_t)heap, (uintptr_t)(heap + 512) };
	struct lk_range ex = { (uintptr_t)&heap[96], (uintptr_t)&heap[128] };
	lk_classify(blk, nblk, stk, &r, 1, &ex, 1, &t);
	CHECK("a live block's contents are never a root", blk[a].state == LK_INDIRECT);
	CHECK("an excluded range is never a root", blk[c].state == LK_UNREACHED);
	CHECK("the rest of the range is", blk[d].state == LK_REACHABLE);
	CHECK("b itself unreferenced", blk[b].state == LK_UNREACHED);
}

static void test_empty(void)
{
	struct lk_totals t;
	lk_classify(NULL, 0, NULL, NULL, 0, NULL, 0, &t);
	CHECK("no blocks: zero totals", t.blocks[0] + t.blocks[1] + t.blocks[2] + t.blocks[3] == 0);
}

/* === Sorting ============================================================= */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void test_sort(void)
{
	static uint32_t v[5000];
	uint64_t s = 88172645463325252ull;
	for (size_t n = 0; n < 5000; n = n * 3 + 1) {
		for (size_t i = 0; i < n; i++) {
			s ^= s << 13; s ^= s >> 7; s ^= s << 17;
			v[i] = (uint32_t)(s % 1000);
		}
		lk_sort(v, n, sizeof(v[0]), cmp_u32);
		int ok = 1;
		for (size_t i = 1; i < n; i++)
			ok &= v[i - 1] <= v[i];
		CHECK("heap sort sorts", ok);
	}
	/* blocks by address: the radix sort, with and without its scratch */
	static struct lk_blk b1[3000], b2[3000], scratch[3000];
	for (size_t i = 0; i < 3000; i++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		uintptr_t p = (uintptr_t)0x7f0000000000ull + ((s % 50000) << 4);
		if (i % 7 == 0)
			p += (uintptr_t)(s % 3) << 36;   /* a few far away */
		b1[i] = (struct lk_blk){ p, i, (uint32_t)i, 0, 0, 0, 0 };
	}
	memcpy(b2, b1, sizeof(b1));
	sort_blocks(b1, 3000, scratch);
	sort_blocks(b2, 3000, NULL);
	int ok = 1;
	for (size_t i = 1; i < 3000; i++)
		ok &= b1[i - 1].p <= b1[i].p && b2[i - 1].p <= b2[i].p && b1[i].p == b2[i].p;
	CHECK("radix sort of blocks sorts, as the heap sort", ok);
	uint64_t sum = 0;
	for (size_t i = 0; i < 3000; i++)
		sum += b1[i].size;
	CHECK("radix sort keeps every block", sum == 2999u * 3000u / 2);
}

/* === Side table, depot, unwinder ======================================== */

static char fake[4096];

static __attribute__((noinline)) void test_entry(void *p, size_t n)
{
	lk_alloc(p, n, LK_MALLOC, __builtin_return_address(0));
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void deep(int d, void *p)
{
	if (d > 0) {
		deep(d - 1, p);
		__asm__ volatile("" ::: "memory");
		return;
	}
	test_entry(p, 7);
}

static void test_recording(void)
{
	setenv("REFALLOC_LEAKS", "1", 1);
	setenv("REFALLOC_LEAKS_UNWIND", "check", 1);
	struct lk_host h = { &g_pass, { 0 }, NULL };
	CHECK("lk_init turns the report on", lk_init(&h) == 1);
	CHECK("lk_init again is harmless", lk_init(&h) == 1);

	/* the same site twice: one stack; another depth: another */
	struct lk_saved s1, s2, s3;
	for (volatile int i = 0; i < 2; i++)        /* volatile: not unrolled into two sites */
		test_entry(&fake[i * 16], 10 + (size_t)i);
	deep(5, &fake[64]);
	CHECK("take finds a block", lk_take(&fake[0], &s1) == 1 && s1.size == 10);
	CHECK("take finds the second", lk_take(&fake[16], &s2) == 1 && s2.size == 11);
	CHECK("same call site, same stack id", s1.stack && s1.stack == s2.stack);
	CHECK("deeper call, other stack", lk_take(&fake[64], &s3) == 1 && s3.stack != s1.stack && s3.size == 7);
	CHECK("deep stack has its frames", srec(s3.stack)->n >= 7);
	CHECK("take twice: gone", lk_take(&fake[0], &s1) == 0);
	lk_restore(&fake[0], &s2);
	CHECK("restore puts it back", lk_take(&fake[0], &s1) == 1 && s1.size == 11 && s1.stack == s2.stack);

	/* many blocks across all shards: growth and backward-shift deletion */
	const uintptr_t base = (uintptr_t)1 << 40;
	for (uintptr_t i = 0; i < 200000; i++)
		table_put(base + i * 16, i, 1);
	for (uintptr_t i = 0; i < 200000; i += 2)
		lk_free((void *)(base + i * 16));
	int ok = 1;
	for (uintptr_t i = 0; i < 200000; i++) {
		struct lk_saved s;
		int got = lk_take((void *)(base + i * 16), &s);
		ok &= (i & 1) ? got == 1 && s.size == i : got == 0;
	}
	CHECK("200000 blocks: every other one freed, the rest intact", ok);
	size_t left = 0;
	for (unsigned i = 0; i < LK_NSHARDS; i++)
		left += G.shards[i].count;
	CHECK("table empty again", left == 0);

#ifdef LK_FAST_UNWIND
	CHECK("fast unwinder used", G.unw_fast >= 3 && G.unw_slow == 0);
	CHECK("fast unwinder agrees with libgcc", G.unw_differ == 0);
#endif
}

/* === Symbolization ====================================================== */

static void test_symbolize(void)
{
	int pfd[2];
	if (pipe(pfd) != 0) {
		CHECK("pipe", 0);
		return;
	}
	O.fd = pfd[1];
	O.n = 0;
	out_frame(1, (uintptr_t)&test_entry + 4, NULL);
	out_frame(2, (uintptr_t)&dladdr + 1, NULL);
	out_flush();
	close(pfd[1]);
	char buf[2048] = { 0 };
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	CHECK("frame text read", n > 0);
	CHECK("a static function found through .symtab", strstr(buf, " in test_entry") != NULL);
	CHECK("module offset printed", strstr(buf, "um_test_leaks+0x") != NULL);
	CHECK("a libc function found through dladdr", strstr(buf, " in dladdr") != NULL);
	for (unsigned i = 0; i < lk_nelfs; i++)
		if (lk_elfs[i].map)
			munmap((void *)lk_elfs[i].map, lk_elfs[i].len);
	lk_nelfs = 0;
}

static void test_options(void)
{
	CHECK("show list", opt_show("definite,reachable") == (SHOW_DEFINITE | SHOW_REACHABLE));
	CHECK("show all", opt_show("all") == (SHOW_DEFINITE | SHOW_INDIRECT | SHOW_POSSIBLE | SHOW_REACHABLE));
	CHECK("show none", opt_show("none") == 0);
}

int main(void)
{
	test_basic_states();
	test_possible_upgrades();
	test_lost_list();
	test_cycle_and_leaders();
	test_edges();
	test_flags_and_exclusions();
	test_empty();
	test_sort();
	test_recording();
	test_symbolize();
	test_options();
	printf("um_test_leaks: %d passed, %d failed\n", g_pass, g_fail);
	return g_fail != 0;
}
