/*
 * unit.c — the harness behind unit.h.
 */
#include "unit.h"
#include "refalloc/trace.h"

int unit_failed_checks;

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);
	if (*end == 'K') v <<= 10;
	else if (*end == 'M') v <<= 20;
	else if (*end == 'G') v <<= 30;
	return v;
}

ra_machine *tm_new(struct tm *t, const char *mem, unsigned cpus)
{
	memset(t, 0, sizeof(*t));
	t->out = open_memstream(&t->obuf, &t->olen);
	t->err = open_memstream(&t->ebuf, &t->elen);
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = parse_size(mem);
	cfg.cpus = cpus;
	if (ra_machine_create(&t->m, &cfg, t->out, t->err) != RA_OK) {
		fprintf(stderr, "  cannot create machine mem=%s: %s\n", mem, t->m ? ra_last_error(t->m) : "?");
		abort();
	}
	return t->m;
}

ra_machine *tm_new_cfg(struct tm *t, const struct ra_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->out = open_memstream(&t->obuf, &t->olen);
	t->err = open_memstream(&t->ebuf, &t->elen);
	if (ra_machine_create(&t->m, cfg, t->out, t->err) != RA_OK) {
		fprintf(stderr, "  cannot create machine: %s\n", t->m ? ra_last_error(t->m) : "?");
		abort();
	}
	return t->m;
}

ra_machine *tm_mk(struct tm *t, uint64_t mem, unsigned cpus, uint64_t dma, uint64_t dma32, uint64_t cma)
{
	struct ra_config c;
	ra_config_default(&c);
	c.mem = mem;
	c.cpus = cpus;
	if (dma)
		c.dma = dma;
	if (dma32)
		c.dma32 = dma32;
	c.cma = cma;
	return tm_new_cfg(t, &c);
}

uint32_t ap(ra_machine *m, ra_gfp_t gfp, unsigned order)
{
	ra_addr_t a = ra_alloc_pages(m, gfp, order);
	return a ? kpfn(a) : RA_NOPFN;
}

void fp(ra_machine *m, uint32_t pfn, unsigned order)
{
	CHECK_EQ(ra_free_pages(m, pfn_to_kaddr(pfn), order), 0);
}

void tm_free(struct tm *t)
{
	ra_machine_destroy(t->m);
	fclose(t->out);
	fclose(t->err);
	free(t->obuf);
	free(t->ebuf);
	free(t->last_out);
	free(t->last_err);
}

/* Copy what a memstream holds into *keep and empty the stream. */
static const char *take(FILE *f, char **buf, size_t *len, char **keep)
{
	fflush(f);
	free(*keep);
	/* after a rewind a memstream keeps its old, longer contents past the
	 * new ones: what was written since is what lies before the position */
	long pos = ftell(f);
	*keep = strndup(*buf ? *buf : "", pos > 0 ? (size_t)pos : 0);
	rewind(f);
	fflush(f);
	if (*buf)
		(*buf)[0] = 0;
	*len = 0;
	return *keep;
}

const char *tm_out(struct tm *t) { return take(t->out, &t->obuf, &t->olen, &t->last_out); }
const char *tm_err(struct tm *t) { return take(t->err, &t->ebuf, &t->elen, &t->last_err); }

const char *tm_view(struct tm *t, const char *view)
{
	tm_out(t);
	if (ra_view(t->m, view) != 0)
		fprintf(stderr, "  view %s not available\n", view);
	return tm_out(t);
}

static const char *counts(ra_machine *m, int zi, int mt)
{
	static char buf[16 * RA_NR_ORDERS];
	size_t o = 0;
	const struct ra_zone *z = &m->zones[zi];
	for (int k = 0; k < RA_NR_ORDERS; k++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%" PRIu64, k ? " " : "",
		                      mt < 0 ? z->area[k].nr_free : z->area[k].nr_type[mt]);
	return buf;
}

const char *bi(ra_machine *m, int zi) { return counts(m, zi, -1); }
const char *bi_type(ra_machine *m, int zi, int mt) { return counts(m, zi, mt); }

unsigned nblocks(ra_machine *m, int zi, int mt)
{
	const struct ra_zone *z = &m->zones[zi];
	unsigned n = 0;
	/* as pagetypeinfo_showblockcount_print(): from the zone's first pfn in
	 * steps of a pageblock, so a pageblock split by a zone boundary counts
	 * in both zones */
	for (uint32_t pfn = z->start_pfn; pfn < z->end_pfn; pfn += RA_PAGEBLOCK_PAGES)
		n += pageblock_mt(m, pfn) == mt;
	return n;
}

int run_trace_text(const char *text, char **out, char **err)
{
	size_t ol = 0, el = 0;
	FILE *o = open_memstream(out, &ol), *e = open_memstream(err, &el);
	struct ra_trace *t;
	struct ra_trace_error pe;
	int rc;
	if (ra_trace_parse("t.trace", text, strlen(text), &t, &pe)) {
		fprintf(e, "t.trace:%u:%u: error: %s\n", pe.line, pe.col, pe.msg);
		rc = RA_EXIT_TRACE;
	} else {
		struct ra_replay_opts opts;
		ra_replay_opts_default(&opts);
		opts.check = RA_CHECK_FULL;
		opts.out = o;
		opts.err = e;
		rc = ra_replay(t, &opts);
		ra_trace_free(t);
	}
	fclose(o);
	fclose(e);
	return rc;
}

int unit_main(const char *suite, const struct unit_test *tests, size_t n, int argc, char **argv)
{
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		int before = unit_failed_checks;
		tests[i].fn();
		if (unit_failed_checks == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAIL %s/%s\n", suite, tests[i].name);
		}
	}
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}
