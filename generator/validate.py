"""Validation of documents against the OpenAPI 3.0/3.1 schema (openapi-spec-validator).

The validator's findings are reported with file and JSON pointer. On their own they are
warnings: real specs fail validation on details that cannot change the generated code (an
example that does not match, a default out of bounds, an empty `responses`). Whatever *would*
change the code (a broken `$ref`, a malformed schema, an unknown `type`) is found again, with a
precise pointer, by the normalizer, which stops the run. `--strict` makes every finding an error.

Importing the validator costs about half a second, so results are cached by content hash
in the cache directory and the import happens only when some document is not cached.
Because findings change no generated code, `generate` and `check` start validation
(`start`) on a helper process as soon as the documents are loaded, build and render
meanwhile, and collect the findings (`Pending.result`) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

from .errors import Finding, pointer
from .tasks import Submit, run_here

if TYPE_CHECKING:  # the CLI imports this module before anything heavy, to start the helper
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


def _cache_path(content_sha256: str, cache_dir: Optional[Path]) -> Optional[Path]:
    # Keyed by the document alone: a change elsewhere can only break a $ref into it, and
    # the normalizer reports broken $refs itself, so one edited file revalidates one file.
    if cache_dir is None:
        return None
    key = hashlib.sha256(f"{_VALIDATOR_ID}{content_sha256}".encode()).hexdigest()
    return cache_dir / "validation" / f"{key}.json"


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


class Pending:
    """Findings of every root document: cached ones now, the others from `submit`."""

    def __init__(self, ws: Workspace, cache_dir: Optional[Path], submit: Submit) -> None:
        self._docs = list(ws.roots)
        self._paths = [_cache_path(doc.sha256, cache_dir) for doc in self._docs]
        self._known = [_cached(path, doc) for path, doc in zip(self._paths, self._docs)]
        missing = [doc for doc, found in zip(self._docs, self._known) if found is None]
        self._task = submit(_validate_documents, missing) if missing else None

    @property
    def pending(self) -> bool:
        """True when some document is being validated (its findings were not cached)."""
        return self._task is not None

    def result(self) -> List[Finding]:
        """Every root document's findings, in document order; fills the cache."""
        if self._task is not None:
            fresh = iter(self._task.result())
            for i, found in enumerate(self._known):
                if found is None:
                    found = self._known[i] = next(fresh)
                    _store(self._paths[i], found)
            self._task = None
        return [f for found in self._known for f in found or ()]


def import_validator() -> None:
    """Run on the helper first when a spec changed, so the import overlaps spec parsing."""
    import openapi_spec_validator.validation  # noqa: F401


def needs_validator(spec_files: List[Path], cache_dir: Optional[Path]) -> bool:
    """Whether some root file's findings are not cached (from the raw bytes, before parsing)."""
    for path in spec_files:
        cached = _cache_path(hashlib.sha256(path.read_bytes()).hexdigest(), cache_dir)
        if cached is None or not cached.exists():
            return True
    return False


def start(ws: Workspace, cache_dir: Optional[Path], submit: Submit = run_here) -> Pending:
    return Pending(ws, cache_dir, submit)


def validate(ws: Workspace, cache_dir: Optional[Path]) -> List[Finding]:
    """Findings for every root document, using and filling the cache."""
    return start(ws, cache_dir).result()
