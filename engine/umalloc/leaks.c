/*
 * leaks.c — REFALLOC_LEAKS: record live blocks with their call stacks,
 * classify them at exit as Valgrind's memcheck does, and print an
 * LSan-style report.  Part of librefalloc_malloc.so (preload.c includes
 * this file); nothing here may call malloc while recording.
 *
 * Recording.  preload.c tests one flag on its malloc and free paths; when
 * it is set, every block handed out goes into a side table: 64 shards of
 * open-addressing hash tables keyed by the user pointer (request size,
 * stack id), each behind a spinlock, grown by mmap.  Stacks are walked
 * with DWARF CFI (so -O2 code without frame pointers unwinds right): a
 * cache of per-pc unwind rules makes a frame cost two loads, and anything
 * the cache cannot express goes to libgcc's _Unwind_Backtrace (see "Fast
 * unwinding").  Stacks are interned in a depot: an append-only mmap'd
 * arena of records chained from a fixed bucket array, looked up without a
 * lock (records are immutable once published) and appended under one.
 * A thread-local guard stops recursion should the unwinder ever allocate
 * (that allocation is recorded with its caller only).  None of this
 * memory is scanned as a root: it is mmap'd directly, not in any loaded
 * object's segments, and the library's own segments are skipped.
 *
 * Order of operations keeps the table exact under threads: a block is
 * recorded after the allocator returned it, and its record is removed
 * before the allocator may hand it out again (free, realloc).
 *
 * Reporting.  lk_arm() registers lk_atexit with __cxa_atexit from the
 * library's constructor, without a DSO handle, before __libc_start_main
 * registers ld.so's _dl_fini: exit handlers run last-in first-out, so the
 * report runs after the program's atexit handlers and after every
 * object's destructors, as late as a process can still run code.  It
 * freezes the table (other threads' frees wait until the scan is over),
 * sorts the blocks by address and marks from the roots:
 *   - writable PT_LOAD segments of every loaded object but this library
 *     (its allocator state points at chunks), and the exiting thread's
 *     TLS blocks of each object (dl_iterate_phdr) and its struct pthread
 *     (pthread_setspecific values);
 *   - the exiting thread's stack from the frame that called exit() up,
 *     and that frame's callee-saved registers as the unwinder recovers
 *     them (libc's exit frames between are skipped: see collect_roots);
 *   - blocks allocated by ld.so itself (TLS, DTVs, link maps) count as
 *     reachable, as LSan does: the dynamic linker keeps their pointers in
 *     memory that no segment covers.
 * Other threads' stacks are not scanned.  The marking itself (lk_classify)
 * is memcheck's algorithm, so "definitely lost" agrees with Valgrind on
 * the same pointer graph; see leakcheck/examples/README.md for where the
 * graphs can differ.
 *
 * fork: the child inherits the table (the atfork handlers hold every lock
 * across fork) and prints its own report at its own exit, like Valgrind.
 */
#include "leaks.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unwind.h>

#define LK_LIKELY(x)   __builtin_expect(!!(x), 1)
#define LK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LK_NOINLINE    __attribute__((noinline))
#define LK_TLS         __thread __attribute__((tls_model("initial-exec")))

#define LK_MAXDEPTH     64
#define LK_DEFDEPTH     30
#define LK_EXITCODE     23
#define LK_SHARD_BITS   6
#define LK_NSHARDS      (1u << LK_SHARD_BITS)
#define LK_NBUCKETS     (1u << 18)
#define LK_MAXROOTS     1024
#define LK_MAXEXCL      256

enum { LK_OFF = 0, LK_ACTIVE, LK_REPORT, LK_DONE };
enum { LK_UNWIND_FAST = 0, LK_UNWIND_LIBGCC, LK_UNWIND_CHECK };
enum { SHOW_DEFINITE = 1, SHOW_INDIRECT = 2, SHOW_POSSIBLE = 4, SHOW_REACHABLE = 8 };

struct lk_ent {                 /* one live block */
	uintptr_t p;            /* 0 = empty slot */
	uint64_t  size;
	uint32_t  stack;
	uint32_t  pad;
};

struct lk_shard {
	int      lock;
	unsigned logcap;
	size_t   count;
	struct lk_ent *tab;
} __attribute__((aligned(64)));

struct lk_srec {                /* a stack in the depot */
	uint32_t  next;         /* next record in the bucket (offset), 0 = end */
	uint32_t  hash;
	uint16_t  n;            /* frames in pc[] (frame #0, the entry, is implied) */
	uint16_t  kind;
	uint32_t  pad;
	uintptr_t pc[];         /* return addresses, innermost first */
};

static struct {
	int      state;
	int      armed;
	int      error;         /* REFALLOC_LEAKS=error */
	int      exitcode;
	unsigned depth;
	unsigned show;
	char     file[256];
	struct lk_host host;
	/* the stack depot */
	int      dep_lock;
	char    *dep;
	size_t   dep_cap, dep_used;
	uint32_t *buckets;
	/* blocks the table could not hold (bookkeeping memory exhausted) */
	uint64_t untracked;
	/* REFALLOC_LEAKS_UNWIND and, in check mode, what the walks did */
	int      unwind;
	uint64_t unw_fast, unw_slow, unw_differ;
	struct lk_shard shards[LK_NSHARDS];
} G;

static LK_TLS int lk_busy;      /* inside the unwinder on this thread */
static int lk_rc_lock;          /* writers of the unwind rule cache */
static int lk_mapping(uintptr_t a, uintptr_t *lo, uintptr_t *hi);
static void lk_unwind_init(void);
static LK_TLS int lk_self;      /* this thread runs the report */

/* === Small helpers ====================================================== */

static void lk_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static void spin_lock(int *l)
{
	unsigned n = 0;
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
			if (++n < 100)
				lk_pause();
			else
				sched_yield();
		}
	}
}

static void spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

static void *lk_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void lk_say(const char *s)
{
	ssize_t w = write(2, s, strlen(s));
	(void)w;
}

static int lk_state(void) { return __atomic_load_n(&G.state, __ATOMIC_ACQUIRE); }

/* === Options ============================================================ */

static int opt_is(const char *v, const char *w)
{
	return strcmp(v, w) == 0;
}

static unsigned opt_show(const char *v)
{
	unsigned m = 0;
	while (v && *v) {
		const char *e = strchr(v, ',');
		size_t len = e ? (size_t)(e - v) : strlen(v);
#define TOK(s) (len == sizeof(s) - 1 && memcmp(v, s, len) == 0)
		if (TOK("definite"))
			m |= SHOW_DEFINITE;
		else if (TOK("indirect"))
			m |= SHOW_INDIRECT;
		else if (TOK("possible"))
			m |= SHOW_POSSIBLE;
		else if (TOK("reachable"))
			m |= SHOW_REACHABLE;
		else if (TOK("all"))
			m |= SHOW_DEFINITE | SHOW_INDIRECT | SHOW_POSSIBLE | SHOW_REACHABLE;
		else if (TOK("none"))
			m |= 0;
		else
			lk_say("refalloc: REFALLOC_LEAKS_SHOW: unknown kind ignored\n");
#undef TOK
		v = e ? e + 1 : NULL;
	}
	return m;
}

