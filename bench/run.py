#!/usr/bin/python3
"""Benchmarks of linux-cr against CRIU: boot the plain kernel once (QEMU,
TCG, one fixed CPU model), run every workload under both tools in that
boot (bench/guest.py), and write the report (bench/report.py).

  bench/run.py [--smoke] [--out DIR] [--reps N] ...     (see --help)

`make bench` runs it with the defaults below, `make bench-smoke` with
--smoke: tiny sizes, one repetition, and a non-zero exit if any run failed.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True     # no __pycache__ in the checkout
TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "ci"))
import vm  # noqa: E402

sys.path.insert(0, str(TOP / "bench"))
import report  # noqa: E402

# The machine the figures come from: every bench run boots this, and the report records it.
VM_CPU = "max"          # ci/vm.py's TCG model (-machine accel=tcg -cpu max -smp 2)
VM_SMP = 2


def ints(text):
    return [int(x) for x in str(text).replace(",", " ").split()]


def full_config(a):
    workloads = [
        {"name": "W1", "what": "small process: 1 MiB, 16 fds", "args": ["--mb", 1, "--fds", 16]},
        {"name": "W2", "what": f"{a.w2_mb} MiB of anonymous memory", "args": ["--mb", a.w2_mb],
         "pipe_modes": True},
        {"name": "W3", "what": f"{a.w3_procs} processes x {a.w3_mb} MiB, pipes",
         "args": ["--procs", a.w3_procs, "--mb", a.w3_mb]},
        {"name": "W4", "what": f"8 threads, {a.w4_span_mb // 1024} GiB sparse, {a.w4_touch_mb} MiB touched",
         "args": ["--threads", 8, "--span-mb", a.w4_span_mb, "--touch-mb", a.w4_touch_mb]},
        {"name": "W5", "what": f"{a.w5_vmas} VMAs", "args": ["--vmas", a.w5_vmas]},
        {"name": "W6", "what": f"{a.w6_fds} fds", "args": ["--fds", a.w6_fds]},
        ]
    return {
        "reps": a.reps,
        "scale_reps": a.scale_reps,
        "limits_mb": a.w2_mb,
        "limit_reps": 3,
        "settle": 0.3,
        "noise_window": 1.0,
        "ready_timeout": 600,
        "op_timeout": 900,
        "verify_timeout": 600,
        "workloads": workloads,
        "scaling": [
            {"name": "rss", "unit": "MiB", "args": ["--mb", "{x}"], "points": ints(a.rss)},
            {"name": "procs", "unit": "processes (1 MiB each)", "args": ["--procs", "{x}", "--mb", 1],
             "points": ints(a.procs)},
            {"name": "vmas", "unit": "VMAs", "args": ["--vmas", "{x}"], "points": ints(a.vmas)},
            {"name": "fds", "unit": "fds", "args": ["--fds", "{x}"], "points": ints(a.fds)},
        ],
        "profile": [w for w in workloads if w["name"] in a.profile_workloads.split(",")] if a.profile else [],
    }


def smoke_config():
    return {
        "reps": 1,
        "scale_reps": 1,
        "limits_mb": 16,
        "limit_reps": 1,
        "settle": 0.1,
        "noise_window": 0.2,
        "ready_timeout": 120,
        "op_timeout": 120,
        "verify_timeout": 120,
        "workloads": [
            {"name": "W1", "what": "small process: 1 MiB, 16 fds", "args": ["--mb", 1, "--fds", 16]},
            {"name": "W2", "what": "16 MiB of anonymous memory", "args": ["--mb", 16], "pipe_modes": True},
            {"name": "W3", "what": "4 processes x 2 MiB, pipes", "args": ["--procs", 4, "--mb", 2]},
            {"name": "W4", "what": "4 threads, 256 MiB sparse, 4 MiB touched",
             "args": ["--threads", 4, "--span-mb", 256, "--touch-mb", 4]},
            {"name": "W5", "what": "500 VMAs", "args": ["--vmas", 500]},
            {"name": "W6", "what": "200 fds", "args": ["--fds", 200]},
        ],
        "scaling": [
            {"name": "rss", "unit": "MiB", "args": ["--mb", "{x}"], "points": [4, 8]},
            {"name": "procs", "unit": "processes (1 MiB each)", "args": ["--procs", "{x}", "--mb", 1], "points": [1, 3]},
        ],
        "profile": [],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition; fail if any run fails")
    ap.add_argument("--out", type=Path, help="results directory (default bench/results, or build/bench/smoke)")
    ap.add_argument("--vm-mem", default=os.environ.get("BENCH_VM_MEM", "4G"))
    ap.add_argument("--timeout", type=float, default=None, help="seconds the VM may run")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of each workload per tool")
    ap.add_argument("--scale-reps", type=int, default=3, help="repetitions of each scaling point per tool")
    ap.add_argument("--w2-mb", type=int, default=512)
    ap.add_argument("--w3-procs", type=int, default=16)
    ap.add_argument("--w3-mb", type=int, default=32)
    ap.add_argument("--w4-span-mb", type=int, default=4096)
    ap.add_argument("--w4-touch-mb", type=int, default=64)
    ap.add_argument("--w5-vmas", type=int, default=20000)
    ap.add_argument("--w6-fds", type=int, default=10000)
    ap.add_argument("--rss", default="64 128 256 512 1024", help="MiB points of the RSS curve")
    ap.add_argument("--procs", default="1 4 16 64 256", help="points of the process-count curve")
    ap.add_argument("--vmas", default="1000 5000 10000 20000", help="points of the VMA-count curve")
    ap.add_argument("--fds", default="100 1000 5000 10000", help="points of the fd-count curve")
    ap.add_argument("--no-profile", dest="profile", action="store_false", help="skip the perf profiles")
    ap.add_argument("--profile-workloads", default="W1,W2,W5,W6", help="workloads to profile (comma-separated)")
    ap.add_argument("--only", help="run only these workloads (comma-separated, e.g. W1,W2), no scaling curves")
    ap.add_argument("--profile-only", help="only profile these workloads (comma-separated): no timed runs")
    a = ap.parse_args()

    cfg = smoke_config() if a.smoke else full_config(a)
    if a.only:
        cfg["workloads"] = [w for w in cfg["workloads"] if w["name"] in a.only.split(",")]
        cfg["profile"] = [w for w in cfg["profile"] if w["name"] in a.only.split(",")]
        cfg["scaling"] = []
    if a.profile_only:
        names = a.profile_only.split(",")
        cfg["profile"] = [w for w in cfg["workloads"] if w["name"] in names]
        cfg["workloads"], cfg["scaling"], cfg["limits_mb"] = [], [], 0
    out = a.out or (TOP / "build" / "bench" / "smoke" if a.smoke else TOP / "bench" / "results")
    out = out.resolve()
    share = TOP / "build" / "bench" / ("vm-smoke" if a.smoke else "vm")
    share.mkdir(parents=True, exist_ok=True)
    for stale in ("raw.json", "status", "console.log"):
        (share / stale).unlink(missing_ok=True)
    for need in (TOP / "build/bench/bench-wl", TOP / "build/cr-tool/cr-tool", vm.bzimage("plain")):
        if not need.exists():
            sys.exit(f"bench: {need} is missing: run `make bench` (it builds everything first)")
    (share / "config.json").write_text(json.dumps(cfg, indent=1))

    # One CPU model for every run: TCG with ci/vm.py's model, never the host's through KVM.
    os.environ.pop("CR_VM_KVM", None)
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    timeout = a.timeout or (600 if a.smoke else 3 * 3600)
    print(f"bench: booting the plain kernel ({qemu}, TCG -cpu {VM_CPU}, {VM_SMP} vCPUs, {a.vm_mem}); "
          f"console in {share / 'console.log'}", flush=True)
    t0 = time.monotonic()
    load_before = os.getloadavg()
    res = vm.run_in_vm(["/usr/bin/python3", "bench/guest.py", "/mnt/out/config.json"], "plain", timeout,
                       memory=a.vm_mem, out_dir=share)
    console = res.console_text()
    splats = vm.find_splats(console)
    print(f"bench: the VM ran for {res.seconds:.0f} s (status {res.status})", flush=True)
    raw_path = share / "raw.json"
    if not raw_path.exists():
        print("\n".join(console.splitlines()[-40:]))
        sys.exit("bench: the guest wrote no results")
    raw = json.loads(raw_path.read_text())
    raw["host"] = {"qemu": qemu, "vm_cpu": VM_CPU, "vm_smp": VM_SMP, "vm_mem": a.vm_mem, "accel": "tcg",
                   "host_cpu": host_cpu(), "vm_seconds": res.seconds, "kernel_splats": splats,
                   "timed_out": res.timed_out, "wall_seconds": time.monotonic() - t0,
                   "host_load_before": load_before, "host_load_after": os.getloadavg(), "host_cpus": os.cpu_count()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "raw.json").write_text(json.dumps(raw, indent=1))    # bench/report.py RAW OUT redoes the report
    summary = report.write(raw, out, smoke=a.smoke)
    print(f"bench: results in {out}: results.md, results.json, raw.json" + ("" if a.smoke else ", *.png"))
    problems = []
    if res.timed_out:
        problems.append(f"the VM did not finish within {timeout:.0f} s")
    if splats:
        problems.append("the kernel reported problems:\n  " + "\n  ".join(splats))
    if res.status not in (0,):
        problems.append(f"the guest driver exited with {res.status}")
    for p in problems:
        print(f"bench: {p}")
    runs = raw["runs"] + raw.get("pipe", [])
    failed = [r for r in runs if not r["ok"]]
    for r in failed:
        print(f"bench: FAILED {r.get('workload')} {r.get('tool', r.get('mode'))}: {r.get('error', '').splitlines()[0]}")
    if a.smoke:
        expected = len(cfg["workloads"]) * 2 + sum(len(c["points"]) for c in cfg["scaling"]) * 2 + 5
        ran = len(runs)
        if ran < expected:
            problems.append(f"only {ran} of {expected} runs happened")
            print(f"bench: {problems[-1]}")
        print(f"bench-smoke: {ran - len(failed)} passed, {len(failed) + (expected - ran if ran < expected else 0)} failed")
        return 1 if failed or problems or ran < expected else 0
    print(summary)
    return 1 if problems and not raw["runs"] else 0


def host_cpu():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
