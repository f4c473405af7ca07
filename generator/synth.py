"""Example data from the IR: one valid request, response and event payload per spec item,
and the wire names of track calls and batch messages the events and testing modules use.

Used by `fixtures.py.j2`, `testing.py.j2` and `events.py.j2`. Every function here is pure and
deterministic: the same `Api` always gives the same values (no clock, no randomness, no set
iteration).

An example comes from the spec when it has one (only examples the loader marked `valid` and
whose date-time/date/email/uuid/uri strings really have that format; the first by name),
otherwise it is synthesized from the schema:

- objects get their required properties, the first alternative of `required_one_of`, and any
  property whose schema is a single fixed value (a one-value enum or const);
- enums give their first value, unions their first variant (with the discriminator value set);
- strings respect `format` (date-time, date, email, uuid, uri, ...), other strings are
  `example-<name>` built from the property or parameter name;
- arrays hold one item; maps are empty; recursion through required properties stops at
  `MAX_DEPTH` (an array there is empty, an object keeps only what it can still fill).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Set, Tuple

from . import ir
from .ir import ANY, ARRAY, ENUM, MAP, OBJECT, PRIMITIVE, UNION
from .render import _names_in, fits, py_literal

MAX_DEPTH = 8

# Values for string formats. Chosen to be valid under a strict format checker.
FORMAT_VALUES: Dict[str, str] = {
    "date-time": "2024-01-01T00:00:00.000Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "person@example.com",
    "idn-email": "person@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri-reference": "https://example.com/",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "ZXhhbXBsZQ==",
    "binary": "example",
    "password": "example-password",
    "regex": "^example$",
    "duration": "P1D",
    "json-pointer": "/example",
}

_PRIMITIVE_VALUES: Dict[str, Any] = {"integer": 1, "number": 1.5, "boolean": True, "null": None}


# ---- schemas -----------------------------------------------------------------------------


def resolve(schema: ir.Schema, api: ir.Api) -> ir.Schema:
    """The full named model behind a link (`ref`), or the schema itself."""
    if schema.ref:
        try:
            return api.model(schema.ref)
        except KeyError:
            return schema
    return schema


def _hint_text(hint: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", hint).strip("-")
    return f"example-{cleaned}" if cleaned else "example"


def _fits(schema: ir.Schema, value: Any) -> bool:
    """Does a spec-given default/example have the primitive's JSON type?"""
    t = schema.type
    if value is None:
        return schema.nullable or t == "null"
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    return False


def _fixed_value(schema: ir.Schema, api: ir.Api) -> Tuple[bool, Any]:
    """(True, value) when the schema admits exactly one value (a one-value enum or const)."""
    s = resolve(schema, api)
    if s.kind == ENUM and len(s.enum_values) == 1:
        return True, s.enum_values[0]
    return False, None


def synth(
    schema: ir.Schema, api: ir.Api, hint: str = "", *, mode: str = "request", depth: int = 0
) -> Any:
    """A deterministic example value for `schema`.

    `hint` (a property or parameter name) names generic strings; `mode` is "request" (leave
    out readOnly properties) or "response" (leave out writeOnly ones).
    """
    s = resolve(schema, api)
    k = s.kind
    if k == ENUM:
        return s.enum_values[0] if s.enum_values else None
    if k == PRIMITIVE:
        return _primitive(s, hint)
    if k == ARRAY:
        if depth >= MAX_DEPTH:
            return []
        item = s.items or ir.Schema(kind=ANY)
        return [synth(item, api, hint, mode=mode, depth=depth + 1)]
    if k == MAP:
        return {}
    if k == UNION:
        return _union(s, api, hint, mode, depth)
    if k == OBJECT:
        return _object(s, api, mode, depth)
    return _hint_text(hint)  # ANY: a plain string is as good as anything


