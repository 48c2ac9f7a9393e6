"""The x-mock-warning header a client's HTTP stack will take, whatever the request named."""

from __future__ import annotations

from jobagent_mock import readings


def test_danish_letters_are_spelt_in_ascii() -> None:
    assert readings.header_value(["udMineFraKravTilJobsøgning read as x"]) == (
        "udMineFraKravTilJobsoegning read as x"
    )


def test_control_characters_and_other_scripts_never_reach_the_header() -> None:
    value = readings.header_value(["a\nb\x00c ignored (no such field here)", "ж ignored"])
    assert value == "a?b?c ignored (no such field here); ? ignored"


def test_the_header_is_bounded() -> None:
    value = readings.header_value([f"field{i} ignored (no such field here)" for i in range(500)])
    assert len(value) <= readings.MAX_HEADER_CHARACTERS
    assert value.endswith("(more not shown)")
