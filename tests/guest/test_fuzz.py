"""Fuzzing layer 2: restart(2) fed mutants of valid images (restart_fuzz.py,
mutate.py), as root and as an unprivileged user, on the running kernel.

The CI budget is short and depends on the kernel: a minute on the debug
kernel, a few seconds on the KASAN one (there for its kmemleak scan at the
end), none on the plain one. CR_FUZZ_SECONDS overrides it; a long run is
tests/fuzz-restart.sh.
"""

import os
import random

import pytest

import crlib
import mutate
import restart_fuzz
from crlib import Workload, checkpoint, cr

CI_SECONDS = {"debug": 60, "kasan": 15, "plain": 0}
CI_SEEDS = {"debug": (8, 2), "kasan": (3, 1), "plain": (1, 1)}


def test_mutator_reads_writes_and_repeats_itself(image, tmp_path):
    """The framing round-trips, a fixed trailer of an unchanged image is the kernel's,
    a seed gives the same mutant every time, and every kind of mutation happens."""
    wl = Workload("threads")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    crlib.kill_descendants()
    data = image.read_bytes()
    layout = mutate.load_layout()
    recs, tail = mutate.split_records(data)
    assert tail == b"" and mutate.join_records(recs) == data
    assert [layout.types.get(t) for t, _ in recs[:3]] == ["HEADER", "TREE", "TASK"]
    assert layout.types.get(recs[-1][0]) == "TRAILER"
    assert mutate.fix_trailer(data, layout) == (data, True), "the trailer is not computed as the kernel does"
    for t, buf in recs:
        s = layout.rec_struct(t)
        assert s is not None and len(buf) >= s.size, f"record {t}: no layout or shorter than its struct"
    m = mutate.Mutator(data)
    kinds, distinct, same = set(), set(), 0
    for seed in range(200):
        first, desc = m.mutate(seed)
        assert (first, desc) == m.mutate(seed), f"seed {seed} is not deterministic"
        distinct.add(first)
        same += first == data
        kinds.update(d.split()[0] for d in desc)
    assert len(distinct) > 150 and same < 10, f"{len(distinct)} distinct mutants of 200, {same} the image itself"
    assert {"field", "len", "type", "drop", "raw", "trunc", "pages", "trailer"} <= kinds, kinds
    # A mutant whose only change is in page data, trailer fixed, is a valid image.
    pages = [i for i, (t, _) in enumerate(recs) if layout.types.get(t) == "PAGES"]
    buf = recs[pages[0]][1]
    buf[-1] ^= 0x55
    patched, ok = mutate.fix_trailer(mutate.join_records(recs), layout)
    out = tmp_path / "patched.cr"
    out.write_bytes(patched)
    assert ok and cr("verify", out).returncode == 0, cr("verify", out).stderr


def test_restart_mutation_fuzz(tmp_path):
    flavour = crlib.kernel_flavour()
    seconds = float(os.environ.get("CR_FUZZ_SECONDS", CI_SECONDS[flavour]))
    if seconds <= 0:
        pytest.skip(f"no fuzz budget on the {flavour} kernel (CR_FUZZ_SECONDS)")
    seed = int(os.environ.get("CR_FUZZ_SEED", random.randrange(1 << 20)))
    keep = "/mnt/out/fuzz-failures" if os.path.isdir("/mnt/out") else tmp_path / "failures"
    crlib.kmemleak("clear")     # what earlier tests left is theirs
    fz = restart_fuzz.Fuzzer(seconds, seed, keep=keep, nr_seeds=CI_SEEDS[flavour]).run()
    for line in fz.summary():
        crlib.report(line)
    crlib.kill_descendants()
    leak = ""
    if crlib.kmemleak("scan"):
        import time
        time.sleep(6)
        crlib.kmemleak("scan")
        leak = crlib.kmemleak_report()
        crlib.report("restart fuzz: kmemleak " + ("clean" if not leak else "reports leaks"))
    assert fz.iterations > 0
    assert not fz.failures, (f"restart fuzz seed {seed}: {len(fz.failures)} failures (mutants kept in {keep}):\n"
                             + "\n".join(f"#{f['iteration']} {f['image']} {f['mode']}: {f['mutations']}: "
                                         f"{f['reason']}" for f in fz.failures[:10]))
    assert not leak, f"kmemleak after the fuzz run (seed {seed}):\n{leak[:3000]}"


# ---- what the fuzzer found ----
#
# Use-after-free reads in restart(2), fixed: an invalid record was freed, then its fields were read
# to write the log line. KASAN reported them every time, KFENCE (debug kernel) now and then; the
# console check of the VM suite fails the run if they come back.


def restart_refused_without_kernel_report(wl, data, tmp_path, what):
    bad = tmp_path / "bad.cr"
    bad.write_bytes(data)
    messages = crlib.KernelMessages()
    try:
        res = cr("restart", "--no-verify", "--detach", bad)     # the fields changed are numbers: text is fine
        left = crlib.kill_descendants()
        splats = messages.splats()
    finally:
        messages.close()
    assert res.returncode != 0 and "(errno 22)" in res.stderr, f"{what}: {res.stderr}"
    assert not left, f"{what}: tasks were left behind: {left}"
    assert not splats, f"{what}: the kernel reported:\n" + "\n".join(splats)


def test_invalid_posix_timers_record_refused_without_use_after_free(image, tmp_path):
    wl = Workload("counter")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    restart_refused_without_kernel_report(wl, mutate.set_fields(image.read_bytes(), "POSIX_TIMERS", next_id=-1),
                                          tmp_path, "POSIX_TIMERS next_id -1")


def test_invalid_queued_signal_refused_without_use_after_free(image, tmp_path):
    wl = Workload("counter")
    wl.wait_ready()
    checkpoint(wl.pid, image, kill=True)
    wl.reap_original()
    siginfo = bytes(128)        # si_signo 0
    data = mutate.set_fields(image.read_bytes(), "SIGNALS", tail=siginfo, nr_private=1)
    restart_refused_without_kernel_report(wl, data, tmp_path, "SIGNALS queue[0].si_signo 0")
