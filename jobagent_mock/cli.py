"""The `jobagent-mock` command: `serve` the mock, or `check` spec, fixtures and handler wiring."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jobagent_mock.auth import SigningKeyError
from jobagent_mock.fixtures import FixtureError


def main(argv: Sequence[str] | None = None) -> int:
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
        help="HS256 key for tokens, 32+ bytes (default: $JOBAGENT_MOCK_SIGNING_KEY, else random)",
    )
    check = commands.add_parser("check", help="validate spec, fixtures and handler wiring")
    for command in (serve, check):
        command.add_argument("--fixtures", type=Path, help="fixture folder (default: fixtures/)")
        command.add_argument(
            "--closed-world",
            action="store_true",
            help="only fixture people and occupations are known",
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args.fixtures, args.closed_world)
        app = _app(args.fixtures, args.closed_world, args.signing_key, args.max_body_bytes)
        return _serve(app, args.host, args.port)
    except FixtureError as exc:
        print(f"jobagent-mock: bad fixture: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except SigningKeyError as exc:
        print(f"jobagent-mock: {exc}", file=sys.stderr)  # noqa: T201
        return 2


def _check(fixtures_dir: Path | None, closed_world: bool) -> int:
    from jobagent_mock.checks import problems_found

    found = problems_found(fixtures_dir, closed_world)
    for problem in found:
        print(f"FAIL {problem}", file=sys.stderr)  # noqa: T201
    if not found:
        print("OK: contracts, examples, fixtures and handlers agree")  # noqa: T201
    return 1 if found else 0


def _app(
    fixtures_dir: Path | None, closed_world: bool, signing_key: str | None, max_body_bytes: int
) -> Any:
    from jobagent_mock.web.app import create_app

    return create_app(
        fixtures_dir,
        closed_world=closed_world,
        signing_key=signing_key,
        max_body_bytes=max_body_bytes,
    )


def _serve(app: Any, host: str, port: int) -> int:
    import uvicorn

    base = f"http://{host}:{port}"
    print(f"jobagent-mock on {base}  (Swagger UI: {base}/ui/, spec: {base}/openapi.json)")  # noqa: T201
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
