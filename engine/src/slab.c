/*
 * slab.c — SLUB-like kmem caches and kmalloc.
 *
 * Layout of an object slot (calculate_sizes()):
 *
 *   [left red zone][object ........ ][right red zone/align][free ptr][track alloc][track free][pad]
 *    red_left_pad   object_size        up to inuse           if P/RCU  if U (32 bytes each)
 *
 * Without P or RCU the free pointer lives inside the object, at
 * ALIGN_DOWN(object_size / 2, 8) as in modern kernels. Free pointers, poison
 * and red-zone bytes are real bytes in simulated RAM, so a trace that writes
 * out of bounds or after free really corrupts them; the engine therefore
 * validates every free pointer it follows and keeps its own truth in a
 * per-slab allocation bitmap: a double free, a foreign pointer or a corrupt
 * freelist is reported through the funnel and refused or repaired, and
 * never followed blindly.
 *
 * Per-cpu slabs and their lockless freelists are modelled (one cpu slab per
 * cpu; no per-cpu partial lists, as with CONFIG_SLUB_CPU_PARTIAL=n). Caches
 * with debug flags take the slow path for every object, as SLUB does, and
 * keep a full list. Compatible caches merge (slab_nomerge=0), as at boot.
 */
#include "slab.h"
#include "san.h"
#include <inttypes.h>

/* kmalloc_size_index[(size-1)/8] for sizes up to 192 (index 1 = 96, 2 = 192) */
static const uint8_t size_index[24] = { 3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7,
                                        2, 2, 2, 2, 2, 2, 2, 2 };


/* === Small helpers ====================================================== */

static inline bool cache_debug(const struct ra_cache *s) { return s->flags & SLAB_DEBUG_FLAGS; }
/* Does the ASan build poison this cache's free objects and slack? Not when
 * slub_debug guards it with red zones or poison: then the engine's own
 * checks find a trace's overwrite where the kernel's would (at free, at
 * allocation, in validation), with the same reports in every build, and
 * ASan must not stop the replay first. (KASAN, which ASan stands for,
 * covers the plain caches.) */
static inline bool san_watched(const struct ra_cache *s)
{
	return !(s->flags & (RA_SLAB_RED_ZONE | RA_SLAB_POISON));
}
static inline bool use_cpu_slab(ra_machine *m, const struct ra_cache *s)
{
	(void)m;
	return s->fastpath;
}
static inline ra_addr_t slab_base(const struct ra_slab *sl) { return pfn_to_kaddr(sl->pfn); }
static inline unsigned slab_order(ra_machine *m, const struct ra_slab *sl) { (void)m; return sl->order; }
static inline ra_addr_t obj_addr(const struct ra_cache *s, const struct ra_slab *sl, unsigned i)
{
	return slab_base(sl) + (ra_addr_t)i * s->size + s->red_left_pad;
}
static inline bool live_test(const struct ra_slab *sl, unsigned i) { return sl->live[i >> 6] >> (i & 63) & 1; }
static inline void live_set(struct ra_slab *sl, unsigned i) { sl->live[i >> 6] |= 1ULL << (i & 63); }
static inline void live_clear(struct ra_slab *sl, unsigned i) { sl->live[i >> 6] &= ~(1ULL << (i & 63)); }
static inline unsigned info_end(const struct ra_cache *s)
{
	return s->offset >= s->inuse ? s->offset + 8 : s->inuse;
}

static inline ra_addr_t get_fp(ra_machine *m, const struct ra_cache *s, ra_addr_t obj)
{
	return ra_raw_ld64(kaddr_host(m, obj + s->offset));
}
static inline void set_fp(ra_machine *m, const struct ra_cache *s, ra_addr_t obj, ra_addr_t fp)
{
	ra_raw_st64(kaddr_host(m, obj + s->offset), fp);
}

/* Object index of addr in sl, or -1 if addr is not an object start. */
static inline long obj_index(const struct ra_cache *s, const struct ra_slab *sl, unsigned order, ra_addr_t addr)
{
	ra_addr_t base = slab_base(sl) + s->red_left_pad;
	if (addr < base)
		return -1;
	uint64_t off = addr - base;
	if (off >= (RA_PAGE_SIZE << order))
		return -1;
	uint32_t idx = (uint32_t)((off * s->reciprocal) >> 32);
	if ((uint64_t)idx * s->size != off || idx >= sl->objects)
		return -1;
	return idx;
}

/* === Slab ids ============================================================ */

static uint32_t slab_id_alloc(ra_machine *m)
{
	if (m->slab_free_id != RA_NOSLAB) {
		uint32_t id = m->slab_free_id;
		m->slab_free_id = m->slabs[id].next;
		return id;
	}
	if (m->slab_ids_used == m->nr_slabs_cap) {
		uint32_t cap = m->nr_slabs_cap ? m->nr_slabs_cap * 2 : 256;
		struct ra_slab *n = realloc(m->slabs, cap * sizeof(*n));
		RA_BUG_ON(m, !n);
		m->slabs = n;
		m->nr_slabs_cap = cap;
	}
	return m->slab_ids_used++;
}

static void slab_id_free(ra_machine *m, uint32_t id)
{
	free(m->slabs[id].live);
	free(m->slabs[id].meta);
	free(m->slabs[id].internal);
	memset(&m->slabs[id], 0, sizeof(m->slabs[id]));
	m->slabs[id].cache = RA_NOSLAB;
	m->slabs[id].next = m->slab_free_id;
	m->slab_free_id = id;
}

/* === Slab lists ========================================================== */

void slab_list_add(ra_machine *m, struct ra_slab_list *l, uint32_t id, bool tail)
{
	struct ra_slab *s = slab_of(m, id);
	if (tail) {
		s->next = RA_NOSLAB;
		s->prev = l->tail;
		if (l->tail != RA_NOSLAB) slab_of(m, l->tail)->next = id; else l->head = id;
		l->tail = id;
	} else {
		s->prev = RA_NOSLAB;
		s->next = l->head;
		if (l->head != RA_NOSLAB) slab_of(m, l->head)->prev = id; else l->tail = id;
		l->head = id;
	}
	l->nr++;
}

void slab_list_del(ra_machine *m, struct ra_slab_list *l, uint32_t id)
{
	struct ra_slab *s = slab_of(m, id);
	if (s->prev != RA_NOSLAB) slab_of(m, s->prev)->next = s->next; else l->head = s->next;
	if (s->next != RA_NOSLAB) slab_of(m, s->next)->prev = s->prev; else l->tail = s->prev;
	s->next = s->prev = RA_NOSLAB;
	l->nr--;
}

static void add_partial(ra_machine *m, struct ra_cache *s, uint32_t id, bool tail)
{
	slab_list_add(m, &s->partial, id, tail);
	slab_of(m, id)->on_list = ON_PARTIAL;
}

void remove_partial(ra_machine *m, struct ra_cache *s, uint32_t id)
{
	slab_list_del(m, &s->partial, id);
	slab_of(m, id)->on_list = ON_NONE;
}

static void add_full(ra_machine *m, struct ra_cache *s, uint32_t id)
{
	if (!cache_debug(s))
		return;    /* SLUB tracks full slabs only when debugging */
	slab_list_add(m, &s->full, id, true);
	slab_of(m, id)->on_list = ON_FULL;
}

