"""The app factory: the contracts mounted on connexion, wired to handlers/, the engine and auth."""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import connexion
from connexion.jsonifier import Jsonifier
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolution, Resolver
from connexion.utils import get_function_from_name

from jobagent_mock import fixtures, spec
from jobagent_mock.auth import Authority
from jobagent_mock.environment import ENVIRONMENT
from jobagent_mock.naming import handler_name
from jobagent_mock.service import Mock
from jobagent_mock.stores import DEFAULT_MAX_SANDBOXES, open_store
from jobagent_mock.web import problems
from jobagent_mock.web.context import (
    AUTHORITY,
    ENGINE,
    OperationMiddleware,
    RequestContextMiddleware,
)
from jobagent_mock.web.fast_lane import FastLane
from jobagent_mock.web.journal import JournalMiddleware
from jobagent_mock.web.limits import DEFAULT_MAX_BODY_BYTES, InputLimitsMiddleware
from jobagent_mock.web.prefer import PreferMiddleware
from jobagent_mock.web.security import security_map
from jobagent_mock.web.validators import VALIDATORS
from jobagent_mock.web.warnings import ReadingsMiddleware


def handler_for(operation: spec.Operation) -> Any:
    return get_function_from_name(handler_name(operation.operation_id, operation.spec["tags"]))


@contextlib.asynccontextmanager
async def _freeze_at_startup(_app: Any) -> AsyncIterator[None]:
    """Runs when the server starts, after connexion has built its middleware. What start-up made
    (modules, contracts, fixtures, middleware) lives as long as the process: frozen, the garbage
    collector's full collections skip it, which took them from 20-30 ms to under 1 ms."""
    gc.freeze()
    yield


class HandlerResolver(Resolver):
    def resolve_operation_id(self, operation: Any) -> str:
        found = spec.operation(operation.operation_id)
        return handler_name(operation.operation_id, found.spec.get("tags", []) if found else [])

    def resolve(self, operation: Any) -> Resolution:
        # keep the contract's operationId (not the handler's name) in the routing context, where
        # security and error rendering look operations up
        return Resolution(super().resolve(operation).function, operation.operation_id)


def create_app(
    fixtures_dir: Path | None = None,
    *,
    closed_world: bool = False,
    validate_responses: bool = False,
    signing_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    store: str | None = None,
    fast_lane: bool = True,
    max_sandboxes: int = DEFAULT_MAX_SANDBOXES,
) -> connexion.FlaskApp:
    """The mock; `store` is `memory` (default, at most `max_sandboxes`), `sqlite:PATH` or
    `redis://HOST:PORT`."""
    loaded = fixtures.load(fixtures_dir)
    authority = Authority(loaded.clients, signing_key)
    # no indent, as ASP.NET writes it; an indent would also force Python's slow JSON encoder
    jsonifier = Jsonifier(json)
    app = connexion.FlaskApp(
        __name__,
        jsonifier=jsonifier,
        specification_dir=spec.SPEC_DIR,
        security_map=security_map(),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
        lifespan=_freeze_at_startup,
    )
    mock = Mock(loaded, closed_world, open_store(store, loaded.jobagents, max_sandboxes))
    app.app.config[ENGINE] = mock
    app.app.config[AUTHORITY] = authority
    # outermost: every request gets its context (web/context.py) before anything reads it
    app.add_middleware(
        RequestContextMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        mock=mock,
        authority=authority,
    )
    # outside the error handlers, so the journal sees every answer, rendered errors included
    app.add_middleware(JournalMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, mock=mock)
    # inside the journal, which keeps the header; outside the fast lane, whose answers need it
    app.add_middleware(ReadingsMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # inside the journal, which records its answers too; outside everything it can skip
    app.add_middleware(
        FastLane,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        mock=mock,
        resolve=handler_for,
        jsonifier=jsonifier,
        max_body_bytes=max_body_bytes,
        enabled=fast_lane,
        validate_responses=validate_responses,
    )
    # inside the error handlers, so a refused request gets the contract's Problem
    app.add_middleware(
        InputLimitsMiddleware,
        position=MiddlewarePosition.BEFORE_ROUTING,
        max_body_bytes=max_body_bytes,
    )
    # right after routing: the operation, for security, Prefer, handlers and the journal
    app.add_middleware(OperationMiddleware, position=MiddlewarePosition.BEFORE_SECURITY)
    # after security (a forced answer still needs a valid token), before validation
    app.add_middleware(PreferMiddleware, position=MiddlewarePosition.BEFORE_VALIDATION)
    for contract in spec.CONTRACTS:
        app.add_api(
            spec.raw(contract),  # parsed once, by spec.py (connexion copies it)
            resolver=HandlerResolver(),
            strict_validation=True,
            validate_responses=validate_responses,
            pythonic_params=True,
            validator_map=VALIDATORS,
        )
    problems.install(app)
    return app


def app_from_environment() -> connexion.FlaskApp:
    """create_app() configured by the JOBAGENT_MOCK_* variables (a factory for workers)."""
    values = {name: os.environ.get(var) for name, var in ENVIRONMENT.items()}
    return create_app(
        Path(values["fixtures_dir"]) if values["fixtures_dir"] else None,
        closed_world=values["closed_world"] == "1",
        signing_key=values["signing_key"],
        max_body_bytes=int(values["max_body_bytes"] or DEFAULT_MAX_BODY_BYTES),
        store=values["store"],
        fast_lane=values["fast_lane"] != "0",
        max_sandboxes=int(values["max_sandboxes"] or DEFAULT_MAX_SANDBOXES),
    )
