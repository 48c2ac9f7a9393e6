"""A sandbox's small parts (clock, enrollments, bookings, taken slots) as JSON, for the shared
stores: plain data read back as plain data, so whoever can write to a shared store can change
the mock's state but never run code in it (pickle would)."""

from __future__ import annotations

import json
from typing import Any

from jobagent_mock.foundations.clock import Clock
from jobagent_mock.stores.base import Sandbox


def encode(sandbox: Sandbox) -> bytes:
    """The same bytes for the same state, so an unchanged sandbox is not written again."""
    core = {
        "clock": sandbox.clock.state(),
        "enrollments": sandbox.enrollments,
        "bookings": sandbox.bookings,
        "takenSlots": sorted(list(slot) for slot in sandbox.taken_slots),
    }
    if sandbox.scenarios:  # absent when none: a sandbox without any keeps its bytes
        core["scenarios"] = sandbox.scenarios
    return json.dumps(core, sort_keys=True, separators=(",", ":")).encode()


def decode(raw: bytes) -> dict[str, Any]:
    """Sandbox(**decode(raw)) is the sandbox encode(raw) was made of (rows aside)."""
    try:
        core = json.loads(raw)
        return {
            "clock": Clock.from_state(core["clock"]),
            "enrollments": core["enrollments"],
            "bookings": core["bookings"],
            "taken_slots": {(option, start) for option, start in core["takenSlots"]},
            "scenarios": core.get("scenarios", []),
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"a stored sandbox is not this version's JSON ({exc}): reset the store"
        ) from exc


def empty() -> dict[str, Any]:
    """The small parts of a sandbox nobody has changed yet."""
    return decode(_EMPTY)


_EMPTY = encode(Sandbox())  # a new sandbox's clock runs with no offset: the same bytes always
