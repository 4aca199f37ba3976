/*
 * test_corrupt.c — misuse and corruption, in the style of the kernel's
 * slub KUnit tests (lib/slub_kunit.c): corrupt on purpose, then assert the
 * exact number of reports, the kernel-format BUG/INFO/FIX lines, that the
 * operation was refused, and that the engine's own structures are intact
 * (ra_check() == 0) afterwards.
 *
 * The second half corrupts the engine's own structures (struct ra_page,
 * free lists, zone counters, slabs) and asserts that the validators count
 * exactly the problems that follow from the injection — then repairs it.
 *
 * Layout used throughout: mem=64M, 1 cpu, slub_debug=FZPU on kmalloc-64.
 * kmalloc-64 is naturally aligned, so the slot is 256 bytes with a 64-byte
 * left red zone (see test_slab.c): object i of the first slab is at
 * base + 256 * i + 64. The first slab is pfn 4096 (the first DMA32 block,
 * stolen whole for Unmovable), base 0xffff888001000000.
 */
#include "unit.h"
#include "vmscan.h"
#include "refalloc/trace.h"

#define BASE 0xffff888001000000ULL
#define OBJ(i) (BASE + 256ULL * (i) + 64)

static ra_machine *mk_debug(struct tm *t, const char *spec)
{
	struct ra_config c;
	ra_config_default(&c);
	c.mem = 64ULL << 20;
	c.cpus = 1;
	ra_machine *m = tm_new_cfg(t, &c);
	char err[160];
	ra_set_site(m, "t.c", 1);      /* tracks (U) and reports name this site */
	if (spec)
		CHECK_EQ(ra_slab_set_debug(m, spec, err, sizeof(err)), 0);
	return m;
}

static bool has(const char *text, const char *line)
{
	if (strstr(text, line))
		return true;
	fprintf(stderr, "  missing line: %s\n", line);
	return false;
}

static unsigned count_lines(const char *text, const char *prefix)
{
	unsigned n = 0;
	size_t l = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += strncmp(p, prefix, l) == 0;
	return n;
}

/* === slub_debug: the kernel's own checks ================================== */

/* Write past the object: kfree finds the right red zone overwritten,
 * restores it and refuses the free. */
static void redzone_right(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "FZPU,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(p, OBJ(0));
	CHECK_EQ(ra_kfill(m, p + 64, 0x41, 1), 0);      /* one byte past the end */
	tm_err(&t);
	unsigned long r = ra_reports(m);
	CHECK_EQ(ra_kfree(m, p), -1);
	CHECK_EQ(ra_reports(m), r + 1);
	const char *e = tm_err(&t);
	CHECK(has(e, "BUG: refalloc: redzone-overwritten in kmalloc-64: Redzone overwritten at 0xffff888001000080 "
	             "(object 0xffff888001000040) (t.c:1)\n"));
	CHECK(has(e, "=============================================================================\n"
	             "BUG kmalloc-64 (Not tainted): Redzone overwritten\n"
	             "-----------------------------------------------------------------------------\n\n"));
	/* @offset is from the slab start: 0x80 = 128 */
	CHECK(has(e, "INFO: 0xffff888001000080-0xffff888001000080 @offset=128. First byte 0x41 instead of 0xcc\n"));
	CHECK(has(e, "INFO: Slab 0xffff888001000000 objects=16 used=1 fp=0xffff888001000140 flags=0x200(slab)\n"));
	CHECK(has(e, "INFO: Object 0xffff888001000040 @offset=64 fp=0xffff888001000140\n"));
	/* the red zone bytes in the hexdump: 41 then seven cc */
	CHECK(has(e, "Redzone  ffff888001000080: 41 cc cc cc cc cc cc cc "));
	CHECK(has(e, "FIX kmalloc-64: Restoring Redzone 0xffff888001000080-0xffff888001000080=0xcc\n"));
	CHECK(has(e, "FIX kmalloc-64: Object at 0xffff888001000040 not freed\n"));
	CHECK_EQ(count_lines(e, "BUG: "), 1);
	/* refused: the object is still allocated; the restored red zone lets
	 * it be freed now, without a report */
	CHECK_EQ(ra_ksize(m, p), 64);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_reports(m), r + 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Write before the object: the left red zone. A second BUG is "Tainted". */
static void redzone_left(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "FZPU,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	ra_kfill(m, p - 2, 0x00, 2);                     /* bytes -2, -1 */
	tm_err(&t);
	CHECK_EQ(ra_kfree(m, p), -1);
	const char *e = tm_err(&t);
	CHECK(has(e, "INFO: 0xffff88800100003e-0xffff88800100003f @offset=62. First byte 0x0 instead of 0xcc\n"));
	CHECK(has(e, "FIX kmalloc-64: Restoring Redzone 0xffff88800100003e-0xffff88800100003f=0xcc\n"));
	CHECK_EQ(ra_reports(m), 1);
	ra_kfill(m, p + 70, 0x00, 1);
	CHECK_EQ(ra_kfree(m, p), -1);
	CHECK(has(tm_err(&t), "BUG kmalloc-64 (Tainted: B): Redzone overwritten\n"));
	CHECK_EQ(ra_reports(m), 2);
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Write after free: the poison of a free object; found when the object is
 * handed out again (alloc_debug_processing with F), repaired. */
static void use_after_free_poison(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "FZPU,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, p), 0);
	ra_kfill(m, p + 10, 0x41, 3);
	tm_err(&t);
	ra_addr_t q = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(q, p);                                  /* the freelist head */
	CHECK_EQ(ra_reports(m), 1);
	const char *e = tm_err(&t);
	CHECK(has(e, "BUG: refalloc: poison-overwritten in kmalloc-64: Poison overwritten at 0xffff88800100004a "
	             "(object 0xffff888001000040) (t.c:1)\n"));
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Poison overwritten\n"));
	CHECK(has(e, "INFO: 0xffff88800100004a-0xffff88800100004c @offset=74. First byte 0x41 instead of 0x6b\n"));
	CHECK(has(e, "INFO: Freed in "));
	CHECK(has(e, "Object   ffff888001000040: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 41 41 41 6b 6b 6b  kkkkkkkkkkAAAkkk\n"));
	CHECK(has(e, "FIX kmalloc-64: Restoring Poison 0xffff88800100004a-0xffff88800100004c=0x6b\n"));
	/* the end marker 0xa5 is checked separately ("End Poison") */
	CHECK_EQ(ra_kfree(m, q), 0);
	ra_kfill(m, q + 63, 0x00, 1);
	ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK(has(tm_err(&t), "INFO: 0xffff88800100007f-0xffff88800100007f @offset=127. First byte 0x0 instead of 0xa5\n"));
	CHECK_EQ(ra_reports(m), 2);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* A free pointer overwritten in a free object. With P the free pointer
 * lives after the object (offset 72 for kmalloc-64 with FZPU). */
static void free_pointer_flipped(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "FZPU,kmalloc-64");
	CHECK_EQ(ra_kmem_cache_find(m, "kmalloc-64")->offset, 72);
	ra_addr_t a = ra_kmalloc(m, 64, RA_GFP_KERNEL), b = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, a), 0);                     /* freelist: a -> obj 2 -> ... */
	uint64_t bad = 0xdead000000000100ULL;
	CHECK_EQ(ra_kwrite(m, a + 72, &bad, 8), 0);
	tm_err(&t);
	/* the allocation takes a and finds its successor invalid: reported,
	 * the slab's freelist rebuilt from the allocation map */
	ra_addr_t c = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(c, a);
	CHECK_EQ(ra_reports(m), 1);
	const char *e = tm_err(&t);
	CHECK(has(e, "BUG: refalloc: freepointer-corrupt in kmalloc-64: free pointer of object 0xffff888001000040 is "
	             "0xdead000000000100, not a free object of its slab (t.c:1)\n"));
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Freechain corrupt\n"));
	CHECK(has(e, "FIX kmalloc-64: Rebuilding the slab's freelist from the allocation map\n"));
	/* the next objects come in address order again */
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), OBJ(2));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	ra_kfree(m, b);
	ra_kfree(m, c);
	tm_free(&t);

	/* without debug: the pointer is inside the object, at ALIGN_DOWN(64 /
	 * 2, 8) = 32, on the cpu freelist's lockless fast path. (A plain
	 * cache's free objects are poisoned for ASan: a write there is the
	 * sanitizer's to catch in that build; here the engine's own check is
	 * under test, so the writes bypass the sanitizer as in fuzzing.) */
	m = mk_debug(&t, NULL);
	m->raw_trace_access = true;
	CHECK_EQ(ra_kmem_cache_find(m, "kmalloc-64")->offset, 32);
	a = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	b = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(b, a + 64);
	CHECK_EQ(ra_kfree(m, a), 0);
	ra_kfill(m, a + 32, 0x41, 8);
	tm_err(&t);
	/* the pop of a hands the bad pointer to the cpu freelist unread; the
	 * next pop checks it: reported, the freelist rebuilt (objects 2, 3 ..) */
	c = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(c, a);
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + 128);
	CHECK_EQ(ra_reports(m), 1);
	e = tm_err(&t);
	CHECK_EQ(count_lines(e, "BUG: refalloc: freepointer-corrupt in kmalloc-64: free pointer of object "), 1);
	CHECK(has(e, " is 0x4141414141414141, not a free object of its slab (t.c:1)\n"));
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + 192);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);

	/* a free pointer set to NULL truncates the chain: nothing to follow is
	 * invalid, so only a validator notices (on_freelist(): wrong count) */
	m = mk_debug(&t, NULL);
	m->raw_trace_access = true;
	a = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	ra_kfree(m, a);                                  /* cpu freelist a -> a+64 -> ... */
	ra_kfill(m, a + 32, 0x00, 8);
	tm_err(&t);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);         /* in-band: misuse, repaired; no problem */
	CHECK_EQ(ra_reports(m), 1);
	e = tm_err(&t);
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Wrong object count. Counter is 0 but counted were 63\n"));
	CHECK(has(e, "slab 0xffff888001000000: 0 in use + 0 free + 1 on the cpu freelist != 64 objects"));
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + 64);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);
}

