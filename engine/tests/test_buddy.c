/*
 * test_buddy.c — the buddy allocator against hand-computed free areas.
 *
 * Every scenario runs on a small machine whose free lists can be followed
 * on paper: a 16 MiB machine is one DMA zone of 4096 pages, booted as four
 * order-10 blocks at pfns 0, 1024, 2048, 3072 (all pageblocks Movable).
 * Most steps use orders >= 4 so the per-cpu lists (orders 0..3) stay out of
 * the way; where they are used the refill is written out: max(batch >>
 * order, 2) blocks when the zone's batch is above 1, else the batch itself
 * (__rmqueue_pcplist(): the 16 MiB DMA zone's batch of 1 refills ONE block
 * of any order). The expected buddyinfo after each step is derived in the
 * comment above it from the rules of docs/kernel-model.md ("Buddy allocator
 * and migratetypes"):
 *
 *   split (expand): take the head of the smallest non-empty order >= the
 *   request, hand the upper halves back at orders high-1 .. low;
 *   merge: buddy = pfn ^ (1 << order), merged block at buddy & pfn, while
 *   the buddy is a free block of the same order in the same zone; the
 *   result goes to the list head, or the tail when the buddy of the next
 *   order is free too (buddy_merge_likely, only below MAX_ORDER - 1).
 */
#include "unit.h"

#define MOV   (RA_GFP_HIGHUSER_MOVABLE)
#define UNMOV (RA_GFP_KERNEL)
#define RCL   (RA_GFP_KERNEL | RA___GFP_RECLAIMABLE)

/* === Boot =============================================================== */

static void boot_16m(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	/* 4096 pages = 4 blocks of 1024, all in DMA; 8 Movable pageblocks */
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 0 0 4");
	CHECK_STR(bi_type(m, ZONE_DMA, MT_MOVABLE), "0 0 0 0 0 0 0 0 0 0 4");
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 8);
	CHECK(!m->populated[ZONE_DMA32] && !m->populated[ZONE_NORMAL]);
	/* the lowest block is the list head (boot frees to the tail in pfn order) */
	CHECK_EQ(m->zones[ZONE_DMA].area[10].list[MT_MOVABLE].head, 0);
	CHECK_EQ(m->zones[ZONE_DMA].area[10].list[MT_MOVABLE].tail, 3072);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* === Splits and merges =================================================== */

static void split_merge_sequence(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	struct ra_zone *z = &m->zones[ZONE_DMA];
	/* a: order 5 splits block 0 into 9@512 8@256 7@128 6@64 5@32, keeps 0 */
	uint32_t a = ap(m, MOV, 5);
	CHECK_EQ(a, 0);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 1 1 1 1 3");
	/* b: the order-5 list holds 32 */
	uint32_t b = ap(m, MOV, 5);
	CHECK_EQ(b, 32);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 1 1 1 1 3");
	/* c: 6@64 splits: 5@96 back, keeps 64 */
	uint32_t c = ap(m, MOV, 5);
	CHECK_EQ(c, 64);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 0 1 1 1 3");
	uint32_t d = ap(m, MOV, 5);
	CHECK_EQ(d, 96);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 1 1 1 3");
	/* g: 7@128 splits into 6@192 and 5@160, keeps 128 */
	uint32_t g = ap(m, MOV, 5);
	CHECK_EQ(g, 128);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 1 0 1 1 3");
	uint32_t h = ap(m, MOV, 5);
	CHECK_EQ(h, 160);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 1 0 1 1 3");

	/* free a (0): its buddy 0^32 = 32 is b, allocated: no merge. Next-order
	 * buddy (0&32)^64 = 64 is c, allocated: to the head. */
	fp(m, a, 5);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 1 0 1 1 3");
	/* free g (128): buddy 128^32 = 160 is h, allocated. Next-order buddy
	 * (128&160)^64 = 192 is a free order-6 block: merging is likely, so
	 * 128 goes to the TAIL of the order-5 list, behind 0. */
	fp(m, g, 5);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 2 1 0 1 1 3");
	CHECK_EQ(z->area[5].list[MT_MOVABLE].head, 0);
	CHECK_EQ(z->area[5].list[MT_MOVABLE].tail, 128);
	/* so the next order-5 allocation takes 0, not 128 */
	a = ap(m, MOV, 5);
	CHECK_EQ(a, 0);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 1 0 1 1 3");
	/* free h (160): merges with 128 (order 5), then with 192 (order 6),
	 * giving 7@128; its buddy 0 is allocated */
	fp(m, h, 5);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 1 1 1 3");
	CHECK_EQ(z->area[7].list[MT_MOVABLE].head, 128);
	/* free c and d: 64+96 -> 6@64; buddy 0 is order 5 (a) */
	fp(m, c, 5);
	fp(m, d, 5);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 1 1 1 1 3");
	/* free b (32): buddy 0 allocated; free a: 0+32 -> 0@6 -> +64 -> 0@7 ->
	 * +128 -> 0@8 -> +256 -> 0@9 -> +512 -> 0@10 */
	fp(m, b, 5);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 1 1 1 1 3");
	fp(m, a, 5);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 0 0 4");
	/* a block of MAX_ORDER goes to the head: 0 leads again */
	CHECK_EQ(z->area[10].list[MT_MOVABLE].head, 0);
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_PAGES], 4096);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Blocks merge with their buddy pfn ^ (1 << order) only, never with an
 * adjacent free block of the same order that is not their buddy. */
