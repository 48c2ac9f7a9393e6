"""Every test here is a contract test (schemathesis, the generated client), and a slow one."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.contract)
            item.add_marker(pytest.mark.slow)