static void remove_full(ra_machine *m, struct ra_cache *s, uint32_t id)
{
	if (slab_of(m, id)->on_list != ON_FULL)
		return;
	slab_list_del(m, &s->full, id);
	slab_of(m, id)->on_list = ON_NONE;
}

/* === Debug: poison, red zones, tracks, reports ========================== */

void slab_bug(ra_machine *m, struct ra_cache *s, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ra_report_more(m, "=============================================================================");
	ra_report_more(m, "BUG %s (%s): %s", s->name, m->slab_tainted ? "Tainted: B" : "Not tainted", msg);
	ra_report_more(m, "-----------------------------------------------------------------------------");
	ra_report_more(m, "%s", "");
	m->slab_tainted = true;
}

static void print_track(ra_machine *m, const char *what, const uint8_t *t)
{
	uint64_t addr = ra_raw_ld64(t);
	uint32_t cpu = (uint32_t)ra_raw_ld64(t + 8);
	uint64_t when = ra_raw_ld64(t + 24);
	if (!addr)
		return;
	uint32_t file = (uint32_t)(addr >> 32), line = (uint32_t)addr;
	ra_report_more(m, "INFO: %s in %s:%u age=%" PRIu64 " cpu=%u pid=0", what,
	               file < m->nr_files ? ra_site_file(m, file) : "?", line,
	               m->op_seq >= when ? m->op_seq - when : 0, cpu);
}

static void print_trailer_(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj);

static void print_trailer(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj)
{
	if (unlikely(m->valgrind))
		RA_VG_QUIET_BEGIN();
	print_trailer_(m, s, sl, obj);
	if (unlikely(m->valgrind))
		RA_VG_QUIET_END();
}

static void print_trailer_(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj)
{
	uint8_t *p = kaddr_host(m, obj);
	if (s->flags & RA_SLAB_STORE_USER) {
		print_track(m, "Allocated", p + info_end(s));
		print_track(m, "Freed", p + info_end(s) + TRACK_SIZE);
	}
	ra_report_more(m, "INFO: Slab 0x%016" PRIx64 " objects=%u used=%u fp=0x%016" PRIx64 " flags=0x200(slab)",
	               slab_base(sl), sl->objects, sl->inuse, sl->freelist);
	ra_report_more(m, "INFO: Object 0x%016" PRIx64 " @offset=%" PRIu64 " fp=0x%016" PRIx64 "\n",
	               obj, obj - slab_base(sl), get_fp(m, s, obj));
	/* every section at most a page, as print_section() of the object is */
	uint8_t buf[4096];
	size_t n;
	if (s->flags & RA_SLAB_RED_ZONE) {
		n = RA_MIN((size_t)s->red_left_pad, sizeof(buf));
		ra_raw_copy(buf, p - n, n);
		ra_hexdump(m, "Redzone  ", obj - n, buf, n);
	}
	n = RA_MIN((size_t)s->object_size, sizeof(buf));
	ra_raw_copy(buf, p, n);
	ra_hexdump(m, "Object   ", obj, buf, n);
	if (s->flags & RA_SLAB_RED_ZONE) {
		n = RA_MIN((size_t)(s->inuse - s->object_size), sizeof(buf));
		ra_raw_copy(buf, p + s->object_size, n);
		ra_hexdump(m, "Redzone  ", obj + s->object_size, buf, n);
	}
	unsigned off = info_end(s) + ((s->flags & RA_SLAB_STORE_USER) ? 2 * TRACK_SIZE : 0);
	unsigned end = s->size - s->red_left_pad;
	if (off < end) {
		n = RA_MIN((size_t)(end - off), sizeof(buf));
		ra_raw_copy(buf, p + off, n);
		ra_hexdump(m, "Padding  ", obj + off, buf, n);
	}
}

/* check_bytes_and_report(): report and restore [start, start+len) != value. */
static bool check_bytes(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj,
                        const char *what, int cls, ra_addr_t start, int value, size_t len)
{
	uint8_t *p = kaddr_host(m, start);
	size_t i = ra_raw_find_not(p, value, len);
	if (i == len)
		return true;
	size_t last = len;
	while (last > i && ra_raw_find_not(p + last - 1, value, 1) == 1)
		last--;
	uint8_t b;
	ra_raw_copy(&b, p + i, 1);
	unsigned first = b;
	ra_report(m, cls, s->name, "%s overwritten at 0x%016" PRIx64 " (object 0x%016" PRIx64 ")",
	          what, start + i, obj);
	slab_bug(m, s, "%s overwritten", what);
	ra_report_more(m, "INFO: 0x%016" PRIx64 "-0x%016" PRIx64 " @offset=%" PRIu64 ". First byte 0x%x instead of 0x%x",
	               start + i, start + last - 1, start + i - slab_base(sl), first, value);
	print_trailer(m, s, sl, obj);
	ra_report_more(m, "FIX %s: Restoring %s 0x%016" PRIx64 "-0x%016" PRIx64 "=0x%x\n", s->name, what,
	               start + i, start + last - 1, value);
	ra_raw_fill(p + i, value, last - i);
	return false;
}

static void init_object(ra_machine *m, struct ra_cache *s, ra_addr_t obj, int val)
{
	uint8_t *p = kaddr_host(m, obj);
	if (s->flags & RA_SLAB_RED_ZONE)
		ra_raw_fill(p - s->red_left_pad, val, s->red_left_pad);
	if (s->flags & OBJECT_POISON) {
		ra_raw_fill(p, POISON_FREE, s->object_size - 1);
		ra_raw_fill(p + s->object_size - 1, POISON_END, 1);
	}
	if (s->flags & RA_SLAB_RED_ZONE)
		ra_raw_fill(p + s->object_size, val, s->inuse - s->object_size);
}

static void set_track(ra_machine *m, struct ra_cache *s, ra_addr_t obj, int which)
{
	if (!(s->flags & RA_SLAB_STORE_USER))
		return;
	uint8_t *t = kaddr_host(m, obj) + info_end(s) + (unsigned)which * TRACK_SIZE;
	ra_raw_st64(t, ((uint64_t)m->site.file << 32) | m->site.line);
	ra_raw_st64(t + 8, m->cpu);
	ra_raw_st64(t + 16, 0);
	ra_raw_st64(t + 24, m->op_seq);
}

static bool check_object_(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj, int val);

/* check_object(): red zones, poison, padding of one object. It reads free
 * objects, which Valgrind holds unaddressable: its reports are off meanwhile. */
static bool check_object(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj, int val)
{
	if (unlikely(m->valgrind))
		RA_VG_QUIET_BEGIN();
	bool ok = check_object_(m, s, sl, obj, val);
	if (unlikely(m->valgrind))
		RA_VG_QUIET_END();
	return ok;
}

