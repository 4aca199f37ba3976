/*
 * test_filemap.c — the page cache (filemap.c), the file LRU (swap.c) and
 * reclaim (vmscan.c), as docs/kernel-model.md "Files and the page cache"
 * and "Reclaim" state them:
 *   - readahead: get_init_ra_size (4x up to max/32, 2x up to max/4, else
 *     max), get_next_ra_size (4x below max/16, 2x up to max/2, else max),
 *     max = 32 pages; a window is read when its PG_readahead page is hit;
 *   - folio_mark_accessed: the second touch activates, the first page of
 *     a read is exempt when the last read ended in it; writes never mark;
 *   - try_to_free_pages: clean inactive pages go first, SWAP_CLUSTER_MAX
 *     at a time; a dirty page is written back and freed, unless it was
 *     referenced; nothing cached, nothing reclaimed.
 */
#include "unit.h"
#include "vmscan.h"

static uint64_t cached(ra_machine *m) { return node_page_state(m, NR_FILE_PAGES); }

/* 4K reads one after the other: windows of 4, 8, 16, 32, 32 pages. */
static void readahead_windows(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id;
	ra_file_create(m, "seq", 1 << 20, false, &id);
	struct ra_file *f = ra_file_get(m, id);
	static const struct { uint64_t page, cached, start, size, async; } steps[] = {
		{ 0, 4, 0, 4, 3 },       /* init(1) = 4, marker at 1 */
		{ 1, 12, 4, 8, 8 },      /* marker hit: next(4) = 8, marker at 4 */
		{ 3, 12, 4, 8, 8 },
		{ 4, 28, 12, 16, 16 },   /* next(8) = 16, marker at 12 */
		{ 12, 60, 28, 32, 32 },  /* next(16) = 32, marker at 28 */
		{ 28, 92, 60, 32, 32 },  /* max */
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(steps); i++) {
		CHECK_EQ(ra_file_read(m, f, steps[i].page << 12, 4096), 0);
		CHECK_EQ(cached(m), steps[i].cached);
		CHECK_EQ(f->ra_start, steps[i].start);
		CHECK_EQ(f->ra_size, steps[i].size);
		CHECK_EQ(f->ra_async, steps[i].async);
	}
	/* a random read far away: as is, the window state untouched */
	CHECK_EQ(ra_file_read(m, f, 200 << 12, 8192), 0);
	CHECK_EQ(cached(m), 94);
	CHECK_EQ(f->ra_start, 60);
	/* a read of 256K from a fresh file: oversize, the window is max */
	ra_file_create(m, "big", 1 << 20, false, &id);
	CHECK_EQ(ra_file_read(m, ra_file_get(m, id), 0, 256 << 10), 0);
	CHECK_EQ(ra_file_get(m, id)->nrpages, 64 + 32);   /* read 64, one more window of 32 */
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void two_touch(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id;
	ra_file_create(m, "f", 64 << 10, false, &id);
	struct ra_file *f = ra_file_get(m, id);
	CHECK_EQ(ra_file_write(m, f, 0, 8192, 1), 0);      /* writes do not mark */
	CHECK_EQ(ra_file_write(m, f, 0, 8192, 2), 0);
	CHECK_EQ(node_page_state(m, NR_ACTIVE_FILE), 0);
	CHECK_EQ(ra_file_read(m, f, 0, 100), 0);           /* first touch */
	CHECK_EQ(ra_file_read(m, f, 100, 100), 0);         /* the same page as the last read: exempt */
	CHECK_EQ(node_page_state(m, NR_ACTIVE_FILE), 0);
	CHECK_EQ(ra_file_read(m, f, 4096, 100), 0);        /* page 1, first touch */
	CHECK_EQ(ra_file_read(m, f, 0, 100), 0);           /* page 0, second touch */
	CHECK_EQ(node_page_state(m, NR_ACTIVE_FILE), 1);
	CHECK_EQ(vm_event(m, PGACTIVATE), 1);
	CHECK(pfn_page(m, (uint32_t)*pcm_find(&f->cache, 0))->flags & PGF_ACTIVE);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static void reclaim(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	/* nothing cached: no progress */
	CHECK_EQ(ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL), 0);
	uint32_t id;
	ra_file_create(m, "f", 4 << 20, false, &id);
	struct ra_file *f = ra_file_get(m, id);
	CHECK_EQ(ra_file_read(m, f, 0, 4 << 20), 0);       /* 1024 pages, inactive, referenced */
	CHECK_EQ(cached(m), 1024);
	/* the target is size >> priority of what is left, summed over the
	 * priorities until 32 are freed: 0 down to priority 10; then
	 * 1024 >> 9 = 2, 1022 >> 8 = 3,
	 * 1019 >> 7 = 7, 1012 >> 6 = 15 (27 so far), 997 >> 5 = 31: 58 */
	CHECK_EQ(ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL), 58);
	CHECK_EQ(cached(m), 1024 - 58);
	CHECK_EQ(vm_event(m, PGSCAN_DIRECT), 58);
	CHECK_EQ(vm_event(m, PGSTEAL_DIRECT), 58);
	/* the oldest pages went: 0..57 */
	CHECK(!pcm_find(&f->cache, 57));
	CHECK(pcm_find(&f->cache, 58));
	/* dirty pages: written back and freed; dirty and referenced: kept */
	uint32_t id2;
	ra_file_create(m, "d", 0, false, &id2);
	struct ra_file *d = ra_file_get(m, id2);
	ra_drop_caches(m, 1);
	CHECK_EQ(cached(m), 0);
	CHECK_EQ(ra_file_write(m, d, 0, 64 << 12, 0x5a), 0);    /* 64 dirty, unreferenced */
	CHECK_EQ(ra_file_read(m, d, 0, 4096), 0);               /* page 0 referenced */
	/* priority 6: 64 >> 6 = 1, page 0: dirty and referenced, kept (to
	 * the head, PG_referenced cleared); then 64 >> 5 = 2, 62 >> 4 = 3,
	 * 59 >> 3 = 7, 52 >> 2 = 13 (25), 39 >> 1 = 19: 44 written and freed */
	CHECK_EQ(ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL), 44);
	CHECK_EQ(node_page_state(m, NR_VMSCAN_WRITE), 44);
	CHECK_EQ(cached(m), 64 - 44);
	CHECK(pcm_find(&d->cache, 0));
	uint8_t buf[4];
	ra_file_peek(m, d, 5 << 12, 4, buf);                     /* evicted, read from the disk */
	CHECK(!pcm_find(&d->cache, 5));
	CHECK_EQ(buf[0], 0x5a);
	CHECK_EQ(buf[3], 0x5a);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* kswapd: a wake-up from the slow path, then balance_pgdat() when the
 * replay says so; it stops once a zone meets its high watermark. */
