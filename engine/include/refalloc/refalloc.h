/*
 * refalloc.h — public interface of librefalloc, the reference engine.
 *
 * The engine is a deterministic user-space model of the Linux memory
 * allocator stack. Everything it knows lives in one struct ra_machine:
 * create one, drive it (directly through this API or by replaying a trace),
 * look at it through the /proc-style views, destroy it. No globals: any
 * number of machines may exist at once, one per thread.
 *
 * Addresses handed out are simulated ones (direct map, vmalloc range, user
 * range as on x86-64), never host pointers; ra_host_ptr() translates one to
 * the real bytes behind it.
 */
#ifndef REFALLOC_H
#define REFALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ra_machine ra_machine;
typedef uint64_t ra_addr_t;          /* a simulated address; 0 is NULL */
typedef uint32_t ra_gfp_t;

/* === Machine ============================================================ */

struct ra_config {
	uint64_t mem;        /* bytes of RAM, 16 MiB .. 64 GiB */
	uint32_t cpus;       /* simulated cpus, 1 .. 64 */
	uint64_t dma;        /* end of ZONE_DMA (bytes), default 16 MiB */
	uint64_t dma32;      /* end of ZONE_DMA32 (bytes), default 4 GiB */
	uint64_t cma;        /* size of the CMA area at the top of memory, 0 = none */
	uint64_t swap;       /* bytes of the disk swap device swapped on at boot, 0 = none */
	uint64_t zram;       /* bytes of the zram swap device swapped on at boot, 0 = none */
};

#define RA_MEM_MIN   (16ULL << 20)
#define RA_MEM_MAX   (64ULL << 30)
#define RA_FILE_MAX  (16LL << 40)   /* bytes of one file (a page index fits in 32 bits) */
#define RA_CPUS_MAX  64
#define RA_SWAP_MIN  (8LL << 10)    /* a swap device: a header page and one slot */
#define RA_SWAP_MAX  (64LL << 30)

void ra_config_default(struct ra_config *cfg);

/* Errors of ra_machine_create and of the knob functions. */
enum ra_err {
	RA_OK = 0,
	RA_EINVAL = -1,      /* a value out of range; ra_last_error() says which */
	RA_ENOMEM = -2,      /* the host could not reserve the memory */
	RA_ENOENT = -3,      /* no such knob / view / cache */
	RA_EKNOB = -4,       /* a knob assignment given to ra_machine_create_ex was refused;
	                        ra_last_error() says "NAME=VALUE: why" */
	RA_EIO = -5,         /* a file's writeback failed since the last fsync (fsync's EIO) */
};

/* out: where views print (NULL: views print nothing); err: where reports go. */
int  ra_machine_create(ra_machine **mp, const struct ra_config *cfg, FILE *out, FILE *err);
/* The same with knob assignments ("NAME=VALUE", the form of --set and of
 * the trace's sysctl) applied before the machine boots, in order, after the
 * environment's REFALLOC_<NAME> values: boot parameters (RA_KNOB_BOOT, such
 * as slub_max_order) shape the kmalloc caches, and a knob with an automatic
 * default keeps the value given. One path for --set, sweeps and the
 * environment. A refused assignment returns RA_EKNOB; a bad configuration
 * is reported first (RA_EINVAL). */
int  ra_machine_create_ex(ra_machine **mp, const struct ra_config *cfg, const char *const *sets, unsigned nsets,
                          FILE *out, FILE *err);
void ra_machine_destroy(ra_machine *m);
const char *ra_last_error(const ra_machine *m);
void ra_set_streams(ra_machine *m, FILE *out, FILE *err);

/* The operation the engine is executing on behalf of: shown as "caller" in
 * vmallocinfo, in slab tracking and in leak reports. file must outlive m. */
void ra_set_site(ra_machine *m, const char *file, uint32_t line);
/* Select the simulated cpu for kernel-side operations (per-cpu lists, slabs). */
void ra_set_cpu(ra_machine *m, unsigned cpu);

/* === GFP flags (bit values as Linux 6.1's include/linux/gfp_types.h) ==== */

#define RA___GFP_DMA            0x01u
#define RA___GFP_HIGHMEM        0x02u
#define RA___GFP_DMA32          0x04u
#define RA___GFP_MOVABLE        0x08u
#define RA___GFP_RECLAIMABLE    0x10u
#define RA___GFP_HIGH           0x20u
#define RA___GFP_IO             0x40u
#define RA___GFP_FS             0x80u
#define RA___GFP_ZERO           0x100u
#define RA___GFP_ATOMIC         0x200u  /* in GFP_ATOMIC; grants nothing since 6.1.119 */
#define RA___GFP_DIRECT_RECLAIM 0x400u
#define RA___GFP_KSWAPD_RECLAIM 0x800u
#define RA___GFP_WRITE          0x1000u
#define RA___GFP_NOWARN         0x2000u
#define RA___GFP_RETRY_MAYFAIL  0x4000u
#define RA___GFP_NOFAIL         0x8000u
#define RA___GFP_NORETRY        0x10000u
#define RA___GFP_MEMALLOC       0x20000u
#define RA___GFP_COMP           0x40000u
#define RA___GFP_NOMEMALLOC     0x80000u
#define RA___GFP_HARDWALL       0x100000u
#define RA___GFP_THISNODE       0x200000u
#define RA___GFP_ACCOUNT        0x400000u

