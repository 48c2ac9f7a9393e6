"""What each operation of openapi/jobagent.yaml still lacks. Its failures are the checklist for
adding an operation (ARCHITECTURE.md, "Where a change goes"): add it to the contract, run this
test, and do what it names until it passes. No test elsewhere counts the operations."""

from __future__ import annotations

import copy
import importlib
import inspect
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from jobagent_mock.contract import catalogue, changelog
from jobagent_mock.foundations import fixtures, spec
from jobagent_mock.foundations.handler_names import handler_name
from jobagent_mock.web.responses import Answer

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Project:
    """Everything an operation must appear in, read once; the proof below swaps the contract."""

    contract: dict[str, Any]  # openapi/jobagent.yaml as written
    readme: str
    reconstruction: str
    walkthrough: str
    requests_http: str
    releases: list[changelog.Release]
    published: dict[str, Any]  # the last published contract
    loaded: fixtures.Fixtures
    journal_filter: list[str]  # admin.yaml's BusinessOperationId enum

    @classmethod
    def as_it_is(cls) -> Project:
        last = changelog.published(changelog.releases())[0]
        return cls(
            contract=spec.raw(spec.BUSINESS),
            readme=(ROOT / "README.md").read_text(encoding="utf-8"),
            reconstruction=(ROOT / "openapi" / "RECONSTRUCTION.md").read_text(encoding="utf-8"),
            walkthrough=(ROOT / "examples" / "walkthrough.sh").read_text(encoding="utf-8"),
            requests_http=(ROOT / "examples" / "requests.http").read_text(encoding="utf-8"),
            releases=changelog.releases(),
            published=changelog.contract(changelog.OPENAPI.snapshot(last.version)),
            loaded=fixtures.load(),
            journal_filter=spec.raw(spec.CONTROL)["components"]["schemas"]["BusinessOperationId"][
                "enum"
            ],
        )

    def operations(self) -> dict[str, spec.Operation]:
        return spec.operations_in(spec.resolve(self.contract))


def lacks(operation: spec.Operation, project: Project) -> list[str]:
    """Each chore not done for `operation`, in the words of the checklist."""
    return [
        *_handler(operation),
        *_contract(operation),
        *_fejlkoder(operation, project),
        *_documents(operation, project),
        *_examples(operation, project),
        *_version(operation, project),
    ]


def _handler(operation: spec.Operation) -> list[str]:
    tags = operation.spec.get("tags", [])
    if not tags:
        return ["a tag (Jobagent or Tilmelding: it names the handlers module)"]
    module, _, function = handler_name(operation.operation_id, tags).rpartition(".")
    where = f"handlers/{module.rsplit('.', 1)[-1]}.py:{function}"
    try:
        found = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        return [f"a handler {where} (one line: the engine's rule, answered as web/responses.py)"]
    said = inspect.signature(found, eval_str=True).return_annotation
    return [] if said is Answer else [f"{where} annotated -> Answer (web/responses.py)"]


def _contract(operation: spec.Operation) -> list[str]:
    found = []
    security = operation.spec.get("security", [])
    if len(security) != 1 or list(security[0]) != ["oauth2"] or len(security[0]["oauth2"]) != 1:
        found.append("one oauth2 scope in its security (openapi/jobagent.yaml)")
    if not operation.spec.get("x-allowed-organisations"):
        found.append("x-allowed-organisations (openapi/jobagent.yaml)")
    missing = sorted({"400", "401", "403"} - operation.responses.keys())
    if missing:
        found.append(f"the responses {', '.join(missing)} (openapi/jobagent.yaml)")
    if not any(status.startswith("2") for status in operation.responses):
        found.append("a 2xx response (openapi/jobagent.yaml)")
    return found + _contract_examples(operation)