int lk_init(const struct lk_host *host)
{
	if (G.state != LK_OFF)
		return 1;
	const char *v = getenv("REFALLOC_LEAKS");
	if (!v || !*v || opt_is(v, "0") || opt_is(v, "off") || opt_is(v, "no"))
		return 0;
	G.error = opt_is(v, "error");
	if (!G.error && !opt_is(v, "1") && !opt_is(v, "report") && !opt_is(v, "on") && !opt_is(v, "yes"))
		lk_say("refalloc: REFALLOC_LEAKS: expected 1, report or error; reporting\n");
	G.exitcode = LK_EXITCODE;
	if ((v = getenv("REFALLOC_LEAKS_EXITCODE")) && *v) {
		long c = strtol(v, NULL, 10);
		if (c > 0 && c < 256)
			G.exitcode = (int)c;
	}
	G.depth = LK_DEFDEPTH;
	if ((v = getenv("REFALLOC_LEAKS_DEPTH")) && *v) {
		long d = strtol(v, NULL, 10);
		G.depth = d < 1 ? 1 : d > LK_MAXDEPTH ? LK_MAXDEPTH : (unsigned)d;
	}
	G.show = SHOW_DEFINITE | SHOW_INDIRECT | SHOW_POSSIBLE;
	if ((v = getenv("REFALLOC_LEAKS_SHOW")) && *v)
		G.show = opt_show(v);
	G.unwind = LK_UNWIND_FAST;
	if ((v = getenv("REFALLOC_LEAKS_UNWIND")) && *v) {
		if (opt_is(v, "libgcc"))
			G.unwind = LK_UNWIND_LIBGCC;
		else if (opt_is(v, "check"))
			G.unwind = LK_UNWIND_CHECK;
		else if (!opt_is(v, "fast"))
			lk_say("refalloc: REFALLOC_LEAKS_UNWIND: expected fast, libgcc or check\n");
	}
	G.file[0] = 0;
	if ((v = getenv("REFALLOC_LEAKS_FILE")) && *v && strlen(v) < sizeof(G.file))
		memcpy(G.file, v, strlen(v) + 1);
	if (host)
		G.host = *host;
	/* The depot: reserved once, touched as stacks arrive. */
	for (size_t cap = (size_t)1 << 30; cap >= ((size_t)16 << 20); cap >>= 1) {
		G.dep = lk_map(cap);
		if (G.dep) {
			G.dep_cap = cap;
			break;
		}
	}
	G.buckets = lk_map(LK_NBUCKETS * sizeof(uint32_t));
	if (!G.dep || !G.buckets) {
		lk_say("refalloc: REFALLOC_LEAKS: cannot map the stack depot; leak report off\n");
		return 0;
	}
	G.dep_used = sizeof(struct lk_srec);    /* offset 0 means "no stack" */
	lk_unwind_init();
	__atomic_store_n(&G.state, LK_ACTIVE, __ATOMIC_RELEASE);
	return 1;
}

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

void lk_arm(void)
{
	if (G.state != LK_OFF && !__atomic_exchange_n(&G.armed, 1, __ATOMIC_ACQ_REL))
		__cxa_atexit(lk_atexit, NULL, NULL);
}

/* === Stack capture and the depot ======================================== */

struct lk_uw {
	uintptr_t  ra;          /* first frame to keep: the caller of the entry */
	uintptr_t *pc;
	unsigned   n, max, skipped;
	int        found;
};

static _Unwind_Reason_Code lk_uw_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct lk_uw *u = arg;
	uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
	if (!ip)
		return _URC_END_OF_STACK;
	if (!u->found) {
		/* our own frames (the entry, lk_alloc, the unwinder) come first */
		if (ip != u->ra)
			return ++u->skipped > 16 ? _URC_END_OF_STACK : _URC_NO_REASON;
		u->found = 1;
	}
	u->pc[u->n++] = ip;
	return u->n >= u->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

static uint32_t stack_hash(const uintptr_t *pc, unsigned n, unsigned kind)
{
	uint64_t h = 0xcbf29ce484222325ull ^ kind;
	for (unsigned i = 0; i < n; i++) {
		h = (h ^ pc[i]) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static struct lk_srec *srec(uint32_t off) { return (struct lk_srec *)(void *)(G.dep + off); }

static uint32_t depot_find(uint32_t head, uint32_t h, const uintptr_t *pc, unsigned n, unsigned kind)
{
	for (uint32_t off = head; off; off = srec(off)->next) {
		const struct lk_srec *r = srec(off);
		if (r->hash == h && r->n == n && r->kind == kind && memcmp(r->pc, pc, n * sizeof(*pc)) == 0)
			return off;
	}
	return 0;
}

static uint32_t depot_put(const uintptr_t *pc, unsigned n, unsigned kind)
{
	uint32_t h = stack_hash(pc, n, kind);
	uint32_t *bucket = &G.buckets[h & (LK_NBUCKETS - 1)];
	uint32_t off = depot_find(__atomic_load_n(bucket, __ATOMIC_ACQUIRE), h, pc, n, kind);
	if (LK_LIKELY(off))
		return off;
	spin_lock(&G.dep_lock);
	uint32_t head = __atomic_load_n(bucket, __ATOMIC_ACQUIRE);
	off = depot_find(head, h, pc, n, kind);
	size_t need = sizeof(struct lk_srec) + n * sizeof(uintptr_t);
	if (!off && G.dep_used + need <= G.dep_cap && G.dep_used + need <= UINT32_MAX) {
		off = (uint32_t)G.dep_used;
		struct lk_srec *r = srec(off);
		r->next = head;
		r->hash = h;
		r->n = (uint16_t)n;
		r->kind = (uint16_t)kind;
		memcpy(r->pc, pc, n * sizeof(*pc));
		G.dep_used += need;
		__atomic_store_n(bucket, off, __ATOMIC_RELEASE);
	}
	spin_unlock(&G.dep_lock);
	return off;
}

/* === Fast unwinding: CFI rules cached per pc =========================== */

/*
 * _Unwind_Backtrace interprets the CFI of every frame on every call (about
 * 150 ns a frame here, so 1-2 us per malloc).  On x86-64 the step from a
 * frame to its caller depends only on the pc: CFA = rsp or rbp + offset,
 * the return address at CFA - 8, rbp saved at CFA + k or unchanged.  So
 * the CFI of a pc is interpreted once (its FDE found through
 * _dl_find_object and the .eh_frame_hdr search table), the rule goes into
 * a cache, and the walk costs two loads and a cache probe a frame.
 * Anything a rule cannot express (CFA or rbp by expression, signal
 * frames, unknown opcodes, a load outside the thread's stack) makes the
 * whole capture fall back to _Unwind_Backtrace, so the stacks are the
 * ones libgcc gives.  REFALLOC_LEAKS_UNWIND=libgcc forces the fallback;
 * =check runs both on every capture and counts the differences.
 */
#if defined(__x86_64__) && defined(DLFO_EH_SEGMENT_TYPE)
#define LK_FAST_UNWIND 1

#define RULE_VALID      1ull
#define RULE_END        2ull    /* return address undefined or no CFI: outermost */
#define RULE_CFA_RBP    4ull    /* CFA = rbp + off, else rsp + off */
#define RULE_RBP_SAVED  8ull    /* caller's rbp at CFA + rbp_off */
#define RULE_FAIL       16ull   /* not expressible: use libgcc */
#define RULE(flags, cfa_off, rbp_off) \
	((flags) | RULE_VALID | ((uint64_t)(uint16_t)(int16_t)(rbp_off) << 16) | ((uint64_t)(uint32_t)(int32_t)(cfa_off) << 32))
#define RULE_CFA_OFF(r) ((int64_t)(int32_t)(uint32_t)((r) >> 32))
#define RULE_RBP_OFF(r) ((int64_t)(int16_t)(uint16_t)((r) >> 16))

#define LK_RCACHE_BITS 13
struct lk_rc {
	uint64_t pc, rule;
};
static struct lk_rc *lk_rcache;

struct lk_cur {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t cur_uleb(struct lk_cur *c)
{
	uint64_t v = 0;
	for (unsigned s = 0;; s += 7) {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		uint8_t b = *c->p++;
		if (s < 64)
			v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return v;
	}
}

static int64_t cur_sleb(struct lk_cur *c)
{
	uint64_t v = 0;
	unsigned s = 0;
	uint8_t b;
	do {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		b = *c->p++;
		if (s < 64)
			v |= (uint64_t)(b & 0x7f) << s;
		s += 7;
	} while (b & 0x80);
	if (s < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << s;
	return (int64_t)v;
}

static uint64_t cur_fixed(struct lk_cur *c, unsigned n)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return 0;
	}
	memcpy(&v, c->p, n);    /* little-endian */
	c->p += n;
	return v;
}

/* A DW_EH_PE-encoded value; pcrel is the only application supported. */
static uint64_t cur_enc(struct lk_cur *c, uint8_t enc)
{
	const uint8_t *at = c->p;
	uint64_t v;
	if (enc == 0xff) {
		c->bad = 1;
		return 0;
	}
	switch (enc & 0x0f) {
	case 0x00: v = cur_fixed(c, 8); break;
	case 0x01: v = cur_uleb(c); break;
	case 0x02: v = cur_fixed(c, 2); break;
	case 0x03: v = cur_fixed(c, 4); break;
	case 0x04: v = cur_fixed(c, 8); break;
	case 0x09: v = (uint64_t)cur_sleb(c); break;
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)cur_fixed(c, 2); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)cur_fixed(c, 4); break;
	case 0x0c: v = cur_fixed(c, 8); break;
	default: c->bad = 1; return 0;
	}
	switch (enc & 0x70) {
	case 0x00: break;
	case 0x10: v += (uint64_t)(uintptr_t)at; break;
	default: c->bad = 1;
	}
	if (enc & 0x80)
		c->bad = 1;     /* indirect */
	return v;
}

