/*
 * esim.c — the engine, stepped one operation at a time so the bench can
 * look at it between operations: per-operation latency, the memory
 * timeline (live requested bytes vs the memory the allocator holds), and
 * the kernel-side picture (buddyinfo, unusable and fragmentation indices,
 * slab internal fragmentation, vmalloc areas, watermark breaches, OOM
 * kills).  It executes the same operations as `refalloc replay` through the
 * public API, mm.h and umalloc (compiled with UM_SIM), and reads the
 * engine's structures through internal.h; it changes nothing there.
 *
 * Why not ra_replay: the replay runs a trace to the end in one call, with
 * no hook between operations (see the report to the lead for the hook that
 * would let this file shrink to the sampling).  The bench therefore also
 * runs ra_replay itself on every trace, for the engine's exit code and its
 * whole-trace time, so both paths are exercised.
 *
 * The user-side "allocator memory" is the simulated RSS of the tasks above
 * what they held when created (the same measure as the real allocators'
 * RSS); for a kernel-only trace it is the machine's used pages above boot.
 *
 * Every block gets an 8-byte cookie at its start and one written byte per
 * page, as the replay driver does for real allocators, so RSS means the
 * same in both worlds; the cookie is checked at free and after realloc.
 * With verify_full the whole block carries a pattern (conformance).
 */
#include "bench.h"
#include "timer.h"
#include "views.h"
#include "oom.h"
#include "mm.h"
#include "umalloc.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum ek { EK_NONE, EK_PAGES, EK_KMALLOC, EK_CACHE, EK_COBJ, EK_VMALLOC, EK_TASK, EK_UCHUNK, EK_UMAP, EK_BALLOON };

struct eh {
	uint8_t  kind, live;
	uint32_t order;          /* pages: order; balloon: id */
	int32_t  acct;           /* slab accounting: real cache id, -1 none */
	uint64_t addr, size;     /* simulated address, requested size */
	uint64_t cookie;
	struct ra_task *task;    /* user objects: owner; EK_TASK: the task */
	ra_cache *cache;         /* EK_CACHE: the cache; EK_COBJ: the cache it came from */
};

struct etask { struct ra_task *t; uint64_t rss0, live; uint8_t dead; };

struct esim {
	const struct ra_trace *t;
	const struct bench_run_opts *o;
	struct bench_result *r;
	ra_machine *m;
	struct eh *h;
	struct etask *tasks;
	uint32_t ntasks;
	int user_mode;
	uint64_t live_kernel, boot_used;
	uint64_t *slab_live, *slab_req;
	uint32_t nslab;
	/* exact Johnstone & Wilson */
	double wf, wl;
	uint64_t peak_live, foot_at_peak_live, peak_foot, live_at_peak_foot;
	/* sampling */
	uint32_t every, cap_s, cap_k;
	uint64_t ngen;           /* cookies */
	uint8_t *buf;
	size_t buflen;
	char *err;
	size_t errlen;
	int failed;              /* a check failed: first message kept */
	struct bt_clock clk;
	uint64_t timed;
};

void bench_run_opts_default(struct bench_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->touch = 1;
	o->time_ops = 1;
}

#define eerr(e, op, ...) bench_op_error((e)->err, (e)->errlen, (e)->t, (op), __VA_ARGS__)

