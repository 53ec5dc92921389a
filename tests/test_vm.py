"""The linux-cr suite: boot the patched kernel once per flavour, run every
guest test (tests/guest) inside it, and report each one here.

A guest test passes only if it passed inside the VM and the kernel printed
no BUG, WARNING, oops, lockdep, KASAN, KFENCE, kmemleak or hung-task report
while it ran. Kernel reports outside any test (boot, shutdown, the final
kmemleak scan) fail test_console_outside_tests.

Flavours: CR_TEST_FLAVOURS (space-separated, default "debug"); "external" is the
kernel CR_BZIMAGE names, built elsewhere (`make test BZIMAGE=PATH`).
"""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "ci"))
import vm  # noqa: E402

FLAVOURS = os.environ.get("CR_TEST_FLAVOURS", "debug").split()
TIMEOUTS = {"plain": 900, "debug": 1500, "kasan": 2700, "external": 2700}
RESULTS = Path(os.environ.get("CR_RESULTS", TOP / "build" / "results"))


def guest_test_ids():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "tests/guest"], cwd=TOP, capture_output=True, text=True,
                         env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    ids = [line.strip() for line in out.stdout.splitlines() if "::" in line]
    if not ids:
        raise RuntimeError(f"no guest tests collected:\n{out.stdout}\n{out.stderr}")
    return ids


GUEST_IDS = guest_test_ids()
START_RE = re.compile(r"cr-test: START (\S+)")
END_RE = re.compile(r"cr-test: END (\S+)")


@dataclass
class SuiteRun:
    result: vm.VmResult
    outcomes: dict = field(default_factory=dict)     # nodeid -> (outcome, text)
    segments: dict = field(default_factory=dict)     # nodeid -> console lines
    outside: list = field(default_factory=list)      # console lines outside any test

    def where(self):
        return f"(console: {self.result.console})"


_runs = {}


def junit_outcomes(path):
    outcomes = {}
    if not path.exists():
        return outcomes
    for case in ET.parse(path).getroot().iter("testcase"):
        nodeid = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        outcome, text = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                outcome = "skipped" if tag == "skipped" else "failed"
                text = (el.get("message") or "") + "\n" + (el.text or "")
                break
        outcomes[nodeid] = (outcome, text)
    return outcomes


def suite_run(flavour) -> SuiteRun:
    if flavour in _runs:
        return _runs[flavour]
    out = RESULTS / flavour
    out.mkdir(parents=True, exist_ok=True)
    (out / "junit.xml").unlink(missing_ok=True)
    (out / "timings.txt").unlink(missing_ok=True)
    cmd = ["env", "PYTHONDONTWRITEBYTECODE=1", "/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider",
           "-q", "tests/guest", "--junitxml=/mnt/out/junit.xml", "-o", "junit_family=xunit1"]
    result = vm.run_in_vm(cmd, flavour, TIMEOUTS.get(flavour, 1500), out_dir=out)
    run = SuiteRun(result, junit_outcomes(out / "junit.xml"))
    current = None
    for line in result.console_text().splitlines():
        if m := START_RE.search(line):
            current = m.group(1)
            run.segments[current] = []
            continue
        if END_RE.search(line):
            current = None
            continue
        if current:
            run.segments[current].append(line)
        else:
            run.outside.append(line)
    _runs[flavour] = run
    print(f"\n[{flavour}] VM ran the guest suite in {result.seconds:.0f} s; console: {result.console}")
    timings = out / "timings.txt"
    if timings.exists():
        for line in timings.read_text().splitlines():
            print(f"[{flavour}] {line}")
    return run


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_console_outside_tests(flavour):
    run = suite_run(flavour)
    tail = "\n".join(run.result.console_text().splitlines()[-40:])
    assert not run.result.timed_out, f"the VM did not finish in time {run.where()}\n{tail}"
    assert run.result.status is not None, f"the guest never reported its status {run.where()}\n{tail}"
    splats = vm.find_splats("\n".join(run.outside))
    assert not splats, f"kernel reports outside any test {run.where()}:\n" + "\n".join(splats)


@pytest.mark.parametrize("flavour,guest_test", [(f, t) for f in FLAVOURS for t in GUEST_IDS],
                         ids=[f"{f}:{t.split('/')[-1]}" for f in FLAVOURS for t in GUEST_IDS])
def test_guest(flavour, guest_test):
    run = suite_run(flavour)
    outcome, text = run.outcomes.get(guest_test, (None, ""))
    splats = vm.find_splats("\n".join(run.segments.get(guest_test, [])))
    assert not splats, f"the kernel reported problems during {guest_test} {run.where()}:\n" + "\n".join(splats)
    if outcome is None:
        tail = "\n".join(run.result.console_text().splitlines()[-30:])
        pytest.fail(f"{guest_test} did not run in the VM {run.where()}\n{tail}")
    if outcome == "skipped":
        pytest.skip(text.strip())
    assert outcome == "passed", f"{guest_test} failed in the VM {run.where()}:\n{text}"
