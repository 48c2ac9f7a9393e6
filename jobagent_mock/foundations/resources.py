"""Where the packaged contracts, fixtures and handlers are: subpackages of jobagent_mock."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# The repository's top-level folders, mapped into the package by pyproject.toml
# ([tool.setuptools.package-dir]): the same names in a checkout (editable) and in the wheel.
CONTRACTS_PACKAGE = "jobagent_mock.openapi"
FIXTURES_PACKAGE = "jobagent_mock.fixture_files"
HANDLERS_PACKAGE = "jobagent_mock.handlers"


def folder(package: str) -> Path:
    """A data package's folder. pip unpacks wheels, so it is a real one, which connexion,
    jsonschema's loaders and shutil need."""
    return Path(str(files(package)))
