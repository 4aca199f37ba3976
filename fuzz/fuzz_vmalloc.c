/*
 * fuzz_vmalloc — vmap areas.
 *
 * Property: vmalloc/vzalloc/vfree and ioremap/iounmap in any order keep the
 * areas sorted, disjoint, inside the vmalloc range, each with its guard page
 * and its pages; accesses past an area hit the guard and are reported.
 */
#include "fuzzer.h"

const char *ra_fuzz_target = "fuzz_vmalloc";
const char *ra_fuzz_profile = "vmalloc";
int FuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int FuzzerTestOneInput(const uint8_t *buf, size_t len) { return ra_fuzz_replay(buf, len, ra_fuzz_profile); }
void FuzzerCleanup(void) {}
