"""The part of the testing kit that is the same for every API: a fake of a whole API.

`FakeApi` extends `_fake_server.FakeServer` (the HTTP server, recording and `fail_next`)
with what a fake of an API adds: `Router` tells which operation a request calls, each
operation is answered with its example response, chosen operations can be made to fail,
and assertion helpers look inside the messages sent (batch items included).

Everything that depends on the specs is passed in by `testing.py`: the route table, the
wire names in `ApiFacts`, and the `fixtures` functions giving each operation's example
answer. This module is a plain-text template kept black-formatted as written, so a run
neither renders nor formats it.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._encoding import encode_path_text
from ._fake_server import FakeServer, RecordedRequest, Reply, _Failure

# ---- routing: request -> operation id ------------------------------------------------------

# (operation id, method, path template, body property, its values, what every call carries
# in its query and headers): one row of the route table `testing.py` takes from the specs.
RouteRow = tuple[str, str, str, str, tuple[str, ...], tuple[tuple[str, str, str], ...]]


@dataclass(frozen=True)
class _Route:
    operation_id: str
    method: str
    pattern: re.Pattern[str]
    # A body property that tells operations sharing a path apart, and its values.
    prop: str
    values: tuple[str, ...]
    # ("query" or "header", name, value) every call carries: a query pair written in the
    # path key (`/rest?method=...`), a constant parameter (an `X-Amz-Target` header).
    fixed: tuple[tuple[str, str, str], ...]

    def carried_by(self, request: RecordedRequest) -> bool:
        for where, name, value in self.fixed:
            if where == "header":
                if request.headers.get(name) != value:
                    return False
            elif value not in request.query.get(name, ()):
                return False
        return True


def compile_path(template: str) -> re.Pattern[str]:
    """The request paths (as sent, percent-encoded) an operation's template matches."""
    parts = re.split(r"(\{[^{}]+\})", template)
    return re.compile(
        "".join(
            "[^/]+" if p.startswith("{") else re.escape(encode_path_text(p))
            for p in parts
            if p
        )
    )


class Router:
    """The operation a recorded request calls, by method, path, query, headers and body.

    `table` lists every operation, most specific first (fewer path parameters, then more
    literal text in the path, then more query pairs and headers its calls always carry,
    then bodies told apart by a property).
    Among the operations matching the method and path whose fixed query pairs and headers
    the request carries, the first whose body property holds one of its values wins, then
    the first with no such property, then the first.
    """

    def __init__(self, table: Sequence[RouteRow]) -> None:
        self._routes = tuple(
            _Route(operation_id, method, compile_path(path), prop, values, fixed)
            for operation_id, method, path, prop, values, fixed in table
        )
        self.operation_ids = frozenset(r.operation_id for r in self._routes)

    def route(self, request: RecordedRequest) -> str | None:
        """The operation id (None when no operation matches)."""
        candidates = [
            r
            for r in self._routes
            if r.method == request.method
            and r.pattern.fullmatch(request.path)
            and r.carried_by(request)
        ]
        body = request.json
        for r in candidates:
            if r.prop and isinstance(body, dict) and body.get(r.prop) in r.values:
                return r.operation_id
        for r in candidates:
            if not r.prop:
                return r.operation_id
        return candidates[0].operation_id if candidates else None


# ---- where the assertion helpers look ------------------------------------------------------


@dataclass(frozen=True)
class ApiFacts:
    """Wire names (from the specs) the assertion helpers look for in request bodies.

    An empty name or mapping means the API has no such thing (no batches, no events, ...).
    """

    # Body arrays whose items are separate messages, by operation id.
    batch_fields: Mapping[str, str]
    # The property naming a message's kind, and the kind a whole (non-batch) body has.
    kind_field: str
    body_kinds: Mapping[str, str]
    # Semantic events: the event-name property, the user id property and the properties
    # object.
    event_field: str
    user_id_field: str
    properties_field: str
    # The kind of message that identifies a person, and its traits object.
    identify_kind: str = ""
    traits_field: str = ""


def _contains(actual: Any, expected: Mapping[str, Any]) -> bool:
    """Every key of `expected` is in `actual` with an equal value (other keys are ignored)."""
    if not isinstance(actual, dict):
        return not expected
    return all(
        key in actual and actual[key] == value for key, value in expected.items()
    )


