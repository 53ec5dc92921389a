#!/usr/bin/env bash
# A long run of the restart(2) mutation fuzzer (tests/guest/restart_fuzz.py)
# in one VM, every seed workload:
#   tests/fuzz-restart.sh [SECONDS [FLAVOUR [SEED]]]     (default 3600 s on debug, a random seed)
# Failing mutants, with their seed images and what was done to them, are
# kept in build/fuzz-restart/<flavour>/fuzz-failures/; the console in
# build/fuzz-restart/<flavour>/console.log. Exit status: 0 when no failure,
# no kernel report and (KASAN kernel) no kmemleak report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3600}
flavour=${2:-debug}
seed=${3:-$RANDOM}
out=build/fuzz-restart/$flavour
mkdir -p "$out"
rm -rf "$out/fuzz-failures"
make -s workloads
# Seeds take a minute or two, the kernel's kmemleak scan a few seconds more.
exec /usr/bin/python3 ci/vm.py --flavour "$flavour" --timeout "$((seconds + 900))" --out "$out" -- \
	env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tests/guest/restart_fuzz.py --seconds "$seconds" \
	--seed "$seed" --all-seeds --keep /mnt/out/fuzz-failures
