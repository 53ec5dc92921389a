"""epoll sets: targets, event masks, data words, readiness, sets watching sets."""

import os
import re

from crlib import Workload, checkpoint_restart



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
    ep1, ep2 = map(int, wl.logged(r"^epoll fds (\d+) (\d+)$"))
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
