/*
 * um_fake.h — a fake UM_SIM back end for umalloc's own tests.
 *
 * Simulated addresses are backed by host memory page by page through a
 * translation table, so code that assumes host contiguity or dereferences
 * a um_addr crashes; accesses outside a mapping (or against its
 * protection) are counted as faults.  Heap (brk) at 0x555555554000,
 * mmaps top-down below 0x7f0000000000.
 */
#ifndef UM_FAKE_H
#define UM_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include "um_os.h"

#define FAKE_BRK_START  0x555555554000ULL
#define FAKE_MMAP_TOP   0x7f0000000000ULL

struct um_os *fake_create(void);
void fake_destroy(struct um_os *os);
struct um_os *fake_clone(struct um_os *os);     /* fork: copy of all pages */

uint64_t fake_pages_resident(struct um_os *os);
uint64_t fake_pages_faulted(struct um_os *os);  /* first-touch writes ever */
uint64_t fake_bad_accesses(struct um_os *os);
unsigned fake_nreports(struct um_os *os);
const char *fake_report_msg(struct um_os *os, unsigned i);
const char *fake_report_cls(struct um_os *os, unsigned i);
void fake_clear_reports(struct um_os *os);
void fake_set_verbose(struct um_os *os, int v);
void fake_fail_brk(struct um_os *os, int fail);  /* make brk growth fail */
void fake_no_mremap(struct um_os *os, int none);
um_addr fake_brk_now(struct um_os *os);
/* user-side access (as a program would) */
void fake_write(struct um_os *os, um_addr a, const void *src, size_t len);
void fake_read(struct um_os *os, um_addr a, void *dst, size_t len);

#endif
