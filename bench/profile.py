"""`make profile`: where one worker's time goes on GetJobagent, in-process (no network, no load
generator), across the event loop and the thread Flask runs in. yappi, CPU clock."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import yappi
from starlette.testclient import TestClient

from jobagent_mock.web.app import create_app

PATH = "/v1/Jobagent/5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"
OWNER = b"2208921234"


def main(requests: int = 2000) -> int:
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
    headers = [
        (b"host", b"mock"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"x-civilregistrationidentifier", OWNER),
    ]
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_drive(app, headers, 200))  # warm-up
    began = time.perf_counter()
    loop.run_until_complete(_drive(app, headers, requests))
    elapsed = time.perf_counter() - began
    yappi.set_clock_type("cpu")
    yappi.start()
    loop.run_until_complete(_drive(app, headers, requests))
    yappi.stop()
    print(f"{elapsed / requests * 1000:.2f} ms a request without the profiler")  # noqa: T201
    stats = sorted(yappi.get_func_stats(), key=lambda s: -s.tsub)[:30]
    for stat in stats:
        where = stat.module.split("site-packages/")[-1]
        own, total = stat.tsub / requests * 1000, stat.ttot / requests * 1000
        print(f"{own:7.3f} ms own {total:7.3f} ms total  {where}:{stat.name}")  # noqa: T201
    return 0


async def _drive(app: Any, headers: list[tuple[bytes, bytes]], count: int) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("mock", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"GetJobagent answered {message['status']}")

    for _ in range(count):
        await app(dict(scope, state={}), receive, send)


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
