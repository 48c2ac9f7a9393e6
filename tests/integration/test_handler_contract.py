"""The handlers' contract (web/responses.py's Answer): whatever a handler returns, connexion's
stack and the fast lane send alike (an Answer as it is, anything else the same 500), and no
handler reaches for what only one of the two paths provides (Flask's request, connexion's
context, a starlette object)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import jobagent_mock.handlers
import jobagent_mock.handlers.jobagent
import pytest
from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from jobagent_mock.web.responses import Answer, empty, html_body, json_body
from tests.helpers import token_for
from tests.integration.test_fast_lane import KEY, documented_request, same_answer

HANDLERS = sorted(Path(jobagent_mock.handlers.__file__).parent.glob("[!_]*.py"))
# what both paths fill or provide: the request context, the Answer, and the engine's rules
SHARED = ("jobagent_mock.web.context", "jobagent_mock.web.responses")
ONE_PATH_ONLY = ("flask", "werkzeug", "connexion", "starlette", "a2wsgi", "jobagent_mock.web")
ENGINE_FRONT = ("jobagent_mock.stores", "jobagent_mock.service", "jobagent_mock.proxy")

RETURNS: dict[str, Callable[[], Any]] = {
    "a JSON body": lambda: json_body({"navn": "Ærø", "antal": 1}),
    "a JSON body, 201 and a Location": lambda: json_body([], 201, {"Location": "/v1/Jobagent/x"}),
    "an empty body": lambda: empty(),
    "an empty body, 201 and a Location": lambda: empty(201, {"Location": "/v1/Jobagent/x"}),
    "an empty 204": lambda: empty(204),
    "an HTML page": lambda: html_body("<p>Ærø</p>"),
    "a tuple (body, 201)": lambda: ({"navn": "x"}, 201),
    "a tuple (body, status, headers)": lambda: ({"navn": "x"}, 200, {"Content-Type": "text/x"}),
    "a bare dict": lambda: {"navn": "x"},
    "None": lambda: None,
    "a Flask response": lambda: flask.Response("x", 201),
}


def _imported(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.name)
def test_a_handler_reaches_only_for_what_both_paths_provide(path: Path) -> None:
    reached = [
        f"{path.name}:{line} imports {module}"
        for line, module in _imported(path)
        if not _within(module, SHARED)
        and (_within(module, ONE_PATH_ONLY) or _within(module, ENGINE_FRONT))
    ]
    assert not reached, (
        "a handler runs on connexion's stack and in the fast lane, where no Flask request and no "
        "connexion context exist: read the request through jobagent_mock.web.context, answer "
        f"with web/responses.py's Answer: {reached}"
    )


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.name)
def test_every_handler_says_it_returns_an_answer(path: Path) -> None:
    module = f"jobagent_mock.handlers.{path.stem}"
    functions = inspect.getmembers(__import__(module, fromlist=["_"]), inspect.isfunction)
    mine = [(n, f) for n, f in functions if f.__module__ == module and not n.startswith("_")]
    assert mine
    wrong = [
        n for n, f in mine if inspect.signature(f, eval_str=True).return_annotation is not Answer
    ]
    assert not wrong, f"{path.name}: {wrong} must be annotated -> Answer (web/responses.py)"


MAKERS = {"json_body", "html_body", "empty", "Answer"}


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.name)
def test_every_handler_returns_what_an_answer_maker_makes(path: Path) -> None:
    """What the annotation says, held where it is written (mypy is not part of `make test`): each
    return of a handler is a call of web/responses.py's makers, never a tuple, a dict or None."""
    wrong = [
        f"{path.name}:{node.lineno}"
        for function in ast.parse(path.read_text()).body
        if isinstance(function, ast.FunctionDef) and not function.name.startswith("_")
        for node in ast.walk(function)
        if isinstance(node, ast.Return)
        and not (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in MAKERS
        )
    ]
    assert not wrong, (
        f"return json_body(...), html_body(...) or empty(...) (web/responses.py), as both the "
        f"fast lane and connexion's stack send it; not a tuple or a bare body: {wrong}"
    )


ANSWER: list[Callable[[], Any]] = [RETURNS["a JSON body"]]


def _get_jobagent(jobagent_identifier: str) -> Any:  # noqa: ARG001
    return ANSWER[0]()


class Returning:
    """Two apps, with and without the lane, whose GetJobagent returns what `answer` makes."""

    def __init__(self) -> None:
        self.lane = create_app(signing_key=KEY)
        self.full = create_app(signing_key=KEY, fast_lane=False)
        self.reached_flask = 0
        self.lane.app.before_request(self._count)
        self.lane_http, self.full_http = TestClient(self.lane), TestClient(self.full)
        token = token_for(self.lane_http, "star-jobnet")
        self.request = documented_request(spec.operations(spec.BUSINESS)["GetJobagent"], token)

    def _count(self) -> None:
        self.reached_flask += 1

    def both(self) -> tuple[Any, Any]:
        request = dict(self.request)
        method, path = request.pop("method"), request.pop("path")
        return (
            self.lane_http.request(method, path, **request),
            self.full_http.request(method, path, **request),
        )


@pytest.fixture(scope="module")
def returning() -> Iterator[Returning]:
    with pytest.MonkeyPatch.context() as patch:
        # connexion and the lane look handlers up when the app first answers (in Returning)
        patch.setattr(jobagent_mock.handlers.jobagent, "get_jobagent", _get_jobagent)
        yield Returning()


@pytest.mark.parametrize("case", RETURNS)
def test_what_a_handler_returns_is_sent_alike_by_both_paths(
    returning: Returning, case: str
) -> None:
    ANSWER[0], returning.reached_flask = RETURNS[case], 0
    lane, full = returning.both()
    assert returning.reached_flask == 0  # the lane answered, not connexion after it stepped aside
    same_answer(lane, full)
    made = RETURNS[case]()
    if isinstance(made, Answer):
        assert (lane.status_code, lane.text) == (made.status, made.content)
        assert {k.lower(): v for k, v in made.headers.items()}.items() <= lane.headers.items()
        assert ("content-type" in lane.headers) == bool(made.content)
    else:  # a bug in a handler: the same 500 Problem on both paths, never a guessed rendering
        assert lane.status_code == 500
        assert lane.headers["content-type"] == "application/problem+json"
