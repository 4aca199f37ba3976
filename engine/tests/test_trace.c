/*
 * test_trace.c — the text trace format (docs/trace-format.md): every
 * operation round-trips through ra_trace_print, errors carry an exact
 * FILE:LINE:COL: error: message, replays exit 0/1/2 as the contract says,
 * and handles behave as C pointers do.
 */
#include "unit.h"
#include "refalloc/trace.h"

/* Parse and format the error as the tool prints it ("" on success). */
static const char *perr(const char *text, size_t len)
{
	static char buf[512];
	struct ra_trace *t;
	struct ra_trace_error e;
	if (ra_trace_parse("t.trace", text, len, &t, &e) == 0) {
		ra_trace_free(t);
		return "";
	}
	snprintf(buf, sizeof(buf), "t.trace:%u:%u: error: %s", e.line, e.col, e.msg);
	return buf;
}
#define PERR(s) perr((s), strlen(s))

static char *print_trace(const struct ra_trace *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ra_trace_print(t, f);
	fclose(f);
	return buf;
}

/* === Round trip ========================================================== */

static void round_trip_every_op(void)
{
	/* one line per operation the parser knows (kernel, control and user
	 * side), written as ra_trace_print writes them */
	const char *canon =
		"refalloc-trace 1\n"
		"machine mem=64M cpus=4 dma=15M dma32=32M cma=8M\n"
		"sysctl vm.min_free_kbytes=4096\n"
		"sysctl vm.lowmem_reserve_ratio=128,128,16\n"
		"slub_debug FZPU,kmalloc-64\n"
		"slub_debug\n"
		"alloc_pages GFP_KERNEL|__GFP_ZERO 3 -> p\n"
		"alloc_pages GFP_HIGHUSER_MOVABLE|__GFP_NOWARN 0 -> p2\n"
		"alloc_pages GFP_ATOMIC|GFP_DMA 1 -> p3\n"
		"free_pages p\n"
		"kmalloc 100 GFP_KERNEL -> k\n"
		"kzalloc 64K GFP_NOWAIT|__GFP_RECLAIMABLE -> z\n"
		"krealloc k 2M GFP_KERNEL -> k2\n"
		"kfree k2\n"
		"kmem_cache_create my_cache 200 align=64 flags=SLAB_RED_ZONE|SLAB_POISON|SLAB_HWCACHE_ALIGN -> c\n"
		"kmem_cache_create other 1K -> c2\n"
		"kmem_cache_alloc c GFP_KERNEL|__GFP_ZERO -> o\n"
		"kmem_cache_free c o\n"
		"kmem_cache_shrink c\n"
		"kmem_cache_destroy c\n"
		"vmalloc 1G -> v\n"
		"vzalloc 12345 -> v2\n"
		"vfree v\n"
		"ioremap 0xfed00000 4K -> io\n"
		"iounmap io\n"
		"poke z -8 16 byte=0xcc\n"
		"poke z 0 1\n"
		"peek z 0 64\n"
		"cpu 3\n"
		"balloon 8M -> b\n"
		"unballoon b\n"
		"fail page_alloc nth=3\n"
		"fail slab times=-1 every=2\n"
		"fail vmalloc times=5 prob=50\n"
		"fail mmap off\n"
		"fail brk nth=1\n"
		"fail fault nth=2 times=2\n"
		"task init oom_score_adj=-1000 -> t\n"
		"task worker -> w\n"
		"@t\n"
		"@w:3\n"
		"fork -> w2\n"
		"malloc 1M -> m\n"
		"calloc 10 100 -> ca\n"
		"realloc m 2M -> m2\n"
		"memalign 64 100 -> ma\n"
		"free ma\n"
		"mallopt M_MMAP_MAX 0\n"
		"mallopt M_TRIM_THRESHOLD -1\n"
		"mallopt -9 5\n"
		"malloc_trim 128K\n"
		"mmap 4M prot=r populate locked -> mm\n"
		"mmap 64K -> mm2\n"
		"munmap mm\n"
		"brk -4096\n"
		"mlockall current future\n"
		"mlockall future\n"
		"touch m2\n"
		"touch m2 4096 100\n"
		"read ca -16\n"
		"oom_score_adj 500\n"
		"oom_adj -17\n"
		"exit\n"
		"check\n"
		"check full\n"
		"dump buddyinfo\n"
		"dump slabtop\n"
		"file data.bin 1M -> f\n"
		"file shm 64K tmpfs -> s\n"
		"mmap 1M prot=r file=f offset=4K shared populate -> fm\n"
		"mmap 64K file=s -> fm2\n"
		"msync fm\n"
		"madvise fm dontneed\n"
		"madvise fm free 4096\n"
		"madvise fm pageout 4096 8192\n"
		"madvise fm cold\n"
		"madvise fm willneed 0 4096\n"
		"dump smaps\n"
		"dump procrank\n"
		"fread f\n"
		"fread f 4K 100\n"
		"fwrite f 0 8K byte=0x41\n"
		"fwrite f 12K\n"
		"fsync f\n"
		"fadvise f dontneed\n"
		"sysctl vm.drop_caches=3\n"
		"dump free\n"
		"ftruncate f 100\n"
		"funlink f\n"
		"sleep 1000\n"
		"swapon 64M prio=5 -> sw\n"
		"swapon 16M zram ratio=4 -> z\n"
		"swapon 1M -> d\n"
		"swapoff sw\n"
		"dump swaps\n"
		"expect ok\n"
		"expect fail\n"
		"expect any\n"
		"expect oom_kill worker\n";
	struct ra_trace *t, *t2;
	struct ra_trace_error e;
	CHECK_EQ(ra_trace_parse("rt.trace", canon, strlen(canon), &t, &e), 0);
	if (!t) {
		fprintf(stderr, "  %u:%u: %s\n", e.line, e.col, e.msg);
		return;
	}
	/* every operation code appears */
	bool seen[RA_OP_NR] = { false };
	for (uint32_t i = 0; i < t->nops; i++)
		seen[t->ops[i].code] = true;
	for (int c = 0; c < RA_OP_NR; c++)
		if (!seen[c])
			fprintf(stderr, "  operation '%s' missing from the round trip\n", ra_op_names[c]);
	for (int c = 0; c < RA_OP_NR; c++)
		CHECK(seen[c]);
	char *p1 = print_trace(t);
	CHECK_STR(p1, canon);
	CHECK_EQ(ra_trace_parse("rt.trace", p1, strlen(p1), &t2, &e), 0);
	char *p2 = print_trace(t2);
	CHECK_STR(p2, p1);
	free(p1);
	free(p2);
	ra_trace_free(t);
	ra_trace_free(t2);
}

