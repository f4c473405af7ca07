"""The generated client on the wire, against a real HTTP server on 127.0.0.1 (FakeServer).

Every operation is called with the package's own fixtures (``customerio_client.fixtures``) and
the request the server received is checked byte for byte where it matters: method, escaped path,
query, headers, JSON body; then the client-level behaviours (retries, Retry-After, timeouts,
error mapping, keep-alive, message ids, payload limits, credentials, secrets, async).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from collections.abc import Mapping
from enum import Enum
from typing import Any
from urllib.parse import quote

import pytest
from conftest import (
    APP_KEY,
    CDP_KEY,
    EXPECTED_AUTH,
    PATH_PARAM,
    SECRETS,
    SITE_ID,
    TRACK_KEY,
    make_client,
    py_name,
    request_kwargs,
    response_body,
    spec_operations,
)
from customerio_client import (
    OPERATIONS,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AppClient,
    AsyncAppClient,
    AsyncPipelinesClient,
    AsyncTrackClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidCredentialError,
    MissingCredentialError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PipelinesClient,
    RateLimitError,
    TrackClient,
    UnprocessableEntityError,
    fixtures,
)
from customerio_client._fake_server import FakeServer, RecordedRequest

# A path parameter value with every character that must be escaped in a path segment.
AWKWARD_ID = "a@b+c/d e"
AWKWARD_INT = 4021
REQUEST_ID = "req-7c1e0a"


def plain(value: Any) -> Any:
    """JSON-ready data of a fixture value (models, enums, containers)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def base_client(client: str) -> str:
    return client.removeprefix("Async")


