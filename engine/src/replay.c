/*
 * replay.c — executing a trace's operations against a fresh machine.
 *
 * Handles: every name a trace binds has a slot holding what it names (its
 * kind, its address or object, its state). Kernel-side handles are global;
 * user-side handles live in the current task's table (replay_user.c). A
 * handle whose allocation failed is NULL; freeing NULL is a no-op and any
 * other use of it has outcome `fail`. A freed handle keeps its address, as
 * a dangling C pointer does: using it again is a use after free or a double
 * free, for the engine to catch.
 *
 * Kernel memory handles (pages, kmalloc, cache objects, vmalloc, ioremap)
 * may be passed to any of the kernel free functions: freeing with the wrong
 * function is a misuse the engine must report, not a trace error. Handles
 * that do not name memory (caches, tasks, balloons) are checked strictly.
 *
 * Outcomes: every operation ends ok or fail. A report through the funnel
 * (a BUG: line) during an operation must be acknowledged by `expect fail`
 * on the next line, or the replay exits 1 at the end.
 */
#include "replay.h"
#include "mm.h"
#include "san.h"
#include <inttypes.h>

const char *const ra_hkind_names[HK_NR] = {
	[HK_NONE] = "nothing", [HK_PAGES] = "alloc_pages block", [HK_KMALLOC] = "kmalloc object",
	[HK_CACHE] = "kmem cache", [HK_CACHE_OBJ] = "kmem_cache object", [HK_VMALLOC] = "vmalloc area",
	[HK_IOREMAP] = "ioremap area", [HK_BALLOON] = "balloon", [HK_TASK] = "task",
	[HK_UCHUNK] = "malloc block", [HK_UMMAP] = "mapping", [HK_FILE] = "file",
	[HK_SWAP] = "swap device",
};

int rp_trace_error(struct replay *rp, const struct ra_op *op, uint32_t col, const char *fmt, ...)
{
	if (rp->err) {
		fprintf(rp->err, "%s:%u:%u: error: ", rp->t->file, op->line, col ? col : op->col);
		va_list ap;
		va_start(ap, fmt);
		vfprintf(rp->err, fmt, ap);
		va_end(ap);
		fputc('\n', rp->err);
	}
	return OUT_TRACE_ERROR;
}

void rp_failure(struct replay *rp, const struct ra_op *op, const char *fmt, ...)
{
	rp->failures++;
	if (rp->err) {
		fprintf(rp->err, "%s:%u: ", rp->t->file, op->line);
		va_list ap;
		va_start(ap, fmt);
		vfprintf(rp->err, fmt, ap);
		va_end(ap);
		fputc('\n', rp->err);
	}
}

/* === Kernel handles ===================================================== */

static struct rhandle *kh(struct replay *rp, uint32_t id) { return &rp->kh[id]; }

/* Resolve a handle that must be of one of the kinds in mask. */
static int want(struct replay *rp, const struct ra_op *op, int which, unsigned mask, struct rhandle **out)
{
	struct rhandle *h = kh(rp, op->h[which]);
	if (h->state == HS_UNBOUND)
		return rp_trace_error(rp, op, op->hcol[which], "handle '%s' names nothing (its binding did not run)",
		                      rp->t->names[op->h[which]]);
	if (!(mask & (1u << h->kind)))
		return rp_trace_error(rp, op, op->hcol[which], "handle '%s' is a %s; %s wants %s",
		                      rp->t->names[op->h[which]], ra_hkind_names[h->kind], ra_op_names[op->code],
		                      mask == (1u << HK_CACHE) ? "a kmem cache" : mask == (1u << HK_BALLOON) ? "a balloon" :
		                      mask == (1u << HK_SWAP) ? "a swap device" : "kernel memory");
	*out = h;
	return OUT_OK;
}

#define KMEM_MASK ((1u << HK_PAGES) | (1u << HK_KMALLOC) | (1u << HK_CACHE_OBJ) | (1u << HK_VMALLOC) | \
                   (1u << HK_IOREMAP))

/* Bind op->out; a live name cannot be rebound (unless it is being consumed). */
/* === Twins ============================================================= */

static bool twin_wanted(const struct replay *rp, int kind)
{
	switch (kind) {
	case HK_PAGES: case HK_KMALLOC: case HK_CACHE_OBJ:
		return rp->twins >= 2;      /* under Valgrind these are MALLOCLIKE blocks */
	case HK_VMALLOC: case HK_BALLOON: case HK_UCHUNK: case HK_UMMAP:
		return rp->twins >= 1;
	default:
		return false;
	}
}

static uint64_t twin_size(const struct rhandle *h)
{
	switch (h->kind) {
	case HK_PAGES: return RA_PAGE_SIZE << h->aux;
	case HK_BALLOON: case HK_UMMAP: return RA_ALIGN(h->size, RA_PAGE_SIZE);
	default: return h->size;
	}
}

/* A twin's address is kept masked: the handle tables are copied (fork)
 * and freed (the end) with their contents, and a plain copy of a twin's
 * address left in a register or a vector register by such a copy made
 * LeakSanitizer count the twin as reachable, a leak it then missed. Only
 * the two functions below ever hold the real address. */
