# Councilnet: convenience targets around CMake. Each installs the Debian
# packages it needs first (.ci/deps), so they work on a fresh machine.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCN_WERROR=ON

.PHONY: all deps build test demo asan tsan bench check-valgrind fuzz clean

# Unit tests run under valgrind directly; the tests that start councild run
# it under valgrind through tests/valgrind-councild.sh.
VALGRIND = valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
UNIT_TESTS = test_crypto test_record test_log test_store test_rules test_pbjson test_sortition \
             test_config test_budget test_pabulib test_receipt test_safeout
NODE_TESTS = test_badinput test_delegates test_federation

all: build

deps:
	@sh .ci/deps

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@python3 tests/demo.py $(BUILD)

asan: deps
	@cmake -S . -B build-asan -DCN_WERROR=ON -DCN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS)

# The tests that drive councild's threads (worker pool, sync and checkpoint
# threads), with councild and the tests under ThreadSanitizer: a race
# report makes the process exit 66, which fails the test.
TSAN_TESTS = test_pool|test_pipeline|test_badinput|test_federation|test_fed_outage|test_crash|test_vfs
tsan: deps
	@cmake -S . -B build-tsan -DCN_WERROR=ON -DCN_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS="exitcode=66 halt_on_error=1" CN_CRASH_KILLS=20 \
	  ctest --output-on-failure -j$(JOBS) -R '^($(TSAN_TESTS))$$'

check-valgrind: deps
	@which valgrind >/dev/null || (sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq valgrind)
	@cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-valgrind -j$(JOBS)
	@set -e; for t in $(UNIT_TESTS); do echo "== valgrind $$t"; \
	  $(VALGRIND) build-valgrind/tests/$$t >/dev/null; done
	@set -e; for t in $(NODE_TESTS); do echo "== valgrind councild in $$t"; \
	  CN_COUNCILD_REAL=$$PWD/build-valgrind/councild CN_COUNCILD=$$PWD/tests/valgrind-councild.sh \
	  CN_COUNCIL=$$PWD/build-valgrind/council build-valgrind/tests/$$t >/dev/null; done
	@echo "valgrind: no errors, no leaks"

# Benchmarks (bench/, not tests): a Release build of their own in
# build-bench, then every bench in turn. The 1,000,000-entry log is built
# once (bench_verify) and copied by bench_memory through CN_BENCH_CACHE;
# the copy is removed afterwards. CN_BENCH_SCALE=0.1 makes a quick run.
bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-bench -j$(JOBS)
	@rm -rf build-bench/bench-cache && mkdir -p build-bench/bench-cache
	@CN_BENCH_CACHE=$(CURDIR)/build-bench/bench-cache cmake --build build-bench --target bench; \
	  rc=$$?; rm -rf build-bench/bench-cache; exit $$rc

# libFuzzer smoke test (fuzz/): a clang build with ASan+UBSan in
# build-fuzz, then each harness runs FUZZ_SECONDS (default 20) over its seed
# corpus; new inputs stay in build-fuzz/fuzz/smoke, crashes fail the target.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCN_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
	  -DCN_FUZZ_SECONDS=$(or $(FUZZ_SECONDS),20) >/dev/null
	@cmake --build build-fuzz --target fuzz_smoke -j$(JOBS)

clean:
	rm -rf $(BUILD) build-asan build-valgrind build-bench build-fuzz
