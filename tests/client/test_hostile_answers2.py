"""The generated client against hostile servers, second round: answers that never end,
that trickle in, that inflate to gigabytes.

Each server here is a socket on 127.0.0.1 that reads a request and then runs a handler
writing raw bytes to the connection, one thread per connection. Whatever it writes, a
call ends, in bounded memory, with an answer or the package's own error.
"""

from __future__ import annotations

import socket
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import make_client
from customerio_client import APIConnectionError
from customerio_client._transport import HTTPClientTransport

Handler = Callable[[Any], None]


class HostileServer:
    """Runs `handler(conn)` for every request on 127.0.0.1, after reading the request's
    head (and its Content-Length's body). A handler that writes forever ends when the
    client goes away (its write fails) or the server stops."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stopped = threading.Event()
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: Any) -> None:
        with conn:
            try:
                request = _read_request(conn)
                if request is not None:
                    self.requests.append(request)
                    self.handler(conn)
            except OSError:  # the client went away: what a hostile server expects
                pass

    def stop(self) -> None:
        self.stopped.set()
        self._sock.close()


def _read_request(conn: Any) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            while len(body) < int(value):
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                body += chunk
    return head


@pytest.fixture
def hostile() -> Iterator[Callable[[Handler], HostileServer]]:
    servers: list[HostileServer] = []

    def start(handler: Handler) -> HostileServer:
        server = HostileServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _head(status: str, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _sends(answer: bytes) -> Handler:
    def handler(conn: Any) -> None:
        conn.sendall(answer)

    return handler


def _zeros_compressed(size: int, wbits: int) -> bytes:
    """`size` zero bytes compressed (gzip for wbits 31, zlib for 15, raw DEFLATE for
    -15): about a thousandth of `size`."""
    stream = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    parts = [stream.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + stream.flush()


MiB = 1 << 20

# (Content-Encoding, body): each inflates to 64 MiB, or to 64 MiB once its outer layer
# (itself well under the cap) is inflated
BOMBS = {
    "gzip": _zeros_compressed(64 * MiB, 31),
    "deflate": _zeros_compressed(64 * MiB, 15),
    "deflate (raw)": _zeros_compressed(64 * MiB, -15),
}
BOMBS["gzip, gzip"] = zlib.compress(BOMBS["gzip"], wbits=31)


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_compression_bomb_inflates_no_further_than_the_cap(
    hostile: Any, name: str
) -> None:
    """A body of some kilobytes that inflates to gigabytes was inflated in one call:
    the sync client raised MemoryError (or the process was killed). Inflating stops
    at the transport's max_response_bytes, and the call raises the package's error
    naming it; what was allocated stays in the order of the cap."""
    body = BOMBS[name]
    coding = name.replace(" (raw)", "")
    head = _head(
        "200 OK",
        "Content-Type: application/json",
        f"Content-Encoding: {coding}",
        f"Content-Length: {len(body)}",
    )
    server = hostile(_sends(head + body))
    transport = HTTPClientTransport(max_response_bytes=MiB)
    client = make_client(
        "AppClient", base_url=server.url, max_retries=0, transport=transport
    )
    tracemalloc.start()
    try:
        with pytest.raises(APIConnectionError) as caught:
            client.list_campaigns()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        transport.close()
    assert f"over max_response_bytes ({MiB} bytes)" in str(caught.value)
    assert peak < 8 * MiB


def _endless_chunks(conn: Any) -> None:
    conn.sendall(
        _head("200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked")
    )
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while True:
        conn.sendall(chunk)


def test_a_body_without_end_is_cut_at_the_cap(hostile: Any) -> None:
    """A chunked body that never ends (or one sent until the server closes) was read
    until memory ran out: MemoryError. Reading stops past max_response_bytes."""
    server = hostile(_endless_chunks)
    transport = HTTPClientTransport(max_response_bytes=4 * MiB)
    client = make_client(
        "AppClient", base_url=server.url, max_retries=0, transport=transport
    )
    with pytest.raises(APIConnectionError) as caught:
        client.list_campaigns()
    transport.close()
    assert "over max_response_bytes" in str(caught.value)


def test_an_answer_within_the_cap_is_read_whole(hostile: Any) -> None:
    """The cap is on what a body holds, not on what a good answer of that size does:
    one just under it, compressed or not, arrives whole."""
    data = b"[" + b",".join([b'{"id": 1}'] * 100_000) + b"]"
    packed = zlib.compress(data, wbits=31)
    answers = [
        _head("200 OK", f"Content-Length: {len(data)}") + data,
        _head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(packed)}")
        + packed,
    ]
    server = hostile(lambda conn: conn.sendall(answers.pop(0)))
    transport = HTTPClientTransport(max_response_bytes=len(data))
    client = make_client(
        "AppClient", base_url=server.url, max_retries=0, transport=transport
    )
    got = [client.list_campaigns().data for _ in range(2)]
    transport.close()
    assert got == [[{"id": 1}] * 100_000] * 2
