"""Spec text -> Markdown for REFERENCE.md: table cells, inline code, one-line prose, and
blocks that keep the author's Markdown (an API's own description).

Plain functions rather than template macros: the reference of a huge API calls them some
hundred thousand times, and a Jinja macro call costs several times a function call.
"""

from __future__ import annotations

import re
from typing import Any

from .text import comment

# CommonMark: a fence is three or more backticks or tildes, indented at most three spaces;
# it ends at a line of the same character, at least as long, and nothing else.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+|$)(.*)$")


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
    return _closed_comments(" ".join(str(text).split()))


def block(text: Any) -> str:
    """Spec Markdown kept as its author wrote it (paragraphs, lists, tables, code), made
    safe to stand inside this file: its headings become bold lines (a heading would add
    an anchor that could take the place of one of this file's own, `#models` say), a
    code fence left open is closed and an HTML comment left open is shown as text
    (either would swallow the rest of the file); blank-line runs and trailing spaces
    are trimmed."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [
        line.replace("\f", " ").replace("\v", " ").rstrip() for line in text.split("\n")
    ]
    out: list[str] = []
    fence = ""
    for line in lines:
        opened = _FENCE.match(line)
        if fence:
            if opened and _closes(opened.group(1), fence, line):
                fence = ""
        elif opened:
            fence = opened.group(1)
        else:
            heading = _HEADING.match(line)
            if heading:
                title = heading.group(1).rstrip("#").strip()
                line = f"**{title}**" if title else ""
        # no blank line first, nor two in a row (but as they are inside code)
        if line or fence or (out and out[-1]):
            out.append(line)
    if fence:
        out.append(fence)
    while out and not out[-1]:
        out.pop()
    return _closed_comments("\n".join(out))


def _closes(marker: str, fence: str, line: str) -> bool:
    """Does `line` (which starts with `marker`) close a code block opened by `fence`?"""
    return (
        marker[0] == fence[0]
        and len(marker) >= len(fence)
        and not line.strip().strip(fence[0])
    )


def _closed_comments(text: str) -> str:
    """`<!--` shown as text when no `-->` follows it (it would hide the rest)."""
    start = text.rfind("<!--")
    if start >= 0 and text.find("-->", start + 4) < 0:
        return text.replace("<!--", "&lt;!--")
    return text


def yes(flag: Any) -> str:
    return "yes" if flag else "no"