/* Non-canonical spellings parse to the same operations. */
static void lexical_rules(void)
{
	const char *in =
		"# a comment line\n"
		"\n"
		"  machine   mem=65536K\tcpus=1   # trailing comment\n"
		"kmalloc 0x40 GFP_KERNEL ->k\n"
		"kfree\tk\n"
		"alloc_pages 0 0 -> p    # '0': no flags\n"
		"ioremap 4276092928 0x1000 -> io\r\n";
	struct ra_trace *t;
	struct ra_trace_error e;
	CHECK_EQ(ra_trace_parse("lex.trace", in, strlen(in), &t, &e), 0);
	if (!t)
		return;
	char *p = print_trace(t);
	CHECK_STR(p, "refalloc-trace 1\n"
	             "machine mem=64M cpus=1 dma=16M dma32=4G cma=0\n"
	             "kmalloc 64 GFP_KERNEL -> k\n"
	             "kfree k\n"
	             "alloc_pages 0 0 -> p\n"
	             "ioremap 0xfee00000 4K -> io\n");
	CHECK_EQ(t->ops[1].line, 4);
	CHECK_EQ(t->ops[2].col, 1);
	free(p);
	ra_trace_free(t);
	/* the version line */
	CHECK_STR(PERR("refalloc-trace 1\nkmalloc 8 GFP_KERNEL -> a\n"), "");
	CHECK_STR(PERR("refalloc-trace 2\n"), "t.trace:1:16: error: unsupported trace version (this is version 1)");
}

/* === Errors: FILE:LINE:COL ============================================== */

