/*
 * vmstat.c — the counter table of refalloc/stats.h and its one read-out.
 * The counters live in the machine (node levels and events, with peaks)
 * and in each zone (zone items, per-zone events); phys.h has the helpers
 * that change them, named as the kernel's (mod_node_page_state,
 * count_vm_event, ...).
 */
#include "phys.h"
#include "refalloc/stats.h"

static const struct { const char *name; uint8_t kind, flags; } stat_table[RA_NR_STATS] = {
#define RA_STAT_ROW(item, nm, k, f) [RA_STAT_##item] = { nm, k, f },
	RA_STAT_LIST(RA_STAT_ROW)
#undef RA_STAT_ROW
};

const char *ra_stat_name(enum ra_stat_item item) { return (unsigned)item < RA_NR_STATS ? stat_table[item].name : NULL; }
enum ra_stat_kind ra_stat_kind(enum ra_stat_item item) { return (unsigned)item < RA_NR_STATS ? stat_table[item].kind : RA_SK_EVENT; }
unsigned ra_stat_flags(enum ra_stat_item item) { return (unsigned)item < RA_NR_STATS ? stat_table[item].flags : 0; }

int ra_stat_lookup(const char *name)
{
	for (int i = 0; i < RA_NR_STATS; i++)
		if (!strcmp(stat_table[i].name, name))
			return i;
	return -1;
}

/* === Dirty limits =======================================================
 *
 * mm/page-writeback.c's arithmetic for the global domain. The kernel
 * computes nr_dirty_threshold and nr_dirty_background_threshold when
 * /proc/vmstat is read (vmstat_start() calls global_dirty_limits()), and
 * so does the read-out here: they are never stored. Everything they need
 * (free pages, totalreserve_pages, the file LRU sizes, the knobs) is this
 * layer's, so the flusher and the throttle above read the same numbers.
 * The model has no RT tasks, so the RT bonus never applies. */

void domain_dirty_limits(uint64_t avail, uint64_t ratio, uint64_t bytes, uint64_t bg_ratio, uint64_t bg_bytes,
                         uint64_t *thresh, uint64_t *bg_thresh)
{
	/* the ratios in parts per PAGE_SIZE: 20% -> 819, 10% -> 409 */
	uint64_t r = ratio * RA_PAGE_SIZE / 100, bgr = bg_ratio * RA_PAGE_SIZE / 100;
	uint64_t t = bytes ? (bytes + RA_PAGE_SIZE - 1) / RA_PAGE_SIZE : r * avail / RA_PAGE_SIZE;
	uint64_t bg = bg_bytes ? (bg_bytes + RA_PAGE_SIZE - 1) / RA_PAGE_SIZE : bgr * avail / RA_PAGE_SIZE;
	if (t > UINT32_MAX)
		t = UINT32_MAX;
	if (bg >= t)
		bg = t / 2;
	*thresh = t;
	*bg_thresh = bg;
}

uint64_t global_dirtyable_memory(const ra_machine *m)
{
	uint64_t x = 0;
	for (int z = 0; z < RA_NR_ZONES; z++)
		x += m->zones[z].vm_stat[RA_STAT_NR_FREE_PAGES];
	x -= RA_MIN(x, m->totalreserve);
	x += m->vm_stat[RA_STAT_NR_INACTIVE_FILE] + m->vm_stat[RA_STAT_NR_ACTIVE_FILE];
	return x + 1;   /* never 0; no highmem on 64-bit */
}

void global_dirty_limits(const ra_machine *m, uint64_t *bg_thresh, uint64_t *thresh)
{
	domain_dirty_limits(global_dirtyable_memory(m),
	                    (uint64_t)KNOB(m, VM_DIRTY_RATIO), (uint64_t)KNOB(m, VM_DIRTY_BYTES),
	                    (uint64_t)KNOB(m, VM_DIRTY_BACKGROUND_RATIO), (uint64_t)KNOB(m, VM_DIRTY_BACKGROUND_BYTES),
	                    thresh, bg_thresh);
}

/* === The read-out ======================================================= */

int ra_stat_read(const ra_machine *m, enum ra_stat_item item, int zone, struct ra_stat_value *v)
{
	if ((unsigned)item >= RA_NR_STATS || zone < RA_ZONE_ALL || zone >= RA_NR_ZONES)
		return RA_EINVAL;
	bool zoned = stat_table[item].kind == RA_SK_ZONE || stat_table[item].kind == RA_SK_ZEVENT;
	if (zone != RA_ZONE_ALL && !zoned)
		return RA_EINVAL;
	if (item == RA_STAT_NR_DIRTY_THRESHOLD || item == RA_STAT_NR_DIRTY_BG_THRESHOLD) {
		uint64_t bg, thresh;
		global_dirty_limits(m, &bg, &thresh);
		v->value = v->peak = item == RA_STAT_NR_DIRTY_THRESHOLD ? thresh : bg;
		return RA_OK;
	}
	if (!zoned) {
		v->value = m->vm_stat[item];
		v->peak = (stat_table[item].flags & RA_SF_PEAK) ? m->vm_peak[item] : v->value;
		return RA_OK;
	}
	uint64_t x = 0;
	for (int z = 0; z < RA_NR_ZONES; z++)
		if (zone == RA_ZONE_ALL || zone == z)
			x += m->zones[z].vm_stat[item];
	v->value = v->peak = x;
	return RA_OK;
}
