# bench/bench.mk — benchmark programs (included by mk/build.mk).
BENCH_MICRO := $(B)/bench/micro
.PHONY: bench-micro-bin
bench-micro-bin: $(BENCH_MICRO)
$(BENCH_MICRO): $(B)/bench/micro.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
ALL_EXTRA += $(BENCH_MICRO)
