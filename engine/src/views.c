/*
 * views.c — the kernel's /proc and debugfs views, in the kernel's own
 * formats: buddyinfo, pagetypeinfo, zoneinfo, slabinfo 2.1, vmallocinfo,
 * meminfo, extfrag_index, unusable_index, and a slabtop-like summary.
 * Per-task views (status, maps, ...) belong to the user side (mm.c).
 * Views read the machine and change nothing.
 */
#include "views.h"
#include "oom.h"
#include "umalloc.h"
#include <inttypes.h>

static const char *const mt_names[MT_NR] = { "Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate" };

#define OUT m->out

/* === buddyinfo, pagetypeinfo ============================================ */

static void view_buddyinfo(ra_machine *m)
{
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		fprintf(OUT, "Node %d, zone %8s ", 0, z->name);
		for (int o = 0; o < RA_NR_ORDERS; o++)
			fprintf(OUT, "%6" PRIu64 " ", z->area[o].nr_free);
		fputc('\n', OUT);
	}
}

static void view_pagetypeinfo(ra_machine *m)
{
	fprintf(OUT, "Page block order: %d\n", RA_PAGEBLOCK_ORDER);
	fprintf(OUT, "Pages per block:  %u\n", RA_PAGEBLOCK_PAGES);
	fputc('\n', OUT);
	fprintf(OUT, "%-43s ", "Free pages count per migrate type at order");
	for (int o = 0; o < RA_NR_ORDERS; o++)
		fprintf(OUT, "%6d ", o);
	fputc('\n', OUT);
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		for (int t = 0; t < MT_NR; t++) {
			fprintf(OUT, "Node %4d, zone %8s, type %12s ", 0, z->name, mt_names[t]);
			/* pagetypeinfo_showfree_print() stops counting a list at
			 * 100000 entries and prints ">100000" */
			for (int o = 0; o < RA_NR_ORDERS; o++) {
				uint64_t n = z->area[o].nr_type[t];
				fprintf(OUT, "%s%6" PRIu64 " ", n >= 100000 ? ">" : "", n >= 100000 ? (uint64_t)100000 : n);
			}
			fputc('\n', OUT);
		}
	}
	fprintf(OUT, "\n%-23s", "Number of blocks type ");
	for (int t = 0; t < MT_NR; t++)
		fprintf(OUT, "%12s ", mt_names[t]);
	fputc('\n', OUT);
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		uint64_t count[MT_NR] = { 0 };
		for (uint32_t pfn = z->start_pfn; pfn < z->end_pfn; pfn += RA_PAGEBLOCK_PAGES)
			count[pageblock_mt(m, pfn)]++;
		fprintf(OUT, "Node %d, zone %8s ", 0, z->name);
		for (int t = 0; t < MT_NR; t++)
			fprintf(OUT, "%12" PRIu64 " ", count[t]);
		fputc('\n', OUT);
	}
}

/* === zoneinfo =========================================================== */