static bool check_object_(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj, int val)
{
	bool ok = true;
	uint8_t *p = kaddr_host(m, obj);
	if (s->flags & RA_SLAB_RED_ZONE) {
		ok &= check_bytes(m, s, sl, obj, "Redzone", RC_REDZONE, obj - s->red_left_pad, val, s->red_left_pad);
		ok &= check_bytes(m, s, sl, obj, "Redzone", RC_REDZONE, obj + s->object_size, val,
		                  s->inuse - s->object_size);
	} else if ((s->flags & RA_SLAB_POISON) && s->object_size < s->inuse) {
		ok &= check_bytes(m, s, sl, obj, "Alignment padding", RC_PADDING, obj + s->object_size, POISON_INUSE,
		                  s->inuse - s->object_size);
	}
	if (s->flags & RA_SLAB_POISON) {
		if (val != SLUB_RED_ACTIVE && (s->flags & OBJECT_POISON)) {
			bool pok = check_bytes(m, s, sl, obj, "Poison", RC_POISON, obj, POISON_FREE, s->object_size - 1);
			if (pok)
				pok = check_bytes(m, s, sl, obj, "End Poison", RC_POISON, obj + s->object_size - 1, POISON_END, 1);
			ok &= pok;
		}
		unsigned off = info_end(s) + ((s->flags & RA_SLAB_STORE_USER) ? 2 * TRACK_SIZE : 0);
		unsigned end = s->size - s->red_left_pad;
		if (off < end)
			ok &= check_bytes(m, s, sl, obj, "Object padding", RC_PADDING, obj + off, POISON_INUSE, end - off);
	}
	(void)p;
	return ok;
}

/* === Freelist integrity ================================================== */

/* Is fp a valid next pointer in sl: 0, or a free object of sl? */
static inline bool fp_valid(const struct ra_cache *s, const struct ra_slab *sl, unsigned order, ra_addr_t fp)
{
	if (!fp)
		return true;
	long i = obj_index(s, sl, order, fp);
	return i >= 0 && !live_test(sl, (unsigned)i);
}


/* Rebuild a slab's free objects into one chain from the bitmap (our truth):
 * a frozen slab's all go to its cpu freelist, which leaves none freed
 * remotely (its count says every object is in use, the free ones being the
 * cpu's); a slab on the lists gets them as its own freelist, its count
 * unchanged (kept with the bitmap, and checked against it by the
 * validator). Used after a corrupt free pointer or a short chain was found.
 * The caller puts a slab that is no cpu's on the list its state calls for. */
static void rebuild_freelists(ra_machine *m, struct ra_cache *s, struct ra_slab *sl)
{
	ra_addr_t head = 0;
	for (unsigned i = sl->objects; i-- > 0;) {
		if (live_test(sl, i))
			continue;
		ra_addr_t o = obj_addr(s, sl, i);
		set_fp(m, s, o, head);
		head = o;
	}
	if (sl->frozen) {
		s->cpu[sl->cpu].freelist = head;
		sl->freelist = 0;
		sl->inuse = sl->objects;
	} else {
		sl->freelist = head;
	}
}

static void report_freeptr(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj, ra_addr_t fp)
{
	ra_report(m, RC_FREEPTR, s->name, "free pointer of object 0x%016" PRIx64 " is 0x%016" PRIx64
	          ", not a free object of its slab", obj, fp);
	slab_bug(m, s, "Freechain corrupt");
	print_trailer(m, s, sl, obj);
	ra_report_more(m, "FIX %s: Rebuilding the slab's freelist from the allocation map\n", s->name);
	rebuild_freelists(m, s, sl);
}

/* on_freelist()'s count check: the chains are sound but hold fewer objects
 * than the allocation map has free. A free pointer overwritten with NULL
 * ends the chain early (or one pointing further down it skips objects);
 * followed blindly, the slab would pass for full with free objects in it,
 * which it then never hands out. The kernel with F reports "Wrong object
 * count" and adjusts the counter, losing those objects; the engine has its
 * map and rebuilds the chain instead. "Counter" is the map's count of
 * allocated objects, "counted" what the chains imply. */
static void report_short_chain(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, unsigned live, long nfree,
                               long ncpu)
{
	ra_report(m, RC_FREEPTR, s->name, "slab 0x%016" PRIx64 ": %u in use + %ld free + %ld on the cpu freelist != %u "
	          "objects", slab_base(sl), live, nfree, ncpu, sl->objects);
	slab_bug(m, s, "Wrong object count. Counter is %u but counted were %ld", live, (long)sl->objects - nfree - ncpu);
	ra_report_more(m, "INFO: Slab 0x%016" PRIx64 " objects=%u used=%u fp=0x%016" PRIx64 " flags=0x200(slab)",
	               slab_base(sl), sl->objects, sl->inuse, sl->freelist);
	ra_report_more(m, "FIX %s: Rebuilding the slab's freelist from the allocation map\n", s->name);
	rebuild_freelists(m, s, sl);
}

/* After a rebuild outside an allocation: a slab that is no cpu's goes on
 * the list its state now calls for (free objects: partial). */
static void relist_slab(ra_machine *m, struct ra_cache *s, uint32_t id)
{
	struct ra_slab *sl = slab_of(m, id);
	if (sl->frozen)
		return;
	if (sl->freelist && sl->on_list != ON_PARTIAL) {
		remove_full(m, s, id);
		add_partial(m, s, id, true);
	} else if (!sl->freelist && sl->on_list == ON_PARTIAL) {
		remove_partial(m, s, id);
		add_full(m, s, id);
	}
}

/* === Slab creation and destruction ====================================== */


/* allocate_slab(): the preferred order without retrying, then the minimum. */
static uint32_t new_slab(ra_machine *m, struct ra_cache *s, ra_gfp_t gfp)
{
	/* new_slab(s, flags & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)): the
	 * caller's zone and mobility bits do not reach the page allocator; the
	 * cache's own (DMA, reclaimable) do. 6.1's GFP_RECLAIM_MASK keeps
	 * __GFP_ATOMIC: it grants nothing since 6.1.119, but a GFP_ATOMIC slab's
	 * page request is still GFP_ATOMIC in a failure message. */
	const ra_gfp_t keep = RA___GFP_RECLAIM | RA___GFP_HIGH | RA___GFP_IO | RA___GFP_FS | RA___GFP_NOWARN |
	                      RA___GFP_RETRY_MAYFAIL | RA___GFP_NOFAIL | RA___GFP_NORETRY | RA___GFP_MEMALLOC |
	                      RA___GFP_NOMEMALLOC | RA___GFP_ATOMIC | RA___GFP_HARDWALL | RA___GFP_THISNODE;
	gfp = (gfp & keep) | s->allocflags | RA___GFP_COMP;
	unsigned order = s->order;
	ra_gfp_t first = (gfp | RA___GFP_NOWARN | RA___GFP_NORETRY) & ~RA___GFP_NOFAIL;
	uint32_t pfn = RA_NOPFN;
	if (order > s->min_order)
		pfn = ra_alloc_pages_pfn(m, first, order, PO_SLAB);
	if (pfn == RA_NOPFN) {
		order = s->min_order;
		pfn = ra_alloc_pages_pfn(m, gfp, order, PO_SLAB);
		if (pfn == RA_NOPFN)
			return RA_NOSLAB;
	}
	uint32_t id = slab_id_alloc(m);
	struct ra_slab *sl = slab_of(m, id);
	memset(sl, 0, sizeof(*sl));
	sl->pfn = pfn;
	sl->order = (uint8_t)order;
	sl->cache = s->id;
#if RA_MUTANT == 9 /* mutant 9: one object too many per slab (the last one runs past the slab) */
	sl->objects = (uint16_t)(order_objects(order, s->size) + 1);
#else
	sl->objects = (uint16_t)order_objects(order, s->size);
#endif
	sl->next = sl->prev = RA_NOSLAB;
	sl->live = calloc((sl->objects + 63u) / 64u, sizeof(uint64_t));
	sl->meta = malloc(sl->objects * sizeof(uint64_t));
	RA_BUG_ON(m, !sl->live || !sl->meta);
	struct ra_page *pg = pfn_page(m, pfn);
	pg->priv = id;
	pg->mt = (uint8_t)s->mt;    /* accounting class: reclaimable or not */
	s->nr_slabs++;
	s->total_objects += sl->objects;
	s->slab_pages += 1u << order;
	uint8_t *host = pfn_host(m, pfn);
	size_t bytes = (size_t)RA_PAGE_SIZE << order;
	ra_ram_mark_range(m, pfn, 1u << order);    /* objects span its pages: every one is written */
	if (s->flags & RA_SLAB_POISON)
		ra_raw_fill(host, POISON_INUSE, bytes);
	/* Chain all objects in address order; debug caches get their red zones,
	 * poison and tracks initialised. */
#if RA_MUTANT == 7 /* mutant 7: slab freelist pointer past the slab (the last object links one past the end) */
	ra_addr_t next = obj_addr(s, sl, sl->objects);
#else
	ra_addr_t next = 0;
#endif
	for (unsigned i = sl->objects; i-- > 0;) {
		ra_addr_t o = obj_addr(s, sl, i);
		if (cache_debug(s)) {
			init_object(m, s, o, SLUB_RED_INACTIVE);
			if (s->flags & RA_SLAB_STORE_USER)
				ra_raw_fill(kaddr_host(m, o) + info_end(s), 0, 2 * TRACK_SIZE);
		}
		set_fp(m, s, o, next);
		next = o;
	}
	sl->freelist = next;
	if (san_watched(s))
		ra_san_poison(host, bytes);
	return id;
}

