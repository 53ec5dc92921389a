#!/usr/bin/python3
"""In-guest mutation fuzzer of restart(2): valid images of test workloads,
mutated (mutate.py), handed to the kernel the way cr-tool does it
(`cr-tool restart --no-verify`, so that the kernel and not cr-tool's reader
judges them), as root and as an unprivileged user.

Seed images are made at the start of a run: workloads run as root and as
USER_UID (crlib), checkpointed with --kill so that their pids are free.
Each iteration draws everything from its seed (run seed * 1000003 +
iteration): which image, which mutations, who restarts it and how, with
which restart flags. A mutant of the user's image is restarted by root and
by the user; one of root's by root (rarely by the user):

  root        cr-tool restart as root (sometimes --pidns)
  user-cap    as USER_UID with CAP_CHECKPOINT_RESTORE only (choosing pids)
  user-ns     as USER_UID without any capability outside a user namespace
              of its own, restarting into a new pid namespace there

After each restart: a tree that restarted is killed; otherwise no task may
be left (restart failed: none of its tasks may survive, and none may be a
zombie nobody reaps); the kernel log must show no report (BUG, WARNING,
lockdep, KASAN, ...). A failing mutant is kept with its description (and
the seed image it came from) in the --keep directory, so that
`cr-tool restart --no-verify MUTANT` reproduces it; the console shows a
"cr-fuzz: #N" line before each restart, the last one before a panic.

  restart_fuzz.py [--seconds N] [--seed S] [--all-seeds] [--keep DIR]

prints iterations, outcomes and the errnos seen, exits 1 on any failure.
"""

import argparse
import collections
import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crlib  # noqa: E402
import mutate  # noqa: E402
from crlib import CR_TOOL, USER_UID  # noqa: E402

ITERATION_TIMEOUT = 60      # restart(2) gives up on missing tasks after 30 s
LEFTOVER_GRACE = 5          # a failed restart's tasks die with their parents: give them this long
MAX_KEPT_FAILURES = 20

# (workload, args) checkpointed as root; the CI run uses the first ones only. One this kernel
# cannot checkpoint (a kind not supported yet) is skipped.
ROOT_SEEDS = [("tree",), ("threads",), ("files",), ("pipe",), ("eventfd",), ("zombies",), ("shared_anon",),
              ("vmas",), ("signalfd",), ("timerfd",), ("signals",), ("itimers",), ("stopped",), ("mutex",),
              ("shared_offset",), ("clone_files",), ("orphans",), ("sleep", "30"), ("fifo",), ("rtsignals",),
              ("fpu",), ("wait4",), ("blocked_read",), ("unlinked",), ("posix_timers",), ("epoll",), ("memfd",)]
# As USER_UID, in a directory of its own.
USER_SEEDS = [("privs", "--file", "{dir}/data"), ("counter",), ("tree",), ("threads",), ("pipe",),
              ("zombies",), ("privs", "--seccomp")]
CI_ROOT_SEEDS = 8
CI_USER_SEEDS = 2

ERRNO_BY_TEXT = {os.strerror(e): name for e, name in errno.errorcode.items()}


def log(msg):
    print(msg, flush=True)


kmsg = crlib.kmsg


class Seed:
    def __init__(self, name, path, owner):
        self.name, self.path, self.owner = name, Path(path), owner
        self.data = self.path.read_bytes()
        self.mutator = None


def make_seed(spec, owner, out):
    """Run the workload @spec as @owner ("root" or "user"), checkpoint it with --kill; a Seed or None."""
    name, args = spec[0], list(spec[1:])
    label = f"{owner}-{'-'.join([name] + [a.lstrip('-') for a in args if '{' not in a])}"
    try:
        if owner == "user":
            d = crlib.user_dir(USER_UID, "fuzz-" + name)
            data = d / "data"
            data.write_bytes(b"\0" * 8192)
            os.chown(data, USER_UID, USER_UID)
            wl = crlib.UserWorkload(name, *[a.format(dir=d) for a in args], cwd=d)
            wl.wait_ready()
            image = d / f"{label}.cr"
            res = crlib.cr_as("checkpoint", "--pid", wl.pid, "--output", image, "--kill")
        else:
            wl = crlib.Workload(name, *args)
            wl.wait_ready()
            image = out / f"{label}.cr"
            res = crlib.cr("checkpoint", "--pid", wl.pid, "--output", image, "--kill")
        if res.returncode != 0:
            log(f"fuzz: seed {label}: checkpoint failed, skipped: {res.stderr.strip()}")
            wl.proc.kill()
        wl.proc.wait(timeout=30)
    except Exception as e:     # a workload this kernel cannot run or checkpoint is no seed
        log(f"fuzz: seed {label}: skipped: {e}")
        return None
    finally:
        crlib.kill_descendants()
    if res.returncode != 0:
        return None
    keep = out / f"seed-{label}.cr"
    if keep != image:
        shutil.copyfile(image, keep)
    os.chmod(keep, 0o644)
    return Seed(label, keep, owner)


