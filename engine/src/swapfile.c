/*
 * swapfile.c — swap devices and their slots, as mm/swapfile.c and
 * mm/swap_slots.c of 6.1 keep them.
 *
 * swapon: a device of S bytes has S/4096 - 1 usable slots (mkswap's
 * last_page = S/4096 - 1, the header page excluded); a priority given by
 * the trace (0 .. 32767) or, without one, --least_priority: -2 for the
 * first automatic device, then -3, ... (least_priority starts at -1); a
 * swapoff of an automatic device gives the devices below it one back.
 * Devices are tried highest priority first; get_swap_pages() requeues the
 * device it picks behind its equal-priority siblings, so equal priorities
 * take turns (round robin per call).
 *
 * The per-cpu slot cache (swap_slots.c) is modelled exactly: it is active
 * while free swap exceeds ncpus * 5 * 64 pages (switched on at that level,
 * off below ncpus * 2 * 64, draining every cache); a cpu whose cache is
 * empty takes 64 slots at once with one get_swap_pages() call, from one
 * device, and these count as used (SwapFree falls by 64 at the first
 * swap-out); a freed slot waits in the cpu's return buffer, still
 * reserved (SWAP_HAS_CACHE), until 64 have gathered and go together. The
 * cpu is the machine's current one.
 *
 * Slot choice within a device (the model's deterministic rule in place of
 * the kernel's per-cpu clusters): next fit, the first free slot at or after
 * the one after the last slot handed out, wrapping to slot 1.
 */
#include "swapfile.h"
#include <inttypes.h>

#define SWAP_PRIO_MAX 32767

static struct ra_swap *swap_state(ra_machine *m)
{
	if (!m->swp) {
		struct ra_swap *sw = calloc(1, sizeof(*sw));
		RA_BUG_ON(m, !sw);
		sw->least_priority = -1;
		sw->cpu = calloc(m->ncpus, sizeof(*sw->cpu));
		RA_BUG_ON(m, !sw->cpu);
		m->swp = sw;
	}
	return m->swp;
}

struct ra_swap_info *swap_info_by_id(ra_machine *m, uint32_t id)
{
	struct ra_swap *sw = m->swp;
	if (!sw)
		return NULL;
	for (unsigned t = 0; t < sw->nr_types; t++)
		if (sw->si[t] && sw->si[t]->id == id)
			return sw->si[t];
	return NULL;
}

bool vm_swap_full(ra_machine *m)
{
	struct ra_swap *sw = m->swp;
	return sw && sw->nr_swap_pages * 2 < sw->total_swap_pages;
}

bool swap_available(ra_machine *m) { return m->swp && m->swp->nr_swap_pages > 0; }

/* === Slots =============================================================== */

/* swap_range_free() for one slot: the data goes (zram frees its object). */
static void slot_release(ra_machine *m, struct ra_swap_info *si, uint32_t off)
{
	si->map[off] = 0;
	si->inuse--;
	if (si->shadows.n)
		pcm_del(&si->shadows, off);     /* clear_shadow_from_swap_cache() */
	if (si->writeok)
		m->swp->nr_swap_pages++;
	swap_slot_discard(m, si, off);
}

/* swapcache_free_entries(): slots reserved with SWAP_HAS_CACHE alone go. */
static void free_entries(ra_machine *m, const swp_entry_t *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct ra_swap_info *si = swp_info(m, e[i]);
		RA_BUG_ON(m, !si || si->map[swp_offset(e[i])] != SWAP_HAS_CACHE);
		slot_release(m, si, swp_offset(e[i]));
	}
}

static void drain_cpu(ra_machine *m, struct swap_slots_cache *c)
{
	free_entries(m, c->slots + c->cur, c->nr);
	c->nr = c->cur = 0;
	free_entries(m, c->slots_ret, c->n_ret);
	c->n_ret = 0;
}

void swap_drain_slots(ra_machine *m)
{
	if (!m->swp)
		return;
	for (unsigned c = 0; c < m->ncpus; c++)
		drain_cpu(m, &m->swp->cpu[c]);
}

/* check_cache_active() */
static bool slots_cache_active(ra_machine *m)
{
	struct ra_swap *sw = m->swp;
	uint64_t pages = sw->nr_swap_pages;
	if (!sw->slots_active) {
		if (pages > (uint64_t)m->ncpus * 5 * SWAP_BATCH)
			sw->slots_active = true;    /* reactivate_swap_slots_cache() */
		return sw->slots_active;
	}
	if (pages < (uint64_t)m->ncpus * 2 * SWAP_BATCH) {
		sw->slots_active = false;       /* deactivate_swap_slots_cache() */
		swap_drain_slots(m);
	}
	return sw->slots_active;
}

