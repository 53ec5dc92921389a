"""Who may checkpoint and restart what, as a matrix.

The unprivileged user is USER_UID (crlib), with no capability, and
OTHER_UID another one. Restart must choose pids, which needs
CAP_CHECKPOINT_RESTORE over the pid namespace: an unprivileged user
restarts either with that one capability ("user+cr") or in a user and pid
namespace of its own ("user-ns", no capability outside it). Images that
claim more than the caller has are made by patching a real image's CREDS
or RLIMITS and setting its trailer right (mutate.py), so that only the
kernel's credential checks stand in the way.
"""

import os
import shutil
import signal
import struct

import pytest

import crlib
import mutate
from crlib import (EXTRA_GID, OTHER_UID, USER_UID, UserWorkload, Workload, cr, cr_as, kernel_errno, proc_status,
                   refused_cleanly, wait_for, wait_pid)

CAP_CHOWN, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN = 0, 10, 21
SECBIT_NOROOT = 1
RLIMIT_NOFILE = 7


def user_workload(*args, **user):
    wl = UserWorkload("privs", *args, **user)
    wl.wait_ready()
    return wl


def creds_line(wl):
    return [line for line in wl.log().splitlines() if line.startswith("CREDS ")][0]


def checkpoint_as_user(wl, image, **user):
    res = cr_as("checkpoint", "--pid", wl.pid, "--output", image, "--kill", **user)
    assert res.returncode == 0, f"checkpoint of its own process as uid {USER_UID}: {res.stderr}"
    wl.reap_original()
    return image


def restart_and_verify(wl, image, status_before, *, userns=False, **user):
    """Restart @image (as the user, or as root without @user), check the creds and the workload's verdict."""
    args = ["restart", "--detach", *(["--pidns"] if userns else []), image]
    res = cr_as(*args, userns=userns, **user) if (user or userns) else cr(*args)
    assert res.returncode == 0, f"restart: {res.stderr}"
    pid = int(res.stdout.split()[0])
    root = pid
    if userns:
        root = int(wait_for(lambda: open(f"/proc/{pid}/task/{pid}/children").read().split(), 30,
                            "the restored task in the new pid namespace")[0])
    after = proc_status(root)
    os.kill(root, signal.SIGUSR1)
    code = wait_pid(pid, 60, "the restored workload to verify itself")
    crlib.kill_descendants()
    assert after == status_before, f"credentials after restart differ:\nbefore {status_before}\nafter  {after}"
    assert code == 0, wl.log()


# ---- checkpoint ----

def test_user_checkpoints_and_restarts_its_own_process_with_one_capability():
    """Without any capability restart cannot choose the pids (clone3 set_tid); with
    CAP_CHECKPOINT_RESTORE alone it restores the process with its exact credentials."""
    wl = user_workload()
    before = proc_status(wl.pid)
    d = wl.dir
    checkpoint_as_user(wl, d / "own.cr")
    assert os.stat(d / "own.cr").st_uid == USER_UID
    res = cr_as("restart", "--detach", d / "own.cr")
    assert res.returncode != 0 and "CAP_CHECKPOINT_RESTORE" in res.stderr, \
        f"choosing pids without CAP_CHECKPOINT_RESTORE: {res.stderr}"
    assert not os.path.exists(f"/proc/{wl.pid}")
    restart_and_verify(wl, d / "own.cr", before, caps=["checkpoint_restore"])


def test_user_restarts_its_own_process_in_its_own_namespaces():
    """No capability outside a user namespace of its own: restart into a new pid namespace there."""
    d = crlib.user_dir(USER_UID, "privs-ns")
    data = d / "data"
    data.write_bytes(b"\0" * 4096)
    os.chown(data, USER_UID, USER_UID)
    wl = user_workload("--file", data, cwd=d)
    before = proc_status(wl.pid)
    checkpoint_as_user(wl, d / "own.cr")
    restart_and_verify(wl, d / "own.cr", before, userns=True)


@pytest.mark.parametrize("checkpointer", ["user", "user+cr"])
@pytest.mark.parametrize("owner", ["other", "root"])
def test_user_cannot_checkpoint_another_users_process(owner, checkpointer):
    if owner == "root":
        wl = Workload("privs")
        wl.wait_ready()
    else:
        wl = user_workload(uid=OTHER_UID)
    d = crlib.user_dir(USER_UID, "eperm")
    caps = ["checkpoint_restore"] if checkpointer == "user+cr" else []
    res = cr_as("checkpoint", "--pid", wl.pid, "--output", d / "x.cr", "--kill", caps=caps)
    assert res.returncode != 0 and kernel_errno(res.stderr) == 1, res.stderr
    assert not list(d.iterdir()), "a file was left behind"
    assert wl.proc.poll() is None, "the process did not survive a refused checkpoint --kill"
    os.kill(wl.pid, signal.SIGUSR1)
    assert wl.proc.wait(timeout=60) == 0, wl.log()


