"""Kinds of process state beyond memory, registers and plain files: event
fds, timers of every sort, queued real-time signals, files without a name
(unlinked regular files, sparse or mapped, FIFOs, memfds), epoll sets, and
the refusals: a file replaced after the checkpoint, an inotify instance.

Each workload verifies itself after restart; where it is cheap the state
is also looked at from outside, in /proc/PID/{fdinfo,status,timers,maps},
before the checkpoint and after the restart."""

import os
import re
import signal
import stat
from pathlib import Path

import pytest

from crlib import (WORK, Workload, checkpoint, checkpoint_restart, cr, reap_orphan, reap_strays, report,
                   tree_of, wait_for)

def logged(wl, pattern):
    """The groups of the first line of @wl's log matching @pattern."""
    m = re.search(pattern, wl.log(), re.M)
    assert m, f"{wl.name} did not print {pattern!r}; its log:\n{wl.log()}"
    return m.groups()


def fdinfo(pid, fd):
    """/proc/PID/fdinfo/FD as {key: value} (the first of repeated keys)."""
    info = {}
    for line in open(f"/proc/{pid}/fdinfo/{fd}"):
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    return info


def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def sigbit(sig):
    """The bit of @sig in a /proc signal mask."""
    return 1 << (int(sig) - 1)


def fd_target(pid, fd):
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def holds_across_restart(wl, image, check):
    """check(pid, when) before checkpoint and after restart, then the workload's own verdict."""
    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    check(pid, "after restart")
    wl.assert_verifies(pid)
    return pid


def test_eventfd_counter_and_semaphore(image):
    """An eventfd holding 90 (O_NONBLOCK) and a semaphore eventfd holding 3."""
    wl = Workload("eventfd")
    wl.wait_ready()
    a, b = map(int, logged(wl, r"^eventfd A fd (\d+) B fd (\d+)$"))

    def check(pid, when):
        fa, fb = fdinfo(pid, a), fdinfo(pid, b)
        assert fa["eventfd-count"] == "5a" and fb["eventfd-count"] == "3", f"{when}: {fa}, {fb}"
        assert fa["eventfd-semaphore"] == "0" and fb["eventfd-semaphore"] == "1", f"{when}: {fa}, {fb}"
        assert int(fa["flags"], 8) & os.O_NONBLOCK and not int(fb["flags"], 8) & os.O_NONBLOCK, \
            f"{when}: flags A {fa['flags']}, B {fb['flags']}"

    holds_across_restart(wl, image, check)


def test_timerfd_keeps_ticks_and_period(image):
    """A 100 ms CLOCK_MONOTONIC timerfd with unread expirations, a 30 s CLOCK_REALTIME one-shot."""
    wl = Workload("timerfd")
    wl.wait_ready()
    assert "timerfd interval 100 ms" in wl.log(), wl.log()
    a, b = map(int, logged(wl, r"^timerfd A fd (\d+) B fd (\d+)$"))

    def check(pid, when):
        fa, fb = fdinfo(pid, a), fdinfo(pid, b)
        assert fa["clockid"] == "1" and fa["it_interval"] == "(0, 100000000)", f"{when}: A {fa}"
        assert int(fa["ticks"]) >= 1, f"{when}: A is not expired and unread: {fa}"
        assert fb["clockid"] == "0" and fb["it_interval"] == "(0, 0)", f"{when}: B {fb}"
        assert fb["ticks"] == "0", f"{when}: the 30 s one-shot B has fired: {fb}"
        value = tuple(map(int, fb["it_value"].strip("()").split(",")))
        assert (0, 0) < value <= (30, 0), f"{when}: B has {fb['it_value']} left"

    holds_across_restart(wl, image, check)


