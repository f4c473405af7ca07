"""The one home of the per-kind rules: for every schema kind (`ir.OBJECT`, `ir.ENUM`, ...),
its Python type, how a JSON value is decoded into it, how a union tells it apart by shape,
and a field's default.

Types are written as annotations (PEP 604/585: `str | None`, `list[int]`; every generated
module has `from __future__ import annotations`). The one place Python 3.9 evaluates a type
at run time, a union alias, writes `Union[...]` of quoted variants: forward references,
which are annotations again.
"""

from __future__ import annotations

import re
from typing import Callable

from .. import ir
from ..ir import ANY, ARRAY, ENUM, MAP, OBJECT, PRIMITIVE, UNION
from .text import py_literal

_PRIMS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}
_FORMATS = {
    "date-time": "datetime.datetime",
    "date": "datetime.date",
    "binary": "bytes",
}
# String formats a union tells apart by their text (functions in _serde), most specific
# first: a date-only string is also a valid date-time to `datetime.fromisoformat`.
_TEXT_CHECKS = {"date": "is_date_text", "date-time": "is_datetime_text"}
TYPING_NAMES = ("Any", "Literal", "Optional", "Union", "cast")


def annotation(s: ir.Schema) -> str:
    """The type of a value of schema `s`, as an annotation."""
    base = _base(s, annotation)
    if s.nullable and base not in ("Any", "None"):
        return f"{base} | None"
    return base


def _base(s: ir.Schema, inner: Callable[[ir.Schema], str]) -> str:
    # `inner` is `annotation` (one place for the rules of nested types)
    k = s.kind
    if k == OBJECT:
        return s.class_name or "dict[str, Any]"
    if k == ENUM:
        if s.is_constant and not s.class_name:
            return f"Literal[{py_literal(s.enum_values[0])}]"
        raw = "str" if s.enum_type == "string" else "int"
        return f"{s.class_name} | {raw}"
    if k == UNION:
        if s.class_name:
            return s.class_name
        return " | ".join(inner(v) for v in s.variants)
    if k == ARRAY:
        return f"list[{inner(s.items or ir.Schema(kind=ANY))}]"
    if k == MAP:
        return f"dict[str, {inner(s.items or ir.Schema(kind=ANY))}]"
    if k == PRIMITIVE:
        if s.type == "string" and s.format in _FORMATS:
            return _FORMATS[s.format]
        if is_unix_time(s):  # seconds since the epoch: a datetime is converted
            return "int | datetime.datetime"
        return _PRIMS.get(s.type, "Any")
    return "Any"


def is_unix_time(s: ir.Schema) -> bool:
    """An integer of seconds since the epoch (`format: unix-time`, as Stripe's spec and
    ciogen's Track spec write it)."""
    return s.kind == PRIMITIVE and s.type == "integer" and s.format == "unix-time"


# the style and explode of a path, header or cookie parameter that names neither: the
# runtime writes these itself (_encoding._expand, cookie_header)
_PLAIN_STYLES = {
    "path": ("simple", False),
    "header": ("simple", False),
    "cookie": ("form", True),
}


def param_value(p: ir.Parameter) -> str:
    """What a call sends for parameter `p`: its argument, with a datetime given for a Unix
    time turned into whole seconds (the text form of a datetime is ISO-8601), JSON text
    for one given by `content: application/json`, and marked with its style where a path,
    header or cookie parameter has one other than its location's default (a query
    parameter's style is the template's `query_param`); marked `reserved` when it is an
    `allowReserved` query parameter's scalar value (`query_param` marks the values of an
    array or object one)."""
    value = f"unix_time({p.py_name})" if is_unix_time(p.schema) else p.py_name
    if p.allow_reserved and not p.structured:
        return f"reserved({value})"
    if p.content_type:
        json_media = p.content_type.split(";")[0].strip().lower()
        if json_media == "application/json" or json_media.endswith("+json"):
            return f"json_param({value})"
        return value
    plain = _PLAIN_STYLES.get(p.location)
    if plain is not None and (p.style, p.explode) != plain:
        return f"styled({value}, {py_literal(p.style)}, {p.explode})"
    return value


def encode(s: ir.Schema, expr: str) -> str:
    """A Python expression turning the field value `expr` into JSON data."""
    if is_unix_time(s):
        return f"to_json(unix_time({expr}))"
    return f"to_json({expr})"


def decode(s: ir.Schema, expr: str, depth: int = 0) -> str:
    """A Python expression turning the JSON value `expr` into the type of `s`."""
    inner = _decode(s, expr, depth)
    if s.nullable and inner != expr:
        return f"(None if {expr} is None else {inner})"
    return inner


