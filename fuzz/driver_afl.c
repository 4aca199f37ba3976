/*
 * driver_afl.c — AFL++ persistent mode with shared-memory test cases.
 *
 * Built with afl-clang-fast (and, for the CMPLOG instance, AFL_LLVM_CMPLOG=1).
 * The machine is created and destroyed per input by the target, so nothing
 * leaks between iterations of the persistent loop. Run without afl-fuzz, it
 * reads one input from a file argument or standard input.
 */
#include "fuzzer.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

int main(int argc, char **argv)
{
	FuzzerInitialize(&argc, &argv);
#ifdef __AFL_FUZZ_TESTCASE_LEN
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(10000)) {
		size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
		FuzzerTestOneInput(buf, len);
	}
#else
	static unsigned char buf[1 << 20];
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	size_t len = fread(buf, 1, sizeof(buf), f);
	FuzzerTestOneInput(buf, len);
#endif
	FuzzerCleanup();
	return 0;
}
