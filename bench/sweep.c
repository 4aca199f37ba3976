/*
 * sweep.c — the engine over a grid of knob values (`refalloc bench sweep`,
 * and the suite's sweeps): up to four axes of any knob of the knob table
 * (refalloc.h's enumeration) or slub_debug, every value checked on a
 * probe machine before the hours are spent, one run per point with the
 * values given to the machine at creation, the figures of each point as a
 * CSV row as it finishes and a JSON rewritten whole.
 */
#include "tool.h"
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct knobaxis { char name[64]; char vals[16][64]; int n; };

static int parse_axis(const char *spec, struct knobaxis *ax)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(ax->name)) {
		fprintf(stderr, "refalloc bench sweep: --knob %s: expected NAME=v1,v2,...\n", spec);
		return RA_EXIT_USAGE;
	}
	memcpy(ax->name, spec, (size_t)(eq - spec));
	ax->name[eq - spec] = 0;
	if (strcmp(ax->name, "slub_debug") && ra_knob_find(ax->name, strlen(ax->name)) < 0) {
		fprintf(stderr, "refalloc bench sweep: --knob %s: unknown knob (see `refalloc knobs`; also slub_debug)\n",
		        ax->name);
		return RA_EXIT_USAGE;
	}
	char sep = strchr(eq + 1, '/') ? '/' : ',';
	ax->n = 0;
	for (const char *p = eq + 1; *p;) {
		const char *e = strchr(p, sep);
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (!len || len >= sizeof(ax->vals[0]) || ax->n == 16) {
			fprintf(stderr, "refalloc bench sweep: --knob %s: empty, too long or more than 16 values\n", spec);
			return RA_EXIT_USAGE;
		}
		memcpy(ax->vals[ax->n], p, len);
		ax->vals[ax->n++][len] = 0;
		p = e ? e + 1 : p + len;
	}
	if (!ax->n) {
		fprintf(stderr, "refalloc bench sweep: --knob %s: no values\n", spec);
		return RA_EXIT_USAGE;
	}
	return 0;
}

const char *const SWEEP_METRICS[] = {
	"wall_ms", "p50_ns", "p99_ns", "peak_foot_mib", "end_foot_mib", "frag_avg", "frag_at_peak_live",
	"frag_at_peak_foot", "frag_peak_vs_peak", "alloc_fail", "highorder_success", "unusable9_end",
	"fragindex9_end", "slab_internal_frag", "slab_pages_max", "partial_slabs_max", "vmalloc_areas_max",
	"wmark_fail", "kswapd_wake", "samples_below_low", "oom_kills", "pcp_pages_max", "free_pages_min", NULL,
};

void sweep_metrics(struct bench_result *r, double *v)
{
	struct bench_lat l;
	bench_lat_summary(r->lat, r->ntimed, &l);
	const struct bench_ksample *k = r->nks ? &r->ks[r->nks - 1] : NULL;
	uint64_t att = 0, suc = 0, slabmax = 0, pmax = 0, vmax = 0, below = 0, pcpmax = 0, freemin = UINT64_MAX;
	for (int o = 0; o <= RA_MAX_ORDER; o++) {
		att += r->ho_attempts[o];
		suc += r->ho_success[o];
	}
	for (uint32_t i = 0; i < r->nks; i++) {
		slabmax = r->ks[i].slab_pages > slabmax ? r->ks[i].slab_pages : slabmax;
		pmax = r->ks[i].partial_slabs > pmax ? r->ks[i].partial_slabs : pmax;
		vmax = r->ks[i].vmalloc_areas > vmax ? r->ks[i].vmalloc_areas : vmax;
		below += r->ks[i].zones_below_low != 0;
		pcpmax = r->ks[i].pcp_pages > pcpmax ? r->ks[i].pcp_pages : pcpmax;
		freemin = r->ks[i].free_pages < freemin ? r->ks[i].free_pages : freemin;
	}
	int i = 0;
	v[i++] = r->wall_ns / 1e6;
	v[i++] = l.p50;
	v[i++] = l.p99;
	v[i++] = fmt_mib(r->jw.peak_foot);
	v[i++] = fmt_mib(r->end_foot);
	v[i++] = r->jw.avg;
	v[i++] = r->jw.at_live;
	v[i++] = r->jw.at_foot;
	v[i++] = r->jw.peak;
	v[i++] = (double)r->alloc_fail;
	v[i++] = att ? (double)suc / (double)att : NAN;
	v[i++] = k ? k->unusable[9] / 1000.0 : NAN;
	v[i++] = k ? k->fragidx[9] / 1000.0 : NAN;
	v[i++] = k && k->slab_req_bytes ? ((double)k->slab_slot_bytes - (double)k->slab_req_bytes) / (double)k->slab_req_bytes : NAN;
	v[i++] = (double)slabmax;
	v[i++] = (double)pmax;
	v[i++] = (double)vmax;
	v[i++] = k ? (double)k->wmark_fail : NAN;
	v[i++] = k ? (double)k->kswapd_wake : NAN;
	v[i++] = (double)below;
	v[i++] = k ? (double)k->oom_kills : NAN;
	v[i++] = (double)pcpmax;
	v[i++] = r->nks ? (double)freemin : NAN;
}

