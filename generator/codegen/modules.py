"""What each generated module declares and imports, decided from the IR for its template:
the parameters of an operation's methods, the limits constants of a surface, and the import
block of the surface, models and events modules (only what the code uses: no blanket
`noqa`).

Layout is black's business (it formats every module the templates write); nothing here
decides where a line breaks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, Final

from .. import ir
from ..ir import OBJECT
from ..reserved import PACKAGE_ERRORS
from .layout import alias_head
from .text import py_literal
from .types import (
    annotation,
    decode,
    encode,
    field_default,
    field_type,
    model_names,
    ordered_fields,
    param_value,
    shape_tests,
    typing_names,
    variant_decode,
)

PER_CALL = (
    "max_retries: int | None = None",
    "timeout: float | Timeout | None = None",
    "extra_headers: Mapping[str, str] | None = None",
    "extra_query: Mapping[str, Any] | None = None",
)


@functools.cache  # names repeat across thousands of modules
def _natural(text: str) -> tuple[tuple[int | str, ...], ...]:
    """A natural sort key (`Item2` before `Item10`), as ruff compares names (the `natord`
    crate, after strnatcmp): a run of digits by its value, but one led by a zero (a
    module name's hash, `_0385a420`) as a fraction, digit by digit and before the others;
    anything else character by character, where every other character sorts after the
    digits. A run of other characters is kept whole: where one run is a prefix of the
    other, the shorter is followed by digits or by nothing, which sort first either way,
    so the order is the same as with one entry per character."""
    return tuple(
        (
            ((0, 0, run) if run[0] == "0" else (0, 1, len(run), run))
            if run.isdigit()
            else (1, run)
        )
        for run in _RUNS.findall(text)
    )


_RUNS = re.compile(r"\d+|\D+")


def _kind(name: str) -> int:
    """Constants, then classes, then everything else (isort's order by type)."""
    if name.isupper() and len(name) > 1:
        return 0
    return 1 if name[:1].isupper() else 2


@functools.cache
def _name_order(name: str) -> tuple[Any, ...]:
    """isort's order of imported names (ruff's `I001`): by kind, then naturally without
    regard to case, then naturally with it."""
    return (_kind(name), _natural(name.lower()), _natural(name))


@functools.cache
def _all_order(name: str) -> tuple[Any, ...]:
    """The order of `__all__` ruff wants (`RUF022`): by kind, then naturally."""
    return (_kind(name), _natural(name))


@functools.cache
def _module_order(module: str) -> tuple[Any, ...]:
    """isort's order of modules: the furthest relative ones first, then naturally."""
    dots = len(module) - len(module.lstrip("."))
    return (-dots, _natural(module.lower()), _natural(module))


def import_lines(imports: dict[str, set[str]]) -> list[str]:
    """`import x` / `from m import a, b` lines, grouped and ordered as isort (ruff's `I`
    rules) orders them: standard library first, then this package's own modules."""
    stdlib = sorted((m for m in imports if not m.startswith(".")), key=_module_order)
    local = sorted((m for m in imports if m.startswith(".")), key=_module_order)
    out: list[str] = []
    for group in (stdlib, local):
        plain = sorted(
            n for m in group for n in imports[m] if m == n and not m.startswith(".")
        )
        out += [f"import {m}" for m in plain]
        for m in group:
            names = sorted(
                (n for n in imports[m] if n != m or m.startswith(".")), key=_name_order
            )
            if names:
                out.append(f"from {m} import {', '.join(names)}")
        if out and group is stdlib and local:
            out.append("")
    return out


def json_payload(op: ir.Operation) -> str:
    """The expression that encodes a JSON body given as `body` (a model or a mapping)."""
    fields = op.body.unix_time_fields if op.body else ()
    if fields:
        return f"to_json(with_unix_times(body, {py_literal(fields)}))"
    return "to_json(body)"


def _add(imports: dict[str, set[str]], module: str, *names: str) -> None:
    imports.setdefault(module, set()).update(names)


def _add_types(imports: dict[str, set[str]], code: str) -> None:
    """The names a piece of type or decoding code needs from the standard library."""
    names = typing_names(code)
    if names:
        _add(imports, "typing", *names)
    if "datetime." in code:
        _add(imports, "datetime", "datetime")
    if "Mapping" in code:
        _add(imports, "collections.abc", "Mapping")
    for helper in (
        "unix_time",
        "decode_enum",
        "json_array",
        "json_object",
        "parse_date",
        "parse_datetime",
        "is_date_text",
        "is_datetime_text",
        "to_json",
        "to_form",
        "with_unix_times",
    ):
        if helper + "(" in code:
            _add(imports, "._serde", helper)
    if "Unset" in code:
        _add(imports, "._types", "Unset")
    if "UNSET" in code:
        _add(imports, "._types", "UNSET")


def all_list(names: list[str]) -> str:
    """An `__all__` list literal in the order ruff wants it (RUF022: isort's order)."""
    ordered = sorted(set(names), key=_all_order)
    return "[" + "".join(f"\n    {py_literal(n)}," for n in ordered) + "\n]"


# What every package's `__init__` re-exports, by runtime module. Its error classes are
# reserved.py's PACKAGE_ERRORS (and, with background delivery, DELIVERY_ERRORS: a test
# checks that those lists agree), the names an API may not be given so that `<Name>Error`
# replaces none of them.
_PACKAGE_EXPORTS = {
    "._base_client": ("APIResponse", "Limits"),
    "._errors": tuple(sorted(PACKAGE_ERRORS)),
    "._operations": ("OPERATIONS", "OperationInfo"),
    "._types": ("UNSET", "Timeout", "Unset"),
}
# ... and what a package with background delivery adds.
_DELIVERY_EXPORTS = {
    "._delivery": (
        "DeliveryClosedError",
        "DeliveryStats",
        "MessageTooLargeError",
        "QueueFullError",
        "RejectedMessageError",
        "UndeliveredError",
    ),
    "._spool": ("SpoolDamagedError", "SpoolLockedError"),
}


def _package_imports(api: ir.Api) -> dict[str, set[str]]:
    imports: dict[str, set[str]] = {}
    exports = dict(_PACKAGE_EXPORTS)
    if any(s.delivery for s in api.surfaces):
        exports.update(_DELIVERY_EXPORTS)
    for module, names in exports.items():
        _add(imports, module, *names)
    for s in api.surfaces:
        _add(imports, f".{s.name}", s.class_name, "Async" + s.class_name)
        if s.delivery is not None:
            _add(imports, f".{s.name}_background", "Background" + s.class_name)
    return imports


def package_imports(api: ir.Api) -> list[str]:
    """The import block of the package's `__init__`."""
    return import_lines(_package_imports(api))


def package_exports(api: ir.Api) -> list[str]:
    """What the package's `__init__` exports: its imports, the API-named error, SPEC_HASH."""
    names = [n for names in _package_imports(api).values() for n in names]
    return [*names, f"{api.name}Error", "SPEC_HASH"]


# ---- surfaces ------------------------------------------------------------------------------


def body_type(op: ir.Operation) -> str:
    assert op.body is not None
    s = op.body.schema
    if s.kind == OBJECT and s.class_name:
        return f"{s.class_name} | Mapping[str, Any]"
    return annotation(s)


def method_parameters(op: ir.Operation) -> list[str]:
    """An operation's `_call` function parameters: path parameters and a required body
    positional, the rest keyword-only (client flags are the client's, not the call's).
    """
    named = [p for p in op.parameters if p.location != "path" and not p.client_flag]
    out = [f"{p.py_name}: {annotation(p.schema)}" for p in op.path_params]
    body = op.body
    if body and body.required:
        out.append(f"body: {body_type(op)}")
    if (body and not body.required) or named:
        out.append("*")
    if body and not body.required:
        out.append(f"body: {body_type(op)} | Unset = UNSET")
    out += [
        f"{p.py_name}: {annotation(p.schema)}"
        for p in named
        if p.required and constant_value(p) is None
    ]
    out += [
        f"{p.py_name}: {annotation(p.schema)} = {constant_value(p)}"
        for p in named
        if constant_value(p) is not None
    ]
    out += [
        f"{p.py_name}: {annotation(p.schema)} | Unset = UNSET"
        for p in named
        if not p.required
    ]
    return out


def constant_value(p: ir.Parameter) -> str | None:
    """The one value a required parameter admits, as Python; None when it admits more.
    Such a parameter (Azure's `api-version`, the `X-Amz-Target` header of AWS's JSON APIs)
    is filled in: the caller can only repeat what the spec already says."""
    return py_literal(p.schema.enum_values[0]) if p.is_constant else None


def client_parameters(op: ir.Operation) -> list[str]:
    """A client method's parameters: the operation's, then the per-call options."""
    out = method_parameters(op)
    return out + (["*"] if "*" not in out else []) + list(PER_CALL)


def call_arguments(op: ir.Operation) -> list[str]:
    """The arguments a client method passes on to the operation's `_call` function."""
    out = [p.py_name for p in op.path_params]
    if op.body is not None:
        out.append("body" if op.body.required else "body=body")
    out += [
        f"{p.py_name}={p.py_name}"
        for p in op.parameters
        if p.location != "path" and not p.client_flag
    ]
    return out


def pager_arguments(op: ir.Operation) -> list[str]:
    """The arguments an `iter_<method>` passes on to its method for each page: its own,
    with the cursor parameter taking each page's cursor (the lambda's `_cursor`: no
    parameter's name starts with `_`, so another one named `cursor` keeps its value),
    and the per-call options."""
    assert op.pagination is not None
    cursor = op.pagination.cursor_param
    out = [
        a if a != f"{cursor}={cursor}" else f"{cursor}=_cursor"
        for a in call_arguments(op)
    ]
    return out + [
        f"{o}={o}" for o in ("max_retries", "timeout", "extra_headers", "extra_query")
    ]


def item_type(op: ir.Operation) -> str:
    assert op.pagination is not None and op.pagination.item is not None
    return annotation(op.pagination.item)


def _top_level(found: str) -> list[str]:
    """The members of a union annotation (`A | list[B | None]` -> A, list[B | None])."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(found):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif depth == 0 and found.startswith(" | ", i):
            parts.append(found[start:i])
            start = i + 3
    return [*parts, found[start:]]


_KIND_TYPES: Final = {ir.TEXT_BODY: "str", ir.BINARY_BODY: "bytes"}


def answer_type(r: ir.Response) -> str:
    """The data type of one answer: its schema's type (None added for a JSON body, which
    may be null or empty), then str or bytes for its other media types read as text or
    bytes; None for a 204 or a 3XX without content, Any for another with no content."""
    if not r.schema:
        return "None" if r.without_data else "Any"
    found = _top_level(annotation(r.schema))
    parts = dict.fromkeys(p for p in found if p != "None")
    parts.update(dict.fromkeys(_KIND_TYPES[kind] for _, kind in r.other_media))
    # a text or binary body is a str or bytes, never None (unless its schema says so)
    if "None" in found or r.body_kind not in _KIND_TYPES:
        parts["None"] = None
    return " | ".join(parts)


def other_answers(r: ir.Response) -> list[tuple[str, str]]:
    """(Python type, media type) of each other media type an answer may come as, read as
    text or bytes (REFERENCE.md lists them beside its schema's type)."""
    return [(_KIND_TYPES[kind], media) for media, kind in r.other_media]


def return_type(op: ir.Operation) -> str:
    """What a method's response data is: the first answer's type, or the union of every
    answer's type (2XX and documented 3XX) when the client tells them apart by status
    (None last)."""
    ok = op.success
    if not ok:
        return "Any"
    if not op.status_answers:
        return answer_type(ok)
    members = [answer_type(r) for r in op.answers]
    if "Any" in members:
        return "Any"
    parts = dict.fromkeys(p for m in members for p in _top_level(m) if p != "None")
    if any("None" in _top_level(m) for m in members):
        parts["None"] = None
    return " | ".join(parts)


def parse_expression(op: ir.Operation | ir.Response) -> str:
    """What the data of an operation's first answer (or of that answer) decodes into,
    from the body as `_base_client.decode_body` read it (`data`)."""
    r = op.success if isinstance(op, ir.Operation) else op
    if not r or not r.schema:
        return "None" if r and r.without_data else "data"
    if r.body_kind == ir.BINARY_BODY:
        return "bytes(data)"
    if r.body_kind == ir.TEXT_BODY:
        return "str(data)"
    return f"None if data is None else {decode(r.schema, 'data')}"


def status_test(op: ir.Operation, r: ir.Response) -> str:
    """When `_parse_` reads an answer as `r`, one of `op.status_answers` (tested in
    their order, exact statuses first): its status; for a range (`2XX`, `3XX`), one of
    its class but the exact statuses read as the first answer is."""
    if "X" not in r.status:
        return f"status == {r.status}"
    digit = r.status[0]
    differ = {a.status for a in op.status_answers}
    claimed = [
        a.status
        for a in op.answers
        if a.status.startswith(digit) and a.status.isdigit() and a.status not in differ
    ]
    test = f"status // 100 == {digit}"
    if len(claimed) == 1:
        test += f" and status != {claimed[0]}"
    elif claimed:
        test += f" and status not in ({', '.join(claimed)})"
    return test


def redirect_note(op: ir.Operation) -> str:
    """What a method's docstring and REFERENCE.md say of the 3XX answers the operation
    documents ("" for none): they are returned, not followed."""
    statuses = [r.status for r in op.redirects]
    if not statuses:
        return ""
    named = statuses[0]
    if len(statuses) > 1:
        named = ", ".join(statuses[:-1]) + " or " + statuses[-1]
    return (
        f"A {named} answer is returned, not raised; nor is it followed (the request's "
        "credentials would go along): where it points is "
        '`response.headers["location"]`.'
    )


_LIMIT_FIELDS = tuple(f.name for f in fields(ir.Limits) if f.name != "source")


def limits_call(limits: ir.Limits) -> str:
    """`Limits(...)` with the values the spec states (the others are None by default)."""
    args = [
        f"{name}={py_literal(getattr(limits, name))}"
        for name in _LIMIT_FIELDS
        if getattr(limits, name) is not None
    ]
    return f"Limits({', '.join(args)})"


def _same_limits(a: ir.Limits, b: ir.Limits) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _LIMIT_FIELDS)


def limits_names(surface: ir.Surface) -> dict[str, str]:
    """operation id -> the module constant holding its limits ("" for none): `LIMITS` when
    they are the surface's, `<METHOD>_LIMITS` for an operation with limits of its own.
    """
    out: dict[str, str] = {}
    for op in surface.operations:
        if op.limits.empty:
            out[op.operation_id] = ""
        elif _same_limits(op.limits, surface.limits):
            out[op.operation_id] = "LIMITS"
        else:
            out[op.operation_id] = f"{op.py_name.upper()}_LIMITS"
    return out


def _ops(surface: ir.Surface, group: str) -> tuple[ir.Operation, ...]:
    """The operations one module holds: a group's, or the client's own."""
    return surface.group_operations(group) if group else surface.direct_operations


def surface_needs(surface: ir.Surface, api: ir.Api, group: str = "") -> dict[str, bool]:
    """Which optional code the module of a surface (or of one of its groups) holds."""
    keys = [a.location for a in surface.all_auth if a.scheme == "apikey"]
    ops = _ops(surface, group)
    return {
        # an API key sent as a query parameter or in a cookie, not as a header of its own
        "query_key": "query" in keys,
        "cookie_key": "cookie" in keys,
        "cookies": any(p.location == "cookie" for op in ops for p in op.parameters),
        "event_checks": bool(api.events) and any(op.validates_events for op in ops),
        "aliases": any(op.old_py_name for op in ops),
        "pages": any(op.pagination for op in ops),
    }


def _operation_imports(
    imports: dict[str, set[str]],
    ops: tuple[ir.Operation, ...],
    needs: dict[str, bool],
    limit_names: dict[str, str],
) -> set[str]:
    """What the functions and methods of `ops` import (into `imports`, written from the
    package's top level); returns the model names their annotations use."""
    if ops or needs["cookies"]:
        _add(imports, "typing", "Any")
    if ops:
        _add(imports, "collections.abc", "Mapping")
        _add(imports, "._base_client", "APIResponse", "Call")
        _add(imports, "._types", "Timeout")
    if any(limit_names[op.operation_id] not in ("", "LIMITS") for op in ops):
        _add(imports, "._base_client", "Limits")  # an operation's own limits
    # a client whose operations are all in groups sends none itself
    if ops and (needs["query_key"] or (needs["cookie_key"] and needs["cookies"])):
        _add(imports, "dataclasses", "replace")
    if needs["cookies"]:
        _add(imports, "._encoding", "cookie_header")
    if needs["aliases"]:
        _add(imports, "._base_client", "warn_renamed")
    if needs["pages"]:
        _add(imports, "collections.abc", "AsyncIterator", "Iterator")
        _add(imports, "._base_client", "aiterate_pages", "iterate_pages")
    if needs["event_checks"]:
        _add(imports, ".events", "check_track_call")
    used: set[str] = set()
    code: list[str] = []
    for op in ops:
        code += client_parameters(op) + [return_type(op), parse_expression(op)]
        code += [parse_expression(r) for r in op.status_answers]
        for p in op.parameters:
            model_names(p.schema, used)
            value = param_value(p)
            code.append(value)
            if p.location == "query" and p.structured:
                _add(imports, "._encoding", "query_param")
            for helper in ("styled", "json_param", "reserved"):
                if value.startswith(helper + "("):
                    _add(imports, "._encoding", helper)
        if op.body is not None:
            if op.body.encodings:
                _add(imports, "._encoding", "Encoding")
            model_names(op.body.schema, used)
            code.append(
                json_payload(op) if "json" in op.body.content_type else "to_form("
            )
            if not op.body.required:
                code.append("Unset UNSET")
        if return_type(op) != "Any":
            for r in op.answers:
                model_names(r.schema, used)
        if op.status_answers:
            _add(imports, "._base_client", "StatusParser")
        if op.pagination is not None:
            model_names(op.pagination.item, used)
            code.append(item_type(op))
    _add_types(imports, " ".join(code))
    if used:
        _add(imports, "typing", "TYPE_CHECKING")
    return used


def surface_imports(surface: ir.Surface, api: ir.Api) -> list[str]:
    """The import block of a surface module."""
    imports: dict[str, set[str]] = {}
    needs = surface_needs(surface, api)
    _add(imports, "collections.abc", "Mapping")
    _add(imports, ".", "_auth")
    _add(imports, "._base_client", "AsyncBaseClient", "BaseClient")
    _add(imports, "._retry", "DEFAULT_MAX_RETRIES")
    _add(imports, "._transport", "AsyncTransport", "Transport")
    _add(imports, "._types", "DEFAULT_TIMEOUT", "Timeout")
    if not surface.limits.empty:
        _add(imports, "._base_client", "Limits")
    if needs["query_key"] or needs["cookie_key"]:
        _add(imports, "._base_client", "secrets_of")
    if surface.groups:
        _add(imports, "functools", "cached_property")
        _add(imports, "typing", "TYPE_CHECKING")
    _operation_imports(imports, surface.direct_operations, needs, limits_names(surface))
    return import_lines(imports)


def group_imports(
    surface: ir.Surface, group: ir.OperationGroup, api: ir.Api
) -> list[str]:
    """The import block of a group's module (in the surface's groups subpackage)."""
    imports: dict[str, set[str]] = {}
    needs = surface_needs(surface, api, group.name)
    ops = surface.group_operations(group.name)
    names = limits_names(surface)
    _add(imports, "typing", "TYPE_CHECKING")  # the client classes, for annotations
    _operation_imports(imports, ops, needs, names)
    if any(names[op.operation_id] == "LIMITS" for op in ops):
        _add(imports, f".{surface.name}", "LIMITS")
    return import_lines(_deeper(imports))


def _annotation_models(ops: tuple[ir.Operation, ...]) -> set[str]:
    used: set[str] = set()
    for op in ops:
        for p in op.parameters:
            model_names(p.schema, used)
        if op.body is not None:
            model_names(op.body.schema, used)
        if return_type(op) != "Any":  # the types the answer may have
            for r in op.answers:
                model_names(r.schema, used)
        if op.pagination is not None:
            model_names(op.pagination.item, used)
    return used


def surface_checking_imports(surface: ir.Surface, api: ir.Api) -> list[str]:
    """What a surface module names in annotations only, imported for type checkers: its
    models (importing a client loads no model until a call decodes one) and its groups'
    classes (a group's module is imported when the client's attribute is first used)."""
    imports = _model_imports(api, _annotation_models(surface.direct_operations))
    for g in surface.groups:
        module = f".{surface.groups_package}.{g.name}"
        imports[module] = {g.class_name, "Async" + g.class_name}
    return import_lines(imports)


def group_checking_imports(
    surface: ir.Surface, group: ir.OperationGroup, api: ir.Api
) -> list[str]:
    """What a group's module names in annotations only: its models and the clients."""
    ops = surface.group_operations(group.name)
    imports = _model_imports(api, _annotation_models(ops), depth=2)
    imports[f"..{surface.name}"] = {surface.class_name, "Async" + surface.class_name}
    return import_lines(imports)


def parse_imports(
    op: ir.Operation, where: Mapping[str, str], depth: int = 1
) -> list[str]:
    """What an operation's `_parse_` function imports when it runs: the models its answer
    decodes into (`depth` 2: written from a subpackage); `where`: model_modules."""
    used: set[str] = set()
    for r in (op.success, *op.status_answers) if op.success else ():
        model_names(r.schema, used, decoding=True)
    return import_lines(_imports_from(where, used, depth))


# ---- models --------------------------------------------------------------------------------


def _deeper(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same imports, written from a subpackage (`._serde` -> `.._serde`)."""
    return {
        ("." + m if m.startswith(".") else m): names for m, names in imports.items()
    }


# Tables worked out once per Api (templates ask for them once per module or model, and a
# huge API has thousands of each): name -> (the Api they are for, the table).
_TABLES: dict[str, tuple[ir.Api, Any]] = {}


def _once(name: str, api: ir.Api, make: Callable[[ir.Api], Any]) -> Any:
    found = _TABLES.get(name)
    if found is None or found[0] is not api:
        found = _TABLES[name] = (api, make(api))
    return found[1]


def model_modules(api: ir.Api) -> dict[str, str]:
    """class name -> its module in the models package."""
    result: dict[str, str] = _once("modules", api, lambda a: dict(a.model_modules))
    return result


def _by_module(api: ir.Api) -> dict[str, list[ir.Schema]]:
    where = dict(api.model_modules)
    out: dict[str, list[ir.Schema]] = {}
    for m in api.models:
        out.setdefault(where[m.class_name], []).append(m)
    return out


def models_in(api: ir.Api, module: str) -> list[ir.Schema]:
    """The models one module of the models package holds, in the package's order."""
    grouped: dict[str, list[ir.Schema]] = _once("by_module", api, _by_module)
    return grouped.get(module, [])


def _runtime_names(m: ir.Schema) -> set[str]:
    """Classes (and union decoders) a model's code calls at run time."""
    names: set[str] = set()
    if m.kind == ir.OBJECT:
        for p in m.properties:
            model_names(p.schema, names, decoding=True)
    elif m.kind == ir.UNION and m.discriminator is None:
        for v in m.variants:
            model_names(v, names, decoding=True)
    elif m.kind == ir.UNION and m.discriminator is not None:
        # decoded by the mapping alone (a variant it leaves out is never decoded into)
        unions = set(m.discriminator.unions)
        names.update(
            "decode_" + cls if cls in unions else cls
            for _, cls in m.discriminator.mapping
        )
    return names


def _annotation_names(m: ir.Schema) -> set[str]:
    names: set[str] = set()
    for p in m.properties:
        model_names(p.schema, names)
    for v in m.variants:
        model_names(v, names)
    return names


def local_imports(m: ir.Schema, where: Mapping[str, str], module: str) -> list[str]:
    """The imports a model's `from_dict` (or a union's decoder) makes when it runs: the
    classes of other modules it decodes into (imported there, not at the top, so modules
    that refer to each other import in any order); `where`: model_modules."""
    by_module: dict[str, set[str]] = {}
    for name in _runtime_names(m):
        cls = name.removeprefix("decode_")
        other = where.get(cls)
        if other is not None and other != module:
            by_module.setdefault(f".{other}", set()).add(name)
    return import_lines(by_module)


def models_module_imports(
    models: list[ir.Schema], where: Mapping[str, str], module: str
) -> tuple[list[str], list[str]]:
    """(imports, imports for type checkers only) of `module` of the models package, which
    holds `models`; `where`: model_modules."""
    imports: dict[str, set[str]] = {}
    code: list[str] = []
    kinds = {m.kind for m in models}
    if ir.ENUM in kinds:
        _add(imports, "enum", "Enum")
    if ir.OBJECT in kinds:
        _add(imports, "dataclasses", "dataclass", "field")
        _add(imports, "collections.abc", "Mapping")
        _add(imports, "typing", "Any")
        _add(imports, "._serde", "not_an_object")
        code.append("to_json(")
    elsewhere: dict[str, set[str]] = {}
    for m in models:
        if m.kind == ir.OBJECT:
            for p in m.properties:
                code += [
                    field_type(p),
                    decode(p.schema, "data[k]"),
                    field_default(p) or "",
                    encode(p.schema, "v"),
                ]
        elif m.kind == ir.UNION:
            _add(imports, "typing", "Any", "Union")
            if m.discriminator:
                _add(imports, "typing", "cast")
                if m.discriminator.objects_only:
                    _add(imports, "._serde", "not_an_object")
                code.append("Mapping dict[str, Any]")
            else:
                _add(imports, "._serde", "no_variant")
            for v in m.variants:
                code.append(annotation(v))
                if not m.discriminator:  # it decodes by shape, with these
                    code.append(variant_decode(v, "data"))
            if not m.discriminator:
                code += [test for _, test in shape_tests(m.variants)]
            # an alias annotated as one (see layout.alias_head): its quoted variants are
            # type expressions either way
            if "TypeAlias" in alias_head(m.class_name):
                elsewhere.setdefault("typing_extensions", set()).add("TypeAlias")
        for name in _annotation_names(m):
            other = where.get(name)
            if other is not None and other != module:
                elsewhere.setdefault(f".{other}", set()).add(name)
    _add_types(imports, " ".join(code))
    if elsewhere:
        _add(imports, "typing", "TYPE_CHECKING")
    return import_lines(_deeper(imports)), import_lines(elsewhere)


def models_exports(api: ir.Api) -> list[tuple[str, str]]:
    """(name, module) of everything the models package makes importable: every model and
    every union's decoder, sorted by name."""
    out = [(cls, module) for cls, module in api.model_modules]
    kinds = {m.class_name: m.kind for m in api.models}
    out += [
        (f"decode_{cls}", module)
        for cls, module in api.model_modules
        if kinds.get(cls) == ir.UNION
    ]
    return sorted(out)


def models_checking_imports(exports: list[tuple[str, str]]) -> list[str]:
    """The models package's imports of every name it exports, for type checkers."""
    by_module: dict[str, set[str]] = {}
    for name, module in exports:
        by_module.setdefault(f".{module}", set()).add(name)
    return import_lines(by_module)


def _model_imports(api: ir.Api, names: set[str], depth: int = 1) -> dict[str, set[str]]:
    return _imports_from(model_modules(api), names, depth)


def _imports_from(
    where: Mapping[str, str], names: set[str], depth: int
) -> dict[str, set[str]]:
    by_module: dict[str, set[str]] = {}
    for name in names:
        module = where.get(name.removeprefix("decode_"))
        if module is not None:
            by_module.setdefault("." * depth + f"models.{module}", set()).add(name)
    return by_module


def model_import(api: ir.Api, names: set[str], depth: int = 1) -> list[str]:
    """`from .models.<module> import ...` lines for model names (and union decoders),
    written from the package (`depth` 1) or from one of its subpackages (2)."""
    return import_lines(_model_imports(api, names, depth))


# ---- events --------------------------------------------------------------------------------


def event_argument_type(s: ir.Schema) -> str:
    """A constructor argument's type: date and date-time values may also be ISO strings."""
    for fmt, cls in (("date-time", "datetime.datetime"), ("date", "datetime.date")):
        if s.kind == ir.PRIMITIVE and s.type == "string" and s.format == fmt:
            return f"{cls} | str" + (" | None" if s.nullable else "")
    return annotation(s)


def _event_fields(api: ir.Api) -> list[ir.Schema]:
    """The schemas of every argument of every event constructor."""
    return [f.schema for ev in api.events for f in (*ev.properties, *ev.context)] + [
        p.schema for ev in api.events for p in ev.top
    ]


def event_models(api: ir.Api) -> list[str]:
    """Model classes the event constructors' arguments name (sorted)."""
    names: set[str] = set()
    for schema in _event_fields(api):
        model_names(schema, names)
    return sorted(names)


def events_imports(api: ir.Api) -> list[str]:
    imports: dict[str, set[str]] = {}
    _add(imports, "collections.abc", "Mapping")
    _add(imports, "types", "MappingProxyType")
    _add(imports, "typing", "Any")
    _add(
        imports,
        "._semantic",
        "EventSpec",
        "PropertySpec",
        "SemanticEventError",
        "TrackCallShape",
        "find_and_check",
    )
    if api.events:
        _add(imports, "._semantic", "build_track_call", "event_constructor")
        _add(imports, "._types", "UNSET", "Unset")
        code = [event_argument_type(s) for s in _event_fields(api)]
        _add_types(imports, " ".join(code))
    if event_models(api):
        _add(imports, "typing", "TYPE_CHECKING")
    return import_lines(imports)


def events_checking_imports(api: ir.Api) -> list[str]:
    """The models event constructors name in annotations (for type checkers only)."""
    return model_import(api, set(event_models(api)))


def expected(s: ir.Schema) -> str:
    """What a value must be, as SemanticEventError messages say it."""
    if s.kind == ir.ENUM:
        text = "one of " + ", ".join(py_literal(v) for v in s.enum_values)
        return text + (" or None" if s.nullable else "")
    if s.kind == ir.PRIMITIVE and s.type == "string" and s.format == "date-time":
        return "an ISO-8601 date-time string"
    if s.kind == ir.PRIMITIVE and s.type == "string" and s.format == "date":
        return "an ISO-8601 date string"
    return annotation(s)


def optional_default(required: bool) -> str | None:
    return None if required else "UNSET"


# ---- semantic-event constructors and background clients ----------------------------------


def _event_arguments(ev: ir.SemanticEvent) -> list[tuple[str, ir.Schema, bool]]:
    """(name, schema, required) of an event's arguments in constructor order: identities,
    its own properties and context fields, then the other top-level fields."""
    identity = [
        (p.py_name, p.schema, p.required) for p in ev.top if p.name in ev.identity
    ]
    own = [(p.py_name, p.schema, p.required) for p in (*ev.properties, *ev.context)]
    others = [
        (p.py_name, p.schema, p.required) for p in ev.top if p.name not in ev.identity
    ]
    return identity + own + others


def event_parameters(ev: ir.SemanticEvent, context_field: str) -> list[str]:
    """The keyword-only parameters of an event's constructor (and background method)."""
    out = []
    for name, schema, required in _event_arguments(ev):
        kind = event_argument_type(schema)
        out.append(f"{name}: {kind}" if required else f"{name}: {kind} | Unset = UNSET")
    if ev.schema is not None and any(
        p.name == context_field for p in ev.schema.properties
    ):
        out.append("context: Mapping[str, Any] | Unset = UNSET")
    if ev.additional_properties:
        out.append("extra_properties: Mapping[str, Any] | Unset = UNSET")
    return out


def event_arguments(ev: ir.SemanticEvent, context_field: str) -> list[str]:
    """`name=name` for every parameter of `event_parameters`."""
    return [
        f"{p.split(':')[0]}={p.split(':')[0]}"
        for p in event_parameters(ev, context_field)
    ]


def kind_parameters(kind: ir.DeliveryKind, delivery: ir.Delivery) -> list[str]:
    """A background client's method for one kind of message: the item model's fields,
    keyword-only, except the ones the client fills (the kind itself and the send time).
    """
    skip = {delivery.kind_field, delivery.sent_at_field}
    out = []
    for p in ordered_fields(kind.model):
        if p.name in skip:
            continue
        default = field_default(p)
        out.append(
            f"{p.py_name}: {_kind_field_type(p)}" + (f" = {default}" if default else "")
        )
    return out


def _kind_field_type(p: ir.Property) -> str:
    """The type of a background method's parameter: the field's, but where that is a model
    a mapping is taken too, as the method sends both alike (as `enqueue` and the
    foreground clients do). A list of models keeps its type: a union of list types long
    enough to split is formatted differently by black and by ruff's formatter."""
    s = p.schema
    if not (s.kind == OBJECT and s.class_name):
        return field_type(p)
    t = f"{s.class_name} | Mapping[str, Any]" + (" | None" if s.nullable else "")
    return f"{t} | Unset" if field_default(p) == "UNSET" else t


def kind_arguments(kind: ir.DeliveryKind, delivery: ir.Delivery) -> list[str]:
    """The members of the message a background method queues (`"wire name": argument`,
    the kind's own field its value), in the item schema's order."""
    out = []
    for p in kind.model.properties:
        if p.name == delivery.sent_at_field:
            continue
        value = py_literal(kind.value) if p.name == delivery.kind_field else p.py_name
        out.append(f"{py_literal(p.name)}: {value}")
    return out


def background_imports(surface: ir.Surface, api: ir.Api) -> list[str]:
    """The import block of a surface's background client module."""
    assert surface.delivery is not None
    d = surface.delivery
    imports: dict[str, set[str]] = {}
    _add(imports, "pathlib", "Path")
    _add(imports, "typing", "Any", "Literal")
    _add(imports, ".", "_auth")
    _add(imports, "._background", "BackgroundClient", "MessageFields", "MessageKind")
    _add(imports, "._delivery", "BatchEndpoint", "OnError")
    _add(imports, "._transport", "Transport")
    _add(imports, "._types", "Timeout")
    _add(imports, f".{surface.name}", "DEFAULT_REGION", "REGIONS")
    code: list[str] = []
    for kind in d.kinds:
        code += kind_parameters(kind, d)
    if d.events and api.events:
        _add(imports, ".", "events")
        for ev in api.events:
            code += event_parameters(ev, api.wire.context_field)
    _add_types(imports, " ".join(code))
    if _background_annotation_models(surface, api):
        _add(imports, "typing", "TYPE_CHECKING")
    return import_lines(imports)


def _background_annotation_models(surface: ir.Surface, api: ir.Api) -> set[str]:
    assert surface.delivery is not None
    d = surface.delivery
    names: set[str] = set()
    for kind in d.kinds:
        for p in kind.model.properties:
            model_names(p.schema, names)
    if d.events:
        for schema in _event_fields(api):
            model_names(schema, names)
    return names


def background_checking_imports(surface: ir.Surface, api: ir.Api) -> list[str]:
    """Models a background module names in annotations only (for type checkers)."""
    return model_import(api, _background_annotation_models(surface, api))