def _primitive(s: ir.Schema, hint: str) -> Any:
    if s.type == "string" and s.format in FORMAT_VALUES:
        return FORMAT_VALUES[s.format]
    for present, value in ((s.has_example, s.example), (s.has_default, s.default)):
        if present and value is not None and _fits(s, value):
            return value
    return _PRIMITIVE_VALUES.get(s.type, _hint_text(hint))


def _union(s: ir.Schema, api: ir.Api, hint: str, mode: str, depth: int) -> Any:
    if not s.variants:
        return _hint_text(hint)
    variant = s.variants[0]
    value = synth(variant, api, hint, mode=mode, depth=depth)
    disc = s.discriminator
    if disc is not None and isinstance(value, dict):
        name = resolve(variant, api).class_name
        for wire_value, class_name in disc.mapping:
            if class_name == name:
                value[disc.property_name] = wire_value
                break
    return value


def _object(s: ir.Schema, api: ir.Api, mode: str, depth: int) -> Dict[str, Any]:
    wanted = list(s.required)
    if s.required_one_of:
        wanted += [n for n in s.required_one_of[0] if n not in wanted]
    out: Dict[str, Any] = {}
    known = {p.name for p in s.properties}
    for p in s.properties:
        required = p.name in wanted
        if not required and (
            (mode == "request" and p.read_only) or (mode == "response" and p.write_only)
        ):
            continue
        fixed, value = _fixed_value(p.schema, api)
        if fixed:
            out[p.name] = value
        elif required:
            target = resolve(p.schema, api)
            if depth >= MAX_DEPTH and target.kind in (OBJECT, UNION):
                continue  # the recursion stops here
            out[p.name] = synth(p.schema, api, p.name, mode=mode, depth=depth + 1)
    for name in wanted:  # required names without a property schema (allowed by JSON Schema)
        if name not in known:
            out[name] = _hint_text(name)
    return out


# ---- operations and events ---------------------------------------------------------------


# Format checks for spec examples. `format` is only an annotation in OpenAPI, so an example the
# loader calls valid may still hold, say, a date-time no strict server accepts; such an example
# is passed over (the next one, or a synthesized value, is used instead).
_FORMAT_CHECKS: Dict[str, re.Pattern[str]] = {
    "date-time": re.compile(
        r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
    ),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "time": re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"),
    "email": re.compile(r"[^@\s]+@[^@\s]+"),
    "uuid": re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"),
    "uri": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*"),
}


def formats_ok(value: Any, schema: ir.Schema, api: ir.Api, depth: int = 0) -> bool:
    """Do the strings in `value` match the formats their schemas name (where checkable)?"""
    if depth > MAX_DEPTH * 4:
        return True
    s = resolve(schema, api)
    if s.kind == PRIMITIVE and isinstance(value, str) and s.format in _FORMAT_CHECKS:
        return _FORMAT_CHECKS[s.format].fullmatch(value) is not None
    if s.kind == ARRAY and isinstance(value, list) and s.items is not None:
        return all(formats_ok(v, s.items, api, depth + 1) for v in value)
    if s.kind == MAP and isinstance(value, dict) and s.items is not None:
        return all(formats_ok(v, s.items, api, depth + 1) for v in value.values())
    if s.kind == OBJECT and isinstance(value, dict):
        props = {p.name: p.schema for p in s.properties}
        for key, item in value.items():
            sub = props.get(key, s.additional)
            if sub is not None and not formats_ok(item, sub, api, depth + 1):
                return False
        return True
    if s.kind == UNION and s.variants:
        return any(formats_ok(value, v, api, depth + 1) for v in s.variants)
    return True


def _first_valid(
    examples: Tuple[ir.MediaExample, ...], schema: Optional[ir.Schema], api: ir.Api
) -> Tuple[bool, Any]:
    for ex in sorted(examples, key=lambda e: e.name):
        if ex.valid and (schema is None or formats_ok(ex.value, schema, api)):
            return True, ex.value
    return False, None


def example_body(op: ir.Operation, api: ir.Api) -> Any:
    """The operation's example request body (None when it takes none)."""
    if op.body is None:
        return None
    found, value = _first_valid(op.body.examples, op.body.schema, api)
    if found:
        return value
    return synth(op.body.schema, api, "body")


