"""The request journal's rules: CPR numbers masked, secrets redacted, entries filtered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

# ten digits that read as DDMMYY plus four: a CPR number, wherever it appears
_CPR = re.compile(
    r"(?<![0-9])((?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2})[0-9]{4}(?![0-9])"
)
_SECRET_HEADERS = {"authorization", "cookie"}
# sandbox -> its mock time as the request's operation read it; a shared store would otherwise
# be asked again, a round trip a request, only to stamp the journal entry
_CLOCK_READINGS: ContextVar[dict[str, datetime]] = ContextVar("jobagent_mock_clock_readings")


def watch_clock() -> dict[str, datetime]:
    """From here on, this request's clock readings (note_clock) land in the returned dict."""
    readings: dict[str, datetime] = {}
    _CLOCK_READINGS.set(readings)
    return readings


def note_clock(sandbox: str, now: datetime) -> None:
    readings = _CLOCK_READINGS.get(None)
    if readings is not None:  # a shared dict: Flask's thread has a copy of the context
        readings[sandbox] = now


def mask_cpr(text: str) -> str:
    """Every CPR number in a text as DDMMYY-xxxx."""
    return _CPR.sub(r"\1-xxxx", text)


def masked_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {
        name: "[redacted]" if name.lower() in _SECRET_HEADERS else mask_cpr(value)
        for name, value in headers
    }


def select(
    entries: list[dict[str, Any]],
    operation_id: str | None = None,
    status: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The entries (newest first) of an operationId and status, within a time window."""
    return [
        entry
        for entry in entries
        if (operation_id is None or entry["operationId"] == operation_id)
        and (status is None or entry["response"]["status"] == status)
        and (since is None or datetime.fromisoformat(entry["time"]) >= since)
        and (until is None or datetime.fromisoformat(entry["time"]) <= until)
    ]
