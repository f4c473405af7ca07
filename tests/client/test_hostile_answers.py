"""The generated client against servers that answer badly, byte for byte.

FakeServer writes well-formed HTTP; the answers here are not (a Content-Length no body
fills, a body compressed as nothing can decompress), so a server on 127.0.0.1 writes
each one as raw bytes. Whatever arrives, a call returns or raises the package's own
error: never a bare MemoryError, OverflowError or an httpx exception.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import socket
import threading
import traceback
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SECRETS, make_client
from customerio_client import APIConnectionError


class RawServer:
    """Answers every request on 127.0.0.1 with the next of `answers` (raw bytes), then
    closes the connection (so a body shorter than its Content-Length ends)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = list(answers)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            _read_request(conn)
            conn.sendall(self.answers.pop(0))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._sock.close()
        self._thread.join(5)


def _read_request(conn: socket.socket) -> bool:
    """Read one request; False when the client closed the connection instead."""
    try:
        return _read_one(conn)
    except ConnectionResetError:  # closed with our stray bytes still unread
        return False


def _read_one(conn: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            want = int(value)
            while len(body) < want:
                chunk = conn.recv(65536)
                if not chunk:
                    return False
                body += chunk
    return True


@pytest.fixture
def raw_server() -> Iterator[Any]:
    servers: list[RawServer] = []

    def start(*answers: bytes) -> RawServer:
        server = RawServer(list(answers))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _answer(head: str, body: bytes, *, close: bool = True) -> bytes:
    """An answer's bytes; one RawServer writes says it closes the connection after it
    (a client would otherwise send its next request on it)."""
    end = "Connection: close\r\n" if close else ""
    return f"HTTP/1.1 {head}\r\n{end}".encode() + b"\r\n" + body


@pytest.mark.parametrize("length", [10**15, 10**30])
def test_a_content_length_no_body_fills_is_a_connection_error(
    raw_server: Any, length: int
) -> None:
    """The body is read as it arrives: a server declaring petabytes and sending two
    bytes is an answer cut short, not a MemoryError (10**15) or an OverflowError (more
    than an index holds) from allocating what was declared."""
    answer = _answer(
        f"200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}",
        b"{}",
    )
    server = raw_server(answer)
    client = make_client("AppClient", base_url=server.url, max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        client.list_campaigns()
    assert "IncompleteRead" in str(caught.value)
    client.close()


async def _list_campaigns_async(url: str) -> Any:
    """One call on an async client made for it, closed after."""
    client = make_client("AsyncAppClient", base_url=url, max_retries=0)
    try:
        return await client.list_campaigns()
    finally:
        await client.aclose()


def _gzip_garbage() -> bytes:
    return _answer(
        "200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        "Content-Length: 9",
        b"\x1f\x8bnotgzip",
    )


def test_an_undecodable_body_through_httpx_is_a_connection_error(
    raw_server: Any,
) -> None:
    """A body that does not decompress as its Content-Encoding says (httpx raised
    DecodingError, no TransportError; the httpx transports now decode the body
    themselves, within their max_response_bytes) and an httpx client of the caller's
    that follows redirects raising TooManyRedirects on a loop are both the package's
    APIConnectionError, from the sync httpx transport as from the async client."""
    httpx = pytest.importorskip("httpx")
    from customerio_client._transport import HTTPXTransport

    loop = _answer("302 Found\r\nLocation: /v1/campaigns\r\nContent-Length: 0", b"")
    server = raw_server(_gzip_garbage(), _gzip_garbage(), *[loop] * 30)

    with pytest.raises(APIConnectionError) as undecodable:
        asyncio.run(_list_campaigns_async(server.url))
    assert "does not decompress" in str(undecodable.value)
    transport = HTTPXTransport()
    client = make_client(
        "AppClient", base_url=server.url, max_retries=0, transport=transport
    )
    with pytest.raises(APIConnectionError) as again:
        client.list_campaigns()
    assert "does not decompress" in str(again.value)
    transport.close()
    with httpx.Client(follow_redirects=True, max_redirects=3) as own:
        client = make_client(
            "AppClient",
            base_url=server.url,
            max_retries=0,
            transport=HTTPXTransport(own),
        )
        with pytest.raises(APIConnectionError) as looping:
            client.list_campaigns()
    assert "TooManyRedirects" in str(looping.value)


class KeepAliveServer(RawServer):
    """Like RawServer, but keeps each connection open for the next request; and writes
    a 204's body only once `release` is set, after the client has read its head (the
    bytes would otherwise arrive with the head and be dropped with its buffer)."""

    def __init__(self, answers: list[bytes]) -> None:
        super().__init__(answers)
        self.release = threading.Event()
        self.released = threading.Event()

    def _handle(self, conn: socket.socket) -> None:
        # each connection on a thread of its own: it stays open between requests
        threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            while self.answers and _read_request(conn):
                head, sep, body = self.answers.pop(0).partition(b"\r\n\r\n")
                conn.sendall(head + sep)
                if head.startswith(b"HTTP/1.1 204"):
                    self.release.wait(5)
                conn.sendall(body)
                self.released.set()


def test_a_body_on_a_204_does_not_become_the_next_answer() -> None:
    """http.client reads no body after a 204, so the bytes a server sends anyway stay
    on the keep-alive connection; the next call on it read them as its status line
    (BadStatusLine: a connection error for a request the server had answered, which
    quoted the stray bytes). A pooled connection with bytes waiting is closed, and the
    call goes out on a new one."""
    no_content = _answer(
        "204 No Content\r\nContent-Type: application/json", b"{}", close=False
    )
    ok = _answer(
        "200 OK\r\nContent-Type: application/json\r\nContent-Length: 2",
        b"[]",
        close=False,
    )
    server = KeepAliveServer([no_content, ok])
    server.start()
    client = make_client("AppClient", base_url=server.url, max_retries=0)
    first = client.list_campaigns()
    server.release.set()
    assert server.released.wait(5)
    second = client.list_campaigns()
    client.close()
    server.stop()
    assert (first.status_code, first.data) == (204, None)
    assert (second.status_code, second.data) == (200, [])


def test_a_compressed_body_is_decompressed_by_the_sync_client(raw_server: Any) -> None:
    """http.client asks for no compression but a server (or a proxy) may compress
    anyway: the sync client decodes gzip and deflate as the async one (httpx) does,
    instead of reading the compressed bytes as JSON. One that does not decompress, or
    is cut short, is a connection error; a coding zlib does not know is left as it is.
    """
    data = b'[{"id": 1}]'
    deflated = zlib.compress(data)
    raw_deflate = deflated[2:-4]
    head = "200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
    answers = [
        _answer(head.format(len(z)) + f"Content-Encoding: {coding}", z)
        for coding, z in [
            ("gzip", gzip.compress(data)),
            ("deflate", deflated),
            ("deflate", raw_deflate),
            ("identity, gzip", gzip.compress(data)),
            ("zz-unknown", data),
            ("gzip", b"\x1f\x8bnotgzip"),
            ("gzip", gzip.compress(data)[:-6]),
        ]
    ]
    server = raw_server(*answers)
    client = make_client("AppClient", base_url=server.url, max_retries=0)
    got = [client.list_campaigns().data for _ in range(5)]
    assert got == [[{"id": 1}]] * 5
    for _ in range(2):
        with pytest.raises(APIConnectionError) as caught:
            client.list_campaigns()
        assert "does not decompress as its Content-Encoding gzip" in str(caught.value)
    client.close()


class EchoServer(RawServer):
    """Answers each request with its own Authorization line as the status line."""

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                lines = data.split(b"\r\n")
                auth = [x for x in lines if x.lower().startswith(b"authorization:")]
                conn.sendall(b"".join(auth[:1]) + b"\r\n\r\n")


def test_a_status_line_echoing_the_credentials_is_redacted() -> None:
    """The transports' messages quote the status line the HTTP library could not read;
    a server echoing the request's Authorization header as one put the API key into
    the APIConnectionError's message, and into its cause's."""
    server = EchoServer([])
    server.start()
    sync = make_client("AppClient", base_url=server.url, max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        sync.list_campaigns()
    errors = [caught.value]
    if importlib.util.find_spec("httpx") is not None:

        with pytest.raises(APIConnectionError) as caught_async:
            asyncio.run(_list_campaigns_async(server.url))
        errors.append(caught_async.value)
    sync.close()
    server.stop()
    for error in errors:
        assert "[REDACTED]" in str(error)
        shown = "".join(
            traceback.format_exception(type(error), error, error.__traceback__)
        )
        for secret in SECRETS:
            assert secret not in shown and secret not in repr(error)
