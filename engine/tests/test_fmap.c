/*
 * test_fmap.c — file mappings: the faults' exact effects, and the
 * validators of page-cache <-> mapping accounting, corrupted on purpose
 * (test_corrupt.c's pattern: damage one thing, assert the exact number of
 * problems the full check counts, repair, assert 0).
 *
 * Layout: mem=64M, 1 cpu; a 64K file written and synced (16 clean cached
 * pages), mapped shared at s and private at p by one task.
 */
#include "unit.h"

static long problems(struct tm *t, ra_machine *m)
{
	tm_err(t);
	return ra_check(m, RA_CHECK_FULL);
}

struct fx { struct tm t; ra_machine *m; struct ra_task *task; struct ra_file *f; uint32_t id; uint64_t s, p; };

static void setup(struct fx *x)
{
	x->m = tm_new(&x->t, "64M", 1);
	CHECK_EQ(ra_file_create(x->m, "data", 64 << 10, false, &x->id), RA_OK);
	x->f = ra_file_get(x->m, x->id);
	CHECK_EQ(ra_file_write(x->m, x->f, 0, 64 << 10, 0x41), 0);
	CHECK_EQ(ra_file_fsync(x->m, x->f), 16);
	x->task = ra_task_create(x->m, "t", 0);
	CHECK(x->task != NULL);
	ra_set_current(x->m, x->task, 0);
	x->s = ra_mmap_file(x->m, x->task, 64 << 10, 3, 0, x->id, 0, true);
	x->p = ra_mmap_file(x->m, x->task, 64 << 10, 1, 0, x->id, 0, false);
	CHECK(x->s && x->p);
}

static uint32_t cached(struct fx *x, uint64_t index) { return (uint32_t)*pcm_find(&x->f->cache, index); }

/* The faults: fault-around maps the window without I/O; a shared write
 * dirties; msync cleans and write-protects; nr_mapped counts pages. */
static void faults(void)
{
	struct fx x;
	setup(&x);
	ra_machine *m = x.m;
	uint64_t f0 = vm_event(m, PGFAULT);
	uint8_t b;
	CHECK_EQ(ra_uaccess(m, x.task, x.p, 1, false, &b), 0);
	CHECK_EQ(b, 0x41);
	CHECK_EQ(vm_event(m, PGFAULT), f0 + 1);
	CHECK_EQ(vm_event(m, PGMAJFAULT), 0);
	CHECK_EQ(node_page_state(m, NR_FILE_MAPPED), 16);
	CHECK_EQ(x.task->mm->rss_file, 16);
	b = 0x42;
	CHECK_EQ(ra_uaccess(m, x.task, x.s + 4096, 1, true, &b), 0);
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 1);
	CHECK_EQ(page_mapcount(m, cached(&x, 1)), 2);
	CHECK_EQ(ra_msync(m, x.task, x.s, 64 << 10), 0);
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 0);
	uint64_t *pte = mm_pte_lookup(x.task->mm, x.s + 4096);
	CHECK(pte && !(*pte & (PTE_WRITE | PTE_DIRTY)));
	CHECK_EQ(ra_uaccess(m, x.task, x.s + 4096, 1, true, &b), 0);   /* faults again, dirties again */
	CHECK_EQ(node_page_state(m, NR_FILE_DIRTY), 1);
	CHECK_EQ(problems(&x.t, m), 0);
	CHECK_EQ(ra_munmap(m, x.task, x.s, 64 << 10), 0);
	CHECK_EQ(ra_munmap(m, x.task, x.p, 64 << 10), 0);
	CHECK_EQ(node_page_state(m, NR_FILE_MAPPED), 0);
	CHECK_EQ(x.f->nr_mmaps, 0);
	CHECK_EQ(problems(&x.t, m), 0);
	tm_free(&x.t);
}

