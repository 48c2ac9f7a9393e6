"""contract-diff: each kind of change to a copy of the contract is named, and marked breaking
exactly when a client built on the old contract may fail; the CLI's exit status says so."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobagent_mock import cli
from jobagent_mock.contract.contract_diff import Change, changes
from jobagent_mock.foundations import spec

Edit = Callable[[dict[str, Any]], None]
CREATE = "CreateJobagent (POST /v1/Jobagent)"
GET = "GetJobagent (GET /v1/Jobagent/{jobagentIdentifier})"
BOOK = "TilmeldOgBook (POST /v1/Tilmelding/TilmeldOgBook)"


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]


def edited(edit: Edit) -> list[Change]:
    old = spec.raw(spec.BUSINESS)
    new = copy.deepcopy(old)
    edit(new)
    return changes(old, new)


def remove_response_property(document: dict[str, Any]) -> None:
    response = schemas(document)["JobagentResponseDto"]
    del response["properties"]["titel"]
    response["required"].remove("titel")


def require_request_property(document: dict[str, Any]) -> None:
    schemas(document)["CreateJobagentRequestDto"]["required"].append("jobagent")


def add_optional_properties(document: dict[str, Any]) -> None:
    for dto in ("JobagentResponseDto", "CreateJobagentRequestDto"):
        schemas(document)[dto]["properties"]["oprettet"] = {"type": "string", "format": "date"}


def test_the_same_contract_has_no_change() -> None:
    assert edited(lambda _document: None) == []


def test_a_removed_response_property_breaks_every_operation_that_returns_it() -> None:
    found = edited(remove_response_property)
    assert Change(f"{GET} response 200 `titel`", "property removed", True) in found
    assert all(change.breaking for change in found)
    assert {change.where.split(" (")[0] for change in found} == {
        "GetJobagent",
        "GetJobagenter",
        "GetJobagenterPaaEmail",
    }


def test_an_optional_request_property_made_required_breaks() -> None:
    assert edited(require_request_property) == [
        Change(f"{CREATE} request body `jobagent`", "became required", True)
    ]


def test_optional_properties_added_break_nothing() -> None:
    found = edited(add_optional_properties)
    assert Change(f"{CREATE} request body `oprettet`", "property added, optional", False) in found
    assert Change(f"{GET} response 200 `oprettet`", "property added, optional", False) in found
    assert not any(change.breaking for change in found)


def test_required_request_property_added_breaks() -> None:
    def add(document: dict[str, Any]) -> None:
        dto = schemas(document)["CreateJobagentRequestDto"]
        dto["properties"]["kilde"] = {"type": "string"}
        dto["required"].append("kilde")

    added = Change(f"{CREATE} request body `kilde`", "property added, required", True)
    assert edited(add) == [added]


def test_a_tighter_limit_breaks_requests_and_not_responses() -> None:
    limit = spec.raw(spec.BUSINESS)["components"]["schemas"]["Titel"]["maxLength"]

    def shorter_titel(document: dict[str, Any]) -> None:
        schemas(document)["Titel"]["maxLength"] = limit // 2

    found = edited(shorter_titel)
    tighter = f"maxLength {limit} → {limit // 2}"
    assert Change(f"{CREATE} request body `titel`", tighter, True) in found
    assert Change(f"{GET} response 200 `titel`", tighter, False) in found


# a code list of the contract, whatever its values are now
INTERVAL = "`jobagent.udsendelsesinterval`"
INTERVALS: list[Any] = spec.raw(spec.BUSINESS)["components"]["schemas"]["Udsendelsesinterval"][
    "enum"
]


def test_enum_values_removed_break_requests_and_added_ones_break_responses() -> None:
    new_value = max(INTERVALS) + 1 if isinstance(INTERVALS[0], int) else "Hver time"

    def first_only(document: dict[str, Any]) -> None:
        schemas(document)["Udsendelsesinterval"]["enum"] = INTERVALS[:1]

    def one_more(document: dict[str, Any]) -> None:
        schemas(document)["Udsendelsesinterval"]["enum"].append(new_value)

    removed = edited(first_only)
    gone = "enum values removed: " + ", ".join(map(str, INTERVALS[1:]))
    assert Change(f"{CREATE} request body {INTERVAL}", gone, True) in removed
    assert Change(f"{GET} response 200 {INTERVAL}", gone, False) in removed
    added = edited(one_more)
    more = f"enum values added: {new_value}"
    assert Change(f"{GET} response 200 {INTERVAL}", more, True) in added
    assert Change(f"{CREATE} request body {INTERVAL}", more, False) in added


def test_a_code_list_changing_type_breaks_on_type() -> None:
    """As a code list from names to numbers (or back)."""
    old_type = "integer" if isinstance(INTERVALS[0], int) else "string"
    new_type, new_values = ("string", ["a", "b"]) if old_type == "integer" else ("integer", [1, 2])

    def retyped(document: dict[str, Any]) -> None:
        schemas(document)["Udsendelsesinterval"].update(type=new_type, enum=new_values)
        schemas(document)["Udsendelsesinterval"].pop("format", None)

    found = edited(retyped)
    where = f"{CREATE} request body {INTERVAL}"
    assert Change(where, f"type {old_type} → {new_type}", True) in found
    gone = "enum values removed: " + ", ".join(map(str, INTERVALS))
    assert Change(where, gone, True) in found


def test_a_readonly_property_is_not_part_of_the_request() -> None:
    def drop_verified(document: dict[str, Any]) -> None:
        del schemas(document)["JobagentDto"]["properties"]["emailVerificeret"]

    found = edited(drop_verified)
    assert found and all("response" in change.where for change in found), found


def test_operation_status_header_and_parameter_changes() -> None:
    def edit(document: dict[str, Any]) -> None:
        create = document["paths"]["/v1/Jobagent"]["post"]
        del create["responses"]["201"]["headers"]["Location"]
        create["parameters"].append(
            {"name": "x-kilde", "in": "header", "required": True, "schema": {"type": "string"}}
        )
        del document["paths"]["/v1/Jobagent/email/{email}"]

    found = edited(edit)
    assert Change(f"{CREATE} response 201 header `location`", "removed", True) in found
    assert Change(f"{CREATE} header parameter `x-kilde`", "added, required", True) in found
    assert (
        Change("GetJobagenterPaaEmail (GET /v1/Jobagent/email/{email})", "operation removed", True)
        in found
    )


def test_scopes_organisations_and_fejlkoder() -> None:
    def edit(document: dict[str, Any]) -> None:
        book = document["paths"]["/v1/Tilmelding/TilmeldOgBook"]["post"]
        book["security"] = [{"oauth2": ["visiteringogstatus.write", "booking.write"]}]
        book["x-allowed-organisations"] = ["STAR", "JobCenter"]
        book["responses"]["409"]["x-fejlkoder"].remove(4819)
        book["responses"]["422"]["x-fejlkoder"].append(4819)

    found = edited(edit)
    assert Change(BOOK, "fejlkode 4819 moved: status 409 → 422", True) in found
    assert Change(BOOK, "organisation JobCenter now allowed", False) in found
    assert (
        Change(
            BOOK,
            "security oauth2 [visiteringogstatus.write] → oauth2 [visiteringogstatus.write "
            "booking.write]",
            True,
        )
        in found
    )


def test_token_url_and_scope_aliases() -> None:
    def edit(document: dict[str, Any]) -> None:
        oauth2 = document["components"]["securitySchemes"]["oauth2"]
        oauth2["flows"]["clientCredentials"]["tokenUrl"] = "/connect/v2/token"
        del oauth2["x-scope-aliases"]

    assert edited(edit) == [
        Change(
            "security scheme oauth2",
            "scope alias match.jobagent.writeread no longer accepted",
            True,
        ),
        Change("security scheme oauth2", "tokenUrl /connect/token → /connect/v2/token", True),
    ]


def test_a_new_fejlkode_for_an_operation_is_announced_not_breaking() -> None:
    def edit(document: dict[str, Any]) -> None:
        document["paths"]["/v1/Jobagent"]["post"]["responses"]["422"]["x-fejlkoder"].append(4725)

    assert edited(edit) == [Change(CREATE, "may now return fejlkode 4725 (422)", False)]


def test_a_fejlkode_dropped_alone_is_not_breaking() -> None:
    def edit(document: dict[str, Any]) -> None:
        document["paths"]["/v1/Jobagent"]["post"]["responses"]["422"]["x-fejlkoder"].pop()

    [change] = edited(edit)
    assert "no longer returned (422)" in change.what and not change.breaking


def test_a_fejlkode_replaced_by_another_at_its_status_is_breaking() -> None:
    # a client that branched on the old code gets the new one for the same refusal
    dropped: list[int] = []

    def edit(document: dict[str, Any]) -> None:
        codes = document["paths"]["/v1/Jobagent"]["post"]["responses"]["422"]["x-fejlkoder"]
        dropped.append(codes.pop())
        codes.append(4725)

    changes = edited(edit)
    assert changes[0] == Change(
        CREATE, f"fejlkode {dropped[0]} no longer returned (422), new at that status: 4725", True
    )
    assert changes[1:] == [Change(CREATE, "may now return fejlkode 4725 (422)", False)]


@pytest.fixture
def contracts(tmp_path: Path) -> Callable[[Edit], list[str]]:
    """The CLI's arguments: the working contract and an edited copy of it."""

    def write(edit: Edit) -> list[str]:
        new = copy.deepcopy(spec.raw(spec.BUSINESS))
        edit(new)
        (tmp_path / "new.yaml").write_text(yaml.safe_dump(new, allow_unicode=True))
        return [str(spec.SPEC_DIR / spec.BUSINESS), str(tmp_path / "new.yaml")]

    return write


