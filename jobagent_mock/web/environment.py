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
    "reload": "JOBAGENT_MOCK_RELOAD",
}
# what a yes/no setting may say (any case); the Danish ja/nej too, as a partner here may write
ON = ("1", "true", "yes", "on", "ja")
OFF = ("0", "false", "no", "off", "nej")


class SettingError(ValueError):
    """A JOBAGENT_MOCK_* variable whose value the setting cannot take; said in one line."""


def setting(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENVIRONMENT[name], default)


def switched_on(name: str, default: bool) -> bool:
    """A yes/no setting: 1, true, yes, on or ja; 0, false, no, off or nej (any case); unset or
    empty the default; anything else a SettingError (a typo must not switch a setting on)."""
    value = (setting(name) or "").strip().lower()
    if not value:
        return default
    if value in ON:
        return True
    if value in OFF:
        return False
    raise SettingError(
        f"{ENVIRONMENT[name]}={setting(name)!r} is no yes/no value: use one of "
        f"{', '.join(ON)} or {', '.join(OFF)}"
    )
