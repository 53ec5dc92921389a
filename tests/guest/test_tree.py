"""Process trees: every descendant of the checkpointed process comes back
with its pid, parent, session and process group, and the objects the
processes share (pipes between them, one open file) stay shared."""

import os

from crlib import (Workload, WORK, checkpoint, cr, inspect_json, reap_orphan, reap_strays, report,
                   restart_detached, tree_of, wait_for, checkpoint_restart)


def proc_ids(pid):
    """(ppid, pgid, sid) of a live task, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2]), int(fields[3])


def last_round(wl):
    rounds = [int(line.split()[1]) for line in wl.log().splitlines() if line.startswith("round ")]
    return max(rounds, default=0)


def test_tree_of_8_keeps_passing_tokens(image):
    wl = Workload("tree")
    wl.wait_line("round 64")
    pid = checkpoint_restart(wl, image)
    tasks = tree_of(image)
    assert len(tasks) == 8, tasks
    assert len({t["sid"] for t in tasks}) == 2, f"two sessions expected: {tasks}"
    assert len({t["pgid"] for t in tasks}) == 3, f"three process groups expected: {tasks}"
    for t in tasks[1:]:
        assert proc_ids(t["pid"]) == (t["ppid"], t["pgid"], t["sid"]), f"pid {t['pid']}: {proc_ids(t['pid'])}"
    before = last_round(wl)
    wait_for(lambda: last_round(wl) >= before + 128, 60, "the token to go on around the restored ring")
    wl.assert_verifies(pid)


def test_tree_whose_task_fails_to_restore_leaves_nothing(image):
    held = WORK / f"held-{os.getpid()}"
    held.write_text("a2 keeps this open\n")
    wl = Workload("tree", env={"CR_TREE_HOLD": str(held)})
    wl.wait_line("round 64")
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    tasks = tree_of(image)
    for t in tasks[1:]:
        reap_orphan(t["pid"])
    held.unlink()
    res = cr("restart", image)
    assert res.returncode != 0, res.stdout
    assert str(held) in res.stderr, f"the error does not name the missing file: {res.stderr}"
    reap_strays()
    left = [t["pid"] for t in tasks if os.path.exists(f"/proc/{t['pid']}")]
    assert not left, f"tasks left behind after a failed restart: {left}"


def test_zombies_keep_their_exit_statuses(image):
    """Unreaped children come back as zombies with their statuses, without a new SIGCHLD."""
    wl = Workload("zombies")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    tasks = tree_of(image)
    assert [t["zombie"] for t in tasks] == [False, True, True, True, True], tasks
    for t in tasks[1:]:
        state = open(f"/proc/{t['pid']}/stat").read().rsplit(")", 1)[1].split()[0]
        assert state == "Z", f"pid {t['pid']} is in state {state}, not a zombie"
    wl.assert_verifies(pid)


def test_tree_of_100_processes(image):
    """100 small processes in one tree (the timing is printed, not asserted)."""
    import time
    wl = Workload("forest", "100")
    wl.wait_ready()
    assert "100 processes" in wl.log(), wl.log()
    start = time.monotonic()
    checkpoint(wl.pid, image, kill=True)
    dumped = time.monotonic()
    wl.reap_original()
    tasks = tree_of(image)
    assert len(tasks) == 100, len(tasks)
    for t in tasks[1:]:
        reap_orphan(t["pid"])
    reaped = time.monotonic()
    pid = restart_detached(image)
    restored = time.monotonic()
    report(f"100 processes: checkpoint {dumped - start:.2f} s, restart {restored - reaped:.2f} s, "
          f"image {image.stat().st_size >> 10} KiB")
    wl.assert_verifies(pid)


def test_shared_anon_memory_stays_shared_and_private_stays_private(image):
    """MAP_SHARED|MAP_ANONYMOUS inherited by a child: one object after restart, stored once."""
    wl = Workload("shared_anon")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    mappings = [r for r in inspect_json(image)["records"] if r["type"] == "VMA" and r["kind"] == "anon-shared"]
    assert len(mappings) == 2 and mappings[0]["file_ref"] == mappings[1]["file_ref"], mappings
    assert mappings[1]["nr_pages"] == 0, f"the child's mapping carries pages again: {mappings}"
    wl.assert_verifies(pid)


def test_shared_anon_memory_mapped_outside_the_tree_is_ebusy(image):
    """The child checkpointed alone: its parent, outside, maps the same memory."""
    wl = Workload("shared_anon")
    wl.wait_ready()
    child = int(next(line for line in wl.log().splitlines() if line.startswith("child ")).split()[1])
    res = cr("checkpoint", "--pid", child, "--output", image, "--kill")
    assert res.returncode != 0, "checkpoint of memory shared with an outside process succeeded"
    assert "also mapped outside the checkpointed tree" in res.stderr, res.stderr
    assert not image.exists(), "a failed checkpoint left an image"
    wl.assert_verifies(wl.pid)


def test_mm_shared_with_a_task_outside_the_tree_is_ebusy(image):
    """A CLONE_VM child checkpointed without its parent: EBUSY, naming the parent."""
    wl = Workload("clone_vm")
    wl.wait_ready()
    child = int(next(line for line in wl.log().splitlines() if line.startswith("child ")).split()[1])
    res = cr("checkpoint", "--pid", child, "--output", image)
    assert res.returncode != 0, "checkpoint of an mm shared with an outside task succeeded"
    assert "Device or resource busy" in res.stderr, res.stderr
    assert "outside the checkpointed tree" in res.stderr and str(wl.pid) in res.stderr, res.stderr
    assert not image.exists()
    wl.assert_verifies(wl.pid)


def test_stopped_children_stay_stopped(image):
    """Two SIGSTOP'd children, one stop already reaped by waitpid: both stay stopped."""
    wl = Workload("stopped")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    tasks = tree_of(image)
    assert len(tasks) == 3, tasks
    for t in tasks[1:]:
        state = open(f"/proc/{t['pid']}/stat").read().rsplit(")", 1)[1].split()[0]
        assert state == "T", f"pid {t['pid']} is in state {state}, not stopped"
    wl.assert_verifies(pid)


def test_sessions_and_groups_of_gone_leaders_keep_their_ids(image):
    """Orphans in a session and groups whose leaders exited: the ids live on after restart."""
    wl = Workload("orphans")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    tasks = tree_of(image)
    assert len(tasks) == 3, tasks
    gone = {t["sid"] for t in tasks[1:]} | {t["pgid"] for t in tasks[1:]}
    assert len(gone) == 2 and not gone & {t["pid"] for t in tasks}, f"expected two gone leaders: {tasks}"
    for t in tasks[1:]:
        assert proc_ids(t["pid"]) == (t["ppid"], t["pgid"], t["sid"]), f"pid {t['pid']}: {proc_ids(t['pid'])}"
    wl.assert_verifies(pid)
