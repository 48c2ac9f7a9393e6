"""A sustained run against a live mock (memory store) leaves its memory where the first run put
it: new sandbox names past the cap (429, issue 23), oversized headers and full journals cost
nothing more once the caps are reached (issue 14: 100 GETs with a 1 MB header had added 100 MB)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import token_for
from tests.servers import free_port, start_mock, stop

MAX_SANDBOXES = 20


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def a_run(client: httpx.Client, first: int, count: int) -> None:
    """`count` requests, each in a sandbox never used before, with 20 KB of headers; and every
    fiftieth with a 1 MB header, which is refused."""
    for n in range(first, first + count):
        headers = {"x-mock-sandbox": f"run-{n}", "x-civilRegistrationIdentifier": "1507851234"}
        headers["x-padding"] = "p" * (20 * 1024)
        expected = 200 if n < MAX_SANDBOXES else 429  # past the cap: refused, nobody dropped
        assert client.get("/v1/Jobagent", headers=headers).status_code == expected
        if n % 50 == 0:
            headers["x-padding"] = "p" * (1024 * 1024)
            assert client.get("/v1/Jobagent", headers=headers).status_code == 431


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
@pytest.mark.slow
def test_memory_stays_bounded_under_a_sustained_run() -> None:
    port = free_port()
    server = start_mock("memory", 1, port, "k" * 32, "--max-sandboxes", str(MAX_SANDBOXES))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {token_for(client, 'star-jobnet')}"
            a_run(client, 0, 1000)  # every cap reached, the allocator warmed up
            settled = rss_kib(server.pid)
            a_run(client, 1000, 2000)
            grown = rss_kib(server.pid) - settled
            refused = client.get("/__admin/requests", headers={"x-mock-sandbox": "run-2999"})
            assert refused.json() == {"requests": [], "count": 0}  # never made
            kept = client.get("/__admin/requests", headers={"x-mock-sandbox": "run-0"})
            assert kept.json()["requests"]  # never evicted: its GET and its 431
    finally:
        stop(server)
    # without the cap this run adds about 2,000 x (7 KB sandbox + 25 KB journal entry) = 60 MB
    assert grown < 8 * 1024, f"the second run added {grown} KiB"
