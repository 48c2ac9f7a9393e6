"""bench/results.md from one `make bench` run: every figure the median of its runs with their
spread, as a fraction of the ceiling and as a multiple of Prism, and each target met or not."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import BENCH
from bench.load import OPERATIONS, QUIET, QUIET_BESIDE_BUSY, SANDBOX_ROWS, Figure, median, spread
from bench.memory import AGENTS, SANDBOXES, Growth
from bench.servers import SERVERS

PRISM, CEILING = "Prism 5", "ceiling (bare ASGI)"
ONE, SQLITE, REDIS, HOSTS = (
    "jobagent-mock, 1 worker",
    "jobagent-mock, 2 workers, SQLite",
    "jobagent-mock, 2 workers, Redis",
    "jobagent-mock, 2 hosts, Redis",
)
STARTUP_LIMIT_SECONDS = 1.5


@dataclass(frozen=True)
class Target:
    server: str
    operation: str
    measure: str  # "ceiling" (rate / ceiling's), "prism" (rate / Prism's), "p99" (Prism's / ours)
    at_least: float

    def describe(self) -> str:
        return {
            "ceiling": f"{self.operation} at least {self.at_least:.2f} of the ceiling",
            "prism": f"{self.operation} at least {self.at_least:g} × Prism's req/s",
            "p99": f"{self.operation} p99 at most half of Prism's",
            "quiet": f"a quiet sandbox's p99 beside a busy one at most {1 / self.at_least:g} × "
            "its p99 alone (twice the connections share the cores)",
        }[self.measure]


# issue 27's targets
TARGETS = [
    Target(ONE, "GetJobagent", "ceiling", 0.30),
    Target(ONE, "GetJobagent", "prism", 2.5),
    Target(ONE, "CreateJobagent", "prism", 2.0),
    Target(SQLITE, "GetJobagent", "prism", 2.0),
    Target(SQLITE, "CreateJobagent", "prism", 1.2),
    Target(REDIS, "GetJobagent", "prism", 1.5),
    Target(REDIS, "CreateJobagent", "prism", 1.0),
    Target(HOSTS, "GetJobagent", "prism", 1.5),
    Target(HOSTS, "CreateJobagent", "prism", 1.0),
    *[
        Target(server, operation, "p99", 2.0)
        for server in (ONE, SQLITE, REDIS, HOSTS)
        for operation in ("GetJobagent", "CreateJobagent")
    ],
    *[Target(server, QUIET_BESIDE_BUSY, "quiet", 0.5) for server in (ONE, SQLITE, REDIS, HOSTS)],
]


@dataclass
class Run:
    """Everything one `make bench` measured: per server and operation, one Figure per round."""

    rounds: int
    seconds: int
    connections: int
    warm_up: int
    figures: dict[tuple[str, str], list[Figure]]
    startups: dict[str, list[float]]
    namespaces: bool
    memory: list[Growth]
    profiles: dict[str, tuple[float, list[tuple[str, float]]]]
    shared_machine: str

    def ratios(self, server: str, operation: str, measure: str) -> list[float]:
        """The ratio in each round (each round measures every server once)."""
        ours = self.figures.get((server, operation), [])
        if measure == "quiet":  # the quiet sandbox's p99 alone over its p99 beside a busy one
            alone = self.figures.get((server, QUIET), [])
            return [a.p99_ms / o.p99_ms for o, a in zip(ours, alone, strict=False)]
        if measure == "ceiling":
            # the ceiling's answer to the same operation (GetJobagent's for the others)
            answered = "CreateJobagent" if operation in SANDBOX_ROWS else operation
            base = self.figures.get((CEILING, answered)) or self.figures.get(
                (CEILING, "GetJobagent"), []
            )
            return [
                o.requests_per_second / b.requests_per_second
                for o, b in zip(ours, base, strict=False)
            ]
        base = self.figures.get((PRISM, operation), [])
        if measure == "prism":
            return [
                o.requests_per_second / b.requests_per_second
                for o, b in zip(ours, base, strict=False)
            ]
        return [b.p99_ms / o.p99_ms for o, b in zip(ours, base, strict=False)]


def verdicts(run: Run) -> list[str]:
    lines = []
    for t in TARGETS:
        ratios = run.ratios(t.server, t.operation, t.measure)
        if not ratios:
            lines.append(f"- {t.server}, {t.describe()}: not measured")
            continue
        middle = statistics.median(ratios)
        shown = {
            "p99": f"Prism's p99 is {middle:.2f} × ours",
            "quiet": f"its p99 alone is {middle:.2f} × its p99 beside the busy one",
        }.get(t.measure, f"{middle:.2f}")
        lines.append(
            f"- {t.server}, {t.describe()}: {shown} (runs {_range(ratios)}): "
            f"**{_verdict(middle >= t.at_least)}**"
        )
    for name, seconds in run.startups.items():
        if name.startswith("jobagent-mock"):
            middle = statistics.median(seconds)
            lines.append(
                f"- {name}, start-up under {STARTUP_LIMIT_SECONDS} s: {middle:.2f} s "
                f"(runs {_range(seconds)}): **{_verdict(middle < STARTUP_LIMIT_SECONDS)}**"
            )
    met = sum(line.endswith("**met**") for line in lines)
    lines.append(f"- **{met} of {len(lines)} targets met**")
    return lines


def markdown(run: Run) -> str:
    lines = [
        "# Benchmark: jobagent-mock against Prism, connexion's mock and the bare-ASGI ceiling",
        "",
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {_machine()}. "
        + run.shared_machine,
        f"wrk, 1 thread, {run.connections} connections, {run.seconds} s per figure after a "
        f"{run.warm_up} s warm-up (a server's first, after its start, 3 s longer). "
        f"{run.rounds} rounds: each round starts every server afresh (a new SQLite file, an empty "
        "Redis) and measures it, one server at a time; every figure is the median of its "
        f"{run.rounds} rounds, and ± the largest distance of a round from it. A ratio (× ceiling, "
        "× Prism) is taken within each round and its median shown. wrk shares the cores with the "
        "server.",
        "",
        "Prism and connexion's mock answer examples and keep no state; jobagent-mock checks a "
        "signed token, the organisation and scope, validates the request, runs the rules, "
        "stores, and journals every request. Same contract, same requests. The ceiling answers "
        "the mock's GetJobagent answer (same status, headers and body) to everything: × ceiling "
        "is the share of the server stack's best rate a row reaches.",
        "",
        "## Each server's flags",
        "",
        *[f"- {s.name}: {s.why}" for s in SERVERS],
        "",
        "## Judgement calls",
        "",
        "- The ceiling runs on the mock's own protocol (web/connections.py: a deadline on each "
        "request's headers and body, an answer's head and body in one write), as `serve` does: "
        "what that protocol costs or saves is the server stack's, not the mock's.",
        "- A CreateJobagent row's × ceiling is against the ceiling's CreateJobagent rate (the "
        "mock's 201 with its Location header, sent to every POST); every other row's against "
        "its GetJobagent rate (a 200 with a job agent as JSON).",
        "- One busy sandbox beside a quiet one: 'CreateJobagent, quiet sandbox' sends "
        "CreateJobagent to a sandbox of its own on half the connections; 'quiet beside busy' "
        "does the same while the other half send CreateJobagent to another sandbox, and shows "
        "the quiet sandbox's figure only. Twice the connections then share the same cores, so "
        "its p99 may grow by up to twice with no sandbox waiting for another; a sandbox that "
        "stalled another's writes (a lock held across the process) would show far more.",
        "- The granian rows serve the same app under granian 2.8 instead of uvicorn, to choose "
        "the server stack by measurement (issue 27): granian does not keep every guarantee "
        "`serve` makes (ARCHITECTURE.md, 'The server stack'), so `serve` stays on uvicorn.",
        "- 'p99 at most half of Prism's' is held for GetJobagent and CreateJobagent alike.",
        "- Two workers on Redis reach it by its unix socket (a local Redis, as the issue "
        "suggests); the two hosts reach it over TCP through their links, as hosts would.",
        "- Each of the two hosts runs one worker, so the two together have the same two workers, "
        "on the same two cores, as the two-worker rows.",
        "- Prism's log level: its default (info) writes a line per request, which its parent "
        "process formats; `-v warn` writes none. Issue 17 measured `prism mock -m` at the default "
        "level; the targets are held here against the faster `-m -v warn` ('Prism 5'), and the "
        "'Prism 5, -m, info log' row shows the difference.",
        "- Prism gets no `--errors` (it would answer 422 where examples do not fit) and no `-d` "
        "(generated examples are slower); connexion's mock runs one uvicorn worker, as the mock's "
        "one-worker row does.",
        "",
        "## Throughput and latency",
        "",
        "| Server | Operation | req/s | ± | × ceiling | × Prism | p50 ms | p99 ms | p99 × Prism "
        "| non-2xx |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for server in SERVERS:
        for operation in (*OPERATIONS, *SANDBOX_ROWS):
            runs = run.figures.get((server.name, operation))
            if not runs:
                continue
            m = median(runs)
            ceiling = run.ratios(server.name, operation, "ceiling")
            prism = run.ratios(server.name, operation, "prism")
            p99 = [1 / r for r in run.ratios(server.name, operation, "p99")]
            lines.append(
                f"| {server.name} | {operation} | {m.requests_per_second:.0f} | "
                f"{spread([r.requests_per_second for r in runs])} | {_median(ceiling)} | "
                f"{_median(prism)} | {m.p50_ms:.1f} | {m.p99_ms:.1f} | {_median(p99)} | "
                f"{m.failures} |"
            )
    lines += [
        "",
        "A non-2xx count is an answer that is not the operation's success: connexion's mock mode "
        "answers 500 to the GETs of this contract (it cannot choose between its application/json "
        "and application/problem+json answers).",
        "",
        "Two hosts: "
        + (
            "two network namespaces made by the benchmark, each joined to this one by a veth "
            "link; each host runs `serve` with one worker and reaches Redis over its link."
            if run.namespaces
            else "network namespaces could not be made here (they need root), so the two hosts "
            "are two processes on different loopback ports."
        )
        + " Their aggregate rate is the sum of two wrk runs at once, their latencies the worse "
        "of the two. The cross-host guarantees are tested in "
        "tests/integration/test_several_hosts.py (one x-requestId wins, a slot is booked once, a "
        "reset is seen by both, a token from either host works on both).",
        "",
        "## Start-up, from launch to the first answer (median, runs)",
        "",
        *[
            f"- {name}: {statistics.median(s):.2f} s ({_range(s, 's')})"
            for name, s in run.startups.items()
        ],
        "",
        "## Targets (issue 27)",
        "",
        *verdicts(run),
        "",
        "## Memory",
        "",
        f"A one-worker `serve` on each store; RSS of the server, and what the store itself holds "
        f"(SQLite's files, Redis's used_memory), grown by {AGENTS:,} job agents (this benchmark's "
        f"CreateJobagent body, over 100 citizens of one sandbox) and by {SANDBOXES:,} sandboxes "
        "(one CreateJobagent each: the fixtures' job agents, that one, one x-requestId and one "
        "journal entry).",
        "",
        f"| Store | RSS per {AGENTS:,} job agents | store per {AGENTS:,} job agents | "
        f"RSS per {SANDBOXES:,} sandboxes | store per {SANDBOXES:,} sandboxes |",
        "|---|---|---|---|---|",
        *[
            f"| {g.store} | {g.rss_per_agents_mb:.1f} MB | {_mb(g.store_per_agents_mb)} | "
            f"{g.rss_per_sandboxes_mb:.1f} MB | {_mb(g.store_per_sandboxes_mb)} |"
            for g in run.memory
        ],
        "",
        "## Where one request's time goes (profile)",
        "",
        "`bench/profile.py`: one worker on the memory store, on SQLite and on Redis (its unix "
        "socket), in-process (no HTTP parsing, no network: the ceiling row measures those), "
        "yappi on the CPU clock: each area's CPU time a request (the profiler inflates every area "
        "alike) and its share. The time without the "
        "profiler is per request, one at a time. 'Before' is the code this branch started "
        "from, kept in bench/profile_before.json (`python -m bench.profile --before "
        "redis://…`, run on the code before a change).",
        "",
        profile_tables(run.profiles, _before()),
        "",
        kept_figures(),
    ]
    return "\n".join(lines) + "\n"


FIGURES_HEADING = "## Figures behind the code"


def kept_figures(results: Path = BENCH / "results.md") -> str:
    """The hand-kept section of results.md that a run does not measure: the figures a design
    choice in the code rests on (its comment names the choice, this section the figure), carried
    from the results a run replaces."""
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    start = text.find(FIGURES_HEADING)
    if start < 0:
        return FIGURES_HEADING + "\n\n(none recorded)"
    end = text.find("\n## ", start + len(FIGURES_HEADING))
    return text[start : end if end >= 0 else len(text)].rstrip()


Profile = tuple[float, list[tuple[str, float]]]  # ms a request, (area, CPU ms) largest first
BEFORE = Path(__file__).with_name("profile_before.json")


def profile_tables(after: dict[str, Profile], before: dict[str, Profile]) -> str:
    """Each profile as a table of its areas, before and after: profiled CPU ms a request (the
    profiler inflates them alike) and share of the whole."""
    lines = []
    for name, (ms, areas) in after.items():
        was_ms, was_areas = before.get(name, (None, []))
        now, was = dict(areas), dict(was_areas)
        shown = [a for a in {**now, **was} if max(_share(now, a), _share(was, a)) >= 0.5]
        lines += [
            f"{name}: {ms:.3f} ms a request without the profiler"
            + (f" (before: {was_ms:.3f} ms)." if was_ms is not None else "."),
            "",
            "| Area | before | after |",
            "|---|---|---|",
            *[f"| {a} | {_cell(was, a)} | {_cell(now, a)} |" for a in shown],
            "",
        ]
    return "\n".join(lines)


def _before() -> dict[str, Profile]:
    if not BEFORE.exists():
        return {}
    kept = json.loads(BEFORE.read_text(encoding="utf-8"))
    return {name: (ms, [(a, cpu) for a, cpu in areas]) for name, (ms, areas) in kept.items()}


def _share(areas: dict[str, float], area: str) -> float:
    return areas.get(area, 0.0) / (sum(areas.values()) or 1.0) * 100


def _cell(areas: dict[str, float], area: str) -> str:
    if not areas:
        return "–"
    return f"{areas.get(area, 0.0):.3f} ms ({_share(areas, area):.0f}%)"


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "–"


def _range(values: list[float], unit: str = "") -> str:
    return f"{min(values):.2f}{unit} to {max(values):.2f}{unit}"


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} MB"


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
