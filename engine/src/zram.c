/*
 * zram.c — a compressed RAM block device used as swap, as 6.1's
 * drivers/block/zram/zram_drv.c with its zsmalloc pool (mm/zsmalloc.c).
 *
 * The model's compression is a rule, not a compressor: every page that is
 * not same-filled compresses to comp_len = PAGE_SIZE / R bytes, R the
 * device's ratio (swapon ... ratio=R, default 3). As zram does, a page
 * whose comp_len is at least huge_class_size is stored whole (4096 bytes,
 * huge_pages), and a page that is one repeated machine word is a
 * same_page and takes no memory. The page's bytes are kept exactly on the
 * host (the oracle reads them back); only the memory accounting follows
 * the rule.
 *
 * zsmalloc: the 255 size classes of x86-64 (32 + 16 i bytes), each with
 * the pages per zspage (1 .. 4) that waste least and the merging of
 * adjacent classes with equal (pages, objects), computed as the kernel's
 * zs_create_pool() does; an object of comp_len takes the class of
 * comp_len + ZS_HANDLE_SIZE (8). The pool's pages are real pages of the
 * machine, taken from the page allocator (owner PO_ZSPAGE, nr_zspages) as
 * zs_malloc() takes them: first without direct reclaim, then with
 * GFP_NOIO; within reclaim (PF_MEMALLOC) the allocator may use every free
 * page; when none can be had the write fails. The model keeps each class
 * packed: a class holds ceil(objects / objects per zspage) zspages (as if
 * compaction ran at every free), so pages_compacted stays 0.
 *
 * zram's table (zram_meta_alloc(): 16 bytes per slot, vzalloc'd) is kept on
 * the host: the machine's VmallocUsed does not show it (a zram device of
 * the machine line exists before the trace's slub_debug, which must come
 * before any slab allocation).
 */
#include "swapfile.h"
#include "san.h"
#include <inttypes.h>

#define ZS_MIN_ALLOC_SIZE   32
#define ZS_SIZE_CLASS_DELTA 16
#define ZS_SIZE_CLASSES     255
#define ZS_HANDLE_SIZE      8
#define ZS_MAX_PAGES        4

struct zs_class { uint32_t size, pages, objs; uint64_t nr_objs, nr_zspages; };

struct ra_zram {
	uint32_t devno;
	unsigned ratio;
	uint32_t nslots;
	uint32_t *obj_len;         /* [nslots + 1]: comp_len of a stored slot, 0 = empty */
	uint8_t  *flags;           /* [nslots + 1]: ZRAM_SAME, ZRAM_HUGE */
	uint64_t *same;            /* [nslots + 1]: the repeated word of a same page */
	uint8_t **data;            /* [nslots + 1]: the page's bytes */
	struct zs_class cls[ZS_SIZE_CLASSES];
	uint16_t class_of[ZS_SIZE_CLASSES];   /* index -> the (merged) class that serves it */
	uint32_t huge_class_size;
	uint32_t *zspages;         /* the pool's pfns */
	uint64_t nr_pages, cap_pages, max_used_pages;
	uint64_t pages_stored, compr_data_size, same_pages, huge_pages, huge_pages_since;
};

#define ZRAM_SAME 1
#define ZRAM_HUGE 2

static uint32_t pages_per_zspage(uint32_t size)
{
	uint32_t best = 1, best_pc = 0;
	for (uint32_t i = 1; i <= ZS_MAX_PAGES; i++) {
		uint32_t zs = i * RA_PAGE_SIZE, waste = zs % size, pc = (zs - waste) * 100 / zs;
		if (pc > best_pc) {
			best_pc = pc;
			best = i;
		}
	}
	return best;
}

/* zs_create_pool(): the biggest class first; a class with the same
 * (pages, objects) as the one above it is served by that one. */
