"""The tree is held still for the whole dump, whatever anyone does meanwhile.

checkpoint(2) writes the image while it reads the tree, so with a pipe as
the image fd the caller reads each byte as it is written and can pace the
dump by not reading. The hold must therefore last until the last byte: a
stopped task that is continued meanwhile may not run (it could exec a
set-uid program whose state the rest of the dump would write into the
caller's pipe), and a SIGKILL to a held task (root's, the OOM killer's)
ends the hold at once instead of waiting for a reader that never comes.
"""

import fcntl
import os
import signal
import struct
import subprocess
import termios
import time

import pytest

import crlib
from crlib import CR_TOOL, WORK, wait_for

PY = "/usr/bin/python3"

STOP_THEN_RUN = r"""
import os, signal, time
print("READY", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
print("RAN", flush=True)
while True:
    time.sleep(1)
"""

RUN = r"""
import time
print("READY", flush=True)
while True:
    time.sleep(0.1)
"""


class PyProcess:
    """A python3 -c program, its output in a log file."""

    def __init__(self, code):
        WORK.mkdir(parents=True, exist_ok=True)
        self.log_path = WORK / f"hold-{time.monotonic_ns()}.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([PY, "-c", code], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=WORK)
        self.pid = self.proc.pid
        wait_for(lambda: "READY" in self.log(), 30, "the program to print READY")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def state(self):
        with open(f"/proc/{self.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]


def pipe_bytes(fd):
    buf = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
    return struct.unpack("i", buf)[0]


def checkpoint_into_unread_pipe(pid):
    """cr-tool checkpoint --output - into a pipe nobody reads yet; returns (process, read end)
    once the kernel has filled the pipe and is blocked writing the rest of the image."""
    r, w = os.pipe()
    proc = subprocess.Popen([str(CR_TOOL), "checkpoint", "--pid", str(pid), "--output", "-"],
                            stdout=w, stderr=subprocess.PIPE, text=True)
    os.close(w)
    seen = []

    def blocked():
        assert proc.poll() is None, f"the checkpoint ended with the pipe unread: {proc.stderr.read()}"
        seen.append(pipe_bytes(r))
        return len(seen) > 10 and seen[-1] > 0 and len(set(seen[-10:])) == 1
    wait_for(blocked, 60, "the checkpoint to fill the image pipe and block")
    return proc, r


def drain(fd):
    n = 0
    while chunk := os.read(fd, 1 << 16):
        n += len(chunk)
    return n


def cleanup(p, ckpt=None, r=None):
    """Whatever a failed assertion left: the reader closed (the checkpoint then ends with
    EPIPE), the checkpoint and the program gone."""
    if r is not None:
        try:
            os.close(r)
        except OSError:
            pass
    if ckpt is not None and ckpt.poll() is None:
        ckpt.kill()
        ckpt.wait(timeout=60)
    if p.proc.poll() is None:
        p.proc.kill()
        p.proc.wait(timeout=60)
    crlib.reap_strays()


def test_stopped_task_continued_during_the_dump_stays_held_until_it_ends():
    p, ckpt, r = PyProcess(STOP_THEN_RUN), None, None
    try:
        wait_for(lambda: p.state() == "T", 30, "the program to stop itself")
        ckpt, r = checkpoint_into_unread_pipe(p.pid)
        os.kill(p.pid, signal.SIGCONT)
        time.sleep(1.5)
        ran_during_dump = "RAN" in p.log()
        drain(r)
        code = ckpt.wait(timeout=120)
        err = ckpt.stderr.read()
        assert not ran_during_dump, "a stopped task ran while its checkpoint was still writing the image"
        assert code != 0 and "(errno 11)" in err and "continued" in err, \
            f"a checkpoint whose stopped task was continued must fail with EAGAIN: code {code}: {err}"
        wait_for(lambda: "RAN" in p.log(), 30, "the continued task to run once the dump was over")
    finally:
        cleanup(p, ckpt, r)


@pytest.mark.parametrize("stopped", [False, True], ids=["parked", "stopped"])
def test_sigkill_ends_a_hold_whose_image_pipe_is_not_read(stopped):
    """Root's SIGKILL (or the OOM killer's) to a held task, parked or held in its stop, ends
    the dump at once, though the caller never reads the image, and the task dies."""
    what = "stopped" if stopped else "parked"
    p, ckpt, r = PyProcess(STOP_THEN_RUN if stopped else RUN), None, None
    try:
        if stopped:
            wait_for(lambda: p.state() == "T", 30, "the program to stop itself")
        ckpt, r = checkpoint_into_unread_pipe(p.pid)
        os.kill(p.pid, signal.SIGKILL)
        try:
            code = ckpt.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"SIGKILL to a held {what} task did not end a dump whose pipe was unread")
        err = ckpt.stderr.read()
        assert code != 0 and "(errno 4)" in err and "killed" in err, \
            f"the checkpoint of a {what} task killed during the dump must fail with EINTR: code {code}: {err}"
        assert p.proc.wait(timeout=30) == -signal.SIGKILL, f"the {what} task did not die of SIGKILL"
    finally:
        cleanup(p, ckpt, r)


