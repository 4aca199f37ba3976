/*
 * driver_libfuzzer.c — libFuzzer's entry points onto the target contract.
 */
#include "fuzzer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv) { return FuzzerInitialize(argc, argv); }
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len) { return FuzzerTestOneInput(buf, len); }