static void view_zoneinfo(ra_machine *m)
{
	for (int zi = 0; zi < RA_NR_ZONES; zi++) {
		struct ra_zone *z = &m->zones[zi];
		bool pop = zi < RA_NR_REAL_ZONES && m->populated[zi];
		fprintf(OUT, "Node %d, zone %8s", 0, z->name);
		fprintf(OUT, "\n  pages free     %" PRIu64 "\n        boost    %" PRIu64 "\n        min      %" PRIu64
		        "\n        low      %" PRIu64
		        "\n        high     %" PRIu64 "\n        spanned  %" PRIu64 "\n        present  %" PRIu64
		        "\n        managed  %" PRIu64 "\n        cma      %" PRIu64,
		        z->vm_stat[RA_STAT_NR_FREE_PAGES], z->watermark_boost, wmark_pages(z, 0), wmark_pages(z, 1),
		        wmark_pages(z, 2),
		        pop ? (uint64_t)(z->end_pfn - z->start_pfn) : 0, z->present, z->managed, z->cma_pages);
		fprintf(OUT, "\n        protection: (%" PRIu64, z->lowmem_reserve[0]);
		for (int j = 1; j < RA_NR_ZONES; j++)
			fprintf(OUT, ", %" PRIu64, z->lowmem_reserve[j]);
		fputc(')', OUT);
		if (!pop) {
			fputc('\n', OUT);
			continue;
		}
		/* zoneinfo_show_print(): every zone_stat_item, in its order; the
		 * engine has the ones stats.h lists as zone items */
		for (int i = 0; i < RA_NR_STATS; i++) {
			struct ra_stat_value v = { 0, 0 };
			if (ra_stat_kind((enum ra_stat_item)i) != RA_SK_ZONE)
				continue;
			ra_stat_read(m, (enum ra_stat_item)i, zi, &v);
			fprintf(OUT, "\n      %-12s %" PRIu64, ra_stat_name((enum ra_stat_item)i), v.value);
		}
		fprintf(OUT, "\n  pagesets");
		for (unsigned c = 0; c < m->ncpus; c++)
			fprintf(OUT, "\n    cpu: %u\n              count: %u\n              high:  %u"
			        "\n              batch: %u", c, z->pcp[c].count, z->pcp[c].high, z->pcp[c].batch);
		fprintf(OUT, "\n  node_unreclaimable:  %u\n  start_pfn:           %u\n", 0, z->start_pfn);
	}
}

/* === slabinfo, slabtop ================================================== */

struct slabinfo { uint64_t active_objs, num_objs, num_slabs; };

static void get_slabinfo(ra_machine *m, struct ra_cache *s, struct slabinfo *si)
{
	/* SLUB: objects free on the node partial lists are not active;
	 * free objects of cpu slabs count as active. */
	uint64_t nr_free = 0;
	for (uint32_t id = s->partial.head; id != RA_NOSLAB; id = slab_of(m, id)->next)
		nr_free += slab_of(m, id)->objects - slab_of(m, id)->inuse;
	si->num_objs = s->total_objects;
	si->active_objs = s->total_objects - nr_free;
	si->num_slabs = s->nr_slabs;
}

static bool listed(const struct ra_cache *s) { return s && !s->merged_into_valid; }

static void view_slabinfo(ra_machine *m)
{
	fputs("slabinfo - version: 2.1\n", OUT);
	fputs("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
	      " : tunables <limit> <batchcount> <sharedfactor>"
	      " : slabdata <active_slabs> <num_slabs> <sharedavail>\n", OUT);
	for (uint32_t i = m->nr_caches; i-- > 0;) {
		struct ra_cache *s = m->caches[i];
		if (!listed(s))
			continue;
		struct slabinfo si;
		get_slabinfo(m, s, &si);
		fprintf(OUT, "%-17s %6" PRIu64 " %6" PRIu64 " %6u %4u %4d", s->name, si.active_objs, si.num_objs,
		        s->size, s->oo_objects, 1 << s->order);
		fprintf(OUT, " : tunables %4u %4u %4u", 0, 0, 0);
		fprintf(OUT, " : slabdata %6" PRIu64 " %6" PRIu64 " %6lu\n", si.num_slabs, si.num_slabs, 0UL);
	}
}