static void zs_init(struct ra_zram *z)
{
	int prev = -1;
	for (int i = ZS_SIZE_CLASSES - 1; i >= 0; i--) {
		uint32_t size = (uint32_t)(ZS_MIN_ALLOC_SIZE + i * ZS_SIZE_CLASS_DELTA);
		if (size > RA_PAGE_SIZE)
			size = RA_PAGE_SIZE;
		uint32_t pages = pages_per_zspage(size), objs = pages * RA_PAGE_SIZE / size;
		if (pages != 1 && objs != 1 && !z->huge_class_size)
			z->huge_class_size = size - (ZS_HANDLE_SIZE - 1);
		if (prev >= 0 && z->cls[prev].pages == pages && z->cls[prev].objs == objs) {
			z->class_of[i] = (uint16_t)prev;
			continue;
		}
		z->cls[i] = (struct zs_class){ .size = size, .pages = pages, .objs = objs };
		z->class_of[i] = (uint16_t)i;
		prev = i;
	}
}

static struct zs_class *size_class(struct ra_zram *z, uint32_t size)
{
	size += ZS_HANDLE_SIZE;
	uint32_t idx = size > ZS_MIN_ALLOC_SIZE ? (size - ZS_MIN_ALLOC_SIZE + ZS_SIZE_CLASS_DELTA - 1) / ZS_SIZE_CLASS_DELTA : 0;
	if (idx > ZS_SIZE_CLASSES - 1)
		idx = ZS_SIZE_CLASSES - 1;
	return &z->cls[z->class_of[idx]];
}

static uint32_t zspage_alloc(ra_machine *m, struct ra_zram *z)
{
	/* zram_write_page(): zs_malloc without direct reclaim, then again
	 * with GFP_NOIO */
	ra_gfp_t gfp = RA___GFP_KSWAPD_RECLAIM | RA___GFP_NOWARN | RA___GFP_HIGHMEM | RA___GFP_MOVABLE;
	uint32_t pfn = ra_alloc_pages_pfn(m, gfp, 0, PO_ZSPAGE);
	if (pfn == RA_NOPFN)
		pfn = ra_alloc_pages_pfn(m, RA_GFP_NOIO | RA___GFP_HIGHMEM | RA___GFP_MOVABLE | RA___GFP_NOWARN, 0, PO_ZSPAGE);
	if (pfn != RA_NOPFN) {
		pfn_page(m, pfn)->priv = z->devno;
		mod_zone_page_state(pfn_zone(m, pfn), NR_ZSPAGES, 1);
	}
	return pfn;
}

static void zspage_free(ra_machine *m, uint32_t pfn)
{
	mod_zone_page_state(pfn_zone(m, pfn), NR_ZSPAGES, -1);
	pfn_page(m, pfn)->priv = 0;
	ra_free_pages_pfn(m, pfn, 0);
}

/* Grow the pool by a class's zspage: false when a page cannot be had. */
static bool pool_grow(ra_machine *m, struct ra_zram *z, struct zs_class *c)
{
	if (z->nr_pages + c->pages > z->cap_pages) {
		z->cap_pages = RA_MAX(z->cap_pages * 2, z->nr_pages + c->pages + 16);
		z->zspages = realloc(z->zspages, z->cap_pages * sizeof(*z->zspages));
		RA_BUG_ON(m, !z->zspages);
	}
	uint64_t got = 0;
	for (; got < c->pages; got++) {
		uint32_t pfn = zspage_alloc(m, z);
		if (pfn == RA_NOPFN)
			break;
		z->zspages[z->nr_pages + got] = pfn;
	}
	if (got < c->pages) {
		while (got)
			zspage_free(m, z->zspages[z->nr_pages + --got]);
		return false;
	}
	z->nr_pages += c->pages;
	c->nr_zspages++;
	return true;
}

/* The newest pool pages go first (the model's deterministic choice). */
static void pool_shrink(ra_machine *m, struct ra_zram *z, struct zs_class *c)
{
	for (uint32_t i = 0; i < c->pages; i++)
		zspage_free(m, z->zspages[--z->nr_pages]);
	c->nr_zspages--;
}

uint32_t zram_devno(const struct ra_zram *z) { return z->devno; }
uint64_t zram_pool_pages(const struct ra_zram *z) { return z->nr_pages; }
bool zram_stored(const struct ra_zram *z, uint32_t off) { return z->obj_len[off] || (z->flags[off] & ZRAM_SAME); }

