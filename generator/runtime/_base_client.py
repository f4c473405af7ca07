"""Request planning and the retry loops shared by every generated client.

A call is planned once (URL, headers, body, message ids, size limits) by ``plan``; the sync and
async loops then only send, and ask ``_retry.decide`` what to do about each failure.
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
import re
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar
from urllib.parse import quote, urlsplit

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
from ._serde import format_datetime, to_json, where_decoding_failed
from ._transport import (
    AsyncHTTPXTransport,
    AsyncTransport,
    HTTPClientTransport,
    RawResponse,
    Transport,
)
from ._types import DEFAULT_TIMEOUT, UNSET, Headers, Timeout, Unset
from ._version import PACKAGE, VERSION

if TYPE_CHECKING:
    from typing_extensions import Self

    # What one attempt produced: a response, or the reason there was none.
    _Outcome = RawResponse | APIConnectionError

T = TypeVar("T")

logger = logging.getLogger(__package__ or __name__)

USER_AGENT: Final = f"{PACKAGE}/{VERSION} python/{platform.python_version()}"

_PATH_PARAM: Final = re.compile(r"\{([^{}]+)\}")
# What literal path text keeps as it is (RFC 3986 pchar, "/" and existing escapes).
_PATH_TEXT: Final = "/%:@!$&'()*+,;=-._~"
# The reserved characters an `allowReserved` query value keeps: RFC 3986's but for those
# OpenAPI 3.1.1 (Parameter Object) leaves the application to encode still: `#[]`, not
# allowed in a query, and `&=+`, which form-urlencoded gives a meaning to.
_QUERY_RESERVED: Final = ":/?@!$'()*,;"
_TRIPLE: Final = re.compile(r"(%[0-9A-Fa-f]{2})")
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
class Encoding:
    """How one property of a form or multipart body is written (the spec's `encoding`):
    a JSON `content_type` sends it as JSON text (a multipart part gets that Content-Type);
    a form body's property is a query parameter in `style` and `explode`."""

    content_type: str = ""
    style: str = "form"
    explode: bool = True


# a form body's property that has no encoding: OpenAPI's default
_FORM: Final = Encoding()


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
    # how a successful answer's body is read (see `decode_body`): "json", "text" or
    # "binary"; per status ("201", "2XX") where the operation's answers differ
    response_format: str = "json"
    response_formats: Mapping[str, str] = field(default_factory=dict)
    # per status, the other media types it declares that are read as "text" or "binary"
    # (lower-case, no parameters; "" for an undeclared status), when any status has some
    response_media: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def format_of(self, status: int) -> str:
        """How the body of a successful answer of this status is read."""
        formats = self.response_formats
        found = formats.get(str(status)) or formats.get(f"{str(status)[:1]}XX")
        return found or self.response_format

    def format_sent(self, status: int, content_type: str) -> str:
        """How the body of a successful answer is read given the Content-Type it came
        with: as that type when its status declares it among others (`type/*` matching
        too), else as the status's first declared type (`format_of`), as a server may
        well label JSON text/plain."""
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
    """What a successful answer decodes into, when the spec gives each status its own
    schema: `parse(data, status)`."""

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
        return decode_body(self.raw)


def _omitted(value: Any) -> bool:
    return value is UNSET or value is None


def _scalar(value: Any) -> str:
    """The text form of a path, query or header value (JSON text for a structure no style
    took apart, such as an object inside an array: never a Python repr)."""
    if isinstance(value, (Mapping, list, tuple)) or callable(
        getattr(value, "to_dict", None)
    ):
        return encode_json(to_json(value)).decode("utf-8")
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # as in a body: UTC, `Z`
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Unset):  # an enum, but its value is no data
        raise TypeError("UNSET is no JSON value: leave the field out instead")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (bytes, bytearray)):  # `format: binary` in a JSON body
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(value: Any) -> bytes:
    text = json.dumps(
        value,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    return text.encode("utf-8")


def decode_body(raw: bytes, kind: str = "json", content_type: str = "") -> Any:
    """A response body as its operation declares it (`kind`): "binary", the bytes as they
    are; "text", the text undecoded (in the charset `content_type` names, else UTF-8);
    "json" (the default), parsed JSON, the text itself when it is not JSON, None when
    empty."""
    if kind == "binary":
        return raw
    if kind == "text":
        return _decode_text(raw, _charset(content_type))
    return _decode_json(raw)[0]


def _decode_json(raw: bytes) -> tuple[Any, str]:
    """`decode_body`'s "json" reading, and why the text is not JSON when it is not ("" when
    it is, or is empty). JSON nested deeper than Python's recursion limit is no JSON this
    client can read: the parser's RecursionError would otherwise escape the call."""
    if not raw.strip():
        return None, ""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text), ""
    except RecursionError:
        return text, "the body nests JSON too deeply to decode"
    except ValueError:
        return text, "the body is not JSON"


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


