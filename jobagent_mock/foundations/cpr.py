"""CPR numbers: the contract's pattern, the century from the seventh digit, the birth date and age.

No modulus-11 check: CPR numbers without one have been issued since 2007 and must be accepted.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache

from jobagent_mock.foundations import spec

UNKNOWN = "0000000000"

# seventh digit -> ((last two-digit year of the row, century), ...), per cpr.dk's table
_CENTURIES = {
    **dict.fromkeys("0123", ((99, 1900),)),
    **dict.fromkeys("49", ((36, 2000), (99, 1900))),
    **dict.fromkeys("5678", ((57, 2000), (99, 1800))),
}


@cache
def _pattern() -> re.Pattern[str]:
    return re.compile(spec.schema("Cpr")["pattern"])


def matches_pattern(cpr: str) -> bool:
    return _pattern().fullmatch(cpr) is not None


# the citizens a mock's clients use are few and come back on every request, each asked twice
# (is_valid, then persons); the store keeps their numbers anyway
@lru_cache(maxsize=4096)
def birth_date(cpr: str) -> date | None:
    """The birth date the number encodes, or None when it names no real date."""
    if not matches_pattern(cpr) or cpr == UNKNOWN:
        return None
    day, month, year = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6])
    century = next(c for upto, c in _CENTURIES[cpr[6]] if year <= upto)
    try:
        return date(century + year, month, day)
    except ValueError:
        return None


def is_valid(cpr: str, today: date) -> bool:
    """Well-formed: the pattern, a real calendar date, not in the future (0000000000 included)."""
    if cpr == UNKNOWN:
        return True
    born = birth_date(cpr)
    return born is not None and born <= today


def age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
