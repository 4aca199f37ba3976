/*
 * um_sim.h — the UM_SIM back end of um_os.h: extern functions the engine
 * implements over a simulated task's mm (brk/mmap VMAs, demand paging,
 * RSS accounting).  The contract, pre- and postconditions are in um_os.h;
 * tests/um_fake.c is a fake implementation used by umalloc's own tests.
 */
#ifndef UM_SIM_H
#define UM_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifndef UM_OS_H
#error "include um_os.h, not um_sim.h"
#endif

uint64_t um_os_load64(struct um_os *os, um_addr addr);
void     um_os_store64(struct um_os *os, um_addr addr, uint64_t val);
void     um_os_fill(struct um_os *os, um_addr addr, int byte, size_t len);
void     um_os_copy(struct um_os *os, um_addr dst, um_addr src, size_t len);
size_t   um_os_cmpbyte(struct um_os *os, um_addr addr, int byte, size_t len);

um_addr  um_os_brk(struct um_os *os, int64_t delta);
um_addr  um_os_mmap(struct um_os *os, size_t len, int prot, unsigned flags);
int      um_os_munmap(struct um_os *os, um_addr addr, size_t len);
int      um_os_mprotect(struct um_os *os, um_addr addr, size_t len, int prot);
um_addr  um_os_mremap(struct um_os *os, um_addr addr, size_t oldlen, size_t newlen);
int      um_os_release(struct um_os *os, um_addr addr, size_t len);

size_t   um_os_pagesize(const struct um_os *os);
unsigned um_os_ncpus(const struct um_os *os);

void     um_os_report(struct um_os *os, const char *cls, um_addr addr, const char *msg);

void    *um_os_meta_alloc(struct um_os *os, size_t len);
void     um_os_meta_free(struct um_os *os, void *p, size_t len);

#endif /* UM_SIM_H */
