/*
 * stats.h — the engine's counters, declared once, as the kernel declares
 * its own (include/linux/mmzone.h's zone_stat_item and node_stat_item,
 * include/linux/vm_event_item.h's vm_event_item), and read through one
 * public call.
 *
 * Three kinds, as in the kernel:
 *   RA_SK_ZONE   a level kept per zone (zone_stat_item); read per zone or summed
 *   RA_SK_NODE   a level of the machine's one node (node_stat_item)
 *   RA_SK_EVENT  an event count that only grows (vm_event_item); the ones
 *                the kernel keeps per zone (pgalloc_<zone>, allocstall_<zone>)
 *                are RA_SK_ZEVENT and print with the zone's suffix
 * Levels with RA_SF_PEAK also remember their highest value.
 *
 * Items flagged RA_SF_VMSTAT are the kernel's, in /proc/vmstat's order and
 * with its names: `dump vmstat` prints exactly those, in list order. The
 * others are the engine's own (pages held by each kind of owner, slow-path
 * events the kernel only traces): readable here, never printed as vmstat.
 *
 * Units: pages, except where the kernel's name says otherwise
 * (nr_kernel_stack is in KiB, as /proc/vmstat shows it).
 */
#ifndef REFALLOC_STATS_H
#define REFALLOC_STATS_H

#include "refalloc/refalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ra_stat_kind { RA_SK_ZONE, RA_SK_NODE, RA_SK_EVENT, RA_SK_ZEVENT };
#define RA_SF_VMSTAT 0x1   /* a /proc/vmstat line */
#define RA_SF_PEAK   0x2   /* a level whose peak is kept */

/* X(ITEM, "name", kind, flags). The RA_SF_VMSTAT items are in /proc/vmstat's
 * order (Linux 6.1, mm/vmstat.c's vmstat_text): zone items, node items,
 * then events. */
