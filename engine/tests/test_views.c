/*
 * test_views.c — the exact text of every kernel view, in the kernel's
 * formats (fs/proc/, mm/vmstat.c, mm/slab_common.c, mm/vmalloc.c), and
 * extfrag_index / unusable_index for free-area states computed by hand:
 *
 *   blocks_total = sum nr_free[o], free_pages = sum nr_free[o] << o,
 *   suitable(k)  = sum over o >= k of nr_free[o] << (o - k)
 *   extfrag(k)   = 0 if no blocks; -1000 if suitable; else
 *                  1000 - (1000 + free_pages * 1000 / 2^k) / blocks_total
 *   unusable(k)  = 1000 if no free pages; else
 *                  (free_pages - (suitable << k)) * 1000 / free_pages
 *   printed "%d.%03d " (docs/kernel-model.md, "/proc views and their
 *   formats")
 */
#include "unit.h"

#define MOV (RA_GFP_HIGHUSER_MOVABLE)

static void buddyinfo_text(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	/* "Node %d, zone %8s " then "%6lu " per order: populated zones only */
	CHECK_STR(tm_view(&t, "buddyinfo"),
	          "Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      4 \n"
	          "Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0     12 \n");
	tm_free(&t);
	m = tm_mem(&t, 5ULL << 30, 1);
	/* Normal 262144 pages = 256 blocks; DMA32 1044480 = 1020 blocks */
	CHECK_STR(tm_view(&t, "buddyinfo"),
	          "Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      4 \n"
	          "Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0   1020 \n"
	          "Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0    256 \n");
	(void)m;
	tm_free(&t);
}

static void pagetypeinfo_text(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	/* an Unmovable order-4 allocation steals block 0 (2 pageblocks) */
	CHECK(ra_alloc_pages(m, RA_GFP_KERNEL, 4) != 0);
	CHECK_STR(tm_view(&t, "pagetypeinfo"),
	          "Page block order: 9\n"
	          "Pages per block:  512\n"
	          "\n"
	          "Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
	          "Node    0, zone      DMA, type    Unmovable      0      0      0      0      1      1      1      1      1      1      0 \n"
	          "Node    0, zone      DMA, type      Movable      0      0      0      0      0      0      0      0      0      0      3 \n"
	          "Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
	          "Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
	          "Node    0, zone      DMA, type          CMA      0      0      0      0      0      0      0      0      0      0      0 \n"
	          "Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
	          "\n"
	          "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n"
	          "Node 0, zone      DMA            2            6            0            0            0            0 \n");
	tm_free(&t);
}