static void error_table(void)
{
	static const struct { const char *in, *want; } v[] = {
		{ "frobnicate 1\n",
		  "t.trace:1:1: error: unknown operation 'frobnicate'" },
		{ "kmalloc 8 GFP_KERNEL -> a\n  kmalloc 12x GFP_KERNEL -> b\n",
		  "t.trace:2:13: error: bad number '12x' (suffixes: K M G)" },
		{ "kmalloc size GFP_KERNEL -> a\n",
		  "t.trace:1:9: error: expected a number, got 'size'" },
		{ "kmalloc 99999999999999999999 GFP_KERNEL -> a\n",
		  "t.trace:1:9: error: number '99999999999999999999' is too large" },
		{ "kmalloc -8 GFP_KERNEL -> a\n",
		  "t.trace:1:9: error: negative number '-8' not allowed here" },
		{ "kfree q\n",
		  "t.trace:1:7: error: unknown handle 'q' (no earlier line binds it with '-> q')" },
		{ "kmalloc 8 GFP_KERNEL ->\n",
		  "t.trace:1:22: error: '->' must be followed by a handle name" },
		{ "kmalloc 8 GFP_KERNEL -> 9a\n",
		  "t.trace:1:25: error: '9a' is not a handle name ([A-Za-z_][A-Za-z0-9_]*)" },
		{ "kmalloc 8 -> a GFP_KERNEL\n",
		  "t.trace:1:11: error: '-> name' must end the line" },
		{ "kfree -> a\n",
		  "t.trace:1:7: error: 'kfree' does not create anything to bind" },
		{ "kmalloc 8 GFP_KERNEL|__GFP_BOGUS -> a\n",
		  "t.trace:1:22: error: unknown GFP flag '__GFP_BOGUS'" },
		{ "kmalloc 8 GFP_KERNEL||__GFP_ZERO -> a\n",
		  "t.trace:1:22: error: unknown GFP flag ''" },
		{ "alloc_pages GFP_DMA|GFP_DMA32 0 -> a\n",
		  "t.trace:1:13: error: GFP_DMA and GFP_DMA32 exclude each other" },
		{ "alloc_pages GFP_KERNEL 11 -> p\n",
		  "t.trace:1:24: error: order 11 above MAX_ORDER 10" },
		{ "machine mem=8M\n",
		  "t.trace:1:13: error: mem=8M: machine size must be 16M .. 64G" },
		{ "machine mem=128G\n",
		  "t.trace:1:13: error: mem=128G: machine size must be 16M .. 64G" },
		{ "machine cpus=65\n",
		  "t.trace:1:14: error: cpus=65: must be 1 .. 64" },
		{ "machine mem=64M cma=40M\n",
		  "t.trace:1:1: error: cma= may take at most half of mem=" },
		{ "machine dma=1000\n",
		  "t.trace:1:13: error: dma=1000: not a multiple of 4K" },
		{ "machine swap=4K\n",
		  "t.trace:1:14: error: swap=4K: a swap device must be 8K .. 64G" },
		{ "machine zswap=1G\n",
		  "t.trace:1:9: error: unknown machine option 'zswap'" },
		{ "swapon 1M ratio=2 -> s\n",
		  "t.trace:1:1: error: ratio= is for a zram device" },
		{ "swapon 1M zram ratio=0 -> s\n",
		  "t.trace:1:22: error: ratio=0: must be 1 .. 64" },
		{ "swapon 1M prio=40000 -> s\n",
		  "t.trace:1:16: error: prio=40000: must be 0 .. 32767" },
		{ "swapon -1M -> s\n",
		  "t.trace:1:8: error: negative number '-1M' not allowed here" },
		{ "swapoff nosuch\n",
		  "t.trace:1:9: error: unknown handle 'nosuch' (no earlier line binds it with '-> nosuch')" },
		{ "kmalloc 8 GFP_KERNEL -> a\nmachine mem=16M\n",
		  "t.trace:2:1: error: 'machine' must be the first operation" },
		{ "machine mem=16M\nmachine mem=32M\n",
		  "t.trace:2:1: error: only one 'machine' line" },
		{ "kmalloc 8 GFP_KERNEL -> a\npoke a 0 65M\n",
		  "t.trace:2:10: error: at most 64M per poke" },
		{ "kmalloc 8 GFP_KERNEL -> a\npoke a 0 1 byte=256\n",
		  "t.trace:2:17: error: byte= must be 0 .. 255" },
		{ "fail slab prob=101\n",
		  "t.trace:1:16: error: prob= is a percentage 0 .. 100" },
		{ "fail slab nth=0\n",
		  "t.trace:1:15: error: nth= counts from 1" },
		{ "fail swap nth=1\n",
		  "t.trace:1:6: error: unknown fail site 'swap' (page_alloc slab vmalloc mmap brk fault writeback swap_slot swap_write)" },
		{ "sysctl vm.nosuch=1\n",
		  "t.trace:1:8: error: unknown knob 'vm.nosuch' (see `refalloc knobs`)" },
		{ "dump procinfo\n",
		  "t.trace:1:6: error: unknown view 'procinfo'" },
		{ "expect maybe\n",
		  "t.trace:1:8: error: expect takes ok, fail, any or oom_kill NAME, got 'maybe'" },
		{ "kmem_cache_create c 0 -> c\n",
		  "t.trace:1:21: error: object size must be 1 .. 4M" },
		{ "kmem_cache_create c 8 align=3 -> c\n",
		  "t.trace:1:29: error: align must be a power of two up to 4096" },
		{ "kmem_cache_create c 8 flags=SLAB_FOO -> c\n",
		  "t.trace:1:29: error: unknown cache flag 'SLAB_FOO'" },
		{ "kmalloc 8\n",
		  "t.trace:1:1: error: 'kmalloc' needs 2 arguments, got 1" },
		{ "kmalloc 8 GFP_KERNEL 3 -> a\n",
		  "t.trace:1:22: error: unexpected '3' ('kmalloc' takes at most 2 arguments)" },
		{ "cpu 64\n",
		  "t.trace:1:5: error: cpu 64: at most 64 cpus" },
		{ "check half\n",
		  "t.trace:1:7: error: check takes only 'full', got 'half'" },
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(v); i++)
		CHECK_STR(PERR(v[i].in), v[i].want);
}