def _contract_examples(operation: spec.Operation) -> list[str]:
    """What the twin test, the console and the catalogue send: the documented examples."""
    found = []
    for param in operation.parameters:
        if "example" not in param:
            found.append(f"an example of parameter {param['name']} (openapi/jobagent.yaml)")
    for media_type, media in operation.spec.get("requestBody", {}).get("content", {}).items():
        if "example" not in media and not media.get("examples"):
            found.append(f"an example of its {media_type} body (openapi/jobagent.yaml)")
    for status, response in sorted(operation.responses.items()):
        for media_type, media in response.get("content", {}).items():
            if "example" not in media and not media.get("examples"):
                found.append(
                    f"an example of its {status} {media_type} answer (openapi/jobagent.yaml: "
                    "Prefer: code= and the console answer it)"
                )
    return found


def _fejlkoder(operation: spec.Operation, project: Project) -> list[str]:
    found = []
    known = {int(code) for code in project.contract.get("x-fejlkoder", {})}
    natural = total = 0
    for status, codes in sorted(operation.fejlkoder_by_status().items()):
        for code in codes:
            if code not in known:
                found.append(f"fejlkode {code} in the root x-fejlkoder (openapi/jobagent.yaml)")
            trigger = catalogue.trigger_for(operation, status, code, project.loaded)
            total += 1
            if trigger is None:
                found.append(
                    f"a trigger of fejlkode {code} at {status} (x-triggers in "
                    "openapi/jobagent.yaml, or a persona listing it in fixtures/personas.json)"
                )
            elif trigger["kind"] != "prefer":
                natural += 1
    if total and natural / total < 0.9:
        found.append("a natural trigger (not only Prefer) for nine in ten of its fejlkoder")
    return found


def _documents(operation: spec.Operation, project: Project) -> list[str]:
    found = []
    op_id, surface = operation.operation_id, f"`{operation.method.upper()} {operation.path}`"
    scopes = operation.spec.get("security", [{}])[0].get("oauth2", [""])
    organisations = ", ".join(operation.spec.get("x-allowed-organisations", []))
    row = f"| {op_id} | {surface} | {scopes[0]} | {organisations} |"
    if row not in project.readme.splitlines():
        found.append(f"a row in README.md's table of operations: {row}")
    if f"**{op_id}**" not in _section(project.readme, "fejlkoder").splitlines():
        found.append("its rows in README.md's fejlkode table (run: jobagent-mock docs --readme)")
    if f"`{op_id}`, {surface}" not in project.reconstruction:
        found.append(
            "a row in openapi/RECONSTRUCTION.md §1: | the seed's method (or 'none: the mock's "
            f"own', with why) | `{op_id}`, {surface} |"
        )
    if not re.search(rf"^\| {op_id} \|.*`{re.escape(scopes[0])}`", project.reconstruction, re.M):
        found.append(f"a row in openapi/RECONSTRUCTION.md §2 (its tables): | {op_id} | … |")
    if op_id not in project.journal_filter:
        found.append(
            f"{op_id} in openapi/admin.yaml's BusinessOperationId enum (the journal's filter)"
        )
    return found


def _examples(operation: spec.Operation, project: Project) -> list[str]:
    found = []
    op_id = operation.operation_id
    if not re.search(rf"^call {op_id} {operation.method.upper()} ", project.walkthrough, re.M):
        found.append(
            f"a call in examples/walkthrough.sh: call {op_id} {operation.method.upper()} …"
        )
    if not re.search(rf"^### {op_id}\b", project.requests_http, re.MULTILINE):
        found.append(f"a request in examples/requests.http: ### {op_id}")
    return found


def _version(operation: spec.Operation, project: Project) -> list[str]:
    published = spec.operations_in(spec.resolve(project.published))
    if operation.operation_id in published:
        return []
    found = []
    version = changelog.working_version(project.contract)
    last = changelog.working_version(project.published)
    if changelog.version_key(version) <= changelog.version_key(last):
        found.append(f"info.version raised above {last}, a minor at least (openapi/jobagent.yaml)")
    entry = next((r for r in project.releases if r.version == version and r.date is None), None)
    if entry is None or operation.operation_id not in entry.notes:
        found.append(
            f"a note naming it in the entry of version {version} in "
            "openapi/published/releases.yaml (README: Versions, the changelog and publishing)"
        )
    return found


