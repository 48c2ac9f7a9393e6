"""The mock clock: real Danish time by default; can be pinned to an instant or moved forward."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DANISH_TIME = ZoneInfo("Europe/Copenhagen")


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
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=DANISH_TIME)
        self._pinned, self._offset = instant, timedelta(0)

    def advance(self, delta: timedelta) -> None:
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