def example_request(op: ir.Operation, api: ir.Api) -> Dict[str, Any]:
    """Keyword arguments for the operation's client method: path parameters, the body and the
    required query/header parameters (client-flag headers are left to the client)."""
    kwargs: Dict[str, Any] = {}
    for p in op.parameters:
        if p.location == "path" or (p.required and not p.client_flag):
            kwargs[p.py_name] = synth(p.schema, api, p.name)
    if op.body is not None:
        kwargs["body"] = example_body(op, api)
    return kwargs


def success_status(op: ir.Operation) -> int:
    """The success status code as an int ("2XX" and a missing success response give 200)."""
    ok = op.success
    if ok is not None and ok.status.isdigit():
        return int(ok.status)
    return 200


def example_response(op: ir.Operation, api: ir.Api) -> Any:
    """The success response's example JSON, or None when the spec gives that response no body."""
    ok = op.success
    if ok is None or ok.schema is None:
        return None
    found, value = _first_valid(ok.examples, ok.schema, api)
    if found:
        return value
    return synth(ok.schema, api, "response", mode="response")


def example_event(ev: ir.SemanticEvent, api: ir.Api) -> Any:
    """A semantic event's example track call: the spec's, or one built from its schema."""
    if ev.has_example and (ev.schema is None or formats_ok(ev.example, ev.schema, api)):
        return ev.example
    if ev.schema is None:
        return {}
    return synth(ev.schema, api, ev.py_name)


# ---- facts the testing module needs ------------------------------------------------------


def _route_discriminator(op: ir.Operation, api: ir.Api) -> Tuple[str, Tuple[str, ...]]:
    """(property, values) telling this operation's body apart from others on the same path."""
    if op.body is None:
        return "", ()
    s = resolve(op.body.schema, api)
    if s.kind == UNION and s.discriminator is not None:
        return s.discriminator.property_name, tuple(v for v, _ in s.discriminator.mapping)
    if s.kind == OBJECT:
        for p in s.properties:
            fixed, value = _fixed_value(p.schema, api)
            if fixed and p.name in s.required and isinstance(value, str):
                return p.name, (value,)
    return "", ()


def routes(api: ir.Api) -> List[Tuple[str, str, str, str, Tuple[str, ...]]]:
    """(operation_id, method, path template, discriminating property, its values) for every
    operation, most specific first: fewer path parameters, then discriminated bodies, then id."""
    rows = []
    for op in api.operations:
        prop, values = _route_discriminator(op, api)
        rows.append((op.operation_id, op.method, op.path, prop, values))
    return sorted(rows, key=lambda r: (r[2].count("{"), not r[4], r[0]))


def _items_union(op: ir.Operation, api: ir.Api) -> Optional[ir.Schema]:
    field = op.limits.items_field
    if not field or op.body is None:
        return None
    body = resolve(op.body.schema, api)
    for p in body.properties:
        if p.name == field:
            arr = resolve(p.schema, api)
            if arr.kind == ARRAY and arr.items is not None:
                return resolve(arr.items, api)
    return None


# How the IR places a semantic event's fields (`ir.EventProperty.location`): its own
# properties in the track call's "properties" object, context fields in sub-objects of its
# "context" object ("context.device"). Templates take these names from `track_call_fields`.
PROPERTIES_LOCATION = "properties"
CONTEXT_LOCATION = "context"


def _fixed_fields(schema: ir.Schema, api: ir.Api) -> Dict[str, Any]:
    """Property name -> value, for the properties of an object that admit one value only."""
    out: Dict[str, Any] = {}
    for p in resolve(schema, api).properties:
        fixed, value = _fixed_value(p.schema, api)
        if fixed:
            out[p.name] = value
    return out


def _model(api: ir.Api, class_name: str) -> Optional[ir.Schema]:
    try:
        return api.model(class_name)
    except KeyError:
        return None