static int cmp_slabtop(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;   /* [size, index] */
	if (x[0] != y[0])
		return x[0] < y[0] ? 1 : -1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* slabtop -o -s c: sorted by cache size, largest first. */
static void view_slabtop(ra_machine *m)
{
	uint64_t (*rows)[2] = calloc(m->nr_caches + 1, sizeof(*rows));
	RA_BUG_ON(m, !rows);
	uint32_t n = 0, caches = 0, active_caches = 0;
	uint64_t objs = 0, aobjs = 0, slabs = 0, size = 0, asize = 0, minsz = UINT64_MAX, maxsz = 0, sumsz = 0;
	for (uint32_t i = 0; i < m->nr_caches; i++) {
		struct ra_cache *s = m->caches[i];
		if (!listed(s))
			continue;
		struct slabinfo si;
		get_slabinfo(m, s, &si);
		caches++;
		active_caches += si.active_objs > 0;
		objs += si.num_objs;
		aobjs += si.active_objs;
		slabs += si.num_slabs;
		size += si.num_objs * s->size;
		asize += si.active_objs * s->size;
		minsz = RA_MIN(minsz, (uint64_t)s->size);
		maxsz = RA_MAX(maxsz, (uint64_t)s->size);
		sumsz += s->size;
		rows[n][0] = (si.num_slabs << s->order) * RA_PAGE_SIZE;
		rows[n][1] = i;
		n++;
	}
	qsort(rows, n, sizeof(*rows), cmp_slabtop);
	fprintf(OUT, " Active / Total Objects (%% used)    : %" PRIu64 " / %" PRIu64 " (%.1f%%)\n", aobjs, objs,
	        objs ? 100.0 * (double)aobjs / (double)objs : 0.0);
	fprintf(OUT, " Active / Total Slabs (%% used)      : %" PRIu64 " / %" PRIu64 " (%.1f%%)\n", slabs, slabs,
	        slabs ? 100.0 : 0.0);
	fprintf(OUT, " Active / Total Caches (%% used)     : %u / %u (%.1f%%)\n", active_caches, caches,
	        caches ? 100.0 * active_caches / caches : 0.0);
	fprintf(OUT, " Active / Total Size (%% used)       : %.2fK / %.2fK (%.1f%%)\n", (double)asize / 1024.0,
	        (double)size / 1024.0, size ? 100.0 * (double)asize / (double)size : 0.0);
	fprintf(OUT, " Minimum / Average / Maximum Object : %.2fK / %.2fK / %.2fK\n\n",
	        caches ? (double)minsz / 1024.0 : 0.0, caches ? (double)sumsz / caches / 1024.0 : 0.0,
	        (double)maxsz / 1024.0);
	fprintf(OUT, "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME\n");
	for (uint32_t k = 0; k < n; k++) {
		struct ra_cache *s = m->caches[rows[k][1]];
		struct slabinfo si;
		get_slabinfo(m, s, &si);
		fprintf(OUT, "%6" PRIu64 " %6" PRIu64 " %3u%% %7.2fK %6" PRIu64 " %8u %9" PRIu64 "K %-23s\n",
		        si.num_objs, si.active_objs, si.num_objs ? (unsigned)(si.active_objs * 100 / si.num_objs) : 0,
		        s->size / 1024.0, si.num_slabs, s->oo_objects, rows[k][0] / 1024, s->name);
	}
	free(rows);
}

/* === vmallocinfo ======================================================== */

static void view_vmallocinfo(ra_machine *m)
{
	for (uint32_t i = 0; i < m->nr_vmareas; i++) {
		struct ra_vmarea *a = m->vmareas[i];
		fprintf(OUT, "0x%016" PRIx64 "-0x%016" PRIx64 " %7" PRIu64, a->addr, a->addr + a->size, a->size);
		if (a->site_line)
			fprintf(OUT, " %s:%u", ra_site_file(m, a->site_file), a->site_line);
		if (a->nr_pages)
			fprintf(OUT, " pages=%u", a->nr_pages);
		if (a->phys)
			fprintf(OUT, " phys=0x%016" PRIx64, a->phys);
		fputs(a->ioremap ? " ioremap" : " vmalloc", OUT);
		if (a->array_vmalloced)
			fputs(" vpages", OUT);
		fputc('\n', OUT);
	}
}

/* === meminfo ============================================================ */

/* The user side's part of meminfo. */
static void mm_meminfo(ra_machine *m, struct ra_meminfo *mi)
{
	struct ra_mm_world *w = m->mmw;
	if (!w)
		return;
	mi->committed_as = w->committed_as;
	mi->kernel_stack = node_page_state(m, NR_KERNEL_STACK);    /* kB */
	mi->mlocked = ra_stat(m, RA_STAT_NR_MLOCK);
}

void ra_meminfo_compute(ra_machine *m, struct ra_meminfo *mi)
{
	memset(mi, 0, sizeof(*mi));
	uint64_t wmark_low = 0;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		struct ra_zone *z = &m->zones[zi];
		mi->free += z->vm_stat[RA_STAT_NR_FREE_PAGES];
		mi->cma_free += z->vm_stat[RA_STAT_NR_FREE_CMA];
		mi->cma_total += z->cma_pages;
		wmark_low += wmark_pages(z, 1);
	}
	mi->total = m->totalram;
	mi->slab_rcl = node_page_state(m, NR_SLAB_RECLAIMABLE);
	mi->slab_unrcl = node_page_state(m, NR_SLAB_UNRECLAIMABLE) + node_page_state(m, KMALLOC_LARGE_PAGES);
	mi->vmalloc = m->vmalloc_used_pages;
	mi->pagetables = node_page_state(m, NR_PAGE_TABLE_PAGES);
	mi->anon = node_page_state(m, NR_ANON_PAGES);
	mi->balloon = node_page_state(m, BALLOON_PAGES);
	mi->pcp = node_page_state(m, PCP_PAGES);
	mi->other_kernel = node_page_state(m, PAGES_ALLOC_PAGES);
	mi->file = node_page_state(m, NR_FILE_PAGES);
	mi->active_file = node_page_state(m, NR_ACTIVE_FILE);
	mi->inactive_file = node_page_state(m, NR_INACTIVE_FILE);
	mi->dirty = node_page_state(m, NR_FILE_DIRTY);
	mi->writeback = node_page_state(m, NR_WRITEBACK);
	mi->shmem = node_page_state(m, NR_SHMEM);
	mi->active_anon = node_page_state(m, NR_ACTIVE_ANON);
	mi->inactive_anon = node_page_state(m, NR_INACTIVE_ANON);
	mi->unevictable = node_page_state(m, NR_UNEVICTABLE);
	/* Cached = NR_FILE_PAGES - SwapCached - Buffers */
	mi->swapcached = node_page_state(m, NR_SWAPCACHE);
	mi->file -= mi->swapcached;
	if (m->swp) {     /* si_swapinfo() */
		mi->swap_total = m->swp->total_swap_pages;
		mi->swap_free = m->swp->nr_swap_pages;
	}
	/* si_mem_available() */
	int64_t avail = (int64_t)mi->free - (int64_t)m->totalreserve;
	int64_t pagecache = (int64_t)(mi->active_file + mi->inactive_file);
	pagecache -= RA_MIN(pagecache / 2, (int64_t)wmark_low);
	avail += pagecache;
	int64_t rcl = (int64_t)mi->slab_rcl;
	rcl -= RA_MIN(rcl / 2, (int64_t)wmark_low);
	avail += rcl;
	mi->available = avail < 0 ? 0 : (uint64_t)avail;
	int64_t ratio = KNOB(m, VM_OVERCOMMIT_RATIO);
	int64_t kbytes = KNOB(m, VM_OVERCOMMIT_KBYTES);
	mi->commit_limit = kbytes ? (uint64_t)kbytes >> (RA_PAGE_SHIFT - 10) : m->totalram * (uint64_t)ratio / 100;
	mi->commit_limit += mi->swap_total;    /* vm_commit_limit() + total_swap_pages */
	mm_meminfo(m, mi);
}

