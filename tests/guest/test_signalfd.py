"""signalfds: the mask, the flags and the signals queued for them."""

import os
import signal

from crlib import Workload, fdinfo, holds_across_restart, sigbit, status_field



def test_signalfd_mask_and_pending(image):
    """A signalfd for SIGUSR2 and SIGRTMIN, a SIGRTMIN (value 5) queued for it and not read."""
    wl = Workload("signalfd")
    wl.wait_ready()
    fd = int(wl.logged(r"^signalfd fd (\d+)$")[0])
    mask = sigbit(signal.SIGUSR2) | sigbit(signal.SIGRTMIN)

    def check(pid, when):
        info = fdinfo(pid, fd)
        assert int(info["sigmask"], 16) == mask, f"{when}: sigmask {info['sigmask']}, expected {mask:016x}"
        assert int(info["flags"], 8) & os.O_NONBLOCK, f"{when}: flags {info['flags']}"
        blocked = int(status_field(pid, "SigBlk"), 16)
        assert blocked & (mask | sigbit(signal.SIGHUP)) == mask | sigbit(signal.SIGHUP), \
            f"{when}: SigBlk {blocked:016x}"
        assert int(status_field(pid, "ShdPnd"), 16) == sigbit(signal.SIGRTMIN), \
            f"{when}: ShdPnd {status_field(pid, 'ShdPnd')}, expected SIGRTMIN alone"

    holds_across_restart(wl, image, check)
