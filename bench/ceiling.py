"""The ceiling: a bare ASGI app on the mock's own server stack (uvicorn, uvloop, httptools and
the mock's protocol, as `jobagent-mock serve` runs them) answering every request with one fixed
answer, the mock's GetJobagent answer byte for byte (status, headers, body). No Python web
framework can answer faster on this stack; a row's fraction of it is how much of the time is
the mock's own.

`python -m bench.ceiling ANSWER.json PORT`, where ANSWER.json is {"status", "headers", "body"}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import uvicorn

from jobagent_mock.web.connections import options_from_environment


def app_answering(answer: dict[str, Any]) -> Any:
    start = {
        "type": "http.response.start",
        "status": answer["status"],
        "headers": [(k.encode(), v.encode()) for k, v in answer["headers"]],
    }
    body = {"type": "http.response.body", "body": answer["body"].encode()}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # the request's body is read, as any real handler must
            more = (await receive()).get("more_body", False)
        await send(start)
        await send(body)

    return app


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
