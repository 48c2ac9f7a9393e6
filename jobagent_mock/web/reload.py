"""`serve --reload`: the contracts and fixtures watched; a change that passes `check` is served
by a new app on the same store (state, tokens and open connections kept), one that fails is
refused in one line and the last good app goes on serving."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import connexion
import watchfiles
from starlette.types import Receive, Scope, Send

from jobagent_mock.foundations import fixtures, spec
from jobagent_mock.stores import Store
from jobagent_mock.web.context import ENGINE

# what is read from the watched folders: a change to anything else is no reason to reload
WATCHED_SUFFIXES = (".yaml", ".yml", ".json")
Build = Callable[[Store | None], connexion.FlaskApp]


class ReloadingApp:
    """An ASGI app that passes each request to the app of the last good contracts and fixtures.
    A request under way when a new app takes over finishes on the one it began on."""

    def __init__(self, build: Build, fixtures_dir: Path | None) -> None:
        self._build, self._fixtures_dir = build, fixtures_dir
        self.app = build(None)
        self.store: Store = self.app.app.config[ENGINE].store
        self.stopped = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def folders(self) -> list[Path]:
        found = [spec.SPEC_DIR, fixtures.DEFAULT_DIR, self._fixtures_dir]
        return [Path(folder) for folder in found if folder is not None]

    def watch(self) -> None:
        """Until stopped: each batch of changes to a contract or fixture file, tried once."""
        for changes in watchfiles.watch(
            *self.folders(),
            watch_filter=lambda _, path: path.endswith(WATCHED_SUFFIXES),
            stop_event=self.stopped,
            raise_interrupt=False,
        ):
            self.reload(sorted({Path(path).name for _, path in changes}))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.watch, name="jobagent-mock reload", daemon=True)
        thread.start()
        return thread

    def reload(self, changed: list[str]) -> bool:
        """The new contracts and fixtures served if `check` passes them; else a line saying why."""
        what = ", ".join(changed)
        refusal = self._check()
        if refusal:
            say(f"not reloaded ({what}): {refusal}; still serving the last good version")
            return False
        forget_loaded()
        try:
            app = self._build(self.store)
        except Exception as exc:  # check passed, connexion did not: still one line
            say(f"not reloaded ({what}): {exc or type(exc).__name__}; still serving the last one")
            return False
        self.app = app
        say(f"reloaded ({what}): state and connections kept")
        return True

    def _check(self) -> str | None:
        """`jobagent-mock check` in a process of its own, so the contracts this process has
        loaded stay the last good ones: its first problem, or None."""
        command = [sys.executable, "-m", "jobagent_mock", "check"]
        if self._fixtures_dir is not None:
            command += ["--fixtures", str(self._fixtures_dir)]
        run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if run.returncode == 0:
            return None
        lines = [line.removeprefix("FAIL ") for line in run.stderr.splitlines() if line.strip()]
        return lines[0] if lines else f"check exited {run.returncode}"


def forget_loaded() -> None:
    """Every cache of what was read from the contracts (spec.raw and all that is made from it),
    so the next read sees the files as they are now."""
    for name, module in list(sys.modules.items()):
        if name.startswith("jobagent_mock"):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def say(line: str) -> None:
    print(f"jobagent-mock: {line}", file=sys.stderr, flush=True)  # noqa: T201
