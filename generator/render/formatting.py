"""black over generated Python, in cached pieces (the slowest step of a run, by far).

Owns splitting a module into pieces whose formatting does not depend on each other, running
black on each (on the run's worker processes, see pool.py), caching the results by content
and joining them back into exactly what black gives for the whole file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import RenderError
from ..pool import Pool

#
# black is the slowest step by far (seconds for the big modules), so it runs on *pieces* of a
# file, each cached by content: a one-line spec change re-formats one method, not models.py.
#
# A piece starts at a `def`/`class`/decorator line that follows a blank line, either at
# module level or one level deep in a class. For such a line black's output depends on
# nothing before it: it always puts exactly two blank lines before a module-level one and
# one before a class member (black's `_maybe_empty_lines`, when the previous line is neither
# a comment nor a decorator and the user left a blank line), and its state carried across
# the boundary is reset there. So formatting the pieces apart and joining them with those
# blank lines gives black's own output for the whole file; tests/test_incremental.py checks
# that on every generated file. The splitter is textual (fast); a cut it gets wrong (inside
# a string or brackets) leaves a piece that does not parse, and then the whole file is
# formatted in one go. Files with `fmt:`/`yapf:` directives, tabs, CR or form feeds are
# never split.

_BATCH_LINES = (
    400  # uncached pieces go to the workers in tasks of about this many lines
)
Submit = Callable[..., Any]  # submit(fn, *args) -> a Future (pool.Pool.submit)
_BLACK_ID = (
    "black-26.10.1/py39/pieces-1"  # part of every cache key: bump with black's pin
)
_CACHE_SUBDIR = "black"  # the packs' directory in the cache dir
_STARTS = ("def ", "async def ", "class ", "@")
_MEMBER = "    "  # the one class-body indentation pieces are cut at (black's own)
_STAND_IN = "class _:\n"  # members are formatted inside this header, then it is removed


@dataclass(frozen=True)
class Piece:
    text: str
    member: bool  # a class-body statement, formatted inside `_STAND_IN`


def split_pieces(source: str) -> list[Piece]:
    """The source cut where formatting the parts apart equals formatting the whole."""
    if any(c in source for c in "\r\f\t") or "fmt:" in source or "yapf:" in source:
        return [Piece(source, False)]
    lines = source.splitlines(keepends=True)
    starts = [0]
    for i in range(1, len(lines)):
        if _cut_before(lines, i, ""):
            if (
                len(starts) == 1
                and lines[i].startswith("@")
                and _only_docstring(lines[:i])
            ):
                continue  # black puts one blank line, not two, between a module docstring and a decorator
            starts.append(i)
    starts.append(len(lines))
    pieces: list[Piece] = []
    for a, b in zip(starts, starts[1:]):
        pieces.extend(_split_class(lines[a:b]))
    return pieces


def _cut_before(lines: list[str], i: int, indent: str) -> bool:
    line = lines[i]
    if not line.startswith(indent) or not line[len(indent) :].startswith(_STARTS):
        return False
    if lines[i - 1].strip():
        return (
            False  # no blank line: black may keep the lines together (overloads, stubs)
        )
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0:
        return False
    prev = lines[j].lstrip(" ")
    if prev.startswith(("#", "@")):
        return False  # comments and decorators belong to what follows them
    return len(lines[j]) - len(prev) >= len(indent)  # not right after the class header


def _only_docstring(lines: list[str]) -> bool:
    import ast

    try:
        body = ast.parse("".join(lines)).body
    except SyntaxError:
        return True  # unknown: do not cut
    return (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    )


def _split_class(lines: list[str]) -> list[Piece]:
    """A module-level piece; a class with a one-line header also cut at its members."""
    whole = [Piece("".join(lines), False)]
    h = 0
    while h < len(lines) and lines[h].startswith("@"):
        h += 1  # one-line decorators only: anything else is not split
    if (
        h >= len(lines)
        or not lines[h].startswith("class ")
        or not lines[h].rstrip().endswith(":")
    ):
        return whole
    body = [line for line in lines[h + 1 :] if line.strip()]
    if (
        not body
        or not all(line.startswith(_MEMBER) for line in body)
        or body[0][4] == " "
    ):
        return whole  # the class body must be indented by exactly four spaces
    starts = [0] + [
        i for i in range(h + 2, len(lines)) if _cut_before(lines, i, _MEMBER)
    ]
    starts.append(len(lines))
    return [
        Piece("".join(lines[a:b]), bool(n))
        for n, (a, b) in enumerate(zip(starts, starts[1:]))
    ]


def join_pieces(pieces: list[Piece], formatted: list[str]) -> str:
    """black's blank lines between pieces: two before a module-level one, one before a member."""
    out = [formatted[0]]
    for p, text in zip(pieces[1:], formatted[1:]):
        out.append(("\n" if p.member else "\n\n") + text)
    return "".join(out)


