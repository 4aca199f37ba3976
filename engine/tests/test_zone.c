/*
 * test_zone.c — watermarks, lowmem reserves, min_free_kbytes and
 * __zone_watermark_ok() against numbers computed by hand from
 * docs/kernel-model.md ("Watermarks and lowmem reserve"):
 *
 *   min_free_kbytes = clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144)
 *   pages_min = min_free_kbytes / 4
 *   min  = pages_min * managed / lowmem_managed
 *   gap  = max(min / 4, managed * watermark_scale_factor / 10000)
 *   low  = min + gap, high = low + gap
 *   lowmem_reserve[i][j] = sum(managed of zones i+1..j) / ratio[i]
 *
 * Machines have no holes: managed = present = spanned. Zones: DMA [0,16M),
 * DMA32 [16M,4G), Normal above (4096 pages in DMA, 1044480 in a full DMA32).
 */
#include "unit.h"

struct wm { uint64_t managed, min, low, high; };

static void check_zone(ra_machine *m, int zi, const struct wm *w)
{
	const struct ra_zone *z = &m->zones[zi];
	if (!w->managed) {
		CHECK(!m->populated[zi]);
		return;
	}
	CHECK(m->populated[zi]);
	CHECK_EQ(z->managed, w->managed);
	CHECK_EQ(z->wmark[0], w->min);
	CHECK_EQ(z->wmark[1], w->low);
	CHECK_EQ(z->wmark[2], w->high);
}

static void check_reserve(ra_machine *m, int zi, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	const struct ra_zone *z = &m->zones[zi];
	CHECK_EQ(z->lowmem_reserve[0], a);
	CHECK_EQ(z->lowmem_reserve[1], b);
	CHECK_EQ(z->lowmem_reserve[2], c);
	CHECK_EQ(z->lowmem_reserve[3], d);
}

/* === Watermarks per machine size ======================================== */

static void wmarks_16m(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 16ULL << 20, 2, 0, 0, 0);
	/* lowmem 4096 pages = 16384 kB; int_sqrt(16384 * 16 = 262144) = 512.
	 * pages_min = 128. DMA (the only zone): min 128 * 4096 / 4096 = 128;
	 * gap max(32, 4096 * 10 / 10000 = 4) = 32: low 160, high 192. */
	CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), 512);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 128, 160, 192 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 0, 0, 0, 0 });
	check_zone(m, ZONE_NORMAL, &(struct wm){ 0, 0, 0, 0 });
	check_reserve(m, ZONE_DMA, 0, 0, 0, 0);
	tm_free(&t);
}

static void wmarks_64m(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 64ULL << 20, 2, 0, 0, 0);
	/* 16384 pages = 65536 kB; int_sqrt(1048576) = 1024; pages_min 256.
	 * DMA 4096: min 256 * 4096 / 16384 = 64, gap max(16, 4) = 16 -> 80, 96.
	 * DMA32 12288: min 192, gap max(48, 12) = 48 -> 240, 288.
	 * DMA reserve: 12288 / 256 = 48 for DMA32, Normal (+0) and Movable. */
	CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), 1024);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 64, 80, 96 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 12288, 192, 240, 288 });
	check_reserve(m, ZONE_DMA, 0, 48, 48, 48);
	check_reserve(m, ZONE_DMA32, 0, 0, 0, 0);
	tm_free(&t);
}

static void wmarks_256m(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 256ULL << 20, 2, 0, 0, 0);
	/* 65536 pages = 262144 kB; int_sqrt(4194304) = 2048; pages_min 512.
	 * DMA: 512 * 4096 / 65536 = 32, gap max(8, 4) = 8 -> 40, 48.
	 * DMA32 61440: 480, gap max(120, 61) = 120 -> 600, 720.
	 * DMA reserve 61440 / 256 = 240. */
	CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), 2048);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 32, 40, 48 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 61440, 480, 600, 720 });
	check_reserve(m, ZONE_DMA, 0, 240, 240, 240);
	tm_free(&t);
}