def expand_path(template: str, params: Mapping[str, Any]) -> str:
    """The path with its parameters filled in, all of it percent-encoded as a URL needs
    (a spec's literal path text may hold spaces too; `%` escapes it has are kept)."""
    out: list[str] = []
    end = 0
    for match in _PATH_PARAM.finditer(template):
        out.append(encode_path_text(template[end : match.start()]))
        name = match.group(1)
        value = params.get(name)
        if _omitted(value) or (isinstance(value, Styled) and _omitted(value.value)):
            raise ValueError(f"missing path parameter {name!r}")
        text = _expand(name, value, "simple", False, _quote_all)
        if not text:
            # An empty segment would silently address a different resource.
            raise ValueError(f"path parameter {name!r} must not be empty")
        out.append(text)
        end = match.end()
    out.append(encode_path_text(template[end:]))
    return "".join(out)


def _quote_all(text: str) -> str:
    return quote(text, safe="")


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Styled:
    """A parameter value with the OpenAPI `style` and `explode` it is written in, where
    they are not its location's defaults (path and header: simple; cookie: form, exploded).
    """

    value: Any
    style: str
    explode: bool


def styled(value: Any, style: str, explode: bool) -> Any:
    """`value` marked with its style (UNSET and None stay as they are: not sent)."""
    return value if _omitted(value) else Styled(value, style, explode)


def json_param(value: Any) -> Any:
    """A parameter the spec gives as `content: application/json`: its JSON text."""
    return value if _omitted(value) else encode_json(to_json(value)).decode("utf-8")


def _structured(value: Any) -> Any:
    """A parameter value as a list, a dict of its set properties, or a scalar."""
    if callable(getattr(value, "to_dict", None)):
        value = value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items() if not _omitted(v)}
    if isinstance(value, (list, tuple)):
        return [v for v in value if not _omitted(v)]
    return value


def _expand(
    name: str, value: Any, style: str, explode: bool, escape: Callable[[str], str]
) -> str:
    """A path or header parameter in its style (RFC 6570's expansions, as OpenAPI names
    them): `simple` `1,2` (`a,1,b,x`; exploded `a=1,b=x`); `label` `.1,2` (exploded
    `.1.2`); `matrix` `;id=1,2` (exploded `;id=1;id=2`). Each value goes through
    `escape`, the separators do not."""
    if isinstance(value, Styled):
        value, style, explode = value.value, value.style, value.explode
    data = _structured(value)
    sep = "." if style == "label" and explode else ";" if style == "matrix" else ","
    if isinstance(data, dict):
        if explode:
            items = [f"{escape(k)}={escape(_scalar(v))}" for k, v in data.items()]
        else:
            items = [escape(t) for k, v in data.items() for t in (k, _scalar(v))]
    elif isinstance(data, list):
        items = [escape(_scalar(v)) for v in data]
    else:
        items = [escape(_scalar(data))]
    if style == "label":
        return "." + sep.join(items)
    if style != "matrix":
        return ",".join(items)
    key = escape(name)
    if explode and isinstance(data, dict):
        return "".join(f";{item}" for item in items)
    if explode and isinstance(data, list):
        return "".join(f";{key}={item}" if item else f";{key}" for item in items)
    joined = ",".join(items)
    return f";{key}={joined}" if joined else f";{key}"


def encode_path_text(text: str) -> str:
    """A path template's literal text as it goes on the wire."""
    return quote(text, safe=_PATH_TEXT)


@dataclass(frozen=True)
class Reserved:
    """A query parameter's value whose spec says `allowReserved: true`."""

    value: Any


def reserved(value: Any) -> Any:
    """`value` marked as an `allowReserved` parameter's (UNSET and None stay as they are:
    not sent)."""
    return value if _omitted(value) else Reserved(value)


def _quote_reserved(text: str) -> str:
    """RFC 6570's reserved expansion, as OpenAPI's `allowReserved` asks for in a query:
    the reserved characters and percent-encoded triples go as they are, everything else
    is percent-encoded; so are `#`, `[` and `]`, which a query cannot hold, and `&`, `=`
    and `+`, which a form-urlencoded query gives a meaning to."""
    pieces = _TRIPLE.split(text)
    # the odd pieces are the triples the split kept
    return "".join(
        piece if i % 2 else quote(piece, safe=_QUERY_RESERVED)
        for i, piece in enumerate(pieces)
    )