/* A free pointer set to NULL (or skipping free objects) found where the
 * allocator follows the chain, not only by a validator: when the chain
 * runs out while the allocation map still has free objects. Followed
 * blindly, the slab would pass for full (inuse = objects) with free objects
 * in it that nobody ever hands out (fuzzer findings 306219ca19f8,
 * bcf0303cf219, fbd6f5daef47 ...). Reported once, the chain rebuilt; no
 * object lost, none handed out twice, the structures valid. */
static void free_pointer_nulled(void)
{
	struct tm t;
	/* the cpu slab (plain cache, lockless freelist): the allocation that
	 * finds the cpu freelist empty checks the map before calling the slab
	 * full. kmalloc-64: 64 objects, the free pointer at 32. */
	ra_machine *m = mk_debug(&t, NULL);
	m->raw_trace_access = true;
	ra_addr_t a = ra_kmalloc(m, 64, RA_GFP_KERNEL), b = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, a), 0);                    /* cpu freelist: a -> a+128 -> ... */
	ra_kfill(m, a + 32, 0x00, 8);
	tm_err(&t);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a);  /* the chain ends here, unnoticed */
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + 128);
	CHECK_EQ(ra_reports(m), 1);
	const char *e = tm_err(&t);
	CHECK(has(e, "BUG: refalloc: freepointer-corrupt in kmalloc-64: slab 0xffff888001000000: 2 in use + 0 free + 0 "
	             "on the cpu freelist != 64 objects (t.c:1)\n"));
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Wrong object count. Counter is 2 but counted were 64\n"));
	CHECK(has(e, "FIX kmalloc-64: Rebuilding the slab's freelist from the allocation map\n"));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 1);
	/* the rest of the slab, then a second one: all 64 objects served once */
	static ra_addr_t p[64];
	for (int i = 3; i < 64; i++)
		p[i] = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(p[3], a + 192);
	CHECK_EQ(p[63], a + 63 * 64);
	ra_addr_t next = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK(next < a || next >= a + 4096);
	CHECK_EQ(ra_reports(m), 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);

	/* a free pointer that skips free objects (a -> obj 5): objects 1..4
	 * fall off the chain; found when the rest is used up */
	m = mk_debug(&t, NULL);
	m->raw_trace_access = true;
	a = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, a), 0);
	uint64_t skip = a + 5 * 64;
	CHECK_EQ(ra_kwrite(m, a + 32, &skip, 8), 0);
	tm_err(&t);
	for (int i = 0; i < 60; i++)
		p[i] = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(p[1], a + 5 * 64);
	CHECK_EQ(p[59], a + 63 * 64);
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + 64);
	CHECK_EQ(ra_reports(m), 1);
	CHECK(has(tm_err(&t), "BUG kmalloc-64 (Not tainted): Wrong object count. Counter is 60 but counted were 64\n"));
	for (int i = 2; i < 5; i++)
		CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + (ra_addr_t)i * 64);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);

	/* remote frees: cpu 1 frees to cpu 0's slab and its chain is cut */
	struct ra_config c;
	ra_config_default(&c);
	c.mem = 64ULL << 20;
	c.cpus = 2;
	m = tm_new_cfg(&t, &c);
	ra_set_site(m, "t.c", 1);
	m->raw_trace_access = true;
	a = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	b = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	ra_set_cpu(m, 1);
	CHECK_EQ(ra_kfree(m, a), 0);
	CHECK_EQ(ra_kfree(m, b), 0);                    /* the slab's own freelist: b -> a */
	ra_kfill(m, b + 32, 0x00, 8);                    /* b -> NULL */
	ra_set_cpu(m, 0);
	tm_err(&t);
	for (int i = 2; i < 64; i++)
		p[i] = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), b);   /* the remote frees, taken over */
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a);   /* found by the map, rebuilt */
	CHECK_EQ(ra_reports(m), 1);
	CHECK(has(tm_err(&t), "BUG kmalloc-64 (Not tainted): Wrong object count. Counter is 63 but counted were 64\n"));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);

	/* the debug path (F: consistency checks, the free pointer still at 32):
	 * the allocation that takes the last object of the chain checks the
	 * slab's count */
	m = mk_debug(&t, "F,kmalloc-64");
	m->raw_trace_access = true;
	CHECK_EQ(ra_kmem_cache_find(m, "kmalloc-64")->offset, 32);
	a = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	b = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, a), 0);                    /* the slab's freelist: a -> obj 2 -> ... */
	ra_kfill(m, a + 32, 0x00, 8);
	tm_err(&t);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a);
	CHECK_EQ(ra_reports(m), 1);
	e = tm_err(&t);
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Wrong object count. Counter is 2 but counted were 64\n"));
	CHECK(has(e, "INFO: Slab 0xffff888001000000 objects=64 used=2 fp=0x0000000000000000 flags=0x200(slab)\n"));
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), a + 128);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);
}

