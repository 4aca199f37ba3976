/*
 * um_reg.c — the chunk registry, the validated in-band accessors and the
 * repair pass.  Included by umalloc.c (single translation unit).
 *
 * The registry is an open-addressing hash (linear probing, backward-shift
 * deletion) keyed by chunk address.  Hashing uses the simulated address
 * only, so iteration order and growth are deterministic.
 *
 * UM_SIM: every chunk of every arena and every mmapped chunk has an entry:
 * a complete host-side shadow of the heap layout (see um_internal.h).
 * Entries of chunks that stopped existing (merged away, unmapped) stay as
 * RS_DEAD so that a later free() of that address is classified as a double
 * free rather than a wild pointer; dead entries are dropped when the table
 * grows and they outnumber the rest.
 * UM_HOST with the registry on: only live user chunks, maintained at the
 * API boundary under reg_lock (for the leak report at exit).
 */

/* === Hash table ========================================================= */

UM_INLINE size_t reg_home(const struct um_reg *r, um_addr p)
{
	return (size_t)(((p >> 4) * 0x9E3779B97F4A7C15ULL) >> 17) & (r->cap - 1);
}

static struct um_rent *reg_find(struct um_state *S, um_addr p)
{
	struct um_reg *r = &S->reg;
	if (UM_UNLIKELY(!r->tab))
		return NULL;
	size_t m = r->cap - 1;
	for (size_t i = reg_home(r, p);; i = (i + 1) & m) {
		struct um_rent *e = &r->tab[i];
		if (e->addr == p)
			return e;
		if (e->addr == 0)
			return NULL;
	}
}

static int reg_grow(struct um_state *S)
{
	struct um_reg *r = &S->reg;
	size_t keep = r->count - r->dead;
	size_t ncap = r->cap ? r->cap : 1024;
	while ((keep + 1) * 2 > ncap)
		ncap *= 2;
	if (ncap == r->cap && r->dead == 0)
		ncap *= 2;
	struct um_rent *nt = um_os_meta_alloc(S->os, ncap * sizeof(*nt));
	if (!nt)
		return -1;
	struct um_reg nr = { nt, ncap, 0, 0 };
	for (size_t i = 0; i < r->cap; i++) {
		struct um_rent *e = &r->tab[i];
		if (e->addr == 0 || e->state == RS_DEAD)
			continue;
		size_t j = reg_home(&nr, e->addr);
		while (nt[j].addr)
			j = (j + 1) & (ncap - 1);
		nt[j] = *e;
		nr.count++;
	}
	if (r->tab)
		um_os_meta_free(S->os, r->tab, r->cap * sizeof(*r->tab));
	*r = nr;
	return 0;
}

/* Find or insert; a new (or revived dead) entry is RS_TAKEN, all zero. */
static struct um_rent *reg_get(struct um_state *S, um_addr p)
{
	struct um_reg *r = &S->reg;
	struct um_rent *e = reg_find(S, p);
	if (e) {
		if (e->state == RS_DEAD) {
			memset(e, 0, sizeof(*e));
			e->addr = p;
			e->state = RS_TAKEN;
			r->dead--;
		}
		return e;
	}
	if ((r->count + 1) * 2 > r->cap) {
		if (reg_grow(S) != 0) {
			fprintf(stderr, "umalloc: registry: out of host memory\n");
			abort();
		}
	}
	size_t m = r->cap - 1, i = reg_home(r, p);
	while (r->tab[i].addr)
		i = (i + 1) & m;
	e = &r->tab[i];
	memset(e, 0, sizeof(*e));
	e->addr = p;
	e->state = RS_TAKEN;
	r->count++;
	return e;
}