def test_user_cannot_checkpoint_its_own_non_dumpable_process():
    wl = user_workload("--non-dumpable")
    res = cr_as("checkpoint", "--pid", wl.pid, "--output", wl.dir / "x.cr", "--kill")
    assert res.returncode != 0 and kernel_errno(res.stderr) == 1, res.stderr
    assert wl.proc.poll() is None
    os.kill(wl.pid, signal.SIGUSR1)
    assert wl.proc.wait(timeout=60) == 0, wl.log()


def setuid_copy():
    """A set-uid-root copy of the privs workload on the guest's tmpfs (the host's tree is read-only)."""
    d = crlib.WORK / f"suid-{os.getpid()}"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o755)
    exe = d / "privs-suid"
    if not exe.exists():
        shutil.copyfile(crlib.WORKLOADS / "privs", exe)
        os.chown(exe, 0, 0)
        os.chmod(exe, 0o4755)
    return exe


def test_user_cannot_checkpoint_a_setuid_program_that_kept_its_privileges():
    wl = UserWorkload("privs", exe=setuid_copy())
    wl.wait_ready()
    assert "uid=2001,0,0,0" in creds_line(wl), creds_line(wl)
    for caps in ([], ["checkpoint_restore"]):
        res = cr_as("checkpoint", "--pid", wl.pid, "--output", wl.dir / "x.cr", "--kill", caps=caps)
        assert res.returncode != 0 and kernel_errno(res.stderr) == 1, res.stderr
    assert not (wl.dir / "x.cr").exists()
    os.kill(wl.pid, signal.SIGUSR1)
    assert wl.proc.wait(timeout=60) == 0, wl.log()


def test_user_checkpoints_a_setuid_program_that_dropped_its_privileges():
    """All its ids its user's again and dumpable: it is the user's process. Its executable is
    set-uid, so restart needs CAP_CHECKPOINT_RESTORE to make it /proc/PID/exe (it has it)."""
    wl = UserWorkload("privs", "--drop-setuid", exe=setuid_copy())
    wl.wait_ready()
    before = proc_status(wl.pid)
    assert "uid=2001,2001,2001,2001" in creds_line(wl), creds_line(wl)
    checkpoint_as_user(wl, wl.dir / "dropped.cr")
    restart_and_verify(wl, wl.dir / "dropped.cr", before, caps=["checkpoint_restore"])


# ---- images that claim more than the caller has ----

def patch(data, rtype, **fields):
    """@data with the first @rtype record's fields set (a "groups" list rewrites the array),
    its trailer set right."""
    groups = fields.pop("groups", None)
    if groups is None:
        return mutate.set_fields(data, rtype, **fields)
    return mutate.set_fields(data, rtype, tail=b"".join(struct.pack("<I", g) for g in groups),
                             ngroups=len(groups), **fields)


@pytest.fixture(scope="module")
def user_image():
    """(workload, image, /proc status) of a privs process of USER_UID, checkpointed and killed."""
    wl = user_workload()
    before = proc_status(wl.pid)
    image = checkpoint_as_user(wl, wl.dir / "user.cr")
    yield wl, image, before
    crlib.kill_descendants()


FULL = (1 << 41) - 1
CLAIMS = {
    "uid root": ("CREDS", {"uid": 0}, 1),
    "euid root": ("CREDS", {"euid": 0}, 1),
    "suid other": ("CREDS", {"suid": OTHER_UID}, 1),
    "fsuid root": ("CREDS", {"fsuid": 0}, 1),
    "gid root": ("CREDS", {"gid": 0}, 1),
    "egid other": ("CREDS", {"egid": OTHER_UID}, 1),
    "sgid root": ("CREDS", {"sgid": 0}, 1),
    "fsgid root": ("CREDS", {"fsgid": 0}, 1),
    "a supplementary group": ("CREDS", {"groups": [EXTRA_GID]}, 1),
    "group root": ("CREDS", {"groups": [0]}, 1),
    "cap_permitted": ("CREDS", {"cap_permitted": 1 << CAP_SYS_ADMIN}, 1),
    "cap_permitted+effective": ("CREDS", {"cap_permitted": 1 << CAP_CHOWN, "cap_effective": 1 << CAP_CHOWN}, 1),
    "cap_inheritable": ("CREDS", {"cap_inheritable": 1 << CAP_SYS_ADMIN}, 1),
    "cap_ambient": ("CREDS", {"cap_ambient": 1 << CAP_SYS_ADMIN}, 22),
    "securebits": ("CREDS", {"securebits": SECBIT_NOROOT}, 1),
    "a higher hard RLIMIT_NOFILE": ("RLIMITS", {f"rlim[{RLIMIT_NOFILE}].max": "hard+1"}, 1),
}