/* The FDE covering pc, or NULL (no unwind information: outermost frame). */
static const uint8_t *find_fde(uintptr_t pc, int *fail)
{
	struct dl_find_object fo;
	if (_dl_find_object((void *)pc, &fo) != 0 || !fo.dlfo_eh_frame)
		return NULL;
	const uint8_t *hdr = fo.dlfo_eh_frame;
	if (hdr[0] != 1 || hdr[3] != 0x3b) {        /* version, table: datarel|sdata4 */
		*fail = 1;
		return NULL;
	}
	struct lk_cur c = { hdr + 4, hdr + 4 + 32, 0 };
	cur_enc(&c, hdr[1]);                         /* eh_frame_ptr */
	uint64_t count = cur_enc(&c, hdr[2]);
	if (c.bad || count == 0) {
		*fail = !!c.bad;
		return NULL;
	}
	const uint8_t *tab = c.p;
	size_t lo = 0, hi = count;
	while (hi - lo > 1) {                       /* last entry with loc <= pc */
		size_t mid = lo + (hi - lo) / 2;
		int32_t loc;
		memcpy(&loc, tab + mid * 8, 4);
		if ((uintptr_t)hdr + (intptr_t)loc <= pc)
			lo = mid;
		else
			hi = mid;
	}
	int32_t loc, off;
	memcpy(&loc, tab + lo * 8, 4);
	memcpy(&off, tab + lo * 8 + 4, 4);
	if ((uintptr_t)hdr + (intptr_t)loc > pc)
		return NULL;
	return hdr + off;
}

enum { HOW_SAME = 0, HOW_OFFSET, HOW_UNDEF, HOW_OTHER };
struct lk_regrule {
	uint8_t how;
	int64_t off;
};
struct lk_cfastate {
	int cfa_reg;            /* DWARF number; -1 = by expression */
	int64_t cfa_off;
	struct lk_regrule rbp, ra;
};

static struct lk_regrule *cfa_reg_rule(struct lk_cfastate *st, uint64_t reg)
{
	return reg == 6 ? &st->rbp : reg == 16 ? &st->ra : NULL;
}

/* Run CFA instructions [c) from location loc, stopping at the first
 * row that starts beyond target.  0 on success. */
static int cfa_run(struct lk_cur *c, uint64_t loc, uint64_t target, uint64_t caf, int64_t daf,
                   uint8_t fde_enc, struct lk_cfastate *st, const struct lk_cfastate *init)
{
	struct lk_cfastate stack[8];
	unsigned depth = 0;
	while (c->p < c->end && !c->bad) {
		uint8_t op = *c->p++;
		uint64_t reg, delta = 0;
		int64_t off;
		struct lk_regrule *r;
		int advance = 0;
		switch (op & 0xc0) {
		case 0x40:
			delta = (op & 0x3f) * caf;
			advance = 1;
			break;
		case 0x80:
			off = (int64_t)cur_uleb(c) * daf;
			if ((r = cfa_reg_rule(st, op & 0x3f)))
				*r = (struct lk_regrule){ HOW_OFFSET, off };
			continue;
		case 0xc0:
			if ((r = cfa_reg_rule(st, op & 0x3f)))
				*r = (op & 0x3f) == 6 ? init->rbp : init->ra;
			continue;
		}
		if (!advance) {
			switch (op) {
			case 0x00: break;                               /* nop */
			case 0x01:                                      /* set_loc */
				delta = cur_enc(c, fde_enc) - loc;
				advance = 1;
				break;
			case 0x02: delta = cur_fixed(c, 1) * caf; advance = 1; break;
			case 0x03: delta = cur_fixed(c, 2) * caf; advance = 1; break;
			case 0x04: delta = cur_fixed(c, 4) * caf; advance = 1; break;
			case 0x05:                                      /* offset_extended */
				reg = cur_uleb(c);
				off = (int64_t)cur_uleb(c) * daf;
				if ((r = cfa_reg_rule(st, reg)))
					*r = (struct lk_regrule){ HOW_OFFSET, off };
				break;
			case 0x06:                                      /* restore_extended */
				reg = cur_uleb(c);
				if ((r = cfa_reg_rule(st, reg)))
					*r = reg == 6 ? init->rbp : init->ra;
				break;
			case 0x07:                                      /* undefined */
				if ((r = cfa_reg_rule(st, cur_uleb(c))))
					*r = (struct lk_regrule){ HOW_UNDEF, 0 };
				break;
			case 0x08:                                      /* same_value */
				if ((r = cfa_reg_rule(st, cur_uleb(c))))
					*r = (struct lk_regrule){ HOW_SAME, 0 };
				break;
			case 0x09:                                      /* register */
				reg = cur_uleb(c);
				cur_uleb(c);
				if ((r = cfa_reg_rule(st, reg)))
					r->how = HOW_OTHER;
				break;
			case 0x0a:                                      /* remember_state */
				if (depth == 8)
					return -1;
				stack[depth++] = *st;
				break;
			case 0x0b:                                      /* restore_state */
				if (depth == 0)
					return -1;
				*st = stack[--depth];   /* CFA rule included, as libgcc */
				break;
			case 0x0c:                                      /* def_cfa */
				st->cfa_reg = (int)cur_uleb(c);
				st->cfa_off = (int64_t)cur_uleb(c);
				break;
			case 0x0d: st->cfa_reg = (int)cur_uleb(c); break;
			case 0x0e: st->cfa_off = (int64_t)cur_uleb(c); break;
			case 0x0f:                                      /* def_cfa_expression */
				off = (int64_t)cur_uleb(c);
				c->p += off;
				st->cfa_reg = -1;
				break;
			case 0x10:                                      /* expression */
			case 0x16:                                      /* val_expression */
				reg = cur_uleb(c);
				off = (int64_t)cur_uleb(c);
				c->p += off;
				if ((r = cfa_reg_rule(st, reg)))
					r->how = HOW_OTHER;
				break;
			case 0x11:                                      /* offset_extended_sf */
				reg = cur_uleb(c);
				off = cur_sleb(c) * daf;
				if ((r = cfa_reg_rule(st, reg)))
					*r = (struct lk_regrule){ HOW_OFFSET, off };
				break;
			case 0x12:                                      /* def_cfa_sf */
				st->cfa_reg = (int)cur_uleb(c);
				st->cfa_off = cur_sleb(c) * daf;
				break;
			case 0x13: st->cfa_off = cur_sleb(c) * daf; break;
			case 0x14:                                      /* val_offset */
				reg = cur_uleb(c);
				cur_uleb(c);
				if ((r = cfa_reg_rule(st, reg)))
					r->how = HOW_OTHER;
				break;
			case 0x15:                                      /* val_offset_sf */
				reg = cur_uleb(c);
				cur_sleb(c);
				if ((r = cfa_reg_rule(st, reg)))
					r->how = HOW_OTHER;
				break;
			case 0x2e: cur_uleb(c); break;                  /* GNU_args_size */
			case 0x2f:                                      /* GNU_negative_offset_extended */
				reg = cur_uleb(c);
				off = -(int64_t)cur_uleb(c) * daf;
				if ((r = cfa_reg_rule(st, reg)))
					*r = (struct lk_regrule){ HOW_OFFSET, off };
				break;
			default:
				return -1;
			}
		}
		if (advance) {
			if (loc + delta > target)
				return 0;
			loc += delta;
		}
	}
	return c->bad || c->p > c->end ? -1 : 0;
}

