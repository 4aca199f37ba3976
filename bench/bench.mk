# bench/bench.mk — benchmark programs (included by mk/build.mk).
#
#   $(B)/bench/micro              make bench-micro: ns per engine hot path
#   $(B)/libbench.a               the bench library: generators, the samplers on
#                                 ra_replay's hook, metrics, outputs
#   $(B)/refalloc-bench           `refalloc bench ...` (the refalloc tool runs it in
#                                 its place): the library, the allocator registry and
#                                 child processes, the runner, sweeps, the suite
#   $(B)/bench/driver             the replay driver, run under LD_PRELOAD per allocator
#   $(B)/bench/conform            the conformance pass, same loading path
#   $(B)/librefalloc_record.so    LD_PRELOAD recorder of a program's malloc calls
#
# Everything here is a client of the engine's public headers (engine/include)
# and of librefalloc.a; the engine builds nothing of bench/.
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
BENCH_TOOL_SRCS := bench/main.c bench/allocs.c bench/runner.c bench/sweep.c bench/suite.c bench/fit.c
BENCH_TOOL_OBJS := $(BENCH_TOOL_SRCS:%.c=$(B)/%.o)
BENCH_TOOL     := $(B)/refalloc-bench
BENCH_DRIVER   := $(B)/bench/driver
BENCH_CONFORM  := $(B)/bench/conform
BENCH_RECORD   := $(B)/librefalloc_record.so

# bench/ is a client of the engine's public headers (engine/include) only:
# its objects are compiled without engine/src on the include path
$(BENCH_LIB_OBJS) $(BENCH_TOOL_OBJS) $(B)/bench/micro.o: CFLAGS := $(filter-out -Iengine/src,$(CFLAGS))

$(BENCH_LIB): $(BENCH_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BENCH_TOOL): $(BENCH_TOOL_OBJS) $(BENCH_LIB) $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

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

ALL_EXTRA += $(BENCH_LIB) $(BENCH_TOOL) $(BENCH_DRIVER) $(BENCH_CONFORM) $(BENCH_RECORD)

# `refalloc bench`; and everything it runs
.PHONY: bench-tool
bench-tool: $(BENCH_TOOL)
bench-bin: $(TOOL) $(BENCH_TOOL) $(BENCH_DRIVER) $(BENCH_CONFORM) $(BENCH_RECORD)
