/*
 * trace_parse.c — the text trace format (docs/trace-format.md, version 1) into an op
 * array, and back to text.
 *
 * The parser reads the whole input first and stops at the first error with
 * FILE:LINE:COL, so a trace with a syntax error executes nothing. It never
 * trusts its input: any byte string yields either a trace or one error
 * message. Handle names are interned; a use of a name that no earlier line
 * binds is an error here ("unknown handle"); whether the handle is live and
 * of the right kind is decided when the trace runs.
 */
#include "refalloc/trace.h"
#include "phys.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

const char *const ra_op_names[RA_OP_NR] = {
#define RA_OP_NAME(code, name, side) name,
	RA_OP_LIST(RA_OP_NAME)
#undef RA_OP_NAME
};
const char *const ra_madv_names[RA_MADV_NR] = { "dontneed", "free", "cold", "pageout", "willneed" };

const char ra_op_side[RA_OP_NR] = {
#define RA_OP_SIDE(code, name, side) side,
	RA_OP_LIST(RA_OP_SIDE)
#undef RA_OP_SIDE
};

#define MAX_TOKENS 32
#define MAX_NAME 128

/* === Trace construction ================================================= */

struct ra_trace *ra_trace_new(const char *file)
{
	struct ra_trace *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->file = strdup(file ? file : "-");
	ra_config_default(&t->cfg);
	if (!t->file) {
		free(t);
		return NULL;
	}
	return t;
}

void ra_trace_free(struct ra_trace *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->hash);
	free(t->ops);
	free(t->pool);
	free(t->file);
	free(t);
}

static void *grow(void *p, uint32_t *cap, size_t elem)
{
	uint32_t n = *cap ? *cap * 2 : 64;
	void *q = realloc(p, n * elem);
	if (!q)
		abort();   /* host out of memory: nothing sensible to do in a parser */
	*cap = n;
	return q;
}

struct ra_op *ra_trace_add(struct ra_trace *t, enum ra_opcode code)
{
	if (t->nops == t->cap)
		t->ops = grow(t->ops, &t->cap, sizeof(*t->ops));
	struct ra_op *op = &t->ops[t->nops++];
	memset(op, 0, sizeof(*op));
	op->code = (uint16_t)code;
	op->h[0] = op->h[1] = op->out = op->str = RA_NONAME;
	return op;
}

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

uint32_t ra_trace_name(struct ra_trace *t, const char *name, size_t len)
{
	if (t->nnames * 2 >= t->hash_cap) {
		uint32_t cap = t->hash_cap ? t->hash_cap * 2 : 256;
		uint32_t *nh = calloc(cap, sizeof(uint32_t));
		if (!nh)
			abort();
		for (uint32_t i = 0; i < t->nnames; i++) {
			uint32_t k = name_hash(t->names[i], strlen(t->names[i])) & (cap - 1);
			while (nh[k])
				k = (k + 1) & (cap - 1);
			nh[k] = i + 1;
		}
		free(t->hash);
		t->hash = nh;
		t->hash_cap = cap;
	}
	uint32_t k = name_hash(name, len) & (t->hash_cap - 1);
	while (t->hash[k]) {
		const char *n = t->names[t->hash[k] - 1];
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return t->hash[k] - 1;
		k = (k + 1) & (t->hash_cap - 1);
	}
	if (t->nnames == t->names_cap)
		t->names = grow(t->names, &t->names_cap, sizeof(*t->names));
	char *copy = malloc(len + 1);
	if (!copy)
		abort();
	memcpy(copy, name, len);
	copy[len] = 0;
	t->names[t->nnames] = copy;
	t->hash[k] = t->nnames + 1;
	return t->nnames++;
}

uint32_t ra_trace_str(struct ra_trace *t, const char *s, size_t len)
{
	if (t->pool_len + len + 1 > t->pool_cap) {
		size_t cap = t->pool_cap ? t->pool_cap : 1024;
		while (cap < t->pool_len + len + 1)
			cap *= 2;
		char *np = realloc(t->pool, cap);
		if (!np)
			abort();
		t->pool = np;
		t->pool_cap = cap;
	}
	uint32_t off = (uint32_t)t->pool_len;
	memcpy(t->pool + off, s, len);
	t->pool[off + len] = 0;
	t->pool_len += len + 1;
	return off;
}

/* === Lexing ============================================================= */

struct tok { const char *s; size_t len; uint32_t col; };

struct pctx {
	struct ra_trace *t;
	struct ra_trace_error *err;
	uint32_t line;
	struct tok tk[MAX_TOKENS];
	int ntok;
	uint8_t *bound;               /* names bound by an earlier line */
	uint32_t bound_cap;
	bool seen_op;                 /* an operation other than the version line */
};

static int perr(struct pctx *c, uint32_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(struct pctx *c, uint32_t col, const char *fmt, ...)
{
	c->err->line = c->line;
	c->err->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool tok_is(const struct tok *k, const char *s) { return k->len == strlen(s) && memcmp(k->s, s, k->len) == 0; }

/* Print a token safely in an error message (printable, bounded). */
static const char *tokstr(const struct tok *k, char *buf, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < k->len && o + 5 < n; i++) {
		unsigned char ch = (unsigned char)k->s[i];
		if (isprint(ch))
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
	}
	if (o + 4 < n && o < k->len)
		memcpy(buf + o, "...", 3), o += 3;
	buf[o] = 0;
	return buf;
}
#define TOK(k) tokstr((k), (char[48]){0}, 48)

static int tokenize(struct pctx *c, const char *s, size_t len)
{
	c->ntok = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i >= len || s[i] == '#')
			break;
		size_t j = i;
		while (j < len && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '#')
			j++;
		/* "->name" splits into "->" and "name" */
		size_t parts[2][2] = { { i, j }, { 0, 0 } };
		int np = 1;
		if (j - i > 2 && s[i] == '-' && s[i + 1] == '>') {
			parts[0][1] = i + 2;
			parts[1][0] = i + 2;
			parts[1][1] = j;
			np = 2;
		}
		for (int p = 0; p < np; p++) {
			if (c->ntok == MAX_TOKENS)
				return perr(c, (uint32_t)parts[p][0] + 1, "too many words on one line (at most %d)", MAX_TOKENS);
			c->tk[c->ntok].s = s + parts[p][0];
			c->tk[c->ntok].len = parts[p][1] - parts[p][0];
			c->tk[c->ntok].col = (uint32_t)parts[p][0] + 1;
			c->ntok++;
		}
		i = j;
	}
	return 0;
}

/* === Values ============================================================= */

/* Decimal or 0x hex, optional K/M/G (size), optional leading '-' (signed). */
static int parse_int(struct pctx *c, const struct tok *k, bool allow_neg, bool allow_suffix, int64_t *out)
{
	const char *s = k->s;
	size_t n = k->len, i = 0;
	bool neg = false;
	if (n && (s[0] == '-' || s[0] == '+')) {
		if (s[0] == '-' && !allow_neg)
			return perr(c, k->col, "negative number '%s' not allowed here", TOK(k));
		neg = s[0] == '-';
		i++;
	}
	uint64_t v = 0;
	int base = 10;
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	size_t digits = 0;
	for (; i < n; i++) {
		int d;
		char ch = s[i];
		if (ch >= '0' && ch <= '9') d = ch - '0';
		else if (base == 16 && ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
		else if (base == 16 && ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
		else break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return perr(c, k->col, "number '%s' is too large", TOK(k));
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return perr(c, k->col, "expected a number, got '%s'", TOK(k));
	if (i < n) {
		int shift = -1;
		if (allow_suffix && i + 1 == n) {
			if (s[i] == 'K' || s[i] == 'k') shift = 10;
			else if (s[i] == 'M' || s[i] == 'm') shift = 20;
			else if (s[i] == 'G' || s[i] == 'g') shift = 30;
		}
		if (shift < 0)
			return perr(c, k->col + (uint32_t)i, "bad number '%s'%s", TOK(k),
			            allow_suffix ? " (suffixes: K M G)" : "");
		if (v > (UINT64_MAX >> shift))
			return perr(c, k->col, "number '%s' is too large", TOK(k));
		v <<= shift;
	}
	if (v > (uint64_t)INT64_MAX)
		return perr(c, k->col, "number '%s' is too large", TOK(k));
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int parse_size(struct pctx *c, const struct tok *k, int64_t *out) { return parse_int(c, k, false, true, out); }

static bool is_ident(const struct tok *k)
{
	if (!k->len || k->len > MAX_NAME)
		return false;
	if (!(isalpha((unsigned char)k->s[0]) || k->s[0] == '_'))
		return false;
	for (size_t i = 1; i < k->len; i++)
		if (!(isalnum((unsigned char)k->s[i]) || k->s[i] == '_'))
			return false;
	return true;
}

static void mark_bound(struct pctx *c, uint32_t id)
{
	if (id >= c->bound_cap) {
		uint32_t cap = c->bound_cap ? c->bound_cap : 64;
		while (cap <= id)
			cap *= 2;
		uint8_t *nb = realloc(c->bound, cap);
		if (!nb)
			abort();
		memset(nb + c->bound_cap, 0, cap - c->bound_cap);
		c->bound = nb;
		c->bound_cap = cap;
	}
	c->bound[id] = 1;
}

static int parse_use(struct pctx *c, const struct tok *k, uint32_t *id, uint16_t *col)
{
	if (!is_ident(k))
		return perr(c, k->col, "expected a handle name, got '%s'", TOK(k));
	*id = ra_trace_name(c->t, k->s, k->len);
	*col = (uint16_t)RA_MIN(k->col, 65535u);
	if (*id >= c->bound_cap || !c->bound[*id])
		return perr(c, k->col, "unknown handle '%s' (no earlier line binds it with '-> %s')", TOK(k), TOK(k));
	return 0;
}

static int parse_gfp(struct pctx *c, const struct tok *k, uint32_t *gfp)
{
	size_t bad = 0;
	ra_gfp_t g;
	if (ra_gfp_parse(k->s, k->len, &g, &bad) < 0) {
		struct tok sub = { k->s + bad, 0, k->col + (uint32_t)bad };
		while (bad + sub.len < k->len && k->s[bad + sub.len] != '|')
			sub.len++;
		return perr(c, sub.col, "unknown GFP flag '%s'", TOK(&sub));
	}
	if ((g & RA___GFP_MOVABLE) && (g & RA___GFP_RECLAIMABLE))
		return perr(c, k->col, "__GFP_MOVABLE and __GFP_RECLAIMABLE exclude each other");
	if ((g & RA___GFP_DMA) && (g & RA___GFP_DMA32))
		return perr(c, k->col, "GFP_DMA and GFP_DMA32 exclude each other");
	*gfp = g;
	return 0;
}

/* Split "key=value"; returns false if there is no '='. */
static bool kv(const struct tok *k, struct tok *key, struct tok *val)
{
	const char *eq = memchr(k->s, '=', k->len);
	if (!eq)
		return false;
	key->s = k->s;
	key->len = (size_t)(eq - k->s);
	key->col = k->col;
	val->s = eq + 1;
	val->len = k->len - key->len - 1;
	val->col = k->col + (uint32_t)key->len + 1;
	return true;
}

/* === Operations ========================================================= */

/* Strip and record a trailing "-> name". required: 1 must, 0 may, -1 must not. */
static int take_binding(struct pctx *c, struct ra_op *op, int required)
{
	int n = c->ntok;
	if (n >= 2 && tok_is(&c->tk[n - 2], "->")) {
		if (required < 0)
			return perr(c, c->tk[n - 2].col, "'%s' does not create anything to bind", ra_op_names[op->code]);
		const struct tok *k = &c->tk[n - 1];
		if (!is_ident(k))
			return perr(c, k->col, "'%s' is not a handle name ([A-Za-z_][A-Za-z0-9_]*)", TOK(k));
		op->out = ra_trace_name(c->t, k->s, k->len);
		c->ntok -= 2;
		return 0;
	}
	if (n >= 1 && tok_is(&c->tk[n - 1], "->"))
		return perr(c, c->tk[n - 1].col, "'->' must be followed by a handle name");
	for (int i = 1; i < n; i++)
		if (tok_is(&c->tk[i], "->"))
			return perr(c, c->tk[i].col, "'-> name' must end the line");
	if (required > 0)
		return perr(c, c->tk[0].col, "'%s' needs '-> name' to bind what it creates", ra_op_names[op->code]);
	return 0;
}

static int nargs(struct pctx *c, int min, int max)
{
	int n = c->ntok - 1;
	if (n < min)
		return perr(c, c->tk[0].col, "'%s' needs %d argument%s, got %d", TOK(&c->tk[0]), min, min == 1 ? "" : "s", n);
	if (n > max)
		return perr(c, c->tk[max + 1].col, "unexpected '%s' ('%s' takes at most %d argument%s)", TOK(&c->tk[max + 1]),
		            TOK(&c->tk[0]), max, max == 1 ? "" : "s");
	return 0;
}

static int parse_order(struct pctx *c, const struct tok *k, int64_t *o)
{
	if (parse_int(c, k, false, false, o))
		return -1;
	if (*o > RA_MAX_ORDER)
		return perr(c, k->col, "order %" PRId64 " above MAX_ORDER %d", *o, RA_MAX_ORDER);
	return 0;
}

static const char *const cache_flag_names[] = {
	"SLAB_CONSISTENCY_CHECKS", "SLAB_RED_ZONE", "SLAB_POISON", "SLAB_HWCACHE_ALIGN", "SLAB_CACHE_DMA",
	"SLAB_CACHE_DMA32", "SLAB_STORE_USER", "SLAB_PANIC", "SLAB_TYPESAFE_BY_RCU", "SLAB_TRACE",
	"SLAB_NOLEAKTRACE", "SLAB_ACCOUNT", "SLAB_RECLAIM_ACCOUNT", "0",
};
static const uint32_t cache_flag_bits[] = {
	RA_SLAB_CONSISTENCY_CHECKS, RA_SLAB_RED_ZONE, RA_SLAB_POISON, RA_SLAB_HWCACHE_ALIGN, RA_SLAB_CACHE_DMA,
	RA_SLAB_CACHE_DMA32, RA_SLAB_STORE_USER, RA_SLAB_PANIC, RA_SLAB_TYPESAFE_BY_RCU, RA_SLAB_TRACE,
	RA_SLAB_NOLEAKTRACE, RA_SLAB_ACCOUNT, RA_SLAB_RECLAIM_ACCOUNT, 0,
};

static int parse_cache_flags(struct pctx *c, const struct tok *k, uint32_t *out)
{
	uint32_t f = 0;
	size_t i = 0;
	while (i <= k->len) {
		size_t j = i;
		while (j < k->len && k->s[j] != '|')
			j++;
		size_t n = j - i, x;
		for (x = 0; x < RA_ARRAY_SIZE(cache_flag_names); x++)
			if (strlen(cache_flag_names[x]) == n && memcmp(cache_flag_names[x], k->s + i, n) == 0)
				break;
		if (x == RA_ARRAY_SIZE(cache_flag_names)) {
			struct tok sub = { k->s + i, n, k->col + (uint32_t)i };
			return perr(c, sub.col, "unknown cache flag '%s'", TOK(&sub));
		}
		f |= cache_flag_bits[x];
		i = j + 1;
	}
	*out = f;
	return 0;
}

static const char *const mallopt_names[] = {
	"M_MXFAST", "M_TRIM_THRESHOLD", "M_TOP_PAD", "M_MMAP_THRESHOLD", "M_MMAP_MAX", "M_CHECK_ACTION",
	"M_PERTURB", "M_ARENA_TEST", "M_ARENA_MAX",
};
static const int mallopt_nums[] = { 1, -1, -2, -3, -4, -5, -6, -7, -8 };

static int parse_op(struct pctx *c, struct ra_op *op)
{
	struct tok *tk = c->tk;
	struct tok key, val;
	int64_t v;
	switch (op->code) {
	case RA_OP_MACHINE:
		if (take_binding(c, op, -1))
			return -1;
		if (c->seen_op)
			return perr(c, tk[0].col, "'machine' must be the first operation");
		if (c->t->has_machine)
			return perr(c, tk[0].col, "only one 'machine' line");
		c->t->has_machine = 1;
		for (int i = 1; i < c->ntok; i++) {
			if (!kv(&tk[i], &key, &val))
				return perr(c, tk[i].col, "expected key=value (mem= cpus= dma= dma32= cma= swap= zram=), got '%s'", TOK(&tk[i]));
			if (tok_is(&key, "cpus")) {
				if (parse_int(c, &val, false, false, &v))
					return -1;
				if (v < 1 || v > RA_CPUS_MAX)
					return perr(c, val.col, "cpus=%" PRId64 ": must be 1 .. %d", v, RA_CPUS_MAX);
				c->t->cfg.cpus = (uint32_t)v;
				continue;
			}
			if (parse_size(c, &val, &v))
				return -1;
			if (tok_is(&key, "mem")) {
				if ((uint64_t)v < RA_MEM_MIN || (uint64_t)v > RA_MEM_MAX)
					return perr(c, val.col, "mem=%s: machine size must be 16M .. 64G", TOK(&val));
				c->t->cfg.mem = (uint64_t)v;
			} else if (tok_is(&key, "dma")) {
				if (v & 4095)
					return perr(c, val.col, "dma=%s: not a multiple of 4K", TOK(&val));
				c->t->cfg.dma = (uint64_t)v;
			} else if (tok_is(&key, "dma32")) {
				if (v & 4095)
					return perr(c, val.col, "dma32=%s: not a multiple of 4K", TOK(&val));
				c->t->cfg.dma32 = (uint64_t)v;
			} else if (tok_is(&key, "cma")) {
				c->t->cfg.cma = (uint64_t)v;
			} else if (tok_is(&key, "swap") || tok_is(&key, "zram")) {
				if (v && (v < RA_SWAP_MIN || v > RA_SWAP_MAX))
					return perr(c, val.col, "%s=%s: a swap device must be 8K .. 64G", TOK(&key), TOK(&val));
				*(tok_is(&key, "swap") ? &c->t->cfg.swap : &c->t->cfg.zram) = (uint64_t)v;
			} else
				return perr(c, key.col, "unknown machine option '%s'", TOK(&key));
		}
		if (c->t->cfg.cma * 2 > c->t->cfg.mem)
			return perr(c, tk[0].col, "cma= may take at most half of mem=");
		return 0;
	case RA_OP_SYSCTL:
		if (take_binding(c, op, -1) || nargs(c, 1, 1))
			return -1;
		if (!kv(&tk[1], &key, &val) || !key.len || !val.len)
			return perr(c, tk[1].col, "expected NAME=VALUE, got '%s'", TOK(&tk[1]));
		if (tok_is(&key, "vm.drop_caches")) {
			/* an action, not a knob: fs/drop_caches.c takes 1 .. 4 */
			int64_t mode;
			if (parse_int(c, &val, false, false, &mode))
				return -1;
			if (mode < 1 || mode > 4)
				return perr(c, val.col, "vm.drop_caches: %" PRId64 " out of range [1, 4]", mode);
		} else if (ra_knob_lookup(key.s, key.len) < 0)
			return perr(c, key.col, "unknown knob '%s' (see `refalloc knobs`)", TOK(&key));
		op->str = ra_trace_str(c->t, tk[1].s, tk[1].len);
		return 0;
	case RA_OP_SLUB_DEBUG:
		if (take_binding(c, op, -1) || nargs(c, 0, 1))
			return -1;
		op->str = ra_trace_str(c->t, c->ntok > 1 ? tk[1].s : "", c->ntok > 1 ? tk[1].len : 0);
		return 0;
	case RA_OP_ALLOC_PAGES:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_gfp(c, &tk[1], &op->gfp) ||
		    parse_order(c, &tk[2], &op->a[0]))
			return -1;
		return 0;
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_IOUNMAP:
	case RA_OP_CACHE_SHRINK: case RA_OP_CACHE_DESTROY: case RA_OP_UNBALLOON: case RA_OP_FREE: case RA_OP_MUNMAP:
		if (take_binding(c, op, -1) || nargs(c, 1, 1))
			return -1;
		return parse_use(c, &tk[1], &op->h[0], &op->hcol[0]);
	case RA_OP_KMALLOC: case RA_OP_KZALLOC:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_size(c, &tk[1], &op->a[0]) ||
		    parse_gfp(c, &tk[2], &op->gfp))
			return -1;
		return 0;
	case RA_OP_KREALLOC:
		if (take_binding(c, op, 0) || nargs(c, 3, 3) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]) ||
		    parse_size(c, &tk[2], &op->a[0]) || parse_gfp(c, &tk[3], &op->gfp))
			return -1;
		return 0;
	case RA_OP_CACHE_CREATE:
		if (take_binding(c, op, 0) || nargs(c, 2, 4))
			return -1;
		if (tk[1].len == 0 || tk[1].len > 47)
			return perr(c, tk[1].col, "cache name must be 1 to 47 characters");
		for (size_t i = 0; i < tk[1].len; i++)
			if (!isgraph((unsigned char)tk[1].s[i]))
				return perr(c, tk[1].col + (uint32_t)i, "cache name holds a non-printable byte");
		op->str = ra_trace_str(c->t, tk[1].s, tk[1].len);
		if (parse_size(c, &tk[2], &op->a[0]))
			return -1;
		if (op->a[0] < 1 || op->a[0] > (4 << 20))
			return perr(c, tk[2].col, "object size must be 1 .. 4M");
		for (int i = 3; i < c->ntok; i++) {
			if (!kv(&tk[i], &key, &val))
				return perr(c, tk[i].col, "expected align=N or flags=..., got '%s'", TOK(&tk[i]));
			if (tok_is(&key, "align")) {
				if (parse_size(c, &val, &op->a[1]))
					return -1;
				if (op->a[1] & (op->a[1] - 1) || op->a[1] > 4096)
					return perr(c, val.col, "align must be a power of two up to 4096");
				op->flags |= RA_OPF_HAS_ALIGN;
			} else if (tok_is(&key, "flags")) {
				uint32_t f = 0;
				if (parse_cache_flags(c, &val, &f))
					return -1;
				op->a[2] = f;
			} else
				return perr(c, key.col, "unknown option '%s' (align= flags=)", TOK(&key));
		}
		return 0;
	case RA_OP_CACHE_ALLOC:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]) ||
		    parse_gfp(c, &tk[2], &op->gfp))
			return -1;
		return 0;
	case RA_OP_CACHE_FREE:
		if (take_binding(c, op, -1) || nargs(c, 2, 2) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]) ||
		    parse_use(c, &tk[2], &op->h[1], &op->hcol[1]))
			return -1;
		return 0;
	case RA_OP_VMALLOC: case RA_OP_VZALLOC: case RA_OP_BALLOON: case RA_OP_MALLOC:
		if (take_binding(c, op, 0) || nargs(c, 1, 1) || parse_size(c, &tk[1], &op->a[0]))
			return -1;
		return 0;
	case RA_OP_IOREMAP:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_size(c, &tk[1], &op->a[0]) ||
		    parse_size(c, &tk[2], &op->a[1]))
			return -1;
		return 0;
	case RA_OP_POKE: case RA_OP_PEEK:
		if (take_binding(c, op, -1) || nargs(c, 3, op->code == RA_OP_POKE ? 4 : 3) ||
		    parse_use(c, &tk[1], &op->h[0], &op->hcol[0]) || parse_int(c, &tk[2], true, true, &op->a[0]) ||
		    parse_size(c, &tk[3], &op->a[1]))
			return -1;
		if (op->a[1] > (64 << 20))
			return perr(c, tk[3].col, "at most 64M per %s", ra_op_names[op->code]);
		if (c->ntok > 4) {
			if (!kv(&tk[4], &key, &val) || !tok_is(&key, "byte"))
				return perr(c, tk[4].col, "expected byte=N, got '%s'", TOK(&tk[4]));
			if (parse_int(c, &val, false, false, &op->a[2]))
				return -1;
			if (op->a[2] > 255)
				return perr(c, val.col, "byte= must be 0 .. 255");
			op->flags |= RA_OPF_HAS_BYTE;
		}
		return 0;
	case RA_OP_SLEEP:
		if (take_binding(c, op, -1) || nargs(c, 1, 1) || parse_int(c, &tk[1], false, false, &op->a[0]))
			return -1;
		if (op->a[0] > RA_SLEEP_MAX_MS)
			return perr(c, tk[1].col, "sleep %" PRId64 ": at most %" PRId64 " ms", op->a[0], (int64_t)RA_SLEEP_MAX_MS);
		return 0;
	case RA_OP_CPU:
		if (take_binding(c, op, -1) || nargs(c, 1, 1) || parse_int(c, &tk[1], false, false, &op->a[0]))
			return -1;
		if (op->a[0] >= RA_CPUS_MAX)
			return perr(c, tk[1].col, "cpu %" PRId64 ": at most %d cpus", op->a[0], RA_CPUS_MAX);
		return 0;
	case RA_OP_TASK:
		if (take_binding(c, op, 0) || nargs(c, 1, 2))
			return -1;
		if (tk[1].len > 15)
			return perr(c, tk[1].col, "task name longer than 15 characters (TASK_COMM_LEN 16)");
		for (size_t i = 0; i < tk[1].len; i++)
			if (!isgraph((unsigned char)tk[1].s[i]))
				return perr(c, tk[1].col + (uint32_t)i, "task name holds a non-printable byte");
		op->str = ra_trace_str(c->t, tk[1].s, tk[1].len);
		if (c->ntok > 2) {
			if (!kv(&tk[2], &key, &val) || !tok_is(&key, "oom_score_adj"))
				return perr(c, tk[2].col, "expected oom_score_adj=N, got '%s'", TOK(&tk[2]));
			if (parse_int(c, &val, true, false, &op->a[0]))
				return -1;
			if (op->a[0] < -1000 || op->a[0] > 1000)
				return perr(c, val.col, "oom_score_adj must be -1000 .. 1000");
			op->flags |= RA_OPF_HAS_ADJ;
		}
		return 0;
	case RA_OP_SWITCH: {
		if (take_binding(c, op, -1) || nargs(c, 0, 0))
			return -1;
		/* "@t" or "@t:N" in one token */
		struct tok name = { tk[0].s + 1, tk[0].len - 1, tk[0].col + 1 };
		const char *colon = memchr(name.s, ':', name.len);
		if (colon) {
			struct tok num = { colon + 1, name.len - (size_t)(colon - name.s) - 1,
			                   name.col + (uint32_t)(colon - name.s) + 1 };
			name.len = (size_t)(colon - name.s);
			if (parse_int(c, &num, false, false, &op->a[0]))
				return -1;
			if (op->a[0] > 1023)
				return perr(c, num.col, "thread number above 1023");
		}
		return parse_use(c, &name, &op->h[0], &op->hcol[0]);
	}
	case RA_OP_FORK:
		if (take_binding(c, op, 0) || nargs(c, 0, 0))
			return -1;
		return 0;
	case RA_OP_EXIT:
		if (take_binding(c, op, -1) || nargs(c, 0, 0))
			return -1;
		return 0;
	case RA_OP_CALLOC:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_size(c, &tk[1], &op->a[0]) ||
		    parse_size(c, &tk[2], &op->a[1]))
			return -1;
		return 0;
	case RA_OP_REALLOC:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]) ||
		    parse_size(c, &tk[2], &op->a[0]))
			return -1;
		return 0;
	case RA_OP_MEMALIGN:
		if (take_binding(c, op, 0) || nargs(c, 2, 2) || parse_size(c, &tk[1], &op->a[0]) ||
		    parse_size(c, &tk[2], &op->a[1]))
			return -1;
		return 0;
	case RA_OP_MALLOPT: {
		if (take_binding(c, op, -1) || nargs(c, 2, 2))
			return -1;
		size_t x;
		for (x = 0; x < RA_ARRAY_SIZE(mallopt_names); x++)
			if (tok_is(&tk[1], mallopt_names[x]))
				break;
		if (x == RA_ARRAY_SIZE(mallopt_names)) {
			if (parse_int(c, &tk[1], true, false, &v))
				return perr(c, tk[1].col, "unknown mallopt parameter '%s'", TOK(&tk[1]));
			op->a[0] = v;
		} else
			op->a[0] = mallopt_nums[x];
		return parse_int(c, &tk[2], true, true, &op->a[1]);
	}
	case RA_OP_MALLOC_TRIM:
		if (take_binding(c, op, -1) || nargs(c, 1, 1) || parse_size(c, &tk[1], &op->a[0]))
			return -1;
		return 0;
	case RA_OP_MMAP:
		if (take_binding(c, op, 0) || nargs(c, 1, 7) || parse_size(c, &tk[1], &op->a[0]))
			return -1;
		op->a[1] = 3;   /* rw */
		for (int i = 2; i < c->ntok; i++) {
			if (tok_is(&tk[i], "populate"))
				op->flags |= RA_OPF_POPULATE;
			else if (tok_is(&tk[i], "locked"))
				op->flags |= RA_OPF_LOCKED;
			else if (tok_is(&tk[i], "shared"))
				op->flags |= RA_OPF_SHARED;
			else if (kv(&tk[i], &key, &val) && tok_is(&key, "prot")) {
				if (tok_is(&val, "rw")) op->a[1] = 3;
				else if (tok_is(&val, "r")) op->a[1] = 1;
				else if (tok_is(&val, "none")) op->a[1] = 0;
				else return perr(c, val.col, "prot= takes rw, r or none");
			} else if (kv(&tk[i], &key, &val) && tok_is(&key, "file")) {
				if (parse_use(c, &val, &op->h[0], &op->hcol[0]))
					return -1;
				op->flags |= RA_OPF_FILEMAP;
			} else if (kv(&tk[i], &key, &val) && tok_is(&key, "offset")) {
				if (parse_size(c, &val, &op->a[2]))
					return -1;
				if (op->a[2] > RA_FILE_MAX)
					return perr(c, val.col, "a file holds at most 16T");
			} else
				return perr(c, tk[i].col, "unexpected '%s' (prot=, populate, locked, file=, offset=, shared)",
				            TOK(&tk[i]));
		}
		if (!(op->flags & RA_OPF_FILEMAP) && (op->a[2] || (op->flags & RA_OPF_SHARED)))
			return perr(c, tk[0].col, "offset= and shared need file=F (anonymous shared memory is a tmpfs file)");
		return 0;
	case RA_OP_MSYNC:
		if (take_binding(c, op, -1) || nargs(c, 1, 1))
			return -1;
		return parse_use(c, &tk[1], &op->h[0], &op->hcol[0]);
	case RA_OP_BRK:
		if (take_binding(c, op, -1) || nargs(c, 1, 1) || parse_int(c, &tk[1], true, true, &op->a[0]))
			return -1;
		return 0;
	case RA_OP_MLOCKALL:
		if (take_binding(c, op, -1) || nargs(c, 0, 2))
			return -1;
		for (int i = 1; i < c->ntok; i++) {
			if (tok_is(&tk[i], "current")) op->flags |= RA_OPF_CURRENT;
			else if (tok_is(&tk[i], "future")) op->flags |= RA_OPF_FUTURE;
			else return perr(c, tk[i].col, "mlockall takes current and/or future, got '%s'", TOK(&tk[i]));
		}
		if (!(op->flags & (RA_OPF_CURRENT | RA_OPF_FUTURE)))
			op->flags |= RA_OPF_CURRENT | RA_OPF_FUTURE;
		return 0;
	case RA_OP_TOUCH: case RA_OP_READ:
		if (take_binding(c, op, -1) || nargs(c, 1, 3) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]))
			return -1;
		if (c->ntok > 2) {
			if (parse_int(c, &tk[2], true, true, &op->a[0]))
				return -1;
			op->flags |= RA_OPF_HAS_OFF;
		}
		if (c->ntok > 3) {
			if (parse_size(c, &tk[3], &op->a[1]))
				return -1;
			op->flags |= RA_OPF_HAS_LEN;
		}
		return 0;
	case RA_OP_OOM_SCORE_ADJ: case RA_OP_OOM_ADJ:
		if (take_binding(c, op, -1) || nargs(c, 1, 1) || parse_int(c, &tk[1], true, false, &op->a[0]))
			return -1;
		if (op->code == RA_OP_OOM_SCORE_ADJ && (op->a[0] < -1000 || op->a[0] > 1000))
			return perr(c, tk[1].col, "oom_score_adj must be -1000 .. 1000");
		if (op->code == RA_OP_OOM_ADJ && (op->a[0] < -17 || op->a[0] > 15))
			return perr(c, tk[1].col, "oom_adj must be -17 .. 15");
		return 0;
	case RA_OP_FAIL: {
		if (take_binding(c, op, -1) || nargs(c, 1, 5))
			return -1;
		int site = ra_fail_site_parse(tk[1].s, tk[1].len);
		if (site < 0)
			return perr(c, tk[1].col, "unknown fail site '%s' (page_alloc slab vmalloc mmap brk fault writeback swap_slot swap_write)", TOK(&tk[1]));
		op->a[0] = site;
		op->a[1] = 0;     /* nth */
		op->a[2] = 1;     /* times */
		op->a[3] = 0;     /* every */
		op->a[4] = 0;     /* prob */
		bool any = false;
		for (int i = 2; i < c->ntok; i++) {
			if (tok_is(&tk[i], "off")) {
				op->a[2] = 0;
				any = true;
				continue;
			}
			if (!kv(&tk[i], &key, &val))
				return perr(c, tk[i].col, "expected nth= times= every= prob= or off, got '%s'", TOK(&tk[i]));
			if (parse_int(c, &val, tok_is(&key, "times"), false, &v))
				return -1;
			if (tok_is(&key, "nth")) { if (v < 1) return perr(c, val.col, "nth= counts from 1"); op->a[1] = v; }
			else if (tok_is(&key, "times")) { if (v < -1) return perr(c, val.col, "times= is -1 (unlimited) or more"); op->a[2] = v; }
			else if (tok_is(&key, "every")) { if (v < 1) return perr(c, val.col, "every= must be at least 1"); op->a[3] = v; }
			else if (tok_is(&key, "prob")) { if (v > 100) return perr(c, val.col, "prob= is a percentage 0 .. 100"); op->a[4] = v; }
			else return perr(c, key.col, "unknown fail option '%s'", TOK(&key));
			any = true;
		}
		if (!any || (!op->a[1] && !op->a[3] && !op->a[4] && op->a[2] != 0))
			if (!op->a[1] && !op->a[3] && !op->a[4])
				op->a[1] = 1;   /* bare `fail SITE`: the next call fails */
		return 0;
	}
	case RA_OP_CHECK:
		if (take_binding(c, op, -1) || nargs(c, 0, 1))
			return -1;
		if (c->ntok > 1) {
			if (!tok_is(&tk[1], "full"))
				return perr(c, tk[1].col, "check takes only 'full', got '%s'", TOK(&tk[1]));
			op->flags |= RA_OPF_FULL;
		}
		return 0;
	case RA_OP_DUMP: {
		if (take_binding(c, op, -1) || nargs(c, 1, 1))
			return -1;
		const char *const *names = ra_view_names();
		for (size_t i = 0; names[i]; i++)
			if (tok_is(&tk[1], names[i])) {
				op->str = ra_trace_str(c->t, tk[1].s, tk[1].len);
				return 0;
			}
		return perr(c, tk[1].col, "unknown view '%s'", TOK(&tk[1]));
	}
	case RA_OP_EXPECT:
		if (take_binding(c, op, -1) || nargs(c, 1, 2))
			return -1;
		if (tok_is(&tk[1], "ok") || tok_is(&tk[1], "fail") || tok_is(&tk[1], "any")) {
			if (c->ntok > 2)
				return perr(c, tk[2].col, "unexpected '%s' after expect %s", TOK(&tk[2]), TOK(&tk[1]));
			op->a[0] = tok_is(&tk[1], "ok") ? RA_EXPECT_OK : tok_is(&tk[1], "fail") ? RA_EXPECT_FAIL : RA_EXPECT_ANY;
			return 0;
		}
		if (tok_is(&tk[1], "oom_kill")) {
			if (c->ntok < 3)
				return perr(c, tk[1].col, "expect oom_kill needs a task name");
			op->a[0] = RA_EXPECT_OOM_KILL;
			op->str = ra_trace_str(c->t, tk[2].s, tk[2].len);
			return 0;
		}
		return perr(c, tk[1].col, "expect takes ok, fail, any or oom_kill NAME, got '%s'", TOK(&tk[1]));
	case RA_OP_FILE:
		if (take_binding(c, op, 1) || nargs(c, 2, 3) || parse_size(c, &tk[2], &op->a[0]))
			return -1;
		if (op->a[0] > RA_FILE_MAX)
			return perr(c, tk[2].col, "a file holds at most 16T");
		if (c->ntok > 3) {
			if (!tok_is(&tk[3], "tmpfs"))
				return perr(c, tk[3].col, "expected tmpfs, got '%s'", TOK(&tk[3]));
			op->flags |= RA_OPF_TMPFS;
		}
		op->str = ra_trace_str(c->t, tk[1].s, tk[1].len);
		return 0;
	case RA_OP_FREAD: case RA_OP_FWRITE: {
		if (take_binding(c, op, -1))
			return -1;
		int n = c->ntok;
		if (op->code == RA_OP_FWRITE && n > 2 && kv(&tk[n - 1], &key, &val) && tok_is(&key, "byte")) {
			if (parse_int(c, &val, false, false, &op->a[2]))
				return -1;
			if (op->a[2] > 255)
				return perr(c, val.col, "byte= must be 0 .. 255");
			op->flags |= RA_OPF_HAS_BYTE;
			c->ntok--;
		}
		if (nargs(c, 1, 3) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]))
			return -1;
		if (c->ntok > 2) {
			if (parse_size(c, &tk[2], &op->a[0]))
				return -1;
			op->flags |= RA_OPF_HAS_OFF;
		}
		if (c->ntok > 3) {
			if (parse_size(c, &tk[3], &op->a[1]))
				return -1;
			op->flags |= RA_OPF_HAS_LEN;
		}
		if (op->a[0] > RA_FILE_MAX || op->a[1] > RA_FILE_MAX - op->a[0])
			return perr(c, tk[2].col, "a file holds at most 16T");
		return 0;
	}
	case RA_OP_FSYNC: case RA_OP_FUNLINK:
		if (take_binding(c, op, -1) || nargs(c, 1, 1))
			return -1;
		return parse_use(c, &tk[1], &op->h[0], &op->hcol[0]);
	case RA_OP_FTRUNCATE:
		if (take_binding(c, op, -1) || nargs(c, 2, 2) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]) ||
		    parse_size(c, &tk[2], &op->a[0]))
			return -1;
		if (op->a[0] > RA_FILE_MAX)
			return perr(c, tk[2].col, "a file holds at most 16T");
		return 0;
	case RA_OP_MADVISE: {
		if (take_binding(c, op, -1) || nargs(c, 2, 4) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]))
			return -1;
		int a;
		for (a = 0; a < RA_MADV_NR; a++)
			if (tok_is(&tk[2], ra_madv_names[a]))
				break;
		if (a == RA_MADV_NR)
			return perr(c, tk[2].col, "madvise takes dontneed, free, cold, pageout or willneed, got '%s'", TOK(&tk[2]));
		op->a[0] = a;
		if (c->ntok > 3) {
			if (parse_size(c, &tk[3], &op->a[1]))
				return -1;
			op->flags |= RA_OPF_HAS_OFF;
		}
		if (c->ntok > 4) {
			if (parse_size(c, &tk[4], &op->a[2]))
				return -1;
			op->flags |= RA_OPF_HAS_LEN;
		}
		return 0;
	}
	case RA_OP_FADVISE:
		if (take_binding(c, op, -1) || nargs(c, 2, 2) || parse_use(c, &tk[1], &op->h[0], &op->hcol[0]))
			return -1;
		if (!tok_is(&tk[2], "dontneed"))
			return perr(c, tk[2].col, "fadvise takes dontneed, got '%s'", TOK(&tk[2]));
		return 0;
	case RA_OP_SWAPON:
		if (take_binding(c, op, 0) || nargs(c, 1, 4) || parse_size(c, &tk[1], &op->a[0]))
			return -1;
		if (op->a[0] < RA_SWAP_MIN || op->a[0] > RA_SWAP_MAX)
			return perr(c, tk[1].col, "swapon %s: a swap device must be 8K .. 64G", TOK(&tk[1]));
		for (int i = 2; i < c->ntok; i++) {
			if (tok_is(&tk[i], "zram")) {
				op->flags |= RA_OPF_ZRAM;
				continue;
			}
			if (!kv(&tk[i], &key, &val))
				return perr(c, tk[i].col, "expected prio=N, zram or ratio=R, got '%s'", TOK(&tk[i]));
			if (tok_is(&key, "prio")) {
				if (parse_int(c, &val, false, false, &op->a[1]))
					return -1;
				if (op->a[1] > 32767)
					return perr(c, val.col, "prio=%s: must be 0 .. 32767", TOK(&val));
				op->flags |= RA_OPF_HAS_PRIO;
			} else if (tok_is(&key, "ratio")) {
				if (parse_int(c, &val, false, false, &op->a[2]))
					return -1;
				if (op->a[2] < 1 || op->a[2] > 64)
					return perr(c, val.col, "ratio=%s: must be 1 .. 64", TOK(&val));
			} else
				return perr(c, key.col, "unknown swapon option '%s'", TOK(&key));
		}
		if (op->a[2] && !(op->flags & RA_OPF_ZRAM))
			return perr(c, tk[0].col, "ratio= is for a zram device");
		return 0;
	case RA_OP_SWAPOFF:
		if (take_binding(c, op, -1) || nargs(c, 1, 1))
			return -1;
		return parse_use(c, &tk[1], &op->h[0], &op->hcol[0]);
	default:
		return perr(c, tk[0].col, "internal: operation without a parser");
	}
}