# ---- the server ----------------------------------------------------------------------------


class FakeApi(FakeServer):
    """A fake of a whole API on 127.0.0.1: answers each operation with its example response.

    `router` recognizes the operations, `facts` says where the assertion helpers look, and
    `response` / `response_status` give an operation's example body and status (a 3xx
    one, of an operation that documents only that, comes with a Location on this server);
    `media` the media type of the operations whose answer is no JSON (text or bytes, sent
    as they are). Requests that match no operation get a 404.
    """

    def __init__(
        self,
        router: Router,
        facts: ApiFacts,
        response: Callable[[str], Any],
        response_status: Callable[[str], int],
        media: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(responder=self._answer)
        self._router = router
        self._facts = facts
        self._example_response = response
        self._success_status = response_status
        self._media = dict(media or {})
        self._responses: dict[str, Reply] = {}
        self._operation_failures: dict[str, deque[_Failure]] = {}
        self._current = threading.local()

    # -- answers and failures

    def set_response(
        self,
        operation_id: str,
        body: Any,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer every later call of the operation with this body (JSON; the text or bytes
        as they are for an operation whose answer is no JSON; None: an empty body) instead
        of its example response; `status` defaults to the success status."""
        self._check(operation_id)
        code = self._success_status(operation_id) if status is None else status
        media = self._media.get(operation_id, "")
        self._responses[operation_id] = self._reply(code, body, headers, media)

    def fail(
        self,
        operation_id: str,
        status: int = 500,
        *,
        times: int = 1,
        delay: float = 0.0,
        drop: bool = False,
        headers: Mapping[str, str] | None = None,
        body: Any = b"",
    ) -> None:
        """Make the next `times` calls of the operation fail: answer `status` (with `headers`
        and `body`), after `delay` seconds, or close the connection unanswered if `drop`.

        `body` is sent as it is when bytes, else as `set_response` sends one: JSON (an
        error body such as `{"meta": {"error": "..."}}`), None for an empty body.
        """
        self._check(operation_id)
        if isinstance(body, (bytes, bytearray)):
            reply_headers, payload = dict(headers or {}), bytes(body)
        else:
            media = self._media.get(operation_id, "")
            _, reply_headers, payload = self._reply(status, body, headers, media)
        failure = _Failure(status, reply_headers, payload, delay, drop)
        with self._lock:
            queue = self._operation_failures.setdefault(operation_id, deque())
            queue.extend([failure] * times)

    def reset(self) -> None:
        """Forget recorded requests, failures and `set_response` answers."""
        super().reset()
        self.responder = self._answer
        with self._lock:
            self._responses.clear()
            self._operation_failures.clear()

    # -- what was received

    def calls(self, operation_id: str | None = None) -> list[RecordedRequest]:
        """Recorded requests of one operation (every request when None), oldest first.

        Each attempt is a request: a call the client retried appears once per attempt.
        """
        if operation_id is not None:
            self._check(operation_id)
        return [
            r
            for r in self.requests
            if operation_id is None or self._router.route(r) == operation_id
        ]

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """(kind, message) for every JSON object body received, with batch bodies split into
        their items; kind is the message's type ("" when unknown)."""
        facts = self._facts
        out: list[tuple[str, dict[str, Any]]] = []
        for request in self.requests:
            body = request.json
            if not isinstance(body, dict):
                continue
            operation_id = self._router.route(request) or ""
            field = facts.batch_fields.get(operation_id)
            if field is not None and isinstance(body.get(field), list):
                items = [item for item in body[field] if isinstance(item, dict)]
                out.extend(
                    (str(item.get(facts.kind_field, "")), item) for item in items
                )
                continue
            kind = body.get(facts.kind_field) or facts.body_kinds.get(operation_id, "")
            out.append((str(kind), body))
        return out

    # -- assertions

    def assert_called(self, operation_id: str, times: int | None = None) -> None:
        """The operation was called at least once (exactly `times` times when given)."""
        count = len(self.calls(operation_id))
        if (count == 0) if times is None else (count != times):
            expected = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {operation_id} to be called {expected}, it was called {count} "
                f"time(s); requests received: {self._received()}"
            )

    def assert_not_called(self, operation_id: str) -> None:
        self.assert_called(operation_id, times=0)

    def assert_event_sent(
        self,
        event_name: str,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A track message for `event_name` was sent (alone or in a batch), for `user_id` if
        given, whose properties include `properties` if given. Returns the first match.
        """
        facts = self._facts
        seen = []
        for _, message in self.messages():
            if facts.event_field not in message:
                continue
            name = message.get(facts.event_field)
            user = message.get(facts.user_id_field)
            seen.append((name, user))
            if name != event_name:
                continue
            if user_id is not None and user != user_id:
                continue
            if properties is not None and not _contains(
                message.get(facts.properties_field), properties
            ):
                continue
            return message
        raise AssertionError(
            f"no {event_name!r} event sent"
            + (f" for {user_id!r}" if user_id is not None else "")
            + (" with the given properties" if properties is not None else "")
            + f"; events sent (name, user): {seen} (read from messages with an "
            + f"{facts.event_field!r} field); requests received: {self._received()}"
        )

    # A subclass offers `assert_identified` only when its API has an identify kind, so
    # this helper is not public here.
    def _assert_identified(
        self, user_id: str, traits: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """An identify call for `user_id` was sent (alone or in a batch), whose traits include
        `traits` if given. Returns the first match."""
        facts = self._facts
        if not facts.identify_kind:
            raise NotImplementedError("this API has no identify call")
        seen = []
        for kind, message in self.messages():
            if kind != facts.identify_kind:
                continue
            seen.append(message.get(facts.user_id_field))
            if message.get(facts.user_id_field) != user_id:
                continue
            if traits is not None and not _contains(
                message.get(facts.traits_field), traits
            ):
                continue
            return message
        raise AssertionError(
            f"no {facts.identify_kind} call for {user_id!r}"
            + (" with the given traits" if traits is not None else "")
            + f"; users identified: {seen} (read from messages whose "
            + f"{facts.kind_field!r} is {facts.identify_kind!r}); requests received: "
            + self._received()
        )

    # -- internals

    def _check(self, operation_id: str) -> None:
        if operation_id not in self._router.operation_ids:
            raise KeyError(f"no operation named {operation_id!r}")

    @staticmethod
    def _reply(
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        media: str = "",
    ) -> Reply:
        out = dict(headers or {})
        if body is None:
            return status, out, b""
        if media and isinstance(body, (bytes, str)):
            out.setdefault("Content-Type", media)
            return status, out, body if isinstance(body, bytes) else body.encode()
        out.setdefault("Content-Type", "application/json")
        return status, out, json.dumps(body).encode("utf-8")

    def _received(self) -> str:
        return ", ".join(self._describe(r) for r in self.requests) or "none"

    def _describe(self, request: RecordedRequest) -> str:
        operation_id = self._router.route(request) or "no operation"
        return f"{request.method} {request.path} ({operation_id})"

    def _answer(self, request: RecordedRequest) -> Reply:
        operation_id = self._router.route(request)
        if operation_id is None:
            detail = f"no operation matches {request.method} {request.path}"
            return self._reply(404, {"errors": [{"detail": detail}]})
        with self._lock:
            override = self._responses.get(operation_id)
        if override is not None:
            return override
        status = self._success_status(operation_id)
        headers: dict[str, str] = {}
        if 300 <= status < 400 and status != 304:
            # an operation answered by a redirect it documents (GitHub's tarball download):
            # one says where, and here that is this server, never another host
            headers["Location"] = self.url + "/"
        return self._reply(
            status,
            self._example_response(operation_id),
            headers,
            media=self._media.get(operation_id, ""),
        )

    # FakeServer records a request, then asks for a failure to apply to it (both in the
    # thread serving the connection): remember the request in between, so a failure can be
    # picked per operation.
    def _record(self, request: RecordedRequest) -> None:
        super()._record(request)
        self._current.request = request

    def _next_failure(self) -> _Failure | None:
        request: RecordedRequest | None = getattr(self._current, "request", None)
        self._current.request = None
        failure = super()._next_failure()
        if failure is not None or request is None:
            return failure
        operation_id = self._router.route(request)
        with self._lock:
            queue = self._operation_failures.get(operation_id or "")
            return queue.popleft() if queue else None


# ---- pytest (the fixtures in `testing.py` exist only when it can be imported) --------------


def import_pytest() -> Any:
    """The pytest module, or None: the testing kit itself does not need pytest."""
    try:
        return importlib.import_module("pytest")
    except ImportError:
        return None
