/*
 * test_user_stress.c — randomized churn on the user side with the full
 * validators after every batch: tasks created, forked (copy-on-write),
 * exited; threads; the malloc family through each task's umalloc;
 * mmap/munmap/mprotect/brk/mlockall; touches and reads; all of it under
 * memory pressure so the OOM killer runs. Seeded, so a failure replays.
 * At the end every task exits and the machine must hold no user memory.
 */
#include "unit.h"
#include "mm.h"
#include "umalloc.h"

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum { NT = 8, NB = 64 };
struct blk { uint64_t a, len; int kind; };   /* kind 0 malloc, 1 mmap */
struct tk { struct ra_task *t; struct blk b[NB]; };

static void churn(const char *mem, unsigned rounds, uint64_t seed, int overcommit, bool expect_kills)
{
	rng = seed;
	struct tm tm_;
	ra_machine *m = tm_new(&tm_, mem, 2);
	char v[8];
	snprintf(v, sizeof(v), "%d", overcommit);
	ra_knob_set(m, "vm.overcommit_memory", v);
	ra_set_site(m, "stress", 1);
	struct tk tk[NT] = { 0 };
	unsigned long checks = 0;
	for (unsigned r = 0; r < rounds; r++) {
		m->op_seq++;
		unsigned i = (unsigned)(rnd() % NT);
		struct tk *k = &tk[i];
		if (!ra_task_alive(k->t)) {
			if (k->t && rnd() % 2)
				continue;
			memset(k->b, 0, sizeof(k->b));
			unsigned p = (unsigned)(rnd() % NT);
			if (ra_task_alive(tk[p].t) && rnd() % 3 == 0) {
				k->t = ra_task_fork(m, tk[p].t, 0);
				if (k->t)
					memcpy(k->b, tk[p].b, sizeof(k->b));
			} else {
				k->t = ra_task_create(m, "stress", (int)(rnd() % 3) * 300 - 300);
			}
			continue;
		}
		struct ra_task *t = k->t;
		uint32_t tid = (uint32_t)(rnd() % 3);
		if (!ra_task_thread(m, t, tid))
			continue;
		ra_set_current(m, t, tid);
		struct um_thread *th = ra_task_umthread(t, tid);
		struct blk *b = &k->b[rnd() % NB];
		unsigned op = (unsigned)(rnd() % 100);
		if (op < 2) {
			ra_task_exit(m, t);
			continue;
		}
		ra_task_get(t);
		if (b->a) {
			if (op < 50) {
				uint64_t off = rnd() % b->len, len = 1 + rnd() % (b->len - off);
				ra_uaccess(m, t, b->a + off, len, rnd() % 2, NULL);
			} else if (op < 60 && b->kind == 0) {
				uint64_t n = 1 + rnd() % 20000;
				um_addr a = um_realloc(t->um, th, b->a, n);
				if (a) { b->a = a; b->len = n; }
			} else if (b->kind == 0) {
				CHECK_EQ(um_free(t->um, th, b->a), 0);
				b->a = 0;
			} else if (op < 70) {
				ra_mprotect(m, t, b->a, RA_PAGE_SIZE, (int)(rnd() % 4));
			} else {
				CHECK_EQ(ra_munmap(m, t, b->a, b->len), 0);
				b->a = 0;
			}
		} else if (op < 70) {
			uint64_t n = rnd() % 10 == 0 ? 1 + rnd() % (4 << 20) : 1 + rnd() % 3000;
			switch (rnd() % 3) {
			case 0: b->a = um_malloc(t->um, th, n); break;
			case 1: b->a = um_calloc(t->um, th, 1, n); break;
			default: b->a = um_memalign(t->um, th, 1u << (rnd() % 13), n); break;
			}
			b->len = n;
			b->kind = 0;
		} else if (op < 85) {
			b->len = 1 + rnd() % (8 << 20);
			b->a = ra_mmap(m, t, b->len, 3, rnd() % 8 == 0 ? RA_MMAP_POPULATE : 0);
			b->kind = 1;
		} else if (op < 90) {
			ra_sbrk(m, t, (int64_t)(rnd() % (1 << 16)));   /* growth only: shrinking under malloc corrupts it */
		} else if (op < 91) {
			ra_mlockall(m, t, rnd() % 2, false);
		} else {
			um_trim(t->um, rnd() % 65536);
		}
		ra_task_put(m, t);
		if (ra_panicked(m))
			break;
		if (r % 499 == 0) {
			checks++;
			long n = ra_check(m, RA_CHECK_FULL);
			CHECK_EQ(n, 0);
			if (n) {
				fprintf(stderr, "round %u:\n%s", r, tm_err(&tm_));
				break;
			}
		}
	}
	struct ra_mm_world *w = ra_mm_world(m);
	const char *log = tm_err(&tm_);
	unsigned refused = 0;
	for (const char *p = log; (p = strstr(p, "not enough memory")); p++)
		refused++;
	fprintf(stderr, "  %s: %u tasks, %u OOM kills, %u overcommit refusals, %lu full checks%s\n", mem, w->nr_tasks,
	        w->nr_kills, refused, checks, ra_panicked(m) ? ", ended in a panic" : "");
	if (expect_kills)
		CHECK(w->nr_kills > 0);      /* the OOM path must have been exercised */
	if (overcommit == 2)
		CHECK(refused > 0);          /* strict accounting must have refused some */
	for (unsigned i = 0; i < NT; i++)
		if (ra_task_alive(tk[i].t))
			ra_task_exit(m, tk[i].t);
	CHECK_EQ(ra_check(m, RA_CHECK_FULL), 0);
	CHECK_EQ(node_page_state(m, NR_ANON_PAGES), 0);
	CHECK_EQ(node_page_state(m, NR_PAGE_TABLE_PAGES), 0);
	CHECK_EQ(ra_mm_world(m)->committed_as, 0);
	CHECK(checks > 0);
	CHECK(!strstr(log, "BUG: refalloc: invariant"));
	tm_free(&tm_);
}

static void user_roomy(void) { churn("1G", 60000, 0x1234567, 0, false); }
static void user_tight_overcommit(void) { churn("64M", 60000, 0xfeedbeef, 1, true); }
static void user_strict(void) { churn("128M", 60000, 0x5eed, 2, false); }

static const struct unit_test tests[] = {
	{ "roomy", user_roomy },
	{ "tight_overcommit", user_tight_overcommit },
	{ "strict", user_strict },
};
UNIT_MAIN("user_stress", tests)
