"""The generator's layout: each stage imports only the stages before it (no cycle), and the
runtime copied into every package imports nothing of the generator."""

from __future__ import annotations

import ast
from pathlib import Path

from support.packages import ROOT

GENERATOR = ROOT / "generator"
# Each stage and what it may import from the generator; `errors` is shared by all, and
# `reserved` (the names an API may not be given: the IR names the API, the command line
# checks --name, codegen exports the error classes it lists) by the IR and codegen too.
# `render` starts its forked helper as `pool` starts a worker, and its manifest names spec
# files as the spec stage does (`check`'s fast path reads them).
MAY_IMPORT = {
    "spec": {"errors"},
    "ir": {"errors", "spec", "reserved"},
    "codegen": {"errors", "ir", "reserved"},
    "render": {"errors", "spec", "ir", "codegen", "pool"},
    "runtime": set(),
}


def _generator_imports(path: Path, root: Path = GENERATOR) -> set[str]:
    """The top-level modules or packages of `root` that `path` imports (relatively)."""
    package = path.relative_to(root).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = list(package[: len(package) - (node.level - 1)])
        target = base + (node.module.split(".") if node.module else [])
        if target:
            found.add(target[0])
        else:  # `from .. import ir`: the names are the modules
            found.update(alias.name for alias in node.names)
    return found


def test_stages_import_only_the_stages_before_them() -> None:
    wrong: list[str] = []
    for stage, allowed in MAY_IMPORT.items():
        for path in sorted((GENERATOR / stage).rglob("*.py")):
            for imported in _generator_imports(path) - allowed - {stage}:
                wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not wrong, wrong


def test_the_check_finds_a_backward_import(tmp_path: Path) -> None:
    """The check above is not vacuous: imports from later stages are seen."""
    probe = tmp_path / "spec" / "probe.py"
    probe.parent.mkdir()
    probe.write_text(
        "from ..render import output\nfrom .. import ir\nfrom .refs import load\n"
    )
    assert _generator_imports(probe, tmp_path) == {"render", "ir", "spec"}
