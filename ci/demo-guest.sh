#!/bin/sh
# The demo, inside the VM: a process is checkpointed by the kernel, killed,
# and brought back by cr-tool with its memory, registers and files intact.
set -e
T=build/cr-tool/cr-tool
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cd "$(dirname "$0")/.."
say "start a sample workload: a ticker writing to /tmp/ticker.log"
build/tests/ticker > /tmp/ticker.log 2>&1 </dev/null &
pid=$!
sleep 2
tail -n 3 /tmp/ticker.log
say "checkpoint pid $pid and kill it (cr-tool checkpoint --pid $pid --output /tmp/ticker.cr --kill)"
$T checkpoint --pid "$pid" --output /tmp/ticker.cr --kill -v
wait "$pid" 2>/dev/null || true
[ -d "/proc/$pid" ] && { echo "demo: pid $pid is still alive"; exit 1; }
echo "pid $pid is gone; its last line was: $(tail -n 1 /tmp/ticker.log)"
say "what the image holds (cr-tool inspect, first records)"
$T inspect /tmp/ticker.cr | head -n 12
$T inspect /tmp/ticker.cr | tail -n 1
$T verify /tmp/ticker.cr
sleep 1
say "restart it (cr-tool restart --detach /tmp/ticker.cr)"
restored=$($T restart --detach /tmp/ticker.cr)
echo "restored as pid $restored"
sleep 2
say "it keeps ticking from where it was, same pid, same log file"
tail -n 8 /tmp/ticker.log
kill "$restored"
grep -q "tick" /tmp/ticker.log
last=$(tail -n 1 /tmp/ticker.log | sed 's/tick \([0-9]*\).*/\1/')
say "demo done: the restored ticker reached tick $last"
