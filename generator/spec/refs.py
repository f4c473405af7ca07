"""`$ref`s across spec files: the documents read so far and the resolver over them.

A `Workspace` holds every document by absolute path (root documents, the ones named on the
command line, in order; the files `$ref`s lead to, read when first reached) and resolves
local and relative cross-file references, each relative to the file that holds it,
following chains and reporting broken or circular ones with the file and pointer where
they stand.
"""

from __future__ import annotations

import errno
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import SpecError, pointer, shown
from .files import display_name, find_spec_files, spec_base, spec_name
from .reader import Document, read_document, read_referenced

# RFC 6901: `~` is only ever `~0` or `~1`; an array index is decimal without leading zeros
_BAD_TILDE = re.compile(r"~(?![01])")
_INDEX = re.compile(r"0|[1-9][0-9]*")


def unescape_pointer(fragment: str) -> list[str]:
    if fragment in ("", "/"):
        return [] if fragment == "" else [""]
    if not fragment.startswith("/") or _BAD_TILDE.search(fragment):
        raise ValueError(fragment)
    return [
        unquote(p).replace("~1", "/").replace("~0", "~")
        for p in fragment[1:].split("/")
    ]


def _os_reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)  # ValueError: "embedded null byte"


@dataclass
class Workspace:
    """All documents read so far, keyed by absolute path, and the `$ref` resolver over them."""

    docs: dict[Path, Document] = field(default_factory=dict)
    roots: list[Document] = field(default_factory=list)
    # the folder files are named from (files.spec_base); None: from the working directory
    base: Path | None = None
    # (file, $ref) -> what it resolved to: a huge API refers to the same few hundred
    # components thousands of times, and the documents do not change during a run
    _resolved: dict[tuple[Path, str], tuple[Document, str, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add_root(self, path: Path) -> Document:
        """A document named on the command line: it must be a whole OpenAPI document."""
        path = path.resolve()
        doc = self.docs.get(path)
        if doc is None:
            doc = self.docs[path] = read_document(path, self.name(path))
        elif doc not in self.roots:
            # a $ref read it first: is it a whole document too?
            read_document(path, self.name(path))
        if doc not in self.roots:
            self.roots.append(doc)
        return doc

    def document(self, path: Path, referrer: Document) -> Document:
        """The file a `$ref` in `referrer` leads to (read once, as a referenced file)."""
        path = path.resolve()
        doc = self.docs.get(path)
        if doc is None:
            doc = self.docs[path] = read_referenced(
                path, referrer.version, self.name(path)
            )
        return doc

    def name(self, path: Path) -> str:
        """How messages and the generated package name the file at `path`."""
        return spec_name(path, self.base) if self.base else display_name(path)

    def resolve(self, doc: Document, ref: Any, where: str) -> tuple[Document, str, Any]:
        """Resolve `ref` found in `doc` at pointer `where` -> (document, pointer, node)."""
        if not isinstance(ref, str):
            raise SpecError(doc.name, where, "$ref must be a string")
        known = self._resolved.get((doc.path, ref))
        if known is not None:
            return known
        target, _, fragment = ref.partition("#")
        if "://" in target:
            raise SpecError(
                doc.name,
                where,
                f"remote $ref {ref!r} is not supported (local files only)",
            )
        tdoc = doc
        if target:
            try:
                tpath = (doc.path.parent / unquote(target)).resolve()
                # stat, not exists(): exists() raises for a name the OS refuses (too
                # long, a NUL byte) instead of saying False
                mode = tpath.stat().st_mode
            except (OSError, ValueError) as exc:
                # the whole $ref where it can be found as it is written; a name the OS
                # refuses may be thousands of characters
                why = f"broken $ref {ref!r}: file not found"
                if isinstance(exc, ValueError) or exc.errno != errno.ENOENT:
                    why = (
                        f"broken $ref {shown(ref)}: not a file name ({_os_reason(exc)})"
                    )
                raise SpecError(doc.name, where, why) from None
            if stat.S_ISDIR(mode):
                raise SpecError(doc.name, where, f"broken $ref {ref!r}: a directory")
            if not stat.S_ISREG(mode):
                # a device or a pipe: /dev/zero never ends, a FIFO waits for a writer
                raise SpecError(
                    doc.name, where, f"broken $ref {ref!r}: not a regular file"
                )
            try:
                tdoc = self.document(tpath, doc)
            except SpecError as exc:  # the file's own problem; say which $ref led there
                f = exc.finding
                raise SpecError(
                    f.file, f.pointer, f"{f.message} (reached by {doc.name}#{where})"
                ) from None
        try:
            parts = unescape_pointer(fragment)
        except ValueError:
            raise SpecError(
                doc.name, where, f"broken $ref {ref!r}: not a JSON pointer"
            ) from None
        node: Any = tdoc.data
        for part in parts:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif (
                isinstance(node, list)
                and _INDEX.fullmatch(part)
                and int(part) < len(node)
            ):
                node = node[int(part)]
            else:
                raise SpecError(
                    doc.name, where, f"broken $ref {ref!r}: {part!r} not found"
                )
        found = self._resolved[(doc.path, ref)] = (tdoc, pointer(*parts), node)
        return found

    def deref(self, doc: Document, node: Any, where: str) -> tuple[Document, str, Any]:
        """Follow a chain of `$ref`s (detecting cycles) to a node that is not a bare ref."""
        seen: list[tuple[Path, str]] = []
        while isinstance(node, dict) and "$ref" in node:
            key = (doc.path, where)
            if key in seen:
                raise SpecError(doc.name, where, "circular $ref chain")
            seen.append(key)
            doc, where, node = self.resolve(doc, node["$ref"], where + "/$ref")
        return doc, where, node


def load(paths: Iterable[Path]) -> Workspace:
    """Read every spec file (not yet validated)."""
    paths = list(paths)
    ws = Workspace(base=spec_base(paths))
    files = find_spec_files(paths)
    if not files:
        raise SpecError(
            ", ".join(str(p) for p in paths) or "specs",
            "",
            "no OpenAPI files found (a directory's YAML and JSON files without a "
            "top-level `openapi` key are not specs)",
        )
    for p in files:
        ws.add_root(p)
    return ws