/* A check failed: counted, the first one described (FILE:LINE). */
static void efail(struct esim *e, const struct ra_op *op, uint64_t *counter, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void efail(struct esim *e, const struct ra_op *op, uint64_t *counter, const char *fmt, ...)
{
	(*counter)++;
	if (e->failed++)
		return;
	va_list ap;
	va_start(ap, fmt);
	bench_op_verror(e->r->conform_msg, sizeof(e->r->conform_msg), e->t, op, fmt, ap);
	va_end(ap);
}

static uint8_t *scratch(struct esim *e, size_t n)
{
	if (n > e->buflen) {
		free(e->buf);
		e->buflen = n < 65536 ? 65536 : n;
		e->buf = malloc(e->buflen);
		if (!e->buf) {
			fprintf(stderr, "refalloc bench: out of memory\n");
			exit(70);
		}
	}
	return e->buf;
}

static inline uint8_t pat(uint64_t cookie, uint64_t i) { return (uint8_t)((cookie >> ((i & 7) * 8)) ^ (i >> 3)); }

/* === user blocks: touch, verify ========================================= */

static struct etask *etask_of(struct esim *e, struct ra_task *t)
{
	for (uint32_t i = 0; i < e->ntasks; i++)
		if (e->tasks[i].t == t)
			return &e->tasks[i];
	return NULL;
}

/* Write the block's cookie and one byte per page (or the whole pattern). */
static void touch_block(struct esim *e, struct ra_task *t, struct eh *h, uint64_t from)
{
	uint64_t a = h->addr, n = h->size;
	if (!n || !e->o->touch || !ra_task_alive(t))
		return;
	if (e->o->verify_full) {
		uint8_t *b = scratch(e, n - from);
		for (uint64_t i = from; i < n; i++)
			b[i - from] = pat(h->cookie, i);
		ra_uaccess(e->m, t, a + from, n - from, true, b);
		return;
	}
	if (from < 8) {
		uint64_t c = h->cookie;
		ra_uaccess(e->m, t, a + from, (n < 8 ? n : 8) - from, true, (uint8_t *)&c + from);
	}
	uint8_t one = 0x5a;
	uint64_t off = RA_PAGE_SIZE - (a & (RA_PAGE_SIZE - 1));
	if (off < from)
		off += (from - off + RA_PAGE_SIZE - 1) / RA_PAGE_SIZE * RA_PAGE_SIZE;
	for (; off < n; off += RA_PAGE_SIZE)
		ra_uaccess(e->m, t, a + off, 1, true, &one);
}

/* Are the first n bytes still what touch_block wrote? */
static int verify_block(struct esim *e, struct ra_task *t, uint64_t addr, const struct eh *h, uint64_t n)
{
	if (!n || !e->o->touch || !ra_task_alive(t))
		return 1;
	if (!e->o->verify_full) {
		uint64_t c = 0, want = h->cookie;
		uint64_t k = n < 8 ? n : 8;
		if (ra_uaccess(e->m, t, addr, k, false, &c))
			return 0;
		return memcmp(&c, &want, k) == 0;
	}
	uint8_t *b = scratch(e, n);
	if (ra_uaccess(e->m, t, addr, n, false, b))
		return 0;
	for (uint64_t i = 0; i < n; i++)
		if (b[i] != pat(h->cookie, i))
			return 0;
	return 1;
}

static int zeroed(struct esim *e, struct ra_task *t, uint64_t addr, uint64_t n)
{
	uint8_t *b = scratch(e, n);
	if (ra_uaccess(e->m, t, addr, n, false, b))
		return 0;
	for (uint64_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* === accounting ========================================================= */

static void slab_grow(struct esim *e)
{
	if (e->nslab >= e->m->nr_caches)
		return;
	uint32_t n = e->m->nr_caches + 16;
	e->slab_live = realloc(e->slab_live, n * sizeof(uint64_t));
	e->slab_req = realloc(e->slab_req, n * sizeof(uint64_t));
	if (!e->slab_live || !e->slab_req)
		exit(70);
	memset(e->slab_live + e->nslab, 0, (n - e->nslab) * sizeof(uint64_t));
	memset(e->slab_req + e->nslab, 0, (n - e->nslab) * sizeof(uint64_t));
	e->nslab = n;
}

static int32_t real_cache_id(ra_machine *m, ra_cache *c)
{
	if (!c)
		return -1;
	while (c->merged_into_valid && m->caches[c->merged_into])
		c = m->caches[c->merged_into];
	return (int32_t)c->id;
}

static void slab_account(struct esim *e, struct eh *h, int sign)
{
	if (h->acct < 0)
		return;
	slab_grow(e);
	if (sign > 0) {
		e->slab_live[h->acct]++;
		e->slab_req[h->acct] += h->size;
	} else {
		e->slab_live[h->acct]--;
		e->slab_req[h->acct] -= h->size;
	}
}

static uint64_t used_pages(ra_machine *m)
{
	uint64_t free = 0;
	for (int z = 0; z < RA_NR_REAL_ZONES; z++)
		if (m->populated[z])
			free += m->zones[z].vm_stat[RA_STAT_NR_FREE_PAGES];
	return m->totalram - free;
}

/* A task died (exit or OOM kill): its blocks are no longer live memory. */
static void reap_dead(struct esim *e)
{
	for (uint32_t i = 0; i < e->ntasks; i++)
		if (!e->tasks[i].dead && !ra_task_alive(e->tasks[i].t)) {
			e->tasks[i].dead = 1;
			e->tasks[i].live = 0;
		}
}

static uint64_t live_now(struct esim *e)
{
	if (!e->user_mode)
		return e->live_kernel;
	uint64_t l = 0;
	for (uint32_t i = 0; i < e->ntasks; i++)
		l += e->tasks[i].live;
	return l;
}

static uint64_t foot_now(struct esim *e)
{
	if (!e->user_mode) {
		uint64_t u = used_pages(e->m);
		return u > e->boot_used ? (u - e->boot_used) << RA_PAGE_SHIFT : 0;
	}
	uint64_t f = 0;
	for (uint32_t i = 0; i < e->ntasks; i++) {
		struct ra_task *t = e->tasks[i].t;
		if (ra_task_alive(t) && t->mm && t->mm->rss > e->tasks[i].rss0)
			f += (t->mm->rss - e->tasks[i].rss0) << RA_PAGE_SHIFT;
	}
	return f;
}

/* === kernel-side sample ================================================== */

static void ksample(struct esim *e, struct bench_ksample *k, uint32_t opi)
{
	ra_machine *m = e->m;
	memset(k, 0, sizeof(*k));
	k->op = opi;
	int big = -1;
	uint64_t bigm = 0;
	for (int zi = 0; zi < RA_NR_REAL_ZONES; zi++) {
		if (!m->populated[zi])
			continue;
		struct ra_zone *z = &m->zones[zi];
		for (int o = 0; o < RA_NR_ORDERS; o++)
			k->nr_free[o] += z->area[o].nr_free;
		k->free_pages += z->vm_stat[RA_STAT_NR_FREE_PAGES];
		for (unsigned c = 0; c < m->ncpus; c++)
			k->pcp_pages += z->pcp[c].count;
		k->wmark_fail += z->vm_stat[RA_STAT_WMARK_FAIL];
		if (z->vm_stat[RA_STAT_NR_FREE_PAGES] < z->wmark[1])
			k->zones_below_low++;
		if (z->managed > bigm) {
			bigm = z->managed;
			big = zi;
		}
	}
	/* the kernel's fill_contig_page_info / __fragmentation_index /
	 * unusable_free_index, for the largest zone */
	if (big >= 0) {
		struct ra_zone *z = &m->zones[big];
		for (unsigned order = 0; order < RA_NR_ORDERS; order++) {
			int unusable, extfrag;
			ra_zone_frag_index(z, order, &unusable, &extfrag);
			k->unusable[order] = (int16_t)unusable;
			k->fragidx[order] = (int16_t)extfrag;
		}
	}
	k->used_pages = m->totalram - k->free_pages;
	k->user_pages = ra_stat(m, RA_STAT_NR_ANON_PAGES);
	k->slab_pages = ra_stat(m, RA_STAT_NR_SLAB_RECLAIMABLE) + ra_stat(m, RA_STAT_NR_SLAB_UNRECLAIMABLE);
	k->vmalloc_areas = m->nr_vmareas;
	k->vmalloc_pages = ra_stat(m, RA_STAT_VMALLOC_PAGES);
	k->kswapd_wake = ra_stat(m, RA_STAT_KSWAPD_WAKE);
	k->alloc_fail = ra_stat(m, RA_STAT_ALLOC_FAIL);
	struct ra_mm_world *w = ra_mm_world(m);
	k->oom_kills = w ? w->nr_kills : 0;
	slab_grow(e);
	for (uint32_t i = 0; i < m->nr_caches; i++) {
		struct ra_cache *c = m->caches[i];
		if (!c || !c->alive || c->merged_into_valid)
			continue;
		k->partial_slabs += c->partial.nr;
		k->slab_slot_bytes += e->slab_live[i] * c->size;
		k->slab_req_bytes += e->slab_req[i];
	}
}

static void sample(struct esim *e, uint32_t opi, int force)
{
	struct bench_result *r = e->r;
	if (!force && opi % e->every)
		return;
	if (r->nsamples && r->samples[r->nsamples - 1].op == opi)
		return;
	if (r->nsamples == e->cap_s) {
		e->cap_s = e->cap_s ? e->cap_s * 2 : 1024;
		r->samples = realloc(r->samples, e->cap_s * sizeof(*r->samples));
	}
	if (r->nks == e->cap_k) {
		e->cap_k = e->cap_k ? e->cap_k * 2 : 1024;
		r->ks = realloc(r->ks, e->cap_k * sizeof(*r->ks));
	}
	if (!r->samples || !r->ks)
		exit(70);
	r->samples[r->nsamples++] = (struct bench_sample){ .op = opi, .live = live_now(e), .foot = foot_now(e) };
	ksample(e, &r->ks[r->nks++], opi);
}

static void track_jw(struct esim *e)
{
	uint64_t l = live_now(e), f = foot_now(e);
	e->wl += (double)l;
	e->wf += (double)f;
	if (l > e->peak_live) {
		e->peak_live = l;
		e->foot_at_peak_live = f;
	}
	if (f > e->peak_foot) {
		e->peak_foot = f;
		e->live_at_peak_foot = l;
	}
}

/* === executing operations ================================================ */

#define TIMED(e, expr) ({ uint64_t _t0 = (e)->o->time_ops ? bt_begin() : 0; __typeof__(expr) _v = (expr); \
	if ((e)->o->time_ops) { uint64_t _d = bt_end() - _t0; (e)->r->lat[(e)->timed++] = _d > UINT32_MAX ? UINT32_MAX : (uint32_t)_d; } _v; })

static struct eh *use(struct esim *e, const struct ra_op *op, int which, unsigned mask, int *rc)
{
	struct eh *h = &e->h[op->h[which]];
	if (!(mask & (1u << h->kind))) {
		*rc = h->kind == EK_NONE
		      ? eerr(e, op, "handle '%s' names nothing (bound by an operation that did not run?)", e->t->names[op->h[which]])
		      : eerr(e, op, "handle '%s' has the wrong kind for %s", e->t->names[op->h[which]], ra_op_names[op->code]);
		return NULL;
	}
	*rc = 0;
	return h;
}

static int bind(struct esim *e, const struct ra_op *op, uint32_t consumed, int kind, uint64_t addr, uint64_t size)
{
	if (op->out == RA_NONAME)
		return 0;
	struct eh *h = &e->h[op->out];
	if (h->live && op->out != consumed)
		return eerr(e, op, "handle '%s' is still live; free it before rebinding", e->t->names[op->out]);
	memset(h, 0, sizeof(*h));
	h->kind = (uint8_t)kind;
	h->live = addr != 0;
	h->addr = addr;
	h->size = size;
	h->acct = -1;
	h->cookie = (++e->ngen * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)op->out << 17) ^ 0x5bd1e995;
	return 0;
}

