/*
 * um_fake.c — the fake UM_SIM back end (see um_fake.h).  Test-only.
 */
#include "um_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PS 4096ULL

struct fpage { uint64_t vpn; unsigned char *data; };
struct fmap  { um_addr start, end; int prot; };
struct frep  { char cls[32]; char msg[256]; um_addr addr; };

struct um_os {
	struct fpage *pt;
	size_t ptcap, ptcount;
	struct fmap *maps;
	size_t nmaps, mapcap;
	um_addr brk_start, brk_cur;
	uint64_t faulted, bad;
	struct frep *reps;
	unsigned nreps, repcap;
	int verbose, fail_brk, no_mremap;
};

/* --- page table -------------------------------------------------------- */

static size_t ph(uint64_t vpn, size_t cap) { return (size_t)((vpn * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1); }

static struct fpage *pfind(struct um_os *os, uint64_t vpn)
{
	if (!os->ptcap)
		return NULL;
	for (size_t i = ph(vpn, os->ptcap);; i = (i + 1) & (os->ptcap - 1)) {
		if (os->pt[i].data == NULL)
			return NULL;
		if (os->pt[i].vpn == vpn)
			return &os->pt[i];
	}
}

static void pinsert_raw(struct fpage *t, size_t cap, uint64_t vpn, unsigned char *d)
{
	size_t i = ph(vpn, cap);
	while (t[i].data)
		i = (i + 1) & (cap - 1);
	t[i].vpn = vpn;
	t[i].data = d;
}

static unsigned char *pget(struct um_os *os, uint64_t vpn)
{
	struct fpage *p = pfind(os, vpn);
	if (p)
		return p->data;
	if ((os->ptcount + 1) * 2 > os->ptcap) {
		size_t nc = os->ptcap ? os->ptcap * 2 : 1024;
		struct fpage *nt = calloc(nc, sizeof(*nt));
		for (size_t i = 0; i < os->ptcap; i++)
			if (os->pt[i].data)
				pinsert_raw(nt, nc, os->pt[i].vpn, os->pt[i].data);
		free(os->pt);
		os->pt = nt;
		os->ptcap = nc;
	}
	unsigned char *d = calloc(1, PS);
	pinsert_raw(os->pt, os->ptcap, vpn, d);
	os->ptcount++;
	os->faulted++;
	return d;
}

static void pdrop(struct um_os *os, uint64_t vpn)
{
	struct fpage *p = pfind(os, vpn);
	if (!p)
		return;
	free(p->data);
	size_t i = (size_t)(p - os->pt), j = i, m = os->ptcap - 1;
	for (;;) {
		j = (j + 1) & m;
		if (!os->pt[j].data)
			break;
		size_t k = ph(os->pt[j].vpn, os->ptcap);
		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			os->pt[i] = os->pt[j];
			i = j;
		}
	}
	os->pt[i].data = NULL;
	os->pt[i].vpn = 0;
	os->ptcount--;
}

static void pdrop_range(struct um_os *os, um_addr a, um_addr e)
{
	for (um_addr v = a / PS; v < (e + PS - 1) / PS; v++)
		pdrop(os, v);
}

/* --- mappings ---------------------------------------------------------- */

static int map_prot_at(struct um_os *os, um_addr a)
{
	for (size_t i = 0; i < os->nmaps; i++)
		if (a >= os->maps[i].start && a < os->maps[i].end)
			return os->maps[i].prot;
	return -1;
}

static void map_add(struct um_os *os, um_addr s, um_addr e, int prot)
{
	if (os->nmaps == os->mapcap) {
		os->mapcap = os->mapcap ? os->mapcap * 2 : 32;
		os->maps = realloc(os->maps, os->mapcap * sizeof(*os->maps));
	}
	size_t i = 0;
	while (i < os->nmaps && os->maps[i].start < s)
		i++;
	memmove(&os->maps[i + 1], &os->maps[i], (os->nmaps - i) * sizeof(*os->maps));
	os->maps[i] = (struct fmap){ s, e, prot };
	os->nmaps++;
}

/* Remove [s, e) from all mappings (splitting). */
static void map_cut(struct um_os *os, um_addr s, um_addr e)
{
	for (size_t i = 0; i < os->nmaps; i++) {
		struct fmap m = os->maps[i];
		if (m.end <= s || m.start >= e)
			continue;
		memmove(&os->maps[i], &os->maps[i + 1], (os->nmaps - i - 1) * sizeof(*os->maps));
		os->nmaps--;
		if (m.start < s)
			map_add(os, m.start, s, m.prot);
		if (m.end > e)
			map_add(os, e, m.end, m.prot);
		i = (size_t)-1;          /* restart */
	}
}

static int range_free(struct um_os *os, um_addr s, um_addr e)
{
	for (size_t i = 0; i < os->nmaps; i++)
		if (!(os->maps[i].end <= s || os->maps[i].start >= e))
			return 0;
	return 1;
}

