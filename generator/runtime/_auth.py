"""Credentials -> request headers, and the base URL a region selects."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from ._errors import InvalidCredentialError, MissingCredentialError


def require(client: str, **credentials: str | None) -> None:
    """Fail at construction, naming the argument, never its value."""
    for name, value in credentials.items():
        if not isinstance(value, str) or not value.strip():
            raise MissingCredentialError(name, f"{client} needs it")
        problem = credential_problem(value)
        if problem:
            raise InvalidCredentialError(name, f"{problem} ({client})")


def credential_problem(value: str) -> str:
    """Why `value` cannot be sent as a credential ("" when it can). Checked up front: the
    HTTP layer would otherwise refuse it on the first call with the value in its message,
    or send it mangled and get a 401."""
    if value != value.strip():
        return "has whitespace at an end (a trailing newline from a file?)"
    if not value.isascii():
        return "has a character outside ASCII"
    if not value.isprintable():
        return "has a control character"
    return ""


def basic(username: str, password: str = "") -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_key_header(header: str, key: str) -> dict[str, str]:
    return {header: key}


def base_url_for(
    client: str, regions: Mapping[str, str], region: str, base_url: str | None
) -> str:
    if base_url:
        return base_url.rstrip("/")
    if region not in regions:
        # `region="EU"` means "eu": any case names a region, when it names only one
        same = [
            r
            for r in regions
            if isinstance(region, str) and r.lower() == region.lower()
        ]
        if len(same) != 1:
            choices = ", ".join(repr(r) for r in regions)
            raise ValueError(
                f"{client}: unknown region {region!r} (choose from {choices})"
            )
        region = same[0]
    url = regions[region]
    if "://" not in url:
        raise ValueError(
            f"{client}: the spec gives no absolute server URL; pass base_url="
        )
    return url
