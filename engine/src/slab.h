/*
 * slab.h — SLUB-style slab caches and kmalloc (slab.c).
 */
#ifndef RA_SLAB_H
#define RA_SLAB_H

#include "buddy.h"

/* === Slab (slab.c) ====================================================== */

struct ra_track { uint32_t site_file, site_line, cpu, when; };

struct ra_slab {
	uint32_t pfn;                /* head frame */
	uint32_t cache;              /* owning cache id */
	uint32_t next, prev;         /* partial/full list links (slab ids) */
	ra_addr_t freelist;          /* first free object (in-band chain), 0 = none */
	uint16_t inuse, objects;
	uint8_t  frozen;             /* the cpu slab of some cpu */
	uint8_t  on_list;            /* 0 none, 1 partial, 2 full */
	uint8_t  cpu;                /* when frozen */
	uint8_t  order;              /* of its pages (cached from the head frame) */
	uint64_t *live;              /* allocation bitmap: the engine's own truth */
	uint64_t *internal;          /* objects the kernel itself holds (NULL until one is) */
	uint64_t *meta;              /* per object: site << 32 | requested size (leak reports) */
};

struct ra_slab_list { uint32_t head, tail, nr; };

struct ra_cpu_slab {
	uint32_t slab;               /* slab id or RA_NOSLAB */
	ra_addr_t freelist;          /* lockless freelist of the cpu slab */
};
#define RA_NOSLAB UINT32_MAX

struct ra_cache {
	uint32_t id;
	char     name[48];
	uint32_t object_size;        /* what the user asked for */
	uint32_t size;               /* slot size */
	uint32_t inuse;              /* offset of metadata after the object */
	uint32_t offset;             /* free pointer offset within the slot */
	uint32_t red_left_pad;
	uint32_t align;
	uint32_t flags;              /* RA_SLAB_* incl. debug flags */
	uint32_t order, oo_objects;  /* preferred order and objects per slab */
	uint32_t min_order;
	uint32_t min_partial;
	uint32_t refcount;           /* aliases (slab merging) */
	uint64_t reciprocal;         /* for obj index: (off * reciprocal) >> 32 */
	uint8_t  kmalloc_type;       /* 0 normal, 1 rcl, 2 dma; 255 not kmalloc */
	uint8_t  alive;
	uint8_t  mt;                 /* migratetype of its pages */
	uint8_t  merged_into_valid;
	uint8_t  fastpath;           /* per-cpu slabs in use: no debug flags, engine.slub_cpu_slab */
	uint32_t merged_into;        /* an alias points to its real cache */
	ra_gfp_t allocflags;         /* added to every page allocation */
	struct ra_slab_list partial, full;
	struct ra_cpu_slab *cpu;     /* [ncpus] */
	uint64_t nr_slabs, total_objects;
	uint64_t nr_alloc, nr_free;  /* counters */
	uint64_t slab_pages;         /* pages held (for meminfo) */
};

/* === slab.c ============================================================= */

void ra_slab_init(ra_machine *m);
void ra_slab_fini(ra_machine *m);
struct ra_cache *ra_kmalloc_cache(ra_machine *m, size_t size, ra_gfp_t gfp);
int  ra_slab_set_debug(ra_machine *m, const char *spec, char *err, size_t errlen);
long ra_slab_validate(ra_machine *m, bool full);
long ra_slab_validate_structures(ra_machine *m);   /* full, without reading simulated RAM */
static inline struct ra_slab *slab_of(ra_machine *m, uint32_t id) { return &m->slabs[id]; }
/* Is addr a live slab object / large kmalloc? Sets *obj_size. For leak reports. */
void ra_slab_for_each_live(ra_machine *m, void (*fn)(void *arg, struct ra_cache *c, ra_addr_t obj, const struct ra_track *t), void *arg);
const struct ra_track *ra_slab_alloc_track(ra_machine *m, struct ra_cache *c, ra_addr_t obj);

