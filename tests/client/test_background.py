"""The generated background clients (templates/package/background.py.j2): typed methods that
fill what Customer.io's libraries fill and queue, delivered in batches to the package's own
fake server (real HTTP on 127.0.0.1). The engine itself is tests/runtime/test_delivery.py's.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from customerio_client import (
    BackgroundPipelinesClient,
    BackgroundTrackClient,
    IncompleteMessageError,
    MessageTooLargeError,
    QueueFullError,
    RejectedMessageError,
    events,
    fixtures,
    models,
)
from customerio_client.testing import FakeCustomerIO
from support.packages import ROOT

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UUID4 = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


@pytest.fixture
def cio() -> Iterator[FakeCustomerIO]:
    with FakeCustomerIO() as server:
        yield server


def batch_items(server: FakeCustomerIO, operation_id: str) -> list[dict[str, Any]]:
    return [item for call in server.calls(operation_id) for item in call.json["batch"]]


def test_every_kind_is_queued_with_what_the_libraries_fill(cio: FakeCustomerIO) -> None:
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        ids = [
            client.identify(user_id="u-1", traits={"plan": "pro"}),
            client.track(user_id="u-1", event="Signed Up", properties={"n": 1}),
            client.page(anonymous_id="a-1", name="Home"),
            client.screen(user_id="u-1", name="Home"),
            client.group(user_id="u-1", group_id="g-1"),
            client.alias(user_id="u-1", previous_id="a-1"),
        ]
        assert client.flush() is True
    items = batch_items(cio, "pipelinesBatch")
    assert [i["type"] for i in items] == [
        "identify",
        "track",
        "page",
        "screen",
        "group",
        "alias",
    ]
    assert [i["messageId"] for i in items] == ids
    for item in items:
        assert UUID4.fullmatch(item["messageId"])
        assert ISO_MS.fullmatch(item["timestamp"]) and ISO_MS.fullmatch(item["sentAt"])
        assert item["context"]["library"] == {
            "name": "customerio_client",
            "version": "0.1.0",
        }
    assert items[1]["event"] == "Signed Up" and items[1]["properties"] == {"n": 1}
    cio.assert_identified("u-1", traits={"plan": "pro"})
    cio.assert_event_sent("Signed Up", user_id="u-1")
    assert client.stats.sent == 6 and client.stats.failed == client.stats.dropped == 0


def test_a_given_time_and_id_are_kept_and_naive_times_are_local(
    cio: FakeCustomerIO,
) -> None:
    naive = datetime.datetime(2024, 1, 15, 10, 30)
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        client.track(user_id="u", event="e", timestamp=naive, message_id="m-1")
    (item,) = batch_items(cio, "pipelinesBatch")
    assert item["messageId"] == "m-1"
    utc = naive.astimezone(datetime.timezone.utc)
    assert item["timestamp"] == utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_semantic_events_are_checked_and_queued(cio: FakeCustomerIO) -> None:
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        client.email_opened(user_id="u-1", email_id="em-1")
        with pytest.raises(events.SemanticEventError):
            client.email_opened(user_id="u-1", email_id=5)  # type: ignore[arg-type]
    cio.assert_event_sent(
        "Email Opened", user_id="u-1", properties={"email_id": "em-1"}
    )
    assert len(batch_items(cio, "pipelinesBatch")) == 1


def test_a_call_without_the_identity_it_needs_is_refused_at_once(
    cio: FakeCustomerIO,
) -> None:
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        with pytest.raises(IncompleteMessageError, match="userId or anonymousId"):
            client.track(event="Signed Up")
        assert client.stats.queued == 0
        # Report Delivery Event needs no identity: the spec requires none
        client.report_delivery_event(delivery_id="d-1", metric="opened")
    assert len(batch_items(cio, "pipelinesBatch")) == 1


def test_a_message_over_the_item_limit_is_refused_when_queued(
    cio: FakeCustomerIO,
) -> None:
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        with pytest.raises(MessageTooLargeError):
            client.track(user_id="u", event="big", properties={"x": "y" * 40_000})
        assert client.stats.queued == 0
    assert cio.requests == []


def test_models_and_mappings_can_be_queued_as_they_are(cio: FakeCustomerIO) -> None:
    mine = {
        "type": "track",
        "userId": "u",
        "event": "raw",
        "context": {"ip": "1.2.3.4"},
    }
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        client.enqueue(mine)
        client.enqueue(models.Identify(user_id="u"))
    assert mine == {
        "type": "track",
        "userId": "u",
        "event": "raw",
        "context": {"ip": "1.2.3.4"},
    }  # the caller's mapping is not changed
    raw, identify = batch_items(cio, "pipelinesBatch")
    assert raw["context"]["ip"] == "1.2.3.4" and "library" in raw["context"]
    assert identify["type"] == "identify"


def test_the_track_v2_batch_client_uses_that_endpoints_limits(
    cio: FakeCustomerIO,
) -> None:
    with BackgroundTrackClient("site-123456", "key-123456", base_url=cio.url) as client:
        assert client.endpoint.max_request_bytes == 500_000
        assert client.endpoint.max_item_bytes == 32_768
        assert client.endpoint.url.endswith("/api/v2/batch")
        # one method per entity type and action (Track v2's nested union)
        client.person_identify(identifiers=models.Identifiers(id_="p-1"))
        with pytest.raises(MessageTooLargeError):  # the 32 KB item limit, at enqueue
            client.person_event(
                identifiers=models.Identifiers(id_="p-1"),
                name="big",
                attributes={"blob": "x" * 40_000},
            )
        client.person_event(identifiers=models.Identifiers(id_="p-1"), name="joined")
        client.enqueue(fixtures.request("trackEntityV2")["body"])
    items = batch_items(cio, "trackBatchV2")
    assert items[0] == {
        "type": "person",
        "action": "identify",
        "identifiers": {"id": "p-1"},
    }
    assert items[1] == {
        "type": "person",
        "action": "event",
        "identifiers": {"id": "p-1"},
        "name": "joined",
    }
    assert len(items) == 3


def test_track_v2_operations_the_api_refuses_in_a_207_go_to_on_error(
    cio: FakeCustomerIO,
) -> None:
    """Track v2's batch answers 207 when it accepts a batch but for some operations: the
    background client hands exactly those to on_error (x-ciogen-partial-failure)."""
    refusal = {"batch_index": 1, "reason": "invalid", "field": "identifiers"}
    cio.set_response("trackBatchV2", {"errors": [refusal]}, status=207)
    lost: list[tuple[list[dict[str, Any]], BaseException]] = []
    with BackgroundTrackClient(
        "site-123456",
        "key-123456",
        base_url=cio.url,
        on_error=lambda messages, exc: lost.append((messages, exc)),
    ) as client:
        for person in ("p-0", "p-1", "p-2"):
            client.person_identify(identifiers=models.Identifiers(id_=person))
        assert not client.flush()
        assert (client.stats.sent, client.stats.failed) == (2, 1)
    ((messages, exc),) = lost
    assert messages == [batch_items(cio, "trackBatchV2")[1]]
    assert messages[0]["identifiers"] == {"id": "p-1"}
    assert isinstance(exc, RejectedMessageError)
    assert exc.details == {"reason": "invalid", "field": "identifiers"}


def test_what_is_queued_at_exit_is_delivered(
    cio: FakeCustomerIO, tmp_path: Path
) -> None:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(f"""
            from customerio_client import BackgroundPipelinesClient
            client = BackgroundPipelinesClient("cdp-key-123456", base_url={cio.url!r},
                                               flush_interval=60)
            for n in range(50):
                client.track(user_id="u", event=f"e{{n}}")
            # no flush, no close: the process just ends
            """))
    done = subprocess.run(
        [sys.executable, str(script)],
        env={"PYTHONPATH": str(ROOT / "generated")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(batch_items(cio, "pipelinesBatch")) == 50


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_preforked_workers_share_a_spool_dir_a_file_each(
    cio: FakeCustomerIO, tmp_path: Path
) -> None:
    """A client made before the fork (a web server's preloaded app) keeps working in each
    worker with a spool: each one takes a file of its own in `spool_dir`."""
    outbox = tmp_path / "outbox"
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(f"""
            import os
            from customerio_client import BackgroundPipelinesClient
            client = BackgroundPipelinesClient("cdp-key-123456", base_url={cio.url!r},
                                               spool_dir={str(outbox)!r})
            client.track(user_id="master", event="booted")
            workers = []
            for w in range(3):
                pid = os.fork()
                if pid == 0:
                    for n in range(10):
                        client.track(user_id=f"w{{w}}", event=f"e{{n}}")
                    os._exit(0 if client.close(timeout=30) else 1)
                workers.append(pid)
            codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in workers]
            assert codes == [0, 0, 0], codes
            assert client.close(timeout=30)
            """))
    done = subprocess.run(
        [sys.executable, str(script)],
        env={"PYTHONPATH": str(ROOT / "generated")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    items = batch_items(cio, "pipelinesBatch")
    assert sorted((i["userId"], i["event"]) for i in items) == sorted(
        [("master", "booted")]
        + [(f"w{w}", f"e{n}") for w in range(3) for n in range(10)]
    )
    files = sorted(p.name for p in outbox.glob("spool-*.sqlite"))
    assert files == [f"spool-{n}.sqlite" for n in range(len(files))]
    assert 2 <= len(files) <= 4  # the master's, and one per worker alive at once


def test_an_event_of_a_group_alone_is_queued(cio: FakeCustomerIO) -> None:
    """Customer.io's published Pipelines document takes a track call with only a groupId
    (an event of a group); one with no identity at all is still refused at once."""
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        client.track(event="Plan Upgraded", group_id="acme")
        with pytest.raises(IncompleteMessageError, match="groupId"):
            client.track(event="Plan Upgraded")
    (item,) = batch_items(cio, "pipelinesBatch")
    assert (item["type"], item["event"], item["groupId"]) == (
        "track",
        "Plan Upgraded",
        "acme",
    )
    assert "userId" not in item and "anonymousId" not in item


# ---- every route is held to the same rules --------------------------------------------------


def test_a_semantic_event_missing_a_property_is_refused_by_track_and_enqueue(
    cio: FakeCustomerIO,
) -> None:
    """The README's rule for track calls naming a semantic event holds in the background
    too, whether the call comes through `track` or `enqueue`: raised at once, nothing
    queued."""
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        with pytest.raises(events.SemanticEventError, match="email_id"):
            client.track(user_id="u", event="Email Opened", properties={})
        with pytest.raises(events.SemanticEventError, match="email_id"):
            client.enqueue(
                {
                    "type": "track",
                    "userId": "u",
                    "event": "Email Opened",
                    "properties": {},
                }
            )
        assert client.stats.queued == 0
        # a semantic event is held to its own schema, identity included: this one needs
        # none, although a track call of a custom event does
        client.enqueue(events.report_delivery_event(delivery_id="d-1", metric="opened"))
        client.track(user_id="u", event="Email Opened", properties={"email_id": "e"})
    items = batch_items(cio, "pipelinesBatch")
    assert [i["event"] for i in items] == ["Report Delivery Event", "Email Opened"]


@pytest.mark.parametrize(
    ("message", "needs"),
    [
        ({"event": "Signed Up", "userId": "u"}, "needs type set to one of: alias, "),
        ({"type": "trak", "event": "Signed Up", "userId": "u"}, "needs type set to"),
        ({"type": "track", "event": "Signed Up"}, "userId or anonymousId or groupId"),
        ({"type": "track", "userId": "u"}, "'track' messages need event"),
        ({"type": "alias", "userId": "u"}, "'alias' messages need previousId"),
        ({"type": "identify"}, "'identify' messages need userId or anonymousId"),
    ],
)
def test_a_mapping_is_held_to_the_rules_of_the_kind_it_names(
    cio: FakeCustomerIO, message: dict[str, Any], needs: str
) -> None:
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        with pytest.raises(IncompleteMessageError, match=re.escape(needs)):
            client.enqueue(message)
        assert client.stats.queued == 0
    assert cio.requests == []


def test_track_v2_messages_need_a_person_identifier_whichever_way_they_come(
    cio: FakeCustomerIO,
) -> None:
    """specs/README.md: Identifiers requires one of id, email or cio_id; a nested object's
    rule holds for a typed call with a mapping or an empty model, and for `enqueue`, which
    must also name the action of its entity type."""
    person = "'person_event' messages need identifiers.id or identifiers.email or"
    with BackgroundTrackClient("site-123456", "key-123456", base_url=cio.url) as client:
        with pytest.raises(IncompleteMessageError, match=person):
            client.person_event(identifiers={}, name="x")
        with pytest.raises(IncompleteMessageError, match=person):
            client.person_event(identifiers=models.Identifiers(), name="x")
        with pytest.raises(IncompleteMessageError, match=person):
            client.enqueue(
                {"type": "person", "action": "event", "identifiers": {}, "name": "x"}
            )
        with pytest.raises(IncompleteMessageError, match="primary.id or"):
            client.person_merge(primary={"email": ""}, secondary={"id": "2"})
        with pytest.raises(IncompleteMessageError, match="need device.platform"):
            client.person_add_device(identifiers={"id": "1"}, device={"token": "t"})
        with pytest.raises(
            IncompleteMessageError, match="'person' messages need action set to one of"
        ):
            client.enqueue({"type": "person", "identifiers": {"id": "1"}, "name": "x"})
        with pytest.raises(IncompleteMessageError, match="cio_object_id"):
            client.object_delete(identifiers={"object_id": "o-1"})
        assert client.stats.queued == 0
        client.person_event(identifiers={"email": "a@example.com"}, name="x")
        client.object_delete(identifiers={"object_type_id": "1", "object_id": "o-1"})
    assert [i["action"] for i in batch_items(cio, "trackBatchV2")] == [
        "event",
        "delete",
    ]


def test_enqueue_sends_datetimes_as_every_other_route_does(cio: FakeCustomerIO) -> None:
    """A naive datetime in a mapping is local time, sent in UTC with its `Z`; a datetime in
    a `format: unix-time` field (Track v2's timestamp, a device's last_used) is whole
    seconds, as the models send it."""
    naive = datetime.datetime(2024, 1, 1, 12, 0)
    utc = naive.astimezone(datetime.timezone.utc)
    with BackgroundPipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        client.enqueue(
            {"type": "track", "userId": "u", "event": "E", "timestamp": naive}
        )
    (item,) = batch_items(cio, "pipelinesBatch")
    assert item["timestamp"] == utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    with BackgroundTrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.enqueue(
            {
                "type": "person",
                "action": "event",
                "identifiers": {"id": "1"},
                "name": "x",
                "timestamp": naive,
            }
        )
        track.person_add_device(
            identifiers={"id": "1"},
            device={"token": "t", "platform": "ios", "last_used": naive},
        )
        track.enqueue(
            models.PersonEvent(
                identifiers=models.Identifiers(id_="1"), name="y", timestamp=naive
            )
        )
    event, device, model = batch_items(cio, "trackBatchV2")
    seconds = int(naive.timestamp())
    assert event["timestamp"] == seconds and model["timestamp"] == seconds
    assert device["device"]["last_used"] == seconds


def test_a_message_dropped_by_a_full_queue_goes_to_on_error_with_the_id_returned(
    cio: FakeCustomerIO,
) -> None:
    """With on_full="drop" every call returns an id; a dropped message is handed to
    on_error before the call returns, with that id in it."""
    lost: list[tuple[list[dict[str, Any]], BaseException]] = []
    with BackgroundPipelinesClient(
        "cdp-key-123456",
        base_url=cio.url,
        max_queue_size=1,
        flush_interval=60,  # the first message waits in the queue: it is full
        on_full="drop",
        on_error=lambda messages, exc: lost.append((messages, exc)),
    ) as client:
        kept = client.track(user_id="u", event="kept")
        dropped = client.track(user_id="u", event="dropped")
        ((messages, exc),) = lost
        assert [m["messageId"] for m in messages] == [dropped]
        assert isinstance(exc, QueueFullError)
        assert client.stats.dropped == 1
    assert [i["messageId"] for i in batch_items(cio, "pipelinesBatch")] == [kept]


def test_the_methods_take_mappings_where_they_take_models_for_mypy_too(
    tmp_path: Path,
) -> None:
    """A field typed as a model takes a mapping at run time (as `enqueue` and the
    foreground clients do); the annotations say so, for `mypy --strict` users."""
    user = tmp_path / "user.py"
    user.write_text(textwrap.dedent("""
        from customerio_client import BackgroundPipelinesClient, BackgroundTrackClient
        from customerio_client.models import Identifiers

        def use(p: BackgroundPipelinesClient, t: BackgroundTrackClient) -> None:
            p.identify(user_id="u", context={"ip": "1.2.3.4"})
            t.person_event(identifiers={"id": "1"}, name="x")
            t.person_event(identifiers=Identifiers(id_="1"), name="x")
            t.person_identify(identifiers={"email": "a@b.c"}, attributes={"plan": "pro"})
            t.person_merge(primary={"id": "1"}, secondary={"email": "a@b.c"})
        """))
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(user),
        ],
        env={"MYPYPATH": str(ROOT / "generated"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
