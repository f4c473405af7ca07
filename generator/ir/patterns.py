"""A short text a schema's `pattern` (a regular expression) finds, for examples.

Written from the standard library's own parse of the expression: each literal as it is,
a class's first character (or, negated, a plain one it leaves out), a branch's first
alternative, a repeat's least count (at least one where it allows, else none), anchors
and lookarounds as nothing; the text is then checked with `re.search` and dropped when
the pattern does not find it. A pattern Python cannot read (`\\p{L}`, a JavaScript named
group) gives none.
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any

from ..spec.regex import SRE as _SRE
from ..spec.regex import risky, unparse_class

MAX_TEXT = 200  # longer samples are not used (a fixture stays readable)


def _category(name: str) -> str | None:
    return {
        "CATEGORY_DIGIT": "0",
        "CATEGORY_WORD": "a",
        "CATEGORY_SPACE": " ",
        "CATEGORY_NOT_DIGIT": "a",
        "CATEGORY_NOT_WORD": "-",
        "CATEGORY_NOT_SPACE": "a",
    }.get(name)


def _char_in(items: list[tuple[Any, Any]]) -> str | None:
    """A character of a class `[...]`."""
    sre = _SRE
    if items and items[0][0] is sre.NEGATE:
        # anything the class leaves out: try a few plain characters
        pattern = unparse_class(items[1:])
        if pattern is None:
            return None
        for c in "a0A_-. ~":
            if not re.fullmatch(pattern, c):
                return c
        return None
    for op, av in items:
        if op is sre.LITERAL:
            return chr(av)
        if op is sre.RANGE:
            return chr(av[0])
        if op is sre.CATEGORY:
            return _category(str(av))
    return None


def _repeats() -> tuple[Any, ...]:
    sre = _SRE
    names = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    return tuple(getattr(sre, n) for n in names if hasattr(sre, n))


def _text(
    parsed: Any,
    groups: dict[int, str],
    some: bool,
    more: dict[int, int] | None = None,
    limit: int = MAX_TEXT,
) -> str | None:
    """A text of each part: a class's first character, a branch's first alternative, a
    repeat's least count (at least one when `some` and the repeat allows it; `more` adds
    to the count of a repeat, by the id of its parse node); None for what it cannot
    write."""
    sre = _SRE
    repeats = _repeats()
    out: list[str] = []
    for op, av in parsed:
        piece: str | None
        if op is sre.LITERAL:
            piece = chr(av)
        elif op is sre.NOT_LITERAL:
            piece = "a" if av != ord("a") else "b"
        elif op is sre.ANY:
            piece = "a"
        elif op is sre.IN:
            piece = _char_in(av)
        elif op is sre.CATEGORY:
            piece = _category(str(av))
        elif op in repeats:
            low, high, sub = av
            one = _text(sub, groups, some, more, limit)
            count = low if low or not some else min(1, high)
            count = min(high, count + (more or {}).get(id(av), 0))
            too_long = one is None or count * len(one) > limit
            piece = None if too_long else one * count
        elif op is sre.BRANCH:
            piece = _text(av[1][0], groups, some, more, limit)
        elif op is sre.SUBPATTERN:
            group, sub = av[0], av[-1]
            piece = _text(sub, groups, some, more, limit)
            if piece is not None and group is not None:
                groups[group] = piece
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            piece = _text(av, groups, some, more, limit)
        elif op is sre.GROUPREF:
            piece = groups.get(av)
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            piece = ""  # anchors and lookarounds write nothing (checked at the end)
        else:
            piece = None
        if piece is None:
            return None
        out.append(piece)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def finds(pattern: str, text: str) -> bool:
    """Does `pattern` find `text` (False for a pattern Python cannot read, or one that
    may not be run: `risky`)?"""
    if risky(pattern):
        return False
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like
            warnings.simplefilter("ignore")
            return re.search(pattern, text) is not None
    except (re.error, RecursionError, OverflowError, ValueError):
        return False


def _read(pattern: str) -> tuple[re.Pattern[str], Any] | None:
    """`pattern` compiled, and parsed as the writer walks it; None when Python cannot read
    it (or the parser is not there), and for a pattern that may not be run (`risky`)."""
    if _SRE is None or risky(pattern):
        return None
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like
            warnings.simplefilter("ignore")
            return re.compile(pattern), _SRE.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def sample(pattern: str) -> str | None:
    """A short text `pattern` finds (JSON Schema's `pattern` is searched, not anchored),
    or None when it cannot tell one (a feature it does not write, an expression Python
    does not read)."""
    read = _read(pattern)
    if read is None:
        return None
    compiled, parsed = read
    for some in (True, False):  # rather "a" than "" for `[a-z]*`, when it matches
        try:
            text = _text(parsed, {}, some)
        except (RecursionError, ValueError, OverflowError):
            return None
        if text is not None and len(text) <= MAX_TEXT and compiled.search(text):
            return text
    return None


def _repeat_nodes(parsed: Any) -> list[Any]:
    """The repeats of a parsed expression, outermost first, in the order they write."""
    sre = _SRE
    found: list[Any] = []
    for op, av in parsed:
        if op in _repeats():
            found.append(av)
            found += _repeat_nodes(av[2])
        elif op is sre.BRANCH:
            found += _repeat_nodes(av[1][0])  # only the alternative _text writes
        elif op is sre.SUBPATTERN:
            found += _repeat_nodes(av[-1])
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            found += _repeat_nodes(av)
    return found


@functools.lru_cache(maxsize=4096)
def stretched(pattern: str, min_length: int, max_length: int | None) -> str | None:
    """A text `pattern` finds of `min_length` to `max_length` characters, written as
    `sample` writes one but with one of its repeats taken more often; None when no single
    repeat gets there. Padding a sample with `x` (what a length limit otherwise gets)
    leaves `^[0-9]*$` or a base64 pattern unmatched: their repeats must grow instead."""
    read = _read(pattern)
    if read is None:
        return None
    compiled, parsed = read
    limit = max(MAX_TEXT, min_length)

    def fits(text: str | None) -> bool:
        if text is None or len(text) < min_length:
            return False
        return (max_length is None or len(text) <= max_length) and bool(
            compiled.search(text)
        )

    try:
        for some in (True, False):
            text = _text(parsed, {}, some, None, limit)
            if text is None:
                continue
            if fits(text):
                return text
            for node in _repeat_nodes(parsed):
                # how much one more round adds, then as many rounds as the length needs
                once = _text(parsed, {}, some, {id(node): 1}, limit)
                step = 0 if once is None else len(once) - len(text)
                if step <= 0:
                    continue
                rounds = -(-(min_length - len(text)) // step)
                grown = _text(parsed, {}, some, {id(node): rounds}, limit)
                if fits(grown):
                    return grown
    except (RecursionError, ValueError, OverflowError):
        return None
    return None
