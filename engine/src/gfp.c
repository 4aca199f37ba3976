/*
 * gfp.c — GFP flag names: parsing a trace's "GFP_KERNEL|__GFP_ZERO" and
 * printing flags the way the kernel's %pGg does (composite names first,
 * then the remaining single bits).
 */
#include "phys.h"

struct gfp_name { const char *name; ra_gfp_t bits; };

/* The order of 6.1's __def_gfpflag_names (include/trace/events/mmflags.h),
 * which %pGg walks: composites, largest first, then the single bits. The
 * THP composites (GFP_TRANSHUGE, GFP_TRANSHUGE_LIGHT) are left out: the
 * model has no THP. __GFP_DMA and __GFP_DMA32 are parsed only (GFP_DMA and
 * GFP_DMA32, the same bits, print first). */
static const struct gfp_name gfp_names[] = {
	{ "GFP_HIGHUSER_MOVABLE", RA_GFP_HIGHUSER_MOVABLE },
	{ "GFP_HIGHUSER", RA_GFP_HIGHUSER },
	{ "GFP_USER", RA_GFP_USER },
	{ "GFP_KERNEL_ACCOUNT", RA_GFP_KERNEL_ACCOUNT },
	{ "GFP_KERNEL", RA_GFP_KERNEL },
	{ "GFP_NOFS", RA_GFP_NOFS },
	{ "GFP_ATOMIC", RA_GFP_ATOMIC },
	{ "GFP_NOIO", RA_GFP_NOIO },
	{ "GFP_NOWAIT", RA_GFP_NOWAIT },
	{ "GFP_DMA", RA_GFP_DMA },
	{ "__GFP_HIGHMEM", RA___GFP_HIGHMEM },
	{ "GFP_DMA32", RA_GFP_DMA32 },
	{ "__GFP_HIGH", RA___GFP_HIGH },
	{ "__GFP_ATOMIC", RA___GFP_ATOMIC },
	{ "__GFP_IO", RA___GFP_IO },
	{ "__GFP_FS", RA___GFP_FS },
	{ "__GFP_NOWARN", RA___GFP_NOWARN },
	{ "__GFP_RETRY_MAYFAIL", RA___GFP_RETRY_MAYFAIL },
	{ "__GFP_NOFAIL", RA___GFP_NOFAIL },
	{ "__GFP_NORETRY", RA___GFP_NORETRY },
	{ "__GFP_COMP", RA___GFP_COMP },
	{ "__GFP_ZERO", RA___GFP_ZERO },
	{ "__GFP_NOMEMALLOC", RA___GFP_NOMEMALLOC },
	{ "__GFP_MEMALLOC", RA___GFP_MEMALLOC },
	{ "__GFP_HARDWALL", RA___GFP_HARDWALL },
	{ "__GFP_THISNODE", RA___GFP_THISNODE },
	{ "__GFP_RECLAIMABLE", RA___GFP_RECLAIMABLE },
	{ "__GFP_MOVABLE", RA___GFP_MOVABLE },
	{ "__GFP_ACCOUNT", RA___GFP_ACCOUNT },
	{ "__GFP_WRITE", RA___GFP_WRITE },
	{ "__GFP_RECLAIM", RA___GFP_RECLAIM },
	{ "__GFP_DIRECT_RECLAIM", RA___GFP_DIRECT_RECLAIM },
	{ "__GFP_KSWAPD_RECLAIM", RA___GFP_KSWAPD_RECLAIM },
	{ "__GFP_DMA", RA___GFP_DMA },
	{ "__GFP_DMA32", RA___GFP_DMA32 },
};

int ra_gfp_parse(const char *s, size_t len, ra_gfp_t *out, size_t *bad_off)
{
	ra_gfp_t v = 0;
	size_t i = 0;
	if (len == 0) {
		*bad_off = 0;
		return -1;
	}
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != '|')
			j++;
		size_t n = j - i;
		bool found = false;
		for (size_t k = 0; k < RA_ARRAY_SIZE(gfp_names); k++)
			if (strlen(gfp_names[k].name) == n && memcmp(gfp_names[k].name, s + i, n) == 0) {
				v |= gfp_names[k].bits;
				found = true;
				break;
			}
		if (!found && n && n < 20 && s[i] >= '0' && s[i] <= '9') {
			/* a number: bits without a name, as %pGg prints them ("0x200") */
			char num[24];
			memcpy(num, s + i, n);
			num[n] = 0;
			char *end;
			unsigned long long bits = strtoull(num, &end, 0);
			if (!*end && bits <= 0xffffffffULL) {
				v |= (ra_gfp_t)bits;
				found = true;
			}
		}
		if (!found) {
			*bad_off = i;
			return -1;
		}
		i = j + 1;
	}
	*out = v;
	return 0;
}

void ra_gfp_format(ra_gfp_t gfp, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	ra_gfp_t left = gfp;
	for (size_t k = 0; k < RA_ARRAY_SIZE(gfp_names) && left; k++) {
		ra_gfp_t b = gfp_names[k].bits;
		if ((left & b) != b)
			continue;
		/* composites only match when all their bits are still unclaimed */
		int w = snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "|" : "", gfp_names[k].name);
		if (w > 0)
			o += (size_t)w;
		left &= ~b;
	}
	if (left && o < len)
		snprintf(buf + o, len - o, "%s%#x", o ? "|" : "", left);
	if (!gfp && len)
		snprintf(buf, len, "0");
}
