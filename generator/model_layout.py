"""The lines of `models.py` that depend on one field's name and type, laid out as black lays
them out.

`models.py.j2` writes each model; these filters write a field's parts: its dataclass
declaration (`field_declaration`), its entry in `to_dict` (`to_dict_entry`) and in
`from_dict` (`from_dict_argument`), the `known` list of wire names, and the shape test of
a union variant (`variant_test`). Each is joined on one line when it fits in black's 88
columns and otherwise split where black splits it, so black has nothing to change. They
are Python rather than Jinja macros because the layout rules read better (and compile
far cheaper, on every run) as code.
"""

from __future__ import annotations

from typing import Any, Dict, List

from . import ir
from .render import bracket_parts, decode, field_default, field_type, fits, matcher_checks, py_literal


def field_declaration(p: ir.Property) -> str:
    """`    name: Type = default` of a dataclass field (4 columns in)."""
    default = field_default(p)
    kind = field_type(p)
    assign = f" = {default}" if default is not None else ""
    joined = f"    {p.py_name}: {kind}{assign}"
    if fits(joined):
        return joined
    # black wraps the default in parentheses when the line up to them fits with a column spare
    if default is not None and fits(f"    {p.py_name}: {kind} = (", 87):
        return f"    {p.py_name}: {kind} = (\n        {default}\n    )"
    parts = bracket_parts(kind)
    if parts and fits(f"        {parts[1]}"):
        return f"    {p.py_name}: {parts[0]}\n        {parts[1]}\n    {parts[2]}{assign}"
    if parts is None and fits(f"        {kind}"):  # a bare name: black parenthesizes it
        return f"    {p.py_name}: (\n        {kind}\n    ){assign}"
    return joined


def to_dict_entry(p: ir.Property) -> str:
    """The statement(s) of `to_dict` that put one field into `out` (8 columns in)."""
    lines: List[str] = []
    pad = " " * 8
    if field_default(p) == "UNSET":
        test = f"if not isinstance(self.{p.py_name}, Unset):"
        if fits(pad + test):
            lines.append(pad + test)
        else:
            lines += [f"{pad}if not isinstance(", f"{pad}    self.{p.py_name}, Unset", f"{pad}):"]
        pad += "    "
    key = py_literal(p.name)
    put = f"{pad}out[{key}] = to_json(self.{p.py_name})"
    if fits(put):
        lines.append(put)
    else:
        lines += [f"{pad}out[{key}] = to_json(", f"{pad}    self.{p.py_name}", f"{pad})"]
    return "\n".join(lines)


def known_names(model: ir.Schema) -> str:
    """`known = [...]`: the wire names `from_dict` does not keep as additional properties."""
    names = [p.name for p in model.properties]
    joined = f"        known = {py_literal(names)}"
    if len(names) < 2 or fits(joined):
        return joined
    return "\n".join(["        known = ["] + [f"            {py_literal(n)}," for n in names] + ["        ]"])


def from_dict_argument(p: ir.Property) -> str:
    """One keyword argument of the `cls(...)` call in `from_dict` (12 columns in)."""
    default = field_default(p)
    key = py_literal(p.name)
    value = decode(p.schema, f"data[{key}]")
    parts = bracket_parts(value)
    pad, inner = " " * 12, " " * 16
    if default is None:
        if parts and not fits(f"{pad}{p.py_name}={value},"):
            return f"{pad}{p.py_name}={parts[0]}\n{inner}{parts[1]}\n{pad}{parts[2]},"
        return f"{pad}{p.py_name}={value},"
    choice = f"{value} if {key} in data else {default}"
    if fits(f"{pad}{p.py_name}=({choice}),"):
        return f"{pad}{p.py_name}=({choice}),"
    if fits(inner + choice):
        return f"{pad}{p.py_name}=(\n{inner}{choice}\n{pad}),"
    if parts and not fits(inner + value):
        shown = [inner + parts[0], f"{inner}    {parts[1]}", inner + parts[2]]
    else:
        shown = [inner + value]
    return "\n".join([f"{pad}{p.py_name}=(", *shown, f"{inner}if {key} in data", f"{inner}else {default}", f"{pad}),"])


def variant_test(variant: ir.Schema) -> str:
    """`    if <the value has this variant's shape>:` in a union's decoder (4 columns in)."""
    checks = matcher_checks(variant, "data")
    test = " and ".join(checks)
    if len(checks) < 2 or fits(f"    if {test}:"):
        return f"    if {test}:"
    if fits(f"        {test}"):
        return f"    if (\n        {test}\n    ):"
    return "    if (\n        " + "\n        and ".join(checks) + "\n    ):"


FILTERS: Dict[str, Any] = {
    "field_declaration": field_declaration,
    "to_dict_entry": to_dict_entry,
    "known_names": known_names,
    "from_dict_argument": from_dict_argument,
    "variant_test": variant_test,
}
