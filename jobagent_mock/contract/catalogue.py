"""The fejlkode catalogue: for every operation, each code it documents and how to trigger it.

Built from the contract (each response's x-fejlkoder; `x-triggers` on the operation and on
shared responses say how a value, the caller's organisation, stored state or only `Prefer`
triggers a code) and from the fixtures (a persona listing a code triggers it).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.fixtures import Fixtures

KINDS = ("persona", "value", "organisation", "state", "prefer")
# `{today-1}`, `{year+1}` in x-triggers: relative to the instant the contract's examples hold at
_RELATIVE = re.compile(r"\{(today|year)([+-]\d+)?\}")


def examples_now() -> datetime:
    """The instant at which the contract's examples hold (`x-examples-now` in its info): a
    trigger is the documented example changed, so the sandbox's clock must stand there."""
    return datetime.fromisoformat(spec.raw(spec.BUSINESS)["info"]["x-examples-now"])


def entries(fixtures: Fixtures) -> list[dict[str, Any]]:
    """One entry per operation, status and documented fejlkode, in the contract's order."""
    found = []
    for operation in spec.operations(spec.BUSINESS).values():
        for status, codes in sorted(operation.fejlkoder_by_status().items()):
            for code in codes:
                trigger = trigger_for(operation, status, code, fixtures)
                found.append(
                    {
                        "operationId": operation.operation_id,
                        "fejlkode": code,
                        "status": status,
                        "fejltekst": spec.fejlkode_catalogue()[code][0],
                        "trigger": trigger,
                    }
                )
    return found


def trigger_for(
    operation: spec.Operation, status: int, code: int, fixtures: Fixtures
) -> dict[str, Any] | None:
    """How to make `operation` answer `code` under `status`; None where nothing says."""
    own = operation.spec.get("x-triggers", [])
    # the most specific first: the operation's for this status, the (shared) response's, then
    # the operation's for the code at any status
    declared = [
        *(t for t in own if t.get("status") == status),
        *operation.responses[str(status)].get("x-triggers", []),
        *(t for t in own if "status" not in t),
    ]
    caller = {"client_id": default_client(operation, fixtures), **_citizen(operation)}
    for trigger in declared:
        if trigger["fejlkode"] == code:
            found = {k: _dated(v) for k, v in trigger.items() if k not in ("fejlkode", "status")}
            if found["kind"] == "prefer":
                return {"client_id": caller["client_id"], **found}
            return {**caller, "clock": examples_now().isoformat(), **found}
    persona = next((p for p in fixtures.personas if code in p["fejlkoder"]), None)
    if persona is None or status in (400, 413, 415):
        return None
    return {
        "kind": "persona",
        "client_id": persona.get("kalder") or caller["client_id"],
        "cpr": persona["cpr"],
        "clock": examples_now().isoformat(),
        "reason": persona["description"],
    }


def _citizen(operation: spec.Operation) -> dict[str, str]:
    """The CPR the operation's example sends, where it sends one."""
    examples = [
        str(param["example"])
        for param in operation.parameters
        if param["name"] == "x-civilRegistrationIdentifier" and "example" in param
    ]
    return {"cpr": examples[0]} if examples else {}


def _dated(value: Any) -> Any:
    """A value with `{today±N}` and `{year±N}` made concrete, and typed as the field wants it
    (a year is a number)."""
    if isinstance(value, dict):
        return {key: _dated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dated(item) for item in value]
    if not isinstance(value, str) or not _RELATIVE.search(value):
        return value
    now = examples_now()

    def concrete(match: re.Match[str]) -> str:
        offset = int(match.group(2) or 0)
        if match.group(1) == "year":
            return str(now.year + offset)
        return (now.date() + timedelta(days=offset)).isoformat()

    text = _RELATIVE.sub(concrete, value)
    return int(text) if text.isdigit() else text


def default_client(operation: spec.Operation, fixtures: Fixtures) -> str:
    """The first fixture client whose organisation and scopes the operation accepts."""
    allowed = operation.spec.get("x-allowed-organisations")
    needed = {s for r in operation.spec.get("security", []) for s in r.get("oauth2", [])}
    for client in fixtures.clients:
        if (allowed is None or client["organisationType"] in allowed) and needed <= set(
            client["scopes"]
        ):
            return str(client["client_id"])
    raise LookupError(f"no fixture client may call {operation.operation_id}")


def in_words(trigger: dict[str, Any]) -> str:
    """A trigger in words, for a table cell (Markdown)."""
    kind, client = trigger["kind"], f"`{trigger['client_id']}`"
    if trigger.get("cpr") and kind != "persona":
        client += f", CPR `{trigger['cpr']}`"
    if kind == "prefer":
        return f"only `Prefer: fejlkode=…`: no input causes it ({trigger['reason']})"
    if kind == "persona":
        return f"CPR `{trigger['cpr']}` ({trigger['reason']}), as {client}"
    if kind == "state":
        steps = ", ".join(
            step["operationId"] + (f" for `{step['cpr']}`" if "cpr" in step else "")
            for step in trigger["steps"]
        )
        return f"the example after a 2xx of {steps} (as {client})"
    changes = {**({trigger["field"]: trigger.get("value")} if "field" in trigger else {})}
    changes.update(trigger.get("with", {}))
    said = [
        f"`{field}` left out"
        if trigger.get("absent") and field == trigger["field"]
        else f"`{field}` = `{json.dumps(value, ensure_ascii=False)}`"
        for field, value in changes.items()
    ]
    said = [text.replace("|", "\\|") for text in said]
    return ", ".join(said) + f" (as {client})" if said else f"a token of {client}"
