/*
 * esim.c — the engine under the bench's samplers.  The trace runs through
 * ra_replay, the one executor of trace operations; the samplers ride on its
 * per-operation hook and look at the machine through the public read-outs
 * (refalloc/inspect.h, refalloc/stats.h).  They measure:
 *
 *   - per-operation latency: the clock starts as the last thing before an
 *     allocation or free runs and stops as the first thing after it
 *     (what lies between is the engine's call and the replay's handle
 *     bookkeeping);
 *   - the memory timeline: live requested bytes against the memory the
 *     allocator holds, sampled about 2000 times per trace, and Johnstone &
 *     Wilson's fragmentation computed exactly, after every operation;
 *   - the kernel-side picture: free blocks per order, the unusable and
 *     fragmentation indices, slab internal fragmentation, vmalloc areas,
 *     watermark breaches, kswapd, OOM kills;
 *   - conformance: alignment, usable size, calloc zeroes, and that a block
 *     keeps its contents from allocation to free and across realloc.
 *
 * The user-side "allocator memory" is the simulated RSS of the tasks above
 * what they held when created (the same measure as the real allocators'
 * RSS); for a kernel-only trace it is the machine's used pages above boot.
 *
 * Every block gets an 8-byte cookie at its start and one written byte per
 * page, as the replay driver does for real allocators, so RSS means the
 * same in both worlds; the cookie is checked before free and after
 * realloc.  With verify_full the whole block carries a pattern.  The
 * writes are the task's own stores (ra_user_write): they take the faults
 * a program's would, as part of the operation that made the block.
 *
 * The samplers keep their own table of what each trace name holds (kind,
 * size, whether live, its slab cache, its cookie), updated from what the
 * hook reports the operation bound; they never execute an operation.
 */
#include "bench.h"
#include "timer.h"
#include "refalloc/inspect.h"
#include "refalloc/stats.h"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum ek { EK_NONE, EK_PAGES, EK_KMALLOC, EK_CACHE, EK_COBJ, EK_VMALLOC, EK_IOREMAP, EK_TASK, EK_UCHUNK, EK_UMAP,
          EK_BALLOON };

/* What a trace name holds, as the samplers see it. */
struct eh {
	uint8_t  kind, live;
	uint32_t order;          /* pages: order */
	int32_t  acct;           /* slab accounting: the cache holding the object, -1 none */
	uint64_t addr, size;     /* simulated address, requested size */
	uint64_t cookie;
	uint32_t pid;            /* user objects: owner; EK_TASK: the task */
};

struct etask { uint32_t pid; uint64_t rss0, live; uint8_t dead; };

struct esim {
	const struct ra_trace *t;
	const struct bench_run_opts *o;
	struct bench_result *r;
	ra_machine *m;
	struct eh *h;
	struct etask *tasks;
	uint32_t ntasks;
	int user_mode;
	uint64_t totalram;
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
	int failed;              /* a check failed: first message kept */
	struct bt_clock clk;
	uint64_t timed, w0;
	/* the operation in progress */
	int timing;
	uint64_t t0;
	int pre_alive;           /* its task was alive when it started */
	/* how the replay went */
	int started, interrupted;
	uint32_t nops;
	const struct ra_op *last;
};

void bench_run_opts_default(struct bench_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->touch = 1;
	o->time_ops = 1;
}

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

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "refalloc bench: out of memory\n");
		exit(70);
	}
	return p;
}

static uint8_t *scratch(struct esim *e, size_t n)
{
	if (n > e->buflen) {
		free(e->buf);
		e->buflen = n < 65536 ? 65536 : n;
		e->buf = NULL;
		e->buf = xrealloc(e->buf, e->buflen);
	}
	return e->buf;
}

static inline uint8_t pat(uint64_t cookie, uint64_t i) { return (uint8_t)((cookie >> ((i & 7) * 8)) ^ (i >> 3)); }