static int parse_line(struct pctx *c, const char *s, size_t len)
{
	if (tokenize(c, s, len))
		return -1;
	if (!c->ntok)
		return 0;
	struct tok *k = &c->tk[0];
	if (!c->seen_op && !c->t->nops && tok_is(k, "refalloc-trace")) {
		if (c->ntok != 2 || !tok_is(&c->tk[1], "1"))
			return perr(c, c->ntok > 1 ? c->tk[1].col : k->col, "unsupported trace version (this is version 1)");
		return 0;
	}
	int code = -1;
	if (k->s[0] == '@')
		code = RA_OP_SWITCH;
	else
		for (int i = 0; i < RA_OP_NR; i++)
			if (i != RA_OP_SWITCH && tok_is(k, ra_op_names[i])) {
				code = i;
				break;
			}
	if (code < 0)
		return perr(c, k->col, "unknown operation '%s'", TOK(k));
	struct ra_op *op = ra_trace_add(c->t, (enum ra_opcode)code);
	op->line = c->line;
	op->col = (uint16_t)RA_MIN(k->col, 65535u);
	if (parse_op(c, op))
		return -1;
	if (op->out != RA_NONAME)
		mark_bound(c, op->out);
	if (code != RA_OP_MACHINE)
		c->seen_op = true;
	return 0;
}

