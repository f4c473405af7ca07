"""Spec text -> safe Python: literals, docstrings and comments.

Spec text is only ever inserted as data: `py_literal` writes literals through json/repr, so
no text can end a string early; `docstring` escapes what would end a docstring and wraps
prose to the line length; `comment` keeps text on one line. No description can break the
generated code or inject any.
"""

from __future__ import annotations

import functools
import json
import math
import re
import textwrap
from typing import Any

LINE_LENGTH = 88  # black's, which formats the output
_FENCE = re.compile(r"^\s*(```|~~~)")
_KEEP = re.compile(r"^\s*(\||#|>|    |\t)")  # tables, headings, quotes, indented code
_ITEM = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)")
# What may not stand raw in generated source: control characters other than a newline
# (a form feed or a tab would change how the code is read or laid out), lone surrogates
# (no file can hold them as UTF-8), the zero-width space (invisible, and ruff's
# PLE2515 in a string) and the bidirectional controls (they reorder how the line around
# them is shown: ruff's PLE2502, a name in a right-to-left script came with one). Inside
# strings they are written as escapes.
_UNSAFE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069"
    r"\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escape_in_docstring(match: re.Match[str]) -> str:
    # A lone surrogate is shown as its escape, as text: CPython cannot make a class whose
    # docstring holds one (it encodes the docstring as UTF-8).
    escaped = _escape(match)
    return "\\" + escaped if "\ud800" <= match.group() <= "\udfff" else escaped


def py_literal(value: Any) -> str:
    """A Python literal for JSON-like data, quoted the way black would quote it.

    Strings use double quotes unless that would add escapes (black's rule); escaping comes
    from json/repr, so no text can break the literal.
    """
    if isinstance(value, str):
        return _str_literal(value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float) and not math.isfinite(value):
        # YAML's .inf and .nan: repr() would give `inf`, a name no module defines
        return f'float("{value}")'
    return repr(value)


@functools.cache  # the same names and values recur in many files
def _str_literal(value: str) -> str:
    if '"' in value and "'" not in value:
        return repr(value)  # repr escapes controls and surrogates itself
    return _UNSAFE.sub(_escape, json.dumps(value, ensure_ascii=False))


def wrap(text: str, indent: int, first: int = 0) -> list[str]:
    """Prose lines wrapped to fit `LINE_LENGTH` at `indent` columns (the first line has
    `first` more columns taken). Fenced code, tables, headings, quotes and indented code
    are kept as they are; list items wrap under their own text."""
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        width = LINE_LENGTH - indent - (first if not out else 0)
        if _FENCE.match(line):
            fenced = not fenced
        if fenced or _FENCE.match(line) or _KEEP.match(line) or len(line) <= width:
            out.append(line)
            continue
        item = _ITEM.match(line)
        lead = item.group(1) if item else ""
        pieces = textwrap.wrap(
            line[len(lead) :],
            width=max(20, width - len(lead)),
            break_long_words=False,
            break_on_hyphens=False,
        )
        out.extend([lead + pieces[0]] + [" " * len(lead) + p for p in pieces[1:]])
    return out


@functools.cache  # a description is often shown in several files
def docstring(text: str, indent: int = 4, first: int = 3) -> str:
    """Text for the inside of a triple-quoted docstring: escaped, wrapped and indented.

    `indent` is the docstring's indentation; `first` the columns taken before the text on
    its first line (the opening quotes, 3).
    """
    text = (text or "").strip().replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    text = _UNSAFE.sub(_escape_in_docstring, text)
    pad = " " * indent
    lines = [line.rstrip() for line in wrap(text, indent, first)]
    out = "\n".join(
        (pad + line) if line and i else line for i, line in enumerate(lines)
    )
    # a quote right before the closing quotes would end the string early
    return out[:-1] + '\\"' if out.endswith('"') else out


def comment(text: str) -> str:
    """Spec text on one line, safe inside a `#` comment (no newline can end it)."""
    return _UNSAFE.sub(_escape, " ".join((text or "").split()))


def comment_block(text: str, indent: int = 0) -> str:
    """Spec text as `#` comment lines wrapped to fit `LINE_LENGTH` at `indent` columns (the
    template writes the first line's indentation; later lines get it here)."""
    lines = textwrap.wrap(
        comment(text),
        width=max(20, LINE_LENGTH - indent - 2),
        break_long_words=False,
        break_on_hyphens=False,
    )
    return ("\n" + " " * indent).join("# " + line for line in lines or [""])


def first_line(text: str) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
