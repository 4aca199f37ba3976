/*
 * test_slab.c — SLUB caches and kmalloc against docs/kernel-model.md
 * ("SLUB and kmalloc"):
 *
 *   size -> cache: <= 192 by {3,4,5,5,6,6,6,6,1,1,1,1,7,7,7,7,2,...}[(size-1)/8]
 *   (index 1 = 96, 2 = 192, n >= 3 = 2^n), above 192 the next power of two;
 *   above 8K pages straight from the buddy allocator.
 *   order: min_objects = 4 * (fls(cpus) + 1); smallest order whose leftover
 *   (PAGE_SIZE << order) % size is <= slab / 16, 8, 4; then fewer objects.
 *   layout: ALIGN(object, 8); Z adds a word if nothing is left after the
 *   object; P moves the free pointer after it (+8); U adds two 32-byte
 *   tracks; Z then adds a trailing word and a left red zone of ALIGN(8, align);
 *   the slot is aligned to align.
 */
#include "unit.h"

/* === kmalloc size classes ================================================ */

static void size_to_cache(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 2);
	/* the table written out as ranges: (size-1)/8 = 0 -> 3 (8), 1 -> 4 (16),
	 * 2,3 -> 5 (32), 4..7 -> 6 (64), 8..11 -> 1 (96), 12..15 -> 7 (128),
	 * 16..23 -> 2 (192); then powers of two */
	static const struct { size_t last; const char *name; } r[] = {
		{ 8, "kmalloc-8" }, { 16, "kmalloc-16" }, { 32, "kmalloc-32" }, { 64, "kmalloc-64" },
		{ 96, "kmalloc-96" }, { 128, "kmalloc-128" }, { 192, "kmalloc-192" }, { 256, "kmalloc-256" },
		{ 512, "kmalloc-512" }, { 1024, "kmalloc-1k" }, { 2048, "kmalloc-2k" }, { 4096, "kmalloc-4k" },
		{ 8192, "kmalloc-8k" },
	};
	size_t k = 0;
	int bad = 0;
	for (size_t size = 1; size <= 8192; size++) {
		if (size > r[k].last)
			k++;
		const char *got = ra_cache_name(ra_kmalloc_cache(m, size, RA_GFP_KERNEL));
		if (strcmp(got, r[k].name)) {
			if (bad++ < 5)
				fprintf(stderr, "  size %zu: %s, expected %s\n", size, got, r[k].name);
		}
	}
	CHECK_EQ(bad, 0);
	/* the types: __GFP_DMA first, then __GFP_RECLAIMABLE */
	CHECK_STR(ra_cache_name(ra_kmalloc_cache(m, 100, RA_GFP_KERNEL | RA___GFP_RECLAIMABLE)), "kmalloc-rcl-128");
	CHECK_STR(ra_cache_name(ra_kmalloc_cache(m, 100, RA_GFP_KERNEL | RA_GFP_DMA)), "dma-kmalloc-128");
	CHECK_STR(ra_cache_name(ra_kmalloc_cache(m, 3000, RA_GFP_DMA | RA___GFP_RECLAIMABLE)), "dma-kmalloc-4k");
	/* an allocation of each boundary size lands in its cache */
	ra_addr_t p = ra_kmalloc(m, 97, RA_GFP_KERNEL);
	CHECK_EQ(ra_ksize(m, p), 128);
	CHECK_EQ(ra_kfree(m, p), 0);
	p = ra_kmalloc(m, 8192, RA_GFP_KERNEL);
	CHECK_EQ(ra_ksize(m, p), 8192);
	CHECK_EQ(pfn_page(m, ra_block_head(m, kpfn(p)))->owner, PO_SLAB);
	CHECK_EQ(ra_kfree(m, p), 0);
	tm_free(&t);
}

/* === Objects and pages per slab ========================================== */

struct oo { const char *name; unsigned objs, pages; };

static void check_oo(unsigned cpus, const struct oo *want)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, cpus);
	for (int i = 0; want[i].name; i++) {
		ra_cache *c = ra_kmem_cache_find(m, want[i].name);
		CHECK(c != NULL);
		if (!c)
			continue;
		if (c->oo_objects != want[i].objs || (1u << c->order) != want[i].pages)
			fprintf(stderr, "  cpus=%u %s: %u/%u, expected %u/%u\n", cpus, want[i].name, c->oo_objects,
			        1u << c->order, want[i].objs, want[i].pages);
		CHECK_EQ(c->oo_objects, want[i].objs);
		CHECK_EQ(1u << c->order, want[i].pages);
	}
	tm_free(&t);
}

