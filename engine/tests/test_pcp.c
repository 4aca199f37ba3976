/*
 * test_pcp.c — per-cpu page lists: batch and high, refill, drain.
 *
 * docs/kernel-model.md, "Per-cpu page lists":
 *   batch = min(managed >> 10, 256) / 4, at least 1, then
 *           rounddown_pow_of_two(batch + batch/2) - 1, floored at 1
 *           (zone_set_pageset_high_and_batch: max(1, zone_batchsize()))
 *   high  = max(low_wmark / ncpus, 4 * batch), or with
 *           percpu_pagelist_high_fraction: max(managed / fraction / ncpus, 4 * batch)
 *   orders 0..3 only; refill max(batch >> order, 2) blocks, but a batch
 *   of 1 (the 16 MiB DMA zone) is not scaled: 1 block; a free that
 *   brings count >= high returns a batch, round-robin from list tails.
 *   Pages on pcp lists are not free in NR_FREE_PAGES / MemFree.
 */
#include "unit.h"

#define MOV (RA_GFP_HIGHUSER_MOVABLE)

static void check_pcp(ra_machine *m, int zi, uint32_t batch, uint32_t high)
{
	for (unsigned c = 0; c < m->ncpus; c++) {
		CHECK_EQ(m->zones[zi].pcp[c].batch, batch);
		CHECK_EQ(m->zones[zi].pcp[c].high, high);
	}
}

static void batch_and_high(void)
{
	struct tm t;
	ra_machine *m;
	/* 16M, 2 cpus. DMA 4096: 4096 >> 10 = 4, /4 = 1, rounddown(1 + 0) - 1
	 * = 0 -> floor 1. high max(160 / 2 = 80, 4) = 80 */
	m = tm_mem(&t, 16ULL << 20, 2);
	check_pcp(m, ZONE_DMA, 1, 80);
	tm_free(&t);
	/* 64M, 2 cpus. DMA32 12288: 12 / 4 = 3, rounddown(3 + 1 = 4) - 1 = 3;
	 * high max(240 / 2 = 120, 12) = 120. DMA: batch 1, high 80 / 2 = 40 */
	m = tm_mem(&t, 64ULL << 20, 2);
	check_pcp(m, ZONE_DMA, 1, 40);
	check_pcp(m, ZONE_DMA32, 3, 120);
	tm_free(&t);
	/* 256M, 2 cpus. DMA32 61440: 60 / 4 = 15, rounddown(15 + 7 = 22) - 1 =
	 * 15; high 600 / 2 = 300. DMA: 40 / 2 = 20 */
	m = tm_mem(&t, 256ULL << 20, 2);
	check_pcp(m, ZONE_DMA, 1, 20);
	check_pcp(m, ZONE_DMA32, 15, 300);
	tm_free(&t);
	/* 1G, 1 cpu. DMA32 258048: min(252, 256) / 4 = 63, rounddown(63 + 31
	 * = 94) - 1 = 63; high 1266. DMA: high max(20, 4) = 20 */
	m = tm_mem(&t, 1ULL << 30, 1);
	check_pcp(m, ZONE_DMA, 1, 20);
	check_pcp(m, ZONE_DMA32, 63, 1266);
	tm_free(&t);
	/* 64G, 8 cpus. Normal 15728640: min(15360, 256) = 256, /4 = 64,
	 * rounddown(96) - 1 = 63; high 23408 / 8 = 2926. DMA: low 6 / 8 = 0
	 * -> 4 * batch = 4 (the floor). DMA32: 1554 / 8 = 194 < 4 * 63 = 252:
	 * the floor again */
	m = tm_mem(&t, 64ULL << 30, 8);
	check_pcp(m, ZONE_DMA, 1, 4);
	check_pcp(m, ZONE_DMA32, 63, 252);
	check_pcp(m, ZONE_NORMAL, 63, 2926);
	tm_free(&t);
}