static uint64_t rule_compute(uintptr_t pc)
{
	int fail = 0;
	const uint8_t *fde = find_fde(pc, &fail);
	if (!fde)
		return fail ? RULE_VALID | RULE_FAIL : RULE(RULE_END, 0, 0);
	uint32_t len, cieoff;
	memcpy(&len, fde, 4);
	memcpy(&cieoff, fde + 4, 4);
	if (len == 0 || len == 0xffffffffu || cieoff == 0)
		return RULE_VALID | RULE_FAIL;
	const uint8_t *cie = fde + 4 - cieoff;
	uint32_t clen;
	memcpy(&clen, cie, 4);
	if (clen == 0 || clen == 0xffffffffu)
		return RULE_VALID | RULE_FAIL;
	struct lk_cur c = { cie + 8, cie + 4 + clen, 0 };
	uint8_t version = (uint8_t)cur_fixed(&c, 1);
	const char *aug = (const char *)c.p;
	while (c.p < c.end && *c.p)
		c.p++;
	c.p++;
	uint64_t caf = cur_uleb(&c);
	int64_t daf = cur_sleb(&c);
	uint64_t rareg = version == 1 ? cur_fixed(&c, 1) : cur_uleb(&c);
	uint8_t fde_enc = 0;
	int has_z = aug[0] == 'z';
	if ((version != 1 && version != 3) || rareg != 16 || (!has_z && aug[0]))
		return RULE_VALID | RULE_FAIL;
	if (has_z) {
		uint64_t alen = cur_uleb(&c);
		const uint8_t *aend = c.p + alen;
		for (const char *a = aug + 1; *a && !c.bad; a++) {
			if (*a == 'R')
				fde_enc = (uint8_t)cur_fixed(&c, 1);
			else if (*a == 'P')
				cur_enc(&c, (uint8_t)(cur_fixed(&c, 1) & 0x7f));
			else if (*a == 'L')
				cur_fixed(&c, 1);
			else
				return RULE_VALID | RULE_FAIL;     /* 'S' signal frame, ... */
		}
		c.p = aend;
	}
	if (c.bad || c.p > c.end)
		return RULE_VALID | RULE_FAIL;
	struct lk_cfastate st = { -1, 0, { HOW_SAME, 0 }, { HOW_UNDEF, 0 } };
	if (cfa_run(&c, 0, UINT64_MAX, caf, daf, fde_enc, &st, &st) != 0)
		return RULE_VALID | RULE_FAIL;
	struct lk_cfastate init = st;
	struct lk_cur f = { fde + 8, fde + 4 + len, 0 };
	uint64_t begin = cur_enc(&f, fde_enc);
	uint64_t range = cur_enc(&f, fde_enc & 0x0f);
	if (has_z)
		f.p += cur_uleb(&f);
	if (f.bad)
		return RULE_VALID | RULE_FAIL;
	if (pc < begin || pc - begin >= range)
		return RULE(RULE_END, 0, 0);            /* not covered: no unwind info */
	if (cfa_run(&f, begin, pc, caf, daf, fde_enc, &st, &init) != 0)
		return RULE_VALID | RULE_FAIL;
	if (st.ra.how == HOW_UNDEF)
		return RULE(RULE_END, 0, 0);
	if ((st.cfa_reg != 7 && st.cfa_reg != 6) || st.ra.how != HOW_OFFSET || st.ra.off != -8
	    || st.cfa_off != (int32_t)st.cfa_off
	    || (st.rbp.how != HOW_SAME && st.rbp.how != HOW_OFFSET)
	    || (st.rbp.how == HOW_OFFSET && st.rbp.off != (int16_t)st.rbp.off))
		return RULE_VALID | RULE_FAIL;
	uint64_t flags = (st.cfa_reg == 6 ? RULE_CFA_RBP : 0) | (st.rbp.how == HOW_OFFSET ? RULE_RBP_SAVED : 0);
	return RULE(flags, st.cfa_off, st.rbp.how == HOW_OFFSET ? st.rbp.off : 0);
}

static uint64_t rule_get(uintptr_t pc)
{
	const size_t mask = ((size_t)1 << LK_RCACHE_BITS) - 1;
	size_t h = (size_t)((pc * 0x9E3779B97F4A7C15ull) >> (64 - LK_RCACHE_BITS));
	for (unsigned i = 0; i < 4; i++) {
		struct lk_rc *e = &lk_rcache[(h + i) & mask];
		uint64_t k = __atomic_load_n(&e->pc, __ATOMIC_ACQUIRE);
		if (k == pc) {
			uint64_t r = __atomic_load_n(&e->rule, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->pc, __ATOMIC_RELAXED) == pc && r)
				return r;
			break;
		}
		if (!k)
			break;
	}
	uint64_t r = rule_compute(pc);
	spin_lock(&lk_rc_lock);
	struct lk_rc *e = &lk_rcache[h];
	for (unsigned i = 0; i < 4; i++) {
		struct lk_rc *x = &lk_rcache[(h + i) & mask];
		uint64_t k = __atomic_load_n(&x->pc, __ATOMIC_RELAXED);
		if (!k || k == pc) {
			e = x;
			break;
		}
	}
	/* seqlock-style: readers check pc before and after reading rule */
	__atomic_store_n(&e->pc, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->rule, r, __ATOMIC_RELAXED);
	__atomic_store_n(&e->pc, pc, __ATOMIC_RELEASE);
	spin_unlock(&lk_rc_lock);
	return r;
}

static LK_TLS uintptr_t lk_stk_lo, lk_stk_hi;      /* this thread's stack mapping */

/* Walk from this frame; keep the frames from ra on.  1 on success, 0 if
 * the walk cannot be trusted (the caller then asks libgcc). */
static LK_NOINLINE int fast_walk(uintptr_t ra, uintptr_t *pc, unsigned max, unsigned *out)
{
	uintptr_t ip, sp, rbp;
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(ip), "=r"(sp), "=r"(rbp));
	if (sp - lk_stk_lo >= lk_stk_hi - lk_stk_lo) {
		uintptr_t lo, hi;
		if (!lk_mapping(sp, &lo, &hi))
			return 0;
		lk_stk_lo = lo;
		lk_stk_hi = hi;
	}
	const uintptr_t lo = sp, hi = lk_stk_hi;
	unsigned n = 0, skipped = 0;
	int found = 0;
	uintptr_t look = ip;
	for (;;) {
		uint64_t r = rule_get(look);
		if (r & RULE_FAIL)
			return 0;
		if (r & RULE_END)
			break;
		uintptr_t cfa = ((r & RULE_CFA_RBP) ? rbp : sp) + (uintptr_t)RULE_CFA_OFF(r);
		if (cfa <= sp || cfa > hi || cfa - 8 < lo)
			return 0;
		uintptr_t nip = *(const uintptr_t *)(cfa - 8);
		if (r & RULE_RBP_SAVED) {
			uintptr_t a = cfa + (uintptr_t)RULE_RBP_OFF(r);
			if (a < lo || a > hi - 8)
				return 0;
			rbp = *(const uintptr_t *)a;
		}
		sp = cfa;
		if (!nip)
			break;
		look = nip - 1;
		if (!found) {
			if (nip != ra) {
				if (++skipped > 16)
					return 0;
				continue;
			}
			found = 1;
		}
		pc[n++] = nip;
		if (n >= max)
			break;
	}
	*out = n;
	return found;
}
static void lk_unwind_init(void)
{
	if (!lk_rcache)
		lk_rcache = lk_map(sizeof(struct lk_rc) << LK_RCACHE_BITS);
}
#else
static void lk_unwind_init(void) {}
#endif /* x86-64 */

static unsigned slow_walk(uintptr_t ra, uintptr_t *pc, unsigned max)
{
	struct lk_uw u = { ra, pc, 0, max, 0, 0 };
	_Unwind_Backtrace(lk_uw_cb, &u);
	return u.n;
}

static LK_NOINLINE uint32_t lk_capture(unsigned kind, uintptr_t ra)
{
	uintptr_t pc[LK_MAXDEPTH];
	unsigned n = 0;
	if (G.depth > 1 && !lk_busy) {
		lk_busy = 1;
#ifdef LK_FAST_UNWIND
		if (G.unwind != LK_UNWIND_LIBGCC && lk_rcache && fast_walk(ra, pc, G.depth, &n)) {
			if (G.unwind == LK_UNWIND_CHECK) {
				uintptr_t ref[LK_MAXDEPTH];
				unsigned m = slow_walk(ra, ref, G.depth);
				__atomic_add_fetch(&G.unw_fast, 1, __ATOMIC_RELAXED);
				if (m != n || memcmp(ref, pc, n * sizeof(*pc)) != 0) {
					__atomic_add_fetch(&G.unw_differ, 1, __ATOMIC_RELAXED);
					memcpy(pc, ref, m * sizeof(*pc));
					n = m;
				}
			}
		} else {
			if (G.unwind == LK_UNWIND_CHECK)
				__atomic_add_fetch(&G.unw_slow, 1, __ATOMIC_RELAXED);
			n = slow_walk(ra, pc, G.depth);
		}
#else
		n = slow_walk(ra, pc, G.depth);
#endif
		lk_busy = 0;
	}
	if (n == 0) {
		pc[0] = ra;
		n = 1;
	}
	return depot_put(pc, n, kind);
}