class Sleeps:
    """Stands in for the client's sleep, so retries are checked without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Any:
    body = b"" if data is None else json.dumps(data).encode()
    reply_headers = {"Content-Type": "application/json", "X-Request-Id": REQUEST_ID}
    reply_headers.update(headers or {})
    return lambda request: (status, reply_headers, body)


def _without_message_ids(
    sent: Any, expected: Any, id_field: str, items_field: str | None
) -> Any:
    """``sent`` minus the message ids the client added (checked to be UUIDs)."""
    if not id_field or not isinstance(sent, dict) or not isinstance(expected, dict):
        return sent
    sent = dict(sent)
    if id_field in expected and expected[id_field] is not None:
        assert (
            sent[id_field] == expected[id_field]
        ), "a caller's message id must be kept"
    elif items_field:  # a batch: its messages carry ids, the envelope none
        assert id_field not in sent
    else:
        uuid.UUID(sent.pop(id_field))
    if items_field and isinstance(sent.get(items_field), list):
        items = expected.get(items_field) or []
        assert len(sent[items_field]) == len(items)
        sent[items_field] = [
            _without_message_ids(got, want, id_field, None)
            for got, want in zip(sent[items_field], items)
        ]
    return sent


def _wire_cases() -> list[Any]:
    cases = []
    for op_id, info in sorted(OPERATIONS.items()):
        for strict in (False, True) if info.client == "PipelinesClient" else (False,):
            label = f"{op_id}-strict" if strict else op_id
            cases.append(pytest.param(op_id, strict, id=label))
    return cases


def test_fixtures_cover_every_operation() -> None:
    assert set(fixtures.OPERATION_IDS) == set(OPERATIONS) == set(spec_operations())


@pytest.mark.parametrize(("operation_id", "strict"), _wire_cases())
def test_operation_on_the_wire(
    operation_id: str, strict: bool, server: FakeServer
) -> None:
    info = OPERATIONS[operation_id]
    spec = spec_operations()[operation_id]
    kwargs = request_kwargs(operation_id)
    # The header must come from the client's strict option alone in this test.
    kwargs.pop("x_strict_mode", None)

    expected_path = info.path
    for name in PATH_PARAM.findall(info.path):
        value: Any = AWKWARD_INT if spec.param_type(name) == "integer" else AWKWARD_ID
        kwargs[py_name(name)] = value
        expected_path = expected_path.replace(f"{{{name}}}", quote(str(value), safe=""))
    assert "{" not in expected_path

    expected_query = {
        p["name"]: [str(plain(kwargs[py_name(p["name"])]))]
        for p in spec.parameters
        if p.get("in") == "query" and kwargs.get(py_name(p["name"])) is not None
    }
    reply = response_body(operation_id)
    status = fixtures.response_status(operation_id)
    assert status == spec.success_status
    server.responder = json_reply(status, reply)

    options: dict[str, Any] = {"strict": True} if strict else {}
    with make_client(
        info.client, base_url=server.url, max_retries=0, **options
    ) as client:
        response = getattr(client, info.method)(**copy.deepcopy(kwargs))

    [sent] = server.requests
    assert sent.method == info.http_method == spec.method
    assert sent.path == expected_path
    assert sent.query == expected_query
    headers = sent.headers
    assert headers["authorization"] == EXPECTED_AUTH[info.client]
    assert headers["user-agent"].startswith("customerio_client/")
    if info.client == "PipelinesClient" and strict:
        assert headers["x-strict-mode"] == "1"
    else:
        assert "x-strict-mode" not in headers

    body = kwargs.get("body")
    if body is None:
        assert sent.body == b""
        assert "content-type" not in headers
    else:
        assert headers["content-type"] == "application/json"
        expected_json = {**spec.body_constants(), **json.loads(json.dumps(plain(body)))}
        limits = spec.limits()
        got = _without_message_ids(
            sent.json, expected_json, spec.message_id_field, limits.get("items_field")
        )
        assert got == expected_json

    assert response.status_code == spec.success_status
    assert response.retries == 0
    assert response.request_id == REQUEST_ID
    expected_reply = json.loads(json.dumps(plain(reply)))
    assert response.json() == expected_reply
    if hasattr(response.data, "to_dict"):
        assert plain(response.data) == expected_reply
    elif expected_reply is None:
        assert response.data is None
    else:
        assert plain(response.data) == expected_reply


# ---- client-level behaviour ----------------------------------------------------------------


def _track_call(client: PipelinesClient, **options: Any) -> Any:
    return client.track(**request_kwargs("pipelinesTrack"), **options)


def test_retries_after_server_errors(server: FakeServer) -> None:
    server.fail_next(2, status=500)
    client = make_client("PipelinesClient", base_url=server.url, max_retries=2)
    client._sleep = sleeps = Sleeps()
    response = _track_call(client)
    assert response.status_code == 200
    assert response.retries == 2
    assert len(server.requests) == 3
    assert len(sleeps.delays) == 2


def test_a_closed_client_says_so(server: FakeServer) -> None:
    """It named an internal class ("HTTPClientTransport is closed")."""
    with make_client("PipelinesClient", base_url=server.url, max_retries=0) as client:
        _track_call(client)
    with pytest.raises(RuntimeError, match=r"^the client's connections are closed"):
        _track_call(client)
    assert len(server.requests) == 1


def test_gives_up_after_max_retries(server: FakeServer) -> None:
    server.fail_next(3, status=503, headers={"X-Request-Id": REQUEST_ID})
    client = make_client("PipelinesClient", base_url=server.url, max_retries=2)
    client._sleep = Sleeps()
    with pytest.raises(InternalServerError) as caught:
        _track_call(client)
    assert caught.value.retries == 2
    assert caught.value.status_code == 503
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("headers", "delay"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After-Ms": "1500"}, 1.5),
    ],
)
def test_retry_after_is_honoured(
    server: FakeServer, headers: dict[str, str], delay: float
) -> None:
    server.fail_next(1, status=429, headers=headers)
    client = make_client("TrackClient", base_url=server.url, max_retries=2)
    client._sleep = sleeps = Sleeps()
    response = client.track_anonymous_event(**request_kwargs("trackAnonymousEvent"))
    assert response.retries == 1
    assert sleeps.delays == [delay]


def test_timeout_raises_api_timeout_error(server: FakeServer) -> None:
    server.fail_next(1, delay=10.0)
    client = make_client("AppClient", base_url=server.url, max_retries=0, timeout=1.0)
    with pytest.raises(APITimeoutError) as caught:
        client.list_campaigns()
    assert isinstance(caught.value, APIConnectionError)
    assert caught.value.path == "/v1/campaigns"


def test_timeout_is_retried(server: FakeServer) -> None:
    server.fail_next(1, delay=10.0)
    client = make_client("AppClient", base_url=server.url, max_retries=1, timeout=1.0)
    client._sleep = Sleeps()
    response = client.list_campaigns()
    assert response.retries == 1
    assert len(server.requests) == 2


def test_dropped_connection_is_a_connection_error(server: FakeServer) -> None:
    server.fail_next(1, drop=True)
    client = make_client("AppClient", base_url=server.url, max_retries=0)
    with pytest.raises(APIConnectionError):
        client.list_campaigns()


ERRORS = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
]


@pytest.mark.parametrize(("status", "error"), ERRORS)
@pytest.mark.parametrize("client_name", ["TrackClient", "AppClient", "PipelinesClient"])
def test_error_statuses_map_to_classes(
    server: FakeServer, client_name: str, status: int, error: type[APIError]
) -> None:
    operation_id = next(
        op for op, i in sorted(OPERATIONS.items()) if i.client == client_name
    )
    info = OPERATIONS[operation_id]
    payload = {"meta": {"error": "the thing went wrong"}}
    server.responder = json_reply(status, payload)
    client = make_client(client_name, base_url=server.url, max_retries=0)
    with pytest.raises(error) as caught:
        getattr(client, info.method)(**request_kwargs(operation_id))
    err = caught.value
    assert type(err) is error
    assert isinstance(err, APIError)
    assert err.status_code == status
    assert err.body == payload
    assert err.request_id == REQUEST_ID
    assert err.method == info.http_method
    assert REQUEST_ID in str(err)
    assert "the thing went wrong" in str(err)
    assert err.retries == 0


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        # the Error schema the Track and App specs give: meta.errors, a list of strings
        (
            {"meta": {"errors": ["email is invalid", "id is too long"]}},
            "email is invalid; id is too long",
        ),
        # every error of a JSON:API-style list, not only the first
        (
            {"errors": [{"detail": "bad email"}, {"detail": "bad id"}]},
            "bad email; bad id",
        ),
        # an error that is an object says it in its message, not as a Python repr
        (
            {"error": {"message": "plan not allowed", "type": "invalid"}},
            "plan not allowed",
        ),
    ],
)
def test_error_message_reads_the_api_error_shapes(
    server: FakeServer, payload: Any, detail: str
) -> None:
    server.responder = json_reply(400, payload)
    client = make_client("TrackClient", base_url=server.url, max_retries=0)
    with pytest.raises(BadRequestError) as caught:
        client.identify_customer("u-1", body={"email": "a@example.com"})
    assert str(caught.value) == (
        f"400 Bad Request from PUT /api/v1/customers/u-1 (request id {REQUEST_ID}): {detail}"
    )
    assert caught.value.body == payload


def test_response_and_error_headers_are_looked_up_in_any_case(
    server: FakeServer,
) -> None:
    headers = {"X-RateLimit-Remaining": "7", "Retry-After": "0"}
    server.responder = json_reply(200, {}, headers)
    client = make_client("PipelinesClient", base_url=server.url, max_retries=0)
    response = _track_call(client)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers.get("X-RateLimit-Remaining") == "7"
    assert "retry-after" in response.headers and "RETRY-AFTER" in response.headers
    assert response.headers.get("X-Missing") is None
    assert dict(response.headers)["x-ratelimit-remaining"] == "7"  # names lower-cased

    async def call_async() -> Any:
        async with AsyncPipelinesClient(CDP_KEY, base_url=server.url) as client:
            return await client.track(**request_kwargs("pipelinesTrack"))

    assert asyncio.run(call_async()).headers["X-RateLimit-Remaining"] == "7"

    server.responder = json_reply(429, {}, {"Retry-After": "120"})
    with pytest.raises(RateLimitError) as caught:
        _track_call(client)
    assert caught.value.headers["Retry-After"] == "120"
    assert caught.value.headers.get("X-Request-Id") == REQUEST_ID


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_never_retried(server: FakeServer, status: int) -> None:
    server.fail_next(1, status=status)
    client = make_client("PipelinesClient", base_url=server.url, max_retries=5)
    client._sleep = sleeps = Sleeps()
    with pytest.raises(APIError) as caught:
        _track_call(client)
    assert caught.value.status_code == status
    assert len(server.requests) == 1
    assert sleeps.delays == []


def test_keep_alive_reuses_one_connection(server: FakeServer) -> None:
    with make_client("TrackClient", base_url=server.url) as client:
        for _ in range(5):
            client.track_customer_event(**request_kwargs("trackCustomerEvent"))
        client.delete_customer(**request_kwargs("deleteCustomer"))
    assert len(server.requests) == 6
    assert server.connections == 1


def test_message_id_is_identical_across_retries(server: FakeServer) -> None:
    server.fail_next(2, status=503)
    client = make_client("PipelinesClient", base_url=server.url, max_retries=2)
    client._sleep = Sleeps()
    kwargs = request_kwargs("pipelinesTrack")
    body = plain(kwargs.pop("body"))
    body.pop("messageId", None)
    original = copy.deepcopy(body)
    client.track(body, **kwargs)
    assert body == original, "the caller's body must not be changed"
    ids = {r.json["messageId"] for r in server.requests}
    assert len(server.requests) == 3 and len(ids) == 1
    uuid.UUID(ids.pop())
    assert len({r.body for r in server.requests}) == 1

    # A second call gets a new id.
    server.reset()
    client.track(body, **kwargs)
    assert server.requests[0].json["messageId"] not in ids


def _batch_body(items: int, blob: int = 10) -> dict[str, Any]:
    body = plain(request_kwargs("pipelinesBatch")["body"])
    template = (body.get("batch") or [{}])[0]
    template.pop("messageId", None)
    template = {**template, "properties": {"blob": "x" * blob}}
    return {**body, "batch": [copy.deepcopy(template) for _ in range(items)]}


def test_batch_items_get_their_own_stable_message_ids(server: FakeServer) -> None:
    server.fail_next(1, status=500)
    client = make_client("PipelinesClient", base_url=server.url, max_retries=1)
    client._sleep = Sleeps()
    client.batch(_batch_body(3))
    first, second = (r.json for r in server.requests)
    ids = [item["messageId"] for item in first["batch"]]
    assert len(set(ids)) == 3
    assert [item["messageId"] for item in second["batch"]] == ids
    assert "messageId" not in first  # the envelope's schema has no such field


def _limit(operation_id: str, name: str) -> int:
    value = spec_operations()[operation_id].limits()[name]
    assert isinstance(value, int)
    return value


def test_pipelines_request_over_limit_is_not_sent(server: FakeServer) -> None:
    limit = _limit("pipelinesTrack", "max_request_bytes")
    client = make_client("PipelinesClient", base_url=server.url)
    body = plain(request_kwargs("pipelinesTrack")["body"])
    body["properties"] = {"blob": "x" * limit}
    with pytest.raises(PayloadTooLargeError) as caught:
        client.track(body)
    assert caught.value.limit == limit
    assert caught.value.size > limit
    assert caught.value.index is None
    assert server.requests == []

    body["properties"] = {"blob": "x" * (limit - 4096)}  # comfortably under: sent
    client.track(body)
    assert len(server.requests) == 1


def test_pipelines_batch_over_limit_is_not_sent(server: FakeServer) -> None:
    limit = _limit("pipelinesBatch", "max_request_bytes")
    item_limit = _limit("pipelinesBatch", "max_item_bytes")
    blob = item_limit - 4096
    client = make_client("PipelinesClient", base_url=server.url)
    with pytest.raises(PayloadTooLargeError) as caught:
        client.batch(_batch_body(limit // blob + 1, blob))
    assert caught.value.limit == limit
    assert caught.value.index is None
    assert server.requests == []


def test_pipelines_batch_item_over_limit_is_not_sent(server: FakeServer) -> None:
    item_limit = _limit("pipelinesBatch", "max_item_bytes")
    body = _batch_body(3)
    body["batch"][1]["properties"] = {"blob": "x" * item_limit}
    client = make_client("PipelinesClient", base_url=server.url)
    with pytest.raises(PayloadTooLargeError) as caught:
        client.batch(body)
    assert caught.value.limit == item_limit
    assert caught.value.index == 1
    assert server.requests == []


def test_track_v2_batch_over_limit_is_not_sent(server: FakeServer) -> None:
    limit = _limit("trackBatchV2", "max_request_bytes")
    item_limit = _limit("trackBatchV2", "max_item_bytes")
    body = plain(request_kwargs("trackBatchV2")["body"])
    item = body["batch"][0]
    # Each item is under the item limit, the whole batch is over the request limit.
    item = {**item, "attributes": {"blob": "x" * (item_limit - 4096)}}
    body["batch"] = [
        copy.deepcopy(item) for _ in range(limit // (item_limit - 4096) + 1)
    ]
    client = make_client("TrackClient", base_url=server.url)
    with pytest.raises(PayloadTooLargeError) as caught:
        client.track_batch_v2(body)
    assert caught.value.limit == limit
    assert caught.value.index is None
    assert server.requests == []


def test_track_v2_batch_207_is_decoded_with_its_own_schema(server: FakeServer) -> None:
    """trackBatchV2 declares a 200 with no content and a 207 listing the refused
    operations: each status is read as declared (the method's type stays Any)."""
    from customerio_client.models import BatchV2Refusals

    body = plain(request_kwargs("trackBatchV2")["body"])
    refused = {"errors": [{"batch_index": 1, "reason": "invalid"}]}
    client = make_client("TrackClient", base_url=server.url)
    server.responder = json_reply(207, refused)
    partial = client.track_batch_v2(body).data
    server.responder = json_reply(200, {})
    accepted = client.track_batch_v2(body).data
    assert isinstance(partial, BatchV2Refusals)
    assert partial.to_dict() == refused
    assert accepted == {}  # no content declared: the JSON as it came, as before


CREDENTIAL_CASES = [
    (TrackClient, ("", TRACK_KEY)),
    (TrackClient, (SITE_ID, "")),
    (TrackClient, (SITE_ID, "   ")),
    (TrackClient, (None, TRACK_KEY)),
    (AppClient, ("",)),
    (AppClient, (None,)),
    (PipelinesClient, ("",)),
    (PipelinesClient, (None,)),
    (AsyncTrackClient, (SITE_ID, "")),
    (AsyncAppClient, ("",)),
    (AsyncPipelinesClient, ("",)),
]


@pytest.mark.parametrize(("cls", "credentials"), CREDENTIAL_CASES)
def test_missing_credential_fails_at_construction(
    cls: Any, credentials: tuple[Any, ...]
) -> None:
    with pytest.raises(MissingCredentialError) as caught:
        cls(*credentials, base_url="http://127.0.0.1:9")
    for secret in SECRETS:
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)


