"""Helpers for the tests that run inside the VM: start a workload, checkpoint
it with cr-tool, restart it, ask it to verify itself, read its verdict.

Every wait has a deadline: a test never hangs, it fails saying what it
waited for. The test process is a child subreaper, so a restored process
(re-parented when `cr-tool restart --detach` exits) can be reaped here.
"""

import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mutate

TOP = Path(__file__).resolve().parents[2]
CR_TOOL = TOP / "build" / "cr-tool" / "cr-tool"
WORKLOADS = TOP / "build" / "tests"
WORK = Path(os.environ.get("CR_TEST_WORKDIR", "/tmp/cr-tests"))
PR_SET_CHILD_SUBREAPER = 36


def kmsg(text):
    """A line in the kernel log, beside what the kernel reports (test markers, fuzz steps)."""
    try:
        with open("/dev/kmsg", "w") as f:
            f.write(text + "\n")
    except OSError:
        pass


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def wait_for(predicate, timeout, what):
    """Wait for @predicate to be true; @what says what for, or is called then to say it
    (so that it shows the latest state)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}")


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

    def logged(self, pattern):
        """The groups of the first line of the log matching @pattern."""
        m = re.search(pattern, self.log(), re.M)
        assert m, f"{self.name} did not print {pattern!r}; its log:\n{self.log()}"
        return m.groups()

    def reap_original(self, timeout=30):
        """The original process, after checkpoint --kill."""
        return self.proc.wait(timeout=timeout)

    def verdict(self, pid, timeout=120):
        """Ask the (restored) process @pid to verify itself; return (exit code, log)."""
        os.kill(pid, signal.SIGUSR1)
        code = wait_pid(pid, timeout, f"{self.name} to verify itself")
        return code, self.log()

    def assert_verifies(self, pid, timeout=120):
        """Ask the (restored) process @pid to verify itself: it must exit 0 saying PASS."""
        code, log = self.verdict(pid, timeout)
        assert code == 0 and "PASS" in log, f"{self.name} (pid {pid}) exited {code}:\n{log}"

    def assert_exits_passing(self, pid, timeout, what):
        """The (restored) process @pid ends by itself, exiting 0 saying PASS."""
        code = wait_pid(pid, timeout, what)
        assert code == 0 and "PASS" in self.log(), f"{self.name} (pid {pid}) exited {code}:\n{self.log()}"


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


def restart_verifies(wl, image):
    """Once @wl is ready: checkpoint it with --kill, restart it, and have it verify itself."""
    wl.wait_ready()
    wl.assert_verifies(checkpoint_restart(wl, image))


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


def holds_across_restart(wl, image, check):
    """check(pid, when) before checkpoint and after restart, then the workload's own verdict."""
    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    check(pid, "after restart")
    wl.assert_verifies(pid)
    return pid


def assert_checkpoint_refused(wl, image, *named):
    """checkpoint --kill of @wl fails with EOPNOTSUPP, its error naming each of @named, leaves
    no image, and the workload runs on untouched: alive, not held in a stop, and it verifies
    itself. Returns cr-tool's answer."""
    res = cr("checkpoint", "--pid", wl.pid, "--output", image, "--kill")
    assert res.returncode != 0, f"checkpoint of {wl.name} succeeded; it holds {', '.join(named)}"
    assert "Operation not supported" in res.stderr, res.stderr
    for what in named:
        assert what in res.stderr, f"the error does not name {what!r}: {res.stderr}"
    assert not image.exists(), "a failed checkpoint left an image"
    assert wl.proc.poll() is None, f"the refused checkpoint --kill killed the workload: {wl.log()}"
    state = open(f"/proc/{wl.pid}/stat").read().rsplit(")", 1)[1].split()[0]
    assert state in "SRD", f"the refused checkpoint left the workload in state {state}"
    wl.assert_verifies(wl.pid)
    return res


def tasks_left(tasks, timeout=30):
    """After a failed restart: the tasks of @tasks still there after @timeout s (there must be
    none; orphans are reaped as they exit). Any found are killed, so later tests do not see them."""
    def left():
        reap_strays()
        return [t["pid"] for t in tasks if os.path.exists(f"/proc/{t['pid']}")]
    try:
        wait_for(lambda: not left(), timeout, "the tasks of a failed restart to go")
        return []
    except AssertionError:
        stray = left()
        for pid in stray:
            os.kill(pid, signal.SIGKILL)
        try:
            wait_for(lambda: not left(), 10, "the killed tasks of a failed restart to go")
        except AssertionError:
            pass
        return stray


# ---- What a process holds, seen from outside in /proc ----

def fdinfo(pid, fd):
    """/proc/PID/fdinfo/FD as {key: value} (the first of repeated keys)."""
    info = {}
    for line in open(f"/proc/{pid}/fdinfo/{fd}"):
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    return info


