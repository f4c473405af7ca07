"""The IR stage from end to end: a `Workspace` of documents -> one `ir.Api` and findings.

Order matters only where one step reads another's result: component names are reserved
before anything is converted (so a model keeps its component's name wherever it is first
met), operations before components (inline schemas are named after the operation that
holds them), semantic events after the models, examples and wire facts last.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..errors import Finding, SpecError
from ..reserved import API_NAME_LIMIT, api_name_clash
from ..spec.refs import Workspace
from . import model as ir
from .delivery import with_delivery
from .events import extract_events
from .example_check import check_examples
from .examples import with_examples
from .groups import with_groups
from .model import UNION
from .naming import bounded, pascal, snake
from .operations import (
    OperationReader,
    text,
    with_body_rules,
    with_pagination,
)
from .schemas import SchemaBuilder, finished_models, model_modules
from .surfaces import build_surfaces, mark_event_checks, same_shape_paths
from .wire import routes, wire_facts


def api_name(titles: list[str], package: str) -> str:
    """A PascalCase name for the API: the first title without a trailing "API", else the
    package name (`Customer.io App API` -> `CustomerIoApp`; set it with --name). A name
    whose `<Name>Error` or `Fake<Name>` is taken (a title "Rate Limit API" would make
    RateLimitError the base error class) gets "Api" appended (`RateLimitApi`)."""
    name = ""
    for title in titles:
        words = title.split()
        while words and words[-1].lower() in ("api", "apis", "-"):
            words.pop()
        if words:
            name = pascal(" ".join(words))
            break
    name = name or pascal(package)
    if len(name) > API_NAME_LIMIT:
        # `<Name>Error = Error` would pass 88 columns, and black parenthesizes its right
        # side where ruff's formatter (the generator's) does not: a longer name keeps its
        # start and a digest of the whole, as a client's does.
        name = pascal(bounded(snake(name), API_NAME_LIMIT))
    while api_name_clash(name):
        name += "Api"
    return name


def spec_hash(ws: Workspace) -> str:
    """sha256 over the spec files' names and contents (the package's SPEC_HASH)."""
    digest = hashlib.sha256()
    for doc in sorted(ws.docs.values(), key=lambda d: d.name):
        digest.update(f"{Path(doc.name).name}={doc.sha256}\n".encode())
    return digest.hexdigest()


# The most properties the models of one package may hold in all. A model made with allOf
# holds a copy of each part's properties, so a chain of n models, each allOf the one
# before and one property more, holds n*n/2: 2,000 of them (a 250 KB document) made 1.1
# GB of code in 47 s and 1.8 GB of memory. The biggest real APIs hold about a hundred
# thousand; this is some 12 s of rendering.
PROPERTY_LIMIT = 500_000


def _check_size(models: tuple[ir.Schema, ...]) -> None:
    """Stop (SpecError) before rendering models of more than `PROPERTY_LIMIT` properties
    in all, pointing at the model that holds the most."""
    total = sum(len(m.properties) for m in models)
    if total <= PROPERTY_LIMIT:
        return
    biggest = max(models, key=lambda m: (len(m.properties), m.class_name))
    file, _, ptr = biggest.source.partition("#")
    raise SpecError(
        file,
        ptr,
        f"the models hold {total} properties in all, more than the {PROPERTY_LIMIT} a "
        f"package is generated with; this one holds {len(biggest.properties)} (a model "
        "made with allOf holds a copy of every part's properties)",
    )


def _check_union_cycles(models: tuple[ir.Schema, ...]) -> None:
    """Stop (SpecError) at a union whose variants lead back to it through unions alone
    (`A: oneOf [B, string]`, `B: oneOf [A, integer]`): a union's decoder calls a union
    variant's untested, so A's called B's and B's A's for ever on a value of neither,
    and the example of A recursed to the limit (a traceback-like error, no pointer)."""
    unions = {m.class_name: m for m in models if m.kind == UNION}

    def links(union: ir.Schema) -> list[str]:
        out, todo = [], list(union.variants)
        while todo:  # an inline union among the variants is tested as its own variants
            v = todo.pop()
            if v.kind == UNION and v.ref in unions:
                out.append(v.ref)
            elif v.kind == UNION and not v.ref:
                todo.extend(v.variants)
        return sorted(out)

    graph = {name: links(m) for name, m in unions.items()}
    done: set[str] = set()
    for start in sorted(graph):
        path, stack = [start], [iter(graph[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                done.add(path.pop())
                stack.pop()
            elif nxt in path:
                cycle = path[path.index(nxt) :] + [nxt]
                file, _, ptr = unions[nxt].source.partition("#")
                raise SpecError(
                    file,
                    ptr,
                    "its variants lead back to it through unions alone ("
                    + " -> ".join(cycle)
                    + "): no value of it can be told apart from the others",
                )
            elif nxt not in done:
                path.append(nxt)
                stack.append(iter(graph[nxt]))


def build_api(
    ws: Workspace,
    *,
    package: str,
    version: str,
    name: str = "",
    cache_dir: Path | None = None,
    group_by: str = "auto",
) -> tuple[ir.Api, list[Finding]]:
    """Normalize the documents into one `Api`; raise SpecError on anything that changes the
    code. Returns the IR and the findings (spec examples that do not match, credentials a
    client cannot send). Validation against the OpenAPI schema is the spec stage's."""
    schemas = SchemaBuilder(ws)
    reader = OperationReader(ws, schemas)
    prefix = {d.path: reader.surface_name(d) for d in ws.docs.values()}
    schemas.reserve_components(list(ws.docs.values()), prefix)
    roots = sorted(ws.roots, key=lambda d: d.name)
    for doc in roots:
        reader.read_paths(doc)
        reader.read_webhooks(doc)
    reader.read_components()
    surfaces, findings = build_surfaces(reader)
    body_examples: list[Any] = [
        ex.value
        for s in surfaces
        for op in s.operations
        if op.body
        for ex in op.body.examples
    ]
    models = finished_models(schemas)
    _check_size(models)
    _check_union_cycles(models)
    by_name = {m.class_name: m for m in models}
    events = extract_events(by_name, body_examples)
    surfaces = mark_event_checks(surfaces, events)
    surfaces = with_body_rules(surfaces, by_name)
    surfaces, paging_findings = with_pagination(surfaces, by_name)
    findings += paging_findings
    surfaces, example_findings = check_examples(ws, surfaces, cache_dir)
    surfaces, events, cut_findings = with_examples(surfaces, events, by_name)
    findings += cut_findings
    surfaces = with_delivery(surfaces, ws, by_name)
    surfaces = with_groups(surfaces, ws, group_by)
    operations = tuple(
        sorted(
            (op for s in surfaces for op in s.operations), key=lambda o: o.operation_id
        )
    )
    # surfaces split off by their servers keep their document's title
    titles = list(dict.fromkeys(s.title for s in surfaces))
    api = ir.Api(
        title=titles[0] if len(titles) == 1 else package,
        name=name
        or api_name([text(d.data.get("info"), "title") for d in roots], package),
        package=package,
        version=version,
        spec_hash=spec_hash(ws),
        surfaces=surfaces,
        models=models,
        events=events,
        spec_files=tuple(sorted((d.name, d.sha256) for d in ws.docs.values())),
        webhooks=tuple(reader.webhooks),
        wire=wire_facts(operations, events, by_name),
        routes=routes(operations, by_name),
        model_modules=model_modules(schemas, models),
    )
    findings += [f for doc in ws.docs.values() for f in doc.duplicates]
    findings += [f for doc in roots for f in same_shape_paths(doc)]
    noticed = sorted(findings + schemas.findings, key=lambda f: (f.file, f.pointer))
    return api, noticed + example_findings
