"""Background delivery: which operation of a surface takes batches of messages, which kinds
of message go in them, and what a background client fills in each one.

A surface has background delivery when one of its operations states an `items_field`
(`x-ciogen-limits`): the body array whose items are separate messages. The item schema
gives the kinds (a discriminated union's mapping: one enqueue method per kind), the root
`x-ciogen-delivery` the fields to fill (timestamp, sentAt, the client's library), the
surface's `x-ciogen-message-id` the id each message keeps across retries.
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
    rows: list[tuple[str, str, ir.Schema]] = []  # (value, name hint, model)
    for value, cls in disc.mapping:
        target = models.get(cls)
        if target is not None and target.kind == OBJECT:
            rows.append((value, value, target))
        elif target is not None and target.kind == UNION and target.discriminator:
            for inner, inner_cls in target.discriminator.mapping:
                model = models.get(inner_cls)
                if model is not None and model.kind == OBJECT:
                    rows.append((value, f"{value}_{inner}", model))
    names = dedupe([snake(hint) for _, hint, _ in rows], reserved=CLIENT_RESERVED)
    kinds = tuple(
        ir.DeliveryKind(value, name, model, model.required_one_of)
        for (value, _, model), name in zip(rows, names)
    )
    return disc.property_name, kinds


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
