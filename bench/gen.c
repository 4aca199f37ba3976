/*
 * gen.c — seeded, deterministic workload generators.  Each builds a trace
 * through the trace API (ra_trace_add), so a workload is an ordinary text
 * trace: `refalloc bench gen W` prints it, `refalloc replay` runs it, and the
 * bench replays it against the engine and the real allocators alike.
 *
 * Time is the operation count.  Objects get a death time when they are
 * born; a min-heap hands them back in order, so lifetimes follow the
 * distribution each workload names.  Handle names are recycled once freed
 * (the format allows it), which keeps traces short.
 *
 * User side ('U', replayable on real allocators): size distributions
 * (uniform, power-of-two classes, Pareto, a mix fitted to corpus/real), the
 * lifetime patterns of Wilson et al.'s survey (ramp, peak, plateau),
 * producer/consumer between threads (remote frees), a long-running server,
 * and the seeds' trim/mmap-threshold example.  Kernel side ('K'): slab churn
 * of task_struct-like caches, kmalloc mixes, vmalloc, a fragmenting load
 * followed by high-order attempts (mmtests' stress-highalloc), OOM.
 */
#include "bench.h"
#include "fitted.h"
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

struct death { uint64_t when; uint32_t id; };

struct gen {
	struct ra_trace *t;
	struct bench_rng r;
	double scale;
	/* handle ids: recycled; id -> trace name id */
	uint32_t *freeid, nfree, capfree, nextid;
	uint32_t *nameid, capname;
	/* per id: size, owning thread, position in live[] */
	uint64_t *size;
	uint32_t *pos;
	uint16_t *owner;
	uint32_t *live, nlive;
	uint32_t cap;                 /* of size/pos/owner/live/nameid */
	struct death *heap;
	uint32_t nheap, capheap;
	uint64_t now;
	uint32_t task;                /* name id of the task handle */
	int cur_tid;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "refalloc bench: out of memory\n");
		exit(70);
	}
	return q;
}

static uint32_t n_of(struct gen *g, double base)
{
	double v = base * g->scale;
	return v < 1 ? 1 : (uint32_t)v;
}

/* === handle ids ========================================================= */

static void grow_ids(struct gen *g, uint32_t need)
{
	if (need < g->cap)
		return;
	uint32_t cap = g->cap ? g->cap : 1024;
	while (cap <= need)
		cap *= 2;
	g->size = xrealloc(g->size, cap * sizeof(*g->size));
	g->pos = xrealloc(g->pos, cap * sizeof(*g->pos));
	g->owner = xrealloc(g->owner, cap * sizeof(*g->owner));
	g->live = xrealloc(g->live, cap * sizeof(*g->live));
	g->nameid = xrealloc(g->nameid, cap * sizeof(*g->nameid));
	for (uint32_t i = g->cap; i < cap; i++)
		g->nameid[i] = RA_NONAME;
	g->cap = cap;
}

static uint32_t id_new(struct gen *g)
{
	uint32_t id = g->nfree ? g->freeid[--g->nfree] : g->nextid++;
	grow_ids(g, id + 1);
	if (g->nameid[id] == RA_NONAME) {
		char b[24];
		int n = snprintf(b, sizeof(b), "h%u", id);
		g->nameid[id] = ra_trace_name(g->t, b, (size_t)n);
	}
	g->pos[id] = g->nlive;
	g->live[g->nlive++] = id;
	g->owner[id] = (uint16_t)g->cur_tid;
	return id;
}

static void id_put(struct gen *g, uint32_t id)
{
	uint32_t p = g->pos[id], last = g->live[--g->nlive];
	g->live[p] = last;
	g->pos[last] = p;
	g->pos[id] = UINT32_MAX;
	if (g->nfree == g->capfree) {
		g->capfree = g->capfree ? g->capfree * 2 : 1024;
		g->freeid = xrealloc(g->freeid, g->capfree * sizeof(*g->freeid));
	}
	/* LIFO reuse, as a program reuses its variables */
	g->freeid[g->nfree++] = id;
}

static int id_live(struct gen *g, uint32_t id) { return id < g->cap && g->pos[id] != UINT32_MAX && g->pos[id] < g->nlive && g->live[g->pos[id]] == id; }

static uint32_t random_live(struct gen *g) { return g->live[bench_rng_below(&g->r, g->nlive)]; }

/* === deaths ============================================================= */

static int dless(const struct death *a, const struct death *b) { return a->when < b->when || (a->when == b->when && a->id < b->id); }

