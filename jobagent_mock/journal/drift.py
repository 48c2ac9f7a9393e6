"""Drift: where an upstream (STAR's test environment) departs from the contract, counted per
operation, place and kind, each line naming the recorded readings it refutes."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from jobagent_mock.foundations import jsontext, spec
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.journal import entries

FORMATS = ("json", "md", "junit")
# what a drift line shows of a value or a sentence: enough to recognise it, never a body
EXAMPLE_CHARS = 160
DETAIL_CHARS = 400
# the ids of the reconstruction's recorded readings: ambiguities A-n, decisions D-n
_READING_ID = re.compile(r"\b[AD]-\d+\b")
# a place's last step, as RECONSTRUCTION.md names a field or header: `titel`
_STEP = re.compile(r"[./]([^./\[\]]+)$")


@dataclass(frozen=True)
class Departure:
    """One way an exchange departed from the contract. `detail` and `example` are redacted as
    the journal redacts (entries.redact): no CPR and no credential is ever kept."""

    operation: str  # the contract's operationId, or "METHOD /path" for what it does not know
    place: str  # request.header.x-civilRegistrationIdentifier, response.body/jobagenter/0/titel
    kind: str  # undocumented-status, type, unknown-property, request-accepted-by-upstream, ...
    detail: str
    example: str = ""
    # the code the upstream sent (a status, a fejlkode, a content type), where each one is a
    # departure of its own: part of the line's identity, so no code hides another
    value: str = ""

    @classmethod
    def of(
        cls,
        operation: str,
        place: str,
        kind: str,
        detail: str,
        example: Any = None,
        value: Any = None,
    ) -> Departure:
        return cls(
            operation,
            entries.redacted_capped(place, DETAIL_CHARS),
            kind,
            entries.redacted_capped(detail, DETAIL_CHARS),
            _shown(example, EXAMPLE_CHARS),
            _shown(value, EXAMPLE_CHARS),
        )

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.operation, self.place, self.kind, self.value

    def short(self) -> str:
        """The first departure as the x-mock-drift header says it (ASCII, one line)."""
        text = _named(self.as_dict())
        return text.encode("ascii", "replace").decode("ascii")[:200]

    def as_dict(self) -> dict[str, str]:
        return {
            "operation": self.operation,
            "place": self.place,
            "kind": self.kind,
            "value": self.value,
            "detail": self.detail,
            "example": self.example,
        }


def _shown(value: Any, limit: int) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else jsontext.dumps(value)
    return entries.redacted_capped(text, limit)


def distinct(departures: list[Departure]) -> list[Departure]:
    """An exchange's departures, each line once (the first of each), in order: an exchange
    counts once a line, however many times its checks found it."""
    found: dict[tuple[str, str, str, str], Departure] = {}
    for departure in departures:
        found.setdefault(departure.key, departure)
    return list(found.values())


@dataclass
class Upstream:
    """The proxy's upstream (`serve --upstream URL`) and how it answered lately, in this process:
    what `/__admin/health` says of it."""

    url: str
    timeout: float = 30.0
    ca_file: Path | None = None
    _last_answer: float | None = field(default=None, repr=False)
    _last_failure: tuple[float, str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def shown(self) -> str:
        """The URL as health, problems and the report show it: a password in it masked."""
        return re.sub(r"//[^@/]*@", "//***@", self.url)

    def answered(self) -> None:
        with self._lock:
            self._last_answer = time.time()

    def failed(self, why: str) -> None:
        with self._lock:
            self._last_failure = (time.time(), why)

    def health(self) -> dict[str, Any]:
        """The upstream as health names it: whether its last exchange (of this worker) was an
        answer, and when it last answered and last failed."""
        with self._lock:
            answer, failure = self._last_answer, self._last_failure
        answering = answer is not None and (failure is None or answer >= failure[0])
        found: dict[str, Any] = {"url": self.shown, "answering": answering}
        if answer is not None:
            found["lastAnswer"] = _time(answer)
        if failure is not None:
            found["lastFailure"] = {"at": _time(failure[0]), "why": failure[1]}
        return found


def _time(seconds: float) -> str:
    return seen_at(datetime.fromtimestamp(seconds, DANISH_TIME))


def seen_at(instant: datetime | None = None) -> str:
    """When a departure (or the upstream's answer) was seen, in Danish time as the journal's
    entries are, to the second: 2026-12-04T18:30:00+01:00."""
    return (instant or datetime.now(DANISH_TIME)).isoformat(timespec="seconds")


def drift_row(departure: Departure, count: int, first: str, last: str) -> dict[str, Any]:
    """A stored line of the report: one (operation, place, kind, value), as every store
    returns it."""
    return {**departure.as_dict(), "count": count, "firstSeen": first, "lastSeen": last}


def report(rows: list[dict[str, Any]], upstream: str | None) -> dict[str, Any]:
    """The drift report: the stored lines, each with the readings it touches, sorted by
    operation and place; totals."""
    lines = sorted(
        ({**row, "readings": readings_at(row)} for row in rows),
        key=lambda row: (row["operation"], row["place"], row["kind"], row["value"]),
    )
    for line in lines:
        line["verdict"] = verdict(line["readings"])
    return {
        "upstream": upstream,
        "totals": {
            "departures": len(lines),
            "observations": sum(line["count"] for line in lines),
            "operations": len({line["operation"] for line in lines}),
        },
        "drift": lines,
    }


def verdict(readings: list[dict[str, str]]) -> str:
    """What a departure says of the readings: the place's own (its `x-provisional`, the ids its
    contract text names) it refutes; the rows that only name its field are to be looked at."""
    own = [r["id"] for r in readings if r["relation"] == "refutes" and r["id"] != "x-provisional"]
    if any(r["id"] == "x-provisional" for r in readings):
        own.append("the provisional reading")
    related = [r["id"] for r in readings if r["relation"] == "related"]
    parts = ([f"refutes {', '.join(own)}"] if own else []) + (
        [f"see {', '.join(related)}"] if related else []
    )
    return "; ".join(parts) or "no recorded reading"


# -- the recorded readings a place touches ------------------------------------------------------


def readings_at(line: dict[str, Any]) -> list[dict[str, str]]:
    """The readings of the reconstruction a drift line's place carries: the contract node's
    `x-provisional`, the A-n/D-n ids its own text names, and the rows of RECONSTRUCTION.md that
    name its field (`titel`) or, for a fejlkode, its number."""
    node = contract_node(line["operation"], line["place"])
    found: dict[str, tuple[str, str]] = {}
    if node.get("x-provisional"):
        seed_reading = str(node.get("x-seed-reading") or "provisional in the contract")
        found["x-provisional"] = ("refutes", seed_reading)
    own_text = " ".join(
        str(node.get(k, "")) for k in ("x-seed-reading", "x-reading", "description")
    )
    for reading_id in _READING_ID.findall(own_text):
        found.setdefault(reading_id, ("refutes", recorded_readings().get(reading_id, "")))
    for reading_id in _READING_ID.findall(line["detail"]):  # the readings the check applied
        found.setdefault(reading_id, ("related", recorded_readings().get(reading_id, "")))
    for term in _terms(line):
        for reading_id, text in recorded_readings().items():
            if term in text:
                found.setdefault(reading_id, ("related", text))
    return [
        {"id": k, "relation": relation, "reading": text[:DETAIL_CHARS]}
        for k, (relation, text) in list(found.items())[:6]
    ]


def _terms(line: dict[str, Any]) -> list[str]:
    """What a RECONSTRUCTION.md row that touches the line would name: its field in backticks,
    or the fejlkoder of the catalogue its detail and example name."""
    step = _STEP.search(line["place"])
    if step and step.group(1) in ("fejlkode", "fejltekst"):
        numbers = re.findall(r"\b\d{4}\b", f"{line['example']} {line['detail']}")
        return [n for n in numbers if int(n) in spec.fejlkode_catalogue()]
    if step and not step.group(1).isdigit() and step.group(1) not in ("status", "body"):
        return [f"`{step.group(1)}`"]
    return []


@cache
def recorded_readings() -> dict[str, str]:
    """RECONSTRUCTION.md's ambiguity (A-n) and decision (D-n) rows: id -> the row's text."""
    text = (spec.SPEC_DIR / "RECONSTRUCTION.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) > 1 and re.fullmatch(r"[AD]-\d+", cells[0]):
            rows[cells[0]] = " | ".join(cells[1:])
    return rows


def contract_node(operation_id: str, place: str) -> dict[str, Any]:
    """The contract's node at a place (a parameter's schema, a body property's), or {} where
    the contract has none."""
    operation = spec.operation(operation_id)
    if operation is None:
        return {}
    side, _, rest = place.partition(".")
    if rest.startswith("header.") and side == "request":
        name = rest[len("header.") :].lower()
        for param in operation.parameters:
            if param["in"] == "header" and param["name"].lower() == name:
                return {**param.get("schema", {}), "description": param.get("description", "")}
        return {}
    if rest.startswith("path."):
        name = rest[len("path.") :]
        found = [p for p in operation.parameters if p["in"] == "path" and p["name"] == name]
        return found[0].get("schema", {}) if found else {}
    if rest.startswith("body"):
        return _body_node(operation, side, rest[len("body") :].strip("/"))
    return {}


def _body_node(operation: spec.Operation, side: str, pointer: str) -> dict[str, Any]:
    if side == "request":
        content = operation.spec.get("requestBody", {}).get("content", {})
    else:
        content = {
            k: v for r in operation.responses.values() for k, v in r.get("content", {}).items()
        }
    node: Any = next((media.get("schema", {}) for media in content.values()), {})
    for step in (step for step in pointer.split("/") if step):
        node = _child(node, step)
        if node is None:
            return {}
    return node if isinstance(node, dict) else {}


def _child(node: Any, step: str) -> Any:
    if not isinstance(node, dict):
        return None
    if step.isdigit() and "items" in node:
        return node["items"]
    for part in [node, *node.get("allOf", [])]:
        for name, child in part.get("properties", {}).items():
            if name.lower() == step.lower():
                return child
    return None


# -- rendering -----------------------------------------------------------------------------------


def render(found: dict[str, Any], form: str) -> str:
    """The report as `json`, `md` (Markdown) or `junit` (JUnit XML: a failure per line)."""
    renderers = {"json": _json, "md": _markdown, "junit": _junit}
    return renderers[form](found)


def _json(found: dict[str, Any]) -> str:
    return json.dumps(found, indent=2, ensure_ascii=False)


def _summary(found: dict[str, Any]) -> str:
    totals = found["totals"]
    upstream = found["upstream"] or "no upstream"
    return (
        f"{_counted(totals['departures'], 'departure')} from the contract "
        f"({_counted(totals['observations'], 'observation')} in "
        f"{_counted(totals['operations'], 'operation')}) seen at {upstream}"
    )


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _named(line: dict[str, Any]) -> str:
    """A line as a sentence's subject: its kind, the code that tells it apart, its place."""
    value = f" {line['value']}" if line.get("value") else ""
    return f"{line['kind']}{value} at {line['place']}"