static void objects_per_slab(void)
{
	/* cpus=1: min_objects 4 * (1 + 1) = 8.
	 *   8..256: get_order(8 * size) = 0 and 4096 % size = 0 (96: 64 <= 256;
	 *   192: 64 <= 256): one page. 512: 8 * 512 = 4096 -> order 0, 8 objects.
	 *   1k: get_order(8192) = 1 -> 8/2. 2k: 16384 -> 8/4. 4k: 32768 -> 8/8.
	 *   8k: at most 32768 / 8192 = 4 objects at slub_max_order 3 -> 4/8. */
	static const struct oo c1[] = {
		{ "kmalloc-8", 512, 1 }, { "kmalloc-16", 256, 1 }, { "kmalloc-32", 128, 1 }, { "kmalloc-64", 64, 1 },
		{ "kmalloc-96", 42, 1 }, { "kmalloc-128", 32, 1 }, { "kmalloc-192", 21, 1 }, { "kmalloc-256", 16, 1 },
		{ "kmalloc-512", 8, 1 }, { "kmalloc-1k", 8, 2 }, { "kmalloc-2k", 8, 4 }, { "kmalloc-4k", 8, 8 },
		{ "kmalloc-8k", 4, 8 }, { NULL, 0, 0 },
	};
	/* cpus=2: 4 * (2 + 1) = 12 (this host's /proc/slabinfo).
	 *   256: 12 * 256 = 3072 -> order 0, 16. 512: 6144 -> order 1, 16/2.
	 *   1k: 12288 -> order 2, 16/4. 2k: 24576 -> order 3, 16/8.
	 *   4k: max 8 objects -> min_objects 8 -> 8/8. 8k: 4/8. */
	static const struct oo c2[] = {
		{ "kmalloc-8", 512, 1 }, { "kmalloc-16", 256, 1 }, { "kmalloc-32", 128, 1 }, { "kmalloc-64", 64, 1 },
		{ "kmalloc-96", 42, 1 }, { "kmalloc-128", 32, 1 }, { "kmalloc-192", 21, 1 }, { "kmalloc-256", 16, 1 },
		{ "kmalloc-512", 16, 2 }, { "kmalloc-1k", 16, 4 }, { "kmalloc-2k", 16, 8 }, { "kmalloc-4k", 8, 8 },
		{ "kmalloc-8k", 4, 8 }, { NULL, 0, 0 },
	};
	/* cpus=4: 4 * (3 + 1) = 16: 256: 4096 -> 16/1; 512: 8192 -> 16/2;
	 * 1k: 16/4; 2k: 16/8; 4k: 8/8; 8k 4/8. Same as cpus=2. */
	static const struct oo c4[] = {
		{ "kmalloc-8", 512, 1 }, { "kmalloc-64", 64, 1 }, { "kmalloc-96", 42, 1 }, { "kmalloc-192", 21, 1 },
		{ "kmalloc-256", 16, 1 }, { "kmalloc-512", 16, 2 }, { "kmalloc-1k", 16, 4 }, { "kmalloc-2k", 16, 8 },
		{ "kmalloc-4k", 8, 8 }, { "kmalloc-8k", 4, 8 }, { NULL, 0, 0 },
	};
	/* cpus=8: 4 * (4 + 1) = 20: 128: 2560 -> 32/1; 256: 5120 -> order 1,
	 * 32/2; 512: 10240 -> order 2, 32/4; 1k: 20480 -> order 3, 32/8;
	 * 2k: at most 16 -> 16/8; 96: 1920 -> 42/1; 192: 3840 -> 21/1 */
	static const struct oo c8[] = {
		{ "kmalloc-8", 512, 1 }, { "kmalloc-16", 256, 1 }, { "kmalloc-32", 128, 1 }, { "kmalloc-64", 64, 1 },
		{ "kmalloc-96", 42, 1 }, { "kmalloc-128", 32, 1 }, { "kmalloc-192", 21, 1 }, { "kmalloc-256", 32, 2 },
		{ "kmalloc-512", 32, 4 }, { "kmalloc-1k", 32, 8 }, { "kmalloc-2k", 16, 8 }, { "kmalloc-4k", 8, 8 },
		{ "kmalloc-8k", 4, 8 }, { NULL, 0, 0 },
	};
	check_oo(1, c1);
	check_oo(2, c2);
	check_oo(4, c4);
	check_oo(8, c8);
}

