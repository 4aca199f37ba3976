/*
 * prog.h — the file formats between the refalloc tool and the replay driver
 * (bench/driver.c), which runs in its own process under LD_PRELOAD of the
 * allocator being measured and links nothing of refalloc.
 *
 * A program is a user trace flattened: one fixed-size record per malloc
 * family call, handles turned into slots of a table the driver maps, the
 * thread that makes each call.  A result is what the driver measured: raw
 * per-call latencies, the memory timeline, counters.  Both are little
 * binary files written and read on the same machine.
 */
#ifndef RA_BENCH_PROG_H
#define RA_BENCH_PROG_H

#include <stdint.h>

#define BP_MAGIC   0x31676f7270617262ULL   /* "brapgor1" */
#define BR_MAGIC   0x31746c7365726162ULL   /* "baresl t1" */
#define BP_MAX_THREADS 64

enum bp_code {
	BP_MALLOC = 1, BP_CALLOC, BP_REALLOC, BP_MEMALIGN, BP_FREE,
	BP_MALLOPT, BP_TRIM, BP_TOUCH, BP_READ,
};

struct bp_header {
	uint64_t magic;
	uint32_t nops, nslots, nthreads, ntimed;
	uint64_t max_live;                 /* bytes, as the trace requests them */
	char     name[64];
};

struct bp_op {
	uint8_t  code, pad;
	uint16_t thread;
	uint32_t slot;                     /* the block operated on / bound (realloc: the old one) */
	uint32_t slot2;                    /* realloc: the slot bound to the result */
	uint32_t line;                     /* in the trace, for messages */
	uint64_t size;                     /* bytes (calloc: nmemb * size; touch: offset) */
	uint64_t arg;                      /* memalign: alignment; calloc: nmemb; mallopt: param<<32|value; touch: len */
};

struct br_header {
	uint64_t magic;
	uint32_t nops, ntimed, nsamples, pad;
	uint64_t wall_ns, rss_base, maxrss_kb, minflt, majflt;
	uint64_t alloc_fail, bad_align, bad_contents, bad_usable;
	uint64_t end_foot;
	double   overhead_ns, resolution_ns;
	char     timer[16];
	char     first_error[256];
	/* then uint32_t lat[ntimed] (ns, overhead subtracted), then
	 * struct bp_sample samples[nsamples] */
};

struct bp_sample { uint32_t op, pad; uint64_t live, foot; };

#endif
