/*
 * output.c — results as files: one JSON per (trace, allocator) with every
 * figure of the report, and the plot data next to it (latency CDF, memory
 * timeline, buddyinfo over time, kernel timeline).  Files are written
 * through a temporary and renamed, so an interrupted run leaves either the
 * old file or the new one, never half of one.
 */
#include "bench.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bench_mkdirs(const char *path)
{
	char b[4096];
	snprintf(b, sizeof(b), "%s", path);
	for (char *p = b + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(b, 0777) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(b, 0777) && errno != EEXIST ? -1 : 0;
}

FILE *bench_fopen_atomic(const char *path, char *tmp, size_t tmplen)
{
	snprintf(tmp, tmplen, "%s.tmp.%d", path, (int)getpid());
	return fopen(tmp, "w");
}

int bench_fclose_atomic(FILE *f, const char *tmp, const char *path)
{
	int bad = ferror(f);
	if (fclose(f) || bad || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static double ratio_or_nan(double a, double b) { return b > 0 ? a / b : NAN; }

static void kernel_json(FILE *f, const struct bench_result *r)
{
	const struct bench_ksample *k = &r->ks[r->nks - 1];
	uint64_t max_vm = 0, max_slab = 0, max_partial = 0, below = 0;
	int worst9 = -2000;
	for (uint32_t i = 0; i < r->nks; i++) {
		const struct bench_ksample *s = &r->ks[i];
		if (s->vmalloc_areas > max_vm) max_vm = s->vmalloc_areas;
		if (s->slab_pages > max_slab) max_slab = s->slab_pages;
		if (s->partial_slabs > max_partial) max_partial = s->partial_slabs;
		if (s->zones_below_low) below++;
		if (s->unusable[9] > worst9) worst9 = s->unusable[9];
	}
	fputs(",\n  \"kernel\": {", f);
	fputs("\"nr_free_end\": [", f);
	for (int o = 0; o <= RA_MAX_ORDER; o++)
		fprintf(f, "%s%llu", o ? ", " : "", (unsigned long long)k->nr_free[o]);
	fputs("], \"unusable_index_end\": [", f);
	for (int o = 0; o <= RA_MAX_ORDER; o++)
		fprintf(f, "%s%.3f", o ? ", " : "", k->unusable[o] / 1000.0);
	fputs("], \"fragmentation_index_end\": [", f);
	for (int o = 0; o <= RA_MAX_ORDER; o++)
		fprintf(f, "%s%.3f", o ? ", " : "", k->fragidx[o] / 1000.0);
	fprintf(f, "], \"unusable_index9_worst\": %.3f", worst9 / 1000.0);
	uint64_t att = 0, suc = 0;
	fputs(", \"high_order\": {", f);
	int first = 1;
	for (int o = BENCH_HIGH_ORDER_MIN; o <= RA_MAX_ORDER; o++) {
		if (!r->ho_attempts[o])
			continue;
		att += r->ho_attempts[o];
		suc += r->ho_success[o];
		fprintf(f, "%s\"%d\": [%llu, %llu]", first ? "" : ", ", o, (unsigned long long)r->ho_attempts[o],
		        (unsigned long long)r->ho_success[o]);
		first = 0;
	}
	fprintf(f, "}, \"high_order_attempts\": %llu, \"high_order_success_rate\": ", (unsigned long long)att);
	bench_json_num(f, att ? (double)suc / (double)att : NAN);
	fputs(", \"slab_internal_frag\": ", f);
	bench_json_num(f, k->slab_req_bytes ? ((double)k->slab_slot_bytes - (double)k->slab_req_bytes) / (double)k->slab_req_bytes : NAN);
	fprintf(f, ", \"slab_slot_bytes\": %llu, \"slab_req_bytes\": %llu, \"slab_pages_end\": %llu, \"slab_pages_max\": %llu",
	        (unsigned long long)k->slab_slot_bytes, (unsigned long long)k->slab_req_bytes,
	        (unsigned long long)k->slab_pages, (unsigned long long)max_slab);
	fprintf(f, ", \"partial_slabs_end\": %llu, \"partial_slabs_max\": %llu", (unsigned long long)k->partial_slabs,
	        (unsigned long long)max_partial);
	fprintf(f, ", \"vmalloc_areas_end\": %llu, \"vmalloc_areas_max\": %llu", (unsigned long long)k->vmalloc_areas,
	        (unsigned long long)max_vm);
	fprintf(f, ", \"free_pages_end\": %llu, \"used_pages_end\": %llu", (unsigned long long)k->free_pages,
	        (unsigned long long)k->used_pages);
	fprintf(f, ", \"watermark_check_failures\": %llu, \"kswapd_wakeups\": %llu, \"samples_below_low\": %llu, "
	        "\"samples\": %u, \"oom_kills\": %llu, \"alloc_failures\": %llu}",
	        (unsigned long long)k->wmark_fail, (unsigned long long)k->kswapd_wake, (unsigned long long)below, r->nks,
	        (unsigned long long)k->oom_kills, (unsigned long long)k->alloc_fail);
}

void bench_result_json(FILE *f, const struct bench_result *r, const char *trace)
{
	/* r->lat must be sorted (bench_lat_summary) */
	struct bench_lat l;
	uint64_t n = r->ntimed;
	bench_lat_summary(r->lat, n, &l);
	fputs("{\n  \"alloc\": ", f);
	bench_json_str(f, r->alloc);
	fputs(", \"trace\": ", f);
	bench_json_str(f, trace);
	fputs(",\n  \"conform\": ", f);
	fputs(r->conform_ok < 0 ? "null" : r->conform_ok ? "true" : "false", f);
	fputs(", \"conform_msg\": ", f);
	bench_json_str(f, r->conform_msg);
	fprintf(f, ",\n  \"ops\": %llu, \"timed_ops\": %llu, \"timer\": ", (unsigned long long)r->nops,
	        (unsigned long long)n);
	bench_json_str(f, r->timer ? r->timer : "");
	fputs(", \"timer_overhead_ns\": ", f);
	bench_json_num(f, r->timer_overhead_ns);
	fputs(", \"timer_resolution_ns\": ", f);
	bench_json_num(f, r->timer_resolution_ns);
	fputs(",\n  \"wall_ms\": ", f);
	bench_json_num(f, r->wall_ns / 1e6);
	fputs(", \"op_time_ms\": ", f);
	bench_json_num(f, r->op_ns_sum / 1e6);
	fputs(", \"throughput_mops\": ", f);
	bench_json_num(f, ratio_or_nan((double)n * 1e3, (double)r->wall_ns));
	fputs(", \"alloc_throughput_mops\": ", f);
	bench_json_num(f, ratio_or_nan((double)n * 1e3, (double)r->op_ns_sum));
	fputs(",\n  \"lat_ns\": {\"p50\": ", f);
	bench_json_num(f, l.p50);
	fputs(", \"p90\": ", f);
	bench_json_num(f, l.p90);
	fputs(", \"p99\": ", f);
	bench_json_num(f, l.p99);
	fputs(", \"p99.9\": ", f);
	bench_json_num(f, l.p999);
	fputs(", \"max\": ", f);
	bench_json_num(f, l.max);
	fputs(", \"mean\": ", f);
	bench_json_num(f, l.mean);
	fprintf(f, "},\n  \"peak_rss\": %llu, \"end_foot\": %llu, \"mapped_peak\": %llu, \"minflt\": %llu, \"majflt\": %llu,\n"
	        "  \"foot_kind\": ", (unsigned long long)r->peak_rss, (unsigned long long)r->end_foot,
	        (unsigned long long)r->mapped_peak, (unsigned long long)r->minflt, (unsigned long long)r->majflt);
	bench_json_str(f, r->foot_kind ? r->foot_kind : "");
	fputs(",\n  \"jw\": {\"avg\": ", f);
	bench_json_num(f, r->jw.avg);
	fputs(", \"at_peak_live\": ", f);
	bench_json_num(f, r->jw.at_live);
	fputs(", \"at_peak_foot\": ", f);
	bench_json_num(f, r->jw.at_foot);
	fputs(", \"peak_vs_peak\": ", f);
	bench_json_num(f, r->jw.peak);
	fprintf(f, ", \"peak_live\": %llu, \"peak_foot\": %llu, \"foot_at_peak_live\": %llu, \"live_at_peak_foot\": %llu, "
	        "\"exact\": %s},\n", (unsigned long long)r->jw.peak_live, (unsigned long long)r->jw.peak_foot,
	        (unsigned long long)r->jw.foot_at_peak_live, (unsigned long long)r->jw.live_at_peak_foot,
	        r->exact_jw ? "true" : "false");
	fprintf(f, "  \"errors\": {\"alloc_fail\": %llu, \"bad_align\": %llu, \"bad_contents\": %llu, \"bad_usable\": %llu}",
	        (unsigned long long)r->alloc_fail, (unsigned long long)r->bad_align, (unsigned long long)r->bad_contents,
	        (unsigned long long)r->bad_usable);
	if (!strcmp(r->alloc, "engine")) {
		fputs(",\n  \"replay_ms\": ", f);
		bench_json_num(f, r->replay_ns / 1e6);
		fprintf(f, ", \"replay_exit\": %d", r->replay_exit);
	}
	if (r->nks)
		kernel_json(f, r);
	fputs(",\n  \"note\": ", f);
	bench_json_str(f, r->note);
	fputs("\n}\n", f);
}

static FILE *open_in(const char *dir, const char *alloc, const char *suffix, char *path, size_t plen, char *tmp,
                     size_t tlen)
{
	snprintf(path, plen, "%s/%s%s", dir, alloc, suffix);
	return bench_fopen_atomic(path, tmp, tlen);
}

void bench_kseries_write(const char *dir, const struct bench_result *r)
{
	char path[4200], tmp[4300];
	FILE *f = open_in(dir, r->alloc, ".buddy.dat", path, sizeof(path), tmp, sizeof(tmp));
	if (!f)
		return;
	/* x = sample index, y = order, z = free blocks: gnuplot "with image" */
	fprintf(f, "# sample op order nr_free free_pages_at_order\n");
	for (uint32_t i = 0; i < r->nks; i++) {
		for (int o = 0; o <= RA_MAX_ORDER; o++)
			fprintf(f, "%u %u %d %llu %llu\n", i, r->ks[i].op, o, (unsigned long long)r->ks[i].nr_free[o],
			        (unsigned long long)(r->ks[i].nr_free[o] << o));
		fputc('\n', f);
	}
	bench_fclose_atomic(f, tmp, path);
	f = open_in(dir, r->alloc, ".kernel.dat", path, sizeof(path), tmp, sizeof(tmp));
	if (!f)
		return;
	fprintf(f, "# op free_pages used_pages user_pages slab_pages pcp_pages vmalloc_areas vmalloc_pages "
	        "partial_slabs slab_slot_bytes slab_req_bytes wmark_fail kswapd_wake zones_below_low oom_kills "
	        "alloc_fail unusable0..10 fragidx0..10\n");
	for (uint32_t i = 0; i < r->nks; i++) {
		const struct bench_ksample *k = &r->ks[i];
		fprintf(f, "%u %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", k->op,
		        (unsigned long long)k->free_pages, (unsigned long long)k->used_pages,
		        (unsigned long long)k->user_pages, (unsigned long long)k->slab_pages,
		        (unsigned long long)k->pcp_pages, (unsigned long long)k->vmalloc_areas,
		        (unsigned long long)k->vmalloc_pages, (unsigned long long)k->partial_slabs,
		        (unsigned long long)k->slab_slot_bytes, (unsigned long long)k->slab_req_bytes,
		        (unsigned long long)k->wmark_fail, (unsigned long long)k->kswapd_wake,
		        (unsigned long long)k->zones_below_low, (unsigned long long)k->oom_kills,
		        (unsigned long long)k->alloc_fail);
		for (int o = 0; o <= RA_MAX_ORDER; o++)
			fprintf(f, " %.3f", k->unusable[o] / 1000.0);
		for (int o = 0; o <= RA_MAX_ORDER; o++)
			fprintf(f, " %.3f", k->fragidx[o] / 1000.0);
		fputc('\n', f);
	}
	bench_fclose_atomic(f, tmp, path);
}

int bench_result_files(const char *dir, const struct bench_result *r, const char *trace)
{
	char path[4200], tmp[4300];
	if (bench_mkdirs(dir))
		return -1;
	FILE *f = open_in(dir, r->alloc, ".json", path, sizeof(path), tmp, sizeof(tmp));
	if (!f)
		return -1;
	bench_result_json(f, r, trace);          /* sorts r->lat */
	if (bench_fclose_atomic(f, tmp, path))
		return -1;
	f = open_in(dir, r->alloc, ".cdf.dat", path, sizeof(path), tmp, sizeof(tmp));
	if (!f)
		return -1;
	bench_lat_cdf_write(r->lat, r->ntimed, f, 400);
	bench_fclose_atomic(f, tmp, path);
	f = open_in(dir, r->alloc, ".mem.dat", path, sizeof(path), tmp, sizeof(tmp));
	if (!f)
		return -1;
	fprintf(f, "# op live_bytes allocator_bytes (%s)\n", r->foot_kind ? r->foot_kind : "");
	for (uint32_t i = 0; i < r->nsamples; i++)
		fprintf(f, "%u %llu %llu\n", r->samples[i].op, (unsigned long long)r->samples[i].live,
		        (unsigned long long)r->samples[i].foot);
	bench_fclose_atomic(f, tmp, path);
	if (r->nks)
		bench_kseries_write(dir, r);
	return 0;
}