static __attribute__((unused)) void reg_del(struct um_state *S, um_addr p)
{
	struct um_reg *r = &S->reg;
	struct um_rent *e = reg_find(S, p);
	if (!e)
		return;
	if (e->state == RS_DEAD)
		r->dead--;
	size_t m = r->cap - 1, i = (size_t)(e - r->tab), j = i;
	for (;;) {
		j = (j + 1) & m;
		if (r->tab[j].addr == 0)
			break;
		size_t k = reg_home(r, r->tab[j].addr);
		/* can tab[j] move back to i? (k not cyclically in (i, j]) */
		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			r->tab[i] = r->tab[j];
			i = j;
		}
	}
	memset(&r->tab[i], 0, sizeof(r->tab[i]));
	r->count--;
}

static void reg_free_all(struct um_state *S)
{
	if (S->reg.tab)
		um_os_meta_free(S->os, S->reg.tab, S->reg.cap * sizeof(*S->reg.tab));
	memset(&S->reg, 0, sizeof(S->reg));
}

/* === In-band accessors ================================================== */

UM_INLINE uint64_t LD(struct um_state *S, um_addr a) { return um_os_load64(S->os, a); }
UM_INLINE void STW(struct um_state *S, um_addr a, uint64_t v) { um_os_store64(S->os, a, v); }

#ifdef UM_SIM
static UM_NORETURN UM_NOINLINE void sim_bad(struct um_state *S, um_addr p, const char *msg)
{
	S->nreports++;
	S->err = UM_EREFUSED;
	um_os_report(S->os, "heap-corruption", p + CHUNK_HDR_SZ, msg);
	if (S->jb)
		longjmp(*S->jb, 1);
	fprintf(stderr, "umalloc: corruption outside a guarded operation: %s\n", msg);
	abort();
}

static uint64_t *sim_bin_word(struct um_state *S, um_addr a)
{
	uint64_t idx = (a - UM_SIM_BIN_BASE) >> 12;
	if (idx >= S->narenas)
		sim_bad(S, a, "malloc(): corrupted bin pointer");
	struct um_arena *av = S->arenas[idx];
	uint64_t off = a - av->binaddr0;
	if (off >= sizeof(av->bins) || (off & 7))
		sim_bad(S, a, "malloc(): corrupted bin pointer");
	return &av->bins[off >> 3];
}
#endif

/* The size word of chunk p.  msg: glibc's message for this read site. */
UM_INLINE uint64_t rd_hdr(struct um_state *S, um_addr p, const char *msg)
{
	uint64_t v = LD(S, p + SIZE_SZ);
#ifdef UM_SIM
	struct um_rent *e = reg_find(S, p);
	if (UM_UNLIKELY(!e || e->state == RS_DEAD || v != e->hdr))
		sim_bad(S, p, msg);
#else
	(void)msg;
#endif
	return v;
}

/* The prev_size word of chunk p (footer of a free predecessor, or the
 * mmap offset of an mmapped chunk). */
UM_INLINE uint64_t rd_prevsize(struct um_state *S, um_addr p, const char *msg)
{
	uint64_t v = LD(S, p);
#ifdef UM_SIM
	struct um_rent *e = reg_find(S, p);
	if (UM_UNLIKELY(!e || e->state == RS_DEAD || !(e->wmask & WM_FOOT) || v != e->foot))
		sim_bad(S, p, msg);
#else
	(void)msg;
#endif
	return v;
}

/* Link word k (0 fd, 1 bk, 2 fd_nextsize, 3 bk_nextsize) of chunk or bin p. */
UM_INLINE uint64_t rd_link(struct um_state *S, um_addr p, unsigned k, const char *msg)
{
#ifdef UM_SIM
	if (p >= UM_SIM_BIN_BASE)
		return *sim_bin_word(S, p + 16 + 8 * k);
	uint64_t v = LD(S, p + 16 + 8 * k);
	struct um_rent *e = reg_find(S, p);
	if (UM_UNLIKELY(!e || !(e->wmask & (1u << k)) || v != e->w[k]))
		sim_bad(S, p, msg);
	return v;
#else
	(void)msg;
	return LD(S, p + 16 + 8 * k);
#endif
}