static void kswapd(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id;
	ra_file_create(m, "f", 64 << 20, false, &id);
	CHECK_EQ(ra_file_read(m, ra_file_get(m, id), 0, 64 << 20), 0);   /* fills memory, reclaiming as it goes */
	CHECK(m->kswapd.pending);
	ra_kswapd_run(m);
	CHECK(!m->kswapd.pending);
	CHECK_EQ(vm_event(m, PAGEOUTRUN), 1);
	CHECK(vm_event(m, PGSTEAL_KSWAPD) > 0);
	CHECK_EQ(vm_event(m, PGSTEAL_KSWAPD), vm_event(m, PGSCAN_KSWAPD));
	bool balanced = false;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++)
		if (m->populated[zi])
			balanced |= ra_zone_watermark_ok(m, &m->zones[zi], 0, m->zones[zi].wmark[2], ZONE_NORMAL, 0,
			                                 (int64_t)zone_page_state(&m->zones[zi], NR_FREE_PAGES));
	CHECK(balanced);
	/* nothing pending: a second run does nothing */
	ra_kswapd_run(m);
	CHECK_EQ(vm_event(m, PAGEOUTRUN), 1);
	/* no page cache and nothing for a shrinker (drop_caches 3: the
	 * pages, then the file's dentry and, its page cache empty, its
	 * inode): a wake-up does not run it */
	ra_drop_caches(m, 3);
	CHECK_EQ(super_cache_count(m), SHRINK_EMPTY);
	ra_wakeup_kswapd(m, RA_GFP_KERNEL, 0, ZONE_NORMAL);
	ra_kswapd_run(m);
	CHECK_EQ(vm_event(m, PAGEOUTRUN), 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* domain_dirty_limits(): ratios in parts per page size (20 -> 819, 10 ->
 * 409), bytes rounded up to pages, bg >= thresh halved. */
static void dirty_limits(void)
{
	static const struct { uint64_t avail, r, b, bgr, bgb, thresh, bg; } c[] = {
		{ 262144, 20, 0, 10, 0, 52416, 26176 },       /* 819 * 262144 / 4096, 409 * 262144 / 4096 */
		{ 1000000, 20, 0, 10, 0, 199951, 99853 },
		{ 259589, 20, 0, 10, 0, 51905, 25920 },       /* a 1 GiB machine at boot */
		{ 259589, 0, 104857600, 10, 0, 25600, 12800 },/* bytes; bg 25920 >= 25600: halved */
		{ 259589, 0, 104857601, 10, 0, 25601, 12800 },/* rounded up; 25601 / 2 */
		{ 259589, 20, 0, 0, 52428801, 51905, 12801 },
		{ 1000, 10, 0, 20, 0, 99, 49 },               /* ratios crossed: bg = thresh / 2 */
		{ 1000, 0, 0, 0, 0, 0, 0 },
		{ 1, 20, 0, 10, 0, 0, 0 },
		{ 0, 20, 1ull << 62, 10, 0, UINT32_MAX, 0 },     /* thresh capped at UINT_MAX */
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(c); i++) {
		uint64_t t = 1, bg = 1;
		domain_dirty_limits(c[i].avail, c[i].r, c[i].b, c[i].bgr, c[i].bgb, &t, &bg);
		CHECK_EQ(t, c[i].thresh);
		CHECK_EQ(bg, c[i].bg);
	}
	/* global_dirtyable_memory: free - totalreserve + file LRU + 1; and the
	 * knob pairs: a changed ratio zeroes the bytes and back */
	struct tm tt;
	ra_machine *m = tm_new(&tt, "1G", 2);
	CHECK_EQ(m->totalreserve, 2556);
	CHECK_EQ(global_dirtyable_memory(m), 262144 - 2556 + 1);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_THRESHOLD), 51905);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_BG_THRESHOLD), 25920);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_bytes", "4096"), RA_EINVAL);     /* below 2 pages */
	CHECK_EQ(ra_knob_set(m, "vm.dirty_background_bytes", "0"), RA_EINVAL);
	CHECK_EQ(KNOB(m, VM_DIRTY_RATIO), 20);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_bytes", "8192"), RA_OK);
	CHECK_EQ(KNOB(m, VM_DIRTY_RATIO), 0);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_THRESHOLD), 2);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_BG_THRESHOLD), 1);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_ratio", "0"), RA_OK);           /* unchanged: bytes stay */
	CHECK_EQ(KNOB(m, VM_DIRTY_BYTES), 8192);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_ratio", "20"), RA_OK);
	CHECK_EQ(KNOB(m, VM_DIRTY_BYTES), 0);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_background_bytes", "1"), RA_OK);
	CHECK_EQ(KNOB(m, VM_DIRTY_BACKGROUND_RATIO), 0);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_BG_THRESHOLD), 1);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_background_ratio", "10"), RA_OK);
	CHECK_EQ(KNOB(m, VM_DIRTY_BACKGROUND_BYTES), 0);
	tm_free(&tt);
}

