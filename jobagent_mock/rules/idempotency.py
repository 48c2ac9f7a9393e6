"""The x-requestId rule: a write's request id is accepted once; a repeat within 7 days of the
sandbox's mock time is refused (412), for the newest REQUEST_IDS_KEPT ids of a sandbox (older
ones are forgotten first, so memory stays bounded under any load). Stores only remember ids,
look them up and forget the oldest."""

from __future__ import annotations

from datetime import timedelta

from jobagent_mock.foundations.errors import ReplayedRequest
from jobagent_mock.stores import Sandbox

REQUEST_ID_RETENTION = timedelta(days=7)
# per sandbox: a client replaying one of its last 10,000 writes is refused; STAR keeps more, but
# a test suite that depends on an older one has a bug of its own
REQUEST_IDS_KEPT = 10_000


def claim(sandbox: Sandbox, request_id: str) -> None:
    """Accept a request id, or refuse one accepted within REQUEST_ID_RETENTION."""
    now = sandbox.clock.now()
    if sandbox.request_id_seen(request_id, forget_before=now - REQUEST_ID_RETENTION) is not None:
        raise ReplayedRequest(None, f"The x-requestId {request_id} was received before.")
    sandbox.remember_request_id(request_id, now, keep=REQUEST_IDS_KEPT)
