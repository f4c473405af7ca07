"""Reading one spec file: bytes -> plain data (YAML 1.2 or JSON) -> a `Document`.

YAML is read as YAML 1.2, as OpenAPI 3 specifies, not as PyYAML's YAML 1.1: values stay
what JSON would make of them. Errors name the file and the line. A file named on the
command line must be a whole OpenAPI 3.0/3.1 document; a file a `$ref` leads to may be any
mapping (one schema, a file of fragments).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from ..errors import Finding, SpecError, escape
from .files import display_name


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML read as YAML 1.2 (OpenAPI 3's YAML), not PyYAML's YAML 1.1.

    PyYAML resolves plain scalars by YAML 1.1 rules, which turn real spec text into other
    types: `2021-07-14` into a date, `16:9` into the base-60 integer 969, `no`, `off` and `y`
    into booleans, `0123` into octal 83. Here, as in YAML 1.2's core schema (and JSON), only
    `true`/`false`, `null`/`~`, decimal, `0o` and `0x` integers and plain floats are not
    strings.
    """


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_BOOL, _NULL = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_CORE = [
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    (_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
]
_Loader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in _CORE:
    for _char in _first:
        _Loader.yaml_implicit_resolvers.setdefault(_char, []).append((_tag, _rx))
_Loader.yaml_implicit_resolvers.setdefault("", []).append((_NULL, _CORE[1][1]))  # empty
# `<<` merge keys are YAML 1.1 only, but specs written with anchors use them
_Loader.yaml_implicit_resolvers["<"] = [
    ("tag:yaml.org,2002:merge", re.compile(r"^<<$"))
]


def _core_int(loader: Any, node: Any) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)  # a leading zero is still decimal


def _core_bool(loader: Any, node: Any) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


_Loader.add_constructor(_INT, _core_int)
_Loader.add_constructor(_BOOL, _core_bool)


@dataclass
class Document:
    path: Path  # absolute
    name: str  # how messages and the generated package name the file (files.spec_name)
    data: dict[str, Any]
    sha256: str
    version: str  # "3.0" or "3.1"
    # keys written twice in one mapping (the last one is what `data` holds)
    duplicates: tuple[Finding, ...] = ()
    # the digests of the last run's units, when a cache keeps them (digest_memo.py)
    digest_memo: dict[bytes, str] | None = field(
        default=None, compare=False, repr=False
    )

    @cached_property
    def unit_digests(self) -> dict[str, str]:
        """A digest of each unit's structure (units.py): prose left out, so the caches of
        the validation and of the example check survive an edit to it."""
        from .units import digests

        return digests(self.data, self.digest_memo)

    @cached_property
    def shape_sha256(self) -> str:
        """A hash of the whole document's structure (prose left out)."""
        joined = "\n".join(f"{k} {d}" for k, d in self.unit_digests.items())
        return hashlib.sha256(joined.encode()).hexdigest()


class _Deep(Exception):
    pass


def _stringify_keys(root: Any, name: str) -> Any:
    """YAML allows non-string keys (`200:`); OpenAPI means strings. A copy in which every
    alias gets a copy of its own, as JSON would have it."""
    try:
        return _stringified(root, 0)
    except _Deep:
        return _stringified_deep(root, name)


def _key(key: Any) -> str:
    """A YAML key as JSON would have written it: `true:` is the key "true", not "True"."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _stringified(node: Any, depth: int) -> Any:
    if depth > 500:  # unusual: the slower copy below sees cycles and needs no stack
        raise _Deep
    if isinstance(node, dict):
        return {_key(k): _stringified(v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_stringified(v, depth + 1) for v in node]
    return node


def _stringified_deep(root: Any, name: str) -> Any:
    """`_stringify_keys` without recursion (an example may nest thousands of levels); an
    alias inside the node it names (`a: &x [*x]`) has no JSON form and is an error."""

    def fresh(node: Any) -> Any:
        return {} if isinstance(node, dict) else [] if isinstance(node, list) else node

    out = fresh(root)
    inside: set[int] = set()  # the nodes being copied: the path from the root
    # (source, copy, pointer), or (source, None, "") once its items are done
    todo: list[tuple[Any, Any, str]] = [(root, out, "")]
    while todo:
        node, copy, ptr = todo.pop()
        if copy is None:
            inside.discard(id(node))
            continue
        if not isinstance(node, (dict, list)):
            continue
        inside.add(id(node))
        todo.append((node, None, ""))
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in pairs:
            where = f"{ptr}/{escape(_key(key))}"
            if isinstance(value, (dict, list)) and id(value) in inside:
                raise SpecError(
                    name, where, "a YAML alias inside the node it names (a cycle)"
                )
            item = fresh(value)
            if isinstance(copy, dict):
                copy[_key(key)] = item
            else:
                copy.append(item)
            todo.append((value, item, where))
    return out


def decode(raw: bytes, name: str) -> str:
    """The file's text: UTF-8, with or without a byte order mark (what OpenAPI documents
    are written in; JSON requires it)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SpecError(
            name,
            "",
            f"not UTF-8 text: byte {raw[exc.start]:#04x} at offset {exc.start} "
            f"(line {line})",
        ) from None


