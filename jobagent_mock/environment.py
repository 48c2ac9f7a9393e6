"""The JOBAGENT_MOCK_* variables through which `serve` configures every worker's app alike."""

from __future__ import annotations

# create_app()'s keyword, or a server setting (web/connections.py), -> the variable that
# carries it to a worker process
ENVIRONMENT = {
    "fixtures_dir": "JOBAGENT_MOCK_FIXTURES",
    "closed_world": "JOBAGENT_MOCK_CLOSED_WORLD",
    "signing_key": "JOBAGENT_MOCK_SIGNING_KEY",
    "max_body_bytes": "JOBAGENT_MOCK_MAX_BODY_BYTES",
    "store": "JOBAGENT_MOCK_STORE",
    "fast_lane": "JOBAGENT_MOCK_FAST_LANE",
    "max_sandboxes": "JOBAGENT_MOCK_MAX_SANDBOXES",
    "header_timeout": "JOBAGENT_MOCK_HEADER_TIMEOUT",
    "max_connections": "JOBAGENT_MOCK_MAX_CONNECTIONS",
}
