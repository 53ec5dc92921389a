"""A process's timers: interval timers and POSIX timers keep their settings, ids and
queued signals, and keep firing."""

from crlib import Workload, checkpoint_restart



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
    ids = sorted(map(int, wl.logged(r"^timer ids (\d+) (\d+) (\d+)$")))
    before = posix_timers(wl.pid)
    assert sorted(int(t[0].split()[1]) for t in before) == ids, before
    pid = checkpoint_restart(wl, image)
    after = posix_timers(pid)
    assert after == before, f"/proc/PID/timers before checkpoint:\n{before}\nafter restart:\n{after}"
    wl.assert_verifies(pid)
