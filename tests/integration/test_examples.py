"""examples/walkthrough.sh against a live mock: every operation answers as the script expects."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from jobagent_mock.foundations import spec
from tests.live import live_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def success(operation: spec.Operation) -> str:
    """The status the operation answers a request that succeeds (its one 2xx)."""
    (status,) = (status for status in operation.responses if status.startswith("2"))
    return status


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
    operations = spec.operations(spec.BUSINESS)
    answers = [line.split() for line in run.stdout.split("\n")[:-1]]
    first: dict[str, str] = {}
    for operation_id, status in answers:
        first.setdefault(operation_id, status)
        assert status in operations[operation_id].responses, (operation_id, status)
    # each operation's first call succeeds; a later one may show a documented refusal
    assert first == {op_id: success(op) for op_id, op in operations.items()}


def test_the_http_file_has_a_request_for_every_operation() -> None:
    text = (EXAMPLES / "requests.http").read_text(encoding="utf-8")
    titled = set(re.findall(r"^### (\w+)", text, re.MULTILINE))
    assert spec.operations(spec.BUSINESS).keys() <= titled
