"""What every stage reports: findings and errors that name a file and a JSON pointer.

A `SpecError` stops the run (exit 2, one line, nothing written); a `Finding` is a warning
collected while the run goes on (`--strict` turns the first one into an error).
"""

from __future__ import annotations

from dataclasses import dataclass


def escape(part: object) -> str:
    """One JSON-pointer segment (RFC 6901): `~` and `/` escaped."""
    text = str(part)
    if "~" not in text and "/" not in text:  # most segments: nothing to escape
        return text
    return text.replace("~", "~0").replace("/", "~1")


def pointer(*parts: object) -> str:
    """A JSON pointer from path segments (`pointer("paths", "/v1/x")` is `/paths/~1v1~1x`)."""
    return "".join("/" + escape(part) for part in parts)


@dataclass(frozen=True)
class Finding:
    """A problem found in an input document: where it is and what it is."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.message}"


class SpecError(Exception):
    """Bad input that would change the generated code: the run stops with exit 2."""

    def __init__(self, file: str, pointer: str, message: str) -> None:
        self.finding = Finding(file, pointer, message)
        super().__init__(str(self.finding))


class UsageError(Exception):
    """A wrong argument or configuration: exit 2 with a one-line message."""


class RenderError(Exception):
    """Generated code that does not parse: a template bug, reported as one line (exit 2)."""