@dataclass(frozen=True)
class Delimited:
    """A query value whose parts are joined by `delimiter` (an array or object parameter
    not exploded). Each part is percent-encoded on its own and a comma between them is
    not, as RFC 6570 expands a list (`ids=1,2`), so a comma inside a part (`a%2Cb`) stays
    told apart from the one between parts."""

    parts: tuple[str, ...]
    delimiter: str = ","

    def __str__(self) -> str:
        return self.delimiter.join(self.parts)


def _encode_value(value: Any, escape: Callable[[str], str]) -> str:
    if isinstance(value, Delimited):
        between = "," if value.delimiter == "," else _quote_all(value.delimiter)
        return between.join(escape(part) for part in value.parts)
    return escape(_scalar(value))


def encode_query(query: Mapping[str, Any]) -> str:
    """A query string from names and values (a list: the name once per item). Names and
    values are percent-encoded but for the unreserved characters; a `reserved` value
    keeps what its `allowReserved` lets it keep."""
    pairs: list[str] = []
    for name, value in query.items():
        escape = _quote_all
        if isinstance(value, Reserved):
            value, escape = value.value, _quote_reserved
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs += [
            f"{_quote_all(name)}={_encode_value(item, escape)}"
            for item in values
            if not _omitted(item)
        ]
    return "&".join(pairs)


def merge_headers(*layers: Mapping[str, Any]) -> dict[str, str]:
    """Later layers win, compared case-insensitively; UNSET and None values are skipped."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            if not _omitted(value):
                merged[name.lower()] = (name, _header_value(name, value))
    return dict(merged.values())


def _header_value(name: str, value: Any) -> str:
    """The text of a header value, refused here when no request could carry it: the HTTP
    layer's own error would quote the value, and a header may hold a secret."""
    text = _expand(name, value, "simple", False, _as_is)
    if not (text.isascii() and text.isprintable()):
        raise ValueError(
            f"header {name!r}: its value has a line break, a control character or a "
            "character outside ASCII"
        )
    return text


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


def _encode_body(
    body: Any, content_type: str, encodings: Mapping[str, Encoding] | None = None
) -> tuple[bytes | None, str]:
    """The body's bytes and the Content-Type they go with (multipart adds its boundary);
    `encodings`: how the spec says a form or multipart body's properties are written."""
    if _omitted(body):
        return None, content_type
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), content_type
    # by the media type alone, in any case (`...urlencoded;charset=UTF-8`, as Spring
    # writes it, went out as JSON)
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded" and isinstance(body, Mapping):
        return _encode_form(body, encodings or {}), content_type
    if media == "multipart/form-data" and isinstance(body, Mapping):
        return _encode_multipart(body, encodings or {})
    if isinstance(body, str) and "json" not in content_type:
        return body.encode("utf-8"), content_type
    return encode_json(body), content_type


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _encode_form(fields: Mapping[str, Any], encodings: Mapping[str, Encoding]) -> bytes:
    """An application/x-www-form-urlencoded body: each property as a query parameter in
    its encoding's style, `form` and exploded when it has none (OpenAPI's default: an
    array is one pair per item, an object one pair per property), or as JSON text when
    its encoding's contentType is JSON."""
    parts: list[str] = []
    for name, value in fields.items():
        encoding = encodings.get(name, _FORM)
        if _is_json_type(encoding.content_type) and not _omitted(value):
            parts.append(encode_query({name: json_param(value)}))
            continue
        styled = query_param(name, value, encoding.style, encoding.explode)
        parts += [encode_query({key: v}) for key, v in styled.items()]
    return "&".join(part for part in parts if part).encode("ascii")


def _encode_multipart(
    fields: Mapping[str, Any], encodings: Mapping[str, Encoding]
) -> tuple[bytes, str]:
    """RFC 7578: bytes become file parts, objects JSON parts, the rest text; a list is
    one part per item, all under its name (RFC 7578 4.3, as OpenAPI encodes an array
    property), its UNSET and None items left out. A property's encoding may name its
    parts' Content-Type (a JSON one sends even a string as JSON text)."""
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        declared = encodings.get(name, _FORM).content_type
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if _omitted(item):
                continue
            out += f"--{boundary}\r\n".encode() + _part(name, item, declared)
            out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _part(name: str, value: Any, declared: str) -> bytes:
    """One part's headers and content (`declared`: its encoding's contentType, or "")."""
    disposition = f'Content-Disposition: form-data; name="{_part_name(name)}"'
    if isinstance(value, (bytes, bytearray)):
        head = f'{disposition}; filename="{_part_name(name)}"\r\n'
        kind = declared or "application/octet-stream"
        return f"{head}Content-Type: {kind}\r\n\r\n".encode() + bytes(value)
    structured = isinstance(value, (Mapping, list, tuple)) or callable(
        getattr(value, "to_dict", None)
    )
    if structured or _is_json_type(declared):
        kind = declared or "application/json"
        return f"{disposition}\r\nContent-Type: {kind}\r\n\r\n".encode() + (
            encode_json(to_json(value))
        )
    head = f"{disposition}\r\n" + (f"Content-Type: {declared}\r\n" if declared else "")
    return f"{head}\r\n".encode() + _scalar(value).encode("utf-8")