int ra_trace_parse(const char *file, const char *text, size_t len, struct ra_trace **out, struct ra_trace_error *err)
{
	*out = NULL;
	memset(err, 0, sizeof(*err));
	struct ra_trace *t = ra_trace_new(file);
	if (!t) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	struct pctx c = { .t = t, .err = err };
	size_t i = 0;
	int rc = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		c.line++;
		const char *nul = memchr(text + i, 0, j - i);
		if (nul) {
			rc = perr(&c, (uint32_t)(nul - (text + i)) + 1, "NUL byte in the trace");
			break;
		}
		if (j - i > 65535) {
			rc = perr(&c, 1, "line longer than 65535 bytes");
			break;
		}
		if (parse_line(&c, text + i, j - i)) {
			rc = -1;
			break;
		}
		i = j + 1;
	}
	free(c.bound);
	if (rc) {
		ra_trace_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

int ra_trace_load(const char *path, struct ra_trace **out, struct ra_trace_error *err)
{
	*out = NULL;
	memset(err, 0, sizeof(*err));
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		if (f != stdin) fclose(f);
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				if (f != stdin) fclose(f);
				snprintf(err->msg, sizeof(err->msg), "out of memory");
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int ioerr = ferror(f);
	if (f != stdin)
		fclose(f);
	if (ioerr) {
		free(buf);
		snprintf(err->msg, sizeof(err->msg), "read error");
		return -1;
	}
	int rc = ra_trace_parse(path, buf, len, out, err);
	free(buf);
	return rc;
}

/* === Printing =========================================================== */

static void print_size(FILE *f, int64_t v)
{
	if (v > 0 && !(v & ((1 << 30) - 1)))
		fprintf(f, "%" PRId64 "G", v >> 30);
	else if (v > 0 && !(v & ((1 << 20) - 1)))
		fprintf(f, "%" PRId64 "M", v >> 20);
	else if (v > 0 && !(v & ((1 << 10) - 1)))
		fprintf(f, "%" PRId64 "K", v >> 10);
	else
		fprintf(f, "%" PRId64, v);
}

static void print_gfp(FILE *f, uint32_t gfp)
{
	char buf[256];
	ra_gfp_format(gfp, buf, sizeof(buf));
	fputs(buf, f);
}

static void print_cache_flags(FILE *f, uint32_t flags)
{
	bool first = true;
	for (size_t x = 0; x + 1 < RA_ARRAY_SIZE(cache_flag_names); x++)
		if (flags & cache_flag_bits[x]) {
			fprintf(f, "%s%s", first ? "" : "|", cache_flag_names[x]);
			first = false;
		}
	if (first)
		fputc('0', f);
}

void ra_op_print(const struct ra_trace *t, const struct ra_op *op, FILE *f)
{
	const char *h0 = op->h[0] != RA_NONAME ? t->names[op->h[0]] : "?";
	const char *h1 = op->h[1] != RA_NONAME ? t->names[op->h[1]] : "?";
	const char *str = op->str != RA_NONAME ? ra_trace_strp(t, op->str) : "";
	if (op->code != RA_OP_SWITCH)
		fputs(ra_op_names[op->code], f);
	switch (op->code) {
	case RA_OP_MACHINE:
		fprintf(f, " mem="); print_size(f, (int64_t)t->cfg.mem);
		fprintf(f, " cpus=%u dma=", t->cfg.cpus); print_size(f, (int64_t)t->cfg.dma);
		fprintf(f, " dma32="); print_size(f, (int64_t)t->cfg.dma32);
		fprintf(f, " cma="); print_size(f, (int64_t)t->cfg.cma);
		if (t->cfg.swap) { fprintf(f, " swap="); print_size(f, (int64_t)t->cfg.swap); }
		if (t->cfg.zram) { fprintf(f, " zram="); print_size(f, (int64_t)t->cfg.zram); }
		break;
	case RA_OP_SYSCTL: case RA_OP_DUMP: fprintf(f, " %s", str); break;
	case RA_OP_SLUB_DEBUG: if (*str) fprintf(f, " %s", str); break;
	case RA_OP_ALLOC_PAGES: fputc(' ', f); print_gfp(f, op->gfp); fprintf(f, " %" PRId64, op->a[0]); break;
	case RA_OP_FREE_PAGES: case RA_OP_KFREE: case RA_OP_VFREE: case RA_OP_IOUNMAP: case RA_OP_CACHE_SHRINK:
	case RA_OP_CACHE_DESTROY: case RA_OP_UNBALLOON: case RA_OP_FREE: case RA_OP_MUNMAP:
		fprintf(f, " %s", h0);
		break;
	case RA_OP_KMALLOC: case RA_OP_KZALLOC:
		fputc(' ', f); print_size(f, op->a[0]); fputc(' ', f); print_gfp(f, op->gfp);
		break;
	case RA_OP_KREALLOC:
		fprintf(f, " %s ", h0); print_size(f, op->a[0]); fputc(' ', f); print_gfp(f, op->gfp);
		break;
	case RA_OP_CACHE_CREATE:
		fprintf(f, " %s ", str); print_size(f, op->a[0]);
		if (op->flags & RA_OPF_HAS_ALIGN) fprintf(f, " align=%" PRId64, op->a[1]);
		if (op->a[2]) { fputs(" flags=", f); print_cache_flags(f, (uint32_t)op->a[2]); }
		break;
	case RA_OP_CACHE_ALLOC: fprintf(f, " %s ", h0); print_gfp(f, op->gfp); break;
	case RA_OP_CACHE_FREE: fprintf(f, " %s %s", h0, h1); break;
	case RA_OP_VMALLOC: case RA_OP_VZALLOC: case RA_OP_BALLOON: case RA_OP_MALLOC: case RA_OP_MALLOC_TRIM:
		fputc(' ', f); print_size(f, op->a[0]);
		break;
	case RA_OP_IOREMAP: fprintf(f, " %#" PRIx64 " ", op->a[0]); print_size(f, op->a[1]); break;
	case RA_OP_POKE: case RA_OP_PEEK:
		fprintf(f, " %s %" PRId64 " %" PRId64, h0, op->a[0], op->a[1]);
		if (op->flags & RA_OPF_HAS_BYTE) fprintf(f, " byte=%#" PRIx64, op->a[2]);
		break;
	case RA_OP_CPU: case RA_OP_SLEEP: fprintf(f, " %" PRId64, op->a[0]); break;
	case RA_OP_TASK:
		fprintf(f, " %s", str);
		if (op->flags & RA_OPF_HAS_ADJ) fprintf(f, " oom_score_adj=%" PRId64, op->a[0]);
		break;
	case RA_OP_SWITCH:
		fprintf(f, "@%s", h0);
		if (op->a[0]) fprintf(f, ":%" PRId64, op->a[0]);
		break;
	case RA_OP_CALLOC: case RA_OP_MEMALIGN:
		fputc(' ', f); print_size(f, op->a[0]); fputc(' ', f); print_size(f, op->a[1]);
		break;
	case RA_OP_REALLOC: fprintf(f, " %s ", h0); print_size(f, op->a[0]); break;
	case RA_OP_MALLOPT: {
		size_t x;
		for (x = 0; x < RA_ARRAY_SIZE(mallopt_nums); x++)
			if (mallopt_nums[x] == op->a[0])
				break;
		if (x < RA_ARRAY_SIZE(mallopt_nums)) fprintf(f, " %s", mallopt_names[x]);
		else fprintf(f, " %" PRId64, op->a[0]);
		fprintf(f, " %" PRId64, op->a[1]);
		break;
	}
	case RA_OP_MMAP:
		fputc(' ', f); print_size(f, op->a[0]);
		if (op->a[1] != 3) fprintf(f, " prot=%s", op->a[1] == 1 ? "r" : "none");
		if (op->flags & RA_OPF_FILEMAP) fprintf(f, " file=%s", h0);
		if (op->a[2]) { fputs(" offset=", f); print_size(f, op->a[2]); }
		if (op->flags & RA_OPF_SHARED) fputs(" shared", f);
		if (op->flags & RA_OPF_POPULATE) fputs(" populate", f);
		if (op->flags & RA_OPF_LOCKED) fputs(" locked", f);
		break;
	case RA_OP_MSYNC: fprintf(f, " %s", h0); break;
	case RA_OP_BRK: fprintf(f, " %" PRId64, op->a[0]); break;
	case RA_OP_MLOCKALL:
		if (op->flags & RA_OPF_CURRENT) fputs(" current", f);
		if (op->flags & RA_OPF_FUTURE) fputs(" future", f);
		break;
	case RA_OP_TOUCH: case RA_OP_READ:
		fprintf(f, " %s", h0);
		if (op->flags & RA_OPF_HAS_OFF) fprintf(f, " %" PRId64, op->a[0]);
		if (op->flags & RA_OPF_HAS_LEN) fprintf(f, " %" PRId64, op->a[1]);
		break;
	case RA_OP_OOM_SCORE_ADJ: case RA_OP_OOM_ADJ: fprintf(f, " %" PRId64, op->a[0]); break;
	case RA_OP_FAIL:
		fprintf(f, " %s", ra_fail_site_name((int)op->a[0]));
		if (op->a[2] == 0) { fputs(" off", f); break; }
		if (op->a[1]) fprintf(f, " nth=%" PRId64, op->a[1]);
		if (op->a[2] != 1) fprintf(f, " times=%" PRId64, op->a[2]);
		if (op->a[3]) fprintf(f, " every=%" PRId64, op->a[3]);
		if (op->a[4]) fprintf(f, " prob=%" PRId64, op->a[4]);
		break;
	case RA_OP_CHECK: if (op->flags & RA_OPF_FULL) fputs(" full", f); break;
	case RA_OP_FILE:
		fprintf(f, " %s ", str); print_size(f, op->a[0]);
		if (op->flags & RA_OPF_TMPFS) fputs(" tmpfs", f);
		break;
	case RA_OP_FREAD: case RA_OP_FWRITE:
		fprintf(f, " %s", h0);
		if (op->flags & RA_OPF_HAS_OFF) { fputc(' ', f); print_size(f, op->a[0]); }
		if (op->flags & RA_OPF_HAS_LEN) { fputc(' ', f); print_size(f, op->a[1]); }
		if (op->flags & RA_OPF_HAS_BYTE) fprintf(f, " byte=%#" PRIx64, op->a[2]);
		break;
	case RA_OP_FSYNC: case RA_OP_FUNLINK: fprintf(f, " %s", h0); break;
	case RA_OP_FTRUNCATE: fprintf(f, " %s ", h0); print_size(f, op->a[0]); break;
	case RA_OP_FADVISE: fprintf(f, " %s dontneed", h0); break;
	case RA_OP_MADVISE:
		fprintf(f, " %s %s", h0, ra_madv_names[op->a[0]]);
		if (op->flags & RA_OPF_HAS_OFF) fprintf(f, " %" PRId64, op->a[1]);
		if (op->flags & RA_OPF_HAS_LEN) fprintf(f, " %" PRId64, op->a[2]);
		break;
	case RA_OP_SWAPON:
		fputc(' ', f); print_size(f, op->a[0]);
		if (op->flags & RA_OPF_HAS_PRIO) fprintf(f, " prio=%" PRId64, op->a[1]);
		if (op->flags & RA_OPF_ZRAM) fputs(" zram", f);
		if (op->a[2]) fprintf(f, " ratio=%" PRId64, op->a[2]);
		break;
	case RA_OP_SWAPOFF: fprintf(f, " %s", h0); break;
	case RA_OP_EXPECT:
		if (op->a[0] == RA_EXPECT_OOM_KILL) fprintf(f, " oom_kill %s", str);
		else fputs(op->a[0] == RA_EXPECT_OK ? " ok" : op->a[0] == RA_EXPECT_FAIL ? " fail" : " any", f);
		break;
	default: break;
	}
	if (op->out != RA_NONAME)
		fprintf(f, " -> %s", t->names[op->out]);
	fputc('\n', f);
}

void ra_trace_print(const struct ra_trace *t, FILE *f)
{
	fputs("refalloc-trace 1\n", f);
	if (t->has_machine && (!t->nops || t->ops[0].code != RA_OP_MACHINE)) {
		struct ra_op m = { .code = RA_OP_MACHINE };
		m.h[0] = m.h[1] = m.out = m.str = RA_NONAME;
		ra_op_print(t, &m, f);
	}
	for (uint32_t i = 0; i < t->nops; i++)
		ra_op_print(t, &t->ops[i], f);
}
