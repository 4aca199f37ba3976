# bench/bench.mk — benchmark programs (included by mk/build.mk).
#
#   $(B)/bench/micro              make bench-micro: ns per engine hot path
#   $(B)/libbench.a               the bench library linked into the refalloc tool
#                                 (`refalloc bench ...`): generators, the engine's
#                                 stepping executor, metrics, outputs
#   $(B)/bench/driver             the replay driver, run under LD_PRELOAD per allocator
#   $(B)/bench/conform            the conformance pass, same loading path
#   $(B)/librefalloc_record.so    LD_PRELOAD recorder of a program's malloc calls
#
# The driver, the conformance pass and the recorder run inside other
# allocators' processes: no sanitizer runtime, always -O2, and the compiler
# must not turn their code into calls to the malloc they measure.
BENCH_MICRO := $(B)/bench/micro
.PHONY: bench-micro-bin bench-bin
bench-micro-bin: $(BENCH_MICRO)
$(BENCH_MICRO): $(B)/bench/micro.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
ALL_EXTRA += $(BENCH_MICRO)

BENCH_LIB_SRCS := bench/rng.c bench/gen.c bench/metrics.c bench/esim.c bench/prog.c bench/output.c bench/progress.c
BENCH_LIB_OBJS := $(BENCH_LIB_SRCS:%.c=$(B)/%.o)
BENCH_LIB      := $(B)/libbench.a
BENCH_DRIVER   := $(B)/bench/driver
BENCH_CONFORM  := $(B)/bench/conform
BENCH_RECORD   := $(B)/librefalloc_record.so

# bench/ is a client of the engine's public headers (engine/include) only:
# its objects are compiled without engine/src on the include path
$(BENCH_LIB_OBJS) $(B)/bench/micro.o: CFLAGS := $(filter-out -Iengine/src,$(CFLAGS))
$(B)/engine/tool/cmd_bench.o $(B)/engine/tool/cmd_import.o: CFLAGS += -Ibench

$(BENCH_LIB): $(BENCH_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# the tool links the bench library (before the engine it uses)
$(TOOL): $(BENCH_LIB)
$(TOOL): LDLIBS := $(BENCH_LIB) $(LIB) $(LDLIBS)

BENCH_HOST_FLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=% -DRA_ASAN=1 -DRA_DEBUG=1 -O0 -O1 -g3,$(CFLAGS)) \
                    -O2 -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc

$(BENCH_DRIVER): bench/driver.c bench/prog.h bench/timer.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_HOST_FLAGS) -o $@ $< -lpthread

$(BENCH_CONFORM): bench/conform.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_HOST_FLAGS) -o $@ $< -lpthread -ldl

$(BENCH_RECORD): bench/record.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_HOST_FLAGS) -fvisibility=hidden -ftls-model=initial-exec -shared -o $@ $< -ldl -lpthread

ALL_EXTRA += $(BENCH_LIB) $(BENCH_DRIVER) $(BENCH_CONFORM) $(BENCH_RECORD)

# everything `refalloc bench` runs
bench-bin: $(TOOL) $(BENCH_DRIVER) $(BENCH_CONFORM) $(BENCH_RECORD)
