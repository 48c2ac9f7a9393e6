"""The wheel, built once from this checkout for every test of what ships."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
CONSTRAINTS = CHECKOUT / "constraints.txt"
PIP = ["-m", "pip", "--disable-pip-version-check", "--quiet"]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, *PIP, "wheel", "--no-deps", "-w", str(dist), str(CHECKOUT)],
        check=True,
        cwd=dist,
    )
    (built,) = dist.glob("jobagent_mock-*.whl")
    return built
