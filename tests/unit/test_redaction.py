"""entries.redact and its helpers: the one function the journal and the access log call."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobagent_mock.journal import entries
from jobagent_mock.journal.entries import (
    MAX_HEADER_CHARS,
    MAX_HEADERS,
    MAX_VALUE_CHARS,
    redact,
    redacted_capped,
    redacted_headers,
    redacted_target,
)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("1507851234", "150785-xxxx"),
        ("150785-1234", "150785-xxxx"),
        ("15078512345", "150785-xxxxx"),
        ("id 0015078512340.", "id 001507-xxxxxxx."),
        ("2026-11-25T08:00:00+01:00", "2026-11-25T08:00:00+01:00"),  # times stay readable
        ("3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60", "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60"),
        ("No authorization token provided", "No authorization token provided"),
        ('{"client_secret": "a\\"b", "x": 1}', '{"client_secret": "[redacted]", "x": 1}'),
        ("grant_type=c&client_secret=abc&scope=s", "grant_type=c&client_secret=[redacted]&scope=s"),
        ("Authorization: bearer abcdefgh123", "Authorization: [redacted] [redacted]"),
    ],
)
def test_redact(text: str, kept: str) -> None:
    assert redact(text) == kept


def test_the_access_log_target_is_decoded_masked_and_capped() -> None:
    target = redacted_target(
        "/v1/Jobagent/email/1507851234@x.dk", "access_token=abc&cpr=150785%2D1234"
    )
    assert target == "/v1/Jobagent/email/150785-xxxx@x.dk?access_token=[redacted]&cpr=150785-xxxx"
    assert len(redacted_target("/" + "a" * 100_000)) < 2100


def test_headers_are_redacted_by_name_and_bounded() -> None:
    many = [(f"x-h{i}", "v" * 10_000) for i in range(1000)]
    kept = redacted_headers([("Proxy-Authorization", "Basic eA=="), *many])
    assert kept["Proxy-Authorization"] == "[redacted]"
    assert kept["…"].endswith("the rest left out]")
    assert len(kept) <= MAX_HEADERS + 1
    assert sum(len(n) + len(v) for n, v in kept.items()) < MAX_HEADER_CHARS + 2 * MAX_VALUE_CHARS
    assert all("truncated" in value for name, value in kept.items() if name.startswith("x-h"))


def test_a_cut_never_shows_half_a_cpr_number() -> None:
    text = "a" * (MAX_VALUE_CHARS - 8) + "1507851234" + "b" * 100  # cut after "15078512"
    shown = redacted_capped(text)
    assert "1507851" not in shown and "150785-x" in shown
    assert shown.endswith(f"…[truncated, {len(text)} in all]")


def test_short_values_are_only_redacted() -> None:
    assert redacted_capped("abc", 3) == "abc"
    assert redacted_capped("abcdef", 3) == "abc…[truncated, 6 in all]"


def _redacted_by_every_pattern(text: str) -> str:
    """What redact() did before it skipped a pattern: every pattern run on every text."""
    text = entries._SCHEME.sub(lambda m: f"{m.group(1)} {entries.REDACTED}", text)
    text = entries._JWT.sub(entries.REDACTED, text)
    text = entries._FIELD.sub(entries._redacted_field, text)
    return entries._masked_cprs(text)


# pieces of every pattern's matches, in other cases too, and what re.IGNORECASE folds (K, ı, ſ)
_PIECES = [
    *entries._SECRET_WORDS,
    *entries._SCHEME_WORDS,
    "Basic",
    "BEARER",
    "Token",
    "PassWord",
    "api_key",
    "apiKEY",
    "to\u212aen",
    "credent\u0131al",
    "\u017fecret",
    "eyJhbGciOi.eyJzdWIi.sig",
    "1507851234",
    "150785-1234",
    '"',
    "'",
    ":",
    "=",
    " ",
    "&",
    "-",
    "_",
    "abcdefgh123",
    "x",
    "æ",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
@settings(max_examples=2000, deadline=None)
def test_skipping_a_pattern_never_changes_what_is_kept(text: str) -> None:
    assert redact(text) == _redacted_by_every_pattern(text)


def test_the_header_names_kept_redacted_are_bounded() -> None:
    for batch in range(10):
        redacted_headers([(f"x-{batch}-{i}-1507851234", "v") for i in range(60)])
    long_name = "x-" + "a" * 100 + "1507851234"
    assert list(redacted_headers([(long_name, "v")])) == [redact(long_name)]
    assert len(entries._HEADER_NAMES) <= entries.HEADER_NAMES_KEPT
    assert long_name not in entries._HEADER_NAMES
    assert redacted_headers([("X-0-0-1507851234", "v")]) == {"X-0-0-150785-xxxx": "v"}


def test_a_text_redacted_again_is_kept_as_the_first_time() -> None:
    texts = ["1507851234", "a%20token=abc 150785%2D1234", "Bearer abcdefgh123", "plain"]
    first = [redact(text) for text in texts]
    assert [text in entries._REDACTED for text in texts] == [True] * len(texts)
    assert [redact(text) for text in texts] == first
    assert first[:3] == ["150785-xxxx", "a token=[redacted] 150785-xxxx", "Bearer [redacted]"]


def test_the_texts_kept_redacted_are_bounded() -> None:
    for i in range(entries.REDACTED_KEPT + 10):
        redact(f"x-requestId {i} 1507851234")
    long_text = "1507851234 " + "a" * entries.REDACTED_KEPT_CHARS
    assert redact(long_text).startswith("150785-xxxx ")
    assert len(entries._REDACTED) <= entries.REDACTED_KEPT
    assert long_text not in entries._REDACTED
    assert redact("x-requestId 3 1507851234") == "x-requestId 3 150785-xxxx"