#define RA___GFP_RECLAIM        (RA___GFP_DIRECT_RECLAIM | RA___GFP_KSWAPD_RECLAIM)
#define RA_GFP_ATOMIC           (RA___GFP_HIGH | RA___GFP_ATOMIC | RA___GFP_KSWAPD_RECLAIM)
#define RA_GFP_KERNEL           (RA___GFP_RECLAIM | RA___GFP_IO | RA___GFP_FS)
#define RA_GFP_KERNEL_ACCOUNT   (RA_GFP_KERNEL | RA___GFP_ACCOUNT)
#define RA_GFP_NOWAIT           (RA___GFP_KSWAPD_RECLAIM)
#define RA_GFP_NOIO             (RA___GFP_RECLAIM)
#define RA_GFP_NOFS             (RA___GFP_RECLAIM | RA___GFP_IO)
#define RA_GFP_USER             (RA___GFP_RECLAIM | RA___GFP_IO | RA___GFP_FS | RA___GFP_HARDWALL)
#define RA_GFP_DMA              RA___GFP_DMA
#define RA_GFP_DMA32            RA___GFP_DMA32
#define RA_GFP_HIGHUSER         (RA_GFP_USER | RA___GFP_HIGHMEM)
#define RA_GFP_HIGHUSER_MOVABLE (RA_GFP_HIGHUSER | RA___GFP_MOVABLE)

/* Parse "GFP_KERNEL|__GFP_ZERO"; returns 0, or -1 with *bad at the bad name. */
int ra_gfp_parse(const char *s, size_t len, ra_gfp_t *out, size_t *bad_off);
/* Print flags as the kernel's %pGg does ("GFP_KERNEL|__GFP_ZERO"). */
void ra_gfp_format(ra_gfp_t gfp, char *buf, size_t len);

/* === Kernel side ======================================================== */

#define RA_PAGE_SHIFT 12
#define RA_PAGE_SIZE  4096ULL
#define RA_MAX_ORDER  10                     /* MAX_PAGE_ORDER */

/* Pages: returns the direct-map address of the first page, 0 on failure. */
ra_addr_t ra_alloc_pages(ra_machine *m, ra_gfp_t gfp, unsigned order);
/* 0, or -1 when the engine refused a misuse (reported through the funnel). */
int  ra_free_pages(ra_machine *m, ra_addr_t addr, unsigned order);

/* kmalloc. ZERO_SIZE_PTR is returned for size 0, as in the kernel. */
#define RA_ZERO_SIZE_PTR ((ra_addr_t)16)
ra_addr_t ra_kmalloc(ra_machine *m, size_t size, ra_gfp_t gfp);
ra_addr_t ra_kzalloc(ra_machine *m, size_t size, ra_gfp_t gfp);
ra_addr_t ra_krealloc(ra_machine *m, ra_addr_t p, size_t size, ra_gfp_t gfp);
int  ra_kfree(ra_machine *m, ra_addr_t p);
size_t ra_ksize(ra_machine *m, ra_addr_t p);

/* Slab caches. flags: RA_SLAB_* below. */
typedef struct ra_cache ra_cache;
#define RA_SLAB_CONSISTENCY_CHECKS 0x00000100u   /* F */
#define RA_SLAB_RED_ZONE           0x00000400u   /* Z */
#define RA_SLAB_POISON             0x00000800u   /* P */
#define RA_SLAB_HWCACHE_ALIGN      0x00002000u
#define RA_SLAB_CACHE_DMA          0x00004000u
#define RA_SLAB_CACHE_DMA32        0x00008000u
#define RA_SLAB_STORE_USER         0x00010000u   /* U */
#define RA_SLAB_PANIC              0x00040000u
#define RA_SLAB_TYPESAFE_BY_RCU    0x00080000u
#define RA_SLAB_TRACE              0x00200000u
#define RA_SLAB_NOLEAKTRACE        0x00800000u
#define RA_SLAB_ACCOUNT            0x04000000u
#define RA_SLAB_RECLAIM_ACCOUNT    0x00020000u
#define RA_SLAB_KMALLOC            0x10000000u   /* engine-internal: a kmalloc cache */

ra_cache *ra_kmem_cache_create(ra_machine *m, const char *name, size_t size,
                               size_t align, uint32_t flags);
ra_addr_t ra_kmem_cache_alloc(ra_machine *m, ra_cache *c, ra_gfp_t gfp);
int  ra_kmem_cache_free(ra_machine *m, ra_cache *c, ra_addr_t p);
int  ra_kmem_cache_shrink(ra_machine *m, ra_cache *c);
int  ra_kmem_cache_destroy(ra_machine *m, ra_cache *c);
ra_cache *ra_kmem_cache_find(ra_machine *m, const char *name);
const char *ra_cache_name(const ra_cache *c);
size_t ra_cache_object_size(const ra_cache *c);