static void wmarks_1g(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 1ULL << 30, 2, 0, 0, 0);
	/* 262144 pages = 1048576 kB; int_sqrt(16777216) = 4096; pages_min 1024.
	 * DMA: 1024 * 4096 / 262144 = 16, gap max(4, 4096*10/10000 = 4) = 4
	 * -> 20, 24. DMA32 258048: 1024 * 258048 / 262144 = 1008, gap
	 * max(252, 258048 * 10 / 10000 = 258) = 258 (the scale factor wins)
	 * -> 1266, 1524. DMA reserve 258048 / 256 = 1008. */
	CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), 4096);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 16, 20, 24 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 258048, 1008, 1266, 1524 });
	check_reserve(m, ZONE_DMA, 0, 1008, 1008, 1008);
	tm_free(&t);
}

static void wmarks_5g(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 5ULL << 30, 2, 0, 0, 0);
	/* 1310720 pages = 5242880 kB; 5242880 * 16 = 83886080; int_sqrt =
	 * 9158 (9158^2 = 83868964, 9159^2 = 83887281). pages_min = 2289.
	 * DMA: 2289 * 4096 / 1310720 = 7 (7.15), gap max(1, 4) = 4 -> 11, 15.
	 * DMA32 1044480: 2289 * 1044480 / 1310720 = 1824 (1824.04), gap
	 * max(456, 1044) = 1044 -> 2868, 3912.
	 * Normal 262144: 2289 * 262144 / 1310720 = 457 (457.8), gap
	 * max(114, 262) = 262 -> 719, 981.
	 * Reserves: DMA (0, 1044480/256 = 4080, 1306624/256 = 5104, 5104);
	 * DMA32 (0, 0, 262144/256 = 1024, 1024); Normal (0, 0, 0, 0/32 = 0). */
	CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), 9158);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 7, 11, 15 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 1044480, 1824, 2868, 3912 });
	check_zone(m, ZONE_NORMAL, &(struct wm){ 262144, 457, 719, 981 });
	check_reserve(m, ZONE_DMA, 0, 4080, 5104, 5104);
	check_reserve(m, ZONE_DMA32, 0, 0, 1024, 1024);
	check_reserve(m, ZONE_NORMAL, 0, 0, 0, 0);
	tm_free(&t);
}

static void wmarks_64g(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 64ULL << 30, 4, 0, 0, 0);
	/* 16777216 pages = 67108864 kB; * 16 = 2^30; int_sqrt = 32768 (inside
	 * the clamp). pages_min 8192.
	 * DMA: 8192 * 4096 / 16777216 = 2, gap max(0, 4) = 4 -> 6, 10.
	 * DMA32: 8192 * 1044480 / 16777216 = 510 (510.0), gap max(127, 1044)
	 * -> 1554, 2598.
	 * Normal 15728640: 7680, gap max(1920, 15728) = 15728 -> 23408, 39136.
	 * Reserves: DMA (0, 4080, 16773120/256 = 65520, 65520);
	 * DMA32 (0, 0, 15728640/256 = 61440, 61440). */
	CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), 32768);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 2, 6, 10 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 1044480, 510, 1554, 2598 });
	check_zone(m, ZONE_NORMAL, &(struct wm){ 15728640, 7680, 23408, 39136 });
	check_reserve(m, ZONE_DMA, 0, 4080, 65520, 65520);
	check_reserve(m, ZONE_DMA32, 0, 0, 61440, 61440);
	tm_free(&t);
}

/* This host's /proc/zoneinfo: DMA managed 3840, DMA32 managed 772915,
 * min_free_kbytes 67584: DMA min 53 low 66 high 79, DMA32 min 10857 low
 * 13571 high 16285, DMA protection (0, 3019, 4683, 4683).
 *
 * Normal's managed pages N are not given; they follow from the numbers:
 *   pages_min = 67584 / 4 = 16896; lowmem L = 3840 + 772915 + N.
 *   DMA min 53 = 16896 * 3840 / L  -> L in (1201493, 1224150]
 *   DMA32 min 10857 = 16896 * 772915 / L -> L in (1202722.7, 1202833.5]
 *   DMA protection[Normal] 4683 = (772915 + N) / 256 -> N in [425933, 426189)
 *   DMA32 protection[Normal] = N / 256 = 1664 -> N in [425984, 426240)
 * so N in [425984, 426078]; 1664 * 256 = 425984 is the smallest. Any N in
 * that range reproduces every number; N = 426000 is used:
 *   DMA32 end = (3840 + 772915) pages = 3181588480 bytes,
 *   mem = (776755 + 426000) pages = 4926484480 bytes. */
