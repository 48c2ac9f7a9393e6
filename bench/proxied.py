"""The proxy's row: `jobagent-mock serve --upstream` in front of a local upstream, another
jobagent-mock (one worker, memory store, the bench's signing key), so every exchange conforms
and the row measures what forwarding and checking both ways cost.

`python -m bench.proxied PORT SIGNING_KEY`: starts the upstream on a free port, then becomes the
proxy (exec), so both share the process group `bench.servers.stop` ends.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bench.servers import VENV_BIN, _wait_for, free_port


def main() -> None:
    port, key = sys.argv[1], sys.argv[2]
    upstream = f"http://127.0.0.1:{free_port()}"
    mock = str(VENV_BIN / "jobagent-mock")
    common = ["--signing-key", key, "--no-access-log"]
    subprocess.Popen(  # noqa: S603 (our own command)
        [mock, "serve", "--port", upstream.rsplit(":", 1)[1], *common],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(f"{upstream}/__admin/health", "the proxy's upstream")
    os.execv(mock, [mock, "serve", "--port", port, "--upstream", upstream, *common])  # noqa: S606


if __name__ == "__main__":
    main()