def fd_target(pid, fd):
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def status_field(pid, field):
    """One field of /proc/PID/status, as written there."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def sigbit(sig):
    """The bit of @sig in a /proc signal mask."""
    return 1 << (int(sig) - 1)


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


# ---- Unprivileged users, process trees, kernel reports (fuzz, permission and fault tests) ----

# Numeric ids: the guest's /etc/passwd is the host's, read-only; these need no entry there.
USER_UID = 2001         # the unprivileged user of the permission and fuzz tests
OTHER_UID = 2002        # another unprivileged user
EXTRA_GID = 3001        # a supplementary group USER_UID may be given


def as_user(cmd, uid=USER_UID, gid=None, groups=(), caps=(), userns=False, bounding=None):
    """@cmd run as @uid (setpriv, exec'ing it in place: same pid) with exactly @groups and,
    if any, @caps inheritable and ambient (so they survive the exec). With @userns it runs
    in a new user namespace mapping only @uid and @gid to themselves, with every
    capability there (unshare --keep-caps) and none outside."""
    gid = uid if gid is None else gid
    pre = ["setpriv", f"--reuid={uid}", f"--regid={gid}"]
    pre += [f"--groups={','.join(map(str, groups))}"] if groups else ["--clear-groups"]
    if caps:
        names = ",".join("+" + c for c in caps)
        pre += [f"--inh-caps={names}", f"--ambient-caps={names}"]
    if bounding is not None:
        pre += [f"--bounding-set={bounding}"]
    pre.append("--")
    if userns:
        pre += ["unshare", "--user", f"--map-user={uid}", f"--map-group={gid}", "--keep-caps"]
    return pre + [str(c) for c in cmd]


def user_dir(uid=USER_UID, name=None):
    """A fresh directory owned by @uid under the work directory (mode 0755)."""
    d = WORK / f"{name or 'user'}-{uid}-{time.monotonic_ns()}"
    d.mkdir(parents=True)
    os.chown(d, uid, uid)
    return d


def cr_as(*args, timeout=120, **user):
    """cr-tool run through as_user(**user); returns the CompletedProcess."""
    return subprocess.run(as_user([CR_TOOL, *args], **user), capture_output=True, text=True, timeout=timeout)


class UserWorkload(Workload):
    """A workload started through as_user(): its log and working directory belong to the user,
    so that restart with the user's rights can reopen them."""

    def __init__(self, name, *args, uid=USER_UID, env=None, cwd=None, exe=None, **user):
        self.name = name
        self.uid = uid
        self.dir = Path(cwd) if cwd else user_dir(uid, name)
        self.log_path = self.dir / f"{name}.log"
        self.log_path.touch()
        os.chown(self.log_path, uid, user.get("gid", uid))
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(as_user([exe or WORKLOADS / name, *args], uid=uid, **user),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.dir, env={**os.environ, **(env or {})})
        self.pid = self.proc.pid


def proc_status(pid, keys=("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                           "NoNewPrivs", "Seccomp")):
    """The credential lines of /proc/PID/status, as {key: value}."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in keys:
            out[key] = " ".join(value.split())
    return out


def proc_stat(pid):
    """The fields of /proc/@pid/stat: (command name, [state, ppid, pgrp, session, ...]), or None
    when @pid is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm_end = stat.rfind(")")
    return stat[stat.find("(") + 1:comm_end], stat[comm_end + 2:].split()


def processes():
    """{pid: (ppid, state, comm)} of every process now."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := proc_stat(entry)):
            comm, fields = st
            out[int(entry)] = (int(fields[1]), fields[0], comm)
    return out


def session_members(sid, zombies=False):
    """The pids of the processes of session @sid: the live ones, or with @zombies those that
    still hold their pid too."""
    return [int(entry) for entry in os.listdir("/proc")
            if entry.isdigit() and (st := proc_stat(entry)) and int(st[1][3]) == sid
            and (zombies or st[1][0] != "Z")]


def descendants(root=None, procs=None):
    """{pid: (ppid, state, comm)} of every descendant of @root (default: this process)."""
    root = os.getpid() if root is None else root
    procs = processes() if procs is None else procs
    kids, found = {}, {}
    for pid, info in procs.items():
        kids.setdefault(info[0], []).append(pid)
    todo = list(kids.get(root, []))
    while todo:
        pid = todo.pop()
        found[pid] = procs[pid]
        todo += kids.get(pid, [])
    return found


def kill_descendants(keep=(), timeout=30):
    """SIGKILL and reap every descendant of ours but @keep (pids); returns what was found alive
    at the first look ({pid: (ppid, state, comm)}), zombies not counted."""
    first = None
    deadline = time.monotonic() + timeout
    while True:
        reap_strays()
        found = {p: i for p, i in descendants().items() if p not in keep}
        if first is None:
            first = {p: i for p, i in found.items() if i[1] != "Z"}
        if not found:
            return first
        if time.monotonic() > deadline:
            raise AssertionError(f"descendants that do not die: {found}")
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def kernel_flavour():
    """Which test kernel this is: "kasan" (KASAN and kmemleak), "debug" (lockdep) or "plain"."""
    if os.path.exists("/sys/kernel/debug/kmemleak"):
        return "kasan"
    if os.path.exists("/proc/lockdep"):
        return "debug"
    return "plain"


class KernelMessages:
    """The kernel log from now on (/dev/kmsg), read without blocking."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        lines = []
        while True:
            try:
                rec = os.read(self.fd, 8192).decode(errors="replace")
            except BlockingIOError:
                return lines
            except BrokenPipeError:     # overwritten before we read it: go on with the next
                continue
            lines.append(rec.partition(";")[2].rstrip("\n"))

    def splats(self):
        if str(TOP / "ci") not in sys.path:
            sys.path.insert(0, str(TOP / "ci"))
        import vm
        return vm.find_splats("\n".join(self.read()))

    def close(self):
        os.close(self.fd)


def kmemleak(command):
    """Write @command to kmemleak (clear, scan); False when this kernel has none."""
    try:
        with open("/sys/kernel/debug/kmemleak", "w") as f:
            f.write(command)
        return True
    except OSError:
        return False


def kmemleak_report():
    """What kmemleak suspects now (after a scan), "" if nothing or no kmemleak."""
    try:
        return Path("/sys/kernel/debug/kmemleak").read_text()
    except OSError:
        return ""


# ---- Reading images and cr-tool's answers ----

def kernel_errno(stderr):
    """The errno of the kernel's explanation that cr-tool printed, or None."""
    m = re.search(r"\(errno (\d+)\)", stderr)
    return int(m.group(1)) if m else None


def record_fields(data, rtype, index=0):
    """{field name: value} of the @index'th @rtype record of image @data (fixed part)."""
    layout = mutate.load_layout()
    num = {v: k for k, v in layout.types.items()}[rtype]
    buf = [b for t, b in mutate.split_records(data)[0] if t == num][index]
    s = layout.rec_struct(num)
    return {f.name: int.from_bytes(buf[f.off:f.off + f.size], "little", signed=f.signed)
            for f in s.fields if not f.is_bytes}


def refused_cleanly(res, err, pid, what):
    """cr-tool restart failed with errno @err explained by the kernel, and no task of the image is left."""
    if res.returncode == 0:
        kill_descendants()
        pytest.fail(f"{what}: restart succeeded: {res.stdout}{res.stderr}")
    assert kernel_errno(res.stderr) == err, f"{what}: expected errno {err} from the kernel: {res.stderr}"
    left = kill_descendants()
    assert not left, f"{what}: tasks were left behind: {left}"
    assert not os.path.exists(f"/proc/{pid}"), f"{what}: pid {pid} exists"



# ---- A process that restarts itself (restart(2) with no capability, one-task images) ----

class SelfRestarter:
    """The self_restart workload: P (root) and its child C, which applies @setup (see
    self_restart.c), becomes @uid (0: stays root), takes commands on its stdin (a pipe from
    us) and restarts itself with restart(0, fd, 0, 2). Both print on one pipe to us; C's stdin
    and stdout lead out of its tree, so an image of C calls them external and C's own restart
    takes them from C itself."""

    def __init__(self, uid, *setup):
        self.dir = user_dir(uid, "self-restart")
        self.proc = subprocess.Popen([str(WORKLOADS / "self_restart"), str(uid), *setup],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        self.out = b""
        os.set_blocking(self.proc.stdout.fileno(), False)
        try:
            self.wait_line("READY")
            self.child = int(self.wait_line("CHILD ").split()[1])
        except BaseException:
            self.close()
            raise

    def _drain(self):
        fd = self.proc.stdout.fileno()
        while select.select([fd], [], [], 0)[0]:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            self.out += data

    def text(self):
        self._drain()
        return self.out.decode(errors="replace")

    def lines(self):
        """The complete lines printed so far."""
        text = self.text()
        return text[:text.rfind("\n") + 1].splitlines()

    def wait_line(self, prefix, timeout=60, start=0):
        """The first complete line from line @start on that starts with @prefix."""
        return wait_for(lambda: next((line for line in self.lines()[start:] if line.startswith(prefix)), None),
                             timeout, lambda: f"a line {prefix!r} from the self_restart workload; it printed:\n"
                                              f"{self.text()}")

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def exe(self):
        return os.readlink(f"/proc/{self.child}/exe")

    def checkpoint(self, name):
        """Checkpoint C (left running) into a file the user may read; returns its path."""
        image = self.dir / name
        res = cr("checkpoint", "--pid", self.child, "--output", image)
        assert res.returncode == 0, f"checkpoint of the child {self.child}: {res.stderr}"
        os.chmod(image, 0o644)
        return image

    def restart(self, image, timeout=120):
        """Have C restart itself from @image, then answer a ping: (errno of the refused restart
        or None if it succeeded, the PONG line, what C printed meanwhile)."""
        start = len(self.lines())
        # C reads a byte at a time: "ping" waits in the pipe for whichever C reads on.
        self.send(f"restart {image}")
        self.send("ping")
        pong = self.wait_line("PONG", timeout, start)
        said = self.lines()[start:]
        failed = [line for line in said if line.startswith(("RESTART FAILED", "OPEN FAILED"))]
        assert not [line for line in failed if line.startswith("OPEN FAILED")], \
            f"the child could not open {image}: {said}"
        err = int(re.search(r"errno=(\d+)", failed[0]).group(1)) if failed else None
        return err, pong, "\n".join(said)

    def close(self):
        kill_descendants()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
