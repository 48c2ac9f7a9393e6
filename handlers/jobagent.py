"""Jobagent operations (tag Jobagent of openapi/jobagent.yaml)."""

from typing import Any

from jobagent_mock.web.context import caller, engine
from jobagent_mock.web.responses import Answer, empty, json_body


def get_jobagenter() -> Answer:
    return json_body(engine().get_jobagenter(caller()))


def get_jobagent(jobagent_identifier: str) -> Answer:
    return json_body(engine().get_jobagent(caller(), jobagent_identifier))


def get_jobagenter_paa_email(email: str) -> Answer:
    return json_body(engine().get_jobagenter_paa_email(caller(), email))


def create_jobagent(body: dict[str, Any]) -> Answer:
    jobagent_id = engine().create_jobagent(caller(), body)
    return empty(201, {"Location": f"/v1/Jobagent/{jobagent_id}"})


def update_jobagent(jobagent_identifier: str, body: dict[str, Any]) -> Answer:
    engine().update_jobagent(caller(), jobagent_identifier, body)
    return empty()


def update_jobagent_verificere_email(jobagent_identifier: str) -> Answer:
    engine().verify_jobagent_email(caller(), jobagent_identifier)
    return empty()


def delete_jobagent(jobagent_identifier: str) -> Answer:
    engine().delete_jobagent(caller(), jobagent_identifier)
    return empty()
