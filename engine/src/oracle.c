/*
 * oracle.c — an independent shadow of every live object, checked around
 * every operation of a replay (replay --fuzz, and every fuzz target).
 *
 * The shadow knows, per address space (the kernel's, and each task's),
 * every object a trace holds: kind, address, requested size, handle, and a
 * fill pattern derived from the handle, written into its first and last 64
 * bytes when it is allocated and verified when it is freed. After each
 * operation the oracle checks what the engine cannot check about itself:
 *
 *   - a new object overlaps no live object of its address space, is aligned
 *     as its allocator promises, and has usable size >= the request;
 *   - zeroing allocations (kzalloc, __GFP_ZERO, vzalloc, calloc) return
 *     zeros; realloc and krealloc keep the contents;
 *   - a live object's contents are intact when it is freed;
 *   - freeing a live object with its own function succeeds without a
 *     report; freeing what is not a live object (double, invalid, wrong
 *     function, wrong cache) is reported and refused — the engine must
 *     catch it;
 *   - slab metadata in RAM (free pointers, red zones, poison, padding) is
 *     reported damaged only after the trace wrote outside its objects;
 *   - at the end, each slab cache holds exactly the objects the shadow
 *     says are live (the engine's own objects, marked internal, aside);
 *   - nothing is lost: the oracle shadows every file's bytes (what fwrite
 *     wrote where, what ftruncate cut off or zeroed, funlink dropping the
 *     name) as extents of one byte value over holes of zeros, and checks
 *     that the file's size and bytes, as a read would return them, match
 *     the shadow after every fread and `peek` of a file and, for every live
 *     file, at the end, whatever reclaim, writeback, eviction, fadvise and
 *     drop_caches did in between. A write that failed (no memory for a
 *     page) changed an unknown prefix: those bytes are unknown until
 *     written again;
 *   - file mappings see the file: a poke through a shared mapping writes
 *     the file (the shadow takes its bytes; those past i_size are unknown,
 *     as a later extension may show them), and the bytes a `peek` or `read`
 *     of a file mapping reaches, and at the end every page a live file
 *     mapping has present, equal the file's shadow inside i_size: through
 *     writeback, eviction and re-faults alike. A private mapping's page
 *     that holds an anonymous COW copy is its own and is not compared;
 *   - anonymous mappings hold what the trace poked into them (zeros
 *     elsewhere), checked over the bytes each peek, read, touch, poke and
 *     madvise reaches (at most 64 KiB, resident or swapped, no fault):
 *     MADV_DONTNEED zeroes its range; after MADV_FREE each byte may also
 *     read zero (reclaim discarded its page) until it is written again;
 *     a misuse or stray kernel write into a mapping makes its bytes
 *     unknown.
 *
 * Deliberate misuse (a write after free or out of bounds) may damage live
 * objects or in-band metadata: the oracle marks what such a write covers as
 * tainted, skips the checks that damage invalidates, and from then on lets
 * frees of damaged objects be refused. Injected faults only ever produce
 * clean failures: the engine's validators run after every operation too.
 */
#include "replay.h"
#include "mm.h"
#include "filemap.h"
#include "umalloc.h"
#include <inttypes.h>

#define SAMPLE 64

struct sobj {
	uint32_t as;          /* 0 kernel, else a task's pid */
	uint64_t addr, size;
	uint32_t name;
	uint8_t  kind;        /* enum hkind */
	uint8_t  tainted;     /* contents may have been changed by misuse */
	uint32_t cache;       /* HK_CACHE_OBJ: the cache handle's name */
	uint32_t rcache;      /* HK_CACHE_OBJ: the id of the cache that holds it (an alias's target) */
	uint32_t file;        /* a file mapping: the engine's file id + 1 (0: anonymous memory) */
	uint64_t foff;        /* a file mapping: the file offset its start maps */
	bool     shared;      /* a file mapping: MAP_SHARED */
};

/* A file's shadow: sorted disjoint extents of one byte value (-1:
 * unknown, a failed write's range) over holes that read as zeros. */
struct sext { uint64_t start, end; int byte; };
/* A page whose writeback failed: the disk kept its older block, which a
 * read returns once the page is evicted. `old` is that block as the disk
 * held it when the oracle saw the error; valid[k]: byte k may still read
 * as old[k] (no write or truncation has covered it since). */
struct sstale {
	uint64_t index;
	uint64_t seq;                      /* the engine's error count at the failure seen */
	uint8_t old[RA_PAGE_SIZE];
	uint8_t valid[RA_PAGE_SIZE];
};
struct sfile {
	bool live;
	uint64_t size;
	struct sext *x;
	uint32_t n, cap;
	struct sstale *st;
	uint32_t nst, capst;
	uint32_t wb_err_seen;              /* the engine file's error count last looked at */
};

/* A private file mapping's own pages (anonymous COW copies): `pages`
 * marks them (byte 1 over each page's offsets in the mapping), `bytes`
 * holds what they hold, by offset in the mapping (holes: zeros; -1:
 * unknown). An anonymous mapping's shadow is one too: `bytes` holds what
 * the trace wrote (holes: zeros), `pages` marks the ranges MADV_FREE
 * let go lazily (byte 1), where each byte reads as `bytes` says or as
 * zero (discarded), until written again. */
struct sown { uint32_t as; uint64_t addr; struct sfile pages, bytes; };

struct oracle {
	struct sfile *files;               /* by engine file id */
	uint32_t nfiles;
	struct sown *own;                  /* private file mappings' own pages, any order */
	uint32_t nown, capown;
	struct sobj *v;
	uint32_t n, cap;
	bool taint_kernel;                 /* a misuse write landed outside live objects */
	uint64_t wb_injected;              /* writeback failures injected, as last seen */
	/* what the op about to run is expected to do */
	int expect;                        /* 0 nothing, 1 must succeed quietly, 2 must be reported */
	char why[160];
	/* krealloc/realloc: the old object's sample, to compare */
	uint8_t old_head[SAMPLE];
	uint64_t old_size;
	bool old_valid;
	uint32_t old_as;
	uint64_t old_addr;                 /* krealloc: the old object's address, to tell in place */
};

static int cmp_key(uint32_t as, uint64_t addr, const struct sobj *o)
{
	if (as != o->as)
		return as < o->as ? -1 : 1;
	return addr < o->addr ? -1 : addr > o->addr;
}

