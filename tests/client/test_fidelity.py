"""Calls Customer.io's API accepts, on the wire (the held-out check's findings).

Every test sends through the generated client to the package's own fake server (a real HTTP
server on 127.0.0.1) and looks at what arrived: the `type` of every Pipelines call and batch
item, date rules, typed errors for answers that do not match their schema.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterator

import pytest
from customerio_client import (
    APIResponseValidationError,
    AppClient,
    AsyncAppClient,
    AsyncPipelinesClient,
    IncompleteMessageError,
    PipelinesClient,
    TrackClient,
    events,
    models,
)
from customerio_client._fake_server import FakeServer, RecordedRequest
from customerio_client.testing import FakeCustomerIO

UTC = datetime.timezone.utc


@pytest.fixture
def cio() -> Iterator[FakeCustomerIO]:
    with FakeCustomerIO() as server:
        yield server


@pytest.fixture
def pipelines(cio: FakeCustomerIO) -> Iterator[PipelinesClient]:
    with PipelinesClient("cdp-key-123456", base_url=cio.url) as client:
        yield client


# ---- every Pipelines call and batch item carries its type ----------------------------------


def test_a_track_call_from_a_plain_dict_carries_its_type(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    pipelines.track(body={"userId": "u-1", "event": "Signed Up"})
    (call,) = cio.calls("pipelinesTrack")
    assert call.json["type"] == "track"


def test_every_single_call_from_a_model_carries_its_type(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    pipelines.track(models.Track(user_id="u-1", event="Signed Up"))
    pipelines.identify(models.Identify(user_id="u-1", traits={"plan": "pro"}))
    pipelines.page(models.Page(user_id="u-1", name="Home"))
    pipelines.screen(models.Screen(user_id="u-1", name="Home"))
    pipelines.group(models.Group(user_id="u-1", group_id="g-1"))
    pipelines.alias(models.Alias(user_id="u-1", previous_id="a-1"))
    kinds = [r.json["type"] for r in cio.requests]
    assert kinds == ["track", "identify", "page", "screen", "group", "alias"]
    cio.assert_identified("u-1", traits={"plan": "pro"})


def test_batch_items_built_from_models_carry_their_type_and_are_recognised(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    batch = models.Batch(
        batch=[
            models.Track(user_id="u-2", event="Signed Up"),
            models.Identify(user_id="u-2", traits={"plan": "pro"}),
        ]
    )
    pipelines.batch(batch)
    (call,) = cio.calls("pipelinesBatch")
    assert [item["type"] for item in call.json["batch"]] == ["track", "identify"]
    cio.assert_identified("u-2", traits={"plan": "pro"})
    cio.assert_event_sent("Signed Up", user_id="u-2")


def test_a_type_given_by_the_caller_is_kept(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    pipelines.track(body={"type": "track", "userId": "u-1", "event": "x"})
    assert cio.calls("pipelinesTrack")[0].json["type"] == "track"


def test_the_old_prefixed_names_still_send_and_warn_once_per_call(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    """`pipelines_identify` and the other names that repeated the client are kept for one
    release: same request, plus a DeprecationWarning naming the new method (pointing at the
    caller's line, not the package's)."""
    with pytest.warns(
        DeprecationWarning, match=r"pipelines_identify\(\).*identify\(\)"
    ) as w:
        pipelines.pipelines_identify(models.Identify(user_id="u-1", traits={"a": 1}))
    assert w[0].filename == __file__
    cio.assert_identified("u-1", traits={"a": 1})

    async def old_async_name(url: str) -> None:
        client = AsyncPipelinesClient("cdp-key-123456", base_url=url)
        try:
            await client.pipelines_track({"userId": "u-2", "event": "e"})
        finally:
            await client.aclose()

    with pytest.warns(DeprecationWarning, match="pipelines_track"):
        asyncio.run(old_async_name(cio.url))
    assert cio.calls("pipelinesTrack")[0].json["type"] == "track"


# ---- dates: one rule per field -------------------------------------------------------------


def test_a_naive_datetime_is_local_time_sent_in_utc(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    naive = datetime.datetime(2024, 1, 15, 10, 30, 5, 123000)
    expected = naive.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.123Z")
    pipelines.track(models.Track(user_id="u-1", event="x", timestamp=naive))
    aware = datetime.datetime(2024, 1, 15, 11, 30, 5, 123000, tzinfo=UTC)
    pipelines.track(models.Track(user_id="u-1", event="x", timestamp=aware))
    first, second = cio.calls("pipelinesTrack")
    assert first.json["timestamp"] == expected
    assert second.json["timestamp"] == "2024-01-15T11:30:05.123Z"


def test_semantic_events_take_naive_datetimes_by_the_same_rule() -> None:
    naive = datetime.datetime(2024, 1, 15, 10, 30)
    payload = events.user_deleted(user_id="u", timestamp=naive)
    assert payload["timestamp"] == naive.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def test_v2_bodies_given_as_dicts_send_unix_times_as_seconds(
    cio: FakeCustomerIO,
) -> None:
    """The v2 entity body is a union and the batch an array of it: a datetime in a dict
    there went out as ISO text, where every variant says unix-time."""
    at = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    event = {
        "type": "person",
        "action": "event",
        "identifiers": {"id": "1"},
        "name": "bought",
        "timestamp": at,
    }
    with TrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.track_entity_v2(event)
        track.track_batch_v2({"batch": [event, {**event, "timestamp": 7}]})
    (entity,) = cio.calls("trackEntityV2")
    assert entity.json["timestamp"] == 1705314600
    (batch,) = cio.calls("trackBatchV2")
    assert [item["timestamp"] for item in batch.json["batch"]] == [1705314600, 7]
    assert event["timestamp"] is at


def test_one_value_fields_of_a_union_body_given_as_a_dict_are_filled_in(
    cio: FakeCustomerIO,
) -> None:
    """`type: track` is every semantic event's; a delivery entity has one action."""
    with PipelinesClient("cdp-key-123456", base_url=cio.url) as cdp:
        cdp.track_email_event(
            {"event": "Email Opened", "userId": "u", "properties": {"email_id": "e"}}
        )
    (sent,) = cio.calls("trackEmailEvent")
    assert sent.json["type"] == "track"
    delivery = {"type": "delivery", "identifiers": {"id": "d-1"}, "name": "opened"}
    person = {"type": "person", "identifiers": {"id": "1"}, "name": "bought"}
    with TrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.track_entity_v2(delivery)
        track.track_entity_v2(person)
        track.track_entity_v2({**delivery, "action": "odd"})  # the caller's value wins
    first, second, third = (c.json for c in cio.calls("trackEntityV2"))
    assert first == {**delivery, "action": "event"}
    assert second == person  # a person has several actions: none is guessed
    assert third["action"] == "odd"


