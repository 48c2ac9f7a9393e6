"""The `jobagent-mock` command: serve the mock, check it, build its docs, fetch a token, and
compare and publish versions of the contract."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from jobagent_mock.auth import SigningKeyError
from jobagent_mock.fixtures import FixtureError

DEFAULT_URL = "http://127.0.0.1:8080"


class StartupError(Exception):
    """Something that stops the mock before it serves; said in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (FixtureError, SigningKeyError, StartupError) as exc:
        print(f"jobagent-mock: {exc}", file=sys.stderr)  # noqa: T201
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobagent-mock", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        default=1024 * 1024,
        help="larger request bodies are refused with 413 (default: 1 MiB)",
    )
    serve.add_argument(
        "--signing-key",
        default=os.environ.get("JOBAGENT_MOCK_SIGNING_KEY"),
        help="HS256 key for tokens, 32+ bytes (default: "
        "$JOBAGENT_MOCK_SIGNING_KEY, else a random one)",
    )
    serve.add_argument(
        "--closed-world", action="store_true", help="only fixture people and occupations are known"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes; more than one needs a shared --store",
    )
    serve.add_argument(
        "--store",
        default="memory",
        help="memory (default, one worker), sqlite:PATH or redis://HOST:PORT",
    )
    serve.add_argument(
        "--max-sandboxes",
        type=_positive(int),
        default=1000,
        help="the memory store keeps at most this many sandboxes; the least recently used is "
        "forgotten, back to the fixtures (default: 1000)",
    )
    serve.add_argument(
        "--header-timeout",
        type=_positive(float),
        default=10.0,
        help="seconds a request's headers may take to arrive; a slower client is answered 408 "
        "and closed (default: 10)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive(int),
        default=1000,
        help="connections one worker serves at once; a request beyond them is answered 503 "
        "(default: 1000)",
    )
    serve.add_argument(
        "--no-fast-lane",
        action="store_true",
        help="send every request through connexion's full stack (slower; answers are the same)",
    )
    check = commands.add_parser("check", help="validate spec, examples, fixtures and wiring")
    for command in (serve, check):
        command.add_argument("--fixtures", type=Path, help="fixture folder (default: fixtures/)")
    docs = commands.add_parser(
        "docs", help="build the offline docs site, or the README tables and CHANGELOG.md"
    )
    docs.add_argument("--out", type=Path, help="folder for the static site")
    docs.add_argument(
        "--readme", action="store_true", help="rewrite the README's tables and CHANGELOG.md"
    )
    token = commands.add_parser("token", help="print a bearer token from a running mock")
    token.add_argument("--client", default="star-jobnet", help="a client_id of clients.json")
    token.add_argument("--url", default=DEFAULT_URL, help=f"the mock (default: {DEFAULT_URL})")
    token.add_argument("--scope", help="space-separated scopes (default: all of the client's)")
    token.add_argument("--fixtures", type=Path, help="fixture folder with clients.json")
    _add_contract_commands(commands)
    serve.set_defaults(run=_serve)
    check.set_defaults(run=_check)
    docs.set_defaults(run=_docs)
    token.set_defaults(run=_token)
    return parser


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` above zero."""

    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not above zero")
        return value

    return parse


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
    from jobagent_mock import contract_diff

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
    from jobagent_mock import changelog

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
    from jobagent_mock.checks import problems_found

    found = problems_found(args.fixtures)
    for problem in found:
        print(f"FAIL {problem}", file=sys.stderr)  # noqa: T201
    if not found:
        print("OK: contracts, examples, fixtures and handlers agree")  # noqa: T201
    return 1 if found else 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    # several workers: this process only starts them, so it leaves connexion to them
    from jobagent_mock.environment import ENVIRONMENT

    if args.workers > 1 and args.store == "memory":
        raise StartupError(
            "several workers need a shared store: --store sqlite:PATH or --store redis://HOST:PORT"
        )
    _require_free_port(args.host, args.port)
    settings = {
        "fixtures_dir": str(args.fixtures) if args.fixtures else None,
        "closed_world": "1" if args.closed_world else None,
        # every worker must check the tokens any of them issued
        "signing_key": args.signing_key or secrets.token_urlsafe(32),
        "max_body_bytes": str(args.max_body_bytes),
        "store": args.store,
        "fast_lane": "0" if args.no_fast_lane else None,
        "max_sandboxes": str(args.max_sandboxes),
        "header_timeout": str(args.header_timeout),
        "max_connections": str(args.max_connections),
    }
    for name, value in settings.items():
        if value is not None:
            os.environ[ENVIRONMENT[name]] = value
    try:
        if args.workers == 1:
            from jobagent_mock.web.app import app_from_environment

            app = app_from_environment()
        else:  # what could stop every worker, proved once here; the workers build the app
            _preflight(args.fixtures, settings["signing_key"], args.store)
    except (FixtureError, SigningKeyError):
        raise
    except Exception as exc:  # a contract connexion cannot load, a store it cannot open
        raise StartupError(f"cannot start: {type(exc).__name__}: {exc}") from exc
    print(_banner(f"http://{args.host}:{args.port}"), flush=True)  # noqa: T201
    if args.workers == 1:
        from jobagent_mock.web.connections import options_from_environment

        options = options_from_environment()
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", **options)
        return 0
    return _serve_workers(args)


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
    from jobagent_mock import fixtures
    from jobagent_mock.auth import Authority
    from jobagent_mock.stores import open_store

    loaded = fixtures.load(fixtures_dir)
    Authority(loaded.clients, signing_key)
    open_store(store, loaded.jobagents)


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(f"cannot serve on {host}:{port}: {exc.strerror}") from None


def _banner(base: str) -> str:
    return "\n".join(
        [
            f"jobagent-mock serving {base}",
            f"  API              {base}/v1/Jobagent, {base}/v1/Tilmelding",
            f"  Swagger UI       {base}/ui/",
            f"  contract         {base}/openapi.json  {base}/openapi.yaml",
            f"  admin API        {base}/__admin/ui/  ({base}/__admin/openapi.yaml)",
            f"  token endpoint   {base}/connect/token  ({base}/connect/openapi.yaml)",
            "  get a token      curl -s -d grant_type=client_credentials -d client_id=star-jobnet "
            f"-d client_secret=star-jobnet-secret {base}/connect/token",
        ]
    )


def _docs(args: argparse.Namespace) -> int:
    from jobagent_mock import changelog, docs

    if not args.out and not args.readme:
        raise StartupError("docs needs --out DIR, --readme or both")
    if args.readme:
        changed = docs.write_readme()
        print("README.md tables " + ("rewritten" if changed else "already current"))  # noqa: T201
        changed = changelog.write_changelog()
        print("openapi/CHANGELOG.md " + ("rewritten" if changed else "already current"))  # noqa: T201
    if args.out:
        print(f"docs site: {docs.build_site(args.out)}")  # noqa: T201
    return 0


def _token(args: argparse.Namespace) -> int:
    from jobagent_mock import fixtures

    clients = {c["client_id"]: c for c in fixtures.load(args.fixtures).clients}
    if args.client not in clients:
        raise StartupError(f"no client {args.client}; clients.json has {', '.join(clients)}")
    form: dict[str, Any] = {
        "grant_type": "client_credentials",
        "client_id": args.client,
        "client_secret": clients[args.client]["client_secret"],
    }
    if args.scope:
        form["scope"] = args.scope
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/connect/token", data=urllib.parse.urlencode(form).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            print(json.load(answer)["access_token"])  # noqa: T201
    except urllib.error.HTTPError as exc:
        raise StartupError(f"the token endpoint said {exc.code}: {exc.read().decode()}") from None
    except urllib.error.URLError as exc:
        raise StartupError(f"no mock at {args.url}: {exc.reason}") from None
    return 0
