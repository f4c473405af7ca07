"""Background delivery to a batch operation: the queue, batching, sending and retrying.

``Delivery`` takes one message at a time (``enqueue``), encodes it once into JSON bytes, packs
messages into requests that keep to the operation's limits, and sends them from background
worker threads, retrying what failed. Everything an API states (the operation's URL, the name
of the body's array, the size and rate limits, the fields to fill in) reaches this module in a
``BatchEndpoint`` built by generated code.

A message is never dropped silently: it is delivered, or it is handed to ``on_error`` and
counted as failed or dropped (with a log line giving counts, never content), or, with a spool,
it stays on disk for the next process. Requests are retried whole, and only the ones that
failed; a message keeps its id across retries, so the API can drop the copies that a lost
response makes unavoidable. With a spool, a transient failure is retried for as long as the
engine runs (``flush`` and ``close`` wait for it only up to its retries, as without a spool):
only an answer that will fail the same way again is given up on.
"""

from __future__ import annotations

import atexit
import datetime
import json
import logging
import os
import random
import sqlite3
import sys
import threading
import time
import weakref
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from heapq import heappop, heappush
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote, urlencode, urlsplit

from ._base_client import USER_AGENT, decode_body, secrets_of
from ._encoding import _json_default, merge_headers
from ._errors import (
    APIConnectionError,
    Error,
    PayloadTooLargeError,
    error_for_response,
    redact,
    redact_connection_error,
)
from ._retry import (
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    backoff_delay,
    is_retryable_status,
    retry_after_seconds,
)
from ._serde import format_datetime
from ._spool import Spool, SpoolDamagedError, SpoolLockedError, adopt, claim
from ._transport import HTTPClientTransport, RawResponse, Transport
from ._types import Timeout

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "BatchEndpoint",
    "Delivery",
    "DeliveryClosedError",
    "DeliveryStats",
    "MessageTooLargeError",
    "QueueFullError",
    "RateLimiter",
    "RejectedMessageError",
    "SpoolDamagedError",
    "SpoolLockedError",
    "UndeliveredError",
    "iso_timestamp",
    "new_message_id",
]

logger = logging.getLogger(__package__ or __name__)

OnError = Callable[[list[dict[str, Any]], BaseException], None]

DEFAULT_BATCH_SIZE: Final = 500
DEFAULT_FLUSH_INTERVAL: Final = 0.5  # seconds
DEFAULT_MAX_QUEUE_SIZE: Final = 100_000
DEFAULT_FULL_TIMEOUT: Final = 10.0  # seconds
DEFAULT_WORKERS: Final = 2
DEFAULT_EXIT_TIMEOUT: Final = 10.0  # seconds
DEFAULT_DELIVERY_RETRIES: Final = 10
DEFAULT_DELIVERY_TIMEOUT: Final = Timeout(connect=5.0, read=15.0)

# After this many failed requests in a row (none succeeding in between), every worker pauses
# with backoff before its next request: the server is struggling, not one request unlucky.
_FAILURES_BEFORE_PAUSE: Final = 3
_DROP_LOG_EVERY: Final = 5.0  # seconds
_GZIP_LEVEL: Final = 6
_GZIP_WBITS: Final = 31  # zlib's way of asking for the gzip container
# Header names whose values are credentials, to be redacted from server error text.
_SECRET_HINTS: Final = ("auth", "key", "token", "secret", "cookie")
# One sample stamp: every stamp has this length (ISO-8601, UTC, milliseconds).
_SAMPLE_STAMP: Final = "2000-01-01T00:00:00.000Z"


def _encode_default(value: Any) -> Any:
    """What the encoder does with a value JSON has no form for: a datetime is written in
    UTC with its `Z` (a naive one is local time), as everywhere else in the package."""
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    return _json_default(value)


_ENCODER: Final = json.JSONEncoder(
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    default=_encode_default,
    # Not shared-state safe across threads (and a shared sub-object, such as a library
    # description in every message, is not circular); a real cycle still fails, by depth.
    check_circular=False,
)


