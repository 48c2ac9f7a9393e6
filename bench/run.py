"""`make bench`: jobagent-mock against Prism and connexion's mock mode, one at a time on loopback,
driven by wrk on GetJobagent, GetJobagenter and CreateJobagent; writes bench/results.md.

Prism and connexion's mock answer from examples and keep no state; jobagent-mock validates,
authenticates, stores and journals. The figures compare what all of them can do: answer these
requests. The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
PRISM = BENCH / "node_modules" / ".bin" / "prism"
PRISM_VERSION = "5.14.2"
OWNER, OWNED = "2208921234", "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"
CITIZEN = "1507851234"
REDIS_PORT = "8306"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


@dataclass
class Result:
    server: str
    operation: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--only",
        default="",
        help="measure only the servers whose name contains this (Prism, the yardstick, always)",
    )
    args = parser.parse_args()
    _require("wrk")
    _install_prism()
    results: list[Result] = []
    startups: dict[str, float] = {}
    redis = _start_redis()
    with tempfile.TemporaryDirectory() as scratch:
        for name, command, port in _servers(Path(scratch), redis is not None):
            if args.only not in name and not name.startswith("Prism"):
                continue
            process, started = _start(command, port, name)
            startups[name] = started
            try:
                token = _token(name, port)
                results += _measure(name, port, token, args.seconds, args.connections)
            finally:
                _stop(process)
    if redis is not None:
        _stop(redis)
    report = _report(results, startups, args)
    if not args.only:  # results.md holds a whole run, every server measured side by side
        (BENCH / "results.md").write_text(report, encoding="utf-8")
    print(report)  # noqa: T201
    return 0


def _servers(scratch: Path, with_redis: bool) -> list[tuple[str, list[str], int]]:
    mock = [str(VENV_BIN / "jobagent-mock"), "serve", "--host", "127.0.0.1"]
    redis = [
        (
            "jobagent-mock, 2 workers, Redis",
            [*mock, "--port", "8305", "--workers", "2", "--store", REDIS_URL],
            8305,
        )
    ]
    return [
        (
            "Prism 5",
            [
                str(PRISM),
                "mock",
                str(ROOT / "openapi" / "jobagent.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                "8301",
            ],
            8301,
        ),
        (
            "connexion mock",
            [
                str(VENV_BIN / "uvicorn"),
                "--factory",
                "bench.connexion_mock:create",
                "--host",
                "127.0.0.1",
                "--port",
                "8302",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            8302,
        ),
        ("jobagent-mock, 1 worker", [*mock, "--port", "8303"], 8303),
        (
            "jobagent-mock, 1 worker, no fast lane",
            [*mock, "--port", "8307", "--no-fast-lane"],
            8307,
        ),
        (
            "jobagent-mock, 2 workers, SQLite",
            [
                *mock,
                "--port",
                "8304",
                "--workers",
                "2",
                "--store",
                f"sqlite:{scratch / 'bench.db'}",
            ],
            8304,
        ),
        *(redis if with_redis else []),
    ]


def _start_redis() -> subprocess.Popen[bytes] | None:
    """A throw-away Redis from Debian's package, if there is one (else that row is left out)."""
    program = shutil.which("redis-server")
    if program is None:
        return None
    command = [
        program,
        "--port",
        REDIS_PORT,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.5)
    return process


def _start(command: list[str], port: int, name: str) -> tuple[subprocess.Popen[bytes], float]:
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    probe = f"http://127.0.0.1:{port}" + ("/__admin/health" if "jobagent" in name else "/ui/")
    if name.startswith("Prism"):
        probe = f"http://127.0.0.1:{port}/v1/Jobagent"
    for _ in range(600):
        try:
            httpx.get(probe, timeout=1)
            return process, time.perf_counter() - began
        except httpx.HTTPError:
            time.sleep(0.05)
    _stop(process)
    raise SystemExit(f"{name} did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _token(name: str, port: int) -> str:
    if "jobagent" not in name:
        return "any-token"  # the others check only that a bearer token is present
    answer = httpx.post(
        f"http://127.0.0.1:{port}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "star-jobnet",
            "client_secret": "star-jobnet-secret",
        },
    )
    return str(answer.json()["access_token"])