void discard_slab(ra_machine *m, struct ra_cache *s, uint32_t id)
{
	struct ra_slab *sl = slab_of(m, id);
	unsigned order = slab_order(m, sl);
	s->nr_slabs--;
	s->total_objects -= sl->objects;
	s->slab_pages -= 1u << order;
	uint32_t pfn = sl->pfn;
	slab_id_free(m, id);
	ra_free_pages_pfn(m, pfn, order);
}

/* deactivate_slab(): give the cpu slab back, its cpu freelist merged in. */
void deactivate_slab(ra_machine *m, struct ra_cache *s, unsigned cpu)
{
	struct ra_cpu_slab *c = &s->cpu[cpu];
	if (c->slab == RA_NOSLAB)
		return;
	uint32_t id = c->slab;
	struct ra_slab *sl = slab_of(m, id);
	bool remote = sl->freelist != 0;
	/* Rebuild rather than splice: the bitmap is the truth, and any corrupt
	 * pointer in either chain is left behind. */
	sl->frozen = 0;
	c->slab = RA_NOSLAB;
	c->freelist = 0;
	sl->inuse = (uint16_t)live_count(sl);
	rebuild_freelists(m, s, sl);
	if (!sl->inuse && s->partial.nr >= s->min_partial)
		discard_slab(m, s, id);
	else if (sl->freelist)
		add_partial(m, s, id, remote);
}

/* === Allocation ========================================================= */

static inline void post_alloc(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, unsigned idx, ra_addr_t obj,
                              ra_gfp_t gfp, size_t req)
{
	uint8_t *p = kaddr_host(m, obj);
	sl->meta[idx] = ((uint64_t)ra_site32(m) << 32) | (uint32_t)(req ? req : s->object_size);
	ra_vg_alloc(m, p, req ? req : s->object_size, gfp & RA___GFP_ZERO);
	/* The whole object is zeroed (slab_post_alloc_hook); only the requested
	 * bytes become addressable, as KASAN does for kmalloc. Under Valgrind
	 * the bytes past the request may still be NOACCESS from a bigger
	 * request that freed this object: the engine's own write is no error. */
	if (unlikely(gfp & RA___GFP_ZERO)) {
		if (unlikely(m->valgrind))
			RA_VG_QUIET_BEGIN();
		ra_raw_fill(p, 0, s->object_size);
		if (unlikely(m->valgrind))
			RA_VG_QUIET_END();
	}
	ra_san_unpoison(p, req ? req : s->object_size);
	s->nr_alloc++;
}

/* Take one object from a non-frozen slab's freelist (slow/debug path). */
static ra_addr_t take_from_slab(ra_machine *m, struct ra_cache *s, uint32_t id)
{
	struct ra_slab *sl = slab_of(m, id);
	unsigned order = slab_order(m, sl);
	ra_addr_t obj = sl->freelist;
	if (!fp_valid(s, sl, order, obj) || !obj) {
		report_freeptr(m, s, sl, obj ? obj : slab_base(sl), obj);
		obj = sl->freelist;
		if (!obj)
			return 0;
	}
	ra_addr_t next = get_fp(m, s, obj);
	long idx = obj_index(s, sl, order, obj);
	live_set(sl, (unsigned)idx);
	sl->inuse++;
	if (!fp_valid(s, sl, order, next))
		report_freeptr(m, s, sl, obj, next);
	else if (unlikely(!next && sl->inuse != sl->objects)) {
		sl->freelist = 0;     /* where the chain, followed, ends */
		report_short_chain(m, s, sl, sl->inuse, 0, 0);
	} else
		sl->freelist = next;
	return obj;
}

/* alloc_debug_processing(): the object must be free and intact. */
static void alloc_debug(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t obj)
{
	if (s->flags & RA_SLAB_CONSISTENCY_CHECKS)
		check_object(m, s, sl, obj, SLUB_RED_INACTIVE);
	set_track(m, s, obj, 0);
	init_object(m, s, obj, SLUB_RED_ACTIVE);
}

static ra_addr_t slab_alloc_slow(ra_machine *m, struct ra_cache *s, ra_gfp_t gfp)
{
	if (!use_cpu_slab(m, s)) {
		/* alloc_single_from_partial() / alloc_single_from_new_slab() */
		uint32_t id = s->partial.head;
		bool fresh = false;
		if (id == RA_NOSLAB) {
			id = new_slab(m, s, gfp);
			if (id == RA_NOSLAB)
				return 0;
			fresh = true;
		}
		struct ra_slab *sl = slab_of(m, id);
		ra_addr_t obj = take_from_slab(m, s, id);
		if (!obj)
			return 0;
		if (fresh) {
			if (sl->freelist)
				add_partial(m, s, id, false);
			else
				add_full(m, s, id);
		} else if (!sl->freelist) {
			remove_partial(m, s, id);
			add_full(m, s, id);
		}
		if (cache_debug(s))
			alloc_debug(m, s, sl, obj);
		return obj;
	}
	/* ___slab_alloc() */
	struct ra_cpu_slab *c = &s->cpu[m->cpu];
	if (c->slab != RA_NOSLAB && c->freelist)
		goto load;      /* the fast path found a corrupt pointer; it was repaired */
	if (c->slab != RA_NOSLAB) {
		struct ra_slab *sl = slab_of(m, c->slab);
		if (sl->freelist) {
			/* get_freelist(): objects freed to it by other cpus */
			c->freelist = sl->freelist;
			sl->freelist = 0;
			sl->inuse = sl->objects;
			goto load;
		}
		/* Both chains are used up: the slab is full, unless a trace cut a
		 * chain short. Once per slab, so the map's count is cheap here. */
		unsigned live = live_count(sl);
		if (unlikely(live != sl->objects)) {
			report_short_chain(m, s, sl, live, 0, 0);
			goto load;
		}
		sl->frozen = 0;     /* full: SLUB forgets full slabs */
		c->slab = RA_NOSLAB;
	}
	uint32_t id = s->partial.head;
	if (id != RA_NOSLAB) {
		remove_partial(m, s, id);
	} else {
		id = new_slab(m, s, gfp);
		if (id == RA_NOSLAB)
			return 0;
	}
	struct ra_slab *sl = slab_of(m, id);
	sl->frozen = 1;
	sl->cpu = (uint8_t)m->cpu;
	c->slab = id;
	c->freelist = sl->freelist;
	sl->freelist = 0;
	sl->inuse = sl->objects;
load:;
	sl = slab_of(m, c->slab);
	unsigned order = slab_order(m, sl);
	ra_addr_t obj = c->freelist;
	if (!obj || !fp_valid(s, sl, order, obj)) {
		report_freeptr(m, s, sl, slab_base(sl), obj);
		obj = c->freelist;
		if (!obj) {
			deactivate_slab(m, s, m->cpu);
			return slab_alloc_slow(m, s, gfp);
		}
	}
	ra_addr_t next = get_fp(m, s, obj);
	live_set(sl, (unsigned)obj_index(s, sl, order, obj));
	if (!fp_valid(s, sl, order, next))
		report_freeptr(m, s, sl, obj, next);
	else
		c->freelist = next;
	return obj;
}

