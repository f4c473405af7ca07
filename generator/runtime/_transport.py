"""HTTP transports: how a prepared request reaches the network.

``HTTPClientTransport`` (standard library only) is the default. The httpx transports are for
applications that already use httpx; httpx is imported only when one of them is created.
No transport of this module follows a redirect: a 3xx is handed back as it came (see
``_base_client.Call.answered``), as following it would send the credentials along.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import importlib
import io
import selectors
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from ._errors import APIConnectionError, APITimeoutError
from ._types import Headers, Timeout

# (scheme, host, port): connections are only reused for the exact same origin.
_Origin = tuple[str, str, int]

# What a write to, or a first read from, a connection the server already closed looks like.
_STALE_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)

_MAX_CAUSE_CHARS = 200
_READ_PIECE = 64 * 1024

# The most bytes an answer's body may hold, as it arrives and again once decompressed. No
# answer of an API comes near it; without one, a server (or anything posing as one) that
# sends without end, or a few kilobytes that inflate to gigabytes, takes the process's
# memory with it. A transport's `max_response_bytes` sets another.
DEFAULT_MAX_RESPONSE_BYTES: Final = 100 * 1024 * 1024


@dataclass(frozen=True)
class RawResponse:
    """A complete HTTP response. Header names are lower-cased."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def lower_headers(items: Iterable[tuple[str, str]]) -> Headers:
    """Lower-case the names; a repeated header becomes one comma-joined value (RFC 9110)."""
    return Headers(items)


class Transport(Protocol):
    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        """Send one request and read the whole response.

        Raises APIConnectionError (APITimeoutError on timeouts) when no response arrives.
        """
        ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse: ...

    async def aclose(self) -> None: ...


def connection_error(
    exc: BaseException, method: str, url: str, *, timed_out: bool = False
) -> APIConnectionError:
    """Describe a network failure by origin and path only: never headers, query or body."""
    parts = urlsplit(url)
    path = parts.path or "/"
    where = f"{method} {path} on {parts.hostname}"
    if timed_out or isinstance(exc, (socket.timeout, TimeoutError)):
        return APITimeoutError(f"request timed out: {where}", method=method, path=path)
    cause = f"{type(exc).__name__}: {exc}"[:_MAX_CAUSE_CHARS]
    return APIConnectionError(
        f"connection error: {where}: {cause}", method=method, path=path
    )