static int task_alive(struct esim *e, uint32_t pid)
{
	struct ra_task_info ti;
	return pid && ra_task_info(e->m, pid, &ti) == RA_OK && ti.alive;
}

/* === user blocks: touch, verify ========================================= */

static struct etask *etask_of(struct esim *e, uint32_t pid)
{
	for (uint32_t i = 0; i < e->ntasks; i++)
		if (e->tasks[i].pid == pid)
			return &e->tasks[i];
	return NULL;
}

/* Write the block's cookie and one byte per page (or the whole pattern). */
static void touch_block(struct esim *e, struct eh *h, uint64_t from)
{
	uint64_t a = h->addr, n = h->size;
	if (!n || !e->o->touch || !task_alive(e, h->pid))
		return;
	if (e->o->verify_full) {
		uint8_t *b = scratch(e, n - from);
		for (uint64_t i = from; i < n; i++)
			b[i - from] = pat(h->cookie, i);
		ra_user_write(e->m, h->pid, a + from, b, n - from);
		return;
	}
	if (from < 8) {
		uint64_t c = h->cookie;
		ra_user_write(e->m, h->pid, a + from, (uint8_t *)&c + from, (n < 8 ? n : 8) - from);
	}
	uint8_t one = 0x5a;
	uint64_t off = RA_PAGE_SIZE - (a & (RA_PAGE_SIZE - 1));
	if (off < from)
		off += (from - off + RA_PAGE_SIZE - 1) / RA_PAGE_SIZE * RA_PAGE_SIZE;
	for (; off < n; off += RA_PAGE_SIZE)
		ra_user_write(e->m, h->pid, a + off, &one, 1);
}

/* Are the first n bytes at addr still what touch_block wrote for h? */
static int verify_block(struct esim *e, uint64_t addr, const struct eh *h, uint64_t n)
{
	if (!n || !e->o->touch || !task_alive(e, h->pid))
		return 1;
	if (!e->o->verify_full) {
		uint64_t c = 0, want = h->cookie;
		uint64_t k = n < 8 ? n : 8;
		if (ra_user_read(e->m, h->pid, addr, &c, k))
			return 0;
		return memcmp(&c, &want, k) == 0;
	}
	uint8_t *b = scratch(e, n);
	if (ra_user_read(e->m, h->pid, addr, b, n))
		return 0;
	for (uint64_t i = 0; i < n; i++)
		if (b[i] != pat(h->cookie, i))
			return 0;
	return 1;
}