#define TWIN_MASK ((uintptr_t)0x5a5aa5a55a5aa5a5ULL)

void rp_twin_bound(struct replay *rp, struct rhandle *h)
{
	if (h->state != HS_LIVE || !twin_wanted(rp, h->kind) || h->val == RA_ZERO_SIZE_PTR)
		return;
	/* malloc(0) for a zero-size block, so Valgrind counts it as the engine
	 * does: 0 bytes in 1 block (LeakSanitizer counts any block as >= 1 byte) */
	void *p = malloc(twin_size(h));
	if (p)
		memset(p, 0x5a, RA_MIN(twin_size(h), (uint64_t)64));
	h->twin = p ? (uintptr_t)p ^ TWIN_MASK : 0;
}

void rp_twin_gone(struct replay *rp, struct rhandle *h)
{
	(void)rp;
	if (h->twin)
		free((void *)(h->twin ^ TWIN_MASK));
	h->twin = 0;
}

void rp_freed(struct replay *rp, struct rhandle *table, struct rhandle *h)
{
	bool stale = h->state != HS_LIVE;
	h->state = HS_FREED;
	rp_twin_gone(rp, h);
	if (!stale)
		return;
	/* The engine took a free through a stale name: its address is live
	 * again under another name (krealloc or realloc in place, a reused
	 * address), and the free was that object's, as the kernel and libc see
	 * it. The other name is stale from now on: what the trace does with it
	 * is use after free. */
	for (uint32_t k = 0; k <= rp->t->nnames; k++) {
		struct rhandle *o = &table[k];
		if (o != h && o->state == HS_LIVE && o->val == h->val &&
		    ((1u << o->kind) & ((1u << HK_PAGES) | (1u << HK_KMALLOC) | (1u << HK_CACHE_OBJ) | (1u << HK_VMALLOC) |
		                        (1u << HK_UCHUNK) | (1u << HK_UMMAP)))) {
			o->state = HS_FREED;
			rp_twin_gone(rp, o);
		}
	}
}

int rp_bind(struct replay *rp, struct rhandle *table, const struct ra_op *op, uint32_t consumed, int kind,
            uint64_t val, uint64_t size, uint32_t aux, void *ptr)
{
	rp->ev.bound = 1;          /* what the hook sees, named or not */
	rp->ev.val = val;
	rp->ev.size = size;
	if (op->out == RA_NONAME)
		return OUT_OK;
	struct rhandle *h = &table[op->out];
	if (h->state == HS_LIVE && op->out != consumed)
		return rp_trace_error(rp, op, 0, "handle '%s' is still live (bound at line %u); free it before rebinding",
		                      rp->t->names[op->out], h->line);
	h->kind = (uint8_t)kind;
	h->state = val ? HS_LIVE : HS_NULL;
	h->line = op->line;
	h->val = val;
	h->size = size;
	h->aux = aux;
	h->ptr = ptr;
	if (op->out == consumed)
		rp_twin_gone(rp, h);     /* krealloc/realloc onto the same name */
	h->twin = 0;
	rp_twin_bound(rp, h);
	return OUT_OK;
}

static int kbind(struct replay *rp, const struct ra_op *op, uint32_t consumed, int kind, uint64_t val, uint64_t size,
                 uint32_t aux, void *ptr)
{
	int r = rp_bind(rp, rp->kh, op, consumed, kind, val, size, aux, ptr);
	if (r != OUT_OK)
		return r;
	rp->st.allocations++;
	if (!val)
		rp->st.alloc_failures++;
	return val ? OUT_OK : OUT_FAIL;
}

/* Free a kernel memory handle with the function the op names. */
static int kfree_op(struct replay *rp, const struct ra_op *op)
{
	struct rhandle *h;
	int r = want(rp, op, 0, KMEM_MASK, &h);
	if (r != OUT_OK)
		return r;
	if (h->state == HS_NULL)
		return OUT_OK;
	ra_machine *m = rp->m;
	int rc;
	switch (op->code) {
	case RA_OP_FREE_PAGES: rc = ra_free_pages(m, h->val, h->kind == HK_PAGES ? h->aux : 0); break;
	case RA_OP_KFREE:      rc = ra_kfree(m, h->val); break;
	case RA_OP_VFREE:      rc = ra_vfree(m, h->val); break;
	default:               rc = ra_iounmap(m, h->val); break;
	}
	if (rc == 0)
		rp_freed(rp, rp->kh, h);
	return rc == 0 ? OUT_OK : OUT_FAIL;
}

static void hexdump_out(struct replay *rp, ra_addr_t addr, const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += 16) {
		size_t n = RA_MIN((size_t)16, len - off);
		fprintf(rp->out, "%016" PRIx64 ":", addr + off);
		for (size_t i = 0; i < n; i++)
			fprintf(rp->out, " %02x", p[off + i]);
		fputc('\n', rp->out);
	}
}

/* === Files ============================================================== */

