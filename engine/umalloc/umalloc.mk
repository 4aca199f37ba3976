# engine/umalloc/umalloc.mk — umalloc, the ptmalloc-like malloc (included by
# mk/build.mk).  One source, two worlds:
#   UM_SIM : $(B)/engine/umalloc/umalloc_sim.o  (linked into librefalloc through
#            ENGINE_EXTRA_OBJS; its back end is engine/src/um_sim.c)
#   UM_HOST: $(B)/librefalloc_malloc.so          (LD_PRELOAD drop-in)
# plus tests under $(B)/umalloc-tests/ and `make -f mk/build.mk umalloc-test`.

UM_DIR          := engine/umalloc
UMALLOC_SIM_SRC := $(UM_DIR)/umalloc.c
UM_DEPS         := $(wildcard $(UM_DIR)/*.c $(UM_DIR)/*.h)
UM_TDIR         := $(B)/umalloc-tests
UM_SO           := $(B)/librefalloc_malloc.so
UMALLOC_SIM_OBJ := $(B)/engine/umalloc/umalloc_sim.o

# The preloaded library, the stress test and the benchmark run inside other
# programs' processes: no sanitizer runtime, and the compiler must not turn
# our own code into calls to malloc.
UM_NOSAN   := $(filter-out -fsanitize=% -fno-sanitize-recover=% -DRA_ASAN=1,$(CFLAGS))
UM_SO_FLAGS := $(UM_NOSAN) -I$(UM_DIR) -fvisibility=hidden -ftls-model=initial-exec \
               -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc
UM_TOOL_FLAGS := $(filter-out -O0 -O1,$(UM_NOSAN)) -O2

UM_TESTS := $(UM_TDIR)/um_test_sim $(UM_TDIR)/um_test_host $(UM_TDIR)/um_stress \
            $(UM_TDIR)/um_bench $(UM_TDIR)/um_bench_sim $(UM_TDIR)/um_icount $(UM_TDIR)/um_probe

ALL_EXTRA += $(UMALLOC_SIM_OBJ) $(UM_SO) $(UM_TESTS)

.PHONY: umalloc umalloc-test
umalloc: $(UMALLOC_SIM_OBJ) $(UM_SO) $(UM_TESTS)

$(UMALLOC_SIM_OBJ): $(UMALLOC_SIM_SRC) $(UM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DUM_SIM -I$(UM_DIR) -c $< -o $@

$(UM_SO): $(UM_DIR)/preload.c $(UM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(UM_SO_FLAGS) -shared -o $@ $< -lpthread

$(UM_TDIR)/um_test_sim: $(UM_DIR)/tests/um_test_sim.c $(UM_DIR)/tests/um_fake.c $(UM_DIR)/tests/um_fake.h $(UMALLOC_SIM_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DUM_SIM -I$(UM_DIR) -I$(UM_DIR)/tests -o $@ \
	    $(UM_DIR)/tests/um_test_sim.c $(UM_DIR)/tests/um_fake.c $(UMALLOC_SIM_OBJ) $(LDFLAGS) $(LDLIBS)

$(UM_TDIR)/um_test_host: $(UM_DIR)/tests/um_test_host.c $(UM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DUM_HOST -I$(UM_DIR) -o $@ $(UM_DIR)/tests/um_test_host.c \
	    $(UM_DIR)/umalloc.c $(UM_DIR)/um_host.c $(LDFLAGS) $(LDLIBS)

$(UM_TDIR)/um_stress: $(UM_DIR)/tests/um_stress.c
	@mkdir -p $(@D)
	$(CC) $(UM_TOOL_FLAGS) -o $@ $< -lpthread

$(UM_TDIR)/um_bench: $(UM_DIR)/tests/um_bench.c $(UM_DIR)/tests/um_work.h
	@mkdir -p $(@D)
	$(CC) $(UM_TOOL_FLAGS) -o $@ $< -lpthread

# The same workloads one at a time, for callgrind (tests/icount.sh).
$(UM_TDIR)/um_icount: $(UM_DIR)/tests/um_icount.c $(UM_DIR)/tests/um_work.h
	@mkdir -p $(@D)
	$(CC) $(UM_TOOL_FLAGS) -o $@ $< -lpthread

# The same workloads on umalloc in the engine's simulated world.
$(UM_TDIR)/um_bench_sim: $(UM_DIR)/tests/um_bench_sim.c $(UM_DIR)/tests/um_work.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DUM_SIM -I$(UM_DIR) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(UM_TDIR)/um_probe: $(UM_DIR)/tests/um_probe.c
	@mkdir -p $(@D)
	$(CC) $(UM_TOOL_FLAGS) -o $@ $< -lpthread

umalloc-test: $(UMALLOC_SIM_OBJ) $(UM_SO) $(UM_TESTS)
	@$(UM_DIR)/tests/run.sh $(B)
