"""Start-up failures say what is wrong in one line and exit non-zero."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from jobagent_mock import fixtures

MOCK = str(Path(sys.executable).parent / "jobagent-mock")


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MOCK, "serve", *args], capture_output=True, text=True, check=False, timeout=60
    )


def one_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert "in use" in one_line(serve("--port", str(port)))


def test_a_bad_fixture_names_file_and_record(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures"
    shutil.copytree(fixtures.DEFAULT_DIR, folder)
    clients = json.loads((folder / "clients.json").read_text(encoding="utf-8"))
    clients[2]["organisationType"] = "Bank"
    (folder / "clients.json").write_text(json.dumps(clients), encoding="utf-8")
    line = one_line(serve("--fixtures", str(folder), "--port", "0"))
    assert "clients.json: record 2 at organisationType" in line


def test_a_short_signing_key() -> None:
    assert "at least 32 bytes" in one_line(serve("--signing-key", "short", "--port", "0"))


def test_a_store_that_cannot_open(tmp_path: Path) -> None:
    line = one_line(
        serve("--workers", "2", "--port", "0", "--store", f"sqlite:{tmp_path}/no/such/dir/x.db")
    )
    assert "cannot start" in line


def test_an_unknown_store() -> None:
    assert "unknown store" in one_line(serve("--store", "mongodb://x", "--port", "0"))