@pytest.mark.parametrize("claim", list(CLAIMS))
def test_image_claiming_more_than_the_user_has_is_refused(user_image, claim):
    """Restart as the user with CAP_CHECKPOINT_RESTORE only (which restart needs to choose pids)."""
    wl, image, _ = user_image
    rtype, fields, err = CLAIMS[claim]
    if "hard+1" in fields.values():
        import resource
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]     # the workload's, inherited from us
        fields = {k: hard + 1 for k in fields}
    bad = wl.dir / f"claim-{claim.replace(' ', '-')}.cr"
    bad.write_bytes(patch(image.read_bytes(), rtype, **fields))
    os.chmod(bad, 0o644)
    res = cr_as("restart", "--detach", "--no-verify", bad, caps=["checkpoint_restore"])
    refused_cleanly(res, err, wl.pid, claim)


def test_image_with_a_larger_bounding_set_than_the_callers_is_refused(user_image):
    """The caller's bounding set lacks CAP_SYS_ADMIN; the image's has it."""
    wl, image, _ = user_image
    res = cr_as("restart", "--detach", image, caps=["checkpoint_restore"], bounding="-sys_admin")
    refused_cleanly(res, 1, wl.pid, "cap_bset")


@pytest.mark.parametrize("claim", ["uid root", "gid root", "group root"])
def test_image_claiming_ids_outside_the_user_namespace_is_refused(user_image, claim):
    wl, image, _ = user_image
    rtype, fields, _ = CLAIMS[claim]
    bad = wl.dir / f"ns-claim-{claim.replace(' ', '-')}.cr"
    bad.write_bytes(patch(image.read_bytes(), rtype, **fields))
    os.chmod(bad, 0o644)
    res = cr_as("restart", "--detach", "--pidns", "--no-verify", bad, userns=True)
    assert res.returncode != 0 and kernel_errno(res.stderr) == 22, f"{claim}: {res.stderr}"
    assert not crlib.kill_descendants(), f"{claim}: tasks were left behind"


def test_the_unpatched_user_image_restarts(user_image):
    """The control of the tests above: the same image, unpatched, restarts as the same caller."""
    wl, image, before = user_image
    restart_and_verify(wl, image, before, caps=["checkpoint_restore"])


# ---- files are opened with the caller's rights ----

@pytest.mark.parametrize("change,restarter", [
    ("file read-only", "user+cr"), ("file root's", "user+cr"), ("directory closed", "user+cr"),
    ("exe closed", "user+cr"),
    # Every capability in a user namespace of its own is none over root's files. (The user's own
    # read-only file it may open there: it owns it, and could chmod it back anyway.)
    ("file root's", "user-ns"), ("directory closed", "user-ns"), ("exe closed", "user-ns")])
def test_restart_opens_and_maps_files_only_where_the_user_could(change, restarter):
    """The image maps a file MAP_SHARED writable and has it open O_RDWR; after the checkpoint
    the user loses the right to do that. Restart as the user fails with EACCES and leaves
    nothing; as root (CAP_DAC_OVERRIDE) the same image restarts."""
    d = crlib.user_dir(USER_UID, "files")
    data = d / "data"
    data.write_bytes(b"\0" * 4096)
    os.chown(data, USER_UID, USER_UID)
    exe = d / "privs"
    shutil.copyfile(crlib.WORKLOADS / "privs", exe)
    os.chmod(exe, 0o755)
    wl = UserWorkload("privs", "--file", data, cwd=d, exe=exe)
    wl.wait_ready()
    before = proc_status(wl.pid)
    image = checkpoint_as_user(wl, d / "files.cr")
    image = shutil.move(image, crlib.user_dir(USER_UID, "files-image") / "files.cr")
    os.chmod(image, 0o644)
    if change == "file read-only":
        os.chmod(data, 0o444)
    elif change == "file root's":
        os.chown(data, 0, 0)
    elif change == "directory closed":
        os.chown(d, 0, 0)
        os.chmod(d, 0o700)
    else:
        os.chmod(exe, 0o700)
        os.chown(exe, 0, 0)
    if restarter == "user-ns":
        res = cr_as("restart", "--detach", "--pidns", image, userns=True)
    else:
        res = cr_as("restart", "--detach", image, caps=["checkpoint_restore"])
    refused_cleanly(res, 13, wl.pid, change)
    restart_and_verify(wl, image, before)


