"""The ceiling: a bare ASGI app on the mock's own server stack (uvicorn, uvloop, httptools and
the mock's protocol, as `jobagent-mock serve` runs them) answering every request with one fixed
answer, the mock's GetJobagent answer byte for byte (status, headers, body), or to a POST its
CreateJobagent answer. No Python web framework can answer faster on this stack; a row's
fraction of it is how much of the time is the mock's own.

`python -m bench.ceiling ANSWER.json PORT`, where ANSWER.json is {"status", "headers", "body",
"create": {the same for CreateJobagent}}; granian imports `bench.ceiling:from_environment`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn

from jobagent_mock.web.connections import options_from_environment

ANSWER_VARIABLE = "BENCH_CEILING_ANSWER"


def app_answering(answer: dict[str, Any]) -> Any:
    """The ASGI app: a POST gets the CreateJobagent answer (`answer["create"]`), anything else
    the GetJobagent answer."""
    get, post = _messages(answer), _messages(answer.get("create", answer))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # the request's body is read, as any real handler must
            more = (await receive()).get("more_body", False)
        start, body = post if scope["method"] == "POST" else get
        await send(start)
        await send(body)

    return app


def _messages(answer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    start = {
        "type": "http.response.start",
        "status": answer["status"],
        "headers": [(k.encode(), v.encode()) for k, v in answer["headers"]],
    }
    return start, {"type": "http.response.body", "body": answer["body"].encode()}


def from_environment() -> Any:
    """The ceiling app for a server that imports it (granian's `--factory`): the answer from
    the file BENCH_CEILING_ANSWER names."""
    return app_answering(json.loads(Path(os.environ[ANSWER_VARIABLE]).read_text("utf-8")))


def main(answer_file: str, port: str) -> None:
    answer = json.loads(Path(answer_file).read_text(encoding="utf-8"))
    # as cli.py's `serve` runs one worker: its protocol (deadlines, an answer in one write) too
    uvicorn.run(
        app_answering(answer),
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        **options_from_environment(),
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