static uint32_t lower(struct oracle *or, uint32_t as, uint64_t addr)
{
	uint32_t lo = 0, hi = or->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (cmp_key(as, addr, &or->v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct sobj *find(struct oracle *or, uint32_t as, uint64_t addr)
{
	uint32_t i = lower(or, as, addr);
	return i < or->n && or->v[i].as == as && or->v[i].addr == addr ? &or->v[i] : NULL;
}

/* The object a free op frees at addr. iounmap() takes any address in the
 * mapping's first page (x86's iounmap masks it to the page, then finds
 * the area by its start): the live ioremap that begins in that page. */
static struct sobj *find_freed(struct oracle *or, int code, uint64_t addr)
{
	struct sobj *o = find(or, 0, addr);
	if (o || code != RA_OP_IOUNMAP)
		return o;
	uint64_t page = addr & ~(uint64_t)(RA_PAGE_SIZE - 1);
	for (uint32_t i = lower(or, 0, page); i < or->n && or->v[i].as == 0 && or->v[i].addr < page + RA_PAGE_SIZE; i++)
		if (or->v[i].kind == HK_IOREMAP)
			return &or->v[i];
	return NULL;
}

static void del(struct oracle *or, struct sobj *o)
{
	uint32_t i = (uint32_t)(o - or->v);
	memmove(&or->v[i], &or->v[i + 1], (or->n - i - 1) * sizeof(*o));
	or->n--;
}

static void fail(struct replay *rp, const struct ra_op *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct replay *rp, const struct ra_op *op, const char *fmt, ...)
{
	rp->oracle_failures++;
	if (!rp->err)
		return;
	fprintf(rp->err, "BUG: refalloc: oracle: ");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(rp->err, fmt, ap);
	va_end(ap);
	fprintf(rp->err, " (%s:%u)\n", rp->t->file, op->line);
}

static uint8_t pattern(uint32_t name, uint64_t off) { return (uint8_t)(0x31 + name * 7 + off * 13); }

/* === Memory access through the engine =================================== */

static struct ra_task *task_of(struct replay *rp, uint32_t as)
{
	struct ra_mm_world *w = ra_mm_world(rp->m);
	for (uint32_t i = 0; w && i < w->nr_tasks; i++)
		if (w->tasks[i]->pid == as)
			return w->tasks[i];
	return NULL;
}

/* 0 done; -1 not accessible (a dead task, an unmapped range). Reads and
 * writes happen as the program would: user pages fault in. */
static int mem_io(struct replay *rp, uint32_t as, uint64_t addr, void *buf, size_t len, bool write)
{
	if (!len)
		return 0;
	if (!as) {
		unsigned long before = ra_reports(rp->m);
		int r = write ? ra_kwrite(rp->m, addr, buf, len) : ra_kread(rp->m, addr, buf, len);
		rp->m->nr_reports = before;     /* the oracle's own access is not the trace's */
		return r;
	}
	struct ra_task *t = task_of(rp, as);
	if (!ra_task_alive(t))
		return -1;
	ra_task_get(t);
	unsigned long before = ra_reports(rp->m);
	int r = ra_uaccess(rp->m, t, addr, len, write, buf);
	rp->m->nr_reports = before;
	ra_task_put(rp->m, t);
	return r;
}

static bool is_zero(struct replay *rp, uint32_t as, uint64_t addr, uint64_t size)
{
	uint8_t buf[SAMPLE];
	for (int part = 0; part < 2; part++) {
		uint64_t n = RA_MIN(size, (uint64_t)SAMPLE);
		uint64_t at = part ? addr + size - n : addr;
		if (mem_io(rp, as, at, buf, (size_t)n, false))
			return true;    /* gone: nothing to say */
		for (uint64_t i = 0; i < n; i++)
			if (buf[i])
				return false;
	}
	return true;
}

static void fill(struct replay *rp, const struct sobj *o)
{
	uint8_t buf[SAMPLE];
	for (int part = 0; part < 2; part++) {
		uint64_t n = RA_MIN(o->size, (uint64_t)SAMPLE);
		uint64_t off = part ? o->size - n : 0;
		for (uint64_t i = 0; i < n; i++)
			buf[i] = pattern(o->name, off + i);
		mem_io(rp, o->as, o->addr + off, buf, (size_t)n, true);
	}
}

/* The first byte that differs from the pattern, or -1. */
static int64_t verify(struct replay *rp, const struct sobj *o)
{
	uint8_t buf[SAMPLE];
	for (int part = 0; part < 2; part++) {
		uint64_t n = RA_MIN(o->size, (uint64_t)SAMPLE);
		uint64_t off = part ? o->size - n : 0;
		if (mem_io(rp, o->as, o->addr + off, buf, (size_t)n, false))
			return -1;
		for (uint64_t i = 0; i < n; i++)
			if (buf[i] != pattern(o->name, off + i))
				return (int64_t)(off + i);
	}
	return -1;
}

/* === Registering and checking objects =================================== */

static uint64_t align_of(struct replay *rp, const struct ra_op *op, const struct rhandle *h)
{
	switch (op->code) {
	case RA_OP_ALLOC_PAGES: return RA_PAGE_SIZE << op->a[0];
	case RA_OP_VMALLOC: case RA_OP_VZALLOC: case RA_OP_MMAP: return RA_PAGE_SIZE;
	case RA_OP_KMALLOC: case RA_OP_KZALLOC: case RA_OP_KREALLOC:
		/* krealloc keeps the object when ksize(p) >= the new size
		 * (__do_krealloc(): `if (ks >= new_size) ... return (void *)p;`),
		 * so in place it promises only what the old object had:
		 * ARCH_KMALLOC_MINALIGN (8) — a kmalloc-96 object shrunk to 64
		 * bytes stays at a multiple of 96. (Callers that need more use
		 * krealloc_node_align() in newer kernels, which moves an object
		 * that is not aligned; the trace's krealloc is the plain one.) */
		if (op->code == RA_OP_KREALLOC && h->val == rp->oracle->old_addr)
			return 8;
		/* power-of-two sizes are naturally aligned (up to a page) unless
		 * slub_debug changes the slot layout */
		if (!rp->m->slub_debug_flags && h->size >= 8 && h->size <= RA_PAGE_SIZE && !(h->size & (h->size - 1)))
			return h->size;
		return 8;
	case RA_OP_MEMALIGN: return (uint64_t)RA_MAX(op->a[0], 16);
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_REALLOC: return 16;
	default: return 1;
	}
}

/* The cache that holds a cache's objects: itself, or the one it is an
 * alias of (merged at creation). */
static uint32_t real_cache_id(const ra_cache *c)
{
	if (!c)
		return UINT32_MAX;
	return c->merged_into_valid ? c->merged_into : c->id;
}

static void add(struct replay *rp, const struct ra_op *op, uint32_t as, const struct rhandle *h, uint32_t name,
                bool zeroed)
{
	struct oracle *or = rp->oracle;
	uint64_t size = h->kind == HK_PAGES ? RA_PAGE_SIZE << h->aux : h->size;
	uint64_t a = h->val;
	uint64_t al = align_of(rp, op, h);
	uint64_t rel = as ? a : a - (a >= RA_VMALLOC_START ? RA_VMALLOC_START : RA_DIRECT_MAP_BASE);
	if (al > 1 && rel % al)
		fail(rp, op, "%s returned 0x%" PRIx64 ", not aligned to %" PRIu64, ra_op_names[op->code], a, al);
	/* usable size */
	if (h->kind == HK_KMALLOC && a != RA_ZERO_SIZE_PTR && ra_ksize(rp->m, a) < h->size)
		fail(rp, op, "ksize(0x%" PRIx64 ") = %zu < the %" PRIu64 " bytes asked", a, ra_ksize(rp->m, a), h->size);
	if (h->kind == HK_UCHUNK) {
		struct ra_task *t = task_of(rp, as);
		if (t && t->um && um_usable_size(t->um, a) < h->size)
			fail(rp, op, "malloc_usable_size(0x%" PRIx64 ") = %zu < the %" PRIu64 " bytes asked", a,
			     um_usable_size(t->um, a), h->size);
	}
	if (a == RA_ZERO_SIZE_PTR)
		return;     /* ZERO_SIZE_PTR is no object */
	/* overlap with the neighbours in the same address space */
	uint32_t i = lower(or, as, a);
	if (i > 0 && or->v[i - 1].as == as && or->v[i - 1].addr + RA_MAX(or->v[i - 1].size, 1u) > a)
		fail(rp, op, "new object 0x%" PRIx64 "+%" PRIu64 " overlaps live '%s' at 0x%" PRIx64 "+%" PRIu64, a, size,
		     rp->t->names[or->v[i - 1].name], or->v[i - 1].addr, or->v[i - 1].size);
	if (i < or->n && or->v[i].as == as && a + RA_MAX(size, 1u) > or->v[i].addr)
		fail(rp, op, "new object 0x%" PRIx64 "+%" PRIu64 " overlaps live '%s' at 0x%" PRIx64 "+%" PRIu64, a, size,
		     rp->t->names[or->v[i].name], or->v[i].addr, or->v[i].size);
	if (or->n == or->cap) {
		or->cap = or->cap ? or->cap * 2 : 256;
		or->v = realloc(or->v, or->cap * sizeof(*or->v));
		RA_BUG_ON(rp->m, !or->v);
	}
	if (i < or->n && or->v[i].as == as && or->v[i].addr == a) {
		/* already shadowed (a failed overlap check above): replace */
		del(or, &or->v[i]);
	}
	memmove(&or->v[i + 1], &or->v[i], (or->n - i) * sizeof(*or->v));
	struct sobj *o = &or->v[i];
	memset(o, 0, sizeof(*o));
	o->as = as;
	o->addr = a;
	o->size = size;
	o->name = name;
	o->kind = h->kind;
	o->cache = h->kind == HK_CACHE_OBJ ? h->aux : 0;
	o->rcache = h->kind == HK_CACHE_OBJ ? real_cache_id(rp->kh[h->aux].ptr) : UINT32_MAX;
	or->n++;
	if (h->kind == HK_UMMAP || h->kind == HK_IOREMAP) {
		o->tainted = 1;   /* no contents to check: a mapping is the trace's to write, ioremap has no memory */
		return;
	}
	if (zeroed && !is_zero(rp, as, a, size))
		fail(rp, op, "%s returned 0x%" PRIx64 "+%" PRIu64 " not zeroed", ra_op_names[op->code], a, size);
	if (or->old_valid && or->old_as == as) {
		uint64_t n = RA_MIN(RA_MIN(or->old_size, size), (uint64_t)SAMPLE);
		uint8_t buf[SAMPLE];
		if (!mem_io(rp, as, a, buf, (size_t)n, false) && memcmp(buf, or->old_head, (size_t)n))
			fail(rp, op, "%s did not keep the contents (first %" PRIu64 " bytes differ)", ra_op_names[op->code], n);
	}
	fill(rp, o);
}

/* The shadow object a free op names, and what the engine must do with it. */
static void expect_free(struct replay *rp, const struct ra_op *op, uint32_t as, const struct rhandle *h, int want_kind)
{
	struct oracle *or = rp->oracle;
	or->expect = 0;
	if (h->state == HS_NULL || h->state == HS_UNBOUND || !h->val || h->val == RA_ZERO_SIZE_PTR)
		return;
	struct sobj *o = as ? find(or, as, h->val) : find_freed(or, op->code, h->val);
	if (!o) {
		or->expect = 2;
		snprintf(or->why, sizeof(or->why), "%s of 0x%" PRIx64 ", which is no live object", ra_op_names[op->code],
		         h->val);
		return;
	}
	bool right = o->kind == want_kind || (want_kind == HK_KMALLOC && o->kind == HK_CACHE_OBJ);
	if (op->code == RA_OP_FREE_PAGES && o->kind == HK_PAGES && o->size != RA_PAGE_SIZE << (h->kind == HK_PAGES ? h->aux : 0))
		right = false;
	if (op->code == RA_OP_CACHE_FREE && o->kind == HK_CACHE_OBJ && o->cache != op->h[0]) {
		/* another cache: refused unless the two are merged aliases. The
		 * object's cache is the one recorded at allocation: its handle
		 * may be destroyed since while an alias keeps the cache alive. */
		right = o->rcache != UINT32_MAX && o->rcache == real_cache_id(rp->kh[op->h[0]].ptr);
	}
	if (!right) {
		or->expect = 2;
		snprintf(or->why, sizeof(or->why), "%s of '%s', a %s", ra_op_names[op->code], rp->t->names[o->name],
		         ra_hkind_names[o->kind]);
		return;
	}
	if (!o->tainted) {
		int64_t bad = verify(rp, o);
		if (bad >= 0)
			fail(rp, op, "contents of live '%s' (0x%" PRIx64 "+%" PRIu64 ") changed at offset %" PRId64
			     " before it was freed", rp->t->names[o->name], o->addr, o->size, bad);
		or->expect = 1;
		snprintf(or->why, sizeof(or->why), "%s of live '%s'", ra_op_names[op->code], rp->t->names[o->name]);
	}
}

static bool anon_map(const struct sobj *o);
static void anon_unknown(struct replay *rp, const struct sobj *o);

/* Mark objects a misuse write covers (pokes change bytes, kernel or user;
 * user touches write them back unchanged, so they taint nothing). */
static void taint_range(struct replay *rp, uint32_t as, uint64_t a, uint64_t len)
{
	struct oracle *or = rp->oracle;
	uint64_t covered = 0;
	for (uint32_t i = lower(or, as, 0); i < or->n && or->v[i].as == as; i++) {
		struct sobj *o = &or->v[i];
		if (o->addr < a + len && a < o->addr + o->size) {
			o->tainted = 1;
			if (anon_map(o))
				anon_unknown(rp, o);
			covered += RA_MIN(a + len, o->addr + o->size) - RA_MAX(a, o->addr);
		}
		/* a vmalloc area is also its backing pages in the direct map */
		if (!as && o->kind == HK_VMALLOC && a < RA_VMALLOC_START) {
			struct ra_vmarea *va = ra_vmarea_find(rp->m, o->addr);
			for (uint32_t k = 0; va && k < va->nr_pages && !o->tainted; k++) {
				ra_addr_t pa = pfn_to_kaddr(va->pfns[k]);
				if (pa < a + len && a < pa + RA_PAGE_SIZE)
					o->tainted = 1;
			}
		}
	}
	if (covered < len)
		or->taint_kernel = true;
	/* A stray kernel write through the direct map may land in pages that
	 * back user memory: the blocks of every task mapping them are changed
	 * behind malloc's back too. */
	if (!as && covered < len && kaddr_valid(rp->m, a)) {
		uint32_t p0 = kaddr_pfn(a), p1 = kaddr_valid(rp->m, a + len - 1) ? kaddr_pfn(a + len - 1) : rp->m->nr_pages - 1;
		for (uint32_t i = lower(or, 1, 0); i < or->n; i++) {
			struct sobj *o = &or->v[i];
			struct ra_task *t = task_of(rp, o->as);
			if ((o->tainted && !anon_map(o)) || !ra_task_alive(t))
				continue;
			for (uint64_t va = o->addr & ~(uint64_t)(RA_PAGE_SIZE - 1); va < o->addr + o->size; va += RA_PAGE_SIZE) {
				uint32_t pfn = ra_user_pfn(t, va);
				if (pfn != RA_NOPFN && pfn >= p0 && pfn <= p1) {
					o->tainted = 1;
					if (anon_map(o))
						anon_unknown(rp, o);
					break;
				}
			}
		}
	}
}

/* === Files ============================================================== */

static struct sfile *sfile(struct replay *rp, uint32_t id)
{
	struct oracle *or = rp->oracle;
	if (id >= or->nfiles) {
		uint32_t n = RA_MAX(id + 1, or->nfiles * 2);
		struct sfile *v = realloc(or->files, n * sizeof(*v));
		RA_BUG_ON(rp->m, !v);
		memset(v + or->nfiles, 0, (n - or->nfiles) * sizeof(*v));
		or->files = v;
		or->nfiles = n;
	}
	return &or->files[id];
}

/* Remove [a, b) from the extents (splitting those that straddle it). */
static void sf_cut(struct replay *rp, struct sfile *s, uint64_t a, uint64_t b)
{
	uint32_t k = 0;
	struct sext keep[2];
	unsigned nk = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		struct sext e = s->x[i];
		if (e.end <= a || e.start >= b) {
			s->x[k++] = e;
			continue;
		}
		if (e.start < a)
			keep[nk++] = (struct sext){ e.start, a, e.byte };
		if (e.end > b)
			keep[nk++] = (struct sext){ b, e.end, e.byte };
	}
	s->n = k;
	for (unsigned j = 0; j < nk; j++) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 8;
			s->x = realloc(s->x, s->cap * sizeof(*s->x));
			RA_BUG_ON(rp->m, !s->x);
		}
		uint32_t i = s->n;
		while (i && s->x[i - 1].start > keep[j].start) {
			s->x[i] = s->x[i - 1];
			i--;
		}
		s->x[i] = keep[j];
		s->n++;
	}
}

