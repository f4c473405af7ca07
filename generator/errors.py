"""Errors and findings the generator reports: always a file and a JSON pointer, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path segments."""
    out = ""
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out or ""


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
