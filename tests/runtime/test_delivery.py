"""Tests for the background delivery engine (generator/runtime/_delivery.py, _spool.py).

Real HTTP on 127.0.0.1 only: `_fake_server.FakeServer`, with its seeded fault mode for the
flaky-network cases. No timed assertions: where time matters, the server's clock is read
for order or for a lower bound that a slow machine can only make larger.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

import black
import pytest

from generator.runtime._delivery import (
    BatchEndpoint,
    Delivery,
    DeliveryClosedError,
    MessageTooLargeError,
    QueueFullError,
    RateLimiter,
    RejectedMessageError,
    UndeliveredError,
    iso_timestamp,
    new_message_id,
)
from generator.runtime._errors import (
    APIConnectionError,
    BadRequestError,
    InternalServerError,
    PayloadTooLargeError,
)
from generator.runtime._fake_server import FakeServer, RecordedRequest
from generator.runtime._spool import Spool, SpoolDamagedError, SpoolLockedError
from generator.runtime._transport import HTTPClientTransport

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "generator" / "runtime"
SECRET = "Bearer tok-SECRET-5f4e3d2c1b"
AUTH = {"Authorization": SECRET}


def endpoint(server: FakeServer, **overrides: object) -> BatchEndpoint:
    fields: dict[str, object] = {
        "url": server.url + "/v1/batch",
        "items_field": "batch",
        "max_request_bytes": 500_000,
        "max_item_bytes": 32_768,
        "rate_requests": None,
        "rate_per_seconds": None,
        "message_id_field": "messageId",
        "sent_at_field": "sentAt",
    }
    fields.update(overrides)
    return BatchEndpoint(**fields)  # type: ignore[arg-type]


class Accepting:
    """A responder that answers 200 and remembers the messages of every request it answered:
    what the API took (a request failed or dropped by a fault never reaches it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.gate = threading.Event()
        self.gate.set()
        self.delay = 0.0
        self.calls = 0

    def __call__(self, request: RecordedRequest):
        self.gate.wait()
        if self.delay:
            threading.Event().wait(self.delay)
        with self.lock:
            self.calls += 1
            self.messages.extend(request.json["batch"])
        return 200, {"Content-Type": "application/json"}, b"{}"

    def ids(self) -> list[str]:
        with self.lock:
            return [m["messageId"] for m in self.messages]


@pytest.fixture
def server():
    with FakeServer() as srv:
        srv.responder = Accepting()
        yield srv


def accepted(server: FakeServer) -> Accepting:
    assert isinstance(server.responder, Accepting)
    return server.responder


def make(
    server: FakeServer, endpoint_overrides: dict | None = None, **options
) -> Delivery:
    options.setdefault("max_backoff", 0.02)
    return Delivery(endpoint(server, **(endpoint_overrides or {})), AUTH, **options)


def batches(server: FakeServer) -> list[list[dict]]:
    return [r.json["batch"] for r in server.requests]


# ---- the modules as files --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["_delivery", "_spool", "_fake_server"])
def test_modules_are_black_stable(name: str) -> None:
    source = (RUNTIME / f"{name}.py").read_text(encoding="utf-8")
    assert black.format_str(source, mode=black.Mode()) == source
    py39 = black.Mode(target_versions={black.TargetVersion.PY39})
    assert black.format_str(source, mode=py39) == source


def test_message_ids_are_uuid4_and_timestamps_iso_utc_with_millis() -> None:
    ids = {new_message_id() for _ in range(1_000)}
    assert len(ids) == 1_000
    for text in list(ids)[:50]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    when = datetime(2024, 5, 1, 12, 34, 56, 789_999, tzinfo=timezone.utc).timestamp()
    assert iso_timestamp(when) == "2024-05-01T12:34:56.789Z"
    assert iso_timestamp(when + 1) == "2024-05-01T12:34:57.789Z"
    assert iso_timestamp(0.9999) == "1970-01-01T00:00:00.999Z"
    assert len(iso_timestamp()) == 24


# ---- delivery and loss -------------------------------------------------------------------


def test_ten_thousand_messages_under_faults_arrive_with_zero_loss(server) -> None:
    server.inject_faults(seed=1234, error_rate=0.10, drop_rate=0.05)
    delivery = make(server, batch_size=100)
    for i in range(10_000):
        message = {
            "type": "track",
            "event": "e",
            "userId": f"u{i}",
            "properties": {"i": i},
        }
        delivery.enqueue(message)
    assert delivery.close()
    stats = delivery.stats
    taken = set(accepted(server).ids())
    sent_ids = {m["messageId"] for batch in batches(server) for m in batch}
    assert len(sent_ids) == 10_000 and sent_ids <= taken
    assert (stats.sent, stats.failed, stats.dropped, stats.pending) == (10_000, 0, 0, 0)
    assert stats.queued == 10_000 and stats.retried > 0
    # Only failed requests were sent again, whole: a message reached the API twice only
    # when the answer to a request it had taken was lost (a dropped connection).
    failed_attempts = len(server.requests) - accepted(server).calls
    assert failed_attempts > 0
    duplicates = len(accepted(server).ids()) - 10_000
    assert duplicates <= 100 * failed_attempts


def test_a_retried_request_is_the_same_request_and_ids_are_filled_once(server) -> None:
    server.fail_next(1, 500)
    server.fail_next(1, drop=True)
    original = {"type": "track", "event": "e", "userId": "u1"}
    with make(server) as delivery:
        delivery.enqueue(original)
        delivery.enqueue({"type": "track", "messageId": "given-id"})
        delivery.enqueue({"type": "track", "messageId": None})
    assert original == {"type": "track", "event": "e", "userId": "u1"}  # not changed
    sent = batches(server)
    assert len(sent) >= 3
    ids = [[m["messageId"] for m in batch] for batch in sent]
    assert all(batch_ids == ids[0] for batch_ids in ids)
    assert ids[0][1] == "given-id" and len(set(ids[0])) == 3
    for batch in sent:
        assert all(m["sentAt"].endswith("Z") and len(m["sentAt"]) == 24 for m in batch)


def test_batches_respect_the_count_limit(server) -> None:
    with make(server, batch_size=7, flush_interval=60) as delivery:
        for i in range(50):
            delivery.enqueue({"i": i})
    sizes = sorted((len(batch) for batch in batches(server)), reverse=True)
    assert sizes == [7] * 7 + [1]  # two workers: the order they arrive in may vary


def test_batches_respect_the_byte_limit_counting_envelope_and_stamp(server) -> None:
    limit = 2_000
    overrides = {"max_request_bytes": limit, "max_item_bytes": 1_000}
    with make(server, overrides, batch_size=1000, flush_interval=60) as delivery:
        for i in range(60):
            delivery.enqueue({"i": i, "pad": "x" * (50 + 7 * (i % 13))})
    # In the order they were filled (two workers may send them in another).
    requests = sorted(server.requests, key=lambda r: r.json["batch"][0]["i"])
    assert sum(len(r.json["batch"]) for r in requests) == 60
    for request, following in zip(requests, requests[1:]):
        assert len(request.body) <= limit
        # Full batches: the next message would not have fitted.
        next_item = json.dumps(following.json["batch"][0], separators=(",", ":"))
        assert len(request.body) + 1 + len(next_item.encode()) > limit
    assert len(requests[-1].body) <= limit


def test_an_oversize_message_is_refused_at_enqueue(server) -> None:
    limit = 1_000
    with make(server, {"max_item_bytes": limit}) as delivery:
        probe = {"messageId": "m-1", "pad": ""}
        # Size as sent: the stamp is part of it.
        stamped = {"sentAt": "2000-01-01T00:00:00.000Z", **probe}
        room = limit - len(json.dumps(stamped, separators=(",", ":")))
        assert delivery.enqueue({"messageId": "m-1", "pad": "x" * room})
        with pytest.raises(MessageTooLargeError) as caught:
            delivery.enqueue({"messageId": "m-2", "pad": "x" * (room + 1)})
        assert isinstance(caught.value, PayloadTooLargeError)
        assert caught.value.limit == limit and caught.value.size == limit + 1
        assert "xxx" not in str(caught.value)
    (sent,) = batches(server)
    assert [m["messageId"] for m in sent] == ["m-1"]
    assert len(json.dumps(sent[0], separators=(",", ":")).encode()) == limit


def test_close_delivers_everything_still_queued(server) -> None:
    delivery = make(server, batch_size=1000, flush_interval=60)
    for i in range(250):
        delivery.enqueue({"i": i})
    assert delivery.stats.pending == 250
    assert delivery.close()
    assert sorted(m["i"] for m in accepted(server).messages) == list(range(250))
    with pytest.raises(DeliveryClosedError):
        delivery.enqueue({"i": 1})
    assert delivery.close()  # idempotent


def test_leaving_a_with_block_flushes(server) -> None:
    with make(server, flush_interval=60) as delivery:
        delivery.enqueue({"i": 1})
        delivery.enqueue({"i": 2})
    assert [m["i"] for m in accepted(server).messages] == [1, 2]


def test_flush_sends_now_and_reports_success(server) -> None:
    with make(server, flush_interval=60) as delivery:
        delivery.enqueue({"i": 1})
        assert delivery.flush()
        assert len(accepted(server).messages) == 1
        server.fail_next(1, 400)
        delivery.enqueue({"i": 2})
        assert not delivery.flush()  # given up on: flush says so
        delivery.enqueue({"i": 3})
        assert delivery.flush()


def test_the_interval_sends_a_batch_that_is_not_full(server) -> None:
    with make(server, flush_interval=0.05, batch_size=1000) as delivery:
        delivery.enqueue({"i": 1})
        while not accepted(server).messages:  # no flush: only the interval can send it
            threading.Event().wait(0.01)
        assert len(server.requests) == 1


def test_threaded_producers_lose_and_duplicate_nothing(server) -> None:
    delivery = make(server, batch_size=64)

    def produce(worker: int) -> None:
        for i in range(1_000):
            delivery.enqueue({"messageId": f"{worker}-{i}"})

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert delivery.close()
    ids = accepted(server).ids()
    assert len(ids) == len(set(ids)) == 8_000
    assert delivery.stats.sent == 8_000


# ---- full queue ----------------------------------------------------------------------------


def test_a_full_queue_blocks_until_there_is_room(server) -> None:
    gate = accepted(server).gate
    gate.clear()
    delivery = make(server, batch_size=1, max_queue_size=5, full_timeout=None)
    for i in range(5):
        delivery.enqueue({"i": i})
    outcome: list[object] = []
    blocked = threading.Thread(
        target=lambda: outcome.append(delivery.enqueue({"i": 5}))
    )
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive() and not outcome  # still waiting for room
    gate.set()
    blocked.join()
    assert outcome == [True]
    assert delivery.close()
    assert sorted(m["i"] for m in accepted(server).messages) == list(range(6))


def test_a_full_queue_raises_after_the_timeout_and_loses_nothing_silently(
    server,
) -> None:
    gate = accepted(server).gate
    gate.clear()
    delivery = make(server, batch_size=1, max_queue_size=5, full_timeout=0.1)
    for i in range(5):
        delivery.enqueue({"i": i})
    with pytest.raises(QueueFullError) as caught:
        delivery.enqueue({"i": 5, "email": "person@example.com"})
    assert "5 messages" in str(caught.value) and "person@" not in str(caught.value)
    assert delivery.stats.dropped == 0 and delivery.stats.pending == 5
    gate.set()
    assert delivery.close()
    assert sorted(m["i"] for m in accepted(server).messages) == list(range(5))


def test_a_full_queue_in_drop_mode_reports_what_it_drops(server) -> None:
    gate = accepted(server).gate
    gate.clear()
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(
        server,
        batch_size=1,
        max_queue_size=2,
        on_full="drop",
        on_error=lambda messages, exc: lost.append((messages, exc)),
    )
    assert delivery.enqueue({"i": 0}) and delivery.enqueue({"i": 1})
    assert delivery.enqueue({"i": 2}) is False
    gate.set()
    delivery.close()
    ((messages, exc),) = lost
    assert [m["i"] for m in messages] == [2] and isinstance(exc, QueueFullError)
    stats = delivery.stats
    assert (stats.queued, stats.sent, stats.dropped) == (3, 2, 1)


def test_a_naive_datetime_is_sent_in_utc_with_its_offset(server) -> None:
    """The engine writes a datetime as the rest of the package does (`format_datetime`):
    in UTC with a `Z`, a naive one taken as local time; never without an offset."""
    naive = datetime(2024, 1, 1, 12, 0)
    aware = datetime(2024, 1, 1, 12, 0, 0, 123_456, tzinfo=timezone.utc)
    with make(server) as delivery:
        delivery.enqueue({"naive": naive, "aware": aware})
    (message,) = accepted(server).messages
    utc = naive.astimezone(timezone.utc)
    assert message["naive"] == utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert message["aware"] == "2024-01-01T12:00:00.123456Z"  # to the microsecond


# ---- giving up -----------------------------------------------------------------------------


def test_on_error_receives_every_message_a_400_refused(server, caplog) -> None:
    server.fail_next(100, 400, body=b'{"errors":[{"message":"bad"}]}')
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(server, batch_size=10, on_error=lambda m, e: lost.append((m, e)))
    with caplog.at_level(logging.WARNING):
        for i in range(35):
            delivery.enqueue({"i": i, "email": f"person{i}@example.com"})
        assert not delivery.close()
    assert sorted(m["i"] for messages, _ in lost for m in messages) == list(range(35))
    assert all(isinstance(exc, BadRequestError) for _, exc in lost)
    assert len(server.requests) == 4  # not retried
    assert delivery.stats.failed == 35 and delivery.stats.sent == 0
    assert "person" not in caplog.text and "failed 10 messages" in caplog.text


def test_flush_or_close_in_on_error_refuses_at_once_instead_of_waiting_for_itself(
    server,
) -> None:
    """on_error runs on the worker: a flush or close there would wait for that very thread
    (for ever with one worker and no timeout). Both raise RuntimeError at once, change
    nothing, and delivery goes on."""
    server.fail_next(1, 400)
    outcomes: list[object] = []
    told = threading.Event()

    def on_error(messages: list[dict], exc: BaseException) -> None:
        for call in (delivery.flush, delivery.close):
            try:
                outcomes.append(call(2.0))  # a bound, so that a regression ends
            except RuntimeError as refused:
                outcomes.append(refused)
        told.set()

    delivery = make(server, batch_size=1, workers=1, on_error=on_error)
    delivery.enqueue({"i": 0})  # refused by the 400: on_error
    delivery.enqueue({"i": 1})
    told.wait()
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError]
    assert all("on_error" in str(o) for o in outcomes)
    delivery.enqueue({"i": 2})  # not closed by the refused close
    delivery.close()
    assert sorted(m["i"] for m in accepted(server).messages) == [1, 2]
    assert (delivery.stats.sent, delivery.stats.failed) == (2, 1)