static void die_at(struct gen *g, uint32_t id, uint64_t when)
{
	if (g->nheap == g->capheap) {
		g->capheap = g->capheap ? g->capheap * 2 : 1024;
		g->heap = xrealloc(g->heap, g->capheap * sizeof(*g->heap));
	}
	uint32_t i = g->nheap++;
	g->heap[i] = (struct death){ when, id };
	while (i && dless(&g->heap[i], &g->heap[(i - 1) / 2])) {
		struct death x = g->heap[i];
		g->heap[i] = g->heap[(i - 1) / 2];
		g->heap[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

static int pop_due(struct gen *g, uint64_t now, uint32_t *id)
{
	if (!g->nheap || g->heap[0].when > now)
		return 0;
	*id = g->heap[0].id;
	g->heap[0] = g->heap[--g->nheap];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < g->nheap && dless(&g->heap[l], &g->heap[m])) m = l;
		if (r < g->nheap && dless(&g->heap[r], &g->heap[m])) m = r;
		if (m == i)
			break;
		struct death x = g->heap[i];
		g->heap[i] = g->heap[m];
		g->heap[m] = x;
		i = m;
	}
	return 1;
}

/* === emitting operations ================================================ */

static struct ra_op *op(struct gen *g, enum ra_opcode code)
{
	g->now++;
	return ra_trace_add(g->t, code);
}

static void machine(struct gen *g, uint64_t mem, unsigned cpus)
{
	g->t->has_machine = 1;
	g->t->cfg.mem = mem;
	g->t->cfg.cpus = cpus;
	op(g, RA_OP_MACHINE);
}

static void task(struct gen *g, const char *name, const char *handle, int adj)
{
	struct ra_op *o = op(g, RA_OP_TASK);
	o->str = ra_trace_str(g->t, name, strlen(name));
	o->out = ra_trace_name(g->t, handle, strlen(handle));
	if (adj) {
		o->a[0] = adj;
		o->flags |= RA_OPF_HAS_ADJ;
	}
	g->task = o->out;
	g->cur_tid = 0;
}

static void thread(struct gen *g, int tid)
{
	if (tid == g->cur_tid)
		return;
	struct ra_op *o = op(g, RA_OP_SWITCH);
	o->h[0] = g->task;
	o->a[0] = tid;
	g->cur_tid = tid;
}

static void mallopt_op(struct gen *g, int param, int64_t value)
{
	struct ra_op *o = op(g, RA_OP_MALLOPT);
	o->a[0] = param;
	o->a[1] = value;
}

static uint32_t u_malloc(struct gen *g, uint64_t size)
{
	uint32_t id = id_new(g);
	struct ra_op *o = op(g, RA_OP_MALLOC);
	o->a[0] = (int64_t)size;
	o->out = g->nameid[id];
	g->size[id] = size;
	return id;
}

static uint32_t u_calloc(struct gen *g, uint64_t n, uint64_t size)
{
	uint32_t id = id_new(g);
	struct ra_op *o = op(g, RA_OP_CALLOC);
	o->a[0] = (int64_t)n;
	o->a[1] = (int64_t)size;
	o->out = g->nameid[id];
	g->size[id] = n * size;
	return id;
}

static uint32_t u_memalign(struct gen *g, uint64_t align, uint64_t size)
{
	uint32_t id = id_new(g);
	struct ra_op *o = op(g, RA_OP_MEMALIGN);
	o->a[0] = (int64_t)align;
	o->a[1] = (int64_t)size;
	o->out = g->nameid[id];
	g->size[id] = size;
	return id;
}

static void u_realloc(struct gen *g, uint32_t id, uint64_t size)
{
	struct ra_op *o = op(g, RA_OP_REALLOC);
	o->h[0] = o->out = g->nameid[id];
	o->a[0] = (int64_t)size;
	g->size[id] = size;
}

static void u_free(struct gen *g, uint32_t id)
{
	struct ra_op *o = op(g, RA_OP_FREE);
	o->h[0] = g->nameid[id];
	id_put(g, id);
}

static void u_touch(struct gen *g, uint32_t id)
{
	struct ra_op *o = op(g, RA_OP_TOUCH);
	o->h[0] = g->nameid[id];
}

/* Free every live object, owners first in id order (deterministic). */
static void u_free_all(struct gen *g)
{
	while (g->nlive) {
		uint32_t id = g->live[g->nlive - 1];
		thread(g, g->owner[id]);
		u_free(g, id);
	}
	g->nheap = 0;
}

/* Free what is due at g->now (owner thread unless remote). */
static void u_reap(struct gen *g)
{
	uint32_t id;
	while (pop_due(g, g->now, &id))
		if (id_live(g, id)) {
			thread(g, g->owner[id]);
			u_free(g, id);
		}
}

/* --- kernel side --- */

static uint32_t k_bind(struct gen *g, struct ra_op *o, uint64_t size)
{
	uint32_t id = id_new(g);
	o->out = g->nameid[id];
	g->size[id] = size;
	return id;
}

static uint32_t k_pages(struct gen *g, ra_gfp_t gfp, unsigned order)
{
	struct ra_op *o = op(g, RA_OP_ALLOC_PAGES);
	o->gfp = gfp;
	o->a[0] = order;
	return k_bind(g, o, RA_PAGE_SIZE << order);
}

static uint32_t k_kmalloc(struct gen *g, uint64_t size, ra_gfp_t gfp)
{
	struct ra_op *o = op(g, RA_OP_KMALLOC);
	o->gfp = gfp;
	o->a[0] = (int64_t)size;
	return k_bind(g, o, size);
}

static uint32_t k_vmalloc(struct gen *g, uint64_t size, int zero)
{
	struct ra_op *o = op(g, zero ? RA_OP_VZALLOC : RA_OP_VMALLOC);
	o->a[0] = (int64_t)size;
	return k_bind(g, o, size);
}

static uint32_t k_cache(struct gen *g, const char *name, uint64_t size, uint64_t align, uint32_t flags)
{
	struct ra_op *o = op(g, RA_OP_CACHE_CREATE);
	o->str = ra_trace_str(g->t, name, strlen(name));
	o->a[0] = (int64_t)size;
	if (align) {
		o->a[1] = (int64_t)align;
		o->flags |= RA_OPF_HAS_ALIGN;
	}
	o->a[2] = flags;
	char h[64];
	int n = snprintf(h, sizeof(h), "c_%s", name);
	o->out = ra_trace_name(g->t, h, (size_t)n);
	return o->out;
}

static uint32_t k_cache_alloc(struct gen *g, uint32_t cache, uint64_t size, ra_gfp_t gfp)
{
	struct ra_op *o = op(g, RA_OP_CACHE_ALLOC);
	o->h[0] = cache;
	o->gfp = gfp;
	return k_bind(g, o, size);
}

static void k_cache_free(struct gen *g, uint32_t cache, uint32_t id)
{
	struct ra_op *o = op(g, RA_OP_CACHE_FREE);
	o->h[0] = cache;
	o->h[1] = g->nameid[id];
	id_put(g, id);
}

static void k_free(struct gen *g, enum ra_opcode code, uint32_t id)
{
	struct ra_op *o = op(g, code);
	o->h[0] = g->nameid[id];
	id_put(g, id);
}

/* === user-side workloads ================================================= */

static void user_header(struct gen *g, uint64_t mem)
{
	machine(g, mem, 2);
	task(g, "bench", "t", 0);
}

/* A steady churn: N allocations of sizes from fn, exponential lifetimes.
 * Like the other long-running workloads it ends with its live set still
 * allocated, as a program does when it exits: a teardown would make the
 * peak of a non-returning allocator's memory fall where nothing is live. */
static void churn(struct gen *g, uint32_t n, double mean_life, uint64_t (*size)(struct gen *))
{
	for (uint32_t i = 0; i < n; i++) {
		u_reap(g);
		uint32_t id = u_malloc(g, size(g));
		die_at(g, id, g->now + 1 + (uint64_t)bench_rng_exp(&g->r, mean_life));
	}
}

static uint64_t sz_uniform(struct gen *g) { return bench_rng_range(&g->r, 16, 4096); }
static uint64_t sz_pow2(struct gen *g) { return 1ULL << bench_rng_range(&g->r, 3, 16); }
static uint64_t sz_pareto(struct gen *g) { return bench_rng_pareto(&g->r, 16, 1.2, 16 << 20); }

static void w_uniform(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	churn(g, n_of(g, 60000), 5000, sz_uniform);
}

static void w_pow2(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	churn(g, n_of(g, 60000), 2000, sz_pow2);
}

static void w_pareto(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	churn(g, n_of(g, 80000), 5000, sz_pareto);
}

/* The mix fitted to the recorded traces (fitted.h, `refalloc bench fit`):
 * joint (size class, lifetime class) weights, and how often allocations
 * are callocs, reallocs and memaligns. */
static void w_fitted(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	uint64_t total = 0;
	for (size_t i = 0; i < sizeof(fit_buckets) / sizeof(fit_buckets[0]); i++)
		total += fit_buckets[i].weight;
	uint32_t n = n_of(g, 80000);
	for (uint32_t i = 0; i < n; i++) {
		u_reap(g);
		uint64_t x = bench_rng_below(&g->r, total);
		size_t b = 0;
		while (x >= fit_buckets[b].weight) {
			x -= fit_buckets[b].weight;
			b++;
		}
		const struct fit_bucket *fb = &fit_buckets[b];
		uint64_t size = bench_rng_logu(&g->r, fb->lo, fb->hi);
		uint32_t kind = (uint32_t)bench_rng_below(&g->r, 1000), id;
		if (kind < fit_calloc_pm)
			id = u_calloc(g, 1, size);
		else if (kind < fit_calloc_pm + fit_memalign_pm)
			id = u_memalign(g, 64, size);
		else
			id = u_malloc(g, size);
		if (bench_rng_below(&g->r, 1000) < fit_realloc_pm)
			u_realloc(g, id, size + bench_rng_logu(&g->r, 1, size + 16));
		if (fb->life_hi)
			die_at(g, id, g->now + bench_rng_logu(&g->r, fb->life_lo, fb->life_hi));
	}

}

/* Wilson's ramp: live memory grows steadily (a structure built up and kept),
 * with short-lived temporaries on the side. */
static void w_ramp(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	uint32_t n = n_of(g, 60000);
	for (uint32_t i = 0; i < n; i++) {
		u_reap(g);
		uint32_t id = u_malloc(g, bench_rng_logu(&g->r, 16, 1024));
		if (bench_rng_below(&g->r, 100) < 15)
			die_at(g, id, g->now + 1 + (uint64_t)bench_rng_exp(&g->r, 200));
	}

}

/* Wilson's peaks: phases that build a large structure and drop it, each
 * leaving a few survivors behind, with a different size mix per phase. */
static void w_peak(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	uint32_t per = n_of(g, 25000);
	uint32_t *phase = xrealloc(NULL, per * sizeof(uint32_t));
	for (int ph = 0; ph < 6; ph++) {
		uint64_t lo = (ph & 1) ? 256 : 16, hi = (ph & 1) ? 8192 : 512;
		uint32_t np = 0;
		for (uint32_t i = 0; i < per; i++) {
			uint32_t id = u_malloc(g, bench_rng_logu(&g->r, lo, hi));
			if (bench_rng_below(&g->r, 100) >= 3)
				phase[np++] = id;
		}
		/* drop the phase's structure in random order */
		for (uint32_t i = np; i > 1; i--) {
			uint32_t j = (uint32_t)bench_rng_below(&g->r, i), x = phase[i - 1];
			phase[i - 1] = phase[j];
			phase[j] = x;
		}
		for (uint32_t i = 0; i < np; i++)
			u_free(g, phase[i]);
	}
	free(phase);

}

/* Wilson's plateau: a quick ramp to a live set that is then churned for a
 * long time (a random victim replaced by a new object of random size). */
static void w_plateau(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	uint32_t n = n_of(g, 30000), steps = n_of(g, 90000);
	for (uint32_t i = 0; i < n; i++)
		u_malloc(g, bench_rng_logu(&g->r, 16, 4096));
	for (uint32_t i = 0; i < steps; i++) {
		u_free(g, random_live(g));
		u_malloc(g, bench_rng_logu(&g->r, 16, 4096));
	}

}

/* Producer/consumer: producers (threads 1, 2) allocate messages in batches;
 * consumers (threads 3, 4) free them (remote frees) and churn small
 * temporaries of their own. */
static void w_prodcons(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	uint32_t msgs = n_of(g, 60000), made = 0;
	uint32_t qcap = 4096, qh = 0, qt = 0;      /* FIFO of message ids */
	uint32_t *q = xrealloc(NULL, qcap * sizeof(uint32_t));
	while (made < msgs || qh != qt) {
		uint32_t depth = (qt - qh) & (qcap - 1);
		if (made < msgs && depth < 1024) {
			thread(g, 1 + (int)bench_rng_below(&g->r, 2));
			for (int b = 0; b < 32 && made < msgs; b++, made++) {
				uint64_t sz = bench_rng_below(&g->r, 50) ? bench_rng_logu(&g->r, 32, 2048) : 16384;
				q[qt] = u_malloc(g, sz);
				qt = (qt + 1) & (qcap - 1);
			}
		}
		if (depth >= 256 || made >= msgs) {
			thread(g, 3 + (int)bench_rng_below(&g->r, 2));
			for (int b = 0; b < 32 && qh != qt; b++) {
				uint32_t tmp = u_malloc(g, bench_rng_logu(&g->r, 64, 512));
				u_free(g, q[qh]);
				qh = (qh + 1) & (qcap - 1);
				u_free(g, tmp);
			}
		}
	}
	free(q);

}

/* A long-running server: four workers handle requests (a buffer, header
 * strings, a body grown by realloc, a response, all freed at the end of
 * the request), sessions live long, and an LRU cache of results is shared
 * by all workers, so evictions are often remote frees. */
static void w_server(void *p)
{
	struct gen *g = p;
	user_header(g, 2ULL << 30);
	uint32_t reqs = n_of(g, 5000);
	uint32_t ccap = 2048, ch = 0, ct = 0, scap = 512, sh = 0, st = 0;
	uint32_t *cache = xrealloc(NULL, ccap * sizeof(uint32_t));
	uint32_t *sess = xrealloc(NULL, scap * sizeof(uint32_t));
	uint32_t tmp[64];
	for (uint32_t r = 0; r < reqs; r++) {
		thread(g, (int)bench_rng_below(&g->r, 4));
		int nt = 0;
		tmp[nt++] = u_malloc(g, bench_rng_logu(&g->r, 4096, 16384));
		int nh = (int)bench_rng_range(&g->r, 8, 30);
		for (int i = 0; i < nh; i++)
			tmp[nt++] = u_malloc(g, bench_rng_logu(&g->r, 16, 128));
		uint32_t body = u_malloc(g, 256);
		uint64_t want = bench_rng_pareto(&g->r, 256, 1.3, 256 << 10), have = 256;
		while (have < want) {
			have = have * 2 < want ? have * 2 : want;
			u_realloc(g, body, have);
		}
		tmp[nt++] = body;
		tmp[nt++] = u_malloc(g, bench_rng_logu(&g->r, 1024, 65536));
		if (bench_rng_below(&g->r, 100) < 30) {
			if (((ct + 1) & (ccap - 1)) == ch || ((ct - ch) & (ccap - 1)) >= 2000) {
				uint32_t v = cache[ch];
				ch = (ch + 1) & (ccap - 1);
				u_free(g, v);             /* whoever evicts frees: often remote */
			}
			cache[ct] = u_malloc(g, bench_rng_logu(&g->r, 1024, 32768));
			ct = (ct + 1) & (ccap - 1);
		}
		if (bench_rng_below(&g->r, 100) < 2) {
			if (((st - sh) & (scap - 1)) >= 400) {
				u_free(g, sess[sh]);
				sh = (sh + 1) & (scap - 1);
			}
			sess[st] = u_malloc(g, bench_rng_logu(&g->r, 512, 2048));
			st = (st + 1) & (scap - 1);
		}
		/* end of request: mostly LIFO */
		while (nt)
			u_free(g, tmp[--nt]);
	}
	free(cache);
	free(sess);

}

/* The seeds' real-time example and its converse: a 100 MB block and an
 * 80 MB heap of 2 KiB blocks, each touched and freed.  With
 * M_TRIM_THRESHOLD -1 and M_MMAP_MAX 0 (trim-keep) the memory stays with
 * the process; with the defaults (trim) the block is unmapped and the top
 * of the heap trimmed. */
static void trim_common(struct gen *g, int keep)
{
	user_header(g, 2ULL << 30);
	if (keep) {
		mallopt_op(g, -1, -1);     /* M_TRIM_THRESHOLD */
		mallopt_op(g, -4, 0);      /* M_MMAP_MAX */
	}
	for (int i = 0; i < 200; i++)
		u_free(g, u_malloc(g, 64));
	uint32_t big = u_malloc(g, 100ULL << 20);
	u_touch(g, big);
	for (int i = 0; i < 500; i++)
		u_free(g, u_malloc(g, 64));
	u_free(g, big);
	for (int i = 0; i < 500; i++)
		u_free(g, u_malloc(g, 64));
	uint32_t n = n_of(g, 40000);
	uint32_t *ids = xrealloc(NULL, n * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		ids[i] = u_malloc(g, 2048);
	for (uint32_t i = n; i > 0; i--)
		u_free(g, ids[i - 1]);
	free(ids);
	for (int i = 0; i < 2000; i++)
		u_free(g, u_malloc(g, 64));
}

static void w_trim(void *p) { trim_common(p, 0); }
static void w_trim_keep(void *p) { trim_common(p, 1); }

/* === kernel-side workloads =============================================== */


/* Slab churn of task_struct-like caches: processes are forked (a
 * task_struct, its cred, pid, signal, sighand, files, mm and a vmalloc'd
 * kernel stack, plus VMAs) and exit after exponential lifetimes; living
 * processes map and unmap VMAs. */
enum { KC_TASK, KC_MM, KC_VMA, KC_SIG, KC_SIGH, KC_FILES, KC_CRED, KC_PID, KC_AV, KC_AVC, KC_NR };

struct proc { uint32_t obj[KC_NR - 2]; uint32_t stack; uint32_t vma[48]; uint32_t avc[48]; int nvma; uint8_t live; };

static void w_slabchurn(void *p)
{
	struct gen *g = p;
	machine(g, 512ULL << 20, 2);
	static const struct { const char *name; uint32_t size, align, flags; } defs[KC_NR] = {
		[KC_TASK] = { "task_struct", 9792, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT },
		[KC_MM] = { "mm_struct", 1088, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT },
		[KC_VMA] = { "vm_area_struct", 176, 0, RA_SLAB_ACCOUNT },
		[KC_SIG] = { "signal_cache", 1072, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT },
		[KC_SIGH] = { "sighand_cache", 2088, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_TYPESAFE_BY_RCU | RA_SLAB_ACCOUNT },
		[KC_FILES] = { "files_cache", 704, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT },
		[KC_CRED] = { "cred_jar", 176, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT },
		[KC_PID] = { "pid", 136, 64, RA_SLAB_HWCACHE_ALIGN | RA_SLAB_ACCOUNT },
		[KC_AV] = { "anon_vma", 104, 0, RA_SLAB_TYPESAFE_BY_RCU | RA_SLAB_ACCOUNT },
		[KC_AVC] = { "anon_vma_chain", 64, 0, RA_SLAB_ACCOUNT },
	};
	uint32_t c[KC_NR];
	for (int i = 0; i < KC_NR; i++)
		c[i] = k_cache(g, defs[i].name, defs[i].size, defs[i].align, defs[i].flags);
	uint32_t nproc = 1024, spawns = n_of(g, 5000);
	struct proc *pr = calloc(nproc, sizeof(*pr));
	uint64_t *death = calloc(nproc, sizeof(*death));
	if (!pr || !death)
		exit(70);
	for (uint32_t s = 0; s < spawns; s++) {
		/* exits due now */
		for (uint32_t i = 0; i < nproc; i++) {
			struct proc *x = &pr[i];
			if (!x->live || death[i] > s)
				continue;
			for (int v = x->nvma - 1; v >= 0; v--) {
				k_cache_free(g, c[KC_AVC], x->avc[v]);
				k_cache_free(g, c[KC_VMA], x->vma[v]);
			}
			k_free(g, RA_OP_VFREE, x->stack);
			for (int k = KC_NR - 3; k >= 0; k--)
				k_cache_free(g, c[k], x->obj[k]);
			x->live = 0;
		}
		/* a living process maps or unmaps */
		for (int k = 0; k < 3; k++) {
			struct proc *x = &pr[bench_rng_below(&g->r, nproc)];
			if (!x->live)
				continue;
			if (x->nvma < 48 && bench_rng_below(&g->r, 2)) {
				x->vma[x->nvma] = k_cache_alloc(g, c[KC_VMA], 176, RA_GFP_KERNEL);
				x->avc[x->nvma] = k_cache_alloc(g, c[KC_AVC], 64, RA_GFP_KERNEL);
				x->nvma++;
			} else if (x->nvma > 4) {
				uint32_t v = (uint32_t)bench_rng_below(&g->r, (uint64_t)x->nvma);
				k_cache_free(g, c[KC_AVC], x->avc[v]);
				k_cache_free(g, c[KC_VMA], x->vma[v]);
				x->nvma--;
				x->vma[v] = x->vma[x->nvma];
				x->avc[v] = x->avc[x->nvma];
			}
		}
		/* fork */
		uint32_t slot = (uint32_t)bench_rng_below(&g->r, nproc);
		if (pr[slot].live)
			continue;
		struct proc *x = &pr[slot];
		for (int k = 0; k < KC_NR - 2; k++)
			x->obj[k] = k_cache_alloc(g, c[k], defs[k].size, RA_GFP_KERNEL);
		x->stack = k_vmalloc(g, 16384, 0);
		x->nvma = (int)bench_rng_range(&g->r, 4, 40);
		for (int v = 0; v < x->nvma; v++) {
			x->vma[v] = k_cache_alloc(g, c[KC_VMA], 176, RA_GFP_KERNEL);
			x->avc[v] = k_cache_alloc(g, c[KC_AVC], 64, RA_GFP_KERNEL);
		}
		x->live = 1;
		death[slot] = bench_rng_below(&g->r, 100) < 5 ? UINT64_MAX
		              : s + 1 + (uint64_t)bench_rng_exp(&g->r, 400);
		if (s % 1000 == 999)
			for (int k = 0; k < KC_NR; k++) {
				struct ra_op *o = op(g, RA_OP_CACHE_SHRINK);
				o->h[0] = c[k];
			}
	}
	free(pr);
	free(death);
}

/* kmalloc mixes: mostly small objects, a tail of large ones that go to the
 * page allocator, GFP_KERNEL with some GFP_ATOMIC and GFP_NOWAIT, krealloc
 * growth now and then. */
static uint64_t kmalloc_size(struct gen *g)
{
	uint64_t x = bench_rng_below(&g->r, 100);
	if (x < 45) return 1ULL << bench_rng_range(&g->r, 3, 6);
	if (x < 70) return bench_rng_range(&g->r, 65, 256);
	if (x < 85) return bench_rng_range(&g->r, 257, 1024);
	if (x < 95) return bench_rng_range(&g->r, 1025, 8192);
	return bench_rng_logu(&g->r, 8193, 131072);
}

static void w_kmalloc(void *p)
{
	struct gen *g = p;
	machine(g, 512ULL << 20, 2);
	uint32_t n = n_of(g, 80000);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id;
		while (pop_due(g, g->now, &id))
			if (id_live(g, id))
				k_free(g, RA_OP_KFREE, id);
		uint64_t x = bench_rng_below(&g->r, 100);
		ra_gfp_t gfp = x < 85 ? RA_GFP_KERNEL : x < 95 ? RA_GFP_ATOMIC : (RA_GFP_NOWAIT | RA___GFP_NOWARN);
		if (i % 50 == 0) {
			struct ra_op *o = op(g, RA_OP_CPU);
			o->a[0] = bench_rng_below(&g->r, 2);
		}
		id = k_kmalloc(g, kmalloc_size(g), gfp);
		if (bench_rng_below(&g->r, 100) < 3) {
			struct ra_op *o = op(g, RA_OP_KREALLOC);
			o->h[0] = o->out = g->nameid[id];
			g->size[id] = g->size[id] * 2 + 8;
			o->a[0] = (int64_t)g->size[id];
			o->gfp = RA_GFP_KERNEL;
		}
		die_at(g, id, g->now + 1 + (uint64_t)bench_rng_exp(&g->r, 3000));
	}
}

/* vmalloc churn: areas of 4 KiB .. 4 MiB with lifetimes, some vzalloc, a
 * little kmalloc noise in between. */
static void w_vmalloc(void *p)
{
	struct gen *g = p;
	machine(g, 1ULL << 30, 2);
	uint32_t n = n_of(g, 20000);
	uint8_t *isv = calloc(1, 1 << 20);
	if (!isv)
		exit(70);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id;
		while (pop_due(g, g->now, &id))
			if (id_live(g, id))
				k_free(g, isv[id & 0xfffff] ? RA_OP_VFREE : RA_OP_KFREE, id);
		uint64_t size = bench_rng_logu(&g->r, 4096, 4 << 20);
		id = k_vmalloc(g, size, bench_rng_below(&g->r, 5) == 0);
		isv[id & 0xfffff] = 1;
		die_at(g, id, g->now + 1 + (uint64_t)bench_rng_exp(&g->r, 600));
		if (bench_rng_below(&g->r, 2)) {
			id = k_kmalloc(g, kmalloc_size(g), RA_GFP_KERNEL);
			isv[id & 0xfffff] = 0;
			die_at(g, id, g->now + 1 + (uint64_t)bench_rng_exp(&g->r, 600));
		}
	}
	free(isv);
}

