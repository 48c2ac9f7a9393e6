"""Fixture files (fixtures/*.json): read, and each record validated against its contract schema;
a partner's folder (`--fixtures DIR`) overlays them, record by record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from jobagent_mock.foundations import resources, spec

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

# what names a record: a partner's record replaces the packaged one of the same name, others add
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "personas.json": ("cpr",),
    "clients.json": ("client_id",),
    "moedetilbud.json": ("moedetilbudId",),
    "jobagents.json": ("jobagent", "jobagentIdentifier"),
    "occupations.json/stillingsbetegnelser": ("conceptUriDa",),
    "occupations.json/beskaeftigelsesomraader": ("hierarkielementId",),
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


def load(overlay: Path | None = None) -> Fixtures:
    """The packaged fixtures, with the records of an overlay folder's files added or replaced."""
    files = _overlay_files(Path(overlay)) if overlay is not None else {}
    loaded = {}
    for name, (contract, component, is_list) in FILES.items():
        data = _read(DEFAULT_DIR / name)
        if name in files:
            added = _read(files[name])
            if is_list:  # its records first, numbered as in its own file
                _checked(added, files[name], contract, component, is_list)
            data = _overlaid(name, data, added, files[name])
        where = files.get(name, DEFAULT_DIR / name)
        loaded[name.removesuffix(".json")] = _checked(data, where, contract, component, is_list)
    fixtures = Fixtures(**loaded)
    _check_cross_references(fixtures, Path(overlay) if overlay is not None else DEFAULT_DIR)
    return fixtures


def _overlay_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise FixtureError(f"{folder}: no such folder")
    found = {path.name: path for path in sorted(folder.glob("*.json"))}
    unknown = sorted(set(found) - set(FILES))
    if unknown:
        raise FixtureError(
            f"{folder / unknown[0]}: not a fixture file (they are {', '.join(FILES)})"
        )
    return found


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"{path}: file is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FixtureError(f"{path}: not valid UTF-8 JSON ({exc})") from None


def _overlaid(name: str, packaged: Any, added: Any, path: Path) -> Any:
    """A list file's records by name, the overlay's last; an object file's fields replaced, but
    its lists of records (occupations) overlaid like a list file's."""
    if isinstance(packaged, list):
        if not isinstance(added, list):
            raise FixtureError(f"{path}: expected a JSON array, like the packaged {name}")
        return _records_overlaid(packaged, added, RECORD_KEYS[name], path)
    if not isinstance(added, dict):
        raise FixtureError(f"{path}: expected a JSON object, like the packaged {name}")
    merged = dict(packaged)
    for field, value in added.items():
        key = RECORD_KEYS.get(f"{name}/{field}")
        if key is None or not isinstance(value, list):
            merged[field] = value
        else:
            merged[field] = _records_overlaid(packaged.get(field, []), value, key, path, field)
    return merged


def _records_overlaid(
    packaged: list[Any], added: list[Any], key: tuple[str, ...], path: Path, field: str = ""
) -> list[Any]:
    by_name = {_name_of(record, key): record for record in packaged}
    seen: set[Any] = set()
    for index, record in enumerate(added):
        name = _name_of(record, key)
        where = f"{path}: {field + ' ' if field else ''}record {index}"
        if name is None:
            raise FixtureError(f"{where}: has no {'/'.join(key)}")
        if name in seen:
            raise FixtureError(f"{where}: duplicate {key[-1]}")
        seen.add(name)
        by_name[name] = record
    return list(by_name.values())


def _name_of(record: Any, key: tuple[str, ...]) -> Any:
    for part in key:
        record = record.get(part) if isinstance(record, dict) else None
    return record if isinstance(record, str | int) else None


def _checked(data: Any, path: Path, contract: str, component: str, is_list: bool) -> Any:
    validator = Draft4Validator(spec.schema(component, contract))
    if is_list and not isinstance(data, list):
        raise FixtureError(f"{path}: expected a JSON array of {component} records")
    records = data if is_list else [data]
    nested = NESTED.get(component)
    for index, record in enumerate(records):
        label = f"{path}: record {index}" if is_list else str(path)
        _validate(validator, record, label)
        if nested is not None:
            field, nested_validator = nested[0], Draft4Validator(spec.schema(*nested[1:]))
            _validate(nested_validator, record[field], f"{label} at {field}")
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
    clients = {client["client_id"] for client in fixtures.clients}
    for index, persona in enumerate(fixtures.personas):
        if persona.get("kalder", next(iter(clients))) not in clients:
            raise FixtureError(
                f"{directory / 'personas.json'}: record {index}: kalder {persona['kalder']!r}"
                " is no client_id of clients.json"
            )
    ids = [r["jobagent"]["jobagentIdentifier"].lower() for r in fixtures.jobagents]
    for index, jobagent_id in enumerate(ids):
        if ids.index(jobagent_id) != index:
            raise FixtureError(
                f"{directory / 'jobagents.json'}: record {index}: duplicate jobagentIdentifier"
            )