/* scan_swap_map_slots(): up to n free slots of si, next fit. */
static uint32_t scan_slots(struct ra_swap_info *si, uint32_t n, swp_entry_t *out)
{
	uint32_t got = 0, off = si->next;
	for (uint32_t seen = 0; seen < si->pages && got < n && si->inuse < si->pages; seen++) {
		if (off < 1 || off > si->pages)
			off = 1;
		if (!si->map[off]) {
			si->map[off] = SWAP_HAS_CACHE;
			si->inuse++;
			out[got++] = swp_entry(si->type, off);
		}
		off++;
	}
	si->next = off;
	return got;
}

/* get_swap_pages(): the highest priority device first; among equal
 * priorities the one used longest ago, which then goes behind the others. */
static uint32_t get_swap_pages(ra_machine *m, uint32_t n, swp_entry_t *out)
{
	struct ra_swap *sw = m->swp;
	if (!sw->nr_swap_pages)
		return 0;
	n = (uint32_t)RA_MIN((uint64_t)n, sw->nr_swap_pages);
	bool tried[MAX_SWAPFILES] = { false };
	for (;;) {
		struct ra_swap_info *best = NULL;
		for (unsigned t = 0; t < sw->nr_types; t++) {
			struct ra_swap_info *si = sw->si[t];
			if (!si || !si->writeok || tried[t] || si->inuse >= si->pages)
				continue;
			if (!best || si->prio > best->prio || (si->prio == best->prio && si->avail_seq < best->avail_seq))
				best = si;
		}
		if (!best)
			return 0;
		tried[best->type] = true;
		best->avail_seq = ++sw->avail_seq;     /* plist_requeue() */
		uint32_t got = scan_slots(best, n, out);
		if (got) {
			sw->nr_swap_pages -= got;
			return got;
		}
	}
}

swp_entry_t swap_alloc_slot(ra_machine *m)
{
	struct ra_swap *sw = m->swp;
	if (!sw || ra_should_fail(m, FAIL_SWAP_SLOT, 0))
		return 0;
	struct swap_slots_cache *c = &sw->cpu[m->cpu];
	if (slots_cache_active(m)) {
		if (!c->nr) {
			c->cur = 0;
			c->nr = get_swap_pages(m, SWAP_BATCH, c->slots);   /* refill_swap_slots_cache() */
		}
		if (c->nr) {
			c->nr--;
			return c->slots[c->cur++];
		}
	}
	swp_entry_t e = 0;
	return get_swap_pages(m, 1, &e) ? e : 0;
}

/* free_swap_slot() */
static void free_slot(ra_machine *m, swp_entry_t e)
{
	struct ra_swap *sw = m->swp;
	struct swap_slots_cache *c = &sw->cpu[m->cpu];
	if (sw->slots_active) {
		if (c->n_ret >= SWAP_BATCH) {
			free_entries(m, c->slots_ret, c->n_ret);
			c->n_ret = 0;
		}
		c->slots_ret[c->n_ret++] = e;
		return;
	}
	free_entries(m, &e, 1);
}

unsigned swap_count(ra_machine *m, swp_entry_t e)
{
	struct ra_swap_info *si = swp_info(m, e);
	return si ? si->map[swp_offset(e)] & ~SWAP_HAS_CACHE : 0;
}

void swap_duplicate(ra_machine *m, swp_entry_t e)
{
	struct ra_swap_info *si = swp_info(m, e);
	RA_BUG_ON(m, !si || !si->map[swp_offset(e)] || swap_count(m, e) >= SWAP_MAP_MAX);
	si->map[swp_offset(e)]++;
}

/* __swap_entry_free_locked(): the slot stays reserved (SWAP_HAS_CACHE) on
 * its way to free_swap_slot(). */
static void entry_put(ra_machine *m, swp_entry_t e, uint8_t usage)
{
	struct ra_swap_info *si = swp_info(m, e);
	uint32_t off = swp_offset(e);
	RA_BUG_ON(m, !si);
	uint8_t v = si->map[off], has_cache = v & SWAP_HAS_CACHE, count = v & ~SWAP_HAS_CACHE;
	if (usage == SWAP_HAS_CACHE) {
		RA_BUG_ON(m, !has_cache);
		has_cache = 0;
	} else {
		RA_BUG_ON(m, !count);
		count--;
	}
	v = count | has_cache;
	si->map[off] = v ? v : SWAP_HAS_CACHE;
	if (!v)
		free_slot(m, e);
}

void swap_free(ra_machine *m, swp_entry_t e) { entry_put(m, e, 1); }
void swap_put_cache(ra_machine *m, swp_entry_t e) { entry_put(m, e, SWAP_HAS_CACHE); }

/* === swapon / swapoff ===================================================== */

