/*
 * inspect.c — refalloc/inspect.h: the machine's state as plain structs for
 * tools. Like the views, it reads every layer and changes nothing; what it
 * reports is what the views print (buddyinfo, zoneinfo, slabinfo, the
 * debugfs indices, /proc/PID/status, malloc_stats), without the text.
 */
#include "views.h"
#include "oom.h"
#include "mm.h"
#include "umalloc.h"
#include "refalloc/inspect.h"

_Static_assert(RA_ZONES == RA_NR_ZONES, "inspect.h numbers the zones as the engine does");

int ra_machine_info(ra_machine *m, struct ra_machine_info *mi)
{
	struct ra_mm_world *w = ra_mm_world(m);
	mi->totalram_pages = m->totalram;
	mi->ncpus = m->ncpus;
	mi->nr_cache_ids = m->nr_caches;
	mi->vmalloc_areas = m->nr_vmareas;
	mi->nr_tasks = w ? w->nr_tasks : 0;
	return RA_OK;
}

int ra_zone_info(ra_machine *m, int zone, struct ra_zone_info *zi)
{
	if (zone < 0 || zone >= RA_NR_ZONES)
		return RA_EINVAL;
	memset(zi, 0, sizeof(*zi));
	struct ra_zone *z = &m->zones[zone];
	zi->name = z->name;
	if (!m->populated[zone])
		return RA_OK;
	zi->populated = 1;
	zi->start_pfn = z->start_pfn;
	zi->end_pfn = z->end_pfn;
	zi->managed = z->managed;
	zi->free_pages = zone_page_state(z, NR_FREE_PAGES);
	zi->wmark_min = z->wmark[0];
	zi->wmark_low = z->wmark[1];
	zi->wmark_high = z->wmark[2];
	for (unsigned o = 0; o < RA_NR_ORDERS; o++) {
		zi->nr_free[o] = z->area[o].nr_free;
		int unusable, extfrag;
		ra_zone_frag_index(z, o, &unusable, &extfrag);
		zi->unusable[o] = (int16_t)unusable;
		zi->fragidx[o] = (int16_t)extfrag;
	}
	for (unsigned c = 0; c < m->ncpus; c++)
		zi->pcp_pages += z->pcp[c].count;
	return RA_OK;
}

int ra_slab_cache_info(ra_machine *m, unsigned id, struct ra_slab_cache_info *ci)
{
	if (id >= m->nr_caches)
		return RA_EINVAL;
	const struct ra_cache *c = m->caches[id];
	if (!c || !c->alive)
		return RA_ENOENT;
	memset(ci, 0, sizeof(*ci));
	ci->id = id;
	ci->name = c->name;
	ci->alias = c->merged_into_valid;
	ci->alias_of = c->merged_into_valid ? c->merged_into : id;
	ci->kmalloc = c->kmalloc_type != 255;
	ci->object_size = c->object_size;
	ci->size = c->size;
	ci->order = c->order;
	ci->objects_per_slab = c->oo_objects;
	ci->nr_slabs = c->nr_slabs;
	ci->total_objects = c->total_objects;
	ci->partial_slabs = c->partial.nr;
	ci->slab_pages = c->slab_pages;
	return RA_OK;
}

int ra_slab_cache_of(ra_machine *m, ra_addr_t addr)
{
	if (addr <= RA_ZERO_SIZE_PTR || !kaddr_valid(m, addr))
		return -1;
	uint32_t head = ra_block_head(m, kaddr_pfn(addr));
	if (head == RA_NOPFN || pfn_page(m, head)->owner != PO_SLAB)
		return -1;
	return (int)slab_of(m, pfn_page(m, head)->priv)->cache;
}

int ra_task_info(ra_machine *m, uint32_t pid, struct ra_task_info *ti)
{
	const struct ra_task *t = ra_task_find(m, pid);
	if (!t)
		return RA_ENOENT;
	memset(ti, 0, sizeof(*ti));
	ti->pid = t->pid;
	ti->ppid = t->ppid;
	memcpy(ti->comm, t->comm, sizeof(ti->comm));
	ti->alive = ra_task_alive(t);
	ti->oom_score_adj = t->oom_score_adj;
	ti->nr_threads = t->nr_threads;
	if (t->mm) {
		ti->rss = t->mm->rss;
		ti->hiwater_rss = t->mm->hiwater_rss;
		ti->total_vm = t->mm->total_vm;
	}
	ti->min_flt = t->min_flt;
	return RA_OK;
}

int ra_malloc_info(ra_machine *m, uint32_t pid, struct ra_malloc_info *mi)
{
	struct ra_task *t = ra_task_find(m, pid);
	if (!t || !t->um)
		return RA_ENOENT;
	struct um_stat st;
	um_get_stat(t->um, &st);
	mi->system_bytes = st.system_bytes;
	mi->max_system_bytes = st.max_system_bytes;
	mi->mmapped_regions = st.mmapped_regions;
	mi->mmapped_bytes = st.mmapped_bytes;
	mi->max_mmapped_regions = st.max_mmapped_regions;
	mi->max_mmapped_bytes = st.max_mmapped_bytes;
	mi->inuse_bytes = st.inuse_bytes;
	mi->live_chunks = st.live_chunks;
	mi->live_bytes = st.live_bytes;
	mi->narenas = st.narenas;
	return RA_OK;
}

size_t ra_malloc_usable_size(ra_machine *m, uint32_t pid, uint64_t addr)
{
	struct ra_task *t = ra_task_find(m, pid);
	return t && t->um ? um_usable_size(t->um, addr) : 0;
}