static int exec_kernel(struct esim *e, const struct ra_op *op)
{
	ra_machine *m = e->m;
	struct eh *h, *c;
	int rc;
	const unsigned kmem = (1u << EK_PAGES) | (1u << EK_KMALLOC) | (1u << EK_COBJ) | (1u << EK_VMALLOC);
	switch (op->code) {
	case RA_OP_ALLOC_PAGES: {
		unsigned order = (unsigned)op->a[0];
		ra_addr_t a = TIMED(e, ra_alloc_pages(m, op->gfp, order));
		if (order >= BENCH_HIGH_ORDER_MIN) {
			e->r->ho_attempts[order]++;
			e->r->ho_success[order] += a != 0;
		}
		if ((rc = bind(e, op, RA_NONAME, EK_PAGES, a, RA_PAGE_SIZE << order)))
			return rc;
		if (op->out != RA_NONAME)
			e->h[op->out].order = order;
		e->live_kernel += a ? RA_PAGE_SIZE << order : 0;
		e->r->alloc_fail += !a;
		return 0;
	}
	case RA_OP_KMALLOC: case RA_OP_KZALLOC: {
		size_t n = (size_t)op->a[0];
		ra_addr_t a = op->code == RA_OP_KMALLOC ? TIMED(e, ra_kmalloc(m, n, op->gfp)) : TIMED(e, ra_kzalloc(m, n, op->gfp));
		if ((rc = bind(e, op, RA_NONAME, EK_KMALLOC, a, n)))
			return rc;
		e->r->alloc_fail += !a;
		if (a && op->out != RA_NONAME) {
			h = &e->h[op->out];
			h->acct = a == RA_ZERO_SIZE_PTR ? -1 : real_cache_id(m, ra_kmalloc_cache(m, n, op->gfp));
			if (n > 8192)
				h->acct = -1;
			slab_account(e, h, 1);
		}
		e->live_kernel += a ? n : 0;
		return 0;
	}
	case RA_OP_KREALLOC: {
		if (!(h = use(e, op, 0, kmem, &rc)))
			return rc;
		ra_addr_t old = h->live ? h->addr : 0;
		size_t n = (size_t)op->a[0];
		ra_addr_t a = TIMED(e, ra_krealloc(m, old, n, op->gfp));
		if (!a)
			return 0;                   /* the old object stays */
		if (h->live) {
			slab_account(e, h, -1);
			e->live_kernel -= h->size;
			h->live = 0;
		}
		if ((rc = bind(e, op, op->h[0], EK_KMALLOC, a, n)))
			return rc;
		if (op->out != RA_NONAME) {
			struct eh *o2 = &e->h[op->out];
			o2->acct = n > 8192 || a == RA_ZERO_SIZE_PTR ? -1 : real_cache_id(m, ra_kmalloc_cache(m, n, op->gfp));
			slab_account(e, o2, 1);
		}
		e->live_kernel += n;
		return 0;
	}
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: {
		if (!(h = use(e, op, 0, kmem, &rc)))
			return rc;
		if (!h->live)
			return 0;
		int r2 = op->code == RA_OP_FREE_PAGES ? TIMED(e, ra_free_pages(m, h->addr, h->kind == EK_PAGES ? h->order : 0))
		       : op->code == RA_OP_KFREE ? TIMED(e, ra_kfree(m, h->addr)) : TIMED(e, ra_vfree(m, h->addr));
		if (r2 == 0) {
			slab_account(e, h, -1);
			e->live_kernel -= h->kind == EK_PAGES ? RA_PAGE_SIZE << h->order : h->size;
			h->live = 0;
		}
		return 0;
	}
	case RA_OP_CACHE_CREATE: {
		size_t align = (op->flags & RA_OPF_HAS_ALIGN) ? (size_t)op->a[1] : 0;
		ra_cache *cache = ra_kmem_cache_create(m, ra_trace_strp(e->t, op->str), (size_t)op->a[0], align, (uint32_t)op->a[2]);
		if ((rc = bind(e, op, RA_NONAME, EK_CACHE, cache ? 1 : 0, (uint64_t)op->a[0])))
			return rc;
		if (op->out != RA_NONAME)
			e->h[op->out].cache = cache;
		slab_grow(e);
		return 0;
	}
	case RA_OP_CACHE_ALLOC: {
		if (!(c = use(e, op, 0, 1u << EK_CACHE, &rc)))
			return rc;
		ra_cache *cache = c->live ? c->cache : NULL;
		ra_addr_t a = cache ? TIMED(e, ra_kmem_cache_alloc(m, cache, op->gfp)) : 0;
		uint64_t n = cache ? ra_cache_object_size(cache) : 0;
		if ((rc = bind(e, op, RA_NONAME, EK_COBJ, a, n)))
			return rc;
		e->r->alloc_fail += !a;
		if (a && op->out != RA_NONAME) {
			h = &e->h[op->out];
			h->cache = cache;
			h->acct = real_cache_id(m, cache);
			slab_account(e, h, 1);
		}
		e->live_kernel += a ? n : 0;
		return 0;
	}
	case RA_OP_CACHE_FREE: {
		if (!(c = use(e, op, 0, 1u << EK_CACHE, &rc)) || !(h = use(e, op, 1, kmem, &rc)))
			return rc;
		if (!h->live || !c->live)
			return 0;
		if (TIMED(e, ra_kmem_cache_free(m, c->cache, h->addr)) == 0) {
			slab_account(e, h, -1);
			e->live_kernel -= h->size;
			h->live = 0;
		}
		return 0;
	}
	case RA_OP_CACHE_SHRINK: case RA_OP_CACHE_DESTROY:
		if (!(c = use(e, op, 0, 1u << EK_CACHE, &rc)))
			return rc;
		if (!c->live)
			return 0;
		if (op->code == RA_OP_CACHE_SHRINK)
			ra_kmem_cache_shrink(m, c->cache);
		else if (ra_kmem_cache_destroy(m, c->cache) == 0)
			c->live = 0;
		return 0;
	case RA_OP_VMALLOC: case RA_OP_VZALLOC: {
		size_t n = (size_t)op->a[0];
		ra_addr_t a = op->code == RA_OP_VMALLOC ? TIMED(e, ra_vmalloc(m, n)) : TIMED(e, ra_vzalloc(m, n));
		e->r->alloc_fail += !a;
		e->live_kernel += a ? n : 0;
		return bind(e, op, RA_NONAME, EK_VMALLOC, a, n);
	}
	case RA_OP_BALLOON: {
		uint32_t id = 0;
		int r2 = ra_balloon_inflate(m, (uint64_t)op->a[0], &id);
		if ((rc = bind(e, op, RA_NONAME, EK_BALLOON, r2 ? 0 : 1, (uint64_t)op->a[0])))
			return rc;
		if (op->out != RA_NONAME)
			e->h[op->out].order = id;
		return 0;
	}
	case RA_OP_UNBALLOON:
		if (!(h = use(e, op, 0, 1u << EK_BALLOON, &rc)))
			return rc;
		if (h->live && ra_balloon_deflate(m, h->order) == 0)
			h->live = 0;
		return 0;
	default:
		return eerr(e, op, "'%s' is not modelled by the bench executor (use refalloc replay)", ra_op_names[op->code]);
	}
}

