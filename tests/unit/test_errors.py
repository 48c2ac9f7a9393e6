"""The one source of fejlkoder in code: Fejlkode names only codes the contract documents, and no
module writes a documented code as a bare number instead."""

from __future__ import annotations

import ast
from pathlib import Path

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import (
    Conflict,
    Fejl,
    Fejlkode,
    Forbidden,
    HeadersTooLarge,
    InvalidInput,
    NotFound,
    ReplayedRequest,
    RuleViolation,
    TooLarge,
    TooManySandboxes,
    Unavailable,
    UpstreamFailed,
    UpstreamTimedOut,
)

ROOT = Path(__file__).resolve().parents[2]
CODE = [*(ROOT / "jobagent_mock").rglob("*.py"), *(ROOT / "handlers").glob("*.py")]


def test_every_named_fejlkode_is_in_the_contracts_catalogue() -> None:
    unknown = [code.name for code in Fejlkode if code.value not in spec.fejlkode_catalogue()]
    assert not unknown, f"not in jobagent.yaml's x-fejlkoder: {unknown}"


def test_no_module_but_errors_writes_a_fejlkode_as_a_number() -> None:
    catalogue = set(spec.fejlkode_catalogue())
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value}"
        for path in CODE
        if path.name != "errors.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value in catalogue
    ]
    assert not found, f"name these codes through errors.Fejlkode: {found}"


def test_each_kind_of_refusal_carries_its_status() -> None:
    statuses = {
        InvalidInput: 400,
        Forbidden: 403,
        NotFound: 404,
        Conflict: 409,
        ReplayedRequest: 412,
        TooLarge: 413,
        RuleViolation: 422,
        TooManySandboxes: 429,
        HeadersTooLarge: 431,
        Unavailable: 503,
        UpstreamFailed: 502,
        UpstreamTimedOut: 504,
    }
    assert {kind: kind(None).status for kind in statuses} == statuses
    assert set(Fejl.__subclasses__()) == set(statuses)


def test_a_refusal_with_a_named_code_carries_it_as_a_plain_number() -> None:
    refused = RuleViolation(Fejlkode.SLOT_TAKEN)
    assert type(refused.fejlkode) is int and refused.fejlkode == 4819
    assert refused.detail == spec.fejlkode_catalogue()[4819][1]