static void sf_put(struct replay *rp, struct sfile *s, uint64_t a, uint64_t b, int byte)
{
	if (a >= b)
		return;
	sf_cut(rp, s, a, b);
	if (!byte)
		return;    /* zeros are what a hole reads as */
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->x = realloc(s->x, s->cap * sizeof(*s->x));
		RA_BUG_ON(rp->m, !s->x);
	}
	uint32_t i = s->n;
	while (i && s->x[i - 1].start > a) {
		s->x[i] = s->x[i - 1];
		i--;
	}
	s->x[i] = (struct sext){ a, b, byte };
	s->n++;
}

/* === Writeback errors ===================================================
 * A failed writeback is the kernel's behaviour, not a loss by the engine:
 * the page keeps the written bytes while cached, and after eviction reads
 * the disk's older block. The oracle learns of each failure from the
 * engine file's error count and its set of pages whose last writeback
 * failed (the fault was injected by the trace's `fail writeback`), and
 * from then on accepts, for each byte of such a page, the shadow's value
 * or the byte the disk held at the failure, and nothing else, until the
 * trace overwrites or truncates it. */

static void st_forget(struct sfile *s, uint64_t a, uint64_t b)
{
	for (uint32_t i = 0; i < s->nst;) {
		struct sstale *t = &s->st[i];
		uint64_t lo = RA_MAX(a, t->index << RA_PAGE_SHIFT), hi = RA_MIN(b, (t->index + 1) << RA_PAGE_SHIFT);
		if (lo < hi)
			memset(t->valid + (lo & (RA_PAGE_SIZE - 1)), 0, (size_t)(hi - lo));
		bool any = false;
		for (unsigned k = 0; k < RA_PAGE_SIZE && !any; k++)
			any = t->valid[k];
		if (any) {
			i++;
			continue;
		}
		s->st[i] = s->st[--s->nst];
	}
}

static void st_learn(struct replay *rp, uint32_t id, struct sfile *s)
{
	struct ra_file *f = ra_file_get(rp->m, id);
	if (!f || f->wb_err == s->wb_err_seen)
		return;
	s->wb_err_seen = f->wb_err;
	uint32_t n;
	uint64_t *keys = pcm_sorted_keys(&f->wb_stale, &n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t seq = *pcm_find(&f->wb_stale, keys[i]);
		struct sstale *t = NULL;
		for (uint32_t j = 0; j < s->nst && !t; j++)
			if (s->st[j].index == keys[i])
				t = &s->st[j];
		if (t && t->seq == seq)
			continue;    /* no new failure of this page */
		if (!t) {
			if (s->nst == s->capst) {
				/* grown by doubling: a page is 8 KiB of state here,
				 * and a file may have thousands of failed pages */
				s->capst = s->capst ? s->capst * 2 : 8;
				struct sstale *v = realloc(s->st, (size_t)s->capst * sizeof(*v));
				RA_BUG_ON(rp->m, !v);
				s->st = v;
			}
			t = &s->st[s->nst++];
			t->index = keys[i];
		}
		/* a new failure: what was written since is lost too, once the
		 * page goes; the disk still holds its older block */
		t->seq = seq;
		ra_file_peek_disk(f, keys[i] << RA_PAGE_SHIFT, RA_PAGE_SIZE, t->old);
		memset(t->valid, 1, sizeof(t->valid));
	}
	free(keys);
}

