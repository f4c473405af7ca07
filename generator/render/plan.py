"""Which files a package has, and what each is made from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import ir

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the package directory
    template: str  # "" for a runtime file, copied as it is
    context: tuple[tuple[str, Any], ...] = ()

    @property
    def is_python(self) -> bool:
        return self.path.endswith(".py")


def runtime_files() -> list[str]:
    """The runtime modules copied verbatim into every package (see runtime/__init__.py)."""
    return sorted(
        p.name
        for p in RUNTIME_DIR.iterdir()
        if p.is_file() and p.name != "__init__.py" and p.suffix in (".py", ".typed")
    )


def _needed(api: ir.Api) -> dict[str, bool]:
    """Files only some APIs need: semantic events (no empty events.py elsewhere) and the
    background delivery runtime (for surfaces with a batch operation)."""
    delivery = any(s.delivery for s in api.surfaces)
    return {
        "events.py": bool(api.events),
        "_semantic.py": bool(api.events),
        "_background.py": delivery,
        "_delivery.py": delivery,
        "_spool.py": delivery,
    }


def plan_outputs(api: ir.Api) -> list[OutputFile]:
    """Every file of the package, sorted by path."""
    needed = _needed(api)
    files = [OutputFile(name, "") for name in runtime_files() if needed.get(name, True)]
    for name in (
        "__init__.py",
        "_operations.py",
        "models/__init__.py",
        "events.py",
        "fixtures.py",
        "testing.py",
        "README.md",
        "REFERENCE.md",
    ):
        if needed.get(name, True):
            files.append(OutputFile(name, f"package/{name}.j2"))
    for module in sorted({m for _, m in api.model_modules}):
        path = f"models/{module}.py"
        files.append(
            OutputFile(path, "package/models/module.py.j2", (("module", module),))
        )
    for s in api.surfaces:
        context = (("surface", s),)
        files.append(OutputFile(f"{s.name}.py", "package/surface.py.j2", context))
        if s.groups:
            package = s.groups_package
            init = f"{package}/__init__.py"
            files.append(OutputFile(init, "package/groups/__init__.py.j2", context))
        for g in s.groups:
            path = f"{s.groups_package}/{g.name}.py"
            group_context = (("surface", s), ("group", g))
            files.append(OutputFile(path, "package/groups/group.py.j2", group_context))
        if s.delivery is not None:
            background = f"{s.name}_background.py"
            files.append(OutputFile(background, "package/background.py.j2", context))
    return sorted(files, key=lambda f: f.path)
