/*
 * report.c — the one error funnel. Misuse by a trace (double free, invalid
 * pointer, red zone or poison overwritten, ...) and engine inconsistencies
 * found by validators are reported here with a greppable first line
 *
 *   BUG: refalloc: <class> in <where>: <message> (FILE:LINE)
 *
 * followed by optional kernel-style detail lines. Every report is counted;
 * after engine.report_limit reports only the count grows, so a fuzzer that
 * hammers one bug does not drown in output.
 */
#include "phys.h"
#include <ctype.h>

static const char *const class_names[RC_NR] = {
	[RC_NONE] = "none", [RC_DOUBLE_FREE] = "double-free", [RC_INVALID_FREE] = "invalid-free",
	[RC_WRONG_CACHE] = "wrong-cache", [RC_REDZONE] = "redzone-overwritten",
	[RC_POISON] = "poison-overwritten", [RC_PADDING] = "padding-overwritten",
	[RC_FREEPTR] = "freepointer-corrupt", [RC_SLAB_STATE] = "slab-state",
	[RC_CACHE_BUSY] = "cache-busy", [RC_BAD_ORDER] = "bad-order",
	[RC_PAGE_FAULT] = "page-fault", [RC_HEAP_CORRUPTION] = "heap-corruption",
	[RC_USER_FAULT] = "segfault", [RC_INVARIANT] = "invariant", [RC_OOM] = "oom",
	[RC_PANIC] = "panic",
};

const char *ra_report_class_name(int cls) { return cls >= 0 && cls < RC_NR ? class_names[cls] : "?"; }

static bool printing(ra_machine *m) { return m->err && m->nr_reports <= m->report_cap; }

int ra_report(ra_machine *m, int cls, const char *where, const char *fmt, ...)
{
	m->nr_reports++;
	count_vm_event(m, REPORTS);
	m->last_report_class = cls;
	if (!printing(m))
		return -1;
	fprintf(m->err, "BUG: refalloc: %s in %s: ", ra_report_class_name(cls), where);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(m->err, fmt, ap);
	va_end(ap);
	if (m->site.line)
		fprintf(m->err, " (%s:%u)", ra_site_file(m, m->site.file), m->site.line);
	fputc('\n', m->err);
	if (m->nr_reports == m->report_cap)
		fprintf(m->err, "refalloc: report limit %u reached; further reports are only counted\n", m->report_cap);
	return -1;
}

void ra_report_more(ra_machine *m, const char *fmt, ...)
{
	if (!printing(m))
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(m->err, fmt, ap);
	va_end(ap);
	fputc('\n', m->err);
}

/* print_hex_dump(KERN_ERR, text, DUMP_PREFIX_ADDRESS, 16, 1, addr, len, 1) */
void ra_hexdump(ra_machine *m, const char *text, ra_addr_t addr, const uint8_t *p, size_t len)
{
	if (!printing(m))
		return;
	for (size_t off = 0; off < len; off += 16) {
		size_t n = RA_MIN((size_t)16, len - off);
		fprintf(m->err, "%s%016llx: ", text, (unsigned long long)(addr + off));
		for (size_t i = 0; i < 16; i++) {
			if (i < n)
				fprintf(m->err, "%02x%s", p[off + i], i + 1 < 16 ? " " : "");
			else
				fprintf(m->err, "  %s", i + 1 < 16 ? " " : "");
		}
		fputs("  ", m->err);
		for (size_t i = 0; i < n; i++)
			fputc(isprint(p[off + i]) ? p[off + i] : '.', m->err);
		fputc('\n', m->err);
	}
}

void ra_log(ra_machine *m, const char *fmt, ...)
{
	if (!m->err)
		return;
	fputs("refalloc: ", m->err);
	if (m->site.line)
		fprintf(m->err, "%s:%u: ", ra_site_file(m, m->site.file), m->site.line);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(m->err, fmt, ap);
	va_end(ap);
	fputc('\n', m->err);
}

void ra_problem(ra_machine *m, long *count, const char *fmt, ...)
{
	(*count)++;
	m->nr_problems++;
	if (!m->err || m->nr_problems > m->report_cap)
		return;
	fputs("BUG: refalloc: invariant: ", m->err);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(m->err, fmt, ap);
	va_end(ap);
	if (m->site.line)
		fprintf(m->err, " (%s:%u)", ra_site_file(m, m->site.file), m->site.line);
	fputc('\n', m->err);
}
