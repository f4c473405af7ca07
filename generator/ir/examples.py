"""Example data the package ships, decided from the IR: one valid request and response per
operation and one complete track call per semantic event.

Every function here is pure and deterministic: the same models always give the same values
(no clock, no randomness, no set iteration).

An example comes from the spec when it has one (only examples the spec stage found valid and
whose date-time/date/email/uuid/uri strings really have that format, and that are of the
JSON kind the IR gives their schemas: an object for a model; the first by name),
otherwise it is synthesized from the schema:

- objects get their required properties (a required name no property describes gets a
  value of `additionalProperties`' schema), the first alternative of `required_one_of`,
  and any property whose schema is a single fixed value (a one-value enum or const);
- enums give their first value, unions their first variant (with the discriminator value set);
- strings respect `format` (date-time, date, email, uuid, uri, ...), other strings are
  `example-<name>` built from the property or parameter name, cut or padded with `x` to
  the schema's `maxLength` and `minLength` (one of at most `MAX_PADDED`), or, when the
  schema's `pattern` does not find that, a short text it does find (see `patterns`;
  one of its repeats is taken more often when padding it to `minLength` would break it);
- numbers are 1 (1.5 for `type: number`), or what the schema's `minimum` and `maximum`
  allow; a number of `format: int32` or `int64` is a whole number;
- arrays hold one item; maps are empty, or hold the entries their `minProperties` asks
  for (`<name>1`, ...; at most `MAX_ENTRIES`); recursion through required properties stops at
  `MAX_DEPTH` (an array there is empty, an object keeps only what it can still fill): a
  required object is left out there only when it is a model already being filled (a
  cycle) or the value is `LITERAL_DEPTH` deep, so a deep model that does not recurse is
  complete (a required field left out makes the client refuse the whole answer);
- one example holds at most `MAX_VALUES` values: past them, no more nested objects,
  arrays or maps are filled (as past `MAX_DEPTH`), and a warning names the operation.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import Finding
from . import model as ir
from . import patterns
from .model import ANY, ARRAY, ENUM, MAP, OBJECT, PRIMITIVE, UNION

Models = Mapping[str, ir.Schema]
"""Named models by class name (what a `ref` links to)."""

MAX_DEPTH = 8
MAX_ENTRIES = 50  # a map's minProperties is filled up to this many entries
# A longer minLength is not met (the short text is kept): a fixture stays readable, and a
# spec's minLength can be any number
MAX_PADDED = 1000
NO_BOUNDS = ir.Bounds()
# Models whose required properties fan out (ten of them, each with ten required links to
# the next) reach 10**10 values without recursing: the depth limits do not stop that. A
# synthesized example of a real spec holds a few hundred (GitHub's largest: 415).
MAX_VALUES = 10_000


class Budget:
    """How many more values the example being built may hold."""

    def __init__(self) -> None:
        self.left = MAX_VALUES

    @property
    def spent(self) -> bool:
        return self.left <= 0


# Values for string formats. Chosen to be valid under a strict format checker.
FORMAT_VALUES: dict[str, str] = {
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

# How deep a spec's example may nest to be shipped: it is written as a Python literal, and
# CPython's parser refuses more than 200 nested brackets (the module around it adds a few).
LITERAL_DEPTH = 100
TOO_DEEP = (
    f"example not used: it nests more than {LITERAL_DEPTH} arrays or objects deep "
    "(the generated code writes it as one Python literal)"
)


def too_deep(value: Any) -> bool:
    """Does `value` nest more than `LITERAL_DEPTH` arrays/objects deep? (Without recursion:
    the value may nest thousands of levels.)"""
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        node, depth = todo.pop()
        if not isinstance(node, (dict, list)):
            continue
        if depth >= LITERAL_DEPTH:
            return True
        items = node.values() if isinstance(node, dict) else node
        # only containers nest: most of an example's values are not pushed at all
        todo += [(v, depth + 1) for v in items if isinstance(v, (dict, list))]
    return False


INTEGER_FORMATS = ("int32", "int64")

_PRIMITIVE_VALUES: dict[str, Any] = {
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "null": None,
}


# ---- schemas -----------------------------------------------------------------------------


def resolve(schema: ir.Schema, models: Models) -> ir.Schema:
    """The full named model behind a link (`ref`), or the schema itself."""
    return models.get(schema.ref, schema) if schema.ref else schema


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


def fixed_value(schema: ir.Schema, models: Models) -> tuple[bool, Any]:
    """(True, value) when the schema admits exactly one value (a one-value enum or const)."""
    s = resolve(schema, models)
    return (True, s.enum_values[0]) if s.is_constant else (False, None)


def synth(
    schema: ir.Schema,
    models: Models,
    hint: str = "",
    *,
    mode: str = "request",
    depth: int = 0,
    within: frozenset[str] = frozenset(),
    budget: Budget | None = None,
) -> Any:
    """A deterministic example value for `schema`.

    `hint` (a property or parameter name) names generic strings; `mode` is "request" (leave
    out readOnly properties) or "response" (leave out writeOnly ones); `within` holds the
    models (class names) whose values enclose this one; `budget` is the example's (a fresh
    one when not given).
    """
    if budget is None:
        budget = Budget()
    budget.left -= 1
    s = resolve(schema, models)
    if s.class_name:
        within = within | {s.class_name}
    k = s.kind
    if k == ENUM:
        return s.enum_values[0] if s.enum_values else None
    if k == PRIMITIVE:
        return _primitive(s, hint)
    if k == ARRAY:
        if depth >= MAX_DEPTH or budget.spent:
            return []
        item = s.items or ir.Schema(kind=ANY)
        return [
            synth(
                item,
                models,
                hint,
                mode=mode,
                depth=depth + 1,
                within=within,
                budget=budget,
            )
        ]
    if k == MAP:
        if depth >= MAX_DEPTH or budget.spent:
            return {}
        value = s.items or ir.Schema(kind=ANY)
        keys = list(s.required_unlisted)
        n = 0
        while len(keys) < min((s.bounds or NO_BOUNDS).min_properties or 0, MAX_ENTRIES):
            n += 1
            if f"{hint or 'key'}{n}" not in keys:
                keys.append(f"{hint or 'key'}{n}")
        return {
            key: synth(
                value,
                models,
                key,
                mode=mode,
                depth=depth + 1,
                within=within,
                budget=budget,
            )
            for key in keys
        }
    if k == UNION:
        return _union(s, models, hint, mode, depth, within, budget)
    if k == OBJECT:
        return _object(s, models, mode, depth, within, budget)
    return _hint_text(hint)  # ANY: a plain string is as good as anything


def _primitive(s: ir.Schema, hint: str) -> Any:
    if s.type == "string" and s.format in FORMAT_VALUES:
        return FORMAT_VALUES[s.format]
    for present, value in ((s.has_example, s.example), (s.has_default, s.default)):
        if present and value is not None and _fits(s, value):
            return value
    if s.type == "string":
        return _text(s, hint)
    if s.type in ("integer", "number"):
        # `type: number, format: int32`: a strict server wants a whole number
        whole = s.type == "integer" or s.format in INTEGER_FORMATS
        return _bounded_number(s, whole)
    return _PRIMITIVE_VALUES.get(s.type, _hint_text(hint))


def _bounded_number(s: ir.Schema, whole: bool) -> int | float:
    """1 (1.5 for a number) when the schema's minimum and maximum allow it, else the least
    whole number they allow (the middle of the range, or one past its one bound, for a
    number); when that too falls outside (a range with no whole number in it), 1 or 1.5.
    """
    value: int | float = 1 if whole else _PRIMITIVE_VALUES["number"]
    if _within(s.bounds, value):
        return value
    b = s.bounds or NO_BOUNDS
    low, high = b.minimum, b.maximum
    candidate: int | float
    if whole:
        least = None if low is None else math.floor(low) + 1
        if low is not None and not b.exclusive_minimum and low == math.floor(low):
            least = int(low)
        candidate = least if least is not None else math.ceil(high or 0) - 1
    elif low is not None and high is not None:
        candidate = (low + high) / 2
    else:
        candidate = low + 1 if low is not None else (high or 0) - 1
    return candidate if _within(s.bounds, candidate) else value


def _within(b: ir.Bounds | None, value: float) -> bool:
    if b is None:
        return True
    low, high = b.minimum, b.maximum
    above = low is None or value > low or (value == low and not b.exclusive_minimum)
    below = high is None or value < high or (value == high and not b.exclusive_maximum)
    return above and below


def _text(s: ir.Schema, hint: str) -> str:
    """`example-<hint>` in the schema's length limits; when its `pattern` does not find
    that, a text the pattern does find (in the limits too), if one can be told."""
    b = s.bounds or NO_BOUNDS
    text = _sized(_hint_text(hint), b.min_length, b.max_length)
    if not b.pattern or patterns.finds(b.pattern, text):
        return text
    sample = patterns.sample(b.pattern)
    if sample is None:
        return text
    sized = _sized(sample, b.min_length, b.max_length)
    if patterns.finds(b.pattern, sized):
        return sized
    if b.min_length is not None and len(sample) < b.min_length <= MAX_PADDED:
        # padding with x broke the pattern (`^[0-9]*$`): take a repeat more often instead
        grown = patterns.stretched(b.pattern, b.min_length, b.max_length)
        if grown is not None:
            return grown
    return text


def _sized(text: str, min_length: int | None, max_length: int | None) -> str:
    """`text` cut to `max_length`, or padded with `x` to `min_length` (one of at most
    `MAX_PADDED`)."""
    if max_length is not None and len(text) > max_length:
        text = text[:max_length]
    if min_length is not None and len(text) < min_length <= MAX_PADDED:
        text += "x" * (min_length - len(text))
    return text


def _union(
    s: ir.Schema,
    models: Models,
    hint: str,
    mode: str,
    depth: int,
    within: frozenset[str],
    budget: Budget,
) -> Any:
    if not s.variants:
        return _hint_text(hint)
    variant = s.variants[0]
    value = synth(
        variant, models, hint, mode=mode, depth=depth, within=within, budget=budget
    )
    disc = s.discriminator
    if disc is not None and isinstance(value, dict):
        name = resolve(variant, models).class_name
        for wire_value, class_name in disc.mapping:
            if class_name == name:
                value[disc.property_name] = wire_value
                break
    return value


def _object(
    s: ir.Schema,
    models: Models,
    mode: str,
    depth: int,
    within: frozenset[str],
    budget: Budget,
) -> dict[str, Any]:
    wanted = list(s.required) + list(s.required_unlisted)
    if s.required_one_of:
        wanted += [n for n in s.required_one_of[0] if n not in wanted]
    out: dict[str, Any] = {}
    known = {p.name for p in s.properties}
    for p in s.properties:
        required = p.name in wanted
        if (mode == "request" and p.read_only) or (mode == "response" and p.write_only):
            continue  # the other direction's, even where `required` names it
        fixed, value = fixed_value(p.schema, models)
        if fixed:
            out[p.name] = value
        elif required:
            if _stops(resolve(p.schema, models), depth, within, budget):
                continue  # the recursion stops here
            out[p.name] = synth(
                p.schema,
                models,
                p.name,
                mode=mode,
                depth=depth + 1,
                within=within,
                budget=budget,
            )
    # required names without a property schema (allowed by JSON Schema): a value of
    # additionalProperties' schema
    extra = s.additional or ir.Schema(kind=ANY)
    for name in wanted:
        if name not in known and name not in out:
            out[name] = synth(
                extra,
                models,
                name,
                mode=mode,
                depth=depth + 1,
                within=within,
                budget=budget,
            )
    return out


def _stops(
    target: ir.Schema, depth: int, within: frozenset[str], budget: Budget
) -> bool:
    """Is a required object or union left out: once the example's budget is spent, or past
    `MAX_DEPTH` a model already being filled (a cycle, which would never end), or anything
    once the value is too deep to be written as one literal? A deep model that does not
    recur is filled in full."""
    if target.kind not in (OBJECT, UNION):
        return False
    if budget.spent:
        return True
    if depth < MAX_DEPTH:
        return False
    return target.class_name in within or depth >= LITERAL_DEPTH


# ---- operations and events ---------------------------------------------------------------


# Format checks for spec examples. `format` is only an annotation in OpenAPI, so an example the
# loader calls valid may still hold, say, a date-time no strict server accepts; such an example
# is passed over (the next one, or a synthesized value, is used instead).
_FORMAT_CHECKS: dict[str, re.Pattern[str]] = {
    "date-time": re.compile(
        r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
    ),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "time": re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"),
    "email": re.compile(r"[^@\s]+@[^@\s]+"),
    "uuid": re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"),
    "uri": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*"),
}


def example_ok(value: Any, schema: ir.Schema, models: Models, depth: int = 0) -> bool:
    """Would the package's decoders take `value`: an object, map or array where the model
    has one, and strings in the formats their schemas name (where checkable)?

    The spec stage checks examples by JSON Schema, where a schema without `type` admits
    any kind of value; the IR makes such a schema with `properties` an object model, whose
    decoder refuses a string (an example the fake API answered with would fail the call).
    """
    if depth > MAX_DEPTH * 4:
        return True
    s = resolve(schema, models)
    if value is not None and not _kind_ok(s, value):
        return False
    if s.kind == PRIMITIVE and isinstance(value, str) and s.format in _FORMAT_CHECKS:
        if _FORMAT_CHECKS[s.format].fullmatch(value) is None:
            return False
        return s.format not in ("date", "date-time") or _on_the_calendar(value)
    if s.kind == ARRAY and isinstance(value, list) and s.items is not None:
        return all(example_ok(v, s.items, models, depth + 1) for v in value)
    if s.kind == MAP and isinstance(value, dict) and s.items is not None:
        return all(example_ok(v, s.items, models, depth + 1) for v in value.values())
    if s.kind == OBJECT and isinstance(value, dict):
        props = {p.name: p.schema for p in s.properties}
        for key, item in value.items():
            sub = props.get(key, s.additional)
            if sub is not None and not example_ok(item, sub, models, depth + 1):
                return False
        return True
    if s.kind == UNION and s.variants:
        return any(example_ok(value, v, models, depth + 1) for v in s.variants)
    return True


def _on_the_calendar(value: str) -> bool:
    """Is a well-formed date or date-time (the start of `value`, as `_FORMAT_CHECKS` has
    it) one the calendar has? The client's decoder refuses 2018-02-30 (Azure's billing
    examples) and 24:00:00, however well-formed the text is."""
    try:
        datetime.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
        if len(value) > 10:
            datetime.time(int(value[11:13]), int(value[14:16]), int(value[17:19]))
    except ValueError:
        return False
    return True


def _kind_ok(s: ir.Schema, value: Any) -> bool:
    """Is a (non-null) value of the JSON kind the schema's decoder wants?"""
    if s.kind in (OBJECT, MAP):
        return isinstance(value, dict)
    if s.kind == ARRAY:
        return isinstance(value, list)
    return True


