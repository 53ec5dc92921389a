#!/usr/bin/python3
"""Boot the linux-cr kernel in QEMU and run one command file inside it.

The guest's root is the host's root over 9p (read-only), so everything
built under the checkout runs in the guest at the same path. A second,
writable 9p share is mounted at /mnt/out in the guest; the command's exit
status comes back through it. The whole serial console is kept in a file.

  ci/vm.py [--flavour debug] [--timeout 900] -- COMMAND [ARGS...]
"""

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BUILD = TOP / "build"

# What a clean console never shows. Each pattern names what it catches.
SPLAT_PATTERNS = [
    r"BUG:",
    r"WARNING:",
    r"Oops",
    r"general protection fault",
    r"possible circular locking",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"suspicious RCU usage",
    r"Invalid wait context",
    r"lockdep",
    r"KASAN:",
    r"UBSAN:",
    r"KFENCE:",
    r"kmemleak: \d+ new suspected",
    r"unreferenced object 0x",
    r"blocked for more than",
    r"Kernel panic",
    r"------------\[ cut here \]",
    r"list_add corruption",
    r"list_del corruption",
]
SPLAT_RE = re.compile("|".join(SPLAT_PATTERNS))
# Lines that mention a pattern without being a report.
BENIGN_RE = re.compile(r"RCU lockdep checking is enabled|Kernel panic - not syncing: Attempted to kill init.*exitcode=0x00000000"
                       r"|lockdep: fixing up alternatives|MAX_LOCKDEP|\.\.\. lock|in-hardirq chains|BUG: key .* has not been registered")


def bzimage(flavour: str) -> Path:
    """The kernel to boot: CR_BZIMAGE if set (a kernel built elsewhere), else the flavour's build."""
    if os.environ.get("CR_BZIMAGE"):
        return Path(os.environ["CR_BZIMAGE"])
    return BUILD / f"kernel-{flavour}" / "arch" / "x86" / "boot" / "bzImage"


@dataclass
class VmResult:
    status: int | None      # the command's exit status; None if it never reported one
    console: Path
    timed_out: bool
    seconds: float

    def console_text(self) -> str:
        return self.console.read_text(errors="replace")


def find_splats(text: str) -> list[str]:
    """Console lines that report a kernel problem."""
    return [line for line in text.splitlines()
            if SPLAT_RE.search(line) and not BENIGN_RE.search(line)]


def run_in_vm(command: list[str], flavour: str = "debug", timeout: float = 900,
              memory: str = "2G", out_dir: Path | None = None,
              console: Path | None = None) -> VmResult:
    kernel = bzimage(flavour)
    if not kernel.exists():
        raise FileNotFoundError(f"{kernel} is missing: build it with `make kernel FLAVOUR={flavour}`")
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix=f"cr-vm-{flavour}-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    status_file = out_dir / "status"
    status_file.unlink(missing_ok=True)
    run_file = out_dir / "run.sh"
    run_file.write_text("cd " + shlex.quote(str(TOP)) + "\n" + shlex.join(command) + "\n")
    console = Path(console or out_dir / "console.log")

    append = ["console=ttyS0", "root=rootfs", "rootfstype=9p",
              "rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose", "ro",
              f"init={TOP}/tests/vm/init", "panic=-1", f"cr.run=/mnt/out/{run_file.name}",
              f"cr.top={TOP}"]
    if flavour == "kasan":
        append.append("acpi=off")  # its virtio interrupts are only routed this way
    append += os.environ.get("CR_KERNEL_APPEND", "").split()  # a kernel built elsewhere may need more
    accel = ["-machine", "accel=kvm", "-cpu", "host"] if os.environ.get("CR_VM_KVM") == "1" \
        else ["-machine", "accel=tcg", "-cpu", "max"]
    qemu = ["qemu-system-x86_64", *accel, "-m", memory, "-smp", "2", "-nographic", "-no-reboot",
            "-kernel", str(kernel), "-append", " ".join(append),
            "-fsdev", "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=root,mount_tag=rootfs",
            "-fsdev", f"local,id=out,path={out_dir},security_model=none,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=out,mount_tag=out",
            # The checkout again: the guest's tmpfs mounts may hide it (a clone under /tmp).
            "-fsdev", f"local,id=repo,path={TOP},security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=repo,mount_tag=repo"]
    start = time.monotonic()
    timed_out = False
    with open(console, "wb") as log:
        proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    status = None
    if status_file.exists():
        try:
            status = int(status_file.read_text().strip())
        except ValueError:
            status = None
    return VmResult(status, console, timed_out, time.monotonic() - start)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flavour", default=os.environ.get("CR_KERNEL_FLAVOUR", "debug"))
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--out", type=Path, help="directory shared with the guest as /mnt/out")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    res = run_in_vm(args.command, args.flavour, args.timeout, out_dir=args.out)
    text = res.console_text()
    marker = text.find("cr-vm: running")
    sys.stdout.write(text[marker:] if marker >= 0 else text[-4000:])
    splats = find_splats(text)
    print(f"\nvm.py: console {res.console}, {res.seconds:.1f} s")
    if res.timed_out:
        print(f"vm.py: the VM did not finish within {args.timeout:.0f} s")
        return 124
    if splats:
        print("vm.py: the kernel reported problems:\n  " + "\n  ".join(splats))
        return 125
    if res.status is None:
        print("vm.py: the guest reported no exit status (crashed?)")
        return 126
    return res.status


if __name__ == "__main__":
    sys.exit(main())
