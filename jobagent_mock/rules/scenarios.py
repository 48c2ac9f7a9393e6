"""Scenarios: a partner's test scripts the answers of matching requests, only as the contract
documents them; each matching request consumes one step, exactly once (Store.take_step)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator

from jobagent_mock.foundations import jsontext, spec
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, InvalidInput

MAX_SCENARIOS = 100
DEFAULT_SLOW_MS = 5000
FAULTS = ("reset", "empty", "malformed", "slow")
# the faults that give no answer: the operation never runs
BREAKING = ("reset", "empty", "malformed")


class Undecided(Exception):
    """Scenarios match this request and no step is taken yet: not a Fejl, so the store drops
    the write it interrupts (nothing claimed, nothing stored)."""

    def __init__(self, candidates: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(candidates)} scenarios match")
        self.candidates = candidates


class Scripted(Exception):
    """A step that answers in the operation's place (a fejlkode, a status, a fault): the web
    layer gives it. Not a Fejl: the write it interrupts is dropped."""

    def __init__(self, scenario_id: str | None, step: dict[str, Any]) -> None:
        super().__init__(f"scenario {scenario_id}: {step}")
        self.scenario_id, self.step = scenario_id, step


@dataclass(slots=True)
class Memo:
    """What one request's scenarios decided: taken once, however often the operation runs
    (an optimistic store's retry, a read tried in the loop and again in a thread)."""

    decided: bool = False
    scenario_id: str | None = None
    step: dict[str, Any] = field(default_factory=dict)
    # answered by a scenario or a Prefer that forced it, not by the rules (coverage tells them
    # apart); the fault given instead of an answer
    forced: bool = False
    fault: str | None = None

    def latency_ms(self) -> int:
        """How long the answer waits (a step's latencyMs; a slow fault's is the dribble's)."""
        return 0 if "fault" in self.step else int(self.step.get("latencyMs", 0))

    def slow_ms(self) -> int | None:
        """Over how long the answer's body is dribbled (a slow fault), or None."""
        if self.step.get("fault") != "slow":
            return None
        return int(self.step.get("latencyMs", DEFAULT_SLOW_MS))


_MEMO: ContextVar[Memo | None] = ContextVar("jobagent_mock_scenario_memo", default=None)


def watch() -> Memo:
    """From here on this request's scenario decision lands in the returned Memo (the web layer
    calls it once a request; Flask's and the store's threads share the object)."""
    memo = Memo()
    _MEMO.set(memo)
    return memo


def memo() -> Memo:
    """This request's memo, or a fresh one outside a request (the engine called directly)."""
    return _MEMO.get() or Memo()


def matching(
    scenarios: list[dict[str, Any]], operation_id: str | None, cpr: str | None, body: Any
) -> list[dict[str, Any]]:
    """The scenarios (oldest first) this request matches."""
    return [
        s
        for s in scenarios
        if s["operationId"] == operation_id
        and s.get("match", {}).get("cpr", cpr) == cpr
        and all(_at(body, path) == value for path, value in s.get("bound", {}).items())
    ]


_ABSENT = object()


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return _ABSENT
        body = body[part]
    return body


def decide(
    memo: Memo,
    candidates: list[dict[str, Any]],
    take: Callable[[str, int, bool], int | None],
) -> None:
    """Take a step of the oldest candidate not used up (`take`: Store.take_step for the
    sandbox), into the memo; raises Scripted when the step answers in the operation's place."""
    for scenario in candidates:
        index = take(scenario["id"], len(scenario["respond"]), scenario["then"] == "repeat")
        if index is None:
            continue
        memo.decided, memo.scenario_id = True, scenario["id"]
        memo.step = scenario["respond"][index]
        if "fejlkode" in memo.step or "status" in memo.step or memo.step.get("fault") in BREAKING:
            memo.forced = True  # else the rules answer, only later or slower: a natural answer
            raise Scripted(memo.scenario_id, memo.step)
        return
    memo.decided = True  # every one used up: answered normally


def created(definition: dict[str, Any], existing: int) -> dict[str, Any]:
    """A new scenario from its definition (schema-valid), refused with a 400 that lists what the
    contract documents when it asks for anything else."""
    if existing >= MAX_SCENARIOS:
        _refuse("body", f"a sandbox holds at most {MAX_SCENARIOS} scenarios: delete some first")
    operations = spec.operations(spec.BUSINESS)
    operation = operations.get(definition["operationId"])
    if operation is None:
        _refuse("body.operationId", f"must be one of {', '.join(sorted(operations))}")
    assert operation is not None
    documented = operation.fejlkoder_by_status()
    for n, step in enumerate(definition["respond"]):
        _check_step(operation.operation_id, documented, step, f"body.respond.{n}")
    scenario = {
        "id": secrets.token_hex(8),
        "operationId": operation.operation_id,
        "respond": definition["respond"],
        "then": definition.get("then", "pass"),
    }
    match = definition.get("match") or {}
    if match:
        if "cpr" in match:
            _check_cpr(operation, match["cpr"])
        scenario["match"] = match
        scenario["bound"] = _bound(operation, match.get("body", {}))
    return scenario


def _check_step(
    operation_id: str, documented: dict[int, list[int]], step: dict[str, Any], where: str
) -> None:
    statuses = ", ".join(map(str, sorted(documented)))
    if "fejlkode" in step:
        at = [s for s, codes in documented.items() if step["fejlkode"] in codes]
        if not at:
            by_status = "; ".join(
                f"{status}: {_list(codes)}" for status, codes in sorted(documented.items()) if codes
            )
            _refuse(f"{where}.fejlkode", f"{operation_id} documents fejlkode {by_status}")
        if "status" in step and step["status"] not in at:
            _refuse(f"{where}.status", f"fejlkode {step['fejlkode']} is documented at {_list(at)}")
    elif "status" in step and step["status"] not in documented:
        _refuse(f"{where}.status", f"{operation_id} documents status {statuses}")
    if step.get("fault") in BREAKING and len(step) > 1:
        _refuse(where, f"fault {step['fault']} gives no answer: it takes nothing else")
    if "pass" in step and len(step) > 1 + ("latencyMs" in step):
        _refuse(where, "pass answers normally: it takes no fejlkode, status or fault")


def _list(values: list[int]) -> str:
    return ", ".join(map(str, sorted(values))) or "none"


def _bound(operation: spec.Operation, fields: dict[str, Any]) -> dict[str, Any]:
    """The match's body fields by their canonical dotted names; a name the request body does
    not have is a 400 listing the names it has."""
    content: dict[str, Any] = operation.spec.get("requestBody", {}).get("content", {})
    media: dict[str, Any] = next(iter(content.values()), {})
    schema: dict[str, Any] | None = media.get("schema")
    bound = {}
    for path, value in fields.items():
        node, names = schema, []
        for part in path.split("."):
            known = _names(node) if node is not None else {}
            if part.lower() not in known:
                where = f"body.match.body.{path}"
                offered = sorted({name for name, _ in known.values()})
                _refuse(where, f"{operation.operation_id}'s body has {_words(offered)}")
            name, node = known[part.lower()]
            names.append(name)
        _check_value(f"body.match.body.{path}", node or {}, value)
        bound[".".join(names)] = value
    return bound


CPR_HEADER = "x-civilRegistrationIdentifier"


def _check_cpr(operation: spec.Operation, cpr: Any) -> None:
    """match.cpr must be what the operation's CPR header may be (its schema)."""
    header = next((p for p in operation.parameters if p["name"] == CPR_HEADER), None)
    if header is None:
        _refuse("body.match.cpr", f"{operation.operation_id} takes no {CPR_HEADER} header")
    assert header is not None
    _check_value("body.match.cpr", header.get("schema", {}), cpr)


def _check_value(where: str, schema: dict[str, Any], value: Any) -> None:
    """A match value the field it names could never hold (its schema in the business contract)
    would never match: refused, saying what the field takes."""
    if value is None and schema.get("nullable"):
        return
    error = next(iter(Draft4Validator(schema).iter_errors(value)), None)
    if error is not None:
        why = f"the field takes {schema['x-expected']}" if "x-expected" in schema else error.message
        _refuse(where, f"{jsontext.dumps(value)} can never match: {why}")


def _words(names: list[str]) -> str:
    return ", ".join(names) if names else "no fields here"


def _names(schema: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """A schema's writable properties by every spelling the binder accepts (lower case): its
    name and its x-aliases (web/contract_violations.py binds requests the same way)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    parts = [schema, *schema.get("allOf", [])]
    for part in parts:
        for name, sub in part.get("properties", {}).items():
            if sub.get("readOnly"):
                continue
            found[name.lower()] = (name, sub)
            for alias in sub.get("x-aliases", []):
                spelled = alias if isinstance(alias, str) else alias["name"]
                found.setdefault(spelled.lower(), (name, sub))
    return found


def shown(scenario: dict[str, Any], hits: int) -> dict[str, Any]:
    """A scenario as the control plane answers it (admin.yaml's Scenario)."""
    public = {k: v for k, v in scenario.items() if k != "bound"}
    steps = len(scenario["respond"])
    remaining = None if scenario["then"] == "repeat" else max(steps - hits, 0)
    return {**public, "hits": hits, "remaining": remaining}


def _refuse(where: str, why: str) -> None:
    raise InvalidInput(FAILED_TO_VALIDATE, f"{where}: {why}.", {where: [why]})
