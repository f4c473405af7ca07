"""Conversion between model objects and JSON-ready data.

`to_json` turns anything a user may pass (models, enums, datetimes, dicts, lists) into plain
JSON data, dropping fields that were never set. The `parse_*`, `json_array`, `json_object`
and `decode_enum` helpers go the other way for the generated `from_dict` methods, and
`where_decoding_failed` says which field a body that did not match its schema failed at.
"""

from __future__ import annotations

import datetime
import enum
import linecache
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

from ._types import Unset

E = TypeVar("E", bound=enum.Enum)


def format_datetime(value: datetime.datetime) -> str:
    """ISO-8601 in UTC with a `Z`: with milliseconds, or microseconds when the value has
    them (nothing it holds is dropped).

    A naive datetime is taken as local time, as Python's own `datetime.timestamp()` and
    `astimezone()` take it, and converted: nothing is ever sent without its offset.
    The year always has four digits (strftime's %Y wrote year 1, .NET's DateTime.MinValue
    that Azure answers for "never", as "1"). A time that leaves datetime's range once in UTC
    (year 1 east of UTC, year 9999 west of it) keeps its own offset; a naive one that local
    time cannot place there takes local time's offset of today.
    """
    timespec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    try:
        utc = value.astimezone(datetime.timezone.utc)
    except (OverflowError, ValueError, OSError):
        if value.utcoffset() is None:
            value = value.replace(tzinfo=datetime.datetime.now().astimezone().tzinfo)
        return value.isoformat(timespec=timespec)
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def unix_time(value: Any) -> Any:
    """A `format: unix-time` field's value: a datetime becomes whole seconds since the
    epoch (a naive one taken as local time, as above); an int is sent as it is."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    return value


def with_unix_times(body: Any, paths: tuple[tuple[str | None, ...], ...]) -> Any:
    """A body given as a plain mapping, with the datetimes at `paths` (key paths to
    `format: unix-time` fields; None stands for each item of an array) as whole seconds:
    the rule a model's to_dict follows. The caller's mappings and lists are copied, never
    changed; anything else (a model, whose to_dict does this itself) is left as it is.
    """
    if not isinstance(body, Mapping):
        return body
    for path in paths:
        body = _unix_times_at(body, path)
    return body


def _unix_times_at(node: Any, path: tuple[str | None, ...]) -> Any:
    key, rest = path[0], path[1:]
    if key is None:
        if not isinstance(node, (list, tuple)):
            return node
        return [
            _unix_times_at(item, rest) if rest else unix_time(item) for item in node
        ]
    if not isinstance(node, Mapping) or key not in node:
        return node
    out = dict(node)
    out[key] = _unix_times_at(node[key], rest) if rest else unix_time(node[key])
    return out


def parse_datetime(value: Any) -> datetime.datetime:
    """An ISO-8601 date-time string -> datetime.

    Raises ValueError (TypeError for a value that is no string): a response whose date-time
    does not parse does not match its schema, and the client reports it as such
    (`APIResponseValidationError`) instead of handing out text typed as a datetime.
    """
    if not isinstance(value, str):
        raise TypeError(
            f"expected an ISO-8601 date-time string, got {type(value).__name__}"
        )
    try:
        return datetime.datetime.fromisoformat(_isoformat_text(value))
    except ValueError:
        raise ValueError("not an ISO-8601 date-time") from None


# RFC 3339's date-time, with ISO-8601's offsets without a colon (-0700) and a comma
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?"
)


def _isoformat_text(value: str) -> str:
    """The date-time `value` in the one form `datetime.fromisoformat` reads on every
    Python: before 3.11 it refused a fraction of other than 3 or 6 digits (Azure sends 7:
    2017-04-26T06:37:50.8082715Z), `Z` and an offset without a colon. Text of no such
    form is left to fromisoformat as it is."""
    m = _RFC3339.fullmatch(value)
    if m is None:
        return value
    clock, fraction, zone = m.groups()
    text = clock + ("." + fraction[:6].ljust(6, "0") if fraction else "")
    if zone is None:
        return text
    if zone in ("Z", "z"):
        return text + "+00:00"
    return text + zone[:3] + ":" + (zone[3:].lstrip(":") or "00")


def parse_date(value: Any) -> datetime.date:
    """An ISO-8601 date string (YYYY-MM-DD) -> date; raises as `parse_datetime` does."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO-8601 date string, got {type(value).__name__}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO-8601 date") from None


def is_date_text(value: str) -> bool:
    """Whether the string is an ISO-8601 date, YYYY-MM-DD (a union's test for a date)."""
    try:
        return len(value) == 10 and isinstance(parse_date(value), datetime.date)
    except (TypeError, ValueError):
        return False


def is_datetime_text(value: str) -> bool:
    """Whether `parse_datetime` reads the string as a datetime (a union's test for one)."""
    try:
        parse_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


def json_array(value: Any) -> list[Any]:
    """A JSON array's items, as a new list.

    Any other JSON value raises TypeError saying what came (`expected an array, got a
    string`): `list()` would split a string into its characters and keep only an object's
    keys, so a response of the wrong shape would pass as data.
    """
    if isinstance(value, list):
        return list(value)
    raise TypeError(f"expected an array, got {_kind(value)}")


