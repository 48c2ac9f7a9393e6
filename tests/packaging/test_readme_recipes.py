"""The README's pipx recipe, run as written: the repository's wheel for its git URL, a free port
for 8080, pipx's folders in a temporary place and the pinned versions (PIP_CONSTRAINT)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import smoke
from tests.packaging.conftest import CHECKOUT, CONSTRAINTS
from tests.servers import free_port

pytestmark = pytest.mark.packaging

SOURCE = '"git+https://<jobagent-mock repository>"'


def recipe(name: str) -> str:
    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- recipe:{name} .*?-->\n```sh\n(.*?)```", readme, re.DOTALL)
    assert found, f"the README has no recipe:{name}"
    return found.group(1)


def test_the_pipx_recipe_starts_the_mock_and_gets_a_token(wheel: Path, tmp_path: Path) -> None:
    script = recipe("pipx")
    assert SOURCE in script and "8080" in script
    port = free_port()
    script = script.replace(SOURCE, str(wheel)).replace("8080", str(port))
    bin_dir, tools = tmp_path / "bin", tmp_path / "tools"
    tools.mkdir()  # pipx alone from this venv: the recipe must find the jobagent-mock it installs
    (tools / "pipx").symlink_to(Path(sys.executable).parent / "pipx")
    env = {
        **os.environ,
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(bin_dir),
        "PATH": os.pathsep.join([str(bin_dir), str(tools), os.environ["PATH"]]),
        "PIP_CONSTRAINT": str(CONSTRAINTS),
    }
    run = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script + 'echo "TOKEN=$TOKEN"\n'],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the served mock stays in this group, stopped below
    )
    try:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        token = out.strip().splitlines()[-1].removeprefix("TOKEN=")
        assert (bin_dir / "jobagent-mock").exists()
        smoke.run(f"http://127.0.0.1:{port}", token)
    finally:
        try:
            os.killpg(run.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
