"""Memory per stored thing, for each store: the RSS a one-worker server gains per 10,000 job
agents (spread over 100 citizens of one sandbox) and per 1,000 sandboxes (each made by one
CreateJobagent, so holding the fixtures' job agents, that one and one journal entry); for the
shared stores also what the store itself gains (SQLite's files, Redis's used_memory)."""

from __future__ import annotations

import http.client
import itertools
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.hosts import Redis
from bench.load import CREATE_BODY
from bench.servers import Server, Setting, mock_command, start, stop, token

AGENTS, SANDBOXES = 10_000, 1_000
CLIENTS = 8
CITIZENS = [f"0101{year:02d}{serial:04d}" for year in range(60, 70) for serial in range(1000, 1010)]


@dataclass(frozen=True)
class Growth:
    store: str
    rss_per_agents_mb: float  # per AGENTS job agents
    rss_per_sandboxes_mb: float  # per SANDBOXES sandboxes
    store_per_agents_mb: float | None
    store_per_sandboxes_mb: float | None


# one client makes every sandbox measured: the caps (issue 23's, 100 a client) raised past them
CAPS = ("--max-sandboxes-per-client", "5000", "--max-sandboxes", "5000")
STORES = [
    ("memory", Server("memory", "", mock_command(*CAPS))),
    ("SQLite", Server("SQLite", "", mock_command(*CAPS, "--store", "sqlite:{scratch}/memory.db"))),
    ("Redis", Server("Redis", "", mock_command(*CAPS, "--store", "{redis_local}"))),
]


def measure(setting: Setting, redis: Redis | None) -> list[Growth]:
    grown = []
    for name, server in STORES:
        if name == "Redis" and redis is None:
            continue
        if redis is not None:
            redis.flush()
        running = start(server, setting)
        try:
            grown.append(
                _grow(
                    name,
                    running.bases[0],
                    token(server, running.bases[0]),
                    running.processes[0].pid,
                    setting,
                    redis,
                )
            )
        finally:
            stop(running.processes)
    return grown


def _grow(
    name: str, base: str, bearer: str, pid: int, setting: Setting, redis: Redis | None
) -> Growth:
    def in_one_sandbox(n: int) -> dict[str, str]:
        return {
            "x-civilRegistrationIdentifier": CITIZENS[n % len(CITIZENS)],
            "x-mock-sandbox": "bench",
        }

    def each_in_its_own(n: int) -> dict[str, str]:
        return {"x-civilRegistrationIdentifier": CITIZENS[0], "x-mock-sandbox": f"bench-{n}"}

    _creates(base, bearer, 500, in_one_sandbox, "warm")  # what the first requests build and cache
    rss, size = _rss(pid), _store_bytes(name, setting, redis)
    _creates(base, bearer, AGENTS, in_one_sandbox, "agents")
    rss_agents, size_agents = _rss(pid), _store_bytes(name, setting, redis)
    _creates(base, bearer, SANDBOXES, each_in_its_own, "sandboxes")
    rss_sandboxes, size_sandboxes = _rss(pid), _store_bytes(name, setting, redis)
    return Growth(
        name,
        _mb(rss_agents - rss),
        _mb(rss_sandboxes - rss_agents),
        None if size is None or size_agents is None else _mb(size_agents - size),
        None
        if size_agents is None or size_sandboxes is None
        else _mb(size_sandboxes - size_agents),
    )


def _creates(base: str, bearer: str, count: int, headers_of: object, run: str) -> None:
    """`count` CreateJobagent calls from CLIENTS keep-alive connections; each must be 201."""
    numbers = itertools.count()
    address = urlsplit(base)

    def client(_: int) -> None:
        connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=60)
        while (n := next(numbers)) < count:
            headers = {
                "Authorization": f"Bearer {bearer}",
                "Content-Type": "application/json",
                "x-requestId": f"memory-{run}-{n}",
                **headers_of(n),  # type: ignore[operator]
            }
            connection.request("POST", "/v1/Jobagent", CREATE_BODY, headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 201:
                raise SystemExit(f"CreateJobagent answered {answer.status} while measuring memory")
        connection.close()

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))


def _rss(pid: int) -> int:
    """The resident memory of the server and every process of its group, in bytes."""
    group = os.getpgid(pid)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            status = (entry / "status").read_text()
        except (OSError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _store_bytes(name: str, setting: Setting, redis: Redis | None) -> int | None:
    """What the store holds outside the server: SQLite's files, Redis's used_memory."""
    if name == "SQLite":
        return sum(p.stat().st_size for p in setting.scratch.glob("memory.db*"))
    if name == "Redis" and redis is not None:
        info = subprocess.run(
            ["redis-cli", "-s", str(redis.socket_path), "INFO", "memory"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(
            next(
                line.split(":")[1] for line in info.splitlines() if line.startswith("used_memory:")
            )
        )
    return None


def _mb(value: int) -> float:
    return value / 2**20
