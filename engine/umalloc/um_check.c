/*
 * um_check.c — validators in the style of glibc's do_check_chunk,
 * do_check_free_chunk, do_check_inuse_chunk and do_check_malloc_state,
 * plus (UM_SIM) a word-by-word comparison of every in-band metadata word
 * with the registry.  Included by umalloc.c.
 *
 * Each problem is reported once, with the address and what was expected,
 * and counted; nothing is changed.  In UM_SIM the structural walks read the
 * registry's expected words (ck_*), so one corrupted word in memory is
 * exactly one problem (found by the comparison pass) and cannot send a walk
 * astray; in UM_HOST the walks read memory and are bounded and
 * range-checked instead.
 */
#include <stdarg.h>
#ifdef UM_HOST
#include <unistd.h>
#endif

struct ck_ctx {
	struct um_state *S;
	long problems;
	uint64_t bound;      /* loop bound for list walks */
};

static void ck_problem(struct ck_ctx *c, um_addr addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ck_problem(struct ck_ctx *c, um_addr addr, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->problems++;
#ifdef UM_SIM
	um_os_report(c->S->os, "heap-corruption", addr, buf);
#else
	char line[300];
	int n = snprintf(line, sizeof(line), "umalloc: check: %s (at %#llx)\n", buf,
	                 (unsigned long long)addr);
	if (n > 0) {
		ssize_t w = write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)w;
	}
#endif
}

/* Trusted reads: the registry's expected words (sim), memory (host). */
static uint64_t ck_hdr(struct um_state *S, um_addr p)
{
#ifdef UM_SIM
	struct um_rent *e = reg_find(S, p);
	return (e && e->state != RS_DEAD) ? e->hdr : 0;
#else
	return LD(S, p + SIZE_SZ);
#endif
}
static uint64_t ck_foot(struct um_state *S, um_addr p)
{
#ifdef UM_SIM
	struct um_rent *e = reg_find(S, p);
	return (e && (e->wmask & WM_FOOT)) ? e->foot : ~(uint64_t)0;
#else
	return LD(S, p);
#endif
}
static uint64_t ck_link(struct um_state *S, um_addr p, unsigned k)
{
#ifdef UM_SIM
	if (p >= UM_SIM_BIN_BASE) {
		uint64_t idx = (p - UM_SIM_BIN_BASE) >> 12;
		if (idx >= S->narenas)
			return 0;
		struct um_arena *av = S->arenas[idx];
		uint64_t off = p + 16 + 8 * k - av->binaddr0;
		return off < sizeof(av->bins) ? av->bins[off >> 3] : 0;
	}
	struct um_rent *e = reg_find(S, p);
	return (e && (e->wmask & (1u << k))) ? e->w[k] : 0;
#else
	return LD(S, p + 16 + 8 * k);
#endif
}
static __attribute__((unused)) int ck_state(struct um_state *S, um_addr p)
{
#ifdef UM_SIM
	struct um_rent *e = reg_find(S, p);
	return e ? e->state : RS_EMPTY;
#else
	(void)S; (void)p;
	return -1;
#endif
}

/* Is p a plausible chunk address of arena av (host: no faults)? */
static bool ck_addr_ok(struct um_state *S, struct um_arena *av, um_addr p)
{
	if (!p || misaligned_chunk(p))
		return false;
#ifdef UM_SIM
	(void)av;
	struct um_rent *e = reg_find(S, p);
	return e && e->state != RS_DEAD;
#else
	if (av == S->main) {
		if (!contiguous(av))
			return true;
		um_addr top = av->top;
		return top && p >= S->mp.sbrk_base && p < top + LD(S, top + SIZE_SZ);
	}
	for (struct um_heap *h = av->heap; h; h = h->prev)
		if (p >= h->base && p + MINSIZE <= h->base + h->size)
			return true;
	return false;
#endif
}

/* Start of the main arena's next segment after address a. */
static um_addr ck_next_segment(struct um_state *S, um_addr a, um_addr top)
{
#ifdef UM_SIM
	um_addr best = top;
	for (size_t i = 0; i < S->reg.cap; i++) {
		struct um_rent *e = &S->reg.tab[i];
		if (e->addr >= a && e->addr < best && e->arena == 0 && e->state != RS_DEAD)
			best = e->addr;
	}
	return best;
#else
	(void)S; (void)a;
	return top;
#endif
}