/* === Slot layout with debug flags ======================================== */

struct layout { uint32_t size, inuse, offset, red_left_pad, objs, pages; };

static void check_layout(ra_machine *m, const char *name, size_t size, size_t align, uint32_t flags,
                         const struct layout *w)
{
	ra_cache *c = ra_kmem_cache_create(m, name, size, align, flags);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(!c->merged_into_valid);
	if (c->size != w->size || c->inuse != w->inuse || c->offset != w->offset || c->red_left_pad != w->red_left_pad)
		fprintf(stderr, "  %s: size %u inuse %u offset %u left %u\n", name, c->size, c->inuse, c->offset,
		        c->red_left_pad);
	CHECK_EQ(c->size, w->size);
	CHECK_EQ(c->inuse, w->inuse);
	CHECK_EQ(c->offset, w->offset);
	CHECK_EQ(c->red_left_pad, w->red_left_pad);
	CHECK_EQ(c->oo_objects, w->objs);
	CHECK_EQ(1u << c->order, w->pages);
}

static void debug_layouts(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 2);   /* min_objects 12 */
	const uint32_t F = RA_SLAB_CONSISTENCY_CHECKS, Z = RA_SLAB_RED_ZONE, P = RA_SLAB_POISON,
	               U = RA_SLAB_STORE_USER;
	/* 40 bytes: plain slot 40, free pointer at ALIGN_DOWN(20, 8) = 16;
	 * 4096 / 40 = 102 (leftover 16 <= 256) */
	check_layout(m, "l40", 40, 0, 0, &(struct layout){ 40, 40, 16, 0, 102, 1 });
	/* F changes no layout (and cannot merge) */
	check_layout(m, "l40f", 40, 0, F, &(struct layout){ 40, 40, 16, 0, 102, 1 });
	/* Z: 40 == ALIGN(40, 8): +8 for the right red zone (inuse 48), +8
	 * trailing word, +8 left red zone: 64; 64 per page */
	check_layout(m, "l40z", 40, 0, Z, &(struct layout){ 64, 48, 16, 8, 64, 1 });
	/* P: free pointer after the object: offset 40, slot 48; 85 per page */
	check_layout(m, "l40p", 40, 0, P, &(struct layout){ 48, 40, 40, 0, 85, 1 });
	/* U: 40 + 2 * 32 = 104; 39 per page (leftover 40) */
	check_layout(m, "l40u", 40, 0, U, &(struct layout){ 104, 40, 16, 0, 39, 1 });
	/* FZPU: 40 -> 48 (Z) -> fp at 48, 56 (P) -> 120 (U) -> 128 (Z word)
	 * -> 136 (left 8); 4096 / 136 = 30, leftover 16 */
	check_layout(m, "l40fzpu", 40, 0, F | Z | P | U, &(struct layout){ 136, 48, 48, 8, 30, 1 });
	/* 100 bytes: ALIGN(100, 8) = 104 leaves 4 bytes of red zone: no extra
	 * word. Z: 104 + 8 + 8 = 120. P: 104 + 8 = 112 (fp at 104). */
	check_layout(m, "l100", 100, 0, 0, &(struct layout){ 104, 104, 48, 0, 39, 1 });
	check_layout(m, "l100z", 100, 0, Z, &(struct layout){ 120, 104, 48, 8, 34, 1 });
	check_layout(m, "l100p", 100, 0, P, &(struct layout){ 112, 104, 104, 0, 36, 1 });
	/* ZP U: 104 -> fp 104, 112 -> 176 -> 184 -> 192: 21 per page */
	check_layout(m, "l100zpu", 100, 0, Z | P | U, &(struct layout){ 192, 104, 104, 8, 21, 1 });
	/* SLAB_HWCACHE_ALIGN: 100 > 64/2: align 64, slot 128 */
	check_layout(m, "l100hw", 100, 0, RA_SLAB_HWCACHE_ALIGN, &(struct layout){ 128, 104, 48, 0, 32, 1 });
	/* align=32 with Z: the left red zone is ALIGN(8, 32) = 32:
	 * 104 + 8 + 32 = 144 -> ALIGN(144, 32) = 160; 25 per page */
	check_layout(m, "l100a32z", 100, 32, Z, &(struct layout){ 160, 104, 48, 32, 25, 1 });
	/* 3000 bytes, cpus=2: 12 * 3000 -> order 4 > 3 ... the order that
	 * wastes at most 1/16: order 3 (32768 % 3000 = 2768 > 2048? yes):
	 * fraction 8 (4096): 2768 <= 4096 -> order 3, 10 objects */
	check_layout(m, "l3000", 3000, 0, 0, &(struct layout){ 3000, 3000, 1496, 0, 10, 8 });
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* slub_debug letters on kmalloc caches: power-of-two kmalloc caches are
 * naturally aligned (create_boot_cache), so their left red zone is as big
 * as the object. */
