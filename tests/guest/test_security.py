"""What neither an edited image nor a caller without rights may get from
checkpoint(2) and restart(2): one test per property, each a reproducer of
a hole that was open.

- A process restarts itself with restart(0, fd, 0, logfd) and needs no
  capability for that when its pid is the root of a one-task image (the
  self_restart workload: a root parent, an unprivileged child that takes
  "restart PATH" commands on a pipe). Such an image must not choose the
  signal its parent gets at its exit, nor the file /proc/PID/exe links to.
- restart(2) must not hold a lock shared by every restart while it writes
  its log, a file the caller chose and may never drain.
- The CPU record's padding word is spelled out (`reserved`), written as zero
  and refused when it is not.
- checkpoint(2) copies an unlinked file's contents into the image only for
  a caller who could read the file, and never the state of a file reached
  only through an epoll watch and held open outside the tree.

Images the kernel must refuse are made from real ones by mutate.set_fields(),
trailer fixed, so only the kernel's own checks stand in the way. Every wait
has a deadline, and every test kills what it started (crlib.kill_descendants).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import crlib
import mutate
from crlib import USER_UID, SelfRestarter, cr, cr_as, kernel_errno, record_fields, refused_cleanly

EPERM, EACCES, EBUSY, EINVAL = 1, 13, 16, 22


def nr_restart():
    """restart(2)'s number, from the syscall table the series' headers export (464 on x86_64)."""
    unistd = crlib.TOP / "build" / "uapi" / "asm" / "unistd_64.h"
    m = re.search(r"^#define __NR_restart (\d+)$", unistd.read_text(), re.M)
    assert m, f"{unistd} has no __NR_restart: `make headers`"
    return int(m.group(1))


def mm_exe(data):
    """The executable's path of the first MM record of @data."""
    layout = mutate.load_layout()
    num = layout.consts["CR_REC_MM"]
    buf = [b for t, b in mutate.split_records(data)[0] if t == num][0]
    s = layout.rec_struct(num)
    return bytes(buf[s.size:s.size + record_fields(data, "MM")["exe_len"]]).decode()


