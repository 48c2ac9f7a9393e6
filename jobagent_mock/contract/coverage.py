"""Contract coverage: which documented statuses and fejlkoder a sandbox's requests received,
against all that each operation of the contract documents, as JSON, Markdown, JUnit and HTML."""

from __future__ import annotations

import html
import json
from typing import Any
from xml.etree import ElementTree

from jobagent_mock.contract import catalogue
from jobagent_mock.foundations import spec
from jobagent_mock.foundations.fixtures import Fixtures
from jobagent_mock.stores.base import Outcome

FORMATS = ("json", "md", "junit", "html")
# an answer a scenario or Prefer forced is counted under its operationId with this in front, so
# every store counts it apart from a natural one with no table of its own
FORCED = "forced "
OTHER_AUDIENCE = "another-api"  # any but the mock's own (auth.AUDIENCE)


def outcome_of(entry: dict[str, Any]) -> tuple[Outcome, str | None] | None:
    """What a journal entry counts for (operationId, status, fejlkode or 0) and its x-requestId;
    None for a request that reached no operation (an unknown path)."""
    operation_id = entry.get("operationId")
    if not operation_id or not entry["response"]["status"]:  # 0: a fault, no answer
        return None
    response = entry["response"]
    problem = _problem(response) if response["status"] >= 400 else {}
    fejlkode = problem.get("fejlkode")
    headers = {name.lower(): value for name, value in entry["request"]["headers"].items()}
    request_id = headers.get("x-requestid") or problem.get("requestId")
    code = fejlkode if isinstance(fejlkode, int) else 0
    counted_as = f"{FORCED}{operation_id}" if entry.get("forced") else operation_id
    return (counted_as, response["status"], code), request_id


def _merged(received: list[dict[str, Any]]) -> dict[Outcome, dict[str, Any]]:
    """Each outcome's count (forced and natural together), how many were forced, and the last
    x-requestId (a natural one's first)."""
    got: dict[Outcome, dict[str, Any]] = {}
    for r in sorted(received, key=lambda r: r["operationId"].startswith(FORCED)):
        forced = r["operationId"].startswith(FORCED)
        operation_id = r["operationId"].removeprefix(FORCED)
        key = (operation_id, r["status"], r["fejlkode"])
        row = got.setdefault(key, {**r, "operationId": operation_id, "count": 0, "forced": 0})
        row["count"] += r["count"]
        row["forced"] += r["count"] if forced else 0
        row["lastRequestId"] = row["lastRequestId"] or r["lastRequestId"]
    return got


