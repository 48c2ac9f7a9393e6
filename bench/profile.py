"""`make profile`: where one worker's time goes on GetJobagent or CreateJobagent, in-process (no
network, no load generator, no HTTP parsing: the ceiling row of `make bench` measures those),
across the event loop and the thread Flask runs in. yappi, CPU clock.
`python -m bench.profile CreateJobagent 3000`; `make bench` prints the same by area."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yappi
from starlette.testclient import TestClient

from bench import BENCH
from bench.load import CITIZEN, CREATE_BODY, OWNED, OWNER
from jobagent_mock.app import create_app

_request_ids = itertools.count()


# where a function's own time is counted, by where it is written (the first that matches)
AREAS = [
    (
        "token and scope (auth.py, web/security.py, PyJWT)",
        ("jobagent_mock/auth", "web/security", "jwt/"),
    ),
    ("journal (journal/, web/journal_middleware.py)", ("journal",)),
    ("store (stores/)", ("stores/",)),
    (
        "request checks (headers, body, contract)",
        (
            "web/validators",
            "web/contract_violations",
            "web/limits",
            "checks.py",
            "cpr.py",
            "<string>",
            "fastjsonschema",
            "jsonschema",
        ),
    ),
    (
        "rules, persons, readings",
        (
            "jobagenter",
            "tilmelding",
            "booking",
            "service",
            "persons",
            "occupations",
            "idempotency",
            "readings",
            "clock",
        ),
    ),
    ("request context, fast lane, Prefer, warnings", ("jobagent_mock/web/", "handlers/")),
    ("JSON (stdlib json)", ("json/",)),
    ("Redis client (redis-py, hiredis, sockets)", ("redis/", "hiredis", "selectors", "socket")),
    ("starlette, connexion, flask", ("starlette/", "connexion/", "flask/", "werkzeug/", "a2wsgi/")),
    ("asyncio, threads", ("asyncio/", "threading", "concurrent/")),
]


def main(operation: str = "GetJobagent", requests: int = 2000) -> int:
    elapsed, stats = _profiled(operation, requests)
    print(f"{operation}: {elapsed * 1000:.3f} ms a request without the profiler")  # noqa: T201
    for stat in sorted(stats, key=lambda s: -s.tsub)[:30]:
        where = stat.module.split("site-packages/")[-1]
        own, total = stat.tsub / requests * 1000, stat.ttot / requests * 1000
        print(f"{own:7.3f} ms own {total:7.3f} ms total  {where}:{stat.name}")  # noqa: T201
    return 0


def where_time_goes(
    operation: str, store: str | None = None, requests: int = 2000
) -> tuple[float, list[tuple[str, float]]]:
    """A request's time without the profiler (ms), and its CPU time by area (ms), largest first."""
    elapsed, stats = _profiled(operation, requests, store)
    areas: dict[str, float] = {}
    for stat in stats:
        area = next(
            (name for name, places in AREAS if any(p in stat.module for p in places)),
            "other (stdlib, re, contextlib, …)",
        )
        areas[area] = areas.get(area, 0.0) + stat.tsub / requests * 1000
    return elapsed * 1000, sorted(areas.items(), key=lambda item: -item[1])


def _profiled(operation: str, requests: int, store: str | None = None) -> tuple[float, Any]:
    """Seconds a request takes unprofiled, and yappi's function stats of `requests` more."""
    # the store may hold the memory measurement's thousand sandboxes of this client: caps past them
    app = create_app(store=store, max_sandboxes=5000, max_sandboxes_per_client=5000)
    token = (
        TestClient(app)
        .post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "star-jobnet",
                "client_secret": "star-jobnet-secret",
            },
        )
        .json()["access_token"]
    )
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_drive(app, operation, token, 200))  # warm-up
    began = time.perf_counter()
    loop.run_until_complete(_drive(app, operation, token, requests))
    elapsed = (time.perf_counter() - began) / requests
    yappi.clear_stats()
    yappi.set_clock_type("cpu")
    yappi.start()
    loop.run_until_complete(_drive(app, operation, token, requests))
    yappi.stop()
    loop.close()
    return elapsed, yappi.get_func_stats()


def _request(operation: str, token: str) -> tuple[dict[str, Any], bytes, int]:
    """The ASGI scope, body and expected status of one request, as the benchmark sends it."""
    headers = [(b"host", b"mock"), (b"authorization", f"Bearer {token}".encode())]
    if operation == "GetJobagent":
        path, method, body, status = f"/v1/Jobagent/{OWNED}", "GET", b"", 200
        headers.append((b"x-civilregistrationidentifier", OWNER.encode()))
    elif operation == "CreateJobagent":
        path, method, body, status = "/v1/Jobagent", "POST", CREATE_BODY, 201
        headers += [
            (b"x-civilregistrationidentifier", CITIZEN.encode()),
            (b"x-requestid", f"profile-{next(_request_ids)}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    else:
        raise SystemExit(f"profile knows GetJobagent and CreateJobagent, not {operation}")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("mock", 80),
        "state": {},
    }
    return scope, body, status


async def _drive(app: Any, operation: str, token: str, count: int) -> None:
    for _ in range(count):
        scope, body, status = _request(operation, token)

        async def receive(body: bytes = body) -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any], status: int = status) -> None:
            if message["type"] == "http.response.start" and message["status"] != status:
                raise SystemExit(f"{operation} answered {message['status']}")

        await app(scope, receive, send)


def by_store(
    stores: list[tuple[str, str | None]],
) -> dict[str, tuple[float, list[tuple[str, float]]]]:
    """where_time_goes for GetJobagent and CreateJobagent on each (name, store URL)."""
    return {
        f"{operation}, {name}": where_time_goes(operation, url)
        for name, url in stores
        for operation in ("GetJobagent", "CreateJobagent")
    }


def stores_in(scratch: Path, redis_url: str | None) -> list[tuple[str, str | None]]:
    """The stores the profile runs on, (name, URL): SQLite in `scratch`, Redis if given."""
    redis_row = [("Redis", redis_url)] if redis_url else []
    return [("memory", None), ("SQLite", f"sqlite:{scratch}/profile.db"), *redis_row]


def write_before(redis_url: str) -> None:
    """bench/profile_before.json: the profile by area as it stands, kept for the report's
    before-and-after (`python -m bench.profile --before redis://…`, before a change)."""
    with tempfile.TemporaryDirectory() as scratch:
        profiles = by_store(stores_in(Path(scratch), redis_url))
    text = json.dumps(profiles, indent=1)
    (BENCH / "profile_before.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--before"]:
        write_before(sys.argv[2])
        raise SystemExit(0)
    asked = sys.argv[1:]
    raise SystemExit(main(asked[0] if asked else "GetJobagent", *[int(n) for n in asked[1:2]]))