/* stress-highalloc: fill most of memory with a mix of movable pages (page
 * cache and anonymous memory), reclaimable slab (dentries), unmovable
 * kmalloc and page allocations, free a random part of it (fragmenting),
 * then attempt 160 order-9 allocations while the load goes on.  `tagged`
 * says whether allocations carry their mobility (GFP_HIGHUSER_MOVABLE,
 * SLAB_RECLAIM_ACCOUNT) or all look unmovable, as before grouping by
 * mobility existed. */
enum { HK_MOV, HK_UNMOV, HK_SLAB };

static void highalloc(struct gen *g, int tagged)
{
	/* the machine shrinks with --scale so a quick run is as full as a long one */
	uint64_t mem = (uint64_t)(512.0 * g->scale) << 20;
	mem = mem < (64ULL << 20) ? 64ULL << 20 : mem & ~((4ULL << 20) - 1);
	machine(g, mem, 2);
	uint32_t dentry = k_cache(g, "dentry", 192, 0, tagged ? RA_SLAB_RECLAIM_ACCOUNT : 0);
	uint8_t *kind = calloc(1, 1 << 21);
	if (!kind)
		exit(70);
	ra_gfp_t movable = tagged ? RA_GFP_HIGHUSER_MOVABLE : RA_GFP_KERNEL;
	/* fill to about 88% of memory (an estimate of the pages each allocation
	 * costs), short of the watermarks, so nothing needs the OOM killer */
	double pages = 0, target = 0.88 * (double)(mem >> RA_PAGE_SHIFT);
	while (pages < target) {
		uint64_t x = bench_rng_below(&g->r, 100);
		uint32_t id;
		if (x < 70) {
			id = k_pages(g, movable, 0);
			kind[id] = HK_MOV;
			pages += 1;
		} else if (x < 82) {
			id = k_cache_alloc(g, dentry, 192, RA_GFP_KERNEL);
			kind[id] = HK_SLAB;
			pages += 192.0 / 4096;
		} else if (x < 97) {
			uint64_t sz = bench_rng_logu(&g->r, 256, 4096);
			id = k_kmalloc(g, sz, RA_GFP_KERNEL);
			kind[id] = HK_UNMOV;
			pages += (double)sz / 4096;
		} else {
			unsigned order = (unsigned)bench_rng_below(&g->r, 3);
			id = k_pages(g, RA_GFP_KERNEL, order);
			kind[id] = HK_UNMOV + 8;       /* unmovable pages */
			pages += (double)(1u << order);
		}
	}
	/* fragment: free 60% of the movable pages, 40% of the rest */
	for (uint32_t i = 0; i < g->nlive;) {
		uint32_t id = g->live[i];
		uint64_t pct = kind[id] == HK_MOV ? 60 : 40;
		if (bench_rng_below(&g->r, 100) >= pct) {
			i++;
			continue;
		}
		if (kind[id] == HK_MOV || kind[id] == HK_UNMOV + 8)
			k_free(g, RA_OP_FREE_PAGES, id);
		else if (kind[id] == HK_SLAB)
			k_cache_free(g, dentry, id);
		else
			k_free(g, RA_OP_KFREE, id);
		/* id_put moved the last live id to i: look at i again */
	}
	/* order-9 attempts (160 on the full 512 MiB machine) under continuing
	 * load, with reclaim: before each attempt the page cache (movable
	 * pages, old and new) loses a share, so that it is all gone after three
	 * quarters of the attempts, while 20 new movable pages come per
	 * attempt.  The engine models no compaction: freeing is the only way
	 * blocks come back together, and with grouping by mobility the
	 * unmovable rest sits in few pageblocks.  The load's allocations may
	 * fail quietly once the successes have eaten memory (there is no task
	 * for an OOM killer to kill). */
	uint32_t attempts = n_of(g, 160), nmov = 0;
	uint32_t *mov = calloc(g->nlive + 20ULL * attempts + 1, sizeof(uint32_t));
	if (!mov)
		exit(70);
	for (uint32_t i = 0; i < g->nlive; i++)
		if (kind[g->live[i]] == HK_MOV)
			mov[nmov++] = g->live[i];
	uint32_t reclaim = (uint32_t)(nmov / (0.75 * attempts)) + 21;
	for (uint32_t a = 0; a < attempts; a++) {
		for (uint32_t k = 0; k < reclaim && nmov; k++) {
			uint32_t j = (uint32_t)bench_rng_below(&g->r, nmov), id = mov[j];
			mov[j] = mov[--nmov];
			k_free(g, RA_OP_FREE_PAGES, id);
		}
		for (int k = 0; k < 20; k++) {
			uint32_t id = k_pages(g, movable | RA___GFP_NORETRY | RA___GFP_NOWARN, 0);
			kind[id] = HK_MOV;
			mov[nmov++] = id;
		}
		uint32_t id = k_pages(g, (tagged ? RA_GFP_HIGHUSER_MOVABLE : RA_GFP_KERNEL) |
		                         RA___GFP_NORETRY | RA___GFP_NOWARN, 9);
		kind[id] = 200;                       /* kept, as stress-highalloc does */
	}
	free(mov);
	free(kind);
}

