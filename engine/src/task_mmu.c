/*
 * task_mmu.c — what a task's memory looks like from /proc, as the kernel's
 * fs/proc/task_mmu.c prints it (6.1): the maps line of a VMA, smaps,
 * smaps_rollup; and Android's procrank over every task.
 *
 * Per page (smaps_pte_entry, smaps_account): a present pte that maps a
 * real page (not the shared zero page) counts in Rss; a page mapped by
 * mapcount ptes adds PAGE_SIZE / mapcount to Pss (in 1/4096 units, as the
 * kernel's PSS_SHIFT 12), is Shared_* when mapcount >= 2 and Private_*
 * otherwise, and is dirty when the pte or the page is dirty. An anonymous
 * page not in the swap cache has no copy anywhere: it is always dirty (the
 * kernel's anonymous faults map ptes dirty). Referenced: the pte is young
 * or the page has PG_referenced. A swap entry counts in Swap, and in
 * SwapPss by its share: PAGE_SIZE / the slot's swap count when shared.
 * A tmpfs VMA adds the swapped pages of its file to Swap (smap_gather).
 *
 * A file VMA's line names the file: disk files are on device 08:01 as
 * /mnt/NAME, tmpfs files on 00:1a as /dev/shm/NAME, with inode number id +
 * 12 (the first free inode of a new ext4), and " (deleted)" once unlinked.
 *
 * procrank (AOSP system/extras procrank, libpagemap's arithmetic): per
 * task Vss = total_vm, Rss = the pages mapped, Pss = the sum over them of
 * PAGE_SIZE / mapcount in bytes (truncated per page), Uss = the pages
 * mapped once; largest Pss first (ties: lower pid first), then the total
 * line and procrank's RAM line from meminfo.
 */
#include "views.h"
#include <inttypes.h>

#define PSS_SHIFT 12

struct mem_size_stats {
	uint64_t resident, shared_clean, shared_dirty, private_clean, private_dirty, referenced, anonymous, swap;
	uint64_t lazyfree;
	uint64_t pss, pss_anon, pss_file, pss_shmem, pss_dirty, pss_locked, swap_pss;
};

static uint32_t mapcount_of(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	return p->owner == PO_FILE ? page_mapcount(m, pfn) : p->count;
}

/* smaps_account() for one page */
static void account_page(ra_machine *m, struct mem_size_stats *mss, uint32_t pfn, uint64_t pte, bool locked)
{
	struct ra_page *p = pfn_page(m, pfn);
	const uint64_t size = RA_PAGE_SIZE;
	bool anon = p->owner == PO_USER;
	bool shmem = !anon && m->fm->files[p->priv]->shmem;
	/* a lazily freed page (MADV_FREE) not written since is clean */
	bool lazy = anon && !(p->flags & PGF_SWAPBACKED);
	if (anon)
		mss->anonymous += size;
	if (lazy && !(pte & PTE_DIRTY) && !(p->flags & PGF_DIRTY))
		mss->lazyfree += size;
	mss->resident += size;
	if ((pte & PTE_YOUNG) || (p->flags & PGF_REFERENCED))
		mss->referenced += size;
	uint32_t mapcount = RA_MAX(mapcount_of(m, pfn), 1u);
	uint64_t pss = (size << PSS_SHIFT) / mapcount;
	bool dirty = (pte & PTE_DIRTY) || (p->flags & PGF_DIRTY) || (anon && !lazy && !(p->flags & PGF_SWAPCACHE));
	mss->pss += pss;
	if (anon)
		mss->pss_anon += pss;
	else if (shmem)
		mss->pss_shmem += pss;
	else
		mss->pss_file += pss;
	if (locked)
		mss->pss_locked += pss;
	if (dirty) {
		mss->pss_dirty += pss;
		if (mapcount >= 2)
			mss->shared_dirty += size;
		else
			mss->private_dirty += size;
	} else if (mapcount >= 2) {
		mss->shared_clean += size;
	} else {
		mss->private_clean += size;
	}
}

