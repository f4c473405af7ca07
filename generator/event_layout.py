"""The code of `events.py` that depends on one property's schema, laid out as black lays it out.

`events.py.j2` lists the events; these filters write each property's parts: its type as a
constructor argument (`event_arg`), what a message says it must be (`expected`) and its
`PropertySpec(...)` entry in `EVENTS` (`property_spec`), whose `check=lambda v: ...` test
is split over lines exactly where black would split it, so black has nothing to change.
They are Python rather than Jinja macros because the layout rules are easier to read (and
much cheaper to compile on every run) as code.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from . import ir
from .render import fits, matcher, py_literal, py_type

_PAD = " " * 20  # the arguments of a PropertySpec entry in EVENTS
_HEAD = "check=lambda v: "


def _is_string(s: ir.Schema, fmt: str) -> bool:
    return s.kind == ir.PRIMITIVE and s.type == "string" and s.format == fmt


def arg_type(s: ir.Schema) -> str:
    """A constructor argument's type: date and date-time values may also be ISO strings."""
    for fmt, cls in (("date-time", "datetime.datetime"), ("date", "datetime.date")):
        if _is_string(s, fmt):
            return f"Union[{cls}, str{', None' if s.nullable else ''}]"
    return py_type(s)


def event_arg(name: str, s: ir.Schema, required: bool) -> str:
    """One parameter line of an event constructor (keyword-only; optional ones default)."""
    if required:
        return f"    {name}: {arg_type(s)},"
    if s.nullable:
        return f"    {name}: Union[{arg_type(s)}, Unset] = UNSET,"
    return f"    {name}: Optional[{arg_type(s)}] = None,"


def expected(s: ir.Schema) -> str:
    """What a value must be, as SemanticEventError messages say it."""
    if s.kind == ir.ENUM:
        text = "one of " + ", ".join(py_literal(v) for v in s.enum_values)
        return text + (" or None" if s.nullable else "")
    if _is_string(s, "date-time"):
        return "an ISO-8601 date-time string"
    if _is_string(s, "date"):
        return "an ISO-8601 date string"
    return py_type(s)


def property_spec(name: str, argument: str, location: str, required: bool, s: ir.Schema) -> str:
    """The `PropertySpec(...)` entry of one field, 16 columns in, ending with a comma."""
    lines = [
        "PropertySpec(",
        f"{_PAD}name={py_literal(name)},",
        f"{_PAD}argument={py_literal(argument)},",
        f"{_PAD}location={py_literal(location)},",
        f"{_PAD}required={py_literal(required)},",
        f"{_PAD}nullable={py_literal(s.nullable)},",
        f"{_PAD}format={py_literal(s.format)},",
        f"{_PAD}expected={py_literal(expected(s))},",
        *_choices(tuple(s.enum_values) if s.kind == ir.ENUM else ()),
        *_check(s),
        " " * 16 + "),",
    ]
    return "\n".join(lines)


def _choices(values: Sequence[Any]) -> List[str]:
    joined = f"{_PAD}choices={py_literal(tuple(values))},"
    if fits(joined):
        return [joined]
    return [f"{_PAD}choices=("] + [f"{_PAD}    {py_literal(v)}," for v in values] + [f"{_PAD}),"]


def _check(s: ir.Schema) -> List[str]:
    """`check=lambda v: ...,`: black splits a long lambda body before its lowest-priority
    operators (`or`, else `and`, else an enum's `in`), each line at the same indentation, and
    a part still too long again (`or (` ... `)`, an enum tuple one value per line). When a
    part cannot be split that way the joined line is kept: black leaves such a line as is."""
    m = matcher(s, "v")
    joined = _PAD + _HEAD + (f"v is None or ({m})" if s.nullable else m) + ","
    if fits(joined):
        return [joined]
    if s.nullable and fits(f"{_PAD}or ({m}),"):
        return [f"{_PAD}{_HEAD}v is None", f"{_PAD}or ({m}),"]
    if s.nullable:
        inner = [f"{_PAD}    {m}"] if fits(f"{_PAD}    {m}") else _split(s, _PAD + "    ", "", "")
        return [f"{_PAD}{_HEAD}v is None", f"{_PAD}or (", *inner, f"{_PAD}),"] if inner else [joined]
    return _split(s, _PAD, _HEAD, ",") or [joined]


def _split(s: ir.Schema, pad: str, first: str, last: str) -> List[str]:
    """A non-null matcher split black's way at `pad`, `first` before it and `last` after it;
    [] when a line would still be too long."""
    m = matcher(s, "v")
    if s.kind == ir.ENUM:
        if fits(pad + m[2:] + last):
            return [f"{pad}{first}v", pad + m[2:] + last]
        values = [f"{pad}    {py_literal(v)}," for v in s.enum_values]
        return [f"{pad}{first}v", f"{pad}in ("] + values + [f"{pad}){last}"]
    if s.kind == ir.OBJECT:
        parts = ["isinstance(v, Mapping)"] + [f"{py_literal(r)} in v" for r in s.required]
    else:
        parts = m.split(" and ")
    lines = [pad + first + parts[0]] + [f"{pad}and {p}" for p in parts[1:]]
    lines[-1] += last if len(lines) > 1 else ""
    if len(lines) > 1 and all(fits(line) for line in lines):
        return lines
    return []


FILTERS: Dict[str, Any] = {
    "event_arg": event_arg,
    "property_spec": property_spec,
}