def _section(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:start.*?-->\n(.*?)<!-- {name}:end -->", text, re.DOTALL)
    return match[1] if match else ""


PROJECT = Project.as_it_is()


@pytest.mark.parametrize("operation", PROJECT.operations().values(), ids=lambda o: o.operation_id)
def test_each_operation_lacks_nothing(operation: spec.Operation) -> None:
    chores = lacks(operation, PROJECT)
    assert not chores, f"{operation.operation_id} lacks:\n- " + "\n- ".join(chores)


def test_the_documents_name_no_operation_the_contract_has_not() -> None:
    """The other way round: a row or a call left behind by an operation taken out."""
    known = set(PROJECT.operations())
    table = re.findall(r"^\| (\w+) \| `[A-Z]+ /", PROJECT.readme, re.MULTILINE)
    called = re.findall(r"^call (\w+) ", PROJECT.walkthrough, re.MULTILINE)
    stale = {name for name in [*table, *called] if name not in known}
    assert not stale, f"documents name operations the contract has not: {sorted(stale)}"


# The proof: a tenth operation in a copy of the contract, with nothing else done for it
TENTH = {
    "operationId": "CreateFoo",
    "tags": ["Jobagent"],
    "summary": "A tenth operation, in a copy of the contract only",
    "security": [{"oauth2": ["match.jobagent.write"]}],
    "x-allowed-organisations": ["STAR"],
    "parameters": [{"$ref": "#/components/parameters/Cpr"}, {"name": "x-foo", "in": "header"}],
    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
    "responses": {
        "201": {"description": "Created", "content": {"application/json": {"schema": {}}}},
        "400": {"$ref": "#/components/responses/Unauthorized"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"},
        "409": {"description": "A conflict", "x-fejlkoder": [4819, 99999]},
    },
}
CHORES_OF_A_TENTH = [
    "a handler handlers/jobagent.py:create_foo",
    "an example of parameter x-foo",
    "an example of its application/json body",
    "an example of its 201 application/json answer",
    "fejlkode 99999 in the root x-fejlkoder",
    "a trigger of fejlkode 4819 at 409",
    "a trigger of fejlkode 99999 at 409",
    "a natural trigger (not only Prefer) for nine in ten",
    "a row in README.md's table of operations: | CreateFoo | `POST /v1/Foo` | "
    "match.jobagent.write | STAR |",
    "its rows in README.md's fejlkode table",
    "a row in openapi/RECONSTRUCTION.md §1",
    "a row in openapi/RECONSTRUCTION.md §2",
    "CreateFoo in openapi/admin.yaml's BusinessOperationId enum",
    "a call in examples/walkthrough.sh: call CreateFoo POST",
    "a request in examples/requests.http: ### CreateFoo",
    "a note naming it in the entry of version",
]


def test_a_tenth_operation_is_told_each_chore_it_lacks() -> None:
    contract = copy.deepcopy(PROJECT.contract)
    contract["paths"]["/v1/Foo"] = {"post": TENTH}
    tenth = replace(PROJECT, contract=contract).operations()["CreateFoo"]
    chores = lacks(tenth, replace(PROJECT, contract=contract))
    for chore in CHORES_OF_A_TENTH:
        assert any(said.startswith(chore) for said in chores), (chore, chores)
    assert len(chores) == len(CHORES_OF_A_TENTH), chores


def test_a_tenth_operation_under_the_published_version_is_told_to_raise_it() -> None:
    contract = copy.deepcopy(PROJECT.contract)
    contract["paths"]["/v1/Foo"] = {"post": TENTH}
    contract["info"]["version"] = PROJECT.published["info"]["version"]
    tenth = spec.operations_in(spec.resolve(contract))["CreateFoo"]
    chores = lacks(tenth, replace(PROJECT, contract=contract))
    assert any(chore.startswith("info.version raised above") for chore in chores), chores
