/*
 * prog.c — a user trace turned into a program for the replay driver, and
 * the driver's results read back (formats in prog.h).
 *
 * Only a single task's malloc family can be replayed on a real allocator:
 * malloc, calloc, realloc, memalign, free, mallopt, malloc_trim, touch and
 * read, on any number of threads (@t:N).  Machine and knob lines, checks
 * and expectations are the engine's business and are skipped; anything
 * else (a second task, fork, mmap, kernel operations) is refused with
 * FILE:LINE.  `realloc h 0` becomes free(h): allocators disagree on what
 * realloc(p, 0) returns, the trace format says it frees.
 */
#include "bench.h"
#include "prog.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { S_UNBOUND = -1, S_NULL = -2, S_FREED = -3 };

struct conv {
	const struct ra_trace *t;
	int64_t *slot_of;          /* name id -> slot or S_* */
	uint64_t *slot_size;
	uint32_t *freeslots, nfree, nslots, capslots;
	char *err;
	size_t errlen;
};

#define cerr(c, op, ...) bench_op_error((c)->err, (c)->errlen, (c)->t, (op), __VA_ARGS__)

static uint32_t slot_new(struct conv *c, uint64_t size)
{
	uint32_t s;
	if (c->nfree)
		s = c->freeslots[--c->nfree];
	else {
		s = c->nslots++;
		if (s >= c->capslots) {
			c->capslots = c->capslots ? c->capslots * 2 : 1024;
			c->slot_size = realloc(c->slot_size, c->capslots * sizeof(uint64_t));
			c->freeslots = realloc(c->freeslots, c->capslots * sizeof(uint32_t));
			if (!c->slot_size || !c->freeslots)
				exit(70);
		}
	}
	c->slot_size[s] = size;
	return s;
}

static void slot_put(struct conv *c, uint32_t s) { c->freeslots[c->nfree++] = s; }

/* The live slot a handle argument names, or S_NULL; -1 on a misuse. */
static int64_t use_slot(struct conv *c, const struct ra_op *op, int which)
{
	int64_t s = c->slot_of[op->h[which]];
	const char *name = c->t->names[op->h[which]];
	if (s == S_UNBOUND)
		return cerr(c, op, "handle '%s' names nothing", name), -10;
	if (s == S_FREED)
		return cerr(c, op, "handle '%s' was freed already: a real allocator would crash or corrupt its heap", name), -10;
	return s;
}

static int bind_slot(struct conv *c, const struct ra_op *op, uint32_t consumed, uint64_t size, uint32_t *slot)
{
	if (op->out == RA_NONAME) {
		*slot = slot_new(c, size);            /* never freed: stays live */
		return 0;
	}
	if (c->slot_of[op->out] >= 0 && op->out != consumed)
		return cerr(c, op, "handle '%s' is still live; free it before rebinding", c->t->names[op->out]);
	*slot = slot_new(c, size);
	c->slot_of[op->out] = *slot;
	return 0;
}