/* The flusher: per-file expiry from the first dirty page, periodic passes
 * at multiples of the interval, background writeback oldest first. */
static void flusher(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t a, b;
	ra_file_create(m, "a", 1 << 20, false, &a);
	ra_file_create(m, "b", 1 << 20, false, &b);
	CHECK_EQ(ra_file_write(m, ra_file_get(m, a), 0, 8192, 1), 0);
	ra_sleep(m, 2500);
	CHECK_EQ(ra_file_write(m, ra_file_get(m, b), 0, 4096, 1), 0);
	CHECK_EQ(ra_file_write(m, ra_file_get(m, a), 8192, 4096, 1), 0);
	CHECK_EQ(ra_file_get(m, a)->dirtied_when, 0);
	CHECK_EQ(ra_file_get(m, b)->dirtied_when, 2500);
	ra_sleep(m, 27499);                         /* 29999: nothing 30 s old at 5000 .. 25000 */
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 4);
	ra_sleep(m, 1);                             /* 30000: a */
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 1);
	CHECK_EQ(node_page_state(m, NR_WRITTEN), 3);
	CHECK_EQ(m->wb_last_flush, 30000);
	ra_sleep(m, 5000);                          /* 35000: b (2500 <= 5000) */
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 0);
	CHECK_EQ(vm_event(m, PGPGOUT), 16);
	ra_sleep(m, 1000000);                       /* nothing dirty: the passes are skipped over */
	CHECK_EQ(m->now_ms, 1035000);
	CHECK_EQ(m->wb_last_flush, 1035000);
	/* background: b dirty first, then a; 1 byte of background bytes */
	CHECK_EQ(ra_file_write(m, ra_file_get(m, b), 0, 4096, 1), 0);
	ra_sleep(m, 1);                             /* 1 page is below the ratio's threshold */
	CHECK_EQ(ra_file_write(m, ra_file_get(m, a), 0, 8192, 1), 0);
	CHECK_EQ(ra_knob_set(m, "vm.dirty_background_bytes", "8192"), RA_OK);   /* 2 pages */
	CHECK_EQ(wb_background_flush(m), 1);        /* b goes: 2 <= 2 */
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 2);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

