"""The request journal's rules: CPR numbers masked, secrets redacted, entries filtered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from urllib.parse import unquote, unquote_plus

# a run of digits, each at most one separator (dash, space, plus, dot, slash, en dash, no-break
# space) from the next: a CPR number is masked with the whole run it is glued into
_SEPARATOR = "[- +./\u2013\u00a0]"
_DIGIT_RUN = re.compile(f"[0-9]+(?:{_SEPARATOR}[0-9]+)*")
_SPLIT = re.compile(f"({_SEPARATOR})")
# a CPR-like group: six digits whose first four read as a day (00-39) and a month (00-19), so
# that a mistyped date (3207851234, a 1001) is masked too, at most one separator, four digits
_CPR_GROUP = re.compile(f"[0-3][0-9][01][0-9][0-9]{{2}}{_SEPARATOR}?[0-9]{{4}}")
# what every CPR-like group holds: a text without it is not scanned. Written to begin with one
# digit, which re finds by a fast scan
_SIX_DIGITS = re.compile(r"[0-9][0-9]{5}")
# identifiers, kept byte for byte: a UUID, or hex digits as long as a hex identifier is (24: an
# ObjectId, 32: a UUID without dashes or MD5, 40: SHA-1, 64: SHA-256) with a letter among them.
# A digit run inside one is no CPR number (1 in 14 random UUIDs holds ten digits in a row)
_IDENTIFIER = re.compile(
    r"((?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|(?=[0-9]*[a-fA-F])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32}"
    r"|[0-9a-fA-F]{24}))(?![0-9A-Za-z]))"
)
# a name that holds a credential, in lower case: *pass*, pwd, *key*, *secret*, *token*, *auth*
# (authorization, proxy-authorization), pin, sig, signature, cookie, session, and OAuth2's
# assertion, credential, code_verifier
_SECRET_NAME = re.compile(
    r"pass|pwd|key|secret|token|credential|assertion|code_verifier|cookie|session|signature"
    r"|auth|(?:^|[-_.])(?:pin|sig)(?:$|[-_.])"
)
# a name and its value (query parameter, JSON or form field); the name is a credential's when
# _SECRET_NAME says so. Names are matched from a word's start and bounded: linear time
_FIELD = re.compile(
    r"""(?<![\w.-])(?P<name>(?P<quote>["']?)(?P<key>[\w.-]{1,64})(?P=quote)\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^&\s,;}"']*)"""
)
# an authorization scheme and its credentials, in any case, and a JWT, wherever text carries them
_SCHEME = re.compile(r"\b((?i:bearer|basic|digest|negotiate))\s+[A-Za-z0-9._~+/=:-]{8,}")
# what a credential's name, and a scheme, must contain, in lower case: a text that holds none is
# not scanned (_may_hold): the look is far cheaper than _FIELD's scan, and nearly every text the
# journal keeps holds none of them.
_SECRET_WORDS = (
    "pass", "pwd", "key", "secret", "token", "auth", "pin", "sig", "cookie", "session",
    "assertion", "credential", "code_verifier",
)  # fmt: skip
_SCHEME_WORDS = ("bearer", "basic", "digest", "negotiate")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
REDACTED = "[redacted]"
# The journal keeps at most this much of an entry: each header value (and the path), all the
# headers together, and how many; bodies have their own cap (web/journal_middleware.py). A value
# is cut after it is redacted, read with a margin, so that nothing straddling the cut shows half.
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


# text -> redact(text): the same values come with request after request (the host, the CPR
# header, the path, a polled answer's body, a warning), each worth redacting once. Only texts
# as short as a kept header value, and only so many: emptied when full. What it holds the
# process was sent anyway, and nothing reads it but redact().
_REDACTED: dict[str, str] = {}
REDACTED_KEPT, REDACTED_KEPT_CHARS = 1024, MAX_VALUE_CHARS


def redact(text: str) -> str:
    """A text as the journal and the access log may keep it: every CPR-like digit group as
    DDMMYY-xxxx (its first six digits kept, the rest x), every credential [redacted]. A text
    that hides one behind percent-encoding is kept decoded."""
    known = _REDACTED.get(text)
    if known is not None:
        return known
    shown = _redacted(text)
    if len(text) <= REDACTED_KEPT_CHARS:
        if len(_REDACTED) >= REDACTED_KEPT:
            _REDACTED.clear()
        _REDACTED[text] = shown
    return shown


def _redacted(text: str) -> str:
    if "%" in text:
        decoded = unquote(text)
        shown = _redact_plain(decoded)
        if shown != decoded:
            return shown
    return _redact_plain(text)


def _redact_plain(text: str) -> str:
    if _may_hold(text, _SCHEME_WORDS):
        text = _SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if "eyJ" in text:  # how every match of _JWT begins
        text = _JWT.sub(REDACTED, text)
    if _may_hold(text, _SECRET_WORDS):
        text = _FIELD.sub(_redacted_field, text)
    if _SIX_DIGITS.search(text) is None:
        return text
    return _masked_cprs(text)


def is_secret_name(name: str) -> bool:
    """Whether a header, field or query parameter of this name holds a credential."""
    return _SECRET_NAME.search(name.lower()) is not None


def _redacted_field(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("key")):
        return match.group(0)
    return match.group("name") + _redacted_value(match.group("value"))


def _masked_cprs(text: str) -> str:
    """Every digit run holding a CPR-like group masked; identifiers (_IDENTIFIER) kept whole."""
    if "-" not in text and len(text) < 24:  # room for no identifier
        return _DIGIT_RUN.sub(_masked_run, text)
    parts = _IDENTIFIER.split(text)  # identifiers at the odd places
    return "".join(
        part if place % 2 else _DIGIT_RUN.sub(_masked_run, part) for place, part in enumerate(parts)
    )


def _masked_run(match: re.Match[str]) -> str:
    """The run with each part holding a CPR-like group masked: a part (the digits between two
    separators) on its own, or two parts and the separator between them."""
    run = match.group(0)
    if len(run) < 10 or _CPR_GROUP.search(run) is None:
        return run
    pieces = _SPLIT.split(run)  # parts at the even places, separators at the odd
    shown: list[str] = []
    place = 0
    while place < len(pieces):
        part = pieces[place]
        if place + 2 < len(pieces) and _CPR_GROUP.fullmatch(
            part[-6:] + pieces[place + 1] + pieces[place + 2][:4]
        ):  # a group across the separator: both parts masked
            shown.append(_masked("".join(pieces[place : place + 3])))
            place += 2
        elif _CPR_GROUP.search(part):
            shown.append(_masked(part))
        else:
            shown.append(part)
        if place + 1 < len(pieces):
            shown.append(pieces[place + 1])
        place += 2
    return "".join(shown)


def _masked(digits_and_separator: str) -> str:
    digits = re.sub("[^0-9]", "", digits_and_separator)
    return f"{digits[:6]}-{'x' * (len(digits) - 6)}"


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


def _redacted_value(value: str) -> str:
    return f'"{REDACTED}"' if value.startswith('"') else REDACTED


def redacted_target(path: str, query: str = "") -> str:
    """A request's path and query as the journal and a log line show them: decoded (percent,
    and `+` in the query), so that what is masked is what the server read."""
    if "%" in path:
        path = unquote(path)
    if query:
        path = f"{path}?{unquote_plus(query) if '%' in query or '+' in query else query}"
    return redacted_capped(path)


# a JSON escape of a character that may stand in a CPR number or a credential's name (not a
# quote, a backslash, a control character or half a surrogate pair), and an escaped slash
_PLAIN_ESCAPE = re.compile(r"\\u(00[2-7][0-9a-fA-F]|00[a-fA-F][0-9a-fA-F]|20(?:1[0-9]|2[0-9]))|\\/")


def decoded_json(text: str) -> str:
    """A body as a JSON reader sees it, for redaction by meaning: parsed and written again, its
    escapes decoded (`"\\u0031\\u0035…"` is a CPR number). A text without a backslash is its
    own decoding; one that is no JSON (cut at the journal's limit, or malformed) has the escapes
    of plain characters decoded in place."""
    if "\\" not in text:
        return text
    try:
        value = json.loads(text, object_pairs_hook=_unique)
    except (ValueError, RecursionError):
        return _PLAIN_ESCAPE.sub(_unescaped, text)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose names are unique: written again, a repeated name would hide one."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a repeated name")
    return found


def _unescaped(match: re.Match[str]) -> str:
    code = match.group(1)
    character = "/" if code is None else chr(int(code, 16))
    return '\\"' if character == '"' else ("\\\\" if character == "\\" else character)


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
        known = redacted_capped(name), is_secret_name(name)
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