def track_call_fields(api: ir.Api) -> Dict[str, str]:
    """Wire names of a track call.

    - `event_field`: the property carrying a semantic event's name (the one-value enum equal
      to it); `user_id_field`: the events' first identity field ("" without events);
    - `properties_field` / `context_field`: the objects holding an event's own properties and
      its context fields, as the IR locates them (`PROPERTIES_LOCATION`, `CONTEXT_LOCATION`);
    - `track_method`: the client method that sends any one track call (the first operation
      checked against the semantic events whose body is a single model, not a union).
    """
    senders = [op.py_name for op in api.operations if op.validates_events and op.body
               and resolve(op.body.schema, api).kind == OBJECT]
    out = {
        "event_field": "",
        "user_id_field": "",
        "properties_field": PROPERTIES_LOCATION,
        "context_field": CONTEXT_LOCATION,
        "track_method": senders[0] if senders else "",
    }
    for ev in api.events:
        if ev.schema is None:
            continue
        if not out["event_field"]:
            fixed = _fixed_fields(ev.schema, api)
            out["event_field"] = next((n for n, v in fixed.items() if v == ev.name), "")
        if not out["user_id_field"] and ev.identity:
            out["user_id_field"] = ev.identity[0]
    return out


def event_top_fields(
    ev: ir.SemanticEvent, api: ir.Api
) -> Tuple[Tuple[Tuple[str, Any], ...], Tuple[ir.Property, ...]]:
    """(fixed, free) top-level fields of an event's track call, in spec order.

    `fixed` are (name, value) of the required fields with one possible value (its kind and
    event name); `free` are the others, except the properties and context objects (whose
    fields the event lists itself).
    """
    if ev.schema is None:
        return (), ()
    fixed: List[Tuple[str, Any]] = []
    free: List[ir.Property] = []
    fields = track_call_fields(api)
    containers = (fields["properties_field"], fields["context_field"])
    for p in resolve(ev.schema, api).properties:
        s = p.schema
        if p.required and s.kind == ENUM and len(s.enum_values) == 1:
            fixed.append((p.name, s.enum_values[0]))
        elif p.name not in containers:
            free.append(p)
    return tuple(fixed), tuple(free)


def event_models(api: ir.Api) -> List[str]:
    """Model classes the event constructors' arguments name (sorted)."""
    names: Set[str] = set()
    for ev in api.events:
        props = [p.schema for p in ev.properties + ev.context]
        props += [p.schema for p in event_top_fields(ev, api)[1]]
        for schema in props:
            _names_in(schema, names)
    return sorted(names)


def _identify_call(
    api: ir.Api, kinds: Dict[str, str], kind_field: str, user_id_field: str
) -> Tuple[str, str]:
    """(kind, traits field) of the batch kind that identifies a person, or ("", "").

    The track kind is the one the semantic events fix `kind_field` to. Beside the fields a
    track call has, an identify call carries the user id and exactly one free-form object
    (the person's traits) of its own; the kind is used only when exactly one kind is so.
    """
    track_kinds = [
        _fixed_fields(ev.schema, api).get(kind_field) for ev in api.events if ev.schema
    ]
    track_kind = next((k for k in track_kinds if isinstance(k, str)), "")
    track = _model(api, kinds.get(track_kind, ""))
    if track is None:
        return "", ""
    track_names = {p.name for p in track.properties}
    found = []
    for kind, class_name in kinds.items():
        model = _model(api, class_name)
        if kind == track_kind or model is None:
            continue
        own = [p for p in model.properties if p.name not in track_names]
        if (
            any(p.name == user_id_field for p in model.properties)
            and len(own) == 1
            and resolve(own[0].schema, api).kind in (MAP, OBJECT, ANY)
        ):
            found.append((kind, own[0].name))
    return found[0] if len(found) == 1 else ("", "")


