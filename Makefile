# Councilnet: convenience targets around CMake. Each installs the Debian
# packages it needs first (.ci/deps), so they work on a fresh machine.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCN_WERROR=ON

.PHONY: all deps build test demo asan bench check-valgrind fuzz clean

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

clean:
	rm -rf $(BUILD) build-asan