static void kb(ra_machine *m, const char *name, uint64_t pages)
{
	fprintf(OUT, "%-16s%8" PRIu64 " kB\n", name, pages << (RA_PAGE_SHIFT - 10));
}

static void view_meminfo(ra_machine *m)
{
	struct ra_meminfo mi;
	ra_meminfo_compute(m, &mi);
	kb(m, "MemTotal:", mi.total);
	kb(m, "MemFree:", mi.free);
	kb(m, "MemAvailable:", mi.available);
	kb(m, "Buffers:", 0);
	kb(m, "Cached:", mi.file);
	kb(m, "SwapCached:", mi.swapcached);
	kb(m, "Active:", mi.active_anon + mi.active_file);
	kb(m, "Inactive:", mi.inactive_anon + mi.inactive_file);
	kb(m, "Active(anon):", mi.active_anon);
	kb(m, "Inactive(anon):", mi.inactive_anon);
	kb(m, "Active(file):", mi.active_file);
	kb(m, "Inactive(file):", mi.inactive_file);
	kb(m, "Unevictable:", mi.unevictable);
	kb(m, "Mlocked:", mi.mlocked);
	kb(m, "SwapTotal:", mi.swap_total);
	kb(m, "SwapFree:", mi.swap_free);
	kb(m, "Dirty:", mi.dirty);
	kb(m, "Writeback:", mi.writeback);
	kb(m, "AnonPages:", mi.anon);
	kb(m, "Mapped:", node_page_state(m, NR_FILE_MAPPED));
	kb(m, "Shmem:", mi.shmem);
	kb(m, "KReclaimable:", mi.slab_rcl);
	kb(m, "Slab:", mi.slab_rcl + mi.slab_unrcl);
	kb(m, "SReclaimable:", mi.slab_rcl);
	kb(m, "SUnreclaim:", mi.slab_unrcl);
	fprintf(OUT, "%-16s%8" PRIu64 " kB\n", "KernelStack:", mi.kernel_stack);
	kb(m, "PageTables:", mi.pagetables);
	kb(m, "SecPageTables:", 0);
	kb(m, "NFS_Unstable:", 0);
	kb(m, "Bounce:", 0);
	kb(m, "WritebackTmp:", 0);
	kb(m, "CommitLimit:", mi.commit_limit);
	kb(m, "Committed_AS:", mi.committed_as);
	fprintf(OUT, "%-16s%8llu kB\n", "VmallocTotal:", (unsigned long long)(RA_VMALLOC_SIZE >> 10) - 1);
	kb(m, "VmallocUsed:", mi.vmalloc);
	kb(m, "VmallocChunk:", 0);
	kb(m, "Percpu:", mi.percpu);
	kb(m, "AnonHugePages:", 0);
	kb(m, "ShmemHugePages:", 0);
	kb(m, "ShmemPmdMapped:", 0);
	kb(m, "FileHugePages:", 0);
	kb(m, "FilePmdMapped:", 0);
	kb(m, "CmaTotal:", mi.cma_total);
	kb(m, "CmaFree:", mi.cma_free);
	/* no "Balloon:" line: the kernel has none; ballooned pages leave
	 * MemTotal (adjust_managed_page_count), which is how they show */
	fprintf(OUT, "HugePages_Total:   %5u\nHugePages_Free:    %5u\nHugePages_Rsvd:    %5u\n"
	        "HugePages_Surp:    %5u\nHugepagesize:   %8u kB\n", 0, 0, 0, 0, 2048);
	kb(m, "Hugetlb:", 0);
	kb(m, "DirectMap4k:", 0);
	kb(m, "DirectMap2M:", 0);
	kb(m, "DirectMap1G:", 0);
}

