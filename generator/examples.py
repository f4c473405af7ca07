"""Checking the spec's own examples against their schemas.

An example that does not match its schema is a warning (it does not change the code), and
the IR marks it invalid so that no fixture ever uses it. Schemas are checked in the
dialect of the file that defines them (3.0 or 3.1), with every loaded document registered so
cross-file `$ref`s resolve.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

from . import ir
from .errors import Finding
from .loader import Document, Workspace


class ExampleChecker:
    def __init__(self, ws: Workspace) -> None:
        from openapi_schema_validator import OAS30Validator, OAS31Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4, DRAFT202012

        self._v30, self._v31 = OAS30Validator, OAS31Validator
        registry: Any = Registry()
        self.by_name: Dict[str, Document] = {}
        for doc in ws.docs.values():
            spec = DRAFT202012 if doc.version == "3.1" else DRAFT4
            registry = registry.with_resource(
                doc.path.as_uri(), Resource.from_contents(doc.data, default_specification=spec)
            )
            self.by_name[doc.name] = doc
        self.registry = registry

    def errors(self, schema: ir.Schema, value: Any) -> Optional[str]:
        """First validation error of `value` against the schema at schema.source, or None."""
        name, _, ptr = schema.source.partition("#")
        doc = self.by_name.get(name)
        if doc is None:
            return None
        cls = self._v31 if doc.version == "3.1" else self._v30
        validator = cls({"$ref": doc.path.as_uri() + "#" + ptr}, registry=self.registry)
        for err in validator.iter_errors(value):
            where = "/".join(str(p) for p in err.absolute_path)
            return f"{err.message[:200]}" + (f" (at {where})" if where else "")
        return None


def _check(
    checker: ExampleChecker,
    schema: Optional[ir.Schema],
    examples: Tuple[ir.MediaExample, ...],
    source: str,
    findings: List[Finding],
) -> Tuple[ir.MediaExample, ...]:
    if schema is None or not schema.source:
        return examples
    out = []
    for ex in examples:
        problem = checker.errors(schema, ex.value)
        if problem:
            file, _, ptr = source.partition("#")
            findings.append(Finding(file, f"{ptr}/examples/{ex.name}", f"example does not match its schema: {problem}"))
            ex = replace(ex, valid=False)
        out.append(ex)
    return tuple(out)


def check_examples(
    ws: Workspace, surfaces: Tuple[ir.Surface, ...]
) -> Tuple[Tuple[ir.Surface, ...], List[Finding]]:
    if not any(
        (op.body and op.body.examples) or any(r.examples for r in op.responses)
        for s in surfaces
        for op in s.operations
    ):
        return surfaces, []
    checker = ExampleChecker(ws)
    findings: List[Finding] = []
    out = []
    for s in surfaces:
        ops = []
        for op in s.operations:
            body = op.body
            if body is not None and body.examples:
                body = replace(
                    body,
                    examples=_check(checker, body.schema, body.examples, op.source + "/requestBody", findings),
                )
            responses = tuple(
                replace(r, examples=_check(checker, r.schema, r.examples, op.source + f"/responses/{r.status}", findings))
                if r.examples
                else r
                for r in op.responses
            )
            ops.append(replace(op, body=body, responses=responses))
        out.append(replace(s, operations=tuple(ops)))
    return tuple(out), findings
