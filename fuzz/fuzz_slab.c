/*
 * fuzz_slab — SLUB caches and kmalloc.
 *
 * Property: kmalloc of every size class, caches of any size, alignment and
 * debug flags, shrink and destroy, per-cpu slabs on several cpus, writes in
 * and out of bounds and after free: each slab's in-use and free objects add
 * up, no object is handed out twice, corrupt free pointers and red zones are
 * reported and repaired, never followed.
 */
#include "fuzzer.h"

const char *ra_fuzz_target = "fuzz_slab";
const char *ra_fuzz_profile = "slab";
int FuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int FuzzerTestOneInput(const uint8_t *buf, size_t len) { return ra_fuzz_replay(buf, len, ra_fuzz_profile); }
void FuzzerCleanup(void) {}
