"""Request planning and the retry loops shared by every generated client.

A call is planned once (URL, headers, body, message ids, size limits) by ``plan``, which has
``_encoding`` write its parameters and body; the sync and async loops then only send, and ask
``_retry.decide`` what to do about each failure. A call's answer is a 2xx or a 3xx its
operation documents (``Call.answered``); no redirect is followed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
import json
import logging
import platform
import random
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar
from urllib.parse import urlsplit

from ._encoding import (
    Encoding,
    _encode_body,
    _omitted,
    encode_json,
    encode_query,
    expand_path,
    merge_headers,
)
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    IncompleteMessageError,
    PayloadTooLargeError,
    error_for_response,
    redact_connection_error,
    request_id_from,
)
from ._retry import DEFAULT_MAX_RETRIES, decide
from ._serde import where_decoding_failed
from ._transport import (
    AsyncHTTPXTransport,
    AsyncTransport,
    HTTPClientTransport,
    RawResponse,
    Transport,
)
from ._types import DEFAULT_TIMEOUT, UNSET, Headers, Timeout
from ._version import PACKAGE, VERSION

if TYPE_CHECKING:
    from typing_extensions import Self

    # What one attempt produced: a response, or the reason there was none.
    _Outcome = RawResponse | APIConnectionError

T = TypeVar("T")

logger = logging.getLogger(__package__ or __name__)

USER_AGENT: Final = f"{PACKAGE}/{VERSION} python/{platform.python_version()}"

# Shorter strings are not redacted from messages: they would match ordinary words.
_MIN_SECRET_CHARS: Final = 6


@dataclass(frozen=True)
class Limits:
    """Limits the API documents. Sizes are enforced before sending; rates are informational."""

    max_request_bytes: int | None = None
    max_item_bytes: int | None = None
    items_field: str | None = None
    rate_requests: int | None = None
    rate_per_seconds: float | None = None


@dataclass(frozen=True)
class Call:
    """One API call as a generated method describes it, before any encoding."""

    operation_id: str
    method: str
    path: str
    path_params: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, Any] = field(default_factory=dict)
    body: Any = field(default=UNSET, repr=False)
    content_type: str = "application/json"
    limits: Limits = field(default_factory=Limits)
    message_id_field: str = ""
    # fields the spec allows one value for, filled in when a mapping body leaves them out
    body_defaults: Mapping[str, Any] = field(default_factory=dict)
    # a discriminated union body's: (discriminator, its value -> that variant's such fields)
    variant_defaults: tuple[str, Mapping[str, Mapping[str, Any]]] | None = None
    # field sets one of which the body must fill (the API takes a call without and drops it)
    body_one_of: tuple[tuple[str, ...], ...] = ()
    # the spec's `encoding` of a form or multipart body's properties, by name
    body_encoding: Mapping[str, Encoding] = field(default_factory=dict)
    # how the body of an answer (see `answered`) is read (see `decode_body`): "json",
    # "text" or "binary"; per status ("201", "2XX") where the operation's answers differ
    response_format: str = "json"
    response_formats: Mapping[str, str] = field(default_factory=dict)
    # per status, the other media types it declares that are read as "text" or "binary"
    # (lower-case, no parameters; "" for an undeclared status), when any status has some
    response_media: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # the 3xx statuses the operation documents ("302", or "3XX" for the whole range): an
    # answer of one is the call's answer, as a 2xx is; any other 3xx is an error
    documented_3xx: tuple[str, ...] = ()

    def answered(self, status: int) -> bool:
        """Whether an answer of this status is the call's answer (an APIResponse), not an
        error: any 2xx, and a 3xx the operation documents. A 3xx is handed back as it
        is, never followed: the request carries the credentials (Authorization, an API
        key), which a redirect to another host would give away. The caller reads where
        it points from its Location header and decides."""
        if 200 <= status < 300:
            return True
        documented = self.documented_3xx
        return 300 <= status < 400 and (
            str(status) in documented or "3XX" in documented
        )

    def format_of(self, status: int) -> str:
        """How the body of an answer of this status is read."""
        formats = self.response_formats
        found = formats.get(str(status)) or formats.get(f"{str(status)[:1]}XX")
        return found or self.response_format

    def format_sent(self, status: int, content_type: str) -> str:
        """How the body of an answer is read given the Content-Type it came with: as
        that type when its status declares it among others (`type/*` matching too),
        else as the status's first declared type (`format_of`), as a server may well
        label JSON text/plain."""
        media = self.response_media
        declared: Mapping[str, str] = {}
        for key in (str(status), f"{str(status)[:1]}XX", ""):
            if key in media:
                declared = media[key]
                break
        sent = content_type.split(";", 1)[0].strip().lower()
        found = declared.get(sent) or declared.get(sent.split("/", 1)[0] + "/*")
        return found or self.format_of(status)


@dataclass(frozen=True)
class StatusParser(Generic[T]):
    """What an answer decodes into, when the spec gives each status its own schema:
    `parse(data, status)`."""

    parse: Callable[[Any, int], T]


@dataclass(frozen=True)
class PreparedRequest:
    """Exactly what goes on the wire, identical for every attempt of a call."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)  # holds the credentials
    body: bytes | None = field(repr=False)  # may hold personal data
    operation_id: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class APIResponse(Generic[T]):
    status_code: int
    headers: Mapping[str, str]  # names lower-cased; looked up in any case
    data: T
    raw: bytes = field(repr=False)
    retries: int = 0
    request_id: str | None = None

    def json(self) -> Any:
        return decode_body(self.raw, "json", self.headers.get("content-type", ""))


