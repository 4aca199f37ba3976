/*
 * test_shmem_swap.c — tmpfs pages and swap (shmem.c, filemap.c), as
 * docs/kernel-model.md "Swap" states it: reclaim swaps tmpfs pages out
 * (the page cache keeps the entry, nr_shmem falls, pswpout rises), a read
 * brings them back byte for byte (pswpin, no fault), truncate frees their
 * slots, swapoff brings them back; and the validators count each damage
 * to a file's swap entries exactly.
 */
#include "unit.h"
#include "vmscan.h"
#include <string.h>

#define NPAGES 64

static unsigned count_lines(const char *text, const char *prefix)
{
	unsigned n = 0;
	size_t l = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += strncmp(p, prefix, l) == 0;
	return n;
}

static long problems(struct tm *t, ra_machine *m, unsigned *lines)
{
	tm_err(t);
	long n = ra_check(m, RA_CHECK_FULL);
	*lines = count_lines(tm_err(t), "BUG: refalloc: invariant: ");
	return n;
}

/* A 1 MiB disk device (255 slots) and a tmpfs file of NPAGES pages, page
 * i filled with i + 1, pushed out by direct reclaim. */
static struct ra_file *setup(struct tm *t, ra_machine **mp, uint32_t *dev)
{
	ra_machine *m = *mp = tm_new(t, "64M", 1);
	CHECK_EQ(ra_swapon(m, 1 << 20, -1, false, 0, dev), RA_OK);
	uint32_t id;
	CHECK_EQ(ra_file_create(m, "shm", NPAGES << 12, true, &id), RA_OK);
	struct ra_file *f = ra_file_get(m, id);
	for (int i = 0; i < NPAGES; i++)
		CHECK_EQ(ra_file_write(m, f, (uint64_t)i << 12, 4096, i + 1), 0);
	return f;
}

static void swap_out(ra_machine *m)
{
	for (int k = 0; k < 8; k++)
		ra_try_to_free_pages(m, RA_GFP_KERNEL, 0, ZONE_NORMAL);
}

static bool bytes_ok(ra_machine *m, struct ra_file *f)
{
	uint8_t page[4096];
	for (int i = 0; i < NPAGES; i++) {
		ra_file_peek(m, f, (uint64_t)i << 12, sizeof(page), page);
		for (size_t k = 0; k < sizeof(page); k++)
			if (page[k] != i + 1)
				return false;
	}
	return true;
}

