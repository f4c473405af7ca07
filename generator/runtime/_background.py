"""Background clients: typed messages in, batches out.

A generated `Background<Surface>Client` builds each message from keyword arguments (through
the item's model, so it is checked and converted like any call), fills in what the API's
libraries fill in (the message id, the time it happened, the client's library) and hands it
to a `_delivery.Delivery`, which batches and sends it from background threads. Which fields
those are, and the batch operation itself, come from the generated subclass.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._delivery import (
    BatchEndpoint,
    Delivery,
    DeliveryStats,
    iso_timestamp,
    new_message_id,
)
from ._errors import Error
from ._version import PACKAGE, VERSION

if TYPE_CHECKING:
    from typing_extensions import Self


class IncompleteMessageError(Error, ValueError):
    """A message lacks what its kind needs (one of userId or anonymousId, say); refused when
    it is enqueued, before anything is queued. Names fields, never values."""

    def __init__(self, kind: str, alternatives: tuple[tuple[str, ...], ...]) -> None:
        wanted = " or ".join(" and ".join(names) for names in alternatives)
        super().__init__(f"a {kind!r} message needs {wanted}")
        self.kind = kind
        self.alternatives = alternatives


def require_one_of(
    message: Mapping[str, Any], kind: str, alternatives: tuple[tuple[str, ...], ...]
) -> None:
    """Raise IncompleteMessageError unless every field of one alternative has a value."""
    for names in alternatives:
        if all(message.get(name) not in (None, "") for name in names):
            return
    raise IncompleteMessageError(kind, alternatives)


@dataclass(frozen=True)
class MessageFields:
    """The fields a background client fills in each message (wire names, "" for none)."""

    message_id: str = ""  # a new id when missing (kept across every retry)
    timestamp: str = ""  # the enqueue time when missing
    timestamp_format: str = (
        "date-time"  # "date-time" (ISO-8601) or "unix-time" (seconds)
    )
    library: str = (
        ""  # dotted path of {"name", "version"} of this package, when missing
    )


class BackgroundClient:
    """The shared part of the generated background clients (thread-safe).

    `enqueue` takes a message as a model or a mapping (never changed: it is copied) and
    returns its message id ("" when the API has none). `flush()` waits for everything
    enqueued so far and says whether it was all delivered; `close()` (or leaving a `with`
    block) also stops the workers. At interpreter exit the queue is delivered within the
    exit timeout, and what is left then is reported, never dropped silently.
    """

    def __init__(
        self,
        endpoint: BatchEndpoint,
        headers: Mapping[str, str],
        fields: MessageFields,
        **options: Any,
    ) -> None:
        self._fields = fields
        self._library = {"name": PACKAGE, "version": VERSION}
        self._delivery = Delivery(endpoint, headers, **options)

    def enqueue(self, message: Mapping[str, Any] | Any) -> str:
        """Queue one message (a model or a JSON-ready mapping) as it is, with the fields
        above filled in where it leaves them out."""
        to_dict = getattr(message, "to_dict", None)
        data = dict(to_dict() if callable(to_dict) else message)
        return self._put(data)

    def _put(self, data: dict[str, Any]) -> str:
        """Fill in and queue a message this client made (or copied): `data` is its own."""
        fields = self._fields
        if fields.timestamp and data.get(fields.timestamp) is None:
            data[fields.timestamp] = (
                int(time.time())
                if fields.timestamp_format == "unix-time"
                else iso_timestamp()
            )
        if fields.library:
            _fill_path(data, fields.library.split("."), self._library)
        message_id = ""
        if fields.message_id:
            message_id = data.get(fields.message_id) or new_message_id()
            data[fields.message_id] = message_id
        self._delivery.enqueue(data)
        return str(message_id)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything enqueued so far is settled; True when all was delivered."""
        return self._delivery.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver what is queued (within `timeout`) and stop; True when all was delivered."""
        return self._delivery.close(timeout)

    @property
    def stats(self) -> DeliveryStats:
        """Counts of messages: queued, sent, retried, failed, dropped, pending."""
        return self._delivery.stats

    @property
    def endpoint(self) -> BatchEndpoint:
        return self._delivery.endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._delivery.endpoint.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _fill_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set `value` at the dotted `path` unless something is there; the objects on the way
    are copied (they may be the caller's)."""
    node = data
    for part in path[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, Mapping) else {}
        node[part] = child
        node = child
    if node.get(path[-1]) is None:
        node[path[-1]] = dict(value) if isinstance(value, Mapping) else value
