"""Tests for the semantic-event constructors (templates/package/events.py.j2).

The generated `customerio_client.events` is checked against the specs themselves: every
constructor's output validates against its event's schema in specs/, every example in the
specs comes out exactly, errors name the event and the field, and the clients run
`check_track_call` before anything is sent (real HTTP to the generated FakeServer).
"""

from __future__ import annotations

import copy
import datetime
import inspect
import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from customerio_client import PipelinesClient, events
from customerio_client._fake_server import FakeServer
from customerio_client.events import EVENTS, SemanticEventError
from customerio_client.models import (
    DeviceContextDeviceType,
    ReportDeliveryEventPropertiesMetric,
)
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from support.packages import SPECS

BUILT = "Built by ciogen"
API_KEY = "key-SECRET-0123456789"


# ---- the specs, read independently of the generator ---------------------------------------


def _docs() -> dict[str, Any]:
    return {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(SPECS.glob("*.yaml"))
    }


DOCS = _docs()


def _uri(name: str) -> str:
    return (SPECS / name).as_uri()


def _registry() -> Registry:  # type: ignore[type-arg]
    resources = []
    for name, doc in DOCS.items():
        spec = DRAFT202012 if str(doc["openapi"]).startswith("3.1") else DRAFT4
        resources.append(
            (_uri(name), Resource.from_contents(doc, default_specification=spec))
        )
    return Registry().with_resources(resources)


REGISTRY = _registry()


def _single(schema: Any) -> Any:
    if isinstance(schema, dict):
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1:
            return schema["enum"][0]
    return None


def _spec_events() -> dict[str, tuple[str, str]]:
    """Event name -> (spec file, schema name), for every track-call schema with a fixed event."""
    out: dict[str, tuple[str, str]] = {}
    for name, doc in DOCS.items():
        for schema_name, schema in (
            doc.get("components", {}).get("schemas") or {}
        ).items():
            props = schema.get("properties") or {}
            if _single(props.get("type")) == "track" and isinstance(
                _single(props.get("event")), str
            ):
                out[_single(props["event"])] = (name, schema_name)
    return out


SPEC_EVENTS = _spec_events()


def _examples() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(summary, key, value) of every request-body example whose event is a semantic event."""
    for doc in DOCS.values():
        for ops in (doc.get("paths") or {}).values():
            for op in ops.values():
                if not isinstance(op, dict):
                    continue
                for media in (
                    (op.get("requestBody") or {}).get("content") or {}
                ).values():
                    for key, ex in (media.get("examples") or {}).items():
                        value = ex.get("value")
                        if (
                            isinstance(value, dict)
                            and value.get("event") in SPEC_EVENTS
                        ):
                            yield ex.get("summary") or "", key, value


EXAMPLES = list(_examples())
SEED_EXAMPLES = [(k, v) for s, k, v in EXAMPLES if BUILT not in s]


def validate_against_spec(payload: dict[str, Any]) -> None:
    file, schema_name = SPEC_EVENTS[payload["event"]]
    cls = (
        OAS31Validator
        if str(DOCS[file]["openapi"]).startswith("3.1")
        else OAS30Validator
    )
    ref = {"$ref": f"{_uri(file)}#/components/schemas/{schema_name}"}
    cls(ref, registry=REGISTRY).validate(json.loads(json.dumps(payload)))


# ---- turning a track call back into constructor arguments ----------------------------------


def _location(payload: dict[str, Any], location: str) -> Any:
    node: Any = payload
    if location == "top":
        return node
    for part in location.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def kwargs_for(example: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments that should give `example` back, using only EVENTS."""
    rest = copy.deepcopy(example)
    spec = EVENTS[rest["event"]]
    kwargs: dict[str, Any] = {}
    for f in spec.fields:
        box = _location(rest, f.location)
        if isinstance(box, dict) and f.name in box:
            kwargs[f.argument] = box.pop(f.name)
    for key, value in spec.fixed:
        assert rest.pop(key) == value
    props = rest.pop("properties", None)
    if props:
        kwargs["extra_properties"] = props
    ctx = rest.pop("context", None)
    if isinstance(ctx, dict):
        ctx = {
            k: v
            for k, v in ctx.items()
            if not (
                isinstance(v, dict)
                and not v
                and k in {f.location.split(".", 1)[1] for f in spec.context}
            )
        }
        if ctx:
            kwargs["context"] = ctx
    assert not rest, f"example keys no constructor argument covers: {sorted(rest)}"
    return kwargs