def _decode(s: ir.Schema, expr: str, depth: int) -> str:
    var = f"x{depth}"
    k = s.kind
    if k == OBJECT and s.class_name:
        return f"{s.class_name}.from_dict({expr})"
    if k == ENUM and s.class_name:
        return f"decode_enum({s.class_name}, {expr})"
    if k == UNION and s.class_name:
        return f"decode_{s.class_name}({expr})"
    # a container is checked for its JSON kind before it is copied or walked (_serde's
    # json_array, json_object): `list("ab")` and `dict([["a", 1]])` would pass as data
    if k == ARRAY:
        item = decode(s.items or ir.Schema(kind=ANY), var, depth + 1)
        array = f"json_array({expr})"
        return array if item == var else f"[{item} for {var} in {array}]"
    if k == MAP:
        item = decode(s.items or ir.Schema(kind=ANY), var, depth + 1)
        obj = f"json_object({expr})"
        if item == var:
            return obj
        return f"{{k{depth}: {item} for k{depth}, {var} in {obj}.items()}}"
    if k == PRIMITIVE and s.type == "string" and s.format in ("date-time", "date"):
        return f"parse_{'datetime' if s.format == 'date-time' else 'date'}({expr})"
    return expr


def variant_decode(s: ir.Schema, expr: str) -> str:
    """`decode` for a union's variant, once its test (`shape_tests`) has picked it: a
    one-value enum is that value itself (so its type checker sees the literal, not the
    JSON value)."""
    if s.kind == ENUM and s.is_constant and not s.class_name:
        return py_literal(s.enum_values[0])
    return decode(s, expr)


def matcher_checks(
    s: ir.Schema, expr: str, depth: int = 0, items: bool = False
) -> list[str]:
    """The checks, joined with `and`, that the JSON value `expr` has this variant's shape:
    unions without a discriminator are decoded by shape, never by trying each variant.
    With `items`, an array's items are checked too (see `shape_tests`).
    """
    k = s.kind
    if k == OBJECT:
        return [f"isinstance({expr}, Mapping)"] + [
            f"{py_literal(r)} in {expr}" for r in s.required
        ]
    if k == MAP:
        return [f"isinstance({expr}, Mapping)"]
    if k == ARRAY:
        checks = [f"isinstance({expr}, list)"]
        return checks + _items_checks(s, expr, depth) if items else checks
    if k == ENUM:
        return [f"{expr} in {py_literal(tuple(s.enum_values))}"]
    if k == PRIMITIVE:
        if s.type == "string" and s.format in _TEXT_CHECKS:
            return [f"isinstance({expr}, str)", f"{_TEXT_CHECKS[s.format]}({expr})"]
        return {
            "string": [f"isinstance({expr}, str)"],
            "integer": [f"isinstance({expr}, int)", f"not isinstance({expr}, bool)"],
            "number": [
                f"isinstance({expr}, (int, float))",
                f"not isinstance({expr}, bool)",
            ],
            "boolean": [f"isinstance({expr}, bool)"],
            "null": [f"{expr} is None"],
        }.get(s.type, ["True"])
    return ["True"]


def _items_checks(s: ir.Schema, expr: str, depth: int) -> list[str]:
    """That every item of the array `expr` has the shape of the variant's items: two
    array variants are told apart by what they hold (GitHub's starred repositories, with
    or without the time they were starred); an empty array is the first array variant.
    """
    item = s.items
    if item is None:
        return []
    var = f"x{depth}"
    checks = matcher_checks(item, var, depth + 1, items=True)
    if checks == ["True"]:
        return []
    return [f"all({' and '.join(checks)} for {var} in {expr})"]


def json_type(s: ir.Schema) -> str:
    """The JSON type a value of `s` has ("any" where a union or Any allows several)."""
    if s.kind in (OBJECT, MAP):
        return "object"
    if s.kind == ARRAY:
        return "array"
    if s.kind == ENUM:
        return s.enum_type or "any"
    if s.kind == PRIMITIVE and s.type in _PRIMS:
        return s.type
    return "any"


def shape_tests(variants: tuple[ir.Schema, ...]) -> list[tuple[ir.Schema, str]]:
    """A union's distinct variants in the order they are tested (`by_shape`), each with
    its test of the JSON value `data`. Every array variant but the last tested also
    checks its items' shape (two arrays are told apart by what they hold; without it the
    second was never picked); the last takes any array, so decoding it says which item
    is wrong, as it does for a union of one array variant."""
    ordered = by_shape(distinct_variants(variants))
    last = next((v for v in reversed(ordered) if v.kind == ARRAY), None)
    objects = [v for v in ordered if v.kind == OBJECT]
    return [
        (
            v,
            " and ".join(
                matcher_checks(v, "data", items=v is not last)
                + _telling_checks(v, objects)
            ),
        )
        for v in ordered
    ]


