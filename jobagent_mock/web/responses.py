"""What a handler returns (`Answer`), on either path: connexion's stack and the fast lane."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import flask
from connexion.jsonifier import Jsonifier

from jobagent_mock.foundations import jsontext

JSON = "application/json"
HTML = "text/html; charset=utf-8"  # as werkzeug completes "text/html"


@dataclass(frozen=True, slots=True)
class Answer:
    """A handler's answer, rendered: the text of the body ("" for none), the status and the
    headers, Content-Type included when there is a body. The only thing a handler returns, so
    both paths send it as it is: connexion's (`for_flask`) and the fast lane (`for_starlette`).
    No tuple: each path reads a tuple its own way (connexion infers the media type and status),
    where an Answer has nothing left to infer."""

    content: str = ""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


class NoAnswer(TypeError):
    """A handler returned something other than an Answer: a bug, the same 500 on both paths."""


def answered(result: Any, handler: Callable[..., Any]) -> Answer:
    if type(result) is not Answer:
        raise NoAnswer(f"{handler.__qualname__} returned {type(result).__name__}, not an Answer")
    return result


class CompactJsonifier(Jsonifier):
    """connexion's jsonifier, writing answers as `jsontext` does: one text for both of the mock's
    paths (connexion's and the fast lane), compact as ASP.NET writes it."""

    def __init__(self) -> None:
        super().__init__(json)

    def dumps(self, data: Any, **kwargs: Any) -> str:
        if kwargs:  # a call with options of its own: as connexion writes it
            return super().dumps(data, **kwargs)
        return json_text(data)


def json_text(data: Any) -> str:
    return jsontext.dumps(data) + "\n"


def json_body(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
    # The operations also produce application/problem+json, so the media type is always said.
    return Answer(json_text(body), status, {"Content-Type": JSON, **(headers or {})})


def html_body(page: str, status: int = 200) -> Answer:
    return Answer(page, status, {"Content-Type": HTML})


def empty(status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
    """An answer without a body ("Tomt"); it carries no Content-Type, as it has no content."""
    return Answer("", status, dict(headers or {}))


class _Bare(flask.Response):
    default_mimetype = None  # werkzeug then sets no Content-Type the Answer did not set


def for_flask(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler as connexion calls it: its Answer as a Flask response, which connexion sends
    as it is (its signature stays the handler's, for connexion's parameter binding)."""

    @wraps(handler)
    def answering(*args: Any, **kwargs: Any) -> flask.Response:
        answer = answered(handler(*args, **kwargs), handler)
        return _Bare(answer.content or None, answer.status, dict(answer.headers))

    return answering