/* smap_gather_stats(): a tmpfs VMA counts the swapped pages of its file
 * in Swap (not SwapPss), all of its range at once when it is shared or
 * read-only (shmem_swap_usage); a private writable one, whose COW copies
 * stand in front of the file, counts them only where its walk finds no
 * page table (smaps_pte_hole), as 6.1 does. */
static void smap_gather(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v, struct mem_size_stats *mss)
{
	bool locked = v->flags & VM_LOCKED;
	const struct ra_file *sf = v->file ? filemap_file(m, v->file - 1) : NULL;
	bool holes = false;
	if (sf && sf->shmem && sf->swapped.n) {
		if ((v->flags & VM_SHARED) || !(v->flags & VM_WRITE))
			mss->swap += shmem_swap_usage(sf, v->pgoff, v->pgoff + ((v->end - v->start) >> RA_PAGE_SHIFT))
			             << RA_PAGE_SHIFT;
		else
			holes = true;
	}
	for (uint64_t va = v->start; va < v->end; va += RA_PAGE_SIZE) {
		uint64_t *pte = mm_pte_lookup(mm, va);
		if (!pte) {
			uint64_t next = RA_MIN((va | ((1ULL << 21) - 1)) + 1, v->end);
			if (holes)
				mss->swap += shmem_swap_usage(sf, v->pgoff + ((va - v->start) >> RA_PAGE_SHIFT),
				                              v->pgoff + ((next - v->start) >> RA_PAGE_SHIFT)) << RA_PAGE_SHIFT;
			va = next - RA_PAGE_SIZE;
			continue;
		}
		uint64_t e = *pte;
		if (e & PTE_SWAP) {
			/* smaps_pte_entry(): a swap entry's share by swp_swapcount() */
			unsigned n = swap_count(m, pte_swp(e));
			mss->swap += RA_PAGE_SIZE;
			mss->swap_pss += n >= 2 ? ((uint64_t)RA_PAGE_SIZE << PSS_SHIFT) / n
			                        : (uint64_t)RA_PAGE_SIZE << PSS_SHIFT;
			continue;
		}
		if (!(e & PTE_PRESENT))
			continue;
		if (!(e & PTE_ZERO))
			account_page(m, mss, PTE_PFN(e), e, locked);
	}
}

/* show_map_vma(): the maps line, padded so that a name starts in column 74. */
void ra_show_map_vma(ra_machine *m, struct ra_mm *mm, const struct ra_vma *v)
{
	char line[160];
	const char *name = NULL;
	char path[96];
	unsigned major = 0, minor = 0;
	uint64_t ino = 0, off = 0;
	if (v->file) {
		struct ra_file *f = filemap_file(m, v->file - 1);
		major = f->shmem ? 0 : 8;
		minor = f->shmem ? 0x1a : 1;
		ino = f->id + 12;
		off = v->pgoff << RA_PAGE_SHIFT;
		snprintf(path, sizeof(path), "%s%s%s", f->shmem ? "/dev/shm/" : "/mnt/", f->name,
		         f->unlinked ? " (deleted)" : "");
		name = path;
	} else if (v->flags & VM_GROWSDOWN) {
		name = "[stack]";
	} else if (v->start <= mm->brk && v->end >= mm->start_brk) {
		name = "[heap]";
	}
	int n = snprintf(line, sizeof(line), "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
	                 v->start, v->end, v->flags & VM_READ ? 'r' : '-', v->flags & VM_WRITE ? 'w' : '-',
	                 v->flags & VM_EXEC ? 'x' : '-', v->flags & VM_SHARED ? 's' : 'p', off, major, minor, ino);
	if (name)
		fprintf(m->out, "%-73s%s\n", line, name);
	else
		fprintf(m->out, "%.*s\n", n, line);
}

static void put_dec(FILE *f, const char *label, uint64_t bytes)
{
	fprintf(f, "%s%8" PRIu64 " kB\n", label, bytes >> 10);
}

