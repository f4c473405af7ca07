"""Which files are the specs: `--spec` paths (files or directories) -> spec files.

Kept apart from the reader (and its YAML parser) because `check` needs the file list
without parsing anything: its fast path compares hashes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import SpecError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def display_name(path: Path) -> str:
    """A path as errors name it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_spec_files(paths: Iterable[Path]) -> list[Path]:
    """Spec files from files and directories (a directory contributes its spec files, sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    c for c in p.iterdir() if c.suffix in SPEC_SUFFIXES and c.is_file()
                )
            )
        elif p.exists():
            out.append(p)
        else:
            raise SpecError(display_name(p), "", "no such file or directory")
    seen: dict[Path, None] = {}
    for p in out:
        seen.setdefault(p.resolve(), None)
    return list(seen)
