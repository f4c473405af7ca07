"""The pipeline up to the IR: spec paths -> workspace -> findings -> one `ir.Api`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from . import __version__, ir
from .errors import Finding
from .events import extract_events
from .examples import check_examples
from .loader import Workspace, load
from .normalize import Normalizer, all_models, event_check_ops


def build_api(
    spec_paths: Sequence[Path],
    *,
    package: str,
    input_hash: str = "",
    cache_dir: Optional[Path] = None,
    workspace: Optional[Workspace] = None,
) -> Tuple[ir.Api, List[Finding]]:
    """Load and normalize; raise SpecError on anything that changes the code.

    Returns the IR and the findings about the spec's own examples. Validation against the
    OpenAPI schema is the caller's (validate.start), so it can run alongside this.
    """
    ws = workspace or load(spec_paths)
    norm = Normalizer(ws)
    prefix = {d.path: norm.surface_name(d) for d in ws.docs.values()}
    norm.schemas.reserve_components(list(ws.docs.values()), prefix)
    for doc in sorted(ws.roots, key=lambda d: d.name):
        norm.collect_operations(doc)
        norm.collect_webhooks(doc)
    norm.convert_components()
    surfaces = norm.build_surfaces()
    examples: List[Any] = [
        ex.value
        for s in surfaces
        for op in s.operations
        if op.body is not None
        for ex in op.body.examples
    ]
    models = all_models(norm.schemas)
    events = extract_events({m.class_name: m for m in models}, examples)
    surfaces = event_check_ops(surfaces, events)
    surfaces, findings = check_examples(ws, surfaces, cache_dir)
    titles = [s.title for s in surfaces]
    api = ir.Api(
        title=titles[0] if len(titles) == 1 else package,
        package=package,
        version=__version__,
        input_hash=input_hash,
        surfaces=surfaces,
        models=models,
        events=events,
        spec_files=tuple(sorted((d.name, d.sha256) for d in ws.docs.values())),
        webhooks=tuple(norm.webhooks),
    )
    return api, sorted(norm.findings, key=lambda f: (f.file, f.pointer)) + findings
