# Councilnet: convenience targets around CMake. Each installs the Debian
# packages it needs first (.ci/deps), so they work on a fresh machine.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCN_WERROR=ON

.PHONY: all deps build test demo asan bench check-valgrind fuzz clean

# Unit tests run under valgrind directly; the tests that start councild run
# it under valgrind through tests/valgrind-councild.sh.
VALGRIND = valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
UNIT_TESTS = test_crypto test_record test_log test_store test_rules test_pbjson test_sortition \
             test_config test_budget test_pabulib
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

clean:
	rm -rf $(BUILD) build-asan build-valgrind build-bench build-fuzz
