#!/usr/bin/python3
"""The benchmark driver inside the VM: every workload under linux-cr and
under CRIU, alternating, in one boot. Started by bench/run.py.

  guest.py CONFIG.json        (the config run.py wrote; results go beside it)

One run of one tool on one workload:
  1. start bench-wl (its own session and process group) and wait for READY;
  2. reset the workload's stamp page, checkpoint it and leave it running
     (`cr-tool checkpoint`, or `criu dump --leave-running`), timed, with the
     tool's peak RSS from wait4(); the largest gap between the workload's
     clock stamps once it runs again is the freeze time;
  3. SIGKILL the whole tree, reap it;
  4. restart it from the image (`cr-tool restart --detach`, or
     `criu restore --restore-detached`), timed;
  5. wait for the restored root to stamp again, send SIGUSR1: it checks all
     of its memory, fds, pipes, threads and children and exits 0; anything
     else fails the run (a failed run has no figures).

raw.json beside the config is rewritten after every run, so a run cut
short still leaves what it measured.
"""

import json
import mmap
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
# The process helpers are the guest tests' own.
sys.path.insert(0, str(TOP / "tests" / "guest"))
from crlib import become_subreaper, reap_strays, session_members, wait_for  # noqa: E402
BIN = TOP / "build" / "bench"
CR_TOOL = TOP / "build" / "cr-tool" / "cr-tool"
CRIU = "/usr/sbin/criu"
PERF = "/usr/bin/perf"
WORK = Path("/tmp/bench")
STAMP = struct.Struct("<7Q")    # bench/stamp.h: now_ns, max_gap_ns, reset_req, reset_ack, loops, ready, pid
TOOLS = ("linux-cr", "criu")


class RunFailed(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", flush=True)


def sh(*cmd, timeout=120):
    res = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=timeout)
    return res.returncode, (res.stdout + res.stderr).strip()


def timed(cmd, out_path, timeout):
    """Run @cmd under bench-run (output to @out_path); return (seconds, exit code, peak RSS in bytes)."""
    res = subprocess.run([str(BIN / "bench-run"), str(out_path), str(timeout), *map(str, cmd)],
                         capture_output=True, text=True, timeout=timeout + 60)
    if res.returncode != 0:
        raise RunFailed(f"bench-run failed: {res.stderr.strip()}")
    r = json.loads(res.stdout.splitlines()[-1])
    if r["status"] == 124:
        raise RunFailed(f"{Path(str(cmd[0])).name} {cmd[1]} took more than {timeout} s")
    return r["seconds"], r["status"], r["maxrss_kib"] * 1024


def tail(path, n=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def dir_bytes(path):
    """Bytes of the image files in a CRIU image directory (not its stats)."""
    return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file() and not f.name.startswith("stats-"))


def criu_stats(imgdir, which):
    """CRIU's own timing of a dump or restore (stats-dump/stats-restore), microseconds."""
    try:
        import pycriu.images
        with open(Path(imgdir) / f"stats-{which}", "rb") as f:
            entry = pycriu.images.load(f)["entries"][0]
        return entry.get(which, {})
    except Exception as e:  # pycriu missing or a format it does not know: the figures are extra
        return {"error": str(e)}