_MODE: Any = None


def black_piece(text: str, member: bool) -> tuple[bool, str]:
    """(True, formatted) or (False, error): runs in a worker process or in this one."""
    global _MODE
    import black

    if _MODE is None:
        _MODE = black.Mode(target_versions={black.TargetVersion.PY39})  # type: ignore[attr-defined]
    # black formats twice whenever its first pass changes anything; the blank lines a cut
    # leaves at a piece's end always would, so they go first (black drops them anyway).
    text = text.rstrip("\n") + "\n"
    try:
        out: str = black.format_str(_STAND_IN + text if member else text, mode=_MODE)
    # a bad cut or a template bug: the caller decides which
    except Exception as exc:  # noqa: BLE001
        return False, str(exc)[:300]
    if member:
        if not out.startswith(_STAND_IN):
            return False, "member piece lost its stand-in header"
        out = out[len(_STAND_IN) :]
    return True, out


def black_pieces(batch: list[tuple[str, bool]]) -> list[tuple[bool, str]]:
    """`black_piece` over a batch (one task: a worker round trip per piece costs more than
    formatting a small one)."""
    return [black_piece(text, member) for text, member in batch]


class Formatter:
    """black over pieces of each file, cached by content in `cache_dir/black/<file>.json`.

    Each file's pack maps the key of a piece (or of the whole source, so an unchanged file
    costs one hash) to black's output, and holds only what the last run used, so it never
    grows. Uncached pieces go to `submit` (a worker pool) in batches of about
    `_BATCH_LINES` lines; `finish` waits for them.
    """

    def __init__(self, cache_dir: Path | None, submit: Submit | None = None) -> None:
        self.cache_dir = cache_dir / _CACHE_SUBDIR if cache_dir else None
        self.submit = submit or Pool(jobs=1).submit  # no pool: everything runs here
        self._jobs: dict[str, tuple[str, list[Piece], list[Any], dict[str, str]]] = {}

    @staticmethod
    def key(kind: str, text: str) -> str:
        return hashlib.sha256(f"{_BLACK_ID}\0{kind}\0{text}".encode()).hexdigest()

    def start(self, source: str, name: str) -> None:
        """Begin formatting one file; `finish` returns the result."""
        pack = self._load(name)
        whole = self.key("file", source)
        if whole in pack:
            self._jobs[name] = (source, [], [pack[whole]], pack)
            return
        pieces = split_pieces(source)
        # A result is black's text (cached) or (future, i): the i-th piece of a batch.
        results: list[Any] = []
        batch: list[tuple[str, bool]] = []
        slots: list[int] = []
        lines = 0
        for p in pieces:
            hit = pack.get(self.key("member" if p.member else "module", p.text))
            results.append(hit)
            if hit is None:
                batch.append((p.text, p.member))
                slots.append(len(results) - 1)
                lines += p.text.count("\n")
            if batch and (lines >= _BATCH_LINES or p is pieces[-1]):
                future = self.submit(black_pieces, batch)
                for i, slot in enumerate(slots):
                    results[slot] = (future, i)
                batch, slots, lines = [], [], 0
        self._jobs[name] = (source, pieces, results, pack)

    def finish(self) -> dict[str, str]:
        """Every started file, formatted."""
        out: dict[str, str] = {}
        for name, (source, pieces, results, pack) in self._jobs.items():
            if not pieces:
                out[name] = results[0]
                continue
            got = [
                (True, r) if isinstance(r, str) else r[0].result()[r[1]]
                for r in results
            ]
            if all(ok for ok, _ in got):
                texts = [text for _, text in got]
                text = join_pieces(pieces, texts)
                new = {
                    self.key("member" if p.member else "module", p.text): t
                    for p, t in zip(pieces, texts)
                }
            else:  # a cut in the wrong place, or code that does not parse at all
                ok, text = black_piece(source, False)
                if not ok:
                    raise RenderError(f"{name}: generated code does not parse: {text}")
                new = {}
            new[self.key("file", source)] = text
            self._store(name, pack, new)
            out[name] = text
        self._jobs = {}
        return out

    def format(self, source: str, name: str) -> str:
        """One file, formatted (`start` and `finish` for a single file)."""
        self.start(source, name)
        return self.finish()[name]

    def _pack_path(self, name: str) -> Path | None:
        return (
            self.cache_dir / (name.replace("/", "__") + ".json")
            if self.cache_dir
            else None
        )

    def _load(self, name: str) -> dict[str, str]:
        path = self._pack_path(name)
        if path is None or not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _store(self, name: str, old: dict[str, str], new: dict[str, str]) -> None:
        path = self._pack_path(name)
        if path is None or new == old:
            return
        try:  # a cache that cannot be written only costs time
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(new, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass
