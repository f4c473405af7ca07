"""What the memoised templates see, and a fingerprint of it (the render memo's key).

A huge API has thousands of model modules and dozens of group modules, and a one-line edit
changes one or two of them. These templates are rendered from a small view, not from the
whole `Api`: a model module from its models, a group module from its operations and what
is worked out for it here (which optional code it needs, its limits names, its imports);
both get `where` (class -> module) for the imports made inside functions. Two files of the
whole API that most edits leave alone are memoised the same way: the models package's
`__init__` (its view is the names it exports, untouched by a description) and `fixtures.py`
(its view is the example data). A template sees nothing else and every filter is a pure function of its arguments, so two
views that pickle to the same bytes render the same text. The fingerprint is a digest of
that pickle, of what every view shares (the package, `where`) and of the generator's own
sources and templates. Equal bytes mean equal values; equal values that happen to pickle
differently only cost a render.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import sys
from dataclasses import dataclass
from typing import Any

from .. import ir
from ..codegen import modules
from .output import source_files
from .plan import OutputFile

MODEL_MODULE = "package/models/module.py.j2"
GROUP_MODULE = "package/groups/group.py.j2"
MODELS_INIT = "package/models/__init__.py.j2"
FIXTURES = "package/fixtures.py.j2"
MEMOISED = frozenset({MODEL_MODULE, GROUP_MODULE, MODELS_INIT, FIXTURES})


@functools.cache
def code_digest() -> bytes:
    """A digest of what turns a view into text: the generator's sources and templates, the
    Jinja that renders them and the Python that runs the filters."""
    import jinja2

    digest = hashlib.sha256(f"{jinja2.__version__} {sys.version_info[:2]}".encode())
    for path in source_files():
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


@dataclass(frozen=True)
class Shared:
    """What every view of one run shares, worked out once."""

    where: dict[str, str]  # class name -> its module in the models package
    limit_names: dict[str, dict[str, str]]  # surface name -> modules.limits_names
    digest: bytes  # of the code, the package and `where`


def shared(api: ir.Api) -> Shared:
    where = modules.model_modules(api)
    digest = hashlib.sha256(code_digest())
    digest.update(pickle.dumps((api.package, api.model_modules), protocol=5))
    return Shared(
        where=where,
        limit_names={s.name: modules.limits_names(s) for s in api.surfaces},
        digest=digest.digest(),
    )


def view(api: ir.Api, f: OutputFile, common: Shared) -> dict[str, Any]:
    """The whole context a memoised template renders from."""
    context = dict(f.context)
    if f.template == MODELS_INIT:
        return {
            "package": api.package,
            "exports": modules.models_exports(api),
        }
    if f.template == FIXTURES:
        ops = api.operations
        return {
            "package": api.package,
            "requests": [(op.operation_id, op.example_request) for op in ops],
            "responses": [
                (op.operation_id, op.success_status, op.example_response) for op in ops
            ],
            "events": [(ev.name, ev.example) for ev in api.events],
        }
    if f.template == MODEL_MODULE:
        module = context["module"]
        return {
            "package": api.package,
            "module": module,
            "models": modules.models_in(api, module),
            "where": common.where,
        }
    surface: ir.Surface = context["surface"]
    group: ir.OperationGroup = context["group"]
    ops = surface.group_operations(group.name)
    names = common.limit_names[surface.name]
    return {
        "group": group,
        "ops": ops,
        "title": surface.title,
        "class_name": surface.class_name,
        "needs": modules.surface_needs(surface, api, group.name),
        "limit_names": {op.operation_id: names[op.operation_id] for op in ops},
        "imports": modules.group_imports(surface, group, api),
        "checking": modules.group_checking_imports(surface, group, api),
        "where": common.where,
    }


def fingerprint(f: OutputFile, context: dict[str, Any], common: Shared) -> str:
    """The render memo's key for `f` rendered from `context` (`where` is in `common`)."""
    own = sorted((k, v) for k, v in context.items() if k != "where")
    digest = hashlib.sha256(common.digest)
    digest.update(pickle.dumps((f.path, f.template, own), protocol=5))
    return digest.hexdigest()
