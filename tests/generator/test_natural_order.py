"""codegen/modules.py's natural sort key: a run of non-digits kept whole orders names exactly
as comparing them character by character does (ruff's order, which the imports and
`__all__` lists follow)."""

from __future__ import annotations

import random
import re

from generator.codegen.modules import _natural

_RUNS = re.compile(r"\d+|\D+")


def _per_character(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(run)) if run.isdigit() else (1, run)
        for part in _RUNS.findall(text)
        for run in ([part] if part.isdigit() else list(part))
    )


def test_whole_runs_sort_as_single_characters_do() -> None:
    rng = random.Random(15)
    alphabet = "aAbB_zZ0129"
    names = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        for _ in range(20_000)
    ]
    assert sorted(names, key=_natural) == sorted(names, key=_per_character)
    # pairs where one run is a prefix of the other, followed by digits, by more letters
    # or by nothing
    tricky = [
        "ab",
        "ab2",
        "ab10",
        "abc",
        "ab_",
        "a_b",
        "a2",
        "A2",
        "a",
        "",
        "a01",
        "a1",
    ]
    assert sorted(tricky, key=_natural) == sorted(tricky, key=_per_character)


def test_digits_are_compared_by_value() -> None:
    names = ["Item10", "Item2", "Item1", "Item", "Items"]
    assert sorted(names, key=_natural) == ["Item", "Item1", "Item2", "Item10", "Items"]