static struct ra_task *cur_task(struct esim *e, const struct ra_op *op, uint32_t *tid, int *rc)
{
	struct ra_mm_world *w = ra_mm_world(e->m);
	if (!w || !w->cur) {
		*rc = eerr(e, op, "'%s' needs a current task", ra_op_names[op->code]);
		return NULL;
	}
	*tid = w->cur_tid;
	*rc = 0;
	return w->cur;
}

static void check_block(struct esim *e, const struct ra_op *op, struct ra_task *t, struct eh *h, uint64_t align)
{
	struct bench_result *r = e->r;
	if (h->addr & 15)
		efail(e, op, &r->bad_align, "%s returned %#" PRIx64 ", not 16-byte aligned", ra_op_names[op->code], h->addr);
	else if (align > 16 && (h->addr & (align - 1)))
		efail(e, op, &r->bad_align, "memalign %" PRIu64 " returned %#" PRIx64, align, h->addr);
	size_t us = um_usable_size(t->um, h->addr);
	if (us < h->size)
		efail(e, op, &r->bad_usable, "usable size %zu below the request %" PRIu64, us, h->size);
}

/* The mallopt knobs of the knob table (KF_MALLOPT) that were set explicitly
 * (--set, a sweep): applied to each new task as mallopt calls, so a sweep
 * over M_MMAP_THRESHOLD measures something whether or not the engine's task
 * creation applies them itself (newer trees do; mallopt is idempotent, so
 * twice is harmless). */