/* === The block table ==================================================== */

static inline uint64_t lk_hash(uintptr_t p) { return (uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ull; }
static inline struct lk_shard *shard_of(uint64_t h) { return &G.shards[h >> (64 - LK_SHARD_BITS)]; }
static inline size_t slot_of(uint64_t h, unsigned logcap) { return (size_t)((h << LK_SHARD_BITS) >> (64 - logcap)); }

static int shard_grow(struct lk_shard *s)
{
	unsigned nl = s->tab ? s->logcap + 1 : 10;
	size_t ncap = (size_t)1 << nl, mask = ncap - 1;
	struct lk_ent *nt = lk_map(ncap * sizeof(*nt));
	if (!nt)
		return 0;
	if (s->tab) {
		size_t ocap = (size_t)1 << s->logcap;
		for (size_t i = 0; i < ocap; i++) {
			if (!s->tab[i].p)
				continue;
			size_t j = slot_of(lk_hash(s->tab[i].p), nl);
			while (nt[j].p)
				j = (j + 1) & mask;
			nt[j] = s->tab[i];
		}
		munmap(s->tab, ocap * sizeof(*nt));
	}
	s->tab = nt;
	s->logcap = nl;
	return 1;
}

static void table_put(uintptr_t p, uint64_t size, uint32_t stack)
{
	uint64_t h = lk_hash(p);
	struct lk_shard *s = shard_of(h);
	spin_lock(&s->lock);
	if (LK_UNLIKELY(!s->tab || (s->count + 1) * 2 > ((size_t)1 << s->logcap)) && !shard_grow(s)) {
		spin_unlock(&s->lock);
		__atomic_add_fetch(&G.untracked, 1, __ATOMIC_RELAXED);
		return;
	}
	size_t mask = ((size_t)1 << s->logcap) - 1, i = slot_of(h, s->logcap);
	while (s->tab[i].p && s->tab[i].p != p)
		i = (i + 1) & mask;
	if (!s->tab[i].p)
		s->count++;
	s->tab[i].p = p;
	s->tab[i].size = size;
	s->tab[i].stack = stack;
	spin_unlock(&s->lock);
}

static int table_del(uintptr_t p, struct lk_saved *out)
{
	uint64_t h = lk_hash(p);
	struct lk_shard *s = shard_of(h);
	spin_lock(&s->lock);
	if (!s->tab) {
		spin_unlock(&s->lock);
		return 0;
	}
	struct lk_ent *t = s->tab;
	size_t mask = ((size_t)1 << s->logcap) - 1, i = slot_of(h, s->logcap);
	while (t[i].p != p) {
		if (!t[i].p) {
			spin_unlock(&s->lock);
			return 0;
		}
		i = (i + 1) & mask;
	}
	if (out) {
		out->size = t[i].size;
		out->stack = t[i].stack;
	}
	/* backward-shift deletion: no tombstones */
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!t[j].p)
			break;
		size_t k = slot_of(lk_hash(t[j].p), s->logcap);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t[i] = t[j];
		i = j;
	}
	t[i].p = 0;
	s->count--;
	spin_unlock(&s->lock);
	return 1;
}

/* === Recording entry points ============================================= */

static LK_NOINLINE void lk_wait_report(void)
{
	while (lk_state() == LK_REPORT)
		sched_yield();
}

/* The entry points are out of line and cold: the allocator's fast paths
 * only test a flag and call them. */
#define LK_ENTRY __attribute__((noinline, cold))

LK_ENTRY void lk_alloc(void *p, size_t n, enum lk_kind kind, void *ra)
{
	if (!p || lk_state() != LK_ACTIVE)
		return;
	int e = errno;          /* /proc reads and mmap must not leak into errno */
	uint32_t stack = lk_capture((unsigned)kind, (uintptr_t)ra);
	table_put((uintptr_t)p, n, stack);
	errno = e;
}

LK_ENTRY void lk_free(void *p)
{
	int st = lk_state();
	if (LK_LIKELY(st == LK_ACTIVE))
		table_del((uintptr_t)p, NULL);
	else if (st == LK_REPORT && !lk_self)
		lk_wait_report();       /* the scan may be reading p */
}

LK_ENTRY int lk_take(void *p, struct lk_saved *out)
{
	int st = lk_state();
	if (LK_LIKELY(st == LK_ACTIVE))
		return table_del((uintptr_t)p, out);
	if (st == LK_REPORT && !lk_self)
		lk_wait_report();
	return 0;
}

LK_ENTRY void lk_restore(void *p, const struct lk_saved *s)
{
	if (lk_state() == LK_ACTIVE) {
		int e = errno;
		table_put((uintptr_t)p, s->size, s->stack);
		errno = e;
	}
}

void lk_fork_prepare(void)
{
	if (G.state == LK_OFF)
		return;
	spin_lock(&G.dep_lock);
	spin_lock(&lk_rc_lock);
	for (unsigned i = 0; i < LK_NSHARDS; i++)
		spin_lock(&G.shards[i].lock);
}

void lk_fork_parent(void)
{
	if (G.state == LK_OFF)
		return;
	for (unsigned i = 0; i < LK_NSHARDS; i++)
		spin_unlock(&G.shards[i].lock);
	spin_unlock(&lk_rc_lock);
	spin_unlock(&G.dep_lock);
}

void lk_fork_child(void)
{
	/* only this thread survives; its locks are the ones held */
	lk_fork_parent();
}

/* === The classifier ===================================================== */

typedef uintptr_t __attribute__((may_alias)) lk_word;

struct lk_cls {
	struct lk_blk *b;
	size_t    n;
	uint32_t *stk;
	size_t    top;
	uintptr_t minp, span;   /* every block lies in [minp, minp + span) */
	const struct lk_range *excl;
	size_t    nexcl;
};

#define LK_NONE ((size_t)-1)

/* The block a word points into: p <= a < p + size, or a == p for 0 bytes. */
static inline size_t cls_find(const struct lk_cls *c, uintptr_t a)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->b[mid].p <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return LK_NONE;
	const struct lk_blk *x = &c->b[lo - 1];
	if (a - x->p < x->size || a == x->p)
		return lo - 1;
	return LK_NONE;
}

static inline void cls_push(struct lk_cls *c, size_t i)
{
	if (!c->b[i].pending) {
		c->b[i].pending = 1;
		c->stk[c->top++] = (uint32_t)i;
	}
}

/* memcheck's lc_push_if_a_chunk_ptr (clique < 0) and
 * lc_push_with_clique_if_a_chunk_ptr. */
static inline void cls_word(struct lk_cls *c, uintptr_t v, int prior_definite, size_t clique)
{
	size_t i = cls_find(c, v);
	if (i == LK_NONE)
		return;
	struct lk_blk *x = &c->b[i];
	if (clique == LK_NONE) {
		if (x->state == LK_REACHABLE)
			return;
		if (v == x->p && prior_definite) {
			x->state = LK_REACHABLE;
			cls_push(c, i);
		} else if (x->state == LK_UNREACHED) {
			x->state = LK_POSSIBLE;
			cls_push(c, i);
		}
	} else if (x->state == LK_UNREACHED && i != clique) {
		cls_push(c, i);
		x->state = LK_INDIRECT;
	}
}

static void cls_scan(struct lk_cls *c, uintptr_t lo, uintptr_t hi, int prior_definite, size_t clique)
{
	const uintptr_t w = sizeof(uintptr_t);
	uintptr_t a = (lo + w - 1) & ~(w - 1);
	uintptr_t end = hi & ~(w - 1);
	for (; a < end; a += w) {
		uintptr_t v = *(const lk_word *)a;
		if (LK_UNLIKELY(v - c->minp < c->span))
			cls_word(c, v, prior_definite, clique);
	}
}

static void cls_drain(struct lk_cls *c, size_t clique)
{
	while (c->top) {
		size_t i = c->stk[--c->top];
		struct lk_blk *x = &c->b[i];
		x->pending = 0;
		cls_scan(c, x->p, x->p + x->size, x->state != LK_POSSIBLE, clique);
	}
}