static void zoneinfo_text(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 2);
	(void)m;
	/* 16M: min 128 low 160 high 192; pcp high 160/2 = 80, batch 1; the
	 * zone items of 6.1's zone_stat_item order the engine keeps
	 * (nr_free_pages, nr_zone_inactive_anon, nr_zone_active_anon,
	 * nr_zone_inactive_file, nr_zone_active_file, nr_zone_unevictable,
	 * nr_zone_write_pending, nr_mlock, nr_zspages, nr_free_cma) as "%-12s %lu"; per cpu
	 * "count: %i", "high:  %i", "batch: %i"; the empty zones print up to
	 * protection and stop; "boost" (watermark_boost) before min, and the
	 * marks include it */
	CHECK_STR(tm_view(&t, "zoneinfo"),
	          "Node 0, zone      DMA\n"
	          "  pages free     4096\n"
	          "        boost    0\n"
	          "        min      128\n"
	          "        low      160\n"
	          "        high     192\n"
	          "        spanned  4096\n"
	          "        present  4096\n"
	          "        managed  4096\n"
	          "        cma      0\n"
	          "        protection: (0, 0, 0, 0)\n"
	          "      nr_free_pages 4096\n"
	          "      nr_zone_inactive_anon 0\n"
	          "      nr_zone_active_anon 0\n"
	          "      nr_zone_inactive_file 0\n"
	          "      nr_zone_active_file 0\n"
	          "      nr_zone_unevictable 0\n"
	          "      nr_zone_write_pending 0\n"
	          "      nr_mlock     0\n"
	          "      nr_zspages   0\n"
	          "      nr_free_cma  0\n"
	          "  pagesets\n"
	          "    cpu: 0\n"
	          "              count: 0\n"
	          "              high:  80\n"
	          "              batch: 1\n"
	          "    cpu: 1\n"
	          "              count: 0\n"
	          "              high:  80\n"
	          "              batch: 1\n"
	          "  node_unreclaimable:  0\n"
	          "  start_pfn:           0\n"
	          "Node 0, zone    DMA32\n"
	          "  pages free     0\n"
	          "        boost    0\n"
	          "        min      0\n"
	          "        low      0\n"
	          "        high     0\n"
	          "        spanned  0\n"
	          "        present  0\n"
	          "        managed  0\n"
	          "        cma      0\n"
	          "        protection: (0, 0, 0, 0)\n"
	          "Node 0, zone   Normal\n"
	          "  pages free     0\n"
	          "        boost    0\n"
	          "        min      0\n"
	          "        low      0\n"
	          "        high     0\n"
	          "        spanned  0\n"
	          "        present  0\n"
	          "        managed  0\n"
	          "        cma      0\n"
	          "        protection: (0, 0, 0, 0)\n"
	          "Node 0, zone  Movable\n"
	          "  pages free     0\n"
	          "        boost    0\n"
	          "        min      0\n"
	          "        low      0\n"
	          "        high     0\n"
	          "        spanned  0\n"
	          "        present  0\n"
	          "        managed  0\n"
	          "        cma      0\n"
	          "        protection: (0, 0, 0, 0)\n");
	tm_free(&t);
}

static void slabinfo_text(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 2);
	ra_cache *c = ra_kmem_cache_create(m, "my_cache_with_a_long_name", 200, 0, RA_SLAB_HWCACHE_ALIGN);
	/* 200 > 32: align 64 -> slot 256; cpus 2: 12 * 256 = 3072 -> order 0,
	 * 16 objects */
	for (int i = 0; i < 3; i++)
		ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL);
	const char *si = tm_view(&t, "slabinfo");
	const char *hdr = "slabinfo - version: 2.1\n"
	                  "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables "
	                  "<limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
	CHECK(strncmp(si, hdr, strlen(hdr)) == 0);
	/* newest cache first; a name longer than 17 columns pushes the row */
	const char *row = "my_cache_with_a_long_name     16     16    256   16    1 : tunables    0    0    0 : slabdata"
	                  "      1      1      0\n";
	CHECK(strncmp(si + strlen(hdr), row, strlen(row)) == 0);
	CHECK(strstr(si, "\nkmalloc-8k             0      0   8192    4    8 : tunables    0    0    0 : slabdata"
	                 "      0      0      0\n") != NULL);
	/* the kmalloc caches come in creation order reversed (list_add() at
	 * the head of slab_caches; created 8, 16, 32, 64, 96, 128, 192,
	 * 256 .. 8k): 8k .. 256, 192, 128, 96, 64 .. 8, and kmalloc-8, the
	 * first one created, ends the list */
	CHECK(strstr(si, "\nkmalloc-256 ") && strstr(strstr(si, "\nkmalloc-256 ") + 1, "\n") ==
	                                          strstr(si, "\nkmalloc-192 "));
	CHECK(strstr(si, "\nkmalloc-128 ") && strstr(strstr(si, "\nkmalloc-128 ") + 1, "\n") ==
	                                          strstr(si, "\nkmalloc-96 "));
	CHECK(strstr(si, "\nkmalloc-96 ") && strstr(strstr(si, "\nkmalloc-96 ") + 1, "\n") ==
	                                         strstr(si, "\nkmalloc-64 "));
	const char *last = "\nkmalloc-8              0      0      8  512    1 : tunables    0    0    0 : slabdata"
	                   "      0      0      0\n";
	CHECK(strlen(si) >= strlen(last) && strcmp(si + strlen(si) - strlen(last), last) == 0);
	/* slabtop: the header and the row of the cache */
	const char *st = tm_view(&t, "slabtop");
	CHECK(strstr(st, "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME\n") != NULL);
	CHECK(strstr(st, "    16     16 100%    0.25K      1       16         4K my_cache_with_a_long_name") != NULL);
	tm_free(&t);
}

