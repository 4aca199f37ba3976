/*
 * machine.c — one simulated machine: physical frames, zones, the host
 * mappings behind them, and the small services every layer uses (sites,
 * the seeded PRNG, error text).
 *
 * Memory layout as on x86-64: ZONE_DMA is [0, dma), ZONE_DMA32 [dma, dma32),
 * ZONE_NORMAL [dma32, mem); a zone that would be empty does not exist. All
 * frames are present and managed (no firmware holes, no memmap carve-out:
 * the model's struct pages live on the host). The CMA area, if any, is the
 * top `cma` bytes of memory rounded to whole pageblocks.
 *
 * Both the frame array and simulated RAM are reserved with MAP_NORESERVE and
 * touched lazily, so a 64 GiB machine costs what its operations touch.
 */
#include "internal.h"
#include "san.h"
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <errno.h>

static const char *const zone_names[RA_NR_ZONES] = { "DMA", "DMA32", "Normal", "Movable" };

void ra_config_default(struct ra_config *cfg)
{
	cfg->mem = 256ULL << 20;
	cfg->cpus = 2;
	cfg->dma = 16ULL << 20;
	cfg->dma32 = 4ULL << 30;
	cfg->cma = 0;
}

void ra_set_error(ra_machine *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->errmsg, sizeof(m->errmsg), fmt, ap);
	va_end(ap);
}

const char *ra_last_error(const ra_machine *m) { return m->errmsg; }

void ra_engine_bug(ra_machine *m, const char *file, int line, const char *cond)
{
	FILE *e = (m && m->err) ? m->err : stderr;
	fprintf(e, "refalloc: engine bug at %s:%d: %s", file, line, cond);
	if (m && m->nr_files && m->site.line)
		fprintf(e, " (while executing %s:%u)", ra_site_file(m, m->site.file), m->site.line);
	fputc('\n', e);
	fflush(e);
	abort();
}

uint64_t ra_int_sqrt(uint64_t x)
{
	/* the kernel's int_sqrt: floor of the square root, bit by bit */
	if (x <= 1)
		return x;
	uint64_t m = 1ULL << ((ra_fls(x) - 1) & ~1u), y = 0;
	while (m) {
		uint64_t b = y + m;
		y >>= 1;
		if (x >= b) {
			x -= b;
			y += m;
		}
		m >>= 2;
	}
	return y;
}

