"""The JOBAGENT_MOCK_* variables: `serve`'s settings (a container's), and how they reach workers."""

from __future__ import annotations

import os

# create_app()'s keyword, or a server setting (web/connections.py), -> the variable that
# carries it to a worker process
ENVIRONMENT = {
    "host": "JOBAGENT_MOCK_HOST",
    "port": "JOBAGENT_MOCK_PORT",
    "workers": "JOBAGENT_MOCK_WORKERS",
    "fixtures_dir": "JOBAGENT_MOCK_FIXTURES",
    "closed_world": "JOBAGENT_MOCK_CLOSED_WORLD",
    "signing_key": "JOBAGENT_MOCK_SIGNING_KEY",
    "max_body_bytes": "JOBAGENT_MOCK_MAX_BODY_BYTES",
    "store": "JOBAGENT_MOCK_STORE",
    "fast_lane": "JOBAGENT_MOCK_FAST_LANE",
    "access_log": "JOBAGENT_MOCK_ACCESS_LOG",
    "max_sandboxes": "JOBAGENT_MOCK_MAX_SANDBOXES",
    "max_sandboxes_per_client": "JOBAGENT_MOCK_MAX_SANDBOXES_PER_CLIENT",
    "sandbox_idle_ttl": "JOBAGENT_MOCK_SANDBOX_IDLE_TTL",
    "header_timeout": "JOBAGENT_MOCK_HEADER_TIMEOUT",
    "max_connections": "JOBAGENT_MOCK_MAX_CONNECTIONS",
    # the validating proxy (proxy/forward.py)
    "upstream": "JOBAGENT_MOCK_UPSTREAM",
    "upstream_timeout": "JOBAGENT_MOCK_UPSTREAM_TIMEOUT",
    "upstream_ca": "JOBAGENT_MOCK_UPSTREAM_CA",
    "record": "JOBAGENT_MOCK_RECORD",
    "record_keep_cpr": "JOBAGENT_MOCK_RECORD_KEEP_CPR",
}
OFF = ("0", "false", "no", "off")


def setting(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENVIRONMENT[name], default)


def switched_on(name: str, default: bool) -> bool:
    """A yes/no setting: 1, true, yes or on; 0, false, no or off (any case); else the default."""
    value = (setting(name) or "").strip().lower()
    if not value:
        return default
    return value not in OFF