static um_addr find_gap(struct um_os *os, size_t len)
{
	um_addr cand = FAKE_MMAP_TOP - len;
	for (;;) {
		int moved = 0;
		for (size_t i = 0; i < os->nmaps; i++) {
			struct fmap *m = &os->maps[i];
			if (!(m->end <= cand || m->start >= cand + len)) {
				cand = m->start - len;
				moved = 1;
			}
		}
		if (!moved)
			return cand;
	}
}

/* --- the um_os contract ------------------------------------------------ */

static void bad(struct um_os *os, um_addr a, const char *what)
{
	os->bad++;
	if (os->verbose)
		fprintf(stderr, "fake: bad %s at %#llx\n", what, (unsigned long long)a);
}

uint64_t um_os_load64(struct um_os *os, um_addr a)
{
	int pr = map_prot_at(os, a);
	if (pr < 0 || !(pr & UM_PROT_READ) || (a & 7)) {
		bad(os, a, "load");
		return 0;
	}
	struct fpage *p = pfind(os, a / PS);
	uint64_t v = 0;
	if (p)
		memcpy(&v, p->data + (a % PS), 8);
	return v;
}

void um_os_store64(struct um_os *os, um_addr a, uint64_t v)
{
	int pr = map_prot_at(os, a);
	if (pr < 0 || !(pr & UM_PROT_WRITE) || (a & 7)) {
		bad(os, a, "store");
		return;
	}
	memcpy(pget(os, a / PS) + (a % PS), &v, 8);
}

void fake_write(struct um_os *os, um_addr a, const void *src, size_t len)
{
	const unsigned char *s = src;
	while (len) {
		int pr = map_prot_at(os, a);
		size_t n = PS - (a % PS);
		if (n > len)
			n = len;
		if (pr < 0 || !(pr & UM_PROT_WRITE))
			bad(os, a, "write");
		else
			memcpy(pget(os, a / PS) + (a % PS), s, n);
		a += n; s += n; len -= n;
	}
}

void fake_read(struct um_os *os, um_addr a, void *dst, size_t len)
{
	unsigned char *d = dst;
	while (len) {
		int pr = map_prot_at(os, a);
		size_t n = PS - (a % PS);
		if (n > len)
			n = len;
		struct fpage *p = pr >= 0 && (pr & UM_PROT_READ) ? pfind(os, a / PS) : NULL;
		if (pr < 0 || !(pr & UM_PROT_READ))
			bad(os, a, "read");
		if (p)
			memcpy(d, p->data + (a % PS), n);
		else
			memset(d, 0, n);
		a += n; d += n; len -= n;
	}
}

void um_os_fill(struct um_os *os, um_addr a, int byte, size_t len)
{
	while (len) {
		int pr = map_prot_at(os, a);
		size_t n = PS - (a % PS);
		if (n > len)
			n = len;
		if (pr < 0 || !(pr & UM_PROT_WRITE))
			bad(os, a, "fill");
		else
			memset(pget(os, a / PS) + (a % PS), byte, n);
		a += n; len -= n;
	}
}

void um_os_copy(struct um_os *os, um_addr dst, um_addr src, size_t len)
{
	unsigned char *tmp = malloc(len ? len : 1);
	fake_read(os, src, tmp, len);
	fake_write(os, dst, tmp, len);
	free(tmp);
}

size_t um_os_cmpbyte(struct um_os *os, um_addr a, int byte, size_t len)
{
	size_t done = 0;
	while (done < len) {
		unsigned char buf[4096];
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		fake_read(os, a + done, buf, n);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != (unsigned char)byte)
				return done + i;
		done += n;
	}
	return len;
}

um_addr um_os_brk(struct um_os *os, int64_t delta)
{
	um_addr old = os->brk_cur;
	if (delta == 0)
		return old;
	um_addr nw = old + (uint64_t)delta;
	um_addr oe = (old + PS - 1) & ~(PS - 1), ne = (nw + PS - 1) & ~(PS - 1);
	if (delta > 0) {
		if (os->fail_brk)
			return UM_BRK_FAIL;
		if (ne > oe) {
			if (!range_free(os, oe, ne))
				return UM_BRK_FAIL;
			map_add(os, oe, ne, UM_PROT_RW);
		}
	} else {
		if (nw < os->brk_start)
			return UM_BRK_FAIL;
		if (ne < oe) {
			map_cut(os, ne, oe);
			pdrop_range(os, ne, oe);
		}
	}
	os->brk_cur = nw;
	return old;
}

um_addr um_os_mmap(struct um_os *os, size_t len, int prot, unsigned flags)
{
	(void)flags;
	if (len == 0 || (len % PS))
		return 0;
	um_addr a = find_gap(os, len);
	map_add(os, a, a + len, prot);
	return a;
}

int um_os_munmap(struct um_os *os, um_addr a, size_t len)
{
	if ((a % PS) || len == 0)
		return -1;
	map_cut(os, a, a + len);
	pdrop_range(os, a, a + len);
	return 0;
}

