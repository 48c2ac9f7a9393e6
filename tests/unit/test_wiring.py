"""Handlers: every operationId resolves, every handler serves one operation, and each stays thin."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobagent_mock.contract import self_checks
from jobagent_mock.foundations import resources, spec
from jobagent_mock.foundations.handler_names import handler_name

HANDLERS = resources.folder(resources.HANDLERS_PACKAGE)
PACKAGE = resources.HANDLERS_PACKAGE


def test_every_operation_has_a_handler() -> None:
    assert self_checks.unresolved_handlers() == []


def test_the_admin_contract_lists_the_business_operation_ids(monkeypatch: Any) -> None:
    assert self_checks.admin_operation_ids() == []
    business = dict(spec.operations(spec.BUSINESS))
    business["NewOperation"] = business["GetJobagent"]
    monkeypatch.setattr(spec, "operations", lambda *_: business)
    assert self_checks.admin_operation_ids() != []


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


def test_the_layer_rules_hold() -> None:
    """pyproject.toml's [tool.importlinter] contracts: the engine knows no HTTP, handlers name
    only their allowed modules, the web side never imports the command line."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=HANDLERS.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
