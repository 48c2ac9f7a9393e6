"""Start-up failures say what is wrong in one line and exit non-zero."""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jobagent_mock import cli
from jobagent_mock.foundations import fixtures, spec
from tests.servers import free_port

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
    line = one_line(serve("--fixtures", str(folder), "--port", str(free_port())))
    assert "clients.json: record 2 at organisationType" in line


def test_a_short_signing_key() -> None:
    line = one_line(serve("--signing-key", "short", "--port", str(free_port())))
    assert "at least 32 bytes" in line


def test_a_store_that_cannot_open(tmp_path: Path) -> None:
    line = one_line(
        serve(
            "--workers",
            "2",
            "--port",
            str(free_port()),
            "--store",
            f"sqlite:{tmp_path}/no/such/dir/x.db",
        )
    )
    assert "cannot start" in line


def test_an_unknown_store() -> None:
    assert "unknown store" in one_line(serve("--store", "mongodb://x", "--port", str(free_port())))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--port", "-1"], "--port: -1 is out of range: from 0 to 65535"),
        (["--port", "65536"], "--port: 65536 is out of range"),
        (["--port", "http"], "--port: 'http' is not a whole number"),
        (["--workers", "0"], "--workers: 0 is out of range: at least 1"),
        (["--max-body-bytes", "0"], "--max-body-bytes: 0 is out of range: at least 1"),
        (["--max-body-bytes", "-5"], "--max-body-bytes: -5 is out of range"),
    ],
)
def test_an_option_out_of_range_is_one_line(args: list[str], said: str) -> None:
    assert said in one_line(serve(*args))


def test_a_setting_from_its_variable_is_checked_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBAGENT_MOCK_WORKERS", "0")
    assert "--workers: 0 is out of range" in one_line(serve())


def test_version_names_package_and_contract() -> None:
    run = subprocess.run([MOCK, "--version"], capture_output=True, text=True, check=False)
    assert run.returncode == 0
    assert run.stdout.startswith("jobagent-mock 0.")
    assert f"(contract {spec.raw(spec.BUSINESS)['info']['version']})" in run.stdout


def test_every_option_has_help() -> None:
    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings} has no help"


def test_check_reads_the_overlay_from_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "personas.json").write_text('[{"cpr": "12"}]', encoding="utf-8")
    monkeypatch.setenv("JOBAGENT_MOCK_FIXTURES", str(tmp_path))
    run = subprocess.run([MOCK, "check"], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert f"{tmp_path / 'personas.json'}: record 0" in run.stderr
