/*
 * fuzzer.h — the contract between a fuzz target and its drivers.
 *
 * Each target (fuzz_*.c) implements these three functions; one of three
 * drivers maps them onto a fuzzer:
 *   driver_libfuzzer.c   LLVMFuzzerTestOneInput (clang -fsanitize=fuzzer)
 *   driver_afl.c         AFL++ persistent mode with shared-memory test cases
 *   driver_test.c        a plain <target>-test that replays corpus files
 *                        (no fuzzer; it runs inside `make test`)
 * A target signals a finding by aborting (after printing what it found);
 * it never exits.
 */
#ifndef RA_FUZZER_H
#define RA_FUZZER_H

#include <stddef.h>
#include <stdint.h>

int  FuzzerInitialize(int *argc, char ***argv);
int  FuzzerTestOneInput(const uint8_t *buf, size_t len);
void FuzzerCleanup(void);

/* fuzz_common.c: decode buf with a profile, replay it as `refalloc replay
 * --fuzz` would (oracle, per-operation invariants, a full walk at the end,
 * misuse reports allowed) and abort on a finding. */
int ra_fuzz_replay(const uint8_t *buf, size_t len, const char *profile);
/* The same on a trace at hand (takes it over): what `<target>-test FILE.trace`
 * runs on a text reproducer. */
struct ra_trace;
int ra_fuzz_check(struct ra_trace *t);
/* The name of the target, for messages and reproducer commands, and its
 * binary-trace profile (NULL for fuzz_trace_text, whose inputs are text). */
extern const char *ra_fuzz_target;
extern const char *ra_fuzz_profile;

#endif