/* krealloc whose new object meets a corrupt freelist: the allocation
 * reports and repairs, and krealloc goes through — the old pointer is
 * consumed, so the replay must not keep it live (findings a2c8f6ba15a9,
 * 290b49d1edbf, 55b5965b5eb4: the old object freed by the engine but
 * still live for the replay, then handed out again: "overlaps live"). */
static void krealloc_through_repair(void)
{
	char *out = NULL, *err = NULL;
	int rc = run_trace_text("machine mem=64M cpus=1\n"
	                        "slub_debug Z,kmalloc-64\n"
	                        "kmalloc 64 GFP_KERNEL -> b\n"
	                        "kfree b\n"
	                        "poke b 32 8 byte=0x41\n"
	                        "kmalloc 8 GFP_KERNEL -> s\n"
	                        "krealloc s 64 GFP_KERNEL -> s2\n"
	                        "expect fail\n"
	                        "kfree s\n"
	                        "expect fail\n"
	                        "kfree s2\n"
	                        "expect ok\n"
	                        "check full\n"
	                        "expect ok\n", &out, &err);
	CHECK_EQ(rc, 0);
	CHECK_EQ(count_lines(err, "BUG kmalloc-64 (Not tainted): Freechain corrupt"), 1);
	CHECK(has(err, "BUG: refalloc: double-free in kmalloc-8: kfree(0xffff888001001000): object already free"));
	free(out);
	free(err);
}

static void double_free(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "FZPU,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, p), 0);
	tm_err(&t);
	CHECK_EQ(ra_kfree(m, p), -1);
	CHECK_EQ(ra_reports(m), 1);
	const char *e = tm_err(&t);
	CHECK(has(e, "BUG: refalloc: double-free in kmalloc-64: kfree(0xffff888001000040): object already free (t.c:1)\n"));
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Object already free\n"));
	CHECK(has(e, "INFO: Allocated in "));
	CHECK(has(e, "INFO: Freed in "));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);

	/* without debug: the first line only; still refused */
	m = mk_debug(&t, NULL);
	p = ra_kmalloc(m, 100, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, p), 0);
	tm_err(&t);
	CHECK_EQ(ra_kfree(m, p), -1);
	e = tm_err(&t);
	CHECK_EQ(count_lines(e, "BUG: refalloc: double-free in kmalloc-128: kfree("), 1);
	CHECK_EQ(count_lines(e, "BUG kmalloc-128"), 0);
	/* the object is still free exactly once: two allocations, two objects */
	ra_addr_t a = ra_kmalloc(m, 100, RA_GFP_KERNEL), b = ra_kmalloc(m, 100, RA_GFP_KERNEL);
	CHECK(a == p && b != p);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void free_inside_object(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "FZPU,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	tm_err(&t);
	CHECK_EQ(ra_kfree(m, p + 8), -1);
	CHECK_EQ(ra_reports(m), 1);
	const char *e = tm_err(&t);
	CHECK(has(e, "BUG: refalloc: invalid-free in kmalloc-64: kfree(0xffff888001000048): not the start of an object (t.c:1)\n"));
	CHECK(has(e, "BUG kmalloc-64 (Not tainted): Invalid object pointer 0xffff888001000048\n"));
	CHECK_EQ(ra_ksize(m, p), 64);                    /* p untouched */
	/* a pointer into a large kmalloc, and one that is no kernel memory */
	ra_addr_t l = ra_kmalloc(m, 10000, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfree(m, l + 4096), -1);
	CHECK(has(tm_err(&t), "points inside a large kmalloc"));
	CHECK_EQ(ra_kfree(m, 0x1234000), -1);
	CHECK(has(tm_err(&t), "BUG: refalloc: invalid-free in kfree: 0x0000000001234000 is not a kernel direct-map address (t.c:1)\n"));
	/* page memory of alloc_pages is not kmalloc memory */
	ra_addr_t pg = ra_alloc_pages(m, RA_GFP_KERNEL, 0);
	CHECK_EQ(ra_kfree(m, pg), -1);
	CHECK(has(tm_err(&t), "is not slab or kmalloc memory (page owner 3)"));
	CHECK_EQ(ra_reports(m), 4);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_kfree(m, l), 0);
	CHECK_EQ(ra_free_pages(m, pg, 0), 0);
	CHECK_EQ(ra_reports(m), 4);
	tm_free(&t);
}

static void wrong_cache(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_cache *a = ra_kmem_cache_create(m, "cache_a", 100, 0, 0);
	ra_cache *b = ra_kmem_cache_create(m, "cache_b", 300, 0, 0);
	ra_addr_t o = ra_kmem_cache_alloc(m, a, RA_GFP_KERNEL);
	ra_addr_t k = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	tm_err(&t);
	CHECK_EQ(ra_kmem_cache_free(m, b, o), -1);
	CHECK(has(tm_err(&t), "BUG: refalloc: wrong-cache in cache_b: kmem_cache_free(cache_b, 0x"));
	CHECK_EQ(ra_kmem_cache_free(m, a, k), -1);
	CHECK(has(tm_err(&t), "): object belongs to kmalloc-64 (t.c:1)\n"));
	CHECK_EQ(ra_reports(m), 2);
	CHECK_EQ(a->nr_free, 0);                         /* refused */
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_kmem_cache_free(m, a, o), 0);
	CHECK_EQ(ra_kfree(m, k), 0);
	CHECK_EQ(ra_reports(m), 2);
	tm_free(&t);
}