def test_signalfd_mask_and_pending(image):
    """A signalfd for SIGUSR2 and SIGRTMIN, a SIGRTMIN (value 5) queued for it and not read."""
    wl = Workload("signalfd")
    wl.wait_ready()
    fd = int(logged(wl, r"^signalfd fd (\d+)$")[0])
    mask = sigbit(signal.SIGUSR2) | sigbit(signal.SIGRTMIN)

    def check(pid, when):
        info = fdinfo(pid, fd)
        assert int(info["sigmask"], 16) == mask, f"{when}: sigmask {info['sigmask']}, expected {mask:016x}"
        assert int(info["flags"], 8) & os.O_NONBLOCK, f"{when}: flags {info['flags']}"
        blocked = int(status(pid, "SigBlk"), 16)
        assert blocked & (mask | sigbit(signal.SIGHUP)) == mask | sigbit(signal.SIGHUP), \
            f"{when}: SigBlk {blocked:016x}"
        assert int(status(pid, "ShdPnd"), 16) == sigbit(signal.SIGRTMIN), \
            f"{when}: ShdPnd {status(pid, 'ShdPnd')}, expected SIGRTMIN alone"

    holds_across_restart(wl, image, check)


def test_itimers_keep_firing(image):
    """ITIMER_REAL (200 ms), ITIMER_VIRTUAL and ITIMER_PROF (100 ms) keep their intervals and fire."""
    wl = Workload("itimers")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    wl.assert_verifies(pid)


def posix_timers(pid):
    """The entries of /proc/PID/timers, each a tuple of its lines, sorted."""
    timers = []
    for line in open(f"/proc/{pid}/timers"):
        if line.startswith("ID:"):
            timers.append([])
        timers[-1].append(line.strip())
    return sorted(map(tuple, timers))


def test_posix_timers_keep_firing(image):
    """A 150 ms SIGEV_SIGNAL timer (SIGRTMIN+1, value 42), a 60 s SIGEV_NONE one and a 50 ms
    one whose signal is blocked and queued: ids, settings and the queued signal kept."""
    wl = Workload("posix_timers")
    wl.wait_ready()
    ids = sorted(map(int, logged(wl, r"^timer ids (\d+) (\d+) (\d+)$")))
    before = posix_timers(wl.pid)
    assert sorted(int(t[0].split()[1]) for t in before) == ids, before
    pid = checkpoint_restart(wl, image)
    after = posix_timers(pid)
    assert after == before, f"/proc/PID/timers before checkpoint:\n{before}\nafter restart:\n{after}"
    wl.assert_verifies(pid)


def test_rt_signals_keep_order_and_values(image):
    """Five SIGRTMIN queued with values 1..5 while blocked: all five, in order, after restart;
    a SIGCHLD pending from a child that exited, with its siginfo, and the child a zombie."""
    wl = Workload("rtsignals")
    wl.wait_ready()
    pending = sigbit(signal.SIGRTMIN) | sigbit(signal.SIGCHLD)
    assert int(status(wl.pid, "ShdPnd"), 16) == pending, \
        f"before checkpoint: ShdPnd {status(wl.pid, 'ShdPnd')}"
    pid = checkpoint_restart(wl, image)
    assert int(status(pid, "ShdPnd"), 16) == pending, \
        f"after restart: ShdPnd {status(pid, 'ShdPnd')}"
    assert int(status(pid, "SigBlk"), 16) & sigbit(signal.SIGRTMIN), status(pid, "SigBlk")
    wl.assert_verifies(pid)


def test_unlinked_files_keep_contents_holes_and_sharing(image):
    """An unlinked 5 MiB file, an unlinked sparse 2 GiB file with 1 MiB of data, and an unlinked
    file only a parent's and a child's shared mappings keep: the image holds about their data."""
    wl = Workload("unlinked")
    wl.wait_ready()
    a, b, addr, child = logged(wl, r"^unlinked ready: a fd (\d+), .*; b fd (\d+), .*; "
                                   r"c 64 KiB mapped at 0x([0-9a-f]+); child (\d+)$")
    child = int(child)

    def check(pid, when):
        for fd in (a, b):
            assert fd_target(pid, fd).endswith(" (deleted)"), f"{when}: fd {fd} is {fd_target(pid, fd)}"
        assert int(fdinfo(pid, a)["pos"]) == 1234 and int(fdinfo(pid, b)["pos"]) == 777, when
        for task in (pid, child):
            maps = [line for line in open(f"/proc/{task}/maps") if line.startswith(addr + "-")]
            assert maps and maps[0].rstrip().endswith("(deleted)"), f"{when}: {task} maps {maps}"

    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    size = image.stat().st_size
    report(f"unlinked files (6 MiB of data, 2 GiB apparent): image {size >> 10} KiB")
    assert size < 16 << 20, f"the image is {size} bytes: the sparse file's holes were saved?"
    check(pid, "after restart")
    wl.assert_verifies(pid)


