/*
 * slab_common.c — creating and destroying kmem caches (calculate_sizes(),
 * merging of compatible caches), the slub_debug boot parameter, and the
 * kmalloc caches made at boot: the kernel's slab_common.c and the cache
 * set-up half of slub.c.
 */
#include "slab.h"
#include "san.h"
#include <inttypes.h>

static const char *const kmalloc_prefix[3] = { "kmalloc-", "kmalloc-rcl-", "dma-kmalloc-" };

/* === Cache creation ===================================================== */

/* calculate_order(), in the form that tries fractions 16, 8, 4, then fewer
 * objects, then one object. */
static int calc_slab_order(unsigned size, unsigned min_objects, unsigned max_order, unsigned fract,
                           unsigned min_order_knob)
{
	if (order_objects(min_order_knob, size) > MAX_OBJS_PER_PAGE)
		return (int)ra_get_order((uint64_t)size * MAX_OBJS_PER_PAGE) - 1;
	unsigned order;
	for (order = RA_MAX(min_order_knob, ra_get_order((uint64_t)min_objects * size)); order <= max_order; order++) {
		unsigned slab_size = (unsigned)RA_PAGE_SIZE << order;
		if (slab_size % size <= slab_size / fract)
			break;
	}
	return (int)order;
}

static int calculate_order(ra_machine *m, unsigned size)
{
	unsigned max_order = (unsigned)KNOB(m, SLUB_MAX_ORDER);
	unsigned min_order = (unsigned)KNOB(m, SLUB_MIN_ORDER);
	unsigned min_objects = (unsigned)KNOB(m, SLUB_MIN_OBJECTS);
	if (!min_objects)
		min_objects = 4 * (ra_fls(m->ncpus) + 1);
	unsigned max_objects = order_objects(max_order, size);
	min_objects = RA_MIN(min_objects, max_objects);
	while (min_objects > 1) {
		for (unsigned fraction = 16; fraction >= 4; fraction /= 2) {
			int order = calc_slab_order(size, min_objects, max_order, fraction, min_order);
			if (order <= (int)max_order)
				return order;
		}
		min_objects--;
	}
	int order = calc_slab_order(size, 1, max_order, 1, min_order);
	if (order <= (int)max_order)
		return order;
	order = calc_slab_order(size, 1, RA_MAX_ORDER, 1, min_order);
	if (order <= RA_MAX_ORDER)
		return order;
	return -1;
}

static uint32_t calculate_alignment(uint32_t flags, uint32_t align, uint32_t size)
{
	if (flags & RA_SLAB_HWCACHE_ALIGN) {
		uint32_t ralign = 64;
		while (size <= ralign / 2)
			ralign /= 2;
		align = RA_MAX(align, ralign);
	}
	align = RA_MAX(align, 8u);
	return RA_ALIGN(align, 8u);
}

/* Does the global slub_debug setting apply to a cache of this name? */
static uint32_t slub_debug_for(ra_machine *m, const char *name)
{
	if (!m->slub_debug_flags)
		return 0;
	if (!m->slub_debug_nr_only)
		return m->slub_debug_flags;
	for (int i = 0; i < m->slub_debug_nr_only; i++)
		if (strcmp(m->slub_debug_only[i], name) == 0)
			return m->slub_debug_flags;
	return 0;
}

