"""Formatting the generated Python: ruff's formatter, black's style, one run for all files.

`ruff format` (pinned) lays the code out as black does, about a hundred times faster: it
formats a huge API's half a million lines in a second or two, where black took minutes. The
test suite holds every generated package to `black --check` as well, so the output is
black-formatted; the templates avoid the few constructs where the two differ.

Formatted text is cached by the rendered text (one entry per file, one cache file per
package), so a run formats only the files whose rendered text changed since the last one.
The cache file is in `marshal`'s format (as Python's own bytecode caches are): a huge API's
50 MB of formatted code loads in a few hundredths of a second, where JSON took half a
second.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import RenderError
from .packs import Pack

# Everything that decides the layout, part of every cache key: change with ruff's pin.
_STYLE = ("--isolated", "--line-length", "88", "--target-version", "py39")
_FORMATTER_ID = "ruff-0.17.6/" + " ".join(_STYLE)
_CACHE_SUBDIR = "format"


def ruff_bin() -> str:
    """The ruff executable installed with ciogen."""
    found: str | None
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
    if found is None:
        raise RenderError("ruff is not installed (ciogen formats with ruff format)")
    return found


def _scratch() -> str | None:
    """Where the scratch copy goes: memory (/dev/shm) where there is one, the system's
    temporary directory otherwise. A huge API has thousands of files; writing them to a
    disk costs several times more than the formatting itself."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def format_sources(sources: dict[str, str]) -> dict[str, str]:
    """Every source formatted: one `ruff format` run over a scratch copy of them."""
    if not sources:
        return {}
    with tempfile.TemporaryDirectory(
        prefix="ciogen-format-", dir=_scratch()
    ) as scratch:
        root = Path(scratch)
        paths = {}
        for name, text in sources.items():
            path = root / name.replace("/", "__")
            path.write_text(text, encoding="utf-8")
            paths[name] = path
        done = subprocess.run(
            [ruff_bin(), "format", "--quiet", "--no-cache", *_STYLE, str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            first = (done.stderr or done.stdout).strip().splitlines()
            problem = _syntax_error(sources) or (
                first[0] if first else f"exit {done.returncode}"
            )
            raise RenderError(f"generated code does not parse: {problem[:300]}")
        return {name: path.read_text(encoding="utf-8") for name, path in paths.items()}


def _syntax_error(sources: dict[str, str]) -> str:
    """Where the first source that is no Python fails to parse ("" if they all parse):
    ruff, run quietly, does not say."""
    for name in sorted(sources):
        try:
            ast.parse(sources[name], filename=name)
        except SyntaxError as exc:
            return f"{name} line {exc.lineno}: {exc.msg}"
    return ""


class Formatter:
    """Formats files, answering from a cache what it formatted before.

    The cache is one pack per output package, `cache_dir/format/<pack>.marshal` (packs.py):
    the formatted text of each file with the key of the text it came from. Reading and
    writing one file costs much less than one per output file (a huge API has thousands).
    It holds the files of the last run only, and is written only when a file had to be
    formatted (most often only its delta: what changed).
    """

    def __init__(self, cache_dir: Path | None, pack: str = "default") -> None:
        where = cache_dir / _CACHE_SUBDIR if cache_dir else None
        self.path = where / f"{pack}.marshal" if where else None
        self._pack = Pack(self.path)
        self._entries: dict[str, list[str]] | None = None

    @staticmethod
    def key(name: str, text: str) -> str:
        digest = hashlib.sha256(f"{_FORMATTER_ID}\0{name}\0{text}".encode())
        return digest.hexdigest()

    def cached(self, name: str, text: str) -> str | None:
        """The formatted text of `text`, if the cache has it."""
        entry = self._load().get(name)
        if entry is None or entry[0] != self.key(name, text):
            return None
        return entry[1]

    def by_key(self, name: str, key: str) -> str | None:
        """The formatted text of the file whose rendered text had `key`, if cached."""
        entry = self._load().get(name)
        return entry[1] if entry is not None and entry[0] == key else None

    def preload(self) -> None:
        """Read the cache now (before a fork, so that both processes have it)."""
        self._load()

    def format_all(
        self, sources: dict[str, str], keep: Iterable[str] = ()
    ) -> dict[str, str]:
        """`sources` formatted; the cache is rewritten with their entries and those of
        `keep` (files of this run that were not rendered again), if anything was missing.
        """
        out: dict[str, str] = {}
        missing: dict[str, str] = {}
        for name, text in sources.items():
            cached = self.cached(name, text)
            if cached is None:
                missing[name] = text
            else:
                out[name] = cached
        out.update(format_sources(missing))
        if missing:
            entries = {n: [self.key(n, sources[n]), out[n]] for n in sources}
            known = self._load()
            entries.update({n: known[n] for n in keep if n in known})
            self._store(entries)
        return out

    def format(self, source: str, name: str) -> str:
        return self.format_all({name: source})[name]

    def _load(self) -> dict[str, list[str]]:
        if self._entries is None:
            self._entries = self._pack.load()
        return self._entries

    def _store(self, entries: dict[str, list[str]]) -> None:
        self._entries = entries
        self._pack.store(entries)
