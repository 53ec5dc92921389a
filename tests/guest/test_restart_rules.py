"""restart(2) applies exactly the rules of capset(2), prctl(2) and the rlimits.

A process restarts itself (restart(0, fd, ...) with a one-task image of
itself needs no capability; crlib.SelfRestarter), from an image whose
CREDS were patched to claim what the process could not give itself with
the system calls that set credentials: an inheritable capability outside
its bounding set, an ambient one under SECBIT_NO_CAP_AMBIENT_RAISE, a
locked securebit cleared. Each is refused with EPERM before anything of
the process is replaced; the unpatched image restarts (the control).
Likewise an image may describe no larger tree than the caller could have
forked (RLIMIT_NPROC).
"""

import os

import pytest

import mutate
from crlib import USER_UID, SelfRestarter, record_fields

EPERM, EAGAIN = 1, 11
CAP_SYS_ADMIN = 21
SECBIT_NOROOT, SECBIT_NOROOT_LOCKED = 1 << 0, 1 << 1
SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6

CASES = {
    # the restoring process's setup (self_restart.c), the patch of its CREDS
    "inheritable outside the bounding set": (
        [f"bset-drop={CAP_SYS_ADMIN}"],
        lambda c: {"cap_inheritable": c["cap_inheritable"] | 1 << CAP_SYS_ADMIN}),
    "ambient raised under SECBIT_NO_CAP_AMBIENT_RAISE": (
        [f"inheritable={1 << CAP_SYS_ADMIN}", f"securebits={SECBIT_NO_CAP_AMBIENT_RAISE}"],
        lambda c: {"cap_ambient": c["cap_ambient"] | 1 << CAP_SYS_ADMIN}),
    "a locked securebit cleared": (
        [f"securebits={SECBIT_NOROOT | SECBIT_NOROOT_LOCKED}"],
        lambda c: {"securebits": 0}),
}


def restarts(w, image):
    err, pong, said = w.restart(image)
    assert err is None and "tried=0" in pong, f"the unpatched image did not restart (errno {err}):\n{said}"


@pytest.mark.parametrize("case", list(CASES))
def test_restart_refuses_credentials_the_system_calls_would_refuse(case):
    setup, patch = CASES[case]
    w = SelfRestarter(0, *setup)
    try:
        image = w.checkpoint("creds.cr")
        data = image.read_bytes()
        restarts(w, image)
        bad = w.dir / "creds-bad.cr"
        bad.write_bytes(mutate.set_fields(data, "CREDS", **patch(record_fields(data, "CREDS"))))
        err, pong, said = w.restart(bad)
        assert err == EPERM, f"{case}: expected EPERM, got errno {err}:\n{said}"
        assert "tried=1" in pong, f"{case}: the refused restart did not leave the process as it was:\n{said}"
    finally:
        w.close()


def test_restart_refuses_a_tree_larger_than_the_callers_rlimit_nproc():
    """The first task of a restart indexes the whole TREE and holds that until every task
    arrives: an unprivileged caller may not describe more tasks than it may have."""
    w = SelfRestarter(USER_UID, "nproc=3")
    try:
        image = w.checkpoint("nproc.cr")
        data = image.read_bytes()
        layout = mutate.load_layout()
        num = {v: k for k, v in layout.types.items()}["TREE"]
        tree = [b for t, b in mutate.split_records(data)[0] if t == num][0]
        head = layout.rec_struct(num).size
        entry = bytes(tree[head:head + 24])
        bad = w.dir / "nproc-bad.cr"
        bad.write_bytes(mutate.set_fields(data, "TREE", tail=entry * 8, nr_tasks=8))
        os.chmod(bad, 0o644)
        err, pong, said = w.restart(bad)
        assert err == EAGAIN, f"a TREE of 8 tasks under RLIMIT_NPROC 3: expected EAGAIN, got {err}:\n{said}"
        restarts(w, image)
    finally:
        w.close()
