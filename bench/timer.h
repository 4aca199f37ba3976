/*
 * timer.h — the per-operation clock shared by the replay driver and the
 * engine's executor (header-only: the driver links nothing of refalloc).
 *
 * On x86-64, rdtsc fenced on both sides (lfence; rdtsc ... rdtscp; lfence),
 * converted to ns by a calibration against CLOCK_MONOTONIC over the whole
 * run; elsewhere clock_gettime(CLOCK_MONOTONIC).  The cost of an empty
 * begin/end pair is measured (minimum of many) and subtracted from every
 * sample; the report states it.
 */
#ifndef RA_BENCH_TIMER_H
#define RA_BENCH_TIMER_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BT_TSC 1
#define BT_NAME "rdtsc"
#else
#define BT_TSC 0
#define BT_NAME "clock_gettime"
#endif

static inline uint64_t bt_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bt_begin(void)
{
#if BT_TSC
	_mm_lfence();
	return __rdtsc();
#else
	return bt_mono_ns();
#endif
}

static inline uint64_t bt_end(void)
{
#if BT_TSC
	unsigned aux;
	uint64_t t = __rdtscp(&aux);
	_mm_lfence();
	return t;
#else
	return bt_mono_ns();
#endif
}

struct bt_clock { uint64_t t0, n0; double ns_per_tick; double overhead_ticks, resolution_ticks; };

static int bt_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Measure the empty-pair overhead (the minimum of 4095 pairs: the part of
 * every measurement that is always there; the jitter above it stays in the
 * samples) and start the calibration.  scratch is the caller's, so nothing
 * is allocated. */
static inline void bt_start(struct bt_clock *c, uint64_t scratch[4095])
{
	for (int i = 0; i < 4095; i++) {
		uint64_t a = bt_begin();
		uint64_t b = bt_end();
		scratch[i] = b - a;
	}
	qsort(scratch, 4095, sizeof(uint64_t), bt_cmp_u64);
	c->overhead_ticks = (double)scratch[0];
	/* resolution: the smallest step the counter is seen to take (some
	 * virtual machines advance the TSC in steps of several ns) */
	uint64_t res = UINT64_MAX, prev = bt_begin();
	for (int i = 0; i < 4095; i++) {
		uint64_t t = bt_begin();
		if (t != prev && t - prev < res)
			res = t - prev;
		prev = t;
	}
	c->resolution_ticks = res == UINT64_MAX ? 1 : (double)res;
	c->n0 = bt_mono_ns();
	c->t0 = bt_begin();
	c->ns_per_tick = 1;
}

/* End the calibration (call after the measured work, at least a few ms). */
static inline void bt_finish(struct bt_clock *c)
{
	uint64_t n1, t1;
	do {
		n1 = bt_mono_ns();
		t1 = bt_begin();
	} while (n1 - c->n0 < 2000000);      /* at least 2 ms of calibration */
	c->ns_per_tick = (double)(n1 - c->n0) / (double)(t1 - c->t0);
}

/* A raw tick difference to ns, overhead subtracted, clamped to [0, 2^32). */
static inline uint32_t bt_ns(const struct bt_clock *c, uint64_t ticks)
{
	double v = ((double)ticks - c->overhead_ticks) * c->ns_per_tick;
	if (v < 0)
		return 0;
	if (v > 4294967295.0)
		return 4294967295u;
	return (uint32_t)(v + 0.5);
}

#endif
