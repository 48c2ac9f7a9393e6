"""The `jobagent-mock` command: serve the mock, check it, build its docs, fetch a token, report
a sandbox's contract coverage, and compare and publish versions of the contract."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any, NoReturn

import yaml

from jobagent_mock.auth import SigningKeyError
from jobagent_mock.foundations.fixtures import FixtureError
from jobagent_mock.web.environment import ENVIRONMENT, SettingError, setting, switched_on

# the mock that `serve` would start here, on $JOBAGENT_MOCK_PORT too
DEFAULT_URL = f"http://127.0.0.1:{setting('port', '8080')}"


class StartupError(Exception):
    """Something that stops the mock before it serves; said in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)  # a switch's variable is read as the parser is made
        return int(args.run(args))
    except (FixtureError, SigningKeyError, StartupError, SettingError) as exc:
        print(f"jobagent-mock: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except BrokenPipeError:  # `jobagent-mock … | head`: the reader had enough
        _quiet_stdout()
        return EXIT_CLOSED_PIPE
    except OSError as exc:  # a file to write or read that is not there: one line, no traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"jobagent-mock: {exc.strerror or exc}{where}", file=sys.stderr)  # noqa: T201
        return 2


# what a shell reports for a program that a closed pipe stopped (128 + SIGPIPE)
EXIT_CLOSED_PIPE = 141


def _quiet_stdout() -> None:
    """stdout pointed at /dev/null, so that Python's flush at exit raises no second error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


class _Parser(argparse.ArgumentParser):
    """argparse, with a wrong option said in one line (and the way to the help), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """--version: the package's and the contract's, read only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from jobagent_mock.foundations import spec

        contract = spec.raw(spec.BUSINESS)["info"]["version"]
        print(f"jobagent-mock {version('jobagent-mock')} (contract {contract})")  # noqa: T201
        parser.exit()


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds above zero."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text} is out of range: above 0")
    return seconds


def _whole_number(least: int, most: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if number < least or (most is not None and number > most):
            bounds = f"from {least} to {most}" if most is not None else f"at least {least}"
            raise argparse.ArgumentTypeError(f"{number} is out of range: {bounds}")
        return number

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jobagent-mock", description=__doc__)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description="Serve the mock. Each option's default can be set by the variable named in "
        "its help (a container's settings).",
    )
    _serve_options(serve)
    check = commands.add_parser("check", help="validate spec, examples, fixtures and wiring")
    docs = commands.add_parser(
        "docs", help="build the offline docs site, or the README tables and CHANGELOG.md"
    )
    docs.add_argument("--out", type=Path, help="folder for the static site")
    docs.add_argument(
        "--readme", action="store_true", help="rewrite a checkout's README tables and CHANGELOG.md"
    )
    token = commands.add_parser("token", help="print a bearer token from a running mock")
    token.add_argument("--client", default="star-jobnet", help="a client_id of clients.json")
    token.add_argument("--url", default=DEFAULT_URL, help=f"the mock (default: {DEFAULT_URL})")
    token.add_argument("--scope", help="space-separated scopes (default: all of the client's)")
    token.add_argument(
        "--audience",
        help="the API the token is for (default: the mock's own); another is refused with 401, "
        "which coverage counts for the client",
    )
    token.add_argument(
        "--wait",
        type=_whole_number(0),
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the mock to be healthy (default: 0, ask at once)",
    )
    for command in (check, token):  # the same overlay as serve's, in a container too
        command.add_argument(
            "--fixtures",
            type=Path,
            default=setting("fixtures_dir"),
            help=f"{FIXTURES_HELP} [${ENVIRONMENT['fixtures_dir']}]",
        )
    _add_contract_commands(commands)
    _add_coverage_command(commands)
    _add_drift_command(commands)
    serve.set_defaults(run=_serve)
    check.set_defaults(run=_check)
    docs.set_defaults(run=_docs)
    token.set_defaults(run=_token)
    return parser


FIXTURES_HELP = "a folder whose files add to (or replace records of) the packaged fixtures"


def _serve_options(serve: argparse.ArgumentParser) -> None:
    def option(*flags: str, name: str, help: str, **kwargs: Any) -> None:  # noqa: A002
        variable = ENVIRONMENT[name]
        action = kwargs.get("action")
        if action in ("store_true", "store_false"):  # a switch; its variable sets it on or off
            kwargs["default"] = switched_on(name, action == "store_false")
        else:
            kwargs["default"] = setting(name, kwargs.get("default"))
        serve.add_argument(*flags, dest=name, help=f"{help} [${variable}]", **kwargs)

    option("--host", name="host", default="127.0.0.1", help="address to listen on")
    option(
        "--port",
        name="port",
        default="8080",
        type=_whole_number(0, 65535),
        help="TCP port; 0 picks a free one, printed in the banner",
    )
    option("--fixtures", name="fixtures_dir", metavar="DIR", type=Path, help=FIXTURES_HELP)
    option(
        "--closed-world",
        name="closed_world",
        action="store_true",
        help="only the fixtures' people and occupations are known",
    )
    option(
        "--max-body-bytes",
        name="max_body_bytes",
        metavar="BYTES",
        default=str(1024 * 1024),
        type=_whole_number(1),
        help="larger request bodies are refused with 413 (default: 1 MiB)",
    )
    option(
        "--signing-key",
        name="signing_key",
        metavar="KEY",
        help="HS256 key for tokens, 32+ bytes; give every instance the same one "
        "(default: a random key made at start-up)",
    )
    option(
        "--workers",
        name="workers",
        metavar="N",
        default="1",
        type=_whole_number(1),
        help="worker processes; more than one needs a shared --store",
    )
    option(
        "--store",
        name="store",
        metavar="URL",
        default="memory",
        help="memory (default, one worker), sqlite:PATH or redis://HOST:PORT (the redis extra)",
    )
    option(
        "--no-fast-lane",
        name="fast_lane",
        action="store_false",
        help="send every request through connexion's full stack (slower; answers are the same)",
    )
    option(
        "--no-access-log",
        name="access_log",
        action="store_false",
        help="no line a request on stdout (method, path, status, fejlkode, ms)",
    )
    option(
        "--max-sandboxes",
        name="max_sandboxes",
        metavar="N",
        default="1000",
        type=_whole_number(1),
        help="at most this many sandboxes in all; a new one past it is refused with 429, never "
        "made room for by dropping another client's (default: 1000)",
    )
    option(
        "--max-sandboxes-per-client",
        name="max_sandboxes_per_client",
        metavar="N",
        default="100",
        type=_whole_number(1),
        help="at most this many sandboxes of one OAuth2 client; a new one past it is refused with "
        "429 (default: 100)",
    )
    option(
        "--sandbox-idle-ttl",
        name="sandbox_idle_ttl",
        metavar="SECONDS",
        default="86400",
        type=_seconds,
        help="a sandbox unused this long is freed (back to the fixtures) when a new one needs its "
        "place (default: 86400, a day)",
    )
    option(
        "--header-timeout",
        name="header_timeout",
        metavar="SECONDS",
        default="10",
        type=_seconds,
        help="seconds a request's headers may take to arrive, and its body again after them; a "
        "slower client is answered 408 and closed (default: 10)",
    )
    option(
        "--max-connections",
        name="max_connections",
        metavar="N",
        default="1000",
        type=_whole_number(1),
        help="connections one worker serves at once; one beyond them is answered 503 "
        "(default: 1000)",
    )
    # the validating proxy (jobagent_mock/proxy/): README "In front of STAR's test environment"
    option(
        "--upstream",
        name="upstream",
        metavar="URL",
        help="forward every /v1 request to this base URL (STAR's test environment) and report "
        "where its answers depart from the contract (/__admin/drift)",
    )
    option(
        "--upstream-timeout",
        name="upstream_timeout",
        metavar="SECONDS",
        default="30",
        type=_seconds,
        help="an upstream silent this long is answered 504 (default: 30)",
    )
    option(
        "--upstream-ca",
        name="upstream_ca",
        metavar="FILE",
        type=Path,
        help="PEM file of the CA that signed the upstream's certificate (default: the system's)",
    )
    option(
        "--record",
        name="record",
        metavar="DIR",
        type=Path,
        help="write each proxied exchange to DIR as a candidate example or persona",
    )
    option(
        "--record-keep-cpr",
        name="record_keep_cpr",
        action="store_true",
        help="keep the upstream's CPR numbers unmasked in the recordings (a warning is printed)",
    )
    # partner experience (issue 26)
    option(
        "--reload",
        name="reload",
        action="store_true",
        help="watch the contracts and the fixtures: a change that passes `check` is served at "
        "once, state and connections kept; one that fails is refused in one line (one worker)",
    )


def _add_drift_command(commands: Any) -> None:
    from jobagent_mock.journal.drift import FORMATS

    drift = commands.add_parser(
        "drift",
        help="where the proxied upstream departed from the contract (serve --upstream); "
        "exit 1 under --fail-on-drift",
    )
    drift.add_argument("--url", default=DEFAULT_URL, help=f"the mock (default: {DEFAULT_URL})")
    drift.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    drift.add_argument("--output", type=Path, help="write the report here (default: stdout)")
    drift.add_argument(
        "--fail-on-drift", action="store_true", help="exit 1 when any departure was seen"
    )
    drift.set_defaults(run=_drift)


def _drift(args: argparse.Namespace) -> int:
    from jobagent_mock.journal import drift

    found = json.loads(_get(f"{args.url.rstrip('/')}/__admin/drift", {}))
    if found["upstream"] is None and args.fail_on_drift:
        # a CI job pointed at a plain mock would pass on a report nothing could fill
        raise StartupError(
            f"the mock at {args.url} proxies no upstream (serve --upstream URL): it sees no "
            "drift, so --fail-on-drift cannot pass or fail on it"
        )
    _write_report(drift.render(found, args.format), args.output)
    departures = found["totals"]["departures"]
    if args.fail_on_drift and departures:
        print(f"jobagent-mock: {departures} departures from the contract", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def _write_report(rendered: str, output: Path | None) -> None:
    """A report for CI: to the file given, else to stdout."""
    if output:
        output.write_text(rendered, encoding="utf-8")
    else:
        print(rendered)  # noqa: T201


def _add_coverage_command(commands: Any) -> None:
    from jobagent_mock.contract.coverage import FORMATS

    cover = commands.add_parser(
        "coverage",
        help="which documented statuses and fejlkoder a suite's sandboxes received; "
        "exit 1 under --fail-under, 2 for a sandbox that received nothing",
    )
    cover.add_argument("--url", default=DEFAULT_URL, help=f"the mock (default: {DEFAULT_URL})")
    cover.add_argument(
        "--client",
        action="append",
        help="a client_id your suite used; repeat it for several, merged into one report "
        "(default: star-jobnet)",
    )
    cover.add_argument("--sandbox", help="the x-mock-sandbox your suite sent, if any")
    cover.add_argument(
        "--suite",
        type=Path,
        metavar="FILE",
        help="a YAML or JSON list of the suite's sandboxes, each {client: ID, sandbox: NAME}, "
        "merged into one report (instead of --client and --sandbox)",
    )
    cover.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    cover.add_argument("--output", type=Path, help="write the report here (default: stdout)")
    cover.add_argument(
        "--fail-under",
        type=_percent,
        metavar="PERCENT",
        help="exit 1, listing what is missing, when fewer documented outcomes (0 to 100) were "
        "exercised",
    )
    cover.add_argument(
        "--natural-only",
        action="store_true",
        help="--fail-under and JUnit count only what the rules answered, not a scenario or Prefer",
    )
    cover.add_argument("--fixtures", type=Path, help="fixture folder with clients.json")
    cover.set_defaults(run=_coverage)


def _percent(text: str) -> float:
    """An argparse type: a percentage from 0 to 100."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"{text} is out of range: from 0 to 100")
    return number


def _suite(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """The (client, sandbox) pairs the report covers: --suite's, or each --client's."""
    if args.suite is None:
        return [(client, args.sandbox) for client in args.client or ["star-jobnet"]]
    if args.client or args.sandbox:
        raise StartupError("give --suite, or --client and --sandbox, not both")
    try:
        listed = yaml.safe_load(args.suite.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StartupError(f"{args.suite} is no YAML or JSON: {exc}") from None
    if (
        not isinstance(listed, list)
        or not listed
        or not all(
            isinstance(entry, dict) and isinstance(entry.get("client"), str) for entry in listed
        )
    ):
        raise StartupError(f"{args.suite} must list the suite's sandboxes as {{client, sandbox}}")
    return [(str(e["client"]), str(e["sandbox"]) if e.get("sandbox") else None) for e in listed]


def _coverage(args: argparse.Namespace) -> int:
    from jobagent_mock.contract import coverage

    reports, empty = [], []
    for client, sandbox in _suite(args):
        headers = {"Authorization": f"Bearer {_fetch_token(args.url, client, args.fixtures)}"}
        if sandbox:
            headers["x-mock-sandbox"] = sandbox
        found = json.loads(_get(f"{args.url.rstrip('/')}/__admin/coverage", headers))
        reports.append(found)
        if found["totals"]["requests"] == 0:
            empty.append(found["sandbox"])
    found = coverage.merge(reports)
    _write_report(coverage.render(found, args.format, args.natural_only), args.output)
    for sandbox in empty:  # a mistyped --client or --sandbox reads as 0 %: say so
        print(  # noqa: T201
            f"jobagent-mock: warning: sandbox {sandbox} received no requests; is its client "
            "and x-mock-sandbox what the suite sent?",
            file=sys.stderr,
        )
    percent = found["totals"]["percentNatural" if args.natural_only else "percent"]
    under = args.fail_under is not None and percent < args.fail_under
    if under:
        lines = coverage.missing_lines(found, args.natural_only)
        missing = "\n".join(f"  {line}" for line in lines)
        print(  # noqa: T201
            f"jobagent-mock: coverage {percent} % is under {args.fail_under} %; not exercised:\n"
            f"{missing}",
            file=sys.stderr,
        )
    return 2 if empty else 1 if under else 0


def _add_contract_commands(commands: Any) -> None:
    diff = commands.add_parser(
        "contract-diff",
        help="what changed between two versions of a contract; exit 1 if anything breaks a client",
    )
    diff.add_argument("old", type=Path, help="the older contract (YAML)")
    diff.add_argument("new", type=Path, help="the newer contract (YAML)")
    diff.add_argument("--json", action="store_true", help="the changes as JSON")
    diff.set_defaults(run=_contract_diff)
    publish = commands.add_parser(
        "publish",
        help="publish openapi/jobagent.yaml as its info.version: keep it, date it, "
        "regenerate openapi/CHANGELOG.md",
    )
    publish.add_argument(
        "--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    publish.add_argument(
        "--openapi",
        type=Path,
        help="the folder of jobagent.yaml, published/ and CHANGELOG.md (default: openapi/)",
    )
    publish.set_defaults(run=_publish)


def _contract_diff(args: argparse.Namespace) -> int:
    from jobagent_mock.contract import contract_diff

    try:
        found = contract_diff.changes(contract_diff.load(args.old), contract_diff.load(args.new))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise StartupError(f"cannot compare the contracts: {exc}") from None
    except (KeyError, TypeError) as exc:  # a document that is not OpenAPI 3.0 after all
        raise StartupError(f"cannot compare the contracts: no {exc} where expected") from None
    if args.json:
        print(json.dumps([vars(change) for change in found], indent=2, ensure_ascii=False))  # noqa: T201
    else:
        print("\n".join(c.line() for c in found) or "no change a client can notice")  # noqa: T201
    return 1 if any(change.breaking for change in found) else 0


def _publish(args: argparse.Namespace) -> int:
    from jobagent_mock.contract import changelog

    folder = changelog.Folder(args.openapi) if args.openapi else changelog.OPENAPI
    try:
        release = changelog.publish(args.date or date.today(), folder)
    except changelog.PublishError as exc:
        print(f"jobagent-mock: not published:\n{exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(  # noqa: T201
        f"published jobagent.yaml {release.version} ({release.date}) as "
        f"{folder.snapshot(release.version)}; {folder.changelog} rewritten"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from jobagent_mock.contract.self_checks import problems_found

    found = problems_found(args.fixtures)
    for problem in found:
        print(f"FAIL {problem}", file=sys.stderr)  # noqa: T201
    if not found:
        print("OK: contracts, examples, fixtures and handlers agree")  # noqa: T201
    return 1 if found else 0


def _proxy_settings(args: argparse.Namespace) -> dict[str, str | None]:
    """serve's proxy options as their variables; an upstream that is no http(s) URL, a CA file
    that cannot be read, stop it before it serves."""
    if not args.upstream:
        return {}
    if not re.match(r"https?://[^/\s]+", args.upstream):
        raise StartupError(f"--upstream {args.upstream!r} is no http:// or https:// URL")
    if args.upstream_ca and not args.upstream_ca.is_file():
        raise StartupError(f"--upstream-ca {args.upstream_ca}: no such file")
    if args.record_keep_cpr:
        from jobagent_mock.proxy.record import KEEP_CPR_WARNING

        print(f"jobagent-mock: warning: {KEEP_CPR_WARNING}", file=sys.stderr)  # noqa: T201
    return {
        "upstream": args.upstream,
        "upstream_timeout": str(args.upstream_timeout),
        "upstream_ca": str(args.upstream_ca) if args.upstream_ca else None,
        "record": str(args.record) if args.record else None,
        "record_keep_cpr": "1" if args.record_keep_cpr else "0",
    }


def _serve(args: argparse.Namespace) -> int:
    if args.reload and args.workers > 1:
        raise StartupError("--reload serves one worker: leave out --workers")
    if args.workers > 1 and args.store == "memory":
        raise StartupError(
            "several workers need a shared store: --store sqlite:PATH or --store redis://HOST:PORT"
        )
    args.port = _require_free_port(args.host, args.port)
    settings = {
        "fixtures_dir": str(args.fixtures_dir) if args.fixtures_dir else None,
        "closed_world": "1" if args.closed_world else "0",
        # every worker must check the tokens any of them issued
        "signing_key": args.signing_key or secrets.token_urlsafe(32),
        "max_body_bytes": str(args.max_body_bytes),
        "store": args.store,
        "fast_lane": "1" if args.fast_lane else "0",
        "access_log": "1" if args.access_log else "0",
        "max_sandboxes": str(args.max_sandboxes),
        "max_sandboxes_per_client": str(args.max_sandboxes_per_client),
        "sandbox_idle_ttl": str(args.sandbox_idle_ttl),
        "header_timeout": str(args.header_timeout),
        "max_connections": str(args.max_connections),
        **_proxy_settings(args),
    }
    # the workers (and, with one, this process) build the app from these variables
    for name, value in settings.items():
        if value is not None:
            os.environ[ENVIRONMENT[name]] = value
    app = _built(args, settings["signing_key"])
    print(_banner(f"http://{args.host}:{args.port}", args), flush=True)  # noqa: T201
    if args.workers == 1:
        return _serve_one(args, app)
    return _serve_workers(args)


def _built(args: argparse.Namespace, signing_key: str) -> Any:
    """The app this process serves (None with several workers, which build their own), or a
    StartupError saying in one line why it cannot be."""
    try:
        if args.reload:
            from jobagent_mock.app import app_from_environment
            from jobagent_mock.web.reload import ReloadingApp

            return ReloadingApp(app_from_environment, args.fixtures_dir)
        if args.workers == 1:
            from jobagent_mock.app import app_from_environment

            return app_from_environment()
        # what could stop every worker, proved once here; the workers build the app
        _preflight(args.fixtures_dir, signing_key, args.store)
        return None
    except (FixtureError, SigningKeyError):
        raise
    except Exception as exc:  # a contract connexion cannot load, a store it cannot open
        raise StartupError(f"cannot start: {exc or type(exc).__name__}") from exc


def _serve_one(args: argparse.Namespace, app: Any) -> int:
    import uvicorn

    from jobagent_mock.web.connections import options_from_environment
    from jobagent_mock.web.workers import exit_on_sigterm

    options = options_from_environment()
    exit_on_sigterm()  # the journal's last entries written before the process ends
    if args.reload:
        app.start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", **options)
    finally:
        if args.reload:
            app.stopped.set()
    return 0


def _serve_workers(args: argparse.Namespace) -> int:
    import uvicorn

    from jobagent_mock.web import workers

    if workers.supported():
        return workers.serve(args.workers, args.host, args.port)
    # no SO_REUSEPORT: uvicorn's workers, which share one socket (see web/workers.py)
    from jobagent_mock.web.connections import options_from_environment

    uvicorn.run(
        workers.APP_FACTORY,
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level="warning",
        **options_from_environment(),
    )
    return 0


def _preflight(fixtures_dir: Path | None, signing_key: str | None, store: str) -> None:
    # the contract is left to the workers: connexion validates it as each one loads it
    from jobagent_mock.auth import Authority
    from jobagent_mock.foundations import fixtures
    from jobagent_mock.stores import open_store

    loaded = fixtures.load(fixtures_dir)
    Authority(loaded.clients, signing_key)
    open_store(store, loaded.jobagents)


def _require_free_port(host: str, port: int) -> int:
    """The port to serve on: `port` if it is free, a free one the system picks for 0."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
        return int(probe.getsockname()[1])


def _banner(base: str, args: argparse.Namespace) -> str:
    workers = f"{args.workers} worker" + ("s" if args.workers > 1 else "")
    # a password in a Redis URL stays out of logs
    store = re.sub(r"//[^@/]*@", "//***@", args.store)
    return "\n".join(
        [
            f"jobagent-mock {version('jobagent-mock')} serving {base}",
            f"  store            {store}, {workers}",
            f"  API              {base}/v1/Jobagent, {base}/v1/Tilmelding",
            f"  Swagger UI       {base}/ui/",
            f"  contract         {base}/openapi.json  {base}/openapi.yaml",
            f"  admin API        {base}/__admin/ui/  ({base}/__admin/openapi.yaml)",
            f"  coverage         {base}/__admin/coverage  (jobagent-mock coverage --url {base})",
            *_token_banner(base, args),
            "  access log       "
            + ("method path status fejlkode ms, on stdout" if args.access_log else "off"),
            *_proxy_banner(base, args),
        ]
    )


def _token_banner(base: str, args: argparse.Namespace) -> list[str]:
    if args.upstream:  # the mock's tokens would be refused by STAR
        return ["  tokens           from STAR's identity provider, with your own credentials"]
    return [
        f"  token endpoint   {base}/connect/token  ({base}/connect/openapi.yaml)",
        "  get a token      curl -s -d grant_type=client_credentials -d client_id=star-jobnet "
        f"-d client_secret=star-jobnet-secret {base}/connect/token",
    ]


def _proxy_banner(base: str, args: argparse.Namespace) -> list[str]:
    if not args.upstream:
        return []
    upstream = re.sub(r"//[^@/]*@", "//***@", args.upstream)
    return [
        f"  PROXY to         {upstream}  (/v1 forwarded; /connect/token is the mock's, not STAR's)",
        f"  drift            {base}/__admin/drift  (jobagent-mock drift --url {base})",
        f"  recording to     {args.record}" if args.record else "  recording        off",
    ]


def _docs(args: argparse.Namespace) -> int:
    from jobagent_mock.contract import changelog, docs

    if not args.out and not args.readme:
        raise StartupError("docs needs --out DIR, --readme or both")
    if args.readme and not docs.README.is_file():
        raise StartupError("docs --readme rewrites the README.md of a checkout; this is none")
    if args.readme:
        changed = docs.write_readme()
        print("README.md tables " + ("rewritten" if changed else "already current"))  # noqa: T201
        changed = changelog.write_changelog()
        print("openapi/CHANGELOG.md " + ("rewritten" if changed else "already current"))  # noqa: T201
    if args.out:
        print(f"docs site: {docs.build_site(args.out)}")  # noqa: T201
    return 0


def _token(args: argparse.Namespace) -> int:
    _wait_for_health(args.url, args.wait)
    print(_fetch_token(args.url, args.client, args.fixtures, args.scope, args.audience))  # noqa: T201
    return 0


def _fetch_token(
    url: str,
    client: str,
    fixtures_dir: Path | None,
    scope: str | None = None,
    audience: str | None = None,
) -> str:
    """A bearer token from a running mock for a client of clients.json (its secret read there)."""
    from jobagent_mock.foundations import fixtures

    clients = {c["client_id"]: c for c in fixtures.load(fixtures_dir).clients}
    if client not in clients:
        raise StartupError(f"no client {client}; clients.json has {', '.join(clients)}")
    form: dict[str, Any] = {
        "grant_type": "client_credentials",
        "client_id": client,
        "client_secret": clients[client]["client_secret"],
    }
    if scope:
        form["scope"] = scope
    if audience:
        form["audience"] = audience
    answer = _get(f"{url.rstrip('/')}/connect/token", {}, urllib.parse.urlencode(form).encode())
    return str(json.loads(answer)["access_token"])


def _get(url: str, headers: dict[str, str], form: bytes | None = None) -> str:
    """The body of a request to the mock (a POST when a form is given); its refusal said in one
    line."""
    request = urllib.request.Request(url, data=form, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return str(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise StartupError(f"{url} said {exc.code}: {exc.read().decode()}") from None
    except urllib.error.URLError as exc:
        raise StartupError(f"no mock at {url}: {exc.reason}") from None


def _wait_for_health(url: str, seconds: int) -> None:
    """Until the mock at url answers its health check, for at most `seconds` (then the token
    request says what is wrong)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/__admin/health", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
