"""The house drawn in ARCHITECTURE.md is the tree: every room and module where the drawing says,
and its layers those the import-linter contract holds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import jobagent_mock

PACKAGE = Path(jobagent_mock.__file__).parent
CHECKOUT = PACKAGE.parent
ROOM_LINE = re.compile(r"^  (?P<room>[a-z_]+(?:/|\.py))\s")


def _drawing() -> list[str]:
    text = (CHECKOUT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text[text.index("## The house") :]
    start = section.index("```\njobagent_mock/") + 4
    return section[start : section.index("\n```", start)].splitlines()


def _drawn() -> dict[str, set[str]]:
    """Room (or root module) -> the modules the drawing names in it."""
    drawn: dict[str, set[str]] = {}
    room = None
    for line in _drawing()[1:]:
        if not line.startswith("  "):
            break  # the drawing of jobagent_mock/ ends at the first top-level folder
        found = ROOM_LINE.match(line)
        if found:
            room = found["room"]
            drawn[room] = set()
        if room and room.endswith("/"):
            drawn[room] |= set(re.findall(r"\b([a-z_]+\.py)\b", line[18:]))
    return drawn


def _tree() -> dict[str, set[str]]:
    tree = {f"{p.name}/": {m.name for m in p.glob("[!_]*.py")} for p in _rooms()}
    tree.update({p.name: set() for p in PACKAGE.glob("[!_]*.py")})
    return tree


def _rooms() -> list[Path]:
    return [p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]


def test_the_drawing_names_every_room_and_module_where_it_lives() -> None:
    assert _drawn() == _tree()


def test_the_drawn_layers_are_the_contract_s() -> None:
    config = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    text = (CHECKOUT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    drawn = re.search(r"^  (cli > .*)$", text, re.MULTILINE)
    assert drawn is not None
    assert drawn[1].split(" > ") == layers


def test_every_room_says_what_it_holds() -> None:
    for room in _rooms():
        docstring = (room / "__init__.py").read_text(encoding="utf-8").strip()
        assert docstring.startswith('"""') and len(docstring) > 20, room.name
