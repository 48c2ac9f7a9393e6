"""JSON text of the mock's own values (answers, stored job agents, journal entries), written by
orjson, and by the standard library where orjson refuses a value."""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import Any

import orjson

# dates go to `_default`, so that they read as connexion writes them (a naive time with a Z)
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def dumps(value: Any) -> str:
    """`value` as compact JSON text, written by orjson (in C; `json` is far slower)."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS).decode()
    except TypeError:
        # orjson refuses an integer past 64 bits, a key that is no string, and a lone surrogate
        # (valid JSON text, "\ud800", which a client may send); the standard library writes
        # them, every character past ASCII escaped, so that the text is always valid UTF-8
        return json.dumps(value, default=_default, separators=(",", ":"))


def _default(value: Any) -> Any:
    """The types connexion's JSONEncoder writes beyond JSON's own, written as it writes them."""
    if isinstance(value, datetime.datetime):
        return value.isoformat("T") + ("" if value.tzinfo else "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
