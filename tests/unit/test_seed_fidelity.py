"""Every bound of the contract is the seed's (x-seed-line) or said to be the mock's
(x-provisional); every seed field row is in RECONSTRUCTION.md's table, none of them differing
unflagged; the decisions issue 24 revisited are flagged where a partner reads the contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobagent_mock.foundations import readings, spec
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.web.contract_violations import BOUNDS, canonical, provisional_bound

SEED = (Path(spec.SPEC_DIR) / "seed" / "star-wiki-draft.txt").read_text(encoding="utf-8")
SEED_LINES = SEED.splitlines()
RECONSTRUCTION = (Path(spec.SPEC_DIR) / "RECONSTRUCTION.md").read_text(encoding="utf-8")
FLAGS = (
    "x-provisional",
    "x-seed-reading",
    "x-aliases",
    "x-wraps",
    "x-relaxed-required",
    "x-provisional-rules",
)
STATUSES = ("agrees", "differs, flagged")


def bounded_schemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema of the raw contract (examples aside) that holds a bound keyword."""
    if isinstance(node, dict):
        if any(keyword in node for keyword in BOUNDS):
            yield path, node
        for key, value in node.items():
            if key in ("example", "examples", "x-seed-example") or key.startswith("x-"):
                continue
            yield from bounded_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from bounded_schemas(item, f"{path}/{index}")


def cited_lines(seed_line: Any) -> list[int]:
    if isinstance(seed_line, dict):
        return [line for value in seed_line.values() for line in cited_lines(value)]
    return list(seed_line) if isinstance(seed_line, list) else [seed_line]


def test_every_bound_is_the_seeds_or_flagged_provisional() -> None:
    found = list(bounded_schemas(spec.raw(spec.BUSINESS)))
    assert len(found) > 30  # the walk finds the contract's bounds at all
    unflagged = []
    for path, schema in found:
        seed_line = schema.get("x-seed-line")
        for keyword in (k for k in BOUNDS if k in schema):
            from_seed = seed_line is not None and (
                not isinstance(seed_line, dict) or keyword in seed_line
            )
            if not from_seed and not schema.get("x-provisional"):
                unflagged.append(f"{path}: {keyword}")
    assert unflagged == [], "neither x-seed-line nor x-provisional:\n" + "\n".join(unflagged)


def test_a_bound_from_the_seed_is_never_called_provisional() -> None:
    fra_postnummer = spec.raw(spec.BUSINESS)["components"]["schemas"]["AfstandDto"]["properties"][
        "fraPostnummer"
    ]
    assert provisional_bound(fra_postnummer, "minimum") is None  # 4698, line 258
    assert "four digits" in str(provisional_bound(fra_postnummer, "maximum"))


def test_every_cited_seed_line_exists_and_says_something() -> None:
    def citations(node: Any) -> Iterator[int]:
        if isinstance(node, dict):
            if "x-seed-line" in node:
                yield from cited_lines(node["x-seed-line"])
            for value in node.values():
                yield from citations(value)
        elif isinstance(node, list):
            for item in node:
                yield from citations(item)

    lines = list(citations(spec.raw(spec.BUSINESS)))
    assert lines
    for line in lines:
        assert 1 <= line <= len(SEED_LINES) and SEED_LINES[line - 1].strip(), line


# RECONSTRUCTION.md §6: one row per seed field row
def field_rows() -> list[dict[str, str]]:
    section = RECONSTRUCTION.split("### Every seed field row", 1)[1]
    rows = []
    for line in section.splitlines():
        if re.match(r"\| \d+ \|", line):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            number, seed_line, row, place, status, decision = cells
            rows.append(
                {"seed_line": seed_line, "row": row, "place": place.strip("`"), "status": status}
            )
    return rows


def contract_place(place: str) -> dict[str, Any]:
    """`parameters.Name`, `Schema` or `Schema.property[.property…]` in the resolved contract."""
    components = spec.resolved(spec.BUSINESS)["components"]
    first, *rest = place.split(".")
    if first == "parameters":
        return dict(components["parameters"][rest[0]])
    node: dict[str, Any] = components["schemas"][first]
    for name in rest:
        node = _properties(node)[name]
    return node


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(_properties(part))
    if "items" in schema:
        found.update(_properties(schema["items"]))
    return found


def flagged(node: dict[str, Any]) -> bool:
    parts = [node, *node.get("allOf", []), node.get("items", {})]
    return any(flag in part for part in parts for flag in FLAGS)


