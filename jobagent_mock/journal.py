"""The request journal's rules: CPR numbers masked, secrets redacted, entries filtered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from urllib.parse import unquote

# six digits, at most one dash or space, four digits, wherever they stand, inside longer digit
# runs too: every CPR number, however written, and whatever it is glued to
_CPR_LIKE = re.compile(r"[0-9]*([0-9]{6})[- ]?[0-9]{4}[0-9]*")
# what every match of _CPR_LIKE holds: a text without it is not scanned by it. Written to begin
# with one digit, which re finds by a fast scan (four times faster than _CPR_LIKE on a body)
_SIX_DIGITS = re.compile(r"[0-9][0-9]{5}")
# headers whose whole value is a credential, by name or by a part of their name
_SECRET_HEADER = re.compile(r"auth|cookie|token|secret|passw|api-?key|session", re.IGNORECASE)
# a name that holds a credential (query parameter, JSON or form field) and its value; names are
# matched from a word's start and bounded, so a long text costs linear time
_SECRET_FIELD = re.compile(
    r"""(?<![\w-])(?P<name>["']?[\w-]{0,40}?"""
    r"""(?:token|secret|passw(?:or)?d|api_?key|assertion|credential|code_verifier)[\w-]{0,40}"""
    r"""["']?\s*[:=]\s*)(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^&\s,;}"']*)""",
    re.IGNORECASE,
)
# an authorization scheme and its credentials, and a JWT, wherever text carries them
_SCHEME = re.compile(r"\b((?i:bearer)|Basic|Digest|Negotiate)\s+[A-Za-z0-9._~+/=:-]{8,}")
# what a match of _SECRET_FIELD, and of _SCHEME, must contain, in lower case: a text that holds
# none is not scanned (_may_hold). A CreateJobagent body costs 60 µs of _SECRET_FIELD's scan and 3
# of this look, and nearly every text the journal keeps holds none of them.
_SECRET_WORDS = ("token", "secret", "passw", "api", "assertion", "credential", "code_verifier")
_SCHEME_WORDS = ("bearer", "basic", "digest", "negotiate")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
REDACTED = "[redacted]"
# The journal keeps at most this much of an entry: each header value (and the path), all the
# headers together, and how many; bodies have their own cap (web/journal.py). A value is cut
# after it is redacted, read with a margin, so that nothing that straddles the cut shows half.
MAX_VALUE_CHARS = 1024
MAX_HEADER_CHARS = 8 * 1024
MAX_HEADERS = 64
CUT_MARGIN = 64
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


def redact(text: str) -> str:
    """A text as the journal and the access log may keep it: every CPR-like digit group as
    DDMMYY-xxxx (its first six digits kept, the rest x), every credential [redacted]. A text
    that hides one behind percent-encoding is kept decoded."""
    if "%" in text:
        decoded = unquote(text)
        if _redact_plain(decoded) != decoded:
            return _redact_plain(decoded)
    return _redact_plain(text)


def _redact_plain(text: str) -> str:
    if _may_hold(text, _SCHEME_WORDS):
        text = _SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if "eyJ" in text:  # how every match of _JWT begins
        text = _JWT.sub(REDACTED, text)
    if _may_hold(text, _SECRET_WORDS):
        text = _SECRET_FIELD.sub(
            lambda m: m.group("name") + _redacted_value(m.group("value")), text
        )
    if _SIX_DIGITS.search(text) is None:
        return text
    return _CPR_LIKE.sub(_mask_digits, text)


def _may_hold(text: str, words: tuple[str, ...]) -> bool:
    """Whether a pattern whose every match holds one of `words` (in any case) may match. Any
    text but ASCII may: re.IGNORECASE also matches the Kelvin sign as k and a dotless ı as i."""
    if not text.isascii():
        return True
    lowered = text.lower()
    for word in words:  # a loop, not any(): a generator would cost more than the look
        if word in lowered:
            return True
    return False


def _mask_digits(match: re.Match[str]) -> str:
    digits = re.sub("[^0-9]", "", match.group(0))
    return f"{digits[:6]}-{'x' * (len(digits) - 6)}"


def _redacted_value(value: str) -> str:
    return f'"{REDACTED}"' if value.startswith('"') else REDACTED


def redacted_target(path: str, query: str = "") -> str:
    """A request's path and query as a log line may show them (the access log's one call)."""
    return redacted_capped(f"{path}?{query}" if query else path)


def redacted_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as the journal keeps them: credentials [redacted] by name, every value redacted
    and capped, within MAX_HEADERS and MAX_HEADER_CHARS."""
    kept: dict[str, str] = {}
    size = 0
    for count, (name, value) in enumerate(headers):
        if count == MAX_HEADERS or size > MAX_HEADER_CHARS:
            kept["…"] = f"[{count} headers kept; the rest left out]"
            break
        shown_name, secret = _header_name(name)
        kept[shown_name] = REDACTED if secret else redacted_capped(value)
        size += len(shown_name) + len(kept[shown_name])
    return kept


# name -> (as the journal shows it, whether its value is a credential): the same few names come
# with every request, each worth redacting once; only short names, and only so many, are kept
_HEADER_NAMES: dict[str, tuple[str, bool]] = {}
HEADER_NAMES_KEPT, HEADER_NAME_KEPT_CHARS = 256, 64


def _header_name(name: str) -> tuple[str, bool]:
    known = _HEADER_NAMES.get(name)
    if known is None:
        known = redacted_capped(name), _SECRET_HEADER.search(name) is not None
        if len(_HEADER_NAMES) < HEADER_NAMES_KEPT and len(name) <= HEADER_NAME_KEPT_CHARS:
            _HEADER_NAMES[name] = known
    return known


def redacted_capped(text: str, limit: int = MAX_VALUE_CHARS, whole: int | None = None) -> str:
    """redact() of at most `limit` characters and a marker of the cut; `whole` is the length of
    the text that `text` begins (a body read only so far). A huge value costs a small one's."""
    whole = len(text) if whole is None else whole
    if whole <= limit:
        return redact(text)
    return f"{redact(text[: limit + CUT_MARGIN])[:limit]}…[truncated, {whole} in all]"


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


def citizen_of(entry: dict[str, Any]) -> str | None:
    """The CPR header of a journal entry, as kept (masked)."""
    headers = entry["request"]["headers"]
    return next(
        (v for k, v in headers.items() if k.lower() == "x-civilregistrationidentifier"), None
    )
