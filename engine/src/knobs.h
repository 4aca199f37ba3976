/*
 * knobs.h — the one knob table. Every tuning knob of the engine is declared
 * once here: its name, default, range, where it lives, one line of help.
 * The trace (`sysctl`, `mallopt`), the command line (`--set NAME=VALUE`), the
 * environment (REFALLOC_<NAME>, dots as underscores, upper case) and
 * `refalloc knobs` all read this table; bench sweeps iterate over it.
 *
 * X(ID, "name", default, min, max, nvals, flags, "where", "help")
 *   nvals > 1: a vector knob written "a,b,c" (or tab/space separated in
 *   sysctl style); flags: KF_AUTO (default computed from the machine),
 *   KF_BOOT (takes effect for objects created after it is set).
 */
#ifndef RA_KNOBS_H
#define RA_KNOBS_H

#include <stdint.h>
#include <stdbool.h>

#define KF_AUTO  0x1
#define KF_BOOT  0x2
#define KF_MALLOPT 0x4    /* initial value of a per-task mallopt parameter */

#define RA_KNOB_LIST(X) \
	X(VM_MIN_FREE_KBYTES, "vm.min_free_kbytes", 0, 0, 1073741824, 1, KF_AUTO, "zones", \
	  "reserve below which only atomic/high allocations proceed; default clamp(int_sqrt(lowmem_kbytes*16),128,262144)") \
	X(VM_WATERMARK_SCALE_FACTOR, "vm.watermark_scale_factor", 10, 1, 3000, 1, 0, "zones", \
	  "gap between min, low and high watermarks in 1/10000 of a zone's managed pages") \
	X(VM_LOWMEM_RESERVE_RATIO, "vm.lowmem_reserve_ratio", 256, 0, 2147483647, 4, 0, "zones", \
	  "per zone (DMA,DMA32,Normal,Movable): reserve = managed pages of higher zones / ratio (0 = none); default 256,256,32,0") \
	X(VM_PERCPU_PAGELIST_HIGH_FRACTION, "vm.percpu_pagelist_high_fraction", 0, 0, 2147483647, 1, 0, "pcp", \
	  "0: pcp high from the low watermark; else managed/fraction split over cpus (0 or >= 8)") \
	X(VM_OVERCOMMIT_MEMORY, "vm.overcommit_memory", 0, 0, 2, 1, 0, "mm", \
	  "0 heuristic, 1 always grant, 2 strict: Committed_AS <= CommitLimit") \
	X(VM_OVERCOMMIT_RATIO, "vm.overcommit_ratio", 50, 0, 2147483647, 1, 0, "mm", \
	  "percent of RAM counted in CommitLimit (when overcommit_kbytes is 0)") \
	X(VM_OVERCOMMIT_KBYTES, "vm.overcommit_kbytes", 0, 0, 4611686018427387903LL, 1, 0, "mm", \
	  "CommitLimit in kB instead of the ratio (0 = use the ratio)") \
	X(VM_ADMIN_RESERVE_KBYTES, "vm.admin_reserve_kbytes", 0, 0, 4611686018427387903LL, 1, KF_AUTO, "mm", \
	  "kept for root in overcommit mode 2; default min(free_kbytes/32, 8 MiB)") \
	X(VM_USER_RESERVE_KBYTES, "vm.user_reserve_kbytes", 0, 0, 4611686018427387903LL, 1, KF_AUTO, "mm", \
	  "kept back from a task in overcommit mode 2; default min(free_kbytes/32, 128 MiB)") \
	X(VM_PANIC_ON_OOM, "vm.panic_on_oom", 0, 0, 2, 1, 0, "oom", \
	  "0 kill a task, 1 panic unless the OOM is constrained, 2 always panic") \
	X(VM_OOM_KILL_ALLOCATING_TASK, "vm.oom_kill_allocating_task", 0, 0, 1, 1, 0, "oom", \
	  "1: kill the task that triggered the OOM instead of scanning") \
	X(VM_SWAPPINESS, "vm.swappiness", 60, 0, 200, 1, 0, "vmscan", \
	  "relative cost of swapping anon pages against dropping file pages: 0 file only (anon when file is tiny), 200 anon only") \
	X(VM_DIRTY_RATIO, "vm.dirty_ratio", 20, 0, 100, 1, 0, "writeback", \
	  "percent of dirtyable memory at which a writer is throttled; writing it zeroes vm.dirty_bytes") \
	X(VM_DIRTY_BYTES, "vm.dirty_bytes", 0, 0, 4611686018427387903LL, 1, 0, "writeback", \
	  "the throttling threshold in bytes instead of the ratio (0 = use the ratio; else >= 8192); writing it zeroes vm.dirty_ratio") \
	X(VM_DIRTY_BACKGROUND_RATIO, "vm.dirty_background_ratio", 10, 0, 100, 1, 0, "writeback", \
	  "percent of dirtyable memory above which the flusher writes back; writing it zeroes vm.dirty_background_bytes") \
	X(VM_DIRTY_BACKGROUND_BYTES, "vm.dirty_background_bytes", 0, 0, 4611686018427387903LL, 1, 0, "writeback", \
	  "the background threshold in bytes instead of the ratio (0 = use the ratio); writing it zeroes vm.dirty_background_ratio") \
	X(VM_DIRTY_EXPIRE_CENTISECS, "vm.dirty_expire_centisecs", 3000, 0, 2147483647, 1, 0, "writeback", \
	  "age in 1/100 s at which a file's dirty pages are written back by the periodic flusher") \
	X(VM_DIRTY_WRITEBACK_CENTISECS, "vm.dirty_writeback_centisecs", 500, 0, 2147483647, 1, 0, "writeback", \
	  "period of the flusher in 1/100 s; 0 disables periodic writeback") \
	X(VM_VFS_CACHE_PRESSURE, "vm.vfs_cache_pressure", 100, 0, 2147483647, 1, 0, "vmscan", \
	  "percent scaling the dentry/inode shrinker's count (vfs_pressure_ratio); 0 never shrinks them") \
	X(VM_WATERMARK_BOOST_FACTOR, "vm.watermark_boost_factor", 0, 0, 2147483647, 1, 0, "zones", \
	  "most watermark boost after a fallback steal, in 1/10000 of the high watermark; 0 (the model's default) disables; the kernel's is 15000") \
	X(SLUB_MAX_ORDER, "slub_max_order", 3, 0, 10, 1, KF_BOOT, "slab", \
	  "largest slab order tried for a cache (boot parameter)") \
	X(SLUB_MIN_ORDER, "slub_min_order", 0, 0, 10, 1, KF_BOOT, "slab", \
	  "smallest slab order (boot parameter)") \
	X(SLUB_MIN_OBJECTS, "slub_min_objects", 0, 0, 32767, 1, KF_BOOT, "slab", \
	  "objects per slab aimed for; 0 = 4*(fls(cpus)+1)") \
	X(SLAB_NOMERGE, "slab_nomerge", 0, 0, 1, 1, KF_BOOT, "slab", \
	  "1: never merge compatible caches into one (kernel default merges)") \
	X(DEBUG_PAGEALLOC, "debug_pagealloc", 0, 0, 1, 1, KF_BOOT, "buddy", \
	  "1: free pages leave the kernel direct map: a trace's poke/peek of one is a page fault (boot parameter)") \
	X(M_MXFAST, "M_MXFAST", 128, 0, 160, 1, KF_MALLOPT, "malloc", \
	  "largest request served from fast bins (bytes); 0 disables them") \
	X(M_TRIM_THRESHOLD, "M_TRIM_THRESHOLD", 131072, -1, 4611686018427387903LL, 1, KF_MALLOPT, "malloc", \
	  "top chunk size above which free() trims the heap; -1 never") \
	X(M_TOP_PAD, "M_TOP_PAD", 131072, 0, 4611686018427387903LL, 1, KF_MALLOPT, "malloc", \
	  "extra bytes asked of brk and kept on trim") \
	X(M_MMAP_THRESHOLD, "M_MMAP_THRESHOLD", 131072, 0, 33554432, 1, KF_MALLOPT, "malloc", \
	  "requests at or above go to mmap (dynamic up to 32 MiB unless set)") \
	X(M_MMAP_MAX, "M_MMAP_MAX", 65536, 0, 2147483647, 1, KF_MALLOPT, "malloc", \
	  "most mmapped chunks at once; 0 disables mmap") \
	X(M_ARENA_MAX, "M_ARENA_MAX", 0, 0, 2147483647, 1, KF_MALLOPT, "malloc", \
	  "most arenas; 0 = 8 * cpus") \
	X(M_ARENA_TEST, "M_ARENA_TEST", 8, 1, 2147483647, 1, KF_MALLOPT, "malloc", \
	  "arenas created before the limit is computed") \
	X(M_PERTURB, "M_PERTURB", 0, 0, 255, 1, KF_MALLOPT, "malloc", \
	  "fill allocated memory with ~byte and freed memory with byte") \
	X(ENGINE_SEED, "engine.seed", 1, 0, 9223372036854775807LL, 1, 0, "engine", \
	  "seed of the PRNG behind fail prob= and randomized workloads") \
	X(ENGINE_REPORT_LIMIT, "engine.report_limit", 100, 0, 1000000, 1, 0, "engine", \
	  "misuse reports printed in full; later ones are only counted") \
	X(ENGINE_SLUB_FASTPATH, "engine.slub_cpu_slab", 1, 0, 1, 1, KF_BOOT, "engine", \
	  "1: SLUB per-cpu slabs and lockless freelists; 0: every allocation takes a partial slab")