static void buddy_is_xor(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	uint32_t p[4];
	for (int i = 0; i < 4; i++)
		p[i] = ap(m, MOV, 4);
	/* 0: splits 9@512 .. 4@16; 16; 32 (5@32 -> 4@48); 48 */
	CHECK_EQ(p[0], 0);
	CHECK_EQ(p[1], 16);
	CHECK_EQ(p[2], 32);
	CHECK_EQ(p[3], 48);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 1 1 1 1 3");
	/* 16 and 32 are adjacent order-4 blocks, but 16 ^ 16 = 0 and 32 ^ 16 = 48 */
	fp(m, 16, 4);
	fp(m, 32, 4);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 2 0 1 1 1 1 3");
	/* 0 ^ 16 = 16 is free: 0@5; 0 ^ 32 = 32 is free but of order 4: stop */
	fp(m, 0, 4);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 1 1 1 1 1 1 3");
	/* 48 ^ 16 = 32: 32@5; 32 ^ 32 = 0 is 0@5: 0@6; then 64, 128, 256, 512 */
	fp(m, 48, 4);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 0 0 4");
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Zone boundaries that are not MAX_ORDER aligned: boot frees the largest
 * aligned blocks that fit, and buddies never merge across zones. */
static void odd_zone_boundaries(void)
{
	struct tm t;
	/* dma=15M: DMA = [0, 3840): 3 x order 10, 9@3072, 8@3584.
	 * DMA32 = [3840, 16384): 8@3840, then 12 x order 10 from 4096.
	 * 3840 ^ 256 = 3584 is a free order-8 block, but in another zone. */
	ra_machine *m = tm_mk(&t, 64ULL << 20, 1, 15ULL << 20, 0, 0);
	CHECK_EQ(m->zones[ZONE_DMA].end_pfn, 3840);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 1 1 3");
	CHECK_STR(bi(m, ZONE_DMA32), "0 0 0 0 0 0 0 0 1 0 12");
	/* pageblock 7 (3584..4095) is split by the boundary: pagetypeinfo counts
	 * it in both zones (8 for DMA: 0,512,..,3584; 25 for DMA32: 3840,4352,..) */
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 8);
	CHECK_EQ(nblocks(m, ZONE_DMA32, MT_MOVABLE), 25);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);

	/* dma=15M+12K: DMA = [0, 3843): ... 8@3584, 1@3840, 0@3842.
	 * DMA32 = [3843, 16384): 0@3843 2@3844 3@3848 4@3856 5@3872 6@3904
	 * 7@3968 and 12 x order 10. */
	m = tm_mk(&t, 64ULL << 20, 1, (15ULL << 20) + (12 << 10), 0, 0);
	CHECK_STR(bi(m, ZONE_DMA), "1 1 0 0 0 0 0 0 1 1 3");
	CHECK_STR(bi(m, ZONE_DMA32), "1 0 1 1 1 1 1 1 0 0 12");
	/* A Movable GFP_DMA32 order-0 allocation refills the DMA32 pcp list with
	 * max(batch >> 0, 2) = 3 pages (batch: 12541 >> 10 = 12, /4 = 3,
	 * rounddown_pow_of_two(3 + 1) - 1 = 3): 3843, then 3844 from 2@3844
	 * (1@3846 back), then 3845. The list head, 3843, is handed out. */
	CHECK_EQ(m->zones[ZONE_DMA32].pcp[0].batch, 3);
	uint32_t p = ap(m, MOV | RA_GFP_DMA32, 0);
	CHECK_EQ(p, 3843);
	CHECK_STR(bi(m, ZONE_DMA32), "0 1 0 1 1 1 1 1 0 0 12");
	CHECK_EQ(m->zones[ZONE_DMA32].pcp[0].count, 2);
	fp(m, p, 0);
	ra_drain_pcp_all(m);
	/* 3843 ^ 1 = 3842 is free at order 0 but in DMA: no merge; DMA32 is
	 * back to its boot state, DMA never changed */
	CHECK_STR(bi(m, ZONE_DMA32), "1 0 1 1 1 1 1 1 0 0 12");
	CHECK_STR(bi(m, ZONE_DMA), "1 1 0 0 0 0 0 0 1 1 3");
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* === Migratetypes: fallback and stealing ================================= */