/* Byte b at pos is the disk's older byte of a page whose writeback failed. */
static bool st_accepts(const struct sfile *s, uint64_t pos, uint8_t b)
{
	for (uint32_t i = 0; i < s->nst; i++)
		if (s->st[i].index == pos >> RA_PAGE_SHIFT) {
			unsigned k = (unsigned)(pos & (RA_PAGE_SIZE - 1));
			return s->st[i].valid[k] && s->st[i].old[k] == b;
		}
	return false;
}

/* The shadow's byte at pos (< size): -1 unknown. */
static int sf_byte(const struct sfile *s, uint64_t pos, uint32_t *hint)
{
	uint32_t i = *hint;
	while (i < s->n && s->x[i].end <= pos)
		i++;
	*hint = i;
	return i < s->n && s->x[i].start <= pos ? s->x[i].byte : 0;
}

/* Compare [a, b) of file id with its shadow: the first and last SAMPLE
 * bytes of each extent and hole the range covers (at most 1024 of them). */
static void sf_check(struct replay *rp, const struct ra_op *op, uint32_t name, uint32_t id, uint64_t a, uint64_t b)
{
	struct oracle *or = rp->oracle;
	if (or->taint_kernel || id >= or->nfiles || !or->files[id].live)
		return;
	struct sfile *s = &or->files[id];
	struct ra_file *f = ra_file_get(rp->m, id);
	if (!f) {
		fail(rp, op, "file '%s' is gone although the trace never unlinked it", rp->t->names[name]);
		s->live = false;
		return;
	}
	if (f->size != s->size) {
		fail(rp, op, "file '%s' is %" PRIu64 " bytes long; the trace made it %" PRIu64, rp->t->names[name],
		     f->size, s->size);
		s->size = f->size;   /* once */
		return;
	}
	b = RA_MIN(b, s->size);
	uint64_t pts[2 * 1024 + 2];
	unsigned np = 0;
	/* segment boundaries inside [a, b) */
	pts[np++] = a;
	for (uint32_t i = 0; i < s->n && np < RA_ARRAY_SIZE(pts) - 3; i++) {
		if (s->x[i].end <= a || s->x[i].start >= b)
			continue;
		if (s->x[i].start > a)
			pts[np++] = s->x[i].start;
		if (s->x[i].end < b)
			pts[np++] = s->x[i].end;
	}
	pts[np++] = b;
	uint8_t buf[SAMPLE];
	uint32_t hint = 0;
	for (unsigned j = 0; j + 1 < np; j++) {
		uint64_t lo = pts[j], hi = pts[j + 1];
		if (lo >= hi)
			continue;
		for (int part = 0; part < 2; part++) {
			uint64_t n = RA_MIN(hi - lo, (uint64_t)SAMPLE);
			uint64_t at = part ? hi - n : lo;
			if (part && hi - lo <= SAMPLE)
				break;   /* the head covered it */
			ra_file_peek(rp->m, f, at, n, buf);
			hint = 0;
			for (uint64_t k = 0; k < n; k++) {
				int want = sf_byte(s, at + k, &hint);
				if (want >= 0 && buf[k] != (uint8_t)want && !st_accepts(s, at + k, buf[k])) {
					fail(rp, op, "file '%s' lost its bytes: offset %" PRIu64 " reads 0x%02x, the trace "
					     "left 0x%02x there", rp->t->names[name], at + k, buf[k], want);
					sf_put(rp, s, 0, s->size, -1);   /* report once */
					return;
				}
			}
		}
	}
}

/* After ftruncate to a size inside a page, that page reads zeros past the
 * end in every copy: the cache's (read back once the file grows again)
 * and the disk's, which only shows after the page is evicted, the file
 * grown and the page read again; the disk copy is checked here, at once,
 * since that sequence is rare for a fuzzer and a later writeback of the
 * zeroed cache page would mend it. */
static void sf_check_tail(struct replay *rp, const struct ra_op *op, uint32_t name, uint32_t id)
{
	struct ra_file *f = ra_file_get(rp->m, id);
	if (!f || rp->oracle->taint_kernel)
		return;
	size_t in = (size_t)(f->size & (RA_PAGE_SIZE - 1));
	if (!in)
		return;
	uint8_t tail[RA_PAGE_SIZE];
	ra_file_peek_disk(f, f->size, RA_PAGE_SIZE - in, tail);
	for (size_t k = 0; k < RA_PAGE_SIZE - in; k++)
		if (tail[k]) {
			fail(rp, op, "file '%s' keeps 0x%02x on the disk at %" PRIu64 ", past the end it was truncated to",
			     rp->t->names[name], tail[k], f->size + k);
			return;
		}
}

static void own_forget(struct sown *w);
static void own_truncated(struct replay *rp, uint32_t id, uint64_t size);

static void files_after(struct replay *rp, const struct ra_op *op, int outcome)
{
	struct oracle *or = rp->oracle;
	if (op->code == RA_OP_FILE) {
		if (outcome != OUT_OK || op->out == RA_NONAME)
			return;
		struct rhandle *h = &rp->kh[op->out];
		if (h->state != HS_LIVE || h->kind != HK_FILE)
			return;
		struct sfile *s = sfile(rp, h->aux);
		s->live = true;
		s->size = (uint64_t)op->a[0];
		s->n = 0;
		s->nst = 0;
		s->wb_err_seen = 0;
		return;
	}
	struct rhandle *h = &rp->kh[op->h[0]];
	if (h->kind != HK_FILE || h->aux >= or->nfiles || !or->files[h->aux].live)
		return;
	uint32_t id = h->aux;
	struct sfile *s = &or->files[id];
	uint64_t off = (op->flags & RA_OPF_HAS_OFF) ? (uint64_t)op->a[0] : 0;
	switch (op->code) {
	case RA_OP_FUNLINK:
		if (outcome == OUT_OK)
			s->live = false;   /* the bytes (and the stale pages) stay what mappings of it see */
		return;
	case RA_OP_FTRUNCATE:
		if (outcome == OUT_OK) {
			if ((uint64_t)op->a[0] < s->size)
				own_truncated(rp, id, (uint64_t)op->a[0]);
			sf_cut(rp, s, (uint64_t)op->a[0], UINT64_MAX);
			st_forget(s, (uint64_t)op->a[0], UINT64_MAX);
			s->size = (uint64_t)op->a[0];
			sf_check_tail(rp, op, op->h[0], id);
		}
		return;
	case RA_OP_FWRITE: {
		/* the engine's state before the write is what `s` says */
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : off < s->size ? s->size - off : 0;
		len = RA_MIN(len, (uint64_t)RA_MAX_RW_COUNT);
		int byte = (op->flags & RA_OPF_HAS_BYTE) ? (int)op->a[2] : 0x46;
		if (outcome == OUT_OK) {
			sf_put(rp, s, off, off + len, byte);
			if (len && off + len > s->size)
				s->size = off + len;
			return;
		}
		/* a prefix was written, page by page: unknown bytes, and the
		 * size somewhere between what it was and the write's end */
		sf_put(rp, s, off, off + len, -1);
		struct ra_file *f = ra_file_get(rp->m, id);
		if (f && f->size >= s->size && f->size <= RA_MAX(s->size, off + len))
			s->size = f->size;
		return;
	}
	case RA_OP_FREAD: {
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : off < s->size ? s->size - off : 0;
		len = RA_MIN(len, (uint64_t)RA_MAX_RW_COUNT);
		sf_check(rp, op, op->h[0], id, off, off + len);
		return;
	}
	case RA_OP_PEEK:
		if (op->a[0] >= 0)
			sf_check(rp, op, op->h[0], id, (uint64_t)op->a[0], (uint64_t)op->a[0] + (uint64_t)op->a[1]);
		return;
	default:
		return;
	}
}

/* === File mappings ===================================================== */

static struct sown *own_of(struct replay *rp, uint32_t as, uint64_t addr, bool create)
{
	struct oracle *or = rp->oracle;
	for (uint32_t i = 0; i < or->nown; i++)
		if (or->own[i].as == as && or->own[i].addr == addr)
			return &or->own[i];
	if (!create)
		return NULL;
	if (or->nown == or->capown) {
		or->capown = or->capown ? or->capown * 2 : 8;
		or->own = realloc(or->own, or->capown * sizeof(*or->own));
		RA_BUG_ON(rp->m, !or->own);
	}
	struct sown *w = &or->own[or->nown++];
	memset(w, 0, sizeof(*w));
	w->as = as;
	w->addr = addr;
	return w;
}