#define RA_STAT_LIST(X) \
	/* zone_stat_item */ \
	X(NR_FREE_PAGES,        "nr_free_pages",        RA_SK_ZONE,  RA_SF_VMSTAT) \
	X(NR_ZONE_INACTIVE_ANON, "nr_zone_inactive_anon", RA_SK_ZONE, RA_SF_VMSTAT) \
	X(NR_ZONE_ACTIVE_ANON,  "nr_zone_active_anon",  RA_SK_ZONE,  RA_SF_VMSTAT) \
	X(NR_ZONE_INACTIVE_FILE, "nr_zone_inactive_file", RA_SK_ZONE, RA_SF_VMSTAT) \
	X(NR_ZONE_ACTIVE_FILE,  "nr_zone_active_file",  RA_SK_ZONE,  RA_SF_VMSTAT) \
	X(NR_ZONE_UNEVICTABLE,  "nr_zone_unevictable",  RA_SK_ZONE,  RA_SF_VMSTAT) \
	X(NR_ZONE_WRITE_PENDING, "nr_zone_write_pending", RA_SK_ZONE, RA_SF_VMSTAT) \
	X(NR_MLOCK,             "nr_mlock",             RA_SK_ZONE,  RA_SF_VMSTAT) \
	X(NR_ZSPAGES,           "nr_zspages",           RA_SK_ZONE,  RA_SF_VMSTAT) \
	X(NR_FREE_CMA,          "nr_free_cma",          RA_SK_ZONE,  RA_SF_VMSTAT) \
	/* node_stat_item */ \
	X(NR_INACTIVE_ANON,     "nr_inactive_anon",     RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_ACTIVE_ANON,       "nr_active_anon",       RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_INACTIVE_FILE,     "nr_inactive_file",     RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_ACTIVE_FILE,       "nr_active_file",       RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_UNEVICTABLE,       "nr_unevictable",       RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_SLAB_RECLAIMABLE,  "nr_slab_reclaimable",  RA_SK_NODE,  RA_SF_VMSTAT | RA_SF_PEAK) \
	X(NR_SLAB_UNRECLAIMABLE, "nr_slab_unreclaimable", RA_SK_NODE, RA_SF_VMSTAT | RA_SF_PEAK) \
	X(WORKINGSET_NODES,     "workingset_nodes",     RA_SK_NODE,  RA_SF_VMSTAT) \
	X(WORKINGSET_REFAULT_ANON, "workingset_refault_anon", RA_SK_NODE, RA_SF_VMSTAT) \
	X(WORKINGSET_REFAULT_FILE, "workingset_refault_file", RA_SK_NODE, RA_SF_VMSTAT) \
	X(WORKINGSET_ACTIVATE_ANON, "workingset_activate_anon", RA_SK_NODE, RA_SF_VMSTAT) \
	X(WORKINGSET_ACTIVATE_FILE, "workingset_activate_file", RA_SK_NODE, RA_SF_VMSTAT) \
	X(WORKINGSET_RESTORE_ANON, "workingset_restore_anon", RA_SK_NODE, RA_SF_VMSTAT) \
	X(WORKINGSET_RESTORE_FILE, "workingset_restore_file", RA_SK_NODE, RA_SF_VMSTAT) \
	X(WORKINGSET_NODERECLAIM, "workingset_nodereclaim", RA_SK_NODE, RA_SF_VMSTAT) \
	X(NR_ANON_PAGES,        "nr_anon_pages",        RA_SK_NODE,  RA_SF_VMSTAT | RA_SF_PEAK) \
	X(NR_FILE_MAPPED,       "nr_mapped",            RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_FILE_PAGES,        "nr_file_pages",        RA_SK_NODE,  RA_SF_VMSTAT | RA_SF_PEAK) \
	X(NR_FILE_DIRTY,        "nr_dirty",             RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_WRITEBACK,         "nr_writeback",         RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_SHMEM,             "nr_shmem",             RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_VMSCAN_WRITE,      "nr_vmscan_write",      RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_DIRTIED,           "nr_dirtied",           RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_WRITTEN,           "nr_written",           RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_KERNEL_STACK,      "nr_kernel_stack",      RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_PAGE_TABLE_PAGES,  "nr_page_table_pages",  RA_SK_NODE,  RA_SF_VMSTAT | RA_SF_PEAK) \
	X(NR_SWAPCACHE,         "nr_swapcached",        RA_SK_NODE,  RA_SF_VMSTAT) \
	/* writeback_stat_item: computed when read (global_dirty_limits()) */ \
	X(NR_DIRTY_THRESHOLD,   "nr_dirty_threshold",   RA_SK_NODE,  RA_SF_VMSTAT) \
	X(NR_DIRTY_BG_THRESHOLD, "nr_dirty_background_threshold", RA_SK_NODE, RA_SF_VMSTAT) \
	/* vm_event_item */ \
	X(PGPGIN,               "pgpgin",               RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGPGOUT,              "pgpgout",              RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PSWPIN,               "pswpin",               RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PSWPOUT,              "pswpout",              RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGALLOC,              "pgalloc",              RA_SK_ZEVENT, RA_SF_VMSTAT) \
	X(ALLOCSTALL,           "allocstall",           RA_SK_ZEVENT, RA_SF_VMSTAT) \
	X(PGSKIP,               "pgskip",               RA_SK_ZEVENT, RA_SF_VMSTAT) \
	X(PGFREE,               "pgfree",               RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGACTIVATE,           "pgactivate",           RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGDEACTIVATE,         "pgdeactivate",         RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGLAZYFREE,           "pglazyfree",           RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGFAULT,              "pgfault",              RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGMAJFAULT,           "pgmajfault",           RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGLAZYFREED,          "pglazyfreed",          RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGREFILL,             "pgrefill",             RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSTEAL_KSWAPD,       "pgsteal_kswapd",       RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSTEAL_DIRECT,       "pgsteal_direct",       RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSCAN_KSWAPD,        "pgscan_kswapd",        RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSCAN_DIRECT,        "pgscan_direct",        RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSCAN_ANON,          "pgscan_anon",          RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSCAN_FILE,          "pgscan_file",          RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSTEAL_ANON,         "pgsteal_anon",         RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGSTEAL_FILE,         "pgsteal_file",         RA_SK_EVENT, RA_SF_VMSTAT) \
	X(SLABS_SCANNED,        "slabs_scanned",        RA_SK_EVENT, RA_SF_VMSTAT) \
	X(KSWAPD_LOW_WMARK_HIT_QUICKLY,  "kswapd_low_wmark_hit_quickly",  RA_SK_EVENT, RA_SF_VMSTAT) \
	X(KSWAPD_HIGH_WMARK_HIT_QUICKLY, "kswapd_high_wmark_hit_quickly", RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PAGEOUTRUN,           "pageoutrun",           RA_SK_EVENT, RA_SF_VMSTAT) \
	X(PGROTATED,            "pgrotated",            RA_SK_EVENT, RA_SF_VMSTAT) \
	X(DROP_PAGECACHE,       "drop_pagecache",       RA_SK_EVENT, RA_SF_VMSTAT) \
	X(DROP_SLAB,            "drop_slab",            RA_SK_EVENT, RA_SF_VMSTAT) \
	X(OOM_KILL,             "oom_kill",             RA_SK_EVENT, RA_SF_VMSTAT) \
	X(BALLOON_INFLATE,      "balloon_inflate",      RA_SK_EVENT, RA_SF_VMSTAT) \
	X(BALLOON_DEFLATE,      "balloon_deflate",      RA_SK_EVENT, RA_SF_VMSTAT) \
	X(SWAP_RA,              "swap_ra",              RA_SK_EVENT, RA_SF_VMSTAT) \
	X(SWAP_RA_HIT,          "swap_ra_hit",          RA_SK_EVENT, RA_SF_VMSTAT) \
	/* the engine's own */ \
	X(PAGES_ALLOC_PAGES,    "ra_alloc_pages_pages", RA_SK_NODE,  RA_SF_PEAK) \
	X(KMALLOC_LARGE_PAGES,  "ra_kmalloc_large_pages", RA_SK_NODE, RA_SF_PEAK) \
	X(VMALLOC_PAGES,        "ra_vmalloc_pages",     RA_SK_NODE,  RA_SF_PEAK) \
	X(BALLOON_PAGES,        "ra_balloon_pages",     RA_SK_NODE,  0) \
	X(PCP_PAGES,            "ra_pcp_pages",         RA_SK_NODE,  RA_SF_PEAK) \
	X(KSWAPD_WAKE,          "ra_kswapd_wake",       RA_SK_EVENT, 0) \
	X(PCP_DRAIN_ALL,        "ra_pcp_drain_all",     RA_SK_EVENT, 0) \
	X(ALLOC_FAIL,           "ra_alloc_fail",        RA_SK_EVENT, 0) \
	X(NOFAIL_FAILED,        "ra_nofail_failed",     RA_SK_EVENT, 0) \
	X(WMARK_FAIL,           "ra_wmark_fail",        RA_SK_ZEVENT, 0) \
	X(STEAL,                "ra_steal",             RA_SK_ZEVENT, 0) \
	X(FALLBACK,             "ra_fallback",          RA_SK_ZEVENT, 0) \
	X(REPORTS,              "ra_reports",           RA_SK_EVENT, 0) \
	X(DIRTY_THROTTLE,       "ra_dirty_throttle",    RA_SK_EVENT, 0) \
	X(DIRTY_PAUSE_MS,       "ra_dirty_pause_ms",    RA_SK_EVENT, 0)