def test_a_pipelines_call_without_a_person_is_refused_before_sending(
    cio: FakeCustomerIO,
) -> None:
    """The API answers 200 to an identify naming nobody and drops it; the background
    client refused such messages, the foreground sent them."""
    with PipelinesClient("cdp-key-123456", base_url=cio.url) as cdp:
        for body in ({}, {"userId": ""}, models.Identify(traits={"plan": "pro"})):
            with pytest.raises(IncompleteMessageError) as caught:
                cdp.identify(body)
            assert caught.value.alternatives == (("userId",), ("anonymousId",))
            assert isinstance(caught.value, ValueError)
        with pytest.raises(IncompleteMessageError):
            cdp.track({"event": "Signed Up"})
        assert cio.requests == []
        cdp.identify({"anonymousId": "a-1"})
        cdp.track({"event": "Signed Up", "userId": "u-1"})
    assert len(cio.requests) == 2


def test_track_v1_unix_time_fields_take_datetimes_as_seconds(
    cio: FakeCustomerIO,
) -> None:
    at = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    with TrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.track_customer_event("u-1", models.Event(name="bought", timestamp=at))
        track.track_customer_event("u-1", models.Event(name="bought", timestamp=7))
    first, second = cio.calls("trackCustomerEvent")
    assert first.json["timestamp"] == int(at.timestamp()) == 1705314600
    assert second.json["timestamp"] == 7


