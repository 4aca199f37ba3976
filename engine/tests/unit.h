/*
 * unit.h — the unit tests' small harness: TEST() bodies, CHECK/CHECK_EQ that
 * record a failure and go on, a summary line "N passed, M failed".
 */
#ifndef RA_UNIT_H
#define RA_UNIT_H

#include "views.h"
#include "oom.h"
#include <inttypes.h>
#include <stdio.h>

struct unit_test { const char *name; void (*fn)(void); };

extern int unit_failed_checks;

#define CHECK(cond) \
	do { if (!(cond)) { unit_failed_checks++; \
		fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ(a, b) \
	do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { unit_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b); } } while (0)
#define CHECK_STR(a, b) \
	do { const char *_a = (a), *_b = (b); if (strcmp(_a, _b)) { unit_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s is\n---\n%s---\nexpected\n---\n%s---\n", __FILE__, __LINE__, #a, _a, _b); } } while (0)

/* A machine whose views and reports go to memory buffers. */
struct tm { ra_machine *m; FILE *out, *err; char *obuf, *ebuf, *last_out, *last_err; size_t olen, elen; };
ra_machine *tm_new(struct tm *t, const char *mem, unsigned cpus);
void tm_free(struct tm *t);
/* Text printed so far (resets the buffer). */
const char *tm_out(struct tm *t);
const char *tm_err(struct tm *t);
/* Run a trace given as text; returns the exit code; output via tm-like buffers. */
int run_trace_text(const char *text, char **out, char **err);

/* === Helpers for the kernel-side tests ================================== */

/* A machine from a full configuration (dma=, dma32=, cma=). */
ra_machine *tm_new_cfg(struct tm *t, const struct ra_config *cfg);
/* A machine of mem bytes and cpus cpus; dma and dma32 sizes in bytes
 * (0: the defaults), a cma region of cma bytes (0: none). */
ra_machine *tm_mk(struct tm *t, uint64_t mem, unsigned cpus, uint64_t dma, uint64_t dma32, uint64_t cma);
static inline ra_machine *tm_mem(struct tm *t, uint64_t mem, unsigned cpus) { return tm_mk(t, mem, cpus, 0, 0, 0); }
/* alloc_pages and the pfn it returned (RA_NOPFN on failure); free_pages
 * of a pfn, checked to succeed. */
uint32_t ap(ra_machine *m, ra_gfp_t gfp, unsigned order);
void fp(ra_machine *m, uint32_t pfn, unsigned order);
/* The text of a view (ra_view into the out buffer, then taken). */
const char *tm_view(struct tm *t, const char *view);
/* pfn of a direct-map address */
static inline uint32_t kpfn(ra_addr_t a) { return (uint32_t)((a - RA_DIRECT_MAP_BASE) >> RA_PAGE_SHIFT); }
/* buddyinfo counts of zone zi as "n0 n1 ... n10"; types < 0: all types,
 * else only free blocks of that migratetype (a pagetypeinfo row).
 * Returns a static buffer, valid until the next call. */
const char *bi(ra_machine *m, int zi);
const char *bi_type(ra_machine *m, int zi, int mt);
/* Pageblocks of migratetype mt counted for zone zi as pagetypeinfo does. */
unsigned nblocks(ra_machine *m, int zi, int mt);

int unit_main(const char *suite, const struct unit_test *tests, size_t n, int argc, char **argv);
#define UNIT_MAIN(suite, tests) \
	int main(int argc, char **argv) { return unit_main(suite, tests, sizeof(tests) / sizeof(tests[0]), argc, argv); }

#endif
