/*
 * driver.c — the replay driver: replays a program (prog.h) against
 * whatever malloc the process has, which is how the bench measures a real
 * allocator: `refalloc bench replay` runs this executable in a child
 * process with LD_PRELOAD naming the allocator (none for glibc), as
 * mimalloc-bench does, so every allocator runs in a process of its own.
 *
 *   driver PROGRAM RESULT [--every N] [--no-touch]
 *
 * It links nothing of refalloc and allocates nothing of its own while
 * replaying: the program, the slot table, the latency array and the
 * samples are mmap'd and pre-faulted before the allocator's baseline RSS
 * is read, so what RSS grows by is the allocator's doing.
 *
 * Each call is timed alone (timer.h: fenced rdtsc, overhead subtracted).
 * Threads: the trace's @t:N threads are real threads here, and a call runs
 * on the thread the trace names, in trace order: a thread runs its stretch
 * of consecutive operations, then hands the turn to the next one through a
 * futex.  So a free of another thread's block is a real remote free.
 *
 * Blocks get an 8-byte cookie at their start and one written byte per page
 * (so RSS reflects the memory a program would use); the cookie is checked
 * at free and after realloc, alignment of every block is checked, and
 * calloc's zeroes are spot-checked.  Anything wrong is counted and the
 * first one described in the result; it does not stop the replay.
 */
#include "prog.h"
#include "timer.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct slot { char *p; uint64_t size, cookie; };

static const struct bp_header *H;
static const struct bp_op *OPS;
static struct slot *S;
static uint64_t *LAT;                      /* raw ticks, then ns (as uint32) */
static struct bp_sample *SMP;
static uint32_t nsmp, capsmp, every = 0;
static int touch = 1, statm_fd = -1;
static uint64_t rss_base, live, peak_sampled;
static long pagesz;
static struct br_header R;
static _Atomic uint32_t go[BP_MAX_THREADS];
static _Atomic uint32_t done;
static uint32_t pos;                       /* next operation: owned by the thread whose turn it is */
static uint64_t ntimed;

