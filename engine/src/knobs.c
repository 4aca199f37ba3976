/*
 * knobs.c — the knob table's definitions, parsing, environment and printing.
 * Applying a knob recomputes what depends on it (watermarks, reserves, pcp
 * high/batch); boot-style knobs (KF_BOOT) affect objects created later.
 */
#include "buddy.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

const struct ra_knob_def ra_knob_defs[K_NR] = {
#define RA_KNOB_DEF(id, name_, def_, min_, max_, nvals_, flags_, where_, help_) \
	[K_##id] = { name_, def_, min_, max_, nvals_, flags_, where_, help_ },
	RA_KNOB_LIST(RA_KNOB_DEF)
#undef RA_KNOB_DEF
};

/* lowmem_reserve_ratio's default differs per zone. */
static const int64_t lowmem_ratio_default[4] = { 256, 256, 32, 0 };

int ra_knob_lookup(const char *name, size_t len)
{
	for (int i = 0; i < K_NR; i++)
		if (strlen(ra_knob_defs[i].name) == len && memcmp(ra_knob_defs[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Parse one integer with an optional K/M/G binary suffix. */
static int parse_int(const char *s, size_t len, int64_t *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *end;
	errno = 0;
	long long v;
	if (buf[0] == '-' || buf[0] == '+')
		v = strtoll(buf, &end, 0);
	else {
		unsigned long long u = strtoull(buf, &end, 0);
		if (u > INT64_MAX)
			return -1;
		v = (long long)u;
	}
	if (errno || end == buf)
		return -1;
	int shift = 0;
	if (*end == 'K' || *end == 'k') shift = 10, end++;
	else if (*end == 'M' || *end == 'm') shift = 20, end++;
	else if (*end == 'G' || *end == 'g') shift = 30, end++;
	if (*end)
		return -1;
	if (shift && (v > (INT64_MAX >> shift) || v < (INT64_MIN >> shift)))
		return -1;
	*out = (int64_t)((uint64_t)v << shift);
	return 0;
}

static void apply_knob(ra_machine *m, int id)
{
	switch (id) {
	case K_VM_MIN_FREE_KBYTES:
	case K_VM_WATERMARK_SCALE_FACTOR:
	case K_VM_LOWMEM_RESERVE_RATIO:
	case K_VM_PERCPU_PAGELIST_HIGH_FRACTION:
		if (m->nr_pages)
			ra_recompute_zone_params(m);
		break;
	case K_ENGINE_SEED:
		m->rng = (uint64_t)KNOB(m, ENGINE_SEED) * 0x9e3779b97f4a7c15ULL + 1;
		break;
	case K_ENGINE_REPORT_LIMIT:
		m->report_cap = (uint32_t)KNOB(m, ENGINE_REPORT_LIMIT);
		break;
	default:
		break;
	}
}

int ra_knob_set_id(ra_machine *m, int id, const char *value, size_t len)
{
	const struct ra_knob_def *d = &ra_knob_defs[id];
	int64_t vals[RA_KNOB_MAXVALS];
	unsigned n = 0;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && value[j] != ',' && value[j] != ' ' && value[j] != '\t')
			j++;
		if (j > i) {
			if (n == d->nvals) {
				ra_set_error(m, "%s takes %u value%s", d->name, d->nvals, d->nvals > 1 ? "s" : "");
				return RA_EINVAL;
			}
			if (parse_int(value + i, j - i, &vals[n])) {
				ra_set_error(m, "%s: '%.*s' is not a number", d->name, (int)(j - i), value + i);
				return RA_EINVAL;
			}
			if (vals[n] < d->min || vals[n] > d->max) {
				ra_set_error(m, "%s: %" PRId64 " out of range [%" PRId64 ", %" PRId64 "]",
				             d->name, vals[n], d->min, d->max);
				return RA_EINVAL;
			}
			n++;
		}
		i = j + 1;
	}
	if (n == 0) {
		ra_set_error(m, "%s: missing value", d->name);
		return RA_EINVAL;
	}
	if (id == K_VM_PERCPU_PAGELIST_HIGH_FRACTION && vals[0] != 0 && vals[0] < 8) {
		ra_set_error(m, "%s: must be 0 or at least 8", d->name);
		return RA_EINVAL;
	}
	/* dirty_bytes_handler(): proc_doulongvec_minmax with dirty_bytes_min */
	if (id == K_VM_DIRTY_BYTES && vals[0] < 2 * (int64_t)RA_PAGE_SIZE) {
		ra_set_error(m, "%s: must be at least %d", d->name, 2 * (int)RA_PAGE_SIZE);
		return RA_EINVAL;
	}
	if (id == K_VM_DIRTY_BACKGROUND_BYTES && vals[0] < 1) {
		ra_set_error(m, "%s: must be at least 1", d->name);
		return RA_EINVAL;
	}
	/* A ratio and its bytes form a pair, only one of them set (the
	 * handlers of mm/page-writeback.c): writing a changed dirty_ratio or
	 * dirty_bytes zeroes the other; writing either background knob zeroes
	 * the other unconditionally. */
	if ((id == K_VM_DIRTY_RATIO || id == K_VM_DIRTY_BYTES) && vals[0] != m->knobs.v[id][0])
		m->knobs.v[id == K_VM_DIRTY_RATIO ? K_VM_DIRTY_BYTES : K_VM_DIRTY_RATIO][0] = 0;
	if (id == K_VM_DIRTY_BACKGROUND_RATIO)
		KNOB(m, VM_DIRTY_BACKGROUND_BYTES) = 0;
	if (id == K_VM_DIRTY_BACKGROUND_BYTES)
		KNOB(m, VM_DIRTY_BACKGROUND_RATIO) = 0;
	if (id == K_SLUB_MIN_ORDER && vals[0] > KNOB(m, SLUB_MAX_ORDER)) {
		ra_set_error(m, "%s: above slub_max_order", d->name);
		return RA_EINVAL;
	}
	/* A vector knob given fewer values keeps the rest (sysctl writes a prefix). */
	for (unsigned k = 0; k < n; k++)
		m->knobs.v[id][k] = vals[k];
	m->knobs.set[id] = true;
	apply_knob(m, id);
	return RA_OK;
}

void ra_knobs_auto(ra_machine *m)
{
	/* init_per_zone_wmark_min(): lowmem_kbytes = managed pages of lowmem zones */
	if (!m->knobs.set[K_VM_MIN_FREE_KBYTES]) {
		uint64_t lowmem_kbytes = m->totalram * 4;
		uint64_t v = ra_int_sqrt(lowmem_kbytes * 16);
		KNOB(m, VM_MIN_FREE_KBYTES) = (int64_t)RA_MAX(RA_MIN(v, 262144u), 128u);
	}
	/* init_user_reserve()/init_admin_reserve(): from free pages at boot */
	uint64_t free_kbytes = 0;
	for (int z = 0; z < RA_NR_ZONES; z++)
		free_kbytes += m->zones[z].vm_stat[RA_STAT_NR_FREE_PAGES] * 4;
	if (!m->knobs.set[K_VM_USER_RESERVE_KBYTES])
		KNOB(m, VM_USER_RESERVE_KBYTES) = (int64_t)RA_MIN(free_kbytes / 32, 1ULL << 17);
	if (!m->knobs.set[K_VM_ADMIN_RESERVE_KBYTES])
		KNOB(m, VM_ADMIN_RESERVE_KBYTES) = (int64_t)RA_MIN(free_kbytes / 32, 1ULL << 13);
}

void ra_knobs_init(ra_machine *m)
{
	for (int i = 0; i < K_NR; i++) {
		for (unsigned k = 0; k < RA_KNOB_MAXVALS; k++)
			m->knobs.v[i][k] = ra_knob_defs[i].def;
		m->knobs.set[i] = false;
	}
	memcpy(m->knobs.v[K_VM_LOWMEM_RESERVE_RATIO], lowmem_ratio_default, sizeof(lowmem_ratio_default));
	m->rng = (uint64_t)KNOB(m, ENGINE_SEED) * 0x9e3779b97f4a7c15ULL + 1;
	m->report_cap = (uint32_t)KNOB(m, ENGINE_REPORT_LIMIT);
	/* Environment: REFALLOC_VM_MIN_FREE_KBYTES=4096, REFALLOC_M_MMAP_MAX=0 ... */
	for (int i = 0; i < K_NR; i++) {
		char env[96] = "REFALLOC_";
		size_t o = strlen(env);
		for (const char *p = ra_knob_defs[i].name; *p && o + 1 < sizeof(env); p++)
			env[o++] = (*p == '.') ? '_' : (char)toupper((unsigned char)*p);
		env[o] = 0;
		const char *v = getenv(env);
		if (v && ra_knob_set_id(m, i, v, strlen(v)) != RA_OK && m->err)
			fprintf(m->err, "refalloc: ignoring %s: %s\n", env, m->errmsg);
	}
}

void ra_knob_format(const ra_machine *m, int id, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned k = 0; k < ra_knob_defs[id].nvals && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%" PRId64, k ? "," : "", m->knobs.v[id][k]);
}

int ra_knob_set(ra_machine *m, const char *name, const char *value)
{
	int id = ra_knob_lookup(name, strlen(name));
	if (id < 0) {
		ra_set_error(m, "unknown knob '%s' (see `refalloc knobs`)", name);
		return RA_ENOENT;
	}
	return ra_knob_set_id(m, id, value, strlen(value));
}

int ra_knob_get(ra_machine *m, const char *name, char *buf, size_t len)
{
	int id = ra_knob_lookup(name, strlen(name));
	if (id < 0)
		return RA_ENOENT;
	ra_knob_format(m, id, buf, len);
	return RA_OK;
}

void ra_knobs_print(FILE *f)
{
	fprintf(f, "%-34s %-14s %-28s %-7s %s\n", "knob", "default", "range", "where", "help");
	for (int i = 0; i < K_NR; i++) {
		const struct ra_knob_def *d = &ra_knob_defs[i];
		char def[48], range[64];
		if (d->flags & KF_AUTO)
			snprintf(def, sizeof(def), "auto");
		else if (i == K_VM_LOWMEM_RESERVE_RATIO)
			snprintf(def, sizeof(def), "256,256,32,0");
		else
			snprintf(def, sizeof(def), "%" PRId64, d->def);
		snprintf(range, sizeof(range), "%" PRId64 "..%" PRId64 "%s", d->min, d->max,
		         d->nvals > 1 ? " (x4)" : "");
		fprintf(f, "%-34s %-14s %-28s %-7s %s\n", d->name, def, range, d->where, d->help);
	}
}

/* === The table for tools (refalloc.h) =================================== */

_Static_assert(KF_AUTO == RA_KNOB_AUTO && KF_BOOT == RA_KNOB_BOOT && KF_MALLOPT == RA_KNOB_MALLOPT,
               "knobs.h's flags are the public RA_KNOB_* ones");
_Static_assert(RA_KNOB_MAXVALS == RA_KNOB_NVALS_MAX, "vector knobs: as many values in both headers");

unsigned ra_knob_count(void) { return K_NR; }

int ra_knob_info(unsigned idx, struct ra_knob_info *info)
{
	if (idx >= K_NR)
		return RA_ENOENT;
	const struct ra_knob_def *d = &ra_knob_defs[idx];
	info->name = d->name;
	for (unsigned k = 0; k < RA_KNOB_MAXVALS; k++)
		info->def[k] = idx == K_VM_LOWMEM_RESERVE_RATIO ? lowmem_ratio_default[k] : d->def;
	info->min = d->min;
	info->max = d->max;
	info->nvals = d->nvals;
	info->flags = d->flags;
	info->where = d->where;
	info->help = d->help;
	return RA_OK;
}

int ra_knob_find(const char *name, size_t len) { return ra_knob_lookup(name, len); }

/* === Assignments at creation ============================================ */

int ra_knobs_assign(ra_machine *m, const char *const *sets, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const char *eq = strchr(sets[i], '=');
		int id = eq ? ra_knob_lookup(sets[i], (size_t)(eq - sets[i])) : -1;
		if (id < 0) {
			ra_set_error(m, "%s: unknown knob (see `refalloc knobs`)", sets[i]);
			return -1;
		}
		if (ra_knob_set_id(m, id, eq + 1, strlen(eq + 1)) != RA_OK) {
			char why[sizeof(m->errmsg)];
			snprintf(why, sizeof(why), "%s", m->errmsg);
			ra_set_error(m, "%s: %s", sets[i], why);
			return -1;
		}
	}
	return 0;
}