static void own_forget(struct sown *w)
{
	w->pages.n = 0;
	w->bytes.n = 0;
}

/* A truncation of file id to size unmaps the private mappings' copies of
 * the pages it cuts (unmap_mapping_range with even_cows): they are no
 * longer the mappings' own. */
static void own_truncated(struct replay *rp, uint32_t id, uint64_t size)
{
	struct oracle *or = rp->oracle;
	uint64_t keep = PAGE_ALIGN(size);
	for (uint32_t i = 0; i < or->n; i++) {
		struct sobj *o = &or->v[i];
		struct sown *w;
		if (o->file != id + 1 || o->shared || !(w = own_of(rp, o->as, o->addr, false)))
			continue;
		uint64_t from = keep > o->foff ? keep - o->foff : 0;
		sf_cut(rp, &w->pages, from, UINT64_MAX);
		sf_cut(rp, &w->bytes, from, UINT64_MAX);
	}
}

/* The page at mapping offset off (page aligned) of private mapping o has
 * just become its own copy: it holds what the file held there (the
 * shadow; unknown past i_size). */
static void own_snapshot(struct replay *rp, const struct sobj *o, struct sown *w, uint64_t off)
{
	struct sfile *s = &rp->oracle->files[o->file - 1];
	uint64_t f0 = o->foff + off, f1 = f0 + RA_PAGE_SIZE;
	sf_put(rp, &w->pages, off, off + RA_PAGE_SIZE, 1);
	sf_put(rp, &w->bytes, off, off + RA_PAGE_SIZE, 0);
	for (uint32_t i = 0; i < s->n; i++) {
		uint64_t a = RA_MAX(s->x[i].start, f0), b = RA_MIN(RA_MIN(s->x[i].end, f1), s->size);
		if (a < b)
			sf_put(rp, &w->bytes, a - o->foff, b - o->foff, s->x[i].byte);
	}
	if (s->size < f1)
		sf_put(rp, &w->bytes, RA_MAX(s->size, f0) - o->foff, off + RA_PAGE_SIZE, -1);
}

/* After an operation that may have copied pages of private file mapping o
 * in [off, off + len) (a write, a populate): each page that holds an
 * anonymous page the oracle did not know as the mapping's own is a new
 * copy of the file's bytes. */
static void own_scan(struct replay *rp, const struct sobj *o, uint64_t off, uint64_t len)
{
	struct ra_task *t = task_of(rp, o->as);
	if (o->shared || !o->file || o->file - 1 >= rp->oracle->nfiles || !ra_task_alive(t))
		return;
	struct sown *w = own_of(rp, o->as, o->addr, true);
	len = RA_MIN(len, o->size > off ? o->size - off : 0);
	for (uint64_t pg = off & ~(uint64_t)(RA_PAGE_SIZE - 1); pg < off + len; pg += RA_PAGE_SIZE) {
		uint32_t pfn = ra_user_pfn(t, o->addr + pg), hint = 0;
		if (pfn != RA_NOPFN && pfn_page(rp->m, pfn)->owner == PO_USER && sf_byte(&w->pages, pg, &hint) != 1)
			own_snapshot(rp, o, w, pg);
	}
}

/* map_check's part for a private mapping's page at pfn (offset pos, n
 * bytes inside the page): true when it was the mapping's own copy and
 * differed from what it holds (reported). A page-cache page there means
 * the copy went (truncation unmaps copies too): no longer the mapping's. */
static bool own_check(struct replay *rp, const struct ra_op *op, const struct sobj *o, uint64_t pos, uint64_t n,
                      uint32_t pfn)
{
	struct sown *w = own_of(rp, o->as, o->addr, false);
	uint64_t pg = pos & ~(uint64_t)(RA_PAGE_SIZE - 1);
	uint32_t hint = 0;
	if (!w || sf_byte(&w->pages, pg, &hint) != 1)
		return false;
	if (pfn_page(rp->m, pfn)->owner != PO_USER) {
		sf_cut(rp, &w->pages, pg, pg + RA_PAGE_SIZE);
		sf_cut(rp, &w->bytes, pg, pg + RA_PAGE_SIZE);
		return false;
	}
	const uint8_t *h = rp->m->ram + ((size_t)pfn << RA_PAGE_SHIFT) + (pos - pg);
	hint = 0;
	for (uint64_t k = 0; k < n; k++) {
		int want = sf_byte(&w->bytes, pos + k, &hint);
		if (want >= 0 && h[k] != (uint8_t)want) {
			fail(rp, op, "private mapping '%s' reads 0x%02x at 0x%" PRIx64 ", its own copy held 0x%02x",
			     rp->t->names[o->name], h[k], o->addr + pos + k, want);
			return true;
		}
	}
	return false;
}

/* Compare the present pages of file mapping o in [off, off + len) with
 * its file's shadow, inside i_size; a private mapping's own copies (see
 * own_scan) are compared with what the oracle knows they hold. No fault
 * is taken: what is not mapped is not looked at. */
static void map_check(struct replay *rp, const struct ra_op *op, const struct sobj *o, uint64_t off, uint64_t len)
{
	struct oracle *or = rp->oracle;
	struct ra_task *t = task_of(rp, o->as);
	if (or->taint_kernel || o->file - 1 >= or->nfiles || !ra_task_alive(t))
		return;
	struct sfile *s = &or->files[o->file - 1];
	struct ra_file *f = filemap_file(rp->m, o->file - 1);
	if (!f || f->size != s->size)
		return;     /* a size the shadow does not know (a failed write): sf_check reports it */
	len = RA_MIN(len, o->size > off ? o->size - off : 0);
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t va = o->addr + pos, in = va & (RA_PAGE_SIZE - 1);
		uint64_t n = RA_MIN(RA_PAGE_SIZE - in, off + len - pos);
		uint32_t pfn = ra_user_pfn(t, va);
		uint64_t fpos = o->foff + pos;
		if (pfn != RA_NOPFN && !o->shared && own_check(rp, op, o, pos, n, pfn))
			return;
		if (pfn != RA_NOPFN && pfn_page(rp->m, pfn)->owner == PO_FILE && fpos < s->size) {
			const uint8_t *h = rp->m->ram + ((size_t)pfn << RA_PAGE_SHIFT) + in;
			uint32_t hint = 0;
			for (uint64_t k = 0; k < n && fpos + k < s->size; k++) {
				int want = sf_byte(s, fpos + k, &hint);
				if (want >= 0 && h[k] != (uint8_t)want) {
					fail(rp, op, "mapping '%s' of file offset %" PRIu64 " reads 0x%02x at 0x%" PRIx64 ", the file "
					     "holds 0x%02x there", rp->t->names[o->name], fpos + k, h[k], va + k, want);
					return;
				}
			}
		}
		pos += n;
	}
}

/* A poke through a shared file mapping wrote the file. */
static void map_poked(struct replay *rp, const struct sobj *o, uint64_t off, uint64_t len, int byte)
{
	struct oracle *or = rp->oracle;
	if (!o->shared || o->file - 1 >= or->nfiles)
		return;
	struct sfile *s = &or->files[o->file - 1];
	uint64_t a = o->foff + off, b = a + RA_MIN(len, o->size > off ? o->size - off : 0);
	sf_put(rp, s, a, RA_MIN(b, s->size), byte);
	if (b > s->size)
		sf_put(rp, s, RA_MAX(a, s->size), b, -1);
}

/* === Anonymous mappings' bytes ============================================ */

static bool anon_map(const struct sobj *o) { return o->kind == HK_UMMAP && !o->file; }

/* Misuse or a stray kernel write changed bytes of anonymous mapping o:
 * what it holds is no longer known. */
static void anon_unknown(struct replay *rp, const struct sobj *o)
{
	struct sown *w = own_of(rp, o->as, o->addr, true);
	sf_put(rp, &w->bytes, 0, o->size, -1);
}

/* Compare [off, off + len) of anonymous mapping o (at most 64 KiB of it)
 * with its shadow, resident or swapped, without a fault: a byte the
 * shadow knows reads as it says, or as zero inside a lazily freed range. */
static void anon_check(struct replay *rp, const struct ra_op *op, const struct sobj *o, uint64_t off, uint64_t len)
{
	struct ra_task *t = task_of(rp, o->as);
	struct sown *w = own_of(rp, o->as, o->addr, false);
	if (!w || !ra_task_alive(t) || off >= o->size)
		return;
	len = RA_MIN(RA_MIN(len, o->size - off), (uint64_t)65536);
	uint8_t *buf = malloc(len ? len : 1);
	RA_BUG_ON(rp->m, !buf);
	if (!mm_peek_user(rp->m, t, o->addr + off, len, buf)) {
		uint32_t hb = 0, hl = 0;
		for (uint64_t k = 0; k < len; k++) {
			int want = sf_byte(&w->bytes, off + k, &hb);
			if (want < 0 || buf[k] == (uint8_t)want || (!buf[k] && sf_byte(&w->pages, off + k, &hl) == 1))
				continue;
			fail(rp, op, "anonymous mapping '%s' reads 0x%02x at 0x%" PRIx64 ", 0x%02x was written there%s",
			     rp->t->names[o->name], buf[k], o->addr + off + k, want,
			     sf_byte(&w->pages, off + k, &hl) == 1 ? " (or zero: lazily freed)" : "");
			break;
		}
	}
	free(buf);
}

