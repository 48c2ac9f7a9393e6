"""Redaction by meaning: a CPR number is masked however it is written (separators, JSON escapes,
percent and form encoding) and wherever it stands; an identifier is kept byte for byte, digit
runs and all."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote, quote_plus, unquote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from jobagent_mock.journal.entries import decoded_json, redact, redacted_target

SEPARATORS = ["", "-", " ", "+", ".", "/", "\u2013", "\u00a0"]
# text a CPR number may be glued to: no hex letter, which could make it part of an identifier
GLUE = st.text(alphabet="ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ _:;,=&()[]<>æøå", max_size=8)


@st.composite
def cprs(draw: st.DrawFn) -> tuple[str, str]:
    """A CPR number as written (with one of the separators) and the pattern its reading must
    never match: the birth date, the separator or none, the four last digits."""
    day, month = draw(st.integers(1, 31)), draw(st.integers(1, 12))
    year, serial = draw(st.integers(0, 99)), draw(st.integers(0, 9999))
    birth, last = f"{day:02d}{month:02d}{year:02d}", f"{serial:04d}"
    separator = draw(st.sampled_from(SEPARATORS))
    return birth + separator + last, birth + "[^0-9]?" + last


def readable(pattern: str, shown: str) -> bool:
    return re.search(pattern, shown) is not None


def escaped(text: str) -> str:
    """Every character as a JSON escape, as some serializers write non-ASCII (and a probe all)."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


@given(cprs(), GLUE, GLUE)
@settings(max_examples=500, deadline=None)
def test_a_cpr_number_in_plain_text_is_masked(
    cpr: tuple[str, str], before: str, after: str
) -> None:
    written, never = cpr
    assert not readable(never, redact(before + written + after))


@given(cprs(), GLUE, st.booleans())
@settings(max_examples=500, deadline=None)
def test_a_cpr_number_in_json_escapes_is_masked(
    cpr: tuple[str, str], before: str, as_key: bool
) -> None:
    written, never = cpr
    value = f'"{escaped(before + written)}"'
    body = f"{{{value}: 1}}" if as_key else f'{{"titel": {value}, "n": [1, {value}]}}'
    shown = redact(decoded_json(body))
    assert not readable(never, shown)
    assert not readable(never, json.dumps(json.loads(shown), ensure_ascii=False))


@given(cprs(), GLUE)
@settings(max_examples=300, deadline=None)
def test_a_cpr_number_in_a_body_cut_short_is_masked(cpr: tuple[str, str], before: str) -> None:
    written, never = cpr
    body = '{"titel": "' + escaped(before + written) + '", "x": "unterminated'
    assert not readable(never, redact(decoded_json(body)))


@given(cprs(), GLUE, st.sampled_from(["percent", "form"]), st.booleans())
@settings(max_examples=500, deadline=None)
def test_a_cpr_number_in_a_query_or_path_is_masked(
    cpr: tuple[str, str], before: str, encoding: str, in_path: bool
) -> None:
    written, never = cpr
    encoded = (quote if encoding == "percent" else quote_plus)(before + written, safe="")
    if in_path:
        shown = redacted_target(f"/v1/Jobagent/email/{quote(before + written)}@x.dk")
    else:
        shown = redacted_target("/v1/Jobagent", f"a=1&q={encoded}&b=2")
    assert not readable(never, shown)
    assert not readable(never, unquote_plus(shown))


@st.composite
def identifiers_with_digit_runs(draw: st.DrawFn) -> str:
    """A UUID whose groups are digits where hypothesis likes (1 in 14 random ones holds ten
    digits in a row), or a hex identifier of a usual length with a letter in it."""
    if draw(st.booleans()):
        digits = draw(st.text(alphabet="0123456789", min_size=32, max_size=32))
        letters = draw(st.lists(st.integers(0, 31), max_size=4))
        chars = list(digits)
        for place in letters:
            chars[place] = "abcdef"[place % 6]
        return str(uuid.UUID("".join(chars)))
    length = draw(st.sampled_from([24, 32, 40, 64]))
    digits = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    place = draw(st.integers(0, length - 1))
    return digits[:place] + draw(st.sampled_from("abcdefABCDEF")) + digits[place:]


@given(identifiers_with_digit_runs(), cprs(), st.sampled_from(["text", "json", "query", "path"]))
@settings(max_examples=500, deadline=None)
def test_identifiers_are_kept_whole_beside_a_masked_cpr(
    identifier: str, cpr: tuple[str, str], where: str
) -> None:
    written, never = cpr
    if where == "text":
        shown = redact(f"{identifier} {written}")
    elif where == "json":
        shown = redact(decoded_json(json.dumps({"id": identifier, "titel": written})))
    elif where == "query":
        shown = redacted_target("/v1/x", f"id={identifier}&q={quote_plus(written)}")
    else:
        shown = redacted_target(f"/v1/Jobagent/{identifier}", f"cpr={quote(written)}")
    assert identifier in shown
    assert not readable(never, shown.replace(identifier, ""))


def test_the_issues_uuid_is_kept_whole() -> None:
    known = "0f8fad5b-d9cb-469f-a165-707754231234"
    assert redact(known) == known
    assert redact(f'{{"jobagentIdentifier": "{known}"}}') == f'{{"jobagentIdentifier": "{known}"}}'


CREDENTIAL_NAMES = [
    "pwd", "PWD", "password", "Passphrase", "pin", "PIN", "user_pin", "api-key", "api_key",
    "apiKey", "X-API-KEY", "private_key", "secret", "client_secret", "token", "refresh_token",
    "auth", "authorization", "Auth_Code", "sig", "signature", "cookie", "session", "sessionId",
]  # fmt: skip


@given(st.sampled_from(CREDENTIAL_NAMES), st.sampled_from(["json", "query", "form"]))
@settings(max_examples=300, deadline=None)
def test_credentials_by_common_names_are_redacted(name: str, where: str) -> None:
    secret = "s3cr3tV4lue"
    if where == "json":
        shown = redact(decoded_json(json.dumps({"titel": "x", name: secret})))
    elif where == "query":
        shown = redacted_target("/v1/Jobagent", f"a=1&{quote(name)}={secret}")
    else:
        shown = redact(f"a=1&{name}={secret}&b=2")
    assert secret not in shown and "[redacted]" in shown


def test_a_scheme_in_lower_case_is_redacted() -> None:
    assert "c2VjcmV0OnZhbHVl" not in redact("x-debug: basic c2VjcmV0OnZhbHVl")
    assert "c2VjcmV0OnZhbHVl" not in redact("BASIC c2VjcmV0OnZhbHVl")


def test_names_that_merely_hold_pin_or_sig_are_kept() -> None:
    text = '{"titel":"Lager","shipping":"y","design":"z","soegeord":"w"}'
    assert redact(text) == text
