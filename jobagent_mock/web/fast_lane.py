"""The fast lane: a business request that passes every check is served here, from the contract,
without connexion's per-request stack; any other request goes on to connexion untouched.

Why: connexion's FlaskApp answers even an empty handler slowly (routing three times, ten
middlewares, a thread hop into Flask), below what partners' load tests need (the figures:
bench/results.md). The lane does for a valid request exactly what that
stack would, calling the same functions: the token check (security.authorize), the parameter and
body checks (web/validators.py), the bounded body read (web/limits.py), the handlers and the
error renderer (web/problems.py); it fills the request context (web/context.py) as the stack
would. It refuses nothing itself: when a check fails it steps aside before any handler ran, and
connexion answers, so every refusal has one implementation.
tests/integration/test_fast_lane.py holds both paths to the same answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connexion.decorators.parameter import pythonic
from connexion.json_schema import Draft4ResponseValidator
from connexion.lifecycle import ConnexionRequest
from connexion.utils import split_content_type
from jsonschema import Draft4Validator
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import Fejl
from jobagent_mock.rules.scenarios import Scripted
from jobagent_mock.service import Mock
from jobagent_mock.stores import WouldWait, forbid_waiting
from jobagent_mock.web import context, problems
from jobagent_mock.web.limits import (
    conflicting_header,
    declared_length,
    headers_too_large,
    read_body,
    replay,
)
from jobagent_mock.web.responses import answered
from jobagent_mock.web.security import admission_waits, admit, authorize
from jobagent_mock.web.validators import check_body, check_parameter, parse_body

Handler = Callable[..., Any]
UTF_8 = ("utf-8", "utf8")


class StepAside(Exception):
    """The request needs connexion: a check failed, or it has a shape the lane does not take."""


@dataclass(frozen=True)
class Route:
    """One business operation as the lane serves it, everything read from the contract once."""

    operation: spec.Operation
    pattern: re.Pattern[str]
    parameters: tuple[tuple[str, dict[str, Any]], ...]  # where, the parameter as declared
    keywords: dict[str, str]  # path parameter -> the handler's keyword (connexion's pythonic)
    scopes: frozenset[str]
    body_schema: dict[str, Any] | None
    media_types: frozenset[str]
    handler: Handler
    takes_body: bool


def routes(resolve: Callable[[spec.Operation], Handler]) -> list[Route]:
    """The business operations the lane can serve: one OAuth2 requirement, parameters in the path
    (plain strings) and headers only, a body only as JSON of one schema. Others (none today) are
    left to connexion alone."""
    found = []
    for operation in spec.operations(spec.BUSINESS).values():
        security = operation.spec.get("security", [])
        params = operation.parameters
        content = operation.spec.get("requestBody", {}).get("content", {})
        schemas = [media.get("schema") for media in content.values()]
        if (
            len(security) != 1
            or list(security[0]) != ["oauth2"]
            or any(p["in"] not in ("path", "header") for p in params)
            or not all(_plain_string(p) for p in params if p["in"] == "path")
            or not all(media_type.lower().endswith("json") for media_type in content)
            or any(schema != schemas[0] for schema in schemas)
        ):
            continue
        body_schema = schemas[0] if schemas else None
        handler = resolve(operation)
        template = re.sub(r"\{([^}]+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", operation.path)
        found.append(
            Route(
                operation=operation,
                pattern=re.compile(template),
                parameters=tuple((p["in"], p) for p in params),
                keywords={p["name"]: pythonic(p["name"]) for p in params if p["in"] == "path"},
                scopes=frozenset(security[0]["oauth2"]),
                body_schema=body_schema,
                media_types=frozenset(media_type.lower() for media_type in content),
                handler=handler,
                takes_body="body" in inspect.signature(handler).parameters,
            )
        )
    return found


class FastLane:
    """ASGI middleware: serves what it can (if `enabled`), and hands everything else on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        mock: Mock,
        resolve: Callable[[spec.Operation], Handler],
        max_body_bytes: int,
        enabled: bool = True,
        validate_responses: bool = False,
    ) -> None:
        self.app, self.mock = app, mock
        self.limit = max_body_bytes
        self.validate_responses = validate_responses
        self.routes = routes(resolve) if enabled else []
        # each path template once, with its operations by method: a request tries each once
        by_path: dict[str, tuple[re.Pattern[str], dict[str, Route]]] = {}
        for route in self.routes:
            _, by_method = by_path.setdefault(route.operation.path, (route.pattern, {}))
            by_method[route.operation.method] = route
        self.paths = list(by_path.values())
        # A shared store's writes of this process queue on one lock (its writer lock) anyway:
        # one thread makes them in turn, where a pool's threads would queue on that lock and
        # contend for the GIL. Reads go to asyncio's pool, and run side by side.
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.routes:
            await self.app(scope, receive, send)
            return
        raw: bytes | None = None  # the body, once read: connexion must then be given it again
        request = context.current()
        try:
            route, path_params = self._route(scope, request.headers)
            request.operation = route.operation
            kwargs = self._checked(route, request, path_params)
            if route.body_schema is not None:
                raw = await self._read_body(request.headers, receive)
                body = self._parse(route, request.headers, raw)
                if route.takes_body:
                    kwargs["body"] = body
        except StepAside:
            await self.app(scope, receive if raw is None else replay(raw, receive), send)
            return
        except Fejl as refused:  # the body outgrew its declared length: the limit's refusal
            await _starlette(problems.on_fejl(ConnexionRequest(scope, receive), refused))(
                scope, receive, send
            )
            return
        response = await self._answer(route, scope, receive, kwargs)
        await response(scope, receive, send)

    # the checks, in connexion's order, each the one both paths call; a refusal steps aside
    def _route(self, scope: Scope, headers: Headers) -> tuple[Route, dict[str, str]]:
        path, method = scope["path"], scope["method"].lower()
        if scope["query_string"] or "\n" in path or headers_too_large(scope):
            raise StepAside
        if conflicting_header(scope) is not None:
            raise StepAside
        matches = [(ops, m) for pattern, ops in self.paths if (m := pattern.fullmatch(path))]
        # two templates matching one path (.../email/VerificereEmail) is routing's to settle
        if len(matches) != 1:
            raise StepAside
        operations, match = matches[0]
        route = operations.get(method)
        if route is None:
            raise StepAside
        if "prefer" in headers or "transfer-encoding" in headers:
            raise StepAside
        if route.body_schema is None and headers.get("content-length", "0") != "0":
            raise StepAside
        return route, match.groupdict()

    @staticmethod
    def _checked(
        route: Route, request: context.RequestContext, path_params: dict[str, str]
    ) -> dict[str, Any]:
        """The token (security.authorize) and the parameters (validators.check_parameter); the
        handler's keyword arguments."""
        try:
            if authorize(request, route.scopes) is None or admission_waits(request):
                raise StepAside  # the full stack admits a sandbox of a shared store, off the loop
            admit(request)
            for where, param in route.parameters:
                name = param["name"]
                value = path_params.get(name) if where == "path" else request.headers.get(name)
                check_parameter(where, param, value)
        except Fejl:
            raise StepAside from None
        return {route.keywords[name]: value for name, value in path_params.items()}

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        try:
            declared = declared_length(headers)
        except Fejl:
            raise StepAside from None
        if declared is None or declared > self.limit:
            raise StepAside
        raw = await read_body(receive, self.limit)
        if raw is None:
            raise StepAside  # the client went away; connexion sees the same
        return raw

    @staticmethod
    def _parse(route: Route, headers: Headers, raw: bytes) -> Any:
        mime_type, encoding = split_content_type(headers.get("content-type"))
        if mime_type is None or mime_type.lower() not in route.media_types:
            raise StepAside
        if encoding is not None and encoding.lower() not in UTF_8:
            raise StepAside
        assert route.body_schema is not None
        try:
            body = parse_body(raw, "utf-8", route.body_schema)
            check_body(body, route.body_schema)
        except Fejl:
            raise StepAside from None
        return body

    # the answer: the handler, in the request's context, and what connexion would render
    async def _answer(
        self, route: Route, scope: Scope, receive: Receive, kwargs: dict[str, Any]
    ) -> Response:
        try:
            result = await self._call(route, kwargs)
            response = self._render(route, result)
            if self.validate_responses:
                self._check_response(route, response)
            return response
        except Fejl as exc:
            return _starlette(problems.on_fejl(ConnexionRequest(scope, receive), exc))
        except Scripted:
            raise  # a scenario's step: web/scenario_middleware.py gives it, for both paths
        except Exception as exc:  # noqa: BLE001 (as connexion's last handler: a bug, answered 500)
            return _starlette(problems.on_unexpected(ConnexionRequest(scope, receive), exc))

    async def _call(self, route: Route, kwargs: dict[str, Any]) -> Any:
        store = self.mock.store
        if not store.shared:
            return route.handler(**kwargs)
        # a GET that claims an x-requestId writes (GetJobagent's, service.Mock.get_jobagent)
        reads = route.operation.method == "get" and "x-requestid" not in context.current().headers
        if reads and (store.reads_in_loop or store.reads_ahead):
            # A read that waits for nobody saves the thread hop. Should it have to wait, the
            # store stops it before it did anything, saying which snapshot it wanted: read
            # ahead without blocking the loop (Redis), it is made again with it; else in a thread.
            try:
                with forbid_waiting():
                    return route.handler(**kwargs)
            except WouldWait as would:
                wanted = would.snapshot if store.reads_ahead else None
            if wanted is not None:
                read = {wanted: await store.read_ahead(*wanted)}
                with contextlib.suppress(WouldWait), forbid_waiting(read):
                    return route.handler(**kwargs)
        if store.batches is not None and not reads:  # a write (a GET claiming an x-requestId too)
            return await self._group_committed(route, kwargs)
        if store.writes_in_loop and not reads:
            return await self._write_in_loop(route, kwargs)
        # a shared store can wait (a lock, the network): never in the event loop
        if reads:
            return await asyncio.to_thread(route.handler, **kwargs)
        call = functools.partial(contextvars.copy_context().run, route.handler, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._writes, call)

    @staticmethod
    async def _group_committed(route: Route, kwargs: dict[str, Any]) -> Any:
        """A write to a store that group-commits (SQLite): the store queues the write the
        handler makes and says so; awaited here, the handler is called again, answered from it.
        No thread hop: the write's work runs in the store's writer, the rest in the loop."""
        try:
            with forbid_waiting():
                return route.handler(**kwargs)
        except WouldWait as would:
            queued = would.queued
        if queued is None:  # it would wait for something else (a busy read): in a thread
            return await asyncio.to_thread(route.handler, **kwargs)
        with contextlib.suppress(Exception):  # the handler's to answer, as the write raised
            await asyncio.wrap_future(queued)
        try:
            with forbid_waiting(written=queued):
                return route.handler(**kwargs)
        except WouldWait:
            # Only after a write that kept nothing (it raised, and no refusal: a scenario to
            # decide first) does the handler go on to what would wait (the scenario's step):
            # then all of it again, in a thread
            failure = queued.exception()
            if failure is None or isinstance(failure, Fejl):
                raise
        return await asyncio.to_thread(route.handler, **kwargs)

    async def _write_in_loop(self, route: Route, kwargs: dict[str, Any]) -> Any:
        """A write on a store that makes it in the loop (Redis): the handler is called under
        `forbid_waiting`, and each step the store would wait for (a snapshot, a write's read,
        its commit) is awaited before the handler is called again; the store bounds the steps.
        Nothing was kept when a step can only be taken off the loop: the call is made again in
        the lane's write thread."""
        done: dict[Any, Any] = {}
        while True:
            try:
                with forbid_waiting(done):
                    return route.handler(**kwargs)
            except WouldWait as would:
                if would.snapshot is not None:
                    done[would.snapshot] = await self.mock.store.read_ahead(*would.snapshot)
                elif would.resume is not None:
                    await would.resume()
                else:  # a step the store takes only off the loop (a scenario's): in a thread
                    call = functools.partial(
                        contextvars.copy_context().run, route.handler, **kwargs
                    )
                    return await asyncio.get_running_loop().run_in_executor(self._writes, call)

    @staticmethod
    def _render(route: Route, result: Any) -> Response:
        """The handler's Answer as it is (web/responses.py): what connexion's path sends too."""
        answer = answered(result, route.handler)
        return Response(answer.content, answer.status, answer.headers)

    @staticmethod
    def _check_response(route: Route, response: Response) -> None:
        """The tests' response validation (create_app(validate_responses=True))."""
        documented = route.operation.responses.get(str(response.status_code))
        if documented is None:
            raise AssertionError(f"{route.operation.operation_id} answered {response.status_code}")
        content_type = response.headers.get("content-type")
        content = documented.get("content", {})
        if content_type is None:
            assert not content, f"{route.operation.operation_id}: an answer without a body"
            return
        schema = content[content_type]["schema"]
        Draft4ResponseValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER).validate(
            json.loads(bytes(response.body))
        )


def _starlette(answer: Any) -> Response:
    # as connexion's ExceptionMiddleware turns a handler's ConnexionResponse into a response
    return Response(answer.body, answer.status_code, answer.headers, answer.mimetype)


def _plain_string(param: dict[str, Any]) -> bool:
    # connexion hands a string path parameter over as it came (no coercion, no "null" as None);
    # a name that is no identifier cannot name a regex group
    schema = param.get("schema", {})
    return (
        schema.get("type") == "string"
        and not schema.get("nullable")
        and param["name"].isidentifier()
    )
