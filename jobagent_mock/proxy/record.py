"""`serve --upstream URL --record DIR`: each observed exchange as a candidate example or persona,
one JSON file an exchange (the same exchange twice is one file), for a maintainer to turn into
contract examples and fixtures."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobagent_mock.journal import entries
from jobagent_mock.journal.drift import Departure

# the headers a fixture or an example needs; never a credential
KEPT_REQUEST_HEADERS = ("content-type", "x-civilregistrationidentifier", "x-requestid")
KEPT_RESPONSE_HEADERS = ("content-type", "location", "retry-after")
CPR_HEADER = "x-civilregistrationidentifier"
KEEP_CPR_WARNING = (
    "--record-keep-cpr: the upstream's CPR numbers are written unmasked to the recordings "
    "(test CPRs of STAR's test environment, still personal-data-shaped: keep the folder private)"
)


@dataclass(frozen=True)
class Exchange:
    operation: str
    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes | None
    departures: tuple[Departure, ...]


class Recorder:
    def __init__(self, folder: Path, keep_cpr: bool = False) -> None:
        self.folder, self.keep_cpr = folder, keep_cpr
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, exchange: Exchange) -> Path:
        """The exchange as a candidate, written whole or not at all (several workers may write)."""
        candidate = self.candidate(exchange)
        text = json.dumps(candidate, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        name = f"{exchange.operation.replace(' ', '_').replace('/', '_')}.{exchange.status}"
        target = self.folder / f"{name}.{digest}.json"
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
        return target

    def candidate(self, exchange: Exchange) -> dict[str, Any]:
        """What a maintainer needs: the request and answer (CPRs masked unless keep_cpr), the
        departures, and, for a refusal of a citizen, a persona of fixtures/personas.json's shape."""
        response_body = self._body(exchange.response_body or b"")
        found: dict[str, Any] = {
            "operationId": exchange.operation,
            "request": {
                "method": exchange.method,
                "path": self._text(exchange.path),
                "headers": self._headers(exchange.request_headers, KEPT_REQUEST_HEADERS),
                "body": self._body(exchange.request_body),
            },
            "response": {
                "status": exchange.status,
                "headers": self._headers(exchange.response_headers, KEPT_RESPONSE_HEADERS),
                "body": response_body,
            },
            "departures": [d.as_dict() for d in exchange.departures],
        }
        cpr = exchange.request_headers.get(CPR_HEADER)
        if (
            cpr
            and isinstance(response_body, dict)
            and isinstance(response_body.get("fejlkode"), int)
        ):
            code, text = response_body["fejlkode"], response_body.get("fejltekst", "")
            found["persona"] = {
                "cpr": self._text(cpr),
                "description": self._text(f"{text}: {code}"),  # as composed, redacted
                "fejlkoder": [code],
            }
        return found

    def _text(self, text: str) -> str:
        return text if self.keep_cpr else entries.redact(text)

    def _headers(self, headers: dict[str, str], kept: tuple[str, ...]) -> dict[str, str]:
        return {name: self._text(value) for name, value in headers.items() if name in kept}

    def _body(self, raw: bytes) -> Any:
        if not raw:
            return None
        text = self._text(raw.decode("utf-8", errors="replace"))
        try:
            return json.loads(text)
        except ValueError:
            return text
