"""An independent tool agrees with the contract: a client generated from jobagent.yaml by
openapi-python-client works against the mock, typed models and all."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from jobagent_mock.foundations import spec
from tests.helpers import ORDINARY, token_for

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("client") / "out"
    config = out.parent / "config.yaml"
    config.write_text("post_hooks: []\npackage_name_override: jobagent_client\n")
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec.SPEC_DIR / spec.BUSINESS),
            "--output-path",
            str(out),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout  # every schema and operation understood
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("jobagent_client")
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n.startswith("jobagent_client")]:
            del sys.modules[name]
        shutil.rmtree(out, ignore_errors=True)


def module(root: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{root.__name__}.{name}")


def test_generated_client_walks_create_get_list_delete(generated: ModuleType, app: Any) -> None:
    http = TestClient(app)
    http.headers["Authorization"] = f"Bearer {token_for(http, 'star-jobnet')}"
    client = module(generated, "client").Client(base_url="http://testserver").set_httpx_client(http)
    models = module(generated, "models")
    api = "api.jobagent."

    body = models.CreateJobagentRequestDto(
        titel="Fra genereret klient",
        jobagent_identifier=UUID("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"),
        jobagent=models.JobagentDto(
            email="klient@example.dk",
            udsendelsesinterval=models.Udsendelsesinterval(2),  # Ugentligt
            sms_notifikation=False,
        ),
        soegeparametre=models.SoegeparametreDto(),
    )
    created = module(generated, api + "create_jobagent").sync_detailed(
        client=client, body=body, x_civil_registration_identifier=ORDINARY, x_request_id="gen-1"
    )
    assert created.status_code == 201

    fetched = module(generated, api + "get_jobagent").sync(
        UUID("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"),
        client=client,
        x_civil_registration_identifier=ORDINARY,
    )
    assert isinstance(fetched, models.JobagentResponseDto)
    assert fetched.titel == "Fra genereret klient"
    assert fetched.jobagent.email_verificeret is False

    listed = module(generated, api + "get_jobagenter").sync(
        client=client, x_civil_registration_identifier=ORDINARY
    )
    assert len(listed.jobagenter) == 3

    deleted = module(generated, api + "delete_jobagent").sync_detailed(
        UUID("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"),
        client=client,
        x_civil_registration_identifier=ORDINARY,
        x_request_id="gen-2",
    )
    assert deleted.status_code == 200

    gone = module(generated, api + "get_jobagent").sync(
        UUID("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"),
        client=client,
        x_civil_registration_identifier=ORDINARY,
    )
    assert isinstance(gone, models.Problem)
    assert gone.fejlkode == 4589


def generate(document: Path, out: Path) -> set[str]:
    """The model files openapi-python-client makes from a document."""
    config = out.parent / f"{out.name}-config.yaml"
    config.write_text("post_hooks: []\npackage_name_override: jobagent_client\n")
    command = [str(GENERATOR), "generate", "--path", str(document), "--output-path", str(out)]
    run = subprocess.run(
        [*command, "--config", str(config)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return {path.name for path in (out / "jobagent_client" / "models").glob("*.py")}


def test_the_published_json_makes_the_same_models_as_the_yaml(app: Any, tmp_path: Path) -> None:
    served = TestClient(app).get("/openapi.json")
    assert served.status_code == 200
    published = tmp_path / "openapi.json"
    published.write_bytes(served.content)
    from_yaml = generate(spec.SPEC_DIR / spec.BUSINESS, tmp_path / "from-yaml")
    from_json = generate(published, tmp_path / "from-json")
    assert from_json == from_yaml
    assert 20 < len(from_yaml) < 100  # the contract's schemas, not one per use of each
