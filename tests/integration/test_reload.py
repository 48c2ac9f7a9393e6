"""`serve --reload`: a changed fixture is served without a restart, keeping the job agents made
before it and the connections open; a change that fails `check` is refused in one line and the
last good fixtures go on serving."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, stop, wait_until

MOCK = str(Path(sys.executable).parent / "jobagent-mock")
OUR_PERSONA = {"cpr": "0101901234", "description": "Ukendt hos os", "fejlkoder": [1010]}
CITIZEN = "1212801234"  # open world: a living resident, no persona
RELOAD_SECONDS = 60  # a bound, not a timing: a reload runs `check` in a process of its own


@pytest.mark.slow
def test_a_changed_fixture_is_served_and_state_and_connections_are_kept(tmp_path: Path) -> None:
    overlay = tmp_path / "fixtures"
    overlay.mkdir()
    personas = overlay / "personas.json"
    personas.write_text("[]", encoding="utf-8")
    said = tmp_path / "stderr.log"
    port = free_port()
    with said.open("w") as stderr:
        process = subprocess.Popen(
            [MOCK, "serve", "--port", str(port), "--reload", "--fixtures", str(overlay)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base), "the mock started")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        token = fetch_token(connection)
        auth = {"Authorization": f"Bearer {token}"}
        agent = create_agent(connection, auth)
        assert status_of(connection, auth, OUR_PERSONA["cpr"]) == 200  # an ordinary citizen

        socket = connection.sock
        personas.write_text(json.dumps([OUR_PERSONA]), encoding="utf-8")
        # asked on the one connection, which stays busy (an idle one uvicorn closes in 5 s)
        served = lambda: status_of(connection, auth, OUR_PERSONA["cpr"]) == 404  # noqa: E731
        wait_until(served, "1010 served", RELOAD_SECONDS)
        assert "reloaded (personas.json)" in said.read_text()
        assert connection.sock is socket  # the same connection, and the same token
        assert get_agent(connection, auth, agent) == 200  # made before the change

        personas.write_text('[{"cpr": ', encoding="utf-8")  # a typo: not JSON
        wait_until(
            lambda: (
                get_agent(connection, auth, agent) == 200
                and "not reloaded (personas.json)" in said.read_text()
            ),
            "the refusal",
            RELOAD_SECONDS,
        )
        refusal = next(line for line in said.read_text().splitlines() if "not reloaded" in line)
        assert "personas.json" in refusal and "still serving the last good version" in refusal
        assert status_of(connection, auth, OUR_PERSONA["cpr"]) == 404  # the last good one
        assert get_agent(connection, auth, agent) == 200
        assert process.poll() is None
        connection.close()
    finally:
        stop(process)


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/__admin/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def fetch_token(connection: http.client.HTTPConnection) -> str:
    form = "grant_type=client_credentials&client_id=star-jobnet&client_secret=star-jobnet-secret"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/connect/token", body=form, headers=headers)
    return str(json.loads(connection.getresponse().read())["access_token"])


def create_agent(connection: http.client.HTTPConnection, auth: dict[str, str]) -> str:
    body = json.dumps({"titel": "Før ændringen", "soegeparametre": {}})
    headers = {
        **auth,
        "Content-Type": "application/json",
        "x-civilRegistrationIdentifier": CITIZEN,
        "x-requestId": "reload-1",
    }
    connection.request("POST", "/v1/Jobagent", body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 201
    return str(answer.getheader("Location"))


def get_agent(connection: http.client.HTTPConnection, auth: dict[str, str], path: str) -> int:
    connection.request("GET", path, headers={**auth, "x-civilRegistrationIdentifier": CITIZEN})
    answer = connection.getresponse()
    answer.read()
    return answer.status


def status_of(connection: http.client.HTTPConnection, auth: dict[str, str], cpr: str) -> int:
    connection.request(
        "GET", "/v1/Jobagent", headers={**auth, "x-civilRegistrationIdentifier": cpr}
    )
    answer = connection.getresponse()
    answer.read()
    return answer.status
