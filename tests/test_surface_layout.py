"""The signatures and `_call(...)` calls of surface modules (generator/surface_layout.py) are
black's layout for few and many parameters, short and long names."""

from __future__ import annotations

import sys
from pathlib import Path

import black
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import ir  # noqa: E402
from generator.surface_layout import call_layout, signature  # noqa: E402

MODE = black.Mode(target_versions={black.TargetVersion.PY39})
STR = ir.Schema(kind=ir.PRIMITIVE, type="string")


def operation(path: int, query: int, name_length: int, body: bool) -> ir.Operation:
    def param(i: int, location: str) -> ir.Parameter:
        name = f"{location}_{i}_" + "x" * name_length
        return ir.Parameter(name=name, py_name=name, location=location, schema=STR, required=i % 2 == 0)

    params = tuple(param(i, "path") for i in range(path)) + tuple(param(i, "query") for i in range(query))
    return ir.Operation(
        operation_id="op", method="POST", path="/p", py_name="do_the_thing", surface="s",
        parameters=params,
        body=ir.RequestBody(schema=STR, content_type="application/json", required=True) if body else None,
    )


CASES = [(p, q, n, b) for p in (0, 1, 3) for q in (0, 2, 6) for n in (1, 20) for b in (False, True)]


@pytest.mark.parametrize("path,query,name_length,body", CASES)
def test_signature_and_call_are_black_exact(path: int, query: int, name_length: int, body: bool) -> None:
    op = operation(path, query, name_length, body)
    source = (
        "class C:\n"
        f"    def do_the_thing(\n        self,\n{signature(op)}    ) -> R:\n"
        f"        return self._request(\n{call_layout(op, ' ' * 12, tail=',')}\n            parse,\n        )\n"
        f"\n    def other(self) -> R:\n{call_layout(op, ' ' * 8, lead='call = ')}\n        return call\n"
    )
    assert black.format_str(source, mode=MODE) == source