def test_unix_time_fields_of_a_plain_dict_body_are_sent_as_seconds(
    cio: FakeCustomerIO,
) -> None:
    """The same rule when the body is a plain dict: a datetime where the spec says
    unix-time goes out as whole seconds, at the top level and in nested objects."""
    at = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    with TrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.track_customer_event("u-1", {"name": "bought", "timestamp": at})
        track.identify_customer(
            "u-1", body={"email": "a@example.com", "created_at": at}
        )
        device = {"id": "tok-1", "platform": "ios", "last_used": at}
        track.add_device("u-1", {"device": device})
        track.track_customer_event("u-1", {"name": "kept", "timestamp": 7})
    event, kept = cio.calls("trackCustomerEvent")
    assert event.json == {"name": "bought", "timestamp": 1705314600}
    assert kept.json["timestamp"] == 7
    (person,) = cio.calls("identifyCustomer")
    assert person.json["created_at"] == 1705314600
    (added,) = cio.calls("addDevice")
    assert added.json["device"]["last_used"] == 1705314600
    assert device["last_used"] is at  # the caller's dict is not changed


# ---- an answer that does not match its schema is a typed error -----------------------------


def test_a_success_body_of_the_wrong_shape_raises_a_typed_error(
    cio: FakeCustomerIO,
) -> None:
    cio.set_response(
        "sendTransactionalEmail",
        ["not", "an", "object"],
        headers={"X-Request-Id": "req-42"},
    )
    with AppClient("app-key-123456", base_url=cio.url) as app:
        with pytest.raises(APIResponseValidationError) as caught:
            app.send_transactional_email(
                {"transactional_message_id": 1, "to": "a@example.com"}
            )
    err = caught.value
    assert err.status_code == 200 and err.request_id == "req-42"
    assert err.body == ["not", "an", "object"]
    assert "does not match its schema" in str(err) and "req-42" in str(err)


def test_a_field_of_the_wrong_type_raises_the_typed_error(cio: FakeCustomerIO) -> None:
    cio.set_response("listMessages", {"messages": "text"})
    with AppClient("app-key-123456", base_url=cio.url) as app:
        with pytest.raises(APIResponseValidationError) as caught:
            app.list_messages()
    assert caught.value.body == {"messages": "text"}
    assert str(caught.value).endswith(
        'at field "messages" of ListMessagesResponse: expected an array, got a string'
    )


_NESTED = 'PersonIdentifiers, in field "identifiers" of CustomerSearchPage'
SEARCH_ANSWERS = [
    (
        {"identifiers": [{"email": "a", "id": "1", "cio_id": "c"}, {"email": "b"}]},
        f"at field \"id\" of {_NESTED}: missing field 'id'",
    ),
    (
        {"identifiers": [7]},
        'at field "identifiers" of CustomerSearchPage: PersonIdentifiers wants an object',
    ),
    (
        {"ids": None},
        'at field "ids" of CustomerSearchPage: expected an array, got null',
    ),
    # `list()` made the first ['a', 'b', 'c']; the second's keys were taken for items
    (
        {"ids": "abc"},
        'at field "ids" of CustomerSearchPage: expected an array, got a string',
    ),
    (
        {"identifiers": {"email": "a"}},
        'at field "identifiers" of CustomerSearchPage: expected an array, got an object',
    ),
    (["a", "list"], "schema: CustomerSearchPage wants an object, got an array"),
]


@pytest.mark.parametrize("body,says", SEARCH_ANSWERS)
def test_a_mismatched_answer_names_the_field_and_model(
    cio: FakeCustomerIO, body: object, says: str
) -> None:
    cio.set_response("searchCustomers", body)

    async def in_async() -> str:
        async with AsyncAppClient("app-key-123456", base_url=cio.url) as app:
            with pytest.raises(APIResponseValidationError) as caught:
                await app.search_customers({"filter": {}})
        return str(caught.value)

    with AppClient("app-key-123456", base_url=cio.url) as app:
        with pytest.raises(APIResponseValidationError) as caught:
            app.search_customers({"filter": {}})
    for message in (str(caught.value), asyncio.run(in_async())):
        assert message.startswith(
            "200 from POST /v1/customers: the response does not match its schema"
        )
        assert says in message