static void corrupt_mapcounts(void)
{
	struct fx x;
	setup(&x);
	ra_machine *m = x.m;
	uint8_t b;
	CHECK_EQ(ra_uaccess(m, x.task, x.p, 1, false, &b), 0);    /* 16 pages mapped by p */
	CHECK_EQ(ra_uaccess(m, x.task, x.s, 1, true, &b), 0);     /* page 0 by s too */
	CHECK_EQ(problems(&x.t, m), 0);
	uint32_t p0 = cached(&x, 0), p1 = cached(&x, 1);
	/* one mapcount too many: that page's count (1) */
	m->fm->mapcount[p1]++;
	CHECK_EQ(problems(&x.t, m), 1);
	m->fm->mapcount[p1]--;
	/* nr_mapped one over: the count of mapped pages (1) */
	m->vm_stat[RA_STAT_NR_FILE_MAPPED]++;
	CHECK_EQ(problems(&x.t, m), 1);
	m->vm_stat[RA_STAT_NR_FILE_MAPPED]--;
	/* the task's file rss one over (1) */
	x.task->mm->rss_file++;
	CHECK_EQ(problems(&x.t, m), 1);
	x.task->mm->rss_file--;
	/* p's pte of page 0 pointed at page 1: it maps what its vma does not
	 * map there (1), page 1 has one pte more than its mapcount (1) and
	 * page 0 one less (1) */
	uint64_t *pte = mm_pte_lookup(x.task->mm, x.p);
	uint64_t old = *pte;
	*pte = (old & 0xfff) | ((uint64_t)p1 << 12);
	CHECK_EQ(problems(&x.t, m), 3);
	*pte = old;
	CHECK_EQ(PTE_PFN(old), p0);
	/* a page-cache page mapped writable by the private mapping (1) */
	*pte |= PTE_WRITE;
	CHECK_EQ(problems(&x.t, m), 1);
	*pte = old;
	/* a mapcount on a frame that is no page-cache page (1) */
	uint32_t stack = ra_user_pfn(x.task, USER_STACK_TOP - RA_PAGE_SIZE);
	CHECK(stack != RA_NOPFN);
	m->fm->mapcount[stack] = 1;
	CHECK_EQ(problems(&x.t, m), 1);
	m->fm->mapcount[stack] = 0;
	CHECK_EQ(problems(&x.t, m), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&x.t);
}

static void corrupt_files(void)
{
	struct fx x;
	setup(&x);
	ra_machine *m = x.m;
	CHECK_EQ(problems(&x.t, m), 0);
	/* the file's mapping count one over (1) */
	x.f->nr_mmaps++;
	CHECK_EQ(problems(&x.t, m), 1);
	x.f->nr_mmaps--;
	/* a shadow entry in a slot that holds a page (1): the chunk holds
	 * pages, so it is no shadow node */
	pcm_put(&x.f->shadows, 3, 1);
	CHECK_EQ(problems(&x.t, m), 1);
	pcm_del(&x.f->shadows, 3);
	/* a shadow past the end of the file (1), alone in its 64-slot chunk:
	 * a shadow node workingset_nodes does not count (1) */
	pcm_put(&x.f->shadows, 100, 1);
	CHECK_EQ(problems(&x.t, m), 2);
	pcm_del(&x.f->shadows, 100);
	/* workingset_nodes one over (1) */
	m->vm_stat[RA_STAT_WORKINGSET_NODES]++;
	CHECK_EQ(problems(&x.t, m), 1);
	m->vm_stat[RA_STAT_WORKINGSET_NODES]--;
	/* an unlinked file nothing maps any more (1) */
	CHECK_EQ(ra_munmap(m, x.task, x.s, 64 << 10), 0);
	CHECK_EQ(ra_munmap(m, x.task, x.p, 64 << 10), 0);
	x.f->unlinked = true;
	CHECK_EQ(problems(&x.t, m), 1);
	x.f->unlinked = false;
	CHECK_EQ(problems(&x.t, m), 0);
	CHECK_EQ(ra_reports(m), 0);
	tm_free(&x.t);
}

/* An evicted page leaves a shadow; its refault within the workingset is
 * activated; truncation drops shadows and workingset_nodes follows. */