def _first_valid(
    examples: tuple[ir.MediaExample, ...], schema: ir.Schema | None, models: Models
) -> tuple[bool, Any]:
    for ex in sorted(examples, key=lambda e: e.name):
        if ex.valid and (schema is None or example_ok(ex.value, schema, models)):
            return True, ex.value
    return False, None


def example_body(op: ir.Operation, models: Models, budget: Budget | None = None) -> Any:
    """The operation's example request body (None when it takes none)."""
    if op.body is None:
        return None
    found, value = _first_valid(op.body.examples, op.body.schema, models)
    if found:
        return value
    return synth(op.body.schema, models, "body", budget=budget)


def example_request(
    op: ir.Operation, models: Models, budget: Budget | None = None
) -> dict[str, Any]:
    """Keyword arguments for the operation's client method: path parameters, the body and the
    required query/header parameters (client-flag headers are left to the client)."""
    budget = budget or Budget()
    kwargs: dict[str, Any] = {}
    for p in op.parameters:
        if p.location == "path" or (p.required and not p.client_flag):
            kwargs[p.py_name] = synth(p.schema, models, p.name, budget=budget)
    if op.body is not None:
        body = example_body(op, models, budget)
        if _raw_bytes(op.body):
            body = _bytes(body)
        elif _multipart(op.body):
            body = _file_parts(body, resolve(op.body.schema, models), models)
        kwargs["body"] = body
    return kwargs


