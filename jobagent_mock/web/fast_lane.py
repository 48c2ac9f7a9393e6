"""The fast lane: a business request that passes every check is served here, from the contract,
without connexion's per-request stack; any other request goes on to connexion untouched.

Why: on this project's 2-core reference machine connexion's FlaskApp answers an empty handler at
about 1,200 req/s (routing three times, ten middlewares, a thread hop into Flask), below what
partners' load tests need (bench/results.md). The lane does for a valid request exactly what that
stack would, with the same pieces: the contract's routes, scopes and organisations (spec), the
same token check (auth.Authority), the same validators (web/validators.py), the same handlers
and error renderer (web/problems.py). It refuses nothing itself: when a check fails it steps
aside before any handler ran, and connexion answers, so every refusal has one implementation.
tests/integration/test_fast_lane.py holds both paths to the same answers.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from connexion import context as connexion_context
from connexion.decorators.parameter import pythonic
from connexion.json_schema import Draft4ResponseValidator
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest
from connexion.utils import split_content_type
from jsonschema import Draft4Validator
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobagent_mock import spec
from jobagent_mock.auth import Authority
from jobagent_mock.errors import Fejl
from jobagent_mock.service import Mock
from jobagent_mock.web import context, problems
from jobagent_mock.web.contract_violations import is_valid_for
from jobagent_mock.web.limits import replay
from jobagent_mock.web.validators import parse_body

Handler = Callable[..., Any]
UTF_8 = ("utf-8", "utf8")


class StepAside(Exception):
    """The request needs connexion: a check failed, or it has a shape the lane does not take."""


@dataclass(frozen=True)
class Route:
    """One business operation as the lane serves it, everything read from the contract once."""

    operation: spec.Operation
    pattern: re.Pattern[str]
    parameters: tuple[tuple[str, str, bool, dict[str, Any]], ...]  # where, name, required, schema
    scopes: frozenset[str]
    organisations: frozenset[str] | None
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
                parameters=tuple(
                    (p["in"], p["name"], bool(p.get("required")), p.get("schema", {}))
                    for p in params
                ),
                scopes=frozenset(security[0]["oauth2"]),
                organisations=_frozen(operation.spec.get("x-allowed-organisations")),
                body_schema=body_schema,
                media_types=frozenset(media_type.lower() for media_type in content),
                handler=handler,
                takes_body="body" in inspect.signature(handler).parameters,
            )
        )
    return found


class FastLane:
    """ASGI middleware: binds the engine for handlers, and serves what it can (if `enabled`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        mock: Mock,
        authority: Authority,
        resolve: Callable[[spec.Operation], Handler],
        jsonifier: Jsonifier,
        max_body_bytes: int,
        enabled: bool = True,
        validate_responses: bool = False,
    ) -> None:
        self.app, self.mock, self.authority = app, mock, authority
        self.jsonifier, self.limit = jsonifier, max_body_bytes
        self.validate_responses = validate_responses
        self.routes = routes(resolve) if enabled else []
        self.aliases = spec.scope_aliases()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context.bind(self.mock, self.authority)
        if scope["type"] != "http" or not self.routes:
            await self.app(scope, receive, send)
            return
        raw: bytes | None = None  # the body, once read: connexion must then be given it again
        try:
            route, path_params, headers = self._route(scope)
            token_info = self._token_info(route, headers)
            kwargs = {pythonic(name): value for name, value in path_params.items()}
            self._check_parameters(route, path_params, headers)
            if route.body_schema is not None:
                raw = await self._read_body(headers, receive)
                body = self._parse(route, headers, raw)
                if route.takes_body:
                    kwargs["body"] = body
        except StepAside:
            await self.app(scope, receive if raw is None else replay(raw, receive), send)
            return
        response = self._answer(route, scope, receive, token_info, kwargs)
        await response(scope, receive, send)

    # the checks, in connexion's order; each steps aside instead of refusing
    def _route(self, scope: Scope) -> tuple[Route, dict[str, str], Headers]:
        path, method = scope["path"], scope["method"].lower()
        if scope["query_string"] or "\n" in path:
            raise StepAside
        matches = [(r, m) for r in self.routes if (m := r.pattern.fullmatch(path))]
        # two templates matching one path (.../email/VerificereEmail) is routing's to settle
        if len({r.operation.path for r, _ in matches}) != 1:
            raise StepAside
        for route, match in matches:
            if route.operation.method == method:
                headers = Headers(scope=scope)
                if "prefer" in headers or "transfer-encoding" in headers:
                    raise StepAside
                if route.body_schema is None and headers.get("content-length", "0") != "0":
                    raise StepAside
                return route, match.groupdict(), headers
        raise StepAside

    def _token_info(self, route: Route, headers: Headers) -> dict[str, Any]:
        # connexion's reading of the header (security.get_auth_header_value) and its scope check
        try:
            kind, token = headers.get("authorization", "").split(maxsplit=1)
        except ValueError:
            raise StepAside from None
        claims = self.authority.verify(token) if kind.lower() == "bearer" else None
        if claims is None:
            raise StepAside
        if (
            route.organisations is not None
            and claims["organisationType"] not in route.organisations
        ):
            raise StepAside
        scopes = claims["scope"].split()
        scopes += [extra for s in scopes for extra in self.aliases.get(s, [])]
        if not route.scopes <= set(scopes):
            raise StepAside
        return {**claims, "scope": scopes}

    @staticmethod
    def _check_parameters(route: Route, path_params: dict[str, str], headers: Headers) -> None:
        # as web/validators.py's ContractParameterValidator would find, but yes or no
        for where, name, required, schema in route.parameters:
            value = path_params.get(name) if where == "path" else headers.get(name)
            if value is None and required:
                raise StepAside
            if value is not None and not is_valid_for(schema)(value):
                raise StepAside

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > self.limit:
            raise StepAside
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise StepAside  # the client went away; connexion sees the same
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

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
        except Fejl:
            raise StepAside from None
        # as ContractBodyValidator would find, but yes or no
        if body is None or not is_valid_for(route.body_schema)(body):
            raise StepAside
        return body

    # the answer: the handler, in the request's context, and what connexion would render
    def _answer(
        self,
        route: Route,
        scope: Scope,
        receive: Receive,
        token_info: dict[str, Any],
        kwargs: dict[str, Any],
    ) -> Response:
        # what connexion's ContextMiddleware and security middleware give a handler
        connexion_context._context.set({"token_info": token_info, "user": token_info["sub"]})
        connexion_context._scope.set(scope)
        connexion_context._receive.set(receive)
        request = ConnexionRequest(scope, receive)
        try:
            response = self._render(route.handler(**kwargs))
            if self.validate_responses:
                self._check_response(route, response)
            return response
        except Fejl as exc:
            return _starlette(problems.on_fejl(request, exc))
        except Exception as exc:  # noqa: BLE001 (as connexion's last handler: a bug, answered 500)
            return _starlette(problems.on_unexpected(request, exc))

    def _render(self, result: Any) -> Response:
        """The handler's answer as Flask under connexion sends it (web/responses.py's shapes)."""
        if isinstance(result, flask.Response):
            return Response(result.get_data(), result.status_code, dict(result.headers))
        body, status, headers = result
        return Response(self.jsonifier.dumps(body), status, headers)

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


def _frozen(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)