UM_INLINE void wr_hdr(struct um_state *S, const struct um_arena *av, um_addr p, uint64_t v)
{
	STW(S, p + SIZE_SZ, v);
#ifdef UM_SIM
	struct um_rent *e = reg_get(S, p);
	/* the footer stops being metadata when the predecessor is in use */
	if ((v & PREV_INUSE) && !(e->hdr & PREV_INUSE))
		e->wmask &= (uint8_t)~WM_FOOT;
	e->hdr = v;
	e->arena = av ? (uint16_t)av->idx : UM_NO_ARENA;
#else
	(void)av;
#endif
}

UM_INLINE void wr_prevsize(struct um_state *S, um_addr p, uint64_t v)
{
	STW(S, p, v);
#ifdef UM_SIM
	struct um_rent *e = reg_get(S, p);
	e->foot = v;
	e->wmask |= WM_FOOT;
#endif
}

UM_INLINE void wr_link(struct um_state *S, um_addr p, unsigned k, uint64_t v)
{
#ifdef UM_SIM
	if (p >= UM_SIM_BIN_BASE) {
		*sim_bin_word(S, p + 16 + 8 * k) = v;
		return;
	}
	STW(S, p + 16 + 8 * k, v);
	struct um_rent *e = reg_get(S, p);
	e->w[k] = v;
	e->wmask |= (uint8_t)(1u << k);
#else
	STW(S, p + 16 + 8 * k, v);
#endif
}

/* Registry state transitions (UM_SIM only; no-ops on the host). */
#ifdef UM_SIM
static void rs_set(struct um_state *S, um_addr p, int state)
{
	struct um_rent *e = reg_get(S, p);
	e->state = (uint8_t)state;
	if (state != RS_FREE && state != RS_FAST && state != RS_TCACHE)
		e->wmask &= WM_FOOT;
}
static void rs_forget(struct um_state *S, um_addr p)
{
	struct um_rent *e = reg_find(S, p);
	if (!e || e->state == RS_DEAD)
		return;
	e->state = RS_DEAD;
	e->wmask &= WM_FOOT;
	S->reg.dead++;
}
#define RS_SET(S, p, st)     rs_set((S), (p), (st))
#define RS_FORGET(S, p)      rs_forget((S), (p))
#define RS_OWNER(S, p, o)    (reg_get((S), (p))->owner = (o))
#else
#define RS_SET(S, p, st)     ((void)0)
#define RS_FORGET(S, p)      ((void)0)
#define RS_OWNER(S, p, o)    ((void)0)
#endif

/* === Repair (UM_SIM) ==================================================== */