/* === free ============================================================== */

/* procps-ng 4.0's `free` (src/free.c, library/meminfo.c), in KiB, from the
 * meminfo fields: used = MemTotal - MemAvailable (MemFree stands in for a
 * MemAvailable of 0 or above MemTotal; MemTotal - MemFree when that comes
 * out negative), buff/cache = Buffers + Cached + SReclaimable. */
static void view_free(ra_machine *m)
{
	struct ra_meminfo mi;
	ra_meminfo_compute(m, &mi);
	uint64_t total = mi.total << 2, freekb = mi.free << 2, avail = mi.available << 2;
	uint64_t cache = (mi.file + mi.slab_rcl) << 2;
	if (!avail || avail > total)
		avail = freekb;
	uint64_t used = total >= avail ? total - avail : total - freekb;
	fprintf(OUT, "               total        used        free      shared  buff/cache   available\n");
	fprintf(OUT, "Mem:     %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 "\n",
	        total, used, freekb, mi.shmem << 2, cache, avail);
	uint64_t stotal = mi.swap_total << 2, sfree = mi.swap_free << 2;
	fprintf(OUT, "Swap:    %11" PRIu64 " %11" PRIu64 " %11" PRIu64 "\n", stotal, sfree >= stotal ? 0 : stotal - sfree,
	        sfree);
}

/* === vmstat ============================================================= */

/* /proc/vmstat (mm/vmstat.c's vmstat_show()): the kernel's counters the
 * engine models, in vmstat_text's order, "name value"; zone items summed
 * over the zones; per-zone events with the zone's suffix, for every zone
 * Debian's 6.1 amd64 kernel has (dma, dma32, normal, movable, device: the
 * model has no ZONE_DEVICE, whose counts stay 0); and the deprecated
 * nr_unstable line the kernel appends. */
