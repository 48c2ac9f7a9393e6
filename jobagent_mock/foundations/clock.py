"""The mock clock: real Danish time by default; can be pinned to an instant or moved forward."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from jobagent_mock.foundations import spec

DANISH_TIME = ZoneInfo("Europe/Copenhagen")


class OutOfRange(ValueError):
    """A clock change that would leave the range every date rule can compute with."""


@cache
def allowed_range() -> tuple[datetime, datetime]:
    """The earliest and latest instant the clock may show (admin.yaml's x-clock-range)."""
    bounds = spec.schema("ClockChange", spec.CONTROL)["x-clock-range"]
    return datetime.fromisoformat(bounds["earliest"]), datetime.fromisoformat(bounds["latest"])


class Clock:
    def __init__(self) -> None:
        self._pinned: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        base = self._pinned or datetime.now(DANISH_TIME)
        return (base + self._offset).astimezone(DANISH_TIME)

    def today(self) -> date:
        return self.now().date()

    def pin(self, instant: datetime) -> None:
        """Show `instant` from now on; OutOfRange (and nothing changed) outside the range."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=DANISH_TIME)
        _require_within(instant, timedelta(0))
        self._pinned, self._offset = instant, timedelta(0)

    def advance(self, delta: timedelta) -> None:
        """Move forward; OutOfRange (and nothing changed) past the range."""
        base = self._pinned or datetime.now(DANISH_TIME)
        _require_within(base, self._offset + delta)
        self._offset += delta

    def release(self) -> None:
        self._pinned, self._offset = None, timedelta(0)

    def state(self) -> dict[str, str | float | None]:
        """What a store keeps of the clock (stores/codec.py): JSON values only."""
        pinned = self._pinned.isoformat() if self._pinned else None
        return {"pinned": pinned, "offsetSeconds": self._offset.total_seconds()}

    @classmethod
    def from_state(cls, state: dict[str, str | float | None]) -> Clock:
        clock = cls()
        pinned, offset = state["pinned"], state["offsetSeconds"]
        clock._pinned = datetime.fromisoformat(pinned) if isinstance(pinned, str) else None
        clock._offset = timedelta(seconds=float(offset or 0))
        return clock

    @property
    def is_pinned(self) -> bool:
        return self._pinned is not None or bool(self._offset)


def _require_within(base: datetime, offset: timedelta) -> None:
    earliest, latest = allowed_range()
    # compared as distances from the earliest instant, which never overflow as a sum can
    if not timedelta(0) <= (base - earliest) + offset <= latest - earliest:
        raise OutOfRange(
            f"The clock must stay from {earliest.isoformat()} to {latest.isoformat()}."
        )
