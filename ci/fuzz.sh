#!/usr/bin/env bash
# Fuzz the image reader (libFuzzer, ASan, UBSan) for a bounded time:
#   ci/fuzz.sh [SECONDS]      (default 30; `make fuzz FUZZ_SECONDS=3600` for a long run)
# The corpus grows in build/fuzz/corpus across runs; a crash leaves its
# input in build/fuzz/crashes/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
dir=build/fuzz
mkdir -p "$dir/corpus" "$dir/crashes"
"$dir/write-seeds" "$dir/corpus"
log="$dir/last-run.log"
if ! "$dir/image-fuzzer" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$dir/crashes/" "$dir/corpus" >"$log" 2>&1; then
	tail -40 "$log" >&2
	echo "fuzz: the image reader crashed; the input is in $dir/crashes/" >&2
	exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: ${runs:-?} inputs in ${seconds} s, no crash; corpus $(ls "$dir/corpus" | wc -l) inputs"