static void view_vmstat(ra_machine *m)
{
	static const char *const sfx[] = { "dma", "dma32", "normal", "movable", "device" };
	for (int i = 0; i < RA_NR_STATS; i++) {
		if (!(ra_stat_flags((enum ra_stat_item)i) & RA_SF_VMSTAT))
			continue;
		const char *name = ra_stat_name((enum ra_stat_item)i);
		struct ra_stat_value s;
		if (ra_stat_kind((enum ra_stat_item)i) != RA_SK_ZEVENT) {
			ra_stat_read(m, (enum ra_stat_item)i, RA_ZONE_ALL, &s);
			fprintf(OUT, "%s %" PRIu64 "\n", name, s.value);
			continue;
		}
		for (int z = 0; z < (int)RA_ARRAY_SIZE(sfx); z++) {
			s.value = 0;
			if (z < RA_NR_ZONES)
				ra_stat_read(m, (enum ra_stat_item)i, z, &s);
			fprintf(OUT, "%s_%s %" PRIu64 "\n", name, sfx[z], s.value);
		}
	}
	fprintf(OUT, "nr_unstable 0\n");
}

/* === swaps, zram ======================================================= */

/* /proc/swaps */
static void view_swaps(ra_machine *m) { swap_show(m, OUT); }

/* /sys/block/zramN/mm_stat of every zram device, the lowest N first, each
 * line after a "zramN:" line when there are several. */
static void view_zram(ra_machine *m)
{
	struct ra_swap *sw = m->swp;
	unsigned n = 0;
	for (unsigned t = 0; sw && t < sw->nr_types; t++)
		n += sw->si[t] && sw->si[t]->zram;
	for (uint32_t dev = 0; sw && dev < sw->zram_next; dev++)
		for (unsigned t = 0; t < sw->nr_types; t++) {
			struct ra_swap_info *si = sw->si[t];
			if (!si || !si->zram || zram_devno(si->zram) != dev)
				continue;
			if (n > 1)
				fprintf(OUT, "zram%u:\n", dev);
			zram_mm_stat(m, si->zram, OUT);
		}
}

/* === vmstat1 ============================================================ */

/* The first row of procps-ng 4.0.2's `vmstat 1` (src/vmstat.c) with its two
 * header lines. The first row is since boot: the rates are value × HZ /
 * Div, Div the cpu ticks of all cpus (USER_HZ 100). The model's cpus are
 * idle all the time, so Div = now_ms / 10 × cpus (1 at boot, as vmstat
 * makes a Div of 0 into 1 with one idle tick), and us/sy/wa/st are 0, id
 * 100. r counts the reader (vmstat itself runs), b 0; swpd = SwapTotal -
 * SwapFree, si and so from pswpin and pswpout (pages, shown in KiB); no Buffers; cache = Cached + SReclaimable; bi, bo from pgpgin,
 * pgpgout (KiB); in, cs 0. */
static void view_vmstat1(ra_machine *m)
{
	struct ra_meminfo mi;
	ra_meminfo_compute(m, &mi);
	uint64_t div = m->now_ms / 10 * m->ncpus;
	if (!div)
		div = 1;
	uint64_t bi = (vm_event(m, PGPGIN) * 100 + div / 2) / div;
	uint64_t bo = (vm_event(m, PGPGOUT) * 100 + div / 2) / div;
	uint64_t si = (vm_event(m, PSWPIN) * (RA_PAGE_SIZE / 1024) * 100 + div / 2) / div;
	uint64_t so = (vm_event(m, PSWPOUT) * (RA_PAGE_SIZE / 1024) * 100 + div / 2) / div;
	uint64_t swpd = (mi.swap_total - mi.swap_free) << 2;
	fprintf(OUT, "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n");
	fprintf(OUT, " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st\n");
	fprintf(OUT, "%2u %2u %6" PRIu64 " %6" PRIu64 " %6u %6" PRIu64 " %4" PRIu64 " %4" PRIu64 " %5" PRIu64 " %5" PRIu64
	        " %4u %4u %2u %2u %2u %2u %2u\n",
	        1, 0, swpd, mi.free << 2, 0, (mi.file + mi.slab_rcl) << 2, si, so, bi, bo, 0, 0, 0, 0, 100, 0, 0);
}