static void apply_mallopt_knobs(ra_machine *m, struct ra_task *t)
{
	static const struct { int id, param; } map[] = {
		{ K_M_MXFAST, UM_M_MXFAST }, { K_M_TRIM_THRESHOLD, UM_M_TRIM_THRESHOLD }, { K_M_TOP_PAD, UM_M_TOP_PAD },
		{ K_M_MMAP_THRESHOLD, UM_M_MMAP_THRESHOLD }, { K_M_MMAP_MAX, UM_M_MMAP_MAX },
		{ K_M_ARENA_MAX, UM_M_ARENA_MAX }, { K_M_ARENA_TEST, UM_M_ARENA_TEST }, { K_M_PERTURB, UM_M_PERTURB },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (m->knobs.set[map[i].id] && t->um)
			um_mallopt(t->um, map[i].param, (int)m->knobs.v[map[i].id][0]);
}

static int exec_user(struct esim *e, const struct ra_op *op)
{
	ra_machine *m = e->m;
	struct bench_result *r = e->r;
	struct eh *h;
	uint32_t tid;
	int rc;
	switch (op->code) {
	case RA_OP_TASK: {
		const char *comm = ra_trace_strp(e->t, op->str);
		int adj = (op->flags & RA_OPF_HAS_ADJ) ? (int)op->a[0] : 0;
		struct ra_task *nt = ra_task_create(m, comm, adj);
		if ((rc = bind(e, op, RA_NONAME, EK_TASK, nt ? 1 : 0, 0)))
			return rc;
		if (!nt)
			return 0;
		apply_mallopt_knobs(m, nt);
		ra_set_current(m, nt, 0);
		if (op->out != RA_NONAME)
			e->h[op->out].task = nt;
		e->tasks = realloc(e->tasks, (e->ntasks + 1) * sizeof(*e->tasks));
		if (!e->tasks)
			exit(70);
		e->tasks[e->ntasks++] = (struct etask){ .t = nt, .rss0 = nt->mm ? nt->mm->rss : 0 };
		return 0;
	}
	case RA_OP_SWITCH: {
		h = &e->h[op->h[0]];
		if (h->kind != EK_TASK)
			return eerr(e, op, "handle '%s' is not a task", e->t->names[op->h[0]]);
		if (!h->live)
			return 0;
		ra_set_current(m, h->task, (uint32_t)op->a[0]);
		if (ra_task_alive(h->task))
			ra_task_thread(m, h->task, (uint32_t)op->a[0]);
		return 0;
	}
	default:
		break;
	}
	struct ra_task *t = cur_task(e, op, &tid, &rc);
	if (!t)
		return rc;
	if (!ra_task_alive(t))
		return 0;                                  /* a dead task's operations fail, as in replay */
	struct etask *et = etask_of(e, t);
	struct um_state *um = t->um;
	struct um_thread *th = ra_task_umthread(t, tid);
	const unsigned umem = (1u << EK_UCHUNK) | (1u << EK_UMAP);
	um_addr a = 0;
	uint64_t n = 0, align = 0;
	switch (op->code) {
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_MEMALIGN: {
		ra_task_get(t);
		if (op->code == RA_OP_MALLOC) {
			n = (uint64_t)op->a[0];
			a = TIMED(e, um_malloc(um, th, (size_t)n));
		} else if (op->code == RA_OP_CALLOC) {
			n = (uint64_t)op->a[0] * (uint64_t)op->a[1];
			a = TIMED(e, um_calloc(um, th, (size_t)op->a[0], (size_t)op->a[1]));
		} else {
			align = (uint64_t)op->a[0];
			n = (uint64_t)op->a[1];
			a = TIMED(e, um_memalign(um, th, (size_t)align, (size_t)n));
		}
		ra_task_put(m, t);
		if ((rc = bind(e, op, RA_NONAME, EK_UCHUNK, a, n)))
			return rc;
		if (!a) {
			r->alloc_fail++;
			return 0;
		}
		if (op->out == RA_NONAME)
			return 0;
		h = &e->h[op->out];
		h->task = t;
		if (et)
			et->live += n;
		if (!ra_task_alive(t))
			return 0;
		check_block(e, op, t, h, (align & (align - 1)) ? 0 : align);
		if (op->code == RA_OP_CALLOC && e->o->verify_full && n && !zeroed(e, t, a, n))
			efail(e, op, &r->bad_contents, "calloc of %" PRIu64 " bytes is not zeroed", n);
		touch_block(e, t, h, 0);
		return 0;
	}
	case RA_OP_REALLOC: {
		if (!(h = use(e, op, 0, umem, &rc)))
			return rc;
		if (h->task != t)
			return eerr(e, op, "handle '%s' belongs to another task", e->t->names[op->h[0]]);
		n = (uint64_t)op->a[0];
		uint64_t old = h->live ? h->addr : 0, oldsize = h->live ? h->size : 0;
		struct eh saved = *h;
		ra_task_get(t);
		if (!n && old) {
			/* realloc(p, 0) frees p, binds NULL */
			TIMED(e, um_realloc(um, th, old, 0));
			ra_task_put(m, t);
			h->live = 0;
			if (et)
				et->live -= oldsize;
			return bind(e, op, op->h[0], EK_UCHUNK, 0, 0);
		}
		a = TIMED(e, um_realloc(um, th, old, (size_t)n));
		ra_task_put(m, t);
		if (!a) {
			r->alloc_fail++;
			return 0;
		}
		h->live = 0;
		if (et)
			et->live -= oldsize;
		if ((rc = bind(e, op, op->h[0], EK_UCHUNK, a, n)))
			return rc;
		if (op->out == RA_NONAME)
			return 0;
		struct eh *nh = &e->h[op->out];
		nh->task = t;
		nh->cookie = old ? saved.cookie : nh->cookie;
		if (et)
			et->live += n;
		if (!ra_task_alive(t))
			return 0;
		check_block(e, op, t, nh, 0);
		uint64_t keep = oldsize < n ? oldsize : n;
		if (old && !verify_block(e, t, a, nh, keep))
			efail(e, op, &r->bad_contents, "realloc %" PRIu64 " -> %" PRIu64 " did not keep the contents", oldsize, n);
		touch_block(e, t, nh, old ? keep : 0);
		return 0;
	}
	case RA_OP_FREE: {
		if (!(h = use(e, op, 0, umem, &rc)))
			return rc;
		if (!h->live)
			return 0;
		if (h->task != t)
			return eerr(e, op, "handle '%s' belongs to another task", e->t->names[op->h[0]]);
		if (h->kind == EK_UCHUNK && !verify_block(e, t, h->addr, h, h->size))
			efail(e, op, &r->bad_contents, "block '%s' (%" PRIu64 " bytes) changed while allocated",
			      e->t->names[op->h[0]], h->size);
		ra_task_get(t);
		int r2 = TIMED(e, um_free(um, th, h->addr));
		ra_task_put(m, t);
		if (r2 == 0) {
			h->live = 0;
			if (et)
				et->live -= h->size;
		}
		return 0;
	}
	case RA_OP_MALLOPT:
		um_mallopt(um, (int)op->a[0], (int)op->a[1]);
		return 0;
	case RA_OP_MALLOC_TRIM:
		ra_task_get(t);
		um_trim(um, (size_t)op->a[0]);
		ra_task_put(m, t);
		return 0;
	case RA_OP_TOUCH: case RA_OP_READ: {
		if (!(h = use(e, op, 0, umem, &rc)))
			return rc;
		if (!h->live)
			return 0;
		int64_t off = (op->flags & RA_OPF_HAS_OFF) ? op->a[0] : 0;
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1]
		               : (off >= 0 && (uint64_t)off < h->size ? h->size - (uint64_t)off : 0);
		if (len)
			ra_uaccess(m, t, h->addr + (uint64_t)off, len, op->code == RA_OP_TOUCH, NULL);
		return 0;
	}
	case RA_OP_MMAP: {
		unsigned f = ((op->flags & RA_OPF_POPULATE) ? RA_MMAP_POPULATE : 0) | ((op->flags & RA_OPF_LOCKED) ? RA_MMAP_LOCKED : 0);
		uint64_t ad = ra_mmap(m, t, (uint64_t)op->a[0], (int)op->a[1], f);
		if ((rc = bind(e, op, RA_NONAME, EK_UMAP, ad, (uint64_t)op->a[0])))
			return rc;
		if (ad && op->out != RA_NONAME)
			e->h[op->out].task = t;
		return 0;
	}
	case RA_OP_MUNMAP:
		if (!(h = use(e, op, 0, umem, &rc)))
			return rc;
		if (h->live && ra_munmap(m, t, h->addr, h->size) == 0)
			h->live = 0;
		return 0;
	case RA_OP_BRK:
		ra_sbrk(m, t, op->a[0]);
		return 0;
	case RA_OP_MLOCKALL:
		ra_mlockall(m, t, op->flags & RA_OPF_CURRENT, op->flags & RA_OPF_FUTURE);
		return 0;
	case RA_OP_EXIT:
		ra_task_exit(m, t);
		return 0;
	case RA_OP_OOM_SCORE_ADJ:
		t->oom_score_adj = (int)op->a[0];
		return 0;
	case RA_OP_OOM_ADJ:
		t->oom_score_adj = ra_oom_score_adj_from_adj((int)op->a[0]);
		return 0;
	default:
		return eerr(e, op, "'%s' is not modelled by the bench executor (use refalloc replay)", ra_op_names[op->code]);
	}
}

