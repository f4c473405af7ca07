"""The operations and fields added from Customer.io's published documents, on the wire.

Each new or changed operation is called through the generated client against the package's own
fake server (`customerio_client.testing.FakeCustomerIO`), starting from the package's fixtures,
and the request the server received is checked: method, path, query and body. See specs/README.md,
"Additions from Customer.io's published documents".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from customerio_client import (
    OPERATIONS,
    AppClient,
    PayloadTooLargeError,
    TrackClient,
    fixtures,
)
from customerio_client.testing import FakeCustomerIO

KB = 1024


@pytest.fixture
def cio() -> Iterator[FakeCustomerIO]:
    with FakeCustomerIO() as server:
        yield server


@pytest.fixture
def track(cio: FakeCustomerIO) -> Iterator[TrackClient]:
    with TrackClient("site", "key", base_url=cio.url) as client:
        yield client


@pytest.fixture
def app(cio: FakeCustomerIO) -> Iterator[AppClient]:
    with AppClient("key", base_url=cio.url) as client:
        yield client


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _person(i: int, blob: int) -> dict[str, Any]:
    """A v2 person identify of roughly `blob` bytes."""
    return {
        "type": "person",
        "identifiers": {"id": f"person-{i}"},
        "action": "identify",
        "attributes": {"notes": "x" * blob},
    }


# ---- suppress / unsuppress / merge ------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "suffix"),
    [("suppressPerson", "suppress"), ("unsuppressPerson", "unsuppress")],
)
def test_suppress_and_unsuppress_post_to_the_person_path_without_a_body(
    cio: FakeCustomerIO, track: TrackClient, operation_id: str, suffix: str
) -> None:
    method = getattr(track, OPERATIONS[operation_id].method)
    result = method(identifier="cio_03000001")
    assert result.status_code == 200
    cio.assert_called(operation_id, times=1)
    (request,) = cio.calls(operation_id)
    assert request.method == "POST"
    assert request.path == f"/api/v1/customers/cio_03000001/{suffix}"
    assert request.query == {}
    assert request.body == b""


def test_suppress_escapes_an_email_identifier(
    cio: FakeCustomerIO, track: TrackClient
) -> None:
    track.suppress_person(identifier="a+b@example.com")
    (request,) = cio.calls("suppressPerson")
    assert request.path == "/api/v1/customers/a%2Bb%40example.com/suppress"


def test_merge_sends_primary_and_secondary(
    cio: FakeCustomerIO, track: TrackClient
) -> None:
    kwargs = fixtures.request("mergePeople")
    assert kwargs["body"] == {
        "primary": {"email": "cool.person@company.com"},
        "secondary": {"email": "cperson@gmail.com"},
    }
    track.merge_people(**kwargs)
    track.merge_people({"primary": {"id": "42"}, "secondary": {"cio_id": "03000001"}})
    first, second = cio.calls("mergePeople")
    assert (first.method, first.path) == ("POST", "/api/v1/merge_customers")
    assert first.json == kwargs["body"]
    assert second.json == {"primary": {"id": "42"}, "secondary": {"cio_id": "03000001"}}


# ---- segment id_type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "suffix"),
    [
        ("addCustomersToSegment", "add_customers"),
        ("removeCustomersFromSegment", "remove_customers"),
    ],
)
def test_segment_calls_send_id_type_in_the_query(
    cio: FakeCustomerIO, track: TrackClient, operation_id: str, suffix: str
) -> None:
    method = getattr(track, OPERATIONS[operation_id].method)
    method(
        segment_id=7, body={"ids": ["a@example.com", "b@example.com"]}, id_type="email"
    )
    method(segment_id=7, body={"ids": ["42"]})
    with_type, without = cio.calls(operation_id)
    assert with_type.path == f"/api/v1/segments/7/{suffix}"
    assert with_type.query == {"id_type": ["email"]}
    assert with_type.json == {"ids": ["a@example.com", "b@example.com"]}
    assert without.query == {}  # left out: the API's default (id) applies


# ---- Track v2 ---------------------------------------------------------------------------------


def test_batch_of_109_kb_with_items_under_32_kb_is_sent(
    cio: FakeCustomerIO, track: TrackClient
) -> None:
    items = [_person(i, 27 * KB) for i in range(4)]
    assert all(_size(item) < 32 * KB for item in items)
    body = {"batch": items}
    assert 105 * KB < _size(body) < 112 * KB  # ~109 KB: over the old 32 KB cap
    result = track.track_batch_v2(body)
    assert result.status_code == 200
    (request,) = cio.calls("trackBatchV2")
    assert (request.method, request.path) == ("POST", "/api/v2/batch")
    assert request.json == body


def test_batch_item_over_32_kb_is_refused(
    cio: FakeCustomerIO, track: TrackClient
) -> None:
    items = [_person(0, KB), _person(1, 40 * KB), _person(2, KB)]
    with pytest.raises(PayloadTooLargeError) as caught:
        track.track_batch_v2({"batch": items})
    assert caught.value.limit == 32768
    assert caught.value.index == 1
    assert cio.calls("trackBatchV2") == []


def test_batch_over_500_kb_is_refused(cio: FakeCustomerIO, track: TrackClient) -> None:
    items = [_person(i, 30 * KB) for i in range(17)]  # each under 32 KB, ~510 KB in all
    with pytest.raises(PayloadTooLargeError) as caught:
        track.track_batch_v2({"batch": items})
    assert caught.value.limit == 500000
    assert caught.value.index is None
    assert cio.calls("trackBatchV2") == []


ENTITY_BODIES: list[dict[str, Any]] = [
    {"type": "person", "identifiers": {"id": "42"}, "action": "suppress"},
    {
        "type": "person",
        "identifiers": {"email": "p@example.com"},
        "action": "unsuppress",
    },
    {
        "type": "person",
        "action": "merge",
        "primary": {"id": "42"},
        "secondary": {"id": "43"},
    },
    {
        "type": "person",
        "identifiers": {"id": "42"},
        "action": "event",
        "id": "01H5Q5SZVQDJ71SBME2SMDXS88",
        "name": "purchase",
    },
    {
        "type": "person",
        "identifiers": {"cio_id": "03000001"},
        "action": "add_device",
        "device": {
            "token": "tok",
            "platform": "ios",
            "attributes": {"app_version": "2.1.0"},
        },
    },
    {
        "type": "object",
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        "action": "add_relationships",
        "cio_relationships": [{"identifiers": {"id": "42"}}],
    },
]


@pytest.mark.parametrize(
    "body", ENTITY_BODIES, ids=lambda b: f"{b['type']}-{b['action']}"
)
def test_entity_actions_are_sent_as_given(
    cio: FakeCustomerIO, track: TrackClient, body: dict[str, Any]
) -> None:
    track.track_entity_v2(body)  # type: ignore[arg-type]
    (request,) = cio.calls("trackEntityV2")
    assert (request.method, request.path) == ("POST", "/api/v2/entity")
    assert request.json == body


def test_entity_fixture_is_sent(cio: FakeCustomerIO, track: TrackClient) -> None:
    kwargs = fixtures.request("trackEntityV2")
    track.track_entity_v2(**kwargs)
    (request,) = cio.calls("trackEntityV2")
    assert request.json["type"] in ("person", "object", "delivery")


# ---- v1 event dedupe id, device attributes -------------------------------------------------


def test_event_dedupe_id_is_sent(cio: FakeCustomerIO, track: TrackClient) -> None:
    body = {"name": "purchase", "id": "01H5Q5SZVQDJ71SBME2SMDXS88"}
    track.track_customer_event(identifier="42", body=body)
    (request,) = cio.calls("trackCustomerEvent")
    assert request.json == body


def test_device_attributes_are_sent(cio: FakeCustomerIO, track: TrackClient) -> None:
    body = {
        "device": {
            "id": "token-1",
            "platform": "android",
            "attributes": {
                "device_os": "Android 14",
                "push_enabled": "true",
                "team": "blue",
            },
        }
    }
    track.add_device(identifier="42", body=body)
    (request,) = cio.calls("addDevice")
    assert (request.method, request.path) == ("PUT", "/api/v1/customers/42/devices")
    assert request.json == body


# ---- App: required fields, pagination -----------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "required"),
    [
        ("sendTransactionalEmail", {"to"}),
        ("sendTransactionalPush", {"transactional_message_id", "identifiers"}),
        ("sendTransactionalSms", {"transactional_message_id", "identifiers", "to"}),
        ("createSegment", {"segment"}),
    ],
)
def test_fixture_bodies_carry_the_published_required_fields(
    cio: FakeCustomerIO, app: AppClient, operation_id: str, required: set[str]
) -> None:
    kwargs = fixtures.request(operation_id)
    getattr(app, OPERATIONS[operation_id].method)(**kwargs)
    (request,) = cio.calls(operation_id)
    assert required <= set(request.json)
    if "identifiers" in required:
        assert request.json["identifiers"]  # never an empty object
    if operation_id == "createSegment":
        assert request.json["segment"]["name"]


def test_list_messages_sends_the_cursor_and_page_size(
    cio: FakeCustomerIO, app: AppClient
) -> None:
    cio.set_response("listMessages", {"messages": [{"id": "m-1"}], "next": "cursor-2"})
    first = app.list_messages(limit=10)
    assert first.json() == {"messages": [{"id": "m-1"}], "next": "cursor-2"}
    app.list_messages(start="cursor-2", limit=10)
    one, two = cio.calls("listMessages")
    assert (one.method, one.path) == ("GET", "/v1/messages")
    assert one.query == {"limit": ["10"]}
    assert two.query == {"start": ["cursor-2"], "limit": ["10"]}
