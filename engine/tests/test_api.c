/*
 * test_api.c — the public calls a tool is built on (bench/, sweeps, front
 * ends): the knob table, knob assignments at machine creation. Each test
 * checks a promise of refalloc.h against what the engine does.
 */
#include "unit.h"
#include "refalloc/trace.h"
#include <stdlib.h>
#include <string.h>

static ra_machine *mk(const char *const *sets, unsigned n, int *rc)
{
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = 64ULL << 20;
	ra_machine *m = NULL;
	*rc = ra_machine_create_ex(&m, &cfg, sets, n, NULL, NULL);
	return m;
}

/* The table as refalloc.h shows it is the table `refalloc knobs` prints. */
static void knob_table(void)
{
	unsigned n = ra_knob_count();
	CHECK(n > 20);
	struct ra_knob_info ki;
	CHECK_EQ(ra_knob_info(n, &ki), RA_ENOENT);
	int id = ra_knob_find("slub_max_order", strlen("slub_max_order"));
	CHECK(id >= 0);
	CHECK_EQ(ra_knob_info((unsigned)id, &ki), RA_OK);
	CHECK_STR(ki.name, "slub_max_order");
	CHECK_EQ(ki.def[0], 3);
	CHECK_EQ(ki.min, 0);
	CHECK_EQ(ki.max, 10);
	CHECK_EQ(ki.nvals, 1);
	CHECK(ki.flags & RA_KNOB_BOOT);
	CHECK_STR(ki.where, "slab");
	id = ra_knob_find("vm.lowmem_reserve_ratio", strlen("vm.lowmem_reserve_ratio"));
	CHECK_EQ(ra_knob_info((unsigned)id, &ki), RA_OK);
	CHECK_EQ(ki.nvals, 4);
	CHECK_EQ(ki.def[0], 256);
	CHECK_EQ(ki.def[1], 256);
	CHECK_EQ(ki.def[2], 32);
	CHECK_EQ(ki.def[3], 0);
	CHECK_EQ(ra_knob_find("vm.nosuch", 9), -1);
	/* a name is its first len bytes */
	CHECK_EQ(ra_knob_find("slub_max_orderX", 14), ra_knob_find("slub_max_order", 14));
	/* every knob by name, in the printed table's order, with its default on
	 * a fresh machine unless computed at boot */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ra_knobs_print(f);
	fclose(f);
	int rc;
	ra_machine *m = mk(NULL, 0, &rc);
	CHECK_EQ(rc, RA_OK);
	const char *at = strchr(text, '\n');
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(ra_knob_info(i, &ki), RA_OK);
		CHECK_EQ(ra_knob_find(ki.name, strlen(ki.name)), (int)i);
		CHECK(at && !strncmp(at + 1, ki.name, strlen(ki.name)));
		at = at ? strchr(at + 1, '\n') : NULL;
		if (ki.flags & RA_KNOB_AUTO)
			continue;
		char want[128] = "", got[128];
		size_t o = 0;
		for (unsigned k = 0; k < ki.nvals; k++)
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%lld", k ? "," : "", (long long)ki.def[k]);
		CHECK_EQ(ra_knob_get(m, ki.name, got, sizeof(got)), RA_OK);
		CHECK_STR(got, want);
	}
	ra_machine_destroy(m);
	free(text);
}

/* A boot parameter given at creation shapes the kmalloc caches, as the
 * environment does; set after boot, it only reaches caches made later. */
static void knobs_at_creation(void)
{
	static const char *const sets[] = { "slub_max_order=0", "vm.min_free_kbytes=4096" };
	int rc;
	ra_machine *m = mk(sets, 2, &rc);
	CHECK_EQ(rc, RA_OK);
	ra_cache *c = ra_kmem_cache_find(m, "kmalloc-4k");
	CHECK(c && c->order == 0);
	char buf[64];
	ra_knob_get(m, "vm.min_free_kbytes", buf, sizeof(buf));
	CHECK_STR(buf, "4096");
	/* the watermarks were computed from it at boot, as after a sysctl */
	uint64_t wmin = m->zones[1].wmark[0];
	ra_machine_destroy(m);

	m = mk(NULL, 0, &rc);
	CHECK(ra_kmem_cache_find(m, "kmalloc-4k")->order == 3);
	CHECK_EQ(ra_knob_set(m, "slub_max_order", "0"), RA_OK);
	CHECK(ra_kmem_cache_find(m, "kmalloc-4k")->order == 3);
	CHECK_EQ(ra_knob_set(m, "vm.min_free_kbytes", "4096"), RA_OK);
	CHECK_EQ(m->zones[1].wmark[0], wmin);
	ra_machine_destroy(m);

	setenv("REFALLOC_SLUB_MAX_ORDER", "0", 1);
	m = mk(NULL, 0, &rc);
	unsetenv("REFALLOC_SLUB_MAX_ORDER");
	CHECK(ra_kmem_cache_find(m, "kmalloc-4k")->order == 0);
	ra_machine_destroy(m);
}

/* A refused assignment says which and why; a bad configuration comes first. */
static void knob_errors(void)
{
	static const char *const bad_value[] = { "slub_max_order=1", "slub_max_order=11" };
	static const char *const bad_name[] = { "vm.nosuch=1" };
	static const char *const no_value[] = { "slub_max_order" };
	int rc;
	ra_machine *m = mk(bad_value, 2, &rc);
	CHECK_EQ(rc, RA_EKNOB);
	CHECK_STR(ra_last_error(m), "slub_max_order=11: slub_max_order: 11 out of range [0, 10]");
	ra_machine_destroy(m);
	m = mk(bad_name, 1, &rc);
	CHECK_EQ(rc, RA_EKNOB);
	CHECK_STR(ra_last_error(m), "vm.nosuch=1: unknown knob (see `refalloc knobs`)");
	ra_machine_destroy(m);
	m = mk(no_value, 1, &rc);
	CHECK_EQ(rc, RA_EKNOB);
	ra_machine_destroy(m);
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = 1 << 20;
	CHECK_EQ(ra_machine_create_ex(&m, &cfg, bad_name, 1, NULL, NULL), RA_EINVAL);
	ra_machine_destroy(m);

	/* ra_replay's sets go through it: the messages of `refalloc replay --set` */
	struct ra_trace *t;
	struct ra_trace_error te;
	static const char text[] = "machine mem=32M\nkmalloc 8 GFP_KERNEL -> a\n";
	CHECK_EQ(ra_trace_parse("t.trace", text, sizeof(text) - 1, &t, &te), 0);
	char *e = NULL;
	size_t elen = 0;
	FILE *ef = open_memstream(&e, &elen);
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	o.out = NULL;
	o.err = ef;
	o.sets = bad_name;
	o.nsets = 1;
	CHECK_EQ(ra_replay(t, &o), RA_EXIT_USAGE);
	o.sets = bad_value;
	o.nsets = 2;
	CHECK_EQ(ra_replay(t, &o), RA_EXIT_USAGE);
	o.nsets = 1;
	CHECK_EQ(ra_replay(t, &o), RA_EXIT_OK);
	fclose(ef);
	CHECK_STR(e, "refalloc: --set vm.nosuch=1: unknown knob (see `refalloc knobs`)\n"
	             "refalloc: --set slub_max_order=11: slub_max_order: 11 out of range [0, 10]\n");
	free(e);
	ra_trace_free(t);
}

static const struct unit_test tests[] = {
	{ "knob_table", knob_table },
	{ "knobs_at_creation", knobs_at_creation },
	{ "knob_errors", knob_errors },
};
UNIT_MAIN("api", tests)