def decode_body(raw: bytes, kind: str = "json", content_type: str = "") -> Any:
    """A response body as its operation declares it (`kind`): "binary", the bytes as they
    are; "text", the text undecoded (in the charset `content_type` names, else UTF-8);
    "json" (the default), parsed JSON, the text itself when it is not JSON, None when
    empty."""
    if kind == "binary":
        return raw
    if kind == "text":
        return _decode_text(raw, _charset(content_type))
    return _decode_json(raw, content_type)[0]


def _decode_json(raw: bytes, content_type: str = "") -> tuple[Any, str]:
    """`decode_body`'s "json" reading, and why the text is not JSON when it is not ("" when
    it is, or is empty). JSON nested deeper than Python's recursion limit is no JSON this
    client can read: the parser's RecursionError would otherwise escape the call."""
    if not raw.strip():
        return None, ""
    text = raw.decode(_json_encoding(raw, content_type), errors="replace")
    try:
        return json.loads(text), ""
    except RecursionError:
        return text, "the body nests JSON too deeply to decode"
    except ValueError:
        return text, "the body is not JSON"


# Byte order marks, and the codec that reads a text starting with one; UTF-32 LE's first,
# as it starts with UTF-16 LE's
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _json_encoding(raw: bytes, content_type: str) -> str:
    """The encoding of a JSON body: UTF-8 (RFC 8259), unless it starts with a byte order
    mark (which a parser may ignore, 8.1) or its Content-Type names UTF-16 or UTF-32.
    Read as UTF-8, such a body was no JSON (a mark, or every other byte a NUL), where
    httpx's `Response.json()` reads it."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return codec
    charset = _charset(content_type)
    return charset if charset.startswith(("utf-16", "utf-32")) else "utf-8"


def _decode_text(raw: bytes, charset: str) -> str:
    """`raw` as text in `charset`, UTF-8 when that codec cannot decode bytes to text with
    replacement (`rot13` and `base64` are codecs Python knows but no text encoding;
    `idna` refuses `errors="replace"`): the server named it, the caller cannot fix it.
    """
    try:
        return raw.decode(charset, errors="replace")
    except (LookupError, UnicodeError):
        return raw.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str:
    """The charset a Content-Type names, when Python knows it; UTF-8 otherwise."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                break
    return "utf-8"


