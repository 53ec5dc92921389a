"""timerfds: clock, interval, time left and unread expirations."""

from crlib import Workload, fdinfo, holds_across_restart



def test_timerfd_keeps_ticks_and_period(image):
    """A 100 ms CLOCK_MONOTONIC timerfd with unread expirations, a 30 s CLOCK_REALTIME one-shot."""
    wl = Workload("timerfd")
    wl.wait_ready()
    assert "timerfd interval 100 ms" in wl.log(), wl.log()
    a, b = map(int, wl.logged(r"^timerfd A fd (\d+) B fd (\d+)$"))

    def check(pid, when):
        fa, fb = fdinfo(pid, a), fdinfo(pid, b)
        assert fa["clockid"] == "1" and fa["it_interval"] == "(0, 100000000)", f"{when}: A {fa}"
        assert int(fa["ticks"]) >= 1, f"{when}: A is not expired and unread: {fa}"
        assert fb["clockid"] == "0" and fb["it_interval"] == "(0, 0)", f"{when}: B {fb}"
        assert fb["ticks"] == "0", f"{when}: the 30 s one-shot B has fired: {fb}"
        value = tuple(map(int, fb["it_value"].strip("()").split(",")))
        assert (0, 0) < value <= (30, 0), f"{when}: B has {fb['it_value']} left"

    holds_across_restart(wl, image, check)
