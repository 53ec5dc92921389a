# linux-cr: the two commands are `make demo` and `make test`; the rest are steps.
FLAVOUR ?= debug
# The suite runs on the cheap-checks kernel, then again on full KASAN.
TEST_FLAVOURS ?= debug kasan
PYTHON := /usr/bin/python3
BZIMAGE = build/kernel-$(1)/arch/x86/boot/bzImage

.PHONY: all deps prepare headers kernel kernels cr-tool workloads unit fuzz test demo export clean

all: cr-tool workloads kernel

deps:
	ci/install-deps.sh

# linux-cr/ follows kernel-patches/: recreated when the series changed, kept otherwise.
prepare: deps
	ci/kernel.sh prepare

headers: prepare
	ci/kernel.sh headers

kernel: prepare
	ci/kernel.sh build $(FLAVOUR)

kernels: prepare
	for f in $(TEST_FLAVOURS); do ci/kernel.sh build $$f || exit 1; done

cr-tool: headers
	cmake -S user/cr-tool -B build/cr-tool -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/cr-tool -j$$(nproc)

workloads:
	$(MAKE) -s -C tests/workloads

unit: cr-tool
	ctest --test-dir build/cr-tool --output-on-failure

# The image reader under libFuzzer with ASan and UBSan, for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz: headers
	CC=clang CXX=clang++ cmake -S user/cr-tool -B build/fuzz -DCR_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/fuzz -j$$(nproc) --target image-fuzzer write-seeds
	ci/fuzz.sh $(FUZZ_SECONDS)

# Builds what is missing, runs the unit tests and a short fuzz run, then boots one VM per flavour and runs the suite.
test: kernels cr-tool workloads unit fuzz
	CR_TEST_FLAVOURS="$(TEST_FLAVOURS)" $(PYTHON) -m pytest -p no:cacheprovider -v -s tests/test_vm.py

demo: prepare cr-tool workloads
	ci/kernel.sh build plain
	ci/demo.sh

export:
	ci/kernel.sh export

clean:
	rm -rf build
