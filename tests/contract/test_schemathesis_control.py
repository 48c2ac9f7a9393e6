"""schemathesis over the admin API (admin.yaml) and the token endpoint (token.yaml), in-process:
every check, every generated case answered as its contract says, none a 500."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from tests.contract.fuzzing import FUZZ_CLIENT, contract_schema, install_auth
from tests.contract.test_schemathesis import EVERY_CHECK, FUZZ_SETTINGS, SEED
from tests.helpers import token_for

APP = create_app(validate_responses=True)
HTTP = TestClient(APP)
control = contract_schema(APP, spec.CONTROL)
control.config.seed = SEED
install_auth(control, lambda: token_for(HTTP, FUZZ_CLIENT))
token = contract_schema(APP, spec.TOKEN)
token.config.seed = SEED


@control.parametrize()
@FUZZ_SETTINGS
def test_every_admin_case_is_answered_as_documented(case: Any) -> None:
    case.call_and_validate(checks=EVERY_CHECK)


@token.parametrize()
@FUZZ_SETTINGS
def test_every_token_case_is_answered_as_documented(case: Any) -> None:
    case.call_and_validate(checks=EVERY_CHECK)
