"""The render memo: which rendered text each memoised file had, by the fingerprint of the
view it was rendered from (views.py).

One small pack per output package, `cache_dir/render/<pack>.marshal` (packs.py): path ->
[fingerprint, the formatter's key of the rendered text]. The formatted text itself is the formatting
cache's (formatting.py); a file is skipped only when both still agree, so losing either
cache only costs a render. It holds the files of the last run, and is written only when
one of them changed.
"""

from __future__ import annotations

from pathlib import Path

from .packs import Entries, Pack

_SUBDIR = "render"


class RenderMemo:
    def __init__(self, cache_dir: Path | None, pack: str = "default") -> None:
        self.path = cache_dir / _SUBDIR / f"{pack}.marshal" if cache_dir else None
        self._pack = Pack(self.path)
        self.entries: Entries = self._pack.load()

    def key(self, path: str, fingerprint: str) -> str | None:
        """The formatter's key of the text `path` rendered to from a view with
        `fingerprint`, if the last run rendered it from that view."""
        entry = self.entries.get(path)
        return entry[1] if entry is not None and entry[0] == fingerprint else None

    def store(self, entries: Entries) -> None:
        if entries != self.entries:
            self.entries = entries
            self._pack.store(entries)
