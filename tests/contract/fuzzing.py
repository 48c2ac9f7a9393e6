"""What schemathesis needs to fuzz the mock as a partner would: real tokens, fresh request ids,
generators for the contract's own formats, and a spec whose auth its ignored_auth check can test."""

from __future__ import annotations

import copy
import uuid
from datetime import date
from typing import Any

import hypothesis.strategies as st
import schemathesis

from jobagent_mock.foundations import fixtures, spec

FUZZ_CLIENT = "star-jobnet"
WRITES = ("POST", "PUT", "DELETE")
# a read that takes an x-requestId claims it too (GetJobagent, RECONSTRUCTION.md D-57)
CLAIMS_REQUEST_ID = (*WRITES, "GET")


@st.composite
def cpr_numbers(draw: st.DrawFn) -> str:
    """`format: cpr`: a real birth date in the past, with a seventh digit for its century."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)))
    seventh = draw(st.sampled_from("0123" if born.year < 2000 else "4"))
    return f"{born:%d%m%y}{seventh}{draw(st.integers(0, 999)):03d}"


def register_formats() -> None:
    # half the time a citizen who owns fixture job agents, so links from lists lead somewhere
    owners = sorted({record["cpr"] for record in fixtures.load().jobagents})
    schemathesis.openapi.format("cpr", st.one_of(st.sampled_from(owners), cpr_numbers()))


def with_bearer_scheme(document: dict[str, Any]) -> dict[str, Any]:
    """The contract with its oauth2 scheme described as HTTP bearer under the same name.

    schemathesis's ignored_auth check skips oauth2 schemes; as bearer, it sends requests without
    and with a broken token and expects 401. The tokens the mock checks are the same.
    """
    rewritten = copy.deepcopy(document)
    rewritten["components"]["securitySchemes"]["oauth2"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    return rewritten


def business_schema(app: Any) -> Any:
    return contract_schema(app, spec.BUSINESS)


def contract_schema(app: Any, contract: str) -> Any:
    """One of the mock's contracts (jobagent.yaml, admin.yaml, token.yaml) against `app`."""
    register_formats()
    document = spec.raw(contract)
    if "oauth2" in document.get("components", {}).get("securitySchemes", {}):
        document = with_bearer_scheme(document)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    schema.location = f"{document['servers'][0]['url'].rstrip('/')}/openapi.json"
    return schema


def install_auth(schema: Any, fetch_token: Any) -> None:
    """A real token from /connect/token on every call, and a fresh x-requestId on every write."""

    @schema.auth()
    class TokenAuth:
        def get(self, case: Any, ctx: Any) -> str:  # noqa: ARG002
            return str(fetch_token())

        def set(self, case: Any, data: str, ctx: Any) -> None:  # noqa: ARG002
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"
            if case.method.upper() in CLAIMS_REQUEST_ID and "x-requestId" in case.headers:
                # replayed ids are 412 by design; the fuzzer must not trip over its own repeats
                case.headers["x-requestId"] = str(uuid.uuid4())