BAD_CREDENTIALS = {
    "a trailing newline": APP_KEY + "\n",
    "a leading space": " " + APP_KEY,
    "a line break inside": APP_KEY[:4] + "\r\n" + APP_KEY[4:],
    "a character outside ASCII": APP_KEY + "\u20ac",
    "a NUL": APP_KEY + "\x00",
}


@pytest.mark.parametrize("problem", sorted(BAD_CREDENTIALS))
@pytest.mark.parametrize(
    "cls", [TrackClient, AppClient, PipelinesClient, AsyncAppClient]
)
def test_a_credential_no_header_can_carry_fails_at_construction(
    cls: Any, problem: str
) -> None:
    """A key read from a file with its newline used to reach the HTTP layer, whose error
    quoted the header (key included) or which sent it mangled and got a 401."""
    bad = BAD_CREDENTIALS[problem]
    credentials = (SITE_ID, bad) if cls is TrackClient else (bad,)
    with pytest.raises(InvalidCredentialError) as caught:
        cls(*credentials, base_url="http://127.0.0.1:9")
    assert isinstance(caught.value, ValueError)
    assert caught.value.credential == "api_key"
    for text in (str(caught.value), repr(caught.value)):
        assert APP_KEY[:8] not in text


@pytest.mark.parametrize("value", ["token\n", "ab\r\nX-Injected: 1", "caf\u00e9"])
def test_a_header_value_no_request_can_carry_is_refused_without_quoting_it(
    server: FakeServer, value: str
) -> None:
    client = AppClient(APP_KEY, base_url=server.url)
    with pytest.raises(ValueError) as caught:
        client.list_segments(extra_headers={"X-Secret": value})
    assert "'X-Secret'" in str(caught.value)
    assert value.strip() not in str(caught.value)
    with pytest.raises(ValueError):
        AppClient(APP_KEY, base_url=server.url, default_headers={"X-Secret": value})
    assert server.requests == []


