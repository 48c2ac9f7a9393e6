"""wrk runs: one figure (req/s, p50, p99, answers that were not the operation's success) from one
or several servers at once, and the median of several runs with its spread."""

from __future__ import annotations

import re
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench import BENCH

OWNER, OWNED = "2208921234", "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"
CITIZEN = "1507851234"
OPERATIONS = ("GetJobagent", "GetJobagenter", "CreateJobagent")
# CreateJobagent in a sandbox of its own, with half the connections: alone, and while the other
# half hammer another sandbox with CreateJobagent (only the quiet sandbox's figure is kept)
QUIET, QUIET_BESIDE_BUSY = "CreateJobagent, quiet sandbox", "CreateJobagent, quiet beside busy"
SANDBOX_ROWS = (QUIET, QUIET_BESIDE_BUSY)
# what a ceiling answers: the mock's GetJobagent answer, and its CreateJobagent answer
CEILING_OPERATIONS = ("GetJobagent", "CreateJobagent")
# the body bench/create.lua sends, for the Python drivers (memory.py, profile.py)
CREATE_BODY = (
    (BENCH / "create.lua").read_text(encoding="utf-8").split("local body = '")[1].split("'\n")[0]
).encode()


@dataclass(frozen=True)
class Figure:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int


def target(
    operation: str, base: str, token: str, tag: str = "", sandbox: str | None = None
) -> list[str]:
    """wrk's arguments for one operation as the benchmark sends it; `tag` keeps the
    x-requestIds of several wrk at once apart; `sandbox` names an x-mock-sandbox."""
    auth = ["-H", f"Authorization: Bearer {token}"]
    if sandbox is not None:
        auth += ["-H", f"x-mock-sandbox: {sandbox}"]
    if operation == "GetJobagent":
        return [
            *auth,
            "-H",
            f"x-civilRegistrationIdentifier: {OWNER}",
            f"{base}/v1/Jobagent/{OWNED}",
        ]
    if operation == "GetJobagenter":
        return [*auth, "-H", f"x-civilRegistrationIdentifier: {OWNER}", f"{base}/v1/Jobagent"]
    if operation == "CreateJobagent":
        script = str(BENCH / "create.lua")
        return [
            *auth,
            "-H",
            f"x-civilRegistrationIdentifier: {CITIZEN}",
            "-s",
            script,
            f"{base}/v1/Jobagent",
            *(["--", tag] if tag else []),
        ]
    raise ValueError(operation)


def measure(targets: list[list[str]], seconds: int, connections: int) -> Figure:
    """One wrk per target, all at once, the connections shared out: their rates add up, the
    latencies are the worse of them."""
    share = max(1, connections // len(targets))
    with ThreadPoolExecutor(len(targets)) as pool:
        outputs = list(pool.map(lambda t: _wrk(seconds, share, t), targets))
    figures = [_parse(output) for output in outputs]
    return Figure(
        sum(f.requests_per_second for f in figures),
        max(f.p50_ms for f in figures),
        max(f.p99_ms for f in figures),
        sum(f.failures for f in figures),
    )


def measure_beside(
    quiet: list[list[str]], busy: list[list[str]], seconds: int, connections: int
) -> Figure:
    """`quiet` measured while `busy` runs at the same time on as many connections: the quiet
    targets' figure alone."""
    share = max(1, connections // (len(quiet) + len(busy)))
    with ThreadPoolExecutor(len(quiet) + len(busy)) as pool:
        outputs = list(pool.map(lambda t: _wrk(seconds, share, t), [*quiet, *busy]))
    figures = [_parse(output) for output in outputs[: len(quiet)]]
    return Figure(
        sum(f.requests_per_second for f in figures),
        max(f.p50_ms for f in figures),
        max(f.p99_ms for f in figures),
        sum(f.failures for f in figures),
    )


def median(runs: list[Figure]) -> Figure:
    return Figure(
        statistics.median(r.requests_per_second for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        max(r.failures for r in runs),
    )


def spread(values: list[float]) -> str:
    """The range of a figure over its runs, relative to the median: '±4%'."""
    middle = statistics.median(values)
    if middle == 0:
        return "–"
    return f"±{max(abs(v - middle) for v in values) / middle * 100:.0f}%"


def _wrk(seconds: int, connections: int, target: list[str]) -> str:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *target]
    return subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout


def _parse(output: str) -> Figure:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    failures = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Figure(
        rate,
        _latency(output, "50%"),
        _latency(output, "99%"),
        (int(failures.group(1)) if failures else 0)
        + (sum(int(n) for n in errors.groups()) if errors else 0),
    )


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