def test_fifos_keep_their_data(image):
    """A FIFO open at both ends holding 1000 bytes comes back open at both ends, the same
    FIFO, with the same bytes; an unlinked FIFO holding 100 comes back unlinked, with
    its name, mode and bytes."""
    wl = Workload("fifo")
    wl.wait_ready()
    name, r, w, b = logged(wl, r"^fifo a (\S+): read fd (\d+), write fd (\d+); b \(unlinked\) fd (\d+)$")
    path = WORK / name

    def check(pid, when):
        ino = os.stat(path).st_ino
        for fd in (r, w):
            assert os.stat(f"/proc/{pid}/fd/{fd}").st_ino == ino, f"{when}: fd {fd} is not the FIFO {path}"
        assert int(fdinfo(pid, r)["flags"], 8) & os.O_NONBLOCK, f"{when}: the read end lost O_NONBLOCK"
        target = fd_target(pid, b)
        assert target == str(WORK / name.replace(".a", ".b")) + " (deleted)", f"{when}: fd {b} is {target}"
        st = os.stat(f"/proc/{pid}/fd/{b}")
        assert stat.S_ISFIFO(st.st_mode) and st.st_nlink == 0 and stat.S_IMODE(st.st_mode) == 0o640, \
            f"{when}: fd {b}: mode {st.st_mode:o}, {st.st_nlink} links"

    holds_across_restart(wl, image, check)


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


@pytest.mark.parametrize("change", ["renamed", "appended"])
def test_file_replaced_after_checkpoint_is_refused(image, change):
    """A file the tree has open (read-only) is replaced by a rename, or appended to, after the
    checkpoint: restart refuses, naming it, and leaves no task behind."""
    wl = Workload("replaced")
    wl.wait_ready()
    victim = Path(logged(wl, r"^victim (\S+)$")[0])
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    tasks = tree_of(image)
    assert [t["pid"] for t in tasks] == [wl.pid, int(logged(wl, r"^child (\d+)$")[0])], tasks
    for t in tasks[1:]:
        reap_orphan(t["pid"])
    if change == "renamed":
        # The same contents in another inode: only the file's identity differs.
        new = victim.with_name(victim.name + ".new")
        new.write_bytes(victim.read_bytes())
        os.rename(new, victim)
    else:
        with open(victim, "a") as f:
            f.write("appended after the checkpoint\n")
    try:
        res = cr("restart", image)
    finally:
        left = tasks_left(tasks)
        victim.unlink()
    assert res.returncode != 0, f"restart with the victim {change} succeeded: {res.stdout}"
    assert str(victim) in res.stderr, f"the error does not name {victim}: {res.stderr}"
    assert not left, f"tasks left behind after a failed restart: {left}"


def test_inotify_is_refused_naming_the_fd(image):
    """Checkpoint of a process holding an inotify fd: EOPNOTSUPP naming the fd, no image, and
    the process runs on untouched."""
    wl = Workload("inotify")
    wl.wait_ready()
    fd = int(logged(wl, r"^inotify fd (\d+)$")[0])
    res = cr("checkpoint", "--pid", wl.pid, "--output", image, "--kill")
    assert res.returncode != 0, "checkpoint of an inotify fd succeeded"
    assert "inotify" in res.stderr, res.stderr
    assert re.search(rf"\bfd[ =:#]*{fd}\b", res.stderr), f"the error does not name fd {fd}: {res.stderr}"
    assert "Operation not supported" in res.stderr, res.stderr
    assert not image.exists(), "a failed checkpoint left an image"
    assert wl.proc.poll() is None, f"the refused checkpoint --kill killed the workload: {wl.log()}"
    state = open(f"/proc/{wl.pid}/stat").read().rsplit(")", 1)[1].split()[0]
    assert state in "SRD", f"the workload is left in state {state}"
    wl.assert_verifies(wl.pid)


