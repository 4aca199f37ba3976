/*
 * progress.c — a progress bar with an estimate for long bench runs, on
 * standard error.  Steps carry weights (their expected cost), so the
 * estimate is elapsed * remaining weight / done weight.  On a terminal the
 * bar redraws in place; otherwise one line per step, so logs stay readable.
 */
#include "bench.h"
#include <string.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hms(char *b, size_t n, double s)
{
	long t = s < 0 ? 0 : s > 3.6e8 ? 360000000 : (long)(s + 0.5);
	if (t >= 3600)
		snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

void bench_progress_start(struct bench_progress *p, uint64_t total, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->total = total ? total : 1;
	p->what = what;
	p->t0 = bench_now();
	p->tty = isatty(2);
}

void bench_progress_step(struct bench_progress *p, uint64_t weight, const char *label)
{
	double el = bench_now() - p->t0;
	char e[32], r[32] = "?";
	hms(e, sizeof(e), el);
	if (p->done)
		hms(r, sizeof(r), el * (double)(p->total - p->done) / (double)p->done);
	int pct = (int)(100 * p->done / p->total);
	if (p->tty) {
		char bar[31];
		int fill = (int)(30 * p->done / p->total);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
		bar[30] = 0;
		fprintf(stderr, "\r\033[K%s [%s] %3d%% elapsed %s, left ~%s  %s", p->what, bar, pct, e, r, label);
	} else
		fprintf(stderr, "%s: %3d%% (elapsed %s, left ~%s) %s\n", p->what, pct, e, r, label);
	fflush(stderr);
	p->done += weight;
	if (p->done > p->total)
		p->done = p->total;
}

void bench_progress_end(struct bench_progress *p)
{
	char e[32];
	hms(e, sizeof(e), bench_now() - p->t0);
	if (p->tty)
		fprintf(stderr, "\r\033[K");
	fprintf(stderr, "%s: done in %s\n", p->what, e);
}
