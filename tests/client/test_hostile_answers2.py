"""The generated client against hostile servers, second round: answers that never end,
that trickle in, that inflate to gigabytes.

Each server here is a socket on 127.0.0.1 that reads a request and then runs a handler
writing raw bytes to the connection, one thread per connection. Whatever it writes, a
call ends, in bounded memory, with an answer or the package's own error.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import threading
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import APP_KEY, SECRETS, SITE_ID, TRACK_KEY, make_client
from customerio_client import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BackgroundPipelinesClient,
    BackgroundTrackClient,
    NotFoundError,
    RejectedMessageError,
    Timeout,
)
from customerio_client._transport import (
    AsyncHTTPXTransport,
    HTTPClientTransport,
    HTTPXTransport,
)

Handler = Callable[[Any], None]


class HostileServer:
    """Runs `handler(conn)` for every request on 127.0.0.1, after reading the request
    (its head, and its Content-Length's body: kept in `requests`). A handler that
    writes forever ends when the client goes away (its write fails)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
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
    return head + b"\r\n\r\n" + body


HAS_HTTPX = importlib.util.find_spec("httpx") is not None
# the sync client over the stdlib transport (its default) and over httpx, and the async
# client over httpx (its default)
TRANSPORTS = [
    "stdlib",
    pytest.param("httpx", marks=pytest.mark.skipif(not HAS_HTTPX, reason="httpx")),
    pytest.param("async", marks=pytest.mark.skipif(not HAS_HTTPX, reason="httpx")),
]


def list_campaigns(
    kind: str, url: str, timeout_of_call: float | None = None, **options: Any
) -> Any:
    """One list_campaigns call (its data) of a client made for it with a transport of
    `kind` made with `options`; without retries. Both are closed after."""
    if kind == "async":
        return asyncio.run(_list_campaigns_async(url, timeout_of_call, **options))
    cls = HTTPClientTransport if kind == "stdlib" else HTTPXTransport
    transport = cls(**options)
    client = make_client("AppClient", base_url=url, max_retries=0, transport=transport)
    try:
        return client.list_campaigns(timeout=timeout_of_call).data
    finally:
        transport.close()


async def _list_campaigns_async(
    url: str, timeout_of_call: float | None, **options: Any
) -> Any:
    transport = AsyncHTTPXTransport(**options)
    client = make_client(
        "AsyncAppClient", base_url=url, max_retries=0, transport=transport
    )
    try:
        return (await client.list_campaigns(timeout=timeout_of_call)).data
    finally:
        await transport.aclose()


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

# bodies by their Content-Encoding: each inflates to 64 MiB; the one compressed twice
# does once its outer layer (itself well under the cap) is inflated
BOMBS = {
    "gzip": _zeros_compressed(64 * MiB, 31),
    "deflate": _zeros_compressed(64 * MiB, 15),
    "deflate (raw)": _zeros_compressed(64 * MiB, -15),
}
BOMBS["gzip, gzip"] = zlib.compress(BOMBS["gzip"], wbits=31)


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_compression_bomb_inflates_no_further_than_the_cap(
    hostile: Any, name: str, kind: str
) -> None:
    """A body of some kilobytes that inflates to gigabytes was inflated in one call
    (by zlib in the stdlib transport, by httpx in the others): a bare MemoryError, or
    the process killed. Inflating stops at the transport's max_response_bytes, and the
    call raises the package's error naming it; what was allocated stays in the order
    of the cap."""
    body = BOMBS[name]
    coding = name.replace(" (raw)", "")
    head = _head(
        "200 OK",
        "Content-Type: application/json",
        f"Content-Encoding: {coding}",
        f"Content-Length: {len(body)}",
    )
    server = hostile(_sends(head + body))
    tracemalloc.start()
    try:
        with pytest.raises(APIConnectionError) as caught:
            list_campaigns(kind, server.url, max_response_bytes=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"over max_response_bytes ({MiB} bytes)" in str(caught.value)
    assert peak < 8 * MiB


def _endless_chunks(conn: Any) -> None:
    conn.sendall(
        _head("200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked")
    )
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while True:
        conn.sendall(chunk)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_body_without_end_is_cut_at_the_cap(hostile: Any, kind: str) -> None:
    """A chunked body that never ends (or one sent until the server closes) was read
    until memory ran out: MemoryError. Reading stops past max_response_bytes."""
    server = hostile(_endless_chunks)
    with pytest.raises(APIConnectionError) as caught:
        list_campaigns(kind, server.url, max_response_bytes=4 * MiB)
    assert "over max_response_bytes" in str(caught.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_an_answer_within_the_cap_is_read_whole(hostile: Any, kind: str) -> None:
    """The cap refuses only what is over it: an answer of exactly its size, compressed
    or not, arrives whole."""
    data = b"[" + b",".join([b'{"id": 1}'] * 100_000) + b"]"
    packed = zlib.compress(data, wbits=31)
    answers = [
        _head("200 OK", f"Content-Length: {len(data)}") + data,
        _head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(packed)}")
        + packed,
    ]
    server = hostile(lambda conn: conn.sendall(answers.pop(0)))
    got = [
        list_campaigns(kind, server.url, max_response_bytes=len(data)) for _ in range(2)
    ]
    assert got == [[{"id": 1}] * 100_000] * 2


@pytest.mark.parametrize(
    ("kind", "asked"),
    [("stdlib", "identity"), ("httpx", "gzip, deflate"), ("async", "gzip, deflate")],
)
def test_a_client_asks_only_for_the_codings_it_decodes_within_the_cap(
    hostile: Any, kind: str, asked: str
) -> None:
    """The httpx transports decode what they read themselves, within the cap, as the
    stdlib one does; so they ask for gzip and deflate only, where httpx asks for brotli
    and zstd too when their packages are installed. A body in a coding the client does
    not decode is handed on as it came (bounded by the cap as it arrives)."""
    if kind != "stdlib":
        pytest.importorskip("httpx")
    answer = (
        _head("200 OK", "Content-Encoding: br", "Content-Length: 4") + b"\x8b\x00\x80["
    )
    server = hostile(_sends(answer))
    assert list_campaigns(kind, server.url) == "\ufffd\x00\ufffd["
    (request,) = server.requests
    codings = [
        line.partition(b":")[2].strip().decode()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"accept-encoding:")
    ]
    assert codings == [asked]


def _trickle(head: bytes, byte: bytes, stopped: threading.Event) -> Handler:
    """Sends `head`, then `byte` every tenth of a second until the client goes away
    or the server stops."""

    def handler(conn: Any) -> None:
        conn.sendall(head)
        while not stopped.wait(0.1):
            conn.sendall(byte)

    return handler


def _ends(call: Callable[[], Any]) -> BaseException | None:
    """What `call` raised (None if it returned), on a thread of its own; fails the test
    should the call not end within 20 seconds (its timeout being a second or two), where
    it would otherwise hang the run."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except Exception as exc:  # noqa: BLE001  # the test looks at it
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the call did not end"
    return outcome[0]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_body_that_trickles_in_ends_at_the_timeout(hostile: Any, kind: str) -> None:
    """Headers, then a byte of the body every tenth of a second, forever: each read
    gets its byte well within the read timeout, which never fired, and the call hung
    on every transport. One attempt now takes at most its timeout once connected (the
    Timeout's `total`, by default its `read`)."""
    stopped = threading.Event()
    head = _head("200 OK", "Content-Type: application/json", "Content-Length: 9999")
    server = hostile(_trickle(head + b"[", b"1,", stopped))
    error = _ends(lambda: list_campaigns(kind, server.url, timeout_of_call=1.0))
    stopped.set()
    assert isinstance(error, APITimeoutError)


@pytest.mark.parametrize(
    "kind",
    [
        "stdlib",
        pytest.param("async", marks=pytest.mark.skipif(not HAS_HTTPX, reason="httpx")),
    ],
)
@pytest.mark.parametrize(
    ("start", "then"),
    [
        (b"HTTP/1.1 200 OK\r\nX-Slow: ", b"x"),
        (b"", b"HTTP/1.1 100 Continue\r\n\r\n"),
    ],
    ids=["a header trickling in", "interim answers without end"],
)
def test_a_head_that_never_ends_ends_at_the_timeout(
    hostile: Any, kind: str, start: bytes, then: bytes
) -> None:
    """A status line, then a header's bytes one every tenth of a second; or a `100
    Continue` every tenth of a second, which the client skips to wait for the answer
    proper: the head never ends, and the call hung. (HTTPXTransport cannot bound
    these: httpx waits for the head on the caller's thread, each wait bounded alone.)"""
    stopped = threading.Event()
    server = hostile(_trickle(start, then, stopped))
    error = _ends(lambda: list_campaigns(kind, server.url, timeout_of_call=1.0))
    stopped.set()
    assert isinstance(error, APITimeoutError)


def test_total_allows_an_answer_slow_to_arrive_on_purpose(hostile: Any) -> None:
    """An answer that takes a second and a half to trickle in: over a timeout of one
    second, within a Timeout whose `total` allows more (each wait still within `read`).
    """
    body = b"[" + b" " * 13 + b"]"

    def handler(conn: Any) -> None:
        conn.sendall(_head("200 OK", f"Content-Length: {len(body)}"))
        for byte in body:
            time.sleep(0.1)
            conn.sendall(bytes([byte]))

    server = hostile(handler)
    client = make_client("AppClient", base_url=server.url, max_retries=0)
    with pytest.raises(APITimeoutError):
        client.list_campaigns(timeout=Timeout(connect=1.0, read=1.0))
    answer = client.list_campaigns(timeout=Timeout(connect=1.0, read=1.0, total=10.0))
    client.close()
    assert answer.data == []


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    "cut",
    [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Type: applicati"],
    ids=["status line", "half a header"],
)
def test_a_head_cut_short_is_a_connection_error(
    hostile: Any, kind: str, cut: bytes
) -> None:
    """A server that closes the connection in the middle of the head: http.client took
    the end of the stream for the head's blank line, and the sync client returned a 200
    with no body (None), as the complete answer it never got. Now a connection error,
    as through httpx."""
    server = hostile(_sends(cut))
    with pytest.raises(APIConnectionError):
        list_campaigns(kind, server.url)


def test_a_complete_head_with_the_body_to_the_close_is_an_answer(hostile: Any) -> None:
    """The head ends with its blank line and the body runs to the end of the stream (no
    Content-Length): a complete answer, read as one."""
    server = hostile(_sends(b"HTTP/1.1 200 OK\r\n\r\n"))
    assert list_campaigns("stdlib", server.url) is None
    server = hostile(_sends(b"HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n[1]"))
    assert list_campaigns("stdlib", server.url) == [1]


def _batch_ids(request: bytes) -> list[str]:
    body = json.loads(request.partition(b"\r\n\r\n")[2])
    return [message["messageId"] for message in body["batch"]]


def test_a_batch_answered_with_a_head_cut_short_is_sent_again(hostile: Any) -> None:
    """The background client counted a batch whose answer was cut off after its status
    line as delivered, never to be sent again: the server may have taken none of it.
    It is retried, with the same message ids (at least once: the API drops a copy)."""
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Ty",
        _head("200 OK", "Content-Length: 2") + b"{}",
    ]
    server = hostile(lambda conn: conn.sendall(answers.pop(0)))
    lost: list[Any] = []
    client = BackgroundPipelinesClient(
        "cdp-key-123456", base_url=server.url, on_error=lambda m, e: lost.append(e)
    )
    ids = [client.track(user_id="u", event=f"e{i}") for i in range(3)]
    assert client.flush(timeout=10)
    client.close(timeout=2)
    first, again = server.requests
    assert _batch_ids(first) == _batch_ids(again) == ids
    assert (client.stats.sent, client.stats.retried, lost) == (3, 3, [])


@pytest.mark.parametrize(
    "retry_after", ["0", "Mon, 01 Jan 1900 00:00:00 GMT"], ids=["0", "a past date"]
)
def test_a_429_asking_for_no_wait_forever_does_not_make_a_busy_loop(
    hostile: Any, tmp_path: Any, retry_after: str
) -> None:
    """A server answering every batch with 429 and a Retry-After of 0 (or a date gone
    by): the background client with a spool, which never gives up on a transient
    failure, sent again at once every time, as fast as the server answered (about a
    thousand requests a second here, without end). Failures in a row pause the workers
    with backoff whatever the server asked, so a second and a half holds a few."""
    answer = _head("429 Too Many Requests", f"Retry-After: {retry_after}")
    server = hostile(_sends(answer))
    lost: list[Any] = []
    client = BackgroundPipelinesClient(
        "cdp-key-123456",
        base_url=server.url,
        spool_path=tmp_path / "spool.sqlite",
        on_error=lambda m, e: lost.append(e),
    )
    client.track(user_id="u", event="e")
    time.sleep(1.5)
    assert not client.close(timeout=1)  # kept in the spool for the next run
    assert 2 <= len(server.requests) < 40
    assert lost == [] and client.stats.pending == 1


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    "lengths",
    [("Content-Length: 2", "Content-Length: 10"), ("Content-Length: 2, 10",)],
    ids=["two headers", "one list"],
)
def test_different_content_lengths_are_a_connection_error(
    hostile: Any, kind: str, lengths: tuple[str, ...]
) -> None:
    """Content-Lengths of 2 and 10: the sync client read 2 bytes and returned them as
    the answer (the first value won), leaving where the body ends, and the next answer
    starts, to a guess. Refused, as httpx refuses it."""
    server = hostile(_sends(_head("200 OK", *lengths) + b"[]12345678"))
    with pytest.raises(APIConnectionError):
        list_campaigns(kind, server.url)


