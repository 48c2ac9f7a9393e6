"""How handlers answer: a JSON body, an HTML page, or an empty body with no Content-Type at all."""

from __future__ import annotations

import json
from typing import Any

import flask
from connexion.jsonifier import Jsonifier

from jobagent_mock import jsontext

JSON = "application/json"


class CompactJsonifier(Jsonifier):
    """connexion's jsonifier, writing answers as `jsontext` does: one text for both of the mock's
    paths (connexion's and the fast lane), compact as ASP.NET writes it."""

    def __init__(self) -> None:
        super().__init__(json)

    def dumps(self, data: Any, **kwargs: Any) -> str:
        if kwargs:  # a call with options of its own: as connexion writes it
            return super().dumps(data, **kwargs)
        return jsontext.dumps(data) + "\n"


def json_body(body: Any, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    # The operations also produce application/problem+json, so connexion must be told which.
    return body, status, {"Content-Type": JSON}


def html_body(page: str, status: int = 200) -> tuple[str, int, dict[str, str]]:
    return page, status, {"Content-Type": "text/html"}


class _Empty(flask.Response):
    default_mimetype = None  # werkzeug then sets no Content-Type (not one set, then deleted)


def empty(status: int = 200, headers: dict[str, str] | None = None) -> flask.Response:
    """An answer without a body ("Tomt"); it carries no Content-Type, as it has no content."""
    return _Empty(status=status, headers=headers)