/* The kernel's own objects (task structures, kernel stacks, vmalloc page
 * arrays). A trace frees only what it allocated: the public free functions
 * refuse these with a report, only the *_internal ones free them. */
ra_addr_t ra_kmalloc_internal(ra_machine *m, size_t size, ra_gfp_t gfp);
void ra_kfree_internal(ra_machine *m, ra_addr_t p);
ra_addr_t ra_kmem_cache_alloc_internal(ra_machine *m, ra_cache *c, ra_gfp_t gfp);
void ra_kmem_cache_free_internal(ra_machine *m, ra_cache *c, ra_addr_t p);
ra_addr_t ra_vmalloc_internal(ra_machine *m, size_t size);
void ra_vfree_internal(ra_machine *m, ra_addr_t p);
bool ra_slab_object_internal(ra_machine *m, ra_addr_t p);

/* === Shared by slab.c and slab_common.c ================================= */

#define SLUB_RED_INACTIVE 0xbb
#define SLUB_RED_ACTIVE   0xcc
#define POISON_INUSE      0x5a
#define POISON_FREE       0x6b
#define POISON_END        0xa5
#define TRACK_SIZE        32u          /* sizeof(struct track) with stackdepot */
#define MAX_OBJS_PER_PAGE 32767u
#define KMALLOC_MAX_CACHE_SIZE 8192u
#define KMALLOC_MAX_SIZE  (RA_PAGE_SIZE << RA_MAX_ORDER)
#define SLAB_DEBUG_FLAGS  (RA_SLAB_CONSISTENCY_CHECKS | RA_SLAB_RED_ZONE | RA_SLAB_POISON | RA_SLAB_STORE_USER)
#define SLAB_NEVER_MERGE  (RA_SLAB_RED_ZONE | RA_SLAB_POISON | RA_SLAB_STORE_USER | RA_SLAB_TRACE | \
                           RA_SLAB_TYPESAFE_BY_RCU | RA_SLAB_NOLEAKTRACE | RA_SLAB_CONSISTENCY_CHECKS | \
                           SLAB_NO_MERGE)
#define SLAB_MERGE_SAME   (RA_SLAB_RECLAIM_ACCOUNT | RA_SLAB_CACHE_DMA | RA_SLAB_CACHE_DMA32 | RA_SLAB_ACCOUNT)
#define OBJECT_POISON     0x80000000u   /* __OBJECT_POISON: poison the object itself */
/* engine-internal: a cache the kernel never merges (a constructor or a
 * usercopy region: the dentry and inode caches) */
#define SLAB_NO_MERGE     0x20000000u

enum { ON_NONE, ON_PARTIAL, ON_FULL };


static inline struct ra_cache *cache_of(ra_machine *m, uint32_t id) { return m->caches[id]; }

static inline unsigned live_count(const struct ra_slab *sl)
{
	unsigned n = 0;
	for (unsigned w = 0; w < (sl->objects + 63u) / 64u; w++)
		n += (unsigned)__builtin_popcountll(sl->live[w]);
	return n;
}

static inline uint32_t order_objects(unsigned order, unsigned size) { return (uint32_t)((RA_PAGE_SIZE << order) / size); }

static inline struct ra_cache *slab_real_cache(ra_machine *m, ra_cache *c)
{
	return c->merged_into_valid ? cache_of(m, c->merged_into) : c;
}

/* slab.c, for slab_common.c */
void deactivate_slab(ra_machine *m, struct ra_cache *s, unsigned cpu);
void discard_slab(ra_machine *m, struct ra_cache *s, uint32_t id);
void remove_partial(ra_machine *m, struct ra_cache *s, uint32_t id);
void slab_list_add(ra_machine *m, struct ra_slab_list *l, uint32_t id, bool tail);
void slab_list_del(ra_machine *m, struct ra_slab_list *l, uint32_t id);
void slab_bug(ra_machine *m, struct ra_cache *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* RA_SLAB_H */