/* xorshift64*: deterministic and the same on every build */
uint64_t ra_rand(ra_machine *m)
{
	uint64_t x = m->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

uint32_t ra_intern_file(ra_machine *m, const char *file)
{
	for (uint32_t i = 0; i < m->nr_files; i++)
		if (m->files[i] == file || strcmp(m->files[i], file) == 0)
			return i;
	char **nf = realloc(m->files, (m->nr_files + 1) * sizeof(*nf));
	RA_BUG_ON(m, !nf);
	m->files = nf;
	m->files[m->nr_files] = strdup(file);
	RA_BUG_ON(m, !m->files[m->nr_files]);
	return m->nr_files++;
}

const char *ra_site_file(ra_machine *m, uint32_t file)
{
	return file < m->nr_files ? m->files[file] : "?";
}

void ra_set_site(ra_machine *m, const char *file, uint32_t line)
{
	if (!m->nr_files || strcmp(m->files[m->site.file], file) != 0)
		m->site.file = ra_intern_file(m, file);
	m->site.line = line;
}

void ra_set_cpu(ra_machine *m, unsigned cpu) { m->cpu = cpu < m->ncpus ? cpu : 0; }

void ra_set_streams(ra_machine *m, FILE *out, FILE *err)
{
	m->out = out;
	m->err = err;
}

void ra_set_check_level(ra_machine *m, enum ra_check_level lvl) { m->check = lvl; }
unsigned long ra_reports(const ra_machine *m) { return (unsigned long)m->nr_reports; }

uint32_t ra_block_head(ra_machine *m, uint32_t pfn)
{
	if (pfn >= m->nr_pages)
		return RA_NOPFN;
	if (m->pages[pfn].owner != PO_NONE)
		return pfn;
	for (unsigned o = 1; o <= RA_MAX_ORDER; o++) {
		uint32_t cand = pfn & ~((1u << o) - 1);
		const struct ra_page *p = &m->pages[cand];
		if (p->owner == PO_NONE)
			continue;
		return p->order >= o ? cand : RA_NOPFN;
	}
	return RA_NOPFN;
}

static void *map_lazy(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * The host mappings of the last machine a thread destroyed — its frame
 * array and its simulated RAM — are kept for the thread's next machine. A
 * fuzzer creates and destroys a machine per input; on fresh mappings every
 * host page the boot and the input touch costs a host page fault and a page
 * clear, which dominated the cost of an input. A kept mapping is cleaned
 * when it is given back, so it is all zero when taken, exactly as a fresh
 * one: outputs never depend on earlier machines (test_machine.c checks it).
 * Cleaning zeroes only resident host pages (mincore() names them): of the
 * frame array, those within this machine's frames; of RAM, those the
 * machine wrote (ram_written: every host pointer into RAM is taken through
 * pfn_host/kaddr_host, which mark its page, and writes that span pages
 * mark their range). REFALLOC_KEEP_VERIFY checks the result.
 *
 * Kept only when that is sound: not under Valgrind (its client requests
 * describe the old machine, and leaked objects must stay visible in RAM),
 * not when the host has swap (mincore does not see a swapped-out anonymous
 * page, which would keep stale bytes), and only up to RA_KEEP_MAX of frame
 * array (machines up to ~50 GiB) and RA_KEEP_RAM_MAX of RAM (a kept mapping
 * holds the host pages its last machine touched until reused).
 */
#define RA_KEEP_MAX     (256ULL << 20)
#define RA_KEEP_RAM_MAX (4ULL << 30)
enum { KEEP_FRAMES, KEEP_RAM };
static _Thread_local struct { void *p; size_t len; } kept[2];

static bool keep_allowed(const ra_machine *m)
{
	static int no_swap = -1;      /* racy first use is harmless: same answer */
	if (m->valgrind)
		return false;
	if (no_swap < 0) {
		struct sysinfo si;
		no_swap = sysinfo(&si) == 0 && si.totalswap == 0;
	}
	return no_swap;
}

/* Zero the resident host pages of [p, p+len): the rest reads as zero.
 * With a written bitmap (RAM: pages from pfn0 on), only the resident pages
 * the machine wrote: the others are resident from an earlier machine and
 * were zeroed when it gave them back. */
static bool clean_resident(uint8_t *p, size_t len, const ra_machine *m, size_t pfn0)
{
	size_t npages = len >> RA_PAGE_SHIFT;
	unsigned char vec[4096];
	for (size_t at = 0; at < npages; at += sizeof(vec)) {
		size_t n = RA_MIN(npages - at, sizeof(vec));
		if (mincore(p + (at << RA_PAGE_SHIFT), n << RA_PAGE_SHIFT, vec))
			return false;
		for (size_t i = 0; i < n; i++) {
			size_t pfn = pfn0 + at + i;
			if ((vec[i] & 1) && (!m || (pfn < m->nr_pages && ram_page_written(m, (uint32_t)pfn))))
				memset(p + ((at + i) << RA_PAGE_SHIFT), 0, RA_PAGE_SIZE);
		}
	}
	return true;
}

void ra_ram_mark_range(ra_machine *m, uint32_t pfn, uint32_t n)
{
	if (!n)
		return;
	ram_mark(m, (size_t)pfn << RA_PAGE_SHIFT);
	ram_mark(m, (size_t)(pfn + n - 1) << RA_PAGE_SHIFT);
	for (uint32_t b = (pfn >> RA_PAGEBLOCK_ORDER) + 1; b < (pfn + n - 1) >> RA_PAGEBLOCK_ORDER; b++)
		m->ram_dirty[b] = 1;
	for (uint32_t i = pfn; i < pfn + n;) {
		if (!(i & 63) && i + 64 <= pfn + n) {
			m->ram_written[i >> 6] = ~0ULL;
			i += 64;
		} else {
			m->ram_written[i >> 6] |= 1ULL << (i & 63);
			i++;
		}
	}
}

/* REFALLOC_KEEP_VERIFY=1: check that a kept mapping is all zero when it
 * is taken again (every resident page), and abort if not: a write that
 * did not mark its page (ram_written) would leak one machine's bytes into
 * the next. For tests (ci/test.d/fuzz.sh); it costs a read of every
 * resident page per machine. */
static void verify_zero(const uint8_t *p, size_t len, int which)
{
	static int on = -1;
	if (on < 0)
		on = getenv("REFALLOC_KEEP_VERIFY") != NULL;
	if (!on)
		return;
	static const uint64_t zero[RA_PAGE_SIZE / 8];
	unsigned char vec[4096];
	size_t npages = len >> RA_PAGE_SHIFT;
	for (size_t at = 0; at < npages; at += sizeof(vec)) {
		size_t n = RA_MIN(npages - at, sizeof(vec));
		if (mincore((void *)(p + (at << RA_PAGE_SHIFT)), n << RA_PAGE_SHIFT, vec))
			return;
		for (size_t i = 0; i < n; i++)
			if ((vec[i] & 1) && memcmp(p + ((at + i) << RA_PAGE_SHIFT), zero, RA_PAGE_SIZE)) {
				fprintf(stderr, "refalloc: engine bug: a kept %s mapping holds non-zero bytes in page %zu "
				        "(a write that did not mark its page)\n", which == KEEP_RAM ? "RAM" : "frame array", at + i);
				abort();
			}
	}
}

/* A zero-filled lazy mapping of at least len bytes; *maplen gets its length. */
static void *map_take(const ra_machine *m, int which, size_t len, size_t *maplen)
{
	if (kept[which].p && kept[which].len >= len && keep_allowed(m)) {
		void *p = kept[which].p;
		verify_zero(p, kept[which].len, which);
		*maplen = kept[which].len;
		kept[which].p = NULL;
		return p;
	}
	if (kept[which].p) {           /* too small: keep the larger one from now on */
		munmap(kept[which].p, kept[which].len);
		kept[which].p = NULL;
	}
	*maplen = len;
	return map_lazy(len);
}

/* Give a mapping back: cleaned and kept, or unmapped. */
static void map_give(ra_machine *m, int which, void *p, size_t len)
{
	bool keep = !kept[which].p && keep_allowed(m) && len <= (which == KEEP_RAM ? RA_KEEP_RAM_MAX : RA_KEEP_MAX);
	/* Only what this machine could have written: a kept mapping may be
	 * longer (an earlier, larger machine's), and its pages beyond were
	 * zeroed when that machine gave it back. */
	if (keep && which == KEEP_FRAMES)
		keep = clean_resident(p, RA_MIN(len, RA_ALIGN((size_t)m->nr_pages * sizeof(struct ra_page),
		                                              (size_t)RA_PAGE_SIZE)), NULL, 0);
	if (keep && which == KEEP_RAM) {
		size_t block = (size_t)RA_PAGEBLOCK_PAGES << RA_PAGE_SHIFT;
		for (size_t b = 0; keep && b <= ra_nr_pageblocks(m); b++)
			if (m->ram_dirty[b] && b * block < len)
				keep = clean_resident((uint8_t *)p + b * block, RA_MIN(block, len - b * block), m,
				                      b * RA_PAGEBLOCK_PAGES);
	}
	if (keep) {
		kept[which].p = p;
		kept[which].len = len;
		return;
	}
	munmap(p, len);
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

	m->pages = map_take(m, KEEP_FRAMES, RA_ALIGN((size_t)m->nr_pages * sizeof(struct ra_page), (size_t)RA_PAGE_SIZE),
	                    &m->pages_map_len);
	m->ram = map_take(m, KEEP_RAM, (size_t)m->nr_pages << RA_PAGE_SHIFT, &m->ram_map_len);
	m->pageblock_mt = calloc(ra_nr_pageblocks(m), 1);
	m->pageblock_retyped = calloc(ra_nr_pageblocks(m), 1);
	m->ram_dirty = calloc(ra_nr_pageblocks(m) + 2, 1);   /* ram_mark writes one past */
	m->ram_written = calloc(m->nr_pages / 64 + 1, sizeof(uint64_t));
	if (!m->pages || !m->ram || !m->pageblock_mt || !m->pageblock_retyped || !m->ram_dirty || !m->ram_written) {
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
	return RA_OK;
}

void ra_machine_destroy(ra_machine *m)
{
	if (!m)
		return;
	ra_mm_fini(m);
	ra_vmalloc_fini(m);
	ra_slab_fini(m);
	for (uint32_t i = 0; i < m->nr_balloons; i++)
		free(m->balloons[i].pfns);
	free(m->balloons);
	for (int z = 0; z < RA_NR_ZONES; z++)
		free(m->zones[z].pcp);
	if (m->pages)
		map_give(m, KEEP_FRAMES, m->pages, m->pages_map_len);
	if (m->ram) {
		/* ASan keeps user poison across munmap: clear it where the machine
		 * wrote (nothing else was poisoned) */
		size_t block = (size_t)RA_PAGEBLOCK_PAGES << RA_PAGE_SHIFT;
		for (size_t b = 0; m->ram_dirty && b <= ra_nr_pageblocks(m); b++)
			if (m->ram_dirty[b] && b * block < m->ram_map_len)
				ra_san_unpoison(m->ram + b * block, RA_MIN(block, m->ram_map_len - b * block));
		/* Under Valgrind the leaked objects' blocks live in RAM: keep it
		 * mapped so the leak check at exit still sees them. */
		if (!m->valgrind)
			map_give(m, KEEP_RAM, m->ram, m->ram_map_len);
	}
	free(m->ram_dirty);
	free(m->ram_written);
	free(m->pageblock_mt);
	free(m->pageblock_retyped);
	for (uint32_t i = 0; i < m->nr_files; i++)
		free(m->files[i]);
	free(m->files);
	free(m);
}
