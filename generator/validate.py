"""Validation of documents against the OpenAPI 3.0/3.1 schema (openapi-spec-validator).

The validator's findings are reported with file and JSON pointer. On their own they are
warnings: real specs fail validation on details that cannot change the generated code (an
example that does not match, a default out of bounds, an empty `responses`). Whatever *would*
change the code (a broken `$ref`, a malformed schema, an unknown `type`) is found again, with a
precise pointer, by the normalizer, which stops the run. `--strict` makes every finding an error.

Importing the validator costs about half a second (a third of a second without its
pydantic-settings, see `_install_light_settings`), so results are cached by content hash
in the cache directory and the import happens only when some document is not cached.
Because findings change no generated code, `generate` and `check` start validation
(`start`) on a helper process as soon as the documents are loaded, build and render
meanwhile, and collect the findings (`Pending.result`) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from .errors import Finding, pointer
from .tasks import Submit, run_here

if TYPE_CHECKING:  # the CLI imports this module before anything heavy, to start the helper
    from .loader import Document, Workspace

_VALIDATOR_ID = "openapi-spec-validator-0.9.0/3"  # /3: YAML 1.2, located defaults


def _message(error: Any) -> str:
    # oneOf/anyOf failures hide the useful error in `context`; take the deepest one.
    best = error
    while getattr(best, "context", None):
        best = max(best.context, key=lambda e: len(list(e.absolute_path)))
    text = str(getattr(best, "message", best)).splitlines()[0]
    return text[:300]


# openapi-spec-validator and openapi-schema-validator read three tuning knobs through
# pydantic-settings, and importing pydantic for that costs about 0.15 s of the ~0.3 s import.
# For the pinned versions, the stand-ins below give the same values from the same
# environment variables (defaults otherwise); tests/test_validate_shim.py checks that the
# findings are the same as with the real modules. A module already imported is left alone.
_SPEC_ENV = "OPENAPI_SPEC_VALIDATOR_"
_SCHEMA_ENV = "OPENAPI_SCHEMA_VALIDATOR_"
_BACKENDS = ("auto", "jsonschema", "jsonschema-rs")


def _env_int(name: str, default: int) -> int:
    import os

    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= 0 else default


def _install_light_settings() -> None:
    import os
    import sys
    import types
    from functools import lru_cache

    if "openapi_spec_validator.settings" not in sys.modules:
        spec = types.ModuleType("openapi_spec_validator.settings")

        class OpenAPISpecValidatorSettings:
            def __init__(self) -> None:
                self.resolved_cache_maxsize = _env_int(_SPEC_ENV + "RESOLVED_CACHE_MAXSIZE", 128)
                backend = os.environ.get(_SPEC_ENV + "SCHEMA_VALIDATOR_BACKEND", "auto").strip().lower()
                self.schema_validator_backend = backend if backend in _BACKENDS else "auto"

        spec.OpenAPISpecValidatorSettings = OpenAPISpecValidatorSettings  # type: ignore[attr-defined]
        spec.get_resolved_cache_maxsize = (  # type: ignore[attr-defined]
            lambda: OpenAPISpecValidatorSettings().resolved_cache_maxsize)
        spec.get_schema_validator_backend = (  # type: ignore[attr-defined]
            lambda: OpenAPISpecValidatorSettings().schema_validator_backend)
        sys.modules[spec.__name__] = spec
    if "openapi_schema_validator.settings" not in sys.modules:
        schema = types.ModuleType("openapi_schema_validator.settings")

        class OpenAPISchemaValidatorSettings:
            def __init__(self) -> None:
                self.compiled_validator_cache_max_size = _env_int(
                    _SCHEMA_ENV + "COMPILED_VALIDATOR_CACHE_MAX_SIZE", 128)

        get_settings = lru_cache(maxsize=1)(OpenAPISchemaValidatorSettings)
        schema.OpenAPISchemaValidatorSettings = OpenAPISchemaValidatorSettings  # type: ignore[attr-defined]
        schema.get_settings = get_settings  # type: ignore[attr-defined]
        schema.reset_settings_cache = get_settings.cache_clear  # type: ignore[attr-defined]
        sys.modules[schema.__name__] = schema


def _validate_document(doc: Document) -> List[Finding]:
    _install_light_settings()
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
        if not path:  # e.g. a `default` of the wrong type: the validator says not where
            path = _where(doc.data, getattr(err, "instance", doc.data)) or []
        findings.append(Finding(doc.name, pointer(*path), _message(err)))
    return sorted(set(findings), key=lambda f: (f.pointer, f.message))


_VALUE_KEYS = ("default", "example", "const")


def _where(data: Any, instance: Any) -> Optional[List[Any]]:
    """The path of the first `default`/`example`/`const` holding `instance` (document
    order), for findings the validator gives no location for; None when there is none."""
    if instance is data:
        return None
    stack: List[Tuple[List[Any], Any]] = [([], data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key in _VALUE_KEYS:
                if key in node and node[key] == instance and type(node[key]) is type(instance):
                    return path + [key]
            stack.extend((path + [k], v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((path + [i], v) for i, v in reversed(list(enumerate(node))))
    return None


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
    _install_light_settings()
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
