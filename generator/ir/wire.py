"""Wire facts found in the schemas: where calls shaped alike keep their kind, event name,
user id and traits, which body arrays carry separate messages, and how a request is told
to be a call of an operation.

The semantic-event checks (`events.py` of the package) and the testing kit's router and
assertions use these; none of them is written in a template.
"""

from __future__ import annotations

from typing import Any

from . import model as ir
from .examples import Models, fixed_value, resolve
from .model import ANY, ARRAY, MAP, OBJECT, UNION
from .operations import PATH_PARAM

# Where the IR places a semantic event's fields (`ir.EventProperty.location`): its own
# properties in the track call's "properties" object, context fields in sub-objects of its
# "context" object ("context.device"); see events.py.
PROPERTIES_FIELD = "properties"
CONTEXT_FIELD = "context"


def _fixed_fields(schema: ir.Schema, models: Models) -> dict[str, Any]:
    """Property name -> value, for the properties of an object that admit one value only."""
    out: dict[str, Any] = {}
    for p in resolve(schema, models).properties:
        fixed, value = fixed_value(p.schema, models)
        if fixed:
            out[p.name] = value
    return out


def _items_union(op: ir.Operation, models: Models) -> ir.Schema | None:
    """The schema of the items of a batch operation's message array (its `items_field`)."""
    name = op.limits.items_field
    if not name or op.body is None:
        return None
    for p in resolve(op.body.schema, models).properties:
        if p.name == name:
            arr = resolve(p.schema, models)
            if arr.kind == ARRAY and arr.items is not None:
                return resolve(arr.items, models)
    return None


def _identify_call(
    events: tuple[ir.SemanticEvent, ...],
    models: Models,
    kinds: dict[str, str],
    kind_field: str,
    user_id_field: str,
) -> tuple[str, str]:
    """(kind, traits field) of the batch kind that identifies a person, or ("", "").

    The track kind is the one the semantic events fix `kind_field` to. Beside the fields a
    track call has, an identify call carries the user id and exactly one free-form object
    (the person's traits) of its own, and requires nothing but an identity (a group call,
    say, also needs its group); the kind is used only when exactly one kind is so.
    """
    track_kinds = [
        _fixed_fields(ev.schema, models).get(kind_field) for ev in events if ev.schema
    ]
    track_kind = next((k for k in track_kinds if isinstance(k, str)), "")
    track = models.get(kinds.get(track_kind, ""))
    if track is None:
        return "", ""
    track_names = {p.name for p in track.properties}
    found = []
    for kind, class_name in kinds.items():
        model = models.get(class_name)
        if kind == track_kind or model is None:
            continue
        own = [p for p in model.properties if p.name not in track_names]
        if (
            any(p.name == user_id_field for p in model.properties)
            and not set(model.required) - {kind_field, user_id_field}
            and len(own) == 1
            and resolve(own[0].schema, models).kind in (MAP, OBJECT, ANY)
        ):
            found.append((kind, own[0].name))
    return found[0] if len(found) == 1 else ("", "")


def wire_facts(
    operations: tuple[ir.Operation, ...],
    events: tuple[ir.SemanticEvent, ...],
    models: Models,
) -> ir.WireFacts:
    """The `ir.WireFacts` of the API (see its fields)."""
    senders = [
        op.py_name
        for op in operations
        if op.validates_events
        and op.body
        and resolve(op.body.schema, models).kind == OBJECT
    ]
    event_field = user_id_field = ""
    for ev in events:
        if ev.schema is None:
            continue
        if not event_field:
            fixed = _fixed_fields(ev.schema, models)
            event_field = next((n for n, v in fixed.items() if v == ev.name), "")
        if not user_id_field and ev.identity:
            user_id_field = ev.identity[0]
    batch_fields: dict[str, str] = {}
    kind_field = ""
    kinds: dict[str, str] = {}
    for op in operations:
        if not op.limits.items_field:
            continue
        batch_fields[op.operation_id] = op.limits.items_field
        union = _items_union(op, models)
        if union is None or union.kind != UNION or union.discriminator is None:
            continue
        kind_field = kind_field or union.discriminator.property_name
        if union.discriminator.property_name == kind_field:
            for value, class_name in union.discriminator.mapping:
                kinds.setdefault(value, class_name)
    kinds = dict(sorted(kinds.items()))
    by_class = {c: v for v, c in kinds.items()}
    body_kinds = []
    for op in operations:
        if op.body is not None and op.operation_id not in batch_fields:
            cls = resolve(op.body.schema, models).class_name
            if cls in by_class:
                body_kinds.append((op.operation_id, by_class[cls]))
    identify_kind, traits_field = _identify_call(
        events, models, kinds, kind_field, user_id_field
    )
    return ir.WireFacts(
        event_field=event_field,
        user_id_field=user_id_field,
        properties_field=PROPERTIES_FIELD,
        context_field=CONTEXT_FIELD,
        track_method=senders[0] if senders else "",
        kind_field=kind_field,
        batch_fields=tuple(sorted(batch_fields.items())),
        body_kinds=tuple(sorted(body_kinds)),
        identify_kind=identify_kind,
        traits_field=traits_field,
    )


def _route_discriminator(
    op: ir.Operation, models: Models
) -> tuple[str, tuple[str, ...]]:
    """(property, values) telling this operation's body apart from others on the same path."""
    if op.body is None:
        return "", ()
    s = resolve(op.body.schema, models)
    if s.kind == UNION and s.discriminator is not None:
        return s.discriminator.property_name, tuple(
            v for v, _ in s.discriminator.mapping
        )
    if s.kind == OBJECT:
        for p in s.properties:
            fixed, value = fixed_value(p.schema, models)
            if fixed and p.name in s.required and isinstance(value, str):
                return p.name, (value,)
    return "", ()


def _route_fixed(op: ir.Operation) -> tuple[tuple[str, str, str], ...]:
    """What every call of `op` carries in its query and headers (`ir.Route.fixed`)."""
    out = {("query", name, value) for name, value in op.fixed_query}
    for p in op.parameters:
        if p.is_constant and p.location in ("query", "header"):
            name = p.name.lower() if p.location == "header" else p.name
            out.add((p.location, name, str(p.schema.enum_values[0])))
    return tuple(sorted(out))


def routes(
    operations: tuple[ir.Operation, ...], models: Models
) -> tuple[ir.Route, ...]:
    """A route per operation, most specific first: fewer path parameters, then more
    literal text in the path, then more fixed query pairs and headers, then bodies told
    apart by a property, then by operation id.

    Literal text matters where templates have as many parameters: `/v1/{name}` also
    matches every path of `/v1/{resource}:getIamPolicy` (Google's custom methods), and
    `/{path}/{name}` every path of `/{path}/{name}.rw.html`.
    """
    rows: list[ir.Route] = []
    for op in operations:
        prop, values = _route_discriminator(op, models)
        fixed = _route_fixed(op)
        rows.append(ir.Route(op.operation_id, op.method, op.path, prop, values, fixed))
    return tuple(
        sorted(
            rows,
            key=lambda r: (
                r.path.count("{"),
                -len(PATH_PARAM.sub("", r.path)),
                -len(r.fixed),
                not r.body_values,
                r.operation_id,
            ),
        )
    )
