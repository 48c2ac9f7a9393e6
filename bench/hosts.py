"""Two hosts on this machine for the several-hosts figures: two network namespaces, each joined
to this one by a veth pair, so each mock instance has an address, a loopback and ports of its
own and reaches Redis over a network link. Where namespaces cannot be made (not root, no `ip`),
the two instances are two processes on different loopback ports, and the report says so.

And the Redis they share: Debian's redis-server, listening on loopback, on a unix socket (for
the single-host rows) and on each namespace's link."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.servers import Place, free_port


@dataclass(frozen=True)
class Network:
    hosts: list[Place]
    gateways: list[str]  # this side of each host's link: where that host finds Redis
    namespaces: bool  # False: two loopback processes


@contextlib.contextmanager
def two_hosts() -> Iterator[Network]:
    tag = os.getpid() % 100000
    subnet = 200 + os.getpid() % 50
    names = [f"jmbench{tag}h{i}" for i in (1, 2)]
    try:
        for index, name in enumerate(names, start=1):
            _namespace(name, f"jmb{tag}r{index}", f"jmb{tag}n{index}", f"10.{subnet}.{index}")
        network = Network(
            [
                Place(("ip", "netns", "exec", name), f"10.{subnet}.{i}.2")
                for i, name in enumerate(names, 1)
            ],
            [f"10.{subnet}.{i}.1" for i in (1, 2)],
            namespaces=True,
        )
    except (OSError, subprocess.CalledProcessError):
        network = Network([Place(), Place()], ["127.0.0.1", "127.0.0.1"], namespaces=False)
    try:
        yield network
    finally:
        for index, name in enumerate(names, start=1):
            _ip("netns", "del", name, check=False)  # and its end of the link, so the pair
            _ip("link", "del", f"jmb{tag}r{index}", check=False)  # a pair never moved there


def _namespace(name: str, outside: str, inside: str, net: str) -> None:
    if shutil.which("ip") is None or os.geteuid() != 0:
        raise OSError("network namespaces need root and iproute2")
    _ip("netns", "add", name)
    _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
    _ip("link", "set", inside, "netns", name)
    _ip("addr", "add", f"{net}.1/24", "dev", outside)
    _ip("link", "set", outside, "up")
    _ip("netns", "exec", name, "ip", "addr", "add", f"{net}.2/24", "dev", inside)
    _ip("netns", "exec", name, "ip", "link", "set", inside, "up")
    _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


@dataclass(frozen=True)
class Redis:
    process: subprocess.Popen[bytes]
    socket_path: Path
    port: int

    def url(self, host: str = "127.0.0.1") -> str:
        return f"redis://{host}:{self.port}/0"

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def flush(self) -> None:
        subprocess.run(
            ["redis-cli", "-s", str(self.socket_path), "FLUSHALL"], check=True, capture_output=True
        )


@contextlib.contextmanager
def redis(scratch: Path, addresses: list[str]) -> Iterator[Redis | None]:
    """A throw-away Redis (none if redis-server is not installed: those rows are left out)."""
    program = shutil.which("redis-server")
    if program is None:
        yield None
        return
    port = free_port()
    path = scratch / "redis.sock"
    bind = " ".join(dict.fromkeys(["127.0.0.1", *addresses]))
    command = [
        program,
        "--port",
        str(port),
        "--bind",
        bind,
        "--unixsocket",
        str(path),
        "--unixsocketperm",
        "700",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(200):
            if path.exists():
                break
            time.sleep(0.025)
        yield Redis(process, path, port)
    finally:
        process.terminate()
        process.wait(timeout=10)
