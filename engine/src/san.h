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