static int exec_control(struct esim *e, const struct ra_op *op)
{
	ra_machine *m = e->m;
	const char *str = op->str != RA_NONAME ? ra_trace_strp(e->t, op->str) : "";
	switch (op->code) {
	case RA_OP_MACHINE: case RA_OP_DUMP: case RA_OP_EXPECT:
		return 0;
	case RA_OP_SYSCTL: {
		const char *eq = strchr(str, '=');
		int id = eq ? ra_knob_lookup(str, (size_t)(eq - str)) : -1;
		if (id < 0 || ra_knob_set_id(m, id, eq + 1, strlen(eq + 1)) != RA_OK)
			return eerr(e, op, "sysctl %s: %s", str, id < 0 ? "unknown knob" : ra_last_error(m));
		return 0;
	}
	case RA_OP_SLUB_DEBUG: {
		char msg[160];
		if (ra_slab_set_debug(m, str, msg, sizeof(msg)))
			return eerr(e, op, "slub_debug %s: %s", str, msg);
		return 0;
	}
	case RA_OP_CPU:
		if ((unsigned)op->a[0] >= m->ncpus)
			return eerr(e, op, "cpu %" PRId64 ": the machine has %u cpus", op->a[0], m->ncpus);
		ra_set_cpu(m, (unsigned)op->a[0]);
		return 0;
	case RA_OP_CHECK: {
		long n = ra_check(m, (op->flags & RA_OPF_FULL) ? RA_CHECK_FULL : RA_CHECK_OP);
		if (n)
			efail(e, op, &e->r->bad_contents, "check: %ld engine invariant problem%s", n, n == 1 ? "" : "s");
		return 0;
	}
	case RA_OP_FAIL:
		ra_fail_arm(m, (int)op->a[0], op->a);
		return 0;
	default:
		return -2;
	}
}