static void kmalloc_debug_layouts(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 2);
	char err[160];
	CHECK_EQ(ra_slab_set_debug(m, "FZPU,kmalloc-64,kmalloc-96,kmalloc-8k", err, sizeof(err)), 0);
	ra_cache *c = ra_kmem_cache_find(m, "kmalloc-64");
	/* 64 -> 72 (Z) -> fp 72, 80 (P) -> 144 (U) -> 152 (Z word) -> left
	 * ALIGN(8, 64) = 64: 216 -> ALIGN(216, 64) = 256; 16 per page */
	CHECK_EQ(c->size, 256);
	CHECK_EQ(c->red_left_pad, 64);
	CHECK_EQ(c->offset, 72);
	CHECK_EQ(c->oo_objects, 16);
	/* 96 (align 8): 104 -> 112 -> 176 -> 184 -> 192; 21 per page */
	c = ra_kmem_cache_find(m, "kmalloc-96");
	CHECK_EQ(c->size, 192);
	CHECK_EQ(c->red_left_pad, 8);
	CHECK_EQ(c->oo_objects, 21);
	/* 8k: 8192 -> 8200 -> 8208 -> 8272 -> 8280 -> + 8192 = 16472 ->
	 * ALIGN(8192) = 24576; one object in an order-3 slab */
	c = ra_kmem_cache_find(m, "kmalloc-8k");
	CHECK_EQ(c->size, 24576);
	CHECK_EQ(c->oo_objects, 1);
	CHECK_EQ(c->order, 3);
	/* other caches keep their layout */
	CHECK_EQ(ra_kmem_cache_find(m, "kmalloc-128")->size, 128);
	/* objects are still naturally aligned */
	ra_addr_t p = ra_kmalloc(m, 64, RA_GFP_KERNEL), q = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	CHECK_EQ(p & 63, 0);
	CHECK_EQ(q - p, 256);
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_kfree(m, q), 0);
	/* a cache with slabs cannot change its layout any more */
	p = ra_kmalloc(m, 100, RA_GFP_KERNEL);
	CHECK_EQ(ra_slab_set_debug(m, "Z,kmalloc-128", err, sizeof(err)), -1);
	CHECK(strstr(err, "already has slabs; set slub_debug before its first allocation") != NULL);
	ra_kfree(m, p);
	tm_free(&t);
}

/* === kmalloc, kzalloc, krealloc ========================================== */