/* slab_alloc_node(): the lockless fast path, then the slow path. */
static inline ra_addr_t slab_alloc(ra_machine *m, struct ra_cache *s, ra_gfp_t gfp, size_t req)
{
	if (ra_should_fail(m, FAIL_SLAB, gfp))
		return 0;
	struct ra_cpu_slab *c = &s->cpu[m->cpu];
	ra_addr_t obj = c->freelist;
	if (likely(obj)) {
		/* Each pointer taken off the lockless freelist is checked when it is
		 * taken: inside the cpu slab, an object start, not allocated. A
		 * corrupt next pointer is therefore caught by the pop that reads it. */
		struct ra_slab *sl = slab_of(m, c->slab);
		long idx = obj_index(s, sl, sl->order, obj);
		if (likely(idx >= 0 && !live_test(sl, (unsigned)idx))) {
			c->freelist = get_fp(m, s, obj);
			live_set(sl, (unsigned)idx);
			post_alloc(m, s, sl, (unsigned)idx, obj, gfp, req);
			return obj;
		}
		report_freeptr(m, s, sl, slab_base(sl), obj);
	}
	obj = slab_alloc_slow(m, s, gfp);
	if (obj) {
		struct ra_slab *sl = slab_of(m, pfn_page(m, ra_block_head(m, kaddr_pfn(obj)))->priv);
		post_alloc(m, s, sl, (unsigned)obj_index(s, sl, sl->order, obj), obj, gfp, req);
	}
	return obj;
}

/* === Free =============================================================== */

/* free_consistency_checks() + the frees of __slab_free() */
static int slab_free(ra_machine *m, struct ra_cache *s, uint32_t id, ra_addr_t obj, const char *who, bool internal)
{
	struct ra_slab *sl = slab_of(m, id);
	unsigned order = slab_order(m, sl);
	long idx = obj_index(s, sl, order, obj);
	if (idx < 0) {
		ra_report(m, RC_INVALID_FREE, s->name, "%s(0x%016" PRIx64 "): not the start of an object", who, obj);
		slab_bug(m, s, "Invalid object pointer 0x%016" PRIx64, obj);
		return -1;
	}
#if RA_MUTANT == 8 /* mutant 8: slab double free not caught (the allocation-map test skipped) */
	if (0) {
#else
	if (!live_test(sl, (unsigned)idx)) {
#endif
		ra_report(m, RC_DOUBLE_FREE, s->name, "%s(0x%016" PRIx64 "): object already free", who, obj);
		if (cache_debug(s)) {
			slab_bug(m, s, "Object already free");
			print_trailer(m, s, sl, obj);
		}
		return -1;
	}
	bool held = sl->internal && (sl->internal[idx >> 6] >> (idx & 63) & 1);
	if (held != internal) {
		RA_BUG_ON(m, internal);    /* the kernel frees only its own objects */
		ra_report(m, RC_INVALID_FREE, s->name, "%s(0x%016" PRIx64 "): the kernel's own object, not the trace's",
		          who, obj);
		return -1;
	}
	if (cache_debug(s)) {
		/* free_debug_processing(): the object is checked only with
		 * SLAB_CONSISTENCY_CHECKS (F); with Z or P alone a damaged red
		 * zone or poison is silently re-initialised, and only validation
		 * (`check full`) would have seen it. Under Valgrind the block is
		 * the request, and the bytes past it may be NOACCESS (a krealloc
		 * that shrank it in place, a bigger request before): the engine's
		 * own check and poisoning of the whole object is no error. */
		if (unlikely(m->valgrind))
			RA_VG_QUIET_BEGIN();
		bool bad = (s->flags & RA_SLAB_CONSISTENCY_CHECKS) && !check_object(m, s, sl, obj, SLUB_RED_ACTIVE);
		if (!bad) {
			set_track(m, s, obj, 1);
			init_object(m, s, obj, SLUB_RED_INACTIVE);
		}
		if (unlikely(m->valgrind))
			RA_VG_QUIET_END();
		if (bad) {
			ra_report_more(m, "FIX %s: Object at 0x%016" PRIx64 " not freed", s->name, obj);
			return -1;
		}
	}
	if (held)
		sl->internal[idx >> 6] &= ~(1ULL << (idx & 63));
	uint8_t *p = kaddr_host(m, obj);
	if (san_watched(s))
		ra_san_poison(p, s->object_size);
	/* Valgrind likewise: a free object of a red-zoned or poisoned cache
	 * stays addressable, so slub_debug finds a trace's write to it (the
	 * same report in every build) and the engine's own poisoning and
	 * checking of it is no error */
	if (!internal && san_watched(s))
		ra_vg_free(m, p, s->offset, 8);
	else if (!internal)
		ra_vg_forget(m, p, s->object_size);
	live_clear(sl, (unsigned)idx);
	s->nr_free++;
	if (sl->frozen) {
		struct ra_cpu_slab *c = &s->cpu[sl->cpu];
		if (sl->cpu == m->cpu) {
			set_fp(m, s, obj, c->freelist);   /* do_slab_free() fast path */
			c->freelist = obj;
		} else {
			set_fp(m, s, obj, sl->freelist);  /* a remote free to another cpu's slab */
			sl->freelist = obj;
			sl->inuse--;
		}
		return 0;
	}
	bool was_full = sl->freelist == 0;
	set_fp(m, s, obj, sl->freelist);
	sl->freelist = obj;
	sl->inuse--;
	if (!sl->inuse && s->partial.nr >= s->min_partial) {
		if (sl->on_list == ON_PARTIAL)
			remove_partial(m, s, id);
		else
			remove_full(m, s, id);
		discard_slab(m, s, id);
		return 0;
	}
	if (was_full) {
		remove_full(m, s, id);
		add_partial(m, s, id, true);
	}
	return 0;
}

/* Resolve a kernel address to its slab; 0 = slab object, 1 = large kmalloc. */
static int resolve(ra_machine *m, ra_addr_t p, const char *who, uint32_t *slab_id, uint32_t *head_pfn)
{
	if (!kaddr_valid(m, p)) {
		ra_report(m, RC_INVALID_FREE, who, "0x%016" PRIx64 " is not a kernel direct-map address", p);
		return -1;
	}
	uint32_t head = ra_block_head(m, kaddr_pfn(p));
	struct ra_page *pg = head == RA_NOPFN ? NULL : pfn_page(m, head);
	if (pg && pg->owner == PO_SLAB) {
		*slab_id = pg->priv;
		return 0;
	}
	if (pg && pg->owner == PO_KMALLOC) {
		if (p != pfn_to_kaddr(head)) {
			ra_report(m, RC_INVALID_FREE, who, "0x%016" PRIx64 " points inside a large kmalloc", p);
			return -1;
		}
		*head_pfn = head;
		return 1;
	}
	if (pg && (pg->owner == PO_BUDDY || pg->owner == PO_PCP))
		ra_report(m, RC_DOUBLE_FREE, who, "0x%016" PRIx64 " lies in a free page", p);
	else
		ra_report(m, RC_INVALID_FREE, who, "0x%016" PRIx64 " is not slab or kmalloc memory (page owner %u)", p,
		          pg ? pg->owner : 0);
	return -1;
}

/* The common kfree: an object of a cpu slab of this cpu (do_slab_free()'s
 * fast path), with the same checks as the slow path: an object start, and
 * allocated. Anything else takes kfree_slow(). */
static int kfree_slow(ra_machine *m, ra_addr_t p, bool internal);

int ra_kfree(ra_machine *m, ra_addr_t p)
{
	if (likely(kaddr_valid(m, p))) {
		struct ra_page *pg = pfn_page(m, kaddr_pfn(p));
		if (likely(pg->owner == PO_SLAB)) {
			struct ra_slab *sl = slab_of(m, pg->priv);
			struct ra_cache *s = m->caches[sl->cache];
			if (likely(sl->frozen && sl->cpu == m->cpu && s->fastpath && !sl->internal)) {
				uint64_t off = p - (pfn_to_kaddr(sl->pfn) + s->red_left_pad);
				uint32_t idx = (uint32_t)((off * s->reciprocal) >> 32);
				if (likely(off < (RA_PAGE_SIZE << sl->order) && (uint64_t)idx * s->size == off &&
				           live_test(sl, idx))) {
					struct ra_cpu_slab *c = &s->cpu[m->cpu];
					ra_san_poison(kaddr_host(m, p), s->object_size);
					ra_vg_free(m, kaddr_host(m, p), s->offset, 8);
					live_clear(sl, idx);
					set_fp(m, s, p, c->freelist);
					c->freelist = p;
					s->nr_free++;
					return 0;
				}
			}
		}
	}
	return kfree_slow(m, p, false);
}

static int kfree_slow(ra_machine *m, ra_addr_t p, bool internal)
{
	if (p <= RA_ZERO_SIZE_PTR)
		return 0;
	uint32_t id = 0, head = 0;
	int r = resolve(m, p, "kfree", &id, &head);
	if (r < 0)
		return -1;
	if (r == 1) {
		ra_vg_free(m, pfn_host(m, head), 0, 0);
		ra_free_pages_pfn(m, head, pfn_page(m, head)->order);
		return 0;
	}
	return slab_free(m, cache_of(m, slab_of(m, id)->cache), id, p, "kfree", internal);
}

/* Mark an object just allocated as the kernel's own. */
static ra_addr_t mark_internal(ra_machine *m, ra_addr_t obj)
{
	if (!obj || obj == RA_ZERO_SIZE_PTR)
		return obj;
	uint32_t head = ra_block_head(m, kaddr_pfn(obj));
	RA_BUG_ON(m, head == RA_NOPFN || pfn_page(m, head)->owner != PO_SLAB);
	struct ra_slab *sl = slab_of(m, pfn_page(m, head)->priv);
	struct ra_cache *s = cache_of(m, sl->cache);
	long idx = obj_index(s, sl, sl->order, obj);
	RA_BUG_ON(m, idx < 0);
	if (!sl->internal) {
		sl->internal = calloc((sl->objects + 63u) / 64u, sizeof(uint64_t));
		RA_BUG_ON(m, !sl->internal);
	}
	sl->internal[idx >> 6] |= 1ULL << (idx & 63);
	ra_vg_forget(m, kaddr_host(m, obj), s->object_size);
	return obj;
}

ra_addr_t ra_kmalloc_internal(ra_machine *m, size_t size, ra_gfp_t gfp)
{
	RA_BUG_ON(m, size > KMALLOC_MAX_CACHE_SIZE);
	return mark_internal(m, ra_kmalloc(m, size, gfp));
}

/* The kernel's own frees cannot be refused for the trace's reasons, but
 * slub_debug may refuse one whose red zone a trace overwrote: reported,
 * and the object stays allocated, as in the kernel. */
void ra_kfree_internal(ra_machine *m, ra_addr_t p)
{
	kfree_slow(m, p, true);
}

ra_addr_t ra_kmem_cache_alloc_internal(ra_machine *m, ra_cache *c, ra_gfp_t gfp)
{
	return mark_internal(m, ra_kmem_cache_alloc(m, c, gfp));
}

void ra_kmem_cache_free_internal(ra_machine *m, ra_cache *c, ra_addr_t p)
{
	(void)c;
	kfree_slow(m, p, true);
}

bool ra_slab_object_internal(ra_machine *m, ra_addr_t p)
{
	if (!kaddr_valid(m, p))
		return false;
	uint32_t head = ra_block_head(m, kaddr_pfn(p));
	if (head == RA_NOPFN || pfn_page(m, head)->owner != PO_SLAB)
		return false;
	struct ra_slab *sl = slab_of(m, pfn_page(m, head)->priv);
	long idx = obj_index(cache_of(m, sl->cache), sl, sl->order, p);
	return idx >= 0 && sl->internal && (sl->internal[idx >> 6] >> (idx & 63) & 1);
}

int ra_kmem_cache_free(ra_machine *m, ra_cache *c, ra_addr_t p)
{
	if (!p)
		return 0;
	struct ra_cache *s = c->merged_into_valid ? cache_of(m, c->merged_into) : c;
	uint32_t id = 0, head = 0;
	int r = resolve(m, p, s->name, &id, &head);
	if (r < 0)
		return -1;
	if (r == 1 || slab_of(m, id)->cache != s->id) {
		ra_report(m, RC_WRONG_CACHE, s->name, "kmem_cache_free(%s, 0x%016" PRIx64 "): object belongs to %s",
		          s->name, p, r == 1 ? "a large kmalloc" : cache_of(m, slab_of(m, id)->cache)->name);
		return -1;
	}
	return slab_free(m, s, id, p, "kmem_cache_free", false);
}

ra_addr_t ra_kmem_cache_alloc(ra_machine *m, ra_cache *c, ra_gfp_t gfp)
{
	struct ra_cache *s = slab_real_cache(m, c);
	return slab_alloc(m, s, gfp, s->object_size);
}

/* === kmalloc ============================================================ */

static inline unsigned kmalloc_index(size_t size)
{
	if (size <= 192)
		return size_index[(size - 1) / 8];
	return ra_fls(size - 1);
}

struct ra_cache *ra_kmalloc_cache(ra_machine *m, size_t size, ra_gfp_t gfp)
{
	int type = 0;
	if (gfp & RA___GFP_DMA)
		type = 2;
	else if (gfp & RA___GFP_RECLAIMABLE)
		type = 1;
	struct ra_cache *s = m->kmalloc_caches[type][kmalloc_index(size)];
	return s ? s : m->kmalloc_caches[0][kmalloc_index(size)];
}

static ra_addr_t kmalloc_large(ra_machine *m, size_t size, ra_gfp_t gfp)
{
	if (size > KMALLOC_MAX_SIZE) {
		if (!(gfp & RA___GFP_NOWARN))
			ra_log(m, "kmalloc(%zu): larger than KMALLOC_MAX_SIZE (%llu)", size,
			       (unsigned long long)KMALLOC_MAX_SIZE);
		return 0;
	}
	uint32_t pfn = ra_alloc_pages_pfn(m, gfp | RA___GFP_COMP, ra_get_order(size), PO_KMALLOC);
	if (pfn == RA_NOPFN)
		return 0;
	pfn_page(m, pfn)->count = (uint32_t)size;       /* requested size, for leak reports */
	ra_vg_alloc(m, pfn_host(m, pfn), size, gfp & RA___GFP_ZERO);
	return pfn_to_kaddr(pfn);
}

ra_addr_t ra_kmalloc(ra_machine *m, size_t size, ra_gfp_t gfp)
{
	if (unlikely(size - 1 >= KMALLOC_MAX_CACHE_SIZE))
		return size ? kmalloc_large(m, size, gfp) : RA_ZERO_SIZE_PTR;
	struct ra_cache *s;
	if (likely(!(gfp & (RA___GFP_DMA | RA___GFP_RECLAIMABLE))))
		s = m->kmalloc_caches[0][kmalloc_index(size)];
	else
		s = ra_kmalloc_cache(m, size, gfp);
	return slab_alloc(m, s, gfp, size);
}

ra_addr_t ra_kzalloc(ra_machine *m, size_t size, ra_gfp_t gfp) { return ra_kmalloc(m, size, gfp | RA___GFP_ZERO); }

size_t ra_ksize(ra_machine *m, ra_addr_t p)
{
	if (p <= RA_ZERO_SIZE_PTR || !kaddr_valid(m, p))
		return 0;
	uint32_t head = ra_block_head(m, kaddr_pfn(p));
	if (head == RA_NOPFN)
		return 0;
	struct ra_page *pg = pfn_page(m, head);
	if (pg->owner == PO_KMALLOC)
		return (size_t)RA_PAGE_SIZE << pg->order;
	if (pg->owner == PO_SLAB)
		return cache_of(m, slab_of(m, pg->priv)->cache)->object_size;
	return 0;
}

ra_addr_t ra_krealloc(ra_machine *m, ra_addr_t p, size_t size, ra_gfp_t gfp)
{
	if (!size) {
		ra_kfree(m, p);
		return RA_ZERO_SIZE_PTR;
	}
	size_t ks = 0;
	if (p > RA_ZERO_SIZE_PTR) {
		uint32_t id = 0, head = 0;
		int r = resolve(m, p, "krealloc", &id, &head);
		if (r < 0)
			return 0;
		if (r == 0) {
			struct ra_slab *sl = slab_of(m, id);
			struct ra_cache *s = cache_of(m, sl->cache);
			long idx = obj_index(s, sl, slab_order(m, sl), p);
			if (idx < 0 || !live_test(sl, (unsigned)idx)) {
				ra_report(m, idx < 0 ? RC_INVALID_FREE : RC_DOUBLE_FREE, s->name,
				          "krealloc(0x%016" PRIx64 "): %s", p, idx < 0 ? "not an object" : "object is free");
				return 0;
			}
			/* as kfree: an object the kernel holds for itself (a vmalloc
			 * area's page array) is no trace's to resize */
			if (sl->internal && (sl->internal[idx >> 6] >> (idx & 63) & 1)) {
				ra_report(m, RC_INVALID_FREE, s->name, "krealloc(0x%016" PRIx64 "): the kernel's own object, "
				          "not the trace's", p);
				return 0;
			}
		}
		ks = ra_ksize(m, p);
		if (ks >= size) {
			/* in place: the object now holds `size` bytes for its owner */
			uint32_t hd = ra_block_head(m, kaddr_pfn(p));
			struct ra_page *pg = pfn_page(m, hd);
			size_t oldreq;
			if (pg->owner == PO_SLAB) {
				struct ra_slab *sl = slab_of(m, pg->priv);
				long idx = obj_index(cache_of(m, sl->cache), sl, sl->order, p);
				oldreq = (uint32_t)sl->meta[idx];
				sl->meta[idx] = (sl->meta[idx] & ~0xffffffffULL) | (uint32_t)size;
			} else {
				oldreq = pg->count;
				pg->count = (uint32_t)size;
			}
			if (unlikely(m->valgrind))
				VALGRIND_RESIZEINPLACE_BLOCK(kaddr_host(m, p), oldreq, size, 0);
			ra_san_unpoison(kaddr_host(m, p), size);
			return p;
		}
	}
	ra_addr_t n = ra_kmalloc(m, size, gfp);
	if (n && ks) {
		ra_ram_mark_range(m, kaddr_pfn(n), kaddr_pfn(n + ks - 1) - kaddr_pfn(n) + 1);
		/* ksize() bytes, as the kernel copies (KASAN: ksize() makes the
		 * whole object accessible); Valgrind's block is the request */
		if (unlikely(m->valgrind))
			RA_VG_QUIET_BEGIN();
		ra_raw_copy(kaddr_host(m, n), kaddr_host(m, p), ks);
		if (unlikely(m->valgrind))
			RA_VG_QUIET_END();
		ra_kfree(m, p);
	}
	return n;
}

/* === Walks for leak reports and validators ============================= */

void ra_slab_for_each_live(ra_machine *m, void (*fn)(void *arg, struct ra_cache *c, ra_addr_t obj,
                                                      const struct ra_track *t), void *arg)
{
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		struct ra_slab *sl = slab_of(m, id);
		if (!sl->live)
			continue;
		struct ra_cache *s = cache_of(m, sl->cache);
		for (unsigned i = 0; i < sl->objects; i++)
			if (live_test(sl, i))
				fn(arg, s, obj_addr(s, sl, i), NULL);
	}
}

