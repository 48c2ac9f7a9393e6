"""The console's flavour of the business contract, what Swagger UI at /ui/ loads: `servers`
naming the mock itself, the mock's own headers on every operation, and the examples' dates moved
to the sandbox's clock (a booking time to a free slot), so Try it out works on any day. The
published contract (/openapi.yaml) is never changed: this is a copy made at serve time."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.clock import DANISH_TIME

# the control plane's parameters (admin.yaml) that every business operation also takes
MOCK_HEADERS = ("Sandbox", "Prefer")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_BOOKING_TIME = "bookingstarttime"  # any spelling: the seed's BookingStartTime binds too
_OPTION = "moedetilbudid"

# the free slots of an interview option, earliest first
Slots = Callable[[str], list[datetime]]


def flavoured(base_url: str, today: date, free_slots: Slots) -> dict[str, Any]:
    """The business contract as the console serves it, for a sandbox whose today is `today`."""
    document = copy.deepcopy(spec.raw(spec.BUSINESS))
    document["servers"] = [{"url": base_url, "description": "this mock"}]
    # without their examples, which Try it out would send: the caller's own sandbox by default
    headers = [
        {
            k: v
            for k, v in spec.raw(spec.CONTROL)["components"]["parameters"][n].items()
            if k != "example"
        }
        for n in MOCK_HEADERS
    ]
    for item in document["paths"].values():
        for method in spec.HTTP_METHODS:
            if method in item:
                item[method].setdefault("parameters", []).extend(copy.deepcopy(headers))
    moved: dict[str, Any] = _moved(document, today - examples_today())
    _book_free_slots(moved, _slots_in_turn(free_slots))
    return moved


def fresh_values() -> dict[str, str]:
    """The example values the console renews on each Execute when left unchanged: the citizen
    of an enrollment (a second enrollment of one citizen conflicts) and CreateJobagent's
    client-chosen jobagentIdentifier (a second create with it is 409)."""
    document = spec.raw(spec.BUSINESS)
    create = spec.operation("CreateJobagent")
    assert create is not None
    content = spec.resolved(spec.BUSINESS)["paths"][create.path]["post"]["requestBody"]["content"]
    examples = content["application/json"].get("examples", {})
    identifiers = [e["value"].get("jobagentIdentifier") for e in examples.values()]
    return {
        "cpr": str(document["components"]["parameters"]["Cpr"]["example"]),
        "jobagentIdentifier": next((str(i) for i in identifiers if i), ""),
    }


def examples_today() -> date:
    """The day the contract's examples hold on (its info.x-examples-now, Danish time)."""
    now = datetime.fromisoformat(str(spec.raw(spec.BUSINESS)["info"]["x-examples-now"]))
    return now.astimezone(DANISH_TIME).date()


def _moved(node: Any, shift: timedelta) -> Any:
    """Every date and date-time string moved by `shift` days, at the same Danish wall time."""
    if isinstance(node, dict):
        return {key: _moved(value, shift) for key, value in node.items()}
    if isinstance(node, list):
        return [_moved(item, shift) for item in node]
    if isinstance(node, str) and _DATE_TIME.fullmatch(node):
        wall = datetime.fromisoformat(node.replace("Z", "+00:00")).astimezone(DANISH_TIME)
        return (wall.replace(tzinfo=None) + shift).replace(tzinfo=DANISH_TIME).isoformat()
    if isinstance(node, str) and _DATE.fullmatch(node):
        return (date.fromisoformat(node) + shift).isoformat()
    return node


def _slots_in_turn(free_slots: Slots) -> Callable[[str], str | None]:
    """Each call the next free slot of an option, so two examples never share one."""
    handed: dict[str, Iterator[datetime]] = {}

    def next_slot(option: str) -> str | None:
        if option not in handed:
            handed[option] = iter(free_slots(option))
        slot = next(handed[option], None)
        return slot.isoformat() if slot else None

    return next_slot


def _book_free_slots(node: Any, next_slot: Callable[[str], str | None]) -> None:
    """A booking time beside an interview option, anywhere in the document, set to a free slot
    of that option."""
    if isinstance(node, list):
        for item in node:
            _book_free_slots(item, next_slot)
    if not isinstance(node, dict):
        return
    names = {key.lower(): key for key in node}
    option = node.get(names.get(_OPTION, ""))
    if _BOOKING_TIME in names and isinstance(option, str):
        slot = next_slot(option)
        if slot:
            node[names[_BOOKING_TIME]] = slot
    for value in node.values():
        _book_free_slots(value, next_slot)