/* calculate_sizes(): the slot layout; 0 or -1 when the size cannot be placed. */
static int calculate_sizes(ra_machine *m, struct ra_cache *s)
{
	uint32_t flags = s->flags;
	uint32_t size = RA_ALIGN(s->object_size, 8u);
	s->flags &= ~OBJECT_POISON;
	if ((flags & RA_SLAB_POISON) && !(flags & RA_SLAB_TYPESAFE_BY_RCU))
		s->flags |= OBJECT_POISON;
	if ((flags & RA_SLAB_RED_ZONE) && size == s->object_size)
		size += 8;
	s->inuse = size;
	if (flags & (RA_SLAB_TYPESAFE_BY_RCU | RA_SLAB_POISON)) {
		s->offset = size;
		size += 8;
	} else {
		s->offset = RA_ALIGN_DOWN(s->object_size / 2, 8u);
	}
	if (flags & RA_SLAB_STORE_USER)
		size += 2 * TRACK_SIZE;
	s->red_left_pad = 0;
	if (flags & RA_SLAB_RED_ZONE) {
		size += 8;
		s->red_left_pad = RA_ALIGN(8u, s->align);
		size += s->red_left_pad;
	}
	size = RA_ALIGN(size, s->align);
	s->size = size;
	s->reciprocal = ((1ULL << 32) + size - 1) / size;
	int order = calculate_order(m, size);
	if (order < 0)
		return -1;
	s->order = (uint32_t)order;
	s->oo_objects = order_objects((unsigned)order, size);
	s->min_order = ra_get_order(size);
	if (s->min_order > s->order)
		s->min_order = s->order;
	s->allocflags = 0;
	if (s->flags & RA_SLAB_CACHE_DMA)
		s->allocflags |= RA___GFP_DMA;
	if (s->flags & RA_SLAB_CACHE_DMA32)
		s->allocflags |= RA___GFP_DMA32;
	if (s->flags & RA_SLAB_RECLAIM_ACCOUNT)
		s->allocflags |= RA___GFP_RECLAIMABLE;
	s->mt = (s->flags & RA_SLAB_RECLAIM_ACCOUNT) ? MT_RECLAIMABLE : MT_UNMOVABLE;
	s->fastpath = !(s->flags & SLAB_DEBUG_FLAGS) && KNOB(m, ENGINE_SLUB_FASTPATH);
	/* set_min_partial(s, ilog2(s->size) / 2) clamped to [5, 10] */
	s->min_partial = RA_MIN(10u, RA_MAX(5u, (ra_fls(size) - 1) / 2));
	return 0;
}

static struct ra_cache *cache_alloc_struct(ra_machine *m, const char *name, uint32_t size, uint32_t align,
                                           uint32_t flags)
{
	struct ra_cache *s = calloc(1, sizeof(*s));
	RA_BUG_ON(m, !s);
	s->cpu = calloc(m->ncpus, sizeof(*s->cpu));
	RA_BUG_ON(m, !s->cpu);
	for (unsigned c = 0; c < m->ncpus; c++)
		s->cpu[c].slab = RA_NOSLAB;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->object_size = size;
	s->flags = flags | slub_debug_for(m, name);
	s->align = calculate_alignment(s->flags, align, size);
	s->refcount = 1;
	s->alive = 1;
	s->kmalloc_type = 255;
	s->partial.head = s->partial.tail = RA_NOSLAB;
	s->full.head = s->full.tail = RA_NOSLAB;
	if (calculate_sizes(m, s) < 0) {
		free(s->cpu);
		free(s);
		return NULL;
	}
	if (m->nr_caches == m->caches_cap) {
		m->caches_cap = m->caches_cap ? m->caches_cap * 2 : 64;
		m->caches = realloc(m->caches, m->caches_cap * sizeof(*m->caches));
		RA_BUG_ON(m, !m->caches);
	}
	s->id = m->nr_caches;
	m->caches[m->nr_caches++] = s;
	return s;
}

/* find_mergeable() */
static struct ra_cache *find_mergeable(ra_machine *m, uint32_t size, uint32_t align, uint32_t flags, const char *name)
{
	if (KNOB(m, SLAB_NOMERGE))
		return NULL;
	flags |= slub_debug_for(m, name);
	if (flags & SLAB_NEVER_MERGE)
		return NULL;
	size = RA_ALIGN(size, 8u);
	align = calculate_alignment(flags, align, size);
	size = RA_ALIGN(size, align);
	/* list_for_each_entry_reverse(s, &slab_caches, list): slab_caches has
	 * the newest cache first, so the OLDEST compatible cache wins */
	for (uint32_t i = 0; i < m->nr_caches; i++) {
		struct ra_cache *s = m->caches[i];
		if (!s || !s->alive || s->merged_into_valid || s->kmalloc_type != 255)
			continue;
		if (s->flags & SLAB_NEVER_MERGE)
			continue;
		if (size > s->size)
			continue;
		if ((flags & SLAB_MERGE_SAME) != (s->flags & SLAB_MERGE_SAME))
			continue;
		if ((s->size & ~(align - 1)) != s->size)
			continue;
		if (s->size - size >= 8)
			continue;
		return s;
	}
	return NULL;
}