struct ra_zram *zram_create(ra_machine *m, uint64_t disksize, unsigned ratio, uint32_t *devno)
{
	struct ra_zram *z = calloc(1, sizeof(*z));
	RA_BUG_ON(m, !z);
	z->nslots = (uint32_t)(disksize / RA_PAGE_SIZE);
	z->obj_len = calloc((size_t)z->nslots + 1, sizeof(*z->obj_len));
	z->flags = calloc((size_t)z->nslots + 1, 1);
	z->same = calloc((size_t)z->nslots + 1, sizeof(*z->same));
	z->data = calloc((size_t)z->nslots + 1, sizeof(*z->data));
	RA_BUG_ON(m, !z->obj_len || !z->flags || !z->same || !z->data);
	z->ratio = ratio ? ratio : 3;
	zs_init(z);
	z->devno = m->swp->zram_next++;
	*devno = z->devno;
	return z;
}

void zram_destroy(ra_machine *m, struct ra_zram *z)
{
	for (uint32_t off = 0; off <= z->nslots; off++)
		if (zram_stored(z, off))
			zram_free(m, z, off);
	RA_BUG_ON(m, z->nr_pages);
	free(z->zspages);
	free(z->obj_len);
	free(z->flags);
	free(z->same);
	free(z->data);
	free(z);
}

/* page_same_filled(): one unsigned long repeated over the page. */
static bool same_filled(const uint8_t *page, uint64_t *word)
{
	/* a page of RAM: raw loads (freed malloc blocks in it are poisoned) */
	uint64_t w = ra_raw_ld64(page);
	for (size_t o = sizeof(w); o < RA_PAGE_SIZE; o += sizeof(w)) {
		if (ra_raw_ld64(page + o) != w)
			return false;
	}
	*word = w;
	return true;
}

int zram_write(ra_machine *m, struct ra_zram *z, uint32_t off, const uint8_t *page)
{
	RA_BUG_ON(m, off > z->nslots);
	if (zram_stored(z, off))
		zram_free(m, z, off);
	uint64_t word;
	if (same_filled(page, &word)) {
		z->flags[off] = ZRAM_SAME;
		z->same[off] = word;
		z->same_pages++;
		z->pages_stored++;
		return 0;
	}
	uint32_t comp_len = RA_PAGE_SIZE / z->ratio;
	bool huge = comp_len >= z->huge_class_size;
	if (huge)
		comp_len = RA_PAGE_SIZE;
	struct zs_class *c = size_class(z, comp_len);
	if (c->nr_objs == c->nr_zspages * c->objs && !pool_grow(m, z, c))
		return -1;     /* zs_malloc() failed: -ENOMEM, a write error */
	c->nr_objs++;
	z->max_used_pages = RA_MAX(z->max_used_pages, z->nr_pages);
	z->obj_len[off] = comp_len;
	if (!z->data[off]) {
		z->data[off] = malloc(RA_PAGE_SIZE);
		RA_BUG_ON(m, !z->data[off]);
	}
	ra_raw_copy(z->data[off], page, RA_PAGE_SIZE);
	if (huge) {
		z->flags[off] = ZRAM_HUGE;
		z->huge_pages++;
		z->huge_pages_since++;
	}
	z->compr_data_size += comp_len;
	z->pages_stored++;
	return 0;
}

void zram_read(ra_machine *m, struct ra_zram *z, uint32_t off, uint8_t *page)
{
	RA_BUG_ON(m, off > z->nslots);
	if (z->flags[off] & ZRAM_SAME) {
		for (size_t o = 0; o < RA_PAGE_SIZE; o += sizeof(uint64_t))
			ra_raw_st64(page + o, z->same[off]);
	} else if (z->obj_len[off]) {
		ra_raw_copy(page, z->data[off], RA_PAGE_SIZE);
	} else {
		ra_raw_fill(page, 0, RA_PAGE_SIZE);
	}
}

