/*
 * record.c — librefalloc_record.so: records the malloc family of any
 * program as a refalloc user trace.
 *
 *   REFALLOC_RECORD=out.%e.%p.trace LD_PRELOAD=build/release/librefalloc_record.so PROGRAM ...
 *
 * Environment: REFALLOC_RECORD (output path; %p pid, %e program name;
 * default refalloc-record.%e.%p.trace), REFALLOC_RECORD_ONLY (record only
 * processes whose name is this, e.g. cc1 under gcc; others run untouched),
 * REFALLOC_RECORD_MAX (events kept, default 4000000; later calls are not
 * recorded).
 *
 * Each call is one event (thread, operation, size, alignment, result,
 * nanoseconds since start) appended to an mmap'd array under one mutex, so
 * the recorded order is the real order of the calls: a free happens before
 * the malloc that returns the same block.  Nothing is allocated through the
 * hooked malloc while recording: the events, and at exit the address ->
 * handle map and the output buffer, are mmap'd.  The real functions come
 * from dlsym(RTLD_NEXT); while dlsym itself runs, its calloc is served from
 * a static bootstrap buffer.  A thread calling malloc from inside a hook
 * (recursion) goes straight to the real malloc.
 *
 * At exit (a destructor) the events become the trace: `task NAME`, `@t:N`
 * on a change of thread (threads numbered in order of their first call),
 * malloc/calloc/realloc/memalign/free with handles h<N> (recycled once
 * freed), each with the time as a trailing comment (microseconds).  Frees
 * of pointers never seen allocated (from before the recorder could see
 * them) are dropped and counted in the header.  A forked child records on
 * (its file gets its own pid); a process that execs loses its trace.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define unlikely(x) __builtin_expect(!!(x), 0)

enum { E_MALLOC = 1, E_CALLOC, E_REALLOC, E_MEMALIGN, E_FREE };

struct ev { uint64_t t, p, q, n, a; uint32_t tid, op; };

static void *(*r_malloc)(size_t);
static void (*r_free)(void *);
static void *(*r_calloc)(size_t, size_t);
static void *(*r_realloc)(void *, size_t);
static void *(*r_memalign)(size_t, size_t);
static int (*r_posix_memalign)(void **, size_t, size_t);
static void *(*r_aligned_alloc)(size_t, size_t);
static void *(*r_valloc)(size_t);
static void *(*r_pvalloc)(size_t);

enum { ST_NONE, ST_INIT, ST_ON, ST_OFF };
static _Atomic int state;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ev *evs;
static uint64_t nev, cap, t0;
static _Atomic uint32_t next_tid;
static __thread int tls_tid __attribute__((tls_model("initial-exec"))) = -1;
static __thread int tls_in __attribute__((tls_model("initial-exec")));
static char comm[16] = "program";

/* === the bootstrap buffer (dlsym's calloc) =============================== */

static _Alignas(16) char boot[1 << 16];
static _Atomic size_t boot_used;

static void *boot_alloc(size_t n)
{
	size_t off = atomic_fetch_add(&boot_used, (n + 15) & ~(size_t)15);
	return off + n <= sizeof(boot) ? boot + off : NULL;
}

static int in_boot(const void *p) { return (const char *)p >= boot && (const char *)p < boot + sizeof(boot); }

/* === start-up ============================================================ */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void at_prepare(void) { pthread_mutex_lock(&lock); }
static void at_parent(void) { pthread_mutex_unlock(&lock); }
static void at_child(void) { pthread_mutex_unlock(&lock); }

