/*
 * trace_bin.c — the binary trace encoding fuzzers mutate.
 *
 * Every byte string decodes to a valid operation sequence. A header byte
 * pair picks the machine (size, cpus, CMA, slub_debug, overcommit mode);
 * then each operation is one class byte (modulo the profile's class list)
 * followed by its arguments:
 *
 *   sizes     one byte indexing a table of interesting sizes (class
 *             boundaries: 8, 96, 192, 1032, 8192, 128K, 32M ...), or 0xF0..0xFF
 *             followed by the exact value as a LEB128 varint;
 *   handles   an index among the live objects of the right kind (one byte,
 *             two when more than 255 are live), so a handle is never stale
 *             unless the class is a deliberate misuse;
 *   flags     GFP masks and cache flags from tables, with exact escapes.
 *
 * Misuse is explicit: double free, use after free, out-of-bounds write,
 * freeing with the wrong function or to the wrong cache, destroying a busy
 * cache, shrinking the heap under malloc. Each is followed by `expect any`.
 * An operation that has nothing to act on (no live object of its kind, no
 * current task) decodes to nothing; the end of the input ends the trace.
 *
 * Decoding and encoding are one walk: each class's function either reads
 * its bytes and fills an op, or takes the op and writes its bytes, over the
 * same model of live handles. decode(encode(T)) is T up to handle names and
 * comments; encode(decode(B)) is the canonical form of B.
 */
#include "refalloc/trace.h"
#include "phys.h"
#include <inttypes.h>

/* === Classes and profiles =============================================== */

enum cls {
	C_ALLOC_PAGES, C_FREE_PAGES, C_KMALLOC, C_KZALLOC, C_KREALLOC, C_KFREE, C_CACHE_CREATE, C_CACHE_ALLOC,
	C_CACHE_FREE, C_CACHE_SHRINK, C_CACHE_DESTROY, C_VMALLOC, C_VZALLOC, C_VFREE, C_IOREMAP, C_IOUNMAP,
	C_POKE, C_PEEK, C_CPU, C_BALLOON, C_UNBALLOON,
	C_TASK, C_SWITCH, C_FORK, C_EXIT, C_MALLOC, C_CALLOC, C_REALLOC, C_MEMALIGN, C_FREE, C_MALLOPT,
	C_MALLOC_TRIM, C_MMAP, C_MUNMAP, C_BRK, C_MLOCKALL, C_TOUCH, C_READ, C_OOM_SCORE_ADJ, C_OOM_ADJ,
	C_SYSCTL, C_FAIL, C_CHECK, C_DUMP,
	C_M_DOUBLE_FREE, C_M_UAF, C_M_OOB, C_M_WRONG_FREE, C_M_WRONG_CACHE, C_M_BUSY_DESTROY, C_M_BRK_SHRINK,
	/* files and the page cache: only the pressure profile draws them */
	C_FILE, C_FREAD, C_FWRITE, C_FSYNC, C_FTRUNCATE, C_FUNLINK, C_FADVISE, C_FPEEK, C_DROP_CACHES,
	C_FMMAP, C_MSYNC, C_SLEEP, C_PSYSCTL,
	/* swap devices: the pressure profile */
	C_SWAPON, C_SWAPOFF,
	/* madvise of a mapping: the pressure profile */
	C_MADVISE,
	C_NR
};

/* Each profile lists classes; repeats weight the common ones. */
static const uint8_t prof_engine[] = {
	C_ALLOC_PAGES, C_ALLOC_PAGES, C_FREE_PAGES, C_FREE_PAGES, C_KMALLOC, C_KMALLOC, C_KMALLOC, C_KZALLOC,
	C_KREALLOC, C_KFREE, C_KFREE, C_KFREE, C_CACHE_CREATE, C_CACHE_ALLOC, C_CACHE_ALLOC, C_CACHE_FREE,
	C_CACHE_FREE, C_CACHE_SHRINK, C_CACHE_DESTROY, C_VMALLOC, C_VZALLOC, C_VFREE, C_VFREE, C_IOREMAP,
	C_IOUNMAP, C_POKE, C_PEEK, C_CPU, C_BALLOON, C_UNBALLOON,
	C_TASK, C_SWITCH, C_SWITCH, C_FORK, C_EXIT, C_MALLOC, C_MALLOC, C_MALLOC, C_CALLOC, C_REALLOC,
	C_MEMALIGN, C_FREE, C_FREE, C_FREE, C_MALLOPT, C_MALLOC_TRIM, C_MMAP, C_MMAP, C_MUNMAP, C_BRK,
	C_MLOCKALL, C_TOUCH, C_TOUCH, C_READ, C_OOM_SCORE_ADJ, C_OOM_ADJ,
	C_SYSCTL, C_FAIL, C_CHECK, C_DUMP,
	C_M_DOUBLE_FREE, C_M_UAF, C_M_OOB, C_M_WRONG_FREE, C_M_WRONG_CACHE, C_M_BUSY_DESTROY, C_M_BRK_SHRINK,
};
static const uint8_t prof_buddy[] = {
	C_ALLOC_PAGES, C_ALLOC_PAGES, C_ALLOC_PAGES, C_FREE_PAGES, C_FREE_PAGES, C_FREE_PAGES, C_POKE, C_PEEK,
	C_CPU, C_CPU, C_BALLOON, C_UNBALLOON, C_SYSCTL, C_FAIL, C_CHECK, C_DUMP, C_M_DOUBLE_FREE, C_M_UAF,
	C_M_OOB, C_M_WRONG_FREE,
};
static const uint8_t prof_slab[] = {
	C_KMALLOC, C_KMALLOC, C_KMALLOC, C_KZALLOC, C_KREALLOC, C_KFREE, C_KFREE, C_KFREE, C_CACHE_CREATE,
	C_CACHE_ALLOC, C_CACHE_ALLOC, C_CACHE_ALLOC, C_CACHE_FREE, C_CACHE_FREE, C_CACHE_FREE, C_CACHE_SHRINK,
	C_CACHE_DESTROY, C_POKE, C_PEEK, C_CPU, C_CPU, C_FAIL, C_CHECK, C_DUMP, C_SYSCTL,
	C_M_DOUBLE_FREE, C_M_UAF, C_M_OOB, C_M_WRONG_FREE, C_M_WRONG_CACHE, C_M_BUSY_DESTROY,
};
static const uint8_t prof_vmalloc[] = {
	C_VMALLOC, C_VMALLOC, C_VZALLOC, C_VFREE, C_VFREE, C_IOREMAP, C_IOUNMAP, C_POKE, C_PEEK, C_KMALLOC,
	C_KFREE, C_ALLOC_PAGES, C_FREE_PAGES, C_FAIL, C_CHECK, C_DUMP, C_M_DOUBLE_FREE, C_M_UAF, C_M_OOB,
	C_M_WRONG_FREE,
};
static const uint8_t prof_umalloc[] = {
	C_TASK, C_SWITCH, C_SWITCH, C_FORK, C_EXIT, C_MALLOC, C_MALLOC, C_MALLOC, C_MALLOC, C_CALLOC, C_REALLOC,
	C_REALLOC, C_MEMALIGN, C_FREE, C_FREE, C_FREE, C_FREE, C_MALLOPT, C_MALLOPT, C_MALLOC_TRIM, C_MMAP,
	C_MUNMAP, C_BRK, C_MLOCKALL, C_TOUCH, C_TOUCH, C_READ, C_FAIL, C_CHECK, C_DUMP,
	C_M_DOUBLE_FREE, C_M_UAF, C_M_OOB, C_M_BRK_SHRINK,
};

/* Memory pressure on purpose: files on disk and tmpfs read, written,
 * synced, truncated, unlinked and dropped at page and readahead-window
 * boundaries, mapped private or shared (touched, read, msync'd,
 * unmapped), among kernel allocations, balloons and tasks touching
 * memory, on 16..64 MiB machines (header) with or without swap and zram
 * (header, swapon, swapoff), so that direct reclaim, swap-out and swap-in,
 * kswapd and the OOM killer run. No misuse: the oracle's shadow of every file
 * stays exact. */
static const uint8_t prof_pressure[] = {
	C_FILE, C_FILE, C_FILE, C_FREAD, C_FREAD, C_FREAD, C_FREAD, C_FWRITE, C_FWRITE, C_FWRITE, C_FWRITE,
	C_FSYNC, C_FSYNC, C_FTRUNCATE, C_FTRUNCATE, C_FUNLINK, C_FADVISE, C_FADVISE, C_FPEEK, C_FPEEK,
	C_DROP_CACHES, C_DROP_CACHES, C_ALLOC_PAGES, C_ALLOC_PAGES, C_FREE_PAGES, C_KMALLOC, C_KMALLOC, C_KFREE,
	C_VMALLOC, C_VMALLOC, C_VFREE, C_BALLOON, C_UNBALLOON, C_TASK, C_TASK, C_SWITCH, C_FORK, C_EXIT,
	C_MMAP, C_MMAP, C_MUNMAP, C_MALLOC, C_FREE, C_TOUCH, C_TOUCH, C_READ, C_MLOCKALL, C_OOM_SCORE_ADJ,
	C_SYSCTL, C_CPU, C_FAIL, C_CHECK, C_FMMAP, C_FMMAP, C_FMMAP, C_MSYNC, C_DUMP, C_SLEEP, C_SLEEP, C_PSYSCTL,
	C_PSYSCTL, C_SWAPON, C_SWAPOFF, C_MADVISE,
};

struct profile { const char *name; const uint8_t *cls; unsigned n; };
static const struct profile profiles[] = {
	{ "engine", prof_engine, sizeof(prof_engine) }, { "buddy", prof_buddy, sizeof(prof_buddy) },
	{ "slab", prof_slab, sizeof(prof_slab) }, { "vmalloc", prof_vmalloc, sizeof(prof_vmalloc) },
	{ "umalloc", prof_umalloc, sizeof(prof_umalloc) }, { "pressure", prof_pressure, sizeof(prof_pressure) },
};
#define PROF_PRESSURE 5

int ra_trace_profile(const char *name)
{
	for (size_t i = 0; i < RA_ARRAY_SIZE(profiles); i++)
		if (!strcmp(profiles[i].name, name))
			return (int)i;
	return -1;
}

/* === Value tables ======================================================= */

static const uint64_t ksizes[64] = {
	1, 3, 7, 8, 9, 16, 24, 31, 32, 33, 40, 48, 56, 63, 64, 65, 72, 80, 88, 95, 96, 97, 104, 112, 120, 127,
	128, 129, 136, 160, 176, 191, 192, 193, 255, 256, 257, 400, 511, 512, 513, 1000, 1023, 1024, 1025, 2047,
	2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193, 12288, 16384, 32768, 65536, 100000, 1 << 20, 2 << 20,
	4 << 20, (4 << 20) + 1, 0,
};
static const uint64_t usizes[64] = {
	0, 1, 3, 8, 15, 16, 17, 24, 25, 31, 32, 33, 40, 48, 56, 63, 64, 65, 80, 96, 100, 127, 128, 129, 160,
	161, 192, 256, 300, 512, 700, 1000, 1008, 1024, 1032, 1033, 1040, 1500, 2048, 3000, 4000, 4096, 6000,
	8192, 12000, 16384, 24000, 50000, 65536, 98304, 131071, 131072, 131073, 200000, 262144, 500000,
	1 << 20, 2 << 20, 4 << 20, 8 << 20, 32 << 20, (32 << 20) + 1, 64 << 20, 100 << 20,
};
/* Mapping and balloon sizes: small machines run out with a few of these,
 * which is what the OOM paths need; larger ones cost time, not coverage. */