def _with_defaults(body: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
    """A mapping body with the one-value fields it left out filled in: those of the body's
    schema, then those of the variant its discriminator names."""
    if call.body_defaults:
        body = {**call.body_defaults, **body}
    if call.variant_defaults is not None:
        name, by_value = call.variant_defaults
        value = body.get(name)
        value = value.value if isinstance(value, Enum) else value
        chosen = by_value.get(value) if isinstance(value, str) else None
        if chosen:
            body = {**chosen, **body}
    return body


def _stamp(obj: Mapping[str, Any], id_field: str) -> dict[str, Any]:
    stamped = dict(obj)
    if stamped.get(id_field) is None:
        stamped[id_field] = str(uuid.uuid4())
    return stamped


def _with_message_ids(body: Any, id_field: str, items_field: str | None) -> Any:
    """Copy of the body with an id wherever one is missing; the caller's data is not changed.

    Done once per call, so every retry carries the same ids and the API can drop duplicates.
    A batch's messages get the ids, not its envelope (whose schema has no such field).
    """
    if not id_field or not isinstance(body, Mapping):
        return body
    if not items_field:
        return _stamp(body, id_field)
    stamped = dict(body)
    items = stamped.get(items_field)
    if isinstance(items, (list, tuple)):
        stamped[items_field] = [
            _stamp(item, id_field) if isinstance(item, Mapping) else item
            for item in items
        ]
    return stamped


def _check_item_sizes(call: Call, body: Any) -> None:
    limit = call.limits.max_item_bytes
    items_field = call.limits.items_field
    if limit is None or not items_field or not isinstance(body, Mapping):
        return
    items = body.get(items_field)
    if not isinstance(items, (list, tuple)):
        return
    for index, item in enumerate(items):
        size = len(encode_json(item))
        if size > limit:
            raise PayloadTooLargeError(
                limit=limit, size=size, operation_id=call.operation_id, index=index
            )


def _check_request_size(call: Call, payload: bytes | None) -> None:
    limit = call.limits.max_request_bytes
    if limit is not None and payload is not None and len(payload) > limit:
        raise PayloadTooLargeError(
            limit=limit, size=len(payload), operation_id=call.operation_id
        )


def plan(
    call: Call, base_url: str, default_headers: Mapping[str, str]
) -> PreparedRequest:
    """Turn a call into the exact request every attempt will send.

    Raises PayloadTooLargeError (nothing is sent) when the body breaks a size limit, and
    IncompleteMessageError when it fills none of the field sets the spec needs one of.
    """
    body = call.body
    if isinstance(body, Mapping):
        body = _with_defaults(body, call)
        if call.body_one_of and not any(
            all(body.get(name) not in (None, "") for name in names)
            for names in call.body_one_of
        ):
            raise IncompleteMessageError(call.operation_id, call.body_one_of)
    body = _with_message_ids(body, call.message_id_field, call.limits.items_field)
    payload, content_type = _encode_body(body, call.content_type, call.body_encoding)
    _check_item_sizes(call, body)
    _check_request_size(call, payload)
    url = base_url.rstrip("/") + expand_path(call.path, call.path_params)
    query = encode_query(call.query)
    if query:
        url += "?" + query
    headers = merge_headers(default_headers, call.headers)
    if payload is not None:
        headers = merge_headers(headers, {"Content-Type": content_type})
    return PreparedRequest(
        call.method.upper(), url, headers, payload, call.operation_id
    )


def iterate_pages(
    fetch: Callable[[Any], APIResponse[Any]],
    cursor: Any,
    next_attr: str,
    items_attr: str,
) -> Iterator[Any]:
    """Every item of every page: `fetch(cursor)` gets a page, whose `items_attr` holds its
    items and whose `next_attr` the cursor of the next one (none, empty or one already
    followed ends the walk: a server whose cursors go round in a circle would otherwise
    be asked forever). Pages are fetched as the items are consumed."""
    followed = {_cursor_key(cursor)}
    while True:
        page = fetch(cursor).data
        yield from _page_items(page, items_attr)
        cursor = _next_cursor(page, next_attr, followed)
        if cursor is None:
            return


async def aiterate_pages(
    fetch: Callable[[Any], Awaitable[APIResponse[Any]]],
    cursor: Any,
    next_attr: str,
    items_attr: str,
) -> AsyncIterator[Any]:
    """`iterate_pages` for the async clients."""
    followed = {_cursor_key(cursor)}
    while True:
        page = (await fetch(cursor)).data
        for item in _page_items(page, items_attr):
            yield item
        cursor = _next_cursor(page, next_attr, followed)
        if cursor is None:
            return


def _next_cursor(page: Any, next_attr: str, followed: set[Any]) -> Any:
    """The page's cursor to the next one, or None when the walk ends; noted in `followed`."""
    following = getattr(page, next_attr, None)
    if not following or following is UNSET:
        return None
    key = _cursor_key(following)
    if key in followed:
        return None
    followed.add(key)
    return following


def _cursor_key(cursor: Any) -> Any:
    return cursor if isinstance(cursor, (str, int)) else repr(cursor)


def _page_items(page: Any, items_attr: str) -> list[Any]:
    items = getattr(page, items_attr, None)
    return items if isinstance(items, list) else []


def warn_renamed(old: str, new: str) -> None:
    """A generated method's previous name was called: it still works, for one release."""
    warnings.warn(
        f"{old}() is deprecated and goes in the next release: call {new}() instead",
        DeprecationWarning,
        stacklevel=3,
    )


def _basic_credentials(token: str) -> list[str]:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return []
    return [decoded, *decoded.split(":", 1)]


def secrets_of(auth_headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every form in which the credentials could show up in a server's error text."""
    found: list[str] = []
    for value in auth_headers.values():
        scheme, _, token = value.partition(" ")
        found += [value, token]
        if scheme.lower() == "basic":
            found += _basic_credentials(token)
    unique = {secret for secret in found if len(secret) >= _MIN_SECRET_CHARS}
    # Longest first, so a secret that contains another is replaced as a whole.
    return tuple(sorted(unique, key=len, reverse=True))


def _check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        # The URL is shown in reprs and messages; credentials belong in their own arguments.
        raise ValueError("base_url must not contain credentials")


# What decoding a body that does not match its schema raises: a missing field (KeyError),
# a value of another type or shape (TypeError, AttributeError), text that does not parse as
# its format says (ValueError), nesting deeper than the decoders can recurse (a recursive
# schema's models decode one level per call: RecursionError).
_MISMATCH = (KeyError, TypeError, ValueError, AttributeError, RecursionError)


def _success(
    call: Call,
    request: PreparedRequest,
    raw: RawResponse,
    parse: Callable[[Any], T] | StatusParser[T],
    retries: int,
) -> APIResponse[T]:
    content_type = raw.headers.get("content-type", "")
    kind = call.format_sent(raw.status, content_type)
    problem = ""
    if kind == "json":
        body, problem = _decode_json(raw.body, content_type)
    else:
        body = decode_body(raw.body, kind, content_type)
    try:
        if kind != call.format_of(raw.status):
            # another of the status's media types: its str or bytes is the data
            data = body
        elif isinstance(parse, StatusParser):
            data = parse.parse(body, raw.status)
        else:
            data = parse(body)
    except _MISMATCH as exc:
        raise _mismatch(request, raw, body, retries, exc, problem) from exc
    return APIResponse(
        status_code=raw.status,
        headers=Headers(raw.headers),
        data=data,
        raw=raw.body,
        retries=retries,
        request_id=request_id_from(raw.headers),
    )


def _mismatch(
    request: PreparedRequest,
    raw: RawResponse,
    body: Any,
    retries: int,
    exc: Exception,
    problem: str = "",
) -> APIResponseValidationError:
    # the key name of a missing field says what is wrong; other messages may quote data
    what = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
    if not isinstance(exc, KeyError) and len(what) > 200:
        what = type(exc).__name__
    where = ""
    if problem:
        # what a decoder made of text that is no JSON says nothing useful
        what = problem
    else:
        where, wrong = where_decoding_failed(exc.__traceback__)
        what = wrong or what
    request_id = request_id_from(raw.headers)
    message = (
        f"{raw.status} from {request.method} {request.path}"
        + (f" (request id {request_id})" if request_id else "")
        + ": the response does not match its schema"
        + (f" at {where}" if where else "")
        + f": {what}"
    )
    return APIResponseValidationError(
        message,
        status_code=raw.status,
        body=body,
        request_id=request_id,
        method=request.method,
        path=request.path,
        retries=retries,
        headers=raw.headers,
    )


def _final_error(
    request: PreparedRequest, outcome: _Outcome, retries: int, secrets: tuple[str, ...]
) -> Exception:
    if isinstance(outcome, RawResponse):
        return error_for_response(
            outcome.status,
            decode_body(outcome.body, "json", outcome.headers.get("content-type", "")),
            outcome.headers,
            request.method,
            request.path,
            retries,
            secrets=secrets,
        )
    outcome.retries = retries
    return redact_connection_error(outcome, secrets)


class _ClientCore:
    """Configuration and helpers common to the sync and async clients."""

    def __init__(
        self,
        *,
        base_url: str,
        auth_headers: Mapping[str, str],
        timeout: float | Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        _check_base_url(base_url)
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._base_url = base_url.rstrip("/")
        self._auth_headers: dict[str, str] = dict(auth_headers)
        self._timeout = Timeout.of(timeout, DEFAULT_TIMEOUT)
        self._max_retries = max_retries
        self._headers = merge_headers(
            {"User-Agent": USER_AGENT, "Accept": "application/json"},
            default_headers or {},
            self._auth_headers,
        )
        self._secrets = secrets_of(self._auth_headers)
        self._rng = random.Random()

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    def _prepare(
        self,
        call: Call,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> PreparedRequest:
        if extra_query:
            # the spec's own parameters win over extra ones of the same name, when set
            own = {k: v for k, v in call.query.items() if not _omitted(v)}
            call = replace(call, query={**extra_query, **own})
        request = plan(call, self._base_url, self._headers)
        if not extra_headers:
            return request
        headers = merge_headers(request.headers, extra_headers)
        return PreparedRequest(
            request.method, request.url, headers, request.body, request.operation_id
        )

    def _settings(
        self, max_retries: int | None, timeout: float | Timeout | None
    ) -> tuple[int, Timeout]:
        retries = self._max_retries if max_retries is None else max_retries
        return max(0, retries), Timeout.of(timeout, self._timeout)

    def _retry_delay(
        self,
        request: PreparedRequest,
        outcome: _Outcome,
        retries: int,
        max_retries: int,
    ) -> float:
        """Seconds to wait before the next attempt; raises the final error when there is none."""
        if isinstance(outcome, RawResponse):
            decision = decide(
                retries, max_retries, outcome.status, outcome.headers, self._rng
            )
        else:
            decision = decide(retries, max_retries, None, {}, self._rng)
        if not decision.retry:
            raise _final_error(request, outcome, retries, self._secrets)
        logger.info(
            "%s: retry %d of %d in %.2fs (%s)",
            request.operation_id,
            retries + 1,
            max_retries,
            decision.delay,
            decision.reason,
        )
        return decision.delay

    def _log_done(
        self, request: PreparedRequest, raw: RawResponse, retries: int
    ) -> None:
        logger.debug(
            "%s: %s %d after %d retries",
            request.operation_id,
            request.method,
            raw.status,
            retries,
        )


class BaseClient(_ClientCore):
    """Blocking client. Safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        auth_headers: Mapping[str, str],
        timeout: float | Timeout = 30.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: Transport | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_headers=auth_headers,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        # A transport passed in belongs to the caller, who closes it.
        self._owns_transport = transport is None
        self._transport: Transport = (
            HTTPClientTransport() if transport is None else transport
        )
        self._sleep: Callable[[float], None] = time.sleep

    def _request(
        self,
        call: Call,
        parse: Callable[[Any], T] | StatusParser[T],
        *,
        max_retries: int | None = None,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> APIResponse[T]:
        request = self._prepare(call, extra_headers, extra_query)
        retry_limit, budget = self._settings(max_retries, timeout)
        retries = 0
        while True:
            outcome = self._send_once(request, budget)
            if isinstance(outcome, RawResponse) and call.answered(outcome.status):
                self._log_done(request, outcome, retries)
                return _success(call, request, outcome, parse, retries)
            self._sleep(self._retry_delay(request, outcome, retries, retry_limit))
            retries += 1

    def _send_once(self, request: PreparedRequest, timeout: Timeout) -> _Outcome:
        try:
            return self._transport.send(
                request.method, request.url, request.headers, request.body, timeout
            )
        except APIConnectionError as exc:
            return exc

    def close(self) -> None:
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncBaseClient(_ClientCore):
    """Asyncio client; by default sends through httpx (created on first use)."""

    def __init__(
        self,
        *,
        base_url: str,
        auth_headers: Mapping[str, str],
        timeout: float | Timeout = 30.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: AsyncTransport | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_headers=auth_headers,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._owns_transport = transport is None
        self._transport: AsyncTransport | None = transport
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def _get_transport(self) -> AsyncTransport:
        # Created lazily so that constructing a client does not require httpx.
        if self._transport is None:
            self._transport = AsyncHTTPXTransport()
        return self._transport

    async def _request(
        self,
        call: Call,
        parse: Callable[[Any], T] | StatusParser[T],
        *,
        max_retries: int | None = None,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> APIResponse[T]:
        request = self._prepare(call, extra_headers, extra_query)
        retry_limit, budget = self._settings(max_retries, timeout)
        retries = 0
        while True:
            outcome = await self._send_once(request, budget)
            if isinstance(outcome, RawResponse) and call.answered(outcome.status):
                self._log_done(request, outcome, retries)
                return _success(call, request, outcome, parse, retries)
            await self._sleep(self._retry_delay(request, outcome, retries, retry_limit))
            retries += 1

    async def _send_once(self, request: PreparedRequest, timeout: Timeout) -> _Outcome:
        try:
            return await self._get_transport().send(
                request.method, request.url, request.headers, request.body, timeout
            )
        except APIConnectionError as exc:
            return exc

    async def aclose(self) -> None:
        if self._owns_transport and self._transport is not None:
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