/* madvise of [a, b) of anonymous mapping o: dontneed zaps (zeros); free,
 * or a dontneed that failed (a part of the range may be done), leaves
 * each byte as it was or zero. */
static void anon_madvised(struct replay *rp, const struct sobj *o, uint64_t a, uint64_t b, int advice, bool ok)
{
	struct sown *w = own_of(rp, o->as, o->addr, false);
	if (!w || a >= b)
		return;
	if (advice == RA_MADV_DONTNEED && ok) {
		sf_cut(rp, &w->bytes, a, b);
		sf_cut(rp, &w->pages, a, b);
	} else if (advice == RA_MADV_DONTNEED || advice == RA_MADV_FREE) {
		sf_put(rp, &w->pages, a, b, 1);
	}
}

/* === Hooks =============================================================== */

void or_init(struct replay *rp)
{
	rp->oracle = calloc(1, sizeof(struct oracle));
	RA_BUG_ON(rp->m, !rp->oracle);
}

void or_fini(struct replay *rp)
{
	if (!rp->oracle)
		return;
	for (uint32_t i = 0; i < rp->oracle->nfiles; i++) {
		free(rp->oracle->files[i].x);
		free(rp->oracle->files[i].st);
	}
	for (uint32_t i = 0; i < rp->oracle->nown; i++) {
		free(rp->oracle->own[i].pages.x);
		free(rp->oracle->own[i].bytes.x);
	}
	free(rp->oracle->own);
	free(rp->oracle->files);
	free(rp->oracle->v);
	free(rp->oracle);
	rp->oracle = NULL;
}

static uint32_t cur_as(struct replay *rp, struct ra_task **tp)
{
	struct ra_mm_world *w = ra_mm_world(rp->m);
	struct ra_task *t = w ? w->cur : NULL;
	if (tp)
		*tp = t;
	return ra_task_alive(t) ? t->pid : UINT32_MAX;
}

static struct rhandle *uh(struct replay *rp, struct ra_task *t, uint32_t name)
{
	return &rp_user_table(rp, t)[name];
}

void or_before(struct replay *rp, const struct ra_op *op)
{
	struct oracle *or = rp->oracle;
	or->expect = 0;
	or->old_valid = false;
	struct ra_task *t;
	uint32_t as;
	struct rhandle *h;
	switch (op->code) {
	case RA_OP_FWRITE:
		/* the bytes it writes no longer read as a failed page's old ones
		 * (those the write's own reclaim fails to write back are learnt
		 * after it) */
		h = &rp->kh[op->h[0]];
		if (h->state == HS_LIVE && h->kind == HK_FILE && h->aux < or->nfiles && or->files[h->aux].live) {
			struct sfile *s = &or->files[h->aux];
			uint64_t off = (op->flags & RA_OPF_HAS_OFF) ? (uint64_t)op->a[0] : 0;
			uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : off < s->size ? s->size - off : 0;
			st_forget(s, off, off + RA_MIN(len, (uint64_t)RA_MAX_RW_COUNT));
		}
		return;
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_IOUNMAP: case RA_OP_CACHE_FREE: {
		static const int kind[] = { [RA_OP_FREE_PAGES] = HK_PAGES, [RA_OP_KFREE] = HK_KMALLOC,
		                            [RA_OP_VFREE] = HK_VMALLOC, [RA_OP_IOUNMAP] = HK_IOREMAP,
		                            [RA_OP_CACHE_FREE] = HK_CACHE_OBJ };
		int which = op->code == RA_OP_CACHE_FREE;
		h = &rp->kh[op->h[which]];
		if (op->code == RA_OP_CACHE_FREE && rp->kh[op->h[0]].state != HS_LIVE)
			return;     /* a destroyed or NULL cache: the op fails without a free */
		expect_free(rp, op, 0, h, kind[op->code]);
		return;
	}
	case RA_OP_KREALLOC:
		h = &rp->kh[op->h[0]];
		or->old_addr = h->state == HS_LIVE ? h->val : 0;
		if (h->state == HS_LIVE && h->val != RA_ZERO_SIZE_PTR) {
			struct sobj *o = find(or, 0, h->val);
			if (o && !o->tainted && (o->kind == HK_KMALLOC || o->kind == HK_CACHE_OBJ)) {
				or->old_size = RA_MIN(o->size, (uint64_t)SAMPLE);
				or->old_valid = !mem_io(rp, 0, o->addr, or->old_head, (size_t)or->old_size, false);
				or->old_as = 0;
			}
		}
		return;
	case RA_OP_FREE: case RA_OP_REALLOC: case RA_OP_MUNMAP:
		as = cur_as(rp, &t);
		if (as == UINT32_MAX)
			return;
		h = uh(rp, t, op->h[0]);
		if (h->state == HS_UNBOUND)
			return;
		if (op->code != RA_OP_MUNMAP && !ra_task_umthread(t, ra_mm_world(rp->m)->cur_tid))
			return;     /* no thread to run malloc on: the op fails, nothing is freed */
		if (op->code == RA_OP_REALLOC) {
			/* a freed name whose address is live again (another name's
			 * block) reallocs that block: malloc cannot tell them apart */
			struct sobj *o = h->state == HS_LIVE || h->state == HS_FREED ? find(or, as, h->val) : NULL;
			if (o && !o->tainted) {
				or->old_size = RA_MIN(o->size, (uint64_t)SAMPLE);
				or->old_valid = !mem_io(rp, as, o->addr, or->old_head, (size_t)or->old_size, false);
				or->old_as = as;
			}
			if (!o) {
				if (h->state == HS_FREED) {
					or->expect = 2;
					snprintf(or->why, sizeof(or->why), "realloc of freed '%s'", rp->t->names[op->h[0]]);
				}
				return;
			}
			if (o->tainted)
				return;
			int64_t bad = verify(rp, o);
			if (bad >= 0)
				fail(rp, op, "contents of live '%s' changed at offset %" PRId64 " before realloc",
				     rp->t->names[o->name], bad);
			return;
		}
		expect_free(rp, op, as, h, op->code == RA_OP_FREE ? HK_UCHUNK : HK_UMMAP);
		if (op->code == RA_OP_MUNMAP && rp->oracle->expect == 2) {
			/* munmap of a stale range is legal, and unmaps whatever lives
			 * there now: those objects are gone from under their handles */
			rp->oracle->expect = 0;
			uint32_t k = 0;
			for (uint32_t i = 0; i < or->n; i++)
				if (!(or->v[i].as == as && or->v[i].addr < h->val + h->size && h->val < or->v[i].addr + or->v[i].size))
					or->v[k++] = or->v[i];
			or->n = k;
			rp->m->inband_tainted = true;
		}
		return;
	case RA_OP_POKE: {
		h = &rp->kh[op->h[0]];
		as = 0;
		if (h->state == HS_UNBOUND) {
			/* a user handle of the current task (replay.c) */
			h = rp_user_handle(rp, op->h[0], &t);
			if (!h || (as = cur_as(rp, NULL)) == UINT32_MAX)
				return;
		}
		if (h->state == HS_NULL || h->state == HS_UNBOUND)
			return;
		uint64_t a = h->val + (uint64_t)op->a[0];
		struct sobj *o = find(or, as, h->val);
		bool inside = o && h->state == HS_LIVE && op->a[0] >= 0 && (uint64_t)op->a[0] + (uint64_t)op->a[1] <= o->size;
		if (inside)
			o->tainted = 1;           /* its own contents, changed on purpose */
		else
			taint_range(rp, as, a, (uint64_t)op->a[1]);
		return;
	}
	default:
		return;
	}
}

/* Drop the objects of address spaces whose task is gone. */
static void reap_dead(struct replay *rp)
{
	struct oracle *or = rp->oracle;
	uint32_t k = 0;
	uint32_t last_as = 0;
	bool last_alive = true;
	for (uint32_t i = 0; i < or->n; i++) {
		struct sobj *o = &or->v[i];
		if (o->as && o->as != last_as) {
			last_as = o->as;
			last_alive = ra_task_alive(task_of(rp, o->as));
		}
		if (o->as && !last_alive)
			continue;
		or->v[k++] = *o;
	}
	or->n = k;
}