def _multipart(body: ir.RequestBody) -> bool:
    return body.content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _file_parts(value: Any, schema: ir.Schema, models: Models) -> Any:
    """A multipart body with its binary properties (and their lists' items) as bytes: the
    client types them `bytes` and sends only bytes as a file part (a file upload was sent
    as a text part, which a server reading a file refuses)."""
    if schema.kind != OBJECT or not isinstance(value, dict):
        return value
    out = dict(value)
    for p in schema.properties:
        if p.name not in out:
            continue
        prop, value = resolve(p.schema, models), out[p.name]
        items = (
            resolve(prop.items, models) if prop.kind == ARRAY and prop.items else None
        )
        if _is_binary(prop):
            out[p.name] = _bytes(value)
        elif items is not None and _is_binary(items) and isinstance(value, list):
            out[p.name] = [_bytes(v) for v in value]
    return out


def _is_binary(s: ir.Schema) -> bool:
    return s.kind == PRIMITIVE and s.type == "string" and s.format == "binary"


def _raw_bytes(body: ir.RequestBody) -> bool:
    """A body the client sends as the bytes it is given (a binary string, not in JSON)."""
    media = body.content_type.split(";", 1)[0].strip().lower()
    json = media == "application/json" or media.endswith("+json")
    return not json and body.schema.kind == PRIMITIVE and body.schema.format == "binary"


