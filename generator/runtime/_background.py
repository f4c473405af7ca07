"""Background clients: typed messages in, batches out.

A generated `Background<Surface>Client` takes each message as keyword arguments (a typed
method per kind), a model or a mapping (`enqueue`), and makes all three the same way: to
JSON data (datetimes in UTC, `format: unix-time` fields in whole seconds), held to what its
kind requires (`MessageKind`: the kind itself, required fields, identity, a semantic
event's schema), with what the API's libraries fill in (the message id, the time it
happened, the client's library) added. Then it goes to a `_delivery.Delivery`, which batches
and sends it from background threads. The kinds, the fields to fill and the batch
operation itself come from the generated subclass.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
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
from ._errors import IncompleteMessageError
from ._serde import to_json, with_unix_times
from ._version import PACKAGE, VERSION

if TYPE_CHECKING:
    from typing_extensions import Self


def require_one_of(
    message: Mapping[str, Any], kind: str, alternatives: tuple[tuple[str, ...], ...]
) -> None:
    """Raise IncompleteMessageError unless every field of one alternative has a value."""
    if not _has_one_of(message, alternatives):
        raise IncompleteMessageError(kind, alternatives)


def _has_one_of(
    message: Mapping[str, Any], alternatives: tuple[tuple[str, ...], ...]
) -> bool:
    return any(
        all(message.get(name) not in (None, "") for name in names)
        for names in alternatives
    )


@dataclass(frozen=True)
class MessageKind:
    """One kind of message a background client queues, as its batch item schema states it.

    A message is of this kind when it holds every (field, value) pair of `match`; it must
    then hold a value at every key path of `required` (a path into a nested object only
    where that object is present), every field of one of the `one_of` field sets (unless it
    names a semantic event: that event's own identity rule applies instead), and for each
    (path, field sets) of `nested`, one of those sets in the object at path, where present.
    A datetime at a `unix_time` key path is sent as whole seconds.
    """

    name: str  # for messages: the method that queues one ("track", "person_event")
    match: tuple[tuple[str, str], ...]
    required: tuple[tuple[str, ...], ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    nested: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = ()
    unix_time: tuple[tuple[str | None, ...], ...] = ()

    def check(self, message: Mapping[str, Any], semantic: bool = False) -> None:
        """Raise IncompleteMessageError when `message` (JSON data) lacks what this kind
        needs; `semantic`: it names a semantic event, already checked against its schema
        (identity included)."""
        for path in self.required:
            node = _at(self, message, path[:-1])
            if node is not None and node.get(path[-1]) is None:
                raise IncompleteMessageError(self.name, ((".".join(path),),))
        if self.one_of and not semantic:
            require_one_of(message, self.name, self.one_of)
        for path, alternatives in self.nested:
            node = _at(self, message, path)
            if node is not None and not _has_one_of(node, alternatives):
                where = ".".join(path)
                raise IncompleteMessageError(
                    self.name,
                    tuple(
                        tuple(f"{where}.{n}" for n in names) for names in alternatives
                    ),
                )


def _at(
    kind: MessageKind, message: Mapping[str, Any], path: tuple[str, ...]
) -> Mapping[str, Any] | None:
    """The object at key `path` of a message; None where it (or one above it) is absent.
    Something else than an object there is refused: the API could not read it either."""
    node: Any = message
    for depth, key in enumerate(path, 1):
        node = node.get(key)
        if node is None:
            return None
        if not isinstance(node, Mapping):
            where = ".".join(path[:depth])
            raise IncompleteMessageError(kind.name, ((f"{where} (an object)",),))
    return node  # type: ignore[no-any-return]


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
    returns its message id ("" when the API has none). Every message, whichever way it
    came, is held to the rules of its kind (`MessageKind`) and, where the API has semantic
    events, to its event's schema before anything is queued: IncompleteMessageError or
    SemanticEventError (ValueErrors both) go to the caller, and nothing is queued.
    `flush()` waits for everything enqueued so far and says whether it was all delivered;
    `close()` (or leaving a `with` block) also stops the workers. At interpreter exit the
    queue is delivered within the exit timeout, and what is left then is reported (with a
    spool, kept in it for the next run), never dropped silently.

    With `on_full="drop"`, a message a full queue refuses is handed to `on_error` (with
    its message id in it) before the call returns, and the call still returns that id:
    the id returned is no receipt of delivery, the one `on_error` receives tells which
    message was lost. `on_error` runs on a worker thread for messages given up on after
    sending: `flush()` or `close()` called there raise RuntimeError at once (they would
    wait for that very thread), and an enqueue there never waits for room in a full queue.
    """

    def __init__(
        self,
        endpoint: BatchEndpoint,
        headers: Mapping[str, str],
        fields: MessageFields,
        *,
        kinds: tuple[MessageKind, ...] = (),
        validate_event: Callable[[Mapping[str, Any]], object] | None = None,
        **options: Any,
    ) -> None:
        self._fields = fields
        self._library = {"name": PACKAGE, "version": VERSION}
        # The kinds by the value of the field that tells them apart (every kind's first
        # `match` pair names the same field); none: messages are queued unchecked.
        self._kind_field = kinds[0].match[0][0] if kinds else ""
        self._kinds: dict[str, list[MessageKind]] = {}
        for kind in kinds:
            self._kinds.setdefault(kind.match[0][1], []).append(kind)
        # Returns a semantic event's spec (None for any other message) after checking it.
        self._validate_event = validate_event
        self._delivery = Delivery(endpoint, headers, **options)

    def enqueue(self, message: Mapping[str, Any] | Any) -> str:
        """Queue one message (a model or a mapping) with the fields above filled in where
        it leaves them out, and return its message id.

        A mapping is sent as it is but for its values' form: models, enums and datetimes
        become JSON (a naive datetime is local time, sent in UTC), a datetime in a
        `format: unix-time` field whole seconds. It must name its kind (a `MessageKind`
        `match`) and hold what that kind needs, as the typed methods do: else
        IncompleteMessageError; a semantic event that breaks its schema raises
        SemanticEventError. Nothing is queued then.
        """
        to_dict = getattr(message, "to_dict", None)
        if callable(to_dict):
            data = to_dict()  # JSON data already, in a dict of its own
            kind = self._kind_of(data)
        elif isinstance(message, Mapping):
            kind = self._kind_of(message)
            data = self._json(message, kind)
        else:
            raise TypeError(
                f"enqueue takes a model or a mapping, not a {type(message).__name__}"
            )
        return self._put(data, kind)

    def _queue(self, fields: dict[str, Any], kind: MessageKind) -> str:
        """Queue a message a typed method made of its arguments (wire names to values)."""
        return self._put(self._json(fields, kind), kind)

    @staticmethod
    def _json(message: Mapping[str, Any], kind: MessageKind | None) -> dict[str, Any]:
        if kind is not None and kind.unix_time:
            message = with_unix_times(message, kind.unix_time)
        data: dict[str, Any] = to_json(message)  # a copy: the caller's stays as it is
        return data

    def _kind_of(self, message: Mapping[str, Any]) -> MessageKind | None:
        """The kind a message names; IncompleteMessageError when it names none."""
        if not self._kinds:
            return None
        field = self._kind_field
        value = _plain(message.get(field))
        candidates = self._kinds.get(value, []) if isinstance(value, str) else []
        for kind in candidates:
            if all(_plain(message.get(f)) == v for f, v in kind.match[1:]):
                return kind
        if not candidates:
            raise IncompleteMessageError("", ((field,),), tuple(sorted(self._kinds)))
        # the kind's value is known, the inner one (Track v2's `action`) is not
        inner = candidates[0].match[1][0]
        choices = tuple(sorted(k.match[1][1] for k in candidates if len(k.match) > 1))
        value = candidates[0].match[0][1]
        raise IncompleteMessageError(value, ((inner,),), choices)

    def _put(self, data: dict[str, Any], kind: MessageKind | None = None) -> str:
        """Check, fill in and queue a message in JSON form: `data` is this client's own."""
        if kind is None:
            kind = self._kind_of(data)
        semantic = (
            self._validate_event(data) is not None
            if self._validate_event is not None
            else False
        )
        if kind is not None:
            kind.check(data, semantic)
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
        """Wait until everything enqueued so far is settled; True when all was delivered.

        Raises RuntimeError at once on one of this client's worker threads (in `on_error`):
        it would wait for itself."""
        return self._delivery.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver what is queued (within `timeout`) and stop; True when all was delivered.

        Raises RuntimeError at once on one of this client's worker threads, as `flush`.
        """
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


def _plain(value: Any) -> Any:
    """A kind's value as the message gives it: an enum member's value is that value."""
    return value.value if isinstance(value, enum.Enum) else value


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
