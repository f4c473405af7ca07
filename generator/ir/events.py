"""Semantic events: track-call models whose `event` is a single fixed name.

A model is a semantic event when it has a `type` property fixed to "track" and an `event`
property fixed to one string (a one-value enum or a const). This module reads such models
out of the finished model table and describes each as an `ir.SemanticEvent`: its own
properties, what identity it needs, which context fields it requires, and an example.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..spec import extensions
from . import model as ir
from .model import OBJECT
from .naming import dedupe, snake

IDENTITY_FIELDS = ("userId", "anonymousId")
CONTAINERS = ("properties", "context")  # objects whose fields an event lists one by one
FIXED_ARGS = (
    "user_id",
    "anonymous_id",
    "timestamp",
    "context",
    "integrations",
    "message_id",
    "properties",
    "extra_properties",
)


def _single_value(schema: ir.Schema | None) -> Any | None:
    return schema.enum_values[0] if schema is not None and schema.is_constant else None


def _resolve(schema: ir.Schema, models: dict[str, ir.Schema]) -> ir.Schema:
    return models.get(schema.ref, schema) if schema.ref else schema


def _context_fields(
    context: ir.Property | None, models: dict[str, ir.Schema]
) -> list[ir.EventProperty]:
    """Fields of sub-objects of `context` that declare required keys (e.g. context.device)."""
    if context is None:
        return []
    ctx = _resolve(context.schema, models)
    out: list[ir.EventProperty] = []
    for sub in ctx.properties:
        sub_schema = _resolve(sub.schema, models)
        if sub_schema.kind != OBJECT or not sub_schema.required:
            continue
        for leaf in sub_schema.properties:
            out.append(
                ir.EventProperty(
                    name=leaf.name,
                    py_name=snake(f"{sub.name}_{leaf.name}"),
                    schema=leaf.schema,
                    required=leaf.name in sub_schema.required,
                    description=leaf.description,
                    location=f"context.{sub.name}",
                )
            )
    return out


def extract_events(
    models: dict[str, ir.Schema], examples: list[Any]
) -> tuple[ir.SemanticEvent, ...]:
    events: list[ir.SemanticEvent] = []
    for model in models.values():
        if model.kind != OBJECT:
            continue
        props = {p.name: p for p in model.properties}
        name = _single_value(props["event"].schema) if "event" in props else None
        kind = _single_value(props["type"].schema) if "type" in props else None
        if kind != "track" or not isinstance(name, str):
            continue
        own: list[ir.EventProperty] = []
        additional = True
        properties_required = "properties" in model.required
        if "properties" in props:
            pschema = _resolve(props["properties"].schema, models)
            if pschema.kind == OBJECT:
                additional = pschema.additional_allowed
                own = [
                    ir.EventProperty(
                        name=p.name,
                        py_name=snake(p.name),
                        schema=p.schema,
                        required=p.name in pschema.required,
                        description=p.description,
                    )
                    for p in pschema.properties
                ]
        context = _context_fields(props.get("context"), models)
        names = dedupe([p.py_name for p in own + context], reserved=FIXED_ARGS)
        own = [replace(p, py_name=n) for p, n in zip(own, names[: len(own)])]
        context = [replace(p, py_name=n) for p, n in zip(context, names[len(own) :])]
        identity = tuple(f for f in IDENTITY_FIELDS if f in props)
        # "one of userId or anonymousId" is an anyOf of `required` lists naming one each
        one_of = tuple(
            alt[0]
            for alt in model.required_one_of
            if len(alt) == 1 and alt[0] in identity
        )
        fixed = tuple(
            (p.name, p.schema.enum_values[0])
            for p in model.properties
            if p.required and p.schema.is_constant
        )
        top = tuple(
            p
            for p in model.properties
            if not (p.required and p.schema.is_constant) and p.name not in CONTAINERS
        )
        example = next(
            (e for e in examples if isinstance(e, dict) and e.get("event") == name),
            None,
        )
        if example is None and model.has_example:
            example = model.example
        family = extensions.event_family(dict(model.extensions))
        events.append(
            ir.SemanticEvent(
                name=name,
                py_name=snake(name),
                family=snake(family) if family else "custom",
                class_name=model.class_name,
                description=model.description,
                properties=tuple(own),
                properties_required=properties_required,
                additional_properties=additional,
                identity=identity,
                identity_required=tuple(f for f in identity if f in model.required),
                identity_one_of=one_of,
                fixed=fixed,
                top=top,
                context=tuple(context),
                example=example,
                has_example=example is not None,
                from_reference=extensions.properties_from_reference(
                    dict(model.extensions)
                ),
                schema=model,
                source=model.source,
            )
        )
    events.sort(key=lambda e: e.name)
    py_names = dedupe([e.py_name for e in events])
    return tuple(replace(e, py_name=n) for e, n in zip(events, py_names))
