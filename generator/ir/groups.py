"""Grouping a big surface's operations by tag: `client.repos.get(...)` instead of one class
with a thousand methods.

A grouped surface's client has one attribute per tag (its first tag, for an operation with
several), each an object whose class lives in a module of its own that is imported when the
attribute is first used: a program that makes one call loads one group. Operations without a
tag stay methods of the client. In a group a method drops the group's name from the front
of its own when the operationId repeats it (`repos/get` -> `client.repos.get`).

`--group-by` chooses: `tag`, `none`, or `auto` (the default): by tag when a surface has more
than GROUP_THRESHOLD operations, so a small API keeps one flat client and a huge one is not
a single module of a hundred thousand lines. A surface with background delivery is never
grouped (its delivery client calls the batch method by name).
"""

from __future__ import annotations

from dataclasses import replace

from ..spec.refs import Workspace
from . import model as ir
from .naming import bounded, dedupe, pascal, snake
from .surfaces import CLIENT_RESERVED

GROUP_MODES = ("auto", "tag", "none")
GROUP_THRESHOLD = 150


def _tag_descriptions(ws: Workspace) -> dict[str, str]:
    out: dict[str, str] = {}
    for doc in sorted(ws.roots, key=lambda d: d.name):
        for tag in doc.data.get("tags") or []:
            if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                desc = tag.get("description")
                out.setdefault(
                    tag["name"], desc.strip() if isinstance(desc, str) else ""
                )
    return out


def _grouped(surface: ir.Surface, mode: str) -> bool:
    if mode == "none" or surface.delivery is not None:
        return False
    if not any(op.tags for op in surface.operations):
        return False
    return mode == "tag" or len(surface.operations) > GROUP_THRESHOLD


def group_surface(surface: ir.Surface, descriptions: dict[str, str]) -> ir.Surface:
    """`surface` with its tagged operations moved into groups (see the module docstring)."""
    direct = [op for op in surface.operations if not op.tags]
    tags = sorted({op.tags[0] for op in surface.operations if op.tags})
    # a group's name must not hide a method of the client or of its base class
    taken = [*CLIENT_RESERVED, *(op.py_name for op in direct)]
    names = dict(zip(tags, dedupe([bounded(snake(t)) for t in tags], reserved=taken)))
    classes = dict(zip(tags, dedupe([pascal(names[t]) + "Operations" for t in tags])))
    ops: list[ir.Operation] = list(direct)
    for tag in tags:
        members = sorted(
            (op for op in surface.operations if op.tags and op.tags[0] == tag),
            key=lambda o: o.operation_id,
        )
        prefix = names[tag] + "_"
        wanted = []
        for op in members:
            full = snake(op.operation_id)
            short = full.removeprefix(prefix)
            wanted.append(snake(short) if short else full)
        for op, name in zip(members, dedupe(wanted)):
            ops.append(replace(op, py_name=name, old_py_name="", group=names[tag]))
    groups = tuple(
        sorted(
            (
                ir.OperationGroup(names[t], classes[t], t, descriptions.get(t, ""))
                for t in tags
            ),
            key=lambda g: g.name,
        )
    )
    return replace(
        surface,
        operations=tuple(sorted(ops, key=lambda o: (o.group, o.py_name))),
        groups=groups,
    )


def with_groups(
    surfaces: tuple[ir.Surface, ...], ws: Workspace, mode: str
) -> tuple[ir.Surface, ...]:
    """Every surface, grouped by tag where `mode` says so."""
    if mode not in GROUP_MODES:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_MODES)}")
    if not any(_grouped(s, mode) for s in surfaces):
        return surfaces
    descriptions = _tag_descriptions(ws)
    return tuple(
        group_surface(s, descriptions) if _grouped(s, mode) else s for s in surfaces
    )
