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


# What the standard library gained after 3.9 that generated code might reach for.
_NEWER_TYPING = frozenset(
    {
        "Concatenate",
        "LiteralString",
        "Never",
        "NotRequired",
        "ParamSpec",
        "Required",
        "Self",
        "TypeAlias",
        "TypeGuard",
        "TypeVarTuple",
        "Unpack",
        "assert_never",
        "dataclass_transform",
        "override",
        "reveal_type",
    }
)
_NEWER_CALLS = frozenset({"aiter", "anext", "itertools.pairwise", "pairwise"})
# keyword arguments functions took only after 3.9
_NEWER_KEYWORDS = {
    "zip": {"strict"},
    "dataclass": {"slots", "kw_only", "match_args"},
    "dataclasses.dataclass": {"slots", "kw_only", "match_args"},
    "field": {"kw_only"},
    "dataclasses.field": {"kw_only"},
}


def _checking_only(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` (never run)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for child in node.body:
                out.update(id(n) for n in ast.walk(child))
    return out


def _newer_library(tree: ast.AST) -> list[int]:
    """Lines that use, when the module runs, what the standard library has only since
    3.10: typing names, builtins and keyword arguments."""
    skip = _checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "typing":
            if any(alias.name in _NEWER_TYPING for alias in node.names):
                found.append(node.lineno)
        elif isinstance(node, ast.Attribute) and ast.unparse(node) in {
            f"typing.{name}" for name in _NEWER_TYPING
        }:
            found.append(node.lineno)
        elif isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            newer = _NEWER_KEYWORDS.get(func, set())
            if func in _NEWER_CALLS or any(k.arg in newer for k in node.keywords):
                found.append(node.lineno)
    return found


def not_python_39(package: Path) -> list[str]:
    """`file:line` of everything in the package's modules that Python 3.9 refuses: newer
    syntax (a SyntaxError names its line), `X | Y` evaluated at run time, and what the
    standard library has only since 3.10."""
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
        problems += [f"{name}:{n}: newer library" for n in _newer_library(tree)]
    return problems