def test_the_same_content_length_twice_is_one(hostile: Any) -> None:
    server = hostile(_sends(_head("200 OK", *["Content-Length: 2"] * 2) + b"[]"))
    assert list_campaigns("stdlib", server.url) == []


TEXTS = {
    "a UTF-8 byte order mark": ("application/json", b"\xef\xbb\xbf"),
    "UTF-16 with its mark": ("application/json; charset=utf-16", "utf-16"),
    "UTF-16 LE, named": ("application/json; charset=UTF-16LE", "utf-16-le"),
    "UTF-32 with its mark": ("application/json", "utf-32"),
}


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_json_with_a_byte_order_mark_or_in_utf_16_is_read(
    hostile: Any, kind: str, name: str
) -> None:
    """JSON was read as UTF-8 whatever came: one starting with a byte order mark (which
    RFC 8259 lets a parser ignore), or in the UTF-16 its Content-Type names, was no
    JSON, and the call returned its text (or failed to match its schema), where httpx's
    own `Response.json()` reads it. The mark, or the charset, now says how to read it;
    an error answer's message quotes its detail as well."""
    content_type, encoding = TEXTS[name]
    ok = '[{"name": "é"}]'
    error = '{"meta": {"error": "no such campaign"}}'

    def encoded(text: str) -> bytes:
        if isinstance(encoding, bytes):
            return encoding + text.encode()
        return text.encode(encoding)

    answers = [
        _head("200 OK", f"Content-Type: {content_type}") + encoded(ok),
        _head("404 Not Found", f"Content-Type: {content_type}") + encoded(error),
    ]
    server = hostile(lambda conn: conn.sendall(answers.pop(0)))
    assert list_campaigns(kind, server.url) == [{"name": "é"}]
    with pytest.raises(NotFoundError) as caught:
        list_campaigns(kind, server.url)
    assert str(caught.value).endswith(": no such campaign")


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_credential_echoed_across_the_messages_cut_is_redacted(
    hostile: Any, kind: str
) -> None:
    """A server echoing the request's Authorization header as its status line, after
    some padding: the connection error's message quotes the start of what the HTTP
    library said (200 characters), so a key the cut fell in kept its first characters
    there, and one past the cut was not redacted at all from the library's exception,
    the message's cause, which a traceback shows whole. Each padding here moves the
    key by 5 characters across the cut, for each transport's wording."""
    served: list[HostileServer] = []

    def echo(conn: Any) -> None:
        server = served[0]
        request = server.requests[-1]
        auth = next(
            line
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"authorization:")
        )
        padding = b"X" * (100 + 5 * len(server.requests))
        conn.sendall(padding + auth + b"\r\n\r\n")

    served.append(hostile(echo))
    for _ in range(24):
        with pytest.raises(APIConnectionError) as caught:
            list_campaigns(kind, served[0].url)
        error = caught.value
        shown = "".join(
            traceback.format_exception(type(error), error, error.__traceback__)
        )
        assert APP_KEY not in shown and APP_KEY not in repr(error)
        assert APP_KEY[:4] not in str(error)  # "app-": no start of it either