def test_an_enqueue_in_on_error_never_waits_for_room_the_worker_must_make(
    server,
) -> None:
    """A full queue makes a producer wait for room; on the worker (in on_error) that room
    could only be made by the worker itself, so the queue counts as full at once."""
    gate = threading.Event()

    def respond(request: RecordedRequest):
        gate.wait()  # the first request waits for the test, and is refused
        return 400, {"Content-Type": "application/json"}, b"{}"

    server.responder = respond
    refusals: list[BaseException] = []
    told = threading.Event()

    def on_error(messages: list[dict], exc: BaseException) -> None:
        server.responder = Accepting()
        delivery.enqueue({"i": 2})  # room for one: the queue is full again
        try:
            delivery.enqueue({"i": 3})
        except QueueFullError as full:
            refusals.append(full)
        told.set()

    delivery = make(
        server,
        batch_size=1,
        workers=1,
        max_queue_size=2,
        full_timeout=5.0,  # what a producer elsewhere would wait
        on_error=on_error,
    )
    delivery.enqueue({"i": 0})
    delivery.enqueue({"i": 1})  # the queue is full
    gate.set()
    told.wait()
    delivery.close()
    (full,) = refusals
    assert full.waited == 0 and "in 0s" in str(full)
    assert sorted(m["i"] for m in accepted(server).messages) == [1, 2]


