/*
 * fuzz_pressure — files, the page cache and reclaim under memory pressure.
 *
 * Property: on 16..64 MiB machines, files on disk and on tmpfs read,
 * written, synced, truncated, unlinked, invalidated and dropped at page and
 * readahead-window boundaries, and mapped private or shared (faulted,
 * written, msync'd, unmapped, inherited by fork), among kernel
 * allocations, balloons and tasks touching memory, with the simulated
 * clock advanced by `sleep` (the flusher), the dirty-limit, shrinker and
 * watermark-boost knobs turned and writeback I/O errors injected, replay
 * with every invariant holding after every operation and at the end,
 * whatever direct reclaim, kswapd and the OOM killer do; and nothing is
 * lost: every file reads back, after every fread and peek and at the end,
 * the bytes the trace left in it (the oracle's shadow of each file), or,
 * for a page whose writeback failed, the disk's older bytes; and every
 * file mapping reads as its file where it maps page-cache pages.
 */
#include "fuzzer.h"

const char *ra_fuzz_target = "fuzz_pressure";
const char *ra_fuzz_profile = "pressure";
int FuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int FuzzerTestOneInput(const uint8_t *buf, size_t len) { return ra_fuzz_replay(buf, len, ra_fuzz_profile); }
void FuzzerCleanup(void) {}
