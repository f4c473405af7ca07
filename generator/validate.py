"""Validation of documents against the OpenAPI 3.0/3.1 schema (openapi-spec-validator).

The validator's findings are reported with file and JSON pointer. On their own they are
warnings: real specs fail validation on details that cannot change the generated code (an
example that does not match, a default out of bounds, an empty `responses`). Whatever *would*
change the code (a broken `$ref`, a malformed schema, an unknown `type`) is found again, with a
precise pointer, by the normalizer, which stops the run. `--strict` makes every finding an error.

Importing the validator costs about half a second, so results are cached by content hash
in the cache directory and the import happens only when some document is not cached.

`generate` and `check` go further: inside `in_background(...)` the documents the cache does
not answer are validated in a helper process (cli.Helper) from the moment they are loaded.
Findings are warnings, which change no generated code, so `validate()` hands the pipeline
only the cached ones and `Background.complete` adds the rest before anything is written.
With --strict a finding stops the run, so there `validate()` waits and answers in full.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

from .errors import Finding, pointer
from .loader import Document, Workspace

_VALIDATOR_ID = "openapi-spec-validator-0.9.0/1"


def _message(error: Any) -> str:
    # oneOf/anyOf failures hide the useful error in `context`; take the deepest one.
    best = error
    while getattr(best, "context", None):
        best = max(best.context, key=lambda e: len(list(e.absolute_path)))
    text = str(getattr(best, "message", best)).splitlines()[0]
    return text[:300]


def _validate_document(doc: Document) -> List[Finding]:
    from openapi_spec_validator.validation import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    cls = OpenAPIV31SpecValidator if doc.version == "3.1" else OpenAPIV30SpecValidator
    findings: List[Finding] = []
    try:
        errors = list(cls(doc.data, base_uri=doc.path.as_uri()).iter_errors())
    except Exception as exc:  # the validator itself can choke on odd input
        return [Finding(doc.name, "", f"validator failed: {type(exc).__name__}: {exc}")]
    for err in errors:
        path = list(getattr(err, "absolute_path", []) or [])
        findings.append(Finding(doc.name, pointer(*path), _message(err)))
    return sorted(set(findings), key=lambda f: (f.pointer, f.message))


def _cache_key(doc: Document, ws: Workspace) -> str:
    # Keyed by the document alone: a change elsewhere can only break a $ref into it, and
    # the normalizer reports broken $refs itself, so one edited file revalidates one file.
    del ws
    h = hashlib.sha256(_VALIDATOR_ID.encode())
    h.update(doc.sha256.encode())
    return h.hexdigest()


def _cache_path(doc: Document, ws: Workspace, cache_dir: Optional[Path]) -> Optional[Path]:
    return cache_dir / "validation" / f"{_cache_key(doc, ws)}.json" if cache_dir else None


def _cached(path: Optional[Path], doc: Document) -> Optional[List[Finding]]:
    if path is None or not path.exists():
        return None
    try:
        return [Finding(doc.name, p, m) for p, m in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return None


def _store(path: Optional[Path], found: List[Finding]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([[f.pointer, f.message] for f in found]))
    except OSError:
        pass  # a cache that cannot be written only costs time


def _validate_documents(docs: List[Document]) -> List[List[Finding]]:
    """Worker entry point: findings for each document, in order."""
    return [_validate_document(doc) for doc in docs]


def validate(ws: Workspace, cache_dir: Optional[Path]) -> List[Finding]:
    """Findings for every root document, using and filling the cache."""
    bg = _BACKGROUND
    if bg is not None and bg.ws is ws:
        return bg.hand_over()
    findings: List[Finding] = []
    for doc in ws.roots:
        path = _cache_path(doc, ws, cache_dir)
        found = _cached(path, doc)
        if found is None:
            found = _validate_document(doc)
            _store(path, found)
        findings.extend(found)
    return findings


Submit = Callable[..., Any]
"""submit(fn, *args) -> a task whose result() is fn(*args) (cli.Helper.submit)."""


class Background:
    """Validation of the uncached root documents, started by `submit`."""

    def __init__(self, ws: Workspace, cache_dir: Optional[Path], submit: Submit, strict: bool) -> None:
        self.ws = ws
        self.strict = strict
        self._paths = [_cache_path(doc, ws, cache_dir) for doc in ws.roots]
        self._known = [_cached(path, doc) for path, doc in zip(self._paths, ws.roots)]
        missing = [doc for doc, found in zip(ws.roots, self._known) if found is None]
        self._result = submit(_validate_documents, missing) if missing else None
        self._given: List[Finding] = []

    @property
    def pending(self) -> bool:
        return self._result is not None

    def hand_over(self) -> List[Finding]:
        """What `validate()` returns: the cached findings (all of them when strict)."""
        if self.strict:
            self.findings()
        self._given = [f for found in self._known if found is not None for f in found]
        return list(self._given)

    def findings(self) -> List[Finding]:
        """Every root document's findings, in order (waits for the helper)."""
        if self._result is not None:
            fresh = iter(self._result.result())
            for i, found in enumerate(self._known):
                if found is None:
                    found = self._known[i] = next(fresh)
                    _store(self._paths[i], found)
            self._result = None
        return [f for found in self._known for f in found or ()]

    def complete(self, findings: List[Finding]) -> List[Finding]:
        """`findings` as the pipeline returned them (starting with what `hand_over` gave),
        with the validator's findings complete."""
        n = len(self._given)
        rest = findings[n:] if findings[:n] == self._given else [f for f in findings if f not in self._given]
        return self.findings() + rest


_BACKGROUND: Optional[Background] = None


@contextmanager
def in_background(ws: Workspace, cache_dir: Optional[Path], submit: Submit,
                  strict: bool = False) -> Iterator[Background]:
    """Within the block, `validate(ws, ...)` answers from `Background` (see the docstring)."""
    global _BACKGROUND
    bg = Background(ws, cache_dir, submit, strict)
    _BACKGROUND = bg
    try:
        yield bg
    finally:
        _BACKGROUND = None
