"""eventfds: the counter, the semaphore mode and the file flags."""

import os

from crlib import Workload, fdinfo, holds_across_restart



def test_eventfd_counter_and_semaphore(image):
    """An eventfd holding 90 (O_NONBLOCK) and a semaphore eventfd holding 3."""
    wl = Workload("eventfd")
    wl.wait_ready()
    a, b = map(int, wl.logged(r"^eventfd A fd (\d+) B fd (\d+)$"))

    def check(pid, when):
        fa, fb = fdinfo(pid, a), fdinfo(pid, b)
        assert fa["eventfd-count"] == "5a" and fb["eventfd-count"] == "3", f"{when}: {fa}, {fb}"
        assert fa["eventfd-semaphore"] == "0" and fb["eventfd-semaphore"] == "1", f"{when}: {fa}, {fb}"
        assert int(fa["flags"], 8) & os.O_NONBLOCK and not int(fb["flags"], 8) & os.O_NONBLOCK, \
            f"{when}: flags A {fa['flags']}, B {fb['flags']}"

    holds_across_restart(wl, image, check)