def parse_bytes(raw: bytes, name: str) -> Any:
    return _parse(raw, name)[0]


def read_data(path: Path, name: str) -> Any:
    """The data of a file as a spec file is read (its size and alias limits, YAML 1.2)."""
    return _read(path, name)[1]


def _parse(raw: bytes, name: str) -> tuple[Any, tuple[Finding, ...]]:
    """The file's data, and a warning for each key written twice in one mapping: YAML 1.2
    forbids that and JSON leaves it undefined; both parsers keep the last one, so the first
    is lost, which the user must hear about."""
    text = decode(raw, name)
    try:
        if name.lower().endswith(".json"):
            return _json_data(text, name)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, ()
            duplicates, written, aliased = _yaml_duplicates(node, name)
            if aliased:
                _check_expansion(node, written, name)
            return _stringify_keys(loader.construct_document(node), name), duplicates
        finally:
            loader.dispose()
    except json.JSONDecodeError as exc:
        raise SpecError(
            name, "", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        # Python reads integers of at most 4,300 digits (sys.get_int_max_str_digits)
        if "integer string conversion" not in str(exc):
            raise
        raise SpecError(
            name, "", "a number of more than 4,300 digits: Python reads no longer one"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(name, "", f"invalid YAML{where}: {problem}") from None


_LOST = "the last one is used, the others are ignored"


def _yaml_duplicates(
    root: yaml.Node, name: str
) -> tuple[tuple[Finding, ...], int, bool]:
    """Keys written twice in a mapping of the YAML node tree (merge keys `<<` aside:
    keys that override merged ones are what merging is for); how many nodes the file
    writes (an alias is not one: it names a node written elsewhere); whether any node is
    met twice (through an alias)."""
    found: list[Finding] = []
    seen_nodes: set[int] = set()  # anchors make a graph: each node is read once
    aliased = False
    todo: list[tuple[yaml.Node, str]] = [(root, "")]
    while todo:
        node, ptr = todo.pop()
        if id(node) in seen_nodes:
            aliased = True
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            todo.extend((item, f"{ptr}/{i}") for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                where = f"{ptr}/{escape(key.value)}"
                if key.tag != "tag:yaml.org,2002:merge" and key.value in lines:
                    first, line = lines[key.value], key.start_mark.line + 1
                    message = f"key written twice (lines {first} and {line}): {_LOST}"
                    found.append(Finding(name, where, message))
                lines.setdefault(key.value, key.start_mark.line + 1)
                todo.append((value, where))
    return tuple(sorted(found, key=lambda f: f.pointer)), len(seen_nodes), aliased


# Past this many nodes, a document whose aliases multiply what it writes tenfold or more
# is refused: every alias becomes a copy of its node (as JSON would have it), and ten
# levels of ten aliases each (a "billion laughs") would be ten billion nodes to copy,
# validate and walk. A real spec expands to far less; GitHub's 13 MB JSON is 1.6 million.
EXPANSION_LIMIT = 4_000_000
EXPANSION_RATIO = 10


def _check_expansion(root: yaml.Node, written: int, name: str) -> None:
    """Stop on a document its aliases would blow up (EXPANSION_LIMIT), naming the node
    where the growth is: from the top, into the child holding most of it while one child
    holds more than half."""
    if written * EXPANSION_RATIO >= EXPANSION_LIMIT:
        limit = written * EXPANSION_RATIO
    else:
        limit = EXPANSION_LIMIT
    sizes = _expanded_sizes(root)
    if sizes[id(root)] <= limit:
        return
    node, where = root, ""
    while True:
        children = _children(node)
        if not children:
            break
        key, child = max(children, key=lambda kc: sizes.get(id(kc[1]), 1))
        if sizes.get(id(child), 1) * 2 <= sizes[id(node)]:
            break
        node, where = child, f"{where}/{escape(key)}"
    raise SpecError(
        name,
        where,
        f"YAML aliases expand this node to {sizes[id(node)]:,} nodes (the file writes "
        f"{written:,}): more than ciogen reads ({limit:,}); write the repeated parts "
        "once as components and $ref them",
    )


def _children(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.SequenceNode):
        return [(str(i), item) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        return [(str(k.value), v) for k, v in node.value]
    return []


def _expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """Each node's size once every alias under it is a copy (a scalar is 1), by id; each
    node is visited once. A node met again inside itself (a cycle, refused later) counts
    as 1 there."""
    sizes: dict[int, int] = {}
    pending: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, done = todo.pop()
        key = id(node)
        if done:
            pending.discard(key)
            sizes[key] = 1 + sum(
                sizes.get(id(c), 1) + (1 if isinstance(node, yaml.MappingNode) else 0)
                for _, c in _children(node)
            )
            continue
        if key in sizes or key in pending:
            continue
        pending.add(key)
        todo.append((node, True))
        todo.extend((c, False) for _, c in _children(node))
    return sizes


def _json_data(text: str, name: str) -> tuple[Any, tuple[Finding, ...]]:
    twice: dict[int, list[str]] = {}  # id of an object -> its keys written twice

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):  # rare: only then are the keys counted
            counts: dict[str, int] = {}
            for key, _ in pairs:
                counts[key] = counts.get(key, 0) + 1
            twice[id(obj)] = sorted(k for k, n in counts.items() if n > 1)
        return obj

    data = json.loads(text, object_pairs_hook=pairs_to_dict)
    if not twice:
        return data, ()
    found: list[Finding] = []
    todo: list[tuple[Any, str]] = [(data, "")]
    while todo:  # where the objects with keys written twice are
        node, ptr = todo.pop()
        if isinstance(node, dict):
            for key in twice.get(id(node), ()):
                found.append(
                    Finding(name, f"{ptr}/{escape(key)}", f"key written twice: {_LOST}")
                )
            todo.extend((v, f"{ptr}/{escape(k)}") for k, v in node.items())
        elif isinstance(node, list):
            todo.extend((v, f"{ptr}/{i}") for i, v in enumerate(node))
    return data, tuple(sorted(found, key=lambda f: f.pointer))


# The most a spec file may hold. The largest real descriptions are tens of megabytes
# (GitHub's: 13 MB); a file that goes on and on (`--spec /dev/zero`) is refused here
# instead of filling the memory.
MAX_FILE_BYTES = 256 * 2**20


def _read(path: Path, name: str) -> tuple[bytes, Any, tuple[Finding, ...]]:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecError(name, "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(
            name, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB: not read as a spec"
        )
    return (raw, *_parse(raw, name))


def _own_version(data: dict[str, Any]) -> str:
    """The OpenAPI version a document declares, when it is one ciogen reads ("" if not)."""
    version = str(data.get("openapi", ""))
    return version[:3] if version.startswith(("3.0", "3.1")) else ""


def read_document(path: Path, name: str = "") -> Document:
    """A spec file named on the command line: a whole OpenAPI 3.0 or 3.1 document. `name`
    is how messages name it (by default its path from the working directory)."""
    name = name or display_name(path)
    raw, data, duplicates = _read(path, name)
    if not isinstance(data, dict):
        raise SpecError(
            name, "", "not an OpenAPI document (expected a mapping at the top)"
        )
    if not _own_version(data):
        if "swagger" in data:
            raise SpecError(
                name, "/swagger", "Swagger 2.0 is not supported; convert to OpenAPI 3"
            )
        if "openapi" not in data:
            raise SpecError(name, "", "not an OpenAPI document (no `openapi` key)")
        version = str(data.get("openapi", ""))
        raise SpecError(
            name, "/openapi", f"unsupported OpenAPI version {version!r} (3.0/3.1)"
        )
    return _document(path, name, raw, data, _own_version(data), duplicates)


def read_referenced(path: Path, version: str, name: str = "") -> Document:
    """A file a `$ref` leads to: any mapping (a schema, a path item, a file of
    fragments), not necessarily a whole OpenAPI document. Its schemas are read in the
    version it declares, else in `version`, the referring document's."""
    name = name or display_name(path)
    raw, data, duplicates = _read(path, name)
    if not isinstance(data, dict):
        # OpenAPI's $ref targets are all objects; a file of another shape is not supported
        raise SpecError(name, "", "a file a $ref leads to must hold a mapping")
    return _document(path, name, raw, data, _own_version(data) or version, duplicates)


def _document(
    path: Path,
    name: str,
    raw: bytes,
    data: dict[str, Any],
    version: str,
    duplicates: tuple[Finding, ...],
) -> Document:
    return Document(
        path=path.resolve(),
        name=name,
        data=data,
        sha256=hashlib.sha256(raw).hexdigest(),
        version=version,
        duplicates=duplicates,
    )
