"""`make bench`: jobagent-mock against Prism, connexion's mock mode and the bare-ASGI ceiling, on
one host and two, each in rounds, driven by wrk on GetJobagent, GetJobagenter and
CreateJobagent; then memory per job agent and per sandbox, and the profile. Prints the report,
each target met or not, and writes bench/results.md.

Prism and connexion's mock answer from examples and keep no state; jobagent-mock validates,
authenticates, stores and journals. The figures compare what all of them can do: answer these
requests. The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bench import BENCH, profile
from bench.hosts import Redis, redis, two_hosts
from bench.load import (
    CEILING_OPERATIONS,
    CREATE_BODY,
    OPERATIONS,
    OWNED,
    OWNER,
    QUIET,
    SANDBOX_ROWS,
    Figure,
    measure,
    measure_beside,
    target,
)
from bench.memory import measure as measure_memory
from bench.report import Run, markdown
from bench.servers import PRISM, PRISM_VERSION, SERVERS, Server, Setting, start, stop, token
from jobagent_mock.app import create_app

# the first warm-up after a start is longer: Prism's forked server (-m) and Node's JIT were
# still settling after 2 s (its first figure came out at a third of its second)
SETTLE_SECONDS = 3
# a run waits (at most this long) for the 1-minute load average to fall to QUIET_LOAD
QUIET_LOAD, QUIET_WAIT_SECONDS = 0.5, 120


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="per figure")
    parser.add_argument("--rounds", type=int, default=3, help="figures per figure's median")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warm-up", type=int, default=2, help="seconds before each figure")
    parser.add_argument(
        "--only",
        default="",
        help="measure only the servers whose name contains this (Prism and the ceiling always); "
        "skips memory and profile; results.md is left alone",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench needs wrk: apt-get install wrk")
    _install_prism()
    load_before = _wait_for_quiet()
    with tempfile.TemporaryDirectory() as folder, two_hosts() as network:
        scratch = Path(folder)
        with redis(scratch, network.gateways) as store:
            setting = Setting(
                scratch,
                store.unix_url if store else "",
                [store.url(g) for g in network.gateways] if store else [],
                network.hosts,
                ceiling_answer(scratch),
            )
            servers = [
                s
                for s in SERVERS
                if (args.only in s.name or s.kind != "mock") and (store or "Redis" not in s.name)
            ]
            figures: dict[tuple[str, str], list[Figure]] = {}
            startups: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for server in servers:
                    _round(server, setting, store, args, figures, startups)
            memory = [] if args.only else measure_memory(setting, store)
            profiles = (
                {}
                if args.only
                else profile.by_store(profile.stores_in(scratch, store.unix_url if store else None))
            )
    run = Run(
        args.rounds,
        args.seconds,
        args.connections,
        args.warm_up,
        figures,
        startups,
        network.namespaces,
        memory,
        profiles,
        f"Load average (1 min) {load_before} before the run (the run's own load lifts the "
        f"{_load()} after it): "
        + (
            "the machine was otherwise quiet."
            if float(load_before) <= QUIET_LOAD
            else f"still above {QUIET_LOAD} after {QUIET_WAIT_SECONDS} s of waiting: others' "
            "work shared the machine."
        ),
    )
    report = markdown(run)
    if not args.only:  # results.md holds a whole run, every server measured side by side
        (BENCH / "results.md").write_text(report, encoding="utf-8")
    print(report)  # noqa: T201
    return 0


def _round(
    server: Server,
    setting: Setting,
    store: Redis | None,
    args: argparse.Namespace,
    figures: dict[tuple[str, str], list[Figure]],
    startups: dict[str, list[float]],
) -> None:
    """Start the server afresh, measure each of its operations once, stop it."""
    for stale in setting.scratch.glob("bench.db*"):
        stale.unlink()
    if store is not None:
        store.flush()
    running = start(server, setting)
    startups.setdefault(server.name, []).append(running.started_seconds)
    try:
        bearer = token(server, running.bases[0])  # one host's token serves both
        operations = list(CEILING_OPERATIONS if server.kind == "ceiling" else OPERATIONS)
        if server.kind == "mock":
            operations += SANDBOX_ROWS
        for index, operation in enumerate(operations):
            settle = SETTLE_SECONDS if index == 0 else 0
            figure = _figure(operation, running.bases, bearer, args, settle)
            figures.setdefault((server.name, operation), []).append(figure)
            rate, p99 = figure.requests_per_second, figure.p99_ms
            print(  # noqa: T201
                f"{time.strftime('%H:%M:%S')} {server.name}, {operation}: {rate:.0f} req/s, "
                f"p99 {p99:.1f} ms",
                flush=True,
            )
    finally:
        stop(running.processes)


def _figure(
    operation: str, bases: list[str], bearer: str, args: argparse.Namespace, settle: int
) -> Figure:
    """One operation's figure after its warm-up; the sandbox rows measure a quiet sandbox on
    half the connections, alone or beside a busy one on the other half."""
    if operation not in SANDBOX_ROWS:
        targets = [target(operation, base, bearer, f"host{n}") for n, base in enumerate(bases)]
        measure(targets, args.warm_up + settle, args.connections)
        return measure(targets, args.seconds, args.connections)
    quiet = [
        target("CreateJobagent", base, bearer, f"quiet{n}", "quiet") for n, base in enumerate(bases)
    ]
    busy = [
        target("CreateJobagent", base, bearer, f"busy{n}", "busy") for n, base in enumerate(bases)
    ]
    if operation == QUIET:
        measure(quiet, args.warm_up + settle, args.connections // 2)
        return measure(quiet, args.seconds, args.connections // 2)
    measure_beside(quiet, busy, args.warm_up + settle, args.connections)
    return measure_beside(quiet, busy, args.seconds, args.connections)


def ceiling_answer(scratch: Path) -> Path:
    """The mock's GetJobagent answer and its CreateJobagent answer, as bench/ceiling.py sends
    them (uvicorn adds its own date and server headers)."""
    client = TestClient(create_app())
    form = {
        "grant_type": "client_credentials",
        "client_id": "star-jobnet",
        "client_secret": "star-jobnet-secret",
    }
    bearer = client.post("/connect/token", data=form).json()["access_token"]
    answer = client.get(
        f"/v1/Jobagent/{OWNED}",
        headers={"Authorization": f"Bearer {bearer}", "x-civilRegistrationIdentifier": OWNER},
    )
    assert answer.status_code == 200, answer.text
    created = client.post(
        "/v1/Jobagent",
        content=CREATE_BODY,
        headers={
            "Authorization": f"Bearer {bearer}",
            "x-civilRegistrationIdentifier": OWNER,
            "x-requestId": "ceiling",
            "Content-Type": "application/json",
        },
    )
    assert created.status_code == 201, created.text
    path = scratch / "ceiling-answer.json"
    path.write_text(
        json.dumps({**_as_sent(200, answer), "create": _as_sent(201, created)}), encoding="utf-8"
    )
    return path


def _as_sent(status: int, answer: Any) -> dict[str, Any]:
    """An answer as bench/ceiling.py sends it (the server adds its own date and server)."""
    headers = [(k, v) for k, v in answer.headers.items() if k not in ("date", "server")]
    return {"status": status, "headers": headers, "body": answer.text}


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _wait_for_quiet() -> str:
    """The load average once it has settled: it decays for minutes after a job ends, so a run
    started at once would report a busy machine, or share it with the end of that job."""
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    while float(_load()) > QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    return _load()


def _install_prism() -> None:
    if not PRISM.exists():
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--prefix",
                str(BENCH),
                f"@stoplight/prism-cli@{PRISM_VERSION}",
            ],
            check=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