enum ra_knob_id {
#define RA_KNOB_ENUM(id, name, def, min, max, nvals, flags, where, help) K_##id,
	RA_KNOB_LIST(RA_KNOB_ENUM)
#undef RA_KNOB_ENUM
	K_NR
};

#define RA_KNOB_MAXVALS 4

struct ra_knob_def {
	const char *name;
	int64_t def, min, max;
	unsigned nvals, flags;
	const char *where, *help;
};

struct ra_knobs {
	int64_t v[K_NR][RA_KNOB_MAXVALS];
	bool    set[K_NR];        /* set explicitly (env, --set, trace): auto defaults no longer apply */
};

extern const struct ra_knob_def ra_knob_defs[K_NR];
struct ra_machine;
int  ra_knob_lookup(const char *name, size_t len);
/* Parse and apply one value; returns 0 or RA_EINVAL (message via ra_last_error). */
int  ra_knob_set_id(struct ra_machine *m, int id, const char *value, size_t len);
void ra_knobs_init(struct ra_machine *m);       /* defaults + environment */
/* "NAME=VALUE" assignments at creation, before boot; 0, or -1 with the
 * error "NAME=VALUE: why" (ra_machine_create_ex). */
int  ra_knobs_assign(struct ra_machine *m, const char *const *sets, unsigned n);
void ra_knobs_auto(struct ra_machine *m);       /* recompute KF_AUTO defaults not set explicitly */
void ra_knob_format(const struct ra_machine *m, int id, char *buf, size_t len);

#define KNOB(m, id) ((m)->knobs.v[K_##id][0])

#endif /* RA_KNOBS_H */