def _bytes(value: Any) -> Any:
    return value.encode() if isinstance(value, str) else value


def success_status(op: ir.Operation) -> int:
    """The status of the first answer (`Operation.success`: a 2xx, else a documented 3xx)
    as an int: "3XX" gives 302 (the common redirect), "2XX", `default` and a missing
    answer 200."""
    ok = op.success
    if ok is not None and ok.status.isdigit():
        return int(ok.status)
    return 302 if ok is not None and ok.status == "3XX" else 200


def example_response(
    op: ir.Operation, models: Models, budget: Budget | None = None
) -> Any:
    """The first answer's example JSON, or None when the spec gives that response no body."""
    ok = op.success
    if ok is None or ok.schema is None:
        return None
    found, value = _first_valid(ok.examples, ok.schema, models)
    if not found:
        value = synth(ok.schema, models, "response", mode="response", budget=budget)
    # a binary answer is handed out as bytes (the fake API sends them as they are)
    return _bytes(value) if ok.body_kind == ir.BINARY_BODY else value


def example_event(
    ev: ir.SemanticEvent, models: Models, budget: Budget | None = None
) -> Any:
    """A semantic event's example track call: the spec's, or one built from its schema."""
    if ev.has_example and (
        ev.schema is None or example_ok(ev.example, ev.schema, models)
    ):
        return ev.example
    if ev.schema is None:
        return {}
    return synth(ev.schema, models, ev.py_name, budget=budget)


