"""`make profile`: where one worker's time goes on GetJobagent or CreateJobagent, in-process (no
network, no load generator), across the event loop and the thread Flask runs in. yappi, CPU
clock. `python -m bench.profile CreateJobagent 3000`."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from typing import Any

import yappi
from starlette.testclient import TestClient

from bench.run import BENCH, CITIZEN, OWNED, OWNER
from jobagent_mock.web.app import create_app

# the benchmark's own request body (bench/create.lua)
CREATE_BODY = (
    (BENCH / "create.lua").read_text(encoding="utf-8").split("local body = '")[1].split("'\n")[0]
).encode()
_request_ids = itertools.count()


def main(operation: str = "GetJobagent", requests: int = 2000) -> int:
    app = create_app()
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
    elapsed = time.perf_counter() - began
    yappi.set_clock_type("cpu")
    yappi.start()
    loop.run_until_complete(_drive(app, operation, token, requests))
    yappi.stop()
    print(f"{operation}: {elapsed / requests * 1000:.3f} ms a request without the profiler")  # noqa: T201
    stats = sorted(yappi.get_func_stats(), key=lambda s: -s.tsub)[:30]
    for stat in stats:
        where = stat.module.split("site-packages/")[-1]
        own, total = stat.tsub / requests * 1000, stat.ttot / requests * 1000
        print(f"{own:7.3f} ms own {total:7.3f} ms total  {where}:{stat.name}")  # noqa: T201
    return 0


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


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:2], *[int(n) for n in sys.argv[2:3]]))
