"""Spec text -> Markdown for REFERENCE.md: table cells, inline code and one-line prose.

Plain functions rather than template macros: the reference of a huge API calls them some
hundred thousand times, and a Jinja macro call costs several times a function call.
"""

from __future__ import annotations

from typing import Any

from .text import comment


def cell(text: Any) -> str:
    """Text on one line, safe in a table cell (a `|` would start a new cell)."""
    return comment(str(text)).replace("|", "\\|")


def code(text: Any) -> str:
    """Inline code (`-` for nothing); a backtick inside would end it, so it becomes `'`."""
    if not text:
        return "-"
    return "`" + str(text).replace("|", "\\|").replace("`", "'") + "`"


def prose(text: Any) -> str:
    """Text with its line breaks and runs of spaces made single spaces."""
    return " ".join(str(text).split())


def yes(flag: Any) -> str:
    return "yes" if flag else "no"