OWN_SECRETS = {
    "TrackClient": (SITE_ID, TRACK_KEY, f"{SITE_ID}:{TRACK_KEY}"),
    "AppClient": (APP_KEY,),
    "PipelinesClient": (CDP_KEY, f"{CDP_KEY}:"),
}


@pytest.mark.parametrize("client_name", ["TrackClient", "AppClient", "PipelinesClient"])
def test_secrets_never_in_reprs_or_messages(
    server: FakeServer, client_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    def echo(request: RecordedRequest) -> Any:
        # A careless server that quotes the credentials it received in its error text.
        auth = request.headers.get("authorization", "")
        echoed = " ".join(OWN_SECRETS[client_name])
        text = f"invalid credentials {auth} ({auth.split(' ')[-1]}) {echoed}"
        return (
            401,
            {"Content-Type": "application/json"},
            json.dumps({"meta": {"error": text}}).encode(),
        )

    server.responder = echo
    operation_id = next(
        op for op, i in sorted(OPERATIONS.items()) if i.client == client_name
    )
    info = OPERATIONS[operation_id]
    caplog.set_level(logging.DEBUG, logger="customerio_client")
    client = make_client(client_name, base_url=server.url, max_retries=1)
    client._sleep = Sleeps()
    with pytest.raises(AuthenticationError) as caught:
        getattr(client, info.method)(**request_kwargs(operation_id))
    server.responder = json_reply(500, None)
    with pytest.raises(InternalServerError) as retried:
        getattr(client, info.method)(**request_kwargs(operation_id))
    texts = [
        repr(client),
        str(client),
        str(caught.value),
        repr(caught.value),
        caught.value.message,
        str(retried.value),
        caplog.text,
    ]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)
    assert "[REDACTED]" in str(caught.value)