static void high_fraction(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 256ULL << 20, 2);
	/* fraction 8: DMA32 61440 / 8 = 7680 / 2 cpus = 3840; DMA 4096 / 8 =
	 * 512 / 2 = 256 */
	CHECK_EQ(ra_knob_set(m, "vm.percpu_pagelist_high_fraction", "8"), 0);
	check_pcp(m, ZONE_DMA32, 15, 3840);
	check_pcp(m, ZONE_DMA, 1, 256);
	/* fraction 1000: DMA32 61 / 2 = 30 -> 4 * 15 = 60; DMA 4 / 2 = 2 -> 4 */
	CHECK_EQ(ra_knob_set(m, "vm.percpu_pagelist_high_fraction", "1000"), 0);
	check_pcp(m, ZONE_DMA32, 15, 60);
	check_pcp(m, ZONE_DMA, 1, 4);
	/* values 1..7 are refused (sysctl's minimum is 8), 0 restores */
	CHECK_EQ(ra_knob_set(m, "vm.percpu_pagelist_high_fraction", "7"), RA_EINVAL);
	check_pcp(m, ZONE_DMA32, 15, 60);
	CHECK_EQ(ra_knob_set(m, "vm.percpu_pagelist_high_fraction", "0"), 0);
	check_pcp(m, ZONE_DMA32, 15, 300);
	tm_free(&t);
}

/* Refill: max(batch >> order, 2) blocks per empty list when batch > 1;
 * a batch of 1 refills one block at every order (__rmqueue_pcplist()). */
static void refill_sizes(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 256ULL << 20, 1);
	/* 256M, 1 cpu: DMA32 batch 15, high 600. Movable requests land in
	 * DMA32 (the first zone of the zonelist that exists). */
	struct ra_pcp *pcp = &m->zones[ZONE_DMA32].pcp[0];
	uint64_t free0 = m->zones[ZONE_DMA32].vm_stat[RA_STAT_NR_FREE_PAGES];
	/* order 0: 15 pages fetched, 1 handed out */
	uint32_t p0 = ap(m, MOV, 0);
	CHECK_EQ(p0, 4096);
	CHECK_EQ(pcp->count, 14);
	CHECK_EQ(m->zones[ZONE_DMA32].vm_stat[RA_STAT_NR_FREE_PAGES], free0 - 15);
	/* order 1: 15 >> 1 = 7 blocks = 14 pages, one handed out */
	ap(m, MOV, 1);
	CHECK_EQ(pcp->count, 14 + 12);
	/* order 2: 15 >> 2 = 3 blocks of 4 pages */
	ap(m, MOV, 2);
	CHECK_EQ(pcp->count, 26 + 8);
	/* order 3: 15 >> 3 = 1 -> at least 2 blocks of 8 pages */
	ap(m, MOV, 3);
	CHECK_EQ(pcp->count, 34 + 8);
	CHECK_EQ(m->zones[ZONE_DMA32].vm_stat[RA_STAT_NR_FREE_PAGES], free0 - 15 - 14 - 12 - 16);
	/* order 4 bypasses the pcp */
	ap(m, MOV, 4);
	CHECK_EQ(pcp->count, 42);
	/* a second order-0 request is served from the list, no refill */
	CHECK_EQ(ap(m, MOV, 0), p0 + 1);
	CHECK_EQ(pcp->count, 41);
	/* each migratetype has its own lists: an Unmovable request refills */
	ap(m, RA_GFP_KERNEL, 0);
	CHECK_EQ(pcp->count, 41 + 14);
	/* The DMA zone's batch is 1: one block per refill, whatever the
	 * order. GFP_DMA order 0 steals 0@10 and splits it: 0 handed out,
	 * nothing left on the list; order 3: 8@3 alone, handed out. */
	struct ra_pcp *dpcp = &m->zones[ZONE_DMA].pcp[0];
	CHECK_EQ(dpcp->batch, 1);
	CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA, 0), 0);
	CHECK_EQ(dpcp->count, 0);
	CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA, 3), 8);
	CHECK_EQ(dpcp->count, 0);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 4096 - 1 - 8);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* pcp pages are neither free (MemFree) nor allocated */
static void pcp_not_in_memfree(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	uint32_t p = ap(m, MOV, 0);
	/* DMA batch 1: the refill takes one page, 0, handed out: the list
	 * is empty again */
	CHECK_EQ(p, 0);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 4095);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 0);
	const char *mi = tm_view(&t, "meminfo");
	/* 4095 * 4 = 16380 kB */
	CHECK(strstr(mi, "MemTotal:          16384 kB\nMemFree:           16380 kB\n") != NULL);
	/* freed, page 0 goes to the pcp list (1 < high 160): still not free */
	fp(m, p, 0);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 1);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 4095);
	mi = tm_view(&t, "meminfo");
	CHECK(strstr(mi, "MemTotal:          16384 kB\nMemFree:           16380 kB\n") != NULL);
	ra_drain_pcp_all(m);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 4096);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 0 0 4");
	tm_free(&t);
}