static void init(void)
{
	int expect = ST_NONE;
	if (!atomic_compare_exchange_strong(&state, &expect, ST_INIT)) {
		while (atomic_load(&state) == ST_INIT && !tls_in)
			;                      /* another thread is resolving */
		return;
	}
	tls_in = 1;
	r_malloc = dlsym(RTLD_NEXT, "malloc");
	r_free = dlsym(RTLD_NEXT, "free");
	r_calloc = dlsym(RTLD_NEXT, "calloc");
	r_realloc = dlsym(RTLD_NEXT, "realloc");
	r_memalign = dlsym(RTLD_NEXT, "memalign");
	r_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	r_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	r_valloc = dlsym(RTLD_NEXT, "valloc");
	r_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
	if (!r_malloc || !r_free || !r_calloc || !r_realloc) {
		static const char m[] = "librefalloc_record: cannot find the real malloc\n";
		ssize_t w = write(2, m, sizeof(m) - 1);
		(void)w;
		_exit(127);
	}
	int fd = open("/proc/self/comm", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (n > 0) {
			comm[n] = 0;
			comm[strcspn(comm, "\n")] = 0;
		}
	}
	for (char *c = comm; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '#')
			*c = '_';
	const char *only = getenv("REFALLOC_RECORD_ONLY");
	const char *mx = getenv("REFALLOC_RECORD_MAX");
	cap = mx ? strtoull(mx, NULL, 10) : 4000000;
	if (!cap)
		cap = 1;
	int on = !only || !strcmp(only, comm);
	if (on) {
		evs = mmap(NULL, cap * sizeof(struct ev), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		           -1, 0);
		on = evs != MAP_FAILED;
	}
	t0 = now_ns();
	atomic_store(&state, on ? ST_ON : ST_OFF);
	if (on)
		pthread_atfork(at_prepare, at_parent, at_child);   /* may call malloc: not recorded */
	tls_in = 0;
}

/* Record under the lock the caller holds. */
static void rec(int op, const void *p, const void *q, uint64_t n, uint64_t a)
{
	if (atomic_load(&state) != ST_ON || nev >= cap)
		return;
	if (tls_tid < 0)
		tls_tid = (int)atomic_fetch_add(&next_tid, 1);
	evs[nev++] = (struct ev){ .t = now_ns() - t0, .p = (uintptr_t)p, .q = (uintptr_t)q, .n = n, .a = a,
	                          .tid = (uint32_t)tls_tid, .op = (uint32_t)op };
}

/* Every hook: start-up, recursion and "not recording" go straight through. */
#define ENTER(passthrough)                                         \
	do {                                                           \
		if (unlikely(atomic_load(&state) != ST_ON)) {              \
			if (atomic_load(&state) == ST_NONE)                    \
				init();                                            \
			if (atomic_load(&state) != ST_ON)                      \
				return passthrough;                                \
		}                                                          \
		if (tls_in)                                                \
			return passthrough;                                    \
		tls_in = 1;                                                \
		pthread_mutex_lock(&lock);                                 \
	} while (0)
#define LEAVE() do { pthread_mutex_unlock(&lock); tls_in = 0; } while (0)

static void *boot_or(void *(*fn)(size_t), size_t n) { return atomic_load(&state) == ST_INIT || !fn ? boot_alloc(n) : fn(n); }

EXPORT void *malloc(size_t n)
{
	ENTER(boot_or(r_malloc, n));
	void *p = r_malloc(n);
	if (p)
		rec(E_MALLOC, NULL, p, n, 0);
	LEAVE();
	return p;
}

static void *calloc_pass(size_t m, size_t n)
{
	if (atomic_load(&state) == ST_INIT || !r_calloc) {
		if (n && m > SIZE_MAX / n)
			return NULL;
		return boot_alloc(m * n);     /* static memory is zero */
	}
	return r_calloc(m, n);
}

EXPORT void *calloc(size_t m, size_t n)
{
	ENTER(calloc_pass(m, n));
	void *p = r_calloc(m, n);
	if (p)
		rec(E_CALLOC, NULL, p, m, n);
	LEAVE();
	return p;
}

EXPORT void free(void *p)
{
	if (!p || in_boot(p))
		return;
	if (unlikely(atomic_load(&state) != ST_ON)) {
		if (atomic_load(&state) == ST_NONE)
			init();
		if (atomic_load(&state) != ST_ON) {
			if (r_free)
				r_free(p);
			return;
		}
	}
	if (tls_in) {
		r_free(p);
		return;
	}
	tls_in = 1;
	pthread_mutex_lock(&lock);
	rec(E_FREE, p, NULL, 0, 0);
	r_free(p);
	LEAVE();
}