def test_on_error_receives_every_message_when_retries_run_out(server) -> None:
    server.inject_faults(seed=1, error_rate=1.0)
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(
        server, batch_size=5, max_retries=2, on_error=lambda m, e: lost.append((m, e))
    )
    for i in range(12):
        delivery.enqueue({"i": i})
    assert not delivery.close()
    assert sorted(m["i"] for messages, _ in lost for m in messages) == list(range(12))
    assert all(
        isinstance(exc, InternalServerError) and exc.retries == 2 for _, exc in lost
    )
    assert len(server.requests) == 3 * 3  # three batches, each tried three times
    assert delivery.stats.failed == 12


PARTIAL = {
    "partial_status": 207,
    "partial_errors_field": "errors",
    "partial_index_field": "batch_index",
}


def refusing(*indexes: object, extra: list | None = None):
    """A responder that takes each batch but for the items at `indexes` (207)."""
    entries = [
        {"batch_index": i, "reason": "invalid", "field": "identifiers"} for i in indexes
    ] + (extra or [])

    def respond(request: RecordedRequest):
        body = json.dumps({"errors": entries}).encode()
        return 207, {"Content-Type": "application/json"}, body

    return respond


def test_a_partial_failure_hands_only_the_refused_messages_to_on_error(
    server, caplog
) -> None:
    server.responder = refusing(1, 3, 3)  # a position listed twice is one message
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(
        server, PARTIAL, batch_size=5, on_error=lambda m, e: lost.append((m, e))
    )
    with caplog.at_level(logging.WARNING):
        for i in range(5):
            delivery.enqueue({"i": i, "email": f"person{i}@example.com"})
        assert not delivery.close()  # something was lost: flush and close say so
    assert [[m["i"] for m in messages] for messages, _ in lost] == [[1], [3]]
    for _, exc in lost:
        assert isinstance(exc, RejectedMessageError)
        assert exc.details == {"reason": "invalid", "field": "identifiers"}
        assert "invalid" in str(exc) and "identifiers" in str(exc)
    assert len(server.requests) == 1  # accepted: nothing is sent again
    assert (delivery.stats.sent, delivery.stats.failed) == (3, 2)
    assert "refused 2 of 5 messages" in caplog.text
    assert "person" not in caplog.text and "invalid" not in caplog.text


