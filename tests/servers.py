"""Real servers for tests: a Redis from Debian's package, and jobagent-mock with several workers,
each on a free loopback port, each stopped when its test is done."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {program} (`make test` installs it)")
        pytest.skip(f"no {program} here")
    return found


@contextmanager
def redis_server() -> Iterator[str]:
    port = free_port()
    process = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A Redis server on `port`, answering when this returns (the caller stops it)."""
    program = require("redis-server")
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close())
    return process


@contextmanager
def mock_server(store: str, workers: int = 2) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    process = start_mock(store, workers, port)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop(process)


def start_mock(
    store: str, workers: int, port: int, key: str = "k" * 32, *options: str
) -> subprocess.Popen[bytes]:
    args = ["--workers", str(workers), "--store", store, "--signing-key", key, *options]
    return start_serve(port, *args)


def start_serve(
    port: int,
    *args: str,
    stdout: Any = subprocess.DEVNULL,
    bin_dir: Path = Path(sys.executable).parent,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """`jobagent-mock serve` (of this venv, or of bin_dir's) on a port, once it is healthy."""
    process = subprocess.Popen(
        [str(bin_dir / "jobagent-mock"), "serve", "--port", str(port), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    _wait(lambda: httpx.get(f"{base}/__admin/health", timeout=1).raise_for_status(), process)
    return process


def stop(process: subprocess.Popen[bytes], kill: bool = False) -> None:
    """Stop the server and its workers (the whole process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    process.wait(timeout=20)
    if process.stderr is not None:
        process.stderr.close()


def _wait(probe: object, process: subprocess.Popen[bytes] | None = None) -> None:
    for _ in range(300):  # bounded: 30 s at most
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            probe()  # type: ignore[operator]
            return
        except (OSError, httpx.HTTPError):
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def lock_waiters(store_url: str) -> int:
    """How many writers wait for a shared store's lock: flock waiters on the SQLite lock file
    (Linux lists them in /proc/locks with '->'), or Redis clients blocked on a wake list."""
    if store_url.startswith("sqlite:"):
        inode = f":{os.stat(store_url.removeprefix('sqlite:') + '.lock').st_ino} "
        with open("/proc/locks") as locks:
            return sum(1 for line in locks if "->" in line and "FLOCK" in line and inode in line)
    import redis

    clients = redis.Redis.from_url(store_url).client_list()
    return sum(1 for client in clients if client.get("cmd") == "blpop")


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """A bounded wait for something the test cannot be told about directly; not a timing."""
    for _ in range(int(seconds / 0.025)):
        if condition():
            return
        time.sleep(0.025)
    raise AssertionError(f"never happened: {what}")