static void vfree_misuse(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_addr_t v = ra_vmalloc(m, 10000);
	CHECK_EQ(v, RA_VMALLOC_START);
	tm_err(&t);
	/* not the start of an area */
	CHECK_EQ(ra_vfree(m, v + 4096), -1);
	CHECK(has(tm_err(&t), "BUG: refalloc: invalid-free in vfree: Trying to vfree() nonexistent vm area "
	                      "(0xffffc90000001000) (t.c:1)\n"));
	/* a kmalloc pointer */
	ra_addr_t k = ra_kmalloc(m, 32, RA_GFP_KERNEL);
	CHECK_EQ(ra_vfree(m, k), -1);
	CHECK_EQ(ra_reports(m), 2);
	CHECK_EQ(ra_vfree(m, v), 0);
	/* double vfree */
	CHECK_EQ(ra_vfree(m, v), -1);
	CHECK(has(tm_err(&t), "BUG: refalloc: double-free in vfree: Trying to vfree() nonexistent vm area "
	                      "(0xffffc90000000000): already freed (t.c:1)\n"));
	CHECK_EQ(ra_reports(m), 3);
	/* an ioremap area is not vfree's */
	ra_addr_t io = ra_ioremap(m, 0xfe000000, 4096);
	CHECK_EQ(ra_vfree(m, io), -1);
	CHECK(has(tm_err(&t), "is an ioremap area, not a vmalloc one"));
	CHECK_EQ(ra_iounmap(m, io), 0);
	CHECK_EQ(ra_reports(m), 4);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	ra_kfree(m, k);
	tm_free(&t);
}

static void free_pages_misuse(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_addr_t p = ra_alloc_pages(m, RA_GFP_KERNEL, 2);
	uint32_t pfn = kpfn(p);
	tm_err(&t);
	/* wrong order: refused, the block stays allocated */
	CHECK_EQ(ra_free_pages(m, p, 1), -1);
	char want[160];
	snprintf(want, sizeof(want), "BUG: refalloc: bad-order in free_pages: pfn %#x allocated with order 2, freed "
	         "with order 1 (t.c:1)\n", pfn);
	CHECK(has(tm_err(&t), want));
	CHECK_EQ(pfn_page(m, pfn)->owner, PO_PAGES);
	/* a page inside the block */
	CHECK_EQ(ra_free_pages(m, p + 4096, 0), -1);
	CHECK(has(tm_err(&t), "was not allocated by alloc_pages"));
	/* not page aligned */
	CHECK_EQ(ra_free_pages(m, p + 8, 2), -1);
	CHECK(has(tm_err(&t), "is not a page address"));
	CHECK_EQ(ra_reports(m), 3);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_free_pages(m, p, 2), 0);
	/* double free (the block sits on a pcp list now) */
	CHECK_EQ(ra_free_pages(m, p, 2), -1);
	snprintf(want, sizeof(want), "BUG: refalloc: double-free in free_pages: pfn %#x (order 2) is already free (t.c:1)\n",
	         pfn);
	CHECK(has(tm_err(&t), want));
	/* kmalloc memory is not alloc_pages memory */
	ra_addr_t k = ra_kmalloc(m, 20000, RA_GFP_KERNEL);
	CHECK_EQ(ra_free_pages(m, k, 3), -1);
	CHECK_EQ(ra_reports(m), 5);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	ra_kfree(m, k);
	tm_free(&t);
}

/* Without debug flags nothing checks red zones: a write past the object
 * goes unnoticed by SLUB (as in the kernel), and nothing is refused. */
static void no_debug_no_check(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL), q = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	ra_kfill(m, p + 64, 0x41, 8);                    /* into q, not its free pointer */
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_kfree(m, q), 0);
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Z or P without F: free_debug_processing() checks nothing, the free
 * re-initialises the red zone; only validation would have seen it. */
static void redzone_without_F(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "ZP,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	ra_kfill(m, p + 64, 0x41, 1);
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_reports(m), 0);
	/* the red zone is 0xbb again (free), nothing left to find */
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 0);
	/* and a write after free is not checked at allocation without F */
	ra_kfill(m, p, 0x41, 1);
	CHECK_EQ(ra_kmalloc(m, 64, RA_GFP_KERNEL), p);
	CHECK_EQ(ra_reports(m), 0);
	uint8_t b;
	ra_kread(m, p, &b, 1);
	CHECK_EQ(b, 0x6b);                               /* re-poisoned (P) on allocation */
	tm_free(&t);
}

/* check full: validate_slab() finds red zone damage of a live object */
static void validate_finds_live_damage(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, "ZP,kmalloc-64");
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	ra_kfill(m, p + 64, 0x41, 1);
	tm_err(&t);
	/* the structural tier reads no RAM */
	CHECK_EQ(ra_check_structures(m), 0);
	CHECK_EQ(ra_reports(m), 0);
	/* the full check does, reports it as misuse and repairs it */
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(ra_reports(m), 1);
	CHECK(has(tm_err(&t), "FIX kmalloc-64: Restoring Redzone 0xffff888001000080-0xffff888001000080=0xcc\n"));
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);
}

/* === The engine's own structures ======================================== */

static long problems(struct tm *t, ra_machine *m, unsigned *lines)
{
	tm_err(t);
	long n = ra_check(m, RA_CHECK_FULL);
	*lines = count_lines(tm_err(t), "BUG: refalloc: invariant: ");
	return n;
}

static void engine_page_owner(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_addr_t p = ra_alloc_pages(m, RA_GFP_KERNEL, 2);
	struct ra_page *pg = pfn_page(m, kpfn(p));
	unsigned lines;
	unsigned long r = ra_reports(m);
	/* owner PO_PAGES -> PO_VMALLOC: the frame census finds 4 alloc_pages
	 * frames missing and 4 vmalloc frames too many: 2 problems */
	pg->owner = PO_VMALLOC;
	CHECK_EQ(problems(&t, m, &lines), 2);
	CHECK_EQ(lines, 2);
	pg->owner = PO_PAGES;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* owner of a tail frame set: the tiling finds state inside the block */
	pfn_page(m, kpfn(p) + 1)->owner = PO_PAGES;
	CHECK_EQ(problems(&t, m, &lines), 1);
	pfn_page(m, kpfn(p) + 1)->owner = PO_NONE;
	/* validators never count as misuse */
	CHECK_EQ(ra_reports(m), r);
	CHECK_EQ(problems(&t, m, &lines), 0);
	tm_free(&t);
}