static void wmarks_host_vector(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 4926484480ULL, 2, 15ULL << 20, 3181588480ULL, 0);
	CHECK_EQ(ra_knob_set(m, "vm.min_free_kbytes", "67584"), 0);
	CHECK_EQ(m->zones[ZONE_NORMAL].managed, 426000);
	/* DMA: min 16896 * 3840 / 1202755 = 53 (53.94); gap max(13, 3) = 13 */
	check_zone(m, ZONE_DMA, &(struct wm){ 3840, 53, 66, 79 });
	/* DMA32: 16896 * 772915 / 1202755 = 10857 (10857.6); gap
	 * max(2714, 772) = 2714 -> 13571, 16285 */
	check_zone(m, ZONE_DMA32, &(struct wm){ 772915, 10857, 13571, 16285 });
	/* Normal: 16896 * 426000 / 1202755 = 5984; gap max(1496, 426) -> 7480, 8976 */
	check_zone(m, ZONE_NORMAL, &(struct wm){ 426000, 5984, 7480, 8976 });
	/* 772915 / 256 = 3019; (772915 + 426000) / 256 = 4683; 426000/256 = 1664 */
	check_reserve(m, ZONE_DMA, 0, 3019, 4683, 4683);
	check_reserve(m, ZONE_DMA32, 0, 0, 1664, 1664);
	/* the zoneinfo text carries the same numbers */
	const char *zi = tm_view(&t, "zoneinfo");
	CHECK(strstr(zi, "Node 0, zone      DMA\n  pages free     3840\n        boost    0\n        min      53\n"
	                 "        low      66\n        high     79\n        spanned  3840\n"
	                 "        present  3840\n        managed  3840\n        cma      0\n"
	                 "        protection: (0, 3019, 4683, 4683)\n") != NULL);
	CHECK(strstr(zi, "        min      10857\n        low      13571\n        high     16285\n") != NULL);
	tm_free(&t);
}

/* === min_free_kbytes default and knob changes ============================ */

static void min_free_kbytes_default(void)
{
	/* clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144): the clamp's bounds
	 * need lowmem below 1 MiB or above 4 TiB, outside the model's 16M..64G,
	 * so the formula is what shows: */
	static const struct { uint64_t mem; int64_t want; } v[] = {
		{ 16ULL << 20, 512 },      /* int_sqrt(16384 * 16) */
		{ 24ULL << 20, 627 },      /* int_sqrt(24576 * 16 = 393216) = 627 (627^2 = 393129) */
		{ 100ULL << 20, 1280 },    /* int_sqrt(102400 * 16 = 1638400) = 1280 */
		{ 3ULL << 30, 7094 },      /* int_sqrt(3145728 * 16 = 50331648) = 7094 (7094^2 = 50324836) */
		{ 64ULL << 30, 32768 },
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(v); i++) {
		struct tm t;
		ra_machine *m = tm_mk(&t, v[i].mem, 1, 0, 0, 0);
		CHECK_EQ(KNOB(m, VM_MIN_FREE_KBYTES), v[i].want);
		tm_free(&t);
	}
	CHECK_EQ(ra_int_sqrt(0), 0);
	CHECK_EQ(ra_int_sqrt(1), 1);
	CHECK_EQ(ra_int_sqrt(3), 1);
	CHECK_EQ(ra_int_sqrt(4), 2);
	CHECK_EQ(ra_int_sqrt(83886080), 9158);
	CHECK_EQ(ra_int_sqrt(UINT64_MAX), 4294967295ULL);
}

