"""Validation of documents against the OpenAPI 3.0/3.1 schema (openapi-spec-validator).

The validator's findings are reported with file and JSON pointer. On their own they are
warnings: real specs fail validation on details that cannot change the generated code (an
example that does not match, a default out of bounds, an empty `responses`). Whatever *would*
change the code (a broken `$ref`, a malformed schema, an unknown `type`) is found again, with a
precise pointer, by the IR stage, which stops the run. `--strict` makes every finding an error.

The validator is slow to import and to run, so findings are cached by the document's content
in the cache directory, and a run validates (on a worker process, while the IR is built) only
the documents the cache does not answer.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from ..errors import Finding, pointer
from .reader import Document, read_document

_VALIDATOR_ID = "openapi-spec-validator-0.9.0/3"  # /3: YAML 1.2, located defaults


def _message(error: Any) -> str:
    # oneOf/anyOf failures hide the useful error in `context`; take the deepest one.
    best = error
    while getattr(best, "context", None):
        best = max(best.context, key=lambda e: len(list(e.absolute_path)))
    text = str(getattr(best, "message", best)).splitlines()[0]
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


def _validator_class(version: str) -> Any:
    """The validator for `version`, with its schema keyword's visit lists made `_Seen`."""
    from openapi_spec_validator.validation import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    base = OpenAPIV31SpecValidator if version == "3.1" else OpenAPIV30SpecValidator
    schema_keyword = base.keyword_validators["schema"]

    class SchemaKeyword(schema_keyword):  # type: ignore[misc, valid-type]
        def __init__(self, registry: Any) -> None:
            super().__init__(registry)
            self.visited_schema_ids = _Seen()
            self.meta_checked_schema_ids = _Seen()

    return type(
        base.__name__,
        (base,),
        {"keyword_validators": {**base.keyword_validators, "schema": SchemaKeyword}},
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
    cls = _validator_class(doc.version)
    findings: list[Finding] = []
    try:
        errors = list(_errors(cls(doc.data, base_uri=doc.path.as_uri()), part))
    # the validator itself can choke on odd input
    except Exception as exc:  # noqa: BLE001
        return [Finding(doc.name, "", f"validator failed: {type(exc).__name__}: {exc}")]
    for err in errors:
        path = list(getattr(err, "absolute_path", []) or [])
        if not path:  # e.g. a `default` of the wrong type: the validator says not where
            path = _where(doc.data, getattr(err, "instance", doc.data)) or []
        findings.append(Finding(doc.name, pointer(*path), _message(err)))
    return _ordered(findings)


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


def _cache_path(content_sha256: str, cache_dir: Path | None) -> Path | None:
    # Keyed by the document alone: a change elsewhere can only break a $ref into it, and
    # the normalizer reports broken $refs itself, so one edited file revalidates one file.
    if cache_dir is None:
        return None
    key = hashlib.sha256(f"{_VALIDATOR_ID}{content_sha256}".encode()).hexdigest()
    return cache_dir / "validation" / f"{key}.json"


def _cached(path: Path | None, doc: Document) -> list[Finding] | None:
    if path is None or not path.exists():
        return None
    try:
        return [Finding(doc.name, p, m) for p, m in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return None


def _store(path: Path | None, found: list[Finding]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([[f.pointer, f.message] for f in found]))
    except OSError:
        pass  # a cache that cannot be written only costs time


# The documents being validated, by path, set just before the work is submitted: a worker
# forked then (pool.py forks on Linux) finds them here and parses nothing; a worker started
# any other way reads the files (sending it the parsed documents would cost more).
_SUBMITTED: dict[Path, Document] = {}


def _validate_files(paths: list[Path], part: str = "all") -> list[list[Finding]]:
    """Worker entry point: findings for each file, in order."""
    return [
        _validate_document(_SUBMITTED.get(path) or read_document(path), part)
        for path in paths
    ]


def _size(paths: list[Path]) -> int:
    try:
        return sum(path.stat().st_size for path in paths)
    except OSError:
        return 0


Submit = Callable[..., "Future[Any]"]


class Pending:
    """Findings of the root documents: cached ones now, the others from a worker."""

    def __init__(
        self, docs: list[Document], cache_dir: Path | None, submit: Submit
    ) -> None:
        self._docs = docs
        self._paths = [_cache_path(doc.shape_sha256, cache_dir) for doc in docs]
        self._known = [_cached(path, doc) for path, doc in zip(self._paths, docs)]
        missing = [doc.path for doc, found in zip(docs, self._known) if found is None]
        parts = PARTS if _size(missing) > SPLIT_BYTES else ("all",)
        _SUBMITTED.clear()
        _SUBMITTED.update({doc.path: doc for doc in docs if doc.path in missing})
        self._futures = (
            [submit(_validate_files, missing, part) for part in parts]
            if missing
            else []
        )

    def result(self) -> list[Finding]:
        """Every root document's findings, in document order; fills the cache."""
        if self._futures:
            results = [future.result() for future in self._futures]
            _SUBMITTED.clear()
            fresh = iter(
                [
                    _ordered([f for part in parts for f in part])
                    for parts in zip(*results)
                ]
            )
            for i, found in enumerate(self._known):
                if found is None:
                    found = self._known[i] = next(fresh)
                    _store(self._paths[i], found)
            self._futures = []
        return [f for found in self._known for f in found or ()]


def start(docs: list[Document], cache_dir: Path | None, submit: Submit) -> Pending:
    return Pending(docs, cache_dir, submit)