static void die(const char *fmt, const char *a)
{
	fprintf(stderr, "driver: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	exit(2);
}

static void *map(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		die("cannot map %s of bookkeeping", "memory");
	return p;
}

static uint64_t rss_now(void)
{
	char buf[128];
	ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *sp = strchr(buf, ' ');
	return sp ? strtoull(sp + 1, NULL, 10) * (uint64_t)pagesz : 0;
}

static void sample(uint32_t opi)
{
	if (nsmp == capsmp)
		return;
	uint64_t r = rss_now();
	SMP[nsmp++] = (struct bp_sample){ .op = opi, .live = live, .foot = r > rss_base ? r - rss_base : 0 };
}

static void bad(uint64_t *counter, const struct bp_op *o, const char *what, uint64_t x)
{
	(*counter)++;
	if (R.first_error[0])
		return;
	snprintf(R.first_error, sizeof(R.first_error), "trace line %u: %s (%#" PRIx64 ")", o->line, what, x);
}

/* Cookie and one byte per page, from byte `from` on. */
static void touch_block(struct slot *s, uint64_t from)
{
	if (!touch || !s->p)
		return;
	if (from < 8) {
		uint64_t n = s->size < 8 ? s->size : 8;
		if (n > from)
			memcpy(s->p + from, (const char *)&s->cookie + from, n - from);
	}
	uint64_t off = (uint64_t)pagesz - ((uintptr_t)s->p & ((uint64_t)pagesz - 1));
	if (off < from)
		off += (from - off + (uint64_t)pagesz - 1) / (uint64_t)pagesz * (uint64_t)pagesz;
	for (; off < s->size; off += (uint64_t)pagesz)
		((volatile char *)s->p)[off] = 0x5a;
}

static int cookie_ok(const struct slot *s, uint64_t n)
{
	if (!touch || !s->p)
		return 1;
	if (n > 8)
		n = 8;
	return memcmp(s->p, &s->cookie, n) == 0;
}

static int min_align_ok(const void *p, uint64_t size)
{
	/* 16 bytes, except that a block smaller than 16 need only be aligned
	 * to the largest power of two not above its size (C11 7.22.3: suitably
	 * aligned for any object that fits) */
	uintptr_t a = 16;
	while (a > 1 && a > size)
		a >>= 1;
	return ((uintptr_t)p & (a - 1)) == 0;
}

static void timed(uint64_t t0)
{
	LAT[ntimed++] = bt_end() - t0;
}

static void run_op(uint32_t i)
{
	const struct bp_op *o = &OPS[i];
	struct slot *s = &S[o->slot];
	uint64_t t0;
	void *p = NULL;
	switch (o->code) {
	case BP_MALLOC: case BP_CALLOC: case BP_MEMALIGN: {
		struct slot *d = s;
		if (o->code == BP_MALLOC) {
			t0 = bt_begin();
			p = malloc(o->size);
			timed(t0);
		} else if (o->code == BP_CALLOC) {
			uint64_t per = o->arg ? o->size / o->arg : 0;
			t0 = bt_begin();
			p = calloc(o->arg, per);
			timed(t0);
		} else if (o->arg >= sizeof(void *) && !(o->arg & (o->arg - 1))) {
			t0 = bt_begin();
			int rc = posix_memalign(&p, o->arg, o->size);
			timed(t0);
			if (rc)
				p = NULL;
		} else {
			t0 = bt_begin();
			p = memalign(o->arg, o->size);
			timed(t0);
		}
		d->p = p;
		d->size = o->size;
		d->cookie = ((uint64_t)i * 0x9e3779b97f4a7c15ULL) ^ 0xa5a5a5a5a5a5a5a5ULL;
		if (!p) {
			if (o->size)
				bad(&R.alloc_fail, o, "allocation failed", o->size);
			break;
		}
		live += o->size;
		if (!min_align_ok(p, o->size) || (o->code == BP_MEMALIGN && o->arg > 1 && !(o->arg & (o->arg - 1)) &&
		                                  ((uintptr_t)p & (o->arg - 1))))
			bad(&R.bad_align, o, "misaligned block", (uintptr_t)p);
		if (o->code == BP_CALLOC && o->size) {
			const unsigned char *c = p;
			uint64_t k = o->size < 64 ? o->size : 64;
			for (uint64_t j = 0; j < k; j++)
				if (c[j] || c[o->size - 1 - j]) {
					bad(&R.bad_contents, o, "calloc memory not zeroed", (uintptr_t)p);
					break;
				}
		}
		touch_block(d, 0);
		break;
	}
	case BP_REALLOC: {
		struct slot *d = &S[o->slot2];
		uint64_t oldsize = s->size, cookie = s->cookie;
		char *old = s->p;
		t0 = bt_begin();
		p = realloc(old, o->size);
		timed(t0);
		if (!p) {
			bad(&R.alloc_fail, o, "realloc failed", o->size);
			break;
		}
		if (d != s)
			s->p = NULL;
		live -= oldsize;
		live += o->size;
		d->p = p;
		d->size = o->size;
		d->cookie = cookie;
		if (!min_align_ok(p, o->size))
			bad(&R.bad_align, o, "misaligned block", (uintptr_t)p);
		uint64_t keep = oldsize < o->size ? oldsize : o->size;
		if (old && !cookie_ok(d, keep))
			bad(&R.bad_contents, o, "realloc lost the contents", (uintptr_t)p);
		touch_block(d, keep);
		break;
	}
	case BP_FREE:
		if (s->p && !cookie_ok(s, s->size))
			bad(&R.bad_contents, o, "block changed while allocated", (uintptr_t)s->p);
		t0 = bt_begin();
		free(s->p);
		timed(t0);
		if (s->p)
			live -= s->size;
		s->p = NULL;
		break;
	case BP_MALLOPT:
		mallopt((int)(int32_t)(o->arg >> 32), (int)(int32_t)(uint32_t)o->arg);
		break;
	case BP_TRIM:
		malloc_trim(o->size);
		break;
	case BP_TOUCH: case BP_READ: {
		if (!s->p)
			break;
		uint64_t off = o->size, len = o->arg ? o->arg : (off < s->size ? s->size - off : 0);
		if (off + len > s->size)
			len = off < s->size ? s->size - off : 0;
		volatile char *c = s->p;
		for (uint64_t j = 0; j < len; j += (uint64_t)pagesz) {
			char v = c[off + j];
			if (o->code == BP_TOUCH)
				c[off + j] = v;
		}
		break;
	}
	}
	uint32_t opi = i + 1;
	if (opi % every == 0 || (live > peak_sampled + peak_sampled / 50 && live > (1u << 20))) {
		if (live > peak_sampled)
			peak_sampled = live;
		sample(opi);
	}
}

static long futex(_Atomic uint32_t *w, int op, uint32_t v)
{
	return syscall(SYS_futex, (uint32_t *)w, op | FUTEX_PRIVATE_FLAG, v, NULL, NULL, 0);
}

static void wait_turn(unsigned me)
{
	for (int spin = 0; !atomic_load(&go[me]); spin++)
		if (spin > 200)
			futex(&go[me], FUTEX_WAIT, 0);
	atomic_store(&go[me], 0);
}

static void hand(unsigned to)
{
	atomic_store(&go[to], 1);
	futex(&go[to], FUTEX_WAKE, 1);
}

static void *worker(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	for (;;) {
		wait_turn(me);
		if (atomic_load(&done))
			return NULL;
		while (pos < H->nops && OPS[pos].thread == me)
			run_op(pos++);
		if (pos >= H->nops) {
			atomic_store(&done, 1);
			for (unsigned t = 0; t < H->nthreads; t++)
				if (t != me)
					hand(t);
			return NULL;
		}
		hand(OPS[pos].thread);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: %s PROGRAM RESULT [--every N] [--no-touch]", argv[0]);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--no-touch"))
			touch = 0;
		else if (!strcmp(argv[i], "--every") && i + 1 < argc)
			every = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			die("unknown option %s", argv[i]);
	}
	pagesz = sysconf(_SC_PAGESIZE);
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		die("cannot open %s", argv[1]);
	if ((size_t)st.st_size < sizeof(struct bp_header))
		die("%s: not a program", argv[1]);
	void *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		die("cannot map %s", argv[1]);
	H = img;
	OPS = (const struct bp_op *)(H + 1);
	if (H->magic != BP_MAGIC || (size_t)st.st_size != sizeof(*H) + (size_t)H->nops * sizeof(*OPS) ||
	    H->nthreads < 1 || H->nthreads > BP_MAX_THREADS)
		die("%s: not a program of this version", argv[1]);
	for (uint32_t i = 0; i < H->nops; i++)
		if (OPS[i].slot >= H->nslots + (H->nslots == 0) || OPS[i].slot2 >= H->nslots + (H->nslots == 0) ||
		    OPS[i].thread >= H->nthreads || OPS[i].code < BP_MALLOC || OPS[i].code > BP_READ)
			die("%s: corrupt operation", argv[1]);
	if (!every)
		every = H->nops / 2000 ? H->nops / 2000 : 1;
	S = map((size_t)(H->nslots + 1) * sizeof(*S));
	LAT = map((size_t)(H->ntimed + 1) * sizeof(*LAT));
	capsmp = H->nops / every + 4096;
	SMP = map((size_t)capsmp * sizeof(*SMP));
	statm_fd = open("/proc/self/statm", O_RDONLY);
	if (statm_fd < 0)
		die("cannot read %s", "/proc/self/statm");

	/* threads exist before the baseline: their stacks are not the allocator's */
	pthread_t th[BP_MAX_THREADS];
	for (unsigned t = 1; t < H->nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t))
			die("cannot create %s", "threads");
	static uint64_t scratch[4095];
	struct bt_clock clk;
	bt_start(&clk, scratch);
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	rss_base = rss_now();
	sample(0);
	uint64_t w0 = bt_mono_ns();
	if (H->nops) {
		if (OPS[0].thread == 0)
			atomic_store(&go[0], 1);
		else
			hand(OPS[0].thread);
		worker((void *)0);
	}
	uint64_t w1 = bt_mono_ns();
	for (unsigned t = 1; t < H->nthreads; t++)
		pthread_join(th[t], NULL);
	sample(H->nops);
	R.end_foot = SMP[nsmp - 1].foot;
	getrusage(RUSAGE_SELF, &ru1);
	bt_finish(&clk);

	R.magic = BR_MAGIC;
	R.nops = H->nops;
	R.ntimed = (uint32_t)ntimed;
	R.nsamples = nsmp;
	R.wall_ns = w1 - w0;
	R.rss_base = rss_base;
	/* VmHWM, not ru_maxrss: the latter keeps the forking parent's RSS
	 * across fork and exec (signal->maxrss), so it would be the tool's */
	R.maxrss_kb = 0;
	int sfd = open("/proc/self/status", O_RDONLY);
	if (sfd >= 0) {
		char sts[4096];
		ssize_t n = read(sfd, sts, sizeof(sts) - 1);
		close(sfd);
		sts[n > 0 ? n : 0] = 0;
		char *hwm = strstr(sts, "VmHWM:");
		if (hwm)
			R.maxrss_kb = strtoull(hwm + 6, NULL, 10);
	}
	if (!R.maxrss_kb)
		R.maxrss_kb = (uint64_t)ru1.ru_maxrss;
	R.minflt = (uint64_t)(ru1.ru_minflt - ru0.ru_minflt);
	R.majflt = (uint64_t)(ru1.ru_majflt - ru0.ru_majflt);
	R.overhead_ns = clk.overhead_ticks * clk.ns_per_tick;
	R.resolution_ns = clk.resolution_ticks * clk.ns_per_tick;
	snprintf(R.timer, sizeof(R.timer), "%s", BT_NAME);
	uint32_t *ns = (uint32_t *)LAT;      /* in place: ns[i] is written after LAT[i] is read */
	for (uint64_t i = 0; i < ntimed; i++)
		ns[i] = bt_ns(&clk, LAT[i]);
	FILE *f = fopen(argv[2], "wb");
	if (!f || fwrite(&R, sizeof(R), 1, f) != 1 || fwrite(ns, sizeof(uint32_t), ntimed, f) != ntimed ||
	    fwrite(SMP, sizeof(*SMP), nsmp, f) != nsmp || fclose(f))
		die("cannot write %s", argv[2]);
	return 0;
}