/* An Unmovable request with only Movable blocks free falls back to the
 * largest Movable block; at order >= pageblock_order the whole range
 * changes type (change_pageblock_range). */
static void steal_whole_max_order_block(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	/* order 4 > 3: no pcp. Largest fallback: 0@10 (Movable list head) ->
	 * pageblocks 0 and 1 become Unmovable, then split for order 4 */
	uint32_t p = ap(m, UNMOV, 4);
	CHECK_EQ(p, 0);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 1 1 1 1 1 1 3");
	CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "0 0 0 0 1 1 1 1 1 1 0");
	CHECK_STR(bi_type(m, ZONE_DMA, MT_MOVABLE), "0 0 0 0 0 0 0 0 0 0 3");
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 2);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 6);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_STEAL], 1);
	/* freeing merges back to 0@10, now on the Unmovable list */
	fp(m, p, 4);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 0 0 0 0 0 4");
	CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "0 0 0 0 0 0 0 0 0 0 1");
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 2);
	/* the next Unmovable request finds its own type: no new steal */
	p = ap(m, UNMOV, 9);
	CHECK_EQ(p, 0);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_STEAL], 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* fallbacks[]: Unmovable -> Reclaimable, Movable; Movable -> Reclaimable,
 * Unmovable; Reclaimable -> Unmovable, Movable (at the same order). */
static void fallback_order(void)
{
	struct tm t;
	/* Unmovable: Reclaimable before Movable */
	ra_machine *m = tm_new(&t, "16M", 1);
	uint32_t r = ap(m, RCL, 10);           /* steals 0: Reclaimable x2 */
	CHECK_EQ(r, 0);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_RECLAIMABLE), 2);
	fp(m, r, 10);                          /* 0@10 on the Reclaimable list */
	CHECK_STR(bi_type(m, ZONE_DMA, MT_RECLAIMABLE), "0 0 0 0 0 0 0 0 0 0 1");
	uint32_t u = ap(m, UNMOV, 10);         /* Reclaimable 0 rather than Movable 1024 */
	CHECK_EQ(u, 0);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 2);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_RECLAIMABLE), 0);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 6);
	tm_free(&t);

	/* Movable: Reclaimable before Unmovable */
	m = tm_new(&t, "16M", 1);
	r = ap(m, RCL, 10);                    /* 0 -> Reclaimable */
	u = ap(m, UNMOV, 10);                  /* 1024 -> Unmovable */
	CHECK_EQ(r, 0);
	CHECK_EQ(u, 1024);
	fp(m, r, 10);
	fp(m, u, 10);
	CHECK_EQ(ap(m, MOV, 10), 2048);        /* Movable's own blocks first */
	CHECK_EQ(ap(m, MOV, 10), 3072);
	/* free 2048, order 10: 2048 - 1023 = 1025 > low 160 */
	CHECK_EQ(ap(m, MOV, 10), 0);           /* Reclaimable 0, not Unmovable 1024 */
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 6);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 2);
	tm_free(&t);

	/* Reclaimable: Unmovable before Movable */
	m = tm_new(&t, "16M", 1);
	u = ap(m, UNMOV, 10);
	CHECK_EQ(u, 0);
	fp(m, u, 10);
	CHECK_EQ(ap(m, RCL, 10), 0);           /* Unmovable 0, not Movable 1024 */
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_RECLAIMABLE), 2);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Below pageblock order an Unmovable request steals the whole pageblock's
 * free pages (can_steal: Unmovable); the block changes type only when
 * free + alike pages >= 256 (half a pageblock). */