def classify(rc, out, err):
    """(outcome, errno name or None) of one cr-tool restart."""
    if rc is None:
        return "timeout", None
    if rc < 0:
        return f"cr-tool died of signal {-rc}", None
    if rc == 0:
        return "restored", None
    m = re.search(r"\(errno (\d+)\)", err)
    if m:
        name = errno.errorcode.get(int(m.group(1)), m.group(1))
        return ("killed after the point of no return" if "the restored tree was killed" in err
                else "refused by the kernel"), name
    if "is not a valid image" in err:
        return "refused by cr-tool's reader", None
    if "the restored tree was killed" in err:
        return "killed after the point of no return", "?"
    for text, name in ERRNO_BY_TEXT.items():
        if err.rstrip().endswith(text) or f": {text};" in err or f": {text}\n" in err:
            return "failed without a kernel log line", name
    return f"exit {rc}", None


class Fuzzer:
    def __init__(self, seconds, seed=1, all_seeds=False, keep=None, seeds=None, nr_seeds=None):
        self.nr_seeds = nr_seeds or (CI_ROOT_SEEDS, CI_USER_SEEDS)
        self.seconds = seconds
        self.seed = seed
        self.all_seeds = all_seeds
        # Seeds and mutants on the guest's tmpfs; failing mutants kept in @keep.
        self.out = crlib.WORK / f"fuzz-{time.monotonic_ns()}"
        self.out.mkdir(parents=True, exist_ok=True)
        os.chmod(self.out, 0o755)
        self.keep = Path(keep) if keep else self.out / "failures"
        self.seconds_by_seed = collections.Counter()
        self.runs_by_seed = collections.Counter()
        self.seeds = seeds or []
        self.outcomes = collections.Counter()
        self.errnos = collections.Counter()
        self.by_mode = collections.Counter()
        self.failures = []
        self.iterations = 0     # mutants
        self.restarts = 0       # cr-tool restarts of them
        self.elapsed = 0.0

    def make_seeds(self):
        roots = ROOT_SEEDS if self.all_seeds else ROOT_SEEDS[:self.nr_seeds[0]]
        users = USER_SEEDS if self.all_seeds else USER_SEEDS[:self.nr_seeds[1]]
        start = time.monotonic()
        for spec, owner in [(r, "root") for r in roots] + [(u, "user") for u in users]:
            t = time.monotonic()
            if (s := make_seed(spec, owner, self.out)):
                self.seeds.append(s)
                log(f"fuzz: seed {s.name}: {len(s.data) // 1024} KiB in {time.monotonic() - t:.1f} s")
        log(f"fuzz: {len(self.seeds)} seed images in {time.monotonic() - start:.0f} s")
        others = [s.data for s in self.seeds if len(s.data) < (1 << 20)]
        for s in self.seeds:
            s.mutator = mutate.Mutator(s.data, others=[o for o in others if o is not s.data][:4])

    def plan(self, rng, seed):
        """Who restarts the mutant and how: [(mode, cr-tool arguments before the image, as_user kwargs)].
        A mutant of the user's image goes to root and to the user; one of root's to root (the user
        could not even open its files)."""
        flags = rng.choices([[], ["--allow-changed-files"], ["--allow-moved-files", "--allow-changed-files"]],
                            [6, 2, 2])[0]
        root = rng.choices(["root", "root-pidns"], [9, 1])[0]
        if seed.owner == "user":
            modes = [root, rng.choice(["user-cap", "user-ns"])]
        else:
            modes = [rng.choices([root, "user-ns"], [19, 1])[0]]
        plans = []
        for mode in modes:
            args = ["restart", "--detach", "--no-verify", *flags]
            if mode in ("root-pidns", "user-ns"):
                args.append("--pidns")
            plans.append((mode, args, {"user-cap": {"caps": ["checkpoint_restore"]},
                                       "user-ns": {"userns": True}}.get(mode)))
        return plans

    def fail(self, it, seed, mode, desc, reason, mutant):
        rec = {"iteration": it, "seed": self.seed * 1000003 + it, "run_seed": self.seed, "image": seed.name,
               "mode": mode, "mutations": desc, "reason": reason}
        log(f"fuzz: FAILURE {json.dumps(rec)}")
        if len(self.failures) < MAX_KEPT_FAILURES:
            d = self.keep
            d.mkdir(parents=True, exist_ok=True)
            keep = d / f"{it:06d}.cr"
            shutil.copyfile(mutant, keep)
            seed_copy = d / seed.path.name
            if not seed_copy.exists():
                shutil.copyfile(seed.path, seed_copy)
            (d / f"{it:06d}.json").write_text(json.dumps(rec, indent=1) + "\n")
            rec["kept"] = str(keep)
        self.failures.append(rec)

    def one(self, it, messages):
        started = time.monotonic()
        rng = random.Random(self.seed * 1000003 + it)
        seed = rng.choice(self.seeds)
        data, desc = seed.mutator.mutate(rng.getrandbits(64))
        mutant = self.out / "mutant.cr"
        mutant.write_bytes(data)
        os.chmod(mutant, 0o644)
        for mode, args, user in self.plan(rng, seed):
            self.restart(it, seed, desc, mode, args, user, mutant, messages)
        self.runs_by_seed[seed.name] += 1
        self.seconds_by_seed[seed.name] += time.monotonic() - started

    def restart(self, it, seed, desc, mode, args, user, mutant, messages):
        kmsg(f"cr-fuzz: #{it} {seed.name} {mode}: {'; '.join(desc)[:300]}")
        cmd = [str(CR_TOOL), *args, str(mutant)]
        if user is not None:
            cmd = crlib.as_user(cmd, **user)
        # Binary: the kernel's log line may quote a mutated path, any bytes.
        with open(self.out / "stdout", "w+b") as out, open(self.out / "stderr", "w+b") as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            try:
                rc = proc.wait(timeout=ITERATION_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        outcome, name = classify(rc, stdout, stderr)
        self.restarts += 1
        self.outcomes[outcome] += 1
        self.by_mode[mode] += 1
        if name:
            self.errnos[name] += 1
        if outcome == "timeout" or outcome.startswith("cr-tool died"):
            self.fail(it, seed, mode, desc, f"{outcome}: {stderr.strip()[-500:]}", mutant)
        if outcome == "restored":
            try:
                os.kill(int(stdout.split()[0]), signal.SIGKILL)
            except (ValueError, IndexError, ProcessLookupError):
                pass
        else:
            # A failed restart leaves nothing: every task it created is gone (or a zombie we reap).
            deadline = time.monotonic() + LEFTOVER_GRACE
            while True:
                crlib.reap_strays()
                alive = {p: i for p, i in crlib.descendants().items() if i[1] != "Z"}
                if not alive or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            if alive:
                self.fail(it, seed, mode, desc, f"{outcome} ({name}) but tasks were left behind: {alive}",
                          mutant)
        crlib.kill_descendants()
        splats = messages.splats()
        if splats:
            self.fail(it, seed, mode, desc, "kernel report: " + " | ".join(splats[:5]), mutant)

    def run(self):
        if not self.seeds:
            self.make_seeds()
        if not self.seeds:
            raise RuntimeError("no seed image could be made")
        messages = crlib.KernelMessages()
        crlib.kill_descendants()
        kmsg(f"cr-fuzz: run seed {self.seed}, {self.seconds:.0f} s, {len(self.seeds)} seed images")
        start = time.monotonic()
        timeouts = 0
        try:
            while time.monotonic() - start < self.seconds:
                self.iterations += 1
                try:
                    self.one(self.iterations, messages)
                except Exception:       # the harness's own bug: say so, clean up, go on
                    tb = traceback.format_exc(limit=4)
                    log(f"fuzz: #{self.iterations}: the fuzzer itself failed:\n{tb}")
                    self.failures.append({"iteration": self.iterations, "image": "?", "mode": "?",
                                          "mutations": [], "reason": "fuzzer error: " + tb[-800:]})
                    crlib.kill_descendants()
                timeouts = self.outcomes["timeout"]
                if timeouts >= 3:
                    log("fuzz: three iterations timed out; stopping")
                    break
        finally:
            self.elapsed = time.monotonic() - start
            messages.close()
        return self

    def summary(self):
        rate = self.iterations / self.elapsed if self.elapsed else 0
        lines = [f"restart fuzz (seed {self.seed}): {self.iterations} mutants, {self.restarts} restarts in "
                 f"{self.elapsed:.0f} s ({rate:.2f} mutants/s), {len(self.seeds)} seed images, "
                 f"{len(self.failures)} failures",
                 "  modes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.by_mode.items())),
                 "  outcomes: " + ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common()),
                 f"  errnos ({len(self.errnos)} distinct): "
                 + ", ".join(f"{k} {v}" for k, v in self.errnos.most_common()),
                 "  seconds per mutant: " + ", ".join(
                     f"{k} {self.seconds_by_seed[k] / n:.2f}" for k, n in sorted(self.runs_by_seed.items()))]
        return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--all-seeds", action="store_true", help="every seed workload, not the CI subset")
    ap.add_argument("--keep", type=Path, help="where failing mutants go (default /mnt/out/fuzz-failures in the VM)")
    args = ap.parse_args()
    crlib.WORK.mkdir(parents=True, exist_ok=True)
    crlib.become_subreaper()
    keep = args.keep or (Path("/mnt/out/fuzz-failures") if os.path.isdir("/mnt/out") else None)
    fz = Fuzzer(args.seconds, args.seed, args.all_seeds, keep)
    log(f"fuzz: seed {args.seed}, {args.seconds:.0f} s, failing mutants go to {fz.keep}")
    fz.run()
    for line in fz.summary():
        log(line)
    leak = ""
    if crlib.kmemleak("scan"):
        time.sleep(6)
        crlib.kmemleak("scan")
        leak = crlib.kmemleak_report()
        log("kmemleak: " + ("clean" if not leak else "SUSPECTED LEAKS\n" + leak[:4000]))
    return 1 if fz.failures or leak else 0


if __name__ == "__main__":
    sys.exit(main())
