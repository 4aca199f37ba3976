/*
 * rng.c — the seeded PRNG behind every workload, and its distributions.
 *
 * Workloads must be identical on every machine, compiler and libm, because
 * the regression gate compares figures computed from them.  So the
 * distributions avoid libm's log/exp/pow (whose last bits differ between
 * implementations) and use a log and an exp written here with +, *, / and
 * the exact frexp/ldexp only; IEEE arithmetic makes them the same
 * everywhere (x86-64 has no FMA contraction unless asked for).
 */
#include "bench.h"
#include <math.h>

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	/* Lemire's multiply-shift; the tiny bias is irrelevant here, and it is
	 * the same everywhere */
	return (uint64_t)(((__uint128_t)bench_rng_next(r) * n) >> 64);
}

uint64_t bench_rng_range(struct bench_rng *r, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + bench_rng_below(r, hi - lo + 1);
}

double bench_rng_unit(struct bench_rng *r)
{
	return ((double)(bench_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double bench_log(double x)
{
	if (!(x > 0))
		return -1e300;
	int e;
	double m = frexp(x, &e);            /* x = m * 2^e, m in [0.5, 1) */
	if (m < 0.70710678118654752) {
		m *= 2;
		e--;
	}
	double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return 2 * sum + e * 0.69314718055994530942;
}

double bench_exp(double x)
{
	if (x < -700)
		return 0;
	if (x > 700)
		return 1e300;
	double nf = x / 0.69314718055994530942;
	int n = (int)(nf < 0 ? nf - 0.5 : nf + 0.5);
	double r = x - n * 0.69314718055994530942, term = 1, sum = 1;
	for (int k = 1; k < 30; k++) {
		term *= r / k;
		sum += term;
	}
	return ldexp(sum, n);
}

double bench_rng_exp(struct bench_rng *r, double mean)
{
	return -mean * bench_log(bench_rng_unit(r));
}

uint64_t bench_rng_pareto(struct bench_rng *r, double xmin, double alpha, uint64_t cap)
{
	/* x = xmin * u^(-1/alpha) */
	double x = xmin * bench_exp(-bench_log(bench_rng_unit(r)) / alpha);
	return x >= (double)cap ? cap : (uint64_t)x;
}

uint64_t bench_rng_logu(struct bench_rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	double a = bench_log((double)lo), b = bench_log((double)hi + 1);
	uint64_t v = (uint64_t)bench_exp(a + (b - a) * bench_rng_unit(r));
	return v < lo ? lo : v > hi ? hi : v;
}
