"""All mutable state: sandboxes of citizens' data, each changed atomically, with an exact reset,
in memory (one worker), SQLite (several workers) or Redis (several hosts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobagent_mock.stores.base import (
    DEFAULT_SANDBOX,
    EVERY_CITIZEN,
    JOURNAL_SIZE,
    CitizenSelector,
    DeclaredReads,
    NotAsked,
    Sandbox,
    Store,
    WouldWait,
    forbid_waiting,
)
from jobagent_mock.stores.memory import MemoryStore
from jobagent_mock.stores.sandboxes import DEFAULT_MAX_SANDBOXES

__all__ = [
    "DeclaredReads",
    "DEFAULT_MAX_SANDBOXES",
    "DEFAULT_SANDBOX",
    "EVERY_CITIZEN",
    "JOURNAL_SIZE",
    "MemoryStore",
    "NotAsked",
    "CitizenSelector",
    "Sandbox",
    "Store",
    "WouldWait",
    "open_store",
    "forbid_waiting",
]


def open_store(url: str | None, seed_jobagents: list[dict[str, Any]]) -> Store:
    """`memory` (the default), `sqlite:PATH` or `redis://HOST:PORT[/DB]`."""
    if url in (None, "", "memory"):
        return MemoryStore(seed_jobagents)
    assert url is not None
    if url.startswith("sqlite:"):
        from jobagent_mock.stores.sqlite import SqliteStore

        return SqliteStore(Path(url.removeprefix("sqlite:")), seed_jobagents)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from jobagent_mock.stores.redis import RedisStore

        return RedisStore(url, seed_jobagents)
    raise ValueError(f"unknown store {url!r}: use memory, sqlite:PATH or redis://HOST:PORT")