static void knob_changes_recompute(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 256ULL << 20, 2, 0, 0, 0);
	/* min_free_kbytes 8192: pages_min 2048. DMA 2048*4096/65536 = 128,
	 * gap max(32, 4) -> 160, 192. DMA32 1920, gap max(480, 61) -> 2400, 2880 */
	CHECK_EQ(ra_knob_set(m, "vm.min_free_kbytes", "8192"), 0);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 128, 160, 192 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 61440, 1920, 2400, 2880 });
	/* pcp high follows low: DMA32 2400 / 2 cpus = 1200 */
	CHECK_EQ(m->zones[ZONE_DMA32].pcp[1].high, 1200);
	/* watermark_scale_factor 1000 (10%): DMA32 gap max(480, 6144) = 6144
	 * -> 8064, 14208; DMA gap max(32, 409) = 409 -> 537, 946 */
	CHECK_EQ(ra_knob_set(m, "vm.watermark_scale_factor", "1000"), 0);
	check_zone(m, ZONE_DMA, &(struct wm){ 4096, 128, 537, 946 });
	check_zone(m, ZONE_DMA32, &(struct wm){ 61440, 1920, 8064, 14208 });
	/* back to the defaults: 2048 kB and 10 */
	CHECK_EQ(ra_knob_set(m, "vm.min_free_kbytes", "2048"), 0);
	CHECK_EQ(ra_knob_set(m, "vm.watermark_scale_factor", "10"), 0);
	check_zone(m, ZONE_DMA32, &(struct wm){ 61440, 480, 600, 720 });
	/* out of range values are refused and change nothing */
	CHECK_EQ(ra_knob_set(m, "vm.watermark_scale_factor", "0"), RA_EINVAL);
	CHECK_EQ(ra_knob_set(m, "vm.watermark_scale_factor", "3001"), RA_EINVAL);
	CHECK_EQ(ra_knob_set(m, "vm.min_free_kbytes", "-1"), RA_EINVAL);
	check_zone(m, ZONE_DMA32, &(struct wm){ 61440, 480, 600, 720 });
	/* a smaller totalreserve follows: max(lowmem_reserve) + high per zone,
	 * capped at managed: DMA 240 + 48, DMA32 0 + 720 */
	CHECK_EQ(m->totalreserve, 288 + 720);
	tm_free(&t);
}

static void lowmem_reserve_ratio(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 5ULL << 30, 1, 0, 0, 0);
	/* sysctl writes a prefix: "128 128" changes DMA and DMA32 only:
	 * DMA (0, 1044480/128 = 8160, 1306624/128 = 10208, 10208)
	 * DMA32 (0, 0, 262144/128 = 2048, 2048) */
	CHECK_EQ(ra_knob_set(m, "vm.lowmem_reserve_ratio", "128 128"), 0);
	check_reserve(m, ZONE_DMA, 0, 8160, 10208, 10208);
	check_reserve(m, ZONE_DMA32, 0, 0, 2048, 2048);
	/* ratio 0 means no reserve for that zone */
	CHECK_EQ(ra_knob_set(m, "vm.lowmem_reserve_ratio", "0,1"), 0);
	check_reserve(m, ZONE_DMA, 0, 0, 0, 0);
	check_reserve(m, ZONE_DMA32, 0, 0, 262144, 262144);
	CHECK_EQ(ra_knob_set(m, "vm.lowmem_reserve_ratio", "256,256,32,0"), 0);
	check_reserve(m, ZONE_DMA, 0, 4080, 5104, 5104);
	check_reserve(m, ZONE_DMA32, 0, 0, 1024, 1024);
	/* five values are one too many */
	CHECK_EQ(ra_knob_set(m, "vm.lowmem_reserve_ratio", "1,2,3,4,5"), RA_EINVAL);
	tm_free(&t);
}

/* === __zone_watermark_ok() ================================================ */

/* 256M: DMA32 min 480, low 600, high 720; reserve of DMA32 for itself 0.
 * A fresh machine has order-10 blocks of every order >= request. */
static void watermark_ok_boundaries(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 256ULL << 20, 1, 0, 0, 0);
	struct ra_zone *z = &m->zones[ZONE_DMA32];
	const int cz = ZONE_DMA32;