def sample(f: Any) -> Any:
    """A value that satisfies a field's check (first one that does)."""
    candidates: list[Any] = list(f.choices) + ["x", 7, 1.5, True, {}, [], None]
    if f.format == "date-time":
        candidates.insert(0, "2024-01-15T10:30:00.000Z")
    for c in candidates:
        if f.check(c):
            return c
    raise AssertionError(f"no sample value for {f.path}")


def minimal_kwargs(name: str) -> dict[str, Any]:
    spec = EVENTS[name]
    kwargs = {f.argument: sample(f) for f in spec.fields if f.required}
    if spec.identity and not spec.identity_required:
        f = next(f for f in spec.fields if f.name == spec.identity[0])
        kwargs[f.argument] = sample(f)
    return kwargs


def construct(name: str, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = getattr(events, EVENTS[name].constructor)(**kwargs)
    return result


def roundtrip(value: Any) -> Any:
    return json.loads(json.dumps(value))


# ---- the registry mirrors the specs ----------------------------------------------------------


def test_registry_has_every_spec_event() -> None:
    assert len(SPEC_EVENTS) == 22
    assert set(EVENTS) == set(SPEC_EVENTS)
    for name, spec in EVENTS.items():
        assert spec.name == name
        assert spec.model == SPEC_EVENTS[name][1]
        assert callable(getattr(events, spec.constructor))
        assert spec.constructor in events.__all__
        assert dict(spec.fixed) == {"type": "track", "event": name}


def test_registry_matches_schema_requirements() -> None:
    for name, (file, schema_name) in SPEC_EVENTS.items():
        schema = DOCS[file]["components"]["schemas"][schema_name]
        spec = EVENTS[name]
        props_schema = schema["properties"].get("properties", {})
        if "$ref" in props_schema:  # not used by these specs, but do not guess
            pytest.fail(f"{name}: properties is a $ref")
        assert set(spec.required_properties) == set(props_schema.get("required", []))
        assert {f.name for f in spec.properties} == set(
            props_schema.get("properties", {})
        )
        assert spec.properties_required == ("properties" in schema.get("required", []))
        assert spec.extra_properties == (
            props_schema.get("additionalProperties", True) is not False
        )
        ident = [k for k in ("userId", "anonymousId") if k in schema["properties"]]
        assert spec.identity == tuple(ident)
        assert set(spec.identity_required) == set(ident) & set(
            schema.get("required", [])
        )


def test_constructor_signatures_follow_the_registry() -> None:
    for spec in EVENTS.values():
        params = inspect.signature(getattr(events, spec.constructor)).parameters
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
        for f in spec.fields:
            assert f.argument in params
            required = params[f.argument].default is inspect.Parameter.empty
            assert required == f.required, (spec.name, f.argument)
        assert ("extra_properties" in params) == spec.extra_properties
        for fixed in ("timestamp", "context", "integrations", "message_id"):
            assert fixed in params
        ids = {"userId": "user_id", "anonymousId": "anonymous_id"}
        assert {a for k, a in ids.items() if a in params} == {
            ids[k] for k in spec.identity
        }


# ---- output validates against the specs ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPEC_EVENTS))
def test_minimal_call_validates_against_spec(name: str) -> None:
    payload = construct(name, **minimal_kwargs(name))
    assert payload["type"] == "track" and payload["event"] == name
    validate_against_spec(payload)
    assert roundtrip(payload) == payload


@pytest.mark.parametrize("name", sorted(SPEC_EVENTS))
def test_full_call_validates_against_spec(name: str) -> None:
    spec = EVENTS[name]
    kwargs = {f.argument: sample(f) for f in spec.fields}
    kwargs["timestamp"] = datetime.datetime(
        2024,
        1,
        15,
        11,
        30,
        0,
        123456,
        tzinfo=datetime.timezone(datetime.timedelta(hours=1)),
    )
    kwargs["integrations"] = {"All": False, "Segment": True}
    kwargs["context"] = {"ip": "192.0.2.1", "traits": {"email": "a@example.com"}}
    if spec.extra_properties:
        kwargs["extra_properties"] = {"custom_flag": True}
    payload = construct(name, **kwargs)
    validate_against_spec(payload)
    assert payload["timestamp"] == "2024-01-15T10:30:00.123456Z"
    assert payload["context"]["ip"] == "192.0.2.1"
    assert payload["integrations"] == {"All": False, "Segment": True}
    for f in spec.fields:
        assert _location(payload, f.location)[f.name] == kwargs[f.argument] or f.format


def test_seed_examples_are_found() -> None:
    # the three curl bodies of seeds 000, 002 and 003 (specs/README.md, Examples)
    assert len(SEED_EXAMPLES) == 3
    assert len({v["event"] for _, _, v in EXAMPLES}) == 22


@pytest.mark.parametrize(
    "key,example", SEED_EXAMPLES, ids=[k for k, _ in SEED_EXAMPLES]
)
def test_seed_example_comes_out_exactly(key: str, example: dict[str, Any]) -> None:
    payload = construct(example["event"], **kwargs_for(example))
    assert roundtrip(payload) == example
    validate_against_spec(payload)


@pytest.mark.parametrize(
    "key,example", [(k, v) for _, k, v in EXAMPLES], ids=[k for _, k, _ in EXAMPLES]
)
def test_every_spec_example_comes_out_exactly(
    key: str, example: dict[str, Any]
) -> None:
    assert roundtrip(construct(example["event"], **kwargs_for(example))) == example


def test_check_track_call_accepts_every_spec_example() -> None:
    for _, _, example in EXAMPLES:
        events.check_track_call(example)
        assert events.validate_event(example) is EVENTS[example["event"]]


# ---- where the fields go ----------------------------------------------------------------------


def _device_spec_names() -> list[str]:
    return [
        n
        for n, s in EVENTS.items()
        if any(f.location == "context.device" for f in s.context)
    ]


def test_device_events_put_token_and_platform_under_context_device() -> None:
    names = _device_spec_names()
    assert sorted(names) == ["Device Created or Updated", "Device Deleted"]
    for ctor in (getattr(events, EVENTS[n].constructor) for n in names):
        payload = ctor(
            user_id="42",
            device_token="tok-1",
            device_type=DeviceContextDeviceType.ANDROID,
        )
        assert payload["context"] == {"device": {"token": "tok-1", "type": "android"}}
        assert "properties" not in payload
        raw = ctor(
            user_id="42",
            device_token="tok-1",
            device_type="ios",
            context={"device": {"model": "Pixel"}, "locale": "en"},
        )
        assert raw["context"] == {
            "device": {"model": "Pixel", "token": "tok-1", "type": "ios"},
            "locale": "en",
        }
        validate_against_spec(raw)


def test_object_and_relationship_deleted_carry_object_ids() -> None:
    obj = events.object_deleted(anonymous_id="acme", object_id="acme", object_type_id=2)
    assert obj["anonymousId"] == "acme" and "userId" not in obj
    assert obj["properties"] == {"objectId": "acme", "objectTypeId": 2}
    rel = events.relationship_deleted(user_id="42", object_id="acme")
    assert rel["userId"] == "42" and rel["properties"] == {"objectId": "acme"}
    validate_against_spec(obj)
    validate_against_spec(rel)


def test_report_content_event_carries_what_was_done_with_which_content() -> None:
    payload = events.report_content_event(
        anonymous_id="anon-1",
        action_type="clicked_content",
        content_id=5,
        template_id=12,
    )
    assert payload["event"] == "Report Content Event" and payload["type"] == "track"
    assert payload["properties"] == {
        "actionType": "clicked_content",
        "contentId": 5,
        "templateId": 12,
    }
    validate_against_spec(payload)
    assert events.validate_event(payload) is EVENTS["Report Content Event"]
    with pytest.raises(events.SemanticEventError):
        events.report_content_event(anonymous_id="a", action_type="scrolled_content")


def test_report_delivery_event_carries_delivery_id_and_metric() -> None:
    by_enum = events.report_delivery_event(
        anonymous_id="dlv_1",
        delivery_id="dlv_1",
        metric=ReportDeliveryEventPropertiesMetric.CLICKED,
    )
    by_raw = events.report_delivery_event(
        user_id="42", delivery_id="dlv_1", metric="clicked"
    )
    assert (
        by_enum["properties"]
        == by_raw["properties"]
        == {"deliveryId": "dlv_1", "metric": "clicked"}
    )
    validate_against_spec(by_enum)
    validate_against_spec(by_raw)


def test_timestamps_are_sent_in_utc_with_milliseconds_or_finer() -> None:
    """Milliseconds, or microseconds when the time has them: nothing it holds is cut off
    (a fraction finer than Python's microseconds cannot be held at all)."""
    tz = datetime.timezone(datetime.timedelta(hours=-5))
    cases = [
        (datetime.datetime(2024, 1, 15, 5, 30, tzinfo=tz), "2024-01-15T10:30:00.000Z"),
        ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00.000Z"),
        ("2024-01-15T12:30:00.5+02:00", "2024-01-15T10:30:00.500Z"),
        ("2024-01-15T10:30:00.123456789Z", "2024-01-15T10:30:00.123456Z"),
        ("2024-01-15T10:30:00.123400Z", "2024-01-15T10:30:00.123400Z"),
        (
            datetime.datetime(2024, 1, 15, 5, 30, 0, 7, tzinfo=tz),
            "2024-01-15T10:30:00.000007Z",
        ),
        ("2024-01-15T10:30:00.000Z", "2024-01-15T10:30:00.000Z"),
    ]
    for given, sent in cases:
        assert events.user_deleted(user_id="42", timestamp=given)["timestamp"] == sent


def test_none_leaves_optional_fields_out() -> None:
    payload = events.email_opened(
        user_id="u", email_id="m", email_subject=None, timestamp=None
    )
    assert payload == {
        "type": "track",
        "event": "Email Opened",
        "userId": "u",
        "properties": {"email_id": "m"},
    }


# ---- errors ----------------------------------------------------------------------------------


def _error(fn: Any, **kwargs: Any) -> SemanticEventError:
    with pytest.raises(SemanticEventError) as info:
        fn(**kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.event in str(err)
    return err


def test_missing_required_property() -> None:
    err = _error(events.email_opened, user_id="u")
    assert err.event == "Email Opened" and err.field == "properties.email_id"
    assert "email_id" in str(err)
    err = _error(events.report_delivery_event, anonymous_id="a", delivery_id="d")
    assert err.field == "properties.metric"
    err = _error(events.device_deleted, user_id="42")
    assert err.field == "context.device.token"
    err = _error(events.object_deleted, object_id="x")
    assert err.field == "anonymousId"


def test_missing_required_property_is_caught_for_every_event() -> None:
    for name, spec in EVENTS.items():
        full = minimal_kwargs(name)
        for key in full:
            partial = {k: v for k, v in full.items() if k != key}
            if not any(f.argument == key and f.required for f in spec.fields):
                continue
            err = _error(getattr(events, spec.constructor), **partial)
            assert err.event == name
            assert key in str(err)


def test_wrong_types() -> None:
    err = _error(events.email_opened, user_id="u", email_id=5)
    assert (
        err.field == "properties.email_id" and "str" in str(err) and "int" in str(err)
    )
    err = _error(
        events.object_deleted, anonymous_id="a", object_id="x", object_type_id=True
    )
    assert err.field == "properties.objectTypeId" and "bool" in str(err)
    err = _error(events.application_opened, user_id="u", from_background=1)
    assert err.field == "properties.from_background" and "int" in str(err)
    err = _error(
        events.report_delivery_event, user_id="u", delivery_id="d", metric="spammed"
    )
    assert err.field == "properties.metric" and "delivered" in str(err)
    err = _error(events.email_opened, user_id=42, email_id="m")
    assert err.field == "userId"
    err = _error(events.device_created_or_updated, user_id="u", device_token=None)
    assert err.field == "context.device.token"
    err = _error(events.user_deleted, user_id="u", timestamp="yesterday")
    assert err.field == "timestamp"


def test_values_never_appear_in_messages() -> None:
    err = _error(events.email_opened, user_id="u", email_id=987654321)
    assert "987654321" not in str(err)


def test_report_delivery_event_needs_no_identity() -> None:
    """Neither the spec nor the API requires an identity for Report Delivery Event."""
    payload = events.report_delivery_event(delivery_id="d", metric="opened")
    assert "userId" not in payload and "anonymousId" not in payload
    assert events.validate_event(payload) is EVENTS["Report Delivery Event"]
    with FakeServer() as server:
        PipelinesClient(API_KEY, base_url=server.url).track(body=payload)
        assert server.requests[0].json["properties"] == {
            "deliveryId": "d",
            "metric": "opened",
        }


def test_naive_datetimes_are_local_time_and_offsetless_text_is_refused() -> None:
    naive = datetime.datetime(2024, 1, 15, 10, 30)
    utc = naive.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert events.user_deleted(user_id="u", timestamp=naive)["timestamp"] == utc
    payload = events.user_deleted(user_id="u", extra_properties={"at": naive})
    assert payload["properties"]["at"] == utc
    # text has no time zone rule of its own: it must say its offset
    err = _error(events.user_deleted, user_id="u", timestamp="2024-01-15T10:30:00")
    assert err.field == "timestamp" and "offset" in str(err)


def test_wrong_calls_raise_semantic_event_error() -> None:
    err = _error(events.email_opened, user_id="u", email_id="m", emial_subject="s")
    assert err.field == "emial_subject" and "email_subject" in str(err)
    with pytest.raises(SemanticEventError):
        events.email_opened("u", "m")  # type: ignore[misc]
    err = _error(
        events.email_opened,
        user_id="u",
        email_id="m",
        extra_properties={"email_subject": "s"},
    )
    assert err.field == "properties.email_subject"


def test_check_track_call_on_payloads() -> None:
    good = events.email_opened(user_id="u", email_id="m")
    assert events.check_track_call(good) is True  # a semantic event, checked
    bad = copy.deepcopy(good)
    bad["properties"] = {"emial_id": "m"}
    with pytest.raises(SemanticEventError) as info:
        events.check_track_call(bad)
    assert info.value.field == "properties.email_id" and "emial_id" in str(info.value)
    bad["properties"] = ["m"]
    assert _error(events.check_track_call, payload=bad).field == "properties"
    del bad["properties"]
    assert _error(events.check_track_call, payload=bad).field == "properties"
    device = {
        "type": "track",
        "event": "Device Deleted",
        "userId": "u",
        "context": {"device": {}},
    }
    assert (
        _error(events.check_track_call, payload=device).field == "context.device.token"
    )
    device["context"] = {"device": "tok"}
    assert _error(events.check_track_call, payload=device).field == "context.device"
    custom = {"type": "track", "event": "Order Completed", "properties": ["anything"]}
    assert events.check_track_call(custom) is False  # no semantic event: not checked
    assert events.validate_event(custom) is None
    assert events.validate_event("not a mapping") is None


# ---- through the real client ------------------------------------------------------------------


def test_misspelt_property_is_caught_before_sending() -> None:
    with FakeServer() as server:
        client = PipelinesClient(API_KEY, base_url=server.url, strict=True)
        body = {
            "type": "track",
            "event": "Email Opened",
            "userId": "u",
            "properties": {"emial_id": "msg_1"},
        }
        with pytest.raises(SemanticEventError) as info:
            client.track(body=body)
        assert info.value.field == "properties.email_id"
        assert API_KEY not in str(info.value)
        assert server.requests == []


def test_custom_event_passes_untouched() -> None:
    with FakeServer() as server:
        client = PipelinesClient(API_KEY, base_url=server.url, strict=True)
        body = {
            "type": "track",
            "event": "Order Completed",
            "userId": "u",
            "properties": {"emial_id": 1, "total": 9.5},
            "messageId": "m-custom",
        }
        response = client.track(body=body)
        assert response.status_code == 200
        (request,) = server.requests
        assert request.path == "/v1/track"
        assert request.json == body


def test_constructor_output_accepted_by_track_and_batch() -> None:
    opened = events.email_opened(
        user_id="u",
        email_id="msg_1",
        message_id="m-1",
        timestamp="2024-01-15T10:30:00Z",
    )
    device = events.device_created_or_updated(
        user_id="42", device_token="tok", device_type="ios", message_id="m-2"
    )
    with FakeServer() as server:
        client = PipelinesClient(API_KEY, base_url=server.url, strict=True)
        client.track(body=opened)
        client.track(opened)
        client.batch(body={"batch": [opened, device]})
        track1, track2, batch = server.requests
        assert track1.json == opened and track2.json == opened
        assert track1.path == track2.path == "/v1/track"
        assert batch.path == "/v1/batch"
        assert batch.json["batch"] == [opened, device]
    assert opened["timestamp"] == "2024-01-15T10:30:00.000Z"


# ---- template behaviour not exercised by these specs -----------------------------------------


def _synthetic_module() -> types.ModuleType:
    """Render events.py.j2 for a made-up event that forbids extra properties and needs one
    of two identities."""
    from generator import ir
    from generator.ir.events import extract_events
    from generator.render.environment import make_environment

    def prim(t: str, fmt: str = "", nullable: bool = False) -> Any:
        return ir.Schema(kind=ir.PRIMITIVE, type=t, format=fmt, nullable=nullable)

    def fixed(v: str) -> Any:
        return ir.Schema(kind=ir.ENUM, enum_type="string", enum_values=(v,))

    def prop(name: str, py: str, schema: Any, required: bool) -> Any:
        return ir.Property(name=name, py_name=py, schema=schema, required=required)

    props_schema = ir.Schema(
        kind=ir.OBJECT,
        class_name="ThingProperties",
        additional_allowed=False,
        properties=(
            prop("code", "code", prim("string"), True),
            prop("count", "count", prim("integer"), False),
            prop("seenAt", "seen_at", prim("string", "date-time"), False),
            prop("note", "note", prim("string", nullable=True), False),
        ),
        required=("code",),
    )
    screen = ir.Schema(
        kind=ir.OBJECT,
        class_name="ThingScreen",
        required=("id",),
        properties=(prop("id", "id", prim("string"), True),),
    )
    context = ir.Schema(
        kind=ir.OBJECT,
        class_name="ThingContext",
        properties=(prop("screen", "screen", screen, False),),
    )
    model = ir.Schema(
        kind=ir.OBJECT,
        class_name="ThingHappened",
        description="A made-up event.",
        properties=(
            prop("type", "type_", fixed("track"), True),
            prop("event", "event", fixed("Thing Happened"), True),
            prop("userId", "user_id", prim("string"), False),
            prop("anonymousId", "anonymous_id", prim("string"), False),
            prop("properties", "properties", props_schema, True),
            prop("context", "context", context, False),
            prop("timestamp", "timestamp", prim("string", "date-time"), False),
        ),
        required=("type", "event", "properties"),
        required_one_of=(("userId",), ("anonymousId",)),
    )
    models = {m.class_name: m for m in (model, props_schema, screen, context)}
    api = ir.Api(
        title="t",
        name="T",
        package="customerio_client",
        version="0",
        spec_hash="0",
        surfaces=(),
        models=(),
        events=extract_events(models, []),
        spec_files=(),
        wire=ir.WireFacts(event_field="event", user_id_field="userId"),
    )
    source = make_environment().get_template("package/events.py.j2").render(api=api)
    module = types.ModuleType("customerio_client._synthetic_events")
    module.__package__ = "customerio_client"
    sys.modules[module.__name__] = module
    exec(compile(source, "<synthetic events.py>", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def synthetic() -> Iterator[types.ModuleType]:
    module = _synthetic_module()
    yield module
    sys.modules.pop(module.__name__, None)


def test_synthetic_unknown_property_refused_where_forbidden(synthetic: Any) -> None:
    params = inspect.signature(synthetic.thing_happened).parameters
    assert "extra_properties" not in params
    with pytest.raises(synthetic.SemanticEventError) as info:
        synthetic.thing_happened(user_id="u", code="c", screen_id="s", cuont=3)
    assert info.value.field == "cuont" and "count" in str(info.value)
    payload = synthetic.thing_happened(user_id="u", code="c", screen_id="s", count=3)
    assert payload["properties"] == {"code": "c", "count": 3}
    assert payload["context"] == {"screen": {"id": "s"}}
    payload["properties"]["cuont"] = 4
    with pytest.raises(synthetic.SemanticEventError) as info:
        synthetic.check_track_call(payload)
    assert info.value.event == "Thing Happened"
    assert info.value.field == "properties.cuont" and "count" in str(info.value)


def test_synthetic_date_time_nullable_and_identity(synthetic: Any) -> None:
    payload = synthetic.thing_happened(
        anonymous_id="a",
        code="c",
        screen_id="s",
        seen_at="2024-01-15T11:30:00+01:00",
        note=None,
    )
    assert payload["properties"] == {
        "code": "c",
        "seenAt": "2024-01-15T10:30:00.000Z",
        "note": None,
    }
    with pytest.raises(synthetic.SemanticEventError) as info:
        synthetic.thing_happened(code="c", screen_id="s")
    assert info.value.field == "userId or anonymousId"
    with pytest.raises(synthetic.SemanticEventError) as info:
        synthetic.thing_happened(user_id="u", code="c", screen_id="s", seen_at="2024")
    assert info.value.field == "properties.seenAt"
    spec = synthetic.EVENTS["Thing Happened"]
    assert spec.required_properties == ("code",)
    assert spec.required_context == ("context.screen.id",)
    assert not spec.extra_properties
