"""Formatting the generated Python: ruff's formatter, black's style, one run for all files.

`ruff format` (pinned) lays the code out as black does, about a hundred times faster: it
formats a huge API's half a million lines in a second or two, where black took minutes. The
test suite holds every generated package to `black --check` as well, so the output is
black-formatted; the templates avoid the few constructs where the two differ.

Formatted text is cached by the rendered text (one entry per file), so a run formats only
the files whose rendered text changed since the last one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import RenderError

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


def format_sources(sources: dict[str, str]) -> dict[str, str]:
    """Every source formatted: one `ruff format` run over a scratch copy of them."""
    if not sources:
        return {}
    with tempfile.TemporaryDirectory(prefix="ciogen-format-") as scratch:
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
            problem = first[0] if first else f"exit {done.returncode}"
            raise RenderError(f"generated code does not parse: {problem[:300]}")
        return {name: path.read_text(encoding="utf-8") for name, path in paths.items()}


class Formatter:
    """Formats files, answering from `cache_dir/format/` what it formatted before."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir / _CACHE_SUBDIR if cache_dir else None

    @staticmethod
    def key(name: str, text: str) -> str:
        digest = hashlib.sha256(f"{_FORMATTER_ID}\0{name}\0{text}".encode())
        return digest.hexdigest()

    def format_all(self, sources: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        missing: dict[str, str] = {}
        for name, text in sources.items():
            cached = self._load(name, self.key(name, text))
            if cached is None:
                missing[name] = text
            else:
                out[name] = cached
        fresh = format_sources(missing)
        for name, text in fresh.items():
            self._store(name, self.key(name, missing[name]), text)
        out.update(fresh)
        return out

    def format(self, source: str, name: str) -> str:
        return self.format_all({name: source})[name]

    def _path(self, name: str) -> Path | None:
        return (
            self.cache_dir / (name.replace("/", "__") + ".json")
            if self.cache_dir
            else None
        )

    def _load(self, name: str, key: str) -> str | None:
        path = self._path(name)
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        text = data.get(key) if isinstance(data, dict) else None
        return text if isinstance(text, str) else None

    def _store(self, name: str, key: str, text: str) -> None:
        path = self._path(name)
        if path is None:
            return
        try:  # a cache that cannot be written only costs time
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({key: text}), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass
