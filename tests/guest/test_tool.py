"""cr-tool and the syscalls as a user meets them: permissions, repeated
checkpoints, damaged images, busy pids and pid namespaces."""

import os
import signal

from crlib import (Workload, checkpoint, checkpoint_restart, cr, restart_detached, wait_for,
                   wait_pid)

NOBODY = 65534


def test_checkpoint_of_another_users_process_is_eperm():
    import tempfile
    from pathlib import Path
    wl = Workload("counter")
    wl.wait_ready()
    tmp_path = Path(tempfile.mkdtemp(prefix="cr-eperm-", dir="/tmp"))
    os.chmod(tmp_path, 0o777)
    res = cr("checkpoint", "--pid", wl.pid, "--output", tmp_path / "x.cr", user=NOBODY)
    wl.proc.kill()
    wl.proc.wait()
    assert res.returncode != 0
    assert "Operation not permitted" in res.stderr, res.stderr
    assert not (tmp_path / "x.cr").exists()
    assert not [p for p in tmp_path.iterdir()], "a temporary image was left behind"


def test_two_checkpoints_both_restart(tmp_path):
    wl = Workload("counter")
    wl.wait_ready()
    first, second = tmp_path / "first.cr", tmp_path / "second.cr"
    checkpoint(wl.pid, first, kill=False)
    wl.wait_line("count 8388608")
    pid = checkpoint_restart(wl, second)
    os.kill(pid, signal.SIGKILL)
    wait_pid(pid, 30)
    for image in (first, second):
        pid = restart_detached(image)
        code, log = wl.verdict(pid)
        assert code == 0, f"{image.name}: {log}"



def checkpoint_into(pid, write_end, read_end, flags):
    """checkpoint(2) straight into a pipe or socket; returns the bytes the reader got."""
    import ctypes
    import threading
    chunks = []

    def drain():
        while data := os.read(read_end, 1 << 16):
            chunks.append(data)
    reader = threading.Thread(target=drain)
    reader.start()
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(463, pid, write_end, flags, -1)
    err = ctypes.get_errno()
    os.close(write_end)
    reader.join(60)
    os.close(read_end)
    assert r == 0, f"checkpoint(2) into an fd of this kind failed: {os.strerror(err)}"
    return b"".join(chunks)


def test_checkpoint_streams_into_a_pipe_and_a_socket(tmp_path):
    """The kernel writes sequentially: a pipe or a socket works as well as a file."""
    import socket
    wl = Workload("counter")
    wl.wait_ready()
    piped = checkpoint_into(wl.pid, *reversed(os.pipe()), 0)
    ours, theirs = socket.socketpair()
    socketed = checkpoint_into(wl.pid, theirs.detach(), ours.detach(), 1)
    assert wl.reap_original() == -signal.SIGKILL
    images = (tmp_path / "piped.cr", tmp_path / "socketed.cr")
    for image, data in zip(images, (piped, socketed)):
        image.write_bytes(data)
        res = cr("verify", image)
        assert res.returncode == 0, f"{image.name}: {res.stderr}"
    for image in reversed(images):
        pid = restart_detached(image)
        code, log = wl.verdict(pid)
        assert code == 0, f"{image.name}: {log}"

def damaged_copies(image, tmp_path):
    data = image.read_bytes()
    truncated = tmp_path / "truncated.cr"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = tmp_path / "flipped.cr"
    corrupt = bytearray(data)
    corrupt[len(data) // 2] ^= 0x10
    flipped.write_bytes(bytes(corrupt))
    return truncated, flipped


def test_damaged_images_are_refused_clearly(image, tmp_path):
    wl = Workload("counter")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    truncated, flipped = damaged_copies(image, tmp_path)
    for bad, word in ((truncated, "truncated"), (flipped, "checksum mismatch")):
        for cmd in ("verify", "inspect"):
            res = cr(cmd, bad)
            assert res.returncode == 1, f"{cmd} {bad.name}: {res.stdout}{res.stderr}"
            assert word in res.stderr, f"{cmd} {bad.name}: {res.stderr}"
        res = cr("restart", bad)
        assert res.returncode == 1 and "nothing was restarted" in res.stderr, res.stderr
        assert not os.path.exists(f"/proc/{wl.pid}"), "a task was left behind"


def test_kernel_refuses_damaged_streams_itself(image, tmp_path):
    """restart(2) on its own, without cr-tool's check first: it fails cleanly and leaves no task."""
    wl = Workload("counter")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    for bad in damaged_copies(image, tmp_path):
        res = cr("restart", "--no-verify", bad)
        assert res.returncode == 1 and "kernel:" in res.stderr, f"{bad.name}: {res.stderr}"
        assert not os.path.exists(f"/proc/{wl.pid}"), f"{bad.name}: a task was left behind"


def test_restart_by_another_pid_is_refused(image, tmp_path):
    import ctypes
    wl = Workload("counter")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    log = tmp_path / "kernel.log"
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        fd = os.open(image, os.O_RDONLY)
        logfd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o600)
        r = libc.syscall(464, 0, fd, 0, logfd)
        os._exit(ctypes.get_errno() if r < 0 else 0)
    assert wait_pid(pid, 60) == 22, "restart(2) by the wrong pid is not EINVAL"
    assert "restart must be called by a task of its tree" in log.read_text(), log.read_text()


