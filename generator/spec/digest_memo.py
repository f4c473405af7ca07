"""Unit digests carried from one run to the next, so that an edit walks only what it touched.

A unit's digest (units.py) leaves its prose out, which takes a walk of the whole unit: on a
13 MB document, longer than reading it. The memo keeps, per document, each unit's digest
under a key of its exact content (`units.content_key`, a cheap `marshal` of it); a unit
whose content did not change since the last run gets its digest back without the walk.

One file per document, `cache_dir/units/<document>.marshal`, holding the units of the last
run only. A file that is missing or damaged reads as empty, one that cannot be written is
left alone: either only costs time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path

from .reader import Document

_SUBDIR = "units"
_ID = "units/1"  # bump when units.shape_digest or content_key changes


def _path(cache_dir: Path, doc: Document) -> Path:
    name = hashlib.sha256(f"{_ID}\0{doc.path}".encode()).hexdigest()[:24]
    return cache_dir / _SUBDIR / f"{name}.marshal"


def _read(path: Path) -> dict[bytes, str]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        k: v for k, v in data.items() if isinstance(k, bytes) and isinstance(v, str)
    }


Kept = dict[Path, dict[bytes, str]]


def attach(docs: list[Document], cache_dir: Path | None) -> Kept:
    """Give each document the digests its file kept (before any digest is asked for);
    returns a copy of what each file held, for `store`."""
    kept: Kept = {}
    if cache_dir is None:
        return kept
    for doc in docs:
        doc.digest_memo = _read(_path(cache_dir, doc))
        kept[doc.path] = dict(doc.digest_memo)
    return kept


def store(docs: list[Document], cache_dir: Path | None, kept: Kept) -> None:
    """Keep this run's digests of the documents whose digests were worked out, where they
    differ from what the file held (`kept`, from `attach`)."""
    if cache_dir is None:
        return
    for doc in docs:
        if doc.digest_memo is None or "unit_digests" not in doc.__dict__:
            continue  # never asked for: what the file holds is still right
        if kept.get(doc.path) == doc.digest_memo:
            continue
        path = _path(cache_dir, doc)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(doc.digest_memo))
            tmp.replace(path)
        except OSError:
            pass