static void w_highalloc(void *p) { highalloc(p, 1); }
static void w_highalloc_untagged(void *p) { highalloc(p, 0); }

/* OOM: five tasks on a 128 MiB machine each map and touch 256 KiB blocks
 * until memory runs out and the OOM killer chooses. */
static void w_oom(void *p)
{
	struct gen *g = p;
	machine(g, 128ULL << 20, 2);
	static const int adj[5] = { 0, 0, 300, -500, 0 };
	uint32_t th[5];
	for (unsigned i = 0; i < 5; i++) {
		char name[16] = "worker0", h[8] = "t0";
		name[6] = h[1] = (char)('0' + i);
		task(g, name, h, adj[i]);
		th[i] = g->task;
	}
	for (int round = 0; round < 200; round++)
		for (int i = 0; i < 5; i++) {
			struct ra_op *o = op(g, RA_OP_SWITCH);
			o->h[0] = th[i];
			uint32_t id = u_malloc(g, 256 << 10);
			u_touch(g, id);
		}
}

/* The conformance trace of the engine's malloc (bench_engine_conform): the
 * checks of bench/conform.c as a trace; esim verifies alignment, usable
 * size, calloc zeroes and contents (verify_full). */
static void w_conform(void *p)
{
	struct gen *g = p;
	user_header(g, 1ULL << 30);
	for (uint64_t n = 0; n <= 2048; n = n < 64 ? n + 1 : n * 2 - n / 3)
		u_free(g, u_malloc(g, n));
	for (uint64_t a = 1; a <= 4096; a *= 2) {
		uint64_t sizes[] = { 1, a > 1 ? a - 1 : 1, a, a + 1, 3 * a };
		for (int i = 0; i < 5; i++)
			u_free(g, u_memalign(g, a, sizes[i]));
	}
	for (uint64_t n = 8; n <= (1 << 20); n *= 4) {   /* dirty, free, calloc the same size */
		u_free(g, u_malloc(g, n));
		u_free(g, u_calloc(g, 1, n));
		u_free(g, u_calloc(g, n / 8, 8));
	}
	uint32_t r = u_malloc(g, 16);                        /* realloc chains keep contents */
	for (uint64_t n = 24; n < (2 << 20); n = n * 3 + 5)
		u_realloc(g, r, n);
	for (uint64_t n = 2 << 20; n > 16; n /= 5)
		u_realloc(g, r, n);
	u_free(g, r);
	uint32_t ids[256];                                   /* remote frees */
	for (int i = 0; i < 256; i++)
		ids[i] = u_malloc(g, bench_rng_logu(&g->r, 16, 8192));
	thread(g, 1);
	for (int i = 0; i < 256; i++)
		u_free(g, ids[i]);
	thread(g, 0);
	for (int i = 0; i < 256; i++)
		u_free(g, u_malloc(g, bench_rng_logu(&g->r, 16, 8192)));
	for (int step = 0; step < 20000; step++) {           /* multi-threaded churn */
		thread(g, (int)bench_rng_below(&g->r, 4));
		if (g->nlive > 500 || (g->nlive && bench_rng_below(&g->r, 2)))
			u_free(g, random_live(g));
		else
			u_malloc(g, bench_rng_logu(&g->r, 8, 70000));
	}
	u_free_all(g);
}

