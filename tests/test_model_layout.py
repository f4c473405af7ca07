"""Each line of models.py that depends on a field (generator/model_layout.py) is black's
layout, for names and types long enough to need the splits black makes for them.

Where these filters do not reproduce black's layout (a `from_dict` value too long for a line
of its own, which black splits inside), black, which formats every generated file anyway,
changes the text; it only costs black a second pass over that piece.
"""

from __future__ import annotations

import sys
from pathlib import Path

import black
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import ir  # noqa: E402
from generator.render import decode, fits, py_literal  # noqa: E402
from generator.model_layout import (  # noqa: E402
    field_declaration,
    from_dict_argument,
    known_names,
    to_dict_entry,
    variant_test,
)

MODE = black.Mode(target_versions={black.TargetVersion.PY39})
STR = ir.Schema(kind=ir.PRIMITIVE, type="string")
LONG_NAME = "a_field_name_long_enough_to_push_lines_over"
MODEL = ir.Schema(kind=ir.OBJECT, class_name="CustomerAttributesRequest")
SCHEMAS = {
    "string": STR,
    "date-time": ir.Schema(kind=ir.PRIMITIVE, type="string", format="date-time", nullable=True),
    "model": MODEL,
    "list of models": ir.Schema(kind=ir.ARRAY, items=MODEL),
    "map of lists of models": ir.Schema(kind=ir.MAP, items=ir.Schema(kind=ir.ARRAY, items=MODEL)),
    "nullable list of models": ir.Schema(kind=ir.ARRAY, items=MODEL, nullable=True),
    "enum": ir.Schema(kind=ir.ENUM, class_name="DeliveryChannelKind",
                      enum_type="string", enum_values=("a", "b")),
}
PROPS = [
    ir.Property(name=wire, py_name=name, schema=s, required=required)
    for s in SCHEMAS.values()
    for name in ("x", LONG_NAME, LONG_NAME[:24])
    for wire in (name, name + "Wire")
    for required in (True, False)
]


def black_exact(source: str) -> None:
    assert black.format_str(source, mode=MODE) == source


def test_field_declarations() -> None:
    for p in PROPS:
        black_exact(f"@dataclass\nclass M:\n{field_declaration(p)}\n")


def test_to_dict_entries() -> None:
    for p in PROPS:
        black_exact(f"class M:\n    def to_dict(self) -> D:\n        out: D = {{}}\n{to_dict_entry(p)}\n")


def test_from_dict_arguments() -> None:
    # Exact for values that fit on a line of their own; longer ones (a comprehension or a
    # null test black would split inside) are left to black.
    fitting = [p for p in PROPS if fits(" " * 16 + decode(p.schema, f"data[{py_literal(p.name)}]"))]
    assert len(fitting) > len(PROPS) // 3
    for p in fitting:
        black_exact(f"class M:\n    def from_dict(cls, data: D) -> M:\n        return cls(\n"
                    f"{from_dict_argument(p)}\n        )\n")


@pytest.mark.parametrize("count", [0, 1, 3, 12])
def test_known_names(count: int) -> None:
    model = ir.Schema(kind=ir.OBJECT, properties=tuple(PROPS[:count]))
    black_exact(f"class M:\n    def from_dict(cls, data: D) -> M:\n{known_names(model)}\n")


def test_variant_tests() -> None:
    for required in (0, 2, 4, 9):
        keys = tuple(f"required_key_number_{i}" for i in range(required))
        variant = ir.Schema(kind=ir.OBJECT, class_name="V", required=keys)
        black_exact(f"def decode_U(data: Any) -> U:\n{variant_test(variant)}\n        return V.from_dict(data)\n")
    for s in SCHEMAS.values():
        black_exact(f"def decode_U(data: Any) -> U:\n{variant_test(s)}\n        return data\n")
