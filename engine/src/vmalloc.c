/*
 * vmalloc.c — vmap areas in the x86-64 vmalloc range, vmalloc/vzalloc/vfree,
 * ioremap/iounmap, the balloon, and kernel memory access (kread/kwrite)
 * through the direct map or a vmap area.
 *
 * Areas are page-granular with one guard page each, placed at the lowest
 * hole that fits (alloc_vmap_area()), kept sorted by address. A vmalloc'd
 * area is backed by order-0 pages that need not be contiguous; its array of
 * page pointers is itself allocated as the kernel does: kmalloc when it fits
 * a page, else a nested vmalloc with the same caller.
 */
#include "vmalloc.h"
#include "san.h"
#include <inttypes.h>

#define RECENT_FREES 64
#define THREAD_PAGES 4     /* a 16 KiB kernel stack */

struct vm_recent { ra_addr_t addr[RECENT_FREES]; unsigned next; };

static struct vm_recent *recent(ra_machine *m)
{
	/* lives beside the areas; allocated on first vfree */
	if (!m->vm_recent) {
		m->vm_recent = calloc(1, sizeof(struct vm_recent));
		RA_BUG_ON(m, !m->vm_recent);
	}
	return m->vm_recent;
}

/* === The sorted area array ============================================== */

static uint32_t area_index_ge(ra_machine *m, ra_addr_t addr)
{
	uint32_t lo = 0, hi = m->nr_vmareas;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (m->vmareas[mid]->addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct ra_vmarea *ra_vmarea_find(ra_machine *m, ra_addr_t addr)
{
	uint32_t i = area_index_ge(m, addr + 1);
	if (i == 0)
		return NULL;
	struct ra_vmarea *a = m->vmareas[i - 1];
	return addr < a->addr + a->size ? a : NULL;
}

/* alloc_vmap_area(): the lowest hole holding size bytes (guard included)
 * at an address aligned to align (find_vmap_lowest_match()). */
static struct ra_vmarea *alloc_vmap_area(ra_machine *m, uint64_t size, uint64_t align, ra_gfp_t gfp)
{
	ra_addr_t start = RA_VMALLOC_START;
	uint32_t i = 0;
	for (; i < m->nr_vmareas; i++) {
		struct ra_vmarea *a = m->vmareas[i];
#if RA_MUTANT == 11 /* mutant 11: vmap hole search off by one page (areas overlap) */
		if (a->addr >= start && a->addr - start + RA_PAGE_SIZE >= size)
#else
		if (a->addr >= start && a->addr - start >= size)
#endif
			break;
		start = RA_ALIGN(a->addr + a->size, align);
	}
	if (start >= RA_VMALLOC_END || RA_VMALLOC_END - start < size) {
		/* the overflow path's message (size: guard page included) */
		if (!(gfp & RA___GFP_NOWARN))
			ra_log(m, "vmap allocation for size %llu failed: use vmalloc=<size> to increase size",
			       (unsigned long long)size);
		return NULL;
	}
	struct ra_vmarea *a = calloc(1, sizeof(*a));
	RA_BUG_ON(m, !a);
	a->addr = start;
	a->size = size;
	a->id = m->vm_next_id++;
	a->site_file = m->site.file;
	a->site_line = m->site.line;
	a->live = 1;
	if (m->nr_vmareas == m->vmareas_cap) {
		m->vmareas_cap = m->vmareas_cap ? m->vmareas_cap * 2 : 64;
		m->vmareas = realloc(m->vmareas, m->vmareas_cap * sizeof(*m->vmareas));
		RA_BUG_ON(m, !m->vmareas);
	}
	memmove(&m->vmareas[i + 1], &m->vmareas[i], (m->nr_vmareas - i) * sizeof(*m->vmareas));
	m->vmareas[i] = a;
	m->nr_vmareas++;
	return a;
}

static void remove_area(ra_machine *m, struct ra_vmarea *a)
{
	uint32_t i = area_index_ge(m, a->addr);
	RA_BUG_ON(m, i >= m->nr_vmareas || m->vmareas[i] != a);
	memmove(&m->vmareas[i], &m->vmareas[i + 1], (m->nr_vmareas - i - 1) * sizeof(*m->vmareas));
	m->nr_vmareas--;
	free(a->pfns);
	free(a);
}

/* === vmalloc / vfree =================================================== */

static void free_area_pages(ra_machine *m, struct ra_vmarea *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		ra_free_pages_pfn(m, a->pfns[i], 0);
	m->vmalloc_used_pages -= n;
}

static int vfree_area(ra_machine *m, struct ra_vmarea *a);

/* The page-pointer array: kmalloc when it fits a page, else vmalloc. */
static ra_addr_t alloc_pages_array(ra_machine *m, uint32_t nr_pages, bool *vmalloced);

/* warn_alloc(gfp, NULL, fmt, ...): "%s: %pV, mode:%#x(%pGg), nodemask=%*pbl",
 * printed as the page allocator's failures are (the engine's prefix for the
 * task name, no nodemask); nothing under __GFP_NOWARN */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void vm_warn_alloc(ra_machine *m, ra_gfp_t gfp, const char *fmt, ...)
{
	if (gfp & RA___GFP_NOWARN)
		return;
	char msg[160], names[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ra_gfp_format(gfp, names, sizeof(names));
	ra_log(m, "%s, mode:%#x(%s)", msg, gfp, names);
}

static ra_addr_t vmalloc_node(ra_machine *m, size_t size, ra_gfp_t gfp, bool internal)
{
	uint64_t sz = RA_ALIGN((uint64_t)size, RA_PAGE_SIZE);
	/* __vmalloc_node_range(): size 0 is a WARN_ON_ONCE, not a message;
	 * the total-pages test uses the size before rounding up */
	if (!size)
		return 0;
	if ((uint64_t)size >> RA_PAGE_SHIFT > m->totalram) {
		vm_warn_alloc(m, gfp, "vmalloc error: size %zu, exceeds total pages", size);
		return 0;
	}
	if (ra_should_fail(m, FAIL_VMALLOC, gfp))
		return 0;
	uint32_t nr = (uint32_t)(sz >> RA_PAGE_SHIFT);
	/* __get_vm_area_node() first, then __vmalloc_area_node()'s page array */
#if RA_MUTANT == 10 /* mutant 10: missing guard page */
	struct ra_vmarea *a = alloc_vmap_area(m, sz, RA_PAGE_SIZE, gfp);
#else
	struct ra_vmarea *a = alloc_vmap_area(m, sz + RA_PAGE_SIZE, RA_PAGE_SIZE, gfp);
#endif
	if (!a) {
		/* __vmalloc_node_range(): real_size, the size asked for */
		vm_warn_alloc(m, gfp, "vmalloc error: size %zu, vm_struct allocation failed", size);
		return 0;
	}
	bool vmalloced = false;
	ra_addr_t arr = alloc_pages_array(m, nr, &vmalloced);
	if (!arr) {
		/* the kernel's own wording (sic): "failed to allocated"; 6.1's
		 * __vmalloc_area_node() warns with orig_gfp_mask, the caller's */
		vm_warn_alloc(m, gfp, "vmalloc error: size %llu, failed to allocated page array size %llu",
		              (unsigned long long)nr << RA_PAGE_SHIFT, (unsigned long long)nr * 8);
		remove_area(m, a);
		return 0;
	}
	a->pfns = malloc(nr * sizeof(uint32_t));
	RA_BUG_ON(m, !a->pfns);
	a->internal = internal;
	a->req_size = size;
	a->pages_array = arr;
	a->array_vmalloced = vmalloced;
	for (uint32_t i = 0; i < nr; i++) {
		/* vm_area_alloc_pages(gfp | __GFP_NOWARN): one warning for the
		 * area, naming the size obtained (area->nr_pages * PAGE_SIZE) and
		 * the page order (0: no huge vmalloc), with orig_gfp_mask */
		uint32_t pfn = ra_alloc_pages_pfn(m, gfp | RA___GFP_HIGHMEM | RA___GFP_NOWARN, 0, PO_VMALLOC);
		if (pfn == RA_NOPFN) {
			vm_warn_alloc(m, gfp, "vmalloc error: size %llu, page order %u, failed to allocate pages",
			              (unsigned long long)i << RA_PAGE_SHIFT, 0u);
			a->nr_pages = i;
			m->vmalloc_used_pages += i;
			vfree_area(m, a);
			return 0;
		}
		pfn_page(m, pfn)->priv = a->id;
		a->pfns[i] = pfn;
	}
	a->nr_pages = nr;
	m->vmalloc_used_pages += nr;
	return a->addr;
}

static ra_addr_t alloc_pages_array(ra_machine *m, uint32_t nr_pages, bool *vmalloced)
{
	size_t bytes = (size_t)nr_pages * 8;
	*vmalloced = bytes > RA_PAGE_SIZE;
	if (*vmalloced)
		return vmalloc_node(m, bytes, RA_GFP_KERNEL | RA___GFP_ZERO, true);
	return ra_kmalloc_internal(m, bytes, RA_GFP_KERNEL | RA___GFP_ZERO);
}

ra_addr_t ra_vmalloc(ra_machine *m, size_t size) { return vmalloc_node(m, size, RA_GFP_KERNEL, false); }
ra_addr_t ra_vzalloc(ra_machine *m, size_t size) { return vmalloc_node(m, size, RA_GFP_KERNEL | RA___GFP_ZERO, false); }
ra_addr_t ra_vmalloc_internal(ra_machine *m, size_t size) { return vmalloc_node(m, size, RA_GFP_KERNEL, true); }

static int vfree_area(ra_machine *m, struct ra_vmarea *a)
{
	free_area_pages(m, a, a->nr_pages);
	ra_addr_t arr = a->pages_array;
	bool vm = a->array_vmalloced;
	struct vm_recent *r = recent(m);
	r->addr[r->next++ % RECENT_FREES] = a->addr;
	remove_area(m, a);
	if (arr) {
		if (vm)
			ra_vfree_internal(m, arr);
		else
			ra_kfree_internal(m, arr);
	}
	return 0;
}

static bool recently_freed(ra_machine *m, ra_addr_t addr)
{
	if (!m->vm_recent)
		return false;
	struct vm_recent *r = m->vm_recent;
	for (unsigned i = 0; i < RECENT_FREES; i++)
		if (r->addr[i] == addr)
			return true;
	return false;
}

static struct ra_vmarea *find_exact(ra_machine *m, ra_addr_t addr, const char *who, bool want_ioremap)
{
	struct ra_vmarea *a = ra_vmarea_find(m, addr);
	if (!a || a->addr != addr) {
		if (recently_freed(m, addr) && !a)
			ra_report(m, RC_DOUBLE_FREE, who, "Trying to %s() nonexistent vm area (0x%016" PRIx64
			          "): already freed", who, addr);
		else
			ra_report(m, RC_INVALID_FREE, who, "Trying to %s() nonexistent vm area (0x%016" PRIx64 ")", who,
			          addr);
		return NULL;
	}
	if (a->ioremap != want_ioremap) {
		ra_report(m, RC_INVALID_FREE, who, "0x%016" PRIx64 " is a%s area, not a%s one", addr,
		          a->ioremap ? "n ioremap" : " vmalloc", want_ioremap ? "n ioremap" : " vmalloc");
		return NULL;
	}
	return a;
}

int ra_vfree(ra_machine *m, ra_addr_t addr)
{
	if (!addr)
		return 0;
	struct ra_vmarea *a = find_exact(m, addr, "vfree", false);
	if (a && a->internal)
		return ra_report(m, RC_INVALID_FREE, "vfree", "0x%016" PRIx64 " is the kernel's own area (%s), not the "
		                 "trace's", addr, a->nr_pages == THREAD_PAGES ? "a kernel stack" : "a page array");
	return a ? vfree_area(m, a) : -1;
}

void ra_vfree_internal(ra_machine *m, ra_addr_t addr)
{
	struct ra_vmarea *a = ra_vmarea_find(m, addr);
	RA_BUG_ON(m, !a || a->addr != addr || !a->internal);
	vfree_area(m, a);
}

/* === ioremap ============================================================ */

ra_addr_t ra_ioremap(ra_machine *m, uint64_t phys, size_t size)
{
	uint64_t last = phys + size - 1;
	if (!size || last < phys) {
		ra_log(m, "ioremap: invalid physical range %#llx size %zu", (unsigned long long)phys, size);
		return 0;
	}
	if (phys < m->cfg.mem) {
		ra_log(m, "ioremap on RAM at 0x%016llx - 0x%016llx", (unsigned long long)phys, (unsigned long long)last);
		return 0;
	}
	uint64_t offset = phys & (RA_PAGE_SIZE - 1);
	uint64_t sz = RA_ALIGN(last + 1, RA_PAGE_SIZE) - (phys - offset);
	/* __get_vm_area_node(): VM_IOREMAP areas are aligned to their size
	 * (before the guard page) rounded up to a power of two, between a page
	 * and IOREMAP_MAX_ORDER (PMD_SHIFT, 2 MiB, on x86-64) */
	unsigned order = ra_fls(sz - 1);
	uint64_t align = 1ULL << RA_MIN(RA_MAX(order, (unsigned)RA_PAGE_SHIFT), 21u);
	struct ra_vmarea *a = alloc_vmap_area(m, sz + RA_PAGE_SIZE, align, RA_GFP_KERNEL);
	if (!a)
		return 0;
	a->ioremap = 1;
	a->phys = phys - offset;
	return a->addr + offset;
}

int ra_iounmap(ra_machine *m, ra_addr_t addr)
{
	if (!addr)
		return 0;
	struct ra_vmarea *a = find_exact(m, addr & ~(RA_PAGE_SIZE - 1), "iounmap", true);
	if (!a)
		return -1;
	struct vm_recent *r = recent(m);
	r->addr[r->next++ % RECENT_FREES] = a->addr;
	remove_area(m, a);
	return 0;
}

void ra_vmalloc_fini(ra_machine *m)
{
	for (uint32_t i = 0; i < m->nr_vmareas; i++) {
		free(m->vmareas[i]->pfns);
		free(m->vmareas[i]);
	}
	free(m->vmareas);
	free(m->vm_recent);
	if (m->san_guard) {
		ra_san_unpoison(m->san_guard, RA_PAGE_SIZE);
		free(m->san_guard);
	}
}

/* === Balloon ============================================================ */

/* balloon_page_alloc() for each page, all or nothing; the pages leave
 * MemTotal (adjust_managed_page_count), as without deflate-on-OOM. */
int ra_balloon_inflate(ra_machine *m, uint64_t bytes, uint32_t *id)
{
	uint64_t nr = RA_ALIGN(bytes, RA_PAGE_SIZE) >> RA_PAGE_SHIFT;
	if (!nr || nr > m->totalram)
		return -1;
	uint32_t *pfns = malloc(nr * sizeof(uint32_t));
	RA_BUG_ON(m, !pfns);
	ra_gfp_t gfp = RA_GFP_HIGHUSER_MOVABLE | RA___GFP_NOMEMALLOC | RA___GFP_NORETRY | RA___GFP_NOWARN;
	for (uint64_t i = 0; i < nr; i++) {
		uint32_t pfn = ra_alloc_pages_pfn(m, gfp, 0, PO_BALLOON);
		if (pfn == RA_NOPFN) {
			for (uint64_t k = 0; k < i; k++)
				ra_free_pages_pfn(m, pfns[k], 0);
			free(pfns);
			return -1;
		}
		pfns[i] = pfn;
	}
	if (m->nr_balloons == m->balloons_cap) {
		m->balloons_cap = m->balloons_cap ? m->balloons_cap * 2 : 8;
		m->balloons = realloc(m->balloons, m->balloons_cap * sizeof(*m->balloons));
		RA_BUG_ON(m, !m->balloons);
	}
	struct ra_balloon *b = &m->balloons[m->nr_balloons];
	b->id = m->nr_balloons++;
	b->nr = (uint32_t)nr;
	b->pfns = pfns;
	b->live = 1;
	for (uint64_t i = 0; i < nr; i++) {
		pfn_page(m, pfns[i])->priv = b->id;
		pfn_zone(m, pfns[i])->managed--;
	}
	m->totalram -= nr;
	count_vm_events(m, BALLOON_INFLATE, nr);
	*id = b->id;
	return 0;
}

int ra_balloon_deflate(ra_machine *m, uint32_t id)
{
	if (id >= m->nr_balloons || !m->balloons[id].live)
		return ra_report(m, RC_INVALID_FREE, "unballoon", "balloon %u is not inflated", id);
	struct ra_balloon *b = &m->balloons[id];
	for (uint32_t i = 0; i < b->nr; i++) {
		pfn_zone(m, b->pfns[i])->managed++;
		ra_free_pages_pfn(m, b->pfns[i], 0);
	}
	m->totalram += b->nr;
	count_vm_events(m, BALLOON_DEFLATE, b->nr);
	free(b->pfns);
	b->pfns = NULL;
	b->live = 0;
	return 0;
}

/* === Kernel memory access ============================================== */

/* debug_pagealloc: is the frame free, so out of the direct map? */
static bool page_unmapped(ra_machine *m, uint32_t pfn)
{
	uint32_t head = ra_block_head(m, pfn);
	if (head == RA_NOPFN)
		return true;
	uint8_t owner = m->pages[head].owner;
	return owner == PO_BUDDY || owner == PO_PCP;
}

/* A trace's access to a vmalloc guard page. The engine reports it in every
 * build; in the ASan build the access then goes on, to a poisoned host page
 * standing for the guard (as KASAN_VMALLOC poisons guard pages), so ASan
 * reports it too and names the trace line. Not when fuzzing: there the
 * sanitizers watch the engine only. */
static void guard_access(ra_machine *m, uint64_t off, bool write)
{
#if defined(RA_ASAN) || defined(__SANITIZE_ADDRESS__)
	if (m->raw_trace_access)
		return;
	if (!m->san_guard) {
		m->san_guard = calloc(1, RA_PAGE_SIZE);
		if (!m->san_guard)
			return;
		ra_san_poison(m->san_guard, RA_PAGE_SIZE);
	}
	volatile uint8_t *g = m->san_guard + (off & (RA_PAGE_SIZE - 1));
	if (write)
		*g = 0;
	else
		(void)*g;
#else
	(void)m; (void)off; (void)write;
#endif
}

/* Host bytes behind [addr, addr+len) limited to one page for vmalloc
 * addresses; NULL with a report when nothing is mapped there. */
static uint8_t *kmap(ra_machine *m, ra_addr_t addr, size_t *chunk, const char *who, bool write)
{
	if (kaddr_valid(m, addr)) {
		ra_addr_t end = RA_DIRECT_MAP_BASE + ((ra_addr_t)m->nr_pages << RA_PAGE_SHIFT);
		*chunk = RA_MIN(*chunk, (size_t)(end - addr));
		if (unlikely(KNOB(m, DEBUG_PAGEALLOC))) {
			/* free pages are not mapped: stop the chunk at the first one */
			uint32_t pfn = kaddr_pfn(addr);
			if (page_unmapped(m, pfn)) {
				ra_report(m, RC_PAGE_FAULT, who, "unable to handle page fault for address 0x%016" PRIx64
				          " (debug_pagealloc: pfn 0x%x is free)", addr, pfn);
				return NULL;
			}
			size_t ok = (size_t)(RA_PAGE_SIZE - (addr & (RA_PAGE_SIZE - 1)));
			while (ok < *chunk && !page_unmapped(m, kaddr_pfn(addr + ok)))
				ok += RA_PAGE_SIZE;
			*chunk = RA_MIN(*chunk, ok);
		}
		uint32_t first = kaddr_pfn(addr);
		ra_ram_mark_range(m, first, kaddr_pfn(addr + *chunk - 1) - first + 1);
		return kaddr_host(m, addr);
	}
	if (addr >= RA_VMALLOC_START && addr < RA_VMALLOC_END) {
		struct ra_vmarea *a = ra_vmarea_find(m, addr);
		uint64_t off = a ? addr - a->addr : 0;
		if (a && !a->ioremap && off < (uint64_t)a->nr_pages << RA_PAGE_SHIFT) {
			uint32_t pg = (uint32_t)(off >> RA_PAGE_SHIFT);
			*chunk = RA_MIN(*chunk, (size_t)(RA_PAGE_SIZE - (off & (RA_PAGE_SIZE - 1))));
			return pfn_host(m, a->pfns[pg]) + (off & (RA_PAGE_SIZE - 1));
		}
		ra_report(m, RC_PAGE_FAULT, who, "unable to handle page fault for address 0x%016" PRIx64 "%s", addr,
		          a ? (a->ioremap ? " (ioremap area: no memory in the model)" : " (vmalloc guard page)") : "");
		if (a && !a->ioremap)
			guard_access(m, off, write);
		return NULL;
	}
	ra_report(m, RC_PAGE_FAULT, who, "unable to handle page fault for address 0x%016" PRIx64, addr);
	return NULL;
}

void *ra_host_ptr(ra_machine *m, ra_addr_t addr, size_t len)
{
	if (kaddr_valid(m, addr) && kaddr_valid(m, addr + len - 1)) {
		if (len)
			ra_ram_mark_range(m, kaddr_pfn(addr), kaddr_pfn(addr + len - 1) - kaddr_pfn(addr) + 1);
		return kaddr_host(m, addr);
	}
	return NULL;
}

static int kaccess(ra_machine *m, ra_addr_t addr, void *buf, const void *src, int fill, size_t len, int mode)
{
	static const char *const who[3] = { "kread", "kwrite", "kfill" };
	while (len) {
		size_t chunk = len;
		uint8_t *h = kmap(m, addr, &chunk, who[mode], mode != 0);
		if (!h)
			return -1;
		if (!chunk)
			return ra_report(m, RC_PAGE_FAULT, who[mode], "unable to handle page fault for address 0x%016" PRIx64,
			                 addr);
		/* Instrumented on purpose: ASan sees a trace's access, unless the
		 * replay is fuzzing, where the sanitizers watch the engine only. */
		if (m->raw_trace_access) {
			/* Valgrind is one of those sanitizers: quiet meanwhile */
			if (unlikely(m->valgrind))
				RA_VG_QUIET_BEGIN();
			if (mode == 0)
				ra_raw_copy(buf, h, chunk), buf = (uint8_t *)buf + chunk;
			else if (mode == 1)
				ra_raw_copy(h, src, chunk), src = (const uint8_t *)src + chunk;
			else
				ra_raw_fill(h, fill, chunk);
			if (unlikely(m->valgrind))
				RA_VG_QUIET_END();
		} else if (mode == 0)
			memcpy(buf, h, chunk), buf = (uint8_t *)buf + chunk;
		else if (mode == 1)
			memcpy(h, src, chunk), src = (const uint8_t *)src + chunk;
		else
			memset(h, fill, chunk);
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

int ra_kread(ra_machine *m, ra_addr_t addr, void *dst, size_t len) { return kaccess(m, addr, dst, NULL, 0, len, 0); }
int ra_kwrite(ra_machine *m, ra_addr_t addr, const void *src, size_t len) { return kaccess(m, addr, NULL, src, 0, len, 1); }
int ra_kfill(ra_machine *m, ra_addr_t addr, int byte, size_t len) { return kaccess(m, addr, NULL, NULL, byte, len, 2); }

/* === Validation ========================================================= */

long ra_vmalloc_validate(ra_machine *m, bool full)
{
	long problems = 0;
	uint64_t pages = 0;
	ra_addr_t prev_end = RA_VMALLOC_START;
	for (uint32_t i = 0; i < m->nr_vmareas; i++) {
		struct ra_vmarea *a = m->vmareas[i];
		if (a->addr < prev_end)
			ra_problem(m, &problems, "vmalloc: area 0x%016" PRIx64 " overlaps the previous one (ends 0x%016" PRIx64
			           ")", a->addr, prev_end);
		if (a->addr < RA_VMALLOC_START || a->addr + a->size > RA_VMALLOC_END || a->addr + a->size < a->addr)
			ra_problem(m, &problems, "vmalloc: area 0x%016" PRIx64 " outside the vmalloc range", a->addr);
		if ((a->addr | a->size) & (RA_PAGE_SIZE - 1))
			ra_problem(m, &problems, "vmalloc: area 0x%016" PRIx64 " not page aligned", a->addr);
		if (!a->ioremap && ((uint64_t)a->nr_pages + 1) << RA_PAGE_SHIFT != a->size)
			ra_problem(m, &problems, "vmalloc: area 0x%016" PRIx64 " of %" PRIu64 " bytes has %u pages and no "
			           "single guard page", a->addr, a->size, a->nr_pages);
		prev_end = a->addr + a->size;
		pages += a->nr_pages;
		if (full)
			for (uint32_t k = 0; k < a->nr_pages; k++) {
				struct ra_page *p = a->pfns[k] < m->nr_pages ? pfn_page(m, a->pfns[k]) : NULL;
				if (!p || p->owner != PO_VMALLOC || p->order != 0 || p->priv != a->id)
					ra_problem(m, &problems, "vmalloc: page %u (pfn %#x) of area 0x%016" PRIx64
					           " is not an order-0 vmalloc page of that area", k, a->pfns[k], a->addr);
			}
	}
	if (pages != m->vmalloc_used_pages || pages != node_page_state(m, VMALLOC_PAGES))
		ra_problem(m, &problems, "vmalloc: areas hold %" PRIu64 " pages, counted %" PRIu64 " (used) / %" PRIu64
		           " (page owners)", pages, m->vmalloc_used_pages, node_page_state(m, VMALLOC_PAGES));
	return problems;
}
