"""Open files and the working directory (kernel/cr/files.c): offsets, flags,
the same file again at restart or a refusal naming it."""

import os
from pathlib import Path

import pytest

from crlib import Workload, checkpoint, checkpoint_restart, cr, reap_orphan, tasks_left, tree_of


def test_files_offsets_flags_and_cwd(image):
    wl = Workload("files")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    wl.assert_verifies(pid)


@pytest.mark.parametrize("change", ["renamed", "appended"])
def test_file_replaced_after_checkpoint_is_refused(image, change):
    """A file the tree has open (read-only) is replaced by a rename, or appended to, after the
    checkpoint: restart refuses, naming it, and leaves no task behind."""
    wl = Workload("replaced")
    wl.wait_ready()
    victim = Path(wl.logged(r"^victim (\S+)$")[0])
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    tasks = tree_of(image)
    assert [t["pid"] for t in tasks] == [wl.pid, int(wl.logged(r"^child (\d+)$")[0])], tasks
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