/* meminfo with slab, vmalloc, alloc_pages and pcp pages, computed:
 * 64M, 1 cpu: DMA32 batch 3, high 240.
 *  kmalloc(100): a kmalloc-128 slab page; the Unmovable pcp refill of 3
 *    steals 4096@10: 4096 (taken), 4097, 4098 on the list.
 *  vmalloc(8192): the array (16 bytes) needs a kmalloc-16 slab page (4097),
 *    then 2 pages: 4098, then a refill of 3 (4099 taken, 4100, 4101 left).
 *  alloc_pages(order 2): refill of max(3 >> 2, 2) = 2 order-2 blocks:
 *    4104 (taken), 4108 left (4 pages).
 *  used: slab 2 + vmalloc 2 + alloc_pages 4 = 8; pcp 2 + 4 = 6;
 *  MemFree = 16384 - 14 = 16370 pages = 65480 kB.
 *  totalreserve: DMA 48 + 96, DMA32 0 + 288 = 432;
 *  MemAvailable = 16370 - 432 = 15938 pages = 63752 kB.
 *  CommitLimit = 16384 * 50 / 100 = 8192 pages = 32768 kB. */
static void meminfo_text(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	CHECK(ra_kmalloc(m, 100, RA_GFP_KERNEL) != 0);
	CHECK(ra_vmalloc(m, 8192) != 0);
	CHECK_EQ(kpfn(ra_alloc_pages(m, RA_GFP_KERNEL, 2)), 4104);
	CHECK_EQ(m->zones[ZONE_DMA32].pcp[0].count, 6);
	CHECK_EQ(m->totalreserve, 432);
	CHECK_STR(tm_view(&t, "meminfo"),
	          "MemTotal:          65536 kB\n"
	          "MemFree:           65480 kB\n"
	          "MemAvailable:      63752 kB\n"
	          "Buffers:               0 kB\n"
	          "Cached:                0 kB\n"
	          "SwapCached:            0 kB\n"
	          "Active:                0 kB\n"
	          "Inactive:              0 kB\n"
	          "Active(anon):          0 kB\n"
	          "Inactive(anon):        0 kB\n"
	          "Active(file):          0 kB\n"
	          "Inactive(file):        0 kB\n"
	          "Unevictable:           0 kB\n"
	          "Mlocked:               0 kB\n"
	          "SwapTotal:             0 kB\n"
	          "SwapFree:              0 kB\n"
	          "Dirty:                 0 kB\n"
	          "Writeback:             0 kB\n"
	          "AnonPages:             0 kB\n"
	          "Mapped:                0 kB\n"
	          "Shmem:                 0 kB\n"
	          "KReclaimable:          0 kB\n"
	          "Slab:                  8 kB\n"
	          "SReclaimable:          0 kB\n"
	          "SUnreclaim:            8 kB\n"
	          "KernelStack:           0 kB\n"
	          "PageTables:            0 kB\n"
	          "SecPageTables:         0 kB\n"
	          "NFS_Unstable:          0 kB\n"
	          "Bounce:                0 kB\n"
	          "WritebackTmp:          0 kB\n"
	          "CommitLimit:       32768 kB\n"
	          "Committed_AS:          0 kB\n"
	          "VmallocTotal:   34359738367 kB\n"
	          "VmallocUsed:           8 kB\n"
	          "VmallocChunk:          0 kB\n"
	          "Percpu:                0 kB\n"
	          "AnonHugePages:         0 kB\n"
	          "ShmemHugePages:        0 kB\n"
	          "ShmemPmdMapped:        0 kB\n"
	          "FileHugePages:         0 kB\n"
	          "FilePmdMapped:         0 kB\n"
	          "CmaTotal:              0 kB\n"
	          "CmaFree:               0 kB\n"
	          "HugePages_Total:       0\n"
	          "HugePages_Free:        0\n"
	          "HugePages_Rsvd:        0\n"
	          "HugePages_Surp:        0\n"
	          "Hugepagesize:       2048 kB\n"
	          "Hugetlb:               0 kB\n"
	          "DirectMap4k:           0 kB\n"
	          "DirectMap2M:           0 kB\n"
	          "DirectMap1G:           0 kB\n");
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* MemAvailable counts reclaimable slab minus min(half of it, sum low) */
static void meminfo_available_reclaimable(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	/* 16M: low 160, totalreserve 192 */
	ra_cache *c = ra_kmem_cache_create(m, "rcl", 4096, 0, RA_SLAB_RECLAIM_ACCOUNT);
	/* 4096-byte objects, 1 cpu: 8 per order-3 slab */
	for (int i = 0; i < 8 * 50; i++)
		CHECK(ra_kmem_cache_alloc(m, c, RA_GFP_KERNEL) != 0);
	/* 50 slabs of 8 pages = 400 reclaimable pages; free 4096 - 400 - pcp.
	 * Order-3 slabs come through the pcp list; the DMA batch of 1 is not
	 * scaled, each refill takes one order-3 block: 50 refills, each block
	 * used at once: pcp empty. */
	CHECK_EQ(node_page_state(m, NR_SLAB_RECLAIMABLE), 400);
	CHECK_EQ(m->zones[ZONE_DMA].pcp[0].count, 0);
	CHECK_EQ(m->zones[ZONE_DMA].vm_stat[RA_STAT_NR_FREE_PAGES], 3696);
	/* available = 3696 - 192 + (400 - min(200, 160)) = 3504 + 240 = 3744
	 * pages = 14976 kB */
	const char *mi = tm_view(&t, "meminfo");
	CHECK(strstr(mi, "MemFree:           14784 kB\nMemAvailable:      14976 kB\n") != NULL);
	CHECK(strstr(mi, "KReclaimable:       1600 kB\nSlab:               1600 kB\nSReclaimable:       1600 kB\n") != NULL);
	tm_free(&t);
}

static void index_text(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	/* fresh: 4 order-10 blocks: every order has a suitable block
	 * (extfrag -1.000); no free page is unusable (0.000) */
	CHECK_STR(tm_view(&t, "extfrag_index"),
	          "Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 \n");
	CHECK_STR(tm_view(&t, "unusable_index"),
	          "Node 0, zone      DMA 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 \n");
	tm_free(&t);

	/* partial_steal's state (test_buddy): free 4@3856 5@3872 6@3904
	 * 7@3968: free_pages 240, blocks_total 4.
	 * extfrag: orders 0..7 suitable: -1.000;
	 *   8: 1000 - (1000 + 240000/256 = 937) / 4 = 1000 - 1937/4 (484) = 516
	 *   9: 240000/512 = 468: 1000 - 1468/4 (367) = 633
	 *  10: 240000/1024 = 234: 1000 - 1234/4 (308) = 692
	 * unusable: orders 0..4: every free page is in a block >= order: 0;
	 *   5: suitable 1 + 2 + 4 = 7 blocks of 32 = 224: (240-224)*1000/240 = 66
	 *   6: 1 + 2 = 3 blocks of 64 = 192: 48000/240 = 200
	 *   7: 1 block of 128: 112000/240 = 466
	 *   8..10: 1000 */
	m = tm_mem(&t, 16ULL << 20, 1);
	for (int i = 0; i < 7; i++)
		ra_alloc_pages(m, MOV, 9);
	ra_alloc_pages(m, MOV, 8);
	ra_alloc_pages(m, RA_GFP_KERNEL, 4);
	CHECK_STR(bi(m, ZONE_DMA), "0 0 0 0 1 1 1 1 0 0 0");
	CHECK_STR(tm_view(&t, "extfrag_index"),
	          "Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 0.516 0.633 0.692 \n");
	CHECK_STR(tm_view(&t, "unusable_index"),
	          "Node 0, zone      DMA 0.000 0.000 0.000 0.000 0.000 0.066 0.200 0.466 1.000 1.000 1.000 \n");
	tm_free(&t);

	/* fragmented_high_order_fails' state: 512 free order-0 pages only.
	 * extfrag order 0: -1.000; order k >= 1: 1000 - (1000 + 512000 / 2^k) / 512
	 *   1: 257000/512 = 501 -> 499    2: 129000/512 = 251 -> 749
	 *   3: 65000/512 = 126 -> 874     4: 33000/512 = 64 -> 936
	 *   5: 17000/512 = 33 -> 967      6: 9000/512 = 17 -> 983
	 *   7: 5000/512 = 9 -> 991        8: 3000/512 = 5 -> 995
	 *   9: 2000/512 = 3 -> 997       10: 1500/512 = 2 -> 998
	 * unusable: order 0: 0; order >= 1: 512000/512 = 1000 */
	m = tm_mem(&t, 16ULL << 20, 1);
	for (uint32_t i = 0; i < 1024; i++)
		ra_alloc_pages(m, MOV, 0);
	for (uint32_t i = 0; i < 1024; i += 2)
		ra_free_pages(m, pfn_to_kaddr(i), 0);
	ra_drain_pcp_all(m);
	for (int i = 0; i < 3; i++)
		ra_alloc_pages(m, MOV, 10);
	CHECK_STR(bi(m, ZONE_DMA), "512 0 0 0 0 0 0 0 0 0 0");
	CHECK_STR(tm_view(&t, "extfrag_index"),
	          "Node 0, zone      DMA -1.000 0.499 0.749 0.874 0.936 0.967 0.983 0.991 0.995 0.997 0.998 \n");
	CHECK_STR(tm_view(&t, "unusable_index"),
	          "Node 0, zone      DMA 0.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 \n");
	tm_free(&t);

}

static void vmallocinfo_empty_and_ioremap(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 64ULL << 20, 1);
	CHECK_STR(tm_view(&t, "vmallocinfo"), "");
	/* no site set: no caller column */
	ra_addr_t io = ra_ioremap(m, 0xfebc0000, 0x20000);
	CHECK_EQ(io, 0xffffc90000000000ULL);
	CHECK_STR(tm_view(&t, "vmallocinfo"),
	          "0xffffc90000000000-0xffffc90000021000  135168 phys=0x00000000febc0000 ioremap\n");
	ra_iounmap(m, io);
	tm_free(&t);
}

static void unknown_view(void)
{
	struct tm t;
	ra_machine *m = tm_mem(&t, 16ULL << 20, 1);
	CHECK_EQ(ra_view(m, "nosuchview"), RA_ENOENT);
	/* every kernel view name is known */
	const char *k[] = { "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "slabtop", "vmallocinfo",
	                    "meminfo", "extfrag_index", "unusable_index" };
	for (size_t i = 0; i < RA_ARRAY_SIZE(k); i++)
		CHECK_EQ(ra_view(m, k[i]), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "buddyinfo_text", buddyinfo_text },
	{ "pagetypeinfo_text", pagetypeinfo_text },
	{ "zoneinfo_text", zoneinfo_text },
	{ "slabinfo_text", slabinfo_text },
	{ "meminfo_text", meminfo_text },
	{ "meminfo_available_reclaimable", meminfo_available_reclaimable },
	{ "index_text", index_text },
	{ "vmallocinfo_empty_and_ioremap", vmallocinfo_empty_and_ioremap },
	{ "unknown_view", unknown_view },
};
UNIT_MAIN("views", tests)
