/*
 * test_stress.c — randomized churn through the kernel-side API with the
 * full validators after every batch: pages of every order and GFP class,
 * kmalloc of every size class, caches with and without debug flags,
 * vmalloc, balloons, fault injection. Seeded, so a failure replays.
 * It asserts that the validators stay silent and that freeing everything
 * returns the machine to its boot state (same buddyinfo).
 */
#include "unit.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum { NOBJ = 512 };
struct obj { int kind; ra_addr_t a; unsigned order; int cache; };

static const ra_gfp_t gfps[] = {
	RA_GFP_KERNEL, RA_GFP_ATOMIC, RA_GFP_NOWAIT, RA_GFP_USER, RA_GFP_HIGHUSER_MOVABLE, RA_GFP_DMA,
	RA_GFP_DMA32 | RA_GFP_KERNEL, RA_GFP_KERNEL | RA___GFP_RECLAIMABLE, RA_GFP_KERNEL | RA___GFP_ZERO,
	RA_GFP_KERNEL | RA___GFP_NORETRY | RA___GFP_NOWARN,
};

static void churn(const char *mem, unsigned cpus, unsigned rounds, bool debug)
{
	struct tm t;
	ra_machine *m = tm_new(&t, mem, cpus);
	if (debug)
		ra_slab_set_debug(m, "FZPU,stress-b", (char[128]){0}, 128);
	ra_view(m, "buddyinfo");
	char *boot = strdup(tm_out(&t));
	ra_cache *caches[3] = {
		ra_kmem_cache_create(m, "stress-a", 200, 0, RA_SLAB_HWCACHE_ALIGN),
		ra_kmem_cache_create(m, "stress-b", 72, 0, 0),
		ra_kmem_cache_create(m, "stress-c", 1500, 64, RA_SLAB_RECLAIM_ACCOUNT),
	};
	struct obj o[NOBJ] = { 0 };
	for (unsigned r = 0; r < rounds; r++) {
		unsigned i = (unsigned)(rnd() % NOBJ);
		ra_set_cpu(m, (unsigned)(rnd() % cpus));
		if (o[i].a) {
			int rc = 0;
			switch (o[i].kind) {
			case 0: rc = ra_free_pages(m, o[i].a, o[i].order); break;
			case 1: rc = ra_kfree(m, o[i].a); break;
			case 2: rc = ra_kmem_cache_free(m, caches[o[i].cache], o[i].a); break;
			case 3: rc = ra_vfree(m, o[i].a); break;
			}
			CHECK_EQ(rc, 0);
			o[i].a = 0;
		} else {
			ra_gfp_t g = gfps[rnd() % RA_ARRAY_SIZE(gfps)];
			o[i].kind = (int)(rnd() % 4);
			switch (o[i].kind) {
			case 0:
				o[i].order = (unsigned)(rnd() % 100 < 80 ? rnd() % 4 : rnd() % 11);
				o[i].a = ra_alloc_pages(m, g, o[i].order);
				break;
			case 1: {
				size_t sz = rnd() % 100 < 90 ? 1 + rnd() % 8192 : 1 + rnd() % (256 << 10);
				o[i].a = ra_kmalloc(m, sz, g);
				break;
			}
			case 2:
				o[i].cache = (int)(rnd() % 3);
				o[i].a = ra_kmem_cache_alloc(m, caches[o[i].cache], g);
				break;
			case 3:
				o[i].a = ra_vmalloc(m, 1 + rnd() % (64 << 10));
				break;
			}
		}
		if (r % 997 == 0) {
			if (rnd() % 3 == 0)
				ra_kmem_cache_shrink(m, caches[rnd() % 3]);
			long n = ra_check(m, RA_CHECK_FULL);
			CHECK_EQ(n, 0);
			if (n) {
				fprintf(stderr, "%s", tm_err(&t));
				break;
			}
		}
	}
	for (unsigned i = 0; i < NOBJ; i++) {
		if (!o[i].a)
			continue;
		switch (o[i].kind) {
		case 0: CHECK_EQ(ra_free_pages(m, o[i].a, o[i].order), 0); break;
		case 1: CHECK_EQ(ra_kfree(m, o[i].a), 0); break;
		case 2: CHECK_EQ(ra_kmem_cache_free(m, caches[o[i].cache], o[i].a), 0); break;
		case 3: CHECK_EQ(ra_vfree(m, o[i].a), 0); break;
		}
	}
	for (int c = 0; c < 3; c++)
		CHECK_EQ(ra_kmem_cache_destroy(m, caches[c]), 0);
	for (uint32_t i = 0; i < m->nr_caches; i++)
		if (m->caches[i])
			ra_kmem_cache_shrink(m, m->caches[i]);
	ra_drain_pcp_all(m);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	ra_view(m, "buddyinfo");
	CHECK_STR(tm_out(&t), boot);
	const char *e = tm_err(&t);
	CHECK(!strstr(e, "BUG"));   /* allocation-failure warnings are expected, reports are not */
	free(boot);
	tm_free(&t);
}

static void stress_small(void) { churn("16M", 1, 200000, false); }
static void stress_two_zones(void) { churn("256M", 2, 200000, false); }
static void stress_normal(void) { churn("5G", 4, 100000, false); }
static void stress_debug(void) { churn("64M", 2, 100000, true); }

static const struct unit_test tests[] = {
	{ "small", stress_small },
	{ "two_zones", stress_two_zones },
	{ "normal", stress_normal },
	{ "debug", stress_debug },
};
UNIT_MAIN("stress", tests)