def json_object(value: Any) -> dict[str, Any]:
    """A JSON object, as a new dict.

    Any other JSON value raises TypeError saying what came (`expected an object, got an
    array`): `dict()` would take an array of pairs for an object.
    """
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected an object, got {_kind(value)}")


def not_an_object(name: str, value: Any) -> TypeError:
    """The error of the decoder of `name` (a model, or a union of models told apart by a
    discriminator) given a JSON value that is no object."""
    return TypeError(f"{name} wants an object, got {_kind(value)}")


def no_variant(union: str, value: Any) -> ValueError:
    """The error of a union decoder given a value that has none of its variants' shapes."""
    return ValueError(f"{_kind(value)} matches no variant of {union}")


def decode_enum(cls: type[E], value: Any) -> E | Any:
    """The enum member, or the raw value when the server sends one the spec does not list
    (so a new value on the server never breaks an old client: test with isinstance)."""
    try:
        return cls(value)
    except ValueError:
        return value


# Values that are JSON as they are (exact types: an Enum member is never one of them).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """Plain JSON data from models, enums, datetimes and containers.

    Bytes (`format: binary`) stay bytes: a multipart body sends them as a file part, and
    a JSON body as base64 text (the client's JSON encoder does that, last).
    """
    if type(value) in _PLAIN:
        return value
    if type(value) is dict:  # the common case, without a call per plain value
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN else to_json(v)
            for k, v in value.items()
            if not isinstance(v, Unset)
        }
    if isinstance(value, (str, int, float, bool)) or value is None:
        if isinstance(value, enum.Enum):
            return value.value
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Unset):  # an enum, but its value is no data
        raise TypeError("UNSET is no JSON value: leave the field out instead")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, Mapping):
        return {
            str(k): to_json(v) for k, v in value.items() if not isinstance(v, Unset)
        }
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def to_form(value: Any) -> Any:
    """Like `to_json`, but file contents (bytes) stay bytes: for form and multipart bodies."""
    if isinstance(value, Mapping):
        return {
            str(k): v if isinstance(v, (bytes, bytearray)) else to_json(v)
            for k, v in value.items()
            if not isinstance(v, Unset)
        }
    return to_json(value)


_MODELS = __name__.rpartition(".")[0] + ".models."
# `data["name"]` or `data.get("name"` in a generated `from_dict`: the field's wire name
_WIRE_NAME = re.compile(r'data(?:\[|\.get\()("(?:[^"\\]|\\.)*")')
_KEYWORD = re.compile(r"(\s*)\w+=")


def where_decoding_failed(tb: TracebackType | None) -> tuple[str, str]:
    """Where a failed decoding was, from its traceback: (the fields that led there,
    innermost first: `field "created" of Message, in field "messages" of ListMessages`;
    what was wrong when a model was given something other than an object, else "").
    ("", "") when it failed outside the models' `from_dict` methods.

    Only the error path pays for this: the generated `from_dict` stays one plain
    expression per field, and the field is found from the keyword argument of `return
    cls(...)` that holds the line each frame failed on (one per field, as the generator
    writes them).
    """
    steps: list[str] = []
    wrong = ""
    while tb is not None and not wrong:
        frame = tb.tb_frame
        if frame.f_code.co_name == "from_dict" and str(
            frame.f_globals.get("__name__", "")
        ).startswith(_MODELS):
            owner = frame.f_locals.get("cls")
            model = owner.__name__ if isinstance(owner, type) else "a model"
            data = frame.f_locals.get("data")
            if not isinstance(data, Mapping):
                wrong = str(not_an_object(model, data))
            else:
                name = _failing_field(frame.f_code.co_filename, tb.tb_lineno)
                steps.append(f"field {name} of {model}" if name else model)
        tb = tb.tb_next
    return ", in ".join(reversed(steps)), wrong


def _failing_field(filename: str, lineno: int) -> str:
    """The quoted wire name of the keyword argument of `return cls(` that holds line
    `lineno`, or "" (no source to read, or a line outside the fields)."""
    lines = [linecache.getline(filename, n) for n in range(lineno, 0, -1)]
    start = next(
        (i for i, t in enumerate(lines) if t.lstrip().startswith("return cls(")), -1
    )
    if start <= 0:  # not inside the field arguments (or no source)
        return ""
    indent = len(lines[start]) - len(lines[start].lstrip()) + 4
    for i in range(start):  # up from the failing line: the nearest argument above it
        keyword = _KEYWORD.match(lines[i])
        if keyword and len(keyword.group(1)) == indent:
            found = _WIRE_NAME.search(_argument(filename, lineno - i, indent))
            return found.group(1) if found else ""
    return ""


def _argument(filename: str, first: int, indent: int) -> str:
    """The text of the keyword argument that starts on line `first`: down to the next
    argument at its `indent` or the end of the call. All of it, not only the lines down
    to the failing one: the line an error is reported on may come before the field's name
    (`[` of a comprehension black split over lines, whose iterable holds the name)."""
    text = [linecache.getline(filename, first)]
    line = linecache.getline(filename, first + 1)
    # its own lines are indented deeper; its closing `),` holds no name
    while line.strip() and len(line) - len(line.lstrip()) > indent:
        text.append(line)
        line = linecache.getline(filename, first + len(text))
    return "".join(text)


def _kind(value: Any) -> str:
    """A JSON value's kind in JSON's words (`an array`, `null`): what the body held."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__  # no JSON value: a caller's own
