"""schemathesis over every business operation, in-process: every check, every generated case
answered as the contract says; and a state machine that walks the contract's links."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS
from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from tests.contract.fuzzing import FUZZ_CLIENT, business_schema, install_auth
from tests.helpers import token_for

APP = create_app(validate_responses=True)
ENGINE = APP.app.config["JOBAGENT_MOCK_ENGINE"]
HTTP = TestClient(APP)
SEED = 20261127
schema = business_schema(APP)
schema.config.seed = SEED


install_auth(schema, lambda: token_for(HTTP, FUZZ_CLIENT))
EVERY_CHECK = list(CHECKS.get_all())
FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_case_is_answered_as_documented(case: Any) -> None:
    case.call_and_validate(checks=EVERY_CHECK)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        ENGINE.store.reset()

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        case.validate_response(response, checks=EVERY_CHECK, **kwargs)


TestWorkflow = Workflow.TestCase
TestWorkflow.settings = settings(
    max_examples=40,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
