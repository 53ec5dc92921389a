"""Threads, and what clone() lets processes share: every thread comes back
with its tid and its own TLS, mask, stack and alternate stack; threads
asleep on futexes stay asleep and wake in order; an open file description,
an fd table and an fs_struct shared at checkpoint are shared after restart.

Besides each workload's own verdict, the sharing is checked from outside
with kcmp(2) (CONFIG_KCMP), and offsets in /proc/PID/fdinfo."""

import ctypes
import os
import platform
import re

from crlib import Workload, checkpoint_restart, tree_of, wait_for

SYS_KCMP = {"x86_64": 312, "aarch64": 272}
KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND = 0, 1, 2, 3, 4

_libc = ctypes.CDLL(None, use_errno=True)


def kcmp_same(pid1, pid2, kind, idx1=0, idx2=0):
    """Do @pid1 and @pid2 share the kernel object @kind (for KCMP_FILE: fds @idx1, @idx2)?"""
    ret = _libc.syscall(ctypes.c_long(SYS_KCMP[platform.machine()]), ctypes.c_long(pid1),
                        ctypes.c_long(pid2), ctypes.c_long(kind), ctypes.c_long(idx1),
                        ctypes.c_long(idx2))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"kcmp({pid1}, {pid2}, {kind}, {idx1}, {idx2}): {os.strerror(err)}")
    return ret == 0


def logged_tids(wl):
    """The "thread i tid N" lines of @wl, as [N for i = 0, 1, ...]."""
    found = dict((int(i), int(tid)) for i, tid in re.findall(r"^thread (\d+) tid (\d+)$", wl.log(), re.M))
    return [found[i] for i in sorted(found)]


def task_ids(pid):
    return {int(t) for t in os.listdir(f"/proc/{pid}/task")}


def task_status(pid, tid, field):
    for line in open(f"/proc/{pid}/task/{tid}/status"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {field} in /proc/{pid}/task/{tid}/status")


def task_state(pid, tid):
    return open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()[0]


def fd_pos(pid, fd):
    for line in open(f"/proc/{pid}/fdinfo/{fd}"):
        if line.startswith("pos:"):
            return int(line.split()[1])
    raise AssertionError(f"no pos in /proc/{pid}/fdinfo/{fd}")


def test_8_threads_keep_tls_masks_and_stacks(image):
    wl = Workload("threads")
    wl.wait_ready()
    tids = logged_tids(wl)
    assert len(set(tids)) == 8, wl.log()
    assert task_ids(wl.pid) == {wl.pid, *tids}, f"/proc/{wl.pid}/task: {task_ids(wl.pid)}"
    masks = {tid: task_status(wl.pid, tid, "SigBlk") for tid in [wl.pid, *tids]}
    assert len(set(masks.values())) == 9, f"the 9 threads do not have 9 different masks: {masks}"

    pid = checkpoint_restart(wl, image)
    assert task_ids(pid) == {pid, *tids}, f"threads {sorted(tids)} restored as {sorted(task_ids(pid))}"
    after = {tid: task_status(pid, tid, "SigBlk") for tid in [pid, *tids]}
    assert after == masks, f"blocked masks before {masks}, after {after}"
    for tid in tids:
        for kind, what in [(KCMP_VM, "mm"), (KCMP_FILES, "fd table"), (KCMP_FS, "fs_struct"),
                           (KCMP_SIGHAND, "signal handlers")]:
            assert kcmp_same(pid, tid, kind), f"thread {tid} no longer shares the {what} of {pid}"
    wl.assert_verifies(pid)


def test_10_threads_blocked_on_a_mutex_wake_in_order(image):
    wl = Workload("mutex")
    wl.wait_ready()
    tids = logged_tids(wl)
    assert len(set(tids)) == 11, wl.log()
    asleep = {tid: task_state(wl.pid, tid) for tid in tids}
    assert set(asleep.values()) == {"S"}, f"not all waiters asleep before checkpoint: {asleep}"

    pid = checkpoint_restart(wl, image)
    assert task_ids(pid) == {pid, *tids}, f"threads {sorted(tids)} restored as {sorted(task_ids(pid))}"
    wait_for(lambda: all(task_state(pid, tid) == "S" for tid in tids), 60,
             "every restored waiter to be asleep on its futex again")
    assert "FAIL" not in wl.log(), wl.log()
    wl.assert_verifies(pid)


def test_shared_file_offset_stays_shared(image):
    wl = Workload("shared_offset")
    wl.wait_ready()
    m = re.search(r"^child (\d+), shared fd (\d+), private fd (\d+)$", wl.log(), re.M)
    c = re.search(r"^child private fd (\d+)$", wl.log(), re.M)
    assert m and c, wl.log()
    child, shared, private = map(int, m.groups())
    child_private = int(c.group(1))

    def check(parent, when):
        assert kcmp_same(parent, child, KCMP_FILE, shared, shared), \
            f"{when}: fd {shared} of {parent} and {child} are different open files"
        assert not kcmp_same(parent, child, KCMP_FILE, private, child_private), \
            f"{when}: the private fds {private} of {parent} and {child_private} of {child} are one open file"
        assert not kcmp_same(parent, parent, KCMP_FILE, shared, private), \
            f"{when}: the private fd {private} of {parent} is the shared one"
        pos = (fd_pos(parent, shared), fd_pos(child, shared), fd_pos(parent, private),
               fd_pos(child, child_private))
        assert pos == (128, 128, 10, 20), f"{when}: offsets {pos}"

    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    assert [t["pid"] for t in tree_of(image)] == [pid, child], tree_of(image)
    check(pid, "after restart")
    wl.assert_verifies(pid)


def test_fd_table_and_fs_shared_by_clone_stay_shared(image):
    wl = Workload("clone_files")
    wl.wait_ready()
    m = re.search(r"^A (\d+) shares the fd table, B (\d+) the cwd and umask$", wl.log(), re.M)
    assert m, wl.log()
    a, b = map(int, m.groups())

    def check(parent, when):
        assert kcmp_same(parent, a, KCMP_FILES), f"{when}: A {a} does not share the fd table of {parent}"
        assert not kcmp_same(parent, a, KCMP_FS), f"{when}: A {a} shares the fs_struct of {parent}"
        assert kcmp_same(parent, b, KCMP_FS), f"{when}: B {b} does not share the fs_struct of {parent}"
        assert not kcmp_same(parent, b, KCMP_FILES), f"{when}: B {b} shares the fd table of {parent}"
        for child in (a, b):
            assert not kcmp_same(parent, child, KCMP_VM), f"{when}: {child} shares the mm of {parent}"

    check(wl.pid, "before checkpoint")
    pid = checkpoint_restart(wl, image)
    assert sorted(t["pid"] for t in tree_of(image)) == sorted([pid, a, b]), tree_of(image)
    check(pid, "after restart")
    wl.assert_verifies(pid)
