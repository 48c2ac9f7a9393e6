"""schemathesis hooks for `make fuzz` (the CLI against a live server, SCHEMATHESIS_HOOKS=...):
the contract's `format: cpr`, and a fresh x-requestId on every write, as a partner sends them."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

from tests.contract.fuzzing import CLAIMS_REQUEST_ID, register_formats

register_formats()


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:  # noqa: ARG001
    if case.method.upper() in CLAIMS_REQUEST_ID and case.headers and "x-requestId" in case.headers:
        case.headers["x-requestId"] = str(uuid.uuid4())