const struct bench_workload bench_workloads[] = {
	{ "uniform", 'U', "sizes uniform in 16..4096, exponential lifetimes (mean 5000 ops)", w_uniform },
	{ "pow2", 'U', "power-of-two sizes 8..64K, exponential lifetimes (mean 2000 ops)", w_pow2 },
	{ "pareto", 'U', "Pareto sizes (xmin 16, alpha 1.2, cap 16M), exponential lifetimes", w_pareto },
	{ "fitted", 'U', "size x lifetime mix fitted to corpus/real (bench/fitted.h)", w_fitted },
	{ "ramp", 'U', "Wilson's ramp: a structure grows steadily, with short-lived temporaries", w_ramp },
	{ "peak", 'U', "Wilson's peaks: six build-and-drop phases leaving 3% survivors", w_peak },
	{ "plateau", 'U', "Wilson's plateau: quick ramp to 30000 objects, then long random replacement", w_plateau },
	{ "prodcons", 'U', "producer/consumer: threads 1-2 allocate messages, threads 3-4 free them", w_prodcons },
	{ "server", 'U', "server churn: 4 workers, per-request buffers, realloc'd bodies, sessions, shared LRU", w_server },
	{ "trim", 'U', "100 MB block and 80 MB heap touched and freed, default thresholds", w_trim },
	{ "trim-keep", 'U', "the same with M_TRIM_THRESHOLD -1 and M_MMAP_MAX 0 (the seeds' example)", w_trim_keep },
	{ "conform", 'U', "the engine malloc's conformance checks as a trace", w_conform },
	{ "slabchurn", 'K', "fork/exit churn of task_struct-like caches, VMAs, vmalloc'd stacks", w_slabchurn },
	{ "kmalloc", 'K', "kmalloc size mix incl. large kmallocs, GFP_KERNEL/ATOMIC/NOWAIT, krealloc", w_kmalloc },
	{ "vmalloc", 'K', "vmalloc/vzalloc churn 4K..4M with kmalloc noise", w_vmalloc },
	{ "highalloc", 'K', "stress-highalloc: fill to 88%, free randomly, 160 order-9 attempts while the page cache is reclaimed", w_highalloc },
	{ "highalloc-untagged", 'K', "the same with every allocation unmovable (no grouping by mobility)", w_highalloc_untagged },
	{ "oom", 'K', "five tasks touch memory on a 128 MiB machine until the OOM killer acts", w_oom },
	{ NULL, 0, NULL, NULL },
};

