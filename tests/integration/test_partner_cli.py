"""What a partner types at the command line: switches take only yes/no words, `--port 0` picks a
free port and says which, and a closed pipe or a missing file is one line, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobagent_mock import cli
from jobagent_mock.foundations import spec
from jobagent_mock.web.environment import ENVIRONMENT, OFF, ON, SettingError, switched_on
from tests.servers import stop

MOCK = str(Path(sys.executable).parent / "jobagent-mock")


@pytest.mark.parametrize(
    ("value", "on"),
    [
        *[(word, True) for word in ("1", "true", "YES", "On", "ja")],
        *[(word, False) for word in ("0", "False", "no", "OFF", "nej")],
    ],
)
def test_a_switch_takes_the_yes_and_no_words(
    monkeypatch: pytest.MonkeyPatch, value: str, on: bool
) -> None:
    monkeypatch.setenv(ENVIRONMENT["closed_world"], value)
    assert switched_on("closed_world", not on) is on


@pytest.mark.parametrize("value", ["maybe", "nope", "2", "ture", "enabled"])
def test_any_other_word_is_refused_not_read_as_on(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENVIRONMENT["fast_lane"], value)
    with pytest.raises(SettingError, match="JOBAGENT_MOCK_FAST_LANE"):
        switched_on("fast_lane", True)


# what an environment variable can hold: no NUL, no lone surrogate
VARIABLE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)


@given(VARIABLE_TEXT)
def test_a_switch_is_on_off_or_refused_never_guessed(value: str) -> None:
    word = value.strip().lower()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENVIRONMENT["closed_world"], value)
        if not word:
            assert switched_on("closed_world", True) is True  # unset, in effect: the default
        elif word in ON + OFF:
            assert switched_on("closed_world", word in OFF) is (word in ON)
        else:
            with pytest.raises(SettingError):
                switched_on("closed_world", False)


def test_serve_refuses_a_switch_it_cannot_read_in_one_line() -> None:
    run = subprocess.run(
        [MOCK, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, ENVIRONMENT["closed_world"]: "maybe"},
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "jobagent-mock: JOBAGENT_MOCK_CLOSED_WORLD='maybe' is no yes/no value: use one of "
        "1, true, yes, on, ja or 0, false, no, off, nej"
    ]


def test_port_0_picks_a_free_port_and_prints_it() -> None:
    process = subprocess.Popen(
        [MOCK, "serve", "--port", "0", "--no-access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"serving http://127\.0\.0\.1:(\d+)", first)
        assert found and found.group(1) != "0", first
        url = f"http://127.0.0.1:{found.group(1)}/__admin/health"
        for _ in range(300):  # bounded: the banner comes just before the socket listens
            try:
                assert httpx.get(url, timeout=1).json()["status"] == "ok"
                break
            except httpx.HTTPError:
                continue
        else:
            raise AssertionError("nothing answered on the printed port")
    finally:
        stop(process)  # type: ignore[arg-type]
        process.stdout.close()  # type: ignore[union-attr]


def test_a_closed_pipe_is_no_traceback() -> None:
    published = spec.SPEC_DIR / spec.BUSINESS
    older = next(iter(sorted((spec.SPEC_DIR / "published").glob("jobagent-1.*.yaml"))))
    diff = subprocess.Popen(
        [MOCK, "contract-diff", str(older), str(published)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert diff.stdout is not None and diff.stderr is not None
    diff.stdout.close()  # as `| head` does once it has its lines
    error = diff.stderr.read().decode()
    diff.wait(timeout=60)
    diff.stderr.close()
    assert "Traceback" not in error and "BrokenPipeError" not in error, error


@pytest.mark.parametrize(
    "command",
    [
        ["contract-diff", "{missing}/old.yaml", str(spec.SPEC_DIR / spec.BUSINESS)],
        ["publish", "--openapi", "{missing}"],
    ],
)
def test_a_missing_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main([part.format(missing=missing) for part in command]) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "nowhere" in said[0] and "Error" not in said[0], said


def test_a_start_up_failure_names_no_python_exception(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path}/no/such/dir/x.db"
    run = subprocess.run(
        [MOCK, "serve", "--port", "0", "--workers", "2", "--store", store],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 2
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("jobagent-mock: cannot start: ") and "Error" not in line, line
