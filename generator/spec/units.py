"""A document cut into units, so that an edit revalidates only what it touched.

A unit is one entry of a map whose entries OpenAPI checks one by one: a path item
(`/paths/~1users`), a webhook, a component (`/components/schemas/User`). The root is what
is left: `info`, `servers`, `tags`, `security`, ... and the names of the units.

Each unit has a digest of its structure (`without_prose`: the text of descriptions and
summaries left out; Document.shape_sha256 is made of these digests), and the units it
reaches through local `$ref`s. The validation cache (validate.py) keeps each
unit's findings under its digest; a finding about a unit's content is found again by
validating that unit alone in the document's skeleton, where every other unit is replaced
by a placeholder the OpenAPI schema accepts.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from ..errors import pointer

ROOT = ""  # the root's key among the units'
# Component maps whose entries are units. Other keys of `components` (extensions) are root.
COMPONENT_KINDS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
)
# A placeholder the OpenAPI 3.0 and 3.1 schemas accept in each map: an empty path item or
# schema, a Reference object elsewhere (a component entry may always be one).
_EMPTY = {
    ("paths",),
    ("webhooks",),
    ("components", "schemas"),
    ("components", "pathItems"),
}
_REFERENCE = {"$ref": "#/components/placeholder"}


def unit_maps(data: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """(where, map) for each map of units in the document, in document order."""
    for key in ("paths", "webhooks"):
        if isinstance(data.get(key), dict):
            yield (key,), data[key]
    comps = data.get("components")
    if isinstance(comps, dict):
        for kind in COMPONENT_KINDS:
            if isinstance(comps.get(kind), dict):
                yield ("components", kind), comps[kind]


def units(data: dict[str, Any]) -> dict[str, Any]:
    """Every unit's node by its JSON pointer, in document order (the root not included)."""
    return {
        pointer(*where, name): node
        for where, entries in unit_maps(data)
        for name, node in entries.items()
    }


def skeleton(data: dict[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    """The document with every unit replaced by a placeholder, but those in `keep`."""
    kept = set(keep)
    out = dict(data)
    for where, entries in unit_maps(data):
        stub: Any = {} if where in _EMPTY else _REFERENCE
        replaced = {
            name: node if pointer(*where, name) in kept else stub
            for name, node in entries.items()
        }
        if where[0] == "components":
            out["components"] = {**out["components"], where[1]: replaced}
        else:
            out[where[0]] = replaced
    return out


# Keys whose string values are prose: no check depends on their text (only on their being
# strings). Values under the data keys are what a schema constrains, or names a `$ref`
# resolves (a discriminator's mapping): they are kept whole, whatever their keys.
_PROSE = frozenset({"description", "summary"})
_DATA = frozenset({"default", "example", "examples", "enum", "const", "mapping"})


def without_prose(node: Any) -> Any:
    """The node with the text of its descriptions and summaries left out (keys kept)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                # a 13 MB document has millions of leaves: only containers are walked
                out[k] = v if k in _DATA or k.startswith("x-") else without_prose(v)
            else:
                out[k] = "" if k in _PROSE and isinstance(v, str) else v
        return out
    if isinstance(node, list):
        return [without_prose(v) if isinstance(v, (dict, list)) else v for v in node]
    return node


def shape_digest(node: Any) -> str:
    """A digest of a node's structure (`without_prose`)."""
    # the copy made here has no cycles: json need not look for them
    text = json.dumps(
        without_prose(node), ensure_ascii=False, default=str, check_circular=False
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digests(
    data: dict[str, Any], memo: dict[bytes, str] | None = None
) -> dict[str, str]:
    """The root's digest and each unit's, in document order. The root's covers the
    units' names (not their content): adding or removing a unit changes it.

    `memo` carries digests from one run to the next (digest_memo.py): a unit's content,
    as `content_key` spells it, -> its digest. A unit found in it is not walked again;
    it is left holding this document's units only."""
    nodes = units(data)
    out = {ROOT: shape_digest(skeleton(data))}
    if memo is None:
        out.update((key, shape_digest(node)) for key, node in nodes.items())
        return out
    fresh: dict[bytes, str] = {}
    for key, node in nodes.items():
        content = content_key(node)
        if content is None:
            out[key] = shape_digest(node)
            continue
        digest = fresh.get(content) or memo.get(content) or shape_digest(node)
        out[key] = fresh[content] = digest
    memo.clear()
    memo.update(fresh)
    return out


def content_key(node: Any) -> bytes | None:
    """A key for exactly this content (prose included), much cheaper than a walk: equal
    keys mean equal values in the same order. None for what `marshal` cannot write (a
    YAML timestamp, nesting too deep), which is then walked every run."""
    try:
        return hashlib.sha256(marshal.dumps(node, 2)).digest()
    except ValueError:
        return None


def body_digest(data: dict[str, Any]) -> str:
    """The root without the units' names: what every unit's validation may read (the
    JSON Schema dialect a 3.1 document declares, for one)."""
    out = dict(data)
    for where, _ in unit_maps(data):
        if where[0] == "components":
            out["components"] = dict(out["components"])
            del out["components"][where[1]]
        else:
            del out[where[0]]
    return shape_digest(out)


def unit_of(ptr: str, known: dict[str, Any] | set[str]) -> str:
    """The unit a JSON pointer falls in (ROOT when it is in none)."""
    parts = ptr.split("/")
    for depth in (3, 4):  # /paths/<name>, /components/<kind>/<name>
        if len(parts) >= depth:
            candidate = "/".join(parts[:depth])
            if candidate in known:
                return candidate
    return ROOT


def local_refs(node: Any, known: dict[str, Any] | set[str]) -> list[str]:
    """The units this node reaches directly through `$ref`s within its own document (ROOT
    for a target outside every unit, such as schemas kept under a root extension)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                found.add(unit_of(unquote(ref[1:]), known))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(found)


def refs_of(data: dict[str, Any], nodes: dict[str, Any], key: str) -> list[str]:
    """`local_refs` of one unit (`nodes`: `units(data)`); the root's are the skeleton's."""
    return local_refs(skeleton(data) if key == ROOT else nodes[key], nodes)


def all_refs(data: dict[str, Any], keys: Iterable[str]) -> dict[str, list[str]]:
    nodes = units(data)
    return {key: refs_of(data, nodes, key) for key in keys}


def reaching(changed: Iterable[str], refs: dict[str, list[str]]) -> set[str]:
    """The changed units and every unit whose `$ref`s reach one of them (transitively)."""
    back: dict[str, list[str]] = {}
    for unit, targets in refs.items():
        for target in targets:
            back.setdefault(target, []).append(unit)
    seen = set(changed)
    todo = list(seen)
    while todo:
        for unit in back.get(todo.pop(), ()):
            if unit not in seen:
                seen.add(unit)
                todo.append(unit)
    return seen
