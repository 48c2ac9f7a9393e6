"""A partner's fixture folder over the packaged one: their client and persona serve at once."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from tests.helpers import ORDINARY, problem, token_for

OUR_CLIENT = {
    "client_id": "vores-jobcenter",
    "client_secret": "vores-jobcenter-secret",
    "organisationType": "STAR",
    "organisationCode": "STAR",
    "scopes": ["match.jobagent.read"],
}
OUR_PERSONA = {"cpr": "0101901234", "description": "Ukendt hos os", "fejlkoder": [1010]}


def test_a_partners_client_and_persona_work_beside_the_packaged_ones(tmp_path: Path) -> None:
    (tmp_path / "clients.json").write_text(json.dumps([OUR_CLIENT]), encoding="utf-8")
    (tmp_path / "personas.json").write_text(json.dumps([OUR_PERSONA]), encoding="utf-8")
    http = TestClient(create_app(tmp_path))
    headers = {"Authorization": f"Bearer {token_for(http, 'vores-jobcenter')}"}

    ours = http.get(
        "/v1/Jobagent", headers={**headers, "x-civilRegistrationIdentifier": "0101901234"}
    )
    problem(ours, 404, 1010)
    packaged = http.get(
        "/v1/Jobagent", headers={**headers, "x-civilRegistrationIdentifier": ORDINARY}
    )
    assert packaged.status_code == 200 and len(packaged.json()["jobagenter"]) == 2
    assert token_for(http, "star-jobnet")  # the packaged clients are still there
