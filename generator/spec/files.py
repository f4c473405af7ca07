"""Which files are the specs: `--spec` paths (files or directories) -> spec files.

Kept apart from the reader (and its YAML parser) because `check` needs the file list
without parsing anything: its fast path compares hashes only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import SpecError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def display_name(path: Path) -> str:
    """A path named before there are specs to name it from (a `--spec` path that does not
    exist): relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def spec_base(paths: Iterable[Path]) -> Path:
    """The folder spec files are named from: the deepest one holding every `--spec` path,
    so a directory given as `specs` names its files `specs/app.yaml` and a file given
    alone is named by its file name. Messages and the generated package (README,
    REFERENCE, the sources of models and limits) name files so, whatever the working
    directory."""
    parents = [str(p.resolve().parent) for p in paths]
    try:
        return Path(os.path.commonpath(parents)) if parents else Path.cwd().resolve()
    except ValueError:  # paths on two drives (Windows): there is no common folder
        return Path(parents[0])


def spec_name(path: Path, base: Path) -> str:
    """How a spec file is named: its path from `base` (`spec_base`), with `/`s."""
    try:
        return Path(os.path.relpath(path.resolve(), base)).as_posix()
    except ValueError:  # another drive than base's (Windows): no relative path
        return path.resolve().as_posix()


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