def test_secrets_not_in_connection_errors() -> None:
    server = FakeServer().start()
    url = server.url
    server.stop()  # nothing listens there any more
    client = make_client("TrackClient", base_url=url, max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        client.track_customer_event(**request_kwargs("trackCustomerEvent"))
    for secret in SECRETS:
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)


# ---- async (httpx) -------------------------------------------------------------------------


def test_an_async_client_serves_one_asyncio_run_after_another(
    server: FakeServer,
) -> None:
    """Each `asyncio.run` has its own event loop; the client's pooled connections belonged
    to the first, and the second call failed with "Event loop is closed"."""
    kwargs = request_kwargs("pipelinesIdentify")
    client = AsyncPipelinesClient(CDP_KEY, base_url=server.url)
    for _ in range(2):
        response = asyncio.run(client.identify(**copy.deepcopy(kwargs)))
        assert response.status_code == 200 and response.retries == 0
    asyncio.run(client.aclose())
    assert len(server.requests) == 2


def test_async_pipelines_client_on_the_same_server(server: FakeServer) -> None:
    server.fail_next(1, status=503)
    kwargs = request_kwargs("pipelinesIdentify")
    reply = response_body("pipelinesIdentify")
    server.responder = json_reply(200, reply)
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async def run() -> list[Any]:
        async with AsyncPipelinesClient(
            CDP_KEY, base_url=server.url, strict=True
        ) as client:
            client._sleep = sleep
            first = await client.identify(**copy.deepcopy(kwargs))
            second = await client.identify(**copy.deepcopy(kwargs))
            with pytest.raises(BadRequestError):
                server.fail_next(1, status=400)
                await client.identify(**copy.deepcopy(kwargs))
            return [first, second]

    first, second = asyncio.run(run())
    assert first.retries == 1 and second.retries == 0
    assert len(delays) == 1
    assert first.request_id == REQUEST_ID
    assert first.json() == json.loads(json.dumps(plain(reply)))
    requests = server.requests
    assert len(requests) == 4
    for sent in requests:
        assert (
            sent.method == "POST" and sent.path == OPERATIONS["pipelinesIdentify"].path
        )
        assert sent.headers["authorization"] == EXPECTED_AUTH["PipelinesClient"]
        assert sent.headers["x-strict-mode"] == "1"
        assert sent.headers["content-type"] == "application/json"
        assert sent.headers["user-agent"].startswith("customerio_client/")
    # The retry re-sent the same message id; the next call made a new one.
    assert requests[0].json["messageId"] == requests[1].json["messageId"]
    assert requests[2].json["messageId"] != requests[1].json["messageId"]
    expected = json.loads(json.dumps(plain(kwargs["body"])))
    assert (
        _without_message_ids(requests[2].json, expected, "messageId", None) == expected
    )
    assert server.connections == 1
