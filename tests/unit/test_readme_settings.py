"""The README's list of JOBAGENT_MOCK_* variables is the list `serve` reads."""

from __future__ import annotations

import re

from jobagent_mock.contract import docs
from jobagent_mock.web.environment import ENVIRONMENT


def test_the_readme_names_every_variable_serve_reads_and_no_other() -> None:
    text = docs.README.read_text(encoding="utf-8")
    found = re.search(
        r"Every `serve` option can be set by a variable instead(.*?)an option given",
        text,
        re.DOTALL,
    )
    assert found, "the README's CLI section lists the variables"
    named = re.findall(r"`(JOBAGENT_MOCK_[A-Z_]+|_[A-Z_]+)`", found.group(1))
    listed = [
        name if name.startswith("JOBAGENT_MOCK") else f"JOBAGENT_MOCK{name}" for name in named
    ]
    assert len(listed) == len(set(listed)), "a variable listed twice"
    assert set(listed) == set(ENVIRONMENT.values())
