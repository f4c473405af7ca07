"""Generated models against the Customer.io specs: every example round-trips exactly."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from customerio_client import UNSET, models
from support.packages import ROOT, build_api

from generator import ir
from generator.ir.examples import example_ok

API, _ = build_api([ROOT / "specs"], package="customerio_client")


def _examples() -> list[tuple[str, str, Any]]:
    api = API
    rows: list[tuple[str, str, Any]] = []
    for op in api.operations:
        if op.body is None:
            continue
        schema = op.body.schema
        for ex in op.body.examples:
            rows.append((f"{op.operation_id}:{ex.name}", schema.class_name, ex.value))
    for model in api.models:
        if model.kind == ir.OBJECT and model.has_example:
            rows.append(
                (f"{model.class_name}:example", model.class_name, model.example)
            )
    return sorted(rows, key=lambda r: r[0])


EXAMPLES = _examples()


def decode(class_name: str, value: Any) -> Any:
    if hasattr(models, f"decode_{class_name}"):
        return getattr(models, f"decode_{class_name}")(value)
    return getattr(models, class_name).from_dict(value)


def test_the_specs_have_examples_to_check() -> None:
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize(
    "name,class_name,example", EXAMPLES, ids=[r[0] for r in EXAMPLES]
)
def test_every_spec_example_round_trips_exactly(
    name: str, class_name: str, example: Any
) -> None:
    assert class_name, f"{name}: body is not a model"
    model = next(m for m in API.models if m.class_name == class_name)
    if not example_ok(example, model, {m.class_name: m for m in API.models}):
        # seed 001's group example has date-times with a trailing comma: a model holds
        # datetimes, so such text does not decode (the client reports it, typed)
        with pytest.raises(ValueError, match="ISO-8601"):
            decode(class_name, example)
        return
    decoded = decode(class_name, example)
    assert not isinstance(decoded, dict), f"{name}: discriminator did not pick a model"
    again = decoded.to_dict()
    # fields the spec allows one value for are filled in where the example leaves them out
    model = next(m for m in API.models if m.class_name == type(decoded).__name__)
    constants = {
        p.name: p.schema.enum_values[0]
        for p in model.properties
        if p.schema.is_constant
    }
    expected = {**constants, **example}
    assert json.dumps(again, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_discriminated_event_unions_decode_to_the_right_model() -> None:
    call = models.decode_TrackEmailEventRequest(
        {
            "type": "track",
            "event": "Email Opened",
            "userId": "u",
            "properties": {"email_id": "e"},
        }
    )
    assert isinstance(call, models.EmailOpened)
    item = models.decode_BatchItem({"type": "identify", "userId": "u"})
    assert isinstance(item, models.Identify)


def test_unknown_response_fields_are_kept() -> None:
    sent = models.SendResponse.from_dict(
        {"delivery_id": "d", "queued_at": 1, "brand_new": {"x": 1}}
    )
    assert sent.additional_properties == {"brand_new": {"x": 1}}
    assert sent.to_dict()["brand_new"] == {"x": 1}


def test_unset_is_omitted_and_explicit_null_is_sent() -> None:
    ident = models.Identify(user_id="u")
    assert "traits" not in ident.to_dict() and ident.traits is UNSET
    body = models.Track(event="e", user_id="u", integrations=None).to_dict()
    assert body["integrations"] is None


def test_unset_narrows_for_type_checkers_and_is_never_sent(tmp_path: Path) -> None:
    """`x is not UNSET` narrows an optional field under mypy --strict (as isinstance
    does), so user code needs no cast; UNSET where a value must be is an error, never
    the text "UNSET"."""
    user = tmp_path / "user.py"
    user.write_text(textwrap.dedent("""
        from customerio_client import UNSET, Unset
        from customerio_client.models import Identify

        def plan(person: Identify) -> str:
            if person.anonymous_id is not UNSET and person.anonymous_id is not None:
                return person.anonymous_id.upper()
            return "none"

        def traits(person: Identify) -> int:
            if isinstance(person.traits, Unset) or person.traits is None:
                return 0
            return len(person.traits)
        """))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "c")]
        + [str(user)],
        env={"MYPYPATH": str(ROOT / "generated"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with pytest.raises(TypeError, match="UNSET is no JSON value"):
        models.Track(event="e", user_id="u", properties={"tags": [UNSET]}).to_dict()
    assert f"{UNSET}" == str(UNSET) == repr(UNSET) == "UNSET"


def test_datetimes_are_accepted_and_sent_as_iso8601() -> None:
    when = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.timezone.utc)
    body = models.Track(event="e", user_id="u", timestamp=when).to_dict()
    assert body["timestamp"] == "2024-01-15T10:30:00.000Z"
    back = models.Track.from_dict(body)
    assert back.timestamp == when


def test_an_enum_value_the_spec_does_not_list_still_parses() -> None:
    known = models.DeviceRequest.from_dict({"device": {"id": "t", "platform": "ios"}})
    assert known.device.platform is models.DeviceRequestDevicePlatform.IOS
    new = models.DeviceRequest.from_dict(
        {"device": {"id": "t", "platform": "visionos"}}
    )
    assert new.device.platform == "visionos"
    assert not isinstance(new.device.platform, models.DeviceRequestDevicePlatform)
    assert new.to_dict() == {"device": {"id": "t", "platform": "visionos"}}


# ---- a body that does not match: which field of which model --------------------------------

OBJECT_MODELS = sorted(
    m.class_name for m in API.models if m.kind == ir.OBJECT and m.properties
)


def _decode_error(class_name: str, value: Any) -> tuple[Exception, tuple[str, str]]:
    from customerio_client._serde import where_decoding_failed

    with pytest.raises((KeyError, TypeError, ValueError, AttributeError)) as caught:
        getattr(models, class_name).from_dict(value)
    return caught.value, where_decoding_failed(caught.value.__traceback__)


@pytest.mark.parametrize("class_name", OBJECT_MODELS)
@pytest.mark.parametrize(
    "value, kind", [(5, "a number"), ("text", "a string"), ([{}], "an array")]
)
def test_a_model_given_no_object_says_so(
    class_name: str, value: Any, kind: str
) -> None:
    # the model's own from_dict says it (a user may call it on a webhook's payload), not
    # only a client call that reads the traceback
    error, (where, wrong) = _decode_error(class_name, value)
    assert isinstance(error, TypeError)
    assert str(error) == f"{class_name} wants an object, got {kind}"
    assert (where, wrong) == ("", str(error))


@pytest.mark.parametrize(
    "class_name",
    [
        name
        for name in OBJECT_MODELS
        if any(
            p.required
            for p in next(m for m in API.models if m.class_name == name).properties
        )
    ],
)
def test_a_missing_required_field_is_named_with_its_model(class_name: str) -> None:
    # every model's generated from_dict is read the same way: the field is found from
    # the line the decoding failed on, whatever the shape of the field's expression
    error, (where, wrong) = _decode_error(class_name, {})
    assert isinstance(error, KeyError) and not wrong
    assert where == f'field "{error.args[0]}" of {class_name}'


# ---- a field of the wrong JSON kind: never converted, always named ------------------------

MODELS = {m.class_name: m for m in API.models}


def _minimal(s: ir.Schema) -> Any:
    """A small JSON value of `s` that decodes: its required fields only."""
    s = MODELS.get(s.ref or s.class_name, s)
    if s.kind == ir.OBJECT:
        return {p.name: _minimal(p.schema) for p in s.properties if p.required}
    if s.kind == ir.UNION:
        if s.discriminator:
            tag, cls = s.discriminator.mapping[0]
            return {**_minimal(MODELS[cls]), s.discriminator.property_name: tag}
        return _minimal(s.variants[0])
    if s.kind == ir.ARRAY:
        return []
    if s.kind == ir.MAP:
        return {}
    if s.kind == ir.ENUM:
        return s.enum_values[0]
    if s.kind == ir.PRIMITIVE:
        if s.format in ("date-time", "date"):
            return "2024-01-15T10:30:00Z" if s.format == "date-time" else "2024-01-15"
        return {"string": "x", "integer": 1, "number": 1.5, "boolean": True}.get(s.type)
    return None


def _takes_objects_only(s: ir.Schema) -> bool:
    """Whether every value of `s` is a JSON object (a model, a map, a union of models)."""
    s = MODELS.get(s.ref or s.class_name, s)
    if s.kind == ir.UNION:
        return bool(s.discriminator and s.discriminator.objects_only)
    return s.kind in (ir.OBJECT, ir.MAP)


def _wants_an_object(s: ir.Schema) -> str:
    """What decoding a value of `s` that is no object says (its name, when it has one)."""
    return f"{s.class_name} wants an object" if s.class_name else "expected an object"


NOT_ARRAYS = [("text", "a string"), (5, "a number"), ({"a": 1}, "an object")]
NOT_OBJECTS = [([["a", 1]], "an array"), ("ab", "a string")]


def _wrong_kinds() -> list[tuple[str, str, Any, str]]:
    """(model, field, a value of the wrong kind, what decoding it says) for every field of
    every object model that is an array, an object or a map, or a union of objects."""
    rows = []
    for m in API.models:
        if m.kind != ir.OBJECT:
            continue
        for p in m.properties:
            s = p.schema
            if s.kind == ir.ARRAY:
                rows += [
                    (m.class_name, p.name, value, f"expected an array, got {kind}")
                    for value, kind in NOT_ARRAYS
                ]
            elif _takes_objects_only(s):
                rows += [
                    (m.class_name, p.name, value, f"{_wants_an_object(s)}, got {kind}")
                    for value, kind in NOT_OBJECTS
                ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[3]))


WRONG_KINDS = _wrong_kinds()


@pytest.mark.parametrize(
    "class_name,name,value,says",
    WRONG_KINDS,
    ids=[f"{c}.{n}-{s.rpartition(' ')[2]}" for c, n, _, s in WRONG_KINDS],
)
def test_a_field_of_the_wrong_json_kind_is_named_and_never_converted(
    class_name: str, name: str, value: Any, says: str
) -> None:
    """`list("text")` would be its characters and `dict([["a", 1]])` an object: each
    raises instead, and says which field wanted what and what came (in JSON's words)."""
    data = _minimal(MODELS[class_name])
    decode(class_name, data)  # the rest of the object decodes
    error, (where, wrong) = _decode_error(class_name, {**data, name: value})
    assert (where, wrong or str(error)) == (f'field "{name}" of {class_name}', says)


def _wrong_items() -> list[tuple[str, str, str]]:
    """(model, array field, what an item that is no object says) for every array field
    whose items are objects (models, maps, unions of models)."""
    return sorted(
        (m.class_name, p.name, f"{_wants_an_object(p.schema.items)}, got a string")
        for m in API.models
        if m.kind == ir.OBJECT
        for p in m.properties
        if p.schema.kind == ir.ARRAY
        and p.schema.items is not None
        and _takes_objects_only(p.schema.items)
    )


WRONG_ITEMS = _wrong_items()


def test_there_are_array_and_object_fields_to_check() -> None:
    wanted = {says.split(",")[0] for _, _, _, says in WRONG_KINDS}
    assert {"expected an array", "expected an object"} <= wanted
    assert "Context wants an object" in wanted  # a model
    assert len(WRONG_KINDS) >= 300
    in_arrays = {says.split(",")[0] for _, _, says in WRONG_ITEMS}
    assert {"expected an object", "PersonIdentifiers wants an object"} <= in_arrays
    assert {"BatchItem wants an object", "EntityV2 wants an object"} <= in_arrays


@pytest.mark.parametrize(
    "class_name,name,says", WRONG_ITEMS, ids=[f"{c}.{n}" for c, n, _ in WRONG_ITEMS]
)
def test_an_array_item_of_the_wrong_json_kind_is_named(
    class_name: str, name: str, says: str
) -> None:
    field = next(p for p in MODELS[class_name].properties if p.name == name)
    assert field.schema.items is not None
    data = {
        **_minimal(MODELS[class_name]),
        name: [_minimal(field.schema.items), "text"],
    }
    error, (where, wrong) = _decode_error(class_name, data)
    assert (where, wrong or str(error)) == (f'field "{name}" of {class_name}', says)


def test_arrays_and_objects_of_the_right_kind_decode_to_copies() -> None:
    emails, data = ["a@example.com"], {"plan": "pro"}
    trigger = models.BroadcastTrigger.from_dict({"emails": emails, "data": data})
    assert trigger.emails == emails and type(trigger.emails) is list
    assert trigger.data == data and type(trigger.data) is dict
    assert trigger.emails is not emails and trigger.data is not data
