"""Control-plane operations (openapi/admin.yaml, mounted under /__admin)."""

from datetime import date, datetime
from typing import Any

from jobagent_mock.contract import catalogue, changelog, coverage
from jobagent_mock.foundations.errors import NOT_AUTHORIZED, Forbidden
from jobagent_mock.journal import drift
from jobagent_mock.web.context import (
    SANDBOX_HEADER,
    current,
    engine,
    prefers_html,
    sandbox,
    sandbox_key,
    token_info,
)
from jobagent_mock.web.responses import Answer, empty, html_body, json_body

ADMIN_SCOPE = "mock.admin"


def get_health() -> Answer:
    engine().store.check()  # a store that cannot be reached: 503, naming it
    upstream = engine().upstream
    dropped = engine().control.dropped_entries()
    shown = {"upstream": upstream.health()} if upstream else {}
    return json_body({"status": "ok", "journalDropped": dropped, **shown})


def get_drift() -> Answer:
    upstream = engine().upstream
    return json_body(drift.report(engine().store.drift(), upstream.shown if upstream else None))


def get_drift_requests() -> Answer:
    unverified = sandbox_key(None, current().headers.get(SANDBOX_HEADER))
    return json_body(engine().control.requests(unverified))


def get_personas() -> Answer:
    return json_body(engine().fixtures.personas)


def post_reset(scope: str = "sandbox") -> Answer:
    if scope == "all" and ADMIN_SCOPE not in token_info().get("scope", []):
        raise Forbidden(NOT_AUTHORIZED, f"Resetting every sandbox needs {ADMIN_SCOPE}.")
    engine().control.reset(None if scope == "all" else sandbox())
    return empty(204)


def get_requests(
    operation_id: str | None = None,
    status: int | None = None,
    since: str | None = None,
    until: str | None = None,
    fejlkode: int | None = None,
    cpr: str | None = None,
    scenario: str | None = None,
) -> Answer:
    found = engine().control.requests(
        sandbox(), operation_id, status, since, until, fejlkode, cpr, scenario
    )
    return json_body(found)


def post_scenarios(body: dict[str, Any]) -> Answer:
    created = engine().control.add_scenario(sandbox(), body)
    return json_body(created, 201, {"Location": f"/__admin/scenarios/{created['id']}"})


def get_scenarios() -> Answer:
    return json_body({"scenarios": engine().control.scenarios(sandbox())})


def get_scenario(id_: str) -> Answer:
    return json_body(engine().control.scenario(sandbox(), id_))


def delete_scenario(id_: str) -> Answer:
    engine().control.delete_scenario(sandbox(), id_)
    return empty(204)


def delete_requests() -> Answer:
    engine().control.clear_requests(sandbox())
    return empty(204)


def get_clock() -> Answer:
    return json_body(engine().control.clock(sandbox()))


def put_clock(body: dict[str, Any]) -> Answer:
    now = datetime.fromisoformat(body["now"]) if "now" in body else None
    return json_body(engine().control.change_clock(sandbox(), now, body.get("advanceSeconds")))


def delete_clock() -> Answer:
    return json_body(engine().control.release_clock(sandbox()))


def get_fejlkoder() -> Answer:
    return json_body(catalogue.entries(engine().fixtures))


def get_changelog() -> Answer:
    return json_body(changelog.served())


def get_coverage() -> Answer:
    found = engine().control.coverage(sandbox(), engine().fixtures)
    if prefers_html(current().headers.get("accept", "")):
        return html_body(coverage.render(found, "html"))
    return json_body(found)


def get_slots(moedetilbud_id: str, from_: str | None = None, to: str | None = None) -> Answer:
    first, last = (date.fromisoformat(d) if d else None for d in (from_, to))
    return json_body(engine().free_slots(sandbox(), moedetilbud_id, first, last))
