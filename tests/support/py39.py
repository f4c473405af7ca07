"""What a Python 3.9 interpreter would refuse in generated code, found without one (the
machines the tests run on need not have 3.9)."""

from __future__ import annotations

import ast
from pathlib import Path


def _runtime_unions(tree: ast.AST, lazy: bool) -> list[int]:
    """Lines where `X | Y` of types is evaluated when the module runs (Python 3.10+ only):
    a type alias's value, a cast's or isinstance's type, and, in a module without
    `from __future__ import annotations` (`lazy`), an annotation."""
    found = []
    for node in ast.walk(tree):
        value: ast.AST | None = None
        if (
            isinstance(node, ast.AnnAssign)
            and ast.unparse(node.annotation) == "TypeAlias"
        ):
            value = node.value
        elif isinstance(node, (ast.AnnAssign, ast.arg)) and not lazy:
            value = node.annotation
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not lazy:
            value = node.returns
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in (
            "cast",
            "isinstance",
            "issubclass",
        ):
            value = node.args[0] if ast.unparse(node.func) == "cast" else node.args[-1]
        if value is not None and any(
            isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr)
            for n in ast.walk(value)
        ):
            found.append(getattr(node, "lineno", 0))
    return found


def not_python_39(package: Path) -> list[str]:
    """`file:line` of everything in the package's modules that Python 3.9 refuses: newer
    syntax (a SyntaxError names its line) and `X | Y` evaluated at run time."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(package)
        try:
            tree = ast.parse(source, filename=str(path), feature_version=(3, 9))
        except SyntaxError as exc:
            problems.append(f"{name}:{exc.lineno}: {exc.msg}")
            continue
        lazy = "from __future__ import annotations" in source
        problems += [f"{name}:{n}" for n in _runtime_unions(tree, lazy)]
    return problems
