"""ESCO STAR occupation keys and hierarchy elements: the fixture's magic values, open world else."""

from __future__ import annotations

from typing import Any

ACTIVE, UNKNOWN, OUT_OF_DATE = "aktiv", "ukendt", "udgaaet"


class Occupations:
    def __init__(self, data: dict[str, Any], closed_world: bool = False) -> None:
        self._concepts = {o["conceptUriDa"]: o["status"] for o in data["stillingsbetegnelser"]}
        self._areas = {a["hierarkielementId"]: a["status"] for a in data["beskaeftigelsesomraader"]}
        self._aliases = {a["aliasIdentifier"]: a["status"] for a in data.get("aliaser", [])}
        self._job_targets = {
            j["jobTargetIdentifier"]: j["status"] for j in data.get("joboensker", [])
        }
        self._default = UNKNOWN if closed_world else ACTIVE

    def concept_status(self, concept_uri: str) -> str:
        return self._concepts.get(concept_uri, self._default)

    def area_is_known(self, hierarkielement_id: str) -> bool:
        return self._areas.get(hierarkielement_id.lower(), self._default) == ACTIVE

    def alias_is_known(self, alias_identifier: str) -> bool:
        return self._aliases.get(alias_identifier.lower(), self._default) == ACTIVE

    def job_target_is_known(self, job_target_identifier: str) -> bool:
        """A job wish Jobnet knows (JoboenskeService's jobTargetIdentifier)."""
        return self._job_targets.get(job_target_identifier.lower(), self._default) == ACTIVE
