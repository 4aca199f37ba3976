/*
 * test_vmalloc.c — vmap areas: placement at the lowest hole from
 * 0xffffc90000000000 with one guard page each, the vmallocinfo text, the
 * page-pointer array (kmalloc up to a page, a nested vmalloc above 512
 * pages), ioremap placement and phys, ioremap on RAM, guard-page faults.
 */
#include "unit.h"

#define V0 0xffffc90000000000ULL

static ra_machine *mkm(struct tm *t, uint64_t mem)
{
	ra_machine *m = tm_mem(t, mem, 1);
	ra_set_site(m, "v.c", 7);
	return m;
}

static void lowest_hole(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 64ULL << 20);
	/* 1 byte -> 1 page + guard = 8 KiB at the range's start */
	ra_addr_t a = ra_vmalloc(m, 1);
	CHECK_EQ(a, V0);
	/* 10000 bytes -> 3 pages + guard = 16 KiB at V0 + 8K */
	ra_addr_t b = ra_vmalloc(m, 10000);
	CHECK_EQ(b, V0 + 0x2000);
	/* 8 KiB -> 2 pages + guard = 12 KiB at V0 + 24K */
	ra_addr_t c = ra_vmalloc(m, 8192);
	CHECK_EQ(c, V0 + 0x6000);
	CHECK_EQ(m->vmalloc_used_pages, 6);
	/* freeing b leaves a 16 KiB hole at V0 + 8K */
	CHECK_EQ(ra_vfree(m, b), 0);
	/* 4 KiB (8 KiB with its guard) fits the hole's start */
	ra_addr_t d = ra_vmalloc(m, 4096);
	CHECK_EQ(d, V0 + 0x2000);
	/* 8 KiB (12 with guard) does not fit the 8 KiB left: after c */
	ra_addr_t e = ra_vmalloc(m, 8192);
	CHECK_EQ(e, V0 + 0x9000);
	/* 4 KiB fits the rest of the hole exactly */
	ra_addr_t f = ra_vmalloc(m, 4000);
	CHECK_EQ(f, V0 + 0x4000);
	/* vmallocinfo, sorted by address; sizes include the guard page; the
	 * caller is the trace line */
	CHECK_STR(tm_view(&t, "vmallocinfo"),
	          "0xffffc90000000000-0xffffc90000002000    8192 v.c:7 pages=1 vmalloc\n"
	          "0xffffc90000002000-0xffffc90000004000    8192 v.c:7 pages=1 vmalloc\n"
	          "0xffffc90000004000-0xffffc90000006000    8192 v.c:7 pages=1 vmalloc\n"
	          "0xffffc90000006000-0xffffc90000009000   12288 v.c:7 pages=2 vmalloc\n"
	          "0xffffc90000009000-0xffffc9000000c000   12288 v.c:7 pages=2 vmalloc\n");
	/* VmallocUsed counts the backing pages: 7 pages = 28 kB */
	CHECK(strstr(tm_view(&t, "meminfo"), "VmallocTotal:   34359738367 kB\nVmallocUsed:          28 kB\n") != NULL);
	ra_vfree(m, a);
	ra_vfree(m, c);
	ra_vfree(m, d);
	ra_vfree(m, e);
	ra_vfree(m, f);
	CHECK_EQ(m->nr_vmareas, 0);
	CHECK_EQ(m->vmalloc_used_pages, 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* The array of page pointers: 8 bytes per page; kmalloc when it fits a
 * page (up to 512 pages), else a nested vmalloc placed after the area. */
static void page_array(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 64ULL << 20);
	ra_cache *k8 = ra_kmem_cache_find(m, "kmalloc-8"), *k4k = ra_kmem_cache_find(m, "kmalloc-4k"),
	         *k16 = ra_kmem_cache_find(m, "kmalloc-16");
	/* 1 page: an 8-byte array */
	ra_addr_t a = ra_vmalloc(m, 4096);
	CHECK_EQ(k8->nr_alloc, 1);
	/* 512 pages: 4096 bytes: kmalloc-4k */
	ra_addr_t b = ra_vmalloc(m, 512 * 4096);
	CHECK_EQ(k4k->nr_alloc, 1);
	CHECK_EQ(b, V0 + 0x2000);
	/* 513 pages: 4104 bytes > PAGE_SIZE: vmalloc(4104) -> 2 pages whose
	 * own array (16 bytes) is a kmalloc-16 object. The outer area is
	 * reserved first (V0 + 0x2000 + 513 pages: 0x203000 .. 0x405000), the
	 * nested one follows it. */
	ra_addr_t c = ra_vmalloc(m, 513 * 4096);
	CHECK_EQ(c, V0 + 0x203000);
	CHECK_EQ(k16->nr_alloc, 1);
	CHECK_EQ(m->nr_vmareas, 4);
	const char *vi = tm_view(&t, "vmallocinfo");
	CHECK(strstr(vi, "0xffffc90000203000-0xffffc90000405000 2105344 v.c:7 pages=513 vmalloc vpages\n"
	                 "0xffffc90000405000-0xffffc90000408000   12288 v.c:7 pages=2 vmalloc\n") != NULL);
	/* 513 + 2 + 512 + 1 pages */
	CHECK_EQ(m->vmalloc_used_pages, 1028);
	/* vfree frees the nested area too */
	CHECK_EQ(ra_vfree(m, c), 0);
	CHECK_EQ(m->nr_vmareas, 2);
	CHECK_EQ(k16->nr_free, 1);
	ra_vfree(m, a);
	ra_vfree(m, b);
	CHECK_EQ(k8->nr_free, 1);
	CHECK_EQ(k4k->nr_free, 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void vzalloc_and_limits(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 16ULL << 20);
	ra_addr_t a = ra_vmalloc(m, 3 * 4096);
	ra_kfill(m, a, 0xee, 3 * 4096);
	ra_vfree(m, a);
	/* vzalloc of the same size reuses the same pages (pcp LIFO), zeroed */
	ra_addr_t z = ra_vzalloc(m, 3 * 4096);
	static uint8_t buf[3 * 4096];
	ra_kread(m, z, buf, sizeof(buf));
	int nz = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		nz += buf[i] != 0;
	CHECK_EQ(nz, 0);
	ra_vfree(m, z);
	/* more pages than the machine has: refused up front */
	tm_err(&t);
	CHECK_EQ(ra_vmalloc(m, 17ULL << 20), 0);
	/* warn_alloc()'s "%pV, mode:%#x(%pGg)" with vmalloc()'s GFP_KERNEL */
	CHECK_STR(tm_err(&t), "refalloc: v.c:7: vmalloc error: size 17825792, exceeds total pages, "
	                      "mode:0xcc0(GFP_KERNEL)\n");
	CHECK_EQ(ra_vmalloc(m, 0), 0);
	/* the total-pages test uses the size before rounding: 4096 pages and
	 * one byte passes it (and fails for want of pages) */
	CHECK_EQ(ra_vmalloc(m, (16ULL << 20) + 1), 0);
	CHECK(strstr(tm_err(&t), "exceeds total pages") == NULL);
	/* backing pages run out: one message naming what was obtained (no
	 * page allocation failure per page: __GFP_NOWARN), everything given
	 * back */
	CHECK_EQ(ra_vmalloc(m, 4000 * 4096), 0);
	const char *e = tm_err(&t);
	/* 6.1's __vmalloc_area_node(): "vmalloc error: size %lu, page order
	 * %u, failed to allocate pages" with orig_gfp_mask (the caller's) */
	const char *tail = ", page order 0, failed to allocate pages, mode:0xcc0(GFP_KERNEL)\n";
	const char *head = "refalloc: v.c:7: vmalloc error: size ";
	CHECK(strncmp(e, head, strlen(head)) == 0);
	CHECK(strlen(e) > strlen(tail) && strcmp(e + strlen(e) - strlen(tail), tail) == 0);
	CHECK(strchr(e, '\n') == e + strlen(e) - 1);
	CHECK(strtoull(e + strlen(head), NULL, 10) % 4096 == 0);
	CHECK(strstr(e, "page allocation failure") == NULL);
	CHECK_EQ(node_page_state(m, VMALLOC_PAGES), 0);
	CHECK_EQ(m->vmalloc_used_pages, 0);
	CHECK_EQ(m->nr_vmareas, 0);
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void ioremap_areas(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 64ULL << 20);
	ra_addr_t v = ra_vmalloc(m, 4096);                 /* V0 .. V0+8K */
	/* one page at 0xfed00000: page-aligned area after v */
	ra_addr_t a = ra_ioremap(m, 0xfed00000, 0x400);
	CHECK_EQ(a, V0 + 0x2000);
	/* 0xfee00010 + 0x3000: pages 0xfee00000 .. 0xfee03fff = 4 pages; the
	 * area is aligned to 16 KiB (get_count_order(16K)); the pointer keeps
	 * the offset 0x10 */
	ra_addr_t b = ra_ioremap(m, 0xfee00010, 0x3000);
	CHECK_EQ(b, V0 + 0x4000 + 0x10);
	/* 3 pages: aligned to 4 pages (16 KiB): V0 + 0x4000 + 0x5000 = 0x9000
	 * -> 0xc000 */
	ra_addr_t c = ra_ioremap(m, 0x100000000ULL, 0x3000);
	CHECK_EQ(c, V0 + 0xc000);
	CHECK_STR(tm_view(&t, "vmallocinfo"),
	          "0xffffc90000000000-0xffffc90000002000    8192 v.c:7 pages=1 vmalloc\n"
	          "0xffffc90000002000-0xffffc90000004000    8192 v.c:7 phys=0x00000000fed00000 ioremap\n"
	          "0xffffc90000004000-0xffffc90000009000   20480 v.c:7 phys=0x00000000fee00000 ioremap\n"
	          "0xffffc9000000c000-0xffffc90000010000   16384 v.c:7 phys=0x0000000100000000 ioremap\n");
	/* a vmalloc fills the alignment gap V0 + 0x9000 .. 0xc000 (12 KiB) */
	ra_addr_t w = ra_vmalloc(m, 8192);
	CHECK_EQ(w, V0 + 0x9000);
	/* ioremap on RAM is refused (logged, no report) */
	tm_err(&t);
	CHECK_EQ(ra_ioremap(m, 0x100000, 4096), 0);
	CHECK_STR(tm_err(&t), "refalloc: v.c:7: ioremap on RAM at 0x0000000000100000 - 0x0000000000100fff\n");
	CHECK_EQ(ra_ioremap(m, (64ULL << 20) - 4096, 8192), 0);
	CHECK_EQ(ra_ioremap(m, 0xfed00000, 0), 0);
	CHECK_EQ(ra_reports(m), 0);
	/* iounmap takes the pointer with its offset */
	CHECK_EQ(ra_iounmap(m, b), 0);
	CHECK_EQ(ra_iounmap(m, a), 0);
	CHECK_EQ(ra_iounmap(m, c), 0);
	/* iounmap of a vmalloc area is misuse */
	CHECK_EQ(ra_iounmap(m, v), -1);
	CHECK_EQ(ra_reports(m), 1);
	ra_vfree(m, v);
	ra_vfree(m, w);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* The 32 TiB of vmalloc space run out: alloc_vmap_area()'s overflow
 * message ("vmap allocation for size %lu failed: use vmalloc=<size> to
 * increase size", the size with its guard page), then for a vmalloc
 * __vmalloc_node_range()'s "vmalloc error: size %lu, vm_struct allocation
 * failed" with the size asked for and the caller's gfp. Two ioremaps of
 * 16 TiB less a page (16 TiB with the guard) fill the space exactly. */
static void vmap_space_exhausted(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 16ULL << 20);
	uint64_t half = 16ULL << 40;
	CHECK_EQ(ra_ioremap(m, 1ULL << 32, half - 4096), V0);
	CHECK_EQ(ra_ioremap(m, (1ULL << 32) + half, half - 4096), V0 + half);
	tm_err(&t);
	/* ioremap: 1 page + guard = 8192; no vmalloc line */
	CHECK_EQ(ra_ioremap(m, 0xfed00000, 0x400), 0);
	CHECK_STR(tm_err(&t), "refalloc: v.c:7: vmap allocation for size 8192 failed: use vmalloc=<size> to increase "
	                      "size\n");
	/* vmalloc(100): one page + guard = 8192; real_size 100 */
	CHECK_EQ(ra_vmalloc(m, 100), 0);
	CHECK_STR(tm_err(&t), "refalloc: v.c:7: vmap allocation for size 8192 failed: use vmalloc=<size> to increase "
	                      "size\n"
	                      "refalloc: v.c:7: vmalloc error: size 100, vm_struct allocation failed, "
	                      "mode:0xcc0(GFP_KERNEL)\n");
	/* vzalloc: GFP_KERNEL | __GFP_ZERO */
	CHECK_EQ(ra_vzalloc(m, 3 * 4096), 0);
	CHECK_STR(tm_err(&t), "refalloc: v.c:7: vmap allocation for size 16384 failed: use vmalloc=<size> to increase "
	                      "size\n"
	                      "refalloc: v.c:7: vmalloc error: size 12288, vm_struct allocation failed, "
	                      "mode:0xdc0(GFP_KERNEL|__GFP_ZERO)\n");
	CHECK_EQ(m->nr_vmareas, 2);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void guard_page_fault(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 64ULL << 20);
	ra_addr_t v = ra_vmalloc(m, 2 * 4096);
	uint8_t b[16];
	/* these accesses are deliberate: in the ASan build a guard page access
	 * is ASan's to report too, unless raw, as a fuzzer's are */
	m->raw_trace_access = true;
	/* the last byte of the area is fine, the next one is the guard page */
	CHECK_EQ(ra_kread(m, v + 2 * 4096 - 1, b, 1), 0);
	tm_err(&t);
	CHECK_EQ(ra_kread(m, v + 2 * 4096, b, 1), -1);
	CHECK_STR(tm_err(&t), "BUG: refalloc: page-fault in kread: unable to handle page fault for address "
	                      "0xffffc90000002000 (vmalloc guard page) (v.c:7)\n");
	/* a write that runs from the area into the guard: the first page-sized
	 * chunks succeed, the guard page faults */
	CHECK_EQ(ra_kfill(m, v + 4096, 0x41, 4097), -1);
	CHECK_EQ(ra_reports(m), 2);
	/* after vfree the range is unmapped */
	ra_vfree(m, v);
	CHECK_EQ(ra_kread(m, v, b, 1), -1);
	CHECK_STR(tm_err(&t), "BUG: refalloc: page-fault in kfill: unable to handle page fault for address "
	                      "0xffffc90000002000 (vmalloc guard page) (v.c:7)\n"
	                      "BUG: refalloc: page-fault in kread: unable to handle page fault for address "
	                      "0xffffc90000000000 (v.c:7)\n");
	/* ioremap memory is not modelled */
	ra_addr_t io = ra_ioremap(m, 0xfed00000, 4096);
	CHECK_EQ(ra_kread(m, io, b, 4), -1);
	CHECK(strstr(tm_err(&t), "(ioremap area: no memory in the model)") != NULL);
	CHECK_EQ(ra_reports(m), 4);
	ra_iounmap(m, io);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void fault_injection(void)
{
	struct tm t;
	ra_machine *m = mkm(&t, 64ULL << 20);
	/* fail vmalloc nth=2: the second vmalloc call fails; the nested array
	 * vmalloc counts as a call too */
	struct ra_fail_attr *f = &m->fail[FAIL_VMALLOC];
	f->nth = 2;
	f->times = 1;
	f->armed = 1;
	ra_addr_t a = ra_vmalloc(m, 4096);
	CHECK(a != 0);
	CHECK_EQ(ra_vmalloc(m, 4096), 0);
	ra_addr_t b = ra_vmalloc(m, 4096);
	CHECK(b != 0);
	CHECK_EQ(f->injected, 1);
	CHECK_EQ(f->armed, 0);
	/* nth=2 on a 513-page area: the area is call 1, its page array (4104
	 * bytes, a nested vmalloc) call 2: the area fails and is taken back */
	f->nth = 2;
	f->times = 1;
	f->calls = 0;
	f->armed = 1;
	tm_err(&t);
	CHECK_EQ(ra_vmalloc(m, 513 * 4096), 0);
	CHECK_STR(tm_err(&t), "refalloc: v.c:7: vmalloc error: size 2101248, failed to allocated page array size 4104, "
	                      "mode:0xcc0(GFP_KERNEL)\n");
	CHECK_EQ(m->nr_vmareas, 2);
	ra_vfree(m, a);
	ra_vfree(m, b);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "lowest_hole", lowest_hole },
	{ "page_array", page_array },
	{ "vzalloc_and_limits", vzalloc_and_limits },
	{ "ioremap_areas", ioremap_areas },
	{ "vmap_space_exhausted", vmap_space_exhausted },
	{ "guard_page_fault", guard_page_fault },
	{ "fault_injection", fault_injection },
};
UNIT_MAIN("vmalloc", tests)