static void out_and_back(void)
{
	struct tm t;
	ra_machine *m;
	uint32_t dev;
	struct ra_file *f = setup(&t, &m, &dev);
	CHECK_EQ(node_page_state(m, NR_SHMEM), NPAGES);
	swap_out(m);
	uint64_t out = f->swapped.n;
	CHECK(out > 0);
	/* each page swapped is one write (disk: pgpgout 4 KiB) and one page
	 * less in Shmem and in the file's cache */
	CHECK_EQ(node_page_state(m, PSWPOUT), out);
	CHECK_EQ(node_page_state(m, PGPGOUT), 4 * out);
	CHECK_EQ(node_page_state(m, NR_SHMEM), NPAGES - out);
	CHECK_EQ(f->nrpages, NPAGES - out);
	CHECK_EQ(node_page_state(m, NR_SWAPCACHE), 0);
	CHECK(bytes_ok(m, f));     /* peek reads the slots */
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* read(2) brings every page back: pswpin, pgpgin, no fault */
	CHECK_EQ(ra_file_read(m, f, 0, NPAGES << 12), 0);
	CHECK_EQ(f->swapped.n, 0);
	CHECK_EQ(node_page_state(m, PSWPIN), out);
	CHECK_EQ(node_page_state(m, PGPGIN), 4 * out);
	CHECK_EQ(node_page_state(m, PGMAJFAULT), 0);
	CHECK_EQ(node_page_state(m, NR_SHMEM), NPAGES);
	/* each page left a shadow in its slot: each swap-in is an anon
	 * refault; with no file pages and no active anon page the workingset
	 * is empty, so none is activated */
	CHECK_EQ(node_page_state(m, WORKINGSET_REFAULT_ANON), out);
	CHECK_EQ(node_page_state(m, WORKINGSET_ACTIVATE_ANON), 0);
	CHECK(bytes_ok(m, f));
	CHECK_EQ(problems(&t, m, &lines), 0);
	/* out again, then truncated: every slot the file held is free */
	swap_out(m);
	uint32_t n;
	uint64_t *keys = pcm_sorted_keys(&f->swapped, &n);
	CHECK(n > 0);
	swp_entry_t *ents = calloc(n, sizeof(*ents));
	for (uint32_t i = 0; i < n; i++)
		ents[i] = *pcm_find(&f->swapped, keys[i]);
	ra_file_truncate(m, f, 0);
	CHECK_EQ(f->swapped.n, 0);
	for (uint32_t i = 0; i < n; i++)
		CHECK_EQ(swap_count(m, ents[i]), 0);
	free(ents);
	free(keys);
	CHECK_EQ(node_page_state(m, NR_SHMEM), 0);
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

static void swapoff_brings_back(void)
{
	struct tm t;
	ra_machine *m;
	uint32_t dev;
	struct ra_file *f = setup(&t, &m, &dev);
	swap_out(m);
	uint64_t out = f->swapped.n;
	CHECK(out > 0);
	CHECK_EQ(ra_swapoff(m, dev), RA_OK);
	CHECK_EQ(f->swapped.n, 0);
	CHECK_EQ(node_page_state(m, PSWPIN), out);
	CHECK_EQ(node_page_state(m, NR_SHMEM), NPAGES);
	CHECK(bytes_ok(m, f));
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

/* Each damage, repaired before the next, counted exactly. */
static void corrupt(void)
{
	struct tm t;
	ra_machine *m;
	uint32_t dev;
	struct ra_file *f = setup(&t, &m, &dev);
	swap_out(m);
	/* the last page comes back: one resident page */
	CHECK_EQ(ra_file_read(m, f, (NPAGES - 1) << 12, 4096), 0);
	unsigned lines;
	CHECK_EQ(problems(&t, m, &lines), 0);
	uint32_t n;
	uint64_t *keys = pcm_sorted_keys(&f->swapped, &n);
	CHECK(n > 0 && f->nrpages > 0);
	uint64_t idx = keys[0], *ent = pcm_find(&f->swapped, idx);
	swp_entry_t e = *ent;
	struct ra_swap_info *si = swp_info(m, e);
	/* the slot lost the file's count, its only one: the slot (1), the
	 * device, which counts it in use (1), and the shadow entry reclaim left
	 * in it, now in a free slot (1) */
	CHECK_EQ(si->map[swp_offset(e)], 1);
	CHECK(pcm_find(&si->shadows, swp_offset(e)) != NULL);
	si->map[swp_offset(e)]--;
	CHECK_EQ(problems(&t, m, &lines), 3);
	CHECK_EQ(lines, 3);
	si->map[swp_offset(e)]++;
	/* a shadow entry in a free slot (1) */
	uint32_t freeoff = si->pages;
	CHECK_EQ(si->map[freeoff], 0);
	pcm_put(&si->shadows, freeoff, 1);
	CHECK_EQ(problems(&t, m, &lines), 1);
	pcm_del(&si->shadows, freeoff);
	/* the entry names a slot past the device: the entry (1) and the slot
	 * it held, counted with no holder (1) */
	*ent = swp_entry(si->type, si->pages + 1);
	CHECK_EQ(problems(&t, m, &lines), 2);
	*ent = e;
	/* a resident index holds the same entry too: the index (1) and the
	 * slot, with two holders and one count (1) */
	uint64_t res = NPAGES - 1;
	CHECK(filemap_get_page(f, res) != RA_NOPFN);
	pcm_put(&f->swapped, res, e);
	CHECK_EQ(problems(&t, m, &lines), 2);
	pcm_del(&f->swapped, res);
	CHECK_EQ(problems(&t, m, &lines), 0);
	free(keys);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&t);
}

static const struct unit_test tests[] = {
	{ "out_and_back", out_and_back },
	{ "swapoff_brings_back", swapoff_brings_back },
	{ "corrupt", corrupt },
};
UNIT_MAIN("shmem_swap", tests)
