"""The wheel, built once from this checkout for every test of what ships."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
CONSTRAINTS = CHECKOUT / "constraints.txt"
PIP = ["-m", "pip", "--disable-pip-version-check", "--quiet"]


# not the package's: setuptools would put a stale build/lib of the checkout into the wheel
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".tools",
    "build",
    "*.egg-info",
    "site",
    "reports",
    "node_modules",
    "__pycache__",
    ".*_cache",
)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the checkout's sources as they are, committed or not."""
    source, dist = (
        tmp_path_factory.mktemp("source") / "jobagent-mock",
        tmp_path_factory.mktemp("dist"),
    )
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCES)
    subprocess.run(
        [sys.executable, *PIP, "wheel", "--no-deps", "-w", str(dist), str(source)],
        check=True,
        cwd=dist,
    )
    (built,) = dist.glob("jobagent_mock-*.whl")
    return built