def test_a_partial_failure_status_without_the_extension_is_a_success(server) -> None:
    server.responder = refusing(0)
    lost: list[BaseException] = []
    delivery = make(server, on_error=lambda m, e: lost.append(e))
    delivery.enqueue({"i": 0})
    assert delivery.close()
    assert lost == [] and delivery.stats.sent == 1


def test_refusals_that_name_no_message_of_the_batch_are_logged_not_guessed(
    server, caplog
) -> None:
    odd = [{"batch_index": 9}, {"batch_index": True}, {"batch_index": "0"}, "x"]
    server.responder = refusing(extra=odd)
    lost: list[BaseException] = []
    delivery = make(server, PARTIAL, on_error=lambda m, e: lost.append(e))
    with caplog.at_level(logging.WARNING):
        delivery.enqueue({"i": 0})
        delivery.enqueue({"i": 1})
        assert delivery.close()
    assert lost == [] and delivery.stats.sent == 2
    assert "4 entries of the refused list name no message" in caplog.text


def test_dropped_connections_count_as_retryable(server) -> None:
    server.inject_faults(seed=1, drop_rate=1.0)
    lost: list[BaseException] = []
    delivery = make(server, max_retries=1, on_error=lambda m, e: lost.append(e))
    delivery.enqueue({"i": 1})
    assert not delivery.close()
    assert isinstance(lost[0], APIConnectionError)


def test_secrets_and_messages_stay_out_of_reprs_logs_and_errors(server, caplog) -> None:
    echo = json.dumps({"error": f"bad header {SECRET}"}).encode()
    server.fail_next(1, 401, body=echo)
    errors: list[BaseException] = []
    delivery = make(server, on_error=lambda m, e: errors.append(e))
    assert "SECRET" not in repr(delivery)
    with caplog.at_level(logging.DEBUG):
        delivery.enqueue({"email": "person@example.com"})
        delivery.close()
    assert "tok-SECRET" not in caplog.text and "person@" not in caplog.text
    assert "tok-SECRET" not in str(errors[0]) and "person@" not in str(errors[0])


# ---- Retry-After and the rate limit ---------------------------------------------------------


def test_retry_after_is_honoured(server) -> None:
    server.fail_next(1, 429, headers={"Retry-After": "1"})
    with make(server) as delivery:
        delivery.enqueue({"i": 1})
    first, retry = server.requests
    assert first.json == retry.json or first.json["batch"][0]["messageId"] == (
        retry.json["batch"][0]["messageId"]
    )
    # The server's own clock: the retry came after the wait it asked for (a lower bound,
    # which a slow machine only makes larger).
    assert retry.received_at - first.received_at >= 1.0


def test_a_408_is_retried_with_the_same_messages(server) -> None:
    server.fail_next(1, 408)
    with make(server) as delivery:
        delivery.enqueue({"i": 1})
    first, retry = server.requests
    (sent,), (again,) = first.json["batch"], retry.json["batch"]
    assert sent["messageId"] == again["messageId"] and sent["i"] == again["i"] == 1
    assert accepted(server).ids() == [sent["messageId"]]  # sentAt: stamped per attempt
    assert delivery.stats.retried == 1 and delivery.stats.failed == 0


def test_a_read_timeout_is_retried_and_nothing_is_lost(server) -> None:
    """The first answer comes after the client's read timeout: the client gives up on it
    and sends the same request again (the messageId lets the API drop the duplicate)."""
    server.fail_next(1, 0, delay=1.0)  # status 0: only slow, then answered as usual
    with make(server, timeout=0.25) as delivery:
        assert delivery.enqueue({"i": 1})
    assert delivery.stats.retried == 1 and delivery.stats.failed == 0
    assert len(server.requests) == 2
    ids = {m["messageId"] for r in server.requests for m in r.json["batch"]}
    assert len(ids) == 1 and set(accepted(server).ids()) == ids


def test_the_rate_limiter_never_allows_more_than_its_window() -> None:
    now = [100.0]
    limiter = RateLimiter(3, 1.0, clock=lambda: now[0])
    starts = []
    for step in range(20):
        wait = limiter.reserve()
        starts.append(now[0] + wait)
        now[0] += 0.05 * (
            step % 4
        )  # callers arrive unevenly, often faster than the limit
    assert starts == sorted(starts)
    for i in range(len(starts) - 3):
        assert starts[i + 3] - starts[i] >= 1.0 - 1e-9  # any 4 span a whole window
    assert starts[:3] == [100.0, 100.0, 100.05]  # a burst up to the limit goes at once


