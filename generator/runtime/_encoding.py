"""How a call's values are written on the wire: path, query, header and cookie parameters
in their OpenAPI styles, and JSON, form and multipart bodies.

Plain functions of values, with no state and no I/O: `plan` (in `_base_client`) calls them
once per call, and every attempt sends what they wrote.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Final
from urllib.parse import quote

from ._serde import format_datetime, to_json
from ._types import UNSET, Unset

_PATH_PARAM: Final = re.compile(r"\{([^{}]+)\}")


# What literal path text keeps as it is (RFC 3986 pchar, "/" and existing escapes).
_PATH_TEXT: Final = "/%:@!$&'()*+,;=-._~"


# The reserved characters an `allowReserved` query value keeps: RFC 3986's but for those
# OpenAPI 3.1.1 (Parameter Object) leaves the application to encode still: `#[]`, not
# allowed in a query, and `&=+`, which form-urlencoded gives a meaning to.
_QUERY_RESERVED: Final = ":/?@!$'()*,;"


_TRIPLE: Final = re.compile(r"(%[0-9A-Fa-f]{2})")


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
    if isinstance(value, (bytes, bytearray)):
        # `format: binary` on a parameter: its text (str() wrote `b'...'` on the wire)
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(
                "a parameter's bytes are sent as text: these are not UTF-8"
            ) from None
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