/* Freeing into a list that reaches high returns a batch to the buddy
 * lists from the list's tail (the page freed longest ago). */
static void drain_at_high(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	struct ra_pcp *pcp = &m->zones[ZONE_DMA].pcp[0];
	/* 16M: batch 1, high 160 */
	for (uint32_t i = 0; i < 200; i++)
		CHECK_EQ(ap(m, MOV, 0), i);
	CHECK_EQ(pcp->count, 0);
	/* free 0..158: 159 pages stay on the list */
	for (uint32_t i = 0; i < 159; i++)
		fp(m, i, 0);
	CHECK_EQ(pcp->count, 159);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 4096 - 200);
	/* the 160th free reaches high: one page (batch) goes back, from the
	 * tail: page 0, freed first. Its buddy 1 is on the pcp list, not
	 * free: it stays order 0 */
	fp(m, 159, 0);
	CHECK_EQ(pcp->count, 159);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 4096 - 200 + 1);
	CHECK_EQ(pfn_page(m, 0)->owner, PO_BUDDY);
	CHECK_EQ(pfn_page(m, 1)->owner, PO_PCP);
	CHECK_EQ(m->zones[ZONE_DMA].area[0].nr_free, 1);
	/* the next one returns page 1: 0 and 1 merge to an order-1 block */
	fp(m, 160, 0);
	CHECK_EQ(pfn_page(m, 0)->owner, PO_BUDDY);
	CHECK_EQ(pfn_page(m, 0)->order, 1);
	CHECK_EQ(m->zones[ZONE_DMA].area[0].nr_free, 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);

	/* batch 15 (256M, 1 cpu: DMA32 high 600): 600 frees bring count to
	 * 600 >= high, 15 pages go back */
	m = tm_mem(&t, 256ULL << 20, 1);
	pcp = &m->zones[ZONE_DMA32].pcp[0];
	static uint32_t pg[615];
	for (int i = 0; i < 615; i++)
		pg[i] = ap(m, MOV, 0);
	CHECK_EQ(pcp->count, 0);     /* 615 = 41 refills of 15 */
	for (int i = 0; i < 599; i++)
		fp(m, pg[i], 0);
	CHECK_EQ(pcp->count, 599);
	fp(m, pg[599], 0);
	CHECK_EQ(pcp->count, 585);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* free_pcppages_bulk() starts with the list being freed to and goes
 * round-robin over the others, each from its tail. */
