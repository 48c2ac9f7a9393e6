"""examples/walkthrough.sh against a live mock: every operation answers as the script expects."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from jobagent_mock import spec
from tests.live import live_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = [
    "GetJobagenter 200",
    "CreateJobagent 201",
    "GetJobagent 200",
    "UpdateJobagent 200",
    "UpdateJobagentVerificereEmail 200",
    "GetJobagenterPaaEmail 200",
    "DeleteJobagent 200",
    "CreateTilmelding 201",
    "TilmeldOgBook 201",
    "CreateTilmelding 422",
]


def test_walkthrough_calls_every_operation(app: Any) -> None:
    with live_server(app) as base:
        run = subprocess.run(
            ["bash", str(EXAMPLES / "walkthrough.sh"), base],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:-1] == EXPECTED
    assert {line.split()[0] for line in EXPECTED} == spec.operations(spec.BUSINESS).keys()


def test_the_http_file_has_a_request_for_every_operation() -> None:
    text = (EXAMPLES / "requests.http").read_text(encoding="utf-8")
    titled = set(re.findall(r"^### (\w+)", text, re.MULTILINE))
    assert spec.operations(spec.BUSINESS).keys() <= titled