static void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
}

int do_sweep(const char *workload, uint64_t seed, double scale, const char *const *knobs, unsigned nknobs,
                    const char *outdir, struct bench_progress *outer, int quiet)
{
	const struct bench_workload *w = bench_workload_find(workload);
	if (!w) {
		fprintf(stderr, "refalloc bench sweep: unknown workload '%s' (see refalloc bench list)\n", workload);
		return RA_EXIT_USAGE;
	}
	if (!nknobs || nknobs > 4) {
		fprintf(stderr, "refalloc bench sweep: give 1 to 4 --knob NAME=v1,v2,...\n");
		return RA_EXIT_USAGE;
	}
	struct knobaxis ax[4];
	int npoints = 1;
	for (unsigned k = 0; k < nknobs; k++) {
		int rc = parse_axis(knobs[k], &ax[k]);
		if (rc)
			return rc;
		npoints *= ax[k].n;
	}
	/* every value must be accepted by its knob before hours are spent */
	ra_machine *probe;
	struct ra_config cfg;
	ra_config_default(&cfg);
	cfg.mem = 64 << 20;
	if (ra_machine_create(&probe, &cfg, NULL, NULL) != RA_OK)
		return RA_EXIT_INTERNAL;
	for (unsigned k = 0; k < nknobs; k++)
		for (int v = 0; v < ax[k].n; v++) {
			if (!strcmp(ax[k].name, "slub_debug"))
				continue;
			if (ra_knob_set(probe, ax[k].name, ax[k].vals[v]) != RA_OK) {
				fprintf(stderr, "refalloc bench sweep: %s=%s: %s\n", ax[k].name, ax[k].vals[v], ra_last_error(probe));
				ra_machine_destroy(probe);
				return RA_EXIT_USAGE;
			}
		}
	ra_machine_destroy(probe);
	struct bench_gen_opts go = { .seed = seed, .scale = scale };
	struct ra_trace *t = bench_generate(w, &go);
	if (!t)
		return RA_EXIT_INTERNAL;
	if (bench_mkdirs(outdir)) {
		fprintf(stderr, "refalloc bench sweep: cannot create %s\n", outdir);
		ra_trace_free(t);
		return RA_EXIT_INTERNAL;
	}
	struct bench_host h;
	bench_host_get(&h);
	char csvp[PATH_MAX], jsonp[PATH_MAX], tmp[PATH_MAX + 32];
	sfmt(csvp, sizeof(csvp), "%s/results.csv", outdir);
	sfmt(jsonp, sizeof(jsonp), "%s/results.json", outdir);
	FILE *csv = fopen(csvp, "w");
	if (!csv) {
		ra_trace_free(t);
		return RA_EXIT_INTERNAL;
	}
	fputs("workload,seed,scale,arch,cpu,nproc", csv);
	for (unsigned k = 0; k < nknobs; k++) {
		fputc(',', csv);
		csv_field(csv, ax[k].name);
	}
	for (int m = 0; SWEEP_METRICS[m]; m++)
		fprintf(csv, ",%s", SWEEP_METRICS[m]);
	fputc('\n', csv);
	fflush(csv);
	/* rows kept for the JSON, rewritten whole after every point */
	size_t nm = 0;
	while (SWEEP_METRICS[nm])
		nm++;
	double *vals = calloc((size_t)npoints * nm, sizeof(double));
	int *idx = calloc((size_t)npoints * 4, sizeof(int));
	if (!vals || !idx)
		return RA_EXIT_INTERNAL;
	struct bench_progress own, *pg = outer;
	if (!pg) {
		pg = &own;
		bench_progress_start(pg, (uint64_t)npoints, "sweep");
	}
	int done = 0, rc = 0;
	for (int p = 0; p < npoints && !g_stop; p++) {
		int rem = p, *ix = &idx[p * 4];
		const char *sets[4];
		char setbuf[4][160];
		unsigned nsets = 0;
		const char *slub = NULL;
		char label[512] = "";
		size_t ll = 0;
		for (int k = (int)nknobs - 1; k >= 0; k--) {
			ix[k] = rem % ax[k].n;
			rem /= ax[k].n;
		}
		for (unsigned k = 0; k < nknobs; k++) {
			ll += (size_t)sfmt(label + ll, sizeof(label) - ll, "%s%s=%s", k ? " " : "", ax[k].name, ax[k].vals[ix[k]]);
			if (ll >= sizeof(label))
				ll = sizeof(label) - 1;
			if (!strcmp(ax[k].name, "slub_debug"))
				slub = ax[k].vals[ix[k]];
			else {
				sfmt(setbuf[nsets], sizeof(setbuf[nsets]), "%s=%s", ax[k].name, ax[k].vals[ix[k]]);
				sets[nsets] = setbuf[nsets];
				nsets++;
			}
		}
		bench_progress_step(pg, outer ? 0 : 1, label);
		struct bench_run_opts ro;
		bench_run_opts_default(&ro);
		ro.sets = sets;
		ro.nsets = nsets;
		ro.slub_debug = slub;
		ro.stop = &g_stop;
		struct bench_result r;
		char err[512];
		int x = bench_engine_run(t, &ro, &r, err, sizeof(err));
		if (outer)
			outer->done += (uint64_t)t->nops / 2000 + 5;
		if (x == -2) {
			bench_result_free(&r);
			break;
		}
		double *v = &vals[(size_t)done * nm];
		if (x) {
			fprintf(stderr, "refalloc bench sweep: %s: %s\n", label, err);
			for (size_t m = 0; m < nm; m++)
				v[m] = NAN;
			rc = 1;
		} else
			sweep_metrics(&r, v);
		bench_result_free(&r);
		if (done != p)
			memcpy(&idx[done * 4], ix, 4 * sizeof(int));
		done++;
		/* CSV: one row per point as it finishes */
		fprintf(csv, "%s,%" PRIu64 ",%g,", w->name, seed, scale);
		csv_field(csv, h.arch);
		fputc(',', csv);
		csv_field(csv, h.cpu);
		fprintf(csv, ",%ld", h.nproc);
		for (unsigned k = 0; k < nknobs; k++) {
			fputc(',', csv);
			csv_field(csv, ax[k].vals[ix[k]]);
		}
		for (size_t m = 0; m < nm; m++) {
			if (isfinite(v[m]))
				fprintf(csv, ",%.6g", v[m]);
			else
				fputs(",", csv);
		}
		fputc('\n', csv);
		fflush(csv);
		/* JSON: rewritten whole, atomically */
		FILE *j = bench_fopen_atomic(jsonp, tmp, sizeof(tmp));
		if (!j)
			continue;
		fputs("{\"workload\": ", j);
		bench_json_str(j, w->name);
		fprintf(j, ", \"seed\": %" PRIu64 ", \"scale\": %g, \"trace_ops\": %u, \"points_planned\": %d, \"points_done\": %d, "
		        "\"complete\": %s, \"machine\": ", seed, scale, t->nops, npoints, done, done == npoints ? "true" : "false");
		bench_host_json(j, &h);
		fputs(",\n \"knobs\": [", j);
		for (unsigned k = 0; k < nknobs; k++) {
			fprintf(j, "%s{\"name\": ", k ? ", " : "");
			bench_json_str(j, ax[k].name);
			fputs(", \"values\": [", j);
			for (int q = 0; q < ax[k].n; q++) {
				fputs(q ? ", " : "", j);
				bench_json_str(j, ax[k].vals[q]);
			}
			fputs("]}", j);
		}
		fputs("],\n \"metrics\": [", j);
		for (size_t m = 0; m < nm; m++) {
			fputs(m ? ", " : "", j);
			bench_json_str(j, SWEEP_METRICS[m]);
		}
		fputs("],\n \"points\": [", j);
		for (int q = 0; q < done; q++) {
			fprintf(j, "%s\n  {\"knobs\": {", q ? "," : "");
			for (unsigned k = 0; k < nknobs; k++) {
				fputs(k ? ", " : "", j);
				bench_json_str(j, ax[k].name);
				fputs(": ", j);
				bench_json_str(j, ax[k].vals[idx[q * 4 + (int)k]]);
			}
			fputs("}, \"metrics\": {", j);
			for (size_t m = 0; m < nm; m++) {
				fputs(m ? ", " : "", j);
				bench_json_str(j, SWEEP_METRICS[m]);
				fputs(": ", j);
				bench_json_num(j, vals[(size_t)q * nm + m]);
			}
			fputs("}}", j);
		}
		fputs("\n ]}\n", j);
		bench_fclose_atomic(j, tmp, jsonp);
	}
	fclose(csv);
	if (!outer)
		bench_progress_end(pg);
	if (!quiet)
		printf("sweep %s: %d of %d points -> %s, %s\n", w->name, done, npoints, csvp, jsonp);
	free(vals);
	free(idx);
	ra_trace_free(t);
	return g_stop ? -2 : rc;
}

int sub_sweep(struct opts *o)
{
	if (!o->workload) {
		fprintf(stderr, "refalloc bench sweep: --workload W is required (see refalloc bench list)\n");
		return RA_EXIT_USAGE;
	}
	char dir[PATH_MAX];
	if (o->out)
		sfmt(dir, sizeof(dir), "%s", o->out);
	else {
		size_t n = (size_t)sfmt(dir, sizeof(dir), "out/bench/sweep/%s", o->workload);
		for (unsigned k = 0; k < o->nknobs && n < sizeof(dir); k++) {
			const char *eq = strchr(o->knobs[k], '=');
			n += (size_t)sfmt(dir + n, sizeof(dir) - n, "-%.*s", eq ? (int)(eq - o->knobs[k]) : 0, o->knobs[k]);
		}
	}
	catch_sigint();
	int rc = do_sweep(o->workload, o->seed, o->scale, o->knobs, o->nknobs, dir, NULL, 0);
	return rc == -2 ? 130 : rc;
}
