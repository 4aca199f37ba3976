/*
 * metrics.c — the measures every allocator is judged by, computed in one
 * place for the engine and the real allocators alike: latency percentiles
 * and CDF, Johnstone & Wilson's four fragmentation figures, the host
 * description, and small JSON helpers.
 */
#include "bench.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

static double frag(uint64_t foot, uint64_t live)
{
	return live ? ((double)foot - (double)live) / (double)live : NAN;
}

void bench_jw_from_samples(const struct bench_sample *s, uint32_t n, struct bench_jw *jw)
{
	memset(jw, 0, sizeof(*jw));
	double wf = 0, wl = 0;
	uint32_t prev = 0;
	uint32_t il = 0, iff = 0;
	for (uint32_t i = 0; i < n; i++) {
		/* each sample stands for the operations since the previous one */
		double w = (double)(s[i].op - (i ? prev : 0));
		if (i == 0 || w <= 0)
			w = 1;
		prev = s[i].op;
		wf += w * (double)s[i].foot;
		wl += w * (double)s[i].live;
		if (s[i].live > s[il].live)
			il = i;
		if (s[i].foot > s[iff].foot)
			iff = i;
	}
	if (!n) {
		jw->avg = jw->at_live = jw->at_foot = jw->peak = NAN;
		return;
	}
	jw->avg = wl > 0 ? (wf - wl) / wl : NAN;
	jw->peak_live = s[il].live;
	jw->foot_at_peak_live = s[il].foot;
	jw->peak_foot = s[iff].foot;
	jw->live_at_peak_foot = s[iff].live;
	jw->at_live = frag(s[il].foot, s[il].live);
	jw->at_foot = frag(s[iff].foot, s[iff].live);
	jw->peak = frag(jw->peak_foot, jw->peak_live);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double rank(const uint32_t *s, uint64_t n, double p)
{
	if (!n)
		return NAN;
	double r = ceil(p * (double)n);
	uint64_t i = r < 1 ? 0 : (uint64_t)r - 1;
	return s[i < n ? i : n - 1];
}

void bench_lat_summary(uint32_t *lat, uint64_t n, struct bench_lat *out)
{
	qsort(lat, n, sizeof(uint32_t), cmp_u32);
	double sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += lat[i];
	out->p50 = rank(lat, n, 0.50);
	out->p90 = rank(lat, n, 0.90);
	out->p99 = rank(lat, n, 0.99);
	out->p999 = rank(lat, n, 0.999);
	out->max = n ? lat[n - 1] : NAN;
	out->mean = n ? sum / (double)n : NAN;
}

void bench_lat_cdf_write(const uint32_t *s, uint64_t n, FILE *f, unsigned npts)
{
	fprintf(f, "# ns fraction_at_or_below\n");
	if (!n)
		return;
	uint64_t last = UINT64_MAX;
	for (unsigned k = 0; k <= npts + 4; k++) {
		double frac;
		if (k <= npts)
			frac = (double)k / npts;
		else
			frac = 1 - pow(10, -(double)(k - npts + 1));   /* 0.99 0.999 0.9999 0.99999 */
		uint64_t i = (uint64_t)(frac * (double)(n - 1));
		if (i == last && k <= npts)
			continue;
		last = i;
		fprintf(f, "%u %.6f\n", s[i] ? s[i] : 1, (double)(i + 1) / (double)n);
	}
	fprintf(f, "%u 1.000000\n", s[n - 1] ? s[n - 1] : 1);
}

void bench_host_get(struct bench_host *h)
{
	memset(h, 0, sizeof(*h));
	struct utsname u;
	if (!uname(&u))
		snprintf(h->arch, sizeof(h->arch), "%s", u.machine);
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c += 1 + (c[1] == ' ');
				c[strcspn(c, "\n")] = 0;
				snprintf(h->cpu, sizeof(h->cpu), "%s", c);
			}
			break;
		}
	}
	if (f)
		fclose(f);
	if (!h->cpu[0])
		snprintf(h->cpu, sizeof(h->cpu), "unknown");
	h->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(h->date, sizeof(h->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void bench_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void bench_json_num(FILE *f, double v)
{
	if (!isfinite(v))
		fputs("null", f);
	else if (v == (double)(int64_t)v && fabs(v) < 9e15)
		fprintf(f, "%lld", (long long)v);
	else
		fprintf(f, "%.6g", v);
}

void bench_host_json(FILE *f, const struct bench_host *h)
{
	fputs("{\"arch\": ", f);
	bench_json_str(f, h->arch);
	fputs(", \"cpu\": ", f);
	bench_json_str(f, h->cpu);
	fprintf(f, ", \"nproc\": %ld, \"date\": ", h->nproc);
	bench_json_str(f, h->date);
	fputc('}', f);
}

void bench_result_free(struct bench_result *r)
{
	free(r->lat);
	free(r->samples);
	free(r->ks);
	r->lat = NULL;
	r->samples = NULL;
	r->ks = NULL;
}

int bench_op_verror(char *err, size_t errlen, const struct ra_trace *t, const struct ra_op *op, const char *fmt,
                    va_list ap)
{
	int n = snprintf(err, errlen, "%s:%u: ", t->file, op->line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -1;
}

int bench_op_error(char *err, size_t errlen, const struct ra_trace *t, const struct ra_op *op, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bench_op_verror(err, errlen, t, op, fmt, ap);
	va_end(ap);
	return -1;
}