static void shadows(void)
{
	struct fx x;
	setup(&x);
	ra_machine *m = x.m;
	uint32_t p5 = cached(&x, 5);
	filemap_evict_page(m, p5);
	CHECK(pcm_find(&x.f->shadows, 5) != NULL);
	CHECK_EQ(m->fm->nonresident_age, 1);
	CHECK_EQ(node_page_state(m, WORKINGSET_NODES), 0);   /* chunk 0 still holds pages */
	CHECK_EQ(problems(&x.t, m), 0);
	/* the refault: distance 1 - 0 = 1 > 0 active pages: inactive */
	CHECK_EQ(ra_file_read(m, x.f, 5 << 12, 1), 0);
	CHECK_EQ(node_page_state(m, WORKINGSET_REFAULT_FILE), 1);
	CHECK_EQ(node_page_state(m, WORKINGSET_ACTIVATE_FILE), 0);
	CHECK(pcm_find(&x.f->shadows, 5) == NULL);
	/* with one active page, a refault at distance 1 is activated and a
	 * PG_workingset shadow restores */
	uint32_t p9 = cached(&x, 9);
	CHECK_EQ(ra_file_read(m, x.f, 0, 1), 0);
	CHECK_EQ(ra_file_read(m, x.f, 0, 1), 0);
	CHECK_EQ(ra_file_read(m, x.f, 4096, 1), 0);
	CHECK_EQ(ra_file_read(m, x.f, 0, 1), 0);    /* page 0: second touch, activated: the clock ages */
	CHECK_EQ(node_page_state(m, NR_ACTIVE_FILE), 1);
	uint64_t age = m->fm->nonresident_age;
	pfn_page(m, p9)->flags |= PGF_WORKINGSET;
	filemap_evict_page(m, p9);
	CHECK_EQ(m->fm->nonresident_age, age + 1);
	CHECK_EQ(ra_file_read(m, x.f, 9 << 12, 1), 0);
	CHECK_EQ(node_page_state(m, WORKINGSET_ACTIVATE_FILE), 1);
	CHECK_EQ(node_page_state(m, WORKINGSET_RESTORE_FILE), 1);
	CHECK(pfn_page(m, cached(&x, 9))->flags & PGF_ACTIVE);
	/* all 16 pages evicted: chunk 0 holds only shadows (1 node); a
	 * truncation to 8K drops 14 of them (still 1 node), to 0 the rest */
	for (uint64_t i = 0; i < 16; i++)
		filemap_evict_page(m, cached(&x, i));
	CHECK_EQ(node_page_state(m, WORKINGSET_NODES), 1);
	CHECK_EQ(problems(&x.t, m), 0);
	ra_file_truncate(m, x.f, 8 << 10);
	CHECK_EQ(x.f->shadows.n, 2);
	CHECK_EQ(node_page_state(m, WORKINGSET_NODES), 1);
	/* a node's last shadow refaulting: the chunk then holds a page */
	ra_file_truncate(m, x.f, 4 << 10);
	CHECK_EQ(x.f->shadows.n, 1);
	CHECK_EQ(node_page_state(m, WORKINGSET_NODES), 1);
	CHECK_EQ(ra_file_read(m, x.f, 0, 1), 0);
	CHECK_EQ(x.f->shadows.n, 0);
	CHECK_EQ(node_page_state(m, WORKINGSET_NODES), 0);
	CHECK_EQ(problems(&x.t, m), 0);
	ra_file_truncate(m, x.f, 0);
	CHECK_EQ(node_page_state(m, WORKINGSET_NODES), 0);
	CHECK_EQ(problems(&x.t, m), 0);
	tm_free(&x.t);
}

static const struct unit_test tests[] = {
	{ "faults", faults },
	{ "corrupt_mapcounts", corrupt_mapcounts },
	{ "corrupt_files", corrupt_files },
	{ "shadows", shadows },
};
UNIT_MAIN("fmap", tests)
