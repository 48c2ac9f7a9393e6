"""Shared test fixtures: an app per test (fresh state), response validation on, real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobagent_mock.app import create_app
from tests.helpers import ContractClient
from tests.servers import redis_server


@pytest.fixture(scope="session")
def app() -> Any:
    return create_app(validate_responses=True)


@pytest.fixture(autouse=True)
def _fresh_state(app: Any) -> Iterator[None]:
    app.app.config["JOBAGENT_MOCK_ENGINE"].store.reset()
    yield


@pytest.fixture
def client(app: Any) -> ContractClient:
    """STAR's Jobnet client (every scope), with the documented-answer check on every response."""
    return ContractClient(app, "star-jobnet")


@pytest.fixture
def engine(app: Any) -> Any:
    return app.app.config["JOBAGENT_MOCK_ENGINE"]


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.needs_redis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store in turn: memory, SQLite in a fresh file, a Redis server of its own."""
    if request.param == "redis":
        with redis_server() as url:
            yield url
    else:
        yield "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'mock.db'}"
