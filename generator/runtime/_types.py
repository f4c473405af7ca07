"""Small shared types: the ``UNSET`` sentinel, the ``Timeout`` pair and response ``Headers``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal, TypeVar, overload

# Parsed JSON as the standard library's json module returns it.
JSON = Any

_T = TypeVar("_T")


class Unset(Enum):
    """Type of ``UNSET``: an argument the caller did not pass.

    ``None`` is a value some APIs accept (it clears a field), so "not given" needs its own
    marker. An enum of one member, so that type checkers narrow ``x is not UNSET`` as they
    narrow ``isinstance(x, Unset)`` (and copies and pickles stay the one member).
    """

    UNSET = "UNSET"

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __str__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed to open a connection (`connect`), to wait for each read once
    connected (`read`), and for the whole of one attempt once connected (`total`:
    sending the request and reading all of the answer; None, the default, allows `read`
    seconds).

    `read` alone cannot end an answer that trickles in: each byte starts its wait anew,
    so a server sending one a second would hold the call for as long as it liked. Raise
    `total` for an answer that is slow to arrive on purpose (a large download over a slow
    link).
    """

    connect: float
    read: float
    total: float | None = None

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0 or self.attempt <= 0:
            raise ValueError("timeouts must be positive numbers of seconds")

    @property
    def attempt(self) -> float:
        """Seconds one attempt may take once connected (`total`, else `read`)."""
        return self.read if self.total is None else self.total

    @classmethod
    def of(cls, value: float | Timeout | None, default: Timeout) -> Timeout:
        """Normalize a user-supplied timeout.

        A plain number is the read timeout, and so the time one attempt may take once
        connected; the connect timeout stays at the default unless the number is smaller, so
        ``timeout=1`` never waits longer than a second for anything.
        """
        if value is None:
            return default
        if isinstance(value, Timeout):
            return value
        seconds = float(value)
        return cls(connect=min(default.connect, seconds), read=seconds)


DEFAULT_TIMEOUT: Final[Timeout] = Timeout(connect=5.0, read=30.0)


class Headers(dict[str, str]):
    """A response's headers: a dict whose names are lower-cased, looked up in any case
    (``headers["Retry-After"]``, ``headers.get("x-request-id")``), as HTTP names are. A name
    given several times holds its values joined by ", " (RFC 9110)."""

    def __init__(
        self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()
    ) -> None:
        super().__init__()
        pairs = items.items() if isinstance(items, Mapping) else items
        for name, value in pairs:
            key = name.lower()
            current = super().get(key)
            super().__setitem__(
                key, value if current is None else f"{current}, {value}"
            )

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(_lower(name))

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(_lower(name), value)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(_lower(name))

    def __contains__(self, name: object) -> bool:
        return super().__contains__(_lower(name))

    @overload
    def get(self, name: str, default: None = None, /) -> str | None: ...

    @overload
    def get(self, name: str, default: str, /) -> str: ...

    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: Any = None, /) -> Any:
        return super().get(_lower(name), default)


def _lower(name: object) -> Any:
    return name.lower() if isinstance(name, str) else name