def kill_tree(sid):
    """SIGKILL the session @sid (a workload's whole tree) and reap it, until none of its pids is
    taken (a restart needs them free)."""
    try:
        os.killpg(sid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        wait_for(lambda: reap_strays() or not session_members(sid, zombies=True), 30,
                 lambda: f"session {sid} to be reaped after SIGKILL: {session_members(sid, zombies=True)} left")
    except AssertionError as e:
        raise RunFailed(str(e)) from None


class Stamp:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)
        self.map = mmap.mmap(self.fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def read(self):
        return STAMP.unpack_from(self.map, 0)

    def now_ns(self):
        return self.read()[0]

    def max_gap_ns(self):
        return self.read()[1]

    def reset(self, timeout=10):
        req = self.read()[2] + 1
        struct.pack_into("<Q", self.map, 16, req)
        deadline = time.monotonic() + timeout
        while self.read()[3] != req:
            if time.monotonic() > deadline:
                raise RunFailed("the workload does not stamp (no reset acknowledged)")
            time.sleep(0.0005)

    def wait_beyond(self, t_ns, timeout, what):
        deadline = time.monotonic() + timeout
        while self.now_ns() <= t_ns:
            if time.monotonic() > deadline:
                raise RunFailed(f"the workload did not run again {what} within {timeout} s")
            time.sleep(0.0005)

    def close(self):
        self.map.close()
        os.close(self.fd)


class Bench:
    def __init__(self, cfg_path):
        self.cfg_path = Path(cfg_path)
        self.cfg = json.loads(self.cfg_path.read_text())
        self.out = self.cfg_path.parent
        self.raw = {"config": self.cfg, "env": {}, "limits": None, "runs": [], "noise": {}, "pipe": [],
                    "profiles": {}, "errors": []}
        self.seq = 0
        self.tools = tuple(self.cfg.get("tools", TOOLS))

    def save(self):
        tmp = self.out / "raw.json.tmp"
        tmp.write_text(json.dumps(self.raw, indent=1))
        tmp.replace(self.out / "raw.json")

    # --- setup ---------------------------------------------------------------

    def setup(self):
        become_subreaper()
        WORK.mkdir(parents=True, exist_ok=True)
        # A tmpfs of its own, as big as memory allows: the images live here.
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100%", "bench", str(WORK)], check=True)
        (WORK / "bin").mkdir()
        # The workload runs from tmpfs too, the same file for both tools.
        shutil.copy2(BIN / "bench-wl", WORK / "bin" / "bench-wl")
        env = self.raw["env"]
        env["uname"] = platform.uname()._asdict()
        cpuinfo = Path("/proc/cpuinfo").read_text()
        first = cpuinfo.split("\n\n")[0]
        for line in first.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("model name", "flags", "cpu MHz"):
                env["cpu_" + k.strip().replace(" ", "_")] = v.strip()
        env["cpus"] = os.cpu_count()
        env["mem_total_kib"] = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                                        if l.startswith("MemTotal")))
        env["clocksource"] = Path("/sys/devices/system/clocksource/clocksource0/current_clocksource").read_text().strip()
        env["criu_version"] = sh(CRIU, "--version")[1]
        rc, out = sh(CRIU, "check")
        env["criu_check"] = {"status": rc, "output": out}
        log(f"criu check: status {rc}: {out.splitlines()[-1] if out else ''}")
        env["cr_tool"] = str(CR_TOOL)
        # What starting each tool costs before it does any work (a floor under every wall time).
        env["startup_s"] = {}
        for tool, cmd in (("linux-cr", [CR_TOOL, "--help"]), ("criu", [CRIU, "--version"])):
            times = [timed(cmd, WORK / "startup.out", 60)[0] for _ in range(5)]
            env["startup_s"][tool] = sorted(times)[2]
        log("startup: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in env["startup_s"].items()))
        self.save()

    def limits(self):
        mb = self.cfg["limits_mb"]
        rc, out = sh(BIN / "bench-limits", "--mb", mb, "--dir", WORK, "--reps", self.cfg["limit_reps"], timeout=900)
        if rc != 0:
            self.raw["errors"].append(f"bench-limits failed: {out}")
            return
        self.raw["limits"] = json.loads(out.splitlines()[-1])
        log("limits: " + ", ".join(f"{k} {v['gib_per_s']:.2f} GiB/s" for k, v in self.raw["limits"].items()
                                     if isinstance(v, dict)))
        self.save()

    # --- one run ---------------------------------------------------------------

    def start_workload(self, rundir, args, ready_timeout):
        stamp_path = rundir / "stamp"
        logf = open(rundir / "wl.log", "wb")
        proc = subprocess.Popen([str(WORK / "bin" / "bench-wl"), "--stamp", str(stamp_path), *map(str, args)],
                                cwd=rundir, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                start_new_session=True, env={"PATH": "/usr/bin:/bin"})
        logf.close()
        deadline = time.monotonic() + ready_timeout
        while b"READY" not in (rundir / "wl.log").read_bytes():
            if proc.poll() is not None:
                raise RunFailed(f"bench-wl exited with {proc.returncode} before READY: {tail(rundir / 'wl.log')}")
            if time.monotonic() > deadline:
                raise RunFailed(f"bench-wl not READY within {ready_timeout} s")
            time.sleep(0.01)
        return proc, Stamp(stamp_path)

    def checkpoint(self, tool, pid, rundir):
        if tool == "linux-cr":
            img = rundir / "image.cr"
            cmd = [CR_TOOL, "checkpoint", "--pid", pid, "--output", img]
        else:
            img = rundir / "images"
            img.mkdir()
            cmd = [CRIU, "dump", "-t", pid, "-D", img, "--shell-job", "--leave-running",
                   "-o", rundir / "criu-dump.log"]
        secs, rc, rss = timed(cmd, rundir / "checkpoint.out", self.cfg["op_timeout"])
        if rc != 0:
            raise RunFailed(f"{tool} checkpoint failed ({rc}): {tail(rundir / 'checkpoint.out')} "
                            f"{tail(rundir / 'criu-dump.log')}")
        size = img.stat().st_size if tool == "linux-cr" else dir_bytes(img)
        return img, secs, rss, size

    def restart(self, tool, img, rundir):
        if tool == "linux-cr":
            cmd = [CR_TOOL, "restart", "--detach", img]
        else:
            cmd = [CRIU, "restore", "-D", img, "--shell-job", "--restore-detached",
                   "-o", rundir / "criu-restore.log"]
        secs, rc, rss = timed(cmd, rundir / "restart.out", self.cfg["op_timeout"])
        if rc != 0:
            raise RunFailed(f"{tool} restart failed ({rc}): {tail(rundir / 'restart.out')} "
                            f"{tail(rundir / 'criu-restore.log')}")
        return secs, rss

    def run_once(self, tool, workload, args, extra=None):
        """One checkpoint/kill/restart/verify cycle; returns the run's record."""
        self.seq += 1
        rundir = WORK / f"run-{self.seq}"
        rundir.mkdir()
        rec = {"tool": tool, "workload": workload, "args": list(map(str, args)), "ok": False}
        rec.update(extra or {})
        proc = stamp = None
        pid = None
        try:
            proc, stamp = self.start_workload(rundir, args, self.cfg["ready_timeout"])
            pid = proc.pid
            rec["tasks"] = len(session_members(pid))
            time.sleep(self.cfg["settle"])
            stamp.reset()
            img, rec["checkpoint_s"], rec["checkpoint_peak_rss"], rec["image_bytes"] = \
                self.checkpoint(tool, pid, rundir)
            end_ns = time.monotonic_ns()
            stamp.wait_beyond(end_ns, 30, "after the checkpoint")
            rec["freeze_s"] = stamp.max_gap_ns() / 1e9
            if tool == "criu":
                rec["criu_dump_stats"] = criu_stats(img, "dump")
            if extra and extra.get("pipe_modes") and tool == "linux-cr":
                self.pipe_paths(pid, rundir, stamp, workload)
            kill_tree(pid)
            proc.returncode = -signal.SIGKILL   # reaped by kill_tree
            rec["restart_s"], rec["restart_peak_rss"] = self.restart(tool, img, rundir)
            if tool == "criu":
                rec["criu_restore_stats"] = criu_stats(img, "restore")
            stamp.wait_beyond(time.monotonic_ns(), 60, "after the restart")
            if len(session_members(pid)) != rec["tasks"]:
                raise RunFailed(f"restored {len(session_members(pid))} processes, expected {rec['tasks']}")
            os.kill(pid, signal.SIGUSR1)
            deadline = time.monotonic() + self.cfg["verify_timeout"]
            while True:
                got, status = os.waitpid(pid, os.WNOHANG)
                if got == pid:
                    break
                if time.monotonic() > deadline:
                    raise RunFailed(f"the restored workload did not verify itself within {self.cfg['verify_timeout']} s")
                time.sleep(0.01)
            code = os.waitstatus_to_exitcode(status)
            text = (rundir / "wl.log").read_text(errors="replace")
            if code != 0 or "VERIFY OK" not in text:
                raise RunFailed(f"the restored workload failed its checks (exit {code}): {tail(rundir / 'wl.log')}")
            rec["ok"] = True
        except Exception as e:
            rec["error"] = f"{type(e).__name__}: {e}"
            if not isinstance(e, RunFailed):
                rec["error"] += "\n" + traceback.format_exc()
        finally:
            if stamp:
                stamp.close()
            if pid:
                try:
                    kill_tree(pid)
                except RunFailed as e:
                    rec.setdefault("error", str(e))
                    rec["ok"] = False
            reap_strays()
            shutil.rmtree(rundir, ignore_errors=True)
        status = "ok" if rec["ok"] else "FAILED: " + rec.get("error", "").splitlines()[0]
        figures = " ".join(f"{k[:-2]}={rec[k]:.3f}s" for k in ("checkpoint_s", "freeze_s", "restart_s") if k in rec)
        log(f"{workload} {tool} {figures} image={rec.get('image_bytes', 0) / 2**20:.1f}MiB {status}")
        self.raw["runs"].append(rec)
        self.save()
        return rec

    # --- the image's path: direct, through a pipe, compressed -------------------

    def pipe_paths(self, pid, rundir, stamp, workload):
        """On the live workload: checkpoint(2) straight to a file, through a pipe (io_uring, splice), with zstd."""
        for mode, z in (("direct", 0), ("uring", 0), ("splice", 0), ("uring", 1), ("uring", 3)):
            out = rundir / f"pipe-{mode}-{z}.img"
            args = [BIN / "bench-crpipe", "--pid", pid, "--output", out, "--mode", mode]
            if z:
                args += ["--zstd", z]
            stamp.reset()
            secs, rc, rss = timed(args, rundir / "crpipe.out", self.cfg["op_timeout"])
            text = tail(rundir / "crpipe.out", 3)
            rec = {"workload": workload, "mode": mode, "zstd": z, "ok": rc == 0, "peak_rss": rss}
            if rc == 0:
                rec.update(json.loads(text.splitlines()[-1]))
                stamp.wait_beyond(time.monotonic_ns(), 30, "after bench-crpipe")
                rec["freeze_s"] = stamp.max_gap_ns() / 1e9
                if z:
                    vrc, vout = sh("sh", "-c", f"zstd -q -d -c '{out}' > '{out}.raw' && '{CR_TOOL}' verify '{out}.raw'")
                else:
                    vrc, vout = sh(CR_TOOL, "verify", out)
                rec["image_valid"] = vrc == 0
                if vrc != 0:
                    rec["ok"] = False
                    rec["error"] = vout[-500:]
                Path(f"{out}.raw").unlink(missing_ok=True)
            else:
                rec["error"] = text
            out.unlink(missing_ok=True)
            log(f"path {mode}{' zstd-' + str(z) if z else ''}: "
                + (f"{rec['seconds']:.3f}s, syscall {rec['syscall_seconds']:.3f}s, {rec['file_bytes'] / 2**20:.1f}MiB"
                   if rec.get("seconds") is not None else rec.get("error", "failed")))
            self.raw["pipe"].append(rec)
        self.crtool_paths(pid, rundir, stamp, workload)
        self.save()

    def crtool_paths(self, pid, rundir, stamp, workload):
        """The same through cr-tool as a user runs it: to a file (read back and checked), to its standard
        output (a pipe the kernel writes, drained by cat), and through its zstd compression."""
        variants = (("cr-tool", 0, []), ("cr-tool stdout", 0, ["--output", "-"]),
                    ("cr-tool", 1, ["--compress", "--compress-level", "1"]),
                    ("cr-tool", 3, ["--compress", "--compress-level", "3"]))
        for mode, z, extra in variants:
            out = rundir / f"crtool-{z}.img"
            if mode == "cr-tool stdout":
                cmd = ["sh", "-c", f"'{CR_TOOL}' checkpoint --pid {pid} --output - | cat > '{out}'"]
            else:
                cmd = [CR_TOOL, "checkpoint", "--pid", pid, "--output", out, *extra]
            stamp.reset()
            secs, rc, rss = timed(cmd, rundir / "crtool-path.out", self.cfg["op_timeout"])
            rec = {"workload": workload, "mode": mode, "zstd": z, "ok": rc == 0, "peak_rss": rss,
                   "seconds": secs, "syscall_seconds": None}
            if rc == 0:
                stamp.wait_beyond(time.monotonic_ns(), 30, "after cr-tool checkpoint")
                rec["freeze_s"] = stamp.max_gap_ns() / 1e9
                rec["file_bytes"] = out.stat().st_size
                vrc, vout = sh(CR_TOOL, "verify", out)
                rec["image_valid"] = vrc == 0
                if vrc != 0:
                    rec["ok"] = False
                    rec["error"] = vout[-500:]
            else:
                rec["error"] = tail(rundir / "crtool-path.out", 3)
            out.unlink(missing_ok=True)
            log(f"path {mode}{' zstd-' + str(z) if z else ''}: "
                + (f"{secs:.3f}s, {rec['file_bytes'] / 2**20:.1f}MiB" if rec["ok"] else rec.get("error", "failed")))
            self.raw["pipe"].append(rec)

    # --- sections ------------------------------------------------------------------

    def noise(self, workload, args):
        """The largest gap between stamps when nothing checkpoints the workload: the floor of freeze_s."""
        self.seq += 1
        rundir = WORK / f"run-{self.seq}"
        rundir.mkdir()
        proc = stamp = None
        try:
            proc, stamp = self.start_workload(rundir, args, self.cfg["ready_timeout"])
            time.sleep(self.cfg["settle"])
            stamp.reset()
            time.sleep(self.cfg["noise_window"])
            self.raw["noise"][workload] = stamp.max_gap_ns() / 1e9
        except Exception as e:
            self.raw["errors"].append(f"noise {workload}: {e}")
        finally:
            if stamp:
                stamp.close()
            if proc:
                kill_tree(proc.pid)
            shutil.rmtree(rundir, ignore_errors=True)

    def workloads(self):
        for w in self.cfg["workloads"]:
            name, args = w["name"], w["args"]
            self.noise(name, args)
            for rep in range(self.cfg["reps"]):
                order = self.tools if rep % 2 == 0 else self.tools[::-1]
                for tool in order:
                    extra = {"rep": rep, "section": "workloads"}
                    if w.get("pipe_modes") and rep == 0:
                        extra["pipe_modes"] = True
                    self.run_once(tool, name, args, extra)

    def scaling(self):
        # Point by point across the curves, smallest first: a run cut short loses the largest points
        # of every curve rather than whole curves.
        curves = self.cfg["scaling"]
        for i in range(max((len(c["points"]) for c in curves), default=0)):
            for curve in curves:
                if i >= len(curve["points"]):
                    continue
                point = curve["points"][i]
                args = [a.replace("{x}", str(point)) for a in map(str, curve["args"])]
                for rep in range(self.cfg["scale_reps"]):
                    order = self.tools if rep % 2 == 0 else self.tools[::-1]
                    for tool in order:
                        self.run_once(tool, f"{curve['name']}={point}", args,
                                      {"rep": rep, "section": "scaling", "curve": curve["name"], "x": point})

    def composition(self, tool, img):
        """What an image's bytes are: per record type (linux-cr), per image file kind (CRIU)."""
        comp = {}
        if tool == "linux-cr":
            rc, out = sh(CR_TOOL, "inspect", "--json", img, timeout=600)
            if rc != 0:
                return {"error": out[-300:]}
            for r in json.loads(out)["records"]:
                comp[r["type"]] = comp.get(r["type"], 0) + r.get("len", 0)
        else:
            for f in Path(img).iterdir():
                if f.is_file() and not f.name.startswith("stats-"):
                    kind = f.name.split("-")[0].split(".")[0]
                    comp[kind] = comp.get(kind, 0) + f.stat().st_size
        return dict(sorted(comp.items(), key=lambda kv: -kv[1]))

    def profile(self):
        """perf profiles (cpu-clock, whole system) of one checkpoint and one restart by each tool, per
        profiled workload, and what each image is made of."""
        if not Path(PERF).exists():
            self.raw["errors"].append("no perf: profiles skipped")
            return
        for w in self.cfg["profile"]:
            for tool in self.tools:
                self.seq += 1
                rundir = WORK / f"run-{self.seq}"
                rundir.mkdir()
                proc = stamp = None
                try:
                    proc, stamp = self.start_workload(rundir, w["args"], self.cfg["ready_timeout"])
                    pid = proc.pid
                    prof = {}
                    data = rundir / "perf.data"

                    def under_perf(what, fn):
                        perf = subprocess.Popen([PERF, "record", "-a", "-g", "-e", "cpu-clock", "-F", "1000",
                                                 "-o", str(data)], stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
                        # perf takes a while to start under TCG: wait for its file, then a little more.
                        deadline = time.monotonic() + 30
                        while not data.exists() and time.monotonic() < deadline:
                            time.sleep(0.05)
                        time.sleep(0.5)
                        try:
                            result = fn()
                        finally:
                            perf.send_signal(signal.SIGINT)
                            perf.wait(timeout=120)
                        rc, report = sh(PERF, "report", "-i", data, "--stdio", "--no-children", "--sort",
                                        "comm,dso,sym", "--percent-limit", "0.5", "-g", "none", timeout=300)
                        prof[what] = report if rc == 0 else f"perf report failed: {report}"
                        data.unlink(missing_ok=True)
                        return result

                    img, *_ = under_perf("checkpoint", lambda: self.checkpoint(tool, pid, rundir))
                    self.raw.setdefault("composition", {}).setdefault(w["name"], {})[tool] = \
                        self.composition(tool, img)
                    kill_tree(pid)
                    under_perf("restart", lambda: self.restart(tool, img, rundir))
                    kill_tree(pid)
                    self.raw["profiles"].setdefault(w["name"], {})[tool] = prof
                    log(f"profiled {w['name']} {tool}")
                except Exception as e:
                    self.raw["errors"].append(f"profile {w['name']} {tool}: {e}")
                finally:
                    if stamp:
                        stamp.close()
                    if proc:
                        kill_tree(proc.pid)
                    shutil.rmtree(rundir, ignore_errors=True)
                self.save()

    def main(self):
        t0 = time.monotonic()
        self.setup()
        if self.cfg.get("limits_mb"):
            self.limits()
        if self.cfg.get("profile_first"):
            self.profile()
        self.workloads()
        if self.cfg.get("profile") and not self.cfg.get("profile_first"):
            self.profile()
        self.scaling()
        self.raw["seconds"] = time.monotonic() - t0
        self.save()
        failed = [r for r in self.raw["runs"] if not r["ok"]] + [p for p in self.raw["pipe"] if not p["ok"]]
        log(f"done in {self.raw['seconds']:.0f} s: {len(self.raw['runs'])} runs, {len(failed)} failed")
        return 0


if __name__ == "__main__":
    sys.exit(Bench(sys.argv[1]).main())
