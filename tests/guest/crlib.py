"""Helpers for the tests that run inside the VM: start a workload, checkpoint
it with cr-tool, restart it, ask it to verify itself, read its verdict.

Every wait has a deadline: a test never hangs, it fails saying what it
waited for. The test process is a child subreaper, so a restored process
(re-parented when `cr-tool restart --detach` exits) can be reaped here.
"""

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
CR_TOOL = TOP / "build" / "cr-tool" / "cr-tool"
WORKLOADS = TOP / "build" / "tests"
WORK = Path(os.environ.get("CR_TEST_WORKDIR", "/tmp/cr-tests"))
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_pid(pid, timeout, what="the process to exit"):
    """Reap @pid (a child or an orphan we inherited); return its exit code (128+N if killed)."""
    def reaped():
        got, status = os.waitpid(pid, os.WNOHANG)
        return (got == pid, status)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (pid {pid}); killed it")


def cr(*args, timeout=120, user=None):
    """Run cr-tool; returns the CompletedProcess (never raises on failure)."""
    def drop():
        if user is not None:
            os.setgroups([])
            os.setgid(user)
            os.setuid(user)
    return subprocess.run([str(CR_TOOL), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=drop if user is not None else None)


class Workload:
    """A test program from tests/workloads, its output in a log file."""

    def __init__(self, name, *args, env=None):
        WORK.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = WORK / f"{name}-{time.monotonic_ns()}.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([str(WORKLOADS / name), *map(str, args)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=WORK,
                                         env={**os.environ, **(env or {})})
        self.pid = self.proc.pid

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_line(self, line, timeout=60):
        wait_for(lambda: line in self.log().splitlines(), timeout,
                 f"{self.name} to print {line!r}; its log:\n{self.log()}")

    def wait_ready(self, timeout=60):
        self.wait_line("READY", timeout)

    def reap_original(self, timeout=30):
        """The original process, after checkpoint --kill."""
        return self.proc.wait(timeout=timeout)

    def verdict(self, pid, timeout=120):
        """Ask the (restored) process @pid to verify itself; return (exit code, log)."""
        os.kill(pid, signal.SIGUSR1)
        code = wait_pid(pid, timeout, f"{self.name} to verify itself")
        return code, self.log()


def checkpoint(pid, image, kill=True, timeout=300):
    args = ["checkpoint", "--pid", pid, "--output", image]
    if kill:
        args.append("--kill")
    res = cr(*args, timeout=timeout)
    assert res.returncode == 0, f"cr-tool checkpoint failed: {res.stderr}"
    assert Path(image).exists(), "cr-tool checkpoint succeeded but left no image"
    return res


def restart_detached(image, *extra, timeout=300):
    """Restart @image; return the restored pid as cr-tool prints it."""
    res = cr("restart", "--detach", *extra, image, timeout=timeout)
    assert res.returncode == 0, f"cr-tool restart failed: {res.stderr}"
    return int(res.stdout.split()[0])


def reap_orphan(pid, timeout=30):
    """Reap @pid once it has been re-parented to us (we are a subreaper) and exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got, _ = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                return
        except ChildProcessError:
            if not os.path.exists(f"/proc/{pid}"):
                return
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} was not reaped within {timeout} s")


def reap_strays():
    """Reap every child of ours that has exited (orphans of a failed restart)."""
    while True:
        try:
            got, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if got == 0:
            return


def tree_of(image):
    """The TREE entries of @image as cr-tool inspect shows them."""
    tree = [r for r in inspect_json(image)["records"] if r["type"] == "TREE"]
    assert len(tree) == 1, tree
    return tree[0]["tasks"]


def checkpoint_restart(wl, image, timeout=300):
    """Checkpoint @wl's tree with --kill, reap it, restart it; return the restored root's pid."""
    checkpoint(wl.pid, image, kill=True, timeout=timeout)
    assert wl.reap_original() == -signal.SIGKILL, "checkpoint --kill did not kill the original"
    # The rest of a tree was re-parented to us when its root died.
    for task in tree_of(image)[1:]:
        reap_orphan(task["pid"])
    pid = restart_detached(image, timeout=timeout)
    assert pid == wl.pid, f"restored with pid {pid}, expected the original {wl.pid}"
    return pid


def report(line):
    """A measurement worth showing but not asserting: printed by the host after the run."""
    print(line)
    if os.path.isdir("/mnt/out"):
        with open("/mnt/out/timings.txt", "a") as f:
            f.write(line + "\n")


def inspect_json(image):
    import json
    res = cr("inspect", "--json", image)
    assert res.returncode == 0, f"cr-tool inspect failed: {res.stderr}"
    return json.loads(res.stdout)