void or_after(struct replay *rp, const struct ra_op *op, int outcome, unsigned long new_reports)
{
	struct oracle *or = rp->oracle;
	struct ra_task *t;
	uint32_t as;
	struct rhandle *h;
	/* In-band slab metadata (free pointers, red zones, poison, padding) is
	 * only ever damaged by a trace's write outside its live objects, which
	 * the replay records as inband_tainted. A slab report of that kind
	 * before any such write means the engine damaged its own metadata (a
	 * free pointer past the slab, say), which it would otherwise repair
	 * quietly as if it were the trace's misuse. */
	if (new_reports && !rp->m->inband_tainted) {
		int cls = rp->m->last_report_class;
		if (cls == RC_FREEPTR || cls == RC_REDZONE || cls == RC_POISON || cls == RC_PADDING)
			fail(rp, op, "%s reported although the trace wrote nothing outside its live objects",
			     ra_report_class_name(cls));
	}
	/* the engine's verdict on a free the oracle had an opinion about */
	if (or->expect == 2 && !new_reports && outcome == OUT_OK && !rp->m->inband_tainted)
		fail(rp, op, "undetected misuse: %s succeeded silently", or->why);
	/* a free of a live block may fail only by the task's death inside it
	 * (a fault that could not be served kills it, see mm.c's um_xlate) */
	bool died = (op->code == RA_OP_FREE || op->code == RA_OP_MUNMAP) && cur_as(rp, NULL) == UINT32_MAX;
	if (or->expect == 1 && outcome != OUT_OK && !or->taint_kernel && !ra_panicked(rp->m) && !died)
		fail(rp, op, "%s failed%s", or->why, new_reports ? " with a report" : "");
	or->expect = 0;
	/* writeback errors of this op (any op may reclaim, any sleep flush):
	 * learnt before the op's own file checks */
	if (rp->m->fm && rp->m->fail[FAIL_WRITEBACK].injected != or->wb_injected) {
		or->wb_injected = rp->m->fail[FAIL_WRITEBACK].injected;
		for (uint32_t i = 0; i < or->nfiles; i++)
			if (or->files[i].live)
				st_learn(rp, i, &or->files[i]);
	}
	switch (op->code) {
	case RA_OP_FILE: case RA_OP_FREAD: case RA_OP_FWRITE: case RA_OP_FTRUNCATE: case RA_OP_FUNLINK:
		files_after(rp, op, outcome);
		break;
	case RA_OP_PEEK:
		if (op->h[0] < rp->t->nnames && rp->kh[op->h[0]].kind == HK_FILE && rp->kh[op->h[0]].state == HS_LIVE)
			files_after(rp, op, outcome);
		else if (rp->kh[op->h[0]].state == HS_UNBOUND && op->a[0] >= 0 && (as = cur_as(rp, &t)) != UINT32_MAX &&
		         (h = rp_user_handle(rp, op->h[0], &t)) && h->state == HS_LIVE) {
			struct sobj *o = find(or, as, h->val);
			if (o && o->file)
				map_check(rp, op, o, (uint64_t)op->a[0], (uint64_t)op->a[1]);
			else if (o && anon_map(o))
				anon_check(rp, op, o, (uint64_t)op->a[0], (uint64_t)op->a[1]);
		}
		break;
	case RA_OP_ALLOC_PAGES: case RA_OP_KMALLOC: case RA_OP_KZALLOC: case RA_OP_KREALLOC: case RA_OP_CACHE_ALLOC:
	case RA_OP_VMALLOC: case RA_OP_VZALLOC: case RA_OP_IOREMAP: {
		struct sobj kept = { .kind = HK_NONE };
		if (op->code == RA_OP_KREALLOC && outcome == OUT_OK) {
			/* the old object is consumed; in place, it is re-registered
			 * under the new name below, and stays what it was: an object
			 * of a kmem cache (krealloc works on any slab object, by
			 * ksize()) remains one, for kmem_cache_free() */
			struct rhandle *oh = &rp->kh[op->h[0]];
			struct sobj *o = oh->val ? find(or, 0, oh->val) : NULL;
			if (o) {
				if (o->addr == rp->kh[op->out != RA_NONAME ? op->out : op->h[0]].val)
					kept = *o;
				del(or, o);
			}
		}
		if (outcome != OUT_OK || op->out == RA_NONAME)
			break;
		h = &rp->kh[op->out];
		if (h->state != HS_LIVE)
			break;
		/* krealloc copies the old contents in: its zeroing covers only the rest */
		add(rp, op, 0, h, op->out, op->code == RA_OP_KZALLOC || op->code == RA_OP_VZALLOC ||
		    (op->code != RA_OP_KREALLOC && (op->gfp & RA___GFP_ZERO)));
		if (kept.kind == HK_CACHE_OBJ) {
			struct sobj *n = find(or, 0, h->val);
			if (n) {
				n->kind = HK_CACHE_OBJ;
				n->cache = kept.cache;
				n->rcache = kept.rcache;
			}
		}
		break;
	}
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_IOUNMAP: case RA_OP_CACHE_FREE:
		if (outcome == OUT_OK) {
			h = &rp->kh[op->h[op->code == RA_OP_CACHE_FREE]];
			struct sobj *o = h->val ? find_freed(or, op->code, h->val) : NULL;
			if (o)
				del(or, o);
		}
		break;
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_MEMALIGN: case RA_OP_REALLOC: case RA_OP_MMAP:
		as = cur_as(rp, &t);
		if (as == UINT32_MAX)
			break;
		if (op->code == RA_OP_REALLOC && outcome == OUT_OK) {
			struct rhandle *oh = uh(rp, t, op->h[0]);
			struct sobj *o = oh->val ? find(or, as, oh->val) : NULL;
			if (o)
				del(or, o);
		}
		if (outcome != OUT_OK || op->out == RA_NONAME)
			break;
		h = uh(rp, t, op->out);
		if (h->state != HS_LIVE)
			break;
		add(rp, op, as, h, op->out, op->code == RA_OP_CALLOC);
		if (op->code == RA_OP_MMAP && !(op->flags & RA_OPF_FILEMAP)) {
			/* anonymous memory: zeros, as the shadow's holes */
			struct sobj *o = find(or, as, h->val);
			if (o)
				own_forget(own_of(rp, as, o->addr, true));
		}
		if (op->code == RA_OP_MMAP && (op->flags & RA_OPF_FILEMAP)) {
			struct sobj *o = find(or, as, h->val);
			if (o) {
				o->file = rp->kh[op->h[0]].aux + 1;
				o->foff = (uint64_t)op->a[2];
				o->shared = (op->flags & RA_OPF_SHARED) != 0;
				struct sown *w = own_of(rp, as, o->addr, false);
				if (w)
					own_forget(w);   /* an earlier mapping's at this address */
				own_scan(rp, o, 0, o->size);   /* populate copies a writable one */
			}
		}
		break;
	case RA_OP_POKE: case RA_OP_TOUCH: case RA_OP_READ:
		/* a user file mapping: a shared one's poke writes the file; the
		 * bytes an access reached read as the file's */
		if (op->code == RA_OP_POKE && rp->kh[op->h[0]].state != HS_UNBOUND)
			break;
		as = cur_as(rp, &t);
		if (as == UINT32_MAX || !(h = rp_user_handle(rp, op->h[0], &t)) || h->state != HS_LIVE)
			break;
		{
			struct sobj *o = find(or, as, h->val);
			if (o && anon_map(o)) {
				int64_t o0 = op->code == RA_OP_POKE ? op->a[0] : (op->flags & RA_OPF_HAS_OFF) ? op->a[0] : 0;
				if (o0 < 0 || (uint64_t)o0 >= o->size)
					break;
				uint64_t off = (uint64_t)o0, len = o->size - off;
				if (op->code == RA_OP_POKE)
					len = RA_MIN(len, (uint64_t)op->a[1]);
				else if (op->flags & RA_OPF_HAS_LEN)
					len = RA_MIN(len, (uint64_t)op->a[1]);
				struct sown *w = own_of(rp, as, o->addr, false);
				if (op->code == RA_OP_POKE && w) {
					/* written again: no longer lazily freed */
					sf_put(rp, &w->bytes, off, off + len,
					       outcome == OUT_OK ? (op->flags & RA_OPF_HAS_BYTE ? (int)op->a[2] : 0x41) : -1);
					sf_cut(rp, &w->pages, off, off + len);
				}
				anon_check(rp, op, o, off, len);
				break;
			}
			if (!o || !o->file)
				break;
			uint64_t off, len;
			if (op->code == RA_OP_POKE) {
				if (op->a[0] < 0)
					break;
				off = (uint64_t)op->a[0];
				len = (uint64_t)op->a[1];
				int byte = outcome == OUT_OK ? (op->flags & RA_OPF_HAS_BYTE ? (int)op->a[2] : 0x41) : -1;
				map_poked(rp, o, off, len, byte);
				if (!o->shared) {
					own_scan(rp, o, off, len);
					struct sown *w = own_of(rp, as, o->addr, false);
					if (w)     /* the copies made for the poke hold its bytes */
						sf_put(rp, &w->bytes, off, off + RA_MIN(len, o->size > off ? o->size - off : 0), byte);
				}
			} else {
				int64_t o0 = (op->flags & RA_OPF_HAS_OFF) ? op->a[0] : 0;
				if (o0 < 0)
					break;
				off = (uint64_t)o0;
				len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : o->size > off ? o->size - off : 0;
				if (op->code == RA_OP_TOUCH)
					own_scan(rp, o, off, RA_MIN(len, (uint64_t)1 << 30));
			}
			map_check(rp, op, o, off, RA_MIN(len, (uint64_t)1 << 30));
		}
		break;
	case RA_OP_MADVISE:
		/* dontneed zaps anonymous memory (zeros) and drops a private
		 * file mapping's copies; free lets anonymous bytes go lazily
		 * (each old or zero); the rest change no byte */
		as = cur_as(rp, &t);
		if (as == UINT32_MAX || !(h = rp_user_handle(rp, op->h[0], &t)) || h->state != HS_LIVE)
			break;
		{
			struct sobj *o = find(or, as, h->val);
			uint64_t a = (op->flags & RA_OPF_HAS_OFF) ? (uint64_t)op->a[1] : 0;
			if (!o || a >= o->size)
				break;
			uint64_t b = (op->flags & RA_OPF_HAS_LEN) ? RA_MIN(o->size, a + PAGE_ALIGN((uint64_t)op->a[2])) : o->size;
			if (anon_map(o)) {
				anon_madvised(rp, o, a, b, (int)op->a[0], outcome == OUT_OK);
				anon_check(rp, op, o, a, b - a);
				break;
			}
			if (!o->file)
				break;
			struct sown *w = o->shared ? NULL : own_of(rp, as, o->addr, false);
			if (w && op->a[0] == RA_MADV_DONTNEED) {
				sf_cut(rp, &w->pages, a & ~(uint64_t)(RA_PAGE_SIZE - 1), PAGE_ALIGN(b));
				sf_cut(rp, &w->bytes, a & ~(uint64_t)(RA_PAGE_SIZE - 1), PAGE_ALIGN(b));
			}
			map_check(rp, op, o, a, b - a);
		}
		break;
	case RA_OP_FREE: case RA_OP_MUNMAP:
		as = cur_as(rp, &t);
		if (as == UINT32_MAX || outcome != OUT_OK)
			break;
		h = uh(rp, t, op->h[0]);
		{
			struct sobj *o = h->val ? find(or, as, h->val) : NULL;
			if (o)
				del(or, o);
		}
		break;
	case RA_OP_FORK:
		if (outcome == OUT_OK && op->out != RA_NONAME) {
			struct ra_task *c = rp->kh[op->out].ptr;
			as = cur_as(rp, NULL);
			uint32_t n = or->n;
			for (uint32_t i = 0; i < n; i++)
				if (or->v[i].as == as) {
					struct sobj copy = or->v[i];
					copy.as = c->pid;
					if (or->n == or->cap) {
						or->cap *= 2;
						or->v = realloc(or->v, or->cap * sizeof(*or->v));
						RA_BUG_ON(rp->m, !or->v);
					}
					or->v[or->n++] = copy;
				}
			/* keep the order: (as, addr) */
			for (uint32_t i = n; i < or->n; i++) {
				struct sobj x = or->v[i];
				uint32_t j = lower(or, x.as, x.addr);
				if (j < i) {
					memmove(&or->v[j + 1], &or->v[j], (i - j) * sizeof(x));
					or->v[j] = x;
				}
			}
			/* the child's copies of private mappings' own pages are the
			 * same copies, COW-shared */
			uint32_t nown = or->nown;
			for (uint32_t i = 0; i < nown; i++) {
				if (or->own[i].as != as)
					continue;
				uint64_t addr = or->own[i].addr;
				struct sown *w = own_of(rp, c->pid, addr, true), *pw = &or->own[i];
				own_forget(w);
				for (uint32_t k = 0; k < pw->pages.n; k++)
					sf_put(rp, &w->pages, pw->pages.x[k].start, pw->pages.x[k].end, pw->pages.x[k].byte);
				for (uint32_t k = 0; k < pw->bytes.n; k++)
					sf_put(rp, &w->bytes, pw->bytes.x[k].start, pw->bytes.x[k].end, pw->bytes.x[k].byte);
			}
		}
		break;
	case RA_OP_MLOCKALL:
		/* mlockall(MCL_CURRENT) populates: writable private file
		 * mappings are copied */
		as = cur_as(rp, &t);
		for (uint32_t i = 0; as != UINT32_MAX && i < or->n; i++)
			if (or->v[i].as == as && or->v[i].file)
				own_scan(rp, &or->v[i], 0, or->v[i].size);
		break;
	default:
		break;
	}
	reap_dead(rp);
}