def test_a_credential_echoed_where_the_error_detail_is_cut_is_redacted(
    hostile: Any,
) -> None:
    """An error answer whose message echoes the request's Authorization header after
    some padding: the APIError's message quotes the first 200 characters of the API's
    explanation, and the key was redacted after that cut, so a key the cut fell in kept
    its first characters (18 of its 21 here). Each padding moves the key by 5."""
    served: list[HostileServer] = []

    def echo(conn: Any) -> None:
        server = served[0]
        auth = next(
            line.decode()
            for line in server.requests[-1].split(b"\r\n")
            if line.lower().startswith(b"authorization:")
        )
        padding = "x" * (120 + 5 * len(server.requests))
        body = json.dumps({"message": f"{padding} you sent {auth}"}).encode()
        head = _head(
            "400 Bad Request",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        )
        conn.sendall(head + body)

    served.append(hostile(echo))
    client = make_client("AppClient", base_url=served[0].url, max_retries=0)
    for _ in range(16):
        with pytest.raises(APIError) as caught:
            client.list_campaigns()
        assert APP_KEY[:4] not in str(caught.value)  # "app-": no start of the key
    client.close()


def test_a_refusal_echoing_the_credentials_is_redacted(hostile: Any) -> None:
    """A partial failure (Track's 207) whose entry for a message echoes the request's
    Authorization header: the RejectedMessageError handed to on_error quoted the entry,
    credentials and all, in its message. They are redacted there (`details` keeps the
    entry as the API sent it, as an APIError's `body` does)."""

    def refuse_echoing(conn: Any) -> None:
        request = server.requests[-1]
        auth = next(
            line.decode()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"authorization:")
        )
        entry = {"batch_index": 0, "reason": "invalid", "field": auth}
        body = json.dumps({"errors": [entry]}).encode()
        conn.sendall(_head("207 Multi-Status", f"Content-Length: {len(body)}") + body)

    server = hostile(refuse_echoing)
    refused: list[Exception] = []
    client = BackgroundTrackClient(
        SITE_ID,
        TRACK_KEY,
        base_url=server.url,
        on_error=lambda m, e: refused.append(e),
    )
    client.enqueue(
        {"type": "person", "action": "event", "identifiers": {"id": "u"}, "name": "e"}
    )
    client.close(timeout=5)
    (error,) = refused
    assert isinstance(error, RejectedMessageError)
    assert "[REDACTED]" in str(error)
    for secret in SECRETS:
        assert secret not in str(error) and secret not in repr(error)