def with_examples(
    surfaces: tuple[ir.Surface, ...],
    events: tuple[ir.SemanticEvent, ...],
    models: Models,
) -> tuple[tuple[ir.Surface, ...], tuple[ir.SemanticEvent, ...], list[Finding]]:
    """The surfaces and events with every example value decided (`Operation.example_*`,
    `SemanticEvent.example`), and a warning for each example cut at `MAX_VALUES`."""
    findings: list[Finding] = []

    def decided(op: ir.Operation) -> ir.Operation:
        asked, answered = Budget(), Budget()
        op = replace(
            op,
            example_request=example_request(op, models, asked),
            example_response=example_response(op, models, answered),
            success_status=success_status(op),
        )
        for budget, which in ((asked, "request"), (answered, "response")):
            if budget.spent:
                findings.append(_cut(op.source, which))
        return op

    def event(ev: ir.SemanticEvent) -> ir.SemanticEvent:
        budget = Budget()
        ev = replace(ev, example=example_event(ev, models, budget))
        if budget.spent:
            findings.append(_cut(ev.source, "track call"))
        return ev

    surfaces = tuple(
        replace(s, operations=tuple(decided(op) for op in s.operations))
        for s in surfaces
    )
    return surfaces, tuple(event(ev) for ev in events), findings


def _cut(source: str, which: str) -> Finding:
    file, _, where = source.partition("#")
    return Finding(
        file,
        where,
        f"example {which} cut: the schema's required values number more than "
        f"{MAX_VALUES:,}, so the fixture leaves nested ones out and may not validate",
    )
