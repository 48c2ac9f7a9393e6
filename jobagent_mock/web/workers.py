"""Several worker processes on one port, each listening on a socket of its own (SO_REUSEPORT).

Why not uvicorn's --workers: its workers share one listening socket, and the worker that wakes
first accepts the whole waiting burst of connections. Load tests and CI clients keep their
connections alive, so one worker then serves nearly all of them while the other idles (seen:
32 connections split 32 to 0, 29 to 3). With a socket each, the kernel spreads new connections
over the workers by their addresses. The sockets are made here, before the workers start, and
kept: connections that reach a worker still starting, or one being replaced, wait in its queue.

A worker outlives no parent: killed with `kill -9`, the parent cannot stop its workers, which
would go on serving (re-parented to PID 1) and hold the port, so that a restart fails. Each
worker watches its parent and stops within PARENT_GONE_EXIT_SECONDS of losing it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

APP_FACTORY = "jobagent_mock.app:app_from_environment"
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker that could not start
POLL_SECONDS = 0.2
BACKLOG = 2048  # uvicorn's
# a worker whose parent is gone asks itself to stop (uvicorn closes its connections), and exits
# regardless after this grace; the watch looks every POLL_SECONDS
PARENT_GONE_GRACE_SECONDS = 1.0
PARENT_GONE_EXIT_SECONDS = POLL_SECONDS + PARENT_GONE_GRACE_SECONDS


def supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def serve(count: int, host: str, port: int) -> int:
    """Run `count` workers until SIGINT or SIGTERM; a worker that dies is replaced."""
    spawn = multiprocessing.get_context("spawn")
    listeners = [_listener(host, port) for _ in range(count)]
    workers = [_start(spawn, listener) for listener in listeners]
    stopping: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda received, _frame: stopping.append(received))
    status = 0
    while not stopping and status == 0:
        time.sleep(POLL_SECONDS)
        status = _replace_the_dead(workers, listeners, spawn)
    for worker in workers:
        worker.terminate()  # SIGTERM: uvicorn finishes the requests under way
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
    return status


def _replace_the_dead(
    workers: list[BaseProcess], listeners: list[socket.socket], spawn: Any
) -> int:
    """0, or 2 when a worker could not start (its replacement would not either)."""
    for index, worker in enumerate(workers):
        if worker.is_alive():
            continue
        if worker.exitcode == STARTUP_FAILURE:
            print("jobagent-mock: a worker could not start", file=sys.stderr)  # noqa: T201
            return 2
        workers[index] = _start(spawn, listeners[index])
    return 0


def _listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.listen(BACKLOG)
    return listener


def _start(spawn: Any, listener: socket.socket) -> BaseProcess:
    worker: BaseProcess = spawn.Process(target=_worker, args=(listener,), daemon=False)
    worker.start()
    return worker


def _worker(listener: socket.socket) -> None:
    import uvicorn

    watch = threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True)
    watch.start()
    from jobagent_mock.web.connections import options_from_environment

    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        log_level="warning",
        backlog=BACKLOG,
        **options_from_environment(),
    )
    exit_on_sigterm()
    uvicorn.Server(config).run(sockets=[listener])


def exit_on_sigterm() -> None:
    """uvicorn stops gracefully on SIGTERM, then raises it again, which by default ends the
    process before its exit handlers run (the journal writer's last flush): a handler that
    exits instead lets them run. uvicorn puts its own in place while it serves."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def _exit_with_parent(parent: int) -> None:
    """In a worker: once the parent is gone (this process re-parented), stop; then exit."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop: it closes the sockets
    time.sleep(PARENT_GONE_GRACE_SECONDS)
    os._exit(1)  # a request that outlasts the grace (Prefer: latency) must not keep the port