const struct ra_track *ra_slab_alloc_track(ra_machine *m, struct ra_cache *c, ra_addr_t obj)
{
	(void)m; (void)c; (void)obj;
	return NULL;
}

/* Walk one chain of free objects: every element inside sl, a free object,
 * seen once. Returns its length, or -1 with *bad_prev and *bad at the first
 * link that is not: the object whose in-band pointer is wrong (0 when the
 * chain's head itself is) and the value found. */
static long walk_chain(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, ra_addr_t head, uint64_t *seen,
                       ra_addr_t *bad_prev, ra_addr_t *bad)
{
	long n = 0;
	ra_addr_t prev = 0;
	for (ra_addr_t o = head; o; prev = o, o = get_fp(m, s, o)) {
		long i = obj_index(s, sl, sl->order, o);
		if (i < 0 || live_test(sl, (unsigned)i) || (seen[i >> 6] >> (i & 63) & 1)) {
			*bad_prev = prev;
			*bad = o;
			return -1;
		}
		seen[i >> 6] |= 1ULL << (i & 63);
		n++;
	}
	return n;
}

/* Both chains of a slab (its own and, when frozen, its cpu's), checked
 * against the allocation bitmap. In-band pointers are the trace's to
 * corrupt: a broken chain, or a well-formed one that does not hold every
 * free object (a free pointer overwritten with NULL truncates it), is
 * reported as misuse ("Freechain corrupt", as validate_slab() would) and
 * rebuilt from the bitmap, then walked again. Returns false only when the
 * rebuilt chains are still wrong: an engine inconsistency. */