@pytest.mark.parametrize(
    ("edit", "status", "named"),
    [
        (remove_response_property, 1, "BREAKING  GetJobagent"),
        (require_request_property, 1, "request body `jobagent`: became required"),
        (add_optional_properties, 0, "`oprettet`: property added, optional"),
    ],
)
def test_cli_exit_status_says_whether_anything_breaks(
    contracts: Callable[[Edit], list[str]],
    capsys: pytest.CaptureFixture[str],
    edit: Edit,
    status: int,
    named: str,
) -> None:
    assert cli.main(["contract-diff", *contracts(edit)]) == status
    assert named in capsys.readouterr().out


def test_cli_json_and_unreadable_input(
    contracts: Callable[[Edit], list[str]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["contract-diff", "--json", *contracts(require_request_property)]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {"where": f"{CREATE} request body `jobagent`", "what": "became required", "breaking": True}
    ]
    (tmp_path / "not.yaml").write_text("- just a list\n")
    assert cli.main(["contract-diff", str(tmp_path / "not.yaml"), str(tmp_path / "new.yaml")]) == 2
    assert "not an OpenAPI document" in capsys.readouterr().err
    (tmp_path / "anonymous.yaml").write_text("paths: {/x: {get: {responses: {}}}}\n")
    assert cli.main(["contract-diff", *[str(tmp_path / "anonymous.yaml")] * 2]) == 2
    assert "no 'operationId' where expected" in capsys.readouterr().err
