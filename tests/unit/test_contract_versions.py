"""The published contract: semantic versions, the record of what was published, and the guard
that refuses a breaking change without a major version and a changelog entry."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobagent_mock import cli
from jobagent_mock.contract import changelog
from jobagent_mock.contract.changelog import Folder, Release
from jobagent_mock.foundations import spec
from tests.unit.test_contract_diff import GET, add_optional_properties, remove_response_property

NOTES = "TitelSvar replaces titel: read the title from there.\n"


def test_every_contract_has_a_semantic_version() -> None:
    for name in spec.CONTRACTS:
        version = spec.raw(name)["info"]["version"]
        assert changelog.SEMVER.fullmatch(version), f"{name}: {version}"


def test_the_working_contract_may_go_out_as_it_stands() -> None:
    """The guard of `make test`: a breaking change since the last published version needs a
    major version and an entry in openapi/published/releases.yaml (see README)."""
    problems = changelog.guard()
    assert problems == [], "\n".join(problems)


def test_each_published_version_is_kept_and_the_changelog_is_current() -> None:
    done = changelog.published(changelog.releases())
    assert done[-1] == Release("1.0.0", "2026-11-30", done[-1].notes), "the first published"
    for release in done:
        kept = changelog.contract(changelog.OPENAPI.snapshot(release.version))
        assert kept["info"]["version"] == release.version
    assert [r.date for r in done] == sorted((r.date for r in done), reverse=True)
    written = changelog.OPENAPI.changelog.read_text(encoding="utf-8")
    assert written == changelog.published_markdown(), "run: jobagent-mock docs --readme"


# versions relative to the last published one, so these tests hold after every publication
LAST = changelog.published(changelog.releases())[0]
_MAJOR, _MINOR, _PATCH = changelog.version_key(LAST.version)[:3]
NEXT_MAJOR = f"{_MAJOR + 1}.0.0"
NEXT_MINOR = f"{_MAJOR}.{_MINOR + 1}.0"
NEXT_PATCH = f"{_MAJOR}.{_MINOR}.{_PATCH + 1}"


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    """openapi/ as it was right after the last publication, whatever is under way there now."""
    shutil.copytree(changelog.OPENAPI.root / "published", tmp_path / "published")
    folder = Folder(tmp_path)
    changelog.write_releases(changelog.published(changelog.releases(folder)), folder)
    shutil.copy(folder.snapshot(LAST.version), folder.working)
    changelog.write_changelog(folder)
    return folder


def work_on(
    folder: Folder, edit: Callable[[dict[str, Any]], None], version: str, notes: str | None = None
) -> None:
    """Edit the working contract, give it a version, and write its changelog entry if any."""
    document = copy.deepcopy(changelog.contract(folder.snapshot(LAST.version)))
    edit(document)
    document["info"]["version"] = version
    folder.working.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    if notes is not None:
        entries = [r for r in changelog.releases(folder) if r.version != version]
        changelog.write_releases([Release(version, None, notes), *entries], folder)


def test_a_breaking_change_under_the_same_version_fails_and_names_it(folder: Folder) -> None:
    work_on(folder, remove_response_property, LAST.version)
    problems = changelog.guard(folder)
    assert f"but info.version is {LAST.version}: raise it" in problems[0]
    assert f"breaking changes need a major version: info.version {NEXT_MAJOR}" in problems
    needs_entry = f"breaking changes need a changelog entry: version {LAST.version}"
    assert any(problem.startswith(needs_entry) for problem in problems)
    assert (
        "BREAKING  GetJobagent (GET /v1/Jobagent/{jobagentIdentifier}) response 200 `titel`: "
        "property removed"
    ) in problems[-1]


@pytest.mark.parametrize("version", [NEXT_MINOR, NEXT_PATCH])
def test_a_breaking_change_without_a_major_version_fails(folder: Folder, version: str) -> None:
    work_on(folder, remove_response_property, version, NOTES)
    problems = changelog.guard(folder)
    assert problems[0] == f"breaking changes need a major version: info.version {NEXT_MAJOR}"
    assert "property removed" in problems[-1]


def test_a_major_version_without_a_changelog_entry_fails(folder: Folder) -> None:
    work_on(folder, remove_response_property, NEXT_MAJOR)
    problems = changelog.guard(folder)
    assert problems[0].startswith(f"breaking changes need a changelog entry: version {NEXT_MAJOR}")


def test_a_major_version_with_its_entry_passes_and_publishes(folder: Folder) -> None:
    work_on(folder, remove_response_property, NEXT_MAJOR, NOTES)
    assert changelog.guard(folder) == []
    unreleased = changelog.sections(folder)[0]
    assert (unreleased.version, unreleased.date, unreleased.notes) == (NEXT_MAJOR, None, NOTES)
    assert all(change.breaking for change in unreleased.changes)
    served = unreleased.as_json()  # as /__admin/changelog shows it: no date until published
    assert "date" not in served
    assert {
        "where": f"{GET} response 200 `titel`",
        "what": "property removed",
        "breaking": True,
    } in (served["changes"])

    release = changelog.publish(date(2099, 1, 5), folder)

    assert release == Release(NEXT_MAJOR, "2099-01-05", NOTES)
    assert folder.snapshot(NEXT_MAJOR).read_bytes() == folder.working.read_bytes()
    assert [(r.version, r.date) for r in changelog.releases(folder)][:2] == [
        (NEXT_MAJOR, "2099-01-05"),
        (LAST.version, LAST.date),
    ]
    written = folder.changelog.read_text(encoding="utf-8")
    assert written.index(f"## {NEXT_MAJOR} (2099-01-05)") < written.index(
        f"## {LAST.version} ({LAST.date})"
    )
    assert "### Breaking changes" in written
    assert "response 200 `titel`: property removed" in written
    assert changelog.guard(folder) == []
    with pytest.raises(changelog.PublishError, match=f"{NEXT_MAJOR} is already published"):
        changelog.publish(date(2099, 1, 6), folder)


def test_an_addition_needs_a_higher_version_but_no_major(folder: Folder) -> None:
    work_on(folder, add_optional_properties, LAST.version)
    (problem,) = changelog.guard(folder)
    assert problem.startswith(f"jobagent.yaml changed since {LAST.version} was published (")
    assert problem.endswith(f"but info.version is {LAST.version}: raise it")
    with pytest.raises(changelog.PublishError, match=f"{LAST.version} is already published"):
        changelog.publish(date(2099, 1, 5), folder)
    work_on(folder, add_optional_properties, NEXT_MINOR)
    assert changelog.guard(folder) == []
    changelog.publish(date(2099, 1, 5), folder)
    assert f"## {NEXT_MINOR} (2099-01-05)\n\n### Other changes" in folder.changelog.read_text()


def test_the_publish_command(folder: Folder, capsys: pytest.CaptureFixture[str]) -> None:
    publish = ["publish", "--openapi", str(folder.root), "--date", "2099-01-05"]
    kept = [folder.releases.read_bytes(), folder.changelog.read_bytes()]
    assert cli.main(publish) == 1
    assert f"{LAST.version} is already published" in capsys.readouterr().err
    assert [folder.releases.read_bytes(), folder.changelog.read_bytes()] == kept
    work_on(folder, remove_response_property, NEXT_MAJOR, NOTES)
    assert cli.main(publish) == 0
    assert (
        f"published jobagent.yaml {NEXT_MAJOR} (2099-01-05) as {folder.snapshot(NEXT_MAJOR)}"
        in (capsys.readouterr().out)
    )
    assert folder.snapshot(NEXT_MAJOR).is_file()


def test_a_version_that_is_not_semver_is_refused(folder: Folder) -> None:
    work_on(folder, lambda _document: None, "1.0.0-mock.")
    assert changelog.guard(folder) == [
        "jobagent.yaml info.version '1.0.0-mock.' is not semantic versioning"
    ]
