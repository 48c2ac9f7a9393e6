"""How handlers answer: a JSON body, an HTML page, or an empty body with no Content-Type at all."""

from __future__ import annotations

from typing import Any

import flask

JSON = "application/json"


def json_body(body: Any, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    # The operations also produce application/problem+json, so connexion must be told which.
    return body, status, {"Content-Type": JSON}


def prefers_html(accept: str) -> bool:
    """A browser's Accept header: text/html named before any JSON type."""
    html, json = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json < 0 or html < json)


def html_body(page: str, status: int = 200) -> tuple[str, int, dict[str, str]]:
    return page, status, {"Content-Type": "text/html"}


class _Empty(flask.Response):
    default_mimetype = None  # werkzeug then sets no Content-Type (not one set, then deleted)


def empty(status: int = 200, headers: dict[str, str] | None = None) -> flask.Response:
    """An answer without a body ("Tomt"); it carries no Content-Type, as it has no content."""
    return _Empty(status=status, headers=headers)
