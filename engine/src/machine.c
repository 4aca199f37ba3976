/*
 * machine.c — creating and destroying a machine: its zones, every layer's
 * boot in order, the hooks the lower layers call upward (the page
 * allocator's slow path into the OOM killer, a new task into its C
 * library), and the teardown.
 *
 * Memory layout as on x86-64: ZONE_DMA is [0, dma), ZONE_DMA32 [dma, dma32),
 * ZONE_NORMAL [dma32, mem); a zone that would be empty does not exist. All
 * frames are present and managed (no firmware holes, no memmap carve-out:
 * the model's struct pages live on the host). The CMA area, if any, is the
 * top `cma` bytes of memory rounded to whole pageblocks.
 *
 * The host memory behind frames and RAM is phys.c's.
 */
#include "user.h"
#include "views.h"
#include "san.h"

/* __alloc_pages_slowpath()'s way up: direct reclaim (vmscan.c) and the
 * OOM killer (oom_kill.c). */
static const struct ra_slowpath_ops slowpath_ops = {
	.out_of_memory = ra_out_of_memory,
	.try_to_free_pages = ra_try_to_free_pages,
	.wakeup_kswapd = ra_wakeup_kswapd,
};

/* The page cache's calls to the swap layer (swapfile.c, shmem.c). */
static const struct ra_filemap_ops filemap_ops = {
	.swap_available = swap_available,
	.shmem_swapin = shmem_swapin_page,
	.shmem_swap_free = shmem_swap_free,
	.shmem_swap_peek = shmem_swap_peek,
};

static const char *const zone_names[RA_NR_ZONES] = { "DMA", "DMA32", "Normal", "Movable" };

void ra_config_default(struct ra_config *cfg)
{
	cfg->mem = 256ULL << 20;
	cfg->cpus = 2;
	cfg->dma = 16ULL << 20;
	cfg->dma32 = 4ULL << 30;
	cfg->cma = 0;
	cfg->swap = 0;
	cfg->zram = 0;
}

static int setup_zones(ra_machine *m)
{
	uint64_t mem = m->cfg.mem;
	uint64_t bounds[RA_NR_REAL_ZONES + 1] = {
		0, RA_MIN(m->cfg.dma, mem), RA_MIN(RA_MAX(m->cfg.dma32, m->cfg.dma), mem), mem
	};
	for (int z = 0; z < RA_NR_ZONES; z++) {
		struct ra_zone *zone = &m->zones[z];
		zone->idx = z;
		zone->name = zone_names[z];
		if (z >= RA_NR_REAL_ZONES)
			continue;
		zone->start_pfn = (uint32_t)(bounds[z] >> RA_PAGE_SHIFT);
		zone->end_pfn = (uint32_t)(bounds[z + 1] >> RA_PAGE_SHIFT);
		if (zone->end_pfn <= zone->start_pfn) {
			zone->end_pfn = zone->start_pfn;
			continue;
		}
		m->populated[z] = true;
		zone->present = zone->managed = zone->end_pfn - zone->start_pfn;
		m->totalram += zone->managed;
		zone->pcp = calloc(m->ncpus, sizeof(*zone->pcp));
		if (!zone->pcp)
			return RA_ENOMEM;
		for (unsigned c = 0; c < m->ncpus; c++)
			for (int l = 0; l < RA_NR_PCP_LISTS; l++)
				zone->pcp[c].lists[l].head = zone->pcp[c].lists[l].tail = RA_NOPFN;
		for (int o = 0; o < RA_NR_ORDERS; o++)
			for (int t = 0; t < MT_NR; t++)
				zone->area[o].list[t].head = zone->area[o].list[t].tail = RA_NOPFN;
	}
	return RA_OK;
}

int ra_machine_create(ra_machine **mp, const struct ra_config *cfg, FILE *out, FILE *err)
{
	return ra_machine_create_ex(mp, cfg, NULL, 0, out, err);
}

