"""A partner's first minutes against any running mock (an installed wheel, a container): a token,
a job agent created and read back, and one persona's fejlkode. `python -m tests.smoke URL`."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import httpx

from jobagent_mock.foundations import spec
from tests.helpers import ORDINARY, token_for

DEAD = "0202701405"  # the persona whose enrollments and job agents are refused with 4405


def new_jobagent() -> dict[str, Any]:
    """The contract's first CreateJobagent example, with an identifier the mock makes up."""
    operation = spec.operation("CreateJobagent")
    assert operation is not None
    media = operation.spec["requestBody"]["content"]["application/json"]
    example = dict(next(iter(media["examples"].values()))["value"])
    example.pop("jobagentIdentifier", None)
    return example


def run(base: str, token: str | None = None) -> None:
    """Raises AssertionError, saying what the mock answered, at the first step that fails."""
    with httpx.Client(base_url=base, timeout=10) as http:
        token = token or token_for(http, "star-jobnet")
        body = new_jobagent()
        # a sandbox of its own: the flow leaves nothing where others look
        sandbox = {"Authorization": f"Bearer {token}", "x-mock-sandbox": f"smoke-{uuid.uuid4()}"}

        def create(cpr: str) -> httpx.Response:
            headers = {
                **sandbox,
                "x-civilRegistrationIdentifier": cpr,
                "x-requestId": str(uuid.uuid4()),
            }
            return http.post("/v1/Jobagent", json=body, headers=headers)

        created = create(ORDINARY)
        assert created.status_code == 201, created.text
        read = http.get(
            created.headers["location"],
            headers={**sandbox, "x-civilRegistrationIdentifier": ORDINARY},
        )
        assert read.status_code == 200, read.text
        assert read.json()["titel"] == body["titel"]
        dead = create(DEAD)
        assert (dead.status_code, dead.json().get("fejlkode")) == (422, 4405), dead.text


if __name__ == "__main__":
    run(*sys.argv[1:])
    print(f"smoke flow passed against {sys.argv[1]}")  # noqa: T201