static void engine_page_order(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	/* an order-4 Unmovable block (16 pages, 16-aligned) */
	ra_addr_t a = ra_alloc_pages(m, RA_GFP_KERNEL, 4);     /* 16 pages, 16-aligned */
	uint32_t pfn = kpfn(a);
	CHECK_EQ(pfn & 15, 0);
	unsigned lines;
	/* order 4 -> 5: the block now spans the next 16 frames, whose head (a
	 * free order-4 buddy, 4@pfn+16 from the split) has state: 1 problem;
	 * the census counts 32 alloc_pages frames for 16: 1 problem; and the
	 * free block it swallowed is missing from the tiling, so the free
	 * buddies check no longer sees it (no more problems) */
	pfn_page(m, pfn)->order = 5;
	CHECK_EQ(problems(&t, m, &lines), 2);
	CHECK_EQ(lines, 2);
	/* order 4 -> 3: the frames pfn+8..15 belong to no block: 8 problems
	 * (one per frame); the census is 8 short: 1 problem */
	pfn_page(m, pfn)->order = 3;
	CHECK_EQ(problems(&t, m, &lines), 9);
	pfn_page(m, pfn)->order = 4;
	CHECK_EQ(problems(&t, m, &lines), 0);
	tm_free(&t);
}

static void engine_free_list(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	struct ra_zone *z = &m->zones[ZONE_DMA32];
	unsigned lines;
	/* DMA32 of 64M: 12 order-10 Movable blocks 4096, 5120, ... 15360.
	 * Unlink 5120 from the list without touching the counts: the walk
	 * finds 11 blocks for 12 counted: 1 problem */
	struct ra_plist *l = &z->area[10].list[MT_MOVABLE];
	CHECK_EQ(l->head, 4096);
	struct ra_page *x = pfn_page(m, 5120);
	uint32_t prev = x->prev, next = x->next;
	CHECK_EQ(prev, 4096);
	CHECK_EQ(next, 6144);
	pfn_page(m, prev)->next = next;
	pfn_page(m, next)->prev = prev;
	CHECK_EQ(problems(&t, m, &lines), 1);
	CHECK_EQ(lines, 1);
	/* relink */
	pfn_page(m, prev)->next = 5120;
	pfn_page(m, next)->prev = 5120;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* a cycle: the last block points back to the first: the walk stops
	 * after more entries than the zone has pages could hold */
	uint32_t tail = l->tail;
	pfn_page(m, tail)->next = l->head;
	long n = problems(&t, m, &lines);
	CHECK_EQ(n, 2);   /* "list broken (cycle)" and the count that follows */
	pfn_page(m, tail)->next = RA_NOPFN;
	/* a block's migratetype differs from its list's */
	pfn_page(m, 6144)->mt = MT_UNMOVABLE;
	CHECK_EQ(problems(&t, m, &lines), 2);   /* the bad entry, then the short count */
	pfn_page(m, 6144)->mt = MT_MOVABLE;
	CHECK_EQ(problems(&t, m, &lines), 0);
	tm_free(&t);
}

static void engine_zone_counters(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	struct ra_zone *z = &m->zones[ZONE_DMA32];
	unsigned lines;
	/* nr_reserved_highatomic without a HighAtomic pageblock: 1 */
	z->nr_reserved_highatomic += 512;
	CHECK_EQ(problems(&t, m, &lines), 1);
	z->nr_reserved_highatomic -= 512;
	/* free CMA pages without CMA lists: 1 */
	z->vm_stat[RA_STAT_NR_FREE_CMA] += 1;
	CHECK_EQ(problems(&t, m, &lines), 1);
	z->vm_stat[RA_STAT_NR_FREE_CMA] -= 1;
	/* free_pages: the free areas disagree (1) and meminfo no longer adds
	 * up to MemTotal (1) */
	z->vm_stat[RA_STAT_NR_FREE_PAGES] += 1;
	CHECK_EQ(problems(&t, m, &lines), 2);
	CHECK_EQ(lines, 2);
	z->vm_stat[RA_STAT_NR_FREE_PAGES] -= 1;
	/* a per-type count: the sum over types (1) and the list walk (1) */
	z->area[3].nr_type[MT_RECLAIMABLE] += 1;
	CHECK_EQ(problems(&t, m, &lines), 2);
	z->area[3].nr_type[MT_RECLAIMABLE] -= 1;
	/* a pcp count: its lists (1) and the machine's pcp total (1); meminfo
	 * uses the machine's own pcp page count, which still adds up */
	z->pcp[0].count += 1;
	CHECK_EQ(problems(&t, m, &lines), 2);
	z->pcp[0].count -= 1;
	/* the cheap tier sees counters too */
	z->vm_stat[RA_STAT_NR_FREE_PAGES] += 1;
	CHECK_EQ(ra_check(m, RA_CHECK_OP), 2);
	z->vm_stat[RA_STAT_NR_FREE_PAGES] -= 1;
	CHECK_EQ(problems(&t, m, &lines), 0);
	tm_free(&t);
}

static void engine_slab(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_cache *c = ra_kmem_cache_create(m, "victim", 512, 0, 0);
	static ra_addr_t p[9];
	for (int i = 0; i < 9; i++)
		p[i] = ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL);
	/* slab 0 (8 objects, full, forgotten), slab 1 the cpu slab */
	ra_kmem_cache_free(m, c, p[0]);                  /* slab 0: partial, inuse 7 */
	struct ra_slab *sl = slab_of(m, pfn_page(m, kpfn(p[1]))->priv);
	CHECK_EQ(sl->inuse, 7);
	unsigned lines;
	/* inuse bumped: 1 problem */
	sl->inuse++;
	CHECK_EQ(problems(&t, m, &lines), 1);
	CHECK_EQ(lines, 1);
	sl->inuse--;
	/* the allocation bitmap loses an object: the bitmap count disagrees
	 * with inuse (1); the in-RAM chains no longer add up to the objects:
	 * that is reported as misuse and rebuilt from the (wrong) bitmap, so
	 * the chain now holds the lost object and matches — no more problems */
	sl->live[0] &= ~(1ULL << 1);
	unsigned long r = ra_reports(m);
	CHECK_EQ(problems(&t, m, &lines), 1);
	CHECK_EQ(ra_reports(m), r + 1);
	sl->live[0] |= 1ULL << 1;
	/* the bitmap is right again, but the rebuilt chain holds object 1:
	 * an allocated object on the freelist, reported (misuse) and rebuilt */
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), r + 2);
	/* the cache's slab count */
	c->nr_slabs++;
	CHECK_EQ(problems(&t, m, &lines), 1);
	c->nr_slabs--;
	/* a slab whose head frame is not marked as that slab: the slab is
	 * skipped (1) so the cache counts (1) and the slab page census (1) fail */
	pfn_page(m, sl->pfn)->priv ^= 1;
	CHECK_EQ(problems(&t, m, &lines), 3);
	pfn_page(m, sl->pfn)->priv ^= 1;
	/* the slab page counter: the slab validator's page count (1), the
	 * frame census of PO_SLAB frames (1) and meminfo's sum (1) */
	node_page_state(m, NR_SLAB_UNRECLAIMABLE)++;
	CHECK_EQ(problems(&t, m, &lines), 3);
	node_page_state(m, NR_SLAB_UNRECLAIMABLE)--;
	CHECK_EQ(problems(&t, m, &lines), 0);
	for (int i = 1; i < 9; i++)
		CHECK_EQ(ra_kmem_cache_free(m, c, p[i]), 0);
	tm_free(&t);
}

