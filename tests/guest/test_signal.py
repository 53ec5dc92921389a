"""Signals: handlers, the blocked mask, standard and real-time signals queued
with their siginfo (kernel/cr/signal.c)."""

import signal

from crlib import Workload, checkpoint_restart, restart_verifies, sigbit, status_field


def test_signals_handlers_mask_and_queue(image):
    restart_verifies(Workload("signals"), image)


def test_rt_signals_keep_order_and_values(image):
    """Five SIGRTMIN queued with values 1..5 while blocked: all five, in order, after restart;
    a SIGCHLD pending from a child that exited, with its siginfo, and the child a zombie."""
    wl = Workload("rtsignals")
    wl.wait_ready()
    pending = sigbit(signal.SIGRTMIN) | sigbit(signal.SIGCHLD)
    assert int(status_field(wl.pid, "ShdPnd"), 16) == pending, \
        f"before checkpoint: ShdPnd {status_field(wl.pid, 'ShdPnd')}"
    pid = checkpoint_restart(wl, image)
    assert int(status_field(pid, "ShdPnd"), 16) == pending, \
        f"after restart: ShdPnd {status_field(pid, 'ShdPnd')}"
    assert int(status_field(pid, "SigBlk"), 16) & sigbit(signal.SIGRTMIN), status_field(pid, "SigBlk")
    wl.assert_verifies(pid)
