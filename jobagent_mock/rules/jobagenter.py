"""Jobagent rules: list, read, create, replace, verify and delete, each rule naming its fejlkode."""

from __future__ import annotations

import uuid
from typing import Any

from jobagent_mock.foundations import readings
from jobagent_mock.foundations.errors import Conflict, Fejlkode, NotFound, RuleViolation
from jobagent_mock.rules.occupations import Occupations
from jobagent_mock.rules.persons import Person
from jobagent_mock.stores import Sandbox

PART_TIME = 2  # Arbejdstidstype: 1 Fuldtid, 2 Deltid


def list_for(sandbox: Sandbox, cpr: str) -> list[dict[str, Any]]:
    return list(sandbox.agents_of(cpr).values())


def get(sandbox: Sandbox, cpr: str, jobagent_id: str) -> dict[str, Any]:
    """The citizen's job agent; another citizen's counts as unknown (4589)."""
    agent = sandbox.agent_of(cpr, jobagent_id.lower())
    if agent is None:
        raise NotFound(Fejlkode.UNKNOWN_IDENTIFIER, f"No jobagent {jobagent_id} for this citizen.")
    return agent


def identifier(body: dict[str, Any]) -> str:
    """The new job agent's identifier: the caller's, or a fresh one (lower case either way)."""
    return (body.get("jobagentIdentifier") or str(uuid.uuid4())).lower()


def create(
    sandbox: Sandbox,
    person: Person,
    body: dict[str, Any],
    occupations: Occupations,
    jobagent_id: str | None = None,
) -> str:
    """A new job agent, as `jobagent_id` (`identifier(body)` when not given)."""
    _check_writable(person, body, occupations)
    jobagent_id = jobagent_id or identifier(body)
    # only a client's own identifier can be taken: a fresh uuid4 is nobody's, and a write made in
    # the event loop (Redis) calls its handler more than once, each call with a fresh one
    if body.get("jobagentIdentifier") and sandbox.owner_of(jobagent_id) is not None:
        raise Conflict(None, f"A jobagent with jobagentIdentifier {jobagent_id} exists already.")
    stored = _stored(jobagent_id, body, verified=False)
    sandbox.put_agent(person.cpr, jobagent_id, stored)
    return jobagent_id


def replace(
    sandbox: Sandbox,
    person: Person,
    jobagent_id: str,
    body: dict[str, Any],
    occupations: Occupations,
) -> None:
    """Full replacement; a changed e-mail is unverified again."""
    if person.triggers(Fejlkode.DEAD):
        raise RuleViolation(Fejlkode.DEAD)
    current = get(sandbox, person.cpr, jobagent_id)
    _check_writable(person, body, occupations)
    old, new = current.get("jobagent"), body.get("jobagent")
    verified = bool(
        old and new and old["emailVerificeret"] and old["email"].lower() == new["email"].lower()
    )
    stored = _stored(current["jobagentIdentifier"], body, verified)
    sandbox.put_agent(person.cpr, jobagent_id.lower(), stored)


def verify_email(sandbox: Sandbox, cpr: str | None, jobagent_id: str) -> None:
    owner = cpr or sandbox.owner_of(jobagent_id.lower())
    agent = get(sandbox, owner or "", jobagent_id)
    if "jobagent" not in agent:
        raise NotFound(
            Fejlkode.UNKNOWN_IDENTIFIER, f"{jobagent_id} is a saved search without an e-mail."
        )
    verified = {**agent, "jobagent": {**agent["jobagent"], "emailVerificeret": True}}
    sandbox.put_agent(owner or "", jobagent_id.lower(), verified)


def delete(sandbox: Sandbox, cpr: str, jobagent_id: str) -> None:
    get(sandbox, cpr, jobagent_id)
    sandbox.remove_agent(cpr, jobagent_id.lower())


def find_by_email(sandbox: Sandbox, email: str, cpr: str | None) -> list[dict[str, Any]]:
    """Job agents whose e-mail equals `email`, compared case-insensitively."""
    owners = [cpr] if cpr else sandbox.citizens()
    wanted = email.lower()
    return [
        agent
        for owner in owners
        for agent in sandbox.agents_of(owner).values()
        if "jobagent" in agent and agent["jobagent"]["email"].lower() == wanted
    ]


def _check_writable(person: Person, body: dict[str, Any], occupations: Occupations) -> None:
    if person.triggers(Fejlkode.DEAD):
        raise RuleViolation(Fejlkode.DEAD)
    soegeparametre = body["soegeparametre"]
    _check_ranges(soegeparametre)
    areas = soegeparametre.get("arbejdsomraade", {}).get("beskaeftigelsesomraade", [])
    for index, area in enumerate(areas):
        if not occupations.area_is_known(area["hierarkielementId"]):
            raise RuleViolation(
                Fejlkode.UNKNOWN_IDENTIFIER,
                f"soegeparametre.arbejdsomraade.beskaeftigelsesomraade[{index}].hierarkielementId"
                f" {area['hierarkielementId']} is unknown to the ESCO STAR hierarchy.",
            )


def _check_ranges(soegeparametre: dict[str, Any]) -> None:
    """Rules across fields, which a schema cannot state: business rules naming 1014."""
    geografi = soegeparametre.get("geografi", {})
    for name in ("afstand", "rejsetid"):
        span = geografi.get(name, {})
        if span.get("minafstand", 0) > span.get("maxafstand", span.get("minafstand", 0)):
            _refuse(f"soegeparametre.geografi.{name}", "minafstand must not exceed maxafstand")
    if {"fraPostnummer", "fraKommune"} <= geografi.get("afstand", {}).keys():
        readings.note("fraPostnummer and fraKommune both given: measured from fraPostnummer")
    arbejdstid = soegeparametre.get("arbejdstid")
    if arbejdstid is None:
        return
    hours = {k for k in ("deltidMinTimer", "deltidMaxTimer") if k in arbejdstid}
    if arbejdstid["arbejdstidstype"] == PART_TIME and "deltidMaxTimer" not in hours:
        _refuse("soegeparametre.arbejdstid", "Deltid needs deltidMaxTimer")
    if arbejdstid["arbejdstidstype"] != PART_TIME:
        # the seed marks deltidMaxTimer required even for full time: accepted either way
        readings.note(
            "deltid hours ignored for Fuldtid"
            if hours
            else "deltidMaxTimer absent for Fuldtid: accepted (the seed marks it required)"
        )
    if arbejdstid.get("deltidMinTimer", 0) > arbejdstid.get("deltidMaxTimer", 37):
        _refuse("soegeparametre.arbejdstid", "deltidMinTimer must not exceed deltidMaxTimer")


def _refuse(where: str, why: str) -> None:
    raise RuleViolation(Fejlkode.FAILED_TO_VALIDATE, f"{where}: {why}", {f"body.{where}": [why]})


def _stored(jobagent_id: str, body: dict[str, Any], verified: bool) -> dict[str, Any]:
    """The record to keep; the body is this request's own parse, so it is not copied."""
    record: dict[str, Any] = {"jobagentIdentifier": jobagent_id, "titel": body["titel"]}
    if "jobagent" in body:
        record["jobagent"] = {**body["jobagent"], "emailVerificeret": verified}
    record["soegeparametre"] = {"udfraMineKravTilJobsoegning": False, **body["soegeparametre"]}
    return record
