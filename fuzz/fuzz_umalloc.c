/*
 * fuzz_umalloc — tasks and their malloc.
 *
 * Property: the malloc family with every mallopt knob, threads, fork,
 * mmap/munmap/brk, overcommit modes and the OOM killer keep umalloc's heap
 * consistent (glibc's do_check_* rules), the address spaces and page tables
 * exact, and every block intact, aligned and as large as asked.
 */
#include "fuzzer.h"

const char *ra_fuzz_target = "fuzz_umalloc";
const char *ra_fuzz_profile = "umalloc";
int FuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int FuzzerTestOneInput(const uint8_t *buf, size_t len) { return ra_fuzz_replay(buf, len, ra_fuzz_profile); }
void FuzzerCleanup(void) {}