static void *realloc_pass(void *p, size_t n)
{
	if (in_boot(p)) {
		void *q = atomic_load(&state) == ST_INIT || !r_malloc ? boot_alloc(n) : r_malloc(n);
		if (q)
			memcpy(q, p, (size_t)(boot + sizeof(boot) - (char *)p) < n ? (size_t)(boot + sizeof(boot) - (char *)p) : n);
		return q;
	}
	if (!r_realloc)
		return p ? NULL : boot_alloc(n);
	return r_realloc(p, n);
}

EXPORT void *realloc(void *p, size_t n)
{
	if (p && in_boot(p))
		return realloc_pass(p, n);
	ENTER(realloc_pass(p, n));
	void *q = r_realloc(p, n);
	if (q || (p && !n))
		rec(E_REALLOC, p, q, n, 0);
	LEAVE();
	return q;
}

EXPORT void *reallocarray(void *p, size_t m, size_t n)
{
	if (n && m > SIZE_MAX / n) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, m * n);
}

EXPORT void *memalign(size_t a, size_t n)
{
	ENTER(r_memalign ? r_memalign(a, n) : NULL);
	void *p = r_memalign(a, n);
	if (p)
		rec(E_MEMALIGN, NULL, p, n, a);
	LEAVE();
	return p;
}

EXPORT void *aligned_alloc(size_t a, size_t n)
{
	ENTER(r_aligned_alloc ? r_aligned_alloc(a, n) : NULL);
	void *p = r_aligned_alloc(a, n);
	if (p)
		rec(E_MEMALIGN, NULL, p, n, a);
	LEAVE();
	return p;
}

EXPORT int posix_memalign(void **out, size_t a, size_t n)
{
	ENTER(r_posix_memalign ? r_posix_memalign(out, a, n) : ENOMEM);
	int rc = r_posix_memalign(out, a, n);
	if (!rc)
		rec(E_MEMALIGN, NULL, *out, n, a);
	LEAVE();
	return rc;
}

EXPORT void *valloc(size_t n)
{
	ENTER(r_valloc ? r_valloc(n) : NULL);
	void *p = r_valloc(n);
	if (p)
		rec(E_MEMALIGN, NULL, p, n, (uint64_t)sysconf(_SC_PAGESIZE));
	LEAVE();
	return p;
}

EXPORT void *pvalloc(size_t n)
{
	ENTER(r_pvalloc ? r_pvalloc(n) : NULL);
	void *p = r_pvalloc(n);
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	if (p)
		rec(E_MEMALIGN, NULL, p, (n + pg - 1) / pg * pg, pg);
	LEAVE();
	return p;
}

/* === writing the trace at exit =========================================== */

struct out { int fd; char *buf; size_t n, cap; };

