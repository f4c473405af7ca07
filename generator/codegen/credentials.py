"""A client's credentials as code: the expressions its constructor writes to turn the
credential arguments into the headers and query parameters sent with every call.

A client sends every scheme of its surface (`Surface.all_auth`): usually one, sometimes an
API key with its secret, or a token with an application id, all at once.
"""

from __future__ import annotations

from .. import ir
from .text import py_literal


def auth_headers(surface: ir.Surface) -> str:
    """The headers the credentials make, as an expression (`{}` when there are none).
    Keys that go in a cookie share one Cookie header."""
    parts: list[str] = []
    cookies: list[str] = []
    for a in surface.all_auth:
        names = [c.name for c in a.credentials]
        if a.scheme == "basic":
            parts.append(f"_auth.basic({', '.join(names[:2])})")
        elif a.scheme == "bearer":
            parts.append(f"_auth.bearer({names[0]})")
        elif a.scheme == "apikey" and a.location == "header":
            parts.append(
                f"_auth.api_key_header({py_literal(a.header_name)}, {names[0]})"
            )
        elif a.scheme == "apikey" and a.location == "cookie":
            cookies.append(f"{py_literal(a.header_name + '=')} + {names[0]}")
    if cookies:
        value = ' + "; " + '.join(cookies)
        parts.append(f'_auth.api_key_header("Cookie", {value})')
    if not parts:
        return "{}"
    if len(parts) == 1:
        return parts[0]
    return "{" + ", ".join(f"**{p}" for p in parts) + "}"


def query_keys(surface: ir.Surface) -> list[tuple[str, str]]:
    """(query parameter, credential argument) for each key sent in the query."""
    return [
        (a.header_name, a.credentials[0].name)
        for a in surface.all_auth
        if a.scheme == "apikey" and a.location == "query" and a.credentials
    ]


def bare_keys(surface: ir.Surface) -> list[str]:
    """The credential arguments sent as they are, in the query or inside a cookie (what
    the client redacts in that form too, besides its headers' values)."""
    return [
        a.credentials[0].name
        for a in surface.all_auth
        if a.scheme == "apikey" and a.location in ("query", "cookie") and a.credentials
    ]
