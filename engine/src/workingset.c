/*
 * workingset.c — refault detection, as the kernel's mm/workingset.c (6.1,
 * classic LRU) does it for one node and no memory cgroups.
 *
 * The clock: the node's nonresident_age (struct ra_filemap), aged by one
 * for every page reclaim evicts, every activation by an access
 * (folio_mark_accessed's second touch), every page reclaim puts back on an
 * active list and every refault that activates. A page evicted by reclaim
 * leaves a shadow entry in its file's slot: the clock when it went (the
 * eviction timestamp, read before the eviction ages the clock) and its
 * PG_workingset bit. bucket_order is 0 (below 2^36 pages of RAM the
 * kernel's is too), so the timestamp keeps 36 bits (EVICTION_MASK).
 *
 * When the page comes back (a read, readahead or fault; not a write, whose
 * page is allocated with __GFP_WRITE) the refault distance is the clock
 * now less the timestamp, modulo 2^36. workingset_refault_file counts
 * every refault; when the distance is at most the workingset size (the
 * active file list, plus both anon lists when swap space is free) the page
 * starts on the active list (workingset_activate_file, the clock ages),
 * and if it was in the workingset when it went, it gets PG_workingset back
 * (workingset_restore_file). The entry points take the page type, so
 * anonymous pages evicted to swap can use them as well.
 *
 * Shadow nodes. The kernel's page cache is an xarray of 64-slot nodes, and
 * a node whose entries are all shadows sits on the shadow-node list,
 * counted in workingset_nodes. The model keeps shadows in a map per file
 * beside the page map and counts, with the same rule, the 64-slot chunks
 * (index / 64) that hold at least one shadow and no page. The shrinker
 * that frees shadow nodes beyond pages / 8 is not modelled
 * (workingset_nodereclaim stays 0): shadows go with their file's
 * truncation, unlink, invalidation (fadvise, drop_caches) or a refault.
 */
#include "filemap.h"

#define EVICTION_BITS 36
#define EVICTION_MASK ((1ULL << EVICTION_BITS) - 1)
#define SLOTS_PER_NODE 64

/* A shadow: the timestamp, shifted past the workingset bit; bit 0 set so
 * that no shadow is 0 (as the xarray's value entries are tagged). */
static inline uint64_t pack_shadow(uint64_t eviction, bool workingset)
{
	return ((eviction & EVICTION_MASK) << 2) | ((uint64_t)workingset << 1) | 1;
}

uint64_t workingset_eviction(ra_machine *m, uint32_t pfn)
{
	uint64_t eviction = m->fm->nonresident_age;
	workingset_age_nonresident(m, 1);
	return pack_shadow(eviction, pfn_page(m, pfn)->flags & PGF_WORKINGSET);
}

void workingset_refault(ra_machine *m, uint32_t pfn, uint64_t shadow, bool file, bool swap_avail)
{
	uint64_t eviction = (shadow >> 2) & EVICTION_MASK;
	bool workingset = (shadow >> 1) & 1;
	uint64_t distance = (m->fm->nonresident_age - eviction) & EVICTION_MASK;
	if (file)
		mod_node_page_state(m, WORKINGSET_REFAULT_FILE, 1);
	else
		mod_node_page_state(m, WORKINGSET_REFAULT_ANON, 1);
	uint64_t size = node_page_state(m, NR_ACTIVE_FILE);
	if (!file)
		size += node_page_state(m, NR_INACTIVE_FILE);
	if (swap_avail) {
		size += node_page_state(m, NR_ACTIVE_ANON);
		if (file)
			size += node_page_state(m, NR_INACTIVE_ANON);
	}
	if (distance > size)
		return;
	struct ra_page *p = pfn_page(m, pfn);
	p->flags |= PGF_ACTIVE;
	workingset_age_nonresident(m, 1);
	if (file)
		mod_node_page_state(m, WORKINGSET_ACTIVATE_FILE, 1);
	else
		mod_node_page_state(m, WORKINGSET_ACTIVATE_ANON, 1);
	if (workingset) {
		p->flags |= PGF_WORKINGSET;
		if (file)
			mod_node_page_state(m, WORKINGSET_RESTORE_FILE, 1);
		else
			mod_node_page_state(m, WORKINGSET_RESTORE_ANON, 1);
	}
}

/* === Shadow slots and shadow nodes ====================================== */

bool shadow_chunk_is_node(const struct ra_file *f, uint64_t chunk)
{
	bool shadows = false;
	for (uint64_t i = chunk * SLOTS_PER_NODE; i < (chunk + 1) * SLOTS_PER_NODE; i++) {
		if (pcm_find(&f->cache, i))
			return false;
		if (!shadows && pcm_find(&f->shadows, i))
			shadows = true;
	}
	return shadows;
}

bool shadow_node_state(const struct ra_file *f, uint64_t index)
{
	return shadow_chunk_is_node(f, index / SLOTS_PER_NODE);
}

void shadow_node_update(ra_machine *m, const struct ra_file *f, uint64_t index, bool before)
{
	bool after = shadow_node_state(f, index);
	if (after != before)
		mod_node_page_state(m, WORKINGSET_NODES, after ? 1 : -1);
}

void shadow_store(ra_machine *m, struct ra_file *f, uint64_t index, uint64_t shadow)
{
	bool before = shadow_node_state(f, index);
	pcm_put(&f->shadows, index, shadow);
	shadow_node_update(m, f, index, before);
}

bool shadow_take(ra_machine *m, struct ra_file *f, uint64_t index, uint64_t *shadow)
{
	uint64_t *v = pcm_find(&f->shadows, index);
	if (!v)
		return false;
	*shadow = *v;
	bool before = shadow_node_state(f, index);
	pcm_del(&f->shadows, index);
	shadow_node_update(m, f, index, before);
	return true;
}

void shadow_drop_from(ra_machine *m, struct ra_file *f, uint64_t from)
{
	if (!f->shadows.n)
		return;
	uint32_t n;
	uint64_t *keys = pcm_sorted_keys(&f->shadows, &n);
	for (uint32_t i = 0; i < n; i++) {
		if (keys[i] < from)
			continue;
		bool before = shadow_node_state(f, keys[i]);
		pcm_del(&f->shadows, keys[i]);
		shadow_node_update(m, f, keys[i], before);
	}
	free(keys);
}
