"""Pipes and FIFOs (kernel/cr/pipe.c): the bytes buffered in them, both ends,
a FIFO's name and mode, named or unlinked."""

import os
import stat

from crlib import WORK, Workload, checkpoint_restart, fd_target, fdinfo, holds_across_restart, inspect_json


def test_pipe_with_60k_of_data(image):
    wl = Workload("pipe")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    pipes = [r for r in inspect_json(image)["records"] if r["type"] == "PIPE"]
    assert [p["data_len"] for p in pipes] == [60 * 1024], pipes
    wl.assert_verifies(pid)


def test_fifos_keep_their_data(image):
    """A FIFO open at both ends holding 1000 bytes comes back open at both ends, the same
    FIFO, with the same bytes; an unlinked FIFO holding 100 comes back unlinked, with
    its name, mode and bytes."""
    wl = Workload("fifo")
    wl.wait_ready()
    name, r, w, b = wl.logged(r"^fifo a (\S+): read fd (\d+), write fd (\d+); b \(unlinked\) fd (\d+)$")
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