def proc_state(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat[stat.rfind(")") + 2:].split()[0]


@pytest.fixture
def self_restarter():
    w = SelfRestarter(USER_UID)
    yield w
    w.close()


def test_restarted_process_cannot_choose_the_signal_its_parent_gets(self_restarter):
    """Only a task's creator chooses its exit signal (clone3), and the parent may be a process
    the restoring user has no right to signal: an image whose root claims SIGUSR2 as its exit
    signal restarts, but its parent still gets SIGCHLD when it exits."""
    w = self_restarter
    image = w.checkpoint("self.cr")
    data = image.read_bytes()
    task = record_fields(data, "TASK")
    assert task["pid"] == w.child and task["exit_signal"] == signal.SIGCHLD, \
        f"the image's TASK record is not the child's with SIGCHLD: {task}"
    bad = w.dir / "exit-signal-sigusr2.cr"
    bad.write_bytes(mutate.set_fields(data, "TASK", exit_signal=signal.SIGUSR2))
    os.chmod(bad, 0o644)

    err, pong, said = w.restart(bad)
    assert err is None, f"the restart from an image claiming exit signal SIGUSR2 was refused (errno {err}): " \
                        f"it should restart, keeping the exit signal its creator chose:\n{said}"
    assert "tried=0" in pong, f"the child did not become its checkpointed self: {pong}\n{said}"
    assert not [line for line in w.lines() if line.startswith("PARENT GOT")], \
        f"the parent got a signal before the child exited:\n{w.text()}"
    w.send("exit")
    got = w.wait_line("PARENT GOT")
    exited = w.wait_line("CHILD EXITED")
    assert w.proc.wait(timeout=30) == 0, w.text()
    assert "SIGCHLD" in got, f"the root parent got {got!r} at the restarted child's exit, not SIGCHLD: " \
                             f"the image chose the signal\n{w.text()}"
    assert got.endswith(f"from pid {w.child} code 1"), f"not the child's exit (CLD_EXITED): {got}"
    assert exited == "CHILD EXITED code=1 status=0", f"the child did not exit normally: {exited}\n{w.text()}"


def test_restart_cannot_fake_the_executable_link(self_restarter):
    """/proc/PID/exe is a link audit and LSMs trust: an unprivileged restart may not make it
    another file, even one the user may run (EPERM before anything is replaced). The same
    image unpatched restarts and keeps the link."""
    w = self_restarter
    exe_before = w.exe()
    image = w.checkpoint("self.cr")
    data = image.read_bytes()
    assert mm_exe(data) == exe_before, f"the image's exe {mm_exe(data)!r} is not /proc/PID/exe {exe_before!r}"
    other = crlib.user_dir(USER_UID, "other-exe") / "other-program"
    shutil.copyfile("/bin/true", other)
    os.chmod(other, 0o755)
    runs = subprocess.run(crlib.as_user([other]), capture_output=True, timeout=60)
    assert runs.returncode == 0, f"the user cannot run {other} itself: {runs}"
    path = str(other).encode()
    bad = w.dir / "other-exe.cr"
    bad.write_bytes(mutate.set_fields(data, "MM", tail=path, exe_len=len(path)))
    os.chmod(bad, 0o644)

    err, pong, said = w.restart(bad)
    exe_after = w.exe()
    assert err is not None, f"the restart from an image naming {other} as its executable succeeded: " \
                            f"/proc/{w.child}/exe is now {exe_after}\n{said}"
    assert err == EPERM, f"the restart naming another executable failed with errno {err}, expected EPERM:\n{said}"
    assert "tried=1" in pong, f"the refused restart did not leave the process as it was: {pong}\n{said}"
    assert exe_after == exe_before, f"/proc/{w.child}/exe changed to {exe_after} by a refused restart"

    # The control: the image as the kernel wrote it restarts, and the link stays.
    err, pong, said = w.restart(image)
    assert err is None, f"the unpatched image was refused (errno {err}):\n{said}"
    assert "tried=0" in pong, f"the child did not become its checkpointed self: {pong}\n{said}"
    assert w.exe() == exe_before, f"/proc/{w.child}/exe is {w.exe()} after restart, was {exe_before}"


# ---- no restart waits for another's log ----

# As the user: restart(0, fd, 0, logfd) with fd open write-only (restart must explain "fd N is
# not open for reading" on logfd) and logfd a pipe filled to the brim that nobody reads.
BLOCK_ON_LOG = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
image = os.open(sys.argv[1], os.O_WRONLY)
r, w = os.pipe()
os.set_blocking(w, False)
filled = 0
for chunk in (65536, 4096, 1):
    while True:
        try:
            filled += os.write(w, b"x" * chunk)
        except BlockingIOError:
            break
os.set_blocking(w, True)
print(f"FILLED {filled} bytes; restart(0, {image}, 0, {w})", flush=True)
L = ctypes.c_long
ret = libc.syscall(L(int(sys.argv[2])), L(0), L(image), L(0), L(w))
print(f"RETURNED {ret} errno={ctypes.get_errno()}", flush=True)
"""

# restart(0, fd, 0, -1) on a file of garbage: it reads the header and fails at once.
RESTART_GARBAGE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
image = os.open(sys.argv[1], os.O_RDONLY)
L = ctypes.c_long
print("CALLING", flush=True)
ret = libc.syscall(L(int(sys.argv[2])), L(0), L(image), L(0), L(-1))
print(f"RETURNED {ret} errno={ctypes.get_errno()}", flush=True)
"""


def blocked_in_restart(pid):
    """Is @pid asleep inside restart(2)?"""
    try:
        nr = Path(f"/proc/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return False
    return nr == str(nr_restart()) and proc_state(pid) in ("S", "D")


def test_a_restart_blocked_on_its_log_does_not_block_other_restarts():
    """A, unprivileged, makes restart(2) block writing its explanation to a full pipe; B's
    restart of a garbage file must still return at once (within 5 s), and SIGKILL must end A."""
    d = crlib.user_dir(USER_UID, "log-block")
    wronly = d / "write-only"
    wronly.write_bytes(b"")
    os.chown(wronly, USER_UID, USER_UID)
    garbage = d / "garbage.cr"
    garbage.write_bytes(b"this is not an image\n" * 200)
    os.chmod(garbage, 0o644)
    a_log, b_log = d / "a.log", d / "b.log"
    with open(a_log, "w") as log:
        a = subprocess.Popen(crlib.as_user([sys.executable, "-c", BLOCK_ON_LOG, wronly, nr_restart()]),
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        crlib.wait_for(lambda: "FILLED" in a_log.read_text() and blocked_in_restart(a.pid), 60,
                      lambda: f"A (pid {a.pid}, state {proc_state(a.pid)}) to block in restart(2) writing its "
                              f"log; its output:\n{a_log.read_text()}")
        assert a.poll() is None and "RETURNED" not in a_log.read_text(), \
            f"A's restart(2) returned: its log write did not block\n{a_log.read_text()}"

        with open(b_log, "w") as log:
            b = subprocess.Popen([sys.executable, "-c", RESTART_GARBAGE, garbage, str(nr_restart())],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        crlib.wait_for(lambda: "CALLING" in b_log.read_text() or b.poll() is not None, 60,
                      lambda: f"B (pid {b.pid}) to call restart(2); its output:\n{b_log.read_text()}")
        deadline = time.monotonic() + 5
        while b.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        b_hung = b.poll() is None
        b_where = f"state {proc_state(b.pid)}, in restart(2): {blocked_in_restart(b.pid)}" if b_hung else ""
        a_was_blocked = blocked_in_restart(a.pid)

        os.kill(a.pid, signal.SIGKILL)
        try:
            a_code = a.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"SIGKILL did not end A's restart(2) blocked on its log within 30 s "
                        f"(state {proc_state(a.pid)})")
        if b_hung:
            b.wait(timeout=60)      # with A gone it goes on
        assert not b_hung, f"B's restart(2) of a garbage file did not return within 5 s while A's restart(2) was " \
                           f"blocked writing its log ({b_where}); it returned once A was killed:\n{b_log.read_text()}"
        assert a_was_blocked, "A's restart(2) stopped blocking on its log before B returned: the test proved nothing"
        assert a_code == -signal.SIGKILL, f"A ended with {a_code}, not by SIGKILL:\n{a_log.read_text()}"
        m = re.search(r"RETURNED (-?\d+) errno=(\d+)", b_log.read_text())
        assert m and int(m.group(1)) == -1 and int(m.group(2)) != 0, \
            f"B's restart(2) of a garbage file did not fail with an errno:\n{b_log.read_text()}"
    finally:
        crlib.kill_descendants()


# ---- the CPU record's padding ----

def test_cpu_record_padding_is_refused(image):
    """struct cr_rec_cpu ends in an explicit reserved word: every CPU record checkpoint writes
    has it zero (no stack bytes in the image), and restart refuses an image where it is not
    (EINVAL); the same image unpatched restarts."""
    layout = mutate.load_layout()
    cpu = layout.structs["cr_rec_cpu"]
    by_name = {f.name: f for f in cpu.fields}
    assert "reserved" in by_name, "struct cr_rec_cpu has no reserved field: its tail padding is implicit"
    reserved = by_name["reserved"]
    assert reserved.off + reserved.size == cpu.size, \
        f"cr_rec_cpu.reserved at {reserved.off}+{reserved.size} does not end the {cpu.size}-byte struct"
    wl = crlib.Workload("threads")
    try:
        wl.wait_ready()
        crlib.checkpoint(wl.pid, image)
        wl.reap_original()
        data = image.read_bytes()
        cpus = [buf for t, buf in mutate.split_records(data)[0] if t == layout.consts["CR_REC_CPU"]]
        assert len(cpus) == len(crlib.tree_of(image)), f"{len(cpus)} CPU records for {len(crlib.tree_of(image))} tasks"
        for i, buf in enumerate(cpus):
            assert len(buf) == cpu.size, f"CPU record {i} is {len(buf)} bytes, the struct {cpu.size}"
            word = bytes(buf[reserved.off:reserved.off + reserved.size])
            assert word == bytes(reserved.size), f"CPU record {i} was written with reserved = {word.hex()}, not zero"

        bad = image.with_name("cpu-reserved.cr")
        bad.write_bytes(mutate.set_fields(data, "CPU", reserved=1))
        res = cr("restart", "--detach", "--no-verify", bad)
        refused_cleanly(res, EINVAL, wl.pid, "CPU reserved = 1")
        assert "reserved" in res.stderr, f"the refusal does not name the field: {res.stderr}"

        pid = crlib.restart_detached(image)
        code, log = wl.verdict(pid)
        assert code == 0, f"the unpatched image did not restart whole:\n{log}"
    finally:
        crlib.kill_descendants()


# ---- what checkpoint reads for its caller ----

def test_checkpoint_does_not_read_unlinked_files_the_caller_could_not():
    """The user's own process holds open root's 0600 file, unlinked: the user may checkpoint the
    process but not have the file's contents (EACCES naming the file, no image, the process
    running); root's checkpoint of it holds them."""
    secret = f"cr-secret-{os.urandom(8).hex()}".encode()
    content = secret * 64
    d = crlib.WORK / f"root-only-{time.monotonic_ns()}"
    d.mkdir(parents=True)
    os.chmod(d, 0o755)
    path = d / "root-only-secret"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, content)
    os.close(fd)
    wl = crlib.Workload("unlinked_secret", path, USER_UID, len(content))
    try:
        wl.wait_ready()
        assert f"reopen as uid {USER_UID}: errno {EACCES}" in wl.log(), \
            f"the user could open the file itself: the test proves nothing\n{wl.log()}"
        assert not path.exists(), "the file was not unlinked"

        out = crlib.user_dir(USER_UID, "unlinked-secret")
        res = cr_as("checkpoint", "--pid", wl.pid, "--output", out / "user.cr")
        left = sorted(out.iterdir())
        leaked = [p.name for p in left if secret in p.read_bytes()]
        assert res.returncode != 0, f"uid {USER_UID} checkpointed a process holding root's 0600 file: " \
                                    f"images {[p.name for p in left]}, holding the file's contents: {leaked}"
        assert not leaked, f"files holding root's secret were left to the user: {leaked}"
        assert kernel_errno(res.stderr) == EACCES, f"expected EACCES from the kernel: {res.stderr}"
        assert path.name in res.stderr, f"the refusal does not name the file {path.name}: {res.stderr}"
        assert not left, f"a failed checkpoint left files behind: {left}"
        assert wl.proc.poll() is None, f"the process did not survive the refused checkpoint:\n{wl.log()}"

        # The control: root may read the file, so its checkpoint holds it.
        root_image = d / "root.cr"
        res = cr("checkpoint", "--pid", wl.pid, "--output", root_image)
        assert res.returncode == 0, f"root's checkpoint of the process: {res.stderr}"
        assert secret in root_image.read_bytes(), "root's image does not hold the file's contents"
        os.kill(wl.pid, signal.SIGUSR1)
        assert wl.proc.wait(timeout=60) == 0, wl.log()
    finally:
        crlib.kill_descendants()


class FdWorkload(crlib.Workload):
    """A workload that inherits @pass_fds from us."""

    def __init__(self, name, *args, pass_fds=()):
        crlib.WORK.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = crlib.WORK / f"{name}-{time.monotonic_ns()}.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([str(crlib.WORKLOADS / name), *map(str, args)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=crlib.WORK, pass_fds=pass_fds)
        self.pid = self.proc.pid


def test_epoll_watch_of_a_pipe_held_outside_the_tree_is_refused(image):
    """The tree's epoll watches a pipe only we (outside the tree) hold open: its bytes are not
    the tree's and restart could not rebuild the link, so checkpoint fails with EBUSY naming
    the watch, writes no image and leaves the tree running; the pipe keeps its bytes."""
    secret = f"cr-pipe-secret-{os.urandom(8).hex()}".encode()
    r, w = os.pipe()
    try:
        os.write(w, secret)
        wl = FdWorkload("epoll_outside", r, pass_fds=(r,))
        wl.wait_ready()
        res = cr("checkpoint", "--pid", wl.pid, "--output", image)
        leaked = image.exists() and secret in image.read_bytes()
        assert res.returncode != 0, f"the checkpoint of an epoll watching a pipe held outside the tree succeeded " \
                                    f"(the image holds the pipe's bytes: {leaked})"
        assert not image.exists(), "a failed checkpoint left an image"
        assert kernel_errno(res.stderr) == EBUSY, f"expected EBUSY from the kernel: {res.stderr}"
        assert f"fd {r}" in res.stderr and "watch" in res.stderr, \
            f"the refusal does not name the watch of fd {r}: {res.stderr}"
        assert wl.proc.poll() is None, f"the tree did not survive the refused checkpoint:\n{wl.log()}"
        os.kill(wl.pid, signal.SIGUSR1)
        assert wl.proc.wait(timeout=60) == 0, wl.log()
        os.set_blocking(r, False)
        assert os.read(r, 4096) == secret, "the pipe lost its bytes"
    finally:
        crlib.kill_descendants()
        os.close(r)
        os.close(w)


def test_a_zombie_root_is_refused_at_checkpoint(image):
    """restart rebuilds a tree from its root and refuses an image whose root is a zombie: so
    checkpoint refuses it first (EINVAL), and writes nothing, rather than an image restart
    cannot restore (with --kill, a lost job)."""
    child = subprocess.Popen(["/bin/true"])
    crlib.wait_for(lambda: proc_state(child.pid) == "Z", 30, "the child to become a zombie")
    try:
        res = cr("checkpoint", "--pid", child.pid, "--output", image)
        assert res.returncode != 0, "the checkpoint of a zombie succeeded: restart would refuse its image"
        assert kernel_errno(res.stderr) == EINVAL and "zombie" in res.stderr, res.stderr
        assert not image.exists(), "a refused checkpoint left an image"
    finally:
        child.wait(timeout=30)