enum ra_stat_item {
#define RA_STAT_ENUM(item, name, kind, flags) RA_STAT_##item,
	RA_STAT_LIST(RA_STAT_ENUM)
#undef RA_STAT_ENUM
	RA_NR_STATS
};

#define RA_ZONE_ALL (-1)

struct ra_stat_value {
	uint64_t value;   /* the level now, or the events so far */
	uint64_t peak;    /* RA_SF_PEAK levels: the highest value; otherwise = value */
};

/* The one read-out. zone: RA_ZONE_ALL for the machine (zone items summed),
 * or a zone index 0..3 (DMA, DMA32, Normal, Movable) for the per-zone
 * kinds. Returns RA_OK, or RA_EINVAL for an unknown item or zone (or a
 * zone index given for a machine-wide item). */
int ra_stat_read(const ra_machine *m, enum ra_stat_item item, int zone, struct ra_stat_value *v);
static inline uint64_t ra_stat(const ra_machine *m, enum ra_stat_item item)
{
	struct ra_stat_value v = { 0, 0 };
	ra_stat_read(m, item, RA_ZONE_ALL, &v);
	return v.value;
}

/* Table access: name, kind and flags of an item; lookup by name (-1 if none). */
const char *ra_stat_name(enum ra_stat_item item);
enum ra_stat_kind ra_stat_kind(enum ra_stat_item item);
unsigned ra_stat_flags(enum ra_stat_item item);
int ra_stat_lookup(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* REFALLOC_STATS_H */
