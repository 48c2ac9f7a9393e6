"""The wheel a partner installs: built from this checkout, installed into a fresh venv outside it
with the pinned versions, and run from an empty folder. Slow (about 30 s: a build and a venv);
needs the package registry or pip's cache, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import smoke
from tests.helpers import token_for
from tests.packaging.conftest import CONSTRAINTS, PIP
from tests.servers import free_port, start_serve, stop

pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv holding the wheel and its runtime dependencies only."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, *PIP, "install", "-c", str(CONSTRAINTS), str(wheel)], check=True)
    return venv / "bin"


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def run(bin_: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_ / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_only_the_package_lands_in_site_packages(installed: Path, empty: Path) -> None:
    listing = run(
        installed,
        "python",
        "-c",
        "import importlib.metadata as m, json; print(json.dumps(sorted("
        "{f.parts[0] for f in m.files('jobagent-mock') if not f.parts[0].startswith('..')})))",
        cwd=empty,
    )
    top = json.loads(listing.stdout)
    assert top == ["jobagent_mock", next(t for t in top if t.endswith(".dist-info"))]
    for absent in ("redis", "pytest", "schemathesis", "handlers", "fixtures"):
        found = run(installed, "python", "-c", f"import {absent}", cwd=empty)
        assert found.returncode != 0, f"{absent} is importable from the wheel's venv"


def test_check_docs_and_version_work_from_an_empty_folder(installed: Path, empty: Path) -> None:
    version = run(installed, "jobagent-mock", "--version", cwd=empty)
    assert version.returncode == 0 and version.stdout.startswith("jobagent-mock 0.")
    check = run(installed, "jobagent-mock", "check", cwd=empty)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("OK")
    docs = run(installed, "jobagent-mock", "docs", "--out", "site", cwd=empty)
    assert docs.returncode == 0, docs.stderr
    assert "GetJobagent" in (empty / "site" / "jobagent.yaml").read_text(encoding="utf-8")
    assert "1010" in (empty / "site" / "fejlkoder.html").read_text(encoding="utf-8")
    assert (empty / "site" / "swagger-ui" / "swagger-ui-bundle.js").is_file()
    readme = run(installed, "jobagent-mock", "docs", "--readme", cwd=empty)
    assert readme.returncode == 2 and "README.md of a checkout" in readme.stderr


@pytest.fixture
def served(installed: Path, empty: Path) -> Iterator[str]:
    """`serve` of the installed wheel, from an empty folder, with a partner's persona overlaid."""
    overlay = empty.parent / "ours"
    overlay.mkdir()
    persona = {"cpr": "0101901234", "description": "Ukendt hos os", "fejlkoder": [1010]}
    (overlay / "personas.json").write_text(json.dumps([persona]), encoding="utf-8")
    port = free_port()
    process = start_serve(port, "--fixtures", str(overlay), bin_dir=installed, cwd=empty)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def test_serve_token_and_the_smoke_flow(installed: Path, empty: Path, served: str) -> None:
    token = run(installed, "jobagent-mock", "token", "--url", served, cwd=empty)
    assert token.returncode == 0, token.stderr
    smoke.run(served, token.stdout.strip())
    with httpx.Client(base_url=served) as http:
        headers = {
            "Authorization": f"Bearer {token_for(http, 'star-jobnet')}",
            "x-civilRegistrationIdentifier": "0101901234",
        }
        ours = http.get("/v1/Jobagent", headers=headers)
    assert (ours.status_code, ours.json()["fejlkode"]) == (404, 1010)


def test_the_redis_store_without_its_extra_says_how_to_get_it(installed: Path, empty: Path) -> None:
    refused = run(installed, "jobagent-mock", "serve", "--port", str(free_port()),
                  "--workers", "2", "--store", "redis://127.0.0.1:1/0", cwd=empty)  # fmt: skip
    assert refused.returncode == 2
    assert "pip install 'jobagent-mock[redis]'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