static void partial_steal(void)
{
	struct tm t;
	for (int variant = 0; variant < 2; variant++) {
		ra_machine *m = tm_new(&t, "16M", 1);
		/* seven Movable order-9 blocks: pageblocks 0..6 (the 7th: free
		 * 1024 - 511 = 513 > low 160) */
		for (uint32_t i = 0; i < 7; i++)
			CHECK_EQ(ap(m, MOV, 9), i * 512);
		/* Movable order 8 from pageblock 7: 3584, leaving 8@3840 */
		CHECK_EQ(ap(m, MOV, 8), 3584);
		if (variant == 1)                  /* and 16 more Movable pages: 3840 */
			CHECK_EQ(ap(m, MOV, 4), 3840);
		/* Unmovable order 4 (free 256 or 240, minus 15, > 160): the only
		 * free blocks are Movable ones in pageblock 7; largest first.
		 *  variant 0: free 256 (8@3840), movable 256 (3584):
		 *     alike = 512 - (256 + 256) = 0; 256 + 0 >= 256: Unmovable.
		 *     8@3840 splits: 7@3968 6@3904 5@3872 4@3856, keeps 3840.
		 *  variant 1: free 240 (4@3856 5@3872 6@3904 7@3968), movable
		 *     256 + 16: alike = 512 - (240 + 272) = 0; 240 < 256: the
		 *     block stays Movable, its free pages move to the Unmovable
		 *     lists anyway; 4@3856 is taken. */
		uint32_t p = ap(m, UNMOV, 4);
		if (variant == 0) {
			CHECK_EQ(p, 3840);
			CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 1);
			CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 7);
			CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 1 1 1 1 0 0 0");
			CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "0 0 0 0 1 1 1 1 0 0 0");
		} else {
			CHECK_EQ(p, 3856);
			CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 0);
			CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 8);
			CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 0 1 1 1 0 0 0");
			CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "0 0 0 0 0 1 1 1 0 0 0");
		}
		CHECK_STR(bi_type(m, ZONE_DMA, MT_MOVABLE), "0 0 0 0 0 0 0 0 0 0 0");
		CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_FALLBACK], 1);
		CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
		tm_free(&t);
	}
}

/* A Movable request whose largest fallback block is below order 4 cannot
 * steal: it takes the SMALLEST suitable fallback block and moves only that
 * block (find_smallest). The DMA zone of a 64 GiB machine is used because
 * its watermarks are tiny (min 2, low 6, high 10). */