static const char *const state_name[] = {
	"empty", "live", "internal", "tcache", "fastbin", "free", "limbo", "top", "fence", "dead"
};

/* Chunks of one contiguous segment [start, end): boundary tags, flags. */
static void ck_segment(struct ck_ctx *c, struct um_arena *av, um_addr start, um_addr end,
                       uint64_t *nfree)
{
	struct um_state *S = c->S;
	um_addr p = start;
	bool prev_free = false;
	uint64_t prev_size = 0, n = 0;
	while (p < end) {
		if (++n > c->bound) {
			ck_problem(c, p + 16, "arena %d: heap walk does not end", av->idx);
			return;
		}
		uint64_t h = ck_hdr(S, p);
		uint64_t sz = chunksize_of(h);
		if (p == av->top) {
			if (sz < MINSIZE)
				ck_problem(c, p + 16, "arena %d: top chunk %#llx size %#llx < MINSIZE",
				           av->idx, (unsigned long long)p, (unsigned long long)sz);
			if (!(h & PREV_INUSE))
				ck_problem(c, p + 16, "arena %d: top chunk %#llx: PREV_INUSE clear",
				           av->idx, (unsigned long long)p);
			if (p + sz != end)
				ck_problem(c, p + 16, "arena %d: top chunk %#llx ends at %#llx, heap at %#llx",
				           av->idx, (unsigned long long)p, (unsigned long long)(p + sz),
				           (unsigned long long)end);
			if (prev_free)
				ck_problem(c, p + 16, "arena %d: free chunk before top %#llx not consolidated",
				           av->idx, (unsigned long long)p);
			return;
		}
		if (sz == 0 && (h & PREV_INUSE) && p + CHUNK_HDR_SZ == end)
			return;                                      /* final fencepost */
		if (av == S->main && sz == CHUNK_HDR_SZ && chunksize_of(ck_hdr(S, p + sz)) == CHUNK_HDR_SZ) {
			/* double fencepost after a foreign sbrk: next segment. When
			 * the old top was 16 bytes too small to free, its 16-byte
			 * remnant comes first: three in a row, the last two fences */
			um_addr q = p + 2 * CHUNK_HDR_SZ;
			if (q + CHUNK_HDR_SZ <= end && ck_state(S, q) == RS_FENCE && chunksize_of(ck_hdr(S, q)) == CHUNK_HDR_SZ)
				q += CHUNK_HDR_SZ;
			um_addr nx = ck_next_segment(S, q, av->top);
			prev_free = false;
			p = nx;
			continue;
		}
		if ((sz & MALLOC_ALIGN_MASK) || sz < CHUNK_HDR_SZ || p + sz > end) {
			ck_problem(c, p + 16, "arena %d: chunk %#llx has bad size %#llx",
			           av->idx, (unsigned long long)p, (unsigned long long)h);
			return;
		}
		if (h & IS_MMAPPED)
			ck_problem(c, p + 16, "arena %d: heap chunk %#llx has IS_MMAPPED set",
			           av->idx, (unsigned long long)p);
		if (!!(h & PREV_INUSE) == prev_free)
			ck_problem(c, p + 16, "arena %d: chunk %#llx PREV_INUSE is %d but previous chunk is %s",
			           av->idx, (unsigned long long)p, (int)(h & PREV_INUSE),
			           prev_free ? "free" : "in use");
		if (prev_free && ck_foot(S, p) != prev_size)
			ck_problem(c, p + 16, "arena %d: chunk %#llx prev_size %#llx != size of free predecessor %#llx",
			           av->idx, (unsigned long long)p, (unsigned long long)ck_foot(S, p),
			           (unsigned long long)prev_size);
		/* a chunk is free when the next one says so (or the registry) */
		um_addr nx = p + sz;
		bool is_free;
#ifdef UM_SIM
		int st = ck_state(S, p);
		is_free = st == RS_FREE;
		if (st == RS_EMPTY || st == RS_DEAD || st == RS_TOP || st == RS_TAKEN)
			ck_problem(c, p + 16, "arena %d: chunk %#llx has registry state %s",
			           av->idx, (unsigned long long)p, state_name[st]);
		if (nx < end && !!(ck_hdr(S, nx) & PREV_INUSE) == is_free)
			ck_problem(c, p + 16, "arena %d: chunk %#llx is %s but next chunk's PREV_INUSE is %d",
			           av->idx, (unsigned long long)p, state_name[st],
			           (int)(ck_hdr(S, nx) & PREV_INUSE));
#else
		is_free = nx < end && !(ck_hdr(S, nx) & PREV_INUSE) && nx != av->top;
		if (nx == av->top)
			is_free = false;
#endif
		if (is_free) {
			if (prev_free)
				ck_problem(c, p + 16, "arena %d: adjacent free chunks at %#llx",
				           av->idx, (unsigned long long)p);
			if (sz < MINSIZE)
				ck_problem(c, p + 16, "arena %d: free chunk %#llx smaller than MINSIZE",
				           av->idx, (unsigned long long)p);
			(*nfree)++;
		}
		if (av != S->main && !is_free && nx < end && sz >= MINSIZE
#ifdef UM_SIM
		    && st != RS_FENCE
#endif
		    && !(h & NON_MAIN_ARENA) && p != av->top)
			ck_problem(c, p + 16, "arena %d: in-use chunk %#llx lacks NON_MAIN_ARENA",
			           av->idx, (unsigned long long)p);
		prev_free = is_free;
		prev_size = sz;
		p = nx;
	}
	if (p != end)
		ck_problem(c, p + 16, "arena %d: heap walk overran the segment end %#llx",
		           av->idx, (unsigned long long)end);
}