/* === the run ============================================================= */

int bench_trace_is_user(const struct ra_trace *t)
{
	for (uint32_t i = 0; i < t->nops; i++)
		switch (t->ops[i].code) {
		case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_REALLOC: case RA_OP_MEMALIGN:
			return 1;
		default:
			break;
		}
	return 0;
}

static int is_timed(int code)
{
	switch (code) {
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_REALLOC: case RA_OP_MEMALIGN: case RA_OP_FREE:
	case RA_OP_ALLOC_PAGES: case RA_OP_FREE_PAGES: case RA_OP_KMALLOC: case RA_OP_KZALLOC: case RA_OP_KREALLOC:
	case RA_OP_KFREE: case RA_OP_CACHE_ALLOC: case RA_OP_CACHE_FREE: case RA_OP_VMALLOC: case RA_OP_VZALLOC:
	case RA_OP_VFREE:
		return 1;
	default:
		return 0;
	}
}

/* Boot-time knobs (KF_BOOT) must be set before the machine is created: the
 * kmalloc caches exist from boot.  The engine reads REFALLOC_<NAME> then. */
static void env_name(const char *knob, size_t len, char *out, size_t outlen)
{
	size_t o = snprintf(out, outlen, "REFALLOC_");
	for (size_t i = 0; i < len && o + 1 < outlen; i++)
		out[o++] = knob[i] == '.' ? '_' : (char)(knob[i] >= 'a' && knob[i] <= 'z' ? knob[i] - 32 : knob[i]);
	out[o] = 0;
}

