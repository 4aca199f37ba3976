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

int ra_stat_read(const ra_machine *m, enum ra_stat_item item, int zone, struct ra_stat_value *v)
{
	if ((unsigned)item >= RA_NR_STATS || zone < RA_ZONE_ALL || zone >= RA_NR_ZONES)
		return RA_EINVAL;
	bool zoned = stat_table[item].kind == RA_SK_ZONE || stat_table[item].kind == RA_SK_ZEVENT;
	if (zone != RA_ZONE_ALL && !zoned)
		return RA_EINVAL;
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