/* The live file a file operation names: OUT_OK with *fp set, OUT_FAIL for
 * a file that is gone (unlinked) or was never made, or a trace error for a
 * handle of another kind. */
static int want_file(struct replay *rp, const struct ra_op *op, struct ra_file **fp)
{
	struct rhandle *h = kh(rp, op->h[0]);
	if (h->state == HS_UNBOUND)
		return rp_trace_error(rp, op, op->hcol[0], "handle '%s' names nothing (its binding did not run)",
		                      rp->t->names[op->h[0]]);
	if (h->kind != HK_FILE)
		return rp_trace_error(rp, op, op->hcol[0], "handle '%s' is a %s; %s wants a file",
		                      rp->t->names[op->h[0]], ra_hkind_names[h->kind], ra_op_names[op->code]);
	*fp = h->state == HS_LIVE ? ra_file_get(rp->m, h->aux) : NULL;
	return *fp ? OUT_OK : OUT_FAIL;
}

/* peek f OFFSET LEN: the bytes read(2) would return (zeros past the end
 * of the file), without touching the page cache. */
static int peek_file(struct replay *rp, const struct ra_op *op, struct rhandle *h)
{
	struct ra_file *f;
	int r = want_file(rp, op, &f);
	if (r != OUT_OK)
		return r;
	if (op->a[0] < 0)
		return OUT_FAIL;
	if (op->a[1] > 65536)
		return rp_trace_error(rp, op, 0, "peek prints at most 64K");
	size_t len = (size_t)op->a[1];
	uint8_t *buf = malloc(RA_MAX(len, (size_t)1));
	if (!buf)
		return OUT_HOST_ERROR;
	ra_file_peek(rp->m, f, (uint64_t)op->a[0], len, buf);
	if (rp->out)
		hexdump_out(rp, (ra_addr_t)op->a[0], buf, len);
	free(buf);
	(void)h;
	return OUT_OK;
}

static int exec_file_open(struct replay *rp, const struct ra_op *op, struct ra_file *f);

static int exec_file(struct replay *rp, const struct ra_op *op)
{
	ra_machine *m = rp->m;
	struct ra_file *f;
	int r;
	if (op->code == RA_OP_FILE) {
		uint32_t id = 0;
		if (ra_file_create(m, ra_trace_strp(rp->t, op->str), (uint64_t)op->a[0], (op->flags & RA_OPF_TMPFS) != 0,
		                   &id))
		{
			r = rp_bind(rp, rp->kh, op, RA_NONAME, HK_FILE, 0, 0, 0, NULL);    /* ENOMEM: NULL */
			return r == OUT_OK ? OUT_FAIL : r;
		}
		r = rp_bind(rp, rp->kh, op, RA_NONAME, HK_FILE, 1, (uint64_t)op->a[0], id, NULL);
		return r;
	}
	if ((r = want_file(rp, op, &f)) != OUT_OK)
		return r;
	/* the operation opens the file and closes it at its end (dcache.c) */
	if (dcache_file_open(m, f))
		return OUT_FAIL;    /* ENOMEM */
	r = exec_file_open(rp, op, f);
	if (op->code != RA_OP_FUNLINK)
		dcache_file_close(m, f);
	return r;
}

static int exec_file_open(struct replay *rp, const struct ra_op *op, struct ra_file *f)
{
	ra_machine *m = rp->m;
	uint64_t off = (op->flags & RA_OPF_HAS_OFF) ? (uint64_t)op->a[0] : 0;
	switch (op->code) {
	case RA_OP_FREAD: {
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : off < f->size ? f->size - off : 0;
		return ra_file_read(m, f, off, len) ? OUT_FAIL : OUT_OK;
	}
	case RA_OP_FWRITE: {
		uint64_t len = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : off < f->size ? f->size - off : 0;
		int byte = (op->flags & RA_OPF_HAS_BYTE) ? (int)op->a[2] : 0x46;
		return ra_file_write(m, f, off, len, byte) ? OUT_FAIL : OUT_OK;
	}
	case RA_OP_FSYNC:
		return ra_file_fsync_check(m, f) ? OUT_FAIL : OUT_OK;
	case RA_OP_FTRUNCATE:
		ra_file_truncate(m, f, (uint64_t)op->a[0]);
		return OUT_OK;
	case RA_OP_FUNLINK:
		ra_file_unlink(m, f);
		kh(rp, op->h[0])->state = HS_FREED;
		return OUT_OK;
	case RA_OP_FADVISE:
		ra_file_invalidate(m, f);
		return OUT_OK;
	default:
		return rp_trace_error(rp, op, 0, "internal: no executor for '%s'", ra_op_names[op->code]);
	}
}

