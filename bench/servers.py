"""The servers `make bench` measures, each with its flags and why, and how one is started,
probed and stopped: Prism and connexion's mock in their fastest documented configurations, the
bare-ASGI ceiling, and jobagent-mock on each store, on one host or two."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import BENCH, ROOT

VENV_BIN = Path(sys.executable).parent
PRISM = BENCH / "node_modules" / ".bin" / "prism"
PRISM_VERSION = "5.14.2"
SIGNING_KEY = "bench-signing-key-shared-by-every-host"


@dataclass(frozen=True)
class Place:
    """Where an instance runs: a command prefix (`ip netns exec NS`) and the address it binds."""

    prefix: tuple[str, ...] = ()
    address: str = "127.0.0.1"


@dataclass(frozen=True)
class Setting:
    """What every server's command may need: a scratch folder, the Redis URLs, the ceiling's
    answer, and the places of two hosts."""

    scratch: Path
    redis_local: str  # the fastest way to the local Redis (a unix socket)
    redis_for_hosts: list[str]  # per host, Redis as that host reaches it (TCP)
    hosts: list[Place]
    ceiling_answer: Path


@dataclass(frozen=True)
class Server:
    name: str
    why: str  # its flags, and why they are its fastest
    # place, port, setting -> the command of one instance
    command: Callable[[Place, int, Setting, int], list[str]]
    kind: str = "mock"  # "peer", "ceiling" or "mock"
    probe: str = "/__admin/health"
    instances: int = 1  # two: two hosts, measured together
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Running:
    processes: list[subprocess.Popen[bytes]]
    bases: list[str]
    started_seconds: float


def mock_command(*flags: str) -> Callable[[Place, int, Setting, int], list[str]]:
    def command(place: Place, port: int, setting: Setting, index: int) -> list[str]:
        store_flags = [
            f.format(
                scratch=setting.scratch,
                redis_local=setting.redis_local,
                redis_for_host=setting.redis_for_hosts[index],
            )
            for f in flags
        ]
        return [
            *place.prefix,
            str(VENV_BIN / "jobagent-mock"),
            "serve",
            "--host",
            place.address,
            "--port",
            str(port),
            "--signing-key",
            SIGNING_KEY,
            *store_flags,
        ]

    return command


def _prism(*flags: str) -> Callable[[Place, int, Setting, int], list[str]]:
    def command(place: Place, port: int, _setting: Setting, _index: int) -> list[str]:
        document = str(ROOT / "openapi" / "jobagent.yaml")
        return [str(PRISM), "mock", *flags, document, "-h", place.address, "-p", str(port)]

    return command


def _connexion(place: Place, port: int, _setting: Setting, _index: int) -> list[str]:
    return [
        str(VENV_BIN / "uvicorn"),
        "--factory",
        "bench.connexion_mock:create",
        "--host",
        place.address,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _proxied(_place: Place, port: int, _setting: Setting, _index: int) -> list[str]:
    return [sys.executable, "-m", "bench.proxied", str(port), SIGNING_KEY]


def _ceiling(_place: Place, port: int, setting: Setting, _index: int) -> list[str]:
    return [sys.executable, "-m", "bench.ceiling", str(setting.ceiling_answer), str(port)]


def _granian(app: str) -> Callable[[Place, int, Setting, int], list[str]]:
    """granian serving `app` (a factory), as the candidate server stack: one worker, HTTP/1,
    uvloop, its own access log off (the mock's is on, as under `serve`)."""

    def command(place: Place, port: int, setting: Setting, _index: int) -> list[str]:
        return [
            *place.prefix,
            "env",
            f"BENCH_CEILING_ANSWER={setting.ceiling_answer}",
            str(VENV_BIN / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            place.address,
            "--port",
            str(port),
            "--workers",
            "1",
            "--http",
            "1",
            "--no-ws",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            app,
        ]

    return command


SERVERS = [
    Server(
        "Prism 5",
        "`prism mock -m -v warn`, NODE_ENV=production: Prism's CLI documentation says log "
        "processing slows it down significantly and to fork the server (`-m`, multiprocess); "
        "`-v warn` logs no line per request; static examples (no `-d`)",
        _prism("-m", "-v", "warn"),
        kind="peer",
        probe="/v1/Jobagent",
        environment={"NODE_ENV": "production"},
    ),
    Server(
        "Prism 5, -m, info log",
        "`prism mock -m` with its default log level (info: a line per request), as issue 17 "
        "measured it: for comparison only, the targets are against the row above",
        _prism("-m"),
        kind="peer",
        probe="/v1/Jobagent",
        environment={"NODE_ENV": "production"},
    ),
    Server(
        "connexion mock",
        "connexion's `--mock=all` engine (AsyncApp, MockResolver) under uvicorn without the "
        "access log and reloader `connexion run` cannot turn off (bench/connexion_mock.py)",
        _connexion,
        kind="peer",
        probe="/ui/",
    ),
    Server(
        "ceiling (bare ASGI)",
        "a bare ASGI app on the same uvicorn, uvloop, httptools and the mock's own protocol "
        "(web/connections.py), answering the mock's own GetJobagent answer (status, headers, "
        "body) to every request (bench/ceiling.py)",
        _ceiling,
        kind="ceiling",
        probe="/",
    ),
    Server(
        "ceiling (bare ASGI), granian",
        "the same ceiling app under granian (`--interface asgi`, one worker, HTTP/1, uvloop): "
        "the candidate server stack of issue 27, beside uvicorn's",
        _granian("bench.ceiling:from_environment"),
        kind="ceiling",
        probe="/",
    ),
    Server("jobagent-mock, 1 worker", "`serve` (memory store, fast lane)", mock_command()),
    Server(
        "jobagent-mock, 1 worker, granian",
        "the same app (`jobagent_mock.app:app_from_environment`, memory store, fast lane, "
        "access log) under granian instead of `serve`'s uvicorn: for the choice of server "
        "stack only (it keeps neither deadline's 408 nor the connection cap: ARCHITECTURE.md)",
        _granian("jobagent_mock.app:app_from_environment"),
        environment={
            "JOBAGENT_MOCK_SIGNING_KEY": SIGNING_KEY,
            "JOBAGENT_MOCK_ACCESS_LOG": "1",
        },
    ),
    Server(
        "jobagent-mock, 1 worker, no fast lane",
        "`serve --no-fast-lane`: every request through connexion's stack",
        mock_command("--no-fast-lane"),
    ),
    Server(
        "jobagent-mock, 2 workers, SQLite",
        "`serve --workers 2 --store sqlite:PATH`",
        mock_command("--workers", "2", "--store", "sqlite:{scratch}/bench.db"),
    ),
    Server(
        "jobagent-mock, 2 workers, Redis",
        "`serve --workers 2 --store unix://…`: Redis on this host, reached by its unix socket",
        mock_command("--workers", "2", "--store", "{redis_local}"),
    ),
    Server(
        "jobagent-mock proxy, local upstream",
        "`serve --upstream URL` (memory store, 1 worker) in front of another `serve` on this "
        "host (bench/proxied.py): each request forwarded, checked both ways (the mock's own "
        "validators), answered as the upstream sent it; the two share the cores with wrk",
        _proxied,
    ),
    Server(
        "jobagent-mock, 2 hosts, Redis",
        "two `serve` instances (one worker each) as two hosts, one Redis over TCP, one signing "
        "key; wrk drives both at once, half the connections each",
        mock_command("--store", "{redis_for_host}"),
        instances=2,
    ),
]


def start(server: Server, setting: Setting) -> Running:
    """Launch the server's instances, and wait until each answers: the start-up is the time
    from launch to the last instance's first answer."""
    places = setting.hosts if server.instances > 1 else [Place()]
    began = time.perf_counter()
    processes, bases = [], []
    for index, place in enumerate(places):
        port = free_port() if not place.prefix else 8080  # a namespace's ports are its own
        processes.append(
            subprocess.Popen(
                server.command(place, port, setting, index),
                cwd=ROOT,
                env={**os.environ, **server.environment},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        bases.append(f"http://{place.address}:{port}")
    try:
        for base in bases:
            _wait_for(base + server.probe, server.name)
    except BaseException:
        stop(processes)
        raise
    return Running(processes, bases, time.perf_counter() - began)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def token(server: Server, base: str) -> str:
    if server.kind != "mock":
        return "any-token"  # the peers check only that a bearer token is there
    answer = httpx.post(
        f"{base}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "star-jobnet",
            "client_secret": "star-jobnet-secret",
        },
    )
    return str(answer.json()["access_token"])


def _wait_for(url: str, name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.02)
    raise SystemExit(f"{name} did not start")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
