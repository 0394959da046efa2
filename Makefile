# The two commands: `make run` and `make test`. Everything else is a step of
# theirs that can also be run alone.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
PORT ?= 8080
BUILD := build
BUILD_ASAN := build-asan
CMAKE_COMMON := -G Ninja -DKILN_TESTS=ON
# Unit suites the Release build compiles: no-asan (only those the ASan build
# cannot run; every other suite runs under ASan + UBSan), or all.
RELEASE_TESTS ?= no-asan
RELEASE_TESTS_FLAG := -DKILN_TESTS_ONLY_LABEL=$(if $(filter all,$(RELEASE_TESTS)),,$(RELEASE_TESTS))
PYTEST := .venv/bin/python -m pytest

.PHONY: run test setup build build-asan unit unit-asan fuzz e2e bench format clean

run: setup build
	./$(BUILD)/kiln serve --port $(PORT)

test: setup build build-asan
	$(MAKE) --no-print-directory unit unit-asan fuzz e2e

setup:
	@scripts/setup.sh

# Release build: the binary users run, and what the e2e suite starts.
build:
	@cmake -S . -B $(BUILD) $(CMAKE_COMMON) $(RELEASE_TESTS_FLAG) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# One clang build with ASan + UBSan for both the unit tests and the libFuzzer
# targets (one compile of the libraries instead of two). -O1 and line tables
# only: it compiles faster and still gives symbolized stack traces.
build-asan:
	@cmake -S . -B $(BUILD_ASAN) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
	  -DKILN_SANITIZE=ON -DKILN_FUZZ=ON -DKILN_TESTS_ONLY_LABEL= >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

unit-asan:
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -LE no-asan

# libFuzzer targets (clang from Debian, built by build-asan), each run briefly
# on its seed corpus.
fuzz: build-asan
	@FUZZ_JOBS=$(JOBS) tests/fuzz/run.sh $(BUILD_ASAN)

e2e: build
	@if ls tests/e2e/test_*.py >/dev/null 2>&1; then \
	  KILN_BIN=$(CURDIR)/$(BUILD)/kiln $(PYTEST) tests/e2e; fi

bench:
	@cmake -S . -B $(BUILD) $(CMAKE_COMMON) $(RELEASE_TESTS_FLAG) -DCMAKE_BUILD_TYPE=Release -DKILN_BENCH=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format-14 -i

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
