"""A real HTTP/1.1 server on 127.0.0.1 for tests: records every request, answers from a script.

Runs ``http.server`` in a daemon thread with keep-alive, so tests exercise the real transports
(connection reuse, dropped connections, timeouts) instead of mocks. Failures are scripted one
by one (``fail_next``) or drawn at random from a seeded generator (``inject_faults``), so a
flaky network is repeatable.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from typing_extensions import Self

_logger = logging.getLogger(__name__)

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as sent, still percent-encoded, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = field(repr=False)
    json: Any
    connection_id: int
    raw_query: str = ""
    # The server's monotonic clock when the request had been read.
    received_at: float = 0.0


Responder = Callable[[RecordedRequest], Reply]


def default_responder(request: RecordedRequest) -> Reply:
    return 200, {"Content-Type": "application/json"}, b"{}"


@dataclass(frozen=True)
class _Failure:
    status: int  # 0: no failure, only the delay (a slow answer from the responder)
    headers: dict[str, str]
    body: bytes
    delay: float
    drop: bool


@dataclass(frozen=True)
class _FaultPlan:
    rng: random.Random
    error_rate: float
    drop_rate: float
    slow_rate: float
    error: _Failure
    drop: _Failure
    slow: _Failure


def _parse_json(body: bytes, encoding: str = "") -> Any:
    if not body:
        return None
    try:
        if encoding.strip().lower() == "gzip":
            body = gzip.decompress(body)
        return json.loads(body)
    except (ValueError, OSError, EOFError, zlib.error):
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately; without this, delayed ACKs stall each reply.
    disable_nagle_algorithm = True
    # Idle keep-alive connections end on their own eventually.
    timeout = 30

    @property
    def fake(self) -> FakeServer:
        return cast(_Server, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.connection_id = self.fake._open_connection(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.fake._close_connection(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        request = self._record(self._read_body())
        failure = self.fake._next_failure()
        if failure is None:
            self._reply(*self.fake._respond(request))
            return
        if failure.delay:
            self.fake._stopping.wait(failure.delay)
        if failure.drop:
            self.close_connection = True
            return
        if failure.status == 0:
            self._reply(*self.fake._respond(request))
            return
        self._reply(failure.status, failure.headers, failure.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _record(self, body: bytes) -> RecordedRequest:
        target = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=target.path,
            query=parse_qs(target.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            json=_parse_json(body, self.headers.get("Content-Encoding", "")),
            connection_id=self.connection_id,
            raw_query=target.query,
            received_at=time.monotonic(),
        )
        self.fake._record(request)
        return request

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        bodiless = _bodiless(status)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if not bodiless:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and not bodiless:
                self.wfile.write(body)
        except OSError:
            # The client gave up (a timeout test): nothing left to answer.
            self.close_connection = True


def _bodiless(status: int) -> bool:
    """A status whose answer HTTP says has no body (1xx, 204, 304), whatever the script
    gives: a client reads none, so bytes written after it would be taken for the start
    of the next answer on the connection (a spec can give a 204 a JSON schema)."""
    return status < 200 or status in (204, 304)


class FakeServer:
    """Start with ``start()`` or ``with FakeServer() as server:``; point clients at ``url``."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or default_responder
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: deque[_Failure] = deque()
        self._faults: _FaultPlan | None = None
        self._connection_count = 0
        self._sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeServer is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """Distinct TCP connections accepted so far."""
        with self._lock:
            return self._connection_count

    def start(self) -> FakeServer:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeServer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def fail_next(
        self,
        n: int,
        status: int = 500,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        """Answer the next ``n`` requests with this failure instead of asking the responder.

        ``drop`` closes the connection without any response; ``delay`` waits first (seconds).
        """
        failure = _Failure(status, dict(headers or {}), body, delay, drop)
        with self._lock:
            self._failures.extend([failure] * n)

    def inject_faults(
        self,
        *,
        seed: int,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        slow_rate: float = 0.0,
        status: int = 500,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """From now on, fail a random share of the requests ``fail_next`` leaves alone.

        Each request draws once from a generator seeded with ``seed``: ``drop_rate`` of them
        are read and then the connection is closed with no answer, ``error_rate`` are
        answered with ``status`` (and ``headers``), ``slow_rate`` are answered normally after
        ``delay`` seconds. The same seed and the same number of requests give the same
        faults. ``reset`` ends it.
        """
        if error_rate + drop_rate + slow_rate > 1:
            raise ValueError("the fault rates add up to more than 1")
        plan = _FaultPlan(
            rng=random.Random(seed),
            error_rate=error_rate,
            drop_rate=drop_rate,
            slow_rate=slow_rate,
            error=_Failure(status, dict(headers or {}), b"", 0.0, False),
            drop=_Failure(0, {}, b"", 0.0, True),
            slow=_Failure(0, {}, b"", delay, False),
        )
        with self._lock:
            self._faults = plan

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._faults = None
            self._connection_count = 0
        self.responder = default_responder

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _open_connection(self, sock: socket.socket) -> int:
        with self._lock:
            self._connection_count += 1
            self._sockets.add(sock)
            return self._connection_count

    def _close_connection(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            if self._failures:
                return self._failures.popleft()
            plan = self._faults
            if plan is None:
                return None
            roll = plan.rng.random()
        if roll < plan.drop_rate:
            return plan.drop
        roll -= plan.drop_rate
        if roll < plan.error_rate:
            return plan.error
        roll -= plan.error_rate
        return plan.slow if roll < plan.slow_rate else None

    def _respond(self, request: RecordedRequest) -> Reply:
        try:
            return self.responder(request)
        except Exception:
            # A broken responder must fail the test visibly rather than hang the client.
            _logger.exception("FakeServer responder failed")
            return 500, {"Content-Type": "text/plain"}, b"responder failed"
