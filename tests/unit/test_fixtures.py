"""Fixture files: every shipped one loads; a bad one stops start-up naming file and record."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jobagent_mock.foundations import cpr, fixtures


@pytest.fixture
def copy_of_fixtures(tmp_path: Path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(fixtures.DEFAULT_DIR, target)
    return target


def edit(folder: Path, name: str, change: object) -> None:
    path = folder / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")


def test_shipped_fixtures_load() -> None:
    loaded = fixtures.load()
    assert {1010, 4405, 4720, 4725, 4750, 4786, 4316, 8273, 6033, 8111} <= {
        code for p in loaded.personas for code in p["fejlkoder"]
    }
    assert {c["organisationType"] for c in loaded.clients} >= {
        "STAR",
        "JobCenter",
        "A-kasse",
        "Kommune",
    }


def test_personas_are_well_formed_cprs_and_one_is_65_or_older() -> None:
    today = __import__("datetime").date(2026, 11, 27)
    personas = fixtures.load().personas
    assert all(cpr.is_valid(p["cpr"], today) for p in personas)
    ages = [cpr.age(cpr.birth_date(p["cpr"]), today) for p in personas]  # type: ignore[arg-type]
    assert max(ages) >= 65


def test_bad_record_names_file_and_record(copy_of_fixtures: Path) -> None:
    edit(copy_of_fixtures, "personas.json", lambda data: data[3].update(fejlkoder=["x"]))
    with pytest.raises(fixtures.FixtureError, match=r"personas.json: record 3 at fejlkoder/0"):
        fixtures.load(copy_of_fixtures)


def test_seed_jobagent_must_follow_the_contract(copy_of_fixtures: Path) -> None:
    edit(copy_of_fixtures, "jobagents.json", lambda data: data[1]["jobagent"].update(titel=""))
    with pytest.raises(fixtures.FixtureError, match=r"jobagents.json: record 1 at jobagent"):
        fixtures.load(copy_of_fixtures)


def test_not_json_is_one_clear_error(copy_of_fixtures: Path) -> None:
    (copy_of_fixtures / "clients.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(fixtures.FixtureError, match=r"clients.json: not valid UTF-8 JSON"):
        fixtures.load(copy_of_fixtures)


def test_duplicate_persona_is_refused(copy_of_fixtures: Path) -> None:
    edit(copy_of_fixtures, "personas.json", lambda data: data.append(dict(data[0])))
    with pytest.raises(fixtures.FixtureError, match=r"duplicate cpr"):
        fixtures.load(copy_of_fixtures)


def test_check_command_fails_on_a_bad_fixture(copy_of_fixtures: Path) -> None:
    edit(copy_of_fixtures, "moedetilbud.json", lambda data: data[0].update(tidspunkter=["25:00"]))
    run = subprocess.run(
        [sys.executable, "-m", "jobagent_mock", "check", "--fixtures", str(copy_of_fixtures)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "moedetilbud.json: record 0 at tidspunkter/0" in run.stderr


def test_check_command_passes_on_the_shipped_files() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "jobagent_mock", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def write(folder: Path, name: str, data: object) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return folder


PARTNER_PERSONA = {
    "cpr": "0101901234",
    "description": "Partnerens døde borger",
    "fejlkoder": [4405],
}


def test_an_overlay_adds_records_and_keeps_the_packaged_ones(tmp_path: Path) -> None:
    folder = write(tmp_path / "ours", "personas.json", [PARTNER_PERSONA])
    packaged, overlaid = fixtures.load(), fixtures.load(folder)
    assert overlaid.personas == [*packaged.personas, PARTNER_PERSONA]
    assert overlaid.clients == packaged.clients and overlaid.moedetilbud == packaged.moedetilbud


def test_an_overlay_record_replaces_the_packaged_one_of_the_same_name(tmp_path: Path) -> None:
    client = {**fixtures.load().clients[0], "client_secret": "our-own-secret"}
    loaded = fixtures.load(write(tmp_path / "ours", "clients.json", [client]))
    assert [c for c in loaded.clients if c["client_id"] == client["client_id"]] == [client]
    assert len(loaded.clients) == len(fixtures.load().clients)


def test_an_overlay_adds_occupations_field_by_field(tmp_path: Path) -> None:
    occupation = {
        "conceptUriDa": "http://example.dk/esco/x",
        "betegnelse": "X",
        "status": "udgaaet",
    }
    loaded = fixtures.load(
        write(tmp_path, "occupations.json", {"stillingsbetegnelser": [occupation]})
    )
    packaged = fixtures.load().occupations
    assert loaded.occupations["stillingsbetegnelser"] == [
        *packaged["stillingsbetegnelser"],
        occupation,
    ]
    assert loaded.occupations["beskaeftigelsesomraader"] == packaged["beskaeftigelsesomraader"]


def test_a_bad_overlay_record_is_named_by_its_place_in_the_partners_file(tmp_path: Path) -> None:
    bad = {**PARTNER_PERSONA, "cpr": "12345"}
    folder = write(tmp_path / "ours", "personas.json", [PARTNER_PERSONA, bad])
    with pytest.raises(fixtures.FixtureError, match=r"ours/personas.json: record 1 at cpr"):
        fixtures.load(folder)


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("persona.json", [], r"persona.json: not a fixture file \(they are personas.json, "),
        ("personas.json", {"cpr": "0101901234"}, r"personas.json: expected a JSON array"),
        ("personas.json", [PARTNER_PERSONA, PARTNER_PERSONA], r"record 1: duplicate cpr"),
    ],
)
def test_an_unusable_overlay_is_one_clear_error(
    tmp_path: Path, name: str, data: object, said: str
) -> None:
    with pytest.raises(fixtures.FixtureError, match=said):
        fixtures.load(write(tmp_path / "ours", name, data))


def test_an_overlay_folder_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(fixtures.FixtureError, match=r"nowhere: no such folder"):
        fixtures.load(tmp_path / "nowhere")