void zram_free(ra_machine *m, struct ra_zram *z, uint32_t off)
{
	if (z->flags[off] & ZRAM_SAME) {
		z->same_pages--;
		z->pages_stored--;
		z->flags[off] = 0;
		z->same[off] = 0;
		return;
	}
	uint32_t len = z->obj_len[off];
	if (!len)
		return;
	if (z->flags[off] & ZRAM_HUGE)
		z->huge_pages--;
	struct zs_class *c = size_class(z, len);
	c->nr_objs--;
	if (c->nr_zspages && c->nr_objs <= (c->nr_zspages - 1) * c->objs)
		pool_shrink(m, z, c);
	z->compr_data_size -= len;
	z->pages_stored--;
	z->obj_len[off] = 0;
	z->flags[off] = 0;
	free(z->data[off]);
	z->data[off] = NULL;
}

void zram_mm_stat(ra_machine *m, struct ra_zram *z, FILE *f)
{
	(void)m;
	fprintf(f, "%8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
	        " %8" PRIu64 "\n", (uint64_t)(z->pages_stored * RA_PAGE_SIZE), z->compr_data_size,
	        (uint64_t)(z->nr_pages * RA_PAGE_SIZE), (uint64_t)0, (uint64_t)(z->max_used_pages * RA_PAGE_SIZE), z->same_pages, (uint64_t)0, z->huge_pages,
	        z->huge_pages_since);
}

/* The pool against its objects, the counters against the slots. */
long zram_validate(ra_machine *m, struct ra_zram *z, const struct ra_swap_info *si)
{
	long problems = 0;
	uint64_t stored = 0, same = 0, huge = 0, compr = 0, pages = 0;
	uint64_t objs[ZS_SIZE_CLASSES] = { 0 };
	for (uint32_t off = 0; off <= z->nslots; off++) {
		if (!zram_stored(z, off))
			continue;
		stored++;
		if (off == 0 || off > si->pages || !si->map[off])
			ra_problem(m, &problems, "zram%u: slot %u holds a page but is not in use", z->devno, off);
		if (z->flags[off] & ZRAM_SAME) {
			same++;
			continue;
		}
		huge += (z->flags[off] & ZRAM_HUGE) != 0;
		compr += z->obj_len[off];
		objs[size_class(z, z->obj_len[off]) - z->cls]++;
	}
	for (int i = 0; i < ZS_SIZE_CLASSES; i++) {
		struct zs_class *c = &z->cls[i];
		if (objs[i] != c->nr_objs)
			ra_problem(m, &problems, "zram%u: class %u holds %" PRIu64 " objects, counted %" PRIu64, z->devno,
			           c->size, objs[i], c->nr_objs);
		if (c->objs && c->nr_zspages != (c->nr_objs + c->objs - 1) / c->objs)
			ra_problem(m, &problems, "zram%u: class %u has %" PRIu64 " zspages for %" PRIu64 " objects", z->devno,
			           c->size, c->nr_zspages, c->nr_objs);
		pages += c->nr_zspages * c->pages;
	}
	if (pages != z->nr_pages)
		ra_problem(m, &problems, "zram%u: pool holds %" PRIu64 " pages, classes need %" PRIu64, z->devno,
		           z->nr_pages, pages);
	for (uint64_t i = 0; i < z->nr_pages; i++) {
		struct ra_page *p = pfn_page(m, z->zspages[i]);
		if (p->owner != PO_ZSPAGE || p->priv != z->devno)
			ra_problem(m, &problems, "zram%u: pool page %#x is not owned by the pool", z->devno, z->zspages[i]);
	}
	if (stored != z->pages_stored || same != z->same_pages || huge != z->huge_pages || compr != z->compr_data_size)
		ra_problem(m, &problems, "zram%u: counters (stored %" PRIu64 " same %" PRIu64 " huge %" PRIu64 " compr %" PRIu64
		           ") disagree with the slots (%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 ")", z->devno,
		           z->pages_stored, z->same_pages, z->huge_pages, z->compr_data_size, stored, same, huge, compr);
	return problems;
}
