"""Handlers: every operationId resolves, every handler serves one operation, and each stays thin."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from jobagent_mock import checks, resources, spec
from jobagent_mock.web.app import handler_name

HANDLERS = resources.folder(resources.HANDLERS_PACKAGE)
PACKAGE = resources.HANDLERS_PACKAGE


def test_every_operation_has_a_handler() -> None:
    assert checks.unresolved_handlers() == []


def test_every_handler_serves_exactly_one_operation() -> None:
    served = [
        handler_name(op.operation_id, op.spec["tags"])
        for name in spec.CONTRACTS
        for op in spec.operations(name).values()
    ]
    defined = []
    for path in HANDLERS.glob("*.py"):
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        defined += [
            f"{PACKAGE}.{path.stem}.{name}"
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if fn.__module__ == module.__name__
        ]
    assert sorted(served) == sorted(defined)


def test_snake_case_names() -> None:
    assert handler_name("GetJobagenterPaaEmail", ["Jobagent"]) == (
        "jobagent_mock.handlers.jobagent.get_jobagenter_paa_email"
    )
    assert handler_name("TilmeldOgBook", ["Tilmelding"]) == (
        "jobagent_mock.handlers.tilmelding.tilmeld_og_book"
    )


def test_handlers_are_thin_and_never_validate() -> None:
    for path in HANDLERS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            assert len(function.body) <= 8, f"{path.name}:{function.name} is not thin"
            source = ast.unparse(function)
            assert "isinstance(" not in source and " not in body" not in source


def test_the_engine_knows_no_http() -> None:
    engine = Path(spec.__file__).parent
    for path in engine.glob("*.py"):
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (
                node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
            )
        }
        assert not imported & {"connexion", "flask", "starlette", "uvicorn"} or path.name in (
            "cli.py",
        ), path.name