/* __show_smap() */
static void show_smap_fields(FILE *f, const struct mem_size_stats *mss, bool rollup)
{
	put_dec(f, "Rss:            ", mss->resident);
	put_dec(f, "Pss:            ", mss->pss >> PSS_SHIFT);
	put_dec(f, "Pss_Dirty:      ", mss->pss_dirty >> PSS_SHIFT);
	if (rollup) {
		put_dec(f, "Pss_Anon:       ", mss->pss_anon >> PSS_SHIFT);
		put_dec(f, "Pss_File:       ", mss->pss_file >> PSS_SHIFT);
		put_dec(f, "Pss_Shmem:      ", mss->pss_shmem >> PSS_SHIFT);
	}
	put_dec(f, "Shared_Clean:   ", mss->shared_clean);
	put_dec(f, "Shared_Dirty:   ", mss->shared_dirty);
	put_dec(f, "Private_Clean:  ", mss->private_clean);
	put_dec(f, "Private_Dirty:  ", mss->private_dirty);
	put_dec(f, "Referenced:     ", mss->referenced);
	put_dec(f, "Anonymous:      ", mss->anonymous);
	put_dec(f, "LazyFree:       ", mss->lazyfree);
	put_dec(f, "AnonHugePages:  ", 0);
	put_dec(f, "ShmemPmdMapped: ", 0);
	put_dec(f, "FilePmdMapped:  ", 0);
	put_dec(f, "Shared_Hugetlb: ", 0);
	fprintf(f, "Private_Hugetlb: %7d kB\n", 0);
	put_dec(f, "Swap:           ", mss->swap);
	put_dec(f, "SwapPss:        ", mss->swap_pss >> PSS_SHIFT);
	put_dec(f, "Locked:         ", mss->pss_locked >> PSS_SHIFT);
}

/* hugepage_vma_check() for smaps with THP "always": an anonymous VMA that
 * holds an aligned 2 MiB range; file and tmpfs VMAs never (no
 * READ_ONLY_THP_FOR_FS, shmem_enabled never). */
static int thp_eligible(const struct ra_vma *v)
{
	if (v->file || !(v->flags & (VM_READ | VM_WRITE)))
		return 0;
	uint64_t haddr = RA_ALIGN(v->start, 1ULL << 21);
	return haddr + (1ULL << 21) <= v->end;
}

/* show_smap_vma_flags(), for the flags the model keeps: every VMA may be
 * read, written and executed (mr mw me), a shared one shared (ms), and all
 * are soft-dirty when new (sd). */
static void show_vma_flags(FILE *f, const struct ra_vma *v)
{
	fputs("VmFlags:", f);
	static const struct { uint32_t flag; const char *name; } fl[] = {
		{ VM_READ, "rd" }, { VM_WRITE, "wr" }, { VM_EXEC, "ex" }, { VM_SHARED, "sh" },
	};
	for (size_t i = 0; i < RA_ARRAY_SIZE(fl); i++)
		if (v->flags & fl[i].flag)
			fprintf(f, " %s", fl[i].name);
	fputs(" mr mw me", f);
	if (v->flags & VM_SHARED)
		fputs(" ms", f);
	if (v->flags & VM_GROWSDOWN)
		fputs(" gd", f);
	if (v->flags & VM_LOCKED)
		fputs(" lo", f);
	if (v->flags & VM_ACCOUNT)
		fputs(" ac", f);
	if (v->flags & VM_NORESERVE)
		fputs(" nr", f);
	fputs(" sd\n", f);
}

void ra_view_smaps(ra_machine *m, struct ra_task *t)
{
	struct ra_mm *mm = t->mm;
	if (!mm)
		return;
	FILE *f = m->out;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		const struct ra_vma *v = &mm->vma[i];
		struct mem_size_stats mss = { 0 };
		smap_gather(m, mm, v, &mss);
		ra_show_map_vma(m, mm, v);
		put_dec(f, "Size:           ", v->end - v->start);
		put_dec(f, "KernelPageSize: ", RA_PAGE_SIZE);
		put_dec(f, "MMUPageSize:    ", RA_PAGE_SIZE);
		show_smap_fields(f, &mss, false);
		fprintf(f, "THPeligible:    %d\n", thp_eligible(v));
		show_vma_flags(f, v);
	}
}