def test_the_rate_limit_spaces_requests(server) -> None:
    overrides = {"rate_requests": 2, "rate_per_seconds": 0.2}
    with make(server, overrides, batch_size=1, flush_interval=60) as delivery:
        for i in range(10):
            delivery.enqueue({"i": i})
    times = sorted(r.received_at for r in server.requests)
    assert len(times) == 10
    # 10 requests at 2 per 0.2 s take at least 0.8 s; a loose lower bound.
    assert times[-1] - times[0] >= 0.5


# ---- gzip ----------------------------------------------------------------------------------


def test_gzip_bodies_decode(server) -> None:
    with make(server, gzip=True) as delivery:
        delivery.enqueue({"i": 1, "text": "héllo " * 50})
    (request,) = server.requests
    assert request.headers["content-encoding"] == "gzip"
    decoded = json.loads(gzip.decompress(request.body))
    assert decoded["batch"][0]["text"] == "héllo " * 50
    assert len(request.body) < len(json.dumps(decoded).encode())


# ---- exit, fork and the spool ------------------------------------------------------------


def run_python(
    code: str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


_EXITING = """
import logging, sys
from generator.runtime._delivery import BatchEndpoint, Delivery
logging.basicConfig(level=logging.WARNING)
endpoint = BatchEndpoint(url=sys.argv[1] + "/v1/batch", items_field="batch",
                         message_id_field="messageId", sent_at_field="sentAt")
lost = []
delivery = Delivery(endpoint, {"Authorization": "Bearer tok-123456"}, flush_interval=60,
                    exit_timeout=float(sys.argv[2]), max_retries=100, max_backoff=0.05,
                    on_error=lambda messages, exc: print("on_error", len(messages), flush=True))
for i in range(50):
    delivery.enqueue({"i": i})
print("leaving", flush=True)
"""


def test_messages_still_queued_at_exit_are_delivered(server) -> None:
    result = run_python(_EXITING, server.url, "10")
    assert result.returncode == 0, result.stderr
    assert sorted(m["i"] for m in accepted(server).messages) == list(range(50))


def test_messages_undelivered_at_exit_are_reported_with_counts(server) -> None:
    server.inject_faults(seed=3, error_rate=1.0, status=503)
    result = run_python(_EXITING, server.url, "0.3")
    assert result.returncode == 0, result.stderr
    assert "on_error 50" in result.stdout
    assert "dropped 50 messages" in result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_sends_only_its_own_messages(server) -> None:
    delivery = make(server, flush_interval=60, batch_size=1000)
    for i in range(20):
        delivery.enqueue({"who": "parent", "i": i})
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            assert delivery.stats.pending == 0  # the parent's queue is not the child's
            for i in range(10):
                delivery.enqueue({"who": "child", "i": i})
            code = 0 if delivery.close(timeout=20) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    for i in range(20, 25):
        delivery.enqueue({"who": "parent", "i": i})
    assert delivery.close()
    got = sorted((m["who"], m["i"]) for m in accepted(server).messages)
    expected = [("child", i) for i in range(10)] + [("parent", i) for i in range(25)]
    assert got == expected


_PRODUCER = """
import sys
from generator.runtime._delivery import BatchEndpoint, Delivery
endpoint = BatchEndpoint(url=sys.argv[1] + "/v1/batch", items_field="batch",
                         message_id_field="messageId", sent_at_field="sentAt")
delivery = Delivery(endpoint, {"Authorization": "Bearer tok-123456"}, batch_size=10,
                    flush_interval=0.05, **{sys.argv[3]: sys.argv[2]})
i = 0
while True:
    delivery.enqueue({"messageId": f"m-{i}", "i": i})
    print(f"m-{i}", flush=True)
    i += 1
"""


@pytest.mark.parametrize("option", ["spool_path", "spool_dir"])
def test_the_spool_loses_nothing_when_the_producer_is_killed(
    server, tmp_path, option: str
) -> None:
    given = tmp_path / ("outbox.sqlite" if option == "spool_path" else "outbox")
    # with a directory, the first process takes its first file
    spool = given if option == "spool_path" else given / "spool-0.sqlite"
    accepted(server).delay = 0.2  # slow answers: plenty is still queued at the kill
    producer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_PRODUCER),
            server.url,
            str(given),
            option,
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert producer.stdout is not None
    acknowledged = [producer.stdout.readline().strip() for _ in range(400)]
    with pytest.raises(SpoolLockedError):  # a live process holds it
        Spool(spool)
    producer.send_signal(signal.SIGKILL)
    producer.wait()
    delivered_before = set(accepted(server).ids())
    assert len(delivered_before) < 400  # it really was killed mid-run
    accepted(server).delay = 0.0
    restarted = make(server, **{option: given})
    assert restarted.stats.pending > 0
    assert restarted.close()
    assert set(acknowledged) <= set(accepted(server).ids())
    leftover = Spool(spool)
    assert leftover.load() == []
    leftover.close()


def test_a_spool_is_used_by_one_engine_at_a_time(server, tmp_path) -> None:
    spool = tmp_path / "outbox.sqlite"
    first = make(server, spool_path=spool)
    with pytest.raises(SpoolLockedError) as caught:
        make(server, spool_path=spool)
    assert str(spool) in str(caught.value)
    first.enqueue({"i": 1})
    assert first.close()
    second = make(server, spool_path=spool)
    assert (
        second.stats.pending == 0
    )  # the first one's message was delivered and removed
    assert second.close()


