"""The render memo: which rendered text each memoised file had, by the fingerprint of the
view it was rendered from (views.py).

One small file per output package, `cache_dir/render/<pack>.marshal`: path -> [fingerprint,
the formatter's key of the rendered text]. The formatted text itself is the formatting
cache's (formatting.py); a file is skipped only when both still agree, so losing either
cache only costs a render. It holds the files of the last run, and is rewritten only when
one of them changed.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

_SUBDIR = "render"


class RenderMemo:
    def __init__(self, cache_dir: Path | None, pack: str = "default") -> None:
        self.path = cache_dir / _SUBDIR / f"{pack}.marshal" if cache_dir else None
        self.entries: dict[str, list[str]] = self._read()

    def key(self, path: str, fingerprint: str) -> str | None:
        """The formatter's key of the text `path` rendered to from a view with
        `fingerprint`, if the last run rendered it from that view."""
        entry = self.entries.get(path)
        return entry[1] if entry is not None and entry[0] == fingerprint else None

    def store(self, entries: dict[str, list[str]]) -> None:
        if entries == self.entries:
            return
        self.entries = entries
        if self.path is None:
            return
        try:  # a memo that cannot be written only costs time
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(entries))
            tmp.replace(self.path)
        except OSError:
            pass

    def _read(self) -> dict[str, list[str]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = marshal.loads(self.path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            k: v
            for k, v in data.items()
            if isinstance(k, str)
            and isinstance(v, list)
            and len(v) == 2
            and all(isinstance(x, str) for x in v)
        }
