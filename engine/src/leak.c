/*
 * leak.c — the engine's own leak report, in the spirit of kmemleak: every
 * object a trace allocated that is still allocated, grouped by layer, with
 * its address, the size asked for and the FILE:LINE that allocated it, and
 * a summary in Valgrind's words ("definitely lost: N bytes in M blocks").
 *
 * It walks the engine's structures, not a log of the trace: pages held by
 * alloc_pages, slab objects (kmalloc caches, then the other caches) and
 * large kmallocs, vmalloc areas, balloons, and for each task still alive its
 * malloc blocks (umalloc's registry) and the mappings the trace made. The
 * kernel's own objects (task structures, kernel stacks, vmalloc page arrays)
 * are not the trace's and are left out; so is ioremap, which holds no memory.
 * A block's size is what was asked for, as Valgrind and LeakSanitizer count
 * it: the two detectors agree with this report on every leak trace
 * (make leakcheck).
 */
#include "replay.h"
#include "mm.h"
#include "umalloc.h"
#include <inttypes.h>

struct tally { uint64_t bytes, blocks; FILE *f; ra_machine *m; const char *group; bool header; };

static void site_str(ra_machine *m, uint32_t site, char *buf, size_t len)
{
	uint32_t file = site >> 24, line = site & 0xffffff;
	if (!line)
		snprintf(buf, len, "(not in a trace)");
	else
		snprintf(buf, len, "%s:%u", ra_site_file(m, file), line);
}

static void item(struct tally *t, uint64_t addr, uint64_t size, const char *what, uint32_t site)
{
	t->bytes += size;
	t->blocks++;
	if (!t->f)
		return;
	if (!t->header) {
		fprintf(t->f, "%s:\n", t->group);
		t->header = true;
	}
	char where[96];
	site_str(t->m, site, where, sizeof(where));
	fprintf(t->f, "  unreferenced object 0x%016" PRIx64 " (size %" PRIu64 "): %s allocated at %s\n", addr, size, what,
	        where);
}

static void group(struct tally *t, const char *name)
{
	t->group = name;
	t->header = false;
}

static void with_commas(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n && o + 1 < len; i++) {
		buf[o++] = tmp[i];
		if ((n - i - 1) % 3 == 0 && i != n - 1 && o + 1 < len)
			buf[o++] = ',';
	}
	buf[o] = 0;
}

/* Live slab ids bucketed by cache, each bucket in id order: one pass over
 * the slabs instead of one per cache (a fuzzer dumps leaks often). */
struct slab_index { uint32_t *start, *ids; };

static bool slab_index_build(ra_machine *m, struct slab_index *x)
{
	x->start = calloc((size_t)m->nr_caches + 1, sizeof(*x->start));
	x->ids = malloc(((size_t)m->slab_ids_used + 1) * sizeof(*x->ids));
	if (!x->start || !x->ids)
		return false;
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		struct ra_slab *sl = slab_of(m, id);
		if (sl->live && sl->cache < m->nr_caches)
			x->start[sl->cache + 1]++;
	}
	for (uint32_t c = 0; c < m->nr_caches; c++)
		x->start[c + 1] += x->start[c];
	uint32_t *fill = calloc((size_t)m->nr_caches + 1, sizeof(*fill));
	if (!fill)
		return false;
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		struct ra_slab *sl = slab_of(m, id);
		if (sl->live && sl->cache < m->nr_caches)
			x->ids[x->start[sl->cache] + fill[sl->cache]++] = id;
	}
	free(fill);
	return true;
}

static void slab_objects(struct tally *t, const struct slab_index *x, bool kmalloc)
{
	ra_machine *m = t->m;
	for (uint32_t c = 0; c < m->nr_caches; c++) {
		struct ra_cache *s = m->caches[c];
		if (!s || s->merged_into_valid || (s->kmalloc_type != 255) != kmalloc)
			continue;
		char gname[80];
		if (!kmalloc) {
			snprintf(gname, sizeof(gname), "slab cache %s", s->name);
			group(t, gname);
		}
		for (uint32_t k = x->start[c]; k < x->start[c + 1]; k++) {
			struct ra_slab *sl = slab_of(m, x->ids[k]);
			for (unsigned i = 0; i < sl->objects; i++) {
				if (!(sl->live[i >> 6] >> (i & 63) & 1))
					continue;
				if (sl->internal && (sl->internal[i >> 6] >> (i & 63) & 1))
					continue;
				uint64_t meta = sl->meta[i];
				ra_addr_t a = pfn_to_kaddr(sl->pfn) + (ra_addr_t)i * s->size + s->red_left_pad;
				item(t, a, (uint32_t)meta, s->name, (uint32_t)(meta >> 32));
			}
		}
	}
}