def _split_url(url: str) -> tuple[_Origin, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"unsupported URL scheme {scheme!r}: expected http or https")
    port = parts.port or (443 if scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return (scheme, parts.hostname, port), target


class _StaleConnection(Exception):
    """The connection died before any byte of the response arrived."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


class HTTPClientTransport:
    """``http.client`` with a thread-safe pool of idle keep-alive connections per origin.

    One instance may be shared by many threads: each request takes an idle connection (or opens
    one) for itself and hands it back once the response has been read completely. An answer
    whose body is over `max_response_bytes`, as it arrives or once decompressed, is an
    APIConnectionError naming the limit.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_idle_per_origin: int = 10,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle_per_origin
        self._max_body = max_response_bytes
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        origin, target = _split_url(url)
        try:
            return self._send(origin, method, target, dict(headers), body, timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise connection_error(exc, method, url) from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def _send(
        self,
        origin: _Origin,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        conn = self._take_idle(origin)
        while conn is not None and _has_input(conn):
            # An idle connection has nothing to say. Bytes waiting on it are the rest
            # of an answer that should have had no body (a 204 or a 304 with one, which
            # http.client does not read) and would be read as the next answer's status
            # line; or the server closed it. Either way it can carry no request.
            conn.close()
            conn = self._take_idle(origin)
        if conn is not None:
            try:
                return self._exchange(
                    origin, conn, method, target, headers, body, timeout
                )
            except _StaleConnection:
                # The server closed this idle connection before reading our request, so it
                # processed nothing: sending once more on a new connection is safe.
                pass
        conn = self._open(origin, timeout)
        try:
            return self._exchange(origin, conn, method, target, headers, body, timeout)
        except _StaleConnection as stale:
            raise stale.original from None

    def _exchange(
        self,
        origin: _Origin,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        clock = _Clock(timeout.read, time.monotonic() + timeout.attempt)
        try:
            conn.sock.settimeout(clock.wait())
            # http.client makes the answer with `response_class(sock, method=...)`; this
            # one reads it against the attempt's clock
            conn.response_class = functools.partial(  # type: ignore[assignment]
                _TimedResponse, clock=clock
            )
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
        except _STALE_ERRORS as exc:
            conn.close()
            raise _StaleConnection(exc) from exc
        except BaseException:
            conn.close()
            raise
        answer_headers = lower_headers(response.getheaders())
        try:
            coding = answer_headers.get("content-encoding", "")
            limit = self._max_body
            data = _decoded(_read_body(response, limit), coding, limit)
        except BaseException:
            conn.close()
            raise
        result = RawResponse(response.status, answer_headers, data)
        self._release(origin, conn, reusable=not response.will_close)
        return result

    def _open(self, origin: _Origin, timeout: Timeout) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                host, port, timeout=timeout.connect, context=self._context()
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout.connect)
        try:
            conn.connect()
            # Small requests must not wait for delayed ACKs (older http.client versions leave
            # Nagle's algorithm on).
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            conn.close()
            raise
        return conn

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return self._ssl_context

    def _take_idle(self, origin: _Origin) -> http.client.HTTPConnection | None:
        with self._lock:
            if self._closed:
                raise RuntimeError(
                    "the client's connections are closed (by its close() or the end of"
                    " its `with` block, or the transport given to it was closed): make a"
                    " new client"
                )
            idle = self._idle.get(origin)
            # Most recently used first: the likeliest to still be open.
            return idle.pop() if idle else None

    def _release(
        self, origin: _Origin, conn: http.client.HTTPConnection, *, reusable: bool
    ) -> None:
        if reusable and conn.sock is not None:
            with self._lock:
                idle = self._idle.setdefault(origin, [])
                if not self._closed and len(idle) < self._max_idle:
                    idle.append(conn)
                    return
        conn.close()


class _Clock:
    """An attempt's time: how long each wait for the socket may be (`read`), and when
    the attempt must be over (`deadline`, on time.monotonic's clock)."""

    def __init__(self, read: float, deadline: float) -> None:
        self.read = read
        self.deadline = deadline

    def wait(self) -> float:
        """Seconds the next wait may take; socket.timeout once the attempt is over."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("the answer did not arrive within the timeout")
        return min(self.read, left)


class _TimedReader(io.RawIOBase):
    """A socket's bytes, each wait for them cut to what is left of the attempt's time.
    The socket's own timeout bounds each wait alone: a server sending a byte a second
    (in the body, or in a head that never ends) never tripped it, and held the call for
    as long as it liked."""

    def __init__(self, file: Any, sock: socket.socket, clock: _Clock) -> None:
        super().__init__()
        # the socket's file http.client reads through, unbuffered: it keeps the socket
        # open after the connection lets go of it (an answer that closes the connection
        # is read to its end after http.client has closed the connection's side)
        self._file = file
        self._sock = sock
        self._clock = clock
        self.ended = False  # the server closed its side: no byte comes after these

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        wait = self._clock.wait()
        if wait < self._clock.read:  # else the socket waits `read` (see _exchange)
            self._sock.settimeout(wait)
        result: int | None = self._file.readinto(buffer)
        self.ended = self.ended or result == 0
        return result

    def close(self) -> None:
        self._file.close()
        super().close()


class _TimedResponse(http.client.HTTPResponse):
    """An answer read through a `_TimedReader`."""

    def __init__(
        self, sock: socket.socket, *args: Any, clock: _Clock, **kw: Any
    ) -> None:
        super().__init__(sock, *args, **kw)
        # nothing is read yet: the same file, its buffer reading through the clock
        self._reader = _TimedReader(self.fp.detach(), sock, clock)
        self.fp = io.BufferedReader(self._reader)

    def begin(self) -> None:
        """Read the head. http.client takes the end of the stream for the blank line
        that ends a head, so a connection closed in the middle of one (`200 OK` and
        half a header) was a complete answer with no body: a call returned None, a
        batch counted as delivered. Each line is read to its line end, so the stream
        ends inside the head only when it is cut short."""
        super().begin()
        if self._reader.ended:
            raise IncompleteHeadError(
                "the connection closed before the answer's head ended"
            )
        # http.client reads as many bytes as the first of several Content-Lengths
        # says: which of them frames the body, and where the next answer starts, is
        # anyone's guess (RFC 9112 6.3 makes it an error; httpx refuses it too)
        given = ",".join(self.msg.get_all("content-length") or ())
        if len({length.strip() for length in given.split(",")}) > 1:
            raise AmbiguousLengthError("the answer gives different Content-Lengths")


class IncompleteHeadError(http.client.HTTPException):
    """The connection closed in the middle of the answer's status line and headers."""


class AmbiguousLengthError(http.client.HTTPException):
    """An answer with Content-Lengths of different values."""


class UndecodableBodyError(http.client.HTTPException):
    """A body that does not decompress as its Content-Encoding says (cut short, or no
    such stream at all)."""


class ResponseTooLargeError(http.client.HTTPException):
    """A body over the transport's `max_response_bytes`, as it came or decompressed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is over max_response_bytes ({limit} bytes)")
        self.limit = limit


# zlib's window bits for each content coding this transport decodes
_CODINGS: Final = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,
}


def _decoded(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body without the content codings its Content-Encoding lists, last applied
    first. http.client asks for none, but a server or a proxy in front of it may
    compress anyway, and the httpx transports decode what they get: the sync client
    handed such a body on compressed, to be read as JSON or returned as a file. A body
    in a coding zlib does not know (`br`, `zstd`) stays as it came, as with httpx.
    ResponseTooLargeError when a coding's output passes `limit` bytes."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not body or not codings or any(c not in _CODINGS for c in codings):
        return body
    for coding in reversed(codings):
        body = _decompress(body, coding, limit)
    return body


def _decompress(body: bytes, coding: str, limit: int) -> bytes:
    # servers send raw DEFLATE as `deflate` as often as the zlib format it names
    tries = [_CODINGS[coding], *([-zlib.MAX_WBITS] if coding == "deflate" else [])]
    for wbits in tries:
        try:
            out = _inflate(body, wbits, limit)
        except zlib.error:
            continue
        if out is not None:
            return out
    raise UndecodableBodyError(
        f"the body does not decompress as its Content-Encoding {coding} says"
    )


def _inflate(body: bytes, wbits: int, limit: int) -> bytes | None:
    """`body` decompressed, a piece at a time so that the output is counted as it grows
    (a few kilobytes of zeros inflate to gigabytes in one call, which raised
    MemoryError); None when the stream is cut short."""
    stream = zlib.decompressobj(wbits)
    pieces: list[bytes] = []
    size = 0
    data = body
    while not stream.eof:
        piece = stream.decompress(data, _READ_PIECE)
        data = stream.unconsumed_tail
        size += len(piece)
        if size > limit:
            raise ResponseTooLargeError(limit)
        pieces.append(piece)
        if not piece and not stream.eof:
            # zlib stops short of the input only when the piece is full: nothing came,
            # so every byte was read and the stream never ended
            return None
    return b"".join(pieces)


def _has_input(conn: http.client.HTTPConnection) -> bool:
    """Whether the connection's socket is readable right now (data or end of stream)."""
    if conn.sock is None:
        return True
    with selectors.DefaultSelector() as selector:
        selector.register(conn.sock, selectors.EVENT_READ)
        return bool(selector.select(0))


class _Body:
    """A body as its pieces arrive, refused (ResponseTooLargeError) once past `limit`
    bytes: a body without end (chunked, or closed by the server when it likes) grew
    until memory ran out."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._pieces: list[bytes] = []
        self._size = 0

    def add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            raise ResponseTooLargeError(self._limit)
        self._pieces.append(piece)

    def whole(self) -> bytes:
        return b"".join(self._pieces)


def _read_body(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The whole body, read a piece at a time. `read()` asks the socket's buffer for as
    many bytes as the Content-Length says at once, so a server declaring 10**15 bytes
    made the client allocate that much (MemoryError) or fail to (OverflowError) before
    a byte arrived; pieces grow only with what the server actually sends, and no further
    than `limit`."""
    body = _Body(limit)
    while True:
        piece = response.read(_READ_PIECE)
        if not piece:
            break
        body.add(piece)
    # read(n) returns short at the end of the stream instead of raising
    if response.length:
        raise http.client.IncompleteRead(body.whole(), response.length)
    return body.whole()


def _import_httpx() -> ModuleType:
    try:
        return importlib.import_module("httpx")
    except ImportError as exc:
        raise ImportError(
            "the httpx transports need the httpx package: pip install httpx"
        ) from exc


def _httpx_timeout(httpx: ModuleType, timeout: Timeout) -> Any:
    return httpx.Timeout(timeout.read, connect=timeout.connect)


def _httpx_seconds(timeout: Timeout) -> float:
    """The most an attempt through httpx may take. httpx bounds each wait alone (an
    answer trickling in a byte a second held a call forever) and knows no total; its
    attempt includes connecting, which the stdlib transport's clock starts after."""
    return timeout.connect + timeout.attempt


# How the httpx transports make a client of their own. Redirects are not followed (httpx's
# default, said here so that no version's default can change it): a redirect to another
# host would get the request's Authorization header. A client the caller passes in is
# used as they configured it.
_OWN_CLIENT: Final[Mapping[str, Any]] = {"follow_redirects": False}


# The content codings the httpx transports ask for: those `_decoded` decodes. They read
# the body as it came and decode it themselves, as the stdlib transport does: httpx
# inflates each piece in one call, and the output of one coding in one call of the next
# when a body is compressed twice (gzip, gzip: kilobytes to gigabytes), so what it
# decodes cannot be bounded; and it asks for brotli and zstd when their packages are
# installed, which `_decoded` does not decode.
_ACCEPTED_CODINGS: Final = "gzip, deflate"


def _httpx_headers(headers: Mapping[str, str]) -> dict[str, str]:
    asked = dict(headers)
    if not any(name.lower() == "accept-encoding" for name in asked):
        asked["Accept-Encoding"] = _ACCEPTED_CODINGS
    return asked


def _httpx_response(response: Any, body: bytes, limit: int) -> RawResponse:
    headers = lower_headers(response.headers.multi_items())
    coding = headers.get("content-encoding", "")
    return RawResponse(
        int(response.status_code), headers, _decoded(body, coding, limit)
    )


class HTTPXTransport:
    """Sends through an ``httpx.Client``: the one given, or a new one this transport owns.

    An answer whose body is over `max_response_bytes`, as it arrives or once
    decompressed, is an APIConnectionError naming the limit."""

    def __init__(
        self,
        client: Any = None,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._httpx = _import_httpx()
        self._owns_client = client is None
        self._client: Any = (
            self._httpx.Client(**_OWN_CLIENT) if client is None else client
        )
        self._max_body = max_response_bytes

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        httpx = self._httpx
        limit = self._max_body
        deadline = time.monotonic() + _httpx_seconds(timeout)
        try:
            with self._client.stream(
                method,
                url,
                headers=_httpx_headers(headers),
                content=body,
                timeout=_httpx_timeout(httpx, timeout),
            ) as response:
                answer = _Body(limit)
                for piece in response.iter_raw():
                    answer.add(piece)
                    # no wait here is longer than `read`; a thread cannot cut one
                    # short (an answer's head that trickles in is not bounded here)
                    if time.monotonic() > deadline:
                        raise socket.timeout("the answer did not arrive in time")
                return _httpx_response(response, answer.whole(), limit)
        except (httpx.TimeoutException, socket.timeout) as exc:
            raise connection_error(exc, method, url, timed_out=True) from exc
        except (httpx.RequestError, http.client.HTTPException) as exc:
            # not only TransportError: a redirect loop a client following redirects
            # gives up on (TooManyRedirects) is an answer no caller can use either; and
            # a body over the limit, or not decoding as its Content-Encoding says
            raise connection_error(exc, method, url) from exc

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


class AsyncHTTPXTransport:
    """Sends through an ``httpx.AsyncClient``: the one given, or a new one this transport
    owns. Answers are bounded by `max_response_bytes` as with `HTTPXTransport`."""

    def __init__(
        self,
        client: Any = None,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._httpx = _import_httpx()
        self._owns_client = client is None
        self._client: Any = (
            self._httpx.AsyncClient(**_OWN_CLIENT) if client is None else client
        )
        self._max_body = max_response_bytes
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client_for_this_loop(self) -> Any:
        """The client to send with. An owned client's connections belong to the event loop
        they were opened in: a client used again under another loop (a second
        `asyncio.run`) gets a fresh one, where the old one would fail with "Event loop is
        closed" after sending."""
        loop = asyncio.get_running_loop()
        if self._owns_client and self._loop is not None and self._loop is not loop:
            self._client = self._httpx.AsyncClient(**_OWN_CLIENT)
        self._loop = loop
        return self._client

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        httpx = self._httpx
        exchange = self._exchange(method, url, headers, body, timeout)
        try:
            # the whole attempt, head and body, bounded: httpx bounds each wait alone
            return await asyncio.wait_for(exchange, _httpx_seconds(timeout))
        except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
            raise connection_error(exc, method, url, timed_out=True) from exc
        except (httpx.RequestError, http.client.HTTPException) as exc:
            # as in HTTPXTransport.send
            raise connection_error(exc, method, url) from exc

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        client = self._client_for_this_loop()
        limit = self._max_body
        async with client.stream(
            method,
            url,
            headers=_httpx_headers(headers),
            content=body,
            timeout=_httpx_timeout(self._httpx, timeout),
        ) as response:
            answer = _Body(limit)
            async for piece in response.aiter_raw():
                answer.add(piece)
            return _httpx_response(response, answer.whole(), limit)

    async def aclose(self) -> None:
        if not self._owns_client:
            return
        if self._loop is None or self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        # else the connections belong to a loop that has ended: there is nothing left
        # to close from this one