int bench_engine_run(const struct ra_trace *t, const struct bench_run_opts *o, struct bench_result *r,
                     char *err, size_t errlen)
{
	struct esim e = { .t = t, .o = o, .r = r, .err = err, .errlen = errlen };
	memset(r, 0, sizeof(*r));
	snprintf(r->alloc, sizeof(r->alloc), "engine");
	r->conform_ok = -1;
	r->timer = BT_NAME;
	err[0] = 0;
	e.user_mode = bench_trace_is_user(t);
	r->foot_kind = e.user_mode ? "simulated RSS of the tasks (pages touched above their start)"
	                           : "machine pages in use above boot (incl. per-cpu lists)";

	/* knobs: boot ones through the environment, the rest after creation */
	char envs[8][96];
	unsigned nenv = 0;
	for (unsigned i = 0; i < o->nsets; i++) {
		const char *s = o->sets[i], *eq = strchr(s, '=');
		int id = eq ? ra_knob_lookup(s, (size_t)(eq - s)) : -1;
		if (id < 0) {
			snprintf(err, errlen, "--set %s: unknown knob (see `refalloc knobs`)", s);
			return -1;
		}
		if ((ra_knob_defs[id].flags & KF_BOOT) && nenv < 8) {
			env_name(s, (size_t)(eq - s), envs[nenv], sizeof(envs[nenv]));
			setenv(envs[nenv++], eq + 1, 1);
		}
	}
	int rc = ra_machine_create(&e.m, &t->cfg, NULL, NULL);
	for (unsigned i = 0; i < nenv; i++)
		unsetenv(envs[i]);
	if (rc != RA_OK) {
		snprintf(err, errlen, "%s: cannot create the machine: %s", t->file, e.m ? ra_last_error(e.m) : "out of memory");
		ra_machine_destroy(e.m);
		return -1;
	}
	ra_machine *m = e.m;
	for (unsigned i = 0; i < o->nsets; i++) {
		const char *s = o->sets[i], *eq = strchr(s, '=');
		int id = ra_knob_lookup(s, (size_t)(eq - s));
		if (!(ra_knob_defs[id].flags & KF_BOOT) && ra_knob_set_id(m, id, eq + 1, strlen(eq + 1)) != RA_OK) {
			snprintf(err, errlen, "--set %s: %s", s, ra_last_error(m));
			ra_machine_destroy(m);
			return -1;
		}
	}
	if (o->slub_debug) {
		char msg[160];
		if (ra_slab_set_debug(m, o->slub_debug, msg, sizeof(msg))) {
			snprintf(err, errlen, "slub_debug %s: %s", o->slub_debug, msg);
			ra_machine_destroy(m);
			return -1;
		}
	}
	e.h = calloc(t->nnames + 1, sizeof(*e.h));
	uint64_t ntimed = 0;
	for (uint32_t i = 0; i < t->nops; i++)
		ntimed += is_timed(t->ops[i].code);
	r->lat = malloc((ntimed + 1) * sizeof(uint32_t));
	if (!e.h || !r->lat)
		exit(70);
	e.every = o->sample_every ? o->sample_every : (t->nops / 2000 ? t->nops / 2000 : 1);
	e.boot_used = used_pages(m);
	slab_grow(&e);
	static uint64_t scratch_ticks[4095];
	bt_start(&e.clk, scratch_ticks);
	uint64_t w0 = bt_mono_ns();
	sample(&e, 0, 1);
	int ret = 0;
	uint32_t i;
	for (i = 0; i < t->nops; i++) {
		const struct ra_op *op = &t->ops[i];
		if (o->stop && *o->stop) {
			ret = -2;
			break;
		}
		m->op_seq++;
		ra_set_site(m, t->file, op->line);
		rc = exec_control(&e, op);
		if (rc == -2)
			rc = ra_op_side[op->code] == 'K' ? exec_kernel(&e, op) : exec_user(&e, op);
		if (rc) {
			ret = -1;
			break;
		}
		if (ra_panicked(m)) {
			snprintf(err, errlen, "%s:%u: the simulated kernel panicked", t->file, op->line);
			ret = -1;
			break;
		}
		if (e.ntasks)
			reap_dead(&e);
		track_jw(&e);
		sample(&e, i + 1, 0);
	}
	r->wall_ns = bt_mono_ns() - w0;
	if (o->time_ops)
		bt_finish(&e.clk);
	sample(&e, i, 1);
	r->nops = i;
	r->ntimed = e.timed;
	r->timer_overhead_ns = e.clk.overhead_ticks * e.clk.ns_per_tick;
	r->timer_resolution_ns = e.clk.resolution_ticks * e.clk.ns_per_tick;
	for (uint64_t k = 0; k < e.timed; k++) {
		r->lat[k] = bt_ns(&e.clk, r->lat[k]);
		r->op_ns_sum += r->lat[k];
	}
	r->exact_jw = 1;
	struct bench_jw *jw = &r->jw;
	jw->peak_live = e.peak_live;
	jw->peak_foot = e.peak_foot;
	jw->foot_at_peak_live = e.foot_at_peak_live;
	jw->live_at_peak_foot = e.live_at_peak_foot;
	jw->avg = e.wl > 0 ? (e.wf - e.wl) / e.wl : NAN;
	jw->at_live = e.peak_live ? ((double)e.foot_at_peak_live - (double)e.peak_live) / (double)e.peak_live : NAN;
	jw->at_foot = e.live_at_peak_foot ? ((double)e.peak_foot - (double)e.live_at_peak_foot) / (double)e.live_at_peak_foot : NAN;
	jw->peak = e.peak_live ? ((double)e.peak_foot - (double)e.peak_live) / (double)e.peak_live : NAN;
	r->end_foot = foot_now(&e);
	for (uint32_t k = 0; k < e.ntasks; k++) {
		struct ra_task *tk = e.tasks[k].t;
		if (tk->mm && tk->mm->hiwater_rss > e.tasks[k].rss0)
			r->peak_rss += (tk->mm->hiwater_rss - e.tasks[k].rss0) << RA_PAGE_SHIFT;
		if (ra_task_alive(tk) && tk->um) {
			struct um_stat st;
			um_get_stat(tk->um, &st);
			r->mapped_peak += st.max_system_bytes + st.max_mmapped_bytes;
		}
	}
	if (!e.user_mode)
		r->peak_rss = e.peak_foot;
	r->minflt = 0;
	for (uint32_t k = 0; k < e.ntasks; k++)
		r->minflt += e.tasks[k].t->min_flt;
	if (e.failed)
		r->conform_ok = 0;
	free(e.h);
	free(e.tasks);
	free(e.slab_live);
	free(e.slab_req);
	free(e.buf);
	ra_machine_destroy(m);
	return ret;
}

int bench_engine_conform(char *msg, size_t len)
{
	const struct bench_workload *w = bench_workload_find("conform");
	struct bench_gen_opts go = { .seed = 1, .scale = 1 };
	struct ra_trace *t = bench_generate(w, &go);
	struct bench_run_opts o;
	bench_run_opts_default(&o);
	o.verify_full = 1;
	o.time_ops = 0;
	struct bench_result r;
	char err[512];
	int rc = bench_engine_run(t, &o, &r, err, sizeof(err));
	int bad = 0;
	msg[0] = 0;
	if (rc) {
		snprintf(msg, len, "the conformance trace did not run: %s", err);
		bad = 1;
	} else if (r.bad_align || r.bad_contents || r.bad_usable || r.alloc_fail) {
		snprintf(msg, len, "%" PRIu64 " misaligned, %" PRIu64 " contents, %" PRIu64 " usable-size, %" PRIu64
		         " failed allocations; first: %s", r.bad_align, r.bad_contents, r.bad_usable, r.alloc_fail,
		         r.conform_msg[0] ? r.conform_msg : "an allocation failed");
		bad = 1;
	} else {
		/* and the same trace through ra_replay with per-operation invariants */
		struct ra_replay_opts ro;
		ra_replay_opts_default(&ro);
		ro.check = RA_CHECK_OP;
		ro.out = NULL;
		ro.quiet_errors = 1;
		int x = ra_replay(t, &ro);
		if (x) {
			snprintf(msg, len, "refalloc replay --check=op of the conformance trace exits %d", x);
			bad = 1;
		}
	}
	bench_result_free(&r);
	ra_trace_free(t);
	return bad;
}
