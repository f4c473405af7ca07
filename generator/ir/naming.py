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


# The error classes a generated package exports (codegen/modules.py's export lists hold
# exactly these; a test checks). The package also exports its base class `Error` as
# `<Name>Error`, and its testing kit subclasses `FakeApi` as `Fake<Name>`: a name that makes
# either one of these would replace a real class (`--name NotFound` made NotFoundError
# the base of every error).
PACKAGE_ERRORS = frozenset(
    {
        "APIConnectionError",
        "APIError",
        "APIResponseValidationError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ConflictError",
        "Error",
        "IncompleteMessageError",
        "InternalServerError",
        "InvalidCredentialError",
        "MissingCredentialError",
        "NotFoundError",
        "PayloadTooLargeError",
        "PermissionDeniedError",
        "RateLimitError",
        "UnprocessableEntityError",
    }
)
DELIVERY_ERRORS = frozenset(
    {
        "DeliveryClosedError",
        "MessageTooLargeError",
        "QueueFullError",
        "RejectedMessageError",
        "SpoolLockedError",
        "UndeliveredError",
    }
)
TESTING_BASE = "FakeApi"


def api_name_clash(name: str) -> str:
    """What `name`, as the API's name, would make collide ("" if nothing): `<name>Error`
    must be no other error class of the package (nor a built-in exception, which
    `from package import *` would shadow) and `Fake<name>` not the testing kit's base.
    """
    error = f"{name}Error"
    if error in PACKAGE_ERRORS or error in DELIVERY_ERRORS:
        return f"{error} would replace the package's own {error} class"
    if isinstance(getattr(builtins, error, None), type):
        return f"{error} would shadow Python's built-in {error}"
    if f"Fake{name}" == TESTING_BASE:
        return f"Fake{name} would replace the testing kit's base class {TESTING_BASE}"
    return ""


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
