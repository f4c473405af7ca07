"""Checking the spec's own examples against their schemas (the IR marks the bad ones).

An example that does not match its schema is a warning (it does not change the code), and
the IR marks it invalid so that no fixture ever uses it. Schemas are checked in the
dialect of the file that defines them (3.0 or 3.1), with every loaded document registered so
cross-file `$ref`s resolve.

Results are cached by content: the example, where its schema stands, and the structure
(prose left out) of what that schema can reach: the schema itself and the units of its
document (spec/units.py) it reaches through `$ref`s, or, when the specs are several files,
every file it reaches. A schema written inside an operation is keyed on itself, not on its
whole path item, so marking an operation deprecated, say, re-checks nothing. An edit
re-checks only the examples whose schemas it can change; when every answer is cached the
schema validator (slow to import) is not imported at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import Finding, SpecError, respelled
from ..spec.reader import Document
from ..spec.refs import Workspace
from ..spec.regex import guarded
from ..spec.units import ROOT, local_refs, refs_of, shape_digest, unit_of, units
from . import model as ir

# /6: an operation's inline schema is keyed on itself, not on its path item; /7: the
# error reported is jsonschema's best match, its value cut short; /8: a pattern that may
# backtrack for ever (spec/regex.py) is not run
_CHECKER_ID = "openapi-schema-validator-0.9.0/8"
# How a problem begins when the schema validator could not use the schema at all: an
# unknown `type`, `required: 0`, a `pattern` that is no regular expression, `$ref`s that
# lead back to themselves. The spec validator's warnings say what is wrong with it.
UNCHECKABLE = "the schema validator cannot use its schema"


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            out.add(ref.partition("#")[0])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def _target(referrer: Path, target: str) -> Path | None:
    """The file a `$ref`'s file part names, as the resolver reads it (None: no file can
    be so named; any `$ref` in an example's value is seen here, and none of those is read).
    """
    try:
        return (referrer.parent / unquote(target)).resolve()
    except (OSError, ValueError):
        return None


def closure_hashes(ws: Workspace) -> dict[str, str]:
    """For each document: a hash over it and every document its `$ref`s reach."""
    direct: dict[Path, set[Path]] = {}
    for doc in ws.docs.values() if len(ws.docs) > 1 else ():  # alone, it reaches itself
        targets: set[str] = set()
        _refs(doc.data, targets)
        direct[doc.path] = {
            path for t in targets if (path := _target(doc.path, t)) is not None
        } & set(ws.docs)
    out: dict[str, str] = {}
    for doc in ws.docs.values():
        seen, todo = {doc.path}, [doc.path]
        while todo:
            for nxt in direct.get(todo.pop(), set()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        digest = hashlib.sha256(_CHECKER_ID.encode())
        for path in sorted(seen):
            digest.update(ws.docs[path].shape_sha256.encode())
        out[doc.name] = digest.hexdigest()
    return out


def _is_pack(data: Any) -> bool:
    """Whether `data` is what `CachedChecker.save` writes (anything else is ignored)."""
    if not isinstance(data, dict):
        return False
    answers, refs = data.get("answers"), data.get("refs")
    return (
        isinstance(answers, dict)
        and all(v is None or isinstance(v, str) for v in answers.values())
        and isinstance(refs, dict)
        and all(
            isinstance(v, list) and all(isinstance(x, str) for x in v)
            for v in refs.values()
        )
    )


class CachedChecker:
    """`errors()` answered from the cache, falling back to a real check (imported lazily).

    The cache is one file per set of documents, `cache_dir/examples/<set>.json` (a huge
    API has thousands of examples; a file each cost more than checking some of them):
    each answer under the key of what it depends on. `save()` writes the answers of this
    run, and only when one of them was not in the file.
    """

    def __init__(self, ws: Workspace, cache_dir: Path | None) -> None:
        self.ws = ws
        names = "\0".join(sorted(str(p) for p in ws.docs))
        pack = hashlib.sha256(f"{_CHECKER_ID}\0{names}".encode()).hexdigest()[:16]
        self.path = cache_dir / "examples" / f"{pack}.json" if cache_dir else None
        self.closure = closure_hashes(ws)
        self._checker: ExampleChecker | None = None
        self._known: dict[str, str | None] | None = None
        self._used: dict[str, str | None] = {}
        # a unit's local $refs by its digest (they depend on its structure alone), and
        # under `<unit digest>#<pointer>` a schema inside it: [its digest, its units...]
        self._refs: dict[str, list[str]] = {}
        self._scopes: dict[tuple[str, str], str] = {}
        self._nodes: dict[str, dict[str, Any]] = {}  # units(doc.data), by file
        self._fresh = False

    def _load(self) -> dict[str, str | None]:
        if self._known is None:
            self._known = {}
            if self.path is not None and self.path.exists():
                try:
                    loaded = json.loads(self.path.read_text())
                except (OSError, ValueError):
                    loaded = None  # a cache that cannot be read only costs time
                if _is_pack(loaded):
                    self._known = loaded["answers"]
                    self._refs = loaded["refs"]
        return self._known

    def _scope(self, name: str, ptr: str) -> str:
        """A hash of what the schema at (file, pointer) can reach: itself and the units it
        reaches (one document), or the files it reaches (several). A schema that is a
        unit (a component) is its unit's digest; one inside a unit (an operation's inline
        schema) is hashed on its own, with the units its `$ref`s reach."""
        doc = next((d for d in self.ws.docs.values() if d.name == name), None)
        if doc is None or len(self.ws.docs) > 1:
            return self.closure.get(name, "")
        digests = doc.unit_digests
        start = unit_of(ptr, digests)
        if start == ROOT:
            return self.closure.get(name, "")
        if (name, ptr) not in self._scopes:
            self._load()
            own, seen = "", {start}
            if ptr != start:
                own, *reached = self._inside(doc, digests[start], ptr)
                seen = set(reached) if own else seen
            todo = list(seen)
            while todo:
                unit = todo.pop()
                refs = self._refs.get(digests[unit])
                if refs is None:
                    if name not in self._nodes:
                        self._nodes[name] = units(doc.data)
                    refs = refs_of(doc.data, self._nodes[name], unit)
                    self._refs[digests[unit]] = refs
                    self._fresh = True
                for target in refs:
                    if target not in seen:
                        seen.add(target)
                        todo.append(target)
            digest = hashlib.sha256(f"{_CHECKER_ID}\0{doc.version}\0{own}".encode())
            for unit in sorted(seen):
                digest.update(f"\0{unit} {digests[unit]}".encode())
            self._scopes[(name, ptr)] = digest.hexdigest()
        return self._scopes[(name, ptr)]

    def _inside(self, doc: Document, unit_digest: str, ptr: str) -> list[str]:
        """[digest, units its `$ref`s reach...] of the schema at `ptr` inside a unit (["",]
        when the pointer leads nowhere), kept with the unit's own digest: it depends on
        the unit's content alone."""
        key = f"{unit_digest}#{ptr}"
        found = self._refs.get(key)
        if found is None:
            try:
                _, _, node = self.ws.resolve(doc, "#" + ptr, ptr)
                found = [shape_digest(node), *local_refs(node, doc.unit_digests)]
            except SpecError:
                found = [""]
            self._refs[key] = found
            self._fresh = True
        return found

    def errors(self, schema: ir.Schema, value: Any) -> str | None:
        name, _, ptr = schema.source.partition("#")
        key = hashlib.sha256(
            f"{self._scope(name, ptr)}\0{schema.source}\0".encode()
            + json.dumps(value, sort_keys=True).encode()
        ).hexdigest()
        known = self._load()
        if key in known:
            problem = known[key]
        else:
            if self._checker is None:
                self._checker = ExampleChecker(self.ws)
            problem = self._checker.errors(schema, value)
            self._fresh = True
        self._used[key] = problem
        return problem

    def save(self) -> None:
        if self.path is None or not self._fresh:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            current = {
                d for doc in self.ws.docs.values() for d in doc.unit_digests.values()
            }
            # a unit's refs, and its inline schemas' (`<unit digest>#<pointer>`)
            refs = {
                d: r for d, r in self._refs.items() if d.partition("#")[0] in current
            }
            data = {"answers": self._used, "refs": refs}
            tmp.write_text(json.dumps(data, sort_keys=True))
            tmp.replace(self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


class ExampleChecker:
    def __init__(self, ws: Workspace) -> None:
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
        from openapi_schema_validator import OAS30Validator, OAS31Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4, DRAFT202012

        self._v30, self._v31 = guarded(OAS30Validator), guarded(OAS31Validator)
        self._best_match = best_match
        registry: Any = Registry()
        self.by_name: dict[str, Document] = {}
        for doc in ws.docs.values():
            spec = DRAFT202012 if doc.version == "3.1" else DRAFT4
            registry = registry.with_resource(
                doc.path.as_uri(),
                Resource.from_contents(doc.data, default_specification=spec),
            )
            self.by_name[doc.name] = doc
        self.registry = registry

    def errors(self, schema: ir.Schema, value: Any) -> str | None:
        """First validation error of `value` against the schema at schema.source, or None."""
        name, _, ptr = schema.source.partition("#")
        doc = self.by_name.get(name)
        if doc is None:
            return None
        cls = self._v31 if doc.version == "3.1" else self._v30
        validator = cls({"$ref": doc.path.as_uri() + "#" + ptr}, registry=self.registry)
        try:
            # the error jsonschema itself would report (below a oneOf, the branch's)
            err = self._best_match(validator.iter_errors(value))
            if err is not None:
                where = "/".join(str(p) for p in err.absolute_path)
                said = respelled(err.message, err.instance)[:200]
                return said + (f" (at {where})" if where else "")
        # a malformed schema makes the validator raise whatever its keyword code meets
        # (RecursionError too, for $refs that lead back to themselves)
        except Exception as exc:  # noqa: BLE001
            lines = str(exc).splitlines() or [""]
            why = lines[0].rstrip(": ")[:200]
            return f"{UNCHECKABLE} ({type(exc).__name__}" + (
                f": {why})" if why else ")"
            )
        return None


def _check(
    checker: CachedChecker,
    schema: ir.Schema | None,
    examples: tuple[ir.MediaExample, ...],
    source: str,
    findings: list[Finding],
) -> tuple[ir.MediaExample, ...]:
    if schema is None or not schema.source:
        return examples
    out = []
    for ex in examples:
        problem = checker.errors(schema, ex.value)
        if problem:
            file, _, ptr = source.partition("#")
            if problem.startswith(UNCHECKABLE):
                message = f"example not checked: {problem}"
            else:
                message = f"example does not match its schema: {problem}"
            findings.append(Finding(file, f"{ptr}/examples/{ex.name}", message))
            # a fixture uses only an example known to match
            ex = replace(ex, valid=False)
        out.append(ex)
    return tuple(out)


def check_examples(
    ws: Workspace, surfaces: tuple[ir.Surface, ...], cache_dir: Path | None = None
) -> tuple[tuple[ir.Surface, ...], list[Finding]]:
    if not any(
        (op.body and op.body.examples) or any(r.examples for r in op.responses)
        for s in surfaces
        for op in s.operations
    ):
        return surfaces, []
    checker = CachedChecker(ws, cache_dir)
    findings: list[Finding] = []
    out = []
    for s in surfaces:
        ops = []
        for op in s.operations:
            body = op.body
            if body is not None and body.examples:
                body = replace(
                    body,
                    examples=_check(
                        checker,
                        body.schema,
                        body.examples,
                        op.source + "/requestBody",
                        findings,
                    ),
                )
            responses = tuple(
                (
                    replace(
                        r,
                        examples=_check(
                            checker,
                            r.schema,
                            r.examples,
                            op.source + f"/responses/{r.status}",
                            findings,
                        ),
                    )
                    if r.examples
                    else r
                )
                for r in op.responses
            )
            ops.append(replace(op, body=body, responses=responses))
        out.append(replace(s, operations=tuple(ops)))
    checker.save()
    return tuple(out), findings
