"""Which files are the specs: `--spec` paths (files or directories) -> spec files.

Kept apart from the reader (and its YAML parser) because `check` needs the file list
without parsing anything: its fast path compares hashes only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import SpecError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")  # in any case (`API.YAML`)

# A top-level `openapi:` (or `swagger:`, reported as unsupported) key as block YAML writes
# it, at the start of a line, or as a JSON document's first key.
_TOP_KEY = re.compile(
    rb"""^(?:["']?(?:openapi|swagger)["']?[ \t]*:)|\A(?:\xef\xbb\xbf)?\s*\{\s*"(?:openapi|swagger)"\s*:""",
    re.MULTILINE,
)


def display_name(path: Path) -> str:
    """A path named before there are specs to name it from (a `--spec` path that does not
    exist): relative to the working directory when inside it. Symbolic links are not
    followed: a link is named as it was given, not by its target."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path(os.path.abspath(os.getcwd()))))
    except ValueError:
        return str(path)


def is_spec_suffix(path: Path) -> bool:
    return path.suffix.lower() in SPEC_SUFFIXES


def is_openapi_document(path: Path) -> bool:
    """Whether a file of a `--spec` directory is a spec: it has a top-level `openapi` key
    (or `swagger`, so that a Swagger 2.0 file is reported, not skipped). Other YAML and
    JSON files (fragments the specs `$ref`, a config.yaml) are not. Answered from the text
    when it can be (the usual layout), else by parsing; a file that cannot be read or
    parsed counts as a spec, so that reading it reports why."""
    try:
        raw = path.read_bytes()
    except OSError:
        return True
    if b"openapi" not in raw and b"swagger" not in raw:
        return False
    if _TOP_KEY.search(raw):
        return True
    from .reader import parse_bytes  # imports the YAML parser: only when needed

    try:
        data = parse_bytes(raw, path.name)
    except SpecError:
        return True
    return isinstance(data, dict) and ("openapi" in data or "swagger" in data)


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
    """Spec files from files and directories: a file is a spec (whatever its name); a
    directory contributes its YAML and JSON files that are OpenAPI documents (sorted).
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            try:
                children = sorted(p.iterdir())
            except OSError as exc:
                raise SpecError(
                    display_name(p), "", f"cannot read directory: {exc.strerror or exc}"
                ) from None
            out.extend(
                c
                for c in children
                if is_spec_suffix(c) and c.is_file() and is_openapi_document(c)
            )
        elif p.exists():
            out.append(p)
        elif p.is_symlink():
            target = os.readlink(p)
            raise SpecError(
                display_name(p),
                "",
                f"a symbolic link to {target!r}, which does not exist",
            )
        else:
            raise SpecError(display_name(p), "", "no such file or directory")
    seen: dict[Path, None] = {}
    for p in out:
        seen.setdefault(p.resolve(), None)
    return list(seen)