# ---- actors racing the dump ----

# A parent and four children that stop themselves, run a little when continued, and stop again.
STOPPERS = r"""
import os, signal, time
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        while True:
            os.kill(os.getpid(), signal.SIGSTOP)
            sum(range(1000))
    kids.append(pid)
print("KIDS", *kids, flush=True)
print("READY", flush=True)
while True:
    try:
        os.waitpid(-1, os.WUNTRACED | os.WCONTINUED)
    except ChildProcessError:
        time.sleep(1)
"""

RACE_CHECKPOINTS = {"plain": 40, "debug": 30, "kasan": 10}


def test_checkpoints_racing_sigcont_and_sigkill_fail_cleanly_or_restart(tmp_path):
    """Checkpoints of a tree whose stopped children are continued at random moments (each stops
    itself again at once), every other one undisturbed, and at the end one killed: each
    checkpoint either succeeds with an image that verifies or fails with EAGAIN (a child was
    continued or the tree changed) or EINTR (a task was killed); the undisturbed ones succeed;
    no other outcome, no kernel report, nothing left running."""
    import random
    import threading

    count = int(os.environ.get("CR_RACE_CHECKPOINTS", RACE_CHECKPOINTS[crlib.kernel_flavour()]))
    p = PyProcess(STOPPERS)
    kids = [int(x) for x in next(line for line in p.log().splitlines() if line.startswith("KIDS")).split()[1:]]
    rng = random.Random(int(os.environ.get("CR_RACE_SEED", "2026")))
    stop, active = threading.Event(), threading.Event()

    def actor():
        while not stop.is_set():
            if not active.wait(0.05):
                continue
            try:
                os.kill(rng.choice(kids), signal.SIGCONT)
            except ProcessLookupError:
                pass
            time.sleep(rng.uniform(0.001, 0.05))

    outcomes = {}
    thread = threading.Thread(target=actor)
    thread.start()
    try:
        for i in range(count):
            # Every other round the actor rests: then nothing changes and the checkpoint succeeds.
            if i % 2:
                active.set()
            else:
                active.clear()
                time.sleep(0.1)
            image = tmp_path / f"race-{i}.cr"
            res = crlib.cr("checkpoint", "--pid", p.pid, "--output", image, timeout=120)
            if res.returncode == 0:
                outcomes["ok"] = outcomes.get("ok", 0) + 1
                ver = crlib.cr("verify", image)
                assert ver.returncode == 0, f"checkpoint {i} wrote an image that does not verify: {ver.stderr}"
                image.unlink()
                continue
            err = crlib.kernel_errno(res.stderr)
            outcomes[err] = outcomes.get(err, 0) + 1
            assert err == 11, f"checkpoint {i} failed with errno {err}, not EAGAIN: {res.stderr}"
        active.clear()
        assert outcomes.get("ok"), f"no checkpoint succeeded, not even while nothing raced it: {outcomes}"
        # Last, a child killed while a checkpoint may be holding it.
        ckpt = subprocess.Popen([str(CR_TOOL), "checkpoint", "--pid", str(p.pid), "--output",
                                 str(tmp_path / "killed.cr")], stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0, 0.2))
        os.kill(kids[0], signal.SIGKILL)
        code = ckpt.wait(timeout=120)
        err = crlib.kernel_errno(ckpt.stderr.read())
        assert code == 0 or err in (4, 11), f"the checkpoint racing a SIGKILL failed with errno {err}"
    finally:
        stop.set()
        thread.join()
        crlib.report(f"racing checkpoints: {count} + 1 with a SIGKILL, outcomes {outcomes}")
        crlib.kill_descendants()
        cleanup(p)