@pytest.mark.parametrize(
    "body,kind", [([["success", True]], "an array"), ("ok", "a string")]
)
def test_an_answer_that_is_no_object_is_never_made_one(
    cio: FakeCustomerIO, body: object, kind: str
) -> None:
    """A Pipelines call answers a free-form object: `dict()` made an array of pairs
    one, and a string an error about "dictionary update sequence" elements."""
    cio.set_response("pipelinesIdentify", body)
    says = (
        "200 from POST /v1/identify: the response does not match its schema: "
        f"expected an object, got {kind}"
    )

    async def in_async() -> APIResponseValidationError:
        async with AsyncPipelinesClient("cdp-key-123456", base_url=cio.url) as cdp:
            with pytest.raises(APIResponseValidationError) as caught:
                await cdp.identify({"userId": "u-1"})
        return caught.value

    with PipelinesClient("cdp-key-123456", base_url=cio.url) as cdp:
        with pytest.raises(APIResponseValidationError) as caught:
            cdp.identify({"userId": "u-1"})
    for error in (caught.value, asyncio.run(in_async())):
        assert str(error) == says
        assert error.body == body and isinstance(error.__cause__, TypeError)
    assert len(cio.calls("pipelinesIdentify")) == 2


# ---- pagination: start/limit and the next cursor ------------------------------------------

PAGES = {"": (["m1", "m2"], "c2"), "c2": (["m3"], "c3"), "c3": ([], "")}