static void ck_arena(struct ck_ctx *c, struct um_arena *av, int level)
{
	struct um_state *S = c->S;
	if (!av->top)
		return;                          /* nothing allocated yet */
	uint64_t th = ck_hdr(S, av->top), tsz = chunksize_of(th);
	if (tsz > av->system_mem)
		ck_problem(c, av->top + 16, "arena %d: top size %#llx > system_mem %#llx",
		           av->idx, (unsigned long long)tsz, (unsigned long long)av->system_mem);
	/* The top ends where the memory malloc got ends, rounded down to the
	 * alignment: when a foreign sbrk left the break misaligned and the
	 * correcting sbrk failed, sysmalloc rounds the top's end down (glibc
	 * would write a size with flag bits set there) and up to 15 bytes past
	 * it belong to no chunk. */
	if (av == S->main && contiguous(av) &&
	    ((S->mp.sbrk_base + av->system_mem) & ~(uint64_t)MALLOC_ALIGN_MASK) != av->top + tsz)
		ck_problem(c, av->top + 16, "main arena: sbrk_base + system_mem (%#llx) != end of top (%#llx)",
		           (unsigned long long)(S->mp.sbrk_base + av->system_mem),
		           (unsigned long long)(av->top + tsz));

	/* fastbins */
	unsigned max_fast_bin = fastbin_index(S->global_max_fast);
	uint64_t nfast = 0;
	for (unsigned i = 0; i < NFASTBINS; i++) {
		um_addr p = av->fastbins[i];
		if (av == S->main && i > max_fast_bin && p)
			ck_problem(c, p + 16, "main arena: fastbin %u beyond max_fast is not empty", i);
		uint64_t n = 0;
		while (p) {
			if (++n > c->bound || !ck_addr_ok(S, av, p)) {
				ck_problem(c, p + 16, "arena %d: fastbin %u: bad or endless list at %#llx",
				           av->idx, i, (unsigned long long)p);
				break;
			}
			uint64_t h = ck_hdr(S, p);
			if (fastbin_index(chunksize_of(h)) != i)
				ck_problem(c, p + 16, "arena %d: fastbin %u holds chunk %#llx of size %#llx",
				           av->idx, i, (unsigned long long)p, (unsigned long long)chunksize_of(h));
#ifdef UM_SIM
			if (ck_state(S, p) != RS_FAST)
				ck_problem(c, p + 16, "arena %d: fastbin %u chunk %#llx has state %s",
				           av->idx, i, (unsigned long long)p, state_name[ck_state(S, p)]);
#endif
			nfast++;
			p = PROTECT_PTR(p + 16, ck_link(S, p, 0));
		}
	}

	/* regular bins */
	uint64_t nbinned = 0;
	for (unsigned i = 1; i < NBINS; i++) {
		um_addr b = bin_at(av, i);
		um_addr first = ck_link(S, b, 0), last = ck_link(S, b, 1);
		bool empty = last == b;
		if (i >= 2) {
			bool bit = get_binmap(av, i) != 0;
			if (!bit && !empty)
				ck_problem(c, 0, "arena %d: bin %u not empty but its binmap bit is clear", av->idx, i);
		}
		if ((first == b) != empty)
			ck_problem(c, 0, "arena %d: bin %u: fd and bk disagree on emptiness", av->idx, i);
		um_addr prevp = b;
		uint64_t n = 0;
		for (um_addr p = last; p != b; p = ck_link(S, p, 1)) {
			if (++n > c->bound || !ck_addr_ok(S, av, p)) {
				ck_problem(c, p + 16, "arena %d: bin %u: bad or endless list at %#llx",
				           av->idx, i, (unsigned long long)p);
				break;
			}
			uint64_t h = ck_hdr(S, p), sz = chunksize_of(h);
			if (ck_link(S, p, 0) != prevp)
				ck_problem(c, p + 16, "arena %d: bin %u: chunk %#llx fd %#llx != %#llx",
				           av->idx, i, (unsigned long long)p,
				           (unsigned long long)ck_link(S, p, 0), (unsigned long long)prevp);
#ifdef UM_SIM
			if (ck_state(S, p) != RS_FREE)
				ck_problem(c, p + 16, "arena %d: bin %u: chunk %#llx has state %s",
				           av->idx, i, (unsigned long long)p, state_name[ck_state(S, p)]);
#endif
			if (!(h & PREV_INUSE))
				ck_problem(c, p + 16, "arena %d: bin %u: free chunk %#llx not consolidated backward",
				           av->idx, i, (unsigned long long)p);
			if (sz < MINSIZE || (sz & MALLOC_ALIGN_MASK))
				ck_problem(c, p + 16, "arena %d: bin %u: free chunk %#llx bad size %#llx",
				           av->idx, i, (unsigned long long)p, (unsigned long long)sz);
			else if (ck_foot(S, p + sz) != sz)
				ck_problem(c, p + 16, "arena %d: free chunk %#llx footer %#llx != size %#llx",
				           av->idx, (unsigned long long)p, (unsigned long long)ck_foot(S, p + sz),
				           (unsigned long long)sz);
			if (i >= 2) {
				if (bin_index(sz) != i)
					ck_problem(c, p + 16, "arena %d: chunk %#llx of size %#llx in bin %u, belongs in %u",
					           av->idx, (unsigned long long)p, (unsigned long long)sz, i, bin_index(sz));
				um_addr bk = ck_link(S, p, 1);
				if (bk != b && chunksize_of(ck_hdr(S, bk)) < sz)
					ck_problem(c, p + 16, "arena %d: bin %u not sorted at %#llx",
					           av->idx, i, (unsigned long long)p);
				if (!in_smallbin_range(sz)) {
					um_addr fdn = ck_link(S, p, 2), bkn = ck_link(S, p, 3);
					if (fdn && (!ck_addr_ok(S, av, fdn) || !ck_addr_ok(S, av, bkn)
					            || ck_link(S, fdn, 3) != p || ck_link(S, bkn, 2) != p))
						ck_problem(c, p + 16, "arena %d: bin %u: nextsize links of %#llx broken",
						           av->idx, i, (unsigned long long)p);
				}
			}
			nbinned++;
			prevp = p;
		}
		if (first != prevp && n <= c->bound)
			ck_problem(c, 0, "arena %d: bin %u: fd of the bin %#llx != last chunk %#llx",
			           av->idx, i, (unsigned long long)first, (unsigned long long)prevp);
	}

	if (level < UM_CHECK_FULL)
		return;
	/* heap walk: every free chunk must be in a bin */
	uint64_t nfree = 0;
	if (av == S->main) {
		if (contiguous(av)) {
			um_addr start = ALIGN_UP(S->mp.sbrk_base + CHUNK_HDR_SZ, MALLOC_ALIGNMENT) - CHUNK_HDR_SZ;
			ck_segment(c, av, start, av->top + tsz, &nfree);
		} else {
#ifdef UM_SIM
			/* non-contiguous main arena: count from the registry */
			for (size_t i = 0; i < S->reg.cap; i++) {
				struct um_rent *e = &S->reg.tab[i];
				if (e->addr && e->arena == 0 && e->state == RS_FREE)
					nfree++;
			}
#else
			nfree = nbinned;
#endif
		}
	} else {
		for (struct um_heap *h = av->heap; h; h = h->prev) {
			um_addr start = h->base + HEAP_INFO_SZ;
			if (!h->prev) {
				start += MSTATE_SZ;
				start = ALIGN_UP(start + CHUNK_HDR_SZ, MALLOC_ALIGNMENT) - CHUNK_HDR_SZ;
			}
			ck_segment(c, av, start, h->base + h->size, &nfree);
		}
	}
	if (nfree != nbinned)
		ck_problem(c, 0, "arena %d: %llu free chunks in the heap, %llu in bins",
		           av->idx, (unsigned long long)nfree, (unsigned long long)nbinned);
	(void)nfast;
}

