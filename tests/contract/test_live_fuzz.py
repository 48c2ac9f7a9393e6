"""`make fuzz` itself: the schemathesis CLI, every check and phase, against a live mock."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_fuzzer_finds_nothing_with_every_check() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.contract.fuzz_live", "--max-examples", "15"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    report = ElementTree.parse(ROOT / "reports" / "schemathesis-junit.xml").getroot()
    cases = report.iter("testcase")
    assert sum(1 for _ in cases) >= 9
    assert int(report.get("failures", "0")) == 0 and int(report.get("errors", "0")) == 0
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert phase in run.stdout