# ---- root restores other users' processes exactly ----

def test_root_restores_another_users_process_with_exact_credentials():
    """Groups, ambient and permitted capabilities, all four uids and gids."""
    wl = user_workload(groups=[USER_UID, EXTRA_GID], caps=["net_bind_service"])
    before = proc_status(wl.pid)
    assert before["CapAmb"] == f"{1 << CAP_NET_BIND_SERVICE:016x}", before
    assert before["Groups"] == f"{USER_UID} {EXTRA_GID}", before
    checkpoint_as_user(wl, wl.dir / "exact.cr", groups=[USER_UID, EXTRA_GID],
                       caps=["net_bind_service"])
    restart_and_verify(wl, wl.dir / "exact.cr", before)


def test_user_with_the_same_groups_and_capability_restores_itself_exactly():
    user = dict(groups=[USER_UID, EXTRA_GID], caps=["net_bind_service"])
    wl = user_workload(**user)
    before = proc_status(wl.pid)
    checkpoint_as_user(wl, wl.dir / "exact.cr", **user)
    restart_and_verify(wl, wl.dir / "exact.cr", before,
                       groups=[USER_UID, EXTRA_GID], caps=["net_bind_service", "checkpoint_restore"])


def test_root_restores_another_users_process_dumpable():
    wl = user_workload("--check-dumpable")
    image = checkpoint_as_user(wl, wl.dir / "dumpable.cr")
    pid = crlib.restart_detached(image)
    res = cr_as("checkpoint", "--pid", pid, "--output", wl.dir / "again.cr")
    os.kill(pid, signal.SIGUSR1)
    code = wait_pid(pid, 60)
    assert res.returncode == 0, f"its user cannot checkpoint the restored process: {res.stderr}"
    assert code == 0, wl.log()


# ---- no_new_privs and seccomp ----

@pytest.mark.parametrize("restarter", ["root", "user+cr"])
def test_no_new_privs_survives_restart(restarter):
    wl = user_workload("--nnp")
    before = proc_status(wl.pid)
    assert before["NoNewPrivs"] == "1"
    image = checkpoint_as_user(wl, wl.dir / "nnp.cr")
    restart_and_verify(wl, image, before, **({"caps": ["checkpoint_restore"]} if restarter != "root" else {}))


def test_seccomp_filter_is_restored_or_refused():
    wl = user_workload("--seccomp")
    before = proc_status(wl.pid)
    assert before["Seccomp"] == "2"
    res = cr_as("checkpoint", "--pid", wl.pid, "--output", wl.dir / "seccomp.cr", "--kill")
    if res.returncode != 0:
        # Refusing is the other correct answer: then the process must be left running.
        assert kernel_errno(res.stderr) in (95, 16), res.stderr
        assert wl.proc.poll() is None
        os.kill(wl.pid, signal.SIGUSR1)
        assert wl.proc.wait(timeout=60) == 0
        return
    wl.reap_original()
    restart_and_verify(wl, wl.dir / "seccomp.cr", before, caps=["checkpoint_restore"])


def test_seccomp_strict_mode_survives_restart(image):
    """A child in strict mode still echoes through read/write after restart and dies on getpid()."""
    wl = crlib.Workload("seccomp_strict")
    wl.wait_ready()
    crlib.checkpoint(wl.pid, image)
    wl.reap_original()
    for t in crlib.tree_of(image)[1:]:
        crlib.reap_orphan(t["pid"])
    pid = crlib.restart_detached(image)
    code, log = wl.verdict(pid)
    crlib.kill_descendants()
    assert code == 0, log


def test_user_namespace_without_setgroups_cannot_drop_groups():
    user = dict(groups=[USER_UID, EXTRA_GID])
    wl = user_workload(**user)
    image = checkpoint_as_user(wl, wl.dir / "groups.cr", **user)
    bad = wl.dir / "dropped-groups.cr"
    bad.write_bytes(patch(image.read_bytes(), "CREDS", groups=[]))
    os.chmod(bad, 0o644)
    res = cr_as("restart", "--detach", "--pidns", "--no-verify", bad, userns=True, **user)
    if res.returncode == 0:
        init = int(res.stdout.split()[0])
        kids = wait_for(lambda: open(f"/proc/{init}/task/{init}/children").read().split(), 30, "the task")
        groups = proc_status(int(kids[0]))["Groups"]
        crlib.kill_descendants()
        pytest.fail(f"restarted with groups {groups!r}: {EXTRA_GID} was dropped in a user namespace that "
                    "denies setgroups")
    assert kernel_errno(res.stderr) == 1, res.stderr
    assert not crlib.kill_descendants()
