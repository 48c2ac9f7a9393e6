"""The x-requestId rule: a write's request id is accepted once; a repeat within 7 days of the
sandbox's mock time is refused (412). Stores only remember ids and look them up."""

from __future__ import annotations

from datetime import timedelta

from jobagent_mock.errors import ReplayedRequest
from jobagent_mock.stores import Sandbox

REQUEST_ID_RETENTION = timedelta(days=7)


def claim(sandbox: Sandbox, request_id: str) -> None:
    """Accept a request id, or refuse one accepted within REQUEST_ID_RETENTION."""
    now = sandbox.clock.now()
    if sandbox.request_id_seen(request_id, forget_before=now - REQUEST_ID_RETENTION) is not None:
        raise ReplayedRequest(None, f"The x-requestId {request_id} was received before.")
    sandbox.remember_request_id(request_id, now)
