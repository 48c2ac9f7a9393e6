"""What `serve` prints: a banner naming store and workers, then a line a request (CPRs masked)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers import ORDINARY, token_for
from tests.servers import free_port, start_serve, stop


def served_output(tmp_path: Path, *args: str) -> str:
    """serve's stdout after a token, one known and one unknown citizen, and a CPR in a path."""
    port, out = free_port(), tmp_path / "stdout.txt"
    with out.open("wb") as stdout:
        process = start_serve(port, *args, stdout=stdout)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
                headers = {"Authorization": f"Bearer {token_for(http, 'star-jobnet')}"}
                for cpr in (ORDINARY, "0101701010"):
                    http.get(
                        "/v1/Jobagent", headers={**headers, "x-civilRegistrationIdentifier": cpr}
                    )
                http.get(f"/v1/Jobagent/email/{ORDINARY}", headers=headers)
        finally:
            stop(process)
    return out.read_text(encoding="utf-8")


def test_the_banner_names_store_and_workers_and_each_request_is_a_line(tmp_path: Path) -> None:
    output = served_output(tmp_path)
    assert "store            memory, 1 worker" in output
    lines = output.splitlines()
    assert "POST /connect/token 200 -" in "\n".join(lines)
    # method, path, status, fejlkode (- without one), milliseconds
    assert any(line.startswith("GET /v1/Jobagent 200 - ") for line in lines)
    assert any(line.startswith("GET /v1/Jobagent 404 1010 ") for line in lines)
    email = next(line for line in lines if "/email/" in line)
    assert email.startswith("GET /v1/Jobagent/email/150785-xxxx 400 9158 ")
    assert email.endswith("ms") and float(email.split()[-1].removesuffix("ms")) >= 0
    assert ORDINARY not in output


def test_no_access_log_silences_the_lines_not_the_banner(tmp_path: Path) -> None:
    output = served_output(tmp_path, "--no-access-log")
    assert "jobagent-mock" in output and "access log       off" in output
    assert not [line for line in output.splitlines() if line.startswith(("GET ", "POST "))]