static void movable_takes_smallest(void)
{
	struct tm t;
	ra_machine *m = tm_mk(&t, 64ULL << 30, 1, 0, 0, 0);
	const ra_gfp_t dma = RA_GFP_KERNEL | RA_GFP_DMA, dmamov = dma | RA___GFP_MOVABLE;
	struct ra_zone *z = &m->zones[ZONE_DMA];
	CHECK_EQ(z->wmark[0], 2);
	CHECK_EQ(z->wmark[1], 6);
	CHECK_EQ(z->pcp[0].batch, 1);
	/* 0@10 becomes Unmovable and is freed back on the Unmovable list */
	CHECK_EQ(ap(m, dma, 10), 0);
	fp(m, 0, 10);
	/* Movable takes the other three blocks */
	CHECK_EQ(ap(m, dmamov, 10), 1024);
	CHECK_EQ(ap(m, dmamov, 10), 2048);
	CHECK_EQ(ap(m, dmamov, 10), 3072);
	/* Unmovable orders 9..4 split 0@10 down to one free 4@1008 */
	CHECK_EQ(ap(m, dma, 9), 0);
	CHECK_EQ(ap(m, dma, 8), 512);
	CHECK_EQ(ap(m, dma, 7), 768);
	CHECK_EQ(ap(m, dma, 6), 896);
	CHECK_EQ(ap(m, dma, 5), 960);
	CHECK_EQ(ap(m, dma, 4), 992);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 1 0 0 0 0 0 0");
	/* order 3 through the pcp (free 16 - 7 = 9 > low 6): a batch of 1 is
	 * not scaled, the refill takes one block: 4@1008 splits (3@1016 back),
	 * 1008 is handed out and the list is empty again; the drain finds
	 * nothing. */
	CHECK_EQ(ap(m, dma, 3), 1008);
	CHECK_EQ(z->pcp[0].count, 0);
	ra_drain_pcp_all(m);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 1 0 0 0 0 0 0 0");
	/* order 1 (free 8 - 1 = 7 > low 6): the refill takes one block, 1016
	 * (3@1016 -> 2@1020, 1@1018 back), handed out; nothing to drain */
	CHECK_EQ(ap(m, dma, 1), 1016);
	CHECK_EQ(z->pcp[0].count, 0);
	ra_drain_pcp_all(m);
	CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "0 1 1 0 0 0 0 0 0 0 0");
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_PAGES], 6);
	/* Movable order 0: 6 <= low 6 fails the fast path; the slow path's
	 * min 2 passes. No Movable or CMA page is free: fallback. Largest:
	 * 2@1020, order 2 < 4 and Movable: cannot steal -> smallest: 1@1018,
	 * moved alone to the Movable list and split: the refill of one block
	 * gets 1018, handed out; 0@1019 stays on the Movable buddy list.
	 * 2@1020 stays Unmovable. Free 6 - 2 + 1 = 5. */
	CHECK_EQ(ap(m, dmamov, 0), 1018);
	CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "0 0 1 0 0 0 0 0 0 0 0");
	CHECK_STR(bi_type(m, ZONE_DMA, MT_MOVABLE), "1 0 0 0 0 0 0 0 0 0 0");
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_PAGES], 5);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 2);   /* pageblocks 0 and 1 keep their type */
	CHECK_EQ(z->pcp[0].count, 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* === CMA ================================================================= */

static void cma_area(void)
{
	struct tm t;
	/* cma=24M: 6144 pages at the top (pfns 10240..16383, in DMA32).
	 * DMA32 free 12288: 6144 > 12288 / 2 is false, so a Movable request
	 * takes its own blocks first: 4096. Then free 11264: 6144 > 5632,
	 * CMA first: 10240. */
	ra_machine *m = tm_mk(&t, 64ULL << 20, 1, 0, 0, 24ULL << 20);
	struct ra_zone *z = &m->zones[ZONE_DMA32];
	CHECK_EQ(m->cma_start, 10240);
	CHECK_EQ(z->cma_pages, 6144);
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_CMA], 6144);
	CHECK_EQ(nblocks(m, ZONE_DMA32, MT_CMA), 12);
	CHECK_STR(bi_type(m, ZONE_DMA32, MT_CMA), "0 0 0 0 0 0 0 0 0 0 6");
	CHECK_EQ(ap(m, MOV, 10), 4096);
	CHECK_EQ(ap(m, MOV, 10), 10240);
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_CMA], 5120);
	tm_free(&t);

	/* Only Movable allocations use CMA. cma=32M: CMA 8192..16383; DMA32
	 * has 4 ordinary blocks (4096..8191), DMA 4. Unmovable order-10
	 * requests see free - free_cma in the watermark: DMA32 gives 4096,
	 * 5120, 6144 (the 4th: 1024 - 1023 = 1 <= low 240), then DMA with the
	 * Normal classzone's reserve 48: 0, 1024, 2048; then nothing. */
	m = tm_mk(&t, 64ULL << 20, 1, 0, 0, 32ULL << 20);
	uint32_t want[] = { 4096, 5120, 6144, 0, 1024, 2048 };
	for (size_t i = 0; i < RA_ARRAY_SIZE(want); i++)
		CHECK_EQ(ap(m, UNMOV | RA___GFP_NOWARN, 10), want[i]);
	CHECK_EQ(ap(m, UNMOV | RA___GFP_NOWARN, 10), RA_NOPFN);
	CHECK_EQ(m->zones[ZONE_DMA32].vm_stat[RA_STAT_NR_FREE_CMA], 8192);
	/* a Movable request is served from CMA */
	uint32_t p = ap(m, MOV, 0);
	CHECK(p >= 8192 && p < 16384);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* === Highatomic reserve =================================================== */