struct uwalk { struct tally *t; };

static int chunk_cb(void *arg, const struct um_chunk_info *ci)
{
	struct tally *t = arg;
	uint32_t site = (uint32_t)((ci->tag >> 32) << 24) | (uint32_t)(ci->tag & 0xffffff);
	item(t, ci->mem, ci->req, ci->mmapped ? "malloc (mmapped)" : "malloc", site);
	return 0;
}

/* Walk (and print, when f) what is still allocated; returns the blocks. */
static uint64_t walk(ra_machine *m, FILE *f, uint64_t *bytes)
{
	struct tally t = { .f = f, .m = m };
	struct slab_index x = { 0 };
	if (!slab_index_build(m, &x)) {
		free(x.start), free(x.ids);
		*bytes = 0;
		return 0;
	}
	group(&t, "pages");
	for (uint32_t pfn = 0; pfn < m->nr_pages;) {
		struct ra_page *p = &m->pages[pfn];
		if (p->owner == PO_PAGES)
			item(&t, pfn_to_kaddr(pfn), RA_PAGE_SIZE << p->order, "alloc_pages", p->priv);
		pfn += p->owner == PO_NONE ? 1 : 1u << p->order;
	}
	group(&t, "kmalloc");
	slab_objects(&t, &x, true);
	for (uint32_t pfn = 0; pfn < m->nr_pages;) {
		struct ra_page *p = &m->pages[pfn];
		if (p->owner == PO_KMALLOC)
			item(&t, pfn_to_kaddr(pfn), p->count, "kmalloc (pages)", p->priv);
		pfn += p->owner == PO_NONE ? 1 : 1u << p->order;
	}
	slab_objects(&t, &x, false);
	free(x.start), free(x.ids);
	group(&t, "vmalloc");
	for (uint32_t i = 0; i < m->nr_vmareas; i++) {
		struct ra_vmarea *a = m->vmareas[i];
		if (!a->internal && !a->ioremap)
			item(&t, a->addr, a->req_size, "vmalloc", (a->site_file << 24) | a->site_line);
	}
	group(&t, "balloon");
	for (uint32_t i = 0; i < m->nr_balloons; i++)
		if (m->balloons[i].live)
			item(&t, 0, (uint64_t)m->balloons[i].nr << RA_PAGE_SHIFT, "balloon", 0);
	struct ra_mm_world *w = m->mmw;
	for (uint32_t i = 0; w && i < w->nr_tasks; i++) {
		struct ra_task *task = w->tasks[i];
		if (!ra_task_alive(task))
			continue;
		char gname[96];
		snprintf(gname, sizeof(gname), "task %s (pid %u): malloc", task->comm, task->pid);
		group(&t, gname);
		if (task->um)
			um_walk(task->um, chunk_cb, &t);
		snprintf(gname, sizeof(gname), "task %s (pid %u): mappings", task->comm, task->pid);
		group(&t, gname);
		for (uint32_t k = 0; task->mm && k < task->mm->nr_tmaps; k++)
			item(&t, task->mm->tmaps[k].start, task->mm->tmaps[k].len, "mmap", task->mm->tmaps[k].site);
	}
	*bytes = t.bytes;
	return t.blocks;
}

static void summary(FILE *f, uint64_t bytes, uint64_t blocks)
{
	char b[32], n[32];
	with_commas(bytes, b, sizeof(b));
	with_commas(blocks, n, sizeof(n));
	fprintf(f, "LEAK SUMMARY: definitely lost: %s bytes in %s blocks\n", b, n);
}

/* `dump leaks` */
int ra_leak_view(ra_machine *m)
{
	if (!m->out)
		return 0;
	uint64_t bytes;
	uint64_t blocks = walk(m, m->out, &bytes);
	summary(m->out, bytes, blocks);
	return 0;
}

/* --leaks=report|error at the end of a replay: the report on standard
 * output; returns the number of leaked blocks. */
int rp_leak_report(struct replay *rp, int mode)
{
	(void)mode;
	uint64_t bytes;
	uint64_t blocks = walk(rp->m, rp->out, &bytes);
	if (rp->out)
		summary(rp->out, bytes, blocks);
	return blocks > INT32_MAX ? INT32_MAX : (int)blocks;
}