/* === extfrag_index, unusable_index ====================================== */

struct contig_info { uint64_t blocks_total, free_pages, blocks_suitable; };

/* fill_contig_page_info() */
static void contig_info(struct ra_zone *z, unsigned order, struct contig_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	for (unsigned o = 0; o < RA_NR_ORDERS; o++) {
		uint64_t blocks = z->area[o].nr_free;
		ci->blocks_total += blocks;
		ci->free_pages += blocks << o;
		if (o >= order)
			ci->blocks_suitable += blocks << (o - order);
	}
}

/* __fragmentation_index() */
static int fragmentation_index(unsigned order, const struct contig_info *ci)
{
	if (!ci->blocks_total)
		return 0;
	if (ci->blocks_suitable)
		return -1000;
	return (int)(1000 - (1000 + ci->free_pages * 1000 / (1ULL << order)) / ci->blocks_total);
}

/* unusable_free_index() */
static int unusable_index(unsigned order, const struct contig_info *ci)
{
	if (!ci->free_pages)
		return 1000;
	return (int)((ci->free_pages - (ci->blocks_suitable << order)) * 1000 / ci->free_pages);
}

void ra_zone_frag_index(struct ra_zone *z, unsigned order, int *unusable, int *extfrag)
{
	struct contig_info ci;
	contig_info(z, order, &ci);
	*unusable = unusable_index(order, &ci);
	*extfrag = fragmentation_index(order, &ci);
}

static void view_index(ra_machine *m, int (*fn)(unsigned, const struct contig_info *))
{
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		fprintf(OUT, "Node %d, zone %8s ", 0, z->name);
		for (unsigned o = 0; o < RA_NR_ORDERS; o++) {
			struct contig_info ci;
			contig_info(z, o, &ci);
			int idx = fn(o, &ci);
			fprintf(OUT, "%d.%03d ", idx / 1000, (idx < 0 ? -idx : idx) % 1000);
		}
		fputc('\n', OUT);
	}
}

static void view_extfrag(ra_machine *m) { view_index(m, fragmentation_index); }
static void view_unusable(ra_machine *m) { view_index(m, unusable_index); }

/* === The current task: status, maps, smaps_rollup, oom_score ============ */

static void view_status(ra_machine *m, struct ra_task *t)
{
	FILE *f = m->out;
	struct ra_mm *mm = t->mm;
	fprintf(f, "Name:\t%s\n", t->comm);
	fprintf(f, "State:\t%s\n", ra_task_alive(t) ? "R (running)" : "X (dead)");
	fprintf(f, "Tgid:\t%u\nPid:\t%u\nPPid:\t%u\n", t->pid, t->pid, t->ppid);
	if (mm) {
		fprintf(f, "VmPeak:\t%8" PRIu64 " kB\n", K(mm->hiwater_vm));
		fprintf(f, "VmSize:\t%8" PRIu64 " kB\n", K(mm->total_vm));
		fprintf(f, "VmLck:\t%8" PRIu64 " kB\n", K(mm->locked_vm));
		fprintf(f, "VmPin:\t%8d kB\n", 0);
		fprintf(f, "VmHWM:\t%8" PRIu64 " kB\n", K(RA_MAX(mm->hiwater_rss, mm->rss + mm->rss_file)));
		fprintf(f, "VmRSS:\t%8" PRIu64 " kB\n", K(mm->rss + mm->rss_file));
		fprintf(f, "RssAnon:\t%8" PRIu64 " kB\n", K(mm->rss));
		fprintf(f, "RssFile:\t%8" PRIu64 " kB\n", K(mm->rss_file));
		fprintf(f, "RssShmem:\t%8d kB\n", 0);
		fprintf(f, "VmData:\t%8" PRIu64 " kB\n", K(mm->data_vm));
		fprintf(f, "VmStk:\t%8" PRIu64 " kB\n", K(mm->stack_vm));
		fprintf(f, "VmExe:\t%8d kB\n", 0);
		fprintf(f, "VmLib:\t%8d kB\n", 0);
		fprintf(f, "VmPTE:\t%8" PRIu64 " kB\n", K(mm->nr_pt));
		fprintf(f, "VmSwap:\t%8" PRIu64 " kB\n", K(mm->swapents));
		fprintf(f, "HugetlbPages:\t%8d kB\n", 0);
	}
	fprintf(f, "Threads:\t%u\n", t->nr_threads);
	fprintf(f, "min_flt:\t%" PRIu64 "\n", t->min_flt);
}