/* balance_dirty_pages: free-run below (thresh + bg) / 2; above, a pause
 * from pos_ratio; at thresh, 200 ms. 64M with one file (its dentry and
 * inode slabs take 3 pages): thresh 3188, bg 1592, freerun 2390, setpoint
 * 2789. */
static void dirty_throttle(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t a;
	ra_file_create(m, "a", 64 << 20, false, &a);
	CHECK_EQ(ra_file_write(m, ra_file_get(m, a), 0, 2390 << 12, 1), 0);   /* at freerun: free */
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_THRESHOLD), 3188);
	CHECK_EQ(ra_stat(m, RA_STAT_NR_DIRTY_BG_THRESHOLD), 1592);
	CHECK_EQ(vm_event(m, DIRTY_THROTTLE), 0);
	/* 10 more: dirty 2400; x = 389 * 1024 / 399 = 998, pos_ratio = 1024 +
	 * (972 * 998 >> 10) = 1971, rate 25600 * 1971 / 1024 = 49275 pages/s,
	 * pause = ceil(1000 * 10 / 49275) = 1 ms */
	CHECK_EQ(ra_file_write(m, ra_file_get(m, a), 2390 << 12, 10 << 12, 1), 0);
	CHECK_EQ(vm_event(m, DIRTY_THROTTLE), 1);
	CHECK_EQ(vm_event(m, DIRTY_PAUSE_MS), 1);
	CHECK_EQ(ra_file_write(m, ra_file_get(m, a), 2400 << 12, 800 << 12, 1), 0);  /* 3200 >= thresh */
	CHECK_EQ(vm_event(m, DIRTY_PAUSE_MS), 201);
	CHECK_EQ(m->now_ms, 0);                     /* counted, not slept */
	tm_free(&t);
}

/* The superblock shrinker: do_shrink_slab's arithmetic, deferred work,
 * vfs_cache_pressure, __GFP_FS, and what super_cache_scan frees. */
static void open_close_read(ra_machine *m, struct ra_file *f)
{
	CHECK_EQ(dcache_file_open(m, f), 0);
	CHECK_EQ(ra_file_read(m, f, 0, 4096), 0);
	dcache_file_close(m, f);
}