def test_busy_pid_needs_pidns_and_pidns_restores(image):
    wl = Workload("counter")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=False)
    res = cr("restart", "--detach", image)
    assert res.returncode == 1 and "in use" in res.stderr and "--pidns" in res.stderr, res.stderr
    init = restart_detached(image, "--pidns")
    children = wait_for(lambda: open(f"/proc/{init}/task/{init}/children").read().split(), 30,
                        "the restored task in the new pid namespace")
    restored = int(children[0])
    status = open(f"/proc/{restored}/status").read()
    nspid = [line for line in status.splitlines() if line.startswith("NSpid:")][0].split()
    assert nspid[-1] == str(wl.pid), f"pid in the new namespace is {nspid[-1]}, expected {wl.pid}"
    os.kill(restored, signal.SIGUSR1)
    assert wait_pid(init, 60, "the pid namespace's init") == 0
    wl.proc.kill()
    wl.proc.wait()


def test_external_stdout_goes_to_the_file_restart_names(image, tmp_path):
    """stdout was a pipe to outside the tree: restart --stdout FILE gives the restored process that file."""
    import subprocess
    from crlib import WORKLOADS
    proc = subprocess.Popen([str(WORKLOADS / "ticker")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = proc.stdout.readline().decode()
    assert first.startswith("tick "), first
    checkpoint(proc.pid, image, kill=True)
    proc.wait(timeout=30)
    proc.stdout.close()
    out = tmp_path / "ticks.txt"
    res = cr("restart", "--detach", "--stdout", tmp_path / "no-such-dir" / "x", image)
    assert res.returncode != 0 and "--stdout" in res.stderr, res.stderr
    assert not os.path.exists(f"/proc/{proc.pid}"), "a failed restart left a task"
    pid = restart_detached(image, "--stdout", out)
    wait_for(lambda: out.exists() and f"(pid {proc.pid})" in out.read_text(), 30,
             "the restored ticker to write to the --stdout file")
    os.kill(pid, signal.SIGKILL)
    wait_pid(pid, 30)
    ticks = [int(line.split()[1]) for line in out.read_text().splitlines()]
    assert ticks and ticks[0] > int(first.split()[1]), f"the ticks did not go on: {first!r} then {ticks[:3]}"


def test_compressed_images_checkpoint_inspect_and_restart(tmp_path):
    """--compress: the kernel's stream goes through zstd on its way to the file (or standard
    output); inspect, verify and restart read it back transparently; damage is refused clearly."""
    import subprocess
    from crlib import CR_TOOL, inspect_json
    wl = Workload("memory")
    wl.wait_ready()
    plain, packed, piped = tmp_path / "plain.cr", tmp_path / "packed.cr.zst", tmp_path / "piped.cr.zst"
    checkpoint(wl.pid, plain, kill=False)
    res = cr("checkpoint", "--pid", wl.pid, "--output", packed, "--compress", "--compress-level", "1", "-v")
    assert res.returncode == 0, res.stderr
    assert "compressed" in res.stdout, res.stdout
    with open(piped, "wb") as out:
        proc = subprocess.run([str(CR_TOOL), "checkpoint", "--pid", str(wl.pid), "--output", "-", "--compress"],
                              stdout=out, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # With --kill the tree would die while the image's end is still on its way: refused up front.
    res = cr("checkpoint", "--pid", wl.pid, "--output", tmp_path / "never.cr", "--compress", "--kill")
    assert res.returncode != 0 and "--kill with --compress" in res.stderr, res.stderr
    assert not (tmp_path / "never.cr").exists() and wl.proc.poll() is None
    wl.proc.kill()
    wl.reap_original()
    size, packed_size = plain.stat().st_size, packed.stat().st_size
    assert packed.read_bytes()[:4] == b"\x28\xb5\x2f\xfd", "not a zstd frame"
    # 64 MiB of patterned memory compresses well: the point is the image really is compressed.
    assert packed_size < size // 4, f"compressed {packed_size} of {size} bytes"
    info = inspect_json(packed)
    assert info["compressed"] and info["valid"] and info["size"] == size, \
        {k: info[k] for k in ("compressed", "valid", "size")}
    assert cr("verify", piped).returncode == 0
    for image in (packed, piped):
        pid = restart_detached(image)
        code, log = wl.verdict(pid)
        assert code == 0, f"{image.name}: {log}"
    for bad in damaged_copies(packed, tmp_path):
        res = cr("restart", bad)
        assert res.returncode == 1 and "zstd image" in res.stderr, f"{bad.name}: {res.stderr}"
        assert not os.path.exists(f"/proc/{wl.pid}"), f"{bad.name}: a task was left behind"
