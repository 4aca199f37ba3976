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

bench-micro: release ## ns per operation of the engine's hot paths (median of runs)
	@$(BUILD) V=release bench-micro-bin
	@build/release/bench/micro

clean: ## remove build/ and out/
	rm -rf build out
