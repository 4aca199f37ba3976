/*
 * test_machine.c — machines made one after another in one process.
 *
 * A thread keeps the frame array of the machine it destroyed for its next
 * machine (machine.c: a fuzzer's per-input cost). The promise is that a
 * machine made on a kept array is indistinguishable from one made on a fresh
 * mapping: the same trace prints the same bytes whatever ran before it.
 */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

/* Leaves frame state all over a 128 MiB machine: pages of every order kept
 * live to the end, slab pages of many caches, vmalloc areas, user pages of
 * a task, and a full walk. */
static const char dirty_128[] =
	"machine mem=128M cpus=2\n"
	"alloc_pages GFP_KERNEL 10 -> a\nalloc_pages GFP_KERNEL 9 -> b\nalloc_pages GFP_HIGHUSER_MOVABLE 3 -> c\n"
	"alloc_pages GFP_KERNEL 0 -> d\nalloc_pages __GFP_RECLAIMABLE|GFP_KERNEL 2 -> e\n"
	"kmalloc 8 GFP_KERNEL -> k1\nkmalloc 192 GFP_KERNEL -> k2\nkmalloc 3000 GFP_KERNEL -> k3\nkmalloc 70000 GFP_KERNEL -> k4\n"
	"kmem_cache_create foo 120 -> c1\nkmem_cache_alloc c1 GFP_KERNEL -> o1\n"
	"vmalloc 300000 -> v\n"
	"task t1\nmalloc 5000 -> m1\nmmap 1M -> mm\ntouch mm 0 1M\npoke mm 0 65536 byte=0x5a\n"
	"poke a 0 4096 byte=0x77\npoke c 0 32768 byte=0x66\nfree_pages c\npoke k3 0 3000 byte=0x99\nkfree k3\n"
	"check full\n";
static const char dirty_256[] =
	"machine mem=256M cpus=4\n"
	"alloc_pages GFP_KERNEL 10 -> a\nalloc_pages GFP_KERNEL 10 -> b\nalloc_pages GFP_KERNEL 1 -> c\n"
	"poke a 0 4194304 byte=0x3c\npoke c 0 8192 byte=0x3d\nfree_pages c\n"
	"kmalloc 100 GFP_KERNEL -> k\nvmalloc 2M -> v\ncheck full\n";

/* The probe: a smaller machine whose views and leak report read frame
 * state everywhere (buddy lists, pageblock types, owners, sites), and whose
 * peeks print RAM nobody initialised (what a fresh mapping holds: zeros). */
static const char probe[] =
	"machine mem=64M cpus=2\n"
	"alloc_pages GFP_KERNEL 4 -> a\nkmalloc 64 GFP_KERNEL -> k\nkmalloc 9000 GFP_KERNEL -> big\nvmalloc 20000 -> v\n"
	"peek a 0 64\npeek a 65472 64\npeek big 4000 64\npeek v 16384 64\n"
	"alloc_pages GFP_KERNEL 10 -> h\npeek h 0 32\npeek h 2097152 32\npeek h 4194272 32\nfree_pages h\n"
	"task p\nmalloc 70000 -> um\npeek um 0 32\npeek um 69000 32\n"
	"free_pages a\n"
	"dump buddyinfo\ndump pagetypeinfo\ndump zoneinfo\ndump meminfo\ndump slabinfo\ndump vmallocinfo\n"
	"dump leaks\ncheck full\n";

static char *run_out(const char *text)
{
	char *o = NULL, *e = NULL;
	int rc = run_trace_text(text, &o, &e);
	CHECK(rc == 0 || rc == 1);
	char *all = malloc(strlen(o) + strlen(e) + 2);
	strcpy(all, o);
	strcat(all, "\n");
	strcat(all, e);
	free(o), free(e);
	return all;
}

struct seq { char *fresh, *after_dirty, *after_larger, *after_smaller; };

static void sequence(struct seq *s)
{
	s->fresh = run_out(probe);           /* the process has kept nothing yet: the only test here */
	free(run_out(dirty_128));
	s->after_dirty = run_out(probe);     /* on the 128 MiB machine's array */
	free(run_out(dirty_256));            /* too large for the kept array: a new one */
	free(run_out(dirty_256));            /* ... kept, then reused */
	s->after_larger = run_out(probe);
	free(run_out("machine mem=16M\nalloc_pages GFP_KERNEL 0 -> x\n"));
	s->after_smaller = run_out(probe);
}

static void kept_frame_array(void)
{
	struct seq s = { 0 };
	sequence(&s);
	CHECK(strstr(s.fresh, "Node 0, zone      DMA") != NULL);
	CHECK(strstr(s.fresh, "LEAK SUMMARY") != NULL);
	CHECK(strstr(s.fresh, "00 00 00 00 00 00 00 00") != NULL);
	CHECK_STR(s.after_dirty, s.fresh);
	CHECK_STR(s.after_larger, s.fresh);
	CHECK_STR(s.after_smaller, s.fresh);
	free(s.fresh), free(s.after_dirty), free(s.after_larger), free(s.after_smaller);
}

static const struct unit_test tests[] = {
	{ "kept_frame_array", kept_frame_array },
};
UNIT_MAIN("machine", tests)
