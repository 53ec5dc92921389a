# linux-cr: the two commands are `make demo` and `make test`; the rest are steps.
FLAVOUR ?= debug
# The suite runs on the cheap-checks kernel, then again on full KASAN.
TEST_FLAVOURS ?= debug kasan
PYTHON := /usr/bin/python3

.PHONY: all deps prepare headers kernel kernels kernel-plain cr-tool workloads selftests unit fuzz fuzz-restart test demo \
	export clean \
	bench-build bench bench-smoke

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

# The demo and the benchmarks boot the plain kernel (base.config + plain.config).
kernel-plain: prepare
	ci/kernel.sh build plain

cr-tool: headers
	cmake -S user/cr-tool -B build/cr-tool -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/cr-tool -j$$(nproc)

workloads: headers
	$(MAKE) -s -C tests/workloads

# The series' kselftests (tools/testing/selftests/checkpoint), built against its uapi header; the guest
# suite runs them (tests/guest/test_selftests.py) and keeps their KTAP output.
selftests: headers
	mkdir -p build/selftests/checkpoint
	$(MAKE) -s -C linux-cr/tools/testing/selftests/checkpoint OUTPUT=$(CURDIR)/build/selftests/checkpoint \
		KHDR_INCLUDES="-isystem $(CURDIR)/build/uapi"

unit: cr-tool
	$(PYTHON) ci/check-docs.py
	ctest --test-dir build/cr-tool --output-on-failure

# The image reader under libFuzzer with ASan and UBSan, for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz: headers
	CC=clang CXX=clang++ cmake -S user/cr-tool -B build/fuzz -DCR_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/fuzz -j$$(nproc) --target image-fuzzer write-seeds
	ci/fuzz.sh $(FUZZ_SECONDS)

# The restart(2) mutation fuzzer alone, in one VM, for FUZZ_SECONDS (default an hour) on FLAVOUR.
fuzz-restart: kernel cr-tool workloads
	tests/fuzz-restart.sh $(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),3600) $(FLAVOUR)

# Builds what is missing, runs the unit tests, a short fuzz run and the benchmarks' smoke run (one plain
# VM, tiny sizes, both tools), then boots one VM per flavour and runs the suite. Results: pytest's
# summary, build/results/junit.xml (one case per guest test and flavour), and per flavour the guest's
# own JUnit XML, console log and the selftests' KTAP (build/results/FLAVOUR/).
#
# `make test BZIMAGE=PATH` runs the same guest suite against a kernel built elsewhere (kernel CI): it
# builds no kernel, only cr-tool, the workloads and the selftests, and boots PATH once (results in
# build/results/external/). BZIMAGE_APPEND adds to its command line (acpi=off for a KASAN kernel).
# The kernel needs the series and what the VM boots on: ci/config/base.config.
TEST_PYTEST = $(PYTHON) -m pytest -p no:cacheprovider -v -s tests/test_vm.py --junitxml=build/results/junit.xml
ifdef BZIMAGE
test: cr-tool workloads selftests unit
	test -f "$(BZIMAGE)" || { echo "BZIMAGE=$(BZIMAGE): no such kernel image" >&2; exit 1; }
	CR_BZIMAGE="$(abspath $(BZIMAGE))" CR_KERNEL_APPEND="$(BZIMAGE_APPEND)" CR_TEST_FLAVOURS=external \
		$(TEST_PYTEST)
else
test: kernels kernel-plain cr-tool workloads selftests unit fuzz bench-build
	$(PYTHON) bench/run.py --smoke
	CR_TEST_FLAVOURS="$(TEST_FLAVOURS)" $(TEST_PYTEST)
endif

demo: prepare cr-tool workloads
	ci/kernel.sh build plain
	ci/demo.sh

# Benchmarks: linux-cr against Debian's criu in one boot of the plain kernel (README, Benchmarks).
# Results (results.md, results.json, plots) go to BENCH_OUT; sizes and repetitions are these variables.
BENCH_OUT ?= bench/results
BENCH_REPS ?= 5
BENCH_SCALE_REPS ?= 3
BENCH_VM_MEM ?= 4G
BENCH_W2_MB ?= 512
BENCH_RSS ?= 64 128 256 512 1024
BENCH_PROCS ?= 1 4 16 64 256
BENCH_VMAS ?= 1000 5000 10000 20000
BENCH_FDS ?= 100 1000 5000 10000
BENCH_ARGS ?=

bench-build: headers
	$(MAKE) -s -C bench

bench: kernel-plain cr-tool bench-build
	$(PYTHON) bench/run.py --out $(BENCH_OUT) --reps $(BENCH_REPS) --scale-reps $(BENCH_SCALE_REPS) \
		--vm-mem $(BENCH_VM_MEM) --w2-mb $(BENCH_W2_MB) --rss "$(BENCH_RSS)" --procs "$(BENCH_PROCS)" \
		--vmas "$(BENCH_VMAS)" --fds "$(BENCH_FDS)" $(BENCH_ARGS)

# The same pipeline at tiny sizes (< 3 min): part of `make test`, so the benchmarks cannot rot.
bench-smoke: kernel-plain cr-tool bench-build
	$(PYTHON) bench/run.py --smoke

export:
	ci/kernel.sh export

clean:
	rm -rf build
