# fuzz/fuzz.mk — fuzz targets, each built from one source three ways:
#   $(B)/fuzz/<target>-test       plain corpus replay (any variant; runs in make test)
#   build/libfuzzer/<target>      clang -fsanitize=fuzzer,address,undefined (V=libfuzzer)
#   build/afl/<target>            afl-clang-fast persistent mode (V=afl), build/cmplog/ (V=cmplog)
#   build/aflasan/<target>        the AFL++ build with ASan (AFL_USE_ASAN=1): `make -f mk/build.mk fuzz-aflasan`
#   $(B)/fuzz/failnth             allocation-failure replay of text traces (any variant)
# The targets are fuzz/targets' first column (the one list; comments and
# blank lines skipped); each must have its source fuzz/<target>.c.
FUZZ_TARGETS := $(shell awk '$$1 !~ /^\#/ && NF { print $$1 }' fuzz/targets)
ifeq ($(strip $(FUZZ_TARGETS)),)
$(error fuzz/targets lists no fuzz target (is the file there?))
endif
$(foreach t,$(FUZZ_TARGETS),$(if $(wildcard fuzz/$(t).c),,$(error fuzz/targets names $(t) but there is no fuzz/$(t).c)))
FUZZ_COMMON  := $(B)/fuzz/fuzz_common.o
FUZZ_TESTS   := $(FUZZ_TARGETS:%=$(B)/fuzz/%-test)

ifeq ($(V),libfuzzer)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/%)
$(B)/fuzz/%: $(B)/fuzz/%.o $(FUZZ_COMMON) $(B)/fuzz/driver_libfuzzer.o $(LIB)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS) $(LDLIBS)
else ifneq ($(filter afl cmplog,$(V)),)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/%)
$(B)/fuzz/%: $(B)/fuzz/%.o $(FUZZ_COMMON) $(B)/fuzz/driver_afl.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
else
FUZZ_BINS :=
endif

$(B)/fuzz/%-test: $(B)/fuzz/%.o $(FUZZ_COMMON) $(B)/fuzz/driver_test.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

FUZZ_FAILNTH := $(B)/fuzz/failnth
$(FUZZ_FAILNTH): $(B)/fuzz/failnth.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# The sanitizer instance of an AFL++ campaign: the afl variant's flags with
# ASan and the engine's ASan hooks, in its own folder.
.PHONY: fuzz-aflasan
AFLASAN_B ?= build/aflasan
fuzz-aflasan:
	AFL_USE_ASAN=1 AFL_QUIET=1 $(MAKE) --no-print-directory -f mk/build.mk V=afl B=$(AFLASAN_B) \
	    EXTRA_CFLAGS="-DRA_ASAN=1 -fno-omit-frame-pointer $(EXTRA_CFLAGS)" lib fuzz-bins

.PHONY: fuzz-bins fuzz-tests
fuzz-bins: $(FUZZ_BINS)
fuzz-tests: $(FUZZ_TESTS) $(FUZZ_FAILNTH)
ALL_EXTRA += $(FUZZ_TESTS) $(FUZZ_BINS) $(FUZZ_FAILNTH)
