"""The Jinja environment the templates render in: strict undefined names, the codegen
functions as filters, and compiled templates cached in the cache directory.

Templates see the `Api` (and `ir`, for its kind constants) and nothing else; model and group
modules see less, a view of what they print (views.py). Every filter is a pure function of
IR values (codegen/), so what a template can print is decided before rendering, and equal
views render equal text (what the render memo relies on).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import ir
from ..codegen import credentials, layout, markdown, modules, text, types
from ..ir.naming import snake
from .output import templates_dir


def _pairs_dict(pairs: Iterable[tuple[str, Any]]) -> str:
    return text.py_literal(dict(pairs))


def _literal_set(values: Iterable[Any]) -> str:
    items = list(values)
    return (
        "{" + ", ".join(text.py_literal(v) for v in items) + "}" if items else "set()"
    )


FILTERS: dict[str, Any] = {
    # text
    "py": text.py_literal,
    "py_tuple": lambda values: text.py_literal(tuple(values)),
    "py_set": _literal_set,
    "py_dict": _pairs_dict,
    "docstring": text.docstring,
    "comment": text.comment,
    "comment_block": text.comment_block,
    "first_line": text.first_line,
    "snake": snake,
    # Markdown (REFERENCE.md)
    "md_cell": markdown.cell,
    "md_code": markdown.code,
    "md_prose": markdown.prose,
    "md_block": markdown.block,
    "md_yes": markdown.yes,
    # types
    "annotation": types.annotation,
    "decode": types.decode,
    "variant_decode": types.variant_decode,
    "encode": types.encode,
    "json_type": types.json_type,
    "shape_tests": types.shape_tests,
    "fit_parameters": layout.fit_parameters,
    "alias_head": layout.alias_head,
    "distinct_variants": types.distinct_variants,
    "field_type": types.field_type,
    "field_default": types.field_default,
    "param_value": types.param_value,
    "ordered_fields": types.ordered_fields,
    # modules
    "all_list": modules.all_list,
    "package_exports": modules.package_exports,
    "package_imports": modules.package_imports,
    "surface_imports": modules.surface_imports,
    "surface_checking_imports": modules.surface_checking_imports,
    "parse_imports": modules.parse_imports,
    "surface_needs": modules.surface_needs,
    "limits_names": modules.limits_names,
    "limits_call": modules.limits_call,
    "method_parameters": modules.method_parameters,
    "constant_value": modules.constant_value,
    "client_parameters": modules.client_parameters,
    "call_arguments": modules.call_arguments,
    "pager_arguments": modules.pager_arguments,
    "item_type": modules.item_type,
    "json_payload": modules.json_payload,
    "return_type": modules.return_type,
    "other_answers": modules.other_answers,
    "parse_expression": modules.parse_expression,
    "status_test": modules.status_test,
    "redirect_note": modules.redirect_note,
    "models_module_imports": modules.models_module_imports,
    "models_checking_imports": modules.models_checking_imports,
    "local_imports": modules.local_imports,
    "events_imports": modules.events_imports,
    "event_parameters": modules.event_parameters,
    "event_arguments": modules.event_arguments,
    "kind_parameters": modules.kind_parameters,
    "kind_arguments": modules.kind_arguments,
    "background_imports": modules.background_imports,
    "background_checking_imports": modules.background_checking_imports,
    "events_checking_imports": modules.events_checking_imports,
    "expected": modules.expected,
    # credentials
    "auth_headers": credentials.auth_headers,
    "query_keys": credentials.query_keys,
    "bare_keys": credentials.bare_keys,
}


def _bytecode_cache(cache_dir: Path | None, options: dict[str, Any]) -> Any:
    if cache_dir is None:
        return None
    import jinja2

    # Compiled code depends on the options and the filter names, which Jinja's own cache
    # key (the template's source) does not include.
    tag = hashlib.sha256(
        repr(
            (
                "checked/1",  # the file layout of CheckedCache below
                jinja2.__version__,
                sorted(map(repr, options.items())),
                sorted(FILTERS),
            )
        ).encode()
    )
    directory = cache_dir / "jinja" / tag.hexdigest()[:16]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None

    class CheckedCache(jinja2.BytecodeCache):
        """One file per template: a sha256 of the rest, then Jinja's own bytes. Jinja
        checks only its header and the template's source: a byte changed inside the
        compiled code ran as it was (a wrong name in the output, or a traceback). A
        file that does not match its digest is compiled again."""

        def _path(self, bucket: Any) -> Path:
            return directory / f"{bucket.key}.cache"

        def load_bytecode(self, bucket: Any) -> None:
            try:
                raw = self._path(bucket).read_bytes()
            except OSError:
                return
            digest, data = raw[:32], raw[32:]
            if hashlib.sha256(data).digest() != digest:
                return
            try:
                bucket.bytecode_from_string(data)
            except Exception:  # noqa: BLE001 - anything Jinja makes of the bytes
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            data = bucket.bytecode_to_string()
            path = self._path(bucket)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(hashlib.sha256(data).digest() + data)
                tmp.replace(path)
            except OSError:
                pass  # a cache that cannot be written only costs time

    return CheckedCache()


def make_environment(
    directory: Path | None = None, cache_dir: Path | None = None
) -> Any:
    """The Jinja environment; with `cache_dir`, compiled templates are kept there."""
    import jinja2

    options: dict[str, Any] = {
        "undefined": jinja2.StrictUndefined,
        "keep_trailing_newline": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "autoescape": False,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory or templates_dir())), **options
    )
    env.filters.update(FILTERS)
    env.globals.update(ir=ir)
    env.bytecode_cache = _bytecode_cache(cache_dir, options)
    return env