#ifdef UM_SIM
static int rent_cmp(const void *a, const void *b)
{
	const struct um_rent *x = *(const struct um_rent *const *)a;
	const struct um_rent *y = *(const struct um_rent *const *)b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Large-bin order: size descending, then address. */
static int rent_cmp_large(const void *a, const void *b)
{
	const struct um_rent *x = *(const struct um_rent *const *)a;
	const struct um_rent *y = *(const struct um_rent *const *)b;
	uint64_t sx = chunksize_of(x->hdr), sy = chunksize_of(y->hdr);
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sorted array of the registry's non-dead entries (host memory). */
static struct um_rent **reg_sorted(struct um_state *S, size_t *np, size_t *alloc)
{
	size_t n = 0;
	*alloc = (S->reg.count + 1) * sizeof(struct um_rent *);
	struct um_rent **v = um_os_meta_alloc(S->os, *alloc);
	if (!v) {
		fprintf(stderr, "umalloc: out of host memory\n");
		abort();
	}
	for (size_t i = 0; i < S->reg.cap; i++)
		if (S->reg.tab[i].addr && S->reg.tab[i].state != RS_DEAD)
			v[n++] = &S->reg.tab[i];
	qsort(v, n, sizeof(*v), rent_cmp);
	*np = n;
	return v;
}

static void fix_word(struct um_state *S, um_addr a, uint64_t v)
{
	if (LD(S, a) != v)
		STW(S, a, v);
}

static void fix_link(struct um_state *S, struct um_rent *e, unsigned k, uint64_t v)
{
	e->w[k] = v;
	e->wmask |= (uint8_t)(1u << k);
	fix_word(S, e->addr + 16 + 8 * k, v);
}

static void fsck_link_bin(struct um_state *S, struct um_arena *av, unsigned b,
                          struct um_rent **g, size_t n)
{
	um_addr bin = bin_at(av, b);
	av->bins[2 * (b - 1)] = n ? g[0]->addr : bin;
	av->bins[2 * (b - 1) + 1] = n ? g[n - 1]->addr : bin;
	if (n)
		mark_bin(av, b);
	for (size_t i = 0; i < n; i++) {
		fix_link(S, g[i], 0, i + 1 < n ? g[i + 1]->addr : bin);
		fix_link(S, g[i], 1, i ? g[i - 1]->addr : bin);
	}
	if (b < NSMALLBINS)
		return;
	/* nextsize ring over the first chunk of each size */
	struct um_rent *first = NULL, *prevh = NULL;
	for (size_t i = 0; i < n; i++) {
		bool head = i == 0 || chunksize_of(g[i]->hdr) != chunksize_of(g[i - 1]->hdr);
		if (!head) {
			fix_link(S, g[i], 2, 0);
			fix_link(S, g[i], 3, 0);
			continue;
		}
		if (!first)
			first = g[i];
		if (prevh) {
			fix_link(S, prevh, 2, g[i]->addr);
			fix_link(S, g[i], 3, prevh->addr);
		}
		prevh = g[i];
	}
	if (first) {
		fix_link(S, prevh, 2, first->addr);
		fix_link(S, first, 3, prevh->addr);
	}
}

/*
 * Rebuild every in-band metadata word and every list from the registry,
 * after a corruption unwound an operation midway.  Chunks in limbo
 * (RS_TAKEN) become free again, adjacent free chunks are merged, bins are
 * relinked in a canonical order.  Only words that differ are written.
 */
static void um_fsck(struct um_state *S)
{
	size_t n, va;
	struct um_rent **v = reg_sorted(S, &n, &va);

	for (unsigned a = 0; a < S->narenas; a++) {
		struct um_arena *av = S->arenas[a];
		memset(av->fastbins, 0, sizeof(av->fastbins));
		memset(av->binmap, 0, sizeof(av->binmap));
		for (unsigned b = 1; b < NBINS; b++)
			av->bins[2 * (b - 1)] = av->bins[2 * (b - 1) + 1] = bin_at(av, b);
		av->last_remainder = 0;
		av->have_fastchunks = 0;
		av->top = 0;
	}
	for (unsigned t = 0; t < S->nthreads; t++) {
		struct um_thread *th = S->threads[t];
		if (th && th->tc)
			memset(th->tc, 0, sizeof(*th->tc));
	}

	/* 1: limbo chunks are free; merge free runs (and free into top) */
	struct um_rent *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		struct um_rent *e = v[i];
		e->wmask = 0;
		if (e->state == RS_TAKEN)
			e->state = RS_FREE;
		if (e->arena == UM_NO_ARENA) {
			prev = NULL;
			continue;
		}
		bool adj = prev && prev->arena == e->arena
		           && prev->addr + chunksize_of(prev->hdr) == e->addr;
		if (adj && prev->state == RS_FREE && (e->state == RS_FREE || e->state == RS_TOP)) {
			prev->hdr += chunksize_of(e->hdr);
			prev->state = e->state;
			e->state = RS_DEAD;
			S->reg.dead++;
			continue;
		}
		prev = e;
	}
	um_os_meta_free(S->os, v, va);
	v = reg_sorted(S, &n, &va);

	/* 2: headers, footers, tops; collect lists */
	size_t ga = (n + 1) * sizeof(struct um_rent *);
	struct um_rent **g = um_os_meta_alloc(S->os, ga);
	size_t ng = 0;
	prev = NULL;
	for (size_t i = 0; i < n; i++) {
		struct um_rent *e = v[i];
		if (e->arena == UM_NO_ARENA) {
			e->hdr = chunksize_of(e->hdr) | IS_MMAPPED;
			fix_word(S, e->addr + SIZE_SZ, e->hdr);
			fix_word(S, e->addr, e->foot);
			e->wmask |= WM_FOOT;
			prev = NULL;
			continue;
		}
		struct um_arena *av = S->arenas[e->arena];
		bool adj = prev && prev->arena == e->arena
		           && prev->addr + chunksize_of(prev->hdr) == e->addr;
		/* in-use chunks keep NON_MAIN_ARENA; free, top and fences never have it */
		uint64_t h = chunksize_of(e->hdr);
		if (e->state != RS_FREE && e->state != RS_TOP && e->state != RS_FENCE)
			h |= e->hdr & NON_MAIN_ARENA;
		if (!(adj && prev->state == RS_FREE))
			h |= PREV_INUSE;
		e->hdr = h;
		fix_word(S, e->addr + SIZE_SZ, h);
		if (adj && prev->state == RS_FREE) {
			e->foot = chunksize_of(prev->hdr);
			e->wmask |= WM_FOOT;
			fix_word(S, e->addr, e->foot);
		}
		if (e->state == RS_TOP)
			av->top = e->addr;
		if (e->state == RS_FREE)
			g[ng++] = e;
		prev = e;
	}

	/* 3: bins, per arena and bin (g is in address order) */
	for (unsigned a = 0; a < S->narenas; a++) {
		struct um_arena *av = S->arenas[a];
		for (unsigned b = 2; b < NBINS; b++) {
			size_t k = 0;
			size_t sa = (ng + 1) * sizeof(struct um_rent *);
			struct um_rent **sub = um_os_meta_alloc(S->os, sa);
			for (size_t i = 0; i < ng; i++)
				if (g[i]->arena == a && bin_index(chunksize_of(g[i]->hdr)) == b)
					sub[k++] = g[i];
			if (b >= NSMALLBINS && k > 1)
				qsort(sub, k, sizeof(*sub), rent_cmp_large);
			fsck_link_bin(S, av, b, sub, k);
			um_os_meta_free(S->os, sub, sa);
		}
	}
	um_os_meta_free(S->os, g, ga);

	/* 4: fastbins and tcaches, address order */
	for (size_t i = n; i-- > 0;) {
		struct um_rent *e = v[i];
		if (e->state == RS_FAST) {
			struct um_arena *av = S->arenas[e->arena];
			unsigned fi = fastbin_index(chunksize_of(e->hdr));
			fix_link(S, e, 0, PROTECT_PTR(e->addr + 16, av->fastbins[fi]));
			av->fastbins[fi] = e->addr;
			av->have_fastchunks = 1;
		} else if (e->state == RS_TCACHE) {
			struct um_thread *th = e->owner < S->nthreads ? S->threads[e->owner] : NULL;
			size_t ti = csize2tidx(chunksize_of(e->hdr));
			if (!th || !th->tc || ti >= TCACHE_MAX_BINS) {
				/* owner gone: the chunk is lost, as in glibc; keep it live-like */
				e->state = RS_INTERNAL;
				continue;
			}
			um_addr mem = e->addr + 16;
			fix_link(S, e, 0, PROTECT_PTR(mem, th->tc->entries[ti]));
			fix_link(S, e, 1, S->tcache_key);
			th->tc->entries[ti] = mem;
			th->tc->counts[ti]++;
		}
	}
	um_os_meta_free(S->os, v, va);
}
#endif /* UM_SIM */