def test_the_table_has_every_seed_field_row_and_none_differs_unflagged() -> None:
    rows = field_rows()
    assert len(rows) == 106
    statuses = [row["status"] for row in rows]
    assert "differs, unflagged" not in statuses
    assert set(statuses) <= set(STATUSES), set(statuses)
    assert f"Of the 106: {statuses.count('agrees')} agree" in RECONSTRUCTION


@pytest.mark.parametrize("row", field_rows(), ids=lambda row: row["seed_line"])
def test_each_row_names_a_seed_line_and_a_contract_place(row: dict[str, str]) -> None:
    line = SEED_LINES[int(row["seed_line"]) - 1]
    name = re.search(r"`([^`]+)`", row["row"])
    if name is not None:  # the element is on its line (a header's name without [Header])
        assert name.group(1).split()[0].split(".")[-1] in line, (line, row)
    node = contract_place(row["place"])
    if row["status"] == "differs, flagged":
        assert flagged(node), f"{row['place']} carries none of {FLAGS}"


# the decisions issue 24 revisited: each stands or is revised, flagged in the contract
def schema(name: str) -> dict[str, Any]:
    return dict(spec.raw(spec.BUSINESS)["components"]["schemas"][name])


def parameter(name: str) -> dict[str, Any]:
    return dict(spec.raw(spec.BUSINESS)["components"]["parameters"][name])


def test_the_revisited_decisions_are_flagged() -> None:
    assert "A-3" in schema("CreateJobagentRequestDto")["x-seed-reading"]  # soegeparametre 1
    on_read = parameter("RequestIdOnRead")  # A-11, revised by D-57
    assert on_read["x-provisional"] and not on_read["required"]
    assert "A-13" in schema("JobagentDto")["properties"]["email"]["x-provisional"]
    booking = schema("TilmeldOgBookRequestDto")  # A-27, revised by D-55
    assert "moedetilbudId" not in booking["required"]
    assert booking["properties"]["moedetilbudId"]["x-seed-line"] == 477
    relaxed = schema("TilmeldOgBookJoboenskeDto")["x-relaxed-required"]
    assert set(relaxed) == {"aarSidstBrugt", "maanederMedErfaring"}
    for operation_id in ("CreateTilmelding", "TilmeldOgBook"):  # D-14
        assert "D-14" in spec.operation(operation_id).spec["x-provisional-rules"]["7062"]
    every_write = parameter("RequestIdEveryWrite")  # UpdateJobagent's x-requestId: D-58
    assert every_write["required"] and "D-58" in every_write["x-seed-reading"]
    update = [p.get("x-seed-reading") for p in spec.operation("UpdateJobagent").parameters]
    assert every_write["x-seed-reading"] in update


# D-54: the binder gives a date-time without an offset Danish time's offset, whatever its form
ENROLLMENT = spec.resolved(spec.BUSINESS)["components"]["schemas"]["CreateTilmeldingRequestDto"]


@settings(max_examples=300, deadline=None)
@given(
    wall=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)),
    seconds=st.booleans(),
    decimals=st.integers(0, 7),
)
def test_a_wall_time_without_an_offset_keeps_its_wall_time(
    wall: datetime, seconds: bool, decimals: int
) -> None:
    """Any form .NET writes (minutes; seconds; 1 to 7 decimals) keeps its Danish wall time,
    but for the hour summer time skips; and the reading is said."""
    fraction = f"{wall.microsecond:06d}0"[:decimals]
    text = wall.strftime("%Y-%m-%dT%H:%M") + (
        wall.strftime(":%S") + (f".{fraction}" if decimals else "") if seconds else ""
    )
    noted = readings.collect()
    bound = canonical({"tilmeldingsdato": text}, ENROLLMENT)["tilmeldingsdato"]
    instant = datetime.fromisoformat(bound)
    assert instant.tzinfo is not None
    sent = wall.replace(second=wall.second if seconds else 0, microsecond=0)
    sent += timedelta(microseconds=int(fraction.ljust(6, "0")[:6]) if seconds and decimals else 0)
    danish = instant.astimezone(DANISH_TIME).replace(tzinfo=None)
    as_written = sent.replace(tzinfo=DANISH_TIME)
    skipped = as_written.astimezone(UTC).astimezone(DANISH_TIME).replace(tzinfo=None) != sent
    assert danish == sent or skipped, (text, bound)
    assert f"tilmeldingsdato {text} read as Danish local time" in noted[0]
