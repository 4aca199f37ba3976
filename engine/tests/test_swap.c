/*
 * test_swap.c — swap devices (swapfile.c), zram (zram.c) and the scan
 * balance of reclaim (vmscan.c), as docs/kernel-model.md "Swap", "zram" and
 * "get_scan_count" state them:
 *   - get_scan_count's SCAN_FRACT weights, the worked table;
 *   - swapon: pages = size/4K - 1, automatic priorities -2, -3, ..., moved
 *     up by a swapoff; /proc/swaps' widths;
 *   - the per-cpu slot cache: 64 slots at a time, only above ncpus*5*64
 *     free pages; freed slots wait for 64 more;
 *   - zram: same-filled pages, the size classes (1365 -> 1488: 4 pages, 11
 *     objects; 2048 -> 2064: 4 pages, 7 objects), huge pages, mm_stat.
 */
#include "unit.h"

static void scan_fraction(void)
{
	static const struct { uint64_t sw, anon, file, ap, fp; } v[] = {
		{ 60, 0, 0, 60, 140 },
		{ 60, 100, 300, 143, 239 },
		{ 60, 300, 100, 102, 335 },
		{ 100, 0, 1000, 299, 149 },
		{ 0, 5, 7, 0, 370 },    /* total 12: 17 and 19; 200 x 37 / 20 */
		{ 200, 0, 0, 200, 0 },
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(v); i++) {
		uint64_t ap, fp;
		vmscan_fraction(v[i].sw, v[i].anon, v[i].file, &ap, &fp);
		CHECK_EQ(ap, v[i].ap);
		CHECK_EQ(fp, v[i].fp);
	}
}

