/*
 * san.h — telling AddressSanitizer and Valgrind what simulated memory is
 * allocated, and reading in-band metadata (slab free pointers, poison bytes)
 * of memory those tools consider unaddressable.
 *
 * In the ASan build (RA_ASAN) memory that is not allocated — free pages,
 * free slab objects, red zones, vmalloc guard pages, freed chunks — is
 * poisoned, so a trace that touches it is reported by ASan with a stack
 * through the replay of that trace line. The engine's own accesses to such
 * memory go through ra_raw_* which are not instrumented.
 */
#ifndef RA_SAN_H
#define RA_SAN_H

#include <stdint.h>
#include <stddef.h>

#if defined(RA_ASAN) || defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define RA_NO_ASAN __attribute__((no_sanitize_address))
static inline void ra_san_poison(const void *p, size_t n) { ASAN_POISON_MEMORY_REGION(p, n); }
static inline void ra_san_unpoison(const void *p, size_t n) { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
#define RA_NO_ASAN
static inline void ra_san_poison(const void *p, size_t n) { (void)p; (void)n; }
static inline void ra_san_unpoison(const void *p, size_t n) { (void)p; (void)n; }
#endif

/* Valgrind (RUNNING_ON_VALGRIND, read once per machine into m->valgrind):
 * trace-visible kernel objects that are contiguous in host memory (page
 * blocks, slab objects, large kmallocs) are MALLOCLIKE blocks, so a
 * leaked one is "definitely lost" (the engine holds no host pointer to
 * it); freed ones go NOACCESS but for their in-band free pointer, which the
 * engine reads. Free buddy pages are NOACCESS. Objects that are not
 * contiguous on the host (vmalloc areas, user blocks) are counted through
 * host-heap twins by the replay instead (replay.c). */
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define RA_RUNNING_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#define RA_VG_MALLOCLIKE(p, n, z) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, (z))
#define RA_VG_FREELIKE(p) VALGRIND_FREELIKE_BLOCK((p), 0)
#define RA_VG_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#define RA_VG_UNDEFINED(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define RA_VG_NOACCESS(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define RA_VG_QUIET_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#define RA_VG_QUIET_END() VALGRIND_ENABLE_ERROR_REPORTING
#else
#define VALGRIND_RESIZEINPLACE_BLOCK(p, o, n, r) ((void)(p), (void)(o), (void)(n), (void)(r))
#define RA_RUNNING_ON_VALGRIND() 0
#define RA_VG_MALLOCLIKE(p, n, z) ((void)(p), (void)(n), (void)(z))
#define RA_VG_FREELIKE(p) ((void)(p))
#define RA_VG_DEFINED(p, n) ((void)(p), (void)(n))
#define RA_VG_UNDEFINED(p, n) ((void)(p), (void)(n))
#define RA_VG_NOACCESS(p, n) ((void)(p), (void)(n))
#define RA_VG_QUIET_BEGIN() ((void)0)
#define RA_VG_QUIET_END() ((void)0)
#endif

/* Uninstrumented accessors for in-band metadata. In the ASan build they are
 * byte loops on volatile pointers in uninstrumented functions (no
 * interceptor sees them); elsewhere plain copies the compiler turns into
 * single loads and stores. */
#if defined(RA_ASAN) || defined(__SANITIZE_ADDRESS__)
RA_NO_ASAN static inline uint64_t ra_raw_ld64(const void *p)
{
	const volatile uint8_t *b = (const volatile uint8_t *)p;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

RA_NO_ASAN static inline void ra_raw_st64(void *p, uint64_t v)
{
	volatile uint8_t *b = (volatile uint8_t *)p;
	for (int i = 0; i < 8; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

RA_NO_ASAN static inline void ra_raw_fill(void *p, int c, size_t n)
{
	volatile uint8_t *b = (volatile uint8_t *)p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)c;
}

RA_NO_ASAN static inline void ra_raw_copy(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = (volatile uint8_t *)dst;
	const volatile uint8_t *s = (const volatile uint8_t *)src;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}

RA_NO_ASAN static inline size_t ra_raw_find_not(const void *p, int c, size_t n)
{
	const volatile uint8_t *b = (const volatile uint8_t *)p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)c)
			return i;
	return n;
}
#else
static inline uint64_t ra_raw_ld64(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline void ra_raw_st64(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static inline void ra_raw_fill(void *p, int c, size_t n) { __builtin_memset(p, c, n); }
static inline void ra_raw_copy(void *d, const void *s, size_t n) { __builtin_memmove(d, s, n); }
static inline size_t ra_raw_find_not(const void *p, int c, size_t n)
{
	const uint8_t *b = (const uint8_t *)p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)c)
			return i;
	return n;
}
#endif

#endif /* RA_SAN_H */
