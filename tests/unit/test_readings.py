"""The x-mock-warning header a client's HTTP stack will take, whatever the request named."""

from __future__ import annotations

from jobagent_mock.foundations import readings


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


class _Counted(str):
    """A phrase that counts how often it is compared: a quadratic dedup compares each with all."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        _Counted.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_noting_is_linear_in_the_phrases() -> None:
    noted = readings.collect()
    _Counted.compared = 0
    for i in range(5000):
        readings.note(_Counted(f"field{i} ignored (no such field here)"))
    readings.note(_Counted("field0 ignored (no such field here)"))  # said once only
    assert len(noted) == 5000
    assert _Counted.compared < 100  # a list's membership test made 12.5 million