int bench_prog_write(const struct ra_trace *t, const char *path, char *err, size_t errlen)
{
	struct conv c = { .t = t, .err = err, .errlen = errlen };
	c.slot_of = malloc((t->nnames + 1) * sizeof(int64_t));
	struct bp_op *ops = calloc(t->nops + 1, sizeof(*ops));
	if (!c.slot_of || !ops)
		exit(70);
	for (uint32_t i = 0; i <= t->nnames; i++)
		c.slot_of[i] = S_UNBOUND;
	struct bp_header hd = { .magic = BP_MAGIC, .nthreads = 1 };
	snprintf(hd.name, sizeof(hd.name), "%s", t->file);
	uint32_t n = 0, task = RA_NONAME;
	int ntask = 0, rc = 0;
	uint16_t tid = 0;
	uint64_t live = 0;
	for (uint32_t i = 0; i < t->nops && !rc; i++) {
		const struct ra_op *op = &t->ops[i];
		struct bp_op *b = &ops[n];
		memset(b, 0, sizeof(*b));
		b->thread = tid;
		b->line = op->line;
		int64_t s;
		uint32_t slot;
		switch (op->code) {
		case RA_OP_MACHINE: case RA_OP_SYSCTL: case RA_OP_SLUB_DEBUG: case RA_OP_CPU: case RA_OP_CHECK:
		case RA_OP_DUMP: case RA_OP_EXPECT: case RA_OP_FAIL: case RA_OP_OOM_SCORE_ADJ: case RA_OP_OOM_ADJ:
			continue;
		case RA_OP_TASK:
			if (ntask++)
				rc = cerr(&c, op, "a second task: real allocators replay one process (use --alloc=engine)");
			task = op->out;
			continue;
		case RA_OP_SWITCH:
			if (op->h[0] != task)
				rc = cerr(&c, op, "'@%s' is not the trace's task", t->names[op->h[0]]);
			else if (op->a[0] >= BP_MAX_THREADS)
				rc = cerr(&c, op, "thread %" PRId64 ": the driver replays at most %d threads", op->a[0], BP_MAX_THREADS);
			else {
				tid = (uint16_t)op->a[0];
				if (tid + 1u > hd.nthreads)
					hd.nthreads = tid + 1u;
			}
			continue;
		case RA_OP_MALLOC: case RA_OP_CALLOC: case RA_OP_MEMALIGN: {
			uint64_t size = op->code == RA_OP_MEMALIGN ? (uint64_t)op->a[1] : (uint64_t)op->a[0];
			if (op->code == RA_OP_CALLOC) {
				if (op->a[1] && (uint64_t)op->a[0] > (1ULL << 40) / (uint64_t)op->a[1]) {
					rc = cerr(&c, op, "calloc of more than 1 TiB");
					break;
				}
				size = (uint64_t)op->a[0] * (uint64_t)op->a[1];
				b->arg = (uint64_t)op->a[0];
			}
			if (op->code == RA_OP_MEMALIGN)
				b->arg = (uint64_t)op->a[0];
			if (size > (1ULL << 40)) {
				rc = cerr(&c, op, "a block of more than 1 TiB");
				break;
			}
			if ((rc = bind_slot(&c, op, RA_NONAME, size, &slot)))
				break;
			b->code = op->code == RA_OP_MALLOC ? BP_MALLOC : op->code == RA_OP_CALLOC ? BP_CALLOC : BP_MEMALIGN;
			b->slot = slot;
			b->size = size;
			live += size;
			hd.ntimed++;
			n++;
			break;
		}
		case RA_OP_REALLOC: {
			if ((s = use_slot(&c, op, 0)) == -10) {
				rc = -1;
				break;
			}
			uint64_t size = (uint64_t)op->a[0];
			if (size > (1ULL << 40)) {
				rc = cerr(&c, op, "a block of more than 1 TiB");
				break;
			}
			if (!size && s >= 0) {           /* realloc(p, 0): free */
				b->code = BP_FREE;
				b->slot = (uint32_t)s;
				live -= c.slot_size[s];
				slot_put(&c, (uint32_t)s);
				c.slot_of[op->h[0]] = S_FREED;
				if (op->out != RA_NONAME)
					c.slot_of[op->out] = S_NULL;
				hd.ntimed++;
				n++;
				break;
			}
			if (s >= 0) {
				live -= c.slot_size[s];
				c.slot_of[op->h[0]] = S_FREED;
			}
			if ((rc = bind_slot(&c, op, op->h[0], size, &slot)))
				break;
			if (s >= 0)
				slot_put(&c, (uint32_t)s);
			b->code = s >= 0 ? BP_REALLOC : BP_MALLOC;
			b->slot = s >= 0 ? (uint32_t)s : slot;
			b->slot2 = slot;
			b->size = size;
			live += size;
			hd.ntimed++;
			n++;
			break;
		}
		case RA_OP_FREE:
			if ((s = use_slot(&c, op, 0)) == -10) {
				rc = -1;
				break;
			}
			if (s == S_NULL)
				break;                         /* free(NULL) */
			b->code = BP_FREE;
			b->slot = (uint32_t)s;
			live -= c.slot_size[s];
			slot_put(&c, (uint32_t)s);
			c.slot_of[op->h[0]] = S_FREED;
			hd.ntimed++;
			n++;
			break;
		case RA_OP_MALLOPT:
			b->code = BP_MALLOPT;
			b->arg = ((uint64_t)(uint32_t)op->a[0] << 32) | (uint32_t)op->a[1];
			n++;
			break;
		case RA_OP_MALLOC_TRIM:
			b->code = BP_TRIM;
			b->size = (uint64_t)op->a[0];
			n++;
			break;
		case RA_OP_TOUCH: case RA_OP_READ:
			if ((s = use_slot(&c, op, 0)) == -10) {
				rc = -1;
				break;
			}
			if (s < 0)
				break;
			b->code = op->code == RA_OP_TOUCH ? BP_TOUCH : BP_READ;
			b->slot = (uint32_t)s;
			b->size = (op->flags & RA_OPF_HAS_OFF) ? (uint64_t)op->a[0] : 0;
			b->arg = (op->flags & RA_OPF_HAS_LEN) ? (uint64_t)op->a[1] : 0;
			if (op->flags & RA_OPF_HAS_OFF && op->a[0] < 0)
				rc = cerr(&c, op, "a negative offset");
			n++;
			break;
		default:
			rc = cerr(&c, op, "'%s' cannot be replayed on a real allocator: the bench replays one task's "
			          "malloc family (use --alloc=engine)", ra_op_names[op->code]);
			break;
		}
		if ((int64_t)live > (int64_t)hd.max_live)
			hd.max_live = live;
	}
	if (!rc && !ntask && n)
		rc = (snprintf(err, errlen, "%s: no task: a user trace starts with `task NAME -> t`", t->file), -1);
	if (!rc && !n)
		rc = (snprintf(err, errlen, "%s: no malloc operations to replay", t->file), -1);
	if (!rc) {
		hd.nops = n;
		hd.nslots = c.nslots;
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(&hd, sizeof(hd), 1, f) != 1 || fwrite(ops, sizeof(*ops), n, f) != n || fclose(f)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	free(ops);
	free(c.slot_of);
	free(c.slot_size);
	free(c.freeslots);
	return rc;
}

int bench_result_read(const char *path, struct bench_result *r, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct br_header h;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(&h, sizeof(h), 1, f) != 1 || h.magic != BR_MAGIC) {
		fclose(f);
		snprintf(err, errlen, "%s: not a driver result", path);
		return -1;
	}
	r->nops = h.nops;
	r->ntimed = h.ntimed;
	r->wall_ns = h.wall_ns;
	r->peak_rss = h.maxrss_kb * 1024;
	r->minflt = h.minflt;
	r->majflt = h.majflt;
	r->alloc_fail = h.alloc_fail;
	r->bad_align = h.bad_align;
	r->bad_contents = h.bad_contents;
	r->bad_usable = h.bad_usable;
	r->end_foot = h.end_foot;
	r->timer_overhead_ns = h.overhead_ns;
	r->timer_resolution_ns = h.resolution_ns;
	r->timer = strncmp(h.timer, "rdtsc", 5) ? "clock_gettime" : "rdtsc";
	h.first_error[sizeof(h.first_error) - 1] = 0;
	if (h.first_error[0])
		snprintf(r->conform_msg, sizeof(r->conform_msg), "during the replay: %s", h.first_error);
	r->lat = malloc((h.ntimed + 1) * sizeof(uint32_t));
	r->samples = malloc((h.nsamples + 1) * sizeof(struct bench_sample));
	if (!r->lat || !r->samples)
		exit(70);
	if (fread(r->lat, sizeof(uint32_t), h.ntimed, f) != h.ntimed ||
	    fread(r->samples, sizeof(struct bench_sample), h.nsamples, f) != h.nsamples) {
		fclose(f);
		snprintf(err, errlen, "%s: truncated driver result", path);
		return -1;
	}
	fclose(f);
	r->nsamples = h.nsamples;
	for (uint64_t i = 0; i < r->ntimed; i++)
		r->op_ns_sum += r->lat[i];
	bench_jw_from_samples(r->samples, r->nsamples, &r->jw);
	r->foot_kind = "process RSS above the driver's own (sampled from /proc/self/statm)";
	return 0;
}