/* Every slab cache holds exactly the objects the shadow says are live. */
void or_end(struct replay *rp)
{
	struct oracle *or = rp->oracle;
	if (or->taint_kernel)
		return;
	/* nothing is lost: every live file reads back what the trace left */
	for (uint32_t i = 0; i < rp->t->nnames; i++) {
		struct rhandle *h = &rp->kh[i];
		if (h->kind == HK_FILE && h->state == HS_LIVE && h->aux < or->nfiles && or->files[h->aux].live) {
			struct ra_op end = { .line = 0 };
			sf_check(rp, &end, i, h->aux, 0, or->files[h->aux].size);
		}
	}
	/* every file mapping of a live task reads as its file where mapped */
	for (uint32_t i = 0; i < or->n; i++)
		if (or->v[i].file) {
			struct ra_op end = { .line = 0 };
			map_check(rp, &end, &or->v[i], 0, or->v[i].size);
		}
	ra_machine *m = rp->m;
	/* nothing is lost: every live user object still holds its pattern,
	 * wherever reclaim left its pages (RAM, the swap cache, a swap slot,
	 * zram); read as they are, without faulting them in */
	for (uint32_t i = 0; i < or->n; i++) {
		struct sobj *o = &or->v[i];
		struct ra_task *t = o->as ? task_of(rp, o->as) : NULL;
		if (!o->as || o->tainted || !ra_task_alive(t))
			continue;
		uint8_t buf[SAMPLE];
		for (int part = 0; part < 2; part++) {
			uint64_t n = RA_MIN(o->size, (uint64_t)SAMPLE), off = part ? o->size - n : 0;
			if (mm_peek_user(m, t, o->addr + off, n, buf))
				break;
			for (uint64_t k = 0; k < n; k++)
				if (buf[k] != pattern(o->name, off + k)) {
					struct ra_op end = { .line = 0 };
					fail(rp, &end, "%s %s of task %u: byte %" PRIu64 " is %#x, not %#x, at the end",
					     ra_hkind_names[o->kind], rp->t->names[o->name], o->as, off + k, buf[k],
					     pattern(o->name, off + k));
					part = 2;
					break;
				}
		}
	}
	uint64_t *want = calloc(m->nr_caches + 1, sizeof(uint64_t));
	RA_BUG_ON(m, !want);
	for (uint32_t i = 0; i < or->n; i++) {
		struct sobj *o = &or->v[i];
		if (o->as || (o->kind != HK_KMALLOC && o->kind != HK_CACHE_OBJ))
			continue;
		if (!kaddr_valid(m, o->addr))
			continue;
		uint32_t head = ra_block_head(m, kaddr_pfn(o->addr));
		if (head == RA_NOPFN || pfn_page(m, head)->owner != PO_SLAB)
			continue;    /* a large kmalloc */
		want[slab_of(m, pfn_page(m, head)->priv)->cache]++;
	}
	/* The engine's own objects (task, mm and VMA structures, vmalloc page
	 * arrays) are marked in their slab's `internal` map: they are not the
	 * trace's. Counted per slab, not per cache, because a trace's cache may
	 * be merged with one the engine uses (vm_area_struct and a trace's
	 * 192-byte cache of the same SLAB_MERGE_SAME flags share slabs). */
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		struct ra_slab *sl = slab_of(m, id);
		if (!sl->live)
			continue;
		uint64_t live = 0;
		for (unsigned w = 0; w < (sl->objects + 63u) / 64u; w++)
			live += (uint64_t)__builtin_popcountll(sl->live[w] & (sl->internal ? ~sl->internal[w] : ~0ULL));
		want[sl->cache] -= live;
	}
	for (uint32_t c = 0; c < m->nr_caches; c++) {
		if (!want[c] || !m->caches[c])
			continue;
		int64_t d = (int64_t)want[c];
		struct ra_op end = { .line = 0 };
		fail(rp, &end, "slab cache %s holds %" PRId64 " %s objects than the trace has live", m->caches[c]->name,
		     d < 0 ? -d : d, d < 0 ? "more" : "fewer");
	}
	free(want);
}