#define OK(order, mark, flags, free) ra_zone_watermark_ok(m, z, order, mark, cz, flags, free)
	/* plain: free must exceed min */
	CHECK(OK(0, 480, 0, 481));
	CHECK(!OK(0, 480, 0, 480));
	/* ALLOC_HIGH: min - min/2 = 240 */
	CHECK(OK(0, 480, ALLOC_HIGH, 241));
	CHECK(!OK(0, 480, ALLOC_HIGH, 240));
	/* ALLOC_HIGH|ALLOC_HARDER (GFP_ATOMIC): 240 - 240/4 = 180 */
	CHECK(OK(0, 480, ALLOC_HIGH | ALLOC_HARDER, 181));
	CHECK(!OK(0, 480, ALLOC_HIGH | ALLOC_HARDER, 180));
	/* ALLOC_HARDER alone (GFP_NOWAIT: non-blocking, no __GFP_HIGH): no
	 * access to the min reserve in the modern kernel */
	CHECK(!OK(0, 480, ALLOC_HARDER, 480));
	CHECK(OK(0, 480, ALLOC_HARDER, 481));
	/* ALLOC_OOM: 480 - 240 = 240 */
	CHECK(!OK(0, 480, ALLOC_OOM, 240));
	CHECK(OK(0, 480, ALLOC_OOM, 241));
	/* order 3: free - (2^3 - 1) must exceed min: 488 passes, 487 fails */
	CHECK(OK(3, 480, 0, 488));
	CHECK(!OK(3, 480, 0, 487));
	/* order 10: free - 1023 */
	CHECK(OK(10, 480, 0, 1504));
	CHECK(!OK(10, 480, 0, 1503));
	/* odd mark: 601 with ALLOC_HIGH|HARDER: 601 - 300 = 301; 301 - 75 = 226 */
	CHECK(OK(0, 601, ALLOC_HIGH | ALLOC_HARDER, 227));
	CHECK(!OK(0, 601, ALLOC_HIGH | ALLOC_HARDER, 226));

	/* highatomic pages are unusable without reserve rights */
	z->nr_reserved_highatomic = 512;
	CHECK(OK(0, 480, 0, 993));
	CHECK(!OK(0, 480, 0, 992));
	CHECK(OK(0, 480, ALLOC_HARDER, 481));      /* ALLOC_RESERVES: counted */
	CHECK(OK(0, 480, ALLOC_HIGH, 241));
	z->nr_reserved_highatomic = 0;
	/* free CMA pages count only with ALLOC_CMA */
	z->vm_stat[RA_STAT_NR_FREE_CMA] = 100;
	CHECK(OK(0, 480, 0, 581));
	CHECK(!OK(0, 480, 0, 580));
	CHECK(OK(0, 480, ALLOC_CMA, 481));
	z->vm_stat[RA_STAT_NR_FREE_CMA] = 0;
#undef OK
	/* lowmem_reserve of the classzone adds to min: DMA for a Normal or
	 * DMA32 request (reserve 240): free must exceed 32 + 240 */
	struct ra_zone *d = &m->zones[ZONE_DMA];
	CHECK(ra_zone_watermark_ok(m, d, 0, 32, ZONE_DMA32, 0, 273));
	CHECK(!ra_zone_watermark_ok(m, d, 0, 32, ZONE_DMA32, 0, 272));
	CHECK(ra_zone_watermark_ok(m, d, 0, 32, ZONE_DMA, 0, 33));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Higher orders pass only if a free list of an allowed type at order >= the
 * request is non-empty: HighAtomic lists need ALLOC_HIGHATOMIC or
 * ALLOC_OOM, CMA lists ALLOC_CMA. */