/* First block whose bytes reach past a (blocks are sorted, disjoint). */
static size_t cls_first_after(const struct lk_cls *c, uintptr_t a)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->b[mid].p + c->b[mid].size <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Scan a root range, skipping the allocator's heaps and live blocks. */
static void cls_root(struct lk_cls *c, uintptr_t lo, uintptr_t hi)
{
	while (lo < hi) {
		uintptr_t cut = hi, resume = hi;
		for (size_t e = 0; e < c->nexcl; e++) {
			const struct lk_range *x = &c->excl[e];
			if (x->lo < hi && x->hi > lo) {
				uintptr_t s = x->lo > lo ? x->lo : lo;
				if (s < cut) {
					cut = s;
					resume = x->hi;
				}
			}
		}
		for (size_t i = cls_first_after(c, lo); i < c->n && c->b[i].p < cut; i++) {
			if (c->b[i].size == 0)
				continue;
			cut = c->b[i].p > lo ? c->b[i].p : lo;
			resume = c->b[i].p + c->b[i].size;
			break;
		}
		cls_scan(c, lo, cut, 1, LK_NONE);
		lo = resume > cut ? resume : hi;
	}
}

void lk_classify(struct lk_blk *b, size_t n, uint32_t *stk,
                 const struct lk_range *roots, size_t nroots,
                 const struct lk_range *excl, size_t nexcl, struct lk_totals *t)
{
	struct lk_cls c = { b, n, stk, 0, 0, 0, excl, nexcl };
	memset(t, 0, sizeof(*t));
	if (n == 0)
		return;
	c.minp = b[0].p;
	c.span = b[n - 1].p + (b[n - 1].size ? b[n - 1].size : 1) - c.minp;
	for (size_t i = 0; i < n; i++) {
		b[i].state = LK_UNREACHED;
		b[i].pending = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i].flags & LK_F_ROOT) {
			b[i].state = LK_REACHABLE;
			cls_push(&c, i);
		}
	}
	for (size_t r = 0; r < nroots; r++)
		cls_root(&c, roots[r].lo, roots[r].hi);
	cls_drain(&c, LK_NONE);
	for (size_t i = 0; i < n; i++) {
		if (b[i].state == LK_UNREACHED) {
			cls_push(&c, i);
			cls_drain(&c, i);
		}
	}
	for (size_t i = 0; i < n; i++) {
		t->bytes[b[i].state] += b[i].size;
		t->blocks[b[i].state]++;
	}
}

/* === Sorting (qsort may allocate) ======================================= */

typedef int (*lk_cmp)(const void *a, const void *b);

static void sort_swap(char *a, char *b, size_t sz)
{
	while (sz--) {
		char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static void sort_sift(char *base, size_t i, size_t n, size_t sz, lk_cmp cmp)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && cmp(base + l * sz, base + m * sz) > 0)
			m = l;
		if (l + 1 < n && cmp(base + (l + 1) * sz, base + m * sz) > 0)
			m = l + 1;
		if (m == i)
			return;
		sort_swap(base + i * sz, base + m * sz, sz);
		i = m;
	}
}

static void lk_sort(void *v, size_t n, size_t sz, lk_cmp cmp)
{
	char *base = v;
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sort_sift(base, i, n, sz, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		sort_swap(base, base + end * sz, sz);
		sort_sift(base, 0, end, sz, cmp);
	}
}

static int cmp_blk(const void *a, const void *b)
{
	uintptr_t x = ((const struct lk_blk *)a)->p, y = ((const struct lk_blk *)b)->p;
	return x < y ? -1 : x > y;
}

/* Blocks by address: LSD radix sort, 16-bit digits, passes whose digit is
 * the same for every block skipped (a heap sort of a million blocks spends
 * seconds in cache misses; this is four linear passes).  scratch holds n
 * blocks; without it, the heap sort. */
static void sort_blocks(struct lk_blk *b, size_t n, struct lk_blk *scratch)
{
	if (!scratch) {
		lk_sort(b, n, sizeof(*b), cmp_blk);
		return;
	}
	static size_t cnt[1 << 16];
	struct lk_blk *src = b, *dst = scratch;
	for (unsigned shift = 0; shift < 8 * sizeof(uintptr_t); shift += 16) {
		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(src[i].p >> shift) & 0xffff]++;
		if (n && cnt[(src[0].p >> shift) & 0xffff] == n)
			continue;
		size_t sum = 0;
		for (size_t d = 0; d < (1u << 16); d++) {
			size_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i].p >> shift) & 0xffff]++] = src[i];
		struct lk_blk *t = src;
		src = dst;
		dst = t;
	}
	if (src != b)
		memcpy(b, src, n * sizeof(*b));
}

/* === Output ============================================================= */

static struct {
	int    fd;
	size_t n;
	char   buf[8192];
} O;

static void out_flush(void)
{
	size_t off = 0;
	while (off < O.n) {
		ssize_t w = write(O.fd, O.buf + off, O.n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	O.n = 0;
}

static void out_ch(char ch)
{
	if (O.n == sizeof(O.buf))
		out_flush();
	O.buf[O.n++] = ch;
}

static void out_s(const char *s)
{
	while (*s)
		out_ch(*s++);
}

static void out_u(uint64_t v)
{
	char t[24];
	int k = 0;
	do
		t[k++] = (char)('0' + v % 10);
	while (v /= 10);
	while (k)
		out_ch(t[--k]);
}

static void out_x(uint64_t v)
{
	char t[20];
	int k = 0;
	do
		t[k++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	out_s("0x");
	while (k)
		out_ch(t[--k]);
}

static void out_pid(void)
{
	out_s("==");
	out_u((uint64_t)getpid());
	out_s("==");
}

/* === Symbolization (dladdr, plus the file's .symtab) ==================== */

struct lk_obj {
	uintptr_t pc;
	const char *name;
	uintptr_t bias;
	int found;
};

static int obj_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lk_obj *o = arg;
	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (o->pc >= lo && o->pc < lo + ph->p_memsz) {
			o->name = info->dlpi_name;
			o->bias = info->dlpi_addr;
			o->found = 1;
			return 1;
		}
	}
	return 0;
}

struct lk_elf {
	char path[512];
	const unsigned char *map;
	size_t len;
	const ElfW(Sym) *sym;
	size_t nsym;
	const char *str;
	size_t strsz;
};
static struct lk_elf lk_elfs[16];
static unsigned lk_nelfs;
static char lk_exe[512];

static const struct lk_elf *elf_get(const char *path)
{
	for (unsigned i = 0; i < lk_nelfs; i++)
		if (strcmp(lk_elfs[i].path, path) == 0)
			return &lk_elfs[i];
	if (lk_nelfs == sizeof(lk_elfs) / sizeof(lk_elfs[0]) || strlen(path) >= sizeof(lk_elfs[0].path))
		return NULL;
	struct lk_elf *e = &lk_elfs[lk_nelfs++];
	memset(e, 0, sizeof(*e));
	memcpy(e->path, path, strlen(path) + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return e;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
		close(fd);
		return e;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return e;
	e->map = m;
	e->len = (size_t)st.st_size;
	const ElfW(Ehdr) *eh = m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shentsize != sizeof(ElfW(Shdr))
	    || eh->e_shoff == 0 || eh->e_shoff > e->len
	    || (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > e->len - eh->e_shoff)
		return e;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(const void *)(e->map + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const ElfW(Shdr) *ss = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > e->len || sh[i].sh_size > e->len - sh[i].sh_offset
		    || ss->sh_offset > e->len || ss->sh_size > e->len - ss->sh_offset)
			continue;
		e->sym = (const ElfW(Sym) *)(const void *)(e->map + sh[i].sh_offset);
		e->nsym = sh[i].sh_size / sizeof(ElfW(Sym));
		e->str = (const char *)e->map + ss->sh_offset;
		e->strsz = ss->sh_size;
		break;
	}
	return e;
}

/* Name of the function containing file address off, and off's distance from it. */
static const char *elf_sym(const struct lk_elf *e, uintptr_t off, uintptr_t *delta)
{
	const ElfW(Sym) *best = NULL;
	if (!e || !e->sym)
		return NULL;
	for (size_t i = 0; i < e->nsym; i++) {
		const ElfW(Sym) *s = &e->sym[i];
		unsigned type = ELF64_ST_TYPE(s->st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF)
			continue;
		if (off < s->st_value || (off - s->st_value >= s->st_size && off != s->st_value))
			continue;
		if (!best || s->st_value > best->st_value)
			best = s;
	}
	if (!best || best->st_name >= e->strsz)
		return NULL;
	*delta = off - best->st_value;
	return e->str + best->st_name;
}

/* "#k 0xPC in func+0xOFF (object+0xOFF)" */
static void out_frame(unsigned k, uintptr_t pc, const char *fallback_name)
{
	struct lk_obj o = { pc, NULL, 0, 0 };
	dl_iterate_phdr(obj_cb, &o);
	const char *path = o.found ? o.name : NULL;
	if (o.found && (!path || !*path)) {
		if (!lk_exe[0]) {
			ssize_t r = readlink("/proc/self/exe", lk_exe, sizeof(lk_exe) - 1);
			lk_exe[r > 0 ? r : 0] = 0;
		}
		path = lk_exe[0] ? lk_exe : "<main program>";
	}
	uintptr_t delta = 0;
	const char *fn = NULL;
	if (path)
		fn = elf_sym(elf_get(path), pc - o.bias, &delta);
	if (!fn) {
		Dl_info di;
		if (dladdr((void *)pc, &di) && di.dli_sname && (uintptr_t)di.dli_saddr <= pc) {
			fn = di.dli_sname;
			delta = pc - (uintptr_t)di.dli_saddr;
		}
	}
	if (!fn && fallback_name) {
		fn = fallback_name;
		delta = 0;
	}
	out_s("    #");
	out_u(k);
	out_ch(' ');
	out_x(pc);
	if (fn) {
		out_s(" in ");
		out_s(fn);
		if (delta) {
			out_ch('+');
			out_x(delta);
		}
	}
	if (path) {
		out_s(" (");
		out_s(path);
		out_ch('+');
		out_x(pc - o.bias);
		out_ch(')');
	}
	out_ch('\n');
}

static const char *const lk_kind_name[LK_NKINDS] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign",
	"aligned_alloc", "posix_memalign", "valloc", "pvalloc"
};

