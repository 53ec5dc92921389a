"""A process's own state across checkpoint and restart (kernel/cr/task.c,
cpu.c): execution, registers and FPU, interrupted syscalls. Signals are in
test_signal.py."""

import time

from crlib import Workload, checkpoint_restart, restart_verifies


def test_counter_keeps_counting(image):
    wl = Workload("counter")
    wl.wait_line("count 4194304")
    restart_verifies(wl, image)


def test_fpu_and_registers_mid_computation(image):
    wl = Workload("fpu")
    restart_verifies(wl, image)


def test_nanosleep_resumes(image):
    wl = Workload("sleep", "4")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    wl.assert_exits_passing(pid, 60, "the restored sleeper to wake")


def test_blocked_read_resumes(image):
    restart_verifies(Workload("blocked_read"), image)


def test_pause_stays_paused(image):
    """pause() neither returns at checkpoint nor at restart, only for SIGUSR1."""
    wl = Workload("pause")
    wl.wait_ready()
    pid = checkpoint_restart(wl, image)
    time.sleep(0.5)
    assert "FAIL" not in wl.log(), wl.log()
    wl.assert_verifies(pid)


def test_wait4_for_a_live_child_resumes(image):
    """A parent blocked in waitpid() for its child still waits after restart and reaps it."""
    restart_verifies(Workload("wait4"), image)
