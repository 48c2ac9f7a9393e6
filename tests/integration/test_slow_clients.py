"""Slow and numerous clients against a live mock: incomplete headers time out with a 408 and
the connection closes; a worker's connections are bounded, and what is beyond them answered."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.servers import free_port, start_mock, stop

HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 8


@pytest.fixture(params=["one worker", "two workers"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    port = free_port()
    store, workers = "memory", 1
    if request.param == "two workers":
        store, workers = f"sqlite:{tmp_path_factory.mktemp('db') / 'mock.db'}", 2
    process = start_mock(
        store,
        workers,
        port,
        "k" * 32,
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--max-connections",
        str(MAX_CONNECTIONS),
    )
    try:
        yield port
    finally:
        stop(process)


def read_all(connection: socket.socket, within: float) -> bytes:
    """What the server sends until it closes the connection (b"" if it never does in time)."""
    connection.settimeout(within)
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
        return received or b"closed"
    except TimeoutError:
        return b""


@pytest.mark.slow
def test_slowloris_connections_are_answered_408_and_closed(server: int) -> None:
    with ExitStack() as stack:
        slow = [
            stack.enter_context(socket.create_connection(("127.0.0.1", server))) for _ in range(5)
        ]
        for n, connection in enumerate(slow):
            # a request line, some headers, never the blank line that ends them
            connection.sendall(b"GET /v1/Jobagent HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * n)
        silent = stack.enter_context(socket.create_connection(("127.0.0.1", server)))
        started = time.monotonic()
        answers = [read_all(c, 10 * HEADER_TIMEOUT) for c in [*slow, silent]]
        took = time.monotonic() - started
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers
    assert took < 5 * HEADER_TIMEOUT
    assert httpx.get(f"http://127.0.0.1:{server}/__admin/health").status_code == 200


@pytest.mark.slow
def test_a_complete_request_is_never_cut_by_the_header_timeout(server: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{server}") as client:
        for _ in range(3):  # one kept-alive connection, across several header timeouts
            assert client.get("/__admin/health").status_code == 200
            time.sleep(HEADER_TIMEOUT * 0.8)
        assert client.get("/__admin/health").status_code == 200


@pytest.mark.slow
def test_connections_beyond_the_bound_are_answered_503_then_served_again(server: int) -> None:
    with ExitStack() as stack:
        # idle connections, more than either worker may hold
        held = [
            stack.enter_context(socket.create_connection(("127.0.0.1", server)))
            for _ in range(4 * MAX_CONNECTIONS + 2)  # spread over two workers by the kernel
        ]
        time.sleep(0.3)  # the workers have accepted them
        beyond = httpx.get(f"http://127.0.0.1:{server}/__admin/health", timeout=10)
        assert beyond.status_code == 503
        assert len(held) > MAX_CONNECTIONS
        # the held connections time out (408), and the worker serves again
        for connection in held:
            read_all(connection, 10 * HEADER_TIMEOUT)
    assert httpx.get(f"http://127.0.0.1:{server}/__admin/health", timeout=10).status_code == 200


@pytest.mark.slow
def test_a_body_trickled_after_its_headers_is_answered_408_and_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as connection:
        # whole headers, then one byte of the promised body, then nothing
        connection.sendall(
            b"POST /connect/token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\ngrant_type="
        )
        started = time.monotonic()
        answer = read_all(connection, 10 * HEADER_TIMEOUT)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert answer.endswith(b"The request's body did not arrive in time.")
    assert took < 5 * HEADER_TIMEOUT
    assert httpx.get(f"http://127.0.0.1:{server}/__admin/health").status_code == 200


@pytest.mark.slow
def test_a_body_sent_slower_than_its_headers_but_in_time_is_served(server: int) -> None:
    form = b"grant_type=client_credentials&client_id=star-jobnet&client_secret=star-jobnet-secret"
    with socket.create_connection(("127.0.0.1", server)) as connection:
        connection.sendall(
            b"POST /connect/token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(form), form[:10])
        )
        time.sleep(HEADER_TIMEOUT * 0.6)  # slower than its headers came, within the deadline
        connection.sendall(form[10:])
        connection.settimeout(10 * HEADER_TIMEOUT)
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 "), answer


@pytest.mark.slow
def test_a_refusal_answered_before_its_body_came_still_closes_the_trickle(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as connection:
        # no token: the 401 is sent before the body is read; the body never comes
        connection.sendall(
            b"POST /v1/Jobagent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        answer = read_all(connection, 10 * HEADER_TIMEOUT)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 401 "), answer
    assert took < 5 * HEADER_TIMEOUT  # closed, not held until the client gives up


@pytest.mark.slow
def test_pipelined_requests_on_one_connection_are_each_answered_in_order(server: int) -> None:
    # each answer's head and body leave in one write (web/connections.py): none may be held back
    # or reordered behind the next request's
    request = b"GET /__admin/health HTTP/1.1\r\nhost: mock\r\n\r\n"
    closing = b"GET /__admin/health HTTP/1.1\r\nhost: mock\r\nconnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server)) as connection:
        connection.sendall(request * 2 + closing)
        received = read_all(connection, within=10)
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == 3, received[:500]
    for answer in answers:  # each whole: a 200 whose body is as long as it says
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"200 OK"), head
        length = re.search(rb"(?i)content-length: (\d+)", head)
        assert length is not None and len(body) == int(length.group(1)), answer
