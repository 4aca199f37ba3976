/*
 * fail.c — fault injection, as the kernel's failslab and fail_page_alloc.
 *
 * A site is armed by the trace's `fail SITE [nth=N] [times=N] [every=N]
 * [prob=P]`. Each call at the site counts; it fails when the nth call from
 * arming is reached, when the count is a multiple of every, or with
 * probability P percent from the machine's seeded PRNG — while times (the
 * failures left; -1 unlimited) is not used up. Allocations with
 * __GFP_NOFAIL are never failed (as should_failslab() skips them). Unlike
 * the kernel's defaults, sleeping and order-0 allocations are eligible
 * (ignore-gfp-wait=N, min-order=0): a trace that arms a site means it.
 */
#include "phys.h"
#include <string.h>

static const char *const site_names[FAIL_NR] = {
	[FAIL_PAGE_ALLOC] = "page_alloc", [FAIL_SLAB] = "slab", [FAIL_VMALLOC] = "vmalloc",
	[FAIL_MMAP] = "mmap", [FAIL_BRK] = "brk", [FAIL_FAULT] = "fault",
	[FAIL_WRITEBACK] = "writeback", [FAIL_SWAP_SLOT] = "swap_slot", [FAIL_SWAP_WRITE] = "swap_write",
};

int ra_fail_site_parse(const char *name, size_t len)
{
	for (int i = 0; i < FAIL_NR; i++)
		if (strlen(site_names[i]) == len && memcmp(site_names[i], name, len) == 0)
			return i;
	return -1;
}

const char *ra_fail_site_name(int site) { return site >= 0 && site < FAIL_NR ? site_names[site] : "?"; }

/* Allocation-failure replay: the nth allocation of any kind fails. Every
 * site is armed so the callers' cheap `armed` test lets the call through. */
void ra_fail_nth(ra_machine *m, uint64_t nth)
{
	m->fail_any_nth = nth;
	m->fail_any_calls = 0;
	for (int i = 0; i < FAIL_NR; i++)
		m->fail[i].armed = 1;
}

/* The trace's `fail SITE nth= times= every= prob=`: (re)arm one site, its
 * counters from zero. A site stays armed under allocation-failure replay. */
void ra_fail_arm(ra_machine *m, int site, const int64_t a[5])
{
	struct ra_fail_attr *f = &m->fail[site];
	memset(f, 0, sizeof(*f));
	f->nth = a[1];
	f->times = a[2];
	f->every = a[3];
	f->prob = (uint32_t)a[4];
	f->armed = f->times != 0 || m->fail_any_nth;
}

uint64_t ra_fail_injected(const ra_machine *m)
{
	uint64_t n = m->fail_any_injected;
	for (int i = 0; i < FAIL_NR; i++)
		n += m->fail[i].injected;
	return n;
}

bool ra_should_fail_slow(ra_machine *m, enum ra_fail_site site, ra_gfp_t gfp)
{
	struct ra_fail_attr *a = &m->fail[site];
	if (gfp & RA___GFP_NOFAIL)
		return false;
	/* allocation-failure replay fails allocations: a writeback is none */
	if (m->fail_any_nth && site != FAIL_WRITEBACK) {
		if (++m->fail_any_calls == m->fail_any_nth) {
			m->fail_any_injected++;
			return true;
		}
		if (!a->times && !a->nth && !a->every && !a->prob)
			return false;
	} else if (m->fail_any_nth && !a->times && !a->nth && !a->every && !a->prob) {
		return false;
	}
	a->calls++;
	if (a->times == 0) {
		a->armed = 0;
		return false;
	}
	bool fail = false;
	if (a->nth && (int64_t)a->calls == a->nth)
		fail = true;
	if (a->every && a->calls % (uint64_t)a->every == 0)
		fail = true;
	if (a->prob && ra_rand(m) % 100 < a->prob)
		fail = true;
	if (!fail)
		return false;
	a->injected++;
	if (a->times > 0 && --a->times == 0)
		a->armed = 0;
	return true;
}