static void shrinker(void)
{
	struct tm t;
	ra_machine *m = tm_new(&t, "64M", 1);
	uint32_t id[100];
	for (int i = 0; i < 12; i++)
		CHECK_EQ(ra_file_create(m, "f", 4096, false, &id[i]), RA_OK);
	for (int i = 0; i < 4; i++)
		open_close_read(m, ra_file_get(m, id[i]));
	struct ra_dcache *dc = &m->fm->dc;
	CHECK_EQ(dc->d.nr_lru, 12);
	CHECK_EQ(dc->i.nr_lru, 0);
	CHECK_EQ(super_cache_count(m), 12);
	/* priority 0: total_scan 24, one scan: 24 * 12 / 13 + 1 = 23
	 * dentries walked (f1..f4 rotated, then all 12 freed), 1 inode
	 * (f5's: freed); f1..f4's inodes keep their pages, off the LRU */
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_KERNEL, 0), 13);
	CHECK_EQ(vm_event(m, SLABS_SCANNED), 24);
	CHECK_EQ(dc->d.nr_lru, 0);
	CHECK_EQ(dc->i.nr_lru, 7);
	CHECK_EQ(dc->nr_deferred, 0);
	CHECK_EQ(ra_file_get(m, id[0])->dentry_id, UINT32_MAX);
	CHECK(ra_file_get(m, id[0])->inode_id != UINT32_MAX);
	CHECK_EQ(ra_file_get(m, id[4])->inode_id, UINT32_MAX);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	/* vfs_cache_pressure 1000 scales the count, not the split */
	CHECK_EQ(ra_knob_set(m, "vm.vfs_cache_pressure", "1000"), RA_OK);
	CHECK_EQ(super_cache_count(m), 70);
	/* 0: nothing to count, nothing scanned, nothing deferred */
	CHECK_EQ(ra_knob_set(m, "vm.vfs_cache_pressure", "0"), RA_OK);
	CHECK_EQ(super_cache_count(m), 0);
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_KERNEL, 0), 0);
	CHECK_EQ(vm_event(m, SLABS_SCANNED), 24);
	CHECK_EQ(ra_knob_set(m, "vm.vfs_cache_pressure", "100"), RA_OK);
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_KERNEL, 0), 7);          /* the 7 inodes */
	CHECK_EQ(vm_event(m, SLABS_SCANNED), 38);
	/* deferred work: 100 new files, 100 dentries. Priority 5: delta
	 * (100 >> 5) * 4 / 2 = 6, below the batch and the count: nothing
	 * scanned, 6 deferred; again: nr 6, total (6 >> 5) + 6 = 6, nothing scanned,
	 * min(6 + 6, 200) = 12 deferred. Without __GFP_FS the scan stops
	 * (SHRINK_STOP) and the work is deferred too: priority 4, delta
	 * (100 >> 4) * 2 = 12, total (12 >> 4) + 12 = 12: 12 + 12 = 24. Priority 0:
	 * total_scan min((24 >> 0) + 200, 200) = 200, scanned at once
	 * (>= 100): 200 * 100 / 101 + 1 = 199 dentries walked, all 100
	 * freed, 1 inode; deferred min(max(24 + 200 - 200, 0), 200) = 24. */
	for (int i = 0; i < 100; i++)
		CHECK_EQ(ra_file_create(m, "g", 4096, false, &id[i]), RA_OK);
	uint64_t scanned = vm_event(m, SLABS_SCANNED);
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_KERNEL, 5), 0);
	CHECK_EQ(dc->nr_deferred, 6);
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_KERNEL, 5), 0);
	CHECK_EQ(dc->nr_deferred, 12);
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_NOFS, 4), 0);
	CHECK_EQ(dc->nr_deferred, 24);
	CHECK_EQ(vm_event(m, SLABS_SCANNED), scanned);
	CHECK_EQ(ra_shrink_slab(m, RA_GFP_KERNEL, 0), 101);
	CHECK_EQ(vm_event(m, SLABS_SCANNED), scanned + 200);
	CHECK_EQ(dc->nr_deferred, 24);
	CHECK_EQ(dc->d.nr_lru, 0);
	CHECK_EQ(dc->i.nr_lru, 99);
	/* a lookup brings a freed dentry and inode back */
	struct ra_file *g = ra_file_get(m, id[0]);
	CHECK_EQ(g->dentry_id, UINT32_MAX);
	open_close_read(m, g);
	CHECK(g->dentry_id != UINT32_MAX && g->inode_id != UINT32_MAX);
	CHECK_EQ(dc->d.nr_lru, 1);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "shrinker", shrinker },
	{ "dirty_throttle", dirty_throttle },
	{ "flusher", flusher },
	{ "dirty_limits", dirty_limits },
	{ "readahead_windows", readahead_windows },
	{ "two_touch", two_touch },
	{ "reclaim", reclaim },
	{ "kswapd", kswapd },
};
UNIT_MAIN("filemap", tests)
