/*
 * test_api.c — the public calls a tool is built on (bench/, sweeps, front
 * ends): the knob table, knob assignments at machine creation, ra_replay's
 * per-operation hook, the read-outs of refalloc/inspect.h and user memory
 * access. Each test checks a promise of the public headers against what the
 * engine does.
 */
#include "unit.h"
#include "refalloc/trace.h"
#include "refalloc/inspect.h"
#include "refalloc/stats.h"
#include <inttypes.h>
#include <stdarg.h>
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

/* The slab order of the cache named name (inspect.h), -1 if none. */
static int cache_order(ra_machine *m, const char *name)
{
	struct ra_machine_info mi;
	struct ra_slab_cache_info ci;
	ra_machine_info(m, &mi);
	for (unsigned id = 0; id < mi.nr_cache_ids; id++)
		if (ra_slab_cache_info(m, id, &ci) == RA_OK && !strcmp(ci.name, name))
			return (int)ci.order;
	return -1;
}

static uint64_t wmark_min(ra_machine *m)
{
	struct ra_zone_info zi;
	ra_zone_info(m, 1, &zi);
	return zi.wmark_min;
}

/* A boot parameter given at creation shapes the kmalloc caches, as the
 * environment does; set after boot, it only reaches caches made later. */
static void knobs_at_creation(void)
{
	static const char *const sets[] = { "slub_max_order=0", "vm.min_free_kbytes=4096" };
	int rc;
	ra_machine *m = mk(sets, 2, &rc);
	CHECK_EQ(rc, RA_OK);
	CHECK_EQ(cache_order(m, "kmalloc-4k"), 0);
	char buf[64];
	ra_knob_get(m, "vm.min_free_kbytes", buf, sizeof(buf));
	CHECK_STR(buf, "4096");
	/* the watermarks were computed from it at boot, as after a sysctl */
	uint64_t wmin = wmark_min(m);
	ra_machine_destroy(m);

	m = mk(NULL, 0, &rc);
	CHECK_EQ(cache_order(m, "kmalloc-4k"), 3);
	CHECK_EQ(ra_knob_set(m, "slub_max_order", "0"), RA_OK);
	CHECK_EQ(cache_order(m, "kmalloc-4k"), 3);
	CHECK(wmark_min(m) != wmin);
	CHECK_EQ(ra_knob_set(m, "vm.min_free_kbytes", "4096"), RA_OK);
	CHECK_EQ(wmark_min(m), wmin);
	ra_machine_destroy(m);

	setenv("REFALLOC_SLUB_MAX_ORDER", "0", 1);
	m = mk(NULL, 0, &rc);
	unsetenv("REFALLOC_SLUB_MAX_ORDER");
	CHECK_EQ(cache_order(m, "kmalloc-4k"), 0);
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

/* === The hook =========================================================== */

struct log { char buf[8192]; size_t n; int stop_before, stop_after; uint32_t end_index; int end_exit; };

static void logf_(struct log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct log *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	l->n += (size_t)vsnprintf(l->buf + l->n, sizeof(l->buf) - l->n, fmt, ap);
	va_end(ap);
}

static const char *const point_names[] = { "start", "before", "after", "end" };

/* Every call, with what it says: point, op, outcome, binding, current task. */
static int logger(ra_machine *m, const struct ra_replay_event *ev, void *arg)
{
	struct log *l = arg;
	logf_(l, "%s", point_names[ev->point]);
	if (ev->op)
		logf_(l, " %u:%s", ev->index, ra_op_names[ev->op->code]);
	if (ev->point == RA_REPLAY_AFTER)
		logf_(l, " out=%d", ev->outcome);
	if (ev->point == RA_REPLAY_AFTER && ev->bound)
		logf_(l, " val=%s size=%" PRIu64, ev->val ? (ev->val < 100 ? "pid" : "addr") : "0", ev->size);
	if (ev->pid)
		logf_(l, " task=%u/%u%s", ev->pid, ev->tid, ev->task_alive ? "" : " dead");
	if (ev->point == RA_REPLAY_END) {
		l->end_index = ev->index;
		l->end_exit = ev->outcome;
	}
	logf_(l, "\n");
	return (ev->point == RA_REPLAY_BEFORE && (int)ev->index == l->stop_before) ||
	       (ev->point == RA_REPLAY_AFTER && (int)ev->index == l->stop_after);
}

static struct ra_trace *parse(const char *text)
{
	struct ra_trace *t = NULL;
	struct ra_trace_error te;
	if (ra_trace_parse("t.trace", text, strlen(text), &t, &te))
		fprintf(stderr, "  %u:%u: %s\n", te.line, te.col, te.msg);
	return t;
}

static int replay_hooked(const struct ra_trace *t, ra_replay_hook_fn fn, void *arg, struct ra_replay_stats *st,
                         char **out)
{
	size_t olen = 0;
	FILE *of = open_memstream(out, &olen);
	struct ra_replay_opts o;
	ra_replay_opts_default(&o);
	o.out = of;
	o.err = of;
	o.hook = fn;
	o.hook_arg = arg;
	int rc = ra_replay_ex(t, &o, st);
	fclose(of);
	return rc;
}

static const char hook_trace[] =
	"machine mem=64M\n"
	"kmalloc 100 GFP_KERNEL -> a\n"
	"fail page_alloc nth=1\n"
	"alloc_pages GFP_KERNEL 0 -> p\n"
	"expect fail\n"
	"task t -> t\n"
	"malloc 5000 -> b\n"
	"kfree a\n"
	"@t:1\n"
	"free b\n"
	"exit\n"
	"dump buddyinfo\n";

/* The points, in order, and what each says. */
static void hook_points(void)
{
	struct ra_trace *t = parse(hook_trace);
	struct log l = { .stop_before = -1, .stop_after = -1 };
	struct ra_replay_stats st;
	char *out;
	CHECK_EQ(replay_hooked(t, logger, &l, &st, &out), RA_EXIT_OK);
	CHECK_STR(l.buf,
	          "start\n"
	          "before 0:machine\nafter 0:machine out=0\n"
	          "before 1:kmalloc\nafter 1:kmalloc out=0 val=addr size=100\n"
	          "before 2:fail\nafter 2:fail out=0\n"
	          "before 3:alloc_pages\nafter 3:alloc_pages out=1 val=0 size=4096\n"
	          "before 4:expect\nafter 4:expect out=0\n"
	          "before 5:task\nafter 5:task out=0 val=pid size=0 task=2/0\n"
	          "before 6:malloc task=2/0\nafter 6:malloc out=0 val=addr size=5000 task=2/0\n"
	          "before 7:kfree task=2/0\nafter 7:kfree out=0 task=2/0\n"
	          "before 8:@ task=2/0\nafter 8:@ out=0 task=2/1\n"
	          "before 9:free task=2/1\nafter 9:free out=0 task=2/1\n"
	          "before 10:exit task=2/1\nafter 10:exit out=0 task=2/1 dead\n"
	          "before 11:dump task=2/1 dead\nafter 11:dump out=0 task=2/1 dead\n"
	          "end task=2/1 dead\n");
	CHECK_EQ(l.end_index, t->nops);
	CHECK_EQ(l.end_exit, RA_EXIT_OK);
	CHECK(!st.stopped);
	/* the same replay without a hook prints the same */
	char *plain;
	CHECK_EQ(replay_hooked(t, NULL, NULL, NULL, &plain), RA_EXIT_OK);
	CHECK_STR(out, plain);
	CHECK(strstr(out, "Node 0, zone      DMA") != NULL);
	free(out);
	free(plain);
	ra_trace_free(t);
}

/* A non-zero answer stops the replay: before an operation, it does not
 * run; after one, nothing more runs; the end's work is skipped, END is
 * still called. */
static void hook_stops(void)
{
	struct ra_trace *t = parse(hook_trace);
	struct log l = { .stop_before = 6, .stop_after = -1 };
	struct ra_replay_stats st;
	char *out;
	CHECK_EQ(replay_hooked(t, logger, &l, &st, &out), RA_EXIT_OK);
	CHECK(strstr(l.buf, "before 6:malloc task=2/0\nend task=2/0\n") != NULL);
	CHECK(!strstr(l.buf, "after 6"));
	CHECK_EQ(l.end_index, 6);
	CHECK(st.stopped);
	CHECK_EQ(st.ops, 5);       /* expect lines are not counted as operations */
	CHECK_STR(out, "");        /* no dump: it never ran */
	free(out);
	memset(&l, 0, sizeof(l));
	l.stop_before = -1;
	l.stop_after = 9;
	CHECK_EQ(replay_hooked(t, logger, &l, &st, &out), RA_EXIT_OK);
	CHECK(strstr(l.buf, "after 9:free out=0 task=2/1\nend task=2/1\n") != NULL);
	CHECK_EQ(l.end_index, 10);
	CHECK(st.stopped);
	free(out);
	/* a trace error ends the replay at the operation: AFTER says so */
	struct ra_trace *bad = parse("machine mem=64M\nkmalloc 8 GFP_KERNEL -> a\nkmem_cache_alloc a GFP_KERNEL -> o\n"
	                              "kmalloc 8 GFP_KERNEL -> b\n");
	memset(&l, 0, sizeof(l));
	l.stop_before = l.stop_after = -1;
	CHECK_EQ(replay_hooked(bad, logger, &l, &st, &out), RA_EXIT_TRACE);
	CHECK(strstr(l.buf, "after 2:kmem_cache_alloc out=2\nend\n") != NULL);
	CHECK_EQ(l.end_exit, RA_EXIT_TRACE);
	free(out);
	ra_trace_free(bad);
	ra_trace_free(t);
}

/* === Read-outs and user memory from a hook ============================== */

struct probe {
	uint32_t pid;
	uint64_t block, rss_before, rss_after, usable, flt_before, flt_after, kobj, big, cobj;
	int cache_of_kobj, cache_of_big, cache_of_cobj, alias_of_foo, cache_of_zero;
	char kobj_cache[48], cobj_cache[48];
	uint64_t live_chunks, live_bytes, oom_kills, cookie_back;
	int read_dead;
	struct ra_zone_info zi;
	char buddyinfo[256];
};

static int prober(ra_machine *m, const struct ra_replay_event *ev, void *arg)
{
	struct probe *p = arg;
	if (ev->point != RA_REPLAY_AFTER)
		return 0;
	struct ra_task_info ti;
	struct ra_slab_cache_info ci;
	switch (ev->op->code) {
	case RA_OP_KMALLOC:
		if (ev->size == 100) {
			p->kobj = ev->val;
			p->cache_of_kobj = ra_slab_cache_of(m, ev->val);
			p->cache_of_zero = ra_slab_cache_of(m, RA_ZERO_SIZE_PTR);
			if (ra_slab_cache_info(m, (unsigned)p->cache_of_kobj, &ci) == RA_OK)
				snprintf(p->kobj_cache, sizeof(p->kobj_cache), "%s", ci.name);
		} else {
			p->big = ev->val;
			p->cache_of_big = ra_slab_cache_of(m, ev->val);
		}
		break;
	case RA_OP_CACHE_ALLOC:
		p->cobj = ev->val;
		p->cache_of_cobj = ra_slab_cache_of(m, ev->val);
		if (ra_slab_cache_info(m, (unsigned)p->cache_of_cobj, &ci) == RA_OK)
			snprintf(p->cobj_cache, sizeof(p->cobj_cache), "%s", ci.name);
		break;
	case RA_OP_CACHE_CREATE: {
		struct ra_machine_info mi;
		ra_machine_info(m, &mi);
		for (unsigned id = 0; id < mi.nr_cache_ids; id++)
			if (ra_slab_cache_info(m, id, &ci) == RA_OK && !strcmp(ci.name, "foo"))
				p->alias_of_foo = ci.alias ? (int)ci.alias_of : (int)id;
		break;
	}
	case RA_OP_MALLOC: {
		p->pid = ev->pid;
		p->block = ev->val;
		ra_task_info(m, ev->pid, &ti);
		p->rss_before = ti.rss;
		p->flt_before = ti.min_flt;
		/* a cookie at the start and one byte in each of the next pages:
		 * faults as the task's own stores */
		uint64_t cookie = 0x1122334455667788ULL;
		CHECK_EQ(ra_user_write(m, ev->pid, ev->val, &cookie, 8), 0);
		for (uint64_t off = 4096; off < ev->size; off += 4096)
			CHECK_EQ(ra_user_write(m, ev->pid, ev->val + off, "x", 1), 0);
		CHECK_EQ(ra_user_read(m, ev->pid, ev->val, &p->cookie_back, 8), 0);
		ra_task_info(m, ev->pid, &ti);
		p->rss_after = ti.rss;
		p->flt_after = ti.min_flt;
		p->usable = ra_malloc_usable_size(m, ev->pid, ev->val);
		struct ra_malloc_info mi;
		CHECK_EQ(ra_malloc_info(m, ev->pid, &mi), RA_OK);
		p->live_chunks = mi.live_chunks;
		p->live_bytes = mi.live_bytes;
		break;
	}
	case RA_OP_EXIT:
		p->read_dead = ra_user_read(m, ev->pid, p->block, &p->cookie_back, 8);
		CHECK_EQ(ra_malloc_info(m, ev->pid, &(struct ra_malloc_info){ 0 }), RA_ENOENT);
		CHECK_EQ(ra_task_info(m, ev->pid, &ti), RA_OK);
		CHECK(!ti.alive && !ti.rss);
		break;
	case RA_OP_DUMP: {
		ra_zone_info(m, 1, &p->zi);
		size_t n = 0;
		for (int o = 0; o <= RA_MAX_ORDER; o++)
			n += (size_t)snprintf(p->buddyinfo + n, sizeof(p->buddyinfo) - n, "%6" PRIu64 " ", p->zi.nr_free[o]);
		break;
	}
	default:
		break;
	}
	return 0;
}

static void inspect_and_access(void)
{
	struct ra_trace *t = parse("machine mem=64M cpus=1\n"
	                           "kmalloc 100 GFP_KERNEL -> a\nkmalloc 9000 GFP_KERNEL -> big\n"
	                           "kmem_cache_create foo 120 -> c\nkmem_cache_alloc c GFP_KERNEL -> o\n"
	                           "task t -> t\nmalloc 20000 -> b\n"
	                           "dump buddyinfo\nexit\n");
	struct probe p = { 0 };
	char *out;
	CHECK_EQ(replay_hooked(t, prober, &p, NULL, &out), RA_EXIT_OK);
	CHECK_STR(p.kobj_cache, "kmalloc-128");
	CHECK_EQ(p.cache_of_big, -1);
	/* foo merges into a compatible cache: its objects are that cache's */
	CHECK_EQ(p.cache_of_cobj, p.alias_of_foo);
	CHECK_EQ(p.cache_of_zero, -1);
	/* the cookie and a byte in each later page: 5 pages faulted in */
	CHECK_EQ(p.cookie_back, 0x1122334455667788ULL);
	CHECK_EQ(p.rss_after - p.rss_before, 4);
	CHECK_EQ(p.flt_after - p.flt_before, 4);
	CHECK(p.usable >= 20000);
	CHECK_EQ(p.live_chunks, 1);
	CHECK_EQ(p.read_dead, -2);
	/* the zone read-out is buddyinfo */
	CHECK(strstr(out, p.buddyinfo) != NULL);
	CHECK(p.zi.populated && p.zi.wmark_min < p.zi.wmark_low && p.zi.wmark_low < p.zi.wmark_high);
	free(out);
	ra_trace_free(t);
}

/* oom_kill counts the OOM killer's kills, as /proc/vmstat does. */
static int count_kills(ra_machine *m, const struct ra_replay_event *ev, void *arg)
{
	if (ev->point == RA_REPLAY_END)
		*(uint64_t *)arg = ra_stat(m, RA_STAT_OOM_KILL);
	return 0;
}

static void oom_kill_counter(void)
{
	struct ra_trace *t = parse("machine mem=64M\nsysctl vm.overcommit_memory=1\n"
	                           "task a -> a\nmalloc 200M -> x\ntouch x\nexpect fail\n"
	                           "task b -> b\nmalloc 200M -> y\ntouch y\nexpect fail\n");
	uint64_t kills = 99;
	char *out;
	CHECK_EQ(replay_hooked(t, count_kills, &kills, NULL, &out), RA_EXIT_OK);
	CHECK_EQ(kills, 2);
	free(out);
	ra_trace_free(t);
}

static const struct unit_test tests[] = {
	{ "knob_table", knob_table },
	{ "knobs_at_creation", knobs_at_creation },
	{ "knob_errors", knob_errors },
	{ "hook_points", hook_points },
	{ "hook_stops", hook_stops },
	{ "inspect_and_access", inspect_and_access },
	{ "oom_kill_counter", oom_kill_counter },
};
UNIT_MAIN("api", tests)