def test_a_spool_left_undelivered_at_close_is_kept_for_the_next_run(
    server, tmp_path
) -> None:
    spool = tmp_path / "outbox.sqlite"
    server.inject_faults(seed=5, error_rate=1.0, status=503)
    lost: list[BaseException] = []
    first = make(
        server, spool_path=spool, max_retries=50, on_error=lambda m, e: lost.append(e)
    )
    for i in range(5):
        first.enqueue({"i": i})
    assert not first.close(timeout=0.2)
    assert lost == []  # not lost: still in the spool
    server.reset()
    server.responder = Accepting()
    second = make(server, spool_path=spool)
    assert second.close()
    assert sorted(m["i"] for m in accepted(server).messages) == list(range(5))


# ---- a spool directory: several processes, a file each ------------------------------------


def test_engines_on_one_spool_dir_take_a_file_each_and_deliver(
    server, tmp_path
) -> None:
    folder = tmp_path / "spools" / "outbox"  # made when missing
    first = make(server, spool_dir=folder)
    second = make(server, spool_dir=folder)
    assert sorted(p.name for p in folder.glob("*.sqlite")) == [
        "spool-0.sqlite",
        "spool-1.sqlite",
    ]
    for i in range(5):
        first.enqueue({"i": i})
        second.enqueue({"i": 10 + i})
    assert first.close() and second.close()
    got = sorted(m["i"] for m in accepted(server).messages)
    assert got == [*range(5), *range(10, 15)]
    assert (
        spooled(folder / "spool-0.sqlite") == spooled(folder / "spool-1.sqlite") == []
    )
    with pytest.raises(ValueError, match="not both"):
        make(server, spool_path=tmp_path / "x.sqlite", spool_dir=folder)


def test_a_spool_dir_engine_takes_over_the_files_no_live_process_holds(
    server, tmp_path, caplog
) -> None:
    """What engines that stopped for good left (a server that now runs fewer workers) is
    not stranded in files nobody takes again: the next engine moves it into its own."""
    folder = tmp_path / "outbox"
    server.inject_faults(seed=5, error_rate=1.0, status=503)
    lost: list[BaseException] = []
    engines = [
        make(
            server,
            spool_dir=folder,
            max_retries=50,
            on_error=lambda m, e: lost.append(e),
        )
        for _ in range(3)
    ]
    for n, engine in enumerate(engines[1:], start=1):
        for i in range(4):
            engine.enqueue({"n": n, "i": i})
        assert not engine.close(timeout=0.2)  # in the outage: kept in its file
    assert lost == []
    assert len(spooled(folder / "spool-2.sqlite")) == 4
    assert engines[0].close()  # the one left takes nothing: it started first
    server.reset()
    server.responder = Accepting()
    with caplog.at_level(logging.WARNING):
        after = make(server, spool_dir=folder)  # takes spool-0, the first free one
        assert after.stats.pending == 8
        assert after.close()
    assert "took over 8 messages left in other spools" in caplog.text
    got = sorted((m["n"], m["i"]) for m in accepted(server).messages)
    assert got == [(n, i) for n in (1, 2) for i in range(4)]
    for name in ("spool-0.sqlite", "spool-1.sqlite", "spool-2.sqlite"):
        assert spooled(folder / name) == []


