"""Control-plane operations (openapi/admin.yaml, mounted under /__admin)."""

from typing import Any

from jobagent_mock.web.context import engine

Response = tuple[Any, ...]


def get_health() -> Response:
    return {"status": "ok"}, 200


def get_personas() -> Response:
    return engine().fixtures.personas, 200