int ra_machine_create_ex(ra_machine **mp, const struct ra_config *cfg, const char *const *sets, unsigned nsets,
                         FILE *out, FILE *err)
{
	*mp = NULL;
	ra_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return RA_ENOMEM;
	m->cfg = *cfg;
	m->out = out;
	m->err = err;
	m->check = RA_CHECK_OFF;
#ifdef RA_DEBUG
	m->check = RA_CHECK_OP;
#endif
	m->slowpath = &slowpath_ops;
	m->filemap_ops = &filemap_ops;
	m->user_rt = &um_sim_runtime;
	ra_knobs_init(m);
	m->valgrind = RA_RUNNING_ON_VALGRIND();
	*mp = m;

	if (cfg->mem < RA_MEM_MIN || cfg->mem > RA_MEM_MAX) {
		ra_set_error(m, "mem=%llu: machine size must be 16M .. 64G", (unsigned long long)cfg->mem);
		return RA_EINVAL;
	}
	if (cfg->cpus < 1 || cfg->cpus > RA_CPUS_MAX) {
		ra_set_error(m, "cpus=%u: must be 1 .. %d", cfg->cpus, RA_CPUS_MAX);
		return RA_EINVAL;
	}
	if (cfg->dma & (RA_PAGE_SIZE - 1) || cfg->dma32 & (RA_PAGE_SIZE - 1)) {
		ra_set_error(m, "dma= and dma32= must be multiples of 4K");
		return RA_EINVAL;
	}
	/* as boot parameters: before anything is laid out */
	if (ra_knobs_assign(m, sets, nsets))
		return RA_EKNOB;
	m->cfg.mem &= ~(RA_PAGE_SIZE - 1);
	m->nr_pages = (uint32_t)(m->cfg.mem >> RA_PAGE_SHIFT);
	uint64_t cma_pages = RA_ALIGN(cfg->cma >> RA_PAGE_SHIFT, (uint64_t)RA_PAGEBLOCK_PAGES);
	if (cma_pages * 2 > m->nr_pages) {
		ra_set_error(m, "cma=%llu: the CMA area may take at most half of memory",
		             (unsigned long long)cfg->cma);
		return RA_EINVAL;
	}
	m->ncpus = cfg->cpus;

	if (phys_init(m) != RA_OK) {
		ra_set_error(m, "cannot reserve host memory for a %llu MiB machine",
		             (unsigned long long)(m->cfg.mem >> 20));
		return RA_ENOMEM;
	}
	int rc = setup_zones(m);
	if (rc)
		return rc;
	/* memmap_init(): every pageblock starts MOVABLE; the CMA area is CMA */
	memset(m->pageblock_mt, MT_MOVABLE, ra_nr_pageblocks(m));
	m->cma_start = m->cma_end = m->nr_pages;
	if (cma_pages) {
		m->cma_start = (uint32_t)(RA_ALIGN_DOWN((uint64_t)m->nr_pages - cma_pages, (uint64_t)RA_PAGEBLOCK_PAGES));
		for (uint32_t p = m->cma_start; p < m->cma_end; p += RA_PAGEBLOCK_PAGES)
			set_pageblock_mt(m, p, MT_CMA);
	}
	ra_buddy_init(m);
	ra_knobs_auto(m);
	ra_recompute_zone_params(m);
	ra_slab_init(m);
	/* swapon at boot: the disk first, then zram (as an fstab would) */
	uint32_t id;
	if (cfg->swap && ra_swapon(m, cfg->swap, -1, false, 0, &id)) {
		ra_set_error(m, "swap=%llu: not a usable swap size", (unsigned long long)cfg->swap);
		return RA_EINVAL;
	}
	if (cfg->zram && ra_swapon(m, cfg->zram, -1, true, 3, &id)) {
		ra_set_error(m, "zram=%llu: not a usable zram size", (unsigned long long)cfg->zram);
		return RA_EINVAL;
	}
	return RA_OK;
}

void ra_machine_destroy(ra_machine *m)
{
	if (!m)
		return;
	ra_mm_fini(m);
	swap_fini(m);
	ra_filemap_fini(m);
	ra_vmalloc_fini(m);
	ra_slab_fini(m);
	for (uint32_t i = 0; i < m->nr_balloons; i++)
		free(m->balloons[i].pfns);
	free(m->balloons);
	for (int z = 0; z < RA_NR_ZONES; z++)
		free(m->zones[z].pcp);
	phys_fini(m);
	free(m);
}