def _problem(response: dict[str, Any]) -> dict[str, Any]:
    """A refusal's Problem body, or {} when the body is not one (or was cut short)."""
    try:
        body = json.loads(response.get("body") or "null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def report(sandbox: str, received: list[dict[str, Any]], fixtures: Fixtures) -> dict[str, Any]:
    """Each business operation's documented outcomes, exercised or not (with the count and last
    x-requestId, or how to trigger it), what else the sandbox got, and the totals."""
    got = _merged(received)
    triggers = {
        (e["operationId"], e["status"], e["fejlkode"]): e["trigger"]
        for e in catalogue.entries(fixtures)
    }
    # the sandbox's client (its key is "client" or "client/x-mock-sandbox")
    client = next(
        (c for c in fixtures.clients if c["client_id"] == sandbox.partition("/")[0]), None
    )
    operations, documented_keys = [], set()
    for operation in spec.operations(spec.BUSINESS).values():
        outcomes = []
        for status, codes in sorted(operation.star_fejlkoder_by_status().items()):
            for code in codes or [0]:
                key = (operation.operation_id, status, code)
                documented_keys.add(key)
                trigger = triggers.get(key)
                if client is not None:
                    trigger = own_trigger(operation, status, client) or trigger
                outcomes.append(_outcome(operation, key, got.get(key), trigger))
        exercised = sum(o["exercised"] for o in outcomes)
        natural = sum(o["exercisedNaturally"] for o in outcomes)
        operations.append(
            {
                "operationId": operation.operation_id,
                "method": operation.method.upper(),
                "path": operation.path,
                "documented": len(outcomes),
                "exercised": exercised,
                "exercisedNaturally": natural,
                "outcomes": outcomes,
            }
        )
    undocumented = [
        {**_public(r), "count": r["count"], "lastRequestId": r["lastRequestId"]}
        for key, r in sorted(got.items())
        if key not in documented_keys
    ]
    return {
        "sandbox": sandbox,
        "totals": _totals(operations, sum(r["count"] for r in received)),
        "operations": operations,
        "undocumented": undocumented,
    }


def own_trigger(
    operation: spec.Operation, status: int, client: dict[str, Any]
) -> dict[str, Any] | None:
    """How the sandbox's own client triggers a refusal that the catalogue gives another
    client for: a 401 with a token of its own for another audience, a 403 with a token
    without the operation's scope (where the client holds another scope to ask for)."""
    client_id = client["client_id"]
    if status == 401:
        return {
            "kind": "token",
            "client_id": client_id,
            "reason": "a token of the client for another audience",
            "audience": OTHER_AUDIENCE,
            "command": f"jobagent-mock token --client {client_id} --audience {OTHER_AUDIENCE}",
        }
    if status != 403:
        return None
    allowed = operation.spec.get("x-allowed-organisations")
    if allowed is not None and client["organisationType"] not in allowed:
        return {"kind": "token", "client_id": client_id, "reason": "any token of the client"}
    needed = {s for r in operation.spec.get("security", []) for s in r.get("oauth2", [])}
    aliases = spec.scope_aliases()
    kept = [
        scope
        for scope in client["scopes"]
        if scope not in needed and not needed & set(aliases.get(scope, []))
    ]
    if not kept:
        return None
    return {
        "kind": "token",
        "client_id": client_id,
        "reason": f"a token of the client without {' '.join(sorted(needed))}",
        "scope": " ".join(kept),
        "command": f"jobagent-mock token --client {client_id} --scope '{' '.join(kept)}'",
    }


def _totals(operations: list[dict[str, Any]], requests: int) -> dict[str, Any]:
    documented = sum(o["documented"] for o in operations)
    exercised = sum(o["exercised"] for o in operations)
    natural = sum(o["exercisedNaturally"] for o in operations)
    return {
        "documented": documented,
        "exercised": exercised,
        "percent": percent(exercised, documented),
        "exercisedNaturally": natural,
        "percentNatural": percent(natural, documented),
        "requests": requests,
    }


def percent(exercised: int, documented: int) -> float:
    return round(100 * exercised / documented, 1) if documented else 100.0


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Several sandboxes' reports (a suite's clients) as one: an outcome is exercised if any
    sandbox got it, counts add up, and a missing one says how the first sandbox triggers it."""
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    operations = []
    for index, operation in enumerate(first["operations"]):
        outcomes = []
        for place, outcome in enumerate(operation["outcomes"]):
            alike = [r["operations"][index]["outcomes"][place] for r in reports]
            got = [o for o in alike if o["exercised"]]
            merged = dict(outcome)
            if got:
                merged = {k: v for k, v in got[-1].items() if k not in ("howToTrigger", "trigger")}
                merged["count"] = sum(o["count"] for o in got)
                merged["forced"] = sum(o["forced"] for o in got)
                merged["exercisedNaturally"] = any(o["exercisedNaturally"] for o in got)
            outcomes.append(merged)
        operations.append(
            {
                **operation,
                "outcomes": outcomes,
                "exercised": sum(o["exercised"] for o in outcomes),
                "exercisedNaturally": sum(o["exercisedNaturally"] for o in outcomes),
            }
        )
    undocumented: dict[tuple[Any, ...], dict[str, Any]] = {}
    for found in reports:
        for row in found["undocumented"]:
            key = (row["operationId"], row["status"], row["fejlkode"])
            kept = undocumented.setdefault(key, {**row, "count": 0})
            kept["count"] += row["count"]
            kept["lastRequestId"] = row["lastRequestId"] or kept["lastRequestId"]
    return {
        "sandbox": ", ".join(r["sandbox"] for r in reports),
        "totals": _totals(operations, sum(r["totals"]["requests"] for r in reports)),
        "operations": operations,
        "undocumented": [undocumented[key] for key in sorted(undocumented)],
    }


def _public(received: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": received["operationId"],
        "status": received["status"],
        "fejlkode": received["fejlkode"] or None,
    }


def _outcome(
    operation: spec.Operation,
    key: Outcome,
    received: dict[str, Any] | None,
    trigger: dict[str, Any] | None,
) -> dict[str, Any]:
    _, status, code = key
    found: dict[str, Any] = {
        "status": status,
        "fejlkode": code or None,
        "description": _description(operation, status, code),
        "exercised": received is not None,
        "count": received["count"] if received else 0,
        "forced": received["forced"] if received else 0,
        "exercisedNaturally": received is not None and received["count"] > received["forced"],
        "lastRequestId": received["lastRequestId"] if received else None,
    }
    if not found["exercisedNaturally"]:
        found["howToTrigger"] = _in_words(trigger) if trigger else _how(status)
        if trigger:
            found["trigger"] = trigger
    return found


def _in_words(trigger: dict[str, Any]) -> str:
    """A trigger in words (Markdown): the catalogue's, or a token of the client's own."""
    if trigger["kind"] != "token":
        return catalogue.in_words(trigger)
    command = f": `{trigger['command']}`" if "command" in trigger else ""
    return f"{trigger['reason']} (`{trigger['client_id']}`){command}"


# how to get an answer the catalogue has no trigger for (it names fejlkoder): by its status
_HOW = {
    401: "send no Authorization header, or an expired or forged token",
    409: "create it again with the same identifier (a new x-requestId)",
    412: "send the same write again with the same x-requestId",
}


def _how(status: int) -> str:
    if 200 <= status < 300:
        return "a valid request for a citizen and data the rules accept (the request's example)"
    return _HOW.get(status, f"Prefer: code={status}, or a scenario's {{status: {status}}}")


def _description(operation: spec.Operation, status: int, code: int) -> str:
    """The fejlkode's fejltekst, or for an answer without one the contract's description."""
    if code:
        return spec.fejlkode_catalogue()[code][0]
    text = str(operation.responses[str(status)].get("description", ""))
    return " ".join(text.split())


def _missing(found: dict[str, Any], natural_only: bool = False) -> list[tuple[str, dict[str, Any]]]:
    exercised = "exercisedNaturally" if natural_only else "exercised"
    return [
        (operation["operationId"], outcome)
        for operation in found["operations"]
        for outcome in operation["outcomes"]
        if not outcome[exercised]
    ]


def _name(outcome: dict[str, Any]) -> str:
    code = f" fejlkode {outcome['fejlkode']}" if outcome["fejlkode"] else ""
    return f"{outcome['status']}{code}: {outcome['description']}"


def missing_lines(found: dict[str, Any], natural_only: bool = False) -> list[str]:
    """One line per documented outcome not exercised (by the rules alone: `natural_only`), with
    how to trigger it."""
    return [
        f"{operation_id} {_name(outcome)} (how: {outcome.get('howToTrigger', 'by the rules')})"
        for operation_id, outcome in _missing(found, natural_only)
    ]


def render(found: dict[str, Any], form: str, natural_only: bool = False) -> str:
    """The report as `json`, `md` (Markdown), `junit` (JUnit XML) or `html`; JUnit passes an
    outcome only the rules gave when `natural_only`."""
    if form == "junit":
        return _junit(found, natural_only)
    renderers = {"json": _json, "md": _markdown, "html": _html}
    return renderers[form](found)


def _json(found: dict[str, Any]) -> str:
    return json.dumps(found, indent=2, ensure_ascii=False)


def _summary(found: dict[str, Any]) -> str:
    totals = found["totals"]
    return (
        f"{totals['exercised']} of {totals['documented']} documented outcomes exercised "
        f"({totals['percent']} %; {totals['exercisedNaturally']} by the rules alone, "
        f"{totals['percentNatural']} %) by {totals['requests']} requests "
        f"in sandbox {found['sandbox']}"
    )


def _received(outcome: dict[str, Any], quote: str = "") -> str:
    """How often an outcome came (how many of them forced), and the last x-requestId that got
    it (a GET may send none)."""
    last = outcome["lastRequestId"]
    shown = f" (last x-requestId {quote}{last}{quote})" if last else ""
    count = outcome["count"]
    forced = f", {outcome['forced']} forced" if outcome["forced"] else ""
    return ("once" if count == 1 else f"{count} times") + forced + shown


def _markdown(found: dict[str, Any]) -> str:
    parts = [f"# Contract coverage\n\n{_summary(found)}.\n"]
    for operation in found["operations"]:
        rows = [
            f"| {o['status']} | {o['fejlkode'] or '–'} | {o['description'].replace('|', '/')} | "
            + (f"✅ {_received(o, '`')}" if o["exercised"] else f"❌ {o['howToTrigger']}")
            + " |"
            for o in operation["outcomes"]
        ]
        parts.append(
            f"## {operation['operationId']} ({operation['exercised']} of "
            f"{operation['documented']})\n\n| Status | Fejlkode | Meaning | Exercised |\n"
            "|---|---|---|---|\n" + "\n".join(rows) + "\n"
        )
    if found["undocumented"]:
        rows = [
            f"| {r['operationId']} | {r['status']} | {r['fejlkode'] or '–'} | {r['count']} |"
            for r in found["undocumented"]
        ]
        parts.append(
            "## Answers the contract does not document\n\n| Operation | Status | Fejlkode | "
            "Count |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
        )
    return "\n".join(parts)


def _junit(found: dict[str, Any], natural_only: bool = False) -> str:
    """One test case per documented outcome: passed when exercised (by the rules alone:
    `natural_only`), failed (saying how to trigger it) when not."""
    exercised = "exercisedNaturally" if natural_only else "exercised"
    suites = ElementTree.Element("testsuites", name="jobagent-mock contract coverage")
    for operation in found["operations"]:
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=operation["operationId"],
            tests=str(operation["documented"]),
            failures=str(operation["documented"] - operation[exercised]),
        )
        for outcome in operation["outcomes"]:
            case = ElementTree.SubElement(
                suite, "testcase", classname=operation["operationId"], name=_name(outcome)
            )
            if outcome[exercised]:
                ElementTree.SubElement(case, "system-out").text = f"received {_received(outcome)}"
            else:
                why = "only forced" if outcome["exercised"] else "not exercised"
                failure = ElementTree.SubElement(case, "failure", message=why)
                failure.text = f"How to trigger it: {outcome['howToTrigger']}"
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _html(found: dict[str, Any]) -> str:
    from markdown_it import MarkdownIt

    inline = MarkdownIt("commonmark").renderInline

    def cell(text: Any) -> str:
        return f"<td>{html.escape(str(text))}</td>"

    def markdown_cell(text: str) -> str:  # a trigger, a description: Markdown (`code`)
        return f"<td>{inline(text)}</td>"

    sections = []
    for operation in found["operations"]:
        rows = "".join(
            f'<tr class="{"exercised" if o["exercised"] else "missing"}">'
            + cell(o["status"])
            + cell(o["fejlkode"] or "–")
            + markdown_cell(o["description"])
            + (
                cell(f"yes, {_received(o)}")
                if o["exercised"]
                else markdown_cell(f"no: {o['howToTrigger']}")
            )
            + "</tr>"
            for o in operation["outcomes"]
        )
        sections.append(
            f"<h2>{html.escape(operation['operationId'])} "
            f"<small>{operation['method']} {html.escape(operation['path'])}: "
            f"{operation['exercised']} of {operation['documented']}</small></h2>"
            "<table><tr><th>Status</th><th>Fejlkode</th><th>Meaning</th><th>Exercised</th></tr>"
            f"{rows}</table>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contract coverage'
        "</title><style>body{font-family:sans-serif;max-width:72em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
        ".exercised{background:#e6f4e6}.missing{background:#fbeaea}</style></head><body>"
        f"<h1>Contract coverage</h1><p>{html.escape(_summary(found))}. Each row is an answer "
        "the contract documents; a red one says how to trigger it (see also "
        '<a href="/__admin/fejlkoder">/__admin/fejlkoder</a>).</p>'
        + "".join(sections)
        + "</body></html>"
    )