def _fast_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode`` without its per-call set-up, which costs as much as encoding a
    small message: the C encoder built once and reused (it keeps no state between calls).
    Falls back to ``_ENCODER.encode`` where the C encoder is missing or differs."""
    make = getattr(json.encoder, "c_make_encoder", None)
    quote = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or quote is None:
        return _ENCODER.encode
    try:
        # The arguments ``JSONEncoder.iterencode`` passes, in its order.
        chunks = make(None, _encode_default, quote, None, ":", ",", False, False, False)
    except TypeError:
        return _ENCODER.encode

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    probe = {"a": [1, 2.5, None, True, "é\n"], "b": {"c": "d"}}
    try:
        if encode(probe) != _ENCODER.encode(probe):
            return _ENCODER.encode
    except (TypeError, ValueError):
        return _ENCODER.encode
    return encode


_encode_json: Final = _fast_encoder()


@dataclass(frozen=True)
class BatchEndpoint:
    """The batch operation messages are delivered to, as the API documents it."""

    url: str  # absolute URL of the operation
    items_field: str  # the body's array holding the messages
    max_request_bytes: int | None = None  # limit on the whole request body
    max_item_bytes: int | None = None  # limit on one message, as sent
    rate_requests: int | None = None  # at most this many requests ...
    rate_per_seconds: float | None = None  # ... in any window of this many seconds
    message_id_field: str | None = None  # filled with a uuid4 when missing, once
    sent_at_field: str | None = None  # stamped into each message at each send
    # An answer with this status accepts the batch but for the items its array
    # ``partial_errors_field`` lists, each entry naming its item's 0-based position in
    # ``partial_index_field``: those items are given to ``on_error``, not counted as sent.
    partial_status: int | None = None
    partial_errors_field: str | None = None
    partial_index_field: str | None = None
    # API keys the client sends in the query string (name -> key): on every request,
    # and never in a repr or a message
    query: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class DeliveryStats:
    """Counts of messages since the engine started (in a forked child: since the fork).

    ``retried`` counts messages sent again (a retried request of 100 messages adds 100);
    ``failed`` were given up on after sending; ``dropped`` were never delivered for another
    reason (a full queue with ``on_full="drop"``, or still queued when ``close`` ran out of
    time). ``pending`` are queued and not yet settled.
    """

    queued: int
    sent: int
    retried: int
    failed: int
    dropped: int
    pending: int


class QueueFullError(Error):
    """The queue stayed full for the whole wait; the message was not queued."""

    def __init__(self, max_queue_size: int, waited: float) -> None:
        super().__init__(
            f"the delivery queue is full ({max_queue_size} messages waiting) and no room "
            f"was made in {waited:g}s; the message was not queued"
        )
        self.max_queue_size = max_queue_size
        self.waited = waited


class DeliveryClosedError(Error):
    """The engine was closed (or cannot be used in this process); nothing was queued."""


class MessageTooLargeError(PayloadTooLargeError):
    """One message, as it would be sent, is over the operation's per-message limit.

    Raised by ``enqueue`` at once: the API would accept the request and drop the message.
    """

    def __init__(self, *, limit: int, size: int, operation: str) -> None:
        super().__init__(limit=limit, size=size, operation_id=operation, index=0)
        message = (
            f"{operation}: the message is {size} bytes as sent, over the limit of "
            f"{limit} bytes; it was not queued"
        )
        self.args = (message,)


class RejectedMessageError(Error):
    """Given to ``on_error`` with one message the API refused while accepting the rest of
    its batch. ``details`` is the API's entry for it (the reason, the field...), without
    the position; the message quotes it without the `secrets` (a server may echo the
    request's credentials in it)."""

    def __init__(
        self, operation: str, details: Mapping[str, Any], secrets: Iterable[str] = ()
    ) -> None:
        said = "; ".join(f"{k}: {v}" for k, v in sorted(details.items()))
        super().__init__(
            f"{operation}: the API refused the message"
            + (f" ({redact(said, secrets)})" if said else "")
        )
        self.details = dict(details)


class UndeliveredError(Error):
    """Given to ``on_error`` with messages still undelivered when time ran out at close."""

    def __init__(self, count: int, timeout: float | None) -> None:
        within = "" if timeout is None else f" within {timeout:g}s"
        super().__init__(
            f"{count} messages were not delivered{within} before the engine closed"
        )
        self.count = count


class RateLimiter:
    """At most ``requests`` reservations in any window of ``per`` seconds. Thread-safe.

    A sliding window rather than a token bucket: a bucket that refills at the documented rate
    lets a full burst through at each end of a window, up to twice the limit inside one.
    """

    def __init__(
        self, requests: int, per: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if requests < 1 or per <= 0:
            raise ValueError("a rate limit needs requests >= 1 and per > 0")
        self._per = per
        self._clock = clock
        # The start times of the last ``requests`` reservations, oldest first.
        self._times: deque[float] = deque(maxlen=requests)
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next request; the seconds to wait before sending it."""
        with self._lock:
            now = self._clock()
            at = now
            if len(self._times) == self._times.maxlen:
                at = max(now, self._times[0] + self._per)
            self._times.append(at)
            return at - now


class _Batch:
    """Messages sent together, in their stored form (see ``Delivery._encode``)."""

    __slots__ = ("abandoned", "items", "retries", "rowids", "seq")

    def __init__(self, seq: int, items: list[bytes], rowids: list[int]) -> None:
        self.seq = seq
        self.items = items
        self.rowids = (
            rowids  # the spool's ids, in the same order; empty without a spool
        )
        self.retries = 0
        self.abandoned = False  # reported at close already: the outcome must not be


# Random bytes for message ids, read from the OS 4 KiB at a time: one read per 256 ids
# instead of one each (a system call that cost a producer a sixth of its time). Emptied in a
# forked child, so a child never repeats its parent's ids.
_RANDOM_CHUNK: Final = 4096
_random_pool = b""
_random_at = 0
_random_lock = threading.Lock()


def _random_16() -> bytes:
    global _random_pool, _random_at
    with _random_lock:
        if _random_at + 16 > len(_random_pool):
            _random_pool, _random_at = os.urandom(_RANDOM_CHUNK), 0
        _random_at += 16
        return _random_pool[_random_at - 16 : _random_at]


def new_message_id() -> str:
    """A random (version 4) UUID in its usual text form (OS randomness, as uuid4's).

    The same as ``str(uuid.uuid4())``, in a fraction of the time: a producer sending tens
    of thousands of messages a second spends a noticeable share of it making ids.
    """
    h = _random_16().hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


# The formatted second of the last stamp: most stamps in a busy second share it.
_last_second: tuple[int, str] = (-1, "")


def iso_timestamp(now: float | None = None) -> str:
    """``now`` (default: the current time) as ISO-8601 in UTC with milliseconds:
    ``2024-05-01T12:34:56.789Z``."""
    global _last_second
    if now is None:
        now = time.time()
    whole = int(now)
    millis = min(999, int((now - whole) * 1000))
    second, text = _last_second
    if second != whole:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _last_second = (whole, text)
    return f"{text}.{millis:03d}Z"


def _json_key(name: str) -> bytes:
    return _encode_json(name).encode("utf-8") + b":"


class Delivery:
    """Delivers messages to one batch operation from background threads.

    Thread-safe: any number of threads may ``enqueue`` at once. Use as a context manager,
    or call ``close()``; at interpreter exit it closes itself (waiting ``exit_timeout``).
    Request headers (credentials) are never shown in its repr or its logs.

    A request that fails for a transient reason (no response, or a status
    ``is_retryable_status`` accepts: 408, 429, 5xx) is retried with backoff, up to
    ``max_retries`` times; any other status is given up on at once. ``spool_path`` names
    an SQLite file holding every message until it is delivered or given up on: a crash
    loses nothing, what ``close`` leaves is sent by the next engine on the file, and a
    transient failure is never given up on (past ``max_retries`` the batch stays in the
    spool and is retried with the same backoff until delivered or closed; meanwhile the
    queue fills and ``on_full`` applies). ``spool_dir`` names a directory of such files
    shared by several processes (a server's workers, forked children): each engine takes
    one that no live process holds, and takes over what dead processes left in the
    others. A resend after a lost answer carries the same ids (``message_id_field``), so
    the API can drop the copy. ``on_error(messages, exception)`` gets every message given
    up on: refused (a non-retryable status, or listed by a partial failure), out of
    retries without a spool, dropped by a full queue, or, without a spool, still queued
    when ``close`` ran out of time or sent when an unexpected exception was raised (with a
    spool such a batch is retried, and logged).
    """

    def __init__(
        self,
        endpoint: BatchEndpoint,
        headers: Mapping[str, str],
        *,
        transport: Transport | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        on_full: Literal["block", "drop"] = "block",
        full_timeout: float | None = DEFAULT_FULL_TIMEOUT,
        max_retries: int = DEFAULT_DELIVERY_RETRIES,
        max_backoff: float = MAX_RETRY_DELAY,
        gzip: bool = False,
        on_error: OnError | None = None,
        workers: int = DEFAULT_WORKERS,
        timeout: float | Timeout = DEFAULT_DELIVERY_TIMEOUT,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
        spool_path: str | Path | None = None,
        spool_dir: str | Path | None = None,
    ) -> None:
        if batch_size < 1 or max_queue_size < 1 or workers < 1:
            raise ValueError("batch_size, max_queue_size and workers must be 1 or more")
        if flush_interval <= 0 or max_backoff < 0 or max_retries < 0:
            raise ValueError(
                "flush_interval must be positive; max_backoff, max_retries 0 or more"
            )
        if on_full not in ("block", "drop"):
            raise ValueError('on_full must be "block" or "drop"')
        if spool_path is not None and spool_dir is not None:
            raise ValueError("give spool_path or spool_dir, not both")
        self._endpoint = endpoint
        self._url = endpoint.url
        if endpoint.query:
            self._url += "?" + urlencode(endpoint.query, quote_via=quote)
        self._operation = f"POST {_path_of(endpoint.url)}"
        self._headers = merge_headers(
            {"User-Agent": USER_AGENT},
            headers,
            {"Content-Type": "application/json"},
            {"Content-Encoding": "gzip"} if gzip else {},
        )
        self._secrets = secrets_of(
            {
                **{
                    k: v
                    for k, v in headers.items()
                    if any(h in k.lower() for h in _SECRET_HINTS)
                },
                **{f"query {name}": key for name, key in endpoint.query.items()},
            }
        )
        self._owns_transport = transport is None
        self._transport: Transport = (
            HTTPClientTransport(max_idle_per_origin=max(10, workers))
            if transport is None
            else transport
        )
        self._batch_size = batch_size
        self._interval = flush_interval
        self._max_queue = max_queue_size
        self._on_full = on_full
        self._full_timeout = full_timeout
        self._max_retries = max_retries
        self._max_backoff = max_backoff
        self._gzip = gzip
        self._on_error = on_error
        self._workers = workers
        self._timeout = Timeout.of(timeout, DEFAULT_DELIVERY_TIMEOUT)
        self._exit_timeout = exit_timeout
        self._rng = random.Random()

        # The wire shapes, worked out once.
        self._head = b"{" + _json_key(endpoint.items_field) + b"["
        self._end = b"]}"
        self._empty_bytes = len(self._head) + len(self._end)
        self._id_key = (
            _json_key(endpoint.message_id_field) if endpoint.message_id_field else b""
        )
        self._stamp_key = (
            b"{" + _json_key(endpoint.sent_at_field) if endpoint.sent_at_field else b""
        )
        # Every message is stored without what the send adds: with a stamp, as the text
        # after the stamp (",<members>}"), so each send only joins (see ``_body``).
        self._stamp_len = (
            len(self._stamp_prefix(_SAMPLE_STAMP.encode())) if self._stamp_key else 0
        )
        self._max_item = endpoint.max_item_bytes
        self._max_request = endpoint.max_request_bytes
        if self._max_request is not None and self._max_request <= self._empty_bytes:
            raise ValueError("max_request_bytes leaves no room for any message")
        self._limiter = self._new_limiter()

        self._spool_path = None if spool_path is None else str(spool_path)
        self._spool_dir = None if spool_dir is None else str(spool_dir)
        self._spool: Spool | None = None
        self._forked_spool = False
        # In a forked child of an engine with a spool directory: a spool of its own is
        # claimed by the first enqueue (a child that sends nothing makes no file).
        self._unclaimed = False
        self._closing = False
        self._closed = False
        self._init_state()
        if self._spool_path is not None or self._spool_dir is not None:
            self._start_spool()
        _LIVE.add(self)

    # ---- state -------------------------------------------------------------------------

    def _init_state(self) -> None:
        """Fresh queue, counters and locks: at construction, and in a forked child."""
        self._lock = threading.Lock()
        self._claiming = threading.Lock()  # see ``_claim_in_child``
        self._work = threading.Condition(self._lock)  # workers wait here for batches
        self._space = threading.Condition(self._lock)  # producers wait here for room
        self._settled = threading.Condition(self._lock)  # flush waits here
        self._open: list[bytes] = []  # the batch being filled
        self._open_rowids: list[int] = []
        self._open_bytes = self._empty_bytes  # its request size if sent now
        self._open_since = 0.0
        self._ready: deque[_Batch] = deque()  # full batches, oldest first
        self._retry: list[tuple[float, int, _Batch]] = []  # heap by due time
        # Sealed and not yet settled, by sequence number; insertion order is sequence order,
        # so the first key is the oldest unsettled batch.
        self._unsettled: dict[int, _Batch] = {}
        self._next_seq = 1
        self._paused_until = 0.0
        self._failures_in_row = 0
        self._threads: list[threading.Thread] = []
        # Set on a thread while it sends for this engine (a worker, or a caller sending
        # inline at shutdown): ``on_error`` may run there, and must not wait for itself.
        self._sender = threading.local()
        self._stopping = False
        self._queued = self._sent = self._retried = 0
        self._failed = self._dropped = self._pending = 0
        self._lost_mark = 0  # failed + dropped when the last flush returned
        self._unlogged_drops = 0
        self._drop_log_after = 0.0

    def _new_limiter(self) -> RateLimiter | None:
        requests = self._endpoint.rate_requests
        per = self._endpoint.rate_per_seconds
        return RateLimiter(requests, per) if requests and per else None

    def _start_spool(self) -> None:
        """Open the spool (the file, or a free one of the directory) and queue what an
        earlier process left in it."""
        damaged: list[str] = []
        if self._spool_path is not None:
            spool = Spool(self._spool_path)
        else:
            assert self._spool_dir is not None
            spool, damaged = claim(self._spool_dir)
        try:
            if self._spool_dir is not None:
                moved, also_damaged = adopt(spool, self._spool_dir)
                self._log_damaged(sorted({*damaged, *also_damaged}))
                if moved:
                    logger.warning(
                        "took over %d messages left in other spools of %s",
                        moved,
                        self._spool_dir,
                    )
            self._spool = spool
            self._recover()
        except BaseException:
            # An engine that failed to start must not keep the spool locked: the
            # caller may move the file aside and try again in this process.
            self._spool = None
            spool.close()
            raise

    def _log_damaged(self, paths: list[str]) -> None:
        for path in paths:
            logger.warning(
                "the spool %s cannot be read: passed over and left as it is (move it "
                "aside; sqlite3's .recover may save some of its messages)",
                path,
            )

    def _claim_in_child(self) -> None:
        """A forked child's first enqueue: a spool of its own in the directory."""
        with self._claiming:
            if not self._unclaimed or self._closing:  # closed: the enqueue refuses
                return
            self._start_spool()
            self._unclaimed = False

    def _recover(self) -> None:
        """Queue what an earlier process left in the spool."""
        assert self._spool is not None
        rows = self._spool.load()
        if not rows:
            return
        # A row that is not a JSON object (damaged on disk, or written by something else)
        # would make its whole batch unreadable to the API, and break on_error's decoding.
        unreadable = [rowid for rowid, body in rows if not _is_json_object(body)]
        if unreadable:
            self._spool.set_aside(unreadable)
            logger.warning(
                "%d messages in the spool %s are not readable JSON objects: moved to its "
                "table 'unreadable', not sent",
                len(unreadable),
                self._spool.path,
            )
            skip = set(unreadable)
            rows = [row for row in rows if row[0] not in skip]
            if not rows:
                return
        logger.warning(
            "delivering %d messages left in the spool by an earlier process", len(rows)
        )
        with self._lock:
            for rowid, body in rows:
                item = self._stored_form(body)
                self._add(item, self._stamp_len + len(item), rowid)
            if self._open:
                self._seal()
            self._start_workers()

    # ---- producing ---------------------------------------------------------------------

    def enqueue(self, message: Mapping[str, Any]) -> bool:
        """Queue one message for delivery; True when queued.

        Raises MessageTooLargeError (a PayloadTooLargeError) for a message over the
        per-message limit, QueueFullError when the queue stayed full for ``full_timeout``
        (with ``on_full="block"``; at once on a thread sending for this engine, such as
        ``on_error``'s), DeliveryClosedError after ``close``. With ``on_full="drop"`` a full
        queue returns False after handing the message to ``on_error`` (in this thread).
        """
        full, item = self._encode(message)
        size = self._stamp_len + len(item)
        if self._max_item is not None and size > self._max_item:
            raise MessageTooLargeError(
                limit=self._max_item, size=size, operation=self._operation
            )
        if (
            self._max_request is not None
            and self._empty_bytes + size > self._max_request
        ):
            raise MessageTooLargeError(
                limit=self._max_request - self._empty_bytes,
                size=size,
                operation=self._operation,
            )
        if self._unclaimed:
            self._claim_in_child()
        spool = self._spool
        rowid = 0
        if spool is not None:
            # Checked again under the lock below; here so that a closed engine never
            # writes to (or fails on) the spool it has already closed.
            if self._closing:
                raise self._closed_error()
            try:
                rowid = spool.add(full)
            except RuntimeError:  # a close() in another thread shut the spool meanwhile
                raise self._closed_error() from None
        with self._lock:
            if self._closing or (self._pending >= self._max_queue and not self._room()):
                refused = self._refusal()
            else:
                if not self._threads:
                    self._start_workers()
                self._add(item, size, rowid)
                return True
        if spool is not None:
            try:
                spool.remove([rowid])
            except RuntimeError:
                # A close() in another thread shut the spool after this message was
                # written: it stays there with what close() left, for the next run.
                raise DeliveryClosedError(
                    "the delivery engine closed while this message was being queued; "
                    "it stays in the spool and the next run sends it"
                ) from None
        if refused is None:
            self._report_drop(item)
            return False
        raise refused

    def _room(self) -> bool:
        """Wait (lock held) for room in the queue as ``on_full`` says; True when there is.

        Never on a thread sending for this engine (an ``enqueue`` in ``on_error``): the room
        it would wait for is made by sending, maybe by that very thread.
        """
        if self._on_full == "drop" or self._is_sender():
            return False
        # Whatever is being filled goes out now: waiting for the interval would only make
        # this wait longer.
        if self._open:
            self._seal()
        deadline = None
        if self._full_timeout is not None:
            deadline = time.monotonic() + self._full_timeout
        while self._pending >= self._max_queue and not self._closing:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._space.wait(remaining)
        return not self._closing

    def _refusal(self) -> Error | None:
        """Why the message just offered was not queued (lock held); None: drop it."""
        if self._closing:
            return self._closed_error()
        if self._on_full == "drop":
            self._dropped += 1
            self._queued += 1
            return None
        waited = 0.0 if self._is_sender() else self._full_timeout or 0.0
        return QueueFullError(self._max_queue, waited)

    def _closed_error(self) -> DeliveryClosedError:
        if self._forked_spool:
            return DeliveryClosedError(
                "this delivery engine has a spool file and was inherited through fork(); "
                "a child process must create its own, with a spool path of its own (or "
                "give engines a spool_dir: a forked child takes a spool of its own there)"
            )
        return DeliveryClosedError("the delivery engine is closed; nothing was queued")

    def _encode(self, message: Mapping[str, Any]) -> tuple[bytes, bytes]:
        """The message's JSON with its id filled in, and the form stored in the queue."""
        if type(message) is not dict:
            message = dict(message)
        stamp_field = self._endpoint.sent_at_field
        if stamp_field is not None and stamp_field in message:
            # The stamp is the engine's to write, once per send.
            message = {k: v for k, v in message.items() if k != stamp_field}
        id_field = self._endpoint.message_id_field
        if id_field is not None and message.get(id_field) is None:
            new_id = new_message_id()
            if id_field in message:
                full = _encode_json({**message, id_field: new_id}).encode("utf-8")
            else:
                # Spliced in front of the encoded members: no copy of the caller's dict.
                rest = _encode_json(message).encode("utf-8")
                members = b"," + rest[1:] if len(rest) > 2 else b"}"
                full = b"{" + self._id_key + b'"' + new_id.encode() + b'"' + members
        else:
            full = _encode_json(message).encode("utf-8")
        return full, self._stored_form(full)

    def _stored_form(self, full: bytes) -> bytes:
        if not self._stamp_key:
            return full
        return b"," + full[1:] if len(full) > 2 else b"}"

    def _full_form(self, item: bytes) -> bytes:
        if not self._stamp_key:
            return item
        return b"{" + item[1:] if item.startswith(b",") else b"{}"

    def _add(self, item: bytes, size: int, rowid: int) -> None:
        """Put one message in the batch being filled (lock held)."""
        open_ = self._open
        if open_:
            grown = self._open_bytes + size + 1
            if self._max_request is not None and grown > self._max_request:
                self._seal()
                open_ = self._open
                grown = self._empty_bytes + size
        else:
            grown = self._empty_bytes + size
        if not open_:
            self._open_since = time.monotonic()
            # A worker waiting for work now has an interval to time.
            self._work.notify()
        open_.append(item)
        if self._spool is not None:
            self._open_rowids.append(rowid)
        self._open_bytes = grown
        self._pending += 1
        self._queued += 1
        if len(open_) >= self._batch_size:
            self._seal()

    def _seal(self) -> None:
        """Close the batch being filled and hand it to the workers (lock held)."""
        batch = _Batch(self._next_seq, self._open, self._open_rowids)
        self._next_seq += 1
        self._unsettled[batch.seq] = batch
        self._ready.append(batch)
        self._open = []
        self._open_rowids = []
        self._open_bytes = self._empty_bytes
        self._work.notify()

    # ---- the workers -------------------------------------------------------------------

    def _start_workers(self) -> bool:
        """Start the worker threads (lock held); False when threads cannot start now."""
        if self._threads:
            return True
        threads = [
            threading.Thread(target=self._run, name=f"delivery-{i}")
            for i in range(self._workers)
        ]
        for thread in threads:
            # Daemons: a process must be able to exit; atexit gives them exit_timeout first.
            thread.daemon = True
            try:
                thread.start()
            except RuntimeError:
                # Interpreter shutdown (Python 3.12+ refuses new threads): the caller sends.
                break
            self._threads.append(thread)
        return bool(self._threads)

    def _run(self, inline: bool = False, deadline: float | None = None) -> None:
        """A worker's loop; ``inline``: the caller's own thread, until done or the deadline."""
        sender = self._sender
        sender.active = True
        try:
            while True:
                batch = self._next_batch(inline, deadline)
                if batch is None:
                    return
                tries = batch.retries
                try:
                    self._attempt(batch)
                except Exception:  # a bug must not stop delivery of everything else
                    logger.exception("delivery worker failed while sending a batch")
                    self._after_unexpected(batch, tries)
        finally:
            sender.active = False

    def _is_sender(self) -> bool:
        """Whether the calling thread is sending for this engine (``on_error`` runs there)."""
        return bool(getattr(self._sender, "active", False))

    def _refuse_on_sender(self, what: str) -> None:
        if self._is_sender():
            raise RuntimeError(
                f"{what}() was called on a thread sending for this delivery engine (from "
                "on_error?) and would wait for that very thread; call it from another "
                "thread"
            )

    def _next_batch(self, inline: bool, deadline: float | None) -> _Batch | None:
        with self._lock:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                waits: list[float] = []
                if now < self._paused_until:
                    waits.append(self._paused_until - now)
                else:
                    if self._retry and self._retry[0][0] <= now:
                        return heappop(self._retry)[2]
                    if self._ready:
                        return self._ready.popleft()
                    if self._open and now - self._open_since >= self._interval:
                        self._seal()
                        continue
                if self._retry:
                    waits.append(self._retry[0][0] - now)
                if self._open:
                    waits.append(self._open_since + self._interval - now)
                if inline and not self._unsettled and not self._open:
                    return None
                if deadline is not None:
                    if now >= deadline:
                        return None
                    waits.append(deadline - now)
                self._work.wait(max(0.0, min(waits)) if waits else None)

    def _attempt(self, batch: _Batch) -> None:
        """Send a batch once, then settle it or schedule its retry."""
        if self._limiter is not None:
            wait = self._limiter.reserve()
            if wait > 0:
                time.sleep(wait)
        body = self._body(batch.items)
        outcome: RawResponse | Exception
        try:
            outcome = self._transport.send(
                "POST", self._url, self._headers, body, self._timeout
            )
        except (APIConnectionError, RuntimeError) as exc:
            # RuntimeError: the transport was closed under a worker ``close`` gave up on.
            outcome = exc
        # only a 2xx delivers: a 3xx (never followed, as it would take the credentials
        # along) took none of the messages, and like a 4xx it would answer a resend the
        # same way
        if isinstance(outcome, RawResponse) and 200 <= outcome.status < 300:
            self._finish(batch, outcome, None, self._refused(outcome, len(batch.items)))
            return
        status = outcome.status if isinstance(outcome, RawResponse) else None
        headers = outcome.headers if isinstance(outcome, RawResponse) else {}
        plan = self._retry_plan(status, headers, batch)
        if plan is None:
            self._finish(batch, None, self._final_error(outcome, batch.retries))
            return
        self._schedule_retry(batch, *plan, status)

    def _after_unexpected(self, batch: _Batch, tries: int) -> None:
        """Settle a batch whose attempt raised something unexpected: a bug, or an error
        of its own from a custom transport. Without a spool the batch is given up on
        (``on_error`` gets it). A batch in the spool is retried like one in an outage
        instead: giving it up would delete what the spool was asked to keep."""
        if not batch.rowids:
            self._finish(batch, None, Error("internal error while sending"))
            return
        with self._lock:
            unsettled = self._unsettled.get(batch.seq) is batch
        if unsettled and batch.retries == tries:  # not settled or rescheduled already
            plan = self._retry_plan(None, {}, batch)
            if plan is not None:  # always, for a batch in the spool
                self._schedule_retry(batch, *plan, None)

    def _schedule_retry(
        self, batch: _Batch, delay: float, asked: bool, status: int | None
    ) -> None:
        """Queue the batch's next attempt after ``delay`` (``asked``: by the server)."""
        with self._lock:
            if batch.abandoned:
                return
            now = time.monotonic()
            batch.retries += 1
            self._retried += len(batch.items)
            self._failures_in_row += 1
            if asked:
                # Retry-After speaks for the whole client, not for this request alone.
                self._paused_until = max(self._paused_until, now + delay)
            # A streak pauses the workers even when the server said when to retry: a
            # Retry-After of 0 (or of a date gone by) on every answer had them send as
            # fast as it answered, and with a spool without end.
            if self._failures_in_row >= _FAILURES_BEFORE_PAUSE:
                streak = self._failures_in_row - _FAILURES_BEFORE_PAUSE
                pause = min(backoff_delay(streak, self._rng), self._max_backoff)
                self._paused_until = max(self._paused_until, now + pause)
            heappush(self._retry, (now + delay, batch.seq, batch))
            self._work.notify()
            if batch.retries == self._max_retries + 1:
                self._settled.notify_all()  # a flush waits no longer for it
        self._log_retry(batch, delay, status)

    def _log_retry(self, batch: _Batch, delay: float, status: int | None) -> None:
        """One line per retry, with counts only; a warning once when a batch in the spool
        runs out of retries and, instead of being given up on, goes on being retried."""
        why = "no response" if status is None else f"status {status}"
        count = len(batch.items)
        if batch.retries <= self._max_retries:
            logger.info(
                "%s: retry %d of %d for a batch of %d messages in %.2fs (%s)",
                self._operation,
                batch.retries,
                self._max_retries,
                count,
                delay,
                why,
            )
        elif batch.retries == self._max_retries + 1:
            logger.warning(
                "%s: a batch of %d messages is past max_retries=%d (%s); it stays in "
                "the spool and is retried until delivered",
                self._operation,
                count,
                self._max_retries,
                why,
            )
        else:
            logger.info(
                "%s: retry %d (kept in the spool) for a batch of %d messages in %.2fs (%s)",
                self._operation,
                batch.retries,
                count,
                delay,
                why,
            )

    def _stamp_prefix(self, stamp: bytes) -> bytes:
        return self._stamp_key + b'"' + stamp + b'"'

    def _body(self, items: list[bytes]) -> bytes:
        if self._stamp_key:
            prefix = self._stamp_prefix(iso_timestamp().encode("ascii"))
            joined = prefix + (b"," + prefix).join(items)
        else:
            joined = b",".join(items)
        body = b"".join((self._head, joined, self._end))
        if self._gzip:
            compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
            body = compressor.compress(body) + compressor.flush()
        return body

    def _retry_plan(
        self, status: int | None, headers: Mapping[str, str], batch: _Batch
    ) -> tuple[float, bool] | None:
        """(delay, whether the server asked for it), or None: give up.

        The same rules as ``_retry.decide`` except two, since nobody is blocked on a
        background send and giving up would lose the messages: a Retry-After longer than
        MAX_RETRY_AFTER is waited out for that long rather than given up on, and a batch
        in the spool is not given up on when its retries run out (only a status that will
        fail the same way again ends it).
        """
        if status is not None and not is_retryable_status(status):
            return None
        # Rows in the spool (rowids) outlast any outage: giving them up would throw away
        # what the user asked the spool to keep.
        if batch.retries >= self._max_retries and not batch.rowids:
            return None
        if status is not None:
            asked = retry_after_seconds(headers)
            if asked is not None:
                return min(asked, MAX_RETRY_AFTER), True
        return min(backoff_delay(batch.retries, self._rng), self._max_backoff), False

    def _final_error(self, outcome: RawResponse | Exception, retries: int) -> Exception:
        if isinstance(outcome, RawResponse):
            return error_for_response(
                outcome.status,
                decode_body(outcome.body),
                outcome.headers,
                "POST",
                _path_of(self._url),
                retries,
                secrets=self._secrets,
            )
        if isinstance(outcome, APIConnectionError):
            outcome.retries = retries
            return redact_connection_error(outcome, self._secrets)
        return outcome

    def _refused(self, response: RawResponse, count: int) -> dict[int, dict[str, Any]]:
        """The items of a batch of ``count`` that a partial-failure answer lists (by
        position, with the API's entry for each), or none for any other answer."""
        endpoint = self._endpoint
        if (
            endpoint.partial_status is None
            or response.status != endpoint.partial_status
        ):
            return {}
        data = decode_body(response.body)
        entries = (
            data.get(endpoint.partial_errors_field) if isinstance(data, dict) else None
        )
        if not isinstance(entries, list):
            logger.warning(
                "%s: status %d without the list of refused messages: counted as sent",
                self._operation,
                response.status,
            )
            return {}
        out: dict[int, dict[str, Any]] = {}
        unplaced = 0
        for entry in entries:
            index = (
                entry.get(endpoint.partial_index_field)
                if isinstance(entry, dict)
                else None
            )
            if (
                isinstance(index, int)
                and not isinstance(index, bool)
                and 0 <= index < count
            ):
                others = {
                    k: v for k, v in entry.items() if k != endpoint.partial_index_field
                }
                out.setdefault(index, others)
            else:
                unplaced += 1
        if unplaced:
            logger.warning(
                "%s: %d entries of the refused list name no message of the batch",
                self._operation,
                unplaced,
            )
        return out

    def _finish(
        self,
        batch: _Batch,
        response: RawResponse | None,
        error: BaseException | None,
        refused: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> None:
        """Settle a batch: delivered (a response; but for the `refused` items, by
        position) or given up on (an error)."""
        delivered = response is not None
        refused = refused or {}
        if delivered and batch.rowids:
            self._forget(batch.rowids)
        with self._lock:
            if batch.abandoned or self._unsettled.get(batch.seq) is not batch:
                # ``close`` already reported it (and counted it), or this is the worker's
                # safety net after an error in an earlier settling of the same batch (a
                # KeyError here would end the worker, and with it all later delivery).
                return
            del self._unsettled[batch.seq]
            self._pending -= len(batch.items)
            if delivered:
                self._sent += len(batch.items) - len(refused)
                self._failed += len(refused)
                self._failures_in_row = 0
            else:
                self._failed += len(batch.items)
            self._settled.notify_all()
            self._space.notify_all()
        if refused:
            # one log line with the count (the API's reasons may quote the messages)
            logger.warning(
                "%s: the API refused %d of %d messages",
                self._operation,
                len(refused),
                len(batch.items),
            )
            for index in sorted(refused):
                self._tell(
                    [batch.items[index]],
                    RejectedMessageError(
                        self._operation, refused[index], self._secrets
                    ),
                )
        if not delivered:
            if batch.rowids:
                self._forget(batch.rowids)
            self._report(batch.items, error or Error("delivery failed"), "failed")

    def _forget(self, rowids: list[int]) -> None:
        spool = self._spool
        if spool is None:
            return
        try:
            spool.remove(rowids)
        except (sqlite3.Error, RuntimeError) as exc:
            # A disk error, or the spool closed under a late worker: sent again next run.
            logger.warning(
                "could not remove %d delivered messages from the spool (%s); "
                "they will be sent again",
                len(rowids),
                type(exc).__name__,
            )

    def _report_drop(self, item: bytes) -> None:
        """A message a full queue refused (``on_full="drop"``): one log line at most every
        few seconds, with the count since the last, so a flood does not flood the log.
        """
        now = time.monotonic()
        with self._lock:
            self._unlogged_drops += 1
            count = self._unlogged_drops
            if now < self._drop_log_after:
                count = 0
            else:
                self._unlogged_drops = 0
                self._drop_log_after = now + _DROP_LOG_EVERY
        if count:
            logger.warning(
                "%s: the queue is full (%d messages): dropped %d messages",
                self._operation,
                self._max_queue,
                count,
            )
        self._tell([item], QueueFullError(self._max_queue, 0.0))

    def _report(self, items: list[bytes], error: BaseException, what: str) -> None:
        """Tell the log (counts only) and ``on_error`` (the messages) about lost ones."""
        logger.warning(
            "%s: %s %d messages: %s", self._operation, what, len(items), error
        )
        self._tell(items, error)

    def _tell(self, items: list[bytes], error: BaseException) -> None:
        if self._on_error is None:
            return
        messages = [json.loads(self._full_form(item)) for item in items]
        try:
            self._on_error(messages, error)
        except Exception:
            logger.exception("the on_error callback raised")

    # ---- flushing and closing ----------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued so far and wait until it is settled.

        True when every message queued before the call was delivered and nothing was given
        up on since the previous flush; False when the timeout passed first or something
        was lost (``on_error`` was told). With a spool, a batch whose retries ran out
        counts as settled here (flush waits no longer than it would without a spool) but
        not as delivered: it stays in the spool and goes on being retried. Raises
        RuntimeError at once on a thread sending for this engine (in ``on_error``): it
        would wait for itself.
        """
        self._refuse_on_sender("flush")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._open:
                self._seal()
            target = self._next_seq - 1
            working = self._start_workers() if self._unsettled else True
        if not working:
            # No thread can start (interpreter shutdown): send from this one.
            self._run(inline=True, deadline=deadline)
        with self._lock:
            while True:
                waiting, kept = self._outstanding(target)
                if not waiting:
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._settled.wait(remaining)
            lost = self._failed + self._dropped
            clean = lost == self._lost_mark and not kept
            self._lost_mark = lost
            return clean

    def _outstanding(self, target: int) -> tuple[bool, bool]:
        """Of the batches up to ``target`` not settled yet (under the lock): whether any
        is still worth waiting for, and whether any is kept in the spool past its
        retries."""
        kept = False
        for seq, batch in self._unsettled.items():  # in sequence order
            if seq > target:
                break
            if not self._is_kept(batch):
                return True, kept
            kept = True
        return False, kept

    def _is_kept(self, batch: _Batch) -> bool:
        """Past its retries and still retried: only a batch in the spool gets there."""
        return batch.retries > self._max_retries

    def close(self, timeout: float | None = None) -> bool:
        """Deliver what is queued (waiting up to ``timeout``), then stop. Idempotent.

        Messages still undelivered when the time runs out are handed to ``on_error`` and
        counted as dropped; with a spool they stay in it for the next process instead, and
        a batch whose retries ran out is not waited for (as in ``flush``): closing takes
        no longer in an outage than it would without a spool.
        True when everything was delivered. Raises RuntimeError at once, changing nothing,
        on a thread sending for this engine (in ``on_error``), as ``flush`` does.
        """
        self._refuse_on_sender("close")
        with self._lock:
            if self._closed:
                return self._pending == 0 and self._failed + self._dropped == 0
            self._closing = True
            self._space.notify_all()
        delivered = self.flush(timeout)
        with self._lock:
            self._stopping = True
            self._closed = True
            leftovers = list(self._unsettled.values())
            if self._open:
                leftovers.append(_Batch(0, self._open, self._open_rowids))
                self._open, self._open_rowids = [], []
            for batch in leftovers:
                batch.abandoned = True
            self._unsettled.clear()
            self._ready.clear()
            self._retry.clear()
            count = sum(len(batch.items) for batch in leftovers)
            if self._spool is None:
                self._pending -= count
                self._dropped += count
            self._work.notify_all()
            self._settled.notify_all()
            threads = list(self._threads)
        if count and self._spool is not None:
            logger.warning(
                "%s: %d messages not delivered in time stay in the spool for the next run",
                self._operation,
                count,
            )
        elif count:
            items = [item for batch in leftovers for item in batch.items]
            self._report(items, UndeliveredError(count, timeout), "dropped")
        for thread in threads:
            if thread is not threading.current_thread():
                # Idle workers stop at once; one still waiting on a response is left to
                # finish on its own (it is a daemon).
                thread.join(0.05 if count else 1.0)
        if self._owns_transport:
            self._transport.close()
        if self._spool is not None:
            self._spool.close()
        _LIVE.discard(self)
        return delivered and not count

    def _close_at_exit(self) -> None:
        try:
            self.close(self._exit_timeout)
        except Exception:
            logger.exception("closing the delivery engine at exit failed")

    @property
    def stats(self) -> DeliveryStats:
        with self._lock:
            return DeliveryStats(
                queued=self._queued,
                sent=self._sent,
                retried=self._retried,
                failed=self._failed,
                dropped=self._dropped,
                pending=self._pending,
            )

    @property
    def endpoint(self) -> BatchEndpoint:
        return self._endpoint

    def __repr__(self) -> str:
        url = self._endpoint.url  # without the query: it may hold a key
        return f"{type(self).__name__}(url={url!r}, pending={self._pending})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ---- fork --------------------------------------------------------------------------

    def _forget_parent(self) -> None:
        """In a forked child: an empty engine of its own; the parent's queue is not ours."""
        if self._spool is not None:
            self._spool.abandon()
            self._spool = None
            if self._spool_dir is not None:
                self._unclaimed = True
            else:
                # The spool belongs to the parent, which holds its lock: this copy must
                # not pretend to be durable.
                self._forked_spool = True
                self._closing = True
        if self._owns_transport:
            # The pooled connections are the parent's sockets; never touched again here.
            _INHERITED.append(self._transport)
            self._transport = HTTPClientTransport(
                max_idle_per_origin=max(10, self._workers)
            )
        self._rng = random.Random()
        self._limiter = self._new_limiter()
        self._init_state()


def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both
        return False


def _path_of(url: str) -> str:
    return urlsplit(url).path or "/"


# Every engine not yet closed, for the exit and fork hooks; weak, so that an engine never
# used (no worker thread holding it) can still be collected.
_LIVE: weakref.WeakSet[Delivery] = weakref.WeakSet()
# What a forked child inherited and must keep untouched (see ``Delivery._forget_parent``).
_INHERITED: list[object] = []


def _close_all_at_exit() -> None:
    for engine in list(_LIVE):
        engine._close_at_exit()


def _after_fork_in_child() -> None:
    global _random_pool, _random_at, _random_lock
    _random_pool, _random_at, _random_lock = b"", 0, threading.Lock()
    engines = list(_LIVE)
    for engine in engines:
        engine._forget_parent()
    # A multiprocessing child ends with os._exit, which skips atexit; its own exit hooks
    # (run after it clears the ones inherited) are the place to close there.
    mp_util = sys.modules.get("multiprocessing.util")
    if engines and mp_util is not None:
        mp_util.register_after_fork(engines[0], _register_multiprocessing_exit)


def _register_multiprocessing_exit(_: object) -> None:
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.Finalize(None, _close_all_at_exit, exitpriority=100)


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