int um_os_mprotect(struct um_os *os, um_addr a, size_t len, int prot)
{
	if ((a % PS) || len == 0)
		return -1;
	for (um_addr x = a; x < a + len; x += PS)
		if (map_prot_at(os, x) < 0)
			return -1;
	map_cut(os, a, a + len);
	map_add(os, a, a + len, prot);
	if (!(prot & UM_PROT_READ))
		pdrop_range(os, a, a + len);
	return 0;
}

um_addr um_os_mremap(struct um_os *os, um_addr a, size_t oldlen, size_t newlen)
{
	if (os->no_mremap)
		return 0;
	int prot = map_prot_at(os, a);
	if (prot < 0)
		return 0;
	if (newlen <= oldlen) {
		if (newlen < oldlen)
			um_os_munmap(os, a + newlen, oldlen - newlen);
		return a;
	}
	if (range_free(os, a + oldlen, a + newlen)) {
		map_add(os, a + oldlen, a + newlen, prot);
		return a;
	}
	um_addr n = find_gap(os, newlen);
	map_add(os, n, n + newlen, prot);
	for (um_addr off = 0; off < oldlen; off += PS) {
		struct fpage *p = pfind(os, (a + off) / PS);
		if (p) {
			unsigned char *d = pget(os, (n + off) / PS);
			memcpy(d, p->data, PS);
			os->faulted--;        /* a move, not a new touch */
		}
	}
	um_os_munmap(os, a, oldlen);
	return n;
}

int um_os_release(struct um_os *os, um_addr a, size_t len)
{
	if (a % PS)
		return -1;
	pdrop_range(os, a, a + len);
	return 0;
}

size_t um_os_pagesize(const struct um_os *os) { (void)os; return PS; }
unsigned um_os_ncpus(const struct um_os *os) { (void)os; return 2; }

void um_os_report(struct um_os *os, const char *cls, um_addr addr, const char *msg)
{
	if (os->nreps == os->repcap) {
		os->repcap = os->repcap ? os->repcap * 2 : 16;
		os->reps = realloc(os->reps, os->repcap * sizeof(*os->reps));
	}
	struct frep *r = &os->reps[os->nreps++];
	snprintf(r->cls, sizeof(r->cls), "%s", cls);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	r->addr = addr;
	if (os->verbose)
		fprintf(stderr, "BUG: refalloc: %s at %#llx: %s\n", cls, (unsigned long long)addr, msg);
}

void *um_os_meta_alloc(struct um_os *os, size_t len) { (void)os; return calloc(1, len ? len : 1); }
void um_os_meta_free(struct um_os *os, void *p, size_t len) { (void)os; (void)len; free(p); }

/* --- test helpers ------------------------------------------------------ */

struct um_os *fake_create(void)
{
	struct um_os *os = calloc(1, sizeof(*os));
	os->brk_start = os->brk_cur = FAKE_BRK_START;
	return os;
}

void fake_destroy(struct um_os *os)
{
	for (size_t i = 0; i < os->ptcap; i++)
		free(os->pt[i].data);
	free(os->pt);
	free(os->maps);
	free(os->reps);
	free(os);
}

struct um_os *fake_clone(struct um_os *o)
{
	struct um_os *c = calloc(1, sizeof(*c));
	*c = *o;
	c->pt = calloc(o->ptcap ? o->ptcap : 1, sizeof(*c->pt));
	for (size_t i = 0; i < o->ptcap; i++)
		if (o->pt[i].data) {
			c->pt[i].vpn = o->pt[i].vpn;
			c->pt[i].data = malloc(PS);
			memcpy(c->pt[i].data, o->pt[i].data, PS);
		}
	c->maps = malloc((o->mapcap ? o->mapcap : 1) * sizeof(*c->maps));
	memcpy(c->maps, o->maps, o->nmaps * sizeof(*c->maps));
	c->reps = NULL;
	c->nreps = c->repcap = 0;
	return c;
}

uint64_t fake_pages_resident(struct um_os *os) { return os->ptcount; }
uint64_t fake_pages_faulted(struct um_os *os) { return os->faulted; }
uint64_t fake_bad_accesses(struct um_os *os) { return os->bad; }
unsigned fake_nreports(struct um_os *os) { return os->nreps; }
const char *fake_report_msg(struct um_os *os, unsigned i) { return i < os->nreps ? os->reps[i].msg : ""; }
const char *fake_report_cls(struct um_os *os, unsigned i) { return i < os->nreps ? os->reps[i].cls : ""; }
void fake_clear_reports(struct um_os *os) { os->nreps = 0; }
void fake_set_verbose(struct um_os *os, int v) { os->verbose = v; }
void fake_fail_brk(struct um_os *os, int fail) { os->fail_brk = fail; }
void fake_no_mremap(struct um_os *os, int none) { os->no_mremap = none; }
um_addr fake_brk_now(struct um_os *os) { return os->brk_cur; }
