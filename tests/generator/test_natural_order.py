"""codegen/modules.py's natural sort key orders names as ruff does (the `natord` crate, a
port of strnatcmp), which the imports and `__all__` lists follow: the key compares whole
runs where natord compares character by character, and a key cannot see both names at
once as natord's choice between comparing digits as a number or as a fraction does."""

from __future__ import annotations

import functools
import random
import subprocess
import sys
from pathlib import Path

from generator.codegen.modules import _natural, all_list, import_lines

ROOT = Path(__file__).resolve().parents[2]


def _digits(text: str, i: int) -> bool:
    return i < len(text) and text[i].isdigit()


def _natord(a: str, b: str) -> int:
    """natord::compare, character by character (names hold no whitespace to skip)."""
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i].isdigit() and b[j].isdigit():
            fraction = a[i] == "0" or b[j] == "0"
            bias = 0
            while _digits(a, i) and _digits(b, j):
                if a[i] != b[j]:
                    if fraction:
                        return -1 if a[i] < b[j] else 1
                    bias = bias or (-1 if a[i] < b[j] else 1)
                i, j = i + 1, j + 1
            if _digits(a, i) != _digits(b, j):
                return 1 if _digits(a, i) else -1
            if bias:
                return bias
            continue
        if a[i] != b[j]:
            return -1 if a[i] < b[j] else 1
        i, j = i + 1, j + 1
    return (i < len(a)) - (j < len(b))


def _random_names(seed: int, alphabet: str, count: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        for _ in range(count)
    ]


def test_the_key_orders_names_as_natord_compares_them() -> None:
    names = _random_names(15, "aAbB_zZ00129", 20_000)
    assert sorted(names, key=_natural) == sorted(
        names, key=functools.cmp_to_key(_natord)
    )
    # pairs where one run is a prefix of the other, followed by digits, by more letters
    # or by nothing; runs led by zeros (fractions) next to numbers
    tricky = [
        *("ab", "ab2", "ab10", "abc", "ab_", "a_b", "a2", "A2", "a", ""),
        *("a01", "a1", "a0", "a00", "a083f", "a2ad", "a18c", "a0ea", "a001", "a010"),
    ]
    assert sorted(tricky, key=_natural) == sorted(
        tricky, key=functools.cmp_to_key(_natord)
    )


def test_digits_are_compared_by_value() -> None:
    names = ["Item10", "Item2", "Item1", "Item", "Items"]
    assert sorted(names, key=_natural) == ["Item", "Item1", "Item2", "Item10", "Items"]


def test_ruff_accepts_the_order_of_hashed_module_names(tmp_path: Path) -> None:
    # bounded() ends a long module name with 8 hex digits: many lead with a zero
    rng = random.Random(3)
    stems = [f"m_{rng.getrandbits(32):08x}" for _ in range(300)]
    stems += ["m" + n for n in _random_names(4, "ab_0182", 300)]
    imports = {f".{s}": {"X" + s.upper()} for s in stems}
    names = ["X" + s for s in stems] + ["X" + s.upper() for s in stems]
    module = tmp_path / "mod.py"
    module.write_text(
        "\n".join(import_lines(imports)) + f"\n\n__all__ = {all_list(names)}\n"
    )
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    proc = subprocess.run(
        [*command, "check", "--no-cache", "--isolated", "--select", "I001,RUF022"]
        + [str(module)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
