"""/__admin/changelog: the contract's versions from the first published to the one served."""

from __future__ import annotations

from jobagent_mock.foundations import spec
from tests.helpers import ContractClient


def test_changelog_names_the_served_version_and_goes_back_to_the_first(
    client: ContractClient,
) -> None:
    answer = client.http.get("/__admin/changelog")  # public, like the docs: no token
    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == spec.raw(spec.BUSINESS)["info"]["version"]
    assert body["versions"][0]["version"] == body["version"]
    first = body["versions"][-1]
    assert (first["version"], first["date"], first["changes"]) == ("1.0.0", "2026-11-30", [])
    assert "1.0.0-mock" in first["notes"]