#ifdef UM_SIM
static const char *const word_name[] = { "fd", "bk", "fd_nextsize", "bk_nextsize" };

/* Every in-band metadata word against the registry: one problem per word. */
static void ck_words(struct ck_ctx *c)
{
	struct um_state *S = c->S;
	size_t n, va;
	struct um_rent **v = reg_sorted(S, &n, &va);
	for (size_t i = 0; i < n; i++) {
		struct um_rent *e = v[i];
		uint64_t w = LD(S, e->addr + SIZE_SZ);
		if (w != e->hdr)
			ck_problem(c, e->addr + 16, "%s chunk %#llx: size field %#llx, expected %#llx (overwritten)",
			           state_name[e->state], (unsigned long long)e->addr,
			           (unsigned long long)w, (unsigned long long)e->hdr);
		if (e->wmask & WM_FOOT) {
			w = LD(S, e->addr);
			if (w != e->foot)
				ck_problem(c, e->addr + 16, "%s chunk %#llx: prev_size field %#llx, expected %#llx (overwritten)",
				           state_name[e->state], (unsigned long long)e->addr,
				           (unsigned long long)w, (unsigned long long)e->foot);
		}
		for (unsigned k = 0; k < 4; k++) {
			if (!(e->wmask & (1u << k)))
				continue;
			w = LD(S, e->addr + 16 + 8 * k);
			if (w != e->w[k])
				ck_problem(c, e->addr + 16, "%s chunk %#llx: %s %#llx, expected %#llx (overwritten)",
				           state_name[e->state], (unsigned long long)e->addr,
				           e->state == RS_TCACHE ? (k ? "tcache key" : "tcache next") : word_name[k],
				           (unsigned long long)w, (unsigned long long)e->w[k]);
		}
		if (e->state == RS_TAKEN)
			ck_problem(c, e->addr + 16, "chunk %#llx left in limbo", (unsigned long long)e->addr);
	}
	um_os_meta_free(S->os, v, va);
}