def _pages(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
    start = request.query.get("start", [""])[0]
    ids, following = PAGES[start]
    body = {"messages": [{"id": i} for i in ids], "next": following}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def test_iter_walks_every_page_with_the_next_cursor() -> None:
    with FakeServer(_pages) as server:
        with AppClient("app-key-123456", base_url=server.url) as app:
            items = list(app.iter_list_messages(limit=2))
        assert [m["id"] for m in items] == ["m1", "m2", "m3"]
        assert [r.query.get("start") for r in server.requests] == [None, ["c2"], ["c3"]]
        assert all(r.query["limit"] == ["2"] for r in server.requests)


def test_async_iter_walks_every_page_too() -> None:
    async def walk(url: str) -> list[str]:
        app = AsyncAppClient("app-key-123456", base_url=url)
        try:
            return [m["id"] async for m in app.iter_list_messages(start="c2")]
        finally:
            await app.aclose()

    with FakeServer(_pages) as server:
        assert asyncio.run(walk(server.url)) == ["m3"]
        assert [r.query.get("start") for r in server.requests] == [["c2"], ["c3"]]


CIRCLE = {"": (["m1"], "c1"), "c1": (["m2"], "c2"), "c2": (["m3"], "c1")}


def _circle(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
    start = request.query.get("start", [""])[0]
    ids, following = CIRCLE[start]
    body = {"messages": [{"id": i} for i in ids], "next": following}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def test_a_walk_ends_when_the_cursors_go_round_in_a_circle() -> None:
    """c1 -> c2 -> c1 again: the walk used to ask for c1 and c2 forever."""

    async def walk(url: str) -> list[str]:
        async with AsyncAppClient("app-key-123456", base_url=url) as app:
            return [m["id"] async for m in app.iter_list_messages()]

    with FakeServer(_circle) as server:
        with AppClient("app-key-123456", base_url=server.url) as app:
            assert [m["id"] for m in app.iter_list_messages()] == ["m1", "m2", "m3"]
        assert len(server.requests) == 3
        assert asyncio.run(walk(server.url)) == ["m1", "m2", "m3"]


PEOPLE = {"": (["p1", "p2"], "MDox"), "MDox": (["p3"], "")}


def _people(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
    start = request.query.get("start", [""])[0]
    ids, following = PEOPLE[start]
    page = {
        "identifiers": [{"id": i, "email": None, "cio_id": "c-" + i} for i in ids],
        "ids": ids,
        "next": following,
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()


def test_people_search_walks_its_pages_sending_the_filter_each_time() -> None:
    """searchCustomers (the published `getPeopleFilter`): `start`/`limit` in the query, the
    filter in every page's body, typed identifiers out."""
    search = {"filter": {"and": [{"segment": {"id": 4}}]}}
    with FakeServer(_people) as server:
        with AppClient("app-key-123456", base_url=server.url) as app:
            people = list(app.iter_search_customers(search, limit=2))
        assert [p.cio_id for p in people] == ["c-p1", "c-p2", "c-p3"]
        assert people[0] == models.PersonIdentifiers(
            email=None, id_="p1", cio_id="c-p1"
        )
        assert [r.query.get("start") for r in server.requests] == [None, ["MDox"]]
        assert all(r.method == "POST" for r in server.requests)
        assert all(json.loads(r.body) == search for r in server.requests)


def test_a_persons_messages_walk_their_pages_too() -> None:
    with FakeServer(_pages) as server:
        with AppClient("app-key-123456", base_url=server.url) as app:
            items = list(app.iter_get_customer_messages("p-1", limit=2))
        assert [m["id"] for m in items] == ["m1", "m2", "m3"]
        assert {r.path.split("?")[0] for r in server.requests} == {
            "/v1/customers/p-1/messages"
        }
        assert [r.query.get("start") for r in server.requests] == [None, ["c2"], ["c3"]]


def test_extra_query_parameters_go_out_with_the_call(cio: FakeCustomerIO) -> None:
    with AppClient("app-key-123456", base_url=cio.url) as app:
        app.list_messages(limit=5, extra_query={"campaign_id": 7, "limit": 99})
    (call,) = cio.calls("listMessages")
    assert call.query == {"campaign_id": ["7"], "limit": ["5"]}  # the spec's own wins


def test_an_extra_query_parameter_the_call_left_unset_goes_out(
    cio: FakeCustomerIO,
) -> None:
    """A parameter the spec lists but the call did not set does not hide the extra one."""
    with AppClient("app-key-123456", base_url=cio.url) as app:
        app.list_messages(extra_query={"limit": 5, "type": "email"})
    (call,) = cio.calls("listMessages")
    assert call.query == {"limit": ["5"], "type": ["email"]}


# ---- the published App and Track documents' forms of four calls ---------------------------


def test_an_export_of_people_sends_its_audience_as_filters(
    cio: FakeCustomerIO,
) -> None:
    """The published App document requires `filters` (004 said `filter`)."""
    audience = {"and": [{"segment": {"id": 4}}]}
    with AppClient("app-key-123456", base_url=cio.url) as app:
        app.export_customers(models.ExportCustomersRequest(filters=audience))
    (call,) = cio.calls("exportCustomers")
    assert call.json == {"filters": audience}


def test_campaign_metrics_send_the_version_and_unix_seconds(
    cio: FakeCustomerIO,
) -> None:
    """`version` is required; `start`/`end` are Unix seconds even when given a datetime
    (a datetime's text form would be ISO-8601, which the API does not read there)."""
    at = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    with AppClient("app-key-123456", base_url=cio.url) as app:
        app.get_campaign_metrics(
            7,
            version=models.GetCampaignMetricsVersion.N2,
            start=at,
            end=1705400000,
            res="days",
        )
    (call,) = cio.calls("getCampaignMetrics")
    assert call.path.split("?")[0] == "/v1/campaigns/7/metrics"
    assert call.query == {
        "version": ["2"],
        "start": ["1705314600"],
        "end": ["1705400000"],
        "res": ["days"],
    }


def test_an_anonymous_event_carries_its_anonymous_id(cio: FakeCustomerIO) -> None:
    """The id that associates the event with the person later, once identified."""
    with TrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.track_anonymous_event(
            models.AnonymousEvent(
                name="watched_video",
                anonymous_id="abc123",
                data={"video": "intro-to-platform"},
            )
        )
    (call,) = cio.calls("trackAnonymousEvent")
    assert call.json == {
        "name": "watched_video",
        "anonymous_id": "abc123",
        "data": {"video": "intro-to-platform"},
    }


def test_a_collection_is_made_from_rows_or_from_a_url(cio: FakeCustomerIO) -> None:
    rows = [{"eventName": "christmas", "eventDate": "2021-12-25T12:00:00.000Z"}]
    with AppClient("app-key-123456", base_url=cio.url) as app:
        app.create_collection(models.CreateCollectionRequest(name="events", data=rows))
        app.create_collection(
            models.CreateCollectionRequest(
                name="events", url="https://example.com/events.csv"
            )
        )
    local, remote = cio.calls("createCollection")
    assert local.json == {"name": "events", "data": rows}
    assert remote.json == {"name": "events", "url": "https://example.com/events.csv"}
