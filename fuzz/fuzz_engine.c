/*
 * fuzz_engine — the whole stack at once.
 *
 * Property: for any byte string, the decoded trace (kernel and user side,
 * knobs, fault injection, balloons, deliberate misuse) replays with every
 * invariant holding after every operation and at the end, and the oracle's
 * shadow of the live objects agreeing with the engine: no overlap, contents
 * intact, zeroing and alignment kept, double/invalid frees caught.
 */
#include "fuzzer.h"

const char *ra_fuzz_target = "fuzz_engine";
const char *ra_fuzz_profile = "engine";
int FuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int FuzzerTestOneInput(const uint8_t *buf, size_t len) { return ra_fuzz_replay(buf, len, ra_fuzz_profile); }
void FuzzerCleanup(void) {}