static int zeroed(struct esim *e, uint32_t pid, uint64_t addr, uint64_t n)
{
	uint8_t *b = scratch(e, n);
	if (ra_user_read(e->m, pid, addr, b, n))
		return 0;
	for (uint64_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void check_block(struct esim *e, const struct ra_op *op, const struct eh *h, uint64_t align)
{
	struct bench_result *r = e->r;
	if (h->addr & 15)
		efail(e, op, &r->bad_align, "%s returned %#" PRIx64 ", not 16-byte aligned", ra_op_names[op->code], h->addr);
	else if (align > 16 && (h->addr & (align - 1)))
		efail(e, op, &r->bad_align, "memalign %" PRIu64 " returned %#" PRIx64, align, h->addr);
	size_t us = ra_malloc_usable_size(e->m, h->pid, h->addr);
	if (us < h->size)
		efail(e, op, &r->bad_usable, "usable size %zu below the request %" PRIu64, us, h->size);
}

/* === accounting ========================================================= */

static void slab_grow(struct esim *e)
{
	struct ra_machine_info mi;
	ra_machine_info(e->m, &mi);
	if (e->nslab >= mi.nr_cache_ids)
		return;
	uint32_t n = mi.nr_cache_ids + 16;
	e->slab_live = xrealloc(e->slab_live, n * sizeof(uint64_t));
	e->slab_req = xrealloc(e->slab_req, n * sizeof(uint64_t));
	memset(e->slab_live + e->nslab, 0, (n - e->nslab) * sizeof(uint64_t));
	memset(e->slab_req + e->nslab, 0, (n - e->nslab) * sizeof(uint64_t));
	e->nslab = n;
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

static uint64_t used_pages(struct esim *e) { return e->totalram - ra_stat(e->m, RA_STAT_NR_FREE_PAGES); }

/* A task died (exit or OOM kill): its blocks are no longer live memory. */
static void reap_dead(struct esim *e)
{
	for (uint32_t i = 0; i < e->ntasks; i++)
		if (!e->tasks[i].dead && !task_alive(e, e->tasks[i].pid)) {
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
		uint64_t u = used_pages(e);
		return u > e->boot_used ? (u - e->boot_used) << RA_PAGE_SHIFT : 0;
	}
	uint64_t f = 0;
	for (uint32_t i = 0; i < e->ntasks; i++) {
		struct ra_task_info ti;
		if (ra_task_info(e->m, e->tasks[i].pid, &ti) == RA_OK && ti.alive && ti.rss > e->tasks[i].rss0)
			f += (ti.rss - e->tasks[i].rss0) << RA_PAGE_SHIFT;
	}
	return f;
}

/* === kernel-side sample ================================================== */

static void ksample(struct esim *e, struct bench_ksample *k, uint32_t opi)
{
	ra_machine *m = e->m;
	memset(k, 0, sizeof(*k));
	k->op = opi;
	uint64_t bigm = 0;
	for (int zi = 0; zi < RA_ZONES; zi++) {
		struct ra_zone_info z;
		if (ra_zone_info(m, zi, &z) != RA_OK || !z.populated)
			continue;
		for (int o = 0; o <= RA_MAX_ORDER; o++)
			k->nr_free[o] += z.nr_free[o];
		k->free_pages += z.free_pages;
		k->pcp_pages += z.pcp_pages;
		if (z.free_pages < z.wmark_low)
			k->zones_below_low++;
		/* the kernel's unusable_free_index and __fragmentation_index, for
		 * the largest zone */
		if (z.managed > bigm) {
			bigm = z.managed;
			memcpy(k->unusable, z.unusable, sizeof(k->unusable));
			memcpy(k->fragidx, z.fragidx, sizeof(k->fragidx));
		}
	}
	struct ra_machine_info mi;
	ra_machine_info(m, &mi);
	k->wmark_fail = ra_stat(m, RA_STAT_WMARK_FAIL);
	k->used_pages = mi.totalram_pages - k->free_pages;
	k->user_pages = ra_stat(m, RA_STAT_NR_ANON_PAGES);
	k->slab_pages = ra_stat(m, RA_STAT_NR_SLAB_RECLAIMABLE) + ra_stat(m, RA_STAT_NR_SLAB_UNRECLAIMABLE);
	k->vmalloc_areas = mi.vmalloc_areas;
	k->vmalloc_pages = ra_stat(m, RA_STAT_VMALLOC_PAGES);
	k->kswapd_wake = ra_stat(m, RA_STAT_KSWAPD_WAKE);
	k->alloc_fail = ra_stat(m, RA_STAT_ALLOC_FAIL);
	k->oom_kills = ra_stat(m, RA_STAT_OOM_KILL);
	slab_grow(e);
	for (unsigned id = 0; id < mi.nr_cache_ids; id++) {
		struct ra_slab_cache_info c;
		if (ra_slab_cache_info(m, id, &c) != RA_OK || c.alias)
			continue;
		k->partial_slabs += c.partial_slabs;
		k->slab_slot_bytes += e->slab_live[id] * c.size;
		k->slab_req_bytes += e->slab_req[id];
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
		r->samples = xrealloc(r->samples, e->cap_s * sizeof(*r->samples));
	}
	if (r->nks == e->cap_k) {
		e->cap_k = e->cap_k ? e->cap_k * 2 : 1024;
		r->ks = xrealloc(r->ks, e->cap_k * sizeof(*r->ks));
	}
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

/* === following the operations ============================================ */

/* Bind op->out in the samplers' table as the replay bound it. */
static struct eh *bind(struct esim *e, const struct ra_op *op, int kind, uint64_t addr, uint64_t size)
{
	if (op->out == RA_NONAME)
		return NULL;
	struct eh *h = &e->h[op->out];
	memset(h, 0, sizeof(*h));
	h->kind = (uint8_t)kind;
	h->live = addr != 0;
	h->addr = addr;
	h->size = size;
	h->acct = -1;
	h->cookie = (++e->ngen * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)op->out << 17) ^ 0x5bd1e995;
	return h;
}

/* The value the operation yielded (0 when it bound nothing). */
static uint64_t yielded(const struct ra_replay_event *ev) { return ev->bound ? ev->val : 0; }

static void after_kernel(struct esim *e, const struct ra_replay_event *ev)
{
	const struct ra_op *op = ev->op;
	struct bench_result *r = e->r;
	struct eh *h = op->h[0] != RA_NONAME ? &e->h[op->h[0]] : NULL;
	uint64_t a = yielded(ev);
	switch (op->code) {
	case RA_OP_ALLOC_PAGES: {
		unsigned order = (unsigned)op->a[0];
		if (order >= BENCH_HIGH_ORDER_MIN) {
			r->ho_attempts[order]++;
			r->ho_success[order] += a != 0;
		}
		struct eh *n = bind(e, op, EK_PAGES, a, RA_PAGE_SIZE << order);
		if (n)
			n->order = order;
		e->live_kernel += a ? RA_PAGE_SIZE << order : 0;
		r->alloc_fail += !a;
		break;
	}
	case RA_OP_KMALLOC: case RA_OP_KZALLOC: case RA_OP_VMALLOC: case RA_OP_VZALLOC: {
		uint64_t n = (uint64_t)op->a[0];
		int vm = op->code == RA_OP_VMALLOC || op->code == RA_OP_VZALLOC;
		struct eh *nh = bind(e, op, vm ? EK_VMALLOC : EK_KMALLOC, a, n);
		r->alloc_fail += !a;
		if (a && nh && !vm) {
			nh->acct = ra_slab_cache_of(e->m, a);
			slab_account(e, nh, 1);
		}
		e->live_kernel += a ? n : 0;
		break;
	}
	case RA_OP_KREALLOC: {
		if (!a)
			break;                      /* the old object stays */
		if (h->live) {
			slab_account(e, h, -1);
			e->live_kernel -= h->size;
			h->live = 0;
		}
		uint64_t n = (uint64_t)op->a[0];
		struct eh *nh = bind(e, op, EK_KMALLOC, a, n);
		if (nh) {
			nh->acct = ra_slab_cache_of(e->m, a);
			slab_account(e, nh, 1);
		}
		e->live_kernel += n;
		break;
	}
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_CACHE_FREE: {
		struct eh *o = op->code == RA_OP_CACHE_FREE ? &e->h[op->h[1]] : h;
		if (o->live && ev->outcome == RA_OUTCOME_OK) {
			slab_account(e, o, -1);
			e->live_kernel -= o->size;
			o->live = 0;
		}
		break;
	}
	case RA_OP_CACHE_CREATE:
		bind(e, op, EK_CACHE, a, (uint64_t)op->a[0]);
		slab_grow(e);
		break;
	case RA_OP_CACHE_ALLOC: {
		struct eh *nh = bind(e, op, EK_COBJ, a, a ? ev->size : 0);
		r->alloc_fail += !a;
		if (a && nh) {
			nh->acct = ra_slab_cache_of(e->m, a);
			slab_account(e, nh, 1);
		}
		e->live_kernel += a ? ev->size : 0;
		break;
	}
	case RA_OP_CACHE_DESTROY:
		if (h->live && ev->outcome == RA_OUTCOME_OK)
			h->live = 0;
		break;
	case RA_OP_IOREMAP:
		bind(e, op, EK_IOREMAP, a, (uint64_t)op->a[1]);
		break;
	case RA_OP_BALLOON:
		bind(e, op, EK_BALLOON, a, (uint64_t)op->a[0]);
		break;
	case RA_OP_IOUNMAP: case RA_OP_UNBALLOON:
		if (h->live && ev->outcome == RA_OUTCOME_OK)
			h->live = 0;
		break;
	default:
		break;
	}
}

static void after_user(struct esim *e, const struct ra_replay_event *ev)
{
	const struct ra_op *op = ev->op;
	struct bench_result *r = e->r;
	uint64_t a = yielded(ev);
	if (op->code == RA_OP_TASK || op->code == RA_OP_FORK) {
		struct eh *th = bind(e, op, EK_TASK, a ? 1 : 0, 0);
		if (!a)
			return;
		if (th)
			th->pid = (uint32_t)a;
		if (op->code == RA_OP_FORK)
			return;
		struct ra_task_info ti;
		ra_task_info(e->m, (uint32_t)a, &ti);
		e->tasks = xrealloc(e->tasks, (e->ntasks + 1) * sizeof(*e->tasks));
		e->tasks[e->ntasks++] = (struct etask){ .pid = (uint32_t)a, .rss0 = ti.rss };
		return;
	}
	if (!e->pre_alive || op->code == RA_OP_SWITCH)
		return;                          /* a dead task's operations fail */
	uint32_t pid = ev->pid;
	struct etask *et = etask_of(e, pid);
	struct eh *h = op->h[0] != RA_NONAME ? &e->h[op->h[0]] : NULL, *nh;
	uint64_t n = 0, align = 0;
	switch (op->code) {
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_MEMALIGN:
		if (op->code == RA_OP_MALLOC)
			n = (uint64_t)op->a[0];
		else if (op->code == RA_OP_CALLOC)
			n = (uint64_t)op->a[0] * (uint64_t)op->a[1];
		else {
			align = (uint64_t)op->a[0];
			n = (uint64_t)op->a[1];
		}
		nh = bind(e, op, EK_UCHUNK, a, n);
		if (!a) {
			r->alloc_fail++;
			return;
		}
		if (!nh)
			return;
		nh->pid = pid;
		if (et)
			et->live += n;
		if (!task_alive(e, pid))
			return;
		check_block(e, op, nh, (align & (align - 1)) ? 0 : align);
		if (op->code == RA_OP_CALLOC && e->o->verify_full && n && !zeroed(e, pid, a, n))
			efail(e, op, &r->bad_contents, "calloc of %" PRIu64 " bytes is not zeroed", n);
		touch_block(e, nh, 0);
		return;
	case RA_OP_REALLOC: {
		n = (uint64_t)op->a[0];
		uint64_t old = h->live ? h->addr : 0, oldsize = h->live ? h->size : 0, cookie = h->cookie;
		if (!n && old) {
			/* realloc(p, 0) frees p, binds NULL */
			h->live = 0;
			if (et)
				et->live -= oldsize;
			bind(e, op, EK_UCHUNK, 0, 0);
			return;
		}
		if (!a) {
			r->alloc_fail++;
			return;
		}
		h->live = 0;
		if (et)
			et->live -= oldsize;
		nh = bind(e, op, EK_UCHUNK, a, n);
		if (!nh)
			return;
		nh->pid = pid;
		nh->cookie = old ? cookie : nh->cookie;
		if (et)
			et->live += n;
		if (!task_alive(e, pid))
			return;
		check_block(e, op, nh, 0);
		uint64_t keep = oldsize < n ? oldsize : n;
		if (old && !verify_block(e, a, nh, keep))
			efail(e, op, &r->bad_contents, "realloc %" PRIu64 " -> %" PRIu64 " did not keep the contents", oldsize, n);
		touch_block(e, nh, old ? keep : 0);
		return;
	}
	case RA_OP_FREE:
		if (h->live && ev->outcome == RA_OUTCOME_OK) {
			h->live = 0;
			if (et)
				et->live -= h->size;
		}
		return;
	case RA_OP_MMAP:
		nh = bind(e, op, EK_UMAP, a, (uint64_t)op->a[0]);
		if (a && nh)
			nh->pid = pid;
		return;
	case RA_OP_MUNMAP:
		if (h->live && ev->outcome == RA_OUTCOME_OK)
			h->live = 0;
		return;
	default:
		return;
	}
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

/* Is op a timed allocation or free that will reach the allocator (not a
 * free of NULL, not an operation of a dead task)? */
static int will_time(struct esim *e, const struct ra_op *op)
{
	if (!e->o->time_ops || !is_timed(op->code))
		return 0;
	switch (op->code) {
	case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_MEMALIGN: case RA_OP_REALLOC:
		return e->pre_alive;
	case RA_OP_FREE:
		return e->pre_alive && e->h[op->h[0]].live;
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_CACHE_ALLOC:
		return e->h[op->h[0]].live;
	case RA_OP_CACHE_FREE:
		return e->h[op->h[0]].live && e->h[op->h[1]].live;
	default:
		return 1;
	}
}

static void before(struct esim *e, const struct ra_replay_event *ev)
{
	const struct ra_op *op = ev->op;
	e->pre_alive = ev->pid && ev->task_alive;
	if (op->code == RA_OP_FREE && e->pre_alive) {
		/* the block still holds what was written into it */
		struct eh *h = &e->h[op->h[0]];
		if (h->live && h->kind == EK_UCHUNK && h->pid == ev->pid && !verify_block(e, h->addr, h, h->size))
			efail(e, op, &e->r->bad_contents, "block '%s' (%" PRIu64 " bytes) changed while allocated",
			      e->t->names[op->h[0]], h->size);
	}
	e->timing = will_time(e, op);
	if (e->timing)
		e->t0 = bt_begin();              /* the last thing before the operation */
}

static void after(struct esim *e, const struct ra_replay_event *ev)
{
	if (e->timing) {
		uint64_t d = bt_end() - e->t0;   /* the first thing after it */
		e->r->lat[e->timed++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	}
	e->last = ev->op;
	if (ev->outcome > RA_OUTCOME_FAIL)
		return;                          /* the replay stops here */
	const struct ra_op *op = ev->op;
	if (op->code == RA_OP_CHECK && ev->outcome == RA_OUTCOME_FAIL)
		efail(e, op, &e->r->bad_contents, "check: engine invariant problems");
	else if (ra_op_side[op->code] == 'K')
		after_kernel(e, ev);
	else if (ra_op_side[op->code] == 'U' || op->code == RA_OP_TASK || op->code == RA_OP_SWITCH)
		after_user(e, ev);
	e->nops = ev->index + 1;
	if (e->ntasks)
		reap_dead(e);
	track_jw(e);
	sample(e, ev->index + 1, 0);
}

static void start(struct esim *e, ra_machine *m)
{
	static uint64_t scratch_ticks[4095];
	struct ra_machine_info mi;
	e->m = m;
	e->started = 1;
	ra_machine_info(m, &mi);
	e->totalram = mi.totalram_pages;
	e->boot_used = used_pages(e);
	slab_grow(e);
	bt_start(&e->clk, scratch_ticks);
	e->w0 = bt_mono_ns();
	sample(e, 0, 1);
}

/* The last look, with the machine still there. */
static void end(struct esim *e)
{
	struct bench_result *r = e->r;
	r->wall_ns = bt_mono_ns() - e->w0;
	if (e->o->time_ops)
		bt_finish(&e->clk);
	sample(e, e->nops, 1);
	r->nops = e->nops;
	r->end_foot = foot_now(e);
	for (uint32_t k = 0; k < e->ntasks; k++) {
		struct ra_task_info ti;
		struct ra_malloc_info mi;
		if (ra_task_info(e->m, e->tasks[k].pid, &ti) != RA_OK)
			continue;
		if (ti.hiwater_rss > e->tasks[k].rss0)
			r->peak_rss += (ti.hiwater_rss - e->tasks[k].rss0) << RA_PAGE_SHIFT;
		if (ti.alive && ra_malloc_info(e->m, e->tasks[k].pid, &mi) == RA_OK)
			r->mapped_peak += mi.max_system_bytes + mi.max_mmapped_bytes;
		r->minflt += ti.min_flt;
	}
}

static int hook(ra_machine *m, const struct ra_replay_event *ev, void *arg)
{
	struct esim *e = arg;
	switch (ev->point) {
	case RA_REPLAY_START:
		start(e, m);
		return 0;
	case RA_REPLAY_BEFORE:
		if (e->o->stop && *e->o->stop) {
			e->interrupted = 1;
			return 1;
		}
		before(e, ev);
		return 0;
	case RA_REPLAY_AFTER:
		after(e, ev);
		return 0;
	case RA_REPLAY_END:
		end(e);
		return 0;
	}
	return 0;
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

/* The replay's first error line, without the tool's prefix. */
static void first_error(const char *log, char *err, size_t errlen)
{
	const char *l = log ? strstr(log, ": error: ") : NULL;
	if (l)
		while (l > log && l[-1] != '\n')
			l--;
	else
		l = log && *log ? log : "the replay failed";
	if (!strncmp(l, "refalloc: ", 10))
		l += 10;
	snprintf(err, errlen, "%.*s", (int)strcspn(l, "\n"), l);
}

int bench_engine_run(const struct ra_trace *t, const struct bench_run_opts *o, struct bench_result *r,
                     char *err, size_t errlen)
{
	struct esim e = { .t = t, .o = o, .r = r };
	memset(r, 0, sizeof(*r));
	snprintf(r->alloc, sizeof(r->alloc), "engine");
	r->conform_ok = -1;
	r->timer = BT_NAME;
	err[0] = 0;
	e.user_mode = bench_trace_is_user(t);
	r->foot_kind = e.user_mode ? "simulated RSS of the tasks (pages touched above their start)"
	                           : "machine pages in use above boot (incl. per-cpu lists)";
	e.h = calloc(t->nnames + 1, sizeof(*e.h));
	uint64_t ntimed = 0;
	for (uint32_t i = 0; i < t->nops; i++)
		ntimed += is_timed(t->ops[i].code);
	r->lat = malloc((ntimed + 1) * sizeof(uint32_t));
	if (!e.h || !r->lat)
		exit(70);
	e.every = o->sample_every ? o->sample_every : (t->nops / 2000 ? t->nops / 2000 : 1);

	/* the replay: knobs and slub_debug as at boot, no checks, views
	 * nowhere, what goes wrong kept for the message */
	char *log = NULL;
	size_t loglen = 0;
	FILE *logf = open_memstream(&log, &loglen);
	struct ra_replay_opts ro;
	ra_replay_opts_default(&ro);
	ro.check = RA_CHECK_OFF;
	ro.out = NULL;
	ro.err = logf;
	ro.sets = o->sets;
	ro.nsets = o->nsets;
	ro.slub_debug = o->slub_debug;
	ro.hook = hook;
	ro.hook_arg = &e;
	int x = ra_replay(t, &ro);
	if (logf)
		fclose(logf);

	int ret = 0;
	if (!e.started) {
		first_error(log, err, errlen);          /* no machine: a bad knob, slub_debug or machine line */
		ret = -1;
	} else if (e.interrupted)
		ret = -2;
	else if (x == RA_EXIT_PANIC) {
		bench_op_error(err, errlen, t, e.last, "the simulated kernel panicked");
		ret = -1;
	} else if (x != RA_EXIT_OK && x != RA_EXIT_FAIL) {
		first_error(log, err, errlen);          /* a trace error, a host failure */
		ret = -1;
	}
	free(log);
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
	if (!e.user_mode)
		r->peak_rss = e.peak_foot;
	if (e.failed)
		r->conform_ok = 0;
	free(e.h);
	free(e.tasks);
	free(e.slab_live);
	free(e.slab_req);
	free(e.buf);
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