static void error_bytes(void)
{
	/* a NUL byte: its column */
	static const char nul[] = "kmalloc 8\0 GFP_KERNEL -> a\n";
	CHECK_STR(perr(nul, sizeof(nul) - 1), "t.trace:1:10: error: NUL byte in the trace");
	/* a line of 70000 bytes */
	char *longl = malloc(70002);
	memset(longl, 'a', 70000);
	longl[70000] = '\n';
	longl[70001] = 0;
	CHECK_STR(perr(longl, 70001), "t.trace:1:1: error: line longer than 65535 bytes");
	/* 65535 bytes are a line (of one unknown word) */
	longl[65535] = '\n';
	const char *e = perr(longl, 65536);
	CHECK(strncmp(e, "t.trace:1:1: error: unknown operation 'aaaa", 43) == 0);
	free(longl);
	/* binary garbage: the PNG signature; non-printable bytes are escaped */
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	CHECK_STR(perr(png, sizeof(png) - 1), "t.trace:1:1: error: unknown operation '\\x89PNG'");
	static const char junk[] = "\x01\x02\x03 \xff\xfe\n";
	CHECK_STR(perr(junk, sizeof(junk) - 1), "t.trace:1:1: error: unknown operation '\\x01\\x02\\x03'");
	/* 33 words: the 33rd, the 32nd x, is at column 5 + 2 * 32 = 69 */
	char many[256] = "check";
	for (int i = 0; i < 32; i++)
		strcat(many, " x");
	CHECK_STR(PERR(many), "t.trace:1:69: error: too many words on one line (at most 32)");
	/* an empty input is an empty trace */
	CHECK_STR(perr("", 0), "");
	CHECK_STR(PERR("\n\n# nothing\n"), "");
}

/* === Exit codes of a replay ============================================= */

static int run(const char *text, char **out, char **err)
{
	*out = *err = NULL;
	return run_trace_text(text, out, err);
}

