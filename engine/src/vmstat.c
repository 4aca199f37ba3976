/*
 * vmstat.c — the counter table of refalloc/stats.h and its one read-out.
 */
#include "internal.h"
#include "mm.h"
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

static uint64_t zone_value(const ra_machine *m, enum ra_stat_item item, int z)
{
	const struct ra_zone *zn = &m->zones[z];
	uint64_t v = 0;
	switch (item) {
	case RA_STAT_NR_FREE_PAGES: return zn->free_pages;
	case RA_STAT_NR_FREE_CMA:   return zn->free_cma;
	case RA_STAT_PGALLOC:
		for (unsigned o = 0; o < RA_NR_ORDERS; o++)
			v += zn->nr_alloc[o] << o;
		return v;
	case RA_STAT_WMARK_FAIL: return zn->nr_wmark_fail;
	case RA_STAT_STEAL:      return zn->nr_steal;
	case RA_STAT_FALLBACK:   return zn->nr_fallback;
	default: return 0;
	}
}

static uint64_t node_value(const ra_machine *m, enum ra_stat_item item)
{
	switch (item) {
	case RA_STAT_NR_SLAB_RECLAIMABLE:   return m->st.slab_reclaimable_pages;
	case RA_STAT_NR_SLAB_UNRECLAIMABLE: return m->st.slab_unreclaimable_pages;
	case RA_STAT_NR_ANON_PAGES:         return m->st.user_pages;
	case RA_STAT_NR_PAGE_TABLE_PAGES:   return m->st.pgtable_pages;
	case RA_STAT_PAGES_ALLOC_PAGES:     return m->st.pages_alloc_pages;
	case RA_STAT_KMALLOC_LARGE_PAGES:   return m->st.kmalloc_large_pages;
	case RA_STAT_VMALLOC_PAGES:         return m->st.vmalloc_pages;
	case RA_STAT_BALLOON_PAGES:         return m->st.balloon_pages;
	case RA_STAT_PCP_PAGES:             return m->st.pcp_pages;
	case RA_STAT_ZEROPAGE_PAGES:        return m->st.zeropage_pages;
	case RA_STAT_HIGHATOMIC_RESERVED:   return m->st.highatomic_reserved;
	case RA_STAT_KSWAPD_WAKE:           return m->st.kswapd_wake;
	case RA_STAT_DIRECT_RECLAIM:        return m->st.direct_reclaim;
	case RA_STAT_PCP_DRAIN_ALL:         return m->st.pcp_drain_all;
	case RA_STAT_ALLOC_FAIL:            return m->st.alloc_fail;
	case RA_STAT_NOFAIL_FAILED:         return m->st.nofail_failed;
	case RA_STAT_REPORTS:               return m->st.reports;
	case RA_STAT_OOM_KILL:              return m->mmw ? m->mmw->nr_kills : 0;
	default: return 0;
	}
}

int ra_stat_read(const ra_machine *m, enum ra_stat_item item, int zone, struct ra_stat_value *v)
{
	if ((unsigned)item >= RA_NR_STATS || zone < RA_ZONE_ALL || zone >= RA_NR_ZONES)
		return RA_EINVAL;
	bool zoned = stat_table[item].kind == RA_SK_ZONE || stat_table[item].kind == RA_SK_ZEVENT;
	if (zone != RA_ZONE_ALL && !zoned)
		return RA_EINVAL;
	uint64_t x = 0;
	if (!zoned)
		x = node_value(m, item);
	else if (zone != RA_ZONE_ALL)
		x = zone_value(m, item, zone);
	else
		for (int z = 0; z < RA_NR_ZONES; z++)
			x += zone_value(m, item, z);
	v->value = x;
	v->peak = x;
	return RA_OK;
}