static void highatomic_reserve(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	struct ra_zone *z = &m->zones[ZONE_DMA];
	/* Movable allocations bring free pages to 144, between min 128 and
	 * low 160: 0,1024,2048 (order 10), 3072 (9), 3584 (8), 3840 (6),
	 * 3904 (5), then order 4 = 3936 via the slow path (160 - 15 <= 160,
	 * 145 > min 128). Left: 4@3952 and 7@3968. */
	CHECK_EQ(ap(m, MOV, 10), 0);
	CHECK_EQ(ap(m, MOV, 10), 1024);
	CHECK_EQ(ap(m, MOV, 10), 2048);
	CHECK_EQ(ap(m, MOV, 9), 3072);
	CHECK_EQ(ap(m, MOV, 8), 3584);
	CHECK_EQ(ap(m, MOV, 6), 3840);
	CHECK_EQ(ap(m, MOV, 5), 3904);
	CHECK_EQ(ap(m, MOV, 4), 3936);
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_PAGES], 144);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 1 0 0 1 0 0 0");
	/* GFP_ATOMIC order 1: fast path fails (143 <= 160); slow path flags
	 * HIGH|HARDER|HIGHATOMIC: min 128 - 64 - 16 = 48. The DMA batch is 1,
	 * which is not scaled: the pcp refill takes ONE order-1 block.
	 * Unmovable falls back to 7@3968 (largest), the pageblock's free pages
	 * (144) move to Unmovable but the block keeps its type
	 * (144 + 0 < 256); 4@3952 splits: 3@3960 2@3956 1@3954, keeps 3952,
	 * which is handed out (the pcp list is empty again). Being a
	 * high-order atomic allocation, its pageblock (3584) becomes
	 * HighAtomic and the free blocks in it, 1@3954 2@3956 3@3960 7@3968,
	 * move to the HighAtomic lists: free 2 + 4 + 8 + 128 = 142. */
	uint32_t p = ap(m, RA_GFP_ATOMIC, 1);
	CHECK_EQ(p, 3952);
	CHECK_EQ(z->nr_reserved_highatomic, 512);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_HIGHATOMIC), 1);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_MOVABLE), 7);
	CHECK_STR(bi_type(m, ZONE_DMA, MT_HIGHATOMIC), "0 1 1 1 0 0 0 1 0 0 0");
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_PAGES], 142);
	CHECK_EQ(z->pcp[0].count, 0);
	/* Without reserve rights the 512 reserved pages are unusable: a
	 * GFP_KERNEL order-0 request fails although 142 pages are free (the
	 * drain in its direct reclaim finds the pcp list empty) */
	CHECK_EQ(ap(m, UNMOV | RA___GFP_NOWARN | RA___GFP_NORETRY, 0), RA_NOPFN);
	CHECK_EQ(z->nr_reserved_highatomic, 512);
	CHECK_EQ(z->vm_stat[RA_STAT_NR_FREE_PAGES], 142);
	/* A request that may retry exhausts the reserve before any OOM
	 * (should_reclaim_retry()): the block takes the request's type
	 * (Unmovable), its free blocks move to the Unmovable lists, and the
	 * retry succeeds: the refill of one order-0 block splits 1@3954,
	 * 3954 is handed out, 0@3955 stays on the buddy list */
	CHECK_EQ(ap(m, UNMOV, 0), 3954);
	CHECK_EQ(z->nr_reserved_highatomic, 0);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_HIGHATOMIC), 0);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 1);
	CHECK_STR(bi_type(m, ZONE_DMA, MT_UNMOVABLE), "1 0 1 1 0 0 0 1 0 0 0");
	CHECK_EQ(z->pcp[0].count, 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* === Zones: GFP zone selection, zonelist, ALLOC_NOFRAGMENT ============== */

/* mem=64M dma32=32M: DMA [0,4096), DMA32 [4096,8192), Normal [8192,16384).
 * min_free_kbytes 1024 -> pages_min 256: DMA 64/80/96, DMA32 64/80/96,
 * Normal 128/160/192. Reserves: DMA (0,16,48,48), DMA32 (0,0,32,32). */
static ra_machine *three_zones(struct tm *t) { return tm_mk(t, 64ULL << 20, 1, 0, 32ULL << 20, 0); }

static void gfp_zones(void)
{
	struct tm t;
	ra_machine *m = three_zones(&t);
	CHECK_EQ(m->zones[ZONE_NORMAL].wmark[1], 160);
	CHECK_EQ(m->zones[ZONE_DMA].lowmem_reserve[ZONE_NORMAL], 48);
	CHECK_EQ(m->zones[ZONE_DMA32].lowmem_reserve[ZONE_NORMAL], 32);
	CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA, 10), 0);
	CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA32, 10), 4096);
	CHECK_EQ(ap(m, RA_GFP_KERNEL, 10), 8192);
	CHECK_EQ(ap(m, MOV, 10), 9216);
	tm_free(&t);

	/* Zonelist Normal -> DMA32 -> DMA: Normal (8 blocks) gives 7 before
	 * its low watermark stops it (1024 - 1023 <= 160); DMA32 then gives 3
	 * (1024 - 1023 <= 80 + 32); DMA 3 (<= 80 + 48). */
	m = three_zones(&t);
	uint32_t got[16];
	int n = 0;
	uint32_t p;
	while (n < 16 && (p = ap(m, RA_GFP_KERNEL | RA___GFP_NOWARN, 10)) != RA_NOPFN)
		got[n++] = p;
	CHECK_EQ(n, 13);
	uint32_t want[] = { 8192, 9216, 10240, 11264, 12288, 13312, 14336, 4096, 5120, 6144, 0, 1024, 2048 };
	for (int i = 0; i < n && i < 13; i++)
		CHECK_EQ(got[i], want[i]);
	tm_free(&t);

	/* GFP_DMA uses DMA only; GFP_DMA32 DMA32 then DMA */
	m = three_zones(&t);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA, 10), (uint32_t)i * 1024);
	/* DMA's 4th: 1024 - 1023 = 1 <= min 64 */
	CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA | RA___GFP_NOWARN, 10), RA_NOPFN);
	CHECK_EQ(ap(m, RA_GFP_KERNEL | RA_GFP_DMA32, 10), 4096);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* A Normal-zone request first refuses to fragment: fallbacks below
 * pageblock order are not allowed (ALLOC_NOFRAGMENT) and the lower zones
 * are tried before Normal's small Movable blocks are stolen from. */
