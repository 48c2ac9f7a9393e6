"""Enrollment operations (tag Tilmelding of openapi/jobagent.yaml)."""

from typing import Any

from jobagent_mock.web.context import caller, engine
from jobagent_mock.web.responses import Answer, json_body


def create_tilmelding(body: dict[str, Any]) -> Answer:
    return json_body(engine().create_tilmelding(caller(), body), 201)


def tilmeld_og_book(body: dict[str, Any]) -> Answer:
    return json_body(engine().tilmeld_og_book(caller(), body), 201)
