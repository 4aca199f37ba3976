# fuzz/fuzz.mk — fuzz targets, each built from one source three ways:
#   $(B)/fuzz/<target>-test       plain corpus replay (any variant; runs in make test)
#   build/libfuzzer/<target>      clang -fsanitize=fuzzer,address,undefined (V=libfuzzer)
#   build/afl/<target>            afl-clang-fast persistent mode (V=afl), build/cmplog/ (V=cmplog)
FUZZ_TARGETS := fuzz_engine fuzz_buddy fuzz_slab fuzz_vmalloc fuzz_umalloc fuzz_trace_text
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

.PHONY: fuzz-bins fuzz-tests
fuzz-bins: $(FUZZ_BINS)
fuzz-tests: $(FUZZ_TESTS)
ALL_EXTRA += $(FUZZ_TESTS) $(FUZZ_BINS)
