"""`Prefer` (RFC 7240) on business operations: force a documented answer, or delay the real one.

`Prefer: fejlkode=4819` answers that documented error with its status and example;
`Prefer: code=404` answers a documented status with its example (Prism's convention);
`Prefer: latency=300` waits 300 ms (0 to 10000) without holding up other requests;
`Prefer: fault=reset` (empty, malformed, slow) breaks the connection as a scenario's fault does
(web/scenario_middleware.py; `slow` dribbles the answer's body over `latency`, 5000 ms by default).
Anything an operation does not document is a 400 that lists what it does.
"""

from __future__ import annotations

import asyncio
import copy
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from jobagent_mock.foundations import jsontext, spec
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, InvalidInput
from jobagent_mock.rules import scenarios
from jobagent_mock.web.context import current

MAX_LATENCY_MS = 10_000
OURS = ("fejlkode", "code", "latency", "fault")
_DIGITS = re.compile(r"[0-9]+")


class PreferMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = current()
        headers, operation = request.headers, request.operation
        wishes = parse(", ".join(headers.getlist("prefer")))  # RFC 7240: several lines, one list
        if operation is None or operation.operation_id not in _business() or not wishes:
            await self.app(scope, receive, send)
            return
        forced = forced_answer(operation, wishes)
        await _pace(wishes)
        if forced is None:
            await self.app(scope, receive, send)
            return
        scenarios.memo().forced = True
        extra = {"Preference-Applied": _applied(wishes)}
        await send_forced(send, forced, headers.get("x-requestId"), extra)


async def send_forced(
    send: Send,
    forced: tuple[int, str | None, Any, dict[str, str]],
    request_id: str | None,
    extra: dict[str, str] | None = None,
) -> None:
    """A documented answer (forced_answer's), its requestId the request's x-requestId."""
    status, media_type, body, headers = forced
    if isinstance(body, dict) and "requestId" in body:
        body["requestId"] = request_id or str(uuid.uuid4())
    await _send(send, status, media_type, body, {**(extra or {}), **headers})


async def _pace(wishes: dict[str, str]) -> None:
    """`latency` waits; `fault` is the request's scenario step (web/scenario_middleware.py gives
    it), a slow one dribbling the answer over `latency`."""
    fault = _fault(wishes)
    latency = None
    if "latency" in wishes:
        latency = _number(wishes["latency"], 0, MAX_LATENCY_MS)
        if latency is None:
            why = f"Prefer: latency must be a number of milliseconds, 0 to {MAX_LATENCY_MS}."
            raise InvalidInput(FAILED_TO_VALIDATE, why, {"header.Prefer": [why]})
    if fault == "slow":
        step = {"fault": fault, **({"latencyMs": latency} if latency is not None else {})}
    elif latency:
        await asyncio.sleep(latency / 1000)
    if fault is None:
        return
    memo = scenarios.memo()
    memo.decided, memo.step = True, step if fault == "slow" else {"fault": fault}
    if fault in scenarios.BREAKING:
        memo.forced = True
        raise scenarios.Scripted(None, memo.step)


def _fault(wishes: dict[str, str]) -> str | None:
    if "fault" not in wishes:
        return None
    if wishes["fault"] not in scenarios.FAULTS:
        why = f"Prefer: fault must be one of {', '.join(scenarios.FAULTS)}."
        raise InvalidInput(FAILED_TO_VALIDATE, why, {"header.Prefer": [why]})
    return wishes["fault"]


def _business() -> dict[str, spec.Operation]:
    return spec.operations(spec.BUSINESS)


def parse(header: str) -> dict[str, str]:
    """Our preferences from a Prefer header (others are ignored, as RFC 7240 asks)."""
    wishes = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() in OURS:
            wishes[name.strip().lower()] = value.strip().strip('"')
    return wishes


def forced_answer(
    operation: spec.Operation, wishes: dict[str, str]
) -> tuple[int, str | None, Any, dict[str, str]] | None:
    documented = operation.fejlkoder_by_status()
    status = _number(wishes["code"], 100, 599) if "code" in wishes else None
    fejlkode = _number(wishes["fejlkode"], 1, 999_999) if "fejlkode" in wishes else None
    if ("code" in wishes and status is None) or ("fejlkode" in wishes and fejlkode is None):
        _refuse(operation, documented)  # a value that is no number
    if fejlkode is not None:
        statuses = [s for s, codes in sorted(documented.items()) if fejlkode in codes]
        if not statuses or (status is not None and status not in statuses):
            _refuse(operation, documented)
        status = statuses[0] if status is None else status
    if status is None:
        return None
    if status not in documented:
        _refuse(operation, documented)
    return _example(operation.responses[str(status)], status, fejlkode)


def _example(
    response: dict[str, Any], status: int, fejlkode: int | None
) -> tuple[int, str | None, Any, dict[str, str]]:
    headers = {
        name: str(h.get("example", h.get("schema", {}).get("example", "")))
        for name, h in response.get("headers", {}).items()
    }
    for media_type, media in response.get("content", {}).items():
        examples = {k: e["value"] for k, e in media.get("examples", {}).items()}
        if "example" in media:
            examples["example"] = media["example"]
        chosen = examples.get(str(fejlkode)) if fejlkode else next(iter(examples.values()), None)
        return status, media_type, copy.deepcopy(chosen), headers
    return status, None, None, headers


def _number(value: str, low: int, high: int) -> int | None:
    """The value as a whole number within [low, high]; None for anything else, however long (a
    4,301-digit number is past what int() converts) or spelt in other scripts' digits."""
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value.lstrip("0") or "0") if len(value.lstrip("0")) <= len(str(high)) else None
    return number if number is not None and low <= number <= high else None


def _refuse(operation: spec.Operation, documented: dict[int, list[int]]) -> None:
    codes = sorted({c for codes in documented.values() for c in codes})
    raise InvalidInput(
        FAILED_TO_VALIDATE,
        f"Prefer: {operation.operation_id} documents code={', '.join(map(str, sorted(documented)))}"
        f" and fejlkode={', '.join(map(str, codes))}.",
        {"header.Prefer": [f"code: {sorted(documented)}", f"fejlkode: {codes}"]},
    )


def _applied(wishes: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in wishes.items())


async def _send(
    send: Send, status: int, media_type: str | None, body: Any, headers: dict[str, str]
) -> None:
    payload = b"" if body is None else jsontext.dumps(body).encode()
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if media_type is not None:
        raw.append((b"content-type", media_type.encode()))
    raw.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