def epoll_targets(pid, fd):
    """The targets of epoll fd @fd of @pid, as {(tfd, events, data)} from its fdinfo."""
    text = open(f"/proc/{pid}/fdinfo/{fd}").read()
    return {(int(t), int(e, 16), int(d, 16))
            for t, e, d in re.findall(r"^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)\s+data:\s*([0-9a-f]+)", text, re.M)}


def test_epoll_sets_keep_targets_and_readiness(image):
    """Two epoll sets over six pipes (level, edge, one-shot; some registered through a closed
    dup) and a third watching the second: the same targets, data words and ready sets, a
    consumed edge not reported again."""
    wl = Workload("epoll")
    wl.wait_ready()
    ep1, ep2 = map(int, logged(wl, r"^epoll fds (\d+) (\d+)$"))
    before = (epoll_targets(wl.pid, ep1), epoll_targets(wl.pid, ep2))
    assert [sorted(d for _, _, d in s) for s in before] == [[100, 101, 102], [203, 204, 205]], before
    closed = sorted(t for s in before for t, _, _ in s if t >= 40)
    assert closed == [41, 43, 45], before
    pid = checkpoint_restart(wl, image)
    after = (epoll_targets(pid, ep1), epoll_targets(pid, ep2))
    assert after == before, f"epoll targets (tfd, events, data) before checkpoint {before}, after {after}"
    for fd in closed:
        assert not os.path.exists(f"/proc/{pid}/fd/{fd}"), f"the closed dup fd {fd} is open after restart"
    wl.assert_verifies(pid)


def test_memfd_keeps_contents_and_seals(image):
    """A sealed 3 MiB memfd, also mapped MAP_SHARED: contents, name, seals and sharing kept."""
    wl = Workload("memfd")
    wl.wait_ready()
    fd = int(logged(wl, r"^memfd fd (\d+)$")[0])

    def check(pid, when):
        assert fd_target(pid, fd) == "/memfd:cr-test (deleted)", f"{when}: fd {fd} is {fd_target(pid, fd)}"
        assert int(fdinfo(pid, fd)["pos"]) == 4101, f"{when}: {fdinfo(pid, fd)}"
        maps = [line for line in open(f"/proc/{pid}/maps") if "/memfd:cr-test (deleted)" in line]
        assert len(maps) == 1 and maps[0].split()[1] == "rw-s", f"{when}: memfd mappings {maps}"

    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    report(f"memfd (3 MiB, mapped): image {image.stat().st_size >> 10} KiB")
    check(pid, "after restart")
    wl.assert_verifies(pid)


@pytest.mark.parametrize("kind,what", [("cputimer", "CPU-time clock"), ("socket", "a socket"),
                                       ("io_uring", "io_uring"), ("pidfd", "a pidfd"),
                                       ("opath", "an O_PATH file")])
def test_unsupported_kinds_are_refused_clearly(image, kind, what):
    """What cannot be saved yet makes checkpoint fail with EOPNOTSUPP naming it, never
    an image without it; the process runs on untouched."""
    wl = Workload("unsupported", env={"CR_UNSUPPORTED": kind})
    wl.wait_ready()
    res = cr("checkpoint", "--pid", wl.pid, "--output", image, "--kill")
    assert res.returncode != 0, f"checkpoint of a process with {what} succeeded"
    assert "Operation not supported" in res.stderr and what in res.stderr, res.stderr
    assert not image.exists(), "a failed checkpoint left an image"
    wl.assert_verifies(wl.pid)
