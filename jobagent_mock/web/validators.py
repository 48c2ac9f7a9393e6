"""connexion validators that answer contract violations with the contract's fejlkode."""

from __future__ import annotations

import json
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.lifecycle import ConnexionRequest
from connexion.validators import VALIDATOR_MAP, ParameterValidator
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Message, Receive, Scope

from jobagent_mock.foundations import readings
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, InvalidInput
from jobagent_mock.web.contract_violations import (
    canonical,
    declared_fejlkode,
    expected_form,
    is_valid_for,
    json_text,
    validator_for,
    violation,
)


class ContractBodyValidator:
    """A JSON body parsed strictly, bound as ASP.NET binds it, checked, and handed on bound.

    connexion's stack calls a body validator of its `validator_map` through two public
    points only: it makes one with keyword arguments (schema, required, nullable, encoding,
    strict_validation, uri_parser) and awaits `wrap_receive(receive, scope=scope)` for the
    receive channel and scope the handler's side reads. This one is the project's own (no
    connexion validator class underneath, none of their private methods), doing what
    connexion's JSON body validator did in its place: a missing body is the schema's default
    or, when required, connexion's "RequestBody is required"; the bound body replaces the one
    sent, as JSON, its Content-Length with it."""

    MAX_MESSAGE_LENGTH = 256000  # per message of the replaced body, as connexion sends it

    def __init__(
        self,
        *,
        schema: dict[str, Any],
        required: bool = False,
        nullable: bool = False,
        encoding: str,
        **_unused: Any,  # strict_validation, uri_parser: the parameters' business
    ) -> None:
        self.schema, self.required, self.nullable = schema, required, nullable
        self.encoding = encoding

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        if not int(Headers(scope=scope).get("content-length", 0)):
            default = self.schema.get("default")
            if default is None and self.required:
                raise BadRequestProblem("RequestBody is required")
            receive, scope = self._carrying(default, receive, scope)
        chunks, more = [], True
        while more:
            message = await receive()
            more = message.get("more_body", False)
            chunks.append(message.get("body", b""))
        body = parse_body(b"".join(chunks), self.encoding, self.schema)
        if not (body is None and self.nullable):
            check_body(body, self.schema)
        return self._carrying(body, receive, scope)

    def _carrying(self, body: Any, receive: Receive, scope: Scope) -> tuple[Receive, Scope]:
        """The channel and scope with `body` in place of what was sent (none: as they are)."""
        if body is None:
            return receive, scope
        raw = json.dumps(body).encode(self.encoding)
        scope = {**scope, "headers": list(scope["headers"])}
        MutableHeaders(scope=scope)["content-length"] = str(len(raw))
        step = self.MAX_MESSAGE_LENGTH
        messages = iter(
            [
                {
                    "type": "http.request",
                    "body": raw[i : i + step],
                    "more_body": i + step < len(raw),
                }
                for i in range(0, len(raw), step)
            ]
        )

        async def replayed() -> Message:
            return next(messages, None) or await receive()

        return replayed, scope


class ContractParameterValidator(ParameterValidator):
    """Validates path, header and query parameters; the first violation's fejlkode answers."""

    def validate_request(self, request: ConnexionRequest) -> None:
        if self.strict_validation:
            extra = self.validate_query_parameter_list(request, self.security_query_params)
            if extra:
                names = ", ".join(sorted(extra))
                raise InvalidInput(FAILED_TO_VALIDATE, f"Unknown query parameter(s): {names}")
        sources = {
            "path": lambda name: request.path_params.get(name.replace("-", "_")),
            "header": request.headers.get,
            "query": request.query_params.get,
        }
        for where, read in sources.items():
            for param in self.parameters.get(where, []):
                check_parameter(where, param, read(param["name"]))


VALIDATORS = {
    **VALIDATOR_MAP,
    "parameter": ContractParameterValidator,
    # must stay a MediaTypeDict: with a plain dict connexion silently skips body validation
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": ContractBodyValidator}),
}


def parse_body(raw: bytes, encoding: str, schema: dict[str, Any]) -> Any:
    """A JSON body parsed strictly (no duplicate keys, NaN or bad UTF-8) and bound to its schema."""
    if not raw:
        return None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise InvalidInput(FAILED_TO_VALIDATE, "The body is not valid UTF-8.") from None
    try:
        if text.startswith("\ufeff"):  # as json.loads says it, which the decoder alone would not
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        body = _STRICT_JSON.decode(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(FAILED_TO_VALIDATE, f"The body is not valid JSON: {exc}") from None
    return canonical(body, schema)


def check_body(body: Any, schema: dict[str, Any]) -> None:
    """A parsed body against its schema: a compiled yes/no first, jsonschema only to explain."""
    if body is None:
        raise InvalidInput(FAILED_TO_VALIDATE, "The request body must not be empty.")
    if is_valid_for(schema)(body):
        return
    raise violation(list(validator_for(schema).iter_errors(body)), "body", body, schema)


def check_parameter(where: str, param: dict[str, Any], value: str | None) -> None:
    """One path, header or query parameter against its schema; the violation's fejlkode."""
    schema = param.get("schema", {})
    name = f"{where}.{param['name']}"
    if value is None:
        if param.get("required"):
            why = "is required"
            raise InvalidInput(
                declared_fejlkode(schema, "required"), f"{name} {why}", {name: [why]}
            )
        if relaxed := param.get("x-relaxed-required"):  # the seed requires it, the mock not
            readings.note(relaxed)
        return
    if _accepted(schema, value):
        return
    refused = violation(list(validator_for(schema).iter_errors(value)), name)
    if where == "header":  # described, never echoed: a header may carry a CPR number, a secret
        why = f"not {expected_form(schema)}: {len(value)} characters"
        raise InvalidInput(refused.fejlkode, f"{name} is {why}", {name: [why]})
    raise refused


# id(schema) -> (schema, the values it accepted): a client sends the same CPR header and
# identifiers request after request, each worth checking once. Short values only, and only so
# many a schema: emptied when full. A refused value is checked again every time.
_ACCEPTED: dict[int, tuple[dict[str, Any], set[str]]] = {}
ACCEPTED_KEPT, ACCEPTED_KEPT_CHARS = 256, 256


def _accepted(schema: dict[str, Any], value: Any) -> bool:
    """is_valid_for(schema)(value), remembered for a string it says yes to."""
    if type(value) is not str:  # a query's, typed already by connexion
        return bool(is_valid_for(schema)(value))
    kept = _ACCEPTED.get(id(schema))
    if kept is not None and kept[0] is schema and value in kept[1]:
        return True
    if not is_valid_for(schema)(value):
        return False
    if len(value) <= ACCEPTED_KEPT_CHARS:
        if kept is None or kept[0] is not schema or len(kept[1]) >= ACCEPTED_KEPT:
            kept = _ACCEPTED[id(schema)] = (schema, set())
        kept[1].add(value)
    return True


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {json_text(key)}")
        seen[key] = value
    return seen


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# made once: json.loads(text, **options) makes a decoder and its scanner every call
_STRICT_JSON = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)