static void exit_codes(void)
{
	char *o, *e;
	/* 0: everything held */
	CHECK_EQ(run("machine mem=16M\nkmalloc 8 GFP_KERNEL -> a\nexpect ok\nkfree a\nexpect ok\n", &o, &e), 0);
	CHECK_STR(e, "");
	free(o), free(e);
	/* 1: an expect that does not hold */
	CHECK_EQ(run("machine mem=16M\nkmalloc 8 GFP_KERNEL -> a\nexpect fail\n", &o, &e), 1);
	CHECK_STR(e, "t.trace:3: expect fail failed: kmalloc (line 2) succeeded\n"
	             "refalloc: t.trace: FAILED: 0 unexpected reports, 1 failed expect or check, 0 invariant problems\n");
	free(o), free(e);
	CHECK_EQ(run("machine mem=16M\nalloc_pages GFP_KERNEL|__GFP_NOWARN 10 -> a\nalloc_pages GFP_KERNEL|__GFP_NOWARN 10 -> b\n"
	             "alloc_pages GFP_KERNEL|__GFP_NOWARN 10 -> c\nalloc_pages GFP_KERNEL|__GFP_NOWARN 10 -> d\nexpect ok\n",
	             &o, &e), 1);
	CHECK(strstr(e, "t.trace:6: expect ok failed: alloc_pages (line 5) failed\n") != NULL);
	free(o), free(e);
	/* 1: a BUG report nobody acknowledged */
	CHECK_EQ(run("machine mem=16M\nkmalloc 8 GFP_KERNEL -> a\nkfree a\nkfree a\n", &o, &e), 1);
	CHECK(strncmp(e, "BUG: refalloc: double-free in kmalloc-8: kfree(0x", 49) == 0);
	CHECK(strstr(e, "): object already free (t.trace:4)\n") != NULL);
	CHECK(strstr(e, "refalloc: t.trace: FAILED: 1 unexpected report, 0 failed expects or checks, 0 invariant problems\n") != NULL);
	free(o), free(e);
	/* ... acknowledged: 0 */
	CHECK_EQ(run("machine mem=16M\nkmalloc 8 GFP_KERNEL -> a\nkfree a\nkfree a\nexpect fail\n", &o, &e), 0);
	free(o), free(e);
	/* 1: `check full` finds in-band corruption (a red zone of a live
	 * object): a misuse report, repaired, that the trace did not expect */
	CHECK_EQ(run("machine mem=64M\nslub_debug Z,kmalloc-64\nkmalloc 64 GFP_KERNEL -> a\npoke a 64 1\ncheck full\n",
	             &o, &e), 1);
	CHECK(strstr(e, "BUG kmalloc-64 (Not tainted): Redzone overwritten\n") != NULL);
	free(o), free(e);
	CHECK_EQ(run("machine mem=64M\nslub_debug Z,kmalloc-64\nkmalloc 64 GFP_KERNEL -> a\npoke a 64 1\ncheck full\n"
	             "expect fail\nkfree a\nexpect ok\n", &o, &e), 0);
	free(o), free(e);
	/* 2: the trace cannot be read: nothing runs (no output at all) */
	CHECK_EQ(run("machine mem=16M\ndump buddyinfo\nkfree nothing\n", &o, &e), 2);
	CHECK_STR(o, "");
	CHECK_STR(e, "t.trace:3:7: error: unknown handle 'nothing' (no earlier line binds it with '-> nothing')\n");
	free(o), free(e);
	/* 2 at run time: a handle of the wrong kind */
	CHECK_EQ(run("machine mem=16M\nkmalloc 8 GFP_KERNEL -> a\nkmem_cache_alloc a GFP_KERNEL -> o\n", &o, &e), 2);
	CHECK_STR(e, "t.trace:3:18: error: handle 'a' is a kmalloc object; kmem_cache_alloc wants a kmem cache\n");
	free(o), free(e);
	/* 1: a cache destroyed twice is the kernel's use-after-free of the
	 * kmem_cache itself: a misuse report, acknowledged with expect fail */
	CHECK_EQ(run("machine mem=16M\nkmem_cache_create c 8 -> c\nkmem_cache_destroy c\nkmem_cache_destroy c\n", &o, &e), 1);
	CHECK_STR(e, "BUG: refalloc: invalid-free in kmem_cache_destroy: cache 'c' was destroyed at line 3 (t.trace:4)\n"
	             "refalloc: t.trace: FAILED: 1 unexpected report, 0 failed expects or checks, 0 invariant problems\n");
	free(o), free(e);
	CHECK_EQ(run("machine mem=16M\nkmem_cache_create c 8 -> c\nkmem_cache_destroy c\nkmem_cache_destroy c\nexpect fail\n",
	             &o, &e), 0);
	free(o), free(e);
	/* the machine cannot be created (bad knob from the environment aside):
	 * dma32 below dma is allowed (DMA32 empty) */
	CHECK_EQ(run("machine mem=64M dma32=8M\ndump buddyinfo\n", &o, &e), 0);
	CHECK_STR(o, "Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      4 \n"
	             "Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0     12 \n");
	free(o), free(e);
}