/* vmalloc and ioremap. */
ra_addr_t ra_vmalloc(ra_machine *m, size_t size);
ra_addr_t ra_vzalloc(ra_machine *m, size_t size);
int  ra_vfree(ra_machine *m, ra_addr_t p);
ra_addr_t ra_ioremap(ra_machine *m, uint64_t phys, size_t size);
int  ra_iounmap(ra_machine *m, ra_addr_t p);

/* Balloon: take pages away from the machine (MemTotal drops). */
int  ra_balloon_inflate(ra_machine *m, uint64_t bytes, uint32_t *id);
int  ra_balloon_deflate(ra_machine *m, uint32_t id);

/* Kernel memory access (for traces' poke/peek and for tests): copies
 * through the simulated mapping. Returns 0, or -1 after reporting a fault
 * (address not mapped, guard page). Writes may deliberately cross object
 * bounds: detecting that is the job of slab debugging and the sanitizers. */
int  ra_kwrite(ra_machine *m, ra_addr_t addr, const void *src, size_t len);
int  ra_kfill(ra_machine *m, ra_addr_t addr, int byte, size_t len);
int  ra_kread(ra_machine *m, ra_addr_t addr, void *dst, size_t len);
/* Host pointer of [addr, addr+len) when it is contiguous in host memory. */
void *ra_host_ptr(ra_machine *m, ra_addr_t addr, size_t len);

/* === User side ========================================================== */

/* Tasks are made and driven by traces (task, fork, malloc, ...: ra_replay);
 * refalloc/inspect.h reads them. Their memory, by pid, accessed as the
 * task's own loads and stores: page faults are taken as the CPU would take
 * them (demand paging, copy-on-write) and count in the task's RSS and fault
 * counters, as a trace's touch does. Returns 0; -1 after a segfault report
 * (address not mapped, not writable); -2 when no live task has pid or a
 * fault could not be served (the task may have been OOM-killed). */
int  ra_user_write(ra_machine *m, uint32_t pid, uint64_t addr, const void *src, size_t len);
int  ra_user_read(ra_machine *m, uint32_t pid, uint64_t addr, void *dst, size_t len);

/* === Knobs ============================================================== */

int  ra_knob_set(ra_machine *m, const char *name, const char *value);
int  ra_knob_get(ra_machine *m, const char *name, char *buf, size_t len);
/* Print the knob table (name, default, range, where, help). */
void ra_knobs_print(FILE *f);

/* The knob table itself, one entry per knob in `refalloc knobs` order, for
 * tools that iterate over it (sweeps, front ends): no internal header
 * needed. Values are set by name (ra_knob_set, ra_machine_create_ex). */
#define RA_KNOB_AUTO     0x1u   /* default computed from the machine at boot (def[] is the fallback) */
#define RA_KNOB_BOOT     0x2u   /* a boot parameter: affects objects created after it is set */
#define RA_KNOB_MALLOPT  0x4u   /* a mallopt parameter: each new task's starting value */
#define RA_KNOB_NVALS_MAX 4

struct ra_knob_info {
	const char *name;                 /* "vm.min_free_kbytes", "slub_max_order", "M_MMAP_THRESHOLD", ... */
	int64_t  def[RA_KNOB_NVALS_MAX];  /* default of each value (def[0] for a scalar knob) */
	int64_t  min, max;                /* range of every value */
	unsigned nvals;                   /* 1, or the number of values of a vector knob */
	unsigned flags;                   /* RA_KNOB_* */
	const char *where;                /* the layer that reads it: "zones", "slab", "malloc", ... */
	const char *help;                 /* one line */
};

unsigned ra_knob_count(void);
/* Entry idx (0 .. ra_knob_count()-1): RA_OK, or RA_ENOENT past the end. */
int  ra_knob_info(unsigned idx, struct ra_knob_info *info);
/* Index of the knob named by name[0..len), or -1. */
int  ra_knob_find(const char *name, size_t len);

/* === Views and checks =================================================== */

/* Print a view ("buddyinfo", "meminfo", ...) to the machine's out stream. */
int  ra_view(ra_machine *m, const char *name);
/* Names of all views, NULL-terminated. */
const char *const *ra_view_names(void);

enum ra_check_level { RA_CHECK_OFF = 0, RA_CHECK_OP = 1, RA_CHECK_FULL = 2 };
void ra_set_check_level(ra_machine *m, enum ra_check_level lvl);
/* Run the validators now; returns the number of problems (each reported). */
long ra_check(ra_machine *m, enum ra_check_level lvl);

/* Misuse and corruption reports since creation (the error funnel's count). */
unsigned long ra_reports(const ra_machine *m);

#ifdef __cplusplus
}
#endif
#endif /* REFALLOC_H */
