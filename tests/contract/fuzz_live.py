"""`make fuzz`: the schemathesis CLI, every check and phase, against a live mock on loopback.

Starts the mock, takes a real token from /connect/token, writes the contract with its oauth2
scheme described as HTTP bearer (so the ignored_auth check runs), runs `schemathesis run` with
the JUnit report, and exits with schemathesis's exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from tests.contract.fuzzing import FUZZ_CLIENT, with_bearer_scheme
from tests.helpers import token_for
from tests.live import live_server

REPORTS = Path("reports")
# The token goes in as the scheme's credentials, not as a global header, so the missing-header
# and ignored-auth checks can leave it out.
AUTH_SECTION = '\n[auth.openapi.oauth2]\nbearer = "{token}"\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=int, help="a time budget in seconds, spent in full")
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    REPORTS.mkdir(exist_ok=True)
    contract = REPORTS / "jobagent.bearer.json"
    contract.write_text(json.dumps(with_bearer_scheme(spec.raw(spec.BUSINESS))), encoding="utf-8")
    with live_server(create_app()) as base:
        with httpx.Client(base_url=base) as http:
            token = token_for(http, FUZZ_CLIENT)
        config = REPORTS / "schemathesis-live.toml"
        shared = Path("schemathesis.toml").read_text(encoding="utf-8")
        config.write_text(shared + AUTH_SECTION.format(token=token), encoding="utf-8")
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            str(contract),
            "--url",
            base,
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            str(args.seed),
            "--generation-database",
            "none",
            "--max-examples",
            str(args.max_examples),
            "--report",
            "junit",
            "--report-junit-path",
            str(REPORTS / "schemathesis-junit.xml"),
        ]
        if args.max_time:
            command += ["--max-time", str(args.max_time)]
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.hooks"}
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
