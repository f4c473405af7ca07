"""The cache files kept per output package: `path -> [str, str]` entries in one `marshal`
file (the formatting cache and the render memo). A file that is missing, damaged or not of
that shape reads as empty, and one that cannot be written is left alone: either only costs
time. A file is replaced whole (written beside it, then renamed), so a reader never sees
half of one.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

Entries = dict[str, list[str]]


def read_pack(path: Path | None) -> Entries:
    if path is None or not path.exists():
        return {}
    try:
        data = marshal.loads(path.read_bytes())
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


def write_pack(path: Path | None, entries: Entries) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(entries))
        tmp.replace(path)
    except OSError:
        pass