ra_cache *ra_kmem_cache_create(ra_machine *m, const char *name, size_t size, size_t align, uint32_t flags)
{
	if (!size || size > KMALLOC_MAX_SIZE || (align & (align - 1)) || align > RA_PAGE_SIZE) {
		ra_set_error(m, "kmem_cache_create(%s): size %zu or align %zu not allowed", name, size, align);
		return NULL;
	}
	flags &= ~(RA_SLAB_KMALLOC | OBJECT_POISON);
	struct ra_cache *t = find_mergeable(m, (uint32_t)size, (uint32_t)align, flags, name);
	if (t) {
		/* An alias: its own struct (so the handle has a name), objects in t.
		 * __kmem_cache_alias(): the target grows to the largest object
		 * size of its aliases (what is zeroed, unpoisoned and ksize()d). */
		t->refcount++;
		t->object_size = RA_MAX(t->object_size, (uint32_t)size);
		t->inuse = RA_MAX(t->inuse, RA_ALIGN((uint32_t)size, 8u));
		struct ra_cache *a = calloc(1, sizeof(*a));
		RA_BUG_ON(m, !a);
		snprintf(a->name, sizeof(a->name), "%s", name);
		a->object_size = (uint32_t)size;
		a->merged_into = t->id;
		a->merged_into_valid = 1;
		a->alive = 1;
		a->kmalloc_type = 255;
		a->partial.head = a->partial.tail = a->full.head = a->full.tail = RA_NOSLAB;
		if (m->nr_caches == m->caches_cap) {
			m->caches_cap *= 2;
			m->caches = realloc(m->caches, m->caches_cap * sizeof(*m->caches));
			RA_BUG_ON(m, !m->caches);
		}
		a->id = m->nr_caches;
		m->caches[m->nr_caches++] = a;
		return a;
	}
	struct ra_cache *s = cache_alloc_struct(m, name, (uint32_t)size, (uint32_t)align, flags);
	if (!s)
		ra_set_error(m, "kmem_cache_create(%s): object size %zu cannot be placed in a slab", name, size);
	return s;
}

static void flush_cpu_slabs(ra_machine *m, struct ra_cache *s)
{
	for (unsigned cpu = 0; cpu < m->ncpus; cpu++)
		deactivate_slab(m, s, cpu);
}

/* __kmem_cache_do_shrink(): empty slabs go, the fullest partial slabs first. */
int ra_kmem_cache_shrink(ra_machine *m, ra_cache *c)
{
	struct ra_cache *s = slab_real_cache(m, c);
	flush_cpu_slabs(m, s);
	enum { PROMOTE = 32 };
	struct ra_slab_list promote[PROMOTE + 1];
	for (int i = 0; i <= PROMOTE; i++)
		promote[i].head = promote[i].tail = RA_NOSLAB, promote[i].nr = 0;
	uint32_t id = s->partial.head;
	while (id != RA_NOSLAB) {
		struct ra_slab *sl = slab_of(m, id);
		uint32_t next = sl->next;
		unsigned nfree = sl->objects - sl->inuse;
		remove_partial(m, s, id);
		if (nfree == sl->objects)
			discard_slab(m, s, id);
		else {
			/* list_move(): to the HEAD of promote[free - 1], so slabs with
			 * the same free count end up in reverse order; slabs with more
			 * than SHRINK_PROMOTE_MAX free keep their order behind them */
			slab_list_add(m, &promote[nfree <= PROMOTE ? nfree - 1 : PROMOTE], id, nfree > PROMOTE);
			sl->on_list = ON_PARTIAL;
		}
		id = next;
	}
	for (int i = 0; i <= PROMOTE; i++)
		while ((id = promote[i].head) != RA_NOSLAB) {
			slab_list_del(m, &promote[i], id);
			slab_list_add(m, &s->partial, id, true);
			slab_of(m, id)->on_list = ON_PARTIAL;
		}
	return 0;
}

