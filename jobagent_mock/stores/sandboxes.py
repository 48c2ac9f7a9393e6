"""Which sandboxes exist: admitted by an authorized request of their own client, within a cap per
client and one in all, freed by a reset or after an idle time; remembered per process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from jobagent_mock.foundations.errors import TooManySandboxes

DEFAULT_MAX_SANDBOXES = 1000
DEFAULT_MAX_PER_CLIENT = 100
DEFAULT_IDLE_TTL_SECONDS = 24 * 3600
# a sandbox admitted in this process is not asked of the store again for this long, and its
# last use is written at most this often: a request of a known sandbox costs no round trip
MEMO_SECONDS = 60.0
# which cap a new sandbox met (a store's answer to `admit`), or None: admitted
Refusal = Literal["per client", "in all"] | None


@dataclass(frozen=True)
class Caps:
    total: int = DEFAULT_MAX_SANDBOXES
    per_client: int = DEFAULT_MAX_PER_CLIENT
    idle_ttl: float = DEFAULT_IDLE_TTL_SECONDS


DEFAULT_CAPS = Caps()


class Admitting(Protocol):
    """What a store keeps of admissions: the sandboxes, each with its client and last use."""

    def admit(self, key: str, client: str, now: float, caps: Caps) -> Refusal:
        """Admit `key` (or note its use, when admitted already) after freeing every sandbox idle
        for more than caps.idle_ttl, as a reset would; the cap met instead, if any. Atomic."""
        ...

    def is_admitted(self, key: str) -> bool: ...

    def release(self, key: str | None) -> None:
        """Forget one admission (its sandbox was reset), or every one."""


def client_of(key: str) -> str:
    """A sandbox's client: its key is the client id, then `/` and the x-mock-sandbox name."""
    return key.partition("/")[0]


class Admissions:
    """The gate every new sandbox passes, with this process's memo of those it let in."""

    def __init__(self, store: Admitting, caps: Caps = DEFAULT_CAPS) -> None:
        self._store, self.caps = store, caps
        self.clock = time.time  # the wall clock that last uses are written in
        self._refresh = min(MEMO_SECONDS, caps.idle_ttl / 10)
        self._memo: dict[str, float] = {}  # key -> when this process last told the store
        self._lock = threading.Lock()

    def known(self, key: str) -> bool:
        """Admitted, as this process remembers: no round trip."""
        seen = self._memo.get(key)
        return seen is not None and time.monotonic() - seen < self._refresh

    def admit(self, key: str) -> None:
        """Let `key` in, or TooManySandboxes (429) naming the cap and how to free a sandbox."""
        if self.known(key):
            return
        refused = self._store.admit(key, client_of(key), self.clock(), self.caps)
        if refused is not None:
            raise TooManySandboxes(None, self._why(key, refused))
        with self._lock:
            if len(self._memo) >= 2 * self.caps.total:  # forget what is stale: bounded
                now = time.monotonic()
                self._memo = {k: t for k, t in self._memo.items() if now - t < self._refresh}
            self._memo[key] = time.monotonic()

    def is_admitted(self, key: str) -> bool:
        return self.known(key) or self._store.is_admitted(key)

    def release(self, key: str | None) -> None:
        with self._lock:
            if key is None:
                self._memo.clear()
            else:
                self._memo.pop(key, None)
        self._store.release(key)

    def _why(self, key: str, refused: Refusal) -> str:
        cap, option = (
            (self.caps.per_client, "--max-sandboxes-per-client")
            if refused == "per client"
            else (self.caps.total, "--max-sandboxes")
        )
        whose = f"client {client_of(key)}" if refused == "per client" else "this mock"
        hours = self.caps.idle_ttl / 3600
        return (
            f"Sandbox {key} is not created: {whose} has {cap} sandboxes, the cap ({option} "
            f"{cap}). Free one with POST /__admin/reset (the sandbox header naming it), or wait: "
            f"a sandbox unused for {hours:g} h (--sandbox-idle-ttl) is freed."
        )