const struct bench_workload *bench_workload_find(const char *name)
{
	for (const struct bench_workload *w = bench_workloads; w->name; w++)
		if (!strcmp(w->name, name))
			return w;
	return NULL;
}

#define HEADER_LINES 2   /* "refalloc-trace 1" and one comment line */

struct ra_trace *bench_generate(const struct bench_workload *w, const struct bench_gen_opts *o)
{
	char name[96];
	uint64_t seed = o && o->seed ? o->seed : 1;
	double scale = o && o->scale > 0 ? o->scale : 1.0;
	if (scale == 1.0)
		snprintf(name, sizeof(name), "%s-s%" PRIu64, w->name, seed);
	else
		snprintf(name, sizeof(name), "%s-s%" PRIu64 "-x%g", w->name, seed, scale);
	struct gen g = { .scale = scale };
	g.t = ra_trace_new(name);
	if (!g.t)
		return NULL;
	bench_rng_seed(&g.r, seed * 0x2545f4914f6cdd1dULL ^ (uint64_t)w->side);
	w->gen(&g);
	for (uint32_t i = 0; i < g.t->nops; i++)
		g.t->ops[i].line = HEADER_LINES + 1 + i;
	free(g.freeid);
	free(g.nameid);
	free(g.size);
	free(g.pos);
	free(g.owner);
	free(g.live);
	free(g.heap);
	return g.t;
}

void bench_trace_write(const struct ra_trace *t, FILE *f, const char *comment)
{
	fputs("refalloc-trace 1\n# ", f);
	for (const char *c = comment ? comment : t->file; *c; c++)
		fputc(*c == '\n' ? ' ' : *c, f);
	fputc('\n', f);
	for (uint32_t i = 0; i < t->nops; i++)
		ra_op_print(t, &t->ops[i], f);
}