static void priorities_and_swaps(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t a, b, c, z;
	CHECK_EQ(ra_swapon(m, 4096, -1, false, 0, &a), RA_EINVAL);     /* no slot besides the header */
	CHECK_EQ(ra_swapon(m, 1 << 20, -1, false, 0, &a), RA_OK);
	CHECK_EQ(ra_swapon(m, 48ULL << 30, -1, false, 0, &b), RA_OK);
	CHECK_EQ(ra_swapon(m, 1 << 20, 7, false, 0, &c), RA_OK);
	CHECK_EQ(ra_swapon(m, 2 << 20, -1, true, 0, &z), RA_OK);
	CHECK_EQ(swap_info_by_id(m, a)->prio, -2);
	CHECK_EQ(swap_info_by_id(m, b)->prio, -3);
	CHECK_EQ(swap_info_by_id(m, c)->prio, 7);
	CHECK_EQ(swap_info_by_id(m, z)->prio, -4);
	CHECK_EQ(swap_info_by_id(m, a)->pages, 255);
	CHECK_EQ(m->swp->total_swap_pages, 255 + 12582911 + 255 + 511);
	tm_out(&t);
	CHECK_EQ(ra_view(m, "swaps"), 0);
	/* 48G = 50331644 kB: no extra tab after a size of 8 digits or more */
	CHECK_STR(tm_out(&t), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	                      "/swapfile0                              file\t\t1020\t\t0\t\t-2\n"
	                      "/swapfile1                              file\t\t50331644\t0\t\t-3\n"
	                      "/swapfile2                              file\t\t1020\t\t0\t\t7\n"
	                      "/dev/zram0                              partition\t2044\t\t0\t\t-4\n");
	/* swapoff of an automatic one: those below move up */
	CHECK_EQ(ra_swapoff(m, a), RA_OK);
	CHECK_EQ(swap_info_by_id(m, b)->prio, -2);
	CHECK_EQ(swap_info_by_id(m, z)->prio, -3);
	CHECK_EQ(swap_info_by_id(m, c)->prio, 7);
	CHECK_EQ(ra_swapoff(m, a), RA_ENOENT);
	uint32_t d;
	CHECK_EQ(ra_swapon(m, 1 << 20, -1, false, 0, &d), RA_OK);
	CHECK_EQ(swap_info_by_id(m, d)->prio, -4);
	/* a 48G device on a 64M machine cannot go: guess mode wants 12582911
	 * <= 16384 + the other devices' 255 + 511 + 255 */
	CHECK_EQ(ra_swapoff(m, b), RA_ENOMEM);
	CHECK_EQ(m->swp->total_swap_pages, 12582911 + 255 + 511 + 255);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* The slot cache on a 1-cpu machine: active above 320 free pages, 64
 * slots per refill, freed slots held until 64 are waiting. */
static void slot_cache(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id;
	CHECK_EQ(ra_swapon(m, 2 << 20, -1, false, 0, &id), RA_OK);     /* 511 slots */
	struct ra_swap_info *si = swap_info_by_id(m, id);
	swp_entry_t e = swap_alloc_slot(m);
	CHECK_EQ(swp_offset(e), 1);
	CHECK_EQ(si->inuse, 64);
	CHECK_EQ(m->swp->nr_swap_pages, 511 - 64);
	CHECK_EQ(si->map[1], SWAP_HAS_CACHE);
	/* the entry given back: it waits in the return buffer, still used */
	swap_put_cache(m, e);
	CHECK_EQ(si->inuse, 64);
	CHECK_EQ(si->map[1], SWAP_HAS_CACHE);
	swap_drain_slots(m);
	CHECK_EQ(si->inuse, 0);
	CHECK_EQ(m->swp->nr_swap_pages, 511);
	/* the cache stays on above 2 x 64 free pages (the device that follows
	 * has 255): hysteresis */
	uint32_t small;
	CHECK_EQ(ra_swapoff(m, id), RA_OK);
	CHECK_EQ(ra_swapon(m, 1 << 20, -1, false, 0, &small), RA_OK);   /* 255 slots */
	CHECK(m->swp->slots_active);
	e = swap_alloc_slot(m);
	CHECK_EQ(swap_info_by_id(m, small)->inuse, 64);
	swap_put_cache(m, e);
	swap_drain_slots(m);
	tm_free(&t);
	/* a first device of 255 slots: at most 5 x 64 free, never switched
	 * on: one slot at a time, freed at once */
	m = tm_new(&t, "64M", 1);
	CHECK_EQ(ra_swapon(m, 1 << 20, -1, false, 0, &small), RA_OK);
	e = swap_alloc_slot(m);
	CHECK(!m->swp->slots_active);
	CHECK_EQ(swap_info_by_id(m, small)->inuse, 1);
	swap_put_cache(m, e);
	CHECK_EQ(swap_info_by_id(m, small)->inuse, 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void zram_classes(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id;
	CHECK_EQ(ra_swapon(m, 4 << 20, -1, true, 3, &id), RA_OK);
	struct ra_zram *z = swap_info_by_id(m, id)->zram;
	uint8_t page[4096];
	memset(page, 0, sizeof(page));
	/* a page of one repeated word: same_pages, no memory */
	CHECK_EQ(zram_write(m, z, 1, page), 0);
	CHECK_EQ(zram_pool_pages(z), 0);
	/* ratio 3: 1365 bytes, class 1376 merged into 1488: 4 pages hold 11 */
	page[7] = 1;
	for (uint32_t off = 2; off < 2 + 11; off++)
		CHECK_EQ(zram_write(m, z, off, page), 0);
	CHECK_EQ(zram_pool_pages(z), 4);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_ZSPAGES), 4);
	CHECK_EQ(zram_write(m, z, 13, page), 0);
	CHECK_EQ(zram_pool_pages(z), 8);
	zram_free(m, z, 13);
	CHECK_EQ(zram_pool_pages(z), 4);
	tm_out(&t);
	zram_mm_stat(m, z, m->out);
	/* 12 pages stored (1 same), 11 x 1365 bytes, 4 pages used, 8 at most */
	CHECK_STR(tm_out(&t), "   49152    15015    16384        0    32768        1        0        0        0\n");
	uint8_t back[4096];
	zram_read(m, z, 5, back);
	CHECK(!memcmp(back, page, sizeof(page)));
	for (uint32_t off = 1; off < 13; off++)
		zram_free(m, z, off);
	CHECK_EQ(zram_pool_pages(z), 0);
	tm_free(&t);
	/* ratio 1: 4096 bytes >= huge_class_size 3257: stored whole, one page
	 * each; ratio 2: 2048 bytes, class 2064: 4 pages hold 7 */
	m = tm_new(&t, "64M", 1);
	uint32_t h, r2;
	CHECK_EQ(ra_swapon(m, 4 << 20, -1, true, 1, &h), RA_OK);
	CHECK_EQ(ra_swapon(m, 4 << 20, -1, true, 2, &r2), RA_OK);
	struct ra_zram *zh = swap_info_by_id(m, h)->zram, *z2 = swap_info_by_id(m, r2)->zram;
	CHECK_EQ(zram_write(m, zh, 1, page), 0);
	CHECK_EQ(zram_write(m, zh, 2, page), 0);
	CHECK_EQ(zram_pool_pages(zh), 2);
	for (uint32_t off = 1; off <= 8; off++)
		CHECK_EQ(zram_write(m, z2, off, page), 0);
	CHECK_EQ(zram_pool_pages(z2), 8);
	tm_out(&t);
	zram_mm_stat(m, zh, m->out);
	CHECK_STR(tm_out(&t), "    8192     8192     8192        0     8192        0        0        2        2\n");
	zram_free(m, zh, 1);
	zram_free(m, zh, 2);
	for (uint32_t off = 1; off <= 8; off++)
		zram_free(m, z2, off);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_ZSPAGES), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Swap-in on a disk device: a read fault maps the page read-only and
 * keeps it in the swap cache (a major fault); a later write reuses it,
 * still cached (PageAnonExclusive: the slot stays, stale, until the
 * dirty page is written again); a write fault frees the slot at once
 * (should_try_to_free_swap). A fork makes the entry shared: count 2. */
static void swapin_faults(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id;
	CHECK_EQ(ra_swapon(m, 1 << 20, -1, false, 0, &id), RA_OK);
	struct ra_task *tk = ra_task_create(m, "p", 0);
	uint64_t a = ra_mmap(m, tk, 4 << 12, 3, RA_MMAP_POPULATE);
	CHECK(a != 0);
	/* the populate's ptes are young: every page is kept once, then goes */
	uint64_t got = 0;
	for (int k = 0; k < 8; k++)
		got += ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL);
	CHECK(got >= 4);
	for (int i = 0; i < 4; i++)
		CHECK(ra_user_pfn(tk, a + ((uint64_t)i << 12)) == RA_NOPFN);
	uint64_t maj = vm_event(m, PGMAJFAULT), in = vm_event(m, PSWPIN);
	uint8_t b = 0x77;
	CHECK_EQ(ra_uaccess(m, tk, a, 1, false, &b), 0);
	CHECK_EQ(b, 0);
	CHECK_EQ(vm_event(m, PGMAJFAULT), maj + 1);
	CHECK_EQ(vm_event(m, PSWPIN), in + 1);
	CHECK_EQ(vm_event(m, PGPGIN), 4 * vm_event(m, PSWPIN));
	CHECK_EQ(node_page_state(m, NR_SWAPCACHE), 1);
	uint64_t *pte = mm_pte_lookup(tk->mm, a);
	CHECK((*pte & PTE_PRESENT) && !(*pte & PTE_WRITE));
	b = 0x42;
	CHECK_EQ(ra_uaccess(m, tk, a, 1, true, &b), 0);      /* reused: still cached */
	CHECK(*pte & PTE_WRITE);
	CHECK_EQ(node_page_state(m, NR_SWAPCACHE), 1);
	CHECK_EQ(vm_event(m, PGMAJFAULT), maj + 1);
	CHECK_EQ(ra_uaccess(m, tk, a + 4096, 1, true, &b), 0);   /* write fault: the slot goes */
	CHECK_EQ(vm_event(m, PGMAJFAULT), maj + 2);
	CHECK_EQ(node_page_state(m, NR_SWAPCACHE), 1);
	CHECK(!(pfn_page(m, ra_user_pfn(tk, a + 4096))->flags & PGF_SWAPCACHE));
	/* a fork shares page 2's entry: swap_map 2, VmSwap counted twice */
	pte = mm_pte_lookup(tk->mm, a + 8192);
	swp_entry_t e = pte_swp(*pte);
	struct ra_task *child = ra_task_fork(m, tk, 0);
	CHECK(child != NULL);
	CHECK_EQ(swap_count(m, e), 2);
	CHECK(!(*pte & PTE_SWP_EXCL));
	CHECK_EQ(child->mm->swapents, tk->mm->swapents);
	/* the child reads it: into the swap cache, the parent's pte keeps the
	 * entry (count 1 + the cache) */
	CHECK_EQ(ra_uaccess(m, child, a + 8192, 1, false, &b), 0);
	CHECK_EQ(swap_count(m, e), 1);
	CHECK_EQ(node_page_state(m, NR_SWAPCACHE), 2);
	/* the parent's fault then hits the swap cache: a minor fault */
	maj = vm_event(m, PGMAJFAULT);
	CHECK_EQ(ra_uaccess(m, tk, a + 8192, 1, false, &b), 0);
	CHECK_EQ(vm_event(m, PGMAJFAULT), maj);
	CHECK_EQ(swap_count(m, e), 0);
	CHECK_EQ(pfn_page(m, ra_user_pfn(tk, a + 8192))->count, 2);
	/* the child writes: the page is shared, so it copies */
	b = 9;
	CHECK_EQ(ra_uaccess(m, child, a + 8192, 1, true, &b), 0);
	CHECK(ra_user_pfn(child, a + 8192) != ra_user_pfn(tk, a + 8192));
	ra_task_exit(m, child);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "scan_fraction", scan_fraction },
	{ "priorities_and_swaps", priorities_and_swaps },
	{ "slot_cache", slot_cache },
	{ "zram_classes", zram_classes },
	{ "swapin_faults", swapin_faults },
};
UNIT_MAIN("swap", tests)