/* === Handles ============================================================ */

static void handle_semantics(void)
{
	char *o, *e;
	/* rebinding a live name is a trace error (exit 2) */
	CHECK_EQ(run("kmalloc 8 GFP_KERNEL -> a\nkmalloc 8 GFP_KERNEL -> a\n", &o, &e), 2);
	CHECK_STR(e, "t.trace:2:1: error: handle 'a' is still live (bound at line 1); free it before rebinding\n");
	free(o), free(e);
	/* after a free the name can be reused */
	CHECK_EQ(run("kmalloc 8 GFP_KERNEL -> a\nkfree a\nkmalloc 8 GFP_KERNEL -> a\nexpect ok\nkfree a\n", &o, &e), 0);
	free(o), free(e);
	/* krealloc may rebind its own argument */
	CHECK_EQ(run("kmalloc 8 GFP_KERNEL -> a\nkrealloc a 100 GFP_KERNEL -> a\nexpect ok\nkfree a\n", &o, &e), 0);
	free(o), free(e);
	/* a failed allocation binds NULL: outcome fail, not an error; freeing
	 * NULL is a no-op (ok); any other use of NULL fails */
	CHECK_EQ(run("machine mem=16M\nfail slab nth=1\nkmalloc 8 GFP_KERNEL -> a\nexpect fail\nkfree a\nexpect ok\n"
	             "poke a 0 1\nexpect fail\nkrealloc a 16 GFP_KERNEL -> b\nexpect ok\nkfree b\n", &o, &e), 0);
	CHECK_STR(e, "");
	free(o), free(e);
	/* a NULL name can be rebound (it is not live) */
	CHECK_EQ(run("machine mem=16M\nalloc_pages GFP_KERNEL|__GFP_NOWARN 11 -> p\n", &o, &e), 2);   /* order 11: syntax */
	free(o), free(e);
	CHECK_EQ(run("machine mem=16M\nfail page_alloc nth=1\nalloc_pages GFP_KERNEL 0 -> p\nexpect fail\n"
	             "alloc_pages GFP_KERNEL 0 -> p\nexpect ok\nfree_pages p\n", &o, &e), 0);
	free(o), free(e);
	/* a freed handle keeps its address like a dangling pointer: using it
	 * is the engine's to catch */
	CHECK_EQ(run("machine mem=16M\nvmalloc 4K -> v\nvfree v\nvfree v\nexpect fail\n", &o, &e), 0);
	CHECK(strstr(e, "BUG: refalloc: double-free in vfree: Trying to vfree() nonexistent vm area (0xffffc90000000000): "
	                "already freed (t.trace:4)\n") != NULL);
	free(o), free(e);
	/* kernel memory handles may be passed to the wrong free function:
	 * misuse, not a trace error */
	CHECK_EQ(run("machine mem=16M\nkmalloc 8 GFP_KERNEL -> a\nvfree a\nexpect fail\nfree_pages a\nexpect fail\n"
	             "kfree a\nexpect ok\n", &o, &e), 0);
	free(o), free(e);
}

/* User-side operations with no current task are trace errors. (When the
 * user side did not exist yet they said "'malloc': not supported yet";
 * delete this test if that ever matters again.) */
static void user_op_without_task(void)
{
	char *o, *e;
	CHECK_EQ(run("machine mem=16M\nmalloc 8 -> a\n", &o, &e), 2);
	CHECK_STR(e, "t.trace:2:1: error: 'malloc' needs a current task (create one with `task NAME -> t`)\n");
	free(o), free(e);
}