def test_a_damaged_file_in_a_spool_dir_is_passed_over_and_left_as_it_is(
    server, tmp_path, caplog
) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    junk = b"this is no SQLite database, but it may be someone's data" * 100
    (folder / "spool-0.sqlite").write_bytes(junk)
    with caplog.at_level(logging.WARNING):
        delivery = make(server, spool_dir=folder)
        delivery.enqueue({"i": 1})
        assert delivery.close()
    assert caplog.text.count("spool-0.sqlite cannot be read: passed over") == 1
    assert (folder / "spool-0.sqlite").read_bytes() == junk
    assert (folder / "spool-1.sqlite").exists()
    assert [m["i"] for m in accepted(server).messages] == [1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.parametrize("option", ["spool_path", "spool_dir"])
def test_a_forked_child_of_a_spooled_engine(server, tmp_path, option: str) -> None:
    """A child cannot share its parent's spool file: with spool_path its engine refuses
    to queue (it would not be durable); with spool_dir it takes a file of its own at its
    first enqueue and delivers from there (a web server's preforked workers)."""
    given = tmp_path / ("outbox.sqlite" if option == "spool_path" else "outbox")
    delivery = make(server, flush_interval=60, batch_size=1000, **{option: given})
    for i in range(20):
        delivery.enqueue({"who": "parent", "i": i})
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            if option == "spool_path":
                try:
                    delivery.enqueue({"who": "child", "i": 0})
                except DeliveryClosedError as exc:
                    code = 0 if "spool_dir" in str(exc) else 3
            else:
                assert not (given / "spool-1.sqlite").exists()  # not before it sends
                for i in range(10):
                    delivery.enqueue({"who": "child", "i": i})
                assert (given / "spool-1.sqlite").exists()
                code = 0 if delivery.close(timeout=20) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert delivery.close()
    got = sorted((m["who"], m["i"]) for m in accepted(server).messages)
    children = [("child", i) for i in range(10)] if option == "spool_dir" else []
    assert got == children + [("parent", i) for i in range(20)]
    if option == "spool_dir":
        assert spooled(given / "spool-1.sqlite") == []


# ---- a spool outlasts an outage ------------------------------------------------------------


def wait_until(condition, timeout: float = 60.0) -> bool:
    """Poll `condition` until it holds; False when `timeout` (generous) ran out first."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return bool(condition())


def spooled(path: Path) -> list[dict]:
    """The messages a closed engine left in the spool at `path`."""
    spool = Spool(path)
    try:
        return [json.loads(body) for _, body in spool.load()]
    finally:
        spool.close()


@pytest.mark.parametrize("outage", ["status 503", "no answer"])
def test_a_spooled_batch_is_retried_past_max_retries_until_delivered(
    server, tmp_path, caplog, outage: str
) -> None:
    """With a spool, a transient failure is never given up on in-process: the batch stays
    in the spool and is retried with backoff until the API takes each message, once."""
    spool = tmp_path / "outbox.sqlite"
    if outage == "status 503":
        server.fail_next(4, 503)
    else:
        server.fail_next(4, drop=True)  # the connection closed without any answer
    lost: list[BaseException] = []
    delivery = make(
        server,
        spool_path=spool,
        max_retries=1,
        flush_interval=60,  # one batch: flush seals it
        on_error=lambda m, e: lost.append(e),
    )
    with caplog.at_level(logging.INFO):
        for i in range(3):
            delivery.enqueue({"i": i, "email": f"person{i}@example.com"})
        # flush stops waiting once the retries ran out (not delivered: False); the batch
        # goes on being retried from the spool
        assert not delivery.flush(timeout=60)
        assert wait_until(lambda: delivery.stats.sent == 3)
        assert delivery.close()
    assert lost == []
    ids = accepted(server).ids()
    assert len(ids) == len(set(ids)) == 3
    assert sorted(m["i"] for m in accepted(server).messages) == [0, 1, 2]
    assert len(server.requests) >= 5  # four failures, then the delivery
    stats = delivery.stats
    assert (stats.sent, stats.failed, stats.dropped, stats.pending) == (3, 0, 0, 0)
    assert spooled(spool) == []
    kept = [r for r in caplog.records if "stays in the spool" in r.getMessage()]
    assert len(kept) == 1 and kept[0].levelno == logging.WARNING
    assert "retry 2 of 1" not in caplog.text and "(kept in the spool)" in caplog.text
    assert "person" not in caplog.text and "tok-SECRET" not in caplog.text


def test_a_spooled_batch_failing_at_close_stays_for_the_next_run_not_on_error(
    server, tmp_path
) -> None:
    """Closed while the outage lasts and past max_retries: nothing is reported as failed,
    the messages stay in the spool, and the next engine on it delivers them."""
    spool = tmp_path / "outbox.sqlite"
    server.inject_faults(seed=5, error_rate=1.0, status=503)
    lost: list[BaseException] = []
    first = make(
        server,
        spool_path=spool,
        max_retries=1,
        batch_size=5,
        on_error=lambda m, e: lost.append(e),
    )
    for i in range(5):
        first.enqueue({"i": i})
    # Four attempts of the one batch: twice what max_retries=1 allows (or a give-up).
    assert wait_until(lambda: lost or len(server.requests) >= 4)
    # close without a timeout: a batch past its retries is not waited for, so it returns
    # while the outage lasts (a thread, so that a close that waits fails the test)
    closed: list[bool] = []
    closing = threading.Thread(target=lambda: closed.append(first.close()))
    closing.start()
    closing.join(60)
    assert closed == [False]
    assert lost == []
    assert (first.stats.failed, first.stats.dropped) == (0, 0)
    assert sorted(m["i"] for m in spooled(spool)) == list(range(5))
    server.reset()
    server.responder = Accepting()
    second = make(server, spool_path=spool, on_error=lambda m, e: lost.append(e))
    assert second.close()
    assert sorted(m["i"] for m in accepted(server).messages) == list(range(5))
    assert lost == [] and spooled(spool) == []


@pytest.mark.parametrize("outage", [0, 3])
def test_a_non_transient_refusal_with_a_spool_goes_to_on_error_and_leaves_the_spool(
    server, tmp_path, outage: int
) -> None:
    """A 400 will fail the same way again: with a spool as without, the batch is given to
    on_error once and removed from the spool, even after an outage longer than
    max_retries (which the spool made it outlast)."""
    spool = tmp_path / "outbox.sqlite"
    server.fail_next(outage, 503)
    server.fail_next(1, 400, body=b'{"errors":[{"message":"bad"}]}')
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(
        server,
        spool_path=spool,
        max_retries=1,
        batch_size=3,
        on_error=lambda m, e: lost.append((m, e)),
    )
    for i in range(3):
        delivery.enqueue({"i": i})
    # the batch outlives its retries in the background (close would not wait for it)
    assert wait_until(lambda: bool(lost))
    assert not delivery.close(timeout=60)
    ((messages, exc),) = lost
    assert sorted(m["i"] for m in messages) == [0, 1, 2]
    assert isinstance(exc, BadRequestError) and exc.retries == outage
    assert len(server.requests) == outage + 1
    assert (delivery.stats.sent, delivery.stats.failed) == (0, 3)
    assert accepted(server).messages == [] and spooled(spool) == []


class Faulty:
    """A custom transport over the real one whose first `faults` sends raise an error of
    its own (not one the engine knows as a connection failure)."""

    def __init__(self, faults: int) -> None:
        self.inner = HTTPClientTransport()
        self.faults = faults
        self.lock = threading.Lock()

    def send(self, *args: object, **kwargs: object):
        with self.lock:
            self.faults -= 1
            fail = self.faults >= 0
        if fail:
            raise ValueError("the custom transport broke")
        return self.inner.send(*args, **kwargs)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("spool", [False, True])
def test_an_unexpected_exception_while_sending_never_loses_a_spooled_batch(
    server, tmp_path, caplog, spool: bool
) -> None:
    """An error the engine does not know (a bug, or a custom transport's own) gives the
    batch to on_error without a spool; with one, the batch stays in it and is retried
    until the API takes it (it was deleted from the spool before)."""
    path = tmp_path / "outbox.sqlite"
    transport = Faulty(faults=3)
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(
        server,
        transport=transport,
        spool_path=path if spool else None,
        max_retries=1,
        batch_size=3,
        on_error=lambda m, e: lost.append((m, e)),
    )
    with caplog.at_level(logging.INFO):
        for i in range(3):
            delivery.enqueue({"i": i})
        if spool:
            assert wait_until(lambda: delivery.stats.sent == 3)
        assert delivery.close(timeout=60) is spool
    transport.close()
    assert "delivery worker failed while sending a batch" in caplog.text
    if spool:
        assert lost == [] and spooled(path) == []
        assert sorted(m["i"] for m in accepted(server).messages) == [0, 1, 2]
        assert (delivery.stats.sent, delivery.stats.failed) == (3, 0)
    else:
        ((messages, exc),) = lost
        assert sorted(m["i"] for m in messages) == [0, 1, 2]
        assert "internal error" in str(exc)
        assert accepted(server).messages == []
        assert (delivery.stats.sent, delivery.stats.failed) == (0, 3)


def test_an_enqueue_after_close_with_a_spool_is_refused_as_closed(
    server, tmp_path
) -> None:
    """DeliveryClosedError after close, with a spool as without: not the spool's own
    RuntimeError, and nothing is written to the file for the next run to send."""
    spool = tmp_path / "outbox.sqlite"
    delivery = make(server, spool_path=spool)
    delivery.enqueue({"i": 1})
    assert delivery.close()
    with pytest.raises(DeliveryClosedError):
        delivery.enqueue({"i": 2})
    leftover = Spool(spool)
    assert leftover.load() == []
    leftover.close()


def test_an_unreadable_spool_row_is_set_aside_and_the_rest_delivered(
    server, tmp_path, caplog
) -> None:
    """A damaged row left in the spool must not take its batch with it: sent as it is,
    it made the whole request unreadable (the API refuses it: every message in it lost),
    and decoding it for on_error then killed the worker, so nothing queued later was
    sent either. It is moved aside in the spool, with a log line; the rest arrive."""
    spool = tmp_path / "outbox.sqlite"
    damaged = [b'{"messageId":"bad-1","i":', b"[1]", b"\xff{}"]
    earlier = Spool(spool)
    earlier.add(b'{"messageId":"good-1"}')
    for body in damaged:
        earlier.add(body)
    earlier.add(b'{"messageId":"good-2"}')
    earlier.close()

    taken = Accepting()

    def strict(request: RecordedRequest):
        if request.json is None:  # as the API does with a body that is not JSON
            return 400, {"Content-Type": "application/json"}, b'{"errors":[]}'
        return taken(request)

    server.responder = strict
    lost: list[list[dict]] = []
    with caplog.at_level(logging.WARNING):
        delivery = make(
            server, spool_path=spool, workers=1, on_error=lambda m, e: lost.append(m)
        )
        delivery.enqueue({"messageId": "later"})
        assert delivery.close(timeout=30)
    assert sorted(taken.ids()) == ["good-1", "good-2", "later"]
    assert lost == []
    assert "3 messages in the spool" in caplog.text and "unreadable" in caplog.text
    reopened = Spool(spool)
    assert reopened.load() == []
    reopened.close()
    with sqlite3.connect(spool) as conn:
        kept = [bytes(row[0]) for row in conn.execute("SELECT body FROM unreadable")]
    assert sorted(kept) == sorted(damaged)


@pytest.mark.parametrize("damage", ["not a database", "truncated"])
def test_a_damaged_spool_file_is_a_clear_error_and_is_left_as_it_is(
    server, tmp_path, damage: str
) -> None:
    """A spool that cannot be read raises the package's own error naming the file (not
    sqlite3's, which names none), keeps nothing locked, and leaves the file untouched:
    once it is moved aside, the same process starts a new spool."""
    spool = tmp_path / "outbox.sqlite"
    if damage == "truncated":
        earlier = Spool(spool)
        for i in range(2_000):
            earlier.add(json.dumps({"messageId": f"m-{i}", "pad": "x" * 200}).encode())
        earlier.close()
        spool.write_bytes(spool.read_bytes()[: spool.stat().st_size // 2])
    else:
        spool.write_bytes(b"this is no database " * 100)
    before = spool.read_bytes()
    with pytest.raises(SpoolDamagedError) as caught:
        make(server, spool_path=spool)
    assert str(spool) in str(caught.value) and caught.value.path == str(spool)
    assert spool.read_bytes() == before
    spool.rename(tmp_path / "damaged.sqlite")
    fresh = make(server, spool_path=spool)
    fresh.enqueue({"i": 1})
    assert fresh.close()


def test_undelivered_messages_at_close_go_to_on_error(server) -> None:
    server.inject_faults(seed=5, error_rate=1.0, status=503)
    lost: list[tuple[list[dict], BaseException]] = []
    delivery = make(server, max_retries=50, on_error=lambda m, e: lost.append((m, e)))
    for i in range(5):
        delivery.enqueue({"i": i})
    assert not delivery.close(timeout=0.2)
    assert sorted(m["i"] for messages, _ in lost for m in messages) == list(range(5))
    assert isinstance(lost[0][1], UndeliveredError)
    assert delivery.stats.dropped == 5 and delivery.stats.pending == 0


def test_message_ids_after_fork_are_not_the_parents() -> None:
    """Ids come from a pool of OS randomness read ahead; a forked child must not draw the
    same bytes from the copy of that pool it inherited."""
    new_message_id()  # the pool is filled now, in the parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, " ".join(new_message_id() for _ in range(20)).encode())
        os._exit(0)
    os.close(write)
    mine = {new_message_id() for _ in range(20)}
    with os.fdopen(read) as pipe:
        theirs = set(pipe.read().split())
    os.waitpid(pid, 0)
    assert len(theirs) == 20 and not mine & theirs