def _markdown(found: dict[str, Any]) -> str:
    rows = [
        "| "
        + " | ".join(
            str(cell).replace("|", "/").replace("\n", " ")
            for cell in (
                line["operation"],
                f"`{line['place']}`",
                line["kind"],
                line["count"],
                line["firstSeen"],
                line["lastSeen"],
                line["detail"],
                f"`{line['example']}`" if line["example"] else "",
                line["verdict"],
            )
        )
        + " |"
        for line in found["drift"]
    ]
    table = (
        "| Operation | Place | Kind | Count | First seen | Last seen | What | Example | Reading |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
        if rows
        else "No departure seen.\n"
    )
    return f"# Drift from the contract\n\n{_summary(found)}.\n\n{table}"


def _junit(found: dict[str, Any]) -> str:
    """One failed test case per drift line, grouped by operation."""
    suites = ElementTree.Element("testsuites", name="jobagent-mock drift")
    by_operation: dict[str, list[dict[str, Any]]] = {}
    for line in found["drift"]:
        by_operation.setdefault(line["operation"], []).append(line)
    for operation, lines in by_operation.items():
        suite = ElementTree.SubElement(
            suites, "testsuite", name=operation, tests=str(len(lines)), failures=str(len(lines))
        )
        for line in lines:
            case = ElementTree.SubElement(suite, "testcase", classname=operation, name=_named(line))
            failure = ElementTree.SubElement(case, "failure", message=line["kind"])
            failure.text = (
                f"{line['detail']} (seen {_counted(line['count'], 'time')}, first "
                f"{line['firstSeen']}, last {line['lastSeen']}, example {line['example']!r}; "
                f"{line['verdict']})"
            )
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