int ra_swapon(ra_machine *m, uint64_t size, int prio, bool zram, unsigned ratio, uint32_t *id)
{
	uint64_t pages = size / RA_PAGE_SIZE;
	if (pages < 2 || pages - 1 > SWP_MAX_PAGES)
		return RA_EINVAL;
	struct ra_swap *sw = swap_state(m);
	unsigned type = 0;
	while (type < sw->nr_types && sw->si[type])
		type++;
	if (type >= MAX_SWAPFILES)
		return RA_EINVAL;
	struct ra_swap_info *si = calloc(1, sizeof(*si));
	RA_BUG_ON(m, !si);
	si->pages = (uint32_t)(pages - 1);
	si->map = calloc((size_t)si->pages + 1, 1);
	si->cache = calloc((size_t)si->pages + 1, sizeof(*si->cache));
	si->data = calloc((size_t)si->pages + 1, sizeof(*si->data));
	RA_BUG_ON(m, !si->map || !si->cache || !si->data);
	si->next = 1;
	si->type = type;
	if (zram) {
		uint32_t devno = 0;
		si->zram = zram_create(m, pages * RA_PAGE_SIZE, ratio, &devno);
		if (!si->zram) {
			free(si->map);
			free(si->cache);
			free(si->data);
			free(si);
			return RA_ENOMEM;
		}
		snprintf(si->name, sizeof(si->name), "/dev/zram%u", devno);
	} else {
		snprintf(si->name, sizeof(si->name), "/swapfile%u", sw->next_id);
	}
	si->id = sw->next_id++;
	if (prio >= 0) {
		si->prio = RA_MIN(prio, SWAP_PRIO_MAX);
	} else {
		si->prio = --sw->least_priority;
		si->auto_prio = true;
	}
	si->writeok = true;
	si->avail_seq = ++sw->avail_seq;
	sw->si[type] = si;
	if (type >= sw->nr_types)
		sw->nr_types = type + 1;
	sw->total_swap_pages += si->pages;
	sw->nr_swap_pages += si->pages;
	*id = si->id;
	return RA_OK;
}

static void swap_info_free(ra_machine *m, struct ra_swap_info *si)
{
	for (uint32_t off = 1; off <= si->pages; off++)
		if (si->map[off])
			swap_slot_discard(m, si, off);
	if (si->zram)
		zram_destroy(m, si->zram);
	free(si->shadows.keys);
	free(si->shadows.vals);
	free(si->cache);
	free(si->data);
	free(si->map);
	free(si);
}

/* The mm layer brings the pages back (try_to_unuse); this file only takes
 * the device off and puts it back: see rmap.c's ra_swapoff. */
void swap_info_disable(ra_machine *m, struct ra_swap_info *si)
{
	struct ra_swap *sw = m->swp;
	/* del_from_avail_list(); the free slots leave nr_swap_pages, the
	 * device leaves total_swap_pages */
	si->writeok = false;
	sw->nr_swap_pages -= si->pages - si->inuse;
	sw->total_swap_pages -= si->pages;
}

void swap_info_reinsert(ra_machine *m, struct ra_swap_info *si)
{
	struct ra_swap *sw = m->swp;
	si->writeok = true;
	sw->nr_swap_pages += si->pages - si->inuse;
	sw->total_swap_pages += si->pages;
}

void swap_info_remove(ra_machine *m, struct ra_swap_info *si)
{
	struct ra_swap *sw = m->swp;
	RA_BUG_ON(m, si->inuse);
	if (si->auto_prio) {
		/* the automatic priorities below it move up by one */
		for (unsigned t = 0; t < sw->nr_types; t++)
			if (sw->si[t] && sw->si[t] != si && sw->si[t]->auto_prio && sw->si[t]->prio < si->prio)
				sw->si[t]->prio++;
		sw->least_priority++;
	}
	sw->si[si->type] = NULL;
	while (sw->nr_types && !sw->si[sw->nr_types - 1])
		sw->nr_types--;
	swap_info_free(m, si);
}

void swap_fini(ra_machine *m)
{
	struct ra_swap *sw = m->swp;
	if (!sw)
		return;
	for (unsigned t = 0; t < sw->nr_types; t++)
		if (sw->si[t])
			swap_info_free(m, sw->si[t]);
	free(sw->cpu);
	free(sw);
	m->swp = NULL;
}

/* === /proc/swaps =========================================================== */

/* swap_show(): the devices in swap_info[] order. */
void swap_show(ra_machine *m, FILE *f)
{
	fprintf(f, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	struct ra_swap *sw = m->swp;
	if (!sw)
		return;
	for (unsigned t = 0; t < sw->nr_types; t++) {
		struct ra_swap_info *si = sw->si[t];
		if (!si || !si->writeok)
			continue;
		size_t len = strlen(si->name);
		uint64_t size = (uint64_t)si->pages << 2, used = (uint64_t)si->inuse << 2;
		fprintf(f, "%s%*s%s\t%" PRIu64 "%s\t%" PRIu64 "%s\t%d\n", si->name, len < 40 ? (int)(40 - len) : 1, " ",
		        si->zram ? "partition" : "file\t", size, size < 10000000 ? "\t" : "", used,
		        used < 10000000 ? "\t" : "", si->prio);
	}
}