static void out_stack(uint32_t id)
{
	if (!id) {
		out_s("    #0 <stack not recorded>\n");
		return;
	}
	const struct lk_srec *r = srec(id);
	unsigned kind = r->kind < LK_NKINDS ? r->kind : 0;
	out_frame(0, (uintptr_t)G.host.entry[kind], lk_kind_name[kind]);
	for (unsigned i = 0; i < r->n; i++)
		out_frame(i + 1, r->pc[i] - 1, NULL);   /* the call, not the return address */
}

/* === Roots ============================================================== */

struct lk_code {                        /* an object's executable segments */
	struct lk_range r[8];
	size_t n;
};

struct lk_roots {
	struct lk_range r[LK_MAXROOTS];
	size_t n;
	struct lk_code own, ld, libc;   /* this library, ld.so, libc */
	uintptr_t self, ldso, libcsym;  /* an address in each */
	uintptr_t regs[16];             /* the program's callee-saved registers */
};
static struct lk_roots R;

static void root_add(uintptr_t lo, uintptr_t hi)
{
	if (lo < hi && R.n < LK_MAXROOTS)
		R.r[R.n++] = (struct lk_range){ lo, hi };
}

static int code_has(const struct lk_code *c, uintptr_t pc)
{
	for (size_t i = 0; i < c->n; i++)
		if (pc - c->r[i].lo < c->r[i].hi - c->r[i].lo)
			return 1;
	return 0;
}

static int roots_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)arg;
	struct lk_code *code = NULL;
	int mine = 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD)
			continue;
		if (R.self - lo < ph->p_memsz)
			mine = 1, code = &R.own;
		else if (R.ldso - lo < ph->p_memsz)
			code = &R.ld;
		else if (R.libcsym - lo < ph->p_memsz)
			code = &R.libc;
	}
	int has_tls = size >= offsetof(struct dl_phdr_info, dlpi_tls_data) + sizeof(info->dlpi_tls_data);
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (code && ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && code->n < 8)
			code->r[code->n++] = (struct lk_range){ lo, lo + ph->p_memsz };
		if (mine)
			continue;       /* our own data points at the allocator's chunks */
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && (ph->p_flags & PF_R))
			root_add(lo, lo + ph->p_memsz);
		else if (ph->p_type == PT_TLS && has_tls && info->dlpi_tls_data)
			root_add((uintptr_t)info->dlpi_tls_data, (uintptr_t)info->dlpi_tls_data + ph->p_memsz);
	}
	return 0;
}

/* The mapping holding address a, from /proc/self/maps. */
static int lk_mapping(uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[4096];
	uintptr_t v[2] = { 0, 0 };
	int field = 0, found = 0;
	ssize_t r;
	while (!found && (r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r && !found; i++) {
			char ch = buf[i];
			if (ch == '\n') {
				if (v[0] <= a && a < v[1]) {
					*lo = v[0];
					*hi = v[1];
					found = 1;
				}
				v[0] = v[1] = 0;
				field = 0;
			} else if (field < 2) {
				int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
				if (d >= 0)
					v[field] = v[field] * 16 + (uintptr_t)d;
				else
					field++;
			}
		}
	}
	close(fd);
	return found;
}

/*
 * Where the program's stack starts.  The report runs inside exit():
 * our frames, then libc's (__run_exit_handlers, exit, and when main
 * returned, __libc_start_call_main ...), then the program's.  The libc
 * frames are not scanned: they sit where the program's dead frames were
 * and their unwritten slots still hold its old pointers (Valgrind skips
 * such words as undefined; we cannot tell them apart).  What the program
 * still has at the call to exit is its own frames, from the call's stack
 * pointer up, and its callee-saved registers, which the unwinder recovers
 * through libc's saves.
 */
#if defined(__x86_64__)
static const int lk_csreg[] = { 3, 6, 12, 13, 14, 15 };          /* rbx rbp r12-r15 */
#elif defined(__aarch64__)
static const int lk_csreg[] = { 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29 };
#else
static const int lk_csreg[] = { -1 };
#endif
#define LK_NCSREG (sizeof(lk_csreg) / sizeof(lk_csreg[0]))

struct lk_walk {
	int own_done;
	uintptr_t cfa;          /* CFA of the outermost libc frame: the program's sp */
	int ok;
};

static _Unwind_Reason_Code walk_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct lk_walk *w = arg;
	uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
	if (!ip || lk_csreg[0] < 0)
		return _URC_END_OF_STACK;
	if (!w->own_done) {
		if (code_has(&R.own, ip - 1))
			return _URC_NO_REASON;
		w->own_done = 1;
	}
	if (code_has(&R.libc, ip - 1)) {
		w->cfa = (uintptr_t)_Unwind_GetCFA(ctx);
		return _URC_NO_REASON;
	}
	if (w->cfa) {
		for (size_t i = 0; i < LK_NCSREG; i++)
			R.regs[i] = (uintptr_t)_Unwind_GetGR(ctx, lk_csreg[i]);
		w->ok = 1;
	}
	return _URC_END_OF_STACK;
}

static void collect_roots(uintptr_t sp)
{
	R.n = R.own.n = R.ld.n = R.libc.n = 0;
	R.self = (uintptr_t)G.host.self;
	R.ldso = (uintptr_t)&_r_debug;
	R.libcsym = (uintptr_t)&exit;
	dl_iterate_phdr(roots_cb, NULL);
	uintptr_t lo, hi;
	struct lk_walk w = { 0, 0, 0 };
	if (R.own.n && R.libc.n)
		_Unwind_Backtrace(walk_cb, &w);
	if (w.ok && w.cfa > sp) {
		sp = w.cfa;
		root_add((uintptr_t)&R.regs[0], (uintptr_t)&R.regs[LK_NCSREG]);
	}
	/* the exiting thread's stack (whole, from sp, if the walk failed) */
	if (lk_mapping(sp, &lo, &hi))
		root_add(sp, hi);
	/* its struct pthread: pthread_setspecific values live there */
	const uint32_t *psz = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");
	uintptr_t self = (uintptr_t)pthread_self();
	if (psz && lk_mapping(self, &lo, &hi)) {
		uintptr_t end = self + *psz;
		root_add(self, end < hi ? end : hi);
	}
}

static int in_ldso(uintptr_t pc)
{
	return code_has(&R.ld, pc);
}

/* === The report ========================================================= */

struct lk_group {
	uint64_t bytes, count;
	uint32_t stack;
	uint8_t  state;
};