static void nofragment_prefers_dma32(void)
{
	struct tm t;
	ra_machine *m = three_zones(&t);
	/* fill Normal with Movable order 9 except pageblock 15 (8192 + 7680),
	 * then order 8 from it: Normal keeps 8@16128 free */
	for (uint32_t i = 0; i < 15; i++)
		CHECK_EQ(ap(m, MOV, 9), 8192 + i * 512);
	CHECK_EQ(ap(m, MOV, 8), 15872);
	CHECK_STR(bi(m, ZONE_NORMAL), "0 0 0 0 0 0 0 0 1 0 0");
	/* Unmovable order 4: Normal passes the watermark (256 - 15 > 160) but
	 * has no Unmovable pages and no fallback block >= order 9: DMA32 next,
	 * where 4096@10 is stolen whole. */
	CHECK_EQ(ap(m, UNMOV, 4), 4096);
	CHECK_STR(bi(m, ZONE_NORMAL), "0 0 0 0 0 0 0 0 1 0 0");
	CHECK_EQ(nblocks(m, ZONE_DMA32, MT_UNMOVABLE), 2);
	CHECK_EQ(nblocks(m, ZONE_NORMAL, MT_UNMOVABLE), 0);
	tm_free(&t);

	/* When no zone has a pageblock to give, the second pass (without
	 * ALLOC_NOFRAGMENT) fragments Normal after all. Each zone is left with
	 * one free order-8 block: DMA 8@3840 (after 0,1024,2048 @10, 3072 @9,
	 * 3584 @8; the DMA-only requests see reserve 0 and low 80), DMA32
	 * 8@7936, Normal 8@16128. */
	m = three_zones(&t);
	for (int zi = 0; zi < 2; zi++) {
		const ra_gfp_t g = MOV | (zi ? RA_GFP_DMA32 : RA_GFP_DMA);
		uint32_t base = zi ? 4096 : 0;
		for (uint32_t i = 0; i < 3; i++)
			CHECK_EQ(ap(m, g, 10), base + i * 1024);
		CHECK_EQ(ap(m, g, 9), base + 3072);
		CHECK_EQ(ap(m, g, 8), base + 3584);
		CHECK_STR(bi(m, zi), "0 0 0 0 0 0 0 0 1 0 0");
	}
	for (uint32_t i = 0; i < 15; i++)
		CHECK_EQ(ap(m, MOV, 9), 8192 + i * 512);
	CHECK_EQ(ap(m, MOV, 8), 15872);
	/* pass 1: Normal, DMA32 (241 > 80 + 32), DMA (241 > 80 + 48) all pass
	 * the watermark and refuse to steal below order 9. Pass 2: Normal's
	 * 8@16128; its pageblock holds 256 free + 0 alike: it turns Unmovable */
	CHECK_EQ(ap(m, UNMOV, 4), 16128);
	CHECK_EQ(nblocks(m, ZONE_NORMAL, MT_UNMOVABLE), 1);
	CHECK_EQ(nblocks(m, ZONE_DMA32, MT_UNMOVABLE), 0);
	CHECK_EQ(nblocks(m, ZONE_DMA, MT_UNMOVABLE), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* === Failure ============================================================= */

static void failure_is_an_outcome(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	/* order 10 x 3 fit (third: 2048 - 1023 > 160); the 4th does not:
	 * 1024 - 1023 = 1 fails low and min; order 10 > costly order 3 without
	 * __GFP_RETRY_MAYFAIL: no OOM, nopage */
	for (int i = 0; i < 3; i++)
		CHECK(ra_alloc_pages(m, RA_GFP_KERNEL, 10) != 0);
	tm_err(&t);
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_KERNEL, 10), 0);
	CHECK_STR(tm_err(&t), "refalloc: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL)\n");
	CHECK_EQ(node_page_state(m, ALLOC_FAIL), 1);
	/* __GFP_NOWARN: same outcome, no message; no report either */
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_KERNEL | RA___GFP_NOWARN, 10), 0);
	CHECK_STR(tm_err(&t), "");
	CHECK_EQ(ra_reports(m), 0);
	/* GFP_ATOMIC is 6.1's 0xa20 (__GFP_HIGH|__GFP_ATOMIC|__GFP_KSWAPD_RECLAIM):
	 * the lowered min still exceeds 1024 - 1023 = 1, and without
	 * __GFP_DIRECT_RECLAIM it goes to nopage; %pGg names the whole mask */
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_ATOMIC, 10), 0);
	CHECK_STR(tm_err(&t), "refalloc: page allocation failure: order:10, mode:0xa20(GFP_ATOMIC)\n");
	/* __GFP_NORETRY fails after the drain; mmflags.h's order puts
	 * __GFP_NORETRY before __GFP_ZERO: 0xcc0 + 0x10000 + 0x100 */
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_KERNEL | RA___GFP_ZERO | RA___GFP_NORETRY, 10), 0);
	CHECK_STR(tm_err(&t),
	          "refalloc: page allocation failure: order:10, mode:0x10dc0(GFP_KERNEL|__GFP_NORETRY|__GFP_ZERO)\n");
	/* __GFP_ATOMIC with __GFP_DIRECT_RECLAIM: the slow path drops the
	 * atomic bit before anything prints the mask: 0xcc0 + 0x10000 */
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_KERNEL | RA___GFP_ATOMIC | RA___GFP_NORETRY, 10), 0);
	CHECK_STR(tm_err(&t),
	          "refalloc: page allocation failure: order:10, mode:0x10cc0(GFP_KERNEL|__GFP_NORETRY)\n");
	CHECK_EQ(node_page_state(m, ALLOC_FAIL), 5);
	/* orders above MAX_ORDER fail at once */
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_KERNEL, 11), 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* Fragmentation: order-0 pages pinned in every order-1 pair leave plenty
 * of free memory and no order-1 block. */
