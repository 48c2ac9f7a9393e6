"""The app factory: the contracts mounted on connexion, wired to handlers/, the engine and auth."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import connexion
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolution, Resolver
from connexion.utils import get_function_from_name

from jobagent_mock.auth import Authority
from jobagent_mock.foundations import fixtures, spec
from jobagent_mock.foundations.handler_names import handler_name
from jobagent_mock.proxy.forward import ProxyMiddleware, ProxySettings
from jobagent_mock.service import Mock
from jobagent_mock.stores import Store, open_store
from jobagent_mock.stores.sandboxes import (
    DEFAULT_IDLE_TTL_SECONDS,
    DEFAULT_MAX_PER_CLIENT,
    DEFAULT_MAX_SANDBOXES,
    Caps,
)
from jobagent_mock.web import console, problems
from jobagent_mock.web.access_log import AccessLogMiddleware
from jobagent_mock.web.context import (
    AUTHORITY,
    ENGINE,
    OperationMiddleware,
    RequestContextMiddleware,
)
from jobagent_mock.web.environment import setting, switched_on
from jobagent_mock.web.fast_lane import FastLane
from jobagent_mock.web.journal_middleware import JournalMiddleware
from jobagent_mock.web.limits import DEFAULT_MAX_BODY_BYTES, InputLimitsMiddleware
from jobagent_mock.web.prefer import PreferMiddleware
from jobagent_mock.web.responses import CompactJsonifier, for_flask
from jobagent_mock.web.scenario_middleware import ScenarioMiddleware
from jobagent_mock.web.security import security_map
from jobagent_mock.web.validators import VALIDATORS
from jobagent_mock.web.warning_header import ReadingsMiddleware


def handler_for(operation: spec.Operation) -> Any:
    return get_function_from_name(handler_name(operation.operation_id, operation.spec["tags"]))


@contextlib.asynccontextmanager
async def _freeze_at_startup(_app: Any) -> AsyncIterator[None]:
    """Runs when the server starts, after connexion has built its middleware. What start-up made
    (modules, contracts, fixtures, middleware) lives as long as the process: frozen, the garbage
    collector's full collections skip it, and are short (bench/results.md)."""
    gc.freeze()
    yield


class HandlerResolver(Resolver):
    def resolve_operation_id(self, operation: Any) -> str:
        found = spec.operation(operation.operation_id)
        return handler_name(operation.operation_id, found.spec.get("tags", []) if found else [])

    def resolve(self, operation: Any) -> Resolution:
        # keep the contract's operationId (not the handler's name) in the routing context, where
        # security and error rendering look operations up
        function = for_flask(super().resolve(operation).function)
        return Resolution(function, operation.operation_id)


def create_app(
    fixtures_dir: Path | None = None,
    *,
    closed_world: bool = False,
    validate_responses: bool = False,
    signing_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    store: str | None = None,
    fast_lane: bool = True,
    access_log: bool = False,
    max_sandboxes: int = DEFAULT_MAX_SANDBOXES,
    proxy: ProxySettings | None = None,
    store_instance: Store | None = None,
    max_sandboxes_per_client: int = DEFAULT_MAX_PER_CLIENT,
    sandbox_idle_ttl: float = DEFAULT_IDLE_TTL_SECONDS,
) -> connexion.FlaskApp:
    """The mock; `store` is `memory` (default), `sqlite:PATH` or `redis://HOST:PORT`; at most
    `max_sandboxes` sandboxes, `max_sandboxes_per_client` of a client, each freed after
    `sandbox_idle_ttl` seconds unused; with `proxy`, business requests go to its upstream
    (proxy/); `store_instance` an open store to serve on (serve --reload's)."""
    loaded = fixtures.load(fixtures_dir)
    authority = Authority(loaded.clients, signing_key)
    jsonifier = CompactJsonifier()
    app = connexion.FlaskApp(
        __name__,
        jsonifier=jsonifier,
        specification_dir=spec.SPEC_DIR,
        security_map=security_map(),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
        lifespan=_freeze_at_startup,
    )
    caps = Caps(max_sandboxes, max_sandboxes_per_client, sandbox_idle_ttl)
    if store_instance is None:
        store_instance = open_store(store, loaded.jobagents)
    mock = Mock(loaded, closed_world, store_instance, caps)
    app.app.config[ENGINE] = mock
    app.app.config[AUTHORITY] = authority
    if access_log:  # outermost of all: its time is the whole answer's
        app.add_middleware(AccessLogMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # outermost: every request gets its context (web/context.py) before anything reads it
    app.add_middleware(
        RequestContextMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        mock=mock,
        authority=authority,
    )
    # the console's contract is the mock's own page: no journal, no business checks
    app.add_middleware(
        console.ConsoleMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, mock=mock
    )
    # outside the error handlers, so the journal sees every answer, rendered errors included
    app.add_middleware(JournalMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, mock=mock)
    if proxy is not None:  # inside the journal, which keeps each exchange and its departures
        mock.upstream = proxy.upstream
        app.add_middleware(
            ProxyMiddleware,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            mock=mock,
            settings=proxy,
            max_body_bytes=max_body_bytes,
        )
    # inside the journal, which keeps the header; outside the fast lane, whose answers need it
    app.add_middleware(ReadingsMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # outside the fast lane and connexion's stack: a scenario's step, the same for both
    app.add_middleware(ScenarioMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # inside the journal, which records its answers too; outside everything it can skip
    app.add_middleware(
        FastLane,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        mock=mock,
        resolve=handler_for,
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
            spec.raw(contract),  # parsed once, by foundations/spec.py (connexion copies it)
            swagger_ui_options=_console(contract),
            resolver=HandlerResolver(),
            strict_validation=True,
            validate_responses=validate_responses,
            pythonic_params=True,
            validator_map=VALIDATORS,
        )
    problems.install(app)
    return app


def _console(contract: str) -> SwaggerUIOptions:
    """Swagger UI at the contract's /ui/; the business contract's loads the console's flavour
    of it (web/console.py), while /openapi.json and /openapi.yaml stay the contract."""
    if contract != spec.BUSINESS:
        return SwaggerUIOptions(swagger_ui_path="/ui")
    return SwaggerUIOptions(
        swagger_ui_path="/ui", swagger_ui_template_arguments={"openapi_spec_url": console.SPEC_URL}
    )


def app_from_environment(store_instance: Store | None = None) -> connexion.FlaskApp:
    """create_app() configured by the JOBAGENT_MOCK_* variables (a factory for workers; serve
    --reload's, on the store it keeps)."""
    fixtures_dir = setting("fixtures_dir")
    return create_app(
        Path(fixtures_dir) if fixtures_dir else None,
        closed_world=switched_on("closed_world", False),
        signing_key=setting("signing_key"),
        max_body_bytes=int(setting("max_body_bytes") or DEFAULT_MAX_BODY_BYTES),
        store=setting("store"),
        fast_lane=switched_on("fast_lane", True),
        access_log=switched_on("access_log", False),
        max_sandboxes=int(setting("max_sandboxes") or DEFAULT_MAX_SANDBOXES),
        proxy=ProxySettings.from_environment(),
        store_instance=store_instance,
        max_sandboxes_per_client=int(setting("max_sandboxes_per_client") or DEFAULT_MAX_PER_CLIENT),
        sandbox_idle_ttl=float(setting("sandbox_idle_ttl") or DEFAULT_IDLE_TTL_SECONDS),
    )