# How a present, non-null property value is seen to have a JSON type.
_TYPE_CHECKS = {
    "object": "isinstance({x}, Mapping)",
    "array": "isinstance({x}, list)",
    "string": "isinstance({x}, str)",
    "boolean": "isinstance({x}, bool)",
}


def _telling_checks(v: ir.Schema, objects: list[ir.Schema]) -> list[str]:
    """For an object variant, that each property it shares with another object variant of
    the union under another JSON type has its own type, when present and not null.
    Required keys alone do not tell apart two objects with the same keys (Vonage's
    number insight answers `roaming` as an object, or as the string `unknown` in a second
    variant): the first always won, and a valid answer of the second was refused."""
    if v.kind != OBJECT:
        return []
    out = []
    for p in v.properties:
        mine = json_type(p.schema)
        if mine not in _TYPE_CHECKS:
            continue  # numbers overlap (1 is both), and "any" tells nothing
        for other in objects:
            theirs = next((q for q in other.properties if q.name == p.name), None)
            if other is v or theirs is None:
                continue
            if json_type(theirs.schema) not in (mine, "any"):
                x = f"data[{py_literal(p.name)}]"
                check = _TYPE_CHECKS[mine].format(x=x)
                key = py_literal(p.name)
                out.append(f"({key} not in data or {x} is None or {check})")
                break
    return out


def distinct_variants(variants: tuple[ir.Schema, ...]) -> list[ir.Schema]:
    """A union's variants without repeats of a type (`oneOf` of three strings that differ
    only in their description is one `str`): the first of each, in the spec's order."""
    seen: set[str] = set()
    out = []
    for v in variants:
        t = annotation(v)
        if t not in seen:
            seen.add(t)
            out.append(v)
    return out


def by_shape(variants: tuple[ir.Schema, ...] | list[ir.Schema]) -> list[ir.Schema]:
    """Union variants in the order their shapes are tested: objects that require more keys
    first (an object requiring none matches every object), strings of a known format before
    other strings (dates before date-times), arrays as their items, a variant with no test
    of its own (a union, Any) last, the spec's order otherwise."""

    def rank(v: ir.Schema) -> int:
        if v.kind == ARRAY and v.items is not None:
            return rank(v.items)  # arrays by their items, alike
        if v.kind == OBJECT:
            return -len(v.required)
        if v.kind == PRIMITIVE and v.type == "string" and v.format in _TEXT_CHECKS:
            return list(_TEXT_CHECKS).index(v.format) - len(_TEXT_CHECKS)
        if matcher_checks(v, "data") == ["True"]:
            # a union (or Any) takes every value untested: first, it took the values of
            # the variants after it too, and refused them (`oneOf: [AnotherUnion, string]`
            # refused every string)
            return 1
        return 0

    return sorted(variants, key=rank)


def field_default(p: ir.Property) -> str | None:
    """The dataclass default of a field (`UNSET` when optional), None when it has none."""
    s = p.schema
    if s.is_constant and not s.class_name:  # a one-value field is always filled in
        return py_literal(s.enum_values[0])
    return None if p.required else "UNSET"


def field_type(p: ir.Property) -> str:
    t = annotation(p.schema)
    return f"{t} | Unset" if field_default(p) == "UNSET" else t


def ordered_fields(model: ir.Schema) -> list[ir.Property]:
    """Required fields first (dataclass rule), then defaulted ones; spec order otherwise."""
    props = list(model.properties)
    return [p for p in props if field_default(p) is None] + [
        p for p in props if field_default(p) is not None
    ]


def model_names(s: ir.Schema | None, out: set[str], decoding: bool = False) -> None:
    """Add the model classes a type of `s` names; with `decoding`, what decoding a value
    of it calls (a union's decoder instead of the union)."""
    if s is None:
        return
    if s.class_name:
        # decoding a union calls its decoder; the alias itself is only a type
        out.add(
            "decode_" + s.class_name if s.kind == UNION and decoding else s.class_name
        )
        return  # a named model's insides are its own business
    for child in (s.items, *s.variants):
        model_names(child, out, decoding)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def typing_names(code: str) -> list[str]:
    """The names from `typing` that a piece of generated code (types, casts) uses."""
    used = set(_WORD.findall(code))
    return [n for n in TYPING_NAMES if n in used]
