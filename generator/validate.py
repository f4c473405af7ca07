"""Validation of documents against the OpenAPI 3.0/3.1 schema (openapi-spec-validator).

The validator's findings are reported with file and JSON pointer. On their own they are
warnings: real specs fail validation on details that cannot change the generated code (an
example that does not match, a default out of bounds, an empty `responses`). Whatever *would*
change the code (a broken `$ref`, a malformed schema, an unknown `type`) is found again, with a
precise pointer, by the normalizer, which stops the run. `--strict` makes every finding an error.

Importing the validator costs about half a second, so results are cached by content hash
in the cache directory and the import happens only when some document is not cached.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, List, Optional

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


def validate(ws: Workspace, cache_dir: Optional[Path]) -> List[Finding]:
    """Findings for every root document, using and filling the cache."""
    findings: List[Finding] = []
    for doc in ws.roots:
        cached: Optional[Path] = None
        if cache_dir is not None:
            cached = cache_dir / "validation" / f"{_cache_key(doc, ws)}.json"
            if cached.exists():
                try:
                    rows = json.loads(cached.read_text())
                    findings.extend(Finding(doc.name, p, m) for p, m in rows)
                    continue
                except (OSError, ValueError):
                    pass
        found = _validate_document(doc)
        findings.extend(found)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps([[f.pointer, f.message] for f in found]))
            except OSError:
                pass  # a cache that cannot be written only costs time
    return findings
