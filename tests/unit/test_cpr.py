"""CPR rules: pattern, century table, real calendar dates, no modulus 11."""

from __future__ import annotations

from datetime import date

import pytest

from jobagent_mock.foundations import cpr

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("number", "born"),
    [
        # seventh digit 0-3: always 19YY
        ("0101000000", date(1900, 1, 1)),
        ("3112993999", date(1999, 12, 31)),
        # seventh digit 4 and 9: 00-36 is 20YY, 37-99 is 19YY
        ("0101364000", date(2036, 1, 1)),
        ("0101374000", date(1937, 1, 1)),
        ("0101009000", date(2000, 1, 1)),
        ("0101999999", date(1999, 1, 1)),
        # seventh digit 5-8: 00-57 is 20YY, 58-99 is 18YY
        ("0101575000", date(2057, 1, 1)),
        ("0101588000", date(1858, 1, 1)),
        ("0101996999", date(1899, 1, 1)),
    ],
)
def test_century_from_the_seventh_digit(number: str, born: date) -> None:
    assert cpr.birth_date(number) == born


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("2902841234", True),  # 1984 is a leap year
        ("2902831234", False),  # 1983 is not
        ("2902004000", True),  # 2000 is a leap year (divisible by 400)
        ("2902000000", False),  # 1900 is not (divisible by 100)
        ("3102901234", False),  # no 31 February: the pattern already refuses it
        ("3104901234", False),  # no 31 April
        ("3012901234", True),
        ("0000000000", True),  # well-formed, names nobody
        ("0101265000", True),  # 1 Jan 2026, in the past
        ("2811265000", False),  # 28 Nov 2026, tomorrow
        ("2711265000", True),  # today
        ("010190123", False),
        ("01019012345", False),
        ("010190-1234", False),
        ("abcdefghij", False),
    ],
)
def test_is_valid(number: str, valid: bool) -> None:
    assert cpr.is_valid(number, TODAY) is valid


def test_no_modulus_11_check() -> None:
    # 0101701010 fails modulus 11 (weighted sum 43); CPR numbers without it are issued since 2007
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    assert sum(int(d) * w for d, w in zip("0101701010", weights, strict=True)) % 11 != 0
    assert cpr.is_valid("0101701010", TODAY)


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1961, 11, 27), TODAY, 65),
        (date(1961, 11, 28), TODAY, 64),
        (date(1984, 2, 29), date(2026, 2, 28), 41),
        (date(1984, 2, 29), date(2026, 3, 1), 42),
    ],
)
def test_age(born: date, today: date, age: int) -> None:
    assert cpr.age(born, today) == age
