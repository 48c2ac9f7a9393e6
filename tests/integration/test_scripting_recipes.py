"""The README's "Scripting STAR from your tests": its curl and pytest recipes, run as written
against a live mock."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.live import live_server

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.slow


def recipe(name: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- recipe:{name} .*?-->\n```{language}\n(.*?)```", text, re.DOTALL)
    assert found, f"the README has no recipe:{name}"
    return found.group(1)


def against_a_live_mock(app: Any, args: list[str], url: str, cwd: Path | None = None) -> Any:
    """`args` run with the mock's address in the variable `url`."""
    with live_server(app) as base:
        return subprocess.run(
            args,
            cwd=cwd,
            env={**os.environ, url: base},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


def test_the_curl_recipe_retries_and_verifies(app: Any) -> None:
    script = recipe("scripting-curl", "sh")
    run = against_a_live_mock(app, ["bash", "-euo", "pipefail", "-c", script], "BASE")
    assert run.returncode == 0, run.stderr + run.stdout
    assert run.stdout.splitlines() == [
        "attempt 1: 503",
        "attempt 2: 503",
        "attempt 3: 201",
        "verified: 3 calls, the first 2 scripted",
    ]


def test_the_pytest_recipe_passes(app: Any, tmp_path: Path) -> None:
    (tmp_path / "test_retry.py").write_text(recipe("scripting-pytest", "python"), encoding="utf-8")
    pytest_ = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_retry.py"]
    run = against_a_live_mock(app, pytest_, "MOCK_URL", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