static int exec_kernel(struct replay *rp, const struct ra_op *op)
{
	ra_machine *m = rp->m;
	struct rhandle *h, *c;
	int r;
	switch (op->code) {
	case RA_OP_ALLOC_PAGES:
		return kbind(rp, op, RA_NONAME, HK_PAGES, ra_alloc_pages(m, op->gfp, (unsigned)op->a[0]), RA_PAGE_SIZE << op->a[0],
		             (uint32_t)op->a[0], NULL);
	case RA_OP_KMALLOC:
		return kbind(rp, op, RA_NONAME, HK_KMALLOC, ra_kmalloc(m, (size_t)op->a[0], op->gfp), (uint64_t)op->a[0], 0, NULL);
	case RA_OP_KZALLOC:
		return kbind(rp, op, RA_NONAME, HK_KMALLOC, ra_kzalloc(m, (size_t)op->a[0], op->gfp), (uint64_t)op->a[0], 0, NULL);
	case RA_OP_KREALLOC: {
		if ((r = want(rp, op, 0, KMEM_MASK, &h)) != OUT_OK)
			return r;
		if (op->out != RA_NONAME && op->out != op->h[0] && kh(rp, op->out)->state == HS_LIVE)
			return rp_bind(rp, rp->kh, op, RA_NONAME, 0, 0, 0, 0, NULL);
		ra_addr_t old = h->state == HS_NULL ? 0 : h->val;
		unsigned long before = ra_reports(m);
		ra_addr_t n = ra_krealloc(m, old, (size_t)op->a[0], op->gfp);
		/* A refusal returns NULL (or, for size 0, ZERO_SIZE_PTR from a
		 * refused kfree). A report with a new object came from its
		 * allocation (a corrupt freelist found and repaired) or from
		 * freeing the old one: krealloc went through and the old pointer
		 * is consumed, as in the kernel. */
		bool misuse = ra_reports(m) != before && (!n || n == RA_ZERO_SIZE_PTR);
		if (n && !misuse && h->state != HS_NULL)
			rp_freed(rp, rp->kh, h);   /* the old pointer is consumed, moved or not */
		if (misuse) {
			/* refused: the old object stays as it was, the result is NULL */
			if (op->out != RA_NONAME && op->out != op->h[0] &&
			    rp_bind(rp, rp->kh, op, RA_NONAME, HK_KMALLOC, 0, 0, 0, NULL) != OUT_OK)
				return OUT_TRACE_ERROR;
			return OUT_FAIL;
		}
		return kbind(rp, op, op->h[0], HK_KMALLOC, n, (uint64_t)op->a[0], 0, NULL);
	}
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_IOUNMAP:
		return kfree_op(rp, op);
	case RA_OP_CACHE_CREATE: {
		size_t align = (op->flags & RA_OPF_HAS_ALIGN) ? (size_t)op->a[1] : 0;
		ra_cache *cache = ra_kmem_cache_create(m, ra_trace_strp(rp->t, op->str), (size_t)op->a[0], align,
		                                       (uint32_t)op->a[2]);
		if (!cache)
			ra_log(m, "%s", ra_last_error(m));
		return kbind(rp, op, RA_NONAME, HK_CACHE, cache ? 1 : 0, (uint64_t)op->a[0], 0, cache);
	}
	case RA_OP_CACHE_ALLOC:
		if ((r = want(rp, op, 0, 1u << HK_CACHE, &c)) != OUT_OK)
			return r;
		if (c->state != HS_LIVE)
			return rp_bind(rp, rp->kh, op, RA_NONAME, HK_CACHE_OBJ, 0, 0, 0, NULL) == OUT_OK ? OUT_FAIL : OUT_TRACE_ERROR;
		return kbind(rp, op, RA_NONAME, HK_CACHE_OBJ, ra_kmem_cache_alloc(m, c->ptr, op->gfp),
		             ra_cache_object_size(c->ptr), op->h[0], NULL);
	case RA_OP_CACHE_FREE:
		if ((r = want(rp, op, 0, 1u << HK_CACHE, &c)) != OUT_OK || (r = want(rp, op, 1, KMEM_MASK, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL)
			return OUT_OK;
		if (c->state != HS_LIVE)
			return OUT_FAIL;
		if (ra_kmem_cache_free(m, c->ptr, h->val))
			return OUT_FAIL;
		rp_freed(rp, rp->kh, h);
		return OUT_OK;
	case RA_OP_CACHE_SHRINK: case RA_OP_CACHE_DESTROY:
		if ((r = want(rp, op, 0, 1u << HK_CACHE, &c)) != OUT_OK)
			return r;
		if (c->state == HS_NULL)
			return OUT_FAIL;
		if (c->state != HS_LIVE) {
			/* the kernel would use freed memory; the model reports and refuses */
			ra_report(m, RC_INVALID_FREE, ra_op_names[op->code], "cache '%s' was destroyed at line %u",
			          rp->t->names[op->h[0]], c->line);
			return OUT_FAIL;
		}
		if (op->code == RA_OP_CACHE_SHRINK)
			return ra_kmem_cache_shrink(m, c->ptr) ? OUT_FAIL : OUT_OK;
		if (ra_kmem_cache_destroy(m, c->ptr))
			return OUT_FAIL;
		c->state = HS_FREED;
		c->line = op->line;
		c->ptr = NULL;
		return OUT_OK;
	case RA_OP_VMALLOC: case RA_OP_VZALLOC: {
		ra_addr_t a = op->code == RA_OP_VMALLOC ? ra_vmalloc(m, (size_t)op->a[0]) : ra_vzalloc(m, (size_t)op->a[0]);
		return kbind(rp, op, RA_NONAME, HK_VMALLOC, a, (uint64_t)op->a[0], 0, NULL);
	}
	case RA_OP_IOREMAP:
		return kbind(rp, op, RA_NONAME, HK_IOREMAP, ra_ioremap(m, (uint64_t)op->a[0], (size_t)op->a[1]),
		             (uint64_t)op->a[1], 0, NULL);
	case RA_OP_POKE: case RA_OP_PEEK: {
		/* a name the kernel side never bound may be a user handle of the
		 * current task: poke/peek its memory through the task's page tables */
		struct ra_task *ut = NULL;
		h = kh(rp, op->h[0])->state == HS_UNBOUND ? rp_user_handle(rp, op->h[0], &ut) : NULL;
		if (!h && kh(rp, op->h[0])->state == HS_UNBOUND && rp_null_current(rp))
			return OUT_FAIL;    /* a user handle of a task that never came to be */
		if (!h && op->code == RA_OP_PEEK && kh(rp, op->h[0])->kind == HK_FILE &&
		    kh(rp, op->h[0])->state != HS_UNBOUND)
			return peek_file(rp, op, kh(rp, op->h[0]));
		if (!h && (r = want(rp, op, 0, KMEM_MASK, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL || (ut && !ra_task_alive(ut)))
			return OUT_FAIL;
		ra_addr_t a = h->val + (uint64_t)op->a[0];
		size_t len = (size_t)op->a[1];
		if (op->code == RA_OP_POKE &&
		    (h->state != HS_LIVE || op->a[0] < 0 || (uint64_t)op->a[0] + len > h->size))
			m->inband_tainted = true;    /* a stale or out-of-bounds write */
		if (op->code == RA_OP_POKE && !ut)
			return ra_kfill(m, a, (op->flags & RA_OPF_HAS_BYTE) ? (int)op->a[2] : 0x41, len) ? OUT_FAIL : OUT_OK;
		if (op->code == RA_OP_PEEK && len > 65536)
			return rp_trace_error(rp, op, 0, "peek prints at most 64K");
		uint8_t *buf = malloc(RA_MAX(RA_MIN(len, (size_t)65536), (size_t)1));
		if (!buf)
			return OUT_HOST_ERROR;
		int rc = 0;
		if (op->code == RA_OP_POKE) {
			memset(buf, (op->flags & RA_OPF_HAS_BYTE) ? (int)op->a[2] : 0x41, RA_MIN(len, (size_t)65536));
			for (size_t done = 0; !rc && done < len; done += 65536)
				rc = ra_uaccess(m, ut, a + done, RA_MIN(len - done, (size_t)65536), true, buf);
		} else {
			rc = ut ? ra_uaccess(m, ut, a, len, false, buf) : ra_kread(m, a, buf, len);
			/* peek shows the bytes as they are, set or not: what simulated
			 * RAM holds is deterministic, so the copy is defined for
			 * Valgrind (the object itself keeps its state) */
			if (!rc && m->valgrind)
				RA_VG_DEFINED(buf, len);
			if (!rc && rp->out)
				hexdump_out(rp, a, buf, len);
		}
		free(buf);
		return rc ? OUT_FAIL : OUT_OK;
	}
	case RA_OP_FILE: case RA_OP_FREAD: case RA_OP_FWRITE: case RA_OP_FSYNC: case RA_OP_FTRUNCATE:
	case RA_OP_FUNLINK: case RA_OP_FADVISE:
		return exec_file(rp, op);
	case RA_OP_BALLOON: {
		uint32_t id = 0;
		int rc = ra_balloon_inflate(m, (uint64_t)op->a[0], &id);
		return kbind(rp, op, RA_NONAME, HK_BALLOON, rc ? 0 : 1, (uint64_t)op->a[0], id, NULL);
	}
	case RA_OP_SWAPON: {
		uint32_t id = 0;
		int rc = ra_swapon(m, (uint64_t)op->a[0], (op->flags & RA_OPF_HAS_PRIO) ? (int)op->a[1] : -1,
		                   (op->flags & RA_OPF_ZRAM) != 0, (unsigned)op->a[2], &id);
		return kbind(rp, op, RA_NONAME, HK_SWAP, rc ? 0 : 1, (uint64_t)op->a[0], id, NULL);
	}
	case RA_OP_SWAPOFF:
		if ((r = want(rp, op, 0, 1u << HK_SWAP, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL)
			return OUT_OK;
		if (ra_swapoff(m, h->aux))
			return OUT_FAIL;
		h->state = HS_FREED;
		rp_twin_gone(rp, h);
		return OUT_OK;
	case RA_OP_UNBALLOON:
		if ((r = want(rp, op, 0, 1u << HK_BALLOON, &h)) != OUT_OK)
			return r;
		if (h->state == HS_NULL)
			return OUT_OK;
		if (ra_balloon_deflate(m, h->aux))
			return OUT_FAIL;
		h->state = HS_FREED;
		rp_twin_gone(rp, h);
		return OUT_OK;
	default:
		return rp_trace_error(rp, op, 0, "internal: no executor for '%s'", ra_op_names[op->code]);
	}
}

/* === Control operations ================================================= */

static int exec_control(struct replay *rp, const struct ra_op *op)
{
	ra_machine *m = rp->m;
	const char *str = op->str != RA_NONAME ? ra_trace_strp(rp->t, op->str) : "";
	switch (op->code) {
	case RA_OP_MACHINE:
		return OUT_OK;   /* applied when the machine was created */
	case RA_OP_SYSCTL: {
		const char *eq = strchr(str, '=');
		if ((size_t)(eq - str) == strlen("vm.drop_caches") && !strncmp(str, "vm.drop_caches", (size_t)(eq - str))) {
			ra_drop_caches(m, atoi(eq + 1));    /* checked 1 .. 4 by the parser */
			return OUT_OK;
		}
		int id = ra_knob_lookup(str, (size_t)(eq - str));
		if (ra_knob_set_id(m, id, eq + 1, strlen(eq + 1)) != RA_OK)
			return rp_trace_error(rp, op, 0, "%s", ra_last_error(m));
		return OUT_OK;
	}
	case RA_OP_SLUB_DEBUG: {
		char err[160];
		if (ra_slab_set_debug(m, str, err, sizeof(err)))
			return rp_trace_error(rp, op, 0, "%s", err);
		return OUT_OK;
	}
	case RA_OP_SLEEP:
		ra_sleep(m, (uint64_t)op->a[0]);
		return OUT_OK;
	case RA_OP_CPU:
		if ((unsigned)op->a[0] >= m->ncpus)
			return rp_trace_error(rp, op, 0, "cpu %" PRId64 ": the machine has %u cpus", op->a[0], m->ncpus);
		ra_set_cpu(m, (unsigned)op->a[0]);
		return OUT_OK;
	case RA_OP_FAIL:
		ra_fail_arm(m, (int)op->a[0], op->a);
		return OUT_OK;
	case RA_OP_CHECK: {
		long n = ra_check(m, (op->flags & RA_OPF_FULL) ? RA_CHECK_FULL : RA_CHECK_OP);
		if (n) {
			rp_failure(rp, op, "check%s: %ld problem%s", (op->flags & RA_OPF_FULL) ? " full" : "", n,
			           n == 1 ? "" : "s");
			rp->invariant_problems += n;
			return OUT_FAIL;
		}
		return OUT_OK;
	}
	case RA_OP_DUMP: {
		int r = ra_view(m, str);
		if (r == 1 && rp_null_current(rp))
			return OUT_FAIL;    /* the current task never came to be */
		if (r == 1)
			return rp_trace_error(rp, op, 0, "view '%s' needs a current task", str);
		if (r == RA_ENOENT)
			return rp_trace_error(rp, op, 0, "unknown view '%s'", str);
		return OUT_OK;
	}
	default:
		return rp_trace_error(rp, op, 0, "internal: no executor for '%s'", ra_op_names[op->code]);
	}
}


static int exec_op(struct replay *rp, const struct ra_op *op)
{
	switch (op->code) {
	case RA_OP_MACHINE: case RA_OP_SYSCTL: case RA_OP_SLUB_DEBUG: case RA_OP_CPU: case RA_OP_FAIL:
	case RA_OP_CHECK: case RA_OP_DUMP: case RA_OP_SLEEP:
		return exec_control(rp, op);
	default:
		break;
	}
	if (ra_op_side[op->code] == 'K')
		return exec_kernel(rp, op);
	return rp_exec_user(rp, op);
}

/* === The replay loop ==================================================== */

#if defined(RA_ASAN) || defined(__SANITIZE_ADDRESS__)
/* ASan reports come with the host stack; this names the trace line being
 * replayed. A thread-local, for diagnostics only: the engine's state stays
 * in its machine. */
static _Thread_local const char *asan_file;
static _Thread_local uint32_t asan_line;
void __asan_on_error(void);
void __asan_on_error(void)
{
	if (asan_file)
		fprintf(stderr, "refalloc: AddressSanitizer report while replaying %s:%u\n", asan_file, asan_line);
}
#define NOTE_SITE(f, l) (asan_file = (f), asan_line = (l))
#else
#define NOTE_SITE(f, l) ((void)0)
#endif

void ra_replay_opts_default(struct ra_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->check = RA_CHECK_OFF;
	o->out = stdout;
	o->err = stderr;
}

void ra_replay_opts_fuzz(struct ra_replay_opts *o)
{
	o->oracle = 1;
	o->allow_reports = 1;
	if (o->check < RA_CHECK_OP)
		o->check = RA_CHECK_OP;
}

/* === The hook ========================================================== */

/* Call the hook at one point; true when it asks to stop. */
static bool hook(struct replay *rp, enum ra_replay_point point, const struct ra_op *op, uint32_t index, int outcome)
{
	struct ra_replay_event *ev = &rp->ev;
	struct ra_mm_world *w = ra_mm_world(rp->m);
	ev->point = point;
	ev->t = rp->t;
	ev->op = op;
	ev->index = index;
	ev->outcome = outcome;
	ev->pid = w && w->cur ? w->cur->pid : 0;
	ev->tid = w && w->cur ? w->cur_tid : 0;
	ev->task_alive = w && ra_task_alive(w->cur);
	if (point != RA_REPLAY_AFTER)
		ev->bound = 0;     /* AFTER: as the operation's rp_bind left it */
	if (!rp->o->hook(rp->m, ev, rp->o->hook_arg))
		return false;
	rp->stopped = true;
	return true;
}

static int expect_op(struct replay *rp, const struct ra_op *op)
{
	const struct ra_op *prev = rp->last_op;
	const char *pname = prev ? ra_op_names[prev->code] : "nothing";
	uint32_t pline = prev ? prev->line : 0;
	switch (op->a[0]) {
	case RA_EXPECT_OK:
		if (rp->last_outcome != OUT_OK)
			rp_failure(rp, op, "expect ok failed: %s (line %u) failed", pname, pline);
		break;
	case RA_EXPECT_FAIL:
		/* a misuse report also makes an operation "fail" (docs/trace-format.md: reported
		 * and refused), even when, as in the kernel, it still returned
		 * memory (poison overwritten found at allocation) */
		if (rp->last_outcome != OUT_FAIL && !rp->pending_reports)
			rp_failure(rp, op, "expect fail failed: %s (line %u) succeeded", pname, pline);
		rp->pending_reports = 0;   /* acknowledged */
		break;
	case RA_EXPECT_ANY:
		rp->pending_reports = 0;   /* deliberate misuse: a report is welcome, not required */
		break;
	default: {
		const char *name = ra_trace_strp(rp->t, op->str);
		if (!rp_was_oom_killed(rp, name, rp->last_op_seq))
			rp_failure(rp, op, "expect oom_kill %s failed: %s (line %u) did not kill it", name, pname, pline);
		break;
	}
	}
	return OUT_OK;
}

int ra_replay_ex(const struct ra_trace *t, const struct ra_replay_opts *o, struct ra_replay_stats *st)
{
	struct replay rp = { .t = t, .o = o, .out = o->out, .err = o->quiet_errors ? NULL : o->err };
	int exit_code = RA_EXIT_OK;
	/* the knob assignments as boot parameters, as the environment's */
	int rc = ra_machine_create_ex(&rp.m, &t->cfg, o->sets, o->nsets, o->out, rp.err);
	if (rc == RA_EKNOB) {
		if (rp.err)
			fprintf(rp.err, "refalloc: --set %s\n", ra_last_error(rp.m));
		ra_machine_destroy(rp.m);
		return RA_EXIT_USAGE;
	}
	if (rc != RA_OK) {
		if (rp.err)
			fprintf(rp.err, "%s: error: %s\n", t->file, rp.m ? ra_last_error(rp.m) : "out of memory");
		ra_machine_destroy(rp.m);
		return rc == RA_ENOMEM ? RA_EXIT_INTERNAL : RA_EXIT_TRACE;
	}
	ra_machine *m = rp.m;
	if (o->slub_debug) {
		/* the boot parameter: as a `slub_debug` line before the first operation */
		char err[160];
		if (ra_slab_set_debug(m, o->slub_debug, err, sizeof(err))) {
			if (rp.err)
				fprintf(rp.err, "refalloc: --slub-debug=%s: %s\n", o->slub_debug, err);
			ra_machine_destroy(m);
			return RA_EXIT_USAGE;
		}
	}
	ra_set_check_level(m, o->check);
	m->raw_trace_access = o->allow_reports;
	rp.twins = o->twins ? o->twins : (m->valgrind ? 1 : 0);
	if (o->fail_nth)
		ra_fail_nth(m, o->fail_nth);
	rp.kh = calloc(t->nnames + 1, sizeof(*rp.kh));
	if (!rp.kh) {
		ra_machine_destroy(m);
		return RA_EXIT_INTERNAL;
	}
	if (o->oracle)
		or_init(&rp);
	uint32_t i = 0;
	const bool hooked = o->hook != NULL;   /* a local: no reload after every call */
	if (hooked)
		hook(&rp, RA_REPLAY_START, NULL, 0, OUT_OK);
	for (; i < t->nops && !rp.stopped; i++) {
		const struct ra_op *op = &t->ops[i];
		m->op_seq++;
		ra_set_site(m, t->file, op->line);
		NOTE_SITE(t->file, op->line);
		if (op->code == RA_OP_EXPECT) {
			if (hooked && hook(&rp, RA_REPLAY_BEFORE, op, i, OUT_OK))
				break;
			expect_op(&rp, op);
			if (hooked)
				hook(&rp, RA_REPLAY_AFTER, op, i, OUT_OK);
			continue;
		}
		if (rp.pending_reports) {
			rp.unexpected_reports += rp.pending_reports;
			rp.pending_reports = 0;
		}
		unsigned long before = ra_reports(m);
		rp.last_op_seq = m->op_seq;
		if (rp.oracle)
			or_before(&rp, op);
		if (hooked && hook(&rp, RA_REPLAY_BEFORE, op, i, OUT_OK))
			break;
		int out = exec_op(&rp, op);
		/* kswapd runs once the operation that woke it has finished
		 * (vmscan.c): its work counts as the operation's */
		if (m->kswapd.pending && out <= OUT_FAIL && !ra_panicked(m))
			ra_kswapd_run(m);
		rp.st.ops++;
		if (ra_panicked(m))
			out = OUT_PANIC;
		if (rp.oracle && out <= OUT_FAIL)
			or_after(&rp, op, out, ra_reports(m) - before);
		/* what the hook reads and writes counts as the operation's (a stop
		 * ends the loop after this operation's bookkeeping) */
		if (hooked)
			hook(&rp, RA_REPLAY_AFTER, op, i, out);
		if (out == OUT_TRACE_ERROR) {
			exit_code = RA_EXIT_TRACE;
			break;
		}
		if (out == OUT_HOST_ERROR) {
			exit_code = RA_EXIT_INTERNAL;
			break;
		}
		if (out == OUT_PANIC) {
			exit_code = RA_EXIT_PANIC;
			break;
		}
		if (rp.twins)
			rp_twins_of_dead_tasks(&rp);
		rp.last_op = op;
		rp.last_outcome = out;
		rp.pending_reports += ra_reports(m) - before;   /* misuse only: validator problems are not reports */
		if (m->check >= RA_CHECK_OP && op->code != RA_OP_CHECK) {
			/* Validators report engine inconsistencies as problems. The
			 * per-operation tier reads no simulated RAM: in-band corruption a
			 * trace caused is found where the kernel finds it (free,
			 * allocation, `check full`), whatever the --check level. */
			unsigned long b2 = ra_reports(m);
			long n = m->check == RA_CHECK_FULL ? ra_check_structures(m) : ra_check_op(m);
			rp.pending_reports += ra_reports(m) - b2;
			if (n) {
				rp_failure(&rp, op, "invariants broken after %s: %ld problem%s", ra_op_names[op->code], n,
				           n == 1 ? "" : "s");
				rp.invariant_problems += n;
			}
		}
	}
	rp.unexpected_reports += rp.pending_reports;
	if (o->allow_reports)
		rp.unexpected_reports = 0;
	if (rp.oracle && exit_code == RA_EXIT_OK && !rp.stopped)
		or_end(&rp);
	if (exit_code == RA_EXIT_OK) {
		ra_set_site(m, t->file, 0);
		if (m->check != RA_CHECK_OFF && !rp.stopped) {
			long n = ra_check(m, RA_CHECK_FULL);
			if (n) {
				rp.invariant_problems += n;
				if (rp.err)
					fprintf(rp.err, "%s: end of trace: invariants broken: %ld problem%s\n", t->file, n,
					        n == 1 ? "" : "s");
			}
		}
		for (unsigned k = 0; k < o->ndumps && !rp.stopped; k++) {
			int r = ra_view(m, o->dumps[k]);
			if (r && rp.err)
				fprintf(rp.err, "refalloc: --dump %s: %s\n", o->dumps[k],
				        r == 1 ? "needs a current task" : "unknown view");
		}
		if (o->leaks && !rp.stopped && (rp.leaked = (uint64_t)rp_leak_report(&rp, o->leaks)) && o->leaks == 2)
			rp.failures++;
		if (rp.failures || rp.unexpected_reports || rp.invariant_problems || rp.oracle_failures) {
			exit_code = RA_EXIT_FAIL;
			if (rp.err)
				fprintf(rp.err, "refalloc: %s: FAILED: %" PRIu64 " unexpected report%s, %" PRIu64 " failed expect%s "
				        "or check%s, %" PRIu64 " invariant problem%s%s\n", t->file, rp.unexpected_reports,
				        rp.unexpected_reports == 1 ? "" : "s", rp.failures, rp.failures == 1 ? "" : "s",
				        rp.failures == 1 ? "" : "s", rp.invariant_problems, rp.invariant_problems == 1 ? "" : "s",
				        rp.oracle ? (rp.oracle_failures ? ", oracle failures" : ", oracle clean") : "");
		}
	}
	if (hooked) {
		bool stopped = rp.stopped;    /* END's answer does not matter */
		hook(&rp, RA_REPLAY_END, NULL, i, exit_code);
		rp.stopped = stopped;
	}
	rp.st.stopped = rp.stopped;
	rp.st.reports = ra_reports(m);
	rp.st.injected = ra_fail_injected(m);
	rp.st.oracle_failures = rp.oracle_failures;
	rp.st.invariant_problems = rp.invariant_problems;
	rp.st.panicked = exit_code == RA_EXIT_PANIC;
	or_fini(&rp);
	if (st)
		*st = rp.st;
	rp_user_fini(&rp);
	free(rp.kh);
	ra_machine_destroy(m);
	return exit_code;
}

int ra_replay(const struct ra_trace *t, const struct ra_replay_opts *o) { return ra_replay_ex(t, o, NULL); }
