"""Readings the seed leaves open that a request relied on, noted for its x-mock-warning header.

A reading is a short phrase (an alias, a provisional code-list value, an invented default, a
relaxed rule). The web layer starts a collection per request and sends what was noted back as
one `x-mock-warning` header, which the journal keeps too; the engine and the binder only note.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

HEADER = "x-mock-warning"
SEPARATOR = "; "
# header values travel as Latin-1 at best; Danish letters are written the way ASCII spells them
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


class _Noted(list[str]):
    """The phrases in the order noted, and a set of them: a body may hold 50,000 unknown keys,
    each noted, and a list's membership test would make that quadratic."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()


_NOTED: ContextVar[_Noted] = ContextVar("jobagent_mock_readings")


def collect() -> list[str]:
    """From here on, this request's readings land in the returned list (a shared list: Flask's
    thread has a copy of the context, not of the list)."""
    noted = _Noted()
    _NOTED.set(noted)
    return noted


def note(phrase: str) -> None:
    noted = _NOTED.get(None)
    if noted is not None and phrase not in noted.seen:
        noted.seen.add(phrase)
        noted.append(phrase)


# a header a client's HTTP stack will take: printable ASCII, and not endless (a phrase may
# quote a field name the request made up)
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
MAX_HEADER_CHARACTERS = 2000


def header_value(noted: list[str]) -> str:
    text = _UNPRINTABLE.sub("?", SEPARATOR.join(_in_ascii(phrase) for phrase in noted))
    if len(text) > MAX_HEADER_CHARACTERS:
        more = " ... (more not shown)"
        text = text[: MAX_HEADER_CHARACTERS - len(more)] + more
    return text


def _in_ascii(phrase: str) -> str:
    # str.translate costs a microsecond a phrase even when it changes nothing, as in nearly all
    return phrase if phrase.isascii() else phrase.translate(_ASCII)
