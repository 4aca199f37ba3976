/*
 * vmalloc.h — vmalloc, ioremap, the balloon and kernel memory access
 * (vmalloc.c).
 */
#ifndef RA_VMALLOC_H
#define RA_VMALLOC_H

#include "slab.h"

/* === vmalloc (vmalloc.c) ================================================ */

struct ra_balloon { uint32_t id; uint32_t nr; uint32_t *pfns; uint8_t live; };

struct ra_vmarea {
	ra_addr_t addr;              /* start */
	uint64_t size;               /* incl. guard page */
	uint32_t nr_pages;
	uint32_t *pfns;              /* backing frames (vmalloc) */
	uint64_t phys;               /* ioremap */
	ra_addr_t pages_array;       /* kmalloc'd or vmalloc'd array of page pointers */
	uint64_t req_size;           /* what vmalloc was asked for */
	uint8_t  array_vmalloced;
	uint32_t site_file, site_line;
	uint32_t id;
	uint8_t  ioremap;
	uint8_t  live;
	uint8_t  internal;           /* the kernel's own: a kernel stack, a nested page array */
};

/* === vmalloc.c ========================================================== */

void ra_vmalloc_fini(ra_machine *m);
long ra_vmalloc_validate(ra_machine *m, bool full);
struct ra_vmarea *ra_vmarea_find(ra_machine *m, ra_addr_t addr);  /* containing addr, guard incl. */

#endif /* RA_VMALLOC_H */