/* peek prints a hexdump of kernel memory to standard output */
static void peek_output(void)
{
	char *o, *e;
	CHECK_EQ(run("machine mem=16M cpus=1\nkzalloc 20 GFP_KERNEL -> a\npoke a 2 3 byte=0x7f\npeek a 0 20\nkfree a\n",
	             &o, &e), 0);
	/* kmalloc-32, first object of the first slab: pfn 0 is DMA's first
	 * page, stolen for Unmovable; the direct map starts at
	 * 0xffff888000000000 */
	CHECK_STR(o, "ffff888000000000: 00 00 7f 7f 7f 00 00 00 00 00 00 00 00 00 00 00\n"
	             "ffff888000000010: 00 00 00 00\n");
	free(o), free(e);
}

/* === GFP names =========================================================== */

static const char *gfp_str(ra_gfp_t gfp)
{
	static char buf[256];
	ra_gfp_format(gfp, buf, sizeof(buf));
	return buf;
}

static ra_gfp_t gfp_val(const char *s)
{
	ra_gfp_t v = 0;
	size_t bad = 0;
	CHECK_EQ(ra_gfp_parse(s, strlen(s), &v, &bad), 0);
	return v;
}

/* %pGg as 6.1 prints it: its name table (mmflags.h) walked in order, a
 * name taken when all its bits are still unclaimed, leftovers in hex. */
static void gfp_names(void)
{
	/* 6.1's GFP_ATOMIC is __GFP_HIGH|__GFP_ATOMIC|__GFP_KSWAPD_RECLAIM */
	CHECK_EQ(gfp_val("GFP_ATOMIC"), 0xa20u);
	CHECK_EQ(gfp_val("__GFP_ATOMIC"), 0x200u);
	CHECK_EQ(gfp_val("GFP_NOWAIT|__GFP_HIGH|__GFP_ATOMIC"), 0xa20u);
	CHECK_STR(gfp_str(0xa20), "GFP_ATOMIC");
	CHECK_STR(gfp_str(0x200), "__GFP_ATOMIC");
	/* 6.3's GFP_ATOMIC value: GFP_NOWAIT (0x800) fits, then __GFP_HIGH */
	CHECK_STR(gfp_str(0x820), "GFP_NOWAIT|__GFP_HIGH");
	CHECK_STR(gfp_str(0xa00), "GFP_NOWAIT|__GFP_ATOMIC");
	/* single bits in the table's order: __GFP_NOWARN before __GFP_ZERO,
	 * __GFP_ZERO before __GFP_MOVABLE, __GFP_IO before __GFP_FS */
	CHECK_STR(gfp_str(RA_GFP_KERNEL | RA___GFP_ZERO | RA___GFP_NOWARN), "GFP_KERNEL|__GFP_NOWARN|__GFP_ZERO");
	CHECK_STR(gfp_str(RA_GFP_USER | RA___GFP_MOVABLE | RA___GFP_ZERO), "GFP_USER|__GFP_ZERO|__GFP_MOVABLE");
	CHECK_STR(gfp_str(RA_GFP_KERNEL & ~RA___GFP_DIRECT_RECLAIM), "GFP_NOWAIT|__GFP_IO|__GFP_FS");
	/* __page_frag_cache_refill()'s mask */
	CHECK_STR(gfp_str(RA_GFP_ATOMIC | RA___GFP_COMP | RA___GFP_NOWARN | RA___GFP_NORETRY | RA___GFP_NOMEMALLOC),
	          "GFP_ATOMIC|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC");
	CHECK_STR(gfp_str(RA_GFP_HIGHUSER_MOVABLE | RA___GFP_ZERO), "GFP_HIGHUSER_MOVABLE|__GFP_ZERO");
	/* a bit without a name stays a number */
	CHECK_STR(gfp_str(0x200 | 0x4000000), "__GFP_ATOMIC|0x4000000");
}

static const struct unit_test tests[] = {
	{ "round_trip_every_op", round_trip_every_op },
	{ "lexical_rules", lexical_rules },
	{ "error_table", error_table },
	{ "error_bytes", error_bytes },
	{ "exit_codes", exit_codes },
	{ "handle_semantics", handle_semantics },
	{ "user_op_without_task", user_op_without_task },
	{ "peek_output", peek_output },
	{ "gfp_names", gfp_names },
};
UNIT_MAIN("trace", tests)
