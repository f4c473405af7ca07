"""The `PropertySpec(...)` entries and constructor arguments of events.py are black's layout
for every shape of property (generator/event_layout.py), including the splits of long
`check=lambda v: ...` tests that the Customer.io specs happen not to need."""

from __future__ import annotations

import sys
from pathlib import Path

import black
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import ir  # noqa: E402
from generator.event_layout import event_arg, property_spec  # noqa: E402

MODE = black.Mode(target_versions={black.TargetVersion.PY39})
LONG = tuple(f"a_rather_long_enum_value_number_{i}" for i in range(6))
OBJ_KEYS = tuple(f"required_key_{i}" for i in range(8))

SCHEMAS = {
    "string": ir.Schema(kind=ir.PRIMITIVE, type="string"),
    "nullable integer": ir.Schema(kind=ir.PRIMITIVE, type="integer", nullable=True),
    "number": ir.Schema(kind=ir.PRIMITIVE, type="number"),
    "date-time": ir.Schema(kind=ir.PRIMITIVE, type="string", format="date-time", nullable=True),
    "short enum": ir.Schema(kind=ir.ENUM, class_name="Platform", enum_type="string", enum_values=("ios", "android")),
    "long enum": ir.Schema(kind=ir.ENUM, class_name="Platform", enum_type="string", enum_values=LONG),
    "nullable long enum": ir.Schema(kind=ir.ENUM, class_name="Platform", enum_type="string", enum_values=LONG, nullable=True),
    "enum split once": ir.Schema(kind=ir.ENUM, class_name="Platform", enum_type="string",
                                 enum_values=("value_number_one_x", "value_number_two_x", "value_three")),
    "object": ir.Schema(kind=ir.OBJECT, required=OBJ_KEYS[:2]),
    "object with many keys": ir.Schema(kind=ir.OBJECT, required=OBJ_KEYS),
    "nullable object with many keys": ir.Schema(kind=ir.OBJECT, required=OBJ_KEYS, nullable=True),
    "nullable object, few keys": ir.Schema(kind=ir.OBJECT, required=OBJ_KEYS[:4], nullable=True),
    "array": ir.Schema(kind=ir.ARRAY, items=ir.Schema(kind=ir.PRIMITIVE, type="string")),
}


def in_context(entry: str) -> str:
    """An entry where events.py has it: 16 columns in, inside EVENTS."""
    return (
        "EVENTS = MappingProxyType(\n    {\n        \"e\": EventSpec(\n            fields=(\n"
        f"                {entry}\n            ),\n        ),\n    }}\n)\n"
    )


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_property_spec_is_black_exact(name: str) -> None:
    for location in ("top", "properties", "context.device"):
        source = in_context(property_spec("a_field", "a_field", location, True, SCHEMAS[name]))
        assert black.format_str(source, mode=MODE) == source


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_property_spec_check_accepts_what_the_schema_allows(name: str) -> None:
    s = SCHEMAS[name]
    entry = property_spec("f", "f", "top", False, s)
    namespace: dict = {}
    exec(  # the entry's check, compiled as events.py would compile it
        "from typing import Mapping\nclass PropertySpec:\n    def __init__(self, **kw):\n"
        "        self.__dict__.update(kw)\n\nSPEC = " + entry.rstrip(","), namespace)
    check = namespace["SPEC"].check
    good = {"string": "x", "nullable integer": 3, "number": 1.5, "date-time": "2024-01-01T00:00:00Z",
            "short enum": "ios", "array": ["x"]}.get(name)
    if s.kind == ir.ENUM:
        good = s.enum_values[-1]
    if s.kind == ir.OBJECT:
        good = {k: 1 for k in s.required}
    assert check(good)
    assert check(None) == s.nullable
    if s.kind in (ir.ENUM, ir.OBJECT):
        assert not check({"other": 1} if s.kind == ir.ENUM else {"required_key_0": 1, "x": 2})


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_event_arg_is_black_exact(name: str) -> None:
    for required in (True, False):
        source = f"def f(\n    *,\n{event_arg('an_argument', SCHEMAS[name], required)}\n) -> None:\n    pass\n"
        assert black.format_str(source, mode=MODE) == source
