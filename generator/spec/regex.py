"""Which of a spec's `pattern`s the generator may run, and validators that run only those.

Python's `re` backtracks: on `^(a+)+$` a 40-character text that fails to match takes
longer than anyone waits, and nothing interrupts it. The generator runs patterns on the
spec's examples and defaults (the validators) and on the texts it writes for fixtures. A
pattern `risky` says may backtrack so is not run there; the IR says so where it stands.
It also holds the standard library's parser of patterns (`SRE`) and writes a parsed class
back as a pattern (`unparse_class`), for ir/patterns.py.
"""

from __future__ import annotations

import functools
import importlib
import re
import warnings
from collections.abc import Iterator
from typing import Any


def _parser() -> Any:
    """The standard library's regular expression parser (`re._parser` from 3.11)."""
    for name in ("re._parser", "sre_parse"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None  # pragma: no cover


SRE = _parser()

RISKY = (
    "pattern not run: it repeats a part that itself repeats or alternates, on which "
    "Python's re can take exponential time; examples and defaults are not checked "
    "against it and fixtures may not match it"
)


@functools.lru_cache(maxsize=4096)
def risky(pattern: str) -> bool:
    """Whether `pattern` repeats a part that itself repeats a varying number of times
    (`(a+)+`, `(x+x+)+y`, `(.*a){20}`, `(a{0,9}){0,9}b`) or alternates under a repeat
    without bound (`(a|aa)*`): the shapes on which a text that fails to match takes
    exponential time. A repeat whose round ends in a character its inner repeat cannot
    take (`([a-z]+\\.)+`, an e-mail address's domain) cannot backtrack that way and is
    not risky. A pattern Python cannot read is never run, so is not risky either."""
    if SRE is None:
        return False
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like
            warnings.simplefilter("ignore")
            return _nests(SRE.parse(pattern), 0)
    except (re.error, OverflowError, ValueError):
        return False
    except RecursionError:  # thousands of nested groups: not run either
        return True


# how an enclosing repeat may repeat: once at most, a bounded number of times, unbounded
_ONCE, _MANY, _UNBOUNDED = 0, 1, 2


def _nests(parsed: Any, under: int) -> bool:
    """Whether the parsed expression, under repeats that repeat as `under` says, holds a
    shape `risky` names."""
    sre = SRE
    repeats = tuple(getattr(sre, n) for n in ("MAX_REPEAT", "MIN_REPEAT"))
    items = list(parsed)
    for i, (op, av) in enumerate(items):
        inner: list[Any] = []  # the parts below this one, under the same repeats
        if op in repeats:
            low, high, sub = av
            own = _UNBOUNDED if high == sre.MAXREPEAT else _MANY if high > 1 else _ONCE
            # a count that varies, inside a repeat: one text splits into rounds in
            # many ways, and a text that fails is tried in every one of them
            varies = own > _ONCE and low < high
            if varies and under > _ONCE and not _separated(sub, items[i + 1 : i + 2]):
                return True
            if _nests(sub, max(under, own)):
                return True
        elif op is sre.BRANCH:
            if under == _UNBOUNDED and len(av[1]) > 1:
                return True
            inner = av[1]
        elif op is sre.SUBPATTERN:
            inner = [av[-1]]
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            inner = [av[1]]
        # an atomic group or a possessive repeat never backtracks into itself
        if any(_nests(part, under) for part in inner):
            return True
    return False


def _separated(body: Any, following: list[Any]) -> bool:
    """Whether a repeat of `body` is followed by a literal character `body` cannot take
    (the repeat then ends in one place only)."""
    sre = SRE
    if not following or following[0][0] is not sre.LITERAL:
        return False
    char = chr(following[0][1])
    parts = list(body)
    if len(parts) != 1:
        return False
    op, av = parts[0]
    if op is sre.LITERAL:
        return bool(av != following[0][1])
    if op is sre.NOT_LITERAL:
        return bool(av == following[0][1])
    if op is sre.IN:
        try:
            return not _class_takes(av, char)
        except (re.error, ValueError):
            return False
    return False


def _class_takes(items: Any, char: str) -> bool:
    """Does the parsed class `[...]` (`items`) take `char`? Asked of a one-character text
    (no backtracking) by compiling the class back from its parts."""
    negate = bool(items) and items[0][0] is SRE.NEGATE
    text = unparse_class(items[1:] if negate else items)
    if text is None:
        return True  # cannot tell: as if it could
    return (re.fullmatch(text, char) is not None) != negate


def unparse_class(items: list[tuple[Any, Any]]) -> str | None:
    """A parsed class `[...]`'s items (without its negation) as a pattern again; None for
    an item it cannot write back."""
    out = []
    for op, av in items:
        if op is SRE.LITERAL:
            out.append(re.escape(chr(av)))
        elif op is SRE.RANGE:
            out.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is SRE.CATEGORY:
            code = {
                "CATEGORY_DIGIT": r"\d",
                "CATEGORY_WORD": r"\w",
                "CATEGORY_SPACE": r"\s",
                "CATEGORY_NOT_DIGIT": r"\D",
                "CATEGORY_NOT_WORD": r"\W",
                "CATEGORY_NOT_SPACE": r"\S",
            }.get(str(av))
            if code is None:
                return None
            out.append(code)
        else:
            return None
    return "[" + "".join(out) + "]" if out else None


@functools.cache
def guarded(validator_cls: Any) -> Any:
    """`validator_cls` (a jsonschema validator class) with a `pattern` keyword that skips
    the patterns `risky` says may not be run."""
    from jsonschema import validators  # type: ignore[import-untyped]

    checks = validator_cls.VALIDATORS.get("pattern")
    if checks is None:
        return validator_cls

    def pattern(
        validator: Any, patrn: Any, instance: Any, schema: Any
    ) -> Iterator[Any]:
        if isinstance(patrn, str) and risky(patrn):
            return iter(())
        found: Iterator[Any] = checks(validator, patrn, instance, schema) or iter(())
        return found

    return validators.extend(validator_cls, {"pattern": pattern})