static void ck_tcaches(struct ck_ctx *c)
{
	struct um_state *S = c->S;
	for (unsigned t = 0; t < S->nthreads; t++) {
		struct um_thread *th = S->threads[t];
		if (!th->tc)
			continue;
		for (unsigned i = 0; i < TCACHE_MAX_BINS; i++) {
			uint64_t n = 0;
			for (um_addr e = th->tc->entries[i]; e; e = PROTECT_PTR(e, ck_link(S, e - 16, 0))) {
				um_addr p = e - 16;
				if (++n > S->mp.tcache_count || ck_state(S, p) != RS_TCACHE) {
					ck_problem(c, e, "thread %u tcache bin %u: bad entry %#llx (state %s)", t, i,
					           (unsigned long long)e, state_name[ck_state(S, p)]);
					break;
				}
				struct um_rent *r = reg_find(S, p);
				if (r->owner != th->id)
					ck_problem(c, e, "thread %u tcache bin %u: entry %#llx owned by thread %u",
					           t, i, (unsigned long long)e, r->owner);
				if (csize2tidx(chunksize_of(r->hdr)) != i)
					ck_problem(c, e, "thread %u tcache bin %u: entry %#llx of size %#llx",
					           t, i, (unsigned long long)e, (unsigned long long)chunksize_of(r->hdr));
			}
			if (n != th->tc->counts[i] && n <= S->mp.tcache_count)
				ck_problem(c, 0, "thread %u tcache bin %u: count %u but %llu entries",
				           t, i, th->tc->counts[i], (unsigned long long)n);
		}
	}
}
#endif

long um_check(struct um_state *S, int level)
{
	if (level <= UM_CHECK_OFF)
		return 0;
	struct ck_ctx c = { S, 0, 0 };
#ifdef UM_SIM
	c.bound = S->reg.count + 16;
#else
	c.bound = 1ull << 32;
#endif
	for (unsigned i = 0; i < S->narenas; i++)
		ck_arena(&c, S->arenas[i], level);
#ifdef UM_SIM
	ck_tcaches(&c);
	if (level >= UM_CHECK_FULL)
		ck_words(&c);
#endif
	return c.problems;
}