def _measure(name: str, port: int, token: str, seconds: int, connections: int) -> list[Result]:
    base = f"http://127.0.0.1:{port}"
    auth = ["-H", f"Authorization: Bearer {token}"]
    cases = [
        (
            "GetJobagent",
            [*auth, "-H", f"x-civilRegistrationIdentifier: {OWNER}", f"{base}/v1/Jobagent/{OWNED}"],
        ),
        (
            "GetJobagenter",
            [*auth, "-H", f"x-civilRegistrationIdentifier: {OWNER}", f"{base}/v1/Jobagent"],
        ),
        (
            "CreateJobagent",
            [
                *auth,
                "-H",
                f"x-civilRegistrationIdentifier: {CITIZEN}",
                "-s",
                str(BENCH / "create.lua"),
                f"{base}/v1/Jobagent",
            ],
        ),
    ]
    results = []
    for operation, target in cases:
        _wrk(2, connections, target)  # warm-up
        results.append(_parse(name, operation, _wrk(seconds, connections, target)))
    return results


def _wrk(seconds: int, connections: int, target: list[str]) -> str:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *target]
    return subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout


def _parse(name: str, operation: str, output: str) -> Result:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(
        name,
        operation,
        rate,
        _latency(output, "50%"),
        _latency(output, "99%"),
        int(errors.group(1)) if errors else 0,
    )


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _report(results: list[Result], startups: dict[str, float], args: argparse.Namespace) -> str:
    prism = {r.operation: r for r in results if r.server.startswith("Prism")}
    lines = [
        "# Benchmark: jobagent-mock, Prism and connexion's mock mode",
        "",
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {_machine()}.",
        f"wrk, 1 thread, {args.connections} connections, {args.seconds} s per figure after a 2 s "
        "warm-up, servers one at a time on 127.0.0.1; wrk shares the cores with the server.",
        "",
        "Prism and connexion's mock answer examples and keep no state; jobagent-mock checks a "
        "signed token, the organisation and scope, validates the request, runs the rules, "
        "stores, and journals every request. Same contract, same requests.",
        "",
        "jobagent-mock serves a valid business request in its fast lane (web/fast_lane.py), "
        "without connexion's per-request stack; 'no fast lane' sends every request through "
        "that stack, as connexion's mock does. The answers are the same either way "
        "(tests/integration/test_fast_lane.py).",
        "",
        "| Server | Operation | req/s | × Prism | p50 ms | × Prism | p99 ms | × Prism | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base = prism[r.operation]
        lines.append(
            f"| {r.server} | {r.operation} | {r.requests_per_second:.0f} | "
            f"{r.requests_per_second / base.requests_per_second:.2f} | {r.p50_ms:.1f} | "
            f"{r.p50_ms / base.p50_ms:.2f} | {r.p99_ms:.1f} | {r.p99_ms / base.p99_ms:.2f} | "
            f"{r.errors} |"
        )
    lines += ["", "Start-up, from launch to the first answer:", ""]
    lines += [f"- {name}: {seconds:.2f} s" for name, seconds in startups.items()]
    lines += [
        "",
        "Targets (issue: GetJobagent at least 1.5 × Prism's req/s with p99 no higher; "
        "CreateJobagent at least Prism's req/s; start-up under 1.5 s):",
        "",
    ]
    lines += _verdicts(results, startups, prism)
    lines += [
        "",
        "A non-2xx count is an answer that is not the operation's success: connexion's "
        "mock mode answers 500 to the GETs of this contract (it cannot choose between its "
        "application/json and application/problem+json answers).",
    ]
    return "\n".join(lines) + "\n"


def _verdicts(
    results: list[Result], startups: dict[str, float], prism: dict[str, Result]
) -> list[str]:
    lines = []
    for r in results:
        if not r.server.startswith("jobagent-mock") or r.operation == "GetJobagenter":
            continue
        base = prism[r.operation]
        ratio = r.requests_per_second / base.requests_per_second
        wanted = 1.5 if r.operation == "GetJobagent" else 1.0
        met = ratio >= wanted and (r.operation != "GetJobagent" or r.p99_ms <= base.p99_ms)
        lines.append(
            f"- {r.server}, {r.operation}: {ratio:.2f} × Prism, p99 "
            f"{r.p99_ms:.0f} ms against {base.p99_ms:.0f} ms: "
            f"{'met' if met else 'not met'}"
        )
    for name, seconds in startups.items():
        if name.startswith("jobagent-mock"):
            lines.append(
                f"- {name}, start-up {seconds:.2f} s: {'met' if seconds < 1.5 else 'not met'}"
            )
    return lines


def _machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def _require(program: str) -> None:
    if shutil.which(program) is None:
        raise SystemExit(f"bench needs {program}: apt-get install {program}")


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
