"""Headless Chromium driven over the DevTools protocol: a page opened, JavaScript run in it (clicks,
reads) and its answer returned, for tests of what a person does in a browser."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI must have Chromium (Debian's chromium package; `make test` installs it)"
            )
        pytest.skip("no Chromium here (apt-get install chromium)")
    return found


class Page:
    """One tab: `run` evaluates an expression (awaiting a promise) and returns its JSON value."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket, self._ids = socket, itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:  # events come in between; the answer carries our id
            message = json.loads(self._socket.recv(timeout=120))
            if message.get("id") == ident:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return dict(message["result"])

    def run(self, expression: str) -> Any:
        found = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in found:
            raise AssertionError(f"the page's script failed: {found['exceptionDetails']}")
        return found["result"].get("value")

    def wait_for(self, expression: str, what: str) -> Any:
        """Until `expression` is truthy in the page (bounded: 60 s), its value."""
        for _ in range(600):
            value = self.run(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"never happened in the page: {what}")


@contextmanager
def browser_page(url: str, profile: Path) -> Iterator[Page]:
    """Chromium with a fresh profile, one tab at `url`; closed afterwards."""
    process = subprocess.Popen(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            tab = next(t for t in json.load(answer) if t["type"] == "page")
        with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            page.call("Page.enable")
            page.call("Page.navigate", url=url)
            page.wait_for("document.readyState === 'complete' && !!window.ui", "the page loaded")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
