"""Background delivery: which operation of a surface takes batches of messages, which kinds
of message go in them, and what a background client fills in each one.

A surface has background delivery when one of its operations states an `items_field`
(`x-ciogen-limits`): the body array whose items are separate messages. The item schema
gives the kinds (a discriminated union's mapping: one enqueue method per kind) and what a
message of each kind must hold (its required fields and identity, those of the objects in
it, its unix-time fields), the root `x-ciogen-delivery` the fields to fill (timestamp,
sentAt, the client's library), the surface's `x-ciogen-message-id` the id each message
keeps across retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..spec import extensions
from ..spec.refs import Workspace
from . import model as ir
from .examples import resolve
from .model import ARRAY, OBJECT, UNION
from .naming import dedupe, snake
from .operations import unix_time_paths

# What the background client defines itself (a kind's method must not take these names).
CLIENT_RESERVED = ("enqueue", "flush", "close", "stats", "endpoint", "base_url")


def _items(op: ir.Operation, models: Mapping[str, ir.Schema]) -> ir.Schema | None:
    name = op.limits.items_field
    if not name or op.body is None:
        return None
    for p in resolve(op.body.schema, models).properties:
        if p.name == name:
            arr = resolve(p.schema, models)
            if arr.kind == ARRAY and arr.items is not None:
                return resolve(arr.items, models)
    return None


def _kinds(
    items: ir.Schema, models: Mapping[str, ir.Schema]
) -> tuple[str, tuple[ir.DeliveryKind, ...]]:
    """(kind field, kinds) of a batch item schema: one kind per object model a
    discriminator maps to, and where it maps to a discriminated union itself (Track v2: an
    entity type whose `action` picks a schema), one kind per model of that union, named
    after both values (`person_event`); none for any other item schema."""
    disc = items.discriminator if items.kind == UNION else None
    if disc is None:
        return "", ()
    # (value, name hint, model, the (field, value) pairs that pick it)
    rows: list[tuple[str, str, ir.Schema, tuple[tuple[str, str], ...]]] = []
    for value, cls in disc.mapping:
        target = models.get(cls)
        outer = (disc.property_name, value)
        if target is not None and target.kind == OBJECT:
            rows.append((value, value, target, (outer,)))
        elif target is not None and target.kind == UNION and target.discriminator:
            field = target.discriminator.property_name
            for inner, inner_cls in target.discriminator.mapping:
                model = models.get(inner_cls)
                if model is not None and model.kind == OBJECT:
                    rows.append(
                        (value, f"{value}_{inner}", model, (outer, (field, inner)))
                    )
    names = dedupe([snake(row[1]) for row in rows], reserved=CLIENT_RESERVED)
    kinds = tuple(
        ir.DeliveryKind(value, name, model, model.required_one_of, match=match)
        for (value, _, model, match), name in zip(rows, names)
    )
    return disc.property_name, kinds


def _with_rules(
    kind: ir.DeliveryKind,
    filled: set[tuple[str, ...]],
    models: Mapping[str, ir.Schema],
) -> ir.DeliveryKind:
    """A kind with what a message of it must hold: the required fields of its model and of
    the objects in it (but the ones `match` names and the client fills in, `filled`), the
    field sets nested objects need one of, and its unix-time fields. Arrays and unions are
    not entered (as `unix_time_paths` does not): their items are models or caller's data.
    """
    skip = filled | {(name,) for name, _ in kind.match}
    required: list[tuple[str, ...]] = []
    nested: list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = []

    def walk(schema: ir.Schema, path: tuple[str, ...], seen: frozenset[str]) -> None:
        for name in schema.required:
            if path + (name,) not in skip:
                required.append(path + (name,))
        if path and schema.required_one_of:
            nested.append((path, schema.required_one_of))
        for p in schema.properties:
            child = resolve(p.schema, models)
            name = child.class_name
            if child.kind == OBJECT and not (name and name in seen):
                walk(child, path + (p.name,), seen | {name} if name else seen)

    walk(kind.model, (), frozenset({kind.model.class_name}))
    return replace(
        kind,
        required=tuple(required),
        nested_one_of=tuple(nested),
        unix_time_fields=unix_time_paths(kind.model, models),
    )


def with_delivery(
    surfaces: tuple[ir.Surface, ...], ws: Workspace, models: Mapping[str, ir.Schema]
) -> tuple[ir.Surface, ...]:
    """The surfaces, each with its `Delivery` when it has a batch operation."""
    by_name = {d.name: d for d in ws.docs.values()}
    out = []
    for s in surfaces:
        batch_ops = [op for op in s.operations if _items(op, models) is not None]
        if not batch_ops:
            out.append(s)
            continue
        op = min(batch_ops, key=lambda o: o.operation_id)
        items = _items(op, models)
        assert items is not None
        kind_field, kinds = _kinds(items, models)
        fields = extensions.DeliveryValues()
        for name in s.sources:
            found = extensions.delivery(by_name[name].data, name)
            if found != extensions.DeliveryValues():
                fields = found
                break
        # what the client fills in: a message need not hold it
        filled: set[tuple[str, ...]] = {
            tuple(name.split(".")) if name == fields.library else (name,)
            for name in (
                op.message_id_field,
                fields.timestamp,
                fields.sent_at,
                fields.library,
            )
            if name
        }
        kinds = tuple(_with_rules(kind, filled, models) for kind in kinds)
        timestamp_format = ""
        for kind in kinds:
            for p in kind.model.properties:
                if p.name == fields.timestamp and not timestamp_format:
                    timestamp_format = p.schema.format
        delivery = ir.Delivery(
            operation_id=op.operation_id,
            path=op.path,
            limits=op.limits,
            message_id_field=op.message_id_field,
            timestamp_field=fields.timestamp,
            timestamp_format=timestamp_format or "date-time",
            sent_at_field=fields.sent_at,
            library_field=fields.library,
            kind_field=kind_field,
            kinds=kinds,
            events=any(o.validates_events for o in s.operations),
            partial_failure=op.partial_failure,
        )
        out.append(replace(s, delivery=delivery))
    return tuple(out)