static void view_maps(ra_machine *m, struct ra_task *t)
{
	struct ra_mm *mm = t->mm;
	if (!mm)
		return;
	for (uint32_t i = 0; i < mm->nr_vma; i++)
		ra_show_map_vma(m, mm, &mm->vma[i]);
}

/* The current task's views: 1 when there is no current task. */
static int mm_view(ra_machine *m, const char *name)
{
	struct ra_mm_world *w = m->mmw;
	struct ra_task *t = w ? w->cur : NULL;
	if (!t)
		return 1;
	if (!m->out)
		return 0;
	if (!strcmp(name, "status")) view_status(m, t);
	else if (!strcmp(name, "maps")) view_maps(m, t);
	else if (!strcmp(name, "smaps_rollup")) ra_view_smaps_rollup(m, t);
	else if (!strcmp(name, "smaps")) ra_view_smaps(m, t);
	else if (!strcmp(name, "oom_score")) fprintf(m->out, "%lu\n", ra_oom_score(m, t));
	else if (!strcmp(name, "oom_score_adj")) fprintf(m->out, "%d\n", t->oom_score_adj);
	else if (!strcmp(name, "oom_adj")) fprintf(m->out, "%d\n", ra_oom_adj_from_score_adj(t->oom_score_adj));
	else if (!strcmp(name, "malloc_stats")) { if (t->um) um_stats(t->um, m->out); }
	else if (!strcmp(name, "malloc_info")) { if (t->um) um_info(t->um, 0, m->out); }
	else return RA_ENOENT;
	return 0;
}

/* === Dispatch =========================================================== */


struct view { const char *name; void (*fn)(ra_machine *m); };

static const struct view kernel_views[] = {
	{ "buddyinfo", view_buddyinfo },
	{ "pagetypeinfo", view_pagetypeinfo },
	{ "zoneinfo", view_zoneinfo },
	{ "slabinfo", view_slabinfo },
	{ "slabtop", view_slabtop },
	{ "vmallocinfo", view_vmallocinfo },
	{ "meminfo", view_meminfo },
	{ "vmstat", view_vmstat },
	{ "free", view_free },
	{ "vmstat1", view_vmstat1 },
	{ "swaps", view_swaps },
	{ "zram", view_zram },
	{ "extfrag_index", view_extfrag },
	{ "unusable_index", view_unusable },
	{ "procrank", ra_view_procrank },
};

static const char *const all_view_names[] = {
	"buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "slabtop", "vmallocinfo", "meminfo", "vmstat",
	"free", "vmstat1", "swaps", "zram", "extfrag_index", "unusable_index", "status", "maps", "smaps_rollup", "oom_score",
	"oom_score_adj", "oom_adj", "malloc_stats", "malloc_info", "leaks", "smaps", "procrank", NULL
};

const char *const *ra_view_names(void) { return all_view_names; }

/* 0 printed; RA_ENOENT unknown view; 1 a view of the user side that is not
 * available (no current task, or no user side in this build). */
int ra_view(ra_machine *m, const char *name)
{
	for (size_t i = 0; i < RA_ARRAY_SIZE(kernel_views); i++)
		if (strcmp(kernel_views[i].name, name) == 0) {
			if (m->out)
				kernel_views[i].fn(m);
			return 0;
		}
	if (strcmp(name, "leaks") == 0)
		return ra_leak_view(m);
	for (size_t i = 0; all_view_names[i]; i++)
		if (strcmp(all_view_names[i], name) == 0)
			return mm_view(m, name);
	return RA_ENOENT;
}