static void drain_round_robin(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	struct ra_pcp *pcp = &m->zones[ZONE_DMA].pcp[0];
	/* high 4 makes it short: percpu_pagelist_high_fraction 1024 -> 4096 /
	 * 1024 = 4 = 4 * batch */
	CHECK_EQ(ra_knob_set(m, "vm.percpu_pagelist_high_fraction", "1024"), 0);
	CHECK_EQ(pcp->high, 4);
	/* order-0 Movable pages 0..3 and an Unmovable order-1 block; the DMA
	 * batch of 1 makes every refill one block: the list stays empty */
	for (uint32_t i = 0; i < 4; i++)
		CHECK_EQ(ap(m, MOV, 0), i);
	CHECK_EQ(pcp->count, 0);
	/* steals block 1024 whole (pageblocks 1024 and 1536 Unmovable) and
	 * splits it: 1024; 1@1026 2@1028 .. 9@1536 stay on the buddy lists */
	uint32_t u = ap(m, RA_GFP_KERNEL, 1);
	CHECK_EQ(u, 1024);
	CHECK_EQ(pcp->count, 0);
	/* free pages 0 and 1 (Movable order 0, pindex 1): count 1, then 2 */
	fp(m, 0, 0);
	fp(m, 1, 0);
	CHECK_EQ(pcp->count, 2);
	/* free the order-1 block (Unmovable order 1, pindex 3): count 4 >=
	 * high -> drain 1 page starting with the list freed to, pindex 3,
	 * not the lower pindex 1: its tail 1024 goes back and merges with its
	 * free buddies up to 1024@10 */
	fp(m, u, 1);
	CHECK_EQ(pcp->count, 2);
	CHECK_EQ(pfn_page(m, 1024)->owner, PO_BUDDY);
	CHECK_EQ(pfn_page(m, 1024)->order, 10);
	CHECK_EQ(pfn_page(m, 0)->owner, PO_PCP);
	CHECK_EQ(pfn_page(m, 1)->owner, PO_PCP);
	/* free 2 (count 3), then 3 (count 4): drain 1 page starting at
	 * pindex 1: the tail is 0, freed first; its buddy 1 is on the list,
	 * no merge */
	fp(m, 2, 0);
	CHECK_EQ(pcp->count, 3);
	fp(m, 3, 0);
	CHECK_EQ(pcp->count, 3);
	CHECK_EQ(pfn_page(m, 0)->owner, PO_BUDDY);
	CHECK_EQ(pfn_page(m, 0)->order, 0);
	/* pages 1, 2 and 3 remain */
	CHECK_EQ(pfn_page(m, 1)->owner, PO_PCP);
	CHECK_EQ(pfn_page(m, 2)->owner, PO_PCP);
	CHECK_EQ(pfn_page(m, 3)->owner, PO_PCP);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Each cpu has its own lists: a page freed on cpu 1 goes to cpu 1's list. */
static void per_cpu_lists(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 2);
	ra_set_cpu(m, 0);
	uint32_t p = ap(m, MOV, 0);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 0);   /* DMA batch 1: a refill of one page */
	ra_set_cpu(m, 1);
	fp(m, p, 0);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 0);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[1].count, 1);
	/* cpu 1's list serves cpu 1's next allocation: the same page */
	CHECK_EQ(ap(m, MOV, 0), p);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[1].count, 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Direct reclaim drains every pcp list before retrying (the model has no
 * page cache to reclaim): pages parked there become free and merge. */
static void drain_on_direct_reclaim(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	/* 158 order-0 pages 0..157, a refill of one page each (DMA batch 1).
	 * Free pieces of block 0 left: 1@158 5@160 6@192 8@256 9@512 */
	for (uint32_t i = 0; i < 158; i++)
		CHECK_EQ(ap(m, MOV, 0), i);
	/* order 10 x3 (3938 - 1023 > 160, 2914 - 1023, 1890 - 1023 = 867 > 160)
	 * and order 9 (866 - 511 = 355 > 160): 512 */
	CHECK_EQ(ap(m, MOV, 10), 1024);
	CHECK_EQ(ap(m, MOV, 10), 2048);
	CHECK_EQ(ap(m, MOV, 10), 3072);
	CHECK_EQ(ap(m, MOV, 9), 512);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 354);
	/* park the 158 pages on the pcp list (158 < high 160: no drain) */
	for (uint32_t i = 0; i < 158; i++)
		fp(m, i, 0);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 158);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 354);
	/* order 8: 354 - 255 = 99 fails low (160) and min (128); direct
	 * reclaim drains: 0..159 merge with 160@5, 192@6, 256@8 into 0@9 (512
	 * free); the retry at min passes (512 - 255 > 128) and splits 0@9 */
	uint64_t dr = ra_stat(m, RA_STAT_ALLOCSTALL);
	/* without __GFP_DIRECT_RECLAIM (GFP_NOWAIT) nothing is drained */
	CHECK_EQ(ap(m, RA_GFP_NOWAIT | RA___GFP_MOVABLE | RA___GFP_NOWARN, 8), RA_NOPFN);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 158);
	CHECK_EQ(ra_stat(m, RA_STAT_ALLOCSTALL), dr);
	CHECK_EQ(ap(m, MOV, 8), 0);
	CHECK_EQ(ra_stat(m, RA_STAT_ALLOCSTALL), dr + 1);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 0);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 1 0 0");
	fp(m, 0, 8);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "batch_and_high", batch_and_high },
	{ "high_fraction", high_fraction },
	{ "refill_sizes", refill_sizes },
	{ "pcp_not_in_memfree", pcp_not_in_memfree },
	{ "drain_at_high", drain_at_high },
	{ "drain_round_robin", drain_round_robin },
	{ "per_cpu_lists", per_cpu_lists },
	{ "drain_on_direct_reclaim", drain_on_direct_reclaim },
};
UNIT_MAIN("pcp", tests)
