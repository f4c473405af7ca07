"""The cache files kept per output package: `path -> [str, str]` entries in `marshal` files
(the formatting cache and the render memo).

A pack is a base file and, beside it, a delta (`<base>.delta`) of the entries changed or
removed since the base was written. A run that changed a few files writes only the delta:
a huge API's formatting cache is tens of megabytes, and rewriting it for a one-line edit
took longer than the edit's formatting. When the delta has grown to a good part of the
base, the base is written whole and the delta removed.

Every reader checks an entry against the key it wants (its first string), so an entry of
an older write that a crash left standing only costs a cache miss. A file that is missing,
damaged or not of that shape reads as empty, and one that cannot be written is left
alone: either only costs time. A file is replaced whole (written beside it, then renamed),
so a reader never sees half of one.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Entries = dict[str, list[str]]

# The delta is rewritten whole by each run that changes something: past this share of the
# base's size, writing the base instead costs less over the next runs.
_DELTA_SHARE = 0.25


class Pack:
    """One pack: `load()` its entries, `store()` this run's."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.delta_path = path.with_name(path.name + ".delta") if path else None
        self._base: Entries = {}
        self._delta: dict[str, list[str] | None] = {}  # None: removed from the base
        self._loaded = False

    def load(self) -> Entries:
        """The entries of the last run (base with the delta applied)."""
        if not self._loaded:
            self._base = _entries(_read(self.path), removals=False)
            self._delta = _entries(_read(self.delta_path), removals=True)
            self._loaded = True
        out = dict(self._base)
        for name, entry in self._delta.items():
            if entry is None:
                out.pop(name, None)
            else:
                out[name] = entry
        return out

    def store(self, entries: Entries) -> None:
        """Make `entries` what the next run loads (written only where they changed)."""
        current = self.load()
        if entries == current:
            return
        delta: dict[str, list[str] | None] = {
            name: entry
            for name, entry in entries.items()
            if self._base.get(name) != entry
        }
        delta.update((name, None) for name in self._base if name not in entries)
        if (
            self.path is not None
            and self.path.exists()
            and _size(delta) <= (_DELTA_SHARE * _size(entries))
        ):
            if _write(self.delta_path, delta):
                self._delta = delta
            return
        if _write(self.path, entries):
            self._base, self._delta = dict(entries), {}
            if self.delta_path is not None:
                try:
                    self.delta_path.unlink()
                except OSError:
                    pass  # its entries are checked against their keys when read


def _size(entries: Mapping[str, list[str] | None]) -> int:
    return sum(len(e[1]) + 64 for e in entries.values() if e is not None) + len(entries)


def _read(path: Path | None) -> Any:
    if path is None or not path.exists():
        return {}
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}


def _entries(data: Any, removals: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    return {
        k: v
        for k, v in data.items()
        if isinstance(k, str)
        and (
            (removals and v is None)
            or (
                isinstance(v, list)
                and len(v) == 2
                and all(isinstance(x, str) for x in v)
            )
        )
    }


def _write(path: Path | None, data: dict[str, Any]) -> bool:
    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(data))
        tmp.replace(path)
    except OSError:
        return False
    return True
