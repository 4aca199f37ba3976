/*
 * fit.c — `refalloc bench fit TRACE...`: the size x lifetime mix of
 * recorded traces, printed as bench/fitted.h for the `fitted` workload
 * (each trace weighs the same).
 */
#include "tool.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FIT_SB 40
#define FIT_LB 33             /* lifetime classes 0..31, 32 = never freed */

int sub_fit(struct opts *o)
{
	if (!o->npos) {
		fprintf(stderr, "refalloc bench fit: name recorded traces\n");
		return RA_EXIT_USAGE;
	}
	static double w[FIT_SB][FIT_LB];
	double allocs = 0, callocs = 0, memaligns = 0, reallocs = 0;
	for (int f = 0; f < o->npos; f++) {
		int rc = 0;
		struct ra_trace *t = load_trace(o->pos[f], 1, 1, &rc);
		if (!t)
			return rc;
		static double cnt[FIT_SB][FIT_LB];
		memset(cnt, 0, sizeof(cnt));
		uint64_t *born = calloc(t->nnames + 1, sizeof(uint64_t));
		uint64_t *size = calloc(t->nnames + 1, sizeof(uint64_t));
		uint8_t *live = calloc(t->nnames + 1, 1);
		if (!born || !size || !live)
			return RA_EXIT_INTERNAL;
		uint64_t clock = 0, n = 0;
		for (uint32_t i = 0; i < t->nops; i++) {
			const struct ra_op *op = &t->ops[i];
			uint64_t sz = 0;
			switch (op->code) {
			case RA_OP_MALLOC: sz = (uint64_t)op->a[0]; break;
			case RA_OP_CALLOC: sz = (uint64_t)op->a[0] * (uint64_t)op->a[1]; callocs++; break;
			case RA_OP_MEMALIGN: sz = (uint64_t)op->a[1]; memaligns++; break;
			case RA_OP_REALLOC: reallocs++; continue;
			case RA_OP_FREE:
				clock++;
				if (live[op->h[0]]) {
					uint64_t life = clock - born[op->h[0]];
					unsigned sb = size[op->h[0]] ? 63 - (unsigned)__builtin_clzll(size[op->h[0]]) : 0;
					unsigned lb = life ? 63 - (unsigned)__builtin_clzll(life) : 0;
					cnt[sb < FIT_SB ? sb : FIT_SB - 1][lb < 32 ? lb : 31]++;
					live[op->h[0]] = 0;
				}
				continue;
			default:
				continue;
			}
			clock++;
			n++;
			if (op->out != RA_NONAME) {
				born[op->out] = clock;
				size[op->out] = sz ? sz : 1;
				live[op->out] = 1;
			}
		}
		for (uint32_t i = 0; i <= t->nnames; i++)
			if (live[i]) {
				unsigned sb = 63 - (unsigned)__builtin_clzll(size[i]);
				cnt[sb < FIT_SB ? sb : FIT_SB - 1][32]++;
			}
		allocs += (double)n;
		/* each trace weighs the same */
		double tot = 0;
		for (int s = 0; s < FIT_SB; s++)
			for (int l = 0; l < FIT_LB; l++)
				tot += cnt[s][l];
		for (int s = 0; s < FIT_SB && tot > 0; s++)
			for (int l = 0; l < FIT_LB; l++)
				w[s][l] += cnt[s][l] * 1e6 / tot / o->npos;
		free(born);
		free(size);
		free(live);
		ra_trace_free(t);
	}
	printf("/*\n * fitted.h — the size x lifetime mix of the `fitted` workload, fitted to\n"
	       " * recorded traces (each weighs the same) by:\n *   refalloc bench fit");
	for (int f = 0; f < o->npos; f++)
		printf(" %s", o->pos[f]);
	printf("\n * Size classes are powers of two, lifetimes are in malloc-family\n"
	       " * operations (powers of two); life_hi 0 means never freed.\n */\n"
	       "#ifndef RA_BENCH_FITTED_H\n#define RA_BENCH_FITTED_H\n#include <stdint.h>\n"
	       "struct fit_bucket { uint64_t lo, hi; uint32_t weight; uint64_t life_lo, life_hi; };\n"
	       "static const struct fit_bucket fit_buckets[] = {\n");
	for (int s = 0; s < FIT_SB; s++)
		for (int l = 0; l < FIT_LB; l++) {
			uint32_t wt = (uint32_t)(w[s][l] + 0.5);
			if (!wt)
				continue;
			uint64_t lo = (uint64_t)1 << s, hi = ((uint64_t)1 << (s + 1)) - 1;
			if (l == 32)
				printf("\t{ %" PRIu64 ", %" PRIu64 ", %u, 0, 0 },\n", lo, hi, wt);
			else
				printf("\t{ %" PRIu64 ", %" PRIu64 ", %u, %" PRIu64 ", %" PRIu64 " },\n", lo, hi, wt, (uint64_t)1 << l,
				       ((uint64_t)1 << (l + 1)) - 1);
		}
	printf("};\nstatic const uint32_t fit_calloc_pm = %u, fit_memalign_pm = %u, fit_realloc_pm = %u;\n#endif\n",
	       (unsigned)(allocs > 0 ? callocs * 1000 / allocs + 0.5 : 0),
	       (unsigned)(allocs > 0 ? memaligns * 1000 / allocs + 0.5 : 0),
	       (unsigned)(allocs > 0 ? reallocs * 1000 / allocs + 0.5 : 0));
	return 0;
}
