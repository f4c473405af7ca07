"""Validation of documents against the OpenAPI 3.0/3.1 schema (openapi-spec-validator).

The validator's findings are reported with file and JSON pointer. On their own they are
warnings: real specs fail validation on details that cannot change the generated code (an
example that does not match, a default out of bounds, an empty `responses`). Whatever *would*
change the code (a broken `$ref`, a malformed schema, an unknown `type`) is found again, with a
precise pointer, by the IR stage, which stops the run. `--strict` makes every finding an error.

The validator is slow to import and to run, so its findings are cached unit by unit (a path
item, a component: see units.py), and a run validates only the units an edit touched, on a
worker process while the IR is built:
- the OpenAPI schema's pass checks each changed unit in the document's skeleton (its
  findings depend on nothing else);
- the validator's own walk (defaults, required properties, path parameters) checks each
  changed unit and every unit whose `$ref`s reach one, each on its own; duplicate operation
  ids are found across all units from the ids each walk noted.
A document met for the first time, or changed in its root, is validated whole (a big 3.0
one first by a compiled check of the OpenAPI schema, `_passes_fast`; the validator's pass
runs only when that finds something); so is the walk of an edit that reaches more than a
quarter of the walked units. A whole walk is the validator's: a schema
reached by several units is checked once, under the first. A unit walked on its own checks
everything it reaches, so it can report what the whole walk left to another unit (the same
finding, which is reported once) or skipped (`required` is checked against the properties
only where a schema is met first).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import warnings
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ..errors import Finding, pointer, respelled
from . import units as U
from .reader import Document, read_data, read_document
from .refs import unescape_pointer
from .regex import guarded

# /4: findings kept per unit; /5: a schema's own findings point into it; /6: a
# oneOf branch's finding points at that branch; /7: extensions in the Paths object are
# not walked as path items; /8: a default is not checked with a pattern that may
# backtrack for ever, and a file a $ref leads to is read as the generator reads it
_VALIDATOR_ID = "openapi-spec-validator-0.9.0/8"


def _deepest(error: Any) -> Any:
    """oneOf/anyOf failures hide the useful error in `context`: the deepest one."""
    best = error
    while getattr(best, "context", None):
        best = max(best.context, key=lambda e: len(list(e.absolute_path)))
    return best


def _message(error: Any) -> str:
    best = _deepest(error)
    text = str(getattr(best, "message", best)).splitlines()[0]
    if hasattr(best, "instance"):
        text = respelled(text, best.instance)
    return text[:300]


class _Seen(list):  # type: ignore[type-arg]
    """A list of ids whose `in` is a set lookup.

    openapi-spec-validator 0.9.0 remembers the schemas it has visited in plain lists and
    asks `id in list` once per schema: quadratic in the number of schemas (about half of
    the validation time on GitHub's description). Only `append` and `in` are used on them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._ids: set[int] = set()

    def append(self, item: int) -> None:
        self._ids.add(item)
        super().append(item)

    def __contains__(self, item: object) -> bool:
        return item in self._ids


class _Locator:
    """Where a node of a document stands, found by identity (the validator hands out the
    document's own objects); the index is built on the first question only."""

    def __init__(self, data: Any) -> None:
        self._data = data
        self._paths: dict[int, list[Any]] | None = None

    def path(self, node: Any, walked: Iterable[Any]) -> list[Any]:
        """`node`'s path in the document; `walked`, the path the validator took to it
        (through `$ref`s), for a node of another file."""
        if self._paths is None:
            self._paths = {}
            todo: list[tuple[Any, list[Any]]] = [(self._data, [])]
            while todo:
                value, at = todo.pop()
                if isinstance(value, dict):
                    self._paths.setdefault(id(value), at)
                    todo.extend((v, [*at, k]) for k, v in value.items())
                elif isinstance(value, list):
                    todo.extend((v, [*at, i]) for i, v in enumerate(value))
        return self._paths.get(id(node), list(walked))


def _validator_class(version: str, by_unit: bool = False, data: Any = None) -> Any:
    """The validator for `version`, with its schema keyword's visit lists made `_Seen`.
    `by_unit`: its operation keyword notes operation ids instead of finding duplicates
    (a unit walked on its own cannot see the others; see `_duplicate_ids`). `data`: the
    document validated, for a schema's own findings (e.g. `pattern` is no regular
    expression) to point into the schema; the validator gives their place in it only."""
    from openapi_spec_validator.validation import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    base = OpenAPIV31SpecValidator if version == "3.1" else OpenAPIV30SpecValidator
    schema_keyword = base.keyword_validators["schema"]
    locator = None if data is None else _Locator(data)

    class SchemaKeyword(schema_keyword):  # type: ignore[misc, valid-type]
        def __init__(self, registry: Any) -> None:
            super().__init__(registry)
            self.visited_schema_ids = _Seen()
            self.meta_checked_schema_ids = _Seen()
            # id of a schema (the document's own dicts, alive all along) -> its names
            self.collected: dict[int, frozenset[str]] = {}

        def _collect_properties(self, schema: Any) -> set[str]:
            # The names `required` may list: those of the schema's properties and of the
            # schemas under its allOf/anyOf/oneOf/items/not, each schema read once. The
            # validator's own recursion has no guard: schemas that lead back to each
            # other took it minutes (and to the recursion limit) on a page-long spec.
            # It asks again for every allOf member it visits, inner ones first: a
            # schema's answer is kept, or a chain of n nested allOfs is read n*n/2 times
            # (800 took a minute).
            names: set[str] = set()
            seen: set[int] = set()
            todo = [schema]
            while todo:
                node = todo.pop()
                value = node.read_value()
                if id(value) in seen or not isinstance(value, dict):
                    continue
                seen.add(id(value))
                if id(value) in self.collected:
                    names.update(self.collected[id(value)])
                    continue
                if isinstance(value.get("properties"), dict):
                    names.update((node / "properties").keys())
                for key in ("allOf", "anyOf", "oneOf"):
                    if isinstance(value.get(key), list):
                        todo.extend(node / key)
                for key in ("items", "not"):
                    if key in value:
                        todo.append(node / key)
            self.collected[id(schema.read_value())] = frozenset(names)
            return names

        def _validate_schema_meta(self, schema: Any, schema_value: Any) -> Any:
            err = super()._validate_schema_meta(schema, schema_value)
            if err is not None and locator is not None:
                err.path.extendleft(reversed(locator.path(schema_value, schema.parts)))
            return err

    paths_keyword = base.keyword_validators["paths"]

    class PathsKeyword(paths_keyword):  # type: ignore[misc, valid-type]
        def __call__(self, paths: Any) -> Any:
            # The Paths object allows extensions, which the validator would walk as path
            # items (and stop at the first that is not an object)
            for url, path_item in paths.items():
                if not str(url).startswith("x-"):
                    yield from self.path_validator(url, path_item)

    default_keyword: Any = base.keyword_validators["default"]

    class DefaultKeyword(default_keyword):  # type: ignore[misc]
        # a default is checked against its schema: not with a pattern that may backtrack
        # for ever (the IR warns of it)
        value_validator_cls = guarded(default_keyword.value_validator_cls)

    keywords = {
        **base.keyword_validators,
        "schema": SchemaKeyword,
        "paths": PathsKeyword,
        "default": DefaultKeyword,
    }
    if by_unit:
        operation_keyword = base.keyword_validators["operation"]

        class OperationKeyword(operation_keyword):  # type: ignore[misc, valid-type]
            def __init__(self, registry: Any) -> None:
                super().__init__(registry)
                self.seen: list[list[str]] = []

            def __call__(
                self, url: str, name: str, operation: Any, path_parameters: Any
            ) -> Any:
                if "operationId" in operation:
                    value = (operation / "operationId").read_value()
                    if value is not None:
                        self.seen.append([str(value), name, url])
                self.operation_ids_registry: list[str] = []  # the base finds none
                return super().__call__(url, name, operation, path_parameters)

        keywords["operation"] = OperationKeyword
    attributes = {"keyword_validators": keywords, "resolver_handlers": _HANDLERS}
    return type(base.__name__, (base,), attributes)


def _local_file(uri: str) -> Any:
    """How the validator reads a file a `$ref` leads to: a local regular file, read as a
    spec file is (YAML 1.2, its size and alias limits). Its own handlers fetched remote
    `$ref`s over the network (the IR refuses them, but not in a component nothing uses)
    and read devices and pipes (/dev/zero for ever)."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise ValueError(f"remote $ref {uri!r} is not read (local files only)")
    path = Path(url2pathname(parts.path))
    if not stat.S_ISREG(path.stat().st_mode):
        raise ValueError(f"$ref {uri!r} is not a regular file")
    return read_data(path, path.name)


# Every scheme the validator would otherwise hand to urllib (which knows these five)
_HANDLERS = {scheme: _local_file for scheme in ("file", "http", "https", "ftp", "data")}


# The validator compiles each `pattern` with Python's `re`, which warns of a set a future
# Python will read otherwise (`[[a-z]`): printed without saying where, that was noise on
# the user's terminal, and under `-W error` it stopped the validation. The generator reads
# patterns itself (ir/patterns.py). Only the validator's own warnings are silenced.
warnings.filterwarnings(
    "ignore", category=FutureWarning, module=r"openapi_schema_validator\."
)

# The validator's two passes, which share nothing: the document against the OpenAPI
# schema, then its own walk over paths and components (refs resolved, defaults checked).
PARTS = ("schema", "semantic")
# A big document validates its two passes on two workers at once; below about this size a
# second worker (its start, its import of the validator) costs more than it saves.
SPLIT_BYTES = 1_000_000


def _errors(validator: Any, part: str) -> Any:
    from openapi_spec_validator.validation.decorators import wraps_errors

    def run() -> Any:
        if part in ("all", "schema"):
            yield from validator.schema_validator.iter_errors(validator.schema)
        if part in ("all", "semantic"):
            yield from validator.root_validator(validator.schema_path)

    # wrapped as the validator's own iter_errors wraps them: the same error objects
    return wraps_errors(run)()


def _validate_document(doc: Document, part: str = "all") -> list[Finding]:
    """The findings of one pass of the validator (`PARTS`), or of both ("all")."""
    cls = _validator_class(doc.version, data=doc.data)
    try:
        errors = list(_errors(cls(doc.data, base_uri=doc.path.as_uri()), part))
    # the validator itself can choke on odd input
    except Exception as exc:  # noqa: BLE001
        return [_failed(doc, exc)]
    return _ordered(_findings(doc, errors, doc.data))


def _failed(doc: Document, exc: Exception) -> Finding:
    """The validator stopped on the document: say so in the document's terms (its own
    exception says nothing to the spec's author), the exception last for a bug report.
    """
    if isinstance(exc, RecursionError):
        why = "$refs that lead back to each other with no schema between them?"
    else:
        why = "its structure is broken where the other warnings say"
    return Finding(
        doc.name,
        "",
        f"the OpenAPI validator stopped before the end ({why}); "
        f"validator failed: {type(exc).__name__}",
    )


def _findings(doc: Document, errors: Any, data: Any) -> list[Finding]:
    """The validator's errors as findings: where (in `data`, the document validated)
    and what."""
    out = []
    for err in errors:
        # where the error the message is about stands (below a oneOf, its branch's)
        path = list(getattr(_deepest(err), "absolute_path", []) or [])
        if not path:  # e.g. a `default` of the wrong type: the validator says not where
            path = _where(data, getattr(err, "instance", data)) or []
        out.append(Finding(doc.name, pointer(*path), _message(err)))
    return out


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(set(findings), key=lambda f: (f.pointer, f.message))


_VALUE_KEYS = ("default", "example", "const")


def _where(data: Any, instance: Any) -> list[Any] | None:
    """The path of the first `default`/`example`/`const` holding `instance` (document
    order), for findings the validator gives no location for; None when there is none.
    """
    if instance is data:
        return None
    stack: list[tuple[list[Any], Any]] = [([], data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key in _VALUE_KEYS:
                if (
                    key in node
                    and node[key] == instance
                    and type(node[key]) is type(instance)
                ):
                    return path + [key]
            stack.extend((path + [k], v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((path + [i], v) for i, v in reversed(list(enumerate(node))))
    return None


# The documents being validated, by path, set just before the work is submitted: a worker
# forked then (pool.py forks on Linux) finds them here and parses nothing; a worker started
# any other way reads the files (sending it the parsed documents would cost more).
_SUBMITTED: dict[Path, Document] = {}


def _document(path: Path) -> Document:
    return _SUBMITTED.get(path) or read_document(path)


# What a worker sends back for one document, findings as (pointer, message) pairs:
# "schema": the schema pass's findings ([] when not run), "walk": unit -> its walk's
# findings, "ids": path item -> the operation ids it holds, "refs": unit -> its $refs,
# "failed": the validator choked (reported, never cached: the next run tries again).
Result = dict[str, Any]


def _pairs(found: Iterable[Finding]) -> list[list[str]]:
    return [[f.pointer, f.message] for f in found]


# The validator follows a `$ref` to a `$ref` afresh each time it meets one, through the
# whole chain (some 40 us a hop): 1,000 component aliases, each of the one before, took
# it 20 s, 5,000 hours. Past this many hops in one document (10 s or so) its walk is left
# out, with a warning; the IR resolves every `$ref` itself and stops on a broken one.
# Real documents make a few dozen.
ALIAS_HOPS = 250_000


def _alias_hops(data: Any) -> tuple[int, str]:
    """How many hops from one `$ref` to the next the document's local `$ref`s lead
    through in all, and the pointer where the longest chain starts."""
    hops: dict[str, int] = {}

    def chain(target: str) -> int:
        path, seen = [target], {target}
        while True:
            try:
                node: Any = data
                for part in unescape_pointer(path[-1]):
                    node = node[int(part) if isinstance(node, list) else part]
            except (ValueError, KeyError, IndexError, TypeError):
                node = None
            ref = node.get("$ref") if isinstance(node, dict) else None
            nxt = ref[1:] if isinstance(ref, str) and ref.startswith("#") else None
            if nxt is None or nxt in seen or nxt in hops:
                break
            seen.add(nxt)
            path.append(nxt)
        count = hops.get(nxt, 0) + 1 if nxt in hops else 0
        for at in reversed(path):
            hops[at] = count
            count += 1
        return hops[target]

    total, longest, start = 0, -1, ""
    todo: list[Any] = [data]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                n = hops[ref[1:]] if ref[1:] in hops else chain(ref[1:])
                total += n
                if n > longest:
                    longest, start = n, ref[1:]
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return total, start


def _walk(doc: Document, only: set[str] | None) -> Result:
    """The validator's own walk (tags, path items, component schemas, in its order) unit
    by unit: with `only` None, one walk over the whole document as the validator does it;
    else each unit in `only` walked on its own."""
    from openapi_spec_validator.validation.decorators import wraps_errors
    from openapi_spec_validator.validation.registries import KeywordValidatorRegistry

    hops, start = _alias_hops(doc.data)
    if hops > ALIAS_HOPS:
        said = (
            f"not walked by the OpenAPI validator: the document's $refs lead through "
            f"{hops} references to references in all (more than {ALIAS_HOPS}; the "
            "longest chain starts here), which it follows one at a time"
        )
        return {"walk": {}, "ids": {}, "failed": [[start, said]]}

    cls = _validator_class(doc.version, by_unit=True, data=doc.data)
    validator = cls(doc.data, base_uri=doc.path.as_uri())
    root = validator.schema_path
    shared = validator.keyword_validators_registry

    def registry() -> Any:
        return (
            shared if only is None else KeywordValidatorRegistry(cls.keyword_validators)
        )

    walk: dict[str, list[list[str]]] = {}
    ids: dict[str, list[list[str]]] = {}

    def run(key: str, make: Callable[[Any], Any]) -> None:
        reg = registry()
        noted = reg["operation"].seen
        before = len(noted)
        walk[key] = _pairs(_findings(doc, wraps_errors(lambda: make(reg))(), doc.data))
        if noted[before:]:
            ids[key] = noted[before:]

    try:
        tags = "tags" in root and "tags" in shared.keyword_validators
        if tags and (only is None or U.ROOT in only):
            run(U.ROOT, lambda reg: reg["tags"](root / "tags"))
        if "paths" in root:
            for url, item in (root / "paths").items():
                key = pointer("paths", url)
                if str(url).startswith("x-"):  # an extension (see PathsKeyword)
                    continue
                if only is None or key in only:
                    run(key, lambda reg: reg["path"](url, item))  # noqa: B023
        if "components" in root and "schemas" in (root / "components"):
            for name, schema in (root / "components" / "schemas").items():
                key = pointer("components", "schemas", name)
                if only is None or key in only:
                    run(key, lambda reg: reg["schema"](schema))  # noqa: B023
    # the validator itself can choke on odd input
    except Exception as exc:  # noqa: BLE001
        return {"walk": {}, "ids": {}, "failed": _pairs([_failed(doc, exc)])}
    return {"walk": walk, "ids": ids}


def _strip_formats(node: Any) -> Any:
    """The schema without its `format` keywords (the validator checks no format)."""
    if isinstance(node, dict):
        return {
            k: _strip_formats(v)
            for k, v in node.items()
            if not (k == "format" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_strip_formats(v) for v in node]
    return node


@functools.cache
def _fast_check() -> Callable[[Any], Any]:
    """The OpenAPI 3.0 schema compiled to Python (fastjsonschema): it says whether a
    document has any finding about five times faster than the validator finds them. 3.1's
    schema is JSON Schema 2020-12, which fastjsonschema does not read."""
    import fastjsonschema  # type: ignore[import-untyped]
    from openapi_spec_validator.schemas import schema_v30

    schema = _strip_formats(json.loads(json.dumps(dict(schema_v30))))
    # use_default=False: by default the compiled check writes the schema's defaults into
    # the document it checks
    check: Callable[[Any], Any] = fastjsonschema.compile(schema, use_default=False)
    return check


def _passes_fast(doc: Document, data: dict[str, Any]) -> bool:
    """True when the compiled check passes `data`: the validator would find nothing."""
    if doc.version != "3.0":
        return False
    try:
        _fast_check()(data)
    # a finding, or input the compiled check chokes on: the validator will say
    except Exception:  # noqa: BLE001
        return False
    return True


def _schema_pass(doc: Document, data: dict[str, Any], fast: bool = False) -> Result:
    """The OpenAPI schema's findings on `data`; `fast`: first ask the compiled check, and
    run the validator only when it finds something (its compilation costs more than the
    validator spends on a small document)."""
    if fast and _passes_fast(doc, data):
        return {"schema": []}
    cls = _validator_class(doc.version)
    try:
        validator = cls(data, base_uri=doc.path.as_uri())
        return {"schema": _pairs(_findings(doc, _errors(validator, "schema"), data))}
    except Exception as exc:  # noqa: BLE001
        return {"schema": [], "failed": _pairs([_failed(doc, exc)])}


def _validate_files(paths: list[Path], part: str = "all") -> list[Result]:
    """Worker entry point: one document whole, or one of its passes (`PARTS`)."""
    out = []
    for path in paths:
        doc = _document(path)
        result: Result = {"schema": [], "walk": {}, "ids": {}, "refs": {}}
        if part in ("all", "schema"):
            fast = _size([path]) > SPLIT_BYTES
            _merge(result, _schema_pass(doc, doc.data, fast))
        if part in ("all", "semantic"):
            _merge(result, _walk(doc, None))
            result["refs"] = U.all_refs(doc.data, doc.unit_digests)
        out.append(result)
    return out


def _validate_units(path: Path, changed: list[str], walked: list[str] | None) -> Result:
    """Worker entry point: the changed units in the skeleton, the walked ones alone (or
    the validator's walk over the whole document, `walked` None)."""
    doc = _document(path)
    result: Result = {"schema": [], "walk": {}, "ids": {}}
    if changed:
        _merge(result, _schema_pass(doc, U.skeleton(doc.data, changed)))
    if walked is None or walked:
        _merge(result, _walk(doc, None if walked is None else set(walked)))
    return result


def _merge(into: Result, part: Result) -> None:
    for key, value in part.items():
        if isinstance(value, list):
            into[key] = into.get(key, []) + value
        else:
            into.setdefault(key, {}).update(value)


def _duplicate_ids(file: str, ids: Iterable[list[list[str]]]) -> list[Finding]:
    """The validator's duplicate operation id findings, from the ids each path item's walk
    noted (in document order): the second and later uses of an id."""
    seen: set[str] = set()
    out = []
    for noted in ids:
        for value, method, url in noted:
            if value in seen:
                message = (
                    f"Operation ID '{value}' for '{method}' in '{url}' is not unique"
                )
                out.append(Finding(file, "", message))
            seen.add(value)
    return out


def _size(paths: list[Path]) -> int:
    try:
        return sum(path.stat().st_size for path in paths)
    except OSError:
        return 0


Submit = Callable[..., "Future[Any]"]
# Past this share of a document's walked units (path items, component schemas) to walk
# again, the whole document is walked: one walk over everything costs less.
WHOLE_SHARE = 0.25
_WALKED = ("/paths/", "/components/schemas/")

# A unit's entry in the cache: [digest, schema findings, walk findings, refs, ids]
Entry = list[Any]


def _rows(value: Any, width: int) -> bool:
    return isinstance(value, list) and all(
        isinstance(row, list)
        and len(row) == width
        and all(isinstance(x, str) for x in row)
        for row in value
    )


def _is_entry(entry: Any) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 5
        and isinstance(entry[0], str)
        and _rows(entry[1], 2)
        and _rows(entry[2], 2)
        and isinstance(entry[3], list)
        and all(isinstance(x, str) for x in entry[3])
        and _rows(entry[4], 3)
    )


class _Record:
    """One document's cached findings, unit by unit (`cache_dir/validation/<doc>.json`)."""

    def __init__(self, doc: Document, cache_dir: Path | None) -> None:
        self.doc = doc
        name = hashlib.sha256(f"{_VALIDATOR_ID}\0{doc.path}".encode()).hexdigest()
        self.path = (
            cache_dir / "validation" / f"{name[:24]}.json" if cache_dir else None
        )
        self.digests = doc.unit_digests
        self.body = U.body_digest(doc.data)
        self.old: dict[str, Entry] = self._load()
        self.entries: dict[str, Entry] = {}
        self.refs: dict[str, list[str]] = {}
        self.failed: list[Finding] = []

    def _load(self) -> dict[str, Entry]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("body") != self.body:
            return {}  # the root's body changed: every unit may read it
        entries = data.get("units")
        if not isinstance(entries, dict) or not all(map(_is_entry, entries.values())):
            return {}  # not what a run wrote: as good as no cache
        return entries

    def plan(self) -> tuple[list[str], list[str] | None] | None:
        """(units to check in the skeleton, units to walk or None to walk the whole
        document), or None to validate the document whole."""
        if not self.old:
            return None
        changed = [k for k, d in self.digests.items() if self.old.get(k, [""])[0] != d]
        removed = set(self.old) - set(self.digests)
        if not changed and not removed:
            return [], []
        refs = {k: self.old[k][3] for k in self.digests if k in self.old}
        refs.update(U.all_refs(self.doc.data, changed))
        self.refs = refs
        reached = U.reaching([*changed, *removed], refs)
        walkable = [k for k in self.digests if k.startswith(_WALKED)]
        walked = [k for k in walkable if k in reached]
        if len(walked) > WHOLE_SHARE * max(len(walkable), 1):
            return changed, None
        return changed, walked

    def fill(
        self, result: Result, changed: list[str] | None, walked: list[str] | None
    ) -> None:
        """The entries of this run: fresh findings where `result` has them, the cached
        ones elsewhere (`changed` None: everything is fresh)."""
        schema: dict[str, list[list[str]]] = {}
        for found in result["schema"]:
            schema.setdefault(U.unit_of(found[0], self.digests), []).append(found)
        refs = result["refs"] if changed is None else self.refs
        fresh_schema = set(self.digests) if changed is None else set(changed)
        fresh_walk = set(self.digests) if walked is None else set(walked)
        for key, digest in self.digests.items():
            old = self.old.get(key) or [digest, [], [], [], []]
            self.entries[key] = [
                digest,
                schema.get(key, []) if key in fresh_schema else old[1],
                result["walk"].get(key, []) if key in fresh_walk else old[2],
                refs.get(key, []),
                result["ids"].get(key, []) if key in fresh_walk else old[4],
            ]
        failed = result.get("failed", [])
        self.failed = [Finding(self.doc.name, p, m) for p, m in failed]

    def cached(self) -> None:
        self.entries = {k: self.old[k] for k in self.digests}

    def findings(self) -> list[Finding]:
        name = self.doc.name
        out = [
            Finding(name, p, m)
            for entry in self.entries.values()
            for p, m in [*entry[1], *entry[2]]
        ]
        ids = (e[4] for k, e in self.entries.items() if k.startswith("/paths/"))
        return _ordered(out + _duplicate_ids(name, ids) + self.failed)

    def store(self) -> None:
        if self.path is None or self.failed or self.entries == self.old:
            return
        try:  # a cache that cannot be written only costs time
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            data = {"body": self.body, "units": self.entries}
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass


class Pending:
    """Findings of the root documents: from the cache, and from workers for what an edit
    touched (or for whole documents the cache knows nothing of)."""

    def __init__(
        self, docs: list[Document], cache_dir: Path | None, submit: Submit
    ) -> None:
        self._records = [_Record(doc, cache_dir) for doc in docs]
        self._plans = [record.plan() for record in self._records]
        whole = [
            r.doc.path for r, plan in zip(self._records, self._plans) if plan is None
        ]
        parts = PARTS if _size(whole) > SPLIT_BYTES else ("all",)
        _SUBMITTED.clear()
        _SUBMITTED.update({doc.path: doc for doc in docs})
        self._whole = (
            [submit(_validate_files, whole, part) for part in parts] if whole else []
        )
        self._units: list[Future[Any] | None] = [
            (
                submit(_validate_units, r.doc.path, *plan)
                if plan and (plan[0] or plan[1] is None or plan[1])
                else None
            )
            for r, plan in zip(self._records, self._plans)
        ]
        self._done = False

    def result(self) -> list[Finding]:
        """Every root document's findings, in document order; fills the cache."""
        if not self._done:
            wholes = iter(zip(*(f.result() for f in self._whole)))
            for record, plan, future in zip(self._records, self._plans, self._units):
                if plan is None:
                    merged: Result = {"schema": [], "walk": {}, "ids": {}, "refs": {}}
                    for part in next(wholes):
                        _merge(merged, part)
                    record.fill(merged, None, None)
                elif future is not None:
                    record.fill(future.result(), *plan)
                else:
                    record.cached()
                record.store()
            _SUBMITTED.clear()
            self._done = True
        return [f for record in self._records for f in record.findings()]


def start(docs: list[Document], cache_dir: Path | None, submit: Submit) -> Pending:
    return Pending(docs, cache_dir, submit)
