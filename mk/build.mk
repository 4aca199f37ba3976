# mk/build.mk — how one build variant is made. The top-level Makefile calls
# this with V=release|debug|asan (and any CC); every object of a variant goes
# under $(B) so variants and compilers never mix.
#
# Fragments from other folders (engine/umalloc/umalloc.mk, fuzz/fuzz.mk, ...)
# are included at the end; they add their own targets using $(B), $(CFLAGS),
# $(LIB) and the pattern rule for objects.

V        ?= release
CC       ?= gcc
ifeq ($(origin CC),default)
CC       := gcc
endif
# the fuzzing variants bring their own compiler and folder
ifeq ($(V),libfuzzer)
CC       := clang
B        ?= build/libfuzzer
else ifeq ($(V),afl)
CC       := afl-clang-fast
B        ?= build/afl
else ifeq ($(V),cmplog)
CC       := AFL_LLVM_CMPLOG=1 AFL_QUIET=1 afl-clang-fast
B        ?= build/cmplog
endif
CCNAME   := $(notdir $(firstword $(CC)))
# gcc builds go to build/<variant>; any other compiler to build/<cc>-<variant>
ifeq ($(CCNAME),gcc)
B        ?= build/$(V)
else
B        ?= build/$(CCNAME)-$(V)
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASE     := -std=c11 -D_GNU_SOURCE -fPIC -Iengine/include -Iengine/src $(WARN)

ifeq ($(V),release)
OPT      := -O2 -g -DNDEBUG
else ifeq ($(V),debug)
OPT      := -O0 -g3 -DRA_DEBUG=1
else ifeq ($(V),asan)
OPT      := -O1 -g -DRA_DEBUG=1 -DRA_ASAN=1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANLD    := -fsanitize=address,undefined
else ifeq ($(V),libfuzzer)
OPT      := -O1 -g -DRA_DEBUG=1 -DRA_ASAN=1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
SANLD    := -fsanitize=address,undefined
else ifneq ($(filter afl cmplog,$(V)),)
OPT      := -O2 -g -DRA_DEBUG=1
else
$(error unknown variant V=$(V): use release, debug, asan, libfuzzer, afl or cmplog)
endif

CFLAGS   := $(BASE) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS  := $(SANLD) $(EXTRA_LDFLAGS)
LDLIBS   := -lm -lpthread -ldl

ENGINE_SRCS := $(sort $(wildcard engine/src/*.c))
ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(B)/%.o)
LIB         := $(B)/librefalloc.a
TOOL        := $(B)/refalloc
UNIT_SRCS   := $(sort $(wildcard engine/tests/test_*.c))
UNIT_BINS   := $(UNIT_SRCS:engine/tests/%.c=$(B)/tests/%)

# Fragments add objects to the library (ENGINE_EXTRA_OBJS) and their own
# targets; they are read before the library rule so their objects count.
ENGINE_EXTRA_OBJS :=
ALL_EXTRA :=
-include $(sort $(wildcard engine/*/*.mk fuzz/*.mk bench/*.mk leakcheck/*.mk))

# REFALLOC_LEAKS (engine/umalloc/leaks.c, part of librefalloc_malloc.so):
# its unit test includes leaks.c; um_leaks_cost measures ns per malloc/free
# pair under LD_PRELOAD with and without the report.
LK_TEST := $(B)/umalloc-tests/um_test_leaks
LK_COST := $(B)/umalloc-tests/um_leaks_cost
ALL_EXTRA += $(LK_TEST) $(LK_COST)
umalloc-test: $(LK_TEST)
$(LK_TEST): engine/umalloc/tests/um_test_leaks.c engine/umalloc/leaks.c engine/umalloc/leaks.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iengine/umalloc -o $@ $< $(LDFLAGS) $(LDLIBS)
$(LK_COST): engine/umalloc/tests/um_leaks_cost.c
	@mkdir -p $(@D)
	$(CC) $(filter-out -O0 -O1 -fsanitize=% -fno-sanitize-recover=% -DRA_ASAN=1,$(CFLAGS)) -O2 -o $@ $<

# The user side of the engine is umalloc's simulated world: its sources see
# the UM_SIM back end, and umalloc's UM_SIM object joins the library.
ENGINE_EXTRA_OBJS += $(UMALLOC_SIM_OBJ)
UM_SIM_USERS := $(patsubst %,$(B)/engine/src/%.o,um_sim views check replay_user oracle leak inspect)
$(UM_SIM_USERS): CFLAGS += -DUM_SIM -Iengine/umalloc

.PHONY: all lib tool unit
all: lib tool unit $(ALL_EXTRA)
lib: $(LIB)
tool: $(TOOL)
unit: $(UNIT_BINS)

# libFuzzer: no CMP tracing in the address-space code and the validators.
# Their page-table walks and VMA searches compare in tight loops that took
# half of fuzz_engine's time traced, for comparisons no input byte feeds
# directly (the decoder already aims sizes at the class boundaries; the
# parsers, slab, buddy and umalloc keep it, and so does AFL++'s CMPLOG).
ifeq ($(V),libfuzzer)
$(patsubst %,$(B)/engine/src/%.o,mm mmap fork um_sim check): CFLAGS += -fno-sanitize-coverage=trace-cmp
endif

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(ENGINE_OBJS) $(ENGINE_EXTRA_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

TOOL_SRCS := $(sort $(wildcard engine/tool/*.c))
$(TOOL): $(TOOL_SRCS:%.c=$(B)/%.o) $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/tests/%: $(B)/engine/tests/%.o $(B)/engine/tests/unit.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
# Tests of the user side see umalloc's simulated world too.
$(B)/engine/tests/test_user_stress.o: CFLAGS += -DUM_SIM -Iengine/umalloc
