"""The machinery behind `events.py`: what a semantic event requires of a track call, the
checks that hold a track call to it, and the building of a track call from keyword arguments.

Nothing here names an event or a wire field: `events.py`, made from the specs, describes
its events as `EventSpec` records and says where a track call keeps its event name, its
properties and its context in a `TrackCallShape`.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, TypeVar, cast

from ._errors import Error
from ._serde import format_datetime, is_date_text, is_datetime_text, to_json
from ._types import UNSET, Unset

# The location of a field at the top of a track call (other fields sit in an object).
TOP = "top"


class SemanticEventError(Error, ValueError):
    """A semantic event misses something its spec requires or has a value of the wrong type.

    `event` is the event name, `field` the offending field's dotted path in the track call
    (a top-level name, or a path into its properties or context object). Messages name
    fields and types, never values.
    """

    def __init__(self, event: str, field: str, problem: str) -> None:
        self.event = event
        self.field = field
        self.problem = problem
        super().__init__(f"semantic event {event!r}: {problem}")


@dataclass(frozen=True)
class TrackCallShape:
    """Where a track call keeps its event name, its properties and its context."""

    event_field: str  # the property naming the event
    properties_field: str  # the object holding the event's own properties
    context_field: str  # the object holding context fields (device, screen, ...)


@dataclass(frozen=True)
class PropertySpec:
    """One field of a semantic event and the constructor argument that sets it."""

    name: str  # wire name
    argument: str  # keyword argument of the constructor
    location: str  # TOP, the properties field or "<context field>.<object>"
    required: bool
    nullable: bool
    format: str  # the schema's format ("date-time", ...), "" when none
    expected: str  # what the value must be, for messages
    choices: tuple[Any, ...]  # the allowed values of an enum, () otherwise
    type: str = "any"  # its JSON type: string, integer, number, boolean, object, array
    keys: tuple[str, ...] = ()  # the keys an object must have

    @property
    def path(self) -> str:
        return self.name if self.location == TOP else f"{self.location}.{self.name}"

    def check(self, value: Any) -> bool:
        """Whether a value has the type, format and one of the values this field allows."""
        if value is None:
            return self.nullable or self.type == "null"
        if self.choices:
            return value in self.choices
        test = _TYPE_TESTS.get(self.type)
        if test is not None and not test(value):
            return False
        if self.type == "object":
            return all(key in value for key in self.keys)
        if self.type == "string" and self.format in _TEXT_TESTS:
            return _TEXT_TESTS[self.format](value)
        return True


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list),
}
_TEXT_TESTS: dict[str, Callable[[str], bool]] = {
    "date": is_date_text,
    "date-time": is_datetime_text,
}


@dataclass(frozen=True)
class EventSpec:
    """What one semantic event requires of a track call (rendered from the specs)."""

    name: str  # the event name on the wire
    constructor: str  # name of its constructor in `events`
    family: str
    model: str  # model class of the whole track call in `.models`
    shape: TrackCallShape
    fixed: tuple[tuple[str, Any], ...]  # fields with one possible value (type, event)
    identity: tuple[str, ...]  # identity fields the event accepts
    identity_required: tuple[str, ...]  # identity fields the schema requires
    identity_one_of: tuple[str, ...]  # at least one of these is needed (empty: none)
    properties_required: bool  # the properties object itself is required
    extra_properties: bool  # properties the spec does not name are allowed
    fields: tuple[PropertySpec, ...]  # top-level, properties and context fields

    @property
    def properties(self) -> tuple[PropertySpec, ...]:
        return tuple(
            f for f in self.fields if f.location == self.shape.properties_field
        )

    @property
    def context(self) -> tuple[PropertySpec, ...]:
        prefix = self.shape.context_field + "."
        return tuple(f for f in self.fields if f.location.startswith(prefix))

    @property
    def required_properties(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.properties if f.required)

    @property
    def required_context(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.context if f.required)


# ---- checking -----------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _close(name: str, candidates: list[str]) -> str | None:
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def _container(
    spec: EventSpec, payload: Mapping[str, Any], location: str
) -> Mapping[str, Any] | None:
    """The object a field lives in, or None when it (or an object above it) is absent."""
    if location == TOP:
        return payload
    node: Any = payload
    path: list[str] = []
    for part in location.split("."):
        path.append(part)
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return None
        if not isinstance(node, Mapping):
            where = ".".join(path)
            raise SemanticEventError(
                spec.name, where, f"{where} must be an object, got {_type_name(node)}"
            )
    return cast(Mapping[str, Any], node)


def check_event(spec: EventSpec, payload: Mapping[str, Any]) -> None:
    """Raise SemanticEventError when a track call breaks what its event requires."""
    properties = spec.shape.properties_field
    props = payload.get(properties)
    if props is None and spec.properties_required:
        raise SemanticEventError(spec.name, properties, f"{properties} is required")
    if props is not None and not isinstance(props, Mapping):
        raise SemanticEventError(
            spec.name,
            properties,
            f"{properties} must be an object, got {_type_name(props)}",
        )
    known = {f.name for f in spec.properties}
    unknown = (
        [str(k) for k in props if k not in known] if isinstance(props, Mapping) else []
    )
    for f in spec.fields:
        box = _container(spec, payload, f.location)
        if box is None or f.name not in box:
            if f.required:
                hint = _close(f.name, unknown) if f.location == properties else None
                raise SemanticEventError(
                    spec.name,
                    f.path,
                    f"{f.path} is required"
                    + (f" (found {hint!r}: misspelt?)" if hint else "")
                    + f"; {spec.constructor}() takes it as {f.argument}=",
                )
            continue
        value = box[f.name]
        if not f.check(value):
            got = _type_name(value)
            if f.choices and any(type(value) is type(c) for c in f.choices):
                got = f"another {got}"
            raise SemanticEventError(
                spec.name, f.path, f"{f.path} must be {f.expected}, got {got}"
            )
    if spec.identity_one_of and all(
        payload.get(k) is None for k in spec.identity_one_of
    ):
        names = " or ".join(spec.identity_one_of)
        raise SemanticEventError(spec.name, names, f"needs {names}")
    if unknown and not spec.extra_properties:
        name = unknown[0]
        hint = _close(name, sorted(known))
        raise SemanticEventError(
            spec.name,
            f"{properties}.{name}",
            f"unknown property {name!r}"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + f"; the event allows only {', '.join(sorted(known)) or 'none'}",
        )


def find_and_check(
    events: Mapping[str, EventSpec], shape: TrackCallShape, payload: Any
) -> EventSpec | None:
    """The spec of a track call's semantic event, after checking the call against it;
    None (nothing checked) for a payload that is not a mapping or names no such event.
    """
    if not isinstance(payload, Mapping):
        return None
    name = payload.get(shape.event_field)
    spec = events.get(name) if isinstance(name, str) else None
    if spec is None:
        return None
    check_event(spec, payload)
    return spec


# ---- building -----------------------------------------------------------------------------

_ISO = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?"
)


def _parse_datetime(spec: EventSpec, where: str, text: str) -> datetime.datetime:
    m = _ISO.fullmatch(text.strip())
    if m is None:
        raise SemanticEventError(
            spec.name, where, f"{where} is not an ISO-8601 date-time"
        )
    date, clock, fraction, zone = m.groups()
    if zone is None:
        raise SemanticEventError(
            spec.name, where, f"{where} has no UTC offset; give one (e.g. Z or +02:00)"
        )
    if len(clock) == 5:
        clock += ":00"
    micro = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    if len(zone) == 5:
        zone = zone[:3] + ":" + zone[3:]
    try:
        return datetime.datetime.fromisoformat(f"{date}T{clock}.{micro}{zone}")
    except ValueError:
        raise SemanticEventError(
            spec.name, where, f"{where} is not a valid ISO-8601 date-time"
        ) from None


def _json(spec: EventSpec, where: str, value: Any) -> Any:
    """JSON data for a value; datetimes in UTC (a naive one is local time, see
    `format_datetime`)."""
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, Mapping):
        return {str(k): _json(spec, f"{where}.{k}", v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(spec, f"{where}[{i}]", v) for i, v in enumerate(value)]
    return to_json(value)


def _field_value(spec: EventSpec, f: PropertySpec, value: Any) -> Any:
    if f.format == "date-time" and isinstance(value, str):
        value = _parse_datetime(spec, f.path, value)
    return _json(spec, f.path, value)


def _place(payload: dict[str, Any], location: str, name: str, value: Any) -> None:
    node = payload
    if location != TOP:
        for part in location.split("."):
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
    node[name] = value


def build_track_call(
    spec: EventSpec,
    values: Mapping[str, Any],
    context: Mapping[str, Any] | Unset | None = UNSET,
    extra_properties: Mapping[str, Any] | Unset | None = UNSET,
) -> dict[str, Any]:
    """The checked, JSON-ready track call of an event from its constructor's arguments
    (`values`, by argument name; UNSET ones are left out, as are context and
    extra_properties when UNSET or None)."""
    properties = spec.shape.properties_field
    context_field = spec.shape.context_field
    payload: dict[str, Any] = dict(spec.fixed)

    def put(where: Callable[[str], bool]) -> None:
        for f in spec.fields:
            value = values.get(f.argument, UNSET)
            if not where(f.location) or isinstance(value, Unset):
                continue
            if value is None and not f.nullable:
                continue
            _place(payload, f.location, f.name, _field_value(spec, f, value))

    put(lambda loc: loc == TOP)
    if spec.properties_required:
        payload[properties] = {}
    put(lambda loc: loc == properties)
    if extra_properties:
        if not isinstance(extra_properties, Mapping):
            raise SemanticEventError(
                spec.name,
                properties,
                f"extra_properties must be a dict, got {_type_name(extra_properties)}",
            )
        by_name = {f.name: f for f in spec.properties}
        for key, value in extra_properties.items():
            name = str(key)
            if name in by_name:
                raise SemanticEventError(
                    spec.name,
                    f"{properties}.{name}",
                    f"{properties}.{name} is a named property: pass it as "
                    f"{by_name[name].argument}=, not in extra_properties",
                )
            _place(
                payload, properties, name, _json(spec, f"{properties}.{name}", value)
            )
    if context is not None and not isinstance(context, Unset):
        if not isinstance(context, Mapping):
            raise SemanticEventError(
                spec.name,
                context_field,
                f"context must be a dict, got {_type_name(context)}",
            )
        payload[context_field] = _json(spec, context_field, context)
    put(lambda loc: loc.startswith(context_field + "."))
    if context_field in payload and not payload[context_field]:
        del payload[context_field]
    check_event(spec, payload)
    return payload


_F = TypeVar("_F", bound=Callable[..., dict[str, Any]])


def event_constructor(
    events: Mapping[str, EventSpec], event: str
) -> Callable[[_F], _F]:
    """Turn a wrong call of an event's constructor (positional, unknown or missing
    argument) into SemanticEventError."""

    def decorate(fn: _F) -> _F:
        params = inspect.signature(fn).parameters
        required = [
            n for n, p in params.items() if p.default is inspect.Parameter.empty
        ]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
            spec = events[event]
            if args:
                raise SemanticEventError(
                    event, "", f"{spec.constructor}() takes keyword arguments only"
                )
            for key in kwargs:
                if key not in params:
                    hint = _close(key, list(params))
                    raise SemanticEventError(
                        event,
                        key,
                        f"{spec.constructor}() has no argument {key!r}"
                        + (f" (did you mean {hint!r}?)" if hint else "")
                        + (
                            "; pass other properties in extra_properties"
                            if "extra_properties" in params
                            else ""
                        ),
                    )
            for key in required:
                if key not in kwargs:
                    where = next(
                        (f.path for f in spec.fields if f.argument == key), key
                    )
                    raise SemanticEventError(
                        event,
                        where,
                        f"{where} is required: pass {spec.constructor}({key}=...)",
                    )
            return fn(**kwargs)

        return cast(_F, wrapper)

    return decorate