static void engine_vmalloc(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	ra_addr_t v = ra_vmalloc(m, 3 * 4096);
	struct ra_vmarea *a = ra_vmarea_find(m, v);
	unsigned lines;
	/* a backing page lost its owner mark: the area's page check (1), the
	 * frame census for vmalloc (1) and for alloc_pages (1) */
	pfn_page(m, a->pfns[1])->owner = PO_PAGES;
	CHECK_EQ(problems(&t, m, &lines), 3);
	pfn_page(m, a->pfns[1])->owner = PO_VMALLOC;
	/* the used-pages counter: 1 (the area walk) + 1 (meminfo's sum) */
	m->vmalloc_used_pages++;
	CHECK_EQ(problems(&t, m, &lines), 2);
	m->vmalloc_used_pages--;
	/* an area without its guard page */
	a->size -= 4096;
	CHECK_EQ(problems(&t, m, &lines), 1);
	a->size += 4096;
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_vfree(m, v), 0);
	tm_free(&t);
}

/* The page cache and the file LRU lists: 8 pages of one file, pages 0..3
 * active (read twice), 4..7 inactive, page 5 dirty. Every damage is
 * repaired before the next, and the count is exact. */
static void engine_page_cache(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	uint32_t id;
	CHECK_EQ(ra_file_create(m, "victim", 64 << 10, false, &id), RA_OK);
	struct ra_file *f = ra_file_get(m, id);
	CHECK_EQ(ra_file_read(m, f, 0, 16 << 10), 0);    /* a window of 8 pages, 0..3 referenced */
	CHECK_EQ(ra_file_read(m, f, 0, 16 << 10), 0);    /* 0..3 activated */
	CHECK_EQ(ra_file_write(m, f, 5 << 12, 100, 0x41), 0);
	CHECK_EQ(node_page_state(m, NR_ACTIVE_FILE), 4);
	CHECK_EQ(node_page_state(m, NR_INACTIVE_FILE), 4);
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 1);
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	uint32_t p7 = (uint32_t)*pcm_find(&f->cache, 7), p5 = (uint32_t)*pcm_find(&f->cache, 5);
	uint32_t p6 = (uint32_t)*pcm_find(&f->cache, 6);
	struct ra_page *pg7 = pfn_page(m, p7), *pg5 = pfn_page(m, p5), *pg6 = pfn_page(m, p6);
	/* PG_active on a page of the inactive list: the walk finds it (1) */
	pg7->flags |= PGF_ACTIVE;
	CHECK_EQ(problems(&t, m, &lines), 1);
	CHECK_EQ(lines, 1);
	pg7->flags &= (uint8_t)~PGF_ACTIVE;
	/* the node's inactive count one too many: the zones disagree (1) and
	 * the lists hold more than the page cache (1), in both tiers */
	m->vm_stat[RA_STAT_NR_INACTIVE_FILE]++;
	CHECK_EQ(ra_check(m, RA_CHECK_OP), 2);
	CHECK_EQ(problems(&t, m, &lines), 2);
	m->vm_stat[RA_STAT_NR_INACTIVE_FILE]--;
	/* page 6 unlinked from the inactive list, counters untouched: its
	 * zone's walk comes out one short (1) */
	uint32_t prev = pg6->prev, next = pg6->next;
	if (prev != RA_NOPFN) pfn_page(m, prev)->next = next; else m->fm->lru[LRU_INACTIVE_FILE].head = next;
	if (next != RA_NOPFN) pfn_page(m, next)->prev = prev; else m->fm->lru[LRU_INACTIVE_FILE].tail = prev;
	CHECK_EQ(problems(&t, m, &lines), 1);
	if (prev != RA_NOPFN) pfn_page(m, prev)->next = p6; else m->fm->lru[LRU_INACTIVE_FILE].head = p6;
	if (next != RA_NOPFN) pfn_page(m, next)->prev = p6; else m->fm->lru[LRU_INACTIVE_FILE].tail = p6;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* a page that says it is another index: the file's map no longer
	 * finds itself (1) */
	pg7->count = 9;
	CHECK_EQ(problems(&t, m, &lines), 1);
	pg7->count = 7;
	/* the dirty page's PG_dirty cleared behind the counters: the file's
	 * dirty count (1) and nr_dirty (1) */
	pg5->flags &= (uint8_t)~PGF_DIRTY;
	CHECK_EQ(problems(&t, m, &lines), 2);
	pg5->flags |= PGF_DIRTY;
	/* a page-cache frame turned alloc_pages: the frame census twice (page
	 * cache one short, alloc_pages one over), the list walk (1) and the
	 * file's map (1) */
	pg7->owner = PO_PAGES;
	CHECK_EQ(problems(&t, m, &lines), 4);
	CHECK_EQ(lines, 4);
	pg7->owner = PO_FILE;
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

/* Writeback errors: one failed page write (the fail site `writeback`)
 * leaves AS_EIO set and page 1 marked; the state is damaged and repaired,
 * and the count is exact. */
