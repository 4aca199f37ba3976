/*
 * um_host.c — UM_HOST primitives: real mmap/munmap/mprotect/mremap/madvise,
 * an sbrk emulation over a PROT_NONE reservation (see um_host.h for why),
 * glibc-style fatal reports, and mmap-backed bookkeeping memory.
 * Nothing here may call malloc: this file is linked into the LD_PRELOAD
 * library that replaces it.
 */
#ifndef UM_HOST
#define UM_HOST 1
#endif
#include "um_os.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define UM_HOST_RESERVE_MAX (64ULL << 30)
#define UM_HOST_RESERVE_MIN (64ULL << 20)

static unsigned host_ncpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return (unsigned)n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 2;
}

void um_host_os_init(struct um_os *os)
{
	memset(os, 0, sizeof(*os));
	long ps = sysconf(_SC_PAGESIZE);
	os->pagesize = ps > 0 ? (size_t)ps : 4096;
	os->ncpus = host_ncpus();
}

void um_host_os_fini(struct um_os *os)
{
	if (os->brk_base)
		munmap((void *)os->brk_base, os->brk_end - os->brk_base);
	os->brk_base = os->brk_end = os->brk_cur = os->brk_rw = 0;
	os->reserved = 0;
}

static int host_reserve(struct um_os *os)
{
	os->reserved = 1;
	for (uint64_t sz = UM_HOST_RESERVE_MAX; sz >= UM_HOST_RESERVE_MIN; sz >>= 1) {
		void *p = mmap(NULL, sz, PROT_NONE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			os->brk_base = os->brk_cur = os->brk_rw = (uintptr_t)p;
			os->brk_end = (uintptr_t)p + sz;
			return 0;
		}
	}
	return -1;
}

um_addr um_os_brk(struct um_os *os, int64_t delta)
{
	uintptr_t ps = os->pagesize;
	if (!os->reserved && host_reserve(os) != 0)
		return UM_BRK_FAIL;
	if (!os->brk_base)
		return UM_BRK_FAIL;
	uintptr_t old = os->brk_cur;
	if (delta == 0)
		return old;
	if (delta > 0) {
		if ((uint64_t)delta > os->brk_end - old)
			return UM_BRK_FAIL;
		uintptr_t nw = old + (uintptr_t)delta;
		uintptr_t need = (nw + ps - 1) & ~(ps - 1);
		if (need > os->brk_rw) {
			if (mprotect((void *)os->brk_rw, need - os->brk_rw, PROT_READ | PROT_WRITE) != 0)
				return UM_BRK_FAIL;
			os->brk_rw = need;
		}
		os->brk_cur = nw;
		return old;
	}
	uint64_t d = (uint64_t)(-delta);
	if (d > old - os->brk_base)
		return UM_BRK_FAIL;
	uintptr_t nw = old - d;
	uintptr_t keep = (nw + ps - 1) & ~(ps - 1);
	if (keep < os->brk_rw) {
		/* Fresh PROT_NONE pages drop the memory and its commit charge. */
		if (mmap((void *)keep, os->brk_rw - keep, PROT_NONE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
			return UM_BRK_FAIL;
		os->brk_rw = keep;
	}
	os->brk_cur = nw;
	return old;
}

static int host_prot(int prot)
{
	return (prot & UM_PROT_READ ? PROT_READ : 0) | (prot & UM_PROT_WRITE ? PROT_WRITE : 0);
}

um_addr um_os_mmap(struct um_os *os, size_t len, int prot, unsigned flags)
{
	(void)os;
	int f = MAP_PRIVATE | MAP_ANONYMOUS | ((flags & UM_MAP_NORESERVE) ? MAP_NORESERVE : 0);
	void *p = mmap(NULL, len, host_prot(prot), f, -1, 0);
	return p == MAP_FAILED ? 0 : (um_addr)(uintptr_t)p;
}

int um_os_munmap(struct um_os *os, um_addr addr, size_t len)
{
	(void)os;
	return munmap((void *)(uintptr_t)addr, len) == 0 ? 0 : -1;
}

int um_os_mprotect(struct um_os *os, um_addr addr, size_t len, int prot)
{
	(void)os;
	return mprotect((void *)(uintptr_t)addr, len, host_prot(prot)) == 0 ? 0 : -1;
}

um_addr um_os_mremap(struct um_os *os, um_addr addr, size_t oldlen, size_t newlen)
{
	(void)os;
	void *p = mremap((void *)(uintptr_t)addr, oldlen, newlen, MREMAP_MAYMOVE);
	return p == MAP_FAILED ? 0 : (um_addr)(uintptr_t)p;
}

int um_os_release(struct um_os *os, um_addr addr, size_t len)
{
	(void)os;
	return madvise((void *)(uintptr_t)addr, len, MADV_DONTNEED) == 0 ? 0 : -1;
}

void um_os_report(struct um_os *os, const char *cls, um_addr addr, const char *msg)
{
	(void)os; (void)cls; (void)addr;
	/* glibc's malloc_printerr: the message, a newline, abort. */
	size_t n = strlen(msg);
	char buf[256];
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	memcpy(buf, msg, n);
	buf[n++] = '\n';
	ssize_t w = write(2, buf, n);
	(void)w;
	abort();
}

void *um_os_meta_alloc(struct um_os *os, size_t len)
{
	(void)os;
	if (len == 0)
		len = 1;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void um_os_meta_free(struct um_os *os, void *p, size_t len)
{
	(void)os;
	if (p) {
		if (len == 0)
			len = 1;
		munmap(p, len);
	}
}
