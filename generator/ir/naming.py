"""Deterministic Python names from spec names.

Rules (documented in README "Naming"):
- methods, fields and arguments are snake_case; models and clients are PascalCase;
- a name that is a Python keyword or builtin, or that starts with a digit, gets a trailing
  underscore (`from` -> `from_`, `type` -> `type_`) or a leading letter (`2fa` -> `n2fa`);
- collisions inside one namespace are resolved by `dedupe`: names are taken in a stable order
  (the order the caller passes, always sorted by wire name), the first keeps its name, the
  next ones get `_2`, `_3`... (PascalCase: `2`, `3`).
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import keyword
import re
import unicodedata
from collections.abc import Iterable

_RESERVED = (
    frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
)
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def words(text: str) -> list[str]:
    """Split any identifier-ish text (camelCase, snake_case, spaces, punctuation) into words.
    Accented letters count as their base letter (`Schémas` -> `Schemas`), not as breaks.
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    out: list[str] = []
    for chunk in _SEPARATORS.split(text):
        out.extend(_WORD.findall(chunk))  # the pattern has no groups: whole matches
    return out


@functools.cache  # the same texts are named again and again
def snake(text: str) -> str:
    name = "_".join(w.lower() for w in words(text)) or "value"
    if name[0].isdigit():
        name = "n" + name
    if name in _RESERVED or name.startswith("__"):
        name += "_"
    return name


@functools.cache
def pascal(text: str) -> str:
    name = "".join(w[:1].upper() + w[1:] for w in words(text)) or "Model"
    if name[0].isdigit():
        name = "N" + name
    if name in _RESERVED:
        name += "_"
    return name


# A module name is a file name too: a long inline model's name (an operation and a chain of
# property names) would pass the file system's 255-byte limit.
MODULE_NAME_LIMIT = 64


def bounded(name: str, limit: int = MODULE_NAME_LIMIT) -> str:
    """`name` if it is at most `limit` characters, else its start and a digest of the whole
    (so two long names that share a start stay apart)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name[: limit - 9].rstrip("_") + "_" + digest


def dedupe(
    names: Iterable[str], reserved: Iterable[str] = (), sep: str = "_"
) -> list[str]:
    """Make names unique in order; later duplicates (and reserved names) get a numeric suffix."""
    taken = set(reserved)
    out: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}{sep}{n}"
        taken.add(candidate)
        out.append(candidate)
    return out