static void engine_writeback_error(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	uint32_t id;
	CHECK_EQ(ra_file_create(m, "victim", 16 << 10, false, &id), RA_OK);
	struct ra_file *f = ra_file_get(m, id);
	CHECK_EQ(ra_file_write(m, f, 0, 16 << 10, 0x41), 0);
	int64_t a[5] = { 0, 2, 1, 0, 0 };     /* the second page written fails */
	ra_fail_arm(m, FAIL_WRITEBACK, a);
	CHECK_EQ(ra_file_fsync(m, f), 4);
	CHECK_EQ(f->wb_err, 1);
	CHECK(f->as_eio);
	CHECK(pcm_find(&f->wb_stale, 1) != NULL);
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* AS_EIO cleared behind fsync's back (1) */
	f->as_eio = false;
	CHECK_EQ(problems(&t, m, &lines), 1);
	CHECK_EQ(lines, 1);
	f->as_eio = true;
	/* i_size cut to one page behind truncate's back: pages 1..3 cached
	 * past the end (3), the failed page 1 past the end (1), and the disk
	 * blocks 2 and 3 past the end (2; page 1's write failed: no block) */
	f->size = 4096;
	CHECK_EQ(problems(&t, m, &lines), 6);
	/* the disk's last block not zeroed past a mid-page end: i_size 4000
	 * leaves 96 bytes of 0x41 on block 0's disk copy (1), blocks 2 and 3
	 * (2), the cached pages 1..3 (3), the failed page 1 (1) */
	f->size = 4000;
	CHECK_EQ(problems(&t, m, &lines), 7);
	f->size = 16 << 10;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* fsync reports the error once */
	CHECK_EQ(ra_file_fsync_check(m, f), RA_EIO);
	CHECK(!f->as_eio);
	CHECK_EQ(ra_file_fsync_check(m, f), 0);
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

/* Dentries and inodes: three files, one read (its inode keeps pages),
 * their dentries freed by drop_caches 2 (the unread files' inodes freed
 * too). Each damage is repaired before the next; the counts are exact. */
static void engine_dcache(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	uint32_t id[3];
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ra_file_create(m, "f", 4096, false, &id[i]), RA_OK);
	struct ra_file *a = ra_file_get(m, id[0]), *b = ra_file_get(m, id[1]);
	CHECK_EQ(dcache_file_open(m, a), 0);
	CHECK_EQ(ra_file_read(m, a, 0, 4096), 0);
	dcache_file_close(m, a);
	struct ra_dcache *dc = &m->fm->dc;
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* the dentry LRU's count one too many: the walk disagrees (1) */
	dc->d.nr_lru++;
	CHECK_EQ(problems(&t, m, &lines), 1);
	CHECK_EQ(lines, 1);
	dc->d.nr_lru--;
	/* b's dentry claims to be a's: b's is not its own (1) */
	dc->d.v[b->dentry_id].file = id[0];
	CHECK_EQ(problems(&t, m, &lines), 1);
	dc->d.v[b->dentry_id].file = id[1];
	/* every dentry freed; a's inode keeps its page (off the LRU) */
	ra_drop_caches(m, 2);
	CHECK_EQ(a->dentry_id, UINT32_MAX);
	CHECK(a->inode_id != UINT32_MAX);
	CHECK_EQ(b->inode_id, UINT32_MAX);
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* a's inode forgotten while its page is cached: pages without an
	 * inode (1) */
	uint32_t ino = a->inode_id;
	a->inode_id = UINT32_MAX;
	CHECK_EQ(problems(&t, m, &lines), 1);
	a->inode_id = ino;
	/* its page dropped behind the inode's back (nrpages 0, page still
	 * in the map): the page census (1) and the inode, with neither a
	 * dentry nor pages, off the inode LRU (1) */
	a->nrpages = 0;
	CHECK_EQ(problems(&t, m, &lines), 2);
	a->nrpages = 1;
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

/* Swap: a task's 64 populated pages (young from their faults: each is
 * kept on its first scan and goes on the next) and its stack page go to
 * a disk device and a zram device by direct reclaim; then each damage, repaired before the next, is counted
 * exactly: slot counts against the ptes, the totals, MM_SWAPENTS, the
 * reverse map, anon LRU membership, the swap cache and zram's pool. */
static void engine_swap(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	uint32_t disk, zr;
	CHECK_EQ(ra_swapon(m, 1 << 20, 5, false, 0, &disk), RA_OK);   /* 255 slots, prio 5: used first */
	struct ra_task *tk = ra_task_create(m, "victim", 0);
	CHECK(tk != NULL);
	uint64_t a = ra_mmap(m, tk, 64 << 12, 3, RA_MMAP_POPULATE);
	CHECK(a != 0);
	uint8_t buf[64];
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(ra_uaccess(m, tk, a + (5 << 12) + 100, sizeof(buf), true, buf), 0);   /* page 5: data */
	uint64_t got = 0;
	for (int k = 0; k < 8; k++)
		got += ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL);
	CHECK(got >= 65);
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	struct ra_swap *sw = m->swp;
	struct ra_swap_info *si = swap_info_by_id(m, disk);
	CHECK(si && si->inuse > 0 && tk->mm->swapents > 0);
	/* the pte of the first page holds a swap entry of the disk */
	uint64_t *pte = mm_pte_lookup(tk->mm, a);
	CHECK(pte && (*pte & PTE_SWAP));
	swp_entry_t e = pte_swp(*pte);
	uint32_t off = swp_offset(e);
	/* one pte count too many on a slot: the slot (1) */
	si->map[off]++;
	CHECK_EQ(ra_check(m, RA_CHECK_OP), 0);
	CHECK_EQ(problems(&t, m, &lines), 1);
	si->map[off]--;
	/* SwapFree one page over: the totals, in both tiers (1) */
	sw->nr_swap_pages++;
	CHECK_EQ(ra_check(m, RA_CHECK_OP), 1);
	CHECK_EQ(problems(&t, m, &lines), 1);
	sw->nr_swap_pages--;
	/* the pte names a slot that is free: that slot has a pte but no
	 * count (1), the one it named has a count but no pte (1) */
	uint32_t freeoff = si->pages;
	CHECK_EQ(si->map[freeoff], 0);
	*pte = swp_pte(swp_entry(si->type, freeoff), false);
	CHECK_EQ(problems(&t, m, &lines), 2);
	CHECK_EQ(lines, 2);
	*pte = swp_pte(e, true);
	/* MM_SWAPENTS one short (1) */
	tk->mm->swapents--;
	CHECK_EQ(problems(&t, m, &lines), 1);
	tk->mm->swapents++;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* a resident anon page: the stack page's reverse map names another
	 * address (1) */
	uint32_t stack = RA_NOPFN;
	uint64_t sva = 0;
	for (uint64_t va = USER_STACK_TOP - RA_PAGE_SIZE; va >= USER_STACK_TOP - USER_STACK_SIZE; va -= RA_PAGE_SIZE)
		if ((stack = ra_user_pfn(tk, va)) != RA_NOPFN) {
			sva = va;
			break;
		}
	if (stack == RA_NOPFN) {   /* the stack page went too: take a page of the mapping back */
		CHECK_EQ(ra_uaccess(m, tk, a + (7 << 12), 1, true, buf), 0);
		sva = a + (7 << 12);
		stack = ra_user_pfn(tk, sva);
	}
	CHECK(stack != RA_NOPFN);
	CHECK_EQ(problems(&t, m, &lines), 0);
	rmap_move(m, stack, tk->mm, sva + RA_PAGE_SIZE);
	CHECK_EQ(problems(&t, m, &lines), 1);
	rmap_move(m, stack, tk->mm, sva);
	/* PG_swapbacked cleared: the page is on no list its flags name: the
	 * anon-list census (1) and the LRU walk (1) */
	struct ra_page *pg = pfn_page(m, stack);
	pg->flags &= (uint16_t)~PGF_SWAPBACKED;
	CHECK_EQ(problems(&t, m, &lines), 2);
	pg->flags |= PGF_SWAPBACKED;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* zram: page 5's data (not same-filled) goes to zram when it is
	 * swapped again; the disk goes first */
	CHECK_EQ(ra_swapon(m, 1 << 20, 9, true, 2, &zr), RA_OK);
	CHECK_EQ(ra_uaccess(m, tk, a + (5 << 12) + 100, sizeof(buf), false, buf), 0);    /* swap-in */
	CHECK_EQ(buf[0], 0x5a);
	CHECK_EQ(ra_swapoff(m, disk), RA_OK);
	CHECK_EQ(sw->total_swap_pages, 255);
	for (int i = 0; i < 4; i++)
		ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL);
	struct ra_swap_info *zi = swap_info_by_id(m, zr);
	CHECK(zi && zi->zram);
	/* page 5 is the one page that is not same-filled: one object of
	 * 4096 / 2 = 2048 bytes, class 2064 (4 pages, 7 objects): one zspage */
	pte = mm_pte_lookup(tk->mm, a + (5 << 12));
	CHECK(pte && (*pte & PTE_SWAP) && swp_type(pte_swp(*pte)) == zi->type);
	CHECK_EQ(zram_pool_pages(zi->zram), 4);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_ZSPAGES), 4);
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* a pool page that says it is alloc_pages': the frame census (zsmalloc
	 * one short, alloc_pages one over: 2) and the pool's own walk (1) */
	uint32_t zp = RA_NOPFN;
	for (uint32_t pfn = 0; pfn < m->nr_pages && zp == RA_NOPFN; pfn++)
		if (pfn_page(m, pfn)->owner == PO_ZSPAGE)
			zp = pfn;
	CHECK(zp != RA_NOPFN);
	pfn_page(m, zp)->owner = PO_PAGES;
	CHECK_EQ(problems(&t, m, &lines), 3);
	pfn_page(m, zp)->owner = PO_ZSPAGE;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* swap-in from zram with the entry held by this pte alone bypasses the
	 * swap cache and frees the slot's object (into the slot cache's
	 * return buffer: the object goes when the slot is released) */
	CHECK_EQ(ra_uaccess(m, tk, a + (5 << 12) + 100, sizeof(buf), false, buf), 0);
	CHECK_EQ(buf[0], 0x5a);
	CHECK_EQ(node_page_state(m, NR_SWAPCACHE), 0);
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

/* MADV_FREE: a task's 8 populated pages go lazyfree (on the inactive
 * file list, without PG_swapbacked, counted in nr_lazyfree); each damage,
 * repaired before the next, is counted exactly; then reclaim (no swap)
 * discards all 8 and the range reads zeros. */
static void engine_lazyfree(void)
{
	struct tm t;
	ra_machine *m = mk_debug(&t, NULL);
	struct ra_task *tk = ra_task_create(m, "lazy", 0);
	CHECK(tk != NULL);
	uint64_t a = ra_mmap(m, tk, 8 << 12, 3, RA_MMAP_POPULATE);
	CHECK(a != 0);
	uint8_t buf[16];
	memset(buf, 0x6b, sizeof(buf));
	CHECK_EQ(ra_uaccess(m, tk, a + (3 << 12), sizeof(buf), true, buf), 0);
	uint64_t anon = node_page_state(m, NR_ANON_PAGES);
	CHECK_EQ(ra_madvise(m, tk, a, 8 << 12, RA_MADV_FREE), 0);
	CHECK_EQ(vm_event(m, PGLAZYFREE), 8);
	CHECK_EQ(m->fm->nr_lazyfree, 8);
	CHECK_EQ(node_page_state(m, NR_INACTIVE_FILE), 8);
	CHECK_EQ(node_page_state(m, NR_ANON_PAGES), anon);     /* still anonymous pages */
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	uint32_t pfn = ra_user_pfn(tk, a + (3 << 12));
	CHECK(pfn != RA_NOPFN);
	struct ra_page *p = pfn_page(m, pfn);
	CHECK(!(p->flags & PGF_SWAPBACKED) && page_lru(p) == LRU_INACTIVE_FILE);
	/* a lazyfree page marked dirty: the page check (1) */
	p->flags |= PGF_DIRTY;
	CHECK_EQ(problems(&t, m, &lines), 1);
	p->flags &= (uint16_t)~PGF_DIRTY;
	/* the count one over: the file and anon LRU censuses in the op tier
	 * (2), and the full tier's count of the pages (1) */
	m->fm->nr_lazyfree++;
	CHECK_EQ(ra_check(m, RA_CHECK_OP), 2);
	CHECK_EQ(problems(&t, m, &lines), 3);
	m->fm->nr_lazyfree--;
	/* PG_swapbacked set again without moving the page: the LRU walk finds
	 * it on a list its flags do not name (1), and the lazyfree pages on
	 * the file lists are one short of the count (1) */
	p->flags |= PGF_SWAPBACKED;
	CHECK_EQ(problems(&t, m, &lines), 2);
	p->flags &= (uint16_t)~PGF_SWAPBACKED;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* reclaim without swap: every lazyfree page is clean and old: all go */
	uint64_t got = 0;
	for (int k = 0; k < 4 && vm_event(m, PGLAZYFREED) < 8; k++)
		got += ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL);
	CHECK_EQ(vm_event(m, PGLAZYFREED), 8);
	CHECK(got >= 8);
	CHECK_EQ(m->fm->nr_lazyfree, 0);
	CHECK_EQ(node_page_state(m, NR_ANON_PAGES), anon - 8);
	CHECK_EQ(ra_uaccess(m, tk, a + (3 << 12), sizeof(buf), false, buf), 0);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "redzone_right", redzone_right },
	{ "redzone_left", redzone_left },
	{ "use_after_free_poison", use_after_free_poison },
	{ "free_pointer_flipped", free_pointer_flipped },
	{ "free_pointer_nulled", free_pointer_nulled },
	{ "krealloc_through_repair", krealloc_through_repair },
	{ "double_free", double_free },
	{ "free_inside_object", free_inside_object },
	{ "wrong_cache", wrong_cache },
	{ "vfree_misuse", vfree_misuse },
	{ "free_pages_misuse", free_pages_misuse },
	{ "no_debug_no_check", no_debug_no_check },
	{ "redzone_without_F", redzone_without_F },
	{ "validate_finds_live_damage", validate_finds_live_damage },
	{ "engine_page_owner", engine_page_owner },
	{ "engine_page_order", engine_page_order },
	{ "engine_free_list", engine_free_list },
	{ "engine_zone_counters", engine_zone_counters },
	{ "engine_slab", engine_slab },
	{ "engine_vmalloc", engine_vmalloc },
	{ "engine_page_cache", engine_page_cache },
	{ "engine_writeback_error", engine_writeback_error },
	{ "engine_dcache", engine_dcache },
	{ "engine_swap", engine_swap },
	{ "engine_lazyfree", engine_lazyfree },
};
UNIT_MAIN("corrupt", tests)