static void fragmented_high_order_fails(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "16M", 1);
	/* 1024 Movable order-0 pages come out in pfn order 0..1023 (the DMA
	 * batch of 1 is not scaled: each pcp refill takes one page, the head
	 * of the smallest block), leaving the pcp list empty after each */
	for (uint32_t i = 0; i < 1024; i++)
		CHECK_EQ(ap(m, MOV, 0), i);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 0);
	/* free the even ones; their odd buddies are held: nothing merges */
	for (uint32_t i = 0; i < 1024; i += 2)
		fp(m, i, 0);
	ra_drain_pcp_all(m);
	CHECK_STR(bi(m, ZONE_DMA), "512 0 0 0 0 0 0 0 0 0 3");
	/* the three big blocks go (the third: 1536 - 1023 = 513 > low 160) */
	CHECK_EQ(ap(m, MOV, 10), 1024);
	CHECK_EQ(ap(m, MOV, 10), 2048);
	CHECK_EQ(ap(m, MOV, 10), 3072);
	CHECK_STR(bi(m, ZONE_DMA), "512 0 0 0 0 0 0 0 0 0 0");
	/* 512 pages free, far above the watermarks, but no free list of
	 * order >= 1: __zone_watermark_ok() fails order 1 in every pass */
	CHECK_EQ(ra_alloc_pages(m, RA_GFP_KERNEL | RA___GFP_NOWARN, 1), 0);
	CHECK_EQ(ra_alloc_pages(m, MOV | RA___GFP_NOWARN, 3), 0);
	CHECK(ra_alloc_pages(m, MOV, 0) != 0);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "boot_16m", boot_16m },
	{ "split_merge_sequence", split_merge_sequence },
	{ "buddy_is_xor", buddy_is_xor },
	{ "odd_zone_boundaries", odd_zone_boundaries },
	{ "steal_whole_max_order_block", steal_whole_max_order_block },
	{ "fallback_order", fallback_order },
	{ "partial_steal", partial_steal },
	{ "movable_takes_smallest", movable_takes_smallest },
	{ "cma_area", cma_area },
	{ "highatomic_reserve", highatomic_reserve },
	{ "gfp_zones", gfp_zones },
	{ "nofragment_prefers_dma32", nofragment_prefers_dma32 },
	{ "failure_is_an_outcome", failure_is_an_outcome },
	{ "fragmented_high_order_fails", fragmented_high_order_fails },
};
UNIT_MAIN("buddy", tests)
