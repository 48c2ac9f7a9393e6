"""The published versions of jobagent.yaml: their record, the changelog made from their diffs,
the guard against an unannounced breaking change, and the step that publishes a new version."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from jobagent_mock.contract.contract_diff import Change, changes, load
from jobagent_mock.foundations import spec

# semver.org's grammar: MAJOR.MINOR.PATCH, an optional pre-release and build
SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
_RELEASES_HEADER = """\
# Every version of openapi/jobagent.yaml, newest first. A maintainer writes the entry of the
# next version (its `version` and `notes`: what changed for a partner and why) before
# publishing; `jobagent-mock publish` adds its `date` and keeps the contract as it was then in
# published/jobagent-VERSION.yaml. What changed is never written here: the changelog computes
# it from the published files (jobagent-mock contract-diff).
"""


class PublishError(Exception):
    """The working contract cannot be published as it stands; said in a few lines."""


@dataclass(frozen=True)
class Folder:
    """Where the working contract, its published versions and the changelog are."""

    root: Path = spec.SPEC_DIR

    @property
    def working(self) -> Path:
        return self.root / spec.BUSINESS

    @property
    def releases(self) -> Path:
        return self.root / "published" / "releases.yaml"

    @property
    def changelog(self) -> Path:
        return self.root / "CHANGELOG.md"

    def snapshot(self, version: str) -> Path:
        return self.root / "published" / f"jobagent-{version}.yaml"


OPENAPI = Folder()


@dataclass(frozen=True)
class Release:
    version: str
    date: str | None  # None: not published yet
    notes: str = ""


@dataclass(frozen=True)
class Section:
    """One version of the changelog, with what changed since the version before it."""

    version: str
    date: str | None
    notes: str
    changes: list[Change] = field(default_factory=list)
    first: bool = False

    def as_json(self) -> dict[str, Any]:
        published = {} if self.date is None else {"date": self.date}
        return {
            "version": self.version,
            **published,
            "notes": self.notes,
            "changes": [
                {"where": c.where, "what": c.what, "breaking": c.breaking} for c in self.changes
            ],
        }


def version_key(version: str) -> tuple[int, int, int, int, str]:
    """Orders versions as semver does (a pre-release before its release; build ignored)."""
    match = SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), 0 if pre else 1, pre or ""


def releases(folder: Folder = OPENAPI) -> list[Release]:
    """Every entry of releases.yaml, newest first."""
    entries = yaml.safe_load(folder.releases.read_text(encoding="utf-8")) or []
    found = [
        Release(
            str(e["version"]), None if e.get("date") is None else str(e["date"]), e.get("notes", "")
        )
        for e in entries
    ]
    return sorted(found, key=lambda release: version_key(release.version), reverse=True)


def published(entries: list[Release]) -> list[Release]:
    return [release for release in entries if release.date is not None]


def working_version(contract: dict[str, Any]) -> str:
    return str(contract["info"]["version"])


def sections(folder: Folder = OPENAPI) -> list[Section]:
    """The changelog, newest first: the working contract's changes not yet published (if any),
    then every published version with what changed since the one before it."""
    entries = releases(folder)
    done = published(entries)
    found = []
    unreleased = _unreleased(folder, entries, done)
    if unreleased is not None:
        found.append(unreleased)
    for newer, older in zip(done, done[1:], strict=False):
        old, new = (contract(folder.snapshot(r.version)) for r in (older, newer))
        found.append(Section(newer.version, newer.date, newer.notes, changes(old, new)))
    if done:
        first = done[-1]
        found.append(Section(first.version, first.date, first.notes, first=True))
    return found


def _unreleased(folder: Folder, entries: list[Release], done: list[Release]) -> Section | None:
    working = contract(folder.working)
    version = working_version(working)
    if any(release.version == version for release in done):
        return None
    entry = next((r for r in entries if r.version == version), Release(version, None))
    found = changes(contract(folder.snapshot(done[0].version)), working) if done else []
    return Section(version, None, entry.notes, found, first=not done)


def contract(path: Path) -> dict[str, Any]:
    return _parsed(path, path.stat().st_mtime_ns)


@cache
def _parsed(path: Path, _modified: int) -> dict[str, Any]:
    return load(path)


def guard(folder: Folder = OPENAPI) -> list[str]:
    """The guard of `make test`: the working contract against the last published one."""
    return guard_problems(contract(folder.working), releases(folder), folder)


def guard_problems(
    working: dict[str, Any], entries: list[Release], folder: Folder = OPENAPI
) -> list[str]:
    """Why the working contract may not go out as it stands: empty when it may. A change needs
    a higher version than the last published; a breaking one a higher major version and an
    entry in releases.yaml saying what a partner must do."""
    version = working_version(working)
    if SEMVER.fullmatch(version) is None:
        return [f"jobagent.yaml info.version {version!r} is not semantic versioning"]
    done = published(entries)
    if not done:
        return []
    last = done[0]
    found = changes(contract(folder.snapshot(last.version)), working)
    if not found:
        return []
    breaking = [change for change in found if change.breaking]
    problems = []
    if version_key(version) <= version_key(last.version):
        problems.append(
            f"jobagent.yaml changed since {last.version} was published ({len(found)} changes) "
            f"but info.version is {version}: raise it"
        )
    if breaking:
        problems += _breaking_problems(version, last, entries, breaking, folder)
    return problems


def _breaking_problems(
    version: str, last: Release, entries: list[Release], breaking: list[Change], folder: Folder
) -> list[str]:
    problems = []
    major = version_key(last.version)[0] + 1
    if version_key(version)[0] < major:
        problems.append(f"breaking changes need a major version: info.version {major}.0.0")
    entry = next((r for r in entries if r.version == version and r.date is None), None)
    if entry is None or not entry.notes.strip():
        problems.append(
            f"breaking changes need a changelog entry: version {version} with its notes "
            f"in {folder.releases}"
        )
    if problems:
        problems.append(
            f"breaking changes since {last.version}:\n" + "\n".join(c.line() for c in breaking)
        )
    return problems


def markdown(found: list[Section]) -> str:
    """The changelog as Markdown, newest first."""
    parts = ["# Changelog of jobagent.yaml\n"]
    parts.append(
        "What changed for a client in each version of the contract, newest first, computed "
        "from the versions kept in `openapi/published/` (`jobagent-mock contract-diff OLD NEW` "
        "shows the same for any two files). Breaking changes may fail a client built on the "
        "version before; a version not yet published is marked unreleased. Generated; never "
        "edited by hand.\n"
    )
    for section in found:
        parts.append(_section_markdown(section))
    return "\n".join(parts)


def _section_markdown(section: Section) -> str:
    lines = [f"## {section.version} ({section.date or 'unreleased'})", ""]
    if section.notes.strip():
        lines += [section.notes.strip(), ""]
    if section.first:
        lines += ["The first published version.", ""]
    elif not section.changes:
        lines += ["No change a client can notice.", ""]
    for title, breaking in (("Breaking changes", True), ("Other changes", False)):
        listed = [c for c in section.changes if c.breaking == breaking]
        if listed:
            lines += [f"### {title}", ""] + [f"- {c.where}: {c.what}" for c in listed] + [""]
    return "\n".join(lines)


def published_markdown(folder: Folder = OPENAPI) -> str:
    """CHANGELOG.md: the published versions only, so it changes only when one is published."""
    return markdown([section for section in sections(folder) if section.date])


def publish(today: date, folder: Folder = OPENAPI) -> Release:
    """Keep the working contract as a new published version, date it in releases.yaml and
    write CHANGELOG.md anew. Refuses what the guard refuses, and a version published before."""
    working = contract(folder.working)
    entries = releases(folder)
    version = working_version(working)
    if any(r.version == version for r in published(entries)):
        raise PublishError(f"{version} is already published: raise info.version in jobagent.yaml")
    problems = guard_problems(working, entries, folder)
    if problems:
        raise PublishError("\n".join(problems))
    notes = next((r.notes for r in entries if r.version == version), "")
    release = Release(version, today.isoformat(), notes)
    folder.snapshot(version).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder.working, folder.snapshot(version))
    write_releases([release] + [r for r in entries if r.version != version], folder)
    write_changelog(folder)
    return release


def write_changelog(folder: Folder = OPENAPI) -> bool:
    """Write CHANGELOG.md anew; True when anything changed."""
    old = folder.changelog.read_text(encoding="utf-8") if folder.changelog.exists() else ""
    new = published_markdown(folder)
    folder.changelog.write_text(new, encoding="utf-8")
    return new != old


def write_releases(entries: list[Release], folder: Folder = OPENAPI) -> None:
    body = [
        {"version": r.version, "date": r.date, "notes": _Block(r.notes.strip() + "\n")}
        for r in entries
    ]
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96)
    folder.releases.write_text(_RELEASES_HEADER + text, encoding="utf-8")


class _Block(str):
    """Notes, written as a YAML literal block so they stay readable and diff line by line."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Block, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
)


@cache
def served() -> dict[str, Any]:
    """The changelog as /__admin/changelog answers it (the contracts do not change while served)."""
    return {
        "version": working_version(spec.raw(spec.BUSINESS)),
        "versions": [section.as_json() for section in sections()],
    }
