"""Fixture files (fixtures/*.json): read, and each record validated against its contract schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from jobagent_mock import resources, spec

DEFAULT_DIR = resources.folder(resources.FIXTURES_PACKAGE)

# file -> (contract, component the records follow, whether the file is a list of records)
FILES: dict[str, tuple[str, str, bool]] = {
    "personas.json": (spec.CONTROL, "Persona", True),
    "clients.json": (spec.CONTROL, "Client", True),
    "codelists.json": (spec.CONTROL, "Codelists", False),
    "occupations.json": (spec.CONTROL, "Occupations", False),
    "moedetilbud.json": (spec.CONTROL, "Moedetilbud", True),
    "jobagents.json": (spec.CONTROL, "SeedJobagent", True),
}

# a field that follows a schema of the business contract: component -> (field, component, file)
NESTED = {"SeedJobagent": ("jobagent", "JobagentResponseDto", spec.BUSINESS)}


class FixtureError(Exception):
    """A fixture file that cannot be used; the message names the file and the record."""


@dataclass(frozen=True)
class Fixtures:
    personas: list[dict[str, Any]]
    clients: list[dict[str, Any]]
    codelists: dict[str, Any]
    occupations: dict[str, Any]
    moedetilbud: list[dict[str, Any]]
    jobagents: list[dict[str, Any]]


def load(directory: Path | None = None) -> Fixtures:
    directory = Path(directory or DEFAULT_DIR)
    loaded = {name: _load_file(directory / name, *how) for name, how in FILES.items()}
    fixtures = Fixtures(**{name.removesuffix(".json"): data for name, data in loaded.items()})
    _check_cross_references(fixtures, directory)
    return fixtures


def _load_file(path: Path, contract: str, component: str, is_list: bool) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"{path}: file is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FixtureError(f"{path}: not valid UTF-8 JSON ({exc})") from None
    validator = Draft4Validator(spec.schema(component, contract))
    records = data if is_list else [data]
    if is_list and not isinstance(data, list):
        raise FixtureError(f"{path}: expected a JSON array of {component} records")
    nested = NESTED.get(component)
    for index, record in enumerate(records):
        _validate(validator, record, f"{path}: record {index}")
        if nested is not None:
            field, nested_validator = nested[0], Draft4Validator(spec.schema(*nested[1:]))
            _validate(nested_validator, record[field], f"{path}: record {index} at {field}")
    return data


def _validate(validator: Draft4Validator, record: Any, where: str) -> None:
    error = next(iter(sorted(validator.iter_errors(record), key=str)), None)
    if error is not None:
        inner = "/".join(str(p) for p in error.absolute_path) or "(record)"
        raise FixtureError(f"{where} at {inner}: {error.message}")


def _check_cross_references(fixtures: Fixtures, directory: Path) -> None:
    """Rules a schema cannot state: unique keys, and seed job agents owned by valid people."""
    for name, records, key in (
        ("personas.json", fixtures.personas, "cpr"),
        ("clients.json", fixtures.clients, "client_id"),
        ("moedetilbud.json", fixtures.moedetilbud, "moedetilbudId"),
    ):
        seen: set[str] = set()
        for index, record in enumerate(records):
            if record[key] in seen:
                raise FixtureError(f"{directory / name}: record {index}: duplicate {key}")
            seen.add(record[key])
    ids = [r["jobagent"]["jobagentIdentifier"].lower() for r in fixtures.jobagents]
    for index, jobagent_id in enumerate(ids):
        if ids.index(jobagent_id) != index:
            raise FixtureError(
                f"{directory / 'jobagents.json'}: record {index}: duplicate jobagentIdentifier"
            )
