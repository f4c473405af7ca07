"""The parts of a surface module (`surface.py.j2`) that depend on an operation's parameters,
laid out as black lays them out, and the facts about a surface its imports depend on.

- `signature`: the parameter lines of an operation's `_call` function and client methods;
- `call_layout`: the call of an operation's `_call` function from a client method;
- `fit`: `head` + `body` + `tail` joined, or split after `head` when too long;
- `surface_needs`: which optional helpers the module uses (API keys in a query or cookie,
  cookie parameters, comma-joined and object query parameters, semantic-event checks).

Joined on one line when it fits in black's 88 columns, otherwise split where black splits,
so black has nothing to change. Python rather than Jinja macros: the rules read better as
code, and compiling them as templates was a large part of every run.
"""

from __future__ import annotations

from typing import Any, Dict, List

from . import ir
from .render import fits, is_model_body, py_type


def _named(op: ir.Operation) -> List[ir.Parameter]:
    """Keyword-only parameters: query, header and cookie."""
    cookies = [p for p in op.parameters if p.location == "cookie"]
    return list(op.query_params) + list(op.header_params) + cookies


def _body_type(op: ir.Operation) -> str:
    assert op.body is not None
    s = op.body.schema
    return f"Union[{s.class_name}, Mapping[str, Any]]" if is_model_body(s) else py_type(s)


def signature(op: ir.Operation, per_call: bool = True, indent: str = " " * 8) -> str:
    """One line per parameter, each ending with a comma and a newline ("" for none).

    Path parameters and a required body are positional; the rest are keyword-only, and
    `per_call` adds the per-call options of the client methods.
    """
    lines = [f"{p.py_name}: {py_type(p.schema)}," for p in op.path_params]
    body = op.body
    if body and body.required:
        lines.append(f"body: {_body_type(op)},")
    named = _named(op)
    if per_call or (body and not body.required) or named:
        lines.append("*,")
    if body and not body.required:
        lines.append(f"body: Union[{_body_type(op)}, Unset] = UNSET,")
    lines += [f"{p.py_name}: {py_type(p.schema)}," for p in named if p.required]
    lines += [f"{p.py_name}: Union[{py_type(p.schema)}, Unset] = UNSET," for p in named if not p.required]
    if per_call:
        lines += [
            "max_retries: Optional[int] = None,",
            "timeout: Union[float, Timeout, None] = None,",
            "extra_headers: Optional[Mapping[str, str]] = None,",
        ]
    return "".join(f"{indent}{line}\n" for line in lines)


def call_layout(op: ir.Operation, indent: str, lead: str = "", tail: str = "") -> str:
    """`lead` + the call of the operation's `_call` function + `tail`, at `indent`.

    Path parameters alone keep a trailing comma (one per line, as the function's own
    signature has one); otherwise one line if it fits, else the arguments on a line of
    their own, else one per line.
    """
    named = _named(op)
    args = [p.py_name for p in op.path_params] + (["body=body"] if op.body else [])
    args += [f"{p.py_name}={p.py_name}" for p in named]
    head = f"{indent}{lead}_{op.py_name}_call("
    joined = ", ".join(args)
    one_per_line = "\n".join([head] + [f"{indent}    {a}," for a in args] + [f"{indent}){tail}"])
    if op.path_params and not op.body and not named:
        return one_per_line
    if fits(f"{head}{joined}){tail}"):
        return f"{head}{joined}){tail}"
    if fits(f"{indent}    {joined}"):
        return f"{head}\n{indent}    {joined}\n{indent}){tail}"
    return one_per_line


def fit(indent: str, head: str, body: str, tail: str) -> str:
    """`head` + `body` + `tail` on one line if it fits, else split after `head` (which ends
    with an opening bracket) as black does."""
    joined = f"{indent}{head}{body}{tail}"
    if fits(joined):
        return joined
    return f"{indent}{head}\n{indent}    {body}\n{indent}{tail}"


def surface_needs(surface: ir.Surface, api: ir.Api) -> Dict[str, bool]:
    """What a surface module imports or defines beyond the basics."""
    auth = surface.auth
    ops = surface.operations
    return {
        # an API key sent as a query parameter or in a cookie, not as a header of its own
        "query_key": auth.scheme == "apikey" and auth.location == "query",
        "cookie_key": auth.scheme == "apikey" and auth.location == "cookie",
        "cookies": any(p.location == "cookie" for op in ops for p in op.parameters),
        "join_csv": any(not p.explode for op in ops for p in op.query_params),
        "query_object": any(p.schema.kind in (ir.OBJECT, ir.MAP) for op in ops for p in op.query_params),
        "event_checks": bool(api.events) and any(op.validates_events for op in ops),
    }


FILTERS: Dict[str, Any] = {
    "signature": signature,
    "call_layout": call_layout,
    "fit": fit,
    "surface_needs": surface_needs,
}
