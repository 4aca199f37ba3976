/*
 * fuzz_buddy — the page allocator alone.
 *
 * Property: alloc_pages/free_pages of every order and GFP class, per-cpu
 * lists on several cpus, watermark and reserve knobs, balloons and injected
 * failures keep the buddy structures exact (every frame in one block, free
 * lists and counts consistent, free buddies merged where the kernel merges
 * them), and a freed block is never handed out twice.
 */
#include "fuzzer.h"

const char *ra_fuzz_target = "fuzz_buddy";
const char *ra_fuzz_profile = "buddy";
int FuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int FuzzerTestOneInput(const uint8_t *buf, size_t len) { return ra_fuzz_replay(buf, len, ra_fuzz_profile); }
void FuzzerCleanup(void) {}
