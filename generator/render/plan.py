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
    """Files only an API with semantic events needs (no empty events.py elsewhere)."""
    return {"events.py": bool(api.events), "_semantic.py": bool(api.events)}


def plan_outputs(api: ir.Api) -> list[OutputFile]:
    """Every file of the package, sorted by path."""
    needed = _needed(api)
    files = [OutputFile(name, "") for name in runtime_files() if needed.get(name, True)]
    for name in (
        "__init__.py",
        "_operations.py",
        "models.py",
        "events.py",
        "fixtures.py",
        "testing.py",
        "README.md",
        "REFERENCE.md",
    ):
        if needed.get(name, True):
            files.append(OutputFile(name, f"package/{name}.j2"))
    for s in api.surfaces:
        files.append(
            OutputFile(f"{s.name}.py", "package/surface.py.j2", (("surface", s),))
        )
    return sorted(files, key=lambda f: f.path)