static const uint64_t bsizes[8] = { 4096, 65536, 1 << 20, 2 << 20, 4 << 20, 8 << 20, 12 << 20, 16 << 20 };
static const uint64_t msizes[16] = {
	4096, 8192, 12288, 16384, 65536, 131072, 1 << 20, 2 << 20, (2 << 20) + 4096, 4 << 20, 8 << 20,
	16 << 20, 32 << 20, 64 << 20, 128 << 20, 1,
};
static const uint32_t gfps[16] = {
	RA_GFP_KERNEL, RA_GFP_KERNEL, RA_GFP_ATOMIC, RA_GFP_NOWAIT, RA_GFP_USER, RA_GFP_HIGHUSER_MOVABLE,
	RA_GFP_DMA | RA_GFP_KERNEL, RA_GFP_DMA32 | RA_GFP_KERNEL, RA_GFP_KERNEL | RA___GFP_ZERO,
	RA_GFP_KERNEL | RA___GFP_RECLAIMABLE, RA_GFP_KERNEL | RA___GFP_NORETRY | RA___GFP_NOWARN,
	RA_GFP_KERNEL | RA___GFP_NOFAIL, RA_GFP_ATOMIC | RA___GFP_NOWARN, RA_GFP_NOIO, RA_GFP_KERNEL | RA___GFP_COMP,
	RA_GFP_KERNEL | RA___GFP_RETRY_MAYFAIL,
};
static const uint32_t cflags[8] = {
	0, RA_SLAB_HWCACHE_ALIGN, RA_SLAB_RECLAIM_ACCOUNT, RA_SLAB_RED_ZONE | RA_SLAB_POISON,
	RA_SLAB_STORE_USER | RA_SLAB_CONSISTENCY_CHECKS, RA_SLAB_TYPESAFE_BY_RCU, RA_SLAB_CACHE_DMA,
	RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT,
};
static const int64_t adjs[8] = { -1000, -999, -500, -1, 0, 1, 500, 1000 };
static const int mallopt_params[8] = { 1, -1, -2, -3, -4, -6, -7, -8 };
static const int64_t mallopt_vals[16] = { -1, 0, 1, 8, 16, 64, 80, 128, 160, 4096, 65536, 131072, 1 << 20,
                                          32 << 20, 1 << 30, 0x5a };
static const char *const views[] = { "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "slabtop",
                                     "vmallocinfo", "meminfo", "extfrag_index", "unusable_index",
                                     "status", "maps", "smaps_rollup", "oom_score", "malloc_stats", "malloc_info" };
#define NUSERVIEWS 6   /* the last six need a current task */
/* The pressure profile's: the same, then procrank and smaps (both drawn
 * only with a current task), so the other profiles decode as before. */
static const char *const views_pressure[] = { "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "slabtop",
                                              "vmallocinfo", "meminfo", "extfrag_index", "unusable_index",
                                              "status", "maps", "smaps_rollup", "oom_score", "malloc_stats",
                                              "malloc_info", "procrank", "smaps" };
#define NUSERVIEWS_PRESSURE 8
/* Machine sizes. Header bit b1 & 4 puts DMA32's end at mem/2, so a small
 * machine has a Normal zone too: fuzzing all three zones stays cheap. */
static const uint64_t mems[8] = { 16ULL << 20, 32ULL << 20, 48ULL << 20, 64ULL << 20, 96ULL << 20,
                                  128ULL << 20, 256ULL << 20, 512ULL << 20 };
/* sysctl knobs the fuzzer turns, with values worth trying */
static const int knob_ids[] = { K_VM_MIN_FREE_KBYTES, K_VM_WATERMARK_SCALE_FACTOR, K_VM_LOWMEM_RESERVE_RATIO,
                                K_VM_PERCPU_PAGELIST_HIGH_FRACTION, K_VM_OVERCOMMIT_MEMORY, K_VM_OVERCOMMIT_RATIO,
                                K_VM_PANIC_ON_OOM, K_VM_OOM_KILL_ALLOCATING_TASK, K_VM_SWAPPINESS };
/* Swap device sizes (swapon; the header's devices are mem-sized) and the
 * largest one decoded: more costs host memory, not coverage. */
static const uint64_t swsizes[8] = { 8192, 65536, 1 << 20, 4 << 20, 8 << 20, 16 << 20, 32 << 20, 64 << 20 };
#define SWAP_DECODE_MAX (64ULL << 20)
static const int64_t knob_vals[16] = { 0, 1, 2, 8, 10, 32, 50, 100, 128, 256, 1000, 1024, 3000, 4096, 65536, 262144 };

/* The pressure profile's own sysctls (class C_PSYSCTL): the dirty limits,
 * the flusher's clock, the shrinkers' and kswapd's knobs, with values at
 * their interesting points (a bytes value below the kernel's minimum is
 * raised to it). drop_caches has its own class. */
static const int pknob_ids[] = { K_VM_DIRTY_RATIO, K_VM_DIRTY_BACKGROUND_RATIO, K_VM_DIRTY_BYTES,
                                 K_VM_DIRTY_BACKGROUND_BYTES, K_VM_DIRTY_EXPIRE_CENTISECS,
                                 K_VM_DIRTY_WRITEBACK_CENTISECS, K_VM_VFS_CACHE_PRESSURE,
                                 K_VM_WATERMARK_BOOST_FACTOR };
static const int64_t pknob_vals[16] = { 0, 1, 5, 10, 20, 50, 100, 200, 500, 1000, 3000, 10000, 15000,
                                        1 << 20, 4 << 20, 16 << 20 };
/* `sleep MS`: the flusher's periods and expiry, bounded at one minute of
 * simulated time per operation (a longer sleep adds nothing a second
 * flusher pass does not) */
static const uint64_t sleeps[8] = { 1, 10, 100, 500, 1000, 3000, 5000, 30000 };
#define SLEEP_MAX 60000
/* The fail sites of the first encoding (every profile but pressure draws
 * one of these six, whatever sites the engine gained since) and the
 * pressure profile's list. */
#define FAIL_SITES_V1 6
static const uint8_t pfail_sites[] = { FAIL_PAGE_ALLOC, FAIL_SLAB, FAIL_VMALLOC, FAIL_MMAP, FAIL_BRK, FAIL_FAULT,
                                       FAIL_WRITEBACK };

/* Files (pressure profile): sizes, and offsets and lengths at page and
 * readahead-window (32 pages, 128 KiB) boundaries. A read or write moves
 * at most 64 MiB: more costs time, not coverage, on these machines. */
static const uint64_t fsizes[8] = { 0, 4095, 4096, 65536, 1 << 20, 4 << 20, 16 << 20, 64 << 20 };
static const uint64_t foffs[32] = {
	0, 1, 511, 4095, 4096, 4097, 8191, 8192, 12288, 65535, 65536, 65537, 126976, 131071, 131072, 131073,
	135168, 262143, 262144, 524288, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2 << 20, (4 << 20) - 4096,
	4 << 20, 8 << 20, 12 << 20, (16 << 20) - 1, 16 << 20, 32 << 20, 64 << 20,
};
static const uint64_t flens[32] = {
	0, 1, 100, 4095, 4096, 4097, 8191, 8192, 8193, 16384, 65536, 122880, 131071, 131072, 131073, 135168,
	262144, 393216, 524288, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2 << 20, 4 << 20, (4 << 20) + 4096,
	6 << 20, 8 << 20, 12 << 20, 16 << 20, 24 << 20, 32 << 20, 48 << 20,
};
#define FILE_IO_MAX (64ULL << 20)

/* === The walker ========================================================== */

struct list { uint32_t *v; uint32_t n, cap; };

enum kkind { KK_PAGES, KK_KM, KK_CACHE, KK_COBJ, KK_VM, KK_IO, KK_BAL, KK_SWAP, KK_NR };
static const char *const kprefix[KK_NR] = { "p", "k", "c", "o", "v", "io", "b", "sw" };

struct rec { uint8_t kind, order, prot, flags; uint32_t cache; uint64_t size; };

struct mtask {
	uint32_t name;
	bool alive;
	uint32_t threads;
	struct list chunks, maps, fchunks, fmaps;
};

struct walker {
	bool enc;
	const uint8_t *p, *end;            /* decode */
	uint8_t *out; size_t olen, ocap;   /* encode */
	bool oom;                          /* host out of memory while encoding */
	struct ra_trace *t;                /* decode: built; encode: read */
	const struct profile *prof;
	struct list live[KK_NR], freed[KK_NR];
	struct rec *recs; uint32_t nrecs;
	struct mtask *tasks; uint32_t ntasks, tcap;
	int cur;                           /* current task index, -1 none */
	uint32_t counter[KK_NR + 3];
	unsigned ncpus;
	struct list files;                 /* live files (pressure profile) */
	uint32_t nfiles;                   /* files made: names f1, f2 ... */
};

static bool eof(struct walker *w) { return w->p >= w->end; }
static uint8_t rd8(struct walker *w) { return w->p < w->end ? *w->p++ : 0; }

static void wr8(struct walker *w, uint8_t b)
{
	if (w->olen == w->ocap) {
		size_t cap = w->ocap ? w->ocap * 2 : 256;
		uint8_t *n = realloc(w->out, cap);
		if (!n) {
			w->oom = true;
			return;
		}
		w->out = n;
		w->ocap = cap;
	}
	w->out[w->olen++] = b;
}

/* A LEB128 varint, kept below 2^62 so every value prints as a number the
 * text parser takes back. */
static uint64_t rdvar(struct walker *w)
{
	uint64_t v = 0;
	for (unsigned s = 0; s < 64 && !eof(w); s += 7) {
		uint8_t b = rd8(w);
		v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			break;
	}
	return v & ((1ULL << 62) - 1);
}

static void wrvar(struct walker *w, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		wr8(w, (uint8_t)(b | (v ? 0x80 : 0)));
	} while (v);
}

/* One byte, or in encode mode the byte that decodes to v (v < n). */
static unsigned c_sel(struct walker *w, unsigned n, unsigned v)
{
	if (!w->enc)
		return n ? rd8(w) % n : 0;
	wr8(w, (uint8_t)v);
	return v;
}

/* A value from a table, or an exact escape. */
static uint64_t c_tab(struct walker *w, const uint64_t *tab, unsigned n, uint64_t v)
{
	if (!w->enc) {
		uint8_t b = rd8(w);
		return b >= 0xF0 ? rdvar(w) : tab[b % n];
	}
	for (unsigned i = 0; i < n; i++)
		if (tab[i] == v) {
			wr8(w, (uint8_t)i);
			return v;
		}
	wr8(w, 0xF0);
	wrvar(w, v);
	return v;
}