def _part_name(name: Any) -> str:
    """A field name inside the quotes of a part's header, as browsers write it (RFC 7578
    4.2): `track[asset_data]` stays as it is; a quote and line breaks are escaped."""
    text = str(name)
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _cookie_text(value: Any) -> str:
    """A cookie's name or value, or one item of it, as RFC 6570's form expansion writes
    it: percent-encoded but for the unreserved characters (so `;`, `,`, `=`, a space, a
    quote or a non-ASCII letter can neither end the cookie nor make the header invalid,
    and the server gets the text back by percent-decoding)."""
    return quote(_scalar(value), safe="")


def cookie_header(values: Mapping[str, Any], *parts: str | None) -> str | None:
    """A `Cookie` header from cookie parameters (UNSET and None left out) after the
    earlier parts given (an API key's cookie, one already built).

    A cookie is `form` style, exploded, unless `styled` says otherwise: a list is one
    pair per item (`id=1; id=2`; `id=1,2` not exploded), an object one pair per property
    (`a=1; b=x`; `obj=a,1,b,x` not exploded). Names and values are percent-encoded as
    that style's expansion does (`note=a%3B%20b`); the pairs are joined by `; ` as RFC
    6265 joins cookies (the `&` of a form-style query would not separate them).
    """
    pairs = [part for part in parts if part]
    for name, value in values.items():
        explode = True  # a cookie is `form` style (OpenAPI 3.0/3.1 allow no other)
        if isinstance(value, Styled):
            value, explode = value.value, value.explode
        if _omitted(value):
            continue
        data = _structured(value)
        key = _cookie_text(name)
        if isinstance(data, dict) and explode:
            pairs += [f"{_cookie_text(k)}={_cookie_text(v)}" for k, v in data.items()]
        elif isinstance(data, dict):
            flat = [_cookie_text(t) for k, v in data.items() for t in (k, v)]
            pairs.append(f"{key}={','.join(flat)}")
        elif isinstance(data, list) and explode:
            pairs += [f"{key}={_cookie_text(v)}" for v in data]
        elif isinstance(data, list):
            pairs.append(f"{key}={','.join(_cookie_text(v) for v in data)}")
        else:
            pairs.append(f"{key}={_cookie_text(data)}")
    return "; ".join(pairs) or None


# what joins the items of an array (or the keys and values of an object) that a query
# parameter of each style sends in one value (explode: false)
_DELIMITERS: Final = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


def query_param(
    name: str, value: Any, style: str, explode: bool, allow_reserved: bool = False
) -> dict[str, Any]:
    """The query parameters of an array- or object-valued parameter in its OpenAPI style.

    An array: exploded, one `name=v` per item (encode_query repeats a list); else one
    `name=` with the items joined by `,` (form), ` ` (spaceDelimited) or `|`
    (pipeDelimited). An object: `deepObject` gives `name[key]=v` (`name[key][inner]=v`
    deeper); exploded `form`, `key=v` for each property; else `name=key,v,key,v` (joined
    as an array is). UNSET and None items and properties are left out, and so is the
    whole parameter when it is UNSET or None. With `allow_reserved` the values are
    marked `reserved`.
    """
    if _omitted(value):
        return {}
    params = _query_params(name, _structured(value), style, explode)
    if allow_reserved:
        return {key: Reserved(v) for key, v in params.items()}
    return params


def _query_params(name: str, data: Any, style: str, explode: bool) -> dict[str, Any]:
    delimiter = _DELIMITERS.get(style, ",")
    if isinstance(data, dict):
        if style == "deepObject":
            return _deep_object(name, data)
        if explode:
            return data
        parts = tuple(t for k, v in data.items() for t in (k, _scalar(v)))
        return {name: Delimited(parts, delimiter)}
    if isinstance(data, list) and not explode:
        return {name: Delimited(tuple(_scalar(v) for v in data), delimiter)}
    return {name: data}


def _deep_object(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        inner = _structured(value)
        if isinstance(inner, dict):
            out.update(_deep_object(f"{name}[{key}]", inner))
        else:
            out[f"{name}[{key}]"] = inner
    return out


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


def _is_success(status: int) -> bool:
    return 200 <= status < 300


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
        body, problem = _decode_json(raw.body)
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
            decode_body(outcome.body),
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
            if isinstance(outcome, RawResponse) and _is_success(outcome.status):
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
            if isinstance(outcome, RawResponse) and _is_success(outcome.status):
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