static void free_cache_struct(ra_machine *m, struct ra_cache *s)
{
	m->caches[s->id] = NULL;
	free(s->cpu);
	free(s);
}

int ra_kmem_cache_destroy(ra_machine *m, ra_cache *c)
{
	if (c->merged_into_valid) {
		struct ra_cache *t = cache_of(m, c->merged_into);
		struct ra_cache *owner = t;
		if (owner->refcount > 1) {
			owner->refcount--;
			free_cache_struct(m, c);
			return 0;
		}
	}
	struct ra_cache *s = slab_real_cache(m, c);
	if (s->refcount > 1) {
		/* the original is destroyed while aliases live: the cache stays */
		s->refcount--;
		s->alive = 2;   /* anonymous now: still listed under its first name */
		return 0;
	}
	flush_cpu_slabs(m, s);
	uint64_t live = 0;
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		struct ra_slab *sl = slab_of(m, id);
		if (sl->cache == s->id && sl->live)
			live += live_count(sl);
	}
	if (live) {
		ra_report(m, RC_CACHE_BUSY, s->name, "kmem_cache_destroy %s: Slab cache still has objects (%" PRIu64 ")",
		          s->name, live);
		slab_bug(m, s, "Objects remaining in %s on __kmem_cache_shutdown()", s->name);
		return -1;
	}
	uint32_t id;
	while ((id = s->partial.head) != RA_NOSLAB) {
		remove_partial(m, s, id);
		discard_slab(m, s, id);
	}
	/* an alias whose target goes away leaves with it */
	if (c != s)
		free_cache_struct(m, c);
	free_cache_struct(m, s);
	return 0;
}

ra_cache *ra_kmem_cache_find(ra_machine *m, const char *name)
{
	for (uint32_t i = 0; i < m->nr_caches; i++)
		if (m->caches[i] && strcmp(m->caches[i]->name, name) == 0)
			return m->caches[i];
	return NULL;
}

const char *ra_cache_name(const ra_cache *c) { return c->name; }
size_t ra_cache_object_size(const ra_cache *c) { return c->object_size; }

/* === slub_debug ========================================================= */

/* "FZPU[,cache,...]" ("-" clears). Applies to caches created later and to
 * existing caches without slabs (their layout is recomputed). */
