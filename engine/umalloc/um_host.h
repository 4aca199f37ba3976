/*
 * um_host.h — the UM_HOST back end of um_os.h: the real process.
 *
 * Accessors are plain loads and stores (static inline, so the tcache fast
 * path compiles to what glibc's does); the primitives are real syscalls.
 *
 * The main heap is NOT the real brk.  um_os_brk emulates sbrk inside one
 * large PROT_NONE, MAP_NORESERVE reservation made on first use: growing
 * mprotects pages read-write, shrinking maps fresh PROT_NONE pages over the
 * released range (which drops them and their commit charge).  Reasons:
 *   - the test and benchmark programs run this allocator in-process next to
 *     glibc's malloc, which owns the real brk; two sbrk users would keep
 *     seeing "foreign sbrk" and fencepost each other's heaps;
 *   - a preloaded program may itself call brk/sbrk (or a sanitizer runtime
 *     may), and glibc's "break adjusted to free malloc space" abort would
 *     then be ours;
 *   - brk growth is bounded by the next mapping above the heap, while the
 *     reservation is sized once (up to 64 GiB, halved until the kernel
 *     accepts it); when it is exhausted um_os_brk fails and umalloc falls
 *     back to mmap'd non-contiguous segments exactly as glibc does.
 * Semantics seen by umalloc are those of sbrk: contiguous growth, old
 * break returned, UM_BRK_FAIL on failure.
 */
#ifndef UM_HOST_H
#define UM_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef UM_OS_H
#error "include um_os.h, not um_host.h"
#endif

#if defined(__GNUC__)
#define UM_HOST_INLINE static inline __attribute__((always_inline))
#else
#define UM_HOST_INLINE static inline
#endif

struct um_os {
	size_t   pagesize;
	unsigned ncpus;
	int      reserved;      /* brk reservation attempted */
	uintptr_t brk_base;     /* start of the reservation */
	uintptr_t brk_end;      /* end of the reservation */
	uintptr_t brk_cur;      /* current emulated break */
	uintptr_t brk_rw;       /* end of the read-write part (page aligned) */
};

UM_HOST_INLINE uint64_t um_os_load64(struct um_os *os, um_addr a)
{
	(void)os;
	return *(const uint64_t *)(uintptr_t)a;
}
UM_HOST_INLINE void um_os_store64(struct um_os *os, um_addr a, uint64_t v)
{
	(void)os;
	*(uint64_t *)(uintptr_t)a = v;
}
UM_HOST_INLINE void um_os_fill(struct um_os *os, um_addr a, int byte, size_t len)
{
	(void)os;
	memset((void *)(uintptr_t)a, byte, len);
}
UM_HOST_INLINE void um_os_copy(struct um_os *os, um_addr dst, um_addr src, size_t len)
{
	(void)os;
	memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, len);
}
UM_HOST_INLINE size_t um_os_cmpbyte(struct um_os *os, um_addr a, int byte, size_t len)
{
	const unsigned char *p = (const unsigned char *)(uintptr_t)a;
	size_t i;
	(void)os;
	for (i = 0; i < len && p[i] == (unsigned char)byte; i++)
		;
	return i;
}
UM_HOST_INLINE size_t um_os_pagesize(const struct um_os *os) { return os->pagesize; }
UM_HOST_INLINE unsigned um_os_ncpus(const struct um_os *os) { return os->ncpus; }

um_addr um_os_brk(struct um_os *os, int64_t delta);
um_addr um_os_mmap(struct um_os *os, size_t len, int prot, unsigned flags);
int     um_os_munmap(struct um_os *os, um_addr addr, size_t len);
int     um_os_mprotect(struct um_os *os, um_addr addr, size_t len, int prot);
um_addr um_os_mremap(struct um_os *os, um_addr addr, size_t oldlen, size_t newlen);
int     um_os_release(struct um_os *os, um_addr addr, size_t len);
void    um_os_report(struct um_os *os, const char *cls, um_addr addr, const char *msg)
	__attribute__((noreturn));
void   *um_os_meta_alloc(struct um_os *os, size_t len);
void    um_os_meta_free(struct um_os *os, void *p, size_t len);

/* Initialise a host back end in caller-provided storage (no malloc). */
void    um_host_os_init(struct um_os *os);
/* Release the emulated brk reservation. */
void    um_host_os_fini(struct um_os *os);

#endif /* UM_HOST_H */
