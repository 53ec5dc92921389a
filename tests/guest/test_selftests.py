"""The kernel's selftests of the syscall contract (tools/testing/selftests/checkpoint
in the series), run as kernel CI runs them: their KTAP output is kept with the
results (checkpoint.ktap) and every one of their tests must pass, none skipped: the
guest runs them as root on a kernel with the series."""

import os
import re
import subprocess

from crlib import TOP

SELFTEST = TOP / "build" / "selftests" / "checkpoint" / "checkpoint_test"
RESULT_RE = re.compile(r"^(ok|not ok) (\d+) (\S+)(?: # (\w+)(.*))?$")


def test_kselftests_of_the_syscall_contract_pass():
    assert SELFTEST.exists(), f"{SELFTEST} is missing: `make selftests` builds it"
    res = subprocess.run([str(SELFTEST)], capture_output=True, text=True, timeout=300)
    ktap = res.stdout
    if os.path.isdir("/mnt/out"):
        with open("/mnt/out/checkpoint.ktap", "w") as f:
            f.write(ktap)
    lines = ktap.splitlines()
    assert lines and lines[0].startswith("TAP version"), f"no KTAP output:\n{ktap}\n{res.stderr}"
    plan = next((line for line in lines if re.match(r"^1\.\.\d+$", line)), None)
    assert plan, f"no KTAP plan:\n{ktap}"
    results = [m.groups() for line in lines if (m := RESULT_RE.match(line))]
    assert len(results) == int(plan[3:]), f"{len(results)} results for plan {plan}:\n{ktap}"
    failed = [name for verdict, _, name, _, _ in results if verdict != "ok"]
    skipped = [f"{name}:{why}" for verdict, _, name, directive, why in results
               if verdict == "ok" and directive and directive.upper() == "SKIP"]
    assert not failed, f"selftests failed: {failed}\n{ktap}"
    assert not skipped, f"selftests skipped on a kernel with the series: {skipped}\n{ktap}"
    assert res.returncode == 0, f"exit status {res.returncode}\n{ktap}"