int ra_slab_set_debug(ra_machine *m, const char *spec, char *err, size_t errlen)
{
	uint32_t flags = 0;
	const char *p = spec;
	for (; *p && *p != ','; p++) {
		switch (*p) {
		case 'F': case 'f': flags |= RA_SLAB_CONSISTENCY_CHECKS; break;
		case 'Z': case 'z': flags |= RA_SLAB_RED_ZONE; break;
		case 'P': case 'p': flags |= RA_SLAB_POISON; break;
		case 'U': case 'u': flags |= RA_SLAB_STORE_USER; break;
		case '-': flags = 0; break;
		default:
			snprintf(err, errlen, "slub_debug: unknown flag '%c' (use F Z P U or -)", *p);
			return -1;
		}
	}
	if (p == spec)
		flags = SLAB_DEBUG_FLAGS;   /* bare slub_debug: everything */
	m->slub_debug_nr_only = 0;
	while (*p == ',') {
		const char *q = ++p;
		while (*p && *p != ',')
			p++;
		if (p == q)
			continue;
		if (m->slub_debug_nr_only == (int)RA_ARRAY_SIZE(m->slub_debug_only)) {
			snprintf(err, errlen, "slub_debug: at most %zu cache names", RA_ARRAY_SIZE(m->slub_debug_only));
			return -1;
		}
		snprintf(m->slub_debug_only[m->slub_debug_nr_only++], sizeof(m->slub_debug_only[0]), "%.*s",
		         (int)(p - q), q);
	}
	m->slub_debug_flags = flags;
	for (uint32_t i = 0; i < m->nr_caches; i++) {
		struct ra_cache *s = m->caches[i];
		if (!s || s->merged_into_valid)
			continue;
		uint32_t want = (s->flags & ~(SLAB_DEBUG_FLAGS | OBJECT_POISON)) | slub_debug_for(m, s->name);
		if ((want & SLAB_DEBUG_FLAGS) == (s->flags & SLAB_DEBUG_FLAGS))
			continue;
		if (s->nr_slabs) {
			snprintf(err, errlen, "slub_debug: cache %s already has slabs; set slub_debug before its first "
			         "allocation", s->name);
			return -1;
		}
		s->flags = want;
		s->align = calculate_alignment(s->flags, s->align, s->object_size);
		if (calculate_sizes(m, s) < 0) {
			snprintf(err, errlen, "slub_debug: cache %s cannot be laid out with these flags", s->name);
			return -1;
		}
	}
	return 0;
}

/* === Boot ============================================================== */

void ra_slab_init(ra_machine *m)
{
	m->slab_free_id = RA_NOSLAB;
	/* create_kmalloc_caches(): per type (normal, rcl, dma), i from
	 * KMALLOC_SHIFT_LOW (8) to KMALLOC_SHIFT_HIGH (8k), with the two
	 * non-power-of-two caches "created immediately after the earlier power
	 * of two caches": 96 (index 1) right after 64 (i == 6), 192 (index 2)
	 * right after 128 (i == 7). Each is list_add()ed at the head of
	 * slab_caches, so slabinfo lists them in the reverse order. */
	static const uint32_t type_flags[3] = { 0, RA_SLAB_RECLAIM_ACCOUNT, RA_SLAB_CACHE_DMA };
	for (int type = 0; type < 3; type++) {
		if (type == 2 && !m->populated[ZONE_DMA])
			continue;
		static const unsigned order[] = { 3, 4, 5, 6, 1, 7, 2, 8, 9, 10, 11, 12, 13 };
		for (size_t k = 0; k < RA_ARRAY_SIZE(order); k++) {
			unsigned idx = order[k];
			uint32_t size = idx == 1 ? 96 : idx == 2 ? 192 : 1u << idx;
			char name[48];
			if (size >= 1024)
				snprintf(name, sizeof(name), "%s%uk", kmalloc_prefix[type], size >> 10);
			else
				snprintf(name, sizeof(name), "%s%u", kmalloc_prefix[type], size);
			/* create_boot_cache(): power-of-two sizes are naturally
			 * aligned whatever the debug options (ARCH_KMALLOC_MINALIGN
			 * 8 otherwise), so a red zone of kmalloc-64 pads to 64 */
			uint32_t align = (size & (size - 1)) ? 8 : size;
			struct ra_cache *s = cache_alloc_struct(m, name, size, align, type_flags[type] | RA_SLAB_KMALLOC);
			RA_BUG_ON(m, !s);
			s->kmalloc_type = (uint8_t)type;
			m->kmalloc_caches[type][idx] = s;
		}
	}
}

void ra_slab_fini(ra_machine *m)
{
	for (uint32_t id = 0; id < m->slab_ids_used; id++) {
		free(m->slabs[id].live);
		free(m->slabs[id].internal);
		free(m->slabs[id].meta);
	}
	free(m->slabs);
	for (uint32_t i = 0; i < m->nr_caches; i++)
		if (m->caches[i]) {
			free(m->caches[i]->cpu);
			free(m->caches[i]);
		}
	free(m->caches);
}

