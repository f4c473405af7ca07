"""Writing the package (generator/render/output.py) when a run is interrupted or races
another: the package is never half-written and nothing is left beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.render import output
from generator.render.output import write_package

FILES = {"__init__.py": b"x = 1\n", "models/pet.py": b"class Pet: ...\n"}


def test_an_interrupted_swap_puts_the_old_package_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    before = {p.name: p.read_bytes() for p in package.rglob("*") if p.is_file()}
    renames = 0
    rename = Path.rename

    def interrupted(self: Path, target: Any) -> Path:
        nonlocal renames
        renames += 1
        if renames == 2:  # the new package into place: Ctrl-C
            raise KeyboardInterrupt
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_package(package, {**FILES, "__init__.py": b"x = 2\n"}, b"{}\n")
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in package.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["p"]


def test_leftovers_name_their_run(tmp_path: Path) -> None:
    package = tmp_path / "p"
    scratch = output._scratch(package)
    assert scratch.name.startswith(f".p.ciogen-new-{output.os.getpid()}-")
    assert output.leftovers(package) == [scratch]  # this process's: an earlier one's