def testing_facts(api: ir.Api) -> Dict[str, Any]:
    """Wire names the fake server's assertion helpers look for, taken from the IR.

    - the `track_call_fields` (`event_field`, `user_id_field`, `properties_field`, ...);
    - `batch_fields`: operation id -> body array whose items are separate messages;
    - `kind_field` / `kinds`: the discriminator of those batch items and its values, and
      `body_kinds`: operation id -> the kind its whole body is (by the item class it uses);
    - `identify_kind` / `traits_field`: the batch kind that identifies a person and its
      traits object, when the API has one (see `_identify_call`).
    """
    facts: Dict[str, Any] = dict(track_call_fields(api))
    batch_fields: Dict[str, str] = {}
    kind_field = ""
    kinds: Dict[str, str] = {}
    for op in api.operations:
        if not op.limits.items_field:
            continue
        batch_fields[op.operation_id] = op.limits.items_field
        union = _items_union(op, api)
        if union is None or union.kind != UNION or union.discriminator is None:
            continue
        kind_field = kind_field or union.discriminator.property_name
        if union.discriminator.property_name == kind_field:
            for value, class_name in union.discriminator.mapping:
                kinds.setdefault(value, class_name)
    kinds = dict(sorted(kinds.items()))
    by_class = {c: v for v, c in kinds.items()}
    body_kinds = {}
    for op in api.operations:  # sorted by operation id
        if op.body is not None and op.operation_id not in batch_fields:
            cls = resolve(op.body.schema, api).class_name
            if cls in by_class:
                body_kinds[op.operation_id] = by_class[cls]
    identify_kind, traits_field = _identify_call(api, kinds, kind_field, facts["user_id_field"])
    facts.update(
        batch_fields=batch_fields,
        kind_field=kind_field,
        kinds=kinds,
        body_kinds=body_kinds,
        identify_kind=identify_kind,
        traits_field=traits_field,
    )
    return facts


def client_fixtures(api: ir.Api) -> List[Tuple[str, str, str, Tuple[str, ...]]]:
    """(fixture name, client class, its module, dummy credential values) per surface,
    sorted by fixture name. The fixture is `<surface>_client`."""
    out = []
    for s in api.surfaces:
        creds = tuple(f"test-{c.name}" for c in s.auth.credentials)
        out.append((f"{s.name}_client", s.class_name, s.name, creds))
    return sorted(out)


def black_data(value: Any, head: str, tail: str = "") -> str:
    """`head`, the literal of JSON-like `value` and `tail`, laid out as black lays it out.

    `head` starts with the line's indentation. A line that fits stays joined; otherwise a
    list, dict or tuple opens at the end of `head`, its items go one per line four columns
    deeper with a trailing comma (a lone item keeps none, as black adds none), each laid out
    the same way, and it closes on its own line followed by `tail`. Scalars that do not fit
    stay long (black cannot split them). Used for the example data of fixtures.py and the
    tables of testing.py, so black has nothing left to change in them.
    """
    return "\n".join(_data_lines(value, head, tail))


def _data_lines(value: Any, head: str, tail: str) -> List[str]:
    line = head + py_literal(value) + tail
    if fits(line) or not isinstance(value, (dict, list, tuple)) or not value:
        return [line]
    pad = " " * (len(head) - len(head.lstrip(" "))) + "    "
    if isinstance(value, dict):
        items = [(pad + py_literal(k) + ": ", v) for k, v in value.items()]
    else:
        items = [(pad, v) for v in value]
    brackets = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else "()"
    comma = "," if len(items) > 1 or isinstance(value, tuple) else ""
    body = [text for h, v in items for text in _data_lines(v, h, comma)]
    return [head + brackets[0], *body, pad[4:] + brackets[1] + tail]


# The Jinja filters this module provides (render.py registers them).
FILTERS = {
    "example_request": example_request,
    "example_response": example_response,
    "success_status": success_status,
    "example_event": example_event,
    "routes": routes,
    "testing_facts": testing_facts,
    "track_call_fields": track_call_fields,
    "event_top_fields": event_top_fields,
    "event_models": event_models,
    "client_fixtures": client_fixtures,
    "black_data": black_data,
}
