# refalloc — the one entry point for every job. `make help` lists them.
#
# Builds go through mk/build.mk, one variant at a time:
#   build/release  (make)         -O2, checks per --check
#   build/debug    (make debug)   -O0, incremental invariants on by default
#   build/asan     (make asan)    ASan+UBSan
# Any other compiler: make CC=clang [debug|asan] -> build/clang-<variant>

SHELL    := /bin/bash
BUILD    := $(MAKE) --no-print-directory -f mk/build.mk
JOBS     ?= 2

.DEFAULT_GOAL := release
.PHONY: help release debug asan clang all-variants test run deps bench-micro clean
.PHONY: fuzz fuzz-campaign corpus-merge fuzz-selftest fuzz-build

help: ## list every job
	@echo "refalloc — make targets:"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-18s %s\n", $$1, $$2}'

release: ## build the release variant (build/release: librefalloc.a, refalloc, unit tests)
	@$(BUILD) -j$(JOBS) V=release all

debug: ## build the debug variant (build/debug, -O0, invariants per operation)
	@$(BUILD) -j$(JOBS) V=debug all

asan: ## build the ASan+UBSan variant (build/asan)
	@$(BUILD) -j$(JOBS) V=asan all

clang: ## build the release variant with clang (build/clang-release)
	@$(BUILD) -j$(JOBS) V=release CC=clang all

deps: ## install missing Debian packages (idempotent; root or sudo)
	@ci/deps.sh

test: ## the CI regression run: deps, builds, unit tests, golden corpus, determinism, ...
	@ci/deps.sh
	@ci/test.sh

run: ## the main job on a fresh machine: build, replay the corpus with full checks, summary
	@ci/deps.sh
	@ci/run.sh

bench-micro: release ## ns per operation of the engine's hot paths; umalloc vs glibc/jemalloc/mimalloc/tcmalloc
	@$(BUILD) V=release bench-micro-bin
	@build/release/bench/micro
	@echo
	@echo "malloc+free: umalloc (simulated and LD_PRELOAD) against the system's allocators"
	@engine/umalloc/tests/compare.sh build/release

.PHONY: bench bench-compare bench-check
bench: ## allocators on real and generated traces, kernel metrics, knob sweeps -> out/bench/report.md
	@$(BUILD) -j$(JOBS) V=release lib tool bench-bin
	@$(BUILD) V=release build/release/librefalloc_malloc.so >/dev/null || echo "bench: librefalloc_malloc.so did not build; refalloc is left out"
	@build/release/refalloc bench run --out out/bench; rc=$$?; python3 bench/report.py out/bench; exit $$rc

bench-compare: ## hyperfine time of the replay per allocator, relative to glibc, folded into out/bench/report.md
	@$(BUILD) -j$(JOBS) V=release lib tool bench-bin
	@bench/compare.sh out/bench && python3 bench/report.py out/bench

bench-check: ## regression gate: callgrind instructions and engine figures vs bench/baseline.json
	@$(BUILD) -j$(JOBS) V=release lib tool bench-tool
	@bench/gate.sh

fuzz-build: ## build every fuzz target three ways: libFuzzer, AFL++ (+CMPLOG, +ASan), -test drivers
	@$(BUILD) -j$(JOBS) V=libfuzzer lib fuzz-bins
	@$(BUILD) -j$(JOBS) V=afl lib fuzz-bins
	@$(BUILD) -j$(JOBS) V=cmplog lib fuzz-bins
	@$(BUILD) fuzz-aflasan
	@$(BUILD) -j$(JOBS) V=release lib tool fuzz-tests

fuzz: ## short fuzz of every target (FUZZ_TIME=60 s each, FUZZ_ENGINE=libfuzzer|afl): execs/s, coverage, findings
	@fuzz/run.py $(FUZZ_TARGETS)

fuzz-campaign: ## long parallel resumable campaign: DURATION=8h JOBS=N ENGINE=afl|libfuzzer|both [CAMPAIGN=name]
	@DURATION=$(or $(DURATION),8h) JOBS=$(or $(FUZZ_JOBS),$(JOBS)) ENGINE=$(or $(ENGINE),afl) fuzz/campaign.py

corpus-merge: ## fold a campaign's findings into corpus/<target>/ (FROM=out/fuzz/<campaign>; libFuzzer -merge=1)
	@fuzz/corpus-merge.py $(FROM)

fuzz-selftest: ## bug-finding power: fuzz 16 injected bugs (-DRA_MUTANT=n), time to detection table
	@fuzz/selftest.py

.PHONY: leakcheck
leakcheck: ## leaks: engine report vs Valgrind vs LSan on corpus/leak; misuse under ASan and slub_debug; harness clean
	@leakcheck/leakcheck.py -j$(JOBS)

clean: ## remove build/ and out/
	rm -rf build out