static bool walk_chains(ra_machine *m, struct ra_cache *s, struct ra_slab *sl, unsigned live)
{
	uint64_t seen[512];
	size_t words = (sl->objects + 63u) / 64u;
	for (int attempt = 0; attempt < 2; attempt++) {
		memset(seen, 0, words * sizeof(seen[0]));
		ra_addr_t bp = 0, bad = 0;
		long nfree = walk_chain(m, s, sl, sl->freelist, seen, &bp, &bad);
		long ncpu = 0;
		if (nfree >= 0 && sl->frozen && sl->cpu < m->ncpus && s->cpu[sl->cpu].slab == (uint32_t)(sl - m->slabs))
			ncpu = walk_chain(m, s, sl, s->cpu[sl->cpu].freelist, seen, &bp, &bad);
		if (nfree >= 0 && ncpu >= 0 && live + (unsigned long)nfree + (unsigned long)ncpu == sl->objects)
			return true;
		if (attempt)
			break;
		if (nfree >= 0 && ncpu >= 0)
			report_short_chain(m, s, sl, live, nfree, ncpu);   /* sound but too short */
		else
			report_freeptr(m, s, sl, bp ? bp : slab_base(sl) + s->red_left_pad, bad);
		relist_slab(m, s, (uint32_t)(sl - m->slabs));
	}
	return false;
}

/* inband: also read what lives in simulated RAM — the free chains and, for
 * debug caches, every object's red zones, poison and padding — reporting
 * what a trace corrupted as misuse (with the kernel's FIX) rather than as
 * problems. The per-operation tier leaves RAM alone, so that a trace's
 * corruption is found where the kernel finds it (at free or allocation,
 * or by an explicit `check full`) whatever the --check level. */
static long slab_validate(ra_machine *m, bool full, bool inband);
long ra_slab_validate(ra_machine *m, bool full) { return slab_validate(m, full, full); }
long ra_slab_validate_structures(ra_machine *m) { return slab_validate(m, true, false); }

static long slab_validate(ra_machine *m, bool full, bool inband)
{
	long problems = 0;
	uint64_t rcl = 0, unrcl = 0;
	uint64_t *nslabs = calloc(m->nr_caches + 1, sizeof(uint64_t));
	uint64_t *nobjs = calloc(m->nr_caches + 1, sizeof(uint64_t));
	RA_BUG_ON(m, !nslabs || !nobjs);
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		struct ra_slab *sl = slab_of(m, id);
		if (!sl->live)
			continue;
		if (sl->cache >= m->nr_caches || !m->caches[sl->cache]) {
			ra_problem(m, &problems, "slab %u belongs to no cache", id);
			continue;
		}
		struct ra_cache *s = cache_of(m, sl->cache);
		struct ra_page *pg = pfn_page(m, sl->pfn);
		if (pg->owner != PO_SLAB || pg->priv != id) {
			ra_problem(m, &problems, "slab cache %s: slab %u's head pfn %#x is not marked as that slab", s->name,
			           id, sl->pfn);
			continue;
		}
		unsigned order = pg->order;
		nslabs[s->id]++;
		nobjs[s->id] += sl->objects;
		if (s->mt == MT_RECLAIMABLE)
			rcl += 1u << order;
		else
			unrcl += 1u << order;
		if (sl->objects != order_objects(order, s->size))
			ra_problem(m, &problems, "slab cache %s: slab 0x%016" PRIx64 " has %u objects, order %u holds %u",
			           s->name, slab_base(sl), sl->objects, order, order_objects(order, s->size));
		unsigned live = live_count(sl);
		if (sl->order != order)
			ra_problem(m, &problems, "slab cache %s: slab %u records order %u, its head frame %u", s->name, id,
			           sl->order, order);
		if (sl->frozen && (sl->cpu >= m->ncpus || s->cpu[sl->cpu].slab != id))
			ra_problem(m, &problems, "slab cache %s: frozen slab 0x%016" PRIx64 " is no cpu's slab",
			           s->name, slab_base(sl));
		if (inband && !walk_chains(m, s, sl, live))
			ra_problem(m, &problems, "slab cache %s: slab 0x%016" PRIx64 "'s free lists stay wrong after a rebuild",
			           s->name, slab_base(sl));
		if (!sl->frozen && sl->inuse != live)
			ra_problem(m, &problems, "slab cache %s: slab 0x%016" PRIx64 " inuse=%u but %u objects allocated",
			           s->name, slab_base(sl), sl->inuse, live);
		if (sl->on_list == ON_PARTIAL && (sl->frozen || !sl->freelist))
			ra_problem(m, &problems, "slab cache %s: slab 0x%016" PRIx64 " on the partial list is %s",
			           s->name, slab_base(sl), sl->frozen ? "frozen" : "full");
		/* validate_slab(): red zones, poison, padding; misuse, repaired */
		if (inband && cache_debug(s) && (s->flags & (RA_SLAB_RED_ZONE | RA_SLAB_POISON)))
			for (unsigned i = 0; i < sl->objects; i++)
				check_object(m, s, sl, obj_addr(s, sl, i), live_test(sl, i) ? SLUB_RED_ACTIVE : SLUB_RED_INACTIVE);
	}
	for (uint32_t i = 0; i < m->nr_caches; i++) {
		struct ra_cache *s = m->caches[i];
		if (!s || s->merged_into_valid)
			continue;
		if (nslabs[i] != s->nr_slabs || nobjs[i] != s->total_objects)
			ra_problem(m, &problems, "slab cache %s: counts %" PRIu64 " slabs/%" PRIu64 " objects, found %"
			           PRIu64 "/%" PRIu64, s->name, s->nr_slabs, s->total_objects, nslabs[i], nobjs[i]);
		uint32_t n = 0;
		for (uint32_t id = s->partial.head; id != RA_NOSLAB && n <= s->partial.nr; id = slab_of(m, id)->next)
			n++;
		if (n != s->partial.nr)
			ra_problem(m, &problems, "slab cache %s: partial list holds %u slabs, counted %u", s->name, n,
			           s->partial.nr);
	}
	if (rcl != node_page_state(m, NR_SLAB_RECLAIMABLE) || unrcl != node_page_state(m, NR_SLAB_UNRECLAIMABLE))
		ra_problem(m, &problems, "slab pages: reclaimable %" PRIu64 "/unreclaimable %" PRIu64 " counted, found %"
		           PRIu64 "/%" PRIu64, node_page_state(m, NR_SLAB_RECLAIMABLE), node_page_state(m, NR_SLAB_UNRECLAIMABLE), rcl, unrcl);
	free(nslabs);
	free(nobjs);
	return problems;
}

