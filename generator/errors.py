"""What every stage reports: findings and errors that name a file and a JSON pointer.

A `SpecError` stops the run (exit 2, one line, nothing written); a `Finding` is a warning
collected while the run goes on (`--strict` turns the first one into an error).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Characters that would break a message over lines or hide part of it (C0 and C1 controls,
# line and paragraph separators): a spec's key can hold any of them.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(part: object) -> str:
    """One JSON-pointer segment (RFC 6901): `~` and `/` escaped."""
    text = str(part)
    if "~" not in text and "/" not in text:  # most segments: nothing to escape
        return text
    return text.replace("~", "~0").replace("/", "~1")


def pointer(*parts: object) -> str:
    """A JSON pointer from path segments (`pointer("paths", "/v1/x")` is `/paths/~1v1~1x`)."""
    return "".join("/" + escape(part) for part in parts)


def one_line(text: str) -> str:
    """`text` with its control characters written as escapes (`\\n`, `\\x1b`)."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def shown(value: Any, limit: int = 60) -> str:
    """A spec value as a message quotes it, cut short: a string as its repr, anything else
    spelled as the spec's author wrote it (`null`, `true`, `["a", 1]`, not Python's)."""
    text = repr(value)
    if not isinstance(value, str):
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):  # not JSON: a YAML date, say
            pass
    return text if len(text) <= limit else text[: limit - 3] + "..."


def respelled(message: str, instance: Any) -> str:
    """A JSON Schema validator's message, which starts with the Python repr of the value it
    is about, with that value `shown` instead: spelled as the spec's author wrote it and cut
    short (a failing example can be megabytes)."""
    quoted = repr(instance)
    if message.startswith(quoted):
        return shown(instance) + message[len(quoted) :]
    return message


def json_kind(value: Any) -> str:
    """What a parsed JSON/YAML value is, in the spec's terms (`an array`, `null`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True)
class Finding:
    """A problem found in an input document: where it is and what it is."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        # one line whatever the names in it hold: a message is read line by line
        return one_line(f"{self.file}#{self.pointer}: {self.message}")


class SpecError(Exception):
    """Bad input that would change the generated code: the run stops with exit 2."""

    def __init__(self, file: str, pointer: str, message: str) -> None:
        self.finding = Finding(file, pointer, message)
        super().__init__(str(self.finding))


class UsageError(Exception):
    """A wrong argument or configuration: exit 2 with a one-line message."""


class RenderError(Exception):
    """Generated code that does not parse: a template bug, reported as one line (exit 2)."""