static int cmp_group(const void *a, const void *b)
{
	const struct lk_group *x = a, *y = b;
	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static const char *const lk_heading[LK_NSTATES] = {
	"Direct leak", "Indirect leak", "Possible leak", "Still reachable"
};
static const unsigned lk_show_bit[LK_NSTATES] = {
	SHOW_DEFINITE, SHOW_INDIRECT, SHOW_POSSIBLE, SHOW_REACHABLE
};

static void open_output(void)
{
	O.fd = 2;
	O.n = 0;
	if (!G.file[0])
		return;
	char path[sizeof(G.file) + 24];
	size_t k = 0;
	for (const char *s = G.file; *s && k < sizeof(path) - 24; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			char t[24];
			int m = 0;
			uint64_t v = (uint64_t)getpid();
			do
				t[m++] = (char)('0' + v % 10);
			while (v /= 10);
			while (m)
				path[k++] = t[--m];
			s++;
		} else {
			path[k++] = *s;
		}
	}
	path[k] = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0)
		O.fd = fd;
	else
		lk_say("refalloc: REFALLOC_LEAKS_FILE: cannot open; reporting to stderr\n");
}

static void print_report(struct lk_blk *b, size_t n, uint32_t *idx, const struct lk_totals *t)
{
	open_output();
	/* Group the shown blocks by (state, stack): idx (n entries) is an
	 * open-addressing table of group numbers + 1. */
	size_t ni = 0;
	for (size_t i = 0; i < n; i++)
		ni += (G.show & lk_show_bit[b[i].state]) != 0;
	size_t hcap = 1;
	while (hcap * 2 <= 4 * n + 4)  /* idx has 4n + 4 entries: load <= 1/2 */
		hcap *= 2;
	struct lk_group *g = ni ? lk_map(ni * sizeof(*g)) : NULL;
	size_t ng = 0;
	if (g)
		memset(idx, 0, hcap * sizeof(*idx));
	for (size_t i = 0; g && i < n; i++) {
		const struct lk_blk *x = &b[i];
		if (!(G.show & lk_show_bit[x->state]))
			continue;
		size_t h = (size_t)((((uint64_t)x->stack << 2 | x->state) * 0x9E3779B97F4A7C15ull) >> 20) & (hcap - 1);
		while (idx[h] && (g[idx[h] - 1].state != x->state || g[idx[h] - 1].stack != x->stack))
			h = (h + 1) & (hcap - 1);
		if (!idx[h]) {
			g[ng] = (struct lk_group){ 0, 0, x->stack, x->state };
			idx[h] = (uint32_t)++ng;
		}
		g[idx[h] - 1].bytes += x->size;
		g[idx[h] - 1].count++;
	}
	lk_sort(g, ng, sizeof(*g), cmp_group);

	uint64_t leak_bytes = t->bytes[LK_UNREACHED] + t->bytes[LK_INDIRECT];
	uint64_t leak_blocks = t->blocks[LK_UNREACHED] + t->blocks[LK_INDIRECT];
	if (leak_blocks) {
		out_s("=================================================================\n");
		out_pid();
		out_s("ERROR: refalloc: detected memory leaks\n");
	}
	for (size_t i = 0; i < ng; i++) {
		out_ch('\n');
		out_s(lk_heading[g[i].state]);
		out_s(" of ");
		out_u(g[i].bytes);
		out_s(" byte(s) in ");
		out_u(g[i].count);
		out_s(" object(s) allocated from:\n");
		out_stack(g[i].stack);
	}
	if (ng)
		out_ch('\n');
	if (leak_blocks) {
		out_s("SUMMARY: refalloc: ");
		out_u(leak_bytes);
		out_s(" byte(s) leaked in ");
		out_u(leak_blocks);
		out_s(" allocation(s).\n");
	}
	if (G.untracked) {
		out_pid();
		out_s(" refalloc: ");
		out_u(G.untracked);
		out_s(" allocation(s) not tracked (bookkeeping memory exhausted)\n");
	}
	if (G.unwind == LK_UNWIND_CHECK) {
		out_pid();
		out_s(" refalloc: unwind check: ");
		out_u(G.unw_fast);
		out_s(" fast walk(s), ");
		out_u(G.unw_differ);
		out_s(" differ from libgcc, ");
		out_u(G.unw_slow);
		out_s(" fell back to libgcc\n");
	}
	static const char *const label[LK_NSTATES] = {
		"definitely lost: ", ", indirectly lost: ", ", possibly lost: ", ", still reachable: "
	};
	out_pid();
	out_s(" refalloc: ");
	for (int s = 0; s < LK_NSTATES; s++) {
		out_s(label[s]);
		out_u(t->bytes[s]);
		out_s(" bytes in ");
		out_u(t->blocks[s]);
		out_s(" blocks");
	}
	out_ch('\n');
	out_flush();
	if (O.fd != 2)
		close(O.fd);
	if (g)
		munmap(g, ni * sizeof(*g));
	for (unsigned i = 0; i < lk_nelfs; i++)
		if (lk_elfs[i].map)
			munmap((void *)lk_elfs[i].map, lk_elfs[i].len);
	lk_nelfs = 0;
}

static LK_NOINLINE void lk_report_run(void)
{
	/* Everything above this frame is the caller's: lk_atexit's spilled
	 * registers, then __run_exit_handlers, exit, ... */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	int expect = LK_ACTIVE;
	if (lk_state() != LK_ACTIVE)
		return;
	fflush(NULL);   /* the program's output first, while allocations still count */
	/* Roots before the freeze: dl_iterate_phdr takes ld.so's lock, and a
	 * thread holding it may be waiting in free() once the freeze is on. */
	collect_roots(sp);
	if (!__atomic_compare_exchange_n(&G.state, &expect, LK_REPORT, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	lk_self = 1;
	for (unsigned i = 0; i < LK_NSHARDS; i++)
		spin_lock(&G.shards[i].lock);
	size_t n = 0;
	for (unsigned i = 0; i < LK_NSHARDS; i++)
		n += G.shards[i].count;
	/* the blocks, then the mark stack (n), reused as the grouping table (4n + 4) */
	size_t bytes = n * sizeof(struct lk_blk) + (4 * n + 4) * sizeof(uint32_t);
	struct lk_blk *b = n ? lk_map(bytes) : NULL;
	if (n && !b) {
		lk_say("refalloc: REFALLOC_LEAKS: no memory for the report\n");
		for (unsigned i = 0; i < LK_NSHARDS; i++)
			spin_unlock(&G.shards[i].lock);
		__atomic_store_n(&G.state, LK_DONE, __ATOMIC_RELEASE);
		return;
	}
	uint32_t *stk = b ? (uint32_t *)(void *)(b + n) : NULL;
	size_t k = 0;
	for (unsigned i = 0; i < LK_NSHARDS; i++) {
		const struct lk_shard *s = &G.shards[i];
		size_t cap = s->tab ? (size_t)1 << s->logcap : 0;
		for (size_t j = 0; j < cap; j++)
			if (s->tab[j].p)
				b[k++] = (struct lk_blk){ s->tab[j].p, s->tab[j].size, s->tab[j].stack, 0, 0, 0, 0 };
	}
	struct lk_blk *scratch = n ? lk_map(n * sizeof(*b)) : NULL;
	sort_blocks(b, n, scratch);
	if (scratch)
		munmap(scratch, n * sizeof(*b));

	for (size_t i = 0; i < n; i++)
		if (b[i].stack && srec(b[i].stack)->n && in_ldso(srec(b[i].stack)->pc[0]))
			b[i].flags |= LK_F_ROOT;
	struct lk_range excl[LK_MAXEXCL];
	size_t nexcl = G.host.heaps ? G.host.heaps(excl, LK_MAXEXCL) : 0;
	struct lk_totals t;
	lk_classify(b, n, stk, R.r, R.n, excl, nexcl, &t);

	/* the blocks' memory is no longer read: let the other threads go */
	for (unsigned i = 0; i < LK_NSHARDS; i++)
		spin_unlock(&G.shards[i].lock);
	__atomic_store_n(&G.state, LK_DONE, __ATOMIC_RELEASE);

	print_report(b, n, stk, &t);
	if (b)
		munmap(b, bytes);
	if (G.error && t.blocks[LK_UNREACHED]) {
		fflush(NULL);
		_exit(G.exitcode);
	}
}

void lk_atexit(void *unused)
{
	(void)unused;
	/* The callee-saved registers, which may hold the caller's pointers,
	 * go into this frame, which the scan covers. */
	__builtin_unwind_init();
	lk_report_run();
	__asm__ volatile("" ::: "memory");      /* no tail call: keep the frame */
}