static void put(struct out *o, const char *s, size_t len)
{
	if (o->n + len > o->cap) {
		ssize_t w = write(o->fd, o->buf, o->n);
		(void)w;
		o->n = 0;
	}
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* address -> handle id: linear probing with backward-shift deletion */
struct map { uint64_t *key; uint32_t *id; uint64_t mask; };

static uint64_t slot_of(const struct map *m, uint64_t k)
{
	uint64_t h = (k * 0x9e3779b97f4a7c15ULL) >> 20;
	for (;; h++)
		if (m->key[h & m->mask] == k || !m->key[h & m->mask])
			return h & m->mask;
}

static uint32_t map_get(const struct map *m, uint64_t k)
{
	uint64_t s = slot_of(m, k);
	return m->key[s] ? m->id[s] : UINT32_MAX;
}

static void map_put(struct map *m, uint64_t k, uint32_t id)
{
	uint64_t s = slot_of(m, k);
	m->key[s] = k;
	m->id[s] = id;
}

static void map_del(struct map *m, uint64_t k)
{
	uint64_t s = slot_of(m, k);
	if (!m->key[s])
		return;
	m->key[s] = 0;
	for (uint64_t j = (s + 1) & m->mask; m->key[j]; j = (j + 1) & m->mask) {
		uint64_t home = ((m->key[j] * 0x9e3779b97f4a7c15ULL) >> 20) & m->mask;
		/* move j back to s if its home is not in (s, j] */
		if ((j > s && (home <= s || home > j)) || (j < s && (home <= s && home > j))) {
			m->key[s] = m->key[j];
			m->id[s] = m->id[j];
			m->key[j] = 0;
			s = j;
		}
	}
}

struct conv {
	struct map map;
	uint32_t *freeids, nfree, nextid;
	uint64_t *size;            /* by id */
	uint64_t live, peak, dropped, stale;
	struct out *o;
	uint32_t cur;
};

static uint32_t newid(struct conv *c) { return c->nfree ? c->freeids[--c->nfree] : c->nextid++; }

static void emit_thread(struct conv *c, const struct ev *e)
{
	uint32_t t = e->tid > 1023 ? 1023 : e->tid;
	if (t != c->cur && c->o) {
		putf(c->o, "@t:%u\n", t);
	}
	c->cur = t;
}

static void drop_id(struct conv *c, uint64_t addr, uint32_t id)
{
	map_del(&c->map, addr);
	c->live -= c->size[id];
	c->freeids[c->nfree++] = id;
}

/* Bind a fresh id to addr; a stale binding of the same address is freed. */
static uint32_t bind(struct conv *c, const struct ev *e, uint64_t addr, uint64_t size)
{
	uint32_t old = map_get(&c->map, addr);
	if (old != UINT32_MAX) {
		c->stale++;
		if (c->o)
			putf(c->o, "free h%u\n", old);
		drop_id(c, addr, old);
	}
	(void)e;
	uint32_t id = newid(c);
	map_put(&c->map, addr, id);
	c->size[id] = size;
	c->live += size;
	if (c->live > c->peak)
		c->peak = c->live;
	return id;
}

static void convert(struct conv *c)
{
	struct out *o = c->o;
	for (uint64_t i = 0; i < nev; i++) {
		const struct ev *e = &evs[i];
		uint64_t us = e->t / 1000;
		uint32_t id;
		switch (e->op) {
		case E_MALLOC: case E_CALLOC: case E_MEMALIGN: {
			uint64_t size = e->op == E_CALLOC ? e->n * e->a : e->n;
			emit_thread(c, e);
			id = bind(c, e, e->q, size);          /* a stale binding's free goes out first */
			if (!o)
				break;
			if (e->op == E_MALLOC)
				putf(o, "malloc %llu -> h%u # %llu\n", (unsigned long long)e->n, id, (unsigned long long)us);
			else if (e->op == E_CALLOC)
				putf(o, "calloc %llu %llu -> h%u # %llu\n", (unsigned long long)e->n, (unsigned long long)e->a, id,
				     (unsigned long long)us);
			else
				putf(o, "memalign %llu %llu -> h%u # %llu\n", (unsigned long long)e->a, (unsigned long long)e->n, id,
				     (unsigned long long)us);
			break;
		}
		case E_FREE:
			id = map_get(&c->map, e->p);
			if (id == UINT32_MAX) {
				c->dropped++;
				break;
			}
			emit_thread(c, e);
			if (o)
				putf(o, "free h%u # %llu\n", id, (unsigned long long)us);
			drop_id(c, e->p, id);
			break;
		case E_REALLOC:
			id = e->p ? map_get(&c->map, e->p) : UINT32_MAX;
			emit_thread(c, e);
			if (!e->q) {
				/* realloc(p, 0) that freed p */
				if (id == UINT32_MAX) {
					c->dropped += e->p != 0;
					break;
				}
				if (o)
					putf(o, "free h%u # %llu\n", id, (unsigned long long)us);
				drop_id(c, e->p, id);
				break;
			}
			if (id == UINT32_MAX) {
				/* realloc(NULL, n), or of a block from before recording */
				c->dropped += e->p != 0;
				id = bind(c, e, e->q, e->n);
				if (o)
					putf(o, "malloc %llu -> h%u # %llu\n", (unsigned long long)e->n, id, (unsigned long long)us);
				break;
			}
			map_del(&c->map, e->p);
			c->live -= c->size[id];
			{
				uint32_t other = map_get(&c->map, e->q);
				if (other != UINT32_MAX) {
					c->stale++;
					if (o)
						putf(o, "free h%u\n", other);
					drop_id(c, e->q, other);
				}
			}
			map_put(&c->map, e->q, id);
			c->size[id] = e->n;
			c->live += e->n;
			if (c->live > c->peak)
				c->peak = c->live;
			if (o)
				putf(o, "realloc h%u %llu -> h%u # %llu\n", id, (unsigned long long)e->n, id, (unsigned long long)us);
			break;
		}
	}
}

static void *mapz(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void expand_path(char *out, size_t len, const char *pat)
{
	size_t o = 0;
	for (const char *p = pat; *p && o + 1 < len; p++) {
		if (p[0] == '%' && (p[1] == 'p' || p[1] == 'e')) {
			int n = p[1] == 'p' ? snprintf(out + o, len - o, "%d", (int)getpid()) : snprintf(out + o, len - o, "%s", comm);
			o += n > 0 ? (size_t)n : 0;
			p++;
		} else
			out[o++] = *p;
	}
	out[o < len ? o : len - 1] = 0;
}

static void reset_conv(struct conv *c, uint64_t mapcap, uint64_t nalloc)
{
	memset(c->map.key, 0, mapcap * sizeof(uint64_t));
	c->nfree = c->nextid = 0;
	c->live = c->peak = c->dropped = c->stale = 0;
	c->cur = 0;
	(void)nalloc;
}

__attribute__((destructor)) static void finish(void)
{
	pthread_mutex_lock(&lock);
	int was = atomic_exchange(&state, ST_OFF);
	pthread_mutex_unlock(&lock);
	if (was != ST_ON)
		return;
	uint64_t nalloc = 0;
	for (uint64_t i = 0; i < nev; i++)
		nalloc += evs[i].op != E_FREE;
	uint64_t mapcap = 64;
	while (mapcap < 2 * nalloc + 64)
		mapcap *= 2;
	struct conv c = { 0 };
	c.map.key = mapz(mapcap * sizeof(uint64_t));
	c.map.id = mapz(mapcap * sizeof(uint32_t));
	c.map.mask = mapcap - 1;
	c.freeids = mapz((nalloc + 1) * sizeof(uint32_t));
	c.size = mapz((nalloc + 1) * sizeof(uint64_t));
	struct out o = { .cap = 1 << 20 };
	o.buf = mapz(o.cap);
	if (!c.map.key || !c.map.id || !c.freeids || !c.size || !o.buf)
		return;
	/* pass 1: the peak of live memory sizes the machine */
	convert(&c);
	uint64_t peak = c.peak, dropped = c.dropped, stale = c.stale;
	uint32_t threads = atomic_load(&next_tid);
	char path[4096];
	const char *pat = getenv("REFALLOC_RECORD");
	expand_path(path, sizeof(path), pat && *pat ? pat : "refalloc-record.%e.%p.trace");
	o.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (o.fd < 0) {
		static const char m[] = "librefalloc_record: cannot write the trace\n";
		ssize_t w = write(2, m, sizeof(m) - 1);
		(void)w;
		return;
	}
	char cmd[1024] = "";
	int fd = open("/proc/self/cmdline", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i++)
			if (cmd[i] == 0 || cmd[i] == '\n' || cmd[i] == '\r')
				cmd[i] = ' ';
		cmd[n > 0 ? n : 0] = 0;
	}
	uint64_t mem = 256ULL << 20;
	while (mem < 4 * peak && mem < (64ULL << 30))
		mem *= 2;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	putf(&o, "refalloc-trace 1\n# recorded by librefalloc_record.so: %s\n", cmd);
	putf(&o, "# pid %d, %llu calls%s, %u threads, peak live %llu bytes, %llu frees of blocks from before "
	     "recording dropped, %llu addresses reused without a recorded free; comments: microseconds since start\n",
	     (int)getpid(), (unsigned long long)nev, nev >= cap ? " (REFALLOC_RECORD_MAX reached)" : "", threads,
	     (unsigned long long)peak, (unsigned long long)dropped, (unsigned long long)stale);
	putf(&o, "machine mem=%lluM cpus=%ld\ntask %s -> t\n", (unsigned long long)(mem >> 20),
	     cpus < 1 ? 1 : cpus > 64 ? 64 : cpus, comm);
	/* pass 2: the operations */
	reset_conv(&c, mapcap, nalloc);
	c.o = &o;
	convert(&c);
	ssize_t w = write(o.fd, o.buf, o.n);
	(void)w;
	close(o.fd);
}
