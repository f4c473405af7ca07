"""The two places where ruff's formatter (which formats the output) and black (whose style
the output is held to) lay code out differently, written black's way before formatting.

Both formatters then leave the text as it is. Found on GitHub's REST description, checked
against both formatters over every length around the limit (tests/generator/test_layout.py):

- A parameter whose own line is too long, annotated with a union: black wraps the annotation
  in parentheses, ruff splits it at the `|`s. Written with the parentheses, where black
  would add them, both keep them (and both drop them where the line fits).
- A union alias whose first line, `Name: TypeAlias = Union[`, is too long: black wraps
  `TypeAlias` in parentheses and ruff does not, whatever the input. Such an alias is written
  without the annotation (`Name = Union[`), an implicit alias, the same to type checkers.
"""

from __future__ import annotations

LINE_LENGTH = 88  # the formatters' line length (render/formatting.py)


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` where it is outside every bracket."""
    parts: list[str] = []
    depth = start = i = 0
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i = start = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def fit_parameter(param: str, indent: int) -> str:
    """`name: A | B = default` as black writes it on its own line at `indent`."""
    if len(" " * indent + param + ",") <= LINE_LENGTH:
        return param
    name, sep, rest = param.partition(": ")
    if not sep:
        return param
    annotation, *default = _split_top(rest, " = ")
    if len(_split_top(annotation, " | ")) < 2:
        return param  # a bare name: black does not wrap it either
    return f"{name}: ({annotation})" + (f" = {default[0]}" if default else "")


def fit_parameters(
    params: list[str], indent: int, head: str = "", tail: str = "", magic: bool = False
) -> list[str]:
    """The parameters of `{head}{params}{tail}` (a `def` at `indent`) as black lays them
    out: on the def's line or on one line of their own when they fit there (never with
    `magic`, a trailing comma that keeps one per line), else one per line, each fitted.
    """
    if not magic:
        joined = ", ".join(params)
        if len(" " * indent + head + joined + tail) <= LINE_LENGTH:
            return params
        # black puts a lone parameter on its own line with a trailing comma
        alone = "," if len(params) == 1 else ""
        if len(" " * (indent + 4) + joined + alone) <= LINE_LENGTH:
            return params
    return [fit_parameter(p, indent + 4) for p in params]


def alias_head(name: str) -> str:
    """The first line of a union alias (see the module docstring)."""
    head = f"{name}: TypeAlias = Union["
    return head if len(head) <= LINE_LENGTH else f"{name} = Union["