static void kmalloc_large_from_pages(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	/* 8193 bytes: order get_order(8193) = 2 (16 KiB), a PO_KMALLOC block */
	ra_addr_t p = ra_kmalloc(m, 8193, RA_GFP_KERNEL);
	CHECK(p != 0);
	CHECK_EQ(p & 16383, 0);
	struct ra_page *pg = pfn_page(m, kpfn(p));
	CHECK_EQ(pg->owner, PO_KMALLOC);
	CHECK_EQ(pg->order, 2);
	CHECK_EQ(ra_ksize(m, p), 16384);
	CHECK_EQ(node_page_state(m, KMALLOC_LARGE_PAGES), 4);
	/* counted in SUnreclaim (NR_SLAB_UNRECLAIMABLE_B): 16 kB */
	const char *mi = tm_view(&t, "meminfo");
	CHECK(strstr(mi, "SUnreclaim:           16 kB\n") != NULL);
	/* 4 MiB (order 10) is the largest; one byte more fails */
	ra_addr_t big = ra_kmalloc(m, 4 << 20, RA_GFP_KERNEL);
	CHECK(big != 0);
	CHECK_EQ(pfn_page(m, kpfn(big))->order, 10);
	tm_err(&t);
	CHECK_EQ(ra_kmalloc(m, (4 << 20) + 1, RA_GFP_KERNEL), 0);
	CHECK(strstr(tm_err(&t), "larger than KMALLOC_MAX_SIZE") != NULL);
	CHECK_EQ(ra_kfree(m, p), 0);
	CHECK_EQ(ra_kfree(m, big), 0);
	CHECK_EQ(node_page_state(m, KMALLOC_LARGE_PAGES), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void kzalloc_zeroes(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	ra_addr_t p = ra_kmalloc(m, 200, RA_GFP_KERNEL);
	CHECK_EQ(ra_kfill(m, p, 0x5c, 200), 0);
	CHECK_EQ(ra_kfree(m, p), 0);
	/* the same object comes back (LIFO cpu freelist), zeroed */
	ra_addr_t q = ra_kzalloc(m, 200, RA_GFP_KERNEL);
	CHECK_EQ(q, p);
	uint8_t buf[256];
	CHECK_EQ(ra_kread(m, q, buf, 200), 0);
	int nz = 0;
	for (int i = 0; i < 200; i++)
		nz += buf[i] != 0;
	CHECK_EQ(nz, 0);
	/* large kzalloc too */
	ra_addr_t l = ra_kmalloc(m, 20000, RA_GFP_KERNEL);
	ra_kfill(m, l, 0xff, 20000);
	ra_kfree(m, l);
	l = ra_kzalloc(m, 20000, RA_GFP_KERNEL);
	static uint8_t big[20000];
	ra_kread(m, l, big, sizeof(big));
	nz = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		nz += big[i] != 0;
	CHECK_EQ(nz, 0);
	ra_kfree(m, l);
	ra_kfree(m, q);
	tm_free(&t);
}

static void krealloc_in_place_and_moving(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	ra_addr_t p = ra_kmalloc(m, 40, RA_GFP_KERNEL);      /* kmalloc-64 */
	uint8_t pat[64];
	for (int i = 0; i < 64; i++)
		pat[i] = (uint8_t)(i * 7 + 1);
	ra_kwrite(m, p, pat, 40);
	/* 60 <= ksize 64: in place */
	CHECK_EQ(ra_krealloc(m, p, 60, RA_GFP_KERNEL), p);
	ra_kwrite(m, p + 40, pat + 40, 20);
	/* 100 > 64: a kmalloc-128 object, the 64 bytes of the old one copied,
	 * the old one freed */
	ra_addr_t q = ra_krealloc(m, p, 100, RA_GFP_KERNEL);
	CHECK(q != p && q != 0);
	CHECK_EQ(ra_ksize(m, q), 128);
	uint8_t got[64];
	ra_kread(m, q, got, 60);
	CHECK_EQ(memcmp(got, pat, 60), 0);
	CHECK_EQ(ra_kmem_cache_find(m, "kmalloc-64")->nr_free, 1);
	/* growing into the page allocator keeps the contents too */
	ra_addr_t r = ra_krealloc(m, q, 10000, RA_GFP_KERNEL);
	CHECK_EQ(pfn_page(m, kpfn(r))->owner, PO_KMALLOC);
	ra_kread(m, r, got, 60);
	CHECK_EQ(memcmp(got, pat, 60), 0);
	/* shrinking stays in place */
	CHECK_EQ(ra_krealloc(m, r, 5000, RA_GFP_KERNEL), r);
	/* size 0 frees and returns ZERO_SIZE_PTR */
	CHECK_EQ(ra_krealloc(m, r, 0, RA_GFP_KERNEL), RA_ZERO_SIZE_PTR);
	CHECK_EQ(node_page_state(m, KMALLOC_LARGE_PAGES), 0);
	/* krealloc(NULL) is kmalloc */
	ra_addr_t s = ra_krealloc(m, 0, 30, RA_GFP_KERNEL);
	CHECK_EQ(ra_ksize(m, s), 32);
	ra_kfree(m, s);
	CHECK_EQ(ra_reports(m), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void zero_size_ptr(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	CHECK_EQ(ra_kmalloc(m, 0, RA_GFP_KERNEL), RA_ZERO_SIZE_PTR);
	CHECK_EQ(ra_kzalloc(m, 0, RA_GFP_KERNEL), 16);
	CHECK_EQ(ra_kfree(m, RA_ZERO_SIZE_PTR), 0);
	CHECK_EQ(ra_kfree(m, 0), 0);
	CHECK_EQ(ra_ksize(m, RA_ZERO_SIZE_PTR), 0);
	CHECK_EQ(ra_krealloc(m, RA_ZERO_SIZE_PTR, 0, RA_GFP_KERNEL), RA_ZERO_SIZE_PTR);
	/* krealloc(ZERO_SIZE_PTR, n) allocates */
	ra_addr_t p = ra_krealloc(m, RA_ZERO_SIZE_PTR, 8, RA_GFP_KERNEL);
	CHECK_EQ(ra_ksize(m, p), 8);
	ra_kfree(m, p);
	CHECK_EQ(ra_reports(m), 0);
	/* reading ZERO_SIZE_PTR faults */
	uint8_t b;
	CHECK_EQ(ra_kread(m, RA_ZERO_SIZE_PTR, &b, 1), -1);
	CHECK_EQ(ra_reports(m), 1);
	tm_free(&t);
}

/* === Caches: merging, accounting, shrink, destroy ======================== */

static void cache_merging(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	ra_cache *a = ra_kmem_cache_create(m, "a60", 60, 0, 0);   /* slot 64 */
	CHECK_EQ(a->size, 64);
	/* 57..64 rounds to 64: slot 64 - 64 < 8: merges */
	ra_cache *b = ra_kmem_cache_create(m, "b64", 64, 0, 0);
	CHECK(b->merged_into_valid);
	CHECK_EQ(b->merged_into, a->id);
	/* the target grows to the largest alias object size */
	CHECK_EQ(a->object_size, 64);
	/* 56: 64 - 56 = 8 >= 8: its own cache */
	ra_cache *c = ra_kmem_cache_create(m, "c56", 56, 0, 0);
	CHECK(!c->merged_into_valid);
	/* different SLAB_RECLAIM_ACCOUNT: no merge */
	ra_cache *d = ra_kmem_cache_create(m, "d64r", 64, 0, RA_SLAB_RECLAIM_ACCOUNT);
	CHECK(!d->merged_into_valid);
	/* debug flags never merge */
	ra_cache *e = ra_kmem_cache_create(m, "e64z", 64, 0, RA_SLAB_RED_ZONE);
	CHECK(!e->merged_into_valid);
	/* kmalloc caches are not merge targets (hardened usercopy) */
	ra_cache *f = ra_kmem_cache_create(m, "f128", 128, 0, 0);
	CHECK(!f->merged_into_valid);
	/* objects of an alias live in the target's slabs */
	ra_addr_t o = ra_kmem_cache_alloc(m, b, RA_GFP_KERNEL);
	CHECK_EQ(a->nr_alloc, 1);
	CHECK_EQ(ra_kmem_cache_free(m, b, o), 0);
	/* freeing an alias's object through the target is the same cache */
	o = ra_kmem_cache_alloc(m, b, RA_GFP_KERNEL);
	CHECK_EQ(ra_kmem_cache_free(m, a, o), 0);
	/* slabinfo lists the target under its first name only */
	const char *si = tm_view(&t, "slabinfo");
	CHECK(strstr(si, "\na60 ") != NULL);
	CHECK(strstr(si, "\nb64 ") == NULL);
	/* with two candidates the oldest wins: x1, x2 made while merging is off */
	CHECK_EQ(ra_knob_set(m, "slab_nomerge", "1"), 0);
	ra_cache *x1 = ra_kmem_cache_create(m, "x1", 200, 0, 0);
	ra_cache *x2 = ra_kmem_cache_create(m, "x2", 200, 0, 0);
	ra_cache *y = ra_kmem_cache_create(m, "y", 200, 0, 0);
	CHECK(!x2->merged_into_valid && !y->merged_into_valid);
	CHECK_EQ(ra_knob_set(m, "slab_nomerge", "0"), 0);
	ra_cache *x3 = ra_kmem_cache_create(m, "x3", 196, 0, 0);
	CHECK(x3->merged_into_valid);
	CHECK_EQ(x3->merged_into, x1->id);
	/* destroying an alias leaves the target */
	CHECK_EQ(ra_kmem_cache_destroy(m, b), 0);
	CHECK_EQ(a->refcount, 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void reclaimable_accounting(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	ra_cache *c = ra_kmem_cache_create(m, "dentry_like", 192, 0, RA_SLAB_RECLAIM_ACCOUNT);
	ra_addr_t o = ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL);
	/* one order-0 slab (12 * 192 = 2304 -> order 0, 21 objects) */
	CHECK_EQ(node_page_state(m, NR_SLAB_RECLAIMABLE), 1);
	CHECK_EQ(node_page_state(m, NR_SLAB_UNRECLAIMABLE), 0);
	/* its page is a Reclaimable allocation: pageblock stolen for Reclaimable */
	CHECK_EQ(pageblock_mt(m, kpfn(o)), MT_RECLAIMABLE);
	/* kmalloc-rcl-* too */
	ra_addr_t k = ra_kmalloc(m, 1000, RA_GFP_KERNEL | RA___GFP_RECLAIMABLE);
	/* kmalloc-rcl-1k: 16 objects in 4 pages with 1 cpu? min_objects 8:
	 * get_order(8192) = 1 -> 8 objects in 2 pages */
	CHECK_EQ(node_page_state(m, NR_SLAB_RECLAIMABLE), 3);
	ra_addr_t u = ra_kmalloc(m, 1000, RA_GFP_KERNEL);
	CHECK_EQ(node_page_state(m, NR_SLAB_UNRECLAIMABLE), 2);
	const char *mi = tm_view(&t, "meminfo");
	/* KReclaimable = SReclaimable = 12 kB, SUnreclaim 8 kB, Slab 20 kB */
	CHECK(strstr(mi, "KReclaimable:         12 kB\nSlab:                 20 kB\n"
	                 "SReclaimable:         12 kB\nSUnreclaim:            8 kB\n") != NULL);
	ra_kmem_cache_free(m, c, o);
	ra_kfree(m, k);
	ra_kfree(m, u);
	tm_free(&t);
}

/* slabinfo active_objs: objects free on the node partial lists are not
 * active; free objects of a cpu slab are. */
static void slabinfo_active_objs(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	ra_cache *c = ra_kmem_cache_find(m, "kmalloc-64");
	static ra_addr_t p[70];
	for (int i = 0; i < 70; i++)
		p[i] = ra_kmalloc(m, 64, RA_GFP_KERNEL);
	/* slab A full (64) and forgotten, slab B the cpu slab with 6 in use:
	 * 128 objects, all active (B's 58 free objects are the cpu's) */
	CHECK_EQ(c->nr_slabs, 2);
	CHECK(strstr(tm_view(&t, "slabinfo"),
	             "\nkmalloc-64           128    128     64   64    1 : tunables    0    0    0 : "
	             "slabdata      2      2      0\n") != NULL);
	/* freeing one object of A puts A on the partial list with 1 free: 127 */
	ra_kfree(m, p[0]);
	CHECK_EQ(c->partial.nr, 1);
	CHECK(strstr(tm_view(&t, "slabinfo"), "\nkmalloc-64           127    128 ") != NULL);
	/* freeing to the cpu slab changes nothing */
	ra_kfree(m, p[69]);
	CHECK(strstr(tm_view(&t, "slabinfo"), "\nkmalloc-64           127    128 ") != NULL);
	/* three more from A: 124 */
	ra_kfree(m, p[1]);
	ra_kfree(m, p[2]);
	ra_kfree(m, p[3]);
	CHECK(strstr(tm_view(&t, "slabinfo"), "\nkmalloc-64           124    128 ") != NULL);
	for (int i = 4; i < 69; i++)
		ra_kfree(m, p[i]);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void shrink_and_destroy(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	/* 256-byte objects: 16 per order-0 slab with 1 cpu (8 * 256 = 2048) */
	ra_cache *c = ra_kmem_cache_create(m, "sd", 256, 0, 0);
	CHECK_EQ(c->oo_objects, 16);
	/* min_partial = clamp(ilog2(256) / 2 = 4, 5, 10) = 5 */
	CHECK_EQ(c->min_partial, 5);
	static ra_addr_t p[16 * 8];
	for (int i = 0; i < 128; i++)
		p[i] = ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL);
	CHECK_EQ(c->nr_slabs, 8);
	/* destroy with live objects is refused with a report */
	unsigned long r0 = ra_reports(m);
	tm_err(&t);
	CHECK_EQ(ra_kmem_cache_destroy(m, c), -1);
	CHECK_EQ(ra_reports(m), r0 + 1);
	const char *e = tm_err(&t);
	CHECK(strstr(e, "BUG: refalloc: cache-busy in sd: kmem_cache_destroy sd: Slab cache still has objects (128)") == e);
	CHECK(strstr(e, "BUG sd (Not tainted): Objects remaining in sd on __kmem_cache_shutdown()") != NULL);
	CHECK_EQ(c->nr_slabs, 8);
	/* the refused destroy flushed the cpu slab (S7, full: on no list).
	 * Free everything, slab by slab: each full slab goes to the partial
	 * list on its first free; an empty slab is discarded when the partial
	 * list (itself included) holds >= min_partial (5) slabs: S0..S3 stay,
	 * S4 (5 on the list), S5, S6, S7 are discarded */
	for (int i = 0; i < 128; i++)
		CHECK_EQ(ra_kmem_cache_free(m, c, p[i]), 0);
	CHECK_EQ(c->nr_slabs, 4);
	CHECK_EQ(c->partial.nr, 4);
	/* shrink: the cpu slab is flushed and every empty slab discarded */
	CHECK_EQ(ra_kmem_cache_shrink(m, c), 0);
	CHECK_EQ(c->nr_slabs, 0);
	CHECK_EQ(c->slab_pages, 0);
	CHECK_EQ(node_page_state(m, NR_SLAB_UNRECLAIMABLE), 0);
	CHECK_EQ(ra_kmem_cache_destroy(m, c), 0);
	CHECK(ra_kmem_cache_find(m, "sd") == NULL);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* shrink sorts partial slabs fullest first */
static void shrink_orders_partials(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	ra_cache *c = ra_kmem_cache_create(m, "so", 512, 0, 0);   /* 8 per slab (1 cpu) */
	CHECK_EQ(c->oo_objects, 8);
	static ra_addr_t p[32];
	for (int i = 0; i < 32; i++)
		p[i] = ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL);
	/* slabs S0..S3; free 1 of S0, 5 of S1, 1 of S2 (S3 is the cpu slab):
	 * partial list S0, S1, S2 */
	ra_kmem_cache_free(m, c, p[0]);
	for (int i = 8; i < 13; i++)
		ra_kmem_cache_free(m, c, p[i]);
	ra_kmem_cache_free(m, c, p[16]);
	CHECK_EQ(c->partial.nr, 3);
	ra_kmem_cache_shrink(m, c);
	/* after shrink, fewest free first; list_move() to the head of
	 * promote[free - 1] reverses slabs of equal count: S2, S0 (1 free),
	 * then S1 (5). S3 (the flushed cpu slab, full) is on no list. */
	CHECK_EQ(c->partial.nr, 3);
	uint32_t id = c->partial.head;
	CHECK_EQ(slab_of(m, id)->pfn, kpfn(p[16]));
	id = slab_of(m, id)->next;
	CHECK_EQ(slab_of(m, id)->pfn, kpfn(p[0]));
	id = slab_of(m, id)->next;
	CHECK_EQ(slab_of(m, id)->pfn, kpfn(p[8]));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "size_to_cache", size_to_cache },
	{ "objects_per_slab", objects_per_slab },
	{ "debug_layouts", debug_layouts },
	{ "kmalloc_debug_layouts", kmalloc_debug_layouts },
	{ "kmalloc_large_from_pages", kmalloc_large_from_pages },
	{ "kzalloc_zeroes", kzalloc_zeroes },
	{ "krealloc_in_place_and_moving", krealloc_in_place_and_moving },
	{ "zero_size_ptr", zero_size_ptr },
	{ "cache_merging", cache_merging },
	{ "reclaimable_accounting", reclaimable_accounting },
	{ "slabinfo_active_objs", slabinfo_active_objs },
	{ "shrink_and_destroy", shrink_and_destroy },
	{ "shrink_orders_partials", shrink_orders_partials },
};
UNIT_MAIN("slab", tests)