static int64_t c_stab(struct walker *w, const int64_t *tab, unsigned n, int64_t v)
{
	uint64_t zz = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	if (!w->enc) {
		uint8_t b = rd8(w);
		if (b < 0xF0)
			return tab[b % n];
		zz = rdvar(w);
		return (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
	}
	for (unsigned i = 0; i < n; i++)
		if (tab[i] == v) {
			wr8(w, (uint8_t)i);
			return v;
		}
	wr8(w, 0xF0);
	wrvar(w, zz);
	return v;
}

static uint64_t c_var(struct walker *w, uint64_t v)
{
	if (!w->enc)
		return rdvar(w);
	wrvar(w, v);
	return v;
}

static int64_t c_svar(struct walker *w, int64_t v)
{
	uint64_t zz = c_var(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
	return (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
}

static uint32_t c_gfp(struct walker *w, uint32_t v)
{
	if (!w->enc) {
		uint8_t b = rd8(w);
		return b >= 0xF0 ? (uint32_t)rdvar(w) & 0x7fffffu & ~(RA___GFP_DMA32 | RA___GFP_RECLAIMABLE) : gfps[b % 16];
	}
	for (unsigned i = 0; i < 16; i++)
		if (gfps[i] == v) {
			wr8(w, (uint8_t)i);
			return v;
		}
	wr8(w, 0xF0);
	wrvar(w, v);
	return v;
}

/* === The model ============================================================ */

static bool lpush(struct list *l, uint32_t v)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 16;
		uint32_t *n = realloc(l->v, cap * sizeof(*n));
		if (!n)
			return false;
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = v;
	return true;
}

static void ldel(struct list *l, uint32_t i)
{
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

static int lfind(const struct list *l, uint32_t v)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return (int)i;
	return -1;
}

static bool lcopy(struct list *d, const struct list *s)
{
	d->n = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (!lpush(d, s->v[i]))
			return false;
	return true;
}

/* Pick an element of a list: index (1 or 2 bytes); encode: the given name. */
static int c_pick(struct walker *w, const struct list *l, uint32_t name, uint32_t *out)
{
	if (!l->n)
		return -1;
	if (!w->enc) {
		unsigned v = rd8(w);
		if (l->n > 255)
			v = (v << 8) | rd8(w);
		*out = (uint32_t)(v % l->n);
		return 0;
	}
	int i = lfind(l, name);
	if (i < 0)
		return -1;
	if (l->n > 255)
		wr8(w, (uint8_t)(i >> 8));
	wr8(w, (uint8_t)i);
	*out = (uint32_t)i;
	return 0;
}

static struct rec *rec(struct walker *w, uint32_t name)
{
	if (name >= w->nrecs) {
		uint32_t n = RA_MAX(name + 1, w->nrecs * 2);
		struct rec *r = realloc(w->recs, n * sizeof(*r));
		if (!r)
			abort();
		memset(r + w->nrecs, 0, (n - w->nrecs) * sizeof(*r));
		w->recs = r;
		w->nrecs = n;
	}
	return &w->recs[name];
}

/* A fresh name for a new object (decode), or the op's own (encode). */
static uint32_t newname(struct walker *w, unsigned counter, const char *prefix, uint32_t enc_name)
{
	if (w->enc)
		return enc_name;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%s%u", prefix, ++w->counter[counter]);
	return ra_trace_name(w->t, buf, (size_t)n);
}

static struct mtask *curtask(struct walker *w)
{
	return w->cur >= 0 && w->tasks[w->cur].alive ? &w->tasks[w->cur] : NULL;
}

/* === Emitting ============================================================ */

/* decode: a new op in the trace; encode: the op being encoded */
static struct ra_op *emit(struct walker *w, enum ra_opcode code, const struct ra_op *src)
{
	if (w->enc)
		return (struct ra_op *)src;
	struct ra_op *op = ra_trace_add(w->t, code);
	op->line = w->t->nops;
	op->col = 1;
	return op;
}

static void expect_any(struct walker *w)
{
	if (w->enc)
		return;
	struct ra_op *e = emit(w, RA_OP_EXPECT, NULL);
	e->a[0] = RA_EXPECT_ANY;
}

static const uint8_t kfree_op[KK_NR] = {
	[KK_PAGES] = RA_OP_FREE_PAGES, [KK_KM] = RA_OP_KFREE, [KK_COBJ] = RA_OP_KFREE, [KK_VM] = RA_OP_VFREE,
	[KK_IO] = RA_OP_IOUNMAP, [KK_CACHE] = RA_OP_CACHE_DESTROY, [KK_BAL] = RA_OP_UNBALLOON,
	[KK_SWAP] = RA_OP_SWAPOFF,
};

/* Kinds of kernel memory, for pokes and misuse */
static const uint8_t kmem_kinds[4] = { KK_PAGES, KK_KM, KK_COBJ, KK_VM };

/* Choose a kind among ks[] whose list (live or freed) is not empty. */
static int c_kind(struct walker *w, const uint8_t *ks, unsigned nk, struct list *lists, int enc_kind)
{
	unsigned avail[8], na = 0;
	for (unsigned i = 0; i < nk; i++)
		if (lists[ks[i]].n)
			avail[na++] = ks[i];
	if (!na)
		return -1;
	if (!w->enc)
		return (int)avail[rd8(w) % na];
	for (unsigned i = 0; i < na; i++)
		if ((int)avail[i] == enc_kind) {
			wr8(w, (uint8_t)i);
			return enc_kind;
		}
	return -1;
}

/* === Class walkers ======================================================= */
/* Each returns 0 (done, possibly nothing emitted) or -1 (encode: the op
 * cannot be expressed in this class). In encode mode `in` is the op. */

static int k_alloc(struct walker *w, enum cls c, const struct ra_op *in)
{
	static const uint8_t kinds[] = { [C_ALLOC_PAGES] = KK_PAGES, [C_KMALLOC] = KK_KM, [C_KZALLOC] = KK_KM,
	                                 [C_VMALLOC] = KK_VM, [C_VZALLOC] = KK_VM, [C_IOREMAP] = KK_IO,
	                                 [C_BALLOON] = KK_BAL, [C_SWAPON] = KK_SWAP };
	static const uint8_t codes[] = { [C_ALLOC_PAGES] = RA_OP_ALLOC_PAGES, [C_KMALLOC] = RA_OP_KMALLOC,
	                                 [C_KZALLOC] = RA_OP_KZALLOC, [C_VMALLOC] = RA_OP_VMALLOC,
	                                 [C_VZALLOC] = RA_OP_VZALLOC, [C_IOREMAP] = RA_OP_IOREMAP,
	                                 [C_BALLOON] = RA_OP_BALLOON, [C_SWAPON] = RA_OP_SWAPON };
	int k = kinds[c];
	struct ra_op *op = emit(w, codes[c], in);
	if (c == C_ALLOC_PAGES) {
		op->gfp = c_gfp(w, op->gfp);
		op->a[0] = c_sel(w, RA_MAX_ORDER + 1, (unsigned)op->a[0]);
	} else if (c == C_IOREMAP) {
		op->a[0] = (int64_t)c_var(w, (uint64_t)op->a[0]);
		op->a[1] = (int64_t)c_tab(w, ksizes, 64, (uint64_t)op->a[1]);
	} else if (c == C_BALLOON) {
		op->a[0] = (int64_t)c_tab(w, bsizes, 8, (uint64_t)op->a[0]);
	} else if (c == C_SWAPON) {
		/* size; then zram (with a ratio 1..4, 0 the default) and a
		 * priority 0..3 (equal ones are likely: round robin) */
		op->a[0] = (int64_t)c_tab(w, swsizes, 8, (uint64_t)op->a[0]);
		if (!w->enc)
			op->a[0] = (int64_t)RA_MIN(RA_MAX((uint64_t)op->a[0], (uint64_t)RA_SWAP_MIN), SWAP_DECODE_MAX);
		unsigned f = c_sel(w, 4, ((op->flags & RA_OPF_ZRAM) ? 1u : 0) | ((op->flags & RA_OPF_HAS_PRIO) ? 2u : 0));
		if (f & 1) {
			op->flags |= RA_OPF_ZRAM;
			op->a[2] = c_sel(w, 5, (unsigned)op->a[2]);
		}
		if (f & 2) {
			op->flags |= RA_OPF_HAS_PRIO;
			op->a[1] = c_sel(w, 4, (unsigned)op->a[1]);
		}
	} else {
		op->a[0] = (int64_t)c_tab(w, ksizes, 64, (uint64_t)op->a[0]);
		if (c == C_KMALLOC || c == C_KZALLOC)
			op->gfp = c_gfp(w, op->gfp);
	}
	if (!w->enc && (op->gfp & RA___GFP_MOVABLE) && (op->gfp & RA___GFP_RECLAIMABLE))
		op->gfp &= ~RA___GFP_RECLAIMABLE;
	op->out = newname(w, (unsigned)k, kprefix[k], in ? in->out : 0);
	struct rec *r = rec(w, op->out);
	r->kind = (uint8_t)k;
	r->order = (uint8_t)op->a[0];
	r->size = c == C_ALLOC_PAGES ? RA_PAGE_SIZE << op->a[0] : c == C_IOREMAP ? (uint64_t)op->a[1] : (uint64_t)op->a[0];
	return lpush(&w->live[k], op->out) ? 0 : -1;
}

static int k_free(struct walker *w, enum cls c, const struct ra_op *in)
{
	static const uint8_t kinds[] = { [C_FREE_PAGES] = KK_PAGES, [C_KFREE] = KK_KM, [C_VFREE] = KK_VM,
	                                 [C_IOUNMAP] = KK_IO, [C_UNBALLOON] = KK_BAL, [C_SWAPOFF] = KK_SWAP,
	                                 [C_CACHE_SHRINK] = KK_CACHE,
	                                 [C_CACHE_DESTROY] = KK_CACHE };
	int k = kinds[c];
	uint32_t i;
	/* kfree also frees cache objects; the encoder finds which list it is on */
	if (c == C_KFREE && w->enc && lfind(&w->live[KK_KM], in->h[0]) < 0)
		return -1;
	if (c_pick(w, &w->live[k], in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	uint32_t name = w->live[k].v[i];
	if (c == C_CACHE_DESTROY) {
		for (uint32_t j = 0; j < w->live[KK_COBJ].n; j++)
			if (w->recs[w->live[KK_COBJ].v[j]].cache == name)
				return w->enc ? -1 : 0;    /* busy: that is a misuse class */
	}
	uint8_t code = c == C_CACHE_SHRINK ? RA_OP_CACHE_SHRINK : kfree_op[k];
	struct ra_op *op = emit(w, (enum ra_opcode)code, in);
	op->h[0] = name;
	if (c == C_CACHE_SHRINK)
		return 0;
	ldel(&w->live[k], i);
	return lpush(&w->freed[k], name) ? 0 : -1;
}

static int k_krealloc(struct walker *w, const struct ra_op *in)
{
	uint32_t i;
	if (c_pick(w, &w->live[KK_KM], in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	uint32_t old = w->live[KK_KM].v[i];
	struct ra_op *op = emit(w, RA_OP_KREALLOC, in);
	op->h[0] = old;
	op->a[0] = (int64_t)c_tab(w, ksizes, 64, (uint64_t)op->a[0]);
	op->gfp = c_gfp(w, op->gfp);
	if (!w->enc && (op->gfp & RA___GFP_MOVABLE) && (op->gfp & RA___GFP_RECLAIMABLE))
		op->gfp &= ~RA___GFP_RECLAIMABLE;
	ldel(&w->live[KK_KM], i);
	if (!lpush(&w->freed[KK_KM], old))
		return -1;
	op->out = newname(w, KK_KM, kprefix[KK_KM], in ? in->out : 0);
	if (w->enc && op->out == old)
		return -1;    /* krealloc h ... -> h: not in the canonical form */
	struct rec *r = rec(w, op->out);
	r->kind = KK_KM;
	r->size = (uint64_t)op->a[0];
	return lpush(&w->live[KK_KM], op->out) ? 0 : -1;
}

static uint32_t cache_name_str(struct walker *w, unsigned idx)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "fuzz-%u", idx);
	return ra_trace_str(w->t, buf, (size_t)n);
}

static int k_cache_create(struct walker *w, const struct ra_op *in)
{
	struct ra_op *op = emit(w, RA_OP_CACHE_CREATE, in);
	op->a[0] = (int64_t)c_tab(w, ksizes, 63, (uint64_t)op->a[0]);   /* never 0 */
	if (!op->a[0])
		op->a[0] = 1;
	unsigned a = c_sel(w, 8, (op->flags & RA_OPF_HAS_ALIGN) ? (unsigned)ra_fls((uint64_t)op->a[1]) : 0);
	if (a) {
		op->flags |= RA_OPF_HAS_ALIGN;
		op->a[1] = 1 << (a - 1 + 2);        /* 4 .. 512 */
		if (w->enc && (1 << (a - 1 + 2)) != in->a[1])
			return -1;
	}
	unsigned f = 0;
	if (w->enc) {
		for (f = 0; f < 8 && cflags[f] != (uint32_t)in->a[2]; f++)
			;
		if (f == 8)
			return -1;
	}
	op->a[2] = cflags[c_sel(w, 8, f)];
	if (op->a[0] > (4 << 20))
		op->a[0] = 4 << 20;
	op->out = newname(w, KK_CACHE, kprefix[KK_CACHE], in ? in->out : 0);
	if (!w->enc)
		op->str = cache_name_str(w, w->counter[KK_CACHE]);
	struct rec *r = rec(w, op->out);
	r->kind = KK_CACHE;
	r->size = (uint64_t)op->a[0];
	r->flags = (uint8_t)((op->a[2] & (RA_SLAB_RED_ZONE | RA_SLAB_POISON | RA_SLAB_STORE_USER |
	                                  RA_SLAB_CONSISTENCY_CHECKS | RA_SLAB_TYPESAFE_BY_RCU)) != 0);
	return lpush(&w->live[KK_CACHE], op->out) ? 0 : -1;
}

static int k_cache_alloc(struct walker *w, const struct ra_op *in)
{
	uint32_t i;
	if (c_pick(w, &w->live[KK_CACHE], in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	struct ra_op *op = emit(w, RA_OP_CACHE_ALLOC, in);
	op->h[0] = w->live[KK_CACHE].v[i];
	op->gfp = c_gfp(w, op->gfp);
	if (!w->enc && (op->gfp & RA___GFP_MOVABLE) && (op->gfp & RA___GFP_RECLAIMABLE))
		op->gfp &= ~RA___GFP_RECLAIMABLE;
	op->out = newname(w, KK_COBJ, kprefix[KK_COBJ], in ? in->out : 0);
	struct rec *r = rec(w, op->out);
	r->kind = KK_COBJ;
	r->cache = op->h[0];
	r->size = w->recs[op->h[0]].size;
	return lpush(&w->live[KK_COBJ], op->out) ? 0 : -1;
}

static int k_cache_free(struct walker *w, const struct ra_op *in)
{
	uint32_t i;
	if (c_pick(w, &w->live[KK_COBJ], in ? in->h[1] : 0, &i))
		return w->enc ? -1 : 0;
	uint32_t obj = w->live[KK_COBJ].v[i];
	if (w->enc && in->h[0] != w->recs[obj].cache)
		return -1;
	struct ra_op *op = emit(w, RA_OP_CACHE_FREE, in);
	op->h[0] = w->recs[obj].cache;
	op->h[1] = obj;
	ldel(&w->live[KK_COBJ], i);
	return lpush(&w->freed[KK_COBJ], obj) ? 0 : -1;
}

/* poke/peek in bounds of a live object */
static int k_poke(struct walker *w, enum cls c, const struct ra_op *in)
{
	int ek = -1;
	if (w->enc) {
		for (unsigned x = 0; x < 4; x++)
			if (lfind(&w->live[kmem_kinds[x]], in->h[0]) >= 0)
				ek = kmem_kinds[x];
		if (ek < 0)
			return -1;
	}
	int k = c_kind(w, kmem_kinds, 4, w->live, ek);
	if (k < 0)
		return w->enc ? -1 : 0;
	uint32_t i;
	if (c_pick(w, &w->live[k], in ? in->h[0] : 0, &i))
		return -1;
	uint32_t name = w->live[k].v[i];
	uint64_t size = w->recs[name].size;
	if (!size)
		return w->enc ? -1 : 0;
	struct ra_op *op = emit(w, c == C_POKE ? RA_OP_POKE : RA_OP_PEEK, in);
	op->h[0] = name;
	uint64_t off = c_var(w, in ? (uint64_t)in->a[0] : 0) % size;
	uint64_t room = size - off;
	uint64_t len = 1 + (c_var(w, in ? (uint64_t)in->a[1] - 1 : 0) % RA_MIN(room, 4096u));
	if (w->enc && ((uint64_t)in->a[0] != off || (uint64_t)in->a[1] != len))
		return -1;
	op->a[0] = (int64_t)off;
	op->a[1] = (int64_t)len;
	if (c == C_POKE) {
		unsigned b = c_sel(w, 256, (in && (in->flags & RA_OPF_HAS_BYTE)) ? (unsigned)in->a[2] : 0x41);
		op->a[2] = b;
		op->flags |= RA_OPF_HAS_BYTE;
	}
	return 0;
}

/* === User side ============================================================ */

static int u_task(struct walker *w, const struct ra_op *in)
{
	struct ra_op *op = emit(w, RA_OP_TASK, in);
	int64_t adj = c_stab(w, adjs, 8, (in && (in->flags & RA_OPF_HAS_ADJ)) ? in->a[0] : 0);
	if (adj) {
		op->a[0] = adj < -1000 ? -1000 : adj > 1000 ? 1000 : adj;
		op->flags |= RA_OPF_HAS_ADJ;
	}
	if (w->enc && (in->flags & RA_OPF_HAS_ADJ) && !in->a[0])
		return -1;
	op->out = newname(w, KK_NR, "t", in ? in->out : 0);
	if (!w->enc) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "proc%u", w->counter[KK_NR]);
		op->str = ra_trace_str(w->t, buf, (size_t)n);
	}
	if (w->ntasks == w->tcap) {
		w->tcap = w->tcap ? w->tcap * 2 : 8;
		w->tasks = realloc(w->tasks, w->tcap * sizeof(*w->tasks));
		if (!w->tasks)
			abort();
	}
	struct mtask *t = &w->tasks[w->ntasks];
	memset(t, 0, sizeof(*t));
	t->name = op->out;
	t->alive = true;
	t->threads = 1;
	w->cur = (int)w->ntasks++;
	return 0;
}

static int task_index(struct walker *w, uint32_t name)
{
	for (uint32_t i = w->ntasks; i-- > 0;)
		if (w->tasks[i].name == name)
			return (int)i;
	return -1;
}

static int u_switch(struct walker *w, const struct ra_op *in)
{
	struct list alive = { 0 };
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (w->tasks[i].alive && !lpush(&alive, i))
			return -1;
	uint32_t pick;
	int want = in ? task_index(w, in->h[0]) : -1;
	int r = c_pick(w, &alive, (uint32_t)want, &pick);
	if (r) {
		free(alive.v);
		return w->enc ? -1 : 0;
	}
	struct mtask *t = &w->tasks[alive.v[pick]];
	w->cur = (int)alive.v[pick];
	free(alive.v);
	struct ra_op *op = emit(w, RA_OP_SWITCH, in);
	op->h[0] = t->name;
	op->a[0] = c_sel(w, 4, in ? (unsigned)in->a[0] : 0);
	if (w->enc && in->a[0] >= 4)
		return -1;
	return 0;
}

static int u_fork(struct walker *w, const struct ra_op *in)
{
	struct mtask *p = curtask(w);
	if (!p)
		return w->enc ? -1 : 0;
	struct ra_op *op = emit(w, RA_OP_FORK, in);
	op->out = newname(w, KK_NR, "t", in ? in->out : 0);
	if (w->ntasks == w->tcap) {
		w->tcap = w->tcap ? w->tcap * 2 : 8;
		struct mtask *nt = realloc(w->tasks, w->tcap * sizeof(*w->tasks));
		if (!nt)
			abort();
		w->tasks = nt;
		p = &w->tasks[w->cur];
	}
	struct mtask *c = &w->tasks[w->ntasks++];
	memset(c, 0, sizeof(*c));
	c->name = op->out;
	c->alive = true;
	c->threads = 1;
	if (!lcopy(&c->chunks, &p->chunks) || !lcopy(&c->maps, &p->maps))
		return -1;
	return 0;
}

static int u_exit(struct walker *w, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	if (!t)
		return w->enc ? -1 : 0;
	emit(w, RA_OP_EXIT, in);
	t->alive = false;
	return 0;
}

static int u_alloc(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	if (!t)
		return w->enc ? -1 : 0;
	static const uint8_t codes[] = { [C_MALLOC] = RA_OP_MALLOC, [C_CALLOC] = RA_OP_CALLOC,
	                                 [C_MEMALIGN] = RA_OP_MEMALIGN, [C_MMAP] = RA_OP_MMAP };
	struct ra_op *op = emit(w, codes[c], in);
	uint64_t size;
	if (c == C_MALLOC) {
		size = (uint64_t)(op->a[0] = (int64_t)c_tab(w, usizes, 64, (uint64_t)op->a[0]));
	} else if (c == C_CALLOC) {
		op->a[0] = (int64_t)c_tab(w, usizes, 16, (uint64_t)op->a[0]);
		op->a[1] = (int64_t)c_tab(w, usizes, 64, (uint64_t)op->a[1]);
		size = (uint64_t)op->a[0] * (uint64_t)op->a[1];
		if (op->a[0] && size / (uint64_t)op->a[0] != (uint64_t)op->a[1])
			size = UINT64_MAX;
	} else if (c == C_MEMALIGN) {
		unsigned sh = c_sel(w, 24, in ? ra_fls((uint64_t)in->a[0]) - 1 : 0);
		op->a[0] = 1LL << sh;
		if (w->enc && in->a[0] != op->a[0])
			return -1;
		size = (uint64_t)(op->a[1] = (int64_t)c_tab(w, usizes, 64, (uint64_t)op->a[1]));
	} else {
		size = (uint64_t)(op->a[0] = (int64_t)c_tab(w, msizes, 16, (uint64_t)op->a[0]));
		unsigned f = c_sel(w, 12, in ? (unsigned)((in->a[1] == 3 ? 0 : in->a[1] == 1 ? 1 : 2) +
		                                          ((in->flags & RA_OPF_POPULATE) ? 3 : 0) +
		                                          ((in->flags & RA_OPF_LOCKED) ? 6 : 0)) : 0);
		/* f = prot (0 rw, 1 r, 2 none) + 3 * (populate + 2 * locked) */
		op->a[1] = f % 3 == 0 ? 3 : f % 3 == 1 ? 1 : 0;
		if ((f / 3) & 1) op->flags |= RA_OPF_POPULATE;
		if ((f / 3) & 2) op->flags |= RA_OPF_LOCKED;
	}
	if (!size || !op->a[0])
		size = c == C_MMAP ? 0 : size;
	unsigned kc = c == C_MMAP ? KK_NR + 2 : KK_NR + 1;
	op->out = newname(w, kc, c == C_MMAP ? "mm" : "m", in ? in->out : 0);
	struct rec *r = rec(w, op->out);
	r->size = size;
	r->prot = c == C_MMAP ? (uint8_t)op->a[1] : 3;
	return lpush(c == C_MMAP ? &t->maps : &t->chunks, op->out) ? 0 : -1;
}

static int u_free(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	if (!t)
		return w->enc ? -1 : 0;
	struct list *l = c == C_MUNMAP ? &t->maps : &t->chunks;
	uint32_t i;
	if (c_pick(w, l, in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	uint32_t name = l->v[i];
	struct ra_op *op = emit(w, c == C_MUNMAP ? RA_OP_MUNMAP : RA_OP_FREE, in);
	op->h[0] = name;
	ldel(l, i);
	return lpush(c == C_MUNMAP ? &t->fmaps : &t->fchunks, name) ? 0 : -1;
}

static int u_realloc(struct walker *w, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	if (!t)
		return w->enc ? -1 : 0;
	uint32_t i;
	if (c_pick(w, &t->chunks, in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	uint32_t old = t->chunks.v[i];
	struct ra_op *op = emit(w, RA_OP_REALLOC, in);
	op->h[0] = old;
	op->a[0] = (int64_t)c_tab(w, usizes, 64, (uint64_t)op->a[0]);
	ldel(&t->chunks, i);
	if (!lpush(&t->fchunks, old))
		return -1;
	op->out = newname(w, KK_NR + 1, "m", in ? in->out : 0);
	if (w->enc && op->out == old)
		return -1;
	rec(w, op->out)->size = (uint64_t)op->a[0];
	rec(w, op->out)->prot = 3;
	return lpush(&t->chunks, op->out) ? 0 : -1;
}

/* touch/read in bounds of a live chunk or readable/writable mapping */
static int u_access(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	if (!t)
		return w->enc ? -1 : 0;
	struct list ok = { 0 };
	for (uint32_t i = 0; i < t->chunks.n; i++)
		if (w->recs[t->chunks.v[i]].size && !lpush(&ok, t->chunks.v[i]))
			return -1;
	for (uint32_t i = 0; i < t->maps.n; i++) {
		struct rec *r = &w->recs[t->maps.v[i]];
		if (r->size && (c == C_READ ? r->prot : r->prot == 3) && !lpush(&ok, t->maps.v[i]))
			return -1;
	}
	uint32_t i;
	int rc = c_pick(w, &ok, in ? in->h[0] : 0, &i);
	uint32_t name = rc ? 0 : ok.v[i];
	free(ok.v);
	if (rc)
		return w->enc ? -1 : 0;
	uint64_t size = w->recs[name].size;
	struct ra_op *op = emit(w, c == C_TOUCH ? RA_OP_TOUCH : RA_OP_READ, in);
	op->h[0] = name;
	unsigned mode = c_sel(w, 3, in ? ((in->flags & RA_OPF_HAS_LEN) ? 2 : (in->flags & RA_OPF_HAS_OFF) ? 1 : 0) : 0);
	if (mode >= 1) {
		uint64_t off = c_var(w, in ? (uint64_t)in->a[0] : 0);
		off = size ? off % size : 0;
		op->a[0] = (int64_t)off;
		op->flags |= RA_OPF_HAS_OFF;
		if (w->enc && (uint64_t)in->a[0] != off)
			return -1;
		if (mode == 2) {
			/* any length up to the end; a record may span the whole
			 * 64-bit range (size - off + 1 wraps to 0) */
			uint64_t len = c_var(w, in ? (uint64_t)in->a[1] : 0), span = size - off;
			if (span != UINT64_MAX)
				len %= span + 1;
			op->a[1] = (int64_t)len;
			op->flags |= RA_OPF_HAS_LEN;
			if (w->enc && (uint64_t)in->a[1] != len)
				return -1;
		}
	}
	return 0;
}

static int u_misc(struct walker *w, enum cls c, const struct ra_op *in)
{
	if (!curtask(w))
		return w->enc ? -1 : 0;
	struct ra_op *op;
	switch (c) {
	case C_MALLOPT: {
		op = emit(w, RA_OP_MALLOPT, in);
		unsigned p = 0;
		if (w->enc) {
			for (p = 0; p < 8 && mallopt_params[p] != in->a[0]; p++)
				;
			if (p == 8)
				return -1;
		}
		op->a[0] = mallopt_params[c_sel(w, 8, p)];
		op->a[1] = c_stab(w, mallopt_vals, 16, op->a[1]);
		return 0;
	}
	case C_MALLOC_TRIM:
		op = emit(w, RA_OP_MALLOC_TRIM, in);
		op->a[0] = (int64_t)c_tab(w, usizes, 64, (uint64_t)op->a[0]);
		return 0;
	case C_BRK:
		op = emit(w, RA_OP_BRK, in);
		op->a[0] = (int64_t)c_tab(w, usizes, 64, (uint64_t)op->a[0]);   /* growth only */
		return 0;
	case C_MLOCKALL: {
		op = emit(w, RA_OP_MLOCKALL, in);
		unsigned f = c_sel(w, 3, in ? (unsigned)((in->flags & (RA_OPF_CURRENT | RA_OPF_FUTURE)) / RA_OPF_CURRENT) - 1 : 0);
		op->flags |= (f + 1) * RA_OPF_CURRENT;
		return 0;
	}
	case C_OOM_SCORE_ADJ:
		op = emit(w, RA_OP_OOM_SCORE_ADJ, in);
		op->a[0] = c_stab(w, adjs, 8, op->a[0]);
		if (op->a[0] < -1000 || op->a[0] > 1000)
			op->a[0] = 0;
		return 0;
	case C_OOM_ADJ:
		op = emit(w, RA_OP_OOM_ADJ, in);
		op->a[0] = (int64_t)c_sel(w, 33, in ? (unsigned)(in->a[0] + 17) : 0) - 17;
		return 0;
	default:
		return -1;
	}
}

/* === Control ============================================================== */


/* A sysctl of one of the knobs ids[] (C_SYSCTL: the allocation side's,
 * C_PSYSCTL: the pressure knobs): a byte for the knob, a value from
 * vals[] (16 entries) or an exact escape, brought into the knob's range
 * and to the kernel's minimum where it has one. */
static int walk_sysctl(struct walker *w, const struct ra_op *in, const int *ids, unsigned nids, const int64_t *vals)
{
	unsigned k = 0;
	int64_t v = 0;
	if (w->enc) {
		const char *s = ra_trace_strp(w->t, in->str);
		const char *eq = strchr(s, '=');
		int id = ra_knob_lookup(s, (size_t)(eq - s));
		for (k = 0; k < nids && ids[k] != id; k++)
			;
		if (k == nids || strchr(eq + 1, ','))
			return -1;
		v = strtoll(eq + 1, NULL, 0);
	}
	k = c_sel(w, nids, k);
	v = c_stab(w, vals, 16, v);
	if (w->enc)
		return 0;
	const struct ra_knob_def *d = &ra_knob_defs[ids[k]];
	if (ids[k] == K_VM_DIRTY_BYTES) v = RA_MAX(v, 2 * (int64_t)RA_PAGE_SIZE);
	if (ids[k] == K_VM_DIRTY_BACKGROUND_BYTES) v = RA_MAX(v, (int64_t)1);
	if (v < d->min) v = d->min;
	if (v > d->max) v = d->max;
	if (ids[k] == K_VM_PERCPU_PAGELIST_HIGH_FRACTION && v && v < 8) v = 8;
	struct ra_op *op = emit(w, RA_OP_SYSCTL, in);
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "%s=%" PRId64, d->name, v);
	op->str = ra_trace_str(w->t, buf, (size_t)n);
	return 0;
}
static int x_control(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct ra_op *op;
	switch (c) {
	case C_CPU:
		op = emit(w, RA_OP_CPU, in);
		op->a[0] = c_sel(w, w->ncpus, in ? (unsigned)in->a[0] : 0);
		return w->enc && in->a[0] >= w->ncpus ? -1 : 0;
	case C_SYSCTL:
		return walk_sysctl(w, in, knob_ids, RA_ARRAY_SIZE(knob_ids), knob_vals);
	case C_FAIL: {
		op = emit(w, RA_OP_FAIL, in);
		if (w->prof == &profiles[PROF_PRESSURE]) {
			unsigned k = 0;
			if (w->enc)
				for (k = 0; k < sizeof(pfail_sites) && pfail_sites[k] != in->a[0]; k++)
					;
			if (w->enc && k == sizeof(pfail_sites))
				return -1;
			op->a[0] = pfail_sites[c_sel(w, sizeof(pfail_sites), k)];
		} else {
			if (w->enc && in->a[0] >= FAIL_SITES_V1)
				return -1;
			op->a[0] = c_sel(w, FAIL_SITES_V1, in ? (unsigned)in->a[0] : 0);
		}
		unsigned fl = 0;
		if (w->enc)
			fl = (in->a[1] ? 1 : 0) | (in->a[3] ? 2 : 0) | (in->a[4] ? 4 : 0) | (in->a[2] != 1 ? 8 : 0);
		fl = c_sel(w, 16, fl);
		op->a[1] = (fl & 1) ? (int64_t)RA_MAX(c_var(w, in ? (uint64_t)in->a[1] : 0) % 1000, 1u) : 0;
		op->a[3] = (fl & 2) ? (int64_t)RA_MAX(c_var(w, in ? (uint64_t)in->a[3] : 0) % 1000, 1u) : 0;
		op->a[4] = (fl & 4) ? (int64_t)(c_var(w, in ? (uint64_t)in->a[4] : 0) % 101) : 0;
		op->a[2] = (fl & 8) ? c_svar(w, in ? in->a[2] : 0) % 1000 : 1;
		if (op->a[2] < -1)
			op->a[2] = -1;
		if (!op->a[1] && !op->a[3] && !op->a[4] && op->a[2] != 0)
			op->a[1] = 1;
		if (w->enc && (in->a[1] != op->a[1] || in->a[2] != op->a[2] || in->a[3] != op->a[3] || in->a[4] != op->a[4]))
			return -1;
		return 0;
	}
	case C_SLEEP: {
		op = emit(w, RA_OP_SLEEP, in);
		if (w->enc && (in->a[0] < 0 || in->a[0] > SLEEP_MAX))
			return -1;
		uint64_t ms = c_tab(w, sleeps, 8, in ? (uint64_t)in->a[0] : 0);   /* once: RA_MIN evaluates twice */
		op->a[0] = (int64_t)RA_MIN(ms, (uint64_t)SLEEP_MAX);
		return 0;
	}
	case C_PSYSCTL:
		return walk_sysctl(w, in, pknob_ids, RA_ARRAY_SIZE(pknob_ids), pknob_vals);
	case C_CHECK: {
		op = emit(w, RA_OP_CHECK, in);
		if (c_sel(w, 2, in ? !!(in->flags & RA_OPF_FULL) : 0))
			op->flags |= RA_OPF_FULL;
		return 0;
	}
	case C_DUMP: {
		bool pressure = w->prof == &profiles[PROF_PRESSURE];
		const char *const *vt = pressure ? views_pressure : views;
		unsigned n = pressure ? RA_ARRAY_SIZE(views_pressure) - (curtask(w) ? 0 : NUSERVIEWS_PRESSURE)
		                      : RA_ARRAY_SIZE(views) - (curtask(w) ? 0 : NUSERVIEWS);
		unsigned v = 0;
		if (w->enc) {
			const char *s = ra_trace_strp(w->t, in->str);
			for (v = 0; v < n && strcmp(vt[v], s); v++)
				;
			if (v == n)
				return -1;
		}
		v = c_sel(w, n, v);
		op = emit(w, RA_OP_DUMP, in);
		if (!w->enc)
			op->str = ra_trace_str(w->t, vt[v], strlen(vt[v]));
		return 0;
	}
	default:
		return -1;
	}
}

/* === Misuse =============================================================== */

static int m_misuse(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct ra_op *op;
	uint32_t i;
	struct mtask *t = curtask(w);
	switch (c) {
	case C_M_DOUBLE_FREE: {
		/* kernel kinds, then the current task's chunks/maps */
		static const uint8_t ks[] = { KK_PAGES, KK_KM, KK_COBJ, KK_VM, KK_IO };
		unsigned side = c_sel(w, 2, in ? ra_op_side[in->code] == 'U' : 0);
		if (side == 1) {
			if (!t)
				return w->enc ? -1 : 0;
			bool maps = c_sel(w, 2, in ? in->code == RA_OP_MUNMAP : 0);
			struct list *l = maps ? &t->fmaps : &t->fchunks;
			if (c_pick(w, l, in ? in->h[0] : 0, &i))
				return w->enc ? -1 : 0;
			op = emit(w, maps ? RA_OP_MUNMAP : RA_OP_FREE, in);
			op->h[0] = l->v[i];
			expect_any(w);
			return 0;
		}
		int ek = -1;
		if (w->enc)
			for (unsigned x = 0; x < RA_ARRAY_SIZE(ks); x++)
				if (lfind(&w->freed[ks[x]], in->h[in->code == RA_OP_CACHE_FREE]) >= 0 &&
				    kfree_op[ks[x]] == in->code)
					ek = ks[x];
		if (w->enc && in->code == RA_OP_CACHE_FREE && lfind(&w->freed[KK_COBJ], in->h[1]) >= 0)
			ek = KK_COBJ;
		int k = c_kind(w, ks, RA_ARRAY_SIZE(ks), w->freed, ek);
		if (k < 0)
			return w->enc ? -1 : 0;
		if (c_pick(w, &w->freed[k], in ? in->h[in->code == RA_OP_CACHE_FREE] : 0, &i))
			return -1;
		uint32_t name = w->freed[k].v[i];
		if (k == KK_COBJ && lfind(&w->live[KK_CACHE], w->recs[name].cache) >= 0 &&
		    (!w->enc || in->code == RA_OP_CACHE_FREE)) {
			op = emit(w, RA_OP_CACHE_FREE, in);
			op->h[0] = w->recs[name].cache;
			op->h[1] = name;
		} else {
			if (w->enc && in->code != kfree_op[k])
				return -1;
			op = emit(w, (enum ra_opcode)kfree_op[k], in);
			op->h[0] = name;
		}
		expect_any(w);
		return 0;
	}
	case C_M_UAF:
	case C_M_OOB: {
		bool uaf = c == C_M_UAF;
		unsigned side = c_sel(w, 2, in ? in->code == RA_OP_TOUCH : 0);
		uint32_t name;
		if (side == 1) {
			if (!t)
				return w->enc ? -1 : 0;
			struct list *l = uaf ? &t->fchunks : &t->chunks;
			if (c_pick(w, l, in ? in->h[0] : 0, &i))
				return w->enc ? -1 : 0;
			name = l->v[i];
			op = emit(w, RA_OP_TOUCH, in);
		} else {
			int ek = -1;
			struct list *lists = uaf ? w->freed : w->live;
			if (w->enc)
				for (unsigned x = 0; x < 4; x++)
					if (lfind(&lists[kmem_kinds[x]], in->h[0]) >= 0)
						ek = kmem_kinds[x];
			int k = c_kind(w, kmem_kinds, 4, lists, ek);
			if (k < 0)
				return w->enc ? -1 : 0;
			if (c_pick(w, &lists[k], in ? in->h[0] : 0, &i))
				return -1;
			name = lists[k].v[i];
			op = emit(w, RA_OP_POKE, in);
		}
		op->h[0] = name;
		uint64_t size = w->recs[name].size;
		/* OOB: from just below the start (left red zone) to well past the end */
		int64_t off = uaf ? (int64_t)c_var(w, in ? (uint64_t)in->a[0] : 0)
		                  : c_svar(w, in ? in->a[0] - (int64_t)size : 0) + (int64_t)size;
		if (uaf && size)
			off = (int64_t)((uint64_t)off % size);
		int64_t len = 1 + (int64_t)(c_var(w, in ? (uint64_t)in->a[1] - 1 : 0) % 4096);
		if (w->enc && (in->a[0] != off || in->a[1] != len))
			return -1;
		if (!uaf && off < -64)
			off = -64;
		op->a[0] = off;
		op->a[1] = len;
		if (op->code == RA_OP_TOUCH)
			op->flags |= RA_OPF_HAS_OFF | RA_OPF_HAS_LEN;
		else {
			op->a[2] = c_sel(w, 256, in && (in->flags & RA_OPF_HAS_BYTE) ? (unsigned)in->a[2] : 0x41);
			op->flags |= RA_OPF_HAS_BYTE;
		}
		expect_any(w);
		return 0;
	}
	case C_M_WRONG_FREE: {
		/* a live object freed with another kind's function */
		static const uint8_t ks[] = { KK_PAGES, KK_KM, KK_VM, KK_IO };
		static const uint8_t wrong[4][3] = {
			{ RA_OP_KFREE, RA_OP_VFREE, RA_OP_IOUNMAP }, { RA_OP_FREE_PAGES, RA_OP_VFREE, RA_OP_IOUNMAP },
			{ RA_OP_FREE_PAGES, RA_OP_KFREE, RA_OP_IOUNMAP }, { RA_OP_FREE_PAGES, RA_OP_KFREE, RA_OP_VFREE },
		};
		int ek = -1;
		if (w->enc)
			for (unsigned x = 0; x < 4; x++)
				if (lfind(&w->live[ks[x]], in->h[0]) >= 0)
					ek = ks[x];
		int k = c_kind(w, ks, 4, w->live, ek);
		if (k < 0)
			return w->enc ? -1 : 0;
		unsigned ki = 0;
		while (ks[ki] != k)
			ki++;
		if (c_pick(w, &w->live[k], in ? in->h[0] : 0, &i))
			return -1;
		unsigned wi = 0;
		if (w->enc) {
			for (wi = 0; wi < 3 && wrong[ki][wi] != in->code; wi++)
				;
			if (wi == 3)
				return -1;
		}
		wi = c_sel(w, 3, wi);
		op = emit(w, (enum ra_opcode)wrong[ki][wi], in);
		op->h[0] = w->live[k].v[i];
		expect_any(w);
		return 0;
	}
	case C_M_WRONG_CACHE: {
		if (c_pick(w, &w->live[KK_COBJ], in ? in->h[1] : 0, &i))
			return w->enc ? -1 : 0;
		uint32_t obj = w->live[KK_COBJ].v[i];
		struct list others = { 0 };
		for (uint32_t j = 0; j < w->live[KK_CACHE].n; j++) {
			uint32_t cn = w->live[KK_CACHE].v[j];
			uint64_t a = w->recs[cn].size, b = w->recs[w->recs[obj].cache].size;
			/* caches this far apart in size never merge: the free must be refused */
			if (cn != w->recs[obj].cache && (a > b ? a - b : b - a) > 64 && !lpush(&others, cn))
				return -1;
		}
		uint32_t j;
		int r = c_pick(w, &others, in ? in->h[0] : 0, &j);
		if (!r) {
			op = emit(w, RA_OP_CACHE_FREE, in);
			op->h[0] = others.v[j];
			op->h[1] = obj;
			expect_any(w);
		}
		free(others.v);
		return r && w->enc ? -1 : 0;
	}
	case C_M_BUSY_DESTROY: {
		struct list busy = { 0 };
		for (uint32_t j = 0; j < w->live[KK_CACHE].n; j++) {
			uint32_t cn = w->live[KK_CACHE].v[j];
			for (uint32_t k = 0; k < w->live[KK_COBJ].n; k++)
				if (w->recs[w->live[KK_COBJ].v[k]].cache == cn) {
					if (!lpush(&busy, cn))
						return -1;
					break;
				}
		}
		int r = c_pick(w, &busy, in ? in->h[0] : 0, &i);
		if (!r) {
			op = emit(w, RA_OP_CACHE_DESTROY, in);
			op->h[0] = busy.v[i];
			expect_any(w);
		}
		free(busy.v);
		return r && w->enc ? -1 : 0;
	}
	case C_M_BRK_SHRINK:
		if (!t)
			return w->enc ? -1 : 0;
		op = emit(w, RA_OP_BRK, in);
		op->a[0] = -(int64_t)c_tab(w, usizes, 64, in ? (uint64_t)-in->a[0] : 0);
		expect_any(w);
		return 0;
	default:
		return -1;
	}
}

/* === Files ================================================================ */

static int f_file(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct ra_op *op;
	uint32_t i;
	if (c == C_FILE) {
		op = emit(w, RA_OP_FILE, in);
		uint64_t size = c_tab(w, fsizes, 8, (uint64_t)op->a[0]);   /* RA_MIN evaluates twice */
		op->a[0] = (int64_t)RA_MIN(size, (uint64_t)RA_FILE_MAX);
		if (c_sel(w, 2, in ? !!(in->flags & RA_OPF_TMPFS) : 0))
			op->flags |= RA_OPF_TMPFS;
		if (w->enc && (uint64_t)in->a[0] > RA_FILE_MAX)
			return -1;
		w->nfiles++;
		if (w->enc)
			op->out = in->out;
		else {
			char buf[32];
			int n = snprintf(buf, sizeof(buf), "f%u", w->nfiles);
			op->out = ra_trace_name(w->t, buf, (size_t)n);
			n = snprintf(buf, sizeof(buf), "file%u", w->nfiles);
			op->str = ra_trace_str(w->t, buf, (size_t)n);
		}
		return lpush(&w->files, op->out) ? 0 : -1;
	}
	if (c == C_DROP_CACHES) {
		unsigned v = 0;
		if (w->enc)
			v = (unsigned)atoi(ra_trace_strp(w->t, in->str) + strlen("vm.drop_caches=")) - 1;
		if (w->enc && v >= 4)
			return -1;
		v = c_sel(w, 4, v);
		op = emit(w, RA_OP_SYSCTL, in);
		if (!w->enc) {
			char buf[32];
			int n = snprintf(buf, sizeof(buf), "vm.drop_caches=%u", v + 1);
			op->str = ra_trace_str(w->t, buf, (size_t)n);
		}
		return 0;
	}
	if (c_pick(w, &w->files, in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	static const uint8_t codes[] = { [C_FREAD] = RA_OP_FREAD, [C_FWRITE] = RA_OP_FWRITE, [C_FSYNC] = RA_OP_FSYNC,
	                                 [C_FTRUNCATE] = RA_OP_FTRUNCATE, [C_FUNLINK] = RA_OP_FUNLINK,
	                                 [C_FADVISE] = RA_OP_FADVISE, [C_FPEEK] = RA_OP_PEEK };
	op = emit(w, (enum ra_opcode)codes[c], in);
	op->h[0] = w->files.v[i];
	switch (c) {
	case C_FREAD: case C_FWRITE: case C_FPEEK: {
		uint64_t max = c == C_FPEEK ? 65536 : FILE_IO_MAX;
		if (w->enc && c != C_FPEEK && (in->flags & (RA_OPF_HAS_OFF | RA_OPF_HAS_LEN)) != (RA_OPF_HAS_OFF | RA_OPF_HAS_LEN))
			return -1;
		uint64_t off = c_tab(w, foffs, 32, (uint64_t)op->a[0]);
		uint64_t len = c_tab(w, flens, 32, (uint64_t)op->a[1]);
		off = RA_MIN(off, (uint64_t)RA_FILE_MAX);
		len = RA_MIN(len, max);
		len = RA_MIN(len, (uint64_t)RA_FILE_MAX - off);
		if (w->enc && ((uint64_t)in->a[0] != off || (uint64_t)in->a[1] != len))
			return -1;
		op->a[0] = (int64_t)off;
		op->a[1] = (int64_t)len;
		if (c != C_FPEEK)
			op->flags |= RA_OPF_HAS_OFF | RA_OPF_HAS_LEN;
		if (c == C_FWRITE) {
			unsigned b = c_sel(w, 256, (in && (in->flags & RA_OPF_HAS_BYTE)) ? (unsigned)in->a[2] : 0x46);
			op->a[2] = b;
			op->flags |= RA_OPF_HAS_BYTE;
		}
		return 0;
	}
	case C_FTRUNCATE: {
		uint64_t size = c_tab(w, foffs, 32, (uint64_t)op->a[0]);
		size = RA_MIN(size, (uint64_t)RA_FILE_MAX);
		if (w->enc && (uint64_t)in->a[0] != size)
			return -1;
		op->a[0] = (int64_t)size;
		return 0;
	}
	case C_FUNLINK:
		ldel(&w->files, i);
		return 0;
	default:
		return 0;
	}
}

/* madvise of a mapping of the current task: the advice (selector byte),
 * then none, OFFSET or OFFSET and LEN, in pages of the mapping (an
 * OFFSET within it, a LEN up to its end). */
static int f_madvise(struct walker *w, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	uint32_t i;
	if (!t || c_pick(w, &t->maps, in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	uint32_t name = t->maps.v[i];
	struct ra_op *op = emit(w, RA_OP_MADVISE, in);
	op->h[0] = name;
	if (w->enc && (in->a[0] < 0 || in->a[0] >= RA_MADV_NR))
		return -1;
	op->a[0] = c_sel(w, RA_MADV_NR, in ? (unsigned)in->a[0] : 0);
	uint64_t pages = (rec(w, name)->size + RA_PAGE_SIZE - 1) >> RA_PAGE_SHIFT;
	unsigned mode = c_sel(w, 3, in ? ((in->flags & RA_OPF_HAS_LEN) ? 2 : (in->flags & RA_OPF_HAS_OFF) ? 1 : 0) : 0);
	if (mode >= 1) {
		uint64_t pg = c_var(w, in ? (uint64_t)in->a[1] >> RA_PAGE_SHIFT : 0);
		pg = pages ? pg % pages : 0;
		op->a[1] = (int64_t)(pg << RA_PAGE_SHIFT);
		op->flags |= RA_OPF_HAS_OFF;
		if (w->enc && in->a[1] != op->a[1])
			return -1;
		if (mode == 2) {
			uint64_t n = c_var(w, in ? (uint64_t)in->a[2] >> RA_PAGE_SHIFT : 0) % (pages - pg + 1);
			op->a[2] = (int64_t)(n << RA_PAGE_SHIFT);
			op->flags |= RA_OPF_HAS_LEN;
			if (w->enc && in->a[2] != op->a[2])
				return -1;
		}
	}
	return 0;
}

/* mmap SIZE file=F [offset=N] [shared] [prot=r] [populate] [locked] of a
 * live file by the current task (the offset from the file offsets' table:
 * an unaligned one is refused, EINVAL); msync of one of its mappings. */
static int f_mmap(struct walker *w, enum cls c, const struct ra_op *in)
{
	struct mtask *t = curtask(w);
	uint32_t i;
	if (!t)
		return w->enc ? -1 : 0;
	if (c == C_MSYNC) {
		if (c_pick(w, &t->maps, in ? in->h[0] : 0, &i))
			return w->enc ? -1 : 0;
		struct ra_op *op = emit(w, RA_OP_MSYNC, in);
		op->h[0] = t->maps.v[i];
		return 0;
	}
	if (c_pick(w, &w->files, in ? in->h[0] : 0, &i))
		return w->enc ? -1 : 0;
	struct ra_op *op = emit(w, RA_OP_MMAP, in);
	op->h[0] = w->files.v[i];
	op->flags |= RA_OPF_FILEMAP;
	uint64_t size = (uint64_t)(op->a[0] = (int64_t)c_tab(w, msizes, 16, (uint64_t)op->a[0]));
	uint64_t off = c_tab(w, foffs, 32, (uint64_t)op->a[2]);
	off = RA_MIN(off, (uint64_t)RA_FILE_MAX);
	if (w->enc && (uint64_t)in->a[2] != off)
		return -1;
	op->a[2] = (int64_t)off;
	if (w->enc && in->a[1] != 3 && in->a[1] != 1)
		return -1;
	/* f = read-only + 2 shared + 4 populate + 8 locked */
	unsigned f = c_sel(w, 16, in ? (unsigned)((in->a[1] == 1) | ((in->flags & RA_OPF_SHARED) ? 2 : 0) |
	                                          ((in->flags & RA_OPF_POPULATE) ? 4 : 0) |
	                                          ((in->flags & RA_OPF_LOCKED) ? 8 : 0)) : 0);
	op->a[1] = (f & 1) ? 1 : 3;
	if (f & 2) op->flags |= RA_OPF_SHARED;
	if (f & 4) op->flags |= RA_OPF_POPULATE;
	if (f & 8) op->flags |= RA_OPF_LOCKED;
	op->out = newname(w, KK_NR + 2, "mm", in ? in->out : 0);
	struct rec *r = rec(w, op->out);
	r->size = size;
	r->prot = (uint8_t)op->a[1];
	return lpush(&t->maps, op->out) ? 0 : -1;
}

/* === Dispatch ============================================================= */

static int walk_class(struct walker *w, enum cls c, const struct ra_op *in)
{
	switch (c) {
	case C_ALLOC_PAGES: case C_KMALLOC: case C_KZALLOC: case C_VMALLOC: case C_VZALLOC: case C_IOREMAP:
	case C_BALLOON: case C_SWAPON:
		return k_alloc(w, c, in);
	case C_FREE_PAGES: case C_KFREE: case C_VFREE: case C_IOUNMAP: case C_UNBALLOON: case C_CACHE_SHRINK:
	case C_CACHE_DESTROY: case C_SWAPOFF:
		return k_free(w, c, in);
	case C_KREALLOC: return k_krealloc(w, in);
	case C_CACHE_CREATE: return k_cache_create(w, in);
	case C_CACHE_ALLOC: return k_cache_alloc(w, in);
	case C_CACHE_FREE: return k_cache_free(w, in);
	case C_POKE: case C_PEEK: return k_poke(w, c, in);
	case C_TASK: return u_task(w, in);
	case C_SWITCH: return u_switch(w, in);
	case C_FORK: return u_fork(w, in);
	case C_EXIT: return u_exit(w, in);
	case C_MALLOC: case C_CALLOC: case C_MEMALIGN: case C_MMAP: return u_alloc(w, c, in);
	case C_FREE: case C_MUNMAP: return u_free(w, c, in);
	case C_REALLOC: return u_realloc(w, in);
	case C_TOUCH: case C_READ: return u_access(w, c, in);
	case C_MALLOPT: case C_MALLOC_TRIM: case C_BRK: case C_MLOCKALL: case C_OOM_SCORE_ADJ: case C_OOM_ADJ:
		return u_misc(w, c, in);
	case C_CPU: case C_SYSCTL: case C_FAIL: case C_CHECK: case C_DUMP: case C_SLEEP: case C_PSYSCTL:
		return x_control(w, c, in);
	case C_FILE: case C_FREAD: case C_FWRITE: case C_FSYNC: case C_FTRUNCATE: case C_FUNLINK: case C_FADVISE:
	case C_FPEEK: case C_DROP_CACHES:
		return f_file(w, c, in);
	case C_FMMAP: case C_MSYNC:
		return f_mmap(w, c, in);
	case C_MADVISE:
		return f_madvise(w, in);
	default: return m_misuse(w, c, in);
	}
}

static void walker_free(struct walker *w)
{
	for (int k = 0; k < KK_NR; k++) {
		free(w->live[k].v);
		free(w->freed[k].v);
	}
	for (uint32_t i = 0; i < w->ntasks; i++) {
		free(w->tasks[i].chunks.v);
		free(w->tasks[i].maps.v);
		free(w->tasks[i].fchunks.v);
		free(w->tasks[i].fmaps.v);
	}
	free(w->tasks);
	free(w->recs);
	free(w->files.v);
}

/* The header: byte 0 machine, byte 1 options. */
static void header(struct walker *w, uint8_t b0, uint8_t b1)
{
	struct ra_config *cfg = &w->t->cfg;
	ra_config_default(cfg);
	/* the pressure profile's machines are the small ones: 16 .. 64 MiB */
	cfg->mem = mems[b0 & (w->prof == &profiles[PROF_PRESSURE] ? 3 : 7)];
	cfg->cpus = 1 + ((b0 >> 3) & 3);
	cfg->cma = (b0 & 0x20) ? cfg->mem / 8 : 0;
	if ((b1 & 4) && cfg->mem >= (64ULL << 20))
		cfg->dma32 = cfg->mem / 2;
	/* bits 3-4: swap at boot: none, a disk of mem, zram of mem, both of mem/2 */
	static const uint8_t swap_mode[4][2] = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 2, 2 } };
	cfg->swap = swap_mode[(b1 >> 3) & 3][0] ? cfg->mem / swap_mode[(b1 >> 3) & 3][0] : 0;
	cfg->zram = swap_mode[(b1 >> 3) & 3][1] ? cfg->mem / swap_mode[(b1 >> 3) & 3][1] : 0;
	w->t->has_machine = 1;
	struct ra_op *m = ra_trace_add(w->t, RA_OP_MACHINE);
	m->line = 1;
	static const char *const debug[4] = { NULL, "FZPU", "ZP", "FU" };
	if (debug[(b0 >> 6) & 3]) {
		struct ra_op *op = ra_trace_add(w->t, RA_OP_SLUB_DEBUG);
		op->str = ra_trace_str(w->t, debug[(b0 >> 6) & 3], strlen(debug[(b0 >> 6) & 3]));
		op->line = w->t->nops;
	}
	if ((b1 & 3) % 3) {
		struct ra_op *op = ra_trace_add(w->t, RA_OP_SYSCTL);
		char buf[40];
		int n = snprintf(buf, sizeof(buf), "vm.overcommit_memory=%u", (b1 & 3) % 3);
		op->str = ra_trace_str(w->t, buf, (size_t)n);
		op->line = w->t->nops;
	}
}

int ra_trace_decode(const uint8_t *data, size_t len, int profile, struct ra_trace **out)
{
	*out = NULL;
	if (profile < 0 || profile >= (int)RA_ARRAY_SIZE(profiles))
		return -1;
	struct walker w = { .p = data, .end = data + len, .cur = -1, .prof = &profiles[profile] };
	w.t = ra_trace_new("fuzz");
	if (!w.t)
		return -1;
	uint8_t b0 = rd8(&w), b1 = rd8(&w);
	header(&w, b0, b1);
	w.ncpus = w.t->cfg.cpus;
	while (!eof(&w) && w.t->nops < 100000)
		walk_class(&w, (enum cls)w.prof->cls[rd8(&w) % w.prof->n], NULL);
	walker_free(&w);
	*out = w.t;
	return 0;
}

/* The class an op of the text form belongs to (encode), misuse decided by
 * the model: a free of something not live is a double free, and so on. */
static int classify(struct walker *w, const struct ra_op *op, const struct ra_op *next)
{
	bool misuse = next && next->code == RA_OP_EXPECT && next->a[0] == RA_EXPECT_ANY;
	struct mtask *t = curtask(w);
	switch (op->code) {
	case RA_OP_ALLOC_PAGES: return C_ALLOC_PAGES;
	case RA_OP_KMALLOC: return C_KMALLOC;
	case RA_OP_KZALLOC: return C_KZALLOC;
	case RA_OP_KREALLOC: return C_KREALLOC;
	case RA_OP_VMALLOC: return C_VMALLOC;
	case RA_OP_VZALLOC: return C_VZALLOC;
	case RA_OP_IOREMAP: return C_IOREMAP;
	case RA_OP_BALLOON: return C_BALLOON;
	case RA_OP_SWAPON: return C_SWAPON;
	case RA_OP_CACHE_CREATE: return C_CACHE_CREATE;
	case RA_OP_CACHE_ALLOC: return C_CACHE_ALLOC;
	case RA_OP_CACHE_SHRINK: return C_CACHE_SHRINK;
	case RA_OP_PEEK: return lfind(&w->files, op->h[0]) >= 0 ? C_FPEEK : C_PEEK;
	case RA_OP_CPU: return C_CPU;
	case RA_OP_TASK: return C_TASK;
	case RA_OP_SWITCH: return C_SWITCH;
	case RA_OP_FORK: return C_FORK;
	case RA_OP_EXIT: return C_EXIT;
	case RA_OP_MALLOC: return C_MALLOC;
	case RA_OP_CALLOC: return C_CALLOC;
	case RA_OP_MEMALIGN: return C_MEMALIGN;
	case RA_OP_MMAP: return (op->flags & RA_OPF_FILEMAP) ? C_FMMAP : C_MMAP;
	case RA_OP_MSYNC: return C_MSYNC;
	case RA_OP_MADVISE: return C_MADVISE;
	case RA_OP_REALLOC: return C_REALLOC;
	case RA_OP_MALLOPT: return C_MALLOPT;
	case RA_OP_MALLOC_TRIM: return C_MALLOC_TRIM;
	case RA_OP_MLOCKALL: return C_MLOCKALL;
	case RA_OP_OOM_SCORE_ADJ: return C_OOM_SCORE_ADJ;
	case RA_OP_OOM_ADJ: return C_OOM_ADJ;
	case RA_OP_SYSCTL: {
		const char *s = ra_trace_strp(w->t, op->str);
		if (!strncmp(s, "vm.drop_caches=", 15))
			return C_DROP_CACHES;
		const char *eq = strchr(s, '=');
		int id = eq ? ra_knob_lookup(s, (size_t)(eq - s)) : -1;
		for (size_t k = 0; k < RA_ARRAY_SIZE(pknob_ids); k++)
			if (pknob_ids[k] == id)
				return C_PSYSCTL;
		return C_SYSCTL;
	}
	case RA_OP_SLEEP: return C_SLEEP;
	case RA_OP_FILE: return C_FILE;
	case RA_OP_FREAD: return C_FREAD;
	case RA_OP_FWRITE: return C_FWRITE;
	case RA_OP_FSYNC: return C_FSYNC;
	case RA_OP_FTRUNCATE: return C_FTRUNCATE;
	case RA_OP_FUNLINK: return C_FUNLINK;
	case RA_OP_FADVISE: return C_FADVISE;
	case RA_OP_FAIL: return C_FAIL;
	case RA_OP_CHECK: return C_CHECK;
	case RA_OP_DUMP: return C_DUMP;
	case RA_OP_BRK: return op->a[0] < 0 ? C_M_BRK_SHRINK : C_BRK;
	case RA_OP_POKE:
		if (!misuse) return C_POKE;
		for (int k = 0; k < KK_NR; k++)
			if (lfind(&w->freed[k], op->h[0]) >= 0 && lfind(&w->live[k], op->h[0]) < 0)
				return C_M_UAF;
		return C_M_OOB;
	case RA_OP_TOUCH: case RA_OP_READ:
		if (!misuse) return op->code == RA_OP_TOUCH ? C_TOUCH : C_READ;
		return t && lfind(&t->chunks, op->h[0]) < 0 ? C_M_UAF : C_M_OOB;
	case RA_OP_FREE: case RA_OP_MUNMAP:
		return misuse ? C_M_DOUBLE_FREE : op->code == RA_OP_FREE ? C_FREE : C_MUNMAP;
	case RA_OP_CACHE_FREE:
		if (!misuse) return C_CACHE_FREE;
		return lfind(&w->live[KK_COBJ], op->h[1]) >= 0 ? C_M_WRONG_CACHE : C_M_DOUBLE_FREE;
	case RA_OP_CACHE_DESTROY:
		return misuse ? C_M_BUSY_DESTROY : C_CACHE_DESTROY;
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_IOUNMAP: case RA_OP_UNBALLOON:
	case RA_OP_SWAPOFF: {
		static const uint8_t cls_of[] = { [RA_OP_FREE_PAGES] = C_FREE_PAGES, [RA_OP_KFREE] = C_KFREE,
		                                  [RA_OP_VFREE] = C_VFREE, [RA_OP_IOUNMAP] = C_IOUNMAP,
		                                  [RA_OP_UNBALLOON] = C_UNBALLOON, [RA_OP_SWAPOFF] = C_SWAPOFF };
		if (!misuse) {
			if (op->code == RA_OP_KFREE && lfind(&w->live[KK_COBJ], op->h[0]) >= 0)
				return -1;    /* kfree of a cache object: not in the canonical form */
			return cls_of[op->code];
		}
		for (int k = 0; k < KK_NR; k++)
			if (lfind(&w->live[k], op->h[0]) >= 0)
				return C_M_WRONG_FREE;
		return C_M_DOUBLE_FREE;
	}
	default:
		return -1;
	}
}

int ra_trace_encode(const struct ra_trace *t, int profile, uint8_t **out, size_t *len, struct ra_trace_error *err)
{
	*out = NULL;
	*len = 0;
	memset(err, 0, sizeof(*err));
	if (profile < 0 || profile >= (int)RA_ARRAY_SIZE(profiles)) {
		snprintf(err->msg, sizeof(err->msg), "unknown profile");
		return -1;
	}
	struct walker w = { .enc = true, .cur = -1, .prof = &profiles[profile], .t = (struct ra_trace *)t };
	/* header from the machine line and the first slub_debug/overcommit */
	uint8_t b0 = 4, b1 = 0;   /* 256M, 1 cpu */
	for (unsigned i = 0; i < 8; i++)
		if (mems[i] == t->cfg.mem)
			b0 = (uint8_t)i;
	bool half = t->cfg.dma32 == t->cfg.mem / 2 && t->cfg.mem >= (64ULL << 20);
	if (mems[b0 & 7] != t->cfg.mem || (profile == PROF_PRESSURE && b0 > 3) || t->cfg.cpus > 4 || (t->cfg.cma && t->cfg.cma != t->cfg.mem / 8) ||
	    t->cfg.dma != 16ULL << 20 || (t->cfg.dma32 != 4ULL << 30 && !half)) {
		snprintf(err->msg, sizeof(err->msg), "machine not expressible in the binary header (mem 16M, 32M, 48M, "
		         "64M, 96M, 128M, 256M or 512M; cpus 1..4; cma 0 or mem/8; dma 16M; dma32 4G or mem/2)");
		err->line = 1;
		return -1;
	}
	b0 |= (uint8_t)((t->cfg.cpus - 1) << 3) | (t->cfg.cma ? 0x20 : 0);
	if (half)
		b1 |= 4;
	uint64_t mem = t->cfg.mem, sw = t->cfg.swap, zr = t->cfg.zram;
	int smode = !sw && !zr ? 0 : sw == mem && !zr ? 1 : !sw && zr == mem ? 2 : sw == mem / 2 && zr == mem / 2 ? 3 : -1;
	if (smode < 0) {
		snprintf(err->msg, sizeof(err->msg), "machine swap=/zram= not expressible in the binary header (none, "
		         "swap=mem, zram=mem, or both mem/2)");
		err->line = 1;
		return -1;
	}
	b1 |= (uint8_t)(smode << 3);
	uint32_t i = 0;
	if (i < t->nops && t->ops[i].code == RA_OP_MACHINE)
		i++;
	if (i < t->nops && t->ops[i].code == RA_OP_SLUB_DEBUG) {
		const char *s = ra_trace_strp(t, t->ops[i].str);
		int d = !strcmp(s, "FZPU") ? 1 : !strcmp(s, "ZP") ? 2 : !strcmp(s, "FU") ? 3 : -1;
		if (d >= 0) {
			b0 |= (uint8_t)(d << 6);
			i++;
		}
	}
	if (i < t->nops && t->ops[i].code == RA_OP_SYSCTL &&
	    !strncmp(ra_trace_strp(t, t->ops[i].str), "vm.overcommit_memory=", 21)) {
		int v = atoi(ra_trace_strp(t, t->ops[i].str) + 21);
		if (v == 1 || v == 2) {
			b1 = (uint8_t)(b1 | v);
			i++;
		}
	}
	wr8(&w, b0);
	wr8(&w, b1);
	w.ncpus = t->cfg.cpus;
	for (; i < t->nops; i++) {
		const struct ra_op *op = &t->ops[i];
		if (op->code == RA_OP_EXPECT && op->a[0] == RA_EXPECT_ANY)
			continue;   /* part of the misuse class before it */
		int c = classify(&w, op, i + 1 < t->nops ? &t->ops[i + 1] : NULL);
		int pos = -1;
		for (unsigned k = 0; c >= 0 && k < w.prof->n; k++)
			if (w.prof->cls[k] == c) {
				pos = (int)k;
				break;
			}
		if (pos < 0 || (wr8(&w, (uint8_t)pos), walk_class(&w, (enum cls)c, op)) || w.oom) {
			snprintf(err->msg, sizeof(err->msg), "'%s' cannot be expressed in the binary form (profile %s)",
			         ra_op_names[op->code], w.prof->name);
			err->line = op->line;
			err->col = op->col;
			free(w.out);
			walker_free(&w);
			return -1;
		}
	}
	walker_free(&w);
	*out = w.out;
	*len = w.olen;
	return 0;
}
