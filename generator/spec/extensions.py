"""Every `x-ciogen-*` extension the generator reads, and only here (docs/conventions.md).

Each reader takes the node the extension stands on and returns plain values, or raises a
`SpecError` naming the file and the extension's own pointer. All of them are optional: a
spec without any of them still generates (names, regions and credentials then come from
plain OpenAPI).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError, escape

PREFIX = "x-ciogen-"
SURFACE = PREFIX + "surface"  # root, path item or operation: the client it belongs to
REGION = PREFIX + "region"  # server: the region it serves
CREDENTIALS = PREFIX + "credentials"  # security scheme: the client's argument names
LIMITS = PREFIX + "limits"  # root or operation: size and rate limits
MESSAGE_ID = (
    PREFIX + "message-id"
)  # root: the body field of a client-generated message id
CLIENT_FLAG = PREFIX + "client-flag"  # header parameter: a client option that sends it
EVENT_FAMILY = PREFIX + "event-family"  # schema: a semantic event's family
PROPERTIES_SOURCE = (
    PREFIX + "properties-source"
)  # schema: where its properties came from
PAGINATION = PREFIX + "pagination"  # operation: how its responses page
DELIVERY = PREFIX + "delivery"  # root: fields a background client fills in each message
# operation: the success answer that lists the batch items the API refused
PARTIAL_FAILURE = PREFIX + "partial-failure"


@dataclass(frozen=True)
class LimitValues:
    """`x-ciogen-limits` as read: each value None when the extension does not state it."""

    max_request_bytes: int | None = None
    max_item_bytes: int | None = None
    items_field: str | None = None
    rate_requests: int | None = None
    rate_per_seconds: float | None = None
    where: str = ""  # the extension's pointer, "" when absent


@dataclass(frozen=True)
class PaginationValues:
    """`x-ciogen-pagination`: the cursor parameter, the page-size parameter, the response
    field with the next cursor and the response array with the page's items."""

    cursor: str
    limit: str
    next: str
    items: str


def _name(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _table(
    node: Mapping[str, Any], key: str, file: str, where: str
) -> tuple[dict[str, Any], str] | None:
    """The object-valued extension `key` of the node at pointer `where`, with its own
    pointer; None when the node has none."""
    raw = node.get(key)
    if raw is None:
        return None
    at = f"{where}/{escape(key)}"
    if not isinstance(raw, dict):
        raise SpecError(file, at, f"{key} must be an object")
    return raw, at


def surface(node: Mapping[str, Any]) -> str:
    """The surface a root document, path item or operation names ("" when it names none)."""
    return _name(node.get(SURFACE))


def region(server: Mapping[str, Any]) -> str:
    return _name(server.get(REGION))


def credentials(scheme: Mapping[str, Any]) -> list[str]:
    """The credential argument names a security scheme asks for ([] for the defaults)."""
    names = scheme.get(CREDENTIALS)
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return list(names)
    return []


def message_id(root: Mapping[str, Any]) -> str:
    return _name(root.get(MESSAGE_ID))


def client_flag(parameter: Mapping[str, Any]) -> str:
    return _name(parameter.get(CLIENT_FLAG))


def event_family(schema_extensions: Mapping[str, Any]) -> str:
    return _name(schema_extensions.get(EVENT_FAMILY))


def properties_from_reference(schema_extensions: Mapping[str, Any]) -> bool:
    return schema_extensions.get(PROPERTIES_SOURCE) == "reference"


def limits(node: Mapping[str, Any], file: str, where: str) -> LimitValues:
    """The `x-ciogen-limits` of a root document or an operation found at pointer `where`."""
    found = _table(node, LIMITS, file, where)
    if found is None:
        return LimitValues()
    raw, at = found
    rate = raw.get("rate_limit") or {}
    if not isinstance(rate, dict):
        raise SpecError(file, at + "/rate_limit", "must be an object")

    def number(table: dict[str, Any], key: str, ptr: str) -> Any:
        value = table.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
        ):
            raise SpecError(file, f"{ptr}/{key}", "must be a positive number")
        return value

    return LimitValues(
        max_request_bytes=number(raw, "max_request_bytes", at),
        max_item_bytes=number(raw, "max_item_bytes", at),
        items_field=_name(raw.get("items_field")) or None,
        rate_requests=number(rate, "requests", at + "/rate_limit"),
        rate_per_seconds=number(rate, "per_seconds", at + "/rate_limit"),
        where=at,
    )


def pagination(
    operation: Mapping[str, Any], file: str, where: str
) -> PaginationValues | None:
    """The `x-ciogen-pagination` of an operation at pointer `where`, or None."""
    found = _table(operation, PAGINATION, file, where)
    if found is None:
        return None
    raw, at = found
    for key in ("cursor", "next", "items"):
        if not _name(raw.get(key)):
            raise SpecError(file, f"{at}/{key}", "must be a name")
    return PaginationValues(
        cursor=raw["cursor"],
        limit=_name(raw.get("limit")),
        next=raw["next"],
        items=raw["items"],
    )


@dataclass(frozen=True)
class PartialFailureValues:
    """`x-ciogen-partial-failure`: the status of the answer that accepts a batch but for
    some items, the answer's array listing those, and each entry's field holding the
    item's 0-based position in the request's array."""

    status: int
    errors: str
    index: str


def partial_failure(
    operation: Mapping[str, Any], file: str, where: str
) -> PartialFailureValues | None:
    """The `x-ciogen-partial-failure` of an operation at pointer `where`, or None."""
    found = _table(operation, PARTIAL_FAILURE, file, where)
    if found is None:
        return None
    raw, at = found
    status = raw.get("status")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if (
        isinstance(status, bool)
        or not isinstance(status, int)
        or not 200 < status < 300
    ):
        raise SpecError(file, f"{at}/status", "must be a success status other than 200")
    for key in ("errors", "index"):
        if not _name(raw.get(key)):
            raise SpecError(file, f"{at}/{key}", "must be a field name")
    return PartialFailureValues(status=status, errors=raw["errors"], index=raw["index"])


@dataclass(frozen=True)
class DeliveryValues:
    """`x-ciogen-delivery`: the message fields a background client fills in (wire names;
    "" for none). `library` is a dotted path (`context.library`)."""

    timestamp: str = ""  # when the message happened: the enqueue time, when missing
    sent_at: str = ""  # when it was sent: stamped at each send
    library: str = ""  # {name, version} of the client, when missing


def delivery(root: Mapping[str, Any], file: str) -> DeliveryValues:
    """The `x-ciogen-delivery` of a root document (all empty when it has none)."""
    found = _table(root, DELIVERY, file, "")
    if found is None:
        return DeliveryValues()
    raw, at = found
    for key in ("timestamp", "sent-at", "library"):
        if key in raw and not _name(raw[key]):
            raise SpecError(file, f"{at}/{key}", "must be a field name")
    return DeliveryValues(
        timestamp=_name(raw.get("timestamp")),
        sent_at=_name(raw.get("sent-at")),
        library=_name(raw.get("library")),
    )


def of_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    """The `x-ciogen-*` keys of a schema node (the IR keeps them for the readers above)."""
    return {k: v for k, v in node.items() if k.startswith(PREFIX)}