void ra_view_smaps_rollup(ra_machine *m, struct ra_task *t)
{
	struct ra_mm *mm = t->mm;
	if (!mm || !mm->nr_vma)
		return;
	struct mem_size_stats mss = { 0 };
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		smap_gather(m, mm, &mm->vma[i], &mss);
	char line[160];
	snprintf(line, sizeof(line), "%08" PRIx64 "-%08" PRIx64 " ---p %08x %02x:%02x %lu ", mm->vma[0].start,
	         mm->vma[mm->nr_vma - 1].end, 0, 0, 0, 0UL);
	fprintf(m->out, "%-73s[rollup]\n", line);
	show_smap_fields(m->out, &mss, true);
}

/* === procrank =========================================================== */

struct proc_usage { uint32_t pid; const char *comm; uint64_t vss, rss, pss, uss; };

static void proc_usage(ra_machine *m, struct ra_task *t, struct proc_usage *u)
{
	struct ra_mm *mm = t->mm;
	memset(u, 0, sizeof(*u));
	u->pid = t->pid;
	u->comm = t->comm;
	u->vss = mm->total_vm << RA_PAGE_SHIFT;
	for (uint32_t i = 0; i < mm->nr_vma; i++) {
		const struct ra_vma *v = &mm->vma[i];
		for (uint64_t va = v->start; va < v->end; va += RA_PAGE_SIZE) {
			uint64_t *pte = mm_pte_lookup(mm, va);
			if (!pte) {
				va = (va | ((1ULL << 21) - 1)) + 1 - RA_PAGE_SIZE;
				continue;
			}
			if (!(*pte & PTE_PRESENT) || (*pte & PTE_ZERO))
				continue;
			uint32_t count = RA_MAX(mapcount_of(m, PTE_PFN(*pte)), 1u);
			u->rss += RA_PAGE_SIZE;
			u->pss += RA_PAGE_SIZE / count;
			if (count == 1)
				u->uss += RA_PAGE_SIZE;
		}
	}
}

static int cmp_pss(const void *a, const void *b)
{
	const struct proc_usage *x = a, *y = b;
	if (x->pss != y->pss)
		return x->pss > y->pss ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void ra_view_procrank(ra_machine *m)
{
	FILE *f = m->out;
	struct ra_mm_world *w = m->mmw;
	uint32_t n = 0;
	struct proc_usage *u = calloc(w ? w->nr_tasks + 1 : 1, sizeof(*u));
	RA_BUG_ON(m, !u);
	for (uint32_t i = 0; w && i < w->nr_tasks; i++) {
		struct ra_task *t = w->tasks[i];
		if (!ra_task_alive(t) || !t->mm)
			continue;
		proc_usage(m, t, &u[n]);
		if (u[n].vss)
			n++;
	}
	qsort(u, n, sizeof(*u), cmp_pss);
	fprintf(f, "%5s  %8s  %7s  %7s  %7s  cmdline\n", "PID", "Vss", "Rss", "Pss", "Uss");
	uint64_t total_pss = 0, total_uss = 0;
	for (uint32_t i = 0; i < n; i++) {
		total_pss += u[i].pss;
		total_uss += u[i].uss;
		fprintf(f, "%5u  %7" PRIu64 "K  %6" PRIu64 "K  %6" PRIu64 "K  %6" PRIu64 "K  %s\n", u[i].pid, u[i].vss / 1024,
		        u[i].rss / 1024, u[i].pss / 1024, u[i].uss / 1024, u[i].comm);
	}
	free(u);
	fprintf(f, "%5s  %8s  %7s  %7s  %7s  %s\n", "", "", "", "------", "------", "------");
	fprintf(f, "%5s  %8s  %7s  %6" PRIu64 "K  %6" PRIu64 "K  TOTAL\n", "", "", "", total_pss / 1024, total_uss / 1024);
	fputc('\n', f);
	struct ra_meminfo mi;
	ra_meminfo_compute(m, &mi);
	fprintf(f, " RAM: %" PRIu64 "K total, %" PRIu64 "K free, %" PRIu64 "K buffers, %" PRIu64 "K cached, %" PRIu64
	        "K shmem, %" PRIu64 "K slab\n", K(mi.total), K(mi.free), (uint64_t)0, K(mi.file), K(mi.shmem),
	        K(mi.slab_rcl + mi.slab_unrcl));
}