static void watermark_ok_free_lists(void)
{
	struct tm t;
	/* cma=32M on 64M: DMA32's order-10 blocks 8192..15360 are CMA. Taking
	 * DMA32's four ordinary blocks leaves only CMA blocks of order 10. */
	struct ra_config c;
	ra_config_default(&c);
	c.mem = 64ULL << 20;
	c.cpus = 1;
	c.cma = 32ULL << 20;
	ra_machine *m = tm_new_cfg(&t, &c);
	struct ra_zone *z = &m->zones[ZONE_DMA32];
	/* Unmovable: CMA pages unusable; 4096, 5120, 6144 fit; the 4th fails */
	for (int i = 0; i < 3; i++)
		CHECK(ra_alloc_pages(m, RA_GFP_KERNEL | RA_GFP_DMA32, 10) != 0);
	CHECK(ra_alloc_pages(m, RA_GFP_KERNEL | RA_GFP_DMA32 | RA___GFP_NOWARN, 9) != 0);   /* 7168 */
	CHECK(ra_alloc_pages(m, RA_GFP_KERNEL | RA_GFP_DMA32 | RA___GFP_NOWARN, 8) != 0);   /* 7680 */
	/* left: 8@7936 (Unmovable) and 8 CMA blocks of order 10 */
	CHECK_STR(bi(m, ZONE_DMA32), "0 0 0 0 0 0 0 0 1 0 8");
	int64_t f = (int64_t)z->vm_stat[RA_STAT_NR_FREE_PAGES];
	CHECK_EQ(f, 256 + 8192);
	/* Order 9: only CMA lists. Mark 0 and a free count far above what is
	 * subtracted isolate the free-list test; with the real count the free
	 * CMA pages alone make a non-CMA request fail (8448 - 8192 - 511 < 0) */
	CHECK(!ra_zone_watermark_ok(m, z, 9, 0, ZONE_DMA32, ALLOC_HARDER, 100000));
	CHECK(ra_zone_watermark_ok(m, z, 9, 0, ZONE_DMA32, ALLOC_CMA, 100000));
	CHECK(ra_zone_watermark_ok(m, z, 9, 0, ZONE_DMA32, ALLOC_CMA, f));
	CHECK(!ra_zone_watermark_ok(m, z, 9, 0, ZONE_DMA32, ALLOC_HARDER, f));
	/* order 8: the Unmovable block qualifies */
	CHECK(ra_zone_watermark_ok(m, z, 8, 0, ZONE_DMA32, ALLOC_HARDER, f));
	/* without ALLOC_CMA the free CMA pages are subtracted first:
	 * 8448 - 8192 - 255 = 1 > 0 passes, mark 1 does not */
	CHECK(ra_zone_watermark_ok(m, z, 8, 0, ZONE_DMA32, 0, f));
	CHECK(!ra_zone_watermark_ok(m, z, 8, 1, ZONE_DMA32, 0, f));
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);

	/* HighAtomic: the reserve scenario of test_buddy (16M) leaves free
	 * blocks only on the HighAtomic lists (orders 1, 2, 3, 7: the DMA
	 * batch of 1 refilled one order-1 block, so 1@3954 is not on the pcp
	 * list but in the reserved pageblock) */
	m = tm_mk(&t, 16ULL << 20, 1, 0, 0, 0);
	z = &m->zones[ZONE_DMA];
	const ra_gfp_t mov = RA_GFP_HIGHUSER_MOVABLE;
	static const unsigned orders[] = { 10, 10, 10, 9, 8, 6, 5, 4 };
	for (size_t i = 0; i < RA_ARRAY_SIZE(orders); i++)
		CHECK(ra_alloc_pages(m, mov, orders[i]) != 0);
	CHECK(ra_alloc_pages(m, RA_GFP_ATOMIC, 1) != 0);
	CHECK_STR(bi_type(m, ZONE_DMA, MT_HIGHATOMIC), "0 1 1 1 0 0 0 1 0 0 0");
	CHECK_STR(bi(m, ZONE_DMA), "0 1 1 1 0 0 0 1 0 0 0");
	f = (int64_t)z->vm_stat[RA_STAT_NR_FREE_PAGES];     /* 2 + 4 + 8 + 128 */
	CHECK_EQ(f, 142);
	CHECK(!ra_zone_watermark_ok(m, z, 2, 0, ZONE_DMA, ALLOC_HARDER, f));
	CHECK(ra_zone_watermark_ok(m, z, 2, 0, ZONE_DMA, ALLOC_HARDER | ALLOC_HIGHATOMIC, f));
	CHECK(ra_zone_watermark_ok(m, z, 7, 0, ZONE_DMA, ALLOC_OOM, f));
	/* nothing at order >= 8, whatever the free count */
	CHECK(!ra_zone_watermark_ok(m, z, 8, 0, ZONE_DMA, ALLOC_OOM | ALLOC_HIGHATOMIC, 100000));
	/* order 0 needs no list: ALLOC_HARDER counts the reserved pages, 142 > 0 */
	CHECK(ra_zone_watermark_ok(m, z, 0, 0, ZONE_DMA, ALLOC_HARDER, f));
	/* and without reserve rights 142 - 512 < 0 */
	CHECK(!ra_zone_watermark_ok(m, z, 0, 0, ZONE_DMA, 0, f));
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "wmarks_16m", wmarks_16m },
	{ "wmarks_64m", wmarks_64m },
	{ "wmarks_256m", wmarks_256m },
	{ "wmarks_1g", wmarks_1g },
	{ "wmarks_5g", wmarks_5g },
	{ "wmarks_64g", wmarks_64g },
	{ "wmarks_host_vector", wmarks_host_vector },
	{ "min_free_kbytes_default", min_free_kbytes_default },
	{ "knob_changes_recompute", knob_changes_recompute },
	{ "lowmem_reserve_ratio", lowmem_reserve_ratio },
	{ "watermark_ok_boundaries", watermark_ok_boundaries },
	{ "watermark_ok_free_lists", watermark_ok_free_lists },
};
UNIT_MAIN("zone", tests)
